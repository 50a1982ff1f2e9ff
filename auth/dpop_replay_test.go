package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// replayFunc is a ReplayCache made of a function.
type replayFunc func(ctx context.Context, key string, until time.Time) (bool, error)

func (f replayFunc) Use(ctx context.Context, key string, until time.Time) (bool, error) {
	return f(ctx, key, until)
}

// DPoPOptions.Replay is the cache asked, once per proof that passed every
// other check, with a key naming the proof's key and jti, until the proof
// can no longer be used (iat, MaxAge and the JWT's Leeway); its failure
// refuses the request with 503, never admits it.
func TestDPoPReplayCacheIsConsulted(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	var keys []string
	var untils []time.Time
	var fail error
	cache := replayFunc(func(_ context.Context, key string, until time.Time) (bool, error) {
		keys, untils = append(keys, key), append(untils, until)
		return false, fail
	})
	m := newDPoPJWT(t, auth.DPoPOptions{Replay: cache, MaxAge: 30 * time.Second}, func(o *auth.JWTOptions) { o.Leeway = 5 * time.Second })
	c := proofClaims("GET", dpopURL, tok)
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, c))); w.Code != http.StatusOK {
		t.Fatalf("%d %v", w.Code, err)
	}
	if len(keys) != 1 || !strings.Contains(keys[0], k.jkt) || !strings.Contains(keys[0], c["jti"].(string)) ||
		!untils[0].Equal(testNow.Add(35*time.Second)) {
		t.Fatalf("Use(%q, %v); want one call naming the key and jti, until iat+35s", keys, untils)
	}
	// A proof refused for another reason is never recorded.
	serve(m, dpopRequest("POST", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
	if len(keys) != 1 {
		t.Errorf("a refused proof was recorded: %q", keys)
	}
	fail = errors.New("redis down")
	w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
	if w.Code != http.StatusServiceUnavailable || !errors.Is(err, auth.ErrUnavailable) || w.Header().Get("Retry-After") == "" {
		t.Errorf("cache down: %d %v; want 503 with Retry-After", w.Code, err)
	}
}

// A DPoP token that lacks a scope is answered in the DPoP scheme
// (RFC 9449 §7.1), a bearer token in the Bearer scheme.
func TestInsufficientScopeInTheSchemeOfTheToken(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	m := newDPoPJWT(t, auth.DPoPOptions{})
	h := m.Handler(auth.RequireScopes("orders:delete")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	for _, tt := range []struct {
		r    *http.Request
		want string
	}{
		{dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))), "DPoP "},
		{bearer(sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, goodClaims())), "Bearer "},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.r)
		if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusForbidden || !strings.HasPrefix(got, tt.want+`realm="api", error="insufficient_scope"`) {
			t.Errorf("%d, WWW-Authenticate %q; want 403 in the %sscheme", w.Code, got, tt.want)
		}
	}
}
