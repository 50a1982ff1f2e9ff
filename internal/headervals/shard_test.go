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
		wg.Go(func() {
			ready.Done()
			<-release // all alive at once: no stack is reused
			sh := current()
			if again := current(); again != sh {
				t.Error("one goroutine found two shards")
			}
			mu.Lock()
			used[sh]++
			mu.Unlock()
		})
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

// Goroutines that share a shard, as some always do once there are more
// of them than shards, each get slots and bytes of their own: the counts
// are added to atomically, and a full slab's replacement is never handed
// out twice. The goroutines here all use one shard, so that they contend
// on every call.
func TestOneShardNeverHandsOutTwice(t *testing.T) {
	const (
		goroutines = 8
		calls      = 20000
	)
	type taken struct {
		vals []string
		b    []byte
	}
	var (
		sh      shard
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([][]taken, goroutines)
	)
	for g := range goroutines {
		wg.Go(func() {
			<-start
			mark := string(rune('a' + g))
			for i := range calls {
				n, size := 1+(g+i)%5, 1+(g*7+i*13)%200
				s, end := sh.takeVals(n)
				vals := s.vals[end-n : end : end]
				b, bend := sh.takeBytes(size)
				buf := b.bytes[bend-size : bend-size : bend]
				for k := range vals {
					vals[k] = mark
				}
				for range size {
					buf = append(buf, byte(g))
				}
				results[g] = append(results[g], taken{vals, buf})
			}
		})
	}
	close(start)
	wg.Wait()
	for g, rs := range results {
		for _, r := range rs {
			for _, v := range r.vals {
				if v != string(rune('a'+g)) {
					t.Fatalf("goroutine %d: a slot it was given holds %q", g, v)
				}
			}
			for _, c := range r.b {
				if c != byte(g) {
					t.Fatalf("goroutine %d: a byte it was given holds %d", g, c)
				}
			}
		}
	}
}
