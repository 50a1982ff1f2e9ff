package session

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"

	"github.com/httpguard/httpguard/identity"
)

// The encoding of a session record, version 1. All integers are varints
// (encoding/binary), strings are a uvarint length followed by the bytes:
//
//	version   byte (1)
//	created   varint, Unix nanoseconds
//	lastSeen  varint, Unix nanoseconds
//	flags     byte: bit 0 set when an identity follows, bit 1 for
//	          Session.RememberMe (records written before it have 0 or 1);
//	          then, if bit 0 is set:
//	  subject string, method string,
//	  roles   uvarint count, strings
//	  scopes  uvarint count, strings
//	  claims  string (JSON object, empty for none)
//	values    uvarint count, then per value:
//	  key string, kind byte, payload (see kind)
//
// The format is small and cheap to decode: the whole record is converted
// to one string and every key and string value is a substring of it.
const codecVersion = 1

// The bits of a record's flags byte.
const (
	flagIdent    = 1 << 0
	flagRemember = 1 << 1
)

type kind uint8

const (
	kindString kind = 1 + iota
	kindBytes
	kindInt
	kindBool
	kindFloat
	kindTime
	kindJSON
)

// entry is one value in a session.
type entry struct {
	key  string
	kind kind
	str  string // string, bytes and JSON payloads
	num  uint64 // int, bool and float payloads; seconds for times
	nsec uint32 // nanoseconds for times
}

// record is a decoded session.
type record struct {
	created  int64 // Unix nanoseconds
	lastSeen int64 // Unix nanoseconds
	ident    identity.Identity
	hasIdent bool
	remember bool // Session.RememberMe: the cookie outlives the browser
	values   []entry
}

var errCorrupt = errors.New("session: corrupt session record")

// maxCount bounds any count read from a record, as a second line of
// defence after the check against the remaining length.
const maxCount = 1 << 20

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (rec *record) encodedSize() int {
	n := 1 + 2*binary.MaxVarintLen64 + 1 + binary.MaxVarintLen64
	for i := range rec.values {
		e := &rec.values[i]
		n += 2*binary.MaxVarintLen64 + len(e.key) + 1 + len(e.str) + 8
	}
	return n
}

// encode appends the encoding of rec to b.
func (rec *record) encode(b []byte) ([]byte, error) {
	b = append(b, codecVersion)
	b = binary.AppendVarint(b, rec.created)
	b = binary.AppendVarint(b, rec.lastSeen)
	var flags byte
	if rec.remember {
		flags = flagRemember
	}
	if rec.hasIdent {
		id := rec.ident
		b = append(b, flags|flagIdent)
		b = appendString(b, id.Subject())
		b = appendString(b, string(id.Method()))
		b = binary.AppendUvarint(b, uint64(id.NumRoles()))
		for i := range id.NumRoles() {
			b = appendString(b, id.Role(i))
		}
		b = binary.AppendUvarint(b, uint64(id.NumScopes()))
		for i := range id.NumScopes() {
			b = appendString(b, id.Scope(i))
		}
		var claims []byte
		if c := id.Claims(); c != nil {
			var err error
			if claims, err = json.Marshal(c); err != nil {
				return nil, errors.Join(ErrEncode, err)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(claims)))
		b = append(b, claims...)
	} else {
		b = append(b, flags)
	}
	b = binary.AppendUvarint(b, uint64(len(rec.values)))
	for i := range rec.values {
		e := &rec.values[i]
		b = appendString(b, e.key)
		b = append(b, byte(e.kind))
		switch e.kind {
		case kindString, kindBytes, kindJSON:
			b = appendString(b, e.str)
		case kindInt:
			b = binary.AppendVarint(b, int64(e.num))
		case kindBool:
			b = append(b, byte(e.num))
		case kindFloat:
			b = binary.LittleEndian.AppendUint64(b, e.num)
		case kindTime:
			b = binary.AppendVarint(b, int64(e.num))
			b = binary.AppendUvarint(b, uint64(e.nsec))
		}
	}
	return b, nil
}

// decoder reads a record from a string without copying.
type decoder struct {
	s   string
	off int
	err bool
}

func (d *decoder) byte() byte {
	if d.off >= len(d.s) {
		d.err = true
		return 0
	}
	c := d.s[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for i := range binary.MaxVarintLen64 {
		if d.off >= len(d.s) {
			d.err = true
			return 0
		}
		c := d.s[d.off]
		d.off++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				d.err = true
				return 0
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.err = true
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.s)-d.off) {
		d.err = true
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// count reads a count of items each at least min bytes long.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err || n > maxCount || n*uint64(min) > uint64(len(d.s)-d.off) {
		d.err = true
		return 0
	}
	return int(n)
}

// decodeRecord decodes data. It never panics; any malformed input yields
// errCorrupt.
func decodeRecord(data []byte) (record, error) {
	var rec record
	if len(data) == 0 || data[0] != codecVersion {
		return rec, errCorrupt
	}
	d := decoder{s: string(data), off: 1}
	rec.created = d.varint()
	rec.lastSeen = d.varint()
	flags := d.byte()
	if flags&^(flagIdent|flagRemember) != 0 {
		return rec, errCorrupt
	}
	rec.remember = flags&flagRemember != 0
	if flags&flagIdent != 0 {
		var o identity.Options
		o.Subject = d.string()
		o.Method = identity.Method(d.string())
		if n := d.count(1); n > 0 {
			o.Roles = make([]string, n)
			for i := range o.Roles {
				o.Roles[i] = d.string()
			}
		}
		if n := d.count(1); n > 0 {
			o.Scopes = make([]string, n)
			for i := range o.Scopes {
				o.Scopes[i] = d.string()
			}
		}
		if claims := d.string(); claims != "" && !d.err {
			if json.Unmarshal([]byte(claims), &o.Claims) != nil || o.Claims == nil {
				return rec, errCorrupt
			}
		}
		if d.err {
			return rec, errCorrupt
		}
		rec.ident = identity.New(o)
		rec.hasIdent = true
	}
	n := d.count(3)
	if n > 0 {
		rec.values = make([]entry, n)
	}
	for i := 0; i < n && !d.err; i++ {
		e := &rec.values[i]
		e.key = d.string()
		e.kind = kind(d.byte())
		switch e.kind {
		case kindString, kindBytes, kindJSON:
			e.str = d.string()
		case kindInt:
			e.num = uint64(d.varint())
		case kindBool:
			v := d.byte()
			if v > 1 {
				d.err = true
			}
			e.num = uint64(v)
		case kindFloat:
			if len(d.s)-d.off < 8 {
				d.err = true
				break
			}
			e.num = binary.LittleEndian.Uint64([]byte(d.s[d.off : d.off+8]))
			d.off += 8
		case kindTime:
			e.num = uint64(d.varint())
			ns := d.uvarint()
			if ns >= 1e9 {
				d.err = true
			}
			e.nsec = uint32(ns)
		default:
			d.err = true
		}
	}
	if d.err || d.off != len(d.s) {
		return record{}, errCorrupt
	}
	return rec, nil
}

func floatBits(f float64) uint64 { return math.Float64bits(f) }
