package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"sync"
	"time"
)

// RefreshToken is the stored state of one refresh token. Stores keep it
// under a hash of the token ([HashRefreshToken]); the token itself is
// never stored, so a leaked store yields no usable token.
//
// Tokens that descend from one grant by rotation form a family. When a
// token that was already rotated is presented again, either the client or
// a thief holds a stale copy; the token endpoint then revokes the whole
// family (RFC 9700 §4.14.2).
type RefreshToken struct {
	// Family identifies the rotation chain.
	Family string
	// ClientID is the client the token was issued to.
	ClientID string
	// Subject is the user name (password grant) the token acts for.
	Subject string
	// Scopes are the scopes granted.
	Scopes []string
	// AuthTime is when the user authenticated: the start of the family.
	AuthTime time.Time
	// ExpiresAt is when this token stops being usable.
	ExpiresAt time.Time
	// FamilyExpiresAt is when the family ends, however often it rotates.
	FamilyExpiresAt time.Time
	// Credential is a fingerprint of the user's password hash when the
	// family began. A refresh is refused, and the family revoked, once the
	// user's stored hash no longer matches it, so a password change or
	// reset ends every refresh token issued before it. A store must keep
	// it like every other field: one that drops it refuses every refresh.
	Credential string

	// Used reports, on Lookup, that the token was already rotated.
	Used bool
	// Revoked reports, on Lookup, that the family was revoked.
	Revoked bool
}

// RefreshStore keeps refresh tokens by hash. Implementations must be safe
// for concurrent use; [MemoryRefreshStore] is the in-process one and
// auth/redisstore has one shared by several instances.
type RefreshStore interface {
	// Create stores t under hash, the first token of a family.
	Create(ctx context.Context, hash string, t RefreshToken) error
	// Lookup returns the token stored under hash, with Used and Revoked
	// set. A token past its ExpiresAt may be reported as not found.
	Lookup(ctx context.Context, hash string) (t RefreshToken, found bool, err error)
	// Rotate marks the token under oldHash used and stores next under
	// newHash. If the old token is already used, or its family revoked,
	// it returns [ErrRefreshTokenReused]; if the old token is gone,
	// [ErrRefreshTokenNotFound]; in both cases next must not become
	// usable (a store that wrote it first deletes it, or reports its
	// family revoked). Of two concurrent rotations of one token, exactly
	// one succeeds.
	Rotate(ctx context.Context, oldHash, newHash string, next RefreshToken) error
	// RevokeFamily revokes every token of family, until until (the
	// family's end).
	RevokeFamily(ctx context.Context, family string, until time.Time) error
}

// Errors of a [RefreshStore].
var (
	// ErrRefreshTokenReused: the token was already rotated, or its family
	// revoked. The token endpoint revokes the family and answers
	// invalid_grant.
	ErrRefreshTokenReused = errors.New("auth: refresh token reused")
	// ErrRefreshTokenNotFound: no such token (unknown or expired).
	ErrRefreshTokenNotFound = errors.New("auth: refresh token not found")
)

// newOpaqueToken returns 32 random bytes, base64url-encoded (43 bytes).
func newOpaqueToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// credentialFingerprint returns what [RefreshToken.Credential] holds for a
// password hash: 128 bits of its SHA-256, base64url-encoded. It is a hash
// of a salted, slow hash: it tells nothing about the password, and serves
// only to notice that the hash changed.
func credentialFingerprint(hash string) string {
	sum := sha256.Sum256([]byte("httpguard refresh credential\x00" + hash))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// HashRefreshToken returns the key a [RefreshStore] keeps token under:
// base64url(SHA-256(token)). Refresh tokens carry 256 random bits, so a
// fast hash is enough; a slow password hash would add nothing.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// MemoryRefreshStore is an in-memory [RefreshStore] for a single
// instance. The zero value is ready to use and safe for concurrent use.
// Used and expired tokens are swept as new ones are stored.
type MemoryRefreshStore struct {
	mu        sync.Mutex
	tokens    map[string]RefreshToken
	revoked   map[string]time.Time // family → until
	nextSweep int
	now       func() time.Time
}

// NewMemoryRefreshStore returns an empty [MemoryRefreshStore].
func NewMemoryRefreshStore() *MemoryRefreshStore { return &MemoryRefreshStore{} }

func (s *MemoryRefreshStore) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *MemoryRefreshStore) init(now time.Time) {
	if s.tokens == nil {
		s.tokens = make(map[string]RefreshToken)
		s.revoked = make(map[string]time.Time)
	}
	if len(s.tokens) >= s.nextSweep {
		for k, t := range s.tokens {
			if !t.ExpiresAt.After(now) {
				delete(s.tokens, k)
			}
		}
		for k, t := range s.revoked {
			if !t.After(now) {
				delete(s.revoked, k)
			}
		}
		s.nextSweep = max(2*len(s.tokens), 64)
	}
}

func cloneRefresh(t RefreshToken) RefreshToken {
	t.Scopes = slices.Clone(t.Scopes)
	t.Used, t.Revoked = false, false
	return t
}

// Create implements [RefreshStore].
func (s *MemoryRefreshStore) Create(_ context.Context, hash string, t RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init(s.clock())
	s.tokens[hash] = cloneRefresh(t)
	return nil
}

// Lookup implements [RefreshStore].
func (s *MemoryRefreshStore) Lookup(_ context.Context, hash string) (RefreshToken, bool, error) {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok || !t.ExpiresAt.After(now) {
		return RefreshToken{}, false, nil
	}
	until, revoked := s.revoked[t.Family]
	t.Revoked = revoked && until.After(now)
	t.Scopes = slices.Clone(t.Scopes)
	return t, true, nil
}

// Rotate implements [RefreshStore].
func (s *MemoryRefreshStore) Rotate(_ context.Context, oldHash, newHash string, next RefreshToken) error {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init(now)
	old, ok := s.tokens[oldHash]
	if !ok || !old.ExpiresAt.After(now) {
		return ErrRefreshTokenNotFound
	}
	if until, revoked := s.revoked[old.Family]; old.Used || revoked && until.After(now) {
		return ErrRefreshTokenReused
	}
	old.Used = true
	s.tokens[oldHash] = old
	next = cloneRefresh(next)
	next.Family = old.Family
	s.tokens[newHash] = next
	return nil
}

// RevokeFamily implements [RefreshStore].
func (s *MemoryRefreshStore) RevokeFamily(_ context.Context, family string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init(s.clock())
	if old, ok := s.revoked[family]; !ok || until.After(old) {
		s.revoked[family] = until
	}
	return nil
}
