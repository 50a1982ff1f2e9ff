package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth/redisstore"
	"github.com/httpguard/httpguard/internal/testenv"
)

// Found in review: the stores had no bound of their own on a call, and
// go-redis applies a context's deadline only with ContextTimeoutEnabled
// and sees no cancellation while it waits for a reply. With a client of
// the default options, every bearer request checked against the denylist
// and every refresh held 5 s when Redis hung, even after its client had
// gone away. Options.Timeout now bounds every call.
func TestARedisThatHangsFailsWithinTimeout(t *testing.T) {
	settled := testenv.Goroutines(t)
	addr, stop := testenv.SilentServer(t)
	for _, c := range testenv.HangClients {
		t.Run(c.Name, func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: c.ContextTimeoutEnabled, ReadTimeout: c.ReadTimeout})
			o := redisstore.Options{Client: rdb, Timeout: 50 * time.Millisecond}
			rs, dl := newStores(t, o)
			calls := []testenv.StoreCall{
				{Name: "Create", Call: func(ctx context.Context) error { return rs.Create(ctx, "h", rec("f")) }},
				{Name: "Lookup", Call: func(ctx context.Context) error { _, _, err := rs.Lookup(ctx, "h"); return err }},
				{Name: "Rotate", Call: func(ctx context.Context) error { return rs.Rotate(ctx, "h", "h2", rec("f")) }},
				{Name: "RotateRetryable", Call: func(ctx context.Context) error {
					return rs.RotateRetryable(ctx, "h", "h2", rec("f"), time.Now(), []byte("sealed"))
				}},
				{Name: "RevokeFamily", Call: func(ctx context.Context) error { return rs.RevokeFamily(ctx, "f", time.Now().Add(time.Hour)) }},
				{Name: "Revoke", Call: func(ctx context.Context) error { return dl.Revoke(ctx, "j", time.Now().Add(time.Hour)) }},
				{Name: "IsRevoked", Call: func(ctx context.Context) error { _, err := dl.IsRevoked(ctx, "j"); return err }},
			}
			testenv.CheckCallsEnd(t, calls)
			_ = rdb.Close()
		})
	}
	stop()
	settled()
}
