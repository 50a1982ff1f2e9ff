package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

	// ipad and opad are the HMAC key XORed with the pads, precomputed.
	ipad, opad [sha256.BlockSize]byte
	key        [32]byte

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	hash    string // the stored hash that verified
	expires time.Time
}

func newVerifyCache(ttl time.Duration, size int, now func() time.Time) *verifyCache {
	c := &verifyCache{ttl: ttl, max: size, now: now, entries: make(map[[sha256.Size]byte]cacheEntry)}
	_, _ = rand.Read(c.key[:]) // crypto/rand.Read never fails
	for i := range c.ipad {
		c.ipad[i], c.opad[i] = 0x36, 0x5c
	}
	for i, b := range c.key {
		c.ipad[i] ^= b
		c.opad[i] ^= b
	}
	return c
}

// cacheInline bounds the credentials keyed without allocating.
const cacheInline = 512

// sum returns HMAC-SHA-256(key, name || 0x00 || pw). The name cannot
// contain a NUL (ParseBasic refuses control characters), so the encoding
// is unambiguous. Short inputs are hashed from stack buffers; longer ones
// go through crypto/hmac, which computes the same value.
func (c *verifyCache) sum(name, pw string) [sha256.Size]byte {
	if len(name)+1+len(pw) > cacheInline {
		m := hmac.New(sha256.New, c.key[:])
		m.Write([]byte(name))
		m.Write([]byte{0})
		m.Write([]byte(pw))
		var out [sha256.Size]byte
		m.Sum(out[:0])
		return out
	}
	var inner [sha256.BlockSize + cacheInline]byte
	n := copy(inner[:], c.ipad[:])
	n += copy(inner[n:], name)
	inner[n] = 0
	n++
	n += copy(inner[n:], pw)
	ih := sha256.Sum256(inner[:n])
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], c.opad[:])
	copy(outer[sha256.BlockSize:], ih[:])
	return sha256.Sum256(outer[:])
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
