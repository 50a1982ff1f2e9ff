package session_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// What the middleware sends, and what it leaves alone, on responses at
// the edges of its rules. (Each case is a mutation that failed no other
// test.)
func TestResponseEdges(t *testing.T) {
	t.Run("a 101 response is final and carries the cookie", func(t *testing.T) {
		m := session.MustNew(session.Options{})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			session.FromRequest(r).SetString("a", "1")
			w.WriteHeader(http.StatusSwitchingProtocols)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
		if res := rec.Result(); res.StatusCode != http.StatusSwitchingProtocols || len(res.Cookies()) != 1 {
			t.Errorf("status %d, cookies %v; want 101 with the session cookie", res.StatusCode, res.Cookies())
		}
	})

	// A request without a session cookie (a second tab, a stale page)
	// that logs out must not send a deletion, which could land after a
	// fresh login's cookie from another request and drop it.
	for _, path := range []string{"/logout", "/logout-then-clear", "/clear"} {
		t.Run(path+" without a session sets no cookie and stores nothing", func(t *testing.T) {
			ms := memoryStore(t, session.MemoryOptions{})
			m := session.MustNew(session.Options{Store: ms})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				if r.URL.Path != "/clear" {
					_ = s.Destroy()
				}
				if r.URL.Path != "/logout" {
					s.Clear()
				}
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com"+path, nil))
			if got := rec.Header()["Set-Cookie"]; len(got) != 0 || ms.Len() != 0 {
				t.Errorf("Set-Cookie %q, %d records; want none", got, ms.Len())
			}
		})
	}
	t.Run("a logout through an empty token header sends no token header", func(t *testing.T) {
		a := storetest.NewApp(t, session.Options{TokenHeader: "Session-Token"})
		req := httptest.NewRequest("GET", "/logout", nil)
		req.Header["Session-Token"] = []string{""}
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if v, ok := rec.Header()["Session-Token"]; ok {
			t.Errorf("Session-Token %q, want none", v)
		}
	})

	t.Run("deleting a missing key writes nothing", func(t *testing.T) {
		var commits atomic.Int32
		for _, st := range []session.Store{memoryStore(t, session.MemoryOptions{}), cookieStore(t, nil)} {
			commits.Store(0)
			o := session.Options{Store: countingStore{st, &commits}}
			a := storetest.NewApp(t, o)
			_, tok := a.Do(t, "/set?k=a&v=1", "")
			commits.Store(0)
			h := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromRequest(r).Delete("missing")
			}))
			req := httptest.NewRequest("GET", "https://example.com/", nil)
			req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if n := commits.Load(); n != 0 || len(rec.Header()["Set-Cookie"]) != 0 {
				t.Errorf("%T: %d writes, Set-Cookie %q; want none", st, n, rec.Header()["Set-Cookie"])
			}
		}
	})

	t.Run("the token header replaces one the handler set", func(t *testing.T) {
		m := session.MustNew(session.Options{TokenHeader: "Session-Token"})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Session-Token", "planted")
			_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: "kim"}))
		}))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Session-Token"] = []string{""}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header()["Session-Token"]; len(got) != 1 || !session.ValidID(got[0]) {
			t.Errorf("Session-Token %q, want the new token alone", got)
		}
	})
}

// A session carried in the token header is not held to the cookie's
// limit, which counts the cookie's name and attributes: its token may use
// the 4096 bytes a CookieStore allows (a mutation that applied the cookie
// limit to it failed no test).
func TestAHeaderTokenIsNotHeldToTheCookieLimit(t *testing.T) {
	a := storetest.NewApp(t, session.Options{Store: cookieStore(t, nil), TokenHeader: "Session-Token"})
	longest := 0
	for n := 2000; n < 3000; n += 10 {
		req := httptest.NewRequest("GET", "/set?k=a&v="+strings.Repeat("x", n), nil)
		req.Header["Session-Token"] = []string{""}
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			break
		}
		longest = len(rec.Header().Get("Session-Token"))
	}
	// "__Host-session=" and "; Max-Age=9999999999; Path=/; Secure;
	// HttpOnly; SameSite=Lax" take 76 of a cookie's 4096 bytes.
	if longest <= 4096-76 {
		t.Errorf("the longest token issued through the header has %d bytes, want more than %d", longest, 4096-76)
	}
}

// failNextCommit fails the next Commit once armed.
type failNextCommit struct {
	session.Store
	armed *atomic.Bool
}

func (s failNextCommit) Commit(ctx context.Context, rec session.Record) (string, error) {
	if s.armed.CompareAndSwap(true, false) {
		return "", errDown
	}
	return s.Store.Commit(ctx, rec)
}

// Once the save failed and the response was replaced by the error
// response, nothing the handler writes or changes afterwards gets out or
// is saved, even if the store has recovered by the end of the request.
func TestAResponseReplacedByAnErrorStaysReplaced(t *testing.T) {
	armed := new(atomic.Bool)
	o := session.Options{Store: failNextCommit{memoryStore(t, session.MemoryOptions{}), armed}}
	a := storetest.NewApp(t, o)
	_, tok := a.Do(t, "/set?k=k&v=1", "")
	h := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		s.SetString("k", "2")
		_, _ = io.WriteString(w, "first")
		s.SetString("k", "3")
		_, _ = io.WriteString(w, "second")
	}))
	armed.Store(true)
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "first") || strings.Contains(rec.Body.String(), "second") {
		t.Errorf("%d %q; want the 503 alone", rec.Code, rec.Body.String())
	}
	if rec, _ := a.Do(t, "/get?k=k", tok); rec.Body.String() != "1" {
		t.Errorf("value %q after the failed request, want 1", rec.Body.String())
	}
}
