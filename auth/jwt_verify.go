package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"slices"
	"sync"
)

// This file checks a JWS signature with the standard library directly,
// accepting exactly what golang-jwt's signing methods accept, but without
// their per-call costs: a new HMAC for every token, a copy of the signing
// input, a heap digest, and big.Int halves of an ECDSA signature. The
// algorithms it does not special-case (PS256 and its siblings) go through
// golang-jwt.

// jwtMACPool recycles the HMAC states of one key and hash.
type jwtMACPool struct {
	pool sync.Pool // of *jwtMACState
}

type jwtMACState struct {
	h   hash.Hash
	sum [sha512.Size]byte
}

// newMACPools returns the pools of an HMAC secret, one per hash.
func newMACPools(secret []byte) *[3]jwtMACPool {
	var p [3]jwtMACPool
	for i, h := range [3]func() hash.Hash{sha256.New, sha512.New384, sha512.New} {
		p[i].pool.New = func() any { return &jwtMACState{h: hmac.New(h, secret)} }
	}
	return &p
}

// hmacIndex maps an HMAC algorithm to its jwtMACPool; -1 for the others.
func hmacIndex(alg string) int {
	switch alg {
	case AlgHS256:
		return 0
	case AlgHS384:
		return 1
	case AlgHS512:
		return 2
	}
	return -1
}

// verifySignature reports whether sig is alg's signature of msg (the
// signing input, header.payload as received) under k, a key compiled for
// alg.
func verifySignature(alg string, msg, sig []byte, k *verKey) bool {
	switch alg {
	case AlgHS256, AlgHS384, AlgHS512:
		if k.macs == nil {
			return false
		}
		p := &k.macs[hmacIndex(alg)].pool
		st := p.Get().(*jwtMACState)
		st.h.Reset()
		st.h.Write(msg)
		ok := hmac.Equal(sig, st.h.Sum(st.sum[:0]))
		p.Put(st)
		return ok
	case AlgEdDSA:
		pub, ok := k.key.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return false
		}
		return ed25519.Verify(pub, msg, sig)
	case AlgES256:
		pub, ok := k.key.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 {
			return false
		}
		d := sha256.Sum256(msg)
		return verifyECDSA(pub, d[:], sig)
	case AlgES384:
		pub, ok := k.key.(*ecdsa.PublicKey)
		if !ok || len(sig) != 96 {
			return false
		}
		d := sha512.Sum384(msg)
		return verifyECDSA(pub, d[:], sig)
	case AlgRS256:
		pub, ok := k.key.(*rsa.PublicKey)
		if !ok {
			return false
		}
		d := sha256.Sum256(msg)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
	case AlgRS384:
		pub, ok := k.key.(*rsa.PublicKey)
		if !ok {
			return false
		}
		d := sha512.Sum384(msg)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA384, d[:], sig) == nil
	case AlgRS512:
		pub, ok := k.key.(*rsa.PublicKey)
		if !ok {
			return false
		}
		d := sha512.Sum512(msg)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA512, d[:], sig) == nil
	}
	info, ok := jwtAlgorithms[alg]
	if !ok {
		return false
	}
	// A copy, so that the caller's signature buffer can stay on its stack.
	return info.method.Verify(string(msg), slices.Clone(sig), k.key) == nil
}

// verifyECDSA checks a JWS ECDSA signature, the big-endian r and s of
// equal length concatenated (RFC 7518 §3.4), as ecdsa.Verify does with
// them as integers: it DER-encodes them, without leading zeros, for
// ecdsa.VerifyASN1. A zero r or s is invalid.
func verifyECDSA(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	half := len(sig) / 2
	var der [2 + 2*(2+1+48)]byte
	n := 2
	for _, v := range [2][]byte{sig[:half], sig[half:]} {
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) == 0 {
			return false
		}
		l := len(v)
		if v[0]&0x80 != 0 {
			l++
		}
		der[n], der[n+1] = 0x02, byte(l) // INTEGER
		n += 2
		if l > len(v) {
			der[n] = 0
			n++
		}
		n += copy(der[n:], v)
	}
	der[0], der[1] = 0x30, byte(n-2) // SEQUENCE, short form: at most 2*51 bytes
	return ecdsa.VerifyASN1(pub, digest, der[:n])
}
