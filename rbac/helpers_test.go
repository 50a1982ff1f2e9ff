package rbac_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// seedRoles is the policy of the project's brief: an admin deletes users
// and views all data; a user views and updates their own data; a guest
// views some data.
func seedRoles() []rbac.Role {
	return []rbac.Role{
		{Name: "guest", Permissions: []string{"data:view:public"}},
		{Name: "user", Inherits: []string{"guest"}, Own: []string{"users:read", "users:update", "data:view"}},
		{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"users:*", "data:*"}},
	}
}

func seedPolicy(t testing.TB) *rbac.Policy {
	t.Helper()
	p, err := rbac.NewPolicy(seedRoles()...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newMiddleware(t testing.TB, opts rbac.Options) *rbac.Middleware {
	t.Helper()
	if opts.Policy == nil {
		opts.Policy = seedPolicy(t)
	}
	m, err := rbac.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// principal returns an identity with subject and roles.
func principal(subject string, roles ...string) identity.Identity {
	return identity.New(identity.Options{Subject: subject, Method: identity.MethodSession, Roles: roles})
}

// withIdentity returns r carrying id.
func withIdentity(r *http.Request, id identity.Identity) *http.Request {
	return r.WithContext(identity.NewContext(r.Context(), id))
}

// ok is the handler behind every guard: it answers 200 "ok".
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("ok"))
})

// serve runs one request through h and returns the recorder.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// discard is a ResponseWriter that keeps nothing, for allocation counts.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = make(http.Header)
	}
	return d.h
}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
