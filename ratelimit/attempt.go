package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/casefold"
	"github.com/httpguard/httpguard/internal/toomany"
)

// Errors returned by [AttemptLimiter.Check] and [AttemptLimiter.Reserve].
var (
	// ErrLocked means too many failed attempts were made for this user
	// name from this network: every attempt for the pair, right password
	// included, is refused until the lockout ends.
	ErrLocked = error(toomany.Error("ratelimit: too many failed attempts from this address"))
	// ErrUserLocked means too many failed attempts were made for this user
	// name from every network together. Attempts from networks where the
	// user recently logged in are still admitted (see
	// [AttemptOptions.DisableKnownNetworks]).
	ErrUserLocked = error(toomany.Error("ratelimit: too many failed attempts for this user"))
)

// Defaults of [AttemptOptions].
const (
	DefaultMaxFailures      = 10
	DefaultLockout          = 15 * time.Minute
	DefaultMaxUserFailures  = 100
	DefaultUserLockout      = 36 * time.Second // 100 an hour, sustained
	DefaultKnownNetworkTTL  = 30 * 24 * time.Hour
	DefaultMaxKnownNetworks = 10
	defaultAttemptNamespace = "login"
)

// AttemptOptions configures an [AttemptLimiter]. The zero AttemptOptions is
// the recommended default. Mutating it after [NewAttemptLimiter] has no
// effect.
type AttemptOptions struct {
	// Name prefixes the limiter's keys in its store, 1 to 32 ASCII letters,
	// digits, "-", "_" or ".". Default: "login".
	Name string

	// Store keeps the counts. Default: three new [MemoryStore] values, private
	// to this limiter, one for each kind of key, so that a flood of one
	// kind cannot evict another: an attacker spreading guesses over many
	// networks fills the first with per-network counts, and the per-user
	// count that stops that spreading is never dropped to make room for
	// them. The pairs (user name and network) and the user names get
	// [DefaultMaxKeys] keys each (up to about 6 MB each); the known
	// networks, which must last KnownNetworkTTL rather than hours, get
	// twice as many (about 12 MB), and their store never evicts a live
	// entry (see "Known networks" on [AttemptLimiter]). A MemoryStore
	// given here keeps the pairs, and two companions sized from its
	// bound in the same way, shared by every limiter given it, keep the
	// rest. Use a shared store (ratelimit/redisstore) when several
	// processes check the same users, or each one grants its own budget;
	// give its Redis a maxmemory-policy that does not evict keys
	// (noeviction), or an attacker can evict the per-user counts and the
	// known networks the same way. The limiter fails closed only with a
	// store that reports its failures: one that fails open (redisstore's
	// FailOpen) admits every attempt, uncounted, while it cannot count.
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

	// MaxUserFailures is the number of attempts for one user name, from
	// all networks where the user has not logged in recently together,
	// after which attempts for it are refused from those networks. Every
	// reserved attempt counts (see [AttemptLimiter.Reserve]); a success
	// does not take it back, but it makes its network known, whose
	// attempts no longer count. It is
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
	// MaxKnownNetworks bounds how fast one user name makes networks
	// known: MaxKnownNetworks new networks at once, then one more every
	// KnownNetworkTTL / MaxKnownNetworks (3 days with the defaults), so
	// at most twice MaxKnownNetworks in any KnownNetworkTTL. A success
	// from a new network beyond that budget is not remembered (the
	// network is treated as a new device); a success from a network
	// already known renews it without using the budget. It keeps one
	// account, or a handful, from filling the store of known networks
	// (see "Known networks" on [AttemptLimiter]). Default:
	// [DefaultMaxKnownNetworks].
	MaxKnownNetworks int
	// DisableKnownNetworks turns the exemption off: a per-user lockout
	// then refuses the real user everywhere too, for as long as an
	// attacker keeps failing. Networks with a recent success are still
	// remembered, so that their attempts do not count toward
	// MaxUserFailures: a user who logs in often is not locked by their
	// own successes. Default: false.
	DisableKnownNetworks bool

	// IPv4Prefix and IPv6Prefix group addresses into networks as in
	// [Options]. Default: 32 and 64.
	IPv4Prefix int
	IPv6Prefix int

	// Username maps a user name to the form counted, so that variants the
	// user store treats as one account are counted as one. Default:
	// case-folded without trailing spaces, the two variants SQL collations
	// most often fold ("Alice " is "alice" under PAD SPACE). The folding
	// is Unicode's, not only ASCII's: every name strings.EqualFold takes
	// for another ("ſam" for "sam", the Kelvin sign for "k") is counted
	// with it, and so are "ı" and "İ" with "i". Set it to the store's own
	// folding when that does more (accents, width, ignorable characters
	// such as U+200B ZERO WIDTH SPACE, leading spaces). Counting variants
	// together only locks earlier as long as the store keeps them as one
	// account. Two accounts whose names have one form share one count,
	// and a success for either clears the failures of both: whoever holds
	// "bob" could guess "Bob"'s password without ever being locked out.
	// Refuse such names when accounts are created, or set Username to the
	// store's exact matching.
	Username func(string) string
}

// AttemptLimiter counts failed credential checks per (user name, network)
// and per user name, so that a password-guessing storm is refused while the
// real user keeps working. It implements the attempt-limiter contract of
// package auth without importing it: [AttemptLimiter.Reserve] before every
// password verification, [AttemptLimiter.RecordSuccess] after a verified
// one, and [AttemptLimiter.Check] where credentials are accepted without a
// verification (a cache of verified passwords).
//
// Both counts use the generic cell rate algorithm: MaxFailures attempts
// are admitted at once, then one more every Lockout. Reserve counts an
// attempt as a failure before the password is verified, in one atomic
// step per key, and a success clears the pair, so what the pair counts is
// the failures in a row since its last success. A success leaves the
// per-user count as it is, so an attacker cannot reset it by logging into
// their own account from the same network.
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
// network (the same /64 or IPv4 address) gets the per-pair budget only,
// and its failures do not count toward the per-user cap, so it cannot
// lock the user out of other networks either. It can lock the user out
// of that one, since a locked pair refuses the right password too
// ([ErrLocked]), for one failure every Lockout: behind a carrier-grade
// NAT, where thousands of subscribers share an IPv4 address, anyone
// knowing a user name can keep that user out of the address.
//
// # Known networks
//
// Only a success records a known network, so only someone holding valid
// credentials adds entries, and each user name adds them at the pace
// [AttemptOptions.MaxKnownNetworks] allows. The default store of known
// networks (and the companion of a MemoryStore given in the options)
// never evicts a live entry: when it is full, a success from a new
// network is not remembered, but no known network is forgotten before
// its KnownNetworkTTL. (Found in review: that store evicted the oldest
// success, so an attacker logging into ordinary accounts from a few
// hundred thousand fresh IPv6 /64s, cheap from one /48, pushed the
// victim's home network out, then locked the victim out everywhere with
// a distributed guessing storm.) An attacker can still fill the store:
// with the defaults it takes close to 10 000 accounts logging in from
// fresh networks (2 × MaxKeys entries, each account adding at most
// 2 × MaxKnownNetworks networks and one budget entry per
// KnownNetworkTTL), or fewer accounts over several KnownNetworkTTLs,
// each of their networks renewed by a success at least once per
// KnownNetworkTTL. While it stays full no new network becomes known for
// anyone, so new devices are counted toward the per-user cap as with
// DisableKnownNetworks; networks already known stay exempt. A service
// with more user-network pairs in KnownNetworkTTL than the store holds
// is in that state without an attacker: give it a MemoryStore with a
// larger MaxKeys. A shared store holds the same keys: a Redis with
// maxmemory-policy noeviction never drops a known network, one that
// evicts under memory pressure (allkeys-lru, volatile-lru) can drop it
// like any other key.
//
// # Concurrent attempts
//
// Reserve reads the per-user count, unless the network is known, and
// refuses a locked user name without counting anything. It then takes
// the pair's count: of any number of concurrent reservations for one
// pair, at most MaxFailures are admitted (fewer when the pair has failed
// before), whatever the store, since each [Store] call is atomic for its
// key. It then takes the per-user count, unless the network is known.
// Nothing is counted when the pair refuses. Only when concurrent attempts
// use the user name's last attempts between the read and the take does
// the per-user cap refuse an attempt its pair has counted, as a failure.
// Attempts that are refused cost the store one round trip per key and no
// password verification.
//
// [AttemptLimiter.RecordFailure] is the older, two-step protocol (Check,
// verify, then record): attempts that pass Check before any failure is
// recorded are all admitted. Use Reserve.
//
// Build it with [NewAttemptLimiter]; the zero AttemptLimiter, and a nil
// *AttemptLimiter, refuse every attempt with [ErrNotConfigured]. It is
// safe for concurrent use.
type AttemptLimiter struct {
	name     string
	store    Store // of the pairs (user name, network); nil in the zero AttemptLimiter
	users    Store // of the user names
	networks Store // of the known networks
	pair     Quota
	user     Quota
	known    Quota
	budget   Quota // of new known networks, per user name
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
	maxKnown := def(o.MaxKnownNetworks, DefaultMaxKnownNetworks)
	if maxKnown > 0 {
		a.budget = Quota{Interval: a.known.Interval / time.Duration(maxKnown), Burst: maxKnown}
	}
	if !a.pair.valid() {
		bad("MaxFailures %d and Lockout %v: both must be positive, their product at most 100 years", o.MaxFailures, o.Lockout)
	}
	if !a.user.valid() {
		bad("MaxUserFailures %d and UserLockout %v: both must be positive, their product at most 100 years", o.MaxUserFailures, o.UserLockout)
	}
	if !a.known.valid() {
		bad("KnownNetworkTTL: %v must be positive and at most 100 years", o.KnownNetworkTTL)
	} else if !a.budget.valid() {
		bad("MaxKnownNetworks: %d must be positive and at most KnownNetworkTTL in microseconds", o.MaxKnownNetworks)
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
	a.setStores(o.Store, 0)
	if a.norm == nil {
		a.norm = defaultUsername
	}
	return a, nil
}

var errAttemptNotConfigured = fmt.Errorf("%w (AttemptLimiter)", ErrNotConfigured)

// Username returns the form under which a's counts know username:
// [AttemptOptions.Username] applied to it. Two names with the same form
// share their counts. (auth counts a user under the name as typed and
// under its identity's Subject; it uses Username to count a Subject that
// folds to the name once, not twice.)
func (a *AttemptLimiter) Username(username string) string {
	if a == nil || a.norm == nil {
		return defaultUsername(username)
	}
	return a.norm(username)
}

// keys returns the stored keys of the pair, the user and the known network.
// The user's hash is a Redis Cluster hash tag, so all of one user's keys
// live in one slot.
func (a *AttemptLimiter) keys(username string, ip netip.Addr) (pair, user, known string) {
	uh := userTag(a.norm(username))
	netw := string(appendAddr(nil, ip, a.v4, a.v6))
	return a.name + ":pair:" + uh + ":" + netw, a.name + ":user:" + uh, a.name + ":known:" + uh + ":" + netw
}

// budgetKey returns the stored key of the user's budget of new known
// networks.
func (a *AttemptLimiter) budgetKey(username string) string {
	return a.name + ":newnets:" + userTag(a.norm(username))
}

// userTag returns the hash of a normalized user name, as a Redis Cluster
// hash tag.
func userTag(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "{" + hex.EncodeToString(sum[:16]) + "}"
}

// Check reports whether an attempt for username from ip may be made now.
// When it may not, it returns an error wrapping [ErrLocked] or
// [ErrUserLocked] and how long to wait until neither lock refuses it. A
// store failure returns an error wrapping [ErrStore] and a retry of one
// second: the attempt is refused (fail closed). Check counts nothing: use
// it where credentials are accepted without a password verification;
// before a verification, use [AttemptLimiter.Reserve].
func (a *AttemptLimiter) Check(ctx context.Context, username string, ip netip.Addr) (time.Duration, error) {
	if a == nil || a.store == nil {
		return time.Second, errAttemptNotConfigured
	}
	pairKey, userKey, knownKey := a.keys(username, ip)
	pair, err := a.store.Peek(ctx, pairKey, a.pair, 1)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if !pair.Allowed {
		// The wait covers the user name's lock too, read as below but
		// without failing on the store: the attempt is refused anyway
		// (found in review: a client told the pair's 10 seconds was
		// then refused for the user name's hour).
		retry := pair.RetryAfter
		if w, err := a.userWait(ctx, userKey, knownKey); err == nil {
			retry = max(retry, w)
		}
		return retry, ErrLocked
	}
	w, err := a.userWait(ctx, userKey, knownKey)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if w > 0 {
		return w, ErrUserLocked
	}
	return 0, nil
}

// userWait returns how long an attempt for the user name of userKey, from
// the network of knownKey, waits for the per-user cap: 0 when the user
// name is not locked, or when it is but the network is known and exempt.
func (a *AttemptLimiter) userWait(ctx context.Context, userKey, knownKey string) (time.Duration, error) {
	res, err := a.users.Peek(ctx, userKey, a.user, 1)
	if err != nil || res.Allowed {
		return 0, err
	}
	if a.useKnown {
		// A known network holds an entry that a Take would refuse.
		k, err := a.networks.Peek(ctx, knownKey, a.known, 1)
		if err != nil {
			return 0, err
		}
		if !k.Allowed {
			return 0, nil
		}
	}
	return res.RetryAfter, nil
}

// Reserve decides whether an attempt for username from ip may verify a
// password now and, when it may, counts it as a failure in the same
// atomic step, before the verification: concurrent reservations beyond
// the budget are refused, so a burst of simultaneous guesses gets no more
// verifications than a sequence would. Call [AttemptLimiter.RecordSuccess]
// when the password verifies; a failed verification needs no further call.
//
// A refusal returns an error wrapping [ErrLocked] (the pair has used its
// MaxFailures) or [ErrUserLocked] (the user name has used its
// MaxUserFailures and the network is not known), and how long to wait:
// until both the pair and the user name admit one more attempt (after an
// ErrUserLocked that used the pair's last failure, too). A store failure
// returns an error wrapping [ErrStore] and a retry of one second: the
// attempt is refused (fail closed).
//
// A handler of its own (a login form) answers a refusal 429 with
// Retry-After, the wait rounded up to whole seconds, as auth's Basic and
// token endpoint do; an ErrStore 503. In an errorsafe.HandlerFunc, set
// Retry-After and return the error: errorsafe answers ErrLocked and
// ErrUserLocked (as ErrLimited) with 429, and ErrStore with 503.
//
// Reserve looks at up to three keys: whether the network is known (a
// read), the user name (a read: a locked one is refused before anything
// is counted, with a read of the pair for the wait), the pair (a Take:
// when it refuses, nothing is counted)
// and, from a network that is not known, the user name again (a Take;
// see "Concurrent attempts" on [AttemptLimiter]). From a known network
// the per-user count is neither taken nor, unless
// [AttemptOptions.DisableKnownNetworks] is set, read. With a Redis store
// that is up to four round trips.
func (a *AttemptLimiter) Reserve(ctx context.Context, username string, ip netip.Addr) (time.Duration, error) {
	if a == nil || a.store == nil {
		return time.Second, errAttemptNotConfigured
	}
	pairKey, userKey, knownKey := a.keys(username, ip)
	k, err := a.networks.Peek(ctx, knownKey, a.known, 1)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	known := !k.Allowed // a known network holds an entry that a Take would refuse
	if !known || !a.useKnown {
		// A user name already locked is refused before the pair is
		// counted, as package auth's contract has it (found in review:
		// the pair was taken first, and the real user trying from a
		// new device during an attack locked her own pair).
		res, err := a.users.Peek(ctx, userKey, a.user, 1)
		if err != nil {
			return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
		}
		if !res.Allowed {
			// The wait covers the pair's lock too, read without
			// counting and without failing on the store: the attempt
			// is refused anyway (found in review: a client told the
			// user name's 36 seconds was then refused by its pair for
			// 14 minutes).
			retry := res.RetryAfter
			if p, err := a.store.Peek(ctx, pairKey, a.pair, 1); err == nil && !p.Allowed {
				retry = max(retry, p.RetryAfter)
			}
			return retry, ErrUserLocked
		}
	}
	pair, err := a.store.Take(ctx, pairKey, a.pair, 1)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if !pair.Allowed {
		return pair.RetryAfter, ErrLocked
	}
	if known {
		return 0, nil
	}
	res, err := a.users.Take(ctx, userKey, a.user, 1)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if !res.Allowed {
		retry := res.RetryAfter
		if pair.Remaining == 0 {
			// The pair counted this attempt and has none left: the
			// next one waits for the pair too, until one interval of
			// its debt has passed (found in review: the user's wait
			// alone was returned, and a retry after it was locked).
			retry = max(retry, a.pair.waitAfter(pair.ResetAfter, 1))
		}
		return retry, ErrUserLocked
	}
	return 0, nil
}

// RecordFailure counts a failed attempt for username from ip, for the pair
// and, unless the network is known, for the user, as a reservation does.
// It belongs to the two-step protocol, Check then RecordFailure after the
// verification, which admits concurrent attempts beyond the budget (see
// "Concurrent attempts" on [AttemptLimiter]); it is not part of package
// auth's contract. Never call it after [AttemptLimiter.Reserve]: the
// reservation already counted the failure, and it would be counted twice.
func (a *AttemptLimiter) RecordFailure(ctx context.Context, username string, ip netip.Addr) error {
	if a == nil || a.store == nil {
		return errAttemptNotConfigured
	}
	pairKey, userKey, knownKey := a.keys(username, ip)
	_, err1 := a.store.Take(ctx, pairKey, a.pair, 1)
	// A known network holds an entry that a Take would refuse. Found in
	// review: the user was counted from a known network too, so an
	// attacker sharing it locked the user out of every other network.
	k, err2 := a.networks.Peek(ctx, knownKey, a.known, 1)
	var err3 error
	if err2 != nil || k.Allowed {
		_, err3 = a.users.Take(ctx, userKey, a.user, 1)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}

// RecordSuccess clears the failures of (username, ip), the reservation of
// the attempt that succeeded included, so the pair is back to its full
// MaxFailures; and it marks the network as one where the user logs in, for
// KnownNetworkTTL from now. A known network is exempt from the per-user
// cap unless [AttemptOptions.DisableKnownNetworks] is set, and its
// reservations never count toward the per-user cap, so a user who logs in
// often is not locked by their own successes. The per-user count is left
// as it is: the reservation of a first success from a new network stays
// counted there, as one attempt.
//
// A network not yet known uses one of the user's
// [AttemptOptions.MaxKnownNetworks]; beyond them, or when the store of
// known networks is full (see "Known networks" on [AttemptLimiter]), it
// is not remembered, and RecordSuccess still returns nil. A known network
// is renewed without using any. With a Redis store that is four round
// trips.
func (a *AttemptLimiter) RecordSuccess(ctx context.Context, username string, ip netip.Addr) error {
	if a == nil || a.store == nil {
		return errAttemptNotConfigured
	}
	pairKey, _, knownKey := a.keys(username, ip)
	if err := a.recordSuccess(ctx, username, pairKey, knownKey); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}

func (a *AttemptLimiter) recordSuccess(ctx context.Context, username, pairKey, knownKey string) error {
	if err := a.store.Reset(ctx, pairKey); err != nil {
		return err
	}
	k, err := a.networks.Peek(ctx, knownKey, a.known, 1)
	if err != nil {
		return err
	}
	if k.Allowed {
		// A new network: it takes one of the user's budget, so that
		// one account cannot fill the store (found in review).
		b, err := a.networks.Take(ctx, a.budgetKey(username), a.budget, 1)
		if err != nil || !b.Allowed {
			return err
		}
	} else if ms, ok := a.networks.(*MemoryStore); ok {
		// Known: it stays known for KnownNetworkTTL after the latest
		// success, renewed in place.
		ms.renew(knownKey, a.known)
		return nil
	} else if err := a.networks.Reset(ctx, knownKey); err != nil {
		// Known, in another Store: forget the previous mark and take a
		// new one.
		return err
	}
	_, err = a.networks.Take(ctx, knownKey, a.known, 1)
	return err
}

// setStores sets the stores of a. A Store other than a MemoryStore serves
// every kind of key. Otherwise each kind gets a MemoryStore of its own, so
// that no kind can evict another (found in review: a MemoryStore passed
// in, the natural way to set MaxKeys, brought back the eviction of
// per-user counts). A MemoryStore passed in keeps the pairs, and its two
// companions, made once with its clock and sized from its bound, keep the
// rest: every limiter given that store shares all three, as it shared the
// one before. Without a store, the three are new, sized from maxKeys (0:
// the default). The store of known networks is made by newKnownStore.
func (a *AttemptLimiter) setStores(s Store, maxKeys int) {
	ms, isMem := s.(*MemoryStore)
	if s != nil && !isMem {
		a.store, a.users, a.networks = s, s, s
		return
	}
	if ms != nil {
		c := ms.attemptCompanions()
		a.store, a.users, a.networks = ms, c[0], c[1]
		return
	}
	if maxKeys == 0 {
		maxKeys = DefaultMaxKeys
	}
	a.store, a.users, a.networks = newMemoryStoreOf(maxKeys), newMemoryStoreOf(maxKeys), newKnownStore(maxKeys)
}

// newKnownStore returns the store of an AttemptLimiter's known networks
// next to stores of maxKeys keys: twice as many keys, since its entries
// last KnownNetworkTTL and each user with one also has a budget entry,
// and no eviction of live entries, so that other users' successes cannot
// push a user's known networks out (found in review).
func newKnownStore(maxKeys int) *MemoryStore {
	if maxKeys <= math.MaxInt/2 {
		maxKeys *= 2
	}
	s := newMemoryStoreOf(maxKeys)
	s.keep = true
	return s
}

// attemptCompanions returns the two stores that keep an AttemptLimiter's
// user names and known networks next to s, made on first use with s's
// clock: the first of s's bound, the second by newKnownStore.
func (s *MemoryStore) attemptCompanions() [2]*MemoryStore {
	s.init()
	s.companionsOnce.Do(func() {
		s.companions = [2]*MemoryStore{newMemoryStoreOf(s.maxKeys), newKnownStore(s.maxKeys)}
		for _, c := range s.companions {
			c.now, c.start = s.now, s.start // the same clock, injected in tests
		}
	})
	return s.companions
}

// defaultUsername is the default [AttemptOptions.Username]: case-folded,
// without trailing spaces. (Found in review: with a store that ignores
// trailing spaces, "alice " was counted apart from "alice", and whether it
// was locked after alice's budget was spent told that alice existed.)
//
// Each rune is mapped by casefold.Rune, as rbac folds paths, to the lower
// case of its upper case (the least one among the runes EqualFold takes
// for it), which is the same for all the runes
// strings.EqualFold takes for one another: "ſ" (U+017F) and "S" give "s",
// the Kelvin sign "k", final sigma "σ". strings.ToLower alone left "ſam"
// apart from "sam", which a case-insensitive store finds as one account
// (found in review). It also gives "i" for "ı" and "İ", as collations that
// compare upper case do.
func defaultUsername(s string) string {
	s = strings.TrimRight(s, " ")
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Map(casefold.Rune, s)
		}
	}
	return strings.ToLower(s)
}
