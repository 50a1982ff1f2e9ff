package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	chicors "github.com/go-chi/cors"
	rscors "github.com/rs/cors"

	"github.com/httpguard/httpguard/cors"
)

// The differential test below feeds httpguard's cors and rs/cors, set up
// with the same policy, the same generated requests, and compares what a
// browser running the Fetch standard's CORS checks
// (https://fetch.spec.whatwg.org/#cors-check and #cors-preflight-fetch)
// would conclude from each response, and their Vary. Every difference
// must be one of the classified ones of corsDiffReason: a deliberate,
// documented difference, or a defect of rs/cors that httpguard does not
// share. An unclassified difference fails the test.

// diffPolicy is one policy expressed for both implementations.
type diffPolicy struct {
	name string
	hg   cors.Options
	rs   rscors.Options
}

func diffPolicies() []diffPolicy {
	// rs/cors allows only the methods listed, even GET, HEAD and POST,
	// which httpguard always allows: list them for rs/cors.
	simple := []string{http.MethodGet, http.MethodHead, http.MethodPost}
	many := make([]string, 0, 20)
	for i := range 20 {
		many = append(many, fmt.Sprintf("https://app%d.example.com:%d", i, 8000+i))
	}
	many = append(many, "https://app.example.com", "https://*.example.net:8443", "http://*.example.org")
	manyHeaders := []string{"content-type", "x-a", "x-b", "x-c", "x-d", "x-e", "x-f", "x-g", "x-h", "x-request-id"}
	return []diffPolicy{
		{
			name: "exact origins, credentials, private network",
			hg: cors.Options{
				AllowedOrigins:   []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:8080"},
				AllowedMethods:   []string{"PUT", "DELETE", "PATCH"},
				AllowedHeaders:   []string{"Content-Type", "X-Request-Id", "Authorization"},
				ExposedHeaders:   []string{"X-Request-Id", "Retry-After"},
				AllowCredentials: true, MaxAge: 600e9, AllowPrivateNetwork: true,
			},
			rs: rscors.Options{
				AllowedOrigins:   []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:8080"},
				AllowedMethods:   append(slices.Clone(simple), "PUT", "DELETE", "PATCH"),
				AllowedHeaders:   []string{"Content-Type", "X-Request-Id", "Authorization"},
				ExposedHeaders:   []string{"X-Request-Id", "Retry-After"},
				AllowCredentials: true, MaxAge: 600, AllowPrivateNetwork: true,
			},
		},
		{
			name: "subdomain pattern",
			hg: cors.Options{
				AllowedOrigins: []string{"https://*.example.com", "https://example.com"},
				AllowedMethods: []string{"PUT"},
				AllowedHeaders: []string{"X-A", "x-b"},
			},
			rs: rscors.Options{
				AllowedOrigins: []string{"https://*.example.com", "https://example.com"},
				AllowedMethods: append(slices.Clone(simple), "PUT"),
				AllowedHeaders: []string{"X-A", "x-b"},
			},
		},
		{
			name: "many origins and headers",
			hg: cors.Options{
				AllowedOrigins: many, AllowedMethods: []string{"DELETE"}, AllowedHeaders: manyHeaders,
				DisablePreflightCache: true,
			},
			rs: rscors.Options{
				AllowedOrigins: many, AllowedMethods: append(slices.Clone(simple), "DELETE"), AllowedHeaders: manyHeaders,
				MaxAge: -1,
			},
		},
		{
			name: "any origin",
			hg: cors.Options{
				AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"},
				ExposedHeaders: []string{"*"}, MaxAge: 60e9,
			},
			rs: rscors.Options{
				AllowedOrigins: []string{"*"}, AllowedMethods: append(slices.Clone(simple), "PUT"), AllowedHeaders: []string{"*"},
				ExposedHeaders: []string{"*"}, MaxAge: 60,
			},
		},
		{
			name: "any origin with credentials",
			hg: cors.Options{
				AllowedOrigins: []string{"*"}, AllowCredentials: true, DangerouslyAllowCredentialsWithAnyOrigin: true,
				AllowedHeaders: []string{"X-A"}, AllowPrivateNetwork: true,
			},
			rs: rscors.Options{
				AllowedOrigins: []string{"*"}, AllowCredentials: true, AllowedMethods: simple,
				AllowedHeaders: []string{"X-A"}, AllowPrivateNetwork: true,
			},
		},
		{
			// rs/cors consults AllowOriginFunc alone when it is set: it
			// gets the list too.
			name: "null and an origin function, passthrough",
			hg: cors.Options{
				AllowedOrigins: []string{"https://app.example.com"}, DangerouslyAllowNullOrigin: true,
				AllowOriginFunc: partnerOrigin, AllowedMethods: []string{"PUT"}, OptionsPassthrough: true,
				AllowedHeaders: []string{"Accept", "Content-Type", "X-Requested-With"}, // rs/cors's default
			},
			rs: rscors.Options{
				AllowOriginFunc: func(o string) bool {
					return o == "https://app.example.com" || o == "null" || partnerOrigin(o)
				},
				AllowedMethods: append(slices.Clone(simple), "PUT"), OptionsPassthrough: true,
			},
		},
	}
}

// partnerOrigin allows every origin whose value ends in ".partner.test".
func partnerOrigin(o string) bool { return strings.HasSuffix(o, ".partner.test") }

// diffReq is a generated request: each header as the lines it is sent in
// (nil: absent).
type diffReq struct {
	method string
	origin []string
	acrm   []string
	acrh   []string
	acrpn  []string
	vary   bool // an outer middleware has set Vary: Accept-Encoding
}

func (q diffReq) String() string {
	return fmt.Sprintf("%s Origin=%q ACRM=%q ACRH=%.80q ACRPN=%q outer Vary=%t", q.method, q.origin, q.acrm, q.acrh, q.acrpn, q.vary)
}

func (q diffReq) request() *http.Request {
	r := httptest.NewRequest(q.method, "https://api.example.org/items", nil)
	for k, v := range map[string][]string{"Origin": q.origin, "Access-Control-Request-Method": q.acrm,
		"Access-Control-Request-Headers": q.acrh, "Access-Control-Request-Private-Network": q.acrpn} {
		if v != nil {
			r.Header[k] = v
		}
	}
	return r
}

// diffOrigins are the Origin values sent: in the form browsers send,
// and odd ones (case, ports, trailing dots, IDNA, IPv6 literals, null,
// userinfo, paths, look-alikes).
var diffOrigins = []string{
	"https://app.example.com", "https://APP.example.com", "https://app.example.com:443", "https://app.example.com:8443",
	"https://app.example.com.", "https://app.example.com/", "https://app.example.com/x", "https://user@app.example.com",
	"https://app.example.com?", "https://app.example.com#", " https://app.example.com", "HTTPS://app.example.com",
	"http://app.example.com", "http://localhost:3000", "http://LOCALHOST:3000", "http://localhost:03000",
	"http://localhost:3000/", "http://[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]", "http://[::0001]:8080",
	"https://a.example.com", "https://a.b.example.com", "https://example.com", "https://example.com:443",
	"https://.example.com", "https://a..example.com", "https://evil.test/.example.com", "https://evil.test?.example.com",
	"https://evil.test#.example.com", "https://u:p@evil.test@a.example.com", "https://evilexample.com",
	"https://example.com.evil.net", "https://bücher.example.com", "https://xn--bcher-kva.example.com",
	"https://A.example.com", "https://a.example.com.", "https://a.example.com:443", "https://-.example.com",
	"https://a_b.example.com", "https://app3.example.com:8003", "https://app3.example.com:8004",
	"https://app19.example.com:8019", "https://APP19.example.com:8019", "null", "NULL", "", "*", "file://",
	"https://evil.test", "https://app.example.com\t",
	"https://a.example.net:8443", "https://a.example.net", "https://a.example.net:08443", "https://a.example.net:8443/",
	"https://A.example.net:8443", "https://example.net:8443", "https://a.b.example.net:8443", "https://a.example.net:84430",
	"https://a.partner.test", "https://A.partner.test", "https://evil.test/.partner.test", "https://a.partner.test:443",
	"http://a.example.org", "http://a.example.org:80", "https://a.example.org", "http://a.example.org.", "http://[::1]:8443",
}

var diffMethods = []string{"PUT", "put", "Put", "DELETE", "delete", "PATCH", "patch", "GET", "get", "HEAD",
	"POST", "OPTIONS", "options", "CONNECT", "", "PUT, DELETE", "*", "PUT "}

var diffNames = []string{"content-type", "x-request-id", "authorization", "x-a", "x-b", "x-c", "x-evil",
	"Content-Type", "X-A", "X-Request-Id", "accept", "x-h", "cookie"}

// genACRH returns Access-Control-Request-Headers lines: often in the form
// browsers send (lower case, sorted, unique, ", "-free commas), else with
// odd case, order, duplicates, spacing, empty elements, 1000 elements, or
// split over lines.
func genACRH(rnd *rand.Rand) []string {
	switch rnd.IntN(12) {
	case 0:
		return nil
	case 1:
		return []string{""}
	case 2:
		return []string{strings.Repeat("x-a,", 999) + "x-a"}
	case 3:
		return []string{strings.Repeat(",", 1000)}
	case 4:
		return []string{strings.Repeat(",", rnd.IntN(3)+15) + "x-a"}
	case 5:
		names := make([]string, 1000)
		for i := range names {
			names[i] = fmt.Sprintf("x-%d", i)
		}
		return []string{strings.Join(names, ",")}
	}
	n := rnd.IntN(4) + 1
	var names []string
	for range n {
		names = append(names, diffNames[rnd.IntN(len(diffNames))])
	}
	if rnd.IntN(2) == 0 {
		// The browser's form.
		for i := range names {
			names[i] = strings.ToLower(names[i])
		}
		sort.Strings(names)
		names = slices.Compact(names)
		return []string{strings.Join(names, ",")}
	}
	seps := []string{",", ", ", " ,", " , ", ",,", ",\t", "  ,", ", ,"}
	var b strings.Builder
	if rnd.IntN(4) == 0 {
		b.WriteString(" ")
	}
	for i, s := range names {
		if i > 0 {
			b.WriteString(seps[rnd.IntN(len(seps))])
		}
		b.WriteString(s)
	}
	if rnd.IntN(4) == 0 {
		b.WriteString(seps[rnd.IntN(len(seps))])
	}
	v := b.String()
	if rnd.IntN(4) == 0 {
		if i := strings.IndexByte(v, ','); i >= 0 {
			return []string{v[:i], v[i+1:]}
		}
	}
	return []string{v}
}

func genDiffReq(rnd *rand.Rand) diffReq {
	var q diffReq
	q.method = []string{"GET", "POST", "PUT", "OPTIONS", "OPTIONS", "OPTIONS"}[rnd.IntN(6)]
	q.vary = rnd.IntN(4) == 0
	pick := func(pool []string) string {
		if rnd.IntN(3) == 0 {
			// Mostly origins that some policy allows.
			pool = []string{"https://app.example.com", "http://localhost:3000", "https://a.example.com", "http://[::1]:8080"}
		}
		return pool[rnd.IntN(len(pool))]
	}
	switch k := rnd.IntN(12); {
	case k == 0:
	case k == 1:
		q.origin = []string{pick(diffOrigins), pick(diffOrigins)}
	default:
		q.origin = []string{pick(diffOrigins)}
	}
	pickM := func() string { return diffMethods[rnd.IntN(len(diffMethods))] }
	if q.method == "OPTIONS" {
		switch k := rnd.IntN(12); {
		case k == 0:
		case k == 1:
			q.acrm = []string{pickM(), pickM()}
		default:
			q.acrm = []string{pickM()}
		}
		q.acrh = genACRH(rnd)
		switch rnd.IntN(6) {
		case 0:
			q.acrpn = []string{"true"}
		case 1:
			q.acrpn = []string{[]string{"false", "TRUE", "", "true "}[rnd.IntN(4)]}
		case 2:
			q.acrpn = []string{"true", "true"}
		}
	}
	return q
}

// diffVerdict is what a browser concludes from a response, and its Vary.
type diffVerdict struct {
	preflight bool // answered as a preflight (the next handler not reached)
	ok        bool // the CORS check (and, for a preflight, the method, header and private network checks) passes
	acao      string
	creds     bool
	maxAge    string
	expose    string
	vary      string
}

func (v diffVerdict) String() string {
	return fmt.Sprintf("{preflight=%t ok=%t acao=%q creds=%t max-age=%q expose=%q vary=%q}",
		v.preflight, v.ok, v.acao, v.creds, v.maxAge, v.expose, v.vary)
}

// listOf splits comma-separated header lines into trimmed, non-empty
// elements.
func listOf(lines []string) []string {
	var out []string
	for _, l := range lines {
		for e := range strings.SplitSeq(l, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// browserVerdict applies the Fetch standard's checks, as a browser sending
// q with credentials mode "include" when creds is set would.
func browserVerdict(q diffReq, h http.Header, reached, creds bool) diffVerdict {
	v := diffVerdict{preflight: !reached, acao: strings.Join(h["Access-Control-Allow-Origin"], "|"),
		creds: h.Get("Access-Control-Allow-Credentials") == "true", maxAge: h.Get("Access-Control-Max-Age")}
	ex := strings.Split(strings.ToLower(strings.Join(h["Access-Control-Expose-Headers"], ",")), ",")
	for i := range ex {
		ex[i] = strings.TrimSpace(ex[i])
	}
	sort.Strings(ex)
	v.expose = strings.Join(ex, ",")
	var vary []string
	for _, e := range listOf(h["Vary"]) {
		vary = append(vary, strings.ToLower(e))
	}
	sort.Strings(vary)
	v.vary = strings.Join(slices.Compact(vary), ",")

	// CORS check: one Access-Control-Allow-Origin, "*" without
	// credentials or the request's origin byte for byte.
	origin := ""
	if len(q.origin) > 0 {
		origin = q.origin[0]
	}
	acao := h["Access-Control-Allow-Origin"]
	v.ok = len(acao) == 1 && ((acao[0] == "*" && !creds) || acao[0] == origin) &&
		(!creds || h.Get("Access-Control-Allow-Credentials") == "true")
	if !v.ok || reached || len(q.acrm) == 0 {
		return v
	}
	// Preflight: the method and every requested header granted.
	method := q.acrm[0]
	methods := listOf(h["Access-Control-Allow-Methods"])
	if method != "GET" && method != "HEAD" && method != "POST" &&
		!slices.Contains(methods, method) && !(slices.Contains(methods, "*") && !creds) {
		v.ok = false
	}
	granted := map[string]bool{}
	for _, n := range listOf(h["Access-Control-Allow-Headers"]) {
		granted[strings.ToLower(n)] = true
	}
	for _, n := range listOf(q.acrh) {
		n = strings.ToLower(n)
		if !granted[n] && !(granted["*"] && !creds && n != "authorization") {
			v.ok = false
		}
	}
	if len(q.acrpn) > 0 && q.acrpn[0] == "true" && h.Get("Access-Control-Allow-Private-Network") != "true" {
		v.ok = false
	}
	return v
}

func serveDiff(h http.Handler, q diffReq, creds bool) diffVerdict {
	rec := httptest.NewRecorder()
	if q.vary {
		rec.Header()["Vary"] = []string{"Accept-Encoding"}
	}
	h.ServeHTTP(rec, q.request())
	return browserVerdict(q, rec.Header(), rec.Code == http.StatusTeapot, creds)
}

var teapot = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })

// canonicalOrigin reports whether s is an origin as browsers serialize it:
// lower case, no default port, no userinfo, path, query or fragment, an
// ASCII host without empty labels or a trailing dot.
func canonicalOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Opaque != "" || u.RawPath != "" ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(s, "#?") {
		return false
	}
	if s != strings.ToLower(s) || u.Scheme+"://"+u.Host != s {
		return false
	}
	host, port := u.Hostname(), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") ||
		strings.HasPrefix(port, "0") || (port == "" && strings.HasSuffix(u.Host, ":")) {
		return false
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		return err == nil && a.Is6() && !a.Is4In6() && a.String() == host
	}
	for l := range strings.SplitSeq(host, ".") {
		if l == "" {
			return false
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// corsDiffReason classifies a difference between httpguard's verdict hg
// and rs/cors's rs on q under p. It returns "" for a difference it cannot
// explain.
func corsDiffReason(p diffPolicy, q diffReq, hg, rs diffVerdict, hgErr error) string {
	creds := p.hg.AllowCredentials
	origin := ""
	if len(q.origin) > 0 {
		origin = q.origin[0]
	}
	isPreflight := q.method == "OPTIONS" && len(q.origin) > 0 && len(q.acrm) > 0
	switch {
	case p.hg.AllowedOrigins[0] == "*" && !creds && hg.acao == "*" && rs.acao == "" && origin == "":
		// Documented (MIGRATING.md "Actual request with AllowedOrigins
		// *": "Access-Control-Allow-Origin: *", no Vary): the same
		// answer for every request, an Origin or not. An empty Origin
		// line, which no browser sends, is a line all the same, so an
		// OPTIONS with it and Access-Control-Request-Method is a
		// preflight, granted "*"; rs/cors reads "" as no Origin.
		return "literal * on every response"
	case q.method == "OPTIONS" && len(q.origin) == 0 && q.acrm != nil && !hg.preflight && rs.preflight:
		// Documented (MIGRATING.md, rs/cors: "OPTIONS with
		// Access-Control-Request-Method, no Origin" is not a preflight).
		return "OPTIONS without Origin"
	case len(q.origin) > 1:
		// Documented (cors.ErrNoOrigin: several Origin lines, which no
		// browser sends, are no origin). rs/cors reads the first and, when
		// it grants, echoes every line: two Access-Control-Allow-Origin
		// values, which fail the browser's CORS check.
		return "several Origin lines"
	case isPreflight && q.acrm[0] == "":
		// rs/cors takes an empty Access-Control-Request-Method for an
		// actual request; httpguard takes the header's presence, as its
		// doc says ("A preflight is an OPTIONS request with Origin and
		// Access-Control-Request-Method"), and refuses the empty method.
		return "empty Access-Control-Request-Method"
	case p.hg.AllowCredentials && slices.Equal(p.hg.AllowedOrigins, []string{"*"}) && rs.acao == "*":
		// rs/cors defect: "*" with credentials is answered
		// "Access-Control-Allow-Origin: *" with
		// "Access-Control-Allow-Credentials: true", which the Fetch
		// standard's CORS check fails for a request whose credentials mode
		// is "include" (https://fetch.spec.whatwg.org/#cors-check, step
		// 3). httpguard, with DangerouslyAllowCredentialsWithAnyOrigin,
		// echoes the origin.
		return "rs/cors: * with credentials"
	case origin != "" && origin != "null" && !canonicalOrigin(origin) && rs.ok && !hg.ok && p.hg.AllowedOrigins[0] != "*":
		if canonicalOrigin(strings.ToLower(origin)) {
			// Documented (MIGRATING.md, rs/cors: "Origin not in the form
			// browsers send"; cors doc "Request Origin values are matched
			// exactly against the canonical form browsers send").
			return "origin in upper case"
		}
		// rs/cors defect: its pattern is a prefix and a suffix, so it
		// grants values that are no origin at all (a path, a query,
		// userinfo, an empty label, a non-ASCII host): the Fetch standard's
		// Origin is an origin's serialization
		// (https://fetch.spec.whatwg.org/#origin-header), which has none
		// of these. It also shows them to AllowOriginFunc, which
		// httpguard never does (documented: Options.AllowOriginFunc).
		return "rs/cors: pattern or function matches a value that is no origin"
	}
	if isPreflight {
		switch {
		case len(q.acrm) > 1 && errors.Is(hgErr, cors.ErrMethodNotAllowed):
			// rs/cors reads the first line and echoes every line into
			// Access-Control-Allow-Methods; httpguard refuses what no
			// browser sends (one method, https://fetch.spec.whatwg.org/#cors-preflight-fetch).
			return "several Access-Control-Request-Method lines"
		case q.acrm[0] == "OPTIONS" && rs.ok && errors.Is(hgErr, cors.ErrMethodNotAllowed):
			// rs/cors defect: it grants a preflight for OPTIONS whatever
			// AllowedMethods says; OPTIONS is no CORS-safelisted method
			// (https://fetch.spec.whatwg.org/#cors-safelisted-method), so
			// it is granted only when listed.
			return "rs/cors: OPTIONS always allowed"
		case len(q.acrpn) > 0 && q.acrpn[0] == "true" && !p.hg.AllowPrivateNetwork && errors.Is(hgErr, cors.ErrPrivateNetworkNotAllowed):
			// Documented (MIGRATING.md, AllowPrivateNetwork row).
			return "private network without AllowPrivateNetwork"
		case len(q.acrpn) > 1 && q.acrpn[0] == "true" && p.hg.AllowPrivateNetwork && !hg.ok && rs.ok:
			// rs/cors reads the first of several lines; httpguard reads a
			// single line "true" as the request, so it grants without
			// Access-Control-Allow-Private-Network, which Chromium then
			// refuses; no browser sends two.
			return "several Access-Control-Request-Private-Network lines"
		case errors.Is(hgErr, cors.ErrHeadersNotAllowed) && rs.ok && slices.Equal(p.hg.AllowedHeaders, []string{"*"}) &&
			(len(strings.Join(q.acrh, ",")) > 1024 || strings.Count(strings.Join(q.acrh, ","), ",") >= 80):
			// Documented (Options.AllowedHeaders: with "*" a list over
			// 1 KiB or 80 elements is refused); rs/cors echoes any list.
			return "AllowedHeaders * bounds"
		case hg.ok && !rs.ok && !browserACRH(q.acrh):
			// Documented (Options.AllowedHeaders: matched
			// case-insensitively, in any order, on several lines); rs/cors
			// takes only the browser's form, lower case, sorted, unique
			// (https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names).
			return "Access-Control-Request-Headers not in the browser's form"
		}
	}
	if hg.ok == rs.ok && hg.acao == rs.acao && hg.creds == rs.creds && hg.preflight == rs.preflight {
		switch {
		case otherVary(hg.vary) != otherVary(rs.vary):
			return ""
		case hg.vary != rs.vary && q.method == "OPTIONS" && (!isPreflight || !p.hg.AllowPrivateNetwork):
			// Documented (MIGRATING.md "Vary on a preflight"; cors doc:
			// responses to OPTIONS vary on all four request headers).
			return "Vary on OPTIONS"
		case hg.vary != rs.vary && slices.Equal(p.hg.AllowedOrigins, []string{"*"}) && !creds:
			// Documented (MIGRATING.md "Actual request with AllowedOrigins *").
			return "no Vary with *"
		}
	}
	if isPreflight && p.hg.DisablePreflightCache && hg.maxAge == "0" && rs.maxAge == "" {
		x := hg
		x.maxAge = ""
		if x == rs {
			// Documented (MIGRATING.md, go-chi/cors MaxAge row: nothing is
			// sent for 0 or less).
			return "go-chi/cors: no Access-Control-Max-Age: 0"
		}
	}
	if !isPreflight && q.method == "PUT" && hg.ok && !rs.ok {
		// Documented (MIGRATING.md, AllowedMethods row: rs/cors leaves the
		// CORS headers off an actual request whose method is not listed).
		return "actual request with a method not listed"
	}
	return ""
}

// otherVary returns the names of a Vary value that no CORS implementation
// sets, which both must keep.
func otherVary(v string) string {
	var out []string
	for n := range strings.SplitSeq(v, ",") {
		if n != "origin" && !strings.HasPrefix(n, "access-control-request-") {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// browserACRH reports whether lines are one Access-Control-Request-Headers
// line as browsers send it: lower case names, sorted, unique, joined by
// commas alone.
func browserACRH(lines []string) bool {
	if len(lines) != 1 {
		return false
	}
	if lines[0] == "" {
		return true
	}
	names := strings.Split(lines[0], ",")
	for i, n := range names {
		if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t") || (i > 0 && names[i-1] >= n) {
			return false
		}
	}
	return true
}

func TestCORSDifferentialRSCors(t *testing.T) {
	const n = 4000
	for _, p := range diffPolicies() {
		mw := cors.MustNew(p.hg)
		hg := mw.Handler(teapot)
		rs := rscors.New(p.rs).Handler(teapot)
		rnd := rand.New(rand.NewPCG(1, 2))
		counts := map[string]int{}
		for range n {
			q := genDiffReq(rnd)
			a, b := serveDiff(hg, q, p.hg.AllowCredentials), serveDiff(rs, q, p.hg.AllowCredentials)
			if q.vary && !strings.Contains(a.vary, "accept-encoding") {
				t.Errorf("%s: %s: Vary %q lost the outer middleware's Accept-Encoding", p.name, q, a.vary)
			}
			literal := p.hg.AllowedOrigins != nil && p.hg.AllowedOrigins[0] == "*" && !p.hg.AllowCredentials
			if err := mw.Check(q.request()); !literal && (err == nil) != (a.acao != "") {
				t.Errorf("%s: %s: Check = %v, but Access-Control-Allow-Origin = %q", p.name, q, err, a.acao)
			}
			if !a.ok && !b.ok {
				// The browser refuses both: only what a cache keys on is
				// left to compare.
				a, b = diffVerdict{preflight: a.preflight, vary: a.vary}, diffVerdict{preflight: b.preflight, vary: b.vary}
			}
			if a == b {
				continue
			}
			if reason := tallyDiff(t, counts, mw, p, q, a, b, "rs/cors  "); reason != "" && counts[reason] == 1 {
				t.Logf("%s: %s: %s:\nhttpguard %s\nrs/cors   %s", p.name, reason, q, a, b)
			}
		}
		t.Logf("%s: differences: %v", p.name, counts)
	}
}

// tallyDiff counts the difference between httpguard's verdict a and the
// peer's b on q under its reason, and returns the reason; a difference
// without one fails the test (the first 15 are reported).
func tallyDiff(t *testing.T, counts map[string]int, mw *cors.Middleware, p diffPolicy, q diffReq, a, b diffVerdict, peer string) string {
	t.Helper()
	hgErr := mw.Check(q.request())
	reason := corsDiffReason(p, q, a, b, hgErr)
	if counts[reason]++; reason == "" && counts[reason] <= 15 {
		t.Errorf("%s: %s:\nhttpguard %s (%v)\n%s %s", p.name, q, a, hgErr, peer, b)
	}
	return reason
}

// chiOf is p for go-chi/cors, whose options are those of rs/cors.
func chiOf(p diffPolicy) http.Handler {
	o := chicors.Options{
		AllowedOrigins: p.rs.AllowedOrigins, AllowedMethods: p.rs.AllowedMethods, AllowedHeaders: p.rs.AllowedHeaders,
		ExposedHeaders: p.rs.ExposedHeaders, AllowCredentials: p.rs.AllowCredentials, MaxAge: p.rs.MaxAge,
		OptionsPassthrough: p.rs.OptionsPassthrough,
	}
	if f := p.rs.AllowOriginFunc; f != nil {
		o.AllowOriginFunc = func(_ *http.Request, origin string) bool { return f(origin) }
	}
	return chicors.Handler(o)(teapot)
}

// TestCORSDifferentialChiCors compares the same requests with go-chi/cors,
// which decides as rs/cors does (it is an older fork of it), but for
// preflights only those it reads as browsers send them: the same
// differences, classified alike.
func TestCORSDifferentialChiCors(t *testing.T) {
	const n = 4000
	for _, p := range diffPolicies() {
		mw := cors.MustNew(p.hg)
		hg := mw.Handler(teapot)
		chi := chiOf(p)
		rnd := rand.New(rand.NewPCG(3, 4))
		counts := map[string]int{}
		for range n {
			q := genDiffReq(rnd)
			if q.method == "OPTIONS" && (q.acrpn != nil || len(q.acrm) != 1 || q.acrm[0] != strings.ToUpper(q.acrm[0]) || !browserACRH(q.acrh)) {
				// go-chi/cors knows no Private Network Access, upper-cases
				// the method it grants (pinned in
				// TestCORSPeerDefectsPinned) and reads only the first
				// Access-Control-Request-Headers line, with no bound.
				continue
			}
			a, b := serveDiff(hg, q, p.hg.AllowCredentials), serveDiff(chi, q, p.hg.AllowCredentials)
			if !a.ok && !b.ok {
				a, b = diffVerdict{preflight: a.preflight, vary: a.vary}, diffVerdict{preflight: b.preflight, vary: b.vary}
			}
			if q.method == "OPTIONS" {
				// Without Private Network Access, go-chi/cors never
				// varies on Access-Control-Request-Private-Network.
				a.vary, b.vary = otherVary(a.vary), otherVary(b.vary)
			}
			if a == b {
				continue
			}
			tallyDiff(t, counts, mw, p, q, a, b, "go-chi   ")
		}
		t.Logf("%s: differences: %v", p.name, counts)
	}
}

// TestCORSPeerDefectsPinned pins the defects of rs/cors (and go-chi/cors,
// where it shares them) that the differential tests classify, each on
// one request: what the peer answers, and that httpguard does not.
func TestCORSPeerDefectsPinned(t *testing.T) {
	pattern := diffPolicies()[1]
	exact := diffPolicies()[0]
	anyCreds := diffPolicies()[4]
	for _, tc := range []struct {
		name string
		p    diffPolicy
		q    diffReq
		// header and the values each implementation sends ("" for none)
		header      string
		rs, chi, hg []string
	}{
		{
			// The Fetch standard's CORS check fails "*" for a request whose
			// credentials mode is "include"
			// (https://fetch.spec.whatwg.org/#cors-check): no credentialed
			// request can use the grant.
			name: `"*" with credentials answers "*" and true`, p: anyCreds,
			q:      diffReq{method: "GET", origin: []string{"https://app.example.com"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"*"}, chi: []string{"*"}, hg: []string{"https://app.example.com"},
		},
		{
			// An Origin is an origin's serialization, scheme "://" host
			// [":" port] (https://fetch.spec.whatwg.org/#origin-header):
			// userinfo, a path, a query, a fragment or an empty label are
			// never in one. The pattern's prefix and suffix match them.
			name: "pattern matches userinfo", p: pattern,
			q:      diffReq{method: "GET", origin: []string{"https://u:p@evil.test@a.example.com"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"https://u:p@evil.test@a.example.com"}, chi: []string{"https://u:p@evil.test@a.example.com"},
		},
		{
			name: "pattern matches a path", p: pattern,
			q:      diffReq{method: "GET", origin: []string{"https://evil.test/.example.com"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"https://evil.test/.example.com"}, chi: []string{"https://evil.test/.example.com"},
		},
		{
			name: "pattern matches an empty first label", p: pattern,
			q:      diffReq{method: "GET", origin: []string{"https://.example.com"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"https://.example.com"}, chi: []string{"https://.example.com"},
		},
		{
			// Browsers send an internationalized host in punycode
			// (https://url.spec.whatwg.org/#host-serializing).
			name: "pattern matches a non-ASCII host", p: pattern,
			q:      diffReq{method: "GET", origin: []string{"https://bücher.example.com"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"https://bücher.example.com"}, chi: []string{"https://bücher.example.com"},
		},
		{
			// Documented (cors.Options.AllowOriginFunc, MIGRATING.md): the
			// function is shown only values in the form browsers send, so
			// a suffix check does not grant a path.
			name: "the origin function is shown a path", p: diffPolicies()[5],
			q:      diffReq{method: "GET", origin: []string{"https://evil.test/.partner.test"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"https://evil.test/.partner.test"}, chi: []string{"https://evil.test/.partner.test"},
		},
		{
			// OPTIONS is not a CORS-safelisted method
			// (https://fetch.spec.whatwg.org/#cors-safelisted-method): a
			// preflight for it is granted only when it is allowed.
			name: "a preflight for OPTIONS is granted whatever AllowedMethods says", p: exact,
			q:      diffReq{method: "OPTIONS", origin: []string{"https://app.example.com"}, acrm: []string{"OPTIONS"}},
			header: "Access-Control-Allow-Methods",
			rs:     []string{"OPTIONS"}, chi: []string{"OPTIONS"},
		},
		{
			// The CORS check requires exactly one Access-Control-Allow-Origin
			// value equal to the request's origin
			// (https://fetch.spec.whatwg.org/#cors-check); a request has
			// one Origin (https://fetch.spec.whatwg.org/#origin-header).
			name: "several Origin lines: rs/cors echoes them all", p: exact,
			q:      diffReq{method: "GET", origin: []string{"https://app.example.com", "https://evil.test"}},
			header: "Access-Control-Allow-Origin",
			rs:     []string{"https://app.example.com", "https://evil.test"}, chi: []string{"https://app.example.com"},
		},
		{
			// A preflight carries the request's method in one
			// Access-Control-Request-Method
			// (https://fetch.spec.whatwg.org/#cors-preflight-fetch).
			name: "several Access-Control-Request-Method lines: rs/cors echoes them all", p: exact,
			q:      diffReq{method: "OPTIONS", origin: []string{"https://app.example.com"}, acrm: []string{"PUT", "CONNECT"}},
			header: "Access-Control-Allow-Methods",
			rs:     []string{"PUT", "CONNECT"}, chi: []string{"PUT"},
		},
		{
			// Browsers compare methods other than the six they normalize
			// byte for byte
			// (https://fetch.spec.whatwg.org/#cors-preflight-fetch, step
			// 7.5): a page's "patch" is sent as "patch", and "PATCH" does
			// not grant it. go-chi/cors upper-cases the request's method and
			// grants a preflight the browser then fails.
			name: `"patch" is granted as "PATCH" by go-chi/cors`, p: exact,
			q:      diffReq{method: "OPTIONS", origin: []string{"https://app.example.com"}, acrm: []string{"patch"}},
			header: "Access-Control-Allow-Methods",
			rs:     nil, chi: []string{"PATCH"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, impl := range []struct {
				name string
				h    http.Handler
				want []string
			}{
				{"rs/cors", rscors.New(tc.p.rs).Handler(teapot), tc.rs},
				{"go-chi/cors", chiOf(tc.p), tc.chi},
				{"httpguard", cors.MustNew(tc.p.hg).Handler(teapot), tc.hg},
			} {
				rec := httptest.NewRecorder()
				impl.h.ServeHTTP(rec, tc.q.request())
				if got := rec.Header()[tc.header]; !slices.Equal(got, impl.want) {
					t.Errorf("%s: %s = %q, want %q", impl.name, tc.header, got, impl.want)
				}
			}
		})
	}
}
