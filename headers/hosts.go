package headers

import (
	"net/netip"
	"strconv"
	"strings"
)

// hostRules is a compiled list of allowed hosts. The zero value allows
// nothing; a nil *hostRules is not consulted.
type hostRules struct {
	exact     map[string]portRule // normalized host → ports
	wildcards []wildcardRule      // "*.example.com" as suffix ".example.com"
}

type portRule struct {
	any   bool
	ports []string
}

func (p portRule) allows(port string) bool {
	if p.any {
		return true
	}
	for _, q := range p.ports {
		if q == port {
			return true
		}
	}
	return false
}

type wildcardRule struct {
	suffix string
	ports  portRule
}

// compileHosts validates patterns: a host name, an IP literal (IPv6 with or
// without brackets) or "*." and a host name, each with an optional ":port".
// Host names must be ASCII: write internationalized names in their
// punycode A-label form (xn--…), which is what browsers send.
func compileHosts(patterns []string) (*hostRules, []error) {
	var errs []error
	hr := &hostRules{exact: make(map[string]portRule)}
	for i, p := range patterns {
		field := "AllowedHosts[" + strconv.Itoa(i) + "]"
		host, port, wildcard, err := parsePattern(p)
		if err != nil {
			errs = append(errs, &OptionError{Field: field, Value: p, Err: err})
			continue
		}
		if wildcard {
			idx := -1
			for j, w := range hr.wildcards {
				if w.suffix == host {
					idx = j
				}
			}
			if idx < 0 {
				hr.wildcards = append(hr.wildcards, wildcardRule{suffix: host})
				idx = len(hr.wildcards) - 1
			}
			hr.wildcards[idx].ports = addPort(hr.wildcards[idx].ports, port)
			continue
		}
		hr.exact[host] = addPort(hr.exact[host], port)
	}
	return hr, errs
}

func addPort(r portRule, port string) portRule {
	if port == "" {
		return portRule{any: true}
	}
	if !r.any {
		r.ports = append(r.ports, port)
	}
	return r
}

// parsePattern splits an allowed-host pattern. For a wildcard it returns
// the suffix including its leading dot.
func parsePattern(p string) (host, port string, wildcard bool, err error) {
	if p == "" {
		return "", "", false, because(ErrHostPattern, "empty")
	}
	if p == "*" {
		return "", "", false, because(ErrHostPattern, `"*" allows every host; leave AllowedHosts empty instead`)
	}
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			return "", "", false, because(ErrHostPattern, "not ASCII: write internationalized names as punycode (xn--…)")
		}
	}
	// A bare IPv6 address, such as ::1.
	if a, err := netip.ParseAddr(p); err == nil && a.Is6() {
		if a.Zone() != "" {
			return "", "", false, because(ErrHostPattern, "IPv6 zone")
		}
		return "[" + a.String() + "]", "", false, nil
	}
	h, port, ok := splitHostPort(p)
	if !ok {
		return "", "", false, because(ErrHostPattern, "bad port or brackets")
	}
	if strings.HasPrefix(h, "*.") {
		name, ok := normalizeName(h[2:])
		if !ok {
			return "", "", false, because(ErrHostPattern, "bad host name after *.")
		}
		return "." + name, port, true, nil
	}
	if strings.Contains(h, "*") {
		return "", "", false, because(ErrHostPattern, `"*" is only allowed as a leading "*."`)
	}
	name, ok := normalizeHost(h)
	if !ok {
		return "", "", false, because(ErrHostPattern, "not a host name or IP address")
	}
	return name, port, false, nil
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port". The
// port, when present, is 1 to 5 digits up to 65535.
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

// normalizeHost returns h lower-cased without a trailing dot if it is a
// valid DNS name, IPv4 address or bracketed IPv6 address (no zone).
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
			return s, true // canonical form, such as [::1] for [0:0::1]
		}
		return h, true
	}
	return normalizeName(h)
}

// normalizeName validates a DNS name (or dotted IPv4 address): labels of
// letters, digits and hyphens, 1 to 63 bytes each, 253 in all, an optional
// trailing dot. It
// returns the name lower-cased without the trailing dot, allocating only
// when the name has upper-case letters or the dot.
func normalizeName(h string) (string, bool) {
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
	if h[len(h)-1] == '-' {
		return "", false
	}
	if upper {
		h = strings.ToLower(h)
	}
	return h, true
}

// allowed reports whether the Host header value hostport is allowed.
func (hr *hostRules) allowed(hostport string) bool {
	if hostport == "" || len(hostport) > 260 {
		return false
	}
	h, port, ok := splitHostPort(hostport)
	if !ok {
		return false
	}
	host, ok := normalizeHost(h)
	if !ok {
		return false
	}
	if r, ok := hr.exact[host]; ok && r.allows(port) {
		return true
	}
	for _, w := range hr.wildcards {
		if len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) && w.ports.allows(port) {
			return true
		}
	}
	return false
}
