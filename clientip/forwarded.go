package clientip

import (
	"cmp"
	"net/netip"
	"strings"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// walkForwarded walks RFC 7239 Forwarded elements from the right and
// returns the client address and the scheme from the proto parameter of
// the element that named it.
func walkForwarded(rv *Resolver, lines []string, peer netip.Addr, fallback string) (netip.Addr, string) {
	last, lastProto, hops := peer, "", 0
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		if httptoken.TrimOWS(rest) == "" {
			continue
		}
		for {
			j := lastUnquotedComma(rest)
			hops++
			node, proto, ok := parseElement(httptoken.TrimOWS(rest[j+1:]))
			if !ok {
				return last, schemeOr(lastProto, fallback)
			}
			a, ok := parseNode(node)
			if !ok {
				// "unknown", an obfuscated identifier, no for at all or
				// garbage: the client is hidden behind the proxy that
				// wrote this. Its proto, if any, is the client's; else
				// the element that named that proxy says how it was
				// reached.
				return last, schemeOr(cmp.Or(proto, lastProto), fallback)
			}
			if !rv.Trusted(a) {
				return a, schemeOr(proto, fallback)
			}
			last, lastProto = a, proto
			if hops >= maxHops {
				return last, schemeOr(lastProto, fallback)
			}
			if j < 0 {
				break
			}
			rest = rest[:j]
		}
	}
	return last, schemeOr(lastProto, fallback)
}

// schemeOr returns proto as "http" or "https", in any ASCII case, or else
// fallback. Only ASCII letters fold: strings.EqualFold took "httpſ" (a
// long s) for https (found in review).
func schemeOr(proto, fallback string) string {
	switch {
	case httptoken.EqualFold(proto, "https"):
		return "https"
	case httptoken.EqualFold(proto, "http"):
		return "http"
	}
	return fallback
}

// lastUnquotedComma returns the index of the last comma of s outside a
// quoted string, or -1.
func lastUnquotedComma(s string) int {
	inQuote := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				return i
			}
		}
	}
	return -1
}

// firstUnquoted returns the index of the first c in s outside a quoted
// string, or -1. (Found in review: a ";" inside a quoted extension value,
// which RFC 7239 allows, split the pair and voided the element.)
func firstUnquoted(s string, c byte) int {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case c:
			if !inQuote {
				return i
			}
		}
	}
	return -1
}

// parseElement parses one forwarded-element, pairs separated by ";", and
// returns the values of its for and proto parameters. It reports false for
// a malformed element: an empty one, a pair without "=", a bad name or
// value, an unterminated quote or a repeated parameter. An element without
// for is well formed (RFC 7239 makes every parameter optional): its node
// is "", which hides the client as "unknown" does. (Found in review: such
// an element was garbage, so behind a proxy that discloses the scheme
// alone every https client was seen on http, and the redirect looped.)
// Quoted values may not contain quoted-pairs: no address or scheme needs
// one.
func parseElement(s string) (node, proto string, ok bool) {
	if s == "" {
		return "", "", false
	}
	var seenFor, seenProto, seenBy, seenHost bool
	for s != "" {
		var pair string
		if i := firstUnquoted(s, ';'); i >= 0 {
			pair, s = httptoken.TrimOWS(s[:i]), httptoken.TrimOWS(s[i+1:])
			if s == "" {
				return "", "", false // trailing ";"
			}
		} else {
			pair, s = s, ""
		}
		eq := strings.IndexByte(pair, '=')
		if eq <= 0 {
			return "", "", false
		}
		name, value := pair[:eq], pair[eq+1:]
		if !httptoken.IsToken(name) {
			return "", "", false
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
			if strings.ContainsAny(value, "\"\\") || !printable(value) {
				return "", "", false
			}
		} else if !isNodeToken(value) {
			return "", "", false
		}
		var seen *bool
		switch {
		case httptoken.EqualFold(name, "for"):
			seen, node = &seenFor, value
		case httptoken.EqualFold(name, "proto"):
			seen, proto = &seenProto, value
		case httptoken.EqualFold(name, "by"):
			seen = &seenBy
		case httptoken.EqualFold(name, "host"):
			seen = &seenHost
		}
		if seen != nil {
			if *seen {
				return "", "", false
			}
			*seen = true
		}
	}
	return node, proto, true
}

// isNodeToken accepts a token, and also the ":" "[" "]" of an unquoted
// IPv6 node, which RFC 7239 requires to be quoted but some proxies do not.
func isNodeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !httptoken.IsTchar(c) && c != ':' && c != '[' && c != ']' {
			return false
		}
	}
	return true
}

// printable reports whether s holds only visible ASCII and spaces.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
