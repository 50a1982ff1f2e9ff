package csrf_test

import (
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

// BenchmarkExempt measures the exemption lookup, which runs only for an
// unsafe request that failed the origin checks (or needs a token): an
// exempt cross-site POST, and a rejected one past every exemption.
func BenchmarkExempt(b *testing.B) {
	for _, c := range []struct {
		name, pattern, path string
	}{
		{"literal", "POST /hooks/stripe", "/hooks/stripe"},
		{"literal-miss", "POST /hooks/stripe", "/transfer"},
		{"wildcard", "POST /t/{tenant}/hooks/{provider}", "/t/acme/hooks/stripe"},
		{"wildcard-miss", "POST /t/{tenant}/hooks/{provider}", "/t/acme/hooks/stripe/x"},
	} {
		opts := csrf.Options{Exempt: []csrf.Exemption{
			{Pattern: "POST /saml/acs", Reason: "bench"},
			{Pattern: "/oauth/callback", Reason: "bench"},
			{Pattern: c.pattern, Reason: "bench"},
		}}
		h := csrf.MustNew(opts).Handler(noop)
		r := req{target: "https://example.com" + c.path, headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}.build()
		b.Run(c.name, func(b *testing.B) { benchServe(b, h, r) })
	}
}
