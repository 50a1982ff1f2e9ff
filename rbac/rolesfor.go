package rbac

import (
	"context"
	"net/http"
	"slices"

	"github.com/httpguard/httpguard/identity"
)

// rolesKey is the context key under which a Middleware keeps the roles
// Options.RolesFor gave for a request, for its checks further in. Each
// Middleware has its own: two of them never share roles.
type rolesKey struct{ m *Middleware }

// resolvedRoles is the answer of Options.RolesFor for one request.
type resolvedRoles struct {
	// subject and pattern are the principal's subject and r.Pattern when
	// RolesFor was called: a check further in that sees others asks
	// again, since the roles may depend on them (a route's path values
	// are set when the mux matches it).
	subject, pattern string
	roles            []string     // a copy of what RolesFor returned
	err              *AccessError // set when RolesFor failed
}

// resolveRoles returns the roles the checks of m read for r and id when
// Options.RolesFor is set: those a Handler of m further out kept in r's
// context for the same subject and route, or else the answer of RolesFor,
// and then fresh is true.
func (m *Middleware) resolveRoles(r *http.Request, id identity.Identity) (rr *resolvedRoles, fresh bool) {
	if rr, ok := r.Context().Value(rolesKey{m}).(*resolvedRoles); ok && rr.subject == id.Subject() && rr.pattern == r.Pattern {
		return rr, false
	}
	roles, err := m.rolesFor(r, id)
	rr = &resolvedRoles{subject: id.Subject(), pattern: r.Pattern}
	if err != nil {
		rr.err = rolesUnavailable(err)
		return rr, true
	}
	rr.roles = slices.Clone(roles)
	return rr, true
}

// withRoles returns r carrying rr for the checks of m further in.
func (m *Middleware) withRoles(r *http.Request, rr *resolvedRoles) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), rolesKey{m}, rr))
}

// grantNames is [Policy.grant] for role names rather than an identity's.
// The two are kept apart on purpose: one loop over a type that holds
// either kind of roles cost Policy.Can 37–70% and the guard a fifth of
// its time in a benchmark (benchstat, 6 interleaved rounds).
func (p *Policy) grantNames(names []string, perm string) Grant {
	best := Denied
	for _, name := range names {
		e, ok := p.byName[name]
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

// hasRoleNames is [Policy.HasRole] for role names.
func (p *Policy) hasRoleNames(names []string, role string) bool {
	for _, name := range names {
		if e, ok := p.byName[name]; ok {
			if _, ok := e.includes[role]; ok {
				return true
			}
		}
	}
	return false
}
