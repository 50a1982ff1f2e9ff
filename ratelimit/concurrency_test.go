package ratelimit_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/ratelimit"
)

func TestConcurrencyLimiterShedsLoad(t *testing.T) {
	c, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 2, RetryAfter: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { serve(h, request("192.0.2.1:1")) })
	}
	<-started
	<-started
	if c.InFlight() != 2 {
		t.Fatalf("in flight %d", c.InFlight())
	}
	// A third request let through would wait in the handler for good:
	// wait for its answer a while, so that the test fails instead of
	// hanging until go test's timeout.
	third := make(chan *httptest.ResponseRecorder, 1)
	go func() { third <- serve(h, request("192.0.2.1:1")) }()
	var w *httptest.ResponseRecorder
	select {
	case w = <-third:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("a third request was let through with MaxInFlight 2")
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("third request: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	close(release)
	wg.Wait()
	if c.InFlight() != 0 {
		t.Fatalf("slots not released: %d", c.InFlight())
	}
}

func TestConcurrencyLimiterReleasesOnPanic(t *testing.T) {
	c, _ := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 1})
	h := c.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() { recover() }()
		serve(h, request("192.0.2.1:1"))
	}()
	if c.InFlight() != 0 {
		t.Fatal("a panicking handler kept its slot")
	}
}

func TestConcurrencyLimiterOptions(t *testing.T) {
	if _, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{}); !errors.Is(err, ratelimit.ErrOption) {
		t.Errorf("zero MaxInFlight: %v", err)
	}
	if _, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 1, RetryAfter: -1}); !errors.Is(err, ratelimit.ErrOption) {
		t.Errorf("negative RetryAfter: %v", err)
	}
	for name, c := range map[string]*ratelimit.ConcurrencyLimiter{"zero": {}, "nil": nil} {
		if w := serve(c.Handler(okHandler), request("192.0.2.1:1")); w.Code != 500 {
			t.Errorf("%s ConcurrencyLimiter: %d", name, w.Code)
		}
		if n := c.InFlight(); n != 0 {
			t.Errorf("%s ConcurrencyLimiter InFlight: %d", name, n)
		}
	}
}

func TestConcurrencyLimiterUnderRace(t *testing.T) {
	c, _ := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 3})
	var mu sync.Mutex
	cur, peak := 0, 0
	h := c.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
	}))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				serve(h, request("192.0.2.1:1"))
			}
		})
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("peak %d in flight, bound 3", peak)
	}
}

// ConcurrencyOptions: RetryAfter defaults to one second, and OnReject is
// called with ErrOverloaded once Retry-After is set.
func TestConcurrencyLimiterDefaultRetryAfterAndOnReject(t *testing.T) {
	for _, custom := range []bool{false, true} {
		t.Run(fmt.Sprintf("OnReject set %v", custom), func(t *testing.T) {
			o := ratelimit.ConcurrencyOptions{MaxInFlight: 1}
			var seen error
			if custom {
				o.OnReject = func(w http.ResponseWriter, r *http.Request, err error) {
					seen = err
					if got := w.Header().Get("Retry-After"); got != "1" {
						t.Errorf("Retry-After %q when OnReject is called, want 1", got)
					}
					w.WriteHeader(http.StatusTeapot)
				}
			}
			c, err := ratelimit.NewConcurrencyLimiter(o)
			if err != nil {
				t.Fatal(err)
			}
			release, started := make(chan struct{}), make(chan struct{})
			h := c.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				close(started)
				<-release
			}))
			done := make(chan struct{})
			go func() { serve(h, request("192.0.2.1:1")); close(done) }()
			<-started
			w := serve(h, request("192.0.2.1:1"))
			close(release)
			<-done
			want := http.StatusServiceUnavailable
			if custom {
				want = http.StatusTeapot
				if !errors.Is(seen, ratelimit.ErrOverloaded) {
					t.Errorf("OnReject got %v, want ErrOverloaded", seen)
				}
			}
			if w.Code != want || w.Header().Get("Retry-After") != "1" {
				t.Errorf("refusal: %d, Retry-After %q; want %d, 1", w.Code, w.Header().Get("Retry-After"), want)
			}
		})
	}
}

// ErrOverloaded carries the mark Unavailable() bool that errorsafe (which
// this package does not import) answers with 503: returned from an
// errorsafe.HandlerFunc or an OnReject through WriteError, it was a 500
// (found in review).
func TestErrOverloadedIsMarkedUnavailable(t *testing.T) {
	var u interface{ Unavailable() bool }
	if !errors.As(fmt.Errorf("shed: %w", ratelimit.ErrOverloaded), &u) || !u.Unavailable() {
		t.Error("ErrOverloaded does not report Unavailable")
	}
}
