package https

import (
	"net/netip"
	"strings"
)

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port"; a port
// is 1 to 5 digits up to 65535.
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", true
		}
		if rest[0] != ':' || !validPort(rest[1:]) {
			return "", "", false
		}
		return host, rest[1:], true
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", true
	}
	if !validPort(s[i+1:]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
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

// normalizeHost returns h lower-cased, without a trailing dot, if it is a
// DNS name of letters, digits and hyphens, an IPv4 address or a bracketed
// IPv6 address without zone; it allocates only for upper case letters or
// a non-canonical IPv6 form.
func normalizeHost(h string) (string, bool) {
	if strings.HasPrefix(h, "[") {
		if len(h) < 3 || h[len(h)-1] != ']' {
			return "", false
		}
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		if s := "[" + a.String() + "]"; s != h {
			return s, true
		}
		return h, true
	}
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
				return "", false
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
	if h[len(h)-1] == '-' {
		return "", false
	}
	if upper {
		h = strings.ToLower(h)
	}
	return h, true
}

// parseHostPattern parses "name", "name:port", "[v6]", "::1" or
// "*.name[:port]"; for a wildcard, host is the suffix with its leading dot.
func parseHostPattern(p string) (host, port string, wildcard bool, err error) {
	switch {
	case p == "":
		return "", "", false, because(ErrHost, "empty")
	case p == "*":
		return "", "", false, because(ErrHost, `"*" would redirect to any host`)
	case strings.Contains(p, "://"):
		return "", "", false, because(ErrHost, "a host, not a URL: drop the scheme")
	}
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			return "", "", false, because(ErrHost, "not ASCII: write internationalized names as punycode (xn--…)")
		}
	}
	if a, err := netip.ParseAddr(p); err == nil && a.Is6() && a.Zone() == "" {
		return "[" + a.String() + "]", "", false, nil
	}
	h, port, ok := splitHostPort(p)
	if !ok {
		return "", "", false, because(ErrHost, "bad port or brackets")
	}
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		name, ok := normalizeHost(rest)
		if !ok || strings.HasPrefix(name, "[") {
			return "", "", false, because(ErrHost, "bad host name after *.")
		}
		return "." + name, port, true, nil
	}
	name, ok := normalizeHost(h)
	if !ok {
		return "", "", false, because(ErrHost, "not a host name or IP address")
	}
	return name, port, false, nil
}
