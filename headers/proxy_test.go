package headers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/internal/testenv"
)

// legacyBackend answers with the header fields its request names in the
// query, each name=value pair added as one field line, as a backend that
// sets its own security headers does.
func legacyBackend(t *testing.T) *url.URL {
	t.Helper()
	return testenv.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range r.URL.Query() {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		_, _ = io.WriteString(w, "legacy")
	})
}

// The headers middleware in front of an httputil.ReverseProxy whose
// backend sends its own security headers. The proxy adds them to the
// middleware's with Header.Add; ModifyResponse removes the backend's
// copies so that the client gets the gateway's value alone. Without it,
// X-Frame-Options "DENY, SAMEORIGIN" is a conflict that browsers read as
// DENY (framing is refused, same-origin included), the last
// Referrer-Policy token and the last Permissions-Policy member win, and
// two Cross-Origin-Opener-Policy or -Resource-Policy values are no policy
// at all.
func TestModifyResponseBehindReverseProxy(t *testing.T) {
	t.Parallel()
	backend := legacyBackend(t)
	const api = "default-src 'none'; frame-ancestors 'none'"
	for _, tc := range []struct {
		name    string
		opts    headers.Options
		tls     bool
		backend string // header name the backend sets
		values  []string
		want    []string // what the client gets
	}{
		{name: "a backend's SAMEORIGIN does not turn DENY into a conflicting list", backend: "X-Frame-Options", values: []string{"SAMEORIGIN"}, want: []string{"DENY"}},
		{name: "a backend's nosniff is not repeated", backend: "X-Content-Type-Options", values: []string{"nosniff"}, want: []string{"nosniff"}},
		{name: "a backend's unsafe-url is not the last, winning, referrer policy", backend: "Referrer-Policy", values: []string{"unsafe-url"}, want: []string{"no-referrer"}},
		{name: "a backend's permissions do not override the gateway's members", backend: "Permissions-Policy", values: []string{"camera=*, geolocation=*"}, want: []string{headers.DefaultPermissionsPolicy}},
		{name: "a backend's opener policy does not make an invalid pair", backend: "Cross-Origin-Opener-Policy", values: []string{"unsafe-none"}, want: []string{"same-origin"}},
		{name: "a backend's resource policy does not make an invalid pair", backend: "Cross-Origin-Resource-Policy", values: []string{"cross-origin"}, want: []string{"same-origin"}},
		{name: "a backend's identical resource policy is not repeated either", backend: "Cross-Origin-Resource-Policy", values: []string{"same-origin"}, want: []string{"same-origin"}},
		{name: "a backend's legacy XSS auditor setting is removed", backend: "X-Xss-Protection", values: []string{"1; mode=block"}, want: []string{"0"}},
		{name: "a backend's cross-domain policy is removed", backend: "X-Permitted-Cross-Domain-Policies", values: []string{"all"}, want: []string{"none"}},
		{name: "a backend's HSTS max-age=0 is removed over HTTPS", tls: true, backend: "Strict-Transport-Security", values: []string{"max-age=0"}, want: []string{"max-age=63072000; includeSubDomains"}},
		{name: "a backend's HSTS is removed over plain HTTP too", backend: "Strict-Transport-Security", values: []string{"max-age=0"}, want: nil},
		{name: "a backend's several lines are all removed", backend: "X-Frame-Options", values: []string{"SAMEORIGIN", "ALLOWALL"}, want: []string{"DENY"}},
		{name: "a backend's policy is kept: policies add up", backend: "Content-Security-Policy", values: []string{"default-src 'self'"}, want: []string{api, "default-src 'self'"}},
		{name: "a backend's reporting endpoints are kept next to the gateway's, as its policies are", opts: headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ReportTo: "/csp"}}, backend: "Reporting-Endpoints", values: []string{`backend="/r"`}, want: []string{`csp-endpoint="/csp"`, `backend="/r"`}},
		{name: "a backend's report-only policy is kept", backend: "Content-Security-Policy-Report-Only", values: []string{"default-src 'self'"}, want: []string{"default-src 'self'"}},
		{name: "a backend's header the gateway omits is kept", opts: headers.Options{FrameOptions: headers.Omit}, backend: "X-Frame-Options", values: []string{"SAMEORIGIN"}, want: []string{"SAMEORIGIN"}},
		{name: "a backend's HSTS is kept when the gateway omits it", opts: headers.Options{HSTS: headers.HSTS{Omit: true}}, tls: true, backend: "Strict-Transport-Security", values: []string{"max-age=31536000"}, want: []string{"max-age=31536000"}},
		{name: "a backend's embedder policy is kept when the gateway sends none", backend: "Cross-Origin-Embedder-Policy", values: []string{"require-corp"}, want: []string{"require-corp"}},
		{name: "a backend's embedder policy is removed when the gateway sends one", opts: headers.Options{CrossOriginEmbedderPolicy: "credentialless"}, backend: "Cross-Origin-Embedder-Policy", values: []string{"unsafe-none"}, want: []string{"credentialless"}},
		{name: "a backend's agent cluster request is kept when the gateway sends none", backend: "Origin-Agent-Cluster", values: []string{"?0"}, want: []string{"?0"}},
		{name: "a backend's agent cluster request is removed when the gateway sends one", opts: headers.Options{OriginAgentCluster: "?1"}, backend: "Origin-Agent-Cluster", values: []string{"?0"}, want: []string{"?1"}},
		{name: "a backend's DNS prefetching is removed when the gateway sets it", opts: headers.Options{DNSPrefetchControl: "off"}, backend: "X-Dns-Prefetch-Control", values: []string{"on"}, want: []string{"off"}},
		{name: "a backend's other headers are kept", backend: "X-Legacy", values: []string{"1"}, want: []string{"1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := headers.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			proxy := httputil.NewSingleHostReverseProxy(backend)
			proxy.ModifyResponse = m.ModifyResponse
			newServer := httptest.NewServer
			if tc.tls {
				newServer = httptest.NewTLSServer
			}
			gw := newServer(m.Handler(proxy))
			t.Cleanup(gw.Close)
			q := url.Values{tc.backend: tc.values}
			res, err := gw.Client().Get(gw.URL + "/?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if got := res.Header.Values(tc.backend); string(body) != "legacy" || !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q (body %q); want %q", tc.backend, got, body, tc.want)
			}
		})
	}
}

// A backend's 1xx response (103 Early Hints, or the 100 Continue a
// client's Expect: 100-continue draws from it) makes
// httputil.ReverseProxy clear the ResponseWriter's header map after
// forwarding it (golang/go#81207), and with it every header the middleware
// had set: the final response carried no Content-Security-Policy, HSTS,
// X-Frame-Options or any other, ModifyResponse having removed the
// backend's copies too (found in review). With KeepAcross1xx around the
// proxy the final response carries each of them once, as it does
// without a 1xx.
func TestKeepAcross1xxBehindReverseProxy(t *testing.T) {
	t.Parallel()
	backend := testenv.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("hints") {
			w.Header().Add("Link", "</app.js>; rel=preload; as=script")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.Header().Set("Content-Security-Policy", "img-src 'self'")
		_, _ = io.WriteString(w, "legacy")
	})
	owned := []string{"X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy",
		"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "X-Permitted-Cross-Domain-Policies",
		"X-Xss-Protection", "Strict-Transport-Security"}
	for _, tc := range []struct {
		name   string
		opts   headers.Options
		query  string
		expect bool // the client sends Expect: 100-continue with a body
	}{
		{name: "after the backend's Early Hints", opts: headers.API(), query: "?hints"},
		{name: "after the backend's Early Hints, with a nonce", opts: headers.HTML(), query: "?hints"},
		{name: "after a 100 Continue the client asked for", opts: headers.API(), expect: true},
		{name: "without a 1xx, nothing is repeated", opts: headers.HTML()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, tc.opts)
			proxy := httputil.NewSingleHostReverseProxy(backend)
			proxy.ModifyResponse = m.ModifyResponse
			// A header a layer further out set, such as a request ID.
			outer := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Request-Id", "r1")
					next.ServeHTTP(w, r)
				})
			}
			gw := httptest.NewTLSServer(outer(m.Handler(headers.KeepAcross1xx(proxy))))
			t.Cleanup(gw.Close)
			var req *http.Request
			if tc.expect {
				req, _ = http.NewRequest("POST", gw.URL+"/"+tc.query, strings.NewReader("body"))
				req.Header.Set("Expect", "100-continue")
			} else {
				req, _ = http.NewRequest("GET", gw.URL+"/"+tc.query, nil)
			}
			res, err := gw.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != "legacy" {
				t.Fatalf("body %q", body)
			}
			for _, k := range append(owned, "X-Request-Id") {
				if v := res.Header.Values(k); len(v) != 1 {
					t.Errorf("%s = %q, want one value", k, v)
				}
			}
			if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options = %q, want the gateway's DENY", got)
			}
			csp := res.Header.Values("Content-Security-Policy")
			if len(csp) != 2 || !strings.HasPrefix(csp[0], "default-src 'none'") || csp[1] != "img-src 'self'" {
				t.Errorf("Content-Security-Policy = %q, want the gateway's policy and then the backend's", csp)
			}
			if tc.opts.CSP.ScriptNonce && !strings.Contains(csp[0], "'nonce-") {
				t.Errorf("Content-Security-Policy = %q, want the gateway's nonce", csp)
			}
		})
	}
}

// KeepAcross1xx with handlers that act as a ReverseProxy may: one that
// keeps the header map after a 1xx (as golang/go#81207 makes it) gets no
// repeated field, one that starts its final response with Write or with
// a flush gets the fields back too, and http.ResponseController reaches
// the connection.
func TestKeepAcross1xxWithOtherHandlers(t *testing.T) {
	t.Parallel()
	m := mustNew(t, headers.API())
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"a proxy that keeps the fields after a 1xx", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Add("Content-Security-Policy", "img-src 'self'")
			w.WriteHeader(http.StatusOK)
		}},
		{"a final response started by Write", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			clear(w.Header())
			w.Header().Add("Content-Security-Policy", "img-src 'self'")
			_, _ = io.WriteString(w, "page")
		}},
		{"a final response started by a flush with no body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			clear(w.Header())
			w.Header().Add("Content-Security-Policy", "img-src 'self'")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}},
		{"a final response started by an http.Flusher", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			clear(w.Header())
			w.Header().Add("Content-Security-Policy", "img-src 'self'")
			f, ok := w.(http.Flusher)
			if !ok {
				t.Errorf("%T is no http.Flusher", w)
				return
			}
			f.Flush()
		}},
		{"a flush through http.ResponseController", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			clear(w.Header())
			w.Header().Add("Content-Security-Policy", "img-src 'self'")
			w.WriteHeader(http.StatusOK)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(m.Handler(headers.KeepAcross1xx(tc.h)))
			t.Cleanup(srv.Close)
			res, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if v := res.Header.Values("X-Frame-Options"); !slices.Equal(v, []string{"DENY"}) {
				t.Errorf("X-Frame-Options = %q", v)
			}
			if v := res.Header.Values("Content-Security-Policy"); !slices.Equal(v, []string{"default-src 'none'; frame-ancestors 'none'", "img-src 'self'"}) {
				t.Errorf("Content-Security-Policy = %q", v)
			}
		})
	}
	t.Run("a hijack through http.ResponseController", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(headers.KeepAcross1xx(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			_, _ = io.WriteString(conn, "HTTP/1.1 204 No Content\r\n\r\n")
			conn.Close()
		})))
		t.Cleanup(srv.Close)
		res, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Errorf("status %d", res.StatusCode)
		}
	})
}
