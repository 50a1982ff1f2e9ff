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

// leavingStore is a RefreshStore that honours its context, as a network
// store does, and whose client goes away right after the token is looked
// up: it cancels the request's context when armed.
type leavingStore struct {
	auth.RefreshStore
	cancel atomic.Pointer[context.CancelFunc]
}

func (s *leavingStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	t, found, err := s.RefreshStore.Lookup(ctx, hash)
	if c := s.cancel.Swap(nil); c != nil {
		(*c)()
	}
	return t, found, err
}

func (s *leavingStore) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.RefreshStore.RevokeFamily(ctx, family, until)
}

// Found in review: the revocation of a family on a reused refresh token
// (RFC 9700 §4.14.2) was passed the request's context, so when the client
// that presented the reused token went away at that moment (a phone
// losing its network), a store that honours the context failed it, and
// the thief's token, rotated from the stolen one, lived on. The
// revocation is now made without the request's cancellation.
func TestARefreshTokenReuseRevokesTheFamilyEvenIfTheClientLeft(t *testing.T) {
	var store leavingStore
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		store.RefreshStore = o.RefreshStore
		o.RefreshStore = &store
	})
	first := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse"), basicAuth("cli", "cli-secret"))
	stolen := first.str("refresh_token")
	thief := f.post(t, form("grant_type", "refresh_token", "refresh_token", stolen), basicAuth("cli", "cli-secret"))
	if thief.status != 200 {
		t.Fatalf("refresh: %d %s", thief.status, thief.raw)
	}
	// The victim presents the token the thief already used, and leaves.
	f.post(t, form("grant_type", "refresh_token", "refresh_token", stolen), func(r *http.Request) {
		basicAuth("cli", "cli-secret")(r)
		ctx, cancel := context.WithCancel(r.Context())
		store.cancel.Store(&cancel)
		*r = *r.WithContext(ctx)
	})
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", thief.str("refresh_token")), basicAuth("cli", "cli-secret")); r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("the thief's token after the reuse: %d %s", r.status, r.raw)
	}
}

// RevokeRefreshToken, as a logout endpoint calls it with the request's
// context, revokes the family even when the client leaves as it runs:
// with that context, a store that honours it failed the revocation, and
// the token lived on.
func TestRevokeRefreshTokenHoldsIfTheClientLeft(t *testing.T) {
	var store leavingStore
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		store.RefreshStore = o.RefreshStore
		o.RefreshStore = &store
	})
	rt := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse"), basicAuth("cli", "cli-secret")).str("refresh_token")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store.cancel.Store(&cancel) // the client leaves once the token is looked up
	if err := f.ep.RevokeRefreshToken(ctx, rt); err != nil {
		t.Fatalf("RevokeRefreshToken: %v", err)
	}
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt), basicAuth("cli", "cli-secret")); r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("the token after its revocation: %d %s", r.status, r.raw)
	}
}

// deadlineStore records the deadline of the context of each RevokeFamily.
type deadlineStore struct {
	auth.RefreshStore
	revokes   atomic.Int64
	unbounded atomic.Int64
}

func (s *deadlineStore) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	s.revokes.Add(1)
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 10*time.Second {
		s.unbounded.Add(1)
	}
	return s.RefreshStore.RevokeFamily(ctx, family, until)
}

// Found in review: the family revocation of a reused refresh token ran
// without the request's cancellation, as it must, but also without the
// ten-second bound that JWT.Revoke and RevokeRefreshToken give such a
// call: with a store that has no timeout of its own, a store that hung
// held the token request for ever, even after its client had gone.
func TestARefreshTokenReuseRevokesTheFamilyWithinABound(t *testing.T) {
	var store deadlineStore
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		store.RefreshStore = o.RefreshStore
		o.RefreshStore = &store
	})
	first := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse"), basicAuth("cli", "cli-secret"))
	stolen := first.str("refresh_token")
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", stolen), basicAuth("cli", "cli-secret")); r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", stolen), basicAuth("cli", "cli-secret")); r.status != 400 {
		t.Fatalf("reuse: %d %s", r.status, r.raw)
	}
	if store.revokes.Load() == 0 {
		t.Fatal("the reuse revoked nothing")
	}
	if n := store.unbounded.Load(); n != 0 {
		t.Errorf("%d of %d family revocations had no deadline within 10s", n, store.revokes.Load())
	}
}

// racingStore is a RefreshStore on which, when armed, another request
// wins the race to rotate a token: Rotate rotates it to the rival's
// successor and reports the token reused, and the first RevokeFamily
// after that fails, as a store that cannot be reached does.
type racingStore struct {
	auth.RefreshStore
	rival      string // the rival's successor, stored when armed
	armed      atomic.Bool
	revokeDown atomic.Bool
}

func (s *racingStore) Rotate(ctx context.Context, oldHash, newHash string, next auth.RefreshToken) error {
	if s.armed.Swap(false) {
		if err := s.RefreshStore.Rotate(ctx, oldHash, auth.HashRefreshToken(s.rival), next); err != nil {
			return err
		}
		s.revokeDown.Store(true)
		return auth.ErrRefreshTokenReused
	}
	return s.RefreshStore.Rotate(ctx, oldHash, newHash, next)
}

func (s *racingStore) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if s.revokeDown.Swap(false) {
		return errors.New("store unreachable")
	}
	return s.RefreshStore.RevokeFamily(ctx, family, until)
}

// Found in review: a refresh that lost the race to rotate its token (a
// reuse, RFC 9700 §4.14.2) ignored a failure to revoke the family and
// answered invalid_grant, so the client dropped its token and the rival's
// successor, perhaps a thief's, lived on. It is now a 503, as on every
// other path of a reuse, and the client's retry revokes the family.
func TestARefreshTokenReuseTheStoreCannotRecordIsA503(t *testing.T) {
	store := racingStore{rival: "the-rival-successor-refresh-token-0123456789"}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		store.RefreshStore = o.RefreshStore
		o.RefreshStore = &store
	})
	rt := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse"), basicAuth("cli", "cli-secret")).str("refresh_token")
	store.armed.Store(true)
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt), basicAuth("cli", "cli-secret"))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("a reuse whose revocation failed: %d %s, want 503 with Retry-After", r.status, r.raw)
	}
	// The client retries; the store answers again, and the reuse revokes
	// the family, the rival's successor with it.
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt), basicAuth("cli", "cli-secret")); r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("the retry: %d %s, want invalid_grant", r.status, r.raw)
	}
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", store.rival), basicAuth("cli", "cli-secret")); r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("the rival's successor after the reuse: %d %s", r.status, r.raw)
	}
}
