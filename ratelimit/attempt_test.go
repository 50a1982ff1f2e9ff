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
// import each other, so the contract is asserted against this copy (and
// against the original in package auth's tests).
type attemptLimiter interface {
	Check(ctx context.Context, username string, ip netip.Addr) (retryAfter time.Duration, err error)
	Reserve(ctx context.Context, username string, ip netip.Addr) (retryAfter time.Duration, err error)
	RecordSuccess(ctx context.Context, username string, ip netip.Addr) error
}

var _ attemptLimiter = (*ratelimit.AttemptLimiter)(nil)

// login simulates an authenticator using the limiter: Reserve, then
// verify, then record a success. It reports whether the login went
// through.
func login(t *testing.T, a attemptLimiter, user, password string, ip netip.Addr) (bool, error) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Reserve(ctx, user, ip); err != nil {
		return false, err
	}
	if password != "right" {
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
	// Case variants, and variants with trailing spaces, which SQL
	// collations ignore, are one account.
	for _, v := range []string{"ALICE", "alice ", "Alice  "} {
		if _, err := a.Check(context.Background(), v, attacker); !errors.Is(err, ratelimit.ErrLocked) {
			t.Errorf("%q is not locked: %v", v, err)
		}
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
	a, clock := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 21})
	// Alice logs in from home once: her network becomes known. Its
	// reservation, made while it was not, stays counted for the user.
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
	// Check, for credentials accepted without a verification, refuses
	// the known network too (a mutation found no test of it).
	if _, err := a.Check(context.Background(), "alice", home); !errors.Is(err, ratelimit.ErrUserLocked) {
		t.Fatalf("Check at home: err = %v, want ErrUserLocked", err)
	}
}

// reserveAll makes n reservations at once, one per goroutine, all
// released together, for user from addr(i), and returns how many were
// admitted and the errors of the refused ones.
func reserveAll(a attemptLimiter, n int, user string, addr func(i int) netip.Addr) (admitted int, refused []error) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := a.Reserve(ctx, user, addr(i))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				admitted++
			} else {
				refused = append(refused, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return admitted, refused
}

// The bug of the two-step protocol (Check, verify, RecordFailure): 200
// simultaneous guesses for one pair all passed Check before any failure
// was recorded. A reservation is one atomic step.
func TestAttemptLimiterReserveAdmitsOnlyTheBudgetOfConcurrentGuesses(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{})
	admitted, refused := reserveAll(a, 200, "alice", func(int) netip.Addr { return attacker })
	if admitted != ratelimit.DefaultMaxFailures {
		t.Fatalf("%d of 200 concurrent guesses admitted, want %d", admitted, ratelimit.DefaultMaxFailures)
	}
	for _, err := range refused {
		if !errors.Is(err, ratelimit.ErrLocked) {
			t.Fatalf("refused with %v, want ErrLocked", err)
		}
	}
	ctx := context.Background()
	if retry, err := a.Reserve(ctx, "alice", attacker); !errors.Is(err, ratelimit.ErrLocked) || retry <= 0 {
		t.Fatalf("the right password after the storm: %v, %v; want ErrLocked and a retry", retry, err)
	}
	if retry, err := a.Check(ctx, "alice", attacker); !errors.Is(err, ratelimit.ErrLocked) || retry != ratelimit.DefaultLockout {
		t.Fatalf("Check after the storm: %v, %v", retry, err)
	}
	if ok, err := login(t, a, "bob", "right", attacker); !ok {
		t.Errorf("bob from the attacker's address: %v", err)
	}
	if ok, err := login(t, a, "alice", "right", home); !ok {
		t.Errorf("alice from home: %v", err)
	}
}

func TestAttemptLimiterReserveAdmitsOnlyTheUserBudgetOfConcurrentDistributedGuesses(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 20})
	admitted, refused := reserveAll(a, 200, "alice", func(i int) netip.Addr {
		return netip.AddrFrom4([4]byte{203, 0, byte(i / 250), byte(i % 250)})
	})
	if admitted != 20 {
		t.Fatalf("%d of 200 guesses from 200 addresses admitted, want 20", admitted)
	}
	for _, err := range refused {
		if !errors.Is(err, ratelimit.ErrUserLocked) {
			t.Fatalf("refused with %v, want ErrUserLocked", err)
		}
	}
}

// A reservation refused for the pair counts nothing: a guesser on one
// network does not use up the user's budget beyond the pair's.
func TestAttemptLimiterPairRefusalsDoNotCountForTheUser(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 15})
	if admitted, _ := reserveAll(a, 100, "alice", func(int) netip.Addr { return attacker }); admitted != 10 {
		t.Fatalf("%d admitted from one network", admitted)
	}
	ctx := context.Background()
	for i := range 5 {
		if _, err := a.Reserve(ctx, "alice", netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})); err != nil {
			t.Fatalf("attempt %d from another network: %v", 11+i, err)
		}
	}
	if _, err := a.Reserve(ctx, "alice", netip.MustParseAddr("192.0.2.99")); !errors.Is(err, ratelimit.ErrUserLocked) {
		t.Fatalf("attempt 16: %v, want ErrUserLocked", err)
	}
}

// Consecutive: nine failures and a success leave the full budget.
func TestAttemptLimiterSuccessGivesBackTheFullBudget(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{})
	for range 9 {
		login(t, a, "alice", "wrong", home)
	}
	if ok, err := login(t, a, "alice", "right", home); !ok {
		t.Fatal(err)
	}
	if admitted, _ := reserveAll(a, 50, "alice", func(int) netip.Addr { return home }); admitted != 10 {
		t.Fatalf("%d admitted after a success, want the full 10", admitted)
	}
}

// Failures from a network where the user logged in do not count toward the
// per-user cap, so an attacker there cannot lock the user out elsewhere,
// and the user's own successes never lock them.
func TestAttemptLimiterKnownNetworkAttemptsDoNotCountForTheUser(t *testing.T) {
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableKnownNetworks=%v", disable), func(t *testing.T) {
			a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 5, DisableKnownNetworks: disable})
			for range 50 {
				if ok, err := login(t, a, "alice", "right", home); !ok {
					t.Fatalf("alice's own logins locked her: %v", err)
				}
			}
			for range 3 {
				login(t, a, "alice", "wrong", home)
			}
			// One count from the first login; four left elsewhere.
			for i := range 4 {
				if _, err := login(t, a, "alice", "wrong", netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})); err != nil {
					t.Fatalf("a new network: %v", err)
				}
			}
			if _, err := login(t, a, "alice", "right", netip.MustParseAddr("192.0.2.99")); !errors.Is(err, ratelimit.ErrUserLocked) {
				t.Fatalf("after the budget: %v", err)
			}
		})
	}
}

// The two-step protocol still counts failures, for callers that have not
// moved to Reserve.
func TestAttemptLimiterRecordFailureStillLocks(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxFailures: 3})
	ctx := context.Background()
	for range 3 {
		if _, err := a.Check(ctx, "alice", attacker); err != nil {
			t.Fatal(err)
		}
		if err := a.RecordFailure(ctx, "alice", attacker); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Check(ctx, "alice", attacker); !errors.Is(err, ratelimit.ErrLocked) {
		t.Fatalf("not locked: %v", err)
	}
}

// RecordFailure counts for the user name too, not only for the pair: the
// two-step protocol still stops guessing spread over many networks (a
// mutation found no test of it).
func TestAttemptLimiterRecordFailureCountsTheUser(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 3})
	ctx := context.Background()
	for i := range 3 {
		if err := a.RecordFailure(ctx, "alice", netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Check(ctx, "alice", attacker); !errors.Is(err, ratelimit.ErrUserLocked) {
		t.Fatalf("Check after 3 failures from 3 networks: %v, want ErrUserLocked", err)
	}
}

// With the two-step protocol too, failures from a network where the user
// logged in do not count toward the per-user cap: an attacker sharing
// that network (an office NAT) could otherwise lock the user out of every
// other network, which the per-user trade-off says it cannot.
func TestAttemptLimiterRecordFailureFromAKnownNetworkSparesTheUser(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 3})
	ctx := context.Background()
	if _, err := a.Reserve(ctx, "alice", home); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordSuccess(ctx, "alice", home); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := a.RecordFailure(ctx, "alice", home); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Check(ctx, "alice", netip.MustParseAddr("192.0.2.7")); err != nil {
		t.Fatalf("Check from another network after failures from a known one: %v", err)
	}
}

// package auth's contract: a refused Reserve counts nothing for the pair.
// While an attacker keeps the user name locked, the real user trying from
// a new device is refused without her own pair being counted, so that she
// is not locked out of that network once the attack stops (found in
// review: each refusal cost the pair a failure, and ten of them locked it
// for up to two and a half hours more).
func TestAttemptLimiterUserLockCountsNothingForThePair(t *testing.T) {
	a, clock := newAttempts(t, ratelimit.AttemptOptions{MaxUserFailures: 1})
	ctx := context.Background()
	if _, err := a.Reserve(ctx, "alice", attacker); err != nil {
		t.Fatal(err)
	}
	for i := range ratelimit.DefaultMaxFailures + 5 {
		if _, err := a.Reserve(ctx, "alice", home); !errors.Is(err, ratelimit.ErrUserLocked) {
			t.Fatalf("attempt %d from a new network with the user locked: %v", i+1, err)
		}
	}
	clock.Advance(ratelimit.DefaultUserLockout)
	if ok, err := login(t, a, "alice", "right", home); !ok {
		t.Fatalf("alice after the user's lockout: %v", err)
	}
}

// A client retrying after the wait an ErrUserLocked named is not refused
// again at once by its pair.
func TestAttemptLimiterARetryAfterAUserLockIsAdmitted(t *testing.T) {
	a, clock := newAttempts(t, ratelimit.AttemptOptions{MaxFailures: 2, MaxUserFailures: 1})
	ctx := context.Background()
	if _, err := a.Reserve(ctx, "alice", attacker); err != nil {
		t.Fatal(err)
	}
	var retry time.Duration
	for range 2 {
		var err error
		if retry, err = a.Reserve(ctx, "alice", home); !errors.Is(err, ratelimit.ErrUserLocked) {
			t.Fatalf("Reserve from a new network with the user locked: %v", err)
		}
	}
	clock.Advance(retry)
	if wait, err := a.Reserve(ctx, "alice", home); err != nil {
		t.Fatalf("Reserve after the %v Reserve said to wait: %v (wait %v more)", retry, err, wait)
	}
}

// A client retrying after the wait a refusal named is admitted, when both
// its pair and its user name are locked, whichever lock Check or Reserve
// reports and whichever ends last: the wait covers both.
func TestAttemptLimiterWaitCoversBothLocks(t *testing.T) {
	other := netip.MustParseAddr("192.0.2.7")
	for _, tc := range []struct {
		name string
		o    ratelimit.AttemptOptions
	}{
		// The pair's lock ends after the user name's.
		{"pair last", ratelimit.AttemptOptions{MaxFailures: 2, MaxUserFailures: 3}},
		// The user name's lock ends after the pair's.
		{"user last", ratelimit.AttemptOptions{MaxFailures: 2, Lockout: 10 * time.Second, MaxUserFailures: 3, UserLockout: time.Hour}},
	} {
		for _, method := range []string{"Check", "Reserve"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				a, clock := newAttempts(t, tc.o)
				ctx := context.Background()
				// Two failures lock the pair (alice, attacker), a third
				// from elsewhere the user name.
				for _, ip := range []netip.Addr{attacker, attacker, other} {
					if _, err := a.Reserve(ctx, "alice", ip); err != nil {
						t.Fatal(err)
					}
				}
				call := a.Check
				if method == "Reserve" {
					call = a.Reserve
				}
				retry, err := call(ctx, "alice", attacker)
				if err == nil || retry <= 0 {
					t.Fatalf("%s with both locks = %v, %v; want a refusal and a wait", method, retry, err)
				}
				clock.Advance(retry)
				if wait, err := call(ctx, "alice", attacker); err != nil {
					t.Errorf("%s after the %v it said to wait: %v (wait %v more)", method, retry, err, wait)
				}
			})
		}
	}
}

// An IPv4-mapped IPv6 address is the IPv4 address it holds, as
// Options.IPv4Prefix groups it: a caller passing one form or the other
// counts for one pair (a mutation found no test of it; the Middleware's
// addresses come unmapped from clientip, the limiter's from its caller).
func TestAttemptLimiterKeysAnIPv4MappedAddressAsIPv4(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxFailures: 3})
	ctx := context.Background()
	mapped := netip.AddrFrom16(attacker.As16())
	for range 3 {
		if _, err := a.Reserve(ctx, "alice", mapped); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Check(ctx, "alice", attacker); !errors.Is(err, ratelimit.ErrLocked) {
		t.Fatalf("%v after 3 failures from %v: %v, want ErrLocked", attacker, mapped, err)
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
	if retry, err := a.Reserve(ctx, "alice", home); !errors.Is(err, ratelimit.ErrStore) || retry <= 0 {
		t.Errorf("Reserve() = %v, %v; want ErrStore and a retry", retry, err)
	}
	if err := a.RecordFailure(ctx, "alice", home); !errors.Is(err, ratelimit.ErrStore) {
		t.Errorf("RecordFailure() = %v", err)
	}
	if err := a.RecordSuccess(ctx, "alice", home); !errors.Is(err, ratelimit.ErrStore) {
		t.Errorf("RecordSuccess() = %v", err)
	}
	for name, a := range map[string]*ratelimit.AttemptLimiter{"zero": {}, "nil": nil} {
		if _, err := a.Check(ctx, "alice", home); !errors.Is(err, ratelimit.ErrNotConfigured) {
			t.Errorf("%s AttemptLimiter Check: %v", name, err)
		}
		if _, err := a.Reserve(ctx, "alice", home); !errors.Is(err, ratelimit.ErrNotConfigured) {
			t.Errorf("%s AttemptLimiter Reserve: %v", name, err)
		}
		if err := a.RecordFailure(ctx, "alice", home); !errors.Is(err, ratelimit.ErrNotConfigured) {
			t.Errorf("%s AttemptLimiter RecordFailure: %v", name, err)
		}
		if err := a.RecordSuccess(ctx, "alice", home); !errors.Is(err, ratelimit.ErrNotConfigured) {
			t.Errorf("%s AttemptLimiter RecordSuccess: %v", name, err)
		}
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
		{"a negative known-network budget", ratelimit.AttemptOptions{MaxKnownNetworks: -1}, "MaxKnownNetworks"},
		{"a known-network budget finer than a microsecond", ratelimit.AttemptOptions{KnownNetworkTTL: time.Millisecond, MaxKnownNetworks: 2000}, "MaxKnownNetworks"},
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

// The documented bounds of the options are accepted (a mutation found no
// test of MaxKnownNetworks 1).
func TestNewAttemptLimiterAcceptsTheDocumentedBounds(t *testing.T) {
	for _, o := range []ratelimit.AttemptOptions{
		{MaxKnownNetworks: 1},
		{MaxFailures: 1, MaxUserFailures: 1},
		{IPv4Prefix: 8, IPv6Prefix: 24},
		{IPv4Prefix: 32, IPv6Prefix: 128},
		{Name: strings.Repeat("n", 32)},
	} {
		if _, err := ratelimit.NewAttemptLimiter(o); err != nil {
			t.Errorf("NewAttemptLimiter(%+v): %v", o, err)
		}
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

func (s *recordingStore) Take(ctx context.Context, k string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	s.note(k)
	return s.Store.Take(ctx, k, q, n)
}

func (s *recordingStore) Peek(ctx context.Context, k string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	s.note(k)
	return s.Store.Peek(ctx, k, q, n)
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

// Found in review: with one store for every kind of key, an attacker who
// spread guesses for one user over many networks filled it with
// per-network counts carrying more debt (5 failures × 15 min) than the
// locked per-user count (100 × 36 s), and eviction, which keeps the keys
// with the most debt, dropped the per-user count: 250 000 networks got
// 1 600 verifications instead of about 100. The default stores are now
// separate, one per kind of key.
func TestUserCapSurvivesAFloodOfNetworks(t *testing.T) {
	const maxKeys, networks = 2000, 5000 // 2.5 networks for every key the store can hold
	given, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: maxKeys})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		store ratelimit.Store
	}{
		{"the default stores", nil},
		// Found in review of the fix: a MemoryStore given in the options
		// still held every kind of key.
		{"a MemoryStore given in the options", given},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ratelimit.NewAttemptLimiterMaxKeys(ratelimit.AttemptOptions{Store: tt.store}, maxKeys)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			admitted := 0
			for i := range networks {
				ip := netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
				for range 5 {
					if _, err := a.Reserve(ctx, "victim", ip); err == nil {
						admitted++
					}
				}
			}
			if admitted > ratelimit.DefaultMaxUserFailures+1 {
				t.Fatalf("%d networks × 5 guesses: %d verifications for one user, want at most %d", networks, admitted, ratelimit.DefaultMaxUserFailures+1)
			}
		})
	}
}

// Two limiters given one MemoryStore (Basic and the token endpoint, for
// example) share one per-user count, as they did when the store held every
// kind of key (found in review of the separation: each limiter had made
// companion stores of its own, doubling the cap).
func TestLimitersGivenOneMemoryStoreShareTheUserCap(t *testing.T) {
	st, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: st})
	a2, _ := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: st})
	ctx := context.Background()
	admitted := 0
	for i := range 2000 {
		ip := netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)})
		for _, a := range []*ratelimit.AttemptLimiter{a1, a2} {
			if _, err := a.Reserve(ctx, "victim", ip); err == nil {
				admitted++
			}
		}
	}
	if admitted > ratelimit.DefaultMaxUserFailures+1 {
		t.Errorf("two limiters on one MemoryStore: %d guesses for one user, cap %d", admitted, ratelimit.DefaultMaxUserFailures+1)
	}
}

// v6Net returns the address ::1 of the /64 2001:db8:a:b::/64, one fresh
// network for every (a, b), as an attacker gets from one /48.
func v6Net(a, b int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(a >> 8), byte(a), byte(b >> 8), byte(b), 15: 1})
}

// Found in review: the known networks lived in a bounded store whose
// eviction dropped the entry with the earliest expiry, the oldest
// success. An attacker logging into ordinary accounts from about twice
// MaxKeys fresh IPv6 /64s (cheap from one /48) evicted alice's home
// network, then a guessing storm spread over many networks locked alice
// out at home too. Now each user name makes at most MaxKnownNetworks
// networks known at once (which stops the reviewer's 20 accounts), and
// the store of known networks never evicts a live entry (which stops 500
// accounts that fill it).
func TestKnownNetworkSurvivesOtherUsersSuccesses(t *testing.T) {
	const maxKeys = 1000 // stands for DefaultMaxKeys
	for _, attack := range []struct{ accounts, networks int }{
		{20, 100}, // the reviewer's
		{500, 10}, // within the per-user budget, 5 500 entries
	} {
		for _, given := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d accounts × %d networks, MemoryStore given: %v", attack.accounts, attack.networks, given), func(t *testing.T) {
				var o ratelimit.AttemptOptions
				if given {
					o.Store = must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: maxKeys}))
				}
				a, err := ratelimit.NewAttemptLimiterMaxKeys(o, maxKeys)
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				if ok, err := login(t, a, "alice", "right", home); !ok {
					t.Fatal(err)
				}
				for acct := range attack.accounts {
					for i := range attack.networks {
						name := fmt.Sprintf("mallory%d", acct)
						if ok, err := login(t, a, name, "right", v6Net(acct, i)); !ok {
							t.Fatalf("attacker success %d/%d refused: %v", acct, i, err)
						}
					}
				}
				if n := ratelimit.KnownStoreOf(a).(*ratelimit.MemoryStore).Len(); n > 2*maxKeys {
					t.Errorf("the store of known networks holds %d keys, bound %d", n, 2*maxKeys)
				}
				// A distributed failure storm on alice.
				for i := range 150 {
					_, _ = a.Reserve(ctx, "alice", v6Net(0xffff, i))
				}
				if _, err := a.Reserve(ctx, "alice", netip.MustParseAddr("192.0.2.1")); !errors.Is(err, ratelimit.ErrUserLocked) {
					t.Fatalf("alice from a new network after the storm: %v, want ErrUserLocked", err)
				}
				if _, err := a.Reserve(ctx, "alice", home); err != nil {
					t.Errorf("alice refused at home after %d attacker successes: %v", attack.accounts*attack.networks, err)
				}
			})
		}
	}
}

// The store of known networks holds twice the keys of the others, as
// AttemptOptions.Store says: its entries last KnownNetworkTTL, and each
// user with one also has a budget entry (a mutation found no test of it).
func TestKnownNetworkStoreHoldsTwiceTheKeys(t *testing.T) {
	for _, given := range []bool{false, true} {
		t.Run(fmt.Sprintf("MemoryStore given: %v", given), func(t *testing.T) {
			var o ratelimit.AttemptOptions
			if given {
				o.Store = must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 1000}))
			}
			a := must(ratelimit.NewAttemptLimiterMaxKeys(o, 1000))
			if n := ratelimit.KnownStoreOf(a).(*ratelimit.MemoryStore).MaxKeys(); n != 2000 {
				t.Errorf("the store of known networks holds %d keys, want 2000", n)
			}
		})
	}
}

// A known network is decayed exactly KnownNetworkTTL after its success,
// as a Peek then says, and a full store of known networks, which evicts
// no live entry, takes the decayed one's place for a new network at that
// instant (a mutation found that no test told an entry decayed at now
// from a live one). MaxKeys 8 gives a store of known networks of 16 keys
// in one shard; MaxKnownNetworks 1 makes each user's budget entry decay
// with its network.
func TestFullKnownNetworkStoreTakesANewNetworkWhenTheOldOnesExpire(t *testing.T) {
	store := must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 8}))
	clock := newClock()
	ratelimit.SetClock(store, clock.Now)
	a := must(ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: store, MaxKnownNetworks: 1}))
	ctx := context.Background()
	for i := range 8 {
		if err := a.RecordSuccess(ctx, fmt.Sprint("user", i), v6Net(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ratelimit.KnownStoreOf(a).(*ratelimit.MemoryStore).Len(); n != 16 {
		t.Fatalf("the store of known networks holds %d keys, want it full (16)", n)
	}
	clock.Advance(ratelimit.DefaultKnownNetworkTTL)
	if ratelimit.IsKnown(a, "user0", v6Net(0, 0)) {
		t.Fatal("a network still known KnownNetworkTTL after its success")
	}
	if err := a.RecordSuccess(ctx, "alice", home); err != nil {
		t.Fatal(err)
	}
	if !ratelimit.IsKnown(a, "alice", home) {
		t.Error("a new network was not remembered in place of decayed ones")
	}
}

// Found in review: one account could make any number of networks known.
// A user name makes MaxKnownNetworks new networks known at once, then one
// more every KnownNetworkTTL / MaxKnownNetworks; renewing a known network
// uses none. Through a MemoryStore (with its companions) and through any
// other Store (one store for every key, as with Redis).
func TestMaxKnownNetworksBoundsOneUser(t *testing.T) {
	for _, generic := range []bool{false, true} {
		t.Run(fmt.Sprintf("generic Store: %v", generic), func(t *testing.T) {
			mem := must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{}))
			clock := newClock()
			ratelimit.SetClock(mem, clock.Now)
			var st ratelimit.Store = mem
			if generic {
				st = &recordingStore{Store: mem}
			}
			a := must(ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: st}))
			ctx := context.Background()
			success := func(i int) {
				t.Helper()
				if err := a.RecordSuccess(ctx, "mallory", v6Net(1, i)); err != nil {
					t.Fatal(err)
				}
			}
			known := func(i int) bool { return ratelimit.IsKnown(a, "mallory", v6Net(1, i)) }
			for i := range 30 {
				success(i)
			}
			for i := range 30 {
				if want := i < ratelimit.DefaultMaxKnownNetworks; known(i) != want {
					t.Errorf("network %d known: %v, want %v", i, known(i), want)
				}
			}
			// 29 days later the budget is back to 9 of 10 (one every 3
			// days): 9 of 10 new networks become known.
			clock.Advance(29 * 24 * time.Hour)
			for i := 30; i < 40; i++ {
				success(i)
			}
			for i := 30; i < 40; i++ {
				if want := i < 39; known(i) != want {
					t.Errorf("network %d known: %v, want %v", i, known(i), want)
				}
			}
			// With the budget spent, a known network is still renewed.
			success(0)
			clock.Advance(2 * 24 * time.Hour)
			if !known(0) {
				t.Error("network 0, renewed on day 29, forgotten on day 31")
			}
			if known(1) {
				t.Error("network 1, not renewed, still known after KnownNetworkTTL")
			}
		})
	}
}

// Found in review: a full store of known networks refuses new ones rather
// than evict live ones; it takes new ones again as entries expire, and a
// known network is renewed while it is full.
func TestFullKnownNetworkStoreKeepsItsEntries(t *testing.T) {
	st := must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 100}))
	clock := newClock()
	ratelimit.SetClock(st, clock.Now)
	a := must(ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: st}))
	ctx := context.Background()
	bobHome := netip.MustParseAddr("192.0.2.7")
	if err := a.RecordSuccess(ctx, "alice", home); err != nil {
		t.Fatal(err)
	}
	for acct := range 200 {
		for i := range 10 {
			if err := a.RecordSuccess(ctx, fmt.Sprintf("mallory%d", acct), v6Net(acct, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	known := ratelimit.KnownStoreOf(a).(*ratelimit.MemoryStore)
	if known.Len() != known.MaxKeys() {
		t.Fatalf("the store of known networks holds %d keys of %d", known.Len(), known.MaxKeys())
	}
	if !ratelimit.IsKnown(a, "alice", home) {
		t.Fatal("alice's home evicted")
	}
	if err := a.RecordSuccess(ctx, "bob", bobHome); err != nil {
		t.Fatal(err)
	}
	if ratelimit.IsKnown(a, "bob", bobHome) {
		t.Error("a full store took a new network")
	}
	clock.Advance(20 * 24 * time.Hour)
	if err := a.RecordSuccess(ctx, "alice", home); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * 24 * time.Hour) // the attacker's entries have expired
	if !ratelimit.IsKnown(a, "alice", home) {
		t.Error("alice's home, renewed while the store was full, forgotten")
	}
	if err := a.RecordSuccess(ctx, "bob", bobHome); err != nil {
		t.Fatal(err)
	}
	if !ratelimit.IsKnown(a, "bob", bobHome) {
		t.Error("the store took no new network after its entries expired")
	}
}

// Found in review: the default Username was strings.ToLower, which leaves
// "ſ" (U+017F LATIN SMALL LETTER LONG S), "ς" (final sigma) and other
// lower-case variants as they are, though a case-insensitive match
// (strings.EqualFold, SQL collations such as MySQL's utf8mb4_general_ci
// and utf8mb4_0900_ai_ci) takes "ſam" for "sam". With such a store, every
// long s in a name gave an attacker a fresh failure budget for the same
// account, and a refusal of the spelling the limiter did count, but not of
// the other, told that the account existed.
func TestAttemptLimiterDefaultUsernameFoldsCaseAsEqualFold(t *testing.T) {
	a, _ := newAttempts(t, ratelimit.AttemptOptions{})
	for _, tt := range []struct{ name, variant string }{
		{"sam", "ſam"},
		{"SAM", "ſam"},
		{"kim", "\u212aim"}, // Kelvin sign
		{"σοφία", "ςοφία"},
		{"ΣΟΦΊΑ", "ςοφία"},
		{"θ", "ϑ"},
		{"вера", "\u1c80ера"}, // Cyrillic small rounded ve
		{"straße", "STRAẞE"},
		// Collations that compare the upper case take ı for I and i.
		{"ıi", "Iİ"},
		{"alice ", "ALİCE"},
	} {
		if got, want := a.Username(tt.variant), a.Username(tt.name); got != want {
			t.Errorf("Username(%q) = %q, Username(%q) = %q: one account counted twice", tt.variant, got, tt.name, want)
		}
	}
	for i := range ratelimit.DefaultMaxFailures {
		if _, err := login(t, a, "sam", "wrong", attacker); err != nil {
			t.Fatalf("failure %d was refused: %v", i+1, err)
		}
	}
	if _, err := a.Check(context.Background(), "ſam", attacker); !errors.Is(err, ratelimit.ErrLocked) {
		t.Errorf("ſam after sam's failures: %v, want ErrLocked", err)
	}
	// Unicode 16 (Go 1.27's tables) folds these together, though upper and
	// lower case keep them apart: the names follow strings.EqualFold of
	// the toolchain that builds them.
	for _, pair := range [][2]string{{"\u0390", "\u1fd3"}, {"\u03b0", "\u1fe3"}, {"\ufb05", "\ufb06"}} {
		if strings.EqualFold(pair[0], pair[1]) && a.Username(pair[0]) != a.Username(pair[1]) {
			t.Errorf("EqualFold(%q, %q), but Username gives %q and %q", pair[0], pair[1], a.Username(pair[0]), a.Username(pair[1]))
		}
	}
	// Names that differ other than by case stay apart.
	for _, pair := range [][2]string{{"sam", "sum"}, {"sam", "sam2"}, {"sam", " sam"}} {
		if a.Username(pair[0]) == a.Username(pair[1]) {
			t.Errorf("%q and %q are counted as one", pair[0], pair[1])
		}
	}
}

// The default Username agrees with strings.EqualFold: names it takes for
// one another are counted as one, and names it tells apart are counted
// apart (a success for one would clear the failures of the other), but
// for the dotless and dotted i, which it documents as "i".
func FuzzAttemptLimiterDefaultUsername(f *testing.F) {
	a, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("sam", "ſAM")
	f.Add("\u212a", "k")
	f.Add("Alice  ", "alice")
	f.Add("\u0131", "I")
	f.Add("sam", "sum")
	f.Add(" sam", "sam")
	f.Add("\u0345", "\u1fbe")
	dotless := strings.NewReplacer("\u0131", "i", "\u0130", "i")
	f.Fuzz(func(t *testing.T, x, y string) {
		tx, ty := strings.TrimRight(x, " "), strings.TrimRight(y, " ")
		fold := strings.EqualFold(tx, ty)
		same := a.Username(x) == a.Username(y)
		if fold && !same {
			t.Errorf("EqualFold(%q, %q), but Username gives %q and %q", x, y, a.Username(x), a.Username(y))
		}
		if same && !fold && !strings.EqualFold(dotless.Replace(tx), dotless.Replace(ty)) {
			t.Errorf("Username gives %q for both %q and %q, which EqualFold tells apart", a.Username(x), x, y)
		}
	})
}

func TestAttemptLimiterUsername(t *testing.T) {
	def, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Username: func(s string) string { return "x" + s }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		a        *ratelimit.AttemptLimiter
		in, want string
	}{
		{def, "Alice  ", "alice"},
		{def, "alice", "alice"},
		{custom, "Alice", "xAlice"},
	} {
		if got := tt.a.Username(tt.in); got != tt.want {
			t.Errorf("Username(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A guesser holding an IPv6 /64 cannot get a fresh per-pair budget by
// rotating through its addresses or their zones: the pair is keyed by the
// network. (IPv4-mapped spellings: TestAttemptLimiterKeysAnIPv4MappedAddressAsIPv4.)
func TestAttemptLimiterKeysThePairByNetwork(t *testing.T) {
	tests := []struct {
		name  string
		addrs func(i int) netip.Addr // the i-th address the guesser uses
		other netip.Addr             // a network of its own
	}{
		{"addresses of one IPv6 /64", func(i int) netip.Addr {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, byte(i), 7, 0, 0, 0, 0, 0, byte(i)})
		}, netip.MustParseAddr("2001:db8:1:3::1")},
		{"one IPv6 address with a zone of its own each time", func(i int) netip.Addr {
			return netip.MustParseAddr("2001:db8:1:2::1").WithZone(fmt.Sprintf("eth%d", i))
		}, netip.MustParseAddr("2001:db8:1:3::1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAttempts(t, ratelimit.AttemptOptions{})
			for i := range ratelimit.DefaultMaxFailures {
				if _, err := login(t, a, "alice", "wrong", tt.addrs(i)); err != nil {
					t.Fatalf("failure %d was refused: %v", i+1, err)
				}
			}
			for i := ratelimit.DefaultMaxFailures; i < ratelimit.DefaultMaxFailures+5; i++ {
				if ok, err := login(t, a, "alice", "right", tt.addrs(i)); ok || !errors.Is(err, ratelimit.ErrLocked) {
					t.Fatalf("%v after %d failures from its network: ok=%v err=%v, want ErrLocked", tt.addrs(i), ratelimit.DefaultMaxFailures, ok, err)
				}
			}
			if ok, err := login(t, a, "alice", "right", tt.other); !ok {
				t.Fatalf("another network was refused: %v", err)
			}
		})
	}
}

// A refusal carries the mark TooManyRequests() bool that errorsafe (which
// this package does not import) answers with 429: returned from an
// errorsafe.HandlerFunc, a lockout was a 500 and a server error in the
// log (found in review). A store failure does not carry it.
func TestRefusalsAreMarkedTooManyRequests(t *testing.T) {
	marked := func(err error) bool {
		var m interface{ TooManyRequests() bool }
		return errors.As(err, &m) && m.TooManyRequests()
	}
	a, _ := newAttempts(t, ratelimit.AttemptOptions{MaxFailures: 1})
	ip := netip.MustParseAddr("192.0.2.1")
	if _, err := a.Reserve(t.Context(), "alice", ip); err != nil {
		t.Fatal(err)
	}
	_, locked := a.Reserve(t.Context(), "alice", ip)
	if !errors.Is(locked, ratelimit.ErrLocked) {
		t.Fatalf("second reservation: %v, want ErrLocked", locked)
	}
	for _, err := range []error{ratelimit.ErrLimited, ratelimit.ErrLocked, ratelimit.ErrUserLocked, locked, fmt.Errorf("login: %w", locked)} {
		if !marked(err) {
			t.Errorf("%v does not report TooManyRequests", err)
		}
	}
	if marked(ratelimit.ErrStore) {
		t.Error("ErrStore reports TooManyRequests")
	}
}
