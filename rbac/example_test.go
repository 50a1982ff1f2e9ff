package rbac_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// as returns a request for method and target made by a principal with one
// role; an empty role means no identity at all.
func as(role, method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if role == "" {
		return r
	}
	id := identity.New(identity.Options{Subject: role + "-1", Method: identity.MethodSession, Roles: []string{role}})
	return r.WithContext(identity.NewContext(r.Context(), id))
}

func status(h http.Handler, r *http.Request) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// The seed's model: an admin deletes users and views all data; a user
// views and updates their own data; a guest views some data.
func Example() {
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "guest", Permissions: []string{"data:view:public"}},
		rbac.Role{Name: "user", Inherits: []string{"guest"}, Own: []string{"users:read", "users:update"}},
		rbac.Role{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"users:*", "data:*"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	m, err := rbac.New(rbac.Options{Policy: policy})
	if err != nil {
		log.Fatal(err)
	}
	self := rbac.PathValueIsSubject("id")
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

	mux := http.NewServeMux()
	mux.Handle("GET /data/public", m.Require("data:view:public")(noop))
	mux.Handle("GET /data", m.Require("data:view")(noop))
	mux.Handle("GET /users/{id}", m.RequireOwner(self, "users:read")(noop))
	mux.Handle("DELETE /users/{id}", m.Require("users:delete")(noop))

	for _, req := range []struct{ method, target string }{
		{"GET", "/data/public"}, {"GET", "/data"}, {"GET", "/users/user-1"}, {"DELETE", "/users/user-1"},
	} {
		fmt.Printf("%-6s %-13s", req.method, req.target)
		for _, role := range []string{"", "guest", "user", "admin"} {
			fmt.Printf(" %d", status(mux, as(role, req.method, req.target)))
		}
		fmt.Println()
	}
	// Output:
	// GET    /data/public  401 200 200 200
	// GET    /data         401 403 403 200
	// GET    /users/user-1 401 403 200 200
	// DELETE /users/user-1 401 403 403 200
}

func ExampleNew() {
	_, err := rbac.New(rbac.Options{
		Policy:          nil,
		WWWAuthenticate: "Bearer\r\nSet-Cookie: x",
	})
	fmt.Println(err)
	// Output:
	// rbac: Policy: no policy: build one with NewPolicy, MustPolicy, ParsePolicy or LoadPolicy
	// rbac: WWWAuthenticate "Bearer\r\nSet-Cookie: x": invalid option: must be a non-empty header value without control characters
}

func ExampleParsePolicy() {
	_, err := rbac.ParsePolicy([]byte(`{"roles": [
		{"name": "user", "inherits": ["guest"], "permissions": ["users:read", "Users:write"]},
		{"name": "admin", "inherits": ["admin"]},
		{"name": "admin"}
	]}`))
	fmt.Println(err)
	// Output:
	// rbac: role "user": permissions "Users:write": invalid permission: only lowercase ASCII letters, digits and _ - . are allowed in a segment
	// rbac: role "admin": name: duplicate role
	// rbac: role "user": inherits "guest": unknown role
	// rbac: role "admin": inherits "admin": role inheritance cycle: admin -> admin
}

func ExamplePolicy_Matrix() {
	policy := rbac.MustPolicy(
		rbac.Role{Name: "guest", Permissions: []string{"data:view:public"}},
		rbac.Role{Name: "user", Inherits: []string{"guest"}, Own: []string{"users:read", "users:update"}},
		rbac.Role{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"users:*", "data:*"}},
	)
	if err := policy.Matrix("users:delete").WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// role   data:*  data:view:public  users:*  users:delete  users:read  users:update
	// guest  -       allow             -        -             -           -
	// user   -       allow             -        -             own         own
	// admin  allow   allow             allow    allow         allow       allow
}

// A rule table for an application whose routes cannot each carry a guard.
// Non-canonical paths and letter case do not route around it.
func ExampleMiddleware_Handler() {
	m := rbac.MustNew(rbac.Options{
		Policy: rbac.MustPolicy(rbac.Role{Name: "user"}, rbac.Role{Name: "admin", Inherits: []string{"user"}}),
		Rules: []rbac.Rule{
			{Pattern: "GET /healthz", AllowAnonymous: true},
			{Pattern: "/", Requirement: rbac.Requirement{Authenticated: true}},
			{Pattern: "/admin/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		},
	})
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, target := range []string{"/healthz", "/admin/users", "//admin/users", "/healthz/../admin/users", "/ADMIN/users", "/admin/%2e%2e/x"} {
		fmt.Printf("%-24s anonymous %d, user %d, admin %d\n", target,
			status(h, as("", "GET", target)), status(h, as("user", "GET", target)), status(h, as("admin", "GET", target)))
	}
	// Output:
	// /healthz                 anonymous 200, user 200, admin 200
	// /admin/users             anonymous 401, user 403, admin 200
	// //admin/users            anonymous 401, user 403, admin 200
	// /healthz/../admin/users  anonymous 401, user 403, admin 200
	// /ADMIN/users             anonymous 401, user 403, admin 200
	// /admin/%2e%2e/x          anonymous 400, user 400, admin 400
}

// Matching raw path strings by hand is the classic mistake the rule table
// exists to prevent: "//admin/users" does not start with "/admin/", yet
// ServeMux routes it to the admin handler (after a redirect, or directly
// with a router that collapses slashes).
func ExampleMiddleware_Handler_incorrect() {
	m := rbac.MustNew(rbac.Options{Policy: rbac.MustPolicy(rbac.Role{Name: "admin"})})
	adminOnly := m.RequireRole("admin")
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	// Wrong: a prefix test on the raw path.
	wrong := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/admin/") {
			adminOnly(next).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
	fmt.Println("raw prefix test:", status(wrong, as("", "GET", "//admin/users")))
	// Right: attach the guard to the route; the router decides.
	mux := http.NewServeMux()
	mux.Handle("/admin/", adminOnly(next))
	fmt.Println("guarded route:  ", status(mux, as("", "GET", "/admin/users")))
	// Output:
	// raw prefix test: 200
	// guarded route:   401
}

func ExampleMiddleware_RequireOwner() {
	m := rbac.MustNew(rbac.Options{Policy: rbac.MustPolicy(
		rbac.Role{Name: "user", Own: []string{"users:read"}},
		rbac.Role{Name: "admin", Permissions: []string{"users:read"}},
	)})
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read")(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	fmt.Println("user reads self: ", status(mux, as("user", "GET", "/users/user-1")))
	fmt.Println("user reads other:", status(mux, as("user", "GET", "/users/user-2")))
	fmt.Println("admin reads any: ", status(mux, as("admin", "GET", "/users/user-2")))
	// Output:
	// user reads self:  200
	// user reads other: 403
	// admin reads any:  200
}

func ExampleMiddleware_SetPolicy() {
	m := rbac.MustNew(rbac.Options{Policy: rbac.MustPolicy(rbac.Role{Name: "support"})})
	h := m.Require("tickets:close")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	fmt.Println("before:", status(h, as("support", "POST", "/tickets/1/close")))

	// Reload, say on SIGHUP, from a file; a bad file keeps the old policy.
	next, err := rbac.ParsePolicy([]byte(`{"roles":[{"name":"support","permissions":["tickets:*"]}]}`))
	if err != nil {
		log.Print(err)
		return
	}
	if err := m.SetPolicy(next); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after: ", status(h, as("support", "POST", "/tickets/1/close")))
	// Output:
	// before: 403
	// after:  200
}

// Limit bearer tokens to their scopes: a token minted with "users:read"
// cannot delete users even for an admin.
func ExampleOptions_scopedMethods() {
	m := rbac.MustNew(rbac.Options{
		Policy:        rbac.MustPolicy(rbac.Role{Name: "admin", Permissions: []string{"users:*"}}),
		ScopedMethods: []identity.Method{identity.MethodBearer},
	})
	token := identity.New(identity.Options{Subject: "root", Method: identity.MethodBearer,
		Roles: []string{"admin"}, Scopes: []string{"users:read"}})
	fmt.Println(m.Can(token, "users:read"), m.Can(token, "users:delete"))
	// Output: true false
}

// Roles per organisation, decided by the application at each request:
// alice administers org acme and only views org globex, whatever roles her
// token carries, and a change in the table takes effect at the next
// request. RolesFor reads the org path value, which only a guard on the
// route sees: the mux has matched the route by then.
func ExampleOptions_rolesFor() {
	policy := rbac.MustPolicy(
		rbac.Role{Name: "viewer", Permissions: []string{"projects:read"}},
		rbac.Role{Name: "admin", Inherits: []string{"viewer"}, Permissions: []string{"projects:*"}},
	)
	// In production, a query such as
	// SELECT role FROM memberships WHERE org = $1 AND user_id = $2.
	var mu sync.Mutex
	memberships := map[[2]string][]string{
		{"acme", "alice"}:   {"admin"},
		{"globex", "alice"}: {"viewer"},
	}
	m, err := rbac.New(rbac.Options{
		Policy: policy,
		RolesFor: func(r *http.Request, id identity.Identity) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			return memberships[[2]string{r.PathValue("org"), id.Subject()}], nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("GET /orgs/{org}/projects", m.Require("projects:read")(noop))
	mux.Handle("DELETE /orgs/{org}/projects/{id}", m.Require("projects:delete")(noop))

	// alice's token says "viewer" everywhere; the memberships decide.
	alice := identity.New(identity.Options{Subject: "alice", Method: identity.MethodBearer, Roles: []string{"viewer"}})
	do := func(method, target string) {
		r := httptest.NewRequest(method, target, nil)
		r = r.WithContext(identity.NewContext(r.Context(), alice))
		fmt.Println(method, target, status(mux, r))
	}
	do("DELETE", "/orgs/acme/projects/7")
	do("DELETE", "/orgs/globex/projects/7")
	do("GET", "/orgs/globex/projects")
	do("GET", "/orgs/initech/projects")

	mu.Lock()
	memberships[[2]string{"acme", "alice"}] = []string{"viewer"} // demoted
	mu.Unlock()
	do("DELETE", "/orgs/acme/projects/7")
	// Output:
	// DELETE /orgs/acme/projects/7 200
	// DELETE /orgs/globex/projects/7 403
	// GET /orgs/globex/projects 200
	// GET /orgs/initech/projects 403
	// DELETE /orgs/acme/projects/7 403
}
