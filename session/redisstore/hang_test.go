package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/redisstore"
)

// Found in review: the Store had no bound of its own on a call, and
// go-redis applies a context's deadline only with ContextTimeoutEnabled
// and sees no cancellation while it waits for a reply. With a client of
// the default options each request held 5 s when Redis hung, even after
// its client had gone away. Options.Timeout now bounds every call.
func TestARedisThatHangsFailsWithinTimeout(t *testing.T) {
	settled := testenv.Goroutines(t)
	addr, stop := testenv.SilentServer(t)
	for _, c := range testenv.HangClients {
		t.Run(c.Name, func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: c.ContextTimeoutEnabled, ReadTimeout: c.ReadTimeout})
			s, err := redisstore.New(redisstore.Options{Client: rdb, Timeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			tok := make([]byte, 32)
			_, _ = rand.Read(tok)
			rec := session.Record{ID: base64.RawURLEncoding.EncodeToString(tok), Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}
			calls := []testenv.StoreCall{
				{Name: "Find", Call: func(ctx context.Context) error { _, _, err := s.Find(ctx, rec.ID); return err }},
				{Name: "Commit", Call: func(ctx context.Context) error { _, err := s.Commit(ctx, rec); return err }},
				{Name: "Commit of an expired record", Call: func(ctx context.Context) error {
					r := rec
					r.Expiry = time.Now().Add(-time.Second)
					_, err := s.Commit(ctx, r)
					return err
				}},
				{Name: "Add", Call: func(ctx context.Context) error { _, err := s.Add(ctx, rec); return err }},
				{Name: "Remove", Call: func(ctx context.Context) error { _, err := s.Remove(ctx, rec); return err }},
			}
			testenv.CheckCallsEnd(t, calls)

			t.Run("the middleware answers 503", func(t *testing.T) {
				m, err := session.New(session.Options{Store: s})
				if err != nil {
					t.Fatal(err)
				}
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				r := httptest.NewRequest("GET", "/", nil)
				r.AddCookie(&http.Cookie{Name: "__Host-session", Value: rec.ID})
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, r)
				if d := time.Since(start); d > testenv.HangBound || w.Code != http.StatusServiceUnavailable {
					t.Fatalf("%d after %v", w.Code, d)
				}
			})

			_ = rdb.Close()
		})
	}
	stop()
	settled()
}

// A logout whose client has gone away is still applied in Redis (see
// session.Session.Destroy): go-redis refuses a call whose context is
// cancelled, and the session middleware does not pass it the
// cancellation.
func TestALogoutIsAppliedEvenIfTheClientLeft(t *testing.T) {
	s, _, _ := newStore(t, testenv.Redis(t))
	m := session.MustNew(session.Options{Store: s})
	var tok string
	login := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "ivy"})); err != nil {
			t.Error(err)
		}
	}))
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "https://example.com/login", nil))
	for _, c := range w.Result().Cookies() {
		tok = c.Value
	}
	if _, found, err := s.Find(context.Background(), tok); !found || err != nil {
		t.Fatalf("after the login: %v, %v", found, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logout := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the client goes away while the request is served
		if err := session.FromRequest(r).Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	}))
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "https://example.com/logout", nil)
	r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
	logout.ServeHTTP(httptest.NewRecorder(), r)
	if _, found, err := s.Find(context.Background(), tok); found || err != nil {
		t.Fatalf("after the logout the session is still in Redis (%v, %v)", found, err)
	}
}
