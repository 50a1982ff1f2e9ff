package app_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/internal/testenv"
)

// The tests in this file each pin a promise of the package documentation
// (the Config fields, the route table, the stack) that no other test held.

// TestDocumentedDefaults: the zero Config gets the budgets and lifetimes
// its fields document, the values the README gives for command secureapi:
// 20 requests a second for each address and each user, with bursts of
// twice as many, 30 password requests a minute for each address, 10
// failures for a lockout of 15 minutes, and access tokens of 15 minutes.
func TestDocumentedDefaults(t *testing.T) {
	t.Parallel()
	for name, got := range map[string][2]any{
		"DefaultRequestRate":    {app.DefaultRequestRate, 20},
		"DefaultCredentialRate": {app.DefaultCredentialRate, 30},
		"DefaultTokenRate":      {app.DefaultTokenRate, 30},
		"DefaultMaxFailures":    {app.DefaultMaxFailures, 10},
		"DefaultLockout":        {app.DefaultLockout, 15 * time.Minute},
		"DefaultAccessTokenTTL": {app.DefaultAccessTokenTTL, 15 * time.Minute},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %v, documented as %v", name, got[0], got[1])
		}
	}

	srv := start(t, func(c *app.Config) { c.RequestRate, c.CredentialRate, c.TokenRate = 0, 0, 0 })
	c := srv.client(t)
	r := c.get("/healthz")
	// A burst of 40, refilled at 20 a second: 40 in 2 s.
	if policy := r.Header.Get("RateLimit-Policy"); !strings.Contains(policy, `"ip";q=40;w=2`) {
		t.Errorf("RateLimit-Policy %q, want 20 requests a second for the address, bursts of 40", policy)
	}
	// The first request of a fresh address leaves its burst less one.
	if rl := r.Header.Get("RateLimit"); !strings.Contains(rl, `"ip";r=39;`) {
		t.Errorf("RateLimit %q after one request, want a burst of 40", rl)
	}
	r = c.token("bob", testPassword, "")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", r.StatusCode, r.body)
	}
	if policy := strings.Join(r.Header.Values("RateLimit-Policy"), ", "); !strings.Contains(policy, `"credentials";q=30;w=60`) {
		t.Errorf("RateLimit-Policy %q of a password request, want 30 a minute", policy)
	}
	if rl := strings.Join(r.Header.Values("RateLimit"), ", "); !strings.Contains(rl, `"credentials";r=29;`) {
		t.Errorf("RateLimit %q after one password request, want a budget of 30", rl)
	}
	if exp := r.json(t)["expires_in"]; exp != float64(15*60) {
		t.Errorf("expires_in %v, want 900 seconds", exp)
	}
	tok := r.json(t)["access_token"].(string)
	if rl := strings.Join(c.get("/users/me/", "Authorization", "Bearer "+tok).Header.Values("RateLimit"), ", "); !strings.Contains(rl, `"subject";r=39;`) {
		t.Errorf("RateLimit %q after the user's first request, want a burst of 40", rl)
	}
}

// TestDefaultTokenRate: the zero Config issues 30 tokens a minute to one
// user, whatever the addresses: the 31st login in a row is refused.
func TestDefaultTokenRate(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.TokenRate = 0; c.ClientIP = trustLoopback(t) })
	c := srv.client(t)
	begin := time.Now()
	admitted := 0
	for ; admitted < 100; admitted++ {
		r := c.token("bob", testPassword, "", "X-Forwarded-For", fmt.Sprintf("2001:db8:%x::1", admitted+1))
		if r.StatusCode == http.StatusTooManyRequests {
			break
		}
		if r.StatusCode != http.StatusOK {
			t.Fatalf("login %d: %d %s", admitted+1, r.StatusCode, r.body)
		}
	}
	// One more token every 2 s: a slow machine may earn some on the way.
	if most := 30 + int(time.Since(begin)/(2*time.Second)); admitted < 30 || admitted > most {
		t.Errorf("%d logins admitted before the first 429, want 30 (at most %d here)", admitted, most)
	}
}

// TestTokenBudgetLeavesTheRefreshTokenUsable: a refresh refused for the
// user's budget of tokens issued (429 slow_down) does not spend or revoke
// the refresh token presented: once the budget allows, it refreshes. The
// README says so; no test did.
func TestTokenBudgetLeavesTheRefreshTokenUsable(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.TokenRate = 60 }) // one more a second
	c := srv.client(t)
	refresh := func(rt string) response {
		return c.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {rt}})
	}
	r := c.token("bob", testPassword, "")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	rt := r.json(t)["refresh_token"].(string)
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("no 429 in 200 refreshes with a budget of 60 a minute")
		}
		r = refresh(rt)
		if r.StatusCode == http.StatusTooManyRequests {
			break
		}
		if r.StatusCode != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i+1, r.StatusCode, r.body)
		}
		rt = r.json(t)["refresh_token"].(string)
	}
	if r.json(t)["error"] != "slow_down" {
		t.Fatalf("over the budget: %s", r.body)
	}
	wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 2 {
		t.Fatalf("Retry-After %q, want a second or two", r.Header.Get("Retry-After"))
	}
	time.Sleep(time.Duration(wait) * time.Second)
	if r := refresh(rt); r.StatusCode != http.StatusOK {
		t.Errorf("the refresh token refused for the budget, presented again once it allows: %d %s", r.StatusCode, r.body)
	}
}

// TestRolesGrantTheDocumentedScopes: guest items:read; user adds
// profile:read and profile:write; admin adds users:read and users:delete;
// an unknown role none. A token asked for without scope= carries all of
// its user's.
func TestRolesGrantTheDocumentedScopes(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	for _, tt := range []struct {
		role, user string
		scopes     []string
	}{
		{app.RoleGuest, "carol", []string{"items:read"}},
		{app.RoleUser, "bob", []string{"items:read", "profile:read", "profile:write"}},
		{app.RoleAdmin, "alice", []string{"items:read", "profile:read", "profile:write", "users:read", "users:delete"}},
		{"root", "", nil},
		{"", "", nil},
	} {
		got := app.ScopesFor(tt.role)
		if !slices.Equal(got, tt.scopes) || (tt.scopes == nil) != (got == nil) {
			t.Errorf("ScopesFor(%q) = %q, want %q", tt.role, got, tt.scopes)
		}
		if tt.user == "" {
			continue
		}
		r := c.token(tt.user, testPassword, "")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("token for %s: %d %s", tt.user, r.StatusCode, r.body)
		}
		granted := strings.Fields(fmt.Sprint(r.json(t)["scope"]))
		slices.Sort(granted)
		want := slices.Sorted(slices.Values(tt.scopes))
		if !slices.Equal(granted, want) {
			t.Errorf("token of %s (%s): scope %q, want %q", tt.user, tt.role, granted, want)
		}
	}
}

// TestFailuresCountOnEveryPasswordRoute: wrong passwords on POST /token,
// POST /login and GET /secure-data/ count towards one lockout: ten on any
// of them lock the pair out of POST /token. TestTokenLockout makes its
// failures on POST /token only.
func TestFailuresCountOnEveryPasswordRoute(t *testing.T) {
	t.Parallel()
	for name, attempt := range wrongPasswordOn {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := start(t, nil).client(t)
			for i := range app.DefaultMaxFailures {
				if r := attempt(c); r.StatusCode == http.StatusTooManyRequests || r.StatusCode < 400 {
					t.Fatalf("wrong password %d: %d", i+1, r.StatusCode)
				}
			}
			r := c.token("bob", testPassword, "")
			if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
				t.Errorf("the right password on POST /token after %d failures on %s: %d, want 429 with Retry-After", app.DefaultMaxFailures, name, r.StatusCode)
			}
		})
	}
}

// TestItemIDs: GET /items/{id} serves ids 1 to 100, written plainly.
func TestItemIDs(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	c.header.Set("Authorization", "Bearer "+c.bearer("carol"))
	for id, want := range map[string]int{
		"1": 200, "100": 200, "42": 200,
		"0": 404, "101": 404, "-1": 404, "+1": 404, "01": 404, "1e2": 404, "x": 404,
	} {
		r := c.get("/items/" + id)
		if r.StatusCode != want {
			t.Errorf("GET /items/%s: %d, want %d", id, r.StatusCode, want)
			continue
		}
		if want == 200 {
			if got := r.json(t); got["id"] != float64(must(strconv.Atoi(id))) || got["name"] != "item "+id {
				t.Errorf("GET /items/%s: %v", id, got)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAdminSessionDeletes: DELETE /users/{id} takes an admin's session
// as well as a token, as the package comment of command secureapi shows
// with curl (no Origin, no Fetch Metadata): 204, and the account is gone.
func TestAdminSessionDeletes(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	alice := srv.sessionClient(t, "alice")
	if r := alice.do("DELETE", "/users/carol", nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /users/carol with alice's session: %d %s", r.StatusCode, r.body)
	}
	if r := alice.get("/users/carol"); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /users/carol after the deletion: %d", r.StatusCode)
	}
	if r := srv.client(t).token("carol", testPassword, ""); r.StatusCode != http.StatusBadRequest {
		t.Errorf("carol's password after the deletion: %d", r.StatusCode)
	}
}

// TestCookiesOverPlainHTTP: without Config.TLS the cookies are named
// without the __Host- prefix and lack Secure, so that a browser keeps
// them over http://localhost; they stay HttpOnly and SameSite=Lax.
func TestCookiesOverPlainHTTP(t *testing.T) {
	t.Parallel()
	srv := start(t, nil)
	c := srv.client(t)
	page := c.get("/")
	login := c.login("bob", testPassword)
	for name, r := range map[string]response{"csrf": page, "session": login} {
		var ck *http.Cookie
		for _, k := range r.Cookies() {
			if k.Name == name {
				ck = k
			}
		}
		if ck == nil || ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: %+v in %q, want one without Secure, HttpOnly and SameSite=Lax", name, ck, r.Header.Values("Set-Cookie"))
		}
	}
}

// TestOAuthEndpointsFrontLayersAnswerProblems: the package comment says
// the layers in front of every route answer POST /token with problems,
// not RFC 6749 JSON: an unknown Host (400), the per-address request
// budget (429) and an invalid bearer token (401).
func TestOAuthEndpointsFrontLayersAnswerProblems(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.AllowedHosts = []string{"127.0.0.1"}; c.RequestRate = 1 })
	form := url.Values{"grant_type": {"password"}, "client_id": {app.ClientID}, "username": {"bob"}, "password": {testPassword}}
	post := func(host string, hdr ...string) response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp, b}
	}
	for _, tt := range []struct {
		name string
		r    func() response
		want int
	}{
		{"an unknown host", func() response { return post("evil.example") }, 400},
		{"an invalid bearer token", func() response { return post("", "Authorization", "Bearer not.a.token") }, 401},
		// The request above spent one of a burst of two (the unknown
		// host is refused before the budget), this one the other.
		{"the per-address budget", func() response { post(""); return post("") }, 429},
	} {
		r := tt.r()
		if r.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d (%s)", tt.name, r.StatusCode, tt.want, r.body)
		}
		checkProblem(t, tt.name, r)
	}
}

// TestRedisSharesTheRequestBudgets: with Config.Redis, the per-address
// request budget and the password routes' budget are shared by the
// instances using it (the Config doc: rate limits live in Redis).
func TestRedisSharesTheRequestBudgets(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	t.Cleanup(func() { rdb.Close() })
	for _, tt := range []struct {
		name    string
		change  func(*app.Config)
		request func(c *client) response
	}{
		{"requests", func(c *app.Config) { c.RequestRate = 1 }, func(c *client) response { return c.get("/healthz") }}, // a burst of two
		{"password requests", func(c *app.Config) { c.CredentialRate = 2 }, func(c *client) response { return c.token("bob", "wrong", "") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Each subtest comes from an address of its own.
			logs := new(logBuffer)
			cfg := newConfig(t, logs)
			cfg.Redis = rdb
			cfg.ClientIP = trustLoopback(t)
			tt.change(&cfg)
			a, b := startWith(t, cfg, logs).client(t), startWith(t, cfg, logs).client(t)
			for _, c := range []*client{a, b} {
				c.header.Set("X-Forwarded-For", "2001:db8:"+strconv.Itoa(len(tt.name))+"::1")
			}
			codes := []int{tt.request(a).StatusCode, tt.request(b).StatusCode, tt.request(a).StatusCode}
			if codes[0] == http.StatusTooManyRequests || codes[1] == http.StatusTooManyRequests || codes[2] != http.StatusTooManyRequests {
				t.Errorf("three %s on two instances with a budget of two: %v", tt.name, codes)
			}
		})
	}
}

// TestConfigLimitsAreHonoured: MaxFailures, Lockout and AccessTokenTTL,
// when set, replace their defaults.
func TestConfigLimitsAreHonoured(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.MaxFailures, c.Lockout, c.AccessTokenTTL = 2, time.Minute, 5*time.Minute })
	c := srv.client(t)
	if exp := c.token("alice", testPassword, "").json(t)["expires_in"]; exp != float64(5*60) {
		t.Errorf("expires_in %v, want 300 seconds", exp)
	}
	for range 2 {
		c.token("bob", "wrong", "")
	}
	r := c.token("bob", testPassword, "")
	secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.StatusCode != http.StatusTooManyRequests || secs < 50 || secs > 60 {
		t.Errorf("after 2 failures with MaxFailures 2 and a lockout of a minute: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
}

// TestCSRFKeyLength: Config.CSRFKey takes at least 32 bytes.
func TestCSRFKeyLength(t *testing.T) {
	t.Parallel()
	for n, ok := range map[int]bool{31: false, 32: true, 64: true} {
		cfg := newConfig(t, new(logBuffer))
		cfg.CSRFKey = make([]byte, n)
		for i := range cfg.CSRFKey {
			cfg.CSRFKey[i] = byte(i*7 + 1)
		}
		if _, err := app.New(cfg); (err == nil) != ok {
			t.Errorf("a CSRF key of %d bytes: %v, want accepted %v", n, err, ok)
		}
	}
}

// TestLoggerDefaultsToSlogDefault: without Config.Logger, the access log
// goes to slog.Default. Not parallel: it replaces slog.Default.
func TestLoggerDefaultsToSlogDefault(t *testing.T) {
	logs := new(logBuffer)
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, nil)))
	defer slog.SetDefault(old)
	srv := start(t, func(c *app.Config) { c.Logger = nil })
	r := srv.client(t).get("/healthz")
	logs.access(t, r.Header.Get("X-Request-Id")) // fails the test when missing
}

// TestRedirectHost: with Config.RedirectHost, GET and HEAD over plain
// HTTP are redirected to it, whatever the Host header; other methods are
// refused with 400, their body having crossed the network in clear;
// /healthz is served.
func TestRedirectHost(t *testing.T) {
	t.Parallel()
	srv := start(t, func(c *app.Config) { c.RedirectHost = "api.example.com:8443" })
	c := srv.client(t)
	for _, tt := range []struct {
		method, path, host string
		want               int
		location           string
	}{
		{"GET", "/users/me/?x=1", "", 301, "https://api.example.com:8443/users/me/?x=1"},
		{"GET", "/users/me/?x=1", "evil.example", 301, "https://api.example.com:8443/users/me/?x=1"},
		{"HEAD", "/", "", 301, "https://api.example.com:8443/"},
		{"POST", "/token", "", 400, ""},
		{"DELETE", "/users/bob", "", 400, ""},
		{"GET", "/healthz", "", 200, ""},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("username=bob&password=x"))
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := response{resp, b}
		what := tt.method + " " + tt.path + " for host " + tt.host
		if r.StatusCode != tt.want || r.Header.Get("Location") != tt.location {
			t.Errorf("%s: %d to %q, want %d to %q", what, r.StatusCode, r.Header.Get("Location"), tt.want, tt.location)
		}
		checkSecurityHeaders(t, what, r)
		if tt.method != "HEAD" {
			checkProblem(t, what, r)
		}
	}
}
