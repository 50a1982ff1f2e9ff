package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrInvalidAPIKey is returned by [MemoryAPIKeys.Add] for an ID or hash
// that [GenerateAPIKey] cannot have produced.
var ErrInvalidAPIKey = errors.New("auth: invalid API key record")

// MemoryAPIKeys is an in-memory [APIKeyStore]. The zero value is an empty
// store ready to use; a MemoryAPIKeys is safe for concurrent use,
// including changes while requests are served, and must not be copied
// after first use.
type MemoryAPIKeys struct {
	mu   sync.RWMutex
	keys map[string]StoredAPIKey
}

// NewMemoryAPIKeys returns an empty [MemoryAPIKeys].
func NewMemoryAPIKeys() *MemoryAPIKeys { return new(MemoryAPIKeys) }

// LookupAPIKey implements [APIKeyStore]. It never returns an error. The
// returned identity options share their slices with the store and must not
// be modified.
func (s *MemoryAPIKeys) LookupAPIKey(_ context.Context, id string) (StoredAPIKey, bool, error) {
	s.mu.RLock()
	k, ok := s.keys[id]
	s.mu.RUnlock()
	return k, ok, nil
}

// Add stores k under id (GeneratedAPIKey.ID), replacing any key with that
// ID. It copies the roles, scopes and the top level of the claims, and
// stores an empty Identity.Subject as id, the Subject [APIKey] gives the
// key anyway, so that the middleware need not copy it on every request.
func (s *MemoryAPIKeys) Add(id string, k StoredAPIKey) error {
	if len(id) != apiKeyIDLen || !apiKeyB32Chars(id) {
		return fmt.Errorf("%w: ID must be 16 characters of a-z and 2-7", ErrInvalidAPIKey)
	}
	if len(k.Hash) != 64 || !apiKeyMatchesShape(k.Hash) {
		return fmt.Errorf("%w: hash must be 64 hex digits", ErrInvalidAPIKey)
	}
	k.Identity = cloneIdentityOptions(k.Identity)
	if k.Identity.Subject == "" {
		k.Identity.Subject = strings.Clone(id)
	}
	s.mu.Lock()
	if s.keys == nil {
		s.keys = make(map[string]StoredAPIKey)
	}
	s.keys[id] = k
	s.mu.Unlock()
	return nil
}

// Revoke removes the key with the given ID, if present; the next request
// with it is refused.
func (s *MemoryAPIKeys) Revoke(id string) {
	s.mu.Lock()
	delete(s.keys, id)
	s.mu.Unlock()
}

// Len returns the number of keys.
func (s *MemoryAPIKeys) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys)
}

func apiKeyMatchesShape(h string) bool {
	for i := 0; i < len(h); i++ {
		if hexNibble(h[i]) < 0 {
			return false
		}
	}
	return true
}
