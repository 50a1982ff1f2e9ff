package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// RememberMe makes one session's cookie persistent, the RememberMe of
// alexedwards/scs: the choice is kept in the session, through Renew and
// Login, sent again with every cookie, undone by RememberMe(false) and
// ended by Destroy.
func TestRememberMe(t *testing.T) {
	const (
		none    = "none"    // a cookie without Max-Age: ends with the browser
		persist = "persist" // a cookie with Max-Age
		deleted = "deleted" // the cookie is expired
		noSet   = ""        // no Set-Cookie at all
		// notPersist is none or noSet: a CookieStore sends its re-encoded
		// cookie when the idle deadline is extended, a server-side store
		// nothing.
		notPersist = "not persist"
	)
	type step struct {
		path    string
		advance time.Duration // before the request
		want    string
		maxAge  int // with persist
	}
	tests := []struct {
		name       string
		persistent bool // Options.PersistentCookie
		steps      []step
	}{
		{"without RememberMe the cookie ends with the browser", false, []step{
			{path: "/login", want: none},
		}},
		{"RememberMe at login gives a Max-Age of the time left", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
		}},
		{"RememberMe before Login in the same request counts too", false, []step{
			{path: "/login?remember=1&first=1", want: persist, maxAge: 3600},
		}},
		{"the choice holds on the next request that saves", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/read", advance: 10 * time.Minute, want: persist, maxAge: 3600},
			{path: "/read", want: noSet}, // nothing saved, nothing sent
		}},
		{"Renew keeps it", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/renew", want: persist, maxAge: 3600},
		}},
		{"RememberMe(false) turns it back into a browser-session cookie", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/forget", want: none},
			{path: "/read", advance: 10 * time.Minute, want: notPersist},
		}},
		{"Destroy ends it: the next session starts without", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/logout", want: deleted},
			{path: "/login", want: none},
		}},
		{"a new login of the same user keeps it", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/login", want: persist, maxAge: 3600},
		}},
		// Found in review: another user signing in on the same browser
		// (a shared computer) kept the previous user's choice, and so a
		// cookie that outlives the browser, which they never chose.
		{"a login of another user does not inherit the choice", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/login?as=bob", want: none},
		}},
		{"another user's choice made before their Login in the same request counts", false, []step{
			{path: "/login?remember=1", want: persist, maxAge: 3600},
			{path: "/login?as=bob&remember=1&first=1", want: persist, maxAge: 3600},
		}},
		{"with PersistentCookie, RememberMe(false) changes nothing", true, []step{
			{path: "/login?forget=1", want: persist, maxAge: 3600},
		}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		sub := r.FormValue("as")
		if sub == "" {
			sub = "alice"
		}
		id := identity.New(identity.Options{Subject: sub})
		remember := func() {
			switch {
			case r.FormValue("remember") != "":
				s.RememberMe(true)
			case r.FormValue("forget") != "":
				s.RememberMe(false)
			}
		}
		if r.FormValue("first") != "" {
			remember()
		}
		if err := s.Login(id); err != nil {
			http.Error(w, err.Error(), 500)
		}
		if r.FormValue("first") == "" {
			remember()
		}
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { session.FromRequest(r).Identity() })
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { _ = session.FromRequest(r).Renew() })
	mux.HandleFunc("/forget", func(w http.ResponseWriter, r *http.Request) { session.FromRequest(r).RememberMe(false) })
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { _ = session.FromRequest(r).Destroy() })

	for _, st := range stores[:2] { // memory, cookie
		for _, tt := range tests {
			t.Run(st.name+"/"+tt.name, func(t *testing.T) {
				c := newClock()
				m, err := session.New(session.Options{Store: st.new(t)(c.Now), IdleTimeout: time.Hour,
					PersistentCookie: tt.persistent}.WithNow(c.Now))
				if err != nil {
					t.Fatal(err)
				}
				h := m.Handler(mux)
				var tok string
				for i, s := range tt.steps {
					c.Advance(s.advance)
					req := httptest.NewRequest(http.MethodGet, "https://example.com"+s.path, nil)
					if tok != "" {
						req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						t.Fatalf("step %d %s: status %d", i, s.path, rec.Code)
					}
					cookies := (&http.Response{Header: rec.Header()}).Cookies()
					got := noSet
					var maxAge int
					switch {
					case len(cookies) > 1:
						t.Fatalf("step %d %s: %d cookies", i, s.path, len(cookies))
					case len(cookies) == 0:
					case cookies[0].MaxAge < 0:
						got, tok = deleted, ""
					case cookies[0].MaxAge > 0:
						got, maxAge, tok = persist, cookies[0].MaxAge, cookies[0].Value
					default:
						got, tok = none, cookies[0].Value
					}
					if s.want == notPersist && (got == none || got == noSet) {
						continue
					}
					if got != s.want || (got == persist && maxAge != s.maxAge) {
						t.Fatalf("step %d %s: cookie %q (Max-Age %d), want %q (Max-Age %d): %q",
							i, s.path, got, maxAge, s.want, s.maxAge, rec.Header().Values("Set-Cookie"))
					}
				}
			})
		}
	}
}

// Found in review: RememberMe(true) called before Login in the same
// request was lost when the session had been logged out since this
// request loaded it (a logout in another tab): Login then starts the
// session empty, and it dropped the choice made in this request with the
// old session's data, so the fresh login got a browser-session cookie.
func TestRememberMeBeforeLoginSurvivesALogoutInFlight(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, o, a, tok := loggedIn(t, s.new)
			var loginErr error
			loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) {
				s.RememberMe(true)
				loginErr = s.Login(identity.New(identity.Options{Subject: "dave"}))
			})
			<-loaded
			if _, after := a.Do(t, "/logout", tok); after != "" {
				t.Fatal("the logout kept the cookie")
			}
			close(release)
			rec := <-done
			if loginErr != nil {
				t.Fatalf("Login: %v", loginErr)
			}
			cks := cookiesOf(rec, a.M.CookieName())
			if len(cks) == 0 || cks[len(cks)-1].Value == "" {
				t.Fatalf("no session cookie after the login: %q", rec.Header().Values("Set-Cookie"))
			}
			if ck := cks[len(cks)-1]; ck.MaxAge <= 0 {
				t.Errorf("the login's cookie is not persistent: %q", rec.Header().Values("Set-Cookie"))
			}
		})
	}
}
