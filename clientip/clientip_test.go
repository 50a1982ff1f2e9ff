package clientip_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
)

var proxies = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("fd00::/8"),
	netip.MustParsePrefix("::ffff:192.168.0.0/112"), // IPv4-mapped: 192.168.0.0/16
}

type req struct {
	remote  string
	tls     bool
	host    string
	headers [][2]string
}

func (q req) build() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = q.remote
	if q.host != "" {
		r.Host = q.host
	}
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	for _, h := range q.headers {
		r.Header.Add(h[0], h[1])
	}
	return r
}

func hdr(kv ...string) [][2]string {
	var out [][2]string
	for i := 0; i < len(kv); i += 2 {
		out = append(out, [2]string{kv[i], kv[i+1]})
	}
	return out
}

func TestResolve(t *testing.T) {
	t.Parallel()
	direct := &clientip.Resolver{}
	xff := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	fwd := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	realIP := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.XRealIP})

	tests := []struct {
		name       string
		rv         *clientip.Resolver
		req        req
		wantAddr   string // "" means the zero Addr
		wantScheme string
	}{
		// Direct connections: forwarding headers are noise.
		{"a direct client is its RemoteAddr", direct, req{remote: "203.0.113.7:5555"}, "203.0.113.7", "http"},
		{"a nil resolver uses RemoteAddr", nil, req{remote: "203.0.113.7:5555"}, "203.0.113.7", "http"},
		{"TLS on the connection means https", direct, req{remote: "203.0.113.7:5555", tls: true}, "203.0.113.7", "https"},
		{"with no trusted proxy X-Forwarded-For is ignored", direct,
			req{remote: "203.0.113.7:5555", headers: hdr("X-Forwarded-For", "1.2.3.4")}, "203.0.113.7", "http"},
		{"with no trusted proxy X-Forwarded-Proto is ignored", direct,
			req{remote: "203.0.113.7:5555", headers: hdr("X-Forwarded-Proto", "https")}, "203.0.113.7", "http"},
		{"with no trusted proxy X-Forwarded-Proto cannot downgrade", direct,
			req{remote: "203.0.113.7:5555", tls: true, headers: hdr("X-Forwarded-Proto", "http")}, "203.0.113.7", "https"},
		// gin-gonic/gin CVE-2020-28483 (gin#2473): ClientIP
		// trusted X-Forwarded-For from every peer by default; and echo's
		// ExtractIPFromXFFHeader trusts loopback, link-local and private
		// peers unless told otherwise. No peer is trusted here unless it
		// is listed: not the loopback, not a private range.
		{"regression gin CVE-2020-28483: with no trusted proxy a loopback peer's X-Forwarded-For is ignored", direct,
			req{remote: "127.0.0.1:5555", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "127.0.0.1", "http"},
		{"regression gin CVE-2020-28483: with no trusted proxy a private peer's X-Forwarded-For and X-Forwarded-Proto are ignored", direct,
			req{remote: "10.0.0.1:5555", headers: hdr("X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https")}, "10.0.0.1", "http"},
		{"regression gin CVE-2020-28483: an IPv6 loopback peer is not trusted either", direct,
			req{remote: "[::1]:5555", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "::1", "http"},
		{"regression gin CVE-2020-28483: a loopback peer is not trusted when other proxies are listed", xff,
			req{remote: "127.0.0.1:5555", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "127.0.0.1", "http"},
		{"regression gin CVE-2020-28483: a link-local peer is not trusted when other proxies are listed", xff,
			req{remote: "[fe80::1]:5555", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "fe80::1", "http"},
		{"regression gin CVE-2020-28483: an unlisted private IPv4 peer is not trusted when other proxies are listed", xff,
			req{remote: "172.16.0.1:5555", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "172.16.0.1", "http"},
		{"an IPv6 RemoteAddr loses its zone", direct, req{remote: "[fe80::1%eth0]:443"}, "fe80::1", "http"},
		{"an IPv4-mapped RemoteAddr is unmapped", direct, req{remote: "[::ffff:203.0.113.9]:80"}, "203.0.113.9", "http"},
		{"a RemoteAddr without port is accepted", direct, req{remote: "203.0.113.7"}, "203.0.113.7", "http"},
		{"a RemoteAddr that is not an address gives the zero Addr", direct, req{remote: "@"}, "", "http"},

		// Spoofing: an untrusted peer's headers change nothing.
		{"an untrusted peer sending X-Forwarded-For is ignored", xff,
			req{remote: "203.0.113.7:1", headers: hdr("X-Forwarded-For", "1.2.3.4")}, "203.0.113.7", "http"},
		{"an untrusted peer sending Forwarded is ignored", fwd,
			req{remote: "203.0.113.7:1", headers: hdr("Forwarded", "for=1.2.3.4;proto=https")}, "203.0.113.7", "http"},
		{"an untrusted peer sending X-Forwarded-Proto is ignored", xff,
			req{remote: "203.0.113.7:1", headers: hdr("X-Forwarded-Proto", "https")}, "203.0.113.7", "http"},
		{"an untrusted peer sending X-Real-IP is ignored", realIP,
			req{remote: "203.0.113.7:1", headers: hdr("X-Real-IP", "1.2.3.4")}, "203.0.113.7", "http"},
		{"a trusted proxy's other header is not read (Forwarded when X-Forwarded-For is configured)", xff,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=1.2.3.4")}, "10.0.0.1", "http"},
		{"a trusted proxy's other header is not read (X-Forwarded-For when Forwarded is configured)", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "1.2.3.4")}, "10.0.0.1", "http"},

		// X-Forwarded-For from trusted proxies.
		{"one trusted proxy: the client is the rightmost entry", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "198.51.100.1", "http"},
		{"entries left of the first untrusted one are the client's own and ignored", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "6.6.6.6, 198.51.100.1")}, "198.51.100.1", "http"},
		{"several trusted hops resolve to the first untrusted one", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "6.6.6.6, 198.51.100.1, 10.1.1.1, 10.2.2.2")}, "198.51.100.1", "http"},
		{"a spoofed trusted-looking entry left of the client changes nothing", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "10.9.9.9, 198.51.100.1, 10.1.1.1")}, "198.51.100.1", "http"},
		{"all entries trusted: the leftmost is the client", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "10.3.3.3, 10.2.2.2")}, "10.3.3.3", "http"},
		{"several header lines are one list", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "198.51.100.1, 10.1.1.1")}, "198.51.100.1", "http"},
		{"an empty header line adds nothing", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1", "X-Forwarded-For", "")}, "198.51.100.1", "http"},
		{"IPv4 with a port", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1:4711")}, "198.51.100.1", "http"},
		{"IPv6 without brackets", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "2001:db8::1")}, "2001:db8::1", "http"},
		{"IPv6 with brackets and port", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "[2001:db8::1]:443")}, "2001:db8::1", "http"},
		{"IPv6 with brackets, no port", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "[2001:db8::1]")}, "2001:db8::1", "http"},
		{"IPv6 with a zone loses it", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "fe80::1%eth0")}, "fe80::1", "http"},
		{"an IPv4-mapped entry is unmapped", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "::ffff:198.51.100.1")}, "198.51.100.1", "http"},
		{"an IPv4-mapped trusted proxy prefix matches IPv4 peers", xff,
			req{remote: "192.168.1.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "198.51.100.1", "http"},
		{"an IPv6 trusted proxy", xff,
			req{remote: "[fd00::5]:1", headers: hdr("X-Forwarded-For", "198.51.100.1")}, "198.51.100.1", "http"},
		{"tabs and spaces around entries are trimmed", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "\t198.51.100.1 ,  10.1.1.1\t")}, "198.51.100.1", "http"},
		{"no X-Forwarded-For from a trusted proxy: the proxy is the client", xff,
			req{remote: "10.0.0.1:1"}, "10.0.0.1", "http"},

		// Garbage never becomes an address.
		{"garbage from a trusted proxy falls back to that proxy", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "not-an-ip")}, "10.0.0.1", "http"},
		{"garbage after trusted hops falls back to the last trusted hop", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, garbage, 10.7.7.7")}, "10.7.7.7", "http"},
		{"an empty item is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1,,")}, "10.0.0.1", "http"},
		{"unknown is not an address", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "unknown")}, "10.0.0.1", "http"},
		{"a host name is not an address", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "evil.example")}, "10.0.0.1", "http"},
		{"an IPv6 address with an unbracketed port is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "2001:db8::1:443:")}, "10.0.0.1", "http"},
		{"a port out of syntax is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1:x")}, "10.0.0.1", "http"},
		{"a bracketed IPv4 is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "[198.51.100.1]")}, "10.0.0.1", "http"},
		{"an address with leading zeros is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "010.001.1.1")}, "10.0.0.1", "http"},
		// Only the four-part decimal form is IPv4: the forms inet_aton
		// also reads would let one address be spelled many ways.
		{"a hexadecimal IPv4 address is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "0x7f.0.0.1")}, "10.0.0.1", "http"},
		{"an IPv4 address written as one number is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "2130706433")}, "10.0.0.1", "http"},
		{"a shortened IPv4 address is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "127.1")}, "10.0.0.1", "http"},
		{"an IPv4-mapped trusted hop is skipped as the IPv4 proxy", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, [::ffff:10.1.1.1]:80")}, "198.51.100.1", "http"},
		{"Forwarded: an IPv4-mapped trusted hop is skipped as the IPv4 proxy", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for=198.51.100.1, for="[::ffff:10.1.1.1]"`)}, "198.51.100.1", "http"},
		// A NAT64 address (RFC 6052) is the IPv6 host that sent it, not
		// the IPv4 address it embeds, which may be a trusted proxy's.
		{"a NAT64 address embedding a trusted proxy's is not trusted", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, 64:ff9b::10.1.1.1")}, "64:ff9b::a01:101", "http"},
		// Items are bounded at 64 bytes, more than any address a proxy
		// writes (45 for the longest IPv6 text, 53 with brackets and a
		// port), so that an item of any size is never handed to the
		// address parser. Only a zone or an obfuscated port could make an
		// address longer, and neither is that long in practice.
		{"an item of 64 bytes is read: an address with a zone of 56", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "fe80::1%"+strings.Repeat("z", 56))}, "fe80::1", "http"},
		{"an item over 64 bytes is garbage, even an address with a long zone", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "fe80::1%"+strings.Repeat("z", 57))}, "10.0.0.1", "http"},
		{"an item over 64 bytes after trusted hops falls back to the last trusted hop", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, [2001:db8::1%"+strings.Repeat("z", 60)+"]:443, 10.7.7.7")}, "10.7.7.7", "http"},

		// X-Forwarded-Proto from trusted proxies.
		{"a trusted proxy's X-Forwarded-Proto https", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https")}, "198.51.100.1", "https"},
		{"X-Forwarded-Proto is case-insensitive", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-Proto", "HTTPS")}, "10.0.0.1", "https"},
		{"a trusted proxy's X-Forwarded-Proto http over TLS means the client used http", xff,
			req{remote: "10.0.0.1:1", tls: true, headers: hdr("X-Forwarded-Proto", "http")}, "10.0.0.1", "http"},
		{"an unknown X-Forwarded-Proto falls back to the connection", xff,
			req{remote: "10.0.0.1:1", tls: true, headers: hdr("X-Forwarded-Proto", "gopher")}, "10.0.0.1", "https"},
		{"appended X-Forwarded-Proto: the value of the hop that saw the client", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, 10.1.1.1", "X-Forwarded-Proto", "https, http")}, "198.51.100.1", "https"},
		{"a client-sent X-Forwarded-Proto left of the proxies' values is ignored", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https, http")}, "198.51.100.1", "http"},
		{"an overwriting proxy chain: the single value counts", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, 10.1.1.1", "X-Forwarded-Proto", "https")}, "198.51.100.1", "https"},
		{"fewer X-Forwarded-Proto values than hops: the nearest proxy's, the last, counts", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1, 10.1.1.1, 10.2.2.2", "X-Forwarded-Proto", "https, http")}, "198.51.100.1", "http"},
		// Ports: 1 to 5 digits, or "_" and at least one of ALPHA / DIGIT
		// / "." / "_" / "-" (RFC 7239 §6.3).
		{"an address with an empty port is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1:")}, "10.0.0.1", "http"},
		{"an address with a port of 6 digits is garbage", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1:123456")}, "10.0.0.1", "http"},
		{"Forwarded: an empty obfuscated port is not a port", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8::2]:_"`)}, "10.0.0.1", "http"},
		{"Forwarded: an obfuscated port may hold a hyphen", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8::2]:_a-b"`)}, "2001:db8::2", "http"},

		// Forwarded (RFC 7239).
		{"Forwarded: the RFC's example", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43")}, "192.0.2.60", "https"},
		{"Forwarded: quoted IPv6 with port", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8:cafe::17]:4711"`)}, "2001:db8:cafe::17", "http"},
		{"Forwarded: quoted IPv4", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="192.0.2.43"`)}, "192.0.2.43", "http"},
		{"Forwarded: parameter names are case-insensitive", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "For=192.0.2.43;PROTO=https")}, "192.0.2.43", "https"},
		{"Forwarded: several elements walked from the right", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=6.6.6.6;proto=https, for=192.0.2.43;proto=http, for=10.1.1.1;proto=https")}, "192.0.2.43", "http"},
		{"Forwarded: several lines are one list", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=6.6.6.6", "Forwarded", "for=192.0.2.43, for=10.1.1.1")}, "192.0.2.43", "http"},
		{"Forwarded: a comma inside a quoted value does not split", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for=192.0.2.43;ext="a,b"`)}, "192.0.2.43", "http"},
		{"Forwarded: unknown hides the client behind the proxy", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=unknown;proto=https")}, "10.0.0.1", "https"},
		{"Forwarded: an obfuscated identifier is not an address", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=_hidden, for=10.1.1.1")}, "10.1.1.1", "http"},
		// Found in review: the hidden client's scheme ignored the element
		// that named the proxy standing for it.
		{"Forwarded: a hidden client without proto takes the proxy's element's", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=_hid, for=10.1.1.1;proto=https")}, "10.1.1.1", "https"},
		{"Forwarded: a hidden client's own proto wins", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=_hid;proto=http, for=10.1.1.1;proto=https")}, "10.1.1.1", "http"},
		{"Forwarded: an obfuscated port is accepted", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8::2]:_p1"`)}, "2001:db8::2", "http"},
		// RFC 7239 §6: node-port = port / obfport, after an IPv4 address
		// as after a bracketed IPv6 one. Found in review: the "_" of the
		// port made an IPv4 node garbage, so every client of a proxy that
		// obfuscates ports was seen as the proxy.
		{"Forwarded: an IPv4 node with an obfuscated port is read", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="198.51.100.1:_p1";proto=https`)}, "198.51.100.1", "https"},
		{"an IPv4 address with an obfuscated port is read", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1:_p1")}, "198.51.100.1", "http"},
		{"Forwarded: an IPv4 node with an empty obfuscated port is not an address", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="198.51.100.1:_"`)}, "10.0.0.1", "http"},
		{"Forwarded: an IPv4 node with an obfuscated port out of syntax is not an address", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="198.51.100.1:_a%b"`)}, "10.0.0.1", "http"},
		{"Forwarded: a node over 64 bytes is not an address, even with an obfuscated port", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8::2]:_`+strings.Repeat("p", 50)+`"`)}, "10.0.0.1", "http"},
		{"Forwarded: a repeated parameter makes the element garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=192.0.2.43;for=6.6.6.6")}, "10.0.0.1", "http"},
		// RFC 7239 makes every parameter optional, and a proxy may be
		// set to disclose the scheme alone (HAProxy's "option forwarded
		// proto"). Found in review: such an element was garbage, so every
		// https client was seen on http and the HTTPS redirect looped. It
		// hides the client as "for=unknown" does.
		{"Forwarded: an element without for hides the client, and its proto is the client's", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "proto=https")}, "10.0.0.1", "https"},
		{"Forwarded: an element without for after a trusted hop stands for that hop", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "proto=https;host=example.com, for=10.1.1.1;proto=http")}, "10.1.1.1", "https"},
		{"Forwarded: an element without for and proto takes the proto of the element that named the proxy", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "by=_edge, for=10.1.1.1;proto=https")}, "10.1.1.1", "https"},
		{"Forwarded: a malformed element without for is still garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "proto=https;proto=https")}, "10.0.0.1", "http"},
		{"Forwarded: an unterminated quote is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="192.0.2.43`)}, "10.0.0.1", "http"},
		{"Forwarded: a client's garbage left of the proxy's element is never reached", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="6.6.6.6, for=192.0.2.43`)}, "192.0.2.43", "http"},
		{"Forwarded: a bad proto falls back to the connection", fwd,
			req{remote: "10.0.0.1:1", tls: true, headers: hdr("Forwarded", "for=192.0.2.43;proto=ftp")}, "192.0.2.43", "https"},
		{"Forwarded: a trailing semicolon is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=192.0.2.43;")}, "10.0.0.1", "http"},
		{"Forwarded: an empty line adds nothing", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=192.0.2.43", "Forwarded", " ")}, "192.0.2.43", "http"},
		{"Forwarded: a parameter name that is not a token makes the element garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=192.0.2.43;b@d=1")}, "10.0.0.1", "http"},
		{"Forwarded: a lone quote is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="`)}, "10.0.0.1", "http"},
		// Garbage, not a hidden node: the element's proto is not used.
		{"Forwarded: a quoted value with a backslash is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="a\b";proto=https`)}, "10.0.0.1", "http"},
		{"Forwarded: a quoted value with a control character is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=\"a\tb\";proto=https")}, "10.0.0.1", "http"},
		{"Forwarded: a quoted value with DEL is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=\"a\x7fb\";proto=https")}, "10.0.0.1", "http"},
		{"Forwarded: an unquoted value that is not a token is garbage", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=a/b;proto=https")}, "10.0.0.1", "http"},
		// RFC 7239 wants it quoted; some proxies do not quote it.
		{"Forwarded: an unquoted IPv6 node in brackets is read", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=[2001:db8::1]")}, "2001:db8::1", "http"},

		// X-Real-IP.
		{"X-Real-IP from a trusted proxy", realIP,
			req{remote: "10.0.0.1:1", headers: hdr("X-Real-IP", "198.51.100.1", "X-Forwarded-Proto", "https")}, "198.51.100.1", "https"},
		{"X-Real-IP garbage falls back to the proxy", realIP,
			req{remote: "10.0.0.1:1", headers: hdr("X-Real-IP", "198.51.100.1, 6.6.6.6")}, "10.0.0.1", "http"},
		{"X-Real-IP over 64 bytes falls back to the proxy", realIP,
			req{remote: "10.0.0.1:1", headers: hdr("X-Real-IP", "fe80::1%"+strings.Repeat("z", 57))}, "10.0.0.1", "http"},
		{"X-Real-IP: the scheme is the last X-Forwarded-Proto value, the proxy's", realIP,
			req{remote: "10.0.0.1:1", headers: hdr("X-Real-IP", "198.51.100.1", "X-Forwarded-Proto", "https, http")}, "198.51.100.1", "http"},
		{"two X-Real-IP lines are ambiguous and ignored", realIP,
			req{remote: "10.0.0.1:1", headers: hdr("X-Real-IP", "198.51.100.1", "X-Real-IP", "6.6.6.6")}, "10.0.0.1", "http"},
		// gofiber/fiber CVE-2026-45045 (GHSA-gcfq-8gqf-4876): the proxy
		// added its X-Real-IP after the client's instead of replacing it,
		// and the backend believed the first line, the client's.
		{"CVE-2026-45045: a client's X-Real-IP before the one its proxy added is not believed", realIP,
			req{remote: "10.0.0.1:1", headers: hdr("X-Real-IP", "127.0.0.1", "X-Real-IP", "198.51.100.1")}, "10.0.0.1", "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req.build()
			info := tt.rv.Resolve(r)
			var want netip.Addr
			if tt.wantAddr != "" {
				want = netip.MustParseAddr(tt.wantAddr)
			}
			if info.Addr != want {
				t.Errorf("Addr = %v, want %v", info.Addr, want)
			}
			if info.Scheme != tt.wantScheme {
				t.Errorf("Scheme = %q, want %q", info.Scheme, tt.wantScheme)
			}
			if got := tt.rv.Addr(r); got != info.Addr {
				t.Errorf("Addr(r) = %v, Resolve(r).Addr = %v", got, info.Addr)
			}
			if got := tt.rv.IsHTTPS(r); got != (tt.wantScheme == "https") {
				t.Errorf("IsHTTPS = %v", got)
			}
		})
	}
}

// Regression for gofiber/fiber CVE-2023-41338 (GHSA-3q5p-3558-364f):
// Ctx.IsFromLocal believed X-Forwarded-For, so a remote client that sent
// "X-Forwarded-For: 127.0.0.1" passed a check meant for requests from the
// machine itself. The resolved address is a loopback address only when the
// connection comes from one, or a trusted proxy saw one.
func TestRegressionFiberCVE202341338ForwardedLoopbackIsNotLocal(t *testing.T) {
	t.Parallel()
	direct := &clientip.Resolver{}
	// A proxy on the same machine is the usual reason to trust loopback.
	local := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	}})
	localRealIP := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	}, Header: clientip.XRealIP})
	tests := []struct {
		name      string
		rv        *clientip.Resolver
		req       req
		wantLocal bool
	}{
		{"no trusted proxy: a remote peer's X-Forwarded-For: 127.0.0.1 is ignored", direct,
			req{remote: "203.0.113.7:1", headers: hdr("X-Forwarded-For", "127.0.0.1")}, false},
		{"no trusted proxy: X-Forwarded-For: ::1 is ignored", direct,
			req{remote: "[2001:db8::7]:1", headers: hdr("X-Forwarded-For", "::1")}, false},
		{"no trusted proxy: X-Real-IP and Forwarded are ignored", direct,
			req{remote: "203.0.113.7:1", headers: hdr("X-Real-IP", "127.0.0.1", "Forwarded", "for=127.0.0.1")}, false},
		{"loopback trusted: a remote peer cannot claim loopback", local,
			req{remote: "203.0.113.7:1", headers: hdr("X-Forwarded-For", "127.0.0.1")}, false},
		{"loopback trusted: an IPv4-mapped loopback claim is no better", local,
			req{remote: "203.0.113.7:1", headers: hdr("X-Forwarded-For", "::ffff:127.0.0.1")}, false},
		{"loopback trusted: through the local proxy, the client's own 127.0.0.1 entry is left of what the proxy saw", local,
			req{remote: "127.0.0.1:1", headers: hdr("X-Forwarded-For", "127.0.0.1, 203.0.113.7")}, false},
		{"loopback trusted: a remote peer's X-Real-IP: 127.0.0.1 is ignored", localRealIP,
			req{remote: "203.0.113.7:1", headers: hdr("X-Real-IP", "127.0.0.1")}, false},
		{"a connection from the machine itself is local", direct, req{remote: "127.0.0.1:5555"}, true},
		{"through the local proxy, a request the proxy made itself is local", local,
			req{remote: "127.0.0.1:1", headers: hdr("X-Forwarded-For", "127.0.0.1")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rv.Addr(tt.req.build()); got.IsLoopback() != tt.wantLocal {
				t.Errorf("Addr = %v, loopback %v; want loopback %v", got, got.IsLoopback(), tt.wantLocal)
			}
		})
	}
}

// go-chi/chi GHSA-3fxj-6jh8-hvhx, GHSA-rjr7-jggh-pgcp and
// GHSA-9g5q-2w5x-hmxf: middleware.RealIP set RemoteAddr from
// True-Client-IP, else X-Real-IP, else the leftmost X-Forwarded-For
// entry, whoever sent them. Behind a proxy that sets only the header the
// resolver is configured for, the client's own copies of the others pass
// through the proxy untouched; none of them may choose the address, and
// RemoteAddr is left as the connection set it.
func TestRegressionChiRealIPClientHeadersThroughATrustedProxy(t *testing.T) {
	t.Parallel()
	const client, spoof = "198.51.100.1", "203.0.113.66"
	spoofed := []string{"True-Client-IP", "CF-Connecting-IP", "X-Client-IP", "Fastly-Client-IP", "X-Cluster-Client-IP", "X-Original-Forwarded-For"}
	tests := []struct {
		name   string
		header clientip.Header
		set    [][2]string // what the trusted proxy sets
		also   []string    // configured-for-another-mode headers the client adds too
	}{
		{"X-Forwarded-For", clientip.XForwardedFor, hdr("X-Forwarded-For", client), []string{"X-Real-IP", "Forwarded"}},
		{"Forwarded", clientip.Forwarded, hdr("Forwarded", "for="+client), []string{"X-Real-IP", "X-Forwarded-For"}},
		{"X-Real-IP", clientip.XRealIP, hdr("X-Real-IP", client), []string{"X-Forwarded-For", "Forwarded"}},
	}
	for _, tt := range tests {
		rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: tt.header})
		for _, h := range append(spoofed, tt.also...) {
			t.Run(tt.name+" configured, the client sends "+h, func(t *testing.T) {
				v := spoof
				if h == "Forwarded" {
					v = "for=" + spoof
				}
				// The client's header first, as it reached the proxy; then
				// what the proxy set.
				q := req{remote: "10.0.0.1:4711", headers: append(hdr(h, v), tt.set...)}
				var got clientip.Info
				var remote string
				rv.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got, _ = clientip.FromContext(r.Context())
					remote = r.RemoteAddr
				})).ServeHTTP(httptest.NewRecorder(), q.build())
				if got.Addr != netip.MustParseAddr(client) {
					t.Errorf("address %v, want %s, the one the proxy set", got.Addr, client)
				}
				if remote != "10.0.0.1:4711" {
					t.Errorf("RemoteAddr became %q", remote)
				}
			})
		}
	}
}

func TestWalkIsBounded(t *testing.T) {
	t.Parallel()
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	// 10 000 trusted-looking entries: the walk stops after 32 hops and
	// reports a trusted hop, never an entry further left.
	entries := make([]string, 10000)
	for i := range entries {
		entries[i] = "10.0.0.2"
	}
	entries[0] = "6.6.6.6"
	r := req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", strings.Join(entries, ","))}.build()
	if got := rv.Addr(r); got != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("Addr = %v, want the last trusted hop 10.0.0.2", got)
	}
}

// The walk stops at the 32nd hop exactly: the 33rd is never read, for
// either header.
func TestWalkStopsAtThe32ndHop(t *testing.T) {
	t.Parallel()
	for _, h := range []clientip.Header{clientip.XForwardedFor, clientip.Forwarded} {
		rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: h})
		// Right to left: 10.0.0.1 is hop 1, 10.0.0.33 hop 33.
		entries := []string{"6.6.6.6"}
		for i := 33; i >= 1; i-- {
			entries = append(entries, "10.0.0."+strconv.Itoa(i))
		}
		if h == clientip.Forwarded {
			for i := range entries {
				entries[i] = "for=" + entries[i]
			}
		}
		r := req{remote: "10.0.0.100:1", headers: hdr(h.String(), strings.Join(entries, ", "))}.build()
		if got := rv.Addr(r); got != netip.MustParseAddr("10.0.0.32") {
			t.Errorf("%v: Addr = %v, want the 32nd hop 10.0.0.32", h, got)
		}
	}
}

// Trusted takes an address in any of its spellings: IPv4-mapped, or with
// a zone, as a caller outside the package may hold it.
func TestTrustedNormalisesTheAddress(t *testing.T) {
	t.Parallel()
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	for _, a := range []string{"::ffff:10.0.0.1", "fd00::1%eth0", "10.0.0.1", "::ffff:192.168.1.1"} {
		if !rv.Trusted(netip.MustParseAddr(a)) {
			t.Errorf("Trusted(%s) = false, want true", a)
		}
	}
}

func TestHostAndOrigin(t *testing.T) {
	t.Parallel()
	public := clientip.MustNew(clientip.Options{PublicOrigin: "HTTPS://API.Example.com:443/"})
	behind := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	tests := []struct {
		name       string
		rv         *clientip.Resolver
		req        req
		wantHost   string
		wantOrigin string
	}{
		{"no public origin: the request Host", nil, req{remote: "1.2.3.4:1", host: "Example.COM"}, "Example.COM", "http://example.com"},
		{"TLS: https origin without the default port", nil, req{remote: "1.2.3.4:1", tls: true, host: "example.com:443"}, "example.com:443", "https://example.com"},
		{"a non-default port is kept", nil, req{remote: "1.2.3.4:1", host: "example.com:8080"}, "example.com:8080", "http://example.com:8080"},
		{"http default port removed", nil, req{remote: "1.2.3.4:1", host: "example.com:80"}, "example.com:80", "http://example.com"},
		{"over http :443 is not the default port", nil, req{remote: "1.2.3.4:1", host: "example.com:443"}, "example.com:443", "http://example.com:443"},
		{"a public origin overrides a rewritten Host", public, req{remote: "1.2.3.4:1", host: "internal:8080"}, "api.example.com", "https://api.example.com"},
		{"behind a trusted proxy the scheme comes from it", behind,
			req{remote: "10.0.0.1:1", host: "example.com", headers: hdr("X-Forwarded-Proto", "https")}, "example.com", "https://example.com"},
		{"X-Forwarded-Host is never read", behind,
			req{remote: "10.0.0.1:1", host: "example.com", headers: hdr("X-Forwarded-Host", "evil.example")}, "example.com", "http://example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req.build()
			if got := tt.rv.Host(r); got != tt.wantHost {
				t.Errorf("Host = %q, want %q", got, tt.wantHost)
			}
			if got := tt.rv.Origin(r); got != tt.wantOrigin {
				t.Errorf("Origin = %q, want %q", got, tt.wantOrigin)
			}
		})
	}
	if o, ok := public.PublicOrigin(); !ok || o != "https://api.example.com" {
		t.Errorf("PublicOrigin = %q, %v", o, ok)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts clientip.Options
		want error
	}{
		{"an invalid prefix", clientip.Options{TrustedProxies: []netip.Prefix{{}}}, clientip.ErrTrustedProxy},
		// Found in review of the example server: 0.0.0.0/0 made every
		// client a proxy, free to choose its own address.
		{"every IPv4 address", clientip.Options{TrustedProxies: prefixes("0.0.0.0/0")}, clientip.ErrTrustedProxy},
		{"every IPv6 address", clientip.Options{TrustedProxies: prefixes("::/0")}, clientip.ErrTrustedProxy},
		{"half the IPv4 internet", clientip.Options{TrustedProxies: prefixes("128.0.0.0/1")}, clientip.ErrTrustedProxy},
		{"every IPv4 address, mapped", clientip.Options{TrustedProxies: prefixes("::ffff:0.0.0.0/96")}, clientip.ErrTrustedProxy},
		{"a /16 of IPv6", clientip.Options{TrustedProxies: prefixes("2001::/16")}, clientip.ErrTrustedProxy},
		{"an IPv4 /7", clientip.Options{TrustedProxies: prefixes("12.0.0.0/7")}, clientip.ErrTrustedProxy},
		{"an IPv6 /23", clientip.Options{TrustedProxies: prefixes("2001:d00::/23")}, clientip.ErrTrustedProxy},
		{"an IPv6 /6 that starts with the unique local addresses", clientip.Options{TrustedProxies: prefixes("fc00::/6")}, clientip.ErrTrustedProxy},
		{"a public origin that is a pattern", clientip.Options{PublicOrigin: "https://*.example.com"}, clientip.ErrPublicOrigin},
		{"an unknown header", clientip.Options{Header: clientip.Header(42)}, clientip.ErrHeader},
		{"a public origin with a path", clientip.Options{PublicOrigin: "https://example.com/app"}, clientip.ErrPublicOrigin},
		{"a public origin with userinfo", clientip.Options{PublicOrigin: "https://user@example.com"}, clientip.ErrPublicOrigin},
		{"a public origin with a query", clientip.Options{PublicOrigin: "https://example.com?x"}, clientip.ErrPublicOrigin},
		{"a public origin with another scheme", clientip.Options{PublicOrigin: "ftp://example.com"}, clientip.ErrPublicOrigin},
		{"a public origin without host", clientip.Options{PublicOrigin: "https://"}, clientip.ErrPublicOrigin},
		{"a public origin with an empty port", clientip.Options{PublicOrigin: "https://example.com:"}, clientip.ErrPublicOrigin},
		{"a bare host is not an origin", clientip.Options{PublicOrigin: "example.com"}, clientip.ErrPublicOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clientip.New(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every problem is reported", func(t *testing.T) {
		_, err := clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{{}}, Header: 9, PublicOrigin: "x"})
		for _, want := range []error{clientip.ErrTrustedProxy, clientip.ErrHeader, clientip.ErrPublicOrigin} {
			if !errors.Is(err, want) {
				t.Errorf("error %v does not report %v", err, want)
			}
		}
	})
}

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestBroadTrustedNetworks(t *testing.T) {
	t.Parallel()
	// 2600:9000::/28 and 2a06:98c0::/29 are CloudFront's and Cloudflare's
	// widest published edge networks, refused when the IPv6 bound was /32.
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "203.0.113.0/24", "2001:db8::/32",
		"2600:9000::/28", "2a06:98c0::/29", "2001:d00::/24", "fc00::/7", "fd00::/8", "fe80::/10"} {
		if _, err := clientip.New(clientip.Options{TrustedProxies: prefixes(p)}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	rv, err := clientip.New(clientip.Options{TrustedProxies: prefixes("0.0.0.0/0"), DangerouslyTrustBroadNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "198.51.100.7:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := rv.Addr(r); got != netip.MustParseAddr("203.0.113.9") {
		t.Errorf("with DangerouslyTrustBroadNetworks every peer is a proxy: got %v", got)
	}
}

func TestHandlerStoresInfo(t *testing.T) {
	t.Parallel()
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	var got clientip.Info
	var ok bool
	h := rv.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = clientip.FromContext(r.Context())
		if r.RemoteAddr != "10.0.0.1:1" {
			t.Errorf("RemoteAddr was modified: %q", r.RemoteAddr)
		}
	}))
	r := req{remote: "10.0.0.1:1", host: "example.com", headers: hdr("X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https")}.build()
	h.ServeHTTP(httptest.NewRecorder(), r)
	want := clientip.Info{Addr: netip.MustParseAddr("198.51.100.1"), Scheme: "https", Host: "example.com"}
	if !ok || got != want {
		t.Errorf("FromContext = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := clientip.FromContext(httptest.NewRequest("GET", "/", nil).Context()); ok {
		t.Error("FromContext reported Info on a bare context")
	}
}

// TestHandlerContext: the context Handler passes on still carries the
// request's values and cancellation, and costs the request one allocation
// besides its copy.
func TestHandlerContext(t *testing.T) {
	type key struct{}
	rv := clientip.MustNew(clientip.Options{})
	var seen bool
	h := rv.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info, ok := clientip.FromContext(ctx)
		seen = ok && info.Addr == netip.MustParseAddr("192.0.2.7") && ctx.Value(key{}) == "outer"
		cancelOuter, ok := ctx.Value(cancelKey{}).(context.CancelFunc)
		if !ok {
			return // the allocation run below
		}
		inner, cancel := context.WithCancel(ctx)
		defer cancel()
		cancelOuter()
		select {
		case <-inner.Done():
		case <-time.After(5 * time.Second):
			t.Error("cancelling the request did not reach a context derived from Handler's")
		}
	}))
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "outer"))
	r := httptest.NewRequestWithContext(context.WithValue(ctx, cancelKey{}, cancel), "GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:1234"
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !seen {
		t.Fatal("FromContext or the request's own value missing in Handler's context")
	}

	quiet := httptest.NewRequest("GET", "/", nil)
	quiet.RemoteAddr = "192.0.2.7:1234"
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, quiet) }); n > 2 {
		t.Errorf("Handler allocates %v times a request, want 2 (the request's copy and its context)", n)
	}
}

// cancelKey holds the function that cancels the request's context.
type cancelKey struct{}

func TestEndToEndServer(t *testing.T) {
	t.Parallel()
	// The server is reached over loopback, so trust 127.0.0.0/8 as the proxy.
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	srv := httptest.NewServer(rv.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := clientip.FromContext(r.Context())
		w.Write([]byte(info.Addr.String() + " " + info.Scheme))
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.9")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := string(body); got != "198.51.100.9 https" {
		t.Errorf("body = %q", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	rv := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				r := req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=192.0.2.43;proto=https")}.build()
				if got := rv.Resolve(r); got.Addr != netip.MustParseAddr("192.0.2.43") || got.Scheme != "https" {
					t.Errorf("Resolve = %+v", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestLongItemsCostNothing: an X-Forwarded-For item of any length is
// turned down by its length, before the address parser sees it. Parsed,
// an address with a zone has the zone interned (netip keeps each distinct
// zone in a process-wide table), so a client behind a trusted proxy that
// sends a new megabyte-sized zone with every request would cost a
// megabyte-sized copy each time.
func TestLongItemsCostNothing(t *testing.T) {
	xff := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	const n = 50
	reqs := make([]*http.Request, n+1)
	for i := range reqs {
		zone := strings.Repeat(string(rune('a'+i%26)), 1000+i)
		reqs[i] = req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "fe80::1%"+zone+", 10.1.1.1")}.build()
	}
	i := 0 // AllocsPerRun calls once more than n, to warm up
	allocs := testing.AllocsPerRun(n, func() {
		_ = xff.Resolve(reqs[i])
		i++
	})
	if allocs != 0 {
		t.Errorf("Resolve allocates %v times per over-long item, want 0", allocs)
	}
}

func TestResolveAllocatesNothing(t *testing.T) {
	xff := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	fwd := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	cases := map[string]struct {
		rv *clientip.Resolver
		r  *http.Request
	}{
		"direct":       {nil, req{remote: "203.0.113.7:5555"}.build()},
		"xff":          {xff, req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "6.6.6.6, 198.51.100.1, 10.1.1.1", "X-Forwarded-Proto", "https")}.build()},
		"forwarded":    {fwd, req{remote: "10.0.0.1:1", headers: hdr("Forwarded", `for="[2001:db8::1]:80";proto=https, for=10.1.1.1`)}.build()},
		"garbage":      {xff, req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "garbage")}.build()},
		"a zone alone": {xff, req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "%eth0")}.build()},
	}
	for name, c := range cases {
		if n := testing.AllocsPerRun(100, func() { _ = c.rv.Resolve(c.r) }); n != 0 {
			t.Errorf("%s: Resolve allocates %v times, want 0", name, n)
		}
	}
}
