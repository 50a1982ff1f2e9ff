package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

func TestRequireScopes(t *testing.T) {
	h := auth.RequireScopes("orders:read", "orders:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tests := []struct {
		name      string
		id        *identity.Identity
		status    int
		challenge string
		reason    error
	}{
		{"an identity with every scope passes", &identity.Identity{}, 200, "", nil},
		{"an identity missing one scope gets 403 insufficient_scope", nil, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read orders:write"`, auth.ErrInsufficientScope},
		{"no identity gets 401", nil, 401, `Bearer realm="api"`, auth.ErrNoCredentials},
		// identity.Options.Subject is required for an authenticated
		// identity, and rbac refuses one without it: an identity that
		// carries the scopes but no subject is not authenticated here
		// either.
		{"an identity with every scope but no subject gets 401", nil, 401, `Bearer realm="api"`, auth.ErrNoCredentials},
	}
	full := identity.New(identity.Options{Subject: "a", Scopes: []string{"orders:write", "orders:read", "x"}})
	partial := identity.New(identity.Options{Subject: "a", Scopes: []string{"orders:read"}})
	anonymous := identity.New(identity.Options{Method: identity.MethodBearer, Scopes: []string{"orders:write", "orders:read"}})
	tests[0].id = &full
	tests[1].id = &partial
	tests[3].id = &anonymous
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			ctx, reason := problem.WithReason(r.Context())
			if tt.id != nil {
				ctx = identity.NewContext(ctx, *tt.id)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r.WithContext(ctx))
			if w.Code != tt.status || w.Header().Get("WWW-Authenticate") != tt.challenge {
				t.Fatalf("%d %q", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			if tt.reason != nil && !errors.Is(reason.Err(), tt.reason) {
				t.Errorf("reason %v", reason.Err())
			}
		})
	}
}

func TestNewScopeCheckRejectsBadScopes(t *testing.T) {
	for _, s := range [][]string{nil, {""}, {"a b"}, {`a"`}, {"é"}} {
		if _, err := auth.NewScopeCheck(auth.ScopeOptions{Scopes: s}); err == nil {
			t.Errorf("NewScopeCheck accepted %q", s)
		}
	}
	var zero auth.ScopeCheck
	if err := zero.Check(httptest.NewRequest(http.MethodGet, "/", nil)); err == nil {
		t.Error("zero ScopeCheck let a request through")
	}
}

func TestScopeCheckAllocations(t *testing.T) {
	h := auth.RequireScopes("orders:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	ok := r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "a", Scopes: []string{"orders:read"}})))
	lacking := r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "a"})))
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, ok) }); n != 0 {
		t.Errorf("allowed path: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { clear(w.Header()); h.ServeHTTP(w, lacking) }); n > 3 {
		t.Errorf("rejected path: %v allocations", n)
	}
}
