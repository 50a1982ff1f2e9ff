package bench

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/realclientip/realclientip-go"

	"github.com/httpguard/httpguard/clientip"
)

// BenchmarkClientIP resolves the client address behind two trusted hops.
// realclientip-go's RightmostTrustedRangeStrategy is the peer doing the same
// work (it does not check that RemoteAddr itself is trusted). chi's RealIP
// is included for scale only: it trusts any peer and rewrites RemoteAddr.
func BenchmarkClientIP(b *testing.B) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	ranges := []net.IPNet{{IP: net.IPv4(10, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}}

	workloads := []struct {
		name   string
		header string
		value  string
	}{
		{"xff", "X-Forwarded-For", "6.6.6.6, 198.51.100.1, 10.1.1.1"},
		{"forwarded", "Forwarded", `for=6.6.6.6, for="198.51.100.1:4711";proto=https, for=10.1.1.1`},
	}
	for _, wl := range workloads {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:40000"
		r.Header.Set(wl.header, wl.value)

		hdr := clientip.XForwardedFor
		if wl.header == "Forwarded" {
			hdr = clientip.Forwarded
		}
		rv := clientip.MustNew(clientip.Options{TrustedProxies: trusted, Header: hdr})
		strat := realclientip.Must(realclientip.NewRightmostTrustedRangeStrategy(wl.header, ranges))

		b.Run(wl.name+"/impl=httpguard", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rv.Addr(r) != netip.MustParseAddr("198.51.100.1") {
					b.Fatal("wrong address")
				}
			}
		})
		b.Run(wl.name+"/impl=realclientip", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if strat.ClientIP(r.Header, r.RemoteAddr) != "198.51.100.1" {
					b.Fatal("wrong address")
				}
			}
		})
	}

	// Middleware form, for scale against chi's RealIP (which trusts any peer).
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	w := httptest.NewRecorder()
	mwHG := clientip.MustNew(clientip.Options{TrustedProxies: trusted}).Handler(noop)
	mwChi := middleware.RealIP(noop)
	b.Run("middleware/impl=httpguard", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mwHG.ServeHTTP(w, r)
		}
	})
	b.Run("middleware/impl=chi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mwChi.ServeHTTP(w, r)
		}
	})
}
