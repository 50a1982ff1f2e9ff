package sanitize

import (
	"net/url"
	"regexp"
	"unsafe"

	"github.com/microcosm-cc/bluemonday"
)

// Policy is a compiled HTML sanitizing policy. It is safe for concurrent
// use; build policies once, at start, and share them. The zero Policy,
// like a nil *Policy, sanitizes as [Strict]: it fails closed, keeping no
// markup (found in review: it panicked in Sanitize).
type Policy struct {
	p *bluemonday.Policy
}

// orStrict returns p, or the strict policy for a nil or zero p.
func (p *Policy) orStrict() *Policy {
	if p == nil || p.p == nil {
		return strictPolicy
	}
	return p
}

var (
	strictPolicy      = &Policy{p: bluemonday.StrictPolicy()}
	userContentPolicy = &Policy{p: newUserContent()}
)

// Strict returns the text-only policy: every element is removed, its text
// kept and HTML-escaped, so the result is safe anywhere in an HTML body or
// a quoted attribute.
func Strict() *Policy { return strictPolicy }

// UserContent returns the policy for formatted user content such as
// comments: paragraphs, line breaks, emphasis, lists, quotes, code, and
// links to http and https URLs that name a host after "//", mailto URLs,
// and relative ones ("/docs", "../x", "?q=1", "#top", but not one that
// starts with three slashes, which a browser reads as "//"), which lead
// to a page of this site (a GET that changes state, such as "/logout", is
// one click away). Links get rel="nofollow" and, when they name a host
// ("https://…" or "//…", this site's own included: the policy does not
// know it), target="_blank" with rel="noopener". No attribute other than
// href survives, so no event handler or style can.
func UserContent() *Policy { return userContentPolicy }

func newUserContent() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "b", "strong", "i", "em", "u", "s", "del", "ins", "sub", "sup",
		"ul", "ol", "li", "blockquote", "code", "pre", "hr", "h3", "h4", "h5", "h6")
	p.AllowAttrs("href").Matching(noTripleSlash).OnElements("a")
	p.AllowURLSchemes("mailto")
	// An http or https URL must name its host after "//": a browser reads
	// "https:\\evil.example", "http:evil.example" (from an https page) or
	// "https:///evil.example" as a link to evil.example, in which net/url,
	// and so the target="_blank" below, sees no host (found in review:
	// such links lost target and noopener).
	p.AllowURLSchemeWithCustomPolicy("http", namesHost)
	p.AllowURLSchemeWithCustomPolicy("https", namesHost)
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// noTripleSlash matches an href that does not start with three slashes,
// after the white space (strings.TrimSpace's) that the sanitizer trims
// before it reads the URL: a browser follows "///evil.example" to
// https://evil.example/, where net/url sees a path on this site (found in
// review: such links were kept as relative, without target="_blank").
var noTripleSlash = regexp.MustCompile(`^[\s\v\x{85}\p{Z}]*(?:$|[^\s\v\x{85}\p{Z}/]|/$|/[^/]|//$|//[^/])`)

// namesHost reports whether u, an absolute URL, names a host the way a
// browser and net/url both read it.
func namesHost(u *url.URL) bool { return u.Opaque == "" && u.Host != "" }

// NewPolicy wraps a bluemonday policy the caller built. The caller must not
// change p afterwards: bluemonday policies are safe for concurrent use only
// once they are no longer modified. The balancing that Sanitize describes
// covers policies built from the elements of text, lists, definition
// lists, headings, tables, images, details and SVG and MathML; it does not
// follow the parser's rules for forms and their controls (form, button,
// select, option, optgroup), template, frameset, nobr, applet, object and
// marquee, so a policy that allows one of those has no such guarantee.
// A policy that allows id or name attributes (bluemonday's UGCPolicy
// allows id) lets user content name elements that the page's scripts
// then find as window or document properties (DOM clobbering): allow them
// only with a prefix the page never uses, as in
// AllowAttrs("id").Matching(regexp.MustCompile(`^user-content-[\w-]+$`)).
//
// NewPolicy(nil) returns the zero Policy, which sanitizes as Strict and
// which [New] refuses in [Options.Policies].
func NewPolicy(p *bluemonday.Policy) *Policy { return &Policy{p: p} }

// Sanitize returns s with everything the policy does not allow removed.
// The result is balanced, so that it stays inside the element the page
// puts it in: every element it opens it closes, it closes none it did not
// open, and it holds no list item outside a list of its own. Without
// that, "<a href=https://evil.example/>Sign in", with its link left open,
// would turn the text of the page after it into that link, and a stray
// "</ul>" would close the page's own list. Put the result in an element of
// its own, such as a div, rather than straight into a paragraph, whose end
// the HTML parser implies at a p, a list or a heading in the result. For a
// policy of NewPolicy, see there which elements this holds for.
func (p *Policy) Sanitize(s string) string {
	out, _ := balance(p.orStrict().p.Sanitize(s))
	return out
}

// SanitizeBytes is Sanitize for a byte slice.
func (p *Policy) SanitizeBytes(b []byte) []byte {
	out := p.orStrict().p.SanitizeBytes(b)
	// out is not written while balance reads it, nor kept by it.
	if balanced, changed := balance(unsafe.String(unsafe.SliceData(out), len(out))); changed {
		return []byte(balanced)
	}
	return out
}

// Text returns s with all markup removed and the remaining text
// HTML-escaped: the strict policy, for plain strings such as names and
// titles that will be shown in HTML.
func Text(s string) string { return strictPolicy.Sanitize(s) }
