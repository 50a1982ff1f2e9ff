package testenv

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// GetTLS serves one GET to h on a TLS test server, over HTTP/2 when h2 is
// set and HTTP/1.1 otherwise, and waits for the answer: a handler that
// looks at the server's own ResponseWriter (is it an http.Hijacker, can it
// flush) sees each protocol's.
func GetTLS(t testing.TB, h http.Handler, h2 bool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}
