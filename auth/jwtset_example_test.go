package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

// ExampleNewJWTSet accepts the tokens of two issuers while an API moves
// from its own HMAC-signed tokens to an identity provider's Ed25519-signed
// ones: each token is verified by the verifier of its iss alone, so a
// token signed with the old secret that claims the new issuer is refused.
func ExampleNewJWTSet() {
	secret := []byte("an example secret of 32 bytes!!!") // in production: from a secret store
	_, priv, _ := ed25519.GenerateKey(rand.Reader)       // in production: the provider's JWKSURL
	oldIssuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "hs-1", Algorithm: auth.AlgHS256, Key: secret},
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	newIssuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "ed-1", Algorithm: auth.AlgEdDSA, Key: priv},
		Issuer:   "https://login.example.net",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	old, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgHS256},
		Keys:       []auth.Key{oldIssuer.VerificationKey()},
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	provider, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{newIssuer.VerificationKey()},
		Issuer:     "https://login.example.net",
		Audience:   "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	bearer, err := auth.NewJWTSet(old, provider)
	if err != nil {
		log.Fatal(err)
	}
	h := bearer.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintf(w, "orders of %s", id.Subject())
	}))

	// A token signed with the old secret, claiming the new issuer.
	forger, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "hs-1", Algorithm: auth.AlgHS256, Key: secret},
		Issuer:   "https://login.example.net",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		issuer *auth.Issuer
		sub    string
	}{
		{"old issuer", oldIssuer, "alice"},
		{"new issuer", newIssuer, "bob"},
		{"old secret, new iss", forger, "mallory"},
	} {
		at, err := c.issuer.Issue(ctx, auth.Grant{Subject: c.sub})
		if err != nil {
			log.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+at.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(c.name+":", w.Code, w.Body.String())
		} else {
			fmt.Println(c.name+":", w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Output:
	// old issuer: 200 orders of alice
	// new issuer: 200 orders of bob
	// old secret, new iss: 401 Bearer realm="api", error="invalid_token", error_description="The access token is invalid"
}
