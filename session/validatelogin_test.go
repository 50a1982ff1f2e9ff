package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/session"
)

// accounts is the application's user store as ValidateLogin reads it: the
// time each user last changed their password (or signed out everywhere).
type accounts struct {
	mu      sync.Mutex
	changed map[string]time.Time
	calls   []validateCall
	answer  func(id identity.Identity, loggedIn time.Time) (bool, error) // overrides the rule when set
}

type validateCall struct {
	subject  string
	loggedIn time.Time
}

func (a *accounts) validate(_ context.Context, id identity.Identity, loggedIn time.Time) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, validateCall{id.Subject(), loggedIn})
	if a.answer != nil {
		return a.answer(id, loggedIn)
	}
	return !loggedIn.Before(a.changed[id.Subject()]), nil
}

func (a *accounts) set(f func(*accounts)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func (a *accounts) takeCalls() []validateCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

// validateApp serves /login?user=, /whoami, /set?v= (a value without a
// login), /get and /password (the user changes their password: every
// other session of the user ends, this one logs in again and stays).
func validateApp(t *testing.T, o session.Options, c *clock, acc *accounts) (*session.Middleware, http.Handler) {
	t.Helper()
	o.ValidateLogin = acc.validate
	m, err := session.New(o.WithNow(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: r.URL.Query().Get("user")})); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		if !ok {
			id, ok = session.FromRequest(r).Identity() // LazyLoad puts none in the context
		}
		if !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, id.Subject())
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString("v", r.URL.Query().Get("v"))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := session.FromRequest(r).GetString("v")
		_, _ = io.WriteString(w, v)
	})
	mux.HandleFunc("/password", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		id, ok := s.Identity()
		if !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		acc.set(func(a *accounts) { a.changed[id.Subject()] = c.Now() })
		if err := s.Login(id); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
		}
	})
	return m, m.Handler(mux)
}

// do serves path with token as the session cookie; it returns the
// response and the Set-Cookie value of the session cookie, if any.
func do(h http.Handler, m *session.Middleware, path, token string) (*httptest.ResponseRecorder, *http.Cookie) {
	req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: token})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == m.CookieName() {
			return rec, ck
		}
	}
	return rec, nil
}

// TestValidateLoginEndsTheOtherSessionsOfAUser: after a password change,
// every session of the user logged in before it ends at once and for good,
// in every store, while the session that made the change stays.
func TestValidateLoginEndsTheOtherSessionsOfAUser(t *testing.T) {
	for _, st := range stores {
		for _, lazy := range []bool{false, true} {
			name := st.name
			if lazy {
				name += "/lazy"
			}
			t.Run(name, func(t *testing.T) {
				c := newClock()
				acc := &accounts{changed: map[string]time.Time{}}
				m, h := validateApp(t, session.Options{Store: st.new(t)(c.Now), LazyLoad: lazy}, c, acc)
				login := func(user string) string {
					t.Helper()
					rec, ck := do(h, m, "/login?user="+user, "")
					if rec.Code != http.StatusOK || ck == nil {
						t.Fatalf("login %s: %d, cookie %v", user, rec.Code, ck)
					}
					return ck.Value
				}
				whoami := func(tok string) string {
					t.Helper()
					rec, _ := do(h, m, "/whoami", tok)
					if rec.Code == http.StatusUnauthorized {
						return ""
					}
					if rec.Code != http.StatusOK {
						t.Fatalf("whoami: %d %q", rec.Code, rec.Body.String())
					}
					return rec.Body.String()
				}

				laptopAt := c.Now()
				laptop := login("alice")
				c.Advance(time.Second)
				phone := login("alice")
				bob := login("bob")
				acc.takeCalls()

				if got := whoami(laptop); got != "alice" {
					t.Fatalf("laptop before the change: %q, want alice", got)
				}
				if calls := acc.takeCalls(); len(calls) != 1 || calls[0].subject != "alice" || !calls[0].loggedIn.Equal(laptopAt) {
					t.Errorf("ValidateLogin calls = %v, want one for alice logged in at %v", calls, laptopAt)
				}

				c.Advance(time.Second)
				rec, ck := do(h, m, "/password", laptop)
				if rec.Code != http.StatusOK || ck == nil || ck.Value == laptop {
					t.Fatalf("password change: %d, cookie %v: want a new session token", rec.Code, ck)
				}
				laptop = ck.Value
				c.Advance(time.Second)

				rec, ck = do(h, m, "/whoami", phone)
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("phone after the change: %d %q, want 401 (no session)", rec.Code, rec.Body.String())
				}
				if ck != nil {
					t.Errorf("phone after the change got Set-Cookie %v: an ended session's client is not told, as after expiry", ck)
				}
				if got := whoami(laptop); got != "alice" {
					t.Errorf("laptop, which made the change: %q, want alice", got)
				}
				if got := whoami(bob); got != "bob" {
					t.Errorf("another user: %q, want bob", got)
				}

				// Ended for good: even if the rule later admits the old
				// login, the phone's session is gone from the store.
				acc.set(func(a *accounts) { a.changed = map[string]time.Time{} })
				acc.takeCalls()
				if got := whoami(phone); got != "" {
					t.Errorf("phone once the rule admits it again: %q, want no session", got)
				}
				if calls := acc.takeCalls(); len(calls) != 0 {
					t.Errorf("ValidateLogin asked about an ended session: %v", calls)
				}
			})
		}
	}
}

// TestValidateLoginIsAskedOnlyAboutLogins: a session without a login, and
// a request without a session, never reach ValidateLogin; with LazyLoad
// neither does a request that does not use its session.
func TestValidateLoginIsAskedOnlyAboutLogins(t *testing.T) {
	c := newClock()
	acc := &accounts{changed: map[string]time.Time{}}
	m, h := validateApp(t, session.Options{Store: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now)), LazyLoad: true}, c, acc)
	_, ck := do(h, m, "/set?v=cart", "")
	if ck == nil {
		t.Fatal("no session for a value")
	}
	if rec, _ := do(h, m, "/get", ck.Value); rec.Body.String() != "cart" {
		t.Errorf("anonymous session's value = %q", rec.Body.String())
	}
	do(h, m, "/whoami", "")
	_, login := do(h, m, "/login?user=carol", "")
	do(h, m, "/static", login.Value) // LazyLoad: the session is not used
	if calls := acc.takeCalls(); len(calls) != 0 {
		t.Errorf("ValidateLogin calls = %v, want none", calls)
	}
	if rec, _ := do(h, m, "/whoami", login.Value); rec.Body.String() != "carol" || len(acc.takeCalls()) != 1 {
		t.Errorf("a signed-in request: %q, want carol after one ValidateLogin", rec.Body.String())
	}
}

// TestValidateLoginIsNotAskedAboutAnExpiredSession: a session past its
// idle timeout is not loaded, whatever its login, so ValidateLogin is not
// asked about it, and a ValidateLogin that cannot answer does not turn
// the request into a 503: it is served without a session. The store,
// whose clock runs behind the instance's, still has the record.
func TestValidateLoginIsNotAskedAboutAnExpiredSession(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		t.Run(fmt.Sprintf("lazy=%v", lazy), func(t *testing.T) {
			c, storeClock := newClock(), newClock()
			acc := &accounts{changed: map[string]time.Time{}}
			m, h := validateApp(t, session.Options{Store: memoryStore(t, session.MemoryOptions{}.WithNow(storeClock.Now)), LazyLoad: lazy}, c, acc)
			_, login := do(h, m, "/login?user=carol", "")
			acc.set(func(a *accounts) {
				a.answer = func(identity.Identity, time.Time) (bool, error) {
					return false, errors.New("users database unreachable")
				}
			})
			c.Advance(session.DefaultIdleTimeout + 30*time.Second)
			if rec, _ := do(h, m, "/whoami", login.Value); rec.Code != http.StatusUnauthorized {
				t.Errorf("an expired session: %d %q, want 401 without a session", rec.Code, rec.Body.String())
			}
			if calls := acc.takeCalls(); len(calls) != 0 {
				t.Errorf("ValidateLogin calls = %v, want none", calls)
			}
		})
	}
}

// TestValidateLoginFailureIsA503NeverAnonymousNorTheUser: when
// ValidateLogin cannot answer, or the ended session cannot be deleted, the
// request is refused like a store failure, and the handler never runs.
// The session is not ended by an error.
func TestValidateLoginFailureIsA503NeverAnonymousNorTheUser(t *testing.T) {
	errUsersDown := errors.New("users database unreachable")
	for _, tt := range []struct {
		name   string
		answer func(identity.Identity, time.Time) (bool, error)
		delete bool // the store's Delete fails
		want   error
	}{
		{"ValidateLogin fails", func(identity.Identity, time.Time) (bool, error) { return false, errUsersDown }, false, errUsersDown},
		{"ValidateLogin fails and says true", func(identity.Identity, time.Time) (bool, error) { return true, errUsersDown }, false, errUsersDown},
		{"the deletion fails", func(identity.Identity, time.Time) (bool, error) { return false, nil }, true, errDown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
			var store session.Store = ms
			if tt.delete {
				store = deleteFailingStore{ms}
			}
			acc := &accounts{changed: map[string]time.Time{}}
			var rejected error
			m, h := validateApp(t, session.Options{Store: store, OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
				rejected = err
				w.Header().Set("Retry-After", "5")
				problem.Reject(w, r, http.StatusServiceUnavailable, err)
			}}, c, acc)
			_, ck := do(h, m, "/login?user=dan", "")
			acc.set(func(a *accounts) { a.answer = tt.answer })
			rec, set := do(h, m, "/whoami", ck.Value)
			if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "dan") || strings.Contains(rec.Body.String(), "anonymous") {
				t.Errorf("whoami: %d %q, want a 503 problem", rec.Code, rec.Body.String())
			}
			if !errors.Is(rejected, session.ErrStore) || !errors.Is(rejected, tt.want) {
				t.Errorf("OnReject got %v, want it to wrap ErrStore and %v", rejected, tt.want)
			}
			if set != nil {
				t.Errorf("Set-Cookie %v on a failure", set)
			}
			if !tt.delete {
				acc.set(func(a *accounts) { a.answer = nil })
				if rec, _ := do(h, m, "/whoami", ck.Value); rec.Body.String() != "dan" {
					t.Errorf("after the failure: %d %q, want the session intact", rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// deleteRecorder records whether each Delete's context was already done.
type deleteRecorder struct {
	session.Store
	deletes   atomic.Int32
	cancelled atomic.Bool
}

func (s *deleteRecorder) Delete(ctx context.Context, rec session.Record) error {
	s.deletes.Add(1)
	if ctx.Err() != nil {
		s.cancelled.Store(true)
	}
	return s.Store.Delete(ctx, rec)
}

// TestValidateLoginEndsTheSessionEvenWhenTheClientHasGone: the deletion of
// an ended session, like a logout, runs without the request's
// cancellation, so a client that hangs up cannot keep it alive.
func TestValidateLoginEndsTheSessionEvenWhenTheClientHasGone(t *testing.T) {
	c := newClock()
	store := &deleteRecorder{Store: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))}
	acc := &accounts{changed: map[string]time.Time{}}
	m, h := validateApp(t, session.Options{Store: store}, c, acc)
	_, ck := do(h, m, "/login?user=eve", "")
	acc.set(func(a *accounts) { a.answer = func(identity.Identity, time.Time) (bool, error) { return false, nil } })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "https://example.com/whoami", nil)
	req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: ck.Value})
	h.ServeHTTP(httptest.NewRecorder(), req)
	if store.deletes.Load() != 1 || store.cancelled.Load() {
		t.Errorf("deletes %d, with a cancelled context %v: want one, not cancelled", store.deletes.Load(), store.cancelled.Load())
	}
	acc.set(func(a *accounts) { a.answer = nil })
	if rec, _ := do(h, m, "/whoami", ck.Value); rec.Code != http.StatusUnauthorized {
		t.Errorf("the ended session afterwards: %d %q, want 401", rec.Code, rec.Body.String())
	}
}

// TestValidateLoginUnderConcurrentRequests: requests of one session race a
// change that ends it; each is served as the user or without a session,
// never failed, and once the change is made none is served as the user.
func TestValidateLoginUnderConcurrentRequests(t *testing.T) {
	c := newClock()
	acc := &accounts{changed: map[string]time.Time{}}
	m, h := validateApp(t, session.Options{Store: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))}, c, acc)
	_, ck := do(h, m, "/login?user=fred", "")
	c.Advance(time.Second)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range 16 {
		wg.Go(func() {
			if i == 8 {
				acc.set(func(a *accounts) { a.changed["fred"] = c.Now() })
			}
			rec, _ := do(h, m, "/whoami", ck.Value)
			if rec.Code != http.StatusOK && rec.Code != http.StatusUnauthorized {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d requests failed", bad.Load())
	}
	if rec, _ := do(h, m, "/whoami", ck.Value); rec.Code != http.StatusUnauthorized {
		t.Errorf("after the change: %d %q, want 401", rec.Code, rec.Body.String())
	}
}

// TestValidateLoginContextCarriesNoSession: ValidateLogin is asked while
// the session is being loaded, so its context does not carry that
// session, with or without LazyLoad: a validator that reached it would
// find it half loaded, and with LazyLoad (whose load holds the session's
// lock) would wait on itself forever. Destroy, which loads a lazy session
// with a context of its own, is no exception.
func TestValidateLoginContextCarriesNoSession(t *testing.T) {
	for _, tt := range []struct {
		name string
		lazy bool
		use  func(*session.Session) // the handler's first use of the session
	}{
		{"eager", false, func(s *session.Session) { s.Identity() }},
		{"lazy, Identity", true, func(s *session.Session) { s.Identity() }},
		{"lazy, GetString", true, func(s *session.Session) { s.GetString("v") }},
		{"lazy, Destroy", true, func(s *session.Session) { _ = s.Destroy() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var inCtx atomic.Bool
			m := session.MustNew(session.Options{LazyLoad: tt.lazy, ValidateLogin: func(ctx context.Context, id identity.Identity, _ time.Time) (bool, error) {
				if s := session.FromContext(ctx); s != nil {
					inCtx.Store(true)
					s.Has("v") // a validator that reads the session
				}
				return true, nil
			}})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/login" {
					_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: "gina"}))
					return
				}
				tt.use(session.FromRequest(r))
			}))
			_, ck := do(h, m, "/login", "")
			if ck == nil {
				t.Fatal("no login")
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				do(h, m, "/use", ck.Value)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the request never finished: ValidateLogin waits on the session being loaded")
			}
			if inCtx.Load() {
				t.Error("ValidateLogin's context carries the session being loaded")
			}
		})
	}
}

// TestValidateLoginLoggedInIsTheTimeOfLogin: loggedIn is when Login was
// called, not when the response that carries the new session started,
// which may be much later: a password changed in between postdates the
// login checked with the old one, and the session must not outlive it.
func TestValidateLoginLoggedInIsTheTimeOfLogin(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			c := newClock()
			acc := &accounts{changed: map[string]time.Time{}}
			m, err := session.New(session.Options{Store: st.new(t)(c.Now), ValidateLogin: acc.validate}.WithNow(c.Now))
			if err != nil {
				t.Fatal(err)
			}
			loginAt := c.Now()
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/login" {
					if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "hal"})); err != nil {
						t.Error(err)
					}
					c.Advance(time.Second)                                    // the handler goes on working
					acc.set(func(a *accounts) { a.changed["hal"] = c.Now() }) // meanwhile the password changes
					c.Advance(time.Second)
					_, _ = io.WriteString(w, "welcome") // the session is saved now
					return
				}
				if _, ok := identity.FromRequest(r); !ok {
					http.Error(w, "anonymous", http.StatusUnauthorized)
				}
			}))
			_, ck := do(h, m, "/login", "")
			if ck == nil {
				t.Fatal("no session")
			}
			rec, _ := do(h, m, "/whoami", ck.Value)
			if calls := acc.takeCalls(); len(calls) != 1 || !calls[0].loggedIn.Equal(loginAt) {
				t.Errorf("ValidateLogin calls = %v, want one with loggedIn %v", calls, loginAt)
			}
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("a session logged in before the password change: %d, want 401", rec.Code)
			}
		})
	}
}

// TestValidateLoginAddsNoAllocation: asking ValidateLogin costs a
// signed-in request no allocation of the middleware's own (the context it
// is given lives in the session).
func TestValidateLoginAddsNoAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are measured in full runs")
	}
	allocs := func(validate func(context.Context, identity.Identity, time.Time) (bool, error)) float64 {
		m := session.MustNew(session.Options{ValidateLogin: validate})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: "gil"}))
			}
		}))
		_, ck := do(h, m, "/login", "")
		req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		req.AddCookie(ck)
		w := &discard{h: http.Header{}}
		return testing.AllocsPerRun(200, func() { w.reset(); h.ServeHTTP(w, req) })
	}
	without := allocs(nil)
	with := allocs(func(context.Context, identity.Identity, time.Time) (bool, error) { return true, nil })
	if with > without {
		t.Errorf("a signed-in request allocates %v times with ValidateLogin, %v without", with, without)
	}
}

// TestValidateLoginFailureNeverReachesTheHandler: when ValidateLogin, or
// the deletion of a login it ended, fails, the handler does not run
// (the 503 is sent before it), and with LazyLoad, where it runs before
// the load, the load reports the failure and the session holds nothing:
// the handler never acts for the user nor as anonymous unknowingly.
func TestValidateLoginFailureNeverReachesTheHandler(t *testing.T) {
	errUsersDown := errors.New("users database unreachable")
	for _, tt := range []struct {
		name   string
		answer func(identity.Identity, time.Time) (bool, error)
		delete bool // the store's Delete fails
		want   error
	}{
		{"ValidateLogin fails", func(identity.Identity, time.Time) (bool, error) { return false, errUsersDown }, false, errUsersDown},
		{"ValidateLogin fails and says true", func(identity.Identity, time.Time) (bool, error) { return true, errUsersDown }, false, errUsersDown},
		{"the deletion fails", func(identity.Identity, time.Time) (bool, error) { return false, nil }, true, errDown},
	} {
		for _, lazy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lazy=%v", tt.name, lazy), func(t *testing.T) {
				c := newClock()
				ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
				var store session.Store = ms
				if tt.delete {
					store = deleteFailingStore{ms}
				}
				acc := &accounts{changed: map[string]time.Time{}}
				m, err := session.New(session.Options{Store: store, LazyLoad: lazy, ValidateLogin: acc.validate}.WithNow(c.Now))
				if err != nil {
					t.Fatal(err)
				}
				var (
					ran     bool
					loadErr error
					inCtx   bool
					inSess  bool
				)
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					s := session.FromRequest(r)
					if r.URL.Path == "/login" {
						if err := s.Login(identity.New(identity.Options{Subject: "dan"})); err != nil {
							t.Errorf("Login: %v", err)
						}
						return
					}
					ran = true
					_, inCtx = identity.FromRequest(r)
					loadErr = s.Load()
					_, inSess = s.Identity()
				}))
				_, ck := do(h, m, "/login", "")
				acc.set(func(a *accounts) { a.answer = tt.answer })
				rec, _ := do(h, m, "/whoami", ck.Value)
				if rec.Code != http.StatusServiceUnavailable {
					t.Errorf("status %d, want 503", rec.Code)
				}
				switch {
				case !lazy && ran:
					t.Errorf("the handler ran (identity in the context %v, Load %v)", inCtx, loadErr)
				case lazy && !ran:
					t.Error("the handler did not run with LazyLoad")
				case lazy && (!errors.Is(loadErr, session.ErrStore) || !errors.Is(loadErr, tt.want) || inCtx || inSess):
					t.Errorf("Load = %v, identity in the context %v, in the session %v; want an error wrapping ErrStore and %v, and no identity", loadErr, inCtx, inSess, tt.want)
				}
			})
		}
	}
}
