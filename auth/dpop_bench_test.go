package auth_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/clientip"
)

// BenchmarkDPoP measures a request with a DPoP-bound token from the
// verified-token cache and an ES256 proof, against its floor: the one
// ES256 verification of the proof's signature (golang-jwt's). The replay
// cache answers "first use" without storing, so that one proof serves
// every iteration. The nonces=hmac case adds an HMACNonces source and a
// proof carrying its current nonce; the origin cases compare htu with
// what a clientip.Resolver gives: its public origin, or the scheme a
// trusted proxy forwarded.
func BenchmarkDPoP(b *testing.B) {
	k := newECDPoPKey(b)
	tok := boundToken(b, k.jkt)
	proof := k.proof(b, proofClaims("GET", dpopURL, tok))
	nonces, err := auth.NewHMACNonces([]byte(strings.Repeat("k", auth.MinNonceKeyBytes)), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	nonce, _ := nonces.Nonce(context.Background())
	withNonce := proofClaims("GET", dpopURL, tok)
	withNonce["nonce"] = nonce
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	public := clientip.MustNew(clientip.Options{TrustedProxies: proxies, PublicOrigin: "https://api.example"})
	forwarded := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	for _, c := range []struct {
		name     string
		proof    string
		nonces   auth.NonceSource
		clientIP *clientip.Resolver
	}{
		{"impl=httpguard", proof, nil, nil},
		{"impl=httpguard/nonces=hmac", k.proof(b, withNonce), nonces, nil}, // a proof with the current nonce
		{"impl=httpguard/origin=public", proof, nil, public},
		{"impl=httpguard/origin=forwarded", proof, nil, forwarded},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := newDPoPJWT(b, auth.DPoPOptions{Nonces: c.nonces, ClientIP: c.clientIP, Replay: replayFunc(func(context.Context, string, time.Time) (bool, error) { return false, nil })},
				func(o *auth.JWTOptions) { o.CacheSize = 16 })
			r := dpopRequest("GET", dpopURL, tok, c.proof)
			if c.clientIP != nil { // behind a proxy, over plain HTTP
				r = dpopRequest("GET", "http://api.example/orders", tok, c.proof)
				r.RemoteAddr = "10.0.0.2:4711"
				r.Header.Set("X-Forwarded-Proto", "https")
			}
			if w, _, err := serve(m, r); w.Code != http.StatusOK {
				b.Fatalf("status %d %v", w.Code, err)
			}
			h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
	b.Run("impl=floor", func(b *testing.B) {
		i := strings.LastIndexByte(proof, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(proof[i+1:])
		pub := &k.priv.(*ecdsa.PrivateKey).PublicKey
		b.ReportAllocs()
		for b.Loop() {
			if err := jwt.SigningMethodES256.Verify(proof[:i], sig, pub); err != nil {
				b.Fatal(err)
			}
		}
	})
}
