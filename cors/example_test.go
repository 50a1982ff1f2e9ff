package cors_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/httpguard/httpguard/cors"
)

func show(h http.Handler, r *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code)
	for _, k := range []string{
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
	} {
		if v := rec.Header().Get(k); v != "" {
			fmt.Printf("%s: %s\n", k, v)
		}
	}
}

func Example() {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com"},
		AllowedMethods:   []string{http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type"},
		AllowCredentials: true,
		MaxAge:           time.Hour,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/items", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "items") })
	h := c.Handler(mux) // wrap the whole mux, outside authentication

	r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/items", nil)
	r.Header.Set("Origin", "https://admin.example.com")
	r.Header.Set("Access-Control-Request-Method", http.MethodPut)
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	show(h, r)
	// Output:
	// 204
	// Access-Control-Allow-Origin: https://admin.example.com
	// Access-Control-Allow-Credentials: true
	// Access-Control-Allow-Methods: PUT
	// Access-Control-Allow-Headers: content-type
	// Access-Control-Max-Age: 3600
	// Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network
}

// New refuses configurations that cannot be safe, reporting every problem.
func ExampleNew() {
	_, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"*", "https://example.com/"},
		AllowCredentials: true,
	})
	fmt.Println(errors.Is(err, cors.ErrWildcardCredentials), errors.Is(err, cors.ErrInvalidOrigin))
	// Output: true true
}

// A disallowed origin reaches the handler but gets no CORS header, only
// Vary, so the browser withholds the response from the calling script.
func ExampleMiddleware_Handler() {
	c := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for _, origin := range []string{"https://app.example.com", "https://evilexample.com"} {
		r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
		r.Header.Set("Origin", origin)
		show(h, r)
	}
	// Output:
	// 200
	// Access-Control-Allow-Origin: https://app.example.com
	// Vary: Origin
	// 200
	// Vary: Origin
}

// Check applies the same policy outside the middleware, here to the Origin
// of a WebSocket handshake.
func ExampleMiddleware_Check() {
	c := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://*.example.com"}})
	for _, origin := range []string{"https://chat.example.com", "https://example.com.evil.net"} {
		r := httptest.NewRequest(http.MethodGet, "https://ws.example.com/socket", nil)
		r.Header.Set("Origin", origin)
		fmt.Println(origin, c.Check(r))
	}
	// Output:
	// https://chat.example.com <nil>
	// https://example.com.evil.net cors: origin not allowed
}

// Incorrect: a method-specific pattern hides the preflight from the
// middleware. The browser sends OPTIONS /items before the PUT; the mux has
// no OPTIONS route, answers 405 without CORS headers, and the PUT is never
// sent. Wrap the whole mux instead, as in the package example.
func ExampleMiddleware_Handler_incorrect() {
	c := cors.MustNew(cors.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{http.MethodPut},
	})
	mux := http.NewServeMux()
	mux.Handle("PUT /items", c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))) // wrong

	r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", http.MethodPut)
	show(mux, r)
	// Output:
	// 405
}

// Incorrect: authentication outside CORS. Browsers send preflights without
// credentials, so the authentication middleware rejects them and the real
// request is never sent. Put CORS outside: c.Handler(requireAuth(mux)).
func ExampleMiddleware_Handler_incorrectAuthOutside() {
	c := cors.MustNew(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedHeaders:   []string{"Authorization"},
		AllowCredentials: true,
	})
	requireAuth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	preflight := func() *http.Request {
		r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/me", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", http.MethodGet)
		r.Header.Set("Access-Control-Request-Headers", "authorization")
		return r
	}
	show(requireAuth(c.Handler(ok)), preflight()) // wrong
	show(c.Handler(requireAuth(ok)), preflight()) // right
	// Output:
	// 401
	// 204
	// Access-Control-Allow-Origin: https://app.example.com
	// Access-Control-Allow-Credentials: true
	// Access-Control-Allow-Headers: authorization
	// Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network
}

// Choosing a policy: a public, credential-less API answers "*" and needs
// no Vary; an API that relies on cookies must list its origins, and every
// response then varies on Origin.
func Example_publicOrPrivate() {
	public := cors.MustNew(cors.Options{AllowedOrigins: []string{"*"}})
	private := cors.MustNew(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowCredentials: true,
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, c := range []*cors.Middleware{public, private} {
		r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
		r.Header.Set("Origin", "https://app.example.com")
		show(c.Handler(ok), r)
	}
	// Output:
	// 200
	// Access-Control-Allow-Origin: *
	// 200
	// Access-Control-Allow-Origin: https://app.example.com
	// Access-Control-Allow-Credentials: true
	// Vary: Origin
}

// The middleware in front of an httputil.ReverseProxy to a legacy backend
// that echoes every Origin with credentials. The proxy adds the backend's
// fields to the middleware's; ModifyResponse removes the backend's CORS
// headers, so an origin the middleware refuses gets no grant, and an
// allowed one gets a single Access-Control-Allow-Origin.
func ExampleMiddleware_ModifyResponse() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		fmt.Fprintln(w, `{"balance":42}`)
	}))
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	if err != nil {
		log.Fatal(err)
	}

	c, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true})
	if err != nil {
		log.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = c.ModifyResponse
	gateway := httptest.NewServer(c.Handler(proxy))
	defer gateway.Close()

	for _, origin := range []string{"https://app.example.com", "https://evil.example"} {
		req, _ := http.NewRequest(http.MethodGet, gateway.URL, nil)
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Printf("%s: Allow-Origin %q, Allow-Credentials %q\n", origin,
			res.Header.Values("Access-Control-Allow-Origin"), res.Header.Values("Access-Control-Allow-Credentials"))
	}
	// Output:
	// https://app.example.com: Allow-Origin ["https://app.example.com"], Allow-Credentials ["true"]
	// https://evil.example: Allow-Origin [], Allow-Credentials []
}
