package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The verified-token cache keeps a token only once its aud matched one of
// the accepted values: a token of none of them never gets an entry, so no
// later request can be answered from one.
func TestJWTCacheHoldsOnlyAcceptedAudiences(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := NewJWT(JWTOptions{Algorithms: []string{AlgHS256}, Keys: []Key{{Key: secret}},
		Audience: "api://orders", Audiences: []string{"api://orders-v2", "api://orders-v3"},
		CacheSize: 8, now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.c.auds, []string{"api://orders", "api://orders-v2", "api://orders-v3"}; !slices.Equal(got, want) {
		t.Fatalf("accepted audiences %q, want %q", got, want)
	}
	for _, tc := range []struct {
		aud    any
		cached bool
	}{
		{"api://orders", true},
		{"api://orders-v3", true},
		{[]string{"api://billing", "api://orders-v2"}, true},
		{"api://billing", false},
		{[]string{"api://billing", "api://orders-v4"}, false},
		{[]string{}, false},
	} {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "alice", "aud": tc.aud, "exp": now.Add(time.Minute).Unix(),
		}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		for try := range 2 {
			_, err := m.Verify(context.Background(), tok)
			if (err == nil) != tc.cached {
				t.Fatalf("aud %v, try %d: %v", tc.aud, try, err)
			}
			if !tc.cached && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("aud %v: %v", tc.aud, err)
			}
			if got := m.c.cache.get(tok) != nil; got != tc.cached {
				t.Errorf("aud %v, try %d: cached %v, want %v", tc.aud, try, got, tc.cached)
			}
		}
	}
}
