package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

type verifyFixture struct {
	alg  string
	sign any
	key  *verKey
}

var verifyFixtures = sync.OnceValue(func() []verifyFixture {
	secret := make([]byte, 64)
	rand.Read(secret)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	var out []verifyFixture
	for _, a := range allJWTAlgorithms {
		var sk, vk any
		switch jwtAlgorithms[a].kind {
		case kindHMAC:
			sk, vk = secret, secret
		case kindEd25519:
			sk, vk = ed, ed.Public()
		case kindEC256:
			sk, vk = ec256, &ec256.PublicKey
		case kindEC384:
			sk, vk = ec384, &ec384.PublicKey
		case kindRSA:
			sk, vk = rk, &rk.PublicKey
		}
		k, err := compileKey(0, Key{Key: vk, Algorithm: a}, []string{a})
		if err != nil {
			panic(err)
		}
		out = append(out, verifyFixture{a, sk, k})
	}
	return out
})

// checkVerifyAgrees fails unless verifySignature and golang-jwt's signing
// method agree on sig for msg.
func checkVerifyAgrees(t *testing.T, f verifyFixture, msg string, sig []byte) {
	t.Helper()
	want := jwtAlgorithms[f.alg].method.Verify(msg, sig, f.key.key) == nil
	if got := verifySignature(f.alg, []byte(msg), sig, f.key); got != want {
		t.Fatalf("%s: verifySignature = %v, golang-jwt = %v for %q / %x", f.alg, got, want, msg, sig)
	}
}

// TestVerifySignatureAgreesWithGolangJWT checks the direct signature
// check against golang-jwt for every algorithm: the valid signature, and
// the forgeries an attacker tries (a flipped bit, a truncated or extended
// signature, an empty one, ECDSA halves of zero or with leading zeros,
// another message).
func TestVerifySignatureAgreesWithGolangJWT(t *testing.T) {
	for _, f := range verifyFixtures() {
		t.Run(f.alg, func(t *testing.T) {
			const msg = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
			sig, err := jwtAlgorithms[f.alg].method.Sign(msg, f.sign)
			if err != nil {
				t.Fatal(err)
			}
			if !verifySignature(f.alg, []byte(msg), sig, f.key) {
				t.Fatal("a valid signature is refused")
			}
			flipped := append([]byte(nil), sig...)
			flipped[len(flipped)/3] ^= 0x10
			zeroHalf := make([]byte, len(sig))
			copy(zeroHalf[len(sig)/2:], sig[len(sig)/2:])
			leading := append([]byte(nil), sig...)
			leading[0], leading[len(sig)/2] = 0, 0
			if f.key.kind == kindEC256 || f.key.kind == kindEC384 {
				// About one signature in 256 has an r or s with a leading
				// zero byte before a byte below 0x80, which DER drops.
				for i := 0; ; i++ {
					m := msg + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
					s, err := jwtAlgorithms[f.alg].method.Sign(m, f.sign)
					if err != nil {
						t.Fatal(err)
					}
					if h := len(s) / 2; s[0] == 0 && s[1] < 0x80 || s[h] == 0 && s[h+1] < 0x80 {
						if !verifySignature(f.alg, []byte(m), s, f.key) {
							t.Fatalf("a valid signature with a leading zero is refused: %x", s)
						}
						break
					}
				}
			}
			for _, s := range [][]byte{sig, flipped, sig[:len(sig)-1], append(append([]byte(nil), sig...), 0), nil, {}, zeroHalf, leading, make([]byte, len(sig))} {
				checkVerifyAgrees(t, f, msg, s)
				checkVerifyAgrees(t, f, msg+"x", s)
			}
		})
	}
}

// FuzzJWTVerifySignature checks that the direct signature check never
// panics and accepts exactly what golang-jwt accepts, for every
// algorithm, on arbitrary messages and signatures, and on signatures of
// the message with bytes changed.
func FuzzJWTVerifySignature(f *testing.F) {
	f.Add(uint8(0), "a.b", []byte{}, false, uint16(0), byte(0))
	f.Add(uint8(9), "eyJhbGciOiJFUzI1NiJ9.e30", []byte{1}, true, uint16(0), byte(0x80))
	f.Add(uint8(3), "x.y", make([]byte, 256), true, uint16(5), byte(1))
	fs := verifyFixtures()
	f.Fuzz(func(t *testing.T, which uint8, msg string, sig []byte, signed bool, at uint16, xor byte) {
		fx := fs[int(which)%len(fs)]
		if signed {
			s, err := jwtAlgorithms[fx.alg].method.Sign(msg, fx.sign)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) > 0 {
				s[int(at)%len(s)] ^= xor
			}
			sig = s
		}
		checkVerifyAgrees(t, fx, msg, sig)
	})
}

// The default JWKS client follows at most three redirects, as documented
// (found in review: it stopped at the third).
func TestJWKSClientFollowsThreeRedirects(t *testing.T) {
	r, err := newRemoteKeySet("https://idp.example/jwks", JWKSOptions{}, []string{AlgEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	https := func(n int) []*http.Request {
		via := make([]*http.Request, n)
		for i := range via {
			via[i] = httptest.NewRequest("GET", "https://idp.example/r", nil)
		}
		return via
	}
	next := httptest.NewRequest("GET", "https://idp.example/jwks", nil)
	for n, want := range map[int]bool{1: true, 2: true, 3: true, 4: false} {
		if got := r.client.CheckRedirect(next, https(n)) == nil; got != want {
			t.Errorf("redirect %d followed: %v, want %v", n, got, want)
		}
	}
	if r.client.CheckRedirect(httptest.NewRequest("GET", "http://idp.example/jwks", nil), https(1)) == nil {
		t.Error("a redirect to http is followed")
	}
}
