package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/clientip"
)

func BenchmarkResolve(b *testing.B) {
	xff := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	fwd := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	long := make([]string, 10000)
	for i := range long {
		long[i] = "10.0.0." + strconv.Itoa(i%250+1)
	}
	cases := []struct {
		name string
		rv   *clientip.Resolver
		r    *http.Request
	}{
		{"direct", nil, req{remote: "203.0.113.7:5555"}.build()},
		{"xff/2hops", xff, req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, 10.1.1.1", "X-Forwarded-Proto", "https")}.build()},
		{"xff/untrusted-peer", xff, req{remote: "203.0.113.7:1", headers: hdr("X-Forwarded-For", strings.Join(long, ","))}.build()},
		{"xff/10000-trusted-entries", xff, req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", strings.Join(long, ","))}.build()},
		{"forwarded/2hops", fwd, req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8::1]:80";proto=https, for=10.1.1.1`)}.build()},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.rv.Resolve(c.r)
			}
		})
	}
}

func BenchmarkHandler(b *testing.B) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	h := rv.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1")}.build()
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
