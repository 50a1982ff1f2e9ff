// Command rbac is a runnable server showing the rbac package with the
// roles of the project's brief: an admin deletes users and views all data,
// a user views and updates their own data, a guest views some data.
//
//	go run ./examples/rbac                   # listens on 127.0.0.1:8080
//	go run ./examples/rbac -addr 127.0.0.1:9090
//	go run ./examples/rbac -policy policy.json   # reloaded on SIGHUP; refused if every user may write it
//
// At start it prints one demo bearer token per user. With them:
//
//	curl -i localhost:8080/data/public                                     # 401: no identity
//	curl -i -H "Authorization: Bearer $GUEST" localhost:8080/data/public   # 200: guests view public data
//	curl -i -H "Authorization: Bearer $GUEST" localhost:8080/data          # 403: only admins view all data
//	curl -i -H "Authorization: Bearer $BOB"   localhost:8080/users/bob     # 200: a user reads their own record
//	curl -i -H "Authorization: Bearer $BOB"   localhost:8080/users/alice   # 403: ...and no one else's
//	curl -i -X PUT -H "Authorization: Bearer $BOB" localhost:8080/users/bob      # 200: and updates it
//	curl -i -X DELETE -H "Authorization: Bearer $BOB" localhost:8080/users/carol # 403
//	curl -i -X DELETE -H "Authorization: Bearer $ALICE" localhost:8080/users/carol # 200: admins delete users
//	curl -i -H "Authorization: Bearer $ALICE" localhost:8080/admin/matrix  # the effective permission matrix
//	curl -i -H "Authorization: Bearer $BOB" --path-as-is localhost:8080//admin/matrix  # redirected to /admin/matrix, guarded there
//
// Authentication here is a DEMO STAND-IN for the auth package: a fixed map
// of demo users to random tokens generated at each start. It exists only so
// this example does not depend on auth; a real service verifies JWTs, API
// keys or sessions with auth or session, which put the same
// identity.Identity in the request context. The bearer tokens travel in
// clear over this plain HTTP server, so an -addr off loopback is refused:
// serve HTTPS elsewhere (see examples/https).
//
// Each request is logged on stderr by errorsafe, a 401 or 403 with the
// reason rbac recorded (which permission was missing), never the token;
// the client gets only a generic body.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// seedPolicy is used when -policy is not given. The same policy as JSON:
//
//	{"roles": [
//	  {"name": "guest", "permissions": ["data:view:public"]},
//	  {"name": "user", "inherits": ["guest"], "own": ["users:read", "users:update", "data:view"]},
//	  {"name": "admin", "inherits": ["user"], "permissions": ["users:*", "data:*"]}
//	]}
var seedPolicy = []rbac.Role{
	{Name: "guest", Description: "views some data", Permissions: []string{"data:view:public"}},
	{Name: "user", Description: "views and updates their own data", Inherits: []string{"guest"},
		Own: []string{"users:read", "users:update", "data:view"}},
	{Name: "admin", Description: "deletes users and views all data", Inherits: []string{"user"},
		Permissions: []string{"users:*", "data:*"}},
}

// demoUser is one principal of the demo stand-in for auth.
type demoUser struct {
	subject, role string
	token         []byte
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on: a loopback one, since this server speaks plain HTTP")
	policyFile := flag.String("policy", "", "JSON policy file (default: the built-in seed policy); reloaded on SIGHUP")
	flag.Parse()

	if err := checkLoopback(*addr); err != nil {
		log.Fatal(err)
	}
	policy, err := loadPolicy(*policyFile)
	if err != nil {
		log.Fatal(err)
	}
	users := demoUsers()
	handler, m, err := newHandler(policy, users, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := https.NewServer(https.ServerOptions{Addr: *addr, Handler: handler})
	if err != nil {
		log.Fatal(err)
	}
	if *policyFile != "" {
		go reloadOnHUP(m, *policyFile)
	}

	fmt.Fprintln(os.Stderr, "WARNING: DEMO AUTHENTICATION. These tokens are random for this run only and stand in for the auth package:")
	for _, u := range users {
		fmt.Fprintf(os.Stderr, "  export %s=%s   # %s, role %s\n", strings.ToUpper(u.subject), u.token, u.subject, u.role)
	}
	fmt.Fprintln(os.Stderr, "Effective permissions:")
	_ = m.Matrix().WriteText(os.Stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("listening on http://%s", *addr)
	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Printf("shutdown: %v", err)
	}
}

// newHandler returns the routes, each with its guard, behind the demo
// authentication and errorsafe, outermost last, and the rbac middleware,
// whose policy can be swapped. errorsafe logs to logger; nil means the
// default slog logger.
func newHandler(policy *rbac.Policy, users []demoUser, logger *slog.Logger) (http.Handler, *rbac.Middleware, error) {
	m, err := rbac.New(rbac.Options{
		Policy: policy,
		// Rejections are answered with a generic body: the reason (which
		// permission was missing), recorded by rbac, goes to errorsafe's
		// access log, for the operator, never to the client.
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			status := rbac.StatusOf(err)
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="rbac-demo"`)
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, http.StatusText(status), status)
		},
	})
	if err != nil {
		return nil, nil, err
	}
	mux, err := routes(m)
	if err != nil {
		return nil, nil, err
	}

	// errorsafe outermost: one access record per request on stderr, with
	// the reason of a rejection and the Authorization header redacted.
	es, err := errorsafe.New(errorsafe.Options{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return es.Handler(demoAuth(users, mux)), m, nil
}

// routes attaches a requirement to every route: the router's own decision
// is the one that is guarded.
func routes(m *rbac.Middleware) (*http.ServeMux, error) {
	self := rbac.PathValueIsSubject("id")
	me, err := m.Guard(rbac.Requirement{Authenticated: true})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "rbac demo: see the package documentation for curl commands")
	})
	mux.Handle("GET /me", me.Handler(http.HandlerFunc(whoami)))
	mux.Handle("GET /data/public", m.Require("data:view:public")(text("public data, for everyone signed in")))
	mux.Handle("GET /data", m.Require("data:view")(text("all data, for admins")))
	mux.Handle("GET /data/{id}", m.RequireOwner(self, "data:view")(text("one user's data, for them and admins")))
	mux.Handle("GET /users/{id}", m.RequireOwner(self, "users:read")(http.HandlerFunc(showUser)))
	mux.Handle("PUT /users/{id}", m.RequireOwner(self, "users:update")(text("updated")))
	mux.Handle("DELETE /users/{id}", m.Require("users:delete")(text("deleted")))
	mux.Handle("GET /admin/matrix", m.RequireRole("admin")(m.MatrixHandler()))
	return mux, nil
}

func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, s)
	})
}

func whoami(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"subject": id.Subject(), "roles": id.Roles()})
}

func showUser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// The path value is safe to echo here: the guard admitted only the
	// owner or an admin, and JSON encoding escapes it.
	_ = json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id")})
}

// demoUsers returns the demo principals with a fresh random token each.
func demoUsers() []demoUser {
	users := []demoUser{
		{subject: "alice", role: "admin"},
		{subject: "bob", role: "user"},
		{subject: "carol", role: "user"},
		{subject: "guest", role: "guest"},
	}
	for i := range users {
		users[i].token = []byte("demo-" + rand.Text())
	}
	return users
}

// demoAuth is the DEMO STAND-IN for the auth package: it reads
// "Authorization: Bearer <token>", compares the token with every demo
// token in constant time, and on a match puts the user's identity in the
// request context. A missing or unknown token leaves the request
// anonymous; the rbac guards then answer 401.
func demoAuth(users []demoUser, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if found && strings.EqualFold(scheme, "Bearer") {
			match := -1
			for i, u := range users { // no early exit: every token is compared
				if subtle.ConstantTimeCompare([]byte(token), u.token) == 1 {
					match = i
				}
			}
			if match >= 0 {
				u := users[match]
				id := identity.New(identity.Options{Subject: u.subject, Method: identity.MethodBearer, Roles: []string{u.role}})
				r = r.WithContext(identity.NewContext(r.Context(), id))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loadPolicy returns the policy of file, or the seed policy when file is
// empty.
func loadPolicy(file string) (*rbac.Policy, error) {
	if file == "" {
		return rbac.NewPolicy(seedPolicy...)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Whoever can write the policy can grant any permission: a file every
	// user of the machine may write is refused. The mode is read from the
	// open file, so the file checked is the file read.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o002 != 0 {
		return nil, fmt.Errorf("%s is writable by every user (mode %#o), who could grant any permission: chmod o-w %[1]s", file, perm)
	}
	return rbac.LoadPolicy(f)
}

// reloadOnHUP reloads the policy file on SIGHUP. A file that fails to load
// keeps the policy in force.
func reloadOnHUP(m *rbac.Middleware, file string) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	for range hup {
		p, err := loadPolicy(file)
		if err != nil {
			log.Printf("policy reload failed, keeping the current policy: %v", err)
			continue
		}
		if err := m.SetPolicy(p); err != nil {
			log.Printf("policy reload failed: %v", err)
			continue
		}
		log.Printf("policy reloaded: roles %s", strings.Join(slices.Sorted(slices.Values(p.RoleNames())), ", "))
	}
}

// checkLoopback refuses a listen address off loopback: this server speaks
// plain HTTP, and a bearer token sent to it, an admin's included, is in
// clear to anyone on the network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.IsLoopback()) {
		return fmt.Errorf("-addr %s: plain HTTP off loopback would send bearer tokens in clear; listen on a loopback address and serve HTTPS elsewhere", addr)
	}
	return nil
}
