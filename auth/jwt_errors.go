package auth

import (
	"errors"
	"fmt"
)

// tokenError is the type of the bearer-token sentinels: each one unwraps to
// [ErrInvalidToken], so a caller can test for "any invalid token" with one
// errors.Is and still log the precise reason.
// Each also unwraps to the shared [ErrInvalidCredentials], or
// [ErrMalformedCredentials] for a token that cannot be parsed.
type tokenError struct {
	msg     string
	parents []error // precomputed: errors.Is allocates nothing
}

func (e *tokenError) Error() string   { return e.msg }
func (e *tokenError) Unwrap() []error { return e.parents }

// newTokenError returns a bearer-token reason; a malformed one also
// unwraps to ErrMalformedCredentials, any other to ErrInvalidCredentials.
func newTokenError(msg string, malformed bool) error {
	if malformed {
		return &tokenError{msg, []error{ErrInvalidToken, ErrMalformedCredentials}}
	}
	return &tokenError{msg, []error{ErrInvalidToken, ErrInvalidCredentials}}
}

// ErrInvalidToken is what every bearer-token rejection below unwraps to:
// the request carried a token, and it cannot be accepted. The default
// response is 401 with WWW-Authenticate: Bearer error="invalid_token".
var ErrInvalidToken = errors.New("auth: invalid bearer token")

// Reasons a bearer token is rejected. Each unwraps to [ErrInvalidToken].
// They are values for OnReject and the log; the client only ever sees the
// generic invalid_token response.
var (
	// ErrTokenMalformed: not three base64url segments of JSON, a header
	// or claims set with duplicate or escaped member names, invalid
	// UTF-8, more members (16 in the header, 64 in the claims) or deeper
	// nesting (16 levels) than is read, a header over 1 KiB decoded, bad
	// claim types, characters outside the RFC 6750 token alphabet, or
	// several tokens in one request.
	ErrTokenMalformed = newTokenError("auth: malformed bearer token", true)
	// ErrTokenTooLarge: the token is longer than JWTOptions.MaxTokenBytes.
	ErrTokenTooLarge = newTokenError("auth: bearer token too large", true)
	// ErrTokenAlgorithm: the alg header is missing, "none" in any casing,
	// or not in JWTOptions.Algorithms.
	ErrTokenAlgorithm = newTokenError("auth: token algorithm not allowed", false)
	// ErrTokenUnknownKey: no configured (or JWKS) key has the token's kid
	// and accepts its algorithm.
	ErrTokenUnknownKey = newTokenError("auth: token signed with an unknown key", false)
	// ErrTokenSignature: the signature does not verify.
	ErrTokenSignature = newTokenError("auth: token signature invalid", false)
	// ErrTokenCritical: the header has a crit member; no JWS extension is
	// understood, so RFC 7515 §4.1.11 requires rejecting it.
	ErrTokenCritical = newTokenError("auth: token has critical header extensions", false)
	// ErrTokenType: the typ header does not match JWTOptions.Type or,
	// without one, names another kind of JWT than an access token.
	ErrTokenType = newTokenError("auth: token type not accepted", false)
	// ErrTokenExpired: exp is in the past (beyond the leeway).
	ErrTokenExpired = newTokenError("auth: token expired", false)
	// ErrTokenNotYetValid: nbf, or iat, is in the future (beyond the
	// leeway).
	ErrTokenNotYetValid = newTokenError("auth: token not valid yet", false)
	// ErrTokenIssuer: iss differs from JWTOptions.Issuer.
	ErrTokenIssuer = newTokenError("auth: token issuer not accepted", false)
	// ErrTokenAudience: aud contains neither JWTOptions.Audience nor any
	// of JWTOptions.Audiences.
	ErrTokenAudience = newTokenError("auth: token audience not accepted", false)
	// ErrTokenClaimMissing: a required claim is absent: exp, sub, iss
	// with JWTOptions.Issuer, aud with Audience or Audiences, and jti when
	// a denylist is configured; all but exp also when null or empty. A
	// [JWTSet] refuses a token without iss with ErrTokenIssuer.
	ErrTokenClaimMissing = newTokenError("auth: token misses a required claim", false)
	// ErrTokenRevoked: the token's jti is on the denylist.
	ErrTokenRevoked = newTokenError("auth: token revoked", false)
	// ErrTokenBound: the token has a cnf (confirmation) claim, which binds
	// it to a key whose possession the client must prove with each use
	// (DPoP, RFC 9449; a client certificate, RFC 8705): it was presented
	// as a bearer token, which it is not. See
	// JWTOptions.DangerouslyAcceptBoundTokens.
	ErrTokenBound = newTokenError("auth: token is bound to a key (cnf) and was presented as a bearer token", false)
	// ErrTokenClaims: JWTOptions.ValidateClaims refused the token. The
	// error OnReject receives wraps the function's error too.
	ErrTokenClaims = newTokenError("auth: token claims rejected", false)
)

// claimsError is the reason for a token JWTOptions.ValidateClaims refused:
// it unwraps to [ErrTokenClaims] (and so [ErrInvalidToken]) and to the
// function's own error.
type claimsError struct{ err error }

func (e *claimsError) Error() string   { return ErrTokenClaims.Error() + ": " + e.err.Error() }
func (e *claimsError) Unwrap() []error { return []error{ErrTokenClaims, e.err} }

// ErrInsufficientScope is the reason [RequireScopes] rejects an
// authenticated request whose identity lacks a required scope: 403 with
// WWW-Authenticate: Bearer error="insufficient_scope" (RFC 6750 §3.1).
var ErrInsufficientScope = errors.New("auth: insufficient scope")

// ErrKeySetUnavailable is the reason a token is rejected when the JWKS
// needed to verify it could not be fetched (network error, timeout, an
// oversized or invalid document). The default response is 503 with
// Retry-After, not 401: the token may be fine.
var ErrKeySetUnavailable = errors.New("auth: JWKS unavailable")

// errNoToken is the reason for a request without a bearer token.
var errNoToken = fmt.Errorf("%w: no bearer token", ErrNoCredentials)

// storeUnavailable wraps the error of a store that could not answer.
func storeUnavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// isStoreUnavailable reports whether err means "try again later" rather
// than "bad credentials".
func isStoreUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrKeySetUnavailable)
}
