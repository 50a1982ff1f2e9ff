package ratelimit_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/ratelimit"
)

// clockedScript returns the script of package redisstore with Redis's
// TIME replaced by the time passed as ARGV[4] and ARGV[5] (seconds and
// microseconds), so that it can be driven by the clock of a MemoryStore.
func clockedScript(t *testing.T) *redis.Script {
	t.Helper()
	src, err := os.ReadFile("redisstore/redisstore.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	const open = "redis.NewScript(`"
	i := strings.Index(s, open)
	if i < 0 {
		t.Fatal("no script in redisstore.go")
	}
	s = s[i+len(open):]
	s = s[:strings.Index(s, "`")]
	const timeCall = "local t = redis.call('TIME')"
	if !strings.Contains(s, timeCall) {
		t.Fatal("the script does not read TIME as expected")
	}
	// Redis expires keys on its own clock, which the test clock does not
	// drive: keys live a day of real time here. (The script's expiry,
	// rounded up to the millisecond, is never before the key has fully
	// decayed.)
	const expiry = "'PX', math.ceil("
	if strings.Count(s, expiry) != 2 {
		t.Fatal("the script does not set expiries as expected")
	}
	s = strings.ReplaceAll(s, expiry, "'PX', 86400000 + 0 * math.ceil(")
	return redis.NewScript(strings.Replace(s, timeCall, "local t = {ARGV[4], ARGV[5]}", 1))
}

// clockedStore is a ratelimit.Store running the script of redisstore on
// a real Redis, with the time taken from now rather than from Redis.
type clockedStore struct {
	client *redis.Client
	script *redis.Script
	now    func() time.Time
}

func newClockedStore(t *testing.T, now func() time.Time) *clockedStore {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	t.Cleanup(func() { c.Close() })
	return &clockedStore{client: c, script: clockedScript(t), now: now}
}

func (s *clockedStore) run(ctx context.Context, mode, key string, q ratelimit.Quota) (ratelimit.Result, error) {
	us := int64(q.Interval / time.Microsecond)
	if q.Interval%time.Microsecond > 0 {
		us++
	}
	now := s.now().UnixMicro()
	vals, err := s.script.Run(ctx, s.client, []string{"diff:" + key}, mode, us, q.Burst, now/1e6, now%1e6).Int64Slice()
	if err != nil {
		return ratelimit.Result{}, err
	}
	if len(vals) != 4 {
		return ratelimit.Result{}, fmt.Errorf("reply %v", vals)
	}
	return ratelimit.Result{
		Allowed:    vals[0] == 1,
		Remaining:  int(vals[1]),
		RetryAfter: time.Duration(vals[2]) * time.Microsecond,
		ResetAfter: time.Duration(vals[3]) * time.Microsecond,
	}, nil
}

func (s *clockedStore) Take(ctx context.Context, key string, q ratelimit.Quota) (ratelimit.Result, error) {
	return s.run(ctx, "take", key, q)
}

func (s *clockedStore) Peek(ctx context.Context, key string, q ratelimit.Quota) (ratelimit.Result, error) {
	return s.run(ctx, "peek", key, q)
}

func (s *clockedStore) Reset(ctx context.Context, key string) error {
	_, err := s.run(ctx, "reset", key, ratelimit.Quota{Interval: time.Microsecond, Burst: 1})
	return err
}

type diffOp struct {
	advance time.Duration
	q       ratelimit.Quota
	peek    bool
	reset   bool
}

// TestMemoryAndRedisDecideAlike runs the same requests at the same times
// through a MemoryStore and the Redis script and compares every result.
func TestMemoryAndRedisDecideAlike(t *testing.T) {
	clock := newClock()
	mem := must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{}))
	ratelimit.SetClock(mem, clock.Now)
	rs := newClockedStore(t, clock.Now)
	ctx := context.Background()

	sec := ratelimit.Quota{Interval: time.Second, Burst: 3}
	burst1 := ratelimit.Quota{Interval: time.Second, Burst: 1}
	hourly := ratelimit.Quota{Interval: time.Hour, Burst: 1}
	finest := ratelimit.Quota{Interval: time.Microsecond, Burst: 1000}
	daily := ratelimit.Quota{Interval: 24 * time.Hour, Burst: 5}
	widest := ratelimit.Quota{Interval: 100 * 365 * 24 * time.Hour, Burst: 1}
	big := ratelimit.Quota{Interval: time.Microsecond, Burst: 1 << 30}
	rep := func(n int, op diffOp) []diffOp {
		ops := make([]diffOp, n)
		for i := range ops {
			ops[i] = op
		}
		ops[0].advance = op.advance
		for i := 1; i < n; i++ {
			ops[i].advance = 0
		}
		return ops
	}
	cat := func(parts ...[]diffOp) []diffOp {
		var all []diffOp
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name string
		ops  []diffOp
	}{
		{"burst then boundary", cat(rep(4, diffOp{q: sec}), []diffOp{{advance: time.Second, q: sec}, {q: sec}, {advance: time.Second - time.Microsecond, q: sec}, {advance: time.Microsecond, q: sec}})},
		{"burst 1", cat(rep(3, diffOp{q: burst1}), []diffOp{{advance: 999999 * time.Microsecond, q: burst1}, {advance: time.Microsecond, q: burst1}})},
		{"one an hour", cat(rep(2, diffOp{q: hourly}), []diffOp{{advance: time.Hour - time.Microsecond, q: hourly}, {advance: time.Microsecond, q: hourly}, {q: hourly, peek: true}})},
		{"finest rate", cat(rep(1001, diffOp{q: finest}), []diffOp{{advance: time.Microsecond, q: finest}, {q: finest}, {advance: 10 * time.Microsecond, q: finest, peek: true}})},
		{"a day", cat(rep(6, diffOp{q: daily}), []diffOp{{advance: 24*time.Hour - time.Microsecond, q: daily}, {advance: time.Microsecond, q: daily}})},
		{"long idle then burst", cat(rep(3, diffOp{q: sec}), rep(5, diffOp{advance: 300 * 24 * time.Hour, q: sec}))},
		{"widest quota", rep(3, diffOp{q: widest})},
		{"largest burst", cat(rep(3, diffOp{q: big}), []diffOp{{q: big, peek: true}})},
		{"peek and reset", cat(rep(3, diffOp{q: sec}), []diffOp{{q: sec, peek: true}, {reset: true}, {q: sec}})},
		{"limit raised", cat(rep(4, diffOp{q: sec}), rep(3, diffOp{q: ratelimit.Quota{Interval: time.Second, Burst: 10}}))},
		{"limit lowered", cat(rep(3, diffOp{q: daily}), rep(3, diffOp{q: sec}), []diffOp{{advance: 2 * time.Second, q: sec}, {q: daily}})},
		{"burst lowered", cat(rep(5, diffOp{q: daily}), rep(3, diffOp{q: ratelimit.Quota{Interval: 24 * time.Hour, Burst: 2}}))},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("k%d", ti)
			for i, op := range tt.ops {
				clock.Advance(op.advance)
				if op.reset {
					if err := mem.Reset(ctx, key); err != nil {
						t.Fatal(err)
					}
					if err := rs.Reset(ctx, key); err != nil {
						t.Fatal(err)
					}
					continue
				}
				call := func(s ratelimit.Store) ratelimit.Result {
					f := s.Take
					if op.peek {
						f = s.Peek
					}
					r, err := f(ctx, key, op.q)
					if err != nil {
						t.Fatal(err)
					}
					return r
				}
				m, r := call(mem), call(rs)
				if m != r {
					t.Errorf("op %d (%+v): memory %+v, redis %+v", i, op, m, r)
				}
			}
		})
	}
}
