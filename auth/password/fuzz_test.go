package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth/password"
)

// cheap bounds the work of a fuzzed verification to a few milliseconds.
var cheap = password.MustNew(password.Options{
	Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
	MaxMemory:                  256,
	MaxTime:                    2,
	MaxThreads:                 2,
	MaxBcryptCost:              4,
	DangerouslyAllowWeakParams: true,
})

// FuzzInspect checks the PHC and bcrypt parser: it never panics, it
// refuses with one of the package's errors, an accepted argon2id string
// re-encodes to itself (one encoding per hash), and Verify agrees with
// Inspect about what is acceptable.
func FuzzInspect(f *testing.F) {
	seeds := []string{
		refArgon2id, phpBcrypt2y, openwallBcrypt2a, pythonBcrypt2b,
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$2b$04$" + openwallBcrypt2a[7:], "", "$", "$$", "$argon2id$", "$argon2id$v=19$m=1,t=1,p=1$$",
	}
	for _, tt := range absurd {
		seeds = append(seeds, tt.encoded)
	}
	for _, s := range seeds {
		f.Add(s, "password")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		info, err := cheap.Inspect(encoded)
		if err != nil {
			if !errors.Is(err, password.ErrMalformedHash) && !errors.Is(err, password.ErrUnsupportedHash) && !errors.Is(err, password.ErrHashLimits) {
				t.Fatalf("Inspect(%q) = %v: not a package error", encoded, err)
			}
			if ok, rehash, verr := cheap.Verify(pw, encoded); ok || rehash || verr == nil {
				t.Fatalf("Verify accepted %q that Inspect refused", encoded)
			}
			return
		}
		switch info.Algorithm {
		case password.Argon2id:
			if got := info.String(); got != encoded {
				t.Fatalf("round trip: Inspect(%q).String() = %q", encoded, got)
			}
		case password.Bcrypt:
			if len(encoded) != 60 || !strings.HasPrefix(encoded, "$2") {
				t.Fatalf("bcrypt accepted: %q", encoded)
			}
		default:
			t.Fatalf("unknown algorithm %q", info.Algorithm)
		}
		ok, rehash, err := cheap.Verify(pw, encoded)
		if err != nil && !errors.Is(err, password.ErrPasswordTooLong) && !errors.Is(err, password.ErrMalformedHash) {
			t.Fatalf("Verify(%q) = %v after Inspect accepted it", encoded, err)
		}
		if rehash && !ok {
			t.Fatal("needsRehash without ok")
		}
	})
}

// FuzzHashVerify checks that every password Hash accepts verifies against
// its hash, and that no other password does.
func FuzzHashVerify(f *testing.F) {
	f.Add("password", "Password")
	f.Add("pässwörd ✓", "pässwörd")
	f.Add("a\x00b", "a")
	f.Fuzz(func(t *testing.T, pw, other string) {
		enc, err := cheap.Hash(pw)
		if err != nil {
			if pw != "" && len(pw) <= password.DefaultMaxPasswordLength {
				t.Fatalf("Hash(%q) = %v", pw, err)
			}
			return
		}
		if ok, _, err := cheap.Verify(pw, enc); !ok || err != nil {
			t.Fatalf("Verify(own hash) = %v, %v", ok, err)
		}
		if ok, _, _ := cheap.Verify(other, enc); ok != (other == pw) {
			t.Fatalf("Verify(%q) against hash of %q = %v", other, pw, ok)
		}
	})
}
