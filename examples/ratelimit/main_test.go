package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/ratelimit"
)

// downStore is a Store that cannot answer, as Redis when it is down.
type downStore struct{}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (downStore) Take(context.Context, string, ratelimit.Quota) (ratelimit.Result, error) {
	return ratelimit.Result{}, errDown
}
func (downStore) Peek(context.Context, string, ratelimit.Quota) (ratelimit.Result, error) {
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
	w := login(t, loginHandler(attempts, nil, "right password"), "bob", "right password")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("store down: %d %q, want 503", w.Code, w.Body.String())
	}
}

func TestLoginLockout(t *testing.T) {
	h, cleanup, err := newServer("", "right password")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if w := login(t, h, "bob", "right password"); w.Code != http.StatusOK {
		t.Fatalf("bob: %d", w.Code)
	}
	for i := range 10 {
		if w := login(t, h, "alice", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, w.Code)
		}
	}
	if w := login(t, h, "alice", "right password"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("after ten failures: %d, Retry-After %q; want 429", w.Code, w.Header().Get("Retry-After"))
	}
	if w := login(t, h, "bob", "right password"); w.Code != http.StatusOK {
		t.Errorf("bob after alice's lockout: %d", w.Code)
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
