package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/httpguard/httpguard/auth"
)

// ExampleResourceMetadata publishes an API's protected resource metadata
// (RFC 9728) and its authorization server's metadata (RFC 8414), so that
// a client refused for want of a token finds, from the 401 alone, the
// metadata of the API, then the authorization server, then its token
// endpoint.
func ExampleResourceMetadata() {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:    auth.Key{Algorithm: auth.AlgEdDSA, Key: key},
		Issuer: "https://example.com", Audience: []string{"https://example.com/api"}})
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{Issuer: issuer, Users: auth.NewMemoryUsers(),
		Clients: []auth.Client{{ID: "my-app", Public: true,
			Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"reports:read"}}}})
	if err != nil {
		log.Fatal(err)
	}
	server, err := auth.NewServerMetadata(auth.ServerMetadataOptions{TokenEndpoint: tokens,
		TokenEndpointURL: "https://example.com/token", JWKSURI: "https://example.com/jwks.json"})
	if err != nil {
		log.Fatal(err)
	}

	// The JWT is built first, with the URL of the metadata that will
	// describe it.
	const resource = "https://example.com/api"
	metaURL, err := auth.ResourceMetadataURL(resource)
	if err != nil {
		log.Fatal(err)
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{issuer.VerificationKey()},
		Issuer: "https://example.com", Audience: resource, Type: auth.TypeAccessToken,
		ResourceMetadata: metaURL})
	if err != nil {
		log.Fatal(err)
	}
	api, err := auth.NewResourceMetadata(auth.ResourceMetadataOptions{Resource: resource,
		AuthorizationServers: []string{"https://example.com"}, ScopesSupported: []string{"reports:read"},
		ResourceName: "Reports API", JWT: bearer})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET "+api.Path(), api)
	mux.Handle("GET "+server.Path(), server)
	mux.Handle("POST /token", tokens)
	mux.Handle("GET /jwks.json", issuer.JWKSHandler())
	mux.Handle("/api/", bearer.Handler(auth.RequireScopes("reports:read")(http.NotFoundHandler())))

	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "https://example.com"+path, nil))
		return w
	}
	w := get("/api/reports")
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	fmt.Println(get("/.well-known/oauth-protected-resource/api").Body)
	fmt.Println(get("/.well-known/oauth-authorization-server").Body)
	// Output:
	// 401 Bearer realm="api", resource_metadata="https://example.com/.well-known/oauth-protected-resource/api"
	// {"resource":"https://example.com/api","authorization_servers":["https://example.com"],"scopes_supported":["reports:read"],"bearer_methods_supported":["header"],"resource_name":"Reports API"}
	// {"issuer":"https://example.com","token_endpoint":"https://example.com/token","jwks_uri":"https://example.com/jwks.json","scopes_supported":["reports:read"],"response_types_supported":[],"grant_types_supported":["password","refresh_token"],"token_endpoint_auth_methods_supported":["none"]}
}
