package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

// A sealed successor opens only with the token it was sealed for and that
// token's hash, and holds neither the successor nor its hash in clear.
func TestSealedSuccessor(t *testing.T) {
	old, next := newOpaqueToken(), newOpaqueToken()
	oldHash := HashRefreshToken(old)
	sealed, err := sealSuccessor(old, oldHash, next)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openSuccessor(old, oldHash, sealed); err != nil || got != next {
		t.Fatalf("open = %q, %v; want the successor", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(next)
	rawHash, _ := base64.RawURLEncoding.DecodeString(HashRefreshToken(next))
	for _, clear := range [][]byte{[]byte(next), raw, []byte(HashRefreshToken(next)), rawHash} {
		if bytes.Contains(sealed, clear) {
			t.Errorf("the sealed successor holds %q in clear", clear)
		}
	}
	other := newOpaqueToken()
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 1
	tests := []struct {
		name        string
		token, hash string
		sealed      []byte
	}{
		{"another token", other, oldHash, sealed},
		{"another token's hash", old, HashRefreshToken(other), sealed},
		{"a flipped bit", old, oldHash, flipped},
		{"truncated", old, oldHash, sealed[:len(sealed)-1]},
		{"empty", old, oldHash, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := openSuccessor(tt.token, tt.hash, tt.sealed); !errors.Is(err, errSuccessorSeal) || got != "" {
				t.Errorf("open = %q, %v; want errSuccessorSeal", got, err)
			}
		})
	}
}
