package auth

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// ParseBasic's pooled buffers do not keep the credentials of the request
// that used them last, as the verification cache's pooled HMAC scratch
// does not: the decoded "user:password" and its base64 stayed reachable
// in the pool (a heap dump's live objects) until another request of at
// least that length overwrote them, and a shorter one left the tail of
// the password.
func TestParseBasicPoolKeepsNoCredentials(t *testing.T) {
	const secret = "correct-horse-battery-staple"
	for _, tt := range []struct {
		name  string
		value string
		ok    bool
	}{
		{"valid credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+secret)), true},
		{"credentials with a control character", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+secret+"\x01")), false},
		{"credentials without UTF-8", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+secret+"\xff")), false},
		{"credentials with a line break in their base64", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:" + secret))[:8] + "\n" + base64.StdEncoding.EncodeToString([]byte("alice:" + secret))[8:], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, pw, err := ParseBasic(tt.value)
			if (err == nil) != tt.ok || tt.ok && pw != secret {
				t.Fatalf("ParseBasic = %q, %v", pw, err)
			}
			enc := []byte(tt.value[len("Basic "):])
			// The buffer just put back is the one Get returns next, on
			// this goroutine's P, unless a collection emptied the pool
			// (or the race detector dropped it), which passes vacuously.
			var got []*basicBuffers
			defer func() {
				for _, b := range got {
					basicBufs.Put(b)
				}
			}()
			for range 8 {
				b := basicBufs.Get().(*basicBuffers)
				got = append(got, b)
				if bytes.Contains(b.dec[:], []byte(secret)) {
					t.Fatal("a pooled buffer holds the decoded password")
				}
				if bytes.Contains(b.enc[:], enc[:len(enc)-4]) {
					t.Fatal("a pooled buffer holds the encoded credentials")
				}
			}
		})
	}
}
