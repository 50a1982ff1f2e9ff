package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"math/big"
	"net/http"
	"testing"

	"github.com/httpguard/httpguard/auth"
)

// TestMalformedECAndRSAKeysAreRefusedAtConstruction: an ECDSA key whose
// point is missing or off its curve, an ECDSA private key whose scalar is
// missing or is not the one of its public point, and an RSA key with an
// exponent or modulus crypto/rsa refuses are construction errors of
// NewJWT, SetKeys and NewIssuer, as a JWKS key with them is skipped. Found
// in review: they were accepted, and a point without coordinates panicked
// in every request that bore a token (and NewIssuer panicked), the others
// refused every token, or signed tokens that the published key did not
// verify.
func TestMalformedECAndRSAKeysAreRefusedAtConstruction(t *testing.T) {
	k := keysOnce()
	other := *k.ec
	other.D = new(big.Int).Add(k.ec.D, big.NewInt(1))
	public := map[string]any{
		"EC point without coordinates": &ecdsa.PublicKey{Curve: elliptic.P256()},
		"EC point without Y":           &ecdsa.PublicKey{Curve: elliptic.P256(), X: k.ec.X},
		"EC point off the curve":       &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)},
		"EC point at infinity":         &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int), Y: new(big.Int)},
		"RSA exponent 1":               &rsa.PublicKey{N: k.rsa.N, E: 1},
		"RSA even exponent":            &rsa.PublicKey{N: k.rsa.N, E: 65536},
		"RSA even modulus":             &rsa.PublicKey{N: new(big.Int).SetBit(new(big.Int).Set(k.rsa.N), 0, 0), E: 65537},
	}
	tokens := map[string]string{}
	for alg, key := range map[string]any{auth.AlgES256: k.ec, auth.AlgRS256: k.rsa} {
		is, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: alg, Key: key}, Issuer: "https://i"})
		if err != nil {
			t.Fatal(err)
		}
		at, err := is.Issue(t.Context(), auth.Grant{Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		tokens[alg] = at.Token
	}
	for name, key := range public {
		t.Run(name, func(t *testing.T) {
			alg := auth.AlgES256
			if _, ok := key.(*rsa.PublicKey); ok {
				alg = auth.AlgRS256
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("NewJWT or a request panicked: %v", p)
					}
				}()
				m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{alg}, Keys: []auth.Key{{Key: key}}})
				if err == nil {
					t.Error("NewJWT accepted the key")
					r, _ := http.NewRequest(http.MethodGet, "/", nil)
					r.Header.Set("Authorization", "Bearer "+tokens[alg])
					_ = m.Check(r)
				}
			}()
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("NewIssuer panicked: %v", p)
					}
				}()
				if _, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "current", Algorithm: auth.AlgEdDSA, Key: k.ed}, PublishKeys: []auth.Key{{Key: key}}, Issuer: "https://i"}); err == nil {
					t.Error("NewIssuer accepted the key in PublishKeys")
				}
			}()
		})
	}
	private := map[string]any{
		"EC private key without D":        &ecdsa.PrivateKey{PublicKey: k.ec.PublicKey},
		"EC private key with a zero D":    &ecdsa.PrivateKey{PublicKey: k.ec.PublicKey, D: new(big.Int)},
		"EC private key of another point": &other,
		"EC private key without a point":  &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: elliptic.P256()}, D: k.ec.D},
		"RSA private key exponent 1":      &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: k.rsa.N, E: 1}, D: k.rsa.D, Primes: k.rsa.Primes},
	}
	for name, key := range private {
		t.Run(name, func(t *testing.T) {
			alg := auth.AlgES256
			if _, ok := key.(*rsa.PrivateKey); ok {
				alg = auth.AlgRS256
			}
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("NewIssuer panicked: %v", p)
				}
			}()
			if _, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: alg, Key: key}, Issuer: "https://i"}); err == nil {
				t.Error("NewIssuer accepted the key")
			}
		})
	}
}

// TestKeysSharingAnIDAreRefused: keys that share an ID (none is an ID too)
// are refused where one would hide the other. A kid selects one key, so a
// rotation whose previous key kept the current key's ID, or where neither
// had one, refused every token of the previous key from the moment the new
// issuer started, where PublishKeys promises they verify until they
// expire; in JWTOptions.Keys the second of two keys of one ID and
// algorithm never verified a token. Found in review.
func TestKeysSharingAnIDAreRefused(t *testing.T) {
	k := keysOnce()
	current := func(id string) auth.Key { return auth.Key{ID: id, Algorithm: auth.AlgEdDSA, Key: k.ed} }
	previous := func(id string) auth.Key { return auth.Key{ID: id, Key: k.evilEd.Public()} }
	for _, id := range []string{"", "main"} {
		if _, err := auth.NewIssuer(auth.IssuerOptions{Key: current(id), PublishKeys: []auth.Key{previous(id)}, Issuer: "https://i"}); err == nil {
			t.Errorf("NewIssuer published two keys of ID %q", id)
		}
		if _, err := auth.NewIssuer(auth.IssuerOptions{Key: current("new"), PublishKeys: []auth.Key{previous(id), {ID: id, Key: &k.ec.PublicKey}}, Issuer: "https://i"}); err == nil {
			t.Errorf("NewIssuer published two previous keys of ID %q", id)
		}
		if _, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{current(id), previous(id)}}); err == nil {
			t.Errorf("NewJWT took two EdDSA keys of ID %q", id)
		}
		m := newJWT(t, auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{current(id)}})
		if err := m.SetKeys([]auth.Key{current(id), previous(id)}); err == nil {
			t.Errorf("SetKeys took two EdDSA keys of ID %q", id)
		}
	}
	// Distinct IDs, and one ID for keys of algorithms that never meet,
	// are fine.
	if _, err := auth.NewIssuer(auth.IssuerOptions{Key: current("new"), PublishKeys: []auth.Key{previous("old")}, Issuer: "https://i"}); err != nil {
		t.Error(err)
	}
	if _, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k", Algorithm: auth.AlgHS256, Key: k.hmac}, PublishKeys: []auth.Key{previous("k")}, Issuer: "https://i"}); err != nil {
		t.Errorf("an HMAC issuer, whose key is not published: %v", err)
	}
	if _, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA, auth.AlgES256}, Keys: []auth.Key{current("k"), {ID: "k", Key: &k.ec.PublicKey}}}); err != nil {
		t.Errorf("NewJWT with an EdDSA and an ES256 key of one ID: %v", err)
	}
}
