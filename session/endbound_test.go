package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// hangingDelete is a store with no bound of its own on a call, whose
// Delete talks to a server that never answers: it ends only with its
// context.
type hangingDelete struct{ session.Store }

func (s hangingDelete) Delete(ctx context.Context, rec session.Record) error {
	<-ctx.Done()
	return ctx.Err()
}

// Found in review: Destroy and Renew end the session a stale token names
// without the request's cancellation, so that a client that hangs up
// cannot cancel a logout, but only Destroy bounded that deletion (ten
// seconds); Renew's waited for ever on a store with no timeout of its
// own, even after the client had gone.
func TestEndingAStaleSessionIsBoundedWhenTheClientLeft(t *testing.T) {
	for _, path := range []string{"/logout", "/renew"} {
		t.Run(path[1:], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newClock()
				ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
				o := session.Options{Store: ms, IdleTimeout: 10 * time.Minute}.WithNow(c.Now)
				_, tok := storetest.NewApp(t, o).Do(t, "/login?user=ivy", "")
				if tok == "" {
					t.Fatal("no login")
				}
				// An instance whose clock runs an hour ahead takes the
				// session as idle past its deadline, and ends it in the
				// store for the instances that do not.
				ahead := func() time.Time { return c.Now().Add(time.Hour) }
				a := storetest.NewApp(t, session.Options{Store: hangingDelete{ms}, IdleTimeout: 10 * time.Minute}.WithNow(ahead))
				ctx, cancel := context.WithCancel(t.Context())
				cancel() // the client has gone
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, "https://example.com"+path, nil)
				req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
				w := httptest.NewRecorder()
				start := time.Now()
				a.Handler.ServeHTTP(w, req)
				if d := time.Since(start); d != 10*time.Second {
					t.Errorf("%s gave up after %v, want 10s", path, d)
				}
				if w.Code != http.StatusServiceUnavailable {
					t.Errorf("%s: %d, want 503", path, w.Code)
				}
			})
		})
	}
}

// The same bound, seen from the Session: the error wraps ErrStore and the
// deadline.
func TestRenewOfAStaleSessionReportsTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClock()
		ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
		o := session.Options{Store: ms, IdleTimeout: 10 * time.Minute}.WithNow(c.Now)
		_, tok := storetest.NewApp(t, o).Do(t, "/login?user=ivy", "")
		ahead := func() time.Time { return c.Now().Add(time.Hour) }
		m := session.MustNew(session.Options{Store: hangingDelete{ms}, IdleTimeout: 10 * time.Minute}.WithNow(ahead))
		var err error
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err = session.FromRequest(r).Renew()
		}))
		req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !errors.Is(err, session.ErrStore) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Renew = %v, want ErrStore and context.DeadlineExceeded", err)
		}
	})
}
