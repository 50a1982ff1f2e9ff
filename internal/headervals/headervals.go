// Package headervals hands out per-request backing arrays for response
// header values without a heap allocation per request.
//
// A middleware that writes precomputed header values must not put one
// shared []string into every response (rs/cors#198: a handler that writes
// h["Vary"][0] would change the value for every later request), and
// http.Header.Set allocates a fresh one-element slice per header. Take
// returns n string slots that belong to the caller alone: they are carved,
// capacity-limited, out of a larger chunk owned by one P at a time through
// a sync.Pool, so one allocation is amortized over many requests while no
// two requests ever share a slot. A handler that appends to a value gets a
// new array (the capacity is exact); one that overwrites a slot changes only
// its own response.
package headervals

import "sync"

// chunkSize is the number of slots in one chunk: just under 4 KiB of
// string headers. The runtime puts an 8-byte header in front of an object
// with pointers larger than 512 bytes, so 256 slots (4096 bytes) would
// take the next size class, 4864 bytes, and 255 fill a 4096-byte one.
const chunkSize = 255

type chunk struct {
	vals []string
	used int
}

var pool = sync.Pool{New: func() any { return &chunk{vals: make([]string, chunkSize)} }}

// Take returns a slice of n empty strings with length and capacity n that
// no other call to Take returns. It is safe for concurrent use.
func Take(n int) []string {
	if n <= 0 {
		return nil
	}
	if n > chunkSize/4 {
		return make([]string, n)
	}
	c := pool.Get().(*chunk)
	if c.used+n > len(c.vals) {
		// The old chunk stays alive as long as some response still holds
		// one of its slots; it is never reused.
		c.vals, c.used = make([]string, chunkSize), 0
	}
	s := c.vals[c.used : c.used+n : c.used+n]
	c.used += n
	pool.Put(c)
	return s
}
