package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The form page may not be framed by another site: framed, a user could
// be led to click Send, a same-origin post that the CSRF checks admit
// (clickjacking). Rejections carry the security headers too.
func TestFormCannotBeFramed(t *testing.T) {
	h, err := newHandler(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="csrf_token"`) {
		t.Fatalf("form: %d %q", w.Code, w.Body.String())
	}
	if xfo, csp := w.Header().Get("X-Frame-Options"), w.Header().Get("Content-Security-Policy"); xfo != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("form page: X-Frame-Options %q, CSP %q; want framing refused", xfo, csp)
	}

	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/transfer", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("cross-site post: %d, X-Frame-Options %q; want 403 with the headers", w.Code, w.Header().Get("X-Frame-Options"))
	}
}

// optionsAsterisk sends "OPTIONS *" to the server main builds around h.
func optionsAsterisk(t *testing.T, h http.Handler) *http.Response {
	t.Helper()
	srv, err := newServer("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_, _ = io.WriteString(conn, "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// "OPTIONS *" goes through the stack like every other request: logged
// by errorsafe with a request ID, answered with the security headers.
// net/http answers it itself, past every middleware, unless the server
// is told not to.
func TestOptionsAsteriskGoesThroughTheStack(t *testing.T) {
	h, err := newHandler(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	resp := optionsAsterisk(t, h)
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("OPTIONS *: %d with headers %v; want a request ID and the security headers", resp.StatusCode, resp.Header)
	}
}
