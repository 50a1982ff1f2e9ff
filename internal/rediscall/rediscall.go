// Package rediscall bounds the wait for a reply from Redis, whatever the
// client's options.
//
// go-redis applies a context's deadline to a call only when the client is
// configured with ContextTimeoutEnabled, and, with it or without, does not
// see a cancellation while it waits for a reply: the socket's deadline is
// what ends the wait. With the options redis.NewClient and redis.ParseURL
// give by default, a Redis that hangs (paused, busy in a slow script, on
// the other side of a network that drops packets) holds each call for the
// client's ReadTimeout (3 s), or its DialTimeout (5 s) on a new
// connection, however soon the caller wanted an answer and whether or not
// the caller is still there.
package rediscall

import (
	"context"
	"fmt"
	"time"
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
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan result[T], 1)
	go func() {
		v, err := call(ctx)
		done <- result[T]{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // answered just in time
			return r.v, r.err
		default:
		}
		var zero T
		if err := ctx.Err(); err != context.DeadlineExceeded {
			return zero, err
		}
		return zero, fmt.Errorf("redis: no reply within %v: %w", timeout, context.DeadlineExceeded)
	}
}
