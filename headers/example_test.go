package headers_test

import (
	"crypto/tls"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/headers"
)

func printHeaders(h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s: %s\n", k, strings.Join(h[k], ", "))
	}
}

// The zero Options protect a JSON API: every header at its strictest.
func Example() {
	m, err := headers.New(headers.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	}))

	r := httptest.NewRequest("GET", "https://api.example.com/v1/items", nil)
	r.TLS = &tls.ConnectionState{} // as if served over HTTPS
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	printHeaders(rec.Header())
	// Output:
	// Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
	// Content-Type: application/json
	// Cross-Origin-Opener-Policy: same-origin
	// Cross-Origin-Resource-Policy: same-origin
	// Permissions-Policy: accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()
	// Referrer-Policy: no-referrer
	// Strict-Transport-Security: max-age=63072000; includeSubDomains
	// X-Content-Type-Options: nosniff
	// X-Frame-Options: DENY
	// X-Permitted-Cross-Domain-Policies: none
	// X-Xss-Protection: 0
}

// The HTML preset puts a fresh nonce in the policy of every response; the
// handler passes it to html/template.
func ExampleNonce() {
	m, err := headers.New(headers.HTML())
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("page").Parse(
		`<script nonce="{{.Nonce}}" src="/app.js"></script>`))
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := headers.Nonce(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, struct{ Nonce string }{nonce})
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	nonce := body[len(`<script nonce="`):][:22]
	csp := rec.Header().Get("Content-Security-Policy")
	fmt.Println(strings.ReplaceAll(body, nonce, "NONCE"))
	fmt.Println(strings.ReplaceAll(csp, nonce, "NONCE"))
	// Output:
	// <script nonce="NONCE" src="/app.js"></script>
	// default-src 'none'; script-src 'nonce-NONCE' 'strict-dynamic'; style-src 'self' 'nonce-NONCE'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'
}

// Policies are validated when the middleware is built: every mistake is
// reported at once, naming the option.
func ExampleNew_invalid() {
	_, err := headers.New(headers.Options{
		CSP: &headers.CSP{
			DefaultSrc: []string{"self"},
			ScriptSrc:  []string{headers.Self, headers.UnsafeInline},
		},
		ReferrerPolicy: "unsafe-url",
	})
	fmt.Println(err)
	// Output:
	// headers: Options.CSP.DefaultSrc[0] "self": CSP keyword without single quotes: write it in single quotes
	// headers: Options.CSP.ScriptSrc "'unsafe-inline'": unsafe CSP source: inline scripts run without a nonce or hash
	// headers: Options.ReferrerPolicy "unsafe-url": invalid header value: unsafe-url leaks full URLs to every site; use strict-origin-when-cross-origin
}

// A route that must be framed by its own site gets a variant built once,
// at start-up.
func ExampleMiddleware_With() {
	site := headers.MustNew(headers.HTML())
	widget, err := site.With(func(o *headers.Options) {
		o.CSP.FrameAncestors = []string{headers.Self}
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", site.Handler(http.NotFoundHandler()))
	mux.Handle("/widget", widget.Handler(http.NotFoundHandler()))

	for _, path := range []string{"/", "/widget"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		csp := rec.Header().Get("Content-Security-Policy")
		fmt.Printf("%s: X-Frame-Options %s, %s\n", path, rec.Header().Get("X-Frame-Options"), csp[strings.Index(csp, "frame-ancestors"):])
	}
	// Output:
	// /: X-Frame-Options DENY, frame-ancestors 'none'
	// /widget: X-Frame-Options SAMEORIGIN, frame-ancestors 'self'
}

// A page that shows links from its users turns DNS prefetching off, so
// that its visitors' resolvers do not learn every link it shows, and asks
// for an agent cluster of its own origin.
func ExampleOptions_userContent() {
	o := headers.HTML()
	o.DNSPrefetchControl = "off"
	o.OriginAgentCluster = "?1"
	comments := headers.MustNew(o).Handler(http.NotFoundHandler())

	rec := httptest.NewRecorder()
	comments.ServeHTTP(rec, httptest.NewRequest("GET", "/comments", nil))
	fmt.Println("Origin-Agent-Cluster:", rec.Header().Get("Origin-Agent-Cluster"))
	fmt.Println("X-DNS-Prefetch-Control:", rec.Header().Get("X-DNS-Prefetch-Control"))
	// Output:
	// Origin-Agent-Cluster: ?1
	// X-DNS-Prefetch-Control: off
}

// AllowedHosts rejects requests for any other Host with 400, without
// echoing the Host.
func ExampleMiddleware_Check() {
	m := headers.MustNew(headers.Options{AllowedHosts: []string{"example.com", "*.example.com"}})
	for _, host := range []string{"example.com", "WWW.Example.com.", "example.com:8443", "evil.example"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		fmt.Printf("%-17s %v\n", host, m.Check(r))
	}
	// Output:
	// example.com       <nil>
	// WWW.Example.com.  <nil>
	// example.com:8443  <nil>
	// evil.example      headers: host not allowed
}

// Behind a TLS-terminating proxy, HSTS needs the proxy's word that the
// client used HTTPS. Trust exactly the proxy's addresses: a client that
// sends X-Forwarded-Proto itself is not believed.
func Example_behindProxy() {
	rv := clientip.MustNew(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	m := headers.MustNew(headers.Options{ClientIP: rv})
	h := m.Handler(http.NotFoundHandler())

	for _, peer := range []string{"10.0.0.7:4711", "203.0.113.9:4711"} {
		r := httptest.NewRequest("GET", "http://example.com/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-Proto", "https")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Printf("from %s: HSTS %q\n", peer, rec.Header().Get("Strict-Transport-Security"))
	}
	// Output:
	// from 10.0.0.7:4711: HSTS "max-age=63072000; includeSubDomains"
	// from 203.0.113.9:4711: HSTS ""
}

func ExampleParseSource() {
	for _, s := range []string{"'SELF'", "HTTPS://CDN.Example.com/js/", "self", "https://a.example; script-src *"} {
		src, err := headers.ParseSource(s)
		fmt.Println(src.Kind, src, err)
	}
	// Output:
	// keyword 'self' <nil>
	// host https://cdn.example.com/js/ <nil>
	// invalid  headers: CSP keyword without single quotes: write it in single quotes
	// invalid  headers: invalid CSP source expression: bad host
}

// Browsers post violations of a policy with ReportURI or ReportTo to the
// report handler, which logs them.
func ExampleReportHandler() {
	m := headers.MustNew(headers.Options{CSP: &headers.CSP{
		DefaultSrc: []string{headers.Self},
		ReportURI:  "/csp-report",
	}})
	reports, err := headers.NewReportHandler(headers.ReportOptions{
		OnReport: func(r *http.Request, rep headers.Report) {
			fmt.Fprintf(os.Stdout, "%s blocked %s\n", rep.EffectiveDirective, rep.BlockedURL)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /csp-report", reports)
	h := m.Handler(mux)

	r := httptest.NewRequest("POST", "/csp-report", strings.NewReader(
		`{"csp-report":{"effective-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js"}}`))
	r.Header.Set("Content-Type", "application/csp-report")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code)
	// Output:
	// script-src-elem blocked https://evil.example/x.js
	// 204
}

// Incorrect: loosening X-Frame-Options in a handler does not allow framing,
// because the policy's frame-ancestors 'none' takes precedence in every
// browser with CSP Level 2. Derive a variant with [Middleware.With] and
// change frame-ancestors instead.
func ExampleMiddleware_With_incorrect() {
	m := headers.MustNew(headers.HTML())
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "SAMEORIGIN") // has no effect on modern browsers
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/widget", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	fmt.Println(rec.Header().Get("X-Frame-Options"), "but", csp[strings.Index(csp, "frame-ancestors"):])
	// Output:
	// SAMEORIGIN but frame-ancestors 'none'
}

// The middleware in front of an httputil.ReverseProxy to a backend that
// sets its own security headers. The proxy adds the backend's fields to
// the middleware's; ModifyResponse removes the backend's copies, so the
// gateway's values are the only ones. Policies add up, so the backend's
// Content-Security-Policy is kept. KeepAcross1xx keeps the middleware's
// headers when the backend sends a 1xx response first.
func ExampleMiddleware_ModifyResponse() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.Header().Set("Referrer-Policy", "unsafe-url")
		w.Header().Set("Content-Security-Policy", "img-src 'self'")
		fmt.Fprintln(w, "legacy page")
	}))
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	if err != nil {
		log.Fatal(err)
	}

	m, err := headers.New(headers.Options{})
	if err != nil {
		log.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = m.ModifyResponse
	gateway := httptest.NewServer(m.Handler(headers.KeepAcross1xx(proxy)))
	defer gateway.Close()

	res, err := http.Get(gateway.URL)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	for _, k := range []string{"X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"} {
		fmt.Printf("%s: %q\n", k, res.Header.Values(k))
	}
	// Output:
	// X-Frame-Options: ["DENY"]
	// Referrer-Policy: ["no-referrer"]
	// Content-Security-Policy: ["default-src 'none'; frame-ancestors 'none'" "img-src 'self'"]
}

// A policy sent by mistake (includeSubDomains on a domain whose
// subdomains still serve plain HTTP) is undone with Expire, which tells
// browsers to forget it, sent over HTTPS for as long as the old max-age.
func ExampleHSTS_expire() {
	m, err := headers.New(headers.Options{HSTS: headers.HSTS{Expire: true}})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	fmt.Println(rec.Header().Get("Strict-Transport-Security"))
	// Output:
	// max-age=0
}
