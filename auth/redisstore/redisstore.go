package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the default Options.Prefix.
const DefaultPrefix = "httpguard:auth:"

// Options configures [NewRefreshStore] and [NewDenylist].
type Options struct {
	// Client is the Redis client. Required.
	Client redis.UniversalClient
	// Prefix starts every key. Default [DefaultPrefix].
	Prefix string
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
	return errors.Join(errs...)
}

// RefreshStore is an [auth.RefreshStore] in Redis. It is safe for
// concurrent use by any number of instances.
type RefreshStore struct {
	rdb    redis.UniversalClient
	token  string // prefix + "rt:"
	family string // prefix + "rf:"
}

var _ auth.RefreshStore = (*RefreshStore)(nil)

// NewRefreshStore returns a refresh-token store using o.Client.
func NewRefreshStore(o Options) (*RefreshStore, error) {
	if err := o.check("NewRefreshStore"); err != nil {
		return nil, err
	}
	return &RefreshStore{rdb: o.Client, token: o.Prefix + "rt:", family: o.Prefix + "rf:"}, nil
}

// errBadRecord is returned for a stored record that cannot be parsed.
var errBadRecord = errors.New("redisstore: malformed refresh token record")

// atLeastMS rounds a positive TTL up to Redis' millisecond resolution.
func atLeastMS(d time.Duration) time.Duration { return max(d, time.Millisecond) }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func fields(t auth.RefreshToken) []any {
	return []any{
		"family", t.Family, "client", t.ClientID, "sub", t.Subject,
		"scopes", strings.Join(t.Scopes, " "), "auth", ms(t.AuthTime),
		"exp", ms(t.ExpiresAt), "fexp", ms(t.FamilyExpiresAt), "cred", t.Credential, "used", "0",
	}
}

// Create implements [auth.RefreshStore].
func (s *RefreshStore) Create(ctx context.Context, hash string, t auth.RefreshToken) error {
	if t.Family == "" || !t.ExpiresAt.After(time.Now()) {
		return errors.New("redisstore: a refresh token needs a family and a future expiry")
	}
	key := s.token + hash
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields(t)...)
		p.PExpireAt(ctx, key, t.ExpiresAt)
		return nil
	})
	return err
}

// lookupScript returns the token's fields and whether its family is
// revoked, in one round trip.
var lookupScript = redis.NewScript(`
local t = redis.call('HGETALL', KEYS[1])
if #t == 0 then return false end
local fam
for i = 1, #t, 2 do if t[i] == 'family' then fam = t[i+1] end end
local revoked = 0
if fam then revoked = redis.call('EXISTS', ARGV[1] .. fam) end
table.insert(t, 'revoked')
table.insert(t, tostring(revoked))
return t
`)

// Lookup implements [auth.RefreshStore].
func (s *RefreshStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	res, err := lookupScript.Run(ctx, s.rdb, []string{s.token + hash}, s.family).StringSlice()
	if errors.Is(err, redis.Nil) {
		return auth.RefreshToken{}, false, nil
	}
	if err != nil {
		return auth.RefreshToken{}, false, err
	}
	if len(res)%2 != 0 {
		return auth.RefreshToken{}, false, errBadRecord
	}
	var t auth.RefreshToken
	for i := 0; i < len(res); i += 2 {
		k, v := res[i], res[i+1]
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
		case "auth", "exp", "fexp":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return auth.RefreshToken{}, false, errBadRecord
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
		case "revoked":
			t.Revoked = v == "1"
		}
	}
	if t.Family == "" {
		return auth.RefreshToken{}, false, errBadRecord
	}
	if !t.ExpiresAt.After(time.Now()) {
		return auth.RefreshToken{}, false, nil
	}
	return t, true, nil
}

// rotateScript marks KEYS[1] used and creates KEYS[2] in its family,
// unless KEYS[1] is missing (0), already used or its family revoked (2).
var rotateScript = redis.NewScript(`
local fam = redis.call('HGET', KEYS[1], 'family')
if not fam then return 0 end
if redis.call('HGET', KEYS[1], 'used') == '1' then return 2 end
if redis.call('EXISTS', ARGV[1] .. fam) == 1 then return 2 end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'family', fam, 'client', ARGV[2], 'sub', ARGV[3], 'scopes', ARGV[4],
  'auth', ARGV[5], 'exp', ARGV[6], 'fexp', ARGV[7], 'cred', ARGV[8], 'used', '0')
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
return 1
`)

// Rotate implements [auth.RefreshStore].
func (s *RefreshStore) Rotate(ctx context.Context, oldHash, newHash string, next auth.RefreshToken) error {
	n, err := rotateScript.Run(ctx, s.rdb, []string{s.token + oldHash, s.token + newHash},
		s.family, next.ClientID, next.Subject, strings.Join(next.Scopes, " "),
		ms(next.AuthTime), ms(next.ExpiresAt), ms(next.FamilyExpiresAt), next.Credential).Int()
	if err != nil {
		return err
	}
	switch n {
	case 1:
		return nil
	case 2:
		return auth.ErrRefreshTokenReused
	default:
		return auth.ErrRefreshTokenNotFound
	}
}

// RevokeFamily implements [auth.RefreshStore].
func (s *RefreshStore) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if family == "" {
		return errors.New("redisstore: empty family")
	}
	if !until.After(time.Now()) {
		until = time.Now().Add(auth.DefaultRefreshTokenMaxLifetime)
	}
	return s.rdb.Set(ctx, s.family+family, "1", atLeastMS(time.Until(until))).Err()
}

// Denylist is an [auth.Denylist] in Redis. It is safe for concurrent use
// by any number of instances.
type Denylist struct {
	rdb    redis.UniversalClient
	prefix string // prefix + "jti:"
}

var _ auth.Denylist = (*Denylist)(nil)

// NewDenylist returns a denylist using o.Client.
func NewDenylist(o Options) (*Denylist, error) {
	if err := o.check("NewDenylist"); err != nil {
		return nil, err
	}
	return &Denylist{rdb: o.Client, prefix: o.Prefix + "jti:"}, nil
}

// Revoke implements [auth.Denylist].
func (d *Denylist) Revoke(ctx context.Context, jti string, until time.Time) error {
	if jti == "" || len(jti) > auth.MaxJTILength {
		return auth.ErrInvalidJTI
	}
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil // expired already
	}
	return d.rdb.Set(ctx, d.prefix+jti, "1", atLeastMS(ttl)).Err()
}

// IsRevoked implements [auth.Denylist].
func (d *Denylist) IsRevoked(ctx context.Context, jti string) (bool, error) {
	if jti == "" || len(jti) > auth.MaxJTILength {
		return false, auth.ErrInvalidJTI
	}
	n, err := d.rdb.Exists(ctx, d.prefix+jti).Result()
	return n == 1, err
}
