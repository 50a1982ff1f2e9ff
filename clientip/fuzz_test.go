package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/clientip"
)

// checkResult asserts the properties every resolution has, whatever the
// headers: the address is the peer or an address written in the header
// value, normalised (no zone, unmapped); the scheme is http or https; and
// the answer is the same every time.
func checkResult(t *testing.T, rv *clientip.Resolver, r *http.Request, peer netip.Addr, header string) {
	t.Helper()
	info := rv.Resolve(r)
	if info.Scheme != "http" && info.Scheme != "https" {
		t.Fatalf("scheme %q", info.Scheme)
	}
	if info.Addr.Zone() != "" || info.Addr.Is4In6() {
		t.Fatalf("address %v not normalised", info.Addr)
	}
	if info.Addr != peer {
		if !info.Addr.IsValid() {
			t.Fatalf("invalid address from %q", header)
		}
		// The address must come from the header text: some spelling of it
		// appears there (IPv6 may be written in another form, so compare
		// the parsed forms of the header's tokens).
		found := false
		for tok := range strings.FieldsFuncSeq(header, func(c rune) bool {
			return c == ',' || c == ';' || c == '"' || c == '=' || c == ' ' || c == '\t' || c == '[' || c == ']'
		}) {
			if i := strings.IndexByte(tok, '%'); i >= 0 {
				tok = tok[:i]
			}
			for _, cand := range []string{tok, strings.SplitN(tok, ":", 2)[0]} {
				if a, err := netip.ParseAddr(cand); err == nil && a.Unmap() == info.Addr {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("address %v does not appear in %q", info.Addr, header)
		}
	}
	if again := rv.Resolve(r); again != info {
		t.Fatalf("not deterministic: %+v then %+v", info, again)
	}
}

func FuzzXForwardedFor(f *testing.F) {
	for _, s := range []string{
		"198.51.100.1", "6.6.6.6, 198.51.100.1, 10.1.1.1", "[2001:db8::1]:443", "fe80::1%eth0",
		"::ffff:198.51.100.1", "garbage", "198.51.100.1,,", "10.3.3.3, 10.2.2.2", "198.51.100.1:4711",
		"unknown", "[198.51.100.1]", "1.2.3.4:99999", "%", ",", "",
	} {
		f.Add(s, "https")
	}
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	f.Fuzz(func(t *testing.T, xff, proto string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header["X-Forwarded-For"] = []string{xff}
		r.Header["X-Forwarded-Proto"] = []string{proto}
		checkResult(t, rv, r, netip.MustParseAddr("10.0.0.1"), xff)
		// An untrusted peer is never moved by any header.
		r.RemoteAddr = "203.0.113.7:1"
		if got := rv.Addr(r); got != netip.MustParseAddr("203.0.113.7") {
			t.Fatalf("untrusted peer resolved to %v", got)
		}
		if rv.Scheme(r) != "http" {
			t.Fatal("untrusted peer's X-Forwarded-Proto was read")
		}
	})
}

func FuzzForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60;proto=https;by=203.0.113.43", `for="[2001:db8:cafe::17]:4711"`,
		"for=6.6.6.6;proto=https, for=192.0.2.43;proto=http, for=10.1.1.1;proto=https",
		`for=192.0.2.43;ext="a,b"`, "for=unknown", "for=_hidden, for=10.1.1.1", `for="192.0.2.43`,
		"for=192.0.2.43;for=6.6.6.6", "proto=https", `for="[2001:db8::2]:_p1"`, `for=""`, `"`, ";", "=",
	} {
		f.Add(s)
	}
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	f.Fuzz(func(t *testing.T, fwd string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header["Forwarded"] = []string{fwd}
		checkResult(t, rv, r, netip.MustParseAddr("10.0.0.1"), fwd)
	})
}

func FuzzRemoteAddrAndRealIP(f *testing.F) {
	for _, s := range []string{"203.0.113.7:5555", "[fe80::1%eth0]:443", "@", "", "1.2.3.4", "[::ffff:1.2.3.4]:1"} {
		f.Add(s, "198.51.100.1")
	}
	for _, s := range []string{"192.0.2.1:40000", "192.0.2.01:1", "256.1.1.1:1", "1.2.3.4:65536", "1.2.3.4:00080", "1.2.3:4", "1.2.3.4.5:6"} {
		f.Add(s, "")
	}
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.XRealIP})
	f.Fuzz(func(t *testing.T, remote, realIP string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header["X-Real-Ip"] = []string{realIP}
		info := rv.Resolve(r)
		if info.Addr.Zone() != "" || info.Addr.Is4In6() {
			t.Fatalf("address %v not normalised", info.Addr)
		}
		var direct clientip.Resolver
		d := direct.Addr(r)
		// The direct address is exactly what net/netip makes of RemoteAddr
		// (the package parses the common IPv4 form by hand first).
		var want netip.Addr
		if ap, err := netip.ParseAddrPort(remote); err == nil {
			want = ap.Addr().Unmap().WithZone("")
		} else if a, err := netip.ParseAddr(remote); err == nil {
			want = a.Unmap().WithZone("")
		}
		if d != want {
			t.Fatalf("RemoteAddr %q resolved to %v, netip says %v", remote, d, want)
		}
		if info.Addr != d {
			// Only a trusted peer may be replaced, and only by the
			// X-Real-IP value itself.
			if !rv.Trusted(d) {
				t.Fatalf("untrusted peer %v resolved to %v", d, info.Addr)
			}
			checkResult(t, rv, r, d, realIP)
		}
	})
}
