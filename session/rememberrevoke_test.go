package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
)

// revocationRecorder is a CookieStore's Revocations that records the
// expiry of every revocation.
type revocationRecorder struct {
	*session.MemoryStore
	mu  sync.Mutex
	exp []time.Time
}

func (r *revocationRecorder) record(rec session.Record) {
	r.mu.Lock()
	r.exp = append(r.exp, rec.Expiry)
	r.mu.Unlock()
}

func (r *revocationRecorder) Commit(ctx context.Context, rec session.Record) (string, error) {
	r.record(rec)
	return r.MemoryStore.Commit(ctx, rec)
}

func (r *revocationRecorder) Add(ctx context.Context, rec session.Record) (bool, error) {
	r.record(rec)
	return r.MemoryStore.Add(ctx, rec)
}

// The revocations of a CookieStore session whose user never chose
// RememberMe last as long as its copies can, the normal timeouts, not the
// remembered ones: each takes a place in the Revocations store, which a
// flood of logins and logouts would otherwise fill for days.
func TestCookieRevocationOfSessionNeverRemembered(t *testing.T) {
	o := session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs}
	var rev *revocationRecorder
	a := newRememberApp(t, func(now func() time.Time) session.Store {
		rev = &revocationRecorder{MemoryStore: memoryStore(t, session.MemoryOptions{}.WithNow(now))}
		return cookieStoreRevoking(t, now, rev)
	}, o)
	_, tok, _ := a.do(t, 0, "/login?user=ann", "")
	_, tok, _ = a.do(t, time.Minute, "/login?user=ann", tok) // renewed: the old ID revoked
	if code, _, _ := a.do(t, time.Minute, "/logout", tok); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	rev.mu.Lock()
	defer rev.mu.Unlock()
	if len(rev.exp) != 2 {
		t.Fatalf("%d revocations, want 2", len(rev.exp))
	}
	// The normal idle timeout, the clock skew allowed and the store's
	// second.
	limit := a.c.Now().Add(10*time.Minute + 2*time.Minute)
	for i, exp := range rev.exp {
		if exp.After(limit) {
			t.Errorf("revocation %d lasts until %v, %v after the logout; the session can live 10 minutes", i, exp, exp.Sub(a.c.Now()))
		}
	}
}

// A CookieStore session remembered in a later request than its login gets
// a new ID, so that its logout, held by the remembered timeouts, covers
// every copy of it, and its earlier copies never carry the choice.
func TestCookieRememberMeLaterGetsNewID(t *testing.T) {
	o := session.Options{RememberMeIdleTimeout: rIdle, RememberMeAbsoluteTimeout: rAbs}
	a := newRememberApp(t, func(now func() time.Time) session.Store { return cookieStore(t, now) }, o)
	_, first, _ := a.do(t, 0, "/login?user=ann", "")
	remember := a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).RememberMe(true)
	}))
	req := httptest.NewRequest(http.MethodGet, "https://example.com/remember", nil)
	req.AddCookie(&http.Cookie{Name: a.m.CookieName(), Value: first})
	rec := httptest.NewRecorder()
	remember.ServeHTTP(rec, req)
	var tok string
	for _, ck := range cookiesOf(rec, a.m.CookieName()) {
		tok = ck.Value
	}
	if tok == "" {
		t.Fatal("no cookie after RememberMe(true)")
	}
	if code, _, _ := a.do(t, 0, "/whoami", first); code != 401 {
		t.Errorf("the copy from before RememberMe(true) still works: %d", code)
	}
	_, fresher, _ := a.do(t, 24*time.Hour, "/whoami", tok)
	if code, _, _ := a.do(t, 0, "/logout", tok); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	for _, d := range []time.Duration{0, 5 * 24 * time.Hour} {
		if code, _, _ := a.do(t, d, "/whoami", fresher); code != 401 {
			t.Fatalf("a remembered copy works %v after the logout: %d", d, code)
		}
	}
}
