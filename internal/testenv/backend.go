package testenv

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// Backend serves h on a test server until the test ends and returns its
// URL, the target of a gateway test's httputil.ReverseProxy.
func Backend(t testing.TB, h http.HandlerFunc) *url.URL {
	t.Helper()
	be := httptest.NewServer(h)
	t.Cleanup(be.Close)
	u, err := url.Parse(be.URL)
	if err != nil {
		t.Fatalf("testenv: backend URL: %v", err)
	}
	return u
}
