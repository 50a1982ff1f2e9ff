package session_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// upgrade sends a WebSocket-style upgrade request for path with the
// session cookie tok to srv and returns the status line of the answer.
func upgrade(t *testing.T, srv *httptest.Server, m *session.Middleware, path, tok string) string {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: test\r\n"+
		"Cookie: "+m.CookieName()+"="+tok+"\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

// A handler that changes the session and then hijacks the connection for
// a WebSocket-style upgrade, answering 101 itself, follows the rule for
// changes made after the headers: nothing can carry a new cookie, so the
// changes are saved when the token need not change (a server-side
// store), and otherwise dropped with ErrHeadersWritten recorded as the
// reason. They were dropped silently, even where they could be saved.
func TestChangesBeforeAHijackFollowTheLateRule(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			m := session.MustNew(session.Options{Store: st.new(t)(time.Now)})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				switch r.URL.Path {
				case "/set":
					s.SetString("a", "1")
				case "/get":
					v, _ := s.GetString("ws")
					_, _ = io.WriteString(w, v)
				case "/ws":
					s.SetString("ws", "yes")
					conn, brw, err := http.NewResponseController(w).Hijack()
					if err != nil {
						t.Errorf("Hijack: %v", err)
						return
					}
					defer conn.Close()
					_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
					_ = brw.Flush()
				}
			}))
			reasons := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, reason := problem.WithReason(r.Context())
				h.ServeHTTP(w, r.WithContext(ctx))
				if r.URL.Path == "/ws" {
					reasons <- reason.Err()
				}
			}))
			defer srv.Close()
			get := func(path, tok string) *http.Response {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				if tok != "" {
					req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
				}
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			res := get("/set", "")
			res.Body.Close()
			if len(res.Cookies()) != 1 {
				t.Fatalf("no session cookie: %v", res.Header)
			}
			tok := res.Cookies()[0].Value

			if line := upgrade(t, srv, m, "/ws", tok); line != "HTTP/1.1 101 Switching Protocols" {
				t.Fatalf("upgrade answered %q", line)
			}
			reason := <-reasons
			res = get("/get", tok)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if st.name == "memory" {
				if string(body) != "yes" || reason != nil {
					t.Errorf("change before the hijack of a server-side session: read back %q, reason %v; want it saved", body, reason)
				}
			} else if !errors.Is(reason, session.ErrHeadersWritten) {
				t.Errorf("change before the hijack of a cookie session dropped with reason %v, want ErrHeadersWritten", reason)
			}
		})
	}
}

// Over HTTP/2 a connection cannot be hijacked: a WebSocket handler that
// tries gets an error and answers normally (here with a fallback body).
// That response must still save the session and carry its cookie; the
// failed Hijack sealed the session as if the connection were gone.
func TestAFailedHijackLeavesTheSessionToTheResponse(t *testing.T) {
	m := session.MustNew(session.Options{})
	hijackErrs := make(chan error, 1)
	srv := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString("a", "1")
		_, _, err := http.NewResponseController(w).Hijack()
		hijackErrs <- err
		if err == nil {
			return
		}
		_, _ = io.WriteString(w, "long polling instead")
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if hijackErr := <-hijackErrs; res.ProtoMajor != 2 || !errors.Is(hijackErr, http.ErrNotSupported) {
		t.Fatalf("HTTP/%d, Hijack: %v; want HTTP/2 and ErrNotSupported", res.ProtoMajor, hijackErr)
	}
	if string(body) != "long polling instead" || len(res.Cookies()) != 1 {
		t.Errorf("body %q, cookies %v; want the fallback with the session cookie", body, res.Cookies())
	}
}

// readFromCounter passes on the io.ReaderFrom of the writer it wraps (the
// server's, which sends files with sendfile) and counts the calls.
type readFromCounter struct {
	http.ResponseWriter
	calls *atomic.Int32
}

func (c *readFromCounter) ReadFrom(src io.Reader) (int64, error) {
	c.calls.Add(1)
	return c.ResponseWriter.(io.ReaderFrom).ReadFrom(src)
}

// A file served through the middleware reaches the server's
// io.ReaderFrom, as it does without it, so the kernel can copy it
// (sendfile) instead of io.Copy going through a 32 KiB buffer allocated
// for each response; a Range request is answered 206 with the session
// cookie.
func TestFilesReachTheServersReaderFrom(t *testing.T) {
	dir := t.TempDir()
	content := strings.Repeat("0123456789", 10_000)
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	m := session.MustNew(session.Options{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString("seen", "1")
		http.ServeFile(w, r, filepath.Join(dir, "f.txt"))
	}))
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&readFromCounter{ResponseWriter: w, calls: &calls}, r)
	}))
	defer srv.Close()
	for _, rng := range []string{"", "bytes=10-19"} {
		req, _ := http.NewRequest("GET", srv.URL+"/f.txt", nil)
		want, code := content, http.StatusOK
		if rng != "" {
			req.Header.Set("Range", rng)
			want, code = content[10:20], http.StatusPartialContent
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != code || string(body) != want || len(res.Cookies()) != 1 {
			t.Errorf("Range %q: %d, %d bytes, cookies %v; want %d, %d bytes and the session cookie", rng, res.StatusCode, len(body), res.Cookies(), code, len(want))
		}
		if n := calls.Swap(0); n != 1 {
			t.Errorf("Range %q: the server's ReadFrom was called %d times, want 1", rng, n)
		}
	}
}

// An Early Hints response (103), sent before the handler does its work,
// is not the response: a change made after it is saved, and its cookie
// sent, with the final response, and none goes in the 103 (browsers
// ignore Set-Cookie there).
func TestEarlyHintsLeaveTheCookieToTheFinalResponse(t *testing.T) {
	m := session.MustNew(session.Options{})
	srv := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		session.FromRequest(r).SetString("a", "1")
		_, _ = io.WriteString(w, "page")
	})))
	defer srv.Close()
	var hints []textproto.MIMEHeader
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h)
			return nil
		},
	}))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(hints) != 1 || hints[0].Get("Set-Cookie") != "" || len(res.Cookies()) != 1 {
		t.Errorf("103 headers %v, final cookies %v; want one 103 without Set-Cookie, then the cookie", hints, res.Cookies())
	}
}

type writeStringCounter struct {
	http.ResponseWriter
	calls *atomic.Int32
}

func (c *writeStringCounter) WriteString(s string) (int, error) {
	c.calls.Add(1)
	return io.WriteString(c.ResponseWriter, s)
}

// io.WriteString on the middleware's writer reaches the wrapped writer's
// WriteString, and, as the first write of the response, saves the session
// and sends its cookie first (the changelog said the writer passes
// io.StringWriter on, no test did).
func TestWriteStringReachesTheWrappedWriter(t *testing.T) {
	m := session.MustNew(session.Options{})
	var calls atomic.Int32
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString("seen", "1")
		if _, err := io.WriteString(w, "hello"); err != nil {
			t.Errorf("WriteString: %v", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(&writeStringCounter{ResponseWriter: rec, calls: &calls}, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
	if n := calls.Load(); n != 1 {
		t.Errorf("the wrapped writer's WriteString was called %d times, want 1", n)
	}
	// The header as sent, not as the handler left it.
	res := rec.Result()
	if rec.Body.String() != "hello" || len(res.Cookies()) != 1 || res.Cookies()[0].Name != m.CookieName() {
		t.Errorf("body %q, Set-Cookie %q; want hello and the session cookie", rec.Body, res.Header.Values("Set-Cookie"))
	}
}

// A handler that writes an invalid status code (0, or over 999) panics
// in net/http before anything is sent, like any other panic of the
// handler: its session changes are not saved and no cookie reaches the
// error response a recovering middleware further out then writes. The
// session was saved first, and its cookie went out on that 500.
func TestAnInvalidStatusSavesNothing(t *testing.T) {
	for _, code := range []int{0, 99, 1000} {
		ms := memoryStore(t, session.MemoryOptions{})
		m := session.MustNew(session.Options{Store: ms})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			session.FromRequest(r).SetString("a", "1")
			w.WriteHeader(code)
		}))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if recover() != nil {
					http.Error(w, "internal error", http.StatusInternalServerError)
				}
			}()
			h.ServeHTTP(w, r)
		}))
		res, err := srv.Client().Get(srv.URL)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusInternalServerError || len(res.Header["Set-Cookie"]) != 0 || ms.Len() != 0 {
			t.Errorf("WriteHeader(%d): status %d, Set-Cookie %q, %d records; want 500, no cookie, none saved",
				code, res.StatusCode, res.Header["Set-Cookie"], ms.Len())
		}
	}
}

// The writer the handler gets is an http.Hijacker exactly when the one
// the server gave is, as a handler that asks w.(http.Hijacker) whether it
// can take the connection expects: over HTTP/1.1, where Hijack works, and
// not over HTTP/2, where it fails with http.ErrNotSupported. It claimed to
// be one over HTTP/2 too. http.ResponseController answers the same either
// way.
func TestTheWriterHijacksExactlyWhereTheServersDoes(t *testing.T) {
	testenv.CheckHijacker(t, "session", session.MustNew(session.Options{}).Handler)
}

// A request that hijacks its connection (a WebSocket upgrade), or that
// first uses its lazily loaded session once the response has started, is
// a request of its session like any other and counts as activity: the
// idle deadline it was due to extend is extended where that needs no new
// token (a server-side store), and otherwise left as it was without a
// reason recorded, since the handler changed nothing. The refresh was
// dropped, so a user whose requests were upgrades was signed out
// IdleTimeout after the last plain one.
func TestLateRequestsCountAsActivity(t *testing.T) {
	hijacking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
	})
	streaming := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "started; ")
		v, _ := session.FromRequest(r).GetString("k")
		_, _ = io.WriteString(w, v)
	})
	for _, tt := range []struct {
		name    string
		lazy    bool
		upgrade bool
		handler http.Handler
	}{
		{"a hijack", false, true, hijacking},
		{"a lazy load after the headers", true, false, streaming},
	} {
		for _, st := range stores {
			t.Run(tt.name+", "+st.name, func(t *testing.T) {
				c := newClock()
				o := session.Options{Store: st.new(t)(c.Now), IdleTimeout: 10 * time.Minute, LazyLoad: tt.lazy}.WithNow(c.Now)
				a := storetest.NewApp(t, o)
				m := a.M
				_, tok := a.Do(t, "/set?k=k&v=1", "")
				h := m.Handler(tt.handler)
				reasons := make(chan error, 1)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ctx, reason := problem.WithReason(r.Context())
					h.ServeHTTP(w, r.WithContext(ctx))
					reasons <- reason.Err()
				}))
				defer srv.Close()

				c.Advance(9 * time.Minute)
				if tt.upgrade {
					if line := upgrade(t, srv, m, "/ws", tok); line != "HTTP/1.1 101 Switching Protocols" {
						t.Fatalf("upgrade answered %q", line)
					}
				} else {
					req, _ := http.NewRequest("GET", srv.URL, nil)
					req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
					res, err := srv.Client().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
				}
				if reason := <-reasons; reason != nil {
					t.Errorf("the request recorded %v, want no reason", reason)
				}
				c.Advance(2 * time.Minute)
				rec, _ := a.Do(t, "/get?k=k", tok)
				if st.name == "memory" && rec.Body.String() != "1" {
					t.Errorf("2 minutes after it, 11 after the last plain request: %q; want the session alive", rec.Body.String())
				}
			})
		}
	}
}
