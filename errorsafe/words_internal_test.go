package errorsafe

import (
	"slices"
	"strings"
	"testing"
)

// TestEverySensitiveWordIsFound checks the first-letter index against the
// list it is built from: each word is found alone, inside a longer name
// and at its end, and a word without its last letter is found only if it
// holds another word of the list.
func TestEverySensitiveWordIsFound(t *testing.T) {
	var c config
	for _, w := range sensitiveParamWords {
		for _, name := range []string{w, "x" + w + "9", "my_" + w, "Z-" + strings.ToUpper(w)} {
			if !c.sensitiveKey(name) {
				t.Errorf("%q (word %q) is not sensitive", name, w)
			}
		}
		cut := w[:len(w)-1]
		want := slices.ContainsFunc(sensitiveParamWords, func(o string) bool { return strings.Contains(cut, o) })
		if got := hasSensitiveWord([]byte(cut)); got != want {
			t.Errorf("hasSensitiveWord(%q) = %v, want %v", cut, got, want)
		}
	}
}
