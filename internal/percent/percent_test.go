package percent_test

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/httpguard/httpguard/internal/percent"
)

func TestByte(t *testing.T) {
	cases := []struct {
		name string
		s    string
		i    int
		want byte
		ok   bool
	}{
		{"an escape in lower case decodes", "%6d", 0, 'm', true},
		{"an escape in upper case decodes", "%6D", 0, 'm', true},
		{"an escape in the middle decodes", "a%2Fb", 1, '/', true},
		{"an escape at the very end decodes", "ab%25", 2, '%', true},
		{"the highest byte decodes", "%ff", 0, 0xff, true},
		{"the NUL byte decodes", "%00", 0, 0, true},
		{"one digit is not an escape", "%6", 0, 0, false},
		{"a percent sign at the end is not an escape", "ab%", 2, 0, false},
		{"a non-hex first digit is not an escape", "%g0", 0, 0, false},
		{"a non-hex second digit is not an escape", "%0g", 0, 0, false},
		{"a sign is not a digit", "%+1", 0, 0, false},
		{"a non-ASCII byte is not a digit", "%\xc3\xa9", 0, 0, false},
		{"an index past the end is not an escape", "%41", 5, 0, false},
		{"a negative index is not an escape", "%41", -1, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := percent.Byte(c.s, c.i)
			if got != c.want || ok != c.ok {
				t.Errorf("Byte(%q, %d) = %#x, %v; want %#x, %v", c.s, c.i, got, ok, c.want, c.ok)
			}
		})
	}
}

// FuzzByte checks Byte against net/url's decoding of the same three bytes.
func FuzzByte(f *testing.F) {
	for _, s := range []string{"%6d", "%6D", "%ff", "%00", "%6", "%g0", "%0g", "%+1", "%\xc3\xa9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := percent.Byte(s, 0)
		if len(s) < 3 {
			if ok {
				t.Fatalf("Byte(%q, 0) decoded %#x from fewer than three bytes", s, got)
			}
			return
		}
		want, err := url.PathUnescape("%" + s[1:3])
		if ok != (err == nil) {
			t.Fatalf("Byte(%q, 0) ok = %v, url.PathUnescape error = %v", s, ok, err)
		}
		if ok && string([]byte{got}) != want {
			t.Fatalf("Byte(%q, 0) = %#x, url.PathUnescape gives %q", s, got, want)
		}
	})
}

func TestByteAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { percent.Byte("a%2Fb", 1) }); n != 0 {
		t.Errorf("Byte allocates %v times, want 0", n)
	}
}

func TestQueryIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, want string
		is      bool
	}{
		{"_method", "_method", true},
		{"%5Fmethod", "_method", true},
		{"%5fmethod", "_method", true},
		{"_%6D%65thod", "_method", true},
		{"a+b", "a b", true},
		{"a%20b", "a b", true},
		{"_method", "_metho", false},
		{"_metho", "_method", false},
		{"payment_method", "_method", false},
		{"%5Gmethod", "_method", false},
		{"%5Gmethod", "%5Gmethod", true}, // an invalid escape stands for itself
		{"", "", true},
		{"%", "%", true},
	}
	for _, tt := range tests {
		if got := percent.QueryIs(tt.s, tt.want); got != tt.is {
			t.Errorf("QueryIs(%q, %q) = %v, want %v", tt.s, tt.want, got, tt.is)
		}
	}
}

// FuzzQueryIs checks QueryIs against net/url's decoding of a query
// component wherever net/url decodes it.
func FuzzQueryIs(f *testing.F) {
	for _, s := range []string{"_method", "%5Fmethod", "a+b%20c", "%zz", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.QueryUnescape(s)
		if err != nil {
			return
		}
		if !percent.QueryIs(s, u) {
			t.Fatalf("QueryIs(%q, %q) = false, url.QueryUnescape gives that", s, u)
		}
		if percent.QueryIs(s, u+"x") || (u != "" && percent.QueryIs(s, u[:len(u)-1])) {
			t.Fatalf("QueryIs(%q) matches a string other than %q", s, u)
		}
	})
}

// TestByteIgnoresTheByteAtI: Byte does not look at s[i], which the caller
// has found to be '%'.
func TestByteIgnoresTheByteAtI(t *testing.T) {
	for c := range 256 {
		s := string([]byte{byte(c)}) + "41"
		if b, ok := percent.Byte(s, 0); !ok || b != 'A' {
			t.Fatalf("Byte(%q, 0) = %#x, %v", s, b, ok)
		}
	}
}

// TestByteEveryPair: Byte decodes every two bytes exactly when both are
// hexadecimal digits, in either case, to their value.
func TestByteEveryPair(t *testing.T) {
	t.Parallel()
	for hi := range 256 {
		for lo := range 256 {
			s := "%" + string([]byte{byte(hi), byte(lo)})
			want, err := strconv.ParseUint(s[1:], 16, 8)
			ok := err == nil
			if got, gotOK := percent.Byte(s, 0); gotOK != ok || ok && uint64(got) != want {
				t.Fatalf("Byte(%q, 0) = %#x, %v; want %#x, %v", s, got, gotOK, want, ok)
			}
		}
	}
}

var sinkIs bool

func TestQueryIsAllocs(t *testing.T) {
	for _, tt := range [][2]string{{"%5Fmethod", "_method"}, {"a+b%20c", "a b c"}, {"%zz", "%zz"}, {"payment_method", "_method"}} {
		if n := testing.AllocsPerRun(100, func() { sinkIs = percent.QueryIs(tt[0], tt[1]) }); n != 0 {
			t.Errorf("QueryIs(%q, %q) allocates %v times, want 0", tt[0], tt[1], n)
		}
	}
}
