package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

// MIGRATING.md, httprate's KeyByEndpoint: ByRoute keys by the ServeMux
// pattern, not the path, so /items/1 and /items/2 share the budget of
// GET /items/{id}, and another route has its own.
func TestByRouteSharesThePatternsBudgetAcrossPaths(t *testing.T) {
	lim := mustNew(t, ratelimit.Options{Limits: []ratelimit.Limit{{Name: "route", Rate: 2, Period: time.Hour, Key: ratelimit.ByRoute()}}})
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", lim.Handler(okHandler))
	mux.Handle("GET /other/{id}", lim.Handler(okHandler))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/items/1", 200}, {"/items/2", 200}, {"/items/3", 429}, {"/items/1", 429},
		{"/other/1", 200},
	} {
		resp, err := srv.Client().Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
	}
}

// MIGRATING.md: OnReject runs with Retry-After and the RateLimit fields
// already set, and a refused request's fields say what httprate's
// migration table says: RateLimit-Policy "ip";q=5;w=60 and, for the
// first request, RateLimit "ip";r=4;t=12.
func TestOnRejectSeesTheRateLimitFields(t *testing.T) {
	var policy, fields, retry string
	m := mustNew(t, ratelimit.Options{
		Limits: []ratelimit.Limit{{Name: "ip", Rate: 5, Period: time.Minute}},
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			policy, fields, retry = w.Header().Get("RateLimit-Policy"), w.Header().Get("RateLimit"), w.Header().Get("Retry-After")
			w.WriteHeader(http.StatusTeapot)
		},
	})
	h := m.Handler(okHandler)
	first := serve(h, request("192.0.2.1:1"))
	if got := first.Header().Get("RateLimit"); got != `"ip";r=4;t=12` {
		t.Errorf("first response RateLimit %q", got)
	}
	for range 4 {
		serve(h, request("192.0.2.1:1"))
	}
	if w := serve(h, request("192.0.2.1:1")); w.Code != http.StatusTeapot {
		t.Fatalf("sixth request: %d, want OnReject's", w.Code)
	}
	if policy != `"ip";q=5;w=60` || fields == "" || retry != "12" {
		t.Errorf("in OnReject: RateLimit-Policy %q, RateLimit %q, Retry-After %q; want them set", policy, fields, retry)
	}
}

// MIGRATING.md: ByFunc returning false exempts the request from that
// limit only; the other limits still count it.
func TestByFuncFalseExemptsFromThatLimitOnly(t *testing.T) {
	m := mustNew(t, ratelimit.Options{Limits: []ratelimit.Limit{
		{Name: "tenant", Rate: 1, Period: time.Hour, Key: ratelimit.ByFunc(func(r *http.Request) (string, bool) {
			t := r.Header.Get("X-Tenant")
			return t, t != ""
		})},
		{Name: "ip", Rate: 3, Period: time.Hour},
	}})
	h := m.Handler(okHandler)
	for i, want := range []int{200, 200, 200, 429} {
		if w := serve(h, request("192.0.2.1:1")); w.Code != want {
			t.Errorf("request %d without a tenant: %d, want %d", i+1, w.Code, want)
		}
	}
	if w := serve(h, request("192.0.2.2:1", "X-Tenant", "acme")); w.Code != 200 {
		t.Errorf("first tenant request: %d", w.Code)
	}
	if w := serve(h, request("192.0.2.3:1", "X-Tenant", "acme")); w.Code != 429 {
		t.Errorf("second tenant request from another address: %d, want 429", w.Code)
	}
}
