package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/clientip"
)

// tokenURL is the URI of the fixture's token endpoint, as a request to
// "/token" made by httptest reaches it.
const tokenURL = "http://example.com/token"

// grantProof is a proof by k of a token request made now, with claims
// changed by kv (nil deletes one).
func grantProof(t testing.TB, k dpopKey, kv ...any) string {
	t.Helper()
	c := proofClaims(http.MethodPost, tokenURL, "")
	delete(c, "ath")
	c["iat"] = time.Now().Unix()
	return k.proof(t, with(c, kv...))
}

// withProof adds proofs to a token request, in DPoP headers.
func withProof(proofs ...string) func(*http.Request) {
	return func(r *http.Request) {
		for _, p := range proofs {
			r.Header.Add("DPoP", p)
		}
	}
}

// both applies each of mods to a request.
func both(mods ...func(*http.Request)) func(*http.Request) {
	return func(r *http.Request) {
		for _, m := range mods {
			m(r)
		}
	}
}

// newDPoPOAuth is the OAuth fixture with DPoP at the token endpoint, and
// a resource server that takes its tokens with DPoP.
func newDPoPOAuth(t testing.TB, d auth.DPoPOptions, mod func(*auth.TokenEndpointOptions)) (*oauthFixture, *auth.JWT) {
	t.Helper()
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.DPoP = &d
		if mod != nil {
			mod(o)
		}
	})
	rs, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{f.issuer.VerificationKey()},
		Issuer: "https://issuer.example", Audience: "api://orders", Type: auth.TypeAccessToken, DPoP: &auth.DPoPOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	return f, rs
}

// cnfJKT reads the cnf.jkt claim of a token, "" without one.
func cnfJKT(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Cnf *struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// useAt sends tok to the resource server rs with the DPoP scheme and a
// proof by k (none for a zero key) and returns the status.
func useAt(t testing.TB, rs *auth.JWT, tok string, k dpopKey) int {
	t.Helper()
	var proofs []string
	if k.priv != nil {
		c := proofClaims(http.MethodGet, dpopURL, tok)
		c["iat"] = time.Now().Unix()
		proofs = append(proofs, k.proof(t, c))
	}
	w := httptest.NewRecorder()
	rs.Handler(okHandler()).ServeHTTP(w, dpopRequest(http.MethodGet, dpopURL, tok, proofs...))
	return w.Code
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
}

// RFC 9449 §5: a token request with a proof gets tokens bound to the
// proof's key; a public client's refresh token is bound too, so that it
// is useless without the key, and refused without a proof by it without
// revoking anything; a confidential client's is not.
func TestTokenEndpointDPoP(t *testing.T) {
	f, rs := newDPoPOAuth(t, auth.DPoPOptions{}, nil)
	k, other := newECDPoPKey(t), newEdDPoPKey(t)
	alice := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web")

	res := f.post(t, alice, withProof(grantProof(t, k)))
	if res.status != 200 || res.str("token_type") != "DPoP" || res.str("refresh_token") == "" {
		t.Fatalf("password grant with a proof: %d %s (%v)", res.status, res.raw, res.reason)
	}
	at := res.str("access_token")
	if got := cnfJKT(t, at); got != k.jkt {
		t.Fatalf("cnf.jkt %q, want the proof key's %q", got, k.jkt)
	}
	if code := useAt(t, rs, at, k); code != 200 {
		t.Errorf("the bound token with a proof by its key: %d", code)
	}
	if code := useAt(t, rs, at, other); code != 401 {
		t.Errorf("the bound token with a proof by another key: %d", code)
	}
	if _, err := rs.Verify(context.Background(), at); !errors.Is(err, auth.ErrTokenBound) {
		t.Errorf("the bound token as a bearer token: %v", err)
	}

	// The public client's refresh token needs a proof by the same key.
	rt := res.str("refresh_token")
	refresh := func(rt string) func(...func(*http.Request)) tokenResult {
		return func(mods ...func(*http.Request)) tokenResult {
			return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), both(mods...))
		}
	}
	for name, mod := range map[string]func(*http.Request){
		"no proof":                 func(*http.Request) {},
		"a proof by another key":   withProof(grantProof(t, other)),
		"an invalid proof":         withProof(grantProof(t, k, "htm", "GET")),
		"a proof made for the API": withProof(k.proof(t, with(proofClaims(http.MethodGet, dpopURL, at), "iat", time.Now().Unix()))),
	} {
		res := refresh(rt)(mod)
		if res.status != 400 || res.str("error") != "invalid_dpop_proof" || res.str("access_token") != "" {
			t.Errorf("refresh with %s: %d %s", name, res.status, res.raw)
		}
	}
	res = refresh(rt)(withProof(grantProof(t, k)))
	if res.status != 200 || res.str("token_type") != "DPoP" || cnfJKT(t, res.str("access_token")) != k.jkt {
		t.Fatalf("refresh with a proof by the key, after the refusals: %d %s (%v)", res.status, res.raw, res.reason)
	}
	next := res.str("refresh_token")
	// The rotated token, presented without the key, is not taken for a
	// reuse: whoever stole it cannot end the family with it.
	if res := refresh(rt)(); res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("the rotated token without the key: %d %s", res.status, res.raw)
	}
	if res := refresh(next)(withProof(grantProof(t, k))); res.status != 200 {
		t.Errorf("the family after its rotated token came back without the key: %d %s (%v)", res.status, res.raw, res.reason)
	}

	// A confidential client's refresh token is not bound: it may refresh
	// without a proof (a bearer token) or with another key.
	cli := basicAuth("cli", "cli-secret")
	res = f.post(t, form("grant_type", "password", "username", "bob", "password", "battery staple"), both(cli, withProof(grantProof(t, k))))
	if res.status != 200 || res.str("token_type") != "DPoP" || cnfJKT(t, res.str("access_token")) != k.jkt {
		t.Fatalf("confidential password grant: %d %s", res.status, res.raw)
	}
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token")), cli)
	if res.status != 200 || res.str("token_type") != "Bearer" || cnfJKT(t, res.str("access_token")) != "" {
		t.Fatalf("confidential refresh without a proof: %d %s (%v)", res.status, res.raw, res.reason)
	}
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token")), both(cli, withProof(grantProof(t, other))))
	if res.status != 200 || res.str("token_type") != "DPoP" || cnfJKT(t, res.str("access_token")) != other.jkt {
		t.Fatalf("confidential refresh with another key: %d %s (%v)", res.status, res.raw, res.reason)
	}

	// client_credentials binds the client's token.
	res = f.post(t, form("grant_type", "client_credentials"), both(basicAuth("batch", "batch secret/+="), withProof(grantProof(t, other))))
	if res.status != 200 || res.str("token_type") != "DPoP" || cnfJKT(t, res.str("access_token")) != other.jkt {
		t.Fatalf("client_credentials with a proof: %d %s", res.status, res.raw)
	}

	// Without a proof, and DPoP not Required: bearer tokens, and a
	// public client's refresh token bound to nothing, until a refresh
	// with a proof binds its successor (RFC 9449 §5).
	res = f.post(t, alice, nil)
	if res.status != 200 || res.str("token_type") != "Bearer" || cnfJKT(t, res.str("access_token")) != "" {
		t.Fatalf("password grant without a proof: %d %s", res.status, res.raw)
	}
	res = refresh(res.str("refresh_token"))()
	if res.status != 200 || res.str("token_type") != "Bearer" {
		t.Fatalf("refresh of an unbound token without a proof: %d %s (%v)", res.status, res.raw, res.reason)
	}
	res = refresh(res.str("refresh_token"))(withProof(grantProof(t, k)))
	if res.status != 200 || res.str("token_type") != "DPoP" {
		t.Fatalf("refresh of an unbound token with a proof: %d %s (%v)", res.status, res.raw, res.reason)
	}
	bound := res.str("refresh_token")
	if res := refresh(bound)(); res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("its successor without a proof: %d %s", res.status, res.raw)
	}
	if res := refresh(bound)(withProof(grantProof(t, other))); res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("its successor with another key: %d %s", res.status, res.raw)
	}
	if res := refresh(bound)(withProof(grantProof(t, k))); res.status != 200 || cnfJKT(t, res.str("access_token")) != k.jkt {
		t.Errorf("its successor with the key: %d %s (%v)", res.status, res.raw, res.reason)
	}

	// A confidential client's successor stays unbound, whatever key
	// refreshed it.
	res = f.post(t, form("grant_type", "password", "username", "bob", "password", "battery staple"), cli)
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token")), both(cli, withProof(grantProof(t, k))))
	if res.status != 200 || res.str("token_type") != "DPoP" {
		t.Fatalf("confidential refresh with a proof: %d %s", res.status, res.raw)
	}
	if res := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token")), cli); res.status != 200 || res.str("token_type") != "Bearer" {
		t.Errorf("its successor without a proof: %d %s (%v)", res.status, res.raw, res.reason)
	}
}

// A public client's family begun without a proof and stolen: whichever of
// the thief and the client refreshes first with a key of its own binds
// the successor, and when the other presents the rotated token the family
// ends as on any reuse; within RefreshRetryWindow, a retry by another key
// gets nothing.
func TestTokenEndpointDPoPBindingAtRefreshKeepsReuseDetection(t *testing.T) {
	alice := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web")
	refresh := func(f *oauthFixture, rt string, k dpopKey) tokenResult {
		return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), withProof(grantProof(t, k)))
	}
	client, thief := newECDPoPKey(t), newEdDPoPKey(t)

	f, _ := newDPoPOAuth(t, auth.DPoPOptions{}, nil)
	stolen := f.post(t, alice, nil).str("refresh_token")
	theirs := refresh(f, stolen, thief)
	if theirs.status != 200 || cnfJKT(t, theirs.str("access_token")) != thief.jkt {
		t.Fatalf("the thief's refresh: %d %s", theirs.status, theirs.raw)
	}
	if res := refresh(f, stolen, client); res.status != 400 || res.str("error") != "invalid_grant" || !errors.Is(res.reason, auth.ErrRefreshTokenReused) {
		t.Errorf("the client's refresh after the thief's: %d %s (%v)", res.status, res.raw, res.reason)
	}
	if res := refresh(f, theirs.str("refresh_token"), thief); res.status != 400 || res.str("error") != "invalid_grant" {
		t.Errorf("the thief's successor after the reuse: %d %s", res.status, res.raw)
	}

	w, _ := newDPoPOAuth(t, auth.DPoPOptions{}, func(o *auth.TokenEndpointOptions) { o.RefreshRetryWindow = time.Minute })
	stolen = w.post(t, alice, nil).str("refresh_token")
	if res := refresh(w, stolen, client); res.status != 200 {
		t.Fatalf("the client's refresh: %d %s", res.status, res.raw)
	}
	if res := refresh(w, stolen, thief); res.status != 400 || res.str("error") != "invalid_dpop_proof" || res.str("access_token") != "" {
		t.Errorf("the thief's retry within the window, by another key: %d %s", res.status, res.raw)
	}
	if res := refresh(w, stolen, client); res.status != 200 || cnfJKT(t, res.str("access_token")) != client.jkt {
		t.Errorf("the client's retry within the window: %d %s (%v)", res.status, res.raw, res.reason)
	}
}

// The proof of a token request is checked as a resource server checks
// one, before the password: an invalid proof is refused with
// invalid_dpop_proof whatever the password, and issues nothing.
func TestTokenEndpointDPoPProofs(t *testing.T) {
	f, _ := newDPoPOAuth(t, auth.DPoPOptions{}, nil)
	k := newECDPoPKey(t)
	replayed := grantProof(t, k)
	if res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(replayed)); res.status != 200 {
		t.Fatalf("first use of a proof: %d %s", res.status, res.raw)
	}
	for _, tc := range []struct {
		name   string
		proofs []string
	}{
		{"replayed", []string{replayed}},
		{"for another method", []string{grantProof(t, k, "htm", "GET")}},
		{"for another URI", []string{grantProof(t, k, "htu", "http://example.com/other")}},
		{"for another host", []string{grantProof(t, k, "htu", "http://evil.example/token")}},
		{"too old", []string{grantProof(t, k, "iat", time.Now().Add(-2*time.Minute).Unix())}},
		{"from the future", []string{grantProof(t, k, "iat", time.Now().Add(time.Minute).Unix())}},
		{"without jti", []string{grantProof(t, k, "jti", nil)}},
		{"without iat", []string{grantProof(t, k, "iat", nil)}},
		{"of another typ", []string{k.proof(t, with(proofClaims(http.MethodPost, tokenURL, ""), "iat", time.Now().Unix()), "typ", "JWT")}},
		{"signed by another key", []string{grantProof(t, k)[:strings.LastIndexByte(grantProof(t, k), '.')] + "." + strings.Split(grantProof(t, newECDPoPKey(t)), ".")[2]}},
		{"twice", []string{grantProof(t, k), grantProof(t, k)}},
		{"not a JWS", []string{"proof"}},
		{"empty", []string{""}},
	} {
		for _, pw := range []string{"correct horse", "wrong"} {
			res := f.post(t, form("grant_type", "password", "username", "alice", "password", pw, "client_id", "web"), withProof(tc.proofs...))
			if tc.name == "replayed" && pw == "wrong" {
				// The jti is looked up once the password verified.
				if res.status != 400 || res.str("error") != "invalid_grant" {
					t.Errorf("a proof %s, password %q: %d %s (%v)", tc.name, pw, res.status, res.raw, res.reason)
				}
				continue
			}
			if res.status != 400 || res.str("error") != "invalid_dpop_proof" || res.str("access_token") != "" || !errors.Is(res.reason, auth.ErrDPoPProof) {
				t.Errorf("a proof %s, password %q: %d %s (%v)", tc.name, pw, res.status, res.raw, res.reason)
			}
		}
	}

	// Required: a token request without a proof is refused.
	req, _ := newDPoPOAuth(t, auth.DPoPOptions{Required: true}, nil)
	res := req.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("Required, no proof: %d %s", res.status, res.raw)
	}
	res = req.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(grantProof(t, k)))
	if res.status != 200 || res.str("token_type") != "DPoP" {
		t.Errorf("Required, a proof: %d %s", res.status, res.raw)
	}

	// Behind a trusted TLS-terminating proxy, the endpoint's ClientIP
	// gives the scheme the client used (httptest's peer is 192.0.2.1).
	proxied, _ := newDPoPOAuth(t, auth.DPoPOptions{}, func(o *auth.TokenEndpointOptions) {
		o.ClientIP = clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	})
	httpsProof := func(r *http.Request) {
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("DPoP", grantProof(t, k, "htu", "https://example.com/token"))
	}
	res = proxied.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), httpsProof)
	if res.status != 200 || res.str("token_type") != "DPoP" {
		t.Errorf("through a trusted proxy, a proof of https: %d %s (%v)", res.status, res.raw, res.reason)
	}
	res = f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), httpsProof)
	if res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("without ClientIP, X-Forwarded-Proto and a proof of https: %d %s", res.status, res.raw)
	}

	// Without DPoP, a proof is ignored: a bearer token.
	plain := newOAuth(t, nil)
	res = plain.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(grantProof(t, k)))
	if res.status != 200 || res.str("token_type") != "Bearer" || cnfJKT(t, res.str("access_token")) != "" {
		t.Errorf("no DPoP configured, a proof: %d %s", res.status, res.raw)
	}
}

// A proof's jti is spent only once the request is authenticated: a
// public client's requests with wrong passwords, which anyone can send,
// take no room in the replay cache (which a resource server may share),
// and a proof captured with a refresh, sent again with the rotated token,
// is refused without revoking the family.
func TestTokenEndpointDPoPSpendsProofsOfAuthenticatedRequests(t *testing.T) {
	cache := auth.NewMemoryReplayCache(3) // the three proofs this test spends
	f, _ := newDPoPOAuth(t, auth.DPoPOptions{Replay: cache}, nil)
	k := newECDPoPKey(t)
	for range 5 {
		res := f.post(t, form("grant_type", "password", "username", "alice", "password", "wrong", "client_id", "web"), withProof(grantProof(t, k)))
		if res.status != 400 || res.str("error") != "invalid_grant" {
			t.Fatalf("a wrong password: %d %s", res.status, res.raw)
		}
	}
	if n := cache.Len(); n != 0 {
		t.Errorf("%d proofs of wrong passwords remembered", n)
	}
	// A proof sent with a wrong password is unspent: it may come again.
	again := grantProof(t, k)
	f.post(t, form("grant_type", "password", "username", "alice", "password", "wrong", "client_id", "web"), withProof(again))
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(again))
	if res.status != 200 || cache.Len() != 1 {
		t.Fatalf("the right password: %d %s, %d proofs remembered", res.status, res.raw, cache.Len())
	}

	refresh := func(rt, proof string) tokenResult {
		return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), withProof(proof))
	}
	rt := res.str("refresh_token")
	captured := grantProof(t, k)
	next := refresh(rt, captured)
	if next.status != 200 {
		t.Fatalf("refresh: %d %s", next.status, next.raw)
	}
	if res := refresh(rt, captured); res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("the rotated token with the captured proof: %d %s", res.status, res.raw)
	}
	if res := refresh(next.str("refresh_token"), grantProof(t, k)); res.status != 200 {
		t.Errorf("the family after the captured request came again: %d %s (%v)", res.status, res.raw, res.reason)
	}
}

// RFC 9449 §8: with Nonces, a token request whose proof lacks the
// server's nonce is answered 400 use_dpop_nonce with one in DPoP-Nonce;
// the retry with it gets the tokens. A source that fails is a 503.
func TestTokenEndpointDPoPNonces(t *testing.T) {
	now := time.Now()
	f, _ := newDPoPOAuth(t, auth.DPoPOptions{Nonces: newNonces(t, nonceKey, &now)}, nil)
	k := newECDPoPKey(t)
	alice := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web")
	res := f.post(t, alice, withProof(grantProof(t, k)))
	nonce := res.header.Get("DPoP-Nonce")
	if res.status != 400 || res.str("error") != "use_dpop_nonce" || nonce == "" || !errors.Is(res.reason, auth.ErrDPoPNonce) {
		t.Fatalf("no nonce: %d %s %v (%v)", res.status, res.raw, res.header, res.reason)
	}
	if res := f.post(t, alice, withProof(grantProof(t, k, "nonce", "forged"))); res.status != 400 || res.str("error") != "use_dpop_nonce" {
		t.Errorf("a forged nonce: %d %s", res.status, res.raw)
	}
	res = f.post(t, alice, withProof(grantProof(t, k, "nonce", nonce)))
	if res.status != 200 || res.str("token_type") != "DPoP" {
		t.Fatalf("retry with the nonce: %d %s (%v)", res.status, res.raw, res.reason)
	}
	// A minute on, the nonce is about to expire: the answer carries the
	// next one.
	now = now.Add(time.Minute)
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), withProof(grantProof(t, k, "nonce", nonce)))
	if res.status != 200 || res.header.Get("DPoP-Nonce") == "" || res.header.Get("DPoP-Nonce") == nonce {
		t.Errorf("refresh with a nonce about to expire: %d %s %v (%v)", res.status, res.raw, res.header, res.reason)
	}

	down, _ := newDPoPOAuth(t, auth.DPoPOptions{Nonces: nonceFunc{
		nonce: func() (string, error) { return "", errors.New("nonce store down") },
		check: func(string) (bool, string, error) { return false, "", errors.New("nonce store down") },
	}}, nil)
	res = down.post(t, alice, withProof(grantProof(t, k, "nonce", "x")))
	if res.status != 503 || res.str("error") != "temporarily_unavailable" || res.header.Get("DPoP-Nonce") != "" {
		t.Errorf("nonce source down: %d %s %v", res.status, res.raw, res.header)
	}
}

// A store that loses a refresh token's DPoP key must not turn the token
// into one usable without the key: its Credential covers the key, and the
// refresh is refused as after a password change.
func TestTokenEndpointDPoPBindingLostByTheStore(t *testing.T) {
	var store forgetfulStore
	store.RefreshStore = auth.NewMemoryRefreshStore()
	f, _ := newDPoPOAuth(t, auth.DPoPOptions{}, func(o *auth.TokenEndpointOptions) { o.RefreshStore = &store })
	k := newECDPoPKey(t)
	// Each case has a family of its own: the first refusal revokes the
	// family, and a second refresh of it is refused as revoked whether or
	// not Credential covers the key (found in review: one of the two
	// cases, whichever the map gave second, could not fail).
	for name, mod := range map[string]func(*http.Request){"without a proof": nil, "with a proof by the key": withProof(grantProof(t, k))} {
		store.dropJKT = false
		res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(grantProof(t, k)))
		if res.status != 200 {
			t.Fatalf("password grant: %d %s", res.status, res.raw)
		}
		store.dropJKT = true
		res = f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), mod)
		if res.status != 400 || res.str("error") != "invalid_grant" || res.str("access_token") != "" || !errors.Is(res.reason, auth.ErrInvalidCredentials) {
			t.Errorf("refresh %s, the store having dropped the key: %d %s (%v)", name, res.status, res.raw, res.reason)
		}
	}
}

// forgetfulStore is a RefreshStore that, once told to, returns tokens
// without their DPoP key, as a store written before the field would.
type forgetfulStore struct {
	auth.RefreshStore
	dropJKT bool
}

func (s *forgetfulStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	t, found, err := s.RefreshStore.Lookup(ctx, hash)
	if s.dropJKT {
		t.JKT = ""
	}
	return t, found, err
}

// Within RefreshRetryWindow, a retry of a bound refresh token needs a
// proof by its key too; without one, it revokes nothing.
func TestTokenEndpointDPoPRefreshRetry(t *testing.T) {
	f, _ := newDPoPOAuth(t, auth.DPoPOptions{}, func(o *auth.TokenEndpointOptions) { o.RefreshRetryWindow = time.Minute })
	k := newECDPoPKey(t)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(grantProof(t, k)))
	rt := res.str("refresh_token")
	refresh := func(mod func(*http.Request)) tokenResult {
		return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), mod)
	}
	first := refresh(withProof(grantProof(t, k)))
	if first.status != 200 {
		t.Fatalf("refresh: %d %s", first.status, first.raw)
	}
	if res := refresh(nil); res.status != 400 || res.str("error") != "invalid_dpop_proof" {
		t.Errorf("retry without a proof: %d %s", res.status, res.raw)
	}
	retry := refresh(withProof(grantProof(t, k)))
	if retry.status != 200 || retry.str("refresh_token") != first.str("refresh_token") || cnfJKT(t, retry.str("access_token")) != k.jkt {
		t.Errorf("retry with a proof: %d %s (%v)", retry.status, retry.raw, retry.reason)
	}
}

func TestNewTokenEndpointRefusesUnsafeDPoPOptions(t *testing.T) {
	for name, d := range map[string]auth.DPoPOptions{
		"a symmetric algorithm": {Algorithms: []string{"HS256"}},
		"alg none":              {Algorithms: []string{"none"}},
		"MaxAge too long":       {MaxAge: time.Hour},
		"an Origin with a path": {Origin: "https://issuer.example/token"},
		"a zero HMACNonces":     {Nonces: &auth.HMACNonces{}},
	} {
		o := auth.TokenEndpointOptions{Issuer: newOAuth(t, nil).issuer, Clients: []auth.Client{{ID: "batch", SecretHash: mustHash(t, "s"), Grants: []string{auth.GrantClientCredentials}}},
			Hasher: oauthHasher, DPoP: &d}
		if _, err := auth.NewTokenEndpoint(o); err == nil {
			t.Errorf("%s: NewTokenEndpoint accepted it", name)
		}
	}
}

// Issue binds a token to a DPoP key with Grant.JKT, which must be a
// thumbprint, and leaves one claim fewer to Grant.Claims.
func TestIssueDPoPBound(t *testing.T) {
	iss := newOAuth(t, nil).issuer
	k := newECDPoPKey(t)
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", JKT: k.jkt})
	if err != nil || cnfJKT(t, at.Token) != k.jkt {
		t.Fatalf("Issue with JKT: %v", err)
	}
	for _, bad := range []string{"x", k.jkt + "A", k.jkt[:42], k.jkt[:42] + "=", k.jkt[:42] + "+", strings.Repeat("A", 42) + "B", k.jkt[:42] + "\n"} {
		if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", JKT: bad}); err == nil {
			t.Errorf("Issue took JKT %q", bad)
		}
	}
	claims := func(n int) map[string]any {
		m := map[string]any{}
		for i := range n {
			m["c"+strings.Repeat("x", i)] = i
		}
		return m
	}
	if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", JKT: k.jkt, Claims: claims(53)}); err != nil {
		t.Errorf("53 claims with JKT: %v", err)
	}
	if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", JKT: k.jkt, Claims: claims(54)}); err == nil {
		t.Error("54 claims with JKT: issued, and no JWT here would take the token")
	}
	if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Claims: claims(54)}); err != nil {
		t.Errorf("54 claims without JKT: %v", err)
	}
}

// FuzzTokenEndpointDPoP sends token requests with arbitrary DPoP headers
// to an endpoint that requires DPoP: it never answers 5xx, every answer
// is RFC 6749 JSON, and tokens are issued only for a valid proof, each
// one once, bound to its key.
func FuzzTokenEndpointDPoP(f *testing.F) {
	// A key and proofs that every fuzzing process makes alike (Ed25519
	// signs deterministically), so that a worker knows the valid proofs
	// of the corpus the coordinator made.
	k := edDPoPKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	n := 0
	at := func(kv ...any) string {
		n++
		c := map[string]any{"jti": fmt.Sprint("seed-", n), "htm": "POST", "htu": tokenURL, "iat": testNow.Unix()}
		return k.proof(f, with(c, kv...))
	}
	valid := map[string]bool{}
	for range 3 {
		p := at()
		valid[p] = true
		f.Add(p, "grant_type=password&username=alice&password=correct+horse&client_id=web")
	}
	f.Add(at("htm", "GET"), "grant_type=password&username=alice&password=correct+horse&client_id=web")
	f.Add(at("htu", "http://example.com/token/"), "grant_type=refresh_token&refresh_token=x&client_id=web")
	f.Add(at("jti", nil), "grant_type=password&username=bob&password=battery+staple&client_id=web")
	f.Add(k.proof(f, map[string]any{"jti": "x", "htm": "POST", "htu": tokenURL, "iat": testNow.Unix()}, "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}), "grant_type=password")
	f.Add("e30.e30.e30", "grant_type=password&username=alice&password=correct+horse&client_id=web")
	fx, _ := newDPoPOAuth(f, auth.DPoPOptions{Required: true}, func(o *auth.TokenEndpointOptions) {
		*o = auth.WithTokenEndpointClock(*o, func() time.Time { return testNow })
	})
	used := map[string]bool{}
	codes := map[string]bool{"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
		"unsupported_grant_type": true, "invalid_scope": true, "invalid_dpop_proof": true}
	f.Fuzz(func(t *testing.T, proof, body string) {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header["Dpop"] = []string{proof}
		w := httptest.NewRecorder()
		fx.ep.ServeHTTP(w, r)
		var resp map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("body not JSON: %q", w.Body)
		}
		if w.Code >= 500 {
			t.Fatalf("status %d: %v", w.Code, resp)
		}
		if w.Code != 200 {
			if c, _ := resp["error"].(string); !codes[c] {
				t.Fatalf("error code %q", c)
			}
			return
		}
		tok, _ := resp["access_token"].(string)
		if !valid[proof] || used[proof] || resp["token_type"] != "DPoP" || cnfJKT(t, tok) != k.jkt {
			t.Fatalf("tokens issued for proof %q (valid %v, used before %v): %v", proof, valid[proof], used[proof], resp)
		}
		used[proof] = true
	})
}

// RFC 7009: a DPoP-bound access token and refresh token are revoked as
// any other, without a proof, and the resource server refuses the access
// token from then on, even with a proof by its key.
func TestRevocationEndpointRevokesDPoPBoundTokens(t *testing.T) {
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.DPoP = &auth.DPoPOptions{} })
	rs, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{f.issuer.VerificationKey()},
		Issuer: "https://issuer.example", Audience: "api://orders", Type: auth.TypeAccessToken, DPoP: &auth.DPoPOptions{},
		Denylist: auth.NewMemoryDenylist()})
	if err != nil {
		t.Fatal(err)
	}
	re, err := auth.NewRevocationEndpoint(auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: rs})
	if err != nil {
		t.Fatal(err)
	}
	k := newECDPoPKey(t)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), withProof(grantProof(t, k)))
	at, rt := res.str("access_token"), res.str("refresh_token")
	if code := useAt(t, rs, at, k); code != 200 {
		t.Fatalf("before the revocation: %d", code)
	}
	for what, tok := range map[string]string{"access": at, "refresh": rt} {
		r := serveOAuth(t, re, http.MethodPost, "/revoke", "application/x-www-form-urlencoded", form("token", tok, "client_id", "web").Encode(), nil, false)
		if r.status != 200 {
			t.Fatalf("revoking the %s token: %d %s (%v)", what, r.status, r.raw, r.reason)
		}
	}
	if code := useAt(t, rs, at, k); code != 401 {
		t.Errorf("the revoked access token with a proof: %d", code)
	}
	res = f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), withProof(grantProof(t, k)))
	if res.status != 400 || res.str("error") != "invalid_grant" {
		t.Errorf("the revoked refresh token with a proof: %d %s", res.status, res.raw)
	}
}
