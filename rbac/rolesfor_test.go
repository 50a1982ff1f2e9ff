package rbac_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/rbac"
)

// orgRoles is an application's role store: roles by organisation, then by
// subject. The empty organisation holds roles that are not per
// organisation.
type orgRoles struct {
	mu    sync.Mutex
	roles map[string]map[string][]string
	err   error
	calls atomic.Int32
	orgs  []string // the org path value of each call, in order
}

func (s *orgRoles) set(org, subject string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roles == nil {
		s.roles = make(map[string]map[string][]string)
	}
	if s.roles[org] == nil {
		s.roles[org] = make(map[string][]string)
	}
	s.roles[org][subject] = roles
}

// rolesFor is the Options.RolesFor of the tests: it reads the org path
// value, as a per-route guard sees it.
func (s *orgRoles) rolesFor(r *http.Request, id identity.Identity) ([]string, error) {
	s.calls.Add(1)
	org := r.PathValue("org")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs = append(s.orgs, org)
	if s.err != nil {
		return nil, s.err
	}
	return s.roles[org][id.Subject()], nil
}

// orgPolicy: a viewer reads projects, an admin does everything to them; a
// member reads and edits their own profile.
func orgPolicy(t testing.TB) *rbac.Policy {
	t.Helper()
	p, err := rbac.NewPolicy(
		rbac.Role{Name: "viewer", Permissions: []string{"projects:read"}},
		rbac.Role{Name: "admin", Inherits: []string{"viewer"}, Permissions: []string{"projects:*", "profiles:*"}},
		rbac.Role{Name: "member", Own: []string{"profiles:update"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// orgMux guards every route with m's per-route guards.
func orgMux(m *rbac.Middleware) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /orgs/{org}/projects", m.Require("projects:read")(ok))
	mux.Handle("DELETE /orgs/{org}/projects/{id}", m.Require("projects:delete")(ok))
	mux.Handle("GET /orgs/{org}/admin", m.RequireRole("admin")(ok))
	mux.Handle("GET /orgs/{org}/any", m.RequireAny("projects:delete", "projects:read")(ok))
	mux.Handle("PUT /orgs/{org}/profiles/{id}", m.RequireOwner(rbac.PathValueIsSubject("id"), "profiles:update")(ok))
	// Two guards of one Middleware nested on one route.
	mux.Handle("POST /orgs/{org}/projects", m.RequireRole("viewer")(m.Require("projects:create")(ok)))
	return mux
}

func bearer(subject string, roles, scopes []string) identity.Identity {
	return identity.New(identity.Options{Subject: subject, Method: identity.MethodBearer, Roles: roles, Scopes: scopes})
}

func TestRolesFor(t *testing.T) {
	errDown := errors.New("role store down")
	alice := principal("alice", "admin") // the token still says admin
	tests := []struct {
		name      string
		store     func(s *orgRoles)
		id        *identity.Identity
		method    string
		target    string
		want      int
		reason    error
		wantCalls int32
	}{
		{"a user demoted in the store is refused at once, whatever the token says",
			func(s *orgRoles) { s.set("a", "alice", "viewer") }, &alice, "DELETE", "/orgs/a/projects/1", 403, rbac.ErrPermission, 1},
		{"a user promoted in the store is admitted at once",
			func(s *orgRoles) { s.set("a", "bob", "admin") }, ptr(principal("bob")), "DELETE", "/orgs/a/projects/1", 200, nil, 1},
		{"admin of org a deletes in org a",
			func(s *orgRoles) { s.set("a", "alice", "admin"); s.set("b", "alice", "viewer") }, &alice, "DELETE", "/orgs/a/projects/1", 200, nil, 1},
		{"viewer of org b may not delete in org b",
			func(s *orgRoles) { s.set("a", "alice", "admin"); s.set("b", "alice", "viewer") }, &alice, "DELETE", "/orgs/b/projects/1", 403, rbac.ErrPermission, 1},
		{"viewer of org b reads in org b",
			func(s *orgRoles) { s.set("a", "alice", "admin"); s.set("b", "alice", "viewer") }, &alice, "GET", "/orgs/b/projects", 200, nil, 1},
		{"no role in org c: the token's admin does not count",
			func(s *orgRoles) { s.set("a", "alice", "admin") }, &alice, "GET", "/orgs/c/projects", 403, rbac.ErrPermission, 1},
		{"RequireRole reads the store, inheritance included",
			func(s *orgRoles) { s.set("a", "alice", "admin") }, &alice, "GET", "/orgs/a/admin", 200, nil, 1},
		{"RequireRole refuses a role the store does not give",
			func(s *orgRoles) { s.set("b", "alice", "viewer") }, &alice, "GET", "/orgs/b/admin", 403, rbac.ErrRole, 1},
		{"RequireAny reads the store",
			func(s *orgRoles) { s.set("b", "alice", "viewer") }, &alice, "GET", "/orgs/b/any", 200, nil, 1},
		{"an own-only grant from the store on one's own profile",
			func(s *orgRoles) { s.set("a", "alice", "member") }, &alice, "PUT", "/orgs/a/profiles/alice", 200, nil, 1},
		{"an own-only grant from the store on another's profile",
			func(s *orgRoles) { s.set("a", "alice", "member") }, &alice, "PUT", "/orgs/a/profiles/bob", 403, rbac.ErrNotOwner, 1},
		{"two nested guards call RolesFor once",
			func(s *orgRoles) { s.set("a", "alice", "admin") }, &alice, "POST", "/orgs/a/projects", 200, nil, 1},
		{"two nested guards, the inner one refusing, call RolesFor once",
			func(s *orgRoles) { s.set("b", "alice", "viewer") }, &alice, "POST", "/orgs/b/projects", 403, rbac.ErrPermission, 1},
		{"an error is 503, never the token's roles",
			func(s *orgRoles) { s.err = errDown }, &alice, "GET", "/orgs/a/projects", 503, rbac.ErrRolesUnavailable, 1},
		{"an error in the outer of two guards is 503 and the inner one never runs",
			func(s *orgRoles) { s.err = errDown }, &alice, "POST", "/orgs/a/projects", 503, rbac.ErrRolesUnavailable, 1},
		{"no identity is 401 without a call",
			func(s *orgRoles) { s.set("a", "alice", "admin") }, nil, "GET", "/orgs/a/projects", 401, rbac.ErrUnauthenticated, 0},
		{"an identity without a subject is 401 without a call",
			func(s *orgRoles) { s.set("a", "", "admin") }, ptr(principal("", "admin")), "GET", "/orgs/a/projects", 401, rbac.ErrUnauthenticated, 0},
		{"unknown, empty and malformed names grant nothing",
			func(s *orgRoles) { s.set("a", "alice", "", "superuser", "ad min", "Admin", "admin\x00") }, &alice, "GET", "/orgs/a/projects", 403, rbac.ErrPermission, 1},
		{"a valid role among invalid names still grants",
			func(s *orgRoles) { s.set("a", "alice", "", "ad min", "viewer") }, &alice, "GET", "/orgs/a/projects", 200, nil, 1},
		{"scopes still narrow the store's roles",
			func(s *orgRoles) { s.set("a", "tok", "admin") }, ptr(bearer("tok", nil, []string{"projects:read"})), "DELETE", "/orgs/a/projects/1", 403, rbac.ErrScope, 1},
		{"scopes covering the permission",
			func(s *orgRoles) { s.set("a", "tok", "admin") }, ptr(bearer("tok", nil, []string{"projects:*"})), "DELETE", "/orgs/a/projects/1", 200, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &orgRoles{}
			tt.store(s)
			var got error
			m := newMiddleware(t, rbac.Options{
				Policy:        orgPolicy(t),
				RolesFor:      s.rolesFor,
				ScopedMethods: []identity.Method{identity.MethodBearer},
			})
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.id != nil {
				r = withIdentity(r, *tt.id)
			}
			ctx, reason := problem.WithReason(r.Context())
			w := serve(orgMux(m), r.WithContext(ctx))
			got = reason.Err()
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (reason %v)", w.Code, tt.want, got)
			}
			if n := s.calls.Load(); n != tt.wantCalls {
				t.Errorf("RolesFor called %d times, want %d", n, tt.wantCalls)
			}
			if tt.reason == nil {
				if got != nil {
					t.Errorf("reason %v, want none", got)
				}
				return
			}
			if !errors.Is(got, tt.reason) {
				t.Fatalf("reason %v, want %v", got, tt.reason)
			}
			if st := rbac.StatusOf(got); st != tt.want {
				t.Errorf("StatusOf %d, want %d", st, tt.want)
			}
			if tt.want == http.StatusServiceUnavailable {
				if !errors.Is(got, errDown) {
					t.Errorf("the reason %v does not wrap RolesFor's error", got)
				}
				if ra := w.Header().Get("Retry-After"); ra != "5" {
					t.Errorf("Retry-After %q, want 5", ra)
				}
				if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
					t.Errorf("Content-Type %q", ct)
				}
			}
		})
	}
}

// TestRolesForAcrossRouting: a guard around the mux has no path values,
// the route's guard has them; the second asks again, with the org, rather
// than reuse roles resolved without it. Guards of one route share.
func TestRolesForAcrossRouting(t *testing.T) {
	s := &orgRoles{}
	s.set("", "alice", "viewer")
	s.set("a", "alice", "admin")
	m := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: s.rolesFor})
	h := m.Require("projects:read")(orgMux(m))
	w := serve(h, withIdentity(httptest.NewRequest("DELETE", "/orgs/a/projects/1", nil), principal("alice")))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	if len(s.orgs) != 2 || s.orgs[0] != "" || s.orgs[1] != "a" {
		t.Errorf("RolesFor saw the orgs %q, want [\"\" \"a\"]", s.orgs)
	}

	// The rule table, in front of the mux, shares the same way.
	s.orgs = nil
	tm := newMiddleware(t, rbac.Options{
		Policy:   orgPolicy(t),
		RolesFor: s.rolesFor,
		Rules:    []rbac.Rule{{Pattern: "/orgs/", Requirement: rbac.Requirement{Permissions: []string{"projects:read"}}}},
	})
	w = serve(tm.Handler(orgMux(tm)), withIdentity(httptest.NewRequest("DELETE", "/orgs/a/projects/1", nil), principal("alice")))
	if w.Code != http.StatusOK {
		t.Fatalf("rule table: status %d, want 200", w.Code)
	}
	if len(s.orgs) != 2 || s.orgs[0] != "" || s.orgs[1] != "a" {
		t.Errorf("rule table: RolesFor saw the orgs %q, want [\"\" \"a\"]", s.orgs)
	}

	// Two Middlewares do not share: each asks its own RolesFor.
	s2 := &orgRoles{}
	s2.set("a", "alice", "admin")
	m2 := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: s2.rolesFor})
	s.orgs = nil
	s.calls.Store(0)
	mux := http.NewServeMux()
	mux.Handle("GET /orgs/{org}/projects", m.Require("projects:read")(m2.Require("projects:read")(ok)))
	w = serve(mux, withIdentity(httptest.NewRequest("GET", "/orgs/a/projects", nil), principal("alice")))
	if w.Code != http.StatusOK || s.calls.Load() != 1 || s2.calls.Load() != 1 {
		t.Errorf("status %d, calls %d and %d, want 200, 1 and 1", w.Code, s.calls.Load(), s2.calls.Load())
	}
}

// TestRolesForRuleTable: the table reads RolesFor once per request, for
// every rule and every method a POST asks for.
func TestRolesForRuleTable(t *testing.T) {
	s := &orgRoles{}
	s.set("", "alice", "viewer")
	m := newMiddleware(t, rbac.Options{
		Policy:   orgPolicy(t),
		RolesFor: s.rolesFor,
		Rules: []rbac.Rule{
			{Pattern: "GET /projects/", Requirement: rbac.Requirement{Permissions: []string{"projects:read"}}},
			{Pattern: "DELETE /projects/", Requirement: rbac.Requirement{Permissions: []string{"projects:delete"}}},
			{Pattern: "POST /projects/", Requirement: rbac.Requirement{Permissions: []string{"projects:read"}}},
		},
	})
	h := m.Handler(ok)
	for _, tc := range []struct {
		method, target, override string
		want                     int
	}{
		{"GET", "/projects/1", "", 200},
		{"GET", "//projects/../projects/1", "", 200},
		{"DELETE", "/projects/1", "", 403},
		{"POST", "/projects/1", "GET", 200},
		{"POST", "/projects/1", "DELETE", 403},
	} {
		s.calls.Store(0)
		r := withIdentity(httptest.NewRequest(tc.method, tc.target, nil), principal("alice", "admin"))
		if tc.override != "" {
			r.Header.Set("X-HTTP-Method-Override", tc.override)
		}
		if w := serve(h, r); w.Code != tc.want {
			t.Errorf("%s %s %s: status %d, want %d", tc.method, tc.target, tc.override, w.Code, tc.want)
		}
		if n := s.calls.Load(); n != 1 {
			t.Errorf("%s %s %s: RolesFor called %d times, want 1", tc.method, tc.target, tc.override, n)
		}
	}
}

// TestRolesForCopied: what RolesFor returns is copied, so a store that
// hands out its own slice and changes it later changes no decision.
func TestRolesForCopied(t *testing.T) {
	shared := []string{"admin"}
	m := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: func(*http.Request, identity.Identity) ([]string, error) {
		return shared, nil
	}})
	inner := m.Require("projects:delete")(ok)
	outer := m.Require("projects:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shared[0] = "viewer" // the store demotes while the request is in flight
		inner.ServeHTTP(w, r)
	}))
	if w := serve(outer, withIdentity(httptest.NewRequest("GET", "/", nil), principal("alice"))); w.Code != http.StatusOK {
		t.Errorf("status %d, want 200: the roles resolved at the first guard hold for the request", w.Code)
	}
}

// TestRolesForSubjectChanged: a guard further in, seeing another identity
// than the one the roles were resolved for, asks again.
func TestRolesForSubjectChanged(t *testing.T) {
	var subjects []string
	m := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: func(_ *http.Request, id identity.Identity) ([]string, error) {
		subjects = append(subjects, id.Subject())
		if id.Subject() == "alice" {
			return []string{"admin"}, nil
		}
		return []string{"viewer"}, nil
	}})
	inner := m.Require("projects:delete")(ok)
	outer := m.Require("projects:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, withIdentity(r, principal("bob")))
	}))
	if w := serve(outer, withIdentity(httptest.NewRequest("GET", "/", nil), principal("alice"))); w.Code != http.StatusForbidden {
		t.Errorf("status %d, want 403", w.Code)
	}
	if len(subjects) != 2 || subjects[1] != "bob" {
		t.Errorf("RolesFor saw %q, want [alice bob]", subjects)
	}
}

// TestRolesForPanic: rbac does not recover a panic in RolesFor, as it
// does not recover one in an OwnerFunc or OnReject; errorsafe.Recover,
// outermost, does. The handler is not reached.
func TestRolesForPanic(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: func(*http.Request, identity.Identity) ([]string, error) {
		panic("role store bug")
	}})
	reached := false
	h := m.Require("projects:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer func() {
		if v := recover(); v != "role store bug" {
			t.Errorf("recovered %v, want the panic of RolesFor", v)
		}
		if reached {
			t.Error("the handler ran")
		}
	}()
	serve(h, withIdentity(httptest.NewRequest("GET", "/", nil), principal("alice")))
	t.Error("the panic was swallowed")
}

// TestRolesForCheck: Guard.Check and Middleware.Check, which cannot pass
// a request on, use the roles a Handler further out resolved, or ask.
func TestRolesForCheck(t *testing.T) {
	s := &orgRoles{}
	s.set("", "alice", "admin")
	m := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: s.rolesFor,
		Rules: []rbac.Rule{{Pattern: "/", Requirement: rbac.Requirement{Permissions: []string{"projects:delete"}}}}})
	g, err := m.Guard(rbac.Requirement{Permissions: []string{"projects:delete"}})
	if err != nil {
		t.Fatal(err)
	}
	r := withIdentity(httptest.NewRequest("GET", "/", nil), principal("alice"))
	if err := g.Check(r); err != nil {
		t.Fatalf("Guard.Check: %v", err)
	}
	if err := m.Check(r); err != nil {
		t.Fatalf("Middleware.Check: %v", err)
	}
	if n := s.calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2: nothing carried the roles", n)
	}
	s.calls.Store(0)
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			t.Errorf("Guard.Check behind the guard: %v", err)
		}
		if err := m.Check(r); err != nil {
			t.Errorf("Middleware.Check behind the guard: %v", err)
		}
	}))
	serve(h, r)
	if n := s.calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1: the guard's roles serve the checks behind it", n)
	}
}

func TestRolesForAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in full runs")
	}
	roles := []string{"admin"}
	m := newMiddleware(t, rbac.Options{Policy: orgPolicy(t), RolesFor: func(*http.Request, identity.Identity) ([]string, error) {
		return roles, nil
	}})
	g, err := m.Guard(rbac.Requirement{Permissions: []string{"projects:delete"}})
	if err != nil {
		t.Fatal(err)
	}
	var behind *http.Request
	g.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { behind = r })).ServeHTTP(&discard{}, withIdentity(httptest.NewRequest("GET", "/", nil), principal("alice")))
	if behind == nil {
		t.Fatal("the guard refused")
	}
	if got := testing.AllocsPerRun(200, func() { _ = g.Check(behind) }); got != 0 {
		t.Errorf("a check reusing resolved roles: %v allocations per run, want 0", got)
	}
	// Calling RolesFor: the resolved roles, their copy, the context value
	// and the request carrying it.
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := withIdentity(httptest.NewRequest("GET", "/", nil), principal("alice"))
	w := &discard{}
	if got := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) }); got > 4 {
		t.Errorf("a guard calling RolesFor: %v allocations per run, want at most 4", got)
	}
}

// TestRolesForOfTheIdentityDecidesAsWithout: a RolesFor that returns the
// identity's own roles changes no decision and no reason, through every
// guard of seedMux and every rule of seedRules, for principals with no,
// one, many (past the verdicts a check holds on the stack) or unknown
// roles, scoped or not.
func TestRolesForOfTheIdentityDecidesAsWithout(t *testing.T) {
	scoped := []identity.Method{identity.MethodBearer}
	many := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "guest", "user", "admin"}
	ids := []*identity.Identity{
		nil,
		ptr(principal("gina", "guest")),
		ptr(principal("alice", "user")),
		ptr(principal("root", "admin")),
		ptr(principal("eve", "superuser")),
		ptr(principal("nora")),
		ptr(principal("bob", many...)),
		ptr(bearer("root", []string{"admin"}, []string{"users:read"})),
		ptr(bearer("alice", []string{"user"}, []string{"*"})),
	}
	// A policy where each of many is a role, so that a principal holding
	// them all has more useful roles than a check holds on the stack.
	roles := seedRoles()
	for _, name := range many[:9] {
		roles = append(roles, rbac.Role{Name: name, Permissions: []string{"data:view:public"}})
	}
	p, err := rbac.NewPolicy(roles...)
	if err != nil {
		t.Fatal(err)
	}
	own := func(_ *http.Request, id identity.Identity) ([]string, error) { return id.Roles(), nil }
	plain := newMiddleware(t, rbac.Options{Policy: p, ScopedMethods: scoped, Rules: seedRules()})
	via := newMiddleware(t, rbac.Options{Policy: p, ScopedMethods: scoped, Rules: seedRules(), RolesFor: own})
	plainMux, viaMux := seedMux(t, plain), seedMux(t, via)
	targets := []struct{ method, path string }{
		{"GET", "/public"}, {"GET", "/data"}, {"GET", "/data/alice"}, {"GET", "/data/bob"},
		{"GET", "/users/alice"}, {"GET", "/users/bob"}, {"PUT", "/users/alice"}, {"PUT", "/users/bob"},
		{"DELETE", "/users/bob"}, {"GET", "/admin"}, {"GET", "/admin/x"}, {"GET", "/members"},
		{"GET", "/search"}, {"GET", "/me"}, {"GET", "/reports"}, {"GET", "/private/x"},
		{"GET", "//users/../users/alice"}, {"GET", "/ADMIN/x"}, {"GET", "/healthz"}, {"GET", "/public/x"},
	}
	run := func(h http.Handler, method, path string, id *identity.Identity) (int, error) {
		r := httptest.NewRequest(method, path, nil)
		if id != nil {
			r = withIdentity(r, *id)
		}
		ctx, reason := problem.WithReason(r.Context())
		return serve(h, r.WithContext(ctx)).Code, reason.Err()
	}
	for _, tg := range targets {
		for _, id := range ids {
			for _, h := range []struct {
				name       string
				plain, via http.Handler
			}{
				{"guards", plainMux, viaMux},
				{"rule table", plain.Handler(ok), via.Handler(ok)},
			} {
				wantCode, wantErr := run(h.plain, tg.method, tg.path, id)
				gotCode, gotErr := run(h.via, tg.method, tg.path, id)
				if gotCode != wantCode || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					who := "anonymous"
					if id != nil {
						who = id.Subject()
					}
					t.Errorf("%s, %s %s as %s: %d %v with RolesFor, %d %v without", h.name, tg.method, tg.path, who, gotCode, gotErr, wantCode, wantErr)
				}
			}
		}
	}
}
