package httpguard_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/session"
)

// within receives from ch, failing the test after 10 seconds.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// Many streams of one connection share one client address: the limit by
// address admits as many of twelve requests sent as concurrent streams,
// on one connection or several, as of twelve HTTP/1.1 requests on
// connections of their own, five of a limit of five a minute, and
// refuses the others with 429 and Retry-After. A new connection from the
// same address gets no fresh budget.
func TestHTTP2StreamsShareTheAddressLimit(t *testing.T) {
	t.Parallel()
	const n, limit = 12, 5
	tests := []struct {
		name  string
		h2    bool
		conns int // HTTP/2 connections the streams are spread over
	}{
		{"HTTP/1.1, a connection per request", false, 0},
		{"HTTP/2, every request a stream of one connection", true, 1},
		{"HTTP/2, the streams spread over three connections", true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startTLS(t, readmeStackFrom(t, stackOptions{ipRate: limit}), tt.h2)
			var res []*rawResponse
			if tt.h2 {
				conns := make([]*h2Conn, tt.conns)
				ids := make([][]uint32, tt.conns)
				for i := range conns {
					conns[i] = dialH2(t, srv)
				}
				for i := range n {
					ids[i%tt.conns] = append(ids[i%tt.conns], conns[i%tt.conns].send(get(srv, "/data")))
				}
				for i, c := range conns {
					res = append(res, c.await(ids[i]...)...)
				}
			} else {
				for range n {
					res = append(res, rawH1(t, srv, get(srv, "/data")))
				}
			}
			counts := map[int]int{}
			for _, r := range res {
				counts[r.status]++
				if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
					t.Errorf("a 429 without Retry-After: %s", r.outcome())
				}
			}
			// Admitted: 401, /data needs a session.
			if counts[http.StatusUnauthorized] != limit || counts[http.StatusTooManyRequests] != n-limit {
				t.Errorf("statuses %v; want %d × 401 and %d × 429", counts, limit, n-limit)
			}
			var r *rawResponse
			if tt.h2 {
				r = dialH2(t, srv).roundTrip(get(srv, "/data"))
			} else {
				r = rawH1(t, srv, get(srv, "/data"))
			}
			if r.status != http.StatusTooManyRequests {
				t.Errorf("a new connection: %s; want 429", r.outcome())
			}
		})
	}
}

// A ConcurrencyLimiter counts streams, not connections: with its two
// slots held by two streams, a third stream of the same connection is
// refused with 503, Retry-After and the problem document, while routes
// outside the limiter still answer on it. A slot is free again once the
// handler holding it returns, whether it finished or its stream was
// reset by the client; a fourth stream then takes it.
func TestHTTP2StreamsHoldConcurrencySlots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// free ends the handler of stream id, answering /slow?1, and
		// returns the response the client got, or nil.
		free   func(conn *h2Conn, id uint32, finish func()) *rawResponse
		status int // of stream 1; 0: reset by the client
	}{
		{"the client resets a stream", func(conn *h2Conn, id uint32, _ func()) *rawResponse {
			conn.reset(id)
			return nil
		}, 0},
		{"a handler finishes", func(conn *h2Conn, id uint32, finish func()) *rawResponse {
			finish()
			return conn.await(id)[0]
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 2})
			if err != nil {
				t.Fatal(err)
			}
			entered, left := make(chan string, 8), make(chan string, 8)
			// One release per admitted stream, by the query of its URL.
			release := map[string]chan struct{}{"1": make(chan struct{}), "2": make(chan struct{}), "4": make(chan struct{})}
			finish := map[string]func(){}
			for q, ch := range release {
				finish[q] = sync.OnceFunc(func() { close(ch) })
			}
			srv := startTLS(t, readmeStackFrom(t, stackOptions{routes: func(mux *http.ServeMux) {
				slow := lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					q := r.URL.RawQuery
					entered <- q
					select {
					case <-release[q]:
						_, _ = io.WriteString(w, "done "+q)
					case <-r.Context().Done():
					}
				}))
				mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
					slow.ServeHTTP(w, r)
					left <- r.URL.RawQuery // the slot is free again
				})
			}}), true)
			for _, f := range finish {
				t.Cleanup(f) // before srv.Close, which waits for the handlers
			}
			conn := dialH2(t, srv)
			s1 := conn.send(get(srv, "/slow?1"))
			s2 := conn.send(get(srv, "/slow?2"))
			within(t, entered, "the first stream")
			within(t, entered, "the second stream")

			r3 := conn.roundTrip(get(srv, "/slow?3"))
			if r3.reset || r3.status != http.StatusServiceUnavailable || r3.header.Get("Retry-After") != "1" ||
				r3.header.Get("Content-Type") != "application/problem+json" || r3.header.Get("X-Frame-Options") != "DENY" ||
				!bytes.Contains(r3.body, []byte(`"status":503`)) {
				t.Errorf("a third stream: %s; want 503 with Retry-After: 1, a problem document and the security headers", r3.outcome())
			}
			if q := within(t, left, "the refused stream's handler"); q != "3" {
				t.Fatalf("stream %s left, want 3", q)
			}
			if r := conn.roundTrip(get(srv, "/data")); r.status != http.StatusUnauthorized {
				t.Errorf("a route outside the limiter: %s; want 401", r.outcome())
			}

			r1 := tt.free(conn, s1, finish["1"])
			if q := within(t, left, "the first stream's handler"); q != "1" {
				t.Fatalf("stream %s left, want 1", q)
			}
			if r1 != nil && (r1.reset || r1.status != tt.status || string(r1.body) != "done 1") {
				t.Errorf("the first stream: %s; want %d \"done 1\"", r1.outcome(), tt.status)
			}
			if got := lim.InFlight(); got != 1 {
				t.Errorf("in flight once the first stream's handler returned: %d, want 1", got)
			}
			s4 := conn.send(get(srv, "/slow?4"))
			if q := within(t, entered, "a stream in the freed slot"); q != "4" {
				t.Fatalf("stream %s entered, want 4", q)
			}
			finish["2"]()
			finish["4"]()
			for i, r := range conn.await(s2, s4) {
				want := []string{"done 2", "done 4"}[i]
				if r.reset || r.status != http.StatusOK || string(r.body) != want {
					t.Errorf("%s: %s", want, r.outcome())
				}
			}
			within(t, left, "the second stream's handler")
			within(t, left, "the fourth stream's handler")
			if got := lim.InFlight(); got != 0 {
				t.Errorf("in flight at the end: %d, want 0", got)
			}
		})
	}
}

// A panic on one stream: before the first byte the client gets errorsafe's
// 500 problem; once the response has started the stream alone is reset
// (RST_STREAM), never the connection, and a stream still streaming on it
// and new streams are served. The access log records each.
func TestHTTP2PanicsResetTheirStreamOnly(t *testing.T) {
	t.Parallel()
	logs := new(testenv.LogBuffer)
	release := make(chan struct{})
	done := sync.OnceFunc(func() { close(release) })
	srv := startTLS(t, readmeStackFrom(t, stackOptions{logger: slog.New(slog.NewJSONHandler(logs, nil)), routes: func(mux *http.ServeMux) {
		mux.HandleFunc("GET /panic/before", func(http.ResponseWriter, *http.Request) { panic("secret: before") })
		mux.HandleFunc("GET /panic/header", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			panic("secret: after the header")
		})
		mux.HandleFunc("GET /panic/after", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "partial")
			_ = http.NewResponseController(w).Flush()
			panic("secret: after the first byte")
		})
		mux.HandleFunc("GET /panic/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
		mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "first ")
			_ = http.NewResponseController(w).Flush()
			<-release
			_, _ = io.WriteString(w, "second")
		})
	}}), true)
	t.Cleanup(done) // before srv.Close, which waits for the handlers
	conn := dialH2(t, srv)
	stream := conn.send(get(srv, "/stream"))
	conn.readUntil(func() bool { return len(conn.resps[stream].body) > 0 })

	tests := []struct {
		path   string
		status int    // 0: none reached the client
		body   string // prefix
		reset  bool
		log    string // status and flags of the access record
	}{
		{"/panic/before", 500, `{"type":"about:blank","title":"Internal Server Error","status":500`, false, "500 panicked"},
		{"/panic/header", 0, "", true, "202 panicked aborted"},
		{"/panic/after", 200, "partial", true, "200 panicked aborted"},
		{"/panic/abort", 0, "", true, "0 aborted"},
	}
	for _, tt := range tests {
		r := conn.roundTrip(get(srv, tt.path))
		if r.status != tt.status || !strings.HasPrefix(string(r.body), tt.body) || r.reset != tt.reset ||
			r.reset && r.code != http2.ErrCodeInternal || bytes.Contains(r.body, []byte("secret")) {
			t.Errorf("%s: %s; want status %d, body %q, reset %v", tt.path, r.outcome(), tt.status, tt.body, tt.reset)
		}
	}
	if r := conn.roundTrip(get(srv, "/data")); r.status != http.StatusUnauthorized {
		t.Errorf("a new stream after the panics: %s; want 401", r.outcome())
	}
	done()
	if r := conn.await(stream)[0]; r.reset || r.status != http.StatusOK || string(r.body) != "first second" {
		t.Errorf("the stream open during the panics: %s; want 200 \"first second\"", r.outcome())
	}

	// The records, all written before the streams ended.
	got := map[string]string{}
	for _, rec := range logs.Records(t) {
		path, _ := rec["path"].(string)
		if rec["msg"] != "http request" {
			continue
		}
		s := strconv.FormatFloat(rec["status"].(float64), 'f', -1, 64)
		if rec["reason"] == errorsafe.ErrPanic.Error() {
			s += " panicked"
		}
		if rec["aborted"] == true {
			s += " aborted"
		}
		got[path] = s
	}
	want := map[string]string{"/stream": "200", "/data": "401"}
	for _, tt := range tests {
		want[tt.path] = tt.log
	}
	for path, w := range want {
		if got[path] != w {
			t.Errorf("access record of %s: %q, want %q", path, got[path], w)
		}
	}
}

// The session's writer over HTTP/2: a session changed before a flush
// gets its cookie into the HEADERS frame that starts the stream, read by
// the client before the handler ends; http.ResponseController reaches
// the HTTP/2 writer through every wrapper of the stack (deadlines, full
// duplex; Hijack reports ErrNotSupported and leaves the session to the
// response); a request body and the response stream both ways at once;
// and a login after the first byte cannot renew the cookie, as over
// HTTP/1.1.
func TestHTTP2SessionWriterStreams(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	done := sync.OnceFunc(func() { close(release) })
	routes := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
			session.FromRequest(r).SetString("seen", "events")
			rc := http.NewResponseController(w)
			var errs []string
			for name, err := range map[string]error{
				"SetReadDeadline":  rc.SetReadDeadline(time.Now().Add(time.Minute)),
				"SetWriteDeadline": rc.SetWriteDeadline(time.Time{}),
				"EnableFullDuplex": rc.EnableFullDuplex(),
			} {
				if err != nil {
					errs = append(errs, name+": "+err.Error())
				}
			}
			if _, _, err := rc.Hijack(); !errors.Is(err, http.ErrNotSupported) {
				errs = append(errs, "Hijack: "+errString(err))
			}
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: first\n\n")
			if err := rc.Flush(); err != nil {
				errs = append(errs, "Flush: "+err.Error())
			}
			<-release
			_, _ = io.WriteString(w, "data: second\n\n"+strings.Join(errs, "; "))
		})
		mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if err := rc.EnableFullDuplex(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
			buf := make([]byte, 64)
			for {
				n, err := r.Body.Read(buf)
				if n > 0 {
					_, _ = w.Write(bytes.ToUpper(buf[:n]))
					_ = rc.Flush()
				}
				if err != nil {
					return
				}
			}
		})
		mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			_ = http.NewResponseController(w).Flush()
			err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "mallory"}))
			_, _ = io.WriteString(w, " "+errString(err))
		})
	}

	t.Run("a flushed event carries the session cookie", func(t *testing.T) {
		srv := startTLS(t, readmeStackFrom(t, stackOptions{routes: routes}), true)
		t.Cleanup(done) // before srv.Close, which waits for the handler
		conn := dialH2(t, srv)
		id := conn.send(get(srv, "/events"))
		r := conn.resps[id]
		conn.readUntil(func() bool { return bytes.Contains(r.body, []byte("first")) || conn.done[id] })
		if conn.done[id] || r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Set-Cookie"), "__Host-session=") ||
			!strings.Contains(r.header.Get("Set-Cookie"), "; Secure; HttpOnly; SameSite=Lax") || r.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("before the handler ended: %s; want 200 with the session cookie and the security headers", r.outcome())
		}
		done()
		conn.await(id)
		if r.reset || string(r.body) != "data: first\n\ndata: second\n\n" {
			t.Errorf("the stream: %s; want both events and no controller error", r.outcome())
		}
	})

	t.Run("a request body and the response stream both ways", func(t *testing.T) {
		srv := startTLS(t, readmeStackFrom(t, stackOptions{routes: routes}), true)
		conn := dialH2(t, srv)
		req := post(srv, "/echo", field("sec-fetch-site", "same-origin"), field("content-type", "text/plain"))
		req.data, req.open = []string{"ping "}, true
		id := conn.send(req)
		r := conn.resps[id]
		conn.readUntil(func() bool { return bytes.Contains(r.body, []byte("PING ")) || conn.done[id] })
		conn.data(id, "pong", true)
		conn.await(id)
		if r.reset || r.status != http.StatusOK || string(r.body) != "PING PONG" {
			t.Errorf("echo: %s; want 200 \"PING PONG\"", r.outcome())
		}
	})

	t.Run("a login after the first byte", func(t *testing.T) {
		var got [2]string
		for i, h2 := range []bool{false, true} {
			srv := startTLS(t, readmeStackFrom(t, stackOptions{routes: routes}), h2)
			req := get(srv, "/late", field("cookie", loginCookie(t, srv)))
			var r *rawResponse
			if h2 {
				r = dialH2(t, srv).roundTrip(req)
			} else {
				r = rawH1(t, srv, req)
			}
			got[i] = r.outcome()
			if r.reset || r.status != http.StatusOK || string(r.body) != "x "+session.ErrHeadersWritten.Error() || r.header.Get("Set-Cookie") != "" {
				t.Errorf("%s: %s; want 200, ErrHeadersWritten and no cookie", protoName(h2), got[i])
			}
		}
		if got[0] != got[1] {
			t.Errorf("HTTP/1.1:\n%s\nHTTP/2:\n%s", got[0], got[1])
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
