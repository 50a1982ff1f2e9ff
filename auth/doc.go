// Package auth authenticates requests: HTTP Basic with hashed passwords,
// API keys, and JWT bearer tokens, plus token issuing and an OAuth2 token
// endpoint. A successful authentication puts an [identity.Identity] in the
// request context, where rbac, ratelimit and errorsafe read it.
//
// Every authenticator follows the same shape: a constructor that validates
// its options and fails at start ([NewBasic], [NewAPIKey], [NewJWT]), a
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
//	if err := users.Add("alice", auth.User{Hash: hashFromConfig, Identity: identity.Options{Roles: []string{"admin"}}}); err != nil {
//		log.Fatal(err) // a hash password.Inspect refuses: alice could never sign in
//	}
//	basic, err := auth.NewBasic(auth.BasicOptions{Users: users, CacheTTL: time.Minute})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("GET /secure-data/{$}", basic.Handler(secureData))
//
// Missing, malformed (wrong scheme, bad base64, no colon, empty user-id,
// control characters, invalid UTF-8 or U+FFFD, several Authorization headers, a
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
// for unknown and known users, as Basic and the token endpoint's password
// grant do with their own Hasher.
//
// # Bearer tokens and the token endpoint
//
// [NewJWT] verifies JWT access tokens (RFC 7519, RFC 9068) sent as
// Authorization: Bearer (RFC 6750; the scheme in any case, the token in
// the b64token alphabet), optionally from a cookie, and from the query
// string only with [JWTOptions.DangerouslyAllowQueryToken]. It follows
// RFC 8725 on golang-jwt/jwt/v5: an explicit allowlist
// ([JWTOptions.Algorithms], required; "none" and a mix of HMAC and
// public-key algorithms are construction errors), each [Key] bound to the
// algorithms of its type (an HMAC secret never verifies RS256, a public key
// never verifies HS256), exp always required, iss, aud and typ checked
// when configured (aud must contain [JWTOptions.Audience] or one of
// [JWTOptions.Audiences], for a service known by several identifiers; an
// audience is required with a JWKS URL: an identity provider signs every
// application's tokens with the same keys), a typ naming another kind of
// JWT (logout+jwt, secevent+jwt, dpop+jwt) refused even when no type is
// configured (RFC 8725 §3.11), a leeway of at most
// [MaxLeeway], and [JWTOptions.MaxTokenBytes] checked before any
// decoding. The signature is checked with the standard library directly,
// accepting exactly what golang-jwt's signing methods accept (a fuzz test
// compares the two), and golang-jwt's jwt.Validator, built once at
// construction, checks the claims. The parsing in front of them is this
// package's own, strict and allocation-free, because jwt.Parser decodes
// the header into a map where a duplicate member silently wins: it refuses
// headers and claims with duplicate or escaped member names, invalid
// UTF-8 or an escaped lone UTF-16 surrogate (which encoding/json decodes
// to U+FFFD), non-canonical base64url, quoted dates, claims of the wrong type,
// and any crit header (no extension is understood). The fuzz tests check
// that every token it accepts, jwt.Parser accepts too. A kid only
// selects among configured keys or the keys of [JWTOptions.JWKSURL]; it
// never names a file, URL or query; jku, x5u, jwk and x5c are ignored.
// The JWKS is fetched over HTTPS with a timeout and a size limit,
// refreshed in the background, refetched at most once per
// [JWKSOptions.MinRefreshInterval] for an unknown kid (one fetch shared by
// concurrent requests), and never yields symmetric keys; a JWKS key
// without alg serves only the allowed algorithms of its type. A failed
// fetch keeps the last good set, for at most [JWKSOptions.MaxStale] (a
// day by default) after the last fetch that succeeded; a set without a
// usable key replaces it, so a key the provider withdraws stops
// verifying. [JWTOptions.JWKSURL]
// is the provider's jwks_uri itself: the OpenID discovery document that
// go-jwt-middleware's caching provider reads to find it is not fetched,
// so the one URL trusted at run time is the one configured. Static keys
// rotate while serving with [JWT.SetKeys].
//
// One JWT verifies the tokens of one issuer. [NewJWTSet] takes one JWT per
// issuer (a move to a new provider domain, one issuer per tenant, two
// providers during a migration) and hands each token to the verifier
// whose Issuer its iss names, read before the signature is checked and
// compared exactly; that verifier alone verifies it, with its own keys
// and checks, so one issuer's key never verifies a token naming another.
// A token whose iss names none of them is refused ([ErrTokenIssuer]).
//
// A missing token gets 401 with WWW-Authenticate: Bearer realm="api"; an
// invalid one 401 with error="invalid_token" and one generic description,
// whatever the reason; the reason ([ErrTokenExpired], [ErrTokenAudience],
// ... all wrapping [ErrInvalidToken]) goes to OnReject and the log. A JWKS
// or denylist that cannot answer gets 503 (fail closed). [RequireScopes]
// and [NewScopeCheck] answer 403 with error="insufficient_scope" and the
// required scope (RFC 6750 §3.1). The identity carries sub, the roles
// claim ([JWTOptions.RolesClaim], or nested as Keycloak's realm_access
// roles: [JWTOptions.RolesClaimPath]) and the scopes of scope, or else of scp
// (an array, or one space-separated string as Microsoft Entra ID issues
// it). Claims the package does not check (a tenant, an authorized party)
// are judged by [JWTOptions.ValidateClaims], whose refusal is answered as
// any invalid token. [JWT.Handler] admits only requests with a valid
// token; in a stack shared with sessions and public routes, [JWT.Optional]
// authenticates the requests that send a token, refuses a bad one, and
// passes the others on to the routes' guards. [APIKey.Optional] and
// [Basic.Optional] do the same for their credentials, so that a route can
// take a user's token or a service's key. A request that brings a second
// principal, a credential of another subject than the one an earlier
// layer (a session, another Optional) authenticated, is refused with 401
// ([ErrAmbiguousCredentials]) rather than run as either; a credential of
// the same subject runs with its own identity (a token's narrower
// scopes). A token bound to
// a key by a cnf claim (DPoP, mutual TLS) is no bearer token and is
// refused ([ErrTokenBound]) unless
// [JWTOptions.DangerouslyAcceptBoundTokens] says a gateway checks its
// proof. With [JWTOptions.DPoP] the middleware checks a DPoP key's proof
// itself (RFC 9449): a token bound by cnf.jkt comes in "Authorization:
// DPoP", with a fresh proof signed by that key for the request's method,
// URI and token, used once ([ReplayCache]: [MemoryReplayCache], or
// auth/redisstore's for several instances); [DPoPOptions.Required]
// refuses bearer tokens altogether, and [DPoPOptions.Nonces]
// ([HMACNonces], stateless and shared by a key) requires in each proof a
// nonce the server issued, so that proofs expire by its clock (RFC 9449
// §9): a proof without a current one is refused with use_dpop_nonce and
// a new nonce in DPoP-Nonce. [TokenEndpointOptions.DPoP] issues such
// tokens (RFC 9449 §5): a token request with a proof gets an access token
// bound to the proof's key, and a public client's refresh token is bound
// to it too, so that refreshing needs the key.
//
// [JWTOptions.CacheSize] keeps verified tokens, keyed by a keyed hash of
// the token and compared in full in constant time; a hit still checks
// expiry and the denylist, and entries die with the key set that verified
// them. [JWTOptions.Denylist] revokes access tokens by jti ([JWT.Revoke],
// [MemoryDenylist], auth/redisstore for several instances); a denylist
// keeps an entry [MaxLeeway] past the token's expiry, so that no verifier's
// leeway lets a revoked token back in.
//
// [Issuer] mints access tokens (sub, roles, scope, client_id, iss, aud,
// iat, nbf, exp, a random jti, typ at+jwt, kid), plus the application's
// own claims ([Grant].Claims, [TokenEndpointOptions.Claims]; none of
// [ReservedClaims], so that none can grant a scope or role), and serves
// its public keys as a JWKS ([Issuer.JWKSHandler]; HMAC secrets are never
// published).
// [TokenEndpoint] is the OAuth2 token endpoint of RFC 6749: POST and
// application/x-www-form-urlencoded only, each parameter at most once,
// client authentication by Basic or form (never both: a request with both
// is invalid_request, RFC 6749 §5.2; client secrets stored as password
// hashes), and the grants
//
//   - client_credentials (§4.4): for machine-to-machine calls where the
//     client acts on its own behalf. No refresh token. The token's
//     subject is "client:" and the client ID ([ClientSubjectPrefix]), so
//     it never equals a user's (RFC 9068 §5). The prefix is reserved at
//     the token endpoint only: where Basic, API keys or sessions also
//     authenticate, check the identity's Method as well as its Subject.
//   - password (§4.3): the user gives the password to the client. A
//     username that is not UTF-8 or has a control character or U+FFFD, which
//     Basic cannot carry either, is invalid_request, before the user
//     store and the attempt limiter see it. RFC 9700
//     (OAuth 2.0 Security Best Current Practice, §2.4) says this grant
//     MUST NOT be used, because it exposes the password to the client and
//     cannot carry multi-factor or federated login. Use it only for a
//     first-party client you control (your own app talking to your own
//     API) and migrate to the authorization code grant with PKCE
//     (RFC 7636), through a browser, for anything else: third-party
//     clients, single sign-on, multi-factor authentication. This package
//     has no authorization endpoint; pair an identity provider with
//     [NewJWT] and [JWTOptions.JWKSURL] for that.
//   - refresh_token (§6): refresh tokens are 256-bit random strings,
//     stored only as SHA-256 hashes in a [RefreshStore] (in memory by
//     default, auth/redisstore for several instances), bound to their
//     client, rotated on every use, and bounded by an idle lifetime and
//     a family lifetime. Presenting a rotated token again revokes the
//     whole family (RFC 9700 §4.14.2), unless
//     [TokenEndpointOptions.RefreshRetryWindow] (off by default, at most
//     two minutes) lets a client that lost a refresh response retry: the
//     rotated token then gets the same successor back while that is
//     unused, so a thief holding a copy of the rotated token within the
//     window gets the successor the client has, and a token's second use
//     is detected only after the window of its rotation (or after its
//     successor was rotated): while each use by one of them falls within
//     the window of the other's, both get the same tokens. The window is
//     by the clocks of the instances, which must agree well within it.
//     The user is looked up again on every refresh, so deleted users and
//     removed scopes take effect, and a family is bound to the user's
//     password hash: a password change, or an upgrade of the hash by
//     OnRehash, ends every refresh token issued before it at its next
//     use. Access tokens already issued live until they expire, unless
//     revoked (see [JWT.Revoke]). Refresh tokens issued by an earlier
//     version, without that binding, end at their first use.
//
// Granted scopes are the requested ones (all allowed ones when scope is
// omitted) and must lie within the client's scopes and, for a user, the
// user's own; anything else is invalid_scope. Successes carry
// Cache-Control: no-store; errors are RFC 6749 §5.2 JSON with constant
// descriptions (invalid_request, invalid_client with 401 and a Basic
// challenge, invalid_grant, unauthorized_client, unsupported_grant_type,
// invalid_scope). With [TokenEndpointOptions.Limiter], a refused password
// attempt is answered 429 with Retry-After and the body
// {"error":"slow_down"}: RFC 6749 defines no rate-limit error, slow_down
// is the registered token-endpoint code for "retry later, more slowly"
// (RFC 8628 §3.5), and clients that do not know it still see a standard
// 429. With [TokenEndpointOptions.IssueLimiter] (ratelimit's KeyLimiter
// implements [IssueLimiter]), every response that would issue tokens is
// counted per subject first (a password grant once the password
// verified, a refresh before its rotation, a retry within the window, a
// client's own tokens under "client:" and its ID), and one over the budget
// gets 429 slow_down too, with nothing issued or rotated: the refresh
// token presented still works after Retry-After. Unlike the lockout, that
// 429 follows the password's verification (a wrong password still gets
// invalid_grant), so it tells the sender the password was right, as a
// token would have. It bounds what one valid account, from however many
// addresses, can add to the refresh store and the denylist. A user
// store, or an issuance limiter's store, that cannot answer is 503
// temporarily_unavailable.
// Behind errorsafe's SafeErrors, which answers every 5xx with the generic
// problem, such a 503 (or a 500 server_error) keeps its status and
// Retry-After but loses the JSON error code; OAuth clients act on the
// status, and the 4xx errors above pass unchanged.
//
// [RevocationEndpoint] is the token revocation endpoint of RFC 7009 for
// a TokenEndpoint's clients, authenticated as there: a posted refresh
// token's family is revoked, and an access token's jti put on the
// denylist of [RevocationEndpointOptions.AccessTokens]. An unknown or
// invalid token is answered 200, as the RFC asks, and so is a token of
// another client, which is revoked too (see [RevocationEndpoint] for why
// that departs from the RFC).
//
// [ServerMetadata] publishes a TokenEndpoint's authorization server
// metadata (RFC 8414): its issuer, endpoints, grant types, client
// authentication methods, scopes and DPoP algorithms. [ResourceMetadata]
// publishes an API's protected resource metadata (RFC 9728): its
// authorization servers and scopes, how it takes tokens and whether it
// needs DPoP. With [JWTOptions.ResourceMetadata], every 401 names the
// latter's URL (resource_metadata), from which a client that knows only
// the API finds the server that issues its tokens.
//
// # Failed attempts
//
// [BasicOptions.Limiter] and [APIKeyOptions.Limiter], and the token
// endpoint's password grant, take an [AttemptLimiter] (ratelimit's
// implements it), keyed by user name or key ID and client address
// (resolved by the optional [clientip.Resolver]). Before every real
// password or key verification the authenticator reserves an attempt:
// the reservation is atomic and counts as a failure until a success clears
// the pair, so concurrent guesses cannot all slip past the limit while the
// hashes run. Paths that verify nothing (a cache hit, an empty password)
// only check. When the limiter refuses, the answer is 429 with
// Retry-After, for the right password too, until the lockout ends.
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
// upgraded them. The same holds for argon2id hashes made with parameters
// other than the hasher's current ones (the dummy uses the current ones):
// after raising the parameters, let OnRehash converge before relying on
// equal timing. After lowering them it never converges: a hash at least
// as strong as the new parameters in each of them is kept (an upgrade
// never lowers a hash), so its user answers slower than an unknown name
// until the password changes.
//
// A [UserStore] that matches names loosely (many SQL collations ignore
// case and trailing spaces) should return the canonical name as the
// identity's Subject: the attempt limiter counts a found user's failures
// under that Subject too, besides the name as typed, so "Alice", "alice "
// and "alice" share one budget.
// Without a Subject, failures are counted per name as typed. The
// trade-off: unknown names are still counted as typed, after the
// limiter's Username mapping, so someone who has spent a name's failure
// budget from one address can try a variant the store folds and the
// limiter does not (an accent, with a collation that ignores accents; the
// limiter's default folds case and trailing spaces): a refusal for too
// many attempts (429, or slow_down at the token endpoint) tells that the
// account exists, a plain rejection (401, or invalid_grant) that it does
// not. Set the limiter's Username mapping to the store's own folding to
// close that.
//
// An API key's ID is public (it is part of the key and may be logged), and
// the attempt limiter counts failures per key ID. Someone who knows an ID
// can therefore spend that key's per-key failure budget; the per-address
// limit still lets the owner in from their own network with ratelimit's
// AttemptLimiter, and a key under attack is better rotated than trusted.
//
// Password hashing is deliberately expensive, 19 MiB and tens of
// milliseconds per verification at the default parameters: a client
// sending wrong passwords in a loop costs the server that much each time.
// The Hasher runs at most MaxConcurrent computations at once (by default
// GOMAXPROCS, usually the number of cores, and at least 2), so a flood of
// attempts cannot take the memory, but it can still take the cores and
// make the right users wait: put an IP rate limiter in front of the
// authenticator and set Limiter. A verification still waiting for its turn
// when the request's context ends (the client hung up or timed out) is
// dropped, with a Hasher that implements [ContextVerifier] as
// [*password.Hasher] does, so that abandoned attempts do not queue up
// work for after their clients left; with one that implements
// [ContextHasher] too, so is the upgrade of an outdated hash that
// OnRehash stores after a successful login.
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
// without credentials. The recommended order is errorsafe, headers, https,
// cors, ratelimit by IP, csrf, session, auth, ratelimit by identity, rbac,
// handler.
//
// [RFC 7617]: https://www.rfc-editor.org/rfc/rfc7617
// [OWASP ASVS]: https://owasp.org/www-project-application-security-verification-standard/
package auth
