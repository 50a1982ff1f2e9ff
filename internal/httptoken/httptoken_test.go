package httptoken_test

import (
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/httptoken"
)

func TestIsToken(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"Content-Type", "x-api-key", "GET", "__Host-session", "!#$%&'*+-.^_`|~09azAZ"} {
		if !httptoken.IsToken(s) {
			t.Errorf("%q is a token", s)
		}
	}
	for _, s := range []string{"", "a b", "a:b", "a\x00", "é", "a\"b", "(x)", "a,b", "a;b", "a=b", "a/b", "[x]", "{x}", "a\tb", "a@b", "a?b", "a\\b"} {
		if httptoken.IsToken(s) {
			t.Errorf("%q is not a token", s)
		}
	}
}

func TestIsTcharMatchesTheGrammar(t *testing.T) {
	t.Parallel()
	const delimiters = "\"(),/:;<=>?@[\\]{}"
	for c := 0; c < 256; c++ {
		want := c > 0x20 && c < 0x7f && !strings.ContainsRune(delimiters, rune(c))
		if got := httptoken.IsTchar(byte(c)); got != want {
			t.Errorf("IsTchar(%#x) = %v, want %v", c, got, want)
		}
	}
}
