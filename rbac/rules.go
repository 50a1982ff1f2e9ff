package rbac

import (
	"errors"
	"fmt"
	"go/token"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/casefold"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/percent"
)

// Rule is one entry of the rule table (Options.Rules): the requests its
// Pattern matches need its Requirement, or nothing when AllowAnonymous is
// set.
type Rule struct {
	// Pattern selects requests with the syntax of [net/http.ServeMux]
	// patterns, without a host: "[METHOD ]/path", where path segments are
	// literals, "{name}" wildcards, a final "{name...}", a trailing "/"
	// for a whole subtree, or a final "{$}" for the path ending in "/"
	// only. White space at the end is an error: ServeMux would keep it
	// in the last segment. A GET pattern also matches HEAD. When several
	// rules match, the most specific wins, as in ServeMux; two rules that
	// overlap with neither more specific, or that differ only in letter
	// case, are an error.
	Pattern string
	// Requirement is what matching requests need.
	Requirement
	// AllowAnonymous lets matching requests through without an identity
	// and without any check: a login page, a health probe. The
	// Requirement must then be empty.
	AllowAnonymous bool
}

// pattern is a compiled Rule.Pattern.
type pattern struct {
	str    string
	method string // "" for every method
	segs   []pseg
}

type pseg struct {
	lit   string // a literal segment, unescaped
	name  string // the wildcard's name, "" for a trailing "/"
	wild  bool   // {name}
	multi bool   // {name...} or a trailing "/"
	end   bool   // {$}
}

var (
	errPatternEmpty  = errors.New("empty pattern")
	errPatternSpace  = errors.New("white space at the end")
	errPatternHost   = errors.New("the path must start with '/' (host patterns are not supported)")
	errPatternMethod = errors.New("invalid method")
	errPatternSeg    = errors.New("empty, '.' or '..' segment, or a literal with '/', '\\', '{' or '}'")
	errPatternWild   = errors.New("invalid wildcard: it must be a whole segment {name}, {name...} last, or {$} last")
	errPatternDup    = errors.New("duplicate wildcard name")
)

func parsePattern(s string) (*pattern, error) {
	p := &pattern{str: s}
	rest := strings.TrimSpace(s)
	switch {
	case rest == "":
		return nil, errPatternEmpty
	case !strings.HasSuffix(s, rest):
		// ServeMux keeps it in the last literal: trimmed, the rule
		// would guard another path than the route.
		return nil, errPatternSpace
	}
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		p.method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
		for j := 0; j < len(p.method); j++ {
			if !isTokenChar(p.method[j]) {
				return nil, errPatternMethod
			}
		}
	}
	if rest == "" || rest[0] != '/' {
		return nil, errPatternHost
	}
	if rest == "/" {
		p.segs = []pseg{{multi: true}}
		return p, nil
	}
	parts := strings.Split(rest[1:], "/")
	names := map[string]bool{}
	for i, part := range parts {
		last := i == len(parts)-1
		switch {
		case part == "" && last:
			p.segs = append(p.segs, pseg{multi: true})
		case strings.HasPrefix(part, "{"):
			if !strings.HasSuffix(part, "}") || strings.ContainsAny(part[1:len(part)-1], "{}") {
				return nil, errPatternWild
			}
			name := part[1 : len(part)-1]
			seg := pseg{wild: true}
			switch {
			case name == "$":
				if !last {
					return nil, errPatternWild
				}
				seg = pseg{end: true}
			case strings.HasSuffix(name, "..."):
				if !last {
					return nil, errPatternWild
				}
				name = strings.TrimSuffix(name, "...")
				seg = pseg{multi: true}
			}
			if !seg.end {
				if !token.IsIdentifier(name) {
					return nil, errPatternWild
				}
				if names[name] {
					return nil, errPatternDup
				}
				names[name] = true
				seg.name = name
			}
			p.segs = append(p.segs, seg)
		default:
			lit, err := url.PathUnescape(part)
			if err != nil || lit == "" || lit == "." || lit == ".." || strings.ContainsAny(lit, "/\\{}") {
				return nil, errPatternSeg
			}
			p.segs = append(p.segs, pseg{lit: lit})
		}
	}
	return p, nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// relationship between the request sets two patterns match, as in
// net/http's routing.
type relationship uint8

const (
	equivalent relationship = iota
	moreGeneral
	moreSpecific
	disjoint
	overlaps
)

func inverse(r relationship) relationship {
	switch r {
	case moreGeneral:
		return moreSpecific
	case moreSpecific:
		return moreGeneral
	}
	return r
}

func combine(r1, r2 relationship) relationship {
	switch r1 {
	case equivalent:
		return r2
	case disjoint:
		return disjoint
	case overlaps:
		if r2 == disjoint {
			return disjoint
		}
		return overlaps
	default: // moreGeneral, moreSpecific
		switch r2 {
		case equivalent:
			return r1
		case inverse(r1):
			return overlaps
		default:
			return r2
		}
	}
}

// compare relates p1 to p2, comparing methods and literals without regard
// to letter case (see foldRune) so that patterns differing only in case
// are equivalent.
func (p1 *pattern) compare(p2 *pattern) relationship {
	var mrel relationship
	switch m1, m2 := p1.method, p2.method; {
	case httptoken.EqualFold(m1, m2):
		mrel = equivalent
	case m1 == "":
		mrel = moreGeneral
	case m2 == "":
		mrel = moreSpecific
	case httptoken.EqualFold(m1, http.MethodGet) && httptoken.EqualFold(m2, http.MethodHead):
		mrel = moreGeneral
	case httptoken.EqualFold(m1, http.MethodHead) && httptoken.EqualFold(m2, http.MethodGet):
		mrel = moreSpecific
	default:
		return disjoint
	}
	return combine(mrel, p1.comparePaths(p2))
}

func (p1 *pattern) comparePaths(p2 *pattern) relationship {
	s1, s2 := p1.segs, p2.segs
	last1, last2 := s1[len(s1)-1], s2[len(s2)-1]
	if len(s1) != len(s2) && !last1.multi && !last2.multi {
		return disjoint
	}
	rel := equivalent
	for ; len(s1) > 0 && len(s2) > 0; s1, s2 = s1[1:], s2[1:] {
		rel = combine(rel, compareSegs(s1[0], s2[0]))
		if rel == disjoint {
			return rel
		}
	}
	switch {
	case len(s1) == 0 && len(s2) == 0:
		return rel
	case len(s1) < len(s2) && last1.multi:
		return combine(rel, moreGeneral)
	case len(s2) < len(s1) && last2.multi:
		return combine(rel, moreSpecific)
	}
	return disjoint
}

func compareSegs(a, b pseg) relationship {
	switch {
	case a.multi && b.multi:
		return equivalent
	case a.multi:
		return moreGeneral
	case b.multi:
		return moreSpecific
	case a.end && b.end:
		return equivalent
	case a.end || b.end:
		return disjoint
	case a.wild && b.wild:
		return equivalent
	case a.wild:
		return moreGeneral
	case b.wild:
		return moreSpecific
	case equalFold(a.lit, b.lit):
		return equivalent
	}
	return disjoint
}

// matchMethod reports whether the pattern's method accepts method.
func (p *pattern) matchMethod(method string, fold bool) bool {
	switch {
	case p.method == "":
		return true
	case p.method == method, fold && httptoken.EqualFold(p.method, method):
		return true
	case p.method == http.MethodGet:
		return method == http.MethodHead || fold && httptoken.EqualFold(method, http.MethodHead)
	case fold && httptoken.EqualFold(p.method, http.MethodGet):
		return httptoken.EqualFold(method, http.MethodHead)
	}
	return false
}

// matchPath reports whether the decoded path p, which starts with '/',
// matches. A path is read as the segments between its slashes: "/" is one
// empty segment, "/a/" is "a" then an empty segment, "//a" is an empty
// segment then "a". A wildcard matches an empty segment only if empty is
// set, and never the last one, as in ServeMux's CONNECT routing and
// routers that do not clean paths ("//a" is "/{x}/a" with x ""). It does
// not allocate.
func (p *pattern) matchPath(path string, fold, empty bool) bool {
	rest, atEnd := path[1:], false
	for _, s := range p.segs {
		if atEnd {
			return false
		}
		if s.multi {
			return true
		}
		var seg string
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			seg, rest = rest[:j], rest[j+1:]
		} else {
			seg, atEnd = rest, true
		}
		switch {
		case s.end:
			if seg != "" || !atEnd {
				return false
			}
		case s.wild:
			if seg == "" && (!empty || atEnd) {
				return false
			}
		case fold:
			if !equalFold(seg, s.lit) {
				return false
			}
		default:
			if seg != s.lit {
				return false
			}
		}
	}
	return atEnd
}

// setPathValues sets the pattern's wildcards from path, which it matched,
// and returns saved with the values they replace appended, in the order of
// the wildcards, for restorePathValues.
func (p *pattern) setPathValues(r *http.Request, path string, saved []string) []string {
	rest := path[1:]
	for _, s := range p.segs {
		if s.multi {
			if s.name != "" {
				saved = append(saved, r.PathValue(s.name))
				r.SetPathValue(s.name, rest)
			}
			return saved
		}
		seg := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			seg, rest = rest[:j], rest[j+1:]
		} else {
			rest = ""
		}
		if s.wild {
			saved = append(saved, r.PathValue(s.name))
			r.SetPathValue(s.name, seg)
		}
	}
	return saved
}

// restorePathValues sets the pattern's wildcards back to the values
// setPathValues saved, so that the rule table leaves the request's path
// values as it found them: those of a ServeMux route further out, or none
// ("" reads as none).
func (p *pattern) restorePathValues(r *http.Request, saved []string) {
	for _, s := range p.segs {
		if (s.wild || s.multi) && s.name != "" {
			r.SetPathValue(s.name, saved[0])
			saved = saved[1:]
		}
	}
}

// compiledRule is a validated Rule.
type compiledRule struct {
	pat       *pattern
	req       *compiledReq // nil when anonymous
	anonymous bool
}

// ruleTable holds the rules ordered so that a rule comes before every
// rule it is more specific than: the first match is the most specific.
type ruleTable struct {
	rules []compiledRule
	// byFirst indexes, by the case-folded first literal segment of their
	// pattern (see foldString), the rules that can match a path starting
	// with that segment: those with that literal and those starting with
	// a wildcard, in table order. generic lists the latter alone, for a
	// first segment no pattern names.
	byFirst map[string][]int
	generic []int
	// upper is set when a literal of some pattern has an upper-case
	// letter, or another rune that case folding changes, or the method
	// of some pattern a lower-case letter: a lower-case path, or an
	// upper-case method, can then reach that rule's handler through a
	// router that ignores case, so every request is also matched
	// ignoring case.
	upper bool
}

// index builds byFirst and generic.
func (t *ruleTable) index() {
	t.byFirst = make(map[string][]int)
	for i := range t.rules {
		if s := t.rules[i].pat.segs[0]; s.lit != "" {
			t.byFirst[foldString(s.lit)] = nil
		}
	}
	for i := range t.rules {
		s := t.rules[i].pat.segs[0]
		if s.lit == "" {
			t.generic = append(t.generic, i)
			for k, list := range t.byFirst {
				t.byFirst[k] = append(list, i)
			}
			continue
		}
		k := foldString(s.lit)
		t.byFirst[k] = append(t.byFirst[k], i)
	}
}

func compileRules(m *Middleware, rules []Rule) (*ruleTable, []error) {
	var errs []error
	var compiled []compiledRule
	for i, rule := range rules {
		field := fmt.Sprintf("Rules[%d]", i)
		// The pattern and the requirement are both checked, so that
		// fixing one reveals no new problem in the other.
		pat, err := parsePattern(rule.Pattern)
		if err != nil {
			errs = append(errs, &OptionError{Field: field + ".Pattern", Value: rule.Pattern, Err: ErrInvalidPattern, reason: err})
		}
		cr := compiledRule{pat: pat, anonymous: rule.AllowAnonymous}
		if rule.AllowAnonymous {
			r := rule.Requirement
			if len(r.Permissions)+len(r.AnyPermission)+len(r.Roles) > 0 || r.Owner != nil || r.Authenticated {
				errs = append(errs, &OptionError{Field: field, Value: rule.Pattern, Err: ErrInvalidRequirement,
					reason: errors.New("AllowAnonymous with a Requirement")})
				continue
			}
		} else {
			req, rerrs := compileRequirement(field, rule.Requirement)
			if len(rerrs) > 0 {
				errs = append(errs, rerrs...)
				continue
			}
			cr.req = req
			m.register(req.permissions())
		}
		if pat == nil {
			continue
		}
		for j := range compiled {
			switch compiled[j].pat.compare(pat) {
			case equivalent:
				errs = append(errs, &OptionError{Field: field + ".Pattern", Value: rule.Pattern, Err: ErrPatternConflict,
					reason: fmt.Errorf("matches the same requests as %s", quote(compiled[j].pat.str))})
			case overlaps:
				errs = append(errs, &OptionError{Field: field + ".Pattern", Value: rule.Pattern, Err: ErrPatternConflict,
					reason: fmt.Errorf("overlaps %s and neither is more specific", quote(compiled[j].pat.str))})
			}
		}
		compiled = append(compiled, cr)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// Order by specificity: repeatedly take a rule that no remaining rule
	// is more specific than. The relation is a partial order once
	// conflicts are excluded, so this always progresses.
	t := &ruleTable{rules: make([]compiledRule, 0, len(compiled))}
	remaining := compiled
	for len(remaining) > 0 {
		for i := range remaining {
			minimal := true
			for j := range remaining {
				if i != j && remaining[j].pat.compare(remaining[i].pat) == moreSpecific {
					minimal = false
					break
				}
			}
			if minimal {
				t.rules = append(t.rules, remaining[i])
				remaining = append(remaining[:i:i], remaining[i+1:]...)
				break
			}
		}
	}
	for i := range t.rules {
		t.upper = t.upper || hasLowerASCII(t.rules[i].pat.method)
		for _, s := range t.rules[i].pat.segs {
			t.upper = t.upper || needsFold(s.lit)
		}
	}
	t.index()
	return t, nil
}

// match returns the index of the most specific rule matching, or -1. fold
// and empty are as for matchPath.
func (t *ruleTable) match(method, path string, fold, empty bool) int {
	first := path[1:]
	if j := strings.IndexByte(first, '/'); j >= 0 {
		first = first[:j]
	}
	if needsFold(first) {
		// Rare: the index is keyed case-folded, so scan everything
		// rather than allocate a folded copy.
		for i := range t.rules {
			if t.matches(i, method, path, fold, empty) {
				return i
			}
		}
		return -1
	}
	list, ok := t.byFirst[first]
	if !ok {
		list = t.generic
	}
	for _, i := range list {
		if t.matches(i, method, path, fold, empty) {
			return i
		}
	}
	return -1
}

func (t *ruleTable) matches(i int, method, path string, fold, empty bool) bool {
	p := t.rules[i].pat
	return p.matchMethod(method, fold) && p.matchPath(path, fold, empty)
}

// ambiguousPath reports whether u's path is one routers disagree about:
// an opaque or unrooted request target, a control character or backslash,
// a RawPath that does not decode to Path, or a percent-encoded byte that
// is unreserved (RFC 3986 §2.3: letters, digits, "-._~"), a slash, a
// backslash, a percent sign, one of ";?#", or a control character.
// Clients have no reason to send those, and a router or backend that
// decodes, or does not, or decodes twice, would see a different path than
// the rule table.
func ambiguousPath(u *url.URL) bool {
	if u.Opaque != "" || u.Path != "" && u.Path[0] != '/' {
		return true
	}
	// In the decoded path, '?', '#' and '%' can only come from "%3F",
	// "%23" and "%25": they are not part of a path otherwise.
	for i := 0; i < len(u.Path); i++ {
		if c := u.Path[i]; c < 0x20 || c == 0x7f || c == '\\' || c == '?' || c == '#' || c == '%' {
			return true
		}
	}
	// RawPath must also decode to Path, byte for byte: one that does not
	// was left behind by a middleware that rewrote Path, and routers
	// disagree about it (ServeMux routes on Path, chi and gin's
	// UseRawPath on RawPath). net/url never makes one.
	raw, j := u.RawPath, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			var ok bool
			if c, ok = percent.Byte(raw, i); !ok {
				return true
			}
			switch {
			case c < 0x20, c == 0x7f, c == '/', c == '\\', c == '%', c == ';', c == '?', c == '#',
				'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
				c == '-', c == '.', c == '_', c == '~':
				return true
			}
			i += 2
		}
		if j == len(u.Path) || u.Path[j] != c {
			return true
		}
		j++
	}
	return raw != "" && j != len(u.Path)
}

// cleanPath returns the canonical path for p as net/http.ServeMux computes
// it: rooted, with "." and ".." resolved, repeated slashes collapsed and a
// trailing slash kept. It allocates only when p is not already clean.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			np = p
		} else {
			np += "/"
		}
	}
	return np
}

// foldRune is the case folding of the readings that ignore case,
// casefold.Rune: a router ignoring case by strings.EqualFold,
// strings.ToLower or strings.ToUpper routes the folded path where the
// unfolded one goes. (Found in review: only ASCII letters were folded, so
// "/u%C5%BFers/bob" rode a catch-all past the rule "/users/{id}", and a
// literal with a non-ASCII capital, "/Ärzte/", was never matched at all.)
func foldRune(r rune) rune { return casefold.Rune(r) }

// needsFold reports whether foldRune changes a rune of s. It does not
// allocate.
func needsFold(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			return true
		}
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if foldRune(r) != r {
					return true
				}
			}
			return false
		}
	}
	return false
}

// equalFold reports whether a and b are equal rune by rune under
// foldRune; bytes that are not UTF-8 must be equal. It does not allocate.
func equalFold(a, b string) bool {
	for a != "" && b != "" {
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			if foldRune(rune(a[0])) != foldRune(rune(b[0])) {
				return false
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra == utf8.RuneError && na == 1 || rb == utf8.RuneError && nb == 1 {
			if a[:na] != b[:nb] {
				return false
			}
		} else if foldRune(ra) != foldRune(rb) {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b == ""
}

// foldString returns s with foldRune applied to each rune, keeping bytes
// that are not UTF-8, so that a string without a rune to fold is its own
// key in the index.
func foldString(s string) string {
	if !needsFold(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[0])
		} else {
			b.WriteRune(foldRune(r))
		}
		s = s[n:]
	}
	return b.String()
}

func hasLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return true
		}
	}
	return false
}

// candidates is the set of rules a request could be routed to, one for
// each reading of its path at most.
type candidates struct {
	idx  [6]int
	path [6]string
	n    int
}

// add adds rule i for path, unless that pair is there already. The same
// rule reached through two readings of the path is kept twice: its path
// values can differ ("/users/bob/../alice/x" is id=alice cleaned and
// id=bob raw), and an OwnerFunc must approve both.
func (c *candidates) add(i int, path string) {
	if i < 0 {
		return
	}
	for k := 0; k < c.n; k++ {
		if c.idx[k] == i && c.path[k] == path {
			return
		}
	}
	c.idx[c.n], c.path[c.n] = i, path
	c.n++
}

// Check applies the rule table to r and returns nil if r may proceed, or
// the reason it may not: an [*AccessError].
//
// The table is matched on the path as [net/http.ServeMux] would route it
// (cleaned: "//", "/./" and "/../" resolved), and also as a router that
// does not clean paths (and may match a wildcard to an empty segment), or
// that ignores letter case, would route it. A
// request must satisfy every rule it could be routed to that way, so
// neither a non-canonical path nor a change of case can reach a handler
// under a weaker rule. A path that matches no rule under any reading is
// rejected with [ErrNoRule]: the table denies by default. A path with
// ambiguous percent-encoding or a RawPath that does not decode to its
// Path, and a CONNECT request whose path is not clean (ServeMux routes
// CONNECT without cleaning the path, and matches a wildcard to an empty
// segment there), are rejected with [ErrAmbiguousPath].
//
// A POST is also read as each method it asks a method-override middleware
// to run instead: the X-HTTP-Method-Override, X-HTTP-Method and
// X-Method-Override headers and a _method query parameter. Each such
// method must match a rule and satisfy it, as the POST must. A _method
// field in a form body is not read (that would consume the body): a
// middleware that honours one belongs outside this one. Check does not
// allocate for a clean path unless an OwnerFunc runs or a _method value
// is percent-encoded. With Options.RolesFor, it calls RolesFor at most
// once, without the path values of the router behind it, unless a
// Handler of m further out resolved the roles.
func (m *Middleware) Check(r *http.Request) error {
	var pr principalOnce
	return m.check(r, &pr)
}

// check is Check; pr keeps the principal, and the roles Options.RolesFor
// gave, for Handler to pass on.
func (m *Middleware) check(r *http.Request, pr *principalOnce) error {
	if m == nil {
		return errNoRule
	}
	t := m.rules
	if t == nil {
		return errNoRule
	}
	if ambiguousPath(r.URL) {
		return errAmbiguousPath
	}
	raw := r.URL.Path // rooted or empty: ambiguousPath refused the rest
	clean := cleanPath(raw)
	if raw != clean && raw != "" && httptoken.EqualFold(r.Method, http.MethodConnect) {
		// ServeMux routes a CONNECT request on its path as sent, not
		// cleaned, and there a wildcard also matches an empty segment:
		// "//admin" is "/{tenant}/admin" with tenant "". Such a request
		// is refused rather than read; a clean CONNECT path is routed as
		// that of any other method. The method's case is ignored as for
		// the readings below.
		return errAmbiguousPath
	}
	if err := m.checkMethod(t, r, r.Method, raw, clean, pr); err != nil {
		return err
	}
	if r.Method != http.MethodPost {
		// The override middlewares of gorilla/handlers, echo and Rack
		// rewrite only POST requests.
		return nil
	}
	for _, h := range overrideHeaders {
		for _, v := range r.Header[h] {
			if err := m.checkOverride(t, r, v, raw, clean, pr); err != nil {
				return err
			}
		}
	}
	// Without an escape, a key that decodes to _method is spelled so:
	// most queries are passed over without a scan.
	if q := r.URL.RawQuery; q != "" && (strings.IndexByte(q, '%') >= 0 || strings.Contains(q, "_method")) {
		for q != "" {
			var pair string
			pair, q, _ = strings.Cut(q, "&")
			key, v, _ := strings.Cut(pair, "=")
			if !percent.QueryIs(key, "_method") {
				continue
			}
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
			if err := m.checkOverride(t, r, v, raw, clean, pr); err != nil {
				return err
			}
		}
	}
	return nil
}

// overrideHeaders are the request headers with which method-override
// middlewares let a POST ask for another method, in canonical form.
var overrideHeaders = [...]string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

// checkOverride checks r as the method v a POST asks for. An empty value,
// or POST itself, asks for nothing.
func (m *Middleware) checkOverride(t *ruleTable, r *http.Request, v, raw, clean string, pr *principalOnce) error {
	if v == "" || v == http.MethodPost {
		return nil
	}
	return m.checkMethod(t, r, v, raw, clean, pr)
}

// principalOnce looks up the request's principal at most once across the
// methods a request is read as.
type principalOnce struct {
	id     identity.Identity
	p      *Policy
	err    error
	looked bool
	rr     *resolvedRoles // with Options.RolesFor
	fresh  bool           // rr comes from RolesFor, not from the context

	// passed are the rules already satisfied on a path, so that each is
	// checked once however many methods a POST asks to be read as: the
	// decision does not depend on the method, and each check may run the
	// OwnerFunc. (Found in review: 1 000 override values ran it 1 001
	// times.) There are at most two paths per rule, cleaned and as sent.
	passed [8]passedRule
	npass  int
	more   []passedRule
}

type passedRule struct {
	idx  int
	path string
}

// hasPassed reports whether rule i was satisfied on path.
func (pr *principalOnce) hasPassed(i int, path string) bool {
	for _, p := range pr.passed[:pr.npass] {
		if p.idx == i && p.path == path {
			return true
		}
	}
	for _, p := range pr.more {
		if p.idx == i && p.path == path {
			return true
		}
	}
	return false
}

func (pr *principalOnce) pass(i int, path string) {
	if pr.npass < len(pr.passed) {
		pr.passed[pr.npass] = passedRule{i, path}
		pr.npass++
		return
	}
	pr.more = append(pr.more, passedRule{i, path})
}

// checkMethod applies the rule table to r read as method, on every reading
// of the path (see [Middleware.Check]).
func (m *Middleware) checkMethod(t *ruleTable, r *http.Request, method, raw, clean string, pr *principalOnce) error {
	fold := t.upper || needsFold(raw) || hasLowerASCII(method)
	unclean := raw != clean && raw != "" && raw[0] == '/'
	var c candidates
	c.add(t.match(method, clean, false, false), clean)
	if unclean {
		// A router that does not clean paths may or may not match a
		// wildcard to an empty segment: both readings count.
		c.add(t.match(method, raw, false, false), raw)
		c.add(t.match(method, raw, false, true), raw)
	}
	if fold {
		c.add(t.match(method, clean, true, false), clean)
		if unclean {
			c.add(t.match(method, raw, true, false), raw)
			c.add(t.match(method, raw, true, true), raw)
		}
	}
	if c.n == 0 {
		return errNoRule
	}
	for k := 0; k < c.n; k++ {
		rule := &t.rules[c.idx[k]]
		if rule.anonymous || pr.hasPassed(c.idx[k], c.path[k]) {
			continue
		}
		if !pr.looked {
			pr.id, pr.p, pr.err = m.principal(r)
			pr.looked = true
			if pr.err == nil && m.rolesFor != nil {
				pr.rr, pr.fresh = m.resolveRoles(r, pr.id)
				if pr.rr.err != nil {
					pr.err = pr.rr.err
				}
			}
		}
		if pr.err != nil {
			return pr.err
		}
		var roles *[]string
		if pr.rr != nil {
			roles = &pr.rr.roles
		}
		if err := rule.req.check(m, pr.p, r, pr.id, roles, rule.pat, c.path[k]); err != nil {
			return err
		}
		pr.pass(c.idx[k], c.path[k])
	}
	return nil
}

// Handler returns a handler that enforces the rule table (Options.Rules)
// and calls next for requests that pass [Middleware.Check]; others are
// rejected through Options.OnReject. Without rules, every request is
// rejected.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pr principalOnce
		if err := m.check(r, &pr); err != nil {
			m.reject(w, r, err)
			return
		}
		if pr.fresh && pr.rr.err == nil {
			r = m.withRoles(r, pr.rr)
		}
		next.ServeHTTP(w, r)
	})
}
