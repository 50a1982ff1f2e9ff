package headers_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/headers"
)

// MIGRATING.md, for unrolled/secure: a Host not allowed gets a 400
// problem document that carries the security headers, from the same
// middleware, without an OnReject and without another headers around it.
func TestHostRefusalCarriesTheSecurityHeaders(t *testing.T) {
	m := mustNew(t, headers.Options{AllowedHosts: []string{"example.com"}})
	srv := httptest.NewTLSServer(m.Handler(ok))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, Content-Type %q; want a 400 problem document", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for k, want := range map[string]string{
		"Content-Security-Policy":           "default-src 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security":         "max-age=63072000; includeSubDomains",
		"X-Frame-Options":                   "DENY",
		"X-Content-Type-Options":            "nosniff",
		"Referrer-Policy":                   "no-referrer",
		"Permissions-Policy":                headers.DefaultPermissionsPolicy,
		"Cross-Origin-Opener-Policy":        "same-origin",
		"Cross-Origin-Resource-Policy":      "same-origin",
		"X-Permitted-Cross-Domain-Policies": "none",
		"X-Xss-Protection":                  "0",
		"Cache-Control":                     "no-store",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q on the refusal, want %q", k, got, want)
		}
	}
}

// MIGRATING.md: XSSProtection takes 0, 1 or 1; mode=block; script-src *
// is ErrUnsafeSource.
func TestXSSProtectionValuesAndScriptsFromAnywhere(t *testing.T) {
	for _, v := range []string{"0", "1", "1; mode=block"} {
		h := serve(t, mustNew(t, headers.Options{XSSProtection: v}), httptest.NewRequest("GET", "/", nil)).Header()
		if got := h.Get("X-XSS-Protection"); got != v {
			t.Errorf("XSSProtection %q: X-XSS-Protection = %q", v, got)
		}
	}
	for _, csp := range []*headers.CSP{
		{ScriptSrc: []string{"*"}},
		{DefaultSrc: []string{"*"}},
		{DefaultSrc: []string{headers.Self}, ScriptSrc: []string{headers.Self, "*"}},
	} {
		if _, err := headers.New(headers.Options{CSP: csp}); !errors.Is(err, headers.ErrUnsafeSource) {
			t.Errorf("CSP %+v: New error = %v, want ErrUnsafeSource", csp, err)
		}
	}
}
