package httptoken_test

import (
	"net/url"
	"slices"
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

// TestEqualFoldEveryBytePair: for every pair of bytes, EqualFold (on a
// string and on bytes) agrees with strings.EqualFold restricted to ASCII:
// letters fold, nothing else does, and a byte of 0x80 or above equals only
// itself.
func TestEqualFoldEveryBytePair(t *testing.T) {
	t.Parallel()
	for a := range 256 {
		for b := range 256 {
			s, u := string([]byte{byte(a)}), string([]byte{byte(b)})
			want := a == b || a < 0x80 && b < 0x80 && strings.EqualFold(s, u)
			if got := httptoken.EqualFold(s, u); got != want {
				t.Fatalf("EqualFold(%#x, %#x) = %v, want %v", a, b, got, want)
			}
			if got := httptoken.EqualFold([]byte(s), u); got != want {
				t.Fatalf("EqualFold([]byte{%#x}, %#x) = %v, want %v", a, b, got, want)
			}
		}
	}
}

// TestIsSchemeIsToken: every scheme is a token, byte by byte.
func TestIsSchemeIsToken(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		for _, s := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)})} {
			if httptoken.IsScheme(s) && !httptoken.IsToken(s) {
				t.Errorf("IsScheme(%q) but not IsToken", s)
			}
		}
	}
}

var sinkBool bool
var sinkScheme, sinkCredentials string

// TestDoesNotAllocate: EqualFold, on strings and bytes, and
// SplitCredentials do not allocate.
func TestDoesNotAllocate(t *testing.T) {
	b := []byte("BEARER")
	for name, f := range map[string]func(){
		"EqualFold":        func() { sinkBool = httptoken.EqualFold("BEARER", "bearer") },
		"EqualFold(bytes)": func() { sinkBool = httptoken.EqualFold(b, "bearer") },
		"SplitCredentials": func() { sinkScheme, sinkCredentials, sinkBool = httptoken.SplitCredentials("Bearer   abc def") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}

// FuzzEqualFold checks EqualFold against strings.EqualFold wherever both
// are ASCII, and that it never equates a non-ASCII byte with another.
func FuzzEqualFold(f *testing.F) {
	f.Add("Bearer", "bearer")
	f.Add("\u212aey", "key")
	f.Add("[", "{")
	f.Fuzz(func(t *testing.T, s, u string) {
		got := httptoken.EqualFold(s, u)
		if got != httptoken.EqualFold([]byte(s), u) {
			t.Fatalf("EqualFold(%q, %q) differs on bytes", s, u)
		}
		if got != (asciiLower(s) == asciiLower(u)) {
			t.Fatalf("EqualFold(%q, %q) = %v", s, u, got)
		}
		if isASCII(s) && isASCII(u) && got != strings.EqualFold(s, u) {
			t.Fatalf("EqualFold(%q, %q) = %v, strings.EqualFold says otherwise", s, u, got)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzSplitCredentials checks that an accepted value is the scheme, a
// token, then one or more spaces, then the credentials, which do not
// start with a space: the value rebuilds from them.
func FuzzSplitCredentials(f *testing.F) {
	for _, s := range []string{"Bearer k", "Bearer   k", "Bearer\tk", " Bearer k", "Basic dXNlcjpwdw==", "Bearer "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		scheme, credentials, ok := httptoken.SplitCredentials(v)
		if !ok {
			if scheme != "" || credentials != "" {
				t.Fatalf("SplitCredentials(%q) refused but returned %q %q", v, scheme, credentials)
			}
			if i := strings.IndexByte(v, ' '); i > 0 && httptoken.IsToken(v[:i]) {
				t.Fatalf("SplitCredentials(%q) refused a token followed by a space", v)
			}
			return
		}
		if !httptoken.IsToken(scheme) || strings.HasPrefix(credentials, " ") {
			t.Fatalf("SplitCredentials(%q) = %q, %q", v, scheme, credentials)
		}
		spaces := v[len(scheme) : len(v)-len(credentials)]
		if !strings.HasPrefix(v, scheme) || !strings.HasSuffix(v, credentials) || spaces == "" || strings.Trim(spaces, " ") != "" {
			t.Fatalf("SplitCredentials(%q) = %q, %q, which do not rebuild it", v, scheme, credentials)
		}
	})
}

// FuzzIsScheme checks IsScheme against net/url, which reads the scheme of
// "s:x" exactly when s is one, and lower-cases it.
func FuzzIsScheme(f *testing.F) {
	for _, s := range []string{"https", "HTTP", "z39.50r", "svn+ssh", "1http", "+a", "ht tp", "é", "a\x00", "http:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s + ":x")
		fromURL := err == nil && u.Scheme != "" && u.Scheme == strings.ToLower(s) && u.Opaque == "x"
		if got := httptoken.IsScheme(s); got != fromURL {
			t.Fatalf("IsScheme(%q) = %v, but net/url reads %+v, %v", s, got, u, err)
		}
	})
}

func TestVaries(t *testing.T) {
	for _, tt := range []struct {
		vary []string
		want bool
	}{
		{nil, false},
		{[]string{"Cookie"}, true},
		{[]string{"origin, COOKIE"}, true},
		{[]string{"Origin", " cookie\t"}, true},
		{[]string{"*"}, true},
		{[]string{"Origin, *"}, true},
		{[]string{"Cookies", "Set-Cookie"}, false},
		{[]string{"", ","}, false},
	} {
		if got := httptoken.Varies(tt.vary, "Cookie"); got != tt.want {
			t.Errorf("Varies(%q, Cookie) = %v, want %v", tt.vary, got, tt.want)
		}
	}
	vary := []string{"Accept-Encoding, Origin", "Authorization"}
	if n := testing.AllocsPerRun(100, func() { httptoken.Varies(vary, "Cookie") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestIsIdentifier(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"sku", true}, {"SKU_2", true}, {"a", true}, {"a_", true},
		{"", false}, {"2fa", false}, {"_x", false}, {"a-b", false}, {"a b", false},
		{"a,b", false}, {"a=b", false}, {"é", false}, {"a\x00", false},
	} {
		if got := httptoken.IsIdentifier(tt.s); got != tt.want {
			t.Errorf("IsIdentifier(%q) = %t, want %t", tt.s, got, tt.want)
		}
	}
}

func TestDropTargetedCaching(t *testing.T) {
	h := map[string][]string{
		"Cache-Control":                {"private"},
		"Cdn-Cache-Control":            {"max-age=600"},
		"cloudflare-cdn-cache-control": {"max-age=600"},
		"Akamai-Cache-Control":         {"max-age=600"},
		"Surrogate-Control":            {"max-age=600"},
		"EDGE-CONTROL":                 {"cache-maxage=600"},
		"Surrogate-Key":                {"a"},
		"Content-Type":                 {"text/html"},
		"-Cache-Control":               {"x"},
	}
	httptoken.DropTargetedCaching(h)
	want := []string{"-Cache-Control", "Cache-Control", "Content-Type", "Surrogate-Key"}
	var got []string
	for k := range h {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}
