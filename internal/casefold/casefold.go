// Package casefold is the one case folding of the packages that count or
// match names and paths without regard to case (ratelimit's user names,
// rbac's path rules), so that they agree on what is one name.
package casefold

import (
	"unicode"
	"unicode/utf8"
)

// Rune returns the lower case of the upper case of r. It is the same for
// every rune strings.EqualFold takes for r ("ſ" (U+017F) and "S" give "s",
// the Kelvin sign "k", final sigma "σ"), and it gives "i" for "İ" and "ı",
// which strings.ToLower and strings.ToUpper map to ASCII letters, as
// collations that compare upper case do.
func Rune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}
