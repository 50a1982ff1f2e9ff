package jsonesc

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tt := range []struct {
		in string
		r  rune
		n  int
	}{
		{`\u0041`, 'A', 6},
		{`\u0000`, 0, 6},
		{`\u00e9x`, 'é', 6},
		{`\uFFFD`, utf8.RuneError, 6},
		{`\ud83d\ude00`, '😀', 12},
		{`\uD83D\uDE00`, '😀', 12},
		{`\ud800`, -1, 6},
		{`\udc00`, -1, 6},
		{`\ud800\u0041`, -1, 6},
		{`\ud800\ud800`, -1, 6},
		{`\ud800\n`, -1, 6},
		{`\ud800\udc0`, -1, 6},
		{`\u12`, 0, 0},
		{`\u12g4`, 0, 0},
		{`\u`, 0, 0},
	} {
		if r, n := Escape([]byte(tt.in), 0); r != tt.r || n != tt.n {
			t.Errorf("Escape(%s) = %q, %d; want %q, %d", tt.in, r, n, tt.r, tt.n)
		}
	}
}

// Every escape Escape accepts decodes, in encoding/json, to the rune it
// returns; every surrogate it refuses decodes to U+FFFD there.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{`\u0041`, `\ud83d\ude00`, `\ud800`, `\udc00x`, `\ud800\u0041`, `\uffff`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if len(b) < 2 || b[0] != '\\' || b[1] != 'u' {
			return
		}
		r, n := Escape(b, 0)
		if n == 0 {
			return
		}
		var got string
		if err := json.Unmarshal([]byte(`"`+string(b[:n])+`"`), &got); err != nil {
			t.Fatalf("%q: encoding/json: %v", b[:n], err)
		}
		want := string(r)
		if r < 0 {
			want = "\uFFFD"
		}
		if r < 0 && n != 6 || r >= 0 && got != want {
			t.Fatalf("Escape(%q) = %q, %d; encoding/json reads %q", b, r, n, got)
		}
		if r < 0 && []rune(got)[0] != utf8.RuneError {
			t.Fatalf("Escape(%q) refused a surrogate encoding/json reads as %q", b, got)
		}
	})
}
