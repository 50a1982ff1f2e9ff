package ratelimit_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

// gcraStep is a request of cost n (1 unless n or free is set) after
// advance, taken or only peeked at, and what the store must answer.
type gcraStep struct {
	advance   time.Duration
	n         int
	free      bool
	peek      bool
	allowed   bool
	remaining int
	retry     time.Duration
	reset     time.Duration // checked when not zero
}

func (st gcraStep) cost() int {
	if st.n == 0 && !st.free {
		return 1
	}
	return st.n
}

func TestGCRA(t *testing.T) {
	five := ratelimit.Quota{Interval: 12 * time.Second, Burst: 5} // 5 a minute
	tests := []struct {
		name  string
		q     ratelimit.Quota
		steps []gcraStep
	}{
		{
			name: "five per minute admits a burst of five then one every twelve seconds",
			q:    ratelimit.Quota{Interval: 12 * time.Second, Burst: 5},
			steps: []gcraStep{
				{allowed: true, remaining: 4, reset: 12 * time.Second},
				{allowed: true, remaining: 3, reset: 24 * time.Second},
				{allowed: true, remaining: 2},
				{allowed: true, remaining: 1},
				{allowed: true, remaining: 0, reset: time.Minute},
				{allowed: false, retry: 12 * time.Second, reset: time.Minute},
				{advance: 11 * time.Second, allowed: false, retry: time.Second},
				{advance: time.Second, allowed: true, remaining: 0},
				{allowed: false, retry: 12 * time.Second},
			},
		},
		{
			name: "a steady rate at exactly the interval is always admitted",
			q:    ratelimit.Quota{Interval: 100 * time.Millisecond, Burst: 1},
			steps: []gcraStep{
				{allowed: true},
				{advance: 100 * time.Millisecond, allowed: true},
				{advance: 100 * time.Millisecond, allowed: true},
				{advance: 100 * time.Millisecond, allowed: true},
				{advance: 50 * time.Millisecond, allowed: false, retry: 50 * time.Millisecond},
				{advance: 50 * time.Millisecond, allowed: true},
			},
		},
		{
			name: "a long idle period gives back the full burst and no more",
			q:    ratelimit.Quota{Interval: 500 * time.Millisecond, Burst: 3},
			steps: []gcraStep{
				{allowed: true, remaining: 2},
				{allowed: true, remaining: 1},
				{allowed: true, remaining: 0},
				{allowed: false, retry: 500 * time.Millisecond},
				{advance: time.Hour, allowed: true, remaining: 2, reset: 500 * time.Millisecond},
				{allowed: true, remaining: 1},
				{allowed: true, remaining: 0},
				{allowed: false, retry: 500 * time.Millisecond},
			},
		},
		{
			name: "partial recovery earns back whole requests only",
			q:    ratelimit.Quota{Interval: time.Second, Burst: 4},
			steps: []gcraStep{
				{allowed: true, remaining: 3},
				{allowed: true, remaining: 2},
				{allowed: true, remaining: 1},
				{allowed: true, remaining: 0},
				{advance: 2500 * time.Millisecond, allowed: true, remaining: 1},
				{allowed: true, remaining: 0},
				{allowed: false, retry: 500 * time.Millisecond, reset: 3500 * time.Millisecond},
			},
		},
		{
			name: "refused requests do not extend the wait",
			q:    ratelimit.Quota{Interval: time.Second, Burst: 1},
			steps: []gcraStep{
				{allowed: true},
				{allowed: false, retry: time.Second},
				{allowed: false, retry: time.Second},
				{allowed: false, retry: time.Second},
				{advance: time.Second, allowed: true},
			},
		},
		{name: "a request of cost 3 uses 3 of the burst", q: five, steps: []gcraStep{
			{n: 3, allowed: true, remaining: 2, reset: 36 * time.Second},
			{n: 3, allowed: false, retry: 12 * time.Second, reset: 36 * time.Second},
			{n: 2, allowed: true, remaining: 0, reset: time.Minute},
			{n: 1, allowed: false, retry: 12 * time.Second, reset: time.Minute},
			{advance: 24 * time.Second, n: 3, allowed: false, retry: 12 * time.Second, reset: 36 * time.Second},
			{advance: 12 * time.Second, n: 3, allowed: true, remaining: 0, reset: time.Minute},
		}},
		{name: "a cost of the whole burst needs a rested key", q: five, steps: []gcraStep{
			{n: 5, allowed: true, remaining: 0, reset: time.Minute},
			{advance: 48 * time.Second, n: 5, allowed: false, retry: 12 * time.Second, reset: 12 * time.Second},
			{advance: 12 * time.Second, n: 5, allowed: true, remaining: 0, reset: time.Minute},
		}},
		{name: "a cost above the burst is never admitted, and changes nothing", q: five, steps: []gcraStep{
			{n: 6, allowed: false, retry: -1},
			{n: 1 << 40, allowed: false, retry: -1},
			{n: 5, allowed: true, remaining: 0, reset: time.Minute},
			{n: 6, allowed: false, retry: -1, reset: time.Minute},
		}},
		{name: "a free request is admitted and counts nothing", q: five, steps: []gcraStep{
			{free: true, allowed: true, remaining: 5},
			{n: 5, allowed: true, remaining: 0, reset: time.Minute},
			{free: true, allowed: true, remaining: 0, reset: time.Minute},
			{n: 1, allowed: false, retry: 12 * time.Second, reset: time.Minute},
		}},
		{name: "a peek at a cost tells its wait without counting", q: five, steps: []gcraStep{
			{n: 4, allowed: true, remaining: 1, reset: 48 * time.Second},
			{n: 3, peek: true, allowed: false, retry: 24 * time.Second, reset: 48 * time.Second},
			{n: 1, peek: true, allowed: true, remaining: 0, reset: time.Minute},
			{n: 1, allowed: true, remaining: 0, reset: time.Minute},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			clock := newClock()
			ratelimit.SetClock(s, clock.Now)
			for i, st := range tt.steps {
				clock.Advance(st.advance)
				f := s.Take
				if st.peek {
					f = s.Peek
				}
				got, err := f(context.Background(), "k", tt.q, st.cost())
				if err != nil {
					t.Fatal(err)
				}
				if got.Allowed != st.allowed || got.Remaining != st.remaining || got.RetryAfter != st.retry {
					t.Errorf("step %d: got allowed=%v remaining=%d retry=%v, want %v %d %v",
						i, got.Allowed, got.Remaining, got.RetryAfter, st.allowed, st.remaining, st.retry)
				}
				if st.reset != 0 && got.ResetAfter != st.reset {
					t.Errorf("step %d: reset after %v, want %v", i, got.ResetAfter, st.reset)
				}
			}
		})
	}
}

func TestMemoryStorePeekAndReset(t *testing.T) {
	ctx := context.Background()
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	clock := newClock()
	ratelimit.SetClock(s, clock.Now)
	q := ratelimit.Quota{Interval: time.Second, Burst: 2}
	for range 5 {
		if res, _ := s.Peek(ctx, "k", q, 1); !res.Allowed || res.Remaining != 1 {
			t.Fatalf("peek on a fresh key = %+v, want allowed with 1 remaining", res)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("peek stored %d keys", s.Len())
	}
	s.Take(ctx, "k", q, 1)
	s.Take(ctx, "k", q, 1)
	if res, _ := s.Peek(ctx, "k", q, 1); res.Allowed || res.RetryAfter != time.Second {
		t.Fatalf("peek on a spent key = %+v, want refused for 1s", res)
	}
	if err := s.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if res, _ := s.Take(ctx, "k", q, 1); !res.Allowed || res.Remaining != 1 {
		t.Fatalf("take after reset = %+v, want a full burst", res)
	}
}

func TestMemoryStoreRejectsInvalidQuota(t *testing.T) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	for _, q := range []ratelimit.Quota{
		{},
		{Interval: time.Nanosecond, Burst: 1},
		{Interval: time.Second, Burst: 0},
		{Interval: 200 * time.Hour * 24 * 365, Burst: 1},
		{Interval: time.Hour, Burst: 1 << 31},
	} {
		if _, err := s.Take(context.Background(), "k", q, 1); err == nil {
			t.Errorf("Take with %+v: no error", q)
		}
	}
	if _, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: -1}); !errors.Is(err, ratelimit.ErrOption) {
		t.Error("negative MaxKeys accepted")
	}
}

func TestZeroMemoryStoreIsUsable(t *testing.T) {
	var s ratelimit.MemoryStore
	q := ratelimit.Quota{Interval: time.Second, Burst: 1}
	if res, err := s.Take(context.Background(), "k", q, 1); err != nil || !res.Allowed {
		t.Fatalf("first Take = %+v, %v", res, err)
	}
	if res, _ := s.Take(context.Background(), "k", q, 1); res.Allowed {
		t.Fatal("second Take admitted")
	}
	if s.MaxKeys() < ratelimit.DefaultMaxKeys || s.Len() != 1 {
		t.Fatalf("MaxKeys %d, Len %d", s.MaxKeys(), s.Len())
	}
}

// The division of the GCRA step, done in floating point, agrees with the
// integer division for every operand, at the edges of exact doubles too.
func TestQuotientIsIntegerDivision(t *testing.T) {
	edges := []int64{0, 1, 2, 3, 7, 999, 1000, 1001, 1 << 30, 1<<30 - 1, 1<<52 - 1, 1 << 52, 1<<52 + 1,
		1<<53 - 1, 1 << 53, 1<<53 + 1, 1 << 62, math.MaxInt64}
	check := func(x, d int64) {
		if d <= 0 || x < 0 {
			return
		}
		if got, want := ratelimit.Quotient(x, d), x/d; got != want {
			t.Fatalf("quotient(%d, %d) = %d, want %d", x, d, got, want)
		}
	}
	for _, x := range edges {
		for _, d := range edges {
			for _, dx := range []int64{-1, 0, 1} {
				check(x+dx, d)
				check(x, d+dx)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		// Multiples of d and their neighbours, where a rounded quotient
		// would go wrong, and arbitrary values.
		d := rng.Int64N(1<<uint(1+rng.IntN(62))) + 1
		q := rng.Int64N(1 << uint(1+rng.IntN(31)))
		check(q*d, d)
		check(q*d-1, d)
		check(q*d+1, d)
		check(rng.Int64N(1<<uint(1+rng.IntN(62))), d)
	}
}
