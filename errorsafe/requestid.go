package errorsafe

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/netip"
)

// RequestIDFrom returns the request ID assigned by an errorsafe middleware
// to the request whose context is ctx, or "" if none was assigned. The ID
// is made only of ASCII letters, digits and "-_.:+/=", so it is safe in
// headers, logs and JSON without escaping.
func RequestIDFrom(ctx context.Context) string {
	if x := exchangeFrom(ctx); x != nil {
		return x.id
	}
	return ""
}

// idChars marks the bytes allowed in a request ID.
var idChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-_.:+/=" {
		t[c] = true
	}
	return t
}()

// validID reports whether s is a usable request ID of at most max bytes.
func validID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChars[s[i]] {
			return false
		}
	}
	return true
}

// requestID returns the ID for r: the incoming one when allowed, valid
// and sent by a trusted proxy (or anyone, with trustAnyID), else a new one.
func (c *config) requestID(r *http.Request) string {
	if !c.ignoreIncoming {
		// Exactly one header line: several lines are ambiguous, and a
		// proxy that appends would let the client choose the first.
		// The value is checked first: the peer's address is parsed
		// only for a request that brings a usable ID, and only when
		// some proxy can be trusted.
		if v := r.Header[c.idHeader]; len(v) == 1 && validID(v[0], c.maxIDLen) &&
			(c.trustAnyID || (c.clientIP != nil && c.clientIP.Trusted(peerAddr(r.RemoteAddr)))) {
			return v[0]
		}
	}
	if c.genID != nil {
		if id := c.generate(r); validID(id, maxRequestIDLength) {
			return id
		}
	}
	return newID()
}

// peerAddr returns the address of the direct peer from RemoteAddr, the
// zero Addr when it holds none (a Unix socket's "@" or "", garbage).
// Neither parse allocates on success; the forms that fail, and so
// allocate an error, are not set by net/http for a TCP connection.
func peerAddr(s string) netip.Addr {
	if s == "" || s == "@" {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// generate returns the result of Options.GenerateRequestID, or "" when it
// panics: it runs before any recovery is in place, so its panic would
// escape the middleware. The panic is logged; the built-in generator
// takes over. (Found in review.)
func (c *config) generate(r *http.Request) (id string) {
	defer func() {
		if v := recover(); v != nil {
			id = ""
			c.log().LogAttrs(r.Context(), slog.LevelError, msgGenPanic,
				slog.String("panic", clip(panicString(v), maxTextLog)))
		}
	}()
	return c.genID()
}

// idAlphabet is Crockford's base32 in lower case: no i, l, o or u, so IDs
// read aloud or copied by hand survive.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newID returns 24 characters encoding 120 random bits.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	var out [24]byte
	for g := range 3 {
		v := uint64(b[g*5])<<32 | uint64(b[g*5+1])<<24 | uint64(b[g*5+2])<<16 | uint64(b[g*5+3])<<8 | uint64(b[g*5+4])
		for j := 7; j >= 0; j-- {
			out[g*8+j] = idAlphabet[v&31]
			v >>= 5
		}
	}
	return string(out[:])
}
