// Package headervals hands out per-request backing arrays for response
// header values without a heap allocation per request.
//
// A middleware that writes precomputed header values must not put one
// shared []string into every response (rs/cors#198: a handler that writes
// h["Vary"][0] would change the value for every later request), and
// http.Header.Set allocates a fresh one-element slice per header. Take
// returns n string slots that belong to the caller alone: they are carved,
// capacity-limited, out of a larger slab by one atomic addition to the
// slab's count, so one allocation is amortized over many requests while no
// two requests ever share a slot. A handler that appends to a value gets a
// new array (the capacity is exact); one that overwrites a slot changes
// only its own response.
//
// TakeBytes adds room for values built per request (a counter, a date):
// bytes carved the same way, by an atomic addition to the count of a byte
// slab of the same shard, written once before the strings that share them
// are made, and never again.
//
// Slabs are spread over shards picked from the address of the calling
// goroutine's stack, so goroutines on different cores rarely add to the
// same count. A full slab is replaced, never reused: it stays alive as
// long as some response still holds a part of it. Each shard's current
// slabs stay reachable for good, with what their used slots refer to: at
// most 64 shards of 8 KiB once every shard has served, and the byte slabs
// their strings point into, a few more per shard. A string put in a slot
// stays reachable as long as its slab does, which on an idle server can
// be for good: put only values of bounded size in slots (precomputed
// values, bytes from TakeBytes); a value whose size the client decides
// (https.Redirect's Location, from the request's path) needs a slice of
// its own beyond a small length.
package headervals

import (
	"sync/atomic"
	"unsafe"
)

// A slab is 4096 bytes, one size class of the runtime's allocator: its
// count and 255 string slots, with the 8-byte header the runtime puts in
// front of an object with pointers larger than 512 bytes, or its count and
// 4088 bytes.
const (
	slabSlots = 255
	slabBytes = 4096 - 8
)

// maxTake is the most slots, and a quarter of slabBytes the most bytes, one
// call carves from a slab; larger requests get arrays of their own.
const maxTake = slabSlots / 4

// The slots and the bytes are carved from slabs of their own, each
// replaced when it is full, so that neither is wasted when a caller needs
// much of one and little of the other.
type (
	valSlab struct {
		used atomic.Uint64 // slots handed out, or more once full
		vals [slabSlots]string
	}
	byteSlab struct {
		used  atomic.Uint64
		bytes [slabBytes]byte
	}
)

// shardCount shards of a cache line each: a few for each core of most
// servers. Once used, a shard holds a slab of each kind.
const shardCount = 64

type shard struct {
	vals  atomic.Pointer[valSlab]
	bytes atomic.Pointer[byteSlab]
	_     [64 - 16]byte
}

var shards [shardCount]shard

// current returns the shard of the calling goroutine: its stack address,
// hashed. Goroutines have distinct stacks, so concurrent callers spread
// over the shards, while one goroutine keeps finding its own cache-warm
// slab. The address is only a hint: any shard is correct.
func current() *shard {
	var x byte
	h := uint64(uintptr(unsafe.Pointer(&x))>>10) * 0x9e3779b97f4a7c15
	return &shards[h>>58]
}

// Take returns a slice of n empty strings with length and capacity n that
// no other call to Take returns. It is safe for concurrent use.
func Take(n int) []string {
	if n <= 0 {
		return nil
	}
	if n > maxTake {
		return make([]string, n)
	}
	s, end := current().takeVals(n)
	return s.vals[end-n : end : end]
}

// TakeBytes is Take with an empty buffer of capacity size for building
// values: bytes no other call returns, so strings made from them (with
// unsafe.String, once they are written) may go into a response. Appending
// beyond size gets a new array. It is safe for concurrent use.
func TakeBytes(n, size int) ([]string, []byte) {
	if size == 0 {
		return Take(n), nil
	}
	if n <= 0 || n > maxTake || size < 0 || size > slabBytes/4 {
		return make([]string, max(n, 0)), make([]byte, 0, max(size, 0))
	}
	sh := current()
	s, end := sh.takeVals(n)
	b, bend := sh.takeBytes(size)
	return s.vals[end-n : end : end], b.bytes[bend-size : bend-size : bend]
}

// takeVals adds n to the count of the shard's slot slab and returns the
// slab and the count after the addition: the n slots ending there are the
// caller's. A full slab (one whose count passes its size) is replaced by a
// new one whose first n slots are the caller's, unless another goroutine
// has replaced it first.
func (sh *shard) takeVals(n int) (*valSlab, int) {
	for {
		s := sh.vals.Load()
		if s != nil {
			if end := s.used.Add(uint64(n)); end <= slabSlots {
				return s, int(end)
			}
			if sh.vals.Load() != s {
				continue // replaced meanwhile: no slab of our own needed
			}
		}
		fresh := new(valSlab)
		fresh.used.Store(uint64(n))
		if sh.vals.CompareAndSwap(s, fresh) {
			return fresh, n
		}
	}
}

// takeBytes is takeVals for the shard's byte slab.
func (sh *shard) takeBytes(n int) (*byteSlab, int) {
	for {
		s := sh.bytes.Load()
		if s != nil {
			if end := s.used.Add(uint64(n)); end <= slabBytes {
				return s, int(end)
			}
			if sh.bytes.Load() != s {
				continue // replaced meanwhile: no slab of our own needed
			}
		}
		fresh := new(byteSlab)
		fresh.used.Store(uint64(n))
		if sh.bytes.CompareAndSwap(s, fresh) {
			return fresh, n
		}
	}
}
