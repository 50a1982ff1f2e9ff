package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
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

// ExampleNewJWT protects an API with bearer tokens signed by an Ed25519
// key: a token minted by an [auth.Issuer] passes, a request without one
// gets the RFC 6750 challenge.
func ExampleNewJWT() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader) // in production: loaded from a secret store
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "2026-01", Algorithm: auth.AlgEdDSA, Key: priv},
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{issuer.VerificationKey()},
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
		Type:       auth.TypeAccessToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	api := bearer.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintf(w, "hello %s", id.Subject())
	}))

	at, _ := issuer.Issue(context.Background(), auth.Grant{Subject: "alice", Scopes: []string{"orders:read"}})
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+at.Token)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)

	w = httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/orders", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))

	r.Header.Set("Authorization", "Bearer "+at.Token[:len(at.Token)-4]+"AAAA")
	w = httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 hello alice
	// 401 Bearer realm="api"
	// 401 Bearer realm="api", error="invalid_token", error_description="The access token is invalid"
}

// ExampleRequireScopes answers 403 insufficient_scope, naming the
// required scope, when the token lacks it.
func ExampleRequireScopes() {
	secret := []byte("an example secret of 32 bytes!!!") // in production: 32 random bytes from a secret store
	issuer, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: secret}, Issuer: "https://auth.example.com"})
	bearer, _ := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{issuer.VerificationKey()}, Issuer: "https://auth.example.com"})

	mux := http.NewServeMux()
	mux.Handle("DELETE /orders/{id}", auth.RequireScopes("orders:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	api := bearer.Handler(mux) // authenticate first, then check scopes

	at, _ := issuer.Issue(context.Background(), auth.Grant{Subject: "bob", Scopes: []string{"orders:read"}})
	r := httptest.NewRequest(http.MethodDelete, "/orders/7", nil)
	r.Header.Set("Authorization", "Bearer "+at.Token)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	// Output:
	// 403
	// Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:write"
}

// ExampleNewTokenEndpoint serves the password grant to a first-party
// public client and refreshes the token.
func ExampleNewTokenEndpoint() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	issuer, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k1", Algorithm: auth.AlgEdDSA, Key: priv}, Issuer: "https://auth.example.com"})
	users := auth.NewMemoryUsers()
	if err := users.AddPassword("alice", "correct horse battery staple", identity.Options{Scopes: []string{"orders:read", "orders:write"}}); err != nil {
		log.Fatal(err)
	}
	endpoint, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer: issuer,
		Users:  users,
		Clients: []auth.Client{{
			ID: "first-party-app", Public: true,
			Grants: []string{auth.GrantPassword, auth.GrantRefreshToken},
			Scopes: []string{"orders:read", "orders:write"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	post := func(form url.Values) map[string]any {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		endpoint.ServeHTTP(w, r)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		fmt.Println(w.Code, w.Header().Get("Cache-Control"), body["token_type"], body["scope"], body["error"])
		return body
	}
	tok := post(url.Values{"grant_type": {"password"}, "client_id": {"first-party-app"}, "username": {"alice"}, "password": {"correct horse battery staple"}, "scope": {"orders:read"}})
	post(url.Values{"grant_type": {"refresh_token"}, "client_id": {"first-party-app"}, "refresh_token": {tok["refresh_token"].(string)}})
	post(url.Values{"grant_type": {"refresh_token"}, "client_id": {"first-party-app"}, "refresh_token": {tok["refresh_token"].(string)}}) // replayed
	// Output:
	// 200 no-store Bearer orders:read <nil>
	// 200 no-store Bearer orders:read <nil>
	// 400 no-store <nil> <nil> invalid_grant
}

// ExampleRequireScopes_incorrect shows the classic misuse: the scope check
// wraps the authenticating middleware instead of being wrapped by it, so
// it runs before any identity is in the context and refuses every request
// with 401, valid token or not. Authenticate outside, authorize inside.
func ExampleRequireScopes_incorrect() {
	secret := []byte("an example secret of 32 bytes!!!")
	issuer, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: secret}, Issuer: "https://auth.example.com"})
	bearer, _ := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{issuer.VerificationKey()}, Issuer: "https://auth.example.com"})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

	wrong := auth.RequireScopes("orders:read")(bearer.Handler(handler))
	right := bearer.Handler(auth.RequireScopes("orders:read")(handler))

	at, _ := issuer.Issue(context.Background(), auth.Grant{Subject: "bob", Scopes: []string{"orders:read"}})
	for _, h := range []http.Handler{wrong, right} {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+at.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 401
	// 200
}

// ExampleJWT_Optional puts bearer tokens in a stack shared with public
// routes and sessions: a request without a token reaches the mux, whose
// guards decide; a request with a bad token is refused before it.
func ExampleJWT_Optional() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader) // in production: loaded from a secret store
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "2026-01", Algorithm: auth.AlgEdDSA, Key: priv},
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{issuer.VerificationKey()},
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
		Type:       auth.TypeAccessToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "public page")
	})
	mux.Handle("GET /orders", auth.RequireScopes("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintf(w, "orders of %s", id.Subject())
	})))
	h := bearer.Optional(mux)

	at, _ := issuer.Issue(context.Background(), auth.Grant{Subject: "alice", Scopes: []string{"orders:read"}})
	for _, c := range []struct{ path, authorization string }{
		{"/", ""},
		{"/orders", "Bearer " + at.Token},
		{"/orders", ""},
		{"/", "Bearer not-a-token"},
	} {
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.authorization != "" {
			r.Header.Set("Authorization", c.authorization)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(c.path, w.Code, strings.SplitN(w.Body.String(), "\n", 2)[0])
	}
	// Output:
	// / 200 public page
	// /orders 200 orders of alice
	// /orders 401 {"type":"about:blank","title":"Unauthorized","status":401}
	// / 401 {"type":"about:blank","title":"Unauthorized","status":401}
}

// ExampleJWTOptions_validateClaims accepts only the tokens of one tenant
// of a multi-tenant identity provider, from its tid claim: the check that
// go-jwt-middleware users write as CustomClaims.Validate. A token of
// another tenant is answered as any invalid token; the reason goes to the
// log only.
func ExampleJWTOptions_validateClaims() {
	secret := []byte("an example secret of 32 bytes!!!") // in production: the provider's keys, or JWKSURL
	errTenant := errors.New("token of another tenant")
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms:     []string{auth.AlgHS256},
		Keys:           []auth.Key{{Algorithm: auth.AlgHS256, Key: secret}},
		Issuer:         "https://login.example.com",
		Audience:       "https://api.example.com",
		IdentityClaims: []string{"tid"}, // every claim ValidateClaims reads
		ValidateClaims: func(_ context.Context, id identity.Identity) error {
			if tid, _ := id.Claim("tid"); tid != "acme" {
				return errTenant
			}
			return nil
		},
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			fmt.Println("log:", errors.Is(err, auth.ErrTokenClaims), errors.Is(err, errTenant))
			http.Error(w, "invalid token", http.StatusUnauthorized)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := bearer.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for _, tenant := range []string{"acme", "globex"} {
		// A token as the identity provider would issue it.
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "https://login.example.com", "aud": "https://api.example.com",
			"sub": "alice", "tid": tenant, "exp": time.Now().Add(time.Minute).Unix(),
		}).SignedString(secret)
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(tenant, w.Code)
	}
	// Output:
	// acme 200
	// log: true true
	// globex 401
}

// ExampleJWTOptions_rolesClaimPath reads the roles of a Keycloak access
// token: the realm's in realm_access.roles, a client's in
// resource_access.<client ID>.roles. Each element of the path is one
// member name, dots included.
func ExampleJWTOptions_rolesClaimPath() {
	secret := []byte("an example secret of 32 bytes!!!") // in production: JWKSURL, the realm's certs
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms:     []string{auth.AlgHS256},
		Keys:           []auth.Key{{Algorithm: auth.AlgHS256, Key: secret}},
		Issuer:         "https://sso.example.com/realms/acme",
		Audience:       "orders.api",
		RolesClaimPath: []string{"resource_access", "orders.api", "roles"},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := bearer.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Println(id.Subject(), id.Roles(), id.HasRole("offline_access"))
	}))

	// A token as Keycloak would issue it.
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://sso.example.com/realms/acme", "aud": "orders.api",
		"sub": "alice", "exp": time.Now().Add(time.Minute).Unix(),
		"realm_access": map[string]any{"roles": []string{"offline_access"}},
		"resource_access": map[string]any{
			"orders.api": map[string]any{"roles": []string{"orders-admin"}},
			"billing":    map[string]any{"roles": []string{"billing-admin"}},
		},
	}).SignedString(secret)
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	api.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// alice [orders-admin] false
}

// ExampleJWTOptions_audiences moves an API from one identifier to another
// without a flag day: while clients still hold tokens for the old
// identifier, the verifier accepts both (a token's aud must contain one of
// them), and a token for another service is refused with
// [auth.ErrTokenAudience], answered as any invalid token. The issuer
// stamps the aud of IssuerOptions.Audience, or of Grant.Audience; the
// verifier's list changes nothing in what it issues.
func ExampleJWTOptions_audiences() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader) // in production: loaded from a secret store
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "2026-01", Algorithm: auth.AlgEdDSA, Key: priv},
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://orders.example.com"}, // the new identifier
	})
	if err != nil {
		log.Fatal(err)
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{issuer.VerificationKey()},
		Issuer:     "https://auth.example.com",
		Audience:   "https://orders.example.com",
		Audiences:  []string{"https://api.example.com"}, // the old one, until its tokens expire
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			fmt.Println("log:", errors.Is(err, auth.ErrTokenAudience))
			w.WriteHeader(http.StatusUnauthorized)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := bearer.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for _, aud := range [][]string{
		nil,                             // IssuerOptions.Audience
		{"https://api.example.com"},     // a token minted before the move
		{"https://billing.example.com"}, // a token for another service
	} {
		at, _ := issuer.Issue(context.Background(), auth.Grant{Subject: "alice", Audience: aud})
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+at.Token)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(aud, w.Code)
	}
	// Output:
	// [] 200
	// [https://api.example.com] 200
	// log: true
	// [https://billing.example.com] 401
}

// ExampleGrant_claims issues a token with a claim of the application's
// own, a tenant, which the verifier copies into the identity; a claim
// that would grant a scope or a role is refused.
func ExampleGrant_claims() {
	secret := []byte("an example secret of 32 bytes!!!") // in production: 32 random bytes from a secret store
	issuer, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: secret}, Issuer: "https://auth.example.com"})
	bearer, _ := auth.NewJWT(auth.JWTOptions{
		Algorithms:     []string{auth.AlgHS256},
		Keys:           []auth.Key{issuer.VerificationKey()},
		Issuer:         "https://auth.example.com",
		IdentityClaims: []string{"tenant"},
	})

	at, err := issuer.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: map[string]any{"tenant": "acme"}})
	if err != nil {
		log.Fatal(err)
	}
	id, _ := bearer.Verify(context.Background(), at.Token)
	tenant, _ := id.Claim("tenant")
	fmt.Println(id.Subject(), tenant)

	_, err = issuer.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: map[string]any{"scp": "admin"}})
	fmt.Println(err)
	// Output:
	// alice acme
	// auth: Grant.Claims may not hold the claim "scp"
}

// ExampleAPIKey_Optional serves a route to a user's bearer token or a
// service's API key: JWT.Optional and APIKey.Optional each authenticate
// the requests that carry their credential and let the others through,
// and a guard (RequireScopes) refuses a request neither authenticated. A
// request with the credentials of two subjects is refused by the second
// layer as ambiguous (auth.ErrAmbiguousCredentials): neither principal
// wins.
func ExampleAPIKey_Optional() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader) // in production: loaded from a secret store
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "2026-01", Algorithm: auth.AlgEdDSA, Key: priv},
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{issuer.VerificationKey()},
		Issuer:     "https://auth.example.com",
		Audience:   "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	keys := auth.NewMemoryAPIKeys()
	k, err := auth.GenerateAPIKey("live")
	if err != nil {
		log.Fatal(err)
	}
	_ = keys.Add(k.ID, auth.StoredAPIKey{Hash: k.Hash, Identity: identity.Options{Subject: "billing-service", Scopes: []string{"orders:read"}}})
	apikey, err := auth.NewAPIKey(auth.APIKeyOptions{Keys: keys, Prefix: "live"}) // in X-API-Key, out of the bearer's way
	if err != nil {
		log.Fatal(err)
	}
	orders := auth.RequireScopes("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintf(w, "orders of %s (%s)", id.Subject(), id.Method())
	}))
	h := bearer.Optional(apikey.Optional(orders))

	at, _ := issuer.Issue(context.Background(), auth.Grant{Subject: "alice", Scopes: []string{"orders:read"}})
	for _, c := range []struct{ name, authorization, apiKey string }{
		{"token", "Bearer " + at.Token, ""},
		{"API key", "", k.Key},
		{"neither", "", ""},
		{"both", "Bearer " + at.Token, k.Key},
	} {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if c.authorization != "" {
			r.Header.Set("Authorization", c.authorization)
		}
		if c.apiKey != "" {
			r.Header.Set("X-API-Key", c.apiKey)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(c.name+":", w.Code, strings.SplitN(w.Body.String(), "\n", 2)[0])
	}
	// Output:
	// token: 200 orders of alice (bearer)
	// API key: 200 orders of billing-service (api_key)
	// neither: 401 {"type":"about:blank","title":"Unauthorized","status":401}
	// both: 401 {"type":"about:blank","title":"Unauthorized","status":401}
}
