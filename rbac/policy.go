package rbac

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/httpguard/httpguard/identity"
)

// Limits on a policy, so that a policy document cannot make construction
// or the permission matrix arbitrarily expensive.
const (
	// MaxRoles is the largest number of roles in a policy.
	MaxRoles = 1000
	// MaxGrants is the largest number of permission entries (Permissions
	// plus Own, over all roles) in a policy.
	MaxGrants = 10000
	// MaxResolvedGrants is the largest number of permission entries once
	// inheritance is resolved: each role counts its own entries and those
	// of every role it inherits from, directly or not, and the policy
	// sums its roles. Each resolved entry is kept in memory for fast
	// checks; without this limit a chain of roles over one granting many
	// permissions would multiply them by the length of the chain.
	MaxResolvedGrants = 100000
	// MaxPolicyBytes is the largest JSON policy document [ParsePolicy] and
	// [LoadPolicy] accept.
	MaxPolicyBytes = 1 << 20
)

// Role is one role of a [Policy], as written in Go code or in a JSON
// policy document.
type Role struct {
	// Name identifies the role, as it appears in [identity.Identity.Roles].
	// Names are compared exactly, case included. Required.
	Name string `json:"name"`
	// Description says what the role is for, for reviewers. Optional.
	Description string `json:"description,omitempty"`
	// Inherits names the roles whose grants this role includes: with
	// admin inheriting user and user inheriting guest, an admin has every
	// permission of a user and of a guest, and satisfies a requirement
	// for the role "user". Every name must be a role of the policy, and
	// inheritance must not loop.
	Inherits []string `json:"inherits,omitempty"`
	// Permissions are granted on every resource. See [ValidatePermission]
	// for the syntax and the wildcards.
	Permissions []string `json:"permissions,omitempty"`
	// Own are granted only on resources the principal owns, as an
	// [OwnerFunc] on the route decides: a user may read their own record
	// with "users:read" in Own, while an admin with "users:read" in
	// Permissions may read any. A route with no OwnerFunc treats every
	// resource as not owned.
	Own []string `json:"own,omitempty"`
}

// Grant says how a permission is granted.
type Grant uint8

// The possible grants, weakest first.
const (
	// Denied: the permission is not granted.
	Denied Grant = iota
	// OwnOnly: the permission is granted on the principal's own
	// resources only.
	OwnOnly
	// Allowed: the permission is granted on every resource.
	Allowed
)

// String returns "deny", "own" or "allow".
func (g Grant) String() string {
	switch g {
	case Allowed:
		return "allow"
	case OwnOnly:
		return "own"
	default:
		return "deny"
	}
}

// MarshalText encodes g as [Grant.String] does.
func (g Grant) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText decodes "deny", "own" or "allow".
func (g *Grant) UnmarshalText(b []byte) error {
	switch string(b) {
	case "allow":
		*g = Allowed
	case "own":
		*g = OwnOnly
	case "deny":
		*g = Denied
	default:
		return fmt.Errorf("rbac: invalid grant %s", quote(string(b)))
	}
	return nil
}

// Policy maps roles to the permissions they grant, with inheritance
// resolved and wildcards indexed at construction, so that a check is a few
// map lookups and allocates nothing.
//
// A Policy is immutable and safe for concurrent use. The zero Policy (and a
// nil *Policy) grants nothing. Build one with [NewPolicy] or [ParsePolicy];
// replace the one a [Middleware] uses with [Middleware.SetPolicy].
type Policy struct {
	roles  []Role // as defined, deep-copied, in definition order
	byName map[string]*roleEntry
}

// roleEntry is a role with inheritance resolved.
type roleEntry struct {
	// includes holds the role itself and every role it inherits from,
	// directly or not.
	includes map[string]struct{}
	// grants holds exact permissions and, for a wildcard "x:*", the
	// prefix "x:" (a valid exact permission never ends with ':').
	grants map[string]Grant
	// all is the grant of "*", if any.
	all Grant
}

// lookup returns the grant of the valid, non-wildcard or wildcard
// permission p. It does not allocate.
func (e *roleEntry) lookup(p string) Grant {
	best := e.all
	if best == Allowed {
		return best
	}
	if g, ok := e.grants[p]; ok && g > best {
		if g == Allowed {
			return g
		}
		best = g
	}
	// Every wildcard that could cover p is a prefix of p ending at a ':'.
	for i := strings.IndexByte(p, ':'); i >= 0; {
		if g, ok := e.grants[p[:i+1]]; ok && g > best {
			if g == Allowed {
				return g
			}
			best = g
		}
		j := strings.IndexByte(p[i+1:], ':')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return best
}

func (e *roleEntry) add(p string, g Grant) {
	if p == "*" {
		e.all = max(e.all, g)
		return
	}
	key := p
	if isWildcard(p) {
		key = p[:len(p)-1]
	}
	if g > e.grants[key] {
		e.grants[key] = g
	}
}

// NewPolicy validates roles and builds a [Policy] from a deep copy of them;
// changing roles afterwards has no effect. Every problem is reported: the
// error joins one [*PolicyError] per invalid name or permission, duplicate
// role, unknown parent and inheritance cycle.
func NewPolicy(roles ...Role) (*Policy, error) {
	var errs []error
	if len(roles) == 0 {
		return nil, &PolicyError{Field: "policy", Err: ErrNoRoles}
	}
	if len(roles) > MaxRoles {
		return nil, &PolicyError{Field: "policy", Err: ErrTooLarge, reason: fmt.Errorf("%d roles, at most %d", len(roles), MaxRoles)}
	}
	grants := 0
	for _, r := range roles {
		grants += len(r.Permissions) + len(r.Own)
	}
	if grants > MaxGrants {
		return nil, &PolicyError{Field: "policy", Err: ErrTooLarge, reason: fmt.Errorf("%d grants, at most %d", grants, MaxGrants)}
	}

	p := &Policy{roles: make([]Role, len(roles)), byName: make(map[string]*roleEntry, len(roles))}
	index := make(map[string]int, len(roles))
	for i, r := range roles {
		r = Role{
			Name:        r.Name,
			Description: r.Description,
			Inherits:    cloneStrings(r.Inherits),
			Permissions: cloneStrings(r.Permissions),
			Own:         cloneStrings(r.Own),
		}
		p.roles[i] = r
		if reason := checkRoleName(r.Name); reason != nil {
			errs = append(errs, &PolicyError{Role: r.Name, Field: "name", Value: r.Name, Err: ErrInvalidRoleName, reason: reason})
		} else if _, dup := index[r.Name]; dup {
			errs = append(errs, &PolicyError{Role: r.Name, Field: "name", Err: ErrDuplicateRole})
		} else {
			index[r.Name] = i
		}
		// The rest of a misnamed or duplicate role is checked too, so
		// that fixing its name reveals no new problem.
		for _, f := range []struct {
			field string
			perms []string
		}{{"permissions", r.Permissions}, {"own", r.Own}} {
			for _, perm := range f.perms {
				if reason := checkPermission(perm, true); reason != nil {
					errs = append(errs, &PolicyError{Role: r.Name, Field: f.field, Value: perm, Err: ErrInvalidPermission, reason: reason})
				}
			}
		}
	}
	for _, r := range p.roles {
		for _, parent := range r.Inherits {
			if _, ok := index[parent]; !ok {
				errs = append(errs, &PolicyError{Role: r.Name, Field: "inherits", Value: parent, Err: ErrUnknownRole})
			}
		}
	}
	errs = append(errs, findCycles(p.roles, index)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Resolve inheritance: each role includes itself and everything
	// reachable through Inherits. The graph is acyclic, so the roles a
	// role includes are itself and the union of those its parents
	// include, each computed once, as a bit set over the roles. (A walk
	// per role read the Inherits of every role it reached, once for
	// every role reaching it: 1 000 roles each inheriting the 140 before
	// it, a 0.9 MB document, took 5 s to build, and Inherits, which no
	// limit counts, could make it take any time.) The grants
	// each role resolves to are counted before any is indexed.
	words := (len(p.roles) + 63) / 64
	closure := make([][]uint64, len(p.roles))
	var include func(i int) []uint64
	include = func(i int) []uint64 {
		if closure[i] != nil {
			return closure[i]
		}
		set := make([]uint64, words)
		set[i/64] |= 1 << (i % 64)
		for _, parent := range p.roles[i].Inherits {
			for w, b := range include(index[parent]) {
				set[w] |= b
			}
		}
		closure[i] = set
		return set
	}
	entries := make([]*roleEntry, len(p.roles))
	resolved := 0
	for i := range p.roles {
		e := &roleEntry{includes: make(map[string]struct{})}
		for w, b := range include(i) {
			for ; b != 0; b &= b - 1 {
				def := p.roles[w*64+bits.TrailingZeros64(b)]
				e.includes[def.Name] = struct{}{}
				resolved += len(def.Permissions) + len(def.Own)
			}
		}
		entries[i] = e
	}
	if resolved > MaxResolvedGrants {
		return nil, &PolicyError{Field: "policy", Err: ErrTooLarge,
			reason: fmt.Errorf("%d grants with inheritance resolved, at most %d", resolved, MaxResolvedGrants)}
	}
	for i, r := range p.roles {
		e := entries[i]
		e.grants = make(map[string]Grant)
		for n := range e.includes {
			def := p.roles[index[n]]
			for _, perm := range def.Own {
				e.add(perm, OwnOnly)
			}
			for _, perm := range def.Permissions {
				e.add(perm, Allowed)
			}
		}
		p.byName[r.Name] = e
	}
	return p, nil
}

// MustPolicy is like [NewPolicy] but panics on error. Use it only for a
// policy written as constants in the program.
func MustPolicy(roles ...Role) *Policy {
	p, err := NewPolicy(roles...)
	if err != nil {
		panic(err)
	}
	return p
}

// findCycles reports every inheritance cycle once, naming its roles in
// order. Only roles that passed name and duplicate checks take part.
func findCycles(roles []Role, index map[string]int) []error {
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(roles))
	var errs []error
	var path []int
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		path = append(path, i)
		for _, parent := range roles[i].Inherits {
			j, ok := index[parent]
			if !ok {
				continue
			}
			switch color[j] {
			case white:
				visit(j)
			case grey:
				start := slices.Index(path, j)
				names := make([]string, 0, len(path)-start+1)
				for _, k := range path[start:] {
					names = append(names, roles[k].Name)
				}
				names = append(names, roles[j].Name)
				// The entry that closes the cycle is this role's.
				errs = append(errs, &PolicyError{
					Role: roles[i].Name, Field: "inherits", Value: parent, Err: ErrInheritanceCycle,
					reason: errors.New(strings.Join(names, " -> ")),
				})
			}
		}
		path = path[:len(path)-1]
		color[i] = black
	}
	for i, r := range roles {
		if j, ok := index[r.Name]; ok && j == i && color[i] == white {
			visit(i)
		}
	}
	return errs
}

// Roles returns a deep copy of the policy's roles in definition order.
func (p *Policy) Roles() []Role {
	if p == nil {
		return nil
	}
	out := make([]Role, len(p.roles))
	for i, r := range p.roles {
		out[i] = Role{
			Name:        r.Name,
			Description: r.Description,
			Inherits:    cloneStrings(r.Inherits),
			Permissions: cloneStrings(r.Permissions),
			Own:         cloneStrings(r.Own),
		}
	}
	return out
}

// RoleNames returns the names of the policy's roles in definition order.
func (p *Policy) RoleNames() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.roles))
	for i, r := range p.roles {
		out[i] = r.Name
	}
	return out
}

// Permissions returns every permission the policy mentions in Permissions
// or Own, wildcards included, sorted and without duplicates.
func (p *Policy) Permissions() []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, r := range p.roles {
		out = append(out, r.Permissions...)
		out = append(out, r.Own...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// RoleGrant returns how role grants perm, inheritance and wildcards
// included. An unknown role or an invalid permission gives [Denied]. perm
// may be a wildcard: "users:*" is granted only by "users:*" or a broader
// wildcard, not by "users:read".
func (p *Policy) RoleGrant(role, perm string) Grant {
	if p == nil || checkPermission(perm, true) != nil {
		return Denied
	}
	e, ok := p.byName[role]
	if !ok {
		return Denied
	}
	return e.lookup(perm)
}

// Grant returns the strongest grant of perm among id's roles. Roles the
// policy does not define grant nothing; an invalid permission gives
// [Denied]. It considers roles only: neither token scopes, which are the
// [Middleware]'s business (Options.ScopedMethods), nor the subject, so an
// identity without one, which every guard refuses as unauthenticated, gets
// its roles' grants here. To decide as a guard does, use
// [Middleware.Can]. It does not allocate.
func (p *Policy) Grant(id identity.Identity, perm string) Grant {
	if p == nil || checkPermission(perm, true) != nil {
		return Denied
	}
	return p.grant(id, perm)
}

// grant is Grant for a permission already known to be valid.
func (p *Policy) grant(id identity.Identity, perm string) Grant {
	best := Denied
	for i, n := 0, id.NumRoles(); i < n; i++ {
		e, ok := p.byName[id.Role(i)]
		if !ok {
			continue
		}
		if g := e.lookup(perm); g > best {
			if g == Allowed {
				return g
			}
			best = g
		}
	}
	return best
}

// Can reports whether one of id's roles grants perm on every resource,
// whatever id's scopes and subject. See [Policy.Grant]; a handler deciding
// a request uses [Middleware.Can].
func (p *Policy) Can(id identity.Identity, perm string) bool {
	return p.Grant(id, perm) == Allowed
}

// CanOwn reports whether one of id's roles grants perm at least on the
// resources id owns. See [Policy.Grant].
func (p *Policy) CanOwn(id identity.Identity, perm string) bool {
	return p.Grant(id, perm) >= OwnOnly
}

// HasRole reports whether id holds role, directly or through inheritance:
// with admin inheriting user, an admin has the role "user". Roles the
// policy does not define count for nothing, not even for themselves.
func (p *Policy) HasRole(id identity.Identity, role string) bool {
	if p == nil {
		return false
	}
	for i, n := 0, id.NumRoles(); i < n; i++ {
		if e, ok := p.byName[id.Role(i)]; ok {
			if _, ok := e.includes[role]; ok {
				return true
			}
		}
	}
	return false
}

// Includes reports whether role includes other, that is whether role is
// other or inherits from it, directly or not.
func (p *Policy) Includes(role, other string) bool {
	if p == nil {
		return false
	}
	e, ok := p.byName[role]
	if !ok {
		return false
	}
	_, ok = e.includes[other]
	return ok
}

// cloneStrings copies s, returning nil for an empty s so that a policy
// round-trips through JSON unchanged.
func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
