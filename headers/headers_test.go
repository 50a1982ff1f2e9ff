package headers_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/testenv"
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, "{}\n")
})

func serve(t testing.TB, m *headers.Middleware, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(ok).ServeHTTP(rec, r)
	return rec
}

func mustNew(t testing.TB, o headers.Options) *headers.Middleware {
	t.Helper()
	m, err := headers.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func tlsRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	return r
}

func TestPresetsSetEveryHeader(t *testing.T) {
	common := map[string]string{
		"Strict-Transport-Security":         "max-age=63072000; includeSubDomains",
		"X-Frame-Options":                   "DENY",
		"X-Content-Type-Options":            "nosniff",
		"Permissions-Policy":                headers.DefaultPermissionsPolicy,
		"Cross-Origin-Opener-Policy":        "same-origin",
		"Cross-Origin-Resource-Policy":      "same-origin",
		"X-Permitted-Cross-Domain-Policies": "none",
		"X-Xss-Protection":                  "0",
	}
	tests := []struct {
		name string
		opts headers.Options
		want map[string]string
	}{
		{"the zero options are the API preset", headers.Options{}, map[string]string{
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"Referrer-Policy":         "no-referrer",
		}},
		{"the API preset forbids everything", headers.API(), map[string]string{
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"Referrer-Policy":         "no-referrer",
		}},
		{"the HTML preset has a nonce-based strict policy", headers.HTML(), map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'nonce-NONCE' 'strict-dynamic'; style-src 'self' 'nonce-NONCE'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
			"Referrer-Policy":         "strict-origin-when-cross-origin",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nonce string
			m := mustNew(t, tt.opts)
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nonce, _ = headers.Nonce(r.Context())
			})).ServeHTTP(rec, tlsRequest("GET", "https://example.com/"))
			want := map[string]string{}
			maps.Copy(want, common)
			for k, v := range tt.want {
				want[k] = strings.ReplaceAll(v, "NONCE", nonce)
			}
			for k, v := range want {
				if got := rec.Header().Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for k := range rec.Header() {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected header %s: %q", k, rec.Header()[k])
				}
			}
		})
	}
}

func TestHSTSOnlyOverHTTPS(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{proxy}})
	tests := []struct {
		name     string
		resolver *clientip.Resolver
		tls      bool
		remote   string
		proto    string
		want     bool
	}{
		{"plain HTTP gets no HSTS", nil, false, "192.0.2.1:1234", "", false},
		// gofiber/fiber CVE-2026-53624 (GHSA-gv83-gqw6-9j2c): helmet
		// compared the wrong request field with "https" and never sent
		// HSTS. Here the request URL even says http: the connection
		// decides (TestEndToEnd checks the same over a real TLS server).
		{"a TLS connection gets HSTS", nil, true, "192.0.2.1:1234", "", true},
		{"a trusted proxy that says https gets HSTS", rv, false, "10.1.2.3:1234", "https", true},
		{"a trusted proxy that says http gets no HSTS", rv, false, "10.1.2.3:1234", "http", false},
		{"an untrusted peer claiming https gets no HSTS", rv, false, "192.0.2.1:1234", "https", false},
		{"without a resolver a claimed https is ignored", nil, false, "10.1.2.3:1234", "https", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, headers.Options{ClientIP: tt.resolver})
			r := httptest.NewRequest("GET", "http://example.com/", nil)
			r.RemoteAddr = tt.remote
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			got := serve(t, m, r).Header().Get("Strict-Transport-Security") != ""
			if got != tt.want {
				t.Errorf("HSTS sent = %v, want %v", got, tt.want)
			}
		})
	}
}

// unrolled/secure and martini-contrib/secure (issue #11, "SSLProxyHeaders
// trusted without checking source") believe X-Forwarded-Proto from any
// peer: a client on a plain connection could make the server answer as if
// over HTTPS. Here the claim counts only from a configured proxy.
func TestRegressionMartiniSecure11ForwardedProtoFromAnyPeer(t *testing.T) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}})
	m := mustNew(t, headers.Options{ClientIP: rv})
	for _, h := range []string{"X-Forwarded-Proto", "X-Forwarded-Ssl", "X-Url-Scheme", "Front-End-Https", "Forwarded"} {
		r := httptest.NewRequest("GET", "http://example.com/", nil)
		r.RemoteAddr = "203.0.113.9:5555"
		r.Header.Set(h, "https")
		if got := serve(t, m, r).Header().Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: https from an untrusted peer set HSTS %q", h, got)
		}
	}
}

func TestHSTSOptions(t *testing.T) {
	tests := []struct {
		name string
		hsts headers.HSTS
		want string
	}{
		{"the default is two years with subdomains", headers.HSTS{}, "max-age=63072000; includeSubDomains"},
		{"preload is opt-in", headers.HSTS{Preload: true}, "max-age=63072000; includeSubDomains; preload"},
		{"subdomains can be left out", headers.HSTS{DisableIncludeSubDomains: true, MaxAge: 10 * time.Minute}, "max-age=600"},
		{"one second is the shortest max-age", headers.HSTS{MaxAge: time.Second}, "max-age=1; includeSubDomains"},
		{"preload takes a max-age of exactly one year", headers.HSTS{Preload: true, MaxAge: 365 * 24 * time.Hour}, "max-age=31536000; includeSubDomains; preload"},
		{"the header can be omitted", headers.HSTS{Omit: true}, ""},
		// RFC 6797 §6.1.1: max-age=0 makes browsers forget the host's
		// policy, the one way to undo one sent by mistake.
		{"expire sends max-age=0", headers.HSTS{Expire: true}, "max-age=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, headers.Options{HSTS: tt.hsts})
			if got := serve(t, m, tlsRequest("GET", "https://example.com/")).Header().Get("Strict-Transport-Security"); got != tt.want {
				t.Errorf("HSTS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts headers.Options
		want error
	}{
		{"an unquoted keyword", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"self"}}}, headers.ErrUnquotedKeyword},
		{"an unquoted none", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{"none"}}}, headers.ErrUnquotedKeyword},
		{"a fixed nonce", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"'nonce-abc123'"}}}, headers.ErrNonceSource},
		{"an unquoted nonce, which would be a host named nonce-abc123", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"nonce-abc123"}}}, headers.ErrUnquotedKeyword},
		{"a source that injects a directive", headers.Options{CSP: &headers.CSP{ImgSrc: []string{"https://a.example; script-src *"}}}, headers.ErrSource},
		{"a source that injects a policy", headers.Options{CSP: &headers.CSP{ImgSrc: []string{"https://a.example,script-src"}}}, headers.ErrSource},
		{"a source with a line break", headers.Options{CSP: &headers.CSP{ImgSrc: []string{"https://a.example\r\nSet-Cookie: x=1"}}}, headers.ErrSource},
		{"a malformed hash", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"'sha256-short'"}}}, headers.ErrSource},
		// Found in review: base64 decoders skip line breaks, so a digest
		// copied with its newline passed, and an HTTP/2 server then
		// dropped the whole policy.
		{"a hash with a line break", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"'sha256-" + strings.Repeat("A", 43) + "=\n'"}}}, headers.ErrSource},
		{"a hash with a line break inside", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"'sha256-" + strings.Repeat("A", 20) + "\r\n" + strings.Repeat("A", 23) + "='"}}}, headers.ErrSource},
		{"an unknown keyword", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"'unsafe-everything'"}}}, headers.ErrSource},
		{"unsafe-inline scripts", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{headers.Self, headers.UnsafeInline}}}, headers.ErrUnsafeSource},
		{"unsafe-inline through default-src", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self, headers.UnsafeInline}}}, headers.ErrUnsafeSource},
		{"unsafe-eval", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{headers.Self, headers.UnsafeEval}}}, headers.ErrUnsafeSource},
		{"scripts from anywhere", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"https:"}}}, headers.ErrUnsafeSource},
		{"scripts from any host on one port", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"https://*:443"}}}, headers.ErrUnsafeSource},
		{"scripts from any host on any port", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"*:*"}}}, headers.ErrUnsafeSource},
		{"scripts from any host under a path", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"*/"}}}, headers.ErrUnsafeSource},
		{"scripts from any host of a top-level domain", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"https://*.com"}}}, headers.ErrUnsafeSource},
		// Anyone can register a name under a public suffix, or host a
		// site under a shared hosting domain: a wildcard over one loads
		// scripts from strangers as "*.com" does.
		{"scripts from any host of a public suffix", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"https://*.co.uk"}}}, headers.ErrUnsafeSource},
		{"scripts from any site of a hosting service", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"*.github.io"}}}, headers.ErrUnsafeSource},
		{"scripts from any site of a wildcard public suffix", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{"https://*.run.app"}}}, headers.ErrUnsafeSource},
		{"plugins from any site of a hosting service", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ObjectSrc: []string{"*.GitHub.io."}}}, headers.ErrUnsafeSource},
		{"plugins from any host under a path", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ObjectSrc: []string{"https://*/"}}}, headers.ErrUnsafeSource},
		{"scripts from data URLs", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"data:"}}}, headers.ErrUnsafeSource},
		{"plugins from anywhere", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ObjectSrc: []string{"*"}}}, headers.ErrUnsafeSource},
		// The documentation refuses data: for plugins as for scripts: an
		// injected <object> or <embed> brings its content in its own
		// data: URL. Found in review: it passed.
		{"plugins from data URLs", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ObjectSrc: []string{"DATA:"}}}, headers.ErrUnsafeSource},
		{"plugins from data URLs through default-src", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self, "data:"}, ScriptSrc: []string{headers.Self}}}, headers.ErrUnsafeSource},
		// base-uri does not fall back to default-src: with a nonce, an
		// injected <base href="https://attacker.example/"> that it allows
		// loads the page's relative nonced scripts from the attacker.
		{"any base URI with a script nonce", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ScriptNonce: true, BaseURI: []string{"*"}}}, headers.ErrUnsafeSource},
		{"an https: base URI with a style nonce", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, StyleNonce: true, BaseURI: []string{"https:"}}}, headers.ErrUnsafeSource},
		{"a base URI of a hosting service with a script hash", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"'sha256-" + strings.Repeat("A", 43) + "='"}, BaseURI: []string{"https://*.github.io"}}}, headers.ErrUnsafeSource},
		{"any base URI in the report-only policy with a nonce", headers.Options{CSPReportOnly: &headers.CSP{DefaultSrc: []string{headers.None}, ScriptNonce: true, BaseURI: []string{"*"}}}, headers.ErrUnsafeSource},
		{"images over http", headers.Options{CSP: &headers.CSP{ImgSrc: []string{"http://cdn.example"}}}, headers.ErrUnsafeSource},
		{"images from any ftp: URL", headers.Options{CSP: &headers.CSP{ImgSrc: []string{"ftp:"}}}, headers.ErrUnsafeSource},
		// 'strict-dynamic' makes browsers ignore http: for scripts only:
		// in default-src it still lets images, styles, fonts, frames and
		// fetches come over plain HTTP. Found in review: it passed, as the
		// script fallback of a hash policy.
		{"any http: URL in default-src next to a hash and strict-dynamic", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{"'sha256-" + strings.Repeat("A", 43) + "='", headers.StrictDynamic, "http:"}, ObjectSrc: []string{headers.None}}}, headers.ErrUnsafeSource},
		{"any ftp: URL in default-src next to a hash and strict-dynamic", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{"'sha256-" + strings.Repeat("A", 43) + "='", headers.StrictDynamic, "ftp:"}, ObjectSrc: []string{headers.None}}}, headers.ErrUnsafeSource},
		{"none with other sources", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None, headers.Self}}}, headers.ErrPolicy},
		{"strict-dynamic without a nonce", headers.Options{CSP: &headers.CSP{ScriptSrc: []string{headers.Self}, StrictDynamic: true}}, headers.ErrPolicy},
		{"a script keyword in img-src", headers.Options{CSP: &headers.CSP{ImgSrc: []string{headers.UnsafeInline}}}, headers.ErrPolicy},
		{"an empty policy", headers.Options{CSP: &headers.CSP{}}, headers.ErrPolicy},
		{"a report URL over http", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ReportURI: "http://r.example/csp"}}, headers.ErrPolicy},
		{"a report URL with a semicolon, which would start another directive", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ReportURI: "/csp;script-src"}}, headers.ErrPolicy},
		{"a report URL with userinfo", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ReportTo: "https://user:pw@r.example/csp"}}, headers.ErrPolicy},
		{"a report URL with a quote", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ReportTo: `/csp"; x="`}}, headers.ErrPolicy},
		{"an unknown sandbox token", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, Sandbox: true, SandboxAllow: []string{"allow-everything"}}}, headers.ErrPolicy},
		{"two report-only policies", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ReportOnly: true}, CSPReportOnly: &headers.CSP{DefaultSrc: []string{headers.None}}}, headers.ErrPolicy},
		{"an invalid report-only policy next to a valid one", headers.Options{CSPReportOnly: &headers.CSP{ScriptSrc: []string{"self"}}}, headers.ErrUnquotedKeyword},
		{"OmitCSP with a policy", headers.Options{OmitCSP: true, CSP: &headers.CSP{DefaultSrc: []string{headers.None}}}, headers.ErrPolicy},
		{"ALLOW-FROM framing", headers.Options{FrameOptions: "ALLOW-FROM https://a.example"}, headers.ErrValue},
		{"a misspelt referrer policy", headers.Options{ReferrerPolicy: "no-referer"}, headers.ErrValue},
		{"the unsafe-url referrer policy", headers.Options{ReferrerPolicy: "unsafe-url"}, headers.ErrValue},
		{"a malformed permissions policy", headers.Options{PermissionsPolicy: "camera 'none'"}, headers.ErrValue},
		{"a permissions policy origin with a line break", headers.Options{PermissionsPolicy: `camera=("https://a.example` + "\r\nX:y" + `")`}, headers.ErrValue},
		{"a permissions policy origin with a control character", headers.Options{PermissionsPolicy: `camera=("https://a.example` + "\x01" + `")`}, headers.ErrValue},
		// Found in review: anything after "https://" passed.
		{"a permissions policy origin without a host", headers.Options{PermissionsPolicy: `camera=("https://")`}, headers.ErrValue},
		{"a permissions policy origin with a path", headers.Options{PermissionsPolicy: `camera=("https://a.example/x")`}, headers.ErrValue},
		{"a permissions policy origin with userinfo", headers.Options{PermissionsPolicy: `camera=("https://u@a.example")`}, headers.ErrValue},
		{"an unknown COOP", headers.Options{CrossOriginOpenerPolicy: "same-site"}, headers.ErrValue},
		{"an unknown CORP", headers.Options{CrossOriginResourcePolicy: "none"}, headers.ErrValue},
		{"an unknown XSS setting", headers.Options{XSSProtection: "1; mode=allow"}, headers.ErrValue},
		{"a header value with a line break", headers.Options{CrossOriginEmbedderPolicy: "require-corp\r\nX: y"}, headers.ErrValue},
		{"a negative HSTS max-age", headers.Options{HSTS: headers.HSTS{MaxAge: -time.Second}}, headers.ErrHSTS},
		{"a sub-second HSTS max-age", headers.Options{HSTS: headers.HSTS{MaxAge: time.Millisecond}}, headers.ErrHSTS},
		{"preload without subdomains", headers.Options{HSTS: headers.HSTS{Preload: true, DisableIncludeSubDomains: true}}, headers.ErrHSTS},
		{"preload for less than a year", headers.Options{HSTS: headers.HSTS{Preload: true, MaxAge: 24 * time.Hour}}, headers.ErrHSTS},
		{"expire with a max-age", headers.Options{HSTS: headers.HSTS{Expire: true, MaxAge: time.Hour}}, headers.ErrHSTS},
		{"expire with preload", headers.Options{HSTS: headers.HSTS{Expire: true, Preload: true}}, headers.ErrHSTS},
		{"expire with omit", headers.Options{HSTS: headers.HSTS{Expire: true, Omit: true}}, headers.ErrHSTS},
		{"an allowed host of *", headers.Options{AllowedHosts: []string{"*"}}, headers.ErrHostPattern},
		// Found in review: a wildcard over a public suffix allowed every
		// host under it.
		{"an allowed host of *.com", headers.Options{AllowedHosts: []string{"*.com"}}, headers.ErrHostPattern},
		{"an allowed host of *.co.uk", headers.Options{AllowedHosts: []string{"*.CO.UK"}}, headers.ErrHostPattern},
		{"an allowed host of *.github.io", headers.Options{AllowedHosts: []string{"*.github.io"}}, headers.ErrHostPattern},
		{"an allowed host of *.run.app, whose subdomains are public suffixes", headers.Options{AllowedHosts: []string{"*.run.app"}}, headers.ErrHostPattern},
		{"a Unicode allowed host", headers.Options{AllowedHosts: []string{"bücher.example"}}, headers.ErrHostPattern},
		{"an allowed host with a path", headers.Options{AllowedHosts: []string{"example.com/admin"}}, headers.ErrHostPattern},
		{"an allowed host with a bad port", headers.Options{AllowedHosts: []string{"example.com:99999"}}, headers.ErrHostPattern},
		{"a wildcard in the middle", headers.Options{AllowedHosts: []string{"api.*.example.com"}}, headers.ErrHostPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := headers.New(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New error = %v, want %v", err, tt.want)
			}
			var oe *headers.OptionError
			if !errors.As(err, &oe) || oe.Field == "" {
				t.Errorf("error %v is not an *OptionError naming a field", err)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := headers.New(headers.Options{
		CSP:            &headers.CSP{ScriptSrc: []string{"self", "'unsafe-eval'"}},
		ReferrerPolicy: "bogus",
		AllowedHosts:   []string{"*"},
	})
	for _, want := range []error{headers.ErrUnquotedKeyword, headers.ErrUnsafeSource, headers.ErrValue, headers.ErrHostPattern} {
		if !errors.Is(err, want) {
			t.Errorf("joined error %v does not include %v", err, want)
		}
	}
}

// Each line of New's error names the package once, as cors and csrf
// do: "headers: Options.X "v": reason", not "…: headers: reason".
func TestOptionErrorNamesThePackageOnce(t *testing.T) {
	_, err := headers.New(headers.Options{
		CSP:          &headers.CSP{DefaultSrc: []string{"self"}},
		AllowedHosts: []string{"https://example.com"},
	})
	if err == nil {
		t.Fatal("New accepted invalid options")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if n := strings.Count(line, "headers: "); n != 1 {
			t.Errorf("error line %q names the package %d times, want once", line, n)
		}
	}
}

func TestDangerouslyAllowUnsafe(t *testing.T) {
	m := mustNew(t, headers.Options{CSP: &headers.CSP{
		DefaultSrc:             []string{headers.Self},
		ScriptSrc:              []string{headers.Self, headers.UnsafeInline, headers.UnsafeEval},
		DangerouslyAllowUnsafe: true,
	}})
	got := serve(t, m, httptest.NewRequest("GET", "/", nil)).Header().Get("Content-Security-Policy")
	if want := "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'"; got != want {
		t.Errorf("CSP = %q, want %q", got, want)
	}
}

func TestCSPRendering(t *testing.T) {
	hash := "'sha256-" + strings.Repeat("A", 43) + "='"
	tests := []struct {
		name string
		csp  headers.CSP
		want string
	}{
		{"keywords and hosts are canonical and deduplicated",
			headers.CSP{DefaultSrc: []string{"'SELF'", "HTTPS://CDN.Example.com/Path", "'self'"}},
			"default-src 'self' https://cdn.example.com/Path"},
		{"a hash keeps its digest",
			headers.CSP{ScriptSrc: []string{hash}},
			"script-src " + hash + "; base-uri 'self'"},
		{"unsafe-inline next to a hash is allowed because browsers ignore it",
			headers.CSP{ScriptSrc: []string{hash, headers.UnsafeInline}},
			"script-src " + hash + " 'unsafe-inline'; base-uri 'self'"},
		{"strict-dynamic fallbacks next to a hash are allowed",
			headers.CSP{ScriptSrc: []string{hash, headers.StrictDynamic, "https:"}},
			"script-src " + hash + " 'strict-dynamic' https:; base-uri 'self'"},
		{"a hash in default-src, the fallback of script-src, also gets base-uri 'self' (found in review: an injected <base> re-targeted relative nonced scripts)",
			headers.CSP{DefaultSrc: []string{hash}},
			"default-src " + hash + "; base-uri 'self'"},
		{"a style hash gets base-uri 'self' too: an injected <base> would re-target relative style sheets",
			headers.CSP{StyleSrc: []string{hash}},
			"style-src " + hash + "; base-uri 'self'"},
		{"a hash policy keeps the BaseURI it is given",
			headers.CSP{ScriptSrc: []string{hash}, BaseURI: []string{headers.None}},
			"script-src " + hash + "; base-uri 'none'"},
		{"a policy without nonce or hash gets no base-uri",
			headers.CSP{DefaultSrc: []string{headers.Self}},
			"default-src 'self'"},
		{"a policy without nonce or hash may allow any base URI: its scripts need a host source",
			headers.CSP{DefaultSrc: []string{headers.Self}, BaseURI: []string{"*"}},
			"default-src 'self'; base-uri *"},
		{"a nonce policy allows any base URI with DangerouslyAllowUnsafe",
			headers.CSP{DefaultSrc: []string{headers.None}, ScriptSrc: []string{hash}, BaseURI: []string{"https:"}, DangerouslyAllowUnsafe: true},
			"default-src 'none'; script-src " + hash + "; base-uri https:"},
		{"boolean directives follow the source lists",
			headers.CSP{DefaultSrc: []string{headers.None}, Sandbox: true, SandboxAllow: []string{"allow-scripts"}, UpgradeInsecureRequests: true, RequireTrustedTypes: true},
			"default-src 'none'; sandbox allow-scripts; upgrade-insecure-requests; require-trusted-types-for 'script'"},
		{"report endpoints come last",
			headers.CSP{DefaultSrc: []string{headers.None}, ReportURI: "/csp-report", ReportTo: "https://r.example/csp"},
			"default-src 'none'; report-uri /csp-report; report-to csp-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csp := tt.csp
			m := mustNew(t, headers.Options{CSP: &csp})
			if got := serve(t, m, httptest.NewRequest("GET", "/", nil)).Header().Get("Content-Security-Policy"); got != tt.want {
				t.Errorf("CSP = %q\n          want %q", got, tt.want)
			}
		})
	}
}

func TestReportOnlyAndReportingEndpoints(t *testing.T) {
	m := mustNew(t, headers.Options{
		CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ReportTo: "/csp"},
		CSPReportOnly: &headers.CSP{
			DefaultSrc: []string{headers.None}, ScriptNonce: true, StrictDynamic: true, ReportTo: "/csp",
		},
	})
	var nonce string
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ = headers.Nonce(r.Context())
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	h := rec.Header()
	if got, want := h.Get("Content-Security-Policy"), "default-src 'self'; report-to csp-endpoint"; got != want {
		t.Errorf("CSP = %q, want %q", got, want)
	}
	if got, want := h.Get("Content-Security-Policy-Report-Only"), "default-src 'none'; script-src 'nonce-"+nonce+"' 'strict-dynamic'; base-uri 'self'; report-to csp-endpoint"; got != want {
		t.Errorf("CSP-Report-Only = %q, want %q", got, want)
	}
	if got, want := h.Get("Reporting-Endpoints"), `csp-endpoint="/csp"`; got != want {
		t.Errorf("Reporting-Endpoints = %q, want %q", got, want)
	}
}

func TestFrameOptionsFollowFrameAncestors(t *testing.T) {
	tests := []struct {
		name  string
		opts  headers.Options
		want  string
		omits bool
	}{
		{"frame-ancestors self gives SAMEORIGIN", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, FrameAncestors: []string{headers.Self}}}, "SAMEORIGIN", false},
		{"frame-ancestors none gives DENY", headers.Options{}, "DENY", false},
		{"a report-only frame-ancestors self leaves DENY", headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, FrameAncestors: []string{headers.Self}, ReportOnly: true}}, "DENY", false},
		{"an explicit value wins and is canonical", headers.Options{FrameOptions: "sameorigin"}, "SAMEORIGIN", false},
		{"an explicit value in upper case is taken", headers.Options{FrameOptions: "DENY"}, "DENY", false},
		{"an explicit value in mixed case with spaces is canonical", headers.Options{FrameOptions: " SameOrigin "}, "SAMEORIGIN", false},
		{"Omit leaves it out", headers.Options{FrameOptions: headers.Omit}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := serve(t, mustNew(t, tt.opts), httptest.NewRequest("GET", "/", nil)).Header()
			if _, present := h["X-Frame-Options"]; present == tt.omits || h.Get("X-Frame-Options") != tt.want {
				t.Errorf("X-Frame-Options = %q, want %q", h["X-Frame-Options"], tt.want)
			}
		})
	}
}

// Found in review: "OMIT" was accepted for ContentTypeOptions, as
// "NOSNIFF" is, but sent as the header's value, which browsers ignore.
func TestContentTypeOptionsInAnyCase(t *testing.T) {
	for _, tt := range []struct{ value, want string }{
		{"", "nosniff"}, {"NoSniff", "nosniff"}, {headers.Omit, ""}, {"OMIT", ""}, {"Omit", ""},
	} {
		h := serve(t, mustNew(t, headers.Options{ContentTypeOptions: tt.value}), httptest.NewRequest("GET", "/", nil)).Header()
		if got, present := h["X-Content-Type-Options"]; present != (tt.want != "") || h.Get("X-Content-Type-Options") != tt.want {
			t.Errorf("ContentTypeOptions %q: X-Content-Type-Options = %q, want %q", tt.value, got, tt.want)
		}
	}
	if _, err := headers.New(headers.Options{ContentTypeOptions: "sniff"}); !errors.Is(err, headers.ErrValue) {
		t.Errorf("ContentTypeOptions \"sniff\": %v", err)
	}
}

// Origin-Agent-Cluster and X-DNS-Prefetch-Control are sent only when
// asked for, with the values their specifications define.
func TestOptInHeaders(t *testing.T) {
	tests := []struct {
		name   string
		opts   headers.Options
		header string
		want   []string // nil: not sent
	}{
		{"no Origin-Agent-Cluster by default", headers.Options{}, "Origin-Agent-Cluster", nil},
		{"no Origin-Agent-Cluster in the HTML preset", headers.HTML(), "Origin-Agent-Cluster", nil},
		{"an origin-keyed agent cluster", headers.Options{OriginAgentCluster: "?1"}, "Origin-Agent-Cluster", []string{"?1"}},
		{"a site-keyed agent cluster", headers.Options{OriginAgentCluster: "?0"}, "Origin-Agent-Cluster", []string{"?0"}},
		{"Origin-Agent-Cluster omitted", headers.Options{OriginAgentCluster: headers.Omit}, "Origin-Agent-Cluster", nil},
		{"no X-DNS-Prefetch-Control by default", headers.Options{}, "X-Dns-Prefetch-Control", nil},
		{"no X-DNS-Prefetch-Control in the HTML preset", headers.HTML(), "X-Dns-Prefetch-Control", nil},
		{"DNS prefetching off", headers.Options{DNSPrefetchControl: "off"}, "X-Dns-Prefetch-Control", []string{"off"}},
		{"DNS prefetching off, in any case", headers.Options{DNSPrefetchControl: " OFF "}, "X-Dns-Prefetch-Control", []string{"off"}},
		{"DNS prefetching on", headers.Options{DNSPrefetchControl: "on"}, "X-Dns-Prefetch-Control", []string{"on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := serve(t, mustNew(t, tt.opts), tlsRequest("GET", "https://example.com/")).Header()
			if got := h[tt.header]; !slices.Equal(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
	for _, o := range []headers.Options{
		{OriginAgentCluster: "?2"},
		{OriginAgentCluster: "1"},
		{OriginAgentCluster: "?1\r\nX: y"},
		{DNSPrefetchControl: "no"},
		{DNSPrefetchControl: "off, on"},
	} {
		if _, err := headers.New(o); !errors.Is(err, headers.ErrValue) {
			t.Errorf("New(%+v) error = %v, want ErrValue", o, err)
		}
	}
}

// Permissions-Policy goes out without the white space around the value
// that New accepts, as every other option's value does: an HTTP/2 field
// value must not begin or end with white space (RFC 9113 §8.2.1), and the
// value reached the wire with it, where a strict peer takes the whole
// response for malformed.
func TestPermissionsPolicyIsSentWithoutSurroundingSpace(t *testing.T) {
	for _, v := range []string{" camera=()", "camera=() ", "\tcamera=(), usb=()\t ", "camera=()\t, usb=() "} {
		h := serve(t, mustNew(t, headers.Options{PermissionsPolicy: v}), tlsRequest("GET", "https://example.com/")).Header()
		got := h["Permissions-Policy"]
		if len(got) != 1 || got[0] != strings.Trim(v, " \t") {
			t.Errorf("PermissionsPolicy %q sent as %q, want %q", v, got, strings.Trim(v, " \t"))
		}
	}
}

func TestPermissionsPolicyOrigins(t *testing.T) {
	for _, v := range []string{
		`camera=("https://a.example")`,
		`camera=(self "https://a.example:8443" "http://localhost:3000")`,
		`camera=("https://*.a.example")`,
		`camera=("https://[2001:db8::1]")`,
	} {
		if _, err := headers.New(headers.Options{PermissionsPolicy: v}); err != nil {
			t.Errorf("PermissionsPolicy %s: %v", v, err)
		}
	}
}

func TestLegacyXSSProtectionIsAvailable(t *testing.T) {
	m := mustNew(t, headers.Options{XSSProtection: "1;mode=block"})
	if got := serve(t, m, httptest.NewRequest("GET", "/", nil)).Header().Get("X-XSS-Protection"); got != "1; mode=block" {
		t.Errorf("X-XSS-Protection = %q, want the normalized legacy value", got)
	}
}

func TestNonces(t *testing.T) {
	tmpl := template.Must(template.New("page").Parse(`<script nonce="{{.Nonce}}">go()</script>`))
	m := mustNew(t, headers.HTML())
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, ok := headers.Nonce(r.Context())
		if !ok {
			t.Error("no nonce in the request context")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = tmpl.Execute(w, struct{ Nonce string }{nonce})
	}))
	seen := map[string]bool{}
	for range 1000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		body := rec.Body.String()
		nonce := strings.TrimSuffix(strings.TrimPrefix(body, `<script nonce="`), `">go()</script>`)
		if len(nonce) != 22 || strings.Trim(nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("template rendered nonce %q: not 22 base64url characters", nonce)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if strings.Count(csp, "'nonce-"+nonce+"'") != 2 {
			t.Fatalf("CSP %q does not carry the template's nonce in script-src and style-src", csp)
		}
		if seen[nonce] {
			t.Fatalf("nonce %q repeated", nonce)
		}
		seen[nonce] = true
	}
}

// With a nonce and no ScriptSrc or StyleSrc, script-src and style-src are
// default-src without its hash sources, plus the nonce, as CSP documents.
func TestNonceListsLeaveOutDefaultSrcHashes(t *testing.T) {
	hash := "'sha256-" + strings.Repeat("A", 43) + "='"
	m := mustNew(t, headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self, hash}, ScriptNonce: true, StyleNonce: true}})
	var nonce string
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ = headers.Nonce(r.Context())
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	want := "default-src 'self' " + hash + "; script-src 'self' 'nonce-" + nonce + "'; style-src 'self' 'nonce-" + nonce + "'; base-uri 'self'"
	if got := rec.Header().Get("Content-Security-Policy"); got != want {
		t.Errorf("CSP = %q\n          want %q", got, want)
	}
}

// A nonce is 16 bytes from crypto/rand: every byte of it varies from one
// response to the next. (A nonce with only some random bytes is as unique
// in a test, and far easier to guess.)
func TestNonceHasSixteenRandomBytes(t *testing.T) {
	m := mustNew(t, headers.HTML())
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := headers.Nonce(r.Context())
		_, _ = io.WriteString(w, nonce)
	}))
	var first []byte
	varies := make([]bool, 16)
	for range 64 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		raw, err := base64.RawURLEncoding.DecodeString(rec.Body.String())
		if err != nil || len(raw) != 16 {
			t.Fatalf("nonce %q: %d bytes, %v; want 16 bytes of unpadded base64url", rec.Body, len(raw), err)
		}
		if first == nil {
			first = raw
		}
		for i := range raw {
			varies[i] = varies[i] || raw[i] != first[i]
		}
	}
	for i, v := range varies {
		if !v {
			t.Errorf("byte %d of the nonce is the same in 64 responses", i)
		}
	}
}

// NetEscapades.AspNetCore.SecurityHeaders#117 and
// csp-html-webpack-plugin#82: a nonce that repeats across responses makes
// the policy bypassable. Each response gets its own.
func TestRegressionNetEscapades117NonceNotReusedAcrossResponses(t *testing.T) {
	m := mustNew(t, headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ScriptNonce: true}})
	a := serve(t, m, httptest.NewRequest("GET", "/", nil)).Header().Get("Content-Security-Policy")
	b := serve(t, m, httptest.NewRequest("GET", "/", nil)).Header().Get("Content-Security-Policy")
	if a == b {
		t.Fatalf("two responses share the policy %q", a)
	}
	if !strings.HasPrefix(a, "default-src 'self'; script-src 'self' 'nonce-") {
		t.Errorf("script-src does not inherit default-src before the nonce: %q", a)
	}
}

// A set script-src-elem or style-src-elem, not script-src or style-src,
// governs the elements that carry the nonce: the nonce (and
// 'strict-dynamic') must be there too, or every nonced <script> or <style>
// is blocked. Found in review: they went to script-src and style-src only.
func TestNonceReachesElemDirectives(t *testing.T) {
	tests := []struct {
		name string
		csp  headers.CSP
		want []string // directives, each with its sources, "N" standing for the nonce
	}{
		{"script-src-elem set",
			headers.CSP{DefaultSrc: []string{headers.None}, ScriptSrcElem: []string{headers.Self}, ScriptNonce: true},
			[]string{"script-src 'nonce-N'", "script-src-elem 'self' 'nonce-N'"}},
		{"script-src-elem with strict-dynamic",
			headers.CSP{DefaultSrc: []string{headers.None}, ScriptSrcElem: []string{headers.Self}, ScriptNonce: true, StrictDynamic: true},
			[]string{"script-src 'nonce-N' 'strict-dynamic'", "script-src-elem 'self' 'nonce-N' 'strict-dynamic'"}},
		{"style-src-elem set",
			headers.CSP{DefaultSrc: []string{headers.None}, StyleSrcElem: []string{headers.Self}, StyleNonce: true},
			[]string{"style-src 'nonce-N'", "style-src-elem 'self' 'nonce-N'"}},
		{"unset elem directives stay unset",
			headers.CSP{DefaultSrc: []string{headers.None}, ScriptNonce: true, StyleNonce: true, StrictDynamic: true},
			[]string{"script-src 'nonce-N' 'strict-dynamic'", "style-src 'nonce-N'", "!script-src-elem", "!style-src-elem"}},
		{"attr directives get no nonce",
			headers.CSP{DefaultSrc: []string{headers.None}, ScriptSrcAttr: []string{headers.None}, StyleSrcAttr: []string{headers.None}, ScriptNonce: true, StyleNonce: true},
			[]string{"script-src-attr 'none'", "style-src-attr 'none'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nonce string
			m := mustNew(t, headers.Options{CSP: &tt.csp})
			w := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nonce, _ = headers.Nonce(r.Context())
			})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			policy := w.Header().Get("Content-Security-Policy")
			if nonce == "" {
				t.Fatalf("no nonce; policy %q", policy)
			}
			directives := map[string]string{}
			for d := range strings.SplitSeq(policy, "; ") {
				name, _, _ := strings.Cut(d, " ")
				directives[name] = strings.ReplaceAll(d, nonce, "N")
			}
			for _, want := range tt.want {
				if name, ok := strings.CutPrefix(want, "!"); ok {
					if d, found := directives[name]; found {
						t.Errorf("policy has %q, want no %s: %q", d, name, policy)
					}
					continue
				}
				name, _, _ := strings.Cut(want, " ")
				if directives[name] != want {
					t.Errorf("%s is %q, want %q (policy %q)", name, directives[name], want, policy)
				}
			}
		})
	}
}

func TestNoNonceWithoutNoncePolicy(t *testing.T) {
	m := mustNew(t, headers.Options{})
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, ok := headers.Nonce(r.Context()); ok {
			t.Errorf("Nonce = %q, want none", n)
		}
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestAllowedHosts(t *testing.T) {
	m := mustNew(t, headers.Options{AllowedHosts: []string{
		"example.com", "*.example.org", "localhost:8080", "127.0.0.1", "::1",
		"xn--bcher-kva.example", "Upper.Example.NET.", "*.amazonaws.com",
	}})
	tests := []struct {
		host string
		want bool
	}{
		{"example.com", true},
		{"example.com:443", true},
		{"EXAMPLE.COM", true},
		{"example.com.", true},
		{"example.com.:8443", true},
		{"www.example.com", false},
		{"example.com.evil.com", false},
		{"evilexample.com", false},
		{"a.example.org", true},
		{"a.b.example.org:1", true},
		{"example.org", false},
		{".example.org", false},
		{"localhost:8080", true},
		{"localhost", false},
		{"localhost:8081", false},
		{"127.0.0.1:9999", true},
		{"127.0.0.2", false},
		{"[::1]", true},
		{"[::1]:8080", true},
		{"[0:0::1]", true},
		{"::1", false},
		{"[::2]", false},
		{"[::1%lo]", false},
		{"xn--bcher-kva.example", true},
		{"XN--BCHER-KVA.EXAMPLE", true},
		{"bücher.example", false},
		{"upper.example.net", true},
		// The doc: "*.amazonaws.com" refuses "bucket.s3.amazonaws.com",
		// a host under a public suffix below the pattern's domain.
		{"console.amazonaws.com", true},
		{"bucket.s3.amazonaws.com", false},
		{"x.bucket.s3.amazonaws.com", false},
		{"", false},
		{"example.com:", false},
		{"example.com:abc", false},
		{"example.com:99999", false},
		{"example.com@evil.com", false},
		{"example.com/evil", false},
		{"example.com\r\nX: y", false},
		{"exa mple.com", false},
		{"example..com", false},
		{"-example.com", false},
		{strings.Repeat("a.", 200) + "example.com", false},
	}
	for _, tt := range tests {
		t.Run("Host "+tt.host, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tt.host
			err := m.Check(r)
			if (err == nil) != tt.want {
				t.Fatalf("Check = %v, want allowed %v", err, tt.want)
			}
			if err != nil && !errors.Is(err, headers.ErrHostNotAllowed) {
				t.Errorf("Check error %v does not wrap ErrHostNotAllowed", err)
			}
			rec := serve(t, m, r)
			if tt.want && rec.Code != http.StatusOK || !tt.want && rec.Code != http.StatusBadRequest {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
}

// Over HTTP/1.1 a request target may be absolute ("GET http://host/path"),
// and net/http then takes request.Host, on which the application routes,
// from it rather than from the Host line. AllowedHosts decides on that
// same value, so a name allowed in one place and another site's in the
// other cannot split the check from the routing. The requests are sent as
// bytes, as httptest.NewRequest cannot make them.
func TestAllowedHostsOnTheWire(t *testing.T) {
	m := mustNew(t, headers.Options{AllowedHosts: []string{"example.com"}})
	addr := testenv.Serve(t, &http.Server{Handler: m.Handler(ok), ErrorLog: log.New(io.Discard, "", 0)})
	tests := []struct {
		name    string
		request string
		status  int
		refusal bool // the middleware's 400, with the security headers
	}{
		{"an allowed Host line", "GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n", 200, false},
		{"an allowed Host line in another case, with a port and a trailing dot", "GET /x HTTP/1.1\r\nHost: EXAMPLE.com.:8443\r\n\r\n", 200, false},
		{"another host in the target, an allowed Host line", "GET http://evil.example/x HTTP/1.1\r\nHost: example.com\r\n\r\n", 400, true},
		{"an allowed host in the target, another Host line", "GET http://example.com/x HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, false},
		{"an allowed name as userinfo before another host", "GET http://example.com@evil.example/x HTTP/1.1\r\nHost: example.com\r\n\r\n", 400, true},
		{"userinfo before an allowed host", "GET http://user@example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n", 200, false},
		{"an empty host in the target falls back to the Host line", "GET http:///x HTTP/1.1\r\nHost: evil.example\r\n\r\n", 400, true},
		{"an HTTP/1.0 request without Host", "GET /x HTTP/1.0\r\n\r\n", 400, true},
		{"an empty Host line", "GET /x HTTP/1.1\r\nHost: \r\n\r\n", 400, true},
		{"an IPv6 literal not allowed", "GET /x HTTP/1.1\r\nHost: [::1]\r\n\r\n", 400, true},
		{"two Host lines, refused by net/http", "GET /x HTTP/1.1\r\nHost: example.com\r\nHost: evil.example\r\n\r\n", 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := testenv.RawRequest(t, addr, tt.request)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.refusal && (res.Header.Get("Content-Type") != "application/problem+json" || res.Header.Get("X-Frame-Options") != "DENY") {
				t.Errorf("the refusal is not the middleware's: %v", res.Header)
			}
		})
	}
}

// unrolled/secure#15 added HostsProxyHeaders: when the named header (say
// X-Forwarded-Host) is present, AllowedHosts is checked against it instead
// of Host, whoever sent it. A client then passes the check with an allowed
// name in that header while Host, the name the server routes on and the
// application builds links from, is the attacker's. Only Host counts
// here, behind a trusted proxy too.
func TestRegressionUnrolledSecure15ForwardedHostDoesNotPassAllowedHosts(t *testing.T) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, tt := range []struct {
		name   string
		rv     *clientip.Resolver
		remote string
	}{
		{"from a client", nil, "203.0.113.9:5555"},
		{"from a client, with a resolver", rv, "203.0.113.9:5555"},
		{"from a trusted proxy", rv, "10.0.0.1:5555"},
	} {
		m := mustNew(t, headers.Options{ClientIP: tt.rv, AllowedHosts: []string{"example.com"}})
		for _, h := range [][2]string{
			{"X-Forwarded-Host", "example.com"},
			{"X-Forwarded-Host", "example.com, evil.example"},
			{"X-Forwarded-Server", "example.com"},
			{"X-Original-Host", "example.com"},
			{"X-Host", "example.com"},
			{"Forwarded", "host=example.com"},
			{"Forwarded", `for=198.51.100.1;host="example.com";proto=https`},
		} {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			r.Host = "evil.example"
			r.Header.Set(h[0], h[1])
			if err := m.Check(r); !errors.Is(err, headers.ErrHostNotAllowed) {
				t.Errorf("%s, %s: %s: Check = %v, want ErrHostNotAllowed", tt.name, h[0], h[1], err)
			}
			if rec := serve(t, m, r); rec.Code != http.StatusBadRequest {
				t.Errorf("%s, %s: %s: status %d, want 400", tt.name, h[0], h[1], rec.Code)
			}
		}
		// The header does not get in the way of an allowed Host either.
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		r.Host = "example.com"
		r.Header.Set("X-Forwarded-Host", "evil.example")
		if rec := serve(t, m, r); rec.Code != http.StatusOK {
			t.Errorf("%s: an allowed Host with a foreign X-Forwarded-Host: status %d, want 200", tt.name, rec.Code)
		}
	}
}

func TestRejectionDoesNotReflectTheHost(t *testing.T) {
	m := mustNew(t, headers.HTML())
	m, err := m.With(func(o *headers.Options) { o.AllowedHosts = []string{"example.com"} })
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "evil-marker.example"
	rec := serve(t, m, r)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	var raw strings.Builder
	raw.WriteString(rec.Body.String())
	for k, v := range rec.Header() {
		raw.WriteString(k + strings.Join(v, ""))
	}
	if strings.Contains(raw.String(), "evil-marker") {
		t.Errorf("the response reflects the Host header: %s", raw.String())
	}
	if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want problem JSON", got)
	}
	if got := rec.Header().Get("Content-Security-Policy"); strings.Contains(got, "nonce") || got == "" {
		t.Errorf("rejection CSP = %q, want a strict policy without a nonce", got)
	}
	if got := rec.Header().Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("rejection lacks the security headers: X-Frame-Options %q", got)
	}
}

func TestRejectionRecordsTheReasonForTheAccessLog(t *testing.T) {
	m := mustNew(t, headers.Options{AllowedHosts: []string{"example.com"}})
	ctx, reason := problem.WithReason(context.Background())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	r.Host = "evil.example"
	rec := httptest.NewRecorder()
	m.Handler(noop).ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q: want the generic 400 problem", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if !errors.Is(reason.Err(), headers.ErrHostNotAllowed) {
		t.Errorf("recorded reason %v, want ErrHostNotAllowed", reason.Err())
	}
}

func TestOnReject(t *testing.T) {
	var gotErr error
	m := mustNew(t, headers.Options{
		AllowedHosts: []string{"example.com"},
		OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr = err
			w.WriteHeader(http.StatusMisdirectedRequest)
		},
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "other.example"
	rec := serve(t, m, r)
	if rec.Code != http.StatusMisdirectedRequest {
		t.Errorf("status %d, want the OnReject status", rec.Code)
	}
	if !errors.Is(gotErr, headers.ErrHostNotAllowed) {
		t.Errorf("OnReject got %v", gotErr)
	}
	// The security headers are already set on w, as Options.OnReject says.
	for k, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q on the OnReject response, want %q", k, got, want)
		}
	}
}

func TestWithDerivesARouteVariant(t *testing.T) {
	base := mustNew(t, headers.HTML())
	embed, err := base.With(func(o *headers.Options) {
		o.CSP.FrameAncestors = []string{headers.Self}
		o.CrossOriginResourcePolicy = "cross-origin"
	})
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, embed, httptest.NewRequest("GET", "/", nil)).Header()
	if got := h.Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("variant X-Frame-Options = %q", got)
	}
	if got := h.Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("variant CORP = %q", got)
	}
	h = serve(t, base, httptest.NewRequest("GET", "/", nil)).Header()
	if got := h.Get("Cross-Origin-Resource-Policy"); got != "same-origin" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("With changed the original middleware: %q", h)
	}
	if _, err := base.With(func(o *headers.Options) { o.ReferrerPolicy = "bogus" }); !errors.Is(err, headers.ErrValue) {
		t.Errorf("With error = %v, want ErrValue", err)
	}
}

func TestOptionsAreCopied(t *testing.T) {
	o := headers.HTML()
	o.AllowedHosts = []string{"example.com"}
	m := mustNew(t, o)
	o.CSP.DefaultSrc[0] = "*"
	o.AllowedHosts[0] = "evil.example"
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "example.com"
	h := serve(t, m, r)
	if h.Code != http.StatusOK || !strings.HasPrefix(h.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("mutating Options after New changed the middleware: %d %q", h.Code, h.Header().Get("Content-Security-Policy"))
	}
}

// rs/cors#198: a header slice shared between responses lets one handler's
// append or edit leak into every later response.
func TestRegressionRsCors198HandlerEditsDoNotLeak(t *testing.T) {
	m := mustNew(t, headers.Options{})
	edit := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Frame-Options"][0] = "SAMEORIGIN"
		h["Permissions-Policy"] = append(h["Permissions-Policy"], "camera=(self)")
		h.Add("Content-Security-Policy", "script-src 'self'")
	}))
	edit.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	h := serve(t, m, httptest.NewRequest("GET", "/", nil)).Header()
	if got := h["X-Frame-Options"]; len(got) != 1 || got[0] != "DENY" {
		t.Errorf("X-Frame-Options = %q after another response edited it", got)
	}
	if got := h["Permissions-Policy"]; len(got) != 1 {
		t.Errorf("Permissions-Policy = %q after another response appended to it", got)
	}
	if got := h["Content-Security-Policy"]; len(got) != 1 {
		t.Errorf("Content-Security-Policy = %q after another response added to it", got)
	}
}

func TestZeroMiddlewareIsTheAPIPreset(t *testing.T) {
	var m headers.Middleware
	h := serve(t, &m, tlsRequest("GET", "https://example.com/")).Header()
	if h.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'" || h.Get("Strict-Transport-Security") == "" {
		t.Errorf("zero Middleware headers: %v", h)
	}
	if err := m.Check(httptest.NewRequest("GET", "/", nil)); err != nil {
		t.Errorf("zero Middleware Check = %v", err)
	}
}

func TestEndToEnd(t *testing.T) {
	m := mustNew(t, headers.HTML())
	tmpl := template.Must(template.New("").Parse(`<!doctype html><script nonce="{{.}}" src="/app.js"></script>`))
	srv := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := headers.Nonce(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = tmpl.Execute(w, nonce)
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over a real TLS connection")
	}
	i := bytes.Index(body, []byte(`nonce="`))
	if i < 0 {
		t.Fatalf("body %q has no nonce", body)
	}
	nonce := string(body[i+7 : i+7+22])
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "'nonce-"+nonce+"'") {
		t.Errorf("CSP %q lacks the body's nonce %q", res.Header.Get("Content-Security-Policy"), nonce)
	}
}

func TestConcurrentRequests(t *testing.T) {
	m := mustNew(t, headers.HTML())
	variant, err := m.With(func(o *headers.Options) { o.AllowedHosts = []string{"example.com"} })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for g := range 8 {
		wg.Go(func() {
			for range 200 {
				mw := m
				if g%2 == 1 {
					mw = variant
				}
				rec := httptest.NewRecorder()
				mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n, _ := headers.Nonce(r.Context())
					w.Header().Add("X-Frame-Options", "SAMEORIGIN")
					mu.Lock()
					if seen[n] {
						t.Errorf("nonce %q repeated", n)
					}
					seen[n] = true
					mu.Unlock()
				})).ServeHTTP(rec, httptest.NewRequest("GET", "http://example.com/", nil))
				if rec.Code != http.StatusOK {
					t.Errorf("status %d", rec.Code)
				}
			}
		})
	}
	wg.Wait()
}

func TestReportOnlyNonceWithoutEnforcedPolicy(t *testing.T) {
	m := mustNew(t, headers.Options{OmitCSP: true, CSPReportOnly: &headers.CSP{DefaultSrc: []string{headers.None}, ScriptNonce: true}})
	var nonce string
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ = headers.Nonce(r.Context())
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if _, ok := rec.Header()["Content-Security-Policy"]; ok {
		t.Error("an enforced policy was sent with OmitCSP")
	}
	if got, want := rec.Header().Get("Content-Security-Policy-Report-Only"), "default-src 'none'; script-src 'nonce-"+nonce+"'; base-uri 'self'"; nonce == "" || got != want {
		t.Errorf("report-only policy %q, want %q", got, want)
	}
}

// Found in review: a CSP with ReportOnly and a nonce was sent as the
// enforced Content-Security-Policy, which blocked every script without
// the nonce while the operator was only testing the policy.
func TestReportOnlyCSPWithNonceIsNotEnforced(t *testing.T) {
	m := mustNew(t, headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.None}, ScriptNonce: true, ReportOnly: true}})
	var nonce string
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ = headers.Nonce(r.Context())
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if v, ok := rec.Header()["Content-Security-Policy"]; ok {
		t.Errorf("a report-only policy was sent as Content-Security-Policy: %q", v)
	}
	if got, want := rec.Header().Get("Content-Security-Policy-Report-Only"), "default-src 'none'; script-src 'nonce-"+nonce+"'; base-uri 'self'"; nonce == "" || got != want {
		t.Errorf("report-only policy %q, want %q", got, want)
	}
}

// Starlette#1997 (a port in the Host header rejected every request) and
// Starlette#3357 (an IPv6 Host such as [::1]:8000 split at its first
// colon): both are requests a trusted-host check must parse correctly.
func TestRegressionStarlette3357HostPortsAndIPv6(t *testing.T) {
	m := mustNew(t, headers.Options{AllowedHosts: []string{"localhost", "[::1]", "2001:db8::1", "example.com:8000"}})
	for host, want := range map[string]bool{
		"localhost:8000":       true,
		"[::1]:8000":           true,
		"[2001:db8::1]:443":    true,
		"[2001:DB8:0::1]":      true,
		"example.com:8000":     true,
		"example.com:8001":     false,
		"[":                    false,
		"[::1]8000":            false,
		"[2001:db8::1%eth0]":   false,
		"2001:db8::1":          false,
		"[::ffff:127.0.0.1]":   false,
		"[::1]:8000:8000":      false,
		"localhost:8000:8000":  false,
		"[::1]:":               false,
		"example.com:8000/x":   false,
		"[fe80::1]:80":         false,
		"LOCALHOST.:8000":      true,
		"localhost.localhost.": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		if got := m.Check(r) == nil; got != want {
			t.Errorf("Host %q allowed = %v, want %v", host, got, want)
		}
	}
}

// A policy is refused when it would be longer than 8 KiB on the wire, its
// nonces counted: the limit was checked with each nonce counted as one
// byte, so a policy with two nonces passed with up to 8234 bytes.
func TestPolicyLengthCountsTheNonces(t *testing.T) {
	var hosts []string
	for i := range 100 {
		hosts = append(hosts, fmt.Sprintf("https://%s%03d.example", strings.Repeat("a", 50), i))
	}
	policy := func(last string) (string, error) {
		o := headers.HTML()
		o.CSP.ImgSrc = append(slices.Clone(hosts), last)
		m, err := headers.New(o)
		if err != nil {
			return "", err
		}
		return serve(t, m, httptest.NewRequest("GET", "/", nil)).Header().Get("Content-Security-Policy"), nil
	}
	base, err := policy("https://b.example")
	if err != nil {
		t.Fatal(err)
	}
	// One more host, so that the policy is 8 KiB and a few bytes.
	for over := 0; over <= 60; over++ {
		csp, err := policy("https://b.example/" + strings.Repeat("p", (8<<10)+over-len(base)-1))
		switch {
		case over == 0 && (err != nil || len(csp) != 8<<10):
			t.Fatalf("a policy of exactly 8 KiB: %d bytes, %v", len(csp), err)
		case over > 0 && err == nil:
			t.Fatalf("New accepted a policy of %d bytes", len(csp))
		case over > 0 && !errors.Is(err, headers.ErrPolicy):
			t.Fatal(err)
		}
	}
}

// A browser leaves the scheme's default port out of Host: a page at
// https://example.com:443/ is requested with "Host: example.com". A
// pattern naming that port refused every such request, so
// AllowedHosts: ["example.com:443"] answered 400 to every browser; a Host
// without a port is on the default port of the scheme the request came
// over, as Options.ClientIP decides.
func TestAllowedHostsPortlessHostIsOnTheDefaultPort(t *testing.T) {
	m := mustNew(t, headers.Options{AllowedHosts: []string{"example.com:443", "plain.example:80", "dev.example:8443"}})
	tests := []struct {
		name  string
		https bool
		host  string
		want  bool
	}{
		{"HTTPS without a port is on 443", true, "example.com", true},
		{"HTTPS with 443 written out", true, "example.com:443", true},
		{"HTTPS on another port", true, "example.com:8443", false},
		{"plain HTTP without a port is on 80, not 443", false, "example.com", false},
		{"plain HTTP without a port is on 80", false, "plain.example", true},
		{"HTTPS without a port is not on 80", true, "plain.example", false},
		{"a pattern with another port still needs it", true, "dev.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.https {
				r.TLS = &tls.ConnectionState{}
			}
			r.Host = tt.host
			if got := m.Check(r) == nil; got != tt.want {
				t.Errorf("Check allowed = %v, want %v", got, tt.want)
			}
			rec := httptest.NewRecorder()
			m.Handler(ok).ServeHTTP(rec, r)
			if got := rec.Code == http.StatusOK; got != tt.want {
				t.Errorf("Handler status %d, want allowed %v", rec.Code, tt.want)
			}
		})
	}
}

// The scheme that puts a Host without a port on 443 is the one
// Options.ClientIP decides: a trusted proxy's X-Forwarded-Proto counts, a
// client's own does not.
func TestAllowedHostsDefaultPortFollowsTheTrustedScheme(t *testing.T) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}})
	m := mustNew(t, headers.Options{ClientIP: rv, AllowedHosts: []string{"example.com:443"}})
	for _, tt := range []struct {
		name, peer string
		want       bool
	}{
		{"from the trusted proxy", "10.0.0.1:1234", true},
		{"from any other peer", "192.0.2.1:1234", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			r.Host = "example.com"
			r.Header.Set("X-Forwarded-Proto", "https")
			if got := m.Check(r) == nil; got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}
