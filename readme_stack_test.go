package httpguard_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard"
	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/rbac"
	"github.com/httpguard/httpguard/session"
)

// readmeStack builds the README's recommended stack from its quick starts,
// each with the least configuration it accepts, around a mux with a login
// form and a page that needs the session's identity. redirect says whether
// https.Redirect is in it, as in production, or left out (nil), as on plain
// http://localhost in development.
func readmeStack(t *testing.T, redirect bool) http.Handler {
	t.Helper()
	return readmeStackWith(t, redirect, slog.New(slog.DiscardHandler), nil)
}

// readmeStackWith is readmeStack with errorsafe logging to logger and the
// routes that routes adds to the mux.
func readmeStackWith(t *testing.T, redirect bool, logger *slog.Logger, routes func(*http.ServeMux)) http.Handler {
	t.Helper()
	return readmeStackFrom(t, stackOptions{redirect: redirect, logger: logger, routes: routes})
}

// stackOptions are what a test changes in readmeStack's configuration;
// the zero value of each field keeps the quick starts' choice.
type stackOptions struct {
	redirect bool
	logger   *slog.Logger // nil: discarded
	routes   func(*http.ServeMux)
	// allowedHosts is headers.Options.AllowedHosts.
	allowedHosts []string
	// resolver is the clientip.Resolver given to every package that
	// takes one (errorsafe, headers, https, ratelimit, csrf).
	resolver *clientip.Resolver
	// ipRate is the per-address limit in requests per minute; 0 keeps
	// 100 a second.
	ipRate int
	// tokens turns on csrf's tokens.
	tokens *csrf.TokenOptions
}

// readmeStackFrom builds readmeStack's stack with o's changes.
func readmeStackFrom(t *testing.T, o stackOptions) http.Handler {
	t.Helper()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	logger, routes, redirect := o.logger, o.routes, o.redirect
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	es, err := errorsafe.New(errorsafe.Options{Logger: logger, ClientIP: o.resolver})
	check(err)
	ho := headers.HTML()
	ho.AllowedHosts = o.allowedHosts
	ho.ClientIP = o.resolver
	sec, err := headers.New(ho)
	check(err)
	rd, err := https.NewRedirect(https.RedirectOptions{Host: "localhost", ClientIP: o.resolver})
	check(err)
	c, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
	check(err)
	ipRule := ratelimit.Limit{Name: "ip", Rate: 100, Period: time.Second}
	if o.ipRate > 0 {
		ipRule = ratelimit.Limit{Name: "ip", Rate: o.ipRate, Period: time.Minute}
	}
	ipLimit, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{ipRule}, ClientIP: o.resolver})
	check(err)
	p, err := csrf.New(csrf.Options{ClientIP: o.resolver, Tokens: o.tokens})
	check(err)
	sessions, err := session.New(session.Options{})
	check(err)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	check(err)
	issuer, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "1", Algorithm: auth.AlgEdDSA, Key: key}, Issuer: "https://auth.example.com", Audience: []string{"https://api.example.com"}})
	check(err)
	bearer, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{issuer.VerificationKey()}, Issuer: "https://auth.example.com", Audience: "https://api.example.com", Type: auth.TypeAccessToken})
	check(err)
	userLimit, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{{Name: "user", Rate: 100, Period: time.Second, Key: ratelimit.BySubject()}}})
	check(err)
	policy, err := rbac.NewPolicy(rbac.Role{Name: "member", Permissions: []string{"data:read"}})
	check(err)
	m, err := rbac.New(rbac.Options{Policy: policy})
	check(err)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "alice", Roles: []string{"member"}})); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/data", http.StatusSeeOther)
	})
	mux.Handle("GET /data", m.Require("data:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)
		_, _ = io.WriteString(w, id.Subject())
	})))
	if routes != nil {
		routes(mux)
	}
	var redirectHandler func(http.Handler) http.Handler
	if redirect {
		redirectHandler = rd.Handler
	}
	stack := httpguard.Chain(es.Handler, sec.Handler, redirectHandler, c.Handler,
		ipLimit.Handler, p.Handler, sessions.Handler, bearer.Optional, userLimit.Handler)
	return stack(mux)
}

// loginAndRead posts the login form to base as a browser on base's page
// does, then reads /data with the session cookie it got.
func loginAndRead(t *testing.T, client *http.Client, base string) (login, data *http.Response, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"user": {"alice"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	login, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, base+"/data", nil)
	for _, c := range login.Cookies() {
		req.AddCookie(c)
	}
	data, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(data.Body)
	data.Body.Close()
	return login, data, string(b)
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// The README's stack in production: the TLS listener serves it with HSTS
// and the session cookie, and the plain listener given the same stack is
// redirected to HTTPS by it, GET with 301 and a form with 400, with the
// security headers and without HSTS.
func TestREADMEStackOverHTTPS(t *testing.T) {
	t.Parallel()
	handler := readmeStack(t, true)
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)

	client := srv.Client()
	client.CheckRedirect = noRedirects
	login, data, body := loginAndRead(t, client, srv.URL)
	if login.StatusCode != http.StatusSeeOther || !strings.HasPrefix(login.Header.Get("Set-Cookie"), "__Host-session=") ||
		data.StatusCode != http.StatusOK || body != "alice" || !strings.HasPrefix(data.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("over HTTPS: login %d %q, /data %d %q HSTS %q; want 303 with the session cookie, then 200 alice with HSTS",
			login.StatusCode, login.Header.Get("Set-Cookie"), data.StatusCode, body, data.Header.Get("Strict-Transport-Security"))
	}

	pc := &http.Client{CheckRedirect: noRedirects}
	res, err := pc.Get(plain.URL + "/data")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "https://localhost/data" ||
		res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("GET over plain HTTP: %d Location %q XFO %q HSTS %q; want 301 to https://localhost/data with the headers, without HSTS",
			res.StatusCode, res.Header.Get("Location"), res.Header.Get("X-Frame-Options"), res.Header.Get("Strict-Transport-Security"))
	}
	login, _, _ = loginAndRead(t, pc, plain.URL)
	if login.StatusCode != http.StatusBadRequest || login.Header.Get("Set-Cookie") != "" {
		t.Errorf("a form over plain HTTP: %d, Set-Cookie %q; want 400 and no session", login.StatusCode, login.Header.Get("Set-Cookie"))
	}
}

// The README's stack on plain http://localhost in development, with the
// redirect left out as the README says: the defaults need nothing else.
// csrf accepts the page's own http origin, and the session cookie, Secure
// and __Host- as always, comes back (Chromium keeps such cookies from
// http://localhost and http://127.0.0.1; not every browser does). HSTS is
// not sent.
func TestREADMEStackOnPlainLocalhost(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(readmeStack(t, false))
	t.Cleanup(srv.Close)
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	client := &http.Client{CheckRedirect: noRedirects, Transport: hostTransport{}}
	for _, base := range []string{srv.URL, "http://localhost:" + port} {
		login, data, body := loginAndRead(t, client, base)
		if login.StatusCode != http.StatusSeeOther || !strings.HasPrefix(login.Header.Get("Set-Cookie"), "__Host-session=") ||
			data.StatusCode != http.StatusOK || body != "alice" || data.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: login %d %q, /data %d %q HSTS %q; want 303 with the session cookie, then 200 alice without HSTS",
				base, login.StatusCode, login.Header.Get("Set-Cookie"), data.StatusCode, body, data.Header.Get("Strict-Transport-Security"))
		}
	}
}

// hostTransport sends requests for localhost to 127.0.0.1, where the test
// server listens, keeping Host: localhost:port as a browser sends it.
type hostTransport struct{}

func (hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host = strings.Replace(r.URL.Host, "localhost:", "127.0.0.1:", 1)
	return http.DefaultTransport.RoundTrip(r)
}
