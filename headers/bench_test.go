package headers_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/headers"
)

func benchHandler(b *testing.B, h http.Handler, r *http.Request) {
	w := &reusedWriter{h: make(http.Header, 32)}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}

func BenchmarkHandler(b *testing.B) {
	api := headers.MustNew(headers.Options{})
	html := headers.MustNew(headers.HTML())
	hosts := headers.MustNew(headers.Options{AllowedHosts: []string{"example.com", "*.example.org", "localhost:8080"}})
	https := tlsRequest("GET", "https://example.com/")
	plain := httptest.NewRequest("GET", "http://example.com/", nil)

	b.Run("preset=api/https", func(b *testing.B) { benchHandler(b, api.Handler(noop), https) })
	b.Run("preset=api/http", func(b *testing.B) { benchHandler(b, api.Handler(noop), plain) })
	b.Run("preset=html/nonce", func(b *testing.B) { benchHandler(b, html.Handler(noop), https) })
	b.Run("hosts/allowed", func(b *testing.B) { benchHandler(b, hosts.Handler(noop), https) })

	rejected := httptest.NewRequest("GET", "/", nil)
	rejected.Host = "evil.example"
	b.Run("hosts/rejected", func(b *testing.B) { benchHandler(b, hosts.Handler(noop), rejected) })

	// Adversarial: a Host header of 64 KiB, and one of 200 labels.
	huge := httptest.NewRequest("GET", "/", nil)
	huge.Host = strings.Repeat("a", 64<<10) + ".example.org"
	b.Run("hosts/huge-host", func(b *testing.B) { benchHandler(b, hosts.Handler(noop), huge) })
	deep := httptest.NewRequest("GET", "/", nil)
	deep.Host = strings.Repeat("a.", 120) + "example.org"
	b.Run("hosts/many-labels", func(b *testing.B) { benchHandler(b, hosts.Handler(noop), deep) })
}

// backendHeaders is the response header of a backend that sets its own
// security headers, as a transport returns it.
func backendHeaders() http.Header {
	return http.Header{
		"Content-Type":                 {"text/html; charset=utf-8"},
		"Content-Length":               {"1024"},
		"Date":                         {"Mon, 02 Jan 2006 15:04:05 GMT"},
		"Set-Cookie":                   {"legacy=1; Path=/"},
		"X-Frame-Options":              {"SAMEORIGIN"},
		"X-Content-Type-Options":       {"nosniff"},
		"Referrer-Policy":              {"unsafe-url"},
		"Strict-Transport-Security":    {"max-age=0"},
		"Content-Security-Policy":      {"default-src 'self'"},
		"Cross-Origin-Resource-Policy": {"cross-origin"},
	}
}

// BenchmarkModifyResponse measures the removal of a backend's security
// headers from a ReverseProxy's response: the header map is refilled,
// without allocating, before each call.
func BenchmarkModifyResponse(b *testing.B) {
	m := headers.MustNew(headers.HTML())
	backend := backendHeaders()
	res := &http.Response{Header: make(http.Header, 16)}
	b.ReportAllocs()
	for b.Loop() {
		maps.Copy(res.Header, backend)
		_ = m.ModifyResponse(res)
	}
}

// BenchmarkKeepAcross1xx measures the wrapper around a proxy: the copy of
// the header map the middleware filled, and the restoring after a 1xx.
func BenchmarkKeepAcross1xx(b *testing.B) {
	m := headers.MustNew(headers.HTML())
	r := tlsRequest("GET", "https://example.com/")
	b.Run("no-1xx", func(b *testing.B) { benchHandler(b, m.Handler(headers.KeepAcross1xx(noop)), r) })
	hints := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		clear(w.Header()) // as httputil.ReverseProxy does
		w.WriteHeader(http.StatusOK)
	})
	b.Run("early-hints", func(b *testing.B) { benchHandler(b, m.Handler(headers.KeepAcross1xx(hints)), r) })
}

func BenchmarkParseSource(b *testing.B) {
	for _, s := range []string{"'self'", "https://cdn.example.com:443/js/", "'sha256-" + strings.Repeat("A", 43) + "='", strings.Repeat("a", 1024)} {
		name := s
		if len(name) > 20 {
			name = name[:20]
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = headers.ParseSource(s)
			}
		})
	}
}

func BenchmarkParseReports(b *testing.B) {
	body := []byte(reportsBody)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = headers.ParseReports("application/reports+json", body)
	}
}
