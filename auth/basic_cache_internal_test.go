package auth

import (
	"bytes"
	"testing"
	"time"
)

// The verification cache's pooled HMAC state does not keep the
// credentials of the last sum: the inner hash of an HMAC keeps the bytes
// written since its last full block, all of "name\x00password" for a
// typical pair, after Sum, so clearing the scratch buffer alone left them
// in the pool. A state still holding them sums to the cache key of that
// pair; a reset one as a fresh one, to the HMAC of nothing.
func TestVerifyCacheSumPoolKeepsNoCredentials(t *testing.T) {
	c := newVerifyCache(time.Minute, 10, time.Now)
	fresh := c.macs.New().(*macState).mac.Sum(nil) // of nothing written
	for _, tt := range []struct{ name, pw string }{
		{"alice", "correct-horse-battery-staple"},
		{"bob", "a password long enough to fill more than one block of SHA-256, the tail stays"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := c.sum(tt.name, tt.pw)
			if again := c.sum(tt.name, tt.pw); again != k {
				t.Fatal("two sums of one pair differ")
			}
			// The state just put back is the one Get returns next, on this
			// goroutine's P, unless a collection emptied the pool (or the
			// race detector dropped it), which passes vacuously.
			var got []*macState
			defer func() {
				for _, st := range got {
					c.macs.Put(st)
				}
			}()
			for range 8 {
				st := c.macs.Get().(*macState)
				got = append(got, st)
				s := st.mac.Sum(nil)
				if bytes.Equal(s, k[:]) {
					t.Fatal("a pooled HMAC state still holds the credentials of the last sum")
				}
				if !bytes.Equal(s, fresh) {
					t.Fatal("a pooled HMAC state is not in the keyed state")
				}
			}
		})
	}
}
