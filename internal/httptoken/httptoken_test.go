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
	for c := range 256 {
		want := c > 0x20 && c < 0x7f && !strings.ContainsRune(delimiters, rune(c))
		if got := httptoken.IsTchar(byte(c)); got != want {
			t.Errorf("IsTchar(%#x) = %v, want %v", c, got, want)
		}
	}
}

func TestEqualFold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s, t string
		want bool
	}{
		{"Bearer", "bearer", true},
		{"BEARER", "bearer", true},
		{"bearer", "BeArEr", true},
		{"__Host-", "__host-", true},
		{"", "", true},
		{"bearer", "bearer ", false},
		{"bearer", "bearex", false},
		{"[", "{", false}, // 0x5b and 0x7b differ by the case bit but are not letters
		{"@", "`", false},
		{"\u212aey", "key", false}, // KELVIN SIGN is not "k"
		{"\u017f", "s", false},     // LONG S is not "s"
	} {
		if got := httptoken.EqualFold(tc.s, tc.t); got != tc.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", tc.s, tc.t, got, tc.want)
		}
		if got := httptoken.EqualFold(tc.t, tc.s); got != tc.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", tc.t, tc.s, got, tc.want)
		}
	}
}

func TestTrimOWS(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":            "",
		" \t ":        "",
		"a":           "a",
		" \ta b\t ":   "a b",
		"\r\na\r\n":   "\r\na\r\n", // CR and LF are not optional white space
		"\u00a0a":     "\u00a0a",
		"\t192.0.2.1": "192.0.2.1",
	} {
		if got := httptoken.TrimOWS(in); got != want {
			t.Errorf("TrimOWS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHasPrefixFold(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s, prefix string
		want      bool
	}{
		{"__Host-id", "__Host-", true},
		{"__host-id", "__Host-", true},
		{"__HOST-", "__Host-", true},
		{"__Host", "__Host-", false},
		{"_Host-id", "__Host-", false},
		{"__\u212aost-id", "__Kost-", false}, // the Kelvin sign is not K
		{"", "", true},
	} {
		if got := httptoken.HasPrefixFold(tt.s, tt.prefix); got != tt.want {
			t.Errorf("HasPrefixFold(%q, %q) = %v, want %v", tt.s, tt.prefix, got, tt.want)
		}
	}
}

func TestIsScheme(t *testing.T) {
	for s, want := range map[string]bool{
		"https": true, "HTTP": true, "a": true, "z39.50r": true, "svn+ssh": true, "x-y": true,
		"": false, "1http": false, "+a": false, ".a": false, "ht tp": false, "ht_tp": false,
		"http:": false, "ht/tp": false, "é": false, "a\x00": false,
	} {
		if got := httptoken.IsScheme(s); got != want {
			t.Errorf("IsScheme(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSplitCredentials(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, scheme, credentials string
		ok                      bool
	}{
		{"Bearer k", "Bearer", "k", true},
		{"bearer k", "bearer", "k", true},
		{"Bearer   k", "Bearer", "k", true},
		{"Bearer k k ", "Bearer", "k k ", true}, // only the spaces after the scheme go
		{"Bearer ", "Bearer", "", true},
		{"Bearer", "", "", false},
		{"Bearerk", "", "", false},
		{"Bearer\tk", "", "", false}, // a tab does not end the scheme
		{" Bearer k", "", "", false},
		{"", "", "", false},
		{"Bé k", "", "", false}, // not a token
		{"Basic dXNlcjpwdw==", "Basic", "dXNlcjpwdw==", true},
	} {
		scheme, credentials, ok := httptoken.SplitCredentials(tt.in)
		if scheme != tt.scheme || credentials != tt.credentials || ok != tt.ok {
			t.Errorf("SplitCredentials(%q) = %q, %q, %v; want %q, %q, %v", tt.in, scheme, credentials, ok, tt.scheme, tt.credentials, tt.ok)
		}
	}
}
