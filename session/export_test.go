package session

import (
	"net/http"
	"time"

	"github.com/httpguard/httpguard/identity"
)

// Test hooks: the black-box tests set clocks and reach the codec through
// these.

func (o Options) WithNow(f func() time.Time) Options                       { o.now = f; return o }
func (o MemoryOptions) WithNow(f func() time.Time) MemoryOptions           { o.now = f; return o }
func (o CookieStoreOptions) WithNow(f func() time.Time) CookieStoreOptions { o.now = f; return o }
func (o SignerOptions) WithNow(f func() time.Time) SignerOptions           { o.now = f; return o }
func CookieValue(h http.Header, name string) (string, bool)                { return cookieValue(h, name) }

// RoundTripRecord decodes data and, if it is a valid record, encodes it
// again.
func RoundTripRecord(data []byte) ([]byte, bool) {
	rec, err := decodeRecord(data)
	if err != nil {
		return nil, false
	}
	b, err := rec.encode(nil)
	if err != nil {
		return nil, false
	}
	return b, true
}

// EncodeSample returns the encoding of a record with one value of each
// kind, for seeding fuzz targets.
func EncodeSample() []byte {
	rec := record{created: 1, lastSeen: 2, values: []entry{
		{key: "s", kind: kindString, str: "v"},
		{key: "b", kind: kindBytes, str: "\x00\x01"},
		{key: "i", kind: kindInt, num: 42},
		{key: "t", kind: kindBool, num: 1},
		{key: "f", kind: kindFloat, num: floatBits(1.5)},
		{key: "d", kind: kindTime, num: 1700000000, nsec: 5},
		{key: "j", kind: kindJSON, str: `{"a":1}`},
	}}
	b, _ := rec.encode(nil)
	return b
}

// EncodeRememberSample returns the encoding of a record with the
// remember-me flag, an identity with roles, scopes and claims, and one
// value, for seeding fuzz targets.
func EncodeRememberSample() []byte {
	rec := record{created: 1, lastSeen: 2, remember: true, hasIdent: true,
		ident: identity.New(identity.Options{
			Subject: "alice", Method: "password",
			Roles: []string{"admin"}, Scopes: []string{"read"},
			Claims: map[string]any{"k": "v"},
		}),
		values: []entry{{key: "s", kind: kindString, str: "v"}},
	}
	b, _ := rec.encode(nil)
	return b
}

// RecountBytes returns the bytes s holds, computed again from its records,
// to compare with what it counts (Bytes).
func RecountBytes(s *MemoryStore) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n int64
	for _, e := range s.m {
		n += int64(len(e.data)) + MemoryRecordOverhead
	}
	return n
}

// EncodeLogin returns the encoding of a record of subject's login,
// created and last seen at the given times, with or without the
// remember-me flag.
func EncodeLogin(created, lastSeen time.Time, subject string, remember bool) []byte {
	rec := record{created: created.UnixNano(), lastSeen: lastSeen.UnixNano(), remember: remember,
		hasIdent: true, ident: identity.New(identity.Options{Subject: subject, Method: identity.MethodSession})}
	b, _ := rec.encode(nil)
	return b
}
