package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth/redisstore"
	"github.com/httpguard/httpguard/internal/testenv"
)

// hangBound is how long a call to a Redis that does not answer may take
// in these tests: far above their Timeout, to absorb a loaded machine,
// and far below go-redis's default DialTimeout (5 s, its handshake with a
// server that never answers) and ReadTimeout (3 s).
const hangBound = 2 * time.Second

// Found in review: the stores had no bound of their own on a call, and
// go-redis applies a context's deadline only with ContextTimeoutEnabled
// and sees no cancellation while it waits for a reply. With a client of
// the default options, every bearer request checked against the denylist
// and every refresh held 5 s when Redis hung, even after its client had
// gone away. Options.Timeout now bounds every call.
func TestARedisThatHangsFailsWithinTimeout(t *testing.T) {
	settled := testenv.Goroutines(t)
	addr, stop := testenv.SilentServer(t)
	for _, cte := range []bool{false, true} {
		t.Run(fmt.Sprintf("ContextTimeoutEnabled=%v", cte), func(t *testing.T) {
			// The default options, and ContextTimeoutEnabled, with which the
			// store leaves the deadline to the client.
			rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: cte})
			o := redisstore.Options{Client: rdb, Timeout: 50 * time.Millisecond}
			rs, err := redisstore.NewRefreshStore(o)
			if err != nil {
				t.Fatal(err)
			}
			dl, err := redisstore.NewDenylist(o)
			if err != nil {
				t.Fatal(err)
			}
			calls := []struct {
				name string
				call func(context.Context) error
			}{
				{"Create", func(ctx context.Context) error { return rs.Create(ctx, "h", rec("f")) }},
				{"Lookup", func(ctx context.Context) error { _, _, err := rs.Lookup(ctx, "h"); return err }},
				{"Rotate", func(ctx context.Context) error { return rs.Rotate(ctx, "h", "h2", rec("f")) }},
				{"RevokeFamily", func(ctx context.Context) error { return rs.RevokeFamily(ctx, "f", time.Now().Add(time.Hour)) }},
				{"Revoke", func(ctx context.Context) error { return dl.Revoke(ctx, "j", time.Now().Add(time.Hour)) }},
				{"IsRevoked", func(ctx context.Context) error { _, err := dl.IsRevoked(ctx, "j"); return err }},
			}
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					start := time.Now()
					err := c.call(context.Background())
					if d := time.Since(start); d > hangBound {
						t.Fatalf("took %v with Timeout 50ms", d)
					}
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("error %v, want one wrapping context.DeadlineExceeded", err)
					}
				})
				t.Run(c.name+"/the caller leaves", func(t *testing.T) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					time.AfterFunc(20*time.Millisecond, cancel)
					start := time.Now()
					err := c.call(ctx)
					if d := time.Since(start); d > hangBound {
						t.Fatalf("took %v after the caller left", d)
					}
					if err == nil {
						t.Fatal("no error")
					}
				})
			}
			_ = rdb.Close()
		})
	}
	stop()
	settled()
}
