package errorsafe

import (
	"math/bits"
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
	maxQueryLog = 1024    // bytes of a query logged, marker included
	maxScan     = 4096    // bytes of a query read; the item they cut is dropped
	maxKeyLen   = 64      // longest parameter name matched; longer ones are redacted
	maxBareItem = 32      // longest query item without "=" logged as is
	maxURLScan  = 8 << 10 // longest URL header value read; longer ones are redacted whole
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
// one of them. "jwt", "assertion", "dpop" and "oidc" cover the identity
// proxies' headers (Cf-Access-Jwt-Assertion, X-Goog-Iap-Jwt-Assertion,
// X-Amzn-Oidc-Data, DPoP); "otp", "mfa" and "passcode" the one-time codes
// of second factors (X-GitHub-OTP), and "pwd" and "passphrase" passwords
// (X-Db-Pwd), as for parameters.
var sensitiveHeaderWords = []string{
	"auth", "token", "secret", "key", "passw", "session", "cookie", "credential", "signature",
	"jwt", "assertion", "dpop", "oidc", "otp", "mfa", "passcode", "pwd", "passphrase",
}

// How a logged header is written.
const (
	hdrPlain uint8 = iota
	hdrRedact
	hdrURL
)

// urlHeaders carry URLs whose query and credentials are redacted: the
// standard ones, and the request target a proxy forwards, query included
// (Traefik's and nginx's forward authentication, IIS rewrites, Envoy).
// (Found in review: those were logged as plain values, so a secret the
// request's own query had redacted was logged in clear.)
var urlHeaders = map[string]bool{
	"Referer":               true,
	"Origin":                true,
	"Location":              true,
	"Content-Location":      true,
	"X-Forwarded-Uri":       true,
	"X-Original-Uri":        true,
	"X-Original-Url":        true,
	"X-Rewrite-Url":         true,
	"X-Envoy-Original-Path": true,
}

// defaultRedactParams are parameter names redacted on exact match of
// their normalized forms (see normalizeInto: "state-token" is
// "statetoken").
var defaultRedactParams = []string{
	"pwd", "pass", "pin", "otp", "key", "code", "sig", "jwt", "sid", "ssn",
	"assertion", "client_assertion", "code_verifier", "state_token",
}

// sensitiveParamWords redact any parameter whose normalized name (lower
// case letters and digits only: "Pass-Word", "pass_word" and "PassWord"
// are all "password") contains one of them. "passw" is that of the
// header names: "password", "passwd", and "Passwort" too.
var sensitiveParamWords = []string{
	"passw", "passphrase", "pwd", "secret",
	"token", "apikey", "auth",
	"credential", "signature", "session", "private",
	"cookie", "passcode", "sessid",
	"mfa", "totp", "jwt", "assertion", "samlresponse",
	// A card's security code, which PCI DSS forbids keeping once the
	// payment is authorized, logs included ("cvv2", "cardCvc").
	"cvv", "cvc",
	// One-time codes ("otp_code", "smsCode", "verification-code"), but
	// not "country_code" or "postcode".
	"otpcode", "smscode", "pincode", "verificationcode",
	"verifycode", "resetcode", "recoverycode", "backupcode",
	"activationcode", "confirmationcode", "securitycode",
}

// sensitiveWordsAt lists sensitiveParamWords by first letter, so that a
// name is scanned once, trying at each position only the words that
// start with its letter, instead of once per word.
var sensitiveWordsAt = func() (t [26][]string) {
	for _, w := range sensitiveParamWords {
		t[w[0]-'a'] = append(t[w[0]-'a'], w)
	}
	return t
}()

// hasSensitiveWord reports whether the normalized name key (lower-case
// letters and digits) contains one of sensitiveParamWords.
func hasSensitiveWord(key []byte) bool {
	for i, ch := range key {
		if ch < 'a' || ch > 'z' {
			continue
		}
		for _, w := range sensitiveWordsAt[ch-'a'] {
			if len(key)-i >= len(w) && string(key[i:i+len(w)]) == w {
				return true
			}
		}
	}
	return false
}

// sensitiveLastWords redact any parameter whose last word (see normalizeInto)
// is one of them: "user_pass", "new_pw", "userPin", "email-otp", but not
// "bypass". "ticket" is the CAS service ticket ("ticket=ST-…"), which logs
// into the service that validates it.
var sensitiveLastWords = []string{"pass", "pw", "pin", "otp", "ticket"}

// keyWords are common words ending in "key": a name that ends with one of
// them is not taken for a key ("monkey", but "masterkey" is one).
var keyWords = []string{"monkey", "donkey", "turkey", "hockey", "jockey", "whiskey"}

// RedactQuery returns rawQuery, a URL query string, with the values of
// sensitive parameters replaced by [Redacted], as the access log writes
// it. A parameter name is normalized before matching: percent-decoded,
// with ASCII letters lower-cased and every byte that is not an ASCII
// letter or digit dropped, so "Pass-Word", "pass_word", "api.key" and
// "accessKey" read as "password", "apikey" and "accesskey". A parameter
// is sensitive when its normalized name
//
//   - contains one of "passw" ("password", "passwd", "Passwort"),
//     "passphrase", "pwd", "secret", "token", "apikey", "auth", "credential", "signature",
//     "session", "private", "cookie", "passcode", "sessid" (PHPSESSID),
//     "mfa", "totp", "jwt", "assertion", "samlresponse", or a card's
//     security code, "cvv" or "cvc";
//   - contains "code" right after "otp", "sms", "pin", "verification",
//     "verify", "reset", "recovery", "backup", "activation",
//     "confirmation" or "security" ("smsCode", "reset_code"; not
//     "country_code" or "postcode");
//   - has "key" or "keys" as a word of its own ("subscription-key",
//     "accessKeyId", "api_keys"), or ends with "key" or "keys" but not
//     with a common word such as "monkey" or "turkey" ("masterkey");
//     "keyword" and "keyboard" are kept;
//   - ends with the word "pass", "pw", "pin", "otp" or "ticket"
//     ("user_pass", "newPw", "userPin", "serviceTicket"; not "bypass" or
//     "ticketId");
//   - equals a short name such as "code", "key", "pw", "pin", "otp" or
//     "sig";
//   - or is listed in [Options.RedactParams].
//
// Words are separated by any byte that is not a letter or digit, and
// begin at an upper-case letter after a lower-case letter or a digit
// (camelCase) and where letters and digits meet. Names longer than 64
// bytes are redacted too, and so are values that look like a JWT
// ("eyJ…", also percent-encoded), values holding a query or fragment
// with an item these rules redact ("next=/reset?token=…", also
// percent-encoded, or "a=1#access_token=…" from a request target with a
// "#"), and items without "=" longer than 32 bytes. A value that holds a
// URL with userinfo ("next=https://user:pw@host/") has
// the userinfo redacted, or the whole value when the URL is
// percent-encoded. Both "&" and ";" separate items. The result is at
// most 1024 bytes: items that do not fit are dropped and "[TRUNCATED]"
// ends the list. Only the first 4096 bytes are read, so hostile queries
// cost little.
//
// RedactQuery is safe for concurrent use. The zero Middleware uses the
// built-in lists.
func (m *Middleware) RedactQuery(rawQuery string) string { return m.conf().redactQuery(rawQuery) }

// RedactURL returns u with its userinfo, query (see [Middleware.RedactQuery])
// and fragment redacted, and the rest cut to 256 bytes, as the access log
// writes Referer, Origin and Location headers. If the text so cut and
// redacted would read as a URL with userinfo, which u is not, the part
// before the query is [Redacted] as a whole. A u longer than 8 KiB is
// [Redacted] whole, unread: browsers send no Referer over 4 KiB, and a
// hostile one would cost more to read than it tells.
func (m *Middleware) RedactURL(u string) string { return m.conf().redactURL(u) }

// RedactHeader returns the value of request header name as the access log
// would write it: [Redacted] for a sensitive header (see
// [Options.RedactHeaders]), a redacted URL (see [Middleware.RedactURL]) for
// Referer, Origin, Location, Content-Location and the forwarded request
// targets X-Forwarded-Uri, X-Original-Uri, X-Original-Url, X-Rewrite-Url and
// X-Envoy-Original-Path, otherwise [Redacted] if the value holds a JWT (a
// word starting with "eyJ", as in "Bearer eyJ…") and else the value cut to
// 256 bytes. Bidirectional controls in the result are replaced by U+FFFD.
func (m *Middleware) RedactHeader(name, value string) string {
	return m.conf().redactHeader(textproto.CanonicalMIMEHeaderKey(name), value)
}

// RedactValues returns a copy of v, such as a parsed form, in which the
// values of sensitive parameters (see [Middleware.RedactQuery]), values
// that look like a JWT and values holding a query or fragment with a
// sensitive item are replaced by [Redacted], and URLs have their
// userinfo redacted. Use it before logging form data.
func (m *Middleware) RedactValues(v url.Values) url.Values {
	c := m.conf()
	out := make(url.Values, len(v))
	for k, vs := range v {
		cp := make([]string, len(vs))
		sensitive := c.sensitiveKey(k)
		for i, s := range vs {
			if sensitive {
				cp[i] = Redacted
			} else {
				cp[i] = c.redactValue(s)
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
		return noBidi(c.redactURL(value))
	}
	return plainHeader(value)
}

// plainHeader returns the value of a header neither sensitive nor a URL
// as logged: cut to 256 bytes, or [Redacted] if it holds a JWT. (Found in
// review: the JWTs of Cf-Access-Jwt-Assertion and similar headers were
// logged in full.)
func plainHeader(value string) string {
	value = truncate(value, maxValLog)
	if hasJWT(value) {
		return Redacted
	}
	return value
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
	if len(u) > maxURLScan {
		// Read whole, several times over, for the 256 bytes logged, a
		// 1 MB value cost 7 to 9 ms (found in review). Cut first, it
		// could read otherwise ("https://u:" and a long password, whose
		// "@" the cut drops, is no userinfo any more).
		return Redacted
	}
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
	var sep, q, fragment string // the query and fragment as logged
	if hasQuery {
		sep, q = "?", c.redactQuery(query)
	}
	if hasFrag && frag != "" {
		fragment = "#" + Redacted
	}
	// The logged text must read as the URL did: if it reads otherwise,
	// showing what looks like userinfo (and changing when redacted
	// again), its part before the query is not logged at all. Clipping
	// to 256 bytes can do that ("x:…" whose later "://" is cut off, found
	// by the fuzzer; a port "1" cut to ":", no number, which makes an "@"
	// of the query the end of a password holding "?"), and so can the
	// redacted query: "//h:1?" with a 33-byte item ending in "/" and then
	// ";x@" is logged as "//h:1?[REDACTED];x@", whose "@" no "/" precedes
	// any more (both found in review).
	out := truncate(base, maxValLog) + sep + q + fragment // one allocation
	if c.redactUserinfo(out) != out {
		return Redacted + sep + q + fragment
	}
	return out
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
		name, value, _ := c.redactItem(item)
		need := len(value)
		if name != "" {
			need += len(name) + 1
		}
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
		if name != "" {
			b.WriteString(name)
			b.WriteByte('=')
		}
		b.WriteString(value)
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

// anySensitive reports whether any item of raw is redacted.
func (c *config) anySensitive(raw string) bool {
	for rest := raw; ; {
		i := strings.IndexAny(rest, "&;")
		item := rest
		if i >= 0 {
			item = rest[:i]
		}
		if _, _, changed := c.redactItem(item); changed {
			return true
		}
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	}
}

// redactItem reports whether the query item "key=value" (or a bare
// "value") is logged other than as it is, and if so, as name "=" value,
// or as value alone when name is "". It does not allocate unless a URL's
// userinfo is redacted.
func (c *config) redactItem(item string) (name, value string, changed bool) {
	k, v, ok := strings.Cut(item, "=")
	if !ok {
		// A short item can still hold base64 JSON after an escaped "="
		// ("state%3DeyJ…"), as a plain header can (see hasJWT).
		if len(item) > maxBareItem || hasJWT(item) {
			return "", Redacted, true
		}
		return "", item, false
	}
	if c.sensitiveKey(k) {
		v = Redacted
	} else if rv := c.redactValue(v); rv != v {
		v = rv
	} else {
		return "", item, false
	}
	if len(k) > maxKeyLen {
		return "", Redacted, true
	}
	if k == "" {
		// A name is written with its "="; without one the "=" must stay,
		// or the logged item reads as a bare one (found by the fuzzer).
		return "", "=" + v, true
	}
	return k, v, true
}

// redactValue returns the parameter value v (raw from a query, or
// decoded from a form) as logged: [Redacted] if it looks like a JWT,
// holds a query or fragment with a sensitive item (see nestedSecret), or
// is a percent-encoded URL with userinfo, the URL with its userinfo
// redacted if it is one, else v itself, without allocating. (Found in
// review: "x=%65yJ…" and "next=https://user:pw@host" were logged as is.)
func (c *config) redactValue(v string) string {
	switch {
	case looksSecret(v), c.nestedSecret(v):
		return Redacted
	case looksLikeURL(v):
		return c.redactUserinfo(v)
	case c.encodedUserinfo(v):
		return Redacted
	}
	return v
}

// nestedSecret reports whether the value v holds a query or fragment, as
// a URL does, with an item that is redacted at the top level: a sensitive
// name, or a value that looks like a JWT ("next=/reset?token=…",
// "u=https%3A%2F%2Fh%2Fcb%23access_token%3D…", or "a=1#access_token=…"
// from a request target with a "#"). Items are separated by "&", ";",
// "?" and "#", so URLs nested deeper are read too. v is percent-decoded
// first when its "?" or "#" is escaped, which costs an allocation; other
// values cost none. (Found in review: only top-level names were read.)
func (c *config) nestedSecret(v string) bool {
	if !strings.ContainsAny(v, "?#%") {
		return false // most values: one scan instead of the four below
	}
	i := strings.IndexAny(v, "?#")
	if i < 0 {
		if !strings.Contains(v, "%3F") && !strings.Contains(v, "%3f") && !strings.Contains(v, "%23") {
			return false
		}
		v = percentDecode(v)
		if i = strings.IndexAny(v, "?#"); i < 0 {
			return false
		}
	}
	for rest := v[i+1:]; rest != ""; {
		item := rest
		if j := strings.IndexAny(rest, "&;?#"); j >= 0 {
			item, rest = rest[:j], rest[j+1:]
		} else {
			rest = ""
		}
		if k, val, ok := strings.Cut(item, "="); ok && (c.sensitiveKey(k) || looksSecret(val)) {
			return true
		}
	}
	return false
}

// percentDecode returns v with its valid percent escapes decoded and "+"
// read as a space; a malformed escape is kept as it is.
func percentDecode(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch ch {
		case '%':
			if d, ok := percent.Byte(v, i); ok {
				ch = d
				i += 2
			}
		case '+':
			ch = ' '
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// looksLikeURL reports whether v may hold a URL with an authority.
func looksLikeURL(v string) bool {
	return strings.Contains(v, "://") || strings.HasPrefix(v, "//")
}

// encodedUserinfo reports whether v, once percent-decoded, is a URL with
// userinfo ("https%3A%2F%2Fuser%3Apw%40host"). Only a value with an
// escaped "/" and an "@", escaped or not, is decoded, so that common
// values cost no allocation.
func (c *config) encodedUserinfo(v string) bool {
	if !strings.Contains(v, "@") && !strings.Contains(v, "%40") {
		return false
	}
	if !strings.Contains(v, "%2F") && !strings.Contains(v, "%2f") {
		return false
	}
	d := percentDecode(v)
	return looksLikeURL(d) && c.redactUserinfo(d) != d
}

// sensitiveKey reports whether the parameter name k (raw from a query,
// or decoded from a form) is sensitive: see [Middleware.RedactQuery] for
// the rules.
func (c *config) sensitiveKey(k string) bool {
	var buf [maxKeyLen]byte
	n, starts, ok := normalizeInto(&buf, k)
	if !ok {
		return true // too long to match: redact
	}
	if n == 0 {
		return false // "", "-", "[]"
	}
	key := buf[:n]
	if c.redactParams[string(key)] {
		return true
	}
	if hasSensitiveWord(key) {
		return true
	}
	if endsWithKey(key) || hasWord(key, starts, "key") || hasWord(key, starts, "keys") {
		return true
	}
	last := key[bits.Len64(starts)-1:]
	for _, w := range sensitiveLastWords {
		if string(last) == w { // compared in place, not copied
			return true
		}
	}
	return false
}

// endsWithKey reports whether the normalized name key ends with "key" or
// "keys" but not with one of keyWords.
func endsWithKey(key []byte) bool {
	if hasSuffix(key, "s") {
		key = key[:len(key)-1]
	}
	if !hasSuffix(key, "key") {
		return false
	}
	for _, w := range keyWords {
		if hasSuffix(key, w) {
			return false
		}
	}
	return true
}

func hasSuffix(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && string(b[len(b)-len(suffix):]) == suffix
}

// hasWord reports whether w is a word of the normalized name key, whose
// words start at the positions set in starts (see normalizeInto).
func hasWord(key []byte, starts uint64, w string) bool {
	for i := 0; i+len(w) <= len(key); i++ {
		end := i + len(w)
		if starts&(1<<i) != 0 && string(key[i:end]) == w && (end == len(key) || starts&(1<<end) != 0) {
			return true
		}
	}
	return false
}

// looksSecret reports whether a value looks like a JWT or other
// base64-encoded JSON token, which is redacted whatever its name: it
// starts with "eyJ", possibly percent-encoded ("%65yJ").
func looksSecret(v string) bool {
	var head [3]byte
	n := 0
	for i := 0; i < len(v) && n < len(head); i++ {
		ch := v[i]
		if ch == '%' {
			if b, ok := percent.Byte(v, i); ok {
				ch = b
				i += 2
			}
		}
		head[n] = ch
		n++
	}
	return n == len(head) && head[0] == 'e' && head[1] == 'y' && (head[2] == 'J' || head[2] == 'j')
}

// hasJWT reports whether a word of the header value v looks like a JWT
// (see looksSecret): one starting at the beginning of v or after a byte
// that cannot be part of a base64 token, as in "Bearer eyJ…" or
// "token=eyJ…", or after the percent escape of such a byte, as in
// "state%3DeyJ…" or "Bearer%20eyJ…" (found in review: a header carrying
// an encoded URL, such as X-Original-Uri, logged base64 JSON after an
// encoded "=" in full, while "%65yJ…" alone was redacted; a whole JWT
// was caught anyway by the ".eyJ" of its claims).
func hasJWT(v string) bool {
	for i := 0; i < len(v); i++ {
		if wordStart(v, i) && looksSecret(v[i:]) {
			return true
		}
	}
	return false
}

// wordStart reports whether a base64 token can start at v[i]: at the
// beginning of v, or after a byte, written as it is or percent-encoded,
// that cannot be part of one.
func wordStart(v string, i int) bool {
	if i == 0 || !isBase64Byte(v[i-1]) {
		return true
	}
	b, ok := percent.Byte(v, i-3)
	return ok && v[i-3] == '%' && !isBase64Byte(b)
}

// isBase64Byte reports whether ch is in the base64 or base64url alphabet.
func isBase64Byte(ch byte) bool {
	return 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
		ch == '-' || ch == '_' || ch == '+' || ch == '/'
}

// normalizeParam returns the normalized form of a configured name.
func normalizeParam(k string) (string, bool) {
	var buf [maxKeyLen]byte
	n, _, ok := normalizeInto(&buf, k)
	return string(buf[:n]), ok
}

// normalizeInto writes the normalized form of the parameter name k into
// buf: k percent-decoded, with ASCII letters lower-cased and every byte
// that is not an ASCII letter or digit dropped, so that "Pass-Word",
// "pass_word", "pass+word" and "PassWord" all read "password". It
// returns the length written and, as bit i of starts, where in buf the
// words of k start: after a dropped byte, at an upper-case letter that
// follows a lower-case one or a digit (camelCase), and where digits and
// letters meet. It reports false when k decodes to more than maxKeyLen
// bytes. A malformed escape is kept literally, as net/url would reject
// the whole query rather than guess.
func normalizeInto(buf *[maxKeyLen]byte, k string) (n int, starts uint64, ok bool) {
	const (
		none = iota // no letter or digit yet, or a dropped byte
		lower
		upper
		digit
	)
	decoded, prev := 0, none
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if ch == '%' {
			if b, ok := percent.Byte(k, i); ok {
				ch = b
				i += 2
			}
		}
		decoded++
		if decoded > maxKeyLen {
			return n, starts, false
		}
		class := none
		switch {
		case 'a' <= ch && ch <= 'z':
			class = lower
		case 'A' <= ch && ch <= 'Z':
			class = upper
			ch += 'a' - 'A'
		case '0' <= ch && ch <= '9':
			class = digit
		}
		if class == none {
			prev = none
			continue
		}
		if prev == none || class == upper && prev != upper || (class == digit) != (prev == digit) {
			starts |= 1 << n
		}
		buf[n] = ch
		n++
		prev = class
	}
	return n, starts, true
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
// the last "@" of the URL is redacted. So is what comes before the first
// "@" of a query or fragment that follows a numeric port, when no "=",
// "&" or "/" precedes it ("user:1234?5678@host": a numeric password
// holding "?"). (Found in review: each of these forms kept its userinfo in
// the log.)
func (c *config) redactUserinfo(u string) string {
	head := u
	if k := strings.IndexAny(u, "?#"); k >= 0 {
		head = u[:k]
	}
	trimmed := strings.TrimLeftFunc(u, func(r rune) bool { return r <= ' ' })
	off := len(u) - len(trimmed)
	after, special, hasScheme := trimmed, true, false
	if i := strings.IndexByte(trimmed, ':'); i > 0 && httptoken.IsScheme(trimmed[:i]) {
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
	case n >= 2, hasScheme && special:
		// A special scheme's authority starts after its colon and any
		// slashes: "https:bob:pw@host", with nothing to tell it from a
		// path, is bob's (found by the fuzzer: a "://" further on, as in
		// "https:bob:pw@host://", was taken for the authority's start).
		start = off + len(trimmed) - len(after) + n
	case hasScheme:
		// Another "scheme:" without slashes: no authority, unless the
		// text before the first "?" or "#" has "://" further on
		// ("jdbc:mysql://user:pw@host"). But when the text up to the
		// first "/" has an "@", it is read from the start as an
		// authority with userinfo, whatever follows: "bob:pw@host/x://"
		// is bob's password, not a scheme "bob" (found by the fuzzer).
		if lead := head[off:]; strings.IndexByte(lead[:max(strings.IndexByte(lead, '/'), 0)], '@') >= 0 {
			break
		}
		if i := strings.Index(head, "://"); i >= 0 {
			start, seps = i+3, "/?#"
		}
	default:
		// No scheme and no slashes: "user:pw@host/x" is taken for an
		// authority with userinfo.
		start = off
	}
	if start < 0 {
		// "mailto:user@host", "urn:user:pw@host": the scheme-less
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
	if a := auth[:end]; end < len(auth) && (auth[end] == '?' || auth[end] == '#') && strings.LastIndexByte(a, ':') > strings.LastIndexByte(a, ']') {
		// "user:1234?5678@host": a port, then a query or fragment that
		// holds an "@" with no "=", "&" or "/" before it, is rather a
		// numeric password holding "?" or "#". A query with parameters
		// ("host:8443?email=a@b") is no such thing.
		// The last "@" before any of them is the userinfo's end, as the
		// last "@" of an authority is: redacting the output again
		// leaves it as it is (found by the fuzzer: "//:1#@@" kept an
		// "@" that the next pass took for userinfo).
		rest := auth[end+1:]
		if j := strings.IndexAny(rest, "=&/#"); j >= 0 {
			rest = rest[:j]
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			// The output is read again as an authority up to its first
			// separator: an "@" there ends the userinfo too (found by the
			// fuzzer: "//:1#@=@" gave "//[REDACTED]@=@", which the next
			// pass cut to "//[REDACTED]@").
			tail := auth[end+1+at:]
			seg := tail
			if k := strings.IndexAny(tail, seps); k >= 0 {
				seg = tail[:k]
			}
			return u[:start] + Redacted + tail[strings.LastIndexByte(seg, '@'):]
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
