package https_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/https"
)

func BenchmarkRedirect(b *testing.B) {
	rd, err := https.NewRedirect(https.RedirectOptions{
		Host:         "example.com",
		AllowedHosts: []string{"example.com", "www.example.com", "*.example.org"},
		Exempt:       []string{https.ACMEChallengePath, "/healthz"},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := rd.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := func(host, target string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Host = host
		return r
	}
	secure := req("example.com", "/a")
	secure.TLS = &tls.ConnectionState{}
	cases := []struct {
		name string
		r    *http.Request
	}{
		{"allowed-host", req("www.example.com", "/path/to/page?q=1")},
		{"wildcard-host", req("a.b.example.org", "/path/to/page?q=1")},
		{"hostile-host", req("evil.example", "/path/to/page?q=1")},
		{"exempt", req("example.com", "/healthz")},
		{"already-https", secure},
		// Adversarial: a 64 KiB Host and a 64 KiB query string.
		{"huge-host", req(strings.Repeat("a", 64<<10)+".example.org", "/")},
		{"huge-query", req("example.com", "/?q="+strings.Repeat("x", 64<<10))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := &reusedWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, c.r)
			}
		})
	}
}
