package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
	"unsafe"
)

// DefaultMaxKeys is the number of keys a [MemoryStore] tracks when
// [MemoryOptions.MaxKeys] is zero. At about 56 bytes a key (measured by
// TestMemoryStoreBound with a million distinct addresses) it bounds the
// store to roughly 6 MB. A [Middleware] without [Options.Store] has one
// such store per limit.
const DefaultMaxKeys = 100_000

// sampleSize is how many entries a full shard examines to choose one to
// evict (Redis samples five for its approximated LRU). Looking for a
// decayed entry, it examines up to twice as many.
const sampleSize = 8

// MemoryOptions configures a [MemoryStore]. The zero MemoryOptions is the
// recommended default.
type MemoryOptions struct {
	// MaxKeys is a hard bound on the number of keys tracked at once, so
	// that a client rotating through addresses or user names cannot make
	// the store grow without limit. When a shard is full, a sample of its
	// keys is examined: keys whose state has fully decayed (equivalent to
	// absent ones) are dropped; if there is none, the sampled key with the
	// earliest theoretical arrival time, the one with the least debt to
	// remember, is evicted, and has its full burst back.
	//
	// So a key outlives a flood of keys that owe less than it does: a key
	// limited under a burst of 10 outlives a flood of one-shot keys of the
	// same limit. A limited key with a burst of 1 owes no more than a fresh
	// one-shot key of its limit, and a flood of that limit's keys can evict
	// it; the flood gains nothing by it, since each of its keys is a fresh
	// budget already. The bound protects memory first.
	//
	// Limits that share a MemoryStore share its bound, and their debts are
	// compared across limits: a flood of one limit's keys (made-up API keys
	// under 1 an hour, each owing an hour) can evict another limit's
	// entries (a client address under 5 a minute, owing a minute) and give
	// that budget back. A [Middleware] without [Options.Store] gives each
	// limit a MemoryStore of its own; where limits share a store of yours,
	// use one store per limit (or distinct stores) where that matters.
	// Default: [DefaultMaxKeys].
	MaxKeys int
}

// MemoryStore is a [Store] in the memory of one process: sharded by a
// seeded hash of the key, each shard a map under its own mutex. A key is
// held as its 64-bit hash, seeded at random for each store, not as the
// string: the store's memory does not depend on the keys' length, a key
// is hashed once per decision, and no secret a key function returns is
// kept. Two keys share a budget only if their hashes collide, which for
// 100 000 keys held at once has a chance of about 1 in 3.7 billion (it
// grows with the keys a store sees over its life: about 1 in 180 000 for
// a billion against a full store) and which a client cannot steer, since
// the seed never leaves the process. A [Middleware] hashes client
// networks (the keys of [ByIP], and of [BySubject] and [ByAPIKey] for
// requests without a subject or key) directly rather than as text: two
// IPv4 networks of one limit never share a budget, nor do two IPv6
// networks of up to 64 bits. So Take, Peek and Reset given the text key
// of a network (see [Store]) do not reach the Middleware's entry for it;
// every other key they do. Entries
// whose state has fully decayed are equivalent to absent ones and are
// deleted as the store runs into them; no goroutine is started, so there
// is nothing to close. The zero MemoryStore is ready to use, with the
// default options. A MemoryStore is safe for concurrent use.
type MemoryStore struct {
	once    sync.Once
	seed    maphash.Seed
	mask    uint64
	shards  []shard
	maxKeys int
	start   time.Time
	now     func() time.Time // nil: the monotonic clock
	// keep makes a full shard refuse a new key rather than evict a live
	// one: only decayed entries are dropped to make room, and a Take that
	// finds none is admitted without being recorded. It is set only on
	// the store of an AttemptLimiter's known networks, whose live entries
	// an attacker must not be able to push out (see attemptCompanions).
	keep bool

	// companions are the stores of an AttemptLimiter's user names and
	// known networks when this one keeps its pairs: made once, so that
	// every limiter given this store shares them.
	companionsOnce sync.Once
	companions     [2]*MemoryStore
}

type shard struct {
	mu sync.Mutex
	// m maps the hash of a key to its slot in tat, so that an update
	// writes the slab: one map operation per decision.
	m    map[uint64]int32
	tat  []int64 // theoretical arrival times, nanoseconds after start
	free []int32 // unused slots of tat
	max  int
	_    [16]byte // keep shards on separate cache lines
}

// NewMemoryStore returns an empty MemoryStore. Its only error, for a
// negative MaxKeys, wraps [ErrOption].
func NewMemoryStore(o MemoryOptions) (*MemoryStore, error) {
	maxKeys := o.MaxKeys
	switch {
	case maxKeys < 0:
		return nil, fmt.Errorf("%w: MaxKeys: %d is negative", ErrOption, maxKeys)
	case maxKeys == 0:
		maxKeys = DefaultMaxKeys
	}
	return newMemoryStoreOf(maxKeys), nil
}

// newMemoryStoreOf returns a MemoryStore of n > 0 keys.
func newMemoryStoreOf(n int) *MemoryStore {
	s := new(MemoryStore)
	s.once.Do(func() { s.setup(n) })
	return s
}

// newMemoryStores returns n MemoryStores of maxKeys keys each, for the
// limits of one Middleware, that share one clock: the same start (and
// the monotonic clock), so that a reading of any one's clock is a reading
// of every one's, which the Middleware takes once for all its limits.
// Theoretical arrival times are relative to a store's start: a store
// with another start would be given times off by the difference.
func newMemoryStores(n, maxKeys int) []*MemoryStore {
	stores := make([]*MemoryStore, n)
	for i := range stores {
		stores[i] = newMemoryStoreOf(maxKeys)
		stores[i].start = stores[0].start
	}
	return stores
}

// setup allocates the shards: up to 64, with at least 16 keys each so that
// eviction has a sample to choose from.
func (s *MemoryStore) setup(maxKeys int) {
	n := 1
	for n < 64 && maxKeys/(n*2) >= 16 {
		n *= 2
	}
	s.seed = maphash.MakeSeed()
	s.mask = uint64(n - 1)
	s.shards = make([]shard, n)
	s.start = time.Now()
	// The bound is exact: the first maxKeys%n shards hold one key more
	// (found in review: rounding every shard up let 1 000 become 1 024).
	per, extra := maxKeys/n, maxKeys%n
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]int32)
		s.shards[i].max = per
		if i < extra {
			s.shards[i].max++
		}
	}
	s.maxKeys = maxKeys
}

// init sets up a zero MemoryStore with the defaults.
func (s *MemoryStore) init() {
	s.once.Do(func() { s.setup(DefaultMaxKeys) })
}

// Len returns the number of keys tracked, including keys whose state has
// decayed but that have not been dropped yet.
func (s *MemoryStore) Len() int {
	s.init()
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// MaxKeys returns the bound on the number of keys tracked. [MemoryStore.Len]
// never exceeds it.
func (s *MemoryStore) MaxKeys() int {
	s.init()
	return s.maxKeys
}

// Take implements [Store]. It never returns an error other than for an
// invalid q or n.
func (s *MemoryStore) Take(_ context.Context, key string, q Quota, n int) (Result, error) {
	if err := checkQuota(q, n); err != nil {
		return Result{}, err
	}
	return s.apply(key, q, n, false), nil
}

// Peek implements [Store].
func (s *MemoryStore) Peek(_ context.Context, key string, q Quota, n int) (Result, error) {
	if err := checkQuota(q, n); err != nil {
		return Result{}, err
	}
	return s.apply(key, q, n, true), nil
}

// Reset implements [Store].
func (s *MemoryStore) Reset(_ context.Context, key string) error {
	s.init()
	h := s.hash(key)
	sh := s.shard(h)
	sh.mu.Lock()
	if slot, ok := sh.m[h]; ok {
		sh.remove(h, slot)
	}
	sh.mu.Unlock()
	return nil
}

var errQuota = errors.New("ratelimit: invalid quota")

// checkQuota returns the error of a decision under q for a request of
// cost n that no store can apply, or nil.
func checkQuota(q Quota, n int) error {
	switch {
	case !q.valid():
		return errQuota
	case n < 0:
		return fmt.Errorf("%w: %d", ErrCost, n)
	}
	return nil
}

// hash returns the hash by which s knows key.
func (s *MemoryStore) hash(key string) uint64 { return maphash.String(s.seed, key) }

// shard returns the shard of the key whose hash is h. The shard's map
// hashes h again with a seed of its own, so the low bits serve both.
func (s *MemoryStore) shard(h uint64) *shard { return &s.shards[h&s.mask] }

// clock returns the monotonic time since the store was created. Without
// an injected clock it reads only the monotonic clock, which costs half of
// time.Now.
func (s *MemoryStore) clock() int64 {
	if s.now == nil {
		return int64(time.Since(s.start))
	}
	return int64(s.now().Sub(s.start))
}

// apply is the decision for key.
func (s *MemoryStore) apply(key string, q Quota, n int, peek bool) Result {
	s.init()
	return s.applyAt(s.hash(key), q, n, peek, true, s.clock())
}

// applyAt is apply for the key whose hash is h at time now, a reading of
// s.clock, so that a request checked against several limits reads the
// clock once. With count unset, the Remaining of an admitted request is
// left at 0. s must be initialized.
func (s *MemoryStore) applyAt(h uint64, q Quota, n int, peek, count bool, now int64) Result {
	sh := s.shard(h)
	sh.mu.Lock()
	slot, found := sh.m[h]
	var tat int64
	if found {
		tat = sh.tat[slot]
	}
	newTAT, ok, remaining, retry, reset := step(tat, now, int64(q.Interval), q.Burst, n, count)
	// A take stores newTAT when it changed (a refused one, when step has
	// capped the debt); a new key admitted at cost 0 owes nothing and is
	// not stored. A peek stores the cap alone, so that the wait it told is
	// the wait a take then finds.
	var store bool
	switch {
	case !found:
		store = !peek && newTAT > now
	case peek:
		store = tat-now > int64(q.Burst)*int64(q.Interval) // newTAT is the cap
	default:
		store = newTAT != tat
	}
	if store {
		if found {
			sh.tat[slot] = newTAT
		} else {
			sh.insert(h, newTAT, now, s.keep)
		}
	}
	sh.mu.Unlock()
	return Result{Allowed: ok, Remaining: remaining, RetryAfter: time.Duration(retry), ResetAfter: time.Duration(reset)}
}

// renew gives key the state a first Take under q would, in place: an
// existing entry keeps its slot, so that renewing it in a full store that
// evicts nothing cannot lose it to a concurrent insert, as a Reset and
// then a Take could (found in review).
func (s *MemoryStore) renew(key string, q Quota) {
	s.init()
	now := s.clock()
	newTAT, _, _, _, _ := step(0, now, int64(q.Interval), q.Burst, 1, false)
	h := s.hash(key)
	sh := s.shard(h)
	sh.mu.Lock()
	if slot, found := sh.m[h]; found {
		sh.tat[slot] = newTAT
	} else {
		sh.insert(h, newTAT, now, s.keep)
	}
	sh.mu.Unlock()
}

// insert adds a key that is not in the map, first making room if the shard
// is full. It also drops a decayed entry or two it runs into, so that a
// store under normal load stays small without a sweeper goroutine. With
// keep set, a full shard without a decayed entry does not take the key.
func (sh *shard) insert(h uint64, tat, now int64, keep bool) {
	if len(sh.m) < sh.max {
		n := 0
		for k, slot := range sh.m {
			if sh.tat[slot] <= now {
				sh.remove(k, slot)
			}
			if n++; n == 2 {
				break
			}
		}
	} else if !sh.evict(now, keep) {
		return
	}
	var slot int32
	if n := len(sh.free); n > 0 {
		slot, sh.free = sh.free[n-1], sh.free[:n-1]
	} else {
		slot = int32(len(sh.tat))
		sh.tat = append(sh.tat, 0)
	}
	sh.tat[slot] = tat
	sh.m[h] = slot
}

// evict makes room in a full shard: it drops every decayed entry in a
// sample, or else the sampled entry with the earliest theoretical arrival
// time, which is the one with the least debt to remember. With keep set it
// never drops a live entry, and reports whether the sample had a decayed
// one. (The sample keeps the cost bounded; random map order makes each
// attempt sample other entries.)
func (sh *shard) evict(now int64, keep bool) bool {
	var victim uint64
	var victimSlot int32
	dropped, picked, n := false, false, 0
	for k, slot := range sh.m {
		if t := sh.tat[slot]; t <= now {
			sh.remove(k, slot)
			dropped = true
		} else if !picked || t < sh.tat[victimSlot] {
			victim, victimSlot, picked = k, slot, true
		}
		// Keep looking for a decayed entry a little longer before
		// evicting a live one.
		if n++; n >= sampleSize && dropped || n == 2*sampleSize {
			break
		}
	}
	if keep {
		return dropped
	}
	if !dropped && picked {
		sh.remove(victim, victimSlot)
	}
	return true
}

func (sh *shard) remove(h uint64, slot int32) {
	delete(sh.m, h)
	sh.free = append(sh.free, slot)
}

// stringView returns a string sharing b's bytes, for a key built in a
// stack buffer. The string must not outlive b nor be retained: the store
// keeps only its hash.
func stringView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
