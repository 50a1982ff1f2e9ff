package session_test

import (
	"encoding/binary"
	"runtime"
	"slices"
	"testing"

	"github.com/httpguard/httpguard/session"
)

// rec builds a session record from its parts: the version byte, then each
// part's bytes as they are.
func rec(parts ...[]byte) []byte { return slices.Concat(parts...) }

func uv(n uint64) []byte { return binary.AppendUvarint(nil, n) }

// A session record comes back from a store (a Redis server, a cookie
// whose keys leaked); every part of it is checked, and the decoder never
// panics or allocates for more than the record holds. (Mutations that
// dropped each of these checks failed no test: the fuzz target checks
// only that what decodes re-encodes the same.)
func TestDecodeRefusesMalformedRecords(t *testing.T) {
	head := []byte{1, 0, 0} // version 1, created 0, lastSeen 0
	ident := func(claims string) []byte {
		return rec([]byte{1}, uv(1), []byte("a"), uv(0), uv(0), uv(0), uv(uint64(len(claims))), []byte(claims))
	}
	value := func(kind byte, payload ...byte) []byte { return rec(uv(1), uv(1), []byte("k"), []byte{kind}, payload) }
	const kindBool, kindFloat, kindTime = 4, 5, 6
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"an empty record", rec(head, []byte{0}, uv(0)), true},
		{"version 2", rec([]byte{2, 0, 0, 0}, uv(0)), false},
		{"version 0", rec([]byte{0, 0, 0, 0}, uv(0)), false},
		{"an unknown flag bit", rec(head, []byte{4}, uv(0)), false},
		{"bytes after the last value", rec(head, []byte{0}, uv(0), []byte{0}), false},
		{"an identity with claims", rec(head, ident(`{"v":1}`), uv(0)), true},
		{"an identity whose claims are null", rec(head, ident("null"), uv(0)), false},
		{"a bool of 1", rec(head, []byte{0}, value(kindBool, 1)), true},
		{"a bool of 2", rec(head, []byte{0}, value(kindBool, 2)), false},
		{"a float of 8 bytes", rec(head, []byte{0}, value(kindFloat, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f)), true},
		{"a float of 7 bytes", rec(head, []byte{0}, value(kindFloat, 0, 0, 0, 0, 0, 0, 0xf8)), false},
		{"a time of 999999999 ns", rec(head, []byte{0}, value(kindTime, rec(uv(0), uv(999999999))...)), true},
		{"a time of 1e9 ns", rec(head, []byte{0}, value(kindTime, rec(uv(0), uv(1e9))...)), false},
		{"a varint of 64 bits", rec([]byte{1}, uv(1<<64-1), []byte{0, 0}, uv(0)), true},
		{"a varint past 64 bits", rec([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, []byte{0, 0}, uv(0)), false},
		// 3 × 6148914691236517206 wraps to 2 in 64 bits: only the bound
		// on counts keeps it from passing as "fits in the 2 bytes left".
		{"a count whose size wraps around", rec(head, []byte{0}, uv(6148914691236517206), []byte{0, 0}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := session.RoundTripRecord(tt.data); ok != tt.ok {
				t.Errorf("decoded = %v, want %v (% x)", ok, tt.ok, tt.data)
			}
		})
	}
}

// A count of roles, scopes or values that the rest of the record cannot
// hold is refused before anything is allocated for it: a record of a few
// bytes must not cost megabytes (GHSA-2mr3-m5q5-wgp6: fiber's flash cookie
// of 10 characters claimed enough entries for 85 GB).
func TestDecodeAllocatesNoMoreThanTheRecordHolds(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"roles", rec([]byte{1, 0, 0, 1}, uv(1), []byte("a"), uv(0), uv(1<<20-1), []byte{0, 0})},
		{"scopes", rec([]byte{1, 0, 0, 1}, uv(1), []byte("a"), uv(0), uv(0), uv(1<<20-1), []byte{0, 0})},
		{"GHSA-2mr3-m5q5-wgp6 values", rec([]byte{1, 0, 0, 0}, uv(1<<20-1), []byte{0, 0})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, ok := session.RoundTripRecord(tt.data)
			runtime.ReadMemStats(&after)
			if ok {
				t.Fatal("decoded")
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("decoding %d bytes allocated %d bytes", len(tt.data), n)
			}
		})
	}
}
