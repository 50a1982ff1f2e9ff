// Package password hashes passwords with argon2id and verifies argon2id and
// bcrypt hashes, in constant time, with bounded work, and tells the caller
// when a stored hash should be upgraded.
//
// # Hashing
//
// [Hash] returns an argon2id hash in the PHC string format,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with a 16-byte random salt and a 32-byte key. The parameters,
// [DefaultParams], are the first configuration of the OWASP Password
// Storage Cheat Sheet (19 MiB, 2 passes, 1 lane). A [Hasher] built with
// [New] may use stronger ones; [New] refuses weaker ones unless
// [Options.DangerouslyAllowWeakParams] is set (for tests only).
//
// # Verifying and upgrading
//
// [Verify] accepts argon2id PHC strings and bcrypt hashes ($2a$, $2b$,
// $2y$, as written by OpenBSD, PHP, Python, Apache htpasswd -B or
// golang.org/x/crypto/bcrypt). It compares the derived key with
// [crypto/subtle.ConstantTimeCompare] and returns needsRehash when the
// password verified against a bcrypt hash or an argon2id hash weaker than
// the Hasher's parameters: the caller then stores [Hash] of the password
// it just verified, and its users migrate as they log in.
//
//	ok, needsRehash, err := password.Verify(pw, stored)
//	if err != nil || !ok {
//		return errLoginFailed
//	}
//	if needsRehash {
//		if h, err := password.Hash(pw); err == nil {
//			saveHash(user, h)
//		}
//	}
//
// # Security considerations
//
// A stored hash is data, and data can be hostile: a PHC string with m=4 GiB
// or t=2³² would make one verification exhaust memory or run for hours,
// and a bcrypt cost of 31 takes days. Verify parses the hash strictly
// first and refuses, with [ErrHashLimits] and before any hashing,
// parameters beyond [Options.MaxMemory] (256 MiB), [Options.MaxTime] (16
// passes), [Options.MaxThreads] (16 lanes), [Options.MaxWork] (memory
// times passes: 256 MiB once, or 64 MiB four times) and
// [Options.MaxBcryptCost] (14). Malformed strings ([ErrMalformedHash]) and other algorithms
// ([ErrUnsupportedHash]) are refused the same way.
//
// bcrypt uses only the first 72 bytes of a password. Verifying a longer
// password against a bcrypt hash is refused with [ErrPasswordTooLong]
// instead of silently ignoring the tail, which would let "<72 bytes>X" and
// "<72 bytes>Y" both log in. Every password longer than
// [Options.MaxPasswordLength] (1024 bytes) is refused before hashing, so a
// megabyte password cannot be used to burn CPU.
//
// The time Verify takes depends on the stored hash's parameters, not on
// how much of the password matched. It does not depend on whether a user
// exists only if the caller verifies against a dummy hash for unknown
// users, as auth.CheckPassword and auth.Basic do.
//
// A Hasher is immutable and safe for concurrent use. Each argon2id
// computation allocates its memory cost (19 MiB by default) while it runs,
// so a Hasher runs at most [Options.MaxConcurrent] of them, bcrypt ones
// included, at once (by default GOMAXPROCS, usually the number of cores,
// and at least 2) and the next wait their turn: a thousand concurrent
// wrong passwords take 19 MiB per core, not 19 GiB. They still take the
// cores, so a server exposed to password guessing also wants a rate
// limiter and a verification cache such as auth.Basic's, which keep
// attackers from making the right users wait.
//
// [OWASP Password Storage Cheat Sheet]: https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
// [RFC 9106]: https://www.rfc-editor.org/rfc/rfc9106
// [PHC string format]: https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md
package password
