package rbac_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/rbac"
)

func TestAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in full runs")
	}
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	quiet := newMiddleware(t, rbac.Options{Rules: seedRules(), OnReject: func(http.ResponseWriter, *http.Request, error) {}})
	admin, user := principal("root", "admin"), principal("alice", "user")
	p := m.Policy()

	del := withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), admin)
	delByUser := withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), user)
	own := withIdentity(httptest.NewRequest("GET", "/users/alice", nil), user)
	own.SetPathValue("id", "alice")
	anon := httptest.NewRequest("GET", "/users/alice", nil)
	dirty := withIdentity(httptest.NewRequest("GET", "//admin/../admin/x", nil), admin)
	upper := withIdentity(httptest.NewRequest("GET", "/ADMIN/x", nil), admin)

	// A rejection's header values live in per-response slots carved out
	// of a pooled chunk: nothing is allocated, except now and then under
	// the race detector, which makes the pool drop chunks.
	deniedMax, unauthMax := 0.0, 0.0
	if raceEnabled {
		deniedMax, unauthMax = 1, 2
	}

	w := &discard{}
	// A handler that writes nothing, so only the guard is measured.
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	allowed := m.Require("users:delete")(ok)
	ownerGuard := m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read")(ok)
	denied := m.Require("users:delete")(ok)
	quietDenied := quiet.Require("users:delete")(ok)

	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"Policy.Can", 0, func() { p.Can(admin, "users:delete") }},
		{"Policy.Can with a wildcard lookup", 0, func() { p.Can(user, "data:view:public:deep") }},
		{"Middleware.Can", 0, func() { m.Can(admin, "users:delete") }},
		{"Policy.Grant", 0, func() { p.Grant(admin, "users:delete") }},
		{"Policy.Grant with a wildcard lookup", 0, func() { p.Grant(user, "data:view:public:deep") }},
		{"Policy.Grant of an invalid permission", 0, func() { p.Grant(user, "users:re*") }},
		{"ValidatePermission of a valid permission", 0, func() { _ = rbac.ValidatePermission("users:read:own") }},
		{"ValidatePermission of a valid wildcard", 0, func() { _ = rbac.ValidatePermission("users:*") }},
		{"an allowed guard", 0, func() { allowed.ServeHTTP(w, del) }},
		{"an allowed ownership guard", 0, func() { ownerGuard.ServeHTTP(w, own) }},
		{"a denied decision", 0, func() { _ = quiet.Check(delByUser) }},
		{"a denied guard with a quiet OnReject", 0, func() { quietDenied.ServeHTTP(w, delByUser) }},
		{"a denied guard writing the problem response", deniedMax, func() { denied.ServeHTTP(w, delByUser) }},
		{"an unauthenticated guard writing 401 and its challenge", unauthMax, func() { denied.ServeHTTP(w, anon) }},
		{"the rule table on a clean path", 0, func() { _ = m.Check(del) }},
		{"the rule table on an upper-case path", 0, func() { _ = m.Check(upper) }},
		{"the rule table on a non-canonical path cleans it once", 2, func() { _ = m.Check(dirty) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(200, tt.f); got > tt.max {
				t.Errorf("%v allocations per run, want at most %v", got, tt.max)
			}
		})
	}
}
