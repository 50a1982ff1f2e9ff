package rbac

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/httpguard/httpguard/identity"
)

// OwnerFunc reports whether the resource r addresses belongs to id, for
// permissions a role grants only on the principal's own resources
// ([Role].Own). It runs after the identity and the permissions have been
// checked, and only when an own-only grant is what would allow the request,
// so an admin with an unconditional grant never pays for it. It must be
// safe for concurrent use. If it cannot decide (a database error), it must
// return false: the request is then rejected with [ErrNotOwner]. In the
// rule table it runs once for each reading of the path (cleaned and as
// sent) that reaches an own-only grant, with that reading's path values,
// and every call must approve.
//
// Behind a per-route guard on an [net/http.ServeMux] route, r.PathValue
// holds the route's wildcards. In the rule table, the matched rule's
// wildcards are set with [net/http.Request.SetPathValue] before the call
// and set back to what they were after it: the next handler does not see
// them.
type OwnerFunc func(r *http.Request, id identity.Identity) bool

// PathValueIsSubject returns an [OwnerFunc] for routes such as
// "GET /users/{id}": the resource is owned when the path wildcard name is
// non-empty and equal to the principal's subject.
func PathValueIsSubject(name string) OwnerFunc {
	return func(r *http.Request, id identity.Identity) bool {
		v := r.PathValue(name)
		return v != "" && v == id.Subject()
	}
}

// Requirement says what a request needs. Its conditions combine with AND:
// every permission of Permissions, at least one of AnyPermission, and at
// least one of Roles. A permission the principal's roles grant only on
// their own resources counts when Owner reports that the resource is
// theirs.
type Requirement struct {
	// Permissions must all be granted. Wildcards are not allowed here.
	Permissions []string
	// AnyPermission: at least one must be granted, if any are listed.
	AnyPermission []string
	// Roles: the principal must hold at least one, directly or through
	// inheritance, if any are listed.
	Roles []string
	// Owner decides whether the request's resource belongs to the
	// principal, which own-only grants need. Without it, own-only grants
	// never apply. Setting it without Permissions or AnyPermission is an
	// error, since it would have no effect.
	Owner OwnerFunc
	// Authenticated must be true for a requirement with no permission and
	// no role, which admits any authenticated principal. Requiring it
	// keeps an empty Requirement from admitting everyone by accident.
	Authenticated bool
}

// reqPerm is a required permission with its precomputed rejections.
type reqPerm struct {
	perm                    string
	denied, scope, notOwner *AccessError
}

func newReqPerm(p string) reqPerm {
	return reqPerm{
		perm:     p,
		denied:   newAccessError(http.StatusForbidden, ErrPermission, p, ""),
		scope:    newAccessError(http.StatusForbidden, ErrScope, p, ""),
		notOwner: newAccessError(http.StatusForbidden, ErrNotOwner, p, ""),
	}
}

// compiledReq is a validated [Requirement] with every rejection value
// allocated in advance.
type compiledReq struct {
	all     []reqPerm
	any     []reqPerm
	roles   []string
	roleErr *AccessError
	owner   OwnerFunc
	cache   atomic.Pointer[reqCache]
}

// compileRequirement validates req; field names it in errors.
func compileRequirement(field string, req Requirement) (*compiledReq, []error) {
	var errs []error
	bad := func(f, v string, reason error) {
		errs = append(errs, &OptionError{Field: field + f, Value: v, Err: ErrInvalidRequirement, reason: reason})
	}
	c := &compiledReq{owner: req.Owner}
	for i, p := range req.Permissions {
		if reason := checkPermission(p, false); reason != nil {
			bad(fmt.Sprintf(".Permissions[%d]", i), p, reason)
			continue
		}
		c.all = append(c.all, newReqPerm(p))
	}
	for i, p := range req.AnyPermission {
		if reason := checkPermission(p, false); reason != nil {
			bad(fmt.Sprintf(".AnyPermission[%d]", i), p, reason)
			continue
		}
		c.any = append(c.any, newReqPerm(p))
	}
	for i, role := range req.Roles {
		if reason := checkRoleName(role); reason != nil {
			bad(fmt.Sprintf(".Roles[%d]", i), role, reason)
			continue
		}
		c.roles = append(c.roles, role)
	}
	if len(req.Roles) > 0 && len(c.roles) > 0 {
		c.roleErr = newAccessError(http.StatusForbidden, ErrRole, "", c.roles[0])
	}
	empty := len(req.Permissions) == 0 && len(req.AnyPermission) == 0 && len(req.Roles) == 0
	if empty && !req.Authenticated {
		bad("", "", errors.New("requires nothing: list permissions or roles, or set Authenticated"))
	}
	if req.Owner != nil && len(req.Permissions) == 0 && len(req.AnyPermission) == 0 {
		bad(".Owner", "", errors.New("has no effect without Permissions or AnyPermission"))
	}
	return c, errs
}

// permissions returns every permission c names.
func (c *compiledReq) permissions() []string {
	out := make([]string, 0, len(c.all)+len(c.any))
	for _, p := range c.all {
		out = append(out, p.perm)
	}
	for _, p := range c.any {
		out = append(out, p.perm)
	}
	return out
}

// reqCache holds, for one policy, what each role of the policy grants of
// a requirement's permissions, so that a check costs one map lookup per
// role of the principal instead of one per role, permission and wildcard
// prefix. It is built on the first check under a policy and replaced when
// the policy is swapped.
type reqCache struct {
	policy *Policy
	roles  map[string]*roleVerdict // roles granting nothing are left out
}

type roleVerdict struct {
	grants  []Grant // for c.all, then c.any
	hasRole bool    // the role includes one of c.roles
}

// verdicts returns the cache for p, building it if needed. Concurrent
// builders store equivalent caches, so the last store wins harmlessly.
func (c *compiledReq) verdicts(p *Policy) *reqCache {
	if rc := c.cache.Load(); rc != nil && rc.policy == p {
		return rc
	}
	rc := &reqCache{policy: p, roles: make(map[string]*roleVerdict)}
	for name, e := range p.byName {
		v := &roleVerdict{grants: make([]Grant, len(c.all)+len(c.any))}
		useful := false
		for i, rp := range c.all {
			v.grants[i] = e.lookup(rp.perm)
			useful = useful || v.grants[i] != Denied
		}
		for i, rp := range c.any {
			v.grants[len(c.all)+i] = e.lookup(rp.perm)
			useful = useful || v.grants[len(c.all)+i] != Denied
		}
		for _, r := range c.roles {
			if _, ok := e.includes[r]; ok {
				v.hasRole, useful = true, true
				break
			}
		}
		if useful {
			rc.roles[name] = v
		}
	}
	c.cache.Store(rc)
	return rc
}

// maxCachedRoles is how many useful roles of one principal a check holds
// on the stack; a principal with more falls back to direct lookups.
const maxCachedRoles = 8

// principalVerdicts is the part of a reqCache that concerns one principal.
type principalVerdicts struct {
	vs   [maxCachedRoles]*roleVerdict
	n    int
	slow bool
}

func (pv *principalVerdicts) load(rc *reqCache, id identity.Identity) {
	for i, n := 0, id.NumRoles(); i < n; i++ {
		if !pv.add(rc, id.Role(i)) {
			return
		}
	}
}

// loadNames is load for the role names Options.RolesFor gave.
func (pv *principalVerdicts) loadNames(rc *reqCache, names []string) {
	for _, name := range names {
		if !pv.add(rc, name) {
			return
		}
	}
}

// add adds the verdict of the role name, if it is useful, and reports
// false once there are too many to hold.
func (pv *principalVerdicts) add(rc *reqCache, name string) bool {
	v, ok := rc.roles[name]
	if !ok {
		return true
	}
	if pv.n == maxCachedRoles {
		pv.slow = true
		return false
	}
	pv.vs[pv.n] = v
	pv.n++
	return true
}

// grant returns the strongest grant of the k-th permission (in c.all, then
// c.any) among the principal's roles.
func (pv *principalVerdicts) grant(k int) Grant {
	best := Denied
	for i := 0; i < pv.n; i++ {
		if g := pv.vs[i].grants[k]; g > best {
			best = g
		}
	}
	return best
}

func (pv *principalVerdicts) hasRole() bool {
	for i := 0; i < pv.n; i++ {
		if pv.vs[i].hasRole {
			return true
		}
	}
	return false
}

// check decides whether id, under p, meets c. The roles are id's, or if
// roles is not nil those Options.RolesFor gave; scopes and the OwnerFunc
// read id. Cheap checks come first; the OwnerFunc, which may query a
// database, runs last and at most once per call. The rule table calls check once for every reading of the path
// that reaches the rule (cleaned, raw, ignoring case), so a non-canonical
// path may run the OwnerFunc up to four times.
// If pat is not nil, the rule table matched it against path, and its
// wildcards are set on r for the OwnerFunc, then set back. check does not
// allocate unless it sets path values or builds the cache for a new
// policy.
func (c *compiledReq) check(m *Middleware, p *Policy, r *http.Request, id identity.Identity, roles *[]string, pat *pattern, path string) error {
	var pv principalVerdicts
	if roles == nil {
		pv.load(c.verdicts(p), id)
	} else {
		pv.loadNames(c.verdicts(p), *roles)
	}
	grant := func(k int, perm string) Grant {
		if !pv.slow {
			return pv.grant(k)
		}
		if roles != nil {
			return p.grantNames(*roles, perm)
		}
		return p.grant(id, perm)
	}
	if len(c.roles) > 0 {
		held := pv.hasRole()
		if pv.slow {
			held = false
			for _, role := range c.roles {
				if roles != nil && p.hasRoleNames(*roles, role) || roles == nil && p.HasRole(id, role) {
					held = true
					break
				}
			}
		}
		if !held {
			return c.roleErr
		}
	}
	scoped := m.isScoped(id)
	var ownerErr *AccessError // set when an own-only grant is needed
	for i := range c.all {
		rp := &c.all[i]
		g := grant(i, rp.perm)
		if g == Denied {
			return rp.denied
		}
		if scoped && !scopeCovers(id, rp.perm) {
			return rp.scope
		}
		if g == OwnOnly && ownerErr == nil {
			ownerErr = rp.notOwner
		}
	}
	if len(c.any) > 0 {
		var ownCandidate, scopeErr *AccessError
		satisfied := false
		for i := range c.any {
			rp := &c.any[i]
			g := grant(len(c.all)+i, rp.perm)
			if g == Denied {
				continue
			}
			if scoped && !scopeCovers(id, rp.perm) {
				if scopeErr == nil {
					scopeErr = rp.scope
				}
				continue
			}
			if g == Allowed {
				satisfied = true
				break
			}
			if ownCandidate == nil {
				ownCandidate = rp.notOwner
			}
		}
		if !satisfied {
			switch {
			case ownCandidate != nil:
				if ownerErr == nil {
					ownerErr = ownCandidate
				}
			case scopeErr != nil:
				return scopeErr
			default:
				return c.any[0].denied
			}
		}
	}
	if ownerErr != nil {
		if c.owner == nil {
			return ownerErr
		}
		if pat == nil {
			if !c.owner(r, id) {
				return ownerErr
			}
			return nil
		}
		// The rule's wildcards are set for the OwnerFunc alone.
		var buf [4]string
		saved := pat.setPathValues(r, path, buf[:0])
		owned := c.owner(r, id)
		pat.restorePathValues(r, saved)
		if !owned {
			return ownerErr
		}
	}
	return nil
}

// Guard is a compiled [Requirement] bound to its [Middleware]: it follows
// the Middleware's policy, scopes and rejection handler. A Guard is safe for
// concurrent use. The zero Guard fails closed: it rejects every request
// with [ErrNoPolicy] (403).
type Guard struct {
	m   *Middleware
	req *compiledReq
}

// Guard validates req and returns its Guard. The error joins one
// [*OptionError] per problem. Permissions and roles are checked for syntax
// only, since the policy can change; [Middleware.Matrix] shows required
// permissions that no role grants.
func (m *Middleware) Guard(req Requirement) (*Guard, error) {
	c, errs := compileRequirement("Requirement", req)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.register(c.permissions())
	return &Guard{m: m, req: c}, nil
}

// Check returns nil if r may proceed, or the reason it may not: an
// [*AccessError]. It reads the principal from r's context (see the
// identity package) and does not allocate unless the OwnerFunc does or
// Options.RolesFor is called.
//
// With Options.RolesFor, it reads the roles a Handler of the Middleware
// further out resolved for the request, or calls RolesFor.
func (g *Guard) Check(r *http.Request) error {
	_, err := g.check(r)
	return err
}

// check is Check, and also returns the roles it had Options.RolesFor
// resolve, if it called it, for Handler to pass on.
func (g *Guard) check(r *http.Request) (*resolvedRoles, error) {
	if g == nil || g.m == nil || g.req == nil {
		return nil, errNoPolicy
	}
	id, p, err := g.m.principal(r)
	if err != nil {
		return nil, err
	}
	if g.m.rolesFor == nil {
		return nil, g.req.check(g.m, p, r, id, nil, nil, "")
	}
	rr, fresh := g.m.resolveRoles(r, id)
	if rr.err != nil {
		return nil, rr.err
	}
	if err := g.req.check(g.m, p, r, id, &rr.roles, nil, ""); err != nil {
		return nil, err
	}
	if !fresh {
		return nil, nil
	}
	return rr, nil
}

// Handler returns a handler that calls next when r passes [Guard.Check]
// and rejects it through Options.OnReject otherwise. With
// Options.RolesFor, the roles it resolved go with the request to the
// checks of the Middleware further in. The method value
// g.Handler is a func(http.Handler) http.Handler.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rr, err := g.check(r)
		if err != nil {
			var m *Middleware // nil rejects with the default response
			if g != nil {
				m = g.m
			}
			m.reject(w, r, err)
			return
		}
		if rr != nil {
			r = g.m.withRoles(r, rr)
		}
		next.ServeHTTP(w, r)
	})
}

func (m *Middleware) mustGuard(method string, req Requirement) func(http.Handler) http.Handler {
	g, err := m.Guard(req)
	if err != nil {
		panic("rbac: " + method + ": " + err.Error())
	}
	return g.Handler
}

// Require returns a middleware admitting a principal whose roles grant
// every one of perms on every resource. Roles that grant a permission only
// on owned resources do not count; use [Middleware.RequireOwner] for
// those routes. Like [net/http.ServeMux.Handle] with a bad pattern, it
// panics if perms is empty or malformed, since perms are constants of the
// program; use [Middleware.Guard] to get an error instead.
func (m *Middleware) Require(perms ...string) func(http.Handler) http.Handler {
	return m.mustGuard("Require", Requirement{Permissions: perms})
}

// RequireAny returns a middleware admitting a principal whose roles grant
// at least one of perms on every resource. It panics as
// [Middleware.Require] does.
func (m *Middleware) RequireAny(perms ...string) func(http.Handler) http.Handler {
	return m.mustGuard("RequireAny", Requirement{AnyPermission: perms})
}

// RequireRole returns a middleware admitting a principal holding at least
// one of roles, directly or through inheritance (an admin inheriting user
// holds "user"). Prefer permissions, which say what a route does rather
// than who may do it. It panics if roles is empty or malformed.
func (m *Middleware) RequireRole(roles ...string) func(http.Handler) http.Handler {
	return m.mustGuard("RequireRole", Requirement{Roles: roles})
}

// RequireOwner returns a middleware admitting a principal whose roles
// grant every one of perms either on every resource, or only on their own
// resources when owner reports that the request's resource is theirs:
//
//	mux.Handle("GET /users/{id}", m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read")(h))
//
// lets an admin read any user and a user read only themselves. It panics
// if owner is nil or perms is empty or malformed.
func (m *Middleware) RequireOwner(owner OwnerFunc, perms ...string) func(http.Handler) http.Handler {
	if owner == nil {
		panic("rbac: RequireOwner: nil OwnerFunc")
	}
	return m.mustGuard("RequireOwner", Requirement{Permissions: perms, Owner: owner})
}
