package csrf

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// exemption is a compiled [Exemption].
type exemption struct {
	method, path, reason string
	// segs holds the segments of a path with {name} wildcards, after its
	// leading slash, with "" for each wildcard (a literal segment of a
	// clean path is never empty); nil for a literal path, compared whole.
	segs []string
}

// parseExemption parses "[METHOD ]/path" and returns a reason when it is
// invalid.
func parseExemption(p string) (exemption, string) {
	var ex exemption
	if method, rest, ok := strings.Cut(p, " "); ok {
		if !httptoken.IsToken(method) || method != strings.ToUpper(method) {
			return ex, "the method must be an upper-case token"
		}
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			// Found in review: such a request passes unchecked unless
			// it carries a _method override, so the exemption exempted
			// only that, a forging page's "GET /x?_method=DELETE".
			return ex, "GET, HEAD and OPTIONS requests are never checked but for a _method override, which an exemption must not let through: exempt the unsafe method the route takes"
		}
		ex.method, p = method, rest
	}
	switch {
	case !strings.HasPrefix(p, "/"):
		return ex, "the path must start with /"
	case strings.ContainsAny(p, "%?# \t"):
		return ex, "the path must be literal but for {name} wildcards: no escapes, query, fragment, space or tab"
	case strings.Contains(p, "{$}"):
		// ServeMux's "/hooks/{$}" is "/hooks/" and nothing under it;
		// taking it for "/hooks" would match another path than the one
		// ServeMux gives the handler registered with it.
		return ex, `{$} is not needed: exemptions always match their path exactly, and in ServeMux it means a trailing slash, which an exemption cannot have; write the path without it, "/" for the root`
	case strings.Contains(p, "...}"):
		// Found in review of the wildcards: a subtree, like a trailing
		// slash, takes in every route later added under it.
		return ex, "a {name...} wildcard matches a subtree, which would exempt routes added under it later without review: list each route, with {name} for one segment"
	case path.Clean(p) != strings.TrimSuffix(p, "/") && p != "/":
		return ex, "the path must be clean"
	case strings.HasSuffix(p, "/") && p != "/":
		return ex, "a trailing slash names a subtree in ServeMux, which would exempt routes added under it later without review: exemptions match one exact path; use {name} for one segment"
	}
	if !strings.ContainsAny(p, "{}") {
		if escapedByURL(p) {
			// Found in review: a request for such a path as browsers
			// and most clients send it ("/hooks/a*b") has a RawPath,
			// which the exemption check refuses, so the exemption
			// matched only the rare client that escapes the character
			// as net/url does ("/hooks/a%2Ab").
			return ex, "the path holds a character net/url escapes (such as * ! ' ( ) [ ] |), so requests for it, sent unescaped, would not match"
		}
		ex.path = p
		return ex, ""
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			if escapedByURL(s) {
				return ex, "the path holds a character net/url escapes (such as * ! ' ( ) [ ] |), so requests for it, sent unescaped, would not match"
			}
			continue
		}
		name := strings.TrimPrefix(strings.TrimSuffix(s, "}"), "{")
		if len(name)+2 != len(s) || strings.ContainsAny(name, "{}") {
			return ex, "a wildcard must be a whole segment, such as /hooks/{provider}"
		}
		if !isWildcardName(name) {
			return ex, "a wildcard name must be a Go identifier, as ServeMux requires"
		}
		for _, prev := range segs[:i] {
			if prev == s {
				return ex, "the wildcard name " + s + " appears twice"
			}
		}
	}
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = ""
		}
	}
	ex.path, ex.segs = p, segs
	return ex, ""
}

// isWildcardName reports whether s is a valid Go identifier, what
// ServeMux requires of a wildcard's name.
func isWildcardName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !unicode.IsLetter(c) && c != '_' && (i == 0 || !unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}

// escapedByURL reports whether p holds an ASCII character that
// net/url.URL.EscapedPath escapes; a request whose path holds one
// unescaped has a RawPath. Non-ASCII characters are left out: browsers
// percent-encode them in UTF-8, as net/url does, so such a request has
// none.
func escapedByURL(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < utf8.RuneSelf {
			// After a slash: EscapedPath leaves a path of "*" alone.
			if s := "/" + p[i:i+1]; (&url.URL{Path: s}).EscapedPath() != s {
				return true
			}
		}
	}
	return false
}

// isExempt reports whether r targets an exempt route: the method if one
// is named, and the exact path, with no escaping. A request with a
// RawPath (an escape net/url would not write, such as %2F in a segment or
// %61 for "a", or a character it escapes sent as is) matches none, so an
// encoded slash never joins or splits a wildcard's segment.
func (m *Middleware) isExempt(r *http.Request) bool {
	if len(m.exempt) == 0 || r.URL == nil || r.URL.RawPath != "" {
		return false
	}
	p := r.URL.Path
	for i := range m.exempt {
		e := &m.exempt[i]
		if e.method != "" && e.method != r.Method {
			continue
		}
		// A literal path is compared here, without a call.
		if e.segs == nil {
			if p == e.path {
				return true
			}
		} else if e.matchWildcards(p) {
			return true
		}
	}
	return false
}

// matchWildcards reports whether p is the path of an exemption with
// wildcards, each standing for one segment that is neither empty, "." nor
// "..": the segments ServeMux would clean away, redirecting, rather than
// serve.
func (e *exemption) matchWildcards(p string) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	p = p[1:]
	last := len(e.segs) - 1
	for i, want := range e.segs {
		seg := p
		if i < last {
			j := strings.IndexByte(p, '/')
			if j < 0 {
				return false
			}
			seg, p = p[:j], p[j+1:]
		} else if strings.IndexByte(p, '/') >= 0 {
			return false
		}
		if want != "" {
			if seg != want {
				return false
			}
		} else if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
