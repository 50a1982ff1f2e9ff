package testenv

import (
	"errors"
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

// CheckHijacker checks that the writer wrap's handler passes on is an
// http.Hijacker exactly when the server's own writer is (HTTP/1.1, not
// HTTP/2), and that over HTTP/2 a Hijack through
// http.ResponseController fails with http.ErrNotSupported as it does on
// the server's writer.
func CheckHijacker(t *testing.T, name string, wrap func(http.Handler) http.Handler) {
	t.Helper()
	for _, h2 := range []bool{false, true} {
		var bare, wrapped bool
		var bareErr, wrappedErr error
		probe := func(is *bool, hijackErr *error) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, *is = w.(http.Hijacker)
				if h2 {
					_, _, *hijackErr = http.NewResponseController(w).Hijack()
				}
			})
		}
		GetTLS(t, probe(&bare, &bareErr), h2)
		GetTLS(t, wrap(probe(&wrapped, &wrappedErr)), h2)
		if bare != wrapped || errors.Is(wrappedErr, http.ErrNotSupported) != errors.Is(bareErr, http.ErrNotSupported) {
			t.Errorf("%s, HTTP/2 %v: the server's writer is a Hijacker: %v, the middleware's: %v; Hijack errors %v and %v", name, h2, bare, wrapped, bareErr, wrappedErr)
		}
	}
}
