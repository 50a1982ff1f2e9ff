package password_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/httpguard/httpguard/auth/password"
)

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := password.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	enc, _ := password.Hash("correct horse battery staple")
	bc, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), bcrypt.DefaultCost)
	for _, bm := range []struct{ name, encoded, pw string }{
		{"alg=argon2id-default/pw=right", enc, "correct horse battery staple"},
		{"alg=argon2id-default/pw=wrong", enc, "correct horse battery stapler"},
		{"alg=bcrypt-10/pw=right", string(bc), "correct horse battery staple"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = password.Verify(bm.pw, bm.encoded)
			}
		})
	}
}

// BenchmarkVerifyRefused measures the cost of refusing hostile input: the
// work must be parsing only.
func BenchmarkVerifyRefused(b *testing.B) {
	for _, bm := range []struct{ name, encoded, pw string }{
		{"input=absurd-memory", absurd[0].encoded, "password"},
		{"input=bcrypt-cost-31", absurd[4].encoded, "password"},
		{"input=1MiB-password", phpBcrypt2y, strings.Repeat("x", 1<<20)},
		{"input=huge-hash", strings.Repeat("$argon2id", 1<<14), "password"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, _, err := password.Verify(bm.pw, bm.encoded); ok || err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
