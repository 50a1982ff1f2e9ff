package auth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/percent"
)

// extract returns the one access token of r; private reports that it
// came from a cookie or the query string, where shared caches do not see
// it, and dpop that it came with the DPoP scheme (only with
// JWTOptions.DPoP). No token at all is the no-credentials error; a token
// in several places, two Authorization headers, or a malformed Bearer or
// DPoP credential is ErrTokenMalformed.
func (c *jwtConfig) extract(r *http.Request) (tok string, private, dpop bool, err error) {
	found := 0
	switch vals := r.Header["Authorization"]; len(vals) {
	case 0:
	case 1:
		t, isBearer, err := parseBearer(vals[0])
		if err == nil && !isBearer && c.dpop != nil {
			t, dpop, err = parseDPoP(vals[0])
		}
		if err != nil {
			return "", false, false, err
		}
		if isBearer || dpop {
			tok, found = t, 1
		}
	default:
		return "", false, false, ErrTokenMalformed
	}
	if c.cookie != "" {
		switch cs := r.CookiesNamed(c.cookie); len(cs) {
		case 0:
		case 1:
			tok, private = cs[0].Value, true
			found++
		default:
			return "", false, false, ErrTokenMalformed
		}
	}
	if c.query && r.URL != nil && r.URL.RawQuery != "" {
		t, n, ok := queryToken(r.URL.RawQuery)
		switch {
		case !ok || n > 1:
			return "", false, false, ErrTokenMalformed
		case n == 1:
			tok, private = t, true
			found++
		}
	}
	switch {
	case found == 0:
		return "", false, false, errNoToken
	case found > 1:
		return "", false, false, ErrTokenMalformed
	}
	if err := c.checkForm(tok); err != nil {
		return "", false, false, err
	}
	return tok, private, dpop, nil
}

// queryToken returns the access_token parameter of the query raw and how
// many there are, decoded as net/url decodes them. Other parameters are
// not parsed (found in review: url.ParseQuery failed on a stray "%" or a
// semicolon anywhere in the query, and the request was refused, its
// header token included). ok is false for a pair that could still be an
// access_token but cannot be read as one: one whose value does not decode,
// or one joined to others by semicolons, which net/url drops and a parser
// that splits on semicolons reads.
func queryToken(raw string) (tok string, n int, ok bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			for part := range strings.SplitSeq(pair, ";") {
				if isAccessTokenName(part) {
					return "", 0, false
				}
			}
			continue
		}
		if !isAccessTokenName(pair) {
			continue
		}
		_, v, _ := strings.Cut(pair, "=")
		t, err := url.QueryUnescape(v)
		if err != nil {
			return "", 0, false
		}
		tok = t
		n++
	}
	return tok, n, true
}

// isAccessTokenName reports whether the name of a query pair decodes to
// access_token, as net/url decodes it, without allocating.
func isAccessTokenName(pair string) bool {
	k, _, _ := strings.Cut(pair, "=")
	return percent.QueryIs(k, "access_token")
}

// checkForm refuses a token longer than MaxTokenBytes or outside RFC
// 6750's b64token alphabet, before any decoding: what every way in (a
// request, Verify, Revoke) checks first.
func (c *jwtConfig) checkForm(tok string) error {
	switch {
	case len(tok) > c.maxToken:
		return ErrTokenTooLarge
	case !isB64Token(tok):
		return ErrTokenMalformed
	}
	return nil
}

// parseBearer parses an Authorization value. isBearer is false for
// another scheme; a Bearer credential that is not "Bearer" 1*SP token is
// an error. The scheme is case-insensitive (RFC 9110 §11.1).
func parseBearer(v string) (tok string, isBearer bool, err error) {
	return parseScheme(v, "bearer")
}

// parseScheme parses an Authorization value of the token68-style scheme
// named in lower case, as parseBearer describes.
func parseScheme(v, scheme string) (tok string, isScheme bool, err error) {
	if len(v) < len(scheme) || !httptoken.EqualFold(v[:len(scheme)], scheme) {
		return "", false, nil
	}
	if len(v) == len(scheme) {
		return "", true, ErrTokenMalformed
	}
	if v[len(scheme)] != ' ' {
		return "", false, nil // "Bearerx ...": another scheme
	}
	i := len(scheme)
	for i < len(v) && v[i] == ' ' {
		i++
	}
	if i == len(v) {
		return "", true, ErrTokenMalformed
	}
	return v[i:], true, nil
}

// b64tokenChar holds the characters of RFC 6750's b64token before its
// padding; a table keeps the scan of a 8 KiB token to one load a byte.
var b64tokenChar = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	return t
}()

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		if !b64tokenChar[s[i]] {
			goto tail
		}
	}
	return true
tail:
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
