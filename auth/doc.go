// Package auth authenticates requests: HTTP Basic with hashed passwords,
// API keys, and JWT bearer tokens, plus token issuing and an OAuth2 token
// endpoint. A successful authentication puts an [identity.Identity] in the
// request context.
//
// # Passwords
//
// Accounts live in a [UserStore]: a lookup by user name returning the
// stored hash and the identity a login produces. [MemoryUsers] is the
// in-memory store. Hashes come from [password.Hash] (argon2id); bcrypt
// hashes from other systems verify too and are upgraded through
// [BasicOptions.OnRehash]. [CheckPassword] verifies a name and password
// against a store with the same work for unknown and known users.
//
// # Bearer tokens and the token endpoint
//
// See NewJWT for bearer token verification and the token endpoint for
// issuing tokens.
//
// # Security considerations
//
// Rejections never reveal which of the user name or the password was
// wrong, and never reflect request data: the default response is a generic
// RFC 9457 problem. The reason, wrapping [ErrNoCredentials],
// [ErrMalformedCredentials], [ErrInvalidCredentials], [ErrUnavailable] or
// [ErrTooManyAttempts], is passed to OnReject and recorded for the access
// log.
package auth
