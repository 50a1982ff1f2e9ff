package auth

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// accessClaims is the typed claims set decoded on the hot path, by the
// allocation-free scanner (UnmarshalJSON also serves encoding/json, for
// Revoke). The scan refuses duplicate and escaped member names, invalid
// UTF-8, quoted dates, and claims of the wrong type; other members are
// skipped, but for a cnf, of which only the presence is kept.
type accessClaims struct {
	jwt.RegisteredClaims
	Scope string
	Scp   []string // an array, or a string split like Scope
	Roles []string

	exp, nbf, iat jwt.NumericDate // storage for the RegisteredClaims pointers

	// Backing arrays of Audience, Scp and Roles for the usual short
	// lists, so that a pooled accessClaims decodes them without
	// allocating. Whatever keeps a list copies it (identity.New does).
	audBuf, scpBuf, rolesBuf [4]string
	scopeBuf                 [8]string // the scope claim split by the middleware

	// Set before decoding by the middleware: the expected iss and the
	// accepted aud values, reused instead of allocating equal strings,
	// and whether jti is needed at all. wantAud is the middleware's own
	// list, shared: it is only read.
	wantIss string
	wantAud []string
	skipJTI bool

	// bound reports a cnf member (RFC 7800), of any value, its name in
	// any case: the token is bound to a key. jkt is the member of that
	// name of a cnf object (RFC 9449 §6.1), the thumbprint of a DPoP key,
	// read only when wantJKT is set.
	bound   bool
	wantJKT bool
	jkt     string
}

// errClaims is what UnmarshalJSON returns; golang-jwt wraps it in
// jwt.ErrTokenMalformed, which maps to ErrTokenMalformed.
var errClaims = newTokenError("auth: malformed claims", true)

// UnmarshalJSON implements json.Unmarshaler.
func (c *accessClaims) UnmarshalJSON(b []byte) error {
	var members [maxClaimMembers]jsonMember
	n, ok := scanObject(b, members[:])
	if !ok {
		return errClaims
	}
	for i := range members[:n] {
		m := &members[i]
		v := m.val(b)
		var err error
		key := m.key(b)
		switch string(key) {
		case "iss":
			// The raw text is the issuer only without escapes (found in
			// review: `t\u0031` matched a configured `t\u0031` while it
			// decodes to "t1", another issuer).
			if c.wantIss != "" && m.str && !m.esc && string(v) == c.wantIss {
				c.Issuer = c.wantIss
				continue
			}
			c.Issuer, err = claimString(m, v)
		case "sub":
			c.Subject, err = claimString(m, v)
		case "jti":
			if c.skipJTI && (m.str || string(v) == "null") {
				continue
			}
			c.ID, err = claimString(m, v)
		case "scope":
			c.Scope, err = claimString(m, v)
		case "aud":
			var aud []string
			aud, err = claimStrings(c.audBuf[:0], m, v, c.wantAud)
			c.Audience = aud
		case "scp":
			if m.str {
				// One space-separated string, as Microsoft Entra ID
				// issues it: split like scope (found in review: it was
				// kept as one scope).
				var sc string
				sc, err = claimString(m, v)
				c.Scp = appendScopes(c.scpBuf[:0], sc)
			} else {
				c.Scp, err = claimStrings(c.scpBuf[:0], m, v, nil)
			}
		case "roles":
			c.Roles, err = claimStrings(c.rolesBuf[:0], m, v, nil)
		case "exp":
			c.ExpiresAt, err = claimDate(m, v, &c.exp)
		case "nbf":
			c.NotBefore, err = claimDate(m, v, &c.nbf)
		case "iat":
			c.IssuedAt, err = claimDate(m, v, &c.iat)
		default:
			// cnf, or CNF, which encoding/json matches to a cnf field
			// (and no other spelling folds to it). Names with escapes
			// never get here: the scan refuses them.
			c.bound = c.bound || len(key) == 3 && key[0]|0x20 == 'c' && key[1]|0x20 == 'n' && key[2]|0x20 == 'f'
			if c.wantJKT && string(key) == "cnf" {
				c.jkt, err = cnfJKT(m, v)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// cnfJKT returns the jkt of a cnf claim: "" for a cnf that is not an
// object or has no jkt, an error for a jkt that is not a string.
func cnfJKT(m *jsonMember, v []byte) (string, error) {
	if m.str || len(v) == 0 || v[0] != '{' {
		return "", nil
	}
	var members [16]jsonMember
	n, ok := scanObject(v, members[:])
	if !ok {
		return "", errClaims
	}
	for i := range members[:n] {
		jm := &members[i]
		if string(jm.key(v)) == "jkt" {
			if !jm.str {
				return "", errClaims
			}
			return claimString(jm, jm.val(v))
		}
	}
	return "", nil
}

// claimString decodes a string member; null is the empty string.
func claimString(m *jsonMember, v []byte) (string, error) {
	if !m.str {
		if string(v) == "null" {
			return "", nil
		}
		return "", errClaims
	}
	if !m.esc {
		return string(v), nil
	}
	return unescape(v)
}

// unescape decodes the content of a JSON string that has escapes.
func unescape(v []byte) (string, error) {
	raw := make([]byte, 0, len(v)+2)
	raw = append(append(append(raw, '"'), v...), '"')
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errClaims
	}
	return s, nil
}

// claimStrings decodes a string or an array of strings, appended to dst
// (empty, with room for the usual few); null and [] are nil. An element
// equal to one of intern is that string itself, not a new one.
func claimStrings(dst []string, m *jsonMember, v []byte, intern []string) ([]string, error) {
	if m.str {
		if !m.esc {
			if s, ok := interned(intern, v); ok {
				return append(dst, s), nil
			}
		}
		s, err := claimString(m, v)
		return append(dst, s), err
	}
	if string(v) == "null" {
		return nil, nil
	}
	if len(v) < 2 || v[0] != '[' {
		return nil, errClaims
	}
	// The scanner validated the array; walk its elements.
	s := jsonScanner{b: v, i: 1}
	out := dst
	for {
		s.ws()
		if s.i < len(v) && v[s.i] == ']' && len(out) == 0 {
			return nil, nil
		}
		start, end, esc, ok := s.str()
		if !ok {
			return nil, errClaims
		}
		var e string
		if esc {
			var err error
			if e, err = unescape(v[start:end]); err != nil {
				return nil, err
			}
		} else if s, ok := interned(intern, v[start:end]); ok {
			e = s
		} else {
			e = string(v[start:end])
		}
		out = append(out, e)
		s.ws()
		if s.i >= len(v) {
			return nil, errClaims
		}
		switch v[s.i] {
		case ']':
			return out, nil
		case ',':
			s.i++
		default:
			return nil, errClaims
		}
	}
}

// interned returns the string of list equal to b, if any, without
// allocating.
func interned(list []string, b []byte) (string, bool) {
	for _, s := range list {
		if string(b) == s {
			return s, true
		}
	}
	return "", false
}

// claimDate decodes a NumericDate (a JSON number of seconds) into dst,
// as golang-jwt does: fractional seconds kept, truncated to
// jwt.TimePrecision.
func claimDate(m *jsonMember, v []byte, dst *jwt.NumericDate) (*jwt.NumericDate, error) {
	if m.str || len(v) == 0 || !(v[0] == '-' || '0' <= v[0] && v[0] <= '9') {
		return nil, errClaims
	}
	if len(v) <= 15 { // the usual whole seconds, exactly as ParseFloat reads them
		sec, ok := int64(0), true
		for _, d := range v {
			if d < '0' || d > '9' {
				ok = false
				break
			}
			sec = sec*10 + int64(d-'0')
		}
		if ok {
			dst.Time = time.Unix(sec, 0).Truncate(jwt.TimePrecision)
			return dst, nil
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return nil, errClaims
	}
	sec, frac := math.Modf(f)
	dst.Time = time.Unix(int64(sec), int64(frac*1e9)).Truncate(jwt.TimePrecision)
	return dst, nil
}
