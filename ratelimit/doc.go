// Package ratelimit limits how often clients may call a service, against
// brute force and denial of service: rate limits with the generic cell
// rate algorithm ([GCRA]), a failed-attempt limiter for credentials, and a
// concurrency limiter for load shedding.
//
//	lim, err := ratelimit.New(ratelimit.Options{
//		Limits: []ratelimit.Limit{
//			{Name: "ip", Rate: 5, Period: time.Minute},                              // per client
//			{Name: "all", Rate: 1000, Period: time.Second, Key: ratelimit.Global()}, // ceiling
//		},
//		ClientIP: resolver, // the one *clientip.Resolver of the application
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("POST /token", lim.Handler(tokenHandler))
//
// # Limits
//
// A [Limit] admits Rate requests per Period for each key, with bursts of
// up to Burst (default Rate). GCRA stores one timestamp per key, the
// theoretical arrival time of the next request, and admits a request when
// that time is at most Burst-1 intervals (Period/Rate) ahead of now, so
// that with it counted the key is at most Burst intervals ahead; with a
// Burst of 1, only once that time has come. It is exact (no fixed
// windows to game at their edges), needs no timer, and its state decays
// to nothing when a key stops sending. A Middleware applies its limits in
// order and stops at the first that refuses; limits before it have counted
// the request.
//
// # Keys
//
// A [Key] says what is counted: the client address ([ByIP], the default,
// with IPv6 grouped by /64), the authenticated subject ([BySubject]), an
// API key ([ByAPIKey]), the ServeMux route ([ByRoute]), everyone
// ([Global]) or a function ([ByFunc]). The client address comes from
// [Options.ClientIP], a [clientip.Resolver] shared with the rest of the
// application, so forwarding headers are believed only from the proxies
// it names.
//
// # Plans
//
// An API sold in plans gives each its own quota under one limit:
// [Limit.Plans] holds the quotas by name, and [Limit.PlanOf] names the
// plan of each request, from what the server knows of the client (its
// identity, the account of its API key). A request of no plan gets the
// limit's own Rate, Period and Burst, which should be the lowest. The
// response's RateLimit-Policy field shows the quota of its plan, and
// nothing is allocated for it.
//
// # Costs
//
// Some requests cost more than others: a batch of a hundred items, a
// heavy query. [Limit.Cost] returns how many requests one counts as, and
// the request uses that many of the burst; the RateLimit field counts in
// those units, and Retry-After is the wait until the request fits at its
// cost. A cost of 0 is free; a cost above the burst can never be admitted
// and is refused without Retry-After. [KeyLimiter.AllowN] does the same
// for keys of the application's own.
//
// # Stores
//
// The default store is a [MemoryStore] for each limit, private to the
// Middleware: sharded, and bounded to [MemoryOptions.MaxKeys] keys so that
// an attacker rotating through addresses cannot exhaust memory (about 56
// bytes a key, measured with a million addresses). Package
// ratelimit/redisstore shares limits between processes, one atomic script
// and one round trip per limit and request. Any [Store] that applies the
// same arithmetic atomically works.
//
// # Responses
//
// A refused request gets 429 Too Many Requests, an RFC 9457 problem body
// without request data, Retry-After in seconds (left out only when no
// wait would help: a cost above a burst, see Costs), and the
// RateLimit-Policy and RateLimit fields of the [IETF draft]:
//
//	RateLimit-Policy: "ip";q=5;w=60, "all";q=1000;w=1
//	RateLimit: "ip";r=0;t=60
//
// q is the burst and w the seconds in which an idle key earns it back; r
// is what the key may still send now and t the seconds until it is back to
// the full burst. The fields are sent on admitted responses too
// ([HeadersAlways], the default), or only on refusals, or never
// ([Options.Headers]). When two Middlewares are stacked (by address, then
// by user), the inner one adds its items as a second line of each field
// rather than replacing the outer one's, so the client sees both budgets;
// give their limits different names. A store failure refuses with 503
// (fail closed).
// [Options.OnReject] replaces the response; the headers are set before it
// is called. The values are built into slots and bytes that belong to the
// response alone (never a slice shared between requests, which a handler
// could overwrite for everyone), carved from larger slabs, so neither an
// admitted nor a refused request allocates with the memory store and an
// address key.
//
// # Failed attempts
//
// A rate limit on a login route slows everyone down alike. [AttemptLimiter]
// counts failures in a row per (user name, network), and attempts per user
// name from networks where that user has not logged in recently, so a
// password-guessing storm is refused while the right user keeps working.
// [AttemptLimiter.Reserve], called before each password verification,
// admits and counts the attempt in one atomic step, so that many
// simultaneous guesses get no more verifications than MaxFailures; a
// success clears the pair. It satisfies the attempt-limiter contract of
// package auth. See [AttemptLimiter] for the lockout semantics and the
// trade-off of the per-user cap.
//
// # Keys of the application's own
//
// A [KeyLimiter] applies one limit to keys the calling code names rather
// than to requests: KeyLimiter.Allow(ctx, key) admits and counts one call
// for key, or refuses it with how long to wait. It is the recommended
// limiter of tokens issued per subject at package auth's token endpoint
// (auth.TokenEndpointOptions.IssueLimiter), which one account could
// otherwise call from many addresses as fast as it answers; about 30
// tokens a minute per subject leaves room for a legitimate client. Its
// keys are prefixed by its name and a kind of their own, so it can share
// a store, a Redis one included, with every other limit.
//
// # Load shedding
//
// [ConcurrencyLimiter] bounds the requests in flight and refuses the next
// one at once with 503 and Retry-After, rather than queueing work an
// overloaded server cannot finish.
//
// # Placement
//
// Limit by address early, before expensive work (after CORS, before CSRF,
// sessions and authentication), and by subject after authentication:
//
//	errorsafe → headers → https → cors → ratelimit (by IP) → csrf →
//	session → auth → ratelimit (by identity) → rbac → handler
//
// # Security considerations
//
// Behind a proxy, configure it in the [clientip.Resolver]: otherwise every
// client shares the proxy's budget. Never trust forwarding headers from
// every peer: a client would choose a fresh address, and budget, per
// request (go-chi/httprate#53). Group IPv6 clients by at least /64; a
// subscriber usually holds a whole /64 (often a /56), and whoever holds a
// /48, or an IPv4 address through 6to4 (2002::/16), has 65 536 /64s:
// choose [Options.IPv6Prefix] (48 or 56) for the clients you see.
// Conversely, on an IPv6-only server behind stateless translation
// (SIIT-DC, RFC 7755) or NAT64, every IPv4 client arrives inside the
// translation prefix. An address of the well-known prefix 64:ff9b::/96
// (RFC 6052) is limited as the IPv4 address it embeds; behind a
// network-specific prefix, every IPv4 client shares that prefix's /64
// unless a [ByFunc] key takes the embedded address out.
//
// The RateLimit field says what a key has left. For a [Global] or
// [ByRoute] limit that key is shared, so every client learns how much the
// others send and how close the ceiling is, which the [IETF draft] warns
// against telling untrusted parties: send the fields on refusals only
// ([HeadersOnReject]) or not at all ([HeadersOff]), or give shared
// ceilings a Middleware of their own with HeadersOff.
//
// [ByAPIKey] and [ByFunc] keys may be chosen by the client. Use them after
// authentication, or alongside a per-address limit. Values that are not
// short tokens, and API keys always, are stored as SHA-256 prefixes; user
// names in the attempt limiter too.
//
// The memory store's bound is a trade-off: when a shard is full, the key
// with the least debt to remember is evicted, which is a key close to its
// full burst. A flood of new keys can still evict keys that made one
// request recently, and a limited key whose burst is 1, which owes no
// more than a fresh key: the bound protects memory first. Within one limit
// that gives the flood nothing its own fresh keys did not. Across limits
// it would (made-up API keys evicting a limited address), so each limit
// has a store of its own by default; a MemoryStore given in
// [Options.Store] is shared by every limit (see [MemoryOptions.MaxKeys]).
//
// Per-process memory stores give each process its own budget: N replicas
// admit N times the limit. Use ratelimit/redisstore where that matters,
// and fail closed on credential routes.
//
// [IETF draft]: https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
// [GCRA]: https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm
package ratelimit
