package ratelimit_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/httpguard/httpguard/ratelimit"
)

// TestAppendDecimal holds the header values' number formatting to
// strconv's, at every digit-count boundary and with and without room in
// the buffer.
func TestAppendDecimal(t *testing.T) {
	t.Parallel()
	var ns []int64
	for p := int64(1); ; p *= 10 {
		ns = append(ns, p-1, p, p+1, 2*p-1, 5*p)
		if p > math.MaxInt64/10 {
			break
		}
	}
	ns = append(ns, 0, 99, 100, 101, 536870911, math.MaxInt64-1, math.MaxInt64)
	for _, n := range ns {
		if n < 0 {
			continue
		}
		want := "x;r=" + strconv.FormatInt(n, 10)
		for _, room := range []int{0, 1, 30} {
			b := make([]byte, 0, len("x;r=")+room)
			b = append(b, "x;r="...)
			if got := string(ratelimit.AppendDecimal(b, n)); got != want {
				t.Errorf("appendDecimal(%d) with %d bytes of room = %q, want %q", n, room, got, want)
			}
		}
	}
}
