package https_test

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/testenv"
)

var reached = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusTeapot)
})

func mustRedirect(t testing.TB, o https.RedirectOptions) *https.Redirect {
	t.Helper()
	rd, err := https.NewRedirect(o)
	if err != nil {
		t.Fatalf("NewRedirect: %v", err)
	}
	return rd
}

func TestRedirect(t *testing.T) {
	rd := mustRedirect(t, https.RedirectOptions{
		Host:         "example.com",
		AllowedHosts: []string{"example.com", "www.example.com", "*.example.org", "localhost:8080", "[::1]"},
		Exempt:       []string{https.ACMEChallengePath, "/healthz"},
	})
	dev := mustRedirect(t, https.RedirectOptions{AllowedHosts: []string{"localhost:8080"}, HTTPSPort: 8443})
	temp := mustRedirect(t, https.RedirectOptions{Host: "example.com:8443", Temporary: true, RedirectUnsafeMethods: true})
	unsafe := mustRedirect(t, https.RedirectOptions{Host: "example.com", RedirectUnsafeMethods: true})
	port443 := mustRedirect(t, https.RedirectOptions{Host: "example.com:443", AllowedHosts: []string{"www.example.com"}, HTTPSPort: 443})

	tests := []struct {
		name     string
		rd       *https.Redirect
		method   string
		host     string
		target   string
		status   int
		location string
	}{
		{"GET is moved permanently", rd, "GET", "example.com", "/a/b?x=1", 301, "https://example.com/a/b?x=1"},
		{"HEAD is moved permanently", rd, "HEAD", "example.com", "/", 301, "https://example.com/"},
		// Found in review of the example server: a POST over plain HTTP
		// redirected with 308 let the client resend a password it had
		// just sent in clear without anyone noticing. As autocert does,
		// it is refused.
		{"POST is refused", rd, "POST", "example.com", "/form", 400, ""},
		{"DELETE is refused", rd, "DELETE", "example.com", "/item/1", 400, ""},
		{"a lower-case get is refused", rd, "get", "example.com", "/", 400, ""},
		{"POST to an exempt path is served", rd, "POST", "example.com", "/healthz", 418, ""},
		{"POST keeps its method with 308 when asked", unsafe, "POST", "example.com", "/form", 308, "https://example.com/form"},
		{"DELETE keeps its method with 308 when asked", unsafe, "DELETE", "example.com", "/item/1", 308, "https://example.com/item/1"},
		{"an escaped path and query are kept", rd, "GET", "example.com", "/a%20b/%2F?q=%3Cx%3E&y", 301, "https://example.com/a%20b/%2F?q=%3Cx%3E&y"},
		{"a query with bytes a URI cannot hold is escaped", rd, "GET", "example.com", "/q?a=%zz&b=\"<x>\"&c=%41", 301, "https://example.com/q?a=%25zz&b=%22%3Cx%3E%22&c=%41"},
		{"a percent sign with one hex digit at the end of the query is escaped", rd, "GET", "example.com", "/q?a=%4", 301, "https://example.com/q?a=%254"},
		{"a percent sign at the end of the query is escaped", rd, "GET", "example.com", "/q?a=%", 301, "https://example.com/q?a=%25"},
		{"an empty query is kept", rd, "GET", "example.com", "/p?", 301, "https://example.com/p?"},
		{"a path that looks like a host stays a path", rd, "GET", "example.com", "//evil.example/x", 301, "https://example.com//evil.example/x"},
		// CVE-2022-40083 (labstack/echo#2259): echo's static handler
		// answered "//evil.example%2f.." with "Location: //evil.example/../",
		// a protocol-relative URL to another host. echo#1771: its
		// trailing-slash redirect did the same with "/%5Cevil.example",
		// which browsers read as "//evil.example". The Location here is
		// absolute, on the canonical host, with the path kept escaped.
		{"CVE-2022-40083: an encoded slash after a host-like path", rd, "GET", "example.com", "//evil.example%2f..", 301, "https://example.com//evil.example%2f.."},
		{"CVE-2022-40083: an encoded slash and a trailing slash", rd, "GET", "example.com", "//evil.example/%2f..", 301, "https://example.com//evil.example/%2f.."},
		{"echo#1771: an encoded backslash", rd, "GET", "example.com", "/%5Cevil.example", 301, "https://example.com/%5Cevil.example"},
		{"echo#1771: an encoded backslash and slash", rd, "GET", "example.com", "/%5C%2Fevil.example/", 301, "https://example.com/%5C%2Fevil.example/"},
		{"echo#1771: a raw backslash", rd, "GET", "example.com", "/\\evil.example", 301, "https://example.com/%5Cevil.example"},
		{"an allowed host is redirected to itself", rd, "GET", "www.example.com", "/", 301, "https://www.example.com/"},
		{"host case and trailing dot are normalized", rd, "GET", "WWW.Example.COM.", "/", 301, "https://www.example.com/"},
		{"the HTTP port is dropped", rd, "GET", "www.example.com:80", "/", 301, "https://www.example.com/"},
		{"a wildcard host is redirected to itself", rd, "GET", "a.b.example.org", "/", 301, "https://a.b.example.org/"},
		{"an IPv6 literal is redirected to itself", rd, "GET", "[::1]:80", "/", 301, "https://[::1]/"},
		{"a pattern with a port needs that port", rd, "GET", "localhost:8081", "/", 301, "https://example.com/"},
		{"an unknown host goes to the canonical host", rd, "GET", "evil.example", "/x", 301, "https://example.com/x"},
		{"a host with userinfo goes to the canonical host", rd, "GET", "example.com@evil.example", "/", 301, "https://example.com/"},
		{"a missing host goes to the canonical host", rd, "GET", "", "/", 301, "https://example.com/"},
		{"the ACME challenge path is exempt", rd, "GET", "example.com", "/.well-known/acme-challenge/token", 418, ""},
		{"an exact exempt path is exempt", rd, "GET", "example.com", "/healthz", 418, ""},
		{"an exact exempt path does not cover its children", rd, "GET", "example.com", "/healthz/deep", 301, "https://example.com/healthz/deep"},
		{"dot segments do not escape an exempt prefix", rd, "GET", "example.com", "/.well-known/acme-challenge/../admin", 301, "https://example.com/.well-known/acme-challenge/../admin"},
		// ServeMux routes on the path as sent, where "%2F" is not a
		// separator: such a path named the exempt prefix only once
		// decoded, and reached another route over plain HTTP.
		{"an encoded slash does not make a path exempt", rd, "GET", "example.com", "/.well-known%2Facme-challenge/token", 301, "https://example.com/.well-known%2Facme-challenge/token"},
		{"the HTTPS port is added to allowed hosts", dev, "GET", "localhost:8080", "/", 301, "https://localhost:8443/"},
		{"an HTTPS port of 443 is the default and left out", port443, "GET", "www.example.com", "/", 301, "https://www.example.com/"},
		{"port 443 on the canonical host is the default and left out", port443, "GET", "evil.example", "/x", 301, "https://example.com/x"},
		{"temporary redirects use 302", temp, "GET", "x", "/", 302, "https://example.com:8443/"},
		{"temporary redirects use 307 for POST", temp, "POST", "x", "/", 307, "https://example.com:8443/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://placeholder"+tt.target, nil)
			r.Host = tt.host
			rec := httptest.NewRecorder()
			tt.rd.Handler(reached).ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if rec.Header().Get("Strict-Transport-Security") != "" {
				t.Error("HSTS sent over plain HTTP")
			}
		})
	}
}

// An exempt prefix is served over plain HTTP by the route registered for
// it. A path that names the prefix only once "%2F" is decoded is routed by
// ServeMux elsewhere (the application's "/"), so it must be redirected.
func TestRedirectExemptPathReachesOnlyItsRoute(t *testing.T) {
	rd := mustRedirect(t, https.RedirectOptions{Host: "example.com", Exempt: []string{https.ACMEChallengePath, "/status/live"}})
	mux := http.NewServeMux()
	mux.HandleFunc(https.ACMEChallengePath, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "challenge") })
	mux.HandleFunc("/status/live", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "live") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "application") })
	h := rd.Handler(mux)
	getEach(t, h, []routed{
		{"/.well-known/acme-challenge/token", 200, "challenge"},
		{"/status/live", 200, "live"},
		{"/.well-known%2Facme-challenge/token", 301, ""},
		{"/.well-known%2facme-challenge/token", 301, ""},
		{"/status%2Flive", 301, ""},
	})
}

// An exempt path is written as its ServeMux pattern is, escaped: "%20"
// is a space. Matched as the unescaped path instead, "/status%20page"
// redirected its own route and exempted "/status%2520page", which
// ServeMux routes elsewhere (the application's "/"), over plain HTTP.
func TestExemptPathIsWrittenAsItsServeMuxPattern(t *testing.T) {
	rd := mustRedirect(t, https.RedirectOptions{Host: "example.com", Exempt: []string{"/status%20page", "/files%2b/"}})
	mux := http.NewServeMux()
	mux.HandleFunc("/status%20page", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "status") })
	mux.HandleFunc("/files%2b/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "files") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "application") })
	h := rd.Handler(mux)
	getEach(t, h, []routed{
		{"/status%20page", 200, "status"},
		{"/files+/a", 200, "files"},
		{"/files%2B/a", 200, "files"},
		{"/status%2520page", 301, ""},
		{"/files%252b/a", 301, ""},
	})
}

// routed is a GET of target on example.com and the status and body it
// should get.
type routed struct {
	target string
	status int
	body   string
}

// getEach serves each GET through h and reports a status or body other
// than the one expected.
func getEach(t *testing.T, h http.Handler, tests []routed) {
	t.Helper()
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		r.Host = "example.com"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("GET %s: status %d, body %q; want %d, %q", tt.target, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
	}
}

// VaporSecurityHeaders#28 ("Host poisoning issue in HTTPSRedirectMiddleware")
// and TerriaJS/terriajs-server#368: a redirect built from the Host header
// sends users to the attacker's site with a cacheable 301.
func TestRegressionVaporSecurityHeaders28HostHeaderOpenRedirect(t *testing.T) {
	withCanonical := mustRedirect(t, https.RedirectOptions{Host: "example.com"})
	listOnly := mustRedirect(t, https.RedirectOptions{AllowedHosts: []string{"example.com"}})
	for _, host := range []string{"evil.example", "evil.example:443", "example.com.evil.example", "evil.example/example.com",
		"evil.example#example.com", "evil.example\\example.com", "[::1]", "EVIL.example.", "example.com\r\nLocation: https://evil.example"} {
		r := httptest.NewRequest("GET", "/login?next=/", nil)
		r.Host = host

		rec := httptest.NewRecorder()
		withCanonical.Handler(reached).ServeHTTP(rec, r)
		if got := rec.Header().Get("Location"); got != "https://example.com/login?next=/" {
			t.Errorf("Host %q: Location %q", host, got)
		}

		rec = httptest.NewRecorder()
		listOnly.Handler(reached).ServeHTTP(rec, r)
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
			t.Errorf("Host %q without a canonical host: status %d, Location %q", host, rec.Code, rec.Header().Get("Location"))
		}
		if strings.Contains(rec.Body.String(), "evil") {
			t.Errorf("the rejection reflects the Host %q", host)
		}
	}
}

// martini-contrib/secure#11 and unrolled/secure's SSLProxyHeaders: a client
// on plain HTTP that claims X-Forwarded-Proto: https skips the redirect.
// Here only a trusted proxy's claim counts.
func TestRegressionMartiniSecure11ForwardedProtoSkipsRedirect(t *testing.T) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	rd := mustRedirect(t, https.RedirectOptions{ClientIP: rv, Host: "example.com"})
	tests := []struct {
		name   string
		remote string
		header string
		value  string
		tls    bool
		status int
	}{
		{"a client claiming https is still redirected", "203.0.113.7:1234", "X-Forwarded-Proto", "https", false, 301},
		{"a client claiming https through Forwarded is still redirected", "203.0.113.7:1234", "Forwarded", "for=1.2.3.4;proto=https", false, 301},
		{"a client claiming X-Forwarded-Ssl is still redirected", "203.0.113.7:1234", "X-Forwarded-Ssl", "on", false, 301},
		{"a trusted proxy saying https is passed through", "10.0.0.2:1234", "X-Forwarded-Proto", "https", false, 418},
		{"a trusted proxy saying http is redirected", "10.0.0.2:1234", "X-Forwarded-Proto", "http", false, 301},
		{"a direct TLS connection is passed through", "203.0.113.7:1234", "", "", true, 418},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set(tt.header, tt.value)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			rd.Handler(reached).ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
		})
	}
}

func TestRedirectUsesThePublicOrigin(t *testing.T) {
	rv := clientip.MustNew(clientip.Options{PublicOrigin: "https://Public.Example:8443"})
	rd := mustRedirect(t, https.RedirectOptions{ClientIP: rv})
	r := httptest.NewRequest("GET", "/x", nil)
	r.Host = "internal:8080"
	loc, err := rd.Location(r)
	if err != nil || loc != "https://public.example:8443/x" {
		t.Errorf("Location = %q, %v", loc, err)
	}
}

func TestNewRedirectRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		o    https.RedirectOptions
		want error
	}{
		{"no host at all", https.RedirectOptions{}, https.ErrNoHost},
		{"a URL as host", https.RedirectOptions{Host: "https://example.com"}, https.ErrHost},
		{"a path in the host", https.RedirectOptions{Host: "example.com/x"}, https.ErrHost},
		{"a wildcard canonical host", https.RedirectOptions{Host: "*.example.com"}, https.ErrHost},
		{"a bad port", https.RedirectOptions{Host: "example.com:0x1"}, https.ErrHost},
		{"every host allowed", https.RedirectOptions{AllowedHosts: []string{"*"}}, https.ErrHost},
		// Found in review: "*.com" was an open redirect to any .com host.
		{"every host of a top-level domain allowed", https.RedirectOptions{AllowedHosts: []string{"*.com"}}, https.ErrHost},
		{"every host of a public suffix allowed", https.RedirectOptions{Host: "example.com", AllowedHosts: []string{"*.co.uk"}}, https.ErrHost},
		{"every path exempt", https.RedirectOptions{Host: "example.com", Exempt: []string{"/"}}, https.ErrPath},
		{"a Unicode host", https.RedirectOptions{AllowedHosts: []string{"bücher.example"}}, https.ErrHost},
		{"a bad HTTPS port", https.RedirectOptions{Host: "example.com", HTTPSPort: 70000}, https.ErrOption},
		{"an HTTPS port one over the last", https.RedirectOptions{Host: "example.com", HTTPSPort: 65536}, https.ErrOption},
		{"a negative HTTPS port", https.RedirectOptions{Host: "example.com", HTTPSPort: -1}, https.ErrOption},
		{"an exempt path with an empty segment", https.RedirectOptions{Host: "example.com", Exempt: []string{"/status//live"}}, https.ErrPath},
		// A public origin over http names no HTTPS host to redirect to.
		{"only an http public origin", https.RedirectOptions{ClientIP: clientip.MustNew(clientip.Options{PublicOrigin: "http://public.example"})}, https.ErrNoHost},
		{"a relative exempt path", https.RedirectOptions{Host: "example.com", Exempt: []string{"healthz"}}, https.ErrPath},
		{"an exempt path with a query", https.RedirectOptions{Host: "example.com", Exempt: []string{"/x?y"}}, https.ErrPath},
		// csrf refuses the same: a dot segment in a prefix ("/a/../")
		// exempted every path to a handler that cleans paths itself,
		// such as http.FileServer.
		{"an exempt prefix with a dot-dot segment", https.RedirectOptions{Host: "example.com", Exempt: []string{"/a/../"}}, https.ErrPath},
		{"an exempt path with a dot segment", https.RedirectOptions{Host: "example.com", Exempt: []string{"/a/./healthz"}}, https.ErrPath},
		{"an exempt path ending in a dot segment", https.RedirectOptions{Host: "example.com", Exempt: []string{"/a/.."}}, https.ErrPath},
		{"an exempt path with an empty segment, never routed as written", https.RedirectOptions{Host: "example.com", Exempt: []string{"/a//healthz"}}, https.ErrPath},
		{"an exempt path with an escaped dot-dot segment", https.RedirectOptions{Host: "example.com", Exempt: []string{"/a/%2e%2e/"}}, https.ErrPath},
		{"an exempt path with a bad escape", https.RedirectOptions{Host: "example.com", Exempt: []string{"/100%"}}, https.ErrPath},
		{"an exempt path with an encoded slash, never exempt", https.RedirectOptions{Host: "example.com", Exempt: []string{"/a%2Fb"}}, https.ErrPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := https.NewRedirect(tt.o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			var oe *https.OptionError
			if !errors.As(err, &oe) {
				t.Errorf("%v is not an *OptionError", err)
			}
		})
	}
}

// The messages of the errors a first configuration meets name the field
// once and say what to set: "https: RedirectOptions.Host: https: no
// redirect host configured" repeated the package and left the fix to the
// documentation.
func TestOptionErrorMessages(t *testing.T) {
	_, err := https.NewRedirect(https.RedirectOptions{})
	if want := "https: RedirectOptions.Host: no redirect host configured: set Host, AllowedHosts, or a ClientIP with an https PublicOrigin"; err == nil || err.Error() != want {
		t.Errorf("NewRedirect with no host: %v\nwant %s", err, want)
	}
	_, err = https.NewServer(https.ServerOptions{})
	if want := "https: ServerOptions.Handler: invalid option: required"; err == nil || err.Error() != want {
		t.Errorf("NewServer with no handler: %v\nwant %s", err, want)
	}
	_, err = https.NewRedirect(https.RedirectOptions{Host: "https://example.com"})
	if err == nil || !strings.HasPrefix(err.Error(), `https: RedirectOptions.Host "https://example.com": invalid host: `) {
		t.Errorf("NewRedirect with a URL as host: %v", err)
	}
}

func TestRedirectOnReject(t *testing.T) {
	var got error
	rd := mustRedirect(t, https.RedirectOptions{
		AllowedHosts: []string{"example.com"},
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusMisdirectedRequest)
		},
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "other.example"
	rec := httptest.NewRecorder()
	rd.Handler(reached).ServeHTTP(rec, r)
	if rec.Code != http.StatusMisdirectedRequest || !errors.Is(got, https.ErrHostNotAllowed) {
		t.Errorf("status %d, err %v", rec.Code, got)
	}
}

func TestZeroRedirectRejects(t *testing.T) {
	var rd https.Redirect
	rec := httptest.NewRecorder()
	rd.Handler(reached).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("zero Redirect: status %d, want 400", rec.Code)
	}
}

type reusedWriter struct {
	h    http.Header
	code int
}

func (w *reusedWriter) Header() http.Header         { return w.h }
func (w *reusedWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *reusedWriter) WriteHeader(code int)        { w.code = code }

func TestRedirectAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	rd := mustRedirect(t, https.RedirectOptions{Host: "example.com", AllowedHosts: []string{"www.example.com"}})
	h := rd.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	// Without a canonical Host, a host not allowed is refused, not
	// redirected.
	strict := mustRedirect(t, https.RedirectOptions{AllowedHosts: []string{"www.example.com"}}).
		Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	plain := httptest.NewRequest("GET", "/a/b?c=d", nil)
	plain.Host = "www.example.com"
	hostile := httptest.NewRequest("GET", "/a/b?c=d", nil)
	hostile.Host = "evil.example"
	secure := httptest.NewRequest("GET", "/a/b?c=d", nil)
	secure.TLS = &tls.ConnectionState{}
	tests := []struct {
		name   string
		h      http.Handler
		r      *http.Request
		status int // 0: passed to the next handler, which writes nothing
		max    float64
	}{
		{"a redirect costs the Location string", h, plain, 301, 1},
		{"a hostile host redirected to the canonical one costs the same", h, hostile, 301, 1},
		{"a refused host costs no allocation: the problem uses per-response slots", strict, hostile, 400, 0},
		{"an HTTPS request passes for free", h, secure, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &reusedWriter{h: make(http.Header)}
			tt.h.ServeHTTP(w, tt.r)
			if w.code != tt.status {
				t.Fatalf("status %d, want %d", w.code, tt.status)
			}
			n := testing.AllocsPerRun(200, func() {
				clear(w.h)
				tt.h.ServeHTTP(w, tt.r)
			})
			t.Logf("%v allocations", n)
			if n > tt.max {
				t.Errorf("%v allocations, want at most %v", n, tt.max)
			}
		})
	}
}

func TestRedirectEndToEnd(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "secure "+r.URL.RequestURI()) })
	tlsSrv := httptest.NewUnstartedServer(app)
	tlsSrv.TLS = https.TLSConfig()
	tlsSrv.TLS.Certificates = []tls.Certificate{dev.TLS}
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	rd := mustRedirect(t, https.RedirectOptions{Host: tlsSrv.Listener.Addr().String()})
	plain := httptest.NewServer(rd.Handler(app))
	defer plain.Close()

	client := tlsSrv.Client()
	res, err := client.Get(plain.URL + "/path?q=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "secure /path?q=1" || res.Request.URL.Scheme != "https" {
		t.Errorf("followed the redirect to %s and got %q", res.Request.URL, body)
	}

	res, err = client.Post(plain.URL+"/form", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || res.Request.URL.Scheme != "http" {
		t.Errorf("POST over plain HTTP: %d at %s, want a 400 there", res.StatusCode, res.Request.URL)
	}

	rdPost := mustRedirect(t, https.RedirectOptions{Host: tlsSrv.Listener.Addr().String(), RedirectUnsafeMethods: true})
	plainPost := httptest.NewServer(rdPost.Handler(app))
	defer plainPost.Close()
	res, err = client.Post(plainPost.URL+"/form", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.Method != "POST" || res.Request.URL.Scheme != "https" {
		t.Errorf("POST ended as %s %s", res.Request.Method, res.Request.URL)
	}
}

func TestRedirectConcurrent(t *testing.T) {
	rd := mustRedirect(t, https.RedirectOptions{Host: "example.com", AllowedHosts: []string{"*.example.com"}})
	h := rd.Handler(reached)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				r := httptest.NewRequest("GET", "/x", nil)
				r.Host = "h" + string(rune('a'+g)) + ".example.com"
				if i%3 == 0 {
					r.Host = "evil.example"
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				want := "https://" + r.Host + "/x"
				if i%3 == 0 {
					want = "https://example.com/x"
				}
				if got := rec.Header().Get("Location"); got != want {
					t.Errorf("Location %q, want %q", got, want)
				}
			}
		})
	}
	wg.Wait()
}

// Over HTTP/1.1 a request target may be absolute ("GET http://host/path"),
// and net/http then takes request.Host from it, not from the Host line.
// The redirect decides on request.Host, the name the application routes
// on, builds the Location from configuration and the path alone (never
// the target's userinfo or scheme), and treats an https target on a
// plain connection as plain HTTP.
func TestRedirectAbsoluteFormTargets(t *testing.T) {
	rd := mustRedirect(t, https.RedirectOptions{Host: "example.com", AllowedHosts: []string{"www.example.com"}})
	srv, err := https.NewServer(https.ServerOptions{Handler: rd.Handler(reached), ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	addr := testenv.Serve(t, srv)
	tests := []struct {
		name     string
		request  string
		status   int
		location string
	}{
		{"another host in the target, an allowed Host line", "GET http://evil.example/x?y HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 301, "https://example.com/x?y"},
		{"an allowed host in the target, another Host line", "GET http://www.example.com HTTP/1.1\r\nHost: evil.example\r\n\r\n", 301, "https://www.example.com/"},
		{"userinfo in the target is dropped", "GET http://user:pw@www.example.com/a HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 301, "https://www.example.com/a"},
		{"an allowed name as userinfo before another host", "GET http://www.example.com@evil.example/a HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 301, "https://example.com/a"},
		{"an https target on a plain connection is still redirected", "GET https://www.example.com/a HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 301, "https://www.example.com/a"},
		{"an opaque target keeps no part of itself", "GET a:b//evil.example HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 301, "https://www.example.com/"},
		{"a path that looks like a host stays a path", "GET //evil.example/x HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 301, "https://www.example.com//evil.example/x"},
		{"an HTTP/1.0 request without Host goes to the canonical host", "GET /x HTTP/1.0\r\n\r\n", 301, "https://example.com/x"},
		{"an empty Host line goes to the canonical host", "GET /x HTTP/1.1\r\nHost: \r\n\r\n", 301, "https://example.com/x"},
		{"two Host lines are refused", "GET /x HTTP/1.1\r\nHost: www.example.com\r\nHost: evil.example\r\n\r\n", 400, ""},
		{"a Host line with a port", "GET /x HTTP/1.1\r\nHost: WWW.example.com.:8080\r\n\r\n", 301, "https://www.example.com/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := testenv.RawRequest(t, addr, tt.request)
			if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
				t.Errorf("status %d, Location %q; want %d, %q", res.StatusCode, res.Header.Get("Location"), tt.status, tt.location)
			}
		})
	}
}

// A browser leaves port 80 out of the Host of a plain HTTP request:
// http://www.example.com:80/ is requested with "Host: www.example.com".
// An allowed host listed with that port never matched it, so the
// request went to the canonical host instead of itself, or, with none,
// got 400.
func TestRedirectPortlessHostIsOnPort80(t *testing.T) {
	withCanonical := mustRedirect(t, https.RedirectOptions{Host: "example.com", AllowedHosts: []string{"www.example.com:80", "*.example.org:80", "dev.example:8080"}})
	listOnly := mustRedirect(t, https.RedirectOptions{AllowedHosts: []string{"www.example.com:80"}})
	tests := []struct {
		name     string
		rd       *https.Redirect
		host     string
		status   int
		location string
	}{
		{"no port is port 80", withCanonical, "www.example.com", 301, "https://www.example.com/x"},
		{"port 80 written out", withCanonical, "www.example.com:80", 301, "https://www.example.com/x"},
		{"a wildcard listed with port 80", withCanonical, "a.example.org", 301, "https://a.example.org/x"},
		{"another port goes to the canonical host", withCanonical, "www.example.com:8080", 301, "https://example.com/x"},
		{"a pattern with another port still needs it", withCanonical, "dev.example", 301, "https://example.com/x"},
		{"no port is port 80 without a canonical host", listOnly, "www.example.com", 301, "https://www.example.com/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Host = tt.host
			rec := httptest.NewRecorder()
			tt.rd.Handler(reached).ServeHTTP(rec, r)
			if rec.Code != tt.status || rec.Header().Get("Location") != tt.location {
				t.Errorf("status %d, Location %q; want %d, %q", rec.Code, rec.Header().Get("Location"), tt.status, tt.location)
			}
		})
	}
}
