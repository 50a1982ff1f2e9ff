package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/httptoken"
)

// Defaults of [APIKeyOptions].
const (
	// DefaultAPIKeyHeader is the default APIKeyOptions.Header.
	DefaultAPIKeyHeader = "X-API-Key"
	// DefaultAPIKeyScheme is the default APIKeyOptions.Scheme, used
	// when the key travels in the Authorization header.
	DefaultAPIKeyScheme = "Bearer"
	// DefaultAPIKeyRealm is the default APIKeyOptions.Realm.
	DefaultAPIKeyRealm = "api"
)

// StoredAPIKey is what an [APIKeyStore] keeps for a key: never the key,
// only its hash.
type StoredAPIKey struct {
	// Hash is GeneratedAPIKey.Hash, the hex SHA-256 of the key.
	Hash string
	// Identity describes the key's principal: its owner as Subject, and
	// the Scopes (and Roles) it grants. Method is set by the middleware;
	// Subject defaults to the key's ID.
	//
	// Scopes limit the key only where something checks them: a
	// [ScopeCheck] ([RequireScopes]) on the route, or rbac with
	// identity.MethodAPIKey in its Options.ScopedMethods (whose usual
	// value, MethodBearer alone, leaves API keys out). Elsewhere rbac
	// reads the Roles alone, so a key given its owner's Roles and fewer
	// Scopes ("orders:read") may do whatever those roles allow; give a
	// narrowed key only the roles it needs, or add MethodAPIKey there.
	Identity identity.Options
	// Expires, when not zero, is the instant from which the key is
	// refused.
	Expires time.Time
}

// APIKeyStore looks up API keys by their public ID (GeneratedAPIKey.ID).
// Implementations must be safe for concurrent use.
type APIKeyStore interface {
	// LookupAPIKey returns the key whose ID is id. An unknown ID is
	// found == false with a nil error; err is for a store that could not
	// answer, which the middleware turns into a 503. id is cut from the
	// request's key and shares its memory with the secret: a store that
	// keeps it beyond the call (a cache of lookups keyed by it) must keep
	// a copy (strings.Clone), or it keeps the key reachable with it.
	LookupAPIKey(ctx context.Context, id string) (k StoredAPIKey, found bool, err error)
}

// APIKeyOptions configures [NewAPIKey]. The zero value is not usable: Keys
// is required. NewAPIKey copies what it needs: mutating an APIKeyOptions
// after NewAPIKey has no effect on the middleware.
type APIKeyOptions struct {
	// Keys looks up keys by ID. Required.
	Keys APIKeyStore

	// Prefix is the prefix of the accepted keys, as given to
	// [GenerateAPIKey]. Keys with another prefix are refused without a
	// lookup. Default: [DefaultAPIKeyPrefix].
	Prefix string

	// Header is the request header carrying the key. When it is
	// "Authorization" the value is "<Scheme> <key>". Default:
	// [DefaultAPIKeyHeader].
	Header string

	// Scheme is the authentication scheme expected when Header is
	// Authorization, compared case-insensitively, and announced in the
	// challenge. Default: [DefaultAPIKeyScheme]. A route served by both
	// this middleware and JWT bearer tokens should keep API keys in their
	// own header, or use another scheme, so that each authenticator sees
	// only its own credentials.
	Scheme string

	// Realm is announced in the challenge of a 401, WWW-Authenticate:
	// <Scheme> realm="<Realm>" (Scheme "ApiKey" for a custom header). It
	// must be printable ASCII without quotes or backslashes. Default:
	// [DefaultAPIKeyRealm].
	Realm string

	// Limiter, when set, reserves an attempt for (key ID, client
	// address) after the lookup and before the secret is compared
	// ([AttemptLimiter.Reserve]); when it says no the request gets 429
	// with Retry-After. The reservation is the failure, so unknown, wrong
	// and expired keys count as failures; a valid key clears the pair.
	// Default: none.
	Limiter AttemptLimiter

	// ClientIP resolves the client address given to Limiter. Default:
	// nil, the direct peer.
	ClientIP *clientip.Resolver

	// OnReject writes the response for a rejected request; err wraps
	// [ErrNoCredentials], [ErrMalformedCredentials],
	// [ErrInvalidCredentials], [ErrTooManyAttempts] (see [RetryAfter]) or
	// [ErrUnavailable]. The reason is recorded for the access log before
	// OnReject is called. Default: 401 with the challenge, 429 with
	// Retry-After, or 503 with Retry-After: 5, as a generic RFC 9457
	// problem.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)

	now func() time.Time // tests
}

// APIKey is the API key middleware built by [NewAPIKey]. It is safe for
// concurrent use. The zero value rejects every request with 401.
type APIKey struct {
	keys      APIKeyStore
	prefix    string
	header    string // canonical
	scheme    string // lower-case; empty unless header is Authorization
	limiter   AttemptLimiter
	clientIP  *clientip.Resolver
	onReject  func(w http.ResponseWriter, r *http.Request, err error)
	challenge string
	now       func() time.Time
}

// Precomputed reasons; each wraps ErrInvalidCredentials.
var (
	errAPIKeyUnknown       = fmt.Errorf("%w: unknown API key", ErrInvalidCredentials)
	errAPIKeyWrong         = fmt.Errorf("%w: wrong API key secret", ErrInvalidCredentials)
	errAPIKeyExpired       = fmt.Errorf("%w: expired API key", ErrInvalidCredentials)
	errAPIKeyNotConfigured = fmt.Errorf("%w: API key middleware not configured (use NewAPIKey)", ErrInvalidCredentials)
)

const (
	defaultAPIKeyChallenge = `ApiKey realm="` + DefaultAPIKeyRealm + `"`
	// maxAPIKeyHeaderValueLen bounds the header value read: a scheme and
	// the longest key, with room to spare.
	maxAPIKeyHeaderValueLen = 256
)

// NewAPIKey validates o and returns the middleware. Every problem is
// reported, joined with [errors.Join].
func NewAPIKey(o APIKeyOptions) (*APIKey, error) {
	var errs []error
	if o.Keys == nil {
		errs = append(errs, errors.New("auth: APIKeyOptions.Keys is required"))
	}
	m := &APIKey{
		keys:     o.Keys,
		prefix:   o.Prefix,
		header:   http.CanonicalHeaderKey(o.Header),
		limiter:  o.Limiter,
		clientIP: o.ClientIP,
		onReject: o.OnReject,
		now:      o.now,
	}
	if m.prefix == "" {
		m.prefix = DefaultAPIKeyPrefix
	}
	if !apiKeyPrefixOK(m.prefix) {
		errs = append(errs, fmt.Errorf("auth: APIKeyOptions.Prefix: %w", ErrAPIKeyPrefix))
	}
	if m.header == "" {
		m.header = http.CanonicalHeaderKey(DefaultAPIKeyHeader)
	}
	if !httptoken.IsToken(m.header) {
		errs = append(errs, errors.New("auth: APIKeyOptions.Header must be a header name"))
	}
	scheme := "ApiKey"
	if m.header == "Authorization" {
		scheme = o.Scheme
		if scheme == "" {
			scheme = DefaultAPIKeyScheme
		}
		if !httptoken.IsToken(scheme) {
			errs = append(errs, errors.New("auth: APIKeyOptions.Scheme must be a token"))
		}
		m.scheme = strings.ToLower(scheme)
	} else if o.Scheme != "" {
		errs = append(errs, errors.New("auth: APIKeyOptions.Scheme is only used with Header Authorization"))
	}
	realm := o.Realm
	if realm == "" {
		realm = DefaultAPIKeyRealm
	}
	if !credRealmOK(realm) {
		errs = append(errs, errors.New("auth: APIKeyOptions.Realm must be printable ASCII without quotes or backslashes"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.challenge = scheme + ` realm="` + realm + `"`
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// MustNewAPIKey is like [NewAPIKey] but panics on error. Use it only with
// constant options.
func MustNewAPIKey(o APIKeyOptions) *APIKey {
	m, err := NewAPIKey(o)
	if err != nil {
		panic(err)
	}
	return m
}

// Handler returns next wrapped so that it only runs for requests with a
// valid API key; the request's context then carries the key's
// [identity.Identity] with Method [identity.MethodAPIKey]. When the key
// travels in a header other than Authorization (X-API-Key), the response
// is marked Cache-Control: private before next runs: a shared cache sees
// no credential there (RFC 9111 §3.5 covers Authorization only), and
// could serve the response to clients without a key, or after the key was
// revoked. A Cache-Control a layer further out set is kept (no-store is
// stricter), and next may set its own.
func (m *APIKey) Handler(next http.Handler) http.Handler {
	return authenticated(next, m.Authenticate, m.reject, m.private())
}

// private reports whether m reads keys from a header of its own, which
// shared caches do not know for a credential.
func (m *APIKey) private() bool { return m != nil && m.scheme == "" }

// Check reports whether r carries a valid API key: nil, or an error
// wrapping one of the package's sentinels.
func (m *APIKey) Check(r *http.Request) error {
	_, err := m.Authenticate(r)
	return err
}

// Authenticate extracts r's API key and verifies it as the middleware
// does, and returns its identity.
func (m *APIKey) Authenticate(r *http.Request) (identity.Identity, error) {
	if m == nil || m.keys == nil {
		return identity.Identity{}, errAPIKeyNotConfigured
	}
	key, err := m.extract(r)
	if err != nil {
		return identity.Identity{}, err
	}
	return m.verify(r, key)
}

// extract returns the key from the configured header.
func (m *APIKey) extract(r *http.Request) (string, error) {
	vals := r.Header[m.header]
	switch len(vals) {
	case 0:
		return "", ErrNoCredentials
	case 1:
	default:
		return "", errAPIKeyMultiple
	}
	v := vals[0]
	if len(v) > maxAPIKeyHeaderValueLen {
		return "", errAPIKeyFormat
	}
	if m.scheme != "" {
		// The parsing that ratelimit.ByAPIKey("Authorization") keys by, so
		// that every spelling accepted here is one rate-limit key.
		scheme, key, ok := httptoken.SplitCredentials(v)
		if !ok || !httptoken.EqualFold(scheme, m.scheme) {
			return "", errAPIKeyScheme
		}
		v = key
	}
	return v, nil
}

func (m *APIKey) verify(r *http.Request, key string) (identity.Identity, error) {
	prefix, id, err := ParseAPIKey(key)
	if err != nil {
		return identity.Identity{}, err
	}
	if prefix != m.prefix {
		return identity.Identity{}, errAPIKeyPrefix
	}
	ctx := r.Context()
	gate := attemptGate{limiter: m.limiter, name: id}
	if m.limiter != nil {
		gate.ip = m.clientIP.Addr(r)
	}
	k, found, err := m.keys.LookupAPIKey(ctx, id)
	if err != nil {
		return identity.Identity{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := gate.reserve(ctx); err != nil {
		return identity.Identity{}, err
	}
	switch {
	case !found:
		err = errAPIKeyUnknown
	case !apiKeyMatches(key, k.Hash):
		err = errAPIKeyWrong
	case !k.Expires.IsZero() && !m.now().Before(k.Expires):
		err = errAPIKeyExpired
	}
	if err != nil {
		return identity.Identity{}, err
	}
	gate.success(ctx)
	opts := k.Identity
	if opts.Subject == "" {
		// A copy: id is a view of the key, whose secret it would keep
		// alive with the identity (found in review).
		opts.Subject = strings.Clone(id)
	}
	opts.Method = identity.MethodAPIKey
	return identity.New(opts), nil
}

func (m *APIKey) reject(w http.ResponseWriter, r *http.Request, err error) {
	var onReject func(http.ResponseWriter, *http.Request, error)
	var challenge string
	if m != nil {
		onReject, challenge = m.onReject, m.challenge
	}
	rejectCredentials(w, r, err, onReject, challenge, defaultAPIKeyChallenge)
}

// Optional returns next wrapped for a stack where API keys are one way
// among several to authenticate: a request carrying a key (the configured
// header; with Header Authorization, a value of the configured Scheme)
// runs with the key's identity, and one whose key is invalid, malformed or
// sent twice is rejected as by [APIKey.Handler], with the same limiting;
// a request without one reaches next unchanged, with whatever identity an
// earlier layer gave it, or none, for the route's guard to judge. An
// Authorization header of another scheme is no key. A key of another
// subject than the one an earlier layer authenticated (a session,
// [JWT.Optional]) is refused with [ErrAmbiguousCredentials]; one of the
// same subject runs with the key's identity. The zero APIKey refuses every request.
// A response to a key in a header other than Authorization is marked
// Cache-Control: private, as by Handler.
func (m *APIKey) Optional(next http.Handler) http.Handler {
	return optional(next, m.carries, m.Authenticate, m.reject, m.private())
}

// carries reports whether r carries a credential for m, valid or not.
func (m *APIKey) carries(r *http.Request) bool {
	if m == nil || m.keys == nil {
		return true // the zero APIKey refuses every request
	}
	vals := r.Header[m.header]
	switch {
	case len(vals) == 0:
		return false
	case len(vals) > 1 || m.scheme == "":
		return true
	}
	return hasScheme(vals[0], m.scheme)
}
