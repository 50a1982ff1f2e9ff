package rbac

import (
	"errors"
	"strconv"
	"strings"
)

// MaxNameLen is the longest role name or permission string a [Policy], a
// [Requirement] or [ValidatePermission] accepts, in bytes.
const MaxNameLen = 128

var (
	errEmptyName     = errors.New("empty")
	errNameTooLong   = errors.New("longer than 128 bytes")
	errRoleChar      = errors.New("only ASCII letters, digits and _ - . : / @ are allowed")
	errPermChar      = errors.New("only lowercase ASCII letters, digits and _ - . are allowed in a segment")
	errEmptySegment  = errors.New("empty segment")
	errWildcardPlace = errors.New(`"*" must be the whole permission or its whole last segment`)
	errWildcardHere  = errors.New(`a wildcard cannot be required, only granted`)
)

// ValidatePermission reports whether s is a well-formed permission as a
// [Policy] grants it: one or more segments separated by ':', each made of
// lowercase ASCII letters, digits, '_', '-' and '.', at most [MaxNameLen]
// bytes in all. The last segment may be the wildcard "*", which grants
// every permission that starts with the segments before it and has at
// least one segment more: "users:*" grants "users:read" and
// "users:read:own" but neither "users" nor "usersx:read". The permission
// "*" alone grants everything.
//
// The error wraps [ErrInvalidPermission]. ValidatePermission never panics
// and does not allocate for a valid s.
func ValidatePermission(s string) error {
	if reason := checkPermission(s, true); reason != nil {
		return &PolicyError{Field: "permission", Value: s, Err: ErrInvalidPermission, reason: reason}
	}
	return nil
}

// checkPermission returns why s is not a valid permission, or nil. A
// wildcard is accepted only when wildcard is true.
func checkPermission(s string, wildcard bool) error {
	switch {
	case s == "":
		return errEmptyName
	case len(s) > MaxNameLen:
		return errNameTooLong
	case s == "*":
		if !wildcard {
			return errWildcardHere
		}
		return nil
	}
	segStart := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ':' {
			c := s[i]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '-', c == '.':
			case c == '*':
				// Only as a whole last segment, after at least one
				// other segment ("*" alone was handled above).
				if i != segStart || i != len(s)-1 || segStart == 0 {
					return errWildcardPlace
				}
				if !wildcard {
					return errWildcardHere
				}
			default:
				return errPermChar
			}
			continue
		}
		if i == segStart {
			return errEmptySegment
		}
		segStart = i + 1
	}
	return nil
}

// isWildcard reports whether the valid permission p is a wildcard.
func isWildcard(p string) bool { return p[len(p)-1] == '*' }

// checkRoleName returns why s is not a valid role name, or nil.
func checkRoleName(s string) error {
	switch {
	case s == "":
		return errEmptyName
	case len(s) > MaxNameLen:
		return errNameTooLong
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_-.:/@", c) >= 0:
		default:
			return errRoleChar
		}
	}
	return nil
}

// covers reports whether the granted permission g (valid, possibly a
// wildcard) covers the permission p (valid, possibly a wildcard). It is
// used for token scopes, which are matched with the same grammar.
func covers(g, p string) bool {
	if g == "*" {
		return true
	}
	if !isWildcard(g) {
		return g == p
	}
	// g is "prefix:*": p must start with "prefix:" and have something after.
	prefix := g[:len(g)-1]
	return len(p) > len(prefix) && strings.HasPrefix(p, prefix)
}

// quote renders a configuration value for an error message, bounded so a
// huge input cannot make a huge error.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
