package headervals_test

import (
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
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
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
