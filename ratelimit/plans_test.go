package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

// planHeader reads the plan of a test request from X-Plan. An application
// derives the plan from what it knows of the client, never from what the
// request says; the tests' requests are trusted.
func planHeader(r *http.Request) string { return r.Header.Get("X-Plan") }

// byAccount keys requests by X-Account; requests without one are not
// counted.
var byAccount = ratelimit.ByFunc(func(r *http.Request) (string, bool) {
	a := r.Header.Get("X-Account")
	return a, a != ""
})

// plans returns n valid plans.
func plans(n int) map[string]ratelimit.Plan {
	p := make(map[string]ratelimit.Plan, n)
	for i := range n {
		p[fmt.Sprintf("p%d", i)] = ratelimit.Plan{Rate: i + 2, Period: time.Second}
	}
	return p
}

// newPlanned returns a handler with a per-address limit that has a plan,
// "pro", and a global limit, with bursts of burst: admitted every time with
// a large one, refused after the first request with 1.
func newPlanned(t testing.TB, burst int) http.Handler {
	period := time.Microsecond
	if burst == 1 {
		period = time.Hour
	}
	return mustNew(t, ratelimit.Options{Limits: []ratelimit.Limit{
		{Name: "ip", Rate: 1, Period: period, Burst: burst, Plans: map[string]ratelimit.Plan{"pro": {Rate: 2, Period: 2 * period, Burst: burst}}, PlanOf: planHeader},
		{Name: "all", Rate: 1, Period: period, Burst: burst, Key: ratelimit.Global()},
	}}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

// storeKinds are the two paths of a Middleware: MemoryStores it reads
// directly, and a Store it calls through the interface.
var storeKinds = []string{"MemoryStore", "another Store"}

// plannedOptions returns o with a MemoryStore on clock, given as itself or
// behind the Store interface, by kind.
func plannedOptions(t *testing.T, kind string, clock *fakeClock, limits ...ratelimit.Limit) ratelimit.Options {
	t.Helper()
	ms, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ratelimit.SetClock(ms, clock.Now)
	o := ratelimit.Options{Limits: limits, Store: ms}
	if kind == "another Store" {
		o.Store = struct{ ratelimit.Store }{ms}
	}
	return o
}

// Each request gets the quota of its plan: its burst, its rate (in
// Retry-After and the RateLimit field), and its RateLimit-Policy item
// under the limit's name. A name that is not a plan, in another case too,
// gets the limit's own quota.
func TestPlansGiveEachRequestItsPlansQuota(t *testing.T) {
	api := ratelimit.Limit{
		Name: "api", Rate: 2, Period: time.Minute, Key: byAccount,
		Plans: map[string]ratelimit.Plan{
			"pro":  {Rate: 5, Period: time.Minute},
			"team": {Rate: 60, Period: time.Hour, Burst: 10},
		},
		PlanOf: planHeader,
	}
	tests := []struct {
		plan      string
		admitted  int
		policy    string
		firstLeft string // the RateLimit field of the first response
		retry     string
	}{
		{"", 2, `"api";q=2;w=60`, `"api";r=1;t=30`, "30"},
		{"pro", 5, `"api";q=5;w=60`, `"api";r=4;t=12`, "12"},
		{"team", 10, `"api";q=10;w=600`, `"api";r=9;t=60`, "60"},
		{"gold", 2, `"api";q=2;w=60`, `"api";r=1;t=30`, "30"},
		{"PRO", 2, `"api";q=2;w=60`, `"api";r=1;t=30`, "30"},
	}
	for _, kind := range storeKinds {
		for _, tt := range tests {
			t.Run(kind+"/plan="+tt.plan, func(t *testing.T) {
				h := mustNew(t, plannedOptions(t, kind, newClock(), api)).Handler(okHandler)
				var first, refused http.Header
				n := 0
				for range tt.admitted + 1 {
					w := serve(h, request("192.0.2.1:1", "X-Account", "acct", "X-Plan", tt.plan))
					if first == nil {
						first = w.Header()
					}
					if w.Code != http.StatusOK {
						refused = w.Header()
						if w.Code != http.StatusTooManyRequests {
							t.Fatalf("status %d, want 429", w.Code)
						}
						break
					}
					n++
				}
				if n != tt.admitted || refused == nil {
					t.Fatalf("%d admitted before a refusal (refused: %t), want %d", n, refused != nil, tt.admitted)
				}
				if got := first.Get("Ratelimit-Policy"); got != tt.policy {
					t.Errorf("RateLimit-Policy %q, want %q", got, tt.policy)
				}
				if got := first.Get("Ratelimit"); got != tt.firstLeft {
					t.Errorf("first RateLimit %q, want %q", got, tt.firstLeft)
				}
				if got := refused.Get("Ratelimit-Policy"); got != tt.policy {
					t.Errorf("RateLimit-Policy of the refusal %q, want %q", got, tt.policy)
				}
				if got := refused.Get("Retry-After"); got != tt.retry {
					t.Errorf("Retry-After %q, want %q", got, tt.retry)
				}
			})
		}
	}
}

// A key keeps what it owes when its plan changes: an account that spent
// its two requests a minute is refused for the 12 seconds the pro plan
// needs to earn one back after an upgrade, and one that spent the pro
// plan's five waits the 30 seconds of the limit's own quota after a
// downgrade. Up to the new plan's burst: one that spent the team plan's
// ten, ten minutes' worth, owes the own quota's two after a downgrade,
// and waits its 30 seconds, not ten minutes.
func TestAPlanChangeKeepsTheDebt(t *testing.T) {
	api := ratelimit.Limit{
		Name: "api", Rate: 2, Period: time.Minute, Key: byAccount,
		Plans: map[string]ratelimit.Plan{
			"pro":  {Rate: 5, Period: time.Minute},
			"team": {Rate: 60, Period: time.Hour, Burst: 10},
		},
		PlanOf: planHeader,
	}
	for _, kind := range storeKinds {
		for _, tt := range []struct {
			name        string
			before      string
			spent       int
			after       string
			wait        time.Duration
			wantRetryAt string
		}{
			{"upgrade", "", 2, "pro", 12 * time.Second, "12"},
			{"downgrade", "pro", 5, "", 30 * time.Second, "30"},
			{"downgrade to a shorter window", "team", 10, "", 30 * time.Second, "30"},
		} {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				clock := newClock()
				h := mustNew(t, plannedOptions(t, kind, clock, api)).Handler(okHandler)
				call := func(plan string) *http.Response {
					return serve(h, request("192.0.2.1:1", "X-Account", "acct", "X-Plan", plan)).Result()
				}
				for i := range tt.spent {
					if res := call(tt.before); res.StatusCode != http.StatusOK {
						t.Fatalf("request %d under %q: %d", i+1, tt.before, res.StatusCode)
					}
				}
				res := call(tt.after)
				if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != tt.wantRetryAt {
					t.Fatalf("after the change: %d, Retry-After %q; want 429, %s", res.StatusCode, res.Header.Get("Retry-After"), tt.wantRetryAt)
				}
				clock.Advance(tt.wait - time.Second)
				if res := call(tt.after); res.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("a second early: %d, want 429", res.StatusCode)
				}
				clock.Advance(time.Second)
				if res := call(tt.after); res.StatusCode != http.StatusOK {
					t.Fatalf("after Retry-After: %d, want 200", res.StatusCode)
				}
			})
		}
	}
}

// Every limit's plan shows in RateLimit-Policy and counts in
// Retry-After, that of a limit after the refusing one too, which the
// refusal only reads: here its plan makes the client wait 10 seconds,
// where its own quota (2 an hour, a burst worth an hour) would not make
// it wait at all.
func TestPlansOfSeveralLimits(t *testing.T) {
	limits := []ratelimit.Limit{
		{Name: "acct", Rate: 1, Period: time.Minute, Key: byAccount,
			Plans: map[string]ratelimit.Plan{"pro": {Rate: 1, Period: time.Second}}, PlanOf: planHeader},
		{Name: "all", Rate: 2, Period: time.Hour, Key: ratelimit.Global(),
			Plans: map[string]ratelimit.Plan{"pro": {Rate: 2, Period: 20 * time.Second}}, PlanOf: planHeader},
	}
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			h := mustNew(t, plannedOptions(t, kind, newClock(), limits...)).Handler(okHandler)
			for _, acct := range []string{"b", "a"} {
				if w := serve(h, request("192.0.2.1:1", "X-Account", acct, "X-Plan", "pro")); w.Code != http.StatusOK {
					t.Fatalf("first request of %s: %d", acct, w.Code)
				}
			}
			w := serve(h, request("192.0.2.1:1", "X-Account", "a", "X-Plan", "pro"))
			if w.Code != http.StatusTooManyRequests {
				t.Fatalf("second request of a: %d, want 429", w.Code)
			}
			if got, want := w.Header().Get("Ratelimit-Policy"), `"acct";q=1;w=1, "all";q=2;w=20`; got != want {
				t.Errorf("RateLimit-Policy %q, want %q", got, want)
			}
			if got := w.Header().Get("Retry-After"); got != "10" {
				t.Errorf("Retry-After %q, want 10, the global limit's wait under its plan", got)
			}
			// Without a plan, the limits' own quotas are listed.
			w = serve(h, request("192.0.2.1:1", "X-Account", "c"))
			if got, want := w.Header().Get("Ratelimit-Policy"), `"acct";q=1;w=60, "all";q=2;w=3600`; got != want {
				t.Errorf("RateLimit-Policy without a plan %q, want %q", got, want)
			}
		})
	}
}

// PlanOf is called once for each request a limit checks, and not for a
// request its key does not apply to.
func TestPlanOfIsCalledOncePerRequestTheLimitChecks(t *testing.T) {
	calls := 0
	o := ratelimit.Options{Limits: []ratelimit.Limit{
		{Name: "acct", Rate: 1, Period: time.Hour, Key: byAccount,
			Plans: map[string]ratelimit.Plan{"pro": {Rate: 2, Period: time.Hour}},
			PlanOf: func(r *http.Request) string {
				calls++
				return planHeader(r)
			}},
	}}
	h := mustNew(t, o).Handler(okHandler)
	for i, tt := range []struct {
		account string
		code    int
		calls   int
	}{
		{"", http.StatusOK, 0},
		{"a", http.StatusOK, 1},
		{"a", http.StatusTooManyRequests, 1},
		{"", http.StatusOK, 0},
	} {
		calls = 0
		r := request("192.0.2.1:1")
		if tt.account != "" {
			r.Header.Set("X-Account", tt.account)
		}
		if w := serve(h, r); w.Code != tt.code || calls != tt.calls {
			t.Errorf("request %d: status %d and %d calls of PlanOf, want %d and %d", i+1, w.Code, calls, tt.code, tt.calls)
		}
	}
}

// The RateLimit-Policy value a plan gives one response is not another's:
// it is built in that response's own bytes.
func TestPlanPolicyValuesBelongToOneResponse(t *testing.T) {
	h := newPlanned(t, 1<<20)
	pro := serve(h, request("192.0.2.1:1", "X-Plan", "pro")).Header()
	want := pro.Get("Ratelimit-Policy")
	for i := range 100 {
		plan := []string{"", "pro"}[i%2]
		serve(h, request("192.0.2."+strconv.Itoa(i%200+2)+":1", "X-Plan", plan))
	}
	if got := pro.Get("Ratelimit-Policy"); got != want {
		t.Errorf("the first response's RateLimit-Policy changed from %q to %q", want, got)
	}
}

// A limit before the refusing one that used its last request under its
// plan makes the client wait for it too: here 10 seconds, where its own
// quota (a burst of two) would have left a request.
func TestRetryAfterCoversAPlanThatCountedTheRefusal(t *testing.T) {
	limits := []ratelimit.Limit{
		{Name: "ip", Rate: 2, Period: time.Minute,
			Plans: map[string]ratelimit.Plan{"pro": {Rate: 1, Period: 10 * time.Second}}, PlanOf: planHeader},
		{Name: "all", Rate: 1, Period: time.Second, Key: ratelimit.Global()},
	}
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			h := mustNew(t, plannedOptions(t, kind, newClock(), limits...)).Handler(okHandler)
			if w := serve(h, request("192.0.2.1:1", "X-Plan", "pro")); w.Code != http.StatusOK {
				t.Fatalf("first client: %d", w.Code)
			}
			w := serve(h, request("192.0.2.2:1", "X-Plan", "pro"))
			if w.Code != http.StatusTooManyRequests {
				t.Fatalf("second client: %d, want 429 from the global limit", w.Code)
			}
			if got := w.Header().Get("Retry-After"); got != "10" {
				t.Errorf("Retry-After %q, want 10, the per-address limit's wait under its plan", got)
			}
		})
	}
}

// A limit after the refusing one reads a key that moved to a plan of a
// shorter window: it owes that plan's full burst at most, and Retry-After
// says so. The retry at Retry-After must then be admitted by that limit
// too. Found in review: the read cut the debt without storing the cut, as
// a refused Take does, and the retry's Take cut it again from its own
// time, refusing the client once more for an interval.
func TestARetryAfterAPlanChangeIsAdmitted(t *testing.T) {
	limits := []ratelimit.Limit{
		{Name: "ip", Rate: 1, Period: 10 * time.Second},
		{Name: "acct", Rate: 3, Period: time.Second, Key: byAccount,
			Plans: map[string]ratelimit.Plan{"daily": {Rate: 3, Period: 24 * time.Hour}}, PlanOf: planHeader},
	}
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			clock := newClock()
			h := mustNew(t, plannedOptions(t, kind, clock, limits...)).Handler(okHandler)
			call := func(plan string) *httptest.ResponseRecorder {
				return serve(h, request("192.0.2.1:1", "X-Account", "acct", "X-Plan", plan))
			}
			if w := call("daily"); w.Code != http.StatusOK {
				t.Fatalf("under the daily plan: %d", w.Code)
			}
			// Moved to the account's own quota, of a one-second window,
			// while the address limit refuses for 10 seconds.
			w := call("")
			if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "10" {
				t.Fatalf("after the change: %d, Retry-After %q; want 429, 10", w.Code, w.Header().Get("Retry-After"))
			}
			clock.Advance(10 * time.Second)
			if w := call(""); w.Code != http.StatusOK {
				t.Fatalf("at Retry-After: %d, RateLimit %q; want 200", w.Code, w.Header().Get("Ratelimit"))
			}
		})
	}
}
