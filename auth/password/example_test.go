package password_test

import (
	"fmt"
	"strings"

	"github.com/httpguard/httpguard/auth/password"
)

func Example() {
	stored, err := password.Hash("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$"))

	ok, needsRehash, err := password.Verify("correct horse battery staple", stored)
	fmt.Println(ok, needsRehash, err)

	ok, _, _ = password.Verify("Tr0ub4dor&3", stored)
	fmt.Println(ok)
	// Output:
	// true
	// true false <nil>
	// false
}

// A bcrypt hash imported from another system verifies and asks to be
// replaced by an argon2id hash of the same password.
func ExampleVerify_bcryptMigration() {
	const fromPHP = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	ok, needsRehash, err := password.Verify("rasmuslerdorf", fromPHP)
	fmt.Println(ok, needsRehash, err)
	if ok && needsRehash {
		upgraded, _ := password.Hash("rasmuslerdorf")
		fmt.Println(strings.HasPrefix(upgraded, "$argon2id$"))
	}
	// Output:
	// true true <nil>
	// true
}

// A stored hash with hostile parameters is refused before any work.
func ExampleInspect() {
	_, err := password.Inspect("$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo")
	fmt.Println(err)
	info, _ := password.Inspect("$2b$12$" + strings.Repeat("a", 53))
	fmt.Println(info.Algorithm, info.BcryptVersion, info.BcryptCost)
	// Output:
	// password: hash parameters exceed limits: argon2id m=4294967295 t=1 p=1
	// bcrypt 2b 12
}
