package csrf_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

func benchServe(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	h := csrf.MustNew(trustedOpts).Handler(noop)
	for _, c := range []struct {
		name string
		r    *http.Request
	}{
		{"safe", req{method: "GET", headers: [][2]string{sfs("cross-site")}}.build()},
		{"same-origin", req{headers: [][2]string{sfs("same-origin"), origin("https://example.com")}}.build()},
		{"origin-fallback", req{headers: [][2]string{origin("https://example.com")}}.build()},
		{"trusted-pattern", req{headers: [][2]string{sfs("cross-site"), origin("https://a.partner.test")}}.build()},
		{"cross-site", req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}.build()},
		{"huge-origin", req{headers: [][2]string{origin("https://" + strings.Repeat("a", 1<<20) + ".test")}}.build()},
	} {
		b.Run(c.name, func(b *testing.B) { benchServe(b, h, c.r) })
	}
}

func BenchmarkToken(b *testing.B) {
	ts := newTokenServer(b, csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}, csrf.Options{})
	s := [2]string{"X-Test-Session", "bench"}
	tok, _ := ts.get(b, s)
	b.Run("verify", func(b *testing.B) {
		benchServe(b, ts.h, post(s, tokenHeader(tok)))
	})
	b.Run("issue", func(b *testing.B) {
		benchServe(b, ts.h, req{method: "GET", headers: [][2]string{s}}.build())
	})
	b.Run("huge-token", func(b *testing.B) {
		benchServe(b, ts.h, post(s, tokenHeader(strings.Repeat("A", 1<<20))))
	})
}
