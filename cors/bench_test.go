package cors_test

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/cors"
)

func benchServe(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func fiftyOrigins() []string {
	var o []string
	for i := range 50 {
		o = append(o, fmt.Sprintf("https://app%d.example.com", i))
	}
	return o
}

func BenchmarkMiddleware(b *testing.B) {
	configs := []struct {
		name   string
		opts   cors.Options
		origin string
	}{
		{"origins=1", cors.Options{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"PUT"},
			AllowedHeaders: []string{"Content-Type"}, AllowCredentials: true, MaxAge: 600e9}, "https://app.example.com"},
		{"origins=50", cors.Options{AllowedOrigins: fiftyOrigins(), AllowedMethods: []string{"PUT"},
			AllowedHeaders: []string{"Content-Type"}, AllowCredentials: true, MaxAge: 600e9}, "https://app49.example.com"},
		{"origins=pattern", cors.Options{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"PUT"},
			AllowedHeaders: []string{"Content-Type"}, AllowCredentials: true, MaxAge: 600e9}, "https://app.example.com"},
		{"origins=*", cors.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"},
			AllowedHeaders: []string{"Content-Type"}, MaxAge: 600e9}, "https://app.example.com"},
	}
	for _, c := range configs {
		h := cors.MustNew(c.opts).Handler(noop)
		b.Run(c.name+"/actual", func(b *testing.B) {
			benchServe(b, h, newRequest("GET", "/", [][2]string{{"Origin", c.origin}}))
		})
		b.Run(c.name+"/preflight", func(b *testing.B) {
			benchServe(b, h, newRequest("OPTIONS", "/", preflight(c.origin, "PUT", acrh("content-type"))))
		})
		b.Run(c.name+"/disallowed", func(b *testing.B) {
			benchServe(b, h, newRequest("GET", "/", [][2]string{{"Origin", "https://attacker.test"}}))
		})
	}
}

// BenchmarkAdversarial measures preflights crafted to be expensive
// (rs/cors#170): they must cost about as much as an ordinary rejection.
func BenchmarkAdversarial(b *testing.B) {
	h := cors.MustNew(base).Handler(noop)
	for _, c := range []struct{ name, acrh string }{
		{"acrh=1MB-commas", megabyteOfCommas},
		{"acrh=1000-commas", strings.Repeat(",", 1000)},
		{"acrh=1MB-name", megabyteName},
		{"acrh=many-short-names", strings.Repeat("a,", 1<<19)},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchServe(b, h, newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh(c.acrh))))
		})
	}
	b.Run("origin=1MB", func(b *testing.B) {
		benchServe(b, h, newRequest("GET", "/", [][2]string{{"Origin", "https://" + megabyteName + ".example.com"}}))
	})
}

// BenchmarkCheckPreflight isolates the decision from the response: a
// megabyte of Access-Control-Request-Headers must cost about what a short
// list costs.
func BenchmarkCheckPreflight(b *testing.B) {
	m := cors.MustNew(base)
	for _, c := range []struct{ name, acrh string }{
		{"acrh=short", "content-type,x-request-id"},
		{"acrh=1MB-commas", megabyteOfCommas},
		{"acrh=1000-commas", strings.Repeat(",", 1000)},
		{"acrh=1MB-name", megabyteName},
	} {
		r := newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh(c.acrh)))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Check(r)
			}
		})
	}
}

// BenchmarkModifyResponse measures the removal of a backend's CORS headers
// from a ReverseProxy's response: the header map is refilled, without
// allocating, before each call.
func BenchmarkModifyResponse(b *testing.B) {
	m := cors.MustNew(base)
	backend := http.Header{
		"Content-Type":                     {"application/json"},
		"Content-Length":                   {"1024"},
		"Date":                             {"Mon, 02 Jan 2006 15:04:05 GMT"},
		"Vary":                             {"Accept-Encoding"},
		"Access-Control-Allow-Origin":      {"https://evil.example"},
		"Access-Control-Allow-Credentials": {"true"},
	}
	res := &http.Response{Header: make(http.Header, 8)}
	b.ReportAllocs()
	for b.Loop() {
		maps.Copy(res.Header, backend)
		_ = m.ModifyResponse(res)
	}
}
