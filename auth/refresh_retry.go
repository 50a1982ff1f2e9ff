package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"time"
)

// MaxRefreshRetryWindow bounds [TokenEndpointOptions.RefreshRetryWindow].
const MaxRefreshRetryWindow = 2 * time.Minute

var _ RetryableRefreshStore = (*MemoryRefreshStore)(nil)

// successorInfo is the HKDF info of the key that seals a successor.
const successorInfo = "httpguard refresh successor"

// successorSecretInfo is the HKDF info of the secret, derived from the
// issuer's signing key, that the key sealing a successor is derived with.
const successorSecretInfo = "httpguard refresh successor secret"

// errSuccessorSeal: a sealed successor that does not open.
var errSuccessorSeal = errors.New("auth: sealed refresh successor does not open")

// successorSecret returns the secret that, with the rotated token, keys
// the sealing of successors: HKDF-SHA256 of the issuer's signing key (the
// HMAC secret, the Ed25519 seed, the ECDSA or RSA private scalar), which
// every instance sharing a store shares and the store never holds. Found
// in review: keyed by the rotated token alone, the sealed successors in a
// copy of the store (a dump, a replica, a backup) opened, one after
// another, from any rotated token of the family, up to the live token.
func successorSecret(k Key) []byte {
	var ikm []byte
	switch key := k.Key.(type) {
	case []byte:
		ikm = key
	case ed25519.PrivateKey:
		ikm = key.Seed()
	case *ecdsa.PrivateKey:
		ikm, _ = key.Bytes()
	case *rsa.PrivateKey:
		ikm = key.D.Bytes()
	}
	secret, _ := hkdf.Key(sha256.New, ikm, nil, successorSecretInfo, 32)
	return secret
}

// successorAEAD returns the AEAD that seals the successor of the refresh
// token old: AES-256-GCM with a random nonce, under
// HKDF-SHA256(old, salt secret, info successorInfo). The store holds
// old's hash only, and never secret, so it cannot derive the key; nor
// can whoever holds a copy of it and old.
func successorAEAD(secret []byte, old string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(old), secret, successorInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// sealSuccessor seals next, the token old is rotated to, for the store to
// keep with old (whose hash is oldHash, the additional data), under a key
// derived from old and secret ([successorSecret]). The result is the
// random nonce, the ciphertext and the tag: 28 bytes more than next.
func sealSuccessor(secret []byte, old, oldHash, next string) ([]byte, error) {
	aead, err := successorAEAD(secret, old)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nil, []byte(next), []byte(oldHash)), nil
}

// openSuccessor opens what sealSuccessor sealed with the same secret.
// Anything else, a sealed successor changed in the store or moved to
// another token's record, or sealed by an endpoint whose issuer signs with
// another key, is errSuccessorSeal.
func openSuccessor(secret []byte, old, oldHash string, sealed []byte) (string, error) {
	aead, err := successorAEAD(secret, old)
	if err != nil {
		return "", err
	}
	next, err := aead.Open(nil, nil, sealed, []byte(oldHash))
	if err != nil || len(next) == 0 || len(next) > 512 {
		return "", errSuccessorSeal
	}
	return string(next), nil
}
