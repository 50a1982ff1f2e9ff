package auth

import (
	"context"
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/internal/detach"
)

// errNoDenylist is returned by [JWT.Revoke] without JWTOptions.Denylist.
var errNoDenylist = errors.New("auth: JWTOptions.Denylist is not set")

// Revoke verifies token and puts its jti on the configured denylist until
// the token expires, so that every instance sharing the denylist refuses
// it from then on (a logout, a compromised device), whatever its Leeway:
// the denylist keeps the entry [MaxLeeway] past the expiry. Revoking a
// token that is already revoked succeeds; revoking an invalid token fails
// with the reason it is invalid. JWTOptions.ValidateClaims is not
// consulted: a token it refuses can be revoked. Without
// JWTOptions.Denylist, Revoke fails.
//
// The denylist is consulted and written without ctx's cancellation,
// within ten seconds: with the request's context, a client that hangs
// up as it logs out (closing the tab) cancelled the revocation before a
// store such as go-redis sent it, and the token lived on.
func (m *JWT) Revoke(ctx context.Context, token string) error {
	if m == nil || m.c == nil {
		return errNotConfigured
	}
	if m.c.denylist == nil {
		return errNoDenylist
	}
	ctx, cancel := detach.Context(ctx)
	defer cancel()
	// Verified as Verify does, but without JWTOptions.ValidateClaims: a
	// token it refuses for now (a tenant suspended) must still be
	// revocable, and a lookup it cannot make must not fail a logout
	// (found in review).
	if err := m.c.checkForm(token); err != nil {
		return err
	}
	if _, _, err := m.c.verifyToken(ctx, token, toRevoke); err != nil && !errors.Is(err, ErrTokenRevoked) {
		return err
	}
	// The token verified: read its jti and exp.
	var c accessClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil || c.ExpiresAt == nil {
		return ErrTokenMalformed
	}
	if m.c.cache != nil {
		m.c.cache.remove(token)
	}
	// The denylist adds MaxLeeway for every verifier; this verifier's
	// leeway is added too, so that a Denylist written before it had to
	// (one that forgets an entry at until) still covers this verifier.
	if err := m.c.denylist.Revoke(ctx, DenylistKey(c.ID), c.ExpiresAt.Add(m.c.leeway)); err != nil {
		return storeUnavailable(err)
	}
	return nil
}
