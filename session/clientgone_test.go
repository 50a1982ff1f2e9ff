package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// ctxStore fails every call whose context is done, as a network store
// does (the Redis store stops waiting for Redis when the request's context
// ends).
type ctxStore struct{ session.Store }

func (s ctxStore) Find(ctx context.Context, token string) (session.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, false, err
	}
	return s.Store.Find(ctx, token)
}

func (s ctxStore) Commit(ctx context.Context, rec session.Record) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return s.Store.Commit(ctx, rec)
}

func (s ctxStore) Delete(ctx context.Context, rec session.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, rec)
}

// Found in review: a logout whose client closed the connection before
// Destroy ran (a user who clicks "log out" and closes the browser at
// once) failed in a store that honours the request's context, so the
// session stayed valid on the server, and the cookie in the browser with
// it. The deletion now outlives the request's cancellation; the store's
// own timeout still bounds it.
func TestALogoutIsAppliedEvenIfTheClientLeft(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		t.Run(fmt.Sprintf("LazyLoad=%v", lazy), func(t *testing.T) {
			ms := memoryStore(t, session.MemoryOptions{})
			a := storetest.NewApp(t, session.Options{Store: ms})
			_, tok := a.Do(t, "/login?user=ivy", "")
			m := session.MustNew(session.Options{Store: ctxStore{ms}, LazyLoad: lazy})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var destroyErr error
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cancel() // the client goes away while the request is served
				destroyErr = session.FromRequest(r).Destroy()
			}))
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "https://example.com/logout", nil)
			req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
			h.ServeHTTP(httptest.NewRecorder(), req)
			if destroyErr != nil {
				t.Errorf("Destroy: %v", destroyErr)
			}
			if _, found, err := ms.Find(context.Background(), tok); found || err != nil {
				t.Errorf("after the logout the session is still in the store (%v, %v)", found, err)
			}
		})
	}
}
