package rediscall

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRunReturnsTheCallsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		want := errors.New("boom")
		v, err := Run(t.Context(), time.Second, func(ctx context.Context) (int, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the call's context has no deadline")
			}
			time.Sleep(999 * time.Millisecond)
			return 7, want
		})
		if v != 7 || err != want {
			t.Fatalf("Run = %v, %v", v, err)
		}
	})
}

func TestRunStopsWaitingAtTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		start := time.Now()
		v, err := Run(t.Context(), 100*time.Millisecond, func(context.Context) (int, error) {
			<-release // a client that ignores its context
			return 7, nil
		})
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("Run returned after %v", d)
		}
		if v != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, %v", v, err)
		}
		close(release) // the call ends later; synctest checks it does
	})
}

func TestRunStopsWaitingWhenTheCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(10*time.Millisecond, cancel)
		start := time.Now()
		_, err := Run(ctx, time.Hour, func(context.Context) (int, error) {
			<-release
			return 7, nil
		})
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("Run returned after %v", d)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v", err)
		}
		close(release)
	})
}

func TestAppliesDeadlines(t *testing.T) {
	for _, tt := range []struct {
		name   string
		client any
		want   bool
	}{
		{"a Client with the default options", redis.NewClient(&redis.Options{}), false},
		{"a Client with ContextTimeoutEnabled", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true}), true},
		{"a ClusterClient with ContextTimeoutEnabled", redis.NewClusterClient(&redis.ClusterOptions{ContextTimeoutEnabled: true}), true},
		{"a Ring with ContextTimeoutEnabled", redis.NewRing(&redis.RingOptions{ContextTimeoutEnabled: true}), true},
		{"a Ring with the default options", redis.NewRing(&redis.RingOptions{}), false},
		// ReadTimeout or WriteTimeout -2 makes go-redis set no socket
		// deadline at all, the context's included; -1 only drops the
		// timeout of its own, and the context's deadline still applies.
		{"a Client with ContextTimeoutEnabled and ReadTimeout -2", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true, ReadTimeout: -2}), false},
		{"a Client with ContextTimeoutEnabled and WriteTimeout -2", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true, WriteTimeout: -2}), false},
		{"a Client with ContextTimeoutEnabled and ReadTimeout -1", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true, ReadTimeout: -1, WriteTimeout: -1}), true},
		{"a ClusterClient with ContextTimeoutEnabled and ReadTimeout -2", redis.NewClusterClient(&redis.ClusterOptions{ContextTimeoutEnabled: true, ReadTimeout: -2}), false},
		{"a ClusterClient with ContextTimeoutEnabled and WriteTimeout -2", redis.NewClusterClient(&redis.ClusterOptions{ContextTimeoutEnabled: true, WriteTimeout: -2}), false},
		{"a ClusterClient with ContextTimeoutEnabled and ReadTimeout -1", redis.NewClusterClient(&redis.ClusterOptions{ContextTimeoutEnabled: true, ReadTimeout: -1, WriteTimeout: -1}), true},
		{"a Ring with ContextTimeoutEnabled and ReadTimeout -2", redis.NewRing(&redis.RingOptions{ContextTimeoutEnabled: true, ReadTimeout: -2}), false},
		{"a Ring with ContextTimeoutEnabled and WriteTimeout -2", redis.NewRing(&redis.RingOptions{ContextTimeoutEnabled: true, WriteTimeout: -2}), false},
		{"a Ring with ContextTimeoutEnabled and ReadTimeout -1", redis.NewRing(&redis.RingOptions{ContextTimeoutEnabled: true, ReadTimeout: -1, WriteTimeout: -1}), true},
		{"anything else", struct{}{}, false},
		{"nil", nil, false},
	} {
		if got := AppliesDeadlines(tt.client); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if c, ok := tt.client.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
}

// goroutineID returns the "goroutine N" line of the running goroutine.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(string(buf), " [")
	return id
}

// With a client that applies deadlines, RunWith spares the goroutine and
// its hand-offs (found in review: they made each rate-limit check against
// a local Redis up to twice as slow on a busy two-core machine), bounds
// the call with the same deadline, and reports its end as Run does.
func TestRunWithDirect(t *testing.T) {
	caller := goroutineID()
	v, err := RunWith(t.Context(), time.Second, true, func(ctx context.Context) (int, error) {
		if id := goroutineID(); id != caller {
			t.Errorf("the call ran on %s, not on the caller's %s", id, caller)
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the call's context has no deadline")
		}
		return 7, nil
	})
	if v != 7 || err != nil {
		t.Fatalf("RunWith = %v, %v", v, err)
	}
	synctest.Test(t, func(t *testing.T) {
		netTimeout := errors.New("i/o timeout") // what go-redis returns at a socket deadline
		_, err := RunWith(t.Context(), 100*time.Millisecond, true, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, netTimeout
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("at the timeout: %v, want context.DeadlineExceeded", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = RunWith(ctx, time.Hour, true, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("with the caller gone: %v, want context.Canceled", err)
		}
		// An error of Redis's own is returned as it is.
		want := errors.New("NOSCRIPT")
		if _, err := RunWith(t.Context(), time.Hour, true, func(context.Context) (int, error) { return 0, want }); err != want {
			t.Errorf("a Redis error: %v", err)
		}
	})
}

// The error says what ended the wait: the timeout (a DeadlineExceeded
// that names it), or the caller's own context, whose error is returned as
// it is, a deadline of the caller's included, for Run and for RunWith on
// a client that applies deadlines.
func TestTheErrorNamesWhatEndedTheWait(t *testing.T) {
	for _, direct := range []bool{false, true} {
		for _, tt := range []struct {
			name    string
			timeout time.Duration
			caller  func(context.Context) (context.Context, context.CancelFunc)
			want    error  // nil: a DeadlineExceeded of the timeout
			wantMsg string // in the error's text
		}{
			{"the timeout", 100 * time.Millisecond, context.WithCancel, nil, "no reply within 100ms"},
			{"the caller's deadline", time.Hour, func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 100*time.Millisecond)
			}, context.DeadlineExceeded, ""},
			{"the caller's cancellation", time.Hour, func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			}, context.Canceled, ""},
		} {
			t.Run(fmt.Sprintf("direct=%v/%s", direct, tt.name), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ctx, cancel := tt.caller(t.Context())
					defer cancel()
					release := make(chan struct{})
					defer close(release)
					_, err := RunWith(ctx, tt.timeout, direct, func(ctx context.Context) (int, error) {
						if direct {
							<-ctx.Done() // go-redis at its deadline
							return 0, errors.New("i/o timeout")
						}
						<-release // a client that ignores its context
						return 7, nil
					})
					switch {
					case tt.want != nil && err != tt.want:
						t.Errorf("RunWith = %v; want the caller's %v as it is", err, tt.want)
					case tt.want == nil && (!errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tt.wantMsg)):
						t.Errorf("RunWith = %v; want a DeadlineExceeded saying %q", err, tt.wantMsg)
					}
				})
			})
		}
	}
}

// The package comment's figures: with the options redis.NewClient and
// redis.ParseURL give by default, a reply is waited for ReadTimeout, 5 s
// (the comment said 3 s), and a connection DialTimeout, 5 s.
func TestDefaultTimeouts(t *testing.T) {
	parsed, err := redis.ParseURL("redis://localhost:6379/0")
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]*redis.Options{"NewClient": {}, "ParseURL": parsed} {
		c := redis.NewClient(opts)
		o := c.Options()
		if o.ReadTimeout != 5*time.Second || o.DialTimeout != 5*time.Second || o.ContextTimeoutEnabled {
			t.Errorf("%s: ReadTimeout %v, DialTimeout %v, ContextTimeoutEnabled %v", name, o.ReadTimeout, o.DialTimeout, o.ContextTimeoutEnabled)
		}
		_ = c.Close()
	}
}
