package auth_test

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// The key set is only ever taken from an https response, whatever client
// fetches it: a JWKSOptions.HTTPClient of the caller's (needed for a
// private CA, a proxy or mutual TLS) follows redirects with net/http's
// default policy, to http URLs too, where anyone on the path can replace
// the keys.
func TestJWKSRedirectToHTTPRefusedWithACustomClient(t *testing.T) {
	k := keysOnce()
	doc := jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA"))
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(doc)
	}))
	t.Cleanup(plain.Close)
	for _, tt := range []struct {
		name   string
		target string
		want   int
	}{
		{"a redirect to http", plain.URL + "/jwks.json", http.StatusServiceUnavailable},
		{"a redirect to https", "/direct", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/direct" {
					w.Write(doc)
					return
				}
				http.Redirect(w, r, tt.target, http.StatusFound)
			}))
			t.Cleanup(tls.Close)
			m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
				Algorithms: []string{auth.AlgEdDSA},
				Audience:   "api://orders",
				JWKSURL:    tls.URL + "/jwks.json",
				JWKS:       auth.JWKSOptions{HTTPClient: tls.Client(), Timeout: time.Second},
			}, testClock))
			if err != nil {
				t.Fatal(err)
			}
			tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, goodClaims())
			w, _, reason := serve(m, bearer(tok))
			if w.Code != tt.want {
				t.Fatalf("%d %v, want %d", w.Code, reason, tt.want)
			}
			if tt.want == http.StatusServiceUnavailable && !errors.Is(reason, auth.ErrKeySetUnavailable) {
				t.Fatalf("reason %v, want ErrKeySetUnavailable", reason)
			}
		})
	}
}
