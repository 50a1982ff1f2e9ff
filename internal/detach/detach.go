// Package detach gives the store calls that end a session or revoke a
// token a context of their own: a client that hangs up as it logs out
// must not cancel the logout.
package detach

import (
	"context"
	"time"
)

// Timeout bounds the calls made with a context from [Context], which do
// not end when the caller's context is cancelled.
const Timeout = 10 * time.Second

// Context returns ctx's values without its cancellation, ending after
// [Timeout].
func Context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), Timeout)
}
