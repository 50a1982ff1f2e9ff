package redisstore

import "time"

// SetNow sets the clock of a RefreshStore, Denylist or ReplayCache, for tests of
// instances whose clocks differ from Redis's.
func SetNow(store any, f func() time.Time) {
	switch s := store.(type) {
	case *RefreshStore:
		s.now = f
	case *Denylist:
		s.now = f
	case *ReplayCache:
		s.now = f
	default:
		panic("redisstore.SetNow: not a store of this package")
	}
}
