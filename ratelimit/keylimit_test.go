package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
)

// issueLimiter is a copy of auth.IssueLimiter: sibling packages do not
// import each other, so the contract is asserted against this copy (and
// against the original in package auth's tests).
type issueLimiter interface {
	Allow(ctx context.Context, subject string) (retryAfter time.Duration, err error)
}

var _ issueLimiter = (*ratelimit.KeyLimiter)(nil)

func newKeyLimiter(t *testing.T, o ratelimit.KeyLimiterOptions) *ratelimit.KeyLimiter {
	t.Helper()
	k, err := ratelimit.NewKeyLimiter(o)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A key gets Burst calls at once, then one every Period/Rate; a refusal
// says how long to wait and counts nothing; other keys are unaffected.
func TestKeyLimiterLimitsEachKey(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		rate      int
		burst     int
		wantBurst int
		wantWait  time.Duration
	}{
		{"burst defaults to rate", 3, 0, 3, 20 * time.Second},
		{"a smaller burst", 6, 2, 2, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			store, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ratelimit.SetClock(store, clock.Now)
			k := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: tt.rate, Period: time.Minute, Burst: tt.burst, Store: store})
			for i := range tt.wantBurst {
				if wait, err := k.Allow(ctx, "alice"); err != nil || wait != 0 {
					t.Fatalf("call %d: %v, %v", i+1, wait, err)
				}
			}
			for range 3 { // refusals count nothing: the wait stays the same
				wait, err := k.Allow(ctx, "alice")
				if !errors.Is(err, ratelimit.ErrLimited) || wait != tt.wantWait {
					t.Fatalf("over the burst: %v, %v; want ErrLimited and %v", wait, err, tt.wantWait)
				}
				var u interface{ Unavailable() bool }
				if errors.As(err, &u) && u.Unavailable() {
					t.Fatalf("a refusal reports Unavailable: %v", err)
				}
			}
			if _, err := k.Allow(ctx, "bob"); err != nil {
				t.Fatalf("bob is limited by alice's calls: %v", err)
			}
			clock.Advance(tt.wantWait)
			if _, err := k.Allow(ctx, "alice"); err != nil {
				t.Fatalf("after the wait: %v", err)
			}
			if _, err := k.Allow(ctx, "alice"); !errors.Is(err, ratelimit.ErrLimited) {
				t.Fatalf("the wait earned more than one call: %v", err)
			}
		})
	}
}

// The default store is private to the limiter and limits as well.
func TestKeyLimiterDefaultStore(t *testing.T) {
	ctx := context.Background()
	k := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 2, Period: time.Hour})
	for i := range 2 {
		if _, err := k.Allow(ctx, "alice"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if wait, err := k.Allow(ctx, "alice"); !errors.Is(err, ratelimit.ErrLimited) || wait <= 29*time.Minute {
		t.Fatalf("third call: %v, %v", wait, err)
	}
	other := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 2, Period: time.Hour})
	if _, err := other.Allow(ctx, "alice"); err != nil {
		t.Fatalf("two limiters without a store share one: %v", err)
	}
}

// A nil *MemoryStore, as a variable of that type left unset gives, means
// the default store, as it does for a Middleware and an AttemptLimiter;
// the limiter panicked on every call.
func TestKeyLimiterNilMemoryStoreMeansTheDefault(t *testing.T) {
	var store *ratelimit.MemoryStore
	k := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 1, Period: time.Hour, Store: store})
	ctx := context.Background()
	if _, err := k.Allow(ctx, "alice"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if _, err := k.Allow(ctx, "alice"); !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("second call: %v, want ErrLimited", err)
	}
}

// Keys are "<name>:key:<key>", a key that is not a short token hashed;
// they differ from every key of a Middleware's limits and of an
// AttemptLimiter of the same name, so a shared store keeps the budgets
// apart.
func TestKeyLimiterKeysDoNotCollide(t *testing.T) {
	ctx := context.Background()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 1, Period: time.Hour, Store: store})
	long := strings.Repeat("x", 65)
	for key, want := range map[string]string{
		"alice":        "tokens:key:alice",
		"client:batch": "tokens:key:client:batch",
		"a b":          "tokens:key:#",
		long:           "tokens:key:#",
		"":             "tokens:key:#",
	} {
		if got := ratelimit.KeyLimiterKey(k, key); !strings.HasPrefix(got, want) || strings.Contains(got, " ") || len(got) > 100 {
			t.Errorf("key of %q = %q, want it to start with %q", key, got, want)
		}
	}
	// A value that looks like a hashed key is hashed itself.
	if h := ratelimit.KeyLimiterKey(k, long); ratelimit.KeyLimiterKey(k, strings.TrimPrefix(h, "tokens:key:")) == h {
		t.Errorf("the key %q can be reached by its text", h)
	}

	// A Middleware limit of the same name keyed by subject or by a
	// function returning the same text, and an AttemptLimiter of the same
	// name, all on the same store.
	sub := func(name string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/token", nil)
		return r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: name})))
	}
	mw := ratelimit.MustNew(ratelimit.Options{Store: store, Limits: []ratelimit.Limit{
		{Name: "tokens", Rate: 1, Period: time.Hour, Key: ratelimit.BySubject()},
	}})
	fn := ratelimit.MustNew(ratelimit.Options{Store: store, Limits: []ratelimit.Limit{
		{Name: "tokens", Rate: 1, Period: time.Hour, Key: ratelimit.ByFunc(func(*http.Request) (string, bool) { return "alice", true })},
	}})
	attempts, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Name: "tokens", MaxFailures: 1, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*ratelimit.Middleware{mw, fn} {
		if key, _ := ratelimit.KeyOf(m, 0, sub("alice")); key == ratelimit.KeyLimiterKey(k, "alice") {
			t.Fatalf("the middleware's key %q is the key limiter's", key)
		}
	}
	if _, err := k.Allow(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := mw.Check(sub("alice")); err != nil {
		t.Errorf("BySubject limit refused after the key limiter's call: %v", err)
	}
	if err := fn.Check(sub("alice")); err != nil {
		t.Errorf("ByFunc limit refused after the key limiter's call: %v", err)
	}
	if _, err := attempts.Reserve(ctx, "alice", netip.MustParseAddr("192.0.2.1")); err != nil {
		t.Errorf("attempt limiter refused after the key limiter's call: %v", err)
	}
	// And the other way round: the others used their budgets; a second
	// key limiter of another name too.
	other := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "resets", Rate: 1, Period: time.Hour, Store: store})
	if _, err := other.Allow(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Allow(ctx, "bob"); err != nil {
		t.Errorf("a key limiter of another name used bob's budget: %v", err)
	}
	if err := mw.Check(sub("carol")); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Allow(ctx, "carol"); err != nil {
		t.Errorf("the middleware used carol's budget: %v", err)
	}
}

func TestNewKeyLimiterRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		o    ratelimit.KeyLimiterOptions
		want string
	}{
		{"no name", ratelimit.KeyLimiterOptions{Rate: 1, Period: time.Second}, "Name"},
		{"a name with a colon", ratelimit.KeyLimiterOptions{Name: "a:b", Rate: 1, Period: time.Second}, "Name"},
		{"a name too long", ratelimit.KeyLimiterOptions{Name: strings.Repeat("a", 33), Rate: 1, Period: time.Second}, "Name"},
		{"no rate", ratelimit.KeyLimiterOptions{Name: "t", Period: time.Second}, "Rate"},
		{"no period", ratelimit.KeyLimiterOptions{Name: "t", Rate: 1}, "Period"},
		{"a negative burst", ratelimit.KeyLimiterOptions{Name: "t", Rate: 1, Period: time.Second, Burst: -1}, "Burst"},
		{"an interval under a microsecond", ratelimit.KeyLimiterOptions{Name: "t", Rate: 2000, Period: time.Millisecond}, "1µs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ratelimit.NewKeyLimiter(tt.o)
			if k != nil || !errors.Is(err, ratelimit.ErrOption) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewKeyLimiter = %v, %v; want ErrOption naming %s", k, err, tt.want)
			}
		})
	}
}

// The zero and the nil KeyLimiter refuse; a failing store refuses with an
// error that reports Unavailable, which auth answers 503 rather than 429.
func TestKeyLimiterRefusesWhenItCannotCount(t *testing.T) {
	ctx := context.Background()
	var nilLimiter *ratelimit.KeyLimiter
	for _, k := range []*ratelimit.KeyLimiter{nilLimiter, new(ratelimit.KeyLimiter)} {
		if wait, err := k.Allow(ctx, "alice"); !errors.Is(err, ratelimit.ErrNotConfigured) || wait <= 0 {
			t.Errorf("unconfigured: %v, %v", wait, err)
		}
	}
	k := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 1, Period: time.Minute, Store: brokenStore{}})
	wait, err := k.Allow(ctx, "alice")
	var u interface{ Unavailable() bool }
	if !errors.Is(err, ratelimit.ErrStore) || !errors.As(err, &u) || !u.Unavailable() || wait != time.Second {
		t.Fatalf("store failure: %v, %v; want ErrStore, Unavailable and 1s", wait, err)
	}
	if errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("a store failure is a refusal: %v", err)
	}
}

// brokenStore fails every call.
type brokenStore struct{}

var errBroken = errors.New("connection refused")

func (brokenStore) Take(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errBroken
}

func (brokenStore) Peek(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errBroken
}

func (brokenStore) Reset(context.Context, string) error { return errBroken }

// Peek tells what Allow would decide without counting, and Reset gives a
// key its burst back (after an administrator lifts a block, say); other
// keys keep theirs. Neither works without a configured limiter, and a
// store failure is ErrStore, as for Allow.
func TestKeyLimiterPeekAndReset(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ratelimit.SetClock(store, clock.Now)
	k := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 2, Period: time.Minute, Store: store})
	peek := func(key string, allowed bool, remaining int, retry time.Duration) {
		t.Helper()
		for range 2 { // a Peek counts nothing: the second sees the same
			res, err := k.Peek(ctx, key)
			if err != nil || res.Allowed != allowed || res.Remaining != remaining || res.RetryAfter != retry {
				t.Fatalf("Peek(%q) = %+v, %v; want allowed %t, remaining %d, retry %v", key, res, err, allowed, remaining, retry)
			}
		}
	}
	peek("alice", true, 1, 0)
	for range 2 {
		if _, err := k.Allow(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Allow(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	peek("alice", false, 0, 30*time.Second)
	if err := k.Reset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	peek("alice", true, 1, 0)
	peek("bob", true, 0, 0)
	for i := range 2 {
		if _, err := k.Allow(ctx, "alice"); err != nil {
			t.Fatalf("call %d after Reset: %v", i+1, err)
		}
	}

	var nilLimiter *ratelimit.KeyLimiter
	for _, k := range []*ratelimit.KeyLimiter{nilLimiter, new(ratelimit.KeyLimiter)} {
		if _, err := k.Peek(ctx, "alice"); !errors.Is(err, ratelimit.ErrNotConfigured) {
			t.Errorf("unconfigured Peek: %v", err)
		}
		if err := k.Reset(ctx, "alice"); !errors.Is(err, ratelimit.ErrNotConfigured) {
			t.Errorf("unconfigured Reset: %v", err)
		}
	}
	broken := newKeyLimiter(t, ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 1, Period: time.Minute, Store: brokenStore{}})
	if _, err := broken.Peek(ctx, "alice"); !errors.Is(err, ratelimit.ErrStore) || !errors.Is(err, errBroken) {
		t.Errorf("Peek on a broken store: %v", err)
	}
	if err := broken.Reset(ctx, "alice"); !errors.Is(err, ratelimit.ErrStore) || !errors.Is(err, errBroken) {
		t.Errorf("Reset on a broken store: %v", err)
	}
}
