package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/testenv"
)

// server is the example's handler with its demo users.
type server struct {
	h     http.Handler
	token map[string]string // subject -> bearer token
	logs  *testenv.LogBuffer
}

func newServer(t *testing.T) *server {
	t.Helper()
	policy, err := loadPolicy("")
	if err != nil {
		t.Fatal(err)
	}
	users := demoUsers()
	logs := new(testenv.LogBuffer)
	h, _, err := newHandler(policy, users, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{h: h, token: map[string]string{}, logs: logs}
	for _, u := range users {
		s.token[u.subject] = string(u.token)
	}
	return s
}

// do sends one request as who ("" for no Authorization header, "unknown"
// for a token no user has) to the raw request target, as curl
// --path-as-is sends it.
func (s *server) do(t *testing.T, method, target, who string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	switch who {
	case "":
	case "unknown":
		req.Header.Set("Authorization", "Bearer demo-NOTATOKEN")
	default:
		tok, ok := s.token[who]
		if !ok {
			t.Fatalf("no demo user %q", who)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w
}

func principal(who string) string {
	if who == "" {
		return "anonymous"
	}
	return who
}

// follow sends the request and, while it is redirected, sends it again to
// the new location with the same method and credentials, as a client
// following redirects does. It returns each hop's status and the last
// response.
func (s *server) follow(t *testing.T, method, target, who string) ([]int, *httptest.ResponseRecorder) {
	t.Helper()
	var hops []int
	for range 5 {
		w := s.do(t, method, target, who)
		hops = append(hops, w.Code)
		if w.Code < 300 || w.Code > 399 {
			return hops, w
		}
		target = w.Header().Get("Location")
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
			t.Fatalf("%s redirected off the server to %q", method, target)
		}
	}
	t.Fatalf("%s %s: too many redirects %v", method, target, hops)
	return nil, nil
}

// checkStatus asserts the status and, for a rejection, the documented
// shape: 401 with the Bearer challenge, 403 without one, both no-store
// with a generic body that names nothing of the policy.
func checkStatus(t *testing.T, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; body %q", w.Code, want, w.Body.String())
	}
	if want != http.StatusUnauthorized && want != http.StatusForbidden {
		return
	}
	challenge := w.Header().Get("WWW-Authenticate")
	if want == http.StatusUnauthorized && challenge != `Bearer realm="rbac-demo"` {
		t.Errorf("401 WWW-Authenticate %q, want the Bearer challenge", challenge)
	}
	if want == http.StatusForbidden && challenge != "" {
		t.Errorf("403 carries a challenge %q", challenge)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("rejection Cache-Control %q, want no-store", cc)
	}
	if body := w.Body.String(); body != http.StatusText(want)+"\n" {
		t.Errorf("rejection body %q, want the generic %q", body, http.StatusText(want))
	}
}

// The curl commands of the package comment, in order, with what they are
// documented to return.
func TestDocumentedCommands(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		method, target, who string
		status              int
		body                string // the exact body of a 2xx answer
	}{
		{"GET", "/data/public", "", 401, ""},
		{"GET", "/data/public", "guest", 200, "public data, for everyone signed in\n"},
		{"GET", "/data", "guest", 403, ""},
		{"GET", "/users/bob", "bob", 200, `{"id":"bob"}` + "\n"},
		{"GET", "/users/alice", "bob", 403, ""},
		{"PUT", "/users/bob", "bob", 200, "updated\n"},
		{"DELETE", "/users/carol", "bob", 403, ""},
		{"DELETE", "/users/carol", "alice", 200, "deleted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target+" as "+principal(tt.who), func(t *testing.T) {
			w := s.do(t, tt.method, tt.target, tt.who)
			checkStatus(t, w, tt.status)
			if tt.status == 200 && w.Body.String() != tt.body {
				t.Errorf("body %q, want %q", w.Body.String(), tt.body)
			}
		})
	}

	t.Run("the effective permission matrix", func(t *testing.T) {
		w := s.do(t, "GET", "/admin/matrix", "alice")
		checkStatus(t, w, 200)
		if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
			t.Errorf("matrix Content-Type %q, Cache-Control %q", ct, cc)
		}
		var m struct {
			Roles       []string   `json:"roles"`
			Permissions []string   `json:"permissions"`
			Grants      [][]string `json:"grants"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("matrix %q: %v", w.Body.String(), err)
		}
		grant := map[string]string{}
		for i, role := range m.Roles {
			if i >= len(m.Grants) || len(m.Grants[i]) != len(m.Permissions) {
				t.Fatalf("matrix grants %v do not match roles %v × permissions %v", m.Grants, m.Roles, m.Permissions)
			}
			for j, perm := range m.Permissions {
				grant[role+" "+perm] = m.Grants[i][j]
			}
		}
		for cell, want := range map[string]string{
			"guest data:view:public": "allow", "guest data:view": "deny", "guest users:read": "deny",
			"user data:view:public": "allow", "user data:view": "own", "user users:read": "own",
			"user users:update": "own", "user users:delete": "deny",
			"admin users:delete": "allow", "admin data:view": "allow",
		} {
			if grant[cell] != want {
				t.Errorf("matrix %s: %q, want %q", cell, grant[cell], want)
			}
		}
	})

	t.Run("//admin/matrix as bob is redirected and guarded", func(t *testing.T) {
		w := s.do(t, "GET", "//admin/matrix", "bob")
		if w.Code != muxRedirect || w.Header().Get("Location") != "/admin/matrix" {
			t.Fatalf("%d to %q, want %d to /admin/matrix", w.Code, w.Header().Get("Location"), muxRedirect)
		}
		_, w = s.follow(t, "GET", "//admin/matrix", "bob")
		checkStatus(t, w, 403)
	})
}

// Each refusal is in the access log with its status and the reason rbac
// recorded, and the bearer token, known or not, is not.
func TestRejectionLogged(t *testing.T) {
	s := newServer(t)
	checkStatus(t, s.do(t, "GET", "/data", "unknown"), 401)
	checkStatus(t, s.do(t, "GET", "/users/alice", "bob"), 403)
	var statuses []float64
	for _, rec := range s.logs.Records(t) {
		if rec["msg"] != "http request" {
			continue
		}
		st, _ := rec["status"].(float64)
		statuses = append(statuses, st)
		if reason, _ := rec["reason"].(string); !strings.HasPrefix(reason, "rbac: ") {
			t.Errorf("access record %v: want the rbac reason", rec)
		}
	}
	if len(statuses) != 2 || statuses[0] != 401 || statuses[1] != 403 {
		t.Errorf("access records with statuses %v, want 401 and 403", statuses)
	}
	for _, secret := range []string{"demo-NOTATOKEN", "NOTATOKEN", s.token["bob"]} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the log holds the token %q: %s", secret, s.logs.String())
		}
	}
}

// Each route against each principal: no identity and an unknown token
// get 401, a role without the permission 403, the rest 2xx.
func TestRolesAgainstRoutes(t *testing.T) {
	s := newServer(t)
	who := []string{"", "unknown", "guest", "bob", "carol", "alice"}
	tests := []struct {
		method, target string
		want           []int // in the order of who
		body           string
	}{
		{"GET", "/", []int{200, 200, 200, 200, 200, 200}, "rbac demo"},
		{"GET", "/me", []int{401, 401, 200, 200, 200, 200}, `"subject"`},
		{"GET", "/data/public", []int{401, 401, 200, 200, 200, 200}, "public data"},
		{"GET", "/data", []int{401, 401, 403, 403, 403, 200}, "all data"},
		{"GET", "/data/bob", []int{401, 401, 403, 200, 403, 200}, "one user's data"},
		{"GET", "/users/bob", []int{401, 401, 403, 200, 403, 200}, `{"id":"bob"}`},
		{"PUT", "/users/bob", []int{401, 401, 403, 200, 403, 200}, "updated"},
		{"DELETE", "/users/carol", []int{401, 401, 403, 403, 403, 200}, "deleted"},
		{"GET", "/admin/matrix", []int{401, 401, 403, 403, 403, 200}, `"grants"`},
	}
	for _, tt := range tests {
		for i, p := range who {
			t.Run(tt.method+" "+tt.target+" as "+principal(p), func(t *testing.T) {
				w := s.do(t, tt.method, tt.target, p)
				checkStatus(t, w, tt.want[i])
				if w.Code == 200 && !strings.Contains(w.Body.String(), tt.body) {
					t.Errorf("body %q, want it to contain %q", w.Body.String(), tt.body)
				}
			})
		}
	}

	// /me reports the identity demoAuth put in the context.
	w := s.do(t, "GET", "/me", "carol")
	var me struct {
		Subject string   `json:"subject"`
		Roles   []string `json:"roles"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || me.Subject != "carol" || len(me.Roles) != 1 || me.Roles[0] != "user" {
		t.Errorf("/me as carol: %q (%v)", w.Body.String(), err)
	}

	// Only the Bearer scheme carries a token (its name in any case).
	for _, auth := range []string{"Basic " + s.token["alice"], s.token["alice"], "Bearer", "Bearer " + s.token["alice"] + "x"} {
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, req)
		checkStatus(t, w, 401)
	}
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Authorization", "bearer "+s.token["alice"])
	w = httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	checkStatus(t, w, 200)
}

// A role gets what it grants and what it inherits, nothing more: a guest
// does not get the user role's own-data grants on its own subject, a user
// does not get the admin role's grants on its own records or on all data,
// and an own-only grant does not reach another user's record.
func TestLeastPrivilege(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		why, method, target, who string
	}{
		{"guest lacks user's own data:view", "GET", "/data/guest", "guest"},
		{"guest lacks user's own users:read", "GET", "/users/guest", "guest"},
		{"guest lacks user's own users:update", "PUT", "/users/guest", "guest"},
		{"user's data:view is own-only, not all data", "GET", "/data", "bob"},
		{"user lacks admin's users:delete, even on themselves", "DELETE", "/users/bob", "bob"},
		{"user lacks admin's users:delete", "DELETE", "/users/alice", "carol"},
		{"user lacks admin's users:update on others", "PUT", "/users/alice", "bob"},
		{"user lacks admin's data:view on others", "GET", "/data/carol", "bob"},
		{"user is not in the admin role", "GET", "/admin/matrix", "carol"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			checkStatus(t, s.do(t, tt.method, tt.target, tt.who), 403)
		})
	}
	// The same routes are open to the role that does grant them.
	for _, tt := range tests {
		if w := s.do(t, tt.method, tt.target, "alice"); w.Code != 200 {
			t.Errorf("%s %s as alice: %d, want 200", tt.method, tt.target, w.Code)
		}
	}
}

// A request that reaches a guarded handler by another spelling of its
// path still meets the guard: ServeMux either does not route the
// spelling (404, 405), redirects it to the clean path, guarded there, or
// routes it to the guarded handler. None gets the handler's answer.
func TestPathTricks(t *testing.T) {
	if muxRedirect != http.StatusMovedPermanently && muxRedirect != http.StatusTemporaryRedirect {
		t.Fatalf("ServeMux redirects an unclean path with %d", muxRedirect)
	}
	s := newServer(t)
	tests := []struct {
		method, target, who string
		hops                []int // each response's status, redirects first
	}{
		// trailing slash
		{"GET", "/admin/matrix/", "bob", []int{404}},
		{"GET", "/users/alice/", "bob", []int{404}},
		{"DELETE", "/users/carol/", "bob", []int{404}},
		{"GET", "/data/", "guest", []int{404}},
		// "//"
		{"GET", "//admin/matrix", "bob", []int{muxRedirect, 403}},
		{"GET", "//admin/matrix", "", []int{muxRedirect, 401}},
		{"GET", "/admin//matrix", "bob", []int{muxRedirect, 403}},
		{"GET", "//users/alice", "bob", []int{muxRedirect, 403}},
		{"PUT", "//users/alice", "bob", []int{muxRedirect, 403}},
		{"DELETE", "//users/carol", "bob", []int{muxRedirect, 403}},
		{"GET", "//data", "guest", []int{muxRedirect, 403}},
		// "/./" and "/../"
		{"GET", "/./admin/matrix", "bob", []int{muxRedirect, 403}},
		{"GET", "/admin/./matrix", "bob", []int{muxRedirect, 403}},
		{"GET", "/data/../admin/matrix", "bob", []int{muxRedirect, 403}},
		{"GET", "/users/bob/../alice", "bob", []int{muxRedirect, 403}},
		{"DELETE", "/users/bob/../carol", "bob", []int{muxRedirect, 403}},
		{"GET", "/data/public/..", "guest", []int{muxRedirect, 403}},
		{"GET", "/data/public/../../data", "guest", []int{muxRedirect, 403}},
		// percent-encoding: "%2F" is not a separator, so the path names no
		// route, or a record that is not the caller's
		{"GET", "/admin%2Fmatrix", "bob", []int{404}},
		{"GET", "/admin%2fmatrix", "bob", []int{404}},
		{"GET", "/data%2Fpublic/..%2F..%2Fdata", "guest", []int{404}},
		{"GET", "/users/bob%2F..%2Falice", "bob", []int{403}},
		{"PUT", "/users/bob%2F..%2Falice", "bob", []int{403}},
		{"GET", "/users/%2e%2e/alice", "bob", []int{404}},
		{"GET", "/%61dmin/matrix", "bob", []int{403}},
		// letter case: paths and owners are compared exactly
		{"GET", "/ADMIN/MATRIX", "bob", []int{404}},
		{"GET", "/Admin/matrix", "bob", []int{404}},
		{"GET", "/DATA", "guest", []int{404}},
		{"DELETE", "/USERS/carol", "bob", []int{404}},
		{"GET", "/users/ALICE", "bob", []int{403}},
		{"GET", "/users/Bob", "bob", []int{403}},
		{"get", "/admin/matrix", "bob", []int{405}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target+" as "+principal(tt.who), func(t *testing.T) {
			hops, w := s.follow(t, tt.method, tt.target, tt.who)
			if len(hops) != len(tt.hops) || hops[0] != tt.hops[0] {
				t.Fatalf("statuses %v, want %v; body %q", hops, tt.hops, w.Body.String())
			}
			checkStatus(t, w, tt.hops[len(tt.hops)-1])
		})
	}
}

// muxRedirect is the status net/http's ServeMux answers an unclean path
// with: 301 Moved Permanently up to Go 1.25, 307 Temporary Redirect since
// Go 1.26. The module supports both.
var muxRedirect = func() int {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(http.ResponseWriter, *http.Request) {})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "//a", nil))
	return w.Code
}()

// This server speaks plain HTTP and takes bearer tokens: an address off
// loopback is refused, not served in clear.
func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080":    true,
		"[::1]:8080":        true,
		"localhost:8080":    true,
		":8080":             false,
		"0.0.0.0:8080":      false,
		"[::]:8080":         false,
		"192.168.1.10:8080": false,
		"example.com:8080":  false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want accepted %v", addr, err, ok)
		}
	}
}

// Whoever can write the -policy file can grant any permission: a file
// every user of the machine may write is refused, at start and at a
// reload, and one only its owner and group may write is loaded.
func TestPolicyFileWritableByAll(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(`{"roles": [{"name": "guest", "permissions": ["data:view:public"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPolicy(path); err == nil || !strings.Contains(err.Error(), "writable by every user") {
		t.Errorf("a policy file of mode 0666: %v, want it refused", err)
	}
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPolicy(path); err != nil {
		t.Errorf("a policy file of mode 0664: %v", err)
	}
}
