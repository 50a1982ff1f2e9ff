package csrf_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/sanitize"
)

var (
	key1 = bytes.Repeat([]byte{1}, 32)
	key2 = bytes.Repeat([]byte{2}, 32)
)

// sessionFromHeader is a stand-in for a session manager: the session
// identifier is whatever X-Test-Session says.
func sessionFromHeader(r *http.Request) (string, bool) {
	s := r.Header.Get("X-Test-Session")
	return s, s != ""
}

// tokenServer wraps a handler that prints csrf.Token(r) and records the
// error the middleware rejected with.
type tokenServer struct {
	h   http.Handler
	err error
}

func newTokenServer(t testing.TB, to csrf.TokenOptions, o csrf.Options) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	o.Tokens = &to
	o.OnReject = func(w http.ResponseWriter, r *http.Request, err error) {
		ts.err = err
		w.WriteHeader(http.StatusForbidden)
	}
	m, err := csrf.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts.h = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, csrf.Token(r))
	}))
	return ts
}

// do serves r and returns the status, the body and the cookies set.
func (ts *tokenServer) do(r *http.Request) (int, string, []*http.Cookie) {
	ts.err = nil
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, r)
	return rec.Code, rec.Body.String(), rec.Result().Cookies()
}

// get fetches a page and returns its token and the token cookie, if one
// was issued.
func (ts *tokenServer) get(t testing.TB, headers ...[2]string) (string, *http.Cookie) {
	t.Helper()
	code, body, cookies := ts.do(req{method: "GET", headers: headers}.build())
	if code != 200 || body == "" {
		t.Fatalf("GET: %d %q", code, body)
	}
	var c *http.Cookie
	if len(cookies) > 0 {
		c = cookies[0]
	}
	return body, c
}

func post(headers ...[2]string) *http.Request { return req{headers: headers}.build() }

func cookieHeader(c *http.Cookie) [2]string { return [2]string{"Cookie", c.Name + "=" + c.Value} }
func tokenHeader(tok string) [2]string      { return [2]string{"X-CSRF-Token", tok} }

func TestTokenCookieMode(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	tok, c := ts.get(t)
	if c == nil || c.Name != "__Host-csrf" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("token cookie = %+v", c)
	}
	tokB, cB := ts.get(t)

	tests := []struct {
		name string
		r    *http.Request
		err  error
	}{
		{"a request without Fetch Metadata and with the cookie's token passes", post(cookieHeader(c), tokenHeader(tok)), nil},
		{"a missing token is rejected", post(cookieHeader(c)), csrf.ErrTokenMissing},
		{"a token without its cookie is rejected", post(tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"a token for another cookie is rejected", post(cookieHeader(cB), tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"the other cookie's own token passes", post(cookieHeader(cB), tokenHeader(tokB)), nil},
		{"a tampered token is rejected", post(cookieHeader(c), tokenHeader(flip(tok))), csrf.ErrTokenInvalid},
		{"a truncated token is rejected", post(cookieHeader(c), tokenHeader(tok[:60])), csrf.ErrTokenInvalid},
		{"a token that is not base64url is rejected", post(cookieHeader(c), tokenHeader(strings.Repeat("*", 86))), csrf.ErrTokenInvalid},
		{"the unmasked cookie value is not a token", post(cookieHeader(c), tokenHeader(c.Value)), csrf.ErrTokenInvalid},
		{"a forged cookie with a matching-looking token is rejected",
			post([2]string{"Cookie", "__Host-csrf=" + strings.Repeat("A", 43)}, tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"two token headers are rejected", post(cookieHeader(c), tokenHeader(tok), tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"an overlong token is rejected", post(cookieHeader(c), tokenHeader(tok+strings.Repeat("A", 200))), csrf.ErrTokenInvalid},
		{"a same-origin browser request needs no token by default", post(sfs("same-origin")), nil},
		{"a cross-site request is rejected before tokens are looked at", post(sfs("cross-site"), cookieHeader(c), tokenHeader(tok)), csrf.ErrCrossOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, _ := ts.do(tt.r)
			if (code == 200) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
				t.Errorf("status %d, err %v; want %v", code, ts.err, tt.err)
			}
		})
	}
}

// flip changes one character of a token in a way that keeps it base64url.
func flip(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestTokenSessionMode(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}, csrf.Options{})
	alice := [2]string{"X-Test-Session", "alice-session"}
	mallory := [2]string{"X-Test-Session", "mallory-session"}
	tok, c := ts.get(t, alice)
	if c != nil {
		t.Errorf("a cookie was issued although there is a session: %v", c)
	}
	malloryTok, _ := ts.get(t, mallory)
	// A session ID that is also a well-formed cookie nonce, and the token
	// anyone gets for that nonce by sending it as their token cookie.
	nonce := strings.Repeat("A", 43)
	nonceTok, _ := ts.get(t, [2]string{"Cookie", "__Host-csrf=" + nonce})
	for _, tt := range []struct {
		name string
		r    *http.Request
		err  error
	}{
		{"the session's token passes", post(alice, tokenHeader(tok)), nil},
		{"the token of a cookie nonce is not the token of a session with that ID", post([2]string{"X-Test-Session", nonce}, tokenHeader(nonceTok)), csrf.ErrTokenInvalid},
		{"regression gofiber/fiber CVE-2023-45141 (GHSA-mv73-f69x-444p), token replay across sessions: another session's token is rejected", post(alice, tokenHeader(malloryTok)), csrf.ErrTokenInvalid},
		{"a session's token is rejected without the session", post(tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"a missing token is rejected", post(alice), csrf.ErrTokenMissing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, _ := ts.do(tt.r)
			if (code == 200) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
				t.Errorf("status %d, err %v; want %v", code, ts.err, tt.err)
			}
		})
	}
}

// An empty session ID is no session, even with ok set: the tokens of
// every request without an ID would otherwise be one and the same, and
// one client's token would pass for any other's (a mutation that bound
// tokens to the empty ID failed no test).
func TestAnEmptySessionIDIsNoSession(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, SessionID: func(*http.Request) (string, bool) { return "", true }}, csrf.Options{})
	tokA, cA := ts.get(t)
	_, cB := ts.get(t)
	if cA == nil || cB == nil {
		t.Fatalf("no token cookie issued: %v, %v", cA, cB)
	}
	if code, _, _ := ts.do(post(cookieHeader(cB), tokenHeader(tokA))); code == http.StatusOK || !errors.Is(ts.err, csrf.ErrTokenInvalid) {
		t.Errorf("another client's token passed: %d %v", code, ts.err)
	}
}

// TestCookieBoundTokenAfterTheSessionStarts: a form rendered without a
// session carries a token bound to the token cookie, and the next request
// may carry a session (the handler that rendered it started one). With a
// session the cookie-bound token used to be rejected; it is accepted when
// the request's own token cookie is one no sibling subdomain can plant.
func TestCookieBoundTokenAfterTheSessionStarts(t *testing.T) {
	alice := [2]string{"X-Test-Session", "alice-session"}
	mallory := [2]string{"X-Test-Session", "mallory-session"}
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}, csrf.Options{})
	tok, c := ts.get(t) // rendered before the session started
	_, other := ts.get(t)
	malloryTok, _ := ts.get(t, mallory)
	inSession, _ := ts.get(t, alice, cookieHeader(c)) // rendered in the session, with the cookie

	rotated := newTokenServer(t, csrf.TokenOptions{Key: key2, PreviousKeys: [][]byte{key1}, SessionID: sessionFromHeader}, csrf.Options{})
	retired := newTokenServer(t, csrf.TokenOptions{Key: key2, SessionID: sessionFromHeader}, csrf.Options{})

	for _, tt := range []struct {
		name string
		ts   *tokenServer
		r    *http.Request
		err  error
	}{
		{"a cookie-bound token passes with a session and its __Host- cookie", ts, post(alice, cookieHeader(c), tokenHeader(tok)), nil},
		{"the form field passes too", ts, with(formPost(t, c, false, url.Values{"csrf_token": {tok}}), alice), nil},
		{"a cookie-bound token is rejected with a session and no cookie", ts, post(alice, tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"a cookie-bound token is rejected with another cookie", ts, post(alice, cookieHeader(other), tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"a cookie-bound token is rejected with a malformed cookie", ts, post(alice, [2]string{"Cookie", "__Host-csrf=" + c.Value[:40]}, tokenHeader(tok)), csrf.ErrTokenInvalid},
		{"the unmasked cookie value is not a token in a session either", ts, post(alice, cookieHeader(c), tokenHeader(c.Value)), csrf.ErrTokenInvalid},
		{"another session's token is still rejected with the cookie", ts, post(alice, cookieHeader(c), tokenHeader(malloryTok)), csrf.ErrTokenInvalid},
		{"a token rendered in a session is session-bound: it passes with the session alone", ts, post(alice, tokenHeader(inSession)), nil},
		{"a token rendered in a session is session-bound: the cookie alone does not pass it", ts, post(cookieHeader(c), tokenHeader(inSession)), csrf.ErrTokenInvalid},
		{"a cookie-bound token under a previous key passes during a rotation", rotated, post(alice, cookieHeader(c), tokenHeader(tok)), nil},
		{"a cookie-bound token under a retired key is rejected", retired, post(alice, cookieHeader(c), tokenHeader(tok)), csrf.ErrTokenInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, _ := tt.ts.do(tt.r)
			if (code == 200) != (tt.err == nil) || !errors.Is(tt.ts.err, tt.err) {
				t.Errorf("status %d, err %v; want %v", code, tt.ts.err, tt.err)
			}
		})
	}
}

// with adds a header to r and returns r.
func with(r *http.Request, h [2]string) *http.Request {
	r.Header.Add(h[0], h[1])
	return r
}

// TestCookieBoundTokenIsRefusedInASessionWhenTheCookieCanBePlanted: a
// sibling subdomain can plant a cookie without the __Host- prefix (or
// without Secure) holding a nonce it knows, and get a token for that nonce
// by fetching a page with the cookie itself. Accepting cookie-bound tokens
// from requests with a session would then be a forgery against logged-in
// users, so the fallback is refused for such cookies. This is the token
// injection of gofiber/fiber CVE-2023-45128 (GHSA-94w9-97p3-p368), whose
// double-submit cookie an attacker could set to a value it held a token for.
func TestCookieBoundTokenIsRefusedInASessionWhenTheCookieCanBePlanted(t *testing.T) {
	session := [2]string{"X-Test-Session", "victim-session"}
	for _, tt := range []struct {
		name     string
		opts     csrf.TokenOptions
		fallback bool
	}{
		{"the default __Host-csrf cookie", csrf.TokenOptions{}, true},
		{"a custom __Host- name", csrf.TokenOptions{CookieName: "__Host-app-csrf"}, true},
		{"a custom name without a prefix", csrf.TokenOptions{CookieName: "csrf"}, false},
		{"a __Secure- name, which a sibling can set with Domain", csrf.TokenOptions{CookieName: "__Secure-csrf"}, false},
		{"a __HOST- name, which browsers matching prefixes in exact case let a sibling set", csrf.TokenOptions{CookieName: "__HOST-csrf"}, false},
		{"DangerouslyAllowInsecureCookie", csrf.TokenOptions{DangerouslyAllowInsecureCookie: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Key, tt.opts.SessionID = key1, sessionFromHeader
			ts := newTokenServer(t, tt.opts, csrf.Options{})
			// The attacker fetches a page with its own nonce in the cookie
			// and gets a token for it; the nonce is then planted in the
			// victim's browser, which sends it with the victim's session.
			planted := &http.Cookie{Name: ts.cookieName(t), Value: strings.Repeat("A", 43)}
			tok, _ := ts.get(t, cookieHeader(planted))
			if code, _, _ := ts.do(post(cookieHeader(planted), tokenHeader(tok))); code != 200 {
				t.Fatalf("the token for the planted nonce does not pass without a session: %v", ts.err)
			}
			code, _, _ := ts.do(post(session, cookieHeader(planted), tokenHeader(tok)))
			if tt.fallback && code != 200 {
				t.Errorf("a cookie-bound token with a session is rejected: %v", ts.err)
			}
			if !tt.fallback && (code == 200 || !errors.Is(ts.err, csrf.ErrTokenInvalid)) {
				t.Errorf("status %d, reason %v: a token for a plantable cookie passed with the victim's session", code, ts.err)
			}
		})
	}
}

// cookieName returns the name of the token cookie ts issues.
func (ts *tokenServer) cookieName(t testing.TB) string {
	t.Helper()
	_, c := ts.get(t)
	if c == nil {
		t.Fatal("no token cookie issued")
	}
	return c.Name
}

// TestTokenFromTheResponseThatStartsTheSession runs the recommended set-up
// (the middleware outside the session middleware, SessionID reading the
// session cookie) with a browser-like client against a TLS server: a page
// whose handler starts the session renders a form, and the browser posts
// it back with both cookies it received.
func TestTokenFromTheResponseThatStartsTheSession(t *testing.T) {
	const sessionCookie = "__Host-session"
	sessionID := func(r *http.Request) (string, bool) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			return "", false
		}
		return c.Value, true
	}
	for _, tt := range []struct {
		name    string
		always  bool
		headers [][2]string // what the browser adds to the POST
	}{
		{"an old browser, sending neither Sec-Fetch-Site nor Origin", false, nil},
		{"a current browser, with Always", true, [][2]string{sfs("same-origin")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, SessionID: sessionID, Always: tt.always}})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /product", func(w http.ResponseWriter, r *http.Request) {
				// The first value stored starts the session here.
				http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: rand.Text(), Path: "/", Secure: true, HttpOnly: true})
				_, _ = io.WriteString(w, csrf.Token(r)) // the add-to-cart form
			})
			mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "added")
			})
			srv := httptest.NewTLSServer(m.Handler(mux))
			defer srv.Close()
			client := srv.Client()
			client.Jar, _ = cookiejar.New(nil)

			resp, err := client.Get(srv.URL + "/product")
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(resp.Cookies()) != 2 {
				t.Fatalf("GET /product set %v: want the token and session cookies", resp.Cookies())
			}

			r, _ := http.NewRequest("POST", srv.URL+"/cart", strings.NewReader(url.Values{"csrf_token": {string(tok)}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, h := range tt.headers {
				r.Header.Set(h[0], h[1])
			}
			resp, err = client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("posting the form rendered by the response that started the session: status %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestTokensAreMaskedPerCall(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}, csrf.Options{})
	s := [2]string{"X-Test-Session", "s"}
	a, _ := ts.get(t, s)
	b, _ := ts.get(t, s)
	if a == b || len(a) != 86 {
		t.Fatalf("tokens %q and %q: want distinct 86-character values", a, b)
	}
	for _, tok := range []string{a, b} {
		if code, _, _ := ts.do(post(s, tokenHeader(tok))); code != 200 {
			t.Errorf("token %q rejected: %v", tok, ts.err)
		}
	}
}

func TestTokenFromForm(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	tok, c := ts.get(t)

	form := url.Values{"csrf_token": {tok}, "amount": {"10"}}.Encode()
	r := httptest.NewRequest("POST", "https://example.com/transfer", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(c)
	if code, _, _ := ts.do(r); code != 200 {
		t.Errorf("urlencoded form: %v", ts.err)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", tok)
	_ = mw.Close()
	r = httptest.NewRequest("POST", "https://example.com/upload", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.AddCookie(c)
	if code, _, _ := ts.do(r); code != 200 {
		t.Errorf("multipart form: %v", ts.err)
	}

	r = httptest.NewRequest("POST", "https://example.com/transfer?csrf_token="+tok, nil)
	r.AddCookie(c)
	if code, _, _ := ts.do(r); code == 200 {
		t.Error("a token in the query string was accepted; it leaks through logs and Referer")
	}

	big := url.Values{"csrf_token": {tok}, "pad": {strings.Repeat("x", 2<<20)}}.Encode()
	r = httptest.NewRequest("POST", "https://example.com/transfer", strings.NewReader(big))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(c)
	if code, _, _ := ts.do(r); code == 200 {
		t.Error("a form larger than MaxFormBytes was read")
	}
}

// formPost returns a POST whose form body carries the given values, with
// the token cookie c; multi selects multipart/form-data.
func formPost(t testing.TB, c *http.Cookie, multi bool, form url.Values) *http.Request {
	t.Helper()
	var r *http.Request
	if multi {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, vs := range form {
			for _, v := range vs {
				if err := mw.WriteField(k, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		r = httptest.NewRequest("POST", "https://example.com/upload", &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
	} else {
		r = httptest.NewRequest("POST", "https://example.com/transfer", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.AddCookie(c)
	return r
}

// TestMalformedTokenIsInvalidNotMissing: a token that was sent but is
// malformed is ErrTokenInvalid in the form field as in the header; only no
// token at all is ErrTokenMissing. The form field used to drop a value that
// was not exactly 86 characters, so the log said the token was missing.
func TestMalformedTokenIsInvalidNotMissing(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	tok, c := ts.get(t)
	field := func(v ...string) url.Values { return url.Values{"csrf_token": v, "amount": {"10"}} }
	for _, tt := range []struct {
		name string
		r    *http.Request
		err  error
	}{
		{"a truncated token in the header is invalid", post(cookieHeader(c), tokenHeader(tok[:80])), csrf.ErrTokenInvalid},
		{"a truncated token in the form field is invalid", formPost(t, c, false, field(tok[:80])), csrf.ErrTokenInvalid},
		{"a token with extra characters in the form field is invalid", formPost(t, c, false, field(tok+"AAAA")), csrf.ErrTokenInvalid},
		{"a one-character token in the form field is invalid", formPost(t, c, false, field("x")), csrf.ErrTokenInvalid},
		{"a token that is not base64url in the form field is invalid", formPost(t, c, false, field(strings.Repeat("*", 86))), csrf.ErrTokenInvalid},
		{"a truncated token in a multipart form field is invalid", formPost(t, c, true, field(tok[:80])), csrf.ErrTokenInvalid},
		{"two form fields are invalid, even both valid", formPost(t, c, false, field(tok, tok)), csrf.ErrTokenInvalid},
		{"two multipart form fields are invalid", formPost(t, c, true, field(tok, tok)), csrf.ErrTokenInvalid},
		{"a form without the field is missing", formPost(t, c, false, url.Values{"amount": {"10"}}), csrf.ErrTokenMissing},
		{"an empty form field is missing: no token was rendered", formPost(t, c, false, field("")), csrf.ErrTokenMissing},
		{"an empty token header is missing", post(cookieHeader(c), tokenHeader("")), csrf.ErrTokenMissing},
		{"a body that is not a form is missing", post(cookieHeader(c), [2]string{"Content-Type", "application/json"}), csrf.ErrTokenMissing},
		{"a form larger than MaxFormBytes is too large: the field was not read",
			formPost(t, c, false, url.Values{"csrf_token": {tok}, "pad": {strings.Repeat("x", 2<<20)}}), csrf.ErrFormTooLarge},
		{"a multipart form larger than MaxFormBytes is too large",
			formPost(t, c, true, url.Values{"csrf_token": {tok}, "pad": {strings.Repeat("x", 2<<20)}}), csrf.ErrFormTooLarge},
		{"the form's own token still passes", formPost(t, c, false, field(tok)), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, _ := ts.do(tt.r)
			if (code == 200) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
				t.Errorf("status %d, reason %v; want %v", code, ts.err, tt.err)
			}
		})
	}
}

// TestRejectedRequestDoesNotReplaceTheTokenCookie: a forged cross-site
// top-level POST arrives without the SameSite=Lax token cookie, and a
// browser stores a Lax cookie set on the response to a top-level
// navigation (RFC 6265bis 5.7). The middleware issued a fresh cookie on
// every request without one, rejected or not, so the attacker's page could
// replace the victim's cookie and void every form the victim had open.
func TestRejectedRequestDoesNotReplaceTheTokenCookie(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   csrf.TokenOptions
		forged [][2]string // what the browser sends with the attacker's POST
		own    [][2]string // what it sends with the victim's own form
		err    error       // why the forged POST is rejected
	}{
		{"a current browser, with Always", csrf.TokenOptions{Key: key1, Always: true},
			[][2]string{sfs("cross-site"), origin("https://evil.test")},
			[][2]string{sfs("same-origin"), origin("https://example.com")}, csrf.ErrCrossOrigin},
		{"an old browser sending a cross-site Origin, with Always", csrf.TokenOptions{Key: key1, Always: true},
			[][2]string{origin("https://evil.test")}, [][2]string{origin("https://example.com")}, csrf.ErrOriginMismatch},
		{"an old browser sending neither header", csrf.TokenOptions{Key: key1},
			nil, nil, csrf.ErrTokenMissing},
		{"an old browser sending neither header, in session mode without a session", csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader},
			nil, nil, csrf.ErrTokenMissing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, tt.opts, csrf.Options{})
			tok, c := ts.get(t) // the victim's open form and its cookie

			rec := httptest.NewRecorder()
			ts.err = nil
			ts.h.ServeHTTP(rec, post(tt.forged...))
			if rec.Code != http.StatusForbidden || !errors.Is(ts.err, tt.err) {
				t.Fatalf("forged request: status %d, reason %v; want 403 with %v", rec.Code, ts.err, tt.err)
			}
			if set := rec.Result().Cookies(); len(set) > 0 {
				t.Errorf("the rejection set cookies %v", set)
				for _, nc := range set {
					if nc.Name == c.Name {
						c = nc // the browser stores it, replacing the victim's
					}
				}
			}
			if v := rec.Header().Values("Vary"); len(v) > 0 {
				t.Errorf("the rejection has Vary %q, as if it issued a cookie", v)
			}
			if code, _, _ := ts.do(post(append(tt.own, cookieHeader(c), tokenHeader(tok))...)); code != http.StatusOK {
				t.Errorf("after the forged request the victim's own form is rejected: status %d, reason %v", code, ts.err)
			}
		})
	}
}

// TestTokenCookieIsIssuedToRequestsThatPass: every request without a valid
// token cookie that passes, safe or not, gets one with its caching
// headers, and its handler can render a token for it; only an unsafe
// request to an exempt route gets none (see
// TestAnExemptRouteDoesNotReplaceTheTokenCookie).
func TestTokenCookieIsIssuedToRequestsThatPass(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	for _, tt := range []struct {
		name string
		r    *http.Request
	}{
		{"a GET", req{method: "GET"}.build()},
		{"a same-origin POST", post(sfs("same-origin"))},
		{"a GET with a malformed cookie", req{method: "GET", headers: [][2]string{{"Cookie", "__Host-csrf=x"}}}.build()},
		{"a GET with an overlong cookie", req{method: "GET", headers: [][2]string{{"Cookie", "__Host-csrf=" + strings.Repeat("A", 60)}}}.build()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			ts.h.ServeHTTP(rec, tt.r)
			set := rec.Result().Cookies()
			if rec.Code != http.StatusOK || len(set) != 1 || set[0].Name != "__Host-csrf" {
				t.Fatalf("status %d, cookies %v: want 200 with the token cookie", rec.Code, set)
			}
			if rec.Header().Get("Vary") != "Cookie" || rec.Header().Get("Cache-Control") != "private" {
				t.Errorf("Vary %q, Cache-Control %q: want Cookie and private", rec.Header().Get("Vary"), rec.Header().Get("Cache-Control"))
			}
			tok := rec.Body.String()
			if code, _, _ := ts.do(post(cookieHeader(set[0]), tokenHeader(tok))); code != http.StatusOK {
				t.Errorf("the token rendered with the new cookie was rejected: %v", ts.err)
			}
		})
	}
}

// TestTokenCookieResponseIsNeverSharedCacheable: the package doc says a
// response that issues the token cookie carries "Cache-Control: private".
// A Cache-Control set further out that would let a shared cache store the
// response (and hand the cookie to other clients) is made private, and
// keeps what it asks of the browser's cache (no-cache, max-age); one that
// already keeps it out of shared caches is left as it is.
func TestTokenCookieResponseIsNeverSharedCacheable(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	for _, tt := range []struct{ outer, want string }{
		{"", "private"},
		{"public, max-age=600", "private, max-age=600"},
		{"max-age=600", "private, max-age=600"},
		// Found in review: a bare private replaced it, and the browser
		// could reuse what it was told to revalidate.
		{"no-cache", "private, no-cache"},
		{"NO-CACHE, must-revalidate", "private, NO-CACHE, must-revalidate"},
		{"s-maxage=60, stale-while-revalidate=30", "private, stale-while-revalidate=30"},
		{"S-MAXAGE = 60,PUBLIC,,max-age=5", "private, max-age=5"},
		{"no-store", "no-store"},
		{"private, max-age=60", "private, max-age=60"},
		{"max-age=0, Private", "max-age=0, Private"},
		{"NO-STORE", "NO-STORE"},
		{`private="X-Foo", max-age=600`, "private, max-age=600"},
		{`private="Set-Cookie"`, "private"},
		// A comma in a quoted string ends nothing: "no-store" here is a
		// field name, and X-Bar" no directive.
		{`private="X-Foo, no-store, X-Bar", no-cache`, "private, no-cache"},
		{`no-cache="Set-Cookie, X-\"a,b"`, `private, no-cache="Set-Cookie, X-\"a,b"`},
		// A long s (U+017F) is not an s to a cache: strings.EqualFold
		// folded "no-\u017ftore" into no-store, and the public response kept.
		{"public, no-\u017ftore", "private, no-\u017ftore"},
	} {
		t.Run(tt.outer, func(t *testing.T) {
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.outer != "" {
					w.Header().Set("Cache-Control", tt.outer)
				}
				w.Header().Set("CDN-Cache-Control", "max-age=600")
				w.Header().Set("Surrogate-Control", "max-age=600")
				ts.h.ServeHTTP(w, r)
			})
			rec := httptest.NewRecorder()
			outer.ServeHTTP(rec, req{method: "GET"}.build())
			if len(rec.Result().Cookies()) != 1 {
				t.Fatalf("status %d, no token cookie issued", rec.Code)
			}
			if got := rec.Header().Values("Cache-Control"); len(got) != 1 || got[0] != tt.want {
				t.Errorf("Cache-Control %q, want %q", got, tt.want)
			}
			// A CDN obeys these instead of Cache-Control (RFC 9213).
			for _, k := range []string{"Cdn-Cache-Control", "Surrogate-Control"} {
				if v := rec.Header().Values(k); len(v) > 0 {
					t.Errorf("%s %q kept on a response that issues the token cookie", k, v)
				}
			}
		})
	}
}

func TestTokenAlways(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, Always: true}, csrf.Options{Exempt: []csrf.Exemption{
		{Pattern: "POST /hook", Reason: "signed webhook"},
	}})
	tok, c := ts.get(t)
	if code, _, _ := ts.do(post(sfs("same-origin"))); code == 200 || !errors.Is(ts.err, csrf.ErrTokenMissing) {
		t.Errorf("a same-origin request without a token passed with Always: %v", ts.err)
	}
	if code, _, _ := ts.do(post(sfs("same-origin"), cookieHeader(c), tokenHeader(tok))); code != 200 {
		t.Errorf("a same-origin request with a token: %v", ts.err)
	}
	r := req{target: "https://example.com/hook", headers: [][2]string{sfs("cross-site")}}.build()
	if code, _, _ := ts.do(r); code != 200 {
		t.Errorf("an exempt route needed a token: %v", ts.err)
	}
}

// TestExemptRouteNeedsNoToken: an exempt route, a configured bypass such
// as a signed webhook, is exempt from tokens too. Its callers are servers
// that send neither Fetch Metadata nor Origin, the very requests that
// token mode asks a token of, and they have no page to take one from.
func TestExemptRouteNeedsNoToken(t *testing.T) {
	exempt := csrf.Options{Exempt: []csrf.Exemption{{Pattern: "POST /hook", Reason: "signed webhook"}}}
	for _, tt := range []struct {
		name   string
		tokens csrf.TokenOptions
		r      *http.Request
		err    error
	}{
		{"a webhook without Fetch Metadata or Origin passes",
			csrf.TokenOptions{Key: key1}, req{target: "https://example.com/hook"}.build(), nil},
		{"a same-origin request to the exempt route passes with Always",
			csrf.TokenOptions{Key: key1, Always: true}, req{target: "https://example.com/hook", headers: [][2]string{sfs("same-origin")}}.build(), nil},
		{"another route still needs a token",
			csrf.TokenOptions{Key: key1}, req{target: "https://example.com/transfer"}.build(), csrf.ErrTokenMissing},
		{"another method on the exempt path still needs a token",
			csrf.TokenOptions{Key: key1}, req{method: "PUT", target: "https://example.com/hook"}.build(), csrf.ErrTokenMissing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, tt.tokens, exempt)
			code, _, _ := ts.do(tt.r)
			if (code == 200) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
				t.Errorf("status %d, err %v; want %v", code, ts.err, tt.err)
			}
		})
	}
}

// TestCheckRefusesTheTokenStateOfAnotherMiddleware: two Middlewares with
// tokens under different keys (one per route group, or an outer one for
// the whole site) must not verify each other's tokens. A handler behind
// one that calls the other's Check finds the first one's token state in
// the context: taking it would verify the request against the wrong key
// and binding, so a token issued for one group would pass the other.
func TestCheckRefusesTheTokenStateOfAnotherMiddleware(t *testing.T) {
	site := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
	admin := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key2}})
	var siteErr, adminErr error
	h := site.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, csrf.Token(r))
			return
		}
		siteErr, adminErr = site.Check(r), admin.Check(r)
	}))
	ts := &tokenServer{h: h}
	tok, c := ts.get(t)
	if code, _, _ := ts.do(post(cookieHeader(c), tokenHeader(tok))); code != 200 {
		t.Fatalf("the site's token on the site's route: %d", code)
	}
	if siteErr != nil {
		t.Errorf("site Check = %v, want nil", siteErr)
	}
	if !errors.Is(adminErr, csrf.ErrTokenInvalid) {
		t.Errorf("admin Check of a request carrying the site's token = %v, want %v", adminErr, csrf.ErrTokenInvalid)
	}
}

func TestTokenKeyRotation(t *testing.T) {
	old := newTokenServer(t, csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}, csrf.Options{})
	s := [2]string{"X-Test-Session", "s"}
	tok, _ := old.get(t, s)

	rotated := newTokenServer(t, csrf.TokenOptions{Key: key2, PreviousKeys: [][]byte{key1}, SessionID: sessionFromHeader}, csrf.Options{})
	if code, _, _ := rotated.do(post(s, tokenHeader(tok))); code != 200 {
		t.Errorf("a token under the previous key was rejected during rotation: %v", rotated.err)
	}
	retired := newTokenServer(t, csrf.TokenOptions{Key: key2, SessionID: sessionFromHeader}, csrf.Options{})
	if code, _, _ := retired.do(post(s, tokenHeader(tok))); code == 200 {
		t.Error("a token under a retired key was accepted")
	}
}

func TestTemplateField(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, FieldName: "authenticity_token"}})
	tmpl := template.Must(template.New("").Parse(`<form method="post">{{.}}</form>`))
	var out bytes.Buffer
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tmpl.Execute(&out, csrf.TemplateField(r))
	})).ServeHTTP(httptest.NewRecorder(), req{method: "GET"}.build())
	if !regexp.MustCompile(`^<form method="post"><input type="hidden" name="authenticity_token" value="[A-Za-z0-9_-]{86}"></form>$`).Match(out.Bytes()) {
		t.Errorf("rendered %s", out.String())
	}
	if csrf.Token(httptest.NewRequest("GET", "/", nil)) != "" || csrf.TemplateField(httptest.NewRequest("GET", "/", nil)) != "" {
		t.Error("a token outside the middleware")
	}
}

func TestTokenCheckOutsideTheMiddlewareFailsClosed(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
	if err := m.Check(post(tokenHeader(strings.Repeat("A", 86)))); !errors.Is(err, csrf.ErrTokenInvalid) {
		t.Errorf("Check = %v", err)
	}
}

// TestTokenEndToEnd runs a browser-like client with a cookie jar against a
// TLS server: fetch the form, post it back.
func TestTokenEndToEnd(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, csrf.Token(r))
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "done")
	})
	srv := httptest.NewTLSServer(m.Handler(mux))
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)

	resp, err := client.Get(srv.URL + "/form")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	send := func(token string) int {
		resp, err := client.PostForm(srv.URL+"/transfer", url.Values{"csrf_token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(string(tok)); code != 200 {
		t.Errorf("posting the form's token: %d", code)
	}
	if code := send(""); code != 403 {
		t.Errorf("posting without a token: %d", code)
	}
}

// TestFormTooLargeIsAnswered413: without a custom OnReject, a form body
// larger than MaxFormBytes, whose token field cannot be read, is answered
// with a 413 problem, not a 403 that reads as a forgery.
func TestFormTooLargeIsAnswered413(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, MaxFormBytes: 4 << 10}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, csrf.Token(r)) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	tok, c := rec.Body.String(), rec.Result().Cookies()[0]
	for _, tt := range []struct {
		name string
		pad  int
		want int
	}{
		{"a form within MaxFormBytes", 1 << 10, http.StatusOK},
		{"a form over MaxFormBytes", 8 << 10, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, formPost(t, c, false, url.Values{"csrf_token": {tok}, "pad": {strings.Repeat("x", tt.pad)}}))
			if rec.Code != tt.want || tt.want != http.StatusOK && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("status %d, Content-Type %q; want %d", rec.Code, rec.Header().Get("Content-Type"), tt.want)
			}
		})
	}
}

// TestInsecureCookieDefaults: with DangerouslyAllowInsecureCookie the token
// cookie is named "csrf" by default (browsers reject a __Host- cookie
// without Secure) and keeps its other fixed attributes.
func TestInsecureCookieDefaults(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     csrf.TokenOptions
		wantName string
	}{
		{"the default name", csrf.TokenOptions{DangerouslyAllowInsecureCookie: true}, "csrf"},
		{"a chosen name", csrf.TokenOptions{DangerouslyAllowInsecureCookie: true, CookieName: "xsrf"}, "xsrf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Key = key1
			m := csrf.MustNew(csrf.Options{Tokens: &tt.opts})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, csrf.Token(r)) }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/", nil))
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies %v", cs)
			}
			c := cs[0]
			if c.Name != tt.wantName || c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.MaxAge != 0 || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("Set-Cookie %q; want %s, not Secure, HttpOnly, Path=/, no Domain, no Max-Age, SameSite=Lax", rec.Header().Get("Set-Cookie"), tt.wantName)
			}
		})
	}
}

// TestDefaultMaxFormBytes: TokenOptions.MaxFormBytes defaults to 1 MiB, a
// form body of that size is read, and one byte more is answered 413.
func TestDefaultMaxFormBytes(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, csrf.Token(r)) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	tok, c := rec.Body.String(), rec.Result().Cookies()[0]
	base := len(url.Values{"csrf_token": {tok}, "pad": {""}}.Encode())
	for _, tt := range []struct {
		name string
		size int // of the whole body
		want int
	}{
		{"a form of 1 MiB is read", 1 << 20, http.StatusOK},
		{"a form of 1 MiB and one byte is too large", 1<<20 + 1, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"csrf_token": {tok}, "pad": {strings.Repeat("x", tt.size-base)}}
			if n := len(form.Encode()); n != tt.size {
				t.Fatalf("body of %d bytes, want %d", n, tt.size)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, formPost(t, c, false, form))
			if rec.Code != tt.want {
				t.Errorf("status %d; want %d", rec.Code, tt.want)
			}
		})
	}
}

// TestTokenFieldIsTakenOutOfTheForm: the handler behind the middleware
// decodes the form it parsed with sanitize's strict decoder, which refuses
// a field it does not know. The token field is the middleware's own and
// must not reach it, while every field of the application does.
func TestTokenFieldIsTakenOutOfTheForm(t *testing.T) {
	type transfer struct {
		Amount int    `form:"amount"`
		To     string `form:"to"`
	}
	for _, multi := range []bool{false, true} {
		var got transfer
		var decodeErr error
		var form url.Values
		m, err := csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
		if err != nil {
			t.Fatal(err)
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, csrf.Token(r))
				return
			}
			form = r.PostForm
			if _, ok := r.Form["csrf_token"]; ok {
				t.Errorf("multipart %v: the token field is in r.Form", multi)
			}
			if r.MultipartForm != nil && r.MultipartForm.Value["csrf_token"] != nil {
				t.Errorf("multipart %v: the token field is in r.MultipartForm", multi)
			}
			if !multi {
				got, decodeErr = sanitize.DecodeForm[transfer](nil, w, r)
			}
		}))
		ts := &tokenServer{h: h}
		tok, c := ts.get(t)
		code, _, _ := ts.do(formPost(t, c, multi, url.Values{"csrf_token": {tok}, "amount": {"10"}, "to": {"bob"}}))
		if code != http.StatusOK {
			t.Fatalf("multipart %v: status %d", multi, code)
		}
		if _, ok := form["csrf_token"]; ok || form.Get("amount") != "10" || form.Get("to") != "bob" {
			t.Errorf("multipart %v: the handler's form is %v, want amount and to without csrf_token", multi, form)
		}
		if !multi && (decodeErr != nil || got != transfer{Amount: 10, To: "bob"}) {
			t.Errorf("DecodeForm after the middleware = %+v, %v; want {10 bob}, nil", got, decodeErr)
		}
	}
}

// TestTokenFieldIsTakenOutOfTheFormOfACurrentBrowser: a form rendered
// with TemplateField is posted by current browsers too, with
// Sec-Fetch-Site, when no token is needed (Always false), and a script
// may send the form with the token in the header as well. The middleware
// read the token field only when it needed it from the form, so such a
// post reached the handler with the field in its form, and a strict
// decoder (sanitize.DecodeForm) refused it as unknown: the form worked in
// old browsers and failed with 400 in every current one. The body stays
// readable as sent, a form that does not parse fails in the handler as
// before, a body over MaxFormBytes is not read, and a multipart body is
// left for r.MultipartReader.
func TestTokenFieldIsTakenOutOfTheFormOfACurrentBrowser(t *testing.T) {
	type transfer struct {
		Amount int `form:"amount"`
	}
	for _, tt := range []struct {
		name   string
		opts   csrf.TokenOptions
		multi  bool
		header bool
		raw    bool // the body is given back to r.Body
	}{
		{"no token needed", csrf.TokenOptions{Key: key1}, false, false, true},
		// Left as sent: r.MultipartReader would fail on a parsed form.
		{"no token needed, multipart", csrf.TokenOptions{Key: key1}, true, false, true},
		{"the token in the header too, Always", csrf.TokenOptions{Key: key1, Always: true}, false, true, true},
		// Read as before: FieldName says the body is then consumed.
		{"the token in the form, Always", csrf.TokenOptions{Key: key1, Always: true}, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := csrf.MustNew(csrf.Options{Tokens: &tt.opts})
			var got transfer
			var decodeErr error
			var form url.Values
			var raw string
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					_, _ = io.WriteString(w, csrf.Token(r))
					return
				}
				if tt.multi {
					if _, err := r.MultipartReader(); err != nil {
						t.Errorf("MultipartReader: %v", err)
					}
					return
				}
				got, decodeErr = sanitize.DecodeForm[transfer](nil, w, r)
				form = r.PostForm
				b, _ := io.ReadAll(r.Body)
				raw = string(b)
			}))
			ts := &tokenServer{h: h}
			tok, c := ts.get(t)
			r := formPost(t, c, tt.multi, url.Values{"csrf_token": {tok}, "amount": {"10"}})
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			if tt.header {
				r.Header.Set("X-CSRF-Token", tok)
			}
			code, _, _ := ts.do(r)
			if code != http.StatusOK || !tt.multi && (decodeErr != nil || got.Amount != 10) {
				t.Errorf("status %d, DecodeForm = %+v, %v; want 200 and {10}", code, got, decodeErr)
			}
			if _, ok := form["csrf_token"]; !tt.multi && (ok || form.Get("amount") != "10") {
				t.Errorf("the handler's form is %v, want amount without csrf_token", form)
			}
			if !tt.multi && tt.raw != strings.Contains(raw, "amount") {
				t.Errorf("the handler read the body %q; want it as sent: %v", raw, tt.raw)
			}
		})
	}
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, MaxFormBytes: 64}})
	for _, tt := range []struct{ name, body string }{
		{"a form that does not parse", "amount=10&csrf_token=%zz"},
		{"a form over MaxFormBytes", "amount=10&csrf_token=" + strings.Repeat("x", 100)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var parseErr error
			var n int
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				parseErr = r.ParseForm()
				n = len(r.PostForm)
			}))
			r := httptest.NewRequest("POST", "https://example.com/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			h.ServeHTTP(httptest.NewRecorder(), r)
			want, wantErr := url.ParseQuery(tt.body)
			if (parseErr == nil) != (wantErr == nil) || n != len(want) {
				t.Errorf("the handler's ParseForm = %v with %d fields, want %v with %d as sent", parseErr, n, wantErr, len(want))
			}
		})
	}
}

// TestCheckInsideTheHandlerAfterTheTokenFieldWasRead: Check is meant to
// run inside the middleware's handler, and a second Check of the same
// request (a handler that asks again, a sub-router with the same
// must decide as the middleware's did. Taking the token field out of the
// parsed form made every later Check of a form-token request
// ErrTokenMissing.
func TestCheckInsideTheHandlerAfterTheTokenFieldWasRead(t *testing.T) {
	for _, multi := range []bool{false, true} {
		m, err := csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
		if err != nil {
			t.Fatal(err)
		}
		var again error
		ran := false
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, csrf.Token(r))
				return
			}
			ran = true
			again = m.Check(r)
			if _, ok := r.PostForm["csrf_token"]; ok {
				t.Errorf("multipart %v: the token field is in the handler's form", multi)
			}
		}))
		ts := &tokenServer{h: h}
		tok, c := ts.get(t)
		code, _, _ := ts.do(formPost(t, c, multi, url.Values{"csrf_token": {tok}, "amount": {"10"}}))
		if code != http.StatusOK || !ran {
			t.Fatalf("multipart %v: status %d", multi, code)
		}
		if again != nil {
			t.Errorf("multipart %v: Check inside the handler = %v, want nil as the middleware's own Check", multi, again)
		}
	}
}

// TestAnExemptRouteDoesNotReplaceTheTokenCookie: an exempt route accepts
// cross-site requests, and a cross-site top-level POST arrives without the
// SameSite=Lax token cookie. The middleware issued a fresh cookie to every
// request without one that passed, exempt ones included, so any site could
// post a form to an exempt route (a SAML or OAuth callback), have the
// browser store the new cookie from the response to that navigation (RFC
// 6265bis 5.7) and void every form the victim had open, as a rejected
// request no longer could.
func TestAnExemptRouteDoesNotReplaceTheTokenCookie(t *testing.T) {
	exempt := csrf.Options{Exempt: []csrf.Exemption{{Pattern: "POST /saml/acs", Reason: "the identity provider posts cross-site"}}}
	acs := "https://example.com/saml/acs"
	for _, tt := range []struct {
		name   string
		opts   csrf.TokenOptions
		forged req // what the browser sends with the attacker's POST
	}{
		{"a current browser", csrf.TokenOptions{Key: key1},
			req{target: acs, headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}},
		{"a current browser, with Always", csrf.TokenOptions{Key: key1, Always: true},
			req{target: acs, headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}},
		{"an old browser sending a cross-site Origin", csrf.TokenOptions{Key: key1},
			req{target: acs, headers: [][2]string{origin("https://evil.test")}}},
		{"an old browser sending neither header", csrf.TokenOptions{Key: key1}, req{target: acs}},
		{"an old browser sending neither header, in session mode without a session", csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader},
			req{target: acs}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, tt.opts, exempt)
			tok, c := ts.get(t) // the victim's open form and its cookie

			rec := httptest.NewRecorder()
			ts.err = nil
			ts.h.ServeHTTP(rec, tt.forged.build())
			if rec.Code != http.StatusOK {
				t.Fatalf("request to the exempt route: status %d, reason %v; want 200", rec.Code, ts.err)
			}
			for _, nc := range rec.Result().Cookies() {
				t.Errorf("the exempt route set cookie %v", nc)
				if nc.Name == c.Name {
					c = nc // the browser stores it, replacing the victim's
				}
			}
			if code, _, _ := ts.do(post(cookieHeader(c), tokenHeader(tok))); code != http.StatusOK {
				t.Errorf("after the request to the exempt route the victim's own form is rejected: status %d, reason %v", code, ts.err)
			}
		})
	}
}

// TestTokenIsNeverReadFromTheQueryString: the token field is read from the
// form body only (r.PostForm), never from the query string, which leaks
// into logs and Referer headers. A form post whose token is only in the
// query is missing its token, and a token in the query does not spoil the
// body's own.
func TestTokenIsNeverReadFromTheQueryString(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	tok, c := ts.get(t)
	inQuery := func(r *http.Request, v string) *http.Request {
		r.URL.RawQuery = url.Values{"csrf_token": {v}}.Encode()
		return r
	}
	amount := url.Values{"amount": {"10"}}
	for _, tt := range []struct {
		name string
		r    *http.Request
		err  error
	}{
		{"an urlencoded form with the token only in the query", inQuery(formPost(t, c, false, amount), tok), csrf.ErrTokenMissing},
		{"a multipart form with the token only in the query", inQuery(formPost(t, c, true, amount), tok), csrf.ErrTokenMissing},
		{"an urlencoded form with its token, and another value in the query",
			inQuery(formPost(t, c, false, url.Values{"csrf_token": {tok}, "amount": {"10"}}), "x"), nil},
		{"a multipart form with its token, and another value in the query",
			inQuery(formPost(t, c, true, url.Values{"csrf_token": {tok}, "amount": {"10"}}), "x"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, _ := ts.do(tt.r)
			if (code == 200) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
				t.Errorf("status %d, reason %v; want %v", code, ts.err, tt.err)
			}
		})
	}
}

// Regression for Django CVE-2016-7401: the cookie parser lost track of
// where a cookie ends and read a CSRF cookie out of the value of another
// cookie (Google Analytics' __utmz, which holds text an attacker chooses),
// so the attacker's own nonce and token passed the double-submit check.
// Legacy RFC 2109 parsers do the same at a comma once a "$Version" cookie
// is present (the "phantom $Version" cookie). Cookies are split at
// semicolons only here, as browsers write them.
func TestRegressionDjangoCVE20167401TokenCookieInsideAnotherCookieIsNotRead(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	planted := &http.Cookie{Name: ts.cookieName(t), Value: strings.Repeat("A", 43)}
	tok, _ := ts.get(t, cookieHeader(planted))
	if code, _, _ := ts.do(post(cookieHeader(planted), tokenHeader(tok))); code != 200 {
		t.Fatalf("the token for the planted nonce does not pass as its own cookie: %v", ts.err)
	}
	own := planted.Name + "=" + planted.Value
	for _, cookie := range []string{
		"__utmz=x," + own,
		"__utmz=x, " + own,
		"__utmz=x " + own,
		"$Version=1; __utmz=x, " + own,
		"$Version=1; __utmz=\"x," + own + "\"",
	} {
		if code, _, _ := ts.do(post([2]string{"Cookie", cookie}, tokenHeader(tok))); code == 200 {
			t.Errorf("Cookie: %q: a token for a nonce inside another cookie passed", cookie)
		}
	}
}

// TestTokenFieldIsTakenOnlyFromTheBodyDeclared: a body rewritten further
// out without its Content-Length (a middleware that decompresses request
// bodies and keeps the compressed length) holds more bytes than declared.
// The form step read Content-Length bytes, parsed that truncated form
// into r.PostForm and gave the handler only those bytes: the rest of the
// body was lost. Such a body is now given back whole and left unparsed.
func TestTokenFieldIsTakenOnlyFromTheBodyDeclared(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
	const body = "amount=10&note=a+longer+text&csrf_token=x"
	for _, cl := range []int64{10, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 5} {
		var raw []byte
		var form url.Values
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			form = r.PostForm
			raw, _ = io.ReadAll(r.Body)
		}))
		r := httptest.NewRequest("POST", "https://example.com/", strings.NewReader(body))
		r.ContentLength = cl
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if string(raw) != body {
			t.Errorf("Content-Length %d: the handler read %q, want the body %q", cl, raw, body)
		}
		if cl < int64(len(body)) && form != nil {
			t.Errorf("Content-Length %d: the middleware parsed %v from part of the body", cl, form)
		}
		if cl >= int64(len(body)) && (form.Get("note") != "a longer text" || form.Has("csrf_token")) {
			t.Errorf("Content-Length %d: the handler's form is %v, want it without csrf_token", cl, form)
		}
	}
}

// A form whose token the middleware must read from the body passes
// whatever the query of its URL holds: ParseForm also parses the query,
// and a "%" or ";" there (action="/search?q=100%") failed the whole read,
// so the token was taken for missing and the form refused.
func TestFormTokenDespiteAMalformedQuery(t *testing.T) {
	for _, multi := range []bool{false, true} {
		for _, query := range []string{"q=100%", "a;b=1", "x=%zz"} {
			ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
			tok, c := ts.get(t)
			var form url.Values
			var query2 url.Values
			ts.h = csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}, OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
				ts.err = err
				w.WriteHeader(http.StatusForbidden)
			}}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				form, query2 = r.PostForm, r.Form
			}))
			r := formPost(t, c, multi, url.Values{"amount": {"10"}, "csrf_token": {tok}})
			r.URL.RawQuery = query
			code, _, _ := ts.do(r)
			if code != http.StatusOK {
				t.Errorf("multipart %v, query %q: status %d (%v), want 200", multi, query, code, ts.err)
				continue
			}
			if form.Get("amount") != "10" || form.Has("csrf_token") || query2.Has("csrf_token") {
				t.Errorf("multipart %v, query %q: the handler's form is %v (Form %v), want amount alone", multi, query, form, query2)
			}
		}
	}
}

// A handler that reads r.Form without calling ParseForm itself (the
// middleware's parse filled it) finds the body's fields and the query's
// when the query is one net/url reads, as it did before the query was
// hidden from the middleware's ParseForm: r.Form was left nil whenever
// the URL had a query, and such a handler saw an empty form.
func TestFormHoldsTheQueryAfterTheTokenRead(t *testing.T) {
	for _, fetch := range []string{"", "same-origin"} {
		for _, multi := range []bool{false, true} {
			if fetch != "" && multi {
				continue // a multipart form is left unparsed when no token is needed
			}
			ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
			tok, c := ts.get(t)
			var form url.Values
			ts.h = csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				form = r.Form
			}))
			r := formPost(t, c, multi, url.Values{"amount": {"10"}, "csrf_token": {tok}})
			r.URL.RawQuery = "page=2"
			if fetch != "" {
				r.Header.Set("Sec-Fetch-Site", fetch)
			}
			if code, _, _ := ts.do(r); code != http.StatusOK {
				t.Fatalf("fetch %q, multipart %v: status %d, want 200", fetch, multi, code)
			}
			if form.Get("amount") != "10" || form.Get("page") != "2" || form.Has("csrf_token") {
				t.Errorf("fetch %q, multipart %v: r.Form is %v, want amount and page", fetch, multi, form)
			}
		}
	}
}

// TestTokenCookieVaryNamesCookieOnce: a Vary set further out that lists
// Cookie already (in any case, among other names, on any line) or is "*"
// is left as it is; the response that issues the token cookie went out
// with "Vary: Cookie, Cookie" when another middleware had set it, as the
// session middleware's did before it was fixed.
func TestTokenCookieVaryNamesCookieOnce(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
	for _, tt := range []struct {
		outer, want []string
	}{
		{nil, []string{"Cookie"}},
		{[]string{"Origin"}, []string{"Origin", "Cookie"}},
		{[]string{"Cookie"}, []string{"Cookie"}},
		{[]string{"origin, COOKIE"}, []string{"origin, COOKIE"}},
		{[]string{"Origin", " cookie "}, []string{"Origin", " cookie "}},
		{[]string{"*"}, []string{"*"}},
		{[]string{"Cookies"}, []string{"Cookies", "Cookie"}},
	} {
		t.Run(strings.Join(tt.outer, "|"), func(t *testing.T) {
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.outer != nil {
					w.Header()["Vary"] = append([]string(nil), tt.outer...)
				}
				ts.h.ServeHTTP(w, r)
			})
			rec := httptest.NewRecorder()
			outer.ServeHTTP(rec, req{method: "GET"}.build())
			if len(rec.Result().Cookies()) != 1 {
				t.Fatalf("status %d, no token cookie issued", rec.Code)
			}
			if got := rec.Header().Values("Vary"); !slices.Equal(got, tt.want) {
				t.Errorf("Vary %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFormValuePrecedenceIsNetHTTPs: a field both in the URL's query and
// in the body comes first from where net/http puts it first, whether the
// middleware read the token from the form or left the form to the
// handler: the body's value for an urlencoded form (ParseForm), the
// query's for a multipart one (ParseMultipartForm). The middleware built
// r.Form with the body first for both, so a multipart form posted by an
// old browser, whose token is read from the form, gave the handler's
// FormValue another value than the same form posted by a current one.
func TestFormValuePrecedenceIsNetHTTPs(t *testing.T) {
	for _, tt := range []struct {
		name  string
		multi bool
		fetch string // Sec-Fetch-Site; "" for an old browser, whose token is read from the form
		want  []string
	}{
		{"urlencoded, token read from the form", false, "", []string{"body", "query"}},
		{"urlencoded, token not needed", false, "same-origin", []string{"body", "query"}},
		{"multipart, token read from the form", true, "", []string{"query", "body"}},
		{"multipart, token not needed", true, "same-origin", []string{"query", "body"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, csrf.TokenOptions{Key: key1}, csrf.Options{})
			tok, c := ts.get(t)
			var got []string
			var value string
			ts.h = csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				value = r.FormValue("to")
				got = r.Form["to"]
			}))
			r := formPost(t, c, tt.multi, url.Values{"to": {"body"}, "csrf_token": {tok}})
			r.URL.RawQuery = "to=query"
			if tt.fetch != "" {
				r.Header.Set("Sec-Fetch-Site", tt.fetch)
			}
			if code, _, _ := ts.do(r); code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			if !slices.Equal(got, tt.want) || value != tt.want[0] {
				t.Errorf("r.Form[\"to\"] = %q, FormValue %q; want %q, as net/http builds it", got, value, tt.want)
			}
		})
	}
}
