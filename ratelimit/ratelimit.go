package ratelimit

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/toomany"
)

// Errors. The error a [Middleware] passes to [Options.OnReject] wraps
// ErrLimited or [ErrStore]; the errors from [New] wrap ErrOption.
var (
	// ErrLimited means a limit refused the request: 429 Too Many Requests.
	ErrLimited = error(toomany.Error("ratelimit: rate limit exceeded"))
	// ErrNotConfigured means a Middleware, [ConcurrencyLimiter],
	// [AttemptLimiter] or [KeyLimiter] was not built by its constructor:
	// it refuses every request or call rather than letting it through,
	// a request with 500 (it has no OnReject to call).
	ErrNotConfigured = errors.New("ratelimit: middleware not built by New")
	// ErrOption is wrapped by every configuration error.
	ErrOption = errors.New("ratelimit: invalid option")
	// ErrCost means a request was given a negative cost, by [Limit.Cost]
	// (a Middleware answers it with 500 Internal Server Error), by
	// [KeyLimiter.AllowN] or to a [Store].
	ErrCost = errors.New("ratelimit: invalid request cost")
)

// Limit is one rate limit: Rate requests per Period for each distinct
// [Key], with bursts of up to Burst requests. Applied with the generic cell
// rate algorithm, it admits a request every Period/Rate on average and
// never more than Burst at once; a key that stops sending recovers one
// request every Period/Rate.
type Limit struct {
	// Name identifies the limit in the RateLimit-Policy and RateLimit
	// response fields and in stored keys: 1 to 32 ASCII letters, digits,
	// "-", "_" or ".". Limits sharing one [Store] under the same name and
	// key share their budget, which is how one limit spans several routes
	// or processes; use distinct names otherwise. Give limits that share
	// a name one quota: a key never owes more than the full burst of the
	// quota it is checked against, so a request under a shorter window
	// (Burst×Period/Rate) cuts down the debt a longer one left, as a
	// limit lowered between requests does. Default: "default".
	Name string
	// Rate is the number of requests admitted per Period. Required.
	Rate int
	// Period is the time over which Rate requests are admitted. Required;
	// Period/Rate must be at least a microsecond.
	Period time.Duration
	// Burst is the number of requests a key may make at once after being
	// idle. Default: Rate, so "5 per minute" admits 5 at once and then one
	// every 12 seconds.
	Burst int
	// Key selects what is counted. Default: [ByIP].
	Key Key

	// Plans gives some requests other quotas than the limit's own Rate,
	// Period and Burst: the plans of an API, such as "pro" and
	// "enterprise". PlanOf names the plan of each request; a name that
	// is not a key of Plans, the empty name among them, gets the limit's
	// own quota, so make that the lowest. Key the limit by what a plan
	// belongs to ([BySubject], [ByAPIKey]): requests sharing a key share
	// one budget, whatever their plans. A key keeps what it owes when its
	// plan changes, up to the full burst of its new plan, as under limits
	// sharing a name: a change to a plan of a shorter window cuts a larger
	// debt down to that burst. The RateLimit-Policy field of a response
	// shows the quota of its request's plan under the limit's name. At
	// most 64 plans.
	Plans map[string]Plan
	// PlanOf returns the name of the plan of r. Required with Plans, and
	// called once for each request this limit checks. Derive the plan
	// from what the server knows, such as the authenticated identity or
	// the account of an API key, never from what the request says: a
	// client that chose its plan would choose the largest.
	PlanOf func(r *http.Request) string

	// Cost returns how many requests of the limit r counts as, for
	// requests that cost more than others: the items of a batch, the
	// weight of a query. A request of cost n uses n of the burst, and the
	// RateLimit field counts in those units. 0 lets r through without
	// counting it; a cost above the Burst of the request's quota is never
	// admitted (429 without Retry-After: waiting will not help); a
	// negative cost is a bug of Cost, answered with 500 and [ErrCost]
	// (take care with r.ContentLength, -1 when the length is unknown).
	// Cost is called once for each request the Middleware checks, before
	// any limit counts it (with or without a key of this limit that
	// applies to it, and whether or not a limit before this one refuses
	// it), so that a negative cost counts the request nowhere: derive
	// the cost from what the request declares, such as its query or a
	// header, and bound the body separately. Default: every request costs
	// 1.
	Cost func(r *http.Request) int
}

// Plan is the quota of one plan of a [Limit]: Rate requests per Period,
// with bursts of up to Burst (default Rate), under the same bounds as the
// Limit's own.
type Plan struct {
	// Rate is the number of requests admitted per Period. Required.
	Rate int
	// Period is the time over which Rate requests are admitted. Required.
	Period time.Duration
	// Burst is the number of requests a key may make at once after being
	// idle. Default: Rate.
	Burst int
}

// HeaderMode says when a [Middleware] sends the RateLimit-Policy and
// RateLimit response fields.
type HeaderMode uint8

const (
	// HeadersAlways sends them on every response, admitted or refused, so
	// well-behaved clients can slow down before being refused. It is the
	// default.
	HeadersAlways HeaderMode = iota
	// HeadersOnReject sends them only with 429 responses.
	HeadersOnReject
	// HeadersOff never sends them. Retry-After is still sent with 429 and
	// 503 responses (but for a request no wait would admit, see
	// [Limit.Cost]).
	HeadersOff
)

// Options configures a [Middleware]. Mutating an Options after [New] has no
// effect on the Middleware.
type Options struct {
	// Limits are applied in order to every request; the first one that
	// refuses it stops the evaluation, and limits before it have counted the
	// request. Retry-After covers the wait of every limit: of those before
	// it when the request, at its cost, used up their room, and of those
	// after it, which are read without counting (one more call of a Store
	// other than a MemoryStore for each, on refusals only). Put the most
	// selective limit (per address) first and the global ceiling last. At
	// least one is required, at most 16.
	Limits []Limit

	// ClientIP resolves the client address for [ByIP] keys (and the
	// fallback of [BySubject] and [ByAPIKey]). Default: nil, which trusts
	// no proxy and uses the address of the direct peer. Behind a proxy,
	// configure its address there: otherwise every client shares the
	// proxy's budget, and trusting forwarding headers from any peer would
	// let each client pick a fresh address per request.
	ClientIP *clientip.Resolver

	// IPv4Prefix is the length of the IPv4 networks that share one budget,
	// 8 to 32. Default: 32, one address.
	IPv4Prefix int
	// IPv6Prefix is the length of the IPv6 networks that share one budget,
	// 24 to 128. Default: 64, because a single subscriber usually holds a
	// whole /64 and can rotate through its 2^64 addresses.
	IPv6Prefix int

	// Store keeps the limits' state. Default: a new [MemoryStore] for each
	// limit, with default options ([DefaultMaxKeys] keys each), private to
	// this Middleware, so that a flood of one limit's keys can evict only
	// that limit's entries.
	//
	// A Store given here serves every limit of the Middleware. Limits
	// sharing a MemoryStore share its bound ([MemoryOptions.MaxKeys]): a
	// flood of one limit's keys, such as made-up API keys, can evict
	// another limit's entries, such as a client address that is being
	// limited, and give that budget back. Where that matters, leave Store
	// nil, or give each limit a store of its own by splitting the limits
	// between Middlewares. Share a store between Middlewares only with
	// distinct limit names, or on purpose.
	Store Store

	// Headers says when to send the RateLimit-Policy and RateLimit fields.
	// Default: [HeadersAlways].
	Headers HeaderMode

	// OnReject writes the response for a refused request. err wraps
	// [ErrLimited] (status 429) or [ErrStore] (503). Retry-After (unless
	// no wait would admit the request: a cost above a burst) and, by
	// [Options.Headers], the RateLimit fields are already set on w. A
	// negative [Limit.Cost] is answered 500 without calling OnReject.
	// Default: an RFC 9457 problem response with that status and nothing
	// from the request.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// Middleware is a rate limiter for HTTP handlers. Build it with [New]; the
// zero Middleware, and a nil *Middleware (what New returns with an error),
// refuse every request with 500 and [ErrNotConfigured]. A Middleware is
// safe for concurrent use.
type Middleware struct {
	limits []limit
	store  Store // from the options; nil when each limit has a MemoryStore of its own
	// mem is set when every limit has a MemoryStore (limit.mem), for the
	// allocation-free path: the one given in the options, or the first of
	// the limits' own stores. Its clock is read once for every limit, so
	// every limit's store must share its start and clock (see
	// newMemoryStores).
	mem            *MemoryStore
	clientIP       *clientip.Resolver
	v4Bits         int
	v6Bits         int
	headers        HeaderMode
	policy         string // RateLimit-Policy, every limit
	onReject       func(w http.ResponseWriter, r *http.Request, err error)
	defaultProblem bool // onReject is defaultReject: write the 429 problem directly
	need           int  // bytes of the header values built per response
}

// limit is a validated Limit.
type limit struct {
	name   string
	prefix string // "name:", the start of its stored keys
	quoted string // `"name"`, a structured-field string
	item   string // `"name";r=`, the start of its RateLimit item
	key    Key
	q      Quota // the limit's own, quotas[0]
	// With plans, planOf names a request's plan, plans maps the names to
	// their indexes in quotas, and policies holds the RateLimit-Policy
	// item of each quota. Index 0 is the limit's own quota.
	planOf   func(*http.Request) string
	plans    map[string]uint8
	quotas   []Quota
	policies []string
	cost     func(*http.Request) int // nil: every request costs 1
	limited  *limitedError           // ErrLimited naming this limit
	store    error                   // ErrStore naming this limit
	badCost  error                   // ErrCost naming this limit
	mem      *MemoryStore            // the limit's store, when it is a MemoryStore
	addr     addrSeeds               // for hashing networks in mem
}

const (
	maxName   = 32
	maxLimits = 16
	maxPlans  = 64
)

// New validates o and returns a Middleware. Every problem is reported,
// joined with [errors.Join].
func New(o Options) (*Middleware, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrOption}, args...)...))
	}
	m := &Middleware{
		clientIP: o.ClientIP,
		v4Bits:   o.IPv4Prefix,
		v6Bits:   o.IPv6Prefix,
		headers:  o.Headers,
		onReject: o.OnReject,
	}
	switch {
	case len(o.Limits) == 0:
		bad("Limits: at least one limit is required")
	case len(o.Limits) > maxLimits:
		bad("Limits: %d limits, at most %d are allowed", len(o.Limits), maxLimits)
	}
	seen := make(map[string]bool)
	for i, l := range o.Limits {
		c, lerrs := compileLimit(i, l)
		errs = append(errs, lerrs...)
		if seen[c.name] {
			bad("Limits[%d].Name: %q is used twice", i, c.name)
		}
		seen[c.name] = true
		m.limits = append(m.limits, c)
	}
	if m.v4Bits == 0 {
		m.v4Bits = 32
	}
	if m.v6Bits == 0 {
		m.v6Bits = 64
	}
	if m.v4Bits < 8 || m.v4Bits > 32 {
		bad("IPv4Prefix: %d is not between 8 and 32", o.IPv4Prefix)
	}
	if m.v6Bits < 24 || m.v6Bits > 128 {
		bad("IPv6Prefix: %d is not between 24 and 128", o.IPv6Prefix)
	}
	if o.Headers > HeadersOff {
		bad("Headers: unknown mode %d", o.Headers)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.setStores(o.Store, DefaultMaxKeys)
	if m.onReject == nil {
		m.onReject, m.defaultProblem = defaultReject, true
	}
	m.need = fieldsNeed(m.limits)
	for i := range m.limits {
		if i > 0 {
			m.policy += ", "
		}
		m.policy += m.limits[i].policies[0]
	}
	return m, nil
}

// MustNew is like [New] but panics on error. Use it only with constant
// options.
func MustNew(o Options) *Middleware {
	m, err := New(o)
	if err != nil {
		panic(err)
	}
	return m
}

// setStores gives the limits of m their stores: s for every limit, or,
// when s is nil (or a nil *MemoryStore), a MemoryStore of maxKeys keys for
// each limit. One store per limit is found in review: when all the limits
// shared one, a full shard evicted the entry with the earliest theoretical
// arrival time across limits, so made-up API keys of a limit of 1 an hour
// evicted the entry of an address limited to 5 a minute, and gave it its
// budget back.
func (m *Middleware) setStores(s Store, maxKeys int) {
	m.store, m.mem = nil, nil
	if ms, ok := s.(*MemoryStore); s == nil || ok && ms == nil {
		for i, st := range newMemoryStores(len(m.limits), maxKeys) {
			m.limits[i].mem = st
		}
		m.mem = m.limits[0].mem
	} else {
		m.store = s
		if ms, ok := s.(*MemoryStore); ok {
			ms.init() // so that requests need not
			m.mem = ms
		}
		for i := range m.limits {
			m.limits[i].mem = m.mem
		}
	}
	if m.mem != nil {
		for i := range m.limits {
			l := &m.limits[i]
			l.addr = newAddrSeeds(l.mem, l, m.v4Bits, m.v6Bits)
		}
	}
}

// quotaOf returns the quota of rate per period with burst (0: rate), as
// [Limit] and [KeyLimiterOptions] give them, reporting to bad the first
// field that cannot make one.
func quotaOf(rate int, period time.Duration, burst int, bad func(format string, args ...any)) Quota {
	b := burst
	if b == 0 {
		b = rate
	}
	switch {
	case rate <= 0:
		bad("Rate: %d must be positive", rate)
	case period <= 0:
		bad("Period: %v must be positive", period)
	case b < 0:
		bad("Burst: %d must not be negative", burst)
	default:
		q := Quota{Interval: period / time.Duration(rate), Burst: b}
		if !q.valid() {
			bad("Period/Rate must be at least 1µs and Burst×Period/Rate at most 100 years (Rate %d, Period %v, Burst %d)", rate, period, b)
		}
		return q
	}
	return Quota{}
}

func compileLimit(i int, l Limit) (limit, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: Limits[%d].%s", ErrOption, i, fmt.Sprintf(format, args...)))
	}
	c := limit{name: l.Name, key: l.Key, cost: l.Cost}
	if c.name == "" {
		c.name = "default"
	}
	if len(c.name) > maxName || !validName(c.name) {
		bad("Name: %q must be 1 to %d ASCII letters, digits, '-', '_' or '.'", l.Name, maxName)
	}
	c.q = quotaOf(l.Rate, l.Period, l.Burst, bad)
	c.quotas = []Quota{c.q}
	switch {
	case l.PlanOf == nil && len(l.Plans) > 0:
		bad("PlanOf: required with Plans")
	case l.PlanOf != nil && len(l.Plans) == 0:
		bad("Plans: PlanOf is set but there are no plans")
	case len(l.Plans) > maxPlans:
		bad("Plans: %d plans, at most %d are allowed", len(l.Plans), maxPlans)
	case l.PlanOf != nil:
		c.planOf = l.PlanOf
		c.plans = make(map[string]uint8, len(l.Plans))
		for _, name := range slices.Sorted(maps.Keys(l.Plans)) {
			p := l.Plans[name]
			if name == "" {
				bad("Plans: the empty name is the limit's own quota")
				continue
			}
			pbad := func(format string, args ...any) { bad("Plans[%q]."+format, append([]any{name}, args...)...) }
			c.plans[name] = uint8(len(c.quotas))
			c.quotas = append(c.quotas, quotaOf(p.Rate, p.Period, p.Burst, pbad))
		}
	}
	switch l.Key.kind {
	case kindAPIKey:
		if !validName(l.Key.header) && !validHeader(l.Key.header) {
			bad("Key: ByAPIKey(%q) is not a header name", l.Key.header)
		}
		c.key.header = textproto.CanonicalMIMEHeaderKey(l.Key.header)
		c.key.credentials = c.key.header == "Authorization" || c.key.header == "Proxy-Authorization"
	case kindFunc:
		if l.Key.fn == nil {
			bad("Key: ByFunc(nil)")
		}
	}
	c.prefix = c.name + ":"
	c.quoted = strconv.Quote(c.name) // the name is plain ASCII: a valid sf-string
	c.item = c.quoted + ";r="
	for _, q := range c.quotas {
		c.policies = append(c.policies, c.quoted+";q="+strconv.Itoa(q.Burst)+";w="+strconv.FormatInt(window(q), 10))
	}
	c.limited = &limitedError{msg: fmt.Sprintf("%v (limit %q)", ErrLimited, c.name)}
	c.store = fmt.Errorf("%w (limit %q)", ErrStore, c.name)
	c.badCost = fmt.Errorf("%w (limit %q)", ErrCost, c.name)
	return c, errs
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// validHeader reports whether s is an HTTP token (a field name).
func validHeader(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '"' || c == '(' || c == ')' || c == ',' || c == '/' ||
			c == ';' || c == '<' || c == '=' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' ||
			c == ']' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// window returns the seconds in which a key idle under q earns back its
// full burst, at least 1: the w of q's RateLimit-Policy item, whose quota
// q is the burst (limit.policies).
func window(q Quota) int64 {
	return ceilSeconds(time.Duration(q.Burst) * q.Interval)
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 { // without overflow near the largest Duration
		s++
	}
	if s < 1 {
		s = 1
	}
	return s
}

// limitedError is ErrLimited naming the limit that refused: a type of its
// own, so that the refusal path recognizes it without errors.Is.
type limitedError struct{ msg string }

func (e *limitedError) Error() string { return e.msg }
func (e *limitedError) Unwrap() error { return ErrLimited }

// decision is the outcome of the limits for one request, kept small: it is
// zeroed on every request.
type decision struct {
	n         int                      // number of limits evaluated
	remaining [maxLimits]int32         // per limit evaluated; -1 when unknown
	reset     [maxLimits]time.Duration // until the full burst is back
	cost      [maxLimits]int32         // per limit, at most maxBurst+1
	retry     time.Duration            // of the refusing limit; -1: never
	err       error                    // nil when admitted
	limited   bool                     // err wraps ErrLimited
	badCost   bool                     // err wraps ErrCost
	planned   bool                     // a limit applied a plan's quota
	plan      [maxLimits]uint8         // per limit: its quota, in limit.quotas
}

// quota returns the quota of l, the i-th limit, for r, recording its
// plan. Without plans, it is l.q, read without a call.
func (d *decision) quota(l *limit, i int, r *http.Request) Quota {
	if l.planOf == nil {
		return l.q
	}
	return d.planQuota(l, i, r)
}

// planQuota is quota for a limit with plans.
func (d *decision) planQuota(l *limit, i int, r *http.Request) Quota {
	p := l.plans[l.planOf(r)] // 0, the limit's own, for an unknown name
	d.plan[i] = p
	d.planned = d.planned || p != 0
	return l.quotas[p]
}

// decide evaluates the limits in order until one refuses the request.
// With count unset, the remaining counts of the limits that admit it are
// left at 0: they are read only for the RateLimit field, which a response
// may then not carry.
func (m *Middleware) decide(r *http.Request, d *decision, count bool) {
	// Every limit's cost first: a negative one is answered before any
	// limit counts the request (found in review: a negative cost at the
	// second limit was answered 500 after the first had counted the
	// request, so the client's budget went on 500s, and a first limit
	// that refused gave a Retry-After after which the request was
	// answered 500). A cost above maxBurst is above every burst, and is
	// refused as the cost itself would be.
	for i := range m.limits {
		n, ok := m.limits[i].costOf(r)
		if !ok {
			d.err, d.badCost = m.limits[i].badCost, true
			return
		}
		d.cost[i] = int32(min(n, maxBurst+1))
	}
	var now int64
	if m.mem != nil {
		// One reading for every limit: their stores share one clock.
		now = m.mem.clock()
	}
	for i := range m.limits {
		l := &m.limits[i]
		n := int(d.cost[i])
		var res Result
		if m.mem != nil {
			h, ok := m.memKey(l, r)
			if !ok {
				d.remaining[d.n] = -1
				d.n++
				continue
			}
			res = l.mem.applyAt(h, d.quota(l, i, r), n, false, count, now)
		} else {
			var buf [keyBufSize]byte
			key, ok := m.appendKey(buf[:0], l, r)
			if !ok {
				d.remaining[d.n] = -1
				d.n++
				continue
			}
			var err error
			res, err = m.store.Take(r.Context(), string(key), d.quota(l, i, r), n)
			if err != nil {
				d.err = fmt.Errorf("%w: %w", l.store, err)
				return
			}
		}
		d.remaining[d.n] = int32(max(res.Remaining, -1))
		d.reset[d.n] = res.ResetAfter
		d.n++
		if !res.Allowed {
			d.retry, d.err, d.limited = res.RetryAfter, l.limited, true
			if d.retry < 0 {
				return // never: no wait of another limit helps
			}
			// The limits before it have counted the request: one that
			// has no room left for it makes the client wait too, until
			// its debt is the request's cost short of the burst (found
			// in review: Retry-After named the refusing limit's wait
			// alone, and a retry after it was refused by the limit
			// before).
			for j := 0; j < i; j++ {
				if d.remaining[j] < 0 {
					continue // its key did not apply, or its store failed open: no debt known
				}
				if w := m.limits[j].quotas[d.plan[j]].waitAfter(d.reset[j], int(d.cost[j])); w > d.retry {
					d.retry = w
				}
			}
			// The limits after it have not seen the request, and one
			// that would refuse it makes the client wait too (found in
			// review: 2 a second then 4 a minute, the first refusing
			// with Retry-After: 1 a client the second then refused for
			// 56 seconds). They are read, not counted (Peek), which
			// cuts a debt above a quota's burst as a Take would: a
			// Middleware on another Store asks it once more for each.
			for j := i + 1; j < len(m.limits); j++ {
				w := m.waitOf(r, j, now, d)
				if w < 0 {
					d.retry = w
					return
				}
				d.retry = max(d.retry, w)
			}
			return
		}
	}
}

// costOf returns the cost of r under l: 1 without [Limit.Cost], and false
// for a negative cost.
func (l *limit) costOf(r *http.Request) (int, bool) {
	if l.cost == nil {
		return 1, true
	}
	n := l.cost(r)
	return n, n >= 0
}

// waitOf returns how long the request r must wait for the i-th limit to
// admit it, without counting it: 0 when the limit would admit it now,
// when its key does not apply to r or when the store fails (the request
// is refused anyway), and -1 when it never will.
// now is the reading of the MemoryStores' clock, if any. The limit's plan
// for r is recorded in d.
func (m *Middleware) waitOf(r *http.Request, i int, now int64, d *decision) time.Duration {
	l := &m.limits[i]
	n := int(d.cost[i])
	if m.mem != nil {
		h, ok := m.memKey(l, r)
		if !ok {
			return 0
		}
		return l.mem.applyAt(h, d.quota(l, i, r), n, true, false, now).RetryAfter
	}
	var buf [keyBufSize]byte
	key, ok := m.appendKey(buf[:0], l, r)
	if !ok {
		return 0
	}
	res, err := m.store.Peek(r.Context(), string(key), d.quota(l, i, r), n)
	if err != nil {
		return 0
	}
	return res.RetryAfter
}

// Check applies the limits to r, counting it, and returns nil when it is
// admitted, or an error wrapping [ErrLimited], [ErrStore] or, for a
// negative [Limit.Cost], [ErrCost]. It is the
// decision of [Middleware.Handler] without the response.
func (m *Middleware) Check(r *http.Request) error {
	if m == nil || len(m.limits) == 0 {
		return ErrNotConfigured
	}
	var d decision
	m.decide(r, &d, false)
	return d.err
}

// notConfigured is the handler of a zero or nil Middleware or
// ConcurrencyLimiter: neither can be configured after the fact.
var notConfigured = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	problem.Reject(w, r, http.StatusInternalServerError, ErrNotConfigured)
})

// Handler returns next wrapped in the limits: an admitted request reaches
// next, a refused one is answered by [Options.OnReject].
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || len(m.limits) == 0 {
		return notConfigured
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d decision
		m.decide(r, &d, m.headers != HeadersOff)
		if d.err == nil {
			if m.headers == HeadersAlways {
				m.setAdmitted(w.Header(), &d)
			}
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if d.badCost {
			problem.SetReason(r, d.err)
			problem.Reject(w, r, http.StatusInternalServerError, d.err)
			return
		}
		if !d.limited {
			h["Retry-After"] = []string{"1"}
			problem.SetReason(r, d.err)
			m.onReject(w, r, d.err)
			return
		}
		stale := len(h) > 0 // before the fields of this package
		spare := m.setRefused(h, &d)
		problem.SetReason(r, d.err)
		if !m.defaultProblem {
			m.onReject(w, r, d.err)
			return
		}
		// What defaultReject does for a limit's refusal, with the
		// generic problem written into this response's slots.
		problem.WriteInto(w, http.StatusTooManyRequests, spare, !stale)
	})
}

func defaultReject(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusTooManyRequests
	if _, ok := err.(*limitedError); !ok && !errors.Is(err, ErrLimited) {
		status = http.StatusServiceUnavailable
	}
	problem.Reject(w, r, status, err)
}
