// Package redisstore is a [ratelimit.Store] in Redis, for limits shared by
// every process of a service: N replicas with a memory store each admit N
// times the limit; with one Redis they admit it once.
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(redisstore.Options{Client: client})
//	if err != nil {
//		log.Fatal(err)
//	}
//	lim, err := ratelimit.New(ratelimit.Options{Limits: limits, Store: store})
//	if err != nil {
//		log.Fatal(err)
//	}
//	handler := lim.Handler(mux)
//
// # Atomicity
//
// Every decision is one Lua script (EVALSHA, EVAL the first time): it reads
// the key's theoretical arrival time, applies the GCRA arithmetic with
// Redis's own clock (TIME), and writes the new time with an expiry at the
// moment the state would have decayed to nothing. Redis runs scripts one
// at a time, so concurrent requests from many processes never admit more
// than the burst, and the processes' clocks do not matter. If Redis's own
// clock steps back (an NTP correction, a failover to a replica whose clock
// is behind), a key is never read as owing more than its quota's full
// debt, Burst intervals, whatever the step. A decision is
// one round trip per limit. Times are kept in whole microseconds: an
// emission interval is rounded up to a whole microsecond, so a request
// costs at least what it costs in a [ratelimit.MemoryStore], and the rate
// admitted is at most the configured one (1.5µs is applied as 2µs).
//
// # Redis Cluster
//
// Each script touches one key, so it works on Redis Cluster. The attempt
// limiter of package ratelimit puts a hash tag with the user's hash in
// each of its keys, so all of one user's keys live in one slot and fail
// or succeed together. [Options.Prefix] must not hold a hash tag: it would
// send every key to one slot. Its Reserve makes at most four calls (a
// read of the known network and of the user, a take of the pair and of
// the user), each one atomic script: the pair's Take is what bounds
// simultaneous guesses from every process together.
//
// # When Redis is unreachable
//
// By default a Store fails closed: it returns an error wrapping
// [ErrUnavailable] and the rate limiter answers 503, the attempt limiter
// refuses the login. With [Options.FailOpen] it admits and reports the
// failure to [Options.OnError] (a Reset, which admits nothing, still
// returns its failure). Fail closed on credential routes (login,
// token), where an outage must not become an unlimited guessing window;
// fail open elsewhere if availability matters more. Two Stores on one
// client give both. Each call is bounded by [Options.Timeout], whatever
// the client's options, so a Redis that hangs cannot hold requests;
// give the client ContextTimeoutEnabled, which spares the Store a
// goroutine per call (see Options.Timeout). A call whose own context is done (the
// client closed the connection) is refused even with FailOpen, and not
// reported as a failure: failing open there would admit, uncounted, every
// request a client cancels. A Redis that refuses writes (full under
// maxmemory-policy noeviction, or a replica after a failover) fails every
// decision, which needs a write, as an unreachable one does (a full
// Redis still runs Reset, a deletion).
//
// # Security considerations
//
// Keys hold limit names, client networks and SHA-256 prefixes of API keys
// and user names, never secrets in clear. Anyone who can write to the
// Redis can lift every limit: protect it like the rest of the service's
// state (ACLs, TLS, no public exposure).
//
// An evicted key is a limit lifted: give the Redis maxmemory-policy
// noeviction (Redis's default; some hosted services default to
// volatile-lru, which may evict any key here, since each has a time to
// live). A client that creates keys from many networks can otherwise
// push out the counts of a [ratelimit.AttemptLimiter], and in a Redis
// shared with session or auth state, logouts and revocations. Under
// noeviction a full Redis refuses writes, and a Store fails closed (or
// open, with [Options.FailOpen]).
//
// A Redis that restarts without persistence (no RDB snapshot or AOF, or
// a snapshot older than the lockouts) comes back with every count at
// zero: each user an [ratelimit.AttemptLimiter] had locked out gets a new
// round of guesses. Turn on persistence (appendonly yes) where the
// attempt limiter's counts live, or restart Redis rarely and on purpose.
package redisstore
