// Package redisstore is a session.Store on Redis, for services that run on
// more than one machine and must share sessions (and, with a
// session.CookieStore, the list of revoked sessions).
//
// It works with any redis/go-redis/v9 [redis.UniversalClient]: a
// standalone server ([redis.NewClient]), Sentinel
// ([redis.NewFailoverClient]) or Cluster ([redis.NewClusterClient]).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(redisstore.Options{Client: rdb})
//	if err != nil {
//		log.Fatal(err)
//	}
//	sessions, err := session.New(session.Options{Store: store})
//	if err != nil {
//		log.Fatal(err)
//	}
//	handler := sessions.Handler(mux)
//
// Each session is one Redis string under Prefix followed by the base64url
// SHA-256 of the session ID ([session.StorageKey]): the IDs clients hold
// never reach Redis, so a dump of Redis (a backup, a replica, a MONITOR
// session) holds no usable token. Every operation is atomic: Find is one
// GET, Delete (and Remove, the [session.Remover] that Renew uses) and
// Commit one small script each, Add (the [session.Adder] with which a
// session.CookieStore revokes) one SET NX, and keys expire in Redis at
// the session's idle or absolute deadline, whichever comes first, so no
// sweeper is needed. Each key is independent, so Cluster needs no hash
// tags. Redis 6.0 or later is required (KEEPTTL).
//
// Delete empties the key rather than removing it: the empty value marks the
// session as logged out until the key's own expiry or the Record's Expiry
// (one idle timeout after the logout), whichever is later, and Commit
// leaves such a key alone, so a request that loaded the session before the
// logout and saves it afterwards cannot revive it.
//
// # Security considerations
//
// Redis holds session data in the clear: protect it like the database
// (network isolation, AUTH or ACLs, TLS on untrusted networks). A Redis
// error is returned to the session middleware, which answers 503; it never
// degrades to an anonymous session. So is a Redis that stops answering,
// after [Options.Timeout].
//
// Give the Redis maxmemory-policy noeviction (Redis's default; some
// hosted services default to volatile-lru). Every key has a time to live,
// so a volatile-* policy may evict any of them, as may an allkeys-* one:
// an evicted logout (the empty value Delete leaves) lets a request in
// flight revive the session, and an evicted revocation of a
// session.CookieStore makes a logged-out cookie valid again. Whoever can
// fill the memory (new sessions, rate-limit keys from many networks in
// the same Redis) can force such evictions. Under noeviction a full Redis
// refuses writes, which the middleware answers with 503.
//
// A logout lasts only as long as Redis keeps it. A Redis that restarts
// without persistence (no AOF or RDB snapshot) comes back empty, which
// ends every session (a request in flight then saves nothing: the
// middleware's saves of a loaded session are updates, which Commit
// stores only over a live key); but as the Revocations of a
// session.CookieStore it forgets every revocation, and each logged-out
// or renewed cookie is valid again until its own expiry. One that
// restarts from a snapshot older than a logout, or a replica promoted by
// a failover before a logout reached it (replication is asynchronous),
// brings the session, or the cookie, back. Turn on persistence
// (appendonly yes) where logouts must hold, and restart Redis rarely and
// on purpose; after losing the revocations of a CookieStore, change its
// Keys, which ends every cookie.
//
// Send reads to the primary: leave ReadOnly, RouteByLatency and
// RouteRandomly unset in redis.ClusterOptions and redis.UniversalOptions,
// and ReplicaOnly and the routing options in redis.FailoverOptions. Find
// is a GET, which a client so configured sends to a replica, and a
// replica holds a logout, a renewal or a CookieStore's revocation only
// once replication has brought it there: until then, for as long as the
// replica lags or is cut off from its primary, the logged-out session is
// served, on every instance whose reads reach it.
package redisstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/internal/rediscall"
	"github.com/httpguard/httpguard/internal/redisttl"
	"github.com/httpguard/httpguard/session"
)

// DefaultPrefix is the default key prefix.
const DefaultPrefix = "httpguard:session:"

// DefaultTimeout bounds each call when [Options.Timeout] is zero.
const DefaultTimeout = time.Second

// ErrOption is wrapped by the errors of [New].
var ErrOption = errors.New("redisstore: invalid option")

// Options configures a [Store].
type Options struct {
	// Client is the Redis client. Required. The Store does not close it.
	Client redis.UniversalClient
	// Prefix is put before every key, to share a database with other
	// data or separate applications. Default: [DefaultPrefix].
	Prefix string
	// Timeout bounds each call, so that a Redis that stops answering
	// cannot hold requests: the Store stops waiting after Timeout, or as
	// soon as the request's context ends, and the middleware answers 503.
	// This holds whatever the client's options: go-redis itself applies a
	// deadline only with ContextTimeoutEnabled, and sees no cancellation
	// while it waits for a reply. A call given up on goes on until the
	// client's own timeouts (ReadTimeout, DialTimeout) end it, holding one
	// of its pooled connections meanwhile; whether a write given up on was
	// applied is unknown, as after any timeout. For this the Store runs
	// each call in a goroutine, unless the client is a *redis.Client,
	// *redis.ClusterClient or *redis.Ring with ContextTimeoutEnabled
	// (and neither ReadTimeout nor WriteTimeout -2, which sets no
	// deadline), which ends the call at Timeout itself (a request that
	// is cancelled then waits until Timeout): set it, it spares the
	// goroutine and its hand-offs on every request. Default:
	// [DefaultTimeout]. Must not be negative.
	Timeout time.Duration

	now func() time.Time
}

// Store is a [session.Store] on Redis. Create it with [New]. A Store is
// safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	direct  bool // the client applies a context's deadline itself
	now     func() time.Time
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Remover = (*Store)(nil)
)

// New returns a Store using opts.Client.
func New(opts Options) (*Store, error) {
	var errs []error
	if opts.Client == nil {
		errs = append(errs, errors.New("redisstore: Client is required"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("redisstore: Timeout must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(append([]error{ErrOption}, errs...)...)
	}
	s := &Store{client: opts.Client, prefix: opts.Prefix, timeout: opts.Timeout, direct: rediscall.AppliesDeadlines(opts.Client), now: opts.now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// key returns the Redis key of a session ID and whether the ID is well
// formed.
func (s *Store) key(id string) (string, bool) {
	sum, ok := session.StorageKey(id)
	if !ok {
		return "", false
	}
	buf := make([]byte, len(s.prefix)+base64.RawURLEncoding.EncodedLen(len(sum)))
	copy(buf, s.prefix)
	base64.RawURLEncoding.Encode(buf[len(s.prefix):], sum[:])
	return string(buf), true
}

// Each value is the expiry (8 bytes, big endian Unix nanoseconds)
// followed by the session data.
const header = 8

// Find implements [session.Store] with one GET. A record is found for as
// long as Redis keeps its key, by the one clock every instance shares;
// the session middleware judges its deadlines itself, and ends a session
// it finds expired by its own clock when asked to (found in review: a
// Find that judged by this instance's clock hid a record from a logout
// on an instance whose clock runs ahead, while a slower one kept
// accepting it).
func (s *Store) Find(ctx context.Context, token string) (session.Record, bool, error) {
	key, ok := s.key(token)
	if !ok {
		return session.Record{}, false, nil
	}
	b, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) ([]byte, error) {
		return s.client.Get(ctx, key).Bytes()
	})
	if errors.Is(err, redis.Nil) {
		return session.Record{}, false, nil
	}
	if err != nil {
		return session.Record{}, false, err
	}
	if len(b) < header {
		return session.Record{}, false, nil
	}
	exp := int64(binary.BigEndian.Uint64(b))
	return session.Record{ID: token, Data: b[header:], Expiry: time.Unix(0, exp)}, true, nil
}

var errBadID = errors.New("redisstore: malformed session ID")

// commitScript sets KEYS[1] to ARGV[1] for ARGV[2] milliseconds, or until
// ARGV[3] (Unix milliseconds) by Redis's clock if that is later, unless it
// holds the empty value Delete leaves: the session was logged out. With
// ARGV[4] "1" (an update, see session.Record) it also leaves a key that
// does not exist alone.
var commitScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and #v == 0 then return 0 end
if not v and ARGV[4] == '1' then return 0 end
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local ttl = tonumber(ARGV[3]) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if ttl < tonumber(ARGV[2]) then ttl = tonumber(ARGV[2]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1
`)

// Commit implements [session.Store] with one script: a SET ... PX,
// unless the session was deleted, or rec.Update is set and the key is
// gone (then nothing is stored and the token is empty), or a Delete when
// rec.Expiry has passed. It returns rec.ID as the token. The key lasts
// until rec.Expiry by this instance's clock and by Redis's, whichever is
// later (found in review: counted from the clock of an instance running
// ahead, it left Redis early, a logout then found nothing to mark, and a
// request in flight on another instance saved the session again after
// the logout).
func (s *Store) Commit(ctx context.Context, rec session.Record) (string, error) {
	key, ok := s.key(rec.ID)
	if !ok {
		return "", errBadID
	}
	ttl := rec.Expiry.Sub(s.now())
	if ttl < time.Millisecond {
		return rec.ID, s.del(ctx, key)
	}
	// Both ends rounded up to Redis's milliseconds: a CookieStore
	// revokes with Commit, and a revocation must not end early.
	end := redisttl.CeilUnixMilli(rec.Expiry)
	stored, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) (int, error) {
		update := 0
		if rec.Update {
			update = 1
		}
		return commitScript.Run(ctx, s.client, []string{key}, s.value(rec), redisttl.Ceil(ttl).Milliseconds(), end, update).Int()
	})
	if err != nil || stored == 0 {
		return "", err
	}
	return rec.ID, nil
}

var _ session.Adder = (*Store)(nil)

// Add implements [session.Adder] with one SET ... NX PX: it stores rec
// only if the key does not exist (a deleted session's empty value holds
// the key until it expires). A session.CookieStore revokes IDs with it.
func (s *Store) Add(ctx context.Context, rec session.Record) (bool, error) {
	key, ok := s.key(rec.ID)
	if !ok {
		return false, errBadID
	}
	ttl := rec.Expiry.Sub(s.now())
	if ttl < time.Millisecond {
		return false, nil
	}
	_, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.SetArgs(ctx, key, s.value(rec), redis.SetArgs{Mode: "NX", TTL: redisttl.Ceil(ttl)}).Err()
	})
	if errors.Is(err, redis.Nil) { // the key exists
		return false, nil
	}
	return err == nil, err
}

// value encodes rec as a key's value.
func (s *Store) value(rec session.Record) []byte {
	v := make([]byte, header+len(rec.Data))
	binary.BigEndian.PutUint64(v, uint64(rec.Expiry.UnixNano()))
	copy(v[header:], rec.Data)
	return v
}

// deleteScript empties KEYS[1] if it exists, keeping its expiry unless
// ARGV[1] milliseconds is longer: the empty value then stays until
// rec.Expiry. It returns the first bytes of the old value, the expiry of
// a live record ("" for a deleted one), or nil when there was no key.
var deleteScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return false end
local head = redis.call('GETRANGE', KEYS[1], 0, 7)
local want = tonumber(ARGV[1])
if want > 0 and want > ttl then
  redis.call('SET', KEYS[1], '', 'PX', want)
else
  redis.call('SET', KEYS[1], '', 'KEEPTTL')
end
return head
`)

// Delete implements [session.Store] with one script: the data is gone at
// once, and the empty value left in its place keeps a later Commit of the
// same ID from reviving the session until the key expires: at rec.Expiry
// (one idle timeout after the deletion) when that is later than the key's
// own expiry.
func (s *Store) Delete(ctx context.Context, rec session.Record) error {
	_, err := s.Remove(ctx, rec)
	return err
}

// Remove implements [session.Remover]: it is Delete, in the same script,
// reporting whether the record was live (found by Find) until then.
func (s *Store) Remove(ctx context.Context, rec session.Record) (found bool, err error) {
	key, ok := s.key(rec.ID)
	if !ok {
		return false, nil
	}
	var keep int64 // milliseconds the deletion must hold; 0: the key's own expiry
	if ttl := rec.Expiry.Sub(s.now()); !rec.Expiry.IsZero() && ttl >= time.Millisecond {
		keep = redisttl.Ceil(ttl).Milliseconds()
	}
	head, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) (string, error) {
		return deleteScript.Run(ctx, s.client, []string{key}, keep).Text()
	})
	if errors.Is(err, redis.Nil) { // no such key
		return false, nil
	}
	if err != nil || len(head) < header {
		return false, err
	}
	return int64(binary.BigEndian.Uint64([]byte(head))) > s.now().UnixNano(), nil
}

func (s *Store) del(ctx context.Context, key string) error {
	_, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.SetArgs(ctx, key, "", redis.SetArgs{Mode: "XX", KeepTTL: true}).Err()
	})
	if errors.Is(err, redis.Nil) { // no such key
		return nil
	}
	return err
}
