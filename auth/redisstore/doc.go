// Package redisstore keeps the state of auth's token endpoint and bearer
// middleware in Redis, so that several instances of a service share it:
// a [RefreshStore] for rotated, family-revocable refresh tokens, a
// [Denylist] of revoked access tokens, and a [ReplayCache] of the DPoP
// proofs already used.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	refresh, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb})
//	denylist, err := redisstore.NewDenylist(redisstore.Options{Client: rdb})
//	endpoint, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{RefreshStore: refresh, ...})
//	bearer, err := auth.NewJWT(auth.JWTOptions{Denylist: denylist, ...})
//	replay, err := redisstore.NewReplayCache(redisstore.Options{Client: rdb})
//	dpop, err := auth.NewJWT(auth.JWTOptions{DPoP: &auth.DPoPOptions{Replay: replay}, ...})
//
// # Data layout
//
// Keys start with Options.Prefix (default "httpguard:auth:"):
//
//   - prefix + "rt:" + hash: a hash per refresh token, stored under
//     [auth.HashRefreshToken] of the token, never the token itself, with
//     the family, client, subject, scopes, times, the fingerprint of the
//     user's password hash ([auth.RefreshToken].Credential) and a used
//     flag; once rotated, the new token's hash and, with
//     [auth.TokenEndpointOptions].RefreshRetryWindow, the rotation time and
//     the new token sealed under a key derived from this one (never
//     stored) and from the token endpoint's signing key. It expires with
//     the token.
//   - prefix + "rf:" + family: present while a family is revoked; it
//     expires with the family.
//   - prefix + "jti:" + jti: present while an access token is revoked; it
//     expires [auth.MaxLeeway] after the token, the longest an auth.JWT
//     accepts a token past its expiry. A jti longer than
//     [auth.MaxJTILength] comes as [auth.DenylistKey] of it.
//   - prefix + "replay:" + the first 16 bytes of the SHA-256 of a key, in
//     hex: present while a DPoP proof could still be used (its key's
//     thumbprint and jti make the key), until its end by the instance's
//     clock and by Redis's, whichever comes later. Recording it is one
//     script, so of two instances that receive the same proof one takes
//     it and the other sees a replay.
//
// A revocation, of a family or of a jti, is never shortened: revoking
// again keeps the later end. It lasts until its end by the clock of the
// instance that revoked and by Redis's, whichever comes later, so an
// instance whose clock runs ahead cannot end it before the tokens it
// revokes, whose keys expire by Redis's clock.
//
// A rotation stores the new token, then marks the old one used with a Lua
// script, so of two instances rotating the same refresh token at the same
// moment exactly one wins, and the other sees a reuse. The script records
// which rotation spent the token: when its reply is lost (a timeout, a
// dropped connection), the rotation runs it once more and learns whether
// it won, instead of answering 503 and leaving a spent token whose retry
// by the client would revoke the family. The rotation time and the sealed
// successor are written by the same script, so a token is never spent
// without them, nor with another rotation's.
//
// # Security considerations
//
// Anyone who can write to the Redis database can mint refresh tokens for
// any user or un-revoke tokens: protect it with authentication (ACLs),
// TLS on untrusted networks, and a database of its own. A leaked dump
// yields no usable refresh token, only hashes, and successors sealed under
// keys that only the rotated tokens and the token endpoint's signing key
// give together: rotated tokens leaked beside the dump open none.
//
// Errors from Redis are returned as they are; auth turns them into 503
// responses (fail closed), never into an accepted token. So is a Redis
// that stops answering, after [Options.Timeout].
//
// Give the Redis maxmemory-policy noeviction (Redis's default; some
// hosted services default to volatile-lru). Every key here has a time to
// live, so a volatile-* policy may evict any of them, as may an allkeys-*
// one: an evicted family or jti entry un-revokes its tokens. Whoever can
// fill the memory, for example with rate-limit keys from many networks
// in the same Redis, can then bring a revoked token back. Under
// noeviction a full Redis refuses writes, which auth answers with 503.
//
// A revocation lasts only as long as Redis keeps it. A Redis that
// restarts without persistence (no AOF or RDB snapshot) comes back
// empty: every revoked access token is accepted again until its expiry
// (refresh tokens are gone with their families, and fail). One that
// restarts from a snapshot older than a revocation, or a replica
// promoted by a failover before a revocation reached it (replication is
// asynchronous), forgets that revocation and every rotation since: a
// revoked family works again, and a refresh token rotated away (one a
// thief may hold) is unspent again, its reuse no longer detected. Turn
// on persistence (appendonly yes, appendfsync always where losing the
// last second of revocations matters), restart Redis rarely and on
// purpose, and after losing its data change the access tokens' signing
// key, which ends them all.
//
// # Redis Cluster
//
// Options.Client may be a cluster client and the prefix needs no hash
// tag: every command, transaction and script touches one key, declared
// in the script's KEYS, so the tokens and families spread over the slots.
// (Found in review: the rotation script touched keys of several slots and
// the lookup script a key it did not declare, so a cluster refused every
// refresh unless a hash tag in the prefix put all keys in one slot, which
// still works.)
package redisstore
