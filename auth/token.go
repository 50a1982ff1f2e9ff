package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/problem"
)

// Defaults and bounds of [IssuerOptions].
const (
	// DefaultAccessTokenTTL is the default lifetime of an access token.
	DefaultAccessTokenTTL = 15 * time.Minute
	// MaxAccessTokenTTL is the longest lifetime accepted.
	MaxAccessTokenTTL = 24 * time.Hour
)

// IssuerOptions configures [NewIssuer]. NewIssuer copies what it needs.
type IssuerOptions struct {
	// Key signs the tokens. Key.Algorithm is required; Key.Key is an
	// HMAC secret ([]byte) or a private key (ed25519.PrivateKey,
	// *ecdsa.PrivateKey, *rsa.PrivateKey) with the same rules as for
	// verification (see [Key]): an HMAC secret of all zero bytes, an
	// Ed25519 key of an all-zero seed or one whose second half is not
	// the public key of its seed is an error, as anyone could sign with
	// it. Key.ID becomes the kid header; set it whenever keys rotate.
	// Required: the zero Key is an error.
	Key Key
	// PublishKeys are further public keys served by the JWKS handler,
	// typically the previous signing key during a rotation, so that
	// tokens it signed stay verifiable until they expire. Each needs an
	// ID of its own, distinct from Key.ID (unless Key is an HMAC secret,
	// which is not published): a verifier selects a key by kid alone.
	// Default: none, only the public key of Key is published (no key
	// for an HMAC secret).
	PublishKeys []Key
	// Issuer is the iss claim, the issuer's URL. Required; valid UTF-8
	// without control characters, as Audience must be.
	Issuer string
	// Audience is the default aud claim: the services the tokens are
	// for, none of them empty or with a control character. Default none
	// (then verifiers cannot check aud).
	Audience []string
	// TTL is the access token lifetime. Default
	// [DefaultAccessTokenTTL]; at most [MaxAccessTokenTTL].
	TTL time.Duration
	// Type is the typ header. Default [TypeAccessToken] ("at+jwt",
	// RFC 9068), which lets a verifier with JWTOptions.Type refuse
	// other JWTs (ID tokens, for example) signed by the same key.
	Type string

	now func() time.Time
}

// Issuer mints signed JWT access tokens. It is safe for concurrent use.
// The zero value, and a nil Issuer, are not usable: Issue returns an
// error, JWKSHandler answers 500, TTL is zero, and JWKS and
// VerificationKey return nothing.
type Issuer struct {
	key     Key
	method  jwt.SigningMethod
	verify  Key
	iss     string
	aud     []string
	ttl     time.Duration
	typ     string
	jwks    []byte
	now     func() time.Time
	jwksLen string
}

// Grant describes the access token to issue.
type Grant struct {
	// Subject is the sub claim: the user or the client. Required. It,
	// ClientID, Roles and Audience must be valid UTF-8: JSON would
	// write an invalid byte as U+FFFD, and two subjects could meet in
	// it.
	Subject string
	// Roles go into the roles claim.
	Roles []string
	// Scopes go into the scope claim, space-separated. Each must be a
	// valid RFC 6749 scope token of at most 256 bytes.
	Scopes []string
	// ClientID is the client_id claim (RFC 9068), when known.
	ClientID string
	// Audience overrides IssuerOptions.Audience when not empty. An empty
	// string in it, or one with a control character, is an error from
	// Issue.
	Audience []string
	// Claims are further claims of the token, such as a tenant, which a
	// verifier copies into the identity with JWTOptions.IdentityClaims.
	// Each value must encode as JSON. A name the issuer sets itself or a
	// verifier reads for authorization (see [ReservedClaims]), or an empty
	// one, is an error from Issue: a claim cannot grant a scope or a role,
	// nor change whom or what the token is for. So is what would make
	// [JWT] refuse the token as malformed: more than 54 claims, a name
	// that JSON escapes (invalid UTF-8, a control character, a quote, a
	// backslash, <, >, &, U+2028 or U+2029), or a value nested more than
	// 15 levels deep, and with JKT set, more than 53.
	Claims map[string]any
	// JKT, when set, binds the token to the client's DPoP key (RFC 9449
	// §6.1): the token carries a cnf claim {"jkt": JKT}, and a [JWT] with
	// DPoPOptions accepts it only with a proof signed by that key. It is
	// the key's RFC 7638 SHA-256 thumbprint, base64url without padding
	// (43 characters); anything else is an error from Issue.
	// [TokenEndpoint] sets it from the request's DPoP proof.
	JKT string
}

// ReservedClaims returns the claim names a [Grant]'s Claims may not hold:
// the registered claims of RFC 7519, the scope, client_id and roles that
// the issuer writes (RFC 9068), scp, which [JWT] reads as scopes when scope
// is absent, and the cnf and act of proof of possession (RFC 7800) and
// delegation (RFC 8693), which other verifiers act on. They are refused in
// any case ("EXP", "Aud"), as Unicode simple folding compares them:
// encoding/json, which golang-jwt and most Go verifiers decode claims
// with, matches names that way. It returns a copy.
func ReservedClaims() []string { return slices.Clone(reservedClaims) }

var reservedClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp",
	"roles", "client_id", "cnf", "act"}

// AccessToken is an issued token.
type AccessToken struct {
	// Token is the compact JWS.
	Token string
	// ID is its jti, for a [Denylist].
	ID string
	// ExpiresAt is its exp.
	ExpiresAt time.Time
}

var errIssuerNotConfigured = errors.New("auth: Issuer not configured (use NewIssuer)")

// NewIssuer validates opts and returns an Issuer.
func NewIssuer(opts IssuerOptions) (*Issuer, error) {
	var errs []error
	k := opts.Key
	info, known := jwtAlgorithms[k.Algorithm]
	if !known {
		errs = append(errs, errors.New("auth: IssuerOptions.Key.Algorithm is required and must be a supported algorithm"))
	} else {
		switch k.Key.(type) {
		case []byte, ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey:
			if _, err := compileKey(0, k, []string{k.Algorithm}); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, fmt.Errorf("auth: IssuerOptions.Key.Key must be a private key or an HMAC secret, not %T", k.Key))
		}
	}
	switch {
	case opts.Issuer == "":
		errs = append(errs, errors.New("auth: IssuerOptions.Issuer is required"))
	case !utf8.ValidString(opts.Issuer):
		errs = append(errs, errors.New("auth: IssuerOptions.Issuer is not valid UTF-8"))
	case hasControl(opts.Issuer):
		// NewJWT refuses it for the verifier: a line break kept from a
		// file, say.
		errs = append(errs, errors.New("auth: IssuerOptions.Issuer has a control character"))
	}
	if !allUTF8(opts.Audience) {
		errs = append(errs, errors.New("auth: IssuerOptions.Audience holds a string that is not valid UTF-8"))
	}
	if slices.Contains(opts.Audience, "") {
		// An empty aud never passes an audience check (CVE-2020-26160):
		// every token would be refused (found in review).
		errs = append(errs, errors.New("auth: IssuerOptions.Audience holds an empty string"))
	}
	if slices.ContainsFunc(opts.Audience, hasControl) {
		errs = append(errs, errors.New("auth: IssuerOptions.Audience holds a string with a control character"))
	}
	ttl := opts.TTL
	switch {
	case ttl == 0:
		ttl = DefaultAccessTokenTTL
	case ttl < time.Second || ttl > MaxAccessTokenTTL:
		errs = append(errs, fmt.Errorf("auth: IssuerOptions.TTL must be between 1s and %s", MaxAccessTokenTTL))
	}
	typ := opts.Type
	if typ == "" {
		typ = TypeAccessToken
	} else if !httptoken.IsToken(typ) {
		errs = append(errs, errors.New("auth: IssuerOptions.Type must be a media type token"))
	}
	// The IDs of the published keys, the signing key's among them unless
	// it is a secret: a verifier selects a key by kid alone (RFC 7517
	// §4.5), so a previous key that kept the current one's ID, or where
	// neither had one, refused every token of the previous key from the
	// moment the new issuer started (found in review).
	published := map[string]bool{}
	if _, secret := k.Key.([]byte); !secret {
		published[k.ID] = true
	}
	for i, pk := range opts.PublishKeys {
		if _, ok := pk.Key.([]byte); ok {
			errs = append(errs, fmt.Errorf("auth: IssuerOptions.PublishKeys[%d] is an HMAC secret; secrets are never published", i))
			continue
		}
		if _, err := compileKey(i, pk, allJWTAlgorithms); err != nil {
			errs = append(errs, err)
		}
		if published[pk.ID] {
			errs = append(errs, fmt.Errorf("auth: IssuerOptions.PublishKeys[%d] has the ID %q of another published key; a verifier selects a key by its ID, so give each key its own", i, pk.ID))
		}
		published[pk.ID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	is := &Issuer{
		key: k, method: info.method, iss: opts.Issuer, aud: slices.Clone(opts.Audience),
		ttl: ttl, typ: typ, now: opts.now,
	}
	if is.now == nil {
		is.now = time.Now
	}
	if b, ok := k.Key.([]byte); ok {
		k.Key = slices.Clone(b)
		is.key = k
		is.verify = k
	} else {
		if ed, ok := k.Key.(ed25519.PrivateKey); ok {
			// A byte slice as well: a caller that wipes it once loaded
			// made the issuer sign with the zero seed (found in review).
			k.Key = slices.Clone(ed)
			is.key = k
		}
		vk, _ := compileKey(0, k, []string{k.Algorithm})
		is.verify = Key{ID: k.ID, Algorithm: k.Algorithm, Key: vk.key}
	}
	var pub []Key
	if _, ok := k.Key.([]byte); !ok {
		pub = append(pub, is.verify)
	}
	pub = append(pub, opts.PublishKeys...)
	jwks, err := marshalJWKS(pub)
	if err != nil {
		return nil, err
	}
	is.jwks = jwks
	is.jwksLen = strconv.Itoa(len(jwks))
	return is, nil
}

// issuedClaims is the claims set of an issued token.
type issuedClaims struct {
	jwt.RegisteredClaims
	Scope    string        `json:"scope,omitempty"`
	Roles    []string      `json:"roles,omitempty"`
	ClientID string        `json:"client_id,omitempty"`
	Cnf      *confirmation `json:"cnf,omitempty"`
}

// confirmation is the cnf claim of a token bound to a DPoP key (RFC 9449
// §6.1).
type confirmation struct {
	JKT string `json:"jkt"`
}

// maxGrantClaims is the most claims a [Grant] may add: what [JWT] reads
// of a claims set (64 members) less the issuer's own ten; one fewer with
// a cnf claim (Grant.JKT).
const maxGrantClaims = maxClaimMembers - issuedClaimMembers

// issuedClaimMembers counts the members of issuedClaims but cnf: iss,
// sub, aud, exp, nbf, iat, jti, scope, roles and client_id.
const issuedClaimMembers = 10

// encodeClaims returns the claims of a Grant as a JSON object, or nil for
// none, or why Issue may not write them: a reserved or empty name, or
// what would make the token one [JWT] refuses as malformed (found in
// review: such tokens were issued, and every request bearing one was
// refused). A token bound to a DPoP key has room for one claim fewer.
func encodeClaims(claims map[string]any, bound bool) ([]byte, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	most := maxGrantClaims
	if bound {
		most--
	}
	if len(claims) > most {
		return nil, fmt.Errorf("auth: Grant.Claims holds %d claims; at most %d", len(claims), most)
	}
	for name := range claims {
		if name == "" || isReservedClaim(name) {
			return nil, fmt.Errorf("auth: Grant.Claims may not hold the claim %q", name)
		}
		if !plainJSONName(name) {
			return nil, fmt.Errorf("auth: Grant.Claims: the name %q is escaped in JSON, and verifiers here refuse escaped member names", name)
		}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("auth: Grant.Claims: %w", err)
	}
	var members [maxGrantClaims]jsonMember
	if _, ok := scanObject(b, members[:]); !ok {
		return nil, fmt.Errorf("auth: Grant.Claims holds a value nested more than %d levels deep", maxJSONDepth-1)
	}
	return b, nil
}

// allUTF8 reports whether every string of list is valid UTF-8.
func allUTF8(list []string) bool {
	for _, s := range list {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// hasControl reports whether s has a control character, which NewJWT
// refuses in an issuer or audience it is to match, and NewIssuer and
// Issue in one they are to write.
func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// plainJSONName reports whether encoding/json writes name without
// escapes, as golang-jwt marshals claims: valid UTF-8 without a control
// character, a quote, a backslash, <, >, &, U+2028 or U+2029.
func plainJSONName(name string) bool {
	if !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		switch {
		case r < 0x20, r == '"', r == '\\', r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
			return false
		}
	}
	return true
}

// isReservedClaim reports whether name is one of reservedClaims in any
// case, Unicode simple folding included ("EXP", "Aud", "\u017fub"):
// encoding/json, which golang-jwt and most Go verifiers decode claims
// with, matches member names to struct fields that way and lets the last
// member win, so such a name, written after the issuer's own claims,
// replaced them there (found in review).
func isReservedClaim(name string) bool {
	for _, r := range reservedClaims {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// withExtra is the claims set of an issued token with a Grant's Claims:
// the issuer's members, then extra's, a JSON object of other names.
type withExtra struct {
	issuedClaims
	extra []byte
}

func (c withExtra) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.issuedClaims)
	if err != nil || len(c.extra) <= len("{}") {
		return b, err
	}
	// b holds sub and more: "{...}" becomes "{...," and extra's members.
	return append(append(b[:len(b)-1], ','), c.extra[1:]...), nil
}

// Issue signs an access token for g.
func (is *Issuer) Issue(_ context.Context, g Grant) (AccessToken, error) {
	if is == nil || is.method == nil {
		return AccessToken{}, errIssuerNotConfigured
	}
	if g.Subject == "" {
		return AccessToken{}, errors.New("auth: Grant.Subject is required")
	}
	// encoding/json writes an invalid byte as U+FFFD: two subjects that
	// differ in one (a user store's bytes) would get tokens of one sub
	// (found in review).
	if !utf8.ValidString(g.Subject) || !utf8.ValidString(g.ClientID) || !allUTF8(g.Roles) || !allUTF8(g.Audience) {
		return AccessToken{}, errors.New("auth: Grant.Subject, ClientID, Roles and Audience must be valid UTF-8")
	}
	if slices.Contains(g.Audience, "") || slices.ContainsFunc(g.Audience, hasControl) {
		return AccessToken{}, errors.New("auth: Grant.Audience holds an empty string or one with a control character")
	}
	for _, s := range g.Scopes {
		if !validScopeToken(s) {
			return AccessToken{}, errors.New("auth: Grant.Scopes holds an invalid scope token")
		}
	}
	if g.JKT != "" && !validThumbprint(g.JKT) {
		return AccessToken{}, errors.New("auth: Grant.JKT is not an RFC 7638 SHA-256 thumbprint (43 base64url characters)")
	}
	extra, err := encodeClaims(g.Claims, g.JKT != "")
	if err != nil {
		return AccessToken{}, err
	}
	now := is.now().Truncate(time.Second)
	exp := now.Add(is.ttl)
	aud := is.aud
	if len(g.Audience) > 0 {
		aud = g.Audience
	}
	jti := rand.Text()
	c := issuedClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    is.iss,
			Subject:   g.Subject,
			Audience:  jwt.ClaimStrings(aud),
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Scope:    strings.Join(g.Scopes, " "),
		Roles:    g.Roles,
		ClientID: g.ClientID,
	}
	if g.JKT != "" {
		c.Cnf = &confirmation{JKT: g.JKT}
	}
	var claims jwt.Claims = c
	if extra != nil {
		claims = withExtra{c, extra}
	}
	t := jwt.NewWithClaims(is.method, claims)
	t.Header["typ"] = is.typ
	if is.key.ID != "" {
		t.Header["kid"] = is.key.ID
	}
	s, err := t.SignedString(is.key.Key)
	if err != nil {
		return AccessToken{}, fmt.Errorf("auth: signing: %w", err)
	}
	return AccessToken{Token: s, ID: jti, ExpiresAt: exp}, nil
}

// TTL returns the access token lifetime.
func (is *Issuer) TTL() time.Duration {
	if is == nil {
		return 0
	}
	return is.ttl
}

// VerificationKey returns the key that verifies this issuer's tokens,
// for JWTOptions.Keys: the public key, or a copy of the HMAC secret, so
// that a caller wiping the bytes it was given cannot change the key the
// issuer signs with (found in review).
func (is *Issuer) VerificationKey() Key {
	if is == nil {
		return Key{}
	}
	k := is.verify
	if b, ok := k.Key.([]byte); ok {
		k.Key = slices.Clone(b)
	}
	return k
}

// JWKS returns the issuer's public keys as a JSON Web Key Set document.
// An HMAC issuer publishes an empty set.
func (is *Issuer) JWKS() []byte {
	if is == nil {
		return nil
	}
	return slices.Clone(is.jwks)
}

// JWKSHandler serves [Issuer.JWKS] for GET and HEAD (405 otherwise),
// with Content-Type application/jwk-set+json and a five-minute public
// cache lifetime; 500 for the zero Issuer.
func (is *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Found in review: the zero Issuer answered 200 with an empty
		// body, cacheable for five minutes.
		if is == nil || is.method == nil {
			problem.Reject(w, r, http.StatusInternalServerError, errIssuerNotConfigured)
			return
		}
		serveDocument(w, r, is.jwks, is.jwksLen, "application/jwk-set+json", "public, max-age=300")
	})
}

var errMethodNotAllowed = errors.New("auth: method not allowed")

// validThumbprint reports whether s can be the base64url SHA-256 RFC
// 7638 thumbprint of a key: 43 characters of the base64url alphabet, the
// last of which leaves no stray bits.
func validThumbprint(s string) bool {
	var sum [sha256.Size]byte
	n, ok := b64Decode(sum[:], s)
	return ok && n == sha256.Size && len(s) == 43
}

// validScopeToken reports whether s is an RFC 6749 §3.3 scope-token,
// of at most 256 bytes.
func validScopeToken(s string) bool { return nqchars(s, 256) }

// nqchars reports whether s is 1 to max of the NQCHAR of RFC 6749
// Appendix A, %x21 / %x23-5B / %x5D-7E: the characters of a scope-token
// and of a DPoP nonce (RFC 9449 §8.1), which may go in a quoted string
// or a header as they are.
func nqchars(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
