package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/internal/rediscall"
	"github.com/httpguard/httpguard/internal/redisttl"
)

// DefaultPrefix is the default Options.Prefix.
const DefaultPrefix = "httpguard:auth:"

// DefaultTimeout is the default Options.Timeout.
const DefaultTimeout = time.Second

// Options configures [NewRefreshStore], [NewDenylist] and
// [NewReplayCache].
type Options struct {
	// Client is the Redis client. Required.
	Client redis.UniversalClient
	// Prefix starts every key. Default [DefaultPrefix].
	Prefix string
	// Timeout bounds each call to Redis (an operation may make several),
	// so that a Redis that stops answering cannot hold requests: the store
	// stops waiting after Timeout, or as soon as the request's context
	// ends, and returns an error (the middleware answers 503). This holds
	// whatever the client's options: go-redis itself applies a deadline
	// only with ContextTimeoutEnabled, and sees no cancellation while it
	// waits for a reply. A call given up on goes on until the client's own
	// timeouts (ReadTimeout, DialTimeout) end it, holding one of its
	// pooled connections meanwhile; whether a write given up on was
	// applied is unknown, as after any timeout. For this the store runs
	// each call in a goroutine, unless the client is a *redis.Client,
	// *redis.ClusterClient or *redis.Ring with ContextTimeoutEnabled
	// (and neither ReadTimeout nor WriteTimeout -2, which sets no
	// deadline), which ends the call at Timeout itself (a request that
	// is cancelled then waits until Timeout): set it, it spares the
	// goroutine and its hand-offs on every request. Default:
	// [DefaultTimeout]. Must not be negative.
	Timeout time.Duration
}

func (o *Options) check(what string) error {
	var errs []error
	if o.Client == nil {
		errs = append(errs, errors.New("redisstore: "+what+": Options.Client is required"))
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if len(o.Prefix) > 128 {
		errs = append(errs, errors.New("redisstore: "+what+": Options.Prefix is longer than 128 bytes"))
	}
	switch {
	case o.Timeout < 0:
		errs = append(errs, errors.New("redisstore: "+what+": Options.Timeout must not be negative"))
	case o.Timeout == 0:
		o.Timeout = DefaultTimeout
	}
	return errors.Join(errs...)
}

// RefreshStore is an [auth.RefreshStore] in Redis. It is safe for
// concurrent use by any number of instances.
type RefreshStore struct {
	conn
	token  string // prefix + "rt:"
	family string // prefix + "rf:"
}

// conn is what every store of this package holds: the client, the bound
// on each call, and a clock.
type conn struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	direct  bool // the client applies a context's deadline itself
	now     func() time.Time
}

// newConn returns the conn of o, which check has completed.
func newConn(o Options) conn {
	return conn{rdb: o.Client, timeout: o.Timeout, direct: rediscall.AppliesDeadlines(o.Client), now: time.Now}
}

var _ auth.RetryableRefreshStore = (*RefreshStore)(nil)

// NewRefreshStore returns a refresh-token store using o.Client.
func NewRefreshStore(o Options) (*RefreshStore, error) {
	if err := o.check("NewRefreshStore"); err != nil {
		return nil, err
	}
	return &RefreshStore{conn: newConn(o), token: o.Prefix + "rt:", family: o.Prefix + "rf:"}, nil
}

// errBadRecord is returned for a stored record that cannot be parsed.
var errBadRecord = errors.New("redisstore: malformed refresh token record")

// atLeastMS rounds a TTL up to Redis' millisecond resolution, and to at
// least one millisecond, so that a revocation never ends before its end.
func atLeastMS(d time.Duration) time.Duration {
	return max(redisttl.Ceil(d), time.Millisecond)
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func fields(t auth.RefreshToken) []any {
	return []any{
		"family", t.Family, "client", t.ClientID, "sub", t.Subject,
		"scopes", strings.Join(t.Scopes, " "), "auth", ms(t.AuthTime),
		"exp", ms(t.ExpiresAt), "fexp", ms(t.FamilyExpiresAt), "cred", t.Credential, "jkt", t.JKT, "used", "0",
	}
}

// Create implements [auth.RefreshStore].
func (s *RefreshStore) Create(ctx context.Context, hash string, t auth.RefreshToken) error {
	if t.Family == "" || !t.ExpiresAt.After(s.now()) {
		return errors.New("redisstore: a refresh token needs a family and a future expiry")
	}
	return s.write(ctx, s.token+hash, t)
}

// write stores t under key, expiring with the token. Both commands touch
// key alone, so the transaction suits Redis Cluster.
func (s *RefreshStore) write(ctx context.Context, key string, t auth.RefreshToken) error {
	_, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) ([]redis.Cmder, error) {
		return s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, fields(t)...)
			p.PExpireAt(ctx, key, t.ExpiresAt)
			return nil
		})
	})
	return err
}

// Lookup implements [auth.RefreshStore]. It reads the token, then whether
// its family is revoked: two commands, because in Redis Cluster the two
// keys are in different slots and a script may touch only keys of one
// slot, declared in advance (found in review: the script that read both
// failed on a cluster). The family's key is known only once the token is
// read, and a revocation never ends early, so the two reads need not be
// atomic.
func (s *RefreshStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	rec, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) (map[string]string, error) {
		return s.rdb.HGetAll(ctx, s.token+hash).Result()
	})
	if err != nil {
		return auth.RefreshToken{}, false, err
	}
	if len(rec) == 0 {
		return auth.RefreshToken{}, false, nil
	}
	t, err := parseRecord(rec)
	if err != nil {
		return auth.RefreshToken{}, false, err
	}
	if !t.ExpiresAt.After(s.now()) {
		return auth.RefreshToken{}, false, nil
	}
	n, err := exists(ctx, s.rdb, s.timeout, s.direct, s.family+t.Family)
	if err != nil {
		return auth.RefreshToken{}, false, err
	}
	t.Revoked = n == 1
	return t, true, nil
}

// parseRecord decodes the fields of a stored token.
func parseRecord(rec map[string]string) (auth.RefreshToken, error) {
	var t auth.RefreshToken
	for k, v := range rec {
		switch k {
		case "family":
			t.Family = v
		case "client":
			t.ClientID = v
		case "sub":
			t.Subject = v
		case "scopes":
			t.Scopes = strings.Fields(v)
		case "cred":
			t.Credential = v
		case "jkt":
			t.JKT = v
		case "auth", "exp", "fexp":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return auth.RefreshToken{}, errBadRecord
			}
			switch k {
			case "auth":
				t.AuthTime = time.UnixMilli(n)
			case "exp":
				t.ExpiresAt = time.UnixMilli(n)
			default:
				t.FamilyExpiresAt = time.UnixMilli(n)
			}
		case "used":
			t.Used = v == "1"
		case "rotated":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return auth.RefreshToken{}, errBadRecord
			}
			t.RotatedAt = time.UnixMilli(n)
		case "successor":
			t.Successor = []byte(v)
		}
	}
	if t.Family == "" {
		return auth.RefreshToken{}, errBadRecord
	}
	return t, nil
}

// markUsedScript marks the token KEYS[1] used by the rotation to ARGV[1],
// the new token's hash, unless it is missing (0) or already used by
// another rotation (2). Of two concurrent rotations of one token, exactly
// one gets 1. The same rotation run again gets 1 again: Rotate runs it a
// second time when the first reply was lost. With ARGV[2] (Unix
// milliseconds) and ARGV[3] (RotateRetryable), the rotation also keeps
// its time and sealed successor with the token, in the same step; a run
// that gets 2, or a second run, changes nothing.
var markUsedScript = redis.NewScript(`
local used = redis.call('HGET', KEYS[1], 'used')
if not used then return 0 end
if used == '1' then
  if redis.call('HGET', KEYS[1], 'next') == ARGV[1] then return 1 end
  return 2
end
if ARGV[3] then
  redis.call('HMSET', KEYS[1], 'used', '1', 'next', ARGV[1], 'rotated', ARGV[2], 'successor', ARGV[3])
else
  redis.call('HMSET', KEYS[1], 'used', '1', 'next', ARGV[1])
end
return 1
`)

// markUsedRetryTimeout is the deadline of the second run of
// markUsedScript (Options.Timeout when that is longer), which does not
// use the request's context: that may be what ended the first.
const markUsedRetryTimeout = 2 * time.Second

// Rotate implements [auth.RefreshStore]. The old token, the new one and
// the family are three keys in three slots of a Redis Cluster, so the
// rotation takes several commands (found in review: one script over all
// of them failed on a cluster):
//
//  1. read the old token's family, and refuse a used token or a revoked
//     family;
//  2. store the new token in that family;
//  3. mark the old token used with one script over its key alone, which
//     decides between concurrent rotations; a loser deletes the token it
//     stored in step 2.
//
// The new token is stored before the old one is spent, so a failure in
// between leaves the old token usable rather than a client whose retry
// looks like a reuse. When the script's reply is lost (a timeout, a
// dropped connection), whether it ran is unknown: it is run once more,
// and since it records which rotation spent the token, the second run
// says whether this one did. Without that, a script that ran but whose
// reply was lost answered the client 503, and the client's retry with the
// old token, now spent, revoked its whole family. A family revoked during
// the rotation still ends the new token: Lookup reports its family
// revoked.
func (s *RefreshStore) Rotate(ctx context.Context, oldHash, newHash string, next auth.RefreshToken) error {
	return s.rotate(ctx, oldHash, newHash, next, newHash)
}

// RotateRetryable implements [auth.RetryableRefreshStore]: it is Rotate,
// whose script, on the old token's key alone, also keeps the rotation
// time and the sealed successor there, until the old token expires. A
// second run of the script, when the first reply was lost, finds them
// already kept by this rotation and changes nothing.
func (s *RefreshStore) RotateRetryable(ctx context.Context, oldHash, newHash string, next auth.RefreshToken, rotatedAt time.Time, sealed []byte) error {
	if len(sealed) == 0 {
		return errors.New("redisstore: RotateRetryable needs a sealed successor")
	}
	return s.rotate(ctx, oldHash, newHash, next, newHash, ms(rotatedAt), sealed)
}

// rotate is Rotate, with args the arguments of markUsedScript.
func (s *RefreshStore) rotate(ctx context.Context, oldHash, newHash string, next auth.RefreshToken, args ...any) error {
	oldKey, newKey := s.token+oldHash, s.token+newHash
	vals, err := rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) ([]any, error) {
		return s.rdb.HMGet(ctx, oldKey, "family", "used").Result()
	})
	if err != nil {
		return err
	}
	family, _ := vals[0].(string)
	if family == "" {
		return auth.ErrRefreshTokenNotFound
	}
	if used, _ := vals[1].(string); used == "1" {
		return auth.ErrRefreshTokenReused
	}
	revoked, err := exists(ctx, s.rdb, s.timeout, s.direct, s.family+family)
	if err != nil {
		return err
	}
	if revoked == 1 {
		return auth.ErrRefreshTokenReused
	}
	next.Family = family // the family comes from the old token
	if err := s.write(ctx, newKey, next); err != nil {
		return err
	}
	markUsed := func(ctx context.Context) (int, error) {
		return markUsedScript.Run(ctx, s.rdb, []string{oldKey}, args...).Int()
	}
	n, err := rediscall.RunWith(ctx, s.timeout, s.direct, markUsed)
	if err != nil {
		n, err = rediscall.RunWith(context.WithoutCancel(ctx), max(s.timeout, markUsedRetryTimeout), s.direct, markUsed)
		if err != nil {
			return err // whether the old token was spent is unknown: keep the new one
		}
	}
	if n == 1 {
		return nil
	}
	// Lost the race: nobody holds this token.
	_, _ = rediscall.RunWith(ctx, s.timeout, s.direct, func(ctx context.Context) (int64, error) {
		return s.rdb.Del(ctx, newKey).Result()
	})
	if n == 2 {
		return auth.ErrRefreshTokenReused
	}
	return auth.ErrRefreshTokenNotFound
}

// RevokeFamily implements [auth.RefreshStore]. Revoking a family again
// keeps the later end, as [auth.MemoryRefreshStore] does.
func (s *RefreshStore) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if family == "" {
		return errors.New("redisstore: empty family")
	}
	if now := s.now(); !until.After(now) {
		until = now.Add(auth.DefaultRefreshTokenMaxLifetime)
	}
	return setUntil(ctx, s.rdb, s.timeout, s.direct, s.family+family, until, s.now())
}

// setUntilScript sets KEYS[1] to expire in ARGV[2] milliseconds, or at
// ARGV[1] (Unix milliseconds) by Redis's clock if that is later, unless it
// already lives longer, so that of two revocations the later end wins (a
// plain SET would shorten it). A key without expiry is left alone. PTTL,
// TIME and SET PX are in every Redis version this package supports; SET
// with PEXPIREAT GT would need Redis 7.
var setUntilScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local want = tonumber(ARGV[1]) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if want < tonumber(ARGV[2]) then want = tonumber(ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 or ttl >= want then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', want)
return 1
`)

// setUntil makes key exist until at least until, which is after now, by
// this instance's clock and by Redis's: a refresh token's key expires by
// Redis's clock (PEXPIREAT), and a time to live counted from a clock that
// runs ahead of it ended a revocation early (found in review: the
// family's last tokens, and a revoked access token, were accepted again
// on the other instances for as long as the revoking instance's clock
// was ahead).
func setUntil(ctx context.Context, rdb redis.UniversalClient, timeout time.Duration, direct bool, key string, until, now time.Time) error {
	ttl := atLeastMS(until.Sub(now))
	end := redisttl.CeilUnixMilli(until) // rounded up, as ttl is
	_, err := rediscall.RunWith(ctx, timeout, direct, func(ctx context.Context) (any, error) {
		return setUntilScript.Run(ctx, rdb, []string{key}, end, ttl.Milliseconds()).Result()
	})
	return err
}

// exists reports whether key exists.
func exists(ctx context.Context, rdb redis.UniversalClient, timeout time.Duration, direct bool, key string) (int64, error) {
	return rediscall.RunWith(ctx, timeout, direct, func(ctx context.Context) (int64, error) {
		return rdb.Exists(ctx, key).Result()
	})
}

// Denylist is an [auth.Denylist] in Redis. It is safe for concurrent use
// by any number of instances.
type Denylist struct {
	conn
	prefix string // prefix + "jti:"
}

var _ auth.Denylist = (*Denylist)(nil)

// NewDenylist returns a denylist using o.Client.
func NewDenylist(o Options) (*Denylist, error) {
	if err := o.check("NewDenylist"); err != nil {
		return nil, err
	}
	return &Denylist{conn: newConn(o), prefix: o.Prefix + "jti:"}, nil
}

// Revoke implements [auth.Denylist]: the entry lasts until until plus
// [auth.MaxLeeway], and revoking a jti again keeps the later end (found
// in review: a second, earlier until shortened the entry).
func (d *Denylist) Revoke(ctx context.Context, jti string, until time.Time) error {
	if jti == "" || len(jti) > auth.MaxJTILength {
		return auth.ErrInvalidJTI
	}
	until = until.Add(auth.MaxLeeway) // the longest any auth.JWT accepts past exp
	now := d.now()
	if !until.After(now) {
		return nil // expired beyond any leeway: nothing to deny
	}
	return setUntil(ctx, d.rdb, d.timeout, d.direct, d.prefix+jti, until, now)
}

// IsRevoked implements [auth.Denylist].
func (d *Denylist) IsRevoked(ctx context.Context, jti string) (bool, error) {
	if jti == "" || len(jti) > auth.MaxJTILength {
		return false, auth.ErrInvalidJTI
	}
	n, err := exists(ctx, d.rdb, d.timeout, d.direct, d.prefix+jti)
	return n == 1, err
}

// ReplayCache is an [auth.ReplayCache] in Redis, shared by every instance
// of a service, so that a DPoP proof used on one instance is a replay on
// all of them (auth.DPoPOptions.Replay). Keys are stored as the first 16
// bytes of their SHA-256 in hex. It is safe for concurrent use by any
// number of instances.
type ReplayCache struct {
	conn
	prefix string // prefix + "replay:"
}

var _ auth.ReplayCache = (*ReplayCache)(nil)

// NewReplayCache returns a replay cache using o.Client.
func NewReplayCache(o Options) (*ReplayCache, error) {
	if err := o.check("NewReplayCache"); err != nil {
		return nil, err
	}
	return &ReplayCache{conn: newConn(o), prefix: o.Prefix + "replay:"}, nil
}

// useScript records KEYS[1] unless it exists (a replay: 1), until the
// Unix millisecond ARGV[1] by Redis's clock and for at least ARGV[2]
// milliseconds, as setUntilScript does, in one atomic step.
var useScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local want = tonumber(ARGV[1]) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if want < tonumber(ARGV[2]) then want = tonumber(ARGV[2]) end
redis.call('SET', KEYS[1], '1', 'PX', want)
return 0
`)

// Use implements [auth.ReplayCache]: the key lasts until until by this
// instance's clock and by Redis's, whichever is later, so that an
// instance whose clock runs ahead does not end it early for the others.
func (c *ReplayCache) Use(ctx context.Context, key string, until time.Time) (bool, error) {
	h := sha256.Sum256([]byte(key))
	k := c.prefix + hex.EncodeToString(h[:16])
	ttl := atLeastMS(until.Sub(c.now()))
	end := redisttl.CeilUnixMilli(until)
	n, err := rediscall.RunWith(ctx, c.timeout, c.direct, func(ctx context.Context) (int64, error) {
		return useScript.Run(ctx, c.rdb, []string{k}, end, ttl.Milliseconds()).Int64()
	})
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
