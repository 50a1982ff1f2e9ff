package ratelimit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/httptoken"
)

// Key selects what a [Limit] counts: each distinct key gets its own budget.
// Build one with [ByIP], [BySubject], [ByAPIKey], [ByRoute], [Global] or
// [ByFunc]. The zero Key is [ByIP]. A Key is an immutable value.
//
// Keys are stored as "<limit name>:<kind>:<value>". Values that are not
// short printable tokens (long subjects, route patterns with spaces, API
// keys always) are replaced by the first 16 bytes of their SHA-256, in hex,
// so a key is bounded in size and never holds a secret in clear.
type Key struct {
	kind   keyKind
	header string
	fn     func(*http.Request) (string, bool)
	// credentials is set by New for ByAPIKey on Authorization or
	// Proxy-Authorization: the value is keyed by its scheme, case-folded,
	// and the credentials after it (see appendCredentialsHash).
	credentials bool
}

type keyKind uint8

const (
	kindIP keyKind = iota
	kindSubject
	kindAPIKey
	kindRoute
	kindGlobal
	kindFunc
)

// ByIP keys by client address, resolved by [Options.ClientIP] and grouped
// by [Options.IPv4Prefix] and [Options.IPv6Prefix] (/32 and /64 by
// default: one IPv6 subscriber is usually given a whole /64). An
// IPv4-mapped address, or one of the NAT64 well-known prefix
// 64:ff9b::/96, counts as the IPv4 address it embeds. Requests without an
// IP address (over a Unix socket) share one key.
func ByIP() Key { return Key{kind: kindIP} }

// BySubject keys by the subject of the [identity.Identity] in the request
// context, set by an authenticating middleware further out. Requests
// without an identity, or with an empty subject, are keyed by client
// address as with [ByIP], so anonymous traffic is limited too.
func BySubject() Key { return Key{kind: kindSubject} }

// ByAPIKey keys by the value of the named request header, such as
// "X-API-Key", hashed. Requests without it are keyed by client address as
// with [ByIP]; values longer than 1024 bytes, which no API key is, share
// one key. A bearer token can be that long (a JWT with many claims): every
// client sending one would share that budget, so limit bearer tokens by
// [BySubject] after the middleware that verifies them.
//
// The key is the credential as auth.APIKey reads it, so that one key it
// accepts has one budget however it is spelled. On Authorization and
// Proxy-Authorization, whose value is "<scheme> <credentials>" with the
// scheme case-insensitive and any number of spaces after it (RFC 9110
// §11.4), the scheme is folded to lower case and the spaces are skipped:
// "Bearer K", "bearer K" and "Bearer  K" are one key. A value that is not
// a scheme and a space is keyed as it is. Basic credentials, which hold a
// password, are never hashed into a key (whoever reads a shared store
// could test passwords against the hash offline): such requests are keyed
// by client address, as without the header; limit Basic logins with
// [AttemptLimiter] and [BySubject]. Other headers are keyed by their
// value exactly as it is, as auth.APIKey reads them; net/http's server has
// already dropped any white space around a header value.
//
// The value is not verified here: a client can send a different made-up
// key with every request and get a fresh budget each time. Use ByAPIKey
// after the middleware that authenticates the key (or prefer [BySubject]
// there), or together with a [ByIP] limit.
func ByAPIKey(header string) Key { return Key{kind: kindAPIKey, header: header} }

// ByRoute keys by [net/http.Request.Pattern], the pattern of the
// [net/http.ServeMux] route that matched. The pattern is set only when the
// middleware wraps a handler registered on a ServeMux; outside the mux
// every request has the empty pattern and they all share one key.
func ByRoute() Key { return Key{kind: kindRoute} }

// Global gives every request the same key: one budget for everyone, as a
// ceiling on what a route may serve.
func Global() Key { return Key{kind: kindGlobal} }

// ByFunc keys by what fn returns. When fn reports false the limit does not
// apply to the request. Every request for which fn returns ("", true)
// shares one key, and so one budget, as with [Global]: return false to
// exempt a request instead. fn must be safe for concurrent use and should
// not return values a client can vary at will (see [ByAPIKey]).
func ByFunc(fn func(r *http.Request) (key string, ok bool)) Key {
	return Key{kind: kindFunc, fn: fn}
}

// String returns the kind of key, as used in stored keys.
func (k Key) String() string {
	switch k.kind {
	case kindSubject:
		return "sub"
	case kindAPIKey:
		return "apikey"
	case kindRoute:
		return "route"
	case kindGlobal:
		return "all"
	case kindFunc:
		return "fn"
	}
	return "ip"
}

// maxRawKey is the longest value stored as is; longer ones are hashed.
const maxRawKey = 64

// maxAPIKey is the longest API key hashed; longer header values share the
// key "oversize".
const maxAPIKey = 1024

// keyBufSize fits every key this package builds: a name of at most
// maxName bytes, a kind, and a value of at most maxRawKey bytes or a hash.
const keyBufSize = maxName + 8 + maxRawKey + 8

// appendKey appends the key of r for limit l, in the text form a [Store]
// is given, and reports whether the limit applies.
func (m *Middleware) appendKey(dst []byte, l *limit, r *http.Request) ([]byte, bool) {
	dst, form := appendValueKey(dst, l, r)
	if form == keyAddr {
		dst = appendAddr(dst, m.clientIP.Addr(r), m.v4Bits, m.v6Bits)
	}
	return dst, form != keyNone
}

// keyForm says what appendValueKey made of a request.
type keyForm uint8

const (
	keyNone  keyForm = iota // the limit does not apply
	keyValue                // the key is complete
	keyAddr                 // the key is the limit's prefix and the client's network
)

// appendValueKey appends the key of r for limit l when it is not the
// client's network, and otherwise only the limit's prefix.
func appendValueKey(dst []byte, l *limit, r *http.Request) ([]byte, keyForm) {
	dst = append(dst, l.prefix...)
	switch l.key.kind {
	case kindSubject:
		if id, ok := identity.FromRequest(r); ok && id.Subject() != "" {
			dst = append(dst, "sub:"...)
			return appendValue(dst, id.Subject()), keyValue
		}
	case kindAPIKey:
		if v := r.Header[l.key.header]; len(v) > 0 && v[0] != "" {
			if l.key.credentials && isBasic(v[0]) {
				// Basic credentials hold a password: their hash,
				// unkeyed so that every process sharing a store
				// agrees on it, would let whoever reads the store
				// test passwords offline. Keyed by address instead.
				break
			}
			dst = append(dst, "apikey:"...)
			if len(v[0]) > maxAPIKey {
				// Not an API key: do not spend time hashing it, and
				// give every such value one shared budget.
				return append(dst, "oversize"...), keyValue
			}
			if l.key.credentials {
				return appendCredentialsHash(dst, v[0]), keyValue
			}
			return appendHash(dst, v[0]), keyValue
		}
	case kindRoute:
		dst = append(dst, "route:"...)
		return appendValue(dst, r.Pattern), keyValue
	case kindGlobal:
		return append(dst, "all"...), keyValue
	case kindFunc:
		v, ok := l.key.fn(r)
		if !ok {
			return dst, keyNone
		}
		dst = append(dst, "fn:"...)
		return appendValue(dst, v), keyValue
	}
	return dst, keyAddr
}

// memKey returns the hash by which l's MemoryStore knows the key of r for
// limit l, and whether the limit applies. A key other than an address is
// the hash of its text form. A client network (the key of ByIP, and the
// fallback of BySubject and ByAPIKey) is hashed without a text form, by
// addrSeeds.hash.
func (m *Middleware) memKey(l *limit, r *http.Request) (uint64, bool) {
	if l.key.kind == kindIP {
		return l.addr.hash(m.clientIP.Addr(r), m.v4Bits, m.v6Bits), true
	}
	var buf [keyBufSize]byte
	key, form := appendValueKey(buf[:0], l, r)
	switch form {
	case keyNone:
		return 0, false
	case keyAddr:
		return l.addr.hash(m.clientIP.Addr(r), m.v4Bits, m.v6Bits), true
	}
	return l.mem.hash(stringView(key)), true
}

// addrSeeds are the secret words by which a limit hashes client networks
// in a MemoryStore. They are derived from the store's seed, the limit's
// name and, for each family, its prefix length: limits that share a store
// and a name share the hash of a network exactly when their text keys
// (appendAddr) would be equal.
type addrSeeds struct {
	v4, out4     uint64 // IPv4 networks
	v6, lo, out6 uint64 // IPv6 networks
	none         uint64 // requests without an address
}

// newAddrSeeds derives the seeds of limit l from the MemoryStore s, for
// networks of v4 and v6 bits.
func newAddrSeeds(s *MemoryStore, l *limit, v4, v6 int) addrSeeds {
	word := func(what string, bits int) uint64 {
		return s.hash(l.prefix + "ip/" + what + "/" + strconv.Itoa(bits))
	}
	return addrSeeds{
		v4: word("v4", v4), out4: word("out4", v4),
		v6: word("v6", v6), lo: word("lo", v6), out6: word("out6", v6),
		none: s.hash(l.prefix + "ip:none"), // the text key: Reset and Peek reach it
	}
}

// hash returns the hash of the network of addr, its prefix of v4 or v6
// bits. With mix a bijection of 64-bit words, an IPv4 network n is
// mix(n ^ v4) + out4, and an IPv6 network of up to 64 bits, whose first
// half is hi, is mix(hi ^ v6) + out6: within one family, distinct
// networks of up to 64 bits never share a hash. A longer IPv6 network,
// with the second half lo, is mix(mix(hi ^ v6) ^ mix(lo ^ lo')) + out6,
// and every other pair (the two families, networks of other lengths
// sharing the store) collides only as two random 64-bit values do, at
// places that cannot be found without the seeds. An IPv6 address that
// embeds an IPv4 one (see clientAddr) is hashed as that IPv4 address.
func (s *addrSeeds) hash(addr netip.Addr, v4, v6 int) uint64 {
	switch {
	case addr.Is4():
		a := addr.As4()
		return s.hash4(binary.BigEndian.Uint32(a[:]), v4)
	case !addr.IsValid():
		return s.none
	}
	a := addr.As16() // without the zone
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	if embedsIPv4(hi, lo) { // as clientAddr has it
		return s.hash4(uint32(lo), v4)
	}
	if v6 <= 64 {
		hi &^= uint64(1)<<(64-v6) - 1
		return mix64(hi^s.v6) + s.out6
	}
	lo &^= uint64(1)<<(128-v6) - 1
	return mix64(mix64(hi^s.v6)^mix64(lo^s.lo)) + s.out6
}

// hash4 is hash for the IPv4 address a.
func (s *addrSeeds) hash4(a uint32, v4 int) uint64 {
	n := a &^ (uint32(1)<<(32-v4) - 1)
	return mix64(uint64(n)^s.v4) + s.out4
}

// clientAddr returns the address of the client addr stands for: the IPv4
// address that an IPv4-mapped address, or one of the NAT64 well-known
// prefix 64:ff9b::/96 (RFC 6052), embeds, and addr otherwise. A server
// sees the well-known prefix only through a translator (SIIT-DC, RFC
// 7755, or NAT64) that put an IPv4 client there: grouped as IPv6, all of
// them would share one /64.
func clientAddr(addr netip.Addr) netip.Addr {
	if !addr.Is6() {
		return addr
	}
	a := addr.As16()
	if embedsIPv4(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])) {
		return netip.AddrFrom4([4]byte(a[12:]))
	}
	return addr
}

// embedsIPv4 reports whether the IPv6 address whose halves are hi and lo
// is IPv4-mapped (::ffff:0:0/96) or of the NAT64 well-known prefix
// 64:ff9b::/96: its last 32 bits are then the client's IPv4 address.
func embedsIPv4(hi, lo uint64) bool {
	return lo>>32 == 0x0000_ffff && hi == 0 || lo>>32 == 0 && hi == 0x0064_ff9b_0000_0000
}

// mix64 is the finalizer of MurmurHash3: a bijection of 64-bit words whose
// every output bit depends on every input bit.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// appendAddr appends "ip:" and the network of addr: the prefix of v4 or v6
// bits containing it, as "192.0.2.0/24" or "2001:db8:1:2::/64", or
// "ip:none" for the zero Addr.
func appendAddr(dst []byte, addr netip.Addr, v4, v6 int) []byte {
	dst = append(dst, "ip:"...)
	addr = clientAddr(addr).WithZone("")
	bits := v6
	switch {
	case !addr.IsValid():
		return append(dst, "none"...)
	case addr.Is4():
		bits = v4
	}
	p, err := addr.Prefix(bits)
	if err != nil { // unreachable: bits is validated by New
		return append(dst, "none"...)
	}
	dst = p.Addr().AppendTo(dst)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, int64(bits), 10)
}

// appendValue appends s when it is a short token of safe characters, and
// otherwise "#" and a hash of s, so that the two forms never collide.
func appendValue(dst []byte, s string) []byte {
	if len(s) <= maxRawKey && safeToken(s) {
		return append(dst, s...)
	}
	return appendHash(dst, s)
}

func appendHash(dst []byte, s string) []byte {
	sum := sha256.Sum256(bytesView(s))
	dst = append(dst, '#')
	return hex.AppendEncode(dst, sum[:16])
}

// appendCredentialsHash appends "#" and a hash of an Authorization value
// of at most maxAPIKey bytes, in the form auth.APIKey reads it: the scheme
// in lower case, one space and the credentials after the spaces that
// follow the scheme (the parsing is shared through httptoken). A value
// without a scheme is hashed as it is, as appendHash does.
func appendCredentialsHash(dst []byte, v string) []byte {
	scheme, credentials, ok := httptoken.SplitCredentials(v)
	if !ok {
		return appendHash(dst, v)
	}
	var buf [maxAPIKey]byte // the canonical form is never longer than v
	n := copy(buf[:], scheme)
	for i := range n {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + 'a' - 'A'
		}
	}
	buf[n] = ' '
	n++
	n += copy(buf[n:], credentials)
	return appendHash(dst, stringView(buf[:n]))
}

// isBasic reports whether the Authorization value v is of the Basic
// scheme, in any case, with credentials after it.
func isBasic(v string) bool {
	scheme, _, ok := httptoken.SplitCredentials(v)
	return ok && httptoken.EqualFold(scheme, "basic")
}

// safeToken reports whether s is non-empty and made of characters that are
// harmless in a log line or a Redis key: letters, digits and -._~@+/:=
// (no space, no braces, which Redis Cluster reads as a hash tag, no "#").
func safeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '@' || c == '+' || c == '/' || c == ':' || c == '=':
		default:
			return false
		}
	}
	return true
}

// bytesView returns the bytes of s without copying them, for hashing a
// header value without an allocation. The bytes must not be modified.
func bytesView(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
