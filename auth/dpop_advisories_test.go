package auth_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// TestDPoPPeerReports replays the DPoP attacks peer implementations were
// reported for, each refused here.
func TestDPoPPeerReports(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	thief := newECDPoPKey(t)
	m := newDPoPJWT(t, auth.DPoPOptions{})
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
		want error
	}{
		// giantswarm/mcp-oauth#384: the proof's key was never compared
		// with cnf.jkt, so a stolen bound token went with a proof of the
		// thief's own key, ath and all correct.
		{"giantswarm/mcp-oauth#384 a stolen token with a proof of the thief's key", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, thief.proof(t, proofClaims("GET", dpopURL, tok)))
		}, auth.ErrDPoPProof},
		// descope/go-sdk#737 (review): a token without cnf.jkt skipped the
		// proof check, a downgrade of a DPoP request to a bearer one.
		{"descope/go-sdk#737 an unbound token under the DPoP scheme", func(t *testing.T) *http.Request {
			plain := sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, goodClaims())
			return dpopRequest("GET", dpopURL, plain, thief.proof(t, proofClaims("GET", dpopURL, plain)))
		}, auth.ErrTokenNotDPoP},
		// nuts-foundation/nuts-node#4112: an htu that net/url cannot parse
		// ("%zz") dereferenced a nil URL and crashed the handler.
		{"nuts-foundation/nuts-node#4112 an htu net/url cannot parse", func(t *testing.T) *http.Request {
			return dpopRequest("GET", dpopURL, tok, k.proof(t, with(proofClaims("GET", dpopURL, tok), "htu", "%zz")))
		}, auth.ErrDPoPProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, err := serve(m, tt.req(t))
			if w.Code != http.StatusUnauthorized || !errors.Is(err, tt.want) {
				t.Fatalf("%d %v; want 401 for %v", w.Code, err, tt.want)
			}
		})
	}
	// better-auth/better-auth#10039 (review): the replay key was made of
	// the raw htm and htu, so one proof replayed with another spelling of
	// them (or another query) was new to the cache. The key here is the
	// proof's key and jti alone.
	t.Run("better-auth/better-auth#10039 a replay under another spelling of htu", func(t *testing.T) {
		c := proofClaims("GET", dpopURL, tok)
		c2 := proofClaims("GET", dpopURL, tok)
		c2["jti"], c2["htu"] = c["jti"], "HTTPS://API.EXAMPLE:443/orders?again=1"
		if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, c))); w.Code != http.StatusOK {
			t.Fatalf("first proof: %d %v", w.Code, err)
		}
		if w, _, err := serve(m, dpopRequest("GET", dpopURL+"?x=1", tok, k.proof(t, c2))); w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrDPoPProof) {
			t.Fatalf("its jti again under another htu: %d %v; want 401, a replay", w.Code, err)
		}
	})
}
