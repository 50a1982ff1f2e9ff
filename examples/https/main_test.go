package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
)

// Every answer of the plain HTTP listener carries the security headers,
// the redirect and the refusal included, as the README's stack order puts
// headers just outside https.Redirect; HSTS stays off plain HTTP.
func TestPlainHandlerSendsSecurityHeaders(t *testing.T) {
	sec, err := headers.New(headers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := https.NewRedirect(https.RedirectOptions{Host: "localhost:8443", HTTPSPort: 8443, Exempt: []string{"/healthz"}})
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	h := plainHandler(sec, rd, nil, app)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/some/path?q=1", http.StatusMovedPermanently},
		{http.MethodPost, "/form", http.StatusBadRequest},
		{http.MethodGet, "/healthz", http.StatusOK},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, "http://localhost:8080"+tc.path, nil))
		if w.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, w.Code, tc.status)
		}
		for _, name := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"} {
			if w.Header().Get(name) == "" {
				t.Errorf("%s %s: no %s", tc.method, tc.path, name)
			}
		}
		if hsts := w.Header().Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s %s: HSTS over plain HTTP: %q", tc.method, tc.path, hsts)
		}
	}
}
