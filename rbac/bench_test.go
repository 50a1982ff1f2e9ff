package rbac_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

func BenchmarkPolicyCan(b *testing.B) {
	p := seedPolicy(b)
	for _, bc := range []struct {
		name string
		id   identity.Identity
		perm string
	}{
		{"exact", principal("root", "admin"), "users:delete"},
		{"inherited", principal("root", "admin"), "data:view:public"},
		{"denied", principal("gina", "guest"), "users:delete"},
		{"unknown role", principal("eve", "superuser"), "users:delete"},
		{"many roles", principal("x", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "guest"), "data:view:public"},
		{"deep permission", principal("gina", "guest"), "data:view:public:a:b:c:d:e:f:g"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Can(bc.id, bc.perm)
			}
		})
	}
}

// BenchmarkPolicyCanLarge checks a policy of 1000 roles with 10 permissions
// each, in 100 chains of 10 (a role inherits the ones before it in its
// chain: 100 × 10 × (1 + ... + 10) = 55 000 grants resolved, within
// MaxResolvedGrants): a check of a permission granted at the far end of
// a chain stays a few map lookups.
func BenchmarkPolicyCanLarge(b *testing.B) {
	const chain = 10
	roles := make([]rbac.Role, 1000)
	for i := range roles {
		roles[i] = rbac.Role{Name: fmt.Sprintf("role-%d", i)}
		for j := range 10 {
			roles[i].Permissions = append(roles[i].Permissions, fmt.Sprintf("res%d:act%d", i, j))
		}
		if i%chain > 0 {
			roles[i].Inherits = []string{fmt.Sprintf("role-%d", i-1)}
		}
	}
	p, err := rbac.NewPolicy(roles...)
	if err != nil {
		b.Fatal(err)
	}
	id := principal("s", "role-999")
	if !p.Can(id, "res990:act9") {
		b.Fatal("the end of a chain lacks the grant of its start")
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Can(id, "res990:act9")
	}
}

func BenchmarkGuard(b *testing.B) {
	m := newMiddleware(b, rbac.Options{})
	quiet := newMiddleware(b, rbac.Options{OnReject: func(http.ResponseWriter, *http.Request, error) {}})
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	own := withIdentity(httptest.NewRequest("GET", "/users/alice", nil), principal("alice", "user"))
	own.SetPathValue("id", "alice")
	for _, bc := range []struct {
		name string
		h    http.Handler
		r    *http.Request
	}{
		{"allowed", m.Require("users:delete")(next), withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), principal("root", "admin"))},
		{"allowed owner", m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read")(next), own},
		{"allowed role", m.RequireRole("user")(next), withIdentity(httptest.NewRequest("GET", "/", nil), principal("root", "admin"))},
		{"denied quiet", quiet.Require("users:delete")(next), withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), principal("alice", "user"))},
		{"denied problem", m.Require("users:delete")(next), withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), principal("alice", "user"))},
		{"unauthenticated", m.Require("users:delete")(next), httptest.NewRequest("DELETE", "/users/bob", nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discard{}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, bc.r)
			}
		})
	}
}

func BenchmarkRuleTable(b *testing.B) {
	m := newMiddleware(b, rbac.Options{Rules: seedRules()})
	admin := principal("root", "admin")
	long := "/public/" + strings.Repeat("a/", 5000) + "x"
	slashes := "/" + strings.Repeat("/", 10000) + "admin/x"
	dots := "/public" + strings.Repeat("/..", 5000) + "/admin/x"
	for _, bc := range []struct{ name, method, target string }{
		{"clean", "GET", "/users/bob"},
		{"subtree", "GET", "/admin/settings/general"},
		{"upper case", "GET", "/ADMIN/settings"},
		{"non-canonical", "GET", "//admin/./settings"},
		{"POST", "POST", "/admin/settings"}, // the method-override headers looked up
		{"POST with a query", "POST", "/admin/settings?page=2&sort=name&q=x"},
		{"adversarial 10k segments", "GET", long},
		{"adversarial 10k slashes", "GET", slashes},
		{"adversarial 5k dot-dots", "GET", dots},
		{"adversarial encoded", "GET", "/public/" + strings.Repeat("%41", 3000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := withIdentity(httptest.NewRequest(bc.method, bc.target, nil), admin)
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Check(r)
			}
		})
	}
}

// BenchmarkRuleTableSize measures the linear rule scan against table size.
func BenchmarkRuleTableSize(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		rules := make([]rbac.Rule, n)
		for i := range rules {
			rules[i] = rbac.Rule{Pattern: fmt.Sprintf("GET /res%d/{id}", i), Requirement: rbac.Requirement{Roles: []string{"admin"}}}
		}
		m := newMiddleware(b, rbac.Options{Rules: rules})
		r := withIdentity(httptest.NewRequest("GET", fmt.Sprintf("/res%d/42", n-1), nil), principal("root", "admin"))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Check(r)
			}
		})
	}
}

func BenchmarkParsePolicy(b *testing.B) {
	data, err := seedPolicy(b).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rbac.ParsePolicy(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardRolesFor measures guards whose roles come from
// Options.RolesFor (a map lookup here): one guard, two nested guards
// sharing one call, and a check behind a guard that reuses its roles.
func BenchmarkGuardRolesFor(b *testing.B) {
	store := map[string][]string{"root": {"admin"}}
	m := newMiddleware(b, rbac.Options{RolesFor: func(_ *http.Request, id identity.Identity) ([]string, error) {
		return store[id.Subject()], nil
	}})
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r := withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), principal("root"))
	g, err := m.Guard(rbac.Requirement{Permissions: []string{"users:delete"}})
	if err != nil {
		b.Fatal(err)
	}
	var behind *http.Request
	g.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { behind = r })).ServeHTTP(&discard{}, r)
	if behind == nil {
		b.Fatal("the guard refused")
	}
	one := g.Handler(next)
	two := m.RequireRole("user")(g.Handler(next))
	for _, bc := range []struct {
		name string
		f    func(w http.ResponseWriter)
	}{
		{"allowed", func(w http.ResponseWriter) { one.ServeHTTP(w, r) }},
		{"two nested guards", func(w http.ResponseWriter) { two.ServeHTTP(w, r) }},
		{"check reusing roles", func(http.ResponseWriter) { _ = g.Check(behind) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discard{}
			b.ReportAllocs()
			for b.Loop() {
				bc.f(w)
			}
		})
	}
}
