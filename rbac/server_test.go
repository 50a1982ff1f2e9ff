package rbac_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// demoAuth stands in for the auth package: the header X-Demo-User names
// the subject and its role, as "alice:user".
func demoAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subject, role, found := strings.Cut(r.Header.Get("X-Demo-User"), ":"); found {
			id := identity.New(identity.Options{Subject: subject, Method: identity.MethodSession, Roles: []string{role}})
			r = r.WithContext(identity.NewContext(r.Context(), id))
		}
		next.ServeHTTP(w, r)
	})
}

// TestEndToEnd runs a real server with both per-route guards and the rule
// table, and sends raw request lines so that nothing cleans the paths on
// the way.
func TestEndToEnd(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	mux := seedMux(t, m)
	mux.Handle("GET /healthz", ok)
	mux.Handle("/public/", ok)
	mux.Handle("/admin/", m.RequireRole("admin")(ok))
	srv := httptest.NewServer(demoAuth(m.Handler(mux)))
	defer srv.Close()

	tests := []struct {
		name, method, target, user string
		want                       int
	}{
		{"a probe without credentials", "GET", "/healthz", "", 200},
		{"a user reads their record", "GET", "/users/alice", "alice:user", 200},
		{"a user reads another record", "GET", "/users/bob", "alice:user", 403},
		{"an admin deletes a user", "DELETE", "/users/bob", "root:admin", 200},
		{"a guest deletes a user", "DELETE", "/users/bob", "gina:guest", 403},
		{"no credentials on a guarded route", "GET", "/users/alice", "", 401},
		{"a double slash into the admin area", "GET", "//admin/x", "gina:guest", 403},
		{"a dot-dot into the admin area", "GET", "/public/../admin/x", "", 401},
		{"an encoded dot-dot", "GET", "/public/%2e%2e/admin/x", "", 400},
		{"an admin's non-canonical path reaches ServeMux's redirect", "GET", "/public/../admin/x", "root:admin", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := tt.method + " " + tt.target + " HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n"
			if tt.user != "" {
				req += "X-Demo-User: " + tt.user + "\r\n"
			}
			if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufioReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if tt.want == 3 && resp.StatusCode/100 == 3 && resp.Header.Get("Location") == "/admin/x" {
				return // ServeMux redirects to the clean path (301 or 307 by Go version)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.target, resp.StatusCode, body, tt.want)
			}
			if tt.want >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("rejection Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestConcurrentSwap serves requests from many goroutines while the policy
// is swapped back and forth; run with -race. Every answer must be one of
// the two policies' answers, never a mix or a crash.
func TestConcurrentSwap(t *testing.T) {
	strict := rbac.MustPolicy(rbac.Role{Name: "user"})
	lenient := rbac.MustPolicy(rbac.Role{Name: "user", Permissions: []string{"reports:read"}})
	m := newMiddleware(t, rbac.Options{Policy: strict, Rules: []rbac.Rule{
		{Pattern: "/reports/", Requirement: rbac.Requirement{Permissions: []string{"reports:read"}}},
	}})
	guarded := m.Require("reports:read")(ok)
	ruled := m.Handler(ok)
	id := principal("alice", "user")

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := strict
			if i%2 == 0 {
				p = lenient
			}
			if err := m.SetPolicy(p); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var seen sync.Map
	var workers sync.WaitGroup
	for range 8 {
		workers.Go(func() {
			for i := range 500 {
				h := guarded
				if i%2 == 1 {
					h = ruled
				}
				w := serve(h, withIdentity(httptest.NewRequest("GET", "/reports/q3", nil), id))
				if w.Code != 200 && w.Code != 403 {
					t.Errorf("status %d", w.Code)
					return
				}
				seen.Store(w.Code, true)
				_ = m.Can(id, "reports:read")
				_ = m.Matrix()
			}
		})
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	if _, ok := seen.Load(200); !ok {
		t.Log("never saw the lenient policy (scheduling); the race detector still checked the swap")
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// A check is decided under one policy, even when the policy is swapped
// while it is being decided: here by its own OwnerFunc, between the two
// methods the rule table reads a POST with an override header as. Policy a grants the
// POST only (on owned documents), policy b the DELETE only; a decision
// mixing them would let the request through.
func TestSetPolicyDuringADecisionDoesNotMixPolicies(t *testing.T) {
	a := rbac.MustPolicy(rbac.Role{Name: "r", Own: []string{"docs:write"}})
	b := rbac.MustPolicy(rbac.Role{Name: "r", Permissions: []string{"docs:delete"}, Own: []string{"docs:write"}})
	b2 := rbac.MustPolicy(rbac.Role{Name: "r", Permissions: []string{"docs:delete"}})
	var m *rbac.Middleware
	var swapTo *rbac.Policy
	owner := func(r *http.Request, id identity.Identity) bool {
		if err := m.SetPolicy(swapTo); err != nil {
			t.Fatal(err)
		}
		return true
	}
	m = newMiddleware(t, rbac.Options{Policy: a, Rules: []rbac.Rule{
		{Pattern: "POST /docs/{id}", Requirement: rbac.Requirement{Permissions: []string{"docs:write"}, Owner: owner}},
		{Pattern: "DELETE /docs/{id}", Requirement: rbac.Requirement{Permissions: []string{"docs:delete"}}},
	}})
	// One guard is one decision too: its OwnerFunc runs last.
	guard, err := m.Guard(rbac.Requirement{Permissions: []string{"docs:write", "docs:delete"}, Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	id := principal("alice", "r")
	for _, tt := range []struct {
		name string
		h    http.Handler
	}{{"the rule table", m.Handler(ok)}, {"a guard", guard.Handler(ok)}} {
		for _, p := range []*rbac.Policy{b, b2} {
			if err := m.SetPolicy(a); err != nil {
				t.Fatal(err)
			}
			swapTo = p
			r := withIdentity(httptest.NewRequest("POST", "/docs/1", nil), id)
			r.Header.Set("X-HTTP-Method-Override", "DELETE")
			if w := serve(tt.h, r); w.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403 from policy a", tt.name, w.Code)
			}
		}
	}
}

// Two checks of one request are two decisions: a swap between them admits
// a request with one permission of each policy, as SetPolicy's doc says.
// (Its doc said each request was decided under one policy.)
func TestSetPolicyBetweenTwoGuardsIsTwoDecisions(t *testing.T) {
	a := rbac.MustPolicy(rbac.Role{Name: "r", Permissions: []string{"docs:write"}})
	b := rbac.MustPolicy(rbac.Role{Name: "r", Permissions: []string{"docs:delete"}})
	m := newMiddleware(t, rbac.Options{Policy: a})
	swap := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.SetPolicy(b); err != nil {
			t.Fatal(err)
		}
		m.Require("docs:delete")(ok).ServeHTTP(w, r)
	})
	h := m.Require("docs:write")(swap)
	w := serve(h, withIdentity(httptest.NewRequest("DELETE", "/docs/1", nil), principal("alice", "r")))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: the guards decided under one policy; update the docs of SetPolicy", w.Code)
	}
	one := m.Require("docs:write", "docs:delete")(ok)
	if w := serve(one, withIdentity(httptest.NewRequest("DELETE", "/docs/1", nil), principal("alice", "r"))); w.Code != http.StatusForbidden {
		t.Errorf("one requirement with both: status %d, want 403", w.Code)
	}
}
