package auth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/casefold"
)

// ErrInvalidUser is returned by [MemoryUsers.Add] and
// [MemoryUsers.AddPassword] for a user name that Basic cannot carry (empty,
// containing a colon, a control character or U+FFFD, not UTF-8) or that
// differs from another user's only in letter case or trailing spaces, by
// them and by [MemoryUsers.UpdateHash] and [MemoryUsers.Rehash] for a hash
// that [password.Inspect] refuses, and by AddPassword for a password that
// [password.Hash] refuses (empty, or longer than its limit).
var ErrInvalidUser = errors.New("auth: invalid user")

// ErrHashChanged is returned by [MemoryUsers.Rehash] when the stored hash
// is no longer the one the password was verified against: the password
// was changed or reset meanwhile, or the user deleted, and the upgrade
// must not undo that.
var ErrHashChanged = errors.New("auth: stored hash changed since it was verified")

// MemoryUsers is an in-memory [UserStore]. The zero value is an empty
// store ready to use; a MemoryUsers is safe for concurrent use, including
// changes while requests are served, and must not be copied after first
// use.
//
// Names are compared exactly, but two names that differ only in letter
// case (Unicode's simple folding: "Bob", "bob", "ſam" and "sam") or
// trailing spaces cannot both be users: ratelimit's AttemptLimiter counts
// them as one name by default, so a successful sign-in of either would
// clear the failures of both, and whoever holds one could guess the
// other's password without ever being locked out.
type MemoryUsers struct {
	mu     sync.RWMutex
	users  map[string]User
	folded map[string]string // foldName of each name, to the name
}

// NewMemoryUsers returns an empty [MemoryUsers].
func NewMemoryUsers() *MemoryUsers { return new(MemoryUsers) }

// LookupUser implements [UserStore]. It never returns an error. The
// returned identity options share their slices with the store and must not
// be modified.
func (s *MemoryUsers) LookupUser(_ context.Context, name string) (User, bool, error) {
	s.mu.RLock()
	u, ok := s.users[name]
	s.mu.RUnlock()
	return u, ok, nil
}

// Add stores u under name, replacing any user of that name. The hash must
// be one [password.Inspect] accepts. A name that differs from another
// user's only in letter case or trailing spaces is refused with
// [ErrInvalidUser] (see [MemoryUsers]). Add copies the roles, scopes and
// the top level of the claims of u.Identity.
func (s *MemoryUsers) Add(name string, u User) error {
	if err := validUserName(name); err != nil {
		return err
	}
	if _, err := password.Inspect(u.Hash); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidUser, name, err)
	}
	u.Identity = cloneIdentityOptions(u.Identity)
	f := foldName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.folded[f]; ok && other != name {
		return fmt.Errorf("%w: %q differs from the user %q only in letter case or trailing spaces, which an attempt limiter counts as one name", ErrInvalidUser, name, other)
	}
	if s.users == nil {
		s.users = make(map[string]User)
		s.folded = make(map[string]string)
	}
	s.users[name] = u
	s.folded[f] = name
	return nil
}

// foldName returns name as ratelimit.AttemptLimiter counts it by
// default: without trailing spaces, each rune mapped by casefold.Rune,
// which gives one rune for all those strings.EqualFold takes for one
// another (found in review: "Bob" and "bob" were two users whose
// failures one count held).
func foldName(name string) string {
	return strings.Map(casefold.Rune, strings.TrimRight(name, " "))
}

// AddPassword hashes pw with [password.Hash] and stores the user with the
// identity id, replacing any user of that name.
func (s *MemoryUsers) AddPassword(name, pw string, id identity.Options) error {
	if err := validUserName(name); err != nil {
		return err
	}
	h, err := password.Hash(pw)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidUser, name, err)
	}
	return s.Add(name, User{Hash: h, Identity: id})
}

// UpdateHash replaces the stored hash of an existing user, as a password
// change or reset does; it does nothing for an unknown user. The token
// endpoint's refresh tokens issued before it stop working. The hash must
// be one [password.Inspect] accepts, as for [MemoryUsers.Add]. To upgrade
// hashes as users log in, use [MemoryUsers.Rehash].
func (s *MemoryUsers) UpdateHash(_ context.Context, name, hash string) error {
	if _, err := password.Inspect(hash); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidUser, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[name]; ok {
		u.Hash = hash
		s.users[keptName(name)] = u
	}
	return nil
}

// Rehash replaces the stored hash of name with newHash only if it is still
// oldHash, and returns [ErrHashChanged] otherwise: a compare-and-swap, so
// that the upgrade of a hash verified just before a password change cannot
// overwrite the new password with the old one. Its signature fits
// [BasicOptions.OnRehash] and [TokenEndpointOptions.OnRehash], so that
// hashes upgrade themselves as users log in. Like [MemoryUsers.Add], it
// takes only a newHash that [password.Inspect] accepts, within the limits
// of [password.Default]: with a Hasher whose Params exceed them (a raised
// MaxWork, say), every upgrade fails with [ErrInvalidUser], which
// OnRehash ignores, and each login against an outdated hash pays for a
// new hash in vain; such a Hasher needs a store of its own.
func (s *MemoryUsers) Rehash(_ context.Context, name, oldHash, newHash string) error {
	if _, err := password.Inspect(newHash); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidUser, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok || u.Hash != oldHash {
		return ErrHashChanged
	}
	u.Hash = newHash
	s.users[keptName(name)] = u
	return nil
}

// keptName returns a copy of name to assign under in users: assigning to
// an existing key of a map stores the key given, and a name given to an
// update may be cut from a larger string, which the store would keep
// reachable (found in review: Basic's OnRehash passes a name cut from the
// decoded "name:password", and MemoryUsers.Rehash kept the password of the
// last login that upgraded each user's hash).
func keptName(name string) string { return strings.Clone(name) }

// Delete removes the user name, if present.
func (s *MemoryUsers) Delete(name string) {
	s.mu.Lock()
	if _, ok := s.users[name]; ok {
		delete(s.users, name)
		delete(s.folded, foldName(name))
	}
	s.mu.Unlock()
}

// Len returns the number of users.
func (s *MemoryUsers) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.users)
}

// cloneIdentityOptions copies the roles, scopes and the top level of the
// claims of o, so that a store does not share them with its caller. The
// slices are clipped: an append by a reader of the store cannot write
// into them.
func cloneIdentityOptions(o identity.Options) identity.Options {
	o.Roles = slices.Clip(slices.Clone(o.Roles))
	o.Scopes = slices.Clip(slices.Clone(o.Scopes))
	o.Claims = maps.Clone(o.Claims)
	return o
}

// validUserName reports whether name can be sent in an RFC 7617 user-id
// and logged in with: non-empty, no colon, and a clean name (see
// cleanName).
func validUserName(name string) error {
	if name == "" || !cleanName(name) || strings.ContainsRune(name, ':') {
		return fmt.Errorf("%w: %q: user names must be non-empty UTF-8 without colons, control characters or U+FFFD", ErrInvalidUser, name)
	}
	return nil
}

// cleanName reports whether name is valid UTF-8 without a control
// character or U+FFFD, which Basic refuses as well: a replacement
// character is what a lossy decoding somewhere else makes of invalid
// bytes, so two different names could meet in it.
func cleanName(name string) bool {
	for _, r := range name {
		if r == utf8.RuneError || isControl(r) {
			return false
		}
	}
	return true
}

// isControl reports whether r is a control character in the sense of RFC
// 7617 §2 (the Unicode Cc category: C0, DEL and C1).
func isControl(r rune) bool { return r < 0x20 || (0x7f <= r && r <= 0x9f) }
