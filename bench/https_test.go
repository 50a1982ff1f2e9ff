package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/unrolled/secure"

	"github.com/httpguard/httpguard/https"
)

// BenchmarkHTTPSRedirect redirects a plain HTTP GET to the canonical HTTPS
// host, path and query kept. unrolled/secure's SSLRedirect with SSLHost is
// the peer; it writes a small HTML body through http.Redirect, httpguard
// writes none.
func BenchmarkHTTPSRedirect(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "http://example.com/path/to/page?q=1", nil)
	const want = "https://example.com/path/to/page?q=1"
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { b.Fatal("not redirected") })

	b.Run("impl=httpguard", func(b *testing.B) {
		rd, err := https.NewRedirect(https.RedirectOptions{Host: "example.com"})
		if err != nil {
			b.Fatal(err)
		}
		runRedirect(b, rd.Handler(noop), r, want)
	})
	b.Run("impl=unrolled", func(b *testing.B) {
		s := secure.New(secure.Options{SSLRedirect: true, SSLHost: "example.com"})
		runRedirect(b, s.Handler(noop), r, want)
	})
}

func runRedirect(b *testing.B, h http.Handler, r *http.Request, want string) {
	w := &reusedWriter{h: make(http.Header, 8)}
	h.ServeHTTP(w, r)
	if got := w.h.Get("Location"); got != want || w.code != http.StatusMovedPermanently {
		b.Fatalf("%d %q, want 301 %q", w.code, got, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}
