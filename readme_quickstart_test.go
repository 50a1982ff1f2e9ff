package httpguard_test

// The README's quick starts and its recommended stack are the bodies of
// the "readme:" functions at the end of this file, copied verbatim
// (TestREADMEQuickStartsAreTested compares them), so that the code a new
// user pastes compiles against the packages as they are. The other tests of this file run them and
// check what their comments promise. Each function's parameters stand for
// what the README says is the user's own (mux, resolver, srv, the stores
// and handlers), and a closing return hands back what the block builds.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard"
	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/doccheck"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/rbac"
	"github.com/httpguard/httpguard/sanitize"
	"github.com/httpguard/httpguard/session"
)

// TestREADMEQuickStartsAreTested checks that every Go block of the
// README's recommended stack and quick starts is the body of a "readme:"
// function of this file, and that every such function is shown there.
func TestREADMEQuickStartsAreTested(t *testing.T) {
	t.Parallel()
	blocks := doccheck.GoBlocks(t, "README.md", "Recommended stack order", "Quick starts")
	doccheck.Match(t, "the README's quick starts", blocks, doccheck.FuncBodies(t, "readme_quickstart_test.go", "readme: "))
	// These listen on :80 and :443: they are compiled, not run (the
	// stack itself is run by readme_stack_test.go).
	_, _ = readmeStackCode, readmeHTTPS
}

// invoiceStore stands for the errorsafe quick start's store.
type invoiceStore struct{ ErrNotFound error }

func (s invoiceStore) Invoice(_ context.Context, id string) (map[string]string, error) {
	switch id {
	case "1":
		return map[string]string{"id": "1"}, nil
	case "2":
		return nil, fmt.Errorf("select invoice 2: %w", s.ErrNotFound)
	}
	return nil, errors.New("pq: connection to 10.0.0.7:5432 refused")
}

// readmeUser and userStore stand for the ValidateLogin quick start's user store.
type readmeUser struct {
	Disabled        bool
	PasswordVersion int
}

type userStore map[string]*readmeUser

func (s userStore) Get(_ context.Context, name string) (*readmeUser, error) {
	return s[name], nil
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func discardLogs(t *testing.T) {
	t.Helper()
	// errorsafe's default logger is slog.Default; the quick start does not
	// set one.
	log.SetOutput(discard{})
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestREADMEQuickStartErrorsafe(t *testing.T) {
	discardLogs(t)
	mux, srv := http.NewServeMux(), &http.Server{}
	readmeErrorsafe(mux, nil, invoiceStore{ErrNotFound: errors.New("not found")}, srv)
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/invoices/1", `{"id":"1"}`, 200},
		{"/invoices/2", `"detail":"Not found."`, 404},
		{"/invoices/3", `"title":"Internal Server Error"`, 500},
	} {
		w := serve(srv.Handler, httptest.NewRequest(http.MethodGet, c.path, nil))
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.body) || strings.Contains(w.Body.String(), "10.0.0.7") ||
			w.Header().Get("X-Request-Id") == "" {
			t.Errorf("GET %s: %d %q, X-Request-Id %q; want %d with %s, a request ID and nothing of the cause",
				c.path, w.Code, w.Body, w.Header().Get("X-Request-Id"), c.status, c.body)
		}
	}
}

// TestREADMEQuickStartHTTPS checks what the https and headers quick start
// says of its two servers, which it cannot run (they listen on :80 and
// :443): it builds their handlers with the same expressions, which it
// first finds in readmeHTTPS, then serves them requests. Port 80
// redirects GET and HEAD to the canonical host, whatever Host the request
// named, refuses other methods with 400, and sends the security headers
// without HSTS; port 443 sends HSTS.
func TestREADMEQuickStartHTTPS(t *testing.T) {
	t.Parallel()
	body := doccheck.FuncBodies(t, "readme_quickstart_test.go", "readme: ")["readmeHTTPS"]
	for _, expr := range []string{
		"headers.New(headers.HTML())",
		`https.NewRedirect(https.RedirectOptions{Host: "example.com"})`,
		"Handler: sec.Handler(mux)",
		"Handler: sec.Handler(rd.Handler(http.NotFoundHandler()))",
	} {
		if !strings.Contains(body, expr) {
			t.Fatalf("the quick start no longer has %s: update this test", expr)
		}
	}
	sec, err := headers.New(headers.HTML())
	if err != nil {
		t.Fatal(err)
	}
	rd, err := https.NewRedirect(https.RedirectOptions{Host: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	tlsHandler, plainHandler := sec.Handler(mux), sec.Handler(rd.Handler(http.NotFoundHandler()))

	for _, c := range []struct {
		method, url string
		status      int
		location    string
	}{
		{http.MethodGet, "http://example.com/a?b=c", http.StatusMovedPermanently, "https://example.com/a?b=c"},
		{http.MethodHead, "http://example.com/a", http.StatusMovedPermanently, "https://example.com/a"},
		{http.MethodGet, "http://evil.example/a", http.StatusMovedPermanently, "https://example.com/a"},
		{http.MethodPost, "http://example.com/login", http.StatusBadRequest, ""},
		{http.MethodPut, "http://example.com/a", http.StatusBadRequest, ""},
	} {
		w := serve(plainHandler, httptest.NewRequest(c.method, c.url, nil))
		if w.Code != c.status || w.Header().Get("Location") != c.location ||
			w.Header().Get("X-Frame-Options") != "DENY" || w.Header().Get("Content-Security-Policy") == "" ||
			w.Header().Get("Strict-Transport-Security") != "" {
			t.Errorf("port 80, %s %s: %d Location %q XFO %q HSTS %q; want %d to %q, with the security headers and without HSTS",
				c.method, c.url, w.Code, w.Header().Get("Location"), w.Header().Get("X-Frame-Options"),
				w.Header().Get("Strict-Transport-Security"), c.status, c.location)
		}
	}
	w := serve(tlsHandler, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Strict-Transport-Security"), "max-age=") ||
		!strings.Contains(w.Header().Get("Content-Security-Policy"), "'nonce-") {
		t.Errorf("port 443: %d HSTS %q CSP %q; want 200 with HSTS and a CSP with a nonce", w.Code,
			w.Header().Get("Strict-Transport-Security"), w.Header().Get("Content-Security-Policy"))
	}
}

func TestREADMEQuickStartCORSCSRF(t *testing.T) {
	t.Parallel()
	handler := readmeCORSCSRF(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
	r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/x", nil)
	r.Header.Set("Origin", "https://shop.example.com")
	r.Header.Set("Access-Control-Request-Method", http.MethodPut)
	w := serve(handler, r)
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://shop.example.com" ||
		w.Header().Get("Access-Control-Allow-Credentials") != "true" || w.Header().Get("Access-Control-Max-Age") != "3600" {
		t.Errorf("preflight from a subdomain: %d %v; want 204 allowing it with credentials for an hour", w.Code, w.Header())
	}
	r = httptest.NewRequest(http.MethodPost, "https://api.example.com/x", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := serve(handler, r); w.Code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d; want 403", w.Code)
	}
	r = httptest.NewRequest(http.MethodPost, "https://api.example.com/x", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Sec-Fetch-Site", "same-site")
	if w := serve(handler, r); w.Code != http.StatusOK {
		t.Errorf("POST from a trusted origin: %d; want 200", w.Code)
	}
}

func TestREADMEQuickStartRatelimit(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	readmeRatelimit(mux, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i := 1; i <= 6; i++ {
		w := serve(mux, httptest.NewRequest(http.MethodPost, "/token", nil))
		want := http.StatusOK
		if i == 6 {
			want = http.StatusTooManyRequests
		}
		if w.Code != want || w.Header().Get("RateLimit") == "" || (i == 6) != (w.Header().Get("Retry-After") != "") {
			t.Errorf("request %d: %d RateLimit %q Retry-After %q; want %d, RateLimit, and Retry-After on the 429",
				i, w.Code, w.Header().Get("RateLimit"), w.Header().Get("Retry-After"), want)
		}
	}
}

func TestREADMEQuickStartSession(t *testing.T) {
	t.Parallel()
	mux, srv := http.NewServeMux(), &http.Server{}
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprint(w, id.Subject())
	})
	readmeSession(mux, srv, "alice")
	post := func(path string, form url.Values, cookies []*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "https://example.com"+path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return serve(srv.Handler, r)
	}
	me := func(cookies []*http.Cookie) string {
		r := httptest.NewRequest(http.MethodGet, "https://example.com/me", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return serve(srv.Handler, r).Body.String()
	}
	for _, remember := range []bool{false, true} {
		form := url.Values{}
		if remember {
			form.Set("remember", "on")
		}
		login := post("/login", form, nil)
		cookies := login.Result().Cookies()
		if len(cookies) != 1 || cookies[0].Name != "__Host-session" || (cookies[0].MaxAge > 0) != remember || me(cookies) != "alice" {
			t.Fatalf("login, remember %v: %d %q; want the __Host- cookie, persistent only when remembered, signed in as alice",
				remember, login.Code, login.Header().Values("Set-Cookie"))
		}
		post("/logout", nil, cookies)
		if got := me(cookies); got != "" {
			t.Errorf("a copy of the cookie after logout is signed in as %q; want anonymous", got)
		}
	}

	sessions, err := readmePartitioned()
	if err != nil {
		t.Fatal(err)
	}
	w := serve(sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: "alice"}))
	})), httptest.NewRequest(http.MethodPost, "https://example.com/", nil))
	if c := w.Header().Get("Set-Cookie"); !strings.HasPrefix(c, "__Host-widget-session=") ||
		!strings.Contains(c, "; Partitioned") || !strings.Contains(c, "SameSite=None") {
		t.Errorf("partitioned session cookie %q; want __Host-widget-session, Partitioned, SameSite=None", c)
	}
}

func TestREADMEQuickStartValidateLogin(t *testing.T) {
	t.Parallel()
	users := userStore{"alice": {PasswordVersion: 1}}
	sessions, err := readmeValidateLogin(users)
	if err != nil {
		t.Fatal(err)
	}
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: "alice",
				Claims: map[string]any{"pwv": users["alice"].PasswordVersion}}))
			return
		}
		id, _ := identity.FromRequest(r)
		fmt.Fprint(w, id.Subject())
	}))
	cookies := serve(h, httptest.NewRequest(http.MethodPost, "https://example.com/", nil)).Result().Cookies()
	me := func() string {
		r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return serve(h, r).Body.String()
	}
	if got := me(); got != "alice" {
		t.Fatalf("before the password change: %q; want alice", got)
	}
	users["alice"].PasswordVersion = 2
	if got := me(); got != "" {
		t.Errorf("after the password change: %q; want anonymous", got)
	}
}

func TestREADMEQuickStartAuth(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	_, privateKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		fmt.Fprint(w, id.Subject())
	})
	mux := http.NewServeMux()
	users, attempts := readmeBasic(mux, hash, echo)
	readmeJWT(mux, privateKey, users, attempts, echo)

	basic := func(pass, addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
		r.RemoteAddr = addr
		r.SetBasicAuth("alice", pass)
		return serve(mux, r)
	}
	if w := basic(pw, "192.0.2.1:1"); w.Code != http.StatusOK || w.Body.String() != "alice" {
		t.Errorf("Basic with the right password: %d %q; want 200 alice", w.Code, w.Body)
	}
	r0 := httptest.NewRequest(http.MethodGet, "/secure-data/other", nil)
	r0.SetBasicAuth("alice", pw)
	if w := serve(mux, r0); w.Code != http.StatusNotFound {
		t.Errorf("GET /secure-data/other: %d; want 404, the route is one path", w.Code)
	}

	form := url.Values{"grant_type": {"password"}, "client_id": {"my-app"}, "username": {"alice"}, "password": {pw}}
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := serve(mux, r)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || w.Code != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("password grant: %d %s; want 200 with an access and a refresh token", w.Code, w.Body)
	}
	r = httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if w := serve(mux, r); w.Code != http.StatusOK || w.Body.String() != "alice" {
		t.Errorf("GET /orders with the token: %d %q; want 200 alice", w.Code, w.Body)
	}
	if w := serve(mux, httptest.NewRequest(http.MethodGet, "/orders", nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /orders without a token: %d; want 401", w.Code)
	}

	// Ten failures for alice from one address: that pair is refused, the
	// right password included; another address is not.
	for range 10 {
		basic("wrong", "192.0.2.1:1")
	}
	if w := basic(pw, "192.0.2.1:1"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("after ten failures: %d Retry-After %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if w := basic(pw, "192.0.2.2:1"); w.Code != http.StatusOK {
		t.Errorf("from another address: %d; want 200", w.Code)
	}
}

func TestREADMEQuickStartRBAC(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux := http.NewServeMux()
	readmeRBAC(mux, ok, ok)
	as := func(method, path, subject, role string, via identity.Method, scopes ...string) int {
		r := httptest.NewRequest(method, path, nil)
		if subject != "" {
			r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{
				Subject: subject, Roles: []string{role}, Method: via, Scopes: scopes})))
		}
		return serve(mux, r).Code
	}
	for _, c := range []struct {
		method, path, subject, role string
		via                         identity.Method
		scopes                      []string
		want                        int
	}{
		{"GET", "/users/bob", "bob", "user", identity.MethodSession, nil, 200},
		{"GET", "/users/alice", "bob", "user", identity.MethodSession, nil, 403},
		{"GET", "/users/bob", "alice", "admin", identity.MethodSession, nil, 200},
		{"DELETE", "/users/bob", "", "", "", nil, 401},
		{"DELETE", "/users/bob", "bob", "user", identity.MethodSession, nil, 403},
		{"DELETE", "/users/bob", "alice", "admin", identity.MethodSession, nil, 200},
		{"DELETE", "/users/bob", "alice", "admin", identity.MethodBasic, nil, 200},
		// A bearer token is limited to its scopes: the token the JWT quick
		// start's endpoint issues to my-app (orders:read) cannot use the
		// rest of its admin's permissions.
		{"DELETE", "/users/bob", "alice", "admin", identity.MethodBearer, []string{"orders:read"}, 403},
		{"GET", "/users/bob", "bob", "user", identity.MethodBearer, []string{"orders:read"}, 403},
		{"GET", "/users/bob", "bob", "user", identity.MethodBearer, []string{"users:read"}, 200},
		{"DELETE", "/users/bob", "alice", "admin", identity.MethodBearer, []string{"users:*"}, 200},
	} {
		if got := as(c.method, c.path, c.subject, c.role, c.via, c.scopes...); got != c.want {
			t.Errorf("%s %s as %q (%s, %s, scopes %q): %d; want %d", c.method, c.path, c.subject, c.role, c.via, c.scopes, got, c.want)
		}
	}
}

func TestREADMEQuickStartSanitize(t *testing.T) {
	t.Parallel()
	var saved []string
	mux := http.NewServeMux()
	readmeSanitize(mux, func(s string) { saved = append(saved, s) })
	post := func(contentType, body string) int {
		r := httptest.NewRequest(http.MethodPost, "/comment/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		return serve(mux, r).Code
	}
	if got := post("application/json", `{"body":" <b>hi</b><script>alert(1)</script> "}`); got != http.StatusOK ||
		len(saved) != 1 || saved[0] != "<b>hi</b>" {
		t.Errorf("a comment with a script: %d, saved %q; want 200 and <b>hi</b>", got, saved)
	}
	r := httptest.NewRequest(http.MethodPost, "/comment/other", strings.NewReader(`{"body":"x"}`))
	r.Header.Set("Content-Type", "application/json")
	if w := serve(mux, r); w.Code != http.StatusNotFound || len(saved) != 1 {
		t.Errorf("POST /comment/other: %d; want 404, the route is one path", w.Code)
	}
	for _, c := range []struct {
		contentType, body string
		want              int
	}{
		{"text/plain", `{"body":"x"}`, http.StatusUnsupportedMediaType},
		{"application/json", `{"body":"x"`, http.StatusBadRequest},
		{"application/json", `{"body":""}`, http.StatusUnprocessableEntity},
		{"application/json", `{"body":"` + strings.Repeat("a", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		if got := post(c.contentType, c.body); got != c.want {
			t.Errorf("%s %.40q: %d; want %d", c.contentType, c.body, got, c.want)
		}
	}
}

func TestREADMEQuickStartClientIPAndIdentity(t *testing.T) {
	var logs strings.Builder
	log.SetOutput(&logs)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	for _, c := range []struct {
		peer, want string
	}{
		{"10.1.2.3:5", "client 198.51.100.7, https true"},    // the balancer: its headers are believed
		{"203.0.113.9:5", "client 203.0.113.9, https false"}, // a client: its headers are not
	} {
		logs.Reset()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		r.Header.Set("X-Forwarded-For", "192.0.2.66, 198.51.100.7")
		r.Header.Set("X-Forwarded-Proto", "https")
		readmeClientIP(r)
		if !strings.Contains(logs.String(), c.want) {
			t.Errorf("from %s: logged %q; want %q", c.peer, logs.String(), c.want)
		}
	}

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "alice", Roles: []string{"admin"}})))
	w := httptest.NewRecorder()
	readmeIdentity(w, r)
	if w.Body.String() != "alice true\n" {
		t.Errorf("identity quick start wrote %q; want \"alice true\\n\"", w.Body)
	}
}

// --- the README's code, as it shows it --------------------------------------

// readme: the recommended stack
func readmeStackCode(es *errorsafe.Middleware, sec *headers.Middleware, rd *https.Redirect, c *cors.Middleware,
	ipLimit, userLimit *ratelimit.Middleware, p *csrf.Middleware, sessions *session.Middleware, bearer *auth.JWT,
	srv, plain *http.Server, mux *http.ServeMux, cert, key string) {
	stack := httpguard.Chain(es.Handler, sec.Handler, rd.Handler, c.Handler,
		ipLimit.Handler, p.Handler, sessions.Handler, bearer.Optional, userLimit.Handler)
	srv.Handler = stack(mux)    // rbac guards sit on the routes of mux
	plain.Handler = srv.Handler // port 80: rd redirects it to HTTPS; nothing inside rd runs
	go func() { log.Fatal(plain.ListenAndServe()) }()
	log.Fatal(srv.ListenAndServeTLS(cert, key))
}

// readme: errorsafe
func readmeErrorsafe(mux *http.ServeMux, resolver *clientip.Resolver, store invoiceStore, srv *http.Server) {
	es, err := errorsafe.New(errorsafe.Options{
		ClientIP:         resolver, // *clientip.Resolver; nil = direct peers only
		ReplaceMuxErrors: true,
		Errors:           []errorsafe.ErrorMapping{{Err: store.ErrNotFound, Status: 404, Public: "Not found."}},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("GET /invoices/{id}", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		inv, err := store.Invoice(r.Context(), r.PathValue("id"))
		if err != nil {
			return err // 404 or a generic 500; the cause is logged with the request ID
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(inv)
	}))
	srv.Handler = es.Handler(mux) // outermost; srv from https.NewServer, which sets timeouts
}

// readme: https and headers
func readmeHTTPS(mux *http.ServeMux) {
	sec, err := headers.New(headers.HTML()) // CSP with nonces, HSTS over HTTPS, XFO, nosniff, …
	if err != nil {
		log.Fatal(err)
	}
	rd, err := https.NewRedirect(https.RedirectOptions{Host: "example.com"})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := https.NewServer(https.ServerOptions{Addr: ":443", Handler: sec.Handler(mux)})
	if err != nil {
		log.Fatal(err)
	}
	// Port 80: GET and HEAD redirected, other methods refused (400), with the security
	// headers; a server from NewServer too, since http.ListenAndServe has no timeouts.
	plain, err := https.NewServer(https.ServerOptions{Addr: ":80", Handler: sec.Handler(rd.Handler(http.NotFoundHandler()))})
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(plain.ListenAndServe()) }()
	log.Fatal(srv.ListenAndServeTLS("cert.pem", "key.pem")) // locally: https.NewDevCert
	// In a handler: nonce, _ := headers.Nonce(r.Context()); in the template: <script nonce="{{.Nonce}}">
}

// readme: cors and csrf
func readmeCORSCSRF(mux http.Handler, resolver *clientip.Resolver) http.Handler {
	origins := []string{"https://app.example.com", "https://*.example.com"}
	c, err := cors.New(cors.Options{
		AllowedOrigins: origins, AllowCredentials: true,
		AllowedMethods: []string{http.MethodPut, http.MethodDelete},
		AllowedHeaders: []string{"Content-Type"}, MaxAge: time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{TrustedOrigins: origins, ClientIP: resolver})
	if err != nil {
		log.Fatal(err)
	}
	handler := c.Handler(p.Handler(mux)) // both outside session and auth
	return handler
}

// readme: ratelimit
func readmeRatelimit(mux *http.ServeMux, resolver *clientip.Resolver, tokenHandler http.Handler) {
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			{Name: "ip", Rate: 5, Period: time.Minute},                              // per client (IPv6 per /64)
			{Name: "all", Rate: 1000, Period: time.Second, Key: ratelimit.Global()}, // ceiling for everyone
		},
		ClientIP: resolver,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("POST /token", lim.Handler(tokenHandler)) // 429 + Retry-After + RateLimit fields
	// Shared between instances: rs, err := redisstore.New(redisstore.Options{Client: redisClient}),
	// then ratelimit.Options{Store: rs, …}. Failed logins: see the auth quick start.
	// Plans of an API: Limit.Plans by name and Limit.PlanOf(r) from the account (ExampleLimit_plans).
	// Batches that count as many requests as their items: Limit.Cost(r) (ExampleLimit_cost).
}

// readme: session
func readmeSession(mux *http.ServeMux, srv *http.Server, user string) {
	sessions, err := session.New(session.Options{}) // memory store (100,000 sessions, 256 MiB), 64 KiB per session, __Host- cookie, 30 min idle / 12 h absolute
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// check the credentials (auth.CheckPassword, each attempt reserved first with
		// ratelimit.AttemptLimiter.Reserve: see ExampleAttemptLimiter), then store the
		// identity and renew the ID (against fixation):
		id := identity.New(identity.Options{Subject: user, Roles: []string{"member"}})
		sess := session.FromRequest(r)
		sess.RememberMe(r.PostFormValue("remember") == "on") // a persistent cookie, and the RememberMe timeouts when set
		if err := sess.Login(id); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		_ = session.FromRequest(r).Destroy() // the record is deleted: a copied cookie is dead
	})
	srv.Handler = sessions.Handler(mux) // srv from https.NewServer: the __Host- cookie needs HTTPS
}

// readme: session, partitioned
func readmePartitioned() (*session.Middleware, error) {
	sessions, err := session.New(session.Options{
		CookieName:  "__Host-widget-session", // a new name: an unpartitioned cookie of the old one is not replaced
		SameSite:    http.SameSiteNoneMode,   // required: a Lax cookie never reaches a cross-site frame
		Partitioned: true,                    // on every Set-Cookie, the deletion on logout included
	})
	return sessions, err
}

// readme: session, ValidateLogin
func readmeValidateLogin(users userStore) (*session.Middleware, error) {
	sessions, err := session.New(session.Options{
		// pwv: the password version (a number) the identity's claims got at Login
		ValidateLogin: func(ctx context.Context, id identity.Identity, loggedIn time.Time) (bool, error) {
			v, _ := id.Claim("pwv")                // read back from the session as JSON: a float64
			u, err := users.Get(ctx, id.Subject()) // your user store, cached
			if err != nil {
				return false, err // 503, never served as anonymous or as the user
			}
			return u != nil && !u.Disabled && v == float64(u.PasswordVersion), nil // false: ended for good
		},
	})
	return sessions, err
}

// readme: auth: Basic and API keys
func readmeBasic(mux *http.ServeMux, hashFromConfig string, secureData http.Handler) (*auth.MemoryUsers, *ratelimit.AttemptLimiter) {
	users := auth.NewMemoryUsers()
	// a hash made with password.Hash, e.g. printf %s "$PW" | go run ./examples/basicauth -hash-password
	if err := users.Add("alice", auth.User{Hash: hashFromConfig,
		Identity: identity.Options{Roles: []string{"admin"}, Scopes: []string{"orders:read"}}}); err != nil {
		log.Fatal(err)
	}
	// Wrong-password storms for one user from one address are refused (429), the user's
	// other addresses are not; the token endpoint below takes the same Limiter.
	attempts, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		log.Fatal(err)
	}
	basic, err := auth.NewBasic(auth.BasicOptions{Users: users, Limiter: attempts,
		CacheTTL: time.Minute, OnRehash: users.Rehash})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("GET /secure-data/{$}", basic.Handler(secureData))
	return users, attempts
}

// readme: auth: JWT bearer tokens and the token endpoint
func readmeJWT(mux *http.ServeMux, privateKey ed25519.PrivateKey, users *auth.MemoryUsers, attempts *ratelimit.AttemptLimiter, orders http.Handler) {
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:    auth.Key{ID: "2026-01", Algorithm: auth.AlgEdDSA, Key: privateKey}, // an ed25519.PrivateKey
		Issuer: "https://auth.example.com", Audience: []string{"https://api.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	// Audiences: []string{"https://orders.example.com"} would also accept tokens issued for
	// a second identifier of this API (a rename in progress); aud must contain one of them.
	// DPoP: &auth.DPoPOptions{} takes tokens bound to the client's key (RFC 9449) with a proof
	// of possession per request (ExampleDPoPOptions); a bound token is never taken as a bearer token.
	// Its Nonces: auth.NewHMACNonces(key, 0) makes proofs carry a server nonce (ExampleHMACNonces).
	// TokenEndpointOptions.DPoP issues such tokens to a token request with a proof, and binds a
	// public client's refresh token to its key (ExampleTokenEndpointOptions_dPoP).
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{issuer.VerificationKey()},
		Issuer: "https://auth.example.com", Audience: "https://api.example.com", Type: auth.TypeAccessToken})
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{Issuer: issuer, Users: users, Limiter: attempts,
		Clients: []auth.Client{{ID: "my-app", Public: true,
			Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read"}}}})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("POST /token", tokens)
	// RFC 7009 logout: a client revokes its refresh token (access tokens too with AccessTokens,
	// a JWT with a Denylist).
	revocation, err := auth.NewRevocationEndpoint(auth.RevocationEndpointOptions{TokenEndpoint: tokens})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("POST /revoke", revocation)
	// Discovery: auth.NewServerMetadata publishes the token endpoint and what it takes (RFC 8414),
	// auth.NewResourceMetadata what the API accepts and who issues its tokens (RFC 9728), and
	// JWTOptions.ResourceMetadata points every 401 at the latter (ExampleResourceMetadata).
	mux.Handle("GET /orders", bearer.Handler(auth.RequireScopes("orders:read")(orders)))
}

// readme: rbac
func readmeRBAC(mux *http.ServeMux, getUser, deleteUser http.Handler) {
	policy, err := rbac.NewPolicy(
		rbac.Role{Name: "guest", Permissions: []string{"data:view:public"}},
		rbac.Role{Name: "user", Inherits: []string{"guest"}, Own: []string{"users:read", "users:update"}},
		rbac.Role{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"users:*", "data:*"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	m, err := rbac.New(rbac.Options{
		Policy: policy, // reads the identity that auth or session put there
		// A bearer token is limited to its scopes too: one issued with orders:read
		// cannot delete users for its admin. A session holds all its user's rights.
		ScopedMethods: []identity.Method{identity.MethodBearer}, // default: scopes ignored
	})
	if err != nil {
		log.Fatal(err)
	}
	self := rbac.PathValueIsSubject("id")
	mux.Handle("GET /users/{id}", m.RequireOwner(self, "users:read")(getUser)) // own record, or admin
	mux.Handle("DELETE /users/{id}", m.Require("users:delete")(deleteUser))    // 401 anonymous, 403 denied
}

// readme: sanitize
func readmeSanitize(mux *http.ServeMux, save func(string)) {
	type Comment struct {
		Body string `json:"body" sanitize:"trim,nfc,html=ugc" validate:"required,max=2000"`
	}
	mux.HandleFunc("POST /comment/{$}", func(w http.ResponseWriter, r *http.Request) {
		c, err := sanitize.DecodeJSON[Comment](nil, w, r) // 415, 413, 400 or 422 already written
		if err != nil {
			return
		}
		save(c.Body) // markup outside the user-content policy is gone
	})
}

// readme: clientip
func readmeClientIP(r *http.Request) {
	resolver, err := clientip.New(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		PublicOrigin:   "https://api.example.com", // the proxy rewrites Host
	})
	if err != nil {
		log.Fatal(err)
	}
	ip := resolver.Addr(r)         // the first untrusted hop from the right; never a client's lie
	isHTTPS := resolver.IsHTTPS(r) // X-Forwarded-Proto only from a trusted peer
	log.Printf("client %v, https %v", ip, isHTTPS)
}

// readme: identity
func readmeIdentity(w http.ResponseWriter, r *http.Request) {
	id, ok := identity.FromRequest(r) // placed by auth or session
	if ok {
		fmt.Fprintln(w, id.Subject(), id.HasRole("admin"))
	}
}
