package password

import (
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// b64 is the unpadded standard base64 of the PHC string format. Strict
// decoding refuses non-zero trailing bits; decoding skips carriage returns
// and newlines, which parseArgon2id refuses first, so every accepted string
// has a single encoding and parsing round-trips.
var b64 = base64.RawStdEncoding.Strict()

// maxEncodedLength bounds a stored hash; the longest valid argon2id string
// (10-digit parameters, 64-byte salt, 128-byte key) is well below it.
const maxEncodedLength = 512

// bcryptLength is the length of a bcrypt hash: "$2b$10$" plus 22 characters
// of salt and 31 of hash.
const bcryptLength = 60

func (h *Hasher) inspect(encoded string) (Info, error) {
	if len(encoded) > maxEncodedLength {
		return Info{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLength)
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return h.parseArgon2id(encoded[len("$argon2id$"):])
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return h.parseBcrypt(encoded)
	}
	if id, ok := phcID(encoded); ok {
		return Info{}, fmt.Errorf("%w: %q", ErrUnsupportedHash, id)
	}
	return Info{}, ErrMalformedHash
}

// phcID returns the algorithm identifier of a string that looks like a PHC
// or modular crypt string: "$" followed by [a-z0-9-]{1,32} and "$".
func phcID(s string) (string, bool) {
	if len(s) < 3 || s[0] != '$' {
		return "", false
	}
	for i := 1; i < len(s) && i <= 33; i++ {
		c := s[i]
		switch {
		case c == '$' && i > 1:
			return s[1:i], true
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		default:
			return "", false
		}
	}
	return "", false
}

func (h *Hasher) parseArgon2id(s string) (Info, error) {
	bad := func(what string) (Info, error) {
		return Info{}, fmt.Errorf("%w: argon2id: %s", ErrMalformedHash, what)
	}
	if !strings.HasPrefix(s, "v=") {
		// Without a version the PHC reference means 0x10, which
		// golang.org/x/crypto/argon2 does not implement.
		return Info{}, fmt.Errorf("%w: argon2id without version", ErrUnsupportedHash)
	}
	v, s, ok := decimal(s[2:], '$')
	if !ok {
		return bad("version")
	}
	if v != argon2.Version {
		return Info{}, fmt.Errorf("%w: argon2id version %d", ErrUnsupportedHash, v)
	}
	if !strings.HasPrefix(s, "m=") {
		return bad("parameters")
	}
	m, s, ok := decimal(s[2:], ',')
	if !ok || !strings.HasPrefix(s, "t=") {
		return bad("parameters")
	}
	t, s, ok := decimal(s[2:], ',')
	if !ok || !strings.HasPrefix(s, "p=") {
		return bad("parameters")
	}
	p, s, ok := decimal(s[2:], '$')
	if !ok {
		return bad("parameters")
	}
	if t < 1 || p < 1 || p > 255 || m < 8*p {
		return bad("parameters out of range")
	}
	if m > uint64(h.maxMemory) || t > uint64(h.maxTime) || p > uint64(h.maxThreads) || m*t > h.maxWork {
		return Info{}, fmt.Errorf("%w: argon2id m=%d t=%d p=%d", ErrHashLimits, m, t, p)
	}
	rawSalt, rawKey, ok := strings.Cut(s, "$")
	if !ok {
		return bad("missing key")
	}
	if strings.ContainsAny(s, "\r\n") {
		return bad("line break") // encoding/base64 would skip it
	}
	if len(rawSalt) > b64.EncodedLen(maxSaltLength) || len(rawKey) > b64.EncodedLen(maxKeyLength) {
		return Info{}, fmt.Errorf("%w: argon2id salt or key too long", ErrHashLimits)
	}
	salt, err := b64.DecodeString(rawSalt)
	if err != nil || len(salt) < minSaltLength {
		return bad("salt")
	}
	key, err := b64.DecodeString(rawKey)
	if err != nil || len(key) < minKeyLength {
		return bad("key")
	}
	return Info{
		Algorithm: Argon2id,
		Params: Params{
			Memory: uint32(m), Time: uint32(t), Threads: uint8(p),
			SaltLength: uint32(len(salt)), KeyLength: uint32(len(key)),
		},
		Salt: salt,
		Key:  key,
	}, nil
}

// decimal parses a PHC decimal, digits without sign or leading zero of at
// most 10 digits fitting in 32 bits, followed by sep. It returns the value
// and what follows sep.
func decimal(s string, sep byte) (uint64, string, bool) {
	var v uint64
	i := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if i == 10 {
			return 0, "", false
		}
		v = v*10 + uint64(s[i]-'0')
	}
	switch {
	case i == 0, i > 1 && s[0] == '0', v > 1<<32-1, i == len(s), s[i] != sep:
		return 0, "", false
	}
	return v, s[i+1:], true
}

// bcryptAlphabet is bcrypt's base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (h *Hasher) parseBcrypt(s string) (Info, error) {
	// "$2b$" cost "$" salt(22) hash(31)
	if len(s) != bcryptLength || s[6] != '$' || !isDigit(s[4]) || !isDigit(s[5]) {
		return Info{}, fmt.Errorf("%w: bcrypt", ErrMalformedHash)
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return Info{}, fmt.Errorf("%w: bcrypt", ErrMalformedHash)
		}
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcryptMinCost || cost > 31 {
		return Info{}, fmt.Errorf("%w: bcrypt cost", ErrMalformedHash)
	}
	if cost > h.maxBcryptCost {
		return Info{}, fmt.Errorf("%w: bcrypt cost %d", ErrHashLimits, cost)
	}
	return Info{
		Algorithm:     Bcrypt,
		Params:        Params{SaltLength: 16, KeyLength: 23},
		BcryptCost:    cost,
		BcryptVersion: s[1:3],
	}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
