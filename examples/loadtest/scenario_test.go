package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testPassword = "correct horse battery staple"

var testAccounts = map[string]string{roleAdmin: "alice", roleUser: "bob", roleGuest: "carol"}

// lockout mimics secureapi's token endpoint protection: after 10
// consecutive wrong passwords for one user name from one client address,
// every attempt for that pair, the right password included, gets 429 with
// Retry-After; other pairs are unaffected.
func lockout(next http.Handler) http.Handler {
	var mu sync.Mutex
	fails := map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			next.ServeHTTP(w, r)
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		_ = r.ParseForm()
		key := r.PostForm.Get("username") + "|" + host
		mu.Lock()
		n := fails[key]
		mu.Unlock()
		if n >= 10 {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		mu.Lock()
		if rec.Code == http.StatusOK {
			delete(fails, key)
		} else {
			fails[key]++
		}
		mu.Unlock()
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func newTestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func testConfig(t *testing.T, target string) Config {
	t.Helper()
	u, err := parseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Target: u, Duration: 20 * time.Second, MaxRequests: 1500, Workers: 6,
		Mix: map[string]int{roleAdmin: 1, roleUser: 1, roleGuest: 1}, Accounts: testAccounts,
		Password: testPassword, ClientID: bareClientID,
		Attackers: 1, AttackUser: "alice", AttackRealEvery: 25,
		DistinctSources: true, Timeout: 5 * time.Second, Seed: 7,
	}
}

// The end-to-end run against a server with the routes of secureapi and a
// per-(user, address) lockout: the attacker is locked out after exactly
// ten wrong guesses and never gets through, not even with the right
// password, while the real alice, from her own address, is never refused.
func TestRunEndToEnd(t *testing.T) {
	target := newTestServer(t, lockout(newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)))
	cfg := testConfig(t, target)
	cfg.Progress = 10 * time.Millisecond
	var progress bytes.Buffer
	res, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Notes {
		t.Log("note:", n)
	}
	c := res.Counts
	if total := res.Stats.Total(); total != int(cfg.MaxRequests) {
		t.Errorf("%d requests recorded, want exactly the bound %d", total, cfg.MaxRequests)
	}
	if res.Elapsed >= cfg.Duration {
		t.Errorf("the request bound did not stop the run: %v", res.Elapsed)
	}
	if got := c.Legit + c.Probes + c.Attempts; got != int64(res.Stats.Total()) {
		t.Errorf("counts add up to %d, stats to %d", got, res.Stats.Total())
	}
	if c.Through != 0 || c.Attempts == 0 {
		t.Errorf("attacker: %d attempts, %d through; want some attempts and none through", c.Attempts, c.Through)
	}
	if c.WrongPassword != 10 || c.LockedOut != c.Attempts-10 {
		t.Errorf("attacker: %d wrong, %d locked out of %d; want 10 wrong then only lockouts", c.WrongPassword, c.LockedOut, c.Attempts)
	}
	if len(res.Notes) == 0 && c.LegitRefused != 0 {
		t.Errorf("%d legitimate requests refused: the attacker's lockout reached the real user", c.LegitRefused)
	}
	if c.LegitErrors != 0 || c.ProbesAllowed != 0 || c.ProbesDenied != c.Probes {
		t.Errorf("counts %+v", c)
	}
	if res.SecurityFailures() != 0 {
		t.Errorf("SecurityFailures = %d", res.SecurityFailures())
	}
	sums := map[string]RouteSummary{}
	for _, s := range res.Stats.Summaries() {
		sums[s.Route] = s
		if s.P50 > s.P90 || s.P90 > s.P99 || s.P99 > s.Max || s.P50 <= 0 {
			t.Errorf("%s: percentiles out of order: %+v", s.Route, s)
		}
	}
	for _, route := range []string{routeToken, routeTokenAttack, routeMe, routeItem, routeComment, routeDelete} {
		if sums[route].Count == 0 {
			t.Errorf("no request on %s", route)
		}
	}
	if got := fmtStatuses(sums[routeToken].Statuses); got != "200:6" {
		t.Errorf("users' token requests: %s, want one 200 per user", got)
	}
	if got := fmtStatuses(sums[routeDelete].Statuses); !strings.HasPrefix(got, "404:") || strings.Contains(got, " ") {
		t.Errorf("admin deletes of missing users: %s, want only 404", got)
	}

	var report bytes.Buffer
	res.WriteReport(&report)
	for _, want := range []string{"req/s", "p99", routeItem, "refused 0", "GOT THROUGH 0", "ALLOWED 0", "200:"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
	if !strings.Contains(progress.String(), "requests") {
		t.Logf("no progress line in a run of %v", res.Elapsed)
	}
}

// The duration bound stops a run that the request bound would not.
func TestRunStopsAtTheDuration(t *testing.T) {
	target := newTestServer(t, newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword))
	cfg := testConfig(t, target)
	cfg.Duration, cfg.MaxRequests, cfg.Attackers = 300*time.Millisecond, maxRequests, 0
	cfg.Progress = 50 * time.Millisecond
	var progress bytes.Buffer
	res, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed < cfg.Duration || res.Elapsed > cfg.Duration+3*time.Second {
		t.Errorf("run took %v, want about %v", res.Elapsed, cfg.Duration)
	}
	if n := res.Stats.Total(); n == 0 || n >= maxRequests {
		t.Errorf("%d requests", n)
	}
	// Requests cut short by the deadline are not counted as errors.
	if res.Counts.LegitErrors != 0 || res.Counts.LegitRefused != 0 {
		t.Errorf("counts %+v", res.Counts)
	}
	if !strings.Contains(progress.String(), "req/s") {
		t.Errorf("no progress line in %v: %q", res.Elapsed, progress.String())
	}
}

// Each way a server can fail shows up in the figure made for it.
func TestRunReportsServerFailures(t *testing.T) {
	accounts := map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}
	app := newBareMux(accounts, testPassword)
	tests := []struct {
		name    string
		handler http.Handler
		check   func(t *testing.T, c Counts)
	}{
		{
			"without a lockout the attacker gets through",
			newBareMux(accounts, testPassword),
			func(t *testing.T, c Counts) {
				if c.Through == 0 {
					t.Errorf("through = 0 of %d attempts", c.Attempts)
				}
			},
		},
		{
			"an unguarded delete lets the probes through",
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				app.ServeHTTP(w, r)
			}),
			func(t *testing.T, c Counts) {
				if c.Probes == 0 || c.ProbesAllowed != c.Probes {
					t.Errorf("probes %d, allowed %d; want all allowed", c.Probes, c.ProbesAllowed)
				}
			},
		},
		{
			// The status line says the token was issued; a body cut
			// short after it does not take that back.
			"an attacker answered 200 got through even when the body is cut",
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" && r.FormValue("username") == "alice" {
					cutAfterStatus(w, `{"access_token":`)
					return
				}
				app.ServeHTTP(w, r)
			}),
			func(t *testing.T, c Counts) {
				if c.Attempts == 0 || c.Through != c.Attempts {
					t.Errorf("through %d of %d attempts (other %d); want all", c.Through, c.Attempts, c.AttackOther)
				}
			},
		},
		{
			"a delete answered 200 let the probe through even when the body is cut",
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete {
					cutAfterStatus(w, "")
					return
				}
				app.ServeHTTP(w, r)
			}),
			func(t *testing.T, c Counts) {
				if c.Probes == 0 || c.ProbesAllowed != c.Probes {
					t.Errorf("probes %d, allowed %d; want all allowed", c.Probes, c.ProbesAllowed)
				}
			},
		},
		{
			"a server refusing everyone refuses legitimate users",
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}),
			func(t *testing.T, c Counts) {
				if c.LegitRefused == 0 || c.LegitRefused != c.Legit {
					t.Errorf("refused %d of %d", c.LegitRefused, c.Legit)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, newTestServer(t, tt.handler))
			cfg.Workers, cfg.Mix, cfg.MaxRequests, cfg.Duration = 3, map[string]int{roleUser: 1}, 600, 3*time.Second
			res, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, res.Counts)
		})
	}
}

// The command exits 1 when an attacker got through, and prints the report.
func TestCommandExitStatus(t *testing.T) {
	target := newTestServer(t, newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword))
	var out, errb bytes.Buffer
	code := run([]string{"-target", target, "-password", testPassword, "-users", "1", "-mix", "guest=1",
		"-requests", "400", "-duration", "10s", "-progress", "0"}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "GOT THROUGH") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	t.Setenv(demoPasswordEnv, testPassword)
	out.Reset()
	code = run([]string{"-target", target, "-attackers", "0", "-requests", "200", "-progress", "0"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "refused 0") {
		t.Fatalf("with the password from the environment: exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}

// Every user and attacker connects from its own loopback address, so a
// server's per-address limits see separate clients.
func TestRunUsesDistinctSourceAddresses(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	app := newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)
	target := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		seen[host] = true
		mu.Unlock()
		app.ServeHTTP(w, r)
	}))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Attackers, cfg.MaxRequests = 3, 2, 200
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) > 0 {
		t.Skip("distinct source addresses unavailable here:", res.Notes)
	}
	want := []string{"127.1.0.1", "127.1.0.2", "127.1.0.3", "127.2.0.1", "127.2.0.2"}
	if len(seen) != len(want) {
		t.Errorf("source addresses %v, want %v", seen, want)
	}
	for _, a := range want {
		if !seen[a] {
			t.Errorf("no request from %s (saw %v)", a, seen)
		}
	}

	// Turned off, everyone shares the default address, and the report
	// says what that means for lockouts.
	clear(seen)
	cfg.DistinctSources = false
	res, err = Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !seen["127.0.0.1"] {
		t.Errorf("source addresses %v, want only 127.0.0.1", seen)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "share one source address") {
		t.Errorf("notes %q", res.Notes)
	}
}

// -user-rate paces each user; the request bound and duration still hold.
func TestRunPacesUsers(t *testing.T) {
	target := newTestServer(t, newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Attackers, cfg.UserRate, cfg.Duration = 2, 0, 20, time.Second
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 2 users × 20/s × 1 s, the logins included; generous bounds for a
	// loaded machine, far below an unpaced run's thousands.
	if n := res.Stats.Total(); n < 20 || n > 50 {
		t.Errorf("%d requests in %v at 2 × 20/s", n, res.Elapsed)
	}
}

// An unpaced run that meets rate limits says why legitimate requests were
// refused.
func TestReportExplainsRateLimitRefusals(t *testing.T) {
	app := newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)
	var n atomic.Int64
	target := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" && n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		app.ServeHTTP(w, r)
	}))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Attackers, cfg.MaxRequests = 2, 0, 100
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	res.WriteReport(&report)
	if c := res.Counts; c.Refused429 == 0 || c.Refused429 != c.LegitRefused {
		t.Errorf("counts %+v", c)
	}
	if !strings.Contains(report.String(), "-user-rate") || !strings.Contains(report.String(), "429: ") {
		t.Errorf("report does not explain the 429s:\n%s", report.String())
	}
}

// With LoginFirst the logins happen before the measured window and are
// reported apart; the request bound covers both.
func TestRunLoginFirst(t *testing.T) {
	target := newTestServer(t, lockout(newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)))
	cfg := testConfig(t, target)
	cfg.LoginFirst = true
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Logins == nil || res.Logins.Total() != cfg.Workers {
		t.Fatalf("logins before the window: %v", res.Logins)
	}
	if got := fmtStatuses(res.Logins.Summaries()[0].Statuses); got != "200:6" {
		t.Errorf("logins %s", got)
	}
	for _, s := range res.Stats.Summaries() {
		if s.Route == routeToken {
			t.Errorf("logins counted in the window: %+v", s)
		}
	}
	if got := res.Stats.Total() + res.Logins.Total(); got != int(cfg.MaxRequests) {
		t.Errorf("%d requests in all, want the bound %d", got, cfg.MaxRequests)
	}
	var report bytes.Buffer
	res.WriteReport(&report)
	if !strings.Contains(report.String(), "before the window: 6 logins") {
		t.Errorf("report:\n%s", report.String())
	}
}

// An https target works with its CA, and without it the run reports why
// no request got a response.
func TestRunHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword))
	t.Cleanup(srv.Close)
	cfg := testConfig(t, srv.URL)
	cfg.Attackers, cfg.MaxRequests = 0, 100
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg.TLS = &tls.Config{RootCAs: pool}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts; c.Legit == 0 || c.LegitErrors != 0 || c.LegitRefused != 0 {
		t.Errorf("with the CA: counts %+v, notes %q", c, res.Notes)
	}

	// Long enough for a loaded machine to start some requests: each fails
	// its handshake at once.
	cfg.TLS, cfg.Duration = nil, 2*time.Second
	res, err = Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts; c.LegitErrors == 0 {
		t.Errorf("without the CA: counts %+v", c)
	}
	if n := strings.Join(res.Notes, "\n"); !strings.Contains(n, "certificate") {
		t.Errorf("notes %q do not name the certificate problem", n)
	}
}

// A run stopped by the request bound is measured to the end of its last
// request, not to when the last paced user noticed that the budget was
// spent: that wait holds no request, and counted in the interval it
// lowered every req/s of the report.
func TestRunElapsedEndsWithTheLastRequest(t *testing.T) {
	var last atomic.Int64
	bare := newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)
	target := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bare.ServeHTTP(w, r)
		last.Store(time.Now().UnixNano())
	}))
	cfg := testConfig(t, target)
	// Four users at one request a second, four requests: each user's
	// login, then a second of pacing before it finds the budget spent.
	cfg.Workers, cfg.Attackers, cfg.UserRate, cfg.MaxRequests, cfg.LoginFirst = 4, 0, 1, 4, false
	begin := time.Now()
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Stats.Total(); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
	if window := time.Unix(0, last.Load()).Sub(begin); res.Elapsed > window+100*time.Millisecond {
		t.Errorf("Elapsed %v, but the last request was answered %v after Run began", res.Elapsed, window)
	}
}

// cutAfterStatus answers 200 with a Content-Length it does not keep: it
// sends the status line and the start of the body, then closes the
// connection, as a server that fails mid-response does.
func cutAfterStatus(w http.ResponseWriter, start string) {
	w.Header().Set("Content-Length", "1000")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, start)
	w.(http.Flusher).Flush()
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// A server that never answers is reported as such: the requests still
// waiting when the run ends are not counted in the figures (their latency
// is unknown), but the report says how many there were, in the window and
// among the logins before it, rather than showing an empty run.
func TestRunReportsRequestsCutShortAtTheEnd(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	for _, loginFirst := range []bool{false, true} {
		cfg := testConfig(t, srv.URL)
		cfg.Workers, cfg.Attackers, cfg.Duration, cfg.LoginFirst = 2, 1, 300*time.Millisecond, loginFirst
		begin := time.Now()
		res, err := Run(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(begin); took > 3*cfg.Duration+time.Second {
			t.Errorf("login first %v: the run took %v", loginFirst, took)
		}
		if n := res.Stats.Total(); n != 0 {
			t.Errorf("login first %v: %d requests recorded", loginFirst, n)
		}
		var report bytes.Buffer
		res.WriteReport(&report)
		want := []string{"3 requests unanswered when the run ended"}
		if loginFirst {
			want = append(want, "before the window: 2 logins unanswered")
			if res.LoginsUnanswered != 2 {
				t.Errorf("LoginsUnanswered = %d, want 2", res.LoginsUnanswered)
			}
		}
		if c := res.Counts; c.Unanswered != 3 {
			t.Errorf("login first %v: counts %+v, want 3 unanswered", loginFirst, c)
		}
		for _, w := range want {
			if !strings.Contains(report.String(), w) {
				t.Errorf("login first %v: report lacks %q:\n%s", loginFirst, w, report.String())
			}
		}
	}
}

// An access probe that is neither denied nor allowed (a 500, a 429, no
// answer) is counted and shown apart: the probe line must add up.
func TestReportShowsProbesNeitherDeniedNorAllowed(t *testing.T) {
	app := newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)
	target := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		app.ServeHTTP(w, r)
	}))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Mix, cfg.Attackers, cfg.MaxRequests = 2, map[string]int{roleUser: 1}, 0, 600
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if c.Probes == 0 || c.ProbesOther != c.Probes || c.ProbesDenied != 0 || c.ProbesAllowed != 0 {
		t.Errorf("counts %+v, want every probe other", c)
	}
	var report bytes.Buffer
	res.WriteReport(&report)
	want := "denied 0, ALLOWED 0, other " + strconv.FormatInt(c.Probes, 10)
	if !strings.Contains(report.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, report.String())
	}
}

// A paced user held up by a slow answer sends its next request late; that
// request's latency runs from when it was due, not from when it was sent,
// or the figures would leave out the wait the server caused (coordinated
// omission).
func TestRunPacedLatencyCountsFromWhenDue(t *testing.T) {
	app := newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword)
	var calls atomic.Int64
	target := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" && calls.Add(1) == 1 {
			time.Sleep(500 * time.Millisecond)
		}
		app.ServeHTTP(w, r)
	}))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Mix, cfg.Attackers = 1, map[string]int{roleGuest: 1}, 0
	cfg.UserRate, cfg.LoginFirst, cfg.MaxRequests, cfg.Duration = 10, true, 6, 5*time.Second
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var slow []time.Duration
	for _, rs := range res.Stats.routes {
		for _, d := range rs.lat {
			if d >= 350*time.Millisecond {
				slow = append(slow, d)
			}
		}
	}
	// The stalled request, and the next, due 100 ms after it was sent
	// and sent about 400 ms late.
	if len(slow) != 2 {
		t.Errorf("%d latencies of 350 ms or more (%v), want 2", len(slow), slow)
	}
}

// A server that refuses most guesses with 429 from a budget before its
// lockout has counted ten failures rightly takes the real password after
// four wrong ones: the attacker sends the real password only once ten of
// its guesses were answered as wrong, so that is not reported as a
// lockout letting it through.
func TestAttackerRealGuessComesAfterTheLockoutCount(t *testing.T) {
	app := lockout(newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, testPassword))
	var attempts atomic.Int64
	target := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The budget: one attempt in five reaches the lockout.
		if r.URL.Path == "/token" && attempts.Add(1)%5 != 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		app.ServeHTTP(w, r)
	}))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Attackers, cfg.MaxRequests = 0, 1, 200
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if c.Through != 0 || c.WrongPassword != 10 || c.Attempts != cfg.MaxRequests {
		t.Errorf("attacker: %d attempts, %d through, %d wrong; want none through and 10 wrong", c.Attempts, c.Through, c.WrongPassword)
	}
}

// When the server answers the attacker's real password as a wrong one
// (the generator was given another password or client_id than the
// server's), no lockout was put to the test, and the report says so
// instead of showing a clean "GOT THROUGH 0".
func TestReportWarnsWhenTheRealPasswordIsAnsweredAsWrong(t *testing.T) {
	target := newTestServer(t, newBareMux(map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}, "another password"))
	cfg := testConfig(t, target)
	cfg.Workers, cfg.Attackers, cfg.MaxRequests = 0, 1, 100
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts; c.RealAsWrong == 0 || c.Through != 0 {
		t.Errorf("counts %+v, want real guesses answered as wrong", c)
	}
	var report bytes.Buffer
	res.WriteReport(&report)
	if !strings.Contains(report.String(), "the real password was answered as a wrong one") {
		t.Errorf("report:\n%s", report.String())
	}
}
