package headervals_test

import (
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/httpguard/httpguard/internal/headervals"
)

// TestTakeNeverSharesASlot takes slots from many goroutines and checks that
// no two slices overlap and that each has an exact capacity.
func TestTakeNeverSharesASlot(t *testing.T) {
	var mu sync.Mutex
	seen := map[uintptr]bool{}
	var keep [][]string // keeps every slice alive so no address is reused
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				n := 1 + (g+i)%7
				s := headervals.Take(n)
				if len(s) != n || cap(s) != n {
					t.Errorf("Take(%d) has len %d cap %d", n, len(s), cap(s))
					return
				}
				mu.Lock()
				keep = append(keep, s)
				for k := range s {
					p := uintptr(unsafe.Pointer(&s[k]))
					if seen[p] {
						t.Errorf("slot %x handed out twice", p)
					}
					seen[p] = true
					if s[k] != "" {
						t.Errorf("slot not empty: %q", s[k])
					}
				}
				mu.Unlock()
				for k := range s {
					s[k] = "used"
				}
			}
		})
	}
	wg.Wait()
	if len(keep) != 8*2000 {
		t.Errorf("kept %d slices", len(keep))
	}
	if s := headervals.Take(0); s != nil {
		t.Errorf("Take(0) = %v", s)
	}
	if s := headervals.Take(1000); len(s) != 1000 {
		t.Errorf("Take(1000) has len %d", len(s))
	}
}

// TestTakeCostsTheSlotsItHandsOut checks that the chunks fill their size
// class: taking a slot costs 16 bytes of heap, not more (a chunk of 4096
// bytes of strings would take 4864 with the runtime's malloc header).
func TestTakeCostsTheSlotsItHandsOut(t *testing.T) {
	const slots = 1 << 18
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range slots / 3 {
		s := headervals.Take(3)
		s[0] = "x"
	}
	runtime.ReadMemStats(&after)
	perSlot := float64(after.TotalAlloc-before.TotalAlloc) / (slots / 3 * 3)
	t.Logf("%.2f bytes per slot", perSlot)
	if perSlot > 16*1.05 {
		t.Errorf("%.2f bytes of heap per slot, want about 16", perSlot)
	}
}

// TestTakeBytesNeverSharesAByte fills every buffer TakeBytes hands out, from
// many goroutines, and checks at the end that each still holds what its
// owner wrote: no byte or slot was handed out twice.
func TestTakeBytesNeverSharesAByte(t *testing.T) {
	type taken struct {
		vals []string
		b    []byte
		mark byte
	}
	results := make([][]taken, 8)
	var wg sync.WaitGroup
	for g := range results {
		wg.Go(func() {
			for i := range 3000 {
				n, size := 1+(g+i)%7, (g*31+i*17)%1100 // some above the chunk's quarter
				vals, b := headervals.TakeBytes(n, size)
				if len(vals) != n || cap(vals) != n || len(b) != 0 || cap(b) != size {
					t.Errorf("TakeBytes(%d, %d): slots len %d cap %d, bytes len %d cap %d", n, size, len(vals), cap(vals), len(b), cap(b))
					return
				}
				mark := byte(g*3000 + i)
				for range size {
					b = append(b, mark)
				}
				for k := range vals {
					vals[k] = string(rune('a' + g))
				}
				results[g] = append(results[g], taken{vals, b, mark})
			}
		})
	}
	wg.Wait()
	for g, rs := range results {
		for _, r := range rs {
			for _, c := range r.b {
				if c != r.mark {
					t.Fatalf("goroutine %d: a byte was overwritten: %d, want %d", g, c, r.mark)
				}
			}
			for _, v := range r.vals {
				if v != string(rune('a'+g)) {
					t.Fatalf("goroutine %d: a slot was overwritten: %q", g, v)
				}
			}
		}
	}
}

func TestTakeBytesWithoutBytes(t *testing.T) {
	vals, b := headervals.TakeBytes(3, 0)
	if len(vals) != 3 || cap(vals) != 3 || b != nil {
		t.Errorf("TakeBytes(3, 0) = %d slots (cap %d), %v", len(vals), cap(vals), b)
	}
	vals, b = headervals.TakeBytes(2, 5000) // beyond a quarter slab: its own
	if len(vals) != 2 || len(b) != 0 || cap(b) != 5000 {
		t.Errorf("TakeBytes(2, 5000) = %d slots, bytes cap %d", len(vals), cap(b))
	}
}

// BenchmarkTake is the per-response cost of the slots of three header
// values, and of a TakeBytes for the rate limiter's two fields, on one
// goroutine and on every core at once.
func BenchmarkTake(b *testing.B) {
	b.Run("op=Take/goroutines=1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := headervals.Take(3)
			s[0] = "x"
		}
	})
	b.Run("op=Take/goroutines=all", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s := headervals.Take(3)
				s[0] = "x"
			}
		})
	})
	b.Run("op=TakeBytes/goroutines=all", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s, buf := headervals.TakeBytes(2, 40)
				buf = append(buf, "0123456789"...)
				s[0] = string(buf[:0])
			}
		})
	})
}

// TestTakeBytesOutOfRange: a count or size of zero or less gets empty
// slices, never a panic nor a part of a slab counted backwards.
func TestTakeBytesOutOfRange(t *testing.T) {
	for _, tt := range []struct{ n, size int }{
		{0, 10}, {-1, 10}, {2, -1}, {-1, -1}, {0, 0}, {-3, 0},
	} {
		func() {
			defer func() {
				if pv := recover(); pv != nil {
					t.Errorf("TakeBytes(%d, %d) panicked: %v", tt.n, tt.size, pv)
				}
			}()
			vals, b := headervals.TakeBytes(tt.n, tt.size)
			if len(vals) != max(tt.n, 0) || len(b) != 0 || cap(b) != max(tt.size, 0) {
				t.Errorf("TakeBytes(%d, %d) = %d slots, bytes len %d cap %d", tt.n, tt.size, len(vals), len(b), cap(b))
			}
		}()
	}
	// The slabs still hand out whole, distinct parts afterwards.
	v1, b1 := headervals.TakeBytes(2, 8)
	v2, b2 := headervals.TakeBytes(2, 8)
	b1 = append(b1, "aaaaaaaa"...)
	b2 = append(b2, "bbbbbbbb"...)
	v1[1], v2[0] = "x", "y"
	if string(b1) != "aaaaaaaa" || v1[1] != "x" || v1[0] != "" || v2[1] != "" {
		t.Errorf("after the calls out of range: %q %q, %q %q", b1, b2, v1, v2)
	}
}
