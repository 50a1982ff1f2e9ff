package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
)

// A request that loaded a remembered session before another request's
// RememberMe(false), and saves it after, must not give the session its
// remembered timeouts back: RememberMe(false) brings the normal ones back
// at once, whatever requests of the session are in flight.
func TestRememberMeFalseNotUndoneByStaleRequest(t *testing.T) {
	o := session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			a := newRememberApp(t, st.new(t), o)
			_, tok, _ := a.do(t, 0, "/login?user=ann&remember=1", "")
			var forgot string
			stale := a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				if _, ok := s.Identity(); !ok { // loaded, remembered
					t.Fatal("no session in the stale request")
				}
				// Meanwhile the user withdraws the choice.
				code, nt, _ := a.do(t, time.Minute, "/forget", tok)
				if code != 200 || nt == "" {
					t.Fatalf("RememberMe(false): %d, token %q", code, nt)
				}
				forgot = nt
				s.SetString("cart", "1") // then the stale request saves
			}))
			req := httptest.NewRequest(http.MethodGet, "https://example.com/cart", nil)
			req.AddCookie(&http.Cookie{Name: a.m.CookieName(), Value: tok})
			stale.ServeHTTP(httptest.NewRecorder(), req)
			for _, c := range []string{tok, forgot} {
				if code, _, _ := a.do(t, 10*time.Minute+time.Second, "/whoami", c); code != 401 {
					t.Errorf("the session outlived the normal idle timeout after RememberMe(false): %d", code)
				}
			}
		})
	}
}
