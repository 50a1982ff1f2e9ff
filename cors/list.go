package cors

import (
	"strings"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// acceptHeaders reports whether every element of the comma-separated
// Access-Control-Request-Headers lines is an allowed header name, ignoring
// case, and whether there was any non-empty element.
//
// The work is bounded whatever the size of the lines (rs/cors#170): an
// element is looked for only in a window of the longest allowed name plus
// white space, at most 16 empty elements are tolerated, and there can be no
// more non-empty elements than allowed names (a browser sends each name
// once). A megabyte of commas or of one long name is rejected after a few
// hundred bytes. Browsers send one line; several lines, as some proxies
// split it into (rs/cors#184), are read as one list.
func (m *Middleware) acceptHeaders(lines []string) (nonEmpty, ok bool) {
	window := maxOWS + m.maxHeader + maxOWS + 1 // +1 for the comma
	empty, names := 0, 0
	for _, s := range lines {
		for {
			elem, rest, more := cutAtComma(s, window)
			if !more && len(rest) > 0 {
				return false, false // no comma within the window: too long
			}
			elem, trimmed := trimOWS(elem)
			if !trimmed {
				return false, false
			}
			if elem == "" {
				empty++
				if empty > maxEmptyElements {
					return false, false
				}
			} else {
				names++
				if names > len(m.headers) || !m.headerAllowed(elem) {
					return false, false
				}
				nonEmpty = true
			}
			if !more {
				break
			}
			s = rest
		}
	}
	return nonEmpty, true
}

// cutAtComma looks for a comma in the first n bytes of s. It returns the
// text before it, the text after it and true; or, when there is none,
// s[:n], s[n:] and false.
func cutAtComma(s string, n int) (before, after string, found bool) {
	end := min(len(s), n)
	if i := strings.IndexByte(s[:end], ','); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s[:end], s[end:], false
}

// trimOWS removes at most maxOWS spaces or tabs from each end of s. It
// reports false if more remain.
func trimOWS(s string) (string, bool) {
	for k := 0; k < maxOWS && len(s) > 0 && (s[0] == ' ' || s[0] == '\t'); k++ {
		s = s[1:]
	}
	for k := 0; k < maxOWS && len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t'); k++ {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		return s, false
	}
	return s, true
}

// headerAllowed looks name up in the allowed set, ignoring case, without
// allocating.
func (m *Middleware) headerAllowed(name string) bool {
	if len(name) > m.maxHeader {
		return false
	}
	if m.fewHeaders != nil {
		for _, s := range m.fewHeaders {
			if len(s) == len(name) && (s == name || equalLower(s, name)) {
				return true
			}
		}
		return false
	}
	if _, ok := m.headers[name]; ok {
		return true
	}
	var buf [maxHeaderName]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	_, ok := m.headers[string(buf[:len(name)])]
	return ok
}

// echoHeaderList validates the Access-Control-Request-Headers lines for
// echoing back when every header is allowed: tokens separated by commas
// and optional white space, at most 64 names and 1 KiB. It returns the
// value to send ("" when the list is empty). Several lines are joined,
// which allocates; browsers send one.
func echoHeaderList(lines []string) (string, bool) {
	total, names := 0, 0
	for _, s := range lines {
		total += len(s)
		if total > maxEchoACRH {
			return "", false
		}
		for _, c := range []byte(s) {
			switch {
			case c == ',':
				names++
			case c == ' ' || c == '\t' || httptoken.IsTchar(c):
			default:
				return "", false
			}
		}
		names++
		if names > maxEchoElements+maxEmptyElements {
			return "", false
		}
	}
	if len(lines) == 1 {
		return strings.Trim(lines[0], " \t,"), true
	}
	var nonEmpty []string
	for _, s := range lines {
		if s = strings.Trim(s, " \t,"); s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return strings.Join(nonEmpty, ", "), true
}

// equalLower reports whether s, ASCII upper case folded to lower, equals
// key. The two have the same length.
func equalLower(key, s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != key[i] {
			return false
		}
	}
	return true
}

// equalUpper reports whether s, ASCII lower case folded to upper, equals
// key. The two have the same length.
func equalUpper(key, s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != key[i] {
			return false
		}
	}
	return true
}
