package auth

import (
	"context"
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// errNoDenylist is returned by [JWT.Revoke] without JWTOptions.Denylist.
var errNoDenylist = errors.New("auth: JWTOptions.Denylist is not set")

// Revoke verifies token and puts its jti on the configured denylist until
// the token expires, so that every instance sharing the denylist refuses
// it from then on (a logout, a compromised device), whatever its Leeway:
// the denylist keeps the entry [MaxLeeway] past the expiry. Revoking a
// token that is already revoked succeeds; revoking an invalid token fails
// with the reason it is invalid. Without JWTOptions.Denylist, Revoke
// fails.
func (m *JWT) Revoke(ctx context.Context, token string) error {
	if m == nil || m.c == nil {
		return errNotConfigured
	}
	if m.c.denylist == nil {
		return errNoDenylist
	}
	if _, err := m.Verify(ctx, token); err != nil && !errors.Is(err, ErrTokenRevoked) {
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
