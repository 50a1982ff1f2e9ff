package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Roles of the demo users, and what each does.
const (
	roleAdmin = "admin"
	roleUser  = "user"
	roleGuest = "guest"
)

var roles = []string{roleAdmin, roleUser, roleGuest}

// Route labels in the report. The attacker's attempts on the token
// endpoint are reported apart from the users' token requests.
const (
	routeToken       = "POST /token"
	routeTokenAttack = "POST /token (attacker)"
	routeMe          = "GET /users/me/"
	routeItem        = "GET /items/{id}"
	routeComment     = "POST /comment/"
	routeDelete      = "DELETE /users/{id}"
	routeDeleteProbe = "DELETE /users/{id} (non-admin probe)"
)

// Bounds on the configuration, so that a typo cannot start an unbounded
// run.
const (
	maxRequests = 10_000_000
	maxDuration = 10 * time.Minute
	maxWorkers  = 256
	maxAttacker = 64
	maxBody     = 1 << 20
)

// lockoutFailures is how many wrong passwords in a row secureapi takes
// from one address for one user before it locks that pair out
// (app.DefaultMaxFailures).
const lockoutFailures = 10

// Config is one load-test run. [Config.Validate] checks it; the command's
// flags give every field its default.
type Config struct {
	Target      *url.URL          // from parseTarget: loopback only
	Duration    time.Duration     // wall-clock bound
	MaxRequests int64             // bound on requests, users and attacker together
	Workers     int               // concurrent legitimate users
	Mix         map[string]int    // role → weight among the workers
	Accounts    map[string]string // role → user name
	Password    string            // the demo users' password
	ClientID    string            // OAuth2 client_id for the password grant

	Attackers       int    // concurrent password guessers on /token
	AttackUser      string // the account they guess
	AttackRealEvery int    // every n-th guess, once lockoutFailures were answered wrong, is the real password (0: never; else above lockoutFailures)

	// DistinctSources gives every worker and attacker its own loopback
	// source address (127.1.0.x for users, 127.2.0.x for attackers), as
	// separate clients would have, so per-address limits and lockouts
	// apply per client. Linux routes all of 127.0.0.0/8 to lo; elsewhere
	// or for an IPv6 target it is turned off with a warning.
	DistinctSources bool

	// LoginFirst logs every user in before the measured window starts
	// (within a bound of Duration), so that the figures hold no password
	// hashing; those logins are reported on their own.
	LoginFirst bool

	// UserRate paces each legitimate user to this many requests per
	// second; 0 sends the next request as soon as the last is answered.
	UserRate float64

	Timeout  time.Duration // per request
	TLS      *tls.Config   // for https targets
	Progress time.Duration // interval of the progress line; 0: none
	Seed     uint64
}

// Counts are the outcomes that matter beyond latency.
type Counts struct {
	Legit        int64 // requests of legitimate users that should succeed
	LegitRefused int64 // of those, answered 401, 403 or 429
	Refused401   int64 // the refusals by status
	Refused403   int64
	Refused429   int64
	LegitErrors  int64 // of those, answered otherwise (5xx, other 4xx, no response)

	Probes        int64 // non-admin deletes, which must be refused
	ProbesDenied  int64 // answered 403 (or 401)
	ProbesAllowed int64 // answered 2xx or 404 (past the access check): an access-control failure
	ProbesOther   int64 // neither: another status (5xx, 429, …) or no response

	Attempts      int64 // attacker guesses
	Through       int64 // answered 200: a token for the attacker
	LockedOut     int64 // answered 429: a lockout, or a rate limit on the password route
	WrongPassword int64 // answered 400 or 401
	AttackOther   int64 // anything else
	RealAsWrong   int64 // of the wrong passwords, the real one: no lockout was tested

	// Unanswered are the requests sent in the window that had no
	// answer when the run ended at its duration (or was interrupted).
	// They are in no other figure, as their latency is unknown: a
	// server that answers slowly or not at all shows up here.
	Unanswered int64
}

// Result is the outcome of a run.
type Result struct {
	Config Config
	// Elapsed is the measured window: from the start to the end of the
	// last request when the request bound stopped the run, else to the
	// end of the run, at most Config.Duration.
	Elapsed time.Duration
	Stats   *Stats
	Counts  Counts
	Workers map[string]int // role → workers
	// Logins are the users' logins before the measured window, with
	// Config.LoginFirst (nil otherwise), which took LoginElapsed.
	Logins       *Stats
	LoginElapsed time.Duration
	// LoginsUnanswered are the logins before the window that had no
	// answer when its bound of Config.Duration ended.
	LoginsUnanswered int64
	Notes            []string // warnings worth reading with the figures
}

// live holds the counters shared by the workers, read by the progress
// line while the run goes on.
type live struct {
	budget  atomic.Int64
	total   atomic.Int64
	lastEnd atomic.Int64 // when the last counted request ended, in Unix nanoseconds
	c       struct {
		legit, legitRefused, legitErrors          atomic.Int64
		r401, r403, r429                          atomic.Int64
		probes, probesDenied, probesAllowed       atomic.Int64
		probesOther                               atomic.Int64
		attempts, through, lockedOut, wrong, othr atomic.Int64
		realAsWrong                               atomic.Int64
		unanswered                                atomic.Int64
	}
}

func (l *live) counts() Counts {
	return Counts{
		Legit: l.c.legit.Load(), LegitRefused: l.c.legitRefused.Load(), LegitErrors: l.c.legitErrors.Load(),
		Refused401: l.c.r401.Load(), Refused403: l.c.r403.Load(), Refused429: l.c.r429.Load(),
		Probes: l.c.probes.Load(), ProbesDenied: l.c.probesDenied.Load(), ProbesAllowed: l.c.probesAllowed.Load(),
		ProbesOther: l.c.probesOther.Load(),
		Attempts:    l.c.attempts.Load(), Through: l.c.through.Load(), LockedOut: l.c.lockedOut.Load(),
		WrongPassword: l.c.wrong.Load(), AttackOther: l.c.othr.Load(),
		RealAsWrong: l.c.realAsWrong.Load(),
		Unanswered:  l.c.unanswered.Load(),
	}
}

// Validate checks cfg, reporting every problem, and sets Timeout to 10 s
// when it is zero.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Target == nil {
		errs = append(errs, errors.New("loadtest: no target"))
	} else if _, err := parseTarget(cfg.Target.String()); err != nil {
		errs = append(errs, err)
	}
	if cfg.Duration <= 0 || cfg.Duration > maxDuration {
		errs = append(errs, fmt.Errorf("loadtest: -duration must be in (0, %v]", maxDuration))
	}
	if cfg.MaxRequests <= 0 || cfg.MaxRequests > maxRequests {
		errs = append(errs, fmt.Errorf("loadtest: -requests must be in [1, %d]", maxRequests))
	}
	if cfg.Workers < 0 || cfg.Workers > maxWorkers {
		errs = append(errs, fmt.Errorf("loadtest: -users must be in [0, %d]", maxWorkers))
	}
	if cfg.Attackers < 0 || cfg.Attackers > maxAttacker {
		errs = append(errs, fmt.Errorf("loadtest: -attackers must be in [0, %d]", maxAttacker))
	}
	if cfg.Workers == 0 && cfg.Attackers == 0 {
		errs = append(errs, errors.New("loadtest: nothing to run: no users and no attackers"))
	}
	if cfg.Password == "" {
		errs = append(errs, errors.New("loadtest: no demo password: set SECUREAPI_DEMO_PASSWORD or -password to the one secureapi uses"))
	}
	if cfg.Workers > 0 {
		total := 0
		for r, w := range cfg.Mix {
			if !isRole(r) || w < 0 {
				errs = append(errs, fmt.Errorf("loadtest: -mix: bad entry %q=%d", r, w))
			}
			total += w
		}
		if total == 0 {
			errs = append(errs, errors.New("loadtest: -mix gives no role a weight"))
		}
		for r, w := range cfg.Mix {
			if w > 0 && cfg.Accounts[r] == "" {
				errs = append(errs, fmt.Errorf("loadtest: -accounts names no user for role %s", r))
			}
		}
	}
	if cfg.Attackers > 0 && cfg.AttackUser == "" {
		errs = append(errs, errors.New("loadtest: -attack-user is empty"))
	}
	switch {
	case cfg.AttackRealEvery < 0:
		errs = append(errs, errors.New("loadtest: -attack-real-every must not be negative"))
	case cfg.Attackers > 0 && cfg.AttackRealEvery > 0 && cfg.AttackRealEvery <= lockoutFailures:
		errs = append(errs, fmt.Errorf("loadtest: -attack-real-every must be 0 or above %d: an earlier real guess comes before secureapi's lockout (after %d wrong passwords), which rightly lets it through, and would be reported as GOT THROUGH", lockoutFailures, lockoutFailures))
	}
	// NaN fails every comparison, and below one request per maxDuration
	// the interval overflows a Duration into a negative wait: both must
	// be refused here, or the users run unpaced.
	if cfg.UserRate != 0 && !(cfg.UserRate >= 1/maxDuration.Seconds() && cfg.UserRate <= 1e6) {
		errs = append(errs, fmt.Errorf("loadtest: -user-rate must be 0 (unpaced) or from one request per %v to 1e6 requests a second", maxDuration))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("loadtest: -client-id is empty"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("loadtest: -timeout must not be negative (0: 10s)"))
	}
	if cfg.Progress < 0 {
		errs = append(errs, errors.New("loadtest: -progress must not be negative (0: no progress line)"))
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return errors.Join(errs...)
}

func isRole(r string) bool {
	return slices.Contains(roles, r)
}

// assignRoles gives each of n workers a role, in proportion to the
// weights and interleaved, so that a short run still sees every role.
func assignRoles(n int, mix map[string]int) []string {
	total := 0
	for _, r := range roles {
		total += mix[r]
	}
	out := make([]string, 0, n)
	if total == 0 {
		return out
	}
	// Smooth weighted round robin (as nginx balances upstreams):
	// deterministic, and close to the proportions at every prefix.
	cur := make(map[string]int, len(roles))
	for range n {
		best := ""
		for _, r := range roles {
			if mix[r] <= 0 {
				continue
			}
			cur[r] += mix[r]
			if best == "" || cur[r] > cur[best] {
				best = r
			}
		}
		cur[best] -= total
		out = append(out, best)
	}
	return out
}

// Run drives the target until cfg.Duration has passed, cfg.MaxRequests
// requests have been sent or ctx is done, and returns what it measured.
// Progress lines go to progress (nil for none).
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Stats: NewStats(), Workers: map[string]int{}}
	if cfg.DistinctSources {
		if note := checkDistinctSources(cfg.Target); note != "" {
			res.Notes = append(res.Notes, note)
			cfg.DistinctSources = false
		}
	}
	if !cfg.DistinctSources && cfg.Attackers > 0 {
		res.Notes = append(res.Notes, "users and attackers share one source address: a lockout of the attacked user from that address also refuses the legitimate user of that name")
	}

	l := &live{}
	l.budget.Store(cfg.MaxRequests)
	firstErr := &firstError{}
	var users []*user
	for i, role := range assignRoles(cfg.Workers, cfg.Mix) {
		res.Workers[role]++
		users = append(users, &user{
			cfg: &cfg, l: l, role: role, name: cfg.Accounts[role], id: i,
			c:     newClient(&cfg, source(cfg.DistinctSources, 1, i)).reporting(firstErr),
			rng:   rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			stats: NewStats(),
		})
	}
	if cfg.LoginFirst && len(users) > 0 {
		// Every user logs in before the clock starts, within a bound of
		// its own, so that the measured window holds no password
		// hashing. These logins take from the request budget but are
		// reported apart.
		l0 := &live{}
		l0.budget.Store(cfg.MaxRequests)
		lctx, lcancel := context.WithTimeout(ctx, cfg.Duration)
		start := time.Now()
		var wg sync.WaitGroup
		for _, u := range users {
			u.l = l0
			wg.Go(func() {
				for lctx.Err() == nil && u.token == "" {
					if !u.login(lctx) {
						return
					}
				}
			})
		}
		wg.Wait()
		lcancel()
		res.Logins, res.LoginElapsed = NewStats(), time.Since(start)
		res.LoginsUnanswered = l0.c.unanswered.Load()
		for _, u := range users {
			res.Logins.Merge(u.stats)
			u.stats, u.l = NewStats(), l
		}
		l.budget.Add(-l0.total.Load())
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	merge := func(s *Stats) {
		mu.Lock()
		res.Stats.Merge(s)
		mu.Unlock()
	}
	start := time.Now()
	for _, u := range users {
		wg.Go(func() {
			u.run(ctx)
			merge(u.stats)
		})
	}
	for j := range cfg.Attackers {
		a := &attacker{
			cfg: &cfg, l: l, id: j,
			c:     newClient(&cfg, source(cfg.DistinctSources, 2, j)).reporting(firstErr),
			stats: NewStats(),
		}
		wg.Go(func() {
			a.run(ctx)
			merge(a.stats)
		})
	}
	stopProgress := startProgress(progress, cfg.Progress, start, l)
	wg.Wait()
	res.Elapsed = l.window(start, cfg.Duration)
	stopProgress()
	res.Counts = l.counts()
	firstErr.once.Do(func() {}) // no more writes
	if firstErr.msg != "" {
		res.Notes = append(res.Notes, "first request without a response: "+firstErr.msg)
	}
	return res, nil
}

// source returns the loopback source address of the i-th client of a
// group (1 users, 2 attackers): 127.group.hi.lo with lo from 1.
func source(distinct bool, group byte, i int) netip.Addr {
	if !distinct {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte{127, group, byte(i / 254), byte(i%254 + 1)})
}

// checkDistinctSources returns why distinct source addresses cannot be
// used for target, or "" when they can.
func checkDistinctSources(target *url.URL) string {
	if a, err := netip.ParseAddr(target.Hostname()); err == nil && a.Is6() {
		return "distinct source addresses need an IPv4 target (IPv6 has one loopback address); every client shares ::1"
	}
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(source(true, 1, 0), 0).String())
	if err != nil {
		return "this system cannot bind 127.1.0.1, so every client shares one source address (" + err.Error() + ")"
	}
	ln.Close()
	return ""
}

// client sends requests from one source address.
type client struct {
	base     string
	http     *http.Client
	firstErr *firstError // may be nil
}

// firstError keeps the first transport error of a run, for the report.
type firstError struct {
	once sync.Once
	msg  string
}

func (f *firstError) record(err error) {
	if f != nil {
		f.once.Do(func() { f.msg = err.Error() })
	}
}

func newClient(cfg *Config, src netip.Addr) *client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: dialLoopbackOnly}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	tr := &http.Transport{
		// Proxy is deliberately nil: HTTP_PROXY must not send the load
		// to another host.
		DialContext:         d.DialContext,
		TLSClientConfig:     cfg.TLS,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &client{
		base: cfg.Target.String(),
		http: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// Never follow a redirect: it could lead off loopback, and
			// a redirect is an answer to measure, not to chase.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// reporting makes c record its first transport error in f.
func (c *client) reporting(f *firstError) *client {
	c.firstErr = f
	return c
}

// do sends one request and returns the status, the body when keep is set
// (at most maxBody bytes), and the latency. The status is
// statusTransportError when no whole response arrived; answered is then
// the status of the response whose body was cut, if one came: the
// server's decision (a token issued, a delete allowed) all the same. A
// request cut short because ctx ended returns ok=false and must not be
// counted.
func (c *client) do(ctx context.Context, method, path, contentType string, body []byte, bearer string, keep bool) (status, answered int, resp []byte, d time.Duration, ok bool) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return statusTransportError, statusTransportError, nil, 0, ctx.Err() == nil
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	r, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			c.firstErr.record(err)
		}
		return statusTransportError, statusTransportError, nil, time.Since(start), ctx.Err() == nil
	}
	lr := io.LimitReader(r.Body, maxBody)
	if keep {
		resp, err = io.ReadAll(lr)
	} else {
		_, err = io.Copy(io.Discard, lr)
	}
	r.Body.Close()
	d = time.Since(start)
	if err != nil {
		if ctx.Err() == nil {
			c.firstErr.record(err)
		}
		return statusTransportError, r.StatusCode, nil, d, ctx.Err() == nil
	}
	return r.StatusCode, r.StatusCode, resp, d, true
}

// answered records that a counted request has just ended.
func (l *live) answered() {
	now := time.Now().UnixNano()
	for {
		old := l.lastEnd.Load()
		if old >= now || l.lastEnd.CompareAndSwap(old, now) {
			return
		}
	}
}

// window returns the interval over which the run's figures are rates: to
// the end of the last counted request when the request bound stopped the
// run, since the workers that then find the budget spent may first finish
// a pacing or back-off wait that holds no request; else from start to
// now, at most duration (past it, only requests cut short, which are not
// counted, were still unwinding).
func (l *live) window(start time.Time, duration time.Duration) time.Duration {
	if l.budget.Load() < 0 { // a take found the budget spent
		if end := l.lastEnd.Load(); end != 0 {
			return max(time.Unix(0, end).Sub(start), 0)
		}
	}
	return min(time.Since(start), duration)
}

// take reserves one request of the budget; false means the run is over.
func (l *live) take() bool {
	if l.budget.Add(-1) < 0 {
		return false
	}
	l.total.Add(1)
	return true
}

// user is one legitimate client of one role: it obtains a token with the
// password grant and then calls the API, renewing the token when it
// expires or is refused.
type user struct {
	cfg   *Config
	l     *live
	role  string
	name  string
	id    int
	c     *client
	rng   *rand.Rand
	stats *Stats

	token   string
	expires time.Time
	backoff time.Duration
	n       int
	next    time.Time     // when the next paced request is due
	late    time.Duration // how late the paced request about to be sent is
}

// actions are weighted per role: guests read items and comment, users
// also read their profile and now and then try an admin-only delete
// (which must be refused), admins also delete users that do not exist.
type action int

const (
	actMe action = iota
	actItem
	actComment
	actDelete
	actDeleteProbe
)

var mixes = map[string][]struct {
	a action
	w int
}{
	roleGuest: {{actItem, 8}, {actComment, 2}},
	roleUser:  {{actMe, 30}, {actItem, 50}, {actComment, 18}, {actDeleteProbe, 2}},
	roleAdmin: {{actMe, 20}, {actItem, 50}, {actComment, 20}, {actDelete, 10}},
}

func (u *user) pick() action {
	m := mixes[u.role]
	total := 0
	for _, e := range m {
		total += e.w
	}
	k := u.rng.IntN(total)
	for _, e := range m {
		if k < e.w {
			return e.a
		}
		k -= e.w
	}
	return m[0].a
}

func (u *user) run(ctx context.Context) {
	for ctx.Err() == nil {
		if !u.pace(ctx) {
			return
		}
		if u.token == "" || time.Now().After(u.expires) {
			if !u.login(ctx) {
				return
			}
			continue
		}
		if !u.call(ctx) {
			return
		}
	}
}

// pace waits until the next request is due under cfg.UserRate; it
// returns false when the run is over. A user that falls behind, because
// the last answer took longer than the interval, does not burst to catch
// up: it sends one request at once, and u.late says how late that is, so
// that its latency counts from when it was due (the wait the server
// caused is not left out of the figures, as coordinated omission would).
func (u *user) pace(ctx context.Context) bool {
	u.late = 0
	if u.cfg.UserRate <= 0 {
		return true
	}
	now := time.Now()
	if u.next.IsZero() {
		// Spread the users' first requests over one interval.
		u.next = now.Add(time.Duration(u.rng.Float64() * float64(time.Second) / u.cfg.UserRate))
	}
	if wait := u.next.Sub(now); wait <= 0 {
		u.late = -wait
	} else {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		now = u.next
	}
	u.next = now.Add(time.Duration(float64(time.Second) / u.cfg.UserRate))
	return true
}

// tokenResponse is the part of an RFC 6749 §5.1 response the generator
// reads.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

func passwordGrant(clientID, username, password string) []byte {
	return []byte(url.Values{
		"grant_type": {"password"}, "client_id": {clientID},
		"username": {username}, "password": {password},
	}.Encode())
}

// login obtains a token; it returns false when the run is over. A failed
// login is a legitimate request refused; the user then waits, doubling
// the wait up to a second, rather than hammering the endpoint.
func (u *user) login(ctx context.Context) bool {
	if !u.l.take() {
		return false
	}
	status, _, body, d, ok := u.c.do(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded",
		passwordGrant(u.cfg.ClientID, u.name, u.cfg.Password), "", true)
	if !ok {
		u.l.c.unanswered.Add(1)
		return false
	}
	u.stats.Add(routeToken, status, d+u.late)
	u.l.answered()
	u.l.c.legit.Add(1)
	var tr tokenResponse
	if status == http.StatusOK && json.Unmarshal(body, &tr) == nil && tr.AccessToken != "" {
		u.token = tr.AccessToken
		life := time.Duration(tr.ExpiresIn) * time.Second
		if life <= 0 {
			life = 5 * time.Minute
		}
		u.expires = time.Now().Add(life * 9 / 10)
		u.backoff = 0
		return true
	}
	u.refused(status)
	u.backoff = min(max(2*u.backoff, 50*time.Millisecond), time.Second)
	t := time.NewTimer(u.backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		// The back-off is the generator's own wait, not the server's:
		// the paced schedule starts again from now, so that the next
		// request is not counted late by it.
		if !u.next.IsZero() {
			u.next = time.Now()
		}
		return true
	}
}

// refused counts a legitimate request that did not succeed.
func (u *user) refused(status int) {
	switch status {
	case http.StatusUnauthorized:
		u.l.c.r401.Add(1)
		u.l.c.legitRefused.Add(1)
	case http.StatusForbidden:
		u.l.c.r403.Add(1)
		u.l.c.legitRefused.Add(1)
	case http.StatusTooManyRequests:
		u.l.c.r429.Add(1)
		u.l.c.legitRefused.Add(1)
	default:
		u.l.c.legitErrors.Add(1)
	}
}

var commentBodies = [][]byte{
	[]byte(`{"body":"Great item, works as described."}`),
	[]byte(`{"body":"Shipping took <b>two</b> days."}`),
	[]byte(`{"body":"<script>alert(1)</script>Would buy again."}`),
}

// call makes one API request; it returns false when the run is over.
func (u *user) call(ctx context.Context) bool {
	if !u.l.take() {
		return false
	}
	u.n++
	var (
		route, method, path, ct string
		body                    []byte
	)
	a := u.pick()
	switch a {
	case actMe:
		route, method, path = routeMe, http.MethodGet, "/users/me/"
	case actItem:
		route, method, path = routeItem, http.MethodGet, "/items/"+strconv.Itoa(1+u.rng.IntN(100))
	case actComment:
		route, method, path, ct = routeComment, http.MethodPost, "/comment/", "application/json"
		body = commentBodies[u.rng.IntN(len(commentBodies))]
	case actDelete:
		// Users that do not exist: the demo accounts must survive the run.
		route, method, path = routeDelete, http.MethodDelete, "/users/loadtest-ghost-"+strconv.Itoa(u.id)+"-"+strconv.Itoa(u.n)
	case actDeleteProbe:
		// A user that does not exist either: a 404 means the request
		// passed the access check, so it counts as allowed.
		route, method, path = routeDeleteProbe, http.MethodDelete, "/users/loadtest-probe-"+strconv.Itoa(u.id)+"-"+strconv.Itoa(u.n)
	}
	status, answered, _, d, ok := u.c.do(ctx, method, path, ct, body, u.token, false)
	if !ok {
		u.l.c.unanswered.Add(1)
		return false
	}
	u.stats.Add(route, status, d+u.late)
	u.l.answered()

	if a == actDeleteProbe {
		u.l.c.probes.Add(1)
		switch {
		case status == http.StatusForbidden || status == http.StatusUnauthorized:
			u.l.c.probesDenied.Add(1)
		case answered >= 200 && answered < 300, answered == http.StatusNotFound:
			u.l.c.probesAllowed.Add(1)
		default:
			u.l.c.probesOther.Add(1)
		}
		return true
	}
	u.l.c.legit.Add(1)
	switch {
	case status >= 200 && status < 300:
	case a == actDelete && status == http.StatusNotFound:
	default:
		u.refused(status)
		if status == http.StatusUnauthorized {
			u.token = "" // expired or revoked: log in again
		}
	}
	return true
}

// attacker guesses the password of one account on the token endpoint as
// fast as the server answers. Every AttackRealEvery-th guess is the real
// password, as a guesser with a good word list would eventually try: a
// lockout must refuse it too. It is sent only once lockoutFailures of the
// attacker's guesses were answered as wrong (400 or 401): a server that
// refuses guesses with 429 from a budget before its lockout has counted
// them rightly takes the real password after fewer, and that is no
// lockout letting it through.
type attacker struct {
	cfg   *Config
	l     *live
	id    int
	c     *client
	stats *Stats
	n     int
	wrong int // guesses answered 400 or 401
}

func (a *attacker) run(ctx context.Context) {
	for ctx.Err() == nil && a.l.take() {
		a.n++
		guess := "guess-" + strconv.Itoa(a.id) + "-" + strconv.Itoa(a.n)
		isReal := false
		if k := a.cfg.AttackRealEvery; k > 0 && a.n%k == 0 && a.wrong >= lockoutFailures {
			guess, isReal = a.cfg.Password, true
		}
		status, answered, _, d, ok := a.c.do(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded",
			passwordGrant(a.cfg.ClientID, a.cfg.AttackUser, guess), "", false)
		if !ok {
			a.l.c.unanswered.Add(1)
			return
		}
		a.stats.Add(routeTokenAttack, status, d)
		a.l.answered()
		a.l.c.attempts.Add(1)
		switch {
		case answered == http.StatusOK: // a token issued, even if its body was cut
			a.l.c.through.Add(1)
		case status == http.StatusTooManyRequests:
			a.l.c.lockedOut.Add(1)
		case status == http.StatusBadRequest, status == http.StatusUnauthorized:
			a.l.c.wrong.Add(1)
			a.wrong++
			if isReal {
				a.l.c.realAsWrong.Add(1)
			}
		default:
			a.l.c.othr.Add(1)
		}
	}
}

// startProgress prints a progress line every interval until the returned
// function is called.
func startProgress(w io.Writer, every time.Duration, start time.Time, l *live) (stop func()) {
	if w == nil || every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := l.total.Load()
				c := l.counts()
				fmt.Fprintf(w, "%6.1fs %9d requests %8.0f req/s  refused %d  errors %d  attacker %d (through %d, 429 %d)\n",
					now.Sub(start).Seconds(), n, float64(n-last)/now.Sub(lastAt).Seconds(),
					c.LegitRefused, c.LegitErrors, c.Attempts, c.Through, c.LockedOut)
				last, lastAt = n, now
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// WriteReport prints the figures of a run.
func (r *Result) WriteReport(w io.Writer) {
	cfg := r.Config
	total := r.Stats.Total()
	var wk []string
	for _, role := range roles {
		if n := r.Workers[role]; n > 0 {
			wk = append(wk, fmt.Sprintf("%d %s", n, role))
		}
	}
	fmt.Fprintf(w, "target %s · users %d (%s) · attackers %d · bounds %v / %d requests\n",
		cfg.Target, cfg.Workers, strings.Join(wk, ", "), cfg.Attackers, cfg.Duration, cfg.MaxRequests)
	c := r.Counts
	fmt.Fprintf(w, "%d requests in %.2fs: %.0f req/s (legitimate %.0f req/s)\n\n",
		total, r.Elapsed.Seconds(), rate(total, r.Elapsed), rate(int(c.Legit+c.Probes), r.Elapsed))
	writeRouteTable(w, r.Stats.Summaries(), r.Elapsed)
	fmt.Fprintln(w)
	if r.Logins != nil {
		for _, s := range r.Logins.Summaries() {
			fmt.Fprintf(w, "before the window: %d logins in %.2fs (p50 %s, max %s; %s), not counted above\n",
				s.Count, r.LoginElapsed.Seconds(), fmtDur(s.P50), fmtDur(s.Max), fmtStatuses(s.Statuses))
		}
		if r.LoginsUnanswered > 0 {
			fmt.Fprintf(w, "before the window: %d logins unanswered when its bound of %v ended, in no figure\n",
				r.LoginsUnanswered, cfg.Duration)
		}
	}
	fmt.Fprintf(w, "legitimate requests: %d, refused %d (401: %d, 403: %d, 429: %d), errors %d\n",
		c.Legit, c.LegitRefused, c.Refused401, c.Refused403, c.Refused429, c.LegitErrors)
	if c.Unanswered > 0 {
		fmt.Fprintf(w, "%d requests unanswered when the run ended, cut short and in no figure above (their latency is unknown)\n", c.Unanswered)
	}
	if c.Refused429 > 0 && cfg.UserRate == 0 {
		fmt.Fprintln(w, "note: the 429s are the server's rate limits refusing an unpaced load (secureapi admits 20 requests/s per address and per user by default); -user-rate paces each user")
	}
	if c.Probes > 0 {
		fmt.Fprintf(w, "access probes (non-admin DELETE): %d, denied %d, ALLOWED %d, other %d\n", c.Probes, c.ProbesDenied, c.ProbesAllowed, c.ProbesOther)
	}
	if cfg.Attackers > 0 {
		fmt.Fprintf(w, "attacker on %q: %d attempts, GOT THROUGH %d, refused %d (429: lockout or rate limit), wrong password %d, other %d\n",
			cfg.AttackUser, c.Attempts, c.Through, c.LockedOut, c.WrongPassword, c.AttackOther)
		if c.RealAsWrong > 0 {
			fmt.Fprintf(w, "note: the real password was answered as a wrong one %d times, so no lockout was put to the test: is -password (or $%s), -client-id or -attack-user the server's?\n",
				c.RealAsWrong, demoPasswordEnv)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// SecurityFailures is the number of requests that should have been
// refused and were not: attacker guesses that obtained a token and
// non-admin deletes that were allowed.
func (r *Result) SecurityFailures() int64 { return r.Counts.Through + r.Counts.ProbesAllowed }
