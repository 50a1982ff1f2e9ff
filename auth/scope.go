package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

// ScopeOptions configures [NewScopeCheck].
type ScopeOptions struct {
	// Scopes are required, all of them (RFC 6749 §3.3 scope tokens of at
	// most 256 bytes, compared exactly). Required: at least one.
	Scopes []string
	// Realm is the realm of the WWW-Authenticate challenge. Default
	// [DefaultRealm].
	Realm string
	// ResourceMetadata, when set, is the URL of the resource's metadata
	// (RFC 9728), sent as the resource_metadata parameter of the
	// challenges, as JWTOptions.ResourceMetadata is. Default: none.
	ResourceMetadata string
	// OnReject writes the response for a rejected request; err wraps
	// [ErrNoCredentials] (no identity in the context: the check was
	// installed without an authenticating middleware in front of it) or
	// [ErrInsufficientScope]. Default: 401 with the Bearer challenge, or
	// 403 with WWW-Authenticate: Bearer error="insufficient_scope" and
	// the required scope (RFC 6750 §3.1), in the DPoP scheme for a
	// request whose token came with it (RFC 9449 §7.1).
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// ScopeCheck is the middleware built by [NewScopeCheck]: it lets a request
// through only if the [identity.Identity] an authenticating middleware put
// in its context has every required scope. It is safe for concurrent use.
// The zero value rejects every request.
type ScopeCheck struct {
	required     []string
	onReject     func(http.ResponseWriter, *http.Request, error)
	challenge    string
	challengeBad string
	dpopBad      string // challengeBad in the DPoP scheme
}

var (
	errScopeNotConfigured = fmt.Errorf("%w: scope check not configured (use NewScopeCheck)", ErrInsufficientScope)
	errNoIdentity         = fmt.Errorf("%w: no authenticated identity", ErrNoCredentials)
)

// NewScopeCheck validates opts and returns the middleware.
func NewScopeCheck(opts ScopeOptions) (*ScopeCheck, error) {
	var errs []error
	if len(opts.Scopes) == 0 {
		errs = append(errs, errors.New("auth: ScopeOptions.Scopes is required"))
	}
	for _, s := range opts.Scopes {
		if !validScopeToken(s) {
			errs = append(errs, fmt.Errorf("auth: ScopeOptions.Scopes: %q is not a scope token", s))
		}
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	if !jwtRealmOK(realm) {
		errs = append(errs, errors.New("auth: ScopeOptions.Realm must be printable ASCII without quotes or backslashes"))
	}
	params := `realm="` + realm + `"`
	if m := opts.ResourceMetadata; m != "" {
		if err := checkIdentifierURL(m, true); err != nil {
			errs = append(errs, fmt.Errorf("auth: ScopeOptions.ResourceMetadata: %w", err))
		}
		params += `, resource_metadata="` + m + `"`
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := `Bearer ` + params
	bad := params + `, error="insufficient_scope", error_description="The access token lacks a required scope", scope="` + strings.Join(opts.Scopes, " ") + `"`
	return &ScopeCheck{
		required:     append([]string(nil), opts.Scopes...),
		onReject:     opts.OnReject,
		challenge:    c,
		challengeBad: "Bearer " + bad,
		dpopBad:      "DPoP " + bad,
	}, nil
}

// RequireScopes returns a middleware that requires every one of scopes,
// with the default responses. It panics if no scope is given or one is
// not a valid scope token: call it with constants, at start-up.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	s, err := NewScopeCheck(ScopeOptions{Scopes: scopes})
	if err != nil {
		panic(err)
	}
	return s.Handler
}

// Check reports whether r's identity has every required scope: nil, an
// error wrapping [ErrNoCredentials] when r carries no authenticated
// identity (none, or one without a subject), or one wrapping
// [ErrInsufficientScope] when a scope is missing (and for the zero or nil
// ScopeCheck, which refuses every request).
func (s *ScopeCheck) Check(r *http.Request) error {
	if s == nil || len(s.required) == 0 {
		return errScopeNotConfigured
	}
	id, ok := identity.FromRequest(r)
	if !ok || id.Subject() == "" {
		// An identity without a subject is not authenticated
		// (identity.Options.Subject), as rbac has it.
		return errNoIdentity
	}
	for _, want := range s.required {
		if !id.HasScope(want) {
			return ErrInsufficientScope
		}
	}
	return nil
}

// Handler returns next wrapped by the check.
func (s *ScopeCheck) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Check(r); err != nil {
			s.reject(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *ScopeCheck) reject(w http.ResponseWriter, r *http.Request, err error) {
	problem.SetReason(r, err)
	if s != nil && s.onReject != nil {
		s.onReject(w, r, err)
		return
	}
	if errors.Is(err, ErrNoCredentials) {
		c := `Bearer realm="` + DefaultRealm + `"`
		if s != nil && s.challenge != "" {
			c = s.challenge
		}
		writeRejection(w, http.StatusUnauthorized, "Www-Authenticate", c)
		return
	}
	if s != nil && s.challengeBad != "" {
		// A token that came with the DPoP scheme is answered in that
		// scheme (RFC 9449 §7.1).
		c := s.challengeBad
		if v := r.Header["Authorization"]; len(v) == 1 {
			if _, dpop, _ := parseDPoP(v[0]); dpop {
				c = s.dpopBad
			}
		}
		writeRejection(w, http.StatusForbidden, "Www-Authenticate", c)
		return
	}
	writeRejection(w, http.StatusForbidden, "", "")
}
