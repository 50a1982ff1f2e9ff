package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// Found in review: CookieStore revoked a logged-out session's ID only until
// the logging-out cookie's own idle deadline, so a copy refreshed after it
// (the attacker's, still in use) was accepted again once the revocation
// lapsed, up to the absolute timeout. A deletion now holds until the
// session's absolute deadline.
func TestCookieStoreLogoutOutlivesRefreshedCopies(t *testing.T) {
	c := newClock()
	st := cookieStore(t, c.Now)
	a := storetest.NewApp(t, session.Options{Store: st, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now))
	_, victim := a.Do(t, "/login?user=ann", "")

	c.Advance(5 * time.Minute)
	_, stolen := a.Do(t, "/whoami", victim) // attacker's copy, idle deadline refreshed
	if stolen == victim {
		t.Fatal("no refresh")
	}
	c.Advance(time.Minute)
	if _, after := a.Do(t, "/logout", victim); after != "" {
		t.Fatal("logout did not clear cookie")
	}
	if rec, _ := a.Do(t, "/whoami", stolen); rec.Code != http.StatusUnauthorized {
		t.Fatalf("stolen copy valid right after logout: %d", rec.Code)
	}
	c.Advance(24*time.Minute + 5*time.Second) // past the victim cookie's expiry + 1s
	if rec, _ := a.Do(t, "/whoami", stolen); rec.Code != http.StatusUnauthorized {
		t.Errorf("copy of a logged-out session accepted again %v after logout: %d %q", 25*time.Minute, rec.Code, rec.Body.String())
	}
}

// The same with Renew (a privilege change): the pre-Renew ID stays dead.
func TestCookieStoreRenewOutlivesRefreshedCopies(t *testing.T) {
	c := newClock()
	st := cookieStore(t, c.Now)
	a := storetest.NewApp(t, session.Options{Store: st, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now))
	_, victim := a.Do(t, "/login?user=ann", "")
	c.Advance(5 * time.Minute)
	_, stolen := a.Do(t, "/whoami", victim)
	c.Advance(time.Minute)
	a.Do(t, "/renew", victim)
	c.Advance(24*time.Minute + 5*time.Second)
	if rec, _ := a.Do(t, "/whoami", stolen); rec.Code != http.StatusUnauthorized {
		t.Errorf("pre-Renew copy accepted again: %d %q", rec.Code, rec.Body.String())
	}
}

// Found in review: a request that loaded the session before a logout and
// saved it after the deletion marker had expired (the record's idle
// deadline) revived the session for every copy of its token. The marker
// now lasts until the absolute deadline.
func TestInFlightSaveLongAfterLogoutDoesNotRevive(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c := newClock()
			st := s.new(t)(c.Now)
			o := session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/login?user=dave", "")
			loaded, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
			slow := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				s.GetString("x")
				close(loaded)
				<-release
				s.SetString("x", "y")
			}))
			rec := httptest.NewRecorder()
			go func() {
				defer close(done)
				req := httptest.NewRequest(http.MethodPost, "https://example.com/upload", nil)
				req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
				slow.ServeHTTP(rec, req)
			}()
			<-loaded
			a.Do(t, "/logout", tok)
			c.Advance(10*time.Minute + 2*time.Second)
			close(release)
			<-done
			toks := []string{tok}
			for _, ck := range (&http.Response{Header: rec.Header()}).Cookies() {
				if ck.Name == a.M.CookieName() && ck.Value != "" {
					toks = append(toks, ck.Value)
				}
			}
			for _, tk := range toks {
				if r, _ := a.Do(t, "/whoami", tk); r.Code != http.StatusUnauthorized {
					t.Errorf("session revived after logout: %d %q", r.Code, r.Body.String())
				}
			}
		})
	}
}
