package session_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
)

// What the Signer's doc promises: tokens expire after MaxAge, are bound to
// their purpose, verify under every configured key and sign with the
// first, and fail with ErrTokenInvalid when tampered with, signed by a
// retired key or dated in the future. Only a fuzz test and an example
// covered it.
func TestSignerVerify(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	newSigner := func(t *testing.T, now *time.Time, purpose string, keys ...[]byte) *session.Signer {
		t.Helper()
		s, err := session.NewSigner(session.SignerOptions{Keys: keys, Purpose: purpose, MaxAge: time.Hour}.WithNow(func() time.Time { return *now }))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name string
		// signWith and verifyWith are the keys of the signing and the
		// verifying Signer; purpose is the verifier's ("reset" signs).
		signWith, verifyWith [][]byte
		purpose              string
		age                  time.Duration // from signing to verification
		tamper               func(string) string
		want                 error
	}{
		{name: "a fresh token verifies", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset"},
		{name: "a token of exactly MaxAge verifies", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset", age: time.Hour},
		{name: "a token older than MaxAge has expired", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset", age: time.Hour + time.Nanosecond, want: session.ErrTokenExpired},
		{name: "a token of another purpose is invalid", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "confirm", want: session.ErrTokenInvalid},
		{name: "an older key still verifies during a rotation", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(2), key(1)}, purpose: "reset"},
		{name: "a retired key no longer verifies", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(2)}, purpose: "reset", want: session.ErrTokenInvalid},
		{name: "a token dated more than a minute ahead is invalid", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset", age: -time.Minute - time.Second, want: session.ErrTokenInvalid},
		{name: "a tampered token is invalid", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset",
			tamper: flipByte, want: session.ErrTokenInvalid},
		{name: "a truncated token is invalid", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset",
			tamper: func(s string) string { return s[:len(s)/2] }, want: session.ErrTokenInvalid},
		{name: "an empty token is invalid", signWith: [][]byte{key(1)}, verifyWith: [][]byte{key(1)}, purpose: "reset",
			tamper: func(string) string { return "" }, want: session.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			tok, err := newSigner(t, &now, "reset", tt.signWith...).Sign([]byte("user-42"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tok = tt.tamper(tok)
			}
			now = start.Add(tt.age)
			got, err := newSigner(t, &now, tt.purpose, tt.verifyWith...).Verify(tok)
			if tt.want == nil {
				if err != nil || string(got) != "user-42" {
					t.Fatalf("Verify = %q, %v; want user-42", got, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("Verify = %q, %v; want %v", got, err, tt.want)
			}
		})
	}

	t.Run("the first key signs", func(t *testing.T) {
		now := start
		tok, err := newSigner(t, &now, "reset", key(2), key(1)).Sign([]byte("user-42"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newSigner(t, &now, "reset", key(2)).Verify(tok); err != nil {
			t.Errorf("a token of a Signer whose first key is key 2 does not verify under key 2: %v", err)
		}
	})
	t.Run("a token over 4096 bytes is not signed", func(t *testing.T) {
		now := start
		if tok, err := newSigner(t, &now, "reset", key(1)).Sign([]byte(strings.Repeat("v", 4096))); !errors.Is(err, session.ErrTooLarge) || tok != "" {
			t.Errorf("Sign of 4096 bytes = %d bytes, %v; want ErrTooLarge", len(tok), err)
		}
	})
}

// flipByte changes the middle byte of a base64url token to another
// letter of the alphabet.
func flipByte(s string) string {
	b := []byte(s)
	if i := len(b) / 2; b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestNewSignerChecksItsOptions(t *testing.T) {
	tests := []struct {
		name  string
		o     session.SignerOptions
		field string
	}{
		{"no keys", session.SignerOptions{Purpose: "reset", MaxAge: time.Hour}, "Keys"},
		{"a key of 31 bytes", session.SignerOptions{Keys: [][]byte{key(1)[:31]}, Purpose: "reset", MaxAge: time.Hour}, "Keys[0]"},
		{"an all-zero key", session.SignerOptions{Keys: [][]byte{make([]byte, 32)}, Purpose: "reset", MaxAge: time.Hour}, "Keys[0]"},
		{"a short second key", session.SignerOptions{Keys: [][]byte{key(1), key(2)[:16]}, Purpose: "reset", MaxAge: time.Hour}, "Keys[1]"},
		{"no purpose", session.SignerOptions{Keys: [][]byte{key(1)}, MaxAge: time.Hour}, "Purpose"},
		{"a purpose that is not a token", session.SignerOptions{Keys: [][]byte{key(1)}, Purpose: "password reset", MaxAge: time.Hour}, "Purpose"},
		{"no MaxAge", session.SignerOptions{Keys: [][]byte{key(1)}, Purpose: "reset"}, "MaxAge"},
		{"a negative MaxAge", session.SignerOptions{Keys: [][]byte{key(1)}, Purpose: "reset", MaxAge: -time.Second}, "MaxAge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := session.NewSigner(tt.o)
			var oe *session.OptionError
			if s != nil || !errors.As(err, &oe) || oe.Field != tt.field || !errors.Is(err, session.ErrOption) {
				t.Errorf("NewSigner = %v, %v; want an OptionError for %s", s, err, tt.field)
			}
		})
	}
}

// A token has one spelling. base64 decoding, as securecookie does it,
// skips line breaks and ignores the unused bits of the last character,
// so without a check of its own Verify accepted other strings than the
// one Sign returned: a service that records the tokens it has used (a
// reset link that works once), keyed by their text, took "tok%0A" or a
// token with another last letter for an unused one.
func TestSignerVerifyRefusesOtherSpellings(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := session.NewSigner(session.SignerOptions{Keys: [][]byte{key(1)}, Purpose: "reset", MaxAge: time.Hour}.WithNow(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// A token ending in padding, whose last letter has unused bits.
	var tok string
	for v := "u"; tok == "" || !strings.HasSuffix(tok, "="); v += "u" {
		if tok, err = s.Sign([]byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("the token as signed: %v", err)
	}
	data := strings.TrimRight(tok, "=")
	last := strings.IndexByte(alphabet, data[len(data)-1])
	otherLast := data[:len(data)-1] + string(alphabet[last|1]) + tok[len(data):]
	if otherLast == tok {
		otherLast = data[:len(data)-1] + string(alphabet[last+2]) + tok[len(data):]
	}
	for name, v := range map[string]string{
		"a line feed after it":              tok + "\n",
		"a CR LF in the middle":             tok[:len(tok)/2] + "\r\n" + tok[len(tok)/2:],
		"the last letter's unused bits set": otherLast,
	} {
		if got, err := s.Verify(v); !errors.Is(err, session.ErrTokenInvalid) {
			t.Errorf("%s: Verify(%q) = %q, %v; want ErrTokenInvalid", name, v, got, err)
		}
	}
}
