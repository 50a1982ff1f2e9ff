package auth

import (
	"context"
	"net/netip"
	"time"
)

// AttemptLimiter limits password attempts, per user name and per (user
// name, client address), so that a password-guessing storm is blocked
// while the right user, from their own address, keeps working.
// ratelimit's AttemptLimiter implements it; so can any other store.
//
// The authenticators of this package use it in one of two ways:
//
//   - Before every password (or API key secret) verification, Reserve. It
//     checks and counts the attempt as a failure in one atomic step, so
//     that concurrent attempts beyond the budget are refused before any
//     verification starts: a burst of simultaneous guesses gets no more
//     verifications than a sequence of guesses would. When the password
//     verifies, RecordSuccess; when it does not, nothing more: the
//     reservation was the failure.
//   - Where credentials are accepted without a verification (the
//     verified-credentials cache of [Basic]), Check, which counts nothing,
//     so that a locked pair stays locked even for a password known to be
//     right.
//
// The budget is of consecutive failures: for a pair that is not locked,
// MaxFailures reservations in a row without a RecordSuccess lock it (with
// ratelimit's, the default is 10), and while it is locked every attempt
// for the pair, the right password included, is refused until the lockout
// ends. RecordSuccess resets the pair's count to zero, the reservation of
// the success included. Other user names, and the same user name from
// other addresses, are unaffected by a pair's lockout; a per-user-name cap,
// if the implementation has one, is not reset by a success.
//
// A refusal returns a non-nil error and how long to wait; the
// authenticators answer 429 with Retry-After. An implementation whose
// store fails refuses too (fail closed): an error of Check or Reserve
// that means the store could not answer, rather than a refusal, wraps
// [ErrUnavailable] or has a method Unavailable() bool that reports true
// (ratelimit.ErrStore does), and the request is then refused with 503
// and [ErrUnavailable], not 429 and [ErrTooManyAttempts].
// Implementations must be safe for concurrent use, and Reserve must be
// atomic: n concurrent calls for a pair with k attempts left admit at
// most k. From [Basic], username shares its memory with the request's
// password, as for [UserStore.LookupUser], and from [APIKey] the key ID
// with the key's secret: an implementation that keeps it (a map key) must
// keep a copy; ratelimit's keeps only a hash of it.
type AttemptLimiter interface {
	// Check reports whether an attempt for username from ip would be
	// admitted now, changing nothing. When it would not, it returns a
	// non-nil error and how long to wait.
	Check(ctx context.Context, username string, ip netip.Addr) (retryAfter time.Duration, err error)
	// Reserve admits an attempt for username from ip and counts it as a
	// failure, atomically, or refuses it with a non-nil error and how
	// long to wait, counting nothing for the pair. Call it before the
	// verification, once per verification.
	Reserve(ctx context.Context, username string, ip netip.Addr) (retryAfter time.Duration, err error)
	// RecordSuccess clears the failures of (username, ip), the
	// reservation of the attempt that succeeded included.
	RecordSuccess(ctx context.Context, username string, ip netip.Addr) error
}

// IssueLimiter limits how many tokens one subject obtains from a
// [TokenEndpoint] ([TokenEndpointOptions.IssueLimiter]): the budget of a
// valid account, where [AttemptLimiter] is the budget of wrong passwords.
// ratelimit's KeyLimiter implements it; so can any other store.
//
// Allow is called once for every response that would issue tokens, with
// the subject the access token will carry, after every other check of the
// grant and before anything is issued or rotated. It admits the issuance
// and counts it, atomically, or refuses it with a non-nil error and how
// long to wait, counting nothing: the endpoint then answers 429 with
// Retry-After and slow_down, and issues and rotates nothing.
//
// An error that means the limiter's store could not answer, rather than a
// refusal, wraps [ErrUnavailable] or has a method Unavailable() bool that
// reports true (ratelimit.ErrStore does), as for [AttemptLimiter]: the
// request is then answered 503 temporarily_unavailable. Implementations
// must be safe for concurrent use.
type IssueLimiter interface {
	Allow(ctx context.Context, subject string) (retryAfter time.Duration, err error)
}
