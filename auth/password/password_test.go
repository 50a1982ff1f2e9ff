package password_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/httpguard/httpguard/auth/password"
)

// fast is a Hasher with tiny parameters, for tests that hash a lot.
var fast = password.MustNew(password.Options{
	Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
	DangerouslyAllowWeakParams: true,
})

// Hashes produced by other implementations.
const (
	// The reference C implementation (phc-winner-argon2):
	// echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e
	refArgon2id = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	// PHP's password_hash, from the PHP manual.
	phpBcrypt2y = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	// crypt_blowfish (Openwall) test vector.
	openwallBcrypt2a = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
	// Python's bcrypt package.
	pythonBcrypt2b = "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie"
)

func TestVerify(t *testing.T) {
	own, err := fast.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	long72 := strings.Repeat("a", 72)
	goBcrypt72, err := bcrypt.GenerateFromPassword([]byte(long72), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		password  string
		encoded   string
		ok        bool
		rehash    bool
		err       error
		hasher    *password.Hasher
		skipShort bool
	}{
		{name: "its own argon2id hash verifies", password: "correct horse battery staple", encoded: own, ok: true, rehash: true},
		{name: "a wrong password does not verify", password: "correct horse battery stapler", encoded: own},
		{name: "a prefix of the password does not verify", password: "correct horse", encoded: own},
		{name: "an empty password does not verify", password: "", encoded: own},
		{name: "weak parameters need no rehash for a Hasher with those parameters", password: "correct horse battery staple", encoded: own, ok: true, hasher: fast},
		{name: "the reference implementation's argon2id verifies", password: "password", encoded: refArgon2id, ok: true, rehash: true, skipShort: true},
		{name: "the reference implementation's argon2id refuses another password", password: "Password", encoded: refArgon2id, skipShort: true},
		{name: "PHP's $2y$ bcrypt verifies and needs a rehash", password: "rasmuslerdorf", encoded: phpBcrypt2y, ok: true, rehash: true},
		{name: "Openwall's $2a$ bcrypt verifies and needs a rehash", password: "U*U", encoded: openwallBcrypt2a, ok: true, rehash: true},
		{name: "Python's $2b$ bcrypt verifies and needs a rehash", password: "correctbatteryhorsestapler", encoded: pythonBcrypt2b, ok: true, rehash: true},
		{name: "a wrong password against bcrypt does not verify", password: "rasmuslerdorF", encoded: phpBcrypt2y},
		{name: "a 72-byte password verifies against bcrypt", password: long72, encoded: string(goBcrypt72), ok: true, rehash: true},
		// golang/go#36546: x/crypto/bcrypt's CompareHashAndPassword reads
		// only the first 72 bytes, so "<72 bytes>X" matched the hash of
		// "<72 bytes>" (as in Spring Security's CVE-2025-22228).
		{name: "CVE-2025-22228: a 73-byte password is refused against bcrypt, not truncated", password: long72 + "b", encoded: string(goBcrypt72), err: password.ErrPasswordTooLong},
		{name: "a password over MaxPasswordLength is refused before hashing", password: strings.Repeat("p", password.DefaultMaxPasswordLength+1), encoded: own, err: password.ErrPasswordTooLong},
		{name: "an empty hash is malformed", password: "x", encoded: "", err: password.ErrMalformedHash},
		{name: "a plaintext password as hash is malformed", password: "hunter2", encoded: "hunter2", err: password.ErrMalformedHash},
		{name: "argon2i is unsupported", password: "password", encoded: "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", err: password.ErrUnsupportedHash},
		{name: "scrypt is unsupported", password: "password", encoded: "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", err: password.ErrUnsupportedHash},
		{name: "argon2id version 16 is unsupported", password: "password", encoded: strings.Replace(refArgon2id, "v=19", "v=16", 1), err: password.ErrUnsupportedHash},
		{name: "argon2id without version is unsupported", password: "password", encoded: strings.Replace(refArgon2id, "v=19$", "", 1), err: password.ErrUnsupportedHash},
		{name: "$2x$ bcrypt is unsupported", password: "U*U", encoded: "$2x" + openwallBcrypt2a[3:], err: password.ErrUnsupportedHash},
		{name: "a truncated bcrypt hash is malformed", password: "U*U", encoded: openwallBcrypt2a[:59], err: password.ErrMalformedHash},
		{name: "bcrypt with a character outside its alphabet is malformed", password: "U*U", encoded: openwallBcrypt2a[:59] + "!", err: password.ErrMalformedHash},
		{name: "bcrypt cost 03 is malformed", password: "U*U", encoded: "$2a$03$" + openwallBcrypt2a[7:], err: password.ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipShort && testing.Short() {
				t.Skip("64 MiB hash")
			}
			h := password.Default
			if tt.hasher != nil {
				h = tt.hasher
			}
			ok, rehash, err := h.Verify(tt.password, tt.encoded)
			if ok != tt.ok || rehash != tt.rehash || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("Verify = %v, %v, %v; want %v, %v, %v", ok, rehash, err, tt.ok, tt.rehash, tt.err)
			}
		})
	}
}

// absurd are stored hashes whose parameters would make one verification
// take unbounded memory or time.
var absurd = []struct{ name, encoded string }{
	{"4 TiB of memory", "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"512 MiB of memory", "$argon2id$v=19$m=524288,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"four billion passes", "$argon2id$v=19$m=19456,t=4294967295,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"255 lanes", "$argon2id$v=19$m=65536,t=1,p=255$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"each limit on its own, together too much work", "$argon2id$v=19$m=262144,t=16,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"64 MiB and 5 passes", "$argon2id$v=19$m=65536,t=5,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"},
	{"bcrypt cost 31", "$2b$31$" + openwallBcrypt2a[7:]},
	{"bcrypt cost 15", "$2a$15$" + openwallBcrypt2a[7:]},
	{"a 1 KiB key", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$" + strings.Repeat("A", 1366)},
}

func TestVerifyRefusesAbsurdParametersQuickly(t *testing.T) {
	for _, tt := range absurd {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			ok, rehash, err := password.Verify("password", tt.encoded)
			took := time.Since(start)
			if ok || rehash || err == nil {
				t.Fatalf("Verify = %v, %v, %v; want a refusal", ok, rehash, err)
			}
			if !errors.Is(err, password.ErrHashLimits) && !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("err = %v; want ErrHashLimits or ErrMalformedHash", err)
			}
			// No hashing was done: refusing takes microseconds. The bound
			// is loose for a loaded machine; one 4 TiB pass would not
			// finish, and bcrypt cost 31 takes days.
			if took > 100*time.Millisecond {
				t.Errorf("refusal took %v", took)
			}
		})
	}
}

func TestVerifyParsesStrictly(t *testing.T) {
	good := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	if _, err := fast.Inspect(good); err != nil {
		t.Fatalf("Inspect(%q) = %v", good, err)
	}
	bad := []struct{ name, encoded string }{
		{"a leading zero in a parameter", strings.Replace(good, "m=64", "m=064", 1)},
		{"a sign in a parameter", strings.Replace(good, "t=1", "t=+1", 1)},
		{"parameters out of order", strings.Replace(good, "m=64,t=1", "t=1,m=64", 1)},
		{"an extra parameter", strings.Replace(good, "p=1", "p=1,keyid=abc", 1)},
		{"zero passes", strings.Replace(good, "t=1", "t=0", 1)},
		{"zero lanes", strings.Replace(good, "p=1", "p=0", 1)},
		{"less than 8 KiB per lane", strings.Replace(good, "m=64,t=1,p=1", "m=15,t=1,p=2", 1)},
		{"an eleven-digit parameter", strings.Replace(good, "m=64", "m=00000000064", 1)},
		{"padded base64", strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1)},
		{"non-canonical trailing bits", strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHR", 1)},
		{"a salt shorter than 8 bytes", strings.Replace(good, "c29tZXNhbHQ", "c29tZQ", 1)},
		{"a key shorter than 16 bytes", strings.Replace(good, "GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "GpZ3sK/oH9p7VIiV", 1)},
		{"trailing data", good + "$x"},
		{"no key", good[:strings.LastIndexByte(good, '$')]},
		{"URL-safe base64", strings.Replace(good, "/", "_", 1)},
		{"an upper-case identifier", strings.Replace(good, "argon2id", "ARGON2ID", 1)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := fast.Inspect(tt.encoded); !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("Inspect(%q) = %v; want ErrMalformedHash", tt.encoded, err)
			}
		})
	}
}

func TestHash(t *testing.T) {
	h1, err := password.Hash("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q; want the default OWASP parameters", h1)
	}
	info, err := password.Inspect(h1)
	if err != nil {
		t.Fatal(err)
	}
	if info.Params != password.DefaultParams || info.String() != h1 {
		t.Errorf("Inspect round trip: %+v, %q", info.Params, info.String())
	}
	h2, _ := password.Hash("s3cret")
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if ok, rehash, err := password.Verify("s3cret", h1); !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	if _, err := password.Hash(""); !errors.Is(err, password.ErrEmptyPassword) {
		t.Errorf("Hash(\"\") = %v; want ErrEmptyPassword", err)
	}
	if _, err := password.Hash(strings.Repeat("x", password.DefaultMaxPasswordLength+1)); !errors.Is(err, password.ErrPasswordTooLong) {
		t.Errorf("Hash(too long) = %v; want ErrPasswordTooLong", err)
	}
	// Non-ASCII passwords are bytes like any other.
	u, _ := fast.Hash("pässwörd ✓")
	if ok, _, _ := fast.Verify("pässwörd ✓", u); !ok {
		t.Error("a UTF-8 password does not verify")
	}
	if ok, _, _ := fast.Verify("passwörd ✓", u); ok {
		t.Error("a different UTF-8 password verifies")
	}
}

func TestNeedsRehashForWeakerArgon2id(t *testing.T) {
	strong := password.MustNew(password.Options{Params: password.Params{Memory: 128, Time: 2}, DangerouslyAllowWeakParams: true})
	for _, tt := range []struct {
		name   string
		params password.Params
		rehash bool
	}{
		{"equal parameters", password.Params{Memory: 128, Time: 2}, false},
		{"stronger parameters", password.Params{Memory: 256, Time: 3}, false},
		{"less memory", password.Params{Memory: 64, Time: 2}, true},
		{"fewer passes", password.Params{Memory: 128, Time: 1}, true},
		{"a shorter key", password.Params{Memory: 128, Time: 2, KeyLength: 16}, true},
		{"a shorter salt", password.Params{Memory: 128, Time: 2, SaltLength: 8}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := password.MustNew(password.Options{Params: tt.params, DangerouslyAllowWeakParams: true})
			enc, err := h.Hash("pw")
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := strong.Verify("pw", enc)
			if !ok || err != nil || rehash != tt.rehash {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.rehash)
			}
			if ok, rehash, _ := strong.Verify("wrong", enc); ok || rehash {
				t.Errorf("a wrong password: ok=%v rehash=%v; want false, false", ok, rehash)
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts password.Options
		err  error
	}{
		{"the zero Options is valid", password.Options{}, nil},
		{"the strongest OWASP alternative is valid", password.Options{Params: password.Params{Memory: 47104, Time: 1}}, nil},
		{"RFC 9106's second recommendation is valid", password.Options{Params: password.Params{Memory: 65536, Time: 3, Threads: 4}}, nil},
		{"12 MiB with 2 passes is below OWASP", password.Options{Params: password.Params{Memory: 12288, Time: 2}}, password.ErrWeakParams},
		{"a 32 KiB hash is below OWASP", password.Options{Params: password.Params{Memory: 32, Time: 1}}, password.ErrWeakParams},
		{"an 8-byte salt is below the recommendation", password.Options{Params: password.Params{SaltLength: 8}}, password.ErrWeakParams},
		{"a key over 128 bytes is refused", password.Options{Params: password.Params{KeyLength: 129}}, password.ErrInvalidOptions},
		{"parameters above the verification limits are refused", password.Options{Params: password.Params{Memory: 65536}, MaxMemory: 32768}, password.ErrInvalidOptions},
		{"parameters above the work limit are refused", password.Options{Params: password.Params{Memory: 65536, Time: 4}, MaxWork: 128 * 1024}, password.ErrInvalidOptions},
		{"MaxBcryptCost above 31 is refused", password.Options{MaxBcryptCost: 32}, password.ErrInvalidOptions},
		{"weak parameters are allowed only dangerously", password.Options{Params: password.Params{Memory: 8, Time: 1}, DangerouslyAllowWeakParams: true}, nil},
		{"less than 8 KiB per lane is refused even dangerously", password.Options{Params: password.Params{Memory: 8, Time: 1, Threads: 2}, DangerouslyAllowWeakParams: true}, password.ErrInvalidOptions},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := password.New(tt.opts)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("New = %v; want %v", err, tt.err)
			}
		})
	}
}

func TestLimitsAreConfigurable(t *testing.T) {
	h := password.MustNew(password.Options{MaxBcryptCost: 4})
	if _, _, err := h.Verify("U*U", openwallBcrypt2a); !errors.Is(err, password.ErrHashLimits) {
		t.Errorf("cost 5 with MaxBcryptCost 4: %v; want ErrHashLimits", err)
	}
	h = password.MustNew(password.Options{MaxPasswordLength: 8})
	if _, _, err := h.Verify("123456789", phpBcrypt2y); !errors.Is(err, password.ErrPasswordTooLong) {
		t.Errorf("9 bytes with MaxPasswordLength 8: %v; want ErrPasswordTooLong", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	enc, err := fast.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			pw := "pw"
			if i%2 == 1 {
				pw = "wrong"
			}
			for range 20 {
				ok, _, err := fast.Verify(pw, enc)
				if err != nil || ok != (i%2 == 0) {
					t.Errorf("Verify(%q) = %v, %v", pw, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
