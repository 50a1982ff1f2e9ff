package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

// TestDPoPProofsOfAnotherImplementation: proofs made by lestrrat-go/jwx,
// a JOSE implementation of its own, with the thumbprint it computes for
// the token's cnf.jkt (RFC 7638), are accepted for each key type
// auth.DPoPOptions takes by default, and refused for another request.
// The package's own tests build proofs and thumbprints by hand; this
// checks that both agree with a client built on another library.
func TestDPoPProofsOfAnotherImplementation(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	secret := []byte("0123456789abcdef0123456789abcdef")
	m, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgHS256},
		Keys:       []auth.Key{{Algorithm: auth.AlgHS256, Key: secret}},
		Issuer:     "https://issuer.example", Audience: "https://api.example",
		DPoP: &auth.DPoPOptions{Origin: "https://api.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		io.WriteString(w, id.Subject())
	}))
	for _, tt := range []struct {
		name string
		alg  jwa.SignatureAlgorithm
		raw  any
	}{
		{"ES256", jwa.ES256, ecKey},
		{"ES384", jwa.ES384, ec384},
		{"EdDSA", jwa.EdDSA, edKey},
		{"RS256", jwa.RS256, rsaKey},
		{"PS256", jwa.PS256, rsaKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			priv, err := jwk.FromRaw(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := jwk.PublicKeyOf(priv)
			if err != nil {
				t.Fatal(err)
			}
			tp, err := pub.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			token, err := gjwt.NewWithClaims(gjwt.SigningMethodHS256, gjwt.MapClaims{
				"iss": "https://issuer.example", "aud": "https://api.example", "sub": "alice",
				"exp": time.Now().Add(time.Minute).Unix(), "cnf": map[string]string{"jkt": base64.RawURLEncoding.EncodeToString(tp)},
			}).SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			proof := func(jti, method, htu string) string {
				ath := sha256.Sum256([]byte(token))
				tok, err := jwt.NewBuilder().JwtID(jti).IssuedAt(time.Now()).
					Claim("htm", method).Claim("htu", htu).Claim("ath", base64.RawURLEncoding.EncodeToString(ath[:])).Build()
				if err != nil {
					t.Fatal(err)
				}
				hdrs := jws.NewHeaders()
				if err := hdrs.Set(jws.TypeKey, "dpop+jwt"); err != nil {
					t.Fatal(err)
				}
				if err := hdrs.Set(jws.JWKKey, pub); err != nil {
					t.Fatal(err)
				}
				signed, err := jwt.Sign(tok, jwt.WithKey(tt.alg, priv, jws.WithProtectedHeaders(hdrs)))
				if err != nil {
					t.Fatal(err)
				}
				return string(signed)
			}
			send := func(method, target, proof string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, target, nil)
				r.Header.Set("Authorization", "DPoP "+token)
				r.Header.Set("DPoP", proof)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			if w := send("GET", "/orders?page=2", proof(tt.name+"-1", "GET", "https://api.example/orders")); w.Code != http.StatusOK || w.Body.String() != "alice" {
				t.Fatalf("a proof of jwx: %d %q, want 200 for alice", w.Code, w.Body)
			}
			if w := send("DELETE", "/orders", proof(tt.name+"-2", "GET", "https://api.example/orders")); w.Code != http.StatusUnauthorized {
				t.Errorf("a proof for another method: %d, want 401", w.Code)
			}
		})
	}
}
