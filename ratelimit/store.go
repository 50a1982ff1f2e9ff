package ratelimit

import (
	"context"

	"github.com/httpguard/httpguard/internal/storefail"
)

// Store keeps the state of rate-limited keys: one theoretical arrival time
// per key. [NewMemoryStore] is the default, for one process; package
// ratelimit/redisstore shares limits between processes.
//
// Keys are built by this package from a limit's name and the request's key
// (an address prefix, a subject, a hash of an API key). They are at most a
// few hundred bytes of printable ASCII and never contain secrets in clear.
// (A Middleware on a [MemoryStore] hashes address prefixes without making
// their text keys.)
//
// Implementations must be safe for concurrent use, and each method must be
// atomic for its key: two concurrent Take calls on one key must never both
// be admitted past the burst.
type Store interface {
	// Take applies one decision to key under q for a request of cost n,
	// which uses n requests of the burst: when it fits, it is admitted
	// and counted. A cost of 0 is always admitted and counts nothing; a
	// cost above q.Burst is never admitted (a negative
	// [Result.RetryAfter]). A refused request changes nothing, but for a
	// key that owes more than the full burst of q (left by a quota of a
	// longer window, such as another plan of the limit): its debt is cut
	// to that burst, as the stores of this module do, so that it waits n
	// Intervals from then. A store returns an error wrapping [ErrCost]
	// for a negative n.
	Take(ctx context.Context, key string, q Quota, n int) (Result, error)
	// Peek reports what Take would decide, counting nothing. It cuts a
	// debt above the full burst of q to that burst as Take does, so that
	// the wait it reports is the wait a Take then finds (found in review:
	// a Peek that left the debt whole, read after a change to a plan of a
	// shorter window, told a client to wait one Interval, and the Take of
	// its retry cut the debt again from its own time and refused it).
	Peek(ctx context.Context, key string, q Quota, n int) (Result, error)
	// Reset forgets key, giving it back its full burst.
	Reset(ctx context.Context, key string) error
}

// ErrStore is wrapped by the errors returned when a [Store] fails. A
// Middleware whose store fails refuses the request (fail closed) with 503
// Service Unavailable; a store can choose to fail open instead, as
// redisstore does when configured to, but must not for a call whose
// context is done: a client could then cancel its requests to have them
// admitted without being counted.
//
// ErrStore has a method Unavailable that reports true, by which a package
// that does not import this one tells a store failure from a refusal: an
// auth.AttemptLimiter error with it is answered 503, not 429.
var ErrStore = error(storefail.Error("ratelimit: store unavailable"))
