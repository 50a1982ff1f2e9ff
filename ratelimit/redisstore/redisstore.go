package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/internal/rediscall"
	"github.com/httpguard/httpguard/ratelimit"
)

// script applies one decision atomically, with Redis's clock, in
// microseconds: exact in a Lua double up to 2^53, about the year 2255.
// The times it computes lie at most twice Burst intervals past now (a
// key owing the full burst, and a request costing it), two centuries for
// the widest quota ratelimit accepts (Burst times Interval 100 years),
// which is exact until about 2055 and off by a microsecond or two after;
// a quota of a year or less is exact until about 2250. It applies the
// arithmetic of package ratelimit step for step, in whole microseconds:
// run rounds the emission interval up to one, so a request never costs
// less than in a MemoryStore. No admission leaves a key more than burst
// intervals ahead of the clock, so a key further ahead, written before
// Redis's clock went back (an NTP step, a failover to a replica whose
// clock is behind), is read as that far ahead, and a take or a peek
// stores it so: it owes no more than its quota's full debt, not the step
// as well (found in review). A cost above the burst is never admitted and is refused
// before any product with it, whatever its size; a cost of 0 is admitted
// and stores nothing more.
//
// KEYS[1] is the key; ARGV is the mode ("take", "peek" or "reset"), the
// emission interval in microseconds, the burst and the request's cost. It
// returns {allowed, remaining, retry after, reset after}, durations in
// microseconds, retry after -1 when the request is never admitted.
var script = redis.NewScript(`
if ARGV[1] == 'reset' then
  redis.call('DEL', KEYS[1])
  return {1, 0, 0, 0}
end
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > burst * interval then
  tat = now + burst * interval
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
end
if cost > burst then
  return {0, 0, -1, tat - now}
end
local nxt = tat + cost * interval
local allow_at = nxt - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
if ARGV[1] == 'take' and nxt > now then
  redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
end
return {1, math.floor((now - allow_at) / interval), 0, nxt - now}
`)

// DefaultPrefix is the prefix of every key when [Options.Prefix] is empty.
const DefaultPrefix = "httpguard:ratelimit:"

// DefaultTimeout bounds each call when [Options.Timeout] is zero.
const DefaultTimeout = 250 * time.Millisecond

// Errors.
var (
	// ErrUnavailable is wrapped by the errors of a fail-closed Store when
	// Redis cannot be reached or answers with an error.
	ErrUnavailable = errors.New("redisstore: redis unavailable")
	// ErrOption is wrapped by the errors of [New], and by those of a
	// call on a Store not built by New or with an invalid quota.
	ErrOption = errors.New("redisstore: invalid option")
)

// Options configures a [Store]. Mutating it after [New] has no effect.
type Options struct {
	// Client is the Redis client: a *redis.Client, *redis.ClusterClient,
	// *redis.Ring or any [redis.UniversalClient]. Required.
	Client redis.Scripter

	// Prefix is prepended to every key, to share a Redis with other data.
	// It must not contain "{" or "}": in Redis Cluster a hash tag in the
	// prefix would put every key in one slot. Default: [DefaultPrefix].
	Prefix string

	// FailOpen admits requests while Redis is unreachable, reporting each
	// failure to OnError. The default, false, fails closed: the failure is
	// returned, and the rate limiter refuses the request with 503. A call
	// whose context is done never fails open: a client that cancels its
	// request (closes the connection, resets the stream) while the store
	// asks Redis would otherwise be admitted uncounted, as many times as it
	// likes. Its error wraps the context's error, so the rate limiter
	// refuses it with 503, which the client is no longer there to read. Fail
	// closed where a limit protects credentials (login and token routes);
	// failing open on other routes keeps the service up during a Redis
	// outage at the cost of not limiting. Use two Stores on one client to
	// have both. Reset admits nothing and never fails open: it returns
	// the failure. Default: false.
	FailOpen bool

	// OnError is told of every Redis failure a FailOpen Store admits
	// through, for logging and alerting. It must be safe for concurrent
	// use and fast. A call whose context is done (the client went away) is
	// not a Redis failure and is not reported. Default: nothing.
	OnError func(error)

	// Timeout bounds each call, so that a Redis that stops answering cannot
	// hold requests: the Store stops waiting after Timeout, or as soon as the
	// caller's context ends, whatever the client's options (go-redis itself
	// applies a deadline only with ContextTimeoutEnabled, and sees no
	// cancellation while it waits for a reply). A call given up on goes on
	// until the client's own timeouts end it (ReadTimeout, DialTimeout),
	// holding one of its pooled connections meanwhile. For this the Store
	// runs each call in a goroutine, unless the client is a *redis.Client,
	// *redis.ClusterClient or *redis.Ring with ContextTimeoutEnabled (and
	// neither ReadTimeout nor WriteTimeout -2, which sets no deadline): that
	// client ends the call at Timeout itself, and a caller that leaves waits
	// until then. Set ContextTimeoutEnabled where the limiter guards every
	// request: the goroutine's hand-offs make a call up to twice as slow on a
	// busy machine. Default: [DefaultTimeout].
	Timeout time.Duration
}

// Store is a [ratelimit.Store] in Redis, shared by every process that uses
// the same Redis and prefix. Each call is one script, run atomically in
// one round trip (EVALSHA, or EVAL the first time), using Redis's clock so
// the processes' clocks do not matter. Keys expire when their state has
// fully decayed. Build it with [New]; the zero Store, and a nil *Store
// (what New returns with an error), fail every call, even with FailOpen. A
// Store is safe for concurrent use.
type Store struct {
	client   redis.Scripter
	prefix   string
	failOpen bool
	onError  func(error)
	timeout  time.Duration
	direct   bool // the client applies a context's deadline itself
}

var _ ratelimit.Store = (*Store)(nil)

// New validates o and returns a Store. It does not contact Redis.
func New(o Options) (*Store, error) {
	var errs []error
	if o.Client == nil {
		errs = append(errs, fmt.Errorf("%w: Client is required", ErrOption))
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		errs = append(errs, fmt.Errorf("%w: Prefix %q contains a Redis Cluster hash tag", ErrOption, o.Prefix))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("%w: Timeout %v is negative", ErrOption, o.Timeout))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Store{client: o.Client, prefix: o.Prefix, failOpen: o.FailOpen, onError: o.OnError, timeout: o.Timeout, direct: rediscall.AppliesDeadlines(o.Client)}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// Take implements [ratelimit.Store].
func (s *Store) Take(ctx context.Context, key string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	return s.run(ctx, "take", key, q, n)
}

// Peek implements [ratelimit.Store].
func (s *Store) Peek(ctx context.Context, key string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	return s.run(ctx, "peek", key, q, n)
}

// Reset implements [ratelimit.Store].
func (s *Store) Reset(ctx context.Context, key string) error {
	_, err := s.run(ctx, "reset", key, ratelimit.Quota{Interval: time.Microsecond, Burst: 1}, 0)
	return err
}

var (
	errReply         = errors.New("unexpected reply")
	errCallerGone    = errors.New("redisstore: the caller's context is done")
	errNotConfigured = fmt.Errorf("%w: Store not built by New", ErrOption)
)

func (s *Store) run(ctx context.Context, mode, key string, q ratelimit.Quota, n int) (ratelimit.Result, error) {
	if s == nil || s.client == nil {
		return ratelimit.Result{}, errNotConfigured
	}
	interval := micros(q.Interval)
	if interval < 1 || q.Burst < 1 {
		return ratelimit.Result{}, fmt.Errorf("%w: invalid quota", ErrOption)
	}
	if n < 0 {
		return ratelimit.Result{}, fmt.Errorf("%w: %d", ratelimit.ErrCost, n)
	}
	if err := ctx.Err(); err != nil {
		return ratelimit.Result{}, fmt.Errorf("%w: %w", errCallerGone, err)
	}
	// Bounded here, not by go-redis, which applies a deadline only with
	// ContextTimeoutEnabled and never sees a cancellation while it waits
	// (found in review: with a client of the default options a Redis that
	// hung held every request 3 to 5 s, not Timeout). A client with
	// ContextTimeoutEnabled is left to apply the deadline itself, without
	// a goroutine per call.
	vals, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) ([]int64, error) {
		return script.Run(ctx, s.client, []string{s.prefix + key}, mode, interval, q.Burst, n).Int64Slice()
	})
	if err == nil && len(vals) != 4 {
		err = errReply
	}
	if err != nil {
		// The caller's context, not Redis, ended the call: never fail
		// open for it (found in review: a client that sent a request
		// and closed the connection had it admitted, uncounted, under a
		// FailOpen store), nor report it as a Redis failure.
		if cerr := ctx.Err(); cerr != nil {
			return ratelimit.Result{}, fmt.Errorf("%w: %w", errCallerGone, cerr)
		}
		// A Reset admits nothing: it never fails open, and reports its
		// failure to its caller (found in review: a KeyLimiter.Reset
		// lifting a block was told it had, while Redis kept the debt).
		if s.failOpen && mode != "reset" {
			if s.onError != nil {
				s.onError(fmt.Errorf("%w (failing open): %w", ErrUnavailable, err))
			}
			return ratelimit.Result{Allowed: true, Remaining: -1}, nil
		}
		return ratelimit.Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return ratelimit.Result{
		Allowed:    vals[0] == 1,
		Remaining:  int(vals[1]),
		RetryAfter: retryAfter(vals[2]),
		ResetAfter: time.Duration(vals[3]) * time.Microsecond,
	}, nil
}

// retryAfter returns the script's retry after, us microseconds, as a
// [ratelimit.Result.RetryAfter]: -1 for a request never admitted, as a
// MemoryStore says it.
func retryAfter(us int64) time.Duration {
	if us < 0 {
		return -1
	}
	return time.Duration(us) * time.Microsecond
}

// micros returns d in whole microseconds, rounded up, so that Redis never
// charges a request less than a MemoryStore does (found in review:
// truncating made an interval of 1.999µs cost 1µs, almost twice the rate).
func micros(d time.Duration) int64 {
	us := d / time.Microsecond
	if d%time.Microsecond > 0 {
		us++
	}
	return int64(us)
}
