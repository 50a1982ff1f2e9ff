package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/internal/keycheck"
)

// Key is a JWT key: a verification key for [NewJWT], or a signing key for
// [NewIssuer].
//
// Key.Key is one of
//
//   - []byte: an HMAC secret for HS256, HS384 or HS512, at least as long as
//     the hash (32, 48 or 64 bytes; RFC 7518 §3.2), and not all zero
//     bytes: a buffer that was never filled is a secret anyone can sign
//     with;
//   - ed25519.PublicKey or ed25519.PrivateKey: EdDSA, not the key pair of
//     an all-zero seed, whose private key anyone can derive, nor a public
//     key of small order (32 zero bytes among them), under which anyone
//     can forge signatures; a private key's second half must be the
//     public key of its seed;
//   - *ecdsa.PublicKey or *ecdsa.PrivateKey on P-256 (ES256) or P-384
//     (ES384), whose point is on the curve and, for a private key, is the
//     point of its scalar D;
//   - *rsa.PublicKey or *rsa.PrivateKey of 2048 to 4096 bits, with an odd
//     modulus and an odd exponent from 3 to 2^31-1, and for a private key
//     its primes and a private exponent that [rsa.PrivateKey.Validate]
//     accepts: RS256, RS384, RS512, PS256, PS384, PS512.
//
// A private key given for verification is reduced to its public half.
type Key struct {
	// ID is the key ID, matched exactly against a token's kid header. It
	// is an opaque label: it never names a file, URL or query. A key with
	// an empty ID verifies only tokens without a kid. At most 256 bytes.
	ID string
	// Algorithm is the one JWS algorithm this key is used with. Empty
	// means every algorithm of the allowlist that suits the key's type
	// (a P-256 key only ever verifies ES256; an RSA key verifies the
	// RS/PS algorithms that are allowed). An HMAC secret can never verify
	// a public-key algorithm and vice versa, whatever the token says.
	Algorithm string
	// Key is the key material; see the type documentation.
	Key any
}

// Algorithm names accepted in allowlists.
const (
	AlgHS256 = "HS256"
	AlgHS384 = "HS384"
	AlgHS512 = "HS512"
	AlgRS256 = "RS256"
	AlgRS384 = "RS384"
	AlgRS512 = "RS512"
	AlgPS256 = "PS256"
	AlgPS384 = "PS384"
	AlgPS512 = "PS512"
	AlgES256 = "ES256"
	AlgES384 = "ES384"
	AlgEdDSA = "EdDSA"
)

type keyKind uint8

const (
	kindHMAC keyKind = iota + 1
	kindRSA
	kindEC256
	kindEC384
	kindEd25519
)

// jwtAlgorithms maps every supported algorithm to the kind of key it needs
// and its golang-jwt method. "none" is deliberately absent.
var jwtAlgorithms = map[string]struct {
	kind   keyKind
	method jwt.SigningMethod
}{
	AlgHS256: {kindHMAC, jwt.SigningMethodHS256},
	AlgHS384: {kindHMAC, jwt.SigningMethodHS384},
	AlgHS512: {kindHMAC, jwt.SigningMethodHS512},
	AlgRS256: {kindRSA, jwt.SigningMethodRS256},
	AlgRS384: {kindRSA, jwt.SigningMethodRS384},
	AlgRS512: {kindRSA, jwt.SigningMethodRS512},
	AlgPS256: {kindRSA, jwt.SigningMethodPS256},
	AlgPS384: {kindRSA, jwt.SigningMethodPS384},
	AlgPS512: {kindRSA, jwt.SigningMethodPS512},
	AlgES256: {kindEC256, jwt.SigningMethodES256},
	AlgES384: {kindEC384, jwt.SigningMethodES384},
	AlgEdDSA: {kindEd25519, jwt.SigningMethodEdDSA},
}

// allJWTAlgorithms lists every supported algorithm.
var allJWTAlgorithms = []string{AlgHS256, AlgHS384, AlgHS512, AlgRS256, AlgRS384, AlgRS512,
	AlgPS256, AlgPS384, AlgPS512, AlgES256, AlgES384, AlgEdDSA}

// hmacMinLen is the minimum secret length per HMAC algorithm.
var hmacMinLen = map[string]int{AlgHS256: 32, AlgHS384: 48, AlgHS512: 64}

// The sizes of RSA modulus accepted. The largest bounds the signature
// the middleware decodes (maxSignatureBytes): found in review, larger
// keys were accepted but no token they signed ever verified.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// verKey is a compiled verification key.
type verKey struct {
	id   string
	algs []string // the algorithms this key verifies, a subset of the allowlist
	kind keyKind
	key  any            // []byte, ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey
	macs *[3]jwtMACPool // HMAC states per hash, for an HMAC secret
}

func (k *verKey) accepts(alg string) bool {
	return slices.Contains(k.algs, alg)
}

// keySet is an immutable set of verification keys.
type keySet struct {
	byID  map[string][]*verKey
	noID  []*verKey
	count int
}

// lookup returns the key that verifies alg for kid; hasKID distinguishes a
// token without kid from one with an empty kid (which matches nothing).
func (s *keySet) lookup(kid string, hasKID bool, alg string) *verKey {
	if s == nil {
		return nil
	}
	list := s.noID
	if hasKID {
		list = s.byID[kid]
	}
	for _, k := range list {
		if k.accepts(alg) {
			return k
		}
	}
	return nil
}

// lookupBytes is lookup with the kid as raw bytes, without allocating.
func (s *keySet) lookupBytes(kid []byte, hasKID bool, alg string) *verKey {
	if s == nil {
		return nil
	}
	list := s.noID
	if hasKID {
		list = s.byID[string(kid)]
	}
	for _, k := range list {
		if k.accepts(alg) {
			return k
		}
	}
	return nil
}

// sharedKeyIDs returns an error for each key of keys that shares its ID (no
// ID included) and an algorithm with an earlier one: a token's kid selects
// the first, so the later never verified a token (found in review).
func sharedKeyIDs(field string, keys []*verKey) error {
	var errs []error
	for i, k := range keys {
		for _, e := range keys[:i] {
			if k.id == e.id && slices.ContainsFunc(k.algs, e.accepts) {
				errs = append(errs, fmt.Errorf("auth: %s: two keys of ID %q verify %s: a token's kid selects one, so the other would never verify; give each key its own ID", field, k.id, k.algs[0]))
				break
			}
		}
	}
	return errors.Join(errs...)
}

func newKeySet(keys []*verKey) *keySet {
	s := &keySet{byID: make(map[string][]*verKey)}
	for _, k := range keys {
		if k.id == "" {
			s.noID = append(s.noID, k)
		} else {
			s.byID[k.id] = append(s.byID[k.id], k)
		}
		s.count++
	}
	return s
}

// checkAlgorithms validates an allowlist: known names, no "none", and no
// mix of HMAC with public-key algorithms.
func checkAlgorithms(field string, algs []string) error {
	if len(algs) == 0 {
		return fmt.Errorf("auth: %s is required: list the JWS algorithms your tokens use, for example [\"EdDSA\"] or [\"HS256\"]", field)
	}
	var errs []error
	hmac, public := false, false
	for _, a := range algs {
		if strings.EqualFold(a, "none") {
			errs = append(errs, fmt.Errorf("auth: %s: algorithm %q is never accepted", field, a))
			continue
		}
		info, ok := jwtAlgorithms[a]
		if !ok {
			errs = append(errs, fmt.Errorf("auth: %s: unsupported algorithm %q", field, a))
			continue
		}
		if info.kind == kindHMAC {
			hmac = true
		} else {
			public = true
		}
	}
	if hmac && public {
		errs = append(errs, fmt.Errorf("auth: %s mixes HMAC and public-key algorithms; use one family per verifier (RFC 8725 §3.1)", field))
	}
	return errors.Join(errs...)
}

// isPublicKeyAlg reports whether alg is a supported public-key algorithm.
func isPublicKeyAlg(alg string) bool {
	info, ok := jwtAlgorithms[alg]
	return ok && info.kind != kindHMAC
}

// compileKey checks k against the allowlist and returns its verification
// form.
func compileKey(i int, k Key, allow []string) (*verKey, error) {
	where := fmt.Sprintf("auth: key %d", i)
	if k.ID != "" {
		where = fmt.Sprintf("auth: key %q", k.ID)
	}
	if len(k.ID) > maxKIDLen {
		return nil, fmt.Errorf("%s: ID longer than %d bytes", where, maxKIDLen)
	}
	vk := &verKey{id: k.ID}
	switch key := k.Key.(type) {
	case []byte:
		if len(key) > 0 && keycheck.AllZero(key) {
			// A key buffer never filled: anyone can sign with it.
			return nil, fmt.Errorf("%s: HMAC secret is all zero bytes; it must be random", where)
		}
		secret := slices.Clone(key)
		vk.kind, vk.key, vk.macs = kindHMAC, secret, newMACPools(secret)
	case ed25519.PrivateKey:
		if len(key) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%s: invalid Ed25519 private key", where)
		}
		if keycheck.AllZero(key.Seed()) {
			return nil, fmt.Errorf("%s: Ed25519 key made from an all-zero seed; anyone can derive its private key", where)
		}
		// The second half of the key is its public key as stored, which
		// crypto/ed25519 neither checks nor recomputes: a key whose second
		// half was never filled (the seed copied into a 64-byte buffer)
		// would verify under 32 zero bytes, a point of small order, and
		// sign tokens that verify under it.
		pub := ed25519.NewKeyFromSeed(key.Seed()).Public().(ed25519.PublicKey)
		if !pub.Equal(key.Public()) {
			return nil, fmt.Errorf("%s: Ed25519 private key whose second half is not the public key of its seed (use ed25519.NewKeyFromSeed)", where)
		}
		vk.kind, vk.key = kindEd25519, pub
	case ed25519.PublicKey:
		if len(key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: invalid Ed25519 public key", where)
		}
		if key.Equal(zeroSeedEd25519) {
			return nil, fmt.Errorf("%s: Ed25519 public key of an all-zero seed; anyone can derive its private key", where)
		}
		if ed25519SmallOrder(key) {
			return nil, fmt.Errorf("%s: Ed25519 public key of small order; anyone can forge signatures under it", where)
		}
		vk.kind, vk.key = kindEd25519, slices.Clone(key)
	case *ecdsa.PrivateKey:
		if key == nil {
			return nil, fmt.Errorf("%s: nil key", where)
		}
		pub, err := compileKey(i, Key{ID: k.ID, Algorithm: k.Algorithm, Key: &key.PublicKey}, allow)
		if err != nil {
			return nil, err
		}
		// The scalar must be the one of the public point: a key whose D
		// is missing panicked at signing, and one whose D is another's
		// signed tokens that the published key did not verify.
		if key.D == nil {
			return nil, fmt.Errorf("%s: ECDSA private key without its scalar D", where)
		}
		d, err := key.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%s: invalid ECDSA private key: %w", where, err)
		}
		if priv, err := ecdsa.ParseRawPrivateKey(key.Curve, d); err != nil || !priv.PublicKey.Equal(&key.PublicKey) {
			return nil, fmt.Errorf("%s: ECDSA private key whose scalar is not the one of its public point", where)
		}
		return pub, nil
	case *ecdsa.PublicKey:
		if key == nil || key.Curve == nil {
			return nil, fmt.Errorf("%s: nil key", where)
		}
		switch key.Curve {
		case elliptic.P256():
			vk.kind = kindEC256
		case elliptic.P384():
			vk.kind = kindEC384
		default:
			return nil, fmt.Errorf("%s: ECDSA curve %s not supported (use P-256 or P-384)", where, key.Curve.Params().Name)
		}
		// A point without coordinates made crypto/ecdsa panic in every
		// verification; one off the curve verified nothing.
		if key.X == nil || key.Y == nil {
			return nil, fmt.Errorf("%s: ECDSA public key without its coordinates", where)
		}
		if _, err := key.Bytes(); err != nil {
			return nil, fmt.Errorf("%s: ECDSA public key is not a point of its curve", where)
		}
		vk.key = key
	case *rsa.PrivateKey:
		if key == nil {
			return nil, fmt.Errorf("%s: nil key", where)
		}
		pub, err := compileKey(i, Key{ID: k.ID, Algorithm: k.Algorithm, Key: &key.PublicKey}, allow)
		if err != nil {
			return nil, err
		}
		// As for ECDSA: a private exponent missing, or another key's,
		// failed every signature (found in review: NewIssuer accepted
		// it, and every token request was a 500).
		if key.D == nil || len(key.Primes) < 2 {
			return nil, fmt.Errorf("%s: RSA private key without its private exponent or primes", where)
		}
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("%s: invalid RSA private key: %w", where, err)
		}
		return pub, nil
	case *rsa.PublicKey:
		if key == nil || key.N == nil {
			return nil, fmt.Errorf("%s: nil key", where)
		}
		if n := key.N.BitLen(); n < minRSABits || n > maxRSABits {
			return nil, fmt.Errorf("%s: RSA key of %d bits; %d to %d are supported", where, n, minRSABits, maxRSABits)
		}
		// What crypto/rsa refuses in every verification and signature,
		// and ParseJWKS skips.
		if key.N.Bit(0) == 0 || key.E < 3 || key.E%2 == 0 || key.E > 1<<31-1 {
			return nil, fmt.Errorf("%s: RSA key with an even modulus, or an exponent that is not odd, at least 3 and below 2^31", where)
		}
		vk.kind, vk.key = kindRSA, key
	case nil:
		return nil, fmt.Errorf("%s: Key is nil", where)
	default:
		return nil, fmt.Errorf("%s: unsupported key type %T", where, k.Key)
	}
	if k.Algorithm != "" {
		info, ok := jwtAlgorithms[k.Algorithm]
		switch {
		case !ok || !slices.Contains(allow, k.Algorithm):
			return nil, fmt.Errorf("%s: algorithm %q is not in the allowlist", where, k.Algorithm)
		case info.kind != vk.kind:
			return nil, fmt.Errorf("%s: algorithm %s does not suit a %s key", where, k.Algorithm, vk.kind)
		}
		vk.algs = []string{k.Algorithm}
	} else {
		for _, a := range allow {
			if info, ok := jwtAlgorithms[a]; ok && info.kind == vk.kind {
				vk.algs = append(vk.algs, a)
			}
		}
		if len(vk.algs) == 0 {
			return nil, fmt.Errorf("%s: no allowed algorithm suits a %s key", where, vk.kind)
		}
	}
	if vk.kind == kindHMAC {
		for _, a := range vk.algs {
			if n := len(vk.key.([]byte)); n < hmacMinLen[a] {
				return nil, fmt.Errorf("%s: %s secret of %d bytes; at least %d random bytes are required", where, a, n, hmacMinLen[a])
			}
		}
	}
	return vk, nil
}

// zeroSeedEd25519 is the public key of the all-zero Ed25519 seed, whose
// private key is known to everyone.
var zeroSeedEd25519 = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)

// ed25519P is the prime 2^255 - 19 of the field of Ed25519.
var ed25519P = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// ed25519SmallOrderY are the y-coordinates of the eight points of
// Ed25519 whose order divides the cofactor 8: 1 (the identity), p-1
// (order 2), 0 (the two points of order 4) and ±y8 (the four of order 8).
var ed25519SmallOrderY = func() []*big.Int {
	y8, _ := new(big.Int).SetString("5fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826", 16)
	return []*big.Int{
		big.NewInt(0), big.NewInt(1), new(big.Int).Sub(ed25519P, big.NewInt(1)),
		y8, new(big.Int).Sub(ed25519P, y8),
	}
}()

// ed25519SmallOrder reports whether pub encodes a point of small order.
// crypto/ed25519 verifies without the cofactor and accepts such keys:
// under one, a signature made of the identity point and a zero scalar
// verifies for one message in at most eight, so anyone can mint tokens by
// varying a claim (32 zero bytes, a key buffer never filled, is one, of
// order 4). The encoding is the little-endian y with the sign of x in the
// top bit; a y of p or more, which crypto/ed25519 also accepts, is taken
// modulo p.
func ed25519SmallOrder(pub ed25519.PublicKey) bool {
	var be [ed25519.PublicKeySize]byte
	for i, c := range pub {
		be[len(be)-1-i] = c
	}
	be[0] &= 0x7f
	y := new(big.Int).SetBytes(be[:])
	y.Mod(y, ed25519P)
	for _, s := range ed25519SmallOrderY {
		if y.Cmp(s) == 0 {
			return true
		}
	}
	return false
}

func (k keyKind) String() string {
	switch k {
	case kindHMAC:
		return "HMAC"
	case kindRSA:
		return "RSA"
	case kindEC256:
		return "P-256"
	case kindEC384:
		return "P-384"
	case kindEd25519:
		return "Ed25519"
	}
	return "unknown"
}
