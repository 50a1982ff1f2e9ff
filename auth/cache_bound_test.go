package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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
	before := heapAfterGC()
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
	if grown := int64(heapAfterGC()) - int64(before); grown > 2<<20 {
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
