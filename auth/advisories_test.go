package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// TestJWTOtherSerializations replays the lestrrat-go/jwx advisories whose
// attacks arrive as something other than a compact JWS. The middleware
// verifies compact JWS only: every other serialization must be refused as
// malformed before any header is acted on, any key is derived or anything
// is decompressed.
func TestJWTOtherSerializations(t *testing.T) {
	k := keysOnce()
	hs := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}})
	good := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, goodClaims())
	parts := strings.Split(good, ".")
	// The four JWE segments after the protected header: encrypted key,
	// IV, ciphertext and tag.
	jweRest := "." + rawSeg("wrapped-key") + "." + rawSeg("0123456789ab") + "." + rawSeg("ciphertext") + "." + rawSeg("0123456789abcdef")

	tests := []struct {
		name string
		tok  string
		want error
	}{
		// CVE-2023-49290 (GHSA-7f9x-gw85-8grf, jwx): a JWE whose PBES2
		// header asked for billions of PBKDF2 iterations ("p2c") kept the
		// CPU busy before anything was checked.
		{"CVE-2023-49290: a JWE with a huge PBES2 iteration count", seg(map[string]any{
			"alg": "PBES2-HS256+A128KW", "enc": "A128GCM", "kid": "k1", "p2c": 2147483647, "p2s": rawSeg("salt-salt-salt-s"),
		}) + jweRest, auth.ErrTokenMalformed},
		// CVE-2024-28122 (GHSA-hj3v-m684-v259, jwx): a JWE with "zip":
		// "DEF" inflated a small ciphertext into gigabytes.
		{"CVE-2024-28122: a compressed JWE", seg(map[string]any{
			"alg": "dir", "enc": "A128GCM", "kid": "k1", "zip": "DEF",
		}) + jweRest, auth.ErrTokenMalformed},
		{"CVE-2024-28122: a compressed JWE whose header names an allowed alg", seg(map[string]any{
			"alg": "HS256", "enc": "A128GCM", "kid": "k1", "zip": "DEF",
		}) + jweRest, auth.ErrTokenMalformed},
		// CVE-2024-28180 (GHSA-c5q2-7r4c-mv6g, go-jose, under
		// auth0/go-jwt-middleware): the same decompression bomb, a JWE
		// with "zip": "DEF" under a key-wrapping algorithm.
		{"CVE-2024-28180: a compressed JWE under a key-wrapping algorithm", seg(map[string]any{
			"alg": "A128KW", "enc": "A128GCM", "kid": "k1", "zip": "DEF",
		}) + jweRest, auth.ErrTokenMalformed},
		// CVE-2025-27144 (GHSA-c6gw-w398-hv78, go-jose, under
		// auth0/go-jwt-middleware): a compact JWS or JWE was split with
		// strings.Split before anything was checked, so a token of
		// periods allocated a string header for each.
		{"CVE-2025-27144: a JWE header followed by thousands of periods", seg(map[string]any{
			"alg": "dir", "enc": "A128GCM", "kid": "k1",
		}) + strings.Repeat(".", 4000), auth.ErrTokenMalformed},
		{"CVE-2025-27144: a JWS header and payload followed by thousands of periods", parts[0] + "." + parts[1] + strings.Repeat(".", 4000), auth.ErrTokenMalformed},
		// CVE-2024-21664 (GHSA-pvcr-v8j8-j5q3, jwx): a JWS in the JSON
		// serialization without a "protected" member crashed the parser.
		{"CVE-2024-21664: a general JSON JWS without a protected header",
			`{"payload":"` + parts[1] + `","signatures":[{"header":{"alg":"HS256","kid":"k1"},"signature":"` + parts[2] + `"}]}`,
			auth.ErrTokenMalformed},
		{"CVE-2024-21664: a flattened JSON JWS without a protected header",
			`{"payload":"` + parts[1] + `","header":{"alg":"HS256","kid":"k1"},"signature":"` + parts[2] + `"}`,
			auth.ErrTokenMalformed},
		{"CVE-2024-21664: a compact JWS with an empty protected header", "." + parts[1] + "." + parts[2], auth.ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bearer(tt.tok)
			w, _, reason := serve(hs, r)
			if w.Code != http.StatusUnauthorized || !errors.Is(reason, tt.want) {
				t.Errorf("status %d, reason %v; want 401, %v", w.Code, reason, tt.want)
			}
		})
	}
}
