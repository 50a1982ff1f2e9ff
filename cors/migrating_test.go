package cors_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/cors"
)

// The defaults and decisions MIGRATING.md states for someone coming from
// rs/cors, go-chi/cors or echo's CORS middleware, over the wire.
func TestMigratingDefaultsAndDecisions(t *testing.T) {
	origin := "https://app.example.com"
	minimal := cors.Options{AllowedOrigins: []string{origin}}
	tests := []struct {
		name    string
		opts    cors.Options
		method  string
		headers [][2]string
		status  int // 0: the next handler's 200
		want    map[string]string
	}{
		{name: "without AllowedMethods a preflight for PUT is refused: only GET, HEAD and POST are allowed",
			opts: minimal, method: "OPTIONS", status: 403, headers: preflight(origin, "PUT"),
			want: rejectedPreflight},
		{name: "without AllowedMethods a preflight for DELETE is refused",
			opts: minimal, method: "OPTIONS", status: 403, headers: preflight(origin, "DELETE"),
			want: rejectedPreflight},
		{name: "GET, HEAD and POST are allowed even when AllowedMethods lists others",
			opts: cors.Options{AllowedOrigins: []string{origin}, AllowedMethods: []string{"PUT"}}, method: "OPTIONS", status: 204,
			headers: preflight(origin, "POST"),
			want:    map[string]string{"Access-Control-Allow-Origin": origin, "Vary": varyOptions}},
		{name: "without AllowedHeaders no header is allowed, Content-Type included",
			opts: minimal, method: "OPTIONS", status: 403, headers: preflight(origin, "POST", acrh("content-type")),
			want: rejectedPreflight},
		{name: "without AllowedHeaders Accept and X-Requested-With are not allowed either",
			opts: minimal, method: "OPTIONS", status: 403, headers: preflight(origin, "GET", acrh("x-requested-with")),
			want: rejectedPreflight},
		{name: "Access-Control-Allow-Headers lists every allowed header, lower case and sorted, whatever was asked",
			opts:   cors.Options{AllowedOrigins: []string{origin}, AllowedHeaders: []string{"X-Zeta", "Authorization", "Content-Type"}},
			method: "OPTIONS", status: 204, headers: preflight(origin, "GET", acrh("x-zeta")),
			want: map[string]string{"Access-Control-Allow-Origin": origin, "Vary": varyOptions,
				"Access-Control-Allow-Headers": "authorization, content-type, x-zeta"}},
		{name: "a preflight from an allowed origin is answered 204 by default",
			opts: minimal, method: "OPTIONS", status: 204, headers: preflight(origin, "GET"),
			want: map[string]string{"Access-Control-Allow-Origin": origin, "Vary": varyOptions}},
		{name: "the method of an actual request is not looked at: an unlisted method still gets the CORS headers",
			opts: minimal, method: "PROPFIND", headers: [][2]string{{"Origin", origin}},
			want: map[string]string{"Access-Control-Allow-Origin": origin, "Vary": varyOrigin, "X-Next": "1"}},
		{name: "an actual DELETE, not listed, still gets the CORS headers",
			opts: minimal, method: "DELETE", headers: [][2]string{{"Origin", origin}},
			want: map[string]string{"Access-Control-Allow-Origin": origin, "Vary": varyOrigin, "X-Next": "1"}},
		{name: "an OPTIONS request without Access-Control-Request-Method reaches the handler with the CORS headers",
			opts: minimal, method: "OPTIONS", headers: [][2]string{{"Origin", origin}},
			want: map[string]string{"Access-Control-Allow-Origin": origin, "Vary": varyOptions, "X-Next": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(cors.MustNew(tc.opts).Handler(next))
			defer srv.Close()
			req, err := http.NewRequest(tc.method, srv.URL+"/resource", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range tc.headers {
				req.Header.Add(kv[0], kv[1])
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := tc.status
			if want == 0 {
				want = 200
			}
			if resp.StatusCode != want {
				t.Errorf("status = %d, want %d", resp.StatusCode, want)
			}
			if want == 403 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("refusal Content-Type = %q, want a problem document", resp.Header.Get("Content-Type"))
			}
			checkHeaders(t, resp.Header, tc.want)
		})
	}
}

// AllowOriginFunc is asked only about the origins AllowedOrigins does not
// match, and AllowedOrigins stays in force next to it.
func TestAllowOriginFuncAskedOnlyAboutUnlistedOrigins(t *testing.T) {
	var asked []string
	m := cors.MustNew(cors.Options{
		AllowedOrigins: []string{"https://app.example.com", "https://*.example.org"},
		AllowOriginFunc: func(origin string) bool {
			asked = append(asked, origin)
			return false
		},
	})
	for _, o := range []string{"https://app.example.com", "https://a.b.example.org"} {
		rec := httptest.NewRecorder()
		m.Handler(next).ServeHTTP(rec, newRequest("GET", "/", [][2]string{{"Origin", o}}))
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != o {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, want it echoed though the function says no", o, got)
		}
	}
	if len(asked) != 0 {
		t.Errorf("AllowOriginFunc asked about %q, origins the list matches", asked)
	}
	rec := httptest.NewRecorder()
	m.Handler(next).ServeHTTP(rec, newRequest("GET", "/", [][2]string{{"Origin", "https://partner.test"}}))
	if len(asked) != 1 || asked[0] != "https://partner.test" {
		t.Errorf("AllowOriginFunc asked about %q, want [https://partner.test]", asked)
	}
}

// A wildcard is a whole first label: a label that only starts or ends with
// it is refused by New.
func TestWildcardInsideFirstLabelIsInvalid(t *testing.T) {
	for _, o := range []string{"https://app-*.example.com", "https://*-app.example.com", "https://*example.com"} {
		if _, err := cors.New(cors.Options{AllowedOrigins: []string{o}}); !errors.Is(err, cors.ErrInvalidOrigin) {
			t.Errorf("New(%s) = %v, want ErrInvalidOrigin", o, err)
		}
	}
}
