package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// FuzzDPoPProof signs the header and claims the fuzzer writes with the
// client's key, as a client would, and sends the proof for a request of
// the fuzzer's method and path with a token bound to that key. Whatever
// the verifier accepts, an independent reading must accept too: the
// signature under the JWK of the header (golang-jwt), typ dpop+jwt, that
// JWK's RFC 7638 thumbprint (encoding/json, sorted members) equal to the
// token's cnf.jkt, htm the method, htu on the request's origin and path,
// ath the token's hash, a jti and an iat within the minute. Nothing may
// panic.
func FuzzDPoPProof(f *testing.F) {
	k := newECDPoPKey(f)
	tok := boundToken(f, k.jkt)
	hdr := func(h map[string]any) string { return string(must(json.Marshal(h))) }
	base := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk}
	good := string(must(json.Marshal(proofClaims("GET", dpopURL, tok))))
	f.Add(hdr(base), good, "GET", "/orders")
	f.Add(hdr(base), good, "GET", "/orders/")
	f.Add(hdr(base), good, "POST", "/orders")
	f.Add(hdr(with(map[string]any{"typ": "dpop+jwt", "alg": "ES256"}, "jwk", map[string]any{"kty": "EC", "crv": "P-256", "x": k.jwk["x"], "y": k.jwk["y"], "kid": "k"})), good, "GET", "/orders")
	f.Add(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"`+k.jwk["x"].(string)+`","y":"`+k.jwk["y"].(string)+`","x":"AA"}}`, good, "GET", "/orders")
	f.Add(`{"typ":"dpop+jwt","typ":"jwt","alg":"ES256","jwk":`+string(must(json.Marshal(k.jwk)))+`}`, good, "GET", "/orders")
	f.Add(`{"typ":"dpop\u002bjwt","alg":"ES256","jwk":`+string(must(json.Marshal(k.jwk)))+`}`, good, "GET", "/orders")
	f.Add(hdr(base), strings.Replace(good, `"htm":"GET"`, `"htm":"GET","htm":"POST"`, 1), "GET", "/orders")
	f.Add(hdr(base), strings.Replace(good, `"htu":"https://api.example/orders"`, `"htu":"https://api.example/%6Frders"`, 1), "GET", "/orders")
	f.Add(hdr(base), strings.Replace(good, `"htu":"https://api.example/orders"`, `"htu":"https://api.example/./orders"`, 1), "GET", "/orders")
	f.Add(hdr(base), strings.Replace(good, `"htu":"https://api.example/orders"`, `"htu":"https://api.example:443/orders?q#f"`, 1), "GET", "/orders")
	f.Add(hdr(base), strings.Replace(good, `"iat":`, `"iat":1e0,"x":`, 1), "GET", "/orders")

	m := newDPoPJWT(f, auth.DPoPOptions{
		Origin: "https://api.example", // the requests below come without TLS
		Replay: replayFunc(func(context.Context, string, time.Time) (bool, error) { return false, nil }),
	})
	priv := k.priv.(*ecdsa.PrivateKey)
	send := func(t testing.TB, header, claims, method, path string) (*http.Request, string, int, error) {
		r, err := http.NewRequest(method, "https://api.example"+path, nil)
		if err != nil {
			return nil, "", 0, err
		}
		hseg := base64.RawURLEncoding.EncodeToString([]byte(header))
		pseg := base64.RawURLEncoding.EncodeToString([]byte(claims))
		sig, err := jwt.SigningMethodES256.Sign(hseg+"."+pseg, priv)
		if err != nil {
			t.Fatal(err)
		}
		proof := hseg + "." + pseg + "." + base64.RawURLEncoding.EncodeToString(sig)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", proof)
		w, _, reason := serve(m, r)
		return r, proof, w.Code, reason
	}
	// The first seed is a valid proof: the property below is checked on
	// what is accepted, so the harness must let a valid proof through.
	if _, _, code, reason := send(f, hdr(base), good, "GET", "/orders"); code != http.StatusOK {
		f.Fatalf("the valid seed is refused: %d %v", code, reason)
	}
	f.Fuzz(func(t *testing.T, header, claims, method, path string) {
		if !isToken(method) || !strings.HasPrefix(path, "/") || len(path) > 256 || strings.ContainsAny(path, " \t\r\n#?") {
			return
		}
		r, proof, code, reason := send(t, header, claims, method, path)
		if r == nil || code != http.StatusOK {
			return
		}
		if why := referenceProof(proof, method, r.URL, tok, k.jkt); why != "" {
			t.Fatalf("accepted (reason %v), but the reference refuses it: %s\nheader %s\nclaims %s\n%s %s", reason, why, header, claims, method, path)
		}
	})
}

// isToken reports whether s is a non-empty HTTP token, a method.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// referenceProof checks a proof the verifier accepted, independently of
// it, and returns why it is not valid, or "".
func referenceProof(proof, method string, u *url.URL, tok, jkt string) string {
	var header map[string]any
	parsed, err := jwt.Parse(proof, func(t *jwt.Token) (any, error) {
		header = t.Header
		j, _ := t.Header["jwk"].(map[string]any)
		x, _ := base64.RawURLEncoding.DecodeString(str(j["x"]))
		y, _ := base64.RawURLEncoding.DecodeString(str(j["y"]))
		if j["kty"] != "EC" || j["crv"] != "P-256" || len(x) != 32 || len(y) != 32 {
			return nil, jwt.ErrInvalidKey
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber())
	if err != nil {
		return "golang-jwt: " + err.Error()
	}
	if typ, _ := header["typ"].(string); !strings.EqualFold(typ, "dpop+jwt") {
		return "typ"
	}
	if _, ok := header["crit"]; ok {
		return "crit"
	}
	j := header["jwk"].(map[string]any)
	canon, _ := json.Marshal(map[string]any{"crv": j["crv"], "kty": j["kty"], "x": j["x"], "y": j["y"]})
	if thumbprint(string(canon)) != jkt {
		return "thumbprint"
	}
	c := parsed.Claims.(jwt.MapClaims)
	h := sha256.Sum256([]byte(tok))
	htu, err := url.Parse(str(c["htu"]))
	switch {
	case err != nil:
		return "htu unparsable"
	case str(c["htm"]) != method:
		return "htm"
	case !strings.EqualFold(htu.Scheme, "https") || !strings.EqualFold(strings.TrimSuffix(htu.Host, ":443"), "api.example"):
		return "htu origin"
	case htu.Path != u.Path && !(htu.Path == "" && u.Path == "/"):
		return "htu path " + htu.Path + " for " + u.Path
	case str(c["ath"]) != b64(h[:]):
		return "ath"
	case str(c["jti"]) == "":
		return "jti"
	}
	iat, ok := c["iat"].(json.Number)
	n, err := iat.Float64()
	if !ok || err != nil || n > float64(testNow.Unix())+1 || n < float64(testNow.Add(-time.Minute).Unix())-1 {
		return "iat"
	}
	return ""
}

func str(v any) string { s, _ := v.(string); return s }
