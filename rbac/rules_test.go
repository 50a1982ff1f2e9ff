package rbac_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/rbac"
)

// seedRules is a rule table for the seed policy, with a catch-all that
// admits any authenticated principal.
func seedRules() []rbac.Rule {
	self := rbac.PathValueIsSubject("id")
	return []rbac.Rule{
		{Pattern: "GET /healthz", AllowAnonymous: true},
		{Pattern: "/public/", AllowAnonymous: true},
		{Pattern: "/", Requirement: rbac.Requirement{Authenticated: true}},
		{Pattern: "/private/", Requirement: rbac.Requirement{Roles: []string{"user"}}},
		{Pattern: "GET /users/{id}", Requirement: rbac.Requirement{Permissions: []string{"users:read"}, Owner: self}},
		{Pattern: "PUT /users/{id}", Requirement: rbac.Requirement{Permissions: []string{"users:update"}, Owner: self}},
		{Pattern: "DELETE /users/{id}", Requirement: rbac.Requirement{Permissions: []string{"users:delete"}}},
		{Pattern: "/admin/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "GET /data", Requirement: rbac.Requirement{Permissions: []string{"data:view"}}},
		{Pattern: "GET /data/{$}", Requirement: rbac.Requirement{Permissions: []string{"data:view"}}},
	}
}

// checkStatus runs r through the rule table of m in front of a handler
// that answers 200 and returns the status.
func checkStatus(m *rbac.Middleware, method, target string, id *identity.Identity) (int, error) {
	r := httptest.NewRequest(method, target, nil)
	if id != nil {
		r = withIdentity(r, *id)
	}
	ctx, reason := problem.WithReason(r.Context())
	w := serve(m.Handler(ok), r.WithContext(ctx))
	return w.Code, reason.Err()
}

func TestRuleTable(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	guest, user, admin := principal("gina", "guest"), principal("alice", "user"), principal("root", "admin")
	tests := []struct {
		name           string
		method, target string
		id             *identity.Identity
		want           int
		reason         error
	}{
		{"an anonymous health probe", "GET", "/healthz", nil, 200, nil},
		{"a HEAD health probe matches the GET rule", "HEAD", "/healthz", nil, 200, nil},
		{"a POST to the probe falls to the catch-all", "POST", "/healthz", nil, 401, rbac.ErrUnauthenticated},
		{"anonymous public content", "GET", "/public/logo.png", nil, 200, nil},
		{"the catch-all needs an identity", "GET", "/anything", nil, 401, rbac.ErrUnauthenticated},
		{"the catch-all admits any identity", "GET", "/anything", &guest, 200, nil},
		{"a user reads their own record", "GET", "/users/alice", &user, 200, nil},
		{"a user cannot read another record", "GET", "/users/bob", &user, 403, rbac.ErrNotOwner},
		{"an admin reads any record", "GET", "/users/bob", &admin, 200, nil},
		{"a user updates their own record", "PUT", "/users/alice", &user, 200, nil},
		{"a user cannot delete their own record", "DELETE", "/users/alice", &user, 403, rbac.ErrPermission},
		{"an admin deletes a user", "DELETE", "/users/bob", &admin, 200, nil},
		{"a guest cannot enter the admin area", "GET", "/admin/settings", &guest, 403, rbac.ErrRole},
		{"an admin enters the admin area", "GET", "/admin/settings", &admin, 200, nil},
		{"the admin subtree root", "GET", "/admin/", &admin, 200, nil},
		{"all data needs data:view on every resource", "GET", "/data", &user, 403, rbac.ErrNotOwner},
		{"all data is closed to guests", "GET", "/data", &guest, 403, rbac.ErrPermission},
		{"all data for an admin", "GET", "/data", &admin, 200, nil},
		{"the {$} rule", "GET", "/data/", &guest, 403, rbac.ErrPermission},
		{"a user enters the private area", "GET", "/private/notes", &user, 200, nil},
		{"an admin inherits the user role", "GET", "/private/notes", &admin, 200, nil},
		{"a guest cannot enter the private area", "GET", "/private/notes", &guest, 403, rbac.ErrRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := checkStatus(m, tt.method, tt.target, tt.id)
			if got != tt.want || !errors.Is(reason, tt.reason) {
				t.Errorf("%s %s: status %d, reason %v; want %d, %v", tt.method, tt.target, got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestRuleTableDeniesByDefault(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "GET /public/", AllowAnonymous: true},
		{Pattern: "/admin/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	admin := principal("root", "admin")
	for _, target := range []string{"/", "/other", "/admin", "/publicx/"} {
		got, reason := checkStatus(m, "GET", target, &admin)
		if got != 403 || !errors.Is(reason, rbac.ErrNoRule) {
			t.Errorf("GET %s: %d %v, want 403 ErrNoRule", target, got, reason)
		}
	}
	if got, reason := checkStatus(m, "POST", "/public/x", nil); got != 403 || !errors.Is(reason, rbac.ErrNoRule) {
		t.Errorf("POST to a GET-only rule: %d %v", got, reason)
	}
}

// TestPathBypassRegressions replays published bypasses of path-based access
// rules. A request must never reach a handler under a weaker rule than the
// one its path resolves to.
func TestPathBypassRegressions(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	guest := principal("gina", "guest")
	tests := []struct {
		name   string
		target string
		method string
		id     *identity.Identity
		want   int
	}{
		// caddyserver/caddy#1859: "//v2/2.jpg" passed casbin's caddy-authz;
		// expressjs/express#3373: "/page//admin" skipped an admin check.
		{"caddy 1859 leading double slash", "//admin/users", "GET", &guest, 403},
		{"caddy 1859 leading double slash anonymous", "//admin/users", "GET", nil, 401},
		{"express 3373 inner double slash", "/admin//users", "GET", &guest, 403},
		{"triple slash", "///admin///users", "GET", &guest, 403},
		// GHSA-p224-6x5r-fjpm (ory/oathkeeper): "/public/../admin/secrets"
		// matched a permissive rule on the raw path.
		{"GHSA-p224-6x5r-fjpm dot-dot from a public prefix", "/public/../admin/secrets", "GET", nil, 401},
		{"GHSA-p224-6x5r-fjpm dot-dot as a guest", "/public/../admin/secrets", "GET", &guest, 403},
		{"dot segment", "/./admin/users", "GET", &guest, 403},
		{"dot-dot above the root", "/../../admin/users", "GET", &guest, 403},
		{"dot-dot back into the admin area", "/admin/../admin/users", "GET", &guest, 403},
		// The reverse: a router that does not clean paths routes
		// "/private/../public/x" to the private handler.
		{"dot-dot out of a private prefix", "/private/../public/x", "GET", nil, 401},
		{"dot-dot out of a private prefix as a guest", "/private/../public/x", "GET", &guest, 403},
		// GHSA-xf64-8mw2-4gr2 (traefik): "%2e%2e" resolved after routing.
		{"GHSA-xf64-8mw2-4gr2 encoded dot-dot", "/public/%2e%2e/admin/users", "GET", nil, 400},
		{"GHSA-xf64-8mw2-4gr2 encoded dot-dot upper case", "/public/%2E%2E/admin/users", "GET", nil, 400},
		// greenpau/go-authcrunch#110: "/public/..%2f..%2fadmin".
		{"authcrunch 110 encoded slash traversal", "/public/..%2f..%2fadmin", "GET", nil, 400},
		// GHSA-gm3x-23wp-hc2c (traefik): encoded '/', '\', NUL, ';', '?', '#'.
		{"GHSA-gm3x-23wp-hc2c encoded slash", "/public%2F..%2Fadmin/users", "GET", nil, 400},
		{"GHSA-gm3x-23wp-hc2c encoded backslash", "/public/..%5Cadmin/users", "GET", nil, 400},
		{"GHSA-gm3x-23wp-hc2c encoded NUL", "/public/x%00/../../admin", "GET", nil, 400},
		{"GHSA-gm3x-23wp-hc2c encoded semicolon", "/public/x%3B/admin", "GET", nil, 400},
		{"GHSA-gm3x-23wp-hc2c encoded question mark", "/public/x%3F/admin", "GET", nil, 400},
		{"GHSA-gm3x-23wp-hc2c encoded hash", "/public/x%23/admin", "GET", nil, 400},
		{"an encoded letter spelling a protected segment", "/%61dmin/users", "GET", &guest, 400},
		{"an encoded tilde", "/%7Eadmin/users", "GET", &guest, 400},
		{"an encoded digit", "/public/x%39/../../admin", "GET", nil, 400},
		// Encoded as net/url would encode them, these leave RawPath empty:
		// only the decoded path shows them.
		{"an encoded unit separator", "/public/x%1F/../../admin", "GET", nil, 400},
		{"an encoded DEL", "/public/x%7F/../../admin", "GET", nil, 400},
		{"an encoded percent for double decoding", "/public/%252e%252e/admin", "GET", nil, 400},
		// GHSA-g7pc-pc7g-h8jh (caddy): changing the letter case of the path
		// bypassed a path matcher meant to ignore case.
		{"GHSA-g7pc-pc7g-h8jh upper case", "/ADMIN/users", "GET", &guest, 403},
		{"GHSA-g7pc-pc7g-h8jh mixed case", "/Admin/users", "GET", nil, 401},
		{"GHSA-g7pc-pc7g-h8jh mixed case with dot-dot", "/public/../Admin/users", "GET", &guest, 403},
		// Found in review: four non-ASCII letters case-map to ASCII ones,
		// so a router ignoring case through strings.ToLower (as caddy's
		// matcher did), strings.ToUpper or strings.EqualFold routes them
		// to an ASCII path, which the table did not read: "İ" (U+0130)
		// lowers to "i", "ı" (U+0131) uppers to "I", "ſ" (U+017F) folds
		// to "s" and the Kelvin sign to "k".
		{"dotted capital I lowers to i", "/adm%C4%B0n/users", "GET", &guest, 403},
		{"dotted capital I anonymous", "/adm%C4%B0n/users", "GET", nil, 401},
		{"dotless i uppers to I", "/adm%C4%B1n/users", "GET", &guest, 403},
		{"long s folds to s", "/u%C5%BFers/bob", "GET", &guest, 403},
		{"long s with upper case", "/U%C5%BFERS/bob", "GET", &guest, 403},
		{"long s past a public prefix", "/public/../u%C5%BFers/bob", "GET", &guest, 403},
		// The reverse: "/PUBLIC/x" must not ride the anonymous rule to a
		// case-sensitive router's catch-all.
		{"case change into a public prefix", "/PUBLIC/x", "GET", nil, 401},
		// A router that upper-cases methods.
		{"a lower-case method", "/users/bob", "delete", &guest, 403},
		{"a lower-case method on the admin area", "/admin/x", "get", nil, 401},
		{"a lower-case HEAD is read as a GET", "/users/bob", "head", &guest, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := checkStatus(m, tt.method, tt.target, tt.id)
			if got != tt.want {
				t.Errorf("%s %s: status %d (%v), want %d", tt.method, tt.target, got, reason, tt.want)
			}
		})
	}

	// The legitimate forms still work.
	admin := principal("root", "admin")
	for _, target := range []string{"/admin/users", "//admin/users", "/public/../admin/users", "/ADMIN/users", "/adm%C4%B0n/users"} {
		if got, reason := checkStatus(m, "GET", target, &admin); got != 200 {
			t.Errorf("admin GET %s: %d %v", target, got, reason)
		}
	}
}

// Found in review: the cleaned and the raw reading of a path that chose
// the same rule were checked once, with the cleaned path's values, so a
// router that does not clean paths served alice bob's record through
// "/users/bob/../alice/profile" (cleaned: id=alice; raw: id=bob).
func TestOwnerIsCheckedForEveryReadingOfThePath(t *testing.T) {
	pol := rbac.MustPolicy(rbac.Role{Name: "user", Own: []string{"users:read"}})
	m := newMiddleware(t, rbac.Options{Policy: pol, Rules: []rbac.Rule{
		{Pattern: "GET /users/{id}/{rest...}", Requirement: rbac.Requirement{
			Permissions: []string{"users:read"}, Owner: rbac.PathValueIsSubject("id")}},
	}})
	alice := principal("alice", "user")
	for target, want := range map[string]int{
		"/users/alice/profile":               200,
		"/users/bob/profile":                 403,
		"/users/bob/../alice/profile":        403, // raw: bob's
		"/users/alice/../bob/profile":        403, // cleaned: bob's
		"/users/alice/./profile":             200,
		"/users/alice//profile":              200,
		"/users/bob/../../users/alice/x":     403,
		"/users/alice/x/../../alice/profile": 200,
	} {
		if got, reason := checkStatus(m, "GET", target, &alice); got != want {
			t.Errorf("alice GET %s: %d (%v), want %d", target, got, reason, want)
		}
	}
}

// Found in review: letter case was ignored only when the path had an
// upper-case letter, so with a rule "/Admin/" a lower-case "/admin/x"
// rode the anonymous catch-all to a router that ignores case.
func TestUpperCaseRuleLiteralsAreMatchedIgnoringCase(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/Admin/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	admin := principal("root", "admin")
	for _, target := range []string{"/admin/x", "/ADMIN/x", "/Admin/x", "/public/../admin/x"} {
		if got, reason := checkStatus(m, "GET", target, nil); got != 401 {
			t.Errorf("anonymous GET %s: %d (%v), want 401", target, got, reason)
		}
		if got, reason := checkStatus(m, "GET", target, &admin); got != 200 {
			t.Errorf("admin GET %s: %d (%v), want 200", target, got, reason)
		}
	}
	if got, reason := checkStatus(m, "GET", "/other", nil); got != 200 {
		t.Errorf("anonymous GET /other: %d (%v), want 200", got, reason)
	}
}

// Found in review: literals were indexed by their strings.ToLower form
// but looked up, and compared, ignoring ASCII case only. A rule
// "/Ärzte/" was never matched, not even by "/Ärzte/x" itself, so that
// path rode the anonymous catch-all; neither was "/ärzte/x", which a
// router ignoring case routes to it, nor "/ſecrets/" or the Kelvin sign's
// "/\u212aeys/".
func TestNonASCIIRuleLiteralsAreMatchedIgnoringCase(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/Ärzte/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "/secrets/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "/keys/{id}", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "/İzmir/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	admin := principal("root", "admin")
	for _, target := range []string{
		"/%C3%84rzte/x", "/%C3%A4rzte/x", "/%C3%84RZTE/x", "/public/../%C3%A4rzte/x",
		"/%C5%BFecrets/x", "/SECRETS/x", "/%E2%84%AAeys/1", "/%E2%84%AAEYS/1",
		"/%C4%B0zmir/x", "/izmir/x", "/IZMIR/x", "/%C4%B1zmir/x",
	} {
		if got, reason := checkStatus(m, "GET", target, nil); got != 401 {
			t.Errorf("anonymous GET %s: %d (%v), want 401", target, got, reason)
		}
		if got, reason := checkStatus(m, "GET", target, &admin); got != 200 {
			t.Errorf("admin GET %s: %d (%v), want 200", target, got, reason)
		}
	}
	for _, target := range []string{"/other", "/%C3%A4rztin/x", "/secret/x", "/%C3%A4/x"} {
		if got, reason := checkStatus(m, "GET", target, nil); got != 200 {
			t.Errorf("anonymous GET %s: %d (%v), want 200", target, got, reason)
		}
	}
}

// Unicode 16 (Go 1.27's tables) folds "ΐ" (U+1FD3) with "ΐ" (U+0390),
// which upper and lower case keep apart: a router comparing with
// strings.EqualFold built by such a toolchain routes either spelling to
// the rule's, which must then guard both.
func TestRuleLiteralsFollowEqualFoldOfTheToolchain(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/\u0390/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "/\ufb05/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	for _, tt := range []struct{ literal, other, target string }{
		{"\u0390", "\u1fd3", "/%E1%BF%93/x"},
		{"\ufb05", "\ufb06", "/%EF%AC%86/x"},
	} {
		want := 200
		if strings.EqualFold(tt.literal, tt.other) {
			want = 401
		}
		if got, reason := checkStatus(m, "GET", tt.target, nil); got != want {
			t.Errorf("anonymous GET %s (EqualFold %v): %d (%v), want %d", tt.target, want == 401, got, reason, want)
		}
	}
}

// TestOpaqueRequestTarget replays GHSA-f52w-8j3h-j724 (traefik): a
// request-target such as "http:http://internal/admin" parses into
// URL.Opaque with an empty Path, which normalizes to "/".
func TestOpaqueRequestTarget(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{{Pattern: "/", AllowAnonymous: true}}})
	r := httptest.NewRequest("GET", "/", nil)
	r.URL = &url.URL{Scheme: "http", Opaque: "http://internal/admin"}
	if err := m.Check(r); !errors.Is(err, rbac.ErrAmbiguousPath) {
		t.Errorf("opaque target: %v", err)
	}
	r.URL = &url.URL{Path: "*"}
	if err := m.Check(r); !errors.Is(err, rbac.ErrAmbiguousPath) {
		t.Errorf("unrooted path: %v", err)
	}
	r.URL = &url.URL{}
	if err := m.Check(r); err != nil {
		t.Errorf("empty path: %v", err)
	}
}

func TestRuleValidation(t *testing.T) {
	admin := rbac.Requirement{Roles: []string{"admin"}}
	tests := []struct {
		name  string
		rules []rbac.Rule
		want  error
		text  string
	}{
		{"an empty pattern", []rbac.Rule{{Pattern: "", Requirement: admin}}, rbac.ErrInvalidPattern, "Rules[0].Pattern"},
		{"a host pattern", []rbac.Rule{{Pattern: "example.com/admin", Requirement: admin}}, rbac.ErrInvalidPattern, "host"},
		{"a bad method", []rbac.Rule{{Pattern: "G(ET /admin", Requirement: admin}}, rbac.ErrInvalidPattern, "method"},
		{"an empty segment", []rbac.Rule{{Pattern: "/a//b", Requirement: admin}}, rbac.ErrInvalidPattern, "segment"},
		{"a dot-dot segment", []rbac.Rule{{Pattern: "/a/../b", Requirement: admin}}, rbac.ErrInvalidPattern, "segment"},
		{"a partial wildcard", []rbac.Rule{{Pattern: "/a{x}", Requirement: admin}}, rbac.ErrInvalidPattern, "segment"},
		{"a multi wildcard not last", []rbac.Rule{{Pattern: "/{x...}/a", Requirement: admin}}, rbac.ErrInvalidPattern, "wildcard"},
		{"a {$} not last", []rbac.Rule{{Pattern: "/{$}/a", Requirement: admin}}, rbac.ErrInvalidPattern, "wildcard"},
		{"a duplicate wildcard", []rbac.Rule{{Pattern: "/{x}/{x}", Requirement: admin}}, rbac.ErrInvalidPattern, "duplicate"},
		{"an invalid wildcard name", []rbac.Rule{{Pattern: "/{1x}", Requirement: admin}}, rbac.ErrInvalidPattern, "wildcard"},
		{"two identical patterns", []rbac.Rule{{Pattern: "/a", Requirement: admin}, {Pattern: "/a", Requirement: admin}}, rbac.ErrPatternConflict, "Rules[1]"},
		{"patterns differing in case", []rbac.Rule{{Pattern: "/Admin/", Requirement: admin}, {Pattern: "/admin/", Requirement: admin}}, rbac.ErrPatternConflict, "same requests"},
		{"patterns differing in non-ASCII case", []rbac.Rule{{Pattern: "/Ärzte/", Requirement: admin}, {Pattern: "/ärzte/", Requirement: admin}}, rbac.ErrPatternConflict, "same requests"},
		{"patterns differing by a long s", []rbac.Rule{{Pattern: "/secrets/", Requirement: admin}, {Pattern: "/%C5%BFecrets/", Requirement: admin}}, rbac.ErrPatternConflict, "same requests"},
		{"a trailing slash and a multi wildcard", []rbac.Rule{{Pattern: "/a/", Requirement: admin}, {Pattern: "/a/{rest...}", Requirement: admin}}, rbac.ErrPatternConflict, "same requests"},
		{"overlapping patterns", []rbac.Rule{{Pattern: "GET /", Requirement: admin}, {Pattern: "/index.html", Requirement: admin}}, rbac.ErrPatternConflict, "neither is more specific"},
		{"overlapping wildcards", []rbac.Rule{{Pattern: "/{a}/b", Requirement: admin}, {Pattern: "/a/{b}", Requirement: admin}}, rbac.ErrPatternConflict, "neither"},
		{"an anonymous rule with a requirement", []rbac.Rule{{Pattern: "/", AllowAnonymous: true, Requirement: admin}}, rbac.ErrInvalidRequirement, "AllowAnonymous"},
		{"a rule requiring nothing", []rbac.Rule{{Pattern: "/"}}, rbac.ErrInvalidRequirement, "requires nothing"},
		{"a rule requiring a wildcard", []rbac.Rule{{Pattern: "/", Requirement: rbac.Requirement{Permissions: []string{"*"}}}}, rbac.ErrInvalidRequirement, "Rules[0].Permissions[0]"},
		{"a literal with an encoded slash", []rbac.Rule{{Pattern: "/a%2Fb", Requirement: admin}}, rbac.ErrInvalidPattern, "segment"},
		{"an anonymous rule requiring authentication", []rbac.Rule{{Pattern: "/", AllowAnonymous: true, Requirement: rbac.Requirement{Authenticated: true}}}, rbac.ErrInvalidRequirement, "AllowAnonymous"},
		// Found in review: white space at the end was trimmed, while
		// ServeMux keeps it in the last literal, so "GET /admin " guarded
		// "/admin" and left "/admin%20", where ServeMux serves that
		// pattern, to the catch-all.
		{"a space at the end", []rbac.Rule{{Pattern: "GET /admin ", Requirement: admin}}, rbac.ErrInvalidPattern, "white space"},
		{"a tab at the end", []rbac.Rule{{Pattern: "/admin/\t", Requirement: admin}}, rbac.ErrInvalidPattern, "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rbac.New(rbac.Options{Policy: seedPolicy(t), Rules: tt.rules})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("New = %v; want %v naming %q", err, tt.want, tt.text)
			}
		})
	}
	// Patterns that ServeMux accepts together are accepted together.
	_, err := rbac.New(rbac.Options{Policy: seedPolicy(t), Rules: []rbac.Rule{
		{Pattern: "/", Requirement: admin},
		{Pattern: "GET /{$}", Requirement: admin},
		{Pattern: "HEAD /{$}", Requirement: admin},
		{Pattern: "/a/", Requirement: admin},
		{Pattern: "/a/{$}", Requirement: admin},
		{Pattern: "/a/{x}", Requirement: admin},
		{Pattern: "/a/b", Requirement: admin},
		{Pattern: "/a/b/{rest...}", Requirement: admin},
		{Pattern: "/%7Euser", Requirement: admin},
		{Pattern: "POST  /a/b", Requirement: admin},
	}})
	if err != nil {
		t.Errorf("valid table refused: %v", err)
	}
}

// TestRulePrecedenceAgreesWithServeMux registers the same patterns on a
// ServeMux and checks that the rule table picks the rule ServeMux picks.
func TestRulePrecedenceAgreesWithServeMux(t *testing.T) {
	patterns := []string{
		"/", "GET /{$}", "/a/", "/a/{$}", "/a/{x}", "/a/b", "GET /a/b", "/a/b/{rest...}", "/c/{x}/d",
		"DELETE /a/b", "/b/{x}/{y}", "/b/c/d", "/e/c/", "HEAD /h", "GET /h",
	}
	var rules []rbac.Rule
	mux := http.NewServeMux()
	for i, p := range patterns {
		// Rule i admits only the role "r<i>", so the role that passes
		// tells which rule was chosen.
		role := "r" + string(rune('a'+i))
		rules = append(rules, rbac.Rule{Pattern: p, Requirement: rbac.Requirement{Roles: []string{role}}})
		mux.Handle(p, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	}
	var roles []rbac.Role
	for i := range patterns {
		roles = append(roles, rbac.Role{Name: "r" + string(rune('a'+i))})
	}
	m := newMiddleware(t, rbac.Options{Policy: rbac.MustPolicy(roles...), Rules: rules})
	for _, target := range []string{"/", "/x", "/a/", "/a/q", "/a/b", "/a/b/", "/a/b/c/d", "/c/q/d", "/c/q/e", "/b/1/2", "/b/c/d", "/b/c/2", "/b/c/", "/e/c/", "/e/c/d/e", "/h"} {
		for _, method := range []string{"GET", "HEAD", "POST", "DELETE"} {
			r := httptest.NewRequest(method, target, nil)
			_, want := mux.Handler(r)
			chosen := ""
			for i, p := range patterns {
				id := principal("s", "r"+string(rune('a'+i)))
				if m.Check(withIdentity(r, id)) == nil {
					if chosen != "" {
						t.Errorf("%s %s: two rules admit it: %q and %q", method, target, chosen, p)
					}
					chosen = p
				}
			}
			if chosen != want {
				t.Errorf("%s %s: rule table chose %q, ServeMux %q", method, target, chosen, want)
			}
		}
	}
}

// TestRuleConflictsAgreeWithServeMux checks that a pair of patterns is
// refused exactly when ServeMux refuses it.
func TestRuleConflictsAgreeWithServeMux(t *testing.T) {
	patterns := []string{
		"/", "GET /", "HEAD /", "/{$}", "GET /{$}", "/a", "/a/", "/a/{$}", "/a/{x}", "/a/{x...}", "/a/b",
		"GET /a/b", "POST /a/b", "/a/b/{rest...}", "/a/{x}/c", "/{x}/b", "/{x}/{y}", "/b/{x...}", "/b/c/{y}",
	}
	admin := rbac.Requirement{Roles: []string{"admin"}}
	for _, p1 := range patterns {
		for _, p2 := range patterns {
			muxRefuses := func() (refused bool) {
				defer func() { refused = recover() != nil }()
				mux := http.NewServeMux()
				mux.Handle(p1, ok)
				mux.Handle(p2, ok)
				return false
			}()
			_, err := rbac.New(rbac.Options{Policy: seedPolicy(t), Rules: []rbac.Rule{
				{Pattern: p1, Requirement: admin}, {Pattern: p2, Requirement: admin},
			}})
			if (err != nil) != muxRefuses {
				t.Errorf("%q with %q: rbac error %v, ServeMux refuses %v", p1, p2, err, muxRefuses)
			}
		}
	}
}

// A path is also read ignoring case, as sent and cleaned, with a method
// whose lower-case letters a router may upper-case: each of those readings
// alone can reach a protected handler. Letters at the ends of the
// alphabet count as the others do, and bytes that are not UTF-8 are
// compared as they are, never folded together.
func TestEveryCaseInsensitiveReadingIsChecked(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/zone/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "/vault/{a}/{b}", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "PUZZLE /puzzle", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "/bin%FF/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	tests := []struct {
		name, method, target string
		want                 int
	}{
		{"a Z the only capital", "GET", "/Zone/x", 401},
		// Cleaned, "/VAULT"; as sent, ignoring case, "/vault/q/..".
		{"a capital and a dot-dot segment", "GET", "/VAULT/q/..", 401},
		{"a method whose only lower-case letters are z", "PUzzLE", "/puzzle", 401},
		{"another byte that is not UTF-8", "GET", "/BIN%FE/x", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, reason := checkStatus(m, tt.method, tt.target, nil); got != tt.want {
				t.Errorf("%s %s: status %d (%v), want %d", tt.method, tt.target, got, reason, tt.want)
			}
		})
	}
}

// A rule's {name...} wildcard is set for its OwnerFunc as ServeMux sets it.
func TestOwnerOfAMultiSegmentWildcard(t *testing.T) {
	pol := rbac.MustPolicy(rbac.Role{Name: "user", Own: []string{"files:read"}})
	m := newMiddleware(t, rbac.Options{Policy: pol, Rules: []rbac.Rule{
		{Pattern: "GET /files/{owner...}", Requirement: rbac.Requirement{
			Permissions: []string{"files:read"}, Owner: rbac.PathValueIsSubject("owner")}},
	}})
	alice := principal("alice", "user")
	if got, reason := checkStatus(m, "GET", "/files/alice", &alice); got != 200 {
		t.Errorf("alice's files: %d %v", got, reason)
	}
	if got, _ := checkStatus(m, "GET", "/files/bob", &alice); got != 403 {
		t.Errorf("bob's files for alice: %d, want 403", got)
	}
}

// TestRuleTableMethods: a GET rule covers HEAD, as ServeMux routes HEAD to
// a GET pattern, and nothing else; OPTIONS, TRACE and methods no rule
// names match no rule and are denied by default.
func TestRuleTableMethods(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "GET /docs/", AllowAnonymous: true},
		{Pattern: "DELETE /docs/{id}", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	h := m.Handler(ok)
	guest := principal("gina", "guest")
	tests := []struct {
		method string
		id     *identity.Identity
		status int
	}{
		{"GET", nil, 200},
		{"HEAD", nil, 200},
		{"OPTIONS", nil, 403},
		{"OPTIONS", &guest, 403},
		{"TRACE", nil, 403},
		{"PROPFIND", &guest, 403},
		{"PATCH", &guest, 403},
		{"POST", &guest, 403},
		{"GETX", nil, 403},
		{"DELETE", &guest, 403},
		{"DELETE", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/docs/1", nil)
			if tt.id != nil {
				r = withIdentity(r, *tt.id)
			}
			if w := serve(h, r); w.Code != tt.status {
				t.Errorf("%s /docs/1: status %d, want %d", tt.method, w.Code, tt.status)
			}
		})
	}
}

// Found in review: the method of a rule was read ignoring case only when
// the request's method had a lower-case letter, so a rule written
// "delete /users/{id}" never applied to a DELETE, which a router ignoring
// the method's case routes to it, and an upper-case DELETE rode the
// anonymous catch-all past it. Rules whose methods differ only in case
// were both accepted, though which one applies is then ambiguous.
func TestRuleMethodCaseIsIgnored(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "delete /users/{id}", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "get /admin/", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	admin := principal("root", "admin")
	tests := []struct {
		method, target string
		id             *identity.Identity
		want           int
	}{
		{"DELETE", "/users/bob", nil, 401},
		{"delete", "/users/bob", nil, 401},
		{"Delete", "/users/bob", nil, 401},
		{"DELETE", "/users/bob", &admin, 200},
		{"GET", "/admin/x", nil, 401},
		{"HEAD", "/admin/x", nil, 401},
		{"head", "/admin/x", nil, 401},
		{"GET", "/admin/x", &admin, 200},
		{"POST", "/admin/x", nil, 200},
		{"GET", "/users/bob", nil, 200},
	}
	for _, tt := range tests {
		if got, reason := checkStatus(m, tt.method, tt.target, tt.id); got != tt.want {
			t.Errorf("%s %s: status %d (%v), want %d", tt.method, tt.target, got, reason, tt.want)
		}
	}

	admin2 := rbac.Requirement{Roles: []string{"admin"}}
	for _, pair := range [][2]string{{"get /a", "GET /a"}, {"Delete /a/{x}", "DELETE /a/{x}"}, {"head /a/", "GET /a/b"}} {
		_, err := rbac.New(rbac.Options{Policy: seedPolicy(t), Rules: []rbac.Rule{
			{Pattern: pair[0], Requirement: admin2}, {Pattern: pair[1], Requirement: admin2},
		}})
		if !errors.Is(err, rbac.ErrPatternConflict) {
			t.Errorf("%q with %q: New = %v, want ErrPatternConflict", pair[0], pair[1], err)
		}
	}
}

// Found in review: routers that do not clean paths often match a wildcard
// to an empty segment, as ServeMux does for CONNECT: httprouter and gin
// route "//admin/settings" to "/:tenant/admin/settings" with an empty
// tenant (julienschmidt/httprouter#119), restify and hono's LinearRouter
// do the same. The raw reading of the path matched wildcards to non-empty
// segments only, so such a request rode the anonymous catch-all to the
// protected handler of any method.
func TestRawPathWildcardsMatchEmptySegments(t *testing.T) {
	pol := rbac.MustPolicy(rbac.Role{Name: "admin"}, rbac.Role{Name: "user", Own: []string{"keys:read"}})
	m := newMiddleware(t, rbac.Options{Policy: pol, Rules: []rbac.Rule{
		{Pattern: "/", AllowAnonymous: true},
		{Pattern: "/{tenant}/admin/settings", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "GET /x/{a}/y/{b}", Requirement: rbac.Requirement{Roles: []string{"admin"}}},
		{Pattern: "GET /users/{id}/keys", Requirement: rbac.Requirement{
			Permissions: []string{"keys:read"}, Owner: rbac.PathValueIsSubject("id")}},
	}})
	admin, alice := principal("root", "admin"), principal("alice", "user")
	tests := []struct {
		method, target string
		id             *identity.Identity
		want           int
	}{
		{"GET", "//admin/settings", nil, 401},
		{"POST", "//admin/settings", nil, 401},
		{"get", "//admin/settings", nil, 401},
		{"GET", "//admin/settings", &alice, 403},
		{"GET", "//admin/settings", &admin, 200},
		{"GET", "/t/admin/settings", nil, 401},
		{"GET", "/x//y/2", nil, 401},
		{"GET", "/x/1/y/../y//", nil, 200},
		{"GET", "/x/1/y/2", &admin, 200},
		// The owner of an empty id is no one.
		{"GET", "/users//keys", &alice, 403},
		{"GET", "/users/alice/keys", &alice, 200},
		// Clean paths are read as before: a wildcard never matches the
		// empty segment after a trailing slash.
		{"GET", "/x/1/y/", nil, 200},
		{"GET", "/admin/settings", nil, 200},
	}
	for _, tt := range tests {
		if got, reason := checkStatus(m, tt.method, tt.target, tt.id); got != tt.want {
			t.Errorf("%s %s: status %d (%v), want %d", tt.method, tt.target, got, reason, tt.want)
		}
	}
}

// The wildcards the rule table sets for an OwnerFunc are the OwnerFunc's
// alone: the handler after it sees the request's path values as they
// were. Mounted under an outer ServeMux route "/t/{id}/", the rule
// "/t/{tenant}/u/{id}" overwrote the outer route's id (the tenant) with
// the user's, and a handler outside ServeMux kept the rule's values.
func TestOwnerPathValuesDoNotOutliveTheCheck(t *testing.T) {
	pol := rbac.MustPolicy(rbac.Role{Name: "user", Own: []string{"users:read"}})
	m := newMiddleware(t, rbac.Options{Policy: pol, Rules: []rbac.Rule{
		{Pattern: "GET /t/{tenant}/u/{id}", Requirement: rbac.Requirement{
			Permissions: []string{"users:read"}, Owner: rbac.PathValueIsSubject("id")}},
	}})
	seen := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "id="+r.PathValue("id")+" tenant="+r.PathValue("tenant"))
	}
	outer := http.NewServeMux()
	outer.Handle("GET /t/{id}/", m.Handler(http.HandlerFunc(seen)))
	alice := principal("alice", "user")
	for _, tt := range []struct {
		name string
		h    http.Handler
		want string
	}{
		{"under an outer ServeMux route", outer, "id=acme tenant="},
		{"without a router", m.Handler(http.HandlerFunc(seen)), "id= tenant="},
	} {
		w := serve(tt.h, withIdentity(httptest.NewRequest("GET", "/t/acme/u/alice", nil), alice))
		if w.Code != 200 || w.Body.String() != tt.want {
			t.Errorf("%s: %d %q, want 200 %q", tt.name, w.Code, w.Body.String(), tt.want)
		}
	}
}

// New reports every problem at once: the requirement of a rule whose
// pattern is invalid is checked too, so fixing the pattern reveals no new
// error.
func TestRuleWithABadPatternHasItsRequirementChecked(t *testing.T) {
	_, err := rbac.New(rbac.Options{Policy: seedPolicy(t), Rules: []rbac.Rule{
		{Pattern: "/a//b", Requirement: rbac.Requirement{Permissions: []string{"Users:Read"}}},
		{Pattern: "example.com/", AllowAnonymous: true, Requirement: rbac.Requirement{Roles: []string{"admin"}}},
	}})
	for _, want := range []string{"Rules[0].Pattern", `Rules[0].Permissions[0] "Users:Read"`, "Rules[1].Pattern", "AllowAnonymous"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error %v does not name %s", err, want)
		}
	}
}

// A request whose RawPath does not decode to its Path has been rewritten
// in the process (a middleware that set r.URL.Path and left RawPath), and
// routers disagree about it: ServeMux routes on Path (EscapedPath drops a
// RawPath that does not encode it), chi and gin's UseRawPath route on
// RawPath. The table read Path alone, so "/public/x" let through a request
// that such a router served as "/admin/x". A client cannot send one: net/url
// sets RawPath only to the spelling Path was decoded from.
func TestRawPathDisagreeingWithPathIsAmbiguous(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	guest := principal("gina", "guest")
	for _, tt := range []struct {
		name, path, rawPath string
		want                error
	}{
		{"RawPath names a protected path", "/public/x", "/admin/x", rbac.ErrAmbiguousPath},
		{"RawPath names another public path", "/public/x", "/public/y", rbac.ErrAmbiguousPath},
		{"RawPath longer than Path", "/public/x", "/public/x/", rbac.ErrAmbiguousPath},
		{"RawPath shorter than Path", "/public/x/", "/public/x", rbac.ErrAmbiguousPath},
		{"RawPath decoding to Path", "/public/x$", "/public/x%24", nil},
		{"RawPath with a raw byte net/url would escape", "/public/é", "/public/\xc3\xa9", nil},
		{"no RawPath", "/public/x", "", nil},
	} {
		r := withIdentity(httptest.NewRequest("GET", "/", nil), guest)
		r.URL.Path, r.URL.RawPath = tt.path, tt.rawPath
		if err := m.Check(r); !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
		}
	}
	// As the server parses them, Path and RawPath agree.
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET /public/x%24 HTTP/1.1\r\nHost: e.com\r\n\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if r.URL.RawPath == "" {
		t.Fatal("no RawPath: the case checks nothing")
	}
	if err := m.Check(r); err != nil {
		t.Errorf("GET /public/x%%24: %v", err)
	}
}
