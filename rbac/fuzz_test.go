package rbac_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/rbac"
)

// FuzzParsePolicy checks that any document either fails with a policy
// error or yields a policy that grants what it says and round-trips.
func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"roles":[{"name":"guest","permissions":["data:view:public"]},{"name":"user","inherits":["guest"],"own":["users:read"]},{"name":"admin","inherits":["user"],"permissions":["users:*","data:*"]}]}`,
		`{"roles":[{"name":"root","permissions":["*"]}]}`,
		`{"roles":[{"name":"a","inherits":["b"]},{"name":"b","inherits":["a"]}]}`,
		`{"roles":[{"name":"a","name":"b"}]}`,
		`{"roles":[{"Name":"a"}]}`,
		`{"roles":[{"name":"a","permissions":["users:*:x","Users"]}]}`,
		`{"roles":[]}`,
		`[]`,
		``,
		`{"roles":[{"name":"a"}]} x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rbac.ParsePolicy(data)
		if err != nil {
			if p != nil {
				t.Fatal("a policy and an error")
			}
			var pe *rbac.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a PolicyError", err)
			}
			return
		}
		for _, r := range p.Roles() {
			for _, perm := range r.Permissions {
				if g := p.RoleGrant(r.Name, perm); g != rbac.Allowed {
					t.Fatalf("role %q does not get its own permission %q: %v", r.Name, perm, g)
				}
			}
			for _, perm := range r.Own {
				if g := p.RoleGrant(r.Name, perm); g < rbac.OwnOnly {
					t.Fatalf("role %q does not get its own own-permission %q: %v", r.Name, perm, g)
				}
			}
			for _, parent := range r.Inherits {
				if !p.Includes(r.Name, parent) {
					t.Fatalf("role %q does not include its parent %q", r.Name, parent)
				}
				if p.Includes(parent, r.Name) {
					t.Fatalf("cycle between %q and %q accepted", r.Name, parent)
				}
			}
		}
		_ = p.Matrix().String()
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := rbac.ParsePolicy(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if !reflect.DeepEqual(p.Roles(), p2.Roles()) {
			t.Fatalf("round trip changed the policy: %s", b)
		}
	})
}

// permOracle is the permission grammar written as a regular expression.
var permOracle = regexp.MustCompile(`^(\*|[a-z0-9_.-]+(:[a-z0-9_.-]+)*(:\*)?)$`)

// coversOracle decides whether grant g covers permission p segment by
// segment, independently of the implementation.
func coversOracle(g, p string) bool {
	if g == "*" {
		return true
	}
	gs, ps := strings.Split(g, ":"), strings.Split(p, ":")
	if gs[len(gs)-1] == "*" {
		prefix := gs[:len(gs)-1]
		return len(ps) > len(prefix) && reflect.DeepEqual(ps[:len(prefix)], prefix)
	}
	return g == p
}

// FuzzPermission checks ValidatePermission against a regular expression,
// and the policy's wildcard matching against a segment-wise oracle.
func FuzzPermission(f *testing.F) {
	for _, s := range [][2]string{
		{"users:*", "users:read"}, {"users:*", "users"}, {"users:*", "usersx:read"}, {"*", "a:b"},
		{"users:read", "users:read"}, {"a:b:*", "a:b:c:d"}, {"a:*", "a:*"}, {"users:", "users:"},
		{"Users:read", "users:read"}, {"a::b", "a:b"}, {"*:a", "b:a"}, {"a:b*", "a:bc"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, grant, perm string) {
		valid := rbac.ValidatePermission(grant) == nil
		if want := permOracle.MatchString(grant) && len(grant) <= rbac.MaxNameLen; valid != want {
			t.Fatalf("ValidatePermission(%q) valid = %v, oracle %v", grant, valid, want)
		}
		if !valid {
			if _, err := rbac.NewPolicy(rbac.Role{Name: "r", Permissions: []string{grant}}); !errors.Is(err, rbac.ErrInvalidPermission) {
				t.Fatalf("NewPolicy accepted the invalid %q: %v", grant, err)
			}
			return
		}
		p := rbac.MustPolicy(rbac.Role{Name: "r", Permissions: []string{grant}}, rbac.Role{Name: "o", Own: []string{grant}})
		permValid := rbac.ValidatePermission(perm) == nil
		want := permValid && coversOracle(grant, perm)
		if got := p.RoleGrant("r", perm) == rbac.Allowed; got != want {
			t.Fatalf("grant %q covers %q = %v, oracle %v", grant, perm, got, want)
		}
		if got := p.RoleGrant("o", perm); (got == rbac.OwnOnly) != want || got == rbac.Allowed {
			t.Fatalf("own grant %q of %q = %v, oracle %v", grant, perm, got, want)
		}
	})
}

// decodeAll reads a path the most generous way any router might: decoding
// percent-escapes until nothing changes, treating '\' as '/', cleaning dot
// segments and ignoring case.
func decodeAll(p string) string {
	for range 4 {
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			break
		}
		p = d
	}
	p = strings.ReplaceAll(p, "\\", "/")
	return strings.ToLower(path.Clean("/" + p))
}

// FuzzRuleTablePath sends arbitrary request targets to the seed rule table
// and checks that no reading of the path lets a guest into the admin area
// or an anonymous caller past the public areas.
func FuzzRuleTablePath(f *testing.F) {
	for _, s := range []string{
		"/admin/x", "//admin/x", "/public/../admin/x", "/public/%2e%2e/admin/x", "/ADMIN/x", "/%61dmin/x",
		"/public/..%2fadmin", "/public/..%5cadmin", "/public/x", "/healthz", "/users/alice", "/./admin",
		"/public/%252e%252e/admin", "http://h/admin/x", "*", "/admin", "/Public/../admin/", "/adm%C4%B0n/x",
	} {
		f.Add("GET", s)
	}
	// Found in review: ServeMux does not clean CONNECT paths.
	for _, s := range []string{"//admin/x", "/public/../admin/x", "/public//x", "/admin/x"} {
		f.Add("CONNECT", s)
	}
	m, err := rbac.New(rbac.Options{Policy: rbac.MustPolicy(seedRoles()...), Rules: seedRules()})
	if err != nil {
		f.Fatal(err)
	}
	guest, admin := principal("gina", "guest"), principal("root", "admin")
	f.Fuzz(func(t *testing.T, method, target string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: example.com\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		// Never panics, with or without an identity.
		anonErr := m.Check(r)
		guestErr := m.Check(withIdentity(r, guest))
		_ = m.Check(withIdentity(r, admin))

		for _, p := range []string{r.URL.Path, r.URL.EscapedPath(), r.URL.RawPath} {
			if p == "" {
				continue
			}
			d := decodeAll(p)
			// "/admin" itself is not under the "/admin/" rule, as in
			// ServeMux, which redirects it to "/admin/".
			if strings.HasPrefix(d, "/admin/") && guestErr == nil {
				t.Fatalf("%s %q (path %q) lets a guest into the admin area", method, target, p)
			}
			public := d == "/healthz" || d == "/public" || strings.HasPrefix(d, "/public/")
			if anonErr == nil && !public {
				t.Fatalf("%s %q (path %q, read as %q) lets an anonymous caller through", method, target, p, d)
			}
		}
	})
}
