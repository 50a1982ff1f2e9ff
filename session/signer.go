package session

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// Errors returned by [Signer.Verify].
var (
	// ErrTokenInvalid means the token is malformed, was signed for another
	// purpose, was tampered with, or was signed by a key no longer
	// accepted.
	ErrTokenInvalid = errors.New("session: invalid signed token")
	// ErrTokenExpired means the token is authentic but older than
	// [SignerOptions.MaxAge].
	ErrTokenExpired = errors.New("session: signed token expired")
)

// SignerOptions configures a [Signer].
type SignerOptions struct {
	// Keys are HMAC-SHA256 keys of at least 32 bytes, newest first. The
	// first signs; every one verifies, so keys rotate like a
	// [CookieStore]'s. Required.
	Keys [][]byte
	// Purpose binds tokens to one use ("password-reset",
	// "email-confirm"): it is authenticated with every token, so a token
	// signed for one purpose never verifies for another. Required; an RFC
	// 9110 token.
	Purpose string
	// MaxAge is how long a token stays valid after signing. Required,
	// positive.
	MaxAge time.Duration

	now func() time.Time
}

// Signer signs values into URL-safe tokens that expire, for links sent
// outside a session (password reset, email confirmation), in the manner of
// Python's itsdangerous, on gorilla/securecookie. Tokens are signed, not
// encrypted: anyone holding one can read its value.
//
// A token stays valid until MaxAge even after it has been used. To make a
// link single-use, sign something that the use changes, such as a digest
// of the current password hash, and compare it on verification.
//
// A Signer is immutable and safe for concurrent use.
type Signer struct {
	codecs  []*securecookie.SecureCookie
	purpose string
	maxAge  time.Duration
	now     func() time.Time
}

// NewSigner validates opts and returns a Signer.
func NewSigner(opts SignerOptions) (*Signer, error) {
	var errs []error
	if len(opts.Keys) == 0 {
		errs = append(errs, &OptionError{Field: "Keys", Reason: "at least one key is required"})
	}
	for i, k := range opts.Keys {
		if err := checkHashKey("Keys["+strconv.Itoa(i)+"]", k); err != nil {
			errs = append(errs, err)
		}
	}
	if !httptoken.IsToken(opts.Purpose) {
		errs = append(errs, &OptionError{Field: "Purpose", Reason: "required, an RFC 9110 token"})
	}
	if opts.MaxAge <= 0 {
		errs = append(errs, &OptionError{Field: "MaxAge", Reason: "required, must be positive"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Signer{purpose: opts.Purpose, maxAge: opts.MaxAge, now: opts.now}
	if s.now == nil {
		s.now = time.Now
	}
	for _, k := range opts.Keys {
		s.codecs = append(s.codecs, newCodec(k, nil))
	}
	return s, nil
}

// Sign returns a token carrying value and the current time. It fails with
// [ErrTooLarge] when the token would exceed 4096 bytes.
func (s *Signer) Sign(value []byte) (string, error) {
	payload := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(payload, uint64(s.now().UnixNano()))
	copy(payload[8:], value)
	t, err := s.codecs[0].Encode(s.purpose, payload)
	if err != nil {
		return "", errors.Join(ErrTooLarge, err)
	}
	return t, nil
}

// Verify returns the value in token if it was signed by one of the keys
// for this Signer's purpose no longer than MaxAge ago. Otherwise it
// returns [ErrTokenInvalid] or [ErrTokenExpired]. A token verifies only
// spelled exactly as Sign returned it (no line breaks, no other last
// character that decodes to the same bytes), so its text can key a record
// of used tokens. It never panics.
func (s *Signer) Verify(token string) ([]byte, error) {
	payload, ok := decode(s.codecs, s.purpose, token)
	if !ok || len(payload) < 8 {
		return nil, ErrTokenInvalid
	}
	signed := int64(binary.BigEndian.Uint64(payload))
	now := s.now().UnixNano()
	switch {
	case signed <= 0, signed > now+int64(time.Minute):
		return nil, ErrTokenInvalid // from the future: a clock or key problem
	case now-signed > int64(s.maxAge):
		return nil, ErrTokenExpired
	}
	return payload[8:], nil
}
