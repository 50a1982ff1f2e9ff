package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/httpguard/httpguard/identity"
)

// JWTSet is the bearer-token middleware for tokens of several issuers,
// built by [NewJWTSet] from one [JWT] per issuer: an API moving to a new
// identity-provider domain, a multi-tenant provider with one issuer per
// tenant, or two providers during a migration. Two JWT.Optional layers in
// a row do not make one: the first refuses the tokens it cannot verify.
//
// A set reads the token as its verifiers do (they read alike: see
// NewJWTSet), then the iss claim from the token's claims set, without
// trusting it, and hands the token to the verifier whose
// JWTOptions.Issuer is that iss, compared exactly, as the JWT compares it
// (an iss spelled with JSON escapes is compared decoded). That verifier
// alone verifies it, fully: its keys, algorithms, audiences, type,
// denylist, cache and ValidateClaims; no other verifier's key is ever
// tried, so a key of one issuer never verifies a token that names
// another. A token whose iss is absent, null or names no verifier of the
// set is refused with [ErrTokenIssuer]; one whose claims set cannot be
// read, or whose iss is not a string, with [ErrTokenMalformed]. Either
// way the client gets the generic invalid_token response.
//
// A refusal is answered by the selected verifier (its OnReject, or its
// Realm's challenge); a request without a token, or a token that selects
// no verifier, by the first verifier of the set. The set uses the
// verifiers themselves: [JWT.SetKeys] on one of them applies to the set
// at once. Revoke a token with [JWT.Revoke] of its issuer's verifier.
//
// With JWTOptions.DPoP on every verifier, a DPoP-bound token's proof is
// checked by the verifier of its issuer, under that verifier's
// DPoPOptions (Required, MaxAge, replay cache, nonces), exactly as by
// the JWT alone, DPoP-Nonce headers included.
//
// Selection costs a base64 decode and a scan of the claims set, without
// allocating: a token the verifier caches is read once more than by the
// JWT alone.
//
// A JWTSet is safe for concurrent use. The zero value rejects every
// request with 401.
type JWTSet struct {
	first *JWT            // reads every token, answers what selects no verifier
	byIss map[string]*JWT // by JWTOptions.Issuer; never mutated after NewJWTSet
}

// NewJWTSet returns the set of verifiers, each built by [NewJWT]: the
// first one reads the token and answers requests that select none. Every
// problem is reported, joined with errors.Join: no verifier, a nil or
// zero JWT, a verifier without JWTOptions.Issuer (it would accept a token
// of any iss, so it cannot be selected by one), two verifiers of one
// Issuer, and verifiers that read tokens otherwise than the first
// (another CookieName, DangerouslyAllowQueryToken or MaxTokenBytes, or
// JWTOptions.DPoP set in one and not the other, as it makes the
// "Authorization: DPoP" scheme a token): a set reads a request's token
// once, before it knows the issuer; and verifiers of different
// JWTOptions.ResourceMetadata, which one resource has one of. One verifier is accepted, for a list
// of issuers from configuration that holds one; it accepts and refuses
// the tokens that JWT does, with the same responses (the JWT's Issuer
// requires an iss too), but for a token of another iss while the JWT's
// JWKSURL key set cannot be fetched: the JWT, which needs the keys
// before it reads iss, answers 503, the set 401. Otherwise only the reason
// may differ, as the set reads iss first: [ErrTokenIssuer] for a token
// without iss or of iss null, which the JWT refuses with
// [ErrTokenClaimMissing], and for a token of another iss that the JWT
// refuses first for something it checks before iss: its header (its alg
// or kid, say), its signature, or how it came (a bound token as a bearer
// token, [ErrTokenBound]; with DPoPOptions.Required, any bearer token,
// [ErrTokenNotDPoP]).
func NewJWTSet(verifiers ...*JWT) (*JWTSet, error) {
	var errs []error
	if len(verifiers) == 0 {
		errs = append(errs, errors.New("auth: NewJWTSet needs at least one verifier"))
	}
	s := &JWTSet{byIss: make(map[string]*JWT, len(verifiers))}
	index := make(map[string]int, len(verifiers))
	firstIndex := 0
	for i, v := range verifiers {
		switch {
		case v == nil || v.c == nil:
			errs = append(errs, fmt.Errorf("auth: NewJWTSet: verifiers[%d] is nil or the zero JWT (use NewJWT)", i))
			continue
		case v.c.iss == "":
			errs = append(errs, fmt.Errorf("auth: NewJWTSet: verifiers[%d] has no Issuer: a set selects a token's verifier by its iss", i))
			continue
		}
		if j, dup := index[v.c.iss]; dup {
			errs = append(errs, fmt.Errorf("auth: NewJWTSet: verifiers[%d] has the Issuer of verifiers[%d], %q", i, j, v.c.iss))
			continue
		}
		index[v.c.iss] = i
		if s.first == nil {
			s.first, firstIndex = v, i
		} else if f := s.first.c; v.c.cookie != f.cookie || v.c.query != f.query || v.c.maxToken != f.maxToken || (v.c.dpop == nil) != (f.dpop == nil) {
			errs = append(errs, fmt.Errorf("auth: NewJWTSet: verifiers[%d] reads tokens otherwise than verifiers[%d]: CookieName, DangerouslyAllowQueryToken and MaxTokenBytes must be equal, and JWTOptions.DPoP set in both or neither", i, firstIndex))
		} else if v.c.resourceMeta != f.resourceMeta {
			errs = append(errs, fmt.Errorf("auth: NewJWTSet: verifiers[%d] and verifiers[%d] announce different JWTOptions.ResourceMetadata: they protect one resource", i, firstIndex))
		}
		s.byIss[v.c.iss] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// MustNewJWTSet is like [NewJWTSet] but panics on an error. Use it only
// with verifiers built from constant options.
func MustNewJWTSet(verifiers ...*JWT) *JWTSet {
	s, err := NewJWTSet(verifiers...)
	if err != nil {
		panic(err)
	}
	return s
}

// Handler is [JWT.Handler] for the tokens of every issuer of the set:
// next runs only for a request with a token its issuer's verifier
// accepts, with the token's identity in the context, and a response to a
// token from the cookie or the query string is marked Cache-Control:
// private.
func (s *JWTSet) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, private, m, nonce, err := s.authenticate(r)
		if err != nil {
			m.reject(w, r, err)
			return
		}
		setNonce(w, nonce)
		serveAs(w, r, next, id, private)
	})
}

// Optional is [JWT.Optional] for the tokens of every issuer of the set: a
// request without a token reaches next unchanged; one with a token runs
// with its identity or is refused as by [JWTSet.Handler]; a token of
// another subject than the one an earlier layer authenticated is refused
// with [ErrAmbiguousCredentials], whichever issuer signed it, and one of
// the same subject runs with the token's identity. Subjects are compared
// as JWT.Optional compares them, without the issuer: when two issuers
// may give one subject name to different principals, do not stack the
// set behind a session or another Optional layer.
func (s *JWTSet) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s == nil || s.first == nil {
			(*JWT)(nil).reject(w, r, errNotConfigured)
			return
		}
		m := s.first
		tok, private, dpop, err := m.c.extract(r)
		var id identity.Identity
		if err == nil {
			dc := dpopRequest(r, dpop)
			if id, m, err = s.verify(r.Context(), tok, dc); dc != nil && err == nil {
				setNonce(w, dc.nonce)
			}
		}
		if err = serveOptional(w, r, next, id, private, err); err != nil {
			m.reject(w, r, err)
		}
	})
}

// Check reports whether r carries a token that the verifier of its
// issuer accepts: nil, or an error wrapping one of the package's
// sentinels.
func (s *JWTSet) Check(r *http.Request) error {
	_, err := s.Authenticate(r)
	return err
}

// Authenticate extracts r's bearer token, verifies it with the verifier
// of its issuer and returns its identity. As [JWT.Authenticate], it
// sends no DPoP-Nonce header: see [DPoPNonce].
func (s *JWTSet) Authenticate(r *http.Request) (identity.Identity, error) {
	id, _, _, _, err := s.authenticate(r)
	return id, err
}

// Verify verifies a token obtained some other way (a WebSocket
// subprotocol, a message) exactly as the middleware does.
func (s *JWTSet) Verify(ctx context.Context, token string) (identity.Identity, error) {
	if s == nil || s.first == nil {
		return identity.Identity{}, errNotConfigured
	}
	if err := s.first.c.checkForm(token); err != nil {
		return identity.Identity{}, err
	}
	id, _, err := s.verify(ctx, token, nil)
	return id, err
}

// authenticate is Authenticate; private reports a token taken from the
// cookie or the query string, m is the verifier that answers a refusal
// (nil for the zero set), and nonce the DPoP nonce to send the client,
// if any.
func (s *JWTSet) authenticate(r *http.Request) (id identity.Identity, private bool, m *JWT, nonce string, err error) {
	if s == nil || s.first == nil {
		return identity.Identity{}, false, nil, "", errNotConfigured
	}
	tok, private, dpop, err := s.first.c.extract(r)
	if err != nil {
		return identity.Identity{}, false, s.first, "", err
	}
	dc := dpopRequest(r, dpop)
	if id, m, err = s.verify(r.Context(), tok, dc); err == nil && dc != nil {
		nonce = dc.nonce
	}
	return id, private, m, nonce, err
}

// verify verifies tok, which passed checkForm, with the verifier of its
// issuer, and its DPoP proof when dc is not nil, and returns the verifier
// that answers for it: that one, or the first when the token selects
// none.
func (s *JWTSet) verify(ctx context.Context, tok string, dc *dpopCall) (identity.Identity, *JWT, error) {
	m, err := s.verifierFor(tok)
	if err != nil {
		return identity.Identity{}, s.first, err
	}
	id, err := m.c.verify(ctx, tok, dc)
	return id, m, err
}

// verifierFor returns the verifier whose Issuer is the iss of tok's
// claims set, read without trusting it (the signature is not checked
// yet) by the scanner the verifiers decode claims with, without
// allocating unless iss is spelled with escapes. The verifier checks the
// claims again in full, iss included.
func (s *JWTSet) verifierFor(tok string) (*JWT, error) {
	_, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, ErrTokenMalformed
	}
	pseg, sseg, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sseg, '.') >= 0 {
		return nil, ErrTokenMalformed
	}
	// The verifiers' pooled buffer, given back before the verifier takes
	// one. checkForm bounded the token by MaxTokenBytes.
	bp := claimsBufPool.Get().(*[]byte)
	cn := len(pseg)/4*3 + 3
	if cap(*bp) < cn {
		*bp = make([]byte, cn)
	}
	if cap(*bp) <= 16<<10 { // a rare huge buffer is not kept
		defer claimsBufPool.Put(bp)
	}
	n, ok := b64Decode((*bp)[:cn], pseg)
	if !ok {
		return nil, ErrTokenMalformed
	}
	b := (*bp)[:n]
	var members [maxClaimMembers]jsonMember
	count, ok := scanObject(b, members[:])
	if !ok {
		return nil, ErrTokenMalformed
	}
	for i := range members[:count] {
		m := &members[i]
		if string(m.key(b)) != "iss" {
			continue
		}
		v := m.val(b)
		switch {
		case !m.str && string(v) == "null":
			return nil, ErrTokenIssuer
		case !m.str:
			return nil, ErrTokenMalformed
		case !m.esc:
			if j := s.byIss[string(v)]; j != nil {
				return j, nil
			}
			return nil, ErrTokenIssuer
		}
		// Rare: an iss spelled with escapes, compared decoded as the
		// verifiers compare it.
		iss, err := unescape(v)
		if err != nil {
			return nil, ErrTokenMalformed
		}
		if j := s.byIss[iss]; j != nil {
			return j, nil
		}
		return nil, ErrTokenIssuer
	}
	return nil, ErrTokenIssuer
}
