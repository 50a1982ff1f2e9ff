package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

type benchCase struct {
	alg    string
	method jwt.SigningMethod
	sign   any
	verify any
}

func benchCases() []benchCase {
	k := keysOnce()
	return []benchCase{
		{"HS256", jwt.SigningMethodHS256, k.hmac, k.hmac},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, k.ed.Public()},
		{"ES256", jwt.SigningMethodES256, k.ec, &k.ec.PublicKey},
		{"RS256", jwt.SigningMethodRS256, k.rsa, &k.rsa.PublicKey},
	}
}

// benchClaims are realistic access-token claims valid at the real time.
func benchClaims() map[string]any {
	now := time.Now()
	return with(goodClaims(), "exp", now.Add(time.Hour).Unix(), "iat", now.Add(-time.Minute).Unix(), "nbf", now.Add(-time.Minute).Unix())
}

var sink any

// BenchmarkJWT compares, per algorithm, the whole middleware (extraction,
// header scan, verification, typed claims, identity, context) with
// golang-jwt's ParseWithClaims into MapClaims alone (the floor the
// middleware must not be slower than) and with the bare signature check.
func BenchmarkJWT(b *testing.B) {
	for _, bc := range benchCases() {
		tok := sign(b, bc.method, bc.sign, map[string]any{"kid": "k1"}, benchClaims())
		opts := auth.JWTOptions{Algorithms: []string{bc.alg}, Keys: []auth.Key{{ID: "k1", Key: bc.verify}}, Issuer: "https://issuer.example", Audience: "api://orders"}
		m, err := auth.NewJWT(opts)
		if err != nil {
			b.Fatal(err)
		}
		opts.CacheSize = 1024
		cached, _ := auth.NewJWT(opts)
		h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		hc := cached.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		req := bearer(tok)
		w := httptest.NewRecorder()
		b.Run("alg="+bc.alg+"/impl=middleware", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
		b.Run("alg="+bc.alg+"/impl=middleware-cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				hc.ServeHTTP(w, req)
			}
		})
		parser := jwt.NewParser(jwt.WithValidMethods([]string{bc.alg}), jwt.WithExpirationRequired(), jwt.WithIssuer("https://issuer.example"), jwt.WithAudience("api://orders"))
		keyfunc := func(*jwt.Token) (any, error) { return bc.verify, nil }
		b.Run("alg="+bc.alg+"/impl=parse-floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := parser.ParseWithClaims(tok, jwt.MapClaims{}, keyfunc)
				if err != nil {
					b.Fatal(err)
				}
				sink = t
			}
		})
		i := strings.LastIndexByte(tok, '.')
		signing, sig := tok[:i], tok[i+1:]
		sigBytes, _ := jwt.NewParser().DecodeSegment(sig)
		b.Run("alg="+bc.alg+"/impl=signature-only", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.alg == "HS256" {
					mac := hmac.New(sha256.New, bc.verify.([]byte))
					mac.Write([]byte(signing))
					sink = mac.Sum(nil)
					continue
				}
				if err := bc.method.Verify(signing, sigBytes, bc.verify); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJWTAudiences measures the middleware with one accepted
// audience and with three, for a token naming the last of them, and a
// token whose aud array names none of three (refused after its signature
// is checked). The response writer allocates nothing itself.
func BenchmarkJWTAudiences(b *testing.B) {
	k := keysOnce()
	for _, bc := range []struct {
		name      string
		audiences []string
		aud       any
	}{
		{"audiences=1", nil, "api://orders"},
		{"audiences=3/match=last", []string{"api://orders-v2", "api://orders-v3"}, "api://orders-v3"},
		{"audiences=3/match=none", []string{"api://orders-v2", "api://orders-v3"}, []string{"api://billing", "api://orders-v4"}},
	} {
		m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}},
			Issuer: "https://issuer.example", Audience: "api://orders", Audiences: bc.audiences})
		if err != nil {
			b.Fatal(err)
		}
		h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		req := bearer(sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "aud", bc.aud)))
		w := &discardWriter{h: http.Header{}}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkJWTRejected measures the rejection paths an attacker can drive.
func BenchmarkJWTRejected(b *testing.B) {
	k := keysOnce()
	m := newJWTForBench(b)
	good := sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, benchClaims())
	cases := map[string]string{
		"missing":          "",
		"huge-1MB":         strings.Repeat("a", 1<<20),
		"max-size-garbage": strings.Repeat("a", auth.DefaultMaxTokenBytes-10) + ".b.c",
		"alg-none":         seg(map[string]any{"alg": "none"}) + "." + strings.Split(good, ".")[1] + ".",
		"bad-signature":    good[:len(good)-4] + "AAAA",
		"unknown-kid":      sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "nope"}, benchClaims()),
		"many-claims":      sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, manyClaims(60)),
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for name, tok := range cases {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		b.Run("case="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
			}
		})
	}
}

func manyClaims(n int) map[string]any {
	c := benchClaims()
	for i := range n {
		c["c"+strings.Repeat("x", i%7)+string(rune('A'+i%26))+string(rune('a'+i/26))] = strings.Repeat("v", 20)
	}
	return c
}

func newJWTForBench(b testing.TB) *auth.JWT {
	k := keysOnce()
	m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, Issuer: "https://issuer.example", Audience: "api://orders"})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkJWTVerifyParallel(b *testing.B) {
	k := keysOnce()
	m := newJWTForBench(b)
	tok := sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, benchClaims())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkJWTIdentityClaims measures the middleware with
// JWTOptions.IdentityClaims set, whose claims are decoded into a map for
// every token (HS256, so that the decoding is a visible part).
func BenchmarkJWTIdentityClaims(b *testing.B) {
	k := keysOnce()
	m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}},
		Issuer: "https://issuer.example", Audience: "api://orders", IdentityClaims: []string{"tenant", "uid"}})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := bearer(sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "tenant", "acme", "uid", 1234567)))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
