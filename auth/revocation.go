package auth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/internal/problem"
)

// RevocationEndpointOptions configures [NewRevocationEndpoint].
type RevocationEndpointOptions struct {
	// TokenEndpoint issued the tokens to revoke. Its clients authenticate
	// here as they do there (RFC 6749 §2.3), and its refresh tokens are
	// revoked with their families, as [TokenEndpoint.RevokeRefreshToken]
	// does. Required.
	TokenEndpoint *TokenEndpoint
	// AccessTokens, when set, revokes access tokens too: [JWT.Revoke]
	// puts their jti on its denylist until they expire, so every verifier
	// sharing the denylist refuses them from then on. It must verify the
	// TokenEndpoint's tokens: a JWTOptions.Denylist is required, its
	// JWTOptions.Issuer must be the Issuer's, its Algorithms must accept
	// the Issuer's, its Audience or Audiences, when set, must hold an aud
	// of IssuerOptions.Audience, its Type must accept the Issuer's, and
	// its Keys must verify the Issuer's key (a key set of a JWKSURL is not
	// fetched to check): a verifier that refuses every token of the Issuer
	// would answer every revocation 200 and revoke nothing.
	// Default: nil, an access token is answered 400
	// unsupported_token_type (RFC 7009 §2.2.1) and stays valid until it
	// expires.
	AccessTokens *JWT
}

// RevocationEndpoint is the OAuth 2.0 token revocation endpoint (RFC
// 7009) of a [TokenEndpoint], built by [NewRevocationEndpoint]; it is an
// http.Handler. A client posts the token it no longer needs (a logout, an
// app uninstalled) as the form parameter token, authenticated as at the
// token endpoint; token_type_hint is accepted and not needed, as refresh
// tokens and access tokens (JWTs) differ in form.
//
// The answer is 200 with an empty body when the token is revoked, and
// when it is unknown, expired, malformed or already revoked (§2.2: the
// client can do nothing about an invalid token). Errors are RFC 6749
// §5.2 JSON, as at the token endpoint: 400 invalid_request for a
// request without token, 401 invalid_client, 400 unsupported_token_type
// for an access token without [RevocationEndpointOptions.AccessTokens],
// 503 with Retry-After when a store or the key set could not answer (§2.2.1:
// the client must assume the token still exists and retry).
//
// A token issued to another client is revoked too, and answered 200 as
// any other. RFC 7009 §2.1 refuses such a request instead; but a client
// that holds another client's token can only have it from a leak, and
// the token endpoint already revokes a refresh token's family when
// another client presents it: a refusal would leave the leaked token
// usable, and an answer of its own would tell the client whose token it
// holds. The access log of errorsafe records that reason with the 200.
// Revoking a refresh token does not revoke the access tokens
// issued with it: they expire within the Issuer's TTL, unless revoked
// themselves.
//
// As at the token endpoint, a confidential client's secret costs a
// password hash: put a rate limit on the endpoint. It is safe for
// concurrent use. The zero value answers every request with a
// server_error.
type RevocationEndpoint struct {
	tokens *TokenEndpoint
	access *JWT
}

// Reasons for the access log of a refused revocation request.
var (
	errRevocationToken       = errors.New("auth: revocation request without token")
	errAccessRevocation      = errors.New("auth: access token revocation not configured")
	errRevocationNotComplete = errors.New("auth: revocation endpoint not configured (use NewRevocationEndpoint)")
	// errRevokedOtherClient is not a refusal: the token is revoked and
	// the answer is 200. It puts the leak in the access log, as the token
	// endpoint's refusal of another client's refresh token does.
	errRevokedOtherClient = errors.New("auth: revoked a token issued to another client")
)

// NewRevocationEndpoint validates o and returns the endpoint.
func NewRevocationEndpoint(o RevocationEndpointOptions) (*RevocationEndpoint, error) {
	e := o.TokenEndpoint
	if e == nil || e.issuer == nil || e.issuer.method == nil || e.store == nil {
		return nil, errors.New("auth: RevocationEndpointOptions.TokenEndpoint is required (use NewTokenEndpoint)")
	}
	if a := o.AccessTokens; a != nil {
		var errs []error
		switch {
		case a.c == nil:
			errs = append(errs, errors.New("auth: RevocationEndpointOptions.AccessTokens is not configured (use NewJWT)"))
		default:
			if a.c.denylist == nil {
				errs = append(errs, errors.New("auth: RevocationEndpointOptions.AccessTokens has no Denylist: it cannot revoke a token"))
			}
			if a.c.iss != e.issuer.iss {
				errs = append(errs, fmt.Errorf("auth: RevocationEndpointOptions.AccessTokens requires iss %q, the TokenEndpoint's Issuer signs %q", a.c.iss, e.issuer.iss))
			}
			if alg := e.issuer.method.Alg(); !slices.Contains(a.c.algs, alg) {
				errs = append(errs, fmt.Errorf("auth: RevocationEndpointOptions.AccessTokens does not accept %s, the algorithm of the TokenEndpoint's Issuer", alg))
			} else if !verifiesIssuerKey(a.c, e.issuer) {
				errs = append(errs, fmt.Errorf("auth: RevocationEndpointOptions.AccessTokens has no key that verifies the TokenEndpoint's Issuer's (kid %q)", e.issuer.key.ID))
			}
			if typ := []byte(e.issuer.typ); a.c.typ != "" && !typMatches(typ, a.c.typ) || a.c.typ == "" && otherJWTType(typ, false) {
				errs = append(errs, fmt.Errorf("auth: RevocationEndpointOptions.AccessTokens refuses typ %q, which the TokenEndpoint's Issuer writes", e.issuer.typ))
			}
			// The token endpoint's tokens carry the Issuer's aud, which a
			// Grant cannot change there.
			if len(a.c.auds) > 0 && !slices.ContainsFunc(e.issuer.aud, func(aud string) bool { return slices.Contains(a.c.auds, aud) }) {
				errs = append(errs, fmt.Errorf("auth: RevocationEndpointOptions.AccessTokens requires an audience of %q, the TokenEndpoint's Issuer writes aud %q", a.c.auds, e.issuer.aud))
			}
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
	}
	return &RevocationEndpoint{tokens: e, access: o.AccessTokens}, nil
}

// ServeHTTP answers a revocation request.
func (re *RevocationEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if re == nil || re.tokens == nil {
		writeOAuthError(w, r, oerr(http.StatusInternalServerError, "server_error", "The revocation endpoint is not configured.", errRevocationNotComplete))
		return
	}
	if oe := re.serve(r); oe != nil {
		writeOAuthError(w, r, oe)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (re *RevocationEndpoint) serve(r *http.Request) *oauthError {
	e := re.tokens
	form, client, oe := e.readRequest(r, "The revocation endpoint accepts POST only.")
	if oe != nil {
		return oe
	}
	token := form.Get("token")
	if token == "" {
		return oerr(http.StatusBadRequest, "invalid_request", "The token parameter is required.", errRevocationToken)
	}
	ctx := r.Context()
	// A refresh token is base64url, without dots; an access token is a
	// JWS in compact form, with two. token_type_hint is not needed.
	if strings.Count(token, ".") != 2 {
		t, found, err := e.revokeRefresh(ctx, token)
		if err != nil {
			return unavailable(err)
		}
		if found && t.ClientID != client.ID {
			problem.SetReason(r, errRevokedOtherClient)
		}
		return nil
	}
	if re.access == nil {
		return oerr(http.StatusBadRequest, "unsupported_token_type", "Access tokens are not revoked here; they expire on their own.", errAccessRevocation)
	}
	switch err := re.access.Revoke(ctx, token); {
	case err == nil:
		// The token verified: its client_id is the Issuer's.
		var c struct {
			jwt.RegisteredClaims
			ClientID string `json:"client_id"`
		}
		if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err == nil && c.ClientID != client.ID {
			problem.SetReason(r, errRevokedOtherClient)
		}
	case isStoreUnavailable(err):
		return unavailable(err)
	}
	// Revoked, or invalid: nothing to revoke (§2.2).
	return nil
}

// verifiesIssuerKey reports whether the key that c's static keys select
// for is's tokens (by kid and algorithm) verifies is's signatures: a test
// signature, made once. With no such key, a verifier with a JWKSURL may
// still find one there, which only a fetch would tell: it passes.
func verifiesIssuerKey(c *jwtConfig, is *Issuer) bool {
	alg := is.method.Alg()
	k := c.keys.Load().lookup(is.key.ID, is.key.ID != "", alg)
	if k == nil {
		return c.remote != nil
	}
	const msg = "httpguard revocation endpoint key check"
	sig, err := is.method.Sign(msg, is.key.Key)
	return err == nil && verifySignature(alg, []byte(msg), sig, k)
}
