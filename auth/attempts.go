package auth

import (
	"context"
	"net/netip"
	"time"
)

// AttemptLimiter limits failed password attempts, per user name and per
// (user name, client address), so that a password-guessing storm is
// blocked while the right user, from their own address, keeps working.
// ratelimit's failure limiter implements it; so can any other store.
type AttemptLimiter interface {
	// Check reports whether another attempt for username from ip may be
	// made now. When it may not, it returns a non-nil error and how long
	// to wait; the authenticator answers 429 with Retry-After.
	Check(ctx context.Context, username string, ip netip.Addr) (retryAfter time.Duration, err error)
	// RecordFailure counts a failed attempt.
	RecordFailure(ctx context.Context, username string, ip netip.Addr) error
	// RecordSuccess clears the failures of (username, ip).
	RecordSuccess(ctx context.Context, username string, ip netip.Addr) error
}
