package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// The same role model in both: guest views public data; user inherits
// guest; admin inherits user and holds the wildcards "users:*" and
// "data:*". Casbin expresses it as RBAC with role inheritance (g) and
// keyMatch for the wildcards; the request subject is the principal's role,
// as rbac reads roles from the identity. Own-only grants have no direct
// casbin RBAC counterpart and are left out of the comparison.

const casbinRBACModel = `
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch(r.obj, p.obj)
`

var rbacRoles = []rbac.Role{
	{Name: "guest", Permissions: []string{"data:view:public"}},
	{Name: "user", Inherits: []string{"guest"}, Permissions: []string{"reports:read"}},
	{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"users:*", "data:*"}},
}

// casbinEnforcer is the interface both casbin enforcers share here.
type casbinEnforcer interface {
	Enforce(rvals ...any) (bool, error)
}

func newCasbin(b *testing.B, cached bool) casbinEnforcer {
	b.Helper()
	m, err := model.NewModelFromString(casbinRBACModel)
	if err != nil {
		b.Fatal(err)
	}
	var e interface {
		casbinEnforcer
		AddPolicy(params ...any) (bool, error)
		AddGroupingPolicy(params ...any) (bool, error)
	}
	if cached {
		e, err = casbin.NewSyncedCachedEnforcer(m)
	} else {
		e, err = casbin.NewEnforcer(m)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rbacRoles {
		for _, p := range r.Permissions {
			if _, err := e.AddPolicy(r.Name, p); err != nil {
				b.Fatal(err)
			}
		}
		for _, parent := range r.Inherits {
			if _, err := e.AddGroupingPolicy(r.Name, parent); err != nil {
				b.Fatal(err)
			}
		}
	}
	return e
}

var rbacCases = []struct {
	name, role, perm string
	want             bool
}{
	{"admin-wildcard", "admin", "users:delete", true},
	{"admin-inherited", "admin", "data:view:public", true},
	{"user-inherited", "user", "data:view:public", true},
	{"guest-denied", "guest", "users:delete", false},
}

// BenchmarkRBACCheck compares one permission check.
func BenchmarkRBACCheck(b *testing.B) {
	policy, err := rbac.NewPolicy(rbacRoles...)
	if err != nil {
		b.Fatal(err)
	}
	plain, cached := newCasbin(b, false), newCasbin(b, true)
	for _, c := range rbacCases {
		id := identity.New(identity.Options{Subject: "s", Roles: []string{c.role}})
		b.Run("case="+c.name+"/impl=httpguard", func(b *testing.B) {
			if policy.Can(id, c.perm) != c.want {
				b.Fatal("wrong decision")
			}
			b.ReportAllocs()
			for b.Loop() {
				policy.Can(id, c.perm)
			}
		})
		for _, peer := range []struct {
			name string
			e    casbinEnforcer
		}{{"casbin", plain}, {"casbin-cached", cached}} {
			b.Run("case="+c.name+"/impl="+peer.name, func(b *testing.B) {
				if ok, err := peer.e.Enforce(c.role, c.perm); err != nil || ok != c.want {
					b.Fatalf("wrong decision: %v %v", ok, err)
				}
				b.ReportAllocs()
				for b.Loop() {
					_, _ = peer.e.Enforce(c.role, c.perm)
				}
			})
		}
	}
}

// casbinRequire is the middleware a casbin user writes: the principal's
// roles from the identity, one Enforce per role, 401 or 403 otherwise.
func casbinRequire(e casbinEnforcer, perm string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		if !ok || id.Subject() == "" {
			w.Header().Set("Www-Authenticate", "Bearer")
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		for i := 0; i < id.NumRoles(); i++ {
			if allowed, err := e.Enforce(id.Role(i), perm); err == nil && allowed {
				next.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, "Forbidden", http.StatusForbidden)
	})
}

type rbacWriter struct {
	h    http.Header
	code int
}

func (w *rbacWriter) Header() http.Header         { return w.h }
func (w *rbacWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *rbacWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkRBACMiddleware compares a guarded route on identical requests,
// allowed and denied.
func BenchmarkRBACMiddleware(b *testing.B) {
	policy, err := rbac.NewPolicy(rbacRoles...)
	if err != nil {
		b.Fatal(err)
	}
	m, err := rbac.New(rbac.Options{Policy: policy})
	if err != nil {
		b.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	impls := []struct {
		name string
		h    http.Handler
	}{
		{"httpguard", m.Require("users:delete")(next)},
		{"casbin", casbinRequire(newCasbin(b, false), "users:delete", next)},
		{"casbin-cached", casbinRequire(newCasbin(b, true), "users:delete", next)},
	}
	for _, c := range []struct {
		name, role string
		want       int
	}{
		{"allowed", "admin", http.StatusOK},
		{"denied", "guest", http.StatusForbidden},
	} {
		r := httptest.NewRequest("DELETE", "/users/bob", nil)
		r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "s", Roles: []string{c.role}})))
		for _, impl := range impls {
			b.Run("case="+c.name+"/impl="+impl.name, func(b *testing.B) {
				w := &rbacWriter{h: make(http.Header, 8)}
				impl.h.ServeHTTP(w, r)
				if w.code != c.want {
					b.Fatalf("status %d, want %d", w.code, c.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					impl.h.ServeHTTP(w, r)
				}
			})
		}
	}
}
