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
	// Revoke denies jti until until (the token's expiry). After until
	// the entry may be forgotten: the token is expired anyway.
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
// zero value is ready to use and safe for concurrent use. Expired entries
// are swept as new ones are added, so memory stays proportional to the
// tokens revoked during one access-token lifetime.
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
		return nil // already expired: nothing to deny
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
