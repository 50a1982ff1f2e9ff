package redistest_test

import (
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/redistest"
)

// The cluster serves every slot: keys of any slot can be written and read
// back, and a command over keys of two slots is refused.
func TestClusterServesEverySlot(t *testing.T) {
	c := redistest.Cluster(t)
	ctx := t.Context()
	for _, k := range []string{"a", "b", "{user}:1", "zzz"} {
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		if v, err := c.Get(ctx, k).Result(); err != nil || v != "v" {
			t.Fatalf("GET %s: %q, %v", k, v, err)
		}
	}
	if err := c.Do(ctx, "MGET", "a", "b").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("MGET over two slots: %v, want CROSSSLOT", err)
	}
}
