package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/identity"
)

// TestOAuth2Interop drives httpguard's token endpoint and bearer
// middleware with golang.org/x/oauth2, a real OAuth2 client: the password
// grant, a protected call with oauth2.Client, a refresh when the access
// token expires, and the RFC 6749 error on a wrong password. It lives in
// the bench module so that x/oauth2 never enters the main module.
func TestOAuth2Interop(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	issuer, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k1", Algorithm: auth.AlgEdDSA, Key: priv}, Issuer: "https://issuer.example", Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.MustNew(password.Options{Params: password.Params{Memory: 64, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	userHash, _ := hasher.Hash("correct horse")
	secretHash, _ := hasher.Hash("s3cret/+&=")
	users := auth.NewMemoryUsers()
	if err := users.Add("alice", auth.User{Hash: userHash, Identity: identity.Options{Scopes: []string{"orders:read", "orders:write"}}}); err != nil {
		t.Fatal(err)
	}
	endpoint, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer: issuer, Users: users, Hasher: hasher,
		Clients: []auth.Client{
			{ID: "cli", SecretHash: secretHash, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read", "orders:write"}},
			{ID: "public-app", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{issuer.VerificationKey()}, Issuer: "https://issuer.example", Audience: "api", Type: auth.TypeAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /token", endpoint)
	mux.Handle("GET /orders", bearer.Handler(auth.RequireScopes("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		io.WriteString(w, id.Subject())
	}))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tt := range []struct {
		name  string
		cfg   oauth2.Config
		scope string
	}{
		{"a confidential client with the secret in the Authorization header", oauth2.Config{ClientID: "cli", ClientSecret: "s3cret/+&=", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}, Scopes: []string{"orders:read"}}, "orders:read"},
		{"a confidential client with the secret in the form", oauth2.Config{ClientID: "cli", ClientSecret: "s3cret/+&=", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}}, "orders:read orders:write"},
		{"a public client with automatic detection", oauth2.Config{ClientID: "public-app", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token"}}, "orders:read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
			tok, err := tt.cfg.PasswordCredentialsToken(ctx, "alice", "correct horse")
			if err != nil {
				t.Fatalf("PasswordCredentialsToken: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Expiry.IsZero() || tok.Extra("scope") != tt.scope {
				t.Fatalf("token %+v scope %v", tok, tok.Extra("scope"))
			}
			get := func(c *http.Client) (int, string) {
				resp, err := c.Get(srv.URL + "/orders")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			if code, body := get(tt.cfg.Client(ctx, tok)); code != 200 || body != "alice" {
				t.Fatalf("protected call: %d %q", code, body)
			}
			// Pretend the access token expired: oauth2 refreshes it with
			// the refresh_token grant and retries with the new one.
			stale := *tok
			stale.Expiry = time.Now().Add(-time.Minute)
			src := tt.cfg.TokenSource(ctx, &stale)
			if code, body := get(oauth2.NewClient(ctx, src)); code != 200 || body != "alice" {
				t.Fatalf("call after refresh: %d %q", code, body)
			}
			fresh, err := src.Token()
			if err != nil {
				t.Fatal(err)
			}
			if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
				t.Fatalf("tokens not rotated")
			}
			// The spent refresh token is refused with invalid_grant.
			_, err = tt.cfg.TokenSource(ctx, &stale).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
				t.Fatalf("replayed refresh token: %v", err)
			}
		})
	}

	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	cfg := oauth2.Config{ClientID: "cli", ClientSecret: "s3cret/+&=", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	_, err = cfg.PasswordCredentialsToken(ctx, "alice", "wrong")
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
		t.Fatalf("wrong password: %v", err)
	}
	cfg.ClientSecret = "wrong"
	_, err = cfg.PasswordCredentialsToken(ctx, "alice", "correct horse")
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Fatalf("wrong client secret: %v", err)
	}
}
