package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// slowReq starts a request carrying tok whose handler loads the session,
// signals loaded, waits for release, then runs after(s).
func slowReq(t *testing.T, o session.Options, name, tok string, after func(s *session.Session)) (loaded, release chan struct{}, done chan *httptest.ResponseRecorder) {
	loaded, release, done = make(chan struct{}), make(chan struct{}), make(chan *httptest.ResponseRecorder, 1)
	h := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		s.GetString("x")
		close(loaded)
		<-release
		if after != nil {
			after(s)
		}
	}))
	go func() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "https://example.com/slow", nil)
		req.AddCookie(&http.Cookie{Name: name, Value: tok})
		h.ServeHTTP(rec, req)
		done <- rec
	}()
	return
}

// loggedIn returns dave's token on an app over a new store from newStore,
// with a 10-minute idle timeout and a clock of its own.
func loggedIn(t *testing.T, newStore func(t *testing.T) func(now func() time.Time) session.Store) (*clock, session.Options, *storetest.App, string) {
	t.Helper()
	c := newClock()
	o := session.Options{Store: newStore(t)(c.Now), IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
	a := storetest.NewApp(t, o)
	_, tok := a.Do(t, "/login?user=dave", "")
	return c, o, a, tok
}

// noLoginFrom fails t if a session cookie that rec sets logs anyone in:
// what (a Renew that should have carried nothing over) revived a session.
func noLoginFrom(t *testing.T, a *storetest.App, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	for _, ck := range cookiesOf(rec, a.M.CookieName()) {
		if ck.Value == "" {
			continue
		}
		if r, _ := a.Do(t, "/whoami", ck.Value); r.Code != http.StatusUnauthorized {
			t.Errorf("%s revived the session under a new ID: %d %q", what, r.Code, r.Body.String())
		}
	}
}

// keepBrowsing makes n requests a minute apart with tok, as a user active
// in another tab, each of which must succeed, and returns the token after
// the last refresh.
func keepBrowsing(t *testing.T, c *clock, a *storetest.App, tok string, n int) string {
	t.Helper()
	for range n {
		c.Advance(time.Minute)
		r, nt := a.Do(t, "/whoami", tok)
		if r.Code != 200 {
			t.Fatalf("live session refused: %d", r.Code)
		}
		tok = nt
	}
	return tok
}

// tokensAfter returns tok and every non-empty session cookie rec sets: the
// tokens a client could hold once rec has arrived.
func tokensAfter(rec *httptest.ResponseRecorder, name, tok string) []string {
	toks := []string{tok}
	for _, ck := range cookiesOf(rec, name) {
		if ck.Value != "" {
			toks = append(toks, ck.Value)
		}
	}
	return toks
}

// cookiesOf returns the cookies named name that the client received: from
// the header as it was when the response was written, so that a cookie
// set too late does not count.
func cookiesOf(rec *httptest.ResponseRecorder, name string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Requests in flight during a logout, found in the review of the fixes in
// revocation_test.go: each of these was wrong with the first or second fix.

// A user's request that runs longer than the idle timeout, while other
// requests keep the session alive, must not clear the client's cookie.
func TestALongRequestDoesNotClearALiveSession(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c, o, a, tok := loggedIn(t, s.new)
			c.Advance(2 * time.Minute)
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, nil)
			<-loaded
			tok = keepBrowsing(t, c, a, tok, 11) // the user keeps browsing meanwhile
			close(release)
			rec := <-done
			for _, ck := range cookiesOf(rec, a.M.CookieName()) {
				if ck.MaxAge < 0 || ck.Value == "" {
					t.Errorf("a long request of an active user logged the browser out: Set-Cookie %q", rec.Header().Values("Set-Cookie"))
				}
			}
			if r, _ := a.Do(t, "/whoami", tok); r.Code != 200 {
				t.Errorf("session dead: %d", r.Code)
			}
		})
	}
}

// A request in flight during the logout that calls Renew afterwards must
// not mint a new ID carrying the logged-out identity: right after the
// logout, nor once its revocation has lapsed (idle timeout and clock skew
// later; found in review: a CookieStore's Add succeeded again then).
func TestRenewAfterLogoutDoesNotRevive(t *testing.T) {
	for _, s := range stores {
		for _, wait := range []time.Duration{time.Second, 10*time.Minute + time.Minute + 2*time.Second} {
			t.Run(fmt.Sprintf("%s/%v", s.name, wait), func(t *testing.T) {
				c, o, a, tok := loggedIn(t, s.new)
				var renewErr error
				loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { renewErr = s.Renew() })
				<-loaded
				if _, after := a.Do(t, "/logout", tok); after != "" {
					t.Fatal("logout kept the cookie")
				}
				c.Advance(wait)
				close(release)
				rec := <-done
				noLoginFrom(t, a, rec, fmt.Sprintf("Renew after logout (err %v)", renewErr))
			})
		}
	}
}

// A Renew in a request that loaded the session before its absolute
// deadline and runs after it must not carry the identity over to a fresh
// session (found in review: a CookieStore's Remove reports any ID it has
// not revoked as found).
func TestRenewAfterTheDeadlineDoesNotRevive(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c := newClock()
			o := session.Options{Store: s.new(t)(c.Now), IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 30 * time.Minute}.WithNow(c.Now)
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/login?user=dave", "")
			tok = keepBrowsing(t, c, a, tok, 25) // alive, 5 minutes before the absolute deadline
			var renewErr error
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { renewErr = s.Renew() })
			<-loaded
			c.Advance(5*time.Minute + 30*time.Second)
			if r, _ := a.Do(t, "/whoami", tok); r.Code != http.StatusUnauthorized {
				t.Fatalf("session alive after its absolute deadline: %d", r.Code)
			}
			close(release)
			rec := <-done
			for _, tk := range tokensAfter(rec, a.M.CookieName(), tok) {
				if r, _ := a.Do(t, "/whoami", tk); r.Code != http.StatusUnauthorized {
					t.Errorf("a Renew after the absolute deadline (err %v) revived %q under a fresh session", renewErr, r.Body.String())
				}
			}
		})
	}
}

// A Renew that finds its session logged out must not expire the cookie:
// the logout's response did, and a fresh login may have set a new one
// since (found in review).
func TestLateRenewOfALoggedOutSessionKeepsAFreshLogin(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, o, a, old := loggedIn(t, s.new)
			loaded, release, done := slowReq(t, o, a.M.CookieName(), old, func(s *session.Session) { _ = s.Renew() })
			<-loaded
			a.Do(t, "/logout", old)
			a.Do(t, "/login?user=erin", "")
			close(release)
			rec := <-done
			for _, ck := range cookiesOf(rec, a.M.CookieName()) {
				if ck.MaxAge < 0 {
					t.Errorf("the late Renew's response expires the cookie: %q", rec.Header().Get("Set-Cookie"))
				}
			}
		})
	}
}

// A long request of an active user that calls Renew (a role change)
// after its own loaded copy's idle deadline, while other requests kept the
// session alive, must not log the user out (found in review).
func TestRenewInALongRequestKeepsALiveSession(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c, o, a, tok := loggedIn(t, s.new)
			c.Advance(2 * time.Minute)
			var renewErr error
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { renewErr = s.Renew() })
			<-loaded
			tok = keepBrowsing(t, c, a, tok, 9) // past its copy's deadline (load + 8 min); the user keeps browsing meanwhile
			close(release)
			rec := <-done
			if renewErr != nil {
				t.Fatalf("Renew: %v", renewErr)
			}
			alive := false
			for _, tk := range tokensAfter(rec, a.M.CookieName(), tok) {
				if r, _ := a.Do(t, "/whoami", tk); r.Code == http.StatusOK {
					alive = true
				}
			}
			for _, ck := range cookiesOf(rec, a.M.CookieName()) {
				if ck.MaxAge < 0 {
					t.Errorf("the Renew's response expires the cookie of a live session: %q", rec.Header().Values("Set-Cookie"))
				}
			}
			if !alive {
				t.Errorf("a Renew in a long request logged out a session other requests kept alive")
			}
		})
	}
}

// With PersistentCookie, a request that loaded the session before a
// logout and saves after it must send nothing (found in review: the
// MemoryStore's Commit, which stored nothing, returned the dead token, and
// the middleware re-sent it with a Max-Age, replacing a fresh login's
// cookie).
func TestPersistentLateSaveDoesNotDropAFreshLogin(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c := newClock()
			o := session.Options{Store: s.new(t)(c.Now), IdleTimeout: 10 * time.Minute, PersistentCookie: true}.WithNow(c.Now)
			a := storetest.NewApp(t, o)
			_, old := a.Do(t, "/login?user=erin", "")
			loaded, release, done := slowReq(t, o, a.M.CookieName(), old, func(s *session.Session) { s.SetString("k", "v") })
			<-loaded
			a.Do(t, "/logout", old)
			_, fresh := a.Do(t, "/login?user=erin", "")
			close(release)
			rec := <-done
			if v := rec.Header().Values("Set-Cookie"); len(v) != 0 {
				t.Errorf("a late save of a logged-out session sets %q: it replaces the fresh login's cookie %.12s…", v, fresh)
			}
		})
	}
}

// slowAddRevocations is a Revocations store whose Add takes a while (a
// saturated pool, a failover): the clock moves on during the call.
type slowAddRevocations struct {
	*session.MemoryStore
	c     *clock
	delay time.Duration
	armed chan struct{}
}

func (s *slowAddRevocations) Add(ctx context.Context, rec session.Record) (bool, error) {
	select {
	case <-s.armed:
		s.c.Advance(s.delay)
	default:
	}
	return s.MemoryStore.Add(ctx, rec)
}

// A Remove that starts within one idle timeout of the load but runs after
// the logout's revocation lapsed must not carry the identity over (found
// in review: renew read the clock before Remove).
func TestASlowRemoveAfterTheRevocationLapsedDoesNotRevive(t *testing.T) {
	c := newClock()
	rev := &slowAddRevocations{MemoryStore: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now)), c: c, delay: 2 * time.Minute, armed: make(chan struct{})}
	st := cookieStoreRevoking(t, c.Now, rev)
	o := session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
	a := storetest.NewApp(t, o)
	_, tok := a.Do(t, "/login?user=dave", "")
	loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { _ = s.Renew() })
	<-loaded
	a.Do(t, "/logout", tok)                 // revoked until load + 11m01s
	c.Advance(10*time.Minute - time.Second) // Renew starts inside the window
	close(rev.armed)                        // its Add lands 2 minutes later
	close(release)
	rec := <-done
	noLoginFrom(t, a, rec, "a slow Remove after the revocation lapsed")
}

// gateStore pauses the first armed Find after it returned the record.
type gateStore struct {
	session.Store
	mu    sync.Mutex
	armed bool
	found chan struct{}
	cont  chan struct{}
}

func (g *gateStore) Find(ctx context.Context, tok string) (session.Record, bool, error) {
	rec, ok, err := g.Store.Find(ctx, tok)
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(g.found)
		<-g.cont
	}
	return rec, ok, err
}

// A logout between a request's Find and the rest of its load must not let
// a Renew carry the session over once the logout's revocation has lapsed:
// the window in which a CookieStore's Remove is trusted runs from before
// the load's Find (found in review: a load time read after Find left it
// open). The gate stalls the load in the CookieStore's revocation check.
func TestLogoutDuringTheLoadDoesNotRevive(t *testing.T) {
	c := newClock()
	g := &gateStore{Store: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now)), found: make(chan struct{}), cont: make(chan struct{})}
	st := cookieStoreRevoking(t, c.Now, g)
	o := session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
	a := storetest.NewApp(t, o)
	_, tok := a.Do(t, "/login?user=dave", "")
	if tok == "" {
		t.Fatal("no session cookie") // the slow request would never load, and the test hang
	}
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	var renewErr error
	loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) {
		c.Advance(9*time.Minute + 30*time.Second) // 11m30s after the logout: its revocation has lapsed
		renewErr = s.Renew()
	})
	<-g.found // the load found the ID not revoked
	a.Do(t, "/logout", tok)
	c.Advance(2 * time.Minute) // the load stalls
	close(g.cont)
	<-loaded
	close(release)
	rec := <-done
	for _, tk := range tokensAfter(rec, a.M.CookieName(), tok) {
		if r, _ := a.Do(t, "/whoami", tk); r.Code != http.StatusUnauthorized {
			t.Errorf("a Renew (err %v) revived a session logged out during its load: %d %q", renewErr, r.Code, r.Body.String())
		}
	}
}

// A logout that finds the record already idled out in the store leaves no
// marker; a request that loaded it just before then must not revive it.
func TestLogoutOfAnExpiredRecordDoesNotLetAnInFlightSaveRevive(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c, o, a, tok := loggedIn(t, s.new)
			c.Advance(10*time.Minute - time.Second)
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, nil)
			<-loaded
			c.Advance(2 * time.Second)
			if _, after := a.Do(t, "/logout", tok); after != "" {
				t.Fatalf("logout kept cookie")
			}
			c.Advance(30 * time.Second)
			close(release)
			rec := <-done
			toks := tokensAfter(rec, a.M.CookieName(), tok)
			if len(toks) > 1 {
				t.Logf("in-flight response after the logout sets a fresh cookie")
			}
			for _, tk := range toks {
				if r, _ := a.Do(t, "/whoami", tk); r.Code != http.StatusUnauthorized {
					t.Errorf("session valid after the logout: %d %q", r.Code, r.Body.String())
				}
			}
		})
	}
}

// Two instances share a store, one clock 30 s ahead. A logout, or a login
// that renews the session, on the fast one, which finds the session idled
// out by its own clock, must still end it for the slow one, which accepts
// it and would keep it alive (found in review: the fast instance deleted
// nothing).
func TestEndingASessionOnAFastInstanceEndsItEverywhere(t *testing.T) {
	for _, s := range stores {
		for _, path := range []string{"/logout", "/login?user=erin"} {
			t.Run(s.name+path, func(t *testing.T) {
				c := newClock()
				fast := func() time.Time { return c.Now().Add(30 * time.Second) }
				oSlow := session.Options{Store: s.new(t)(c.Now), IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
				slow := storetest.NewApp(t, oSlow)
				quick := storetest.NewApp(t, oSlow.WithNow(fast))
				_, tok := slow.Do(t, "/login?user=dave", "")
				c.Advance(10*time.Minute - 10*time.Second) // idled out on the fast instance only
				quick.Do(t, path, tok)
				r, refreshed := slow.Do(t, "/whoami", tok) // a stolen copy
				if r.Code != http.StatusUnauthorized {
					t.Errorf("the session outlived %s on the fast instance: %d %q", path, r.Code, r.Body.String())
				}
				c.Advance(9 * time.Minute)
				if r, _ := slow.Do(t, "/whoami", refreshed); r.Code != http.StatusUnauthorized {
					t.Errorf("and was kept alive 9 minutes later: %d", r.Code)
				}
			})
		}
	}
}

// A Renew that finds its session logged out starts an empty session; the
// old session's RememberMe does not come with it, only a choice made in
// this request would (a mutation that carried it over failed no test).
func TestRenewAfterLogoutDropsTheOldRememberMe(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, o, a, tok := loggedIn(t, s.new)
			remember := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromRequest(r).RememberMe(true)
			}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "https://example.com/remember", nil)
			req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
			remember.ServeHTTP(rec, req)
			if cks := cookiesOf(rec, a.M.CookieName()); len(cks) != 1 || cks[0].MaxAge <= 0 {
				t.Fatalf("RememberMe: Set-Cookie %q", rec.Header().Values("Set-Cookie"))
			} else {
				tok = cks[0].Value
			}
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) {
				_ = s.Renew()
				s.SetString("x", "1")
			})
			<-loaded
			a.Do(t, "/logout", tok)
			close(release)
			rec = <-done
			cks := cookiesOf(rec, a.M.CookieName())
			if len(cks) != 1 || cks[0].Value == "" || cks[0].MaxAge != 0 {
				t.Errorf("Set-Cookie %q; want a browser-session cookie for the new session", rec.Header().Values("Set-Cookie"))
			}
		})
	}
}

// recordingStore records the Expiry of every Delete.
type recordingStore struct {
	session.Store
	mu      sync.Mutex
	deletes []time.Time
}

func (s *recordingStore) Delete(ctx context.Context, rec session.Record) error {
	s.mu.Lock()
	s.deletes = append(s.deletes, rec.Expiry)
	s.mu.Unlock()
	return s.Store.Delete(ctx, rec)
}

// A logout's deletion is held one idle timeout, but never past the
// absolute deadline (plus the clock skew): no copy of the token lives
// longer, and the store need not keep it (a mutation that dropped the cap
// failed no test).
func TestALogoutIsHeldNoLongerThanTheAbsoluteDeadline(t *testing.T) {
	c := newClock()
	start := c.Now()
	st := &recordingStore{Store: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))}
	a := storetest.NewApp(t, session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 30 * time.Minute}.WithNow(c.Now))
	_, tok := a.Do(t, "/login?user=dave", "")
	tok = keepBrowsing(t, c, a, tok, 25)
	a.Do(t, "/logout", tok)
	want := start.Add(30*time.Minute + time.Minute)
	if len(st.deletes) != 1 || !st.deletes[0].Equal(want) {
		t.Errorf("Delete expiries %v, want [%v]", st.deletes, want)
	}
}
