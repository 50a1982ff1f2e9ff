package bench

import (
	"crypto/tls"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/unrolled/secure"

	"github.com/httpguard/httpguard/headers"
)

// reusedWriter clears its header map between requests instead of
// replacing it, so every implementation is measured without the map growth
// a fresh recorder would add.
type reusedWriter struct {
	h    http.Header
	code int
}

func (w *reusedWriter) Header() http.Header         { return w.h }
func (w *reusedWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *reusedWriter) WriteHeader(code int)        { w.code = code }

func runHandler(b *testing.B, h http.Handler, r *http.Request, wantCode int, want map[string]string) {
	w := &reusedWriter{h: make(http.Header, 32)}
	h.ServeHTTP(w, r)
	if w.code != wantCode {
		b.Fatalf("status %d, want %d", w.code, wantCode)
	}
	for k, v := range want {
		if got := w.h.Get(k); got != v {
			b.Fatalf("%s = %q, want %q", k, got, v)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

const (
	benchCSP  = "default-src 'none'; frame-ancestors 'none'"
	benchHSTS = "max-age=63072000; includeSubDomains"
)

// BenchmarkSecurityHeaders sets the same security headers on an HTTPS
// request (the HSTS case). headers=6 is the set every peer supports (HSTS,
// CSP, X-Frame-Options, nosniff, X-XSS-Protection, Referrer-Policy);
// headers=10 adds Permissions-Policy, COOP, CORP and
// X-Permitted-Cross-Domain-Policies, which echo's Secure cannot set. echo's
// middleware runs on a pooled Context without its router (echoMiddleware),
// as httpguard's runs without one.
func BenchmarkSecurityHeaders(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

	six := map[string]string{
		"Strict-Transport-Security": benchHSTS,
		"Content-Security-Policy":   benchCSP,
		"X-Frame-Options":           "DENY",
		"X-Content-Type-Options":    "nosniff",
		"X-Xss-Protection":          "0",
		"Referrer-Policy":           "no-referrer",
	}
	ten := map[string]string{
		"Permissions-Policy":                headers.DefaultPermissionsPolicy,
		"Cross-Origin-Opener-Policy":        "same-origin",
		"Cross-Origin-Resource-Policy":      "same-origin",
		"X-Permitted-Cross-Domain-Policies": "none",
	}
	maps.Copy(ten, six)

	b.Run("headers=6/impl=httpguard", func(b *testing.B) {
		m := headers.MustNew(headers.Options{
			PermissionsPolicy:            headers.Omit,
			CrossOriginOpenerPolicy:      headers.Omit,
			CrossOriginResourcePolicy:    headers.Omit,
			PermittedCrossDomainPolicies: headers.Omit,
		})
		runHandler(b, m.Handler(noop), r, 0, six)
	})
	b.Run("headers=6/impl=unrolled", func(b *testing.B) {
		s := secure.New(secure.Options{
			STSSeconds: 63072000, STSIncludeSubdomains: true,
			ContentSecurityPolicy: benchCSP,
			FrameDeny:             true,
			ContentTypeNosniff:    true,
			BrowserXssFilter:      true, CustomBrowserXssValue: "0",
			ReferrerPolicy: "no-referrer",
		})
		runHandler(b, s.Handler(noop), r, 0, six)
	})
	b.Run("headers=6/impl=echo", func(b *testing.B) {
		e := echoMiddleware(func(echo.Context) error { return nil }, echomw.SecureWithConfig(echomw.SecureConfig{
			XSSProtection:         "0",
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			HSTSMaxAge:            63072000,
			ContentSecurityPolicy: benchCSP,
			ReferrerPolicy:        "no-referrer",
		}))
		// echo spells the directive includeSubdomains.
		want := map[string]string{}
		maps.Copy(want, six)
		want["Strict-Transport-Security"] = "max-age=63072000; includeSubdomains"
		runHandler(b, e, r, 0, want)
	})

	b.Run("headers=10/impl=httpguard", func(b *testing.B) {
		m := headers.MustNew(headers.Options{})
		runHandler(b, m.Handler(noop), r, 0, ten)
	})
	b.Run("headers=10/impl=unrolled", func(b *testing.B) {
		runHandler(b, unrolledTen().Handler(noop), r, 0, ten)
	})
}

// BenchmarkAllowedHosts rejects a request for a host not in the list; both
// refuse it and call no handler, but not alike: httpguard answers 400 with
// its ten security headers and a problem body, unrolled/secure's default
// bad-host handler a bare 500 "Bad Host" in plain text.
func BenchmarkAllowedHosts(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "https://evil.example/", nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { b.Fatal("handler called") })
	hosts := []string{"example.com", "www.example.com", "api.example.com"}
	b.Run("impl=httpguard", func(b *testing.B) {
		m := headers.MustNew(headers.Options{AllowedHosts: hosts})
		runHandler(b, m.Handler(noop), r, http.StatusBadRequest, map[string]string{"Content-Type": "application/problem+json"})
	})
	b.Run("impl=unrolled", func(b *testing.B) {
		s := secure.New(secure.Options{AllowedHosts: hosts, STSSeconds: 63072000, STSIncludeSubdomains: true,
			ContentSecurityPolicy: benchCSP, FrameDeny: true, ContentTypeNosniff: true})
		runHandler(b, s.Handler(noop), r, http.StatusInternalServerError, map[string]string{"Content-Type": "text/plain; charset=utf-8"})
	})
}

// unrolledTen is unrolled/secure set up to send the ten headers of
// httpguard's API preset, with the same values; the chain benchmark uses it
// too.
func unrolledTen() *secure.Secure {
	return secure.New(secure.Options{
		STSSeconds: 63072000, STSIncludeSubdomains: true,
		ContentSecurityPolicy: benchCSP,
		FrameDeny:             true,
		ContentTypeNosniff:    true,
		BrowserXssFilter:      true, CustomBrowserXssValue: "0",
		ReferrerPolicy:                "no-referrer",
		PermissionsPolicy:             headers.DefaultPermissionsPolicy,
		CrossOriginOpenerPolicy:       "same-origin",
		CrossOriginResourcePolicy:     "same-origin",
		XPermittedCrossDomainPolicies: "none",
	})
}
