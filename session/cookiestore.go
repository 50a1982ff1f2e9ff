package session

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// CookieStoreOptions configures a [CookieStore].
type CookieStoreOptions struct {
	// Keys are the key pairs, newest first. The first encodes; every one
	// decodes, so keys can be rotated: prepend a new pair, and drop the old
	// one once the sessions it encoded have expired (AbsoluteTimeout).
	// A cookie authenticated by a dropped key is treated as absent.
	// Required; every key's length is checked (see [KeyPair]).
	Keys []KeyPair
	// Name binds cookies to this store: it is authenticated with every
	// cookie, so a value encoded for another name (another cookie,
	// another application sharing keys) does not decode. Default:
	// "session".
	Name string
	// Revocations remembers the IDs of destroyed and renewed sessions for
	// as long as a copy of their cookie could live, so a cookie copied
	// before a logout is dead even though it is still correctly
	// authenticated. Default: a
	// [MemoryStore] private to this CookieStore, which protects only this
	// process; when several instances serve the same cookies, give them a
	// shared store (session/redisstore). If Revocations is full or fails,
	// Destroy and Renew fail (503) rather than pretend the cookie is dead.
	// An entry lives one idle timeout after the logout or renewal (at
	// most until the absolute deadline), when every copy of the cookie
	// has expired, so the default bound of [DefaultMaxSessions] entries
	// takes that many logouts and renewals within one idle period to
	// fill. A logout with an expired cookie revokes its ID too, so a
	// client may gather the cookies it revokes over a whole absolute
	// timeout; rate-limit logins and logouts well below the bound.
	Revocations Store

	now func() time.Time
}

// CookieStore is a [Store] that keeps the whole session in the cookie,
// encrypted with AES-256 and authenticated with HMAC-SHA256 by
// gorilla/securecookie. The server keeps no session data, only the IDs of
// revoked sessions. An encoded session is limited to 4096 bytes; a larger
// one fails with [ErrTooLarge] instead of being silently dropped by the
// browser.
//
// A tampered, truncated, expired or foreign cookie, or one authenticated by
// a key no longer in [CookieStoreOptions.Keys], is not found. An earlier
// cookie of a live session is found, with the session as it was then,
// until it expires or the session's ID is revoked (Destroy, Renew): a
// client can roll back what the session holds (see the package
// documentation, Rollback). Create a
// CookieStore with [NewCookieStore]; it is safe for concurrent use.
type CookieStore struct {
	codecs      []*securecookie.SecureCookie
	name        string
	revocations Store
	now         func() time.Time
}

// NewCookieStore validates opts and returns a CookieStore. Key problems
// are reported together, each as an [*OptionError].
func NewCookieStore(opts CookieStoreOptions) (*CookieStore, error) {
	var errs []error
	if len(opts.Keys) == 0 {
		errs = append(errs, &OptionError{Field: "Keys", Reason: "at least one key pair is required"})
	}
	for i, k := range opts.Keys {
		field := "Keys[" + strconv.Itoa(i) + "]"
		if err := checkHashKey(field+".HashKey", k.HashKey); err != nil {
			errs = append(errs, err)
		}
		if err := checkBlockKey(field+".BlockKey", k.BlockKey); err != nil {
			errs = append(errs, err)
		}
		if sameKey(k.HashKey, k.BlockKey) {
			errs = append(errs, &OptionError{Field: field, Reason: "HashKey and BlockKey must differ"})
		}
	}
	name := opts.Name
	if name == "" {
		name = "session"
	}
	if !httptoken.IsToken(name) {
		errs = append(errs, &OptionError{Field: "Name", Reason: "not an RFC 9110 token"})
	}
	rev := opts.Revocations
	if rev == nil {
		ms, err := NewMemoryStore(MemoryOptions{now: opts.now})
		if err != nil {
			errs = append(errs, err)
		}
		rev = ms
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &CookieStore{name: name, revocations: rev, now: opts.now}
	if s.now == nil {
		s.now = time.Now
	}
	for _, k := range opts.Keys {
		s.codecs = append(s.codecs, newCodec(k.HashKey, k.BlockKey))
	}
	return s, nil
}

// The payload inside the securecookie envelope: the raw 32-byte session
// ID, the expiry in Unix seconds (8 bytes, big endian), then the data.
const payloadHeader = 32 + 8

// Find implements [Store]: it authenticates, decrypts and checks the
// expiry and revocation of token.
func (s *CookieStore) Find(ctx context.Context, token string) (Record, bool, error) {
	rec, ok := s.findExpired(token)
	if !ok || !rec.Expiry.After(s.now()) {
		return Record{}, false, nil
	}
	_, revoked, err := s.revocations.Find(ctx, rec.ID)
	if err != nil {
		return Record{}, false, err
	}
	if revoked {
		return Record{}, false, nil
	}
	return rec, true, nil
}

// findExpired returns the session of a token the store authenticates
// whatever its expiry and revocation, for [Session.Destroy].
func (s *CookieStore) findExpired(token string) (Record, bool) {
	payload, ok := decode(s.codecs, s.name, token)
	if !ok || len(payload) < payloadHeader {
		return Record{}, false
	}
	exp := int64(binary.BigEndian.Uint64(payload[32:40]))
	return Record{
		ID:     base64.RawURLEncoding.EncodeToString(payload[:32]),
		Data:   payload[payloadHeader:],
		Expiry: time.Unix(exp, 0),
	}, true
}

// Commit implements [Store]: it returns the encoded cookie value. It
// fails with [ErrTooLarge] if the value exceeds 4096 bytes. The session
// of a revoked ID is not encoded: Commit returns an empty token, and the
// Middleware sends no cookie, so that a request that loaded the session
// before a logout cannot save a cookie that outlives the revocation.
func (s *CookieStore) Commit(ctx context.Context, rec Record) (string, error) {
	var raw [33]byte // 43 base64 characters decode to 32 bytes and 2 zero bits
	if !ValidID(rec.ID) {
		return "", errBadID
	}
	if _, revoked, err := s.revocations.Find(ctx, rec.ID); err != nil {
		return "", err
	} else if revoked {
		return "", nil
	}
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(rec.ID)); err != nil {
		return "", errBadID
	}
	// Round the expiry up to the next second so a cookie never outlives
	// its record by less than the caller asked, nor dies early.
	exp := rec.Expiry.Unix()
	if rec.Expiry.Nanosecond() > 0 {
		exp++
	}
	payload := make([]byte, payloadHeader+len(rec.Data))
	copy(payload, raw[:32])
	binary.BigEndian.PutUint64(payload[32:40], uint64(exp))
	copy(payload[payloadHeader:], rec.Data)
	token, err := s.codecs[0].Encode(s.name, payload)
	if err != nil {
		return "", errors.Join(ErrTooLarge, err)
	}
	return token, nil
}

// Delete implements [Store]: the session's ID is revoked until rec.Expiry
// (or for [DefaultAbsoluteTimeout] when it is unknown), so every cookie
// issued for it, including copies, stops being found.
func (s *CookieStore) Delete(ctx context.Context, rec Record) error {
	rev, ok := s.revocation(rec)
	if !ok {
		return nil
	}
	_, err := s.revocations.Commit(ctx, rev)
	return err
}

// revocation returns the record that revokes rec.ID, or false when there
// is nothing to revoke.
func (s *CookieStore) revocation(rec Record) (Record, bool) {
	if !ValidID(rec.ID) {
		return Record{}, false
	}
	exp := rec.Expiry
	if exp.IsZero() {
		exp = s.now().Add(DefaultAbsoluteTimeout)
	}
	if !exp.After(s.now()) {
		return Record{}, false
	}
	return Record{ID: rec.ID, Data: []byte{}, Expiry: exp.Add(time.Second)}, true
}

var _ Remover = (*CookieStore)(nil)

// Remove implements [Remover]: it is Delete, reporting whether rec.ID
// was not revoked until then. A CookieStore keeps no list of the sessions
// it issued, and each cookie carries its own deadline, so an ID it never
// issued, or one whose cookie has expired, is reported found: the
// Middleware's Renew checks the session's deadlines itself. Remove is
// atomic when [CookieStoreOptions.Revocations] is an [Adder], as the
// default [MemoryStore] and session/redisstore are; otherwise it checks
// and then revokes.
func (s *CookieStore) Remove(ctx context.Context, rec Record) (found bool, err error) {
	rev, ok := s.revocation(rec)
	if !ok {
		return false, nil
	}
	if a, ok := s.revocations.(Adder); ok {
		return a.Add(ctx, rev)
	}
	_, revoked, err := s.revocations.Find(ctx, rec.ID)
	if err != nil || revoked {
		return false, err
	}
	_, err = s.revocations.Commit(ctx, rev)
	return err == nil, err
}

// cookieCopies is a store whose tokens carry their own deadlines: a
// CookieStore, or a wrapper that embeds one. The Middleware checks for it
// in New.
type cookieCopies interface {
	Remover
	findExpired(token string) (Record, bool)
}
