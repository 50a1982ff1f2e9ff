package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"time"
)

// MaxRefreshRetryWindow bounds [TokenEndpointOptions.RefreshRetryWindow].
const MaxRefreshRetryWindow = 2 * time.Minute

var _ RetryableRefreshStore = (*MemoryRefreshStore)(nil)

// successorInfo is the HKDF info of the key that seals a successor.
const successorInfo = "httpguard refresh successor"

// errSuccessorSeal: a sealed successor that does not open.
var errSuccessorSeal = errors.New("auth: sealed refresh successor does not open")

// successorAEAD returns the AEAD that seals the successor of the refresh
// token old: AES-256-GCM with a random nonce, under
// HKDF-SHA256(old, info successorInfo). The store holds old's hash only,
// so it cannot derive the key.
func successorAEAD(old string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(old), nil, successorInfo, 32)
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
// keep with old (whose hash is oldHash, the additional data). The result
// is the random nonce, the ciphertext and the tag: 28 bytes more than
// next.
func sealSuccessor(old, oldHash, next string) ([]byte, error) {
	aead, err := successorAEAD(old)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nil, []byte(next), []byte(oldHash)), nil
}

// openSuccessor opens what sealSuccessor sealed. Anything else, a sealed
// successor changed in the store or moved to another token's record among
// them, is errSuccessorSeal.
func openSuccessor(old, oldHash string, sealed []byte) (string, error) {
	aead, err := successorAEAD(old)
	if err != nil {
		return "", err
	}
	next, err := aead.Open(nil, nil, sealed, []byte(oldHash))
	if err != nil || len(next) == 0 || len(next) > 512 {
		return "", errSuccessorSeal
	}
	return string(next), nil
}
