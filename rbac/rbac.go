package rbac

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/problem"
)

// DefaultChallenge is the WWW-Authenticate value sent with a 401 when
// Options.WWWAuthenticate is empty.
const DefaultChallenge = "Bearer"

// Options configures a [Middleware]. [New] copies and compiles it:
// changing Options afterwards has no effect.
type Options struct {
	// Policy maps roles to permissions. Required. Replace it while
	// serving with [Middleware.SetPolicy].
	Policy *Policy

	// Rules is an optional path rule table enforced by
	// [Middleware.Handler], for applications that cannot attach a
	// requirement to each route (see the package documentation, "Rule
	// table"). Prefer per-route guards ([Middleware.Require] and
	// friends): they cannot drift from the routes. Default: none, and
	// Handler then rejects every request with [ErrNoRule].
	Rules []Rule

	// ScopedMethods lists the authentication methods whose credentials
	// carry scopes that limit what the principal may do: for an identity
	// authenticated by one of them, every permission a requirement checks
	// must also be covered by one of the identity's scopes, matched with
	// the permission grammar ("users:read", "users:*", "*"). A token
	// minted with fewer scopes then cannot use all of its user's roles.
	// Typically []identity.Method{identity.MethodBearer}. Default: none,
	// scopes are ignored, and a bearer token can do whatever its user's
	// roles allow whatever scope it was issued with: set it whenever
	// tokens may carry fewer scopes than their user's roles (auth's token
	// endpoint narrows them on request). It is not the default because
	// tokens whose scopes do not follow the permission grammar (an
	// identity provider's "openid profile") would then be refused every
	// permission. Role requirements are not limited by scopes. Methods
	// are compared exactly: an entry that is empty, has white space
	// around it, or spells one of identity's methods with another letter
	// case ("Bearer") is an error from [New].
	ScopedMethods []identity.Method

	// WWWAuthenticate is the challenge sent in the WWW-Authenticate
	// header of a 401 response, which RFC 9110 requires. It must match the
	// authentication the application uses, such as
	// `Basic realm="api", charset="UTF-8"`. Default: [DefaultChallenge].
	WWWAuthenticate string

	// OnReject writes the response for a rejected request. err is an
	// [*AccessError] wrapping ErrUnauthenticated (status 401),
	// ErrAmbiguousPath (400), ErrRolesUnavailable (503) or another reason
	// (403); [StatusOf] returns
	// the status. The reason is recorded for the access log (errorsafe's
	// RejectReason) before OnReject is called. Default:
	// the generic RFC 9457 problem response for that status, with
	// WWW-Authenticate on a 401 and Retry-After: 5 on a 503. Never echo request data in the response.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)

	// RolesFor, if set, gives the roles of the request's principal,
	// which every check of the Middleware (its guards, its rule table
	// and their ownership checks) then reads instead of id's roles:
	// roles the application decides at request time, so that a user
	// demoted in its store loses the role at the next request rather
	// than when the token or session expires, and a user can hold
	// different roles in different organisations (RBAC with domains,
	// read from r.PathValue("org") and a lookup). id is the request's
	// identity, always with a subject: a request without one is refused
	// with 401 (ErrUnauthenticated) before RolesFor is called, and so is
	// any request when the Middleware has no policy. Its context is
	// r.Context(), which ends when the client goes away.
	//
	// It is called at most once per request per Middleware however many
	// of its guards the request passes, and the roles are shared with
	// the checks further in, unless the principal's subject or the
	// route matched (r.Pattern) changed in between: a guard or rule
	// table around the mux sees no path values, so the route's own guard
	// asks again with them. So r.PathValue holds the route's wildcards
	// in per-route guards only; the rule table's Handler, which runs
	// before the mux, sees none. ServeMux and chi (v5.2.5 checked) set
	// r.Pattern with the path values; behind a router that sets neither
	// (gorilla/mux, whose mux.Vars RolesFor would read) a route's guard
	// would reuse the roles resolved in front of the router, so give
	// per-route roles a Middleware of their own, used only behind the
	// router. [Guard.Check] and [Middleware.Check]
	// use the roles a Handler of the Middleware further out resolved, or
	// call RolesFor without keeping the answer.
	//
	// A name the policy does not define (empty, malformed, a role of
	// another application) grants nothing, as in an identity. The slice
	// is copied: the application may reuse it. Scopes still narrow the
	// roles as Options.ScopedMethods says, and the OwnerFunc still gets
	// id. An error refuses the request with 503 and Retry-After, an
	// [*AccessError] wrapping [ErrRolesUnavailable] and the error; id's
	// own roles are never used instead. A panic is not recovered, as in
	// an OwnerFunc: errorsafe's Recover, outermost, answers 500.
	// [Middleware.Can], which has no request, reads id's roles. It must
	// be safe for concurrent use. Default: nil, id's roles are used.
	RolesFor func(r *http.Request, id identity.Identity) ([]string, error)
}

// Middleware enforces role-based access control. Per-route guards come
// from [Middleware.Require], [Middleware.RequireAny],
// [Middleware.RequireRole], [Middleware.RequireOwner] and
// [Middleware.Guard]; [Middleware.Handler] enforces the optional rule
// table.
//
// A Middleware is safe for concurrent use, including [Middleware.SetPolicy]
// while serving. The zero Middleware is valid and fails closed: it has no
// policy, so its guards answer 401 without an identity and 403 with one, and
// it has no rules, so [Middleware.Handler] answers 403 ([ErrNoRule]) to every
// request, with an identity or without. A nil *Middleware answers
// [Middleware.Handler], [Middleware.Check], [Middleware.Can],
// [Middleware.Policy], [Middleware.Required] and [Middleware.Matrix] as the
// zero one does; the methods that configure it (SetPolicy, Guard and the
// Require family) panic on nil, at start-up.
type Middleware struct {
	policy    atomic.Pointer[Policy]
	rules     *ruleTable
	scoped    []identity.Method
	challenge string
	onReject  func(w http.ResponseWriter, r *http.Request, err error)
	rolesFor  func(r *http.Request, id identity.Identity) ([]string, error)

	mu       sync.Mutex
	required map[string]struct{} // permissions guards and rules require
}

// New validates opts and returns a Middleware. Every problem is reported:
// the error joins one [*PolicyError] or [*OptionError] per problem.
func New(opts Options) (*Middleware, error) {
	m := &Middleware{onReject: opts.OnReject, rolesFor: opts.RolesFor, challenge: DefaultChallenge}
	var errs []error
	if opts.Policy == nil {
		errs = append(errs, &OptionError{Field: "Policy", Err: ErrNoPolicy, reason: errNoPolicyHint})
	} else {
		m.policy.Store(opts.Policy)
	}
	if opts.WWWAuthenticate != "" {
		if !validHeaderValue(opts.WWWAuthenticate) {
			errs = append(errs, &OptionError{Field: "WWWAuthenticate", Value: opts.WWWAuthenticate, Err: ErrInvalidOption,
				reason: errors.New("must be a non-empty header value without control characters")})
		}
		m.challenge = opts.WWWAuthenticate
	}
	for i, meth := range opts.ScopedMethods {
		if reason := checkScopedMethod(meth); reason != nil {
			errs = append(errs, &OptionError{Field: fmt.Sprintf("ScopedMethods[%d]", i), Value: string(meth), Err: ErrInvalidOption, reason: reason})
		}
	}
	m.scoped = slices.Clone(opts.ScopedMethods)
	if len(opts.Rules) > 0 {
		t, rerrs := compileRules(m, opts.Rules)
		errs = append(errs, rerrs...)
		m.rules = t
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// MustNew is like [New] but panics on error.
func MustNew(opts Options) *Middleware {
	m, err := New(opts)
	if err != nil {
		panic(err)
	}
	return m
}

// identityMethods are the methods of the identity package, which
// ScopedMethods names by their exact spelling.
var identityMethods = [...]identity.Method{identity.MethodBasic, identity.MethodBearer, identity.MethodAPIKey, identity.MethodSession}

// checkScopedMethod returns why meth cannot be an entry of
// Options.ScopedMethods, or nil. Methods are compared exactly, so an entry
// with white space around it, or spelt as one of identity's methods with
// another letter case ("Bearer"), would match no identity and leave its
// tokens' scopes unchecked.
func checkScopedMethod(meth identity.Method) error {
	if meth == "" {
		return errEmptyName
	}
	if strings.TrimSpace(string(meth)) != string(meth) {
		return errors.New("white space around the method: methods are compared exactly")
	}
	for _, known := range identityMethods {
		if meth != known && strings.EqualFold(string(meth), string(known)) {
			return fmt.Errorf("methods are compared exactly: identity's method is %s", quote(string(known)))
		}
	}
	return nil
}

func validHeaderValue(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Policy returns the policy in force, or nil for the zero Middleware.
func (m *Middleware) Policy() *Policy {
	if m == nil {
		return nil
	}
	return m.policy.Load()
}

// SetPolicy replaces the policy in force, atomically: each check, by the
// rule table or by one guard, is decided entirely under the old policy or
// entirely under the new one. A request passing several checks (the rule
// table, then a guard) is checked by each under the policy in force when
// it runs, so a swap between them can admit what neither policy would.
// Guards and rules keep working, since they name permissions and roles,
// not a policy. A nil p is refused with [ErrNoPolicy].
func (m *Middleware) SetPolicy(p *Policy) error {
	if p == nil {
		return &OptionError{Field: "SetPolicy", Err: ErrNoPolicy}
	}
	m.policy.Store(p)
	return nil
}

// Can reports whether id may use perm on every resource under the policy
// in force, taking scopes into account when id's method is one of
// Options.ScopedMethods, as a guard requiring perm decides: an identity
// without a subject, which guards refuse as unauthenticated, may do
// nothing. It does not allocate.
func (m *Middleware) Can(id identity.Identity, perm string) bool {
	p := m.Policy()
	if p == nil || id.Subject() == "" || checkPermission(perm, true) != nil || p.grant(id, perm) != Allowed {
		return false
	}
	return !m.isScoped(id) || scopeCovers(id, perm)
}

func (m *Middleware) isScoped(id identity.Identity) bool {
	return len(m.scoped) > 0 && slices.Contains(m.scoped, id.Method())
}

// scopeCovers reports whether one of id's scopes covers perm. Scopes that
// are not well-formed permissions cover nothing.
func scopeCovers(id identity.Identity, perm string) bool {
	for i, n := 0, id.NumScopes(); i < n; i++ {
		s := id.Scope(i)
		if checkPermission(s, true) == nil && covers(s, perm) {
			return true
		}
	}
	return false
}

// reject records err and writes the rejection.
func (m *Middleware) reject(w http.ResponseWriter, r *http.Request, err error) {
	problem.SetReason(r, err)
	if m != nil && m.onReject != nil {
		m.onReject(w, r, err)
		return
	}
	status := http.StatusForbidden
	if ae, ok := err.(*AccessError); ok {
		status = ae.Status
	}
	if status == http.StatusServiceUnavailable {
		vals := headervals.Take(problem.Slots + 1)
		vals[problem.Slots] = unavailableRetryAfter
		w.Header()["Retry-After"] = vals[problem.Slots:]
		problem.WriteInto(w, status, vals[:problem.Slots:problem.Slots], false)
		return
	}
	if status != http.StatusUnauthorized {
		problem.WriteInto(w, status, headervals.Take(problem.Slots), false)
		return
	}
	challenge := DefaultChallenge
	if m != nil && m.challenge != "" {
		challenge = m.challenge
	}
	// The challenge and the problem's header values in slots of this
	// response alone, so a rejection allocates nothing for its headers.
	vals := headervals.Take(problem.Slots + 1)
	vals[problem.Slots] = challenge
	// The canonical spelling of WWW-Authenticate, as Set would store it.
	w.Header()["Www-Authenticate"] = vals[problem.Slots:]
	problem.WriteInto(w, status, vals[:problem.Slots:problem.Slots], false)
}

// principal returns the authenticated identity of r and the policy in
// force, or the reason to reject.
func (m *Middleware) principal(r *http.Request) (identity.Identity, *Policy, error) {
	id, ok := identity.FromRequest(r)
	if !ok || id.Subject() == "" {
		return identity.Identity{}, nil, errUnauthenticated
	}
	p := m.policy.Load()
	if p == nil {
		return id, nil, errNoPolicy
	}
	return id, p, nil
}

func (m *Middleware) register(perms ...[]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.required == nil {
		m.required = make(map[string]struct{})
	}
	for _, ps := range perms {
		for _, p := range ps {
			m.required[p] = struct{}{}
		}
	}
}

// Required returns every permission the guards and rules of m require,
// sorted.
func (m *Middleware) Required() []string {
	if m == nil {
		return []string{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.required))
	for p := range m.required {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Matrix returns the effective permission matrix of the policy in force,
// with a column for every permission a guard or rule requires, so that a
// requirement no role can meet shows up as an empty column. It returns nil
// for the zero Middleware.
func (m *Middleware) Matrix() *Matrix {
	p := m.Policy()
	if p == nil {
		return nil
	}
	return p.Matrix(m.Required()...)
}

// MatrixHandler serves [Middleware.Matrix] as JSON to GET and HEAD
// requests, for periodic access reviews. The matrix describes the whole
// authorization model: serve it only behind a guard such as
// m.RequireRole("admin").
func (m *Middleware) MatrixHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, http.StatusMethodNotAllowed)
			return
		}
		body, err := json.Marshal(m.Matrix())
		if err != nil {
			problem.Write(w, http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(append(body, '\n'))
	})
}
