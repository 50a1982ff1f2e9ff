package cors_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/internal/problem"
)

// corsHeaders are the response headers the spec table checks: each is
// either expected with an exact value or must be absent.
var corsHeaders = []string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
	"Vary",
	"X-Next",
}

const (
	varyOrigin  = "Origin"
	varyOptions = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)

// base is a typical credentialed API configuration.
var base = cors.Options{
	AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com", "http://localhost:3000"},
	AllowedMethods:   []string{http.MethodPut, http.MethodDelete, "PATCH"},
	AllowedHeaders:   []string{"Content-Type", "X-Request-ID"},
	ExposedHeaders:   []string{"X-Total-Count"},
	AllowCredentials: true,
	MaxAge:           10 * time.Minute,
}

func with(f func(*cors.Options)) cors.Options {
	o := base
	f(&o)
	return o
}

type specCase struct {
	name    string
	opts    cors.Options
	method  string
	headers [][2]string // request header lines, in order; a name may repeat
	status  int         // 0: the next handler's 200
	want    map[string]string
	err     error // what Check returns
}

// next is the wrapped handler; it marks that it ran.
var next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Next", "1")
	_, _ = io.WriteString(w, "next")
})

func preflight(origin, method string, extra ...[2]string) [][2]string {
	h := [][2]string{{"Origin", origin}, {"Access-Control-Request-Method", method}}
	return append(h, extra...)
}

func acrh(v string) [2]string { return [2]string{"Access-Control-Request-Headers", v} }

func allowedActual(origin string) map[string]string {
	return map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "x-total-count",
		"Vary":                             varyOrigin,
		"X-Next":                           "1",
	}
}

var passedDisallowed = map[string]string{"Vary": varyOrigin, "X-Next": "1"}
var rejectedPreflight = map[string]string{"Vary": varyOptions}

func allowedPreflight(origin string, kv ...string) map[string]string {
	m := map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Max-Age":           "600",
		"Vary":                             varyOptions,
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// sharedSuffix is base with the exact origins https://foo.com and
// https://bar.com and their subdomain patterns; with long, it adds enough
// other origins that the list no longer counts as short.
func sharedSuffix(long bool) cors.Options {
	return with(func(o *cors.Options) {
		o.AllowedOrigins = []string{"https://foo.com", "https://bar.com", "https://*.foo.com", "https://*.bar.com"}
		if long {
			for i := range 16 {
				o.AllowedOrigins = append(o.AllowedOrigins, fmt.Sprintf("https://app%d.example.net", i))
			}
		}
	})
}

// ginContrib is base with the origins of gin-contrib/cors CVE-2019-25211.
var ginContrib = with(func(o *cors.Options) {
	o.AllowedOrigins = []string{"https://example.com", "http://localhost"}
})

var megabyteOfCommas = strings.Repeat(",", 1<<20)
var megabyteName = strings.Repeat("a", 1<<20)

// headerNames returns a request header list of n distinct names.
func headerNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("x-%d", i)
	}
	return strings.Join(names, ",")
}

// headerListOfLen returns a list of 16 header names, n bytes in all (n
// at least 962): far fewer elements than the echo's bound, so only the
// byte bound decides.
func headerListOfLen(n int) string {
	name := "x-" + strings.Repeat("a", 61) // 63 bytes
	return strings.Repeat(name+",", 15) + "x-" + strings.Repeat("a", n-15*64-2)
}

var specCases = []specCase{
	// Actual requests.
	{name: "an actual request from an allowed exact origin gets the origin, credentials and exposed headers",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com"}},
		want: allowedActual("https://app.example.com")},
	{name: "a subdomain at any depth matches a subdomain pattern",
		opts: base, method: "POST", headers: [][2]string{{"Origin", "https://api.eu.example.com"}},
		want: allowedActual("https://api.eu.example.com")},
	{name: "an http origin on localhost is allowed with credentials",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "http://localhost:3000"}},
		want: allowedActual("http://localhost:3000")},
	{name: "regression dekobon/big-code-analysis#859: a request without Origin still varies on Origin",
		opts: base, method: "GET", want: passedDisallowed, err: cors.ErrNoOrigin},
	{name: "a request with two Origin lines is not a browser request and gets no CORS headers",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com"}, {"Origin", "https://app.example.com"}},
		want: passedDisallowed, err: cors.ErrNoOrigin},
	{name: "regression gorilla/handlers#248: a disallowed origin gets no CORS headers but still Vary: Origin, and reaches the handler",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://attacker.test"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "a same-origin request that is not listed gets only Vary",
		opts: base, method: "POST", headers: [][2]string{{"Origin", "https://api.other.test"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression suffix trick: https://evilexample.com is not a subdomain of example.com",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://evilexample.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression prefix trick: https://example.com.evil.net is not a subdomain of example.com",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com.evil.net"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression unescaped-dot patterns (wso2/api-manager#3832): https://a-example-com.evil.net does not match",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://a-example-com.evil.net"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression prefix matching (hangwin/mcp-chrome#384): http://localhost:3000.evil.net does not match",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "http://localhost:3000.evil.net"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression userinfo trick: https://app.example.com@evil.net is not an origin",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com@evil.net"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression userinfo trick: https://evil@app.example.com is not an origin",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://evil@app.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	// gin-contrib/cors CVE-2019-25211: an allowed origin was matched as a
	// prefix when it ended with a wildcard, so https://example.com/* let
	// https://example.community in, and http://localhost/* let
	// http://localhost.example.com in. Exact origins are matched whole.
	{name: "regression gin-contrib/cors CVE-2019-25211: https://example.community is not allowed by https://example.com",
		opts: ginContrib, method: "GET", headers: [][2]string{{"Origin", "https://example.community"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression gin-contrib/cors CVE-2019-25211: http://localhost.example.com is not allowed by http://localhost",
		opts: ginContrib, method: "GET", headers: [][2]string{{"Origin", "http://localhost.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression gin-contrib/cors CVE-2019-25211: nor is http://localhost.evil.net in a preflight",
		opts: ginContrib, method: "OPTIONS", status: 403, headers: preflight("http://localhost.evil.net", "PUT"),
		want: rejectedPreflight, err: cors.ErrOriginNotAllowed},
	{name: "the origins of gin-contrib/cors CVE-2019-25211 are allowed themselves",
		opts: ginContrib, method: "GET", headers: [][2]string{{"Origin", "https://example.com"}},
		want: allowedActual("https://example.com")},
	// jub0bs/cors GHSA-vhxv-fg4m-p2w8: origins were kept in a tree keyed
	// by host suffix, and two allowed hosts that share a proper suffix
	// (foo.com, bar.com) let a third host made of both (barfoo.com)
	// through. A short list and a long one are stored differently here, so
	// both are tried.
	{name: "regression jub0bs/cors GHSA-vhxv-fg4m-p2w8: https://barfoo.com is not allowed by https://foo.com and https://bar.com",
		opts: sharedSuffix(false), method: "GET", headers: [][2]string{{"Origin", "https://barfoo.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression jub0bs/cors GHSA-vhxv-fg4m-p2w8: nor is https://foobar.com",
		opts: sharedSuffix(false), method: "GET", headers: [][2]string{{"Origin", "https://foobar.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression jub0bs/cors GHSA-vhxv-fg4m-p2w8: nor a subdomain of https://barfoo.com by the subdomain patterns",
		opts: sharedSuffix(false), method: "GET", headers: [][2]string{{"Origin", "https://app.barfoo.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression jub0bs/cors GHSA-vhxv-fg4m-p2w8: https://barfoo.com is not allowed by a long list holding https://foo.com and https://bar.com",
		opts: sharedSuffix(true), method: "GET", headers: [][2]string{{"Origin", "https://barfoo.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "the origins sharing a suffix are allowed themselves",
		opts: sharedSuffix(false), method: "GET", headers: [][2]string{{"Origin", "https://bar.com"}},
		want: allowedActual("https://bar.com")},
	{name: "the origins sharing a suffix are allowed themselves from a long list",
		opts: sharedSuffix(true), method: "GET", headers: [][2]string{{"Origin", "https://foo.com"}},
		want: allowedActual("https://foo.com")},
	// hono GHSA-q7jf-gf43-6x6p: the CORS middleware copied the request's
	// Vary header into the response, so a client chose how shared caches
	// key the response. Vary is the server's to set.
	{name: "regression hono GHSA-q7jf-gf43-6x6p: a Vary header in an actual request is not copied into the response",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com"}, {"Vary", "X-Evil, Cookie"}},
		want: allowedActual("https://app.example.com")},
	{name: "regression hono GHSA-q7jf-gf43-6x6p: a Vary header in a request from a disallowed origin is not copied",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://attacker.test"}, {"Vary", "*"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression hono GHSA-q7jf-gf43-6x6p: a Vary header in a preflight is not copied",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", [2]string{"Vary", "X-Evil"}),
		want:    allowedPreflight("https://app.example.com", "Access-Control-Allow-Methods", "PUT")},
	// rs/cors#131: a client joined two origins with a comma in one Origin
	// line, and a wildcard pattern matched on its prefix or suffix alone.
	{name: "regression rs/cors#131: two origins joined by a comma, the allowed one last, are not an origin",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://evil.test,https://app.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression rs/cors#131: two origins joined by a comma, the allowed one first, are not an origin",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com,https://evil.test"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "regression rs/cors#131: a preflight from two joined origins gets no allow headers",
		opts: base, method: "OPTIONS", headers: preflight("https://evil.test,https://api.example.com", "PUT"),
		status: 403, want: rejectedPreflight, err: cors.ErrOriginNotAllowed},
	{name: "the apex domain is not matched by its subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "an empty first label does not match a subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "a trailing dot is a different origin",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com."}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "the scheme must match: http is not https",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "http://app.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "the scheme must match for patterns too",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "http://api.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "the port must match",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com:8443"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "upper case is not what browsers send and does not match",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "HTTPS://APP.EXAMPLE.COM"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "an explicit default port is not what browsers send and does not match",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://app.example.com:443"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "an origin with a path does not match a pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://a.example.com/x"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	// The exact-form rule holds for patterns as for exact origins: a
	// pattern compares its scheme prefix and domain tail, and each of
	// these would slip past a matcher that lower-cased, trimmed a dot or
	// dropped a default port first.
	{name: "a trailing dot does not match a subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://api.example.com."}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "an upper-case subdomain does not match a subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://API.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "an explicit default port does not match a subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://api.example.com:443"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	// Browsers send internationalized names in punycode: that form
	// matches, the raw UTF-8 one (which no browser sends) never does.
	{name: "a punycode subdomain matches a subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://xn--bcher-kva.example.com"}},
		want: allowedActual("https://xn--bcher-kva.example.com")},
	{name: "a raw non-ASCII subdomain does not match a subdomain pattern",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://b\u00fccher.example.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "a punycode look-alike of an exact origin does not match it",
		opts:   with(func(o *cors.Options) { o.AllowedOrigins = []string{"https://app.example.com"} }),
		method: "GET", headers: [][2]string{{"Origin", "https://xn--pp-6kc.example.com"}}, // "аpp", Cyrillic а
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "a subdomain pattern does not match a sibling domain that ends in its domain's name",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "https://api.notexample.com"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "a preflight from an allowed origin with an empty Access-Control-Request-Method fails",
		opts: base, method: "OPTIONS", status: 403, headers: preflight("https://app.example.com", ""),
		want: rejectedPreflight, err: cors.ErrMethodNotAllowed},
	{name: "a preflight for a disallowed header among allowed ones fails",
		opts: base, method: "OPTIONS", status: 403, headers: preflight("https://app.example.com", "PUT", acrh("content-type,authorization")),
		want: rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "regression null origin: null is not allowed by default",
		opts: base, method: "GET", headers: [][2]string{{"Origin", "null"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "null is allowed only with DangerouslyAllowNullOrigin",
		opts: with(func(o *cors.Options) { o.DangerouslyAllowNullOrigin = true }), method: "GET",
		headers: [][2]string{{"Origin", "null"}}, want: allowedActual("null")},
	{name: "an OPTIONS request without Access-Control-Request-Method is an actual request and varies on the preflight headers",
		opts: base, method: "OPTIONS", headers: [][2]string{{"Origin", "https://app.example.com"}},
		want: map[string]string{
			"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "x-total-count", "Vary": varyOptions, "X-Next": "1"}},
	{name: "an OPTIONS request with Access-Control-Request-Method but no Origin is not a preflight",
		opts: base, method: "OPTIONS", headers: [][2]string{{"Access-Control-Request-Method", "PUT"}},
		want: map[string]string{"Vary": varyOptions, "X-Next": "1"}, err: cors.ErrNoOrigin},

	// Preflights.
	{name: "a preflight for an allowed method and headers is answered here with 204 and never reaches the handler (ringo/stick#37)",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", acrh("content-type,x-request-id")),
		want: allowedPreflight("https://app.example.com",
			"Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "methods are matched case-sensitively, as browsers compare them: PATCH does not allow patch",
		opts: base, method: "OPTIONS", status: 403, headers: preflight("https://app.example.com", "patch"),
		want: rejectedPreflight, err: cors.ErrMethodNotAllowed},
	{name: "headers are matched case-insensitively",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "DELETE", acrh("X-Request-ID")),
		want: allowedPreflight("https://app.example.com",
			"Access-Control-Allow-Methods", "DELETE", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "a safelisted method needs no Access-Control-Allow-Methods",
		opts: base, method: "OPTIONS", status: 204, headers: preflight("https://app.example.com", "GET"),
		want: allowedPreflight("https://app.example.com")},
	{name: "a preflight for POST, a safelisted method, needs no Access-Control-Allow-Methods (a JSON body's Content-Type makes browsers send one)",
		opts: base, method: "OPTIONS", status: 204, headers: preflight("https://app.example.com", "POST", acrh("content-type")),
		want: allowedPreflight("https://app.example.com", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "a preflight for HEAD, a safelisted method, needs no Access-Control-Allow-Methods",
		opts: base, method: "OPTIONS", status: 204, headers: preflight("https://app.example.com", "HEAD", acrh("x-request-id")),
		want: allowedPreflight("https://app.example.com", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "a preflight from a subdomain is allowed",
		opts: base, method: "OPTIONS", status: 204, headers: preflight("https://a.example.com", "PUT"),
		want: allowedPreflight("https://a.example.com", "Access-Control-Allow-Methods", "PUT")},
	{name: "regression vert-x3/vertx-web#2880: a preflight from a disallowed origin varies on Origin, with no allow headers and no echo of the allowed list",
		opts: base, method: "OPTIONS", status: 403, headers: preflight("https://attacker.test", "PUT"),
		want: rejectedPreflight, err: cors.ErrOriginNotAllowed},
	{name: "a preflight for a disallowed method is answered without allow headers",
		opts: base, method: "OPTIONS", status: 403, headers: preflight("https://app.example.com", "PROPFIND"),
		want: rejectedPreflight, err: cors.ErrMethodNotAllowed},
	{name: "a preflight with two Access-Control-Request-Method lines fails",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", [2]string{"Access-Control-Request-Method", "PUT"}),
		want:    rejectedPreflight, err: cors.ErrMethodNotAllowed},
	{name: "a preflight for a disallowed header is answered without allow headers",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh("content-type,x-secret")),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "regression rs/cors#184 and jub0bs/cors#7: a header list split over two lines by a proxy is read as one list",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", acrh("content-type"), acrh("x-request-id")),
		want: allowedPreflight("https://app.example.com",
			"Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "a few empty elements and single spaces are tolerated",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", acrh(", content-type ,,x-request-id")),
		want: allowedPreflight("https://app.example.com",
			"Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "sixteen empty elements are tolerated",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", acrh(strings.Repeat(",", 16)+"content-type")),
		want: allowedPreflight("https://app.example.com",
			"Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "content-type, x-request-id")},
	{name: "a seventeenth empty element is refused",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh(strings.Repeat(",", 17)+"content-type")),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "two spaces after a header name are refused: one is tolerated on each side",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh("content-type  ,x-request-id")),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "two allowed header names separated by white space without a comma are refused",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh("content-type  x-request-id")),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "an allowed header name that starts with another allowed name is allowed",
		opts: with(func(o *cors.Options) { o.AllowedHeaders = []string{"X-Custom", "X-Custom-Id"} }), method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", acrh("x-custom-id")),
		want: allowedPreflight("https://app.example.com",
			"Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "x-custom, x-custom-id")},
	{name: "an empty header list needs no Access-Control-Allow-Headers",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", acrh("")),
		want:    allowedPreflight("https://app.example.com", "Access-Control-Allow-Methods", "PUT")},
	// rs/cors#170 is GHSA-mh55-gqvf-xfwm (CVE-2025-47908), and go-chi/cors#36
	// the same attack: a preflight whose Access-Control-Request-Headers is a
	// megabyte of commas cost tens of megabytes of allocations.
	{name: "regression rs/cors#170: a megabyte of commas is rejected",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh(megabyteOfCommas)),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "regression rs/cors#170: a megabyte-long header name is rejected",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh(megabyteName)),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "more names than allowed headers are rejected even if each is allowed",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", acrh("content-type,content-type,content-type")),
		want:    rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "a private network preflight fails unless allowed",
		opts: base, method: "OPTIONS", status: 403,
		headers: preflight("https://app.example.com", "PUT", [2]string{"Access-Control-Request-Private-Network", "true"}),
		want:    rejectedPreflight, err: cors.ErrPrivateNetworkNotAllowed},
	{name: "a private network preflight is allowed with AllowPrivateNetwork",
		opts: with(func(o *cors.Options) { o.AllowPrivateNetwork = true }), method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", [2]string{"Access-Control-Request-Private-Network", "true"}),
		want: allowedPreflight("https://app.example.com", "Access-Control-Allow-Methods", "PUT",
			"Access-Control-Allow-Private-Network", "true")},
	{name: "OptionsPassthrough passes a successful preflight to the next handler with the allow headers",
		opts: with(func(o *cors.Options) { o.OptionsPassthrough = true }), method: "OPTIONS",
		headers: preflight("https://app.example.com", "PUT"),
		want:    allowedPreflight("https://app.example.com", "Access-Control-Allow-Methods", "PUT", "X-Next", "1")},
	{name: "OptionsPassthrough passes a failed preflight on without allow headers",
		opts: with(func(o *cors.Options) { o.OptionsPassthrough = true }), method: "OPTIONS",
		headers: preflight("https://attacker.test", "PUT"),
		want:    map[string]string{"Vary": varyOptions, "X-Next": "1"}, err: cors.ErrOriginNotAllowed},
	{name: "an Access-Control-Request-Private-Network other than true does not ask for private network access",
		opts: base, method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "PUT", [2]string{"Access-Control-Request-Private-Network", "false"}),
		want:    allowedPreflight("https://app.example.com", "Access-Control-Allow-Methods", "PUT")},
	{name: "PreflightStatus sets the status of a successful preflight",
		opts: with(func(o *cors.Options) { o.PreflightStatus = 200 }), method: "OPTIONS", status: 200,
		headers: preflight("https://app.example.com", "GET"), want: allowedPreflight("https://app.example.com")},
	{name: "DisablePreflightCache sends Max-Age 0",
		opts: with(func(o *cors.Options) { o.MaxAge = 0; o.DisablePreflightCache = true }), method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "GET"), want: allowedPreflight("https://app.example.com", "Access-Control-Max-Age", "0")},
	{name: "a MaxAge of 24h, the longest, is sent in seconds",
		opts: with(func(o *cors.Options) { o.MaxAge = 24 * time.Hour }), method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "GET"), want: allowedPreflight("https://app.example.com", "Access-Control-Max-Age", "86400")},
	{name: "no MaxAge omits Access-Control-Max-Age",
		opts: with(func(o *cors.Options) { o.MaxAge = 0 }), method: "OPTIONS", status: 204,
		headers: preflight("https://app.example.com", "GET"), want: allowedPreflight("https://app.example.com", "Access-Control-Max-Age", "")},

	// Any origin.
	{name: "with * and no credentials every response says * and does not vary",
		opts: cors.Options{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-Total-Count"}}, method: "GET",
		headers: [][2]string{{"Origin", "https://anyone.test"}},
		want:    map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "x-total-count", "X-Next": "1"}},
	{name: "with * and no credentials a request without Origin also says *",
		opts: cors.Options{AllowedOrigins: []string{"*"}}, method: "GET",
		want: map[string]string{"Access-Control-Allow-Origin": "*", "X-Next": "1"}, err: cors.ErrNoOrigin},
	{name: "with * a preflight is answered with * and wildcard methods",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("https://anyone.test", "PURGE"),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "*", "Vary": varyOptions}},
	{name: "with * and no credentials the null origin may read public responses too",
		opts:   cors.Options{AllowedOrigins: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("null", "GET"),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Vary": varyOptions}},
	{name: "with * an OPTIONS request that is not a preflight still varies on the preflight headers",
		opts:   cors.Options{AllowedOrigins: []string{"*"}},
		method: "OPTIONS", headers: [][2]string{{"Origin", "https://anyone.test"}},
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Vary": varyOptions, "X-Next": "1"}},
	{name: "with all headers allowed the requested list is echoed, covering Authorization",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("https://anyone.test", "GET", acrh("authorization,x-anything")),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "authorization,x-anything", "Vary": varyOptions}},
	{name: "with all methods allowed a method that is not a token is refused",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"*"}},
		method: "OPTIONS", status: 403, headers: preflight("https://anyone.test", "PUR GE"),
		want: rejectedPreflight, err: cors.ErrMethodNotAllowed},
	{name: "with all headers allowed the echoed list has no commas or white space at its ends",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("https://anyone.test", "GET", acrh(",x-a, x-b ,")),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "x-a, x-b", "Vary": varyOptions}},
	{name: "with all headers allowed a list split over lines is echoed as one, without the empty lines",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("https://anyone.test", "GET", acrh("x-a"), acrh(""), acrh(" , "), acrh("x-b")),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "x-a, x-b", "Vary": varyOptions}},
	{name: "with all headers allowed a list of exactly 1 KiB is echoed",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("https://anyone.test", "GET", acrh(headerListOfLen(1024))),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": headerListOfLen(1024), "Vary": varyOptions}},
	{name: "with all headers allowed a list one byte over 1 KiB is not echoed",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 403, headers: preflight("https://anyone.test", "GET", acrh(headerListOfLen(1025))),
		want: rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "with all headers allowed a malformed list is not echoed",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 403, headers: preflight("https://anyone.test", "GET", acrh("x-a,x-b:evil")),
		want: rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "with all headers allowed two names without a comma between them are not echoed",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 403, headers: preflight("https://anyone.test", "GET", acrh("x-a x-b, x-c")),
		want: rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "with all headers allowed a list of 80 elements is echoed",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 204, headers: preflight("https://anyone.test", "GET", acrh(headerNames(80))),
		want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": headerNames(80), "Vary": varyOptions}},
	{name: "with all headers allowed a list of 81 elements is not echoed, though under 1 KiB",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}},
		method: "OPTIONS", status: 403, headers: preflight("https://anyone.test", "GET", acrh(headerNames(80)+",")),
		want: rejectedPreflight, err: cors.ErrHeadersNotAllowed},
	{name: "regression echo#2400: * with credentials requires the dangerous option and then echoes and varies",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true, DangerouslyAllowCredentialsWithAnyOrigin: true},
		method: "GET", headers: [][2]string{{"Origin", "https://anyone.test"}},
		want: map[string]string{"Access-Control-Allow-Origin": "https://anyone.test", "Access-Control-Allow-Credentials": "true",
			"Vary": varyOrigin, "X-Next": "1"}},
	{name: "* with credentials never echoes a value browsers would not send",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true, DangerouslyAllowCredentialsWithAnyOrigin: true},
		method: "GET", headers: [][2]string{{"Origin", "https://anyone.test/<script>"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},

	// Origin function.
	{name: "AllowOriginFunc allows what the list does not",
		opts: with(func(o *cors.Options) {
			o.AllowOriginFunc = func(origin string) bool { return origin == "https://partner.test" }
		}), method: "GET", headers: [][2]string{{"Origin", "https://partner.test"}},
		want: allowedActual("https://partner.test")},
	{name: "AllowOriginFunc never sees a value in a form browsers do not send",
		opts: with(func(o *cors.Options) {
			o.AllowOriginFunc = func(origin string) bool { return true }
		}), method: "GET", headers: [][2]string{{"Origin", "https://Partner.test"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "AllowOriginFunc never sees null",
		opts: with(func(o *cors.Options) {
			o.AllowOriginFunc = func(origin string) bool { return true }
		}), method: "GET", headers: [][2]string{{"Origin", "null"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "AllowOriginFunc never sees an upper-case scheme, which browsers do not send",
		opts: with(func(o *cors.Options) {
			o.AllowOriginFunc = func(origin string) bool { return true }
		}), method: "GET", headers: [][2]string{{"Origin", "HTTPS://partner.test"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "AllowOriginFunc never sees the default port, which browsers omit",
		opts: with(func(o *cors.Options) {
			o.AllowOriginFunc = func(origin string) bool { return true }
		}), method: "GET", headers: [][2]string{{"Origin", "https://partner.test:443"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
	{name: "* never echoes the default port with credentials",
		opts:   cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true, DangerouslyAllowCredentialsWithAnyOrigin: true},
		method: "GET", headers: [][2]string{{"Origin", "http://anyone.test:80"}},
		want: passedDisallowed, err: cors.ErrOriginNotAllowed},
}

func newRequest(method, target string, lines [][2]string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for _, kv := range lines {
		r.Header.Add(kv[0], kv[1])
	}
	return r
}

// checkHeaders compares the CORS headers of h with want: every header in
// corsHeaders must have the wanted value, or be absent when not wanted. Vary
// is compared as a list.
func checkHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for _, k := range corsHeaders {
		got, ok := h[k]
		w := want[k]
		if k == "Vary" {
			if g, wl := splitList(got), splitList([]string{w}); !slices.Equal(g, wl) {
				t.Errorf("Vary = %q, want %q", g, wl)
			}
			continue
		}
		if w == "" {
			if ok {
				t.Errorf("%s = %q, want it absent", k, got)
			}
			continue
		}
		if len(got) != 1 || got[0] != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
}

func splitList(lines []string) []string {
	var out []string
	for _, l := range lines {
		for e := range strings.SplitSeq(l, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// TestSpec runs every case through the three entry points: the middleware
// with a recorder, Check, and a real server over the wire.
func TestSpec(t *testing.T) {
	for _, tc := range specCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := cors.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			h := m.Handler(next)
			wantStatus := tc.status
			if wantStatus == 0 {
				wantStatus = 200
			}

			t.Run("Handler", func(t *testing.T) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, newRequest(tc.method, "https://api.example.org/resource", tc.headers))
				if rec.Code != wantStatus {
					t.Errorf("status = %d, want %d", rec.Code, wantStatus)
				}
				checkHeaders(t, rec.Header(), tc.want)
				if wantStatus == 403 && strings.Contains(rec.Body.String(), "example") {
					t.Errorf("rejection body reveals configuration or request data: %s", rec.Body)
				}
			})

			t.Run("Check", func(t *testing.T) {
				err := m.Check(newRequest(tc.method, "https://api.example.org/resource", tc.headers))
				if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
					t.Errorf("Check = %v, want %v", err, tc.err)
				}
			})

			t.Run("Server", func(t *testing.T) {
				for _, kv := range tc.headers {
					if len(kv[1]) > 8<<10 {
						t.Skip("header too large for the wire")
					}
				}
				srv := httptest.NewServer(h)
				defer srv.Close()
				req, _ := http.NewRequest(tc.method, srv.URL+"/resource", nil)
				for _, kv := range tc.headers {
					req.Header.Add(kv[0], kv[1])
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != wantStatus {
					t.Errorf("status = %d, want %d", resp.StatusCode, wantStatus)
				}
				checkHeaders(t, resp.Header, tc.want)
			})
		})
	}
}

func TestNewRejectsUnsafeOrMalformedOptions(t *testing.T) {
	tests := []struct {
		name string
		opts cors.Options
		want []error
	}{
		{"no origin at all has no safe default", cors.Options{}, []error{cors.ErrNoAllowedOrigins}},
		{"regression echo#2400, rs/cors#55 (CVE-2018-20744) and gofiber/fiber CVE-2024-25124: * with credentials",
			cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true}, []error{cors.ErrWildcardCredentials}},
		{"* with other origins is ambiguous",
			cors.Options{AllowedOrigins: []string{"*", "https://a.test"}}, []error{cors.ErrConflict}},
		{"* with an origin function is ambiguous",
			cors.Options{AllowedOrigins: []string{"*"}, AllowOriginFunc: func(string) bool { return true }}, []error{cors.ErrConflict}},
		{"an http origin with credentials", cors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true},
			[]error{cors.ErrInsecureOrigin}},
		{"an http pattern with credentials", cors.Options{AllowedOrigins: []string{"http://*.example.com"}, AllowCredentials: true},
			[]error{cors.ErrInsecureOrigin}},
		{"regression null origin: null without the explicit option", cors.Options{AllowedOrigins: []string{"null"}},
			[]error{cors.ErrNullOrigin}},
		{"* with DangerouslyAllowNullOrigin", cors.Options{AllowedOrigins: []string{"*"}, DangerouslyAllowNullOrigin: true},
			[]error{cors.ErrConflict}},
		{"userinfo", cors.Options{AllowedOrigins: []string{"https://user@app.example.com"}}, []error{cors.ErrInvalidOrigin}},
		{"a path", cors.Options{AllowedOrigins: []string{"https://app.example.com/"}}, []error{cors.ErrInvalidOrigin}},
		{"a query", cors.Options{AllowedOrigins: []string{"https://app.example.com?x"}}, []error{cors.ErrInvalidOrigin}},
		{"a fragment", cors.Options{AllowedOrigins: []string{"https://app.example.com#x"}}, []error{cors.ErrInvalidOrigin}},
		{"no scheme", cors.Options{AllowedOrigins: []string{"app.example.com"}}, []error{cors.ErrInvalidOrigin}},
		{"regression rs/cors#197: a prefix wildcard such as h*", cors.Options{AllowedOrigins: []string{"h*"}}, []error{cors.ErrInvalidOrigin}},
		{"a wildcard inside a label", cors.Options{AllowedOrigins: []string{"https://*example.com"}}, []error{cors.ErrInvalidOrigin}},
		{"a wildcard in a later label", cors.Options{AllowedOrigins: []string{"https://app.*.example.com"}}, []error{cors.ErrInvalidOrigin}},
		{"a wildcard for the whole host", cors.Options{AllowedOrigins: []string{"https://*"}}, []error{cors.ErrInvalidOrigin}},
		{"regression gin-contrib/cors CVE-2019-25211: a wildcard path such as https://example.com/*", cors.Options{AllowedOrigins: []string{"https://example.com/*"}}, []error{cors.ErrInvalidOrigin}},
		{"regression gin-contrib/cors CVE-2019-25211: a trailing wildcard such as http://localhost*", cors.Options{AllowedOrigins: []string{"http://localhost*"}}, []error{cors.ErrInvalidOrigin}},
		{"a pattern on a top-level domain", cors.Options{AllowedOrigins: []string{"https://*.com"}}, []error{cors.ErrInvalidOrigin}},
		// Found in review: every x.run.app is a public suffix, so the
		// pattern trusted every Cloud Run customer's site.
		{"a pattern on a domain whose subdomains are public suffixes", cors.Options{AllowedOrigins: []string{"https://*.run.app"}, AllowCredentials: true}, []error{cors.ErrInvalidOrigin}},
		{"a pattern on an IP address", cors.Options{AllowedOrigins: []string{"https://*.1.2.3.4"}}, []error{cors.ErrInvalidOrigin}},
		{"an empty port", cors.Options{AllowedOrigins: []string{"https://app.example.com:"}}, []error{cors.ErrInvalidOrigin}},
		{"a port out of range", cors.Options{AllowedOrigins: []string{"https://app.example.com:65536"}}, []error{cors.ErrInvalidOrigin}},
		{"a non-ASCII host", cors.Options{AllowedOrigins: []string{"https://bücher.example"}}, []error{cors.ErrInvalidOrigin}},
		{"an empty label", cors.Options{AllowedOrigins: []string{"https://app..example.com"}}, []error{cors.ErrInvalidOrigin}},
		{"a non-canonical IPv4 address", cors.Options{AllowedOrigins: []string{"http://0x7f.1"}}, []error{cors.ErrInvalidOrigin}},
		{"* methods with credentials", with(func(o *cors.Options) { o.AllowedMethods = []string{"*"} }), []error{cors.ErrWildcardCredentials}},
		{"* headers with credentials", with(func(o *cors.Options) { o.AllowedHeaders = []string{"*"} }), []error{cors.ErrWildcardCredentials}},
		{"* exposed headers with credentials", with(func(o *cors.Options) { o.ExposedHeaders = []string{"*"} }), []error{cors.ErrWildcardCredentials}},
		// The doc says "*", alone: with other entries it is a conflict,
		// with or without credentials.
		{"* methods with another method", cors.Options{AllowedOrigins: []string{"https://a.test"}, AllowedMethods: []string{"*", "PUT"}}, []error{cors.ErrConflict}},
		{"* headers with another header", cors.Options{AllowedOrigins: []string{"https://a.test"}, AllowedHeaders: []string{"X-Token", "*"}}, []error{cors.ErrConflict}},
		{"* exposed headers with another header", cors.Options{AllowedOrigins: []string{"https://a.test"}, ExposedHeaders: []string{"*", "X-Total"}}, []error{cors.ErrConflict}},
		{"CONNECT", with(func(o *cors.Options) { o.AllowedMethods = []string{"CONNECT"} }), []error{cors.ErrInvalidMethod}},
		{"a header name over 128 bytes", with(func(o *cors.Options) { o.AllowedHeaders = []string{"X-" + strings.Repeat("a", 127)} }), []error{cors.ErrInvalidHeader}},
		{"an exposed header that is not a token", with(func(o *cors.Options) { o.ExposedHeaders = []string{"X Total"} }), []error{cors.ErrInvalidHeader}},
		{"a method that is not a token", with(func(o *cors.Options) { o.AllowedMethods = []string{"GET POST"} }), []error{cors.ErrInvalidMethod}},
		{"TRACE", with(func(o *cors.Options) { o.AllowedMethods = []string{"trace"} }), []error{cors.ErrInvalidMethod}},
		{"TRACK", with(func(o *cors.Options) { o.AllowedMethods = []string{"TRACK"} }), []error{cors.ErrInvalidMethod}},
		{"PATCH in lower case, which would refuse every browser", with(func(o *cors.Options) { o.AllowedMethods = []string{"patch"} }), []error{cors.ErrInvalidMethod}},
		{"PATCH in mixed case", with(func(o *cors.Options) { o.AllowedMethods = []string{"Patch"} }), []error{cors.ErrInvalidMethod}},
		{"a header scripts cannot set", with(func(o *cors.Options) { o.AllowedHeaders = []string{"Cookie"} }), []error{cors.ErrInvalidHeader}},
		{"a Proxy- header", with(func(o *cors.Options) { o.AllowedHeaders = []string{"Proxy-Authorization"} }), []error{cors.ErrInvalidHeader}},
		{"a Sec- header", with(func(o *cors.Options) { o.AllowedHeaders = []string{"Sec-Fetch-Site"} }), []error{cors.ErrInvalidHeader}},
		{"a header that is not a token", with(func(o *cors.Options) { o.AllowedHeaders = []string{"X Foo"} }), []error{cors.ErrInvalidHeader}},
		{"a negative MaxAge", with(func(o *cors.Options) { o.MaxAge = -time.Second }), []error{cors.ErrInvalidMaxAge}},
		{"a sub-second MaxAge", with(func(o *cors.Options) { o.MaxAge = 1500 * time.Millisecond }), []error{cors.ErrInvalidMaxAge}},
		{"a MaxAge over a day", with(func(o *cors.Options) { o.MaxAge = 25 * time.Hour }), []error{cors.ErrInvalidMaxAge}},
		{"MaxAge with DisablePreflightCache", with(func(o *cors.Options) { o.DisablePreflightCache = true }), []error{cors.ErrConflict}},
		{"a preflight status outside 2xx", with(func(o *cors.Options) { o.PreflightStatus = 403 }), []error{cors.ErrInvalidPreflightStatus}},
		{"a preflight status of 300", with(func(o *cors.Options) { o.PreflightStatus = 300 }), []error{cors.ErrInvalidPreflightStatus}},
		// Both are options of a preflight answered here, which
		// OptionsPassthrough leaves to the next handler: they were
		// silently never used.
		{"OnReject with OptionsPassthrough", with(func(o *cors.Options) {
			o.OptionsPassthrough = true
			o.OnReject = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusTeapot) }
		}), []error{cors.ErrConflict}},
		{"PreflightStatus with OptionsPassthrough", with(func(o *cors.Options) { o.OptionsPassthrough, o.PreflightStatus = true, 200 }), []error{cors.ErrConflict}},
		{"every problem is reported at once",
			cors.Options{AllowedOrigins: []string{"*", "null", "https://a.test/"}, AllowCredentials: true, MaxAge: -1},
			[]error{cors.ErrWildcardCredentials, cors.ErrNullOrigin, cors.ErrInvalidOrigin, cors.ErrConflict, cors.ErrInvalidMaxAge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cors.New(tt.opts)
			if err == nil || m != nil {
				t.Fatalf("New = %v, %v; want an error", m, err)
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("error %q does not wrap %q", err, want)
				}
			}
			var oe *cors.OptionError
			if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "cors: ") {
				t.Errorf("error %q is not a *cors.OptionError with the cors: prefix", err)
			}
		})
	}
}

func TestNewAcceptsAndNormalizesOrigins(t *testing.T) {
	m := cors.MustNew(cors.Options{AllowedOrigins: []string{
		"HTTPS://App.Example.COM:443", "http://127.0.0.1:8080", "http://[::1]:3000",
		"chrome-extension://abcdefghijklmnop", "https://*.Example.org:8443",
		// Port 80 is not the default for https: it stays in the origin.
		"https://alt.example.com:80",
		// A *.localhost name is loopback (RFC 6761), so http is secure.
		"http://app.localhost:5173",
	}, AllowCredentials: true})
	for _, o := range []string{
		"https://app.example.com", "http://127.0.0.1:8080", "http://[::1]:3000",
		"chrome-extension://abcdefghijklmnop", "https://x.example.org:8443",
		"https://alt.example.com:80", "http://app.localhost:5173",
	} {
		r := newRequest("GET", "/", [][2]string{{"Origin", o}})
		if err := m.Check(r); err != nil {
			t.Errorf("Check(%s) = %v, want nil", o, err)
		}
	}
	for _, o := range []string{"https://App.Example.com", "https://x.example.org", "http://[0:0::1]:3000", "https://alt.example.com"} {
		r := newRequest("GET", "/", [][2]string{{"Origin", o}})
		if err := m.Check(r); err == nil {
			t.Errorf("Check(%s) = nil, want an error", o)
		}
	}
}

// TestDangerousOptionsAllowWhatTheyName: each Dangerously option lets New
// accept the configuration it names, which then grants what it says.
func TestDangerousOptionsAllowWhatTheyName(t *testing.T) {
	tests := []struct {
		name            string
		opts            cors.Options
		allowed, denied []string
	}{
		{"DangerouslyAllowInsecureOrigins permits an http origin with credentials",
			cors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true, DangerouslyAllowInsecureOrigins: true},
			[]string{"http://app.example.com"}, []string{"https://app.example.com", "null"}},
		{"DangerouslyAllowNullOrigin alone allows null and nothing else",
			cors.Options{DangerouslyAllowNullOrigin: true},
			[]string{"null"}, []string{"https://app.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cors.New(tt.opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			for _, o := range tt.allowed {
				rec := httptest.NewRecorder()
				m.Handler(next).ServeHTTP(rec, newRequest("GET", "/", [][2]string{{"Origin", o}}))
				if got := rec.Header().Get("Access-Control-Allow-Origin"); got != o {
					t.Errorf("Origin %s: Access-Control-Allow-Origin %q, want it echoed", o, got)
				}
			}
			for _, o := range tt.denied {
				if err := m.Check(newRequest("GET", "/", [][2]string{{"Origin", o}})); !errors.Is(err, cors.ErrOriginNotAllowed) {
					t.Errorf("Check(%s) = %v, want ErrOriginNotAllowed", o, err)
				}
			}
		})
	}
}

// Regression for jub0bs/cors GHSA-vhxv-fg4m-p2w8: origins whose hosts
// share a suffix must not allow the concatenation.
func TestRegressionJub0bsGHSAvhxvSharedSuffix(t *testing.T) {
	m := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://foo.com", "https://bar.com", "https://*.foo.com"}})
	for _, o := range []string{"https://barfoo.com", "https://foobar.com", "https://xfoo.com", "https://bar.com.foo.org"} {
		if err := m.Check(newRequest("GET", "/", [][2]string{{"Origin", o}})); err == nil {
			t.Errorf("%s allowed", o)
		}
	}
}

// A subdomain pattern never grants a site under a public suffix below its
// domain, which its owner does not control (found in review: with
// "https://*.amazonaws.com" and credentials, any S3 bucket's page could
// read the user's responses).
func TestPatternRefusesHostsUnderAPublicSuffixBelowIt(t *testing.T) {
	m := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://*.amazonaws.com", "https://*.core.windows.net"}, AllowCredentials: true})
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"https://console.amazonaws.com", true},
		{"https://attacker.s3.amazonaws.com", false},
		{"https://attacker.web.core.windows.net", false},
		{"https://portal.core.windows.net", true},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newRequest("GET", "/", [][2]string{{"Origin", tt.origin}}))
		got := w.Header().Get("Access-Control-Allow-Origin")
		if (got == tt.origin) != tt.want || got != "" && got != tt.origin {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, Access-Control-Allow-Credentials %q; granted should be %v",
				tt.origin, got, w.Header().Get("Access-Control-Allow-Credentials"), tt.want)
		}
	}
}

// Regression for rs/cors#198: the values the middleware writes must not be
// slices shared between requests (or with the request), or a handler that
// overwrites one changes it for every later response.
func TestRegressionRsCors198HandlerCannotCorruptSharedValues(t *testing.T) {
	for _, opts := range []cors.Options{base, {AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-A"}}} {
		m := cors.MustNew(opts)
		evil := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, vals := range w.Header() {
				for i := range vals {
					vals[i] = "corrupted"
				}
			}
		}))
		for _, lines := range [][][2]string{
			{{"Origin", "https://app.example.com"}},
			preflight("https://app.example.com", "PUT"),
			{{"Origin", "https://attacker.test"}},
		} {
			req := newRequest(lines2method(lines), "/", lines)
			evil.ServeHTTP(httptest.NewRecorder(), req)
			if got := req.Header.Get("Origin"); got != lines[0][1] {
				t.Fatalf("the request's Origin was changed to %q through the response", got)
			}
		}
		// Every later response is intact.
		rec := httptest.NewRecorder()
		m.Handler(next).ServeHTTP(rec, newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}}))
		for k, vals := range rec.Header() {
			if slices.Contains(vals, "corrupted") {
				t.Errorf("%s = %q after a handler overwrote its own copy", k, vals)
			}
		}
		rec = httptest.NewRecorder()
		opts.OptionsPassthrough = true
		m2 := cors.MustNew(opts)
		m2.Handler(next).ServeHTTP(rec, newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT")))
		for k, vals := range rec.Header() {
			if slices.Contains(vals, "corrupted") {
				t.Errorf("%s = %q after a handler overwrote its own copy", k, vals)
			}
		}
	}
}

func lines2method(lines [][2]string) string {
	for _, kv := range lines {
		if kv[0] == "Access-Control-Request-Method" {
			return "OPTIONS"
		}
	}
	return "GET"
}

// A handler that appends to a header value must not write into another
// response's slot.
func TestAppendingToAValueDoesNotTouchOtherResponses(t *testing.T) {
	m := cors.MustNew(base)
	var mu sync.Mutex
	var held []http.Header
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Vary"] = append(w.Header()["Vary"], "Accept-Encoding")
		mu.Lock()
		held = append(held, w.Header())
		mu.Unlock()
	}))
	for range 600 {
		h.ServeHTTP(httptest.NewRecorder(), newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}}))
	}
	for _, hd := range held {
		if got := hd["Vary"]; !slices.Equal(got, []string{"Origin", "Accept-Encoding"}) {
			t.Fatalf("Vary = %q", got)
		}
		if got := hd["Access-Control-Allow-Origin"]; !slices.Equal(got, []string{"https://app.example.com"}) {
			t.Fatalf("Access-Control-Allow-Origin = %q", got)
		}
	}
}

func TestVarySetByAnOuterMiddlewareIsKept(t *testing.T) {
	m := cors.MustNew(base)
	for _, lines := range [][][2]string{
		{{"Origin", "https://app.example.com"}},
		{{"Origin", "https://attacker.test"}},
		preflight("https://app.example.com", "PUT"),
		preflight("https://attacker.test", "PUT"),
	} {
		rec := httptest.NewRecorder()
		rec.Header().Set("Vary", "Accept-Encoding")
		m.Handler(next).ServeHTTP(rec, newRequest(lines2method(lines), "/", lines))
		got := splitList(rec.Header()["Vary"])
		if got[0] != "Accept-Encoding" || !slices.Contains(got, "Origin") {
			t.Errorf("Vary = %q, want Accept-Encoding kept and Origin added", got)
		}
	}
}

// A Vary set further out that lists Origin already (another layer that
// varies by it, or a second CORS middleware) is not extended to "Vary:
// Origin, Origin"; only the names it lacks are added.
func TestVaryNamesListedFurtherOutAreNotRepeated(t *testing.T) {
	m := cors.MustNew(base)
	const requestHeaders = "Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
	for _, tt := range []struct {
		name  string
		lines [][2]string
		outer []string
		want  []string
	}{
		{"Origin", [][2]string{{"Origin", "https://app.example.com"}}, []string{"Origin"}, []string{"Origin"}},
		{"origin in lower case", [][2]string{{"Origin", "https://app.example.com"}}, []string{"origin"}, []string{"origin"}},
		{"Origin in a list", [][2]string{{"Origin", "https://attacker.test"}}, []string{"Accept-Encoding, Origin"}, []string{"Accept-Encoding, Origin"}},
		{"Origin on a second line", [][2]string{{"Origin", "https://app.example.com"}}, []string{"Accept-Encoding", "Origin"}, []string{"Accept-Encoding", "Origin"}},
		{"*", [][2]string{{"Origin", "https://app.example.com"}}, []string{"*"}, []string{"*"}},
		{"another name", [][2]string{{"Origin", "https://app.example.com"}}, []string{"Accept-Encoding"}, []string{"Accept-Encoding", "Origin"}},
		{"a preflight's Origin", preflight("https://app.example.com", "PUT"), []string{"Origin"}, []string{"Origin", requestHeaders}},
		{"a refused preflight's names", preflight("https://attacker.test", "PUT"), []string{"Origin, Access-Control-Request-Method"}, []string{"Origin, Access-Control-Request-Method", "Access-Control-Request-Headers, Access-Control-Request-Private-Network"}},
		{"all a preflight's names", preflight("https://app.example.com", "PUT"), []string{varyOptions}, []string{varyOptions}},
	} {
		rec := httptest.NewRecorder()
		rec.Header()["Vary"] = slices.Clone(tt.outer)
		m.Handler(next).ServeHTTP(rec, newRequest(lines2method(tt.lines), "/", tt.lines))
		if got := rec.Header()["Vary"]; !slices.Equal(got, tt.want) {
			t.Errorf("%s: Vary = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOnRejectReceivesTheReasonAndVaryIsAlreadySet(t *testing.T) {
	var gotErr error
	var gotVary []string
	m := cors.MustNew(with(func(o *cors.Options) {
		o.OnReject = func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr, gotVary = err, w.Header()["Vary"]
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	rec := httptest.NewRecorder()
	m.Handler(next).ServeHTTP(rec, newRequest("OPTIONS", "/", preflight("https://app.example.com", "PROPFIND")))
	if rec.Code != http.StatusTeapot || !errors.Is(gotErr, cors.ErrMethodNotAllowed) || len(gotVary) == 0 {
		t.Errorf("status %d, err %v, Vary %q", rec.Code, gotErr, gotVary)
	}
}

// TestMethodAndHeaderMatchingWithFewOrManyNames runs the same decisions
// against short lists, which are scanned, and long ones, which are hashed:
// header names ignore ASCII case and nothing else; methods are compared
// byte for byte, the six that fetch upper-cases being upper-cased in the
// configuration.
func TestMethodAndHeaderMatchingWithFewOrManyNames(t *testing.T) {
	few := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"put", "propfind"}, AllowedHeaders: []string{"X-Request-ID", "content-type", "x-amz-date"}})
	var methods, headers []string
	for i := range 12 {
		methods = append(methods, fmt.Sprintf("M%d", i))
		headers = append(headers, fmt.Sprintf("X-H%d", i))
	}
	many := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: append(methods, "put", "propfind"), AllowedHeaders: append(headers, "X-Request-ID", "content-type", "x-amz-date")})
	tests := []struct {
		name, method, headers string
		want                  error
	}{
		{"an exact method and header are allowed", "PUT", "x-request-id", nil},
		{"a header in another case is allowed", "PUT", "X-REQUEST-id,Content-Type", nil},
		{"a header with A and Z, the ends of the alphabet, in upper case is allowed", "PUT", "X-AMZ-DATE", nil},
		{"a method fetch normalizes, configured in lower case, is allowed in upper case", "PUT", "", nil},
		{"a method fetch normalizes is refused in another case (no browser sends it)", "pUt", "", cors.ErrMethodNotAllowed},
		{"another method is allowed as configured", "propfind", "", nil},
		{"another method is refused in another case", "PROPFIND", "", cors.ErrMethodNotAllowed},
		{"a method differing by one letter is refused", "PUX", "", cors.ErrMethodNotAllowed},
		{"a method that is a prefix is refused", "PU", "", cors.ErrMethodNotAllowed},
		{"a header that is a prefix is refused", "PUT", "x-request", cors.ErrHeadersNotAllowed},
		{"a header one byte longer is refused", "PUT", "x-request-idx", cors.ErrHeadersNotAllowed},
		{"a header with a non-ASCII letter is refused", "PUT", "x-request-\u0130d", cors.ErrHeadersNotAllowed},
		{"a header differing in a non-letter is refused", "PUT", "x_request-id", cors.ErrHeadersNotAllowed},
	}
	for _, tt := range tests {
		for _, m := range []struct {
			name string
			m    *cors.Middleware
		}{{"few", few}, {"many", many}} {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				kv := preflight("https://app.example.com", tt.method)
				if tt.headers != "" {
					kv = append(kv, acrh(tt.headers))
				}
				if err := m.m.Check(newRequest("OPTIONS", "/", kv)); !errors.Is(err, tt.want) {
					t.Errorf("Check: %v, want %v", err, tt.want)
				}
			})
		}
	}
}

// TestRefusalIsProblemWrite checks that the default answer to a refused
// preflight, rendered once at start-up, is exactly what problem.Reject
// writes (status, every header, body) and that the reason is still recorded.
func TestRefusalIsProblemWrite(t *testing.T) {
	stale := [][2]string{
		{"Content-Encoding", "gzip"}, {"Content-Range", "bytes 0-1/2"}, {"ETag", `"x"`},
		{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}, {"Content-Type", "text/html"},
		{"Vary", "Accept-Encoding"}, {"X-Kept", "yes"},
	}
	for _, tt := range []struct {
		name string
		r    *http.Request
		want error
	}{
		{"a preflight from a disallowed origin", newRequest("OPTIONS", "/", preflight("https://attacker.test", "PUT")), cors.ErrOriginNotAllowed},
		{"a preflight with a disallowed method", newRequest("OPTIONS", "/", preflight("https://app.example.com", "PROPFIND")), cors.ErrMethodNotAllowed},
		{"a preflight with a megabyte of commas", newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh(megabyteOfCommas))), cors.ErrHeadersNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := httptest.NewRecorder()
			for _, kv := range stale {
				got.Header().Add(kv[0], kv[1])
			}
			ctx, reason := problem.WithReason(tt.r.Context())
			cors.MustNew(base).Handler(next).ServeHTTP(got, tt.r.WithContext(ctx))

			want := httptest.NewRecorder()
			for _, kv := range stale {
				want.Header().Add(kv[0], kv[1])
			}
			want.Header().Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
			problem.Write(want, http.StatusForbidden)

			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("got %d %q, want %d %q", got.Code, got.Body, want.Code, want.Body)
			}
			if len(got.Header()) != len(want.Header()) {
				t.Errorf("headers %q, want %q", got.Header(), want.Header())
			}
			for k, v := range want.Header() {
				if !slices.Equal(got.Header()[k], v) {
					t.Errorf("%s: %q, want %q", k, got.Header()[k], v)
				}
			}
			if !errors.Is(reason.Err(), tt.want) {
				t.Errorf("reason %v, want %v", reason.Err(), tt.want)
			}
		})
	}
}

func TestZeroMiddlewareFailsClosed(t *testing.T) {
	// A nil *Middleware (what New returns with its error) behaves as the
	// zero one; it made every request panic.
	for name, m := range map[string]*cors.Middleware{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			m.Handler(next).ServeHTTP(rec, newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}}))
			checkHeaders(t, rec.Header(), passedDisallowed)
			rec = httptest.NewRecorder()
			m.Handler(next).ServeHTTP(rec, newRequest("OPTIONS", "/", preflight("https://app.example.com", "GET")))
			if rec.Code != http.StatusForbidden {
				t.Errorf("preflight status = %d, want 403", rec.Code)
			}
			checkHeaders(t, rec.Header(), rejectedPreflight)
			if err := m.Check(newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}})); !errors.Is(err, cors.ErrOriginNotAllowed) {
				t.Errorf("Check = %v, want ErrOriginNotAllowed", err)
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
	cors.MustNew(base).Handler(nil)
}

func TestOptionsAreCopied(t *testing.T) {
	o := cors.Options{AllowedOrigins: []string{"https://a.test"}, AllowedHeaders: []string{"X-A"}}
	m := cors.MustNew(o)
	o.AllowedOrigins[0] = "https://b.test"
	o.AllowedHeaders[0] = "X-B"
	if err := m.Check(newRequest("GET", "/", [][2]string{{"Origin", "https://a.test"}})); err != nil {
		t.Errorf("mutating the options after New changed the middleware: %v", err)
	}
	if err := m.Check(newRequest("OPTIONS", "/", preflight("https://a.test", "GET", acrh("x-a")))); err != nil {
		t.Errorf("mutating the options after New changed the middleware: %v", err)
	}
}

// TestConcurrentRequests serves allowed, disallowed and preflight requests
// in parallel from handlers that rewrite their own headers; run with -race.
func TestConcurrentRequests(t *testing.T) {
	m := cors.MustNew(with(func(o *cors.Options) { o.AllowPrivateNetwork = true }))
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, vals := range w.Header() {
			for i := range vals {
				vals[i] = "mine"
			}
		}
	}))
	cases := [][][2]string{
		{{"Origin", "https://app.example.com"}},
		{{"Origin", "https://attacker.test"}},
		preflight("https://a.example.com", "PUT", acrh("content-type")),
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				lines := cases[(g+i)%len(cases)]
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, newRequest(lines2method(lines), "/", lines))
				if lines2method(lines) == "OPTIONS" && rec.Header().Get("Access-Control-Allow-Origin") != "https://a.example.com" {
					t.Errorf("preflight ACAO = %q", rec.Header().Get("Access-Control-Allow-Origin"))
					return
				}
			}
		})
	}
	wg.Wait()
}
