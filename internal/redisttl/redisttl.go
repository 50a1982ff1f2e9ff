// Package redisttl converts durations to Redis' time-to-live resolution.
package redisttl

import (
	"math"
	"time"
)

// Ceil rounds d >= 0 up to Redis' resolution, a millisecond: a deletion marker
// or a revocation must hold at least until its end, and a time to live
// rounded down ended it up to a millisecond early. The longest Duration
// is rounded down instead of overflowing.
func Ceil(d time.Duration) time.Duration {
	r := d.Truncate(time.Millisecond)
	if r != d && r <= math.MaxInt64-time.Millisecond {
		r += time.Millisecond
	}
	return r
}

// CeilUnixMilli is t in Unix milliseconds, rounded up as Ceil rounds a
// time to live: a key that expires at it (PEXPIREAT) lasts until t.
func CeilUnixMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return ms
}
