package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// Session.Expiry is when the server ends the session without a further
// request: the earlier of its idle and absolute deadlines, by the
// timeouts of its remember-me choice; zero when there is no session.
func TestSessionExpiry(t *testing.T) {
	const day = 24 * time.Hour
	for _, st := range stores[:2] {
		t.Run(st.name, func(t *testing.T) {
			c := newClock()
			start := c.Now()
			m := session.MustNew(session.Options{Store: st.new(t)(c.Now), IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour,
				RememberMeIdleTimeout: 7 * day, RememberMeAbsoluteTimeout: 30 * day}.WithNow(c.Now))
			var got []time.Time
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				got = append(got, s.Expiry())
				switch r.URL.Path {
				case "/login":
					_ = s.Login(identity.New(identity.Options{Subject: "ann"}))
					got = append(got, s.Expiry())
				case "/remember":
					s.RememberMe(true)
					got = append(got, s.Expiry())
				case "/logout":
					_ = s.Destroy()
					got = append(got, s.Expiry())
				}
				w.WriteHeader(http.StatusNoContent)
				got = append(got, s.Expiry()) // as saved
			}))
			tok := ""
			do := func(d time.Duration, path string) []time.Time {
				t.Helper()
				c.Advance(d)
				got = nil
				req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
				if tok != "" {
					req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				for _, ck := range cookiesOf(rec, m.CookieName()) {
					tok = ck.Value
				}
				return got
			}
			check := func(what string, got []time.Time, want ...time.Time) {
				t.Helper()
				for i := range want {
					if i >= len(got) || !got[i].Equal(want[i]) {
						t.Errorf("%s: Expiry %v, want %v", what, got, want)
						return
					}
				}
			}
			var zero time.Time
			check("without a session", do(0, "/read"), zero, zero)
			check("at login", do(0, "/login"), zero, start.Add(10*time.Minute), start.Add(10*time.Minute))
			// 20 seconds later the record is not refreshed (it is, once a
			// minute): the idle deadline is the one the server holds.
			check("a request that does not refresh the record", do(20*time.Second, "/read"), start.Add(10*time.Minute), start.Add(10*time.Minute))
			now := start.Add(9 * time.Minute)
			check("a request that refreshes it", do(9*time.Minute-20*time.Second, "/read"), now.Add(10*time.Minute), now.Add(10*time.Minute))
			for range 5 {
				do(9*time.Minute, "/read")
			}
			now = start.Add(54 * time.Minute)
			check("near the absolute deadline", do(0, "/read"), start.Add(time.Hour), start.Add(time.Hour))
			check("RememberMe(true)", do(0, "/remember"), start.Add(time.Hour), now.Add(7*day), now.Add(7*day))
			check("Destroy", do(0, "/logout"), now.Add(7*day), zero, zero)
		})
	}
}

func TestSessionExpiryOfNil(t *testing.T) {
	var s *session.Session
	if !s.Expiry().IsZero() {
		t.Error("a nil session has an expiry")
	}
}
