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
	const wantString = "198.51.100.1"
	want := netip.MustParseAddr(wantString)
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

		// Each side compares its result with a constant of its own type,
		// made before the loop: parsing the expected address inside the
		// loop would charge httpguard a netip.ParseAddr per request.
		b.Run(wl.name+"/impl=httpguard", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rv.Addr(r) != want {
					b.Fatal("wrong address")
				}
			}
		})
		b.Run(wl.name+"/impl=realclientip", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if strat.ClientIP(r.Header, r.RemoteAddr) != wantString {
					b.Fatal("wrong address")
				}
			}
		})
	}

	// Middleware form, for scale against chi's RealIP (which trusts any
	// peer). Each gets its own request: chi's RealIP rewrites RemoteAddr
	// in place, and a shared request would reach httpguard, on a second
	// run in one process, from an untrusted peer whose header is never
	// read.
	mwRequest := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:40000"
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		return r
	}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, impl := range []struct {
		name string
		mw   func(http.Handler) http.Handler
		addr func(*http.Request) string // the address the handler sees
	}{
		{"httpguard", clientip.MustNew(clientip.Options{TrustedProxies: trusted}).Handler, func(r *http.Request) string { info, _ := clientip.FromContext(r.Context()); return info.Addr.String() }},
		{"chi", middleware.RealIP, func(r *http.Request) string { return r.RemoteAddr }},
	} {
		w := httptest.NewRecorder()
		var got string
		impl.mw(http.HandlerFunc(func(_ http.ResponseWriter, seen *http.Request) { got = impl.addr(seen) })).ServeHTTP(w, mwRequest())
		if got != wantString {
			b.Fatalf("%s: the handler sees %q, want %q", impl.name, got, wantString)
		}
		h, r := impl.mw(noop), mwRequest()
		b.Run("middleware/impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
