package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/clientip"
)

// dpopKey is a client's DPoP key: its private half, its public JWK and
// the JWK's RFC 7638 thumbprint, computed here independently of the
// package.
type dpopKey struct {
	priv any
	alg  jwt.SigningMethod
	jwk  map[string]any
	jkt  string
}

func thumbprint(canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return b64(h[:])
}

func newECDPoPKey(t testing.TB) dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := priv.PublicKey.Bytes() // 0x04 || x || y
	x, y := b64(b[1:33]), b64(b[33:])
	return dpopKey{priv: priv, alg: jwt.SigningMethodES256,
		jwk: map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y},
		jkt: thumbprint(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`)}
}

func newEdDPoPKey(t testing.TB) dpopKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return edDPoPKey(priv)
}

// edDPoPKey is the DPoP key of priv.
func edDPoPKey(priv ed25519.PrivateKey) dpopKey {
	x := b64(priv.Public().(ed25519.PublicKey))
	return dpopKey{priv: priv, alg: jwt.SigningMethodEdDSA,
		jwk: map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x},
		jkt: thumbprint(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`)}
}

var proofSeq atomic.Int64

// proofClaims are the claims of a valid proof for a request of method to
// htu carrying tok, made now.
func proofClaims(method, htu, tok string) map[string]any {
	h := sha256.Sum256([]byte(tok))
	return map[string]any{
		"jti": fmt.Sprintf("proof-%d", proofSeq.Add(1)),
		"htm": method,
		"htu": htu,
		"iat": testNow.Unix(),
		"ath": b64(h[:]),
	}
}

// proof signs claims with k under a dpop+jwt header carrying k's JWK,
// with header members changed by hdr (nil deletes one).
func (k dpopKey) proof(t testing.TB, claims map[string]any, hdr ...any) string {
	t.Helper()
	h := map[string]any{"typ": "dpop+jwt", "alg": k.alg.Alg(), "jwk": k.jwk}
	with(h, hdr...)
	return sign(t, k.alg, k.priv, h, claims)
}

// boundToken is an access token of the test issuer bound to jkt.
func boundToken(t testing.TB, jkt string) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, with(goodClaims(), "cnf", map[string]any{"jkt": jkt}))
}

const dpopURL = "https://api.example/orders"

// dpopRequest is a request of method to target with tok in an
// Authorization header of the DPoP scheme and proofs in DPoP headers.
func dpopRequest(method, target, tok string, proofs ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", "DPoP "+tok)
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

func newDPoPJWT(t testing.TB, d auth.DPoPOptions, more ...func(*auth.JWTOptions)) *auth.JWT {
	t.Helper()
	o := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}}, DPoP: &d}
	for _, f := range more {
		f(&o)
	}
	return newJWT(t, o)
}

func TestDPoPProofs(t *testing.T) {
	k := newECDPoPKey(t)
	other := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	good := func() map[string]any { return proofClaims("GET", dpopURL, tok) }
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
		want error // nil: accepted
	}{
		{"a valid proof", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good()))
		}, nil},
		{"an Ed25519 key", func(t *testing.T) *http.Request {
			ed := newEdDPoPKey(t)
			return dpopRequest("GET", dpopURL, boundToken(t, ed.jkt), ed.proof(t, proofClaims("GET", dpopURL, boundToken(t, ed.jkt))))
		}, nil},
		{"htu normalized: case, default port, percent encoding, query and fragment ignored", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL+"/%7e1?x=1", tok, k.proof(t, with(good(), "htu", "HTTPS://API.Example:443/orders/~1?y=2#f")))
		}, nil},
		{"the proof's own typ case", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "typ", "DPoP+JWT"))
		}, nil},
		{"no DPoP header", func(t *testing.T) *http.Request { return dpopRequest("GET", dpopURL, tok) }, auth.ErrDPoPProof},
		{"two DPoP headers", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good()), k.proof(t, good()))
		}, auth.ErrDPoPProof},
		{"a proof too large", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "pad", strings.Repeat("p", 5000))))
		}, auth.ErrDPoPProof},
		{"not a JWS", func(t *testing.T) *http.Request { return dpopRequest("GET", dpopURL, tok, "a.b") }, auth.ErrDPoPProof},
		{"typ jwt", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "typ", "jwt"))
		}, auth.ErrDPoPProof},
		{"no typ", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "typ", nil))
		}, auth.ErrDPoPProof},
		{"crit", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "crit", []string{"x"}))
		}, auth.ErrDPoPProof},
		{"alg none", func(t *testing.T) *http.Request {
			h := rawSeg(`{"typ":"dpop+jwt","alg":"none","jwk":` + string(mustJSON(t, k.jwk)) + `}`)
			return dpopRequest("GET", dpopURL, tok, h+"."+seg(good())+".")
		}, auth.ErrDPoPProof},
		{"alg HS256 with the JWK's x as the secret", func(t *testing.T) *http.Request {
			h := map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": k.jwk}
			return dpopRequest("GET", dpopURL, tok, sign(t, jwt.SigningMethodHS256, []byte(k.jwk["x"].(string)), h, good()))
		}, auth.ErrDPoPProof},
		{"alg of another key type", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "alg", "EdDSA"))
		}, auth.ErrDPoPProof},
		{"no jwk", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "jwk", nil))
		}, auth.ErrDPoPProof},
		{"a jwk with its private part", func(t *testing.T) *http.Request {
			d, _ := k.priv.(*ecdsa.PrivateKey).Bytes()
			priv := map[string]any{"kty": "EC", "crv": "P-256", "x": k.jwk["x"], "y": k.jwk["y"], "d": b64(d)}
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "jwk", priv))
		}, auth.ErrDPoPProof},
		{"a symmetric jwk", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}))
		}, auth.ErrDPoPProof},
		{"a jwk member named in capitals", func(t *testing.T) *http.Request {
			jwk := map[string]any{"kty": "EC", "crv": "P-256", "X": k.jwk["x"], "y": k.jwk["y"]}
			return dpopRequest("GET", dpopURL, tok, k.proof(t, good(), "jwk", jwk))
		}, auth.ErrDPoPProof},
		{"signed by another key than its jwk", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, other.proof(t, good(), "jwk", k.jwk))
		}, auth.ErrDPoPProof},
		{"another key than the token's", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, other.proof(t, good()))
		}, auth.ErrDPoPProof},
		{"htm of another method", func(t *testing.T) *http.Request {
			return dpopRequest("POST", dpopURL, tok, k.proof(t, good()))
		}, auth.ErrDPoPProof},
		{"htm in lower case", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "htm", "get")))
		}, auth.ErrDPoPProof},
		{"htu of another path", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL+"/1", tok, k.proof(t, good()))
		}, auth.ErrDPoPProof},
		{"htu of another host", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "htu", "https://evil.example/orders")))
		}, auth.ErrDPoPProof},
		{"htu of another scheme", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "htu", "http://api.example/orders")))
		}, auth.ErrDPoPProof},
		{"htu with an encoded slash", func(t *testing.T) *http.Request {
			return dpopRequest("GET", "https://api.example/a/b", tok, k.proof(t, with(good(), "htu", "https://api.example/a%2Fb")))
		}, auth.ErrDPoPProof},
		{"htu with userinfo", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "htu", "https://u@api.example/orders")))
		}, auth.ErrDPoPProof},
		{"no htu", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "htu", nil)))
		}, auth.ErrDPoPProof},
		{"iat older than MaxAge", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "iat", testNow.Add(-2*time.Minute).Unix())))
		}, auth.ErrDPoPProof},
		{"iat in the future", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "iat", testNow.Add(time.Minute).Unix())))
		}, auth.ErrDPoPProof},
		{"iat within MaxAge", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "iat", testNow.Add(-59*time.Second).Unix())))
		}, nil},
		{"a fractional iat, as NumericDate allows", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "iat", float64(testNow.Unix())-0.5)))
		}, nil},
		{"no iat", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "iat", nil)))
		}, auth.ErrDPoPProof},
		{"iat as a string", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "iat", fmt.Sprint(testNow.Unix()))))
		}, auth.ErrDPoPProof},
		{"no jti", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "jti", nil)))
		}, auth.ErrDPoPProof},
		{"no ath", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(good(), "ath", nil)))
		}, auth.ErrDPoPProof},
		{"ath of another token", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok+"x")))
		}, auth.ErrDPoPProof},
		{"a token not bound to a key", func(t *testing.T) *http.Request {
			plain := sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, goodClaims())
			return dpopRequest("GET", dpopURL, plain, k.proof(t, proofClaims("GET", dpopURL, plain)))
		}, auth.ErrTokenNotDPoP},
		{"a token bound by a certificate", func(t *testing.T) *http.Request {
			x5t := sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, with(goodClaims(), "cnf", map[string]any{"x5t#S256": "abc"}))
			return dpopRequest("GET", dpopURL, x5t, k.proof(t, proofClaims("GET", dpopURL, x5t)))
		}, auth.ErrTokenNotDPoP},
		{"a bound token as a bearer token", func(t *testing.T) *http.Request { return bearer(tok) }, auth.ErrTokenBound},
		{"a bound token as a bearer token, with a proof", func(t *testing.T) *http.Request {
			r := bearer(tok)
			r.Header.Set("DPoP", k.proof(t, proofClaims("GET", "https://example.com/orders", tok)))
			return r
		}, auth.ErrTokenBound},
	}
	for _, cached := range []bool{false, true} {
		m := newDPoPJWT(t, auth.DPoPOptions{}, func(o *auth.JWTOptions) {
			if cached {
				o.CacheSize = 16
			}
		})
		for _, tt := range tests {
			t.Run(fmt.Sprintf("cached=%v/%s", cached, tt.name), func(t *testing.T) {
				w, id, err := serve(m, tt.req(t))
				if tt.want == nil {
					if err != nil || w.Code != http.StatusOK || id.Subject() != "alice" {
						t.Fatalf("status %d, reason %v; want 200 for alice", w.Code, err)
					}
					return
				}
				if w.Code != http.StatusUnauthorized || !errors.Is(err, tt.want) || !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("status %d, reason %v; want 401 for %v", w.Code, err, tt.want)
				}
				if strings.Contains(w.Body.String(), "htu") || strings.Contains(w.Body.String(), "jkt") {
					t.Errorf("the body tells the reason: %s", w.Body)
				}
			})
		}
	}
}

// A proof is good once: sent again, on this instance, it is a replay
// (RFC 9449 §11.1), even for the same request; a new proof with a new
// jti is accepted.
func TestDPoPProofReplayIsRefused(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	m := newDPoPJWT(t, auth.DPoPOptions{}, func(o *auth.JWTOptions) { o.CacheSize = 8 })
	p := k.proof(t, proofClaims("GET", dpopURL, tok))
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, p)); w.Code != http.StatusOK {
		t.Fatalf("first use: %d %v", w.Code, err)
	}
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, p)); w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrDPoPProof) || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("replay: %d %v; want 401, a replay", w.Code, err)
	}
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok)))); w.Code != http.StatusOK {
		t.Fatalf("a new proof: %d %v", w.Code, err)
	}
	// The same jti under another key is another proof.
	k2 := newECDPoPKey(t)
	tok2 := boundToken(t, k2.jkt)
	c := proofClaims("GET", dpopURL, tok2)
	c["jti"] = "shared"
	c1 := proofClaims("GET", dpopURL, tok)
	c1["jti"] = "shared"
	for _, r := range []*http.Request{dpopRequest("GET", dpopURL, tok, k.proof(t, c1)), dpopRequest("GET", dpopURL, tok2, k2.proof(t, c))} {
		if w, _, err := serve(m, r); w.Code != http.StatusOK {
			t.Fatalf("one jti under two keys: %d %v", w.Code, err)
		}
	}
}

// RFC 9449 §7.1: a 401 names the DPoP scheme with the algorithms it
// takes, and error="invalid_dpop_proof" for a bad proof; the Bearer
// challenge stays for bearer clients unless DPoP is required.
func TestDPoPChallenges(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	algs := `algs="ES256 ES384 EdDSA RS256 PS256"`
	tests := []struct {
		name     string
		required bool
		r        *http.Request
		want     []string
	}{
		{"no credentials", false, httptest.NewRequest("GET", dpopURL, nil),
			[]string{`Bearer realm="api"`, `DPoP realm="api", ` + algs}},
		{"a bad proof", false, dpopRequest("GET", dpopURL, tok, "x.y.z"),
			[]string{`Bearer realm="api"`, `DPoP realm="api", ` + algs + `, error="invalid_dpop_proof", error_description="The DPoP proof is invalid"`}},
		{"a bad token", false, dpopRequest("GET", dpopURL, flipSig(tok), k.proof(t, proofClaims("GET", dpopURL, flipSig(tok)))),
			[]string{`Bearer realm="api", error="invalid_token", error_description="The access token is invalid"`, `DPoP realm="api", ` + algs + `, error="invalid_token", error_description="The access token is invalid"`}},
		{"required: a bearer token", true, bearer(sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, goodClaims())),
			[]string{`DPoP realm="api", ` + algs + `, error="invalid_token", error_description="The access token is invalid"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newDPoPJWT(t, auth.DPoPOptions{Required: tt.required})
			w, _, _ := serve(m, tt.r)
			got := w.Header().Values("WWW-Authenticate")
			if w.Code != http.StatusUnauthorized || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%d, WWW-Authenticate %q; want 401, %q", w.Code, got, tt.want)
			}
		})
	}
}

// Without Required, bearer tokens without cnf still pass while clients
// move to DPoP; with it, they are refused.
func TestDPoPRequired(t *testing.T) {
	plain := sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, goodClaims())
	for _, required := range []bool{false, true} {
		m := newDPoPJWT(t, auth.DPoPOptions{Required: required})
		w, _, err := serve(m, bearer(plain))
		if required && (w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrTokenNotDPoP)) || !required && w.Code != http.StatusOK {
			t.Errorf("required=%v: a bearer token got %d %v", required, w.Code, err)
		}
	}
}

// Behind a proxy that terminates TLS the request arrives over HTTP for
// another host: htu is compared with Origin.
func TestDPoPOrigin(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	behind := func() *http.Request {
		return dpopRequest("GET", "http://10.0.0.7:8080/orders", tok, k.proof(t, proofClaims("GET", "https://api.example/orders", tok)))
	}
	if w, _, err := serve(newDPoPJWT(t, auth.DPoPOptions{}), behind()); w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrDPoPProof) {
		t.Errorf("without Origin: %d %v; want 401", w.Code, err)
	}
	if w, _, err := serve(newDPoPJWT(t, auth.DPoPOptions{Origin: "https://API.example:443"}), behind()); w.Code != http.StatusOK {
		t.Errorf("with Origin: %d %v; want 200", w.Code, err)
	}
}

// Behind a TLS-terminating proxy, ClientIP gives the scheme the client
// used (X-Forwarded-Proto from a trusted peer only) and its PublicOrigin
// the host; Origin, when set, wins.
func TestDPoPClientIP(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	viaProxy := clientip.MustNew(clientip.Options{TrustedProxies: proxies})
	public := clientip.MustNew(clientip.Options{TrustedProxies: proxies, PublicOrigin: "https://api.example"})
	tests := []struct {
		name   string
		opts   auth.DPoPOptions
		peer   string
		target string
		proto  string
		htu    string
		want   int
	}{
		{"through the proxy", auth.DPoPOptions{ClientIP: viaProxy}, "10.0.0.2:4711", "http://api.example/orders", "https", "https://api.example/orders", 200},
		{"through the proxy, default port", auth.DPoPOptions{ClientIP: viaProxy}, "10.0.0.2:4711", "http://API.example:443/orders", "https", "https://api.example/orders", 200},
		{"through the proxy, over http", auth.DPoPOptions{ClientIP: viaProxy}, "10.0.0.2:4711", "http://api.example/orders", "", "https://api.example/orders", 401},
		{"from an untrusted peer", auth.DPoPOptions{ClientIP: viaProxy}, "203.0.113.9:4711", "http://api.example/orders", "https", "https://api.example/orders", 401},
		{"without ClientIP", auth.DPoPOptions{}, "10.0.0.2:4711", "http://api.example/orders", "https", "https://api.example/orders", 401},
		{"a public origin", auth.DPoPOptions{ClientIP: public}, "10.0.0.2:4711", "http://10.0.0.7:8080/orders", "", "https://api.example/orders", 200},
		{"a public origin, another host in htu", auth.DPoPOptions{ClientIP: public}, "10.0.0.2:4711", "http://evil.example/orders", "https", "https://evil.example/orders", 401},
		{"Origin wins", auth.DPoPOptions{ClientIP: viaProxy, Origin: "https://other.example"}, "10.0.0.2:4711", "http://api.example/orders", "https", "https://api.example/orders", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := dpopRequest("GET", tc.target, tok, k.proof(t, proofClaims("GET", tc.htu, tok)))
			r.RemoteAddr = tc.peer
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if w, _, err := serve(newDPoPJWT(t, tc.opts), r); w.Code != tc.want {
				t.Errorf("%d (%v), want %d", w.Code, err, tc.want)
			}
		})
	}
}

func TestNewJWTRefusesUnsafeDPoPOptions(t *testing.T) {
	tests := []struct {
		name string
		d    auth.DPoPOptions
		more func(*auth.JWTOptions)
		want string
	}{
		{"an HMAC algorithm", auth.DPoPOptions{Algorithms: []string{"ES256", "HS256"}}, nil, "asymmetric"},
		{"alg none", auth.DPoPOptions{Algorithms: []string{"none"}}, nil, "none"},
		{"a negative MaxAge", auth.DPoPOptions{MaxAge: -time.Second}, nil, "MaxAge"},
		{"a MaxAge of an hour", auth.DPoPOptions{MaxAge: time.Hour}, nil, "MaxAge"},
		{"an Origin with a path", auth.DPoPOptions{Origin: "https://api.example/v1"}, nil, "Origin"},
		{"an Origin without a scheme", auth.DPoPOptions{Origin: "api.example"}, nil, "Origin"},
		{"bound tokens accepted as bearer tokens", auth.DPoPOptions{}, func(o *auth.JWTOptions) { o.DangerouslyAcceptBoundTokens = true }, "exclude"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := auth.JWTOptions{Issuer: "https://issuer.example", Audience: "api://orders", Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}}, DPoP: &tt.d}
			if tt.more != nil {
				tt.more(&o)
			}
			if _, err := auth.NewJWT(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewJWT() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestMemoryReplayCache(t *testing.T) {
	ctx := context.Background()
	c := auth.NewMemoryReplayCache(2)
	now := time.Now()
	for i, step := range []struct {
		key      string
		until    time.Time
		replayed bool
		err      error
	}{
		{"a", now.Add(time.Minute), false, nil},
		{"a", now.Add(time.Minute), true, nil},
		{"b", now.Add(-time.Second), false, nil}, // already expired: makes room
		{"c", now.Add(time.Minute), false, nil},
		{"d", now.Add(time.Minute), false, auth.ErrReplayCacheFull},
		{"a", now.Add(time.Minute), true, nil},
		{"c", now.Add(time.Minute), true, nil},
	} {
		replayed, err := c.Use(ctx, step.key, step.until)
		if replayed != step.replayed || !errors.Is(err, step.err) || (err == nil) != (step.err == nil) {
			t.Errorf("step %d: Use(%q) = %v, %v; want %v, %v", i, step.key, replayed, err, step.replayed, step.err)
		}
	}
	if c.Len() > 2 {
		t.Errorf("%d entries, bound 2", c.Len())
	}
}

// A proof is accepted only while the replay cache remembers its jti: one
// exactly MaxAge (plus Leeway) old was accepted at the instant its entry
// expired, and so accepted again, as often as it was sent.
func TestDPoPProofAtTheEdgeOfItsWindowIsUsedOnce(t *testing.T) {
	for _, leeway := range []time.Duration{0, 30 * time.Second} {
		k := newECDPoPKey(t)
		tok := boundToken(t, k.jkt)
		m := newDPoPJWT(t, auth.DPoPOptions{}, func(o *auth.JWTOptions) { o.Leeway = leeway })
		iat := testNow.Add(-auth.DefaultDPoPMaxAge - leeway).Unix()
		p := k.proof(t, with(proofClaims("GET", dpopURL, tok), "iat", iat))
		accepted := 0
		for range 3 {
			if w, _, _ := serve(m, dpopRequest("GET", dpopURL, tok, p)); w.Code == http.StatusOK {
				accepted++
			}
		}
		if accepted > 1 {
			t.Errorf("leeway %v: one proof accepted %d times", leeway, accepted)
		}
	}
}

// Once full, the cache sweeps when its earliest entry may have expired.
// An entry added after a sweep with an earlier expiry than every entry
// the sweep kept was not counted: once it expired, a full cache refused
// new proofs (503) until the kept entries expired too.
func TestMemoryReplayCacheSweepsAnEntryAddedAfterASweep(t *testing.T) {
	ctx := context.Background()
	c := auth.NewMemoryReplayCache(3)
	now := time.Now()
	live, gone := now.Add(time.Hour), now.Add(-time.Second)
	for i, step := range []struct {
		key   string
		until time.Time
	}{
		{"a", live}, {"b", gone}, {"c", gone},
		{"d", live}, // full: the sweep drops b and c and keeps a
		{"e", gone}, // expires before a
		{"f", live}, // full: e has expired, f takes its room
	} {
		if replayed, err := c.Use(ctx, step.key, step.until); replayed || err != nil {
			t.Errorf("step %d: Use(%q) = %v, %v; want false, nil", i, step.key, replayed, err)
		}
	}
	if c.Len() > 3 {
		t.Errorf("%d entries, bound 3", c.Len())
	}
}

// The zero MemoryReplayCache, as the zero MemoryDenylist, is ready to
// use: with DPoPOptions{Replay: &auth.MemoryReplayCache{}} every proof
// panicked (a nil clock, then a nil map).
func TestMemoryReplayCacheZeroValue(t *testing.T) {
	var c auth.MemoryReplayCache
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	if replayed, err := c.Use(ctx, "a", until); replayed || err != nil {
		t.Fatalf("first Use = %v, %v; want false, nil", replayed, err)
	}
	if replayed, err := c.Use(ctx, "a", until); !replayed || err != nil {
		t.Fatalf("second Use = %v, %v; want true, nil", replayed, err)
	}
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	m := newDPoPJWT(t, auth.DPoPOptions{Replay: &auth.MemoryReplayCache{}})
	p := k.proof(t, proofClaims("GET", dpopURL, tok))
	// (The cache runs on the wall clock, the JWT on the tests' fixed one:
	// only the use is checked here, the replay above.)
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, p)); w.Code != http.StatusOK {
		t.Fatalf("a proof with a zero MemoryReplayCache: %d %v", w.Code, err)
	}
}

// Check takes any request, as it does a bearer one: a request without a
// URL (built by hand, not by the server) has a proof for no URI, and was
// a nil dereference in the htu comparison.
func TestDPoPCheckOfARequestWithoutURL(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	m := newDPoPJWT(t, auth.DPoPOptions{})
	r := dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok)))
	r.URL = nil
	if err := m.Check(r); !errors.Is(err, auth.ErrDPoPProof) {
		t.Errorf("Check = %v, want ErrDPoPProof", err)
	}
}
