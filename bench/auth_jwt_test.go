package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/go-chi/jwtauth/v5"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/httpguard/httpguard/auth"
)

// Every implementation verifies the same token with the same checks:
// signature with one configured key, algorithm pinned, exp, iss and aud.
// httpguard additionally scans the header for duplicates and crit, checks
// typ, and builds an identity with roles and scopes in the context.

const (
	jwtIssuer   = "https://issuer.example"
	jwtAudience = "api://orders"
)

type jwtAlg struct {
	name   string
	sign   any // signing key for auth.Issuer
	verify any // verification key
}

func jwtAlgs(b *testing.B) []jwtAlg {
	secret := []byte("0123456789abcdef0123456789abcdef")
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	return []jwtAlg{
		{"HS256", secret, secret},
		{"EdDSA", ed, ed.Public()},
		{"ES256", ec, &ec.PublicKey},
		{"RS256", rk, &rk.PublicKey},
	}
}

func jwtToken(b *testing.B, a jwtAlg) string {
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k1", Algorithm: a.name, Key: a.sign}, Issuer: jwtIssuer, Audience: []string{jwtAudience}, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"orders:read", "orders:write"}})
	if err != nil {
		b.Fatal(err)
	}
	return at.Token
}

// BenchmarkAuthJWT verifies a valid bearer token per algorithm.
func BenchmarkAuthJWT(b *testing.B) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, a := range jwtAlgs(b) {
		tok := jwtToken(b, a)
		req, _ := http.NewRequest(http.MethodGet, "/orders", nil)
		req.Header.Set("Authorization", "Bearer "+tok)

		hg, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{a.name}, Keys: []auth.Key{{ID: "k1", Key: a.verify}}, Issuer: jwtIssuer, Audience: jwtAudience, Type: auth.TypeAccessToken})
		if err != nil {
			b.Fatal(err)
		}
		hgCached, _ := auth.NewJWT(auth.JWTOptions{Algorithms: []string{a.name}, Keys: []auth.Key{{ID: "k1", Key: a.verify}}, Issuer: jwtIssuer, Audience: jwtAudience, Type: auth.TypeAccessToken, CacheSize: 1024})

		verifyKey := a.verify
		v, err := validator.New(func(context.Context) (any, error) { return verifyKey, nil }, validator.SignatureAlgorithm(a.name), jwtIssuer, []string{jwtAudience})
		if err != nil {
			b.Fatal(err)
		}
		auth0 := jwtmiddleware.New(v.ValidateToken).CheckJWT(ok)

		ja := jwtauth.New(a.name, nil, a.verify, jwt.WithIssuer(jwtIssuer), jwt.WithAudience(jwtAudience))
		chi := jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(ok))

		for _, impl := range []struct {
			name string
			h    http.Handler
		}{
			{"httpguard", hg.Handler(ok)},
			{"httpguard-cached", hgCached.Handler(ok)},
			{"go-jwt-middleware", auth0},
			{"jwtauth", chi},
		} {
			b.Run("alg="+a.name+"/impl="+impl.name, func(b *testing.B) {
				serveBasic(b, impl.h, req, http.StatusOK) // checks the status, then loops
			})
		}
	}
}

// BenchmarkAuthJWTRejected sends an oversized token (64 KiB) and a token
// with a forged signature.
func BenchmarkAuthJWTRejected(b *testing.B) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	a := jwtAlgs(b)[0]
	tok := jwtToken(b, a)
	hg, _ := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: a.verify}}, Issuer: jwtIssuer, Audience: jwtAudience})
	v, _ := validator.New(func(context.Context) (any, error) { return a.verify, nil }, validator.HS256, jwtIssuer, []string{jwtAudience})
	auth0 := jwtmiddleware.New(v.ValidateToken).CheckJWT(ok)
	ja := jwtauth.New("HS256", nil, a.verify, jwt.WithIssuer(jwtIssuer), jwt.WithAudience(jwtAudience))
	chi := jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(ok))
	for _, c := range []struct{ name, tok string }{
		{"huge", strings.Repeat("a", 32<<10) + "." + strings.Repeat("b", 32<<10) + ".c"},
		{"forged", tok[:len(tok)-4] + "AAAA"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "/orders", nil)
		req.Header.Set("Authorization", "Bearer "+c.tok)
		for _, impl := range []struct {
			name string
			h    http.Handler
		}{{"httpguard", hg.Handler(ok)}, {"go-jwt-middleware", auth0}, {"jwtauth", chi}} {
			b.Run("case="+c.name+"/impl="+impl.name, func(b *testing.B) {
				serveBasic(b, impl.h, req, http.StatusUnauthorized)
			})
		}
	}
}
