package session_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// Found in review of the Renew check: Renew in a request whose presented
// cookie expired in flight, while the browser kept the session alive with
// fresher copies of the same ID, revoked nothing (the deletion was
// computed from data it had just cleared). The old ID must be dead
// afterwards.
func TestRenewOfAnExpiredCopyRevokesTheID(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c := newClock()
			st := s.new(t)(c.Now)
			o := session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/login?user=dave", "")
			old := tok
			var renewErr error
			loaded, release, done := slowReq(t, o, a.M.CookieName(), old, func(s *session.Session) { renewErr = s.Renew() })
			<-loaded
			tok = keepBrowsing(t, c, a, tok, 11)
			close(release)
			<-done
			if r, _ := a.Do(t, "/whoami", tok); r.Code != http.StatusUnauthorized {
				t.Errorf("after Renew (err %v) the old ID still works via a fresher copy: %d %q", renewErr, r.Code, r.Body.String())
			}
		})
	}
}

// Found in review: two instances share a CookieStore and its revocations,
// one clock 10 s fast. A copy refreshed on the fast instance just before
// a logout became valid again once the revocation lapsed; deletions now
// hold a minute longer for clock skew.
func TestClockSkewDoesNotReviveACookieCopy(t *testing.T) {
	c := newClock()
	fast := func() time.Time { return c.Now().Add(10 * time.Second) }
	st := cookieStore(t, c.Now)
	oN := session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now)
	oF := oN.WithNow(fast)
	n := storetest.NewApp(t, oN)
	f := storetest.NewApp(t, oF)
	_, tok := n.Do(t, "/login?user=dave", "")
	c.Advance(2 * time.Minute)
	_, copyTok := f.Do(t, "/whoami", tok) // refresh on the fast instance
	if copyTok == tok {
		t.Fatal("no refresh")
	}
	c.Advance(time.Second)
	if _, after := n.Do(t, "/logout", copyTok); after != "" {
		t.Fatal("logout kept cookie")
	}
	if r, _ := n.Do(t, "/whoami", copyTok); r.Code != http.StatusUnauthorized {
		t.Fatalf("not revoked right after logout: %d", r.Code)
	}
	c.Advance(10*time.Minute + 3*time.Second)
	if r, _ := n.Do(t, "/whoami", copyTok); r.Code != http.StatusUnauthorized {
		t.Errorf("copy valid again after logout (skew 10s): %d %q", r.Code, r.Body.String())
	}
}
