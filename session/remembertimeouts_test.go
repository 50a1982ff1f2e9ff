package session_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

func TestRememberMeTimeoutOptions(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name  string
		o     session.Options
		field string // "" = valid
	}{
		{"zero means the normal timeouts", session.Options{}, ""},
		{"longer ones are taken", session.Options{RememberMeIdleTimeout: 7 * day, RememberMeAbsoluteTimeout: 30 * day}, ""},
		{"an absolute one alone is taken", session.Options{RememberMeAbsoluteTimeout: 30 * day}, ""},
		{"equal ones are taken", session.Options{RememberMeIdleTimeout: 30 * time.Minute, RememberMeAbsoluteTimeout: 12 * time.Hour}, ""},
		{"beyond 100 years they count as 100 years", session.Options{AbsoluteTimeout: math.MaxInt64, RememberMeIdleTimeout: math.MaxInt64, RememberMeAbsoluteTimeout: math.MaxInt64}, ""},
		{"a negative idle timeout", session.Options{RememberMeIdleTimeout: -1}, "RememberMeIdleTimeout"},
		{"a negative absolute timeout", session.Options{RememberMeAbsoluteTimeout: -1}, "RememberMeAbsoluteTimeout"},
		{"an idle timeout shorter than IdleTimeout", session.Options{IdleTimeout: time.Hour, RememberMeIdleTimeout: time.Minute}, "RememberMeIdleTimeout"},
		{"an absolute timeout shorter than AbsoluteTimeout", session.Options{RememberMeAbsoluteTimeout: time.Hour}, "RememberMeAbsoluteTimeout"},
		{"an absolute timeout shorter than a 100-year AbsoluteTimeout", session.Options{AbsoluteTimeout: math.MaxInt64, RememberMeAbsoluteTimeout: 50 * 365 * day}, "RememberMeAbsoluteTimeout"},
		{"an idle timeout longer than the absolute one", session.Options{RememberMeIdleTimeout: 60 * day, RememberMeAbsoluteTimeout: 30 * day}, "RememberMeIdleTimeout"},
		{"an idle timeout longer than AbsoluteTimeout when the absolute one is zero", session.Options{RememberMeIdleTimeout: 13 * time.Hour}, "RememberMeIdleTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := session.New(tt.o)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			var oe *session.OptionError
			if !errors.As(err, &oe) || oe.Field != tt.field || !errors.Is(err, session.ErrOption) {
				t.Fatalf("New: %v, want an OptionError for %s", err, tt.field)
			}
		})
	}
}

// rememberApp is a test application with a 10-minute idle and a 1-hour
// absolute timeout, and 7 days and 30 days for a remembered session.
type rememberApp struct {
	h        http.Handler
	m        *session.Middleware
	c        *clock
	validate func(identity.Identity) bool
	mu       sync.Mutex
	commits  []session.Record
}

const (
	rIdle = 7 * 24 * time.Hour
	rAbs  = 30 * 24 * time.Hour
)

func newRememberApp(t *testing.T, newStore func(now func() time.Time) session.Store, o session.Options) *rememberApp {
	t.Helper()
	a := &rememberApp{c: newClock()}
	o.Store = newStore(a.c.Now)
	if _, ok := o.Store.(*session.MemoryStore); ok {
		// Only a server-side store is wrapped: a wrapper that does not
		// embed a CookieStore hides it from the Middleware.
		o.Store = commitRecorder{o.Store, a}
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout, o.AbsoluteTimeout = 10*time.Minute, time.Hour
	}
	o.ValidateLogin = func(_ context.Context, id identity.Identity, _ time.Time) (bool, error) {
		return a.validate == nil || a.validate(id), nil
	}
	m, err := session.New(o.WithNow(a.c.Now))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if err := s.Login(identity.New(identity.Options{Subject: r.FormValue("user")})); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		if r.FormValue("remember") != "" {
			s.RememberMe(true)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		if !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(id.Subject()))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { _ = session.FromRequest(r).Renew() })
	mux.HandleFunc("/forget", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		s.RememberMe(false)
		if _, ok := s.Identity(); !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
		}
	})
	a.h, a.m = m.Handler(mux), m
	return a
}

// commitRecorder records the Records committed to its store.
type commitRecorder struct {
	session.Store
	a *rememberApp
}

func (s commitRecorder) Commit(ctx context.Context, rec session.Record) (string, error) {
	s.a.mu.Lock()
	s.a.commits = append(s.a.commits, rec)
	s.a.mu.Unlock()
	return s.Store.Commit(ctx, rec)
}

// lastCommit returns the last Record committed, when the store is
// recorded.
func (a *rememberApp) lastCommit() (session.Record, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.commits) == 0 {
		return session.Record{}, false
	}
	return a.commits[len(a.commits)-1], true
}

// do serves path with tok after advancing the clock by d, and returns the
// status, the token the client then holds ("" when the cookie was
// expired) and the Max-Age of the cookie set (0 for none).
func (a *rememberApp) do(t *testing.T, d time.Duration, path, tok string) (int, string, int) {
	t.Helper()
	a.c.Advance(d)
	req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
	if tok != "" {
		req.AddCookie(&http.Cookie{Name: a.m.CookieName(), Value: tok})
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	maxAge := 0
	for _, ck := range cookiesOf(rec, a.m.CookieName()) {
		tok, maxAge = ck.Value, ck.MaxAge
		if ck.MaxAge < 0 {
			tok = ""
		}
	}
	return rec.Code, tok, maxAge
}

// The remembered timeouts: the server keeps a remembered session as long
// as Options.RememberMeIdleTimeout and RememberMeAbsoluteTimeout say,
// from the choice kept in the session, and every other one as before.
func TestRememberMeTimeouts(t *testing.T) {
	o := session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Run("RememberMe after Login gives the long timeouts", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, maxAge := a.do(t, 0, "/login?user=ann&remember=1", "")
				if maxAge != int(rIdle/time.Second) {
					t.Errorf("Max-Age %d, want %d", maxAge, int(rIdle/time.Second))
				}
				if rec, ok := a.lastCommit(); ok && !rec.Expiry.Equal(a.c.Now().Add(rIdle)) {
					t.Errorf("the store's Expiry is %v, want the remembered idle deadline %v", rec.Expiry, a.c.Now().Add(rIdle))
				}
				for range 3 { // past the normal idle and absolute timeouts
					code, nt, _ := a.do(t, 6*24*time.Hour, "/whoami", tok)
					if code != 200 {
						t.Fatalf("a remembered session ended after %v: %d", a.c.Now().Sub(newClock().Now()), code)
					}
					tok = nt
				}
				if code, _, _ := a.do(t, rIdle+time.Second, "/whoami", tok); code != 401 {
					t.Errorf("a remembered session outlived its idle timeout: %d", code)
				}
			})
			t.Run("without RememberMe the normal timeouts apply", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, maxAge := a.do(t, 0, "/login?user=ann", "")
				if maxAge != 0 {
					t.Errorf("Max-Age %d on a browser-session cookie", maxAge)
				}
				if code, _, _ := a.do(t, 10*time.Minute+time.Second, "/whoami", tok); code != 401 {
					t.Errorf("an idle session outlived IdleTimeout: %d", code)
				}
			})
			t.Run("the absolute deadline counts from login, whatever the activity and Renew", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				for i := range 5 { // 5 × 5 days
					path := "/whoami"
					if i%2 == 1 {
						path = "/renew"
					}
					code, nt, _ := a.do(t, 5*24*time.Hour, path, tok)
					if code != 200 {
						t.Fatalf("request %d: %d", i, code)
					}
					tok = nt
				}
				// 25 days in: the cookie lasts until day 30 at most.
				_, nt, maxAge := a.do(t, 4*24*time.Hour, "/renew", tok)
				if want := int(24 * time.Hour / time.Second); maxAge != want {
					t.Errorf("Max-Age %d a day before the absolute deadline, want %d", maxAge, want)
				}
				if code, _, _ := a.do(t, 24*time.Hour, "/whoami", nt); code != 401 {
					t.Errorf("a remembered session outlived its absolute timeout: %d", code)
				}
			})
			t.Run("Renew keeps the choice", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				_, tok, _ = a.do(t, 0, "/renew", tok)
				if code, _, _ := a.do(t, 2*time.Hour, "/whoami", tok); code != 200 {
					t.Errorf("a renewed remembered session ended after 2h: %d", code)
				}
			})
			t.Run("a Login of another subject drops the choice", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				_, tok, _ = a.do(t, 0, "/login?user=bob", tok)
				if code, _, _ := a.do(t, 10*time.Minute+time.Second, "/whoami", tok); code != 401 {
					t.Errorf("bob's session took ann's remembered timeouts: %d", code)
				}
			})
			t.Run("RememberMe(false) brings the normal timeouts back", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				code, nt, maxAge := a.do(t, 5*time.Minute, "/forget", tok)
				if code != 200 || nt == "" || maxAge != 0 {
					t.Fatalf("RememberMe(false) in the first hour: %d, token %q, Max-Age %d", code, nt, maxAge)
				}
				if code, _, _ := a.do(t, 10*time.Minute+time.Second, "/whoami", nt); code != 401 {
					t.Errorf("the session kept the remembered idle timeout: %d", code)
				}
				// Every earlier copy of the cookie goes with the choice.
				if code, _, _ := a.do(t, 0, "/whoami", tok); code != 401 {
					t.Errorf("the remembered cookie from before RememberMe(false) still works: %d", code)
				}
			})
			t.Run("RememberMe(false) past the normal absolute timeout ends the session at once", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				_, tok, _ = a.do(t, 50*time.Minute, "/whoami", tok)
				code, nt, _ := a.do(t, 50*time.Minute, "/forget", tok)
				if code != 401 || nt != "" {
					t.Errorf("RememberMe(false) 100 minutes after login: %d, token %q; want the session ended and its cookie expired", code, nt)
				}
				if code, _, _ := a.do(t, 0, "/whoami", tok); code != 401 {
					t.Errorf("the session lives on after RememberMe(false): %d", code)
				}
			})
			t.Run("a logout ends every copy of a remembered session for as long as one can live", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, first, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				_, tok, _ := a.do(t, 24*time.Hour, "/whoami", first) // a fresher copy
				if code, _, _ := a.do(t, 0, "/logout", tok); code != 200 {
					t.Fatalf("logout: %d", code)
				}
				for _, d := range []time.Duration{0, time.Hour, 5 * 24 * time.Hour} {
					if code, _, _ := a.do(t, d, "/whoami", tok); code != 401 {
						t.Fatalf("the logged-out cookie works again %v after the logout: %d", d, code)
					}
				}
			})
			t.Run("ValidateLogin still runs", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), o)
				_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
				a.validate = func(identity.Identity) bool { return false }
				if code, _, _ := a.do(t, 2*time.Hour, "/whoami", tok); code != 401 {
					t.Errorf("a remembered session outlived its login: %d", code)
				}
			})
			t.Run("with the zero options a remembered session keeps the normal timeouts", func(t *testing.T) {
				a := newRememberApp(t, st.new(t), session.Options{})
				_, tok, maxAge := a.do(t, 0, "/login?user=ann&remember=1", "")
				if maxAge != int(10*time.Minute/time.Second) {
					t.Errorf("Max-Age %d", maxAge)
				}
				if code, _, _ := a.do(t, 10*time.Minute+time.Second, "/whoami", tok); code != 401 {
					t.Errorf("a remembered session outlived IdleTimeout: %d", code)
				}
			})
		})
	}
}

// The choice is part of the record: a record written without the flag
// (one stored before the remembered timeouts existed) has the normal
// timeouts, and only the server's record can carry the flag.
func TestRememberMeTimeoutsComeFromTheRecord(t *testing.T) {
	for _, remember := range []bool{false, true} {
		var ms *session.MemoryStore
		a := newRememberApp(t, func(now func() time.Time) session.Store {
			ms = memoryStore(t, session.MemoryOptions{}.WithNow(now))
			return ms
		}, session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs})
		now := a.c.Now()
		tok, err := ms.Commit(context.Background(), session.Record{ID: strings.Repeat("A", session.IDLength),
			Data: session.EncodeLogin(now, now, "ann", remember), Expiry: now.Add(rAbs)})
		if err != nil {
			t.Fatal(err)
		}
		code, _, _ := a.do(t, 10*time.Minute+time.Second, "/whoami", tok)
		if want := map[bool]int{false: 401, true: 200}[remember]; code != want {
			t.Errorf("a record with remember=%v after 10 minutes: %d, want %d", remember, code, want)
		}
	}
}

// A CookieStore cookie changed by the client, to set the remember flag
// or anything else, is not accepted: the flag comes only from the
// server.
func TestRememberMeFlagCannotBeForged(t *testing.T) {
	a := newRememberApp(t, stores[1].new(t), session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs})
	_, tok, _ := a.do(t, 0, "/login?user=ann", "")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, tok[i])+1)%64], alphabet[(strings.IndexByte(alphabet, tok[i])+32)%64]} {
			forged := tok[:i] + string(c) + tok[i+1:]
			if code, _, _ := a.do(t, 0, "/whoami", forged); code != 401 {
				t.Fatalf("a cookie changed at byte %d was accepted: %d", i, code)
			}
		}
	}
	// Nor does a cookie with the flag set under another key.
	other := newRememberApp(t, func(now func() time.Time) session.Store {
		return cookieStore(t, now, session.KeyPair{HashKey: key(7), BlockKey: key(8)})
	}, session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs})
	_, forged, _ := other.do(t, 0, "/login?user=ann&remember=1", "")
	if code, _, _ := a.do(t, 0, "/whoami", forged); code != 401 {
		t.Errorf("a remembered cookie made with another key was accepted: %d", code)
	}
}

// A request that loaded a session without the choice, and makes it after
// the session expired while the request ran, saves nothing: the record is
// judged by the timeouts it was stored with, not revived by the longer
// ones.
func TestRememberMeDoesNotReviveASessionThatExpiredInFlight(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			c := newClock()
			o := session.Options{Store: st.new(t)(c.Now), IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour,
				RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs}.WithNow(c.Now)
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/login?user=dave", "")
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { s.RememberMe(true) })
			<-loaded
			c.Advance(10*time.Minute + time.Second)
			close(release)
			rec := <-done
			noLoginFrom(t, a, rec, "a RememberMe(true) after the session expired in flight")
			if r, _ := a.Do(t, "/whoami", tok); r.Code != http.StatusUnauthorized {
				t.Errorf("the expired session was revived: %d", r.Code)
			}
		})
	}
}
