// Package httptoken recognises RFC 9110 tokens, the syntax of header
// names, methods, cookie names and many parameter values, compares them
// ignoring ASCII case and trims optional white space, so that every
// package treats them the same way.
package httptoken

import "strings"

// tchar is the RFC 9110 §5.6.2 tchar set:
// "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// IsTchar reports whether c may appear in a token.
func IsTchar(c byte) bool { return tchar[c] }

// IsToken reports whether s is a non-empty RFC 9110 token.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// EqualFold reports whether s and t are equal with ASCII letters compared
// case-insensitively and every other byte compared exactly: the comparison
// HTTP defines for tokens such as auth schemes. Unlike strings.EqualFold it
// never folds a non-ASCII character into an ASCII one (U+212A KELVIN SIGN
// into "k"). s may be bytes, such as a header value not yet made a string.
// It does not allocate.
func EqualFold[T string | []byte](s T, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// HasPrefixFold reports whether s begins with prefix, ASCII letters
// compared case-insensitively as in [EqualFold]: RFC 6265bis matches the
// __Host- and __Secure- cookie name prefixes that way, as browsers do.
func HasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && EqualFold(s[:len(prefix)], prefix)
}

// TrimOWS removes RFC 9110 optional white space (spaces and horizontal
// tabs) from both ends of s.
func TrimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// Varies reports whether the Vary field lines vary list name, in any
// case, or are "*": a middleware that adds name to Vary then leaves it
// as it is, rather than sending the field twice ("Vary: Cookie, Cookie").
// It does not allocate.
func Varies(vary []string, name string) bool {
	for _, v := range vary {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if tok = TrimOWS(tok); tok == "*" || EqualFold(tok, name) {
				return true
			}
		}
	}
	return false
}

// SplitCredentials splits an Authorization or Proxy-Authorization value
// (RFC 9110 §11.4: auth-scheme [ 1*SP ( token68 / #auth-param ) ]) into
// its scheme and what follows the spaces after it. ok is false when v does
// not start with a token followed by a space. The scheme is returned as
// sent: compare it with [EqualFold], as schemes are case-insensitive. Only
// spaces are skipped, as the grammar allows, not tabs; white space at the
// end is kept. It does not allocate.
func SplitCredentials(v string) (scheme, credentials string, ok bool) {
	i := 0
	for i < len(v) && tchar[v[i]] {
		i++
	}
	if i == 0 || i == len(v) || v[i] != ' ' {
		return "", "", false
	}
	scheme, v = v[:i], v[i+1:]
	for len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	return scheme, v, true
}

// IsScheme reports whether s is a URI scheme (RFC 3986 §3.1):
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), in either case. Every
// scheme is a token.
func IsScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// IsIdentifier reports whether s is ALPHA *( ALPHA / DIGIT / "_" ), in
// either case: the names RFC 9457 §3.2 recommends for problem extension
// members, and those of sanitize's rules. Every identifier is a token.
func IsIdentifier(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// DropTargetedCaching deletes from h the fields that direct a CDN's
// caches apart from Cache-Control: RFC 9213's CDN-Cache-Control, the
// vendors' targeted fields named like it (Cloudflare-CDN-Cache-Control,
// Akamai-Cache-Control: any name ending in "-Cache-Control"),
// Surrogate-Control and Edge-Control, in any case. A CDN obeys them
// instead of Cache-Control, so the no-store or private that keeps a
// response carrying a per-client secret (a cookie) out of shared caches
// would not keep it out of the CDN's.
func DropTargetedCaching(h map[string][]string) {
	const suffix = "-cache-control"
	for k := range h {
		if len(k) > len(suffix) && EqualFold(k[len(k)-len(suffix):], suffix) ||
			EqualFold(k, "surrogate-control") || EqualFold(k, "edge-control") {
			delete(h, k)
		}
	}
}
