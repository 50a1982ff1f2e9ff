package session_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// Found in review: CookieStore revoked a logged-out session's ID only until
// the logging-out cookie's own idle deadline, so a copy refreshed after it
// (the attacker's, still in use) was accepted again once the revocation
// lapsed, up to the absolute timeout. A deletion now holds one idle
// timeout (plus the clock skew) past the logout, when every copy, however
// refreshed, has idled out.
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

// Found in review: a logout with a cookie copy that had idled out did
// nothing, so a copy someone else kept refreshing stayed valid. Each
// CookieStore copy carries its own deadline; Destroy now revokes the ID of
// any copy the store authenticates.
func TestCookieStoreLogoutWithAnExpiredCopyKillsTheOthers(t *testing.T) {
	c := newClock()
	st := cookieStore(t, c.Now)
	a := storetest.NewApp(t, session.Options{Store: st, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now))
	_, victim := a.Do(t, "/login?user=ann", "")
	stolen := victim
	for range 4 { // the victim is away; the attacker keeps the session alive
		c.Advance(10 * time.Minute)
		_, stolen = a.Do(t, "/whoami", stolen)
	}
	if rec, _ := a.Do(t, "/whoami", victim); rec.Code != http.StatusUnauthorized {
		t.Fatalf("the victim's copy did not idle out: %d", rec.Code)
	}
	if rec, _ := a.Do(t, "/whoami", stolen); rec.Code != http.StatusOK {
		t.Fatalf("the refreshed copy is not alive: %d", rec.Code)
	}
	if _, after := a.Do(t, "/logout", victim); after != "" {
		t.Error("the logout did not expire the cookie")
	}
	if rec, _ := a.Do(t, "/whoami", stolen); rec.Code != http.StatusUnauthorized {
		t.Errorf("a copy refreshed by someone else survived a logout with an expired copy: %d %q", rec.Code, rec.Body.String())
	}
	// A cookie the store does not authenticate revokes nothing.
	_, other := a.Do(t, "/login?user=bob", "")
	a.Do(t, "/logout", other[:len(other)-4]+"AAAA")
	if rec, _ := a.Do(t, "/whoami", other); rec.Code != http.StatusOK {
		t.Errorf("a logout with a tampered cookie ended another session: %d", rec.Code)
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
// deadline) revived the session for every copy of its token. A request
// that saves soon after the logout must not produce a token that outlives
// the deletion either. Both are checked now and after the deletion has
// lapsed (one idle timeout after the logout) but the token saved would
// still be live.
func TestInFlightSaveAfterLogoutDoesNotRevive(t *testing.T) {
	for _, s := range stores {
		for _, delay := range []time.Duration{time.Minute, 10*time.Minute + 2*time.Second} {
			t.Run(fmt.Sprint(s.name, "/", delay), func(t *testing.T) {
				c, o, a, tok := loggedIn(t, s.new)
				loaded, release, done := slowReq(t, o, a.M.CookieName(), tok, func(s *session.Session) { s.SetString("x", "y") })
				<-loaded
				a.Do(t, "/logout", tok)
				c.Advance(delay)
				close(release)
				rec := <-done
				toks := tokensAfter(rec, a.M.CookieName(), tok)
				// 9m30s more: past the deletion (one idle timeout after the
				// logout) for the early save, before its token would idle out.
				for _, later := range []time.Duration{0, 9*time.Minute + 30*time.Second} {
					c.Advance(later)
					for _, tk := range toks {
						if r, _ := a.Do(t, "/whoami", tk); r.Code != http.StatusUnauthorized {
							t.Errorf("%v after the save: session revived after logout: %d %q", later, r.Code, r.Body.String())
						}
					}
				}
			})
		}
	}
}

// A logout's marker lasts one idle timeout, not until the absolute
// deadline: a bounded memory store is not filled by the logouts of a day
// (found in review of the first fix, which held markers for 12 hours).
func TestLogoutMarkersDoNotFillTheMemoryStore(t *testing.T) {
	c := newClock()
	st, err := session.NewMemoryStore(session.MemoryOptions{MaxSessions: 20}.WithNow(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	a := storetest.NewApp(t, session.Options{Store: st, IdleTimeout: time.Minute, AbsoluteTimeout: 12 * time.Hour}.WithNow(c.Now))
	for range 20 {
		_, tok := a.Do(t, "/login?user=eve", "")
		a.Do(t, "/logout", tok)
	}
	c.Advance(2 * time.Minute)
	if rec, tok := a.Do(t, "/login?user=eve", ""); rec.Code != http.StatusOK || tok == "" {
		t.Fatalf("login after 20 logouts and an idle timeout: %d", rec.Code)
	}
}

// revocationsWithoutAdd hides the Add of the store it wraps.
type revocationsWithoutAdd struct{ session.Store }

// A CookieStore's Remove revokes through its Revocations store's Add,
// atomically, so that of a logout and a renewal racing on one session only
// one takes it. With a Revocations store that cannot Add, it checks and
// then revokes.
func TestCookieStoreRemove(t *testing.T) {
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name string
		rev  session.Store
	}{
		{"default revocations (an Adder)", nil},
		{"a store without Add", revocationsWithoutAdd{memoryStore(t, session.MemoryOptions{})}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := cookieStoreRevoking(t, nil, tt.rev)
			id := strings.Repeat("r", session.IDLength-1) + "A"
			tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: exp})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []bool{true, false} {
				if found, err := st.Remove(ctx, session.Record{ID: id, Expiry: exp}); found != want || err != nil {
					t.Errorf("Remove #%d = %v, %v; want %v, nil", i+1, found, err, want)
				}
			}
			if _, found, err := st.Find(ctx, tok); found || err != nil {
				t.Errorf("Find after Remove = %v, %v; want not found", found, err)
			}
			if found, err := st.Remove(ctx, session.Record{ID: id, Expiry: time.Now().Add(-time.Second)}); found || err != nil {
				t.Errorf("Remove with a past expiry = %v, %v; want false, nil", found, err)
			}
		})
	}
}

// countingRevocations counts the writes to a Revocations store.
type countingRevocations struct {
	*session.MemoryStore
	writes atomic.Int64
}

func (c *countingRevocations) Commit(ctx context.Context, rec session.Record) (string, error) {
	c.writes.Add(1)
	return c.MemoryStore.Commit(ctx, rec)
}

func (c *countingRevocations) Add(ctx context.Context, rec session.Record) (bool, error) {
	added, err := c.MemoryStore.Add(ctx, rec)
	if added {
		c.writes.Add(1)
	}
	return added, err
}

// Replaying a logged-out cookie to a logout must not write the
// Revocations store again and again (found in review: Destroy revoked the
// ID of any cookie the store authenticates, revoked or not).
func TestCookieStoreLogoutReplayWritesNothing(t *testing.T) {
	c := newClock()
	ms, err := session.NewMemoryStore(session.MemoryOptions{}.WithNow(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	rev := &countingRevocations{MemoryStore: ms}
	st := cookieStoreRevoking(t, c.Now, rev)
	a := storetest.NewApp(t, session.Options{Store: st, IdleTimeout: 10 * time.Minute}.WithNow(c.Now))
	_, tok := a.Do(t, "/login?user=mallory", "")
	a.Do(t, "/logout", tok)
	before := rev.writes.Load()
	for range 100 {
		c.Advance(time.Second)
		a.Do(t, "/logout", tok)
	}
	if n := rev.writes.Load() - before; n != 0 {
		t.Errorf("100 logouts with an already revoked cookie wrote the Revocations store %d times", n)
	}
}

// A CookieStore keeps the session in the cookie, so a client can present
// an earlier cookie of its session, not yet expired, and get that
// earlier state back: a count of failed attempts is undone. Renew after
// the change revokes the ID of every earlier cookie. The package
// documentation says so (Security considerations, Rollback).
func TestCookieStoreEarlierCopiesRollBackUntilRenew(t *testing.T) {
	c := newClock()
	m := session.MustNew(session.Options{Store: cookieStore(t, c.Now)}.WithNow(c.Now))
	mux := http.NewServeMux()
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		n, _ := s.GetInt("failures")
		s.SetInt("failures", n+1)
		if r.URL.Query().Has("renew") {
			if err := s.Renew(); err != nil {
				t.Error(err)
			}
		}
	})
	mux.HandleFunc("/failures", func(w http.ResponseWriter, r *http.Request) {
		n, _ := session.FromRequest(r).GetInt("failures")
		fmt.Fprint(w, n)
	})
	h := m.Handler(mux)
	_, first := do(h, m, "/fail", "")
	_, second := do(h, m, "/fail", first.Value)
	if rec, _ := do(h, m, "/failures", second.Value); rec.Body.String() != "2" {
		t.Fatalf("failures = %s, want 2", rec.Body.String())
	}
	if rec, _ := do(h, m, "/failures", first.Value); rec.Body.String() != "1" {
		t.Errorf("the earlier cookie gave failures = %s, want 1: the rollback the documentation describes", rec.Body.String())
	}
	_, third := do(h, m, "/fail?renew", second.Value)
	for _, old := range []*http.Cookie{first, second} {
		if rec, _ := do(h, m, "/failures", old.Value); rec.Body.String() != "0" {
			t.Errorf("an earlier cookie after Renew gave failures = %s, want 0 (no session)", rec.Body.String())
		}
	}
	if rec, _ := do(h, m, "/failures", third.Value); rec.Body.String() != "3" {
		t.Errorf("the renewed cookie gave failures = %s, want 3", rec.Body.String())
	}
}
