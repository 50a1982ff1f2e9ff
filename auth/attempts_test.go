package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
)

var _ auth.AttemptLimiter = (*ratelimit.AttemptLimiter)(nil)

// verifyDelay is how long each counted verification takes in the
// concurrency tests: long enough for 200 simultaneous attempts to overlap,
// as they do with a real argon2id hash.
const verifyDelay = 20 * time.Millisecond

func newAttemptLimiter(t testing.TB) *ratelimit.AttemptLimiter {
	t.Helper()
	a, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// serveFrom serves one request with Authorization authz from addr.
func serveFrom(h http.Handler, addr, authz string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
	r.RemoteAddr = addr
	r.Header.Set("Authorization", authz)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// concurrently runs f n times at once, one goroutine each, released
// together, and returns how many times each status was answered.
func concurrently(n int, f func() (status int, retryAfter string)) (map[int]int, []string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var retries []string
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			st, ra := f()
			mu.Lock()
			statuses[st]++
			if st == http.StatusTooManyRequests {
				retries = append(retries, ra)
			}
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return statuses, retries
}

const (
	attackerAddr = "203.0.113.7:4000"
	homeAddr     = "198.51.100.20:5000"
)

// Found in review: with Check before the verification and RecordFailure
// after it, 200 simultaneous guesses for one user from one address were
// all verified against a limit of 10.
func TestBasicConcurrentGuessesVerifyAtMostTheBudget(t *testing.T) {
	s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = newAttemptLimiter(t) })
	s.hasher.delay = verifyDelay
	h := s.basic.Handler(whoami)
	statuses, retries := concurrently(200, func() (int, string) {
		w := serveFrom(h, attackerAddr, basicValue("alice", "guess"))
		return w.Code, w.Header().Get("Retry-After")
	})
	if got := s.hasher.calls.Load(); got > ratelimit.DefaultMaxFailures {
		t.Fatalf("%d of 200 concurrent guesses reached the password hash, want at most %d", got, ratelimit.DefaultMaxFailures)
	}
	if statuses[401] != ratelimit.DefaultMaxFailures || statuses[429] != 200-ratelimit.DefaultMaxFailures {
		t.Fatalf("statuses %v, want %d × 401 and the rest 429", statuses, ratelimit.DefaultMaxFailures)
	}
	for _, ra := range retries {
		if ra != "900" {
			t.Fatalf("Retry-After %q, want 900 (the lockout)", ra)
		}
	}
	s.hasher.delay = 0
	before := s.hasher.calls.Load()
	w := serveFrom(h, attackerAddr, basicValue("alice", "wonderland"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("the right password after the lockout: %d, Retry-After %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if s.hasher.calls.Load() != before {
		t.Error("a locked pair's attempt was verified")
	}
	if w := serveFrom(h, attackerAddr, basicValue("bob", "builder")); w.Code != http.StatusOK {
		t.Errorf("another user from the same address: %d", w.Code)
	}
	if w := serveFrom(h, homeAddr, basicValue("alice", "wonderland")); w.Code != http.StatusOK {
		t.Errorf("alice from another address: %d", w.Code)
	}
}

// A cached password is accepted without a verification, so it is only
// checked: it uses none of the budget, and a locked pair is refused even
// with it.
func TestBasicCachedPasswordIsOnlyChecked(t *testing.T) {
	s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = newAttemptLimiter(t); o.CacheTTL = time.Minute })
	h := s.basic.Handler(whoami)
	if w := serveFrom(h, attackerAddr, basicValue("alice", "wonderland")); w.Code != http.StatusOK {
		t.Fatalf("first login: %d", w.Code)
	}
	for i := range 9 {
		if w := serveFrom(h, attackerAddr, basicValue("alice", "guess")); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, w.Code)
		}
	}
	verified := s.hasher.calls.Load()
	for range 20 {
		if w := serveFrom(h, attackerAddr, basicValue("alice", "wonderland")); w.Code != http.StatusOK {
			t.Fatalf("a cached password with 9 failures: %d", w.Code)
		}
	}
	if s.hasher.calls.Load() != verified {
		t.Fatal("the cached password was verified again")
	}
	// Cache hits neither used the budget nor cleared it: one guess left.
	if w := serveFrom(h, attackerAddr, basicValue("alice", "guess")); w.Code != http.StatusUnauthorized {
		t.Fatalf("the tenth guess: %d", w.Code)
	}
	w := serveFrom(h, attackerAddr, basicValue("alice", "wonderland"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "900" {
		t.Fatalf("a cached password for a locked pair: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// An empty password is refused without a verification, so it is only
// checked: it uses none of the budget, and a locked pair gets 429 for it
// as for anything else.
func TestBasicEmptyPasswordIsOnlyChecked(t *testing.T) {
	s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = newAttemptLimiter(t) })
	h := s.basic.Handler(whoami)
	for range 20 {
		if w := serveFrom(h, attackerAddr, basicValue("alice", "")); w.Code != http.StatusUnauthorized {
			t.Fatalf("an empty password: %d", w.Code)
		}
	}
	for i := range 10 {
		if w := serveFrom(h, attackerAddr, basicValue("alice", "guess")); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d after empty passwords: %d", i+1, w.Code)
		}
	}
	if w := serveFrom(h, attackerAddr, basicValue("alice", "")); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "900" {
		t.Fatalf("an empty password for a locked pair: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// The budget is of consecutive failures: a success gives it back whole.
func TestBasicSuccessResetsThePair(t *testing.T) {
	s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = newAttemptLimiter(t) })
	h := s.basic.Handler(whoami)
	for range 9 {
		serveFrom(h, attackerAddr, basicValue("alice", "guess"))
	}
	if w := serveFrom(h, attackerAddr, basicValue("alice", "wonderland")); w.Code != http.StatusOK {
		t.Fatalf("the right password after 9 failures: %d", w.Code)
	}
	for i := range 10 {
		if w := serveFrom(h, attackerAddr, basicValue("alice", "guess")); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d after a success: %d", i+1, w.Code)
		}
	}
	if w := serveFrom(h, attackerAddr, basicValue("alice", "wonderland")); w.Code != http.StatusTooManyRequests {
		t.Fatalf("after 10 consecutive failures: %d, want 429", w.Code)
	}
}

// A user-store failure is not a failed attempt: it costs the pair nothing.
func TestBasicStoreFailureUsesNoBudget(t *testing.T) {
	lim := newAttemptLimiter(t)
	s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = lim; o.Users = failingUsers{} })
	h := s.basic.Handler(whoami)
	for range 20 {
		if w := serveFrom(h, attackerAddr, basicValue("alice", "guess")); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("store down: %d", w.Code)
		}
	}
	if _, err := lim.Check(context.Background(), "alice", netipOf(attackerAddr)); err != nil {
		t.Fatalf("store failures locked the pair: %v", err)
	}
}

// postPassword sends a password grant for the public client "web" from
// addr. It is safe to call from several goroutines.
func postPassword(f *oauthFixture, addr, user, pw string) *httptest.ResponseRecorder {
	body := form("grant_type", "password", "username", user, "password", pw, "client_id", "web").Encode()
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
	r.RemoteAddr = addr
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.ep.ServeHTTP(w, r)
	return w
}

func TestTokenEndpointConcurrentGuessesVerifyAtMostTheBudget(t *testing.T) {
	hasher := &countingHasher{h: oauthHasher, delay: verifyDelay}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Limiter = newAttemptLimiter(t); o.Hasher = hasher })
	hasher.calls.Store(0)
	statuses, retries := concurrently(200, func() (int, string) {
		w := postPassword(f, attackerAddr, "alice", "guess")
		return w.Code, w.Header().Get("Retry-After")
	})
	if got := hasher.calls.Load(); got > ratelimit.DefaultMaxFailures {
		t.Fatalf("%d of 200 concurrent password grants reached the password hash, want at most %d", got, ratelimit.DefaultMaxFailures)
	}
	if statuses[400] != ratelimit.DefaultMaxFailures || statuses[429] != 200-ratelimit.DefaultMaxFailures {
		t.Fatalf("statuses %v, want %d × 400 and the rest 429", statuses, ratelimit.DefaultMaxFailures)
	}
	for _, ra := range retries {
		if ra != "900" {
			t.Fatalf("Retry-After %q, want 900", ra)
		}
	}
	hasher.delay = 0
	w := postPassword(f, attackerAddr, "alice", "correct horse")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"slow_down"`) {
		t.Fatalf("the right password after the lockout: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := postPassword(f, attackerAddr, "bob", "battery staple"); w.Code != http.StatusOK {
		t.Fatalf("another user from the same address: %d %s", w.Code, w.Body)
	}
}

// slowKeys is a key store that answers after verifyDelay, so that
// concurrent requests overlap.
type slowKeys struct{ auth.APIKeyStore }

func (k slowKeys) LookupAPIKey(ctx context.Context, id string) (auth.StoredAPIKey, bool, error) {
	time.Sleep(verifyDelay)
	return k.APIKeyStore.LookupAPIKey(ctx, id)
}

func TestAPIKeyConcurrentGuessesAreLimited(t *testing.T) {
	s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Limiter = newAttemptLimiter(t); o.Keys = slowKeys{o.Keys} })
	h := s.mw.Handler(whoami)
	wrong := wrongSecretOf(s.live.Key)
	statuses, _ := concurrently(200, func() (int, string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = attackerAddr
		r.Header.Set("X-API-Key", wrong)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Retry-After")
	})
	if statuses[401] != ratelimit.DefaultMaxFailures || statuses[429] != 200-ratelimit.DefaultMaxFailures {
		t.Fatalf("statuses %v, want %d × 401 and the rest 429", statuses, ratelimit.DefaultMaxFailures)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = attackerAddr
	r.Header.Set("X-API-Key", s.live.Key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "900" {
		t.Fatalf("the right key after the lockout: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

func netipOf(hostport string) netip.Addr {
	return netip.MustParseAddrPort(hostport).Addr()
}

// looseUsers matches names as a case- and trailing-space-insensitive SQL
// collation does, and, as the package documentation asks of such a store,
// returns the canonical name as the identity's Subject.
type looseUsers struct{ auth.UserStore }

func (l looseUsers) LookupUser(ctx context.Context, name string) (auth.User, bool, error) {
	canonical := strings.ToLower(strings.TrimRight(name, " "))
	u, found, err := l.UserStore.LookupUser(ctx, canonical)
	if found && u.Identity.Subject == "" {
		u.Identity.Subject = canonical
	}
	return u, found, err
}

// spellings of alice that a loose store finds; the attempt limiter's own
// normalization (lower case) folds only the first three together.
var aliceSpellings = []string{"alice", "Alice", "ALICE", "alice ", "Alice  ", "alice   ", "ALICE    ", "alice     ",
	"alice      ", "alice       ", "alice        ", "alice         ", "alice          ", "alice           "}

// Found in review: the limiter counted failures under the name as typed,
// so with a store that matches names loosely every spelling of one
// account got a fresh budget. Failures of a found user are now counted
// under its Subject as well.
func TestBasicLooseStoreSpellingsShareOneBudget(t *testing.T) {
	s := newBasic(t, func(o *auth.BasicOptions) {
		o.Limiter = newAttemptLimiter(t)
		o.Users = looseUsers{testUsers(t)}
		o.CacheTTL = time.Minute
	})
	h := s.basic.Handler(whoami)
	statuses := map[int]int{}
	for _, name := range aliceSpellings {
		statuses[serveFrom(h, attackerAddr, basicValue(name, "guess")).Code]++
	}
	if s.hasher.calls.Load() > ratelimit.DefaultMaxFailures || statuses[401] != ratelimit.DefaultMaxFailures {
		t.Fatalf("%d verifications, statuses %v; want %d × 401 and the rest 429", s.hasher.calls.Load(), statuses, ratelimit.DefaultMaxFailures)
	}
	for _, name := range []string{"alice", "alice   "} {
		if w := serveFrom(h, attackerAddr, basicValue(name, "wonderland")); w.Code != http.StatusTooManyRequests {
			t.Errorf("the right password as %q from the locked address: %d, want 429", name, w.Code)
		}
	}
	if w := serveFrom(h, homeAddr, basicValue("Alice ", "wonderland")); w.Code != http.StatusOK {
		t.Errorf("alice from another address: %d", w.Code)
	}
}

func TestTokenEndpointLooseStoreSpellingsShareOneBudget(t *testing.T) {
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.Limiter = newAttemptLimiter(t)
		o.Users = looseUsers{o.Users}
	})
	post := func(addr, user, pw string) int { return postPassword(f, addr, user, pw).Code }
	statuses := map[int]int{}
	for _, name := range aliceSpellings {
		statuses[post(attackerAddr, name, "guess")]++
	}
	if statuses[400] != ratelimit.DefaultMaxFailures || statuses[429] != len(aliceSpellings)-ratelimit.DefaultMaxFailures {
		t.Fatalf("statuses %v, want %d × 400 and the rest 429", statuses, ratelimit.DefaultMaxFailures)
	}
	if code := post(attackerAddr, "alice  ", "correct horse"); code != http.StatusTooManyRequests {
		t.Errorf("the right password from the locked address: %d, want 429", code)
	}
	if code := post(homeAddr, "ALICE", "correct horse"); code != http.StatusOK {
		t.Errorf("alice from another address: %d", code)
	}
}

// Found in review: failures of a found user were counted under its
// Subject only, and the limiter then answered a probe of the name as
// typed differently for a user that exists (401) and for one that does
// not (429). Every attempt is now counted under the name as typed too.
func TestTheLimiterDoesNotTellWhichUsersExist(t *testing.T) {
	probes := []struct {
		name         string
		guess, probe func(user string) (string, string)
	}{
		{"an empty password after failures",
			func(u string) (string, string) { return u, "wrong" },
			func(u string) (string, string) { return u, "" }},
		{"the name after failures as another spelling",
			func(u string) (string, string) { return strings.ToUpper(u[:1]) + u[1:], "wrong" },
			func(u string) (string, string) { return u, "wrong" }},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			users := auth.NewMemoryUsers()
			if err := users.AddPassword("alice", "correct horse", identity.Options{Subject: "user-1"}); err != nil {
				t.Fatal(err)
			}
			b, err := auth.NewBasic(auth.BasicOptions{Users: users, Limiter: newAttemptLimiter(t), Hasher: fastHasher})
			if err != nil {
				t.Fatal(err)
			}
			h := b.Handler(whoami)
			got := map[string]int{}
			for _, u := range []string{"alice", "mallory"} {
				for range ratelimit.DefaultMaxFailures {
					serveFrom(h, attackerAddr, basicValue(p.guess(u)))
				}
				got[u] = serveFrom(h, attackerAddr, basicValue(p.probe(u))).Code
			}
			if got["alice"] != got["mallory"] || got["alice"] != http.StatusTooManyRequests {
				t.Errorf("alice, who exists: %d; mallory, who does not: %d; want 429 for both", got["alice"], got["mallory"])
			}
		})
	}
}

// downStore is a ratelimit.Store that cannot answer, like an unreachable
// Redis.
type downStore struct{}

func (downStore) Take(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errors.New("redis: connection refused")
}

func (downStore) Peek(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errors.New("redis: connection refused")
}

func (downStore) Reset(context.Context, string) error { return errors.New("redis: connection refused") }

// When the attempt limiter's own store fails, the request is refused as
// the service being unavailable (503, Retry-After 5), not as too many
// attempts (found in review of the example server: 429 with Retry-After 1
// told the user they had guessed too often).
func TestAttemptLimiterStoreFailureIs503(t *testing.T) {
	lim, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: downStore{}})
	if err != nil {
		t.Fatal(err)
	}
	basic := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = lim }).basic.Handler(whoami)
	keys := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Limiter = lim })
	apiKey := keys.mw.Handler(whoami)
	token := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Limiter = lim })
	for _, tt := range []struct {
		name string
		do   func() *httptest.ResponseRecorder
		body string
	}{
		{"Basic", func() *httptest.ResponseRecorder {
			return serveFrom(basic, attackerAddr, basicValue("alice", "wonderland"))
		}, ""},
		{"APIKey", func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = attackerAddr
			r.Header.Set("X-API-Key", keys.live.Key)
			w := httptest.NewRecorder()
			apiKey.ServeHTTP(w, r)
			return w
		}, ""},
		{"token endpoint", func() *httptest.ResponseRecorder { return postPassword(token, attackerAddr, "alice", "correct horse") }, `"temporarily_unavailable"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.do()
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" || !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("limiter store down: %d, Retry-After %q, body %s; want 503, Retry-After 5", w.Code, w.Header().Get("Retry-After"), w.Body)
			}
		})
	}
}

// A refusal by a limiter carries the mark TooManyRequests() bool that
// errorsafe (which this package does not import) answers with 429, as
// ratelimit's ErrLimited, ErrLocked and ErrUserLocked do: an OnReject or
// handler that passes ErrTooManyAttempts or ErrTooManyTokens to
// errorsafe.WriteError got a 500 and a server error in the log whenever
// the limiter's own error did not carry it (found in review). The other
// reasons do not carry it.
func TestLimitRefusalsAreMarkedTooManyRequests(t *testing.T) {
	marked := func(err error) bool {
		var m interface{ TooManyRequests() bool }
		return errors.As(err, &m) && m.TooManyRequests()
	}
	for _, err := range []error{auth.ErrTooManyAttempts, auth.ErrTooManyTokens, fmt.Errorf("login: %w", auth.ErrTooManyAttempts)} {
		if !marked(err) {
			t.Errorf("%v does not report TooManyRequests", err)
		}
	}
	for _, err := range []error{auth.ErrInvalidCredentials, auth.ErrNoCredentials, auth.ErrMalformedCredentials, auth.ErrUnavailable} {
		if marked(err) {
			t.Errorf("%v reports TooManyRequests", err)
		}
	}
}
