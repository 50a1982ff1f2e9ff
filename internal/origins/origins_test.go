package origins_test

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/httpguard/httpguard/internal/origins"
)

var entryCases = []struct {
	in, canonical string
	err           error
}{
	{"https://app.example.com", "https://app.example.com", nil},
	{"HTTPS://App.Example.COM:443", "https://app.example.com", nil},
	{"http://localhost:80", "http://localhost", nil},
	{"http://127.0.0.1:8080", "http://127.0.0.1:8080", nil},
	{"http://[0:0::1]:3000", "http://[::1]:3000", nil},
	{"https://*.example.com", "https://*.example.com", nil},
	{"https://*.example.com:8443", "https://*.example.com:8443", nil},
	{"http://*.localhost", "http://*.localhost", nil},
	{"moz-extension://abc", "moz-extension://abc", nil},
	{"", "", origins.ErrEmpty},
	{"*", "", origins.ErrSpecialValue},
	{"null", "", origins.ErrSpecialValue},
	{"example.com", "", origins.ErrNoScheme},
	{"1http://a.test", "", origins.ErrScheme},
	{"https://user@a.test", "", origins.ErrUserinfo},
	{"https://a.test/", "", origins.ErrPath},
	{"https://a.test?q", "", origins.ErrPath},
	{"https://a.test#f", "", origins.ErrPath},
	{"https://a.test:", "", origins.ErrPort},
	{"https://a.test:0", "", origins.ErrPort},
	{"https://a.test:08080", "", origins.ErrPort},
	{"https://a.test:70000", "", origins.ErrPort},
	{"https://bücher.test", "", origins.ErrNonASCII},
	{"https://a..test", "", origins.ErrHost},
	{"https://a.test.", "", origins.ErrHost},
	{"https://", "", origins.ErrHost},
	{"https://*", "", origins.ErrWildcard},
	{"https://*example.com", "", origins.ErrWildcard},
	{"https://a.*.example.com", "", origins.ErrWildcard},
	{"https://*.*.example.com", "", origins.ErrWildcard},
	{"https://*.com", "", origins.ErrPatternTLD},
	// Found in review of the host patterns: a public suffix of more than
	// one label, a registry's or a hosting service's, is one too.
	{"https://*.co.uk", "", origins.ErrPatternTLD},
	{"https://*.github.io", "", origins.ErrPatternTLD},
	{"https://*.test", "", origins.ErrPatternTLD},
	// Found in review: a registrable domain whose subdomains are all
	// public suffixes, by a wildcard rule of the list, matches other
	// people's sites too ("x.a.run.app" is a Cloud Run customer's).
	{"https://*.run.app", "", origins.ErrPatternTLD},
	{"https://*.platformsh.site", "", origins.ErrPatternTLD},
	{"https://*.kawasaki.jp", "", origins.ErrPatternTLD},
	{"https://*.amazonaws.com", "https://*.amazonaws.com", nil},
	{"https://*.1.2.3.4", "", origins.ErrPatternIP},
	{"ftp://*.example.com", "", origins.ErrPatternHTTP},
	{"http://0x7f.1", "", origins.ErrHost},
	// A host whose last label is a hexadecimal number is an IPv4 address
	// to browsers ("1.0x7f" is 1.0.0.127), not a name.
	{"http://a.0x7f", "", origins.ErrHost},
	{"https://" + strings.Repeat("a", 63) + ".test", "https://" + strings.Repeat("a", 63) + ".test", nil},
	{"https://" + strings.Repeat("a", 64) + ".test", "", origins.ErrHost},
	{"http://[fe80::1%25eth0]", "", origins.ErrHost},
	{"http://[::ffff:1.2.3.4]", "", origins.ErrHost},
	// Found by FuzzMatch in CI: a pattern whose domain is an unclosed
	// bracket sliced out of range.
	{"http://*.[", "", origins.ErrHost},
	{"http://*.[::1]", "", origins.ErrPort},
}

func TestParseEntry(t *testing.T) {
	for _, tc := range entryCases {
		e, err := origins.ParseEntry(tc.in)
		if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("ParseEntry(%q) error = %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && e.Canonical != tc.canonical {
			t.Errorf("ParseEntry(%q) = %q, want %q", tc.in, e.Canonical, tc.canonical)
		}
	}
}

func TestMatch(t *testing.T) {
	var entries []origins.Entry
	for _, s := range []string{"https://app.example.com", "https://*.example.com", "http://*.example.org:8080", "http://[::1]:3000"} {
		e, err := origins.ParseEntry(s)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	set := origins.Compile(entries)
	for o, want := range map[string]bool{
		"https://app.example.com":       true,
		"https://a.example.com":         true,
		"https://a.b.example.com":       true,
		"https://example.com":           false,
		"https://evilexample.com":       false,
		"https://a.example.com.evil.io": false,
		"https://.example.com":          false,
		"https://a..example.com":        false,
		"http://a.example.com":          false,
		"https://a.example.com:443":     false,
		"https://A.example.com":         false,
		"https://a.example.com.":        false,
		"https://x@a.example.com":       false,
		"http://a.example.org:8080":     true,
		"http://a.example.org":          false,
		"http://a.example.org:08080":    false,
		"http://[::1]:3000":             true,
		"":                              false,
		"null":                          false,
	} {
		if got := set.Match(o); got != want {
			t.Errorf("Match(%q) = %v, want %v", o, got, want)
		}
	}
	var zero *origins.Set
	if zero.Match("https://app.example.com") || zero.Len() != 0 {
		t.Error("a nil Set matches")
	}
}

// TestMatchUnderAPublicSuffixBelowThePattern: a pattern over a registrable
// domain does not match a host under a public suffix below it, which is
// someone else's ("attacker.s3.amazonaws.com" under "*.amazonaws.com",
// found in review), while the domain's own names do.
func TestMatchUnderAPublicSuffixBelowThePattern(t *testing.T) {
	var entries []origins.Entry
	for _, s := range []string{"https://*.amazonaws.com", "https://*.windows.net:8443", "https://*.kawasaki.jp.example"} {
		e, err := origins.ParseEntry(s)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	set := origins.Compile(entries)
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"https://console.amazonaws.com", true},
		{"https://s3.amazonaws.com", true}, // the owner's service itself
		{"https://a.b.amazonaws.com", true},
		{"https://attacker.s3.amazonaws.com", false},
		{"https://x.attacker.s3.amazonaws.com", false},
		{"https://attacker.s3.dualstack.us-east-1.amazonaws.com", false},
		{"https://www.core.windows.net:8443", true},
		{"https://attacker.web.core.windows.net:8443", false},
		{"https://attacker.web.core.windows.net", false},
		{"https://a.b.kawasaki.jp.example", true},
	} {
		if got := set.Match(tt.origin); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

// Found in review: Parse accepted addresses in forms no browser sends,
// which cors then echoed or showed to AllowOriginFunc.
func TestParseRefusesNonCanonicalAddresses(t *testing.T) {
	for _, s := range []string{
		"http://[0:0:0:0:0:0:0:1]", "http://[::0001]", "http://[::ffff:1.2.3.4]", "http://[::ABCD]",
		"http://[::ffff:0102:0304]", "http://[0:0:0:0:0:ffff:102:304]", "http://[::FFFF:102:304]",
		"http://127.1", "http://0x7f.0.0.1", "http://999.1.1.1", "http://1.2.3.4.5", "http://01.2.3.4",
		"http://1.0x7f", "http://a.0x7f",
	} {
		if _, _, _, ok := origins.Parse(s); ok {
			t.Errorf("Parse(%q) accepted a form browsers do not send", s)
		}
	}
	// An IPv4-mapped address as a browser serializes it, in hexadecimal
	// groups (refused before: netip writes it dotted).
	for _, s := range []string{"http://[::1]", "http://[2001:db8::1]:8080", "http://127.0.0.1", "https://192.0.2.1:8443",
		"http://[::ffff:102:304]", "http://[::ffff:c000:201]:8080", "http://[::ffff:0:0]"} {
		if _, _, _, ok := origins.Parse(s); !ok {
			t.Errorf("Parse(%q) refused a canonical origin", s)
		}
	}
}

// TestParsePortsAndLabels: Parse accepts ports 1 to 65535 and labels of up
// to 63 bytes, as browsers send them, and nothing beyond.
func TestParsePortsAndLabels(t *testing.T) {
	for _, tt := range []struct {
		origin string
		ok     bool
	}{
		{"https://a.test:1", true},
		{"https://a.test:65535", true},
		{"https://a.test:65536", false},
		{"https://a.test:99999", false},
		{"https://a.test:100000", false},
		{"http://[::1]:65536", false},
		{"https://" + strings.Repeat("a", 63) + ".test", true},
		{"https://" + strings.Repeat("a", 64) + ".test", false},
	} {
		if _, _, _, ok := origins.Parse(tt.origin); ok != tt.ok {
			t.Errorf("Parse(%q) ok = %v, want %v", tt.origin, ok, tt.ok)
		}
	}
}

// FuzzParse checks that Parse accepts only what ParseEntry accepts as
// already canonical, and that every accepted value is a URL with only a
// scheme and a host.
func FuzzParse(f *testing.F) {
	for _, tc := range entryCases {
		f.Add(tc.in)
		f.Add(tc.canonical)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scheme, host, port, ok := origins.Parse(s)
		if !ok {
			return
		}
		rebuilt := scheme + "://" + host
		if port != "" {
			rebuilt += ":" + port
		}
		if rebuilt != s {
			t.Fatalf("Parse(%q) = %q %q %q, which does not rebuild it", s, scheme, host, port)
		}
		u, err := url.Parse(s)
		if err != nil || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Host != s[len(scheme)+3:] {
			t.Fatalf("Parse accepted %q, which is not scheme://host[:port] (%v)", s, err)
		}
		if strings.HasPrefix(host, "[") {
			return // IPv6 in any spelling is parsed; only exact entries match it
		}
		e, err := origins.ParseEntry(s)
		if err != nil {
			if errors.Is(err, origins.ErrHost) && looksNumeric(host) {
				return // a numeric host that is not an IPv4 address
			}
			t.Fatalf("Parse accepted %q but ParseEntry rejects it: %v", s, err)
		}
		if e.Canonical != s {
			t.Fatalf("Parse accepted %q, which is not canonical (%q)", s, e.Canonical)
		}
	})
}

func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	return strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x")
}

// FuzzParseEntry checks that canonical forms are fixed points and that an
// exact entry matches itself.
func FuzzParseEntry(f *testing.F) {
	for _, tc := range entryCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := origins.ParseEntry(s)
		if err != nil {
			return
		}
		e2, err := origins.ParseEntry(e.Canonical)
		if err != nil || e2 != e {
			t.Fatalf("ParseEntry(%q) = %+v, but its canonical form parses as %+v, %v", s, e, e2, err)
		}
		set := origins.Compile([]origins.Entry{e})
		if e.Pattern {
			sub := strings.Replace(e.Canonical, "*", "x", 1)
			if !set.Match(sub) {
				t.Fatalf("pattern %q does not match %q", e.Canonical, sub)
			}
			if set.Match(strings.Replace(e.Canonical, "*.", "", 1)) {
				t.Fatalf("pattern %q matches its apex", e.Canonical)
			}
			return
		}
		if !set.Match(e.Canonical) {
			t.Fatalf("exact entry %q does not match itself", e.Canonical)
		}
	})
}

func TestMatchManyExactEntries(t *testing.T) {
	var entries []origins.Entry
	for i := range 20 {
		e, err := origins.ParseEntry("https://app" + string(rune('a'+i)) + ".example.com")
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e, e) // duplicates are ignored
	}
	set := origins.Compile(entries)
	if set.Len() != 20 {
		t.Errorf("Len = %d, want 20", set.Len())
	}
	if !set.Match("https://appa.example.com") || !set.Match("https://appt.example.com") {
		t.Error("an entry does not match")
	}
	if set.Match("https://appu.example.com") || set.Match("https://app.example.com") {
		t.Error("a value that is not an entry matches")
	}
}

// matchByParse is the definition Set.Match implements for one entry: an
// exact entry matches its canonical form; a pattern matches a value that
// Parse accepts, with the pattern's scheme and port and a host name that
// ends in "." + the pattern's domain with at least one byte in front.
func matchByParse(e origins.Entry, o string) bool {
	if !e.Pattern {
		return o == e.Canonical
	}
	scheme, host, port, ok := origins.Parse(o)
	if !ok || strings.HasPrefix(host, "[") {
		return false
	}
	suffix := "." + e.Host
	if scheme != e.Scheme || port != e.Port || len(host) <= len(suffix) || !strings.HasSuffix(host, suffix) {
		return false
	}
	// Not under a public suffix below the pattern's domain, unless one
	// label under it.
	ps, _ := publicsuffix.PublicSuffix(host)
	return len(ps) <= len(e.Host) || !strings.Contains(strings.TrimSuffix(host, suffix), ".")
}

var matchCases = []struct{ entry, origin string }{
	{"https://*.example.com", "https://a.example.com"},
	{"https://*.example.com", "https://a.b.example.com"},
	{"https://*.example.com", "https://example.com"},
	{"https://*.example.com", "https://.example.com"},
	{"https://*.example.com", "https://a..example.com"},
	{"https://*.example.com", "https://a.example.com:443"},
	{"https://*.example.com", "https://a:1.example.com"},
	{"https://*.example.com", "https://a_b-c.example.com"},
	{"https://*.example.com", "https://A.example.com"},
	{"https://*.example.com", "https://a/.example.com"},
	{"https://*.example.com", "https://x@a.example.com"},
	{"https://*.example.com", "https://[::1].example.com"},
	{"https://*.example.com", "https://" + strings.Repeat("a", 63) + ".example.com"},
	{"https://*.example.com", "https://" + strings.Repeat("a", 64) + ".example.com"},
	{"https://*.example.com", "https://" + strings.Repeat("a.", 120) + "example.com"},
	{"https://*.example.com", "https://" + strings.Repeat("a.", 122) + "example.com"},
	{"http://*.example.org:8080", "http://a.example.org:8080"},
	{"http://*.example.org:8080", "http://a.example.org"},
	{"http://*.example.org:8080", "http://a.example.org:08080"},
	{"http://*.localhost", "http://app.localhost"},
	{"https://app.example.com", "https://app.example.com"},
	{"https://app.example.com", "https://app.example.com."},
}

func TestMatchAgreesWithParse(t *testing.T) {
	for _, tc := range matchCases {
		e, err := origins.ParseEntry(tc.entry)
		if err != nil {
			t.Fatal(err)
		}
		want := matchByParse(e, tc.origin)
		if got := origins.Compile([]origins.Entry{e}).Match(tc.origin); got != want {
			t.Errorf("%q matches %q: %v, want %v", tc.entry, tc.origin, got, want)
		}
	}
}

// FuzzMatch checks that Set.Match, which compares a pattern's prefix and
// tail and validates only the labels in between, decides exactly as Parse
// followed by a comparison of scheme, host suffix and port does.
func FuzzMatch(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.entry, tc.origin)
	}
	f.Fuzz(func(t *testing.T, entry, o string) {
		e, err := origins.ParseEntry(entry)
		if err != nil {
			return
		}
		want := matchByParse(e, o)
		if got := origins.Compile([]origins.Entry{e}).Match(o); got != want {
			t.Fatalf("%q matches %q: %v, but Parse says %v", e.Canonical, o, got, want)
		}
		// The same for a value built to pass the prefix and tail checks.
		if e.Pattern {
			built := strings.Replace(e.Canonical, "*", o, 1)
			want := matchByParse(e, built)
			if got := origins.Compile([]origins.Entry{e}).Match(built); got != want {
				t.Fatalf("%q matches %q: %v, but Parse says %v", e.Canonical, built, got, want)
			}
		}
	})
}

// TestMatchManyExactEntriesOfManyLengths checks the length filter in front
// of the map lookup: entries whose lengths fall in each 64-bit word of it,
// up to the longest canonical origin, match, and values one byte longer
// or shorter do not.
func TestMatchManyExactEntriesOfManyLengths(t *testing.T) {
	var entries []origins.Entry
	var want []string
	for _, n := range []int{1, 50, 55, 56, 57, 63, 120, 121, 183, 184, 185, 240, 253} {
		// n bytes of 60-byte labels and a last one of 1 to 61 bytes.
		k, r := n/61, n%61
		if r == 0 {
			k, r = k-1, 61
		}
		host := strings.Repeat(strings.Repeat("a", 60)+".", k) + strings.Repeat("b", r)
		o := "https://" + host + ":65535"
		if n == 253 {
			o = "moz-extension0123456789012345678://" + host + ":65535"
		}
		e, err := origins.ParseEntry(o)
		if err != nil {
			t.Fatalf("ParseEntry(%q): %v", o, err)
		}
		entries = append(entries, e)
		want = append(want, e.Canonical)
	}
	set := origins.Compile(entries)
	for _, o := range want {
		if !set.Match(o) {
			t.Errorf("entry of length %d does not match itself", len(o))
		}
		if set.Match(o+"0") || set.Match(o[:len(o)-1]) {
			t.Errorf("a value one byte longer or shorter than the entry of length %d matches", len(o))
		}
	}
	if set.Match(want[len(want)-1] + strings.Repeat("0", 1<<20)) {
		t.Error("a megabyte-long value matches")
	}
}

// TestParseRefusesWhatBrowsersDoNotSend: each kind of value Parse's
// comment says it refuses, next to the canonical value it differs from.
func TestParseRefusesWhatBrowsersDoNotSend(t *testing.T) {
	for _, tt := range []struct {
		name, origin string
		ok           bool
	}{
		{"canonical", "https://a-b_c.example.com:8443", true},
		{"a scheme of another kind", "moz-extension://abc", true},
		{"upper case in the scheme", "HTTPS://a.example.com", false},
		{"upper case in the host", "https://A.example.com", false},
		{"upper case in an IPv6 address", "http://[::ABCD]", false},
		{"the default port of https", "https://a.example.com:443", false},
		{"the default port of http", "http://a.example.com:80", false},
		{"port 80 with https", "https://a.example.com:80", true},
		{"a port with a leading zero", "https://a.example.com:0443", false},
		{"port 0", "https://a.example.com:0", false},
		{"an empty port", "https://a.example.com:", false},
		{"a signed port", "https://a.example.com:+8443", false},
		{"userinfo", "https://u@a.example.com", false},
		{"a path", "https://a.example.com/", false},
		{"a query", "https://a.example.com?", false},
		{"a fragment", "https://a.example.com#", false},
		{"an empty label", "https://a..example.com", false},
		{"a leading dot", "https://.example.com", false},
		{"a trailing dot", "https://a.example.com.", false},
		{"a space", "https://a b.example.com", false},
		{"a percent sign", "https://a%41.example.com", false},
		{"a non-ASCII letter", "https://bücher.example", false},
		{"an IPv6 zone", "http://[fe80::1%25eth0]", false},
		{"an unclosed bracket", "http://[::1", false},
		{"no host", "https://", false},
		{"no scheme", "://a.example.com", false},
		{"null", "null", false},
		{"a wildcard", "https://*.example.com", false},
	} {
		if _, _, _, ok := origins.Parse(tt.origin); ok != tt.ok {
			t.Errorf("%s: Parse(%q) ok = %v, want %v", tt.name, tt.origin, ok, tt.ok)
		}
	}
}

var sinkScheme, sinkHost, sinkPort string

// TestParseAndMatchDoNotAllocate: Parse and Set.Match, over few exact
// entries, many (a map lookup) and patterns, for addresses as well as
// names, accepted or not; Match allocates once only for a value two
// labels under a pattern's domain, whose public suffix it looks up (found
// in audit: the comments said it never allocates).
func TestParseAndMatchDoNotAllocate(t *testing.T) {
	values := []string{"https://app.example.com", "https://a.b.example.com", "http://[::1]:3000", "http://[::ffff:102:304]",
		"http://[2001:db8::1]:8080", "http://127.0.0.1", "https://attacker.test", "http://[0:0::1]", strings.Repeat("x", 1<<16)}
	for _, o := range values {
		if n := testing.AllocsPerRun(100, func() { sinkScheme, sinkHost, sinkPort, _ = origins.Parse(o) }); n != 0 {
			t.Errorf("Parse(%.40q) allocates %v times", o, n)
		}
	}
	var few, many []origins.Entry
	for i := range 20 {
		e, err := origins.ParseEntry("https://app" + strconv.Itoa(i) + ".example.com")
		if err != nil {
			t.Fatal(err)
		}
		many = append(many, e)
	}
	for _, s := range []string{"https://app.example.com", "https://*.example.com", "http://[::1]:3000"} {
		e, err := origins.ParseEntry(s)
		if err != nil {
			t.Fatal(err)
		}
		few = append(few, e)
		many = append(many, e)
	}
	for _, set := range []*origins.Set{origins.Compile(few), origins.Compile(many)} {
		for _, o := range values {
			want := 0.0
			if o == "https://a.b.example.com" {
				want = 1
			}
			if n := testing.AllocsPerRun(100, func() { _ = set.Match(o) }); n != want {
				t.Errorf("Match(%.40q) over %d entries allocates %v times, want %v", o, set.Len(), n, want)
			}
		}
	}
}

// TestZeroSetMatchesNothing: the zero Set, not only a nil one.
func TestZeroSetMatchesNothing(t *testing.T) {
	var s origins.Set
	if s.Match("https://app.example.com") || s.Match("") || s.Len() != 0 {
		t.Error("the zero Set matches, or has entries")
	}
}

// TestMatchConcurrently: a Set is safe for concurrent use (run with -race).
func TestMatchConcurrently(t *testing.T) {
	var entries []origins.Entry
	for _, s := range []string{"https://app.example.com", "https://*.example.com"} {
		e, err := origins.ParseEntry(s)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	set := origins.Compile(entries)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if !set.Match("https://a.example.com") || set.Match("https://evil.test") {
					t.Error("Match decided wrongly")
				}
			}
		})
	}
	wg.Wait()
}

// TestSecure: only an http origin on a host that is not loopback is not
// secure, whatever else the entry is.
func TestSecure(t *testing.T) {
	for s, want := range map[string]bool{
		"https://a.test": true, "https://*.example.com": true, "http://localhost:3000": true, "http://app.localhost": true,
		"http://*.localhost": true, "http://127.0.0.2": true, "http://[::1]": true, "moz-extension://abc": true,
		"chrome-extension://abc": true, "HTTP://LOCALHOST": true,
		"http://a.test": false, "http://*.example.com": false, "http://192.0.2.1": false, "http://[2001:db8::1]": false,
		"http://localhost.example.com": false, "http://0.0.0.0": false,
	} {
		e, err := origins.ParseEntry(s)
		if err != nil {
			t.Fatalf("ParseEntry(%q): %v", s, err)
		}
		if got := e.Secure(); got != want {
			t.Errorf("ParseEntry(%q).Secure() = %v, want %v", s, got, want)
		}
	}
}

// whatwgIPv6 serializes the address b as the URL standard's IPv6
// serializer does: lower-case hexadecimal pieces without leading zeros,
// the first longest run of two or more zero pieces compressed to "::",
// and no dotted IPv4 part, whatever the address.
func whatwgIPv6(b [16]byte) string {
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	start, length := -1, 1
	for i := 0; i < 8; {
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = max(j, i+1)
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			sb.WriteString("::")
			i += length - 1
			continue
		}
		if i > 0 && i != start+length {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(pieces[i]), 16))
	}
	return sb.String()
}

// FuzzParseIPv6 checks Parse against the URL standard's serializer for
// every IPv6 address: the form a browser sends is accepted, and the
// other spellings of the address (netip's, the full form, upper case)
// are refused.
func FuzzParseIPv6(f *testing.F) {
	f.Add([]byte{15: 1})
	f.Add([]byte{10: 0xff, 11: 0xff, 12: 192, 14: 2, 15: 1})
	f.Add([]byte{0, 1, 7: 1, 15: 1})
	f.Add([]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8})
	f.Fuzz(func(t *testing.T, in []byte) {
		var b [16]byte
		copy(b[:], in)
		want := whatwgIPv6(b)
		if _, host, _, ok := origins.Parse("https://[" + want + "]"); !ok || host != "["+want+"]" {
			t.Fatalf("Parse refused https://[%s], the form a browser sends", want)
		}
		a := netip.AddrFrom16(b)
		full := a.StringExpanded()
		for _, other := range []string{a.String(), full, strings.ToUpper(want), strings.Replace(full, "0000", "0", 1)} {
			if other == want {
				continue
			}
			if _, _, _, ok := origins.Parse("https://[" + other + "]"); ok {
				t.Fatalf("Parse accepted https://[%s], but a browser sends https://[%s]", other, want)
			}
		}
	})
}
