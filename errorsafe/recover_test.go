package errorsafe_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/errorsafe"
)

const secretPanic = "db password is hunter2-SECRET"

type stringer struct{}

func (stringer) String() string { return "stringer " + secretPanic }

func TestRecoverAnswersGeneric500(t *testing.T) {
	tests := []struct {
		name  string
		value any
		setup func(w http.ResponseWriter)
		mw    func(m *errorsafe.Middleware) func(http.Handler) http.Handler
	}{
		{"a string panic yields the generic 500", secretPanic, nil, nil},
		{"an error panic yields the generic 500", errors.New(secretPanic), nil, nil},
		{"a Stringer panic yields the generic 500", stringer{}, nil, nil},
		{"a struct panic yields the generic 500", struct{ Msg string }{secretPanic}, nil, nil},
		{"a nil panic yields the generic 500", nil, nil, nil},
		{"a panic after setting headers replaces the representation headers", secretPanic, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "12345")
			w.Header().Set("Content-Disposition", "attachment; filename=secret.txt")
			w.Header().Set("Etag", `"x"`)
		}, nil},
		{"Recover alone yields the generic 500", secretPanic, nil, func(m *errorsafe.Middleware) func(http.Handler) http.Handler { return m.Recover }},
		{"Recover outside RequestID yields the 500 with the ID", secretPanic, nil, func(m *errorsafe.Middleware) func(http.Handler) http.Handler {
			return func(h http.Handler) http.Handler { return m.Recover(m.RequestID(h)) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{})
			inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.setup != nil {
					tt.setup(w)
				}
				panic(tt.value)
			})
			mw := m.Handler
			if tt.mw != nil {
				mw = tt.mw(m)
			}
			rec := httptest.NewRecorder()
			mw(inner).ServeHTTP(rec, httptest.NewRequest("GET", "/orders?token=abc", nil))

			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, h := range []string{"Content-Disposition", "Etag"} {
				if v := rec.Header().Get(h); v != "" {
					t.Errorf("%s = %q survived", h, v)
				}
			}
			if got := rec.Header().Get("Content-Length"); got != fmt.Sprint(rec.Body.Len()) {
				t.Errorf("Content-Length = %s, body %d bytes", got, rec.Body.Len())
			}
			body := rec.Body.String()
			if strings.Contains(body, "hunter2") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
				t.Errorf("body leaks the panic: %s", body)
			}
			p := problemBody(t, rec.Body.Bytes())
			if p["title"] != "Internal Server Error" || p["status"] != 500.0 {
				t.Errorf("problem = %v", p)
			}
			id := rec.Header().Get("X-Request-Id")
			if tt.mw == nil || id != "" {
				if id == "" || p["request_id"] != id {
					t.Errorf("request_id = %v, header %q", p["request_id"], id)
				}
			}

			lr := logs.find(t, "panic recovered")
			if lr == nil {
				t.Fatalf("no panic record in %s", logs)
			}
			if lr["level"] != "ERROR" || lr["method"] != "GET" || lr["path"] != "/orders" {
				t.Errorf("panic record = %v", lr)
			}
			if lr["request_id"] != id {
				t.Errorf("panic record request_id = %v, want %q", lr["request_id"], id)
			}
			if s, _ := lr["stack"].(string); !strings.Contains(s, "recover_test.go") {
				t.Errorf("stack does not show the panicking frame: %.300s", s)
			}
			if tt.value != nil && !strings.Contains(fmt.Sprint(lr["panic"]), "hunter2") {
				t.Errorf("panic value not logged: %v", lr["panic"])
			}
			if strings.Contains(logs.String(), "token=abc") {
				t.Error("the query string was logged with the panic")
			}
		})
	}
}

// TestRecoverAbortsStartedResponses: once the status or part of the body
// is on the wire, a 500 cannot be sent; the connection must be aborted so
// the client sees a failure, not a truncated success.
func TestRecoverAbortsStartedResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
	}{
		{"a panic after the first body write aborts", func(w http.ResponseWriter) {
			w.Write([]byte("partial "))
			w.(http.Flusher).Flush()
			panic(secretPanic)
		}},
		{"a panic after WriteHeader aborts", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
			panic(secretPanic)
		}},
		{"a panic after a flush aborts", func(w http.ResponseWriter) {
			http.NewResponseController(w).Flush()
			panic(secretPanic)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{})
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w)
			})))
			srv.Config.ErrorLog = nil
			defer srv.Close()

			resp, err := srv.Client().Get(srv.URL)
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil {
					t.Fatalf("response completed: %d %q", resp.StatusCode, body)
				}
				if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "Internal Server Error") {
					t.Errorf("body = %q", body)
				}
			}
			lr := waitRecord(t, logs, "http request")
			if lr["aborted"] != true {
				t.Errorf("access record = %v, want aborted", lr)
			}
			if pr := logs.find(t, "panic recovered"); pr == nil || pr["response_started"] != true {
				t.Errorf("panic record = %v", pr)
			}
		})
	}
}

// waitRecord waits for a record written by a server goroutine.
func waitRecord(t *testing.T, logs *logBuf, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := logs.find(t, msg); r != nil {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %q record in %s", msg, logs)
	return nil
}

// TestRegressionChi588ErrAbortHandlerPassesThrough: go-chi/chi#588 (fixed
// in #624) — a recoverer that swallows http.ErrAbortHandler turns an
// intentional abort (httputil.ReverseProxy, a failed stream) into a
// completed response, and the client never learns the transfer failed.
func TestRegressionChi588ErrAbortHandlerPassesThrough(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{})
	for _, mw := range []func(http.Handler) http.Handler{m.Handler, m.Recover} {
		func() {
			defer func() {
				if v := recover(); v != http.ErrAbortHandler {
					t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", v)
				}
			}()
			rec := httptest.NewRecorder()
			mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("streaming"))
				panic(http.ErrAbortHandler)
			})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		}()
	}
	if logs.find(t, "panic recovered") != nil {
		t.Error("an intentional abort was logged as a panic")
	}
}

// TestErrAbortHandlerAccessRecord: a handler's deliberate abort is not a
// panic of the handler. Its access record has the status the client got,
// 0 when it got none (net/http closes the connection), aborted, and no
// panic reason or 500 that was never sent.
func TestErrAbortHandlerAccessRecord(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		status  float64
	}{
		{"before the first byte", func(w http.ResponseWriter) {
			panic(http.ErrAbortHandler)
		}, 0},
		{"after the status", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusAccepted)
			panic(http.ErrAbortHandler)
		}, http.StatusAccepted},
		{"mid-body, as httputil.ReverseProxy aborts", func(w http.ResponseWriter) {
			w.Write([]byte("streaming"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, http.StatusOK},
		{"while a problem's header is held back, as a proxy whose backend's problem is cut short aborts", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"status":404,`))
			panic(http.ErrAbortHandler)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{})
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w)
			})))
			defer srv.Close()

			if resp, err := srv.Client().Get(srv.URL); err == nil {
				_, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil {
					t.Fatalf("response completed: %d", resp.StatusCode)
				}
			}
			lr := waitRecord(t, logs, "http request")
			if lr["status"] != tt.status || lr["aborted"] != true || lr["reason"] != nil || lr["level"] != "INFO" {
				t.Errorf("access record = %v, want status %v, aborted, no reason, level INFO", lr, tt.status)
			}
			if pr := logs.find(t, "panic recovered"); pr != nil {
				t.Errorf("a deliberate abort was logged as a panic: %v", pr)
			}
		})
	}
}

// TestAbortAccessRecordInEveryComposition: the access record of a
// handler's deliberate abort, and of a panic that aborted a started
// response, is the same whether errorsafe is installed as Handler or as
// separate parts, Recover outermost as documented or inside AccessLog: an
// AccessLog that cannot see the panic value leaves the record to the
// Recover further out, which can. A held problem that never reached the
// client counts as nothing written.
func TestAbortAccessRecordInEveryComposition(t *testing.T) {
	compositions := []struct {
		name string
		mw   func(m *errorsafe.Middleware, h http.Handler) http.Handler
	}{
		{"Handler", func(m *errorsafe.Middleware, h http.Handler) http.Handler { return m.Handler(h) }},
		{"Recover(RequestID(AccessLog))", func(m *errorsafe.Middleware, h http.Handler) http.Handler {
			return m.Recover(m.RequestID(m.AccessLog(h)))
		}},
		{"RequestID(AccessLog(Recover))", func(m *errorsafe.Middleware, h http.Handler) http.Handler {
			return m.RequestID(m.AccessLog(m.Recover(h)))
		}},
		{"Recover(RequestID(AccessLog(Recover)))", func(m *errorsafe.Middleware, h http.Handler) http.Handler {
			return m.Recover(m.RequestID(m.AccessLog(m.Recover(h))))
		}},
		// A Recover further in, as a sub-router's own, aborts after a
		// panic: the Handler's record still says it was one.
		{"Handler(Recover)", func(m *errorsafe.Middleware, h http.Handler) http.Handler {
			return m.Handler(m.Recover(h))
		}},
		// The record the AccessLog leaves to the Recover next out is
		// logged once, not again by the Recover further out.
		{"Recover(Recover(RequestID(AccessLog)))", func(m *errorsafe.Middleware, h http.Handler) http.Handler {
			return m.Recover(m.Recover(m.RequestID(m.AccessLog(h))))
		}},
	}
	handlers := []struct {
		name    string
		handler func(w http.ResponseWriter)
		status  float64
		aborted bool
		reason  any
		level   string
	}{
		{"abort before the first byte", func(w http.ResponseWriter) {
			panic(http.ErrAbortHandler)
		}, 0, true, nil, "INFO"},
		{"abort after the status", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusAccepted)
			panic(http.ErrAbortHandler)
		}, http.StatusAccepted, true, nil, "INFO"},
		{"abort while a problem is held back", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"status":404,`)
			panic(http.ErrAbortHandler)
		}, 0, true, nil, "INFO"},
		{"panic after the status", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusAccepted)
			panic(secretPanic)
		}, http.StatusAccepted, true, errorsafe.ErrPanic.Error(), "INFO"},
		{"panic before the first byte", func(w http.ResponseWriter) {
			panic(secretPanic)
		}, http.StatusInternalServerError, false, errorsafe.ErrPanic.Error(), "ERROR"},
		// A 403 sent before a panic is no access denied: the only event
		// is the panic's.
		{"panic after a 403", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
			panic(secretPanic)
		}, http.StatusForbidden, true, errorsafe.ErrPanic.Error(), "INFO"},
	}
	for _, c := range compositions {
		for _, tt := range handlers {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				m, logs := newLogged(t, errorsafe.Options{})
				h := c.mw(m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.handler(w) }))
				func() {
					defer func() {
						if pv := recover(); pv != nil && pv != http.ErrAbortHandler {
							t.Errorf("panic %v escaped", pv)
						}
					}()
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				}()
				var access []map[string]any
				for _, r := range logs.records(t) {
					if r["msg"] == "http request" {
						access = append(access, r)
					}
				}
				if len(access) != 1 {
					t.Fatalf("%d access records: %v", len(access), access)
				}
				lr := access[0]
				if lr["status"] != tt.status || (lr["aborted"] == true) != tt.aborted || lr["reason"] != tt.reason || lr["level"] != tt.level {
					t.Errorf("access record = %v\nwant status %v, aborted %v, reason %v, level %v", lr, tt.status, tt.aborted, tt.reason, tt.level)
				}
				if pr := logs.find(t, "panic recovered"); (pr != nil) != (tt.reason != nil) {
					t.Errorf("panic record %v, want one only for a panic", pr)
				}
				var events []any
				for _, r := range logs.records(t) {
					if r["msg"] == "security event" {
						events = append(events, r["event"])
					}
				}
				var want []any
				if tt.reason != nil {
					want = []any{string(errorsafe.EventPanicRecovered)}
				}
				if fmt.Sprint(events) != fmt.Sprint(want) {
					t.Errorf("security events %v, want %v", events, want)
				}
			})
		}
	}
}

// TestRegressionChi661NoWriteAfterHijack: go-chi/chi#661 (fixed in #795) —
// writing a 500 into a hijacked (WebSocket) connection sent garbage down
// the socket. After a hijack the panic is logged and the connection left
// to net/http, nothing is written.
func TestRegressionChi661NoWriteAfterHijack(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, bufrw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		bufrw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello")
		bufrw.Flush()
		panic(secretPanic)
	})))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(bufio.NewReader(conn))
	if strings.Contains(string(got), "500") || strings.Contains(string(got), "problem") || strings.Contains(string(got), "hunter2") {
		t.Errorf("hijacked connection received %q", got)
	}
	if !strings.HasSuffix(string(got), "hello") {
		t.Errorf("hijacked connection received %q", got)
	}
	lr := waitRecord(t, logs, "http request")
	if lr["hijacked"] != true || lr["status"] != 101.0 {
		t.Errorf("access record = %v", lr)
	}
}

// TestRegressionNegroni214PanicNeverInResponse: urfave/negroni#214 — its
// Recovery printed the panic and stack into the response by default.
func TestRegressionNegroni214PanicNeverInResponse(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := loadConfig()
		_ = cfg.password // nil pointer dereference: a runtime panic
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, leak := range []string{"hunter2", "runtime", "goroutine", "nil pointer", ".go"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("body contains %q: %s", leak, body)
		}
	}
	if resp.StatusCode != 500 {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestRecoverPanicInUpgradeRequestBeforeHijack(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/ws", nil)
	req.Header.Set("Connection", "keep-alive, Upgrade")
	req.Header.Set("Upgrade", "websocket")
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(secretPanic)
	})).ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("status %d body %q", rec.Code, rec.Body)
	}
}

type testConfig struct{ password string }

// loadConfig fails the way real code does: it returns nil.
var loadConfig = func() *testConfig { return nil }

// TestRecoverAbortsHTTP2Streams: over HTTP/2 the abort resets the stream;
// the client sees an error, never a complete body.
func TestRecoverAbortsHTTP2Streams(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	srv := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/before" {
			panic(secretPanic)
		}
		io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic(secretPanic)
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/after")
	if err == nil {
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s", resp.Proto)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("an aborted HTTP/2 response read without error")
	}

	resp, err = srv.Client().Get(srv.URL + "/before")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(body), "hunter2") {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

func TestInvalidStatusCodeBecomesA500(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(42) // net/http panics on this
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status = %d", resp.StatusCode)
	}
}
