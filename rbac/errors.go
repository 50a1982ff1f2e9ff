package rbac

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/httpguard/httpguard/internal/storefail"
)

// Errors in a policy. [NewPolicy] and [ParsePolicy] join one [*PolicyError]
// per problem, each wrapping one of these.
var (
	// ErrInvalidRoleName: a role name is empty, longer than [MaxNameLen],
	// or has a character other than ASCII letters, digits and _ - . : / @.
	ErrInvalidRoleName = errors.New("rbac: invalid role name")
	// ErrDuplicateRole: two roles have the same name.
	ErrDuplicateRole = errors.New("rbac: duplicate role")
	// ErrUnknownRole: a role inherits from a role the policy does not
	// define.
	ErrUnknownRole = errors.New("rbac: unknown role")
	// ErrInheritanceCycle: a role inherits from itself, directly or
	// through other roles.
	ErrInheritanceCycle = errors.New("rbac: role inheritance cycle")
	// ErrInvalidPermission: a permission is not well formed (see
	// [ValidatePermission]).
	ErrInvalidPermission = errors.New("rbac: invalid permission")
	// ErrNoRoles: the policy defines no role at all, which would deny
	// everything; it is almost always a policy that failed to load.
	ErrNoRoles = errors.New("rbac: policy defines no roles")
	// ErrTooLarge: the policy exceeds [MaxPolicyBytes], [MaxRoles],
	// [MaxGrants] or [MaxResolvedGrants].
	ErrTooLarge = errors.New("rbac: policy too large")
	// ErrPolicySyntax: a JSON policy document is malformed, has a
	// duplicate or unknown member, or trailing data.
	ErrPolicySyntax = errors.New("rbac: malformed policy document")
)

// Errors in [Options], a [Requirement] or a [Rule]. [New] and
// [Middleware.Guard] join one [*OptionError] per problem, each wrapping one
// of these.
var (
	// ErrNoPolicy: Options.Policy is nil, or a nil policy was given to
	// [Middleware.SetPolicy]. At request time, the guards of the zero
	// [Middleware], which has no policy, reject every request that has
	// an identity with an error wrapping ErrNoPolicy (403; one without
	// is ErrUnauthenticated, and its Handler answers [ErrNoRule]), and
	// the zero [Guard] rejects every request with it.
	ErrNoPolicy = errors.New("rbac: no policy")
	// ErrInvalidRequirement: a requirement names an invalid permission or
	// role, requires nothing, or sets contradictory fields.
	ErrInvalidRequirement = errors.New("rbac: invalid requirement")
	// ErrInvalidPattern: a rule's pattern is not a valid path pattern.
	ErrInvalidPattern = errors.New("rbac: invalid rule pattern")
	// ErrPatternConflict: two rules match the same requests and neither is
	// more specific, so which one applies would be ambiguous.
	ErrPatternConflict = errors.New("rbac: conflicting rule patterns")
	// ErrInvalidOption: another option is invalid.
	ErrInvalidOption = errors.New("rbac: invalid option")
)

// Reasons a request is rejected. The error passed to Options.OnReject is an
// [*AccessError] wrapping one of these, and carries the status code the
// default response uses.
var (
	// ErrUnauthenticated: no identity in the request context, or one
	// without a subject. Status 401.
	ErrUnauthenticated = errors.New("rbac: no authenticated identity")
	// ErrPermission: no role of the principal grants a required
	// permission. Status 403.
	ErrPermission = errors.New("rbac: permission not granted")
	// ErrRole: the principal holds none of the required roles. Status 403.
	ErrRole = errors.New("rbac: required role not held")
	// ErrNotOwner: the permission is granted only on the principal's own
	// resources, and the requested resource is not theirs. Status 403.
	ErrNotOwner = errors.New("rbac: resource not owned by the principal")
	// ErrScope: the credential's scopes do not cover a required permission
	// (see Options.ScopedMethods). Status 403.
	ErrScope = errors.New("rbac: credential scope does not cover the permission")
	// ErrNoRule: no rule of Options.Rules matches the request; the rule
	// table denies by default. Status 403.
	ErrNoRule = errors.New("rbac: no rule matches the request")
	// ErrAmbiguousPath: the request path has a percent-encoded slash,
	// backslash, percent sign, one of ";?#", dot or other unreserved
	// character, or control character; or a backslash or control
	// character as such; or the request target is opaque or not rooted;
	// or its RawPath does not decode to its Path (a middleware rewrote
	// one); or it is the path of a CONNECT request and not clean. Routers
	// disagree about those; the rule table refuses to guess. Status 400.
	ErrAmbiguousPath = errors.New("rbac: ambiguous request path")
	// ErrRolesUnavailable: Options.RolesFor returned an error, so the
	// principal's roles are not known and nothing is granted. Status 503,
	// with Retry-After. The *AccessError wraps the error of RolesFor
	// too. It has a method Unavailable() bool that reports true, by which
	// errorsafe answers it with 503 too.
	ErrRolesUnavailable = error(storefail.Error("rbac: roles unavailable"))
)

// unavailableRetryAfter is the Retry-After of a 503, in seconds, as auth
// sends when its store cannot answer.
const unavailableRetryAfter = "5"

// rolesUnavailable is the rejection for an error of Options.RolesFor.
// Unlike the others it is made per failure, to carry err for the log.
func rolesUnavailable(err error) *AccessError {
	e := &AccessError{Status: http.StatusServiceUnavailable, Err: fmt.Errorf("%w: %w", ErrRolesUnavailable, err)}
	e.msg = e.Err.Error()
	return e
}

// AccessError is the error given to Options.OnReject. Its fields are
// constants chosen at construction (the required permission or role comes
// from code or policy, never from the request), so it is safe to log, and
// the values are allocated once, so a rejection allocates nothing for it.
// The exception is [ErrRolesUnavailable]'s, whose Err also wraps the error
// of Options.RolesFor, made by the application. It must not be modified.
type AccessError struct {
	// Status is the status code the default rejection writes: 400, 401,
	// 403 or 503.
	Status int
	// Permission is the permission that was missing, if one was.
	Permission string
	// Role is set for ErrRole: the first of the required roles.
	Role string
	// Err is the reason: ErrUnauthenticated, ErrPermission, ...
	Err error

	msg string
}

func newAccessError(status int, err error, perm, role string) *AccessError {
	e := &AccessError{Status: status, Permission: perm, Role: role, Err: err}
	e.msg = err.Error()
	switch {
	case perm != "":
		e.msg += ": " + quote(perm)
	case role != "":
		e.msg += ": " + quote(role)
	}
	return e
}

// Error returns the reason and the permission or role concerned.
func (e *AccessError) Error() string {
	if e.msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.msg
}

// Unwrap returns Err.
func (e *AccessError) Unwrap() error { return e.Err }

// Shared rejection values for reasons that name no permission.
var (
	errUnauthenticated = newAccessError(http.StatusUnauthorized, ErrUnauthenticated, "", "")
	errNoPolicy        = newAccessError(http.StatusForbidden, ErrNoPolicy, "", "")
	errNoRule          = newAccessError(http.StatusForbidden, ErrNoRule, "", "")
	errAmbiguousPath   = newAccessError(http.StatusBadRequest, ErrAmbiguousPath, "", "")
)

// StatusOf returns the status code the default rejection writes for err:
// the Status of an [*AccessError] in its chain, or 403 for any other error.
// A custom Options.OnReject can use it to keep the standard codes.
func StatusOf(err error) int {
	var ae *AccessError
	if errors.As(err, &ae) && ae.Status != 0 {
		return ae.Status
	}
	return http.StatusForbidden
}

// PolicyError describes one problem in a policy.
type PolicyError struct {
	// Role is the name of the role concerned, if any.
	Role string
	// Field is the part of the role concerned: "name", "inherits",
	// "permissions", "own", or "policy" for the document as a whole.
	Field string
	// Value is the offending value, as written in the policy.
	Value string
	// Err is one of the policy sentinels (ErrUnknownRole, ...).
	Err error

	reason error // finer detail, for the message only
}

// Error describes the problem, naming the role, field and value.
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("rbac: ")
	if e.Role != "" {
		b.WriteString("role ")
		b.WriteString(quote(e.Role))
		b.WriteString(": ")
	}
	if e.Field != "" {
		writeField(&b, e.Field, e.Value)
	}
	writeReason(&b, e.Err, e.reason)
	return b.String()
}

// writeField writes field, the quoted value if there is one, and ": ".
func writeField(b *strings.Builder, field, value string) {
	b.WriteString(field)
	if value != "" {
		b.WriteByte(' ')
		b.WriteString(quote(value))
	}
	b.WriteString(": ")
}

// writeReason writes the sentinel's message without its "rbac: " prefix,
// then the finer reason, if any.
func writeReason(b *strings.Builder, sentinel, reason error) {
	b.WriteString(strings.TrimPrefix(sentinel.Error(), "rbac: "))
	if reason != nil {
		b.WriteString(": ")
		b.WriteString(reason.Error())
	}
}

// Unwrap returns Err.
func (e *PolicyError) Unwrap() error { return e.Err }

// errNoPolicyHint says how to fix a missing Options.Policy.
var errNoPolicyHint = errors.New("build one with NewPolicy, MustPolicy, ParsePolicy or LoadPolicy")

// OptionError describes one invalid option, requirement or rule.
type OptionError struct {
	// Field names the option, such as "Rules[2].Pattern" or
	// "Requirement.Permissions[0]".
	Field string
	// Value is the offending value, if it is a string.
	Value string
	// Err is one of the option sentinels (ErrInvalidPattern, ...).
	Err error

	reason error
}

// Error describes the problem, naming the field and value.
func (e *OptionError) Error() string {
	var b strings.Builder
	b.WriteString("rbac: ")
	writeField(&b, e.Field, e.Value)
	writeReason(&b, e.Err, e.reason)
	return b.String()
}

// Unwrap returns Err.
func (e *OptionError) Unwrap() error { return e.Err }
