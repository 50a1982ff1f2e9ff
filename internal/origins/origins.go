// Package origins parses and matches web origins as browsers serialize them
// in the Origin request header: scheme "://" host [":" port], lower case,
// without the scheme's default port, without userinfo, path, query or
// fragment.
//
// A [Set] is compiled once from configured entries, exact origins such as
// "https://app.example.com" and subdomain patterns such as
// "https://*.example.com", and then matched against request values without
// allocating, except once for a value two or more labels under a
// pattern's domain, whose public suffix is then looked up (see
// [hostport.SameOwner]). Matching is exact: a request value that is not
// in the canonical form a browser sends never matches.
//
// Packages cors and csrf both parse their origin lists here, so that one
// list of origins means the same thing to both.
package origins

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
)

// Reasons a configured entry is rejected. The caller wraps them with the
// entry and its own sentinel.
var (
	ErrEmpty        = errors.New("empty origin")
	ErrNoScheme     = errors.New(`missing scheme: write "https://host"`)
	ErrScheme       = errors.New("invalid scheme")
	ErrUserinfo     = errors.New("userinfo is not part of an origin")
	ErrPath         = errors.New("path, query and fragment are not part of an origin (remove any trailing slash)")
	ErrHost         = errors.New("invalid host")
	ErrNonASCII     = errors.New("host must be ASCII: write an internationalized name in its punycode form (xn--)")
	ErrPort         = errors.New("invalid port")
	ErrWildcard     = errors.New(`a wildcard is allowed only as the whole first label of a host, as in "https://*.example.com"`)
	ErrPatternIP    = errors.New("a subdomain pattern cannot apply to an IP address")
	ErrPatternTLD   = errors.New("a subdomain pattern must name a registrable domain, not a public suffix such as com, co.uk or github.io, nor a domain whose subdomains are public suffixes, such as run.app")
	ErrPatternHTTP  = errors.New("a subdomain pattern must use http or https")
	ErrSpecialValue = errors.New(`"*" and "null" are not origins`)
)

// Maximum lengths, generous for real origins and small enough to bound the
// work spent on hostile values.
const (
	maxScheme = 32
	maxHost   = 253
	maxOrigin = maxScheme + len("://") + maxHost + len(":65535")
)

// Entry is a parsed configured entry.
type Entry struct {
	// Canonical is the entry as a browser would serialize a matching
	// origin; for a pattern, with "*." in front of the domain.
	Canonical string
	// Scheme is the scheme, lower case.
	Scheme string
	// Host is the host without port; for a pattern, the domain the
	// subdomains belong to.
	Host string
	// Port is the explicit port, or "" for the scheme's default.
	Port      string
	Pattern   bool // "scheme://*.domain": any subdomain of Host, not Host itself
	Loopback  bool // the host is localhost, a *.localhost name or a loopback address
	IPAddress bool // the host is an IP literal
}

// Secure reports whether the entry is one a network attacker cannot
// serve: an https origin or a loopback host, which browsers treat as
// potentially trustworthy, or an origin of any scheme other than http (a
// browser extension's, such as "moz-extension://…"). Only an http origin
// on another host is not.
func (e Entry) Secure() bool {
	return e.Scheme == "https" || e.Loopback || (e.Scheme != "http" && e.Scheme != "")
}

// ParseEntry parses a configured origin or subdomain pattern. It accepts
// upper case and an explicit default port and returns the canonical form;
// everything else that a browser could not send is an error.
func ParseEntry(s string) (Entry, error) {
	var e Entry
	switch s {
	case "":
		return e, ErrEmpty
	case "*", "null":
		return e, ErrSpecialValue
	}
	if len(s) > maxOrigin+2 {
		return e, ErrHost
	}
	i := strings.Index(s, "://")
	if i < 0 {
		return e, ErrNoScheme
	}
	scheme := strings.ToLower(s[:i])
	if !validScheme(scheme) {
		return e, ErrScheme
	}
	rest := s[i+3:]
	if strings.ContainsAny(rest, "/?#") {
		return e, ErrPath
	}
	if strings.IndexByte(rest, '@') >= 0 {
		return e, ErrUserinfo
	}
	host, port := rest, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return e, ErrHost
		}
		host, port = rest[:end+1], rest[end+1:]
		if port != "" {
			if port[0] != ':' {
				return e, ErrHost
			}
			port = port[1:]
			if port == "" {
				return e, ErrPort
			}
		}
	} else if j := strings.LastIndexByte(host, ':'); j >= 0 {
		host, port = rest[:j], rest[j+1:]
		if port == "" {
			return e, ErrPort
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return e, ErrPort
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		}
	}
	for k := 0; k < len(host); k++ {
		if host[k] >= 0x80 {
			return e, ErrNonASCII
		}
	}
	host = strings.ToLower(host)
	e.Scheme, e.Port = scheme, port
	if strings.HasPrefix(host, "*.") {
		e.Pattern = true
		host = host[2:]
		if scheme != "http" && scheme != "https" {
			return e, ErrPatternHTTP
		}
	}
	if strings.IndexByte(host, '*') >= 0 {
		return e, ErrWildcard
	}
	switch {
	case strings.HasPrefix(host, "["):
		// "http://*.[" reaches here with host "[" (found by FuzzMatch).
		if len(host) < 2 || host[len(host)-1] != ']' {
			return e, ErrHost
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" || a.Is4In6() {
			return e, ErrHost
		}
		host = "[" + a.String() + "]"
		e.IPAddress, e.Loopback = true, a.IsLoopback()
	case looksIPv4(host):
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return e, ErrHost
		}
		host = a.String()
		e.IPAddress, e.Loopback = true, a.IsLoopback()
	default:
		if !validDomain(host) {
			return e, ErrHost
		}
		e.Loopback = host == "localhost" || strings.HasSuffix(host, ".localhost")
	}
	if e.Pattern {
		if e.IPAddress {
			return e, ErrPatternIP
		}
		if hostport.SharedDomain(host) {
			return e, ErrPatternTLD
		}
	}
	e.Host = host
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if e.Pattern {
		b.WriteString("*.")
	}
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	e.Canonical = b.String()
	return e, nil
}

// Parse splits a request's Origin value into scheme, host and port without
// allocating. It reports false for anything a browser would not send:
// upper case, a default port written out, a port with a leading zero,
// userinfo, a path, an empty label, characters outside letters, digits,
// '-', '.' and '_' (or, in brackets, an IPv6 address other than in the
// form browsers serialize). It also reports false for a host with a
// trailing dot, which a browser does send for a page loaded from such a
// host ("https://example.com."), but which [ParseEntry] refuses, so that
// no entry could match it. "null" is not parsed.
func Parse(s string) (scheme, host, port string, ok bool) {
	if len(s) > maxOrigin {
		return "", "", "", false
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", "", "", false
	}
	scheme, rest := s[:i], s[i+3:]
	if !validScheme(scheme) || rest == "" {
		return "", "", "", false
	}
	host = rest
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", "", false
		}
		host = rest[:end+1]
		for k := 1; k < end; k++ {
			if c := rest[k]; !isHex(c) && c != ':' && c != '.' {
				return "", "", "", false
			}
		}
		// Only the canonical form a browser serializes (found in review:
		// "[0:0:0:0:0:0:0:1]" and "[::ffff:1.2.3.4]" were echoed).
		a, err := netip.ParseAddr(rest[1:end])
		if err != nil || !a.Is6() || string(appendBrowserIPv6(make([]byte, 0, 64), a)) != rest[1:end] {
			return "", "", "", false
		}
		rest = rest[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "", "", false
			}
			port = rest[1:]
			if port == "" {
				return "", "", "", false
			}
		}
	} else {
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			host, port = rest[:j], rest[j+1:]
			if port == "" {
				return "", "", "", false
			}
		}
		if !validDomain(host) {
			return "", "", "", false
		}
		if looksIPv4(host) {
			// netip accepts only the four-part decimal form browsers
			// serialize, not "127.1", "0x7f.0.0.1" or "999.1.1.1".
			if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
				return "", "", "", false
			}
		}
	}
	if port != "" && !canonicalPort(scheme, port) {
		return "", "", "", false
	}
	return scheme, host, port, true
}

// canonicalPort reports whether port is 1 to 65535 without a leading zero
// and not the default port of scheme.
func canonicalPort(scheme, port string) bool {
	if len(port) > 5 || port[0] == '0' {
		return false
	}
	n := 0
	for k := 0; k < len(port); k++ {
		c := port[k]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return false
	}
	return !(scheme == "https" && n == 443) && !(scheme == "http" && n == 80)
}

// validScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" /
// "." ) in lower case, at most 32 bytes.
func validScheme(s string) bool {
	if s == "" || len(s) > maxScheme || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for k := 1; k < len(s); k++ {
		c := s[k]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validDomain reports whether s is a lower-case host name: labels of
// letters, digits, '-' and '_', separated by single dots, none empty, at
// most 63 bytes each and 253 in all, with no trailing dot.
func validDomain(s string) bool {
	if s == "" || len(s) > maxHost {
		return false
	}
	label := 0
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			label++
			if label > 63 {
				return false
			}
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		default:
			return false
		}
	}
	return label > 0
}

// looksIPv4 reports whether a host is made of digits and dots only, or
// ends in a numeric label, so that browsers parse it as an IPv4 address.
func looksIPv4(s string) bool {
	last := s[strings.LastIndexByte(s, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X") {
		return true
	}
	for k := 0; k < len(last); k++ {
		if last[k] < '0' || last[k] > '9' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// Set is a compiled list of exact origins and subdomain patterns. The zero
// Set matches nothing. A Set is immutable and safe for concurrent use.
type Set struct {
	exact    map[string]struct{}
	few      []string // the exact entries when there are at most maxFew
	lengths  [maxOrigin/64 + 1]uint64
	patterns []pattern
}

// maxFew is the size up to which comparing strings one by one beats
// hashing the request value for a map lookup.
const maxFew = 8

// pattern is a compiled subdomain pattern. A value matches when it is
// prefix + sub + tail, where sub is a valid host name (what validDomain
// accepts) of at most maxSub bytes: exactly the values that Parse accepts
// with the pattern's scheme and port and a host that is a proper
// subdomain of the domain.
type pattern struct {
	prefix string // scheme + "://"
	tail   string // "." + domain [+ ":" + port]
	port   int    // len(":" + port), 0 without a port
	maxSub int    // maxHost - len("." + domain)
}

// Compile builds a Set from parsed entries. Duplicates are ignored.
func Compile(entries []Entry) *Set {
	s := &Set{exact: make(map[string]struct{}, len(entries))}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if seen[e.Canonical] {
			continue
		}
		seen[e.Canonical] = true
		if e.Pattern {
			p := pattern{prefix: e.Scheme + "://", tail: "." + e.Host, maxSub: maxHost - len(e.Host) - 1}
			if e.Port != "" {
				p.tail += ":" + e.Port
				p.port = 1 + len(e.Port)
			}
			s.patterns = append(s.patterns, p)
			continue
		}
		s.exact[e.Canonical] = struct{}{}
	}
	// The lengths of the exact entries: a value of any other length
	// cannot be one, and is not hashed for the map lookup. Entries come
	// from ParseEntry, so none is longer than maxOrigin.
	for o := range s.exact {
		if len(o) <= maxOrigin {
			s.lengths[len(o)/64] |= 1 << (len(o) % 64)
		}
	}
	if len(s.exact) <= maxFew {
		for o := range s.exact {
			s.few = append(s.few, o)
		}
		s.exact = nil
	}
	return s
}

// Len returns the number of distinct entries in s.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.exact) + len(s.few) + len(s.patterns)
}

// Match reports whether the request Origin value o is in s: equal to an
// exact entry, or a canonical origin whose host is a proper subdomain of a
// pattern's domain with the pattern's scheme and port. It does not
// allocate, except once for a value whose host is two or more labels
// under a pattern's domain (see [hostport.SameOwner]).
func (s *Set) Match(o string) bool {
	if s == nil {
		return false
	}
	if s.exact != nil {
		if len(o) <= maxOrigin && s.lengths[len(o)/64]&(1<<(len(o)%64)) != 0 {
			if _, ok := s.exact[o]; ok {
				return true
			}
		}
	} else if slices.Contains(s.few, o) {
		return true
	}
	for i := range s.patterns {
		if s.patterns[i].match(o) {
			return true
		}
	}
	return false
}

// match reports whether o is a canonical origin with the pattern's scheme
// and port whose host is a proper subdomain of the pattern's domain, not
// under a public suffix below it (see [hostport.SameOwner]). It
// does what Parse followed by a comparison of scheme, port and host suffix
// would, without splitting o: the prefix and tail come from a valid
// configured entry, so o is canonical exactly when the labels in front of
// the domain are, and the whole host is at most maxHost bytes (which also
// keeps o within maxOrigin). Whatever o's length, at most maxSub bytes of
// it are looked at past the two comparisons.
func (p *pattern) match(o string) bool {
	if len(o) <= len(p.prefix)+len(p.tail) || o[:len(p.prefix)] != p.prefix || o[len(o)-len(p.tail):] != p.tail {
		return false
	}
	sub := o[len(p.prefix) : len(o)-len(p.tail)]
	// validDomain rejects an empty label, so neither
	// "https://.example.com" nor "https://a..example.com" matches.
	if len(sub) > p.maxSub || !validDomain(sub) {
		return false
	}
	if strings.IndexByte(sub, '.') < 0 {
		return true // one label under the domain: see hostport.SameOwner
	}
	host := o[len(p.prefix) : len(o)-p.port]
	return hostport.SameOwner(host, host[len(sub)+1:])
}

// appendBrowserIPv6 appends the IPv6 address a (without a zone) as the URL
// standard serializes it: what netip writes, except that an IPv4-mapped
// address keeps hexadecimal groups ("::ffff:c000:201", where netip writes
// "::ffff:192.0.2.1").
func appendBrowserIPv6(dst []byte, a netip.Addr) []byte {
	if !a.Is4In6() {
		return a.AppendTo(dst)
	}
	b := a.As16()
	dst = append(dst, "::ffff:"...)
	dst = strconv.AppendUint(dst, uint64(b[12])<<8|uint64(b[13]), 16)
	dst = append(dst, ':')
	return strconv.AppendUint(dst, uint64(b[14])<<8|uint64(b[15]), 16)
}
