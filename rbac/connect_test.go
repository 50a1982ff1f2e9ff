package rbac_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// Found in review: ServeMux does not clean the path of a CONNECT request,
// and there a wildcard matches an empty segment, so "CONNECT
// //admin/settings" ran the handler of "/{tenant}/admin/settings" while
// the rule table, whose wildcards never match "", applied the anonymous
// "/" rule. A real server, with raw request lines.
func TestConnectEmptySegmentEndToEnd(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/{tenant}/admin/settings", Requirement: rbac.Requirement{Permissions: []string{"users:delete"}}},
	}})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "public") })
	mux.HandleFunc("/{tenant}/admin/settings", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "admin settings")
	})
	srv := httptest.NewServer(demoAuth(m.Handler(mux)))
	defer srv.Close()

	tests := []struct {
		method, target, user string
		want                 int
		body                 string
	}{
		{"CONNECT", "//admin/settings", "", 400, ""},
		{"CONNECT", "//admin/settings", "root:admin", 400, ""},
		{"CONNECT", "/acme//admin/settings", "", 400, ""},
		{"CONNECT", "/./admin/settings", "", 400, ""},
		{"CONNECT", "/acme/admin/settings", "", 401, ""},
		{"CONNECT", "/acme/admin/settings", "gina:guest", 403, ""},
		{"CONNECT", "/acme/admin/settings", "root:admin", 200, "admin settings"},
		{"CONNECT", "/acme/x", "", 200, "public"},
		{"GET", "/acme/admin/settings", "", 401, ""},
		{"GET", "/acme/admin/settings", "root:admin", 200, "admin settings"},
		// Not CONNECT: ServeMux redirects to the clean path
		// "/admin/settings", which is public, but a router that does
		// not clean paths (httprouter, gin) runs the handler of
		// "/{tenant}/admin/settings" with tenant "", so its rule
		// applies too.
		{"GET", "//admin/settings", "", 401, ""},
		{"GET", "//admin/settings", "root:admin", 3, ""},
	}
	for _, tt := range tests {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		req := tt.method + " " + tt.target + " HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n"
		if tt.user != "" {
			req += "X-Demo-User: " + tt.user + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if tt.want == 3 && resp.StatusCode/100 == 3 {
			continue
		}
		if resp.StatusCode != tt.want || tt.body != "" && string(body) != tt.body {
			t.Errorf("%s %s as %q: %d %q, want %d %q", tt.method, tt.target, tt.user, resp.StatusCode, body, tt.want, tt.body)
		}
	}
}

// Found in review: "CONNECT /users//keys/" reached the handler of
// "/users/{id}/keys/{k...}" (id="") under the anonymous "/" rule.
func TestConnectEmptyWildcardBeforeMultiWildcard(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/users/{id}/keys/{k...}", Requirement: rbac.Requirement{Permissions: []string{"users:read"}}},
	}})
	check := func(method, target string) error {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: e.com\r\n\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		return m.Check(r)
	}
	for _, method := range []string{"CONNECT", "connect"} {
		for _, target := range []string{"/users//keys/", "/users//keys/x", "/users/bob//keys/", "/users/bob/../x"} {
			if err := check(method, target); !errors.Is(err, rbac.ErrAmbiguousPath) {
				t.Errorf("%s %s: %v, want ErrAmbiguousPath", method, target, err)
			}
		}
	}
	// A clean CONNECT path is matched as any other request.
	if err := check("CONNECT", "/users/bob/keys/x"); !errors.Is(err, rbac.ErrUnauthenticated) {
		t.Errorf("CONNECT /users/bob/keys/x: %v, want ErrUnauthenticated", err)
	}
	if err := check("CONNECT", "/other"); err != nil {
		t.Errorf("CONNECT /other: %v, want nil", err)
	}
	// Other methods keep their readings: ServeMux cleans the path (and
	// redirects), so "/users//keys/" is not refused, but a router that
	// does not clean paths routes it to "/users/{id}/keys/{k...}" with
	// id "", so that rule applies too.
	if err := check("GET", "/users//keys/"); !errors.Is(err, rbac.ErrUnauthenticated) {
		t.Errorf("GET /users//keys/: %v, want ErrUnauthenticated", err)
	}
	// An authority-form CONNECT has an empty path, which ServeMux routes
	// nowhere; it is read as "/", as before.
	if err := check("CONNECT", "example.com:443"); err != nil {
		t.Errorf("CONNECT example.com:443: %v, want nil", err)
	}
}

// muxDiff is a rule table and a ServeMux with the same patterns. Rule i
// requires role "r<i>" (one of the roles), except the anonymous "/", so
// the roles a request needs tell which rules the table applied.
type muxDiff struct {
	patterns []string
	m        *rbac.Middleware
	mux      *http.ServeMux
	hit      string
	// sent, routed and exact count requests sent, requests ServeMux ran
	// a protected handler for, and those checked to need that rule alone;
	// connect counts the exact ones that were CONNECT.
	sent, routed, exact, connect int
	// allBut[i] has every role but rule i's; only[i] has rule i's alone.
	allBut, only []identity.Identity
}

func newMuxDiff(t testing.TB, patterns []string) *muxDiff {
	d := &muxDiff{patterns: patterns, mux: http.NewServeMux()}
	rules := []rbac.Rule{{Pattern: "/", AllowAnonymous: true}}
	var roles []rbac.Role
	var names []string
	for i, p := range patterns {
		name := "r" + string(rune('a'+i))
		roles = append(roles, rbac.Role{Name: name})
		names = append(names, name)
		rules = append(rules, rbac.Rule{Pattern: p, Requirement: rbac.Requirement{Roles: []string{name}}})
	}
	for i, name := range names {
		others := append(append([]string{}, names[:i]...), names[i+1:]...)
		d.allBut = append(d.allBut, principal("s", others...))
		d.only = append(d.only, principal("s", name))
	}
	d.m = newMiddleware(t, rbac.Options{Policy: rbac.MustPolicy(roles...), Rules: rules})
	for _, p := range append(patterns, "/") {
		d.mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) { d.hit = p })
	}
	return d
}

// check sends one request and reports a disagreement with ServeMux: the
// handler ServeMux runs must be one whose rule the table requires, and a
// clean path in canonical case must need that rule alone.
func (d *muxDiff) check(t testing.TB, method, target string) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: e.com\r\n\r\n")))
	if err != nil {
		return
	}
	d.sent++
	if errors.Is(d.m.Check(r), rbac.ErrAmbiguousPath) {
		return
	}
	d.hit = ""
	d.mux.ServeHTTP(httptest.NewRecorder(), r)
	if d.hit == "" || d.hit == "/" {
		return // a redirect, 404, 405 or the public handler
	}
	d.routed++
	i := 0
	for d.patterns[i] != d.hit {
		i++
	}
	if err := d.m.Check(r); err == nil {
		t.Errorf("anonymous %s %s reached %q", method, target, d.hit)
	}
	if err := d.m.Check(withIdentity(r, d.allBut[i])); err == nil {
		t.Errorf("%s %s reached %q without its rule's role", method, target, d.hit)
	}
	p := r.URL.Path
	if p != "" && path.Clean(p) == strings.TrimSuffix(p, "/") || p == "/" {
		if strings.ToLower(p) == p && strings.ToUpper(method) == method {
			d.exact++
			if method == http.MethodConnect {
				d.connect++
			}
			if err := d.m.Check(withIdentity(r, d.only[i])); err != nil {
				t.Errorf("%s %s: ServeMux runs %q, but its rule's role is refused: %v", method, target, d.hit, err)
			}
		}
	}
}

// diffTables are rule tables for muxDiff; patterns that conflict in
// ServeMux go in different tables.
var diffTables = [][]string{
	{"/admin/", "/admin", "GET /users/{id}", "/users/{id}/keys/{k...}", "/files/{p...}", "POST /api/{$}",
		"/api/v1/secret", "DELETE /users/{id}", "/x/{a}/y", "/x/{a}/", "HEAD /h", "GET /{$}", "CONNECT /c/{x}"},
	{"/{tenant}/admin/settings", "/{a}/{b}/", "/{a}/{b}/{c}/{d}", "/{x}/{$}", "GET /{a}"},
}

// diffCaseTable has literals with capitals and non-ASCII letters, methods
// in odd case, a semicolon, OPTIONS and PATCH: the table must cover the
// handler ServeMux runs for any spelling of the path and method.
var diffCaseTable = []string{"/Admin/", "GET /Ärzte/{id}", "/ſecret", "get /lower/x", "Get /mixed/{a}",
	"OPTIONS /o", "PATCH /p/{x...}", "/semi;colon/", "/k/{a}/K/"}

var diffMethods = []string{"GET", "HEAD", "POST", "DELETE", "CONNECT", "connect", "get"}

// Found in review: a differential test against ServeMux, over paths with
// empty segments, "." and "..", encoded slashes and dots, for CONNECT and
// other methods, found CONNECT requests reaching handlers under the
// anonymous rule.
func TestRuleTableAgreesWithServeMuxDifferential(t *testing.T) {
	segs := []string{"admin", "users", "bob", "keys", "api", "x", "y", "h", "c", "settings",
		"", ".", "..", "%2e", "%2F", "ADMIN"}
	depth := 3
	if testing.Short() {
		depth = 2
	}
	for _, patterns := range diffTables {
		d := newMuxDiff(t, patterns)
		d.walk(t, "", segs, diffMethods, depth)
		t.Logf("%d requests, %d routed to a protected handler, %d checked exactly (%d CONNECT)", d.sent, d.routed, d.exact, d.connect)
		if d.connect == 0 && !t.Failed() {
			t.Error("no clean CONNECT request reached a protected handler: the test checks nothing for CONNECT")
		}
	}
}

// walk checks, with each of methods, every path of up to depth segments
// from segs below prefix, with and without a trailing slash, until the
// test fails.
func (d *muxDiff) walk(t *testing.T, prefix string, segs, methods []string, depth int) {
	t.Helper()
	if depth == 0 || t.Failed() {
		return
	}
	for _, s := range segs {
		p := prefix + "/" + s
		for _, method := range methods {
			d.check(t, method, p)
			d.check(t, method, p+"/")
		}
		d.walk(t, p, segs, methods, depth-1)
	}
}

// The differential test on diffCaseTable, with every spelling of its
// literals and methods.
func TestRuleTableAgreesWithServeMuxOnCase(t *testing.T) {
	segs := []string{"admin", "Admin", "ADMIN", "ärzte", "Ärzte", "ÄRZTE", "bob", "secret", "ſecret", "SECRET",
		"lower", "LOWER", "x", "mixed", "o", "p", "k", "K", "semi;colon", "SEMI;COLON", ";jsessionid=1", "", ".."}
	methods := []string{"GET", "get", "Get", "HEAD", "head", "POST", "OPTIONS", "options", "PATCH", "patch", "CONNECT"}
	depth := 3
	if testing.Short() || raceEnabled {
		depth = 2 // the race detector makes depth 3 take seconds
	}
	d := newMuxDiff(t, diffCaseTable)
	d.walk(t, "", segs, methods, depth)
	t.Logf("%d requests, %d routed to a protected handler, %d checked exactly", d.sent, d.routed, d.exact)
	if d.exact == 0 && !t.Failed() {
		t.Error("no request was checked exactly: the test checks nothing")
	}
}

// FuzzRuleTableAgreesWithServeMux is the differential test above with
// arbitrary methods and request targets.
func FuzzRuleTableAgreesWithServeMux(f *testing.F) {
	for _, method := range diffMethods {
		for _, target := range []string{"//admin/settings", "/users//keys/", "/x//y", "/x/./y", "/a/../admin/",
			"/users/bob", "/c//", "/c/x", "//", "/", "/api/", "/x/%2e%2e/y", "/x%2F/y"} {
			f.Add(method, target)
		}
	}
	for _, target := range []string{"/admin/x", "/ärzte/1", "/%C3%A4rzte/1", "/secret", "/Lower/x", "/semi;colon/x",
		"/a/k/", "/o", "/p/x"} {
		for _, method := range []string{"GET", "Get", "OPTIONS", "patch"} {
			f.Add(method, target)
		}
	}
	var ds []*muxDiff
	for _, patterns := range append(diffTables, diffCaseTable) {
		ds = append(ds, newMuxDiff(f, patterns))
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		for _, d := range ds {
			d.check(t, method, target)
		}
	})
}
