package errorsafe

import (
	"bytes"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/percent"
)

// Redacted replaces every redacted value.
const Redacted = "[REDACTED]"

// truncated ends a logged query that was cut short.
const truncated = "[TRUNCATED]"

const (
	maxQueryLog = 1024 // bytes of a query logged, marker included
	maxScan     = 4096 // bytes of a query read; the item they cut is dropped
	maxKeyLen   = 64   // longest parameter name matched; longer ones are redacted
	maxBareItem = 32   // longest query item without "=" logged as is
)

// defaultRedactHeaders are always redacted, whatever their name says.
var defaultRedactHeaders = []string{
	"Authorization",
	"Proxy-Authorization",
	"Cookie",
	"Set-Cookie",
	"X-Api-Key",
}

// sensitiveHeaderWords redact any header whose lower-case name contains
// one of them.
var sensitiveHeaderWords = []string{
	"auth", "token", "secret", "key", "passw", "session", "cookie", "credential", "signature",
}

// How a logged header is written.
const (
	hdrPlain uint8 = iota
	hdrRedact
	hdrURL
)

// urlHeaders carry URLs whose query and credentials are redacted.
var urlHeaders = map[string]bool{
	"Referer":          true,
	"Origin":           true,
	"Location":         true,
	"Content-Location": true,
}

// defaultRedactParams are parameter names (normalized: lower case, "_"
// for "-") redacted on exact match.
var defaultRedactParams = []string{
	"pwd", "pass", "pin", "otp", "key", "code", "sig", "jwt", "sid", "ssn",
	"assertion", "client_assertion", "code_verifier", "state_token",
}

// sensitiveParamWords redact any parameter whose normalized name contains
// one of them ("api_key", in the documented list, through "_key").
var sensitiveParamWords = [][]byte{
	[]byte("password"), []byte("passwd"), []byte("passphrase"), []byte("secret"),
	[]byte("token"), []byte("apikey"), []byte("auth"),
	[]byte("credential"), []byte("signature"), []byte("session"), []byte("private"),
	[]byte("cookie"), []byte("passcode"), []byte("sessid"), []byte("_key"),
	[]byte("mfa"), []byte("verification_code"), []byte("reset_code"),
	[]byte("recovery_code"), []byte("totp"),
}

// RedactQuery returns rawQuery, a URL query string, with the values of
// sensitive parameters replaced by [Redacted], as the access log writes
// it. A parameter is sensitive when its name, percent-decoded, lower-cased
// and with "-" read as "_", contains one of "password", "passwd",
// "passphrase", "secret", "token", "api_key", "apikey", "auth",
// "credential", "signature", "session", "private", "cookie", "passcode",
// "sessid" (PHPSESSID), "_key" (access_key, subscription-key), "mfa",
// "verification_code", "reset_code", "recovery_code" or "totp"; equals a
// short name such as "code", "key", "pin", "otp" or "sig"; or is listed in
// [Options.RedactParams]. Names longer than 64 bytes, values that look like
// a JWT ("eyJ…") and items without "=" longer than 32 bytes are redacted
// too. Both "&" and ";" separate items. The result is at most 1024 bytes:
// items that do not fit are dropped and "[TRUNCATED]" ends the list. Only
// the first 4096 bytes are read, so hostile queries cost little.
//
// RedactQuery is safe for concurrent use. The zero Middleware uses the
// built-in lists.
func (m *Middleware) RedactQuery(rawQuery string) string { return m.conf().redactQuery(rawQuery) }

// RedactURL returns u with its userinfo, query (see [Middleware.RedactQuery])
// and fragment redacted, and the rest cut to 256 bytes, as the access log
// writes Referer, Origin and Location headers.
func (m *Middleware) RedactURL(u string) string { return m.conf().redactURL(u) }

// RedactHeader returns the value of request header name as the access log
// would write it: [Redacted] for a sensitive header (see
// [Options.RedactHeaders]), a redacted URL for Referer, Origin, Location
// and Content-Location, otherwise the value cut to 256 bytes.
func (m *Middleware) RedactHeader(name, value string) string {
	return m.conf().redactHeader(textproto.CanonicalMIMEHeaderKey(name), value)
}

// RedactValues returns a copy of v, such as a parsed form, in which the
// values of sensitive parameters (see [Middleware.RedactQuery]) and values
// that look like a JWT are replaced by [Redacted]. Use it before logging
// form data.
func (m *Middleware) RedactValues(v url.Values) url.Values {
	c := m.conf()
	out := make(url.Values, len(v))
	for k, vs := range v {
		cp := make([]string, len(vs))
		sensitive := c.sensitiveKey(k)
		for i, s := range vs {
			if sensitive || looksSecret(s) {
				cp[i] = Redacted
			} else {
				cp[i] = s
			}
		}
		out[k] = cp
	}
	return out
}

func (c *config) redactHeader(name, value string) string {
	switch {
	case c.sensitiveHeader(name):
		return Redacted
	case urlHeaders[name]:
		return c.redactURL(value)
	}
	return truncate(value, maxValLog)
}

// sensitiveHeader reports whether the header with canonical name is
// redacted.
func (c *config) sensitiveHeader(name string) bool {
	if c.redactHeaders[name] {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range sensitiveHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func (c *config) redactURL(u string) string {
	// Browsers drop tabs and newlines anywhere in a URL: so does the log,
	// so that "https:\t//user:pw@host" is read as what it is.
	if strings.ContainsAny(u, "\t\r\n") {
		u = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, u)
	}
	u = c.redactUserinfo(u)
	rest, frag, hasFrag := strings.Cut(u, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	base = truncate(base, maxValLog)
	if !hasQuery && !hasFrag {
		return base
	}
	var b strings.Builder
	b.WriteString(base)
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(c.redactQuery(query))
	}
	if hasFrag && frag != "" {
		b.WriteString("#" + Redacted)
	}
	return b.String()
}

// redactQuery implements RedactQuery. It does not allocate when nothing
// needs redacting and the query fits.
func (c *config) redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	if len(raw) <= maxQueryLog && !c.anySensitive(raw) {
		return raw
	}
	// Bound the work on hostile queries: read at most maxScan bytes and
	// drop the item that limit cuts, so no part of a value is logged.
	cut := false
	if len(raw) > maxScan {
		raw = raw[:maxScan]
		cut = true
		i := strings.LastIndexAny(raw, "&;")
		if i < 0 {
			return truncated
		}
		raw = raw[:i]
	}
	var b strings.Builder
	b.Grow(min(len(raw)+len(truncated)+1, maxQueryLog))
	limit := maxQueryLog - len(truncated) - 1
	prevSep := byte(0)
	for rest := raw; ; {
		i := strings.IndexAny(rest, "&;")
		item := rest
		if i >= 0 {
			item = rest[:i]
		}
		piece := item
		if c.sensitiveItem(item) {
			if k, _, ok := strings.Cut(item, "="); ok && len(k) <= maxKeyLen {
				piece = k + "=" + Redacted
			} else {
				piece = Redacted
			}
		}
		need := len(piece)
		if prevSep != 0 {
			need++
		}
		if b.Len()+need > limit {
			if prevSep != 0 {
				b.WriteByte('&')
			}
			b.WriteString(truncated)
			break
		}
		if prevSep != 0 {
			b.WriteByte(prevSep)
		}
		b.WriteString(piece)
		if i < 0 {
			if cut {
				b.WriteByte('&')
				b.WriteString(truncated)
			}
			break
		}
		prevSep = rest[i]
		rest = rest[i+1:]
	}
	return b.String()
}

// anySensitive reports whether any item of raw is sensitive.
func (c *config) anySensitive(raw string) bool {
	for rest := raw; ; {
		i := strings.IndexAny(rest, "&;")
		item := rest
		if i >= 0 {
			item = rest[:i]
		}
		if c.sensitiveItem(item) {
			return true
		}
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	}
}

// sensitiveItem reports whether the query item "key=value" (or a bare
// "value") must be redacted.
func (c *config) sensitiveItem(item string) bool {
	k, v, ok := strings.Cut(item, "=")
	if !ok {
		return len(item) > maxBareItem
	}
	return c.sensitiveKey(k) || looksSecret(v)
}

// sensitiveKey reports whether the raw (still escaped) parameter name k is
// sensitive.
func (c *config) sensitiveKey(k string) bool {
	var buf [maxKeyLen]byte
	n, ok := normalizeInto(&buf, k)
	if !ok {
		return true // too long to match: redact
	}
	key := buf[:n]
	if c.redactParams[string(key)] {
		return true
	}
	for _, w := range sensitiveParamWords {
		if bytes.Contains(key, w) {
			return true
		}
	}
	return false
}

// looksSecret reports whether a value looks like a JWT or other
// base64-encoded JSON token, which is redacted whatever its name.
func looksSecret(v string) bool {
	return strings.HasPrefix(v, "eyJ") || strings.HasPrefix(v, "eyj")
}

// normalizeParam returns the normalized form of a configured name.
func normalizeParam(k string) (string, bool) {
	var buf [maxKeyLen]byte
	n, ok := normalizeInto(&buf, k)
	return string(buf[:n]), ok
}

// normalizeInto percent-decodes k ("+" is a space), lower-cases it and
// maps "-" to "_", into buf. It reports false when the result would not
// fit. A malformed escape is kept literally, as net/url would reject the
// whole query rather than guess.
func normalizeInto(buf *[maxKeyLen]byte, k string) (int, bool) {
	n := 0
	for i := 0; i < len(k); i++ {
		ch := k[i]
		switch ch {
		case '%':
			if b, ok := percent.Byte(k, i); ok {
				ch = b
				i += 2
			}
		case '+':
			ch = ' '
		}
		switch {
		case 'A' <= ch && ch <= 'Z':
			ch += 'a' - 'A'
		case ch == '-':
			ch = '_'
		}
		if n == len(buf) {
			return n, false
		}
		buf[n] = ch
		n++
	}
	return n, true
}

// redactUserinfo replaces the userinfo of u, if any, with [Redacted].
//
// The authority begins after "scheme://", or after a leading "//"
// (scheme-relative, as a Location may be). For the special schemes (http,
// https, ws, wss, ftp, file) and scheme-relative URLs browsers also read
// "\\" as "/" and "https:/host" as "https://host". Leading white space
// and control characters are skipped, as URL parsers do. As in a browser,
// the authority ends at the first "/", "?" or "#" (and "\\" for the
// special schemes), and its userinfo is what comes before its last "@".
//
// An authority whose port is not a number ("user:pa" in
// "user:pa?ss@host" or "key:se/cret@bucket") is no URL a browser accepts:
// it is a password holding one of those characters, so everything up to
// the last "@" of the URL is redacted. (Found in review: each of these
// forms kept its userinfo in the log.)
func (c *config) redactUserinfo(u string) string {
	head := u
	if k := strings.IndexAny(u, "?#"); k >= 0 {
		head = u[:k]
	}
	trimmed := strings.TrimLeftFunc(u, func(r rune) bool { return r <= ' ' })
	off := len(u) - len(trimmed)
	after, special, hasScheme := trimmed, true, false
	if i := strings.IndexByte(trimmed, ':'); i > 0 && isScheme(trimmed[:i]) {
		after, hasScheme = trimmed[i+1:], true
		special = isSpecialScheme(trimmed[:i])
	}
	seps := "/?#"
	if special {
		seps = "/\\?#"
	}
	start := -1
	n := len(after) - len(strings.TrimLeft(after, seps[:len(seps)-2]))
	switch {
	case n >= 2, n == 1 && hasScheme && special:
		start = off + len(trimmed) - len(after) + n
	case hasScheme:
		// "scheme:" without slashes: no authority, unless the text
		// before the first "?" or "#" has "://" further on.
		if i := strings.Index(head, "://"); i >= 0 {
			start, seps = i+3, "/?#"
		}
	default:
		// No scheme and no slashes: "user:pw@host/x" is taken for an
		// authority with userinfo.
		start = off
	}
	if start < 0 {
		// "mailto:user@host", "https:user:pw@host": the scheme-less
		// reading, from the start.
		start = off
	}
	auth := u[start:]
	end := strings.IndexAny(auth, seps)
	if end < 0 {
		end = len(auth)
	}
	if at := strings.LastIndexByte(auth[:end], '@'); at >= 0 {
		return u[:start] + Redacted + auth[at:]
	}
	if badPort(auth[:end]) {
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			return u[:start] + Redacted + auth[at:]
		}
	}
	return u
}

// badPort reports whether authority, which has no "@", has a port that is
// not one (hostport.ValidPort): "host:", "host:abc" or "host:99999",
// outside an IPv6 literal's brackets.
func badPort(authority string) bool {
	hp := authority
	if strings.HasPrefix(hp, "[") {
		k := strings.IndexByte(hp, ']')
		if k < 0 {
			return false
		}
		hp = hp[k+1:]
		if hp == "" {
			return false
		}
		if hp[0] != ':' {
			return true
		}
		return !hostport.ValidPort(hp[1:])
	}
	k := strings.LastIndexByte(hp, ':')
	if k < 0 {
		return false
	}
	return !hostport.ValidPort(hp[k+1:])
}

// isSpecialScheme reports whether scheme is one of the WHATWG URL
// standard's special schemes, in whose URLs "\\" is read as "/".
func isSpecialScheme(scheme string) bool {
	for _, sp := range [...]string{"http", "https", "ws", "wss", "ftp", "file"} {
		if httptoken.EqualFold(scheme, sp) {
			return true
		}
	}
	return false
}

// isScheme reports whether s is a URL scheme (RFC 3986 §3.1).
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
