package csrf_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/csrf"
)

func Example() {
	p, err := csrf.New(csrf.Options{
		TrustedOrigins: []string{"https://admin.example.com"},
		Exempt: []csrf.Exemption{
			{Pattern: "POST /webhooks/stripe", Reason: "server-to-server, authenticated by its signature"},
		},
	})
	if err != nil {
		panic(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	send := func(path, fetchSite, origin string) {
		r := httptest.NewRequest(http.MethodPost, "https://example.com"+path, nil)
		if fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(path, fetchSite, origin, rec.Code)
	}
	send("/transfer", "same-origin", "https://example.com")
	send("/transfer", "cross-site", "https://evil.example")
	send("/transfer", "cross-site", "https://admin.example.com")
	send("/transfer", "", "https://example.com") // an old browser
	send("/transfer", "", "")                    // curl
	send("/webhooks/stripe", "cross-site", "")
	// Output:
	// /transfer same-origin https://example.com 200
	// /transfer cross-site https://evil.example 403
	// /transfer cross-site https://admin.example.com 200
	// /transfer  https://example.com 200
	// /transfer   200
	// /webhooks/stripe cross-site  200
}

// Configuration mistakes are errors at start-up.
func ExampleNew() {
	_, err := csrf.New(csrf.Options{
		TrustedOrigins: []string{"example.com"}, // a host, not an origin
		Exempt:         []csrf.Exemption{{Pattern: "/hooks/"}},
	})
	fmt.Println(errors.Is(err, csrf.ErrInvalidTrustedOrigin), errors.Is(err, csrf.ErrInvalidExemption))
	// Output: true true
}

// A {name} wildcard exempts one segment, for webhooks per provider or per
// tenant, and nothing ServeMux would redirect there. A subtree is an error:
// it would exempt routes added under it later, unreviewed.
func ExampleExemption() {
	p := csrf.MustNew(csrf.Options{Exempt: []csrf.Exemption{
		{Pattern: "POST /hooks/{provider}", Reason: "each provider signs its calls; the handler verifies the signature"},
		{Pattern: "POST /t/{tenant}/hooks/stripe", Reason: "signed by Stripe with the tenant's secret"},
	}})
	for _, path := range []string{
		"/hooks/stripe",
		"/t/acme/hooks/stripe",
		"/hooks/stripe/",
		"/hooks//stripe",
		"/hooks/a%2Fb",
		"/t/acme/hooks/stripe/../../../../admin",
	} {
		r := httptest.NewRequest(http.MethodPost, "https://example.com"+path, nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		fmt.Println(path, p.Check(r) == nil)
	}

	_, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: "POST /hooks/{rest...}", Reason: "webhooks"}}})
	fmt.Println(err)
	// Output:
	// /hooks/stripe true
	// /t/acme/hooks/stripe true
	// /hooks/stripe/ false
	// /hooks//stripe false
	// /hooks/a%2Fb false
	// /t/acme/hooks/stripe/../../../../admin false
	// csrf: Options.Exempt[0]: "POST /hooks/{rest...}": invalid exemption: a {name...} wildcard matches a subtree, which would exempt routes added under it later without review: list each route, with {name} for one segment
}

// Check exposes the decision, and the reason, outside the middleware.
func ExampleMiddleware_Check() {
	p := csrf.MustNew(csrf.Options{})
	r := httptest.NewRequest(http.MethodPost, "https://example.com/transfer", nil)
	r.Header.Set("Origin", "https://evil@example.com")
	fmt.Println(p.Check(r))
	// Output: csrf: malformed Origin
}

// Tokens for forms served to old browsers: render the field with
// TemplateField and the middleware checks it on submission.
func ExampleTemplateField() {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // in production: 32 random bytes from your secret store
	p := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key}})
	form := template.Must(template.New("form").Parse(
		`<form method="post" action="/transfer">{{.CSRF}}<button>Send</button></form>`))
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = form.Execute(w, map[string]any{"CSRF": csrf.TemplateField(r)})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
	// The token differs on every render; hide it.
	fmt.Println(regexp.MustCompile(`value="[^"]{86}"`).ReplaceAllString(rec.Body.String(), `value="…"`))
	c := rec.Result().Cookies()[0]
	fmt.Println(c.Name, c.Secure, c.HttpOnly)
	// Output:
	// <form method="post" action="/transfer"><input type="hidden" name="csrf_token" value="…"><button>Send</button></form>
	// __Host-csrf true true
}

// A service with both browser forms and clients that are not browsers (an
// OAuth2 token endpoint, a bearer-token API) keeps the checks without
// tokens in the stack and wraps only the browser routes in a Middleware
// with tokens: a token is required of a request that carries neither
// Sec-Fetch-Site nor Origin, which is what curl and server-to-server
// clients send too. (With sessions, add SessionID: sessions.Token to the
// TokenOptions; session.Middleware.Token reads the session ID.)
func ExampleTokenOptions() {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // in production: 32 random bytes from your secret store
	everyRoute := csrf.MustNew(csrf.Options{})
	forms := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key}})

	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("POST /token", ok)      // OAuth2 clients
	mux.Handle("DELETE /api/{id}", ok) // bearer tokens
	mux.Handle("POST /login", forms.Handler(ok))
	h := everyRoute.Handler(mux)

	for _, route := range []string{"POST /token", "DELETE /api/1", "POST /login"} {
		method, path, _ := strings.Cut(route, " ")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "https://example.com"+path, nil)) // neither header, no token
		fmt.Println(route, rec.Code)
	}
	// Output:
	// POST /token 200
	// DELETE /api/1 200
	// POST /login 403
}

// In an application embedded in other sites' iframes, the token cookie
// must be one the browser keeps in a cross-site frame: Partitioned makes
// it a partitioned SameSite=None cookie, kept apart for each embedding
// site.
func ExampleTokenOptions_partitioned() {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // in production: 32 random bytes from your secret store
	p := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key, Always: true, Partitioned: true}})
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, csrf.Token(r))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://widget.example/form", nil))
	c := rec.Result().Cookies()[0]
	fmt.Println(c.Name, "Secure:", c.Secure, "SameSite=None:", c.SameSite == http.SameSiteNoneMode, "Partitioned:", c.Partitioned)

	// The frame posts its form to its own origin.
	r := httptest.NewRequest(http.MethodPost, "https://widget.example/send", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("X-CSRF-Token", rec.Body.String())
	r.AddCookie(c)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println("post from the frame:", rec.Code)

	_, err := csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: key, Partitioned: true, DangerouslyAllowInsecureCookie: true}})
	fmt.Println(err)
	// Output:
	// __Host-csrf Secure: true SameSite=None: true Partitioned: true
	// post from the frame: 200
	// csrf: Options.Tokens.Partitioned: invalid token options: browsers reject a Partitioned cookie without Secure, which DangerouslyAllowInsecureCookie drops
}

// Behind a TLS-terminating proxy the server sees plain http, so an old
// browser's Origin ("https://...") would not match the request's own
// origin, while an http page of the same host would. Tell the package
// which proxy to believe, once, through clientip; or give the public
// origin when the proxy also rewrites Host.
func Example_behindAProxy() {
	direct := csrf.MustNew(csrf.Options{})
	proxied := csrf.MustNew(csrf.Options{ClientIP: clientip.MustNew(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})})
	rewritten := csrf.MustNew(csrf.Options{ClientIP: clientip.MustNew(clientip.Options{
		PublicOrigin: "https://www.example.com",
	})})

	// An old browser (no Sec-Fetch-Site) posting to https://www.example.com,
	// as the application behind the proxy receives it.
	r := httptest.NewRequest(http.MethodPost, "http://www.example.com/transfer", nil)
	r.RemoteAddr = "10.0.0.7:41000"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("Origin", "https://www.example.com")
	fmt.Println("no proxy configured:", direct.Check(r))
	fmt.Println("trusted proxy:", proxied.Check(r))

	// The same request from an http page of the host, which anyone on the
	// network path can serve where HSTS is not in force.
	r.Header.Set("Origin", "http://www.example.com")
	fmt.Println("no proxy configured, from http:", direct.Check(r))
	fmt.Println("trusted proxy, from http:", proxied.Check(r))

	r.Header.Set("Origin", "https://www.example.com")
	r.Host = "app-backend:8080"
	fmt.Println("public origin:", rewritten.Check(r))
	// Output:
	// no proxy configured: csrf: Origin does not match the request's origin
	// trusted proxy: <nil>
	// no proxy configured, from http: <nil>
	// trusted proxy, from http: csrf: Origin does not match the request's origin
	// public origin: <nil>
}
