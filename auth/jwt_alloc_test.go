package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// discardWriter is a ResponseWriter that allocates nothing itself.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// TestJWTAllocations pins the allocation budget of the accepted and
// rejected paths. Of the accepted path's allocations, three are the
// request's context and identity, two identity.New's copies of the roles
// and scopes, three the subject, scope and role strings, and one
// golang-jwt's Validator; the rejections an attacker drives cheaply
// allocate nothing (their header values go into per-response slots).
func TestJWTAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	k := keysOnce()
	claims := benchClaims()
	good := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, claims)
	p := strings.Split(good, ".")
	m := newJWTForBench(t)
	cached, _ := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, Issuer: "https://issuer.example", Audience: "api://orders", CacheSize: 16})
	// Several accepted audiences cost nothing more, whichever one the
	// token names: each is interned like the single Audience.
	audOpts := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}}, Issuer: "https://issuer.example",
		Audience: "api://orders", Audiences: []string{"api://orders-v2", "api://orders-v3"}}
	multi, _ := auth.NewJWT(audOpts)
	audOpts.CacheSize = 16
	multiCached, _ := auth.NewJWT(audOpts)
	lastAud := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "aud", []string{"api://orders-v3"}))
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, tt := range []struct {
		name     string
		m        *auth.JWT
		tok      string
		max      float64
		false401 bool
	}{
		{"a valid token", m, good, 10, false},
		{"a valid token from the cache", cached, good, 4, false},
		{"a valid token under several audiences, matching the first", multi, good, 10, false},
		{"a valid token under several audiences, matching the last", multi, lastAud, 10, false},
		{"a valid token under several audiences from the cache", multiCached, lastAud, 4, false},
		{"no token", m, "", 0, true},
		{"a 1 MB token", m, strings.Repeat("a", 1<<20), 0, true},
		{"alg none", m, seg(map[string]any{"alg": "none"}) + "." + p[1] + ".", 0, true},
		{"a duplicate header member", m, rawSeg(`{"alg":"HS256","alg":"none"}`) + "." + p[1] + "." + p[2], 0, true},
		{"8000 periods (CVE-2025-30204)", m, strings.Repeat(".", 8000), 0, true},
		{"an unknown kid", m, sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "nope"}, claims), 0, true},
		// Signed, so refused after its claims are decoded: the three are the
		// subject, scope and role strings, as for a valid token; the check
		// of cnf adds none.
		{"a token bound to a key (cnf)", m, sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "cnf", map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})), 3, true},
	} {
		// Optional costs what Handler does.
		for _, layer := range []struct {
			name string
			wrap func(http.Handler) http.Handler
		}{{"Handler", tt.m.Handler}, {"Optional", tt.m.Optional}} {
			t.Run(tt.name+"/"+layer.name, func(t *testing.T) {
				h := layer.wrap(next)
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				if tt.tok != "" {
					req.Header.Set("Authorization", "Bearer "+tt.tok)
				}
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req) // warm pools and caches
				n := testing.AllocsPerRun(200, func() {
					clear(w.h)
					h.ServeHTTP(w, req)
				})
				if n > tt.max {
					t.Errorf("%v allocations, budget %v", n, tt.max)
				}
				t.Logf("%v allocations", n)
			})
		}
	}
}

// TestJWTCookieTokenAllocatesOnlyTheCookie holds a cached token from the
// cookie to the allocations of the same token in the Authorization header
// plus those of reading the cookie: the Cache-Control: private its
// response gets takes a per-response slot, not a slice of its own.
func TestJWTCookieTokenAllocatesOnlyTheCookie(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	k := keysOnce()
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, benchClaims())
	m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{ID: "k1", Key: k.hmac}},
		Issuer: "https://issuer.example", Audience: "api://orders", CacheSize: 16, CookieName: "at"})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	allocs := func(req *http.Request) (float64, http.Header) {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req) // warm the cache
		return testing.AllocsPerRun(200, func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}), w.h
	}
	inHeader := httptest.NewRequest(http.MethodGet, "/", nil)
	inHeader.Header.Set("Authorization", "Bearer "+tok)
	inCookie := httptest.NewRequest(http.MethodGet, "/", nil)
	inCookie.Header.Set("Cookie", "at="+tok)
	reading := testing.AllocsPerRun(200, func() { _ = inCookie.CookiesNamed("at") })
	header, _ := allocs(inHeader)
	cookie, hdr := allocs(inCookie)
	if hdr.Get("Cache-Control") != "private" {
		t.Fatalf("Cache-Control %q, want private", hdr.Get("Cache-Control"))
	}
	if cookie > header+reading {
		t.Errorf("%v allocations for a cookie token, want at most %v (the header's %v and the cookie's %v)", cookie, header+reading, header, reading)
	}
}

// TestJWTAudiencesAllocateNothingMore holds a verifier with several
// accepted audiences to the allocations of one with a single Audience,
// whichever accepted value the token's aud names: the decoder interns
// every accepted value, not only the first.
func TestJWTAudiencesAllocateNothingMore(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	k := keysOnce()
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	allocs := func(o auth.JWTOptions, aud any) float64 {
		t.Helper()
		o.Algorithms, o.Keys, o.Issuer = []string{"HS256"}, []auth.Key{{ID: "k1", Key: k.hmac}}, "https://issuer.example"
		m, err := auth.NewJWT(o)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Handler(next)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "k1"}, with(benchClaims(), "aud", aud)))
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.h.Get("Www-Authenticate") != "" {
			t.Fatalf("aud %v refused", aud)
		}
		return testing.AllocsPerRun(200, func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		})
	}
	base := allocs(auth.JWTOptions{Audience: "api://orders"}, "api://orders")
	for _, tc := range []struct {
		name string
		opts auth.JWTOptions
		aud  any
	}{
		{"Audience and Audiences, aud the last", auth.JWTOptions{Audience: "api://orders", Audiences: []string{"api://orders-v2", "api://orders-v3"}}, "api://orders-v3"},
		{"Audience and Audiences, aud array naming the second", auth.JWTOptions{Audience: "api://orders", Audiences: []string{"api://orders-v2", "api://orders-v3"}}, []string{"api://orders-v2"}},
		{"Audiences alone, aud the first", auth.JWTOptions{Audiences: []string{"api://orders", "api://orders-v2"}}, "api://orders"},
		{"Audiences alone, aud the second", auth.JWTOptions{Audiences: []string{"api://orders", "api://orders-v2"}}, "api://orders-v2"},
	} {
		if n := allocs(tc.opts, tc.aud); n > base {
			t.Errorf("%s: %v allocations, %v with a single Audience", tc.name, n, base)
		}
	}
}
