package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testClock() time.Time { return testNow }

type testKeys struct {
	hmac  []byte
	ed    ed25519.PrivateKey
	ec    *ecdsa.PrivateKey
	ec384 *ecdsa.PrivateKey
	rsa   *rsa.PrivateKey
	// attacker keys
	evilEd  ed25519.PrivateKey
	evilRSA *rsa.PrivateKey
}

var keysOnce = sync.OnceValue(func() *testKeys {
	k := &testKeys{hmac: []byte("0123456789abcdef0123456789abcdef")}
	_, k.ed, _ = ed25519.GenerateKey(rand.Reader)
	_, k.evilEd, _ = ed25519.GenerateKey(rand.Reader)
	k.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k.ec384, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	k.rsa, _ = rsa.GenerateKey(rand.Reader, 2048)
	k.evilRSA, _ = rsa.GenerateKey(rand.Reader, 2048)
	return k
})

func seg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func rawSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw signs header.payload (already encoded) with method and key.
func signRaw(t testing.TB, method jwt.SigningMethod, key any, h, p string) string {
	t.Helper()
	sig, err := method.Sign(h+"."+p, key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// sign signs claims with an explicit header map.
func sign(t testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{}
	maps.Copy(h, header)
	header = h
	if _, ok := header["alg"]; !ok {
		header["alg"] = method.Alg()
	}
	return signRaw(t, method, key, seg(header), seg(claims))
}

func goodClaims() map[string]any {
	return map[string]any{
		"iss":   "https://issuer.example",
		"aud":   "api://orders",
		"sub":   "alice",
		"exp":   testNow.Add(10 * time.Minute).Unix(),
		"iat":   testNow.Add(-time.Minute).Unix(),
		"nbf":   testNow.Add(-time.Minute).Unix(),
		"jti":   "token-1",
		"scope": "orders:read orders:write",
		"roles": []string{"admin"},
	}
}

func with(c map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func newJWT(t testing.TB, o auth.JWTOptions) *auth.JWT {
	t.Helper()
	if o.Issuer == "" {
		o.Issuer = "https://issuer.example"
	}
	if o.Audience == "" {
		o.Audience = "api://orders"
	}
	m, err := auth.NewJWT(auth.WithJWTClock(o, testClock))
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return m
}

// serve runs r through m and returns the response and the recorded
// rejection reason.
func serve(m *auth.JWT, r *http.Request) (*httptest.ResponseRecorder, identity.Identity, error) {
	var got identity.Identity
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = identity.FromRequest(r)
		io.WriteString(w, "ok")
	}))
	ctx, reason := problem.WithReason(r.Context())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w, got, reason.Err()
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func pemPublic(t testing.TB, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestJWTAcceptsValidTokens(t *testing.T) {
	k := keysOnce()
	tests := []struct {
		name   string
		opts   auth.JWTOptions
		method jwt.SigningMethod
		key    any
		header map[string]any
	}{
		{"HS256 with one secret and no kid", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}}, jwt.SigningMethodHS256, k.hmac, nil},
		{"EdDSA selected by kid", auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{ID: "ed-1", Key: k.ed.Public()}}}, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed-1"}},
		{"ES256 with a private key given for verification", auth.JWTOptions{Algorithms: []string{"ES256"}, Keys: []auth.Key{{ID: "ec", Key: k.ec}}}, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}},
		{"ES384", auth.JWTOptions{Algorithms: []string{"ES384"}, Keys: []auth.Key{{ID: "ec", Key: &k.ec384.PublicKey}}}, jwt.SigningMethodES384, k.ec384, map[string]any{"kid": "ec"}},
		{"RS256 among two keys", auth.JWTOptions{Algorithms: []string{"RS256"}, Keys: []auth.Key{{ID: "old", Key: &k.evilRSA.PublicKey}, {ID: "new", Key: &k.rsa.PublicKey}}}, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "new"}},
		{"PS256 with an RSA key allowed for RS256 and PS256", auth.JWTOptions{Algorithms: []string{"RS256", "PS256"}, Keys: []auth.Key{{ID: "r", Key: &k.rsa.PublicKey}}}, jwt.SigningMethodPS256, k.rsa, map[string]any{"kid": "r"}},
		{"typ at+jwt in any case with the application/ prefix", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Type: "at+jwt"}, jwt.SigningMethodHS256, k.hmac, map[string]any{"typ": "application/AT+JWT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newJWT(t, tt.opts)
			tok := sign(t, tt.method, tt.key, tt.header, goodClaims())
			w, id, reason := serve(m, bearer(tok))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, reason %v", w.Code, reason)
			}
			if id.Subject() != "alice" || id.Method() != identity.MethodBearer {
				t.Errorf("identity %q %q", id.Subject(), id.Method())
			}
			if !id.HasScope("orders:read") || !id.HasScope("orders:write") || id.NumScopes() != 2 {
				t.Errorf("scopes %v", id.Scopes())
			}
			if !id.HasRole("admin") {
				t.Errorf("roles %v", id.Roles())
			}
		})
	}
}

func TestJWTBearerSchemeIsCaseInsensitive(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	for _, scheme := range []string{"Bearer ", "bearer ", "BEARER  "} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", scheme+tok)
		if w, _, reason := serve(m, r); w.Code != http.StatusOK {
			t.Errorf("%q: status %d (%v)", scheme, w.Code, reason)
		}
	}
}

// TestJWTAttacks holds one case per attack of RFC 8725 and per known
// library bug; each must end in 401, never 500 or a panic.
func TestJWTAttacks(t *testing.T) {
	k := keysOnce()
	hs := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}})
	rs := newJWT(t, auth.JWTOptions{Algorithms: []string{"RS256"}, Keys: []auth.Key{{ID: "k1", Key: &k.rsa.PublicKey}}})
	es := newJWT(t, auth.JWTOptions{Algorithms: []string{"ES256"}, Keys: []auth.Key{{ID: "k1", Key: &k.ec.PublicKey}}})
	ed := newJWT(t, auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{ID: "k1", Key: k.ed.Public()}}})
	kid := map[string]any{"kid": "k1"}
	good := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, goodClaims())
	parts := strings.Split(good, ".")
	evilPub := k.evilEd.Public().(ed25519.PublicKey)
	evilJWK := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(evilPub)}

	type tc struct {
		name string
		m    *auth.JWT
		req  func() *http.Request
		want error
	}
	var tests []tc
	add := func(name string, m *auth.JWT, tok string, want error) {
		tests = append(tests, tc{name, m, func() *http.Request { return bearer(tok) }, want})
	}
	// alg none in every casing (CVE-2015-9235 and the node-jose, jsjws,
	// pyjwt family), with and without a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := seg(map[string]any{"alg": alg, "kid": "k1"})
		add("alg "+alg+" with an empty signature", hs, h+"."+parts[1]+".", auth.ErrTokenMalformed)
		add("alg "+alg+" with the original signature", hs, h+"."+parts[1]+"."+parts[2], auth.ErrTokenAlgorithm)
	}
	// Algorithm confusion (CVE-2016-10555, CVE-2022-29217 in PyJWT,
	// CVE-2024-54150 in cjwt): HS256 keyed with the verifier's public key.
	add("HS256 signed with the RSA public key PEM (CVE-2016-10555)", rs,
		sign(t, jwt.SigningMethodHS256, pemPublic(t, &k.rsa.PublicKey), kid, goodClaims()), auth.ErrTokenAlgorithm)
	add("HS256 signed with the EC public key PEM (CVE-2022-29217)", es,
		sign(t, jwt.SigningMethodHS256, pemPublic(t, &k.ec.PublicKey), kid, goodClaims()), auth.ErrTokenAlgorithm)
	add("HS256 signed with the raw Ed25519 public key", ed,
		sign(t, jwt.SigningMethodHS256, []byte(k.ed.Public().(ed25519.PublicKey)), kid, goodClaims()), auth.ErrTokenAlgorithm)
	add("RS256 token presented to an HS256 verifier", hs,
		sign(t, jwt.SigningMethodRS256, k.rsa, kid, goodClaims()), auth.ErrTokenAlgorithm)
	// Signature tampering.
	add("stripped signature", hs, parts[0]+"."+parts[1]+".", auth.ErrTokenMalformed)
	add("two segments only", hs, parts[0]+"."+parts[1], auth.ErrTokenMalformed)
	add("truncated signature", hs, parts[0]+"."+parts[1]+"."+parts[2][:20], auth.ErrTokenSignature)
	add("signature with non-canonical trailing bits", hs, parts[0]+"."+parts[1]+"."+parts[2][:len(parts[2])-1]+"B", auth.ErrTokenMalformed)
	add("four segments", hs, good+".x", auth.ErrTokenMalformed)
	add("payload changed after signing", hs, parts[0]+"."+seg(with(goodClaims(), "sub", "root"))+"."+parts[2], auth.ErrTokenSignature)
	add("ECDSA signature of zeros (CVE-2022-21449)", es,
		seg(map[string]any{"alg": "ES256", "kid": "k1"})+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(make([]byte, 64)), auth.ErrTokenSignature)
	// kid injection (path traversal, SQL, URLs): kid only ever matches a
	// configured ID.
	for _, bad := range []string{"../../dev/null", "/dev/null", "' OR '1'='1", "k1' --", "k1\x00", "https://evil.example/key", "", strings.Repeat("k", 300)} {
		add("kid "+strings.ToValidUTF8(bad[:min(len(bad), 20)], "?"), hs,
			sign(t, jwt.SigningMethodHS256, []byte{}, map[string]any{"kid": bad}, goodClaims()), auth.ErrTokenUnknownKey)
	}
	add("kid as a number", hs, sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": 1}, goodClaims()), auth.ErrTokenUnknownKey)
	add("no kid when every key has an ID", hs, sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims()), auth.ErrTokenUnknownKey)
	// Embedded and remote keys are never trusted (CVE-2018-0114
	// node-jose jwk, jku/x5u SSRF).
	add("embedded jwk with the attacker's key (CVE-2018-0114)", ed,
		sign(t, jwt.SigningMethodEdDSA, k.evilEd, map[string]any{"kid": "k1", "jwk": evilJWK}, goodClaims()), auth.ErrTokenSignature)
	add("jku pointing to the attacker's JWKS", ed,
		sign(t, jwt.SigningMethodEdDSA, k.evilEd, map[string]any{"kid": "k1", "jku": "https://evil.example/jwks.json"}, goodClaims()), auth.ErrTokenSignature)
	add("x5u pointing to the attacker's certificate", rs,
		sign(t, jwt.SigningMethodRS256, k.evilRSA, map[string]any{"kid": "k1", "x5u": "https://evil.example/cert.pem"}, goodClaims()), auth.ErrTokenSignature)
	add("x5c with the attacker's certificate", rs,
		sign(t, jwt.SigningMethodRS256, k.evilRSA, map[string]any{"kid": "k1", "x5c": []string{"MIIB"}}, goodClaims()), auth.ErrTokenSignature)
	add("unknown crit extension", hs, sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1", "crit": []string{"exp"}, "exp": 1}, goodClaims()), auth.ErrTokenCritical)
	// Claims.
	add("expired", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "exp", testNow.Add(-time.Second).Unix())), auth.ErrTokenExpired)
	add("nbf in the future", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "nbf", testNow.Add(time.Hour).Unix())), auth.ErrTokenNotYetValid)
	add("iat far in the future", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iat", testNow.Add(24*time.Hour).Unix())), auth.ErrTokenNotYetValid)
	add("wrong issuer", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iss", "https://evil.example")), auth.ErrTokenIssuer)
	// CVE-2024-53861 (PyJWT): iss was checked with Python's "in", so a
	// part of the configured issuer, or an array holding it, passed.
	add("CVE-2024-53861: iss a prefix of the issuer", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iss", "https://issuer.exampl")), auth.ErrTokenIssuer)
	add("CVE-2024-53861: iss extending the issuer", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iss", "https://issuer.example.evil")), auth.ErrTokenIssuer)
	add("CVE-2024-53861: iss an array holding the issuer", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iss", []string{"https://issuer.example"})), auth.ErrTokenMalformed)
	add("iss with a trailing slash", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iss", "https://issuer.example/")), auth.ErrTokenIssuer)
	add("aud a prefix of the audience", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "aud", "api://order")), auth.ErrTokenAudience)
	add("aud as an object", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "aud", map[string]any{"api://orders": true})), auth.ErrTokenMalformed)
	add("missing issuer", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "iss", nil)), auth.ErrTokenClaimMissing)
	add("wrong audience", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "aud", []string{"api://billing"})), auth.ErrTokenAudience)
	add("missing exp", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "exp", nil)), auth.ErrTokenClaimMissing)
	add("missing sub", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "sub", nil)), auth.ErrTokenClaimMissing)
	add("exp as a string", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "exp", "9999999999")), auth.ErrTokenMalformed)
	add("scope as an object", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "scope", map[string]any{"a": 1})), auth.ErrTokenMalformed)
	// CVE-2024-51744 (golang-jwt): an expired token with a forged
	// signature was reported as expired only, and callers that ignored
	// that error accepted it. The signature is checked first.
	expired := sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "exp", testNow.Add(-time.Hour).Unix()))
	ep := strings.Split(expired, ".")
	add("CVE-2024-51744: an expired token with a forged signature", hs, ep[0]+"."+ep[1]+"."+base64.RawURLEncoding.EncodeToString(make([]byte, 32)), auth.ErrTokenSignature)
	// CVE-2020-26160 (jwt-go): an empty aud array passed the audience
	// check.
	for _, a := range []struct {
		aud  any
		want error
	}{
		{[]string{}, auth.ErrTokenClaimMissing},
		{[]string{""}, auth.ErrTokenClaimMissing},
		{"", auth.ErrTokenClaimMissing},
		{[]string{"other", ""}, auth.ErrTokenAudience},
	} {
		add(fmt.Sprintf("CVE-2020-26160: aud %#v", a.aud), hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "aud", a.aud)), a.want)
	}
	// Size and syntax.
	add("token of 1 MB", hs, strings.Repeat("a", 1<<20), auth.ErrTokenTooLarge)
	add("non-JSON header", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg("not json"), parts[1]), auth.ErrTokenMalformed)
	add("header that is a JSON array", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`["HS256"]`), parts[1]), auth.ErrTokenMalformed)
	add("duplicate alg in the header", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"k1","alg":"none"}`), parts[1]), auth.ErrTokenMalformed)
	add("duplicate kid in the header", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"other","kid":"k1"}`), parts[1]), auth.ErrTokenMalformed)
	add("duplicate hidden by an escaped member name", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"k1","\u0061lg":"none"}`), parts[1]), auth.ErrTokenMalformed)
	add("duplicate sub in the claims", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, parts[0], rawSeg(`{"sub":"alice","sub":"root","exp":9999999999,"iss":"https://issuer.example","aud":"api://orders"}`)), auth.ErrTokenMalformed)
	add("trailing data after the header object", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"k1"}x`), parts[1]), auth.ErrTokenMalformed)
	add("padded base64", hs, parts[0]+"=."+parts[1]+"."+parts[2], auth.ErrTokenMalformed)
	add("header with standard base64 characters", hs, strings.ReplaceAll(parts[0], "e", "+")+"."+parts[1]+"."+parts[2], auth.ErrTokenMalformed)
	add("deeply nested header value", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","kid":"k1","x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), parts[1]), auth.ErrTokenMalformed)
	add("a token with a space", hs, "abc def", auth.ErrTokenMalformed)
	add("many periods (CVE-2025-30204, GHSA-mh63-6h87-95cp)", hs, strings.Repeat(".", 8000), auth.ErrTokenMalformed)
	add("member names equal once invalid UTF-8 becomes U+FFFD", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg("{\"alg\":\"HS256\",\"kid\":\"k1\",\"\xff\":1,\"\xfe\":2}"), parts[1]), auth.ErrTokenMalformed)
	add("a claims set that is not an object", hs, signRaw(t, jwt.SigningMethodHS256, k.hmac, parts[0], rawSeg(`"alice"`)), auth.ErrTokenMalformed)
	add("roles as a number", hs, sign(t, jwt.SigningMethodHS256, k.hmac, kid, with(goodClaims(), "roles", 7)), auth.ErrTokenMalformed)

	tests = append(tests,
		tc{"token in the query string", hs, func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/orders?access_token="+good, nil)
		}, auth.ErrNoCredentials},
		// go-chi/jwtauth#75: its Verifier's doc promised to read the
		// token from the "jwt" query parameter, where it leaks into
		// access logs, proxies and Referer headers; the maintainers
		// called that a vulnerability and dropped the promise. Its
		// default Verifier still reads a "jwt" cookie, which a browser
		// attaches to a cross-site request. Neither is read by default.
		tc{"go-chi/jwtauth#75: a valid token in the jwt query parameter", hs, func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/orders?jwt="+good, nil)
		}, auth.ErrNoCredentials},
		tc{"go-chi/jwtauth Verifier: a valid token in a jwt cookie without CookieName", hs, func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/orders", nil)
			r.AddCookie(&http.Cookie{Name: "jwt", Value: good})
			return r
		}, auth.ErrNoCredentials},
		tc{"two Authorization headers", hs, func() *http.Request {
			r := bearer(good)
			r.Header.Add("Authorization", "Bearer "+good)
			return r
		}, auth.ErrTokenMalformed},
		tc{"Bearer without a token", hs, func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer")
			return r
		}, auth.ErrTokenMalformed},
		tc{"Basic credentials instead of a bearer token", hs, func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.SetBasicAuth("alice", "secret")
			return r
		}, auth.ErrNoCredentials},
		tc{"no Authorization header", hs, func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, auth.ErrNoCredentials},
	)
	// CVE-2026-47673 (GHSA-f577-qrjj-4474, hono): the JWT middleware took
	// the second word of any two-word Authorization value for the token,
	// so a valid token sent under another scheme was accepted. Only the
	// Bearer scheme carries a bearer token (RFC 6750 §2.1); under any
	// other, even a token that would verify is no credential at all.
	for _, scheme := range []string{"Basic", "Token", "JWT", "DPoP", "Digest", "Bearerx", "Bearer:"} {
		tests = append(tests, tc{"CVE-2026-47673: a valid token under the " + scheme + " scheme", hs, func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/orders", nil)
			r.Header.Set("Authorization", scheme+" "+good)
			return r
		}, auth.ErrNoCredentials})
	}

	// An ES256 signature is exactly r||s in 64 bytes (RFC 7518 §3.4): the
	// same r and s each behind a zero byte are another encoding of a valid
	// signature, so a second token string for the same claims.
	esParts := strings.Split(sign(t, jwt.SigningMethodES256, k.ec, kid, goodClaims()), ".")
	esSig, _ := base64.RawURLEncoding.DecodeString(esParts[2])
	padded := append(append(append([]byte{0}, esSig[:32]...), 0), esSig[32:]...)
	add("an ES256 signature with zero-padded halves", es, esParts[0]+"."+esParts[1]+"."+base64.RawURLEncoding.EncodeToString(padded), auth.ErrTokenSignature)

	// A key bound to one algorithm verifies no other the verifier allows
	// (RFC 8725 §3.1): an RSA key for RS256 does not verify PS256.
	bound := newJWT(t, auth.JWTOptions{Algorithms: []string{"RS256", "PS256"}, Keys: []auth.Key{{ID: "k1", Algorithm: "RS256", Key: &k.rsa.PublicKey}}})
	add("a PS256 token for a key bound to RS256", bound, sign(t, jwt.SigningMethodPS256, k.rsa, kid, goodClaims()), auth.ErrInvalidToken)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, reason := serve(tt.m, tt.req())
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401 (reason %v)", w.Code, reason)
			}
			if !errors.Is(reason, tt.want) {
				t.Errorf("reason %v, want %v", reason, tt.want)
			}
			if !errors.Is(reason, auth.ErrNoCredentials) && !errors.Is(reason, auth.ErrInvalidToken) {
				t.Errorf("reason %v wraps neither ErrNoCredentials nor ErrInvalidToken", reason)
			}
			chal := w.Header().Get("WWW-Authenticate")
			wantChal := `Bearer realm="api", error="invalid_token", error_description="The access token is invalid"`
			if errors.Is(reason, auth.ErrNoCredentials) {
				wantChal = `Bearer realm="api"`
			}
			if chal != wantChal {
				t.Errorf("WWW-Authenticate %q, want %q", chal, wantChal)
			}
			if strings.Contains(w.Body.String(), "alice") || strings.Contains(w.Body.String(), "evil") {
				t.Errorf("body reflects request data: %s", w.Body)
			}
		})
	}
}

func TestJWTTypeCheck(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Type: auth.TypeAccessToken})
	for _, h := range []map[string]any{nil, {"typ": "JWT"}, {"typ": "at+jwt2"}, {"typ": 1}} {
		tok := sign(t, jwt.SigningMethodHS256, k.hmac, h, goodClaims())
		w, _, reason := serve(m, bearer(tok))
		if w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrInvalidToken) {
			t.Errorf("header %v: status %d reason %v", h, w.Code, reason)
		}
	}
}

// RFC 8725 §3.11: a JWT explicitly typed as another kind (a back-channel
// logout token, a security event, a DPoP proof, all of which an identity
// provider may sign with the key of its access tokens, some with iss, sub,
// aud and exp) is no access token, even for a verifier without
// JWTOptions.Type. Found in review: with Type unset, typ was not read at
// all, and such a token passed for an access token. Untyped tokens, the
// generic JWT and at+jwt are still accepted.
func TestJWTWithoutTypeRefusesOtherExplicitTypes(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	for typ, ok := range map[string]bool{
		"":                        true,
		"JWT":                     true,
		"jwt":                     true,
		"application/jwt":         true,
		"at+jwt":                  true,
		"application/AT+JWT":      true,
		"logout+jwt":              false,
		"application/logout+jwt":  false,
		"secevent+jwt":            false,
		"dpop+jwt":                false,
		"DPoP+JWT":                false,
		"token-introspection+jwt": false,
		"oauth-authz-req+jwt":     false,
	} {
		h := map[string]any{}
		if typ != "" {
			h["typ"] = typ
		}
		w, _, reason := serve(m, bearer(sign(t, jwt.SigningMethodHS256, k.hmac, h, goodClaims())))
		if typ == "logout+jwt" {
			// The same type with its "+" escaped.
			w, _, reason = serve(m, bearer(signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256","typ":"logout\u002bjwt"}`), seg(goodClaims()))))
		}
		switch {
		case ok && w.Code != http.StatusOK:
			t.Errorf("typ %q: status %d (%v), want 200", typ, w.Code, reason)
		case !ok && (w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenType)):
			t.Errorf("typ %q: status %d (%v), want 401 for %v", typ, w.Code, reason, auth.ErrTokenType)
		}
	}
}

// Found in review: the scope claim was split on any Unicode white space,
// so a signed "read\u00a0admin" became the scopes read and admin. RFC 6749
// §3.3 separates scopes with spaces only.
func TestJWTScopesSplitOnSpacesOnly(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	for scope, want := range map[string][]string{
		"orders:read  orders:write ": {"orders:read", "orders:write"},
		"read\u00a0admin":            {"read\u00a0admin"},
		"read\tadmin":                {"read\tadmin"},
		" ":                          nil,
	} {
		w, id, reason := serve(m, bearer(sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "scope", scope))))
		if w.Code != http.StatusOK {
			t.Fatalf("scope %q: status %d, %v", scope, w.Code, reason)
		}
		if got := id.Scopes(); !slices.Equal(got, want) {
			t.Errorf("scope %q: scopes %q, want %q", scope, got, want)
		}
	}
}

func TestJWTLeeway(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Leeway: 30 * time.Second})
	ok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "exp", testNow.Add(-20*time.Second).Unix()))
	if w, _, reason := serve(m, bearer(ok)); w.Code != http.StatusOK {
		t.Errorf("expired 20s ago within a 30s leeway: %d %v", w.Code, reason)
	}
	late := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "exp", testNow.Add(-40*time.Second).Unix()))
	if w, _, _ := serve(m, bearer(late)); w.Code != http.StatusUnauthorized {
		t.Errorf("expired 40s ago: %d", w.Code)
	}
}

func TestJWTCookieAndQuery(t *testing.T) {
	k := keysOnce()
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, CookieName: "at", DangerouslyAllowQueryToken: true})
	cookie := httptest.NewRequest(http.MethodGet, "/", nil)
	cookie.AddCookie(&http.Cookie{Name: "at", Value: tok})
	query := httptest.NewRequest(http.MethodGet, "/?access_token="+tok, nil)
	both := bearer(tok)
	both.AddCookie(&http.Cookie{Name: "at", Value: tok})
	twoQuery := httptest.NewRequest(http.MethodGet, "/?access_token="+tok+"&access_token="+tok, nil)
	for _, tt := range []struct {
		name string
		r    *http.Request
		want int
	}{
		{"token in the configured cookie", cookie, 200},
		{"token in the query string when enabled", query, 200},
		{"token in a header and a cookie", both, 401},
		{"token twice in the query string", twoQuery, 401},
	} {
		if w, _, reason := serve(m, tt.r); w.Code != tt.want {
			t.Errorf("%s: %d (%v)", tt.name, w.Code, reason)
		}
	}
}

// TestJWTQueryTokenAndOtherParameters: with DangerouslyAllowQueryToken,
// a query whose other parameters net/url does not parse (a stray percent
// sign, a semicolon) no longer refuses a request: it was answered 401
// invalid_token, its header token included, and a client that took that
// for an expired token refreshed it, and was refused again, on every
// search for "100%". A pair that does not parse and could still be read
// as an access_token by a parser that splits on semicolons, or whose
// access_token does not decode, is refused as before: a token in two
// places, or one that cannot be read, is no credential.
func TestJWTQueryTokenAndOtherParameters(t *testing.T) {
	k := keysOnce()
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, DangerouslyAllowQueryToken: true})
	header := func(target string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = target
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	query := func(target string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = target
		return r
	}
	for _, tt := range []struct {
		name string
		r    *http.Request
		want int
	}{
		{"a header token and a stray percent sign", header("q=100%"), 200},
		{"a header token and a bad escape", header("q=%zz&page=2"), 200},
		{"a header token and a semicolon", header("a=1;b=2"), 200},
		{"a header token and a key with a bad escape", header("%zz=1"), 200},
		{"a query token beside a bad escape", query("q=%zz&access_token=" + tok), 200},
		{"a query token with its name escaped", query("access%5Ftoken=" + tok), 200},
		{"a header token and an access_token after a semicolon", header("x=1;access_token=" + tok), 401},
		{"a query token followed by a semicolon", query("access_token=" + tok + ";x=1"), 401},
		{"an access_token that does not decode", header("access_token=%zz"), 401},
		{"a header token and an empty access_token", header("access_token="), 401},
		{"two query tokens, one with its name escaped", query("access_token=" + tok + "&access%5ftoken=" + tok), 401},
	} {
		if w, _, reason := serve(m, tt.r); w.Code != tt.want {
			t.Errorf("%s: %d (%v)", tt.name, w.Code, reason)
		}
	}
}

func TestJWTCustomRolesAndIdentityClaims(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, RolesClaim: "groups", IdentityClaims: []string{"tenant", "jti"}})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "groups", []string{"ops", "dev"}, "tenant", "acme", "scope", nil, "scp", []string{"a", "b"}))
	w, id, reason := serve(m, bearer(tok))
	if w.Code != 200 {
		t.Fatalf("%d %v", w.Code, reason)
	}
	if !id.HasRole("ops") || !id.HasRole("dev") || id.HasRole("admin") {
		t.Errorf("roles %v", id.Roles())
	}
	if v, _ := id.Claim("tenant"); v != "acme" {
		t.Errorf("tenant %v", v)
	}
	if v, _ := id.Claim("jti"); v != "token-1" {
		t.Errorf("jti %v", v)
	}
	if !id.HasScope("a") || !id.HasScope("b") {
		t.Errorf("scp %v", id.Scopes())
	}
}

// Keycloak issues a user's realm roles in realm_access.roles and a
// client's roles in resource_access.<client>.roles; Auth0 requires a
// namespaced claim name, which has dots. RolesClaimPath walks objects
// member by member, without splitting names.
func TestJWTRolesClaimPath(t *testing.T) {
	k := keysOnce()
	keycloak := map[string]any{
		"realm_access":    map[string]any{"roles": []string{"offline_access", "ops"}},
		"resource_access": map[string]any{"orders.api": map[string]any{"roles": []string{"orders-admin"}}},
	}
	for _, tt := range []struct {
		name   string
		path   []string
		claims map[string]any
		want   []string // nil: no roles
		status int
	}{
		{"realm roles", []string{"realm_access", "roles"}, keycloak, []string{"offline_access", "ops"}, 200},
		{"a client's roles, its ID with a dot", []string{"resource_access", "orders.api", "roles"}, keycloak, []string{"orders-admin"}, 200},
		{"another client's roles", []string{"resource_access", "billing", "roles"}, keycloak, nil, 200},
		{"a namespaced claim", []string{"https://example.com/roles"}, map[string]any{"https://example.com/roles": []string{"ops"}, "https://example": map[string]any{"com/roles": []string{"admin"}}}, []string{"ops"}, 200},
		{"one role as a string", []string{"realm_access", "roles"}, map[string]any{"realm_access": map[string]any{"roles": "ops"}}, []string{"ops"}, 200},
		{"an empty array", []string{"realm_access", "roles"}, map[string]any{"realm_access": map[string]any{"roles": []string{}}}, nil, 200},
		{"an absent object", []string{"realm_access", "roles"}, map[string]any{}, nil, 200},
		{"a null object", []string{"realm_access", "roles"}, map[string]any{"realm_access": json.RawMessage("null")}, nil, 200},
		{"null roles", []string{"realm_access", "roles"}, map[string]any{"realm_access": map[string]any{"roles": nil}}, nil, 200},
		{"a top-level roles claim is not read", []string{"realm_access", "roles"}, map[string]any{"roles": []string{"admin"}}, nil, 200},
		{"a string on the path", []string{"realm_access", "roles"}, map[string]any{"realm_access": "ops"}, nil, 401},
		{"an array on the path", []string{"realm_access", "roles"}, map[string]any{"realm_access": []string{"ops"}}, nil, 401},
		{"roles of a number", []string{"realm_access", "roles"}, map[string]any{"realm_access": map[string]any{"roles": 7}}, nil, 401},
		{"roles of an object", []string{"realm_access", "roles"}, map[string]any{"realm_access": map[string]any{"roles": map[string]any{"ops": true}}}, nil, 401},
		{"a role of a number", []string{"realm_access", "roles"}, map[string]any{"realm_access": map[string]any{"roles": []any{"ops", 7}}}, nil, 401},
		{"the path [roles] reads the roles claim", []string{"roles"}, map[string]any{"roles": []string{"admin"}}, []string{"admin"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, RolesClaimPath: tt.path})
			claims := with(goodClaims(), "roles", nil)
			for name, v := range tt.claims {
				claims[name] = v
			}
			w, id, reason := serve(m, bearer(sign(t, jwt.SigningMethodHS256, k.hmac, nil, claims)))
			if w.Code != tt.status {
				t.Fatalf("status %d (%v), want %d", w.Code, reason, tt.status)
			}
			if tt.status != 200 {
				if !errors.Is(reason, auth.ErrTokenMalformed) {
					t.Errorf("reason %v, want ErrTokenMalformed", reason)
				}
				return
			}
			if got := id.Roles(); !slices.Equal(got, tt.want) {
				t.Errorf("roles %q, want %q", got, tt.want)
			}
		})
	}
}

// The path is copied: changing the caller's slice after NewJWT changes
// nothing.
func TestJWTRolesClaimPathIsCopied(t *testing.T) {
	k := keysOnce()
	path := []string{"realm_access", "roles"}
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, RolesClaimPath: path})
	path[0] = "resource_access"
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "realm_access", map[string]any{"roles": []string{"ops"}}))
	if w, id, reason := serve(m, bearer(tok)); w.Code != 200 || !id.HasRole("ops") {
		t.Fatalf("status %d (%v), roles %q", w.Code, reason, id.Roles())
	}
}

// An identity claim that is a number reaches the identity as a float64,
// as encoding/json decodes it, which holds every integer exactly only up
// to 2^53: the user IDs 9007199254740993 and 9007199254740992, two users
// to the issuer (and to any parser that keeps integers, Python's), were
// one to a handler comparing Claim("uid"). Found in review. A number of
// that magnitude or more in a claim of IdentityClaims, at any depth, is
// kept as the exact json.Number; smaller ones are float64 as before.
func TestJWTIdentityClaimNumbersBeyondFloat64(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, IdentityClaims: []string{"uid", "org"}})
	const rest = `"sub":"alice","iss":"https://issuer.example","aud":"api://orders","exp":1900000000`
	for _, tt := range []struct {
		name, claims string
		uid, org     any
	}{
		{"the largest exact integer", `"uid":9007199254740991`, float64(9007199254740991), nil},
		{"a negative exact integer", `"uid":-9007199254740991`, float64(-9007199254740991), nil},
		{"a fraction", `"uid":1.5`, 1.5, nil},
		{"2^53", `"uid":9007199254740992`, json.Number("9007199254740992"), nil},
		{"2^53 + 1", `"uid":9007199254740993`, json.Number("9007199254740993"), nil},
		{"-2^53 - 1", `"uid":-9007199254740993`, json.Number("-9007199254740993"), nil},
		{"a snowflake ID", `"uid":1234567890123456789`, json.Number("1234567890123456789"), nil},
		{"an exponent form beyond 2^53", `"uid":1e300`, json.Number("1e300"), nil},
		{"beyond float64", `"uid":1e400`, json.Number("1e400"), nil},
		{"a decimal just below 2^53 that rounds to it", `"uid":9007199254740991.9`, json.Number("9007199254740991.9"), nil},
		{"a large number in an array", `"uid":7,"org":[1,9007199254740993]`, float64(7), json.Number("9007199254740993")},
		{"a large number in an object", `"uid":7,"org":{"id":9007199254740993}`, float64(7), json.Number("9007199254740993")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := signRaw(t, jwt.SigningMethodHS256, k.hmac, seg(map[string]any{"alg": "HS256"}), rawSeg("{"+rest+","+tt.claims+"}"))
			w, id, reason := serve(m, bearer(tok))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d (%v), want 200", w.Code, reason)
			}
			if v, _ := id.Claim("uid"); v != tt.uid {
				t.Errorf("uid %v (%T), want %v (%T)", v, v, tt.uid, tt.uid)
			}
			if tt.org == nil {
				return
			}
			var got any
			switch org, _ := id.Claim("org"); o := org.(type) {
			case []any:
				got = o[1]
			case map[string]any:
				got = o["id"]
			}
			if got != tt.org {
				t.Errorf("org's number %v (%T), want %v", got, got, tt.org)
			}
		})
	}
}

func TestNewJWTRejectsUnsafeOptions(t *testing.T) {
	k := keysOnce()
	_, weakRSA := rsa.GenerateKey(rand.Reader, 1024)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	_ = weakRSA
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	tests := []struct {
		name string
		opts auth.JWTOptions
		want string
	}{
		{"no algorithms", auth.JWTOptions{Keys: []auth.Key{{Key: k.hmac}}}, "Algorithms is required: list the JWS algorithms your tokens use"},
		{"alg none", auth.JWTOptions{Algorithms: []string{"none"}, Keys: []auth.Key{{Key: k.hmac}}}, "never accepted"},
		{"alg NONE", auth.JWTOptions{Algorithms: []string{"HS256", "NONE"}, Keys: []auth.Key{{Key: k.hmac}}}, "never accepted"},
		{"mixed HMAC and public-key algorithms", auth.JWTOptions{Algorithms: []string{"HS256", "RS256"}, Keys: []auth.Key{{Key: k.hmac}}}, "mixes HMAC and public-key algorithms"},
		{"unknown algorithm", auth.JWTOptions{Algorithms: []string{"HS1"}, Keys: []auth.Key{{Key: k.hmac}}}, "unsupported algorithm"},
		{"no keys", auth.JWTOptions{Algorithms: []string{"HS256"}}, "Keys or JWTOptions.JWKSURL"},
		{"short HMAC secret", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: []byte("secret")}}}, "at least 32"},
		// A key buffer left unfilled: anyone can mint tokens with it.
		{"all-zero HMAC secret", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: make([]byte, 32)}}}, "all zero bytes"},
		{"all-zero HS512 secret", auth.JWTOptions{Algorithms: []string{"HS512"}, Keys: []auth.Key{{Key: make([]byte, 64)}}}, "all zero bytes"},
		{"Ed25519 key of an all-zero seed", auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}}}, "all-zero seed"},
		{"Ed25519 public key of an all-zero seed", auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()}}}, "all-zero seed"},
		// Found in review: a public key of 32 zero bytes (order 4) was
		// accepted, and so was a private key whose second half was never
		// filled; a token anyone forges verified under either.
		{"Ed25519 public key of 32 zero bytes", auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{Key: ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))}}}, "small order"},
		{"Ed25519 private key whose public half was never filled", auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{Key: unfilledEd25519(k.ed)}}}, "second half"},
		{"Ed25519 private key with another key's public half", auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{Key: append(slices.Clone(k.ed[:32]), k.evilEd[32:]...)}}}, "second half"},
		{"HS512 secret shorter than 64 bytes", auth.JWTOptions{Algorithms: []string{"HS512"}, Keys: []auth.Key{{Key: k.hmac}}}, "at least 64"},
		{"RSA key of 1024 bits", auth.JWTOptions{Algorithms: []string{"RS256"}, Keys: []auth.Key{{Key: &small.PublicKey}}}, "2048 to 4096"},
		{"P-521 key", auth.JWTOptions{Algorithms: []string{"ES256"}, Keys: []auth.Key{{Key: &p521.PublicKey}}}, "not supported"},
		{"key algorithm outside the allowlist", auth.JWTOptions{Algorithms: []string{"RS256"}, Keys: []auth.Key{{Key: &k.rsa.PublicKey, Algorithm: "PS256"}}}, "not in the allowlist"},
		{"HMAC secret for an RSA algorithm", auth.JWTOptions{Algorithms: []string{"RS256"}, Keys: []auth.Key{{Key: k.hmac}}}, "no allowed algorithm suits"},
		{"EC key declared for EdDSA", auth.JWTOptions{Algorithms: []string{"EdDSA", "ES256"}, Keys: []auth.Key{{Key: &k.ec.PublicKey, Algorithm: "EdDSA"}}}, "does not suit"},
		{"leeway of an hour", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Leeway: time.Hour}, "Leeway"},
		{"tiny MaxTokenBytes", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, MaxTokenBytes: 10}, "MaxTokenBytes"},
		{"realm with a quote", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Realm: `a"b`}, "Realm"},
		// Found in review: taken, and every request was a 401: no token
		// holds invalid UTF-8 (the claims scanner refuses it), and an
		// issuer read from a file with its line break matches none the
		// provider issues. The audiences were already checked so.
		{"issuer of invalid UTF-8", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Issuer: "https://issuer.example\xff"}, "Issuer"},
		{"issuer with a control character", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Issuer: "https://issuer.example\n"}, "Issuer"},
		{"http JWKS URL", auth.JWTOptions{Algorithms: []string{"RS256"}, JWKSURL: "http://idp.example/jwks"}, "https"},
		// Found in review: any application's token from the same identity
		// provider, ID tokens included, verified without an audience.
		{"JWKS URL without an audience", auth.JWTOptions{Algorithms: []string{"RS256"}, JWKSURL: "https://idp.example/jwks"}, "Audience is required"},
		// A key set's symmetric keys are never taken: with HMAC
		// algorithms alone, every token was answered 503.
		{"JWKS URL with HMAC algorithms", auth.JWTOptions{Algorithms: []string{"HS256"}, JWKSURL: "https://idp.example/jwks", Audience: "api://orders"}, "public-key algorithm"},
		{"JWKS URL with HMAC algorithms beside HMAC keys", auth.JWTOptions{Algorithms: []string{"HS256", "HS512"}, Keys: []auth.Key{{Key: k.hmac, Algorithm: "HS256"}}, JWKSURL: "https://idp.example/jwks", Audience: "api://orders"}, "public-key algorithm"},
		{"unsupported key type", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: "secret-as-string-0123456789abcdef"}}}, "unsupported key type"},
		{"roles claim and roles claim path", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, RolesClaim: "groups", RolesClaimPath: []string{"realm_access", "roles"}}, "not both"},
		{"roles claim path with an empty name", auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, RolesClaimPath: []string{"realm_access", ""}}, "empty member name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := auth.NewJWT(tt.opts)
			if err == nil || m != nil {
				t.Fatalf("NewJWT accepted %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestJWKSWithoutAudienceOnlyWhenDangerouslyAllowed(t *testing.T) {
	for _, o := range []auth.JWTOptions{
		{Algorithms: []string{"RS256"}, JWKSURL: "https://idp.example/jwks", Audience: "api://orders"},
		{Algorithms: []string{"RS256"}, JWKSURL: "https://idp.example/jwks", DangerouslyAllowAnyAudience: true},
	} {
		if _, err := auth.NewJWT(o); err != nil {
			t.Errorf("NewJWT(%+v): %v", o, err)
		}
	}
}

func TestJWTZeroValueRejects(t *testing.T) {
	var m auth.JWT
	w, _, reason := serve(&m, bearer("a.b.c"))
	if w.Code != http.StatusUnauthorized || reason == nil {
		t.Errorf("zero JWT: %d %v", w.Code, reason)
	}
	// A nil *JWT too, as a nil *Basic and *APIKey do (found in review:
	// it panicked).
	var nilJWT *auth.JWT
	w, _, reason = serve(nilJWT, bearer("a.b.c"))
	if w.Code != http.StatusUnauthorized || reason == nil {
		t.Errorf("nil JWT: %d %v", w.Code, reason)
	}
}

func TestJWTOnReject(t *testing.T) {
	k := keysOnce()
	var got error
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "exp", testNow.Add(-time.Hour).Unix()))
	w, _, _ := serve(m, bearer(tok))
	if w.Code != http.StatusTeapot || !errors.Is(got, auth.ErrTokenExpired) {
		t.Errorf("%d %v", w.Code, got)
	}
}

func TestJWTDenylist(t *testing.T) {
	k := keysOnce()
	dl := auth.NewMemoryDenylist()
	for _, cache := range []int{0, 16} {
		m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Denylist: dl, CacheSize: cache})
		// The memory denylist runs on the real clock: expire in 2100.
		tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", "jti-cache-"+string(rune('a'+cache)), "exp", 4102444800))
		if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
			t.Fatalf("before revocation: %d %v", w.Code, reason)
		}
		if err := m.Revoke(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if w, _, reason := serve(m, bearer(tok)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenRevoked) {
			t.Errorf("cache %d after revocation: %d %v", cache, w.Code, reason)
		}
		noJTI := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", nil))
		if w, _, reason := serve(m, bearer(noJTI)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenClaimMissing) {
			t.Errorf("token without jti: %d %v", w.Code, reason)
		}
		// A jti longer than a denylist keeps is revoked by its hash, and
		// only that one (found in review: it could not be revoked).
		long := strings.Repeat("j", auth.MaxJTILength) + string(rune('a'+cache))
		longTok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", long+"1", "exp", 4102444800))
		sibling := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", long+"2", "exp", 4102444800))
		if w, _, reason := serve(m, bearer(longTok)); w.Code != 200 {
			t.Fatalf("long jti before revocation: %d %v", w.Code, reason)
		}
		if err := m.Revoke(context.Background(), longTok); err != nil {
			t.Fatalf("revoking a long jti: %v", err)
		}
		if w, _, reason := serve(m, bearer(longTok)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenRevoked) {
			t.Errorf("cache %d, long jti after revocation: %d %v", cache, w.Code, reason)
		}
		if w, _, reason := serve(m, bearer(sibling)); w.Code != 200 {
			t.Errorf("cache %d, another long jti after the revocation: %d %v", cache, w.Code, reason)
		}
	}
}

// The package doc says a cache hit still checks the denylist, and
// DenylistKey that a jti over MaxJTILength is denied by its hash. JWT.Revoke
// drops its own cache entry, so here the token is revoked through another
// instance sharing the denylist, as with auth/redisstore, while this one
// holds it in its cache: a hit that asked about the long jti itself, not
// its key, let it through (a mutation no other test caught).
func TestJWTCacheHitConsultsASharedDenylist(t *testing.T) {
	k := keysOnce()
	dl := auth.NewMemoryDenylist()
	o := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Denylist: dl, CacheSize: 16}
	cached, other := newJWT(t, o), newJWT(t, o)
	for _, jti := range []string{"jti-shared", strings.Repeat("s", auth.MaxJTILength+1)} {
		// The memory denylist runs on the real clock: expire in 2100.
		tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", jti, "exp", 4102444800))
		for range 2 { // the second is answered from the cache
			if w, _, reason := serve(cached, bearer(tok)); w.Code != 200 {
				t.Fatalf("jti of %d bytes before revocation: %d %v", len(jti), w.Code, reason)
			}
		}
		if err := other.Revoke(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if w, _, reason := serve(cached, bearer(tok)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenRevoked) {
			t.Errorf("jti of %d bytes, cached, revoked by another instance: %d %v; want 401 ErrTokenRevoked", len(jti), w.Code, reason)
		}
	}
}

func TestDenylistKey(t *testing.T) {
	short := strings.Repeat("j", auth.MaxJTILength)
	if got := auth.DenylistKey(short); got != short {
		t.Errorf("a jti of MaxJTILength bytes became %q", got)
	}
	long, other := auth.DenylistKey(short+"1"), auth.DenylistKey(short+"2")
	if !strings.HasPrefix(long, "sha256:") || len(long) > auth.MaxJTILength || long == other {
		t.Errorf("long jti keys %q and %q", long, other)
	}
}

type failingDenylist struct{}

func (failingDenylist) Revoke(context.Context, string, time.Time) error { return errors.New("down") }
func (failingDenylist) IsRevoked(context.Context, string) (bool, error) {
	return false, errors.New("down")
}

func TestJWTDenylistFailureFailsClosed(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Denylist: failingDenylist{}})
	w, _, reason := serve(m, bearer(sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())))
	if w.Code != http.StatusServiceUnavailable || !errors.Is(reason, auth.ErrUnavailable) || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d %v %q", w.Code, reason, w.Header().Get("Retry-After"))
	}
}

func TestJWTCache(t *testing.T) {
	k := keysOnce()
	now := testNow
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, CacheSize: 2}, func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	for i := range 3 {
		if w, id, reason := serve(m, bearer(tok)); w.Code != 200 || id.Subject() != "alice" {
			t.Fatalf("hit %d: %d %v", i, w.Code, reason)
		}
	}
	// A forged token of the same length never matches the cached one.
	forged := tok[:len(tok)-2] + "AA"
	if forged == tok { // one token in about a thousand ends in AA
		forged = tok[:len(tok)-2] + "BA"
	}
	if w, _, _ := serve(m, bearer(forged)); w.Code != 401 {
		t.Errorf("forged token: %d", w.Code)
	}
	// Fill the cache beyond its size: still correct.
	for i := range 5 {
		other := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", string(rune('a'+i))))
		if w, _, _ := serve(m, bearer(other)); w.Code != 200 {
			t.Fatalf("other %d: %d", i, w.Code)
		}
	}
	now = testNow.Add(time.Hour) // the cached token expired
	if w, _, reason := serve(m, bearer(tok)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenExpired) {
		t.Errorf("expired cached token: %d %v", w.Code, reason)
	}
}

func TestJWTConcurrent(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, CacheSize: 8, Denylist: auth.NewMemoryDenylist()})
	good := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	bad := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "exp", 1))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 200 {
				tok, want := good, 200
				if i%3 == 0 {
					tok, want = bad, 401
				}
				if w, _, _ := serve(m, bearer(tok)); w.Code != want {
					t.Errorf("status %d, want %d", w.Code, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestJWTEndToEnd(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "ed-2026", Algorithm: "EdDSA", Key: k.ed}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://issuer.example", Audience: "api://orders", Type: auth.TypeAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		io.WriteString(w, id.Subject()+" "+strings.Join(id.Scopes(), ","))
	})))
	defer srv.Close()
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: "bob", Scopes: []string{"orders:read"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer "+at.Token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "bob orders:read" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
	// A 1 MB header is refused by the server itself (431), not by a panic.
	req, _ = http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 1<<20))
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge && resp.StatusCode != 401 {
		t.Errorf("1 MB header: %d", resp.StatusCode)
	}
}

func TestJWTSetKeysRotatesWithoutRestart(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{ID: "old", Key: k.ed.Public()}}, CacheSize: 8})
	oldTok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "old"}, goodClaims())
	newTok := sign(t, jwt.SigningMethodEdDSA, k.evilEd, map[string]any{"kid": "new"}, goodClaims())
	if w, _, _ := serve(m, bearer(oldTok)); w.Code != 200 {
		t.Fatal("old key before rotation")
	}
	if err := m.SetKeys([]auth.Key{{ID: "new", Key: k.evilEd.Public()}}); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := serve(m, bearer(newTok)); w.Code != 200 {
		t.Error("new key after rotation")
	}
	if w, _, _ := serve(m, bearer(oldTok)); w.Code != 401 {
		t.Error("old key (and its cache entry) still accepted after rotation")
	}
	if err := m.SetKeys([]auth.Key{{Key: []byte("short")}}); err == nil {
		t.Error("SetKeys accepted an HMAC key for an EdDSA verifier")
	}
	if err := m.SetKeys(nil); err == nil {
		t.Error("SetKeys accepted no keys without a JWKS")
	}
	if err := m.SetKeys([]auth.Key{{ID: "zero", Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()}}); err == nil {
		t.Error("SetKeys accepted the public key of an all-zero seed")
	}
	if w, _, _ := serve(m, bearer(newTok)); w.Code != 200 {
		t.Error("a failed SetKeys changed the keys")
	}
}

// Found in review: a denylist forgot an entry at the token's expiry, but a
// JWT with a Leeway accepts the token until exp + Leeway, so a token
// revoked exactly as the Denylist and AccessToken docs say came back for
// the leeway. Every way of revoking, through one denylist shared by
// verifiers of different leeways, must hold until the last of them
// refuses the token as expired.
func TestJWTRevokedTokenStaysRevokedThroughTheLeeway(t *testing.T) {
	k := keysOnce()
	now := testNow
	clock := func() time.Time { return now }
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed},
		Issuer: "https://issuer.example", Audience: []string{"api://orders"}, TTL: 10 * time.Minute}, clock))
	if err != nil {
		t.Fatal(err)
	}
	leeways := []time.Duration{0, 30 * time.Second, auth.MaxLeeway}
	cases := []struct {
		name   string
		revoke func(dl auth.Denylist, verifiers []*auth.JWT, at auth.AccessToken) error
	}{
		{"Denylist.Revoke with AccessToken.ExpiresAt, as documented", func(dl auth.Denylist, _ []*auth.JWT, at auth.AccessToken) error {
			return dl.Revoke(context.Background(), auth.DenylistKey(at.ID), at.ExpiresAt)
		}},
		{"JWT.Revoke on the verifier without leeway", func(_ auth.Denylist, v []*auth.JWT, at auth.AccessToken) error {
			return v[0].Revoke(context.Background(), at.Token)
		}},
		{"JWT.Revoke on the verifier with the largest leeway", func(_ auth.Denylist, v []*auth.JWT, at auth.AccessToken) error {
			return v[len(v)-1].Revoke(context.Background(), at.Token)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now = testNow
			dl := auth.NewMemoryDenylistWithClock(clock)
			var verifiers []*auth.JWT
			for _, l := range leeways {
				m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()},
					Issuer: "https://issuer.example", Audience: "api://orders", Leeway: l, Denylist: dl, CacheSize: 4}, clock))
				if err != nil {
					t.Fatal(err)
				}
				verifiers = append(verifiers, m)
			}
			at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range verifiers { // and cached
				if w, _, reason := serve(m, bearer(at.Token)); w.Code != 200 {
					t.Fatalf("before revocation: %d %v", w.Code, reason)
				}
			}
			if err := tc.revoke(dl, verifiers, at); err != nil {
				t.Fatal(err)
			}
			for _, after := range []time.Duration{-time.Second, time.Second, 29 * time.Second, auth.MaxLeeway - time.Second} {
				now = at.ExpiresAt.Add(after)
				for i, m := range verifiers {
					w, _, reason := serve(m, bearer(at.Token))
					want := auth.ErrTokenRevoked
					if after >= leeways[i] {
						want = auth.ErrTokenExpired
					}
					if w.Code != 401 || !errors.Is(reason, want) {
						t.Errorf("%v after exp, leeway %v: %d %v, want 401 %v", after, leeways[i], w.Code, reason, want)
					}
				}
			}
		})
	}
}

// Found in review: RSA keys over 4096 bits were accepted, but their
// signatures are longer than the middleware decodes, so no token they
// signed ever verified (an issuer's own tokens were refused). They are
// refused where keys are configured, with a clear error.
func TestRSAKeysOver4096BitsAreRefused(t *testing.T) {
	n := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 4103), big.NewInt(1)) // 4104 bits
	large := &rsa.PublicKey{N: n, E: 65537}
	cases := []struct {
		name string
		err  func() error
	}{
		{"NewJWT", func() error {
			_, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgRS256}, Keys: []auth.Key{{Key: large}}})
			return err
		}},
		{"JWT.SetKeys", func() error {
			return newJWT(t, auth.JWTOptions{Algorithms: []string{auth.AlgRS256}, Keys: []auth.Key{{Key: &keysOnce().rsa.PublicKey}}}).SetKeys([]auth.Key{{Key: large}})
		}},
		{"NewIssuer", func() error {
			_, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgRS256, Key: &rsa.PrivateKey{PublicKey: *large}}, Issuer: "https://i"})
			return err
		}},
		{"IssuerOptions.PublishKeys", func() error {
			_, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: keysOnce().ed}, PublishKeys: []auth.Key{{Key: large}}, Issuer: "https://i"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.err(); err == nil || !strings.Contains(err.Error(), "4104 bits; 2048 to 4096") {
				t.Errorf("error %v, want one about the key size", err)
			}
		})
	}
}

// Found in review (the other side of the bound): the largest key
// accepted, 4096 bits, signs tokens that verify.
func TestRSA4096KeyVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 4096-bit key")
	}
	priv, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{auth.AlgRS512, auth.AlgPS512} {
		iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "big", Algorithm: alg, Key: priv}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{alg}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://issuer.example", Audience: "api://orders"})
		if err != nil {
			t.Fatal(err)
		}
		at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if w, _, reason := serve(m, bearer(at.Token)); w.Code != 200 {
			t.Errorf("%s token of a 4096-bit key: %d %v", alg, w.Code, reason)
		}
	}
}

// Found in review: an scp claim given as one space-separated string, as
// Microsoft Entra ID issues it, became one scope "User.Read Mail.Read",
// so RequireScopes("User.Read") refused a token that has it. It is split
// like scope: on spaces only (RFC 6749 §3.3).
func TestJWTScpStringIsSplit(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	cases := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{"scp string", with(goodClaims(), "scope", nil, "scp", "User.Read Mail.Read"), []string{"User.Read", "Mail.Read"}},
		{"scp string with extra spaces", with(goodClaims(), "scope", nil, "scp", " a  b "), []string{"a", "b"}},
		{"scp string of one scope", with(goodClaims(), "scope", nil, "scp", "User.Read"), []string{"User.Read"}},
		{"scp string split on spaces only", with(goodClaims(), "scope", nil, "scp", "read\u00a0admin\tx"), []string{"read\u00a0admin\tx"}},
		{"scp string with an escape", with(goodClaims(), "scope", nil, "scp", "a&b c"), []string{"a&b", "c"}},
		{"scp array", with(goodClaims(), "scope", nil, "scp", []string{"a", "b"}), []string{"a", "b"}},
		{"empty scp string", with(goodClaims(), "scope", nil, "scp", ""), nil},
		{"scope wins over scp", with(goodClaims(), "scope", "x", "scp", "a b"), []string{"x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, tc.claims)
			w, id, reason := serve(m, bearer(tok))
			if w.Code != 200 {
				t.Fatalf("%d %v", w.Code, reason)
			}
			if got := id.Scopes(); !slices.Equal(got, tc.want) {
				t.Errorf("scopes %q, want %q", got, tc.want)
			}
		})
	}
	// And through RequireScopes, as the review's case.
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "scope", nil, "scp", "User.Read Mail.Read"))
	h := m.Handler(auth.RequireScopes("User.Read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, bearer(tok))
	if w.Code != 200 {
		t.Errorf("RequireScopes(User.Read) with scp \"User.Read Mail.Read\": %d", w.Code)
	}
}

// The configured issuer is compared with the decoded iss claim, not its
// raw JSON text (found in review: a raw `t\u0031` matched a configured
// `t\u0031` while it decodes to "t1", another issuer, which golang-jwt
// refuses).
func TestIssuerIsComparedDecoded(t *testing.T) {
	k := keysOnce()
	const configured = `https://idp.example/t\u0031` // an issuer with a backslash in it
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Issuer: configured})
	header := seg(map[string]any{"alg": "HS256", "typ": "JWT"})
	exp, _ := jwt.NewNumericDate(testNow.Add(time.Minute)).MarshalJSON()
	for _, tt := range []struct {
		name   string
		rawIss string // the JSON text of the iss member
		ok     bool
	}{
		{"the configured issuer, as a JSON encoder writes it", `"https://idp.example/t\\u0031"`, true},
		{"another issuer whose raw text is the configured one", `"https://idp.example/t\u0031"`, false},
		{"that issuer spelled plainly", `"https://idp.example/t1"`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			claims := `{"iss":` + tt.rawIss + `,"aud":"api://orders","sub":"alice","exp":` + string(exp) + `}`
			w, _, reason := serve(m, bearer(signRaw(t, jwt.SigningMethodHS256, k.hmac, header, rawSeg(claims))))
			if tt.ok && w.Code != http.StatusOK || !tt.ok && (w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenIssuer)) {
				t.Errorf("status %d, reason %v; accepted should be %v", w.Code, reason, tt.ok)
			}
		})
	}
}

// VerificationKey hands out a copy of an HMAC secret: a caller that wipes
// the bytes it was given, as is routine for secrets, does not change the
// key the issuer signs with (found in review).
func TestVerificationKeyIsACopy(t *testing.T) {
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: []byte("0123456789abcdef0123456789abcdef")}, Issuer: "https://auth.example"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://auth.example"})
	if err != nil {
		t.Fatal(err)
	}
	clear(iss.VerificationKey().Key.([]byte))
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(context.Background(), at.Token); err != nil {
		t.Fatalf("a token issued after the caller wiped its copy does not verify: %v", err)
	}
}

// TestJWTOptional: Optional authenticates a request that carries a token
// and rejects a bad one, as Handler does, but lets a request without a
// token through unchanged, an earlier layer's identity included; the zero
// JWT still rejects everything.
func TestJWTOptional(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, CookieName: "at"})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	session := identity.New(identity.Options{Subject: "carol", Method: identity.MethodSession})
	req := func(headers ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		for i := 0; i < len(headers); i += 2 {
			r.Header.Add(headers[i], headers[i+1])
		}
		return r
	}
	withSession := func(r *http.Request) *http.Request {
		return r.WithContext(identity.NewContext(r.Context(), session))
	}
	tests := []struct {
		name        string
		m           *auth.JWT
		r           *http.Request
		wantStatus  int
		wantSubject string // "" for no identity
		wantMethod  identity.Method
	}{
		{"no token: through, anonymous", m, req(), 200, "", ""},
		{"no token: through, the session's identity kept", m, withSession(req()), 200, "carol", identity.MethodSession},
		{"another scheme is no token", m, req("Authorization", "Basic YWxpY2U6eA=="), 200, "", ""},
		{"a valid token", m, req("Authorization", "Bearer "+tok), 200, "alice", identity.MethodBearer},
		{"a valid token in the cookie", m, req("Cookie", "at="+tok), 200, "alice", identity.MethodBearer},
		{"a valid token on a request a session authenticated is refused", m, withSession(req("Authorization", "Bearer "+tok)), 401, "", ""},
		{"an invalid token is refused", m, req("Authorization", "Bearer "+flipSig(tok)), 401, "", ""},
		{"an invalid token is refused even with a session", m, withSession(req("Authorization", "Bearer "+flipSig(tok))), 401, "", ""},
		{"an empty bearer credential is refused", m, req("Authorization", "Bearer "), 401, "", ""},
		{"two Authorization lines are refused", m, req("Authorization", "Bearer "+tok, "Authorization", "Basic YWxpY2U6eA=="), 401, "", ""},
		{"a token in the header and the cookie is refused", m, req("Authorization", "Bearer "+tok, "Cookie", "at="+tok), 401, "", ""},
		{"the zero JWT refuses a request without a token", &auth.JWT{}, req(), 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got identity.Identity
			var reached bool
			h := tt.m.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				got, _ = identity.FromRequest(r)
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.r)
			if w.Code != tt.wantStatus || reached != (tt.wantStatus == 200) {
				t.Fatalf("status %d, handler reached %v; want %d", w.Code, reached, tt.wantStatus)
			}
			if w.Code == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", w.Header().Get("WWW-Authenticate"))
			}
			if got.Subject() != tt.wantSubject || got.Method() != tt.wantMethod {
				t.Errorf("identity %q %q, want %q %q", got.Subject(), got.Method(), tt.wantSubject, tt.wantMethod)
			}
		})
	}
}

// flipSig changes one character in the middle of a token's signature,
// away from the padding bits of its last character.
func flipSig(tok string) string {
	i := len(tok) - 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// unfilledEd25519 returns priv's seed in a 64-byte key whose second half,
// the public key, was never filled.
func unfilledEd25519(priv ed25519.PrivateKey) ed25519.PrivateKey {
	k := make(ed25519.PrivateKey, ed25519.PrivateKeySize)
	copy(k, priv.Seed())
	return k
}

// smallOrderEd25519 returns encodings of the points of Ed25519 of small
// order that crypto/ed25519 accepts as public keys: each of the eight
// points, with the other sign of x, and y spelled as p or p+1.
func smallOrderEd25519() map[string]ed25519.PublicKey {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	y8, _ := new(big.Int).SetString("5fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826", 16)
	enc := func(y *big.Int, signX bool) ed25519.PublicKey {
		be := y.FillBytes(make([]byte, 32))
		pub := make(ed25519.PublicKey, 32)
		for i, c := range be {
			pub[31-i] = c
		}
		if signX {
			pub[31] |= 0x80
		}
		return pub
	}
	out := map[string]ed25519.PublicKey{}
	for name, y := range map[string]*big.Int{
		"identity":          big.NewInt(1),
		"order 2":           new(big.Int).Sub(p, big.NewInt(1)),
		"order 4":           big.NewInt(0),
		"order 8":           y8,
		"order 8, -y":       new(big.Int).Sub(p, y8),
		"order 4, y = p":    p,
		"identity, y = p+1": new(big.Int).Add(p, big.NewInt(1)),
	} {
		out[name] = enc(y, false)
		out[name+", negative x"] = enc(y, true)
	}
	return out
}

// TestEd25519SmallOrderKeys checks that every public key of small order is
// refused, as a configured key and as a key of a fetched JWKS, after
// showing that crypto/ed25519 accepts a signature anyone can make under
// it: the identity point and a zero scalar, for one message in at most
// eight.
func TestEd25519SmallOrderKeys(t *testing.T) {
	identityR := make([]byte, 32)
	identityR[0] = 1
	forged := append(identityR, make([]byte, 32)...)
	for name, pub := range smallOrderEd25519() {
		t.Run(name, func(t *testing.T) {
			forgeable := false
			for i := 0; i < 256 && !forgeable; i++ {
				forgeable = ed25519.Verify(pub, fmt.Append(nil, "message ", i), forged)
			}
			if !forgeable {
				t.Fatalf("%x: no forgery verified; not a usable key of small order", []byte(pub))
			}
			_, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{Key: pub}}, Audience: "api://orders"})
			if err == nil || !strings.Contains(err.Error(), "small order") {
				t.Errorf("NewJWT: %v, want a small-order error", err)
			}
		})
	}

	// Through a JWKS, and end to end: a token forged under the key is
	// refused because the key is not usable.
	pub := ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
	js := newJWKSServer(t, jwksDoc(edJWK("k0", pub, "EdDSA")))
	m := newRemoteJWT(t, js, &fakeClock{now: testNow}, "EdDSA")
	h := seg(map[string]any{"alg": "EdDSA", "kid": "k0"})
	for i := range 64 {
		p := seg(with(goodClaims(), "sub", "mallory", "jti", fmt.Sprint("forged-", i)))
		tok := h + "." + p + "." + base64.RawURLEncoding.EncodeToString(forged)
		if w, _, _ := serve(m, bearer(tok)); w.Code == http.StatusOK {
			t.Fatalf("a forged token verified under a JWKS key of 32 zero bytes (try %d)", i+1)
		}
	}
}

// ValidateClaims refuses tokens by claims the package does not know (the
// CustomClaims.Validate of go-jwt-middleware): a refused token gets the
// generic invalid_token answer, a lookup that cannot answer gets 503, and
// the cache never skips the check.
func TestJWTValidateClaims(t *testing.T) {
	k := keysOnce()
	errWrongTenant := errors.New("tenant not served here")
	errDown := fmt.Errorf("%w: tenant directory down", auth.ErrUnavailable)
	var calls int
	var mu sync.Mutex
	validate := func(ctx context.Context, id identity.Identity) error {
		mu.Lock()
		calls++
		mu.Unlock()
		switch v, _ := id.Claim("tid"); v {
		case "acme":
			return nil
		case "down":
			return errDown
		}
		return errWrongTenant
	}
	tok := func(tid any) string {
		return sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "tid", tid))
	}
	tests := []struct {
		name       string
		cache      int
		tok        string
		wantStatus int
		wantReason []error // errors.Is targets of the recorded reason
		wantCalls  int
	}{
		{"an accepted claim passes", 0, tok("acme"), 200, nil, 1},
		{"a refused claim is an invalid token", 0, tok("evil"), 401, []error{auth.ErrTokenClaims, auth.ErrInvalidToken, errWrongTenant}, 1},
		{"a missing claim is the function's to refuse", 0, tok(nil), 401, []error{auth.ErrTokenClaims, errWrongTenant}, 1},
		{"an unavailable lookup is 503, not 401", 0, tok("down"), 503, []error{auth.ErrUnavailable}, 1},
		{"a token refused earlier never reaches the function", 0, flipSig(tok("acme")), 401, []error{auth.ErrTokenSignature}, 0},
		{"a cache hit is validated again", 4, tok("evil"), 401, []error{auth.ErrTokenClaims}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = 0
			m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}},
				IdentityClaims: []string{"tid"}, ValidateClaims: validate, CacheSize: tt.cache})
			var w *httptest.ResponseRecorder
			var reason error
			for range max(1, tt.wantCalls) {
				w, _, reason = serve(m, bearer(tt.tok))
			}
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%v)", w.Code, tt.wantStatus, reason)
			}
			for _, want := range tt.wantReason {
				if !errors.Is(reason, want) {
					t.Errorf("reason %v does not wrap %v", reason, want)
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("ValidateClaims called %d times, want %d", calls, tt.wantCalls)
			}
			switch w.Code {
			case 401:
				if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
					t.Errorf("challenge %q", got)
				}
			case 503:
				if w.Header().Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
			}
			if body := w.Body.String(); strings.Contains(body, "tenant") {
				t.Errorf("the function's error reached the client: %s", body)
			}
		})
	}
}

// Verify, for a token from elsewhere than a request, bounds its size as
// the middleware does.
func TestJWTVerifyRefusesAnOversizedToken(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, MaxTokenBytes: 1024})
	good := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, goodClaims())
	if _, err := m.Verify(context.Background(), good); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	big := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(goodClaims(), "pad", strings.Repeat("x", 1024)))
	if _, err := m.Verify(context.Background(), big); !errors.Is(err, auth.ErrTokenTooLarge) {
		t.Errorf("Verify(%d bytes) = %v; want %v", len(big), err, auth.ErrTokenTooLarge)
	}
}

// Found in review: Revoke verified the token with Verify, which runs
// ValidateClaims, so a token the function refuses (a tenant suspended
// for now) could not be revoked and came back when the function accepted
// it again, and a lookup that could not answer (ErrUnavailable) made
// every logout fail. A revocation depends only on the checks of the
// package: the token's signature and claims.
func TestJWTRevokeDoesNotDependOnValidateClaims(t *testing.T) {
	k := keysOnce()
	for name, refusal := range map[string]error{
		"a refused token":       errors.New("tenant suspended"),
		"an unavailable lookup": fmt.Errorf("%w: tenant directory down", auth.ErrUnavailable),
	} {
		t.Run(name, func(t *testing.T) {
			dl := auth.NewMemoryDenylist()
			var refuse atomic.Bool
			m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Denylist: dl,
				ValidateClaims: func(context.Context, identity.Identity) error {
					if refuse.Load() {
						return refusal
					}
					return nil
				}})
			tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), "jti", "suspended-"+name, "exp", 4102444800))
			refuse.Store(true)
			if err := m.Revoke(context.Background(), tok); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			refuse.Store(false)
			if _, err := m.Verify(context.Background(), tok); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Errorf("once the function accepts it again, Verify = %v; want ErrTokenRevoked", err)
			}
		})
	}
}

// An ES256 signature is r||s, each 32 bytes big-endian (RFC 7518 §3.4):
// the ASN.1 DER form other libraries produce (CVE-2022-29217's neighbours
// in python-jose and node-jose accepted both), r||s of another curve's
// length, and values of r or s outside [1, n-1] (CVE-2022-21449, the
// "psychic signature", with r = s = n as well as r = s = 0) are refused,
// while the valid signature, and its high-s twin (n - s), verify.
func TestJWTECDSASignatureEncodings(t *testing.T) {
	k := keysOnce()
	es := newJWT(t, auth.JWTOptions{Algorithms: []string{"ES256"}, Keys: []auth.Key{{ID: "k1", Key: &k.ec.PublicKey}}})
	tok := sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "k1"}, goodClaims())
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[2])
	r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	n := elliptic.P256().Params().N
	fixed := func(r, s *big.Int) []byte {
		b := make([]byte, 64)
		r.FillBytes(b[:32])
		s.FillBytes(b[32:])
		return b
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		sig  []byte
		ok   bool
	}{
		{"the signature as signed", raw, true},
		{"the same r with n - s", fixed(r, new(big.Int).Sub(n, s)), true},
		{"the same signature in ASN.1 DER", der, false},
		{"r||s padded to the length of ES384", append(append(make([]byte, 16), raw[:32]...), append(make([]byte, 16), raw[32:]...)...), false},
		{"one byte short", raw[:63], false},
		{"one byte more", append(slices.Clone(raw), 0), false},
		{"r = s = n (CVE-2022-21449)", fixed(n, n), false},
		{"r = n with the real s", fixed(n, s), false},
		{"the real r with s = n", fixed(r, n), false},
		{"r = 0 with the real s", fixed(new(big.Int), s), false},
		{"the real r with s = 0", fixed(r, new(big.Int)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, _, reason := serve(es, bearer(parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(tt.sig)))
			switch {
			case tt.ok && w.Code != http.StatusOK:
				t.Errorf("status %d (%v), want 200", w.Code, reason)
			case !tt.ok && (w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenSignature)):
				t.Errorf("status %d (%v), want 401 for %v", w.Code, reason, auth.ErrTokenSignature)
			}
		})
	}
}

// A NumericDate is a JSON number of seconds, possibly fractional or in an
// exponent form (RFC 7519 §2); one that is not a number, or beyond the
// 2^53 seconds a float64 holds exactly, is malformed rather than read as
// some other time. The claims of the table are written as raw JSON.
func TestJWTNumericDateForms(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	const base = `"iss":"https://issuer.example","aud":"api://orders","sub":"alice"`
	for _, tt := range []struct {
		name, claims string
		want         error // nil: accepted
	}{
		{"exp in an exponent form", `"exp":1e10`, nil},
		{"exp in a capital exponent form", `"exp":1.9E9`, nil},
		{"exp with a fraction", `"exp":1900000000.5`, nil},
		{"exp at 2^53 seconds", `"exp":9007199254740992`, nil},
		{"exp past 2^53 seconds", `"exp":9007199254740994`, auth.ErrTokenMalformed},
		{"exp overflowing a float64", `"exp":1e400`, auth.ErrTokenMalformed},
		{"exp of 20 digits", `"exp":99999999999999999999`, auth.ErrTokenMalformed},
		{"exp negative", `"exp":-1`, auth.ErrTokenExpired},
		{"exp minus zero", `"exp":-0`, auth.ErrTokenExpired},
		{"exp as a string", `"exp":"1900000000"`, auth.ErrTokenMalformed},
		{"exp as a string in an exponent form", `"exp":"1e10"`, auth.ErrTokenMalformed},
		{"exp null", `"exp":null`, auth.ErrTokenMalformed},
		{"exp true", `"exp":true`, auth.ErrTokenMalformed},
		{"exp in an array", `"exp":[1900000000]`, auth.ErrTokenMalformed},
		{"exp with a leading zero", `"exp":01900000000`, auth.ErrTokenMalformed},
		{"exp with a plus sign", `"exp":+1900000000`, auth.ErrTokenMalformed},
		{"nbf null", `"exp":1900000000,"nbf":null`, auth.ErrTokenMalformed},
		{"nbf as a float string", `"exp":1900000000,"nbf":"1.5"`, auth.ErrTokenMalformed},
		{"iat null", `"exp":1900000000,"iat":null`, auth.ErrTokenMalformed},
		{"iat far ahead in an exponent form", `"exp":1900000000,"iat":1e15`, auth.ErrTokenNotYetValid},
		{"nbf far ahead in an exponent form", `"exp":1900000000,"nbf":1e15`, auth.ErrTokenNotYetValid},
		{"nbf negative", `"exp":1900000000,"nbf":-9e15`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := signRaw(t, jwt.SigningMethodHS256, k.hmac, seg(map[string]any{"alg": "HS256"}), rawSeg("{"+base+","+tt.claims+"}"))
			w, _, reason := serve(m, bearer(tok))
			switch {
			case tt.want == nil && w.Code != http.StatusOK:
				t.Errorf("status %d (%v), want 200", w.Code, reason)
			case tt.want != nil && (w.Code != http.StatusUnauthorized || !errors.Is(reason, tt.want)):
				t.Errorf("status %d (%v), want 401 for %v", w.Code, reason, tt.want)
			}
		})
	}
}

// The leeway covers nbf and iat as it covers exp, and no further: a token
// valid from 30s ahead passes a 60s leeway, one from 90s ahead does not.
func TestJWTLeewayOnNotBeforeAndIssuedAt(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Leeway: time.Minute})
	for _, claim := range []string{"nbf", "iat"} {
		for ahead, ok := range map[time.Duration]bool{30 * time.Second: true, 60 * time.Second: true, 61 * time.Second: false, 90 * time.Second: false} {
			tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, with(goodClaims(), claim, testNow.Add(ahead).Unix()))
			w, _, reason := serve(m, bearer(tok))
			switch {
			case ok && w.Code != http.StatusOK:
				t.Errorf("%s %v ahead: status %d (%v), want 200", claim, ahead, w.Code, reason)
			case !ok && (w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenNotYetValid)):
				t.Errorf("%s %v ahead: status %d (%v), want 401 for %v", claim, ahead, w.Code, reason, auth.ErrTokenNotYetValid)
			}
		}
	}
}

// An escaped UTF-16 surrogate that is not half of a pair ("\ud800") is no
// character: encoding/json decodes each one to U+FFFD, so the subjects
// "alice\ud800" and "alice\udc00", which a JSON parser that keeps lone
// surrogates (Python's, JavaScript's) holds for two users, both became
// "alice\ufffd", the subject of a third. Found in review: the scanner
// refuses raw invalid UTF-8 for this reason, but not its escaped twin.
// A token holding one, in any claim or in the kid, is malformed; a pair
// decodes to its one character.
func TestJWTLoneSurrogateEscapes(t *testing.T) {
	k := keysOnce()
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k\ufffd", Key: k.hmac}}})
	h := rawSeg(`{"alg":"HS256","kid":"k\ufffd"}`)
	const rest = `"iss":"https://issuer.example","aud":"api://orders","exp":1900000000`
	for _, tt := range []struct {
		name, header, claims string
		sub                  string // the subject when accepted
	}{
		{"a paired surrogate in sub", h, `{"sub":"alice\ud83d\ude00",` + rest + `}`, "alice\U0001F600"},
		{"U+FFFD itself in sub", h, `{"sub":"alice\ufffd",` + rest + `}`, "alice\ufffd"},
		{"a lone high surrogate in sub", h, `{"sub":"alice\ud800",` + rest + `}`, ""},
		{"a lone low surrogate in sub", h, `{"sub":"alice\udc00",` + rest + `}`, ""},
		{"a high surrogate before a character", h, `{"sub":"alice\ud800x",` + rest + `}`, ""},
		{"two high surrogates", h, `{"sub":"alice\ud800\ud800",` + rest + `}`, ""},
		{"a low then a high surrogate", h, `{"sub":"alice\udc00\ud800",` + rest + `}`, ""},
		{"a lone surrogate in a role", h, `{"sub":"alice","roles":["admin\ud800"],` + rest + `}`, ""},
		{"a lone surrogate in aud", h, `{"sub":"alice","aud":["api://orders","x\udfff"],"iss":"https://issuer.example","exp":1900000000}`, ""},
		{"a lone surrogate in scope", h, `{"sub":"alice","scope":"read \udbff",` + rest + `}`, ""},
		{"a lone surrogate in the kid", rawSeg(`{"alg":"HS256","kid":"k\ud800"}`), `{"sub":"alice",` + rest + `}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := signRaw(t, jwt.SigningMethodHS256, k.hmac, tt.header, rawSeg(tt.claims))
			w, id, reason := serve(m, bearer(tok))
			switch {
			case tt.sub != "" && (w.Code != http.StatusOK || id.Subject() != tt.sub):
				t.Errorf("status %d (%v), subject %q; want 200 for %q", w.Code, reason, id.Subject(), tt.sub)
			case tt.sub == "" && w.Code != http.StatusUnauthorized:
				t.Errorf("status %d, subject %q; want 401", w.Code, id.Subject())
			case tt.sub == "" && !errors.Is(reason, auth.ErrTokenMalformed) && !errors.Is(reason, auth.ErrTokenUnknownKey):
				t.Errorf("reason %v, want %v", reason, auth.ErrTokenMalformed)
			}
		})
	}
}
