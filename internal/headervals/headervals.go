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
//
// TakeBytes adds room for values built per request (a counter, a date):
// bytes carved the same way out of a byte chunk, written once before the
// strings that share them are made, and never again.
package headervals

import "sync"

// chunkSize is the number of slots in one chunk: just under 4 KiB of
// string headers. The runtime puts an 8-byte header in front of an object
// with pointers larger than 512 bytes, so 256 slots (4096 bytes) would
// take the next size class, 4864 bytes, and 255 fill a 4096-byte one.
const chunkSize = 255

// byteChunkSize is the number of bytes in one chunk of TakeBytes.
const byteChunkSize = 4096

type chunk struct {
	vals  []string
	used  int
	bytes []byte // len is what is used; allocated on first use
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

// TakeBytes is Take with an empty buffer of capacity size for building
// values: bytes no other call returns, so strings made from them (with
// unsafe.String, once they are written) may go into a response. Appending
// beyond size gets a new array. It is safe for concurrent use.
func TakeBytes(n, size int) ([]string, []byte) {
	if n <= 0 || n > chunkSize/4 || size > byteChunkSize/4 {
		return make([]string, max(n, 0)), make([]byte, 0, size)
	}
	c := pool.Get().(*chunk)
	if c.used+n > len(c.vals) {
		c.vals, c.used = make([]string, chunkSize), 0
	}
	s := c.vals[c.used : c.used+n : c.used+n]
	c.used += n
	used := len(c.bytes)
	if cap(c.bytes)-used < size {
		// As with slots, a chunk is dropped, never reused.
		c.bytes, used = make([]byte, 0, byteChunkSize), 0
	}
	b := c.bytes[used : used : used+size]
	c.bytes = c.bytes[:used+size]
	pool.Put(c)
	return s, b
}
