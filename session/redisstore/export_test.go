package redisstore

import "time"

// WithNow sets the store's clock, for tests of instances whose clocks
// differ.
func (o Options) WithNow(f func() time.Time) Options { o.now = f; return o }
