package auth

import (
	"context"
	"crypto/subtle"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/httpguard/httpguard/identity"
)

// jwtCache remembers verified tokens so that a repeated token skips the
// signature check. Entries are keyed by a keyed hash of the token (the
// seed is random per process, so an attacker cannot aim collisions) and
// hold the full token, compared in constant time on every hit. A hit
// still checks expiry and the denylist, and an entry is only valid while
// the key set that verified it is current.
type jwtCache struct {
	seed maphash.Seed
	max  int
	mu   sync.RWMutex
	m    map[uint64]*jwtCacheEntry
}

type jwtCacheEntry struct {
	token string
	id    identity.Identity
	exp   time.Time
	jti   string
	ks    *keySet
	bound bool   // the token has a cnf claim
	jkt   string // its cnf.jkt, with JWTOptions.DPoP
}

func newJWTCache(max int) *jwtCache {
	return &jwtCache{seed: maphash.MakeSeed(), max: max, m: make(map[uint64]*jwtCacheEntry, min(max, 1024))}
}

func (tc *jwtCache) get(tok string) *jwtCacheEntry {
	h := maphash.String(tc.seed, tok)
	tc.mu.RLock()
	e := tc.m[h]
	tc.mu.RUnlock()
	if e == nil || len(e.token) != len(tok) || subtle.ConstantTimeCompare([]byte(e.token), []byte(tok)) != 1 {
		return nil
	}
	return e
}

// add remembers tok. It keeps a copy: tok may be a view of a larger
// string the entry must not keep alive, the whole Cookie header or the
// request's URL (found in review: 64 KiB of other cookies stayed
// reachable for each cached token sent beside them).
func (tc *jwtCache) add(tok string, id identity.Identity, exp time.Time, jti string, ks *keySet, bound bool, jkt string) {
	h := maphash.String(tc.seed, tok)
	e := &jwtCacheEntry{token: strings.Clone(tok), id: id, exp: exp, jti: jti, ks: ks, bound: bound, jkt: strings.Clone(jkt)}
	tc.mu.Lock()
	if _, ok := tc.m[h]; !ok && len(tc.m) >= tc.max {
		for k := range tc.m { // evict an arbitrary entry
			delete(tc.m, k)
			break
		}
	}
	tc.m[h] = e
	tc.mu.Unlock()
}

func (tc *jwtCache) remove(tok string) {
	h := maphash.String(tc.seed, tok)
	tc.mu.Lock()
	delete(tc.m, h)
	tc.mu.Unlock()
}

// cacheHit answers from the cache, for a token that came as how says.
// ok is false on a miss, in which case the caller verifies the token in
// full.
func (c *jwtConfig) cacheHit(ctx context.Context, tok string, how presented) (id identity.Identity, jkt string, ok bool, err error) {
	e := c.cache.get(tok)
	if e == nil {
		return identity.Identity{}, "", false, nil
	}
	// A token accepted with its DPoP proof is no bearer token the next
	// time it comes as one.
	if err := c.binding(e.bound, e.jkt, how); err != nil {
		return identity.Identity{}, "", true, err
	}
	if e.ks != c.keys.Load() {
		if c.remote == nil || e.ks != c.remote.current() {
			c.cache.remove(tok) // the key set changed: verify again
			return identity.Identity{}, "", false, nil
		}
		// As a full verification would, refresh a stale JWKS (found in
		// review: while every request bore a cached token the set was
		// never refetched, so a key the provider removed kept verifying),
		// and refuse a set past MaxStale: the full verification answers.
		age := c.remote.age()
		if c.remote.expired(age) {
			return identity.Identity{}, "", false, nil
		}
		c.remote.refreshIfStale(age)
	}
	if !c.now().Before(e.exp.Add(c.leeway)) {
		c.cache.remove(tok)
		return identity.Identity{}, "", true, ErrTokenExpired
	}
	if c.denylist != nil {
		revoked, err := c.denylist.IsRevoked(ctx, e.jti)
		if err != nil {
			return identity.Identity{}, "", true, storeUnavailable(err)
		}
		if revoked {
			return identity.Identity{}, "", true, ErrTokenRevoked
		}
	}
	return e.id, e.jkt, true, nil
}
