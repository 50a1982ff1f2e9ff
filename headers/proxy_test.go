package headers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
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
