package auth_test

import (
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// jwksServer serves a replaceable JWKS document over TLS and counts the
// fetches.
type jwksServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	delay   time.Duration
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	js := &jwksServer{doc: doc, status: 200}
	js.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.fetches.Add(1)
		js.mu.Lock()
		doc, status, delay := js.doc, js.status, js.delay
		js.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		w.Write(doc)
	}))
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) set(doc []byte, status int) {
	js.mu.Lock()
	js.doc, js.status = doc, status
	js.mu.Unlock()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func edJWK(kid string, pub ed25519.PublicKey, alg string) map[string]any {
	m := map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(pub)}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

func ecJWK(kid string, pub *ecdsa.PublicKey) map[string]any {
	b, _ := pub.Bytes()
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(b[1:33]), "y": b64(b[33:])}
}

func jwksDoc(keys ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newRemoteJWT(t *testing.T, js *jwksServer, clock *fakeClock, algs ...string) *auth.JWT {
	t.Helper()
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
		Algorithms: algs,
		Audience:   "api://orders",
		JWKSURL:    js.srv.URL + "/jwks.json",
		JWKS:       auth.JWKSOptions{HTTPClient: js.srv.Client(), MinRefreshInterval: time.Minute, RefreshInterval: time.Hour, MaxBytes: 4096, Timeout: time.Second},
	}, clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJWKSRotationAndBoundedRefresh(t *testing.T) {
	k := keysOnce()
	_, next, _ := ed25519.GenerateKey(rand.Reader)
	js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
	clock := &fakeClock{now: testNow}
	m := newRemoteJWT(t, js, clock, "EdDSA")

	tok1 := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, goodClaims())
	for range 3 {
		if w, _, reason := serve(m, bearer(tok1)); w.Code != 200 {
			t.Fatalf("k1: %d %v", w.Code, reason)
		}
	}
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for one key set, want 1", n)
	}
	// Unknown kids right after a fetch do not trigger fetches.
	for i := range 10 {
		tok := sign(t, jwt.SigningMethodEdDSA, k.evilEd, map[string]any{"kid": "unknown-" + string(rune('a'+i))}, goodClaims())
		if w, _, reason := serve(m, bearer(tok)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenUnknownKey) {
			t.Fatalf("unknown kid: %d %v", w.Code, reason)
		}
	}
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("unknown kids caused %d fetches, want none", n-1)
	}
	// The provider rotates; after MinRefreshInterval the new kid is
	// fetched, without a restart.
	js.set(jwksDoc(edJWK("k2", next.Public().(ed25519.PublicKey), "")), 200)
	clock.Add(2 * time.Minute)
	tok2 := sign(t, jwt.SigningMethodEdDSA, next, map[string]any{"kid": "k2"}, goodClaims())
	if w, _, reason := serve(m, bearer(tok2)); w.Code != 200 {
		t.Fatalf("k2 after rotation: %d %v", w.Code, reason)
	}
	if w, _, _ := serve(m, bearer(tok1)); w.Code != 401 {
		t.Fatalf("k1 still accepted after it left the set: %d", w.Code)
	}
}

func TestJWKSSingleFlight(t *testing.T) {
	k := keysOnce()
	js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
	js.delay = 50 * time.Millisecond
	m := newRemoteJWT(t, js, &fakeClock{now: testNow}, "EdDSA")
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, goodClaims())
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Errorf("%d %v", w.Code, reason)
			}
		})
	}
	wg.Wait()
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d concurrent fetches, want 1", n)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	k := keysOnce()
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, goodClaims())
	for _, tt := range []struct {
		name   string
		doc    []byte
		status int
	}{
		{"a server error", []byte("{}"), 500},
		{"a document over MaxBytes", jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), strings.Repeat("x", 5000))), 200},
		{"not JSON", []byte("<html>"), 200},
		// An error page is no key set, whatever its body holds: a proxy or
		// a misrouted request can answer 500 or 404 with a cached or
		// foreign document.
		{"a server error whose body is a key set", jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")), 500},
		{"a not-found page whose body is a key set", jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")), 404},
		// The bound is on the document, not on what parses of it: a key
		// set padded past MaxBytes is refused even though the part read
		// would parse.
		{"a document over MaxBytes whose first MaxBytes bytes are a key set", paddedJWKS(jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA"))), 200},
		{"only symmetric keys", jwksDoc(map[string]any{"kty": "oct", "kid": "k1", "k": b64(k.hmac), "alg": "HS256"}), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			js := newJWKSServer(t, tt.doc)
			js.set(tt.doc, tt.status)
			clock := &fakeClock{now: testNow}
			m := newRemoteJWT(t, js, clock, "EdDSA")
			w, _, reason := serve(m, bearer(tok))
			if w.Code != http.StatusServiceUnavailable || !errors.Is(reason, auth.ErrKeySetUnavailable) || w.Header().Get("Retry-After") == "" {
				t.Fatalf("%d %v", w.Code, reason)
			}
			// The failure is not retried on every request...
			serve(m, bearer(tok))
			if n := js.fetches.Load(); n != 1 {
				t.Fatalf("%d fetches, want 1", n)
			}
			// ...but after MinRefreshInterval, and a repaired provider is used.
			js.set(jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")), 200)
			clock.Add(2 * time.Minute)
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Fatalf("after repair: %d %v", w.Code, reason)
			}
		})
	}
}

func TestJWKSKeyAlgorithms(t *testing.T) {
	k := keysOnce()
	js := newJWKSServer(t, jwksDoc(
		ecJWK("ec", &k.ec.PublicKey), // no alg: usable with ES256 only
		edJWK("ed", k.ed.Public().(ed25519.PublicKey), "EdDSA"),
		map[string]any{"kty": "oct", "kid": "hs", "k": b64(k.hmac)},
	))
	m := newRemoteJWT(t, js, &fakeClock{now: testNow}, "ES256")
	if w, _, reason := serve(m, bearer(sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, goodClaims()))); w.Code != 200 {
		t.Fatalf("EC key without alg: %d %v", w.Code, reason)
	}
	for name, tok := range map[string]string{
		"an EdDSA key when only ES256 is allowed": sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed", "alg": "ES256"}, goodClaims()),
		"an oct key from the JWKS":                sign(t, jwt.SigningMethodHS256, k.hmac, map[string]any{"kid": "hs", "alg": "ES256"}, goodClaims()),
	} {
		if w, _, _ := serve(m, bearer(tok)); w.Code != 401 {
			t.Errorf("%s: %d", name, w.Code)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	k := keysOnce()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	b, _ := p384.PublicKey.Bytes()
	doc := jwksDoc(
		edJWK("ed", k.ed.Public().(ed25519.PublicKey), "EdDSA"),
		ecJWK("ec", &k.ec.PublicKey),
		map[string]any{"kty": "EC", "crv": "P-384", "kid": "ec384", "x": b64(b[1:49]), "y": b64(b[49:])},
		map[string]any{"kty": "RSA", "kid": "rsa", "n": b64(k.rsa.N.Bytes()), "e": "AQAB", "alg": "RS256"},
		map[string]any{"kty": "RSA", "kid": "small", "n": b64(make([]byte, 128)), "e": "AQAB"},
		map[string]any{"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))},
		map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc", "x": b64(make([]byte, 32))},
		map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "priv", "x": b64(make([]byte, 32)), "d": b64(make([]byte, 32))},
		map[string]any{"kty": "oct", "kid": "hs", "k": b64(k.hmac)},
	)
	keys, err := auth.ParseJWKS(doc)
	if err == nil {
		t.Error("no error listed the skipped keys")
	}
	var ids []string
	for _, key := range keys {
		ids = append(ids, key.ID)
	}
	if strings.Join(ids, ",") != "ed,ec,ec384,rsa" {
		t.Errorf("usable keys %v", ids)
	}
	if _, err := auth.ParseJWKS([]byte("[]")); err == nil {
		t.Error("a JSON array parsed as a JWKS")
	}
}

func TestJWKSBackgroundRefresh(t *testing.T) {
	k := keysOnce()
	js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
	clock := &fakeClock{now: testNow}
	m := newRemoteJWT(t, js, clock, "EdDSA")
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, with(goodClaims(), "exp", testNow.Add(24*time.Hour).Unix()))
	serve(m, bearer(tok))
	clock.Add(2 * time.Hour) // older than RefreshInterval
	for range 50 {
		if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
			t.Fatalf("stale set refused: %d %v", w.Code, reason)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for js.fetches.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the set went stale, want 2 (one background refresh)", n)
	}
}

// Found in review: a JWKS RSA key over 4096 bits was taken, though no
// token it signed could verify. It is skipped like the other unusable
// keys, and the error says why.
func TestParseJWKSSkipsRSAKeysOver4096Bits(t *testing.T) {
	k := keysOnce()
	large := append([]byte{0x80}, make([]byte, 512)...) // 4104 bits
	doc := jwksDoc(
		map[string]any{"kty": "RSA", "kid": "large", "n": b64(large), "e": "AQAB", "alg": "RS256"},
		map[string]any{"kty": "RSA", "kid": "rsa", "n": b64(k.rsa.N.Bytes()), "e": "AQAB", "alg": "RS256"},
	)
	keys, err := auth.ParseJWKS(doc)
	if err == nil || !strings.Contains(err.Error(), "key 0: RSA key of 4104 bits; 2048 to 4096") {
		t.Errorf("error %v, want one naming the 4104-bit key", err)
	}
	if len(keys) != 1 || keys[0].ID != "rsa" {
		t.Errorf("usable keys %v, want only rsa", keys)
	}
}

// NewJWT reports every problem of JWKSOptions, not the first (found in
// review).
func TestJWKSOptionsReportsEveryProblem(t *testing.T) {
	o := auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, JWKSURL: "https://idp.example/jwks", Audience: "api",
		JWKS: auth.JWKSOptions{Timeout: -1, MaxBytes: 1, RefreshInterval: 2 * time.Second, MinRefreshInterval: 3 * time.Second}}
	_, err := auth.NewJWT(o)
	for _, field := range []string{"Timeout", "MaxBytes", "RefreshInterval"} {
		if err == nil || !strings.Contains(err.Error(), "JWKSOptions."+field) {
			t.Errorf("NewJWT error %v, want it to name JWKSOptions.%s", err, field)
		}
	}
	// A MaxStale shorter than the refresh interval would expire the set
	// before its scheduled refresh.
	o.JWKS = auth.JWKSOptions{RefreshInterval: time.Hour, MaxStale: time.Hour - time.Second}
	if _, err = auth.NewJWT(o); err == nil || !strings.Contains(err.Error(), "JWKSOptions.MaxStale") {
		t.Errorf("NewJWT error %v, want it to name JWKSOptions.MaxStale", err)
	}
}

// While every fetch fails, the last good set verifies for
// JWKSOptions.MaxStale after the last fetch that succeeded, and no
// longer: a key the provider withdrew (it leaked) must not keep verifying
// for as long as someone can keep the service from reaching the provider.
// Past it, tokens get 503, cached ones too, until a fetch succeeds. A
// negative MaxStale keeps the set for good, as before the option.
func TestJWKSMaxStale(t *testing.T) {
	k := keysOnce()
	good := jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA"))
	for _, tt := range []struct {
		name     string
		refresh  time.Duration // RefreshInterval; 0: an hour
		maxStale time.Duration
		cache    int
		limit    time.Duration // how long the set outlives its last fetch; 0: for good
	}{
		{"default: a day", 0, 0, 0, 24 * time.Hour},
		{"default: a day, cached token", 0, 0, 8, 24 * time.Hour},
		{"default: twice a longer refresh interval", 20 * time.Hour, 0, 0, 40 * time.Hour},
		{"three hours", 0, 3 * time.Hour, 0, 3 * time.Hour},
		{"three hours, cached token", 0, 3 * time.Hour, 8, 3 * time.Hour},
		{"negative: no limit", 0, -1, 0, 0},
		{"negative: no limit, cached token", 0, -1, 8, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			js := newJWKSServer(t, good)
			clock := &fakeClock{now: testNow}
			refresh := cmp.Or(tt.refresh, time.Hour)
			m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
				Algorithms: []string{"EdDSA"},
				Audience:   "api://orders",
				JWKSURL:    js.srv.URL + "/jwks.json",
				JWKS: auth.JWKSOptions{HTTPClient: js.srv.Client(), MinRefreshInterval: time.Minute,
					RefreshInterval: refresh, MaxStale: tt.maxStale, MaxBytes: 4096, Timeout: time.Second},
				CacheSize: tt.cache,
			}, clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"},
				with(goodClaims(), "exp", testNow.Add(60*24*time.Hour).Unix()))
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Fatalf("before the outage: %d %v", w.Code, reason)
			}
			js.set([]byte("unavailable"), http.StatusServiceUnavailable) // the provider goes down
			within := tt.limit - time.Minute
			if tt.limit == 0 {
				within = 30 * 24 * time.Hour
			}
			clock.Add(within)
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Fatalf("%v into the outage: %d %v, want the last good set", within, w.Code, reason)
			}
			if tt.limit == 0 {
				return
			}
			clock.Add(2 * time.Minute)
			w, _, reason := serve(m, bearer(tok))
			if w.Code != http.StatusServiceUnavailable || !errors.Is(reason, auth.ErrKeySetUnavailable) || w.Header().Get("Retry-After") == "" {
				t.Fatalf("past MaxStale: %d %v (Retry-After %q), want 503 for an unavailable key set",
					w.Code, reason, w.Header().Get("Retry-After"))
			}
			js.set(good, http.StatusOK) // the provider is back
			clock.Add(2 * time.Minute)  // past MinRefreshInterval
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Fatalf("after the provider came back: %d %v", w.Code, reason)
			}
		})
	}
}

// A key set document the provider serves without any key usable here (it
// removed the only allowed key, or now publishes keys of an algorithm
// this service does not allow) replaces the set: the removed key must
// stop verifying, as when a usable key remains. Such a document used to
// count as a failed fetch, and the set holding the removed key was kept
// for good.
func TestJWKSKeyRemovedWhenNoUsableKeyRemains(t *testing.T) {
	k := keysOnce()
	for _, tt := range []struct {
		name string
		doc  []byte
	}{
		{"an empty set", []byte(`{"keys":[]}`)},
		{"only a key of another algorithm", jwksDoc(ecJWK("ec", &k.ec.PublicKey))},
		{"only an encryption key", jwksDoc(map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "k2", "use": "enc", "x": b64(make([]byte, 32))})},
		{"only a symmetric key", jwksDoc(map[string]any{"kty": "oct", "kid": "k1", "k": b64(k.hmac)})},
		// The provider keeps publishing the key but no longer for
		// verifying: a key whose key_ops lacks "verify" must not verify.
		{"the same key, its key_ops without verify", jwksDoc(withMember(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA"), "key_ops", []string{"encrypt"}))},
		{"the same key, under an algorithm this package does not know", jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA2"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
			clock := &fakeClock{now: testNow}
			m := newRemoteJWT(t, js, clock, "EdDSA")
			tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, with(goodClaims(), "exp", testNow.Add(24*time.Hour).Unix()))
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Fatalf("before removal: %d %v", w.Code, reason)
			}
			js.set(tt.doc, 200)
			clock.Add(2 * time.Hour) // the set is stale: the next request refreshes it
			code, reason := 0, error(nil)
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				var w *httptest.ResponseRecorder
				w, _, reason = serve(m, bearer(tok))
				if code = w.Code; code != 200 {
					break
				}
			}
			if code != http.StatusServiceUnavailable || !errors.Is(reason, auth.ErrKeySetUnavailable) {
				t.Fatalf("token of the removed key: %d %v, want 503 (no usable key)", code, reason)
			}
			// A transient failure still keeps the last good set.
			js.set(jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")), 200)
			clock.Add(2 * time.Minute)
			if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
				t.Fatalf("key back: %d %v", w.Code, reason)
			}
			js.set([]byte("<html>"), 502)
			clock.Add(2 * time.Hour)
			for range 5 {
				if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
					t.Fatalf("provider down: %d %v, want the last good set", w.Code, reason)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// Found in review: a cache hit skipped the key lookup, and with it the
// refresh of a stale JWKS, so that while every request bore a cached token
// the set was never refetched, and a key the provider had removed kept
// verifying its tokens until they expired.
func TestJWKSCachedTokenStillRefreshesAStaleSet(t *testing.T) {
	k := keysOnce()
	js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
	clock := &fakeClock{now: testNow}
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
		Algorithms: []string{"EdDSA"},
		Audience:   "api://orders",
		JWKSURL:    js.srv.URL + "/jwks.json",
		JWKS:       auth.JWKSOptions{HTTPClient: js.srv.Client(), MinRefreshInterval: time.Minute, RefreshInterval: time.Hour, MaxBytes: 4096, Timeout: time.Second},
		CacheSize:  8,
	}, clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, with(goodClaims(), "exp", testNow.Add(24*time.Hour).Unix()))
	if w, _, reason := serve(m, bearer(tok)); w.Code != 200 {
		t.Fatalf("k1: %d %v", w.Code, reason)
	}
	// The provider drops k1 (a compromised key); the set goes stale.
	_, next, _ := ed25519.GenerateKey(rand.Reader)
	js.set(jwksDoc(edJWK("k2", next.Public().(ed25519.PublicKey), "EdDSA")), 200)
	clock.Add(2 * time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		w, _, _ := serve(m, bearer(tok))
		if w.Code == 401 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("a cached token of a removed key still verifies; %d fetches, want 2", js.fetches.Load())
}

// paddedJWKS returns doc followed by whitespace, which JSON allows, to a
// length past the MaxBytes of newRemoteJWT (4096).
func paddedJWKS(doc []byte) []byte {
	return append(doc, bytes.Repeat([]byte(" "), 5000)...)
}

// withMember returns the JWK m with one more member.
func withMember(m map[string]any, name string, v any) map[string]any {
	m[name] = v
	return m
}

// A fetch that fails keeps the last good key set, as JWKSOptions says:
// an error response or an oversized document must not replace it, even
// when its body would parse as a key set. A status that was not checked
// let an error page (a 500 from a proxy, a 404 of another service)
// decide which keys verify; a size that was not checked let the part of
// an oversized document that was read do the same.
func TestJWKSFailedFetchKeepsTheLastGoodSet(t *testing.T) {
	k := keysOnce()
	_, next, _ := ed25519.GenerateKey(rand.Reader)
	onlyK2 := jwksDoc(edJWK("k2", next.Public().(ed25519.PublicKey), "EdDSA"))
	for _, tt := range []struct {
		name   string
		doc    []byte
		status int
	}{
		{"a server error whose body is a key set", onlyK2, http.StatusInternalServerError},
		{"a not-found page whose body is a key set", onlyK2, http.StatusNotFound},
		{"a document over MaxBytes whose first MaxBytes bytes are a key set", paddedJWKS(onlyK2), http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			js := newJWKSServer(t, jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA")))
			clock := &fakeClock{now: testNow}
			m := newRemoteJWT(t, js, clock, "EdDSA")
			tok1 := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, goodClaims())
			if w, _, reason := serve(m, bearer(tok1)); w.Code != 200 {
				t.Fatalf("k1: %d %v", w.Code, reason)
			}
			js.set(tt.doc, tt.status)
			clock.Add(2 * time.Minute) // past MinRefreshInterval: an unknown kid fetches
			tok2 := sign(t, jwt.SigningMethodEdDSA, next, map[string]any{"kid": "k2"}, goodClaims())
			if w, _, reason := serve(m, bearer(tok2)); w.Code != 401 || !errors.Is(reason, auth.ErrTokenUnknownKey) {
				t.Errorf("k2, listed only by the failed fetch: %d %v, want 401 (unknown key)", w.Code, reason)
			}
			if n := js.fetches.Load(); n != 2 {
				t.Fatalf("%d fetches, want 2", n)
			}
			if w, _, reason := serve(m, bearer(tok1)); w.Code != 200 {
				t.Errorf("k1 after the failed fetch: %d %v, want the last good set", w.Code, reason)
			}
		})
	}
}

// ParseJWKS skips keys it must not verify with: a key whose key_ops does
// not include "verify" is meant for something else (encryption, or
// signing on the provider's side only), and an RSA key with an even
// public exponent is no valid RSA key (RFC 8017 §3.1).
func TestParseJWKSSkipsKeysNotForVerifying(t *testing.T) {
	k := keysOnce()
	ed := func(ops any) map[string]any {
		return withMember(edJWK("ed", k.ed.Public().(ed25519.PublicKey), "EdDSA"), "key_ops", ops)
	}
	rsaE := func(e []byte) map[string]any {
		return map[string]any{"kty": "RSA", "kid": "rsa", "n": b64(k.rsa.N.Bytes()), "e": b64(e), "alg": "RS256"}
	}
	for _, tt := range []struct {
		name   string
		key    map[string]any
		usable bool
	}{
		{"key_ops with verify", ed([]string{"verify"}), true},
		{"key_ops with sign and verify", ed([]string{"sign", "verify"}), true},
		{"key_ops for encryption only", ed([]string{"encrypt"}), false},
		{"key_ops for signing only", ed([]string{"sign"}), false},
		{"an empty key_ops", ed([]string{}), false},
		{"an RSA key with exponent 65537", rsaE([]byte{1, 0, 1}), true},
		{"an RSA key with the even exponent 65536", rsaE([]byte{1, 0, 0}), false},
		{"an RSA key with the even exponent 65538", rsaE([]byte{1, 0, 2}), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := auth.ParseJWKS(jwksDoc(tt.key))
			if got := len(keys) == 1; got != tt.usable {
				t.Errorf("usable = %v (%d keys), want %v", got, len(keys), tt.usable)
			}
			if tt.usable != (err == nil) {
				t.Errorf("error %v", err)
			}
		})
	}
}

// A key set is read one key at a time: a member of the wrong JSON shape
// (key_ops as a string, a number where base64url belongs, a key that is
// not an object) is skipped like any other unusable key, instead of
// failing the whole set and, with it, every token of the provider's
// good keys once the last good set goes stale.
func TestParseJWKSSkipsMalformedMembers(t *testing.T) {
	k := keysOnce()
	doc := []byte(`{"keys":[` +
		`{"kty":"OKP","crv":"Ed25519","kid":"ops","x":"` + b64(make([]byte, 32)) + `","key_ops":"verify"},` +
		`{"kty":"EC","crv":"P-256","kid":"num","x":5,"y":6},` +
		`"not a key",` +
		string(mustJSON(t, edJWK("ed", k.ed.Public().(ed25519.PublicKey), "EdDSA"))) +
		`]}`)
	keys, err := auth.ParseJWKS(doc)
	if err == nil || !strings.Contains(err.Error(), "key 0:") || !strings.Contains(err.Error(), "key 2:") {
		t.Errorf("error %v, want one naming keys 0, 1 and 2", err)
	}
	if len(keys) != 1 || keys[0].ID != "ed" {
		t.Fatalf("usable keys %v, want only ed", keys)
	}
	for _, bad := range []string{`{"keys":{}}`, `{"keys":[}`, `[]`} {
		if _, err := auth.ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("%s parsed as a JWKS", bad)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A fetched key is used only as the set describes it and as the verifier
// allows: a key whose alg does not suit its kty or curve, an alg of
// "none", a key for encryption, never verify, each under its kid; keys that
// share a kid but not a type are told apart by the token's alg (RFC 7517
// §4.5), and two of one type and kid verify only with the first listed.
// Every refusal is an unknown key or a bad signature, and none fetches
// the set again within MinRefreshInterval.
func TestJWKSKeyUseAndTypeMismatches(t *testing.T) {
	k := keysOnce()
	ecPub, _ := k.ec.PublicKey.Bytes()
	ec := func(kid, alg string) map[string]any {
		return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "alg": alg, "x": b64(ecPub[1:33]), "y": b64(ecPub[33:])}
	}
	rsaKey := func(kid, alg string) map[string]any {
		return map[string]any{"kty": "RSA", "kid": kid, "alg": alg, "n": b64(k.rsa.N.Bytes()), "e": "AQAB"}
	}
	edPub := k.ed.Public().(ed25519.PublicKey)
	js := newJWKSServer(t, jwksDoc(
		ec("ec-as-rs", "RS256"),
		rsaKey("rs-as-es", "ES256"),
		edJWK("ed-as-hs", edPub, "HS256"),
		edJWK("ed-none", edPub, "none"),
		withMember(edJWK("ed-enc", edPub, "EdDSA"), "use", "enc"),
		ec("p256-as-es384", "ES384"),
		ec("dup", "ES256"),
		edJWK("dup", edPub, "EdDSA"),
		edJWK("twice", k.evilEd.Public().(ed25519.PublicKey), "EdDSA"),
		edJWK("twice", edPub, "EdDSA"),
	))
	m := newRemoteJWT(t, js, &fakeClock{now: testNow}, "ES256", "ES384", "EdDSA", "RS256")
	kid := func(id string) map[string]any { return map[string]any{"kid": id} }
	for _, tt := range []struct {
		name string
		tok  string
		ok   bool
	}{
		{"an EC key published for RS256", sign(t, jwt.SigningMethodES256, k.ec, kid("ec-as-rs"), goodClaims()), false},
		{"an RSA key published for ES256", sign(t, jwt.SigningMethodRS256, k.rsa, kid("rs-as-es"), goodClaims()), false},
		{"an Ed25519 key published for HS256", sign(t, jwt.SigningMethodEdDSA, k.ed, kid("ed-as-hs"), goodClaims()), false},
		{"an Ed25519 key published for none", sign(t, jwt.SigningMethodEdDSA, k.ed, kid("ed-none"), goodClaims()), false},
		{"an Ed25519 key for encryption", sign(t, jwt.SigningMethodEdDSA, k.ed, kid("ed-enc"), goodClaims()), false},
		{"a P-256 key published for ES384", sign(t, jwt.SigningMethodES256, k.ec, kid("p256-as-es384"), goodClaims()), false},
		{"a shared kid, ES256", sign(t, jwt.SigningMethodES256, k.ec, kid("dup"), goodClaims()), true},
		{"a shared kid, EdDSA", sign(t, jwt.SigningMethodEdDSA, k.ed, kid("dup"), goodClaims()), true},
		{"a kid listed twice, the first key", sign(t, jwt.SigningMethodEdDSA, k.evilEd, kid("twice"), goodClaims()), true},
		{"a kid listed twice, the second key", sign(t, jwt.SigningMethodEdDSA, k.ed, kid("twice"), goodClaims()), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, _, reason := serve(m, bearer(tt.tok))
			switch {
			case tt.ok && w.Code != http.StatusOK:
				t.Errorf("status %d (%v), want 200", w.Code, reason)
			case !tt.ok && (w.Code != http.StatusUnauthorized || !errors.Is(reason, auth.ErrTokenUnknownKey) && !errors.Is(reason, auth.ErrTokenSignature)):
				t.Errorf("status %d (%v), want 401 for an unknown key or a bad signature", w.Code, reason)
			}
		})
	}
	if n := js.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}
