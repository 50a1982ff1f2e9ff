package testenv

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Serve runs srv on a free loopback port until the test ends and returns
// its address.
func Serve(t testing.TB, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// RawRequest sends request, the bytes of an HTTP/1.1 request that
// net/http's client cannot write (such as "OPTIONS * HTTP/1.1"), to addr
// on a connection of its own and returns the response, whose body is
// closed. It waits at most five seconds for the answer.
func RawRequest(t testing.TB, addr, request string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("testenv: dial: %v", err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("testenv: write: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("testenv: read the response: %v", err)
	}
	resp.Body.Close()
	return resp
}
