package ratelimit_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/ratelimit"
)

// clockedScript returns the script of package redisstore with Redis's
// TIME replaced by the time passed as ARGV[5] and ARGV[6] (seconds and
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
	return redis.NewScript(strings.Replace(s, timeCall, "local t = {ARGV[5], ARGV[6]}", 1))
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

func (s *clockedStore) run(ctx context.Context, mode, key string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	us := int64(q.Interval / time.Microsecond)
	if q.Interval%time.Microsecond > 0 {
		us++
	}
	now := s.now().UnixMicro()
	vals, err := s.script.Run(ctx, s.client, []string{"diff:" + key}, mode, us, q.Burst, n, now/1e6, now%1e6).Int64Slice()
	if err != nil {
		return ratelimit.Result{}, err
	}
	if len(vals) != 4 {
		return ratelimit.Result{}, fmt.Errorf("reply %v", vals)
	}
	return ratelimit.Result{
		Allowed:    vals[0] == 1,
		Remaining:  int(vals[1]),
		RetryAfter: retryAfter(vals[2]),
		ResetAfter: time.Duration(vals[3]) * time.Microsecond,
	}, nil
}

// retryAfter is the conversion of redisstore's.
func retryAfter(us int64) time.Duration {
	if us < 0 {
		return -1
	}
	return time.Duration(us) * time.Microsecond
}

func (s *clockedStore) Take(ctx context.Context, key string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	return s.run(ctx, "take", key, q, n)
}

func (s *clockedStore) Peek(ctx context.Context, key string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	return s.run(ctx, "peek", key, q, n)
}

func (s *clockedStore) Reset(ctx context.Context, key string) error {
	_, err := s.run(ctx, "reset", key, ratelimit.Quota{Interval: time.Microsecond, Burst: 1}, 0)
	return err
}

type diffOp struct {
	advance time.Duration
	q       ratelimit.Quota
	peek    bool
	reset   bool
	cost    int  // of the request; 0 means 1 unless free
	free    bool // the request costs 0
}

// n returns the cost of op's request.
func (op diffOp) n() int {
	if op.cost == 0 && !op.free {
		return 1
	}
	return op.cost
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
		{"costs", cat([]diffOp{{q: sec, cost: 2}, {q: sec, cost: 2}, {q: sec, free: true}, {q: sec, cost: 2, peek: true}}, []diffOp{{advance: 500 * time.Millisecond, q: sec, cost: 2}, {advance: 500 * time.Millisecond, q: sec, cost: 2}, {q: sec}, {q: sec}})},
		{"cost of the whole burst", cat([]diffOp{{q: sec, cost: 3}, {q: sec, cost: 3}, {advance: 2 * time.Second, q: sec, cost: 3}, {advance: time.Second, q: sec, cost: 3, peek: true}, {q: sec, cost: 3}})},
		{"cost above the burst", cat([]diffOp{{q: sec, cost: 4}, {q: sec, cost: 4, peek: true}, {q: sec}, {q: sec, cost: 4}, {q: widest, cost: 1 << 40}, {q: big, cost: 1<<30 + 1}})},
		{"free requests", cat(rep(3, diffOp{q: sec, free: true}), rep(4, diffOp{q: sec}), []diffOp{{q: sec, free: true}, {q: sec, free: true, peek: true}})},
		{"free request of a new key", []diffOp{{q: sec, free: true}, {q: sec, free: true, peek: true}, {q: sec, cost: 3}}},
		{"cost after the limit was lowered", cat(rep(3, diffOp{q: daily}), []diffOp{{q: sec, cost: 2}, {q: sec, cost: 2, peek: true}, {advance: 2 * time.Second, q: sec, cost: 2}, {q: sec, cost: 5}})},
		{"peek after the limit was lowered", cat(rep(3, diffOp{q: daily}), []diffOp{{q: sec, peek: true}, {advance: time.Second, q: sec}, {q: daily, peek: true}, {q: sec, cost: 3, peek: true}, {advance: 3 * time.Second, q: sec, cost: 3}})},
		{"costs of the largest burst", []diffOp{{q: big, cost: 1 << 29}, {q: big, cost: 1 << 29}, {q: big, cost: 1}, {advance: time.Second, q: big, cost: 1 << 30, peek: true}}},
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
					r, err := f(ctx, key, op.q, op.n())
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

// TestRetryAfterAndRemainingAreKept drives Middlewares of random limits
// with random requests of one client and checks what the fields promise:
// a request at exactly the time Retry-After names is admitted, and a
// limit's r= requests made at once are admitted. With costs, each request
// costs a random part of the limits' bursts (or more), its retry costs as
// much, and only a cost above a burst goes without Retry-After. The same
// requests go through the Redis script on the same clock, which must
// answer with the same status and fields.
func TestRetryAfterAndRemainingAreKept(t *testing.T) {
	for _, costs := range []bool{false, true} {
		t.Run(fmt.Sprint("costs=", costs), func(t *testing.T) {
			keepsPromises(t, costs)
		})
	}
}

func keepsPromises(t *testing.T, costs bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	clock := newClock()
	rs := newClockedStore(t, clock.Now)
	periods := []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour}
	rates := []int{1, 2, 4, 5, 10, 100}
	for trial := range 200 {
		var limits []ratelimit.Limit
		minBurst := math.MaxInt
		for i := range 1 + rng.IntN(3) {
			l := ratelimit.Limit{
				Name: fmt.Sprintf("t%dc%vl%d", trial, costs, i), Rate: rates[rng.IntN(len(rates))],
				Period: periods[rng.IntN(len(periods))], Burst: rng.IntN(4),
			}
			if costs {
				l.Cost = itemsCost
			}
			limits = append(limits, l)
			minBurst = min(minBurst, cmp.Or(l.Burst, l.Rate))
		}
		o := ratelimit.Options{Limits: limits}
		m := mustNew(t, o)
		for i := range limits {
			ratelimit.SetClock(ratelimit.LimitStoreOf(m, i), clock.Now)
		}
		o.Store = rs
		hm, hr := m.Handler(okHandler), mustNew(t, o).Handler(okHandler)
		send := func(what string, items int) *httptest.ResponseRecorder {
			t.Helper()
			rm, rr := request("192.0.2.1:1234"), request("192.0.2.1:1234")
			if costs {
				rm.Header.Set("X-Items", strconv.Itoa(items))
				rr.Header.Set("X-Items", strconv.Itoa(items))
			}
			wm, wr := serve(hm, rm), serve(hr, rr)
			for _, k := range []string{"Retry-After", "RateLimit", "RateLimit-Policy"} {
				if wm.Code != wr.Code || wm.Header().Get(k) != wr.Header().Get(k) {
					t.Fatalf("%v, %s of cost %d: memory %d %s %q, redis %d %q", limits, what, items, wm.Code, k, wm.Header().Get(k), wr.Code, wr.Header().Get(k))
				}
			}
			return wm
		}
		for range 30 {
			clock.Advance((time.Duration(rng.Int64N(int64(limits[0].Period))) / time.Duration(1+rng.IntN(20))).Truncate(time.Microsecond))
			items := 1
			if costs {
				items = rng.IntN(minBurst + 2)
			}
			w := send("a request", items)
			if w.Code == http.StatusTooManyRequests {
				ra := w.Header().Get("Retry-After")
				if ra == "" {
					if items <= minBurst {
						t.Fatalf("%v: a request of cost %d refused without Retry-After", limits, items)
					}
					continue
				}
				n, err := strconv.Atoi(ra)
				if err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Duration(n) * time.Second)
				if w := send("the retry", items); w.Code != http.StatusOK {
					t.Fatalf("%v: a request of cost %d %ds later, as Retry-After said, got %d %q", limits, items, n, w.Code, w.Header().Get("RateLimit"))
				}
				continue
			}
			if items > minBurst {
				t.Fatalf("%v: a request of cost %d admitted", limits, items)
			}
			if len(limits) == 1 && rng.IntN(4) == 0 {
				rl := w.Header().Get("RateLimit")
				var r, s int
				if _, err := fmt.Sscanf(rl[strings.Index(rl, ";r="):], ";r=%d;t=%d", &r, &s); err != nil {
					t.Fatal(rl, err)
				}
				for i := range r {
					if w := send("within r=", 1); w.Code != http.StatusOK {
						t.Fatalf("%v: %q, and request %d of them refused", limits, rl, i+1)
					}
				}
			}
		}
	}
}

// TestPlansDecideAlikeOnRedis drives Middlewares of random limits, some
// with a plan and some keyed by account, with requests of random plans
// and accounts through MemoryStores and the Redis script on one clock:
// every status and field must be the same, plan changes on one key
// included.
func TestPlansDecideAlikeOnRedis(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	clock := newClock()
	rs := newClockedStore(t, clock.Now)
	periods := []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour}
	rates := []int{1, 2, 4, 5, 10, 100}
	for trial := range 150 {
		var limits []ratelimit.Limit
		for i := range 1 + rng.IntN(3) {
			l := ratelimit.Limit{
				Name: fmt.Sprintf("p%dl%d", trial, i), Rate: rates[rng.IntN(len(rates))],
				Period: periods[rng.IntN(len(periods))], Burst: rng.IntN(4),
			}
			if rng.IntN(3) == 0 {
				l.Key = byAccount
			}
			if rng.IntN(2) == 0 {
				l.Plans = map[string]ratelimit.Plan{"pro": {Rate: rates[rng.IntN(len(rates))], Period: periods[rng.IntN(len(periods))], Burst: rng.IntN(4)}}
				l.PlanOf = planHeader
			}
			limits = append(limits, l)
		}
		o := ratelimit.Options{Limits: limits}
		m := mustNew(t, o)
		for i := range limits {
			ratelimit.SetClock(ratelimit.LimitStoreOf(m, i), clock.Now)
		}
		o.Store = rs
		hm, hr := m.Handler(okHandler), mustNew(t, o).Handler(okHandler)
		for range 30 {
			clock.Advance((time.Duration(rng.Int64N(int64(limits[0].Period))) / time.Duration(1+rng.IntN(20))).Truncate(time.Microsecond))
			header := []string{"X-Plan", []string{"", "pro"}[rng.IntN(2)]}
			if rng.IntN(3) > 0 {
				header = append(header, "X-Account", "a")
			}
			wm, wr := serve(hm, request("192.0.2.1:1234", header...)), serve(hr, request("192.0.2.1:1234", header...))
			for _, k := range []string{"Retry-After", "RateLimit", "RateLimit-Policy"} {
				if wm.Code != wr.Code || wm.Header().Get(k) != wr.Header().Get(k) {
					t.Fatalf("%v, a request with %q: memory %d %s %q, redis %d %q", limits, header, wm.Code, k, wm.Header().Get(k), wr.Code, wr.Header().Get(k))
				}
			}
		}
	}
}

// TestAttemptAndKeyLimitersDecideAlike runs random attempts and keyed
// calls through limiters on a MemoryStore and on the Redis script, on one
// clock, and compares every answer.
func TestAttemptAndKeyLimitersDecideAlike(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	clock := newClock()
	rs := newClockedStore(t, clock.Now)
	ctx := context.Background()
	users := []string{"alice", "Alice ", "bob"}
	ips := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2:1"), netip.MustParseAddr("::ffff:192.0.2.1")}
	for trial := range 40 {
		ao := ratelimit.AttemptOptions{MaxFailures: 1 + rng.IntN(4), Lockout: time.Duration(1+rng.IntN(10)) * time.Minute,
			MaxUserFailures: 1 + rng.IntN(6), UserLockout: time.Duration(1+rng.IntN(60)) * time.Second,
			KnownNetworkTTL: time.Duration(1+rng.IntN(5)) * time.Hour, MaxKnownNetworks: 1 + rng.IntN(2)}
		mem := must(ratelimit.NewMemoryStore(ratelimit.MemoryOptions{}))
		ratelimit.SetClock(mem, clock.Now)
		ao.Store = mem
		am := must(ratelimit.NewAttemptLimiter(ao))
		ao.Store = rs
		ar := must(ratelimit.NewAttemptLimiter(ao))
		ko := ratelimit.KeyLimiterOptions{Name: fmt.Sprintf("k%d", trial), Rate: 1 + rng.IntN(5), Period: time.Duration(1+rng.IntN(3)) * time.Minute, Burst: rng.IntN(3)}
		ko.Store = mem
		km := must(ratelimit.NewKeyLimiter(ko))
		ko.Store = rs
		kr := must(ratelimit.NewKeyLimiter(ko))
		prefix := fmt.Sprintf("t%d", trial)
		for i := range 60 {
			clock.Advance(time.Duration(rng.Int64N(20e6)) * time.Microsecond) // Redis counts whole microseconds
			u, ip := prefix+users[rng.IntN(len(users))], ips[rng.IntN(len(ips))]
			op := rng.IntN(5)
			var dm, dr time.Duration
			var em, er error
			switch op {
			case 0:
				dm, em = am.Check(ctx, u, ip)
				dr, er = ar.Check(ctx, u, ip)
			case 1:
				dm, em = am.Reserve(ctx, u, ip)
				dr, er = ar.Reserve(ctx, u, ip)
			case 2:
				em, er = am.RecordFailure(ctx, u, ip), ar.RecordFailure(ctx, u, ip)
			case 3:
				em, er = am.RecordSuccess(ctx, u, ip), ar.RecordSuccess(ctx, u, ip)
			case 4:
				dm, em = km.Allow(ctx, u)
				dr, er = kr.Allow(ctx, u)
			}
			if dm != dr || fmt.Sprint(em) != fmt.Sprint(er) {
				t.Fatalf("trial %d (%+v), step %d: op %d for %q from %v: memory %v %v, redis %v %v", trial, ao, i, op, u, ip, dm, em, dr, er)
			}
		}
	}
}
