package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

// attemptLimiter is a copy of auth.AttemptLimiter: sibling packages do not
// import each other, so the contract is asserted against this copy (and in
// the bench module against the original).
type attemptLimiter interface {
	Check(ctx context.Context, username string, ip netip.Addr) (retryAfter time.Duration, err error)
	RecordFailure(ctx context.Context, username string, ip netip.Addr) error
	RecordSuccess(ctx context.Context, username string, ip netip.Addr) error
}

var _ attemptLimiter = (*ratelimit.AttemptLimiter)(nil)

// login simulates an authenticator using the limiter: Check, then verify,
// then record. It reports whether the login went through.
func login(t *testing.T, a attemptLimiter, user, password string, ip netip.Addr) (bool, error) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Check(ctx, user, ip); err != nil {
		return false, err
	}
	if password != "right" {
		if err := a.RecordFailure(ctx, user, ip); err != nil {
			t.Fatal(err)
		}
		return false, nil
	}
	if err := a.RecordSuccess(ctx, user, ip); err != nil {
		t.Fatal(err)
	}
	return true, nil
}

func newAttempts(t *testing.T, o ratelimit.AttemptOptions) (*ratelimit.AttemptLimiter, *fakeClock) {
	t.Helper()
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	clock := newClock()
	ratelimit.SetClock(store, clock.Now)
	o.Store = store
	a, err := ratelimit.NewAttemptLimiter(o)
	if err != nil {
		t.Fatal(err)
	}
	return a, clock
}

var (
	attacker = netip.MustParseAddr("203.0.113.9")
	home     = netip.MustParseAddr("198.51.100.20")
)

func TestAttemptLimiterLocksAPairAfterTenFailures(t *testing.T) {
	a, clock := newAttempts(t, ratelimit.AttemptOptions{})
	for i := range 10 {
		if _, err := login(t, a, "alice", "wrong", attacker); err != nil {
			t.Fatalf("failure %d was refused: %v", i+1, err)
		}
	}
	// Locked: the right password is refused too.
	ok, err := login(t, a, "alice", "right", attacker)
	if ok || !errors.Is(err, ratelimit.ErrLocked) {
		t.Fatalf("after 10 failures: ok=%v err=%v, want ErrLocked", ok, err)
	}
	retry, _ := a.Check(context.Background(), "alice", attacker)
	if retry != ratelimit.DefaultLockout {
		t.Errorf("retry after %v, want %v", retry, ratelimit.DefaultLockout)
	}
	// Another user from the same address, and alice from home, are not
	// affected.
	if ok, err := login(t, a, "bob", "right", attacker); !ok {
		t.Errorf("bob from the same address: %v", err)
	}
	if ok, err := login(t, a, "alice", "right", home); !ok {
		t.Errorf("alice from home: %v", err)
	}
	// Case variants are one account.
	if _, err := a.Check(context.Background(), "ALICE", attacker); !errors.Is(err, ratelimit.ErrLocked) {
		t.Errorf("ALICE is not locked: %v", err)
	}
	// The lockout ends: one more attempt, then locked again.
	clock.Advance(ratelimit.DefaultLockout - time.Second)
	if _, err := login(t, a, "alice", "right", attacker); err == nil {
		t.Fatal("admitted before the lockout ended")
	}
	clock.Advance(time.Second)
	if _, err := login(t, a, "alice", "wrong", attacker); err != nil {
		t.Fatalf("refused after the lockout: %v", err)
	}
	if _, err := login(t, a, "alice", "right", attacker); !errors.Is(err, ratelimit.ErrLocked) {
		t.Fatalf("one more failure did not lock again: %v", err)
	}
	clock.Advance(ratelimit.DefaultLockout)
	if ok, err := login(t, a, "alice", "right", attacker); !ok {
		t.Fatalf("the right password after the lockout: %v", err)
	}
}

func TestAttemptLimiterSuccessClearsThePair(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxFailures: 3})
	for range 5 {
		login(t, a, "alice", "wrong", home)
		login(t, a, "alice", "wrong", home)
		if ok, err := login(t, a, "alice", "right", home); !ok {
			t.Fatalf("a success after two typos was refused: %v", err)
		}
	}
}

func TestAttemptLimiterStopsDistributedGuessing(t *testing.T) {
	a, clock := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 20})
	// Alice logs in from home once: her network becomes known.
	if ok, err := login(t, a, "alice", "right", home); !ok {
		t.Fatal(err)
	}
	// A botnet makes 2 guesses from each of 10 addresses.
	for i := range 10 {
		bot := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		for range 2 {
			if _, err := login(t, a, "alice", "wrong", bot); err != nil {
				t.Fatalf("bot %d refused early: %v", i, err)
			}
		}
	}
	// A fresh address is refused now, even with the right password...
	fresh := netip.MustParseAddr("192.0.2.200")
	_, err := login(t, a, "alice", "right", fresh)
	if !errors.Is(err, ratelimit.ErrUserLocked) {
		t.Fatalf("fresh address after 20 distributed failures: %v, want ErrUserLocked", err)
	}
	// ...but alice at home keeps working, and bob is unaffected.
	if ok, err := login(t, a, "alice", "right", home); !ok {
		t.Fatalf("alice from her known network: %v", err)
	}
	if ok, err := login(t, a, "bob", "right", fresh); !ok {
		t.Fatalf("bob: %v", err)
	}
	// The known network expires.
	clock.Advance(ratelimit.DefaultKnownNetworkTTL + time.Second)
	for i := range 25 {
		login(t, a, "alice", "wrong", netip.AddrFrom4([4]byte{203, 0, 114, byte(i)}))
	}
	if _, err := login(t, a, "alice", "right", home); !errors.Is(err, ratelimit.ErrUserLocked) {
		t.Fatalf("an expired known network still bypasses the per-user cap: %v", err)
	}
}

func TestAttemptLimiterWithoutKnownNetworksLocksEverywhere(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 5, DisableKnownNetworks: true})
	login(t, a, "alice", "right", home)
	for i := range 5 {
		login(t, a, "alice", "wrong", netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}))
	}
	if _, err := login(t, a, "alice", "right", home); !errors.Is(err, ratelimit.ErrUserLocked) {
		t.Fatalf("err = %v, want ErrUserLocked", err)
	}
}

func TestAttemptLimiterConcurrentFailuresNeverExceedTheBudget(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := a.Check(ctx, "alice", attacker); err == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
					a.RecordFailure(ctx, "alice", attacker)
				}
			}
		}()
	}
	wg.Wait()
	// Check and RecordFailure are separate steps, so racing goroutines can
	// each pass Check before any records; what must hold is that the
	// count locks the pair.
	if _, err := a.Check(ctx, "alice", attacker); !errors.Is(err, ratelimit.ErrLocked) {
		t.Fatalf("not locked after %d concurrent failures: %v", admitted, err)
	}
	if admitted > 10+8 {
		t.Fatalf("%d attempts admitted", admitted)
	}
}

func TestAttemptLimiterStoreFailureFailsClosed(t *testing.T) {
	a, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: failingStore{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if retry, err := a.Check(ctx, "alice", home); !errors.Is(err, ratelimit.ErrStore) || retry <= 0 {
		t.Errorf("Check() = %v, %v; want ErrStore and a retry", retry, err)
	}
	if err := a.RecordFailure(ctx, "alice", home); !errors.Is(err, ratelimit.ErrStore) {
		t.Errorf("RecordFailure() = %v", err)
	}
	if err := a.RecordSuccess(ctx, "alice", home); !errors.Is(err, ratelimit.ErrStore) {
		t.Errorf("RecordSuccess() = %v", err)
	}
	var zero ratelimit.AttemptLimiter
	if _, err := zero.Check(ctx, "alice", home); !errors.Is(err, ratelimit.ErrNotConfigured) {
		t.Errorf("zero AttemptLimiter: %v", err)
	}
}

func TestAttemptLimiterKeysHoldNoUserNameOrAddressInClear(t *testing.T) {
	rec := &recordingStore{Store: must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{}))}
	a, _ := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: rec})
	login(t, a, "alice@example.com", "wrong", home)
	login(t, a, "alice@example.com", "right", home)
	if len(rec.keys) == 0 {
		t.Fatal("no key recorded")
	}
	for _, k := range rec.keys {
		if strings.Contains(k, "alice") {
			t.Errorf("key %q holds the user name", k)
		}
		// One user's keys share a Redis Cluster hash tag.
		if strings.Count(k, "{") != 1 || strings.Count(k, "}") != 1 {
			t.Errorf("key %q has no single hash tag", k)
		}
	}
}

func TestNewAttemptLimiterRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		o    ratelimit.AttemptOptions
		want string
	}{
		{"a negative failure count", ratelimit.AttemptOptions{MaxFailures: -1}, "MaxFailures"},
		{"a negative lockout", ratelimit.AttemptOptions{Lockout: -time.Second}, "Lockout"},
		{"a negative user failure count", ratelimit.AttemptOptions{MaxUserFailures: -1}, "MaxUserFailures"},
		{"a negative known-network lifetime", ratelimit.AttemptOptions{KnownNetworkTTL: -time.Hour}, "KnownNetworkTTL"},
		{"a name with a space", ratelimit.AttemptOptions{Name: "a b"}, "Name"},
		{"an IPv6 prefix of /200", ratelimit.AttemptOptions{IPv6Prefix: 200}, "IPv6Prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ratelimit.NewAttemptLimiter(tt.o)
			if !errors.Is(err, ratelimit.ErrOption) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrOption naming %s", err, tt.want)
			}
		})
	}
}

type recordingStore struct {
	ratelimit.Store
	mu   sync.Mutex
	keys []string
}

func (s *recordingStore) note(k string) {
	s.mu.Lock()
	s.keys = append(s.keys, k)
	s.mu.Unlock()
}

func (s *recordingStore) Take(ctx context.Context, k string, q ratelimit.Quota) (ratelimit.Result, error) {
	s.note(k)
	return s.Store.Take(ctx, k, q)
}

func (s *recordingStore) Peek(ctx context.Context, k string, q ratelimit.Quota) (ratelimit.Result, error) {
	s.note(k)
	return s.Store.Peek(ctx, k, q)
}

func (s *recordingStore) Reset(ctx context.Context, k string) error {
	s.note(k)
	return s.Store.Reset(ctx, k)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}
