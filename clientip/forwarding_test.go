package clientip_test

import (
	"errors"
	"testing"

	"github.com/httpguard/httpguard/clientip"
)

// The same chain described with X-Forwarded-For and with Forwarded gives
// the same scheme. Client --https--> E (10.1.1.1, hides the client as
// "unknown") --http--> I (10.0.0.1, the peer) --> app, every proxy
// appending its hop's proto. The client used https. Found in review: the
// X-Forwarded-For walk took I's value, the scheme of the E->I connection.
func TestHiddenClientSchemeAgreesAcrossHeaders(t *testing.T) {
	t.Parallel()
	xff := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	fwd := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	tests := []struct {
		name       string
		rv         *clientip.Resolver
		req        req
		wantAddr   string
		wantScheme string
	}{
		{"Forwarded: hidden client, its proxy's proto", fwd,
			req{remote: "10.0.0.1:1", headers: hdr("Forwarded", "for=unknown;proto=https, for=10.1.1.1;proto=http")}, "10.1.1.1", "https"},
		{"X-Forwarded-For: hidden client (unknown), its proxy's proto", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "unknown, 10.1.1.1", "X-Forwarded-Proto", "https, http")}, "10.1.1.1", "https"},
		{"X-Forwarded-For: hidden client (_hidden), its proxy's proto", xff,
			req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "_hidden, 10.1.1.1", "X-Forwarded-Proto", "https, http")}, "10.1.1.1", "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := tt.rv.Resolve(tt.req.build())
			if info.Addr.String() != tt.wantAddr || info.Scheme != tt.wantScheme {
				t.Errorf("Resolve = %v %s, want %s %s", info.Addr, info.Scheme, tt.wantAddr, tt.wantScheme)
			}
		})
	}
}

// Only http and https, in any ASCII case, are schemes. Found in review:
// strings.EqualFold folded U+017F LATIN SMALL LETTER LONG S into "s", so
// "httpſ" was https.
func TestForwardedProtoIsASCIIOnly(t *testing.T) {
	t.Parallel()
	xff := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	realIP := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.XRealIP})
	tests := []struct {
		name  string
		rv    *clientip.Resolver
		proto string
	}{
		{"X-Forwarded-For, long s", xff, "http\u017f"},
		{"X-Forwarded-For, upper case and long s", xff, "HTTP\u017f"},
		{"X-Real-IP, long s", realIP, "http\u017f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req{remote: "10.0.0.1:1", headers: hdr("X-Forwarded-For", "198.51.100.1", "X-Real-IP", "198.51.100.1", "X-Forwarded-Proto", tt.proto)}.build()
			if got := tt.rv.Scheme(r); got != "http" {
				t.Errorf("X-Forwarded-Proto %q: Scheme = %q, want the connection's %q", tt.proto, got, "http")
			}
		})
	}
}

// Neither a comma nor a semicolon inside a quoted Forwarded value splits
// anything (RFC 7239 §4: a quoted-string may hold ";"). Found in review: a
// semicolon split the pair, the element was garbage, and the client was
// replaced by the proxy.
func TestForwardedSemicolonInQuotedValue(t *testing.T) {
	t.Parallel()
	fwd := clientip.MustNew(clientip.Options{TrustedProxies: proxies, Header: clientip.Forwarded})
	tests := []struct {
		name, value, wantAddr, wantScheme string
	}{
		{"comma (already handled)", `for=192.0.2.43;ext="a,b";proto=https`, "192.0.2.43", "https"},
		{"semicolon in an extension", `for=192.0.2.43;ext="a;b";proto=https`, "192.0.2.43", "https"},
		{"semicolon in by", `for=192.0.2.43;by="_a;b";proto=https`, "192.0.2.43", "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := fwd.Resolve(req{remote: "10.0.0.1:1", headers: hdr("Forwarded", tt.value)}.build())
			if info.Addr.String() != tt.wantAddr || info.Scheme != tt.wantScheme {
				t.Errorf("Forwarded %s: Resolve = %v %s, want %s %s", tt.value, info.Addr, info.Scheme, tt.wantAddr, tt.wantScheme)
			}
		})
	}
}

// PublicOrigin, which csrf compares byte for byte with the Origin header,
// is kept in the form a browser sends or refused. Found in review: New
// kept forms no browser serializes (non-canonical IPv6, IPv4 shorthand, a
// port with a leading zero, a zone, a port above 65535, a non-ASCII name).
func TestPublicOriginIsCanonicalOrRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		browser string // "" where no browser can load the URL: New must fail
	}{
		{"https://example.com:0443", "https://example.com"},
		{"https://[2001:DB8:0:0::1]", "https://[2001:db8::1]"},
		{"https://[::ffff:192.0.2.1]", "https://[::ffff:c000:201]"},
		{"https://127.1", "https://127.0.0.1"},
		{"https://0x7f.0.0.1", "https://127.0.0.1"},
		{"https://ex\u00e4mple.com", "https://xn--exmple-cua.com"},
		{"https://example.com:99999", ""},
		{"https://[fe80::1%25eth0]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rv, err := clientip.New(clientip.Options{PublicOrigin: tt.in})
			if err != nil {
				if !errors.Is(err, clientip.ErrPublicOrigin) {
					t.Fatalf("New: %v", err)
				}
				return // rejected: fine
			}
			got, _ := rv.PublicOrigin()
			if tt.browser == "" || got != tt.browser {
				t.Errorf("PublicOrigin %q kept as %q; a browser sends Origin %q (empty: cannot load it) — want an error or the browser's form", tt.in, got, tt.browser)
			}
		})
	}
}
