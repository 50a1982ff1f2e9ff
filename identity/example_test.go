package identity_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/httpguard/httpguard/identity"
)

// An authenticating middleware puts the principal in the context; any
// handler further in reads it.
func Example() {
	authn := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := identity.New(identity.Options{Subject: "alice", Method: identity.MethodBearer, Roles: []string{"admin"}})
			next.ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), id)))
		})
	}
	h := authn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		fmt.Println(ok, id.Subject(), id.Method(), id.HasRole("admin"))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output: true alice bearer true
}

// A middleware outside the authenticating one learns who the request was
// from through a Recorder.
func ExampleWithRecorder() {
	ctx, rec := identity.WithRecorder(httptest.NewRequest("GET", "/", nil).Context())
	_ = identity.NewContext(ctx, identity.New(identity.Options{Subject: "bob"})) // further in
	id, ok := rec.Identity()
	fmt.Println(ok, id.Subject())
	// Output: true bob
}
