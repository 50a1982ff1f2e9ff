package auth_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// TestJWTRefusesSenderConstrainedTokens: a token bound to a key by a cnf
// claim (RFC 7800), to a DPoP key (RFC 9449 §6.1, cnf.jkt) or a client
// certificate (RFC 8705 §3.1, cnf.x5t#S256), is no bearer token: without
// a check of the proof, whoever stole it could use it. RFC 9449 §7.2
// requires a resource server that takes bearer tokens to refuse a
// DPoP-bound one sent as a bearer token; RFC 8705 §3 answers a token used
// without its certificate with 401 invalid_token. By default any cnf
// member, null included, refuses the token as ErrTokenBound, answered as
// any invalid token; DangerouslyAcceptBoundTokens, for a gateway that
// checks the proof, accepts them. Spellings the scanner never reads as a
// claim (an escaped name, a name sent twice) stay malformed either way.
func TestJWTRefusesSenderConstrainedTokens(t *testing.T) {
	k := keysOnce()
	base := `"iss":"https://issuer.example","aud":"api://orders","sub":"alice","exp":` +
		strconv.FormatInt(testNow.Unix()+600, 10) + `,"jti":"t1"`
	tok := func(claims string) string {
		return signRaw(t, jwt.SigningMethodHS256, k.hmac, rawSeg(`{"alg":"HS256"}`), rawSeg(`{`+base+claims+`}`))
	}
	tests := []struct {
		name   string
		claims string
		want   error // by default; nil for accepted
		wantOK bool  // accepted with DangerouslyAcceptBoundTokens
	}{
		{"no cnf: a bearer token", ``, nil, true},
		{"a DPoP key thumbprint (cnf.jkt)", `,"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`, auth.ErrTokenBound, true},
		{"a certificate thumbprint (cnf.x5t#S256)", `,"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}`, auth.ErrTokenBound, true},
		{"cnf among other claims", `,"cnf":{"jwk":{"kty":"EC"}},"scope":"a"`, auth.ErrTokenBound, true},
		{"cnf null: a member is there", `,"cnf":null`, auth.ErrTokenBound, true},
		{"cnf empty object", `,"cnf":{}`, auth.ErrTokenBound, true},
		{"cnf of another type", `,"cnf":"jkt"`, auth.ErrTokenBound, true},
		{"cnf nested garbage", `,"cnf":{"a":[1,{"b":[null,true,"x\u0000"]}],"jkt":7,"x5t#S256":[]}`, auth.ErrTokenBound, true},
		{"CNF in capitals, which encoding/json reads into a cnf field", `,"CNF":{"jkt":"x"}`, auth.ErrTokenBound, true},
		{"Cnf mixed case", `,"Cnf":{"jkt":"x"}`, auth.ErrTokenBound, true},
		{"cnf inside another claim is not this token's", `,"act":{"sub":"svc","cnf":{"jkt":"x"}}`, nil, true},
		{"a claim named like cnf but longer", `,"cnf_":1,"xcnf":2,"cn":3`, nil, true},
		{"cnf spelled with an escape", `,"c\u006ef":{"jkt":"x"}`, auth.ErrTokenMalformed, false},
		{"cnf sent twice", `,"cnf":null,"cnf":{"jkt":"x"}`, auth.ErrTokenMalformed, false},
		{"cnf invalid JSON", `,"cnf":{"jkt":}`, auth.ErrTokenMalformed, false},
		{"cnf nested too deep", `,"cnf":` + strings.Repeat(`[`, 20) + strings.Repeat(`]`, 20), auth.ErrTokenMalformed, false},
	}
	opts := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}}
	strict := newJWT(t, opts)
	opts.CacheSize = 16
	strictCached := newJWT(t, opts)
	opts.DangerouslyAcceptBoundTokens = true
	lax := newJWT(t, opts)
	bad, _, _ := serve(strict, bearer(flipSig(tok(""))))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tok(tt.claims)
			for _, m := range []*auth.JWT{strict, strictCached, strictCached} {
				w, id, err := serve(m, bearer(tk))
				if tt.want == nil {
					if err != nil || w.Code != 200 || id.Subject() != "alice" {
						t.Fatalf("status %d, reason %v; want 200 for alice", w.Code, err)
					}
					continue
				}
				if !errors.Is(err, tt.want) || !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("reason %v, want %v", err, tt.want)
				}
				// The client learns nothing more than from a bad signature.
				if w.Code != bad.Code || w.Header().Get("WWW-Authenticate") != bad.Header().Get("WWW-Authenticate") || w.Body.String() != bad.Body.String() {
					t.Fatalf("response %d %q %q, a bad signature gets %d %q %q", w.Code, w.Header().Get("WWW-Authenticate"), w.Body,
						bad.Code, bad.Header().Get("WWW-Authenticate"), bad.Body)
				}
			}
			if _, err := strict.Verify(context.Background(), tk); !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			w, _, err := serve(lax, bearer(tk))
			if (w.Code == 200) != tt.wantOK {
				t.Fatalf("DangerouslyAcceptBoundTokens: status %d, reason %v; accepted should be %v", w.Code, err, tt.wantOK)
			}
			if !tt.wantOK && !errors.Is(err, auth.ErrTokenMalformed) {
				t.Fatalf("DangerouslyAcceptBoundTokens: reason %v, want ErrTokenMalformed", err)
			}
		})
	}
}

// TestIssuerNeverIssuesCnf: the issuer writes no cnf of its own, and a
// Grant (or a TokenEndpoint's Claims) cannot add one in any spelling a
// verifier reads as cnf: it cannot honour the binding (it checks no DPoP
// proof and no client certificate), and a verifier that does would refuse
// the token, or one that does not would take an unproven binding.
func TestIssuerNeverIssuesCnf(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{Algorithm: "HS256", Key: k.hmac},
		Issuer: "https://issuer.example", Audience: []string{"api://orders"}}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cnf", "CNF", "Cnf"} {
		if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: map[string]any{name: map[string]any{"jkt": "x"}}}); err == nil {
			t.Errorf("Issue accepted a %s claim", name)
		}
	}
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	if _, err := m.Verify(context.Background(), at.Token); err != nil {
		t.Fatalf("an issued token is refused: %v", err)
	}
}
