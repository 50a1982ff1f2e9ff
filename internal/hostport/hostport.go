// Package hostport parses and normalises the host names and host patterns
// that headers (allowed hosts) and https (redirect targets) compare, so the
// two packages agree on what a host is.
package hostport

import (
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Split splits "host", "host:port", "[v6]" or "[v6]:port", where port is
// valid for ValidPort. It does not allocate.
func Split(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", true
		}
		if rest[0] != ':' || !ValidPort(rest[1:]) {
			return "", "", false
		}
		return host, rest[1:], true
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", true
	}
	if !ValidPort(s[i+1:]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// ValidPort reports whether p is a port as a URL serializes it: 1 to 5
// digits without a leading zero, from 1 to 65535. (Found in review: a host
// configured as "example.com:0" redirected there, and "example.com:00443"
// was not the same host as "example.com:443".)
func ValidPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// Normalize returns h lower-cased without a trailing dot if it is a valid
// DNS name, IPv4 address or bracketed IPv6 address without zone, the IPv6
// address in its canonical form. It allocates only for upper-case letters
// or a non-canonical IPv6 form.
func Normalize(h string) (string, bool) {
	if strings.HasPrefix(h, "[") {
		if len(h) < 3 || h[len(h)-1] != ']' {
			return "", false
		}
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		// Built on the stack, so that a canonical form costs nothing.
		var buf [64]byte
		b := append(buf[:0], '[')
		b = append(a.AppendTo(b), ']')
		if string(b) != h {
			return string(b), true // canonical form, such as [::1] for [0:0::1]
		}
		return h, true
	}
	return NormalizeName(h)
}

// NormalizeName validates a DNS name (or dotted IPv4 address): labels of
// letters, digits and hyphens, 1 to 63 bytes each, 253 in all, an optional
// trailing dot. It returns the name lower-cased without the trailing dot,
// allocating only when the name has upper-case letters.
func NormalizeName(h string) (string, bool) {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", false
	}
	upper := false
	labelLen := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			upper = true
		case c == '-':
			if labelLen == 0 {
				return "", false // a label may not start with a hyphen
			}
		case c == '.':
			if labelLen == 0 || h[i-1] == '-' {
				return "", false
			}
			labelLen = 0
			continue
		default:
			return "", false
		}
		labelLen++
		if labelLen > 63 {
			return "", false
		}
	}
	if c := h[len(h)-1]; c == '-' || c == '.' {
		return "", false // "a.." : the trailing dot's label would be empty
	}
	if upper {
		h = strings.ToLower(h)
	}
	return h, true
}

// ParsePattern parses a configured host pattern: "name", "name:port",
// "[v6]", "[v6]:port", a bare "::1", or "*.name[:port]". It returns the
// normalised host (for a wildcard, the suffix with its leading dot) and
// port. A wildcard's name must be neither a public suffix (see
// [SharedDomain]) nor end in a numeric label, under which a browser takes
// every name for an IPv4 address. On error reason explains the problem
// for an option error; the caller wraps it with its own sentinel.
func ParsePattern(p string) (host, port string, wildcard bool, reason string) {
	if p == "" {
		return "", "", false, "empty"
	}
	if strings.Contains(p, "://") {
		return "", "", false, "a host, not a URL: drop the scheme"
	}
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			return "", "", false, "not ASCII: write internationalized names as punycode (xn--…)"
		}
	}
	// A bare IPv6 address, such as ::1.
	if a, err := netip.ParseAddr(p); err == nil && a.Is6() {
		if a.Zone() != "" {
			return "", "", false, "IPv6 zone"
		}
		return "[" + a.String() + "]", "", false, ""
	}
	h, port, ok := Split(p)
	if !ok {
		return "", "", false, "bad port or brackets"
	}
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		name, ok := NormalizeName(rest)
		if !ok {
			return "", "", false, "bad host name after *."
		}
		if endsInNumber(name) {
			// Found in review: "*.0.1" matched "1.0.1", which a browser
			// loads as 1.0.0.1, and "*.168.1" matched "10.168.1".
			return "", "", false, "a subdomain pattern cannot apply to an IP address: the last label is a number"
		}
		if SharedDomain(name) {
			// Found in review: "*.com" made a redirect to any .com
			// host, as "*" would; "*.run.app" to any Cloud Run site.
			return "", "", false, "a public suffix after *., or a domain whose subdomains are public suffixes, matches other people's hosts: name your own domain (*.example.com)"
		}
		return "." + name, port, true, ""
	}
	if strings.Contains(h, "*") {
		return "", "", false, `"*" is only allowed as a leading "*."`
	}
	name, ok := Normalize(h)
	if !ok {
		return "", "", false, "not a host name or IP address"
	}
	return name, port, false, ""
}

// endsInNumber reports whether the lower-case DNS name ends in a label
// that the URL standard's host parser reads as a number (digits, or "0x"
// and hexadecimal digits), so that a browser takes the name, and every
// name under it, for an IPv4 address ("1.0.1" is 1.0.0.1) or refuses it.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	digits := "0123456789"
	if rest, ok := strings.CutPrefix(last, "0x"); ok {
		last, digits = rest, "0123456789abcdef"
	}
	return strings.Trim(last, digits) == ""
}

// PublicSuffix reports whether the lower-case DNS name is a public suffix,
// under which anyone may register a name: a top-level domain ("com"), a
// registry's second level ("co.uk") or a hosting service's shared domain
// ("github.io"), by the Public Suffix List, and any single label the list
// does not know. A subdomain pattern over one ("*.co.uk") would match
// other people's hosts. localhost, whose names all mean this machine
// (RFC 6761), is not one.
func PublicSuffix(name string) bool {
	if name == "localhost" {
		return false
	}
	suffix, _ := publicsuffix.PublicSuffix(name)
	return suffix == name
}

// SharedDomain reports whether a subdomain pattern over the lower-case DNS
// name would match other people's hosts: name is a public suffix, or the
// names right under it all are, by a wildcard rule of the Public Suffix
// List ("*.run.app": every x.run.app is a public suffix, under which
// anyone may register a site). Found in review: "*.run.app" passed, and
// trusted every customer of the hosting service.
func SharedDomain(name string) bool {
	return PublicSuffix(name) || PublicSuffix("x."+name)
}

// SameOwner reports whether host, a lower-case DNS name under domain,
// belongs to domain's owner: no public suffix of the list lies between
// them. "bucket.s3.amazonaws.com" is under amazonaws.com, but also under
// the public suffix s3.amazonaws.com, so it is someone else's (found in
// review). A host one label under domain is always domain's: a wildcard
// rule over domain is refused by [SharedDomain], and a name of its own
// that the list holds ("s3.amazonaws.com") is the owner's service.
//
// It allocates once for a host two or more labels under domain, whose
// public suffix it looks up: publicsuffix.PublicSuffix first parses the
// host as an IP address, and allocates the error.
func SameOwner(host, domain string) bool {
	if strings.IndexByte(host[:len(host)-len(domain)-1], '.') < 0 {
		return true // one label under domain
	}
	suffix, _ := publicsuffix.PublicSuffix(host)
	return len(suffix) <= len(domain)
}
