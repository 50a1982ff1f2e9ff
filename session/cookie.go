package session

import (
	"errors"
	"net/http"
	"strings"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// maxCookieSize is the limit browsers place on one cookie: name, value and
// attributes together (RFC 6265 §6.1 asks for at least 4096 bytes; that
// is what browsers give).
const maxCookieSize = 4096

// maxCookies is the number of cookies above which net/http reads none
// from a request's Cookie lines (Go 1.25.2 and later, CVE-2025-58186):
// each line counts its ';' plus one.
const maxCookies = 3000

// cookieValue returns the value of the first well-formed cookie called
// name in the request's Cookie header lines, the way browsers send them
// ("a=1; b=2"). Surrounding double quotes are removed. A cookie whose value
// has a byte RFC 6265 forbids is skipped, as net/http skips it. Lines that
// hold more than maxCookies cookies give none, as net/http's default
// (its httpcookiemaxnum setting is not followed), so that the session is
// never found where the application's r.Cookie finds nothing (found by
// fuzzing). It does not allocate.
func cookieValue(h http.Header, name string) (string, bool) {
	lines := h["Cookie"]
	if tooManyCookies(lines) {
		return "", false
	}
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			part = httptoken.TrimOWS(part)
			if len(part) <= len(name) || part[len(name)] != '=' || part[:len(name)] != name {
				continue
			}
			v := part[len(name)+1:]
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if v != "" && validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// tooManyCookies reports whether lines hold more than maxCookies
// cookies as net/http counts them. Lines too short to hold that many
// ';' are not scanned.
func tooManyCookies(lines []string) bool {
	n := 0
	for _, line := range lines {
		n += len(line) + 1
	}
	if n <= maxCookies {
		return false
	}
	n = 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	return n > maxCookies
}

// validCookieValue reports whether v is made of RFC 6265 cookie-octets.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// validPath reports whether p can be a cookie Path attribute.
func validPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// validDomain reports whether d is a plausible host name for a cookie
// Domain attribute: dot-separated labels of letters, digits and hyphens.
func validDomain(d string) bool {
	d = strings.TrimPrefix(d, ".")
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Errors returned by [HardenCookie] and [SetCookie].
var (
	// ErrCookie is wrapped by every error about a cookie's attributes.
	ErrCookie = errors.New("session: invalid cookie")
)

// HardenCookie applies the package's cookie defaults to c, a cookie the
// application is about to set:
//
//   - Secure and HttpOnly are set;
//   - an empty Path becomes "/";
//   - a zero or default SameSite becomes [net/http.SameSiteLaxMode]
//     (Strict and None are kept; None is safe to send because Secure is set).
//
// The Partitioned attribute ([CHIPS]) is kept; Secure, which browsers
// require of a partitioned cookie, is set as on any other.
//
// It then checks what browsers would reject or an attacker could abuse and
// returns an error wrapping [ErrCookie] for: a name that is not an RFC 9110
// token, a value with bytes RFC 6265 forbids, a "__Host-" name with a Domain
// or a Path other than "/", an invalid Path or Domain, a Partitioned cookie
// that is not SameSite=None, and a cookie larger than 4096 bytes. A
// Partitioned cookie is meant for a cross-site frame, where browsers
// neither store nor send a Lax or Strict cookie, so it must say
// SameSite=None itself: HardenCookie does not turn the Lax default into
// None, as it is the less safe choice (see [Options.Partitioned]). To
// delete a partitioned cookie, set the expired cookie with Partitioned
// too: a Set-Cookie without it addresses an unpartitioned cookie of the
// same name. HttpOnly is always set: a cookie that JavaScript must read
// should not go through HardenCookie.
//
// HardenCookie is safe for concurrent use on different cookies.
//
// [CHIPS]: https://developer.mozilla.org/en-US/docs/Web/Privacy/Guides/Third-party_cookies/Partitioned_cookies
func HardenCookie(c *http.Cookie) error {
	if c == nil {
		return errors.Join(ErrCookie, errors.New("session: nil cookie"))
	}
	c.Secure = true
	c.HttpOnly = true
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteLaxMode
	}
	var errs []error
	if !httptoken.IsToken(c.Name) {
		errs = append(errs, errors.New("session: cookie name is not a token"))
	}
	if !validCookieValue(c.Value) {
		errs = append(errs, errors.New("session: cookie value has a forbidden byte"))
	}
	if !validPath(c.Path) {
		errs = append(errs, errors.New("session: cookie path is invalid"))
	}
	if c.Domain != "" && !validDomain(c.Domain) {
		errs = append(errs, errors.New("session: cookie domain is invalid"))
	}
	if httptoken.HasPrefixFold(c.Name, "__Host-") {
		if c.Domain != "" {
			errs = append(errs, errors.New("session: a __Host- cookie must not have a Domain"))
		}
		if c.Path != "/" {
			errs = append(errs, errors.New("session: a __Host- cookie must have Path=/"))
		}
	}
	switch c.SameSite {
	case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		errs = append(errs, errors.New("session: unknown SameSite mode"))
	}
	if c.Partitioned && c.SameSite != http.SameSiteNoneMode {
		errs = append(errs, errors.New("session: a Partitioned cookie must be SameSite=None"))
	}
	if len(errs) == 0 && len(c.String()) > maxCookieSize {
		errs = append(errs, errors.New("session: cookie exceeds 4096 bytes"))
	}
	if len(errs) > 0 {
		return errors.Join(append([]error{ErrCookie}, errs...)...)
	}
	return nil
}

// SetCookie hardens c with [HardenCookie] and, if that succeeds, adds it to
// w's headers with [net/http.SetCookie]. On error nothing is written.
func SetCookie(w http.ResponseWriter, c *http.Cookie) error {
	if err := HardenCookie(c); err != nil {
		return err
	}
	http.SetCookie(w, c)
	return nil
}
