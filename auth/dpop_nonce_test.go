package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
)

var nonceKey = []byte("0123456789abcdef0123456789abcdef")

// newNonces is an HMACNonces of a one-minute lifetime under key whose
// clock reads *at.
func newNonces(t testing.TB, key []byte, at *time.Time) *auth.HMACNonces {
	t.Helper()
	n, err := auth.NewHMACNonces(key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	auth.SetNonceClock(n, func() time.Time { return *at })
	return n
}

// nonceAt is the nonce n issues at t.
func nonceAt(t testing.TB, key []byte, at time.Time) string {
	t.Helper()
	s, err := newNonces(t, key, &at).Nonce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RFC 9449 §9: with Nonces, a proof needs a nonce the server issued; a
// proof without one, or with one no longer accepted, is answered 401
// use_dpop_nonce with a new nonce in DPoP-Nonce, and a nonce about to
// expire is replaced on a successful response.
func TestDPoPNonces(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	now := testNow // on a period's boundary: 12:00:00
	cur := nonceAt(t, nonceKey, now)
	flip := []byte(cur)
	flip[len(flip)-2] ^= 1
	tests := []struct {
		name      string
		nonce     any // the proof's nonce claim; nil for none
		code      int
		err       error // what the rejection wraps
		sentNonce string
	}{
		{"no nonce", nil, 401, auth.ErrDPoPNonce, cur},
		{"the current nonce", cur, 200, nil, ""},
		{"the current nonce near the end of its period", cur, 200, nil, ""},
		{"the previous period's", nonceAt(t, nonceKey, now.Add(-time.Second)), 200, nil, cur},
		{"the first second of the previous period's", nonceAt(t, nonceKey, now.Add(-time.Minute)), 200, nil, cur},
		{"expired: two periods old", nonceAt(t, nonceKey, now.Add(-time.Minute-time.Second)), 401, auth.ErrDPoPNonce, cur},
		{"the next period's, from an instance whose clock is ahead", nonceAt(t, nonceKey, now.Add(time.Minute)), 200, nil, ""},
		{"two periods ahead", nonceAt(t, nonceKey, now.Add(2*time.Minute)), 401, auth.ErrDPoPNonce, cur},
		{"under another key", nonceAt(t, []byte(strings.Repeat("k", 32)), now), 401, auth.ErrDPoPNonce, cur},
		{"tampered", string(flip), 401, auth.ErrDPoPNonce, cur},
		{"padded", cur + "=", 401, auth.ErrDPoPNonce, cur},
		{"empty", "", 401, auth.ErrDPoPNonce, cur},
		{"too long", strings.Repeat("a", 300), 401, auth.ErrDPoPNonce, cur},
		{"not a string", 42, 401, auth.ErrDPoPProof, ""},
	}
	for _, cache := range []int{0, 8} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				at := now
				if strings.Contains(tt.name, "near the end") {
					at = now.Add(59 * time.Second)
				}
				m := newDPoPJWT(t, auth.DPoPOptions{Nonces: newNonces(t, nonceKey, &at)}, func(o *auth.JWTOptions) { o.CacheSize = cache })
				c := proofClaims("GET", dpopURL, tok)
				if tt.nonce != nil {
					c["nonce"] = tt.nonce
				}
				w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, c)))
				if w.Code != tt.code || tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
					t.Fatalf("cache %d: %d %v; want %d %v", cache, w.Code, err, tt.code, tt.err)
				}
				if got := w.Header().Values("DPoP-Nonce"); tt.sentNonce == "" && len(got) != 0 || tt.sentNonce != "" && (len(got) != 1 || got[0] != tt.sentNonce) {
					t.Errorf("cache %d: DPoP-Nonce %q; want %q", cache, got, tt.sentNonce)
				}
				wantErr := `error="invalid_dpop_proof"`
				if errors.Is(tt.err, auth.ErrDPoPNonce) {
					wantErr = `error="use_dpop_nonce"`
				}
				if tt.err != nil && !strings.Contains(strings.Join(w.Header().Values("WWW-Authenticate"), "\n"), wantErr) {
					t.Errorf("cache %d: WWW-Authenticate %q; want %s", cache, w.Header().Values("WWW-Authenticate"), wantErr)
				}
			})
		}
	}
}

// The client's retry after use_dpop_nonce is the same request with a new
// proof carrying the nonce; the refused proof's jti was not spent, since
// a client may sign the retry with it.
func TestDPoPNonceRetry(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	at := testNow.Add(17 * time.Second)
	m := newDPoPJWT(t, auth.DPoPOptions{Nonces: newNonces(t, nonceKey, &at)})
	c := proofClaims("GET", dpopURL, tok)
	w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, c)))
	if w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrDPoPNonce) {
		t.Fatalf("without a nonce: %d %v", w.Code, err)
	}
	c["nonce"] = w.Header().Get("DPoP-Nonce")
	retry := k.proof(t, c)
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, retry)); w.Code != http.StatusOK {
		t.Fatalf("the retry with the nonce: %d %v", w.Code, err)
	}
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, retry)); w.Code != http.StatusUnauthorized || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("the retry again: %d %v; want a replay", w.Code, err)
	}
}

// A nonce does not excuse the rest of the proof: a bad signature or a
// proof for another URI is still invalid_dpop_proof, with a nonce or
// without one, and a proof without a nonce is still checked against its
// token's key before it is told to fetch one.
func TestDPoPNonceDoesNotExcuseTheProof(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	at := testNow
	cur := nonceAt(t, nonceKey, at)
	m := newDPoPJWT(t, auth.DPoPOptions{Nonces: newNonces(t, nonceKey, &at)})
	withNonce := func(c map[string]any) map[string]any { c["nonce"] = cur; return c }
	thief := newECDPoPKey(t)
	tests := []struct {
		name  string
		proof string
	}{
		{"bad signature", flipSig(k.proof(t, withNonce(proofClaims("GET", dpopURL, tok))))},
		{"another URI", k.proof(t, withNonce(proofClaims("GET", dpopURL+"/x", tok)))},
		{"another key, no nonce", thief.proof(t, proofClaims("GET", dpopURL, tok))},
		{"another key, the nonce", thief.proof(t, withNonce(proofClaims("GET", dpopURL, tok)))},
	}
	for _, tt := range tests {
		w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, tt.proof))
		if w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrDPoPProof) || errors.Is(err, auth.ErrDPoPNonce) || w.Header().Get("DPoP-Nonce") != "" {
			t.Errorf("%s: %d %v, DPoP-Nonce %q; want 401 invalid_dpop_proof", tt.name, w.Code, err, w.Header().Get("DPoP-Nonce"))
		}
	}
}

// RFC 9449 §9's challenge, with the Bearer one unless DPoP is required.
func TestDPoPNonceChallenge(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	at := testNow
	dp := `DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`
	for _, required := range []bool{false, true} {
		m := newDPoPJWT(t, auth.DPoPOptions{Required: required, Nonces: newNonces(t, nonceKey, &at)})
		w, _, _ := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
		want := []string{`Bearer realm="api"`, dp}
		if required {
			want = want[1:]
		}
		if got := w.Header().Values("WWW-Authenticate"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("required=%v: WWW-Authenticate %q; want %q", required, got, want)
		}
		if ct := w.Header().Get("Content-Type"); w.Code != http.StatusUnauthorized || ct != "application/problem+json" {
			t.Errorf("required=%v: %d %q; want a 401 problem", required, w.Code, ct)
		}
	}
}

// OnReject writes its own response; the DPoP-Nonce the client needs to
// retry is already set, and Optional sends nonces as Handler does.
func TestDPoPNonceOnRejectAndOptional(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	at := testNow.Add(time.Minute + 5*time.Second)
	cur, prev := nonceAt(t, nonceKey, at), nonceAt(t, nonceKey, testNow)
	m := newDPoPJWT(t, auth.DPoPOptions{Nonces: newNonces(t, nonceKey, &at)}, func(o *auth.JWTOptions) {
		o.OnReject = func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("X-Why", map[bool]string{true: "nonce"}[errors.Is(err, auth.ErrDPoPNonce)])
			w.WriteHeader(http.StatusTeapot)
		}
	})
	w := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(w, dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
	if w.Code != http.StatusTeapot || w.Header().Get("X-Why") != "nonce" || w.Header().Get("DPoP-Nonce") != cur {
		t.Errorf("OnReject: %d, X-Why %q, DPoP-Nonce %q; want 418, nonce, %q", w.Code, w.Header().Get("X-Why"), w.Header().Get("DPoP-Nonce"), cur)
	}

	opt := m.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	c := proofClaims("GET", dpopURL, tok)
	c["nonce"] = prev
	w = httptest.NewRecorder()
	opt.ServeHTTP(w, dpopRequest("GET", dpopURL, tok, k.proof(t, c)))
	if w.Code != http.StatusNoContent || w.Header().Get("DPoP-Nonce") != cur {
		t.Errorf("Optional, a stale nonce: %d, DPoP-Nonce %q; want 204, %q", w.Code, w.Header().Get("DPoP-Nonce"), cur)
	}
	w = httptest.NewRecorder()
	opt.ServeHTTP(w, dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
	if w.Code != http.StatusTeapot || w.Header().Get("DPoP-Nonce") != cur {
		t.Errorf("Optional, no nonce: %d, DPoP-Nonce %q; want 418, %q", w.Code, w.Header().Get("DPoP-Nonce"), cur)
	}
}

// nonceFunc is a NonceSource of two functions.
type nonceFunc struct {
	nonce func() (string, error)
	check func(string) (bool, string, error)
}

func (f nonceFunc) Nonce(context.Context) (string, error) { return f.nonce() }
func (f nonceFunc) Check(_ context.Context, s string) (bool, string, error) {
	return f.check(s)
}

// A NonceSource that cannot answer, or answers with a nonce that cannot
// go in a header, fails closed with 503, and no header is sent.
func TestDPoPNonceSourceFailures(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	down := errors.New("nonce store down")
	good := func() (string, error) { return "n-1", nil }
	tests := []struct {
		name  string
		src   nonceFunc
		nonce any
	}{
		{"Nonce fails", nonceFunc{func() (string, error) { return "", down }, nil}, nil},
		{"Check fails", nonceFunc{good, func(string) (bool, string, error) { return false, "", down }}, "n-0"},
		{"an empty nonce", nonceFunc{func() (string, error) { return "", nil }, nil}, nil},
		{"a nonce with a space", nonceFunc{func() (string, error) { return "a b", nil }, nil}, nil},
		{"a nonce with a quote", nonceFunc{func() (string, error) { return `a"b`, nil }, nil}, nil},
		{"a nonce with a line break", nonceFunc{func() (string, error) { return "a\r\nSet-Cookie: x=y", nil }, nil}, nil},
		{"a nonce too long", nonceFunc{func() (string, error) { return strings.Repeat("n", 257), nil }, nil}, nil},
		{"a next nonce with a backslash", nonceFunc{good, func(string) (bool, string, error) { return true, `a\b`, nil }}, "n-0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newDPoPJWT(t, auth.DPoPOptions{Nonces: tt.src})
			c := proofClaims("GET", dpopURL, tok)
			if tt.nonce != nil {
				c["nonce"] = tt.nonce
			}
			w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, c)))
			if w.Code != http.StatusServiceUnavailable || !errors.Is(err, auth.ErrUnavailable) || w.Header().Get("DPoP-Nonce") != "" || w.Header().Get("Retry-After") == "" {
				t.Errorf("%d %v, DPoP-Nonce %q; want 503 with Retry-After and no nonce", w.Code, err, w.Header().Get("DPoP-Nonce"))
			}
		})
	}
	// A source's nonces are used as they are: an opaque one works.
	m := newDPoPJWT(t, auth.DPoPOptions{Nonces: nonceFunc{good, func(s string) (bool, string, error) { return s == "n-1", "", nil }}})
	c := proofClaims("GET", dpopURL, tok)
	c["nonce"] = "n-1"
	if w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, c))); w.Code != http.StatusOK {
		t.Errorf("a custom source's nonce: %d %v", w.Code, err)
	}
}

func TestNewHMACNonces(t *testing.T) {
	tests := []struct {
		name     string
		key      []byte
		lifetime time.Duration
		ok       bool
	}{
		{"defaults", nonceKey, 0, true},
		{"one second", nonceKey, time.Second, true},
		{"an hour", nonceKey, time.Hour, true},
		{"no key", nil, 0, false},
		{"a short key", nonceKey[:31], 0, false},
		{"a negative lifetime", nonceKey, -time.Minute, false},
		{"under a second", nonceKey, 999 * time.Millisecond, false},
		{"over an hour", nonceKey, time.Hour + time.Second, false},
	}
	for _, tt := range tests {
		n, err := auth.NewHMACNonces(tt.key, tt.lifetime)
		if (err == nil) != tt.ok || (n != nil) != tt.ok {
			t.Errorf("%s: %v, %v; want ok=%v", tt.name, n, err, tt.ok)
		}
	}
	var zero auth.HMACNonces
	if _, err := zero.Nonce(context.Background()); err == nil {
		t.Error("the zero HMACNonces issued a nonce")
	}
	if ok, _, err := zero.Check(context.Background(), "x"); ok || err == nil {
		t.Errorf("the zero HMACNonces checked a nonce: %v %v", ok, err)
	}
}

// A nonce is issued for a period of the lifetime, the same to every
// client, and accepted until the end of the next one, during which Check
// names its successor; the key is copied, and instances sharing it
// accept each other's nonces.
func TestHMACNoncesOverTime(t *testing.T) {
	key := append([]byte(nil), nonceKey...)
	start := time.Unix(1_800_000_000, 0) // a multiple of 300 s
	at := start
	n, err := auth.NewHMACNonces(key, 0)
	if err != nil {
		t.Fatal(err)
	}
	auth.SetNonceClock(n, func() time.Time { return at })
	key[0] ^= 1 // the caller's key changing after New changes nothing
	ctx := context.Background()
	issue := func() string {
		s, err := n.Nonce(ctx)
		if err != nil || len(s) != 32 || strings.ContainsAny(s, "+/=") {
			t.Fatalf("Nonce: %q %v; want 32 base64url characters", s, err)
		}
		return s
	}
	first := issue()
	at = start.Add(299 * time.Second)
	if s := issue(); s != first {
		t.Fatalf("a new nonce within the default lifetime of 5 minutes: %q, then %q", first, s)
	}
	at = start.Add(300 * time.Second)
	second := issue()
	if second == first {
		t.Fatal("the same nonce in the next period")
	}
	type check struct {
		offset time.Duration
		nonce  string
		ok     bool
		next   string
	}
	for _, c := range []check{
		{0, first, true, ""},
		{299 * time.Second, first, true, ""},
		{300 * time.Second, first, true, second},
		{599 * time.Second, first, true, second},
		{600 * time.Second, first, false, ""},
		{300 * time.Second, second, true, ""},
		{0, second, true, ""}, // from an instance up to a period ahead
		{-time.Second, second, false, ""},
		{899 * time.Second, second, true, "*"},
		{900 * time.Second, second, false, ""},
	} {
		at = start.Add(c.offset)
		ok, next, err := n.Check(ctx, c.nonce)
		if err != nil || ok != c.ok || c.next != "*" && next != c.next || c.next == "*" && (next == "" || next == second) {
			t.Errorf("at +%v, nonce %q: %v %q %v; want %v %q", c.offset, c.nonce, ok, next, err, c.ok, c.next)
		}
	}
	// Another instance with the same key, its own clock.
	at2 := start.Add(310 * time.Second)
	other, _ := auth.NewHMACNonces(nonceKey, 0)
	auth.SetNonceClock(other, func() time.Time { return at2 })
	if s, _ := other.Nonce(ctx); s != second {
		t.Errorf("another instance with the key issued %q; want %q", s, second)
	}
	third, _ := auth.NewHMACNonces([]byte(strings.Repeat("z", 32)), 0)
	auth.SetNonceClock(third, func() time.Time { return at2 })
	if ok, _, _ := third.Check(ctx, second); ok {
		t.Error("an instance with another key accepted the nonce")
	}
}

// The check of a current nonce costs no allocation.
func TestHMACNoncesCheckAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool entries at random")
	}
	at := testNow
	n := newNonces(t, nonceKey, &at)
	cur := nonceAt(t, nonceKey, at)
	prev := nonceAt(t, nonceKey, at.Add(-time.Minute))
	ahead := nonceAt(t, nonceKey, at.Add(time.Minute)) // of an instance whose clock runs ahead
	ctx := context.Background()
	if a := testing.AllocsPerRun(100, func() {
		if ok, _, _ := n.Check(ctx, cur); !ok {
			t.Fatal("refused")
		}
		if ok, _, _ := n.Check(ctx, prev); !ok {
			t.Fatal("refused")
		}
		if ok, _, _ := n.Check(ctx, ahead); !ok { // computes the HMAC
			t.Fatal("refused")
		}
	}); a != 0 {
		t.Errorf("%v allocations; want 0", a)
	}
}

// hmacNonce computes, independently of the package, the HMACNonces nonce
// under key that expires at the Unix second exp: the base64url of exp in
// 8 big-endian bytes and the first 16 bytes of HMAC-SHA256 over a label
// and those bytes. The format is pinned: instances of two versions
// behind one load balancer must accept each other's nonces.
func hmacNonce(key []byte, exp int64) string {
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(exp))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("httpguard DPoP nonce\x00"))
	m.Write(e[:])
	return b64(append(e[:], m.Sum(nil)[:16]...))
}

func TestHMACNoncesFormat(t *testing.T) {
	at := testNow.Add(10 * time.Second) // in the period that starts at testNow
	if got, want := nonceAt(t, nonceKey, at), hmacNonce(nonceKey, testNow.Add(2*time.Minute).Unix()); got != want {
		t.Errorf("nonce %q; want %q", got, want)
	}
}

// Instances configured with different lifetimes still accept each
// other's nonces while they live, and name their own as the next.
func TestHMACNoncesOfAnotherLifetime(t *testing.T) {
	at := testNow.Add(30 * time.Second)
	n := newNonces(t, nonceKey, &at) // one minute: its nonce expires at +2m
	ctx := context.Background()
	cur, _ := n.Nonce(ctx)
	tests := []struct {
		exp  time.Duration // of the other instance's nonce, from testNow
		ok   bool
		next string
	}{
		{90 * time.Second, true, cur}, // a 30 s lifetime's: sooner than this instance's
		{30 * time.Second, false, ""}, // expired
		{150 * time.Second, true, ""}, // later, within a period
		{181 * time.Second, false, ""},
	}
	for _, tt := range tests {
		ok, next, err := n.Check(ctx, hmacNonce(nonceKey, testNow.Add(tt.exp).Unix()))
		if ok != tt.ok || next != tt.next || err != nil {
			t.Errorf("a nonce expiring at +%v: %v %q %v; want %v %q", tt.exp, ok, next, err, tt.ok, tt.next)
		}
	}
}

// FuzzHMACNoncesCheck checks HMACNonces.Check, at a time the fuzzer picks,
// against the nonce format read independently: a nonce is accepted only
// if it is, byte for byte, the one hmacNonce makes for an expiry after
// now and at most one period past that of the nonce issued now; the
// nonce hmacNonce makes for an expiry in that window is accepted; and
// the next nonce named is "" or the one issued now.
func FuzzHMACNoncesCheck(f *testing.F) {
	f.Add("", int64(0), int64(0))
	f.Add("", int64(0), int64(200)) // past the window
	f.Add(hmacNonce(nonceKey, testNow.Add(2*time.Minute).Unix()), int64(30), int64(60))
	f.Add(hmacNonce(nonceKey, testNow.Add(time.Minute).Unix()), int64(59), int64(1))
	f.Add(hmacNonce(nonceKey, testNow.Add(3*time.Minute).Unix()), int64(0), int64(180))
	f.Add(strings.Repeat("A", 32), int64(-1), int64(-61))
	f.Add("AAAAAGkkIYDu1AXC9ZchvymSVePA4kCA", int64(7), int64(121))
	forged := []byte(hmacNonce(nonceKey, testNow.Add(2*time.Minute).Unix()))
	forged[20] ^= 1 // another tag for the same expiry
	f.Add(string(forged), int64(30), int64(0))
	f.Fuzz(func(t *testing.T, nonce string, at, expIn int64) {
		const period = 60
		at %= 1 << 32 // seconds around testNow
		at0 := testNow.Add(time.Duration(at) * time.Second)
		n := newNonces(t, nonceKey, &at0)
		ctx := context.Background()
		now := at0.Unix()
		cur, err := n.Nonce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := now - now%period
		if now%period < 0 {
			start -= period
		}
		curExp := start + 2*period
		inWindow := func(exp int64) bool { return exp > now && exp <= curExp+period }

		ok, next, err := n.Check(ctx, nonce)
		if err != nil || (next != "" && (!ok || next != cur)) {
			t.Fatalf("Check(%q) = %v, %q, %v at %d; the nonce issued is %q", nonce, ok, next, err, now, cur)
		}
		if ok {
			b, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
			if err != nil || len(b) != 24 {
				t.Fatalf("accepted %q, not 24 bytes of base64url", nonce)
			}
			exp := int64(binary.BigEndian.Uint64(b[:8]))
			if !inWindow(exp) || hmacNonce(nonceKey, exp) != nonce {
				t.Fatalf("accepted %q (expiry %d) at %d", nonce, exp, now)
			}
			if (next == "") != (exp >= curExp) {
				t.Fatalf("accepted %q (expiry %d) at %d naming next %q", nonce, exp, now, next)
			}
		}

		exp := now + expIn%(4*period)
		ok, _, err = n.Check(ctx, hmacNonce(nonceKey, exp))
		if ok != inWindow(exp) || err != nil {
			t.Fatalf("the nonce expiring at %d checked at %d: %v, %v", exp, now, ok, err)
		}
	})
}

// An HMACNonces not made by NewHMACNonces (the zero value, or a nil
// pointer left by an ignored error) is a configuration error that NewJWT
// reports, rather than a 503 for every DPoP request.
func TestDPoPNoncesUnconfiguredHMAC(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	var nilNonces *auth.HMACNonces
	at := testNow
	tests := []struct {
		name   string
		nonces auth.NonceSource
		ok     bool
	}{
		{"the zero HMACNonces", &auth.HMACNonces{}, false},
		{"a nil *HMACNonces", nilNonces, false},
		{"one made by NewHMACNonces", newNonces(t, nonceKey, &at), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
				Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}},
				Issuer: "https://issuer.example", Audience: "api://orders",
				DPoP: &auth.DPoPOptions{Nonces: tt.nonces},
			}, testClock))
			if (err == nil) != tt.ok {
				t.Fatalf("NewJWT: %v; want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "DPoPOptions.Nonces") {
					t.Errorf("NewJWT: %v; want the error to name DPoPOptions.Nonces", err)
				}
				return
			}
			w, _, err := serve(m, dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
			if w.Code != http.StatusUnauthorized || !errors.Is(err, auth.ErrDPoPNonce) {
				t.Errorf("%d %v; want 401 use_dpop_nonce", w.Code, err)
			}
		})
	}
}

// Periods are cut the same way on both sides of the Unix epoch: a nonce
// issued at second t of a one-minute lifetime expires at the end of the
// period after t's, so lives more than one lifetime and at most two,
// whatever the sign of t.
func TestHMACNoncesPeriodsBeforeTheEpoch(t *testing.T) {
	tests := []struct {
		at, exp int64 // Unix seconds
	}{
		{0, 120},
		{59, 120},
		{60, 180},
		{-1, 60},
		{-60, 60},
		{-61, 0},
		{-120, 0},
		{-121, -60},
	}
	for _, tt := range tests {
		if got, want := nonceAt(t, nonceKey, time.Unix(tt.at, 0)), hmacNonce(nonceKey, tt.exp); got != want {
			t.Errorf("the nonce issued at %d: %q; want the one expiring at %d, %q", tt.at, got, tt.exp, want)
		}
		at := time.Unix(tt.at, 0)
		n := newNonces(t, nonceKey, &at)
		for _, c := range []struct {
			exp int64
			ok  bool
		}{
			{tt.exp, true},
			{tt.exp - 60, true}, // the previous period's: it expires at the end of this one
			{tt.exp - 120, false},
			{tt.exp + 60, true}, // from an instance up to a period ahead
			{tt.exp + 120, false},
		} {
			if ok, _, err := n.Check(context.Background(), hmacNonce(nonceKey, c.exp)); ok != c.ok || err != nil {
				t.Errorf("at %d, the nonce expiring at %d: %v %v; want %v", tt.at, c.exp, ok, err, c.ok)
			}
		}
	}
}

// A caller of Authenticate or Check that writes its own 401 reads the
// nonce to send from the error with DPoPNonce; the client's retry with
// it is accepted.
func TestDPoPNonceFromAuthenticate(t *testing.T) {
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	at := testNow.Add(5 * time.Second)
	cur := nonceAt(t, nonceKey, at)
	m := newDPoPJWT(t, auth.DPoPOptions{Nonces: newNonces(t, nonceKey, &at)})

	_, err := m.Authenticate(dpopRequest("GET", dpopURL, tok, k.proof(t, proofClaims("GET", dpopURL, tok))))
	if !errors.Is(err, auth.ErrDPoPNonce) || auth.DPoPNonce(err) != cur {
		t.Fatalf("Authenticate without a nonce: %v, DPoPNonce %q; want ErrDPoPNonce, %q", err, auth.DPoPNonce(err), cur)
	}
	if got := auth.DPoPNonce(fmt.Errorf("wrapped: %w", err)); got != cur {
		t.Errorf("DPoPNonce of a wrapped refusal: %q; want %q", got, cur)
	}
	c := proofClaims("GET", dpopURL, tok)
	c["nonce"] = cur
	if err := m.Check(dpopRequest("GET", dpopURL, tok, k.proof(t, c))); err != nil {
		t.Fatalf("Check with the nonce: %v", err)
	}
	_, other := m.Authenticate(dpopRequest("GET", dpopURL, tok, "not a proof"))
	for _, err := range []error{nil, other, auth.ErrDPoPNonce, auth.ErrDPoPProof} {
		if got := auth.DPoPNonce(err); got != "" {
			t.Errorf("DPoPNonce(%v) = %q; want \"\"", err, got)
		}
	}
}

// A nil *MemoryReplayCache in DPoPOptions.Replay (a typed nil, which is
// not the nil interface that selects the default) is refused by NewJWT
// rather than panicking on the first proof.
func TestDPoPNilMemoryReplayCache(t *testing.T) {
	var c *auth.MemoryReplayCache
	_, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}},
		Issuer: "https://issuer.example", Audience: "api://orders", DPoP: &auth.DPoPOptions{Replay: c}})
	if err == nil || !strings.Contains(err.Error(), "DPoPOptions.Replay") {
		t.Fatalf("NewJWT: %v; want an error naming DPoPOptions.Replay", err)
	}
}
