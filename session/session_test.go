package session_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// cookieStoreRevoking is a CookieStore with the Revocations store rev.
func cookieStoreRevoking(t testing.TB, now func() time.Time, rev session.Store) *session.CookieStore {
	t.Helper()
	return newCookieStore(t, now, session.CookieStoreOptions{Keys: []session.KeyPair{{HashKey: key(1), BlockKey: key(2)}}, Revocations: rev})
}

func cookieStore(t testing.TB, now func() time.Time, keys ...session.KeyPair) *session.CookieStore {
	t.Helper()
	if len(keys) == 0 {
		keys = []session.KeyPair{{HashKey: key(1), BlockKey: key(2)}}
	}
	return newCookieStore(t, now, session.CookieStoreOptions{Keys: keys})
}

func newCookieStore(t testing.TB, now func() time.Time, o session.CookieStoreOptions) *session.CookieStore {
	t.Helper()
	if now != nil {
		o = o.WithNow(now)
	}
	s, err := session.NewCookieStore(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func memoryStore(t testing.TB, o session.MemoryOptions) *session.MemoryStore {
	t.Helper()
	s, err := session.NewMemoryStore(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStores(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store { return memoryStore(t, session.MemoryOptions{}) })
		t.Run("update", func(t *testing.T) { storetest.Update(t, memoryStore(t, session.MemoryOptions{})) })
	})
	t.Run("cookie", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) session.Store { return cookieStore(t, nil) })
	})
}

func TestNewRejectsUnsafeOrImpossibleOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  session.Options
		field string
	}{
		{"a __Host- cookie with a domain", session.Options{CookieDomain: "example.com"}, "CookieDomain"},
		{"a __Host- cookie with a sub-path", session.Options{CookiePath: "/app"}, "CookiePath"},
		{"a __Host- cookie without Secure", session.Options{CookieName: "__Host-s", DangerouslyAllowInsecureCookie: true}, "DangerouslyAllowInsecureCookie"},
		{"a __Secure- cookie without Secure", session.Options{CookieName: "__Secure-s", DangerouslyAllowInsecureCookie: true}, "DangerouslyAllowInsecureCookie"},
		// RFC 6265bis matches the prefixes case-insensitively, as current
		// browsers do.
		{"a __HOST- cookie with a domain", session.Options{CookieName: "__HOST-s", CookieDomain: "example.com"}, "CookieDomain"},
		{"a __host- cookie with a sub-path", session.Options{CookieName: "__host-s", CookiePath: "/app"}, "CookiePath"},
		{"a __secure- cookie without Secure", session.Options{CookieName: "__secure-s", DangerouslyAllowInsecureCookie: true}, "DangerouslyAllowInsecureCookie"},
		{"SameSite=None without Secure", session.Options{DangerouslyAllowInsecureCookie: true, SameSite: http.SameSiteNoneMode}, "SameSite"},
		{"an unknown SameSite mode", session.Options{SameSite: 9}, "SameSite"},
		{"a negative MaxBytes", session.Options{MaxBytes: -1}, "MaxBytes"},
		{"a cookie name with a space", session.Options{CookieName: "my session"}, "CookieName"},
		{"a path without a slash", session.Options{CookieName: "s", CookiePath: "app"}, "CookiePath"},
		{"a path with a semicolon", session.Options{CookieName: "s", CookiePath: "/a;b"}, "CookiePath"},
		{"a domain that is not a host name", session.Options{CookieName: "s", CookieDomain: "exa mple.com"}, "CookieDomain"},
		{"a negative idle timeout", session.Options{IdleTimeout: -1}, "IdleTimeout"},
		{"a negative absolute timeout", session.Options{AbsoluteTimeout: -1}, "AbsoluteTimeout"},
		{"an idle timeout longer than the absolute one", session.Options{IdleTimeout: 2 * time.Hour, AbsoluteTimeout: time.Hour}, "IdleTimeout"},
		{"the token in the Cookie header", session.Options{TokenHeader: "cookie"}, "TokenHeader"},
		{"the token in the Authorization header", session.Options{TokenHeader: "Authorization"}, "TokenHeader"},
		{"a token header name that is not a token", session.Options{TokenHeader: "X Token"}, "TokenHeader"},
		// Found in review: a CORS-safelisted header lets another site
		// choose the session of a request.
		{"a token header any site may send", session.Options{TokenHeader: "accept-language"}, "TokenHeader"},
		{"the token in the Range header", session.Options{TokenHeader: "Range"}, "TokenHeader"},
		{"the token in the Content-Language header", session.Options{TokenHeader: "content-language"}, "TokenHeader"},
		{"the token in the Set-Cookie header", session.Options{TokenHeader: "Set-Cookie"}, "TokenHeader"},
		{"the token in the Host header", session.Options{TokenHeader: "host"}, "TokenHeader"},
		// Found in review: New took them, and every session was stored,
		// then answered with 500 (ErrTooLarge), since no cookie could
		// carry its ID.
		{"a cookie name so long no session cookie fits", session.Options{CookieName: strings.Repeat("s", 4050)}, "CookieName"},
		{"a path so long no session cookie fits", session.Options{CookieName: "s", CookiePath: "/" + strings.Repeat("p", 4050)}, "CookiePath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := session.New(tt.opts)
			if !errors.Is(err, session.ErrOption) {
				t.Fatalf("New = %v, want ErrOption", err)
			}
			var oe *session.OptionError
			if !errors.As(err, &oe) || oe.Field != tt.field {
				t.Errorf("error %v, want field %s", err, tt.field)
			}
		})
	}
}

func TestNewReportsAllProblemsTogether(t *testing.T) {
	_, err := session.New(session.Options{CookieDomain: "example.com", CookiePath: "/x", IdleTimeout: -1})
	if n := strings.Count(err.Error(), "session: option"); n != 3 {
		t.Errorf("got %d problems in %q, want 3", n, err)
	}
}

func setCookie(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	v := rec.Header().Values("Set-Cookie")
	if len(v) != 1 {
		t.Fatalf("Set-Cookie = %q, want one", v)
	}
	return v[0]
}

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name    string
		opts    session.Options
		prefix  string
		want    []string
		notWant []string
	}{
		{"the default is a __Host- cookie, Secure, HttpOnly, Lax, Path=/, session-only",
			session.Options{}, "__Host-session=",
			[]string{"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax"}, []string{"Domain", "Max-Age", "Expires"}},
		{"a persistent cookie has a Max-Age equal to the idle timeout",
			session.Options{PersistentCookie: true, IdleTimeout: time.Hour}, "__Host-session=",
			[]string{"; Max-Age=3600", "; Secure"}, nil},
		{"SameSite Strict is kept", session.Options{SameSite: http.SameSiteStrictMode}, "__Host-session=",
			[]string{"; SameSite=Strict"}, nil},
		{"SameSite None is allowed with Secure", session.Options{SameSite: http.SameSiteNoneMode}, "__Host-session=",
			[]string{"; SameSite=None", "; Secure"}, nil},
		{"a domain cookie needs a name without __Host-", session.Options{CookieName: "sid", CookieDomain: "example.com"}, "sid=",
			[]string{"; Domain=example.com", "; Secure"}, nil},
		{"a domain's leading dot is not sent (RFC 6265 §4.1.1)", session.Options{CookieName: "sid", CookieDomain: ".example.com"}, "sid=",
			[]string{"; Domain=example.com"}, []string{"Domain=."}},
		{"the insecure escape hatch drops Secure and the prefix", session.Options{DangerouslyAllowInsecureCookie: true}, "session=",
			[]string{"; HttpOnly"}, []string{"Secure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := storetest.NewApp(t, tt.opts)
			rec, _ := a.Do(t, "/set?k=a&v=b", "")
			c := setCookie(t, rec)
			if !strings.HasPrefix(c, tt.prefix) {
				t.Errorf("cookie %q, want prefix %q", c, tt.prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(c, w) {
					t.Errorf("cookie %q lacks %q", c, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(c, w) {
					t.Errorf("cookie %q has %q", c, w)
				}
			}
			if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
				t.Errorf("Vary = %q, want Cookie", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
}

func TestResponsesWithoutCookieHaveNoCacheHeaders(t *testing.T) {
	a := storetest.NewApp(t, session.Options{})
	_, tok := a.Do(t, "/set?k=a&v=b", "")
	rec, _ := a.Do(t, "/get?k=a", tok)
	if rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Cache-Control") != "" || rec.Header().Get("Vary") != "" {
		t.Errorf("read of an existing session set headers: %v", rec.Header())
	}
	// A changed server-side session keeps its token: no new cookie.
	rec, _ = a.Do(t, "/set?k=a&v=c", tok)
	if rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("unchanged token re-sent: %q", rec.Header().Get("Set-Cookie"))
	}
}

func newApp(t *testing.T, store func(now func() time.Time) session.Store, o session.Options) (*storetest.App, *clock) {
	t.Helper()
	c := newClock()
	o.Store = store(c.Now)
	return storetest.NewApp(t, o.WithNow(c.Now)), c
}

var stores = []struct {
	name string
	new  func(t *testing.T) func(now func() time.Time) session.Store
}{
	{"memory", func(t *testing.T) func(now func() time.Time) session.Store {
		return func(now func() time.Time) session.Store {
			return memoryStore(t, session.MemoryOptions{}.WithNow(now))
		}
	}},
	{"cookie", func(t *testing.T) func(now func() time.Time) session.Store {
		return func(now func() time.Time) session.Store { return cookieStore(t, now) }
	}},
	// A store that embeds a CookieStore must get the same checks as the
	// CookieStore itself (found in review: only a bare one was seen).
	{"wrapped cookie", func(t *testing.T) func(now func() time.Time) session.Store {
		return func(now func() time.Time) session.Store { return wrappedCookieStore{cookieStore(t, now)} }
	}},
	// Without an Adder, a CookieStore's Remove checks and then revokes
	// (found in review: Renew then fell back to a Find that checks the
	// presented copy's own expiry, and logged active users out).
	{"cookie without Add", func(t *testing.T) func(now func() time.Time) session.Store {
		return func(now func() time.Time) session.Store {
			return cookieStoreRevoking(t, now, revocationsWithoutAdd{memoryStore(t, session.MemoryOptions{}.WithNow(now))})
		}
	}},
}

// wrappedCookieStore is an instrumentation wrapper that embeds the
// CookieStore, so its methods, unexported ones included, are promoted.
type wrappedCookieStore struct{ *session.CookieStore }

func TestTimeoutsAreEnforcedByTheServer(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Run("an idle session expires", func(t *testing.T) {
				a, c := newApp(t, st.new(t), session.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
				_, tok := a.Do(t, "/login?user=ann", "")
				c.Advance(10*time.Minute + time.Second)
				rec, after := a.Do(t, "/whoami", tok)
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("idle session still valid: %d", rec.Code)
				}
				if after != tok || rec.Header().Get("Set-Cookie") != "" {
					t.Errorf("a response to an expired token sent Set-Cookie %q: it could drop a fresh login", rec.Header().Get("Set-Cookie"))
				}
			})
			t.Run("activity keeps a session alive past the idle timeout", func(t *testing.T) {
				a, c := newApp(t, st.new(t), session.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour})
				_, tok := a.Do(t, "/login?user=ann", "")
				for range 5 {
					c.Advance(5 * time.Minute)
					var rec *httptest.ResponseRecorder
					rec, tok = a.Do(t, "/whoami", tok)
					if rec.Code != http.StatusOK {
						t.Fatalf("active session expired: %d", rec.Code)
					}
				}
			})
			t.Run("an active session expires at the absolute timeout", func(t *testing.T) {
				a, c := newApp(t, st.new(t), session.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 30 * time.Minute})
				_, tok := a.Do(t, "/login?user=ann", "")
				for i := range 7 {
					c.Advance(5 * time.Minute)
					var rec *httptest.ResponseRecorder
					rec, tok = a.Do(t, "/whoami", tok)
					if i < 5 && rec.Code != http.StatusOK {
						t.Fatalf("after %d min: %d", 5*(i+1), rec.Code)
					}
					if i == 6 && rec.Code != http.StatusUnauthorized {
						t.Fatalf("session alive past the absolute timeout")
					}
				}
			})
			t.Run("renewing restarts the absolute timeout", func(t *testing.T) {
				a, c := newApp(t, st.new(t), session.Options{IdleTimeout: 20 * time.Minute, AbsoluteTimeout: 30 * time.Minute})
				_, tok := a.Do(t, "/set?k=a&v=1", "")
				c.Advance(15 * time.Minute)
				_, tok = a.Do(t, "/login?user=ann", tok)
				c.Advance(20*time.Minute - time.Second)
				if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusOK {
					t.Errorf("renewed session expired early: %d", rec.Code)
				}
			})
			// Found in review: Renew restarted the absolute timeout, so
			// a session renewed without a new login (periodic ID
			// renewal, a role change the holder can trigger) never met
			// it, and a stolen cookie lived as long as it was renewed.
			t.Run("renewing without a login keeps the absolute timeout", func(t *testing.T) {
				a, c := newApp(t, st.new(t), session.Options{IdleTimeout: 20 * time.Minute, AbsoluteTimeout: 30 * time.Minute})
				_, tok := a.Do(t, "/login?user=ann", "")
				for i := range 3 {
					c.Advance(8 * time.Minute)
					rec, renewed := a.Do(t, "/renew", tok)
					if rec.Code != http.StatusOK || renewed == tok || renewed == "" {
						t.Fatalf("renewal after %d min: %d, token %q", 8*(i+1), rec.Code, renewed)
					}
					tok = renewed
				}
				c.Advance(5 * time.Minute) // 29 minutes after the login
				if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusOK {
					t.Fatalf("renewed session lost before the absolute timeout: %d", rec.Code)
				}
				c.Advance(2 * time.Minute) // 31 minutes after the login
				if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
					t.Errorf("a renewed session outlived the absolute timeout of its login: %d", rec.Code)
				}
			})
			// An AbsoluteTimeout shorter than DefaultIdleTimeout, with
			// IdleTimeout left at its default, was refused by New with an
			// error about IdleTimeout, an option the caller never set.
			for _, tc := range []struct {
				name     string
				absolute time.Duration
			}{
				{"an absolute timeout of 15 minutes alone", 15 * time.Minute},
				{"an absolute timeout of 1 second alone", time.Second},
			} {
				t.Run(tc.name+" is accepted and enforced", func(t *testing.T) {
					a, c := newApp(t, st.new(t), session.Options{AbsoluteTimeout: tc.absolute})
					_, tok := a.Do(t, "/login?user=ann", "")
					c.Advance(tc.absolute / 2)
					if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusOK {
						t.Errorf("session lost before its absolute timeout: %d", rec.Code)
					}
					c.Advance(tc.absolute/2 + time.Millisecond)
					if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
						t.Errorf("session alive past its absolute timeout: %d", rec.Code)
					}
				})
			}
			// A timeout too long to matter, such as math.MaxInt64 for
			// "never", once overflowed the deadline arithmetic: every
			// session was taken as expired at once.
			for _, tc := range []struct {
				name           string
				idle, absolute time.Duration
			}{
				{"an absolute timeout of MaxInt64", 0, math.MaxInt64},
				{"an absolute timeout of 250 years", 0, 250 * 365 * 24 * time.Hour},
				{"both timeouts MaxInt64", math.MaxInt64, math.MaxInt64},
			} {
				t.Run(tc.name+" ends no session early", func(t *testing.T) {
					a, c := newApp(t, st.new(t), session.Options{IdleTimeout: tc.idle, AbsoluteTimeout: tc.absolute})
					_, tok := a.Do(t, "/set?k=a&v=1", "")
					c.Advance(5 * time.Minute)
					_, tok = a.Do(t, "/login?user=ann", tok)
					c.Advance(5 * time.Minute)
					if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusOK {
						t.Errorf("logged-in session lost: %d", rec.Code)
					}
					if rec, _ := a.Do(t, "/get?k=a", tok); rec.Body.String() != "1" {
						t.Errorf("value lost across the login: %q", rec.Body.String())
					}
				})
			}
		})
	}
}

func TestIdleDeadlineIsRefreshedSparingly(t *testing.T) {
	var commits atomic.Int32
	c := newClock()
	ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
	a := storetest.NewApp(t, session.Options{Store: countingStore{ms, &commits}, IdleTimeout: 16 * time.Minute}.WithNow(c.Now))
	_, tok := a.Do(t, "/set?k=a&v=1", "")
	commits.Store(0)
	for range 10 {
		c.Advance(5 * time.Second)
		a.Do(t, "/get?k=a", tok)
	}
	if n := commits.Load(); n != 0 {
		t.Errorf("%d store writes for reads within a minute, want 0", n)
	}
	c.Advance(2 * time.Minute)
	a.Do(t, "/get?k=a", tok)
	if n := commits.Load(); n != 1 {
		t.Errorf("%d store writes after two idle minutes, want 1", n)
	}
}

// The record is refreshed once it is older than an eighth of the idle
// timeout or a minute, whichever is shorter, as Options.IdleTimeout says,
// and not a nanosecond before (mutations that read either bound
// otherwise failed no test).
func TestIdleDeadlineRefreshInterval(t *testing.T) {
	for _, tt := range []struct {
		name  string
		idle  time.Duration
		every time.Duration
	}{
		{"a 16-minute idle timeout is refreshed every minute", 16 * time.Minute, time.Minute},
		{"a 4-minute idle timeout is refreshed every 30 seconds, an eighth", 4 * time.Minute, 30 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var commits atomic.Int32
			c := newClock()
			ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
			a := storetest.NewApp(t, session.Options{Store: countingStore{ms, &commits}, IdleTimeout: tt.idle}.WithNow(c.Now))
			_, tok := a.Do(t, "/set?k=a&v=1", "")
			commits.Store(0)
			c.Advance(tt.every - time.Nanosecond)
			a.Do(t, "/get?k=a", tok)
			if n := commits.Load(); n != 0 {
				t.Errorf("%d store writes just before %v, want 0", n, tt.every)
			}
			c.Advance(time.Nanosecond)
			a.Do(t, "/get?k=a", tok)
			if n := commits.Load(); n != 1 {
				t.Errorf("%d store writes at %v, want 1", n, tt.every)
			}
		})
	}
}

type countingStore struct {
	session.Store
	n *atomic.Int32
}

func (s countingStore) Commit(ctx context.Context, rec session.Record) (string, error) {
	s.n.Add(1)
	return s.Store.Commit(ctx, rec)
}

func TestCookieStoreKeyRotation(t *testing.T) {
	oldKeys := session.KeyPair{HashKey: key(1), BlockKey: key(2)}
	newKeys := session.KeyPair{HashKey: key(3), BlockKey: key(4)}
	rev := memoryStore(t, session.MemoryOptions{})
	mk := func(keys ...session.KeyPair) *storetest.App {
		s, err := session.NewCookieStore(session.CookieStoreOptions{Keys: keys, Revocations: rev})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.NewApp(t, session.Options{Store: s})
	}
	_, tok := mk(oldKeys).Do(t, "/login?user=dave", "")

	t.Run("an old key still decodes during rotation", func(t *testing.T) {
		rotated := mk(newKeys, oldKeys)
		rec, _ := rotated.Do(t, "/whoami", tok)
		if rec.Body.String() != "dave" {
			t.Fatalf("old cookie rejected during rotation: %d", rec.Code)
		}
		_, fresh := rotated.Do(t, "/set?k=a&v=1", tok)
		if rec, _ := mk(newKeys).Do(t, "/whoami", fresh); rec.Body.String() != "dave" {
			t.Errorf("re-encoded cookie not under the new key: %d", rec.Code)
		}
	})
	t.Run("a cookie signed with a retired key gives a fresh empty session", func(t *testing.T) {
		rec, after := mk(newKeys).Do(t, "/whoami", tok)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("retired key accepted: %d", rec.Code)
		}
		if after != tok || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("a response to a retired key's cookie sent Set-Cookie %q", rec.Header().Get("Set-Cookie"))
		}
	})
}

func TestCookieStoreRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []session.KeyPair
	}{
		{"no keys", nil},
		{"a short hash key", []session.KeyPair{{HashKey: key(1)[:16], BlockKey: key(2)}}},
		{"an AES-128 block key", []session.KeyPair{{HashKey: key(1), BlockKey: key(2)[:16]}}},
		{"no block key", []session.KeyPair{{HashKey: key(1)}}},
		{"an all-zero hash key", []session.KeyPair{{HashKey: make([]byte, 32), BlockKey: key(2)}}},
		{"an all-zero block key", []session.KeyPair{{HashKey: key(1), BlockKey: make([]byte, 32)}}},
		{"the same key for both", []session.KeyPair{{HashKey: key(1), BlockKey: key(1)}}},
		{"a bad second pair", []session.KeyPair{{HashKey: key(1), BlockKey: key(2)}, {HashKey: key(3)[:31], BlockKey: key(4)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := session.NewCookieStore(session.CookieStoreOptions{Keys: tt.keys}); !errors.Is(err, session.ErrOption) {
				t.Errorf("NewCookieStore = %v, want ErrOption", err)
			}
		})
	}
}

// gorilla/sessions#109 and #186: a session grown past the cookie limit
// was silently dropped by the browser.
func TestCookieStoreSessionTooLargeIsAnError(t *testing.T) {
	var got error
	a := storetest.NewApp(t, session.Options{
		Store:    cookieStore(t, nil),
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(500) },
	})
	rec, _ := a.Do(t, "/set?k=big&v="+strings.Repeat("x", 4000), "")
	if rec.Code != http.StatusInternalServerError || !errors.Is(got, session.ErrTooLarge) {
		t.Errorf("status %d, err %v; want 500 ErrTooLarge", rec.Code, got)
	}
	if rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("oversized cookie sent")
	}
	// The default answer is 500, the application's fault, not the 503
	// with Retry-After of a store failure (a mutation that took the
	// store's ErrTooLarge for a failure failed no test).
	a = storetest.NewApp(t, session.Options{Store: cookieStore(t, nil)})
	rec, _ = a.Do(t, "/set?k=big&v="+strings.Repeat("x", 4000), "")
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Retry-After") != "" {
		t.Errorf("default answer %d, Retry-After %q; want 500 without it", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestMemoryStoreBoundHoldsUnderAFlood(t *testing.T) {
	c := newClock()
	ms := memoryStore(t, session.MemoryOptions{MaxSessions: 50}.WithNow(c.Now))
	a := storetest.NewApp(t, session.Options{Store: ms, IdleTimeout: time.Minute}.WithNow(c.Now))
	_, keep := a.Do(t, "/set?k=a&v=1", "")
	refused := 0
	for range 500 {
		if rec, _ := a.Do(t, "/set?k=a&v=1", ""); rec.Code == http.StatusServiceUnavailable {
			refused++
		}
	}
	if ms.Len() > 50 {
		t.Errorf("store holds %d sessions, bound 50", ms.Len())
	}
	if refused != 451 {
		t.Errorf("refused %d new sessions, want 451", refused)
	}
	if rec, _ := a.Do(t, "/set?k=a&v=2", keep); rec.Code != http.StatusOK {
		t.Errorf("an existing session cannot be updated when the store is full: %d", rec.Code)
	}
	c.Advance(2 * time.Minute)
	if rec, _ := a.Do(t, "/set?k=a&v=1", ""); rec.Code != http.StatusOK {
		t.Errorf("new session refused after the flood expired: %d", rec.Code)
	}
	if ms.Len() != 1 {
		t.Errorf("expired sessions not swept: %d left", ms.Len())
	}
}

// failingStore fails every operation while down is set.
type failingStore struct {
	session.Store
	down *atomic.Bool
}

var errDown = errors.New("connection refused")

func (s failingStore) Find(ctx context.Context, tok string) (session.Record, bool, error) {
	if s.down.Load() {
		return session.Record{}, false, errDown
	}
	return s.Store.Find(ctx, tok)
}

func (s failingStore) Commit(ctx context.Context, rec session.Record) (string, error) {
	if s.down.Load() {
		return "", errDown
	}
	return s.Store.Commit(ctx, rec)
}

func (s failingStore) Delete(ctx context.Context, rec session.Record) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.Delete(ctx, rec)
}

func TestStoreFailureIsA503NeverAnonymous(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		name := "eager"
		if lazy {
			name = "lazy"
		}
		t.Run(name, func(t *testing.T) {
			down := new(atomic.Bool)
			fs := failingStore{memoryStore(t, session.MemoryOptions{}), down}
			a := storetest.NewApp(t, session.Options{Store: fs, LazyLoad: lazy})
			_, tok := a.Do(t, "/login?user=erin", "")
			down.Store(true)
			for _, path := range []string{"/get?k=a", "/set?k=a&v=1", "/logout"} {
				rec, after := a.Do(t, path, tok)
				if rec.Code != http.StatusServiceUnavailable {
					t.Errorf("%s with the store down: %d %q, want 503", path, rec.Code, rec.Body.String())
				}
				if rec.Header().Get("Retry-After") == "" || rec.Header().Get("Content-Type") != problem.ContentType {
					t.Errorf("%s: 503 without Retry-After or problem JSON: %v", path, rec.Header())
				}
				if after != tok {
					t.Errorf("%s: cookie changed while the store was down", path)
				}
			}
			if rec, _ := a.Do(t, "/set?k=a&v=1", ""); rec.Code != http.StatusServiceUnavailable {
				t.Errorf("new session with the store down: %d", rec.Code)
			}
			down.Store(false)
			if rec, _ := a.Do(t, "/get?k=a", tok); rec.Code != http.StatusOK {
				t.Errorf("not recovered: %d", rec.Code)
			}
		})
	}
}

// deleteFailingStore fails Delete only, as a store that goes down between
// the load of a session and its logout.
type deleteFailingStore struct{ session.Store }

func (deleteFailingStore) Delete(context.Context, session.Record) error { return errDown }

func TestAFailedLogoutOrRenewIsA503EvenWhenTheHandlerIgnoresIt(t *testing.T) {
	for _, op := range []string{"Destroy", "Renew"} {
		t.Run(op, func(t *testing.T) {
			ms := memoryStore(t, session.MemoryOptions{})
			a := storetest.NewApp(t, session.Options{Store: ms})
			_, tok := a.Do(t, "/login?user=ivy", "")
			m := session.MustNew(session.Options{Store: deleteFailingStore{ms}})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				if op == "Destroy" {
					_ = s.Destroy() // error ignored: the page says "logged out"
				} else {
					_ = s.Renew()
				}
				_, _ = w.Write([]byte("done"))
			}))
			req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
			req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "done") {
				t.Errorf("%s failed in the store: %d %q, want 503", op, rec.Code, rec.Body.String())
			}
		})
	}
}

// Found in review: csrf's SessionID recipe read the cookie with r.Cookie,
// which takes a malformed value the session middleware skips; Token reads
// the one the middleware uses.
func TestTokenIsTheTokenTheMiddlewareUses(t *testing.T) {
	a := storetest.NewApp(t, session.Options{Store: memoryStore(t, session.MemoryOptions{}), TokenHeader: "Session-Token"})
	_, tok := a.Do(t, "/login?user=ivy", "")
	name := a.M.CookieName()
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"no token", http.Header{}, ""},
		{"the cookie", http.Header{"Cookie": {name + "=" + tok}}, tok},
		{"a planted malformed cookie first", http.Header{"Cookie": {name + "=x,y; " + name + "=" + tok}}, tok},
		{"a quoted cookie", http.Header{"Cookie": {name + `="` + tok + `"`}}, tok},
		{"the token header wins", http.Header{"Cookie": {name + "=other"}, "Session-Token": {tok}}, tok},
		{"an empty token header", http.Header{"Cookie": {name + "=" + tok}, "Session-Token": {""}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := a.M.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if id, ok := identity.FromRequest(r); ok {
					seen = id.Subject()
				}
			}))
			r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
			r.Header = tt.header
			got, ok := a.M.Token(r)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("Token = %q, %v; want %q", got, ok, tt.want)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if (seen == "ivy") != (tt.want == tok) {
				t.Errorf("the middleware saw %q, Token %q", seen, got)
			}
		})
	}
}

// Found in review: a request that loaded the session before another
// request's Login saved it after, was refused by the store, and answered
// with a deletion of the cookie, which, arriving after the login's
// response, logged the user out.
func TestARequestOverlappingALoginDoesNotDeleteItsCookie(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			o := session.Options{Store: st.new(t)(nil)}
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/set?k=a&v=1", "")
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { s.SetString("cart", "1") })
			<-loaded
			login, fresh := a.Do(t, "/login?user=ivy", tok)
			if fresh == "" || fresh == tok {
				t.Fatalf("login set no new cookie: %q", login.Header().Values("Set-Cookie"))
			}
			close(release)
			slow := <-done
			for _, c := range slow.Result().Cookies() {
				if c.Name == a.M.CookieName() && (c.MaxAge < 0 || c.Value == "") {
					t.Errorf("the overlapping request deletes the cookie: %q", slow.Header().Values("Set-Cookie"))
				}
			}
			if rec, _ := a.Do(t, "/whoami", fresh); rec.Body.String() != "ivy" {
				t.Errorf("the login does not hold: %d %q", rec.Code, rec.Body.String())
			}
		})
	}
}

func TestRejectionReasonIsRecorded(t *testing.T) {
	down := new(atomic.Bool)
	down.Store(true)
	a := storetest.NewApp(t, session.Options{Store: failingStore{memoryStore(t, session.MemoryOptions{}), down}})
	req := httptest.NewRequest("GET", "/get", nil)
	req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: strings.Repeat("A", 43)})
	ctx, reason := problem.WithReason(req.Context())
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req.WithContext(ctx))
	if !errors.Is(reason.Err(), session.ErrStore) || !errors.Is(reason.Err(), errDown) {
		t.Errorf("reason = %v", reason.Err())
	}
	if strings.Contains(rec.Body.String(), "refused") {
		t.Errorf("internal error reflected: %s", rec.Body.String())
	}
}

func TestIdentityIsInTheRequestContext(t *testing.T) {
	var got identity.Identity
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: "fay", Roles: []string{"admin"}, Scopes: []string{"read"}, Claims: map[string]any{"tenant": "t1", "n": 3}}))
			return
		}
		got, _ = identity.FromRequest(r)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	req := httptest.NewRequest("GET", "/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.Subject() != "fay" || !got.HasRole("admin") || !got.HasScope("read") || got.Method() != identity.MethodSession {
		t.Errorf("identity = %q %v %v %q", got.Subject(), got.Roles(), got.Scopes(), got.Method())
	}
	if v, _ := got.Claim("tenant"); v != "t1" {
		t.Errorf("claim tenant = %v", v)
	}
	if v, _ := got.Claim("n"); v != 3.0 {
		t.Errorf("claim n = %v (%T), want 3 as float64", v, v)
	}
}

// Login keeps the values of an anonymous session and of the same
// subject's, and clears another subject's: a mark that a second factor was
// passed must not carry over to another user signing in on the same
// session (found in review).
func TestLoginClearsAnotherSubjectsValues(t *testing.T) {
	for _, st := range []struct {
		name  string
		store func(t *testing.T) session.Store
	}{
		{"memory store", func(t *testing.T) session.Store { return memoryStore(t, session.MemoryOptions{}) }},
		{"cookie store", func(t *testing.T) session.Store { return cookieStore(t, nil) }},
	} {
		t.Run(st.name, func(t *testing.T) {
			m := session.MustNew(session.Options{Store: st.store(t)})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				if u := r.URL.Query().Get("login"); u != "" {
					if err := s.Login(identity.New(identity.Options{Subject: u})); err != nil {
						t.Error(err)
					}
				}
				if r.URL.Query().Has("mark") {
					s.SetString("mfa", "passed")
				}
				v, _ := s.GetString("mfa")
				_, _ = io.WriteString(w, v)
			}))
			var cookies []*http.Cookie
			get := func(query string) string {
				t.Helper()
				req := httptest.NewRequest("GET", "/?"+query, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if c := rec.Result().Cookies(); len(c) > 0 {
					cookies = c
				}
				return rec.Body.String()
			}
			for _, step := range []struct{ query, want string }{
				{"mark", "passed"},           // an anonymous session
				{"login=alice", "passed"},    // signing in keeps its values
				{"login=alice", "passed"},    // so does signing in again
				{"login=mallory", ""},        // another subject's are cleared
				{"", ""},                     // and stay so
				{"mark&login=eve", "passed"}, // set after the Login: kept
			} {
				if got := get(step.query); got != step.want {
					t.Errorf("?%s: mfa %q; want %q", step.query, got, step.want)
				}
			}
		})
	}
}

func TestLoginRejectsAnIdentityWithoutSubject(t *testing.T) {
	var err error
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err = session.FromRequest(r).Login(identity.Identity{})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !errors.Is(err, session.ErrNoSubject) || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("err %v, Set-Cookie %q", err, rec.Header().Get("Set-Cookie"))
	}
}

func TestLazyLoad(t *testing.T) {
	var finds atomic.Int32
	ms := memoryStore(t, session.MemoryOptions{})
	m := session.MustNew(session.Options{Store: findCounter{ms, &finds}, LazyLoad: true})
	var inCtx bool
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		switch r.URL.Path {
		case "/login":
			_ = s.Login(identity.New(identity.Options{Subject: "gus"}))
		case "/me":
			_, inCtx = identity.FromRequest(r)
			id, _ := s.Identity()
			_, _ = io.WriteString(w, id.Subject())
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	cookies := rec.Result().Cookies()
	finds.Store(0)
	req := httptest.NewRequest("GET", "/static", nil)
	req.AddCookie(cookies[0])
	h.ServeHTTP(httptest.NewRecorder(), req)
	if finds.Load() != 0 {
		t.Errorf("a request that does not use the session loaded it")
	}
	req = httptest.NewRequest("GET", "/me", nil)
	req.AddCookie(cookies[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "gus" || finds.Load() != 1 || inCtx {
		t.Errorf("lazy /me = %q, finds %d, identity in context %v", rec.Body.String(), finds.Load(), inCtx)
	}
}

type findCounter struct {
	session.Store
	n *atomic.Int32
}

func (s findCounter) Find(ctx context.Context, tok string) (session.Record, bool, error) {
	s.n.Add(1)
	return s.Store.Find(ctx, tok)
}

func TestTokenHeaderForAPIClients(t *testing.T) {
	a := storetest.NewApp(t, session.Options{TokenHeader: "Session-Token"})
	do := func(path, tok string, withHeader bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if withHeader {
			req.Header["Session-Token"] = []string{tok}
		}
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		return rec
	}
	rec := do("/login?user=hal", "", true)
	tok := rec.Header().Get("Session-Token")
	if tok == "" || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("login through the header: token %q, Set-Cookie %q", tok, rec.Header().Get("Set-Cookie"))
	}
	if rec.Header().Get("Vary") != "Session-Token" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", rec.Header())
	}
	if rec := do("/whoami", tok, true); rec.Body.String() != "hal" {
		t.Errorf("whoami via header = %d", rec.Code)
	}
	if rec := do("/whoami", tok, false); rec.Code != http.StatusUnauthorized {
		t.Errorf("token accepted without the header")
	}
	rec = do("/logout", tok, true)
	if v, ok := rec.Header()["Session-Token"]; !ok || v[0] != "" {
		t.Errorf("logout did not clear the header token: %q", v)
	}
	if rec := do("/whoami", tok, true); rec.Code != http.StatusUnauthorized {
		t.Errorf("replay after logout via header: %d", rec.Code)
	}
	// A request with the header never reads the cookie, so a script
	// cannot turn the HttpOnly cookie into a readable token.
	_, ctok := a.Do(t, "/login?user=ivy", "")
	req := httptest.NewRequest("GET", "/renew", nil)
	req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: ctok})
	req.Header.Set("Session-Token", "")
	rec = httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	if rec.Header().Get("Session-Token") == ctok {
		t.Errorf("cookie session exposed through the header")
	}
}

// Regression for gofiber/fiber CVE-2024-38513 (GHSA-98j2-3j3p-fw2v) when
// the token travels in a header: fiber's session middleware created a
// session under whatever session ID the client sent, through its cookie,
// header or query lookups alike. An API client's header token that the
// server never issued is no session, and a write or a login with it gets a
// fresh token, never the one the client chose.
func TestRegressionFiberCVE202438513HeaderTokenIsNeverClientChosen(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			store := st.new(t)(nil)
			a := storetest.NewApp(t, session.Options{Store: store, TokenHeader: "Session-Token"})
			do := func(path, tok string) *httptest.ResponseRecorder {
				req := httptest.NewRequest("GET", "https://example.com"+path, nil)
				req.Header["Session-Token"] = []string{tok}
				rec := httptest.NewRecorder()
				a.Handler.ServeHTTP(rec, req)
				return rec
			}
			for _, planted := range []string{
				strings.Repeat("A", session.IDLength), // the shape of a session ID
				"attacker-chosen",
			} {
				if rec := do("/whoami", planted); rec.Code != http.StatusUnauthorized {
					t.Errorf("planted %.20q: whoami = %d, want 401", planted, rec.Code)
				}
				for _, path := range []string{"/set?k=a&v=1", "/login?user=victim"} {
					rec := do(path, planted)
					if got := rec.Header().Get("Session-Token"); got == "" || got == planted {
						t.Errorf("planted %.20q: %s answered token %.20q, want a fresh one", planted, path, got)
					}
				}
				// The planted token still names no session afterwards.
				if rec := do("/whoami", planted); rec.Code != http.StatusUnauthorized {
					t.Errorf("planted %.20q: after a login, whoami with it = %d %q, want 401", planted, rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// idRecorder records the ID of every record committed to its store.
type idRecorder struct {
	session.Store
	mu  sync.Mutex
	ids []string
}

func (s *idRecorder) Commit(ctx context.Context, rec session.Record) (string, error) {
	s.mu.Lock()
	s.ids = append(s.ids, rec.ID)
	s.mu.Unlock()
	return s.Store.Commit(ctx, rec)
}

// Regression for gofiber/fiber CVE-2025-66630 (GHSA-68rr-p4fp-j59v):
// fiber's UUID helper, the default generator of session IDs and CSRF
// tokens, fell back to a fixed all-zero value when crypto/rand failed, so
// every session could get the same, guessable ID. Every session here gets
// its own full-length random ID, never the all-zero one.
func TestRegressionFiberCVE202566630SessionIDsAreNeverRepeated(t *testing.T) {
	zero := strings.Repeat("A", session.IDLength) // 32 zero bytes in base64url
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			rs := &idRecorder{Store: st.new(t)(nil)}
			a := storetest.NewApp(t, session.Options{Store: rs})
			const n = 200
			for i := range n {
				path := "/set?k=a&v=1"
				if i%2 == 1 {
					path = "/login?user=u"
				}
				if rec, tok := a.Do(t, path, ""); rec.Code != http.StatusOK || tok == "" {
					t.Fatalf("%s: %d, token %q", path, rec.Code, tok)
				}
			}
			rs.mu.Lock()
			defer rs.mu.Unlock()
			if len(rs.ids) < n {
				t.Fatalf("%d records committed for %d new sessions", len(rs.ids), n)
			}
			seen := make(map[string]bool, len(rs.ids))
			for _, id := range rs.ids {
				if !session.ValidID(id) || id == zero {
					t.Fatalf("session ID %q: want %d random base64url characters", id, session.IDLength)
				}
				if seen[id] {
					t.Fatalf("session ID %q was issued twice", id)
				}
				seen[id] = true
			}
		})
	}
}

// alexedwards/scs#215: a change made after the handler wrote the body was
// silently lost.
func TestChangesAfterTheHeadersWereWritten(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			c := newClock()
			store := st.new(t)(c.Now)
			var renewErr error
			m := session.MustNew(session.Options{Store: store}.WithNow(c.Now))
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				switch r.URL.Path {
				case "/late":
					_, _ = io.WriteString(w, "body first")
					s.SetString("late", "yes")
					renewErr = s.Renew()
				case "/latelogout":
					_, _ = io.WriteString(w, "body first")
					_ = s.Destroy()
				case "/set":
					s.SetString("a", "1")
				case "/get":
					v, _ := s.GetString(r.URL.Query().Get("k"))
					_, _ = io.WriteString(w, v)
				}
			}))
			do := func(path, tok string) (*httptest.ResponseRecorder, error) {
				req := httptest.NewRequest("GET", path, nil)
				if tok != "" {
					req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
				}
				ctx, reason := problem.WithReason(req.Context())
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req.WithContext(ctx))
				return rec, reason.Err()
			}
			rec, _ := do("/set", "")
			tok := rec.Result().Cookies()[0].Value
			_, reason := do("/late", tok)
			if !errors.Is(renewErr, session.ErrHeadersWritten) {
				t.Errorf("Renew after the body = %v, want ErrHeadersWritten", renewErr)
			}
			rec, _ = do("/get?k=late", tok)
			switch st.name {
			case "memory":
				if rec.Body.String() != "yes" || reason != nil {
					t.Errorf("late change of a server-side session lost: %q, reason %v", rec.Body.String(), reason)
				}
			case "cookie":
				if !errors.Is(reason, session.ErrHeadersWritten) {
					t.Errorf("lost late change not reported: %v", reason)
				}
			}
			do("/latelogout", tok)
			if rec, _ := do("/get?k=a", tok); rec.Body.String() != "" {
				t.Errorf("Destroy after the body left the session alive")
			}
		})
	}
}

func TestResponseControllerStillWorks(t *testing.T) {
	m := session.MustNew(session.Options{})
	var flushErr, deadlineErr error
	done := make(chan struct{})
	srv := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		session.FromRequest(r).SetString("a", "1")
		rc := http.NewResponseController(w)
		deadlineErr = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		_, _ = io.WriteString(w, "x")
		flushErr = rc.Flush()
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-done
	if flushErr != nil || deadlineErr != nil {
		t.Errorf("Flush %v, SetWriteDeadline %v", flushErr, deadlineErr)
	}
	if len(resp.Cookies()) != 1 {
		t.Errorf("session not saved before the flush: %v", resp.Header)
	}
}

func TestFlushSavesTheSessionFirst(t *testing.T) {
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString("a", "1")
		w.(http.Flusher).Flush()
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed || rec.Header().Get("Set-Cookie") == "" {
		t.Errorf("flushed %v, Set-Cookie %q", rec.Flushed, rec.Header().Get("Set-Cookie"))
	}
}

func TestEndToEndWithCookieJarOverTLS(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			a := storetest.NewApp(t, session.Options{Store: st.new(t)(time.Now)})
			srv := httptest.NewTLSServer(a.Handler)
			defer srv.Close()
			jar, _ := cookiejar.New(nil)
			client := srv.Client()
			client.Jar = jar
			get := func(path string) (int, string) {
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			u, _ := url.Parse(srv.URL)
			if code, _ := get("/whoami"); code != http.StatusUnauthorized {
				t.Fatalf("anonymous whoami = %d", code)
			}
			get("/set?k=cart&v=2")
			pre := jar.Cookies(u)
			get("/login?user=jo")
			if code, body := get("/whoami"); code != 200 || body != "jo" {
				t.Fatalf("whoami after login = %d %q", code, body)
			}
			if code, body := get("/get?k=cart"); body != "2" {
				t.Errorf("cart lost at login: %d %q", code, body)
			}
			post := jar.Cookies(u)
			if len(pre) != 1 || len(post) != 1 || pre[0].Value == post[0].Value {
				t.Fatalf("cookie not renewed at login: %v -> %v", pre, post)
			}
			get("/logout")
			if len(jar.Cookies(u)) != 0 {
				t.Errorf("cookie still in the jar after logout")
			}
			if code, _ := get("/whoami"); code != http.StatusUnauthorized {
				t.Errorf("whoami after logout = %d", code)
			}
			// Replay the copied cookie after logout.
			jar.SetCookies(u, post)
			if code, _ := get("/whoami"); code != http.StatusUnauthorized {
				t.Errorf("replayed cookie after logout = %d", code)
			}
		})
	}
}

func TestSessionIsSafeForConcurrentUseWithinARequest(t *testing.T) {
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				k := string(rune('a' + g))
				for i := range 100 {
					s.SetInt(k, int64(i))
					s.GetInt(k)
					s.Has("z")
					s.Keys()
				}
			})
		}
		wg.Wait()
		if len(s.Keys()) != 8 {
			t.Errorf("keys = %v", s.Keys())
		}
	}))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		})
	}
	wg.Wait()
}

func TestTypedValues(t *testing.T) {
	when := time.Date(2030, 5, 6, 7, 8, 9, 123, time.UTC)
	type prefs struct{ Theme string }
	m := session.MustNew(session.Options{})
	var errs []string
	check := func(ok bool, what string) {
		if !ok {
			errs = append(errs, what)
		}
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if r.URL.Path == "/set" {
			s.SetString("s", "str")
			s.SetInt("i", -7)
			s.SetBool("b", true)
			s.SetFloat("f", 2.5)
			s.SetBytes("y", []byte{0, 1, 2})
			s.SetTime("t", when)
			_ = s.SetJSON("j", prefs{"dark"})
			s.SetString("flash", "saved")
			s.SetString("gone", "x")
			s.Delete("gone")
			return
		}
		v, ok := s.GetString("s")
		check(ok && v == "str", "string")
		i, ok := s.GetInt("i")
		check(ok && i == -7, "int")
		b, ok := s.GetBool("b")
		check(ok && b, "bool")
		f, ok := s.GetFloat("f")
		check(ok && f == 2.5, "float")
		y, ok := s.GetBytes("y")
		check(ok && bytes.Equal(y, []byte{0, 1, 2}), "bytes")
		tm, ok := s.GetTime("t")
		check(ok && tm.Equal(when), "time")
		var p prefs
		ok, err := s.GetJSON("j", &p)
		check(ok && err == nil && p.Theme == "dark", "json")
		_, ok = s.GetInt("s")
		check(!ok, "a string is not an int")
		fl, ok := s.PopString("flash")
		check(ok && fl == "saved", "pop")
		check(!s.Has("flash") && !s.Has("gone"), "deleted")
		check(strings.Join(s.Keys(), ",") == "b,f,i,j,s,t,y", "keys "+strings.Join(s.Keys(), ","))
		check(!s.IsNew(), "not new")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/set", nil))
	req := httptest.NewRequest("GET", "/get", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(errs) > 0 {
		t.Errorf("failed: %v", errs)
	}
}

// Of the goroutines of one request that pop the same one-time value, one
// gets it: PopString read the value and deleted it under two locks, and
// every goroutine that read between the two got it too.
func TestPopStringTakesTheValueOnce(t *testing.T) {
	m := session.MustNew(session.Options{})
	var got atomic.Int32
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if r.URL.Path == "/set" {
			s.SetString("code", "once")
			return
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 16 {
			wg.Go(func() {
				<-start
				if _, ok := s.PopString("code"); ok {
					got.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
	}))
	// The window is a few instructions wide: it shows with several
	// threads and many rounds, which stop after a bounded time.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		got.Store(0)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/set", nil))
		req := httptest.NewRequest("GET", "/pop", nil)
		req.AddCookie(rec.Result().Cookies()[0])
		h.ServeHTTP(httptest.NewRecorder(), req)
		if n := got.Load(); n != 1 {
			t.Fatalf("the value was popped %d times, want once", n)
		}
	}
}

func TestNilSession(t *testing.T) {
	var s *session.Session
	if _, ok := s.GetString("a"); ok {
		t.Error("nil session found a value")
	}
	for name, err := range map[string]error{"Renew": s.Renew(), "Destroy": s.Destroy(), "Load": s.Load(), "Login": s.Login(identity.New(identity.Options{Subject: "x"}))} {
		if !errors.Is(err, session.ErrNoSession) {
			t.Errorf("%s on nil = %v", name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SetString on a nil session did not panic")
		}
	}()
	s.SetString("a", "b")
}

func TestZeroMiddlewareFailsClosed(t *testing.T) {
	// A nil *Middleware (what New returns with its error) behaves as the
	// zero one; it made every request panic.
	for name, m := range map[string]*session.Middleware{"zero": {}, "nil": nil} {
		called := false
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if called || rec.Code != http.StatusInternalServerError {
			t.Errorf("%s Middleware: called %v, status %d", name, called, rec.Code)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "__Host-session=abc")
		if tok, ok := m.Token(r); ok || tok != "" || m.CookieName() != "" {
			t.Errorf("%s Middleware: Token = %q, %v; CookieName = %q", name, tok, ok, m.CookieName())
		}
	}
}

func TestCookieHeaderParsing(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   string
		ok     bool
	}{
		{"a single cookie", []string{"sid=abc"}, "abc", true},
		{"among others", []string{"a=1; sid=abc; b=2"}, "abc", true},
		{"in a second header line", []string{"a=1", "sid=abc"}, "abc", true},
		{"the first of two wins", []string{"sid=one; sid=two"}, "one", true},
		{"quoted", []string{`sid="abc"`}, "abc", true},
		{"with tabs and spaces", []string{" \tsid=abc\t ;x=1"}, "abc", true},
		{"a longer name is not a match", []string{"sidx=abc; xsid=def"}, "", false},
		{"an invalid value is skipped", []string{"sid=a\\b; sid=ok"}, "ok", true},
		{"an empty value is absent", []string{"sid="}, "", false},
		{"no header", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := session.CookieValue(http.Header{"Cookie": tt.header}, "sid")
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestHardenCookie(t *testing.T) {
	t.Run("defaults are applied", func(t *testing.T) {
		c := &http.Cookie{Name: "pref", Value: "dark"}
		if err := session.HardenCookie(c); err != nil {
			t.Fatal(err)
		}
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %v", c)
		}
	})
	bad := []struct {
		name string
		c    *http.Cookie
	}{
		{"a __Host- cookie with a domain", &http.Cookie{Name: "__Host-x", Value: "1", Domain: "example.com"}},
		{"a __Host- cookie with a path", &http.Cookie{Name: "__Host-x", Value: "1", Path: "/a"}},
		{"a __host- cookie with a domain, the prefix in another case", &http.Cookie{Name: "__host-x", Value: "1", Domain: "example.com"}},
		{"a name that is not a token", &http.Cookie{Name: "a b", Value: "1"}},
		{"a value with a semicolon", &http.Cookie{Name: "a", Value: "1;2"}},
		{"a cookie over 4096 bytes", &http.Cookie{Name: "a", Value: strings.Repeat("x", 4100)}},
		{"a cookie of 4097 bytes", &http.Cookie{Name: "a", Value: strings.Repeat("x", 4097-len(hardenedOverhead))}},
		{"a value with a space", &http.Cookie{Name: "a", Value: "1 2"}},
		{"a path with DEL", &http.Cookie{Name: "a", Value: "1", Path: "/a\x7f"}},
		{"a domain of 254 bytes", &http.Cookie{Name: "a", Value: "1", Domain: domainOfLength(254)}},
		{"a domain label of 64 bytes", &http.Cookie{Name: "a", Value: "1", Domain: strings.Repeat("a", 64) + ".com"}},
		{"a domain label ending in a hyphen", &http.Cookie{Name: "a", Value: "1", Domain: "a-.example.com"}},
		{"a domain with an empty label", &http.Cookie{Name: "a", Value: "1", Domain: "a..example.com"}},
		{"an unknown SameSite mode", &http.Cookie{Name: "a", Value: "1", SameSite: 9}},
		{"nil", nil},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := session.HardenCookie(tt.c); !errors.Is(err, session.ErrCookie) {
				t.Errorf("HardenCookie = %v, want ErrCookie", err)
			}
		})
	}
	// The bounds themselves pass: 4096 bytes, a domain of 253 bytes, a
	// label of 63.
	good := []struct {
		name string
		c    *http.Cookie
	}{
		{"a cookie of 4096 bytes", &http.Cookie{Name: "a", Value: strings.Repeat("x", 4096-len(hardenedOverhead))}},
		{"a domain of 253 bytes", &http.Cookie{Name: "a", Value: "1", Domain: domainOfLength(253)}},
		{"a domain label of 63 bytes", &http.Cookie{Name: "a", Value: "1", Domain: strings.Repeat("a", 63) + ".com"}},
		{"a domain with a leading dot", &http.Cookie{Name: "a", Value: "1", Domain: ".example.com"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			if err := session.HardenCookie(tt.c); err != nil {
				t.Errorf("HardenCookie = %v, want nil", err)
			}
		})
	}
	t.Run("SetCookie writes nothing on error", func(t *testing.T) {
		rec := httptest.NewRecorder()
		if err := session.SetCookie(rec, &http.Cookie{Name: "__Host-x", Value: "1", Domain: "a.com"}); err == nil || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("err %v, header %q", err, rec.Header().Get("Set-Cookie"))
		}
		if err := session.SetCookie(rec, &http.Cookie{Name: "__Host-x", Value: "1"}); err != nil {
			t.Fatal(err)
		}
		if got := rec.Header().Get("Set-Cookie"); got != "__Host-x=1; Path=/; HttpOnly; Secure; SameSite=Lax" {
			t.Errorf("Set-Cookie %q", got)
		}
	})
}

// hardenedOverhead is what a hardened cookie named "a" adds to its value.
const hardenedOverhead = "a=; Path=/; HttpOnly; Secure; SameSite=Lax"

// domainOfLength returns a valid domain name of n bytes: labels of up to
// 63 letters.
func domainOfLength(n int) string {
	var labels []string
	for rest := n; rest > 0; rest -= 64 {
		labels = append(labels, strings.Repeat("a", min(63, rest)))
	}
	return strings.Join(labels, ".")
}

// rs/cors#198: appending to a header slice another middleware shares
// between requests corrupts it for every later request.
func TestSharedHeaderSlicesAreNotAppendedInPlace(t *testing.T) {
	shared := make([]string, 1, 4)
	shared[0] = "Origin"
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Vary"] = shared // an outer middleware's precomputed value
		session.FromRequest(r).SetString("a", "b")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Vary"); len(got) != 2 || got[1] != "Cookie" {
		t.Errorf("Vary = %q", got)
	}
	if got := shared[:cap(shared)][1]; got != "" {
		t.Errorf("the shared slice was written to: %q", got)
	}
}

// TestCookieStoreRevocationsFailureIsA503NeverTheUser: a CookieStore
// decides whether a cookie was logged out by asking its Revocations store.
// When that store fails, the cookie is neither served as the user (it may
// have been logged out) nor as anonymous: the request is a 503, as for a
// server-side store that fails, and a logout is not reported as done.
// Ignoring the Revocations error in Find failed no test.
func TestCookieStoreRevocationsFailureIsA503NeverTheUser(t *testing.T) {
	down := new(atomic.Bool)
	cs := cookieStoreRevoking(t, nil, failingStore{memoryStore(t, session.MemoryOptions{}), down})
	a := storetest.NewApp(t, session.Options{Store: cs})
	_, live := a.Do(t, "/login?user=uma", "")
	_, out := a.Do(t, "/login?user=uma", "")
	if rec, after := a.Do(t, "/logout", out); rec.Code != http.StatusOK || after != "" {
		t.Fatalf("logout: %d, cookie %q", rec.Code, after)
	}
	down.Store(true)
	for _, tt := range []struct{ name, path, token string }{
		{"a live cookie", "/whoami", live},
		{"a live cookie, setting a value", "/set?k=a&v=1", live},
		{"a live cookie, logging out", "/logout", live},
		{"a logged-out cookie", "/whoami", out},
		{"a logged-out cookie, setting a value", "/set?k=a&v=1", out},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, after := a.Do(t, tt.path, tt.token)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s with the Revocations store down: %d %q, want 503 with Retry-After", tt.path, rec.Code, rec.Body.String())
			}
			if after != tt.token {
				t.Errorf("%s with the Revocations store down changed the cookie", tt.path)
			}
		})
	}
	down.Store(false)
	if rec, _ := a.Do(t, "/whoami", out); rec.Code != http.StatusUnauthorized {
		t.Errorf("the logged-out cookie after the Revocations store came back: %d, want 401", rec.Code)
	}
	if rec, _ := a.Do(t, "/whoami", live); rec.Code != http.StatusOK || rec.Body.String() != "uma" {
		t.Errorf("the live cookie after the Revocations store came back: %d %q", rec.Code, rec.Body.String())
	}
}

// TestCookieTossingDoesNotSwapTheSession: a sibling subdomain can set
// cookies that the browser sends along with the session cookie, but not
// one named with the exact "__Host-" prefix. Browsers that match the
// prefix case-sensitively let it plant "__host-session", and a cookie of
// another name may be ordered first. The middleware reads only the first
// well-formed cookie whose name is exactly the configured one, so the
// attacker's own valid session never replaces the victim's (a name
// compared ignoring case failed no test).
func TestCookieTossingDoesNotSwapTheSession(t *testing.T) {
	a := storetest.NewApp(t, session.Options{})
	_, victim := a.Do(t, "/login?user=victim", "")
	_, attacker := a.Do(t, "/login?user=attacker", "")
	for _, tt := range []struct {
		name   string
		cookie []string // Cookie header lines
	}{
		{"the prefix in lower case, first", []string{"__host-session=" + attacker + "; __Host-session=" + victim}},
		{"the name in upper case, first", []string{"__HOST-SESSION=" + attacker + "; __Host-session=" + victim}},
		{"the prefix in lower case, in an earlier header line", []string{"__host-session=" + attacker, "__Host-session=" + victim}},
		{"a longer name ending in the cookie's name", []string{"x__Host-session=" + attacker + "; __Host-session=" + victim}},
		{"the name without its prefix", []string{"session=" + attacker + "; __Host-session=" + victim}},
		{"a malformed value first", []string{`__Host-session=a"b; __Host-session=` + victim}},
		{"a quoted value", []string{`__Host-session="` + victim + `"`}},
		{"the victim's cookie first, then another", []string{"__Host-session=" + victim + "; __Host-session=" + attacker}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://example.com/whoami", nil)
			r.Header["Cookie"] = tt.cookie
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK || rec.Body.String() != "victim" {
				t.Errorf("Cookie %q: %d %q, want the victim's session", tt.cookie, rec.Code, rec.Body.String())
			}
			if tok, ok := a.M.Token(r); !ok || tok != victim {
				t.Errorf("Token = %q, %v; want the victim's, as the middleware reads it", tok, ok)
			}
		})
	}
}

// Regression for Django CVE-2016-7401, for the session cookie: the cookie
// parser lost track of where a cookie ends and read a cookie out of the
// value of another one (Google Analytics' __utmz, which holds text an
// attacker chooses); legacy RFC 2109 parsers do the same at a comma once
// a "$Version" cookie is present (the "phantom $Version" cookie). An
// attacker on a sibling host, who cannot set the __Host- session cookie,
// can set such another cookie. Cookies are split at semicolons only here,
// as browsers write them, so the attacker's own session, planted that
// way, is never the victim's.
func TestRegressionDjangoCVE20167401SessionCookieInsideAnotherCookieIsNotRead(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			a := storetest.NewApp(t, session.Options{Store: st.new(t)(nil)})
			_, planted := a.Do(t, "/login?user=mallory", "")
			if planted == "" {
				t.Fatal("no session cookie set at login")
			}
			name := a.M.CookieName()
			// The attacker's token is valid where it is sent as the session
			// cookie, so a parser that found it would log the victim in as
			// mallory.
			if rec, _ := a.Do(t, "/whoami", planted); rec.Body.String() != "mallory" {
				t.Fatalf("the planted token itself: whoami = %d %q, want mallory", rec.Code, rec.Body.String())
			}
			for _, cookie := range []string{
				"tracker=x," + name + "=" + planted,
				"tracker=x, " + name + "=" + planted,
				"tracker=x " + name + "=" + planted,
				"$Version=1; tracker=x, " + name + "=" + planted,
				"$Version=1; tracker=\"x," + name + "=" + planted + "\"",
				"tracker=x\t" + name + "=" + planted,
			} {
				req := httptest.NewRequest(http.MethodGet, "https://example.com/whoami", nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				a.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("Cookie: %.60q: whoami = %d %q, want 401", cookie, rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// Found in review: with LazyLoad, a store failure on a session first used
// after the response started could not replace the response, and was
// recorded nowhere: the access log showed a plain 200 for a request its
// handler served as anonymous. The failure is now the request's
// rejection reason, as a change that cannot be saved is.
func TestLazyLoadFailureAfterTheHeadersIsRecorded(t *testing.T) {
	down := new(atomic.Bool)
	ms := memoryStore(t, session.MemoryOptions{})
	a := storetest.NewApp(t, session.Options{Store: failingStore{ms, down}})
	_, tok := a.Do(t, "/login?user=erin", "")
	m := session.MustNew(session.Options{Store: failingStore{ms, down}, LazyLoad: true})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		session.FromRequest(r).GetString("a")
	}))
	down.Store(true)
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
	ctx, reason := problem.WithReason(req.Context())
	h.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
	if !errors.Is(reason.Err(), session.ErrStore) || !errors.Is(reason.Err(), errDown) {
		t.Errorf("reason = %v, want the store's failure", reason.Err())
	}
}

// Found in review: the zero Middleware, which has no cookie name, read a
// nameless cookie ("=x", which a sibling subdomain can set) as its token,
// so a csrf binding to its Token bound to a value any attacker chose. It
// has no token, as a nil Middleware has none.
func TestTheZeroMiddlewareHasNoToken(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	r.Header.Set("Cookie", "=planted; a=b")
	if got, ok := new(session.Middleware).Token(r); ok || got != "" {
		t.Errorf("Token of the zero Middleware = %q, %v; want none", got, ok)
	}
}

// The access log around the middleware (errorsafe reads an identity.Recorder)
// names the user a request signs in: the record of a successful login is the
// one an audit looks for.
func TestLoginRecordsTheIdentityForTheRequest(t *testing.T) {
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "alice"})); err != nil {
			t.Error(err)
		}
	}))
	ctx, rec := identity.WithRecorder(context.Background())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil).WithContext(ctx))
	id, ok := rec.Identity()
	if !ok || id.Subject() != "alice" || id.Method() != identity.MethodSession {
		t.Errorf("recorded %v %q %q, want alice by session", ok, id.Subject(), id.Method())
	}

	// A Login refused records nothing.
	h = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.FromRequest(r).Login(identity.Identity{})
	}))
	ctx, rec = identity.WithRecorder(context.Background())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil).WithContext(ctx))
	if _, ok := rec.Identity(); ok {
		t.Error("a refused Login was recorded")
	}
}

// A CDN obeys CDN-Cache-Control, its vendors' targeted fields and
// Surrogate-Control instead of Cache-Control (RFC 9213): left on a
// response that carries the session cookie, they let the CDN keep the
// cookie and hand it to other clients, whatever no-store says. Found in
// review: they were left.
func TestCookieResponseDropsTargetedCacheFields(t *testing.T) {
	sessions := session.MustNew(session.Options{})
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("CDN-Cache-Control", "max-age=600")
		w.Header().Set("Cloudflare-CDN-Cache-Control", "max-age=600")
		w.Header().Set("Surrogate-Control", "max-age=600")
		w.Header().Set("Surrogate-Key", "page")
		session.FromRequest(r).SetInt("visits", 1)
		io.WriteString(w, "ok")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	hd := rec.Header()
	if hd.Get("Set-Cookie") == "" || hd.Get("Cache-Control") != "no-store" {
		t.Fatalf("no cookie or no no-store: %v", hd)
	}
	for _, k := range []string{"Cdn-Cache-Control", "Cloudflare-Cdn-Cache-Control", "Surrogate-Control"} {
		if v := hd.Values(k); len(v) > 0 {
			t.Errorf("%s: %q kept on a response with the session cookie", k, v)
		}
	}
	if hd.Get("Surrogate-Key") != "page" {
		t.Errorf("Surrogate-Key, which caches nothing, was dropped")
	}
}
