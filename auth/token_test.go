package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

func TestIssuerTokensVerifyForEveryAlgorithm(t *testing.T) {
	k := keysOnce()
	for _, tt := range []struct {
		alg string
		key any
	}{
		{auth.AlgHS256, k.hmac}, {auth.AlgEdDSA, k.ed}, {auth.AlgES256, k.ec}, {auth.AlgES384, k.ec384},
		{auth.AlgRS256, k.rsa}, {auth.AlgPS256, k.rsa},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{ID: "kid-" + tt.alg, Algorithm: tt.alg, Key: tt.key}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}, TTL: 5 * time.Minute}, testClock))
			if err != nil {
				t.Fatal(err)
			}
			at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"orders:read"}, ClientID: "web"})
			if err != nil {
				t.Fatal(err)
			}
			if at.ID == "" || !at.ExpiresAt.Equal(testNow.Add(5*time.Minute)) {
				t.Errorf("token metadata %+v", at)
			}
			m := newJWT(t, auth.JWTOptions{Algorithms: []string{tt.alg}, Keys: []auth.Key{iss.VerificationKey()}, Type: auth.TypeAccessToken, IdentityClaims: []string{"client_id", "jti"}})
			id, err := m.Verify(context.Background(), at.Token)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject() != "alice" || !id.HasRole("admin") || !id.HasScope("orders:read") {
				t.Errorf("identity %v %v %v", id.Subject(), id.Roles(), id.Scopes())
			}
			if v, _ := id.Claim("client_id"); v != "web" {
				t.Errorf("client_id %v", v)
			}
			if v, _ := id.Claim("jti"); v != at.ID {
				t.Errorf("jti %v", v)
			}
			tok, _, _ := jwt.NewParser().ParseUnverified(at.Token, jwt.MapClaims{})
			if tok.Header["kid"] != "kid-"+tt.alg || tok.Header["typ"] != "at+jwt" {
				t.Errorf("header %v", tok.Header)
			}
		})
	}
}

func TestIssuerJWKSHandler(t *testing.T) {
	k := keysOnce()
	old, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "new", Algorithm: auth.AlgEdDSA, Key: k.ed}, PublishKeys: []auth.Key{{ID: "old", Algorithm: auth.AlgES256, Key: &old.PublicKey}}, Issuer: "https://i.example"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	body, _ := io.ReadAll(w.Body)
	if strings.Contains(string(body), `"d"`) {
		t.Fatalf("private key material published: %s", body)
	}
	keys, err := auth.ParseJWKS(body)
	if err != nil || len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" {
		t.Fatalf("%v %v", keys, err)
	}
	if pub, ok := keys[0].Key.(ed25519.PublicKey); !ok || !pub.Equal(k.ed.Public()) {
		t.Errorf("published key differs")
	}
	w = httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d", w.Code)
	}
	hs, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: k.hmac}, Issuer: "https://i.example"})
	if string(hs.JWKS()) != `{"keys":[]}` {
		t.Errorf("HMAC issuer published %s", hs.JWKS())
	}
}

// IssuerOptions.TTL defaults to DefaultAccessTokenTTL (15 minutes) and
// may be as long as MaxAccessTokenTTL (24 hours); the type defaults to
// TypeAccessToken.
func TestIssuerTTLDefaultAndLimit(t *testing.T) {
	if auth.DefaultAccessTokenTTL != 15*time.Minute || auth.MaxAccessTokenTTL != 24*time.Hour {
		t.Fatalf("DefaultAccessTokenTTL %v, MaxAccessTokenTTL %v", auth.DefaultAccessTokenTTL, auth.MaxAccessTokenTTL)
	}
	k := keysOnce()
	for _, tt := range []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"no TTL gives the default", 0, auth.DefaultAccessTokenTTL},
		{"a TTL of MaxAccessTokenTTL is accepted", auth.MaxAccessTokenTTL, auth.MaxAccessTokenTTL},
		{"a TTL of one second is accepted", time.Second, time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example", TTL: tt.ttl}, testClock))
			if err != nil {
				t.Fatal(err)
			}
			if iss.TTL() != tt.want {
				t.Errorf("TTL() = %v, want %v", iss.TTL(), tt.want)
			}
			at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if !at.ExpiresAt.Equal(testNow.Add(tt.want)) {
				t.Errorf("token expires at %v, want %v", at.ExpiresAt, testNow.Add(tt.want))
			}
			tok, _, _ := jwt.NewParser().ParseUnverified(at.Token, jwt.MapClaims{})
			if tok.Header["typ"] != auth.TypeAccessToken {
				t.Errorf("typ %v, want %q", tok.Header["typ"], auth.TypeAccessToken)
			}
		})
	}
}

func TestNewIssuerRejectsUnsafeOptions(t *testing.T) {
	k := keysOnce()
	otherD := &rsa.PrivateKey{PublicKey: k.rsa.PublicKey, D: k.evilRSA.D, Primes: k.rsa.Primes}
	for _, tt := range []struct {
		name string
		o    auth.IssuerOptions
		want string
	}{
		{"no algorithm", auth.IssuerOptions{Key: auth.Key{Key: k.ed}, Issuer: "x"}, "Algorithm is required"},
		{"alg none", auth.IssuerOptions{Key: auth.Key{Algorithm: "none", Key: k.ed}, Issuer: "x"}, "Algorithm is required"},
		{"a public key", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed.Public()}, Issuer: "x"}, "private key"},
		{"a short secret", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: []byte("short")}, Issuer: "x"}, "at least 32"},
		{"a mismatched algorithm", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgRS256, Key: k.ec}, Issuer: "x"}, "does not suit"},
		{"no issuer", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}}, "Issuer is required"},
		{"a TTL of a week", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "x", TTL: 7 * 24 * time.Hour}, "TTL"},
		{"a TTL just over MaxAccessTokenTTL", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "x", TTL: auth.MaxAccessTokenTTL + time.Second}, "TTL"},
		{"a negative TTL", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "x", TTL: -time.Minute}, "TTL"},
		{"a published secret", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "x", PublishKeys: []auth.Key{{Key: k.hmac}}}, "never published"},
		// A key buffer left unfilled signs tokens anyone can mint.
		{"an all-zero secret", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: make([]byte, 32)}, Issuer: "x"}, "all zero bytes"},
		{"an Ed25519 key of an all-zero seed", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}, Issuer: "x"}, "all-zero seed"},
		{"an Ed25519 key whose public half was never filled", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: unfilledEd25519(k.ed)}, Issuer: "x"}, "second half"},
		{"a published Ed25519 key of small order", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "x", PublishKeys: []auth.Key{{Key: ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))}}}, "small order"},
		{"a published key of an all-zero seed", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "x", PublishKeys: []auth.Key{{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()}}}, "all-zero seed"},
		// Found in review: accepted, and every Issue failed ("invalid CRT
		// exponent"), a 500 for every token request.
		{"an RSA key with another key's private exponent", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgRS256, Key: otherD}, Issuer: "x"}, "RSA private key"},
		{"an RSA key without its private exponent", auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgRS256, Key: &rsa.PrivateKey{PublicKey: k.rsa.PublicKey}}, Issuer: "x"}, "RSA private key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewIssuer(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := (*auth.Issuer)(nil).Issue(context.Background(), auth.Grant{Subject: "a"}); err == nil {
		t.Error("nil Issuer issued a token")
	}
}

// The package doc lists the members of an issued access token: sub,
// roles, scope, client_id, iss, aud, iat, nbf, exp, a random jti, typ
// at+jwt and kid. Each is pinned here, iat and nbf at the time of issue,
// and the jti differs between two tokens of one grant, so that revoking
// one (by its jti) leaves the other valid.
func TestIssuerTokenMembers(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{ID: "ed-1", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}, TTL: 5 * time.Minute}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	g := auth.Grant{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"orders:read", "orders:write"}, ClientID: "web"}
	first, err := iss.Issue(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	second, err := iss.Issue(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(first.Token, claims)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["typ"] != "at+jwt" || tok.Header["kid"] != "ed-1" || tok.Header["alg"] != "EdDSA" {
		t.Errorf("header %v", tok.Header)
	}
	now := float64(testNow.Truncate(time.Second).Unix())
	want := map[string]any{
		"sub": "alice", "roles": []any{"admin"}, "scope": "orders:read orders:write", "client_id": "web",
		"iss": "https://issuer.example", "aud": []any{"api://orders"},
		"iat": now, "nbf": now, "exp": now + 300, "jti": first.ID,
	}
	for name, w := range want {
		if got, ok := claims[name]; !ok || fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s = %v (present %v); want %v", name, got, ok, w)
		}
	}
	if len(claims) != len(want) {
		t.Errorf("claims %v; want exactly %v", claims, want)
	}
	if first.ID == "" || first.ID == second.ID {
		t.Fatalf("jti %q and %q; want two different random values", first.ID, second.ID)
	}

	dl := auth.NewMemoryDenylistWithClock(testClock)
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()}, Type: auth.TypeAccessToken, Denylist: dl})
	if err := m.Revoke(context.Background(), first.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(context.Background(), first.Token); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("the revoked token: %v; want ErrTokenRevoked", err)
	}
	if _, err := m.Verify(context.Background(), second.Token); err != nil {
		t.Errorf("the other token of the same grant after the revocation: %v; want valid", err)
	}
}

// TestZeroIssuer: the zero and the nil Issuer are not usable, and say so:
// Issue fails, JWKSHandler answers 500 (it answered 200 with an empty
// body, cacheable for five minutes, which a verifier fetching it took for
// a key set that did not parse), and the other methods return nothing
// instead of panicking on a nil Issuer.
func TestZeroIssuer(t *testing.T) {
	for name, is := range map[string]*auth.Issuer{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			if _, err := is.Issue(context.Background(), auth.Grant{Subject: "alice"}); err == nil {
				t.Error("Issue succeeded")
			}
			rec := httptest.NewRecorder()
			is.JWKSHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/jwks", nil))
			if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Header().Get("Cache-Control"), "public") {
				t.Errorf("JWKSHandler: %d %v %q", rec.Code, rec.Header(), rec.Body)
			}
			if is.TTL() != 0 || is.JWKS() != nil || is.VerificationKey().Key != nil {
				t.Errorf("TTL %v, JWKS %q, VerificationKey %v", is.TTL(), is.JWKS(), is.VerificationKey())
			}
		})
	}
}

// TestIssuerRefusesInvalidUTF8: Issue refuses a Grant whose subject, client
// ID, roles or audience are not valid UTF-8. encoding/json writes each
// invalid byte as U+FFFD, so the subjects "alice\xff" and "alice\xfe" (a
// user store's bytes) got tokens of one and the same sub, each accepted as
// the other's.
func TestIssuerRefusesInvalidUTF8(t *testing.T) {
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example"}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]auth.Grant{
		"a subject":   {Subject: "alice\xff"},
		"a client ID": {Subject: "alice", ClientID: "web\xfe"},
		"a role":      {Subject: "alice", Roles: []string{"admin\xff"}},
		"an audience": {Subject: "alice", Audience: []string{"api://orders\xff"}},
	} {
		if at, err := iss.Issue(context.Background(), g); err == nil {
			var c jwt.MapClaims
			_, _, _ = jwt.NewParser().ParseUnverified(at.Token, &c)
			t.Errorf("%s of invalid UTF-8 issued: %v", name, c)
		}
	}
	if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "zoë", ClientID: "web", Roles: []string{"rôle"}, Audience: []string{"api://orders"}}); err != nil {
		t.Error(err)
	}
	for name, o := range map[string]auth.IssuerOptions{
		"an issuer":   {Issuer: "https://issuer.example\xff"},
		"an audience": {Issuer: "https://issuer.example", Audience: []string{"api://orders\xff"}},
	} {
		o.Key = auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed}
		if _, err := auth.NewIssuer(o); err == nil {
			t.Errorf("NewIssuer took %s of invalid UTF-8", name)
		}
	}
}

// TestIssuerRefusesEmptyAudiences: an empty string is no audience. Found in
// review: NewIssuer took IssuerOptions.Audience [""] and Issue a
// Grant.Audience [""], and every token so issued carried "aud": [""],
// which every verifier refuses (CVE-2020-26160: an empty aud must not
// pass an audience check), so each request bearing one was a 401; the
// verifier's own JWTOptions.Audiences refuses an empty entry at NewJWT.
func TestIssuerRefusesEmptyAudiences(t *testing.T) {
	k := keysOnce()
	key := auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}
	for _, aud := range [][]string{{""}, {"api://orders", ""}} {
		if _, err := auth.NewIssuer(auth.IssuerOptions{Key: key, Issuer: "https://issuer.example", Audience: aud}); err == nil || !strings.Contains(err.Error(), "Audience") {
			t.Errorf("NewIssuer with Audience %q: error %v, want one naming Audience", aud, err)
		}
	}
	iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: key, Issuer: "https://issuer.example", Audience: []string{"api://orders"}}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	for _, aud := range [][]string{{""}, {"api://orders", ""}} {
		if at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Audience: aud}); err == nil {
			var c jwt.MapClaims
			_, _, _ = jwt.NewParser().ParseUnverified(at.Token, &c)
			t.Errorf("Grant.Audience %q issued: aud %v", aud, c["aud"])
		}
	}
}

// TestIssuerRefusesControlCharacters: an issuer or audience with a control
// character (a line break kept from the file it was read from) is refused,
// as NewJWT refuses it for the verifier: tokens were issued whose iss or
// aud no verifier here could be configured to accept.
func TestIssuerRefusesControlCharacters(t *testing.T) {
	k := keysOnce()
	key := auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}
	for name, o := range map[string]auth.IssuerOptions{
		"an issuer":   {Issuer: "https://issuer.example\n"},
		"an audience": {Issuer: "https://issuer.example", Audience: []string{"api://orders\r\n"}},
	} {
		o.Key = key
		if _, err := auth.NewIssuer(o); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("NewIssuer with %s of a control character: error %v", name, err)
		}
	}
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: key, Issuer: "https://issuer.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Audience: []string{"api://orders\x00"}}); err == nil {
		t.Error("Grant.Audience with a control character issued")
	}
}

// NewIssuer copies what it needs: a caller that wipes the key bytes it
// passed, as is routine once a key is loaded, does not change the key the
// issuer signs with. An Ed25519 private key is a byte slice, like an HMAC
// secret, and was kept as given: wiped, it signed every token with the
// zero seed, which no verifier of the published key accepted.
func TestNewIssuerKeepsACopyOfItsKey(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		alg  string
		key  func() (any, []byte) // the key, and the bytes the caller wipes
	}{
		{"HMAC secret", auth.AlgHS256, func() (any, []byte) {
			b := []byte("0123456789abcdef0123456789abcdef")
			return b, b
		}},
		{"Ed25519 private key", auth.AlgEdDSA, func() (any, []byte) {
			k := ed25519.NewKeyFromSeed(seed)
			return k, k
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, wipe := tt.key()
			iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k", Algorithm: tt.alg, Key: key}, Issuer: "https://auth.example"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{tt.alg}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://auth.example"})
			if err != nil {
				t.Fatal(err)
			}
			clear(wipe)
			at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Verify(context.Background(), at.Token); err != nil {
				t.Errorf("a token issued after the caller wiped its key does not verify: %v", err)
			}
		})
	}
}
