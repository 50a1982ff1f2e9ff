package auth

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// unreachable is a transport whose every request fails at once.
type unreachable struct{}

func (unreachable) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("unreachable")
}

// A stale set whose refresh is throttled (the last fetch started less
// than MinRefreshInterval ago, as while the provider is down) starts no
// background refresh: it could only find the last attempt too recent,
// and every request seeing the set would start one.
func TestJWKSThrottledRefreshStartsNoGoroutine(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r, err := newRemoteKeySet("https://idp.example/jwks", JWKSOptions{HTTPClient: &http.Client{Transport: unreachable{}}}, []string{AlgEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return now }
	r.fetchedAt.Store(now.Add(-2 * time.Hour).UnixNano())
	stale := r.age()

	// Held, the lock keeps a refresh that did start from finishing, so
	// that it shows in r.background.
	r.mu.Lock()
	r.attemptedAt.Store(now.Add(-30 * time.Second).UnixNano())
	r.refreshIfStale(stale)
	started := r.background.Load()
	r.mu.Unlock()
	if started {
		t.Fatal("a throttled refresh started a background fetch")
	}

	// Past MinRefreshInterval, one does start (and fails at once).
	r.mu.Lock()
	r.attemptedAt.Store(now.Add(-2 * time.Minute).UnixNano())
	r.refreshIfStale(stale)
	started = r.background.Load()
	r.mu.Unlock()
	if !started {
		t.Fatal("a refresh past MinRefreshInterval did not start")
	}
}
