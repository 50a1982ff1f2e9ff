// Package casefold is the one case folding of the packages that count or
// match names and paths without regard to case (ratelimit's user names,
// rbac's path rules), so that they agree on what is one name.
package casefold

import (
	"unicode"
	"unicode/utf8"
)

// Rune returns the lower case of the upper case of r, or, where the runes
// strings.EqualFold takes for r have several, the least of them. It is the
// same for every rune strings.EqualFold takes for r ("ſ" (U+017F) and "S"
// give "s", the Kelvin sign "k", final sigma "σ"), and it gives "i" for
// "İ" and "ı", which strings.ToLower and strings.ToUpper map to ASCII
// letters, as collations that compare upper case do.
//
// The least is needed since Unicode 16 (Go 1.27's tables), whose simple
// case folding joins runes that upper and lower case leave apart: "ΐ"
// (U+1FD3) with "ΐ" (U+0390), "ΰ" (U+1FE3) with "ΰ" (U+03B0), "ﬆ"
// (U+FB06) with "ﬅ" (U+FB05). The lower case of the upper case alone kept
// them apart there, while a router or a user store comparing with
// strings.EqualFold takes them for one name.
func Rune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	c := unicode.ToLower(unicode.ToUpper(r))
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		c = min(c, unicode.ToLower(unicode.ToUpper(f)))
	}
	return c
}
