package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// JWT.Revoke revokes a token that a verifier sharing the denylist accepts
// at some time, though the revoking one refuses it now for the time alone:
// one not valid yet by its clock (issued by an instance whose clock runs
// ahead, revoked as the client logs out at once) becomes valid everywhere
// seconds later, and one expired by its Leeway is still accepted by a
// verifier of a longer one, up to MaxLeeway. Both were refused with the
// reason, which the revocation endpoint answers 200, and lived on. A token
// that no verifier ever accepts (never valid, of another audience or
// issuer, without a subject) is still refused and denies nothing.
func TestJWTRevokeTokensRefusedForTheTimeAlone(t *testing.T) {
	k := keysOnce()
	ahead := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	tests := []struct {
		name   string
		claims map[string]any
		at     time.Time     // when the other verifier sees the token
		leeway time.Duration // the other verifier's
		want   error         // of Revoke; nil: revoked
	}{
		{name: "not valid yet: iat and nbf 30 s ahead",
			claims: with(goodClaims(), "jti", "ahead", "iat", ahead(30*time.Second), "nbf", ahead(30*time.Second)),
			at:     testNow.Add(time.Minute)},
		{name: "not valid yet: iat ahead, no nbf",
			claims: with(goodClaims(), "jti", "iat-ahead", "iat", ahead(30*time.Second), "nbf", nil),
			at:     testNow.Add(time.Minute)},
		{name: "expired a minute ago, within another verifier's leeway",
			claims: with(goodClaims(), "jti", "late", "exp", ahead(-time.Minute)),
			at:     testNow, leeway: auth.MaxLeeway},
		{name: "expired MaxLeeway ago",
			claims: with(goodClaims(), "jti", "gone", "exp", ahead(-auth.MaxLeeway)),
			want:   auth.ErrTokenExpired},
		{name: "never valid: nbf after exp and MaxLeeway",
			claims: with(goodClaims(), "jti", "never", "nbf", ahead(20*time.Minute), "exp", ahead(10*time.Minute)),
			want:   auth.ErrTokenNotYetValid},
		{name: "not valid yet, for another audience",
			claims: with(goodClaims(), "jti", "foreign-aud", "nbf", ahead(30*time.Second), "aud", "api://billing"),
			want:   auth.ErrTokenNotYetValid},
		{name: "expired, of another issuer",
			claims: with(goodClaims(), "jti", "foreign-iss", "exp", ahead(-time.Minute), "iss", "https://other.example"),
			want:   auth.ErrTokenExpired},
		{name: "not valid yet, without a subject",
			claims: with(goodClaims(), "jti", "no-sub", "nbf", ahead(30*time.Second), "sub", nil),
			want:   auth.ErrTokenNotYetValid},
		{name: "not valid yet, without a jti",
			claims: with(goodClaims(), "jti", nil, "nbf", ahead(30*time.Second)),
			want:   auth.ErrTokenNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dl := auth.NewMemoryDenylistWithClock(testClock)
			m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Denylist: dl})
			tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, tt.claims)
			err := m.Revoke(context.Background(), tok)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Errorf("Revoke: %v, want %v", err, tt.want)
				}
				if dl.Len() != 0 {
					t.Errorf("a token no verifier accepts reached the denylist")
				}
				return
			}
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			other, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}},
				Issuer: "https://issuer.example", Audience: "api://orders", Denylist: dl, Leeway: tt.leeway}, func() time.Time { return tt.at }))
			if err != nil {
				t.Fatal(err)
			}
			if w, _, reason := serve(other, bearer(tok)); w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenRevoked) {
				t.Errorf("another verifier at %v, leeway %v: %d %v; want 401 ErrTokenRevoked", tt.at.Sub(testNow), tt.leeway, w.Code, reason)
			}
		})
	}
}
