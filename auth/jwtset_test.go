package auth_test

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

// The issuers of the set under test: one HMAC key set, one Ed25519 key
// set, and a third HMAC issuer whose key has the first one's kid.
const (
	setIssA = "https://a.example"
	setIssB = "https://b.example/tenant-1"
	setIssC = "https://c.example"
)

// setHMACC is the secret of issuer C, under the same kid as issuer A's.
var setHMACC = []byte("fedcba9876543210fedcba9876543210")

// setVerifiers returns the verifiers of issuers A, B and C, each with its
// own realm; o sets what the three share (extraction options).
func setVerifiers(t testing.TB, o auth.JWTOptions) (a, b, c *auth.JWT) {
	t.Helper()
	k := keysOnce()
	oa, ob, oc := o, o, o
	oa.Algorithms, oa.Keys, oa.Issuer, oa.Realm = []string{"HS256"}, []auth.Key{{ID: "k1", Key: k.hmac}}, setIssA, "a"
	ob.Algorithms, ob.Keys, ob.Issuer, ob.Realm = []string{"EdDSA"}, []auth.Key{{ID: "e1", Key: k.ed.Public()}}, setIssB, "b"
	oc.Algorithms, oc.Keys, oc.Issuer, oc.Realm = []string{"HS256"}, []auth.Key{{ID: "k1", Key: setHMACC}}, setIssC, "c"
	return newJWT(t, oa), newJWT(t, ob), newJWT(t, oc)
}

func newTestJWTSet(t testing.TB, o auth.JWTOptions) *auth.JWTSet {
	t.Helper()
	a, b, c := setVerifiers(t, o)
	s, err := auth.NewJWTSet(a, b, c)
	if err != nil {
		t.Fatalf("NewJWTSet: %v", err)
	}
	return s
}

// setTokens signs claims of iss with the key of issuer A (HS256 k1), B
// (EdDSA e1) or C (HS256 k1, C's secret).
func signA(t testing.TB, claims map[string]any) string {
	return sign(t, jwt.SigningMethodHS256, keysOnce().hmac, map[string]any{"kid": "k1"}, claims)
}

func signB(t testing.TB, claims map[string]any) string {
	return sign(t, jwt.SigningMethodEdDSA, keysOnce().ed, map[string]any{"kid": "e1"}, claims)
}

func signC(t testing.TB, claims map[string]any) string {
	return sign(t, jwt.SigningMethodHS256, setHMACC, map[string]any{"kid": "k1"}, claims)
}

func claimsOf(iss any) map[string]any { return with(goodClaims(), "iss", iss) }

// rawClaims returns the good claims with iss written as the JSON text
// raw, or left out when raw is empty.
func rawClaims(raw string) string {
	exp, _ := jwt.NewNumericDate(testNow.Add(time.Minute)).MarshalJSON()
	c := `{"aud":"api://orders","sub":"alice","exp":` + string(exp)
	if raw != "" {
		c += `,"iss":` + raw
	}
	return rawSeg(c + "}")
}

func serveSet(s *auth.JWTSet, r *http.Request) (*httptest.ResponseRecorder, identity.Identity, error) {
	var got identity.Identity
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = identity.FromRequest(r)
	}))
	ctx, reason := problem.WithReason(r.Context())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w, got, reason.Err()
}

// TestJWTSetSelectsTheVerifierOfTheIssuer: a token is verified by the
// verifier of its iss alone, with that verifier's keys, algorithms and
// checks, and answered with its realm; a token that names no issuer of
// the set, or whose iss cannot be read, is refused with the first
// verifier's realm, as an invalid token.
func TestJWTSetSelectsTheVerifierOfTheIssuer(t *testing.T) {
	k := keysOnce()
	s := newTestJWTSet(t, auth.JWTOptions{})
	hdrA := seg(map[string]any{"alg": "HS256", "kid": "k1"})
	rawA := func(raw string) string { return signRaw(t, jwt.SigningMethodHS256, k.hmac, hdrA, rawClaims(raw)) }
	tests := []struct {
		name    string
		tok     string
		want    error  // nil: accepted
		realm   string // of the challenge
		subject string
	}{
		{"a token of issuer A, signed with A's HMAC key", signA(t, claimsOf(setIssA)), nil, "", "alice"},
		{"a token of issuer B, signed with B's Ed25519 key", signB(t, claimsOf(setIssB)), nil, "", "alice"},
		{"a token of issuer C, signed with C's HMAC key", signC(t, claimsOf(setIssC)), nil, "", "alice"},
		{"a token claiming issuer B signed with A's HMAC key", signA(t, claimsOf(setIssB)), auth.ErrTokenAlgorithm, "b", ""},
		{"a token claiming issuer A signed with B's Ed25519 key", signB(t, claimsOf(setIssA)), auth.ErrTokenAlgorithm, "a", ""},
		{"a token claiming issuer C signed with A's HMAC key of the same kid", signA(t, claimsOf(setIssC)), auth.ErrTokenSignature, "c", ""},
		{"a token claiming issuer A signed with C's HMAC key of the same kid", signC(t, claimsOf(setIssA)), auth.ErrTokenSignature, "a", ""},
		{"a token of issuer B signed with an attacker's Ed25519 key", sign(t, jwt.SigningMethodEdDSA, k.evilEd, map[string]any{"kid": "e1"}, claimsOf(setIssB)), auth.ErrTokenSignature, "b", ""},
		{"a token of issuer B for another audience", signB(t, with(claimsOf(setIssB), "aud", "api://other")), auth.ErrTokenAudience, "b", ""},
		{"an expired token of issuer B", signB(t, with(claimsOf(setIssB), "exp", testNow.Add(-time.Hour).Unix())), auth.ErrTokenExpired, "b", ""},
		{"a token without iss", signA(t, claimsOf(nil)), auth.ErrTokenIssuer, "a", ""},
		{"a token of iss null", rawA(`null`), auth.ErrTokenIssuer, "a", ""},
		{"a token of an empty iss", rawA(`""`), auth.ErrTokenIssuer, "a", ""},
		{"a token of an unknown iss", signA(t, claimsOf("https://evil.example")), auth.ErrTokenIssuer, "a", ""},
		{"a token of iss A in another case", signA(t, claimsOf("https://A.example")), auth.ErrTokenIssuer, "a", ""},
		{"a token of iss A with a trailing slash", signA(t, claimsOf(setIssA+"/")), auth.ErrTokenIssuer, "a", ""},
		{"a token of iss A with a trailing NUL", rawA(`"https://a.example\u0000"`), auth.ErrTokenIssuer, "a", ""},
		{"a token of iss A spelled with escapes, as JWT decodes it", rawA(`"https:\/\/a.ex\u0061mple"`), nil, "", "alice"},
		{"a token of iss A as a number", rawA(`12`), auth.ErrTokenMalformed, "a", ""},
		{"a token of iss A as an array", rawA(`["https://a.example"]`), auth.ErrTokenMalformed, "a", ""},
		{"a token of iss twice", signRaw(t, jwt.SigningMethodHS256, k.hmac, hdrA, rawSeg(`{"iss":"https://evil.example","iss":"https://a.example","sub":"alice","aud":"api://orders","exp":9999999999}`)), auth.ErrTokenMalformed, "a", ""},
		{"a token whose claims are not JSON", signRaw(t, jwt.SigningMethodHS256, k.hmac, hdrA, rawSeg(`{"iss":"https://a.example"`)), auth.ErrTokenMalformed, "a", ""},
		{"a token whose claims are not base64url", hdrA + ".e30+." + "c2ln", auth.ErrTokenMalformed, "a", ""},
		{"two segments", hdrA + "." + rawClaims(`"https://a.example"`), auth.ErrTokenMalformed, "a", ""},
		{"four segments", signA(t, claimsOf(setIssA)) + ".x", auth.ErrTokenMalformed, "a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, id, reason := serveSet(s, bearer(tt.tok))
			if tt.want == nil {
				if w.Code != http.StatusOK || id.Subject() != tt.subject || id.Method() != identity.MethodBearer {
					t.Fatalf("status %d, identity %q %q, reason %v; want 200 and %q", w.Code, id.Subject(), id.Method(), reason, tt.subject)
				}
				return
			}
			if w.Code != http.StatusUnauthorized || !errors.Is(reason, tt.want) || !errors.Is(reason, auth.ErrInvalidToken) {
				t.Fatalf("status %d, reason %v; want 401 and %v", w.Code, reason, tt.want)
			}
			if id.Subject() != "" {
				t.Fatalf("refused, yet the handler ran with %q", id.Subject())
			}
			want := `Bearer realm="` + tt.realm + `", error="invalid_token", error_description="The access token is invalid"`
			if got := w.Header().Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}
}

// TestJWTSetAgreesWithItsVerifiers: whatever token a verifier of the set
// accepts or refuses, the set does alike, through every entry point, and
// with the same identity.
func TestJWTSetAgreesWithItsVerifiers(t *testing.T) {
	a, b, c := setVerifiers(t, auth.JWTOptions{})
	s, err := auth.NewJWTSet(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		v    *auth.JWT
		tok  string
	}{
		{"A", a, signA(t, with(claimsOf(setIssA), "scope", "x y"))},
		{"B", b, signB(t, with(claimsOf(setIssB), "roles", []string{"r1", "r2"}))},
		{"C", c, signC(t, with(claimsOf(setIssC), "sub", "carol"))},
		{"B expired", b, signB(t, with(claimsOf(setIssB), "exp", testNow.Add(-time.Hour).Unix()))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := tt.v.Verify(ctx, tt.tok)
			got, err := s.Verify(ctx, tt.tok)
			if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
				t.Fatalf("Verify: %v, the verifier's %v", err, wantErr)
			}
			if got.Subject() != want.Subject() || strings.Join(got.Scopes(), " ") != strings.Join(want.Scopes(), " ") || strings.Join(got.Roles(), " ") != strings.Join(want.Roles(), " ") {
				t.Fatalf("Verify: identity %v, the verifier's %v", got, want)
			}
			r := bearer(tt.tok)
			aid, aerr := s.Authenticate(r)
			if (aerr == nil) != (wantErr == nil) || aid.Subject() != want.Subject() {
				t.Fatalf("Authenticate: %q %v, want %q %v", aid.Subject(), aerr, want.Subject(), wantErr)
			}
			if cerr := s.Check(r); (cerr == nil) != (wantErr == nil) {
				t.Fatalf("Check: %v, want %v", cerr, wantErr)
			}
		})
	}
}

// TestJWTSetOnReject: a token is answered by the OnReject of the verifier
// its iss selects; the others, a request without a token included, by
// the first verifier's.
func TestJWTSetOnReject(t *testing.T) {
	k := keysOnce()
	var called string
	mk := func(name, iss string, alg string, key any) *auth.JWT {
		return newJWT(t, auth.JWTOptions{Algorithms: []string{alg}, Keys: []auth.Key{{Key: key}}, Issuer: iss,
			OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
				called = name
				w.WriteHeader(http.StatusTeapot)
			}})
	}
	s, err := auth.NewJWTSet(mk("A", setIssA, "HS256", k.hmac), mk("B", setIssB, "EdDSA", k.ed.Public()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		r    *http.Request
		want string
	}{
		{"a bad token of B", bearer(flipSig(sign(t, jwt.SigningMethodEdDSA, k.ed, nil, claimsOf(setIssB)))), "B"},
		{"a bad token of A", bearer(flipSig(sign(t, jwt.SigningMethodHS256, k.hmac, nil, claimsOf(setIssA)))), "A"},
		{"a token of an unknown issuer", bearer(sign(t, jwt.SigningMethodEdDSA, k.ed, nil, claimsOf("https://x.example"))), "A"},
		{"no token", httptest.NewRequest(http.MethodGet, "/", nil), "A"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			called = ""
			w, _, _ := serveSet(s, tt.r)
			if w.Code != http.StatusTeapot || called != tt.want {
				t.Fatalf("status %d, OnReject of %q; want %q's", w.Code, called, tt.want)
			}
		})
	}
}

// TestNewJWTSetRejectsUnsafeSets: a set must select by issuer, each
// issuer once, and read the token the same way whichever verifier
// verifies it.
func TestNewJWTSetRejectsUnsafeSets(t *testing.T) {
	k := keysOnce()
	a, b, _ := setVerifiers(t, auth.JWTOptions{})
	other := func(o auth.JWTOptions) *auth.JWT {
		o.Algorithms, o.Keys = []string{"EdDSA"}, []auth.Key{{Key: k.ed.Public()}}
		if o.Issuer == "" {
			o.Issuer = "https://other.example"
		}
		return newJWT(t, o)
	}
	noIssuer, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		verifiers []*auth.JWT
		want      string // in the error; "" for none
	}{
		{"two issuers", []*auth.JWT{a, b}, ""},
		{"one issuer (a list from configuration that holds one)", []*auth.JWT{a}, ""},
		{"no verifier", nil, "at least one verifier"},
		{"a nil verifier", []*auth.JWT{a, nil}, "verifiers[1] is nil or the zero JWT"},
		{"the zero JWT", []*auth.JWT{{}, a}, "verifiers[0] is nil or the zero JWT"},
		{"a verifier without Issuer", []*auth.JWT{a, noIssuer}, "verifiers[1] has no Issuer"},
		{"two verifiers of one issuer", []*auth.JWT{a, b, other(auth.JWTOptions{Issuer: setIssA})}, "verifiers[2] has the Issuer of verifiers[0]"},
		{"the same verifier twice", []*auth.JWT{a, a}, "verifiers[1] has the Issuer of verifiers[0]"},
		{"another CookieName", []*auth.JWT{a, other(auth.JWTOptions{CookieName: "at"})}, "verifiers[1] reads tokens otherwise than verifiers[0]"},
		{"another query token choice", []*auth.JWT{a, other(auth.JWTOptions{DangerouslyAllowQueryToken: true})}, "verifiers[1] reads tokens otherwise than verifiers[0]"},
		{"another MaxTokenBytes", []*auth.JWT{a, other(auth.JWTOptions{MaxTokenBytes: 4096})}, "verifiers[1] reads tokens otherwise than verifiers[0]"},
		{"MaxTokenBytes set to its default", []*auth.JWT{a, other(auth.JWTOptions{MaxTokenBytes: auth.DefaultMaxTokenBytes})}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := auth.NewJWTSet(tt.verifiers...)
			if tt.want == "" {
				if err != nil || s == nil {
					t.Fatalf("NewJWTSet: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if s != nil {
				t.Fatal("a set returned with an error")
			}
		})
	}
	// Every problem is reported.
	_, err = auth.NewJWTSet(a, nil, noIssuer, a)
	for _, want := range []string{"verifiers[1]", "verifiers[2]", "verifiers[3]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// TestJWTSetReadsTheTokenAsItsVerifiers: a set whose verifiers take the
// cookie reads it as they do, refuses a token sent twice, and marks the
// response private; MaxTokenBytes bounds the token before any decoding,
// Verify included.
func TestJWTSetReadsTheTokenAsItsVerifiers(t *testing.T) {
	s := newTestJWTSet(t, auth.JWTOptions{CookieName: "at", MaxTokenBytes: 1024})
	tok := signB(t, claimsOf(setIssB))
	cookie := httptest.NewRequest(http.MethodGet, "/", nil)
	cookie.Header.Set("Cookie", "at="+tok)
	w, id, reason := serveSet(s, cookie)
	if w.Code != http.StatusOK || id.Subject() != "alice" || w.Header().Get("Cache-Control") != "private" {
		t.Fatalf("cookie: status %d, subject %q, Cache-Control %q, reason %v", w.Code, id.Subject(), w.Header().Get("Cache-Control"), reason)
	}
	twice := bearer(tok)
	twice.Header.Set("Cookie", "at="+tok)
	if w, _, reason := serveSet(s, twice); w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenMalformed) {
		t.Fatalf("a token in the header and the cookie: status %d, reason %v", w.Code, reason)
	}
	huge := signB(t, with(claimsOf(setIssB), "pad", strings.Repeat("x", 1024)))
	if w, _, reason := serveSet(s, bearer(huge)); w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenTooLarge) {
		t.Fatalf("an oversized token: status %d, reason %v", w.Code, reason)
	}
	if _, err := s.Verify(context.Background(), huge); !errors.Is(err, auth.ErrTokenTooLarge) {
		t.Fatalf("Verify of an oversized token: %v", err)
	}
	if _, err := s.Verify(context.Background(), "not a token"); !errors.Is(err, auth.ErrTokenMalformed) {
		t.Fatalf("Verify of a token outside the alphabet: %v", err)
	}
}

// TestJWTSetOptional: as JWT.Optional, a request without a token passes
// unchanged, a bad token is refused, and a token of another subject than
// an earlier layer's is refused while one of the same subject runs with
// the token's identity, whichever issuer signed it.
func TestJWTSetOptional(t *testing.T) {
	s := newTestJWTSet(t, auth.JWTOptions{})
	tokB := signB(t, claimsOf(setIssB))
	session := func(sub string) func(*http.Request) *http.Request {
		return func(r *http.Request) *http.Request {
			return r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: sub, Method: identity.MethodSession})))
		}
	}
	none := func(r *http.Request) *http.Request { return r }
	for _, tt := range []struct {
		name       string
		r          *http.Request
		layer      func(*http.Request) *http.Request
		wantStatus int
		wantSub    string
		wantMethod identity.Method
		wantReason error
	}{
		{"no token: through, anonymous", httptest.NewRequest(http.MethodGet, "/", nil), none, 200, "", "", nil},
		{"no token: through, the session's identity kept", httptest.NewRequest(http.MethodGet, "/", nil), session("carol"), 200, "carol", identity.MethodSession, nil},
		{"a valid token of B", bearer(tokB), none, 200, "alice", identity.MethodBearer, nil},
		{"a valid token of A on a session of its subject", bearer(signA(t, claimsOf(setIssA))), session("alice"), 200, "alice", identity.MethodBearer, nil},
		{"a valid token of B on a session of another subject", bearer(tokB), session("carol"), 401, "", "", auth.ErrAmbiguousCredentials},
		{"a bad token of B", bearer(flipSig(tokB)), none, 401, "", "", auth.ErrTokenSignature},
		{"a token of an unknown issuer", bearer(signA(t, claimsOf("https://x.example"))), session("alice"), 401, "", "", auth.ErrTokenIssuer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got identity.Identity
			reached := false
			h := s.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				got, _ = identity.FromRequest(r)
			}))
			ctx, reason := problem.WithReason(tt.r.Context())
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.layer(tt.r.WithContext(ctx)))
			if w.Code != tt.wantStatus || reached != (tt.wantStatus == 200) || !errors.Is(reason.Err(), tt.wantReason) {
				t.Fatalf("status %d, reached %v, reason %v; want %d, %v", w.Code, reached, reason.Err(), tt.wantStatus, tt.wantReason)
			}
			if got.Subject() != tt.wantSub || got.Method() != tt.wantMethod {
				t.Fatalf("identity %q %q, want %q %q", got.Subject(), got.Method(), tt.wantSub, tt.wantMethod)
			}
		})
	}
}

// TestJWTSetZeroValueRejects: the zero JWTSet, and a nil one, refuse
// every request with 401 and every token.
func TestJWTSetZeroValueRejects(t *testing.T) {
	tok := signA(t, claimsOf(setIssA))
	for _, s := range []*auth.JWTSet{{}, nil} {
		for _, h := range []http.Handler{s.Handler(http.NotFoundHandler()), s.Optional(http.NotFoundHandler())} {
			for _, r := range []*http.Request{bearer(tok), httptest.NewRequest(http.MethodGet, "/", nil)} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("status %d, WWW-Authenticate %q", w.Code, w.Header().Get("WWW-Authenticate"))
				}
			}
		}
		if _, err := s.Verify(context.Background(), tok); err == nil {
			t.Fatal("Verify accepted a token")
		}
		if err := s.Check(bearer(tok)); err == nil {
			t.Fatal("Check accepted a token")
		}
	}
}

// TestJWTSetConcurrent serves the three issuers' tokens in parallel
// (run with -race), while issuer A's keys rotate.
func TestJWTSetConcurrent(t *testing.T) {
	a, b, c := setVerifiers(t, auth.JWTOptions{CacheSize: 8})
	s, err := auth.NewJWTSet(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	toks := []string{signA(t, claimsOf(setIssA)), signB(t, claimsOf(setIssB)), signC(t, claimsOf(setIssC))}
	h := s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			if err := a.SetKeys([]auth.Key{{ID: "k1", Key: keysOnce().hmac}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 50 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, bearer(toks[(g+i)%3]))
				if w.Code != http.StatusOK {
					errs <- errors.New("a valid token refused")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	<-done
}

// TestJWTSetAllocations holds a set's valid token to the allocations of
// the same token under its issuer's JWT alone, cached or not; a token of
// an unknown issuer allocates nothing.
func TestJWTSetAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	k := keysOnce()
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, cache := range []int{0, 16} {
		oa := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, Issuer: setIssA, Audience: "api://orders", CacheSize: cache}
		ob := auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{ID: "e1", Key: k.ed.Public()}}, Issuer: setIssB, Audience: "api://orders", CacheSize: cache}
		a, b := auth.MustNewJWT(oa), auth.MustNewJWT(ob)
		s, err := auth.NewJWTSet(a, b)
		if err != nil {
			t.Fatal(err)
		}
		allocs := func(h http.Handler, tok string) float64 {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			return testing.AllocsPerRun(200, func() {
				clear(w.h)
				h.ServeHTTP(w, req)
			})
		}
		for _, tt := range []struct {
			name string
			v    *auth.JWT
			tok  string
		}{
			{"issuer A", a, sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "iss", setIssA))},
			{"issuer B", b, sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "e1"}, with(benchClaims(), "iss", setIssB))},
		} {
			one, set := allocs(tt.v.Handler(next), tt.tok), allocs(s.Handler(next), tt.tok)
			if set > one {
				t.Errorf("CacheSize %d, %s: %v allocations in the set, %v in its JWT", cache, tt.name, set, one)
			}
			t.Logf("CacheSize %d, %s: %v allocations in the set, %v in its JWT", cache, tt.name, set, one)
		}
		unknown := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "iss", "https://x.example"))
		if n := allocs(s.Handler(next), unknown); n != 0 {
			t.Errorf("CacheSize %d: %v allocations for a token of an unknown issuer", cache, n)
		}
	}
}

// BenchmarkJWTSet compares a valid token through a set of two issuers
// with the same token through its issuer's JWT alone: the difference is
// the selection (a decode and scan of the claims, a map lookup).
func BenchmarkJWTSet(b *testing.B) {
	k := keysOnce()
	oa := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, Issuer: setIssA, Audience: "api://orders"}
	ob := auth.JWTOptions{Algorithms: []string{"EdDSA"}, Keys: []auth.Key{{ID: "e1", Key: k.ed.Public()}}, Issuer: setIssB, Audience: "api://orders"}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, cache := range []int{0, 1024} {
		oa.CacheSize, ob.CacheSize = cache, cache
		a, bv := auth.MustNewJWT(oa), auth.MustNewJWT(ob)
		s := auth.MustNewJWTSet(a, bv)
		for _, tc := range []struct {
			alg string
			v   *auth.JWT
			tok string
		}{
			{"HS256", a, sign(b, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "iss", setIssA))},
			{"EdDSA", bv, sign(b, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "e1"}, with(benchClaims(), "iss", setIssB))},
		} {
			suffix := ""
			if cache > 0 {
				suffix = "-cached"
			}
			req := bearer(tc.tok)
			w := &discardWriter{h: http.Header{}}
			for _, impl := range []struct {
				name string
				h    http.Handler
			}{{"jwt", tc.v.Handler(next)}, {"set", s.Handler(next)}} {
				b.Run("alg="+tc.alg+"/impl="+impl.name+suffix, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						clear(w.h)
						impl.h.ServeHTTP(w, req)
					}
				})
			}
		}
	}
}

// FuzzJWTSetSelect feeds arbitrary tokens, and claims sets signed by each
// issuer's key, to a set of three issuers: it never panics, refuses only
// with the package's reasons, and accepts a token exactly when the
// verifier of the issuer its iss names (as encoding/json reads it)
// accepts it, with that verifier's identity; a token no verifier
// accepts gets no identity.
func FuzzJWTSetSelect(f *testing.F) {
	for _, tok := range fuzzSeeds(f) {
		f.Add(tok, "")
	}
	for _, iss := range []any{setIssA, setIssB, setIssC, nil, 12, "", "https://x.example", []string{setIssA}} {
		c := string(must(json.Marshal(claimsOf(iss))))
		f.Add("", c)
		f.Add(signA(f, claimsOf(iss)), "")
		f.Add(signB(f, claimsOf(iss)), "")
		f.Add(signC(f, claimsOf(iss)), "")
	}
	f.Add("", `{"iss":"https:\/\/a.example","sub":"alice","aud":"api://orders","exp":9999999999}`)
	f.Add("", `{"iss":"https://b.example/tenant-1","iss":"https://a.example","sub":"alice","aud":"api://orders","exp":9999999999}`)
	f.Add("", `{"i\u0073s":"https://a.example","sub":"alice","aud":"api://orders","exp":9999999999}`)
	a, b, c := setVerifiers(f, auth.JWTOptions{MaxTokenBytes: 4096})
	s, err := auth.NewJWTSet(a, b, c)
	if err != nil {
		f.Fatal(err)
	}
	byIssuer := map[string]*auth.JWT{setIssA: a, setIssB: b, setIssC: c}
	k := keysOnce()
	hdrA, hdrB := seg(map[string]any{"alg": "HS256", "kid": "k1"}), seg(map[string]any{"alg": "EdDSA", "kid": "e1"})
	ctx := context.Background()
	check := func(t *testing.T, tok string) {
		id, err := s.Verify(ctx, tok)
		// The reference: the verifier of the iss encoding/json reads,
		// when the claims decode at all.
		var want identity.Identity
		var wantErr error = auth.ErrTokenIssuer
		if parts := strings.Split(tok, "."); len(parts) == 3 {
			// A map, not a struct: a struct field takes "ISS" too.
			var claims map[string]any
			if raw, derr := jwt.NewParser().DecodeSegment(parts[1]); derr == nil && json.Unmarshal(raw, &claims) == nil {
				if iss, ok := claims["iss"].(string); ok && byIssuer[iss] != nil {
					want, wantErr = byIssuer[iss].Verify(ctx, tok)
				}
			}
		}
		for _, v := range []*auth.JWT{a, b, c} {
			if vid, verr := v.Verify(ctx, tok); verr == nil && (wantErr != nil || vid.Subject() != want.Subject()) {
				t.Fatalf("a verifier accepts %q as %q, the verifier of its iss: %q %v", tok, vid.Subject(), want.Subject(), wantErr)
			}
		}
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("reason %v does not wrap ErrInvalidToken", err)
			}
			if id.Subject() != "" {
				t.Fatal("an identity with an error")
			}
			if wantErr == nil {
				t.Fatalf("refused %q (%v), which the verifier of its iss accepts", tok, err)
			}
			return
		}
		if wantErr != nil {
			t.Fatalf("accepted %q as %q, which the verifier of its iss refuses: %v", tok, id.Subject(), wantErr)
		}
		if id.Subject() == "" || id.Subject() != want.Subject() || id.Method() != identity.MethodBearer {
			t.Fatalf("identity %q, the verifier's %q", id.Subject(), want.Subject())
		}
		w, hid, _ := serveSet(s, bearer(tok))
		if w.Code != http.StatusOK || hid.Subject() != id.Subject() {
			t.Fatalf("Handler: status %d, subject %q; Verify accepted %q", w.Code, hid.Subject(), id.Subject())
		}
	}
	f.Fuzz(func(t *testing.T, tok, claims string) {
		check(t, tok)
		if claims == "" || len(claims) > 2048 {
			return
		}
		p := rawSeg(claims)
		check(t, signRaw(t, jwt.SigningMethodHS256, k.hmac, hdrA, p))
		check(t, signRaw(t, jwt.SigningMethodEdDSA, k.ed, hdrB, p))
		check(t, signRaw(t, jwt.SigningMethodHS256, setHMACC, hdrA, p))
	})
}

// TestJWTSetFetchesOnlyTheKeysOfTheIssuer: with a JWKS per issuer, a
// token is checked against the key set of the issuer its iss names alone:
// a token signed with one provider's key under a kid the other uses too
// is refused without that key being tried, a token of an unknown issuer
// or a malformed one fetches nothing, and an unknown kid refetches the
// key set of its own issuer only.
func TestJWTSetFetchesOnlyTheKeysOfTheIssuer(t *testing.T) {
	k := keysOnce()
	clock := &fakeClock{now: testNow}
	p1, p2 := newJWKSServer(t, jwksDoc(edJWK("e1", k.ed.Public().(ed25519.PublicKey), ""))), newJWKSServer(t, jwksDoc(edJWK("e1", k.evilEd.Public().(ed25519.PublicKey), "")))
	remote := func(js *jwksServer, iss string) *auth.JWT {
		m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
			Algorithms: []string{"EdDSA"}, Issuer: iss, Audience: "api://orders",
			JWKSURL: js.srv.URL + "/jwks.json",
			JWKS:    auth.JWKSOptions{HTTPClient: js.srv.Client(), MinRefreshInterval: time.Minute, RefreshInterval: time.Hour, MaxBytes: 4096, Timeout: time.Second},
		}, clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	s, err := auth.NewJWTSet(remote(p1, setIssA), remote(p2, setIssB))
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(key ed25519.PrivateKey, kid, iss string) string {
		return sign(t, jwt.SigningMethodEdDSA, key, map[string]any{"kid": kid}, claimsOf(iss))
	}
	for _, tt := range []struct {
		name           string
		tok            string
		want           error
		fetch1, fetch2 int32 // fetches so far
		later          bool  // past JWKSOptions.MinRefreshInterval
	}{
		{"a token of issuer A", signWith(k.ed, "e1", setIssA), nil, 1, 0, false},
		{"a token signed with A's key claiming issuer B", signWith(k.ed, "e1", setIssB), auth.ErrTokenSignature, 1, 1, false},
		{"a token signed with B's key claiming issuer A", signWith(k.evilEd, "e1", setIssA), auth.ErrTokenSignature, 1, 1, false},
		{"a token of issuer B", signWith(k.evilEd, "e1", setIssB), nil, 1, 1, false},
		{"a token of an unknown issuer", signWith(k.ed, "e9", "https://x.example"), auth.ErrTokenIssuer, 1, 1, true},
		{"a malformed token", "a.b.c", auth.ErrTokenMalformed, 1, 1, false},
		{"an unknown kid of issuer B", signWith(k.evilEd, "e9", setIssB), auth.ErrTokenUnknownKey, 1, 2, false},
	} {
		if tt.later {
			clock.Add(2 * time.Minute)
		}
		_, err := s.Verify(context.Background(), tt.tok)
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if f1, f2 := p1.fetches.Load(), p2.fetches.Load(); f1 != tt.fetch1 || f2 != tt.fetch2 {
			t.Errorf("%s: fetches %d and %d, want %d and %d", tt.name, f1, f2, tt.fetch1, tt.fetch2)
		}
	}
}

// TestJWTSetOfOneVerifierAnswersAsItsJWT: a set of one verifier accepts
// and refuses the tokens its JWT does, with the same status, challenge
// and identity, a token without iss included (the JWT's Issuer requires
// one); only the reason of a token without iss, or of iss null, differs:
// ErrTokenIssuer from the set, ErrTokenClaimMissing from the JWT.
func TestJWTSetOfOneVerifierAnswersAsItsJWT(t *testing.T) {
	k := keysOnce()
	a, _, _ := setVerifiers(t, auth.JWTOptions{})
	s, err := auth.NewJWTSet(a)
	if err != nil {
		t.Fatal(err)
	}
	hdrA := seg(map[string]any{"alg": "HS256", "kid": "k1"})
	for _, tt := range []struct {
		name           string
		tok            string
		jwtErr, setErr error // nil: accepted
	}{
		{"a valid token", signA(t, claimsOf(setIssA)), nil, nil},
		{"a token without iss", signA(t, claimsOf(nil)), auth.ErrTokenClaimMissing, auth.ErrTokenIssuer},
		{"a token of iss null", signRaw(t, jwt.SigningMethodHS256, k.hmac, hdrA, rawClaims(`null`)), auth.ErrTokenClaimMissing, auth.ErrTokenIssuer},
		{"a token of another iss", signA(t, claimsOf(setIssB)), auth.ErrTokenIssuer, auth.ErrTokenIssuer},
		{"a token signed with another key", signC(t, claimsOf(setIssA)), auth.ErrTokenSignature, auth.ErrTokenSignature},
		{"an expired token", signA(t, with(claimsOf(setIssA), "exp", testNow.Add(-time.Hour).Unix())), auth.ErrTokenExpired, auth.ErrTokenExpired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			jw, jid, jreason := serve(a, bearer(tt.tok))
			sw, sid, sreason := serveSet(s, bearer(tt.tok))
			if jw.Code != sw.Code || jw.Header().Get("WWW-Authenticate") != sw.Header().Get("WWW-Authenticate") || jid.Subject() != sid.Subject() {
				t.Fatalf("JWT: %d %q %q; set: %d %q %q", jw.Code, jw.Header().Get("WWW-Authenticate"), jid.Subject(), sw.Code, sw.Header().Get("WWW-Authenticate"), sid.Subject())
			}
			if (jreason == nil) != (tt.jwtErr == nil) || !errors.Is(jreason, tt.jwtErr) || (sreason == nil) != (tt.setErr == nil) || !errors.Is(sreason, tt.setErr) {
				t.Fatalf("reasons: JWT %v, set %v; want %v, %v", jreason, sreason, tt.jwtErr, tt.setErr)
			}
		})
	}
}

// TestJWTSetDPoP: in a set of DPoP verifiers, a token's proof is checked
// by the verifier of its issuer under that verifier's DPoPOptions (here
// A without nonces, C requiring DPoP and nonces), with the responses the
// JWT alone gives; a set mixing DPoP and plain verifiers is refused.
func TestJWTSetDPoP(t *testing.T) {
	k := newECDPoPKey(t)
	at := testNow.Add(time.Minute + 5*time.Second)
	nonces := newNonces(t, nonceKey, &at)
	cur, prev := nonceAt(t, nonceKey, at), nonceAt(t, nonceKey, testNow)
	a, _, _ := setVerifiers(t, auth.JWTOptions{Audience: "api://orders", DPoP: &auth.DPoPOptions{}})
	_, _, c := setVerifiers(t, auth.JWTOptions{Audience: "api://orders", DPoP: &auth.DPoPOptions{Required: true, Nonces: nonces}})
	s, err := auth.NewJWTSet(a, c)
	if err != nil {
		t.Fatal(err)
	}
	bound := func(sign func(testing.TB, map[string]any) string, iss string) string {
		return sign(t, with(claimsOf(iss), "cnf", map[string]any{"jkt": k.jkt}))
	}
	tokA, tokC := bound(signA, setIssA), bound(signC, setIssC)
	proof := func(tok, nonce string) string {
		pc := proofClaims("GET", dpopURL, tok)
		if nonce != "" {
			pc["nonce"] = nonce
		}
		return k.proof(t, pc)
	}
	replayed := proof(tokA, "")
	bearer := func(tok string) *http.Request {
		r := httptest.NewRequest("GET", dpopURL, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	tests := []struct {
		name      string
		r         *http.Request
		code      int
		want      error  // nil: accepted
		realm     string // of the challenge of a refusal
		nonceSent string // the DPoP-Nonce header
	}{
		{"A's bound token with its proof", dpopRequest("GET", dpopURL, tokA, replayed), 200, nil, "", ""},
		{"the same proof again", dpopRequest("GET", dpopURL, tokA, replayed), 401, auth.ErrDPoPProof, `DPoP realm="a"`, ""},
		{"A's proof for another URI", dpopRequest("GET", dpopURL+"/1", tokA, proof(tokA, "")), 401, auth.ErrDPoPProof, `DPoP realm="a"`, ""},
		{"A's bound token as a bearer token", bearer(tokA), 401, auth.ErrTokenBound, `realm="a"`, ""},
		{"A's plain token as a bearer token", bearer(signA(t, claimsOf(setIssA))), 200, nil, "", ""},
		{"C's bound token without a nonce", dpopRequest("GET", dpopURL, tokC, proof(tokC, "")), 401, auth.ErrDPoPNonce, `error="use_dpop_nonce"`, cur},
		{"C's bound token with the nonce", dpopRequest("GET", dpopURL, tokC, proof(tokC, cur)), 200, nil, "", ""},
		{"C's bound token with the previous nonce", dpopRequest("GET", dpopURL, tokC, proof(tokC, prev)), 200, nil, "", cur},
		{"C's proof under A's token", dpopRequest("GET", dpopURL, tokA, proof(tokC, "")), 401, auth.ErrDPoPProof, `DPoP realm="a"`, ""},
		{"C's plain token as a bearer token (C requires DPoP)", bearer(signC(t, claimsOf(setIssC))), 401, auth.ErrTokenNotDPoP, `realm="c"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, id, err := serveSet(s, tt.r)
			if w.Code != tt.code || !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("%d %v; want %d %v", w.Code, err, tt.code, tt.want)
			}
			if got := w.Header().Get("DPoP-Nonce"); got != tt.nonceSent {
				t.Errorf("DPoP-Nonce %q; want %q", got, tt.nonceSent)
			}
			if tt.want == nil {
				if id.Subject() != "alice" {
					t.Errorf("identity %q; want alice", id.Subject())
				}
				return
			}
			if ch := strings.Join(w.Header().Values("WWW-Authenticate"), " | "); !strings.Contains(ch, tt.realm) {
				t.Errorf("WWW-Authenticate %q; want it to hold %q", ch, tt.realm)
			}
		})
	}

	// Optional and Authenticate check the proof as Handler does.
	w := httptest.NewRecorder()
	s.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })).
		ServeHTTP(w, dpopRequest("GET", dpopURL, tokC, proof(tokC, prev)))
	if w.Code != http.StatusNoContent || w.Header().Get("DPoP-Nonce") != cur {
		t.Errorf("Optional, a stale nonce: %d, DPoP-Nonce %q; want 204, %q", w.Code, w.Header().Get("DPoP-Nonce"), cur)
	}
	if _, err := s.Authenticate(dpopRequest("GET", dpopURL, tokC, proof(tokC, ""))); auth.DPoPNonce(err) != cur {
		t.Errorf("Authenticate without a nonce: %v, DPoPNonce %q; want %q", err, auth.DPoPNonce(err), cur)
	}

	plain, _, _ := setVerifiers(t, auth.JWTOptions{})
	for _, vs := range [][]*auth.JWT{{plain, c}, {c, plain}} {
		if _, err := auth.NewJWTSet(vs...); err == nil || !strings.Contains(err.Error(), "JWTOptions.DPoP set in both or neither") {
			t.Errorf("NewJWTSet of DPoP and plain verifiers: %v; want an error", err)
		}
	}
}

// TestJWTSetOfOneDPoPVerifierAnswersAsItsJWT: a set of one DPoP verifier
// answers as its JWT (status, challenges, DPoP-Nonce), with or without
// DPoPOptions.Required; the reason differs for a token of another iss
// that the JWT refuses first for how it came (ErrTokenBound,
// ErrTokenNotDPoP), which the set refuses with ErrTokenIssuer.
func TestJWTSetOfOneDPoPVerifierAnswersAsItsJWT(t *testing.T) {
	k := newECDPoPKey(t)
	bound := func(iss any) string { return signA(t, with(claimsOf(iss), "cnf", map[string]any{"jkt": k.jkt})) }
	asBearer := func(tok string) func(string) *http.Request {
		return func(string) *http.Request { return bearer(tok) }
	}
	withProof := func(tok string, nonce bool) func(string) *http.Request {
		return func(cur string) *http.Request {
			c := proofClaims("GET", dpopURL, tok)
			if nonce {
				c["nonce"] = cur
			}
			return dpopRequest("GET", dpopURL, tok, k.proof(t, c))
		}
	}
	for _, required := range []bool{false, true} {
		at := testNow.Add(time.Minute + 5*time.Second)
		cur := nonceAt(t, nonceKey, at)
		verifier := func() *auth.JWT {
			a, _, _ := setVerifiers(t, auth.JWTOptions{Audience: "api://orders", DPoP: &auth.DPoPOptions{Required: required, Nonces: newNonces(t, nonceKey, &at)}})
			return a
		}
		j, s := verifier(), auth.MustNewJWTSet(verifier())
		notDPoP := error(nil) // a plain token of A as a bearer token
		if required {
			notDPoP = auth.ErrTokenNotDPoP
		}
		for _, tt := range []struct {
			name           string
			r              func(nonce string) *http.Request
			jwtErr, setErr error // nil: accepted
		}{
			{"a bound token with its proof", withProof(bound(setIssA), true), nil, nil},
			{"a bound token with a proof without the nonce", withProof(bound(setIssA), false), auth.ErrDPoPNonce, auth.ErrDPoPNonce},
			{"a plain token as a bearer token", asBearer(signA(t, claimsOf(setIssA))), notDPoP, notDPoP},
			{"a bound token of another iss with its proof", withProof(bound(setIssB), true), auth.ErrTokenIssuer, auth.ErrTokenIssuer},
			{"a bound token without iss with its proof", withProof(bound(nil), true), auth.ErrTokenClaimMissing, auth.ErrTokenIssuer},
			{"a bound token of another iss as a bearer token", asBearer(bound(setIssB)), auth.ErrTokenBound, auth.ErrTokenIssuer},
			{"a plain token of another iss as a bearer token", asBearer(signA(t, claimsOf(setIssB))), cmp.Or(notDPoP, auth.ErrTokenIssuer), auth.ErrTokenIssuer},
		} {
			t.Run(fmt.Sprintf("Required %v, %s", required, tt.name), func(t *testing.T) {
				jw, jid, jreason := serve(j, tt.r(cur))
				sw, sid, sreason := serveSet(s, tt.r(cur))
				jh, sh := jw.Header(), sw.Header()
				if jw.Code != sw.Code || !slices.Equal(jh.Values("WWW-Authenticate"), sh.Values("WWW-Authenticate")) ||
					jh.Get("DPoP-Nonce") != sh.Get("DPoP-Nonce") || jid.Subject() != sid.Subject() {
					t.Fatalf("JWT: %d %q %q %q; set: %d %q %q %q", jw.Code, jh.Values("WWW-Authenticate"), jh.Get("DPoP-Nonce"), jid.Subject(),
						sw.Code, sh.Values("WWW-Authenticate"), sh.Get("DPoP-Nonce"), sid.Subject())
				}
				if (jreason == nil) != (tt.jwtErr == nil) || !errors.Is(jreason, tt.jwtErr) || (sreason == nil) != (tt.setErr == nil) || !errors.Is(sreason, tt.setErr) {
					t.Fatalf("reasons: JWT %v, set %v; want %v, %v", jreason, sreason, tt.jwtErr, tt.setErr)
				}
			})
		}
	}
}

// A set of one verifier answers as its JWT but for a token of another iss
// while the JWT's JWKS key set cannot be fetched: the JWT needs the keys
// before it reads iss (503), the set reads iss first (401), as
// NewJWTSet's doc says.
func TestJWTSetOfOneRemoteVerifierWhileTheKeySetIsDown(t *testing.T) {
	js := newJWKSServer(t, []byte("{}"))
	js.set([]byte("{}"), http.StatusInternalServerError)
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
		Algorithms: []string{"EdDSA"}, Audience: "api://orders", Issuer: setIssB,
		JWKSURL: js.srv.URL + "/jwks.json",
		JWKS:    auth.JWKSOptions{HTTPClient: js.srv.Client(), Timeout: time.Second},
	}, testClock))
	if err != nil {
		t.Fatal(err)
	}
	s, err := auth.NewJWTSet(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		iss          string
		jwt, setCode int
	}{
		{setIssB, 503, 503},
		{setIssA, 503, 401},
	} {
		tok := signB(t, claimsOf(tt.iss))
		if w, _, reason := serve(m, bearer(tok)); w.Code != tt.jwt {
			t.Errorf("the JWT, iss %s: %d %v; want %d", tt.iss, w.Code, reason, tt.jwt)
		}
		if w, _, reason := serveSet(s, bearer(tok)); w.Code != tt.setCode {
			t.Errorf("the set, iss %s: %d %v; want %d", tt.iss, w.Code, reason, tt.setCode)
		}
	}
}
