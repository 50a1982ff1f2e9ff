package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
)

// API key layout: <prefix>_<id>_<secret>, the prefix 1 to 16 characters of
// [a-z0-9], the id 10 random bytes and the secret 32 random bytes, both in
// lower-case unpadded base32 ([a-z2-7]), so that a key is one word to
// double-click and to grep for in a secret scanner.
const (
	apiKeyIDBytes     = 10
	apiKeySecretBytes = 32
	apiKeyIDLen       = 16 // base32 of 10 bytes
	apiKeySecretLen   = 52 // base32 of 32 bytes
	maxAPIKeyPrefix   = 16

	// MaxAPIKeyLength is the length of the longest well-formed API key.
	MaxAPIKeyLength = maxAPIKeyPrefix + 1 + apiKeyIDLen + 1 + apiKeySecretLen

	// DefaultAPIKeyPrefix is the prefix of keys when none is given.
	DefaultAPIKeyPrefix = "hg"
)

var apiKeyB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Reasons for malformed API keys, precomputed. Each wraps
// ErrMalformedCredentials.
var (
	errAPIKeyFormat   = fmt.Errorf("%w: not an API key", ErrMalformedCredentials)
	errAPIKeyPrefix   = fmt.Errorf("%w: API key has another prefix", ErrMalformedCredentials)
	errAPIKeyMultiple = fmt.Errorf("%w: several API key headers", ErrMalformedCredentials)
	errAPIKeyScheme   = fmt.Errorf("%w: not the API key scheme", ErrMalformedCredentials)
)

// ErrAPIKeyPrefix is returned by [GenerateAPIKey] and [NewAPIKey] for a
// prefix that is not 1 to 16 characters of [a-z0-9].
var ErrAPIKeyPrefix = errors.New("auth: API key prefix must be 1 to 16 characters of a-z and 0-9")

// GeneratedAPIKey is a new API key from [GenerateAPIKey].
type GeneratedAPIKey struct {
	// Key is the secret to hand to its owner, once. It is never stored.
	Key string
	// ID is the key's public identifier, the part between the prefix
	// and the secret: the store's lookup key, safe to log and display.
	ID string
	// Hash is the SHA-256 of Key, in hex: what the store keeps
	// (StoredAPIKey.Hash). A key has 256 bits of randomness, so a fast
	// hash suffices: there is nothing to guess.
	Hash string
}

// GenerateAPIKey returns a new API key
//
//	<prefix>_<16 characters of ID>_<52 characters of secret>
//
// with an 80-bit random ID and a 256-bit random secret from crypto/rand.
// An empty prefix means [DefaultAPIKeyPrefix]; a prefix such as "live" or
// "test" lets people and secret scanners recognise the key.
func GenerateAPIKey(prefix string) (GeneratedAPIKey, error) {
	if prefix == "" {
		prefix = DefaultAPIKeyPrefix
	}
	if !apiKeyPrefixOK(prefix) {
		return GeneratedAPIKey{}, ErrAPIKeyPrefix
	}
	var raw [apiKeyIDBytes + apiKeySecretBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	id := apiKeyB32.EncodeToString(raw[:apiKeyIDBytes])
	key := prefix + "_" + id + "_" + apiKeyB32.EncodeToString(raw[apiKeyIDBytes:])
	return GeneratedAPIKey{Key: key, ID: id, Hash: HashAPIKey(key)}, nil
}

// HashAPIKey returns the hash of key that a store keeps: the hex SHA-256
// of the whole key.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ParseAPIKey splits a key made by [GenerateAPIKey] into its prefix and its
// ID, checking its layout and alphabet without any lookup. Any other string
// returns an error wrapping [ErrMalformedCredentials]; ParseAPIKey never
// panics and does not allocate.
func ParseAPIKey(key string) (prefix, id string, err error) {
	if len(key) > MaxAPIKeyLength || len(key) < 1+1+apiKeyIDLen+1+apiKeySecretLen {
		return "", "", errAPIKeyFormat
	}
	p := len(key) - (1 + apiKeyIDLen + 1 + apiKeySecretLen)
	prefix = key[:p]
	rest := key[p:]
	if !apiKeyPrefixOK(prefix) || rest[0] != '_' || rest[1+apiKeyIDLen] != '_' {
		return "", "", errAPIKeyFormat
	}
	id = rest[1 : 1+apiKeyIDLen]
	if !apiKeyB32Chars(id) || !apiKeyB32Chars(rest[2+apiKeyIDLen:]) {
		return "", "", errAPIKeyFormat
	}
	// The last character of the secret carries 4 padding bits
	// (256 = 51*5 + 1): only canonical encodings are keys.
	if last := rest[len(rest)-1]; apiKeyB32Index(last)&0x0f != 0 {
		return "", "", errAPIKeyFormat
	}
	return prefix, id, nil
}

// apiKeyMatches compares the hash of key with the stored hex hash in
// constant time.
func apiKeyMatches(key, stored string) bool {
	var want [sha256.Size]byte
	if len(stored) != hex.EncodedLen(sha256.Size) {
		return false
	}
	for i := range want {
		hi, lo := hexNibble(stored[2*i]), hexNibble(stored[2*i+1])
		if hi < 0 || lo < 0 {
			return false
		}
		want[i] = byte(hi<<4 | lo)
	}
	var buf [MaxAPIKeyLength]byte
	if len(key) > len(buf) {
		return false
	}
	n := copy(buf[:], key)
	got := sha256.Sum256(buf[:n])
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func hexNibble(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func apiKeyPrefixOK(s string) bool {
	if s == "" || len(s) > maxAPIKeyPrefix {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func apiKeyB32Chars(s string) bool {
	for i := 0; i < len(s); i++ {
		if apiKeyB32Index(s[i]) < 0 {
			return false
		}
	}
	return true
}

func apiKeyB32Index(c byte) int {
	switch {
	case 'a' <= c && c <= 'z':
		return int(c - 'a')
	case '2' <= c && c <= '7':
		return int(c-'2') + 26
	}
	return -1
}
