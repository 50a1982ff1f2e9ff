package auth_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/testenv"
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
			before := testenv.HeapAfterGC()
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
			if grown := int64(testenv.HeapAfterGC()) - int64(before); grown > 1<<20 {
				t.Errorf("%d refresh tokens stored: the heap grew by %d bytes, as if each kept its %d-byte request", logins, grown, len(body))
			}
			runtime.KeepAlive(f)
		})
	}
}

// The identity of a Basic login holds a copy of the user name, not a view
// of the decoded "user:password": one kept by the application (a subject
// in a cache, a log batch) kept the plaintext password alive with it.
func TestBasicSubjectKeepsNoPassword(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	pw := strings.Repeat("p", 1000)
	var users auth.MemoryUsers
	h, err := fastHasher.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("alice", auth.User{Hash: h}); err != nil {
		t.Fatal(err)
	}
	b, err := auth.NewBasic(auth.BasicOptions{Users: &users, Hasher: fastHasher, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const logins = 1000
	kept := make([]string, 0, logins)
	handler := b.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		kept = append(kept, id.Subject())
	}))
	header := basicValue("alice", pw)
	before := testenv.HeapAfterGC()
	for range logins {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", strings.Clone(header))
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}
	if len(kept) != logins || kept[0] != "alice" {
		t.Fatalf("%d logins, subject %q", len(kept), kept[0])
	}
	// The decoded credentials would be 1 MB.
	if grown := int64(testenv.HeapAfterGC()) - int64(before); grown > 256<<10 {
		t.Errorf("%d subjects kept: the heap grew by %d bytes, as if each kept its password", logins, grown)
	}
	runtime.KeepAlive(kept)
}
