package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

// A logout of an app that holds tokens: it revokes its refresh token and
// its access token at the revocation endpoint, and the resource server's
// verifier, on the same denylist, refuses the access token from then on.
func ExampleNewRevocationEndpoint() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	issuer, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k1", Algorithm: auth.AlgEdDSA, Key: priv}, Issuer: "https://auth.example.com"})
	users := auth.NewMemoryUsers()
	if err := users.AddPassword("alice", "correct horse battery staple", identity.Options{}); err != nil {
		log.Fatal(err)
	}
	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer:  issuer,
		Users:   users,
		Clients: []auth.Client{{ID: "app", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	denylist := auth.NewMemoryDenylist() // auth/redisstore's for several instances
	bearer, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{issuer.VerificationKey()},
		Issuer: "https://auth.example.com", Denylist: denylist})
	if err != nil {
		log.Fatal(err)
	}
	revocation, err := auth.NewRevocationEndpoint(auth.RevocationEndpointOptions{TokenEndpoint: tokens, AccessTokens: bearer})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /token", tokens)
	mux.Handle("POST /revoke", revocation)

	post := func(path string, form url.Values) (int, map[string]any) {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	_, tok := post("/token", url.Values{"grant_type": {"password"}, "client_id": {"app"}, "username": {"alice"}, "password": {"correct horse battery staple"}})
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	for _, t := range []string{refresh, access} {
		code, _ := post("/revoke", url.Values{"client_id": {"app"}, "token": {t}})
		fmt.Println("revoke:", code)
	}
	code, body := post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"app"}, "refresh_token": {refresh}})
	fmt.Println("refresh:", code, body["error"])
	_, err = bearer.Verify(context.Background(), access)
	fmt.Println("access token:", err)
	// Output:
	// revoke: 200
	// revoke: 200
	// refresh: 400 invalid_grant
	// access token: auth: token revoked
}
