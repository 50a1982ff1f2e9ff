package auth

import (
	"encoding/base64"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// MaxBasicHeaderLength is the longest Authorization header value, in bytes,
// that [ParseBasic] and [Basic] accept: enough for a 256-byte user name and
// a 2 KiB password. Longer values are malformed.
const MaxBasicHeaderLength = 4096

// Reasons for malformed Basic credentials, precomputed so that rejecting
// allocates nothing. Each wraps ErrMalformedCredentials.
var (
	errBasicScheme   = fmt.Errorf("%w: not the Basic scheme", ErrMalformedCredentials)
	errBasicTooLong  = fmt.Errorf("%w: Authorization header too long", ErrMalformedCredentials)
	errBasicBase64   = fmt.Errorf("%w: invalid base64", ErrMalformedCredentials)
	errBasicColon    = fmt.Errorf("%w: no colon between user-id and password", ErrMalformedCredentials)
	errBasicEmpty    = fmt.Errorf("%w: empty user-id", ErrMalformedCredentials)
	errBasicEncoding = fmt.Errorf("%w: not UTF-8 or contains control characters", ErrMalformedCredentials)
	errBasicMultiple = fmt.Errorf("%w: several Authorization headers", ErrMalformedCredentials)
)

// basicB64 decodes the token68 of RFC 7617: standard base64 with padding.
// Strict decoding refuses non-zero trailing bits, and ParseBasic refuses
// the line breaks it skips, so a value has one encoding.
var basicB64 = base64.StdEncoding.Strict()

// basicBuffers holds the encoded credentials as bytes and their decoding.
// They are pooled rather than on the stack: 7 KiB frames make goroutine
// stacks grow and shrink under load.
type basicBuffers struct {
	enc [MaxBasicHeaderLength]byte
	dec [MaxBasicHeaderLength * 3 / 4]byte
}

var basicBufs = sync.Pool{New: func() any { return new(basicBuffers) }}

// putBasicBuffers clears what a parse of ne encoded bytes wrote in bufs,
// the credentials and their base64, and returns bufs to the pool: the
// password does not outlive the request there, as it does not in the
// verification cache's pooled scratch (found in review: the pool kept the
// last credentials parsed, or the tail of a longer one before them).
func putBasicBuffers(bufs *basicBuffers, ne int) {
	clear(bufs.enc[:ne])
	clear(bufs.dec[:(ne+3)/4*3]) // what Decode may write, a last partial quantum included
	basicBufs.Put(bufs)
}

// ParseBasic parses the value of an Authorization header carrying RFC 7617
// Basic credentials,
//
//	Basic base64(user-id ":" password)
//
// The scheme is case-insensitive and followed by one or more spaces; the
// credentials must be padded standard base64 of UTF-8 text without control
// characters, the user-id non-empty and separated from the password by the
// first colon. Any other value, or one longer than [MaxBasicHeaderLength],
// returns an error wrapping [ErrMalformedCredentials]; ParseBasic never
// panics. The password may be empty. ParseBasic allocates once, for the
// decoded credentials.
func ParseBasic(value string) (username, password string, err error) {
	if len(value) > MaxBasicHeaderLength {
		return "", "", errBasicTooLong
	}
	if len(value) < 6 || !httptoken.EqualFold(value[:5], "basic") || value[5] != ' ' {
		return "", "", errBasicScheme
	}
	enc := value[6:]
	for len(enc) > 0 && enc[0] == ' ' {
		enc = enc[1:]
	}
	if enc == "" {
		return "", "", errBasicBase64
	}
	bufs := basicBufs.Get().(*basicBuffers)
	ne := copy(bufs.enc[:], enc)
	defer putBasicBuffers(bufs, ne)
	n, err := basicB64.Decode(bufs.dec[:], bufs.enc[:ne])
	if err != nil || len(enc) != basicB64.EncodedLen(n) {
		// The decoder skips carriage returns and newlines; a value that
		// had some is not the encoding of what it decoded to.
		return "", "", errBasicBase64
	}
	dec := bufs.dec[:n]
	colon := -1
	for i, c := range dec {
		if c == ':' {
			colon = i
			break
		}
	}
	switch {
	case colon < 0:
		return "", "", errBasicColon
	case colon == 0:
		return "", "", errBasicEmpty
	case !cleanUTF8(dec):
		return "", "", errBasicEncoding
	}
	s := string(dec)
	return s[:colon], s[colon+1:], nil
}

// cleanUTF8 reports whether b is valid UTF-8 without control characters
// (Unicode category Cc) or U+FFFD, as cleanName does for a string.
func cleanUTF8(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || isControl(r) {
			return false
		}
		i += size
	}
	return true
}
