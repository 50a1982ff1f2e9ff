// Package rediscall bounds the wait for a reply from Redis, whatever the
// client's options.
//
// go-redis applies a context's deadline to a call only when the client is
// configured with ContextTimeoutEnabled, and, with it or without, does not
// see a cancellation while it waits for a reply: the socket's deadline is
// what ends the wait. With the options redis.NewClient and redis.ParseURL
// give by default, a Redis that hangs (paused, busy in a slow script, on
// the other side of a network that drops packets) holds each call for the
// client's ReadTimeout (5 s), or its DialTimeout (5 s) on a new
// connection, however soon the caller wanted an answer and whether or not
// the caller is still there.
package rediscall

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

type result[T any] struct {
	v   T
	err error
}

// Run calls call with a context that ends when ctx does or timeout after
// Run was called, and returns what call returns, or, as soon as that
// context ends, an error wrapping its error (context.Canceled from ctx, or
// context.DeadlineExceeded) without waiting for call any longer.
//
// A call given up on goes on in its goroutine until the client's own
// timeouts end it, holding one of the client's connections until then:
// their number is bounded by the client's pool. Calls waiting for a
// connection of the pool end with the context. Whether a command given up
// on reached Redis is unknown, as it is after any timeout.
func Run[T any](ctx context.Context, timeout time.Duration, call func(context.Context) (T, error)) (T, error) {
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan result[T], 1)
	go func() {
		v, err := call(callCtx)
		done <- result[T]{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-callCtx.Done():
		select {
		case r := <-done: // answered just in time
			return r.v, r.err
		default:
		}
		var zero T
		return zero, ended(ctx, timeout)
	}
}

// ended is the error of a call whose context ended: ctx's own error when
// the caller's context ended it, else the timeout's.
func ended(ctx context.Context, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("redis: no reply within %v: %w", timeout, context.DeadlineExceeded)
}

// AppliesDeadlines reports whether client is a go-redis *Client,
// *ClusterClient or *Ring configured with ContextTimeoutEnabled and with
// socket deadlines (ReadTimeout and WriteTimeout not -2). Such a client
// ends each wait of a call (for a pooled connection, the dial and
// handshake, every write and read, the pause before a retry) at the
// context's deadline, so that a deadline alone bounds the call: see
// [RunWith]. It still does not see a cancellation while it waits for a
// reply. A ReadTimeout or WriteTimeout of -2 makes go-redis set no socket
// deadline at all, not even the context's (found in review: a store
// given such a client waited as long as Redis hung); -1 drops only the
// client's own timeout.
func AppliesDeadlines(client any) bool {
	switch c := client.(type) {
	case *redis.Client:
		// As NewClient keeps them: -2 became -1, and -1 became 0.
		o := c.Options()
		return o.ContextTimeoutEnabled && o.ReadTimeout >= 0 && o.WriteTimeout >= 0
	case *redis.ClusterClient:
		// As NewClusterClient keeps them: -1 became 0, -2 is kept.
		o := c.Options()
		return o.ContextTimeoutEnabled && o.ReadTimeout >= 0 && o.WriteTimeout >= 0
	case *redis.Ring:
		// As given: each shard's Client converts them.
		o := c.Options()
		return o.ContextTimeoutEnabled && o.ReadTimeout >= -1 && o.WriteTimeout >= -1
	}
	return false
}

// RunWith is [Run] when direct is false. When it is true (the client
// applies deadlines, see [AppliesDeadlines]), it calls call itself, with
// the same context, and returns the same errors: the call then ends at
// the timeout without a goroutine, but a cancellation of ctx ends it
// only when go-redis next looks at the context, at the latest at the
// timeout. The goroutine of Run and the two hand-offs between goroutines
// cost little on an idle machine, and on a busy one of two cores up to
// as much as the round trip to a local Redis (found in review).
func RunWith[T any](ctx context.Context, timeout time.Duration, direct bool, call func(context.Context) (T, error)) (T, error) {
	if !direct {
		return Run(ctx, timeout, call)
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := call(callCtx)
	if err == nil || callCtx.Err() == nil {
		return v, err
	}
	// The deadline or the caller ended the call: report it as Run does,
	// not as the network timeout go-redis saw.
	var zero T
	return zero, ended(ctx, timeout)
}
