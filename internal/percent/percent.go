// Package percent reads the percent-encoded bytes of URLs (RFC 3986
// §2.1), one escape at a time and without allocating, for the packages
// that compare or normalize a query key or a path in place instead of
// decoding it into a new string.
package percent

// hexVal maps a hexadecimal digit, in either case, to its value and every
// other byte to 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

// Byte returns the byte encoded by the escape "%XY" that starts at s[i],
// whose two hexadecimal digits may be in either case. It reports false
// when fewer than two bytes follow s[i] or either is not a hexadecimal
// digit; it does not look at s[i] itself, which the caller has found to be
// '%'.
func Byte(s string, i int) (byte, bool) {
	if i < 0 || i+2 >= len(s) {
		return 0, false
	}
	hi, lo := hexVal[s[i+1]], hexVal[s[i+2]]
	if hi|lo > 0xf {
		return 0, false
	}
	return hi<<4 | lo, true
}

// QueryIs reports whether the query component s (a key or a value of a
// URL query or form body) decodes to want, '+' as a space and each valid
// escape as its byte, without allocating. An invalid escape stands for
// itself.
func QueryIs(s, want string) bool {
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if b, ok := Byte(s, i); ok {
				c = b
				i += 2
			}
		}
		if j >= len(want) || c != want[j] {
			return false
		}
		j++
	}
	return j == len(want)
}
