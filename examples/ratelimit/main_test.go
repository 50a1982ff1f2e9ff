package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/ratelimit"
)

// weak hashes with parameters far below the OWASP minimum, so that the
// tests run fast. For tests only: the server itself uses password.Hash.
var weak = password.MustNew(password.Options{
	Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
	DangerouslyAllowWeakParams: true,
})

// testUsers returns a store whose users name → password are hashed with
// weak.
func testUsers(t *testing.T, passwords map[string]string) *auth.MemoryUsers {
	t.Helper()
	users := auth.NewMemoryUsers()
	for name, pw := range passwords {
		h, err := weak.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := users.Add(name, auth.User{Hash: h}); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

// downStore is a Store that cannot answer, as Redis when it is down.
type downStore struct{}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (downStore) Take(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errDown
}
func (downStore) Peek(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errDown
}
func (downStore) Reset(context.Context, string) error { return errDown }

func login(t *testing.T, h http.Handler, user, pw string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"user": {user}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// A limiter whose store is down refuses the login (fail closed) with 503,
// as package auth does, not with a 429 that tells the user they have
// failed too often.
func TestLoginStoreFailureIs503(t *testing.T) {
	attempts, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: downStore{}})
	if err != nil {
		t.Fatal(err)
	}
	users := testUsers(t, map[string]string{"bob": "right password"})
	w := login(t, loginHandler(attempts, nil, users), "bob", "right password")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("store down: %d %q, want 503", w.Code, w.Body.String())
	}
}

// Ten failures for alice from one address lock that pair, the right
// password included, while bob still logs in from the same address. Each
// failure and the lockout are in the access log with their reason, and no
// password is.
func TestLoginLockout(t *testing.T) {
	users := testUsers(t, map[string]string{"alice": "right password", "bob": "right password"})
	logs := new(testenv.LogBuffer)
	h, cleanup, err := newHandler("", users, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if w := login(t, h, "bob", "right password"); w.Code != http.StatusOK {
		t.Fatalf("bob: %d", w.Code)
	}
	for i := range 10 {
		if w := login(t, h, "alice", "guess"); w.Code != http.StatusUnauthorized || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("guess %d: %d %q %q, want a 401 problem with a challenge", i, w.Code, w.Header().Get("Content-Type"), w.Header().Get("WWW-Authenticate"))
		}
	}
	if w := login(t, h, "alice", "right password"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" ||
		w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), `"detail":"Too many failed attempts."`) {
		t.Errorf("after ten failures: %d, Retry-After %q, %s; want a 429 problem", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := login(t, h, "bob", "right password"); w.Code != http.StatusOK {
		t.Errorf("bob after alice's lockout: %d", w.Code)
	}

	reasons := map[float64][]string{}
	for _, rec := range logs.Records(t) {
		if rec["msg"] == "http request" {
			st, _ := rec["status"].(float64)
			reason, _ := rec["reason"].(string)
			reasons[st] = append(reasons[st], reason)
		}
	}
	if len(reasons[200]) != 2 || len(reasons[401]) != 10 || len(reasons[429]) != 1 {
		t.Fatalf("access records by status: %v, want 2 of 200, 10 of 401, 1 of 429", reasons)
	}
	for _, r := range reasons[401] {
		if !strings.HasPrefix(r, auth.ErrInvalidCredentials.Error()) {
			t.Errorf("401 logged with reason %q, want %q", r, auth.ErrInvalidCredentials)
		}
	}
	if r := reasons[429][0]; !strings.HasPrefix(r, "ratelimit: too many failed attempts") {
		t.Errorf("429 logged with reason %q, want the lockout", r)
	}
	for _, pw := range []string{"guess", "right password", "right+password"} {
		if strings.Contains(logs.String(), pw) {
			t.Errorf("the log holds the password %q: %s", pw, logs.String())
		}
	}
}

// Each user logs in with its own stored hash: a password is checked
// against the user's argon2id hash, not against one demo password, and
// an unknown user is refused like a wrong password.
func TestLoginVerifiesStoredHash(t *testing.T) {
	users := testUsers(t, map[string]string{"alice": "alice's password", "bob": "bob's password"})
	h, cleanup, err := newHandler("", users, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, tt := range []struct {
		user, pw string
		want     int
	}{
		{"alice", "alice's password", http.StatusOK},
		{"bob", "bob's password", http.StatusOK},
		{"bob", "alice's password", http.StatusUnauthorized},
		{"bob", "", http.StatusUnauthorized},
		{"mallory", "bob's password", http.StatusUnauthorized},
	} {
		if w := login(t, h, tt.user, tt.pw); w.Code != tt.want {
			t.Errorf("%s with %q: %d %q, want %d", tt.user, tt.pw, w.Code, w.Body.String(), tt.want)
		}
	}
}

// The demo users are kept as argon2id hashes in the PHC string format at
// the default (OWASP) parameters, each with its own salt; never as the
// password or a fast unsalted digest of it. They log in through the
// server with the demo password.
func TestDemoUsersAreArgon2id(t *testing.T) {
	const pw = "correct horse battery staple"
	users, err := demoUsers(pw)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(pw))
	salts := map[string]bool{}
	for _, name := range []string{"alice", "bob"} {
		u, ok, err := users.LookupUser(context.Background(), name)
		if err != nil || !ok {
			t.Fatalf("%s: found %v, %v", name, ok, err)
		}
		if !strings.HasPrefix(u.Hash, "$argon2id$v=19$") {
			t.Errorf("%s: stored %q, want an argon2id PHC string", name, u.Hash)
		}
		info, err := password.Inspect(u.Hash)
		if err != nil || info.Algorithm != password.Argon2id || info.Params != password.DefaultParams {
			t.Errorf("%s: %+v, %v; want argon2id at %+v", name, info.Params, err, password.DefaultParams)
		}
		for _, leak := range []string{pw, hex.EncodeToString(digest[:]), base64.RawStdEncoding.EncodeToString(digest[:])} {
			if strings.Contains(u.Hash, leak) {
				t.Errorf("%s: the stored hash contains the password or its SHA-256", name)
			}
		}
		salts[string(info.Salt)] = true
	}
	if len(salts) != 2 {
		t.Error("alice and bob share a salt")
	}
	h, cleanup, err := newHandler("", users, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if w := login(t, h, "bob", pw); w.Code != http.StatusOK {
		t.Errorf("bob with the demo password: %d %q", w.Code, w.Body.String())
	}
}

// This server speaks plain HTTP and takes passwords: an address off
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

// An oversized login form is refused with 413 before any attempt is
// counted: cut short, it would count a failure under a truncated name.
// A failed login's challenge is not Basic, which would make a browser
// that posted the form pop up its own login dialog.
func TestLoginFormTooLargeAndChallenge(t *testing.T) {
	users := testUsers(t, map[string]string{"alice": "right password"})
	h, cleanup, err := newHandler("", users, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for i := range 11 {
		if w := login(t, h, "alice", strings.Repeat("x", 5<<10)); w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized form %d: %d, want 413", i, w.Code)
		}
	}
	w := login(t, h, "alice", "guess")
	if w.Code != http.StatusUnauthorized || strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic") {
		t.Errorf("wrong password: %d, WWW-Authenticate %q; want 401 without a Basic challenge", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w := login(t, h, "alice", "right password"); w.Code != http.StatusOK {
		t.Errorf("after eleven oversized forms and one failure: %d, want 200 (nothing counted)", w.Code)
	}
}

// The API limit of the comment: 20 requests a minute per address, the
// RateLimit field counting down, then 429 with Retry-After from the 21st.
func TestAPILimit(t *testing.T) {
	h, cleanup, err := newHandler("", testUsers(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for i := 1; i <= 21; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api", nil))
		want, remaining := http.StatusOK, fmt.Sprintf(`"ip";r=%d;`, 20-i)
		if i == 21 {
			want, remaining = http.StatusTooManyRequests, `"ip";r=0;`
		}
		if w.Code != want || !strings.HasPrefix(w.Header().Get("RateLimit"), remaining) {
			t.Fatalf("request %d: %d, RateLimit %q; want %d and %s…", i, w.Code, w.Header().Get("RateLimit"), want, remaining)
		}
		if retry := w.Header().Get("Retry-After"); (retry != "") != (i == 21) {
			t.Errorf("request %d: Retry-After %q", i, retry)
		}
	}
}

// The batch route of the comment: 100 items a minute per address, a batch
// counting as its items; one larger than the budget is refused without
// Retry-After, and a malformed one is answered 400 and counted once.
func TestBatchCountsItems(t *testing.T) {
	h, cleanup, err := newHandler("", testUsers(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for i, tt := range []struct {
		count, ratelimit, retry string
		status                  int
	}{
		{"60", `"items";r=40;t=36`, "", http.StatusOK},
		{"60", `"items";r=0;t=36`, "12", http.StatusTooManyRequests},
		{"40", `"items";r=0;t=60`, "", http.StatusOK},
		{"500", `"items";r=0;t=60`, "", http.StatusTooManyRequests},
		{"x", `"items";r=0;t=60`, "1", http.StatusTooManyRequests},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/batch?count="+tt.count, nil))
		if w.Code != tt.status || w.Header().Get("RateLimit") != tt.ratelimit || w.Header().Get("Retry-After") != tt.retry {
			t.Errorf("batch %d of %s: %d, RateLimit %q, Retry-After %q; want %d, %q, %q", i, tt.count, w.Code,
				w.Header().Get("RateLimit"), w.Header().Get("Retry-After"), tt.status, tt.ratelimit, tt.retry)
		}
	}
	// Another address: a malformed batch is a 400 problem, counted once.
	r := httptest.NewRequest(http.MethodPost, "/api/batch?count=0", nil)
	r.RemoteAddr = "192.0.2.9:1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("RateLimit") != `"items";r=99;t=1` {
		t.Errorf("count=0: %d %q, RateLimit %q; want a 400 problem, one item counted", w.Code, w.Header().Get("Content-Type"), w.Header().Get("RateLimit"))
	}
}

// Five requests at once on the slow route: two run, the other three get
// 503 at once.
func TestSlowRouteSheds(t *testing.T) {
	h, cleanup, err := newHandler("", testUsers(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	codes := make(chan int, 5)
	for range 5 {
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/slow", nil))
			codes <- w.Code
		}()
	}
	count := map[int]int{}
	for range 5 {
		count[<-codes]++
	}
	if count[http.StatusOK] != 2 || count[http.StatusServiceUnavailable] != 3 {
		t.Errorf("statuses %v, want 2 × 200 and 3 × 503", count)
	}
}

// With -redis two servers share the limits: the API budget and the
// failed logins count across both.
func TestRedisSharesLimits(t *testing.T) {
	redisURL := "redis://" + testenv.Redis(t) + "/0"
	users := testUsers(t, map[string]string{"alice": "right password"})
	var servers [2]http.Handler
	for i := range servers {
		h, cleanup, err := newHandler(redisURL, users, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cleanup)
		servers[i] = h
	}
	for i := range 20 {
		w := httptest.NewRecorder()
		servers[i%2].ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, w.Code)
		}
	}
	for i, h := range servers {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api", nil))
		if w.Code != http.StatusTooManyRequests {
			t.Errorf("server %d after 20 requests on both: %d, want 429", i, w.Code)
		}
	}
	for i := range 10 {
		if w := login(t, servers[i%2], "alice", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, w.Code)
		}
	}
	for i, h := range servers {
		if w := login(t, h, "alice", "right password"); w.Code != http.StatusTooManyRequests {
			t.Errorf("server %d: the right password after ten failures on both: %d, want 429", i, w.Code)
		}
	}
}

// A Redis URL with a password comes from RATELIMIT_REDIS_URL, which ps
// does not show; -redis refuses credentials, and the two together are
// refused. No error shows the URL.
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

// A Redis that cannot be reached or refuses the password stops the server
// at start: the API limit fails open, and would otherwise let every
// request through with a log line each, unnoticed until then.
func TestRedisCheckedAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	locked := testenv.RedisWith(t, func(string, int) []string { return []string{"--requirepass", "right-password"} })
	for _, u := range []string{
		"redis://" + closed + "/0",
		"redis://:wrong-password@" + locked + "/0",
	} {
		h, cleanup, err := newHandler(u, testUsers(t, nil), nil)
		if err == nil {
			cleanup()
			t.Errorf("%s: a server, want an error", strings.Replace(u, "wrong-password", "…", 1))
			continue
		}
		if h != nil || strings.Contains(err.Error(), "wrong-password") {
			t.Errorf("error %v (handler %v)", err, h)
		}
	}
	_, cleanup, err := newHandler("redis://:right-password@"+locked+"/0", testUsers(t, nil), nil)
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	cleanup()
}
