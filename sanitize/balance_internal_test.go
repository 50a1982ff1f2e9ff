package sanitize

import (
	"strings"
	"testing"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// TestBalanceIsLinear: markup built to make the balancing quadratic (a
// deep stack under a run of list items, definition list items, paragraphs,
// headings or table parts, end tags that match nothing) is balanced in
// about the time bluemonday takes to sanitize it, which is linear. A
// search of the stack at each list item took 300 times as long as
// bluemonday (20 s for 50 000 of them, 3 s for the 20 000 here).
func TestBalanceIsLinear(t *testing.T) {
	const n = 20_000
	ugc := bluemonday.UGCPolicy()
	for name, tc := range map[string]struct {
		p  *bluemonday.Policy
		in string
	}{
		"list items under deep formatting": {userContentPolicy.p, "<ul>" + strings.Repeat("<b>", n) + strings.Repeat("<li>x</li>", n)},
		"end tags matching nothing":        {userContentPolicy.p, strings.Repeat("<b>", n) + strings.Repeat("</i>", n)},
		"paragraphs under deep formatting": {userContentPolicy.p, "<p>" + strings.Repeat("<i>", n) + strings.Repeat("<p>x", n)},
		"list items under deep divs":       {ugc, "<ul><li>" + strings.Repeat("<div>", n) + strings.Repeat("<li>x", n)},
		"definitions under deep spans":     {ugc, "<dl><dt>" + strings.Repeat("<span>", n) + strings.Repeat("<dd>x", n)},
		"cells under deep formatting":      {ugc, "<table><tr><td>" + strings.Repeat("<b>", n) + strings.Repeat("<td>x", n)},
		"nested tables":                    {ugc, strings.Repeat("<table><tr><td>", n) + strings.Repeat("<tr>x", n)},
	} {
		in := tc.in
		// The fastest of three runs of each, against a machine that
		// others share.
		sanitizeTime, balanceTime := time.Duration(1<<62), time.Duration(1<<62)
		for range 3 {
			start := time.Now()
			out := tc.p.Sanitize(in)
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

// FuzzElementName: elementName reads from a tag's raw text the name that
// Tokenizer.TagName returns, for every tag the tokenizer finds.
func FuzzElementName(f *testing.F) {
	for _, s := range []string{`<DIV class=x>`, `</B >`, "<a\thref=x>", `<svg/>`, `<foreignObject>`, "<x\fy>", `<annotation-xml encoding="text/html">`, `<a-very-long-custom-element-name>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			return // NUL: TagName replaces it, and no policy's output holds one
		}
		z := html.NewTokenizer(strings.NewReader(s))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.EndTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			raw := string(z.Raw())
			want, _ := z.TagName()
			if got, _ := elementName([]byte(raw)); got != string(want) {
				t.Fatalf("elementName(%q) = %q, TagName %q", raw, got, want)
			}
		}
	})
}
