package auth_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
)

// lostRaceStore is a MemoryRefreshStore on which the next RotateRetryable
// loses a race: another request rotates the token first, to the same
// successor, and the store then fails the lookups that follow.
type lostRaceStore struct {
	*auth.MemoryRefreshStore
	loseNext atomic.Bool
	down     atomic.Bool
}

var errRefreshStoreDown = errors.New("store down")

func (s *lostRaceStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	if s.down.Load() {
		return auth.RefreshToken{}, false, errRefreshStoreDown
	}
	return s.MemoryRefreshStore.Lookup(ctx, hash)
}

func (s *lostRaceStore) RotateRetryable(ctx context.Context, oldHash, newHash string, next auth.RefreshToken, at time.Time, sealed []byte) error {
	if !s.loseNext.Swap(false) {
		return s.MemoryRefreshStore.RotateRetryable(ctx, oldHash, newHash, next, at, sealed)
	}
	if err := s.MemoryRefreshStore.RotateRetryable(ctx, oldHash, newHash, next, at, sealed); err != nil {
		return err
	}
	s.down.Store(true)
	return auth.ErrRefreshTokenReused
}

// A refresh that loses a concurrent rotation of its token, within
// RefreshRetryWindow, and then cannot read the token again because the
// store failed, answers 503 as every other store failure does: it is the
// retry the window exists for, not a reuse, and revoking the family
// logged out the client whose retry a moment later would have got the
// successor (found in review: the failed lookup was taken for a reuse).
func TestTokenEndpointRefreshLostRaceStoreFailureIs503(t *testing.T) {
	store := &lostRaceStore{MemoryRefreshStore: auth.NewMemoryRefreshStore()}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.RefreshStore = store
		o.RefreshRetryWindow = time.Minute
	})
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if res.status != http.StatusOK {
		t.Fatalf("login: %d %s", res.status, res.raw)
	}
	r0 := res.str("refresh_token")
	refresh := form("grant_type", "refresh_token", "refresh_token", r0, "client_id", "web")

	store.loseNext.Store(true)
	res = f.post(t, refresh, nil)
	if res.status != http.StatusServiceUnavailable || res.str("error") != "temporarily_unavailable" || !errors.Is(res.reason, errRefreshStoreDown) {
		t.Fatalf("lost the race, store down: %d %s (%v); want 503 temporarily_unavailable", res.status, res.raw, res.reason)
	}
	store.down.Store(false)
	res = f.post(t, refresh, nil)
	if res.status != http.StatusOK || res.str("refresh_token") == "" {
		t.Fatalf("the retry once the store is back: %d %s (%v); want the successor", res.status, res.raw, res.reason)
	}
	r1 := res.str("refresh_token")
	if got, found, _ := store.MemoryRefreshStore.Lookup(context.Background(), auth.HashRefreshToken(r1)); !found || got.Used || got.Revoked {
		t.Fatalf("the successor: found %v, used %v, revoked %v", found, got.Used, got.Revoked)
	}
}
