package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/identity"
)

// The tests in this file each pin, at the HTTP level, the defence against
// an attack on a deployed copy that no other test held.

// sessionCookie returns the value of the session cookie c's jar holds.
func (c *client) sessionCookie() string {
	c.t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "session" {
			return ck.Value
		}
	}
	c.t.Fatal("no session cookie")
	return ""
}

// TestLoginRenewsTheSession: against session fixation, every login
// issues a new session ID and ends the one presented, whether the
// browser held another user's session (one an attacker planted: their
// own) or the same user's.
func TestLoginRenewsTheSession(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.sessionClient(t, "carol")
	for _, user := range []string{"alice", "alice"} {
		before := c.sessionCookie()
		if r := c.login(user, testPassword); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", user, r.StatusCode)
		}
		after := c.sessionCookie()
		if after == before {
			t.Fatalf("login %s kept the session ID", user)
		}
		if r := srv.client(t).get("/data", "Cookie", "session="+before); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("the session ID from before %s's login: %d, want 401", user, r.StatusCode)
		}
		if r := srv.client(t).get("/data", "Cookie", "session="+after); r.StatusCode != http.StatusOK || r.json(t)["username"] != user {
			t.Errorf("the session ID after %s's login: %d %s", user, r.StatusCode, r.body)
		}
	}
}

// TestLockoutCountsPerAddress: a success clears the failures of its own
// address only, so the victim signing in from home gives a guesser
// elsewhere no fresh tries. Nine failures from one address, a success
// from another, and one more failure lock the first address out, and only
// it.
func TestLockoutCountsPerAddress(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.ClientIP = trustLoopback(t) })
	c := srv.client(t)
	const guesser, owner = "203.0.113.1", "198.51.100.2"
	for i := range app.DefaultMaxFailures - 1 {
		if r := c.token("bob", "wrong", "", "X-Forwarded-For", guesser); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong password %d: %d", i+1, r.StatusCode)
		}
	}
	if r := c.token("bob", testPassword, "", "X-Forwarded-For", owner); r.StatusCode != http.StatusOK {
		t.Fatalf("bob from his own address: %d", r.StatusCode)
	}
	if r := c.token("bob", "wrong", "", "X-Forwarded-For", guesser); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("the tenth wrong password: %d", r.StatusCode)
	}
	if r := c.token("bob", testPassword, "", "X-Forwarded-For", guesser); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the guesser after ten failures, bob's success from elsewhere between: %d, want 429", r.StatusCode)
	}
	if r := c.token("bob", testPassword, "", "X-Forwarded-For", owner); r.StatusCode != http.StatusOK {
		t.Errorf("bob from his own address during the guesser's lockout: %d", r.StatusCode)
	}
}

// TestPageEscapesTheUserName: the page shows the signed-in user's name
// escaped (a name is any text without a colon or a control character), and
// is never cached, whoever asks: it holds a CSRF token and a nonce.
func TestPageEscapesTheUserName(t *testing.T) {
	t.Parallel()
	const name = `<img src=x onerror=alert(1)>"'`
	logs := new(logBuffer)
	cfg := newConfig(t, logs)
	bob, _, _ := cfg.Users.LookupUser(t.Context(), "bob")
	if err := cfg.Users.Add(name, auth.User{Hash: bob.Hash, Identity: identity.Options{Roles: []string{app.RoleGuest}}}); err != nil {
		t.Fatal(err)
	}
	srv := startWith(t, cfg, logs)
	anon := srv.client(t).get("/")
	page := srv.sessionClient(t, name).get("/")
	if body := string(page.body); strings.Contains(body, "<img") || !strings.Contains(body, "Signed in as <strong>&lt;img src=x onerror=alert(1)&gt;&#34;&#39;</strong>") {
		t.Errorf("page of %q:\n%s", name, body)
	}
	for what, r := range map[string]response{"anonymous": anon, "signed in": page} {
		if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("page, %s: %d, Cache-Control %q, want no-store", what, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
}

// TestMethodsNotAllowed: every route answers the methods it does not
// serve with 405, the Allow header listing those it does, the security
// headers and a problem (RFC 6749 JSON on the OAuth2 endpoints); HEAD is
// served wherever GET is. The matrix tries one such method on one route.
func TestMethodsNotAllowed(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	c.header.Set("Authorization", "Bearer "+c.bearer("alice"))
	for path, allow := range map[string]string{
		"/": "GET, HEAD", "/login": "POST", "/logout": "POST", "/data": "GET, HEAD",
		"/secure-data/": "GET, HEAD", "/token": "POST", "/token/revoke": "POST",
		"/users/me/": "GET, HEAD", "/users/bob": "DELETE, GET, HEAD", "/items/1": "GET, HEAD",
		"/comment/": "POST", "/api/data": "POST", "/healthz": "GET, HEAD", "/panic": "GET, HEAD",
	} {
		for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
			if strings.Contains(allow, method) {
				if method == "HEAD" {
					if r := c.do(method, path, nil); r.StatusCode == http.StatusMethodNotAllowed {
						t.Errorf("HEAD %s: 405, though GET is served", path)
					}
				}
				continue
			}
			what := method + " " + path
			r := c.do(method, path, nil)
			if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != allow {
				t.Errorf("%s: %d, Allow %q, want 405 with Allow %q", what, r.StatusCode, r.Header.Get("Allow"), allow)
			}
			checkSecurityHeaders(t, what, r)
			switch {
			case method == "HEAD":
			case strings.HasPrefix(path, "/token"):
				checkOAuthError(t, what, r)
			default:
				checkProblem(t, what, r)
			}
		}
	}
}

// TestCORSNeverAllowsCredentials: no response lets a script read it with
// the browser's credentials (Access-Control-Allow-Credentials), not even
// for a CORS origin: a sibling subdomain's script that fetches
// GET /users/me/ with credentials: "include" sends the session cookie
// (same-site), and the cross-origin check lets safe methods through, so
// the browser's refusal to expose the response is what keeps the user's
// data from it.
func TestCORSNeverAllowsCredentials(t *testing.T) {
	t.Parallel()
	const origin = "https://app.example.com"
	srv := start(t, func(c *app.Config) { c.CORSOrigins = []string{origin} })
	s := srv.sessionClient(t, "alice")
	for what, r := range map[string]response{
		"GET /users/me/ with the cookie": s.get("/users/me/", "Origin", origin, "Sec-Fetch-Site", "same-site"),
		"GET /data with the cookie":      s.get("/data", "Origin", origin, "Sec-Fetch-Site", "same-site"),
		"a preflight": s.do("OPTIONS", "/users/bob", nil, "Origin", origin, "Access-Control-Request-Method", "DELETE",
			"Access-Control-Request-Headers", "authorization"),
	} {
		if r.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want the CORS origin (the test checks nothing otherwise)", what, r.Header.Get("Access-Control-Allow-Origin"))
		}
		if got := r.Header.Values("Access-Control-Allow-Credentials"); len(got) > 0 {
			t.Errorf("%s: Access-Control-Allow-Credentials %q", what, got)
		}
	}
	if r := s.get("/users/me/", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin: Access-Control-Allow-Origin %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestUserRecordIDs: GET /users/{id} compares the decoded path segment
// with the subject exactly, as the users are looked up: another case,
// percent-encoding or a trailing slash never reaches another user's
// record. The matrix asks for plain names only.
func TestUserRecordIDs(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	c.header.Set("Authorization", "Bearer "+c.bearer("bob"))
	for path, want := range map[string]int{
		"/users/bob":        http.StatusOK,
		"/users/b%6Fb":      http.StatusOK, // bob, encoded: his own record
		"/users/BOB":        http.StatusForbidden,
		"/users/Bob":        http.StatusForbidden,
		"/users/%61lice":    http.StatusForbidden,
		"/users/ALICE":      http.StatusForbidden,
		"/users/..%2Falice": http.StatusForbidden,
		"/users/bob%2F":     http.StatusForbidden,
		"/users/bob/":       http.StatusNotFound,
		"/users/alice/":     http.StatusNotFound,
	} {
		r := c.get(path)
		if r.StatusCode != want {
			t.Errorf("GET %s with bob's token: %d, want %d (%s)", path, r.StatusCode, want, r.body)
		}
		if want == http.StatusOK && r.json(t)["username"] != "bob" {
			t.Errorf("GET %s with bob's token: %s", path, r.body)
		}
	}
}

// TestLockoutNameIsHowTheLockoutCounts: the names app.LockoutName gives
// one form are locked together, and those it keeps apart are not, so
// that command secureapi's check of a -users file (no two accounts of
// one form) matches what the server counts.
func TestLockoutNameIsHowTheLockoutCounts(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	for i := range app.DefaultMaxFailures {
		if r := c.token("bob", "wrong", ""); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong password %d: %d", i+1, r.StatusCode)
		}
	}
	for _, name := range []string{"bob", "BOB", "Bob  ", "boB", " bob", "bobby", "b0b"} {
		locked := c.token(name, testPassword, "").StatusCode == http.StatusTooManyRequests
		if same := app.LockoutName(name) == app.LockoutName("bob"); locked != same {
			t.Errorf("%q: locked %v after bob's failures, LockoutName the same as bob's: %v", name, locked, same)
		}
	}
}

// TestRoutesAreExactPaths: the single resources registered with a
// trailing slash (GET /users/me/, GET /secure-data/, POST /comment/) are
// those paths only. As ServeMux subtree patterns they answered every path
// below them: GET /users/me/alice gave bob's record under a URL naming
// alice, GET /secure-data/anything the Basic-only data, POST
// /comment/anything posted a comment. Each now gets the mux's 404 problem
// with the request ID.
func TestRoutesAreExactPaths(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	bearer := "Bearer " + c.bearer("bob")
	for _, tc := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/users/me/", bearer, http.StatusOK},
		{"GET", "/users/me/alice", bearer, http.StatusNotFound},
		{"GET", "/users/me/x/y", bearer, http.StatusNotFound},
		{"GET", "/secure-data/", "Basic " + basic("bob", testPassword), http.StatusOK},
		{"GET", "/secure-data/x", "Basic " + basic("bob", testPassword), http.StatusNotFound},
		{"POST", "/comment/", bearer, http.StatusOK},
		{"POST", "/comment/x", bearer, http.StatusNotFound},
	} {
		r := c.do(tc.method, tc.path, strings.NewReader(`{"body":"hi"}`), "Authorization", tc.auth, "Content-Type", "application/json")
		if r.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d (%s)", tc.method, tc.path, r.StatusCode, tc.want, r.body)
			continue
		}
		if tc.want == http.StatusNotFound && (r.Header.Get("Content-Type") != "application/problem+json" || r.json(t)["request_id"] != r.Header.Get("X-Request-Id")) {
			t.Errorf("%s %s: 404 %q %s, want a problem with the request ID", tc.method, tc.path, r.Header.Get("Content-Type"), r.body)
		}
	}
}

// TestUpgradeRequestsGetTheRequestIDInProblems: a request asking for a
// protocol upgrade (Connection: upgrade, which any client may send, or
// CONNECT) is refused with a problem carrying the request ID like any
// other. Found in review: errorsafe held back and completed the problems
// of the layers further in (an invalid token, a wrong Basic password, the
// HTTPS redirect's 400) for every request but those, whose bodies then
// lacked the request_id member.
func TestUpgradeRequestsGetTheRequestIDInProblems(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	upgrade := []string{"Connection", "Upgrade", "Upgrade", "websocket"}
	for what, r := range map[string]response{
		"an invalid token":           c.get("/users/me/", append([]string{"Authorization", "Bearer not.a.token"}, upgrade...)...),
		"a wrong Basic password":     c.get("/secure-data/", append([]string{"Authorization", "Basic " + basic("bob", "wrong")}, upgrade...)...),
		"no credentials":             c.get("/users/me/", upgrade...),
		"CONNECT to an unknown path": c.raw("CONNECT", "127.0.0.1:1", ""),
	} {
		if r.StatusCode < 400 {
			t.Errorf("%s: %d", what, r.StatusCode)
		}
		checkSecurityHeaders(t, what, r)
		checkProblem(t, what, r)
	}
	redirecting := start(t, func(c *app.Config) { c.RedirectHost = "api.example.com:8443" }).client(t)
	r := redirecting.raw("CONNECT", "127.0.0.1:1", "")
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("CONNECT over plain HTTP to a redirecting server: %d", r.StatusCode)
	}
	checkSecurityHeaders(t, "CONNECT over plain HTTP", r)
	checkProblem(t, "CONNECT over plain HTTP", r)
}
