package auth_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/ratelimit"
)

var _ auth.IssueLimiter = (*ratelimit.KeyLimiter)(nil)

// windowLimiter is an IssueLimiter on a clock the test moves: limit
// issuances per subject in any period, refusals counting nothing. It
// records every call.
type windowLimiter struct {
	mu     sync.Mutex
	limit  int
	period time.Duration
	now    time.Time
	issued map[string][]time.Time
	calls  []string
	err    error // when set, every call fails with it
}

func newWindowLimiter(limit int) *windowLimiter {
	return &windowLimiter{limit: limit, period: time.Minute, now: time.Now(), issued: map[string][]time.Time{}}
}

var errWindowFull = errors.New("issuance budget used")

func (l *windowLimiter) Allow(_ context.Context, subject string) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, subject)
	if l.err != nil {
		return time.Second, l.err
	}
	var live []time.Time
	for _, t := range l.issued[subject] {
		if l.now.Sub(t) < l.period {
			live = append(live, t)
		}
	}
	l.issued[subject] = live
	if len(live) >= l.limit {
		return live[0].Add(l.period).Sub(l.now), errWindowFull
	}
	l.issued[subject] = append(live, l.now)
	return 0, nil
}

func (l *windowLimiter) advance(d time.Duration) {
	l.mu.Lock()
	l.now = l.now.Add(d)
	l.mu.Unlock()
}

func (l *windowLimiter) callsFor(subject string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.calls {
		if s == subject {
			n++
		}
	}
	return n
}

func (l *windowLimiter) fail(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// wantSlowDown checks a refusal by the IssueLimiter: 429, Retry-After in
// whole seconds, slow_down, no token, and the reason in the log.
func wantSlowDown(t *testing.T, r tokenResult, retryAfter string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.str("error") != "slow_down" || r.header.Get("Retry-After") != retryAfter ||
		r.str("access_token") != "" || r.str("refresh_token") != "" {
		t.Fatalf("over the budget: %d Retry-After %q %s; want 429 slow_down, Retry-After %s", r.status, r.header.Get("Retry-After"), r.raw, retryAfter)
	}
	if !errors.Is(r.reason, auth.ErrTooManyTokens) || !errors.Is(r.reason, errWindowFull) || errors.Is(r.reason, auth.ErrTooManyAttempts) {
		t.Fatalf("reason %v, want ErrTooManyTokens wrapping the limiter's error", r.reason)
	}
}

// Every grant asks the IssueLimiter once per response that issues tokens,
// with the subject the access token carries, and over the budget is
// refused with 429, Retry-After and slow_down, issuing nothing: a refused
// password grant creates no refresh token family, a refused refresh
// rotates nothing and its token works once the wait is over.
func TestTokenEndpointIssueLimiterEachGrant(t *testing.T) {
	login := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web")
	client := form("grant_type", "client_credentials")
	tests := []struct {
		name    string
		subject string
		// issue makes one request of the grant; rt is the refresh token
		// to present, when the grant takes one, and the result's
		// refresh token, if any, is the next one to present.
		issue func(t *testing.T, f *oauthFixture, rt string) tokenResult
	}{
		{"password", "alice", func(t *testing.T, f *oauthFixture, _ string) tokenResult {
			return f.post(t, login, nil)
		}},
		{"refresh_token", "alice", func(t *testing.T, f *oauthFixture, rt string) tokenResult {
			return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
		}},
		{"client_credentials", "client:batch", func(t *testing.T, f *oauthFixture, _ string) tokenResult {
			return f.post(t, client, basicAuth("batch", "batch secret/+="))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := newWindowLimiter(3)
			f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.IssueLimiter = lim })
			rt := ""
			if tt.name == "refresh_token" {
				rt = f.post(t, login, nil).str("refresh_token") // one of the three
				lim.advance(time.Second)
			}
			for i := len(lim.calls); i < 3; i++ {
				r := tt.issue(t, f, rt)
				if r.status != http.StatusOK {
					t.Fatalf("request %d: %d %s (%v)", i+1, r.status, r.raw, r.reason)
				}
				if next := r.str("refresh_token"); rt != "" {
					rt = next
				}
				lim.advance(time.Second)
			}
			if got := lim.callsFor(tt.subject); got != 3 || len(lim.calls) != 3 {
				t.Fatalf("limiter calls %q, want 3 for %q", lim.calls, tt.subject)
			}
			held := f.store.Len()
			var rec auth.RefreshToken
			if rt != "" {
				rec, _, _ = f.store.Lookup(context.Background(), auth.HashRefreshToken(rt))
			}
			r := tt.issue(t, f, rt)
			wantSlowDown(t, r, "57") // the first of the three was issued 3s ago
			if f.store.Len() != held {
				t.Errorf("the refused request changed the refresh store: %d tokens held, was %d", f.store.Len(), held)
			}
			if rt != "" {
				after, found, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(rt))
				if !found || after.Used || after.Revoked || !after.ExpiresAt.Equal(rec.ExpiresAt) {
					t.Fatalf("the refused refresh touched its token: %+v", after)
				}
			}
			lim.advance(57 * time.Second)
			r = tt.issue(t, f, rt)
			if r.status != http.StatusOK {
				t.Fatalf("after the wait: %d %s (%v)", r.status, r.raw, r.reason)
			}
			if rt != "" && (r.str("refresh_token") == "" || r.str("refresh_token") == rt) {
				t.Fatalf("after the wait, the same refresh token did not rotate: %s", r.raw)
			}
		})
	}
}

// A retry within RefreshRetryWindow issues an access token: it is counted,
// and refused over the budget. A refresh that loses its rotation race and
// is answered as a retry is counted once, not twice.
func TestTokenEndpointIssueLimiterCountsRetries(t *testing.T) {
	t.Run("a retry", func(t *testing.T) {
		lim := newWindowLimiter(3)
		f := newRetryFixture(t, time.Minute)
		f.oauthFixture = newOAuthRetry(t, f, lim)
		r0 := f.login(t)                                                                      // 1
		r1 := f.rotate(t, r0)                                                                 // 2
		if r := f.refresh(t, r0); r.status != http.StatusOK || r.str("refresh_token") != r1 { // 3
			t.Fatalf("retry: %d %s (%v)", r.status, r.raw, r.reason)
		}
		if lim.callsFor("alice") != 3 {
			t.Fatalf("limiter calls %q, want 3: the retry counts", lim.calls)
		}
		wantSlowDown(t, f.refresh(t, r0), "60")
		// The refused retry revoked nothing: the successor still works.
		lim.advance(time.Minute)
		f.rotate(t, r1)
	})
	t.Run("a lost rotation race", func(t *testing.T) {
		lim := newWindowLimiter(10)
		f := newRetryFixture(t, time.Minute)
		f.oauthFixture = newOAuthRetry(t, f, lim)
		r0 := f.login(t)
		r1 := f.rotate(t, r0)
		// The next request for r0 looks it up as not yet rotated, as if
		// another request rotated it meanwhile: its rotation fails and
		// it is answered as a retry.
		var once sync.Once
		f.hooks.setLookup(func(_ context.Context, hash string, tok auth.RefreshToken, found bool) (auth.RefreshToken, bool) {
			if hash == auth.HashRefreshToken(r0) {
				once.Do(func() { tok.Used, tok.RotatedAt, tok.Successor = false, time.Time{}, nil })
			}
			return tok, found
		})
		before := lim.callsFor("alice")
		r := f.refresh(t, r0)
		f.hooks.setLookup(nil)
		if r.status != http.StatusOK || r.str("refresh_token") != r1 {
			t.Fatalf("lost race: %d %s (%v); want 200 with the successor", r.status, r.raw, r.reason)
		}
		if got := lim.callsFor("alice") - before; got != 1 {
			t.Fatalf("the request was counted %d times, want once", got)
		}
	})
}

// newOAuthRetry rebuilds the retry fixture's endpoint with lim.
func newOAuthRetry(t *testing.T, f *retryFixture, lim auth.IssueLimiter) *oauthFixture {
	t.Helper()
	o := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		*o = auth.WithTokenEndpointClock(*o, func() time.Time { return f.now })
		o.RefreshStore = f.hooks
		o.RefreshRetryWindow = time.Minute
		o.IssueLimiter = lim
	})
	o.store = f.hooks.MemoryRefreshStore
	return o
}

// unavailableErr reports Unavailable, as ratelimit.ErrStore does.
type unavailableErr struct{}

func (unavailableErr) Error() string     { return "store down" }
func (unavailableErr) Unavailable() bool { return true }

// An IssueLimiter whose store cannot answer gets 503
// temporarily_unavailable, not 429 nor a token, for every grant; the
// refresh token presented is not rotated.
func TestTokenEndpointIssueLimiterUnavailableIs503(t *testing.T) {
	keys, err := ratelimit.NewKeyLimiter(ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 30, Period: time.Minute, Store: downStore{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range []struct {
		name string
		err  error
	}{
		{"wraps ErrUnavailable", errors.Join(auth.ErrUnavailable, errors.New("timeout"))},
		{"has Unavailable", unavailableErr{}},
		{"ratelimit.KeyLimiter on a failing store", nil},
	} {
		t.Run(lt.name, func(t *testing.T) {
			lim := newWindowLimiter(100)
			var issues auth.IssueLimiter = lim
			if lt.err == nil {
				issues = keys
			}
			f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.IssueLimiter = issues })
			rt := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil).str("refresh_token")
			lim.fail(lt.err)
			for _, g := range []struct {
				name string
				form []string
				mod  func(*http.Request)
			}{
				{"password", []string{"grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"}, nil},
				{"refresh_token", []string{"grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"}, nil},
				{"client_credentials", []string{"grant_type", "client_credentials"}, basicAuth("batch", "batch secret/+=")},
			} {
				if g.name == "refresh_token" && rt == "" {
					continue // the KeyLimiter's store failed the login already
				}
				r := f.post(t, form(g.form...), g.mod)
				if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.header.Get("Retry-After") != "5" ||
					!errors.Is(r.reason, auth.ErrUnavailable) || errors.Is(r.reason, auth.ErrTooManyTokens) || r.str("access_token") != "" {
					t.Errorf("%s: %d %s (%v); want 503 temporarily_unavailable", g.name, r.status, r.raw, r.reason)
				}
			}
			if rt != "" {
				if tok, found, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(rt)); !found || tok.Used || tok.Revoked {
					t.Errorf("the refresh token was rotated or revoked: %+v", tok)
				}
			}
		})
	}
}

// One subject's budget is its own: alice over hers leaves bob's and the
// clients' untouched. A wrong password issues nothing and is not counted
// (the AttemptLimiter counts those), nor is a request refused for its
// scope.
func TestTokenEndpointIssueLimiterCountsOnlyIssuance(t *testing.T) {
	lim := newWindowLimiter(2)
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.IssueLimiter = lim })
	pw := func(user, password string, kv ...string) tokenResult {
		return f.post(t, form(append([]string{"grant_type", "password", "username", user, "password", password, "client_id", "web"}, kv...)...), nil)
	}
	for range 5 {
		if r := pw("alice", "wrong"); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("wrong password: %d %s", r.status, r.raw)
		}
	}
	if r := pw("alice", "correct horse", "scope", "admin:all"); r.str("error") != "invalid_scope" {
		t.Fatalf("scope: %d %s", r.status, r.raw)
	}
	if len(lim.calls) != 0 {
		t.Fatalf("limiter calls %q for requests that issue nothing", lim.calls)
	}
	for i := range 2 {
		if r := pw("alice", "correct horse"); r.status != http.StatusOK {
			t.Fatalf("login %d after wrong passwords: %d %s", i+1, r.status, r.raw)
		}
	}
	wantSlowDown(t, pw("alice", "correct horse"), "60")
	if r := pw("bob", "battery staple"); r.status != http.StatusOK {
		t.Fatalf("bob is limited by alice: %d %s", r.status, r.raw)
	}
	if r := f.post(t, form("grant_type", "client_credentials"), basicAuth("batch", "batch secret/+=")); r.status != http.StatusOK {
		t.Fatalf("the client is limited by alice: %d %s", r.status, r.raw)
	}
	if !slices.Equal(lim.calls, []string{"alice", "alice", "alice", "bob", "client:batch"}) {
		t.Fatalf("limiter calls %q", lim.calls)
	}
}

// With ratelimit.KeyLimiter, the recommended IssueLimiter: one user
// hammering the refresh grant is refused after the budget, with the
// limiter's wait in Retry-After, and another user is unaffected.
func TestTokenEndpointWithKeyLimiter(t *testing.T) {
	keys, err := ratelimit.NewKeyLimiter(ratelimit.KeyLimiterOptions{Name: "tokens", Rate: 4, Period: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.IssueLimiter = keys })
	rt := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil).str("refresh_token")
	for i := range 3 {
		r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
		if r.status != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i+1, r.status, r.raw)
		}
		rt = r.str("refresh_token")
	}
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
	secs, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || r.str("error") != "slow_down" || secs < 14*60 || secs > 15*60 ||
		!errors.Is(r.reason, auth.ErrTooManyTokens) || !errors.Is(r.reason, ratelimit.ErrLimited) {
		t.Fatalf("over the budget: %d Retry-After %q %s (%v)", r.status, r.header.Get("Retry-After"), r.raw, r.reason)
	}
	if r := f.post(t, form("grant_type", "password", "username", "bob", "password", "battery staple", "client_id", "web"), nil); r.status != http.StatusOK {
		t.Fatalf("bob: %d %s", r.status, r.raw)
	}
}

// Over the budget, the password grant's answer depends on the password, as
// its docs say: the budget is asked only once the password verified, so a
// wrong password gets 400 invalid_grant, uncounted, and the right one 429
// slow_down with a description of its own, unlike the AttemptLimiter's
// lockout, which answers before the verification.
func TestTokenEndpointIssueLimiterRefusesAfterTheVerification(t *testing.T) {
	lim := newWindowLimiter(1)
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.IssueLimiter = lim })
	pw := func(password string) tokenResult {
		return f.post(t, form("grant_type", "password", "username", "alice", "password", password, "client_id", "web"), nil)
	}
	if r := pw("correct horse"); r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	wrong := pw("wrong")
	if wrong.status != http.StatusBadRequest || wrong.str("error") != "invalid_grant" || errors.Is(wrong.reason, auth.ErrTooManyTokens) {
		t.Fatalf("a wrong password over the budget: %d %s (%v); want 400 invalid_grant", wrong.status, wrong.raw, wrong.reason)
	}
	if got := lim.callsFor("alice"); got != 1 {
		t.Fatalf("the wrong password was counted: %d calls", got)
	}
	right := pw("correct horse")
	wantSlowDown(t, right, "60")
	if right.str("error_description") == wrong.str("error_description") || !strings.Contains(right.str("error_description"), "tokens") {
		t.Fatalf("the refusal's description %q", right.str("error_description"))
	}
}

// A revoked refresh token issues nothing and is not counted.
func TestTokenEndpointIssueLimiterSkipsRevokedTokens(t *testing.T) {
	lim := newWindowLimiter(10)
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.IssueLimiter = lim })
	login := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	rt := login.str("refresh_token")
	if err := f.ep.RevokeRefreshToken(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Fatalf("revoked token: %d %s", r.status, r.raw)
	}
	if n := lim.callsFor("alice"); n != 1 {
		t.Fatalf("limiter calls %q; want the login's only", lim.calls)
	}
}
