package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

func TestStoresRefuseANegativeCost(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q := ratelimit.Quota{Interval: time.Second, Burst: 1}
	if _, err := s.Take(context.Background(), "k", q, -1); !errors.Is(err, ratelimit.ErrCost) {
		t.Errorf("Take(-1) = %v, want ErrCost", err)
	}
	if _, err := s.Peek(context.Background(), "k", q, -1); !errors.Is(err, ratelimit.ErrCost) {
		t.Errorf("Peek(-1) = %v, want ErrCost", err)
	}
	if s.Len() != 0 {
		t.Errorf("%d keys stored", s.Len())
	}
}

// itemsCost is a Limit.Cost reading the cost from X-Items: the way an API
// charges a batch by the size it declares.
func itemsCost(r *http.Request) int {
	n, err := strconv.Atoi(r.Header.Get("X-Items"))
	if err != nil {
		return 1
	}
	return n
}

// newCosted returns the handler of two limits charging X-Items, for
// TestAllocations: every request is admitted when burst is large, and
// the second of cost 3 refused when it is 3.
func newCosted(t testing.TB, burst int) http.Handler {
	period := time.Microsecond
	if burst == 3 {
		period = time.Hour
	}
	return mustNew(t, ratelimit.Options{Limits: []ratelimit.Limit{
		{Name: "ip", Rate: 1, Period: period, Burst: burst, Cost: itemsCost},
		{Name: "all", Rate: 1, Period: period, Burst: burst, Key: ratelimit.Global(), Cost: itemsCost},
	}}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

// costStores are the ways a Middleware reaches its stores: a MemoryStore
// of its own per limit (the allocation-free path), and storeKinds.
var costStores = append([]string{"own stores"}, storeKinds...)

// newCostMiddleware returns a Middleware of o's limits on a clock the
// test drives, its stores chosen by store (one of costStores).
func newCostMiddleware(t *testing.T, store string, o ratelimit.Options) (*ratelimit.Middleware, *fakeClock) {
	t.Helper()
	clock := newClock()
	if store != "own stores" {
		o.Store = plannedOptions(t, store, clock).Store
		return mustNew(t, o), clock
	}
	m := mustNew(t, o)
	for i := range o.Limits {
		ratelimit.SetClock(ratelimit.LimitStoreOf(m, i), clock.Now)
	}
	return m, clock
}

func TestLimitCost(t *testing.T) {
	type req struct {
		advance    time.Duration
		items      string // X-Items
		status     int
		ratelimit  string // the RateLimit field
		retryAfter string // "" when absent
	}
	tests := []struct {
		name string
		reqs []req
	}{
		{"requests are counted at their cost", []req{
			{items: "3", status: 200, ratelimit: `"items";r=2;t=36`},
			{items: "3", status: 429, ratelimit: `"items";r=0;t=36`, retryAfter: "12"},
			{items: "2", status: 200, ratelimit: `"items";r=0;t=60`},
			{advance: 36 * time.Second, items: "3", status: 200, ratelimit: `"items";r=0;t=60`},
		}},
		{"a request of no cost is admitted and counts nothing", []req{
			{items: "5", status: 200, ratelimit: `"items";r=0;t=60`},
			{items: "0", status: 200, ratelimit: `"items";r=0;t=60`},
			{items: "1", status: 429, ratelimit: `"items";r=0;t=60`, retryAfter: "12"},
		}},
		{"a cost above the burst is refused without a Retry-After", []req{
			{items: "6", status: 429, ratelimit: `"items";r=0;t=1`},
			{items: "100000000000", status: 429, ratelimit: `"items";r=0;t=1`},
			{items: "5", status: 200, ratelimit: `"items";r=0;t=60`},
		}},
	}
	for _, store := range costStores {
		for _, tt := range tests {
			t.Run(store+"/"+tt.name, func(t *testing.T) {
				m, clock := newCostMiddleware(t, store, ratelimit.Options{Limits: []ratelimit.Limit{
					{Name: "items", Rate: 5, Period: time.Minute, Cost: itemsCost},
				}})
				h := m.Handler(okHandler)
				for i, rq := range tt.reqs {
					clock.Advance(rq.advance)
					w := serve(h, request("192.0.2.1:1", "X-Items", rq.items))
					_, hasRetry := w.Header()["Retry-After"]
					if w.Code != rq.status || w.Header().Get("Ratelimit") != rq.ratelimit ||
						w.Header().Get("Retry-After") != rq.retryAfter || hasRetry != (rq.retryAfter != "") {
						t.Errorf("request %d (%s items): %d, RateLimit %q, Retry-After %q; want %d, %q, %q",
							i, rq.items, w.Code, w.Header().Get("Ratelimit"), w.Header().Get("Retry-After"),
							rq.status, rq.ratelimit, rq.retryAfter)
					}
					if w.Code == http.StatusTooManyRequests && w.Header().Get("Content-Type") != "application/problem+json" {
						t.Errorf("request %d: refusal of type %q", i, w.Header().Get("Content-Type"))
					}
				}
			})
		}
	}
}

// A limit before the refusing one counted the request at its cost: the
// retry, at the same cost, must find room there too. With the wait of one
// request of cost 1, Retry-After said 10 seconds, and the retry was
// refused by the first limit for 10 more.
func TestRetryAfterCoversTheCostCountedByEarlierLimits(t *testing.T) {
	for _, store := range costStores {
		for _, headers := range []ratelimit.HeaderMode{ratelimit.HeadersAlways, ratelimit.HeadersOff} {
			t.Run(store+"/headers="+strconv.Itoa(int(headers)), func(t *testing.T) {
				m, clock := newCostMiddleware(t, store, ratelimit.Options{Headers: headers, Limits: []ratelimit.Limit{
					{Name: "items", Rate: 4, Period: 40 * time.Second, Cost: itemsCost},
					{Name: "calls", Rate: 1, Period: time.Second},
				}})
				h := m.Handler(okHandler)
				if w := serve(h, request("192.0.2.1:1", "X-Items", "2")); w.Code != http.StatusOK {
					t.Fatalf("first request: %d", w.Code)
				}
				w := serve(h, request("192.0.2.1:1", "X-Items", "2"))
				if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "20" {
					t.Fatalf("second request: %d, Retry-After %q; want 429 and 20 (the items limit's wait for 2 items)", w.Code, w.Header().Get("Retry-After"))
				}
				clock.Advance(19 * time.Second)
				if w := serve(h, request("192.0.2.1:1", "X-Items", "2")); w.Code != http.StatusTooManyRequests {
					t.Fatalf("a second early: %d, want 429", w.Code)
				}
				clock.Advance(time.Second)
				if w := serve(h, request("192.0.2.1:1", "X-Items", "2")); w.Code != http.StatusOK {
					t.Fatalf("after Retry-After: %d, want 200", w.Code)
				}
			})
		}
	}
}

// A limit after the refusing one that could never admit the request at
// its cost leaves Retry-After out: no wait would help. The limits after
// the refusing one still count nothing.
func TestNoRetryAfterWhenALaterLimitNeverAdmits(t *testing.T) {
	for _, store := range costStores {
		t.Run(store, func(t *testing.T) {
			m, _ := newCostMiddleware(t, store, ratelimit.Options{Limits: []ratelimit.Limit{
				{Name: "calls", Rate: 1, Period: time.Second},
				{Name: "items", Rate: 5, Period: time.Minute, Cost: itemsCost},
			}})
			h := m.Handler(okHandler)
			if w := serve(h, request("192.0.2.1:1", "X-Items", "1")); w.Code != http.StatusOK {
				t.Fatalf("first request: %d", w.Code)
			}
			w := serve(h, request("192.0.2.1:1", "X-Items", "6"))
			if _, ok := w.Header()["Retry-After"]; w.Code != http.StatusTooManyRequests || ok {
				t.Fatalf("%d, Retry-After %q; want 429 without Retry-After", w.Code, w.Header().Get("Retry-After"))
			}
			if w.Header().Get("Ratelimit") != `"calls";r=0;t=1` {
				t.Errorf("RateLimit %q", w.Header().Get("Ratelimit"))
			}
			w = serve(h, request("192.0.2.1:1", "X-Items", "2"))
			if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
				t.Fatalf("at a cost the later limit admits: %d, Retry-After %q; want 429 and 1", w.Code, w.Header().Get("Retry-After"))
			}
		})
	}
}

// A Cost that returns a negative number is a bug of the application (a
// ContentLength of -1): the request is refused with 500, not admitted
// uncounted, and OnReject, which answers limits and store failures, is
// not called.
func TestANegativeCostIsAnInternalError(t *testing.T) {
	for _, store := range costStores {
		t.Run(store, func(t *testing.T) {
			called := false
			m, _ := newCostMiddleware(t, store, ratelimit.Options{
				Limits: []ratelimit.Limit{
					{Name: "bytes", Rate: 1 << 20, Period: time.Minute, Cost: func(r *http.Request) int { return int(r.ContentLength) }},
				},
				OnReject: func(w http.ResponseWriter, r *http.Request, err error) { called = true },
			})
			reached := false
			h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
			r := request("192.0.2.1:1")
			r.ContentLength = -1
			w := serve(h, r)
			if w.Code != http.StatusInternalServerError || reached || called {
				t.Fatalf("status %d, handler reached %v, OnReject called %v; want 500, neither", w.Code, reached, called)
			}
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 500 || strings.Contains(w.Body.String(), "cost") {
				t.Errorf("body %q: want a generic problem", w.Body.String())
			}
			if err := m.Check(r); !errors.Is(err, ratelimit.ErrCost) || !strings.Contains(err.Error(), `"bytes"`) {
				t.Errorf("Check() = %v, want ErrCost naming the limit", err)
			}
		})
	}
}

func TestKeyLimiterAllowN(t *testing.T) {
	ms, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	ratelimit.SetClock(ms, clock.Now)
	k, err := ratelimit.NewKeyLimiter(ratelimit.KeyLimiterOptions{Name: "mail", Rate: 10, Period: time.Minute, Store: ms})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		n     int
		retry time.Duration
		err   error
	}{
		{n: 8},
		{n: 3, retry: 6 * time.Second, err: ratelimit.ErrLimited},
		{n: 0},
		{n: 2},
		{n: 11, retry: -1, err: ratelimit.ErrLimited},
		{n: -1, err: ratelimit.ErrCost},
		{n: 1, retry: 6 * time.Second, err: ratelimit.ErrLimited},
	}
	for i, st := range steps {
		retry, err := k.AllowN(ctx, "alice", st.n)
		if retry != st.retry || !errors.Is(err, st.err) || (err == nil) != (st.err == nil) {
			t.Errorf("step %d: AllowN(%d) = %v, %v; want %v, %v", i, st.n, retry, err, st.retry, st.err)
		}
	}
	if retry, err := k.AllowN(ctx, "bob", 10); retry != 0 || err != nil {
		t.Errorf("another key: %v, %v", retry, err)
	}
	var zero ratelimit.KeyLimiter
	if _, err := zero.AllowN(ctx, "alice", 1); !errors.Is(err, ratelimit.ErrNotConfigured) {
		t.Errorf("zero KeyLimiter: %v", err)
	}
}

// A negative cost at a later limit is the same bug of the application:
// the request is answered 500 before any limit counts it, so that the
// client's budget under the limits before it is not spent on responses
// it can do nothing about, and a limit before it that refuses does not
// send the client a Retry-After after which it is answered 500.
func TestANegativeCostCountsNothing(t *testing.T) {
	bytes := func(r *http.Request) int { return int(r.ContentLength) }
	for _, store := range costStores {
		t.Run(store, func(t *testing.T) {
			m, _ := newCostMiddleware(t, store, ratelimit.Options{Limits: []ratelimit.Limit{
				{Name: "calls", Rate: 1, Period: time.Hour},
				{Name: "bytes", Rate: 1 << 20, Period: time.Minute, Cost: bytes},
			}})
			h := m.Handler(okHandler)
			r := request("192.0.2.1:1")
			r.ContentLength = -1
			if w := serve(h, r); w.Code != http.StatusInternalServerError {
				t.Fatalf("unknown length: %d, want 500", w.Code)
			}
			if err := m.Check(r); !errors.Is(err, ratelimit.ErrCost) {
				t.Fatalf("Check() = %v, want ErrCost", err)
			}
			r = request("192.0.2.1:1")
			r.ContentLength = 10
			if w := serve(h, r); w.Code != http.StatusOK {
				t.Fatalf("a request of known length after the 500s: %d %q, want 200 (the 500s counted under \"calls\")", w.Code, w.Header().Get("Ratelimit"))
			}
			r = request("192.0.2.1:1")
			r.ContentLength = -1
			if w := serve(h, r); w.Code != http.StatusInternalServerError {
				t.Fatalf("unknown length when \"calls\" refuses: %d, Retry-After %q; want 500", w.Code, w.Header().Get("Retry-After"))
			}
		})
	}
}

// A limit before the refusing one whose key does not apply to the request
// has counted nothing, whatever the request's cost there: it adds no wait.
func TestRetryAfterIgnoresAnEarlierLimitThatDoesNotApply(t *testing.T) {
	for _, store := range costStores {
		t.Run(store, func(t *testing.T) {
			m, _ := newCostMiddleware(t, store, ratelimit.Options{Limits: []ratelimit.Limit{
				{Name: "admins", Rate: 1, Period: time.Hour, Cost: itemsCost,
					Key: ratelimit.ByFunc(func(*http.Request) (string, bool) { return "", false })},
				{Name: "calls", Rate: 10, Period: 10 * time.Second},
			}})
			h := m.Handler(okHandler)
			for range 10 {
				serve(h, request("192.0.2.1:1", "X-Items", "5"))
			}
			w := serve(h, request("192.0.2.1:1", "X-Items", "5"))
			if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
				t.Fatalf("%d, Retry-After %q; want 429 and 1", w.Code, w.Header().Get("Retry-After"))
			}
		})
	}
}
