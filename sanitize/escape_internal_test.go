package sanitize

import (
	"strings"
	"testing"
)

// BenchmarkEscapeError measures the scan of string escapes over a 64 KiB
// body of text with a few escapes, as a comment field holds.
func BenchmarkEscapeError(b *testing.B) {
	body := []byte(`{"body":"` + strings.Repeat(`lorem ipsum dolor sit amet \"quoted\" \u00e9t\u00e9 `, 1300) + `"}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := escapeError(body); err != nil {
			b.Fatal(err)
		}
	}
}
