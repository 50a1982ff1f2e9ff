package hostset_test

import (
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/httpguard/httpguard/internal/hostport"
	"github.com/httpguard/httpguard/internal/hostset"
)

// patterns is the Set the tests match against.
var patterns = []string{"example.com", "api.example.com:8443", "api.example.com:9443", "*.example.org", "*.example.org:8080", "[::1]", "*.ports.test:1", "*.ports.test:2", "*.amazonaws.com"}

func compile(t testing.TB) *hostset.Set {
	t.Helper()
	s := &hostset.Set{}
	for _, p := range patterns {
		host, port, wildcard, reason := hostport.ParsePattern(p)
		if reason != "" {
			t.Fatalf("ParsePattern(%q): %s", p, reason)
		}
		s.Add(host, port, wildcard)
	}
	return s
}

// A Host without a port is on the default port MatchDefault is given,
// which browsers leave out; Match gives none.
func TestMatchDefault(t *testing.T) {
	s := &hostset.Set{}
	s.Add("example.com", "443", false)
	s.Add(".example.org", "80", true)
	s.Add("any.example", "", false)
	for _, tt := range []struct {
		hostPort, def string
		ok            bool
	}{
		{"example.com", "443", true},
		{"example.com", "80", false},
		{"example.com", "", false},
		{"example.com:443", "80", true},
		{"example.com:8443", "443", false},
		{"a.example.org", "80", true},
		{"a.example.org", "443", false},
		{"any.example", "443", true},
		{"any.example", "", true},
	} {
		if _, _, ok := s.MatchDefault(tt.hostPort, tt.def); ok != tt.ok {
			t.Errorf("MatchDefault(%q, %q) = %v, want %v", tt.hostPort, tt.def, ok, tt.ok)
		}
	}
}

func TestMatch(t *testing.T) {
	s := compile(t)
	cases := []struct {
		name     string
		hostPort string
		host     string
		exact    bool
		ok       bool
	}{
		{"an exact host without a port matches", "example.com", "example.com", true, true},
		{"an exact host allows any port when listed without one", "example.com:1234", "example.com", true, true},
		{"an exact host is matched ignoring case", "EXAMPLE.com", "example.com", true, true},
		{"a trailing dot is ignored", "example.com.", "example.com", true, true},
		{"an exact host with ports allows each listed port", "api.example.com:9443", "api.example.com", true, true},
		{"an exact host with ports refuses the default port", "api.example.com", "", false, false},
		{"an exact host with ports refuses another port", "api.example.com:443", "", false, false},
		{"a wildcard matches a subdomain on any port", "a.example.org:1", "a.example.org", false, true},
		{"a wildcard matches subdomains at any depth", "a.b.example.org", "a.b.example.org", false, true},
		{"a wildcard never matches the domain itself", "example.org", "", false, false},
		{"a wildcard never matches a look-alike", "evilexample.org", "", false, false},
		{"wildcard ports of one suffix add up", "x.ports.test:2", "x.ports.test", false, true},
		{"a wildcard refuses a port not listed", "x.ports.test:3", "", false, false},
		{"an IPv6 literal matches in canonical form", "[0:0::1]:80", "[::1]", true, true},
		{"another host is refused", "evil.test", "", false, false},
		{"an empty Host is refused", "", "", false, false},
		{"a malformed Host is refused", "example.com:port", "", false, false},
		{"a Host with a path is refused", "example.com/x", "", false, false},
		{"a Host longer than a name and a port is refused unread", strings.Repeat("a.", 200) + "example.org", "", false, false},
		// Found in review: a wildcard matched hosts under a public suffix
		// below its domain, which are other people's.
		{"a wildcard matches its domain's own names", "a.b.amazonaws.com", "a.b.amazonaws.com", false, true},
		{"a wildcard matches its domain's own public suffix", "s3.amazonaws.com", "s3.amazonaws.com", false, true},
		{"a wildcard refuses a host under a public suffix below it", "bucket.s3.amazonaws.com", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, exact, ok := s.Match(c.hostPort)
			if host != c.host || exact != c.exact || ok != c.ok {
				t.Errorf("Match(%q) = %q, %v, %v; want %q, %v, %v", c.hostPort, host, exact, ok, c.host, c.exact, c.ok)
			}
		})
	}
}

func TestZeroSetAllowsNothing(t *testing.T) {
	var s hostset.Set
	if _, _, ok := s.Match("example.com"); ok || s.Len() != 0 {
		t.Errorf("the zero Set matched, or has %d entries", s.Len())
	}
}

func TestMatchAllocations(t *testing.T) {
	s := compile(t)
	// An IPv6 literal in canonical form too (found in audit: each cost
	// two allocations).
	for _, v := range []string{"example.com", "a.example.org:8080", "evil.test", strings.Repeat("x", 1<<20), "[::1]", "[::1]:8080", "[2001:db8::1]"} {
		if n := testing.AllocsPerRun(100, func() { s.Match(v) }); n != 0 {
			t.Errorf("Match(%.20q…) allocates %v times, want 0", v, n)
		}
	}
	// A host two labels under a wildcard's domain costs the public suffix
	// lookup's one allocation, which the comment now says.
	if n := testing.AllocsPerRun(100, func() { s.Match("a.b.example.org") }); n != 1 {
		t.Errorf("Match(a.b.example.org) allocates %v times, want 1", n)
	}
}

// FuzzMatch checks that Match never panics and allows only what the
// patterns describe: the normalized host of the value, equal to an exact
// entry or a proper subdomain of a wildcard's domain.
func FuzzMatch(f *testing.F) {
	for _, v := range []string{"example.com", "EXAMPLE.com.", "api.example.com:9443", "a.b.example.org", "example.org", "[0:0::1]:80", "x.ports.test:3", "example.com/x", "api.example.com", "x.ports.test", "[::1]", "example.com:"} {
		f.Add(v)
	}
	s := compile(f)
	f.Fuzz(func(t *testing.T, v string) {
		checkDefault(t, s, v)
		host, exact, ok := s.Match(v)
		if !ok {
			if host != "" || exact {
				t.Fatalf("Match(%q) refused but returned %q, %v", v, host, exact)
			}
			return
		}
		h, port, sok := hostport.Split(v)
		n, nok := hostport.Normalize(h)
		if !sok || !nok || n != host {
			t.Fatalf("Match(%q) allowed host %q, which is not the value's normalized host", v, host)
		}
		switch {
		case exact:
			if host != "example.com" && host != "[::1]" && !(host == "api.example.com" && (port == "8443" || port == "9443")) {
				t.Fatalf("Match(%q) allowed %q as exact", v, host)
			}
		case strings.HasSuffix(host, ".example.org"):
		case strings.HasSuffix(host, ".amazonaws.com"):
			if ps, _ := publicsuffix.PublicSuffix(host); len(ps) > len("amazonaws.com") && strings.Count(host, ".") > 2 {
				t.Fatalf("Match(%q) allowed %q, under the public suffix %q", v, host, ps)
			}
		case strings.HasSuffix(host, ".ports.test") && (port == "1" || port == "2"):
		default:
			t.Fatalf("Match(%q) allowed %q by a wildcard it does not match", v, host)
		}
	})
}

// checkDefault: MatchDefault(v, def) is Match(v) where v has a port or
// def is "", and otherwise what Match answers for v's host on port def,
// the port a browser left out.
func checkDefault(t *testing.T, s *hostset.Set, v string) {
	t.Helper()
	h, port, sok := hostport.Split(v)
	for _, def := range []string{"", "80", "443", "1", "8080", "8443", "9443"} {
		host, exact, ok := s.MatchDefault(v, def)
		wantHost, wantExact, wantOK := s.Match(v)
		if sok && port == "" && def != "" && len(v) <= 260 {
			if n, nok := hostport.Normalize(h); nok {
				if len(n)+1+len(def) > 260 {
					continue // Match would refuse it for its length alone
				}
				wantHost, wantExact, wantOK = s.Match(n + ":" + def)
			}
		}
		if host != wantHost || exact != wantExact || ok != wantOK {
			t.Fatalf("MatchDefault(%q, %q) = %q, %v, %v; want %q, %v, %v",
				v, def, host, exact, ok, wantHost, wantExact, wantOK)
		}
	}
}

// TestAddPorts: a host added without a port allows every port, whether
// its ports were listed before or after; Len counts hosts, not ports.
func TestAddPorts(t *testing.T) {
	var s hostset.Set
	s.Add("a.test", "8443", false)
	s.Add("a.test", "", false)
	s.Add("b.test", "", false)
	s.Add("b.test", "8443", false)
	s.Add(".c.test", "1", true)
	s.Add(".c.test", "", true)
	s.Add(".c.test", "2", true)
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3", s.Len())
	}
	for _, v := range []string{"a.test:1", "a.test", "b.test:1", "b.test", "x.c.test:3", "x.c.test"} {
		if _, _, ok := s.Match(v); !ok {
			t.Errorf("Match(%q) refused", v)
		}
	}
}

// TestMatchConcurrently: Match is safe for concurrent use (run with -race).
func TestMatchConcurrently(t *testing.T) {
	s := compile(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, _, ok := s.Match("a.example.org:8080"); !ok {
					t.Error("Match refused an allowed host")
				}
				if _, _, ok := s.Match("evil.test"); ok {
					t.Error("Match allowed another host")
				}
			}
		})
	}
	wg.Wait()
}
