package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

func ExampleNewBasic() {
	users := auth.NewMemoryUsers()
	// In production the hash comes from a file or a database, made by
	// password.Hash; never keep a password in source.
	if err := users.AddPassword("alice", "correct horse battery staple", identity.Options{Roles: []string{"admin"}}); err != nil {
		log.Fatal(err)
	}
	basic, err := auth.NewBasic(auth.BasicOptions{
		Users:    users,
		Realm:    "staff",
		CacheTTL: time.Minute,
		OnRehash: users.Rehash,
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := basic.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintf(w, "hello %s (%s, admin=%v)\n", id.Subject(), id.Method(), id.HasRole("admin"))
	}))

	r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
	r.SetBasicAuth("alice", "correct horse battery staple")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())

	r = httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
	r.SetBasicAuth("alice", "wrong")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 hello alice (basic, admin=true)
	// 401 Basic realm="staff", charset="UTF-8"
}

func ExampleBasic_Handler_noCredentials() {
	basic := auth.MustNewBasic(auth.BasicOptions{Users: auth.NewMemoryUsers()})
	handler := basic.Handler(http.NotFoundHandler())

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	fmt.Println(w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 401
	// Basic realm="restricted", charset="UTF-8"
	// application/problem+json
	// {"type":"about:blank","title":"Unauthorized","status":401}
}

func ExampleCheckPassword() {
	users := auth.NewMemoryUsers()
	_ = users.AddPassword("alice", "correct horse battery staple", identity.Options{Scopes: []string{"read"}})

	opts, err := auth.CheckPassword(context.Background(), users, "alice", "correct horse battery staple")
	fmt.Println(opts.Subject, opts.Scopes, err)
	// The caller says how the principal authenticated.
	opts.Method = identity.MethodBearer
	fmt.Println(identity.New(opts).Method())

	_, err = auth.CheckPassword(context.Background(), users, "mallory", "guess")
	fmt.Println(errors.Is(err, auth.ErrInvalidCredentials))
	// Output:
	// alice [read] <nil>
	// bearer
	// true
}

func ExampleNewAPIKey() {
	keys := auth.NewMemoryAPIKeys()
	k, err := auth.GenerateAPIKey("live")
	if err != nil {
		log.Fatal(err)
	}
	// Show k.Key to its owner once; store only k.ID and k.Hash.
	_ = keys.Add(k.ID, auth.StoredAPIKey{Hash: k.Hash, Identity: identity.Options{Subject: "billing-service", Scopes: []string{"invoices:read"}}})

	apikey := auth.MustNewAPIKey(auth.APIKeyOptions{Keys: keys, Prefix: "live"})
	handler := apikey.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprintln(w, id.Subject(), id.Method(), id.HasScope("invoices:read"))
	}))

	r := httptest.NewRequest(http.MethodGet, "/v1/invoices", nil)
	r.Header.Set("X-API-Key", k.Key)
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())

	r.Header.Set("X-API-Key", "live_not-a-key")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 billing-service api_key true
	// 401 ApiKey realm="api"
}

func ExampleGenerateAPIKey() {
	k, _ := auth.GenerateAPIKey("test")
	prefix, id, err := auth.ParseAPIKey(k.Key)
	fmt.Println(prefix, id == k.ID, len(k.Key), len(k.Hash), err)
	// Output:
	// test true 74 64 <nil>
}

// Basic sends the password with every request: serve it over HTTPS only.
// Wrapping the mux in an authenticator that also guards the CORS
// preflight is the classic mistake: browsers send preflights without
// credentials, so the preflight fails with 401. Put CORS outside.
func ExampleBasic_Handler_incorrect() {
	basic := auth.MustNewBasic(auth.BasicOptions{Users: auth.NewMemoryUsers()})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions { // stands in for a CORS middleware
			w.WriteHeader(http.StatusNoContent)
		}
	})
	wrong := basic.Handler(api) // auth outside CORS: the preflight is refused
	r := httptest.NewRequest(http.MethodOptions, "/", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "GET")
	w := httptest.NewRecorder()
	wrong.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// 401
}
