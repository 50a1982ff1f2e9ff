package redisstore

import "time"

// WithNow sets the stores' clock, for tests of instances whose clocks
// differ from Redis's.
func (o Options) WithNow(f func() time.Time) Options { o.now = f; return o }
