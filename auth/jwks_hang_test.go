package auth_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/internal/testenv"
)

// An identity provider that accepts the connection and never answers
// cannot hold requests beyond JWKSOptions.Timeout, nor leave goroutines
// behind: the first request is answered 503 within the timeout, a request
// waiting for that fetch leaves as soon as its client does, and once a
// set is cached a hung refresh happens in the background, one at a time,
// while requests go on being served.
func TestJWKSProviderThatHangs(t *testing.T) {
	settled := testenv.Goroutines(t)
	k := keysOnce()
	doc := jwksDoc(edJWK("k1", k.ed.Public().(ed25519.PublicKey), "EdDSA"))
	var hang atomic.Bool
	var fetches atomic.Int32
	release := make(chan struct{}) // ends a hung handler when the test fails
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if hang.Load() {
			select {
			case <-r.Context().Done(): // the fetch gave up
			case <-release:
			}
			return
		}
		w.Write(doc)
	}))
	defer srv.Close()
	defer close(release)
	clock := &fakeClock{now: testNow}
	const timeout = 100 * time.Millisecond
	m, err := auth.NewJWT(auth.WithJWTClock(auth.JWTOptions{
		Algorithms: []string{"EdDSA"},
		Audience:   "api://orders",
		JWKSURL:    srv.URL + "/jwks.json",
		JWKS:       auth.JWKSOptions{HTTPClient: srv.Client(), MinRefreshInterval: time.Minute, RefreshInterval: time.Hour, Timeout: timeout},
	}, clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "k1"}, with(goodClaims(), "exp", testNow.Add(24*time.Hour).Unix()))

	hang.Store(true)
	// A request that waits for the fetch another started leaves with its
	// client.
	startFirst := func() chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if w, _, reason := serve(m, bearer(tok)); w.Code != http.StatusServiceUnavailable || !errors.Is(reason, auth.ErrKeySetUnavailable) {
				t.Errorf("first request with the provider hung: %d %v", w.Code, reason)
			}
		}()
		return done
	}
	first := startFirst()
	for attempt := 1; fetches.Load() == 0; {
		select {
		case <-first:
			// The fetch gave up before the provider saw it: on a loaded
			// machine a TLS handshake can outlast the 100 ms Timeout. Try
			// again once MinRefreshInterval has passed.
			if attempt++; attempt > 10 {
				t.Fatal("no fetch reached the provider in 10 attempts")
			}
			clock.Add(2 * time.Minute)
			first = startFirst()
		case <-time.After(time.Millisecond):
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	w, _, _ := serve(m, bearer(tok).WithContext(ctx))
	if d := time.Since(start); w.Code == http.StatusOK || d > time.Second {
		t.Errorf("a waiter whose client left: %d after %v", w.Code, d)
	}
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("the request that fetched is still waiting 5 s after the 100 ms Timeout")
	}

	// A cached set that goes stale is refreshed in the background. First
	// the provider is back: a fetch (a TLS handshake and a request in the
	// 100 ms Timeout) that a loaded machine makes too slow is retried once
	// MinRefreshInterval has passed, as a real client's next request would.
	hang.Store(false)
	for attempt := 1; ; attempt++ {
		clock.Add(2 * time.Minute)
		w, _, reason := serve(m, bearer(tok))
		if w.Code == http.StatusOK {
			break
		}
		if attempt == 10 {
			t.Fatalf("provider back, %d attempts: %d %v", attempt, w.Code, reason)
		}
	}
	hang.Store(true)
	clock.Add(2 * time.Hour)
	n := fetches.Load()
	for range 20 {
		start := time.Now()
		if w, _, reason := serve(m, bearer(tok)); w.Code != http.StatusOK || time.Since(start) > time.Second {
			t.Fatalf("stale set with the provider hung: %d %v after %v", w.Code, reason, time.Since(start))
		}
	}
	for deadline := time.Now().Add(5 * time.Second); fetches.Load() == n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * timeout)
	if got := fetches.Load() - n; got != 1 {
		t.Errorf("%d background refreshes for 20 requests, want 1", got)
	}
	srv.Close()
	settled()
}
