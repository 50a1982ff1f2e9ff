package auth_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// newAudJWT is NewJWT on the test clock with HS256 and the test issuer,
// without newJWT's default Audience, so that Audiences can stand alone.
func newAudJWT(t testing.TB, o auth.JWTOptions) *auth.JWT {
	t.Helper()
	k := keysOnce()
	o.Algorithms = []string{"HS256"}
	o.Keys = []auth.Key{{Key: k.hmac}}
	o.Issuer = "https://issuer.example"
	m, err := auth.NewJWT(auth.WithJWTClock(o, testClock))
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return m
}

// audToken is a valid HS256 token of the test issuer with aud set to aud
// (a string or a list) and jti to jti.
func audToken(t testing.TB, aud any, jti string) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, with(goodClaims(), "aud", aud, "jti", jti))
}

// The accepted audiences are Audience and every entry of Audiences: a
// token whose aud contains one of them passes, through the middleware and
// through Verify, uncached and from the cache; one whose aud contains none
// is refused exactly as a mismatch against a single Audience is (401, the
// same challenge and body, the reason ErrTokenAudience), and stays refused
// when repeated.
func TestJWTAudiences(t *testing.T) {
	configs := []struct {
		name string
		opts auth.JWTOptions
	}{
		{"Audiences alone", auth.JWTOptions{Audiences: []string{"api://orders", "api://orders-v2"}}},
		{"Audience and Audiences", auth.JWTOptions{Audience: "api://orders", Audiences: []string{"api://orders-v2"}}},
		{"Audience repeated in Audiences", auth.JWTOptions{Audience: "api://orders", Audiences: []string{"api://orders-v2", "api://orders"}}},
	}
	cases := []struct {
		name string
		aud  any
		want error // nil: accepted
	}{
		{"aud is the first accepted value", "api://orders", nil},
		{"aud is another accepted value", "api://orders-v2", nil},
		{"aud array holding one accepted value among others", []string{"api://billing", "api://orders-v2"}, nil},
		{"aud array holding two accepted values", []string{"api://orders-v2", "api://orders"}, nil},
		{"aud is none of them", "api://billing", auth.ErrTokenAudience},
		{"aud array holding none of them", []string{"api://billing", "api://orders-v3"}, auth.ErrTokenAudience},
		{"aud differing from an accepted value in case only", "API://ORDERS-V2", auth.ErrTokenAudience},
		{"aud that is a prefix of an accepted value", "api://orders-v", auth.ErrTokenAudience},
		{"aud array holding an empty string and none of them", []string{"", "api://billing"}, auth.ErrTokenAudience},
		{"aud missing", nil, auth.ErrTokenClaimMissing},
	}
	// The response to a mismatch under a single Audience, as before
	// Audiences existed: a refusal under Audiences must be identical.
	single := newAudJWT(t, auth.JWTOptions{Audience: "api://orders"})
	ref, _, refReason := serve(single, bearer(audToken(t, "api://billing", "ref")))
	if ref.Code != http.StatusUnauthorized || !errors.Is(refReason, auth.ErrTokenAudience) {
		t.Fatalf("single Audience mismatch: %d %v", ref.Code, refReason)
	}
	for _, cfg := range configs {
		for _, cache := range []int{0, 16} {
			o := cfg.opts
			o.CacheSize = cache
			m := newAudJWT(t, o)
			for i, tc := range cases {
				name := cfg.name + "/cache=" + map[bool]string{false: "off", true: "on"}[cache > 0] + "/" + tc.name
				t.Run(name, func(t *testing.T) {
					tok := audToken(t, tc.aud, "aud-"+string(rune('a'+i)))
					for try := range 3 { // a repeated token is answered from the cache when it has one
						w, id, reason := serve(m, bearer(tok))
						if tc.want == nil {
							if w.Code != http.StatusOK || reason != nil || id.Subject() != "alice" {
								t.Fatalf("try %d: %d %v subject %q, want 200", try, w.Code, reason, id.Subject())
							}
							if _, err := m.Verify(context.Background(), tok); err != nil {
								t.Fatalf("try %d: Verify: %v", try, err)
							}
							continue
						}
						if w.Code != http.StatusUnauthorized || !errors.Is(reason, tc.want) {
							t.Fatalf("try %d: %d %v, want 401 %v", try, w.Code, reason, tc.want)
						}
						if got, want := w.Header().Get("WWW-Authenticate"), ref.Header().Get("WWW-Authenticate"); got != want {
							t.Errorf("try %d: WWW-Authenticate %q, want %q as for a single Audience", try, got, want)
						}
						if w.Body.String() != ref.Body.String() || w.Header().Get("Content-Type") != ref.Header().Get("Content-Type") {
							t.Errorf("try %d: body %q (%s), want %q as for a single Audience", try, w.Body, w.Header().Get("Content-Type"), ref.Body)
						}
						if strings.Contains(w.Body.String(), "api://") {
							t.Errorf("try %d: the body names an audience: %s", try, w.Body)
						}
						if _, err := m.Verify(context.Background(), tok); !errors.Is(err, tc.want) {
							t.Errorf("try %d: Verify: %v, want %v", try, err, tc.want)
						}
						if err := m.Check(bearer(tok)); !errors.Is(err, tc.want) {
							t.Errorf("try %d: Check: %v, want %v", try, err, tc.want)
						}
					}
				})
			}
		}
	}
}

// Without Audiences, nothing changed: a value the tests above accept
// through Audiences is refused by a verifier that has only Audience.
func TestJWTAudienceAloneRefusesOtherValues(t *testing.T) {
	m := newAudJWT(t, auth.JWTOptions{Audience: "api://orders", CacheSize: 16})
	for range 2 {
		if _, err := m.Verify(context.Background(), audToken(t, "api://orders-v2", "v2")); !errors.Is(err, auth.ErrTokenAudience) {
			t.Errorf("aud api://orders-v2: %v, want ErrTokenAudience", err)
		}
	}
}

// Each JWT has a cache of its own: a token one verifier accepted (through
// its Audiences) and cached is refused by another whose audiences it does
// not match, before and after, and the other's refusal does not evict the
// first one's acceptance.
func TestJWTAudiencesCacheIsPerMiddleware(t *testing.T) {
	wide := newAudJWT(t, auth.JWTOptions{Audience: "api://orders", Audiences: []string{"api://orders-v2"}, CacheSize: 16})
	narrow := newAudJWT(t, auth.JWTOptions{Audience: "api://orders", CacheSize: 16})
	tok := audToken(t, []string{"api://orders-v2"}, "shared")
	for round := range 3 {
		if w, _, reason := serve(wide, bearer(tok)); w.Code != http.StatusOK {
			t.Fatalf("round %d: the verifier accepting api://orders-v2: %d %v", round, w.Code, reason)
		}
		if w, _, reason := serve(narrow, bearer(tok)); w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenAudience) {
			t.Fatalf("round %d: the verifier accepting only api://orders: %d %v, want 401 ErrTokenAudience", round, w.Code, reason)
		}
	}
}

// Concurrent requests with accepted and refused audiences through one
// cached verifier get each their own answer (run with -race).
func TestJWTAudiencesConcurrent(t *testing.T) {
	m := newAudJWT(t, auth.JWTOptions{Audiences: []string{"api://orders", "api://orders-v2"}, CacheSize: 4})
	toks := []struct {
		tok  string
		want int
	}{
		{audToken(t, "api://orders", "c1"), 200},
		{audToken(t, []string{"x", "api://orders-v2"}, "c2"), 200},
		{audToken(t, "api://billing", "c3"), 401},
		{audToken(t, []string{"api://billing", "api://orders-v3"}, "c4"), 401},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				tt := toks[(g+i)%len(toks)]
				if w, _, _ := serve(m, bearer(tt.tok)); w.Code != tt.want {
					t.Errorf("status %d, want %d", w.Code, tt.want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// JWT.Revoke verifies the token as the middleware does: one of the
// accepted audiences is revoked (and then refused, cached or not), a
// token of none of them is not, and the denylist is left alone.
func TestJWTAudiencesRevoke(t *testing.T) {
	for _, cache := range []int{0, 16} {
		dl := auth.NewMemoryDenylistWithClock(testClock)
		m := newAudJWT(t, auth.JWTOptions{Audience: "api://orders", Audiences: []string{"api://orders-v2"}, Denylist: dl, CacheSize: cache})
		ok := audToken(t, "api://orders-v2", "revoke-ok")
		if w, _, reason := serve(m, bearer(ok)); w.Code != http.StatusOK {
			t.Fatalf("cache %d: before revocation: %d %v", cache, w.Code, reason)
		}
		if err := m.Revoke(context.Background(), ok); err != nil {
			t.Fatalf("cache %d: Revoke of an accepted audience: %v", cache, err)
		}
		if w, _, reason := serve(m, bearer(ok)); w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenRevoked) {
			t.Errorf("cache %d: after revocation: %d %v", cache, w.Code, reason)
		}
		foreign := audToken(t, "api://billing", "revoke-foreign")
		if err := m.Revoke(context.Background(), foreign); !errors.Is(err, auth.ErrTokenAudience) {
			t.Errorf("cache %d: Revoke of a token for another audience: %v, want ErrTokenAudience", cache, err)
		}
		if revoked, _ := dl.IsRevoked(context.Background(), "revoke-foreign"); revoked {
			t.Errorf("cache %d: a token of another audience reached the denylist", cache)
		}
		if dl.Len() != 1 {
			t.Errorf("cache %d: %d denylist entries, want 1", cache, dl.Len())
		}
	}
}

// With a JWKS URL, Audiences alone satisfies the audience requirement,
// and tokens verified by the provider's keys are held to it.
func TestJWTAudiencesWithJWKS(t *testing.T) {
	k := keysOnce()
	js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Audiences:  []string{"api://orders", "api://orders-v2"},
		JWKSURL:    js.srv.URL + "/jwks.json",
		JWKS:       auth.JWKSOptions{HTTPClient: js.srv.Client(), MinRefreshInterval: time.Minute, RefreshInterval: time.Hour, Timeout: time.Second},
		CacheSize:  8,
	}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		aud  any
		want error
	}{
		{"api://orders-v2", nil},
		{[]string{"spa-client", "api://orders"}, nil},
		{"spa-client", auth.ErrTokenAudience}, // an ID token for another application of the provider
	} {
		tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, with(goodClaims(), "aud", tc.aud))
		for try := range 2 {
			if _, err := m.Verify(context.Background(), tok); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("aud %v, try %d: %v, want %v", tc.aud, try, err, tc.want)
			}
		}
	}
}

func TestNewJWTAudiencesOptions(t *testing.T) {
	k := keysOnce()
	jwks := auth.JWTOptions{Algorithms: []string{"RS256"}, JWKSURL: "https://idp.example/jwks"}
	withAud := func(o auth.JWTOptions, aud string, auds ...string) auth.JWTOptions {
		o.Audience, o.Audiences = aud, auds
		return o
	}
	hs := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}}
	for _, tt := range []struct {
		name string
		opts auth.JWTOptions
		want []string // substrings of the error; none: accepted
	}{
		{"JWKS URL with Audiences only", withAud(jwks, "", "api://orders"), nil},
		{"JWKS URL with Audience and Audiences", withAud(jwks, "api://orders", "api://orders-v2"), nil},
		{"static keys with Audiences only", withAud(hs, "", "api://orders", "api://orders-v2"), nil},
		{"duplicates", withAud(hs, "api://orders", "api://orders", "api://orders"), nil},
		{"a non-ASCII audience", withAud(hs, "", "urn:api:bestellungen-ü"), nil},
		{"JWKS URL with an empty Audiences", withAud(jwks, ""), []string{"Audience is required with a JWKSURL"}},
		{"an empty entry", withAud(hs, "api://orders", "api://orders-v2", ""), []string{"JWTOptions.Audiences[1] is empty"}},
		{"a NUL", withAud(hs, "", "api://orders\x00"), []string{"JWTOptions.Audiences[0]", "control character"}},
		{"a newline", withAud(hs, "", "api://orders", "api://orders\n"), []string{"JWTOptions.Audiences[1]", "control character"}},
		{"DEL", withAud(hs, "", "api://orders\x7f"), []string{"control character"}},
		{"a C1 control", withAud(hs, "", "api://orders\u0085"), []string{"control character"}},
		{"invalid UTF-8", withAud(hs, "", "api://orders\xff"), []string{"JWTOptions.Audiences[0]", "UTF-8"}},
		{"a control character in Audience", withAud(hs, "api://orders\r\n"), []string{"JWTOptions.Audience ", "control character"}},
		{"invalid UTF-8 in Audience", withAud(hs, "api://orders\xc3"), []string{"JWTOptions.Audience ", "UTF-8"}},
		{"every bad entry reported", withAud(hs, "", "", "a\tb"), []string{"Audiences[0] is empty", "Audiences[1]", "control character"}},
		{"an empty entry next to the other option errors", withAud(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, Leeway: -1}, "", ""), []string{"Audiences[0] is empty", "Leeway"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := auth.NewJWT(tt.opts)
			if tt.want == nil {
				if err != nil || m == nil {
					t.Fatalf("NewJWT: %v", err)
				}
				return
			}
			if err == nil || m != nil {
				t.Fatalf("NewJWT accepted %s", tt.name)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Mutating Audiences after NewJWT changes nothing, as for every option.
func TestJWTAudiencesAreCopied(t *testing.T) {
	auds := []string{"api://orders", "api://orders-v2"}
	m := newAudJWT(t, auth.JWTOptions{Audiences: auds})
	auds[1] = "api://billing"
	if _, err := m.Verify(context.Background(), audToken(t, "api://orders-v2", "copy")); err != nil {
		t.Errorf("api://orders-v2 after the caller's slice changed: %v", err)
	}
	if _, err := m.Verify(context.Background(), audToken(t, "api://billing", "copy2")); !errors.Is(err, auth.ErrTokenAudience) {
		t.Errorf("api://billing after the caller's slice changed: %v", err)
	}
}

// End to end over a real server: the token an Issuer mints for the new
// identifier and one minted for the old one both pass during a move, and
// a token for another service does not.
func TestJWTAudiencesEndToEnd(t *testing.T) {
	k := keysOnce()
	mint := func(aud string) string {
		iss, err := auth.NewIssuer(auth.WithIssuerClock(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: k.ed},
			Issuer: "https://issuer.example", Audience: []string{aud}}, testClock))
		if err != nil {
			t.Fatal(err)
		}
		at, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		return at.Token
	}
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA},
		Keys: []auth.Key{{Key: k.ed.Public()}}, Issuer: "https://issuer.example",
		Audience: "https://api.example.com", Audiences: []string{"https://orders.example.com"},
		Type: auth.TypeAccessToken, CacheSize: 8}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	for _, tc := range []struct {
		aud  string
		want int
	}{
		{"https://api.example.com", 200},
		{"https://orders.example.com", 200},
		{"https://billing.example.com", 401},
	} {
		tok := mint(tc.aud)
		for try := range 2 {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("aud %s, try %d: %d, want %d", tc.aud, try, resp.StatusCode, tc.want)
			}
			if tc.want == 401 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("aud %s: WWW-Authenticate %q", tc.aud, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
}
