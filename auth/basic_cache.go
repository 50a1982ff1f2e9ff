package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"sync"
	"time"
)

// verifyCache remembers successful password verifications for a short
// time, keyed by HMAC-SHA-256 of (user name, password) under a random key
// drawn at construction. It stores the stored hash that verified, never the
// password: a hit counts only while the store still returns that same hash,
// so a password change or a deleted user takes effect at once.
//
// Only successes are cached, so a client without valid credentials cannot
// fill it; it is bounded anyway, evicting expired entries first and then an
// arbitrary one.
type verifyCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	macs sync.Pool // *macState

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	hash    string // the stored hash that verified
	expires time.Time
}

func newVerifyCache(ttl time.Duration, size int, now func() time.Time) *verifyCache {
	c := &verifyCache{ttl: ttl, max: size, now: now, entries: make(map[[sha256.Size]byte]cacheEntry)}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	c.macs.New = func() any {
		mac := hmac.New(sha256.New, key)
		mac.Reset() // saves the keyed state, which every later Reset restores
		return &macState{mac: mac, buf: make([]byte, 0, 128)}
	}
	return c
}

// macState is a pooled HMAC and its scratch space, in the keyed state
// while in the pool. Once reset, crypto/hmac's Reset restores the keyed
// state without rehashing the key, so a sum costs two SHA-256 blocks for
// typical credentials instead of four.
type macState struct {
	mac hash.Hash
	buf []byte
	out [sha256.Size]byte
}

// sum returns HMAC-SHA-256(key, name || 0x00 || pw). The name cannot
// contain a NUL (ParseBasic refuses control characters), so the encoding
// is unambiguous.
func (c *verifyCache) sum(name, pw string) [sha256.Size]byte {
	st := c.macs.Get().(*macState)
	st.buf = append(append(append(st.buf[:0], name...), 0), pw...)
	st.mac.Write(st.buf)
	st.mac.Sum(st.out[:0])
	out := st.out
	// The password does not outlive the request in the pool: neither in
	// the scratch buffer nor in the inner hash, whose block buffer keeps
	// what was written since its last full block after Sum, all of a
	// typical "name\x00password" (found in review: only the scratch was
	// cleared). Reset restores the keyed state, block buffer included.
	clear(st.buf)
	st.mac.Reset()
	c.macs.Put(st)
	return out
}

// lookup returns the stored hash remembered for k, if it has not expired.
func (c *verifyCache) lookup(k [sha256.Size]byte) (string, bool) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.expires) {
		delete(c.entries, k)
		ok = false
	}
	c.mu.Unlock()
	return e.hash, ok
}

// forget removes k.
func (c *verifyCache) forget(k [sha256.Size]byte) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// store remembers that hash verified for k.
func (c *verifyCache) store(k [sha256.Size]byte, hash string) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for ek, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, ek)
			}
		}
		for ek := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, ek)
		}
	}
	c.entries[k] = cacheEntry{hash: hash, expires: now.Add(c.ttl)}
}
