package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
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
	// For a token bound to a DPoP key, the fingerprint covers JKT too.
	Credential string
	// JKT is, for a token issued to a public client with a DPoP proof (at
	// the login, or at a refresh of a family begun without one), the RFC
	// 7638 thumbprint of the proof's key (RFC 9449 §5): every refresh must
	// come with a proof by that key. Empty for a token bound to no key. A
	// store must keep it: Credential covers it, and a record that lost it
	// is refused as after a password change, never taken for an unbound
	// token.
	JKT string

	// Used reports, on Lookup, that the token was already rotated.
	Used bool
	// Revoked reports, on Lookup, that the family was revoked.
	Revoked bool
	// RotatedAt is, on Lookup of a token rotated by
	// [RetryableRefreshStore.RotateRetryable], when it was rotated, by the
	// token endpoint's clock; zero otherwise.
	RotatedAt time.Time
	// Successor is, on Lookup of a token rotated by
	// [RetryableRefreshStore.RotateRetryable], the token it was rotated to,
	// sealed (AES-256-GCM) under a key derived from this token, which the
	// store never sees, and from the token endpoint's signing key, which
	// it never holds: only the endpoint, given this token, can open it, so
	// a leaked store still yields no usable token, even with rotated
	// tokens beside it. Empty otherwise. A store keeps it as opaque bytes;
	// the token endpoint opens it when the rotated token comes back within
	// [TokenEndpointOptions.RefreshRetryWindow].
	Successor []byte
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
	// family's end). An until that is not in the future revokes it for
	// [DefaultRefreshTokenMaxLifetime], never for no time at all.
	RevokeFamily(ctx context.Context, family string, until time.Time) error
}

// RetryableRefreshStore is a [RefreshStore] that can keep, with a rotated
// token, what the token endpoint needs to answer a retry of the rotation
// with the same successor ([TokenEndpointOptions.RefreshRetryWindow]).
// [MemoryRefreshStore] and auth/redisstore's store implement it.
type RetryableRefreshStore interface {
	RefreshStore
	// RotateRetryable is Rotate, and in the same step keeps rotatedAt
	// and sealed (the successor, sealed by the token endpoint) with the
	// old token until its expiry, for Lookup to return as its RotatedAt
	// and Successor. A rotation that fails keeps neither: of two
	// concurrent rotations of one token, the old token keeps those of
	// the one that succeeds. A store that runs a rotation again when its
	// reply was lost must reach the same outcome, never the other
	// rotation's successor.
	RotateRetryable(ctx context.Context, oldHash, newHash string, next RefreshToken, rotatedAt time.Time, sealed []byte) error
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
// password hash, and the DPoP key jkt the token is bound to (RFC 9449 §5)
// or "": 128 bits of their SHA-256, base64url-encoded. It is a hash of a
// salted, slow hash: it tells nothing about the password, and serves only
// to notice that the hash changed, or that a store dropped the binding
// (RefreshToken.JKT), which would otherwise turn a bound token into one
// usable without the key.
func credentialFingerprint(hash, jkt string) string {
	in := "httpguard refresh credential\x00" + hash
	if jkt != "" {
		// A NUL and a label of its own: no stored hash holds "\x00", so
		// no unbound input is a bound one.
		in += "\x00dpop jkt\x00" + jkt
	}
	sum := sha256.Sum256([]byte(in))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// HashRefreshToken returns the key a [RefreshStore] keeps token under:
// base64url(SHA-256(token)). Refresh tokens carry 256 random bits, so a
// fast hash is enough; a slow password hash would add nothing.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// DefaultMaxRefreshTokens is the bound of a [MemoryRefreshStore] made by
// [NewMemoryRefreshStore], or whose MemoryRefreshOptions.MaxTokens is
// zero. A token takes about 400 bytes (measured by
// TestMemoryRefreshStoreSize), a token rotated with a sealed successor
// ([TokenEndpointOptions.RefreshRetryWindow]) about 80 more, so the store
// stays under about 50 MB.
const DefaultMaxRefreshTokens = 100_000

// ErrRefreshStoreFull is returned by [MemoryRefreshStore.Create] when the
// store holds MaxTokens tokens, none of them rotated, and none expired or
// of a revoked family as of its last sweep: a full store sweeps at most
// once a second, so for up to a second after a sweep it may refuse a token
// while holding such ones. The token endpoint answers 503
// temporarily_unavailable; the refresh tokens already issued keep working.
var ErrRefreshStoreFull = errors.New("auth: refresh token store is full")

// MemoryRefreshOptions configures a [MemoryRefreshStore].
type MemoryRefreshOptions struct {
	// MaxTokens bounds the tokens kept, rotated ones included, so that
	// neither a flood of logins nor one client rotating a token in a loop
	// (every rotation leaves the rotated token behind, for reuse
	// detection, until its expiry) can make the store grow without limit.
	// The bound is shared by every user: one account logging in MaxTokens
	// times fills it with live tokens, and logins then fail until those
	// expire or their families are revoked
	// ([TokenEndpoint.RevokeRefreshToken]), while one client refreshing in
	// a loop makes a full store forget every other user's rotated tokens
	// (never their usable ones). Default: [DefaultMaxRefreshTokens]. Must
	// not be negative.
	MaxTokens int
}

// MemoryRefreshStore is an in-memory [RefreshStore] for a single
// instance. The zero value is ready to use, with the default options,
// and safe for concurrent use.
//
// Expired tokens are swept as new ones are stored. A rotated token is kept
// until its expiry, so that presenting it again is detected as reuse and
// revokes its family. The store holds at most MaxTokens tokens: when it is
// full, expired tokens and those of revoked families are swept (at most
// once a second), then the token rotated longest ago is forgotten to make
// room (a copy of it presented later is still refused, as unknown, but no
// longer revokes its family); when no token held is rotated, and none
// expired or revoked as of the last sweep, Create fails with
// [ErrRefreshStoreFull] and Rotate forgets the rotated token at once
// instead of keeping it. Usable tokens are never forgotten. It is a
// [RetryableRefreshStore]: a rotated token keeps its sealed successor for
// as long as it is kept, and one forgotten cannot be retried. (Found in a
// soak test: rotated tokens were kept without any bound, so one client
// refreshing in a loop grew the store by about 300 bytes a refresh for the
// 14 days of [DefaultRefreshTokenTTL].)
type MemoryRefreshStore struct {
	mu        sync.Mutex
	tokens    map[string]RefreshToken
	revoked   map[string]time.Time // family → until
	nextSweep int
	max       int
	// rotated holds the hashes of rotated tokens, oldest first from
	// head: the order in which they are forgotten when the store is
	// full. A hash whose token is gone (swept) is skipped.
	rotated  []string
	head     int
	lastFull time.Time // last sweep forced by the bound
	now      func() time.Time
}

// NewMemoryRefreshStore returns an empty [MemoryRefreshStore] with the
// default options.
func NewMemoryRefreshStore() *MemoryRefreshStore { return &MemoryRefreshStore{} }

// NewMemoryRefreshStoreWith returns an empty [MemoryRefreshStore]
// configured by o. Its only error is for a negative MaxTokens.
func NewMemoryRefreshStoreWith(o MemoryRefreshOptions) (*MemoryRefreshStore, error) {
	if o.MaxTokens < 0 {
		return nil, fmt.Errorf("auth: MemoryRefreshOptions.MaxTokens: %d is negative", o.MaxTokens)
	}
	return &MemoryRefreshStore{max: o.MaxTokens}, nil
}

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
		if s.max == 0 {
			s.max = DefaultMaxRefreshTokens
		}
	}
	if len(s.tokens) >= s.nextSweep {
		s.sweep(now, false)
		s.nextSweep = max(2*len(s.tokens), 64)
	}
}

// sweep drops expired tokens, the hashes of rotated tokens that are gone,
// and the revocations that are over or whose family has no token left: a
// family is revoked until its end (90 days by default), but once none of
// its tokens is held, none can be presented or rotated, so its revocation
// guards nothing. (Found in a soak test: logging in and revoking at once
// kept one revocation a login for the family's whole lifetime, several
// times the bound on the tokens.)
//
// With full, it also drops the tokens of revoked families, which can
// never be used again, and so their revocations: a store full of them
// refused every login until they expired (found in review: revoking the
// families of the account that filled the store did not make room).
func (s *MemoryRefreshStore) sweep(now time.Time, full bool) {
	var held map[string]struct{} // revoked families with a token
	if len(s.revoked) > 0 {
		held = make(map[string]struct{}, min(len(s.revoked), len(s.tokens)))
	}
	for k, t := range s.tokens {
		if !t.ExpiresAt.After(now) {
			delete(s.tokens, k)
			continue
		}
		if held != nil {
			if until, ok := s.revoked[t.Family]; ok {
				if full && until.After(now) {
					delete(s.tokens, k)
					continue
				}
				held[t.Family] = struct{}{}
			}
		}
	}
	for k, t := range s.revoked {
		if _, ok := held[k]; !ok || !t.After(now) {
			delete(s.revoked, k)
		}
	}
	kept := s.rotated[:0]
	for _, h := range s.rotated[s.head:] {
		if t, ok := s.tokens[h]; ok && t.Used {
			kept = append(kept, h)
		}
	}
	clear(s.rotated[len(kept):])
	s.rotated, s.head = kept, 0
}

// room makes room for one more token, and reports whether there is.
func (s *MemoryRefreshStore) room(now time.Time) bool {
	if len(s.tokens) < s.max {
		return true
	}
	// Expired tokens, and those of revoked families, first, at most once
	// a second under a flood, so that a full store stays cheap.
	if now.Sub(s.lastFull) >= time.Second {
		s.lastFull = now
		s.sweep(now, true)
		if len(s.tokens) < s.max {
			return true
		}
	}
	// Then the token rotated longest ago.
	for s.head < len(s.rotated) {
		h := s.rotated[s.head]
		s.rotated[s.head] = ""
		s.head++
		if t, ok := s.tokens[h]; ok && t.Used {
			delete(s.tokens, h)
			s.compact()
			return true
		}
	}
	s.compact()
	return false
}

// compact releases the consumed front of rotated.
func (s *MemoryRefreshStore) compact() {
	if s.head == len(s.rotated) {
		s.rotated, s.head = s.rotated[:0], 0
	} else if s.head >= 1024 && s.head >= len(s.rotated)/2 {
		n := copy(s.rotated, s.rotated[s.head:])
		clear(s.rotated[n:])
		s.rotated, s.head = s.rotated[:n], 0
	}
}

// Len returns the number of tokens held, rotated ones and expired ones
// not yet swept included. It never exceeds MaxTokens.
func (s *MemoryRefreshStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// cloneRefresh copies t as the store keeps it: the fields Lookup reports
// (Used, Revoked, RotatedAt, Successor) are the store's, not the caller's.
func cloneRefresh(t RefreshToken) RefreshToken {
	t.Scopes = slices.Clone(t.Scopes)
	t.Used, t.Revoked = false, false
	t.RotatedAt, t.Successor = time.Time{}, nil
	return t
}

// Create implements [RefreshStore].
func (s *MemoryRefreshStore) Create(_ context.Context, hash string, t RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.init(now)
	if _, exists := s.tokens[hash]; !exists && !s.room(now) {
		return ErrRefreshStoreFull
	}
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
	t.Successor = slices.Clone(t.Successor)
	return t, true, nil
}

// Rotate implements [RefreshStore].
func (s *MemoryRefreshStore) Rotate(_ context.Context, oldHash, newHash string, next RefreshToken) error {
	return s.rotate(oldHash, newHash, next, time.Time{}, nil)
}

// RotateRetryable implements [RetryableRefreshStore]. The rotated token,
// with its sealed successor, is kept as long as Rotate keeps it: a token
// that the bound made the store forget cannot be retried (it is refused as
// unknown).
func (s *MemoryRefreshStore) RotateRetryable(_ context.Context, oldHash, newHash string, next RefreshToken, rotatedAt time.Time, sealed []byte) error {
	return s.rotate(oldHash, newHash, next, rotatedAt, slices.Clone(sealed))
}

func (s *MemoryRefreshStore) rotate(oldHash, newHash string, next RefreshToken, rotatedAt time.Time, sealed []byte) error {
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
	if _, exists := s.tokens[newHash]; exists || s.room(now) {
		old.Used = true
		old.RotatedAt, old.Successor = rotatedAt, sealed
		s.tokens[oldHash] = old
		s.rotated = append(s.rotated, oldHash)
	} else {
		// Full of live tokens: forget the rotated one rather than
		// refuse the refresh. It is refused from now on, as unknown.
		delete(s.tokens, oldHash)
	}
	next = cloneRefresh(next)
	next.Family = old.Family
	s.tokens[newHash] = next
	return nil
}

// RevokeFamily implements [RefreshStore]. An until that is not in the
// future (the zero time) revokes the family for
// [DefaultRefreshTokenMaxLifetime], as auth/redisstore's store does: it
// revoked nothing here, and the family's live token went on refreshing
// (found in review).
func (s *MemoryRefreshStore) RevokeFamily(_ context.Context, family string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.init(now)
	if !until.After(now) {
		until = now.Add(DefaultRefreshTokenMaxLifetime)
	}
	if old, ok := s.revoked[family]; !ok || until.After(old) {
		s.revoked[family] = until
	}
	return nil
}
