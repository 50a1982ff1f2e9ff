package sanitize

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// balance returns s, a policy's output, with every element it opens
// closed and every end tag it did not open removed, and whether that
// changed anything: a balanced s (well-formed input gives well-formed
// output) is returned as it is.
//
// bluemonday removes what a policy does not allow, tag by tag, and keeps
// the rest as written: "<a href=https://evil.example/>Sign in" comes out
// with its <a> open. In the page around it, that link does not end with
// the comment: the browser reopens an unclosed <a>, <b> or <code> around
// the text that follows (the HTML parser's "reconstruct the active
// formatting elements"), so one comment relinks or restyles the rest of
// the page. A stray "</ul>" or "</p>" of an allowed element closes the
// page's own list or paragraph instead, and what follows it is out of the
// comment's box, as does an <li> outside a list of its own, whose start
// tag closes the list item the page put the comment in.
//
// The output is confined to itself here, in a tokenizer pass with a stack
// that closes, with explicit end tags, what the HTML parser would close
// by itself (an open <p> at the start of a block, an open <li> at the next
// one), what is still open at an end tag further out, and what is still
// open at the end. It runs in time linear in the length of s: any depth
// of nesting costs no recursion, and an end tag that matches nothing is
// known from a count, not a search.
func balance(s string) (string, bool) {
	if strings.IndexByte(s, '<') < 0 {
		return s, false
	}
	b := balancer{s: s, counts: map[string]int{}}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: s is in memory
		}
		raw := z.Raw()
		b.at += len(raw)
		b.token = len(raw)
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, a := elementName(z)
			if !b.start(name, a, tt == html.SelfClosingTagToken) {
				b.drop()
				continue
			}
		case html.EndTagToken:
			name, _ := elementName(z)
			if b.counts[name] == 0 {
				b.drop() // not opened here
				continue
			}
			b.closeTo(name, false)
		}
		if b.out != nil {
			b.out = append(b.out, raw...)
		}
	}
	if len(b.open) == 0 && b.out == nil {
		return s, false
	}
	b.token = 0
	for len(b.open) > 0 {
		b.closeTo(b.open[len(b.open)-1], true)
	}
	return string(b.out), true
}

// balancer is the state of balance.
type balancer struct {
	s       string
	at      int // bytes of s tokenized so far, the current token included
	token   int // length of the current token
	out     []byte
	open    []string
	counts  map[string]int // of each name in open
	foreign int            // svg and math elements open
}

// change starts the output, the first time it differs from s, with s up
// to the current token.
func (b *balancer) change() {
	if b.out == nil {
		b.out = append(make([]byte, 0, len(b.s)+16), b.s[:b.at-b.token]...)
	}
}

// drop leaves the current token out.
func (b *balancer) drop() { b.change() }

// elementName returns the name of the tag z has just read, and its atom: the
// atom's own string for a known element, which costs no allocation.
func elementName(z *html.Tokenizer) (string, atom.Atom) {
	name, _ := z.TagName()
	if a := atom.Lookup(name); a != 0 {
		return a.String(), a
	}
	return string(name), 0
}

// start takes the start tag of name (whose atom is a) and reports whether
// to keep it.
func (b *balancer) start(name string, a atom.Atom, selfClosing bool) bool {
	if b.foreign == 0 && closesP(a) && b.counts["p"] > 0 {
		b.closeInScope("p", buttonScope)
	}
	if voidElement(a) || (selfClosing && b.foreign > 0) {
		return true
	}
	if b.foreign == 0 {
		if a == atom.Li {
			if b.counts["ul"]+b.counts["ol"] == 0 {
				// A list item outside a list of its own closes the
				// list item the page put the output in, whatever the
				// elements between: dropped, its text kept.
				return false
			}
			b.closeInScope("li", listItemScope)
		}
	}
	// A non-void HTML element written self-closing ("<b/>") is opened
	// all the same by the browser.
	b.open = append(b.open, name)
	b.counts[name]++
	if a == atom.Svg || a == atom.Math {
		b.foreign++
	}
	return true
}

// closeInScope closes name, as the HTML parser does by itself, when it is
// open and no element that stops scope (as stop reports) is open inside
// it. The search looks at most maxScopeSearch elements deep, so that a
// run of start tags under a deep stack costs no more than linear time;
// an element it does not close is closed by an end tag later, which the
// parser then ignores.
func (b *balancer) closeInScope(name string, stop func(string) bool) {
	for i := len(b.open) - 1; i >= max(0, len(b.open)-maxScopeSearch); i-- {
		switch n := b.open[i]; {
		case n == name:
			b.closeTo(name, true)
			return
		case stop(n):
			return
		}
	}
}

// maxScopeSearch bounds closeInScope's search.
const maxScopeSearch = 64

// closeTo pops the open elements down to name, which is open, writing an
// end tag for each one inside it, and for name too when withName is set
// (otherwise the current token is its end tag).
func (b *balancer) closeTo(name string, withName bool) {
	for {
		top := b.open[len(b.open)-1]
		b.open = b.open[:len(b.open)-1]
		b.counts[top]--
		if top == "svg" || top == "math" {
			b.foreign--
		}
		if top == name && !withName {
			return
		}
		b.change()
		b.out = append(append(append(b.out, "</"...), top...), '>')
		if top == name {
			return
		}
	}
}

// voidElement reports whether a is an element without content, which has
// no end tag.
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// closesP reports whether the start tag of a closes an open p element in
// button scope (HTML, "in body" insertion mode).
func closesP(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details,
		atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Footer, atom.Header, atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P,
		atom.Search, atom.Section, atom.Summary, atom.Ul, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Pre, atom.Listing, atom.Form, atom.Plaintext, atom.Hr, atom.Xmp,
		atom.Dd, atom.Dt, atom.Li, atom.Table:
		return true
	}
	return false
}

// buttonScope reports whether an open element named n ends the search for
// a p element in button scope.
func buttonScope(n string) bool {
	switch atom.Lookup([]byte(n)) {
	case atom.Applet, atom.Caption, atom.Html, atom.Table, atom.Td, atom.Th, atom.Marquee,
		atom.Object, atom.Template, atom.Button:
		return true
	}
	return false
}

// listItemScope reports whether an open element named n ends the search
// for an li element to close at the start of the next one: a special
// element other than address, div and p, of those a policy may allow.
func listItemScope(n string) bool {
	switch atom.Lookup([]byte(n)) {
	case atom.Address, atom.Div, atom.P:
		return false
	case atom.Applet, atom.Article, atom.Aside, atom.Blockquote, atom.Button, atom.Caption,
		atom.Center, atom.Details, atom.Dir, atom.Dl, atom.Dd, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Header, atom.Hgroup, atom.Li, atom.Listing, atom.Main,
		atom.Marquee, atom.Menu, atom.Nav, atom.Object, atom.Ol, atom.Pre, atom.Search,
		atom.Section, atom.Select, atom.Summary, atom.Table, atom.Tbody, atom.Td, atom.Template,
		atom.Textarea, atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul, atom.Xmp:
		return true
	}
	return false
}
