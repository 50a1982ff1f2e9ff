package rbac_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/rbac"
)

// methodOverride is the override middleware of gorilla/handlers
// (HTTPMethodOverrideHandler): a POST becomes the PUT, PATCH or DELETE
// named by the _method form value (query or body) or the
// X-HTTP-Method-Override header.
func methodOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			om := r.FormValue("_method")
			if om == "" {
				om = r.Header.Get("X-HTTP-Method-Override")
			}
			if om == http.MethodPut || om == http.MethodPatch || om == http.MethodDelete {
				r.Method = om
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Found in review: the rule table matched r.Method only, so a POST that an
// override middleware behind it turns into a DELETE was checked under the
// POST rule (here the authenticated catch-all) and reached the DELETE
// handler without users:delete. Every method a POST asks to be read as is
// now a reading the request must also satisfy.
func TestMethodOverrideIsCheckedAsTheOverridingMethod(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	user, admin := principal("alice", "user"), principal("root", "admin")
	tests := []struct {
		name           string
		method, target string
		header, value  string
		id             identity.Identity
		want           int
		reason         error
	}{
		{"a plain POST falls to the catch-all", "POST", "/users/alice", "", "", user, 200, nil},
		{"X-HTTP-Method-Override DELETE needs the DELETE rule", "POST", "/users/alice", "X-HTTP-Method-Override", "DELETE", user, 403, rbac.ErrPermission},
		{"X-HTTP-Method DELETE", "POST", "/users/alice", "X-HTTP-Method", "DELETE", user, 403, rbac.ErrPermission},
		{"X-Method-Override DELETE", "POST", "/users/alice", "X-Method-Override", "DELETE", user, 403, rbac.ErrPermission},
		{"an override in lower case", "POST", "/users/alice", "X-HTTP-Method-Override", "delete", user, 403, rbac.ErrPermission},
		{"a _method query parameter", "POST", "/users/alice?_method=DELETE", "", "", user, 403, rbac.ErrPermission},
		{"a percent-encoded _method query parameter", "POST", "/users/alice?%5Fmethod=DELETE", "", "", user, 403, rbac.ErrPermission},
		{"a percent-encoded _method value", "POST", "/users/alice?_method=DEL%45TE", "", "", user, 403, rbac.ErrPermission},
		{"a second override header value", "POST", "/users/alice", "X-HTTP-Method-Override", "PUT, DELETE", user, 403, rbac.ErrPermission},
		{"an override to a method only the catch-all matches is checked under it", "POST", "/users/alice", "X-HTTP-Method-Override", "PURGE", user, 200, nil},
		{"an override the principal may use passes", "POST", "/users/alice", "X-HTTP-Method-Override", "PUT", user, 200, nil},
		{"an override to another user's PUT needs ownership", "POST", "/users/bob", "X-HTTP-Method-Override", "PUT", user, 403, rbac.ErrNotOwner},
		{"an admin may override to DELETE", "POST", "/users/alice", "X-HTTP-Method-Override", "DELETE", admin, 200, nil},
		{"an override naming POST itself changes nothing", "POST", "/users/alice", "X-HTTP-Method-Override", "POST", user, 200, nil},
		{"a parameter that only ends in _method is not one", "POST", "/users/alice?payment_method=DELETE", "", "", user, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.header != "" {
				// "a, b" is two header lines, each value checked.
				for v := range strings.SplitSeq(tt.value, ", ") {
					r.Header.Add(tt.header, v)
				}
			}
			r = withIdentity(r, tt.id)
			ctx, reason := problem.WithReason(r.Context())
			var ran string
			h := m.Handler(methodOverride(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = r.Method
			})))
			w := serve(h, r.WithContext(ctx))
			if w.Code != tt.want || !errors.Is(reason.Err(), tt.reason) && tt.reason != nil {
				t.Errorf("%s %s %s: %s: status %d (reason %v), want %d (%v); the handler ran %q",
					tt.method, tt.target, tt.header, tt.value, w.Code, reason.Err(), tt.want, tt.reason, ran)
			}
			if tt.want != 200 && ran != "" {
				t.Errorf("the handler ran %s", ran)
			}
		})
	}
}

// An overriding method that no rule matches is denied, as the same
// request sent with that method would be.
func TestMethodOverrideToAMethodNoRuleMatches(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "POST /items/{id}", Requirement: rbac.Requirement{Authenticated: true}},
	}})
	for _, target := range []string{"/items/1", "/items/1?_method=DELETE"} {
		r := httptest.NewRequest("POST", target, nil)
		if !strings.Contains(target, "?") {
			r.Header.Set("X-HTTP-Method-Override", "DELETE")
		}
		r = withIdentity(r, principal("alice", "user"))
		if err := m.Check(r); !errors.Is(err, rbac.ErrNoRule) {
			t.Errorf("POST %s overridden to DELETE: %v, want %v", target, err, rbac.ErrNoRule)
		}
	}
}

// The override of a method other than POST is ignored by the override
// middlewares (gorilla/handlers, echo, Rack), so it is not a reading.
func TestMethodOverrideOfOtherMethodsIsNotARead(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	r := httptest.NewRequest("GET", "/users/alice?_method=DELETE", nil)
	r.Header.Set("X-HTTP-Method-Override", "DELETE")
	r = withIdentity(r, principal("alice", "user"))
	if err := m.Check(r); err != nil {
		t.Errorf("GET with an override: %v", err)
	}
}

// Found in review: each method a POST asked for was checked in full, so
// a request repeating the override header, or naming a new method in each
// value, ran the OwnerFunc (a database query) once per value: 1 000 values
// made 1 001 calls. A rule is now checked once per path whatever the
// number of methods that reach it; the decision does not depend on the
// method.
func TestMethodOverrideChecksEachRuleOnce(t *testing.T) {
	var calls int
	self := rbac.PathValueIsSubject("id")
	owner := func(r *http.Request, id identity.Identity) bool {
		calls++
		return self(r, id)
	}
	m := newMiddleware(t, rbac.Options{Rules: []rbac.Rule{
		{Pattern: "/users/{id}", Requirement: rbac.Requirement{Permissions: []string{"users:update"}, Owner: owner}},
		{Pattern: "DELETE /users/{id}", Requirement: rbac.Requirement{Permissions: []string{"users:delete"}}},
	}})
	many := func(f func(i int) string) []string {
		out := make([]string, 1000)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name      string
		target    string
		overrides []string
		want      error
		wantCalls int
	}{
		{"one value", "/users/alice", []string{"PUT"}, nil, 1},
		{"the same value 1 000 times", "/users/alice", many(func(int) string { return "PUT" }), nil, 1},
		{"1 000 methods only the catch-all matches", "/users/alice", many(func(i int) string { return fmt.Sprintf("M%d", i) }), nil, 1},
		{"another user's record, 1 000 times", "/users/bob", many(func(int) string { return "PUT" }), rbac.ErrNotOwner, 1},
		{"a method with a rule of its own is still checked", "/users/alice", append(many(func(int) string { return "PUT" }), "DELETE"), rbac.ErrPermission, 1},
		{"an unclean path: each reading once", "/users/x/../alice", many(func(int) string { return "PATCH" }), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.target, nil)
			r.Header["X-Http-Method-Override"] = tt.overrides
			r = withIdentity(r, principal("alice", "user"))
			calls = 0
			if err := m.Check(r); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
			if calls != tt.wantCalls {
				t.Errorf("the OwnerFunc ran %d times, want %d", calls, tt.wantCalls)
			}
		})
	}
}
