package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/examples/secureapi/app"
)

// TestCookiesAreSecureOverTLS: with Config.TLS, the session and CSRF
// cookies are Secure, with the __Host- prefix. Found by mutation: either
// could lose Secure and no test noticed.
func TestCookiesAreSecureOverTLS(t *testing.T) {
	t.Parallel()
	logs := new(logBuffer)
	cfg := newConfig(t, logs)
	cfg.TLS = true
	h, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	srv := &testServer{Server: ts, log: logs}
	c := srv.client(t)
	c.hc.Transport = ts.Client().Transport
	secure := func(what string, r response, name string) {
		t.Helper()
		for _, ck := range r.Cookies() {
			if ck.Name == name {
				if !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
					t.Errorf("%s: cookie %s %+v, want Secure, HttpOnly, Path=/ and no Domain", what, name, ck)
				}
				return
			}
		}
		t.Errorf("%s: no %s cookie in %q", what, name, r.Header.Values("Set-Cookie"))
	}
	secure("page", c.get("/"), "__Host-csrf")
	r := c.login("bob", testPassword)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	secure("login", r, "__Host-session")
	if r := c.get("/data"); r.StatusCode != http.StatusOK {
		t.Errorf("data over TLS: %d", r.StatusCode)
	}
}

// TestLockoutLastsFifteenMinutes: a locked pair is told to come back
// after the lockout, 15 minutes by default, not in a moment. Found by
// mutation: a lockout of one second passed every test.
func TestLockoutLastsFifteenMinutes(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	for range app.DefaultMaxFailures {
		c.token("bob", "wrong", "")
	}
	r := c.token("bob", testPassword, "")
	secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.StatusCode != http.StatusTooManyRequests || secs < 14*60 || secs > 15*60 {
		t.Errorf("locked: %d, Retry-After %q, want 429 and about 900 seconds", r.StatusCode, r.Header.Get("Retry-After"))
	}
}

// TestSubjectBudgetAcrossAddresses: a signed-in user's own budget holds
// whatever addresses the requests come from. Found by mutation: its burst
// could grow by one unnoticed.
func TestSubjectBudgetAcrossAddresses(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.ClientIP = trustLoopback(t); c.RequestRate = 1 })
	c := srv.client(t)
	tok := c.bearer("bob")
	var codes []int
	var last response
	for i := range 3 {
		last = c.get("/users/me/", "Authorization", "Bearer "+tok, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		codes = append(codes, last.StatusCode)
	}
	if !slices.Equal(codes, []int{200, 200, 429}) {
		t.Fatalf("three requests of one user with a burst of two, each from a fresh address: %v", codes)
	}
	if policy := strings.Join(last.Header.Values("RateLimit-Policy"), ", "); !strings.Contains(policy, `"subject"`) {
		t.Errorf("429 RateLimit-Policy %q, want the subject's budget", policy)
	}
}

// TestAddressBudgetBehindTrustedProxy: behind a trusted proxy each client
// address has a budget of its own. Found by mutation: the per-address
// limit could count every client as the proxy, and no test noticed.
func TestAddressBudgetBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.ClientIP = trustLoopback(t); c.RequestRate = 1 })
	c := srv.client(t)
	var codes []int
	for range 3 {
		codes = append(codes, c.get("/healthz", "X-Forwarded-For", "203.0.113.1").StatusCode)
	}
	if !slices.Equal(codes, []int{200, 200, 429}) {
		t.Fatalf("one client with a burst of two: %v", codes)
	}
	if r := c.get("/healthz", "X-Forwarded-For", "198.51.100.2"); r.StatusCode != http.StatusOK {
		t.Errorf("another client behind the same proxy: %d", r.StatusCode)
	}
}

// TestAddressBudgetAcrossUsers: the budget of a client address holds
// for every account signed in from it. Found by mutation: its burst could
// grow by one unnoticed, since an anonymous request is also held by the
// per-subject limit, which keys it by address with the same budget.
func TestAddressBudgetAcrossUsers(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.ClientIP = trustLoopback(t); c.RequestRate = 1 })
	c := srv.client(t)
	var tokens []string
	for i, user := range []string{"alice", "bob", "carol"} {
		r := c.token(user, testPassword, "", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("token for %s: %d %s", user, r.StatusCode, r.body)
		}
		tokens = append(tokens, r.json(t)["access_token"].(string))
	}
	var codes []int
	var last response
	for _, tok := range tokens {
		last = c.get("/users/me/", "Authorization", "Bearer "+tok, "X-Forwarded-For", "198.51.100.9")
		codes = append(codes, last.StatusCode)
	}
	if !slices.Equal(codes, []int{200, 200, 429}) {
		t.Fatalf("three users from one address with a burst of two: %v", codes)
	}
	if policy := strings.Join(last.Header.Values("RateLimit-Policy"), ", "); !strings.Contains(policy, `"ip"`) {
		t.Errorf("429 RateLimit-Policy %q, want the address's budget", policy)
	}
}

// TestCrossOriginRefusalsSpendTheBudget: the per-address limit comes
// before the cross-origin check, as in the recommended order, so a
// flood of refused cross-site requests is limited too. Found by
// mutation: the two layers could be swapped unnoticed.
func TestCrossOriginRefusalsSpendTheBudget(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.RequestRate = 1 })
	c := srv.client(t)
	for range 2 {
		if r := c.postJSON("/comment/", `{"body":"hi"}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site comment: %d, want 403", r.StatusCode)
		}
	}
	if r := c.get("/healthz"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after two refused cross-site requests with a burst of two: %d, want 429", r.StatusCode)
	}
}

// TestTokenOverSession: a request with a bearer token and a session
// cookie of the same user is the token's, limited to its scopes, as the
// stack says: auth (a bearer token, when one is sent) comes after the
// session. Found by mutation: the two layers could be swapped unnoticed.
// A token of another user than the session's is refused with 401
// (auth.ErrAmbiguousCredentials): two principals, and neither wins.
func TestTokenOverSession(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	s := srv.sessionClient(t, "alice")
	token := func(user string) string {
		r := srv.client(t).token(user, testPassword, "items:read")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %s", r.StatusCode, r.body)
		}
		return r.json(t)["access_token"].(string)
	}
	narrow := token("alice")
	me := s.get("/users/me/", "Authorization", "Bearer "+narrow).json(t)
	if me["username"] != "alice" || fmt.Sprint(me["scopes"]) != "[items:read]" {
		t.Errorf("/users/me/ with alice's token and session: %v, want the token's", me)
	}
	if r := s.get("/users/carol", "Authorization", "Bearer "+narrow); r.StatusCode != http.StatusForbidden {
		t.Errorf("GET /users/carol with admin alice's items:read token and her session: %d, want 403", r.StatusCode)
	}
	if r := s.get("/users/me/", "Authorization", "Bearer "+token("bob")); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("/users/me/ with bob's token and alice's session: %d, want 401", r.StatusCode)
	}
	if me := s.get("/users/me/").json(t); me["username"] != "alice" {
		t.Errorf("/users/me/ with alice's session alone: %v", me)
	}
}

// TestOnlyUsersDeleteDeletes: DELETE /users/{id} needs users:delete: not
// users:read, and not the account's own user. Found by mutation: the
// matrix deletes an unknown user only, so the route could take the read
// guard (own record or users:read) or users:read unnoticed.
func TestOnlyUsersDeleteDeletes(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	r := c.token("alice", testPassword, "users:read")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", r.StatusCode, r.body)
	}
	readOnly := r.json(t)["access_token"].(string)
	r = c.do("DELETE", "/users/dave", nil, "Authorization", "Bearer "+readOnly)
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="users:delete"`) {
		t.Errorf("an admin token with users:read only: %d %q, want 403 for users:delete", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	bobToken := c.bearer("bob")
	bobSession := srv.sessionClient(t, "bob")
	if r := c.do("DELETE", "/users/bob", nil, "Authorization", "Bearer "+bobToken); r.StatusCode != http.StatusForbidden {
		t.Errorf("bob deleting himself with a token: %d, want 403", r.StatusCode)
	}
	if r := bobSession.do("DELETE", "/users/bob", nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("bob deleting himself with his session: %d, want 403", r.StatusCode)
	}
	admin := c.bearer("alice")
	for _, name := range []string{"bob", "dave"} {
		if r := c.get("/users/"+name, "Authorization", "Bearer "+admin); r.StatusCode != http.StatusOK {
			t.Errorf("%s after the refused deletions: %d", name, r.StatusCode)
		}
	}
}

var (
	cspNonce  = regexp.MustCompile(`'nonce-([^']+)'`)
	pageNonce = regexp.MustCompile(`<script nonce="([^"]*)">`)
)

// TestPageNonce: the login page gets the HTML policy, whose script-src
// and style-src allow the page's own script and style by a fresh nonce,
// the one the page carries. Found by mutation: the page could be served
// with the API policy, or without its nonce, and no test noticed.
func TestPageNonce(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	var seen []string
	for range 2 {
		r := c.get("/")
		csp := r.Header.Get("Content-Security-Policy")
		m := cspNonce.FindStringSubmatch(csp)
		b := pageNonce.FindSubmatch(r.body)
		if m == nil || b == nil || string(b[1]) != m[1] || !strings.Contains(string(r.body), `<style nonce="`+m[1]+`">`) {
			t.Fatalf("page: CSP %q, script %q", csp, b)
		}
		for _, d := range []string{"script-src", "style-src"} {
			if !regexp.MustCompile(d + ` [^;]*'nonce-` + regexp.QuoteMeta(m[1]) + `'`).MatchString(csp) {
				t.Errorf("CSP %q: %s without the nonce", csp, d)
			}
		}
		seen = append(seen, m[1])
	}
	if seen[0] == seen[1] {
		t.Errorf("two pages with one nonce %q", seen[0])
	}
}

// TestEveryPasswordRouteSpendsTheCredentialBudget: POST /token, POST
// /login and GET /secure-data/ each spend the per-address budget of the
// password routes. Found by mutation: only POST /token's was tested, so
// the budget could be dropped from the other two.
func TestEveryPasswordRouteSpendsTheCredentialBudget(t *testing.T) {
	t.Parallel()
	for name, attempt := range wrongPasswordOn {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := start(t, func(c *app.Config) { c.CredentialRate = 2 }).client(t)
			var codes []int
			for range 3 {
				codes = append(codes, attempt(c).StatusCode)
			}
			if codes[0] == http.StatusTooManyRequests || codes[1] == http.StatusTooManyRequests || codes[2] != http.StatusTooManyRequests {
				t.Errorf("three wrong passwords with a budget of two: %v", codes)
			}
		})
	}
}

// TestRevocationSpendsTheCredentialBudget: POST /token/revoke spends the
// per-address budget of the password routes, with POST /token, since it
// authenticates clients as POST /token does (a confidential client's
// secret costs a hash); its refusal is 429 slow_down in the OAuth2
// format, with Retry-After, as POST /token's.
func TestRevocationSpendsTheCredentialBudget(t *testing.T) {
	t.Parallel()
	c := start(t, func(c *app.Config) { c.CredentialRate = 2 }).client(t)
	revoke := func() response {
		return c.postForm("/token/revoke", url.Values{"client_id": {app.ClientID}, "token": {"not-a-token"}})
	}
	first, wrong, third := revoke(), c.token("bob", "wrong", ""), revoke()
	if first.StatusCode != http.StatusOK || wrong.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("within a budget of two: revocation %d, wrong password %d", first.StatusCode, wrong.StatusCode)
	}
	if third.StatusCode != http.StatusTooManyRequests || third.Header.Get("Retry-After") == "" {
		t.Fatalf("a revocation over the budget: %d, Retry-After %q", third.StatusCode, third.Header.Get("Retry-After"))
	}
	if code := third.json(t)["error"]; code != "slow_down" {
		t.Errorf("a revocation over the budget: %s, want slow_down", third.body)
	}
	checkOAuthError(t, "a revocation over the budget", third)
}

// TestLoginSuccessClearsFailures: a successful POST /login clears the
// pair's failures, as one on POST /token does. Found by mutation: login
// could leave them counting unnoticed.
func TestLoginSuccessClearsFailures(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	for round := range 3 {
		for range app.DefaultMaxFailures - 1 {
			if r := c.login("carol", "wrong"); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("round %d: %d", round, r.StatusCode)
			}
		}
		if r := c.login("carol", testPassword); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("round %d: the right password after %d failures: %d", round, app.DefaultMaxFailures-1, r.StatusCode)
		}
	}
}

// TestPersonalDataIsNotCached: the JSON answers of the signed-in routes
// are Cache-Control: no-store. Found by mutation: no test looked.
func TestPersonalDataIsNotCached(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	tok := c.bearer("bob")
	for what, r := range map[string]response{
		"GET /users/me/":    c.get("/users/me/", "Authorization", "Bearer "+tok),
		"GET /users/bob":    c.get("/users/bob", "Authorization", "Bearer "+tok),
		"GET /data":         srv.sessionClient(t, "bob").get("/data"),
		"GET /secure-data/": c.get("/secure-data/", "Authorization", "Basic "+basic("bob", testPassword)),
	} {
		if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Cache-Control %q", what, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
}

// TestBodyLimitsAtTheirBounds: POST /api/data takes 64 KiB and no byte
// more, the form routes 4 KiB. Found by mutation: the tests sent bodies
// far from each bound, which could grow by one byte unnoticed.
func TestBodyLimitsAtTheirBounds(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	tok := c.bearer("carol")
	for n, want := range map[int]int{64 << 10: 202, 64<<10 + 1: 413} {
		if r := c.do("POST", "/api/data", strings.NewReader(strings.Repeat("x", n)), "Authorization", "Bearer "+tok); r.StatusCode != want {
			t.Errorf("POST /api/data of %d bytes: %d, want %d", n, r.StatusCode, want)
		}
	}
	for n, want := range map[int]int{4 << 10: 303, 4<<10 + 1: 413} {
		c := srv.client(t)
		form := url.Values{"csrf_token": {c.csrfToken()}, "username": {"bob"}, "password": {testPassword}, "padding": {""}}
		form.Set("padding", strings.Repeat("x", n-len(form.Encode())))
		if len(form.Encode()) != n {
			t.Fatalf("form of %d bytes, want %d", len(form.Encode()), n)
		}
		if r := c.postForm("/login", form, "Origin", srv.URL); r.StatusCode != want {
			t.Errorf("POST /login of %d bytes: %d, want %d", n, r.StatusCode, want)
		}
	}
}
