package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/examples/secureapi/app"
)

// dpopClient is a client's DPoP key (RFC 9449).
type dpopClient struct {
	key *ecdsa.PrivateKey
	jwk map[string]any
}

func newDPoPClient(t testing.TB) dpopClient {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := k.PublicKey.Bytes() // 0x04 || x || y
	b64 := base64.RawURLEncoding.EncodeToString
	return dpopClient{key: k, jwk: map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}}
}

// proof is a proof by the key of a request of method to uri, with the
// access token tok ("" for a token request).
func (d dpopClient) proof(t testing.TB, method, uri, tok string) string {
	t.Helper()
	c := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": uri, "iat": time.Now().Unix()}
	if tok != "" {
		h := sha256.Sum256([]byte(tok))
		c["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	p := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	p.Header["typ"], p.Header["jwk"] = "dpop+jwt", d.jwk
	s, err := p.SignedString(d.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDPoPTokens: POST /token with a DPoP proof issues tokens bound to
// the client's key, which the API takes only with a proof by it; the
// refresh token is refused without one; a proof used on one instance is
// a replay on the other.
func TestDPoPTokens(t *testing.T) {
	t.Parallel()
	onInstances(t, nil, func(t *testing.T, servers []*testServer, _ *logBuffer) {
		shared := len(servers) > 1
		first, last := servers[0], servers[len(servers)-1]
		d := newDPoPClient(t)
		c := first.client(t)
		r := c.token("bob", testPassword, "", "DPoP", d.proof(t, "POST", first.URL+"/token", ""))
		tok := r.json(t)
		if r.StatusCode != http.StatusOK || tok["token_type"] != "DPoP" {
			t.Fatalf("token with a proof: %d %s", r.StatusCode, r.body)
		}
		access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

		me := func(s *testServer, proof string, scheme string) response {
			return s.client(t).get("/users/me/", "Authorization", scheme+" "+access, "DPoP", proof)
		}
		proof := d.proof(t, "GET", first.URL+"/users/me/", access)
		if r := me(first, proof, "DPoP"); r.StatusCode != http.StatusOK || r.json(t)["username"] != "bob" {
			t.Fatalf("the bound token with its proof: %d %s", r.StatusCode, r.body)
		}
		// The same proof again: a replay.
		if r := me(first, proof, "DPoP"); r.StatusCode != http.StatusUnauthorized || !strings.Contains(strings.Join(r.Header.Values("WWW-Authenticate"), "\n"), `DPoP realm="secureapi"`) ||
			!strings.Contains(strings.Join(r.Header.Values("WWW-Authenticate"), "\n"), "invalid_dpop_proof") {
			t.Errorf("a proof used twice: %d %q", r.StatusCode, r.Header.Values("WWW-Authenticate"))
		}
		if r := me(first, "", "Bearer"); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("the bound token as a bearer token: %d %s", r.StatusCode, r.body)
		}
		if r := me(last, d.proof(t, "GET", last.URL+"/users/me/", access), "DPoP"); r.StatusCode != http.StatusOK {
			t.Errorf("the bound token with a proof, at the last instance: %d %s", r.StatusCode, r.body)
		}

		// The refresh token is bound too: refused without a proof by
		// the key, on every instance, and usable with one.
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {refresh}}
		if r := last.client(t).postForm("/token", form); r.StatusCode != http.StatusBadRequest || r.json(t)["error"] != "invalid_dpop_proof" {
			t.Errorf("refresh without a proof: %d %s", r.StatusCode, r.body)
		}
		if r := last.client(t).postForm("/token", form, "DPoP", newDPoPClient(t).proof(t, "POST", last.URL+"/token", "")); r.StatusCode != http.StatusBadRequest || r.json(t)["error"] != "invalid_dpop_proof" {
			t.Errorf("refresh with another key's proof: %d %s", r.StatusCode, r.body)
		}
		tokenProof := d.proof(t, "POST", last.URL+"/token", "")
		if r := last.client(t).postForm("/token", form, "DPoP", tokenProof); r.StatusCode != http.StatusOK || r.json(t)["token_type"] != "DPoP" {
			t.Errorf("refresh with a proof by the key: %d %s", r.StatusCode, r.body)
		}
		// A bound token that lacks a scope gets the challenge in its
		// scheme (RFC 9449 §7.1).
		narrow := c.token("bob", testPassword, "profile:read", "DPoP", d.proof(t, "POST", first.URL+"/token", "")).json(t)["access_token"].(string)
		r = c.get("/items/1", "Authorization", "DPoP "+narrow, "DPoP", d.proof(t, "GET", first.URL+"/items/1", narrow))
		if want := `DPoP realm="secureapi", algs="ES256 EdDSA", error="insufficient_scope", error_description="The access token lacks a required scope", scope="items:read"`; r.StatusCode != http.StatusForbidden || r.Header.Get("WWW-Authenticate") != want {
			t.Errorf("a bound token without items:read: %d %q", r.StatusCode, r.Header.Values("WWW-Authenticate"))
		}
		if shared {
			// One Redis remembers proofs for both instances: the
			// proof the first took, sent to the second under the
			// first's name (the Host its htu names, as behind a load
			// balancer), is a replay there.
			proof := d.proof(t, "GET", first.URL+"/users/me/", access)
			if r := me(first, proof, "DPoP"); r.StatusCode != http.StatusOK {
				t.Fatalf("a fresh proof at the first instance: %d %s", r.StatusCode, r.body)
			}
			req, _ := http.NewRequest("GET", last.URL+"/users/me/", nil)
			req.Host = strings.TrimPrefix(first.URL, "http://")
			req.Header.Set("Authorization", "DPoP "+access)
			req.Header.Set("DPoP", proof)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), "\n"), "invalid_dpop_proof") {
				t.Errorf("the first instance's proof at the second: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
			}
		}
	})
}
