package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"testing"
)

// A sealed successor opens only with the token it was sealed for and that
// token's hash, and holds neither the successor nor its hash in clear.
func TestSealedSuccessor(t *testing.T) {
	old, next := newOpaqueToken(), newOpaqueToken()
	oldHash := HashRefreshToken(old)
	secret := successorSecret(Key{Algorithm: AlgHS256, Key: []byte("0123456789abcdef0123456789abcdef")})
	sealed, err := sealSuccessor(secret, old, oldHash, next)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openSuccessor(secret, old, oldHash, sealed); err != nil || got != next {
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
		secret      []byte
		token, hash string
		sealed      []byte
	}{
		{"another token", secret, other, oldHash, sealed},
		{"another token's hash", secret, old, HashRefreshToken(other), sealed},
		{"another issuer's secret", successorSecret(Key{Algorithm: AlgHS256, Key: []byte("fedcba9876543210fedcba9876543210")}), old, oldHash, sealed},
		{"no secret", nil, old, oldHash, sealed},
		{"a flipped bit", secret, old, oldHash, flipped},
		{"truncated", secret, old, oldHash, sealed[:len(sealed)-1]},
		{"empty", secret, old, oldHash, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := openSuccessor(tt.secret, tt.token, tt.hash, tt.sealed); !errors.Is(err, errSuccessorSeal) || got != "" {
				t.Errorf("open = %q, %v; want errSuccessorSeal", got, err)
			}
		})
	}
}

// The secret that keys the sealing comes from the private part of every
// kind of signing key: two keys of a kind give two secrets, and none is
// the secret of no key material at all.
func TestSuccessorSecretOfEachKeyKind(t *testing.T) {
	none := successorSecret(Key{})
	kinds := map[string]func() Key{
		"HMAC": func() Key {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			return Key{Algorithm: AlgHS256, Key: b}
		},
		"Ed25519": func() Key {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			return Key{Algorithm: AlgEdDSA, Key: k}
		},
		"ECDSA": func() Key {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return Key{Algorithm: AlgES256, Key: k}
		},
		"RSA": func() Key {
			k, _ := rsa.GenerateKey(rand.Reader, 2048)
			return Key{Algorithm: AlgRS256, Key: k}
		},
	}
	for name, gen := range kinds {
		a, b := successorSecret(gen()), successorSecret(gen())
		if len(a) != 32 || bytes.Equal(a, b) || bytes.Equal(a, none) {
			t.Errorf("%s: secrets %x and %x (none: %x)", name, a, b, none)
		}
	}
}
