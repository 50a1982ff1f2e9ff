package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Errors returned by [AttemptLimiter.Check].
var (
	// ErrLocked means too many failed attempts were made for this user
	// name from this network: every attempt for the pair, right password
	// included, is refused until the lockout ends.
	ErrLocked = errors.New("ratelimit: too many failed attempts from this address")
	// ErrUserLocked means too many failed attempts were made for this user
	// name from every network together. Attempts from networks where the
	// user recently logged in are still admitted (see
	// [AttemptOptions.DisableKnownNetworks]).
	ErrUserLocked = errors.New("ratelimit: too many failed attempts for this user")
)

// Defaults of [AttemptOptions].
const (
	DefaultMaxFailures      = 10
	DefaultLockout          = 15 * time.Minute
	DefaultMaxUserFailures  = 100
	DefaultUserLockout      = 36 * time.Second // 100 an hour, sustained
	DefaultKnownNetworkTTL  = 30 * 24 * time.Hour
	defaultAttemptNamespace = "login"
)

// AttemptOptions configures an [AttemptLimiter]. The zero AttemptOptions is
// the recommended default. Mutating it after [NewAttemptLimiter] has no
// effect.
type AttemptOptions struct {
	// Name prefixes the limiter's keys in its store, 1 to 32 ASCII letters,
	// digits, "-", "_" or ".". Default: "login".
	Name string

	// Store keeps the counts. Default: a new [MemoryStore], private to this
	// limiter. Use a shared store (ratelimit/redisstore) when several
	// processes check the same users, or each one grants its own budget.
	Store Store

	// MaxFailures is the number of failed attempts in a row for one user
	// name from one network after which every attempt for that pair is
	// refused. Default: [DefaultMaxFailures].
	MaxFailures int
	// Lockout is how long a locked pair waits for one more attempt; a pair
	// with no further failure is back to MaxFailures after MaxFailures
	// times Lockout. A success clears the pair at once. Default:
	// [DefaultLockout].
	Lockout time.Duration

	// MaxUserFailures is the number of failed attempts for one user name,
	// from all networks together, after which attempts for it are refused
	// from every network where the user has not logged in recently. It is
	// the defence against guessing distributed over many addresses.
	// Default: [DefaultMaxUserFailures].
	MaxUserFailures int
	// UserLockout is how long a locked user name waits for one more
	// attempt. Default: [DefaultUserLockout], which with the default
	// MaxUserFailures admits at most about 100 failures an hour, OWASP
	// ASVS's ceiling.
	UserLockout time.Duration

	// KnownNetworkTTL is how long a network where the user logged in
	// successfully stays exempt from the per-user lockout. Default:
	// [DefaultKnownNetworkTTL].
	KnownNetworkTTL time.Duration
	// DisableKnownNetworks turns the exemption off: a per-user lockout
	// then refuses the real user everywhere too, for as long as an
	// attacker keeps failing. Default: false.
	DisableKnownNetworks bool

	// IPv4Prefix and IPv6Prefix group addresses into networks as in
	// [Options]. Default: 32 and 64.
	IPv4Prefix int
	IPv6Prefix int

	// Username maps a user name to the form counted, so that variants the
	// user store treats as one account are counted as one. Default:
	// [strings.ToLower]. Counting variants together is safe: it can only
	// lock earlier.
	Username func(string) string
}

// AttemptLimiter counts failed credential checks per (user name, network)
// and per user name, so that a password-guessing storm is refused while the
// real user keeps working. It implements the attempt-limiter contract of
// package auth (Check before verifying a password, RecordFailure or
// RecordSuccess after) without importing it.
//
// Both counts use the generic cell rate algorithm: MaxFailures failures are
// admitted at once, then one more every Lockout. A success clears the
// pair's count but not the user's, so an attacker cannot reset the per-user
// count by logging into their own account from the same network.
//
// # The per-user trade-off
//
// A per-user cap stops an attacker who spreads guesses over many addresses,
// but it is also a way to lock a user out: whoever keeps failing for that
// name keeps it locked. AttemptLimiter limits the damage: a network where
// the user logged in successfully in the last KnownNetworkTTL is exempt
// from the per-user cap (still subject to the per-pair one), so the real
// user at home or at the office keeps working during an attack, while a
// new device waits for the attack to stop. An attacker sharing that
// network (the same /64 or IPv4 address) gets the per-pair budget only.
//
// # Concurrent attempts
//
// Check only reads the counts, and a failure is counted when
// RecordFailure is called after the password check. Attempts that pass
// Check before any of them is recorded are all admitted: a client that
// sends many guesses for one user name at once, each held for the time
// a password hash takes, gets more than MaxFailures of them checked
// before the lock applies. Put a per-address rate limit ([Middleware]
// with [ByIP]) or a [ConcurrencyLimiter] on the login route as well.
//
// Build it with [NewAttemptLimiter]; the zero AttemptLimiter refuses every
// attempt with [ErrNotConfigured]. It is safe for concurrent use.
type AttemptLimiter struct {
	name     string
	store    Store
	pair     Quota
	user     Quota
	known    Quota
	useKnown bool
	v4, v6   int
	norm     func(string) string
}

// NewAttemptLimiter validates o and returns an AttemptLimiter.
func NewAttemptLimiter(o AttemptOptions) (*AttemptLimiter, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrOption, fmt.Sprintf(format, args...)))
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	defDur := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	a := &AttemptLimiter{
		name:     o.Name,
		store:    o.Store,
		useKnown: !o.DisableKnownNetworks,
		v4:       def(o.IPv4Prefix, 32),
		v6:       def(o.IPv6Prefix, 64),
		norm:     o.Username,
	}
	if a.name == "" {
		a.name = defaultAttemptNamespace
	}
	if len(a.name) > maxName || !validName(a.name) {
		bad("Name: %q must be 1 to %d ASCII letters, digits, '-', '_' or '.'", o.Name, maxName)
	}
	a.pair = Quota{Interval: defDur(o.Lockout, DefaultLockout), Burst: def(o.MaxFailures, DefaultMaxFailures)}
	a.user = Quota{Interval: defDur(o.UserLockout, DefaultUserLockout), Burst: def(o.MaxUserFailures, DefaultMaxUserFailures)}
	a.known = Quota{Interval: defDur(o.KnownNetworkTTL, DefaultKnownNetworkTTL), Burst: 1}
	if !a.pair.valid() {
		bad("MaxFailures %d and Lockout %v: both must be positive, their product at most 100 years", o.MaxFailures, o.Lockout)
	}
	if !a.user.valid() {
		bad("MaxUserFailures %d and UserLockout %v: both must be positive, their product at most 100 years", o.MaxUserFailures, o.UserLockout)
	}
	if !a.known.valid() {
		bad("KnownNetworkTTL: %v must be positive and at most 100 years", o.KnownNetworkTTL)
	}
	if a.v4 < 8 || a.v4 > 32 {
		bad("IPv4Prefix: %d is not between 8 and 32", o.IPv4Prefix)
	}
	if a.v6 < 24 || a.v6 > 128 {
		bad("IPv6Prefix: %d is not between 24 and 128", o.IPv6Prefix)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	a.store = storeOrDefault(a.store)
	if a.norm == nil {
		a.norm = strings.ToLower
	}
	return a, nil
}

var errAttemptNotConfigured = fmt.Errorf("%w (AttemptLimiter)", ErrNotConfigured)

// keys returns the stored keys of the pair, the user and the known network.
// The user's hash is a Redis Cluster hash tag, so all of one user's keys
// live in one slot.
func (a *AttemptLimiter) keys(username string, ip netip.Addr) (pair, user, known string) {
	sum := sha256.Sum256([]byte(a.norm(username)))
	uh := "{" + hex.EncodeToString(sum[:16]) + "}"
	netw := string(appendAddr(nil, ip, a.v4, a.v6))
	return a.name + ":pair:" + uh + ":" + netw, a.name + ":user:" + uh, a.name + ":known:" + uh + ":" + netw
}

// Check reports whether an attempt for username from ip may be made now.
// When it may not, it returns an error wrapping [ErrLocked] or
// [ErrUserLocked] and how long to wait. A store failure returns an error
// wrapping [ErrStore] and a retry of one second: the attempt is refused
// (fail closed). Check changes nothing: see "Concurrent attempts" on
// [AttemptLimiter].
func (a *AttemptLimiter) Check(ctx context.Context, username string, ip netip.Addr) (time.Duration, error) {
	if a.store == nil {
		return time.Second, errAttemptNotConfigured
	}
	pairKey, userKey, knownKey := a.keys(username, ip)
	res, err := a.store.Peek(ctx, pairKey, a.pair)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if !res.Allowed {
		return res.RetryAfter, ErrLocked
	}
	res, err = a.store.Peek(ctx, userKey, a.user)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if res.Allowed {
		return 0, nil
	}
	if a.useKnown {
		// A known network holds an entry that a Take would refuse.
		k, err := a.store.Peek(ctx, knownKey, a.known)
		if err != nil {
			return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
		}
		if !k.Allowed {
			return 0, nil
		}
	}
	return res.RetryAfter, ErrUserLocked
}

// RecordFailure counts a failed attempt for username from ip, for the pair
// and for the user.
func (a *AttemptLimiter) RecordFailure(ctx context.Context, username string, ip netip.Addr) error {
	if a.store == nil {
		return errAttemptNotConfigured
	}
	pairKey, userKey, _ := a.keys(username, ip)
	_, err1 := a.store.Take(ctx, pairKey, a.pair)
	_, err2 := a.store.Take(ctx, userKey, a.user)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}

// RecordSuccess clears the failures of (username, ip) and, unless
// [AttemptOptions.DisableKnownNetworks] is set, marks the network as one
// where the user logs in, for KnownNetworkTTL from now. The per-user count
// is left as it is.
func (a *AttemptLimiter) RecordSuccess(ctx context.Context, username string, ip netip.Addr) error {
	if a.store == nil {
		return errAttemptNotConfigured
	}
	pairKey, _, knownKey := a.keys(username, ip)
	err := a.store.Reset(ctx, pairKey)
	if err == nil && a.useKnown {
		// Forget the previous mark, so the network stays known for
		// KnownNetworkTTL after the latest success.
		if err = a.store.Reset(ctx, knownKey); err == nil {
			_, err = a.store.Take(ctx, knownKey, a.known)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}
