package auth

import (
	"bytes"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/jsonesc"
)

// This file holds the allocation-free pre-parsing done on every token
// before golang-jwt sees it: strict base64url, and a scan of the JOSE
// header and the claims set that rejects what encoding/json would accept
// silently (duplicate member names, where the last one wins in Go but the
// first one may win in the issuer's library; member names spelled with
// escapes, which hide duplicates) and extracts alg, typ and crit.

const (
	maxKIDLen        = 256  // bytes of a kid we look up
	maxHeaderBytes   = 1024 // decoded JOSE header
	maxHeaderMembers = 16
	maxClaimMembers  = 64
	maxJSONDepth     = 16
)

// b64val maps a base64url character to its value, or 0xff.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// b64Decode decodes unpadded base64url s into dst strictly: only the
// base64url alphabet, no padding, no length of 1 mod 4, and zero trailing
// bits, so that every byte string has exactly one encoding. It returns the
// decoded length and false on any violation or if dst is too small.
func b64Decode(dst []byte, s string) (int, bool) {
	if len(s)%4 == 1 {
		return 0, false
	}
	need := len(s) / 4 * 3
	switch len(s) % 4 {
	case 2:
		need++
	case 3:
		need += 2
	}
	if need > len(dst) {
		return 0, false
	}
	n := 0
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := b64val[s[i]], b64val[s[i+1]], b64val[s[i+2]], b64val[s[i+3]]
		if a|b|c|d == 0xff {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	switch len(s) - i {
	case 2:
		a, b := b64val[s[i]], b64val[s[i+1]]
		if a|b == 0xff || b&0x0f != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := b64val[s[i]], b64val[s[i+1]], b64val[s[i+2]]
		if a|b|c == 0xff || c&0x03 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6
		dst[n], dst[n+1] = byte(v>>16), byte(v>>8)
		n += 2
	}
	return n, true
}

// b64Valid reports whether s is strict unpadded base64url, without
// decoding it.
func b64Valid(s string) bool {
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		if b64val[s[len(s)-1]]&0x0f != 0 {
			return false
		}
	case 3:
		if b64val[s[len(s)-1]]&0x03 != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if b64val[s[i]] == 0xff {
			return false
		}
	}
	return true
}

// jsonMember is one top-level member of a JSON object, as offsets into
// the scanned text (offsets, not slices, so that scanning a stack buffer
// does not move it to the heap): the raw key (never escaped) and the raw
// value; for a string value, the content between the quotes, and esc
// reports whether it contains escapes.
type jsonMember struct {
	k0, k1, v0, v1 int32
	str, esc       bool
}

func (m *jsonMember) key(b []byte) []byte { return b[m.k0:m.k1] }
func (m *jsonMember) val(b []byte) []byte { return b[m.v0:m.v1] }

// jsonScanner walks a JSON text without allocating.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str scans a string starting at the opening quote and returns its raw
// content and whether it has escapes.
func (s *jsonScanner) str() (start, end int, esc, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, 0, false, false
	}
	s.i++
	start = s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			end = s.i
			s.i++
			return start, end, esc, true
		case c == '\\':
			esc = true
			if s.i+1 >= len(s.b) {
				return 0, 0, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				// A UTF-16 surrogate must be half of a pair: encoding/json
				// decodes a lone one to U+FFFD, so distinct values
				// ("a\ud800", "a\udc00") would become one (found in
				// review), as invalid UTF-8 would below.
				r, n := jsonesc.Escape(s.b, s.i)
				if n == 0 || r < 0 {
					return 0, 0, false, false
				}
				s.i += n
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		case c < utf8.RuneSelf:
			s.i++
		default:
			// encoding/json would turn invalid UTF-8 into U+FFFD, making
			// distinct raw names equal: refuse it.
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, 0, false, false
			}
			s.i += size
		}
	}
	return 0, 0, false, false
}

func (s *jsonScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *jsonScanner) number() bool {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if !s.digits() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *jsonScanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// next ends a member or an element: after any whitespace it consumes a
// comma (more is true: another one follows) or the closing bracket (more
// is false: the object or array is complete). ok is false at the end of
// the input or on any other byte.
func (s *jsonScanner) next(closing byte) (more, ok bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	c := s.b[s.i]
	s.i++
	return c == ',', c == ',' || c == closing
}

// value skips any JSON value, nesting at most maxJSONDepth levels.
func (s *jsonScanner) value(depth int) bool {
	if depth > maxJSONDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, _, ok := s.str()
		return ok
	case c == '{':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return true
		}
		for {
			s.ws()
			if _, _, _, ok := s.str(); !ok {
				return false
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			if more, ok := s.next('}'); !more {
				return ok
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			if more, ok := s.next(']'); !more {
				return ok
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

// scanObject parses b as one JSON object and stores its top-level members
// in out. It fails on invalid JSON, on more members than out holds, on a
// member name with escapes and on a duplicate member name.
func scanObject(b []byte, out []jsonMember) (int, bool) {
	s := jsonScanner{b: b}
	s.ws()
	if s.i >= len(b) || b[s.i] != '{' {
		return 0, false
	}
	s.i++
	s.ws()
	n := 0
	if s.i < len(b) && b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			k0, k1, esc, ok := s.str()
			if !ok || esc || n == len(out) {
				return 0, false
			}
			key := b[k0:k1]
			for j := 0; j < n; j++ {
				if bytes.Equal(out[j].key(b), key) {
					return 0, false
				}
			}
			s.ws()
			if s.i >= len(b) || b[s.i] != ':' {
				return 0, false
			}
			s.i++
			s.ws()
			m := jsonMember{k0: int32(k0), k1: int32(k1)}
			if s.i < len(b) && b[s.i] == '"' {
				var v0, v1 int
				v0, v1, m.esc, ok = s.str()
				m.v0, m.v1, m.str = int32(v0), int32(v1), true
			} else {
				start := s.i
				ok = s.value(1)
				m.v0, m.v1 = int32(start), int32(s.i)
			}
			if !ok {
				return 0, false
			}
			out[n] = m
			n++
			if more, ok := s.next('}'); !more {
				if !ok {
					return 0, false
				}
				break
			}
		}
	}
	s.ws()
	return n, s.i == len(b)
}

// joseHeader is what the middleware reads from a JOSE header before
// golang-jwt parses it. The slices point into the caller's buffer.
type joseHeader struct {
	alg    []byte // raw; nil when absent or not a plain string
	typ    []byte // raw; nil when absent
	typEsc bool
	kid    []byte // raw; nil when absent
	kidEsc bool
	kidBad bool // kid present but not a non-empty string of at most maxKIDLen bytes
	crit   bool
}

// scanHeader decodes the header segment into buf and scans it.
func scanHeader(buf []byte, seg string) (h joseHeader, ok bool) {
	n, ok := b64Decode(buf, seg)
	if !ok {
		return h, false
	}
	b := buf[:n]
	var members [maxHeaderMembers]jsonMember
	count, ok := scanObject(b, members[:])
	if !ok {
		return h, false
	}
	for i := range members[:count] {
		m := &members[i]
		switch string(m.key(b)) {
		case "alg":
			if m.str && !m.esc {
				h.alg = m.val(b)
			}
		case "typ":
			if !m.str {
				return h, false
			}
			h.typ, h.typEsc = m.val(b), m.esc
		case "kid":
			h.kid, h.kidEsc = m.val(b), m.esc
			h.kidBad = !m.str || m.v0 == m.v1 || m.v1-m.v0 > maxKIDLen
		case "crit":
			h.crit = true
		}
	}
	return h, true
}

// algName returns the allowlisted algorithm equal to raw, without
// allocating; "" when none matches.
func algName(raw []byte, allow []string) string {
	for _, a := range allow {
		if string(raw) == a {
			return a
		}
	}
	return ""
}

// typMatches compares a typ header with the expected media type, ignoring
// ASCII case and an "application/" prefix (RFC 7515 §4.1.9).
func typMatches(raw []byte, want string) bool {
	const prefix = "application/"
	if len(raw) > len(prefix) && httptoken.EqualFold(raw[:len(prefix)], prefix) {
		raw = raw[len(prefix):]
	}
	return httptoken.EqualFold(raw, want)
}

// otherJWTType reports whether a typ header names an explicitly typed JWT
// of a kind other than an access token: a media type with the +jwt
// structured syntax suffix other than at+jwt (RFC 8725 §3.11), such as
// logout+jwt, secevent+jwt or dpop+jwt, which an identity provider may
// sign with the key of its access tokens. A typ with escapes is decoded
// first (rare: it allocates); one that does not decode is refused.
func otherJWTType(raw []byte, esc bool) bool {
	if esc {
		s, err := unescape(raw)
		if err != nil {
			return true
		}
		raw = []byte(s)
	}
	const suffix = "+jwt"
	if len(raw) < len(suffix) || !httptoken.EqualFold(raw[len(raw)-len(suffix):], suffix) {
		return false
	}
	return !typMatches(raw, TypeAccessToken)
}
