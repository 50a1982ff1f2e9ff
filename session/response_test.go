package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
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

// spyStore fails every call and counts it.
type spyStore struct{ calls *atomic.Int32 }

func (s spyStore) Find(context.Context, string) (session.Record, bool, error) {
	s.calls.Add(1)
	return session.Record{}, false, errDown
}

func (s spyStore) Commit(context.Context, session.Record) (string, error) {
	s.calls.Add(1)
	return "", errDown
}

func (s spyStore) Delete(context.Context, session.Record) error {
	s.calls.Add(1)
	return errDown
}

// The package doc says that requests without a token never touch the
// store and that a session that holds nothing is never created: a request
// without a token that reads, deletes, clears, renews or destroys its
// empty session, eagerly or lazily loaded, is served with no store call at
// all (here a store that is down) and no cookie.
func TestRequestsWithoutATokenNeverTouchTheStore(t *testing.T) {
	ops := map[string]func(*session.Session) error{
		"read":    func(s *session.Session) error { _, _ = s.GetString("k"); return nil },
		"delete":  func(s *session.Session) error { s.Delete("k"); return nil },
		"clear":   func(s *session.Session) error { s.Clear(); return nil },
		"load":    func(s *session.Session) error { return s.Load() },
		"renew":   func(s *session.Session) error { return s.Renew() },
		"destroy": func(s *session.Session) error { return s.Destroy() },
	}
	for _, lazy := range []bool{false, true} {
		for name, op := range ops {
			t.Run(fmt.Sprintf("%s, lazy %v", name, lazy), func(t *testing.T) {
				var calls atomic.Int32
				m := session.MustNew(session.Options{Store: spyStore{&calls}, LazyLoad: lazy, TokenHeader: "Session-Token"})
				var opErr error
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					opErr = op(session.FromRequest(r))
					io.WriteString(w, "ok")
				}))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
				if rec.Code != http.StatusOK || opErr != nil {
					t.Errorf("status %d, %s = %v; want 200 and no error", rec.Code, name, opErr)
				}
				if n := calls.Load(); n != 0 {
					t.Errorf("%d store calls; want none", n)
				}
				if c, tok := rec.Header()["Set-Cookie"], rec.Header()["Session-Token"]; len(c) != 0 || len(tok) != 0 {
					t.Errorf("Set-Cookie %q, Session-Token %q; want neither", c, tok)
				}
			})
		}
	}
}

// A session kept past its handler's return, by a goroutine the handler
// started, saves nothing more: its changes are dropped, and Destroy still
// ends it in the store. The Session doc said changes are saved before the
// headers are written, and nothing about this case.
func TestChangesAfterTheHandlerReturnedAreDropped(t *testing.T) {
	ms := memoryStore(t, session.MemoryOptions{})
	a := storetest.NewApp(t, session.Options{Store: ms})
	_, tok := a.Do(t, "/set?k=a&v=1", "")
	kept := make(chan *session.Session, 1)
	h := a.M.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept <- session.FromRequest(r)
	}))
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := <-kept
	s.SetString("a", "2")
	if rec, _ := a.Do(t, "/get?k=a", tok); rec.Body.String() != "1" {
		t.Errorf("after a change once the handler returned: %q, want the value saved before, 1", rec.Body.String())
	}
	if err := s.Renew(); !errors.Is(err, session.ErrHeadersWritten) {
		t.Errorf("Renew once the handler returned: %v, want ErrHeadersWritten", err)
	}
	if err := s.Destroy(); err != nil {
		t.Fatal(err)
	}
	if rec, _ := a.Do(t, "/get?k=a", tok); rec.Body.String() != "" {
		t.Errorf("after Destroy once the handler returned: %q, want no session", rec.Body.String())
	}
}

// A Vary that already names the field the session is carried in, as a
// handler or another middleware may set it, or is "*", is left as it is:
// the session added the name once more ("Vary: Cookie, Cookie"), on a
// response started by a write, a Flush with no body or an error.
func TestVaryNamesTheSessionFieldOnce(t *testing.T) {
	for _, tt := range []struct {
		vary    []string
		want    []string
		start   string
		options session.Options
	}{
		{[]string{"Cookie"}, []string{"Cookie"}, "write", session.Options{}},
		{[]string{"cookie"}, []string{"cookie"}, "flush", session.Options{}},
		{[]string{"Accept-Encoding, Cookie"}, []string{"Accept-Encoding, Cookie"}, "error", session.Options{}},
		{[]string{"Origin", " COOKIE "}, []string{"Origin", "COOKIE"}, "write", session.Options{}},
		{[]string{"*"}, []string{"*"}, "write", session.Options{}},
		{[]string{"Session-Token"}, []string{"Session-Token"}, "write", session.Options{TokenHeader: "Session-Token"}},
		{[]string{"Cookies"}, []string{"Cookies", "Cookie"}, "flush", session.Options{}},
		{[]string{"Origin"}, []string{"Origin", "Cookie"}, "error", session.Options{}},
	} {
		m := session.MustNew(tt.options)
		srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Vary"] = slices.Clone(tt.vary)
			if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "kim"})); err != nil {
				t.Error(err)
			}
			switch tt.start {
			case "write":
				_, _ = io.WriteString(w, "page")
			case "flush":
				_ = http.NewResponseController(w).Flush()
			case "error":
				http.NotFound(w, r)
			}
		})))
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if tt.options.TokenHeader != "" {
			req.Header[tt.options.TokenHeader] = []string{""}
		}
		res, err := srv.Client().Do(req)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header["Vary"]; !slices.Equal(got, tt.want) {
			t.Errorf("Vary %q, started by %s: got %q, want %q", tt.vary, tt.start, got, tt.want)
		}
	}
}

// When the save fails and the error response replaces the handler's, the
// fields the handler set for the body it lost go with it: the headers
// that describe that representation (a download's Content-Disposition, a
// Content-Language, a declared Trailer) and the trailers it set with
// http.TrailerPrefix, before its write or after, which net/http sends
// over HTTP/2 even after a body of known length (the 503 carried an
// error detail the handler meant for its own body, and the problem
// document was saved as the handler's CSV file). Fields set further out
// (Retry-After, the security headers) stay.
func TestAReplacedResponseDropsTheHandlersRepresentationFields(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		for _, tt := range []struct {
			name    string
			handler func(w http.ResponseWriter, r *http.Request)
		}{
			{"the save fails on the first write", func(w http.ResponseWriter, r *http.Request) {
				session.FromRequest(r).SetString("k", "2")
				_, _ = io.WriteString(w, "a,b\n")
				w.Header().Set(http.TrailerPrefix+"X-Late", "set after the replaced write")
			}},
			{"the save fails when the handler returns", func(w http.ResponseWriter, r *http.Request) {
				session.FromRequest(r).SetString("k", "2")
			}},
		} {
			t.Run(fmt.Sprintf("%s, HTTP/2 %v", tt.name, h2), func(t *testing.T) {
				armed := new(atomic.Bool)
				o := session.Options{Store: failNextCommit{memoryStore(t, session.MemoryOptions{}), armed}}
				a := storetest.NewApp(t, o)
				_, tok := a.Do(t, "/set?k=k&v=1", "")
				h := session.MustNew(o).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hd := w.Header()
					hd.Set("Content-Type", "text/csv")
					hd.Set("Content-Disposition", `attachment; filename="report.csv"`)
					hd.Set("Content-Language", "de")
					hd.Set("Content-Location", "/report.csv")
					hd.Set("Trailer", "X-Digest")
					hd.Set(http.TrailerPrefix+"X-Detail", "the handler's own detail")
					tt.handler(w, r)
					hd.Set("X-Digest", "sha-256=...")
				}))
				outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Frame-Options", "DENY")
					h.ServeHTTP(w, r)
				})
				srv := httptest.NewUnstartedServer(outer)
				srv.EnableHTTP2 = h2
				srv.StartTLS()
				defer srv.Close()
				req, _ := http.NewRequest("GET", srv.URL, nil)
				req.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
				armed.Store(true)
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "a,b") {
					t.Fatalf("%d %q; want the 503 alone", res.StatusCode, body)
				}
				for _, k := range []string{"Content-Disposition", "Content-Language", "Content-Location", "Trailer"} {
					if v, ok := res.Header[k]; ok {
						t.Errorf("%s: %q on the 503, want none", k, v)
					}
				}
				if len(res.Trailer) != 0 {
					t.Errorf("trailers %v on the 503, want none", res.Trailer)
				}
				if res.Header.Get("Retry-After") == "" || res.Header.Get("X-Frame-Options") != "DENY" {
					t.Errorf("header %v; want Retry-After and the outer X-Frame-Options kept", res.Header)
				}
			})
		}
	}
}
