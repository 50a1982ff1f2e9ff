package ratelimit

import (
	"context"
	"net/http"
	"net/netip"
	"time"
)

// SetClock makes s read the time from now, for tests of the arithmetic.
func SetClock(s *MemoryStore, now func() time.Time) {
	s.init()
	s.now = now
	s.start = now()
}

// KeyOf returns the stored key of r for the i-th limit of m.
func KeyOf(m *Middleware, i int, r *http.Request) (string, bool) {
	var buf [keyBufSize]byte
	k, ok := m.appendKey(buf[:0], &m.limits[i], r)
	return string(k), ok
}

// MemKeyOf returns the hash by which the MemoryStore of m knows the key of
// r for the i-th limit of m.
func MemKeyOf(m *Middleware, i int, r *http.Request) (uint64, bool) {
	return m.memKey(&m.limits[i], r)
}

// NetworkKey returns the network part of an address key.
func NetworkKey(addr netip.Addr, v4, v6 int) string {
	return string(appendAddr(nil, addr, v4, v6))
}

// NewMaxKeys is New with MemoryStores of maxKeys keys for the limits when
// o.Store is nil, for tests that fill them.
func NewMaxKeys(o Options, maxKeys int) (*Middleware, error) {
	m, err := New(o)
	if err != nil {
		return nil, err
	}
	m.setStores(o.Store, maxKeys)
	return m, nil
}

// LimitStoreOf returns the MemoryStore of the i-th limit of m, or nil.
func LimitStoreOf(m *Middleware, i int) *MemoryStore { return m.limits[i].mem }

// StartOf returns the instant from which s counts its times.
func StartOf(s *MemoryStore) time.Time { return s.start }

// HashOf returns the hash by which the MemoryStore of the i-th limit of m
// knows the text key.
func HashOf(m *Middleware, i int, key string) uint64 { return m.limits[i].mem.hash(key) }

// Quotient is quotient, the division of the GCRA step.
var Quotient = quotient

// NewAttemptLimiterMaxKeys is NewAttemptLimiter with private memory stores
// of maxKeys keys each, for tests that fill them.
func NewAttemptLimiterMaxKeys(o AttemptOptions, maxKeys int) (*AttemptLimiter, error) {
	a, err := NewAttemptLimiter(o)
	if err != nil {
		return nil, err
	}
	a.setStores(o.Store, maxKeys)
	return a, nil
}

// IsKnown reports whether ip is a known network of username in a.
func IsKnown(a *AttemptLimiter, username string, ip netip.Addr) bool {
	_, _, k := a.keys(username, ip)
	r, err := a.networks.Peek(context.Background(), k, a.known, 1)
	return err == nil && !r.Allowed
}

// KnownStoreOf returns the store of a's known networks.
func KnownStoreOf(a *AttemptLimiter) Store { return a.networks }

// AppendDecimal is appendDecimal, for its test against strconv.
var AppendDecimal = appendDecimal

// KeyLimiterKey returns the stored key of key in k.
func KeyLimiterKey(k *KeyLimiter, key string) string { return k.key(key) }
