// Package rbac is role-based access control for [net/http]: roles grant
// permissions, roles inherit from roles, and each route states what it
// needs. Everything not granted is denied.
//
//	policy, err := rbac.ParsePolicy(policyJSON) // or rbac.NewPolicy(roles...)
//	if err != nil {
//		log.Fatal(err)
//	}
//	m, err := rbac.New(rbac.Options{Policy: policy})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("DELETE /users/{id}", m.Require("users:delete")(deleteUser))
//	mux.Handle("GET /users/{id}", m.RequireOwner(rbac.PathValueIsSubject("id"), "users:read")(getUser))
//
// The principal comes from the [identity] package, where auth or session
// put it; rbac imports neither. Place rbac after them (see the recommended
// order in the httpguard package).
//
// # Policy
//
// A [Policy] is a set of [Role] values, written in Go or loaded from JSON
// with [ParsePolicy] or [LoadPolicy]. A role has a name, the roles it
// inherits from, the permissions it grants on every resource
// (Permissions) and those it grants only on resources the principal owns
// (Own). Permissions are strings of lowercase segments separated by ':',
// such as "users:delete"; a role may grant "users:*" (every permission
// under "users:", but neither "users" nor "usersx:read") or "*" (all).
// [ValidatePermission] gives the grammar.
//
// Construction validates everything and reports every problem at once:
// malformed role names and permissions, duplicate roles, unknown parents
// and inheritance cycles, each as a [*PolicyError] naming the role, the
// field and the value. Inheritance and wildcards are resolved then, so a
// check at request time is a few map lookups and allocates nothing.
//
// JSON policies are read strictly: an unknown or misspelt member, a member
// given twice, a value of the wrong type or trailing data is an error,
// because a policy that silently loses a line is a security bug.
//
// # Guards
//
// [Middleware.Require] (all of the permissions), [Middleware.RequireAny]
// (one of them), [Middleware.RequireRole] (one of the roles, inheritance
// included) and [Middleware.RequireOwner] return middleware to wrap a
// single route's handler; [Middleware.Guard] takes a full [Requirement]
// and returns an error instead of panicking on a malformed one. Attaching
// requirements to routes, rather than to path strings, means the router's
// own decision is the one that is guarded.
//
// Without an identity with a subject, a guard answers 401 with a
// WWW-Authenticate challenge; with one that lacks what the route needs, it
// answers 403. Both go through Options.OnReject, default a generic RFC 9457
// problem response that names nothing of the policy; the reason, an
// [*AccessError] wrapping [ErrUnauthenticated], [ErrPermission],
// [ErrRole], [ErrNotOwner], [ErrScope] or [ErrRolesUnavailable], is
// recorded for an access log
// (errorsafe's RejectReason reads it).
//
// # Ownership
//
// Personal data needs "a user may read their own record, an admin any
// record". Grant the permission in the user role's Own list and in the
// admin role's Permissions, and guard the route with an [OwnerFunc], a
// function of the request and the identity such as [PathValueIsSubject].
// The OwnerFunc runs last, only when an own-only grant is what would
// allow the request, so admins never pay for a database lookup. A route
// without an OwnerFunc treats every resource as not owned.
//
// # Scopes
//
// A token may carry fewer rights than its user: with
// Options.ScopedMethods set to the methods whose credentials carry scopes
// (typically bearer tokens), every permission a guard checks must also be
// covered by one of the identity's scopes, matched with the permission
// grammar. Sessions and other methods are not limited.
//
// # Roles decided at request time
//
// The identity's roles were fixed when its token was issued or its session
// logged in: an admin demoted now stays admin until then, and a user has
// the same roles everywhere. Options.RolesFor asks the application for the
// principal's roles at each request instead, from its database, and may
// read the request: with r.PathValue("org") a user can be admin of one
// organisation and viewer of another, as casbin's RBAC with domains
// (GetRolesForUserInDomain) does. Every check of the Middleware then reads
// those roles, and only those.
//
// It is called after the identity is found (a request without one is 401
// without a call), and its answer goes with the request to the
// Middleware's guards further in, so nested guards make one call. A guard
// or rule table in front of the mux sees no path values: the route's
// guard, behind the mux, asks again with them, so such a request makes
// two. Put checks that need per-route roles
// in per-route guards. An error refuses the request with 503 and
// Retry-After ([ErrRolesUnavailable]): the identity's roles are never used
// instead. Scopes still narrow what the roles grant.
//
// # Rule table
//
// For an application that cannot attach a guard to each route,
// Options.Rules is a table of [Rule] values enforced by
// [Middleware.Handler] in front of the router. Patterns use the syntax and
// precedence of [net/http.ServeMux] ("GET /users/{id}", "/admin/", "/{$}");
// conflicting patterns are errors at [New], as ServeMux panics on them.
// The table denies by default: a request no rule matches gets 403
// [ErrNoRule], so list public paths with AllowAnonymous.
//
// Rule tables of other projects have been bypassed again and again by the
// gap between the path the table checked and the path the router served:
// "//admin" (caddyserver/caddy#1859), "/public/../admin"
// (GHSA-p224-6x5r-fjpm), "%2e%2e" and "%2f" (GHSA-xf64-8mw2-4gr2,
// GHSA-gm3x-23wp-hc2c), letter case (GHSA-g7pc-pc7g-h8jh), opaque request
// targets (GHSA-f52w-8j3h-j724). This table therefore
//
//   - matches the path cleaned as ServeMux cleans it, and also the raw
//     path, with and without wildcards matching its empty segments
//     ("//admin" is "/{tenant}/admin" to httprouter and gin), and also
//     all of these with letter case (and the method's case) ignored, and
//     requires every rule any of these readings selects: a request must
//     satisfy each rule it could be routed to. Letter case is
//     Unicode's: "/Ärzte/" covers "/ärzte/", "/users/" covers "/uſers/"
//     (U+017F, which strings.EqualFold takes for "s"), and "/admin/"
//     covers "/admİn/" and "/admın/" ("İ" and "ı", which
//     strings.ToLower and strings.ToUpper map to "i" and "I");
//   - refuses with 400 [ErrAmbiguousPath] a path with a percent-encoded
//     unreserved character, '/', '\', '%', ';', '?' or '#', a control
//     character or backslash, an opaque or unrooted request target, a
//     URL whose RawPath does not decode to its Path (left by a
//     middleware that rewrote Path: ServeMux routes on Path, chi on
//     RawPath), and a CONNECT request whose path is not clean ("//admin",
//     "/a/../b"), which ServeMux routes as sent, without cleaning;
//   - reads a POST also as each method it asks a method-override
//     middleware for (X-HTTP-Method-Override, X-HTTP-Method,
//     X-Method-Override, a _method query parameter), each of which must
//     match a rule and satisfy it. A _method field in a form body is not
//     read: a middleware honouring one belongs outside the rule table.
//
// A subtree rule "/admin/" does not cover "/admin" itself, as in ServeMux
// (which redirects "/admin" to "/admin/"); add a rule for "/admin" if the
// router serves it.
//
// # Audit and reload
//
// [Policy.Can], [Policy.CanOwn], [Policy.Grant] and [Middleware.Can] answer
// "may this principal do that"; [Policy.Matrix] and [Middleware.Matrix]
// give the effective role × permission matrix with inheritance resolved,
// printable with [Matrix.WriteText] and served as JSON by
// [Middleware.MatrixHandler], so roles can be reviewed regularly.
// [Middleware.SetPolicy] swaps the policy atomically while serving: each
// check (the rule table's, or one guard's) is decided wholly under the old
// or wholly under the new policy. A request that passes several checks,
// the rule table and then a route's guard or guards nested, is checked by
// each under the policy in force when it runs: a swap between them can
// admit it with one permission the old policy grants and another only
// the new one grants. Put what a route needs in one [Requirement] when
// that matters.
//
// # Security considerations
//
//   - Deny by default: unknown roles grant nothing, unknown permissions are
//     granted to no one, a zero [Middleware] rejects everything, and an
//     empty [Requirement] is an error unless Authenticated says that any
//     signed-in principal will do.
//   - Prefer permissions over roles in guards: "users:delete" says what a
//     route does, so adding a role never means editing routes.
//   - Role names are compared exactly, case included, with the names in
//     the identity (or those Options.RolesFor returns). Make sure the
//     authenticating side cannot be made to emit a role name the attacker
//     chooses (for example, a self-service profile field copied into a
//     token's roles claim).
//   - Roles in a token or session outlive a demotion until they expire;
//     Options.RolesFor reads them from the application at each request.
//     A RolesFor that reads the request must trust only what the router
//     matched (path values) or the identity, never a header or query
//     parameter the client chooses.
//   - An identity with an empty subject is treated as anonymous. An
//     [OwnerFunc] must compare against a non-empty value, as
//     [PathValueIsSubject] does; "" == "" would make every record owned.
//   - Scopes are ignored unless Options.ScopedMethods names the methods
//     whose credentials carry them.
//   - The default rejection reveals nothing of the policy: neither the
//     permission nor the role appears in the response. The [*AccessError]
//     holds them for logs.
//   - The permission matrix describes the whole authorization model: serve
//     it only behind an admin guard.
//
// Concurrency: a [Policy] is immutable; a [Middleware] and its [Guard]
// values are safe for concurrent use, including [Middleware.SetPolicy].
package rbac
