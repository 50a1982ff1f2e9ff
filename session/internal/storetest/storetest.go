// Package storetest is the conformance suite every session.Store must
// pass, at the store level (the session.Store contract) and through the
// middleware (fixation, replay after logout, tampering, concurrency). The
// session package runs it against its memory and cookie stores, and
// session/redisstore against a real Redis server.
package storetest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// Run runs the whole suite. newStore returns a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("contract", func(t *testing.T) { testContract(t, newStore(t)) })
	t.Run("middleware", func(t *testing.T) { testMiddleware(t, newStore) })
}

// Update checks a store that honours session.Record's Update: a Commit
// with it stores the record only over a live one of the same ID, and
// otherwise stores nothing and returns an empty token.
func Update(t *testing.T, st session.Store) {
	t.Helper()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	commit := func(rec session.Record) string {
		t.Helper()
		tok, err := st.Commit(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	find := func(id string) (string, bool) {
		t.Helper()
		rec, found, err := st.Find(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return string(rec.Data), found
	}
	unknown, live, deleted := newID(t, 'u'), newID(t, 'v'), newID(t, 'w')
	if tok := commit(session.Record{ID: unknown, Data: []byte("x"), Expiry: exp, Update: true}); tok != "" {
		t.Errorf("an update of an unknown ID returned the token %q", tok)
	}
	if _, found := find(unknown); found {
		t.Error("an update of an unknown ID stored the record")
	}
	commit(session.Record{ID: live, Data: []byte("x"), Expiry: exp})
	if tok := commit(session.Record{ID: live, Data: []byte("y"), Expiry: exp, Update: true}); tok != live {
		t.Errorf("an update of a live record returned %q", tok)
	}
	if data, found := find(live); !found || data != "y" {
		t.Errorf("after an update of a live record: %q, %v", data, found)
	}
	commit(session.Record{ID: deleted, Data: []byte("x"), Expiry: exp})
	if err := st.Delete(ctx, session.Record{ID: deleted, Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	if tok := commit(session.Record{ID: deleted, Data: []byte("y"), Expiry: exp, Update: true}); tok != "" {
		t.Errorf("an update of a deleted record returned %q", tok)
	}
	if _, found := find(deleted); found {
		t.Error("an update revived a deleted record")
	}
}

const id1 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func newID(t *testing.T, c byte) string {
	t.Helper()
	id := strings.Repeat(string(c), session.IDLength-1) + "A"
	if !session.ValidID(id) {
		t.Fatalf("bad test ID %q", id)
	}
	return id
}

// race runs f(0) to f(n-1) concurrently, released together for the most
// overlap, and returns how many reported true.
func race(t *testing.T, n int, f func(i int) (bool, error)) int {
	var wg sync.WaitGroup
	var wins atomic.Int32
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := f(i)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return int(wins.Load())
}

func testContract(t *testing.T, st session.Store) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	t.Run("an unknown token is not found and is not an error", func(t *testing.T) {
		for _, tok := range []string{"", id1, "short", strings.Repeat("x", 5000), "\x00\xff", id1 + "A"} {
			_, found, err := st.Find(ctx, tok)
			if found || err != nil {
				t.Errorf("Find(%.20q) = found %v, err %v; want not found, nil", tok, found, err)
			}
		}
	})

	t.Run("a committed record is found with its data", func(t *testing.T) {
		id := newID(t, 'B')
		tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("one"), Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		rec, found, err := st.Find(ctx, tok)
		if err != nil || !found {
			t.Fatalf("Find = found %v, err %v", found, err)
		}
		if rec.ID != id || string(rec.Data) != "one" {
			t.Errorf("Find = %q %q, want %q one", rec.ID, rec.Data, id)
		}
		if d := rec.Expiry.Sub(exp); d < -time.Second || d > time.Second {
			t.Errorf("Expiry = %v, want about %v", rec.Expiry, exp)
		}
	})

	t.Run("a commit replaces the record of the same ID", func(t *testing.T) {
		id := newID(t, 'C')
		if _, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("old"), Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("new"), Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		rec, found, _ := st.Find(ctx, tok)
		if !found || string(rec.Data) != "new" {
			t.Errorf("Find = %v %q, want new", found, rec.Data)
		}
	})

	t.Run("a deleted record is not found through any of its tokens", func(t *testing.T) {
		id := newID(t, 'D')
		tok1, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v1"), Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		tok2, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v2"), Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, session.Record{ID: id, Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{tok1, tok2} {
			if _, found, err := st.Find(ctx, tok); found || err != nil {
				t.Errorf("Find after Delete = %v, %v; want not found", found, err)
			}
		}
	})

	// A request that loaded the session before a logout elsewhere saves it
	// afterwards: the save must not bring the logged-out session back.
	t.Run("a commit after delete does not resurrect the record", func(t *testing.T) {
		id := newID(t, 'P')
		if _, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v1"), Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, session.Record{ID: id, Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v2"), Expiry: exp})
		if err != nil {
			return // refusing is also correct
		}
		// The Middleware sends an empty token nowhere; any other would go
		// to the client, and could replace a fresh login's cookie.
		if tok != "" {
			t.Errorf("Commit after Delete returned a token, want an empty one")
		}
		if _, found, err := st.Find(ctx, tok); found || err != nil {
			t.Errorf("Find after Delete then Commit = %v, %v; want not found", found, err)
		}
		if _, found, err := st.Find(ctx, id); found || err != nil {
			t.Errorf("Find(id) after Delete then Commit = %v, %v; want not found", found, err)
		}
	})

	// A copy of a token refreshed after the one logged out, or a request
	// in flight during the logout, may come back after the deleted
	// record's own expiry: the deletion holds until the absolute deadline
	// Delete is given.
	t.Run("a deletion holds until its Expiry, past the record's own", func(t *testing.T) {
		id := newID(t, 'Q')
		if _, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v1"), Expiry: time.Now().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, session.Record{ID: id, Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond)
		tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v2"), Expiry: time.Now().Add(time.Hour)})
		if err != nil {
			return // refusing is also correct
		}
		for _, k := range []string{tok, id} {
			if _, found, err := st.Find(ctx, k); found || err != nil {
				t.Errorf("Find after the record's expiry, within the deletion's = %v, %v; want not found", found, err)
			}
		}
	})

	t.Run("Remove reports whether the record was live, and deletes it", func(t *testing.T) {
		r, ok := st.(session.Remover)
		if !ok {
			t.Logf("%T is not a session.Remover", st)
			return
		}
		id := newID(t, 'R')
		if _, stateless := st.(*session.CookieStore); !stateless {
			// A CookieStore keeps no list of the IDs it issued.
			if found, err := r.Remove(ctx, session.Record{ID: id, Expiry: exp}); found || err != nil {
				t.Errorf("Remove(unknown) = %v, %v; want false, nil", found, err)
			}
		}
		tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v1"), Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		if found, err := r.Remove(ctx, session.Record{ID: id, Expiry: exp}); !found || err != nil {
			t.Errorf("Remove(live) = %v, %v; want true, nil", found, err)
		}
		if _, found, err := st.Find(ctx, tok); found || err != nil {
			t.Errorf("Find after Remove = %v, %v; want not found", found, err)
		}
		if found, err := r.Remove(ctx, session.Record{ID: id, Expiry: exp}); found || err != nil {
			t.Errorf("second Remove = %v, %v; want false, nil", found, err)
		}
		if tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v2"), Expiry: exp}); err == nil {
			if _, found, _ := st.Find(ctx, tok); found {
				t.Error("a Commit after Remove revived the record")
			}
		}
		if found, err := r.Remove(ctx, session.Record{ID: "malformed", Expiry: exp}); found || err != nil {
			t.Errorf("Remove(malformed) = %v, %v; want false, nil", found, err)
		}
	})

	t.Run("of concurrent Removes of one record, one finds it", func(t *testing.T) {
		r, ok := st.(session.Remover)
		if !ok {
			return
		}
		for round := range 20 {
			id := newID(t, "STUVWXYZabcdefghijkl"[round])
			if _, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: exp}); err != nil {
				t.Fatal(err)
			}
			finds := race(t, 4, func(int) (bool, error) {
				return r.Remove(ctx, session.Record{ID: id, Expiry: exp})
			})
			if finds != 1 {
				t.Fatalf("%d of 4 concurrent Removes found the record, want 1", finds)
			}
		}
	})

	t.Run("Add stores only under an unused ID", func(t *testing.T) {
		a, ok := st.(session.Adder)
		if !ok {
			t.Logf("%T is not a session.Adder", st)
			return
		}
		id := newID(t, '6')
		if added, err := a.Add(ctx, session.Record{ID: id, Data: []byte("v1"), Expiry: exp}); !added || err != nil {
			t.Fatalf("Add(new) = %v, %v; want true, nil", added, err)
		}
		if added, err := a.Add(ctx, session.Record{ID: id, Data: []byte("v2"), Expiry: exp}); added || err != nil {
			t.Errorf("Add(live) = %v, %v; want false, nil", added, err)
		}
		if rec, found, err := st.Find(ctx, id); !found || err != nil || string(rec.Data) != "v1" {
			t.Errorf("Find after two Adds = %q, %v, %v; want the first", rec.Data, found, err)
		}
		if err := st.Delete(ctx, session.Record{ID: id, Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		if added, err := a.Add(ctx, session.Record{ID: id, Data: []byte("v3"), Expiry: exp}); added || err != nil {
			t.Errorf("Add(deleted) = %v, %v; want false, nil: a deletion holds its ID", added, err)
		}
		past := newID(t, '7')
		if added, err := a.Add(ctx, session.Record{ID: past, Data: []byte("v"), Expiry: time.Now().Add(-time.Second)}); added || err != nil {
			t.Errorf("Add(expired) = %v, %v; want false, nil", added, err)
		}
		if _, found, _ := st.Find(ctx, past); found {
			t.Error("a record added with a past expiry is found")
		}
		if added, err := a.Add(ctx, session.Record{ID: "malformed", Data: []byte("v"), Expiry: exp}); added || err == nil {
			t.Errorf("Add(malformed) = %v, %v; want false and an error", added, err)
		}
	})

	t.Run("of concurrent Adds of one ID, one stores", func(t *testing.T) {
		a, ok := st.(session.Adder)
		if !ok {
			return
		}
		for round := range 20 {
			id := newID(t, "mnopqrstuvwxyz012345"[round])
			n := race(t, 4, func(i int) (bool, error) {
				return a.Add(ctx, session.Record{ID: id, Data: []byte{byte('0' + i)}, Expiry: exp})
			})
			if n != 1 {
				t.Fatalf("%d of 4 concurrent Adds stored, want 1", n)
			}
		}
	})

	t.Run("deleting an unknown ID is not an error", func(t *testing.T) {
		if err := st.Delete(ctx, session.Record{ID: newID(t, 'E'), Expiry: exp}); err != nil {
			t.Error(err)
		}
	})

	t.Run("a record committed with a past expiry is not found", func(t *testing.T) {
		tok, err := st.Commit(ctx, session.Record{ID: newID(t, 'F'), Data: []byte("x"), Expiry: time.Now().Add(-time.Second)})
		if err != nil {
			return // refusing is also correct
		}
		if _, found, _ := st.Find(ctx, tok); found {
			t.Error("expired record found")
		}
	})

	t.Run("a tampered or truncated token is not found", func(t *testing.T) {
		tok, err := st.Commit(ctx, session.Record{ID: newID(t, 'G'), Data: []byte("secret"), Expiry: exp})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range tamper(tok) {
			if _, found, err := st.Find(ctx, bad); found || err != nil {
				t.Errorf("Find(tampered %.30q) = %v, %v", bad, found, err)
			}
		}
	})

	t.Run("the store is safe for concurrent use", func(t *testing.T) {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				id := newID(t, "HIJKLMNO"[g])
				for i := range 50 {
					tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte{byte(i)}, Expiry: exp})
					if err != nil {
						t.Error(err)
						return
					}
					if _, found, err := st.Find(ctx, tok); !found || err != nil {
						t.Errorf("Find = %v, %v", found, err)
						return
					}
				}
				_ = st.Delete(ctx, session.Record{ID: id, Expiry: exp})
			})
		}
		wg.Wait()
	})
}

// tamper returns variants of tok: each character flipped in a few
// positions, truncated, extended.
func tamper(tok string) []string {
	var out []string
	for _, i := range []int{0, len(tok) / 2, len(tok) - 1} {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		out = append(out, string(b))
	}
	return append(out, tok[:len(tok)-1], tok[:len(tok)/2], tok+"A", "")
}

// App is the test application: a session middleware around routes that
// exercise the session API.
type App struct {
	M       *session.Middleware
	Handler http.Handler
}

// NewApp wraps the test routes in a Middleware built from opts.
func NewApp(t testing.TB, opts session.Options) *App {
	t.Helper()
	m, err := session.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := session.FromRequest(r).GetString(r.URL.Query().Get("k"))
		_, _ = w.Write([]byte(v))
	})
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		n, _ := s.GetInt("n")
		s.SetInt("n", n+1)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		id := identity.New(identity.Options{Subject: r.URL.Query().Get("user"), Roles: []string{"member"}})
		if err := session.FromRequest(r).Login(id); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		if !ok {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(id.Subject()))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Renew(); err != nil {
			http.Error(w, "renew failed", http.StatusServiceUnavailable)
		}
	})
	return &App{M: m, Handler: m.Handler(mux)}
}

// Do serves one request to path carrying token (if not empty) as the
// session cookie and returns the recorder and the token the response
// sets: the new token, "" if the cookie was expired, or token unchanged
// if the response set none.
func (a *App) Do(t testing.TB, path, token string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: token})
	}
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
		if c.Name == a.M.CookieName() {
			if c.MaxAge < 0 {
				return rec, ""
			}
			return rec, c.Value
		}
	}
	return rec, token
}

// InFlight is a request of one session that loaded it and waits to save
// it: a slow upload, a second tab.
type InFlight struct {
	release, done chan struct{}
	rec           *httptest.ResponseRecorder
}

// StartInFlight starts, in the background, a request with the session of
// token through a Middleware of its own over st, and returns once the
// request has loaded the session.
func StartInFlight(st session.Store, cookieName, token string) *InFlight {
	f := &InFlight{release: make(chan struct{}), done: make(chan struct{}), rec: httptest.NewRecorder()}
	loaded := make(chan struct{})
	slow := session.MustNew(session.Options{Store: st}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		s.GetString("x")
		close(loaded)
		<-f.release
		s.SetString("x", "y")
	}))
	go func() {
		defer close(f.done)
		req := httptest.NewRequest(http.MethodGet, "https://example.com/slow", nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
		slow.ServeHTTP(f.rec, req)
	}()
	<-loaded
	return f
}

// Finish lets the request set a value, which saves the session, and
// returns its response once it is served.
func (f *InFlight) Finish() *httptest.ResponseRecorder {
	close(f.release)
	<-f.done
	return f.rec
}

func testMiddleware(t *testing.T, newStore func(t *testing.T) session.Store) {
	app := func(t *testing.T) *App { return NewApp(t, session.Options{Store: newStore(t)}) }

	t.Run("a value set in one request is read in the next", func(t *testing.T) {
		a := app(t)
		_, tok := a.Do(t, "/set?k=color&v=blue", "")
		if tok == "" {
			t.Fatal("no session cookie set")
		}
		rec, _ := a.Do(t, "/get?k=color", tok)
		if got := rec.Body.String(); got != "blue" {
			t.Errorf("got %q, want blue", got)
		}
	})

	t.Run("a request that only reads creates no session", func(t *testing.T) {
		a := app(t)
		rec, tok := a.Do(t, "/get?k=color", "")
		if tok != "" || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("Set-Cookie %q on a read-only request", rec.Header().Get("Set-Cookie"))
		}
	})

	t.Run("fixation: login renews the ID and the pre-login token is dead", func(t *testing.T) {
		a := app(t)
		_, pre := a.Do(t, "/set?k=cart&v=3", "")
		_, post := a.Do(t, "/login?user=alice", pre)
		if post == "" || post == pre {
			t.Fatalf("token not renewed at login: %q", post)
		}
		if rec, _ := a.Do(t, "/whoami", post); rec.Body.String() != "alice" {
			t.Errorf("whoami with new token = %d %q", rec.Code, rec.Body.String())
		}
		if rec, _ := a.Do(t, "/get?k=cart", post); rec.Body.String() != "3" {
			t.Errorf("data lost on renew: %q", rec.Body.String())
		}
		if rec, _ := a.Do(t, "/whoami", pre); rec.Code != http.StatusUnauthorized {
			t.Errorf("pre-login token still works: %d", rec.Code)
		}
		if rec, _ := a.Do(t, "/get?k=cart", pre); rec.Body.String() != "" {
			t.Errorf("pre-login token still holds data: %q", rec.Body.String())
		}
	})

	// CVE-2024-38513 (gofiber/fiber GHSA-98j2-3j3p-fw2v): the session
	// middleware created a session under whatever session_id the client
	// sent, so an attacker could pick an ID, plant it in a victim's
	// browser and share the session the victim then logs in to. A token
	// the server never issued, however well formed, must never become a
	// session ID: writing or logging in with it issues a fresh one.
	t.Run("CVE-2024-38513: a client-chosen token never becomes the session ID", func(t *testing.T) {
		a := app(t)
		for _, planted := range []string{
			id1, // well formed for server-side stores
			"attacker123",
			strings.Repeat("x", 200),
		} {
			if rec, _ := a.Do(t, "/whoami", planted); rec.Code != http.StatusUnauthorized {
				t.Fatalf("planted %.20q: whoami = %d, want 401", planted, rec.Code)
			}
			if _, tok := a.Do(t, "/set?k=a&v=1", planted); tok == "" || tok == planted {
				t.Errorf("planted %.20q: a write kept the client's token (got %.20q)", planted, tok)
			}
			_, post := a.Do(t, "/login?user=victim", planted)
			if post == "" || post == planted {
				t.Fatalf("planted %.20q: login kept the client's token (got %.20q)", planted, post)
			}
			if rec, _ := a.Do(t, "/whoami", post); rec.Body.String() != "victim" {
				t.Errorf("planted %.20q: the victim's fresh token = %d %q", planted, rec.Code, rec.Body.String())
			}
			if rec, _ := a.Do(t, "/whoami", planted); rec.Code != http.StatusUnauthorized {
				t.Errorf("planted %.20q: the attacker's token shares the victim's login: %d %q", planted, rec.Code, rec.Body.String())
			}
			if rec, _ := a.Do(t, "/get?k=a", planted); rec.Body.String() != "" {
				t.Errorf("planted %.20q: the attacker's token reads session data %q", planted, rec.Body.String())
			}
		}
	})

	t.Run("renew: the old token is dead, every copy of it", func(t *testing.T) {
		a := app(t)
		_, tok := a.Do(t, "/set?k=a&v=1", "")
		_, older := a.Do(t, "/set?k=b&v=2", tok) // cookie stores issue a new value
		_, renewed := a.Do(t, "/renew", older)
		if renewed == older || renewed == "" {
			t.Fatalf("renew did not change the token")
		}
		for _, old := range []string{tok, older} {
			if rec, _ := a.Do(t, "/get?k=a", old); rec.Body.String() != "" {
				t.Errorf("old token still valid after Renew")
			}
		}
		if rec, _ := a.Do(t, "/get?k=b", renewed); rec.Body.String() != "2" {
			t.Errorf("renewed session lost data: %q", rec.Body.String())
		}
	})

	// gorilla/sessions#271 and #282 (sonatype-2021-4899): a logout that
	// only expires the cookie leaves a copied cookie valid.
	t.Run("gorilla/sessions#282: replay after logout fails", func(t *testing.T) {
		a := app(t)
		_, tok := a.Do(t, "/login?user=bob", "")
		rec, after := a.Do(t, "/logout", tok)
		if after != "" {
			t.Errorf("logout did not expire the cookie: %q", rec.Header().Values("Set-Cookie"))
		}
		if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
			t.Errorf("replayed cookie after logout = %d %q, want 401", rec.Code, rec.Body.String())
		}
	})

	// A request that loaded the session before the logout and saves it
	// after (a slow upload, a second tab) must not revive it for the
	// copied cookie.
	t.Run("replay after logout fails when a request in flight saves the session afterwards", func(t *testing.T) {
		st := newStore(t)
		a := NewApp(t, session.Options{Store: st})
		_, tok := a.Do(t, "/login?user=dave", "")
		f := StartInFlight(st, a.M.CookieName(), tok)
		if _, after := a.Do(t, "/logout", tok); after != "" {
			t.Fatal("logout did not expire the cookie")
		}
		rec := f.Finish()
		toks := []string{tok}
		for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
			if c.Name == a.M.CookieName() && c.Value != "" {
				toks = append(toks, c.Value)
			}
		}
		for _, tk := range toks {
			if rec, _ := a.Do(t, "/whoami", tk); rec.Code != http.StatusUnauthorized {
				t.Errorf("replayed cookie after logout = %d %q, want 401", rec.Code, rec.Body.String())
			}
		}
	})

	// A logout that lands after a request loaded the session and just
	// before that request renews it (a login form posted twice, a tab
	// logging out while another elevates) must stay a logout: the renewed
	// session gets no values or identity of the old one.
	t.Run("a logout racing a renewal is not undone", func(t *testing.T) {
		st := newStore(t)
		if _, ok := st.(session.Remover); !ok {
			t.Logf("%T is not a session.Remover: Renew leaves this window open", st)
			return
		}
		a := NewApp(t, session.Options{Store: st})
		_, tok := a.Do(t, "/login?user=dave", "")
		racing := &logoutInRenew{Store: st, logout: func() {
			if _, after := a.Do(t, "/logout", tok); after != "" {
				t.Error("logout did not expire the cookie")
			}
		}}
		renewing := NewApp(t, session.Options{Store: racing})
		racing.armed.Store(true) // from the request's first store call on
		rec, renewed := renewing.Do(t, "/renew", tok)
		if racing.armed.Load() {
			t.Fatal("the logout was not injected")
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("renew: %d", rec.Code)
		}
		for _, tk := range []string{tok, renewed} {
			if rec, _ := a.Do(t, "/whoami", tk); rec.Code != http.StatusUnauthorized {
				t.Errorf("a logout before the renewal's deletion was undone: %d %q", rec.Code, rec.Body.String())
			}
		}
	})

	// gorilla/sessions#211, securecookie#56: an undecodable cookie made
	// every request fail until the user cleared cookies.
	t.Run("gorilla/sessions#211: a tampered or truncated cookie gives a fresh session, not an error", func(t *testing.T) {
		a := app(t)
		_, tok := a.Do(t, "/login?user=carol", "")
		for _, bad := range tamper(tok) {
			if bad == "" {
				continue
			}
			rec, _ := a.Do(t, "/whoami", bad)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("tampered token %.20q: %d, want 401 (anonymous)", bad, rec.Code)
			}
			rec, tok2 := a.Do(t, "/set?k=x&v=y", bad)
			if rec.Code != http.StatusOK || tok2 == bad || tok2 == "" {
				t.Errorf("writing with a tampered token: %d, token changed %v", rec.Code, tok2 != bad)
			}
		}
	})

	// GHSA-2mr3-m5q5-wgp6 (gofiber/fiber): every request's flash cookie
	// was deserialized as it came, and a 10-character value whose msgpack
	// header claimed billions of entries made the server try to allocate
	// 85 GB. A cookie here is a token the store looks up or authenticates
	// before anything in it is decoded: a short crafted one, such as a
	// session record claiming 2^32 values, is an anonymous request that
	// costs about its own size.
	t.Run("GHSA-2mr3-m5q5-wgp6: a short crafted cookie is anonymous and allocates nothing for what it claims", func(t *testing.T) {
		a := app(t)
		for _, bad := range []string{
			"AQAAAP____8P", // a version 1 record, base64url, claiming 2^32-1 values
			"3f____8",      // a msgpack array32 header of 2^32-1 entries
			"kf____8P", "__________", "AAAAAAAAAA",
		} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec, _ := a.Do(t, "/whoami", bad)
			runtime.ReadMemStats(&after)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("cookie %q: %d, want 401 (anonymous)", bad, rec.Code)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
				t.Errorf("cookie %q: the request allocated %d bytes", bad, n)
			}
		}
	})

	t.Run("the logout clears the token; a later request with it changes nothing", func(t *testing.T) {
		a := app(t)
		_, tok := a.Do(t, "/set?k=a&v=1", "")
		if _, after := a.Do(t, "/logout", tok); after != "" {
			t.Errorf("the logout did not expire the cookie")
		}
		rec, _ := a.Do(t, "/get?k=a", tok)
		if rec.Body.String() != "" {
			t.Errorf("a logged-out session was read: %q", rec.Body.String())
		}
		if c := rec.Header().Get("Set-Cookie"); c != "" {
			t.Errorf("a request with a dead token sent Set-Cookie %q", c)
		}
	})

	// A request sent with a dead token, answered after the response to a
	// login made meanwhile, must not expire the fresh cookie (found in
	// review: the middleware sent a deletion for every dead token).
	t.Run("a late response to a dead token does not log out a fresh login", func(t *testing.T) {
		a := app(t)
		_, old := a.Do(t, "/login?user=erin", "")
		a.Do(t, "/logout", old)
		_, fresh := a.Do(t, "/login?user=erin", "")
		for _, path := range []string{"/whoami", "/get?k=a", "/set?k=a&v=1", "/renew"} {
			rec, _ := a.Do(t, path, old)
			if c := rec.Header().Get("Set-Cookie"); strings.Contains(c, "Max-Age=0") {
				t.Errorf("%s with the dead token sent a deletion: %q", path, c)
			}
		}
		if rec, _ := a.Do(t, "/whoami", fresh); rec.Body.String() != "erin" {
			t.Errorf("the fresh login was lost: %d %q", rec.Code, rec.Body.String())
		}
	})

	t.Run("concurrent requests on one session are safe", func(t *testing.T) {
		a := app(t)
		_, tok := a.Do(t, "/incr", "")
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					rec, _ := a.Do(t, "/incr", tok)
					if rec.Code != http.StatusOK {
						t.Errorf("status %d", rec.Code)
						return
					}
				}
			})
		}
		wg.Wait()
	})

	t.Run("many sessions do not interfere", func(t *testing.T) {
		a := app(t)
		toks := make([]string, 20)
		for i := range toks {
			_, toks[i] = a.Do(t, "/set?k=i&v="+string(rune('a'+i)), "")
		}
		for i, tok := range toks {
			rec, _ := a.Do(t, "/get?k=i", tok)
			if !bytes.Equal(rec.Body.Bytes(), []byte{byte('a' + i)}) {
				t.Errorf("session %d = %q", i, rec.Body.String())
			}
		}
	})
}

// logoutInRenew is a Store and Remover that runs logout once, when armed,
// at the worst moment for a renewal: after the request's load found the
// session and before the renewal's own deletion of it. (It is always a
// Remover, so Renew never takes its Find-then-Delete path here.)
type logoutInRenew struct {
	session.Store
	armed  atomic.Bool
	logout func()
}

// Remove runs the logout, once, then removes rec from the wrapped store.
func (s *logoutInRenew) Remove(ctx context.Context, rec session.Record) (bool, error) {
	if s.armed.CompareAndSwap(true, false) {
		s.logout()
	}
	return s.Store.(session.Remover).Remove(ctx, rec)
}
