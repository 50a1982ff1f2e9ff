package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// KeyLimiterOptions configures a [KeyLimiter]. Mutating it after
// [NewKeyLimiter] has no effect.
type KeyLimiterOptions struct {
	// Name prefixes the limiter's keys in its store, 1 to 32 ASCII
	// letters, digits, "-", "_" or ".", as [Limit.Name] does. Required:
	// limiters and limits sharing a store under one name share their
	// budgets, so each purpose needs a name of its own ("tokens" for the
	// token endpoint's issuance).
	Name string
	// Rate is the number of calls admitted per Period for each key.
	// Required.
	Rate int
	// Period is the time over which Rate calls are admitted. Required;
	// Period/Rate must be at least a microsecond.
	Period time.Duration
	// Burst is the number of calls a key may make at once after being
	// idle. Default: Rate.
	Burst int
	// Store keeps the counts. Default (nil, or a nil *MemoryStore): a new
	// [MemoryStore] of [DefaultMaxKeys] keys, private to this limiter.
	// Use a shared store (ratelimit/redisstore) when several processes
	// limit the same keys, or each one grants its own budget. A store
	// shared with other limits and limiters is safe: this limiter's keys
	// never equal theirs (see [KeyLimiter]).
	Store Store
}

// KeyLimiter limits how often something an application names by a key
// may happen: Rate times per Period for each key, with bursts of up to
// Burst, by the generic cell rate algorithm of [Limit]. Where a
// [Middleware] keys requests, a KeyLimiter is called by the code that
// knows the key, such as the subject a token is about to be issued to.
//
// It is the recommended auth.IssueLimiter, which it implements without
// importing package auth: given to auth.TokenEndpointOptions.IssueLimiter,
// it limits the tokens one subject obtains, whatever the addresses it
// comes from. About 30 a minute per subject suits most services: a
// legitimate client refreshes about once per access-token lifetime.
//
//	issues, err := ratelimit.NewKeyLimiter(ratelimit.KeyLimiterOptions{
//		Name: "tokens", Rate: 30, Period: time.Minute, Store: store,
//	})
//
// Keys are stored as "<name>:key:<key>", the key in clear when it is a
// short printable token and otherwise as "#" and the first 16 bytes of
// its SHA-256 in hex, as [Key] describes: no key of another kind of limit
// or of an [AttemptLimiter] has that form, so a store can be shared with
// them.
//
// Build it with [NewKeyLimiter]; the zero KeyLimiter, and a nil
// *KeyLimiter, refuse every call with [ErrNotConfigured]. It is safe for
// concurrent use.
type KeyLimiter struct {
	name   string
	prefix string // "<name>:key:"
	store  Store  // nil in the zero KeyLimiter
	q      Quota
	failed error // ErrStore naming this limiter
	denied error // ErrLimited naming this limiter
}

// NewKeyLimiter validates o and returns a KeyLimiter. Every problem is
// reported, joined with errors.Join, each wrapping [ErrOption].
func NewKeyLimiter(o KeyLimiterOptions) (*KeyLimiter, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: KeyLimiterOptions.%s", ErrOption, fmt.Sprintf(format, args...)))
	}
	if len(o.Name) > maxName || !validName(o.Name) {
		bad("Name: %q must be 1 to %d ASCII letters, digits, '-', '_' or '.'", o.Name, maxName)
	}
	q := quotaOf(o.Rate, o.Period, o.Burst, bad)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	k := &KeyLimiter{
		name:   o.Name,
		prefix: o.Name + ":key:",
		store:  o.Store,
		q:      q,
		failed: fmt.Errorf("%w (key limiter %q)", ErrStore, o.Name),
		denied: &limitedError{msg: fmt.Sprintf("%v (key limiter %q)", ErrLimited, o.Name)},
	}
	if ms, ok := k.store.(*MemoryStore); k.store == nil || ok && ms == nil {
		k.store = newMemoryStoreOf(DefaultMaxKeys)
	}
	return k, nil
}

var errKeyNotConfigured = fmt.Errorf("%w (KeyLimiter)", ErrNotConfigured)

// Allow admits one call for key and counts it, in one atomic step of the
// store, or refuses it, counting nothing, with an error wrapping
// [ErrLimited] and how long to wait before one call for key would be
// admitted. A store failure returns an error wrapping [ErrStore] and a
// retry of one second: the call is refused (fail closed), unless the
// store itself fails open (see redisstore's options). Every key is a
// budget of its own; the empty key is a key like any other.
//
// Allow is the method of auth.IssueLimiter: the token endpoint calls it
// with the subject of each token it is about to issue.
func (k *KeyLimiter) Allow(ctx context.Context, key string) (retryAfter time.Duration, err error) {
	return k.AllowN(ctx, key, 1)
}

// AllowN is [KeyLimiter.Allow] for a call that counts as n calls, such
// as a batch of n messages: it uses n of the burst, or is refused with
// how long to wait until n fit. n = 0 is always admitted and counts
// nothing. An n above the Burst is never admitted: the error wraps
// [ErrLimited] and retryAfter is negative. A negative n returns an error
// wrapping [ErrCost].
func (k *KeyLimiter) AllowN(ctx context.Context, key string, n int) (retryAfter time.Duration, err error) {
	if k == nil || k.store == nil {
		return time.Second, errKeyNotConfigured
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: %d (key limiter %q)", ErrCost, n, k.name)
	}
	res, err := k.store.Take(ctx, k.key(key), k.q, n)
	if err != nil {
		return time.Second, fmt.Errorf("%w: %w", k.failed, err)
	}
	if !res.Allowed {
		return res.RetryAfter, k.denied
	}
	return 0, nil
}

// Peek reports what [KeyLimiter.Allow] would decide for key now,
// counting nothing: whether a call would be admitted, how many more
// calls key may make at once, and how long it would wait. Use it to show
// a caller its budget, or to decide before work that Allow would refuse.
// The answer holds only until another call for key: decide with Allow.
// A store failure returns an error wrapping [ErrStore]; an unconfigured
// limiter, [ErrNotConfigured].
func (k *KeyLimiter) Peek(ctx context.Context, key string) (Result, error) {
	if k == nil || k.store == nil {
		return Result{}, errKeyNotConfigured
	}
	res, err := k.store.Peek(ctx, k.key(key), k.q, 1)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", k.failed, err)
	}
	return res, nil
}

// Reset forgets what key has used, giving it back its full burst: for an
// administrator lifting a block, or a key whose budget a successful
// check earns back. Other keys keep theirs. A store failure returns an
// error wrapping [ErrStore]; an unconfigured limiter,
// [ErrNotConfigured].
func (k *KeyLimiter) Reset(ctx context.Context, key string) error {
	if k == nil || k.store == nil {
		return errKeyNotConfigured
	}
	if err := k.store.Reset(ctx, k.key(key)); err != nil {
		return fmt.Errorf("%w: %w", k.failed, err)
	}
	return nil
}

// key returns the stored key of key.
func (k *KeyLimiter) key(key string) string {
	var buf [keyBufSize]byte
	dst := append(buf[:0], k.prefix...)
	return string(appendValue(dst, key))
}
