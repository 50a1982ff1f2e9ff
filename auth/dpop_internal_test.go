package auth

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The cache drops expired entries as it goes, each once, so that neither
// its map nor its buckets grow past the live entries and one second's
// worth, whatever the traffic: new keys at a steady rate, and one key used
// again and again after each expiry (found in review: a cache that swept
// only when full scanned every entry each time an entry expired).
func TestMemoryReplayCacheStaysBounded(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewMemoryReplayCache(1000)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	filed := func() int {
		n := 0
		for _, keys := range c.byExp {
			n += len(keys)
		}
		return n
	}
	for i := range 100_000 {
		now = now.Add(10 * time.Millisecond) // 100 a second, each live 5 s
		if replayed, err := c.Use(ctx, fmt.Sprint("k", i), now.Add(5*time.Second)); replayed || err != nil {
			t.Fatalf("use %d: %v %v", i, replayed, err)
		}
		if replayed, err := c.Use(ctx, "again", now.Add(time.Millisecond)); replayed || err != nil {
			t.Fatalf("the repeated key at %d: %v %v", i, replayed, err)
		}
		if live := 2 * 100 * 6; len(c.m) > live || filed() > live {
			t.Fatalf("after %d uses: %d entries, %d filed; want at most %d", i, len(c.m), filed(), live)
		}
	}
	// An idle day later, one use drops everything at once.
	now = now.Add(24 * time.Hour)
	if _, err := c.Use(ctx, "late", now.Add(time.Second)); err != nil || len(c.m) != 1 || filed() != 1 {
		t.Fatalf("after a day: %v, %d entries, %d filed", err, len(c.m), filed())
	}
}
