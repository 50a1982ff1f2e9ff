package auth

import (
	"context"

	"github.com/httpguard/httpguard/identity"
)

// User is a stored account: its password hash and the identity a
// successful login produces.
type User struct {
	// Hash is the stored password hash, as produced by password.Hash
	// (argon2id, PHC string format) or a bcrypt hash ($2a$, $2b$, $2y$).
	Hash string
	// Identity describes the principal. Its Method is set by the
	// authenticator that verified the password; Subject defaults to the
	// user name when empty.
	Identity identity.Options
}

// UserStore looks up accounts by user name. Implementations must be safe
// for concurrent use.
//
// Names are compared as the store compares them; the authenticators pass
// them on unchanged (without control characters or U+FFFD, which they
// refuse). Normalize names when accounts are created and in the lookup
// (NFC, or the UsernameCaseMapped profile of RFC 8265), or two accounts
// can look alike: "zoë" in NFC and in NFD are two names to [MemoryUsers].
// A store that compares names exactly must not hold two accounts whose
// names the attempt limiter counts as one (ratelimit.AttemptLimiter's
// default folds case and trailing spaces: "Bob" and "bob"): a successful
// sign-in of either clears the failures of both, so whoever holds the one
// can guess the other's password without being locked out.
// [MemoryUsers] refuses such names.
type UserStore interface {
	// LookupUser returns the account named name. An unknown name is
	// found == false with a nil error; err is for a store that could
	// not answer (a database down), which authenticators turn into a 503
	// rather than a 401. From [Basic], name shares its memory with the
	// request's password (both are cut from the decoded credentials): a
	// store that keeps the name beyond the call (a cache of lookups keyed
	// by it, a log batch) must keep a copy (strings.Clone), or it keeps
	// the password reachable with it.
	LookupUser(ctx context.Context, name string) (u User, found bool, err error)
}
