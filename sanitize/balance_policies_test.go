package sanitize_test

import (
	"strings"
	"testing"

	"github.com/microcosm-cc/bluemonday"

	"github.com/httpguard/httpguard/sanitize"
)

// ugcPolicy is bluemonday's policy for user content: tables, definition
// lists, headings, divs, images, details and summary, ruby.
var ugcPolicy = sanitize.NewPolicy(bluemonday.UGCPolicy())

// richPolicy allows, besides ugcPolicy, what a site might let users write:
// SVG and MathML, more sections, and the elements whose text the HTML
// tokenizer reads raw (style and script need bluemonday's AllowUnsafe,
// which this policy does not set). It leaves out what NewPolicy says the
// balancing does not cover.
var richPolicy = sanitize.NewPolicy(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("svg", "g", "path", "rect", "circle", "text", "tspan", "foreignobject",
		"desc", "title", "math", "mi", "mo", "mn", "ms", "mtext", "mrow", "semantics",
		"annotation-xml", "mglyph", "malignmark", "textarea", "xmp", "listing", "plaintext",
		"noscript", "noembed", "noframes", "iframe", "font", "center", "address", "main",
		"nav", "header", "footer", "search", "dialog", "menu", "dir", "big", "fieldset",
		"legend", "label")
	p.AllowAttrs("color", "face", "size").OnElements("font")
	p.AllowAttrs("encoding").OnElements("annotation-xml")
	p.AllowAttrs("d", "x", "y", "width", "height").Globally()
	return p
}())

// FuzzSanitizeConfinedUGC: for any input, ugcPolicy's output stays in the
// element the page puts it in (see checkConfined).
func FuzzSanitizeConfinedUGC(f *testing.F) {
	for _, s := range confinedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkConfined(t, ugcPolicy, in)
	})
}

// FuzzSanitizeConfinedRich: for any input, richPolicy's output stays in
// the element the page puts it in.
func FuzzSanitizeConfinedRich(f *testing.F) {
	for _, s := range confinedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkConfined(t, richPolicy, in)
	})
}

// confinedSeeds start the fuzz targets of the broader policies.
var confinedSeeds = []string{
	`<a href="https://evil.example/">x`, `<b>x`, `</ul></li>x`, `<li>x`, `<p>a<ul><li>b<p>c`,
	`<ul><li><b>a<li>b</ul>`, `<b><p>x</b>y</p>`, `<blockquote><pre><code>x`, `<h3>a<h4>b`,
	`<table><tr><td>x`, `<svg><a href=x>y`, `<b/><i/><a/>x`, `<p>a<hr>b`,
	`<dl><dt>a<dd>b<div>c<dt>d`, `<table><caption>c<tr><th>h<td>d<tbody><tr><td>x</table>`,
	`<details><summary>s</summary>d`, `<svg><foreignobject><p>x</svg>`, `<math><mi>x<b>y`,
	`<ruby>a<rt>b<rp>c`, `<div><div><span>x`, `<svg/><li>x`, `<textarea>x`,
}

// TestSanitizeIsBalancedBroad: as TestSanitizeIsBalanced, for policies
// that allow divs, definition lists, tables, SVG and MathML. Found in
// review, each of these left an end tag of the output's own for the parser
// to match with the page's div or list item.
func TestSanitizeIsBalancedBroad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p        *sanitize.Policy
		in, want string
	}{
		// The list item search was cut off after 64 elements.
		{ugcPolicy, "<ul><li>" + strings.Repeat("<div>", 65) + "<li>x",
			"<ul><li>" + strings.Repeat("<div>", 65) + strings.Repeat("</div>", 65) + "</li><li>x</li></ul>"},
		{ugcPolicy, `<dl><dt><div>a<dd>b`, `<dl><dt><div>a</div></dt><dd>b</dd></dl>`},
		{ugcPolicy, `<dt>a<dd>b`, `ab`},
		{ugcPolicy, `<h2>a<h3>b`, `<h2>a</h2><h3>b</h3>`},
		{ugcPolicy, `<table><div><tr><table>`, `<table><div></div><tr></tr></table><table></table>`},
		{ugcPolicy, `<table><caption><div><tr><td>a<td>b<table>`,
			`<table><caption><div></div></caption><tr><td>a</td><td>b<table></table></td></tr></table>`},
		{ugcPolicy, `<td>a<tr>b</tr>`, `ab`},
		// CVE-2025-22872 (GO-2025-3595, golang.org/x/net/html): in SVG,
		// where a self-closing tag is empty, the tokenizer took "d=M0/>"
		// for one, so the text after it left the path for the parent
		// while the browser keeps it in the path.
		{richPolicy, `<svg><path d=M0/>x`, `<svg><path d="M0/">x</path></svg>`},
		{richPolicy, `<svg><text x=1/>y</text></svg>z`, `<svg><text x="1/">y</text></svg>z`},
		{richPolicy, `<svg><li>x`, `<svg></svg>x`},
		{richPolicy, `<svg/><li>x`, `<svg/>x`},
		{richPolicy, `<ul><li><svg><foreignobject x=1><li>x`, `<ul><li><svg><foreignobject x="1"><li>x</li></foreignobject></svg></li></ul>`},
		{richPolicy, `<plaintext x=1>a`, `a`},
	} {
		if got := tc.p.Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		checkConfined(t, tc.p, tc.in)
	}
}
