package auth_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// MIGRATING.md, echojwt: an HMAC secret of at least 32 bytes for HS256,
// 48 for HS384 and 64 for HS512.
func TestHMACSecretLengthPerAlgorithm(t *testing.T) {
	for _, tt := range []struct {
		alg string
		min int
	}{{"HS256", 32}, {"HS384", 48}, {"HS512", 64}} {
		short := bytes.Repeat([]byte{7}, tt.min-1)
		if _, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{tt.alg}, Keys: []auth.Key{{Key: short}}, Audience: "api://orders"}); err == nil {
			t.Errorf("%s with a %d-byte secret: NewJWT accepted it", tt.alg, tt.min-1)
		}
		if _, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{tt.alg}, Keys: []auth.Key{{Key: bytes.Repeat([]byte{7}, tt.min)}}, Audience: "api://orders"}); err != nil {
			t.Errorf("%s with a %d-byte secret: %v", tt.alg, tt.min, err)
		}
	}
}

// The request rows MIGRATING.md states for auth.JWT's Handler: each
// refusal's status and challenge, and that the handler never runs.
func TestJWTMigratingRequestRows(t *testing.T) {
	k := keysOnce()
	secret := bytes.Repeat(k.hmac, 2) // 64 bytes: HS384 and HS512 can sign with it too
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: secret}}, CookieName: "jwt"})
	tok := sign(t, jwt.SigningMethodHS256, secret, nil, goodClaims())
	const invalid = `Bearer realm="api", error="invalid_token", error_description="The access token is invalid"`
	const none = `Bearer realm="api"`
	req := func(method string, headers ...string) *http.Request {
		r := httptest.NewRequest(method, "/orders", nil)
		for i := 0; i < len(headers); i += 2 {
			r.Header.Add(headers[i], headers[i+1])
		}
		return r
	}
	for _, tt := range []struct {
		name      string
		r         *http.Request
		challenge string
	}{
		{"the same secret under HS384", req("GET", "Authorization", "Bearer "+sign(t, jwt.SigningMethodHS384, secret, nil, goodClaims())), invalid},
		{"the same secret under HS512", req("GET", "Authorization", "Bearer "+sign(t, jwt.SigningMethodHS512, secret, nil, goodClaims())), invalid},
		{"two Authorization headers, both with the valid token", req("GET", "Authorization", "Bearer "+tok, "Authorization", "Bearer "+tok), invalid},
		{"a valid token in the header and in the cookie", req("GET", "Authorization", "Bearer "+tok, "Cookie", "jwt="+tok), invalid},
		{"an OPTIONS request without a token", req("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET"), none},
		{"a token in the query string, not enabled", httptest.NewRequest("GET", "/orders?access_token="+tok, nil), none},
		{"a token in a query parameter of another name, enabled or not", httptest.NewRequest("GET", "/orders?jwt="+tok, nil), none},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, id, reason := serve(m, tt.r)
			if w.Code != http.StatusUnauthorized || id.Subject() != "" {
				t.Fatalf("status %d, identity %v (reason %v); want 401 before the handler", w.Code, id, reason)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q, want a problem document", w.Header().Get("Content-Type"))
			}
		})
	}
	// With the query token enabled, access_token is the only name read.
	q := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: secret}}, DangerouslyAllowQueryToken: true})
	if w, _, reason := serve(q, httptest.NewRequest("GET", "/orders?jwt="+tok, nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("a token in ?jwt= with DangerouslyAllowQueryToken: %d (%v), want 401", w.Code, reason)
	}
	if w, _, reason := serve(q, httptest.NewRequest("GET", "/orders?access_token="+tok, nil)); w.Code != http.StatusOK {
		t.Errorf("a token in ?access_token= with DangerouslyAllowQueryToken: %d (%v), want 200", w.Code, reason)
	}
}

// MIGRATING.md, echojwt: an OnReject that writes nothing answers 200 with
// an empty body, the handler not run.
func TestJWTOnRejectThatWritesNothing(t *testing.T) {
	k := keysOnce()
	var got error
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}},
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) { got = err }})
	for _, r := range []*http.Request{httptest.NewRequest("GET", "/orders", nil), bearer("not.a.token")} {
		got = nil
		w, id, _ := serve(m, r)
		if w.Code != http.StatusOK || w.Body.Len() != 0 || id.Subject() != "" {
			t.Errorf("status %d, body %q, identity %v; want 200, empty, the handler not run", w.Code, w.Body, id)
		}
		if !errors.Is(got, auth.ErrNoCredentials) && !errors.Is(got, auth.ErrInvalidToken) {
			t.Errorf("OnReject got %v", got)
		}
		if strings.Contains(w.Body.String(), "ok") {
			t.Error("the handler ran")
		}
	}
}

// MIGRATING.md, go-jwt-middleware's caching provider: with the zero
// JWKSOptions the set is refreshed every hour, not sooner.
func TestJWKSDefaultRefreshIntervalIsAnHour(t *testing.T) {
	k := keysOnce()
	js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
	clock := &fakeClock{now: testNow}
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
		Algorithms: []string{"EdDSA"},
		Audience:   "api://orders",
		JWKSURL:    js.srv.URL + "/jwks.json",
		JWKS:       auth.JWKSOptions{HTTPClient: js.srv.Client()},
	}, clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, with(goodClaims(), "exp", testNow.Add(24*time.Hour).Unix()))
	wait := func(want int32) int32 {
		deadline := time.Now().Add(5 * time.Second)
		for js.fetches.Load() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		return js.fetches.Load()
	}
	serve(m, bearer(tok))
	clock.Add(59 * time.Minute)
	for range 5 {
		if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
			t.Fatalf("at 59 minutes: %d %v", w.Code, reason)
		}
	}
	time.Sleep(200 * time.Millisecond) // a background refresh, if one were started
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within the hour, want 1", n)
	}
	clock.Add(2 * time.Minute)
	for range 5 {
		if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
			t.Fatalf("at 61 minutes: %d %v", w.Code, reason)
		}
	}
	if n := wait(2); n != 2 {
		t.Fatalf("%d fetches after the hour, want 2", n)
	}
}
