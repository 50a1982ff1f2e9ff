package headervals

import (
	"sync"
	"testing"
)

// Goroutines running at once mostly find different shards, so they rarely
// add to the same count; one goroutine finds the same shard each time.
func TestShardsSpreadGoroutines(t *testing.T) {
	const goroutines = 64
	var (
		wg      sync.WaitGroup
		ready   sync.WaitGroup
		release = make(chan struct{})
		mu      sync.Mutex
		used    = map[*shard]int{}
	)
	ready.Add(goroutines)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready.Done()
			<-release // all alive at once: no stack is reused
			sh := current()
			if again := current(); again != sh {
				t.Error("one goroutine found two shards")
			}
			mu.Lock()
			used[sh]++
			mu.Unlock()
		}()
	}
	ready.Wait()
	close(release)
	wg.Wait()
	// 64 goroutines thrown at random into 64 shards fill about 40.
	if len(used) < goroutines/4 {
		t.Errorf("%d goroutines used only %d of %d shards", goroutines, len(used), shardCount)
	}
	t.Logf("%d goroutines used %d shards", goroutines, len(used))
}
