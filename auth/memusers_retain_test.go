package auth_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/testenv"
)

// Assigning to an existing key of a map with string keys stores the new
// key string: MemoryUsers.Rehash and UpdateHash stored the name they were
// given, which from Basic's OnRehash is cut from the decoded credentials,
// so the store kept the password of the last login that upgraded a hash
// reachable for as long as the user existed. They keep a name of their
// own.
func TestMemoryUsersUpdatesKeepNoCallerName(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		update func(u *auth.MemoryUsers, name, old, new string) error
	}{
		{"Rehash", func(u *auth.MemoryUsers, name, old, new string) error { return u.Rehash(ctx, name, old, new) }},
		{"UpdateHash", func(u *auth.MemoryUsers, name, _, new string) error { return u.UpdateHash(ctx, name, new) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const users, pad = 32, 256 << 10
			var store auth.MemoryUsers
			names := make([]string, users)
			for i := range names {
				names[i] = "user" + strings.Repeat("x", i)
				if err := store.AddPassword(names[i], "first", identity.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			newHash, err := fastHasher.Hash("second")
			if err != nil {
				t.Fatal(err)
			}
			before := testenv.HeapAfterGC()
			for _, n := range names {
				u, _, _ := store.LookupUser(ctx, n)
				// A name that is a view of a large string, as Basic's
				// is of "name:password".
				big := n + ":" + strings.Repeat("p", pad)
				if err := tt.update(&store, big[:len(n)], u.Hash, newHash); err != nil {
					t.Fatal(err)
				}
			}
			if grown := int64(testenv.HeapAfterGC()) - int64(before); grown > pad {
				t.Errorf("%d updates: the heap grew by %d bytes, as if the store kept each %d-byte string its name was cut from", users, grown, pad)
			}
			runtime.KeepAlive(&store)
		})
	}
}
