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
// by itself: an open <p> at the start of a block, an open <li>, <dd> or
// <dt> at the next one, a heading at a heading, a table's cell, row or
// section at the next one and a table at a table in it, SVG and MathML at
// an HTML element that leaves them; then what is still open at an end tag
// further out, and what is still open at the end. The parser then never
// closes an element by itself that the stack holds as open, so every end
// tag written closes the element the stack says it does, and never one of
// the page's. It runs in time linear in the length of s: any depth of
// nesting costs no recursion, each element on the stack knows where the
// elements it would close are, and an end tag that matches nothing is
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
			name, a := elementName(raw)
			if !b.start(z, name, a, tt == html.SelfClosingTagToken) {
				b.drop()
				continue
			}
		case html.EndTagToken:
			name, _ := elementName(raw)
			if b.counts[name] == 0 {
				b.drop() // not opened here
				continue
			}
			b.closeTo(name)
		}
		if b.out != nil {
			b.out = append(b.out, raw...)
		}
	}
	if len(b.open) == 0 && b.out == nil {
		return s, false
	}
	b.token = 0
	b.popTo(0)
	return string(b.out), true
}

// balancer is the state of balance.
type balancer struct {
	s      string
	at     int // bytes of s tokenized so far, the current token included
	token  int // length of the current token
	out    []byte
	open   []element
	counts map[string]int // of each name in open
}

// element is an open element. Its indexes, into the stack, are those of the
// elements that the parser would close at a start tag if this one were
// the current node, or -1: the p in button scope, the li and the dd or dt
// that the next li or dd would close, and the nearest element of a table
// (table, caption, colgroup, tbody, thead, tfoot, tr, td or th).
type element struct {
	name  string
	a     atom.Atom
	ns    namespace
	point bool // an integration point, whose content is HTML again
	p     int
	li    int
	dd    int
	table int
}

type namespace uint8

const (
	htmlNS namespace = iota
	svgNS
	mathNS
)

// change starts the output, the first time it differs from s, with s up
// to the current token.
func (b *balancer) change() {
	if b.out == nil {
		b.out = append(make([]byte, 0, len(b.s)+16), b.s[:b.at-b.token]...)
	}
}

// drop leaves the current token out.
func (b *balancer) drop() { b.change() }

// elementName returns the lower-cased name of the tag whose raw text is
// raw ("<div k=v>", "</div>"), as Tokenizer.TagName does, and its atom:
// the atom's own string for a known element. It reads the name from raw,
// into a buffer on the stack, because TagName copies every name it
// returns: most of the allocations of balancing ordinary markup (131 of
// them fell to 51 on ten paragraphs of a comment).
func elementName(raw []byte) (string, atom.Atom) {
	raw = raw[1:] // '<'
	if len(raw) > 0 && raw[0] == '/' {
		raw = raw[1:]
	}
	var buf [16]byte // holds every HTML, SVG and MathML element's name
	name := buf[:0]
	for _, c := range raw {
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '/' || c == '>' {
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		name = append(name, c) // past 16 bytes, append moves it to the heap
	}
	if a := atom.Lookup(name); a != 0 {
		return a.String(), a
	}
	return string(name), 0
}

// top returns the current node, or a zero element with indexes of -1 when
// nothing is open.
func (b *balancer) top() element {
	if len(b.open) == 0 {
		return element{p: -1, li: -1, dd: -1, table: -1}
	}
	return b.open[len(b.open)-1]
}

// start takes the start tag of name (whose atom is a) and reports whether
// to keep it.
func (b *balancer) start(z *html.Tokenizer, name string, a atom.Atom, selfClosing bool) bool {
	ns := b.top().ns
	if !b.htmlContent(a) {
		if !breakout(z, a) {
			// An element of the SVG or MathML around it, closed at once
			// when written self-closing.
			if !selfClosing {
				b.push(z, name, a, ns)
			}
			return true
		}
		// The parser closes the SVG and MathML elements up to HTML.
		for !b.htmlContent(a) {
			b.popTo(len(b.open) - 1)
		}
	}
	switch {
	case a == atom.Svg || a == atom.Math:
		if !selfClosing {
			ns := svgNS
			if a == atom.Math {
				ns = mathNS
			}
			b.push(z, name, a, ns)
		}
		return true
	case a == atom.Plaintext:
		return false // nothing ends it: the rest of the page would be its text
	case tablePart(a):
		if !b.tablePart(a) {
			return false
		}
	case a == atom.Table:
		// A table in a table (not in a cell or caption) closes it.
		for t := b.top().table; t >= 0 && !cellOrCaption(b.open[t].a); t = b.top().table {
			for b.open[t].a != atom.Table {
				t = b.open[t-1].table
			}
			b.popTo(t)
		}
	}
	if closesP(a) {
		if i := b.top().p; i >= 0 {
			b.popTo(i)
		}
	}
	if voidElement(a) {
		return true
	}
	switch a {
	case atom.Li:
		if b.counts["ul"]+b.counts["ol"] == 0 {
			// A list item outside a list of its own closes the list
			// item the page put the output in, whatever the elements
			// between: dropped, its text kept.
			return false
		}
		if i := b.top().li; i >= 0 {
			b.popTo(i)
		}
	case atom.Dd, atom.Dt:
		if b.counts["dl"] == 0 {
			// Like a list item, it would close the page's own dd or dt.
			return false
		}
		if i := b.top().dd; i >= 0 {
			b.popTo(i)
		}
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		if t := b.top(); t.ns == htmlNS && heading(t.a) {
			b.popTo(len(b.open) - 1)
		}
	}
	// A non-void HTML element written self-closing ("<b/>") is opened
	// all the same by the browser.
	b.push(z, name, a, htmlNS)
	return true
}

// htmlContent reports whether the parser takes a start tag of a by the
// rules of HTML, rather than those of the SVG or MathML it is in.
func (b *balancer) htmlContent(a atom.Atom) bool {
	t := b.top()
	switch {
	case t.ns == htmlNS:
		return true
	case t.ns == mathNS && t.name == "annotation-xml" && a == atom.Svg:
		return true
	case t.ns == mathNS && t.point && t.name != "annotation-xml":
		return a != atom.Mglyph && a != atom.Malignmark
	}
	return t.point
}

// breakout reports whether the start tag z has just read, of a, takes the
// parser out of SVG and MathML.
func breakout(z *html.Tokenizer, a atom.Atom) bool {
	switch a {
	case atom.B, atom.Big, atom.Blockquote, atom.Body, atom.Br, atom.Center, atom.Code, atom.Dd,
		atom.Div, atom.Dl, atom.Dt, atom.Em, atom.Embed, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Head, atom.Hr, atom.I, atom.Img, atom.Li, atom.Listing, atom.Menu,
		atom.Meta, atom.Nobr, atom.Ol, atom.P, atom.Pre, atom.Ruby, atom.S, atom.Small,
		atom.Span, atom.Strong, atom.Strike, atom.Sub, atom.Sup, atom.Table, atom.Tt, atom.U,
		atom.Ul, atom.Var:
		return true
	case atom.Font:
		for more := true; more; {
			var k []byte
			k, _, more = z.TagAttr()
			if s := string(k); s == "color" || s == "face" || s == "size" {
				return true
			}
		}
	}
	return false
}

// tablePart takes the start tag of a part of a table, a, and reports
// whether to keep it. The parser closes, by itself, what the part cannot
// be in (a cell at the next row, a row at the next section) and what is
// open in the table outside a cell; outside a table of the output's own it
// ignores the tag, or closes the cell of a page's table the output is in.
func (b *balancer) tablePart(a atom.Atom) bool {
	t := b.top().table
	if t < 0 {
		return false
	}
	for !holds(b.open[t].a, a) {
		t = b.open[t-1].table
	}
	b.popTo(t + 1)
	return true
}

// holds reports whether the parser puts a part of a table, part, in an
// open element of a table, in, rather than close in.
func holds(in, part atom.Atom) bool {
	switch part {
	case atom.Td, atom.Th:
		return in == atom.Tr || in == atom.Tbody || in == atom.Thead || in == atom.Tfoot || in == atom.Table
	case atom.Tr:
		return in == atom.Tbody || in == atom.Thead || in == atom.Tfoot || in == atom.Table
	case atom.Col:
		return in == atom.Colgroup || in == atom.Table
	}
	return in == atom.Table
}

func tablePart(a atom.Atom) bool {
	switch a {
	case atom.Caption, atom.Colgroup, atom.Col, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr,
		atom.Td, atom.Th:
		return true
	}
	return false
}

func cellOrCaption(a atom.Atom) bool {
	return a == atom.Td || a == atom.Th || a == atom.Caption
}

func heading(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// push opens name, in ns, with its indexes.
func (b *balancer) push(z *html.Tokenizer, name string, a atom.Atom, ns namespace) {
	e := b.top()
	e.name, e.a, e.ns, e.point = name, a, ns, false
	i := len(b.open)
	if ns != htmlNS {
		e.a = 0 // its atom is for the HTML element of that name
		switch {
		case ns == svgNS:
			e.point = name == "foreignobject" || name == "desc" || name == "title"
		case name == "annotation-xml":
			e.point = htmlAnnotation(z)
		default:
			e.point = name == "mi" || name == "mo" || name == "mn" || name == "ms" || name == "mtext"
		}
	}
	special := e.point || (ns == htmlNS && specialElement(a))
	switch {
	case e.a == atom.P:
		e.p = i
	case buttonScope(e.a, e.point):
		e.p = -1
	}
	switch {
	case e.a == atom.Li:
		e.li, e.dd = i, -1
	case e.a == atom.Dd || e.a == atom.Dt:
		e.li, e.dd = -1, i
	case special && e.a != atom.Address && e.a != atom.Div && e.a != atom.P:
		e.li, e.dd = -1, -1
	}
	switch {
	case ns == htmlNS && (e.a == atom.Table || tablePart(e.a)):
		e.table = i
	case e.a == atom.Template:
		e.table = -1
	}
	b.open = append(b.open, e)
	b.counts[name]++
}

// htmlAnnotation reports whether the annotation-xml start tag z has just
// read holds HTML.
func htmlAnnotation(z *html.Tokenizer) bool {
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		if string(k) == "encoding" {
			v := strings.ToLower(string(v))
			return v == "text/html" || v == "application/xhtml+xml"
		}
	}
	return false
}

// closeTo closes name, which is open, for its end tag, the current token:
// it writes an end tag for each element open inside it.
func (b *balancer) closeTo(name string) {
	i := len(b.open) - 1
	for b.open[i].name != name {
		i--
	}
	b.popTo(i + 1)
	b.open = b.open[:i]
	b.counts[name]--
}

// popTo closes the elements open at i and above it, writing their end
// tags.
func (b *balancer) popTo(i int) {
	for len(b.open) > i {
		top := b.open[len(b.open)-1]
		b.open = b.open[:len(b.open)-1]
		b.counts[top.name]--
		b.change()
		b.out = append(append(append(b.out, "</"...), top.name...), '>')
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

// buttonScope reports whether an open element, an HTML one of atom a or
// an integration point, ends the search for a p element in button scope.
// Where it is not sure, it reports false: the search going too far closes
// a p explicitly that the parser would have left open, which is safe.
func buttonScope(a atom.Atom, point bool) bool {
	switch a {
	case atom.Applet, atom.Caption, atom.Table, atom.Td, atom.Th, atom.Marquee, atom.Object,
		atom.Template, atom.Button:
		return true
	}
	return point
}

// specialElement reports whether a is an HTML element of the special
// category, which ends the search for an li, dd or dt to close, of those
// that have an end tag. As with buttonScope, false is the safe answer.
func specialElement(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Applet, atom.Article, atom.Aside, atom.Blockquote, atom.Button,
		atom.Caption, atom.Center, atom.Colgroup, atom.Dd, atom.Details, atom.Dir, atom.Div,
		atom.Dl, atom.Dt, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form,
		atom.Frameset, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Header,
		atom.Hgroup, atom.Iframe, atom.Li, atom.Listing, atom.Main, atom.Marquee, atom.Menu,
		atom.Nav, atom.Noembed, atom.Noframes, atom.Noscript, atom.Object, atom.Ol, atom.P,
		atom.Plaintext, atom.Pre, atom.Section, atom.Select, atom.Summary, atom.Table,
		atom.Tbody, atom.Td, atom.Template, atom.Textarea, atom.Tfoot, atom.Th, atom.Thead,
		atom.Title, atom.Tr, atom.Ul, atom.Xmp:
		return true
	}
	return false
}
