package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/internal/testenv"
)

// The verified-token cache holds at most CacheSize tokens, however many
// distinct valid tokens come by: each entry keeps its token, so without
// the bound a stream of fresh tokens (one per refresh) would be kept.
func TestJWTCacheIsBounded(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const size = 256
	m, err := NewJWT(JWTOptions{Algorithms: []string{AlgHS256}, Keys: []Key{{Key: secret}}, CacheSize: size,
		Denylist: NewMemoryDenylist(), now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const tokens = 5_000
	before := testenv.HeapAfterGC()
	for i := range tokens {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "alice", "jti": fmt.Sprint("id-", i), "exp": now.Add(15 * time.Minute).Unix(),
			"pad": fmt.Sprintf("%0400d", i), // about 600 bytes a token
		}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(context.Background(), tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	m.c.cache.mu.RLock()
	n := len(m.c.cache.m)
	m.c.cache.mu.RUnlock()
	if n > size {
		t.Errorf("the cache holds %d tokens after %d distinct ones, more than CacheSize %d", n, tokens, size)
	}
	if grown := int64(testenv.HeapAfterGC()) - int64(before); grown > 2<<20 {
		t.Errorf("heap grew by %d bytes for a cache of %d tokens of about 600 bytes", grown, size)
	}
	runtime.KeepAlive(m)
}

// A MemoryDenylist keeps what is revoked until expiry plus MaxLeeway,
// and sweeps as it goes: a steady stream of revocations holds at most
// about twice the entries still live, not every jti it has seen.
func TestMemoryDenylistIsSwept(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := NewMemoryDenylist()
	d.now = func() time.Time { return now }
	ctx := context.Background()
	const revocations, step, ttl = 200_000, 10 * time.Millisecond, time.Minute
	live := int((ttl + MaxLeeway) / step) // entries within their lifetime at any time
	most := 0
	for i := range revocations {
		now = now.Add(step)
		if err := d.Revoke(ctx, fmt.Sprint("jti-", i), now.Add(ttl)); err != nil {
			t.Fatal(err)
		}
		most = max(most, d.Len())
	}
	if most > 2*live+64 {
		t.Errorf("%d revocations, %d live at a time: the denylist held up to %d entries, want at most %d", revocations, live, most, 2*live+64)
	}
	if revoked, _ := d.IsRevoked(ctx, fmt.Sprint("jti-", revocations-1)); !revoked {
		t.Error("the last jti revoked is not denied")
	}
}

// A cached token is kept on its own, not as a view of the request it came
// in: a token from a cookie is a substring of the whole Cookie header, and
// one from the query a substring of the request's URL, so keeping it as
// received kept every other cookie, or the rest of the URL, for as long as
// the entry lived. A client with a handful of valid tokens, each sent once
// beside 64 KiB of other cookies or query parameters, pinned 64 KiB a
// cache entry instead of the token's few hundred bytes.
func TestJWTCacheKeepsOnlyTheToken(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const size, pad = 128, 64 << 10
	filler := strings.Repeat("x", pad)
	for _, tt := range []struct {
		name string
		req  func(tok string) *http.Request
	}{
		{"a token in a cookie beside other cookies", func(tok string) *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			// One fresh string a request, as net/http reads each.
			r.Header.Set("Cookie", strings.Clone("pad="+filler+"; at="+tok))
			return r
		}},
		{"a token in the query beside other parameters", func(tok string) *http.Request {
			return httptest.NewRequest(http.MethodGet, strings.Clone("/?pad="+filler+"&access_token="+tok), nil)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewJWT(JWTOptions{Algorithms: []string{AlgHS256}, Keys: []Key{{Key: secret}}, CacheSize: size,
				CookieName: "at", DangerouslyAllowQueryToken: true, now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			before := testenv.HeapAfterGC()
			for i := range size {
				tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
					"sub": "alice", "jti": fmt.Sprint("id-", i), "exp": now.Add(15 * time.Minute).Unix(),
				}).SignedString(secret)
				if err != nil {
					t.Fatal(err)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, tt.req(tok))
				if rec.Code != http.StatusOK {
					t.Fatalf("token %d: status %d", i, rec.Code)
				}
			}
			m.c.cache.mu.RLock()
			n := len(m.c.cache.m)
			m.c.cache.mu.RUnlock()
			if n != size {
				t.Fatalf("the cache holds %d tokens, want %d", n, size)
			}
			// The requests' 64 KiB each would be 8 MiB.
			if grown := int64(testenv.HeapAfterGC()) - int64(before); grown > 1<<20 {
				t.Errorf("heap grew by %d bytes for a cache of %d tokens of about 150 bytes", grown, size)
			}
			runtime.KeepAlive(m)
		})
	}
}
