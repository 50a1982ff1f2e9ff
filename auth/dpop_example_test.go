package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

// ExampleDPoPOptions accepts access tokens bound to the client's key
// (RFC 9449): each request carries a fresh proof signed with that key for
// its method, URI and token. The same proof sent again is refused, and so
// is the token sent without proof as a bearer token.
func ExampleDPoPOptions() {
	// The identity provider's signing key, and a token it issued bound
	// to the client's key by cnf.jkt, the key's RFC 7638 thumbprint.
	idpPub, idpKey, _ := ed25519.GenerateKey(rand.Reader)
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pt, _ := client.PublicKey.Bytes() // 0x04 || x || y
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	thumb := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + b64(pt[1:33]) + `","y":"` + b64(pt[33:]) + `"}`))
	token, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://auth.example.com", "aud": "https://api.example.com", "sub": "alice",
		"exp": time.Now().Add(5 * time.Minute).Unix(), "cnf": map[string]string{"jkt": b64(thumb[:])},
	}).SignedString(idpKey)

	m, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{{Key: idpPub}},
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
		DPoP:       &auth.DPoPOptions{Origin: "https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintf(w, "hello %s", id.Subject())
	}))

	// The client's proof for GET https://api.example.com/orders.
	ath := sha256.Sum256([]byte(token))
	p := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": "https://api.example.com/orders",
		"iat": time.Now().Unix(), "ath": b64(ath[:]),
	})
	p.Header["typ"], p.Header["jwk"] = "dpop+jwt", jwk
	proof, _ := p.SignedString(client)

	send := func(scheme, proof string) {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.Len() > 0 && w.Code == 200, w.Header().Values("WWW-Authenticate"))
	}
	send("DPoP", proof) // accepted
	send("DPoP", proof) // the same proof again: a replay
	send("Bearer", "")  // a bound token is no bearer token
	// Output:
	// 200 true []
	// 401 false [Bearer realm="api" DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="invalid_dpop_proof", error_description="The DPoP proof is invalid"]
	// 401 false [Bearer realm="api", error="invalid_token", error_description="The access token is invalid" DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="invalid_token", error_description="The access token is invalid"]
}

// ExampleHMACNonces makes DPoP proofs expire by the server's clock
// (RFC 9449 §9): a proof must carry a nonce the server issued within the
// last few minutes. The client's first proof has none; it is refused with
// error="use_dpop_nonce" and a nonce in DPoP-Nonce, which the client puts
// in a new proof.
func ExampleHMACNonces() {
	idpPub, idpKey, _ := ed25519.GenerateKey(rand.Reader)
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pt, _ := client.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := b64(pt[1:33]), b64(pt[33:])
	thumb := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	token, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://auth.example.com", "aud": "https://api.example.com", "sub": "alice",
		"exp": time.Now().Add(5 * time.Minute).Unix(), "cnf": map[string]string{"jkt": b64(thumb[:])},
	}).SignedString(idpKey)

	// One key for every instance behind the load balancer; nonces live
	// five minutes to ten.
	key := make([]byte, auth.MinNonceKeyBytes)
	rand.Read(key)
	nonces, err := auth.NewHMACNonces(key, 5*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	m, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{{Key: idpPub}},
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
		DPoP:       &auth.DPoPOptions{Origin: "https://api.example.com", Nonces: nonces},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "orders")
	}))

	// send signs a proof for GET /orders carrying nonce, when not "",
	// and returns the response.
	send := func(jti, nonce string) *http.Response {
		ath := sha256.Sum256([]byte(token))
		claims := jwt.MapClaims{"jti": jti, "htm": "GET", "htu": "https://api.example.com/orders",
			"iat": time.Now().Unix(), "ath": b64(ath[:])}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		p := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		p.Header["typ"] = "dpop+jwt"
		p.Header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}
		proof, _ := p.SignedString(client)
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "DPoP "+token)
		r.Header.Set("DPoP", proof)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w.Result()
	}

	res := send("p1", "")
	nonce := res.Header.Get("DPoP-Nonce")
	fmt.Println(res.StatusCode, res.Header.Values("WWW-Authenticate")[1], len(nonce))
	res = send("p2", nonce)
	fmt.Println(res.StatusCode)
	// Output:
	// 401 DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof" 32
	// 200
}

// ExampleTokenEndpointOptions_dPoP issues tokens bound to the client's
// key (RFC 9449 §5): a public client sends a DPoP proof with its token
// request and gets a DPoP access token, which the API takes only with a
// proof by that key, and a refresh token that is refused without one.
func ExampleTokenEndpointOptions_dPoP() {
	_, signing, _ := ed25519.GenerateKey(rand.Reader)
	issuer, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k1", Algorithm: auth.AlgEdDSA, Key: signing},
		Issuer: "https://auth.example.com", Audience: []string{"https://api.example.com"}})
	users := auth.NewMemoryUsers()
	if err := users.AddPassword("alice", "correct horse battery staple", identity.Options{Scopes: []string{"orders:read"}}); err != nil {
		log.Fatal(err)
	}
	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer: issuer, Users: users,
		Clients: []auth.Client{{ID: "mobile-app", Public: true,
			Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read"}}},
		DPoP: &auth.DPoPOptions{Origin: "https://auth.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	api, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{issuer.VerificationKey()},
		Issuer: "https://auth.example.com", Audience: "https://api.example.com", Type: auth.TypeAccessToken,
		DPoP: &auth.DPoPOptions{Origin: "https://api.example.com"}})
	if err != nil {
		log.Fatal(err)
	}

	// The client's key, and a proof by it of a request (ath: the hash of
	// the access token it comes with, if any).
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pt, _ := client.PublicKey.Bytes() // 0x04 || x || y
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	proof := func(method, uri, accessToken string) string {
		claims := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": uri, "iat": time.Now().Unix()}
		if accessToken != "" {
			ath := sha256.Sum256([]byte(accessToken))
			claims["ath"] = b64(ath[:])
		}
		p := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		p.Header["typ"], p.Header["jwk"] = "dpop+jwt", jwk
		s, _ := p.SignedString(client)
		return s
	}
	post := func(form url.Values, withProof bool) map[string]any {
		r := httptest.NewRequest(http.MethodPost, "https://auth.example.com/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withProof {
			r.Header.Set("DPoP", proof("POST", "https://auth.example.com/token", ""))
		}
		w := httptest.NewRecorder()
		tokens.ServeHTTP(w, r)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		fmt.Println(w.Code, body["token_type"], body["error"])
		return body
	}

	login := post(url.Values{"grant_type": {"password"}, "client_id": {"mobile-app"},
		"username": {"alice"}, "password": {"correct horse battery staple"}}, true)
	at := login["access_token"].(string)
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/orders", nil)
	r.Header.Set("Authorization", "DPoP "+at)
	r.Header.Set("DPoP", proof("GET", "https://api.example.com/orders", at))
	w := httptest.NewRecorder()
	api.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, r)
	fmt.Println("API:", w.Code)

	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {"mobile-app"}, "refresh_token": {login["refresh_token"].(string)}}
	post(refresh, false) // a stolen refresh token, without the key
	post(refresh, true)
	// Output:
	// 200 DPoP <nil>
	// API: 200
	// 400 <nil> invalid_dpop_proof
	// 200 DPoP <nil>
}
