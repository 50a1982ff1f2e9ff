package headers

import (
	"encoding/base64"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
	"github.com/httpguard/httpguard/internal/httptoken"
)

// CSP keyword sources, for the source lists of [CSP]. Keywords must keep
// their single quotes: an unquoted self is a host named "self".
const (
	Self                  = "'self'"
	None                  = "'none'"
	UnsafeInline          = "'unsafe-inline'"
	UnsafeEval            = "'unsafe-eval'"
	UnsafeHashes          = "'unsafe-hashes'"
	StrictDynamic         = "'strict-dynamic'"
	ReportSample          = "'report-sample'"
	WasmUnsafeEval        = "'wasm-unsafe-eval'"
	InlineSpeculationRule = "'inline-speculation-rules'"
)

// SourceKind is the kind of a CSP source expression.
type SourceKind uint8

// The kinds of source expressions of CSP Level 3. Nonce sources are not
// among them: the middleware adds them itself, new on each response.
const (
	// SourceKeyword is a quoted keyword such as 'self' or 'none'.
	SourceKeyword SourceKind = iota + 1
	// SourceHash is 'sha256-…', 'sha384-…' or 'sha512-…' with the base64
	// digest of an inline script or style.
	SourceHash
	// SourceScheme is a scheme followed by a colon, such as https: or data:.
	SourceScheme
	// SourceHost is a host source: an optional scheme and "://", a host (or
	// "*", or "*." and a host), an optional port (or "*") and an optional
	// path.
	SourceHost
)

// String returns the kind's name.
func (k SourceKind) String() string {
	switch k {
	case SourceKeyword:
		return "keyword"
	case SourceHash:
		return "hash"
	case SourceScheme:
		return "scheme"
	case SourceHost:
		return "host"
	}
	return "invalid"
}

// Source is a parsed CSP source expression.
type Source struct {
	// Kind is the kind of expression.
	Kind SourceKind
	// Value is the canonical text: keywords, hash algorithms, schemes and
	// hosts in lower case; paths and digests as given.
	Value string
}

// String returns s.Value.
func (s Source) String() string { return s.Value }

// maxSourceLen bounds one source expression.
const maxSourceLen = 1024

var keywords = map[string]bool{
	Self: true, None: true, UnsafeInline: true, UnsafeEval: true,
	UnsafeHashes: true, StrictDynamic: true, ReportSample: true,
	WasmUnsafeEval: true, InlineSpeculationRule: true,
	"'unsafe-allow-redirects'": true, "'trusted-types-eval'": true,
	"'report-sha256'": true, "'report-sha384'": true, "'report-sha512'": true,
}

// ParseSource parses one CSP source expression (CSP Level 3 §2.3.1) and
// returns it in canonical form. It rejects, wrapping [ErrSource], anything
// that is not a keyword, hash, scheme or host source, including text with
// white space, ";" or "," that would inject another directive or policy.
// It rejects a keyword written without its quotes ([ErrUnquotedKeyword])
// and a fixed nonce ([ErrNonceSource]). It never panics and is safe for
// concurrent use.
func ParseSource(s string) (Source, error) {
	if s == "" {
		return Source{}, because(ErrSource, "empty")
	}
	if len(s) > maxSourceLen {
		return Source{}, because(ErrSource, "longer than 1024 bytes")
	}
	if s[0] == '\'' {
		return parseQuoted(s)
	}
	if bare := "'" + strings.ToLower(s) + "'"; keywords[bare] || strings.HasPrefix(bare, "'nonce-") ||
		strings.HasPrefix(bare, "'sha256-") || strings.HasPrefix(bare, "'sha384-") || strings.HasPrefix(bare, "'sha512-") {
		return Source{}, because(ErrUnquotedKeyword, "write it in single quotes")
	}
	// scheme-source: scheme ":" and nothing else.
	if i := strings.IndexByte(s, ':'); i == len(s)-1 {
		if !httptoken.IsScheme(s[:i]) {
			return Source{}, because(ErrSource, "bad scheme")
		}
		return Source{Kind: SourceScheme, Value: strings.ToLower(s)}, nil
	}
	return parseHostSource(s)
}

func parseQuoted(s string) (Source, error) {
	if len(s) < 3 || s[len(s)-1] != '\'' {
		return Source{}, because(ErrSource, "unterminated quote")
	}
	lower := strings.ToLower(s)
	if keywords[lower] {
		return Source{Kind: SourceKeyword, Value: lower}, nil
	}
	if strings.HasPrefix(lower, "'nonce-") {
		return Source{}, because(ErrNonceSource, "use CSP.ScriptNonce or CSP.StyleNonce")
	}
	for _, alg := range [...]struct {
		prefix string
		size   int
	}{{"'sha256-", 32}, {"'sha384-", 48}, {"'sha512-", 64}} {
		if !strings.HasPrefix(lower, alg.prefix) {
			continue
		}
		digest := s[len(alg.prefix) : len(s)-1]
		if !validDigest(digest, alg.size) {
			return Source{}, because(ErrSource, "hash is not the base64 of a digest of the right size")
		}
		return Source{Kind: SourceHash, Value: alg.prefix + digest + "'"}, nil
	}
	return Source{}, because(ErrSource, "unknown keyword")
}

// validDigest reports whether d is the base64 (standard or URL-safe, padded
// or not) of exactly size bytes. Only the base64 alphabets are allowed:
// the decoders skip line breaks, which would reach the header (found in
// review: a digest with a trailing newline, as base64 tools print it,
// made an HTTP/2 server drop the whole policy).
func validDigest(d string, size int) bool {
	if d == "" || len(d) > 100 {
		return false
	}
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '+', c == '/', c == '-', c == '_', c == '=':
		default:
			return false
		}
	}
	var dst [100]byte
	for _, enc := range [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if n, err := enc.Decode(dst[:], []byte(d)); err == nil && n == size {
			return true
		}
	}
	return false
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseHostSource parses [ scheme "://" ] host [ ":" port ] [ path ].
func parseHostSource(s string) (Source, error) {
	rest := s
	var b strings.Builder
	if i := strings.Index(rest, "://"); i >= 0 {
		if !httptoken.IsScheme(rest[:i]) {
			return Source{}, because(ErrSource, "bad scheme")
		}
		b.WriteString(strings.ToLower(rest[:i+3]))
		rest = rest[i+3:]
	}
	end := strings.IndexAny(rest, ":/")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	rest = rest[end:]
	if !validSourceHost(host) {
		return Source{}, because(ErrSource, "bad host")
	}
	b.WriteString(strings.ToLower(host))
	if strings.HasPrefix(rest, ":") {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		port := rest[1:end]
		if port != "*" && !hostport.ValidPort(port) {
			return Source{}, because(ErrSource, "bad port")
		}
		b.WriteString(rest[:end])
		rest = rest[end:]
	}
	if rest != "" {
		if !validSourcePath(rest) {
			return Source{}, because(ErrSource, "bad path")
		}
		b.WriteString(rest)
	}
	return Source{Kind: SourceHost, Value: b.String()}, nil
}

// validSourceHost reports whether h is "*", or an optional "*." followed by
// dot-separated labels of letters, digits and hyphens, with an optional
// trailing dot.
func validSourceHost(h string) bool {
	if h == "*" {
		return true
	}
	h = strings.TrimPrefix(h, "*.")
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlpha(c) && !isDigit(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// validSourcePath reports whether p is "/" followed by path characters:
// unreserved, percent-encoded, and the sub-delimiters other than ";" and
// ",", which separate directives and policies.
func validSourcePath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case isAlpha(c), isDigit(c):
		case strings.IndexByte("-._~!$&'()*+=:@/", c) >= 0:
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
