package errorsafe_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/internal/testenv"
)

func TestSafeErrorsReplacesBodies(t *testing.T) {
	leaky := "ERROR: relation users does not exist at /srv/app/db.go:42"
	tests := []struct {
		name       string
		replaceMux bool
		method     string
		path       string
		headers    http.Header // request headers
		status     int
		replaced   bool
		keep       map[string]string // response headers that must survive
	}{
		{"a 500 body is replaced", false, "GET", "/500", nil, 500, true, nil},
		{"a 502 body is replaced", false, "GET", "/502", nil, 502, true, nil},
		{"a 503 keeps Retry-After", false, "GET", "/503", nil, 503, true, map[string]string{"Retry-After": "30"}},
		{"a 503 without Retry-After gets one", false, "GET", "/503bare", nil, 503, true, map[string]string{"Retry-After": "5"}},
		{"a status written through Write is replaced", false, "GET", "/500write", nil, 500, true, nil},
		{"a 200 is untouched", false, "GET", "/ok", nil, 200, false, nil},
		{"an application 404 is untouched", false, "GET", "/app404", nil, 404, false, nil},
		{"a 400 from http.Error is untouched", false, "GET", "/400", nil, 400, false, nil},
		{"a mux 404 is untouched by default", false, "GET", "/nowhere", nil, 404, false, nil},
		{"a mux 404 is replaced when enabled", true, "GET", "/nowhere", nil, 404, true, nil},
		{"a mux 405 is replaced when enabled and keeps Allow", true, "DELETE", "/ok", nil, 405, true, map[string]string{"Allow": "GET, HEAD"}},
		{"an application JSON 404 is untouched when enabled", true, "GET", "/app404", nil, 404, false, nil},
		{"an application text 404 without nosniff is untouched when enabled", true, "GET", "/text404", nil, 404, false, nil},
		// The client chooses Connection: Upgrade; it must not be a way to
		// read the internals in a 5xx body.
		{"an upgrade request's 500 is replaced too", false, "GET", "/500", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, 500, true, nil},
		{"a HEAD 500 gets no body", false, "HEAD", "/500", nil, 500, true, nil},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /500", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		http.Error(w, leaky, 500)
	})
	mux.HandleFunc("GET /502", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		fmt.Fprintf(w, "<html>%s</html>", leaky)
	})
	mux.HandleFunc("GET /503", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(503)
		io.WriteString(w, leaky)
	})
	mux.HandleFunc("GET /503bare", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		io.WriteString(w, leaky)
	})
	mux.HandleFunc("GET /500write", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		w.Write([]byte(leaky))
		w.WriteHeader(200) // superfluous: dropped
	})
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") })
	mux.HandleFunc("GET /app404", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		io.WriteString(w, `{"error":"no such user"}`)
	})
	mux.HandleFunc("GET /text404", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(404)
		io.WriteString(w, "No such page.")
	})
	mux.HandleFunc("GET /400", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad date format", 400) })

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newLogged(t, errorsafe.Options{ReplaceMuxErrors: tt.replaceMux})
			req := httptest.NewRequest(tt.method, tt.path, nil)
			maps.Copy(req.Header, tt.headers)
			for name, mw := range map[string]func(http.Handler) http.Handler{"Handler": m.Handler, "SafeErrors": m.SafeErrors} {
				srv := httptest.NewServer(mw(mux))
				resp, err := srv.Client().Do(withURL(t, req, srv.URL))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				srv.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("%s: status = %d, want %d", name, resp.StatusCode, tt.status)
				}
				isProblem := resp.Header.Get("Content-Type") == "application/problem+json"
				if isProblem != tt.replaced {
					t.Errorf("%s: replaced = %v, want %v (body %q)", name, isProblem, tt.replaced, body)
				}
				if tt.replaced {
					if strings.Contains(string(body), "relation") || resp.Header.Get("Content-Encoding") != "" {
						t.Errorf("%s: leak: %q %v", name, body, resp.Header)
					}
					if tt.method != "HEAD" {
						p := problemBody(t, body)
						if p["status"] != float64(tt.status) || p["title"] != http.StatusText(tt.status) {
							t.Errorf("%s: problem = %v", name, p)
						}
						if name == "Handler" && p["request_id"] != resp.Header.Get("X-Request-Id") {
							t.Errorf("%s: request_id = %v", name, p["request_id"])
						}
					}
				}
				for k, v := range tt.keep {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s: %s = %q, want %q", name, k, got, v)
					}
				}
			}
		})
	}
}

func withURL(t *testing.T, r *http.Request, base string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(r.Method, base+r.URL.RequestURI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header.Clone()
	return req
}

// TestResponseControllerThroughWrappers: the wrappers implement Unwrap, so
// flushing, deadlines, full duplex and hijacking keep working.
func TestResponseControllerThroughWrappers(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{ReplaceMuxErrors: true})
	chain := func(h http.Handler) http.Handler { return m.Handler(m.Recover(m.SafeErrors(m.AccessLog(h)))) }

	t.Run("flush streams before the handler returns", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			io.WriteString(w, "first\n")
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			w.(http.Flusher).Flush()
			<-release
			io.WriteString(w, "second\n")
		})))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		close(release)
		if err != nil || line != "first\n" {
			t.Errorf("read %q, %v before release", line, err)
		}
	})

	t.Run("deadlines and full duplex are supported", func(t *testing.T) {
		srv := httptest.NewServer(chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			for name, err := range map[string]error{
				"SetReadDeadline":  rc.SetReadDeadline(time.Now().Add(time.Minute)),
				"SetWriteDeadline": rc.SetWriteDeadline(time.Now().Add(time.Minute)),
				"EnableFullDuplex": rc.EnableFullDuplex(),
			} {
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})

	t.Run("hijack works through the controller and the interface", func(t *testing.T) {
		for _, useIface := range []bool{false, true} {
			srv := httptest.NewServer(chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var err error
				var conn interface{ Close() error }
				var bufrw *bufio.ReadWriter
				if useIface {
					conn, bufrw, err = w.(http.Hijacker).Hijack()
				} else {
					conn, bufrw, err = http.NewResponseController(w).Hijack()
				}
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				defer conn.Close()
				bufrw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
				bufrw.Flush()
			})))
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			srv.Close()
			if string(body) != "hijacked" {
				t.Errorf("body = %q", body)
			}
		}
	})

	t.Run("unsupported features report ErrNotSupported", func(t *testing.T) {
		rec := struct{ http.ResponseWriter }{httptest.NewRecorder()}
		chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, _, err := http.NewResponseController(w).Hijack(); !errors.Is(err, http.ErrNotSupported) {
				t.Errorf("Hijack: %v", err)
			}
			if err := http.NewResponseController(w).Flush(); !errors.Is(err, http.ErrNotSupported) {
				t.Errorf("Flush: %v", err)
			}
		})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	})

	t.Run("io.Copy from a file is counted", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f")
		data := strings.Repeat("z", 100_000)
		os.WriteFile(path, []byte(data), 0o600)
		m2, logs := newLogged(t, errorsafe.Options{})
		srv := httptest.NewServer(m2.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(path)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			io.Copy(w, f)
		})))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != data {
			t.Errorf("body of %d bytes", len(body))
		}
		if lr := waitRecord(t, logs, "http request"); lr["bytes"] != float64(len(data)) {
			t.Errorf("bytes = %v", lr["bytes"])
		}
	})
}

func TestInformationalResponsesPassThrough(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "secret detail")
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(body), "secret") {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

// An Early Hints response (103) is not the response: the client gets the
// hints, then the final status, which the access record logs; a panic
// after the hints is still answered with the generic 500, not taken for a
// panic in a started response that aborts the connection.
func TestEarlyHintsDoNotStartTheResponse(t *testing.T) {
	for _, tt := range []struct {
		name   string
		panics bool
		status int
	}{
		{"the final status is logged", false, http.StatusOK},
		{"a panic after the hints gets the 500", true, http.StatusInternalServerError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{})
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</app.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				if tt.panics {
					panic(secretPanic)
				}
				io.WriteString(w, "page")
			})))
			defer srv.Close()
			var hints []int
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
					hints = append(hints, code)
					return nil
				},
			}))
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(hints) != 1 || hints[0] != http.StatusEarlyHints || resp.StatusCode != tt.status {
				t.Fatalf("informational %v, final %d; want [103] then %d", hints, resp.StatusCode, tt.status)
			}
			if tt.panics {
				if p := problemBody(t, body); p["status"] != 500.0 {
					t.Errorf("problem %v", p)
				}
			} else if string(body) != "page" {
				t.Errorf("body %q", body)
			}
			if lr := waitRecord(t, logs, "http request"); lr["status"] != float64(tt.status) || lr["aborted"] != nil {
				t.Errorf("access record %v, want status %d, not aborted", lr, tt.status)
			}
		})
	}
}

func TestSafeErrorsAloneKeepsWriteErrorResponses(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	rec := httptest.NewRecorder()
	m.SafeErrors(errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return &errorsafe.Error{Status: 503, Public: "Down for maintenance."}
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if p := problemBody(t, rec.Body.Bytes()); rec.Code != 503 || p["detail"] != "Down for maintenance." {
		t.Errorf("%d %v", rec.Code, p)
	}
}

func TestPanicAfterHeldBackRejectionStillAnswers500(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/problem+json")
		h.Set("Content-Length", fmt.Sprint(len(`{"type":"about:blank","title":"Forbidden","status":403}`+"\n")))
		w.WriteHeader(http.StatusForbidden) // generic problem announced, held back
		panic("before the body")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if p := problemBody(t, rec.Body.Bytes()); rec.Code != 500 || p["status"] != 500.0 {
		t.Errorf("%d %v", rec.Code, p)
	}
}

// TestReplacedResponsesCarryNoTrailers: a response errorsafe replaces or
// writes itself carries none of the handler's trailer fields. Over
// HTTP/2 net/http sends, as trailers, the header keys with
// http.TrailerPrefix the handler sets at any time, and the discarded
// 500's error detail reached the client in them; over HTTP/1.1 the
// problem's Content-Length leaves no room for trailers. A response that
// is not replaced keeps its trailers.
func TestReplacedResponsesCarryNoTrailers(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /after", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, privateCause)
		w.Header().Set(http.TrailerPrefix+"X-Error", privateCause)
	})
	mux.HandleFunc("GET /before", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(http.TrailerPrefix+"X-Error", privateCause)
		http.Error(w, privateCause, http.StatusBadGateway)
	})
	mux.HandleFunc("GET /declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Error")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, privateCause)
		w.Header().Set("X-Error", privateCause)
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(http.TrailerPrefix+"X-Error", privateCause)
		panic(secretPanic)
	})
	mux.Handle("GET /returned", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set(http.TrailerPrefix+"X-Error", privateCause)
		return errors.New(privateCause)
	}))
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "fine")
		http.NewResponseController(w).Flush() // chunked over HTTP/1.1
		w.Header().Set(http.TrailerPrefix+"X-Checksum", "abc")
	})
	tests := []struct {
		path    string
		status  int
		trailer string // the X-Checksum trailer expected
	}{
		{"/after", 500, ""},
		{"/before", 502, ""},
		{"/declared", 500, ""},
		{"/panic", 500, ""},
		{"/returned", 500, ""},
		{"/ok", 200, "abc"},
	}
	for _, h2 := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(m.Handler(mux))
		srv.EnableHTTP2 = h2
		srv.StartTLS()
		defer srv.Close()
		srv.Client().Transport.(*http.Transport).ForceAttemptHTTP2 = h2
		for _, tt := range tests {
			resp, err := srv.Client().Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body) // trailers are read with the body
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s %s: %v", resp.Proto, tt.path, err)
			}
			if want := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != want {
				t.Fatalf("%s: served over %s", tt.path, resp.Proto)
			}
			if resp.StatusCode != tt.status || strings.Contains(string(body), "pq:") {
				t.Errorf("%s %s: %d %q, want %d without the cause", resp.Proto, tt.path, resp.StatusCode, body, tt.status)
			}
			if got := resp.Trailer.Get("X-Error"); got != "" {
				t.Errorf("%s %s: trailer X-Error %q reached the client", resp.Proto, tt.path, got)
			}
			if got := resp.Trailer.Get("X-Checksum"); got != tt.trailer {
				t.Errorf("%s %s: trailer X-Checksum %q, want %q", resp.Proto, tt.path, got, tt.trailer)
			}
		}
	}
}

// The writer next gets is an http.Hijacker exactly when the one the
// server gave is, through one errorsafe middleware or several sharing
// their writer: over HTTP/1.1, and not over HTTP/2, where Hijack fails
// with http.ErrNotSupported. It claimed to be one over HTTP/2 too, so a
// handler asking w.(http.Hijacker) whether it can take the connection
// was told it could. http.ResponseController answers the same either
// way.
func TestTheWriterHijacksExactlyWhereTheServersDoes(t *testing.T) {
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger()})
	for name, wrap := range map[string]func(http.Handler) http.Handler{
		"Handler":               m.Handler,
		"Recover and AccessLog": func(h http.Handler) http.Handler { return m.Recover(m.AccessLog(h)) },
	} {
		testenv.CheckHijacker(t, name, wrap)
	}
}

// A 5xx without a standard status text (a 520 or 599 a backend or an
// application uses) is replaced like any other, and the problem's
// "status" member is the status sent, as RFC 9457 requires of a
// generator: it said 500, and its title Internal Server Error.
func TestSafeErrorsProblemStatusIsTheStatusSent(t *testing.T) {
	leaky := "upstream said: pq: password authentication failed"
	tests := []struct {
		name   string
		status int
	}{
		{"a 599 keeps its status in the problem", 599},
		{"a 520 keeps its status in the problem", 520},
		{"a 509 keeps its status in the problem", 509},
		{"a 500 still says 500", 500},
		{"a 502 still says 502", 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newLogged(t, errorsafe.Options{})
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, leaky)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			body := rec.Body.String()
			if strings.Contains(body, "pq:") {
				t.Fatalf("body leaks the handler's: %q", body)
			}
			p := problemBody(t, rec.Body.Bytes())
			if p["status"] != float64(tt.status) {
				t.Errorf("problem status = %v, want %d: %s", p["status"], tt.status, body)
			}
			if want := http.StatusText(tt.status); want != "" && p["title"] != want {
				t.Errorf("problem title = %v, want %q", p["title"], want)
			}
			if p["title"] == http.StatusText(500) && tt.status != 500 {
				t.Errorf("problem title = %v for a %d", p["title"], tt.status)
			}
			if p["request_id"] == nil || p["request_id"] == "" {
				t.Errorf("problem has no request_id: %s", body)
			}
			if cl := rec.Header().Get("Content-Length"); cl != fmt.Sprint(len(body)) {
				t.Errorf("Content-Length = %s for a %d-byte body", cl, len(body))
			}
		})
	}
}
