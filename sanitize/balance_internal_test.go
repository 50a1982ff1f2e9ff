package sanitize

import (
	"strings"
	"testing"
	"time"
)

// TestBalanceIsLinear: markup built to make the balancing quadratic (a
// deep stack under a run of list items or paragraphs, end tags that match
// nothing) is balanced in about the time bluemonday takes to sanitize it,
// which is linear. Without the bound on the scope search, the list items
// took 300 times as long as bluemonday (20 s for 50 000 of them, 3 s for the 20 000 here).
func TestBalanceIsLinear(t *testing.T) {
	const n = 20_000
	for name, in := range map[string]string{
		"list items under deep formatting": "<ul>" + strings.Repeat("<b>", n) + strings.Repeat("<li>x</li>", n),
		"end tags matching nothing":        strings.Repeat("<b>", n) + strings.Repeat("</i>", n),
		"paragraphs under deep formatting": "<p>" + strings.Repeat("<i>", n) + strings.Repeat("<p>x", n),
	} {
		// The fastest of three runs of each, against a machine that
		// others share.
		sanitizeTime, balanceTime := time.Duration(1<<62), time.Duration(1<<62)
		for range 3 {
			start := time.Now()
			out := userContentPolicy.p.Sanitize(in)
			sanitizeTime = min(sanitizeTime, time.Since(start))
			start = time.Now()
			balanced, _ := balance(out)
			balanceTime = min(balanceTime, time.Since(start))
			if strings.Count(balanced, "<") < n {
				t.Fatalf("%s: %d bytes balanced", name, len(balanced))
			}
		}
		if balanceTime > 20*sanitizeTime {
			t.Errorf("%s: balancing took %v, sanitizing %v", name, balanceTime, sanitizeTime)
		}
	}
}
