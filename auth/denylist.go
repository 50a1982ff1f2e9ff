package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Denylist records revoked access tokens by their jti claim. [NewJWT]
// consults it for every request when JWTOptions.Denylist is set. An
// implementation must be safe for concurrent use; [MemoryDenylist] is the
// in-process one and auth/redisstore has one shared by several instances.
type Denylist interface {
	// Revoke denies jti until until, the token's expiry (its exp claim,
	// [AccessToken].ExpiresAt), and for [MaxLeeway] after it: a [JWT]
	// accepts a token for up to its JWTOptions.Leeway, at most
	// MaxLeeway, past exp. After until + MaxLeeway the entry may be
	// forgotten: no verifier accepts the token anymore. Revoking a jti
	// again keeps the later of the two times.
	//
	// Found in review: entries were kept only until exp, so a token
	// revoked as documented was accepted again within the leeway. The
	// extra MaxLeeway is the denylist's business, not the caller's, so
	// that one denylist serves verifiers with different leeways.
	Revoke(ctx context.Context, jti string, until time.Time) error
	// IsRevoked reports whether jti is denied. An error means the store
	// could not answer; the middleware then fails closed with 503.
	IsRevoked(ctx context.Context, jti string) (bool, error)
}

// MaxJTILength bounds the jti a denylist stores. [JWT] passes a longer jti,
// which an identity provider may issue, as "sha256:" and the base64url
// SHA-256 of it, so that every verified token can be revoked and a
// denylist never sees more than MaxJTILength bytes.
const MaxJTILength = 256

// DenylistKey returns what [JWT] passes to a [Denylist] for jti: jti
// itself, or "sha256:" and a hash of it when it is longer than
// MaxJTILength (found in review: such tokens could not be revoked, and a
// Redis denylist failed every request bearing one). Revoke a jti directly
// through a Denylist under this key.
func DenylistKey(jti string) string {
	if len(jti) <= MaxJTILength {
		return jti
	}
	return "sha256:" + HashRefreshToken(jti) // the same digest and encoding
}

// ErrInvalidJTI is returned by a denylist for an empty or too long jti.
var ErrInvalidJTI = errors.New("auth: jti must be 1 to 256 bytes")

// MemoryDenylist is an in-memory [Denylist] for a single instance. The
// zero value is ready to use and safe for concurrent use. Entries are
// kept until the token's expiry plus [MaxLeeway], as the Denylist
// contract requires, and swept as new ones are added, so memory stays
// proportional to the tokens revoked during one access-token lifetime
// and MaxLeeway.
type MemoryDenylist struct {
	mu        sync.RWMutex
	m         map[string]time.Time
	nextSweep int
	now       func() time.Time
}

// NewMemoryDenylist returns an empty [MemoryDenylist].
func NewMemoryDenylist() *MemoryDenylist { return &MemoryDenylist{} }

func (d *MemoryDenylist) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

// Revoke implements [Denylist].
func (d *MemoryDenylist) Revoke(_ context.Context, jti string, until time.Time) error {
	if jti == "" || len(jti) > MaxJTILength {
		return ErrInvalidJTI
	}
	until = until.Add(MaxLeeway) // the longest any JWT accepts past exp
	now := d.clock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = make(map[string]time.Time)
	}
	if len(d.m) >= d.nextSweep {
		for k, t := range d.m {
			if !t.After(now) {
				delete(d.m, k)
			}
		}
		d.nextSweep = max(2*len(d.m), 64)
	}
	if !until.After(now) {
		return nil // expired beyond any leeway: nothing to deny
	}
	if old, ok := d.m[jti]; !ok || until.After(old) {
		d.m[jti] = until
	}
	return nil
}

// IsRevoked implements [Denylist].
func (d *MemoryDenylist) IsRevoked(_ context.Context, jti string) (bool, error) {
	d.mu.RLock()
	until, ok := d.m[jti]
	d.mu.RUnlock()
	return ok && until.After(d.clock()), nil
}

// Len returns the number of entries, expired ones included until swept.
func (d *MemoryDenylist) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.m)
}
