package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// policyDocument is the JSON form of a policy:
//
//	{"roles": [{"name": "admin", "inherits": ["user"], "permissions": ["users:*"]}, ...]}
type policyDocument struct {
	Roles []Role `json:"roles"`
}

// ParsePolicy builds a [Policy] from a JSON document of the form
//
//	{
//	  "roles": [
//	    {"name": "guest", "permissions": ["data:view"]},
//	    {"name": "user", "inherits": ["guest"], "own": ["users:read", "users:update"]},
//	    {"name": "admin", "inherits": ["user"], "permissions": ["users:*", "data:*"]}
//	  ]
//	}
//
// with the members of [Role] (name, description, inherits, permissions,
// own). Parsing is strict, because a policy that silently loses a grant or
// a restriction is a security bug: an unknown member (a misspelt "inherit"),
// a member given twice in one object (which parsers resolve differently),
// a value of the wrong type, or trailing data after the document is an
// error wrapping [ErrPolicySyntax]; a document over [MaxPolicyBytes] is
// one wrapping [ErrTooLarge]. The roles are then validated as by
// [NewPolicy].
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, &PolicyError{Field: "policy", Err: ErrTooLarge, reason: fmt.Errorf("more than %d bytes", MaxPolicyBytes)}
	}
	if err := checkDuplicateKeys(data); err != nil {
		return nil, &PolicyError{Field: "policy", Err: ErrPolicySyntax, reason: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc policyDocument
	if err := dec.Decode(&doc); err != nil {
		return nil, &PolicyError{Field: "policy", Err: ErrPolicySyntax, reason: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &PolicyError{Field: "policy", Err: ErrPolicySyntax, reason: errors.New("data after the document")}
	}
	return NewPolicy(doc.Roles...)
}

// LoadPolicy reads a JSON policy document from r, at most
// [MaxPolicyBytes], and parses it with [ParsePolicy].
func LoadPolicy(r io.Reader) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("rbac: reading policy: %w", err)
	}
	return ParsePolicy(data)
}

// MarshalJSON encodes the policy in the form [ParsePolicy] reads, roles in
// definition order. A nil Policy encodes as null.
func (p *Policy) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	return json.Marshal(policyDocument{Roles: p.roles})
}

var (
	errDuplicateKey  = errors.New("duplicate member")
	errUnknownMember = errors.New("unknown member")
)

// memberNames are the member names of a policy document, matched exactly:
// encoding/json would also accept "Name", "NAME" or "roleſ" (with U+017F),
// which makes two spellings of one member possible.
var memberNames = map[string]struct{}{
	"roles": {}, "name": {}, "description": {}, "inherits": {}, "permissions": {}, "own": {},
}

// checkDuplicateKeys walks the JSON document and reports the first object
// with a member name given twice or not spelt exactly as a known member, or
// a syntax error. encoding/json keeps
// the last of duplicate members while other parsers keep the first, so a
// document with duplicates could mean two different policies.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(depth int) error
	walk = func(depth int) error {
		if depth > 16 {
			return errors.New("nested too deeply")
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '{':
			seen := make(map[string]struct{})
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if _, known := memberNames[key]; !known {
					return fmt.Errorf("%w %s", errUnknownMember, quote(key))
				}
				if _, dup := seen[key]; dup {
					return fmt.Errorf("%w %s", errDuplicateKey, quote(key))
				}
				seen[key] = struct{}{}
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	}
	return walk(0)
}
