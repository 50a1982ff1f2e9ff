package httpguard_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
)

// The README's stack in front of what a demanding service serves besides
// pages: Server-Sent Events, a WebSocket-style upgrade, file downloads
// with ranges and conditional requests, and a stream that fails half-way.
// Every writer in the stack passes flushing, deadlines, full duplex and
// hijacking through to the server and keeps the status, length and security headers of
// http.ServeContent; the access log records what the client got.
func TestREADMEStackStreamsUpgradesAndServesFiles(t *testing.T) {
	t.Parallel()
	logs := new(testenv.LogBuffer)
	release := make(chan struct{})
	content := strings.Repeat("0123456789", 1000)
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(readmeStackWith(t, false, slog.New(slog.NewJSONHandler(logs, nil)), func(mux *http.ServeMux) {
		mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
			session.FromRequest(r).SetString("seen", "events")
			rc := http.NewResponseController(w)
			// A long stream lifts the server's timeouts for itself.
			for name, err := range map[string]error{
				"SetReadDeadline":  rc.SetReadDeadline(time.Time{}),
				"SetWriteDeadline": rc.SetWriteDeadline(time.Time{}),
				"EnableFullDuplex": rc.EnableFullDuplex(),
			} {
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: first\n\n")
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			<-release
			_, _ = io.WriteString(w, "data: second\n\n")
		})
		mux.HandleFunc("GET /socket", func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			_ = brw.Flush()
			line, _ := brw.ReadString('\n')
			_, _ = brw.WriteString("echo " + line)
			_ = brw.Flush()
			w.WriteHeader(http.StatusInternalServerError) // too late: must not reach the connection
		})
		mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			http.ServeContent(w, r, "file.txt", modified, strings.NewReader(content))
		})
		mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "data: partial\n\n")
			_ = http.NewResponseController(w).Flush()
			panic("the stream failed")
		})
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	done := func() { once.Do(func() { close(release) }) }
	t.Cleanup(done) // before srv.Close, which waits for the handler

	t.Run("an event reaches the client before the handler returns, with the session cookie", func(t *testing.T) {
		res, err := srv.Client().Get(srv.URL + "/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		line, err := bufio.NewReader(res.Body).ReadString('\n')
		done()
		if line != "data: first\n" || err != nil || len(res.Cookies()) != 1 || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("read %q, %v; cookies %v, X-Frame-Options %q; want the first event, the session cookie and the security headers",
				line, err, res.Cookies(), res.Header.Get("X-Frame-Options"))
		}
	})

	t.Run("an upgrade switches protocols, and nothing else is written to the connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: "+srv.Listener.Addr().String()+"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nping\n")
		got, _ := io.ReadAll(conn)
		want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\necho ping\n"
		if string(got) != want {
			t.Errorf("the connection carried %q, want %q", got, want)
		}
	})

	t.Run("files keep their status, length and security headers", func(t *testing.T) {
		for _, tt := range []struct {
			name, method, header, value string
			status                      int
			length                      string
			body                        string
		}{
			{"a range", "GET", "Range", "bytes=10-19", http.StatusPartialContent, "10", content[10:20]},
			{"a matching ETag", "GET", "If-None-Match", `"v1"`, http.StatusNotModified, "", ""},
			{"HEAD", "HEAD", "", "", http.StatusOK, strconv.Itoa(len(content)), ""},
		} {
			req, _ := http.NewRequest(tt.method, srv.URL+"/file", nil)
			if tt.header != "" {
				req.Header.Set(tt.header, tt.value)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || res.Header.Get("Content-Length") != tt.length || string(body) != tt.body ||
				res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s: %d, Content-Length %q, body of %d bytes, headers %v; want %d, %q, %d bytes, with the security headers",
					tt.name, res.StatusCode, res.Header.Get("Content-Length"), len(body), res.Header, tt.status, tt.length, len(tt.body))
			}
		}
	})

	t.Run("a panic once the stream has started aborts it", func(t *testing.T) {
		res, err := srv.Client().Get(srv.URL + "/broken")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err == nil || string(body) != "data: partial\n\n" {
			t.Errorf("%d %q, read error %v; want the partial stream cut short", res.StatusCode, body, err)
		}
	})

	// The access records, once every handler has returned.
	want := map[string]string{"/events": "200", "/socket": "101 hijacked", "/broken": "200 aborted"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]string{}
		for _, rec := range logs.Records(t) {
			path, _ := rec["path"].(string)
			if rec["msg"] != "http request" || want[path] == "" {
				continue
			}
			s := strconv.FormatFloat(rec["status"].(float64), 'f', -1, 64)
			if rec["hijacked"] == true {
				s += " hijacked"
			}
			if rec["aborted"] == true {
				s += " aborted"
			}
			got[path] = s
		}
		if len(got) == len(want) || time.Now().After(deadline) {
			for path, w := range want {
				if got[path] != w {
					t.Errorf("access record of %s: %q, want %q", path, got[path], w)
				}
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}
