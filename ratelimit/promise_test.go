package ratelimit_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

// TestRetryAfterIsKeptAcrossStorePaths drives Middlewares of random
// limits (keys that apply or not, plans, costs of their own per limit,
// header modes) through every way a Middleware reaches its stores: its
// own MemoryStores, one shared MemoryStore, that store behind the Store
// interface and the Redis script, all on one clock. Every path must answer
// alike, and a retry of the same request (same plan, same costs) at the
// time Retry-After names must be admitted.
func TestRetryAfterIsKeptAcrossStorePaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	clock := newClock()
	rs := newClockedStore(t, clock.Now)
	periods := []time.Duration{time.Second, 10 * time.Second, time.Minute, time.Hour, 24 * time.Hour}
	rates := []int{1, 2, 4, 5, 10}
	keys := []ratelimit.Key{ratelimit.ByIP(), byAccount, ratelimit.Global(),
		ratelimit.ByFunc(func(*http.Request) (string, bool) { return "", false })}
	for trial := range 200 {
		var limits []ratelimit.Limit
		for i := range 1 + rng.IntN(4) {
			l := ratelimit.Limit{
				Name: fmt.Sprintf("rp%dl%d", trial, i), Rate: rates[rng.IntN(len(rates))],
				Period: periods[rng.IntN(len(periods))], Burst: rng.IntN(4),
				Key: keys[rng.IntN(len(keys))],
			}
			if rng.IntN(2) == 0 {
				l.Plans = map[string]ratelimit.Plan{"pro": {Rate: rates[rng.IntN(len(rates))], Period: periods[rng.IntN(len(periods))], Burst: rng.IntN(4)}}
				l.PlanOf = planHeader
			}
			switch rng.IntN(3) {
			case 1:
				l.Cost = itemsCost
			case 2:
				h := "X-Cost-" + strconv.Itoa(i)
				l.Cost = func(r *http.Request) int {
					n, err := strconv.Atoi(r.Header.Get(h))
					if err != nil {
						return 1
					}
					return n
				}
			}
			limits = append(limits, l)
		}
		mode := ratelimit.HeaderMode(rng.IntN(3))
		var hs []http.Handler
		var names []string
		add := func(name string, o ratelimit.Options) *ratelimit.Middleware {
			o.Limits, o.Headers = limits, mode
			m := mustNew(t, o)
			hs, names = append(hs, m.Handler(okHandler)), append(names, name)
			return m
		}
		own := add("own stores", ratelimit.Options{})
		for i := range limits {
			ratelimit.SetClock(ratelimit.LimitStoreOf(own, i), clock.Now)
		}
		add("a shared MemoryStore", plannedOptions(t, "MemoryStore", clock))
		add("another Store", plannedOptions(t, "another Store", clock))
		add("redis", ratelimit.Options{Store: rs})

		type want struct {
			code             int
			retry, rl, polic string
		}
		send := func(what string, header []string) want {
			t.Helper()
			var first want
			for k, h := range hs {
				w := serve(h, request("192.0.2.1:1234", header...))
				got := want{w.Code, w.Header().Get("Retry-After"), w.Header().Get("RateLimit"), w.Header().Get("RateLimit-Policy")}
				if k == 0 {
					first = got
				} else if got != first {
					t.Fatalf("trial %d %v (headers %d), %s %q: %s %+v, %s %+v", trial, limits, mode, what, header, names[0], first, names[k], got)
				}
			}
			return first
		}
		for range 30 {
			clock.Advance((time.Duration(rng.Int64N(int64(limits[0].Period))) / time.Duration(1+rng.IntN(20))).Truncate(time.Microsecond))
			header := []string{"X-Plan", []string{"", "pro"}[rng.IntN(2)]}
			if rng.IntN(3) > 0 {
				header = append(header, "X-Account", "a")
			}
			if rng.IntN(2) == 0 {
				header = append(header, "X-Items", strconv.Itoa(rng.IntN(5)))
			}
			for i := range limits {
				if rng.IntN(3) == 0 {
					header = append(header, "X-Cost-"+strconv.Itoa(i), strconv.Itoa(rng.IntN(5)))
				}
			}
			w := send("a request", header)
			if w.code != http.StatusTooManyRequests || w.retry == "" {
				continue
			}
			n, err := strconv.Atoi(w.retry)
			if err != nil {
				t.Fatal(err)
			}
			if rng.IntN(2) == 0 {
				// A second earlier, some limit still refuses: Retry-After
				// asks for no more than the wait, rounded up.
				clock.Advance(time.Duration(n-1) * time.Second)
				if w := send("the early retry", header); w.code != http.StatusTooManyRequests {
					t.Fatalf("trial %d %v (headers %d): a request with %q %ds later, before Retry-After %d, got %d %q", trial, limits, mode, header, n-1, n, w.code, w.rl)
				}
				continue
			}
			clock.Advance(time.Duration(n) * time.Second)
			if w := send("the retry", header); w.code != http.StatusOK {
				t.Fatalf("trial %d %v (headers %d): a request with %q %ds later, as Retry-After said, got %d %q", trial, limits, mode, header, n, w.code, w.rl)
			}
		}
	}
}
