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

// The redirects of the comment, with -tls-dev on the default ports: a
// loopback name keeps its path and query, another Host goes to
// localhost, a POST is refused, and /healthz is served over plain HTTP.
func TestDevRedirects(t *testing.T) {
	sec, err := headers.New(headers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := https.NewRedirect(redirectOptions(8080, true))
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	h := plainHandler(sec, rd, nil, app)
	for _, tc := range []struct {
		method, host, path string
		status             int
		location           string
	}{
		{http.MethodGet, "127.0.0.1:8081", "/some/path?q=1", http.StatusMovedPermanently, "https://127.0.0.1:8080/some/path?q=1"},
		{http.MethodGet, "localhost:8081", "/", http.StatusMovedPermanently, "https://localhost:8080/"},
		{http.MethodGet, "evil.example", "/", http.StatusMovedPermanently, "https://localhost:8080/"},
		{http.MethodPost, "127.0.0.1:8081", "/form", http.StatusBadRequest, ""},
		{http.MethodGet, "127.0.0.1:8081", "/healthz", http.StatusOK, ""},
	} {
		req := httptest.NewRequest(tc.method, "http://127.0.0.1:8081"+tc.path, nil)
		req.Host = tc.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.status || w.Header().Get("Location") != tc.location {
			t.Errorf("%s %s%s: %d to %q, want %d to %q", tc.method, tc.host, tc.path, w.Code, w.Header().Get("Location"), tc.status, tc.location)
		}
	}
}
