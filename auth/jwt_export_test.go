package auth

import "time"

// WithJWTClock returns o with its clock replaced, for tests.
func WithJWTClock(o JWTOptions, now func() time.Time) JWTOptions {
	o.now = now
	return o
}

// WithIssuerClock returns o with its clock replaced, for tests.
func WithIssuerClock(o IssuerOptions, now func() time.Time) IssuerOptions {
	o.now = now
	return o
}

// WithTokenEndpointClock returns o with its clock replaced, for tests.
func WithTokenEndpointClock(o TokenEndpointOptions, now func() time.Time) TokenEndpointOptions {
	o.now = now
	return o
}

// NewMemoryDenylistWithClock returns an empty MemoryDenylist on the given
// clock, for tests.
func NewMemoryDenylistWithClock(now func() time.Time) *MemoryDenylist {
	return &MemoryDenylist{now: now}
}

// SetNonceClock replaces the clock of n, for tests.
func SetNonceClock(n *HMACNonces, now func() time.Time) { n.now = now }
