package hostport_test

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/hostport"
)

func TestSplitAndNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, host, port string
		ok             bool
	}{
		{"example.com", "example.com", "", true},
		{"Example.COM.:8443", "example.com", "8443", true},
		{"[::1]:443", "[::1]", "443", true},
		{"[0:0::1]", "[::1]", "", true},
		{"192.0.2.1:80", "192.0.2.1", "80", true},
		{"example.com:65536", "", "", false},
		{"example.com:65535", "example.com", "65535", true},
		{"example.com:1", "example.com", "1", true},
		// Found in review: port 0 and leading zeros, which no URL has.
		{"example.com:0", "", "", false},
		{"example.com:00443", "", "", false},
		{"[::1]:0443", "", "", false},
		{"example.com:", "", "", false},
		{"example.com:8x", "", "", false},
		{"[::1", "", "", false},
		{"[::1]x443", "", "", false},
		{"[::1]443", "", "", false},
		{"[fe80::1%eth0]", "", "", false},
		{"[192.0.2.1]", "", "", false},
		{"-bad.example", "", "", false},
		{"bad-.example", "", "", false},
		{"example-", "", "", false},
		{"example.com-", "", "", false},
		{"example.com-.", "", "", false},
		{"a..b", "", "", false},
		{"0..", "", "", false},
		{"example.com..", "", "", false},
		{"ex ample.com", "", "", false},
		{"evil.com/x", "", "", false},
		{"user@evil.com", "", "", false},
		{strings.Repeat("a", 64) + ".com", "", "", false},
		{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com", "", true},
		// 253 bytes is the longest name, 254 with its trailing dot.
		{strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "a", "", true},
		{strings.Repeat("a.", 126) + "a.", strings.Repeat("a.", 126) + "a", "", true},
		{strings.Repeat("a.", 126) + "ab", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		h, port, ok := hostport.Split(tt.in)
		var host string
		if ok {
			host, ok = hostport.Normalize(h)
		}
		if ok != tt.ok || (ok && (host != tt.host || port != tt.port)) {
			t.Errorf("%q: got %q %q %v, want %q %q %v", tt.in, host, port, ok, tt.host, tt.port, tt.ok)
		}
	}
}

func TestParsePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, host, port string
		wildcard       bool
		bad            bool
	}{
		{"example.com", "example.com", "", false, false},
		{"*.Example.com:8443", ".example.com", "8443", true, false},
		{"::1", "[::1]", "", false, false},
		{"[::1]:8080", "[::1]", "8080", false, false},
		{"", "", "", false, true},
		{"*", "", "", false, true},
		{"a.*.example.com", "", "", false, true},
		{"*.[::1]", "", "", false, true},
		{"https://example.com", "", "", false, true},
		{"bücher.example", "", "", false, true},
		{"fe80::1%eth0", "", "", false, true},
		{"*.localhost", ".localhost", "", true, false},
		{"*.example.co.uk", ".example.co.uk", "", true, false},
		{"*.www.ck", ".www.ck", "", true, false},
		// Found in review: a wildcard over a public suffix matches other
		// people's hosts.
		{"*.com", "", "", false, true},
		{"*.co.uk", "", "", false, true},
		{"*.ck", "", "", false, true},
		{"*.b.ck", "", "", false, true},
		{"*.github.io", "", "", false, true},
		{"*.internal", "", "", false, true},
		// Found in review: a domain whose subdomains are all public
		// suffixes (a wildcard rule: every x.run.app is one).
		{"*.run.app", "", "", false, true},
		{"*.kawasaki.jp", "", "", false, true},
		{"*.city.kawasaki.jp", ".city.kawasaki.jp", "", true, false}, // an exception to that rule
		// A name ending in a numeric label is an IPv4 address to a
		// browser (the URL standard's "ends in a number"), and so is every
		// name under it: "*.0.1" matched "1.0.1" (1.0.0.1) and
		// "*.168.1" matched "10.168.1" (10.168.0.1).
		{"*.0.1", "", "", false, true},
		{"*.168.1", "", "", false, true},
		{"*.example.123", "", "", false, true},
		{"*.x.0x1f", "", "", false, true},
		{"*.x.0X1F", "", "", false, true},
		{"*.123.example", ".123.example", "", true, false},
		{"*.x0.example", ".x0.example", "", true, false},
		{"*.amazonaws.com", ".amazonaws.com", "", true, false},
	}
	for _, tt := range tests {
		host, port, wc, reason := hostport.ParsePattern(tt.in)
		if (reason != "") != tt.bad || (!tt.bad && (host != tt.host || port != tt.port || wc != tt.wildcard)) {
			t.Errorf("%q: got %q %q %v %q", tt.in, host, port, wc, reason)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"example.com", "[::1]:443", "Example.COM.:8443", "[0:0::1]", "a..b", "*.x.y", "example.com:0", "example.com:00443", "example.com:65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, port, ok := hostport.Split(s)
		if !ok {
			return
		}
		// A port is one a URL could carry, written as a URL writes it.
		if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port) {
			t.Fatalf("Split(%q) accepted the port %q", s, port)
		}
		n, ok := hostport.Normalize(h)
		if !ok {
			return
		}
		// Normalising is idempotent and yields lower-case ASCII.
		if again, ok := hostport.Normalize(n); !ok || again != n {
			t.Fatalf("Normalize(%q) = %q, then %q %v", h, n, again, ok)
		}
		if strings.ToLower(n) != n || strings.ContainsAny(n, "/@?# \t%") {
			t.Fatalf("unsafe normal form %q", n)
		}
	})
}

func TestSameOwner(t *testing.T) {
	for _, tt := range []struct {
		host, domain string
		want         bool
	}{
		{"a.example.com", "example.com", true},
		{"a.b.example.com", "example.com", true},
		{"s3.amazonaws.com", "amazonaws.com", true}, // a public suffix, but the owner's own name
		{"bucket.s3.amazonaws.com", "amazonaws.com", false},
		{"x.bucket.s3.amazonaws.com", "amazonaws.com", false},
		{"x.bucket.s3.amazonaws.com", "s3.amazonaws.com", true}, // not that the pattern is allowed
		{"www.city.kawasaki.jp", "city.kawasaki.jp", true},
		{"a.b.localhost", "localhost", true},
	} {
		if got := hostport.SameOwner(tt.host, tt.domain); got != tt.want {
			t.Errorf("SameOwner(%q, %q) = %v, want %v", tt.host, tt.domain, got, tt.want)
		}
	}
}

var sinkHost, sinkPort string

// TestAllocations: Split never allocates, and Normalize and NormalizeName
// only for upper-case letters or an IPv6 address not in canonical form
// (found in audit: every IPv6 address, canonical or not, cost two).
func TestAllocations(t *testing.T) {
	for _, tt := range []struct {
		in     string
		allocs float64
	}{
		{"example.com", 0},
		{"example.com.", 0},
		{"192.0.2.1", 0},
		{"[::1]", 0},
		{"[2001:db8::1]", 0},
		{"[::ffff:192.0.2.1]", 0},
		{"Example.com", 1},
		{"[0:0::1]", 1},
		{"[2001:DB8::1]", 1},
	} {
		withPort := tt.in + ":443"
		if n := testing.AllocsPerRun(100, func() { sinkHost, sinkPort, _ = hostport.Split(withPort) }); n != 0 {
			t.Errorf("Split(%q) allocates %v times", tt.in+":443", n)
		}
		if n := testing.AllocsPerRun(100, func() { sinkHost, _ = hostport.Normalize(tt.in) }); n != tt.allocs {
			t.Errorf("Normalize(%q) allocates %v times, want %v", tt.in, n, tt.allocs)
		}
		if tt.in[0] != '[' {
			if n := testing.AllocsPerRun(100, func() { sinkHost, _ = hostport.NormalizeName(tt.in) }); n != tt.allocs {
				t.Errorf("NormalizeName(%q) allocates %v times, want %v", tt.in, n, tt.allocs)
			}
		}
	}
}

// TestValidPortEveryNumber checks ValidPort against the decimal form of
// every port, 1 to 65535, for each string of up to five digits and a few
// more: exactly those are valid.
func TestValidPortEveryNumber(t *testing.T) {
	t.Parallel()
	for n := range 100000 {
		for _, s := range []string{strconv.Itoa(n), "0" + strconv.Itoa(n), "+" + strconv.Itoa(n), strconv.Itoa(n) + " "} {
			want := n >= 1 && n <= 65535 && s == strconv.Itoa(n)
			if got := hostport.ValidPort(s); got != want {
				t.Fatalf("ValidPort(%q) = %v, want %v", s, got, want)
			}
		}
	}
	for _, s := range []string{"", "100000", "065535", "-1", "1e3", "0x1f"} {
		if hostport.ValidPort(s) {
			t.Errorf("ValidPort(%q) = true", s)
		}
	}
}

// TestNormalizeNameEveryByte: a label holds letters, digits and hyphens
// only, whatever the byte, and upper-case letters are lower-cased.
func TestNormalizeNameEveryByte(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		b := byte(c)
		letter := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
		want := letter || '0' <= b && b <= '9' || b == '-' || b == '.'
		got, ok := hostport.NormalizeName("a" + string(b) + "a.example")
		if ok != want {
			t.Errorf("NormalizeName with byte %#x: ok = %v, want %v", b, ok, want)
			continue
		}
		if ok && got != strings.ToLower("a"+string(b)+"a.example") {
			t.Errorf("NormalizeName with byte %#x = %q", b, got)
		}
	}
}

// FuzzSplitAgreesWithURL checks Split and Normalize, as the allowed-host
// sets use them on a Host header, against net/url, net and net/netip:
// what they accept is a host and port net/url reads from a URL's
// authority, with the same port and, normalized, the same host.
func FuzzSplitAgreesWithURL(f *testing.F) {
	for _, s := range []string{"example.com", "Example.COM.:8443", "[::1]:443", "[0:0::1]", "[::ffff:1.2.3.4]:80", "[fe80::1%25eth0]", "a.b:65535", "[[::1]]:1", "x:0", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, port, ok := hostport.Split(s)
		if !ok {
			return
		}
		n, ok := hostport.Normalize(h)
		if !ok {
			return
		}
		u, err := url.Parse("http://" + s + "/")
		if err != nil || u.Host != s || u.Port() != port {
			t.Fatalf("Split(%q) = %q, %q, but net/url reads %+v, %v", s, h, port, u, err)
		}
		if port != "" {
			sh, sp, err := net.SplitHostPort(s)
			if err != nil || sp != port || sh != strings.Trim(h, "[]") {
				t.Fatalf("Split(%q) = %q, %q, but net.SplitHostPort gives %q, %q, %v", s, h, port, sh, sp, err)
			}
		}
		if strings.HasPrefix(n, "[") {
			a, err := netip.ParseAddr(u.Hostname())
			if err != nil || !a.Is6() || a.Zone() != "" || "["+a.String()+"]" != n {
				t.Fatalf("Normalize(%q) = %q, but net/url's host %q is %v, %v", h, n, u.Hostname(), a, err)
			}
			return
		}
		if want := strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")); n != want {
			t.Fatalf("Normalize(%q) = %q, want %q", h, n, want)
		}
	})
}
