package cors

import (
	"strings"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// acceptHeaders reports whether every element of the comma-separated
// Access-Control-Request-Headers lines is an allowed header name, ignoring
// case, and whether there was any non-empty element.
//
// An element is an allowed name or nothing, with at most one space or tab
// on each side. The lines are read once, left to right, and the work is
// bounded whatever their size (rs/cors#170): a name is read for at most one
// byte more than the longest allowed name, at most 16 empty elements are
// tolerated, and there can be no more names than allowed names (a browser
// sends each name once). A megabyte of commas or of one long name is
// rejected after a few hundred bytes. Browsers send one line; several
// lines, as some proxies split it into (rs/cors#184), are read as one list.
func (m *Middleware) acceptHeaders(lines []string) (nonEmpty, ok bool) {
	empty, names := 0, 0
	for _, s := range lines {
		for {
			// [OWS] name [OWS], then a comma or the end of the line.
			i := 0
			if i < len(s) && isOWS(s[i]) {
				i++
			}
			n := m.allowedNameAt(s[i:])
			if n < 0 {
				return false, false
			}
			j := i + n
			if j < len(s) && isOWS(s[j]) {
				j++
			}
			if j < len(s) && s[j] != ',' {
				return false, false
			}
			if n == 0 {
				empty++
				if empty > maxEmptyElements {
					return false, false
				}
			} else {
				names++
				if names > len(m.headers) {
					return false, false
				}
				nonEmpty = true
			}
			if j == len(s) {
				break
			}
			s = s[j+1:]
		}
	}
	return nonEmpty, true
}

// allowedNameAt returns the length of the allowed header name, ignoring
// case, that s starts with and that a comma, a space, a tab or the end of s
// follows; 0 if s is empty or starts with one of those (an empty element);
// and -1 otherwise. It reads at most one byte more than the longest allowed
// name.
func (m *Middleware) allowedNameAt(s string) int {
	if s == "" || isDelim(s[0]) {
		return 0
	}
	if m.fewHeaders != nil {
		// Compare each allowed name with the start of s: the bytes a
		// browser sends, in lower case, are found by a plain comparison.
		for _, a := range m.fewHeaders {
			if len(s) >= len(a) && (len(s) == len(a) || isDelim(s[len(a)])) {
				if p := s[:len(a)]; p == a || httptoken.EqualFold(a, p) {
					return len(a)
				}
			}
		}
		return -1
	}
	// Allowed names are tokens: the name ends at the first byte that is
	// not a tchar, and is too long if it runs past the longest allowed
	// name.
	j, end := 0, min(len(s), m.maxHeader+1)
	for j < end && httptoken.IsTchar(s[j]) {
		j++
	}
	if (j < len(s) && !isDelim(s[j])) || !m.headerAllowed(s[:j]) {
		return -1
	}
	return j
}

func isDelim(c byte) bool { return c == ',' || isOWS(c) }

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// headerAllowed looks name up in the map of allowed names, ignoring case,
// without allocating.
func (m *Middleware) headerAllowed(name string) bool {
	if len(name) > m.maxHeader {
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
// echoing back when every header is allowed: tokens separated by commas,
// each with optional white space around it ("a b" is refused), at most 80
// elements, empty ones included, and 1 KiB. It returns the
// value to send ("" when the list is empty). Several lines are joined,
// which allocates; browsers send one.
func echoHeaderList(lines []string) (string, bool) {
	total, names := 0, 0
	for _, s := range lines {
		total += len(s)
		if total > maxEchoACRH {
			return "", false
		}
		// gap: white space has followed a name in this element, so a
		// second name ("a b") would make it no list element at all.
		inName, gap := false, false
		for _, c := range []byte(s) {
			switch {
			case c == ',':
				names++
				inName, gap = false, false
			case c == ' ' || c == '\t':
				gap = inName
			case httptoken.IsTchar(c):
				if gap {
					return "", false
				}
				inName = true
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
