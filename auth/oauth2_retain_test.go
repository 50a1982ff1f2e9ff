package auth_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
)

// A refresh token record keeps strings of its own, never views of the
// request body: the user name and the scopes of a password grant were
// substrings of the whole form, password and client secret included, so
// the MemoryRefreshStore kept each login's plaintext password reachable
// for as long as its token family lived (through every rotation, up to
// RefreshTokenMaxLifetime), where the store otherwise keeps no more than
// hashes of tokens and a fingerprint of the password hash. Measured by
// what a login's record keeps alive beside a large parameter.
func TestTokenEndpointRefreshRecordKeepsNoRequestBody(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	const logins, pad = 100, 60 << 10
	for _, tt := range []struct{ name, body string }{
		{"the user name", "grant_type=password&username=alice&password=correct+horse&client_id=web"},
		{"the requested scopes", "grant_type=password&username=%61lice&password=correct+horse&client_id=web&scope=orders:read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.MaxBodyBytes = 64 << 10 })
			body := tt.body + "&pad=" + strings.Repeat("x", pad)
			before := heapAfterGC()
			for i := range logins {
				res := f.postRaw(t, "/token", "application/x-www-form-urlencoded", strings.Clone(body), nil)
				if res.status != 200 {
					t.Fatalf("login %d: status %d: %s (%v)", i, res.status, res.raw, res.reason)
				}
			}
			if n := f.store.Len(); n != logins {
				t.Fatalf("%d refresh tokens stored, want %d", n, logins)
			}
			// The bodies would be 6 MB.
			if grown := int64(heapAfterGC()) - int64(before); grown > 1<<20 {
				t.Errorf("%d refresh tokens stored: the heap grew by %d bytes, as if each kept its %d-byte request", logins, grown, len(body))
			}
			runtime.KeepAlive(f)
		})
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
