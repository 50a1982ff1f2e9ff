package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/ratelimit"
)

type apiKeySetup struct {
	mw      *auth.APIKey
	keys    *auth.MemoryAPIKeys
	live    auth.GeneratedAPIKey // scopes read, write
	expired auth.GeneratedAPIKey
}

var apiKeyNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newAPIKeySetup(t testing.TB, mutate func(*auth.APIKeyOptions)) *apiKeySetup {
	t.Helper()
	s := &apiKeySetup{keys: auth.NewMemoryAPIKeys()}
	var err error
	if s.live, err = auth.GenerateAPIKey(""); err != nil {
		t.Fatal(err)
	}
	if s.expired, err = auth.GenerateAPIKey(""); err != nil {
		t.Fatal(err)
	}
	if err := s.keys.Add(s.live.ID, auth.StoredAPIKey{Hash: s.live.Hash, Identity: identity.Options{Subject: "svc-billing", Scopes: []string{"read", "write"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.keys.Add(s.expired.ID, auth.StoredAPIKey{Hash: s.expired.Hash, Expires: apiKeyNow}); err != nil {
		t.Fatal(err)
	}
	o := auth.APIKeyOptions{Keys: s.keys}
	auth.SetAPIKeyClock(&o, func() time.Time { return apiKeyNow })
	if mutate != nil {
		mutate(&o)
	}
	if s.mw, err = auth.NewAPIKey(o); err != nil {
		t.Fatal(err)
	}
	return s
}

var scopesHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	w.Header().Set("X-Subject", id.Subject())
	w.Header().Set("X-Method", string(id.Method()))
	w.Header().Set("X-Scopes", strings.Join(id.Scopes(), " "))
})

func doHeader(h http.Handler, name string, vals ...string) (*httptest.ResponseRecorder, error) {
	r := httptest.NewRequest(http.MethodGet, "/v1/invoices", nil)
	for _, v := range vals {
		r.Header.Add(name, v)
	}
	ctx, reason := problem.WithReason(r.Context())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w, reason.Err()
}

func TestGenerateAPIKey(t *testing.T) {
	g, err := auth.GenerateAPIKey("live")
	if err != nil {
		t.Fatal(err)
	}
	prefix, id, err := auth.ParseAPIKey(g.Key)
	if err != nil || prefix != "live" || id != g.ID {
		t.Fatalf("ParseAPIKey(%q) = %q, %q, %v", g.Key, prefix, id, err)
	}
	if !strings.HasPrefix(g.Key, "live_"+g.ID+"_") || len(g.Key) != len("live_")+16+1+52 {
		t.Errorf("layout of %q", g.Key)
	}
	if g.Hash != auth.HashAPIKey(g.Key) || len(g.Hash) != 64 || strings.Contains(g.Hash, g.Key) {
		t.Errorf("hash %q", g.Hash)
	}
	seen := map[string]bool{}
	for range 100 {
		g, _ := auth.GenerateAPIKey("")
		if seen[g.Key] || seen[g.ID] || !strings.HasPrefix(g.Key, auth.DefaultAPIKeyPrefix+"_") {
			t.Fatalf("repeated or badly prefixed key %q", g.Key)
		}
		seen[g.Key], seen[g.ID] = true, true
	}
	for _, p := range []string{"Live", "li_ve", "a-b", strings.Repeat("a", 17), "ké"} {
		if _, err := auth.GenerateAPIKey(p); !errors.Is(err, auth.ErrAPIKeyPrefix) {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
}

func TestAPIKey(t *testing.T) {
	s := newAPIKeySetup(t, nil)
	other, _ := auth.GenerateAPIKey("test")
	unknown, _ := auth.GenerateAPIKey("")
	wrongSecret := wrongSecretOf(s.live.Key)
	tests := []struct {
		name   string
		vals   []string
		status int
		reason error
	}{
		{name: "a valid key authenticates with its scopes", vals: []string{s.live.Key}, status: 200},
		{name: "no key asks for one", status: 401, reason: auth.ErrNoCredentials},
		{name: "an unknown key is refused", vals: []string{unknown.Key}, status: 401, reason: auth.ErrInvalidCredentials},
		{name: "a known ID with a wrong secret is refused", vals: []string{wrongSecret}, status: 401, reason: auth.ErrInvalidCredentials},
		{name: "an expired key is refused", vals: []string{s.expired.Key}, status: 401, reason: auth.ErrInvalidCredentials},
		{name: "a key with another prefix is malformed", vals: []string{other.Key}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "an empty header is malformed", vals: []string{""}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a key with surrounding text is malformed", vals: []string{"key=" + s.live.Key}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "an upper-cased key is malformed", vals: []string{strings.ToUpper(s.live.Key)}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a truncated key is malformed", vals: []string{s.live.Key[:len(s.live.Key)-1]}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a non-canonical last character is malformed", vals: []string{s.live.Key[:len(s.live.Key)-1] + "b"}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "an ID and secret joined by a letter instead of an underscore are malformed", vals: []string{joinedWithout(s.live.Key)}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "two key headers are malformed", vals: []string{s.live.Key, s.live.Key}, status: 401, reason: auth.ErrMalformedCredentials},
		{name: "a huge header is malformed", vals: []string{strings.Repeat("a", 1<<20)}, status: 401, reason: auth.ErrMalformedCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, reason := doHeader(s.mw.Handler(scopesHandler), "X-API-Key", tt.vals...)
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (%v)", w.Code, tt.status, reason)
			}
			if tt.status == 200 {
				if w.Header().Get("X-Subject") != "svc-billing" || w.Header().Get("X-Method") != string(identity.MethodAPIKey) || w.Header().Get("X-Scopes") != "read write" {
					t.Errorf("identity: %v", w.Header())
				}
				return
			}
			if !errors.Is(reason, tt.reason) {
				t.Errorf("reason = %v; want %v", reason, tt.reason)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != `ApiKey realm="api"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if strings.Contains(w.Body.String(), "hg_") {
				t.Errorf("body reflects the key: %s", w.Body.String())
			}
		})
	}
}

// Regression for gofiber/keyauth#97: the examples read the key from the
// URL, where it is written to access logs, proxies and browser history and
// sent on in Referer. A key is read from its header only; one in the query
// string, a form or a cookie is no credential.
func TestRegressionFiberKeyauth97KeyOutsideItsHeaderIsNotRead(t *testing.T) {
	s := newAPIKeySetup(t, nil)
	key := url.QueryEscape(s.live.Key)
	for _, tt := range []struct {
		name string
		r    *http.Request
	}{
		{"a key in the query string", httptest.NewRequest(http.MethodGet, "/v1/invoices?api_key="+key, nil)},
		{"a key in a query parameter named like the header", httptest.NewRequest(http.MethodGet, "/v1/invoices?X-API-Key="+key, nil)},
		{"a key as access_token", httptest.NewRequest(http.MethodGet, "/v1/invoices?access_token="+key, nil)},
		{"a key in a form", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/v1/invoices", strings.NewReader("api_key="+key))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}()},
		{"a key in a cookie", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/v1/invoices", nil)
			r.AddCookie(&http.Cookie{Name: "api_key", Value: s.live.Key})
			return r
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, reason := problem.WithReason(tt.r.Context())
			w := httptest.NewRecorder()
			s.mw.Handler(scopesHandler).ServeHTTP(w, tt.r.WithContext(ctx))
			if w.Code != http.StatusUnauthorized || !errors.Is(reason.Err(), auth.ErrNoCredentials) {
				t.Errorf("status %d, reason %v; want 401 and %v", w.Code, reason.Err(), auth.ErrNoCredentials)
			}
		})
	}
}

// Found in review: ratelimit.ByAPIKey, put after this middleware as its
// documentation says, hashed the raw header value, so every spelling of one
// key that this middleware accepts ("Bearer K", "bearer K", "Bearer  K")
// had a budget of its own. Both now read the value through one parser
// (internal/httptoken.SplitCredentials): every spelling accepted here is
// one rate-limit key.
func TestAPIKeySpellingsShareOneRateLimitBudget(t *testing.T) {
	for _, tt := range []struct {
		header    string
		spellings func(key string) []string
	}{
		{"Authorization", func(k string) []string {
			return []string{"Bearer " + k, "bearer " + k, "BEARER " + k, "Bearer  " + k, "Bearer   " + k}
		}},
		{"X-API-Key", func(k string) []string { return []string{k} }},
	} {
		t.Run(tt.header, func(t *testing.T) {
			s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Header = tt.header })
			lim, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{
				{Name: "key", Rate: 1, Period: time.Hour, Key: ratelimit.ByAPIKey(tt.header)},
			}})
			if err != nil {
				t.Fatal(err)
			}
			h := s.mw.Handler(lim.Handler(scopesHandler))
			admitted := 0
			for _, v := range tt.spellings(s.live.Key) {
				if w, _ := doHeader(s.mw.Handler(scopesHandler), tt.header, v); w.Code != http.StatusOK {
					t.Fatalf("%q is not accepted: %d", v, w.Code)
				}
				switch w, _ := doHeader(h, tt.header, v); w.Code {
				case http.StatusOK:
					admitted++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("%q: status %d", v, w.Code)
				}
			}
			if admitted != 1 {
				t.Fatalf("one API key, limit 1 per hour: %d requests admitted", admitted)
			}
		})
	}
}

func TestAPIKeyInAuthorizationHeader(t *testing.T) {
	s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Header = "authorization" })
	h := s.mw.Handler(scopesHandler)
	for _, tt := range []struct {
		name   string
		val    string
		status int
	}{
		{"the Bearer scheme carries the key", "Bearer " + s.live.Key, 200},
		{"the scheme is case-insensitive", "bEARER " + s.live.Key, 200},
		{"several spaces may follow the scheme", "Bearer   " + s.live.Key, 200},
		{"a tab is not a space after the scheme", "Bearer\t" + s.live.Key, 401},
		{"a space before the scheme is malformed", " Bearer " + s.live.Key, 401},
		{"a bare key is malformed", s.live.Key, 401},
		{"another scheme is malformed", "Basic " + s.live.Key, 401},
		{"a glued scheme is malformed", "Bearer" + s.live.Key, 401},
		{"a value longer than the header bound is refused, valid key or not", "Bearer " + strings.Repeat(" ", 256) + s.live.Key, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := doHeader(h, "Authorization", tt.val)
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d", w.Code, tt.status)
			}
			if tt.status == 401 && w.Header().Get("WWW-Authenticate") != `Bearer realm="api"` {
				t.Errorf("challenge %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
	// The custom header is not read when the key goes in Authorization.
	if w, _ := doHeader(h, "X-API-Key", s.live.Key); w.Code != 401 {
		t.Errorf("X-API-Key read: %d", w.Code)
	}
}

func TestAPIKeyRevocation(t *testing.T) {
	s := newAPIKeySetup(t, nil)
	h := s.mw.Handler(scopesHandler)
	if w, _ := doHeader(h, "X-API-Key", s.live.Key); w.Code != 200 {
		t.Fatal(w.Code)
	}
	s.keys.Revoke(s.live.ID)
	if w, _ := doHeader(h, "X-API-Key", s.live.Key); w.Code != 401 {
		t.Errorf("revoked key: %d", w.Code)
	}
}

func TestAPIKeyAttemptLimiter(t *testing.T) {
	lim := newFakeLimiter(2)
	s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Limiter = lim })
	h := s.mw.Handler(scopesHandler)
	wrong := wrongSecretOf(s.live.Key)
	for range 2 {
		if w, _ := doHeader(h, "X-API-Key", wrong); w.Code != 401 {
			t.Fatal(w.Code)
		}
	}
	w, reason := doHeader(h, "X-API-Key", s.live.Key)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "3" {
		t.Fatalf("status %d Retry-After %q; want 429 3", w.Code, w.Header().Get("Retry-After"))
	}
	if d, ok := auth.RetryAfter(reason); !ok || d != 2100*time.Millisecond || !errors.Is(reason, auth.ErrTooManyAttempts) || !errors.Is(reason, errLimited) {
		t.Errorf("reason %v, RetryAfter %v %v", reason, d, ok)
	}
	if lim.failuresOf(s.live.ID+"|192.0.2.1") != 2 {
		t.Errorf("failures keyed by key ID and client address: %v", lim.failures)
	}
}

// A valid key clears its failed attempts, as a valid password does: a
// client that mistypes now and then is never locked out by failures its
// later successes followed.
func TestAPIKeySuccessResetsTheAttempts(t *testing.T) {
	lim := newFakeLimiter(2)
	s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Limiter = lim })
	h := s.mw.Handler(scopesHandler)
	wrong := wrongSecretOf(s.live.Key)
	for i, tt := range []struct {
		key    string
		status int
	}{
		{wrong, 401},
		{s.live.Key, 200},
		{wrong, 401},
		{s.live.Key, 200},
		{wrong, 401},
		{s.live.Key, 200},
	} {
		if w, reason := doHeader(h, "X-API-Key", tt.key); w.Code != tt.status {
			t.Fatalf("request %d: status %d; want %d (%v)", i, w.Code, tt.status, reason)
		}
	}
	if n := lim.failuresOf(s.live.ID + "|192.0.2.1"); n != 0 {
		t.Errorf("failures after a success = %d; want 0", n)
	}
}

type failingKeys struct{}

func (failingKeys) LookupAPIKey(context.Context, string) (auth.StoredAPIKey, bool, error) {
	return auth.StoredAPIKey{}, false, errStoreDown
}

func TestAPIKeyStoreFailureIs503(t *testing.T) {
	m := auth.MustNewAPIKey(auth.APIKeyOptions{Keys: failingKeys{}})
	g, _ := auth.GenerateAPIKey("")
	w, reason := doHeader(m.Handler(scopesHandler), "X-API-Key", g.Key)
	if w.Code != 503 || !errors.Is(reason, auth.ErrUnavailable) || w.Header().Get("WWW-Authenticate") != "" || w.Header().Get("Retry-After") != "5" {
		t.Errorf("status %d reason %v", w.Code, reason)
	}
}

func TestNewAPIKeyValidatesOptions(t *testing.T) {
	keys := auth.NewMemoryAPIKeys()
	for _, tt := range []struct {
		name string
		opts auth.APIKeyOptions
		want string
	}{
		{"Keys is required", auth.APIKeyOptions{}, "Keys is required"},
		{"a bad prefix is refused", auth.APIKeyOptions{Keys: keys, Prefix: "A_B"}, "Prefix"},
		{"a header with a space is refused", auth.APIKeyOptions{Keys: keys, Header: "X API Key"}, "Header"},
		{"a scheme without Authorization is refused", auth.APIKeyOptions{Keys: keys, Scheme: "ApiKey"}, "Scheme"},
		{"a scheme with a space is refused", auth.APIKeyOptions{Keys: keys, Header: "Authorization", Scheme: "Api Key"}, "Scheme"},
		{"a realm with a quote is refused", auth.APIKeyOptions{Keys: keys, Realm: `"`}, "Realm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.NewAPIKey(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewAPIKey = %v; want an error about %s", err, tt.want)
			}
		})
	}
	var zero auth.APIKey
	if w, _ := doHeader(zero.Handler(scopesHandler), "X-API-Key", "x"); w.Code != 401 {
		t.Errorf("zero APIKey: %d", w.Code)
	}
}

func TestMemoryAPIKeysValidates(t *testing.T) {
	g, _ := auth.GenerateAPIKey("")
	keys := auth.NewMemoryAPIKeys()
	for _, tt := range []struct {
		name, id, hash string
	}{
		{"an ID of the wrong length", g.ID[:15], g.Hash},
		{"an ID outside the alphabet", strings.ToUpper(g.ID), g.Hash},
		{"the key itself as hash", g.ID, g.Key},
		{"a short hash", g.ID, g.Hash[:63]},
	} {
		if err := keys.Add(tt.id, auth.StoredAPIKey{Hash: tt.hash}); !errors.Is(err, auth.ErrInvalidAPIKey) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if keys.Len() != 0 {
		t.Error("an invalid key was stored")
	}
}

func TestAPIKeyEndToEndAndConcurrent(t *testing.T) {
	s := newAPIKeySetup(t, nil)
	srv := httptest.NewServer(s.mw.Handler(scopesHandler))
	defer srv.Close()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 20 {
				key, want := s.live.Key, 200
				if (g+i)%2 == 1 {
					key, want = s.expired.Key, 401
				}
				if g == 5 && i == 10 {
					extra, _ := auth.GenerateAPIKey("")
					_ = s.keys.Add(extra.ID, auth.StoredAPIKey{Hash: extra.Hash})
				}
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.Header.Set("X-API-Key", key)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("status %d; want %d", resp.StatusCode, want)
				}
			}
		})
	}
	wg.Wait()
}

func TestAPIKeyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	s := newAPIKeySetup(t, nil)
	h := s.mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tt := range []struct {
		name, key string
		max       float64
	}{
		// identity.New (1 for scopes), NewContext (2), WithContext (1).
		{"a valid key", s.live.Key, 4},
		// The challenge and the problem headers go into per-response
		// slots of a pooled chunk: nothing is allocated.
		{"a malformed key", "nope", 0},
		{"an unknown key", strings.Replace(s.live.Key, s.live.ID, "aaaaaaaaaaaaaaaa", 1), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-API-Key", tt.key)
			w := &discard{h: http.Header{}}
			got := testing.AllocsPerRun(100, func() {
				clear(w.h)
				h.ServeHTTP(w, r)
			})
			if got > tt.max {
				t.Errorf("allocations = %v; want at most %v", got, tt.max)
			}
		})
	}
}

// ParseAPIKey is documented not to allocate, whatever it is given.
func TestParseAPIKeyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	g, err := auth.GenerateAPIKey("live")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, key string }{
		{"a valid key", g.Key},
		{"a key of the wrong length", "live_short_key"},
		{"a key with a character outside the alphabet", strings.Replace(g.Key, g.ID, "!"+g.ID[1:], 1)},
		{"an empty string", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() { _, _, _ = auth.ParseAPIKey(tt.key) }); n != 0 {
				t.Errorf("ParseAPIKey allocates %v", n)
			}
		})
	}
}

// FuzzAPIKeyExtraction checks key extraction and parsing from a header
// value: never a panic, never a 5xx, and only the one valid key
// authenticates.
func FuzzAPIKeyExtraction(f *testing.F) {
	s := newAPIKeySetup(f, func(o *auth.APIKeyOptions) { o.Header = "Authorization" })
	f.Add("Bearer " + s.live.Key)
	f.Add("Bearer " + s.expired.Key)
	f.Add(s.live.Key)
	f.Add("bearer    " + s.live.Key)
	f.Add("Bearer hg_" + strings.Repeat("a", 16) + "_" + strings.Repeat("a", 52))
	f.Add("Bearer ")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{v}
		id, err := s.mw.Authenticate(r)
		if err == nil {
			if !strings.HasSuffix(v, s.live.Key) || id.Subject() != "svc-billing" {
				t.Fatalf("%q authenticated as %q", v, id.Subject())
			}
			return
		}
		if !errors.Is(err, auth.ErrMalformedCredentials) && !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, auth.ErrNoCredentials) {
			t.Fatalf("%q: unexpected error %v", v, err)
		}
		if !id.IsZero() {
			t.Fatal("identity returned with an error")
		}
		// ParseAPIKey never panics either, and what it accepts has the
		// documented layout.
		if prefix, kid, err := auth.ParseAPIKey(v); err == nil {
			if v != prefix+"_"+kid+v[len(prefix)+1+len(kid):] || len(kid) != 16 {
				t.Fatalf("ParseAPIKey(%q) = %q, %q", v, prefix, kid)
			}
		}
	})
}

func TestRetryAfterIsAtLeastOneSecond(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want string
	}{{0, "1"}, {-time.Second, "1"}, {time.Millisecond, "1"}, {time.Second, "1"}, {1001 * time.Millisecond, "2"}, {1 << 62, "2147483648"}} {
		lim := newFakeLimiter(0)
		lim.wait = tt.wait
		s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Limiter = lim })
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-API-Key", s.live.Key)
		if err := s.mw.Check(r); !errors.Is(err, auth.ErrTooManyAttempts) || err.Error() != auth.ErrTooManyAttempts.Error() {
			t.Fatalf("Check = %v", err)
		}
		w, _ := doHeader(s.mw.Handler(scopesHandler), "X-API-Key", s.live.Key)
		if got := w.Header().Get("Retry-After"); w.Code != 429 || got != tt.want {
			t.Errorf("wait %v: %d Retry-After %q; want 429 %q", tt.wait, w.Code, got, tt.want)
		}
	}
	if _, ok := auth.RetryAfter(auth.ErrInvalidCredentials); ok {
		t.Error("RetryAfter of another error")
	}
}

// wrongSecretOf returns key with another secret, still canonical: its last
// two characters become "aa", or "ba" when key already ends in "a?". (A
// fixed "aa" equalled the real ending in one key of 64: the last character
// of a canonical secret is "a" or "q", so the tests that used it were
// flaky.)
func wrongSecretOf(key string) string {
	c := "a"
	if key[len(key)-2] == 'a' {
		c = "b"
	}
	return key[:len(key)-2] + c + "a"
}

// joinedWithout replaces the underscore between a key's ID and its secret
// with a base32 letter: every other character is still valid.
func joinedWithout(key string) string {
	i := strings.LastIndexByte(key, '_')
	return key[:i] + "a" + key[i+1:]
}
