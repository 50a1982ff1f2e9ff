package session_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
)

// optionFields returns the Field of every *session.OptionError joined in
// err, in order.
func optionFields(err error) []string {
	var fields []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var oe *session.OptionError
		if errors.As(err, &oe) {
			fields = append(fields, oe.Field)
		}
	}
	walk(err)
	return fields
}

// TestNewPartitioned: Partitioned needs Secure, which browsers require of
// a partitioned cookie, and SameSite=None, without which browsers neither
// store the cookie in a cross-site frame nor send it there. Every problem
// is reported.
func TestNewPartitioned(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   session.Options
		fields []string // nil: New succeeds
	}{
		{"Partitioned with SameSite=None is accepted",
			session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode}, nil},
		{"Partitioned with SameSite=None and a shared domain is accepted",
			session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode, CookieName: "sid", CookieDomain: "example.com"}, nil},
		{"Partitioned with the default SameSite, Lax, is refused, not turned into None",
			session.Options{Partitioned: true}, []string{"Partitioned"}},
		{"Partitioned with SameSite=Default is refused as Lax is",
			session.Options{Partitioned: true, SameSite: http.SameSiteDefaultMode}, []string{"Partitioned"}},
		{"Partitioned with SameSite=Lax is refused",
			session.Options{Partitioned: true, SameSite: http.SameSiteLaxMode}, []string{"Partitioned"}},
		{"Partitioned with SameSite=Strict is refused",
			session.Options{Partitioned: true, SameSite: http.SameSiteStrictMode}, []string{"Partitioned"}},
		{"Partitioned without Secure is refused, as is SameSite=None without it",
			session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode, DangerouslyAllowInsecureCookie: true},
			[]string{"SameSite", "Partitioned"}},
		{"Partitioned without Secure and without SameSite=None is refused twice",
			session.Options{Partitioned: true, DangerouslyAllowInsecureCookie: true},
			[]string{"Partitioned", "Partitioned"}},
		{"Partitioned without Secure under a __Host- name is refused for both",
			session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode, DangerouslyAllowInsecureCookie: true, CookieName: "__Host-s"},
			[]string{"DangerouslyAllowInsecureCookie", "SameSite", "Partitioned"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := session.New(tt.opts)
			if tt.fields == nil {
				if err != nil || m == nil {
					t.Fatalf("New = %v, %v; want a Middleware", m, err)
				}
				return
			}
			if m != nil || !errors.Is(err, session.ErrOption) {
				t.Fatalf("New = %v, %v; want ErrOption", m, err)
			}
			if got := optionFields(err); !slices.Equal(got, tt.fields) {
				t.Errorf("New reported fields %q (%v), want %q", got, err, tt.fields)
			}
		})
	}
}

// step is one request of a flow through the test application.
type step struct {
	path   string
	delete bool // the response expires the cookie
}

// TestPartitionedCookieOnEveryResponse: with Partitioned, every
// Set-Cookie of the session cookie has the attribute: the cookie that
// starts a session, the one a login or renewal replaces it with, a
// persistent one, and the one that expires it on logout, which browsers
// apply to a partitioned cookie only if it is Partitioned too. Without
// the option no Set-Cookie has it.
func TestPartitionedCookieOnEveryResponse(t *testing.T) {
	partitioned := session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode}
	persistent := partitioned
	persistent.PersistentCookie = true
	flows := []struct {
		name  string
		opts  session.Options
		steps []step
	}{
		{"a new session, then logout", partitioned, []step{{"/set?k=a&v=b", false}, {"/logout", true}}},
		{"a login, a renewal, then logout", partitioned, []step{{"/set?k=a&v=b", false}, {"/login?user=alice", false}, {"/renew", false}, {"/logout", true}}},
		{"a persistent cookie, renewed, then logout", persistent, []step{{"/login?user=alice", false}, {"/renew", false}, {"/logout", true}}},
		{"a shared domain, then logout", session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode, CookieName: "sid", CookieDomain: "example.com"},
			[]step{{"/login?user=alice", false}, {"/logout", true}}},
	}
	for _, st := range stores {
		for _, f := range flows {
			for _, on := range []bool{true, false} {
				name := st.name + "/" + f.name
				opts := f.opts
				if !on {
					name += "/without Partitioned"
					opts.Partitioned = false
				}
				t.Run(name, func(t *testing.T) {
					a, _ := newApp(t, st.new(t), opts)
					tok := ""
					for _, s := range f.steps {
						rec, next := a.Do(t, s.path, tok)
						lines := rec.Header().Values("Set-Cookie")
						if len(lines) != 1 {
							t.Fatalf("%s: Set-Cookie %q, want one line", s.path, lines)
						}
						c, err := http.ParseSetCookie(lines[0])
						if err != nil {
							t.Fatalf("%s: Set-Cookie %q: %v", s.path, lines[0], err)
						}
						if c.Name != a.M.CookieName() || c.Partitioned != on || c.SameSite != http.SameSiteNoneMode || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != opts.CookieDomain {
							t.Errorf("%s: Set-Cookie %q; want Partitioned %v, SameSite=None, Secure, HttpOnly, Path=/, Domain %q", s.path, lines[0], on, opts.CookieDomain)
						}
						if deleted := c.MaxAge < 0; deleted != s.delete {
							t.Errorf("%s: Set-Cookie %q expires the cookie: %v, want %v", s.path, lines[0], deleted, s.delete)
						}
						if opts.PersistentCookie && !s.delete && c.MaxAge <= 0 {
							t.Errorf("%s: Set-Cookie %q has no Max-Age, want a persistent cookie", s.path, lines[0])
						}
						if on != strings.HasSuffix(lines[0], "; Partitioned") {
							t.Errorf("%s: Set-Cookie %q; want Partitioned last: %v", s.path, lines[0], on)
						}
						if len(lines[0]) > 4096 {
							t.Errorf("%s: Set-Cookie of %d bytes", s.path, len(lines[0]))
						}
						tok = next
					}
					if tok != "" {
						t.Errorf("the flow ended with the token %q still held", tok)
					}
				})
			}
		}
	}
}

// TestPartitionedCookieIsKeptByTheStoresSizeCheck: the 4096-byte limit
// that refuses a cookie session too large to be a cookie counts the
// Partitioned attribute, so the cookie the middleware sets never exceeds
// what browsers keep. A persistent cookie with the longest timeout has
// the longest Max-Age, which leaves the check no slack.
func TestPartitionedCookieIsKeptByTheStoresSizeCheck(t *testing.T) {
	for _, on := range []bool{false, true} {
		a, _ := newApp(t, stores[1].new(t), session.Options{
			Partitioned: on, SameSite: http.SameSiteNoneMode,
			PersistentCookie: true, IdleTimeout: 90 * 365 * 24 * time.Hour, AbsoluteTimeout: 90 * 365 * 24 * time.Hour,
		})
		// Grow the value a byte at a time until the store refuses the
		// session: every cookie sent until then must fit.
		longest := 0
		for n := 1500; n < 4096; n++ {
			rec, _ := a.Do(t, "/set?k=a&v="+strings.Repeat("x", n), "")
			if rec.Code != http.StatusOK {
				break
			}
			line := setCookie(t, rec)
			if len(line) > 4096 {
				t.Fatalf("Partitioned %v: a Set-Cookie of %d bytes was sent", on, len(line))
			}
			longest = max(longest, len(line))
		}
		if longest < 4000 {
			t.Errorf("Partitioned %v: the longest cookie sent had %d bytes; the store refused far below the limit", on, longest)
		}
		t.Logf("Partitioned %v: the longest cookie sent had %d bytes", on, longest)
	}
}

// TestHardenCookiePartitioned: HardenCookie keeps an application's
// Partitioned attribute, sets the Secure it requires, and refuses it on a
// cookie that is not SameSite=None, which browsers would not store in the
// cross-site frame it is meant for; it does not choose None for the
// application.
func TestHardenCookiePartitioned(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    http.Cookie
		want string // the Set-Cookie line; "" for an error
	}{
		{"a partitioned SameSite=None cookie is kept partitioned",
			http.Cookie{Name: "__Host-widget", Value: "1", SameSite: http.SameSiteNoneMode, Partitioned: true},
			"__Host-widget=1; Path=/; HttpOnly; Secure; SameSite=None; Partitioned"},
		{"a partitioned cookie given without Secure gets it",
			http.Cookie{Name: "widget", Value: "1", SameSite: http.SameSiteNoneMode, Partitioned: true, Secure: false},
			"widget=1; Path=/; HttpOnly; Secure; SameSite=None; Partitioned"},
		{"the deletion of a partitioned cookie stays partitioned",
			http.Cookie{Name: "__Host-widget", MaxAge: -1, SameSite: http.SameSiteNoneMode, Partitioned: true},
			"__Host-widget=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned"},
		{"a partitioned cookie without SameSite is refused, not made Lax or None",
			http.Cookie{Name: "widget", Value: "1", Partitioned: true}, ""},
		{"a partitioned SameSite=Default cookie is refused",
			http.Cookie{Name: "widget", Value: "1", SameSite: http.SameSiteDefaultMode, Partitioned: true}, ""},
		{"a partitioned SameSite=Lax cookie is refused",
			http.Cookie{Name: "widget", Value: "1", SameSite: http.SameSiteLaxMode, Partitioned: true}, ""},
		{"a partitioned SameSite=Strict cookie is refused",
			http.Cookie{Name: "widget", Value: "1", SameSite: http.SameSiteStrictMode, Partitioned: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			rec := httptest.NewRecorder()
			err := session.SetCookie(rec, &c)
			got := rec.Header().Get("Set-Cookie")
			if tt.want == "" {
				if !errors.Is(err, session.ErrCookie) || got != "" {
					t.Errorf("SetCookie = %v, wrote %q; want ErrCookie and nothing written", err, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SetCookie = %v, wrote %q; want %q", err, got, tt.want)
			}
			if !c.Partitioned || !c.Secure {
				t.Errorf("HardenCookie left %+v; want Partitioned and Secure", c)
			}
		})
	}
}
