package clientip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/hostport"
)

func TestParseIPv4Port(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" when the fast path must decline
	}{
		{"192.0.2.1:40000", "192.0.2.1"},
		{"0.0.0.0:1", "0.0.0.0"},
		{"255.255.255.255:65535", "255.255.255.255"},
		{"10.20.30.40:8080", "10.20.30.40"},
		{"1.22.133.4:9", "1.22.133.4"},
		{"100.0.99.250:443", "100.0.99.250"},
		{"256.1.1.1:1", ""},
		{"1.1.1.300:1", ""},
		{"1.1.1.1000:1", ""},
		{"01.1.1.1:1", ""},
		{"1.1.1.00:1", ""},
		{"1.1.1.1:0", ""},
		{"1.1.1.1:00080", ""},
		{"1.1.1.1:65536", ""},
		{"1.1.1.1:123456", ""},
		{"1.1.1.1:", ""},
		{"1.1.1.1", ""},
		{"1.1.1:1", ""},
		{"1.1.1.1.1:1", ""},
		{"1..1.1:1", ""},
		{".1.1.1:1", ""},
		{"1.1.1.1:1a", ""},
		{"1.1.1.1:+1", ""},
		{"1.1.1.1 :1", ""},
		{"1.1.1.1:1\x00", ""},
		{"a.1.1.1:1", ""},
		{"[::1]:1", ""},
		{"255.255.255.255:655350", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := parseIPv4Port(tt.in)
		if ok != (tt.want != "") || (ok && got != netip.MustParseAddr(tt.want)) {
			t.Errorf("parseIPv4Port(%q) = %v, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// FuzzParseIPv4Port holds the hand-written fast path to its definition:
// it accepts exactly the canonical "a.b.c.d:port" spellings, and then with
// the address net/netip reads.
func FuzzParseIPv4Port(f *testing.F) {
	for _, s := range []string{"192.0.2.1:40000", "0.0.0.0:1", "255.255.255.255:65535", "1.1.1.00:1", "1.1.1.1:00080", "9.9.9.9:99999", "1.1.1.1:1\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIPv4Port(s)
		ap, err := netip.ParseAddrPort(s)
		i := strings.LastIndexByte(s, ':')
		canonical := err == nil && ap.Addr().Is4() && i > 0 &&
			ap.Addr().String() == s[:i] && hostport.ValidPort(s[i+1:])
		if ok != canonical {
			t.Fatalf("parseIPv4Port(%q) ok=%v, canonical=%v (netip: %v, %v)", s, ok, canonical, ap, err)
		}
		if ok && got != ap.Addr() {
			t.Fatalf("parseIPv4Port(%q) = %v, netip reads %v", s, got, ap.Addr())
		}
	})
}

func BenchmarkParseIPv4Port(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseIPv4Port("192.0.2.1:40000"); !ok {
			b.Fatal("declined")
		}
	}
}
