package auth

import (
	"context"
	"errors"
	"time"

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
// with the reason it is invalid. A token refused for the time alone, not
// valid yet by this verifier's clock or expired by its Leeway, is revoked
// all the same as long as a verifier of a later clock or a longer Leeway
// (up to MaxLeeway) may accept it. JWTOptions.ValidateClaims is not
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
	// A token refused for the time alone (not valid yet, or expired by
	// this verifier's Leeway) is revoked if a verifier sharing the
	// denylist accepts it at some time: its signature verified, and one
	// issued by an instance whose clock runs ahead, or seen by a verifier
	// of a longer Leeway, was answered with the reason and lived on (found
	// in review).
	_, _, err := m.c.verifyToken(ctx, token, toRevoke)
	timed := errors.Is(err, ErrTokenNotYetValid) || errors.Is(err, ErrTokenExpired)
	if err != nil && !errors.Is(err, ErrTokenRevoked) && !timed {
		return err
	}
	// The token verified: read its jti and exp.
	var c accessClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil || c.ExpiresAt == nil {
		return ErrTokenMalformed
	}
	if timed && (!m.c.acceptedSometime(&c) || !m.c.now().Before(c.ExpiresAt.Add(MaxLeeway))) {
		return err
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

// acceptedSometime reports whether a verifier of this one's issuer and
// audiences, and of a Leeway up to [MaxLeeway], accepts a token of claims
// cl, whose signature verified, at some time: at the later of its iat and
// nbf, or just before its exp without either. A token no such verifier
// ever accepts (never valid, of another issuer or audience, without sub or
// jti) is not revoked.
func (c *jwtConfig) acceptedSometime(cl *accessClaims) bool {
	if cl.ExpiresAt == nil || cl.Subject == "" || cl.ID == "" {
		return false
	}
	at := cl.ExpiresAt.Add(-time.Second)
	if cl.IssuedAt != nil || cl.NotBefore != nil {
		at = time.Time{}
		for _, d := range []*jwt.NumericDate{cl.IssuedAt, cl.NotBefore} {
			if d != nil && d.After(at) {
				at = d.Time
			}
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(MaxLeeway),
		jwt.WithTimeFunc(func() time.Time { return at }),
	}
	if c.iss != "" {
		opts = append(opts, jwt.WithIssuer(c.iss))
	}
	if len(c.auds) > 0 {
		opts = append(opts, jwt.WithAudience(c.auds...))
	}
	return jwt.NewValidator(opts...).Validate(cl) == nil
}
