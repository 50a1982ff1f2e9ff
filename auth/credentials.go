package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/storefail"
)

// PasswordHasher hashes and verifies passwords. [*password.Hasher]
// implements it, and [password.Default] is the default of every option of
// this type. Implementations must be safe for concurrent use.
type PasswordHasher interface {
	// Hash returns a stored hash of password.
	Hash(password string) (string, error)
	// Verify reports whether password matches the stored hash encoded,
	// and whether the hash should be replaced by a new one.
	Verify(password, encoded string) (ok bool, needsRehash bool, err error)
}

// ContextVerifier is implemented by a [PasswordHasher] that can give up a
// verification still waiting for its turn when the request's context ends,
// as [*password.Hasher.VerifyContext] does. [Basic] and the token endpoint
// use it when their Hasher has it, so that a client that sends a password
// and hangs up, once or by the thousand, does not leave behind a queue of
// hash computations that each cost a core and the hash's memory after the
// client left, and that every later login waits behind. Such a request is
// answered as the store being unavailable (ErrUnavailable, 503), known user
// or not.
type ContextVerifier interface {
	VerifyContext(ctx context.Context, password, encoded string) (ok bool, needsRehash bool, err error)
}

// ContextHasher is implemented by a [PasswordHasher] that can give up a
// hash still waiting for its turn when a context ends, as
// [*password.Hasher.HashContext] does. [Basic] and the token endpoint use
// it for the new hash that OnRehash stores after a login verified against
// an outdated one, with the request's context: when the client has gone,
// the upgrade is left for its next login instead of taking a hashing turn
// from the clients still waiting.
type ContextHasher interface {
	HashContext(ctx context.Context, password string) (string, error)
}

// Precomputed reasons, so that a rejection allocates nothing. Each wraps
// ErrInvalidCredentials.
var (
	errUnknownUser   = fmt.Errorf("%w: unknown user", ErrInvalidCredentials)
	errWrongPassword = fmt.Errorf("%w: wrong password", ErrInvalidCredentials)
	errEmptyPassword = fmt.Errorf("%w: empty password", ErrInvalidCredentials)
	errUserName      = fmt.Errorf("%w: user name not UTF-8 or contains control characters or U+FFFD", ErrInvalidCredentials)
)

// passwordChecker verifies passwords against a UserStore with the same
// hashing work for unknown and known users.
type passwordChecker struct {
	hasher PasswordHasher
	cv     ContextVerifier // hasher, when it implements it
	ch     ContextHasher   // hasher, when it implements it
	// dummy is a hash, made by hasher, of a random password that is
	// immediately forgotten. Unknown users are verified against it.
	dummy string
}

func newPasswordChecker(h PasswordHasher) (*passwordChecker, error) {
	if h == nil {
		h = password.Default
	}
	dummy, err := h.Hash(rand.Text())
	if err != nil {
		return nil, fmt.Errorf("auth: hashing the dummy password: %w", err)
	}
	cv, _ := h.(ContextVerifier)
	ch, _ := h.(ContextHasher)
	return &passwordChecker{hasher: h, cv: cv, ch: ch, dummy: dummy}, nil
}

// verify verifies pw against encoded, giving up when ctx ends before the
// hasher starts if the hasher can.
func (c *passwordChecker) verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if c.cv != nil {
		return c.cv.VerifyContext(ctx, pw, encoded)
	}
	return c.hasher.Verify(pw, encoded)
}

// hash hashes pw for an upgrade of a stored hash, giving up when ctx ends
// before the hasher starts if the hasher can.
func (c *passwordChecker) hash(ctx context.Context, pw string) (string, error) {
	if c.ch != nil {
		return c.ch.HashContext(ctx, pw)
	}
	return c.hasher.Hash(pw)
}

// verifyDummy verifies pw against the dummy hash, the work of a failed
// verification. It returns an error wrapping ErrUnavailable when ctx
// ended first, and nil otherwise.
func (c *passwordChecker) verifyDummy(ctx context.Context, pw string) error {
	_, _, err := c.verify(ctx, pw, c.dummy)
	return gaveUp(ctx, err)
}

// gaveUp returns err wrapped in ErrUnavailable when it is the error of
// ctx, which ended before the verification ran, and nil otherwise.
func gaveUp(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// attemptGate consults an AttemptLimiter, when there is one, for one
// attempt of name from ip. Its refusals are *attemptsError.
//
// Every attempt is counted under the name as typed, found or not, so that
// the limiter answers alike whether a user exists (found in review: a
// found user counted only under its Subject answered 401 where an unknown
// name answered 429). A found user whose identity has another Subject is
// counted under that Subject too: a store that matches names loosely (a
// case- or accent-insensitive SQL collation), or that knows a user under
// several names, then gives all of them one budget.
type attemptGate struct {
	limiter AttemptLimiter
	name    string
	subject string // of the found user, when it is not name
	ip      netip.Addr
}

// canonical adds the Subject of u's identity, when the store sets one, to
// the names the gate counts under, unless the limiter counts it as the
// name itself (see usernameFolder).
func (g *attemptGate) canonical(u User) {
	s := u.Identity.Subject
	if s == "" || s == g.name {
		return
	}
	if f, ok := g.limiter.(usernameFolder); ok && f.Username(s) == f.Username(g.name) {
		return
	}
	g.subject = s
}

// usernameFolder is implemented by an AttemptLimiter that counts user
// names in a folded form, as ratelimit.AttemptLimiter does (case-folded,
// without trailing spaces, by default): a Subject that folds to the name
// as typed is then not counted twice.
type usernameFolder interface {
	Username(name string) string
}

// each calls f with every name the gate counts under, stopping at the
// first error.
func (g attemptGate) each(f func(name string) (time.Duration, error)) error {
	for _, name := range [2]string{g.name, g.subject} {
		if name == "" {
			continue
		}
		if wait, err := f(name); err != nil {
			// A store that could not answer is no refusal: wrapping
			// ErrUnavailable or marked as ratelimit.ErrStore is (found in
			// review: it was answered 429 with Retry-After: 1, as if the
			// user had made too many attempts).
			if storefail.Is(err) {
				return storeUnavailable(err)
			}
			return &attemptsError{wait: wait, cause: err}
		}
	}
	return nil
}

// reserve is called before every verification: for each name it admits
// the attempt and counts it as a failure, atomically, or refuses it. (A
// refusal under the Subject leaves the attempt counted under the name:
// the safe side.)
func (g attemptGate) reserve(ctx context.Context) error {
	if g.limiter == nil {
		return nil
	}
	return g.each(func(name string) (time.Duration, error) { return g.limiter.Reserve(ctx, name, g.ip) })
}

// check is called where credentials are accepted or refused without a
// verification: it refuses a locked pair and counts nothing.
func (g attemptGate) check(ctx context.Context) error {
	if g.limiter == nil {
		return nil
	}
	return g.each(func(name string) (time.Duration, error) { return g.limiter.Check(ctx, name, g.ip) })
}

// success clears the pairs after a verification that succeeded. The
// limiter's error is ignored: the verification stands, and the pair stays
// counted one failure more than it should, which is the safe side.
func (g attemptGate) success(ctx context.Context) {
	if g.limiter != nil {
		_ = g.each(func(name string) (time.Duration, error) {
			_ = g.limiter.RecordSuccess(ctx, name, g.ip)
			return 0, nil
		})
	}
}

// check looks name up and verifies pw. Exactly one verification runs on
// every path that reaches the store and answers, except when the stored
// hash is refused before any work (malformed, beyond the limits) or the
// password is too long for it: then the dummy is verified too, so that the
// fast failure does not reveal that the user exists.
//
// gate reserves the attempt after the lookup and before any verification,
// known or unknown user alike, so that a locked pair is refused without
// hashing and a user-store failure costs the pair nothing; an empty
// password, refused without a verification, is only checked against it,
// after the lookup too. A refusal is returned as is (an *attemptsError).
// The caller calls gate.success when check succeeds.
//
// A user the store finds is counted under the name as typed and, when its
// identity has another Subject, under that Subject too (see attemptGate);
// check adds the Subject to gate, for gate.success.
//
// It returns the user's identity options, the stored hash that verified and
// whether it needs rehashing.
func (c *passwordChecker) check(ctx context.Context, users UserStore, name, pw string, gate *attemptGate) (opts identity.Options, stored string, rehash bool, err error) {
	u, found, err := users.LookupUser(ctx, name)
	if err != nil {
		return identity.Options{}, "", false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if found {
		gate.canonical(u)
	}
	if pw == "" {
		if err := gate.check(ctx); err != nil {
			return identity.Options{}, "", false, err
		}
		return identity.Options{}, "", false, errEmptyPassword
	}
	if err := gate.reserve(ctx); err != nil {
		return identity.Options{}, "", false, err
	}
	if !found {
		if err := c.verifyDummy(ctx, pw); err != nil {
			return identity.Options{}, "", false, err
		}
		return identity.Options{}, "", false, errUnknownUser
	}
	ok, rehash, err := c.verify(ctx, pw, u.Hash)
	if err != nil {
		if err := gaveUp(ctx, err); err != nil {
			return identity.Options{}, "", false, err
		}
		if err := c.verifyDummy(ctx, pw); err != nil {
			return identity.Options{}, "", false, err
		}
		return identity.Options{}, "", false, fmt.Errorf("%w: %w", ErrInvalidCredentials, err)
	}
	if !ok {
		return identity.Options{}, "", false, errWrongPassword
	}
	opts = u.Identity
	if opts.Subject == "" {
		// A copy: name may share the decoded "user:password" (ParseBasic),
		// which would keep the password alive with the identity.
		opts.Subject = strings.Clone(name)
	}
	opts.Method = ""
	return opts, u.Hash, rehash, nil
}

var defaultChecker = sync.OnceValues(func() (*passwordChecker, error) {
	return newPasswordChecker(password.Default)
})

// CheckPassword looks up the user name in users and verifies password
// against the stored hash with [password.Default]. It is the building
// block of [Basic] and of the token endpoint's password grant.
//
// On success it returns the user's identity options with Subject
// defaulting to name and Method left empty: the caller sets the method it
// authenticated with (identity.MethodBasic, identity.MethodBearer, ...)
// and passes the options to [identity.New]. The slices and maps of the
// options may be shared with the store and must not be modified.
//
// An unknown user costs the same hashing work as a known user with a wrong
// password (a verification against a dummy hash), so the response time does
// not reveal which user names exist. Both return an error wrapping
// [ErrInvalidCredentials]; so does an empty password, refused without a
// verification (after the lookup, so that a store failure is still reported
// as one), a name that is not UTF-8 or has a control character or U+FFFD,
// refused before the lookup as Basic and the token endpoint refuse it (see
// [UserStore]), and a stored hash that [password.Verify] refuses (the error
// then also wraps the password package's reason, for the log). A store
// failure returns an error wrapping [ErrUnavailable] and the store's error;
// so does a ctx that ends while the verification waits for its turn to hash
// (see [ContextVerifier]): the error then wraps ctx.Err(), known user or not,
// and nothing is hashed.
//
// CheckPassword does not limit attempts; callers combine it with an
// [AttemptLimiter]: Reserve before calling it (refusing the request when
// Reserve does), RecordSuccess when it succeeds, nothing more when it
// fails. The caller reserves under the name as typed; with a [UserStore]
// that matches names loosely, normalize the name the same way first (or
// use ratelimit.AttemptOptions.Username): Basic and the token endpoint
// count a found user under its Subject as well. An empty password is refused
// before any verification and needs only a Check. It is safe for
// concurrent use. Its first call hashes the dummy password once.
func CheckPassword(ctx context.Context, users UserStore, name, password string) (identity.Options, error) {
	if users == nil {
		return identity.Options{}, fmt.Errorf("%w: nil UserStore", ErrUnavailable)
	}
	// Found in review: any name reached the store, where Basic and the
	// token endpoint refuse these; a store that ends names at a NUL found
	// "alice\x00" + anything as alice, each spelling with a failure budget
	// of its own at a caller's limiter, and the Subject was the spelling.
	if !cleanName(name) {
		return identity.Options{}, errUserName
	}
	c, err := defaultChecker()
	if err != nil {
		return identity.Options{}, errors.Join(ErrUnavailable, err)
	}
	opts, _, _, err := c.check(ctx, users, name, password, &attemptGate{})
	return opts, err
}

// authenticated wraps next so that it runs only for requests authenticate
// accepts, with the identity in their context; the others go to reject.
// It is the Handler of every authenticator in this package. private marks
// the responses Cache-Control: private (see serveAs), for a credential
// that a shared cache does not know for one.
func authenticated(next http.Handler, authenticate func(*http.Request) (identity.Identity, error),
	reject func(http.ResponseWriter, *http.Request, error), private bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := authenticate(r)
		if err != nil {
			reject(w, r, err)
			return
		}
		serveAs(w, r, next, id, private)
	})
}

// optional is the Optional of an authenticator: a request that carries
// its credential (carries) is authenticated and rejected as by Handler,
// and refused when an earlier layer authenticated another subject
// (ambiguous); one without reaches next unchanged. private is as for
// authenticated.
func optional(next http.Handler, carries func(*http.Request) bool,
	authenticate func(*http.Request) (identity.Identity, error),
	reject func(http.ResponseWriter, *http.Request, error), private bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !carries(r) {
			next.ServeHTTP(w, r)
			return
		}
		id, err := authenticate(r)
		if err == nil && !samePrincipal(r, id) {
			err = ErrAmbiguousCredentials
		}
		if err != nil {
			reject(w, r, err)
			return
		}
		serveAs(w, r, next, id, private)
	})
}

// samePrincipal reports whether id, just authenticated, may replace the
// identity a layer further out put in r's context: there is none (or one
// without a subject), or it has id's subject. The later credential's
// identity then applies, with its method and scopes (a token narrower
// than its user's session). Another subject is a second principal, of
// which none may silently win.
func samePrincipal(r *http.Request, id identity.Identity) bool {
	prev, ok := identity.FromRequest(r)
	return !ok || prev.Subject() == "" || prev.Subject() == id.Subject()
}

// hasScheme reports whether the Authorization value v is of scheme
// (lower-case), as parseBearer tells a Bearer credential: the scheme in
// any case, alone or followed by a space. "Basicx ..." is another scheme.
func hasScheme(v, scheme string) bool {
	n := len(scheme)
	return len(v) >= n && httptoken.EqualFold(v[:n], scheme) && (len(v) == n || v[n] == ' ')
}
