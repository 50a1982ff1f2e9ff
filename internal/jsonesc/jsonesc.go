// Package jsonesc decodes the \u escapes of JSON strings for the packages
// that check JSON text before encoding/json reads it (auth's token
// scanner, sanitize's body checks), so that they agree on which escapes
// name a character.
package jsonesc

// Escape decodes the \u escape that starts at b[i] (a backslash followed
// by u) and, when it is the high half of a UTF-16 surrogate pair, the low
// half that must follow it. It returns the code point and the number of
// bytes the escape spans: 6, or 12 for a pair. n is 0 when the four
// characters after \u are not hexadecimal digits. r is -1 for a surrogate
// that is not half of a pair ("\ud800" alone, "\udc00", "\ud800\u0041"),
// which encoding/json decodes to U+FFFD: two strings distinct to a parser
// that keeps lone surrogates would be one to it.
func Escape(b []byte, i int) (r rune, n int) {
	u, ok := hex4(b, i+2)
	if !ok {
		return 0, 0
	}
	switch {
	case 0xdc00 <= u && u <= 0xdfff:
		return -1, 6
	case 0xd800 <= u && u <= 0xdbff:
		j := i + 6
		if j+1 >= len(b) || b[j] != '\\' || b[j+1] != 'u' {
			return -1, 6
		}
		lo, ok := hex4(b, j+2)
		if !ok || lo < 0xdc00 || lo > 0xdfff {
			return -1, 6
		}
		return 0x10000 + (u-0xd800)<<10 + (lo - 0xdc00), 12
	}
	return u, 6
}

// hex4 decodes the four hexadecimal digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var u rune
	for _, h := range b[i : i+4] {
		switch {
		case '0' <= h && h <= '9':
			u = u<<4 | rune(h-'0')
		case 'a' <= h && h <= 'f':
			u = u<<4 | rune(h-'a'+10)
		case 'A' <= h && h <= 'F':
			u = u<<4 | rune(h-'A'+10)
		default:
			return 0, false
		}
	}
	return u, true
}
