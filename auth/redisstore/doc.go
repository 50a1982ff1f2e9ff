// Package redisstore keeps the state of auth's token endpoint and bearer
// middleware in Redis, so that several instances of a service share it:
// a [RefreshStore] for rotated, family-revocable refresh tokens and a
// [Denylist] of revoked access tokens.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	refresh, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb})
//	denylist, err := redisstore.NewDenylist(redisstore.Options{Client: rdb})
//	endpoint, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{RefreshStore: refresh, ...})
//	bearer, err := auth.NewJWT(auth.JWTOptions{Denylist: denylist, ...})
//
// # Data layout
//
// Keys start with Options.Prefix (default "httpguard:auth:"):
//
//   - prefix + "rt:" + hash: a hash per refresh token, stored under
//     [auth.HashRefreshToken] of the token, never the token itself, with
//     the family, client, subject, scopes, times, the fingerprint of the
//     user's password hash ([auth.RefreshToken].Credential) and a used
//     flag. It expires with the token.
//   - prefix + "rf:" + family: present while a family is revoked; it
//     expires with the family.
//   - prefix + "jti:" + jti: present while an access token is revoked; it
//     expires with the token. A jti longer than [auth.MaxJTILength] comes
//     as [auth.DenylistKey] of it.
//
// Rotation runs as one Lua script, so of two instances rotating the same
// refresh token at the same moment exactly one wins, and the other sees a
// reuse.
//
// # Security considerations
//
// Anyone who can write to the Redis database can mint refresh tokens for
// any user or un-revoke tokens: protect it with authentication (ACLs),
// TLS on untrusted networks, and a database of its own. A leaked dump
// yields no usable refresh token, only hashes.
//
// Errors from Redis are returned as they are; auth turns them into 503
// responses (fail closed), never into an accepted token.
//
// With Redis Cluster, the rotation script touches a token key, the next
// token's key and the family key: put all of them in one slot with a hash
// tag in the prefix, such as "{httpguard-auth}:".
package redisstore
