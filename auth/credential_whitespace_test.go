package auth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// White space around credentials. RFC 6750 §2.1 writes a bearer
// credential "Bearer" 1*SP b64token, and RFC 7617 a Basic one "Basic" 1*SP
// token68: spaces separate the scheme from the credential, nothing else
// does, and nothing follows it. A tab or a no-break space after the
// scheme makes another scheme, no bearer token at all (which Optional
// lets through as anonymous, and Handler answers without an error code);
// white space after the credential makes it malformed, never a credential
// the verifier trims into a valid one.
func TestCredentialWhitespace(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	bearerTests := []struct {
		name   string
		value  string
		status int
		reason error
	}{
		{"several spaces after the scheme", "Bearer   " + tok, 200, nil},
		{"a tab after the scheme", "Bearer\t" + tok, 401, auth.ErrNoCredentials},
		{"a no-break space after the scheme", "Bearer\u00a0" + tok, 401, auth.ErrNoCredentials},
		{"a space after the token", "Bearer " + tok + " ", 401, auth.ErrTokenMalformed},
		{"a tab after the token", "Bearer " + tok + "\t", 401, auth.ErrTokenMalformed},
		{"a space inside the token", "Bearer " + tok[:10] + " " + tok[10:], 401, auth.ErrTokenMalformed},
		{"a second bearer credential after a comma", "Bearer " + tok + ", Bearer " + tok, 401, auth.ErrTokenMalformed},
	}
	for _, tt := range bearerTests {
		t.Run("JWT: "+tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/orders", nil)
			r.Header.Set("Authorization", tt.value)
			w, id, reason := serve(m, r)
			if w.Code != tt.status {
				t.Fatalf("status %d (%v), want %d", w.Code, reason, tt.status)
			}
			if tt.status == http.StatusOK {
				if id.Subject() != "alice" {
					t.Errorf("subject %q", id.Subject())
				}
				return
			}
			if !errors.Is(reason, tt.reason) {
				t.Errorf("reason %v, want %v", reason, tt.reason)
			}
		})
	}

	f := newOAuth(t, nil)
	creds := base64.StdEncoding.EncodeToString([]byte("cli:cli-secret"))
	basicTests := []struct {
		name   string
		value  string
		status int
	}{
		{"several spaces after the scheme", "Basic   " + creds, 200},
		{"a tab after the scheme", "Basic\t" + creds, 401},
		{"a space after the credentials", "Basic " + creds + " ", 401},
		{"a tab after the credentials", "Basic " + creds + "\t", 401},
		{"a space inside the credentials", "Basic " + creds[:8] + " " + creds[8:], 401},
	}
	for _, tt := range basicTests {
		t.Run("token endpoint Basic: "+tt.name, func(t *testing.T) {
			res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse"), func(r *http.Request) {
				r.Header.Set("Authorization", tt.value)
			})
			if res.status != tt.status {
				t.Fatalf("status %d %s (%v), want %d", res.status, res.raw, res.reason, tt.status)
			}
			if tt.status != http.StatusOK && (res.str("error") != "invalid_client" || !errors.Is(res.reason, auth.ErrMalformedCredentials)) {
				t.Errorf("%s (%v), want invalid_client for malformed credentials", res.raw, res.reason)
			}
		})
	}
}
