package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/problem"
)

// Defaults and bounds of [JWTOptions].
const (
	// DefaultMaxTokenBytes is the default JWTOptions.MaxTokenBytes.
	DefaultMaxTokenBytes = 8 << 10
	// MaxLeeway is the largest JWTOptions.Leeway accepted. A [Denylist]
	// keeps an entry this long past the token's expiry, so that it
	// covers every verifier, whatever its Leeway.
	MaxLeeway = 5 * time.Minute
	// DefaultRealm is the default realm of the WWW-Authenticate challenge.
	DefaultRealm = "api"
	// TypeAccessToken is the typ of a JWT access token (RFC 9068).
	TypeAccessToken = "at+jwt"
)

// JWTOptions configures [NewJWT]. NewJWT copies what it needs: mutating
// the options or their slices afterwards has no effect.
type JWTOptions struct {
	// Algorithms is the allowlist of JWS algorithms (see [AlgHS256] and
	// its siblings). Required: there is no default, "none" in any
	// casing is an error, and a list that mixes HMAC with public-key
	// algorithms is an error (RFC 8725 §3.1), which together rule out
	// algorithm confusion.
	Algorithms []string

	// Keys are the verification keys. A token's kid selects among them
	// by exact match; a token without kid is verified only by keys
	// without ID. Two keys of one ID (or both without) that verify a
	// common algorithm are an error, as the second would never verify a
	// token. At least one key or a JWKSURL is required. A key
	// anyone can sign with (an HMAC secret of all zero bytes, the
	// Ed25519 key of an all-zero seed, an Ed25519 public key of small
	// order) is an error; see [Key]. Default: none.
	Keys []Key

	// JWKSURL is an https URL of a JSON Web Key Set (RFC 7517), such as
	// an identity provider's jwks_uri. Its keys are fetched when first
	// needed, refreshed every JWKS.RefreshInterval, and refetched early
	// (at most once per JWKS.MinRefreshInterval) when a token names an
	// unknown kid, so keys rotate without a restart. Symmetric ("oct")
	// keys in the set are ignored, so Algorithms must list a public-key
	// algorithm. A failed fetch keeps the last good set, for at most
	// JWKS.MaxStale after the last fetch that succeeded (then 503 until
	// one does); a key set with no usable key replaces it, so that keys
	// the provider no longer lists stop verifying (503 until a usable key
	// appears).
	// Default: none.
	JWKSURL string
	// JWKS tunes the fetching of JWKSURL. Default: the zero
	// JWKSOptions, each of whose fields documents its default.
	JWKS JWKSOptions

	// Issuer, when set, is the required iss claim (exact match), valid
	// UTF-8 without control characters. Default: none, iss is not
	// checked.
	Issuer string
	// Audience, when set, must be one of the token's aud values: the
	// identifier of this service. Set it whenever the issuer serves more
	// than one service (RFC 8725 §3.9). It (or Audiences) is required with
	// a JWKSURL: an identity provider signs the tokens of every
	// application it serves, ID tokens included, with the same keys, so
	// without it a token meant for another application would be accepted
	// here. A control character or invalid UTF-8 in it is an error.
	// Default: none, aud is not checked (unless Audiences is set).
	Audience string
	// Audiences lists further identifiers of this service, for a service
	// that answers to more than one (an API moving from one identifier to
	// another, or one service behind two): a token is accepted when its
	// aud contains Audience or any of Audiences, compared exactly, and
	// refused with [ErrTokenAudience] when it contains none of them. Either
	// Audience or Audiences satisfies the requirement of an audience with
	// a JWKSURL. An empty entry, or one with a control character or
	// invalid UTF-8, is an error (as it is in Audience); duplicates are
	// ignored. Keep the list
	// short: each aud value of a token is compared with every entry.
	// Only verification reads Audience and Audiences: an [Issuer] stamps
	// the aud of IssuerOptions.Audience (or Grant.Audience). Default none.
	Audiences []string
	// DangerouslyAllowAnyAudience lifts the requirement of an Audience
	// (or Audiences) with a JWKSURL, for an identity provider whose
	// access tokens carry no aud claim. Check what binds a token to this
	// service (a client_id claim, through IdentityClaims) in the handler.
	// Default false.
	DangerouslyAllowAnyAudience bool
	// Type, when set, is the required typ header, compared without case
	// and ignoring an "application/" prefix; use [TypeAccessToken] for
	// RFC 9068 access tokens. Default: a token without typ, or of any
	// typ but an explicitly typed JWT of another kind (a media type with
	// the +jwt suffix other than at+jwt, such as logout+jwt, secevent+jwt
	// or dpop+jwt: RFC 8725 §3.11), which is refused. Set Type to accept
	// access tokens of another explicit type.
	Type string

	// Leeway is the clock skew tolerated on exp, nbf and iat. Default 0;
	// at most [MaxLeeway], which a Denylist adds to the expiry of what it
	// keeps.
	Leeway time.Duration
	// MaxTokenBytes bounds the token length; longer tokens are rejected
	// before any decoding. Default [DefaultMaxTokenBytes]; from 64 bytes
	// to 1 MiB.
	MaxTokenBytes int

	// RolesClaim names the claim holding the principal's roles: a string
	// or an array of strings. An absent or null claim is no roles; a
	// value of another type makes the token malformed. Default "roles".
	RolesClaim string
	// RolesClaimPath, instead of RolesClaim, finds the roles in nested
	// objects, one member name per element: Keycloak puts a user's realm
	// roles at {"realm_access", "roles"} and a client's roles at
	// {"resource_access", "<client id>", "roles"}. Each element is one
	// member name taken as written, dots included, so that a namespaced
	// claim ("https://example.com/roles", as Auth0 requires) or a client
	// ID with dots is never split. A member of the path that is absent or
	// null is no roles; one that is not an object, or roles of a type
	// RolesClaim would refuse, make the token malformed. No element may
	// be empty, and setting RolesClaim as well is an error. Default none.
	RolesClaimPath []string
	// IdentityClaims lists claims copied into the identity's Claims, as
	// encoding/json decodes them (a number is a float64), except that a
	// number of magnitude 2^53 or more, at any depth, which a float64 may
	// not hold exactly, is kept as the exact [encoding/json.Number].
	// Default none, which keeps the hot path free of a map decode.
	IdentityClaims []string

	// CookieName, when set, also accepts the token from this cookie. A
	// request carrying a token in more than one place is rejected. A
	// browser sends the cookie with every request to the site, those a
	// foreign page triggers included: protect state-changing routes
	// against cross-site request forgery (package csrf, and a SameSite
	// cookie), which a token in the Authorization header does not need.
	// A response to a request authenticated by the cookie is marked
	// Cache-Control: private (see [JWT.Handler]). It must be a valid
	// cookie name. Default: none, no cookie is read.
	CookieName string
	// DangerouslyAllowQueryToken accepts the token from the access_token
	// query parameter (RFC 6750 §2.3), where it leaks into logs, history
	// and Referer headers. A response to a request authenticated by it
	// is marked Cache-Control: private (RFC 6750 §2.3). Only access_token
	// is read: other parameters are not parsed, and one net/url would
	// refuse does not refuse the request, unless it could be read as an
	// access_token by a parser that splits on semicolons (a token joined
	// to others by one), which is refused as a token sent twice would be.
	// Default false: the query string is ignored.
	DangerouslyAllowQueryToken bool

	// DangerouslyAcceptBoundTokens accepts tokens bound to a key by a cnf
	// claim (RFC 7800): DPoP-bound tokens (RFC 9449, cnf.jkt) and
	// certificate-bound ones (RFC 8705, cnf.x5t#S256), which this package
	// takes as bearer tokens without checking the proof of possession of
	// the key. Set it only where something in front of this middleware (a
	// gateway) checks that proof for every request, or the binding is
	// lost: whoever stole such a token could use it here without the key.
	// Default false: a token with a cnf member, of any value (null
	// included), in any case ("CNF"), is refused with [ErrTokenBound],
	// answered as any invalid token (RFC 9449 §7.2, RFC 8705 §3).
	DangerouslyAcceptBoundTokens bool

	// DPoP, when set, accepts DPoP-bound access tokens (RFC 9449) with
	// their proof of possession, in "Authorization: DPoP <token>" and a
	// DPoP header: see [DPoPOptions]. A bound token sent as a bearer token
	// is still refused ([ErrTokenBound]), and with DPoPOptions.Required
	// every bearer token is. A DPoP token comes in the Authorization
	// header only (a bound token in the cookie or the query string is
	// refused as a bearer token would be). DangerouslyAcceptBoundTokens
	// cannot be combined with it. Default: nil, the DPoP scheme is not
	// read.
	DPoP *DPoPOptions

	// Denylist, when set, is consulted for the jti of every token, which
	// then becomes a required claim. Errors from it fail closed (503).
	// Default: nil, no token is revoked before it expires, jti is not
	// required, and [JWT.Revoke] fails.
	Denylist Denylist

	// ValidateClaims, when set, is called with the identity of every token
	// that passed every other check (signature, exp, nbf, iat, iss, aud,
	// typ, the denylist), on cache hits too, and rejects the token by
	// returning an error: the place for checks of claims this package does
	// not know, such as a tenant (tid), an authorized party (azp) or
	// email_verified, the role of go-jwt-middleware's CustomClaims.Validate.
	// The identity's Claims hold only the claims listed in IdentityClaims:
	// list there every claim it reads. The request is answered as for any
	// invalid token (401 invalid_token, one generic description), and the
	// error, wrapped together with [ErrTokenClaims], reaches OnReject and
	// the log, never the client. An error that wraps [ErrUnavailable]
	// (a lookup that could not answer) is answered 503 with Retry-After
	// instead: the token may be fine. It must be safe for concurrent use
	// and fast; it also runs in [JWT.Verify], but not in [JWT.Revoke],
	// which revokes a token it refuses too. Default: nil.
	ValidateClaims func(ctx context.Context, id identity.Identity) error

	// CacheSize, when positive, caches that many verified tokens, keyed
	// by a keyed hash of the token. A hit skips the signature check but
	// still checks expiry and the denylist. Entries die with the key set
	// that verified them. The cache belongs to this JWT alone and holds
	// only tokens that passed every check of its options (iss, aud
	// against Audience and Audiences, typ), which never change: another
	// JWT, configured with other audiences, never answers from it.
	// Default 0: no cache. Negative is an error.
	CacheSize int

	// Realm is the realm of the WWW-Authenticate challenge. Default
	// [DefaultRealm]. It must be printable ASCII without quotes or
	// backslashes.
	Realm string
	// ResourceMetadata, when set, is the URL of the resource's metadata
	// (RFC 9728: see [ResourceMetadata] and [ResourceMetadataURL]), sent
	// as the resource_metadata parameter of every challenge, Bearer and
	// DPoP alike, so that a client refused for want of a token learns
	// where to find the authorization server that issues one (RFC 9728
	// §5.1). It must be an absolute http or https URL without user info,
	// query, fragment, or empty or dot path segment. In a [JWTSet], every
	// verifier must have the same. Default: none.
	ResourceMetadata string

	// OnReject writes the response for a rejected request; err wraps one
	// of the package's sentinels. Default: 401 with the RFC 6750
	// challenge (error="invalid_token" for a bad token), or 503 with
	// Retry-After when a key set or denylist is unavailable, as an
	// RFC 9457 problem.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)

	now func() time.Time // tests
}

// JWT is the bearer-token middleware built by [NewJWT]. It is safe for
// concurrent use. The zero value rejects every request with 401.
type JWT struct {
	c *jwtConfig
}

type jwtConfig struct {
	algs         []string
	validator    *jwt.Validator
	iss          string
	auds         []string               // Audience then Audiences, without duplicates; never mutated
	wantJTI      bool                   // jti is an identity claim
	keys         atomic.Pointer[keySet] // static keys; replaced by SetKeys
	remote       *remoteKeySet
	typ          string
	maxToken     int
	leeway       time.Duration
	rolesPath    []string // nil for the top-level roles claim, which accessClaims decodes
	needMap      bool
	idClaims     []string
	cookie       string
	query        bool
	acceptBound  bool
	dpop         *dpopConfig // nil without JWTOptions.DPoP
	denylist     Denylist
	validate     func(context.Context, identity.Identity) error
	cache        *jwtCache
	onReject     func(http.ResponseWriter, *http.Request, error)
	now          func() time.Time
	challenge    string
	challengeBad string
	resourceMeta string // JWTOptions.ResourceMetadata, compared by NewJWTSet
}

// NewJWT validates opts and returns the middleware. Every problem in opts
// is reported, joined with errors.Join.
func NewJWT(opts JWTOptions) (*JWT, error) {
	var errs []error
	c := &jwtConfig{
		algs:        append([]string(nil), opts.Algorithms...),
		typ:         opts.Type,
		maxToken:    opts.MaxTokenBytes,
		leeway:      opts.Leeway,
		idClaims:    append([]string(nil), opts.IdentityClaims...),
		cookie:      opts.CookieName,
		query:       opts.DangerouslyAllowQueryToken,
		acceptBound: opts.DangerouslyAcceptBoundTokens,
		denylist:    opts.Denylist,
		validate:    opts.ValidateClaims,
		onReject:    opts.OnReject,
		now:         opts.now,
	}
	if err := checkAlgorithms("JWTOptions.Algorithms", c.algs); err != nil {
		errs = append(errs, err)
	}
	var keys []*verKey
	for i, k := range opts.Keys {
		vk, err := compileKey(i, k, c.algs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keys = append(keys, vk)
	}
	if err := sharedKeyIDs("JWTOptions.Keys", keys); err != nil {
		errs = append(errs, err)
	}
	c.keys.Store(newKeySet(keys))
	if opts.JWKSURL != "" {
		// A key set's symmetric keys are never taken (found in review:
		// with HMAC algorithms alone, every token was answered 503).
		if len(c.algs) > 0 && !slices.ContainsFunc(c.algs, isPublicKeyAlg) {
			errs = append(errs, errors.New("auth: JWTOptions.JWKSURL needs a public-key algorithm in JWTOptions.Algorithms: the symmetric keys of a key set are never used"))
		}
		rk, err := newRemoteKeySet(opts.JWKSURL, opts.JWKS, c.algs)
		if err != nil {
			errs = append(errs, err)
		}
		if c.now != nil {
			rk.now = c.now
		}
		c.remote = rk
	} else if len(opts.Keys) == 0 {
		errs = append(errs, errors.New("auth: JWTOptions.Keys or JWTOptions.JWKSURL is required"))
	}
	switch {
	case !utf8.ValidString(opts.Issuer):
		errs = append(errs, errors.New("auth: JWTOptions.Issuer is not valid UTF-8"))
	case hasControl(opts.Issuer):
		errs = append(errs, errors.New("auth: JWTOptions.Issuer has a control character"))
	}
	auds, err := compileAudiences(opts.Audience, opts.Audiences)
	if err != nil {
		errs = append(errs, err)
	}
	c.auds = auds
	if opts.JWKSURL != "" && opts.Audience == "" && len(opts.Audiences) == 0 && !opts.DangerouslyAllowAnyAudience {
		errs = append(errs, errors.New("auth: JWTOptions.Audiences or JWTOptions.Audience is required with a JWKSURL: the identity provider signs tokens for other applications with the same keys (RFC 8725 §3.9)"))
	}
	switch {
	case c.leeway < 0:
		errs = append(errs, errors.New("auth: JWTOptions.Leeway must not be negative"))
	case c.leeway > MaxLeeway:
		errs = append(errs, fmt.Errorf("auth: JWTOptions.Leeway must be at most %s", MaxLeeway))
	}
	switch {
	case c.maxToken == 0:
		c.maxToken = DefaultMaxTokenBytes
	case c.maxToken < 64 || c.maxToken > 1<<20:
		errs = append(errs, errors.New("auth: JWTOptions.MaxTokenBytes must be between 64 and 1 MiB"))
	}
	if c.typ != "" && !httptoken.IsToken(c.typ) {
		errs = append(errs, errors.New("auth: JWTOptions.Type must be a media type token such as at+jwt"))
	}
	path, err := rolesPath(opts.RolesClaim, opts.RolesClaimPath)
	if err != nil {
		errs = append(errs, err)
	}
	c.rolesPath = path
	c.needMap = c.rolesPath != nil || len(c.idClaims) > 0
	if c.cookie != "" && !httptoken.IsToken(c.cookie) {
		errs = append(errs, errors.New("auth: JWTOptions.CookieName is not a valid cookie name"))
	}
	if opts.CacheSize < 0 {
		errs = append(errs, errors.New("auth: JWTOptions.CacheSize must not be negative"))
	} else if opts.CacheSize > 0 {
		c.cache = newJWTCache(opts.CacheSize)
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	if !jwtRealmOK(realm) {
		errs = append(errs, errors.New("auth: JWTOptions.Realm must be printable ASCII without quotes or backslashes"))
	}
	params := `realm="` + realm + `"`
	if m := opts.ResourceMetadata; m != "" {
		if err := checkIdentifierURL(m, true); err != nil {
			errs = append(errs, fmt.Errorf("auth: JWTOptions.ResourceMetadata: %w", err))
		}
		params += `, resource_metadata="` + m + `"`
		c.resourceMeta = m
	}
	if opts.DPoP != nil {
		d, err := compileDPoP(opts.DPoP, params)
		if err != nil {
			errs = append(errs, err)
		}
		if c.acceptBound {
			errs = append(errs, errors.New("auth: JWTOptions.DPoP and DangerouslyAcceptBoundTokens exclude each other: one checks the proof of possession, the other leaves it to a gateway"))
		}
		c.dpop = d
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.dpop != nil && opts.DPoP.Replay == nil {
		c.dpop.replay.(*MemoryReplayCache).now = c.now // its own cache, on its clock
	}
	popts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.leeway),
		jwt.WithTimeFunc(c.now),
	}
	c.iss = opts.Issuer
	c.wantJTI = slices.Contains(c.idClaims, "jti")
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if len(c.auds) > 0 {
		// Any one of them in aud is enough (not WithAllAudiences).
		popts = append(popts, jwt.WithAudience(c.auds...))
	}
	c.validator = jwt.NewValidator(popts...)
	c.challenge = `Bearer ` + params
	c.challengeBad = c.challenge + `, error="invalid_token", error_description="The access token is invalid"`
	return &JWT{c: c}, nil
}

// MustNewJWT is like [NewJWT] but panics on an error. Use it only with
// constant options.
func MustNewJWT(opts JWTOptions) *JWT {
	m, err := NewJWT(opts)
	if err != nil {
		panic(err)
	}
	return m
}

// SetKeys replaces the static verification keys (JWTOptions.Keys), for
// a rotation without restart: tokens signed by a removed key are refused
// from the next request on, and cached verifications by the old set are
// dropped. The keys are checked against the allowlist exactly as by
// NewJWT; on error nothing changes. It is safe to call while serving.
// With no JWKSURL, at least one key is required.
func (m *JWT) SetKeys(keys []Key) error {
	if m == nil || m.c == nil {
		return errNotConfigured
	}
	var errs []error
	var vks []*verKey
	for i, k := range keys {
		vk, err := compileKey(i, k, m.c.algs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vks = append(vks, vk)
	}
	if err := sharedKeyIDs("SetKeys", vks); err != nil {
		errs = append(errs, err)
	}
	if len(keys) == 0 && m.c.remote == nil {
		errs = append(errs, errors.New("auth: SetKeys: at least one key is required without a JWKSURL"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m.c.keys.Store(newKeySet(vks))
	return nil
}

// errNotConfigured is the reason the zero JWT rejects every request.
var errNotConfigured = newTokenError("auth: JWT middleware not configured (use NewJWT)", false)

// Handler returns next wrapped so that it only runs for requests with a
// valid bearer token; the request's context then carries the token's
// [identity.Identity] (Method [identity.MethodBearer]). When the token
// came from the cookie or the query string, the response is marked
// Cache-Control: private before next runs (RFC 6750 §2.3): a shared cache
// sees no credentials there (RFC 9111 §3.5 covers Authorization only),
// and could serve the response to others, or after the token expired or
// was revoked. A Cache-Control a layer further out set is kept (no-store
// is stricter), and next may set its own.
func (m *JWT) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, private, nonce, err := m.authenticate(r)
		if err != nil {
			m.reject(w, r, err)
			return
		}
		setNonce(w, nonce)
		serveAs(w, r, next, id, private)
	})
}

// serveAs runs next with id in r's context, the response first marked
// Cache-Control: private when the token came from the cookie or the
// query string (private).
func serveAs(w http.ResponseWriter, r *http.Request, next http.Handler, id identity.Identity, private bool) {
	if private {
		markPrivate(w.Header())
	}
	next.ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), id)))
}

// markPrivate sets Cache-Control: private unless a layer further out set
// a Cache-Control already (no-store, which is stricter, say).
func markPrivate(h http.Header) {
	if len(h["Cache-Control"]) == 0 {
		v := headervals.Take(1) // this response's own slot, no allocation
		v[0] = "private"
		h["Cache-Control"] = v
	}
}

// Optional returns next wrapped for a stack where bearer tokens are one
// way among several to authenticate, shared by public routes: a request
// carrying a token (in any place the JWT reads one) runs with the token's
// identity, and one whose token is invalid, malformed or sent twice is
// rejected as by [JWT.Handler]; a request without a token reaches next
// unchanged, with whatever identity an earlier layer (a session) gave it,
// or none, for the route's guard ([RequireScopes], rbac) to judge. An
// Authorization header of another scheme is no token. A token of
// another subject than the one an earlier layer authenticated (a
// session, [APIKey.Optional]) is refused with [ErrAmbiguousCredentials]:
// neither principal silently wins; a token of the same subject runs with
// the token's identity, whose scopes may be narrower. A response to a
// token from the cookie or the query string is marked Cache-Control:
// private, as by Handler.
func (m *JWT) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m == nil || m.c == nil {
			m.reject(w, r, errNotConfigured)
			return
		}
		tok, private, dpop, err := m.c.extract(r)
		var id identity.Identity
		if err == nil {
			dc := dpopRequest(r, dpop)
			if id, err = m.c.verify(r.Context(), tok, dc); dc != nil && err == nil {
				setNonce(w, dc.nonce)
			}
		}
		if err = serveOptional(w, r, next, id, private, err); err != nil {
			m.reject(w, r, err)
		}
	})
}

// serveOptional ends the Optional of JWT and JWTSet for a request whose
// token gave id, or err (errNoToken for no token): it serves next
// unchanged without a token, and with id when id may replace an earlier
// layer's identity (see samePrincipal), marking the response private for
// a token from the cookie or the query string. It returns the error to
// reject the request with, or nil once it has served it.
func serveOptional(w http.ResponseWriter, r *http.Request, next http.Handler, id identity.Identity, private bool, err error) error {
	switch {
	case err == errNoToken:
		next.ServeHTTP(w, r)
		return nil
	case err != nil:
		return err
	case !samePrincipal(r, id):
		return ErrAmbiguousCredentials
	}
	serveAs(w, r, next, id, private)
	return nil
}

// Check reports whether r carries a valid bearer token: nil, or an error
// wrapping one of the package's sentinels.
func (m *JWT) Check(r *http.Request) error {
	_, err := m.Authenticate(r)
	return err
}

// Authenticate extracts and verifies r's bearer token and returns its
// identity. With DPoPOptions.Nonces it sends no DPoP-Nonce header, as
// Handler and Optional do: on [ErrDPoPNonce], [DPoPNonce] gives the
// nonce the response should carry.
func (m *JWT) Authenticate(r *http.Request) (identity.Identity, error) {
	id, _, _, err := m.authenticate(r)
	return id, err
}

// authenticate is Authenticate; private reports a token taken from the
// cookie or the query string, and nonce is the DPoP nonce to send the
// client, if any.
func (m *JWT) authenticate(r *http.Request) (id identity.Identity, private bool, nonce string, err error) {
	if m == nil || m.c == nil {
		return identity.Identity{}, false, "", errNotConfigured
	}
	tok, private, dpop, err := m.c.extract(r)
	if err != nil {
		return identity.Identity{}, false, "", err
	}
	dc := dpopRequest(r, dpop)
	if id, err = m.c.verify(r.Context(), tok, dc); err != nil {
		return identity.Identity{}, false, "", err
	}
	if dc != nil {
		nonce = dc.nonce
	}
	return id, private, nonce, nil
}

// Verify verifies a token obtained some other way (a WebSocket
// subprotocol, a message) exactly as the middleware does.
func (m *JWT) Verify(ctx context.Context, token string) (identity.Identity, error) {
	if m == nil || m.c == nil {
		return identity.Identity{}, errNotConfigured
	}
	if err := m.c.checkForm(token); err != nil {
		return identity.Identity{}, err
	}
	return m.c.verify(ctx, token, nil)
}

// dpopCall is a request whose token came with the DPoP scheme, for the
// check of its proof, which sets nonce to the DPoP nonce to send the
// client with the response, if any.
type dpopCall struct {
	r     *http.Request
	nonce string
}

// dpopRequest is the dpopCall of r when its token came with the DPoP
// scheme, and nil otherwise.
func dpopRequest(r *http.Request, dpop bool) *dpopCall {
	if dpop {
		return &dpopCall{r: r}
	}
	return nil
}

// setNonce sends the client nonce, when not "", in a DPoP-Nonce header
// (RFC 9449 §8.2).
func setNonce(w http.ResponseWriter, nonce string) {
	if nonce != "" {
		w.Header()["Dpop-Nonce"] = []string{nonce}
	}
}

func (m *JWT) reject(w http.ResponseWriter, r *http.Request, err error) {
	problem.SetReason(r, err)
	var c *jwtConfig // nil for a nil or zero JWT, as Basic and APIKey allow
	if m != nil {
		c = m.c
	}
	if c != nil && c.dpop != nil && c.dpop.nonces != nil {
		// For OnReject too: the client needs it to retry. (DPoPNonce's
		// errors.As target escapes: kept off the other rejections.)
		setNonce(w, DPoPNonce(err))
	}
	if c != nil && c.onReject != nil {
		c.onReject(w, r, err)
		return
	}
	challenge := `Bearer realm="` + DefaultRealm + `"`
	if c != nil {
		challenge = c.challenge
	}
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, errNotConfigured):
	case errors.Is(err, ErrInvalidToken):
		if c != nil {
			challenge = c.challengeBad
		}
	case isStoreUnavailable(err):
		writeRejection(w, http.StatusServiceUnavailable, "Retry-After", unavailableRetryAfter)
		return
	}
	if c != nil && c.dpop != nil {
		c.dpop.reject(w, err, c.challenge, challenge)
		return
	}
	writeRejection(w, status, "Www-Authenticate", challenge)
}

// claimsPool recycles the typed claims of verified tokens.
var claimsPool = sync.Pool{New: func() any { return new(accessClaims) }}

// claimsBufPool recycles the buffers claims sets are decoded into.
var claimsBufPool = sync.Pool{New: func() any { b := make([]byte, 1024); return &b }}

// maxSignatureBytes is the longest signature accepted: that of the
// largest RSA key compileKey accepts.
const maxSignatureBytes = maxRSABits / 8

// presented says how a token came: as a bearer token, with the DPoP
// scheme, or to be revoked, where its binding does not matter.
type presented uint8

const (
	asBearer presented = iota
	asDPoP
	toRevoke
)

// verify checks a syntactically valid token, then, for a token that came
// with the DPoP scheme (dc is not nil), the request's proof of
// possession, then its claims with JWTOptions.ValidateClaims.
func (c *jwtConfig) verify(ctx context.Context, tok string, dc *dpopCall) (identity.Identity, error) {
	how := asBearer
	if dc != nil {
		how = asDPoP
	}
	id, jkt, err := c.verifyToken(ctx, tok, how)
	if err == nil && dc != nil {
		dc.nonce, err = c.dpop.check(dc.r, tok, jkt, c.now(), c.leeway)
	}
	if err != nil {
		return identity.Identity{}, err
	}
	if c.validate == nil {
		return id, nil
	}
	if err := c.validate(ctx, id); err != nil {
		if errors.Is(err, ErrUnavailable) {
			return identity.Identity{}, err
		}
		return identity.Identity{}, &claimsError{err}
	}
	return id, nil
}

// verifyToken checks everything but JWTOptions.ValidateClaims and a DPoP
// proof, and returns the DPoP key the token is bound to (cnf.jkt, with
// JWTOptions.DPoP); the cache keeps what it accepted.
func (c *jwtConfig) verifyToken(ctx context.Context, tok string, how presented) (identity.Identity, string, error) {
	if c.cache != nil {
		if id, jkt, ok, err := c.cacheHit(ctx, tok, how); ok {
			return id, jkt, err
		}
	}
	hseg, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return identity.Identity{}, "", ErrTokenMalformed
	}
	pseg, sseg, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sseg, '.') >= 0 || sseg == "" || !b64Valid(sseg) {
		return identity.Identity{}, "", ErrTokenMalformed
	}
	var hbuf [maxHeaderBytes]byte
	h, ok := scanHeader(hbuf[:], hseg)
	if !ok {
		return identity.Identity{}, "", ErrTokenMalformed
	}
	if h.crit {
		return identity.Identity{}, "", ErrTokenCritical
	}
	alg := algName(h.alg, c.algs)
	if alg == "" {
		return identity.Identity{}, "", ErrTokenAlgorithm
	}
	if c.typ != "" && (h.typ == nil || h.typEsc || !typMatches(h.typ, c.typ)) {
		return identity.Identity{}, "", ErrTokenType
	}
	if c.typ == "" && h.typ != nil && otherJWTType(h.typ, h.typEsc) {
		return identity.Identity{}, "", ErrTokenType
	}
	ks, key, err := c.keyFor(ctx, &h, alg)
	if err != nil {
		return identity.Identity{}, "", err
	}

	// The claims are decoded by the allocation-free scanner into typed
	// fields; a claims set that does not fit is refused before the
	// signature costs anything.
	claims := claimsPool.Get().(*accessClaims)
	*claims = accessClaims{wantIss: c.iss, wantAud: c.auds, skipJTI: c.denylist == nil && !c.wantJTI, wantJKT: c.dpop != nil}
	defer claimsPool.Put(claims)
	// One pooled buffer holds the decoded claims and a copy of the
	// signing input, which the signature check needs as bytes.
	signing := tok[:len(hseg)+1+len(pseg)]
	bp := claimsBufPool.Get().(*[]byte)
	cn := len(pseg)/4*3 + 3
	if need := cn + len(signing); cap(*bp) < need {
		*bp = make([]byte, need)
	}
	if cap(*bp) <= 16<<10 { // a rare huge buffer is not kept
		defer claimsBufPool.Put(bp)
	}
	buf := (*bp)[:cap(*bp)]
	n, ok := b64Decode(buf[:cn], pseg)
	if !ok || claims.UnmarshalJSON(buf[:n]) != nil {
		return identity.Identity{}, "", ErrTokenMalformed
	}
	// The signature is checked over header.payload exactly as received,
	// with the key the kid and alg selected.
	var sig [maxSignatureBytes]byte
	sn, ok := b64Decode(sig[:], sseg)
	if !ok {
		return identity.Identity{}, "", ErrTokenSignature
	}
	msg := buf[cn : cn+copy(buf[cn:], signing)]
	if !verifySignature(alg, msg, sig[:sn], key) {
		return identity.Identity{}, "", ErrTokenSignature
	}
	// A token bound to a key is no bearer token (RFC 9449 §7.2, RFC 8705
	// §3): the proof of possession of a DPoP key is checked after this,
	// any other is not. After the signature, so that the reason names
	// what the issuer signed.
	if err := c.binding(claims.bound, claims.jkt, how); err != nil {
		return identity.Identity{}, "", err
	}
	// golang-jwt's Validator, built once at New, checks exp (required),
	// nbf, iat, iss and aud with the leeway.
	if err := c.validator.Validate(claims); err != nil {
		return identity.Identity{}, "", mapJWTError(err)
	}
	if claims.Subject == "" {
		return identity.Identity{}, "", ErrTokenClaimMissing
	}
	var denyKey string // what the cache checks on a hit, with a denylist
	if c.denylist != nil {
		if claims.ID == "" {
			return identity.Identity{}, "", ErrTokenClaimMissing
		}
		denyKey = DenylistKey(claims.ID)
		revoked, err := c.denylist.IsRevoked(ctx, denyKey)
		if err != nil {
			return identity.Identity{}, "", storeUnavailable(err)
		}
		if revoked {
			return identity.Identity{}, "", ErrTokenRevoked
		}
	}
	id, err := c.identityOf(pseg, claims)
	if err != nil {
		return identity.Identity{}, "", err
	}
	if c.cache != nil {
		c.cache.add(tok, id, claims.ExpiresAt.Time, denyKey, ks, claims.bound, claims.jkt)
	}
	return id, claims.jkt, nil
}

// binding refuses a token bound to a key (bound, cnf.jkt) for how it
// came: a bound token as a bearer token (unless
// DangerouslyAcceptBoundTokens), any bearer token under
// DPoPOptions.Required, and a token without cnf.jkt with the DPoP
// scheme.
func (c *jwtConfig) binding(bound bool, jkt string, how presented) error {
	switch {
	case how == toRevoke:
		return nil
	case how == asDPoP:
		if jkt == "" {
			return ErrTokenNotDPoP
		}
		return nil
	case bound && !c.acceptBound:
		return ErrTokenBound
	case c.dpop != nil && c.dpop.required:
		return ErrTokenNotDPoP
	}
	return nil
}

// identityOf builds the identity of verified claims.
func (c *jwtConfig) identityOf(pseg string, cl *accessClaims) (identity.Identity, error) {
	o := identity.Options{Subject: cl.Subject, Method: identity.MethodBearer}
	switch {
	case cl.Scope != "":
		// Split into the pooled claims' array: identity.New copies the
		// list (a local array would escape through it).
		o.Scopes = appendScopes(cl.scopeBuf[:0], cl.Scope)
	case len(cl.Scp) > 0:
		o.Scopes = cl.Scp
	}
	o.Roles = cl.Roles
	if c.needMap {
		raw, err := jwt.NewParser().DecodeSegment(pseg)
		if err != nil {
			return identity.Identity{}, ErrTokenMalformed
		}
		var all map[string]any
		err = json.Unmarshal(raw, &all)
		if err != nil || slices.ContainsFunc(c.idClaims, func(name string) bool { return inexact(all[name]) }) {
			// A number a float64 cannot hold (1e400), or one in a listed
			// claim it may not hold exactly (both rare): read again with
			// the numbers as written, so that identityNumbers keeps them.
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			all = nil
			if err := dec.Decode(&all); err != nil {
				return identity.Identity{}, ErrTokenMalformed
			}
		}
		if c.rolesPath != nil {
			o.Roles, err = claimRoles(all, c.rolesPath)
			if err != nil {
				return identity.Identity{}, err
			}
		}
		if len(c.idClaims) > 0 {
			o.Claims = make(map[string]any, len(c.idClaims))
			for _, name := range c.idClaims {
				if v, ok := all[name]; ok {
					o.Claims[name] = identityNumbers(v)
				}
			}
		}
	}
	return identity.New(o), nil
}

// rolesPath returns the path of member names to the roles claim, or nil
// for the top-level claim "roles" that accessClaims decodes itself.
func rolesPath(claim string, path []string) ([]string, error) {
	switch {
	case claim != "" && len(path) > 0:
		return nil, errors.New("auth: set JWTOptions.RolesClaim or JWTOptions.RolesClaimPath, not both")
	case claim != "":
		path = []string{claim}
	case len(path) == 0:
		return nil, nil
	default:
		if slices.Contains(path, "") {
			return nil, errors.New("auth: JWTOptions.RolesClaimPath has an empty member name")
		}
		path = slices.Clone(path)
	}
	if len(path) == 1 && path[0] == "roles" {
		return nil, nil
	}
	return path, nil
}

// claimRoles reads the roles at path in the decoded claims: a string or
// an array of strings, through objects. An absent or null member is no
// roles; any other value is ErrTokenMalformed.
func claimRoles(all map[string]any, path []string) ([]string, error) {
	v := any(all)
	for _, name := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			if v == nil {
				return nil, nil
			}
			return nil, ErrTokenMalformed
		}
		v = obj[name]
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		roles := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, ErrTokenMalformed
			}
			roles[i] = s
		}
		return roles, nil
	}
	return nil, ErrTokenMalformed
}

// inexact reports whether v, a claim decoded by encoding/json, holds at
// any depth a number of magnitude 2^53 or more: one a float64 may not
// hold exactly. Rounding keeps that bound, so the float64 tells.
func inexact(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.Abs(x) >= 1<<53
	case []any:
		return slices.ContainsFunc(x, inexact)
	case map[string]any:
		for _, e := range x {
			if inexact(e) {
				return true
			}
		}
	}
	return false
}

// identityNumbers returns v, a claim decoded with json.Decoder.UseNumber
// (only when inexact found one of the numbers it keeps),
// with each number of magnitude under 2^53 made the float64 encoding/json
// gives, as the identity's Claims have always held them, and each larger
// one, at any depth, kept as the exact json.Number: a float64 holds the
// integers exactly only below 2^53, and two claims that differ (user IDs
// 2^53 and 2^53 + 1, distinct to the issuer and to parsers that keep
// integers) became one (found in review). A handler that asserts a
// float64 finds no number there rather than the wrong one.
func identityNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil && math.Abs(f) < 1<<53 {
			return f
		}
	case []any:
		for i, e := range x {
			x[i] = identityNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = identityNumbers(e)
		}
	}
	return v
}

// appendScopes appends the scopes of a space-separated scope or scp claim
// to dst. RFC 6749 §3.3 separates scopes with spaces only:
// "read\u00a0admin" is one (invalid) scope, never "read" and "admin".
func appendScopes(dst []string, s string) []string {
	for sc := range strings.SplitSeq(s, " ") {
		if sc != "" {
			dst = append(dst, sc)
		}
	}
	return dst
}

// keyFor finds the key for the token's kid and alg, and the key set
// holding it, fetching the JWKS if needed. A kid only ever selects among
// configured or JWKS keys; jku, x5u, jwk and x5c are never read.
func (c *jwtConfig) keyFor(ctx context.Context, h *joseHeader, alg string) (*keySet, *verKey, error) {
	if h.kidBad {
		return nil, nil, ErrTokenUnknownKey
	}
	hasKID := h.kid != nil
	if !h.kidEsc {
		ks := c.keys.Load()
		if k := ks.lookupBytes(h.kid, hasKID, alg); k != nil {
			return ks, k, nil
		}
		if c.remote == nil {
			return nil, nil, ErrTokenUnknownKey
		}
	}
	kid := string(h.kid)
	if h.kidEsc {
		// Rare: a kid spelled with escapes. Decode it like encoding/json.
		var err error
		if kid, err = unescape(h.kid); err != nil || kid == "" {
			return nil, nil, ErrTokenUnknownKey
		}
		ks := c.keys.Load()
		if k := ks.lookup(kid, hasKID, alg); k != nil {
			return ks, k, nil
		}
		if c.remote == nil {
			return nil, nil, ErrTokenUnknownKey
		}
	}
	ks, err := c.remote.keySetFor(ctx, kid, hasKID, alg)
	if err != nil {
		return nil, nil, err
	}
	k := ks.lookup(kid, hasKID, alg)
	if k == nil {
		return nil, nil, ErrTokenUnknownKey
	}
	return ks, k, nil
}

// mapJWTError turns a golang-jwt validation error into one of the
// package sentinels.
func mapJWTError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ErrTokenClaimMissing
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrTokenIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrTokenAudience
	}
	return ErrTokenMalformed
}

// compileAudiences returns the accepted aud values: aud, when set, then
// the entries of more, each once. An entry that is empty or has a control
// character or invalid UTF-8 is an error: it could only be a mistake (an
// empty aud never matches, and the claims decoder refuses invalid UTF-8).
func compileAudiences(aud string, more []string) ([]string, error) {
	var (
		auds []string
		errs []error
	)
	add := func(name, a string) {
		switch {
		case !utf8.ValidString(a):
			errs = append(errs, fmt.Errorf("auth: %s %q is not valid UTF-8", name, a))
		case hasControl(a):
			errs = append(errs, fmt.Errorf("auth: %s %q has a control character", name, a))
		case !slices.Contains(auds, a):
			auds = append(auds, a)
		}
	}
	if aud != "" {
		add("JWTOptions.Audience", aud)
	}
	for i, a := range more {
		if a == "" {
			errs = append(errs, fmt.Errorf("auth: JWTOptions.Audiences[%d] is empty", i))
			continue
		}
		add(fmt.Sprintf("JWTOptions.Audiences[%d]", i), a)
	}
	return auds, errors.Join(errs...)
}

// jwtRealmOK reports whether s can be placed in a quoted-string as is.
func jwtRealmOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
