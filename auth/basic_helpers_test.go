package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
)

// fastHasher hashes with tiny parameters so that tests run quickly; the
// middleware's logic does not depend on the cost. Its limits are low, so
// that a stored hash beyond them is cheap to construct.
var fastHasher = password.MustNew(password.Options{
	Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
	MaxMemory:                  1024,
	MaxTime:                    4,
	MaxThreads:                 4,
	DangerouslyAllowWeakParams: true,
})

// countingHasher counts the verifications that did hashing work (those
// that returned no error: a refused hash or password costs nothing). A
// delay makes each verification last as long as a real password hash, so
// that concurrent attempts overlap.
type countingHasher struct {
	h      *password.Hasher
	worked atomic.Int64
	calls  atomic.Int64
	delay  time.Duration
}

func (c *countingHasher) Hash(pw string) (string, error) { return c.h.Hash(pw) }

func (c *countingHasher) Verify(pw, encoded string) (bool, bool, error) {
	c.calls.Add(1)
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	ok, rehash, err := c.h.Verify(pw, encoded)
	if err == nil {
		c.worked.Add(1)
	}
	return ok, rehash, err
}

// failingUsers is a store that cannot answer.
type failingUsers struct{}

var errStoreDown = errors.New("store down")

func (failingUsers) LookupUser(context.Context, string) (auth.User, bool, error) {
	return auth.User{}, false, errStoreDown
}

// fakeLimiter is an AttemptLimiter that refuses once failures reach max.
// Reserve counts a failure atomically, as the contract requires.
type fakeLimiter struct {
	mu        sync.Mutex
	max       int
	failures  map[string]int
	checks    int
	reserves  int
	successes int
	wait      time.Duration
}

func newFakeLimiter(max int) *fakeLimiter {
	return &fakeLimiter{max: max, failures: map[string]int{}, wait: 2100 * time.Millisecond}
}

var errLimited = errors.New("limited")

func (l *fakeLimiter) Check(_ context.Context, name string, ip netip.Addr) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checks++
	if l.failures[name+"|"+ip.String()] >= l.max {
		return l.wait, errLimited
	}
	return 0, nil
}

func (l *fakeLimiter) Reserve(_ context.Context, name string, ip netip.Addr) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reserves++
	k := name + "|" + ip.String()
	if l.failures[k] >= l.max {
		return l.wait, errLimited
	}
	l.failures[k]++
	return 0, nil
}

func (l *fakeLimiter) RecordSuccess(_ context.Context, name string, ip netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.successes++
	delete(l.failures, name+"|"+ip.String())
	return nil
}

func (l *fakeLimiter) failuresOf(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures[key]
}
