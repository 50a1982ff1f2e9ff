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
type UserStore interface {
	// LookupUser returns the account named name. An unknown name is
	// found == false with a nil error; err is for a store that could
	// not answer (a database down), which authenticators turn into a 503
	// rather than a 401.
	LookupUser(ctx context.Context, name string) (u User, found bool, err error)
}
