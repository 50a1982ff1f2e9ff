package testenv

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// HangClients are the go-redis client settings every Redis store's hang
// test runs with: the default options; ContextTimeoutEnabled, with which
// a store leaves the deadline to the client; and ContextTimeoutEnabled
// with a ReadTimeout of -2, with which go-redis sets no read deadline,
// the context's neither (found in review: a store left the bound to such
// a client, and every call waited as long as Redis hung).
var HangClients = []struct {
	Name                  string
	ContextTimeoutEnabled bool
	ReadTimeout           time.Duration
}{
	{"default options", false, 0},
	{"ContextTimeoutEnabled", true, 0},
	{"ContextTimeoutEnabled and ReadTimeout -2", true, -2},
}

// HeapAfterGC returns the bytes of live heap after two collections, for
// tests that bound what a structure keeps alive.
func HeapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// SilentServer listens on a free loopback port, accepts connections, reads
// what they send and never answers: a Redis that hangs (paused with
// SIGSTOP, busy in DEBUG SLEEP or a slow script, or behind a network that
// drops packets) rather than refusing connections. It returns the address
// and a function that closes the listener and every connection, which
// ends any call still waiting for a reply; it is also called when the test
// ends, and may be called more than once.
func SilentServer(t testing.TB) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			})
		}
	})
	stop = sync.OnceFunc(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// Goroutines returns a function that fails t unless the number of
// goroutines falls back to at most what it is now, allowing up to 10
// seconds for goroutines that are ending to end. Call it before starting
// the work, and the function it returns after stopping it; a test that
// uses it must not run in parallel with others.
func Goroutines(t testing.TB) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("%d goroutines, %d before:\n%s", n, before, buf)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// HangBound is how long a call to a Redis that does not answer
// (SilentServer) may take in a test of a store whose Timeout is tens of
// milliseconds: far above that Timeout, to absorb a loaded machine, and
// far below go-redis's default DialTimeout (5 s, its handshake with a
// server that never answers) and ReadTimeout (5 s).
const HangBound = 2 * time.Second

// StoreCall is one named call of a store under test.
type StoreCall struct {
	Name string
	Call func(context.Context) error
}

// CheckCallsEnd runs each call against a store whose Redis does not
// answer (SilentServer) and whose Timeout is short, twice: without a
// deadline of the caller's, it must fail within HangBound with an error
// wrapping context.DeadlineExceeded, the store's Timeout; with a caller
// that leaves after 20 ms, it must fail within HangBound too.
func CheckCallsEnd(t *testing.T, calls []StoreCall) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.Name, func(t *testing.T) {
			start := time.Now()
			err := c.Call(context.Background())
			if d := time.Since(start); d > HangBound {
				t.Fatalf("took %v, beyond the store's Timeout", d)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want one wrapping context.DeadlineExceeded", err)
			}
		})
		t.Run(c.Name+"/the caller leaves", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(20*time.Millisecond, cancel)
			start := time.Now()
			err := c.Call(ctx)
			if d := time.Since(start); d > HangBound {
				t.Fatalf("took %v after the caller left", d)
			}
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}
