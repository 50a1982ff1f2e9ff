package sanitize_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"

	"github.com/httpguard/httpguard/sanitize"
)

// xssVectors are filter-evasion cases in the spirit of the OWASP XSS Filter
// Evasion Cheat Sheet: script tags in every casing and encoding, event
// handlers, javascript: and data: URLs, SVG and MathML tricks, broken and
// nested tags.
var xssVectors = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT>alert(1)</SCRIPT>`,
	`<ScRiPt>alert(1)</sCrIpT>`,
	`<script src=https://evil.example/x.js></script>`,
	`<<SCRIPT>alert("XSS");//<</SCRIPT>`,
	`<SCRIPT/XSS SRC="http://evil.example/xss.js"></SCRIPT>`,
	`<script/src=data:,alert(1)>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<IMG SRC="javascript:alert('XSS');">`,
	`<IMG SRC=JaVaScRiPt:alert('XSS')>`,
	`<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`,
	`<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>`,
	`<img src=x onerror=alert(1)>`,
	`<img src=x OnErRoR=alert(1)>`,
	`<img src="x" onerror="&#97;lert(1)">`,
	`<body onload=alert(1)>`,
	`<div onmouseover="alert(1)">hover</div>`,
	`<p onclick=alert(1)>click</p>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="JAVASCRIPT:alert(1)">x</a>`,
	`<a href=" javascript:alert(1)">x</a>`,
	`<a href="jav&#x09;ascript:alert(1)">x</a>`,
	`<a href="jav	ascript:alert(1)">x</a>`,
	`<a href="&#106;avascript:alert(1)">x</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	// bluemonday#146 let data:image/svg+xml through as an image; an SVG
	// opened as a page, by a link to it, runs its scripts.
	`<a href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">x</a>`,
	`<a href="data:image/svg+xml,<svg onload=alert(1)>">x</a>`,
	`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
	`<a href="https://ok.example" onclick="alert(1)">x</a>`,
	`<a href="https://ok.example" style="background:url(javascript:alert(1))">x</a>`,
	`<svg onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>`,
	`<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>`,
	`<math href="javascript:alert(1)">CLICK</math>`,
	// Mutation XSS, where the markup a sanitizer writes parses into other
	// elements when the browser reads it again: DOMPurify CVE-2020-26870
	// (a form closed inside MathML, an mglyph moving a style into the
	// HTML namespace), its 2.0.0 bypass through a p closed inside SVG,
	// and the Sanitize gem's CVE-2020-4054 (style inside math or svg) and
	// CVE-2023-23627 (markup inside noscript).
	`<form><math><mtext></form><form><mglyph><svg><mtext><style><path id="</style><img onerror=alert(1) src>">`,
	`<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">`,
	`<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">`,
	`<math><style><img src=x onerror=alert(1)></style></math>`,
	`<svg><style><img src=x onerror=alert(1)></style></svg>`,
	`<noscript><img src=x onerror=alert(1)></noscript>`,
	`<noscript><style></noscript><img src=x onerror=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`<object data="javascript:alert(1)"></object>`,
	`<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
	`<style>@import 'https://evil.example/x.css';</style>`,
	`<div style="width: expression(alert(1));">x</div>`,
	`<link rel=stylesheet href="https://evil.example/x.css">`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="https://evil.example/">`,
	`<form action="javascript:alert(1)"><input type=submit></form>`,
	`<button formaction="javascript:alert(1)">x</button>`,
	`<details open ontoggle=alert(1)>`,
	`<video><source onerror="alert(1)"></video>`,
	`<input autofocus onfocus=alert(1)>`,
	`<marquee onstart=alert(1)>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<textarea></textarea><script>alert(1)</script>`,
	`<title><img src=x onerror=alert(1)></title>`,
	`<!--<img src="--><img src=x onerror=alert(1)//">`,
	`<![CDATA[<script>alert(1)</script>]]>`,
	`<img """><script>alert("XSS")</script>">`,
	`<IMG SRC="jav&#x0A;ascript:alert('XSS');">`,
	`\u003cscript\u003ealert(1)\u003c/script\u003e`,
	`%3Cscript%3Ealert(1)%3C/script%3E`,
	`<a href="//evil.example">protocol-relative</a>`,
	`<a href="mailto:x@example.com" onmouseover=alert(1)>mail</a>`,
}

var allowedUGC = map[string]bool{
	"p": true, "br": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "s": true,
	"del": true, "ins": true, "sub": true, "sup": true, "ul": true, "ol": true, "li": true,
	"blockquote": true, "code": true, "pre": true, "hr": true, "h3": true, "h4": true, "h5": true, "h6": true, "a": true,
}

// assertInert parses out as a browser would and fails if anything in it
// could execute: an element outside the allowlist, any attribute other
// than the link attributes, or a link to a scheme other than http, https
// or mailto.
func assertInert(t *testing.T, in, out string, strict bool) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
			if tt == html.CommentToken || tt == html.DoctypeToken {
				t.Errorf("%q: comment or doctype survived: %q", in, out)
			}
			continue
		}
		tok := z.Token()
		if strict {
			t.Errorf("%q: strict output has a tag: %q", in, out)
			return
		}
		if !allowedUGC[tok.Data] {
			t.Errorf("%q: element <%s> survived: %q", in, tok.Data, out)
		}
		for _, a := range tok.Attr {
			switch a.Key {
			case "href":
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if i := strings.IndexByte(v, ':'); i >= 0 && !strings.ContainsAny(v[:i], "/?#") {
					if s := v[:i]; s != "http" && s != "https" && s != "mailto" {
						t.Errorf("%q: href scheme %q survived: %q", in, s, out)
					}
				}
			case "rel", "target":
			default:
				t.Errorf("%q: attribute %s survived: %q", in, a.Key, out)
			}
		}
	}
}

func TestXSSVectorsAreNeutralised(t *testing.T) {
	t.Parallel()
	for _, in := range xssVectors {
		strict := sanitize.Strict().Sanitize(in)
		assertInert(t, in, strict, true)
		if strings.ContainsRune(strict, '<') {
			t.Errorf("%q: strict output contains '<': %q", in, strict)
		}
		if sanitize.Text(in) != strict {
			t.Errorf("%q: Text differs from Strict", in)
		}
		ugc := sanitize.UserContent().Sanitize(in)
		assertInert(t, in, ugc, false)
		if strings.Contains(strings.ToLower(ugc), "<script") {
			t.Errorf("%q: user-content output contains a script tag: %q", in, ugc)
		}
	}
}

func TestBenignFormattingSurvives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"emphasis", `<b>bold</b> and <em>em</em>`, `<b>bold</b> and <em>em</em>`},
		{"lists", `<ul><li>one</li><li>two</li></ul>`, `<ul><li>one</li><li>two</li></ul>`},
		{"an external link gets nofollow, noopener and a new tab",
			`<a href="https://example.com/x">x</a>`,
			`<a href="https://example.com/x" rel="nofollow noopener" target="_blank">x</a>`},
		// The policy cannot tell this site's own host from another's: every
		// link that names a host, protocol-relative ones included, gets
		// the new tab and noopener.
		{"a protocol-relative link is treated as external",
			`<a href="//example.com/x">x</a>`,
			`<a href="//example.com/x" rel="nofollow noopener" target="_blank">x</a>`},
		{"a relative link gets nofollow", `<a href="/docs">docs</a>`, `<a href="/docs" rel="nofollow">docs</a>`},
		{"a mailto link", `<a href="mailto:a@example.com">mail</a>`, `<a href="mailto:a@example.com" rel="nofollow">mail</a>`},
		{"code blocks", `<pre><code>x &lt; y</code></pre>`, `<pre><code>x &lt; y</code></pre>`},
		{"text is escaped, not dropped", `1 < 2 & 3 > 2`, `1 &lt; 2 &amp; 3 &gt; 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitize.UserContent().Sanitize(tt.in); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	if got := sanitize.Text(`<b>Alice</b> & "Bob"`); got != `Alice &amp; &#34;Bob&#34;` {
		t.Errorf("Text = %q", got)
	}
}

func FuzzPolicies(f *testing.F) {
	for _, v := range xssVectors {
		f.Add(v)
	}
	f.Add(`<b>bold</b> <a href="https://example.com">x</a>`)
	for _, href := range []string{"http:evil.example", "https:\\\\evil.example", "https:///evil.example", "///evil.example",
		" \t///evil.example", "\\\\evil.example", "/\\evil.example", "//evil.example", "HTTPS://evil.example"} {
		f.Add(`<a href="` + href + `">x</a>`)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, p := range []*sanitize.Policy{sanitize.Strict(), sanitize.UserContent()} {
			once := p.Sanitize(in)
			if twice := p.Sanitize(once); twice != once {
				t.Fatalf("not idempotent:\nin    %q\nonce  %q\ntwice %q", in, once, twice)
			}
			if strings.Contains(strings.ToLower(once), "<script") {
				t.Fatalf("<script in output %q", once)
			}
		}
		strict := sanitize.Strict().Sanitize(in)
		if strings.ContainsAny(strict, "<>") {
			t.Fatalf("markup in strict output %q", strict)
		}
		ugc := sanitize.UserContent().Sanitize(in)
		assertInert(t, in, ugc, false)
		assertExternalLinksOpenApart(t, in, ugc)
	})
}

// assertExternalLinksOpenApart: every link in out that a browser follows
// to another host, as it reads the href (C0 controls and spaces trimmed,
// tabs and newlines removed, a backslash taken for a slash), has
// target="_blank" and rel="noopener"; and an http or https link names its
// host after "//" for net/url too.
func assertExternalLinksOpenApart(t *testing.T, in, out string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.Data != "a" {
			continue
		}
		var href, target, rel string
		hasHref := false
		for _, a := range tok.Attr {
			switch a.Key {
			case "href":
				href, hasHref = a.Val, true
			case "target":
				target = a.Val
			case "rel":
				rel = a.Val
			}
		}
		if !hasHref {
			continue
		}
		v := strings.TrimFunc(href, func(r rune) bool { return r <= 0x20 })
		v = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v)
		external := false
		if scheme, ok := browserScheme(v); ok {
			if scheme == "http" || scheme == "https" {
				external = browserHost(v[len(scheme)+1:]) != ""
				if u, err := url.Parse(strings.TrimSpace(href)); external && (err != nil || u.Host == "" || u.Opaque != "") {
					t.Errorf("%q: http(s) link %q names no host for net/url: %q", in, href, out)
				}
			}
		} else if len(v) >= 2 && strings.ContainsRune(`/\`, rune(v[0])) && strings.ContainsRune(`/\`, rune(v[1])) {
			external = browserHost(v) != ""
		}
		if external && (target != "_blank" || !slices.Contains(strings.Fields(rel), "noopener")) {
			t.Errorf("%q: link %q to another host without target=_blank and noopener: %q", in, href, out)
		}
	}
}

// browserHost returns the host a browser reads in rest, what follows an
// http or https scheme or starts a relative URL with two slashes: the
// slashes and backslashes it skips, then the authority up to the next
// one, "?" or "#", less its user information and port. A browser refuses
// a URL of these schemes whose host is empty ("//@", "https://:1"), and
// follows no link to it.
func browserHost(rest string) string {
	auth := strings.TrimLeft(rest, `/\`)
	if end := strings.IndexAny(auth, `/\?#`); end >= 0 {
		auth = auth[:end]
	}
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		auth = auth[i+1:]
	}
	if strings.HasPrefix(auth, "[") {
		return auth
	}
	if i := strings.IndexByte(auth, ':'); i >= 0 {
		auth = auth[:i]
	}
	return auth
}

// browserScheme returns the scheme of v, lower-cased, as the URL standard
// reads one: a letter, then letters, digits, "+", "-" or ".", then ":".
func browserScheme(v string) (string, bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return strings.ToLower(v[:i]), true
		default:
			return "", false
		}
	}
	return "", false
}

// TestRegressionBluemondayAdvisories replays the advisories of the
// sanitizer underneath, so that a downgrade or a policy change that brings
// one back fails here.
func TestRegressionBluemondayAdvisories(t *testing.T) {
	t.Parallel()
	// CVE-2021-42576 needs a policy that allows select, option and style;
	// a caller can build one and wrap it with NewPolicy.
	formPolicy := sanitize.NewPolicy(bluemonday.UGCPolicy().AllowElements("select", "option", "style"))
	tests := []struct {
		name   string
		policy *sanitize.Policy
		in     string
	}{
		// CVE-2021-29272 (GHSA-3x58-xr87-2fcj, bluemonday#111): element
		// names were lower-cased with strings.ToLower, which turns the
		// capital dotted I (U+0130) into an ASCII i, so <scrİpt> was
		// handled as script and its escaped text written out raw.
		{"CVE-2021-29272 strict", sanitize.Strict(), "<scr\u0130pt>&lt;script&gt;alert(document.domain)&lt;/script&gt;"},
		{"CVE-2021-29272 user content", sanitize.UserContent(), "<scr\u0130pt>&lt;script&gt;alert(document.domain)&lt;/script&gt;"},
		{"CVE-2021-29272 with the policy of CVE-2021-42576", formPolicy, "<scr\u0130pt>&lt;script&gt;alert(document.domain)&lt;/script&gt;"},
		// CVE-2021-42576 (GHSA-x95h-979x-cf3j): with select, option and
		// style allowed, the text of a style inside an option was written
		// raw, so a script in it reached the output.
		{"CVE-2021-42576", formPolicy, `<select><option><style><script>alert(1)</script>`},
		{"CVE-2021-42576 closed elements", formPolicy, `<select><option><style></option></select><img src=x onerror=alert(1)></style>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.policy.Sanitize(tt.in)
			low := strings.ToLower(out)
			for _, bad := range []string{"<script", "<style", "<img", "onerror"} {
				if strings.Contains(low, bad) {
					t.Errorf("%q survived:\nin  %q\nout %q", bad, tt.in, out)
				}
			}
		})
	}
}

// Found in review: sanitize.NewPolicy(nil), the zero Policy and a nil
// *Policy panicked in Sanitize, and New took the first two in
// Options.Policies (it refused only a nil *Policy), so every request to a
// field tagged with that name panicked. They now sanitize as Strict, and
// New refuses them.
func TestNilAndZeroPoliciesAreStrict(t *testing.T) {
	t.Parallel()
	const in = `<b>x</b><script>y</script>`
	want := sanitize.Strict().Sanitize(in)
	for name, p := range map[string]*sanitize.Policy{"nil": nil, "zero": {}, "NewPolicy(nil)": sanitize.NewPolicy(nil)} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			if got := p.Sanitize(in); got != want {
				t.Errorf("%s: Sanitize = %q, want %q", name, got, want)
			}
			if got := string(p.SanitizeBytes([]byte(in))); got != want {
				t.Errorf("%s: SanitizeBytes = %q, want %q", name, got, want)
			}
		}()
		if _, err := sanitize.New(sanitize.Options{Policies: map[string]*sanitize.Policy{"custom": p}}); !errors.Is(err, sanitize.ErrOption) {
			t.Errorf("%s: New = %v, want ErrOption", name, err)
		}
	}
}

// A browser reads an http or https URL by the URL standard, which takes a
// backslash for a slash and, when the page's scheme is another, a missing
// "//" for one: "https:\\evil.example", "http:evil.example" on an https
// page, "https:/evil.example" on an http one and "https:///evil.example"
// all lead to evil.example. net/url, which the sanitizer underneath asks
// whether a link names a host, sees none in them: found in review, they
// kept their href with rel="nofollow" alone, no target="_blank" nor
// rel="noopener", which UserContent promises every link that names a
// host. An http or https link in which net/url sees no host is dropped
// now, its text kept.
func TestUserContentHostlessHTTPLinks(t *testing.T) {
	t.Parallel()
	for _, href := range []string{
		`https:\\evil.example/x`,
		`https:/\evil.example/x`,
		`http:\\evil.example/x`,
		`https:evil.example/x`,
		`http:evil.example/x`,
		`HTTPS:evil.example/x`,
		`https:/evil.example/x`,
		`https:///evil.example/x`,
		`https:`,
	} {
		in := `<a href="` + href + `">text</a>`
		if got := sanitize.UserContent().Sanitize(in); got != "text" {
			t.Errorf("%s\n  got  %q\n  want %q", in, got, "text")
		}
	}
	for in, want := range map[string]string{
		`<a href="https://ok.example/x">t</a>`: `<a href="https://ok.example/x" rel="nofollow noopener" target="_blank">t</a>`,
		`<a href="HTTP://ok.example">t</a>`:    `<a href="http://ok.example" rel="nofollow noopener" target="_blank">t</a>`,
		`<a href="/\evil.example/x">t</a>`:     `<a href="/%5Cevil.example/x" rel="nofollow">t</a>`,
		`<a href="mailto:a@example.com">t</a>`: `<a href="mailto:a@example.com" rel="nofollow">t</a>`,
		`<a href="?q=1">t</a>`:                 `<a href="?q=1" rel="nofollow">t</a>`,
	} {
		if got := sanitize.UserContent().Sanitize(in); got != want {
			t.Errorf("%s\n  got  %q\n  want %q", in, got, want)
		}
	}
}

// A relative link that starts with three slashes or more ("///evil.example")
// leads, by the URL standard, to the host after them, https://evil.example/,
// where net/url sees a path on this site and no host. Found in review:
// UserContent, which says relative links lead to a page of this site, kept
// it with rel="nofollow" alone, without the target="_blank" and
// rel="noopener" it gives links that name a host. It is dropped now, its
// text kept, however it is preceded by the white space the sanitizer trims.
func TestUserContentTripleSlashLinks(t *testing.T) {
	t.Parallel()
	for _, href := range []string{
		`///evil.example/x`,
		`////evil.example`,
		` ///evil.example`,
		"\u00a0///evil.example",
		"\u2003///evil.example",
		"\v///evil.example",
		`&#x2f;&#47;/evil.example`,
	} {
		in := `<a href="` + href + `">text</a>`
		if got := sanitize.UserContent().Sanitize(in); got != "text" {
			t.Errorf("%q\n  got  %q\n  want %q", in, got, "text")
		}
	}
	for in, want := range map[string]string{
		`<a href="/docs">t</a>`:              `<a href="/docs" rel="nofollow">t</a>`,
		`<a href=" /docs">t</a>`:             `<a href="/docs" rel="nofollow">t</a>`,
		`<a href="/">t</a>`:                  `<a href="/" rel="nofollow">t</a>`,
		`<a href="/a//b">t</a>`:              `<a href="/a//b" rel="nofollow">t</a>`,
		`<a href="docs">t</a>`:               `<a href="docs" rel="nofollow">t</a>`,
		`<a href="#top">t</a>`:               `<a href="#top" rel="nofollow">t</a>`,
		`<a href="//ok.example/x">t</a>`:     `<a href="//ok.example/x" rel="nofollow noopener" target="_blank">t</a>`,
		`<a href="https://ok.example">t</a>`: `<a href="https://ok.example" rel="nofollow noopener" target="_blank">t</a>`,
	} {
		if got := sanitize.UserContent().Sanitize(in); got != want {
			t.Errorf("%q\n  got  %q\n  want %q", in, got, want)
		}
	}
}
