package csrf_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/internal/problem"
)

type req struct {
	method  string
	target  string // absolute URL: its scheme says whether the connection is TLS
	headers [][2]string
	remote  string
}

func (q req) build() *http.Request {
	method := q.method
	if method == "" {
		method = "POST"
	}
	target := q.target
	if target == "" {
		target = "https://example.com/transfer"
	}
	r := httptest.NewRequest(method, target, nil)
	if strings.HasPrefix(target, "http://") {
		r.TLS = nil
	} else if r.TLS == nil {
		r.TLS = &tls.ConnectionState{}
	}
	for _, kv := range q.headers {
		if kv[0] == "Host" {
			r.Host = kv[1]
			continue
		}
		r.Header.Add(kv[0], kv[1])
	}
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	return r
}

func sfs(v string) [2]string    { return [2]string{"Sec-Fetch-Site", v} }
func origin(v string) [2]string { return [2]string{"Origin", v} }

var trustedOpts = csrf.Options{TrustedOrigins: []string{"https://admin.example.org", "https://*.partner.test"}}
var exemptOpts = csrf.Options{Exempt: []csrf.Exemption{
	{Pattern: "POST /webhooks/stripe", Reason: "signed by the sender, server to server"},
	{Pattern: "/saml/acs", Reason: "the identity provider posts the assertion cross-site"},
}}

var proxy = clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
var public = clientip.MustNew(clientip.Options{PublicOrigin: "https://www.example.com"})

type checkCase struct {
	name   string
	opts   csrf.Options
	req    req
	err    error // nil: the request passes
	stdlib bool  // whether net/http's CrossOriginProtection (same trusted origins, no bypass) lets it pass
}

var checkCases = []checkCase{
	{name: "a cross-site GET passes: safe methods are never checked",
		req: req{method: "GET", headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}, stdlib: true},
	{name: "a cross-site HEAD passes", req: req{method: "HEAD", headers: [][2]string{sfs("cross-site")}}, stdlib: true},
	{name: "a cross-site OPTIONS passes", req: req{method: "OPTIONS", headers: [][2]string{sfs("cross-site")}}, stdlib: true},
	{name: "a same-origin POST passes", req: req{headers: [][2]string{sfs("same-origin"), origin("https://example.com")}}, stdlib: true},
	{name: "a user navigation (Sec-Fetch-Site: none) passes", req: req{headers: [][2]string{sfs("none")}}, stdlib: true},
	{name: "a cross-site form POST is rejected",
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test"), {"Content-Type", "application/x-www-form-urlencoded"}}},
		err: csrf.ErrCrossOrigin},
	{name: "a cross-site DELETE is rejected", req: req{method: "DELETE", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	// hono GHSA-2234-fmw7-43wr: the check ran only for the Content-Types
	// a form can send, matched case-sensitively, so a cross-site POST
	// without Content-Type (fetch with a Blob body in no-cors mode), or
	// with the type in upper case, skipped it. The body's type decides
	// nothing here.
	{name: "regression hono GHSA-2234-fmw7-43wr: a cross-site POST without Content-Type is rejected",
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}, err: csrf.ErrCrossOrigin},
	{name: "regression hono GHSA-2234-fmw7-43wr: a cross-site POST with an upper-case form Content-Type is rejected",
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test"), {"Content-Type", "Application/X-WWW-Form-Urlencoded"}}},
		err: csrf.ErrCrossOrigin},
	{name: "regression hono GHSA-2234-fmw7-43wr: without Sec-Fetch-Site a POST from another origin without Content-Type is rejected",
		req: req{headers: [][2]string{origin("https://evil.test")}}, err: csrf.ErrOriginMismatch},
	{name: "regression gorilla/csrf CVE-2025-24358: a sibling subdomain (same-site) is rejected by default",
		req: req{headers: [][2]string{sfs("same-site"), origin("https://evil.example.com")}}, err: csrf.ErrCrossOrigin},
	{name: "same-site passes with AllowSameSite", opts: csrf.Options{AllowSameSite: true},
		req: req{headers: [][2]string{sfs("same-site"), origin("https://app.example.com")}}},
	{name: "an unknown Sec-Fetch-Site value fails closed", req: req{headers: [][2]string{sfs("same-origin-please")}}, err: csrf.ErrCrossOrigin},
	// Browsers send the values in lower case and never empty: anything
	// else is not taken for a value it resembles, nor for an absent
	// header (net/http's CrossOriginProtection treats an empty value as
	// none and falls back on Origin).
	{name: "Sec-Fetch-Site in another case fails closed", req: req{headers: [][2]string{sfs("Same-Origin")}}, err: csrf.ErrCrossOrigin},
	{name: "an empty Sec-Fetch-Site fails closed, not taken for an absent header",
		req: req{headers: [][2]string{sfs("")}}, err: csrf.ErrCrossOrigin, stdlib: true},

	// Methods other than GET, HEAD and OPTIONS, spelled exactly so, are
	// unsafe: ServeMux matches methods case-sensitively, so "get" may
	// reach a handler registered without a method.
	{name: "an unknown method (PROPFIND) is checked as unsafe",
		req: req{method: "PROPFIND", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "a lower-case get is not a safe method",
		req: req{method: "get", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "a cross-site HEAD asking for DELETE through _method is checked as unsafe",
		req: req{method: "HEAD", target: "https://example.com/items/1?_method=DELETE", headers: [][2]string{sfs("cross-site")}},
		err: csrf.ErrCrossOrigin, stdlib: true},
	{name: "a cross-site OPTIONS asking for POST through _method is checked as unsafe",
		req: req{method: "OPTIONS", target: "https://example.com/items?_method=POST", headers: [][2]string{sfs("cross-site")}},
		err: csrf.ErrCrossOrigin, stdlib: true},
	{name: "several Sec-Fetch-Site values fail closed",
		req: req{headers: [][2]string{sfs("same-origin"), sfs("cross-site")}}, err: csrf.ErrCrossOrigin, stdlib: true},
	{name: "a trusted origin passes a cross-site request", opts: trustedOpts,
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://admin.example.org")}}, stdlib: true},
	{name: "a subdomain of a trusted pattern passes", opts: trustedOpts,
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://eu.partner.test")}}},
	{name: "regression gorilla/csrf CVE-2025-47909: the http origin of a trusted https origin is rejected", opts: trustedOpts,
		req: req{headers: [][2]string{sfs("cross-site"), origin("http://admin.example.org")}}, err: csrf.ErrCrossOrigin},
	{name: "a look-alike of a trusted pattern is rejected", opts: trustedOpts,
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://evilpartner.test")}}, err: csrf.ErrCrossOrigin},
	{name: "a trusted origin on another port is rejected", opts: trustedOpts,
		req: req{headers: [][2]string{sfs("cross-site"), origin("https://admin.example.org:8443")}}, err: csrf.ErrCrossOrigin},

	// Origin fallback (no Sec-Fetch-Site).
	{name: "without Sec-Fetch-Site an Origin equal to the request's origin passes",
		req: req{headers: [][2]string{origin("https://example.com")}}, stdlib: true},
	{name: "without Sec-Fetch-Site the Host is compared ignoring case",
		req: req{headers: [][2]string{origin("https://example.com"), {"Host", "Example.COM"}}}},
	{name: "without Sec-Fetch-Site the Host is compared in ASCII case only: a long s (U+017F) is not an s",
		req: req{target: "https://shop.test/transfer", headers: [][2]string{origin("https://shop.test"), {"Host", "\u017fhop.test"}}}, err: csrf.ErrOriginMismatch},
	{name: "without Sec-Fetch-Site the Host is compared in ASCII case only: a Kelvin sign (U+212A) is not a k",
		req: req{target: "https://bank.test/transfer", headers: [][2]string{origin("https://bank.test"), {"Host", "ban\u212a.test"}}}, err: csrf.ErrOriginMismatch},
	{name: "without Sec-Fetch-Site the default port in Host is ignored",
		req: req{headers: [][2]string{origin("https://example.com"), {"Host", "example.com:443"}}}},
	// Port 443 is the default of https only: over plain http,
	// http://example.com (port 80) is another origin than
	// http://example.com:443, and its pages must not post there.
	{name: "over http the :443 in Host is not a default port: an Origin without it is rejected",
		req: req{target: "http://example.com:443/transfer", headers: [][2]string{origin("http://example.com")}}, err: csrf.ErrOriginMismatch},
	{name: "over https the :80 in Host is not a default port: an Origin without it is rejected",
		req: req{headers: [][2]string{origin("https://example.com"), {"Host", "example.com:80"}}}, err: csrf.ErrOriginMismatch},
	{name: "over http an Origin with :443 matches a Host with :443",
		req: req{target: "http://example.com:443/transfer", headers: [][2]string{origin("http://example.com:443")}}, stdlib: true},
	{name: "an http page cannot post to the https site (scheme mismatch)",
		req: req{headers: [][2]string{origin("http://example.com")}}, err: csrf.ErrOriginMismatch, stdlib: true},
	{name: "an https page cannot post to the http site (scheme mismatch)",
		req: req{target: "http://example.com/transfer", headers: [][2]string{origin("https://example.com")}}, err: csrf.ErrOriginMismatch, stdlib: true},
	{name: "regression nosurf CVE-2025-46721 and gorilla/csrf CVE-2025-24358: over TLS a subdomain's Origin is checked, not skipped",
		req: req{headers: [][2]string{origin("https://evil.example.com")}}, err: csrf.ErrOriginMismatch},
	{name: "a port mismatch is rejected",
		req: req{headers: [][2]string{origin("https://example.com:8443")}}, err: csrf.ErrOriginMismatch},
	{name: "another host is rejected", req: req{headers: [][2]string{origin("https://evil.test")}}, err: csrf.ErrOriginMismatch},
	// Browsers serialize an origin in lower case, without the scheme's
	// default port; a trailing dot names another host. None of these
	// is taken for the request's own origin.
	{name: "an Origin with a trailing dot is not the host without it",
		req: req{headers: [][2]string{origin("https://example.com.")}}, err: csrf.ErrMalformedOrigin},
	{name: "an Origin with a trailing dot is rejected on a Host with one too",
		req: req{headers: [][2]string{origin("https://example.com."), {"Host", "example.com."}}}, err: csrf.ErrMalformedOrigin, stdlib: true},
	{name: "a Host with a trailing dot is not the Origin without it",
		req: req{headers: [][2]string{origin("https://example.com"), {"Host", "example.com."}}}, err: csrf.ErrOriginMismatch},
	{name: "an Origin with the default port, which browsers omit, is rejected",
		req: req{headers: [][2]string{origin("https://example.com:443")}}, err: csrf.ErrMalformedOrigin},
	{name: "an Origin in upper case, which browsers never send, is rejected",
		req: req{headers: [][2]string{origin("https://EXAMPLE.com")}}, err: csrf.ErrMalformedOrigin},
	{name: "an Origin with a scheme in upper case is rejected",
		req: req{headers: [][2]string{origin("HTTPS://example.com")}}, err: csrf.ErrMalformedOrigin, stdlib: true},
	{name: "regression null origin: null is rejected", req: req{headers: [][2]string{origin("null")}}, err: csrf.ErrNullOrigin},
	{name: "regression golang/go#78563: an Origin with userinfo is rejected",
		req: req{headers: [][2]string{origin("https://evil@example.com")}}, err: csrf.ErrMalformedOrigin, stdlib: true},
	{name: "an Origin with a path is rejected", req: req{headers: [][2]string{origin("https://example.com/x")}}, err: csrf.ErrMalformedOrigin, stdlib: true},
	{name: "two Origin lines are rejected",
		req: req{headers: [][2]string{origin("https://example.com"), origin("https://example.com")}}, err: csrf.ErrMalformedOrigin, stdlib: true},
	{name: "a trusted origin passes without Sec-Fetch-Site", opts: trustedOpts,
		req: req{headers: [][2]string{origin("https://admin.example.org")}}, stdlib: true},
	{name: "a request with neither header passes (not a current browser)", req: req{}, stdlib: true},
	{name: "behind a trusted proxy the forwarded scheme is used", opts: csrf.Options{ClientIP: proxy},
		req: req{target: "http://example.com/transfer", remote: "10.0.0.1:1234",
			headers: [][2]string{origin("https://example.com"), {"X-Forwarded-Proto", "https"}, {"X-Forwarded-For", "203.0.113.9"}}}, stdlib: true},
	{name: "X-Forwarded-Proto from an untrusted peer is ignored", opts: csrf.Options{ClientIP: proxy},
		req: req{target: "http://example.com/transfer", remote: "203.0.113.9:1234",
			headers: [][2]string{origin("https://example.com"), {"X-Forwarded-Proto", "https"}}}, err: csrf.ErrOriginMismatch, stdlib: true},
	{name: "the public origin replaces the rewritten Host", opts: csrf.Options{ClientIP: public},
		req: req{target: "http://backend:8080/transfer", headers: [][2]string{origin("https://www.example.com")}}},
	{name: "with a public origin the request's Host is not trusted", opts: csrf.Options{ClientIP: public},
		req: req{target: "http://backend:8080/transfer", headers: [][2]string{origin("http://backend:8080")}}, err: csrf.ErrOriginMismatch, stdlib: true},

	// Method override.
	{name: "X-HTTP-Method-Override does not turn a cross-site POST into a safe method",
		req: req{headers: [][2]string{sfs("cross-site"), {"X-HTTP-Method-Override", "GET"}}}, err: csrf.ErrCrossOrigin},
	{name: "a GET is judged as the GET it is, whatever X-HTTP-Method-Override says (an override middleware belongs outside)",
		req: req{method: "GET", headers: [][2]string{sfs("cross-site"), {"X-HTTP-Method-Override", "DELETE"}}}, stdlib: true},
	{name: "a cross-site GET asking for DELETE through _method is checked as unsafe",
		req: req{method: "GET", target: "https://example.com/items/1?_method=DELETE", headers: [][2]string{sfs("cross-site")}},
		err: csrf.ErrCrossOrigin, stdlib: true},
	{name: "a percent-encoded _method parameter is found too",
		req: req{method: "GET", target: "https://example.com/items/1?a=1&%5Fmethod=DELETE", headers: [][2]string{sfs("cross-site")}},
		err: csrf.ErrCrossOrigin, stdlib: true},
	{name: "a parameter that merely ends in _method, such as payment_method, is not an override",
		req: req{method: "GET", target: "https://example.com/checkout?payment_method=card", headers: [][2]string{sfs("cross-site")}}, stdlib: true},
	{name: "a same-origin GET with a method override passes",
		req: req{method: "GET", headers: [][2]string{sfs("same-origin"), {"X-HTTP-Method-Override", "DELETE"}}}, stdlib: true},

	// Exemptions.
	{name: "an exempt route accepts a cross-site POST", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks/stripe", headers: [][2]string{sfs("cross-site")}}},
	{name: "an exemption without a method covers every method", opts: exemptOpts,
		req: req{method: "PUT", target: "https://example.com/saml/acs", headers: [][2]string{origin("https://idp.test")}}},
	{name: "an exemption for POST does not cover PUT", opts: exemptOpts,
		req: req{method: "PUT", target: "https://example.com/webhooks/stripe", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "regression CVE-2025-47910: the path with a trailing slash is not exempt", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks/stripe/", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "regression CVE-2025-47910: an unclean path ServeMux would redirect is not exempt", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks//stripe", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "regression CVE-2025-47910: a dot-dot path is not exempt", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks/stripe/../../admin", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "an escaped spelling of an exempt path is not exempt", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks%2Fstripe", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "a percent-encoded letter in an exempt path is not exempt, though ServeMux routes it there", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks/%73tripe", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "an exempt path in another case is not exempt", opts: exemptOpts,
		req: req{target: "https://example.com/Webhooks/Stripe", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
	{name: "a prefix of an exempt path is not exempt", opts: exemptOpts,
		req: req{target: "https://example.com/webhooks/stripe-admin", headers: [][2]string{sfs("cross-site")}}, err: csrf.ErrCrossOrigin},
}

// TestCheck runs every case through Check, the middleware, and net/http's
// CrossOriginProtection configured alike, so the table records exactly
// where this package decides differently.
func TestCheck(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := csrf.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Check(tc.req.build()); !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Errorf("Check = %v, want %v", err, tc.err)
			}

			rec := httptest.NewRecorder()
			reached := false
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })).ServeHTTP(rec, tc.req.build())
			if reached != (tc.err == nil) {
				t.Errorf("handler reached = %v, want %v", reached, tc.err == nil)
			}
			if tc.err != nil {
				if rec.Code != http.StatusForbidden || rec.Header().Get("Content-Type") != "application/problem+json" {
					t.Errorf("rejection: %d %q", rec.Code, rec.Header().Get("Content-Type"))
				}
				if body := rec.Body.String(); strings.Contains(body, "evil") || strings.Contains(body, "example") {
					t.Errorf("rejection reflects request data: %s", body)
				}
			}

			cop := http.NewCrossOriginProtection()
			for _, o := range tc.opts.TrustedOrigins {
				if !strings.Contains(o, "*") {
					_ = cop.AddTrustedOrigin(o)
				}
			}
			if got := cop.Check(tc.req.build()) == nil; got != tc.stdlib {
				t.Errorf("net/http CrossOriginProtection passes = %v, the table says %v", got, tc.stdlib)
			}
		})
	}
}

func TestInsecureTrustedOriginsNeedTheDangerousOption(t *testing.T) {
	for _, o := range []string{"http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]", "http://app.localhost"} {
		if _, err := csrf.New(csrf.Options{TrustedOrigins: []string{o}}); err != nil {
			t.Errorf("loopback %s: %v", o, err)
		}
	}
	m, err := csrf.New(csrf.Options{TrustedOrigins: []string{"http://admin.example.com"}, DangerouslyTrustInsecureOrigins: true})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "https://app.example.com/x", nil)
	r.Header.Set("Sec-Fetch-Site", "same-site")
	r.Header.Set("Origin", "http://admin.example.com")
	if err := m.Check(r); err != nil {
		t.Errorf("the trusted http origin was refused: %v", err)
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	key := key1
	tests := []struct {
		name string
		opts csrf.Options
		want error
	}{
		{"* trusts every site", csrf.Options{TrustedOrigins: []string{"*"}}, csrf.ErrInvalidTrustedOrigin},
		{"null trusts every sandboxed page", csrf.Options{TrustedOrigins: []string{"null"}}, csrf.ErrInvalidTrustedOrigin},
		{"a trusted origin with a path", csrf.Options{TrustedOrigins: []string{"https://a.test/"}}, csrf.ErrInvalidTrustedOrigin},
		{"a trusted origin with userinfo", csrf.Options{TrustedOrigins: []string{"https://u@a.test"}}, csrf.ErrInvalidTrustedOrigin},
		{"a bare host, as gorilla/csrf took", csrf.Options{TrustedOrigins: []string{"a.test"}}, csrf.ErrInvalidTrustedOrigin},
		// Found in review: a network attacker can serve an http origin.
		{"an http origin", csrf.Options{TrustedOrigins: []string{"http://admin.example.com"}}, csrf.ErrInvalidTrustedOrigin},
		{"an http pattern", csrf.Options{TrustedOrigins: []string{"http://*.example.com"}}, csrf.ErrInvalidTrustedOrigin},
		{"an exemption without a reason", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hook"}}}, csrf.ErrInvalidExemption},
		{"an exemption with a subtree wildcard", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hooks/{id...}", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an exemption with a wildcard inside a segment", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hooks/id-{id}", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an exemption for a subtree", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hooks/", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an unclean exemption", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/a/../hooks", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an escaped exemption", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/a%2Fb", Reason: "x"}}}, csrf.ErrInvalidExemption},
		// Found in review: no request could match these; each has a
		// RawPath, which the exemption check refuses.
		{"an exemption with a star", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/webhooks/*", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an exemption with parentheses", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "POST /hooks/(legacy)", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an exemption with a bar", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hooks/a|b", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"a relative exemption", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "hooks", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an exemption with a query", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hooks?x=1", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"an exemption with a fragment", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "POST /hooks#x", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"a lower-case method", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "post /hooks", Reason: "x"}}}, csrf.ErrInvalidExemption},
		{"a short token key", csrf.Options{Tokens: &csrf.TokenOptions{Key: key[:16]}}, csrf.ErrInvalidTokenOptions},
		{"a short previous key", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, PreviousKeys: [][]byte{key[:8]}}}, csrf.ErrInvalidTokenOptions},
		// A key buffer left unfilled: anyone can compute the token of a
		// session ID or cookie nonce they know, with no page fetched.
		{"an all-zero token key", csrf.Options{Tokens: &csrf.TokenOptions{Key: make([]byte, 32)}}, csrf.ErrInvalidTokenOptions},
		{"an all-zero previous key", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, PreviousKeys: [][]byte{key2, make([]byte, 64)}}}, csrf.ErrInvalidTokenOptions},
		{"a __Host- cookie without Secure", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, DangerouslyAllowInsecureCookie: true, CookieName: "__Host-x"}}, csrf.ErrInvalidTokenOptions},
		// Found in review: browsers match the prefix in any case.
		{"a __host- cookie, lower case, without Secure", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, DangerouslyAllowInsecureCookie: true, CookieName: "__host-x"}}, csrf.ErrInvalidTokenOptions},
		{"a __SECURE- cookie without Secure", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, DangerouslyAllowInsecureCookie: true, CookieName: "__SECURE-x"}}, csrf.ErrInvalidTokenOptions},
		{"a field name that needs escaping", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, FieldName: `x"><script>`}}, csrf.ErrInvalidTokenOptions},
		// The bounds, each one past what is allowed.
		{"an exemption whose reason is blank", csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/hook", Reason: " \t"}}}, csrf.ErrInvalidExemption},
		{"a token key of 31 bytes", csrf.Options{Tokens: &csrf.TokenOptions{Key: key[:31]}}, csrf.ErrInvalidTokenOptions},
		{"a MaxFormBytes of -1", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, MaxFormBytes: -1}}, csrf.ErrInvalidTokenOptions},
		{"a field name of 65 bytes", csrf.Options{Tokens: &csrf.TokenOptions{Key: key, FieldName: strings.Repeat("f", 65)}}, csrf.ErrInvalidTokenOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := csrf.New(tt.opts)
			if m != nil || !errors.Is(err, tt.want) {
				t.Fatalf("New = %v, %v; want %v", m, err, tt.want)
			}
			var oe *csrf.OptionError
			if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "csrf: Options.") {
				t.Errorf("error %q is not a *csrf.OptionError", err)
			}
		})
	}
	_, err := csrf.New(csrf.Options{TrustedOrigins: []string{"*", "null"}, Exempt: []csrf.Exemption{{Pattern: "/x"}}})
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("New reported %d problems, want all 3: %v", n, err)
	}
}

func TestZeroMiddlewareIsTheDefaultProtection(t *testing.T) {
	// A nil *Middleware (what New returns with its error) behaves as the
	// zero one; it made every request panic.
	for name, m := range map[string]*csrf.Middleware{"zero": {}, "nil": nil} {
		if err := m.Check(req{headers: [][2]string{sfs("cross-site")}}.build()); !errors.Is(err, csrf.ErrCrossOrigin) {
			t.Errorf("%s: Check = %v", name, err)
		}
		if err := m.Check(req{headers: [][2]string{origin("https://example.com")}}.build()); err != nil {
			t.Errorf("%s: Check = %v", name, err)
		}
		rec := httptest.NewRecorder()
		m.Handler(http.NotFoundHandler()).ServeHTTP(rec, req{headers: [][2]string{sfs("cross-site")}}.build())
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: Handler status %d, want 403", name, rec.Code)
		}
	}
}

func TestOnRejectGetsTheReason(t *testing.T) {
	var got error
	m := csrf.MustNew(csrf.Options{OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}})
	rec := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(rec, req{headers: [][2]string{origin("null")}}.build())
	if rec.Code != http.StatusTeapot || !errors.Is(got, csrf.ErrNullOrigin) {
		t.Errorf("%d %v", rec.Code, got)
	}
}

// TestCustomOnRejectRecordsTheReasonForTheAccessLog: the reason reaches
// the access log whoever writes the rejection, as in rbac and auth; it was
// recorded only on the default path.
func TestCustomOnRejectRecordsTheReasonForTheAccessLog(t *testing.T) {
	tokens := &csrf.TokenOptions{Key: bytes.Repeat([]byte{1}, 32)}
	for _, tt := range []struct {
		name string
		opts csrf.Options
		req  req
		want error
	}{
		{"a cross-site POST", csrf.Options{}, req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}, csrf.ErrCrossOrigin},
		{"an old browser's cross-origin POST", csrf.Options{}, req{headers: [][2]string{origin("https://evil.test")}}, csrf.ErrOriginMismatch},
		{"a POST without a token", csrf.Options{Tokens: tokens}, req{}, csrf.ErrTokenMissing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var passed error
			tt.opts.OnReject = func(w http.ResponseWriter, r *http.Request, err error) {
				passed = err
				w.WriteHeader(http.StatusTeapot)
			}
			ctx, reason := problem.WithReason(context.Background())
			rec := httptest.NewRecorder()
			csrf.MustNew(tt.opts).Handler(noop).ServeHTTP(rec, tt.req.build().WithContext(ctx))
			if rec.Code != http.StatusTeapot || !errors.Is(passed, tt.want) {
				t.Fatalf("status %d, OnReject got %v; want %d from OnReject with %v", rec.Code, passed, http.StatusTeapot, tt.want)
			}
			if !errors.Is(reason.Err(), tt.want) {
				t.Errorf("recorded reason %v, want %v", reason.Err(), tt.want)
			}
		})
	}
}

func TestHandlerPanicsOnNilNext(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	csrf.MustNew(csrf.Options{}).Handler(nil)
}

// TestEndToEnd serves a real TLS server and sends what browsers send.
func TestEndToEnd(t *testing.T) {
	m := csrf.MustNew(csrf.Options{})
	srv := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "done")
	})))
	defer srv.Close()
	tests := []struct {
		name    string
		headers [][2]string
		want    int
	}{
		{"a same-origin fetch", [][2]string{sfs("same-origin"), origin(srv.URL)}, 200},
		{"an old browser on the same origin", [][2]string{origin(srv.URL)}, 200},
		{"a cross-site form", [][2]string{sfs("cross-site"), origin("https://evil.test")}, 403},
		{"an old browser on another origin", [][2]string{origin("https://evil.test")}, 403},
		{"a plain-http page of the same host", [][2]string{origin(strings.Replace(srv.URL, "https", "http", 1))}, 403},
		{"curl", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", srv.URL+"/transfer", strings.NewReader("amount=1"))
			for _, kv := range tt.headers {
				r.Header.Add(kv[0], kv[1])
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// overrideMethod is a method-override middleware of the echo kind, the
// most permissive: it rewrites a POST into whatever method the _method form
// field or the X-HTTP-Method-Override header names, GET included.
func overrideMethod(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			m := r.PostFormValue("_method")
			if m == "" {
				m = r.Header.Get("X-HTTP-Method-Override")
			}
			if m != "" {
				r.Method = strings.ToUpper(m)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestMethodOverrideOutside composes the protection with an override
// middleware outside it, where the package documentation puts it: every
// cross-site request whose handler would run an unsafe method is refused,
// and one rewritten into a GET reaches only the GET handler.
func TestMethodOverrideOutside(t *testing.T) {
	var ran string
	h := overrideMethod(csrf.MustNew(csrf.Options{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = r.Method
	})))
	tests := []struct {
		name    string
		form    string
		headers [][2]string
		want    int
		ran     string
	}{
		{"a cross-site form POST asking for DELETE", "_method=DELETE", [][2]string{sfs("cross-site"), origin("https://evil.test")}, 403, ""},
		{"a cross-site POST asking for PUT by header", "", [][2]string{sfs("cross-site"), {"X-HTTP-Method-Override", "PUT"}}, 403, ""},
		{"a cross-site POST rewritten into a GET runs the GET handler", "_method=GET", [][2]string{sfs("cross-site")}, 200, "GET"},
		{"a same-origin POST asking for DELETE", "_method=DELETE", [][2]string{sfs("same-origin")}, 200, "DELETE"},
		{"an old browser's cross-origin POST asking for PATCH", "_method=PATCH", [][2]string{origin("https://evil.test")}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran = ""
			r := httptest.NewRequest("POST", "https://example.com/items/1", strings.NewReader(tt.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, kv := range tt.headers {
				r.Header.Add(kv[0], kv[1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want || ran != tt.ran {
				t.Errorf("status %d and handler ran %q, want %d and %q", w.Code, ran, tt.want, tt.ran)
			}
		})
	}
}

// TestConcurrentRequests checks requests in parallel; run with -race.
func TestConcurrentRequests(t *testing.T) {
	m := csrf.MustNew(trustedOpts)
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tc := checkCases[(g*31+i)%len(checkCases)]
				if tc.opts.ClientIP != nil || tc.opts.AllowSameSite || tc.opts.Exempt != nil {
					continue
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, tc.req.build())
				if (rec.Code == 200) != (tc.err == nil) {
					t.Errorf("%s: status %d", tc.name, rec.Code)
					return
				}
			}
		})
	}
	wg.Wait()
}

// One list of origins configures cors.Options.AllowedOrigins and
// TrustedOrigins alike; entries mean the same in both packages.
func TestSharedOriginList(t *testing.T) {
	shared := []string{"https://app.example.com", "https://*.example.com", "http://localhost:3000", "HTTPS://Admin.Example.org:443"}
	m, err := csrf.New(csrf.Options{TrustedOrigins: shared})
	if err != nil {
		t.Fatal(err)
	}
	for o, want := range map[string]bool{
		"https://app.example.com":   true,
		"https://a.b.example.com":   true,
		"http://localhost:3000":     true,
		"https://admin.example.org": true,
		"https://example.com":       false,
		"https://evilexample.com":   false,
		"http://app.example.com":    false,
	} {
		err := m.Check(req{headers: [][2]string{sfs("cross-site"), origin(o)}}.build())
		if (err == nil) != want {
			t.Errorf("%s: Check = %v, want allowed %v", o, err, want)
		}
	}
}

// TestConcurrentTokens issues and verifies tokens in parallel; run with
// -race.
func TestConcurrentTokens(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, SessionID: sessionFromHeader}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, csrf.Token(r))
	}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			s := [2]string{"X-Test-Session", "session-" + string(rune('a'+g))}
			for range 100 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req{method: "GET", headers: [][2]string{s}}.build())
				tok := rec.Body.String()
				rec = httptest.NewRecorder()
				h.ServeHTTP(rec, req{headers: [][2]string{s, {"X-CSRF-Token", tok}}}.build())
				if rec.Code != 200 {
					t.Errorf("status %d", rec.Code)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A non-ASCII exemption matches a browser's request for it: browsers
// percent-encode the path in UTF-8, as net/url does, so the request has
// no RawPath. (The exemptions that net/url escapes are refused by New.)
func TestNonASCIIExemptionMatches(t *testing.T) {
	m, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: "POST /hooks/café", Reason: "signed"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(req{target: "https://example.com/hooks/caf%C3%A9", headers: [][2]string{sfs("cross-site")}}.build()); err != nil {
		t.Errorf("cross-site POST /hooks/caf%%C3%%A9: %v, want exempt", err)
	}
}

// A TrustedOrigins pattern over a public suffix is refused by New, as in
// cors: one over a suffix of more than one label, a top-level domain, or
// a domain whose subdomains are all public suffixes. A pattern that is
// accepted does not match a host under a public suffix below its domain,
// which anyone can host (the changelog said so for cors and csrf; only
// cors had a test).
func TestTrustedOriginPatternsAndPublicSuffixes(t *testing.T) {
	for _, o := range []string{"https://*.com", "https://*.co.uk", "https://*.github.io", "https://*.run.app", "https://*.platformsh.site"} {
		if _, err := csrf.New(csrf.Options{TrustedOrigins: []string{o}}); !errors.Is(err, csrf.ErrInvalidTrustedOrigin) {
			t.Errorf("New with trusted origin %s = %v, want ErrInvalidTrustedOrigin", o, err)
		}
	}
	m, err := csrf.New(csrf.Options{TrustedOrigins: []string{"https://*.amazonaws.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		origin string
		ok     bool
	}{
		{"https://console.amazonaws.com", true},
		{"https://eu-west-1.console.amazonaws.com", true},
		{"https://bucket.s3.amazonaws.com", false},
		{"https://attacker.s3.amazonaws.com", false},
	} {
		err := m.Check(req{headers: [][2]string{sfs("cross-site"), origin(tt.origin)}}.build())
		if (err == nil) != tt.ok {
			t.Errorf("Origin %s: Check = %v, want passed=%v", tt.origin, err, tt.ok)
		}
	}
}

// An error about a previous key names its entry, Tokens.PreviousKeys[i]
// (the changelog said so, no test did).
func TestPreviousKeyErrorsNameTheEntry(t *testing.T) {
	for _, tt := range []struct {
		name string
		prev [][]byte
		want string
	}{
		{"a short second key", [][]byte{key2, key1[:8]}, "Tokens.PreviousKeys[1]"},
		{"an all-zero first key", [][]byte{make([]byte, 32), key2}, "Tokens.PreviousKeys[0]"},
	} {
		_, err := csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, PreviousKeys: tt.prev}})
		if !errors.Is(err, csrf.ErrInvalidTokenOptions) || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want ErrInvalidTokenOptions naming %s", tt.name, err, tt.want)
		}
	}
}
