package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
)

// An upgrade that OnRehash refuses (a read-only store, a database that
// rejects the write) leaves the old hash stored: the verification is then
// cached under it, as any other. Without that, every request of a user
// with an outdated hash paid a verification and a new hash, with the cache
// on.
func TestBasicCachesWhenOnRehashFails(t *testing.T) {
	var calls int
	s := newBasic(t, func(o *auth.BasicOptions) {
		o.CacheTTL = time.Minute
		o.OnRehash = func(context.Context, string, string, string) error {
			calls++
			return errors.New("read-only store")
		}
	})
	h := s.basic.Handler(whoami)
	for i := range 3 {
		if w, _ := do(h, basicValue("bob", "builder")); w.Code != 200 {
			t.Fatalf("request %d: status %d", i, w.Code)
		}
	}
	if got := s.hasher.calls.Load(); got != 1 || calls != 1 {
		t.Errorf("3 requests with a bcrypt hash OnRehash cannot upgrade: %d verifications, %d OnRehash calls; want 1, 1", got, calls)
	}
}
