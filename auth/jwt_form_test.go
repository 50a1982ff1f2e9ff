package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// A token's form (at most MaxTokenBytes, RFC 6750's b64token alphabet) is
// checked before any decoding on every way in: a request, Verify and
// Revoke. A token of exactly MaxTokenBytes is accepted; one byte more is
// ErrTokenTooLarge, even when it is validly signed. A byte outside the
// alphabet is ErrTokenMalformed, a newline included, which a base64
// decoder would skip: a copy of a token with one in its signature would
// otherwise verify as the token.
func TestJWTTokenFormIsCheckedOnEveryWayIn(t *testing.T) {
	k := keysOnce()
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(goodClaims(), "jti", "form-1", "exp", 4102444800))
	withNewline := tok[:len(tok)-5] + "\n" + tok[len(tok)-5:]
	for _, tt := range []struct {
		name     string
		maxBytes int
		token    string
		want     error
	}{
		{"a token of exactly MaxTokenBytes", len(tok), tok, nil},
		{"a token one byte over MaxTokenBytes", len(tok) - 1, tok, auth.ErrTokenTooLarge},
		{"a newline in the signature", 8 << 10, withNewline, auth.ErrTokenMalformed},
	} {
		m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}},
			MaxTokenBytes: tt.maxBytes, Denylist: auth.NewMemoryDenylist(), DangerouslyAllowQueryToken: true})
		t.Run(tt.name+"/Verify", func(t *testing.T) {
			if _, err := m.Verify(context.Background(), tt.token); !errors.Is(err, tt.want) && err != tt.want {
				t.Errorf("Verify = %v; want %v", err, tt.want)
			}
		})
		t.Run(tt.name+"/request", func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/orders?access_token="+url.QueryEscape(tt.token), nil)
			w, id, reason := serve(m, r)
			switch {
			case tt.want == nil && (w.Code != http.StatusOK || id.Subject() != "alice"):
				t.Errorf("%d %q as %q; want 200 as alice", w.Code, w.Body.String(), id.Subject())
			case tt.want != nil && (w.Code != http.StatusUnauthorized || !errors.Is(reason, tt.want)):
				t.Errorf("%d for %v; want 401 for %v", w.Code, reason, tt.want)
			}
		})
		// Last: a revocation that succeeds ends the token.
		t.Run(tt.name+"/Revoke", func(t *testing.T) {
			if err := m.Revoke(context.Background(), tt.token); !errors.Is(err, tt.want) && err != tt.want {
				t.Errorf("Revoke = %v; want %v", err, tt.want)
			}
		})
	}
}

// Revoking a token that is already revoked succeeds, as documented: a
// second logout with the same token, or a retry of one whose answer was
// lost, is not an error. The token stays revoked.
func TestJWTRevokeOfARevokedTokenSucceeds(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, Denylist: auth.NewMemoryDenylist()})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(goodClaims(), "jti", "twice-1", "exp", 4102444800))
	for i := range 2 {
		if err := m.Revoke(context.Background(), tok); err != nil {
			t.Fatalf("Revoke #%d = %v; want nil", i+1, err)
		}
	}
	if _, err := m.Verify(context.Background(), tok); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("Verify after two revocations = %v; want ErrTokenRevoked", err)
	}
}
