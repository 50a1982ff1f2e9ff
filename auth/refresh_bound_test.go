package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/testenv"
)

func refreshRecord(now time.Time, ttl time.Duration) RefreshToken {
	return RefreshToken{
		Family: newOpaqueToken(), ClientID: "cli", Subject: "bob", Scopes: []string{"items:read", "profile:read"},
		AuthTime: now, ExpiresAt: now.Add(ttl), FamilyExpiresAt: now.Add(90 * 24 * time.Hour), Credential: "fingerprint",
	}
}

// One client rotating its refresh token in a loop must not grow the
// store past its bound: every rotation used to leave the rotated token
// behind until its expiry, 14 days by default.
func TestMemoryRefreshStoreBound(t *testing.T) {
	ctx := context.Background()
	s, err := NewMemoryRefreshStoreWith(MemoryRefreshOptions{MaxTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := refreshRecord(now, 14*24*time.Hour)
	before := testenv.HeapAfterGC()
	cur := HashRefreshToken(newOpaqueToken())
	if err := s.Create(ctx, cur, rec); err != nil {
		t.Fatal(err)
	}
	var prev string
	const rotations = 50_000
	for i := range rotations {
		next := HashRefreshToken(fmt.Sprint("token-", i))
		if err := s.Rotate(ctx, cur, next, rec); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		prev, cur = cur, next
	}
	if n := s.Len(); n > 1000 {
		t.Errorf("Len = %d after %d rotations, want at most MaxTokens 1000", n, rotations)
	}
	if grown := int64(testenv.HeapAfterGC()) - int64(before); grown > 2<<20 {
		t.Errorf("heap grew by %d bytes over %d rotations of one token, bound 1000 tokens", grown, rotations)
	}
	// The tokens rotated last are still known: reuse is detected.
	if got, found, _ := s.Lookup(ctx, prev); !found || !got.Used {
		t.Errorf("the token rotated last: found %v, used %v; want found and used", found, got.Used)
	}
	if err := s.Rotate(ctx, prev, "x", rec); !errors.Is(err, ErrRefreshTokenReused) {
		t.Errorf("rotating the token rotated last: %v, want ErrRefreshTokenReused", err)
	}
	if _, found, _ := s.Lookup(ctx, cur); !found {
		t.Error("the current token is gone")
	}
	runtime.KeepAlive(s)
}

// A store full of live, unrotated tokens refuses new ones, keeps
// rotating the ones it has, and takes new ones again once some expire.
func TestMemoryRefreshStoreFull(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s, _ := NewMemoryRefreshStoreWith(MemoryRefreshOptions{MaxTokens: 10})
	s.now = func() time.Time { return now }
	for i := range 10 {
		if err := s.Create(ctx, fmt.Sprint("h", i), refreshRecord(now, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, "h10", refreshRecord(now, time.Hour)); !errors.Is(err, ErrRefreshStoreFull) {
		t.Fatalf("Create in a full store: %v, want ErrRefreshStoreFull", err)
	}
	if err := s.Rotate(ctx, "h0", "n0", refreshRecord(now, time.Hour)); err != nil {
		t.Fatalf("Rotate in a full store: %v", err)
	}
	if n := s.Len(); n != 10 {
		t.Errorf("Len = %d, want 10", n)
	}
	if _, found, _ := s.Lookup(ctx, "n0"); !found {
		t.Error("the rotated-to token is missing")
	}
	if err := s.Rotate(ctx, "h0", "n1", refreshRecord(now, time.Hour)); err == nil {
		t.Error("the token rotated in a full store was accepted again")
	}
	now = now.Add(2 * time.Hour)
	if err := s.Create(ctx, "h11", refreshRecord(now, time.Hour)); err != nil {
		t.Errorf("Create once the tokens expired: %v", err)
	}
	if _, err := NewMemoryRefreshStoreWith(MemoryRefreshOptions{MaxTokens: -1}); err == nil {
		t.Error("a negative MaxTokens was accepted")
	}
	if d, err := NewMemoryRefreshStoreWith(MemoryRefreshOptions{}); err != nil {
		t.Errorf("MaxTokens 0, the default: %v", err)
	} else if _ = d.Create(ctx, "z", refreshRecord(time.Now(), time.Hour)); d.max != DefaultMaxRefreshTokens {
		t.Errorf("MaxTokens 0 gives a bound of %d, want %d", d.max, DefaultMaxRefreshTokens)
	}
	var zero MemoryRefreshStore
	_ = zero.Create(ctx, "z", refreshRecord(time.Now(), time.Hour))
	if zero.max != DefaultMaxRefreshTokens {
		t.Errorf("the zero store's bound is %d, want %d", zero.max, DefaultMaxRefreshTokens)
	}
}

// The queue of rotated tokens is swept with the tokens: a store that
// never fills does not keep the hashes of rotated tokens long expired.
func TestMemoryRefreshStoreRotatedQueueSwept(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s := NewMemoryRefreshStore()
	s.now = func() time.Time { return now }
	cur := "h"
	if err := s.Create(ctx, cur, refreshRecord(now, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 20_000 {
		now = now.Add(time.Second)
		next := fmt.Sprint("h", i)
		if err := s.Rotate(ctx, cur, next, refreshRecord(now, 10*time.Second)); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		cur = next
	}
	s.mu.Lock()
	n, q := len(s.tokens), len(s.rotated)-s.head
	s.mu.Unlock()
	if n > 200 || q > 200 {
		t.Errorf("after 20 000 rotations of tokens living 10 rotations: %d tokens, %d rotated hashes held; want at most 200 each", n, q)
	}
}

// TestMemoryRefreshStoreSize measures a token's footprint, the figure
// DefaultMaxRefreshTokens documents.
func TestMemoryRefreshStoreSize(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	ctx := context.Background()
	s := NewMemoryRefreshStore()
	now := time.Now()
	before := testenv.HeapAfterGC()
	const n = 20_000
	for range n {
		if err := s.Create(ctx, HashRefreshToken(newOpaqueToken()), refreshRecord(now, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	per := (int64(testenv.HeapAfterGC()) - int64(before)) / n
	t.Logf("%d bytes a token", per)
	if per > 600 {
		t.Errorf("%d bytes a token; DefaultMaxRefreshTokens documents about 400", per)
	}
	runtime.KeepAlive(s)
}

// A revoked family is remembered while it has a token in the store, not
// for its whole lifetime: logging in and revoking at once, again and
// again, must not keep one revocation a login for 90 days.
func TestMemoryRefreshStoreForgetsRevocationsOfFamiliesGone(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s := NewMemoryRefreshStore()
	s.now = func() time.Time { return now }
	const logins = 20_000
	var lastHash string
	var last RefreshToken
	for i := range logins {
		now = now.Add(time.Minute)
		rec := refreshRecord(now, time.Hour) // the family lives 90 days
		h := fmt.Sprint("login-", i)
		if err := s.Create(ctx, h, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeFamily(ctx, rec.Family, rec.FamilyExpiresAt); err != nil {
			t.Fatal(err)
		}
		lastHash, last = h, rec
	}
	s.mu.Lock()
	revoked, tokens := len(s.revoked), len(s.tokens)
	s.mu.Unlock()
	// Tokens live an hour, one login a minute: about 60 are held.
	if revoked > 2*tokens+64 {
		t.Errorf("after %d logins revoked at once: %d revocations held for %d tokens", logins, revoked, tokens)
	}
	got, found, _ := s.Lookup(ctx, lastHash)
	if !found || !got.Revoked {
		t.Errorf("the last family: found %v, revoked %v; want both", found, got.Revoked)
	}
	if err := s.Rotate(ctx, lastHash, "next", last); !errors.Is(err, ErrRefreshTokenReused) {
		t.Errorf("rotating a token of a revoked family: %v, want ErrRefreshTokenReused", err)
	}
}

// A full store sweeps expired tokens at most once a second: within a
// second of its last sweep, a store holding only expired tokens still
// refuses a new one with ErrRefreshStoreFull, as its docs say.
func TestMemoryRefreshStoreFullSweepsAtMostOnceASecond(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s, _ := NewMemoryRefreshStoreWith(MemoryRefreshOptions{MaxTokens: 10})
	s.now = func() time.Time { return now }
	for i := range 10 {
		if err := s.Create(ctx, fmt.Sprint("h", i), refreshRecord(now, 100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, "a", refreshRecord(now, time.Hour)); !errors.Is(err, ErrRefreshStoreFull) {
		t.Fatalf("Create in a store full of live tokens: %v, want ErrRefreshStoreFull", err)
	}
	now = now.Add(200 * time.Millisecond) // every token held has expired
	if err := s.Create(ctx, "b", refreshRecord(now, time.Hour)); !errors.Is(err, ErrRefreshStoreFull) {
		t.Fatalf("Create within a second of the last sweep: %v, want ErrRefreshStoreFull", err)
	}
	now = now.Add(799 * time.Millisecond) // 999ms after the last sweep
	if err := s.Create(ctx, "b", refreshRecord(now, time.Hour)); !errors.Is(err, ErrRefreshStoreFull) {
		t.Fatalf("Create 999ms after the last sweep: %v, want ErrRefreshStoreFull", err)
	}
	now = now.Add(time.Second)
	if err := s.Create(ctx, "c", refreshRecord(now, time.Hour)); err != nil {
		t.Fatalf("Create a second later: %v", err)
	}
}

// The bound is shared by every user, but forgets rotated tokens only: one
// client refreshing in a loop makes a full store forget another user's
// rotated token (its reuse is no longer detected), never that user's
// live one.
func TestMemoryRefreshStoreOneClientForgetsOthersRotatedTokensOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := NewMemoryRefreshStoreWith(MemoryRefreshOptions{MaxTokens: 100})
	now := time.Now()
	victim := refreshRecord(now, time.Hour)
	if err := s.Create(ctx, "v0", victim); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx, "v0", "v1", victim); err != nil {
		t.Fatal(err)
	}
	loop := refreshRecord(now, time.Hour)
	cur := "l"
	if err := s.Create(ctx, cur, loop); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		next := fmt.Sprint("l", i)
		if err := s.Rotate(ctx, cur, next, loop); err != nil {
			t.Fatal(err)
		}
		cur = next
	}
	if _, found, _ := s.Lookup(ctx, "v0"); found {
		t.Error("the victim's rotated token is still held; want it forgotten, oldest first")
	}
	if got, found, _ := s.Lookup(ctx, "v1"); !found || got.Used {
		t.Errorf("the victim's live token: found %v, used %v; want held and unused", found, got.Used)
	}
}

// A full store forgets the tokens of revoked families to make room: they
// can never be used again, and revoking the families of the account that
// filled the store is how its operator gets logins working again (found
// in review: a store full of tokens of revoked families refused every
// login until they expired, 14 days by default). A token of a revoked
// family presented again is still refused.
func TestMemoryRefreshStoreFullForgetsRevokedFamilies(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s, _ := NewMemoryRefreshStoreWith(MemoryRefreshOptions{MaxTokens: 10})
	s.now = func() time.Time { return now }
	var recs []RefreshToken
	for i := range 10 {
		rec := refreshRecord(now, time.Hour)
		if err := s.Create(ctx, fmt.Sprint("h", i), rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := s.Create(ctx, "a", refreshRecord(now, time.Hour)); !errors.Is(err, ErrRefreshStoreFull) {
		t.Fatalf("Create in a full store: %v, want ErrRefreshStoreFull", err)
	}
	for _, rec := range recs[:5] {
		if err := s.RevokeFamily(ctx, rec.Family, rec.FamilyExpiresAt); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Second)
	for i := range 5 {
		if err := s.Create(ctx, fmt.Sprint("n", i), refreshRecord(now, time.Hour)); err != nil {
			t.Fatalf("Create %d once five families were revoked: %v", i, err)
		}
	}
	if err := s.Create(ctx, "b", refreshRecord(now, time.Hour)); !errors.Is(err, ErrRefreshStoreFull) {
		t.Fatalf("Create with the store full again: %v, want ErrRefreshStoreFull", err)
	}
	for i := range 10 {
		got, found, _ := s.Lookup(ctx, fmt.Sprint("h", i))
		if i < 5 && found && !got.Revoked {
			t.Errorf("h%d: a token of a revoked family is held unrevoked", i)
		}
		if i >= 5 && (!found || got.Revoked) {
			t.Errorf("h%d: found %v, revoked %v; want the live token held", i, found, got.Revoked)
		}
		if err := s.Rotate(ctx, fmt.Sprint("h", i), fmt.Sprint("r", i), recs[i]); (i < 5) != (err != nil) {
			t.Errorf("rotating h%d: %v", i, err)
		}
	}
}

// The store keeps its own state: what a caller passes in Used, Revoked,
// RotatedAt and Successor is not stored; a token past its ExpiresAt is
// gone for Rotate, which stores nothing then; and a revocation is never
// shortened by a later one with an earlier end.
func TestMemoryRefreshStoreKeepsItsOwnState(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	s := NewMemoryRefreshStore()
	s.now = func() time.Time { return now }
	rec := refreshRecord(now, time.Hour)
	forged := rec
	forged.Used, forged.Revoked, forged.RotatedAt, forged.Successor = true, true, now, []byte("sealed")
	if err := s.Create(ctx, "a", forged); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx, "a", "b", forged); err != nil {
		t.Fatalf("rotating a token created with Used set: %v", err)
	}
	if got, found, _ := s.Lookup(ctx, "b"); !found || got.Used || got.Revoked || !got.RotatedAt.IsZero() || got.Successor != nil {
		t.Errorf("the new token: found %v, %+v; want it unused, with nothing kept from the caller", found, got)
	}

	if err := s.Create(ctx, "old", refreshRecord(now, time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if err := s.Rotate(ctx, "old", "new", rec); !errors.Is(err, ErrRefreshTokenNotFound) {
		t.Errorf("rotating a token at its ExpiresAt: %v, want ErrRefreshTokenNotFound", err)
	}
	if _, found, _ := s.Lookup(ctx, "new"); found {
		t.Error("a failed rotation stored its next token")
	}

	if err := s.RevokeFamily(ctx, rec.Family, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, rec.Family, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if got, found, _ := s.Lookup(ctx, "b"); !found || !got.Revoked {
		t.Errorf("after a second revocation ending sooner: found %v, revoked %v; want the first to hold", found, got.Revoked)
	}
}
