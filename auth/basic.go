package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/identity"
)

// Defaults and bounds of [BasicOptions].
const (
	// DefaultBasicRealm is the default BasicOptions.Realm.
	DefaultBasicRealm = "restricted"
	// DefaultBasicCacheSize is the default BasicOptions.CacheSize.
	DefaultBasicCacheSize = 10000
	// MaxBasicCacheTTL is the largest BasicOptions.CacheTTL accepted.
	MaxBasicCacheTTL = time.Hour
)

// BasicOptions configures [NewBasic]. The zero value is not usable: Users
// is required. NewBasic copies what it needs: mutating a BasicOptions
// after NewBasic has no effect on the middleware.
type BasicOptions struct {
	// Users looks up accounts by user name. Required.
	Users UserStore

	// Realm is announced in the challenge,
	// WWW-Authenticate: Basic realm="<Realm>", charset="UTF-8".
	// It must be printable ASCII without quotes or backslashes. Default:
	// [DefaultBasicRealm].
	Realm string

	// Hasher verifies passwords and hashes the dummy password unknown
	// users are verified against. Default: [password.Default].
	Hasher PasswordHasher

	// Limiter, when set, reserves an attempt for (user name, client
	// address) after the user lookup and before every password
	// verification, unknown user included ([AttemptLimiter.Reserve]);
	// when it says no the request gets 429 with Retry-After and no
	// password is hashed. The reservation is the failure; a verified
	// password clears the pair. A cache hit, which verifies nothing, is
	// only checked ([AttemptLimiter.Check]): a locked pair is refused
	// even with the right password, and nothing is counted. Default:
	// none; put a rate limiter in front of the middleware instead or as
	// well.
	Limiter AttemptLimiter

	// ClientIP resolves the client address given to Limiter. Default:
	// nil, the direct peer (no proxy trusted).
	ClientIP *clientip.Resolver

	// CacheTTL enables a cache of successful verifications for that
	// long, so that a client sending the same credentials on every
	// request pays the password hash once per CacheTTL instead of every
	// time. The store is still consulted on every request, and a cached
	// verification counts only while it returns the same hash, so a
	// changed password or a deleted user takes effect immediately. At
	// most [MaxBasicCacheTTL]. Default: 0, no cache. See the package's
	// security considerations before enabling it.
	CacheTTL time.Duration

	// CacheSize bounds the number of cached verifications. Default:
	// [DefaultBasicCacheSize] when CacheTTL is set.
	CacheSize int

	// OnRehash, when set, is called after a password verified against a
	// hash that needs upgrading (bcrypt, or argon2id weaker than
	// Hasher's parameters), with that hash and a new hash of the password
	// made by Hasher; the request pays that extra hash once. It must
	// store newHash only if the user's hash is still oldHash (a
	// compare-and-swap: UPDATE ... WHERE hash = oldHash), or a password
	// changed since the verification would be overwritten with the old
	// one. name shares its memory with the password, as for
	// [UserStore.LookupUser]: copy it before keeping it beyond the call
	// (a queue of upgrades). Its error is ignored, except that the verification is then
	// cached (with CacheTTL) under the old hash, which is still the
	// stored one; after a successful upgrade it is cached on the next
	// request, under the new hash. A successful upgrade counts as a change
	// of credential for the token endpoint sharing the store: the user's
	// refresh tokens end at their next use. Every hasher sharing the store
	// should use the same parameters: two of which neither is at least as
	// strong as the other in every parameter upgrade each other's hashes
	// back and forth. [MemoryUsers.Rehash] fits, for a Hasher within the
	// limits of [password.Default]. Default: none.
	OnRehash func(ctx context.Context, name, oldHash, newHash string) error

	// OnReject writes the response for a rejected request; err wraps
	// [ErrNoCredentials], [ErrMalformedCredentials],
	// [ErrInvalidCredentials], [ErrTooManyAttempts] (see [RetryAfter])
	// or [ErrUnavailable]. The reason is recorded for the access log
	// before OnReject is called. Default: 401 with the Basic challenge,
	// 429 with Retry-After, or 503 with Retry-After: 5, as a generic
	// RFC 9457 problem.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)

	now func() time.Time // tests
}

// Basic is the HTTP Basic authentication middleware (RFC 7617) built by
// [NewBasic]. It is safe for concurrent use. The zero value rejects every
// request with 401.
type Basic struct {
	users     UserStore
	checker   *passwordChecker
	limiter   AttemptLimiter
	clientIP  *clientip.Resolver
	cache     *verifyCache
	onRehash  func(ctx context.Context, name, oldHash, newHash string) error
	onReject  func(w http.ResponseWriter, r *http.Request, err error)
	challenge string
}

var errBasicNotConfigured = fmt.Errorf("%w: Basic middleware not configured (use NewBasic)", ErrInvalidCredentials)

// defaultBasicChallenge is the challenge of a [Basic] without one (its
// zero value).
const defaultBasicChallenge = `Basic realm="` + DefaultBasicRealm + `", charset="UTF-8"`

// NewBasic validates o and returns the middleware. Every problem is
// reported, joined with [errors.Join]. It hashes a random dummy password
// once with the Hasher, so it takes as long as one password hash.
func NewBasic(o BasicOptions) (*Basic, error) {
	var errs []error
	if o.Users == nil {
		errs = append(errs, errors.New("auth: BasicOptions.Users is required"))
	}
	realm := o.Realm
	if realm == "" {
		realm = DefaultBasicRealm
	}
	if !credRealmOK(realm) {
		errs = append(errs, errors.New("auth: BasicOptions.Realm must be printable ASCII without quotes or backslashes"))
	}
	switch {
	case o.CacheTTL < 0:
		errs = append(errs, errors.New("auth: BasicOptions.CacheTTL must not be negative"))
	case o.CacheTTL > MaxBasicCacheTTL:
		errs = append(errs, fmt.Errorf("auth: BasicOptions.CacheTTL must be at most %s", MaxBasicCacheTTL))
	}
	if o.CacheSize < 0 {
		errs = append(errs, errors.New("auth: BasicOptions.CacheSize must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	checker, err := newPasswordChecker(o.Hasher)
	if err != nil {
		return nil, err
	}
	b := &Basic{
		users:     o.Users,
		checker:   checker,
		limiter:   o.Limiter,
		clientIP:  o.ClientIP,
		onRehash:  o.OnRehash,
		onReject:  o.OnReject,
		challenge: `Basic realm="` + realm + `", charset="UTF-8"`,
	}
	if o.CacheTTL > 0 {
		size := o.CacheSize
		if size == 0 {
			size = DefaultBasicCacheSize
		}
		now := o.now
		if now == nil {
			now = time.Now
		}
		b.cache = newVerifyCache(o.CacheTTL, size, now)
	}
	return b, nil
}

// MustNewBasic is like [NewBasic] but panics on error. Use it only with
// constant options.
func MustNewBasic(o BasicOptions) *Basic {
	b, err := NewBasic(o)
	if err != nil {
		panic(err)
	}
	return b
}

// Handler returns next wrapped so that it only runs for requests with
// valid Basic credentials; the request's context then carries the user's
// [identity.Identity] with Method [identity.MethodBasic] and Subject
// defaulting to the user name.
func (b *Basic) Handler(next http.Handler) http.Handler {
	// Authorization is a credential to shared caches (RFC 9111 §3.5): no
	// Cache-Control: private is needed.
	return authenticated(next, b.Authenticate, b.reject, false)
}

// Optional returns next wrapped for a stack where Basic is one way among
// several to authenticate: a request carrying Basic credentials runs with
// the user's identity, and one whose credentials are wrong, malformed or
// sent with a second Authorization header is rejected as by
// [Basic.Handler], with the same Limiter and cache; a request without
// them reaches next unchanged, with whatever identity an earlier layer
// gave it, or none, for the route's guard to judge. An Authorization
// header of another scheme is no credential. Credentials of another user
// than the one an earlier layer authenticated (a session,
// [JWT.Optional]) are refused with [ErrAmbiguousCredentials], after
// their verification (an attempt like any other); those of the same
// user run with Basic's identity. The zero Basic
// refuses every request.
func (b *Basic) Optional(next http.Handler) http.Handler {
	return optional(next, b.carries, b.Authenticate, b.reject, false)
}

// carries reports whether r carries Basic credentials, valid or not.
func (b *Basic) carries(r *http.Request) bool {
	if b == nil || b.checker == nil {
		return true // the zero Basic refuses every request
	}
	switch vals := r.Header["Authorization"]; len(vals) {
	case 0:
		return false
	case 1:
		return hasScheme(vals[0], "basic")
	}
	return true
}

// Check reports whether r carries valid Basic credentials: nil, or an error
// wrapping one of the package's sentinels.
func (b *Basic) Check(r *http.Request) error {
	_, err := b.Authenticate(r)
	return err
}

// Authenticate parses and verifies r's Basic credentials, consulting the
// Limiter and the cache as the middleware does, and returns the identity.
func (b *Basic) Authenticate(r *http.Request) (identity.Identity, error) {
	if b == nil || b.checker == nil {
		return identity.Identity{}, errBasicNotConfigured
	}
	vals := r.Header["Authorization"]
	switch len(vals) {
	case 0:
		return identity.Identity{}, ErrNoCredentials
	case 1:
	default:
		return identity.Identity{}, errBasicMultiple
	}
	name, pw, err := ParseBasic(vals[0])
	if err != nil {
		return identity.Identity{}, err
	}
	ctx := r.Context()
	gate := attemptGate{limiter: b.limiter, name: name}
	if b.limiter != nil {
		gate.ip = b.clientIP.Addr(r)
	}
	opts, cached, err := b.verify(ctx, name, pw, &gate)
	if err != nil {
		return identity.Identity{}, err
	}
	// A cache hit skips RecordSuccess, a store write per request: the
	// verification that filled the cache, at most CacheTTL ago, recorded
	// it. A cache hit is still checked against the limiter, so a locked
	// pair stays locked even for a cached password; otherwise guesses
	// refused by the limiter could still be tested against the cache.
	if !cached {
		gate.success(ctx)
	}
	opts.Method = identity.MethodBasic
	return identity.New(opts), nil
}

// verify checks the credentials against the cache, then the store. cached
// reports a cache hit. A cache hit is checked against gate; anything else
// reserves an attempt before the verification.
func (b *Basic) verify(ctx context.Context, name, pw string, gate *attemptGate) (opts identity.Options, cached bool, err error) {
	var k [32]byte
	if b.cache != nil && pw != "" {
		k = b.cache.sum(name, pw)
		if hash, ok := b.cache.lookup(k); ok {
			u, found, err := b.users.LookupUser(ctx, name)
			if err != nil {
				return identity.Options{}, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			if found && u.Hash == hash {
				gate.canonical(u)
				if err := gate.check(ctx); err != nil {
					return identity.Options{}, false, err
				}
				opts := u.Identity
				if opts.Subject == "" {
					// A copy: name may share the decoded "user:password" (ParseBasic),
					// which would keep the password alive with the identity.
					opts.Subject = strings.Clone(name)
				}
				return opts, true, nil
			}
			b.cache.forget(k)
		}
	}
	opts, stored, rehash, err := b.checker.check(ctx, b.users, name, pw, gate)
	if err != nil {
		return identity.Options{}, false, err
	}
	upgraded := false
	if rehash && b.onRehash != nil {
		if h, err := b.checker.hash(ctx, pw); err == nil {
			upgraded = b.onRehash(ctx, name, stored, h) == nil
		}
	}
	if b.cache != nil && !upgraded {
		// A rehashed user is cached on its next request, under the new
		// hash; caching the old one would only miss. An upgrade that
		// failed leaves the old hash stored, so it is cached (found in
		// review: it was not, and every request of that user paid a
		// verification and a new hash).
		b.cache.store(k, stored)
	}
	return opts, false, nil
}

func (b *Basic) reject(w http.ResponseWriter, r *http.Request, err error) {
	var onReject func(http.ResponseWriter, *http.Request, error)
	var challenge string
	if b != nil {
		onReject, challenge = b.onReject, b.challenge
	}
	rejectCredentials(w, r, err, onReject, challenge, defaultBasicChallenge)
}

// attemptsError is the rejection for an AttemptLimiter's refusal.
type attemptsError struct {
	wait  time.Duration
	cause error
}

func (e *attemptsError) Error() string { return ErrTooManyAttempts.Error() }

func (e *attemptsError) Unwrap() []error { return []error{ErrTooManyAttempts, e.cause} }

// RetryAfter returns how long the [AttemptLimiter] asked the client to wait,
// when err is a rejection for [ErrTooManyAttempts] from this package's
// middleware. A custom OnReject uses it to set Retry-After.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *attemptsError
	if errors.As(err, &ae) {
		return ae.wait, true
	}
	return 0, false
}

// retryAfterSeconds renders d as a Retry-After delay in whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := math.Ceil(d.Seconds())
	switch {
	case s < 1 || math.IsNaN(s):
		s = 1
	case s > 1<<31:
		s = 1 << 31
	}
	return strconv.FormatInt(int64(s), 10)
}

// credRealmOK reports whether s can be placed in a quoted-string as is.
func credRealmOK(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}
