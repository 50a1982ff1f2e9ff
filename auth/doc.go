// Package auth authenticates requests: HTTP Basic with hashed passwords,
// API keys, and JWT bearer tokens, plus token issuing and an OAuth2 token
// endpoint. A successful authentication puts an [identity.Identity] in the
// request context, where rbac, ratelimit and errorsafe read it.
//
// Every authenticator follows the same shape: a constructor that validates
// its options and fails at start ([NewBasic], [NewAPIKey], NewJWT), a
// Handler method that wraps the next handler, Authenticate and Check for
// use outside a middleware, and an OnReject option for the rejection.
//
// # HTTP Basic
//
// [Basic] implements RFC 7617. Accounts come from a [UserStore], a lookup
// by user name returning the stored password hash and the identity a login
// produces; [MemoryUsers] keeps them in memory.
//
//	users := auth.NewMemoryUsers()
//	_ = users.Add("alice", auth.User{Hash: hashFromConfig, Identity: identity.Options{Roles: []string{"admin"}}})
//	basic, err := auth.NewBasic(auth.BasicOptions{Users: users, CacheTTL: time.Minute})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("GET /secure-data/", basic.Handler(secureData))
//
// Missing, malformed (wrong scheme, bad base64, no colon, empty user-id,
// control characters, invalid UTF-8, several Authorization headers, a
// header over [MaxBasicHeaderLength]) and wrong credentials all get 401
// with WWW-Authenticate: Basic realm="…", charset="UTF-8", never a 400 or a
// 500. A store that cannot answer gets 503. [ParseBasic] is the parser.
//
// # API keys
//
// [GenerateAPIKey] makes keys of the form prefix_id_secret: a visible
// prefix ("live", "test") that people and secret scanners recognise, an
// 80-bit public ID and a 256-bit secret. Hand the key to its owner once and
// store only its ID and hash ([StoredAPIKey], [MemoryAPIKeys]). [APIKey]
// reads the key from X-API-Key (or another header, or Authorization with a
// scheme), checks its layout without a lookup, finds it by ID and compares
// the SHA-256 of the presented key with the stored one in constant time.
// The identity carries the key's scopes; keys can expire and be revoked.
//
// # Passwords
//
// Hashes come from [password.Hash]: argon2id in the PHC string format at
// the OWASP parameters. bcrypt hashes imported from other systems verify
// too, and [BasicOptions.OnRehash] replaces them (and argon2id hashes
// weaker than the current parameters) as users log in. [CheckPassword]
// verifies a user name and password against a store with the same work
// for unknown and known users; the token endpoint's password grant uses it.
//
// # Bearer tokens and the token endpoint
//
// NewJWT verifies bearer tokens and the token endpoint issues them.
//
// # Failed attempts
//
// [BasicOptions.Limiter] and [APIKeyOptions.Limiter] take an
// [AttemptLimiter] (ratelimit's implements it) consulted before any
// password work, by user name or key ID and client address (resolved by
// the optional [clientip.Resolver]). When it refuses, the answer is 429
// with Retry-After; failures are recorded and a success clears them.
//
// # Security considerations
//
// Basic sends the password with every request: serve it over HTTPS only.
// Browsers cache Basic credentials for the session and have no logout.
//
// Unknown users are verified against a dummy hash made at construction by
// the same hasher, so that the response time does not tell which user
// names exist (the timing oracle of GHSA-38rc-2jxj-2h75 and many Basic
// middlewares). Stored hashes refused before any work (malformed, beyond
// the limits) and passwords too long for bcrypt also pay the dummy
// verification. The work is equal per hashing algorithm: a store mixing
// bcrypt and argon2id hashes shows the difference until OnRehash has
// upgraded them.
//
// Password hashing is deliberately expensive, 19 MiB and tens of
// milliseconds per verification at the default parameters: a client
// sending wrong passwords in a loop costs the server that much each time.
// Put an IP rate limiter in front of the authenticator and set Limiter.
//
// The verification cache ([BasicOptions.CacheTTL]) keeps, for each
// successful (user name, password) pair, an HMAC-SHA-256 under a random
// per-process key and the stored hash that verified. Only successes are
// cached; a hit still consults the store and counts only while it returns
// the same hash, so password changes and deleted users take effect at
// once. The trade-off: while an entry lives, a copy of the process memory
// (core dump, swap) exposes a fast hash of that password to offline
// guessing. Leave the cache off where that matters more than CPU.
//
// API keys are random with 256 bits of entropy, so a fast hash is enough
// to store them: there is nothing to guess. The key ID is not secret and
// may be logged; the key itself must never be.
//
// Rejections never reveal which of the user name or the password was
// wrong, and never reflect request data: the default response is a generic
// RFC 9457 problem. The reason, wrapping [ErrNoCredentials],
// [ErrMalformedCredentials], [ErrInvalidCredentials], [ErrUnavailable] or
// [ErrTooManyAttempts] and sometimes a more precise cause, is passed to
// OnReject and recorded (see internal/problem) for the access log.
//
// Put CORS outside the authenticators: browsers send preflight requests
// without credentials. The recommended order is errorsafe, https, headers,
// cors, ratelimit by IP, csrf, session, auth, ratelimit by identity, rbac,
// handler.
//
// [RFC 7617]: https://www.rfc-editor.org/rfc/rfc7617
// [OWASP ASVS]: https://owasp.org/www-project-application-security-verification-standard/
package auth
