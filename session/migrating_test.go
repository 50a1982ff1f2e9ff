package session_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// MIGRATING.md, scs: a store failure is a 503 problem document with
// Retry-After: 5, on a request that reads the session and on one that
// starts it.
func TestStoreFailureRetryAfterIsFiveSeconds(t *testing.T) {
	down := new(atomic.Bool)
	a := storetest.NewApp(t, session.Options{Store: failingStore{memoryStore(t, session.MemoryOptions{}), down}})
	_, tok := a.Do(t, "/login?user=erin", "")
	down.Store(true)
	for _, tt := range []struct{ path, token string }{{"/get?k=a", tok}, {"/set?k=a&v=1", ""}} {
		rec, _ := a.Do(t, tt.path, tt.token)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" ||
			rec.Header().Get("Content-Type") != problem.ContentType || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Retry-After %q, Content-Type %q, Cache-Control %q; want a 503 problem document with Retry-After: 5",
				tt.path, rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
		}
	}
}

// MIGRATING.md, scs: server-side stores file records under StorageKey,
// the SHA-256 of the token the cookie carries.
func TestStorageKeyIsTheSHA256OfTheToken(t *testing.T) {
	a := storetest.NewApp(t, session.Options{})
	_, tok := a.Do(t, "/set?k=a&v=b", "")
	key, ok := session.StorageKey(tok)
	if !ok || key != sha256.Sum256([]byte(tok)) {
		t.Errorf("StorageKey(%q) = %x, %v; want the SHA-256 of the token", tok, key, ok)
	}
}

// MIGRATING.md, gorilla/sessions: the cookie store always encrypts, so a
// value set in the session cannot be read from the cookie, whichever
// base64 alphabet one tries.
func TestCookieStoreValuesAreNotReadableInTheCookie(t *testing.T) {
	const secret = "s3cr3t-value-in-the-session"
	a := storetest.NewApp(t, session.Options{Store: cookieStore(t, nil)})
	_, tok := a.Do(t, "/set?k=a&v="+secret, "")
	if tok == "" {
		t.Fatal("no cookie set")
	}
	if rec, _ := a.Do(t, "/get?k=a", tok); rec.Body.String() != secret {
		t.Fatalf("the value did not come back: %q", rec.Body.String())
	}
	if readable(tok, "s3cr3t", 3) {
		t.Fatalf("the value is readable in the cookie %q", tok)
	}
}

// readable reports whether want appears in s, or in what s or one of its
// |-separated parts decodes to as base64 (any alphabet), depth layers deep.
func readable(s, want string, depth int) bool {
	if strings.Contains(s, want) {
		return true
	}
	if depth == 0 {
		return false
	}
	for _, part := range append(strings.Split(s, "|"), s) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(part); err == nil && readable(string(b), want, depth-1) {
				return true
			}
		}
	}
	return false
}
