package origins_test

import (
	"testing"

	"github.com/httpguard/httpguard/csrf/internal/origins"
)

// The full tests live with the identical copy in cors/internal/origins;
// this checks that this copy builds and matches as that one does.
func TestCopyMatches(t *testing.T) {
	var entries []origins.Entry
	for _, s := range []string{"https://app.example.com", "https://*.example.com"} {
		e, err := origins.ParseEntry(s)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	set := origins.Compile(entries)
	for o, want := range map[string]bool{
		"https://app.example.com": true,
		"https://a.example.com":   true,
		"https://example.com":     false,
		"https://evilexample.com": false,
		"http://a.example.com":    false,
	} {
		if set.Match(o) != want {
			t.Errorf("Match(%q) = %v", o, !want)
		}
	}
}
