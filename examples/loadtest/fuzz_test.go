package main

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseTarget checks the loopback guard on arbitrary input: it never
// panics, whatever it accepts is localhost or a loopback address by an
// independent parser and passes the dialer's check, and its output is
// accepted again unchanged.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:8080", "https://[::1]:8443", "http://localhost.", "http://LOCALHOST:1",
		"http://10.0.0.1", "http://0.0.0.0:80", "http://[::ffff:127.0.0.1]", "http://127.1",
		"http://2130706433", "http://127.0.0.1@evil.example", "http://[fe80::1%25lo]", "http://[::1",
		"http://127.0.0.1:8080/x", "ftp://127.0.0.1", "", "http://127.0.0.1.nip.io",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseTarget(raw)
		if err != nil {
			return
		}
		host := u.Hostname()
		// localhost is resolved at dial time, where dialLoopbackOnly
		// checks the address; anything else must be a loopback literal.
		if !strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
			ip := net.ParseIP(host)
			if ip == nil || !ip.IsLoopback() {
				t.Fatalf("parseTarget(%q) accepted host %q, which is not loopback", raw, host)
			}
			if err := dialLoopbackOnly("tcp", net.JoinHostPort(host, "80"), nil); err != nil {
				t.Fatalf("parseTarget(%q) accepted %q, which the dialer refuses", raw, host)
			}
			if a, _ := netip.ParseAddr(host); a.Is4In6() {
				t.Fatalf("parseTarget(%q) accepted an IPv4-mapped address", raw)
			}
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != "" {
			t.Fatalf("parseTarget(%q) = %q keeps more than scheme and host", raw, u)
		}
		again, err := parseTarget(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("parseTarget(%q) = %q, which parses again as %v, %v", raw, u, again, err)
		}
	})
}
