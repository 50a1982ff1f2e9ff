package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/redisstore"
)

// testUsers returns the user demo with the password pw, hashed with
// parameters far below the OWASP minimum so that the tests run fast. For
// tests only: the server itself uses password.Hash (see demoUsers).
func testUsers(t *testing.T, pw string) *auth.MemoryUsers {
	t.Helper()
	weak, err := password.New(password.Options{
		Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
		DangerouslyAllowWeakParams: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := weak.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	users := auth.NewMemoryUsers()
	if err := users.Add("demo", auth.User{Hash: h}); err != nil {
		t.Fatal(err)
	}
	return users
}

func TestLoginDataLogoutFlow(t *testing.T) {
	stores := map[string]func(t *testing.T) session.Store{
		"memory": func(t *testing.T) session.Store { return nil },
		"redis": func(t *testing.T) session.Store {
			rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
			t.Cleanup(func() { rdb.Close() })
			s, err := redisstore.New(redisstore.Options{Client: rdb})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			_, err := newHandler(config{store: store(t), users: testUsers(t, "pw"), signingKey: make([]byte, 32)})
			if err == nil {
				t.Fatal("an all-zero signing key was accepted")
			}
			key := []byte(strings.Repeat("k", 32))
			h, err := newHandler(config{store: store(t), users: testUsers(t, "pw"), signingKey: key})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewTLSServer(h)
			defer srv.Close()
			jar, _ := cookiejar.New(nil)
			c := srv.Client()
			c.Jar = jar
			u, _ := url.Parse(srv.URL)
			do := browser(t, c, srv.URL)
			if code, _ := do("POST", "/login", url.Values{"user": {"demo"}, "password": {"nope"}}); code != http.StatusUnauthorized {
				t.Errorf("wrong password: %d", code)
			}
			if code, body := do("POST", "/login", url.Values{"user": {"demo"}, "password": {"pw"}}); code != 200 {
				t.Fatalf("login: %d %s", code, body)
			}
			if code, _ := do("POST", "/data", url.Values{"note": {"hello"}}); code != http.StatusNoContent {
				t.Errorf("add note: %d", code)
			}
			if _, body := do("GET", "/data", nil); body != `["hello"]` {
				t.Errorf("notes = %s", body)
			}
			_, link := do("POST", "/reset-link", url.Values{"user": {"demo"}})
			lu, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			if _, body := do("GET", "/reset?"+lu.RawQuery, nil); body != "reset allowed for demo" {
				t.Errorf("reset link: %s", body)
			}
			if code, _ := do("GET", "/reset?token=forged", nil); code != http.StatusBadRequest {
				t.Errorf("forged reset token: %d", code)
			}
			stolen := jar.Cookies(u)
			do("POST", "/logout", nil)
			jar.SetCookies(u, stolen)
			if code, _ := do("GET", "/data", nil); code != http.StatusUnauthorized {
				t.Errorf("stolen cookie after logout: %d", code)
			}
		})
	}
}

// The POST routes read at most maxFormBytes of a form: a 1 MB form is
// answered 413, with or without a Content-Length, before the rest is read,
// and changes nothing. net/http alone reads forms of up to 10 MB.
func TestFormBodyLimit(t *testing.T) {
	h, err := newHandler(config{users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	post := func(path string, form url.Values, chunked bool) *http.Response {
		t.Helper()
		var body io.Reader = strings.NewReader(form.Encode())
		if chunked {
			body = io.MultiReader(body) // no length known: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post("/login", url.Values{"user": {"demo"}, "password": {"pw"}, "padding": {strings.Repeat("x", 3<<10)}}, false); resp.StatusCode != http.StatusOK {
		t.Fatalf("login with a 3 KiB form: %d", resp.StatusCode)
	}
	big := strings.Repeat("x", 1<<20)
	for _, tt := range []struct {
		path string
		form url.Values
	}{
		{"/login", url.Values{"user": {"demo"}, "password": {"pw"}, "padding": {big}}},
		{"/data", url.Values{"note": {"big"}, "padding": {big}}},
		{"/reset-link", url.Values{"user": {"demo"}, "padding": {big}}},
		{"/logout", url.Values{"padding": {big}}},
	} {
		for _, chunked := range []bool{false, true} {
			resp := post(tt.path, tt.form, chunked)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s, 1 MB form (chunked %v): %d %q, want a 413 problem", tt.path, chunked, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}
	// The refused logout left the session, and the refused note is not
	// stored.
	resp, err := c.Get(srv.URL + "/data")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("after the refused requests: %d %s, want 200 []", resp.StatusCode, b)
	}
}

// The demo user is kept as an argon2id hash in the PHC string format at
// the default (OWASP) parameters, never as the password or a fast
// unsalted digest of it, and logs in with the demo password; other users
// and passwords are refused.
func TestDemoUserIsArgon2id(t *testing.T) {
	const pw = "correct horse battery staple"
	users, err := demoUsers(pw)
	if err != nil {
		t.Fatal(err)
	}
	u, ok, err := users.LookupUser(context.Background(), "demo")
	if err != nil || !ok {
		t.Fatalf("demo: found %v, %v", ok, err)
	}
	if !strings.HasPrefix(u.Hash, "$argon2id$v=19$") {
		t.Errorf("stored %q, want an argon2id PHC string", u.Hash)
	}
	info, err := password.Inspect(u.Hash)
	if err != nil || info.Algorithm != password.Argon2id || info.Params != password.DefaultParams {
		t.Errorf("%+v, %v; want argon2id at %+v", info.Params, err, password.DefaultParams)
	}
	digest := sha256.Sum256([]byte(pw))
	for _, leak := range []string{pw, hex.EncodeToString(digest[:]), base64.RawStdEncoding.EncodeToString(digest[:])} {
		if strings.Contains(u.Hash, leak) {
			t.Error("the stored hash contains the password or its SHA-256")
		}
	}
	logs := new(testenv.LogBuffer)
	h, err := newHandler(config{users: users, signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080",
		logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, pw string
		want     int
	}{
		{"demo", pw, http.StatusOK},
		{"demo", "guess-n0t-it", http.StatusUnauthorized},
		{"root", pw, http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8080/login", strings.NewReader(url.Values{"user": {tt.user}, "password": {tt.pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tt.want {
			t.Errorf("%s with %q: %d %q, want %d", tt.user, tt.pw, w.Code, w.Body.String(), tt.want)
		}
	}

	// Each refusal is in the access log with its reason: the two logins,
	// a forged reset link and a cross-site logout. No password, session
	// cookie or token is.
	const forged = "Zm9yZ2VkLXJlc2V0LXRva2Vu"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8080/reset?token="+forged, nil))
	if w.Code != http.StatusBadRequest {
		t.Errorf("forged reset link: %d, want 400", w.Code)
	}
	req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8080/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site logout: %d, want 403", w.Code)
	}
	var refused []string
	for _, rf := range logs.Refusals(t) {
		refused = append(refused, fmt.Sprintf("%d %s", rf.Status, rf.Reason))
	}
	if want := []string{"401 ", "401 ", "400 ", "403 "}; len(refused) != len(want) || !strings.HasPrefix(refused[0], "401 ") || !strings.Contains(refused[0], "auth: invalid credentials") || !strings.HasPrefix(refused[2], "400 ") || !strings.Contains(refused[2], "session: invalid signed token") || !strings.HasPrefix(refused[3], "403 ") || !strings.Contains(refused[3], "CrossOriginProtection") {
		t.Errorf("refusals logged: %q, want two 401, a 400 and a 403 with their reasons", refused)
	}
	for _, secret := range []string{pw, url.QueryEscape(pw), "guess-n0t-it", forged, "__Host-session="} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q: %s", secret, logs.String())
		}
	}
}

// The reset link names the server's own origin, never the Host header: a
// link built from Host lets anyone who asks for a reset of someone else's
// account have the mail point at a host of their choosing, which then
// receives the victim's token (password-reset poisoning).
func TestResetLinkIgnoresHostHeader(t *testing.T) {
	h, err := newHandler(config{users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "https://evil.example/reset-link", strings.NewReader("user=demo"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if link := w.Body.String(); w.Code != http.StatusOK || !strings.HasPrefix(link, "https://127.0.0.1:8080/reset?token=") {
		t.Errorf("reset link requested with Host evil.example: %d %q, want a link to https://127.0.0.1:8080", w.Code, link)
	}
}

// A Redis URL may hold a password: no error shows any of it, even when a
// '#' or '@' left unescaped in it makes the URL unparsable.
func TestRedisURLErrorHidesPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:hunter2#x@127.0.0.1:6379/0",
		"redis://:2222#x@127.0.0.1:6379/0", // parses as a server on port 2222, which a dial error would name
		"redis://bob:hunter2@[::1/0",
		"http://:hunter2@127.0.0.1/0",
	} {
		_, err := parseRedisURL(u)
		if err == nil {
			t.Errorf("%q: parsed", u)
		} else if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "2222") {
			t.Errorf("%q: error shows the password: %v", u, err)
		}
	}
	if _, err := parseRedisURL("redis://:hunter2@127.0.0.1:6379/0"); err != nil {
		t.Errorf("a good URL: %v", err)
	}
}

// A store that cannot answer (Redis down) gets 503: a request with a
// session cookie never an anonymous page, a login never a session that was
// not saved. A request without a cookie asks nothing of the store.
func TestStoreFailureIs503(t *testing.T) {
	addr, stop := testenv.SilentServer(t)
	stop() // nothing listens there any more: every dial is refused
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	store, err := redisstore.New(redisstore.Options{Client: rdb})
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(config{store: store, users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	withCookie := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8080/", nil)
	// A well-formed token (a canonical base64url encoding of 32 bytes),
	// which the store is asked about.
	withCookie.Header.Set("Cookie", "__Host-session="+strings.Repeat("A", 43))
	login := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8080/login", strings.NewReader("user=demo&password=pw"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for name, req := range map[string]*http.Request{"a page with a session cookie": withCookie, "a login": login} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "anonymous") || w.Header().Get("Set-Cookie") != "" {
			t.Errorf("%s: %d %q, Set-Cookie %q; want 503", name, w.Code, w.Body.String(), w.Header().Get("Set-Cookie"))
		}
	}
}

// The pages that show a signed-in user's data say Cache-Control: no-store
// even when the session cookie is not set again: the middleware adds it
// only to responses that set the cookie, and a cache that kept them would
// show one user's notes to the next, or after logout.
func TestUserPagesAreNotStored(t *testing.T) {
	h, err := newHandler(config{users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/login", url.Values{"user": {"demo"}, "password": {"pw"}}},
		{"/data", url.Values{"note": {"hello"}}},
	} {
		resp, err := c.PostForm(srv.URL+step.path, step.form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d", step.path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/", "/data"} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || got != "no-store" {
			t.Errorf("GET %s: %d %q, Cache-Control %q, want 200 with no-store", path, resp.StatusCode, b, got)
		}
	}
}

// A Redis URL with a password comes from SESSION_REDIS_URL, which ps does
// not show; -redis refuses credentials, and the two together are refused.
// No error shows the URL.
func TestRedisURLPasswordFromEnvironment(t *testing.T) {
	const withPassword = "redis://:hunter2@127.0.0.1:6379/0"
	for _, c := range []struct {
		flag, env, want string
		ok              bool
	}{
		{"", "", "", true},
		{"redis://127.0.0.1:6379/0", "", "redis://127.0.0.1:6379/0", true},
		{"", withPassword, withPassword, true},
		{withPassword, "", "", false},
		{"redis://bob@127.0.0.1:6379/0", "", "", false},
		{"redis://127.0.0.1:6379/0", withPassword, "", false},
	} {
		got, err := redisURL(c.flag, c.env)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("redisURL(%q, %q) = %q, %v; want %q, accepted %v", c.flag, c.env, got, err, c.want, c.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "bob")) {
			t.Errorf("redisURL(%q, %q): error shows the URL: %v", c.flag, c.env, err)
		}
	}
}

// The reset links name the port listened on: with -addr port 0, the one
// the system chose, not 0.
func TestLinkOriginNamesBoundPort(t *testing.T) {
	for addr, host := range map[string]string{"127.0.0.1:0": "127.0.0.1", ":0": "localhost"} {
		ln, origin, err := listen(addr)
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		if want := "https://" + net.JoinHostPort(host, port); origin != want {
			t.Errorf("-addr %s, listening on %s: origin %s, want %s", addr, ln.Addr(), origin, want)
		}
	}
}

// A login as another user on the same browser, without a logout in
// between (a shared computer), starts from a session without the previous
// user's data: the notes are per-user, and Session.Login keeps the
// session's values.
func TestLoginAsAnotherUserDropsThePreviousUsersData(t *testing.T) {
	users := testUsers(t, "pw")
	h2, err := password.New(password.Options{
		Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
		DangerouslyAllowWeakParams: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h2.Hash("pw2")
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("alice", auth.User{Hash: hash}); err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(config{users: users, signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	do := browser(t, c, srv.URL)
	if code, body := do("POST", "/login", url.Values{"user": {"demo"}, "password": {"pw"}}); code != 200 {
		t.Fatalf("login demo: %d %s", code, body)
	}
	if code, _ := do("POST", "/data", url.Values{"note": {"demo's secret"}}); code != http.StatusNoContent {
		t.Fatalf("add note: %d", code)
	}
	if code, body := do("POST", "/login", url.Values{"user": {"alice"}, "password": {"pw2"}}); code != 200 {
		t.Fatalf("login alice: %d %s", code, body)
	}
	if _, body := do("GET", "/data", nil); body != `[]` {
		t.Errorf("alice's notes = %s, want [] (demo's notes carried over)", body)
	}
	if code, body := do("POST", "/login", url.Values{"user": {"alice"}, "password": {"pw2"}}); code != 200 {
		t.Fatalf("login alice again: %d %s", code, body)
	}
	if code, _ := do("POST", "/data", url.Values{"note": {"alice's"}}); code != http.StatusNoContent {
		t.Fatalf("add note: %d", code)
	}
	if code, body := do("POST", "/login", url.Values{"user": {"alice"}, "password": {"pw2"}}); code != 200 {
		t.Fatalf("login alice a third time: %d %s", code, body)
	}
	if _, body := do("GET", "/data", nil); body != `["alice's"]` {
		t.Errorf("a login of the same user lost its notes: %s", body)
	}
}

// Anonymous requests create no session, so that no one without a password
// can fill the memory store (bounded, it refuses new sessions once full):
// a flood of anonymous page views left the store full and every login
// answered 503 until the flood's sessions expired (found in review).
func TestAnonymousVisitsCreateNoSession(t *testing.T) {
	store, err := session.NewMemoryStore(session.MemoryOptions{MaxSessions: 2})
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(config{store: store, users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8080/", nil))
		if w.Code != http.StatusOK || w.Header().Get("Set-Cookie") != "" {
			t.Fatalf("anonymous visit %d: %d %q, Set-Cookie %q; want 200 without a session", i, w.Code, w.Body.String(), w.Header().Get("Set-Cookie"))
		}
	}
	req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8080/login", strings.NewReader("user=demo&password=pw"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Errorf("login after a flood of anonymous visits: %d %q, want 200", w.Code, w.Body.String())
	}
}

// A reset link works once: it changes the password, then it and every
// other link issued before are spent, for the check (GET) and the reset
// (POST) alike, while the new password logs in. A link that stayed valid
// for its 15 minutes, as a Signer's token does unless it signs something
// the use changes, could change the password again from a browser
// history, a log or a mailbox (found in review).
func TestResetLinkWorksOnce(t *testing.T) {
	h, err := newHandler(config{users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, target, form string) (int, string) {
		t.Helper()
		var body io.Reader
		if form != "" {
			body = strings.NewReader(form)
		}
		req := httptest.NewRequest(method, "https://127.0.0.1:8080"+target, body)
		if form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	link := func() string {
		t.Helper()
		_, l := do(http.MethodPost, "/reset-link", "user=demo")
		lu, err := url.Parse(l)
		if err != nil || lu.Query().Get("token") == "" {
			t.Fatalf("reset link %q: %v", l, err)
		}
		return lu.Query().Get("token")
	}
	first, second := link(), link()
	if code, body := do(http.MethodGet, "/reset?token="+url.QueryEscape(first), ""); code != http.StatusOK || body != "reset allowed for demo" {
		t.Fatalf("GET a fresh link: %d %q", code, body)
	}
	if code, body := do(http.MethodPost, "/reset", "token="+url.QueryEscape(first)+"&password=new+password"); code != http.StatusOK || body != "password changed for demo" {
		t.Fatalf("POST a fresh link: %d %q", code, body)
	}
	for _, tc := range []struct{ name, method, target, form string }{
		{"the used link, again", http.MethodPost, "/reset", "token=" + url.QueryEscape(first) + "&password=attacker"},
		{"the used link, checked", http.MethodGet, "/reset?token=" + url.QueryEscape(first), ""},
		{"a link issued before the change", http.MethodPost, "/reset", "token=" + url.QueryEscape(second) + "&password=attacker"},
	} {
		if code, body := do(tc.method, tc.target, tc.form); code != http.StatusGone || problemDetail(t, body) != "This link has been used." {
			t.Errorf("%s: %d %q, want 410 This link has been used.", tc.name, code, body)
		}
	}
	if code, body := do(http.MethodPost, "/login", "user=demo&password=new+password"); code != http.StatusOK {
		t.Errorf("login with the new password: %d %q", code, body)
	}
	if code, _ := do(http.MethodPost, "/login", "user=demo&password=attacker"); code != http.StatusUnauthorized {
		t.Errorf("login with the password of a replayed link: %d, want 401", code)
	}
	if code, body := do(http.MethodPost, "/reset", "token=forged&password=x"); code != http.StatusBadRequest {
		t.Errorf("a forged link: %d %q, want 400", code, body)
	}
}

// browser returns a function that sends a GET, or a POST of form, to
// base+path with c, and returns the status and the trimmed body.
func browser(t *testing.T, c *http.Client, base string) func(method, path string, form url.Values) (int, string) {
	return func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = c.PostForm(base+path, form)
		} else {
			resp, err = c.Get(base + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
}

// problemDetail returns the detail of the problem document body, failing
// the test if body is not one with a request ID.
func problemDetail(t *testing.T, body string) string {
	t.Helper()
	var p struct {
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status == 0 || p.RequestID == "" {
		t.Errorf("body %q is not a problem document with a request ID (%v)", body, err)
	}
	return p.Detail
}

// Every refusal is a problem document with the request ID and a public
// detail, and a 401 carries a challenge, as RFC 9110 requires; the
// request's values (the note, the user name) are never echoed.
func TestRefusalsAreProblems(t *testing.T) {
	h, err := newHandler(config{users: testUsers(t, "pw"), signingKey: []byte(strings.Repeat("k", 32)), origin: "https://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	login := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8080/login", strings.NewReader("user=demo&password=pw"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, login)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	cookie := w.Result().Cookies()[0]
	long := strings.Repeat("N", 201)
	for _, tt := range []struct {
		name, method, target, form string
		loggedIn                   bool
		origin                     string
		status                     int
		detail                     string
	}{
		{"wrong password", http.MethodPost, "/login", "user=demo&password=WRONG", false, "", http.StatusUnauthorized, "Wrong user name or password."},
		{"unknown user", http.MethodPost, "/login", "user=NOBODY&password=pw", false, "", http.StatusUnauthorized, "Wrong user name or password."},
		{"notes, anonymous", http.MethodGet, "/data", "", false, "", http.StatusUnauthorized, "Log in first."},
		{"new note, anonymous", http.MethodPost, "/data", "note=x", false, "", http.StatusUnauthorized, "Log in first."},
		{"empty note", http.MethodPost, "/data", "note=", true, "", http.StatusUnprocessableEntity, "A note is 1 to 200 bytes."},
		{"long note", http.MethodPost, "/data", "note=" + long, true, "", http.StatusUnprocessableEntity, "A note is 1 to 200 bytes."},
		{"not a form", http.MethodPost, "/login", "user=%zz", false, "", http.StatusBadRequest, ""},
		{"forged link", http.MethodGet, "/reset?token=FORGED", "", false, "", http.StatusBadRequest, "Invalid link."},
		{"cross-site login", http.MethodPost, "/login", "user=demo&password=pw", false, "https://evil.example", http.StatusForbidden, "Cross-origin request refused."},
	} {
		var body io.Reader
		if tt.form != "" {
			body = strings.NewReader(tt.form)
		}
		req := httptest.NewRequest(tt.method, "https://127.0.0.1:8080"+tt.target, body)
		if tt.form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tt.loggedIn {
			req.AddCookie(cookie)
		}
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		got := w.Body.String()
		if w.Code != tt.status || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %q %s, want %d and a problem", tt.name, w.Code, w.Header().Get("Content-Type"), got, tt.status)
			continue
		}
		if d := problemDetail(t, got); d != tt.detail {
			t.Errorf("%s: detail %q, want %q", tt.name, d, tt.detail)
		}
		if strings.Contains(got, "NOBODY") || strings.Contains(got, "NNN") || strings.Contains(got, "FORGED") || strings.Contains(got, "WRONG") {
			t.Errorf("%s: the body echoes the request: %s", tt.name, got)
		}
		if ch := w.Header().Get("WWW-Authenticate"); (tt.status == http.StatusUnauthorized) != strings.HasPrefix(ch, "Cookie realm=") {
			t.Errorf("%s: %d with WWW-Authenticate %q", tt.name, w.Code, ch)
		}
	}
}
