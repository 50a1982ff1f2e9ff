package rbac_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/rbac"
)

// seedMux is a realistic service: every route has its own guard.
func seedMux(t testing.TB, m *rbac.Middleware) *http.ServeMux {
	t.Helper()
	self := rbac.PathValueIsSubject("id")
	authenticated, err := m.Guard(rbac.Requirement{Authenticated: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /public", m.Require("data:view:public")(ok))
	mux.Handle("GET /data", m.Require("data:view")(ok))
	mux.Handle("GET /data/{id}", m.RequireOwner(self, "data:view")(ok))
	mux.Handle("GET /users/{id}", m.RequireOwner(self, "users:read")(ok))
	mux.Handle("PUT /users/{id}", m.RequireOwner(self, "users:update")(ok))
	mux.Handle("DELETE /users/{id}", m.Require("users:delete")(ok))
	mux.Handle("GET /admin", m.RequireRole("admin")(ok))
	mux.Handle("GET /members", m.RequireRole("user")(ok))
	mux.Handle("GET /search", m.RequireAny("data:view", "data:view:public")(ok))
	mux.Handle("GET /me", authenticated.Handler(ok))
	mux.Handle("GET /reports", m.Require("reports:export")(ok)) // granted to no one
	return mux
}

func TestEveryRoleOnEveryRoute(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	mux := seedMux(t, m)
	who := map[string]*identity.Identity{
		"anonymous":  nil,
		"guest":      ptr(principal("gina", "guest")),
		"user":       ptr(principal("alice", "user")),
		"admin":      ptr(principal("root", "admin")),
		"unknown":    ptr(principal("eve", "superuser")),
		"no roles":   ptr(principal("nora")),
		"no subject": ptr(identity.New(identity.Options{Roles: []string{"admin"}})),
	}
	type row = map[string]int
	routes := []struct {
		method, path string
		want         row
	}{
		{"GET", "/public", row{"guest": 200, "user": 200, "admin": 200}},
		{"GET", "/data", row{"admin": 200}},
		{"GET", "/data/alice", row{"user": 200, "admin": 200}},
		{"GET", "/data/bob", row{"admin": 200}},
		{"GET", "/users/alice", row{"user": 200, "admin": 200}},
		{"GET", "/users/bob", row{"admin": 200}},
		{"PUT", "/users/alice", row{"user": 200, "admin": 200}},
		{"PUT", "/users/bob", row{"admin": 200}},
		{"DELETE", "/users/alice", row{"admin": 200}},
		{"DELETE", "/users/bob", row{"admin": 200}},
		{"GET", "/admin", row{"admin": 200}},
		{"GET", "/members", row{"user": 200, "admin": 200}},
		{"GET", "/search", row{"guest": 200, "user": 200, "admin": 200}},
		{"GET", "/me", row{"guest": 200, "user": 200, "admin": 200, "unknown": 200, "no roles": 200}},
		{"GET", "/reports", row{}},
	}
	for _, rt := range routes {
		for name, id := range who {
			want := rt.want[name]
			switch {
			case want != 0:
			case id == nil || name == "no subject":
				want = http.StatusUnauthorized
			default:
				want = http.StatusForbidden
			}
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				r := httptest.NewRequest(rt.method, rt.path, nil)
				if id != nil {
					r = withIdentity(r, *id)
				}
				w := serve(mux, r)
				if w.Code != want {
					t.Fatalf("status %d, want %d", w.Code, want)
				}
				switch want {
				case http.StatusOK:
					if w.Body.String() != "ok" {
						t.Errorf("body %q", w.Body)
					}
				case http.StatusUnauthorized:
					if got := w.Header().Get("WWW-Authenticate"); got != rbac.DefaultChallenge {
						t.Errorf("WWW-Authenticate %q", got)
					}
					fallthrough
				default:
					if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
						t.Errorf("Content-Type %q", ct)
					}
					if strings.Contains(w.Body.String(), "users") || strings.Contains(w.Body.String(), "data") {
						t.Errorf("the rejection reveals the policy: %s", w.Body)
					}
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestRejectionReasons(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	mux := seedMux(t, m)
	tests := []struct {
		name   string
		id     *identity.Identity
		method string
		path   string
		want   error
		perm   string
	}{
		{"no identity", nil, "GET", "/public", rbac.ErrUnauthenticated, ""},
		{"a missing permission", ptr(principal("g", "guest")), "DELETE", "/users/x", rbac.ErrPermission, "users:delete"},
		{"a missing role", ptr(principal("g", "guest")), "GET", "/admin", rbac.ErrRole, ""},
		{"someone else's record", ptr(principal("alice", "user")), "GET", "/users/bob", rbac.ErrNotOwner, "users:read"},
		{"no permission of a list", ptr(principal("eve", "superuser")), "GET", "/search", rbac.ErrPermission, "data:view"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.id != nil {
				r = withIdentity(r, *tt.id)
			}
			ctx, reason := problem.WithReason(r.Context())
			serve(mux, r.WithContext(ctx))
			err := reason.Err()
			if !errors.Is(err, tt.want) {
				t.Fatalf("recorded reason %v, want %v", err, tt.want)
			}
			var ae *rbac.AccessError
			if !errors.As(err, &ae) || ae.Permission != tt.perm {
				t.Errorf("AccessError %+v, want permission %q", ae, tt.perm)
			}
			if ae.Status != rbac.StatusOf(err) {
				t.Errorf("StatusOf = %d, Status = %d", rbac.StatusOf(err), ae.Status)
			}
		})
	}
}

func TestOnRejectReceivesTheReason(t *testing.T) {
	var got error
	m := newMiddleware(t, rbac.Options{OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}})
	h := m.Require("users:delete")(ok)
	r := withIdentity(httptest.NewRequest("DELETE", "/users/x", nil), principal("alice", "user"))
	ctx, reason := problem.WithReason(r.Context())
	w := serve(h, r.WithContext(ctx))
	if w.Code != http.StatusTeapot || !errors.Is(got, rbac.ErrPermission) {
		t.Errorf("OnReject: status %d, err %v", w.Code, got)
	}
	if reason.Err() != got {
		t.Errorf("reason recorded %v, OnReject got %v", reason.Err(), got)
	}
	if rbac.StatusOf(got) != http.StatusForbidden || rbac.StatusOf(errors.New("other")) != http.StatusForbidden {
		t.Error("StatusOf")
	}
}

func TestWWWAuthenticateOption(t *testing.T) {
	m := newMiddleware(t, rbac.Options{WWWAuthenticate: `Basic realm="api", charset="UTF-8"`})
	w := serve(m.Require("data:view")(ok), httptest.NewRequest("GET", "/", nil))
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Basic realm="api", charset="UTF-8"` {
		t.Errorf("status %d, challenge %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestOwnerRunsOnlyWhenNeeded(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	var calls atomic.Int32
	owner := func(r *http.Request, id identity.Identity) bool {
		calls.Add(1)
		return r.PathValue("id") == id.Subject()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", m.RequireOwner(owner, "users:read", "data:view")(ok))
	for _, tt := range []struct {
		name      string
		id        identity.Identity
		path      string
		status    int
		wantCalls int32
	}{
		{"an admin is never asked about ownership", principal("root", "admin"), "/users/bob", 200, 0},
		{"a guest without the permission is rejected first", principal("gina", "guest"), "/users/gina", 403, 0},
		{"a user reading their own record is asked once", principal("alice", "user"), "/users/alice", 200, 1},
		{"a user reading another record is refused", principal("alice", "user"), "/users/bob", 403, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			w := serve(mux, withIdentity(httptest.NewRequest("GET", tt.path, nil), tt.id))
			if w.Code != tt.status || calls.Load() != tt.wantCalls {
				t.Errorf("status %d (want %d), owner calls %d (want %d)", w.Code, tt.status, calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestOwnGrantsNeedAnOwner(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	// Require, not RequireOwner: the own-only grant of a user never counts.
	w := serve(m.Require("users:read")(ok), withIdentity(httptest.NewRequest("GET", "/users/alice", nil), principal("alice", "user")))
	if w.Code != http.StatusForbidden {
		t.Errorf("own-only grant without an OwnerFunc: status %d", w.Code)
	}
}

func TestPathValueIsSubjectRejectsEmpty(t *testing.T) {
	owner := rbac.PathValueIsSubject("id")
	r := httptest.NewRequest("GET", "/", nil)
	if owner(r, identity.Identity{}) {
		t.Error("an empty path value matched an empty subject")
	}
	r.SetPathValue("id", "alice")
	if !owner(r, principal("alice")) || owner(r, principal("bob")) {
		t.Error("PathValueIsSubject")
	}
}

func TestScopesLimitTokens(t *testing.T) {
	m := newMiddleware(t, rbac.Options{ScopedMethods: []identity.Method{identity.MethodBearer}})
	token := func(scopes ...string) identity.Identity {
		return identity.New(identity.Options{Subject: "root", Method: identity.MethodBearer, Roles: []string{"admin"}, Scopes: scopes})
	}
	session := identity.New(identity.Options{Subject: "root", Method: identity.MethodSession, Roles: []string{"admin"}})
	del := m.Require("users:delete")(ok)
	anyView := m.RequireAny("data:view", "users:read")(ok)
	admin := m.RequireRole("admin")(ok)
	tests := []struct {
		name   string
		h      http.Handler
		id     identity.Identity
		status int
		reason error
	}{
		{"a token with the exact scope", del, token("users:delete"), 200, nil},
		{"a token with a wildcard scope", del, token("users:*"), 200, nil},
		{"a token with the all scope", del, token("*"), 200, nil},
		{"a token with a narrower scope", del, token("users:read"), 403, rbac.ErrScope},
		{"a token with no scope", del, token(), 403, rbac.ErrScope},
		{"a token with a malformed scope", del, token("users delete", "users:"), 403, rbac.ErrScope},
		{"a scope without the role is still denied", del, identity.New(identity.Options{Subject: "g", Method: identity.MethodBearer, Roles: []string{"guest"}, Scopes: []string{"*"}}), 403, rbac.ErrPermission},
		{"a session is not limited by scopes", del, session, 200, nil},
		{"any-of with one permission in scope", anyView, token("users:read"), 200, nil},
		{"any-of with none in scope", anyView, token("billing:read"), 403, rbac.ErrScope},
		{"roles are not limited by scopes", admin, token(), 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := withIdentity(httptest.NewRequest("GET", "/", nil), tt.id)
			ctx, reason := problem.WithReason(r.Context())
			w := serve(tt.h, r.WithContext(ctx))
			if w.Code != tt.status || !errors.Is(reason.Err(), tt.reason) || (tt.reason == nil) != (reason.Err() == nil) {
				t.Errorf("status %d, reason %v; want %d, %v", w.Code, reason.Err(), tt.status, tt.reason)
			}
		})
	}
	if m.Can(token("users:read"), "users:delete") || !m.Can(token("users:*"), "users:delete") || !m.Can(session, "users:delete") {
		t.Error("Middleware.Can ignores scopes")
	}
}

func TestGuardValidation(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	tests := []struct {
		name string
		req  rbac.Requirement
		want string
	}{
		{"an empty requirement", rbac.Requirement{}, "requires nothing"},
		{"a wildcard requirement", rbac.Requirement{Permissions: []string{"users:*"}}, `Requirement.Permissions[0] "users:*"`},
		{"the all wildcard", rbac.Requirement{AnyPermission: []string{"*"}}, `Requirement.AnyPermission[0] "*"`},
		{"a malformed role", rbac.Requirement{Roles: []string{"bad role"}}, `Requirement.Roles[0] "bad role"`},
		{"an owner without permissions", rbac.Requirement{Roles: []string{"user"}, Owner: rbac.PathValueIsSubject("id")}, "Requirement.Owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := m.Guard(tt.req)
			if g != nil || !errors.Is(err, rbac.ErrInvalidRequirement) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Guard = %v, %v; want an error naming %s", g, err, tt.want)
			}
		})
	}
	for name, f := range map[string]func(){
		"Require with no permission":    func() { m.Require() },
		"Require with a wildcard":       func() { m.Require("users:*") },
		"RequireAny with a bad name":    func() { m.RequireAny("Users") },
		"RequireRole with no role":      func() { m.RequireRole() },
		"RequireOwner with a nil owner": func() { m.RequireOwner(nil, "users:read") },
	} {
		t.Run(name+" panics", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestNewValidation(t *testing.T) {
	_, err := rbac.New(rbac.Options{
		WWWAuthenticate: "Bearer\r\nX-Injected: 1",
		ScopedMethods:   []identity.Method{""},
		Rules:           []rbac.Rule{{Pattern: "GET admin", Requirement: rbac.Requirement{Roles: []string{"admin"}}}},
	})
	for _, want := range []error{rbac.ErrNoPolicy, rbac.ErrInvalidOption, rbac.ErrInvalidPattern} {
		if !errors.Is(err, want) {
			t.Errorf("New error %v does not wrap %v", err, want)
		}
	}
	for _, want := range []string{"Policy", "WWWAuthenticate", "ScopedMethods[0]", "Rules[0].Pattern"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error %v does not name %s", err, want)
		}
	}
}

// The error for a missing policy says how to make one, as the other
// option errors say what to change.
func TestNewWithoutPolicySaysHowToMakeOne(t *testing.T) {
	_, err := rbac.New(rbac.Options{})
	if !errors.Is(err, rbac.ErrNoPolicy) || !strings.Contains(err.Error(), "NewPolicy") {
		t.Errorf("New error = %v, want ErrNoPolicy naming NewPolicy", err)
	}
}

func TestZeroMiddlewareFailsClosed(t *testing.T) {
	var m rbac.Middleware
	h := m.Require("data:view:public")(ok)
	if w := serve(h, httptest.NewRequest("GET", "/", nil)); w.Code != 401 || w.Header().Get("WWW-Authenticate") != rbac.DefaultChallenge {
		t.Errorf("no identity: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	r := withIdentity(httptest.NewRequest("GET", "/", nil), principal("root", "admin"))
	if w := serve(h, r); w.Code != 403 {
		t.Errorf("with identity: %d", w.Code)
	}
	if err := m.Check(r); !errors.Is(err, rbac.ErrNoRule) {
		t.Errorf("zero Check: %v", err)
	}
	if w := serve(m.Handler(ok), r); w.Code != 403 {
		t.Errorf("zero Handler: %d", w.Code)
	}
	// The rule table comes first: without rules, Handler refuses with
	// ErrNoRule (403) whether or not there is an identity, where the
	// guards answer 401 without one. The documentation said 401 for both.
	if w := serve(m.Handler(ok), httptest.NewRequest("GET", "/", nil)); w.Code != 403 {
		t.Errorf("zero Handler, no identity: %d", w.Code)
	}
	if m.Policy() != nil || m.Matrix() != nil || m.Can(principal("root", "admin"), "data:view") {
		t.Error("zero Middleware has a policy")
	}
	// A nil *Middleware (what New returns with its error) answers as the
	// zero one; it made every request panic.
	var nilm *rbac.Middleware
	if err := nilm.Check(r); !errors.Is(err, rbac.ErrNoRule) {
		t.Errorf("nil Check: %v", err)
	}
	if w := serve(nilm.Handler(ok), r); w.Code != 403 {
		t.Errorf("nil Handler: %d", w.Code)
	}
	if nilm.Policy() != nil || nilm.Matrix() != nil || nilm.Can(principal("root", "admin"), "data:view") || len(nilm.Required()) != 0 {
		t.Error("nil Middleware has a policy")
	}
	if err := m.SetPolicy(nil); !errors.Is(err, rbac.ErrNoPolicy) {
		t.Errorf("SetPolicy(nil) = %v", err)
	}
	if err := m.SetPolicy(seedPolicy(t)); err != nil {
		t.Fatal(err)
	}
	if w := serve(h, r); w.Code != 200 {
		t.Errorf("after SetPolicy: %d", w.Code)
	}
}

func TestSetPolicySwapsAtomically(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	h := m.Require("users:delete")(ok)
	r := withIdentity(httptest.NewRequest("DELETE", "/users/x", nil), principal("sam", "support"))
	if w := serve(h, r); w.Code != 403 {
		t.Fatalf("before: %d", w.Code)
	}
	roles := append(seedRoles(), rbac.Role{Name: "support", Permissions: []string{"users:delete"}})
	if err := m.SetPolicy(rbac.MustPolicy(roles...)); err != nil {
		t.Fatal(err)
	}
	if w := serve(h, r); w.Code != 200 {
		t.Fatalf("after: %d", w.Code)
	}
}

func TestMatrixShowsRequirements(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	m.Require("reports:export")
	seedMux(t, m)
	mat := m.Matrix()
	found := false
	for j, p := range mat.Permissions {
		if p == "reports:export" {
			found = true
			for i := range mat.Roles {
				if mat.Grants[i][j] != rbac.Denied {
					t.Errorf("%s grants reports:export", mat.Roles[i])
				}
			}
		}
	}
	if !found {
		t.Errorf("required permission missing from the matrix columns %q", mat.Permissions)
	}
	if req := m.Required(); len(req) == 0 || req[0] != "data:view" {
		t.Errorf("Required = %q", req)
	}

	h := m.RequireRole("admin")(m.MatrixHandler())
	w := serve(h, withIdentity(httptest.NewRequest("GET", "/matrix", nil), principal("root", "admin")))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("matrix handler: %d %v", w.Code, w.Header())
	}
	var got rbac.Matrix
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Roles) != 3 {
		t.Errorf("matrix JSON %s: %v", w.Body, err)
	}
	if w := serve(h, withIdentity(httptest.NewRequest("POST", "/matrix", nil), principal("root", "admin"))); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST matrix: %d", w.Code)
	}
	if w := serve(h, withIdentity(httptest.NewRequest("GET", "/matrix", nil), principal("alice", "user"))); w.Code != 403 {
		t.Errorf("matrix served to a user: %d", w.Code)
	}
}

// TestManyRoles covers principals with more useful roles than a check
// keeps on the stack: the decision must not change.
func TestManyRoles(t *testing.T) {
	var roles []rbac.Role
	var names []string
	for i := range 12 {
		name := "team-" + string(rune('a'+i))
		roles = append(roles, rbac.Role{Name: name, Own: []string{"docs:read"}, Permissions: []string{"team:" + name[5:]}})
		names = append(names, name)
	}
	roles = append(roles, rbac.Role{Name: "editor", Permissions: []string{"docs:read"}})
	m := newMiddleware(t, rbac.Options{Policy: rbac.MustPolicy(roles...)})
	read := m.Require("docs:read")(ok)
	role := m.RequireRole("editor")(ok)
	for _, tt := range []struct {
		name  string
		roles []string
		want  int
	}{
		{"twelve own-only roles", names, 403},
		{"twelve own-only roles and the granting one last", append(names[:12:12], "editor"), 200},
		{"the granting one first", append([]string{"editor"}, names...), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := withIdentity(httptest.NewRequest("GET", "/docs/1", nil), principal("s", tt.roles...))
			if w := serve(read, r); w.Code != tt.want {
				t.Errorf("permission: %d, want %d", w.Code, tt.want)
			}
			if w := serve(role, r); w.Code != tt.want {
				t.Errorf("role: %d, want %d", w.Code, tt.want)
			}
		})
	}
}

func TestZeroGuardFailsClosed(t *testing.T) {
	var g rbac.Guard
	r := withIdentity(httptest.NewRequest("GET", "/", nil), principal("root", "admin"))
	if err := g.Check(r); !errors.Is(err, rbac.ErrNoPolicy) {
		t.Errorf("zero Guard Check = %v", err)
	}
	if w := serve(g.Handler(ok), r); w.Code != http.StatusForbidden {
		t.Errorf("zero Guard Handler status %d", w.Code)
	}
	var nilGuard *rbac.Guard
	if w := serve(nilGuard.Handler(ok), r); w.Code != http.StatusForbidden {
		t.Errorf("nil Guard Handler status %d", w.Code)
	}
}

// With AnyPermission, an own-only grant satisfies the requirement only
// through the ownership check: a user whose only matching grant is
// own-only reaches another user's resource no more than with
// Permissions (a mutation that counted own-only as satisfied failed no
// other test).
func TestAnyPermissionOwnOnlyStillChecksTheOwner(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	g, err := m.Guard(rbac.Requirement{
		AnyPermission: []string{"users:read", "users:delete"},
		Owner:         func(r *http.Request, id identity.Identity) bool { return r.PathValue("id") == id.Subject() },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", g.Handler(ok))
	for _, tt := range []struct {
		name   string
		id     identity.Identity
		path   string
		status int
	}{
		{"a user reads their own record", principal("alice", "user"), "/users/alice", 200},
		{"a user does not read another's record", principal("alice", "user"), "/users/bob", 403},
		{"an admin reads anyone's record", principal("root", "admin"), "/users/bob", 200},
		{"a guest reads no record, not even one named after them", principal("gus", "guest"), "/users/gus", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := withIdentity(httptest.NewRequest(http.MethodGet, tt.path, nil), tt.id)
			if w := serve(mux, r); w.Code != tt.status {
				t.Errorf("status %d; want %d", w.Code, tt.status)
			}
		})
	}
}

// A nil *Middleware serves requests as the zero one, but the calls made
// at start-up on it still panic, so that a New whose error was ignored is
// found before the first request: SetPolicy, Guard and Require… (the
// changelog said so, no test did).
func TestNilMiddlewareStartUpCallsPanic(t *testing.T) {
	var m *rbac.Middleware
	p := seedPolicy(t)
	for name, f := range map[string]func(){
		"SetPolicy":    func() { _ = m.SetPolicy(p) },
		"Guard":        func() { _, _ = m.Guard(rbac.Requirement{Permissions: []string{"users:read"}}) },
		"Require":      func() { m.Require("users:read") },
		"RequireAny":   func() { m.RequireAny("users:read") },
		"RequireRole":  func() { m.RequireRole("admin") },
		"RequireOwner": func() { m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on a nil *Middleware did not panic", name)
				}
			}()
			f()
		})
	}
}

// TestOwnerPathValueSpellings: behind a ServeMux route, PathValueIsSubject
// compares the decoded path value with the subject exactly. A spelling
// that differs by letter case, Unicode normalisation, white space or a
// trailing slash is not the principal's record (a store that folds case
// or normalises would serve someone else's); a percent-encoded spelling
// of the same bytes is, since ServeMux decodes it and the handler sees
// the subject.
func TestOwnerPathValueSpellings(t *testing.T) {
	m := newMiddleware(t, rbac.Options{})
	mux := http.NewServeMux()
	var served string
	mux.Handle("GET /users/{id}", m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served = r.PathValue("id") })))
	tests := []struct {
		name    string
		subject string
		target  string
		status  int
	}{
		{"the subject itself", "bob", "/users/bob", 200},
		{"the subject percent-encoded", "bob", "/users/%62%6Fb", 200},
		{"upper case", "bob", "/users/BOB", 403},
		{"mixed case", "bob", "/users/Bob", 403},
		{"long s for s", "sam", "/users/%C5%BFam", 403},
		{"Kelvin sign for k", "kim", "/users/%E2%84%AAim", 403},
		{"dotted capital I for i", "iris", "/users/%C4%B0ris", 403},
		{"NFD for the subject's NFC", "jos\u00e9", "/users/jose%CC%81", 403},
		{"NFC for the subject's NFD", "jose\u0301", "/users/jos%C3%A9", 403},
		{"a trailing space", "bob", "/users/bob%20", 403},
		{"a trailing NUL", "bob", "/users/bob%00", 403},
		{"a full-width letter", "bob", "/users/%EF%BD%82ob", 403},
		{"another user", "bob", "/users/alice", 403},
		{"a trailing slash is another route", "bob", "/users/bob/", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served = ""
			r := withIdentity(httptest.NewRequest("GET", tt.target, nil), principal(tt.subject, "user"))
			w := serve(mux, r)
			if w.Code != tt.status {
				t.Fatalf("GET %s as %q: status %d, want %d", tt.target, tt.subject, w.Code, tt.status)
			}
			if tt.status == 200 && served != tt.subject {
				t.Errorf("the handler served %q to %q", served, tt.subject)
			}
		})
	}
}

// TestMiddlewareCanAgreesWithTheGuards pins that Middleware.Can answers as
// Require(perm) decides: an identity without a subject, which every guard
// refuses as unauthenticated, may do nothing, whatever its roles.
func TestMiddlewareCanAgreesWithTheGuards(t *testing.T) {
	t.Parallel()
	m := newMiddleware(t, rbac.Options{})
	guard := m.Require("users:delete")(ok)
	for _, tt := range []struct {
		name string
		id   identity.Identity
	}{
		{"an admin", principal("root", "admin")},
		{"admin roles without a subject", identity.New(identity.Options{Method: identity.MethodSession, Roles: []string{"admin"}})},
		{"a guest", principal("g", "guest")},
	} {
		w := serve(guard, withIdentity(httptest.NewRequest("DELETE", "/users/bob", nil), tt.id))
		if can := m.Can(tt.id, "users:delete"); can != (w.Code == http.StatusOK) {
			t.Errorf("%s: Can = %v, but the guard answers %d", tt.name, can, w.Code)
		}
	}
}

// A ScopedMethods entry spelt with another letter case or with white
// space around one of identity's methods would never equal the method of
// an identity, and scopes would silently be ignored: New refuses it.
func TestScopedMethodsMisspeltIsAnError(t *testing.T) {
	t.Parallel()
	for _, meth := range []identity.Method{"Bearer", "BEARER", " bearer", "bearer\t", "API_KEY", "Session"} {
		_, err := rbac.New(rbac.Options{Policy: seedPolicy(t), ScopedMethods: []identity.Method{identity.MethodBasic, meth}})
		if !errors.Is(err, rbac.ErrInvalidOption) || !strings.Contains(err.Error(), "ScopedMethods[1]") {
			t.Errorf("ScopedMethods %q: New error = %v, want ErrInvalidOption naming ScopedMethods[1]", meth, err)
		}
	}
	// A method of another package is accepted as it is.
	if _, err := rbac.New(rbac.Options{Policy: seedPolicy(t), ScopedMethods: []identity.Method{identity.MethodBearer, "mtls", "Custom"}}); err != nil {
		t.Errorf("New with other methods: %v", err)
	}
}

// The reasons ErrNoPolicy's doc gives for the zero Middleware.
func TestZeroMiddlewareReasons(t *testing.T) {
	t.Parallel()
	var m rbac.Middleware
	g, err := m.Guard(rbac.Requirement{Permissions: []string{"data:view"}})
	if err != nil {
		t.Fatal(err)
	}
	anon := httptest.NewRequest("GET", "/", nil)
	signed := withIdentity(httptest.NewRequest("GET", "/", nil), principal("root", "admin"))
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"guard, no identity", g.Check(anon), rbac.ErrUnauthenticated},
		{"guard, an identity", g.Check(signed), rbac.ErrNoPolicy},
		{"Check, an identity", m.Check(signed), rbac.ErrNoRule},
		{"zero Guard, no identity", new(rbac.Guard).Check(anon), rbac.ErrNoPolicy},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

// Scopes narrow only the methods of ScopedMethods, as identity's
// WithMethod now warns: a bearer identity narrowed to "users:read" and
// carried as a session may use all its roles grant.
func TestScopesFollowTheMethod(t *testing.T) {
	m := newMiddleware(t, rbac.Options{ScopedMethods: []identity.Method{identity.MethodBearer}})
	token := identity.New(identity.Options{Subject: "root", Method: identity.MethodBearer,
		Roles: []string{"admin"}, Scopes: []string{"users:read"}})
	if m.Can(token, "users:delete") {
		t.Error("a token scoped to users:read may delete")
	}
	if !m.Can(token.WithMethod(identity.MethodSession), "users:delete") {
		t.Error("carried as a session, the token's scopes narrow it; update WithMethod's doc")
	}
}
