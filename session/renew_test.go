package session_test

import (
	"net/http"
	"net/http/httptest"
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

// A Renew in a request during which the session's absolute deadline
// passes starts an empty session, as Renew documents: the handler must
// not go on seeing the expired session's identity and values under the
// fresh ID (a role change or step-up that renews and then acts on the
// identity would act for a session that has ended), and what it stores
// afterwards belongs to a new, live session. Carrying the record over
// kept the identity for the rest of the request and, with its old
// creation time, made the new session dead on arrival, losing the write.
// Only Renew's own deadline check catches this with a CookieStore, whose
// Remove reports a copy it has not revoked as found; a MemoryStore
// already finds nothing past the deadline.
// The deadline itself counts as past it (a mutation that read it as
// strictly after failed no other test).
func TestRenewPastTheAbsoluteDeadlineStartsAnEmptySession(t *testing.T) {
	for _, late := range []time.Duration{5*time.Minute + 30*time.Second, 5 * time.Minute} {
		t.Run("a request that runs "+late.String(), func(t *testing.T) { renewPastTheAbsoluteDeadline(t, late) })
	}
}

func renewPastTheAbsoluteDeadline(t *testing.T, late time.Duration) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c := newClock()
			o := session.Options{Store: s.new(t)(c.Now), IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 30 * time.Minute}.WithNow(c.Now)
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/login?user=dave", "")
			_, tok = a.Do(t, "/set?k=cart&v=dave's", tok)
			tok = keepBrowsing(t, c, a, tok, 25) // alive, 5 minutes before the absolute deadline

			var renewErr error
			var ident, cart bool
			h := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				if _, ok := s.Identity(); !ok {
					t.Fatal("no identity before the deadline")
				}
				c.Advance(late) // the request outlives the absolute deadline, or ends at it
				renewErr = s.Renew()
				_, ident = s.Identity()
				_, cart = s.GetString("cart")
				s.SetString("note", "after")
			}))
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "https://example.com/elevate", nil)
			r.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
			h.ServeHTTP(rec, r)
			if renewErr != nil {
				t.Fatalf("Renew: %v", renewErr)
			}
			if ident || cart {
				t.Errorf("after Renew past the absolute deadline the session still holds identity %v, values %v; want an empty session", ident, cart)
			}
			var fresh string
			for _, ck := range cookiesOf(rec, a.M.CookieName()) {
				if ck.Value != "" {
					fresh = ck.Value
				}
			}
			if fresh == "" {
				t.Fatalf("no new session issued: Set-Cookie %q", rec.Header().Values("Set-Cookie"))
			}
			if r, _ := a.Do(t, "/whoami", fresh); r.Code != http.StatusUnauthorized {
				t.Errorf("the new session is logged in: %d %q", r.Code, r.Body.String())
			}
			if r, _ := a.Do(t, "/get?k=note", fresh); r.Body.String() != "after" {
				t.Errorf("the value stored after the Renew = %q, want it in a live new session", r.Body.String())
			}
			if r, _ := a.Do(t, "/get?k=cart", fresh); r.Body.String() != "" {
				t.Errorf("the expired session's value reached the new one: %q", r.Body.String())
			}
		})
	}
}
