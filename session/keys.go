package session

import (
	"crypto/subtle"
	"strconv"

	"github.com/gorilla/securecookie"

	"github.com/httpguard/httpguard/internal/keycheck"
)

// KeyPair is one generation of keys for a [CookieStore]: an HMAC-SHA256
// key that authenticates the cookie and an AES-256 key that encrypts it.
// Generate each with 32 bytes from crypto/rand and keep them out of the
// source (an environment variable, a secret manager).
type KeyPair struct {
	// HashKey authenticates with HMAC-SHA256. At least 32 bytes.
	HashKey []byte
	// BlockKey encrypts with AES-256 in CTR mode (securecookie's
	// encrypt-then-MAC). Exactly 32 bytes, different from HashKey.
	BlockKey []byte
}

// minHashKey is the shortest HMAC key accepted: SHA-256's output size.
const minHashKey = 32

func checkHashKey(field string, k []byte) error {
	switch {
	case len(k) < minHashKey:
		return &OptionError{Field: field, Reason: "must be at least 32 bytes, got " + strconv.Itoa(len(k))}
	case keycheck.AllZero(k):
		return &OptionError{Field: field, Reason: "is all zero bytes"}
	}
	return nil
}

func checkBlockKey(field string, k []byte) error {
	switch {
	case len(k) != 32:
		return &OptionError{Field: field, Reason: "must be exactly 32 bytes (AES-256), got " + strconv.Itoa(len(k))}
	case keycheck.AllZero(k):
		return &OptionError{Field: field, Reason: "is all zero bytes"}
	}
	return nil
}

// newCodec returns a securecookie codec that passes bytes through, with
// no timestamp limit (expiry is checked from the payload) and the
// 4096-byte length limit on both encoding and decoding.
func newCodec(hashKey, blockKey []byte) *securecookie.SecureCookie {
	c := securecookie.New(clone(hashKey), clone(blockKey))
	c.SetSerializer(securecookie.NopEncoder{})
	c.MaxAge(0)
	c.MaxLength(maxCookieSize)
	return c
}

// decode returns the payload of token, authenticated (and decrypted, for
// a codec with a block key) under name by the first of codecs that accepts
// it. An empty token, one longer than a cookie can be, or one not spelled
// as securecookie encodes it (see canonicalBase64) is refused unread.
func decode(codecs []*securecookie.SecureCookie, name, token string) ([]byte, bool) {
	if token == "" || len(token) > maxCookieSize || !canonicalBase64(token) {
		return nil, false
	}
	var payload []byte
	for _, c := range codecs {
		if c.Decode(name, token, &payload) == nil {
			return payload, true
		}
	}
	return nil, false
}

// canonicalBase64 reports whether s is padded base64url exactly as
// encoding/base64 writes it: whole groups of four characters of the
// alphabet, "=" only as the padding at the end, and zero in the unused
// bits of the last character before it. The decoder securecookie uses
// skips CR and LF anywhere and ignores those bits, so that other spellings
// of a token decoded to the same bytes (found in review: a service that
// records the Signer tokens it has used, by their text, took "token%0A"
// for an unused one). It does not allocate.
func canonicalBase64(s string) bool {
	if len(s)%4 != 0 {
		return false
	}
	pad := 0
	if s[len(s)-1] == '=' {
		pad = 1
		if s[len(s)-2] == '=' {
			pad = 2
		}
	}
	data := s[:len(s)-pad]
	for i := 0; i < len(data); i++ {
		if b64Value(data[i]) < 0 {
			return false
		}
	}
	// One "=" leaves two unused bits in the last character, two leave four.
	unused := [3]int{0, 3, 15}[pad]
	return pad == 0 || b64Value(data[len(data)-1])&unused == 0
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func sameKey(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}
