package app

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// The roles, from least to most privileged.
const (
	RoleGuest = "guest"
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Permissions are named like the OAuth2 scopes that carry them, so that a
// token requested with fewer scopes loses the matching permissions.
const (
	scopeItemsRead    = "items:read"
	scopeProfileRead  = "profile:read"
	scopeProfileWrite = "profile:write"
	scopeUsersRead    = "users:read"
	scopeUsersDelete  = "users:delete"
)

var allScopes = []string{scopeItemsRead, scopeProfileRead, scopeProfileWrite, scopeUsersRead, scopeUsersDelete}

// ScopesFor returns the scopes a role grants: guest items:read; user adds
// profile:read and profile:write; admin adds users:read and users:delete.
// It returns nil for an unknown role.
func ScopesFor(role string) []string {
	switch role {
	case RoleGuest:
		return slices.Clone(allScopes[:1])
	case RoleUser:
		return slices.Clone(allScopes[:3])
	case RoleAdmin:
		return slices.Clone(allScopes)
	}
	return nil
}

// policy grants each role the permissions its scopes name. A user's
// profile permissions apply to their own record only.
func policy() (*rbac.Policy, error) {
	return rbac.NewPolicy(
		rbac.Role{Name: RoleGuest, Permissions: []string{scopeItemsRead}},
		rbac.Role{Name: RoleUser, Inherits: []string{RoleGuest}, Own: []string{scopeProfileRead, scopeProfileWrite}},
		rbac.Role{Name: RoleAdmin, Inherits: []string{RoleUser}, Permissions: []string{scopeUsersRead, scopeUsersDelete}},
	)
}

// guards are the per-route authorization requirements.
type guards struct {
	signedIn  func(http.Handler) http.Handler // any authenticated principal
	readUser  func(http.Handler) http.Handler // own record, or users:read
	delUser   func(http.Handler) http.Handler // users:delete
	readItems func(http.Handler) http.Handler // items:read
}

func newGuards() (*guards, error) {
	p, err := policy()
	if err != nil {
		return nil, err
	}
	m, err := rbac.New(rbac.Options{
		Policy: p,
		// A bearer token is limited to its scopes; a session holds all
		// of its user's.
		ScopedMethods:   []identity.Method{identity.MethodBearer},
		WWWAuthenticate: `Bearer realm="` + Realm + `"`,
		OnReject:        rejectAccess,
	})
	if err != nil {
		return nil, err
	}
	var g guards
	var errs []error
	guard := func(req rbac.Requirement) func(http.Handler) http.Handler {
		gd, err := m.Guard(req)
		errs = append(errs, err)
		if gd == nil {
			return nil
		}
		return gd.Handler
	}
	g.signedIn = guard(rbac.Requirement{Authenticated: true})
	g.readUser = guard(rbac.Requirement{AnyPermission: []string{scopeUsersRead, scopeProfileRead}, Owner: rbac.PathValueIsSubject("id")})
	g.delUser = guard(rbac.Requirement{Permissions: []string{scopeUsersDelete}})
	g.readItems = guard(rbac.Requirement{Permissions: []string{scopeItemsRead}})
	return &g, errors.Join(errs...)
}

// insufficientScope is the RFC 6750 §3.1 challenge for each permission a
// token may lack, rendered once, and insufficientScopeDPoP that of a
// DPoP-bound token (RFC 9449 §7.1).
var insufficientScope, insufficientScopeDPoP = scopeChallenges(`Bearer realm="` + Realm + `"`), scopeChallenges(`DPoP realm="` + Realm + `", algs="` + dpopAlgs + `"`)

func scopeChallenges(scheme string) map[string]string {
	m := make(map[string]string, len(allScopes))
	for _, s := range allScopes {
		m[s] = scheme + `, error="insufficient_scope", error_description="The access token lacks a required scope", scope="` + s + `"`
	}
	return m
}

// isDPoP reports whether r's token came in the DPoP scheme.
func isDPoP(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "DPoP")
}

// rejectAccess answers rbac's rejections as problems with the request ID;
// a token that lacks a scope gets the RFC 6750 insufficient_scope
// challenge naming it.
func rejectAccess(w http.ResponseWriter, r *http.Request, err error) {
	status := rbac.StatusOf(err)
	var ae *rbac.AccessError
	switch {
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
	case errors.Is(err, rbac.ErrScope) && errors.As(err, &ae):
		challenges := insufficientScope
		if isDPoP(r) {
			challenges = insufficientScopeDPoP
		}
		if c, ok := challenges[ae.Permission]; ok {
			w.Header().Set("WWW-Authenticate", c)
		}
	}
	errorsafe.WriteError(w, r, &errorsafe.Error{Status: status, Err: err})
}
