package bench

// The tests of this file hold MIGRATING.md to the truth. Each section of
// the guide has a before/after code pair, an option table and a table of
// differences:
//
//   - the code pairs are the bodies of the "guide:" functions below, copied
//     verbatim (TestMigratingGuideCode compares them), and a case that
//     brings no configuration of its own runs exactly those functions;
//   - every row of every table is checked by at least one case that names
//     it (TestMigratingGuideRows compares the first cells of the tables
//     with the rows the cases name), and each case sends the same request
//     to the peer and to httpguard and asserts what the row says of each:
//     the same decision where the guide maps an option, the documented
//     difference where it states one.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log"
	"log/slog"
	"maps"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/casbin/casbin/v2"
	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	chicors "github.com/go-chi/cors"
	"github.com/go-chi/httprate"
	"github.com/go-chi/jwtauth/v5"
	playground "github.com/go-playground/validator/v10"
	gojwt "github.com/golang-jwt/jwt/v5"
	gorillacsrf "github.com/gorilla/csrf"
	"github.com/gorilla/sessions"
	"github.com/justinas/nosurf"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/lestrrat-go/jwx/v2/jwt"
	rscors "github.com/rs/cors"
	"github.com/unrolled/secure"
	"golang.org/x/time/rate"

	"github.com/httpguard/httpguard/auth"
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

const guideFile = "../MIGRATING.md"

// migCase is one check of the guide: rows are the first cells (without
// backquotes) of the rows of the table under heading that it checks.
type migCase struct {
	heading string
	rows    []string
	name    string
	run     func(t *testing.T)
}

// migrationCases returns every case of every section.
func migrationCases() []migCase {
	var all []migCase
	for _, f := range []func() []migCase{
		rsCORSCases, chiCORSCases, unrolledCases, gorillaCSRFCases, nosurfCases,
		scsCases, gorillaSessionsCases, auth0Cases, jwtauthCases, httprateCases, casbinCases, validatorCases, chiCases,
		echoCORSCases, echoSecureCases, echoCSRFCases, echoRateCases, echoJWTCases,
	} {
		all = append(all, f()...)
	}
	return all
}

// TestMigrating runs every case of the guide.
func TestMigrating(t *testing.T) {
	t.Parallel()
	for _, c := range migrationCases() {
		t.Run(c.heading+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

// exchange is what one side answered.
type exchange = httptest.ResponseRecorder

// expect checks one side's answer.
type expect func(t *testing.T, who string, rec *exchange)

// httpCase sends the request req builds to the peer and to httpguard,
// each configured by its builder, and checks each answer.
type httpCase struct {
	name     string
	rows     []string
	req      func() *http.Request
	peer, hg []expect
	// both are expectations of each side, checked before peer and hg.
	both []expect
	// peerH and hgH, when set, replace the section's handlers.
	peerH, hgH func(t *testing.T) http.Handler
}

// section turns httpCases into migCases whose handlers are built by peer
// and hg unless a case sets its own.
func section(heading string, peer, hg func(t *testing.T) http.Handler, cases []httpCase) []migCase {
	out := make([]migCase, 0, len(cases))
	for _, c := range cases {
		ph, hh := peer, hg
		if c.peerH != nil {
			ph = c.peerH
		}
		if c.hgH != nil {
			hh = c.hgH
		}
		out = append(out, migCase{heading: heading, rows: c.rows, name: c.name, run: func(t *testing.T) {
			check(t, "peer", serve(ph(t), c.req()), slices.Concat(c.both, c.peer))
			check(t, "httpguard", serve(hh(t), c.req()), slices.Concat(c.both, c.hg))
		}})
	}
	return out
}

// plain turns a check that needs no request into a migCase.
func plain(heading, name string, rows []string, run func(t *testing.T)) migCase {
	return migCase{heading: heading, rows: rows, name: name, run: run}
}

func serve(h http.Handler, r *http.Request) *exchange {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func check(t *testing.T, who string, rec *exchange, want []expect) {
	t.Helper()
	for _, e := range want {
		e(t, who, rec)
	}
}

// newReq builds a request; kv are header names and values.
func newReq(method, target string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

// get returns a request builder for a GET of target with the header
// pairs kv.
func get(target string, kv ...string) func() *http.Request {
	return func() *http.Request { return newReq(http.MethodGet, target, kv...) }
}

// next is the application behind every middleware: it marks that it ran.
var next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Reached", "yes")
	_, _ = io.WriteString(w, "ok")
})

func status(code int) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		if rec.Code != code {
			t.Errorf("%s: status %d, want %d (body %q)", who, rec.Code, code, rec.Body.String())
		}
	}
}

// header expects the header's values joined with ", " to be v; "" means
// absent.
func header(k, v string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		if got := strings.Join(rec.Result().Header.Values(k), ", "); got != v {
			t.Errorf("%s: %s = %q, want %q", who, k, got, v)
		}
	}
}

// headerHas expects the header to contain sub.
func headerHas(k, sub string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		if got := strings.Join(rec.Result().Header.Values(k), ", "); !strings.Contains(got, sub) {
			t.Errorf("%s: %s = %q, want it to contain %q", who, k, got, sub)
		}
	}
}

// reached expects the application to have run, or not.
func reached(yes bool) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		if got := rec.Header().Get("X-Reached") == "yes"; got != yes {
			t.Errorf("%s: application reached = %v, want %v (status %d)", who, got, yes, rec.Code)
		}
	}
}

// body expects the body to be s exactly.
func body(s string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		if got := rec.Body.String(); got != s {
			t.Errorf("%s: body %q, want %q", who, got, s)
		}
	}
}

// problemDoc expects the generic RFC 9457 problem document of httpguard's
// default rejections: its media type, no-store, nosniff, and a body of
// type about:blank whose title is the status text and nothing else.
func problemDoc(code int) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		status(code)(t, who, rec)
		header("Content-Type", "application/problem+json")(t, who, rec)
		header("Cache-Control", "no-store")(t, who, rec)
		header("X-Content-Type-Options", "nosniff")(t, who, rec)
		var p map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Errorf("%s: body %q is not JSON: %v", who, rec.Body.String(), err)
			return
		}
		want := map[string]any{"type": "about:blank", "title": http.StatusText(code), "status": float64(code)}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("%s: problem %v, want %v", who, p, want)
		}
	}
}

// textError expects net/http's http.Error response: text/plain, the body
// msg and a newline.
func textError(code int, msg string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		status(code)(t, who, rec)
		header("Content-Type", "text/plain; charset=utf-8")(t, who, rec)
		body(msg+"\n")(t, who, rec)
	}
}

// noField fails unless the struct type of v has none of the fields.
func noField(t *testing.T, v any, names ...string) {
	t.Helper()
	typ := reflect.TypeOf(v)
	for _, n := range names {
		if _, ok := typ.FieldByName(n); ok {
			t.Errorf("%v has a field %s, which the guide says has no equivalent", typ, n)
		}
	}
}

// noMethod fails unless the type of v has none of the methods.
func noMethod(t *testing.T, v any, names ...string) {
	t.Helper()
	typ := reflect.TypeOf(v)
	for _, n := range names {
		if _, ok := typ.MethodByName(n); ok {
			t.Errorf("%v has a method %s, which the guide says has no equivalent", typ, n)
		}
	}
}

// must returns v, or panics with err: for configurations a test expects
// to be valid.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// refuses expects the constructor newFn to refuse o with an error that is
// want.
func refuses[O, M any](t *testing.T, newFn func(O) (M, error), o O, want error) {
	t.Helper()
	if _, err := newFn(o); !errors.Is(err, want) {
		t.Errorf("New(%+v): %v, want %v", o, err, want)
	}
}

// newRefuses is httpguard's side of a case whose configuration o the
// constructor newFn refuses: it expects the error want, as refuses does,
// and serves next, of which the case expects nothing.
func newRefuses[O, M any](newFn func(O) (M, error), o O, want error) func(*testing.T) http.Handler {
	return func(t *testing.T) http.Handler {
		t.Helper()
		refuses(t, newFn, o, want)
		return next
	}
}

// rejectWith is an OnReject that writes only the status code for the
// rejections whose error is want, and for every rejection when want is
// nil.
func rejectWith(code int, want error) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if want == nil || errors.Is(err, want) {
			w.WriteHeader(code)
		}
	}
}

// eachSide runs f with the peer's handler, then with httpguard's.
func eachSide(peer, hg http.Handler, f func(who string, h http.Handler)) {
	f("peer", peer)
	f("httpguard", hg)
}

// trustedProxy is a resolver that trusts the forwarding headers of the
// proxies in 10.0.0.0/8.
func trustedProxy() *clientip.Resolver {
	return must(clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}))
}

// --- the guide's code and tables ----------------------------------------

// TestMigratingGuideCode checks that every code block of the guide is the
// body of a "guide:" function of this file (without its closing return),
// and that every such function is shown in the guide, so the code users
// copy is the code tested.
func TestMigratingGuideCode(t *testing.T) {
	t.Parallel()
	doccheck.Match(t, "the guide", doccheck.GoBlocks(t, guideFile), doccheck.FuncBodies(t, "migrate_test.go", "guide: "))
}

// guideRows returns, for each heading of the guide, the first cells of
// the rows of its tables, without backquotes.
func guideRows(t *testing.T) map[string][]string {
	t.Helper()
	src, err := os.ReadFile(guideFile)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	heading := ""
	header := false // the next table line is a header row
	for line := range strings.SplitSeq(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "## "), strings.HasPrefix(line, "### "):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
			header = true
		case strings.HasPrefix(line, "|"):
			cells := strings.Split(line, "|")
			first := strings.TrimSpace(strings.ReplaceAll(cells[1], "`", ""))
			switch {
			case header:
				header = false
			case strings.Trim(first, "-: ") == "":
			default:
				rows[heading] = append(rows[heading], first)
			}
		default:
			header = true
		}
	}
	return rows
}

// TestMigratingGuideRows checks that every row of every table of the
// guide is checked by a case, and that every case checks rows the guide
// has.
func TestMigratingGuideRows(t *testing.T) {
	t.Parallel()
	rows := guideRows(t)
	covered := map[string]map[string]bool{}
	for _, c := range migrationCases() {
		if len(c.rows) == 0 {
			t.Errorf("%s/%s checks no row", c.heading, c.name)
		}
		if covered[c.heading] == nil {
			covered[c.heading] = map[string]bool{}
		}
		for _, r := range c.rows {
			covered[c.heading][r] = true
			if !slices.Contains(rows[c.heading], r) {
				t.Errorf("%s/%s checks %q, which is no row under the guide's heading %q", c.heading, c.name, r, c.heading)
			}
		}
	}
	for heading := range covered {
		if len(rows[heading]) == 0 {
			t.Errorf("the guide has no table under the heading %q", heading)
		}
	}
	for heading, rs := range rows {
		for _, r := range rs {
			if !covered[heading][r] {
				t.Errorf("no case checks the row %q under %q", r, heading)
			}
		}
	}
}

// --- github.com/rs/cors ---------------------------------------------------

const rsCORSHeading = "github.com/rs/cors"

// guide: github.com/rs/cors, before
func guideRSCORSBefore(mux http.Handler) http.Handler {
	c := rscors.New(rscors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com"},
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           600,
	})
	handler := c.Handler(mux)
	return handler
}

// guide: github.com/rs/cors, after
func guideRSCORSAfter(mux http.Handler) http.Handler {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com"},
		AllowedMethods:   []string{http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := c.Handler(mux)
	return handler
}

const (
	apiURL    = "https://api.example.org/items"
	appOrigin = "https://app.example.com"
)

// preflight builds a preflight from origin for method, with the request
// headers acrh ("" for none), and further header pairs.
func preflight(origin, method, acrh string, kv ...string) func() *http.Request {
	return func() *http.Request {
		r := newReq(http.MethodOptions, apiURL, kv...)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		r.Header.Set("Access-Control-Request-Method", method)
		if acrh != "" {
			r.Header.Set("Access-Control-Request-Headers", acrh)
		}
		return r
	}
}

// actual builds a non-preflight request from origin.
func actual(method, origin string) func() *http.Request {
	return func() *http.Request { return newReq(method, apiURL, "Origin", origin) }
}

// granted expects a CORS grant to origin with credentials.
func granted(origin string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		header("Access-Control-Allow-Origin", origin)(t, who, rec)
		header("Access-Control-Allow-Credentials", "true")(t, who, rec)
	}
}

// notGranted expects no CORS response header at all.
func notGranted() expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		for k := range rec.Result().Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: %s = %q on a refusal", who, k, rec.Result().Header.Values(k))
			}
		}
	}
}

// withNext adapts a middleware constructor to a case's handler.
func withNext(f func(http.Handler) http.Handler) func(t *testing.T) http.Handler {
	return func(*testing.T) http.Handler { return f(next) }
}

// hgCORS serves next behind cors.New(o), which must accept o.
func hgCORS(o cors.Options) func(*testing.T) http.Handler {
	return func(*testing.T) http.Handler { return must(cors.New(o)).Handler(next) }
}

// The Vary of a preflight answer: from the peers, and from httpguard,
// which adds the private network request header.
const (
	varyPreflight    = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
	varyPreflightPNA = varyPreflight + ", Access-Control-Request-Private-Network"
)

// The cases below recur in the CORS sections: the guide's configurations
// of rs/cors, go-chi/cors and echo allow the same origins, methods,
// headers and credentials, and httpguard's is the same for the three.
// Where a builder takes a name, the sections name the case differently.

// corsGrantsAllowed: an actual request from the allowed origin is
// granted; httpguard exposes the header in lower case.
func corsGrantsAllowed(rows ...string) httpCase {
	return httpCase{name: "an allowed origin is granted with credentials and exposed headers", rows: rows, req: actual(http.MethodGet, appOrigin),
		both: []expect{status(200), reached(true), granted(appOrigin), header("Vary", "Origin")},
		peer: []expect{header("Access-Control-Expose-Headers", "X-Request-Id")},
		hg:   []expect{header("Access-Control-Expose-Headers", "x-request-id")}}
}

// corsGrantsSubdomain: https://*.example.com grants a subdomain two
// labels deep.
func corsGrantsSubdomain(name string, rows ...string) httpCase {
	return httpCase{name: name, rows: rows, req: actual(http.MethodGet, "https://eu.api.example.com"),
		both: []expect{granted("https://eu.api.example.com")}}
}

// corsOtherOrigin: an actual request from an origin not allowed reaches
// the application without CORS headers.
func corsOtherOrigin() httpCase {
	return httpCase{name: "an actual request from another origin reaches the handler without CORS headers",
		rows: []string{"Request from an origin not allowed"}, req: actual(http.MethodPost, "https://evil.test"),
		both: []expect{status(200), reached(true), notGranted(), header("Vary", "Origin")}}
}

// corsRefused: the peer, served by peerH, accepts a configuration and
// grants a GET from origin as peer expects; cors.New refuses the same
// configuration, o, with want.
func corsRefused(name string, rows []string, origin string, peerH func(*testing.T) http.Handler, peer expect, o cors.Options, want error) httpCase {
	return httpCase{name: name, rows: rows, req: actual(http.MethodGet, origin),
		peerH: peerH, peer: []expect{peer}, hgH: newRefuses(cors.New, o, want)}
}

// corsNoOrigins: without origins the peer allows every one with "*".
func corsNoOrigins(name string, rows []string, peerH func(*testing.T) http.Handler) httpCase {
	return corsRefused(name, rows, "https://evil.test", peerH, header("Access-Control-Allow-Origin", "*"),
		cors.Options{}, cors.ErrNoAllowedOrigins)
}

// corsWildcardCredentials: with the origin "*" and credentials the peer
// grants "*" with credentials.
func corsWildcardCredentials(name string, rows []string, peerH func(*testing.T) http.Handler) httpCase {
	return corsRefused(name, rows, "https://evil.test", peerH, granted("*"),
		cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true}, cors.ErrWildcardCredentials)
}

// corsLabelWildcard: with the origin https://app-*.example.com the peer
// grants https://app-evil.example.com.
func corsLabelWildcard(name string, peerH func(*testing.T) http.Handler) httpCase {
	return corsRefused(name, []string{"AllowedOrigins"}, "https://app-evil.example.com", peerH,
		header("Access-Control-Allow-Origin", "https://app-evil.example.com"),
		cors.Options{AllowedOrigins: []string{"https://app-*.example.com"}}, cors.ErrInvalidOrigin)
}

// corsHTTPCredentials: with the origin http://app.example.com and
// credentials the peer grants it.
func corsHTTPCredentials(name string, peerH func(*testing.T) http.Handler) httpCase {
	return corsRefused(name, []string{"AllowedOrigins", "AllowCredentials"}, "http://app.example.com", peerH,
		granted("http://app.example.com"),
		cors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true}, cors.ErrInsecureOrigin)
}

// corsUpperCase: the peer matches an origin in upper case and echoes it
// as sent; httpguard does not match it.
func corsUpperCase(name string) httpCase {
	return httpCase{name: name, rows: []string{"Origin not in the form browsers send"}, req: actual(http.MethodGet, "https://APP.example.com"),
		peer: []expect{granted("https://APP.example.com")}, hg: []expect{reached(true), notGranted()}}
}

// corsUnlistedMethod: an actual request with a method not allowed gets no
// CORS headers from the peer and a grant from httpguard, which checks
// methods on preflights only.
func corsUnlistedMethod(name string) httpCase {
	return httpCase{name: name, rows: []string{"AllowedMethods"}, req: actual(http.MethodPatch, appOrigin),
		both: []expect{reached(true)}, peer: []expect{notGranted()}, hg: []expect{granted(appOrigin)}}
}

// corsPreflightGranted: a preflight for PUT with Content-Type is answered
// as peer expects by the peer, and by httpguard with only the method asked
// for, every allowed header in lower case, and the private network header
// in Vary.
func corsPreflightGranted(name string, rows []string, peer ...expect) httpCase {
	return httpCase{name: name, rows: rows, req: preflight(appOrigin, http.MethodPut, "content-type"), peer: peer,
		hg: []expect{status(204), reached(false), granted(appOrigin), header("Access-Control-Allow-Methods", "PUT"),
			header("Access-Control-Allow-Headers", "authorization, content-type"), header("Access-Control-Max-Age", "600"), header("Vary", varyPreflightPNA)}}
}

// corsMethodRefused: a preflight for PATCH, a method not allowed: the peer
// answers peerStatus without CORS headers or body, httpguard 403.
func corsMethodRefused(name string, peerStatus int, rows ...string) httpCase {
	return httpCase{name: name, rows: rows, req: preflight(appOrigin, http.MethodPatch, ""),
		both: []expect{reached(false), notGranted()}, peer: []expect{status(peerStatus), body("")}, hg: []expect{problemDoc(403)}}
}

// corsHeaderRefused: a preflight for PUT with X-Debug, a header not
// allowed: the peer answers peerStatus without CORS headers, httpguard
// 403.
func corsHeaderRefused(peerStatus int, rows ...string) httpCase {
	return httpCase{name: "a preflight for a header not allowed fails", rows: rows, req: preflight(appOrigin, http.MethodPut, "x-debug"),
		both: []expect{notGranted()}, peer: []expect{status(peerStatus)}, hg: []expect{problemDoc(403)}}
}

// corsPOSTPreflight: a preflight for POST is granted; the peer lists
// POST in Access-Control-Allow-Methods, httpguard nothing. both are
// further expectations of each side.
func corsPOSTPreflight(name string, both ...expect) httpCase {
	return httpCase{name: name, rows: []string{"Preflight for GET, HEAD or POST"}, req: preflight(appOrigin, http.MethodPost, ""),
		both: append(both, granted(appOrigin)),
		peer: []expect{header("Access-Control-Allow-Methods", "POST")}, hg: []expect{header("Access-Control-Allow-Methods", "")}}
}

// corsNoPreflightCache: the peer, served by peerH with MaxAge -1, and
// httpguard with DisablePreflightCache both send Access-Control-Max-Age 0.
func corsNoPreflightCache(peerH func(*testing.T) http.Handler) httpCase {
	return httpCase{name: "MaxAge -1 and DisablePreflightCache both send 0", rows: []string{"MaxAge"}, req: preflight(appOrigin, http.MethodPost, ""),
		peerH: peerH, hgH: hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, DisablePreflightCache: true}),
		both: []expect{header("Access-Control-Max-Age", "0")}}
}

// corsPassthrough: the peer, served by peerH with OptionsPassthrough, and
// httpguard with it pass a granted preflight on to the application.
func corsPassthrough(peerH func(*testing.T) http.Handler) httpCase {
	return httpCase{name: "OptionsPassthrough passes the granted preflight on in both", rows: []string{"OptionsPassthrough"}, req: preflight(appOrigin, http.MethodPost, ""),
		peerH: peerH, hgH: hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, OptionsPassthrough: true}),
		both: []expect{status(200), reached(true), header("Access-Control-Allow-Origin", appOrigin)}}
}

func rsCORSCases() []migCase {
	peer := withNext(guideRSCORSBefore)
	hg := withNext(guideRSCORSAfter)
	rsWith := func(o rscors.Options) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler { return rscors.New(o).Handler(next) }
	}
	cases := []httpCase{
		corsGrantsAllowed("AllowedOrigins", "AllowCredentials", "ExposedHeaders"),
		corsGrantsSubdomain("a subdomain pattern matches a subdomain at any depth", "AllowedOrigins"),
		{
			name: "a subdomain pattern does not match the domain itself",
			rows: []string{"AllowedOrigins"},
			req:  actual(http.MethodGet, "https://example.com"),
			both: []expect{reached(true), notGranted()},
		},
		corsOtherOrigin(),
		corsNoOrigins("no AllowedOrigins: every origin in rs/cors, an error in httpguard", []string{"AllowedOrigins"},
			rsWith(rscors.Options{})),
		corsWildcardCredentials(`"*" with credentials: "*" and true in rs/cors, an error in httpguard`, []string{"AllowedOrigins", "AllowCredentials"},
			rsWith(rscors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})),
		corsLabelWildcard("a wildcard inside a label: matched by rs/cors, an error in httpguard",
			rsWith(rscors.Options{AllowedOrigins: []string{"https://app-*.example.com"}})),
		corsRefused("a pattern on a public suffix: matched by rs/cors, an error in httpguard", []string{"AllowedOrigins"}, "https://evil.github.io",
			rsWith(rscors.Options{AllowedOrigins: []string{"https://*.github.io"}}), header("Access-Control-Allow-Origin", "https://evil.github.io"),
			cors.Options{AllowedOrigins: []string{"https://*.github.io"}}, cors.ErrInvalidOrigin),
		{
			name:  "a host under a public suffix below the pattern's domain: granted by rs/cors, not by httpguard",
			rows:  []string{"AllowedOrigins"},
			req:   actual(http.MethodGet, "https://bucket.s3.amazonaws.com"),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{"https://*.amazonaws.com"}}),
			peer:  []expect{header("Access-Control-Allow-Origin", "https://bucket.s3.amazonaws.com")},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{"https://*.amazonaws.com"}}),
			hg:    []expect{reached(true), notGranted()},
		},
		corsHTTPCredentials("an http origin with credentials: granted by rs/cors, an error in httpguard",
			rsWith(rscors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true})),
		corsUpperCase("an origin in upper case: matched by rs/cors and echoed as sent, not by httpguard"),
		{
			name:  "AllowOriginFunc replaces AllowedOrigins in rs/cors, adds to them in httpguard",
			rows:  []string{"AllowOriginFunc"},
			req:   actual(http.MethodGet, appOrigin),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, AllowOriginFunc: func(o string) bool { return o == "https://partner.test" }}),
			peer:  []expect{reached(true), notGranted()},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, AllowOriginFunc: func(o string) bool { return o == "https://partner.test" }}),
			hg:    []expect{header("Access-Control-Allow-Origin", appOrigin)},
		},
		{
			name:  "AllowOriginFunc is asked about the null origin in rs/cors, never in httpguard",
			rows:  []string{"AllowOriginFunc"},
			req:   actual(http.MethodGet, "null"),
			peerH: rsWith(rscors.Options{AllowOriginFunc: func(string) bool { return true }}),
			peer:  []expect{header("Access-Control-Allow-Origin", "null")},
			hgH:   hgCORS(cors.Options{AllowOriginFunc: func(string) bool { return true }}),
			hg:    []expect{reached(true), notGranted()},
		},
		corsPreflightGranted("a preflight for an allowed method and headers is granted",
			[]string{"AllowedMethods", "AllowedHeaders", "MaxAge", "Access-Control-Allow-Headers", "Vary on a preflight"},
			status(204), reached(false), granted(appOrigin), header("Access-Control-Allow-Methods", "PUT"),
			header("Access-Control-Allow-Headers", "content-type"), header("Access-Control-Max-Age", "600"), header("Vary", varyPreflight)),
		corsMethodRefused("a preflight for a method not allowed fails: 204 without CORS headers, or 403", 204, "AllowedMethods", "Failed preflight"),
		corsHeaderRefused(204, "AllowedHeaders", "Failed preflight"),
		{
			name: "a preflight from an origin not allowed fails",
			rows: []string{"Failed preflight"},
			req:  preflight("https://evil.test", http.MethodPut, ""),
			peer: []expect{status(204), notGranted(), header("Vary", varyPreflight)},
			hg:   []expect{problemDoc(403), notGranted(), header("Vary", varyPreflightPNA)},
		},
		corsPOSTPreflight("a preflight for POST: the method echoed by rs/cors, nothing by httpguard", status(204)),
		corsUnlistedMethod("an actual request with a method not listed: no CORS headers in rs/cors, granted by httpguard"),
		{
			name:  "default methods: GET, HEAD and POST in both",
			rows:  []string{"AllowedMethods"},
			req:   preflight(appOrigin, http.MethodPut, ""),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}}),
			peer:  []expect{status(204), notGranted()},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}}),
			hg:    []expect{problemDoc(403)},
		},
		{
			name:  "default headers: Content-Type allowed by rs/cors, none by httpguard",
			rows:  []string{"AllowedHeaders"},
			req:   preflight(appOrigin, http.MethodPost, "content-type"),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}}),
			peer:  []expect{status(204), header("Access-Control-Allow-Origin", appOrigin), header("Access-Control-Allow-Headers", "content-type")},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}}),
			hg:    []expect{problemDoc(403), notGranted()},
		},
		{
			name:  "a header scripts cannot set: accepted by rs/cors, an error in httpguard",
			rows:  []string{"AllowedHeaders"},
			req:   preflight(appOrigin, http.MethodPost, "cookie"),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, AllowedHeaders: []string{"Cookie"}}),
			peer:  []expect{header("Access-Control-Allow-Headers", "cookie")},
			hgH:   newRefuses(cors.New, cors.Options{AllowedOrigins: []string{appOrigin}, AllowedHeaders: []string{"Cookie"}}, cors.ErrInvalidHeader),
		},
		{
			name:  `"*" headers with credentials: echoed by rs/cors, an error in httpguard`,
			rows:  []string{"AllowedHeaders"},
			req:   preflight(appOrigin, http.MethodPost, "x-anything"),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, AllowedHeaders: []string{"*"}, AllowCredentials: true}),
			peer:  []expect{granted(appOrigin), header("Access-Control-Allow-Headers", "x-anything")},
			hgH: newRefuses(cors.New, cors.Options{AllowedOrigins: []string{appOrigin}, AllowedHeaders: []string{"*"}, AllowCredentials: true},
				cors.ErrWildcardCredentials),
		},
		corsNoPreflightCache(rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, MaxAge: -1})),
		{
			name:  "private network access enabled: granted by both",
			rows:  []string{"AllowPrivateNetwork", "Vary on a preflight"},
			req:   preflight(appOrigin, http.MethodPost, "", "Access-Control-Request-Private-Network", "true"),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, AllowPrivateNetwork: true}),
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, AllowPrivateNetwork: true}),
			both:  []expect{status(204), header("Access-Control-Allow-Private-Network", "true"), header("Vary", varyPreflightPNA)},
		},
		{
			name: "private network access not enabled: the rest granted by rs/cors, 403 from httpguard",
			rows: []string{"AllowPrivateNetwork"},
			req:  preflight(appOrigin, http.MethodPost, "", "Access-Control-Request-Private-Network", "true"),
			peer: []expect{status(204), granted(appOrigin), header("Access-Control-Allow-Private-Network", "")},
			hg:   []expect{problemDoc(403), notGranted()},
		},
		corsPassthrough(rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, OptionsPassthrough: true})),
		{
			name:  "OptionsSuccessStatus and PreflightStatus",
			rows:  []string{"OptionsSuccessStatus"},
			req:   preflight(appOrigin, http.MethodPost, ""),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{appOrigin}, OptionsSuccessStatus: 200}),
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, PreflightStatus: 200}),
			both:  []expect{status(200), reached(false)},
		},
		{
			name: "OPTIONS with Access-Control-Request-Method and no Origin: answered by rs/cors, passed on by httpguard",
			rows: []string{"OPTIONS with Access-Control-Request-Method, no Origin"},
			req:  preflight("", http.MethodPut, ""),
			peer: []expect{status(204), reached(false)},
			hg:   []expect{status(200), reached(true), notGranted()},
		},
		{
			name: "requested headers in another case and order: refused by rs/cors, granted by httpguard",
			rows: []string{"AllowedHeaders"},
			req:  preflight(appOrigin, http.MethodPut, "Content-Type, Authorization"),
			both: []expect{reached(false)},
			peer: []expect{status(204), notGranted()},
			hg:   []expect{status(204), granted(appOrigin), header("Access-Control-Allow-Headers", "authorization, content-type")},
		},
		{
			name: "a preflight for OPTIONS: granted by rs/cors, refused by httpguard when OPTIONS is not allowed",
			rows: []string{"Preflight for OPTIONS"},
			req:  preflight(appOrigin, http.MethodOptions, ""),
			both: []expect{reached(false)},
			peer: []expect{status(204), granted(appOrigin), header("Access-Control-Allow-Methods", "OPTIONS")},
			hg:   []expect{problemDoc(403), notGranted()},
		},
		{
			name: "several Origin lines: all echoed by rs/cors, none granted by httpguard",
			rows: []string{"Several Origin lines"},
			req: func() *http.Request {
				return newReq(http.MethodGet, apiURL, "Origin", appOrigin, "Origin", "https://evil.test")
			},
			both: []expect{reached(true)},
			peer: []expect{header("Access-Control-Allow-Origin", appOrigin+", https://evil.test")},
			hg:   []expect{notGranted()},
		},
		{
			name: "an empty Access-Control-Request-Method: an actual request to rs/cors, a refused preflight to httpguard",
			rows: []string{"Empty Access-Control-Request-Method"},
			req:  preflight(appOrigin, "", ""),
			peer: []expect{reached(true), granted(appOrigin)},
			hg:   []expect{problemDoc(403), reached(false), notGranted()},
		},
		{
			name:  `"*" without credentials: Vary: Origin from rs/cors, no Vary from httpguard`,
			rows:  []string{`Actual request with AllowedOrigins "*"`},
			req:   actual(http.MethodGet, "https://any.test"),
			peerH: rsWith(rscors.Options{AllowedOrigins: []string{"*"}}),
			peer:  []expect{header("Access-Control-Allow-Origin", "*"), header("Vary", "Origin")},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{"*"}}),
			hg:    []expect{header("Access-Control-Allow-Origin", "*"), header("Vary", "")},
		},
	}
	out := section(rsCORSHeading, peer, hg, cases)
	out = append(out,
		plain(rsCORSHeading, "PreflightStatus outside 2xx is an error", []string{"OptionsSuccessStatus"}, func(t *testing.T) {
			refuses(t, cors.New, cors.Options{AllowedOrigins: []string{appOrigin}, PreflightStatus: 302}, cors.ErrInvalidPreflightStatus)
			refuses(t, cors.New, cors.Options{AllowedOrigins: []string{appOrigin}, PreflightStatus: 200, OptionsPassthrough: true}, cors.ErrConflict)
		}),
		plain(rsCORSHeading, "MaxAge must be whole seconds up to 24h", []string{"MaxAge"}, func(t *testing.T) {
			for _, d := range []time.Duration{1500 * time.Millisecond, 25 * time.Hour} {
				refuses(t, cors.New, cors.Options{AllowedOrigins: []string{appOrigin}, MaxAge: d}, cors.ErrInvalidMaxAge)
			}
		}),
		plain(rsCORSHeading, "no request-aware origin function", []string{"AllowOriginRequestFunc, AllowOriginVaryRequestFunc"}, func(t *testing.T) {
			noField(t, cors.Options{}, "AllowOriginRequestFunc", "AllowOriginVaryRequestFunc")
		}),
		plain(rsCORSHeading, "no logger; Check tells why", []string{"Debug, Logger"}, func(t *testing.T) {
			noField(t, cors.Options{}, "Debug", "Logger")
			c := must(cors.New(cors.Options{AllowedOrigins: []string{appOrigin}}))
			if err := c.Check(actual(http.MethodGet, "https://evil.test")()); !errors.Is(err, cors.ErrOriginNotAllowed) {
				t.Errorf("Check: %v, want ErrOriginNotAllowed", err)
			}
			if err := c.Check(preflight(appOrigin, http.MethodPut, "")()); !errors.Is(err, cors.ErrMethodNotAllowed) {
				t.Errorf("Check: %v, want ErrMethodNotAllowed", err)
			}
		}),
	)
	return out
}

// --- github.com/go-chi/cors -----------------------------------------------

const chiCORSHeading = "github.com/go-chi/cors"

// guide: github.com/go-chi/cors, before
func guideChiCORSBefore(mux http.Handler) http.Handler {
	handler := chicors.Handler(chicors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com"},
		AllowedMethods:   []string{"GET", "POST", "PUT", "DELETE"},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           600,
	})(mux)
	return handler
}

// guide: github.com/go-chi/cors, after
func guideChiCORSAfter(mux http.Handler) http.Handler {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com"},
		AllowedMethods:   []string{http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := c.Handler(mux)
	return handler
}

func chiCORSCases() []migCase {
	peer := withNext(guideChiCORSBefore)
	hg := withNext(guideChiCORSAfter)
	chiWith := func(o chicors.Options) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler { return chicors.Handler(o)(next) }
	}
	cases := []httpCase{
		corsGrantsAllowed("AllowedOrigins", "AllowCredentials", "ExposedHeaders"),
		corsGrantsSubdomain("a subdomain pattern matches a subdomain, not the domain", "AllowedOrigins"),
		corsOtherOrigin(),
		corsNoOrigins("no AllowedOrigins: every origin in go-chi/cors, an error in httpguard", []string{"AllowedOrigins"},
			chiWith(chicors.Options{})),
		corsWildcardCredentials(`"*" with credentials: "*" and true in go-chi/cors, an error in httpguard`, []string{"AllowedOrigins", "AllowCredentials"},
			chiWith(chicors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})),
		corsLabelWildcard("a wildcard inside a label: matched by go-chi/cors, an error in httpguard",
			chiWith(chicors.Options{AllowedOrigins: []string{"https://app-*.example.com"}})),
		corsHTTPCredentials("an http origin with credentials: granted by go-chi/cors, an error in httpguard",
			chiWith(chicors.Options{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true})),
		corsUpperCase("an origin in upper case: matched by go-chi/cors and echoed as sent, not by httpguard"),
		{
			name: "AllowOriginFunc sees the request in go-chi/cors and replaces AllowedOrigins; httpguard's sees the origin and adds to them",
			rows: []string{"AllowOriginFunc"},
			req:  get(apiURL, "Origin", appOrigin, "X-Tenant", "acme"),
			peerH: chiWith(chicors.Options{AllowedOrigins: []string{"https://other.test"},
				AllowOriginFunc: func(r *http.Request, origin string) bool { return r.Header.Get("X-Tenant") == "acme" }}),
			hgH: hgCORS(cors.Options{AllowedOrigins: []string{"https://other.test"},
				AllowOriginFunc: func(origin string) bool { return origin == appOrigin }}),
			both: []expect{header("Access-Control-Allow-Origin", appOrigin)},
		},
		corsPreflightGranted("a preflight for an allowed method and header is granted: 200 from go-chi/cors, 204 from httpguard",
			[]string{"AllowedMethods", "AllowedHeaders", "MaxAge", "Preflight status", "Access-Control-Allow-Headers", "Vary on a preflight"},
			status(200), reached(false), granted(appOrigin), header("Access-Control-Allow-Methods", "PUT"),
			header("Access-Control-Allow-Headers", "Content-Type"), header("Access-Control-Max-Age", "600"), header("Vary", varyPreflight)),
		corsMethodRefused("a preflight for a method not allowed fails: 200 without CORS headers, or 403", 200, "AllowedMethods", "Preflight status"),
		corsHeaderRefused(200, "AllowedHeaders", "Preflight status"),
		corsPOSTPreflight("a preflight for POST: the method echoed by go-chi/cors, nothing by httpguard"),
		corsUnlistedMethod("an actual request with a method not listed: no CORS headers in go-chi/cors, granted by httpguard"),
		{
			name:  "default headers: Content-Type allowed by go-chi/cors, none by httpguard",
			rows:  []string{"AllowedHeaders"},
			req:   preflight(appOrigin, http.MethodPost, "content-type"),
			peerH: chiWith(chicors.Options{AllowedOrigins: []string{appOrigin}}),
			peer:  []expect{status(200), header("Access-Control-Allow-Origin", appOrigin), header("Access-Control-Allow-Headers", "Content-Type")},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}}),
			hg:    []expect{problemDoc(403), notGranted()},
		},
		{
			name:  "MaxAge 0 or below sends nothing in go-chi/cors; DisablePreflightCache sends 0",
			rows:  []string{"MaxAge"},
			req:   preflight(appOrigin, http.MethodPost, ""),
			peerH: chiWith(chicors.Options{AllowedOrigins: []string{appOrigin}, MaxAge: -1}),
			peer:  []expect{header("Access-Control-Max-Age", "")},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, DisablePreflightCache: true}),
			hg:    []expect{header("Access-Control-Max-Age", "0")},
		},
		corsPassthrough(chiWith(chicors.Options{AllowedOrigins: []string{appOrigin}, OptionsPassthrough: true})),
		{
			name: "OPTIONS with Access-Control-Request-Method and no Origin is passed on by both",
			rows: []string{"OPTIONS with Access-Control-Request-Method, no Origin"},
			req:  preflight("", http.MethodPut, ""),
			both: []expect{status(200), reached(true), notGranted()},
		},
	}
	out := section(chiCORSHeading, peer, hg, cases)
	out = append(out,
		plain(chiCORSHeading, "no logger; Check tells why", []string{"Debug"}, func(t *testing.T) {
			noField(t, cors.Options{}, "Debug")
			c := must(cors.New(cors.Options{AllowedOrigins: []string{appOrigin}}))
			if err := c.Check(preflight(appOrigin, http.MethodPost, "x-debug")()); !errors.Is(err, cors.ErrHeadersNotAllowed) {
				t.Errorf("Check: %v, want ErrHeadersNotAllowed", err)
			}
		}),
	)
	return out
}

// --- github.com/labstack/echo/v4/middleware: CORSWithConfig ---------------

const echoCORSHeading = "CORSWithConfig"

// guide: echo CORSWithConfig, before
func guideEchoCORSBefore(mux http.Handler) http.Handler {
	e := echo.New()
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     []string{"https://app.example.com", "https://*.example.com"},
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowHeaders:     []string{"Content-Type", "Authorization"},
		ExposeHeaders:    []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           600,
	}))
	e.Any("/*", echo.WrapHandler(mux))
	handler := http.Handler(e)
	return handler
}

// echoWith serves next behind the echo middleware mw.
func echoWith(mw ...echo.MiddlewareFunc) http.Handler {
	return echoOver(next, mw...)
}

// echoOver serves app behind the echo middleware mw.
func echoOver(app http.Handler, mw ...echo.MiddlewareFunc) http.Handler {
	e := echo.New()
	e.Use(mw...)
	e.Any("/*", echo.WrapHandler(app))
	return e
}

func echoCORSCases() []migCase {
	peer := withNext(guideEchoCORSBefore)
	hg := withNext(guideRSCORSAfter)
	echoCfg := func(c middleware.CORSConfig) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler { return echoWith(middleware.CORSWithConfig(c)) }
	}
	cases := []httpCase{
		corsGrantsAllowed("AllowOrigins", "AllowCredentials", "ExposeHeaders"),
		corsGrantsSubdomain("a subdomain pattern matches a subdomain", "AllowOrigins"),
		corsOtherOrigin(),
		{
			name:  "a wildcard anywhere: https://*example.com matches https://evilexample.com in echo, an error in httpguard",
			rows:  []string{"AllowOrigins"},
			req:   actual(http.MethodGet, "https://evilexample.com"),
			peerH: echoCfg(middleware.CORSConfig{AllowOrigins: []string{"https://*example.com"}}),
			peer:  []expect{header("Access-Control-Allow-Origin", "https://evilexample.com")},
			hgH:   newRefuses(cors.New, cors.Options{AllowedOrigins: []string{"https://*example.com"}}, cors.ErrInvalidOrigin),
		},
		corsNoOrigins(`no AllowOrigins: "*" in echo, an error in httpguard`, []string{"AllowOrigins"},
			echoCfg(middleware.CORSConfig{})),
		corsWildcardCredentials(`"*" with credentials: "*" and true in echo, an error in httpguard`, []string{"AllowCredentials"},
			echoCfg(middleware.CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true})),
		{
			name:  "the unsafe wildcard with credentials echoes every origin in both",
			rows:  []string{"UnsafeWildcardOriginWithAllowCredentials"},
			req:   actual(http.MethodGet, "https://evil.test"),
			peerH: echoCfg(middleware.CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true, UnsafeWildcardOriginWithAllowCredentials: true}),
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true, DangerouslyAllowCredentialsWithAnyOrigin: true}),
			both:  []expect{granted("https://evil.test")},
		},
		{
			name: "AllowOriginFunc: its error is a 500 in echo; httpguard's returns a bool and adds to AllowedOrigins",
			rows: []string{"AllowOriginFunc"},
			req:  actual(http.MethodGet, appOrigin),
			peerH: echoCfg(middleware.CORSConfig{AllowOrigins: []string{appOrigin},
				AllowOriginFunc: func(string) (bool, error) { return false, errors.New("lookup failed") }}),
			peer: []expect{status(500), reached(false)},
			hgH:  hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}, AllowOriginFunc: func(string) bool { return false }}),
			hg:   []expect{status(200), header("Access-Control-Allow-Origin", appOrigin)},
		},
		corsPreflightGranted("a preflight for an allowed method and header is granted", []string{"AllowMethods", "AllowHeaders", "MaxAge"},
			status(204), reached(false), granted(appOrigin), header("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE"),
			header("Access-Control-Allow-Headers", "Content-Type,Authorization"), header("Access-Control-Max-Age", "600"), header("Vary", varyPreflight)),
		{
			name: "a preflight for a method not allowed: granted by echo (the browser then refuses), 403 from httpguard",
			rows: []string{"AllowMethods", "Failed preflight"},
			req:  preflight(appOrigin, http.MethodPatch, ""),
			peer: []expect{status(204), granted(appOrigin), header("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE")},
			hg:   []expect{problemDoc(403), notGranted()},
		},
		{
			name: "a preflight for a header not allowed: granted by echo (the browser then refuses), 403 from httpguard",
			rows: []string{"AllowHeaders", "Failed preflight"},
			req:  preflight(appOrigin, http.MethodPut, "x-debug"),
			peer: []expect{status(204), granted(appOrigin), header("Access-Control-Allow-Headers", "Content-Type,Authorization")},
			hg:   []expect{problemDoc(403), notGranted()},
		},
		{
			name: "a preflight from an origin not allowed: 204 without CORS headers, or 403",
			rows: []string{"Failed preflight"},
			req:  preflight("https://evil.test", http.MethodPut, ""),
			peer: []expect{status(204), reached(false), notGranted()},
			hg:   []expect{problemDoc(403), reached(false), notGranted()},
		},
		{
			name:  "no AllowHeaders: every requested header echoed by echo, none allowed by httpguard",
			rows:  []string{"AllowHeaders"},
			req:   preflight(appOrigin, http.MethodPost, "x-debug"),
			peerH: echoCfg(middleware.CORSConfig{AllowOrigins: []string{appOrigin}}),
			peer:  []expect{status(204), header("Access-Control-Allow-Origin", appOrigin), header("Access-Control-Allow-Headers", "x-debug")},
			hgH:   hgCORS(cors.Options{AllowedOrigins: []string{appOrigin}}),
			hg:    []expect{problemDoc(403), notGranted()},
		},
		corsNoPreflightCache(echoCfg(middleware.CORSConfig{AllowOrigins: []string{appOrigin}, MaxAge: -1})),
		{
			name: "OPTIONS without Access-Control-Request-Method: answered by echo, passed on by httpguard",
			rows: []string{"OPTIONS without Access-Control-Request-Method"},
			req:  actual(http.MethodOptions, appOrigin),
			peer: []expect{status(204), reached(false)},
			hg:   []expect{status(200), reached(true), granted(appOrigin)},
		},
	}
	out := section(echoCORSHeading, peer, hg, cases)
	out = append(out,
		plain(echoCORSHeading, "no Skipper", []string{"Skipper"}, func(t *testing.T) {
			noField(t, cors.Options{}, "Skipper")
		}),
	)
	return out
}

// --- github.com/unrolled/secure ------------------------------------------

const unrolledHeading = "github.com/unrolled/secure"

// guide: github.com/unrolled/secure, before
func guideUnrolledBefore(mux http.Handler) http.Handler {
	s := secure.New(secure.Options{
		AllowedHosts:          []string{"example.com"},
		SSLRedirect:           true,
		SSLHost:               "example.com",
		STSSeconds:            63072000,
		STSIncludeSubdomains:  true,
		FrameDeny:             true,
		ContentTypeNosniff:    true,
		BrowserXssFilter:      true,
		ContentSecurityPolicy: "default-src 'self'",
		ReferrerPolicy:        "strict-origin-when-cross-origin",
	})
	handler := s.Handler(mux)
	return handler
}

// guide: github.com/unrolled/secure, after
func guideUnrolledAfter(mux http.Handler) http.Handler {
	sec, err := headers.New(headers.Options{
		AllowedHosts:   []string{"example.com"},
		CSP:            &headers.CSP{DefaultSrc: []string{headers.Self}},
		ReferrerPolicy: "strict-origin-when-cross-origin",
	})
	if err != nil {
		log.Fatal(err)
	}
	rd, err := https.NewRedirect(https.RedirectOptions{Host: "example.com"})
	if err != nil {
		log.Fatal(err)
	}
	handler := sec.Handler(rd.Handler(mux))
	return handler
}

// The headers httpguard sends by default that unrolled/secure sends only
// when configured.
var hgDefaultHeaders = map[string]string{
	"Permissions-Policy":                headers.DefaultPermissionsPolicy,
	"Cross-Origin-Opener-Policy":        "same-origin",
	"Cross-Origin-Resource-Policy":      "same-origin",
	"X-Permitted-Cross-Domain-Policies": "none",
}

// The other headers httpguard sends over HTTPS with the zero Options.
var hgZeroOptionsHeaders = map[string]string{
	"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
	"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
	"X-Frame-Options":           "DENY",
	"X-Content-Type-Options":    "nosniff",
	"X-Xss-Protection":          "0",
	"Referrer-Policy":           "no-referrer",
}

// headersAre expects each header of want to have its value ("" for
// absent).
func headersAre(want map[string]string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		for k, v := range want {
			header(k, v)(t, who, rec)
		}
	}
}

// noSecurityHeaders expects none of the headers either package can set.
func noSecurityHeaders() expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options",
			"X-Content-Type-Options", "X-Xss-Protection", "Referrer-Policy", "Permissions-Policy",
			"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "X-Permitted-Cross-Domain-Policies"} {
			header(k, "")(t, who, rec)
		}
	}
}

// fromPeer returns a request builder whose request comes from addr.
func fromPeer(method, target, addr string, kv ...string) func() *http.Request {
	return func() *http.Request {
		r := newReq(method, target, kv...)
		r.RemoteAddr = addr
		return r
	}
}

// nonceEcho writes the CSP nonce of the request, as nonce reads it.
func nonceEcho(nonce func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, nonce(r))
	})
}

// hgHeaders serves next behind headers.New(o), which must accept o.
func hgHeaders(o headers.Options) func(*testing.T) http.Handler {
	return func(*testing.T) http.Handler { return must(headers.New(o)).Handler(next) }
}

// noHGDefaultHeaders expects none of the headers of hgDefaultHeaders.
func noHGDefaultHeaders() expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		for k := range hgDefaultHeaders {
			header(k, "")(t, who, rec)
		}
	}
}

func unrolledCases() []migCase {
	peer := withNext(guideUnrolledBefore)
	hg := withNext(guideUnrolledAfter)
	unrolledWith := func(o secure.Options) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler { return secure.New(o).Handler(next) }
	}
	hgRedirect := func(o https.RedirectOptions) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler { return must(https.NewRedirect(o)).Handler(next) }
	}
	common := map[string]string{
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		"X-Frame-Options":           "DENY",
		"X-Content-Type-Options":    "nosniff",
		"Content-Security-Policy":   "default-src 'self'",
		"Referrer-Policy":           "strict-origin-when-cross-origin",
	}
	// unrolled/secure trusting X-Forwarded-Proto from any peer, and its
	// answer to a request it takes for HTTPS.
	unrolledProxy := unrolledWith(secure.Options{SSLRedirect: true, STSSeconds: 300, SSLProxyHeaders: map[string]string{"X-Forwarded-Proto": "https"}})
	overHTTPS := []expect{status(200), reached(true), header("Strict-Transport-Security", "max-age=300")}
	hsts300 := headers.HSTS{MaxAge: 300 * time.Second, DisableIncludeSubDomains: true}
	cases := []httpCase{
		{
			name: "an HTTPS request gets the configured headers; httpguard adds its defaults and turns the XSS auditor off",
			rows: []string{"STSSeconds, STSIncludeSubdomains", "FrameDeny", "ContentTypeNosniff", "BrowserXssFilter",
				"ContentSecurityPolicy", "ReferrerPolicy", "Headers sent without configuration"},
			req:  get("https://example.com/"),
			both: []expect{status(200), reached(true), headersAre(common)},
			peer: []expect{header("X-Xss-Protection", "1; mode=block"), noHGDefaultHeaders()},
			hg:   []expect{header("X-Xss-Protection", "0"), headersAre(hgDefaultHeaders)},
		},
		{
			name:  "the zero Options: nothing from unrolled/secure, every header from httpguard",
			rows:  []string{"Headers sent without configuration"},
			req:   get("https://example.com/"),
			peerH: unrolledWith(secure.Options{}),
			peer:  []expect{status(200), noSecurityHeaders()},
			hgH:   hgHeaders(headers.Options{}),
			hg:    []expect{status(200), headersAre(hgDefaultHeaders), headersAre(hgZeroOptionsHeaders)},
		},
		{
			name: "a plain HTTP GET is redirected to SSLHost or Host; httpguard keeps the security headers on the redirect",
			rows: []string{"SSLRedirect", "SSLHost, SSLHostFunc", "Redirect to HTTPS"},
			req:  get("http://example.com/a/b?q=1"),
			both: []expect{status(301), reached(false), header("Location", "https://example.com/a/b?q=1")},
			peer: []expect{noSecurityHeaders()},
			hg:   []expect{header("X-Frame-Options", "DENY"), header("Strict-Transport-Security", "")},
		},
		{
			name: "a plain HTTP POST: redirected with 301 by unrolled/secure, refused with 400 by httpguard",
			rows: []string{"SSLRedirect", "Plain HTTP POST"},
			req:  func() *http.Request { return newReq(http.MethodPost, "http://example.com/login") },
			peer: []expect{status(301), reached(false), header("Location", "https://example.com/login")},
			hg:   []expect{problemDoc(400), reached(false), header("Location", "")},
		},
		{
			name:  "SSLTemporaryRedirect and Temporary",
			rows:  []string{"SSLTemporaryRedirect"},
			req:   get("http://example.com/"),
			peerH: unrolledWith(secure.Options{SSLRedirect: true, SSLTemporaryRedirect: true}),
			peer:  []expect{status(307), header("Location", "https://example.com/")},
			hgH:   hgRedirect(https.RedirectOptions{Host: "example.com", Temporary: true}),
			hg:    []expect{status(302), header("Location", "https://example.com/")},
		},
		{
			name:  "each host redirected to itself: SSLHostFunc and RedirectOptions.AllowedHosts",
			rows:  []string{"SSLHost, SSLHostFunc"},
			req:   get("http://www.example.com/"),
			peerH: unrolledWith(secure.Options{SSLRedirect: true, SSLHostFunc: func() *secure.SSLHostFunc { f := secure.SSLHostFunc(func(h string) string { return h }); return &f }()}),
			hgH:   hgRedirect(https.RedirectOptions{AllowedHosts: []string{"example.com", "www.example.com"}}),
			both:  []expect{status(301), header("Location", "https://www.example.com/")},
		},
		{
			name:  "without SSLHost the redirect goes to the request's Host in unrolled/secure, to Host in httpguard",
			rows:  []string{"SSLHost, SSLHostFunc"},
			req:   get("http://evil.test/"),
			peerH: unrolledWith(secure.Options{SSLRedirect: true}),
			peer:  []expect{status(301), header("Location", "https://evil.test/")},
			hgH:   hgRedirect(https.RedirectOptions{Host: "example.com"}),
			hg:    []expect{status(301), header("Location", "https://example.com/")},
		},
		{
			name:  "SSLForceHost redirects HTTPS requests for other hosts; httpguard passes HTTPS requests on",
			rows:  []string{"SSLForceHost"},
			req:   get("https://www.example.com/"),
			peerH: unrolledWith(secure.Options{SSLForceHost: true, SSLHost: "example.com"}),
			peer:  []expect{status(301), header("Location", "https://example.com/")},
			hgH:   hgRedirect(https.RedirectOptions{Host: "example.com"}),
			hg:    []expect{status(200), reached(true)},
		},
		{
			name: "a host not allowed: 500 text from unrolled/secure, 400 problem from httpguard",
			rows: []string{"AllowedHosts", "Host not allowed"},
			req:  get("https://evil.test/"),
			peer: []expect{textError(500, "Bad Host"), reached(false)},
			hg:   []expect{problemDoc(400), reached(false), header("X-Frame-Options", "DENY")},
		},
		{
			name: "an allowed host with a port: refused by unrolled/secure, allowed by httpguard (no port in the pattern)",
			rows: []string{"AllowedHosts"},
			req:  get("https://example.com:8443/"),
			peer: []expect{status(500), reached(false)},
			hg:   []expect{status(200), reached(true)},
		},
		{
			name:  "subdomains: a regular expression in unrolled/secure, a *. pattern in httpguard",
			rows:  []string{"AllowedHostsAreRegex"},
			req:   get("https://api.example.com/"),
			peerH: unrolledWith(secure.Options{AllowedHosts: []string{`[a-z]+\.example\.com`}, AllowedHostsAreRegex: true}),
			hgH:   hgHeaders(headers.Options{AllowedHosts: []string{"*.example.com"}}),
			both:  []expect{status(200), reached(true)},
		},
		{
			name:  "HostsProxyHeaders: X-Forwarded-Host checked by unrolled/secure; httpguard checks Host only",
			rows:  []string{"HostsProxyHeaders"},
			req:   get("https://internal.local/", "X-Forwarded-Host", "example.com"),
			peerH: unrolledWith(secure.Options{AllowedHosts: []string{"example.com"}, HostsProxyHeaders: []string{"X-Forwarded-Host"}}),
			peer:  []expect{status(200), reached(true)},
			hgH:   hgHeaders(headers.Options{AllowedHosts: []string{"example.com"}}),
			hg:    []expect{problemDoc(400), reached(false)},
		},
		{
			name: "SetBadHostHandler and OnReject write the refusal",
			rows: []string{"SetBadHostHandler"},
			req:  get("https://evil.test/"),
			peerH: func(*testing.T) http.Handler {
				s := secure.New(secure.Options{AllowedHosts: []string{"example.com"}})
				s.SetBadHostHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMisdirectedRequest) }))
				return s.Handler(next)
			},
			hgH:  hgHeaders(headers.Options{AllowedHosts: []string{"example.com"}, OnReject: rejectWith(http.StatusMisdirectedRequest, headers.ErrHostNotAllowed)}),
			both: []expect{status(421)},
		},
		{
			name:  "X-Forwarded-Proto from any peer: HTTPS for unrolled/secure, ignored by httpguard",
			rows:  []string{"SSLProxyHeaders"},
			req:   fromPeer(http.MethodGet, "http://example.com/", "203.0.113.7:4711", "X-Forwarded-Proto", "https"),
			peerH: unrolledProxy,
			peer:  overHTTPS,
			hgH: func(*testing.T) http.Handler {
				rd := must(https.NewRedirect(https.RedirectOptions{Host: "example.com"}))
				return must(headers.New(headers.Options{HSTS: hsts300})).Handler(rd.Handler(next))
			},
			hg: []expect{status(301), reached(false), header("Strict-Transport-Security", "")},
		},
		{
			name:  "X-Forwarded-Proto from a trusted proxy: HTTPS for both",
			rows:  []string{"SSLProxyHeaders"},
			req:   fromPeer(http.MethodGet, "http://example.com/", "10.0.0.2:4711", "X-Forwarded-Proto", "https"),
			peerH: unrolledProxy,
			hgH: func(*testing.T) http.Handler {
				proxy := trustedProxy()
				rd := must(https.NewRedirect(https.RedirectOptions{Host: "example.com", ClientIP: proxy}))
				sec := must(headers.New(headers.Options{ClientIP: proxy, HSTS: hsts300}))
				return sec.Handler(rd.Handler(next))
			},
			both: overHTTPS,
		},
		{
			name:  "ForceSTSHeader sends HSTS over plain HTTP; httpguard never does",
			rows:  []string{"ForceSTSHeader"},
			req:   get("http://example.com/"),
			peerH: unrolledWith(secure.Options{STSSeconds: 300, ForceSTSHeader: true}),
			peer:  []expect{header("Strict-Transport-Security", "max-age=300")},
			hgH:   hgHeaders(headers.Options{HSTS: headers.HSTS{MaxAge: 300 * time.Second}}),
			hg:    []expect{header("Strict-Transport-Security", "")},
		},
		{
			name:  "STSPreload and HSTS.Preload",
			rows:  []string{"STSPreload"},
			req:   get("https://example.com/"),
			peerH: unrolledWith(secure.Options{STSSeconds: 63072000, STSIncludeSubdomains: true, STSPreload: true}),
			hgH:   hgHeaders(headers.Options{HSTS: headers.HSTS{Preload: true}}),
			both:  []expect{header("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")},
		},
		{
			name:  "without includeSubDomains: STSIncludeSubdomains false and DisableIncludeSubDomains",
			rows:  []string{"STSSeconds, STSIncludeSubdomains"},
			req:   get("https://example.com/"),
			peerH: unrolledWith(secure.Options{STSSeconds: 31536000}),
			hgH:   hgHeaders(headers.Options{HSTS: headers.HSTS{MaxAge: 365 * 24 * time.Hour, DisableIncludeSubDomains: true}}),
			both:  []expect{header("Strict-Transport-Security", "max-age=31536000")},
		},
		{
			name: "the same value for the same option",
			rows: []string{"CustomFrameOptionsValue", "CustomBrowserXssValue", "PermissionsPolicy",
				"CrossOriginOpenerPolicy", "CrossOriginResourcePolicy", "CrossOriginEmbedderPolicy", "XPermittedCrossDomainPolicies"},
			req: get("https://example.com/"),
			peerH: unrolledWith(secure.Options{CustomFrameOptionsValue: "SAMEORIGIN", CustomBrowserXssValue: "0",
				PermissionsPolicy: "camera=(), geolocation=(self)", CrossOriginOpenerPolicy: "same-origin-allow-popups",
				CrossOriginResourcePolicy: "same-site", CrossOriginEmbedderPolicy: "require-corp", XPermittedCrossDomainPolicies: "master-only"}),
			hgH: hgHeaders(headers.Options{FrameOptions: "SAMEORIGIN", XSSProtection: "0",
				PermissionsPolicy: "camera=(), geolocation=(self)", CrossOriginOpenerPolicy: "same-origin-allow-popups",
				CrossOriginResourcePolicy: "same-site", CrossOriginEmbedderPolicy: "require-corp", PermittedCrossDomainPolicies: "master-only"}),
			both: []expect{headersAre(map[string]string{"X-Frame-Options": "SAMEORIGIN", "X-Xss-Protection": "0",
				"Permissions-Policy": "camera=(), geolocation=(self)", "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
				"Cross-Origin-Resource-Policy": "same-site", "Cross-Origin-Embedder-Policy": "require-corp", "X-Permitted-Cross-Domain-Policies": "master-only"})},
		},
		{
			name:  "a report-only policy alone: ContentSecurityPolicyReportOnly, and CSPReportOnly with OmitCSP",
			rows:  []string{"ContentSecurityPolicyReportOnly"},
			req:   get("https://example.com/"),
			peerH: unrolledWith(secure.Options{ContentSecurityPolicyReportOnly: "default-src 'self'"}),
			hgH:   hgHeaders(headers.Options{OmitCSP: true, CSPReportOnly: &headers.CSP{DefaultSrc: []string{headers.Self}}}),
			both:  []expect{header("Content-Security-Policy-Report-Only", "default-src 'self'"), header("Content-Security-Policy", "")},
		},
		{
			name:  "headers httpguard never sends: Feature-Policy and X-DNS-Prefetch-Control",
			rows:  []string{"FeaturePolicy", "XDNSPrefetchControl"},
			req:   get("https://example.com/"),
			peerH: unrolledWith(secure.Options{FeaturePolicy: "camera 'none'", XDNSPrefetchControl: "off"}),
			peer:  []expect{header("Feature-Policy", "camera 'none'"), header("X-Dns-Prefetch-Control", "off")},
			hgH:   hgHeaders(headers.Options{}),
			hg:    []expect{header("Feature-Policy", ""), header("X-Dns-Prefetch-Control", "")},
		},
	}
	out := section(unrolledHeading, peer, hg, cases)
	out = append(out,
		plain(unrolledHeading, "a nonce per response: $NONCE and ScriptNonce", []string{"ContentSecurityPolicy"}, func(t *testing.T) {
			u := secure.New(secure.Options{ContentSecurityPolicy: "script-src 'self' $NONCE"}).Handler(nonceEcho(func(r *http.Request) string { return secure.CSPNonce(r.Context()) }))
			h := must(headers.New(headers.Options{CSP: &headers.CSP{ScriptSrc: []string{headers.Self}, ScriptNonce: true}})).
				Handler(nonceEcho(func(r *http.Request) string { n, _ := headers.Nonce(r.Context()); return n }))
			eachSide(u, h, func(who string, h http.Handler) {
				seen := map[string]bool{}
				for range 2 {
					rec := serve(h, newReq(http.MethodGet, "https://example.com/"))
					nonce := rec.Body.String()
					if nonce == "" || seen[nonce] {
						t.Errorf("%s: nonce %q empty or repeated", who, nonce)
					}
					seen[nonce] = true
					headerHas("Content-Security-Policy", "'nonce-"+nonce+"'")(t, who, rec)
				}
			})
		}),
		plain(unrolledHeading, "what pages relax: headers.HTML() is a nonce-based policy; the default Permissions-Policy turns off camera, microphone, geolocation and payment",
			[]string{"ContentSecurityPolicy", "PermissionsPolicy"}, func(t *testing.T) {
				rec := serve(must(headers.New(headers.HTML())).Handler(next), newReq(http.MethodGet, "https://example.com/"))
				headerHas("Content-Security-Policy", "script-src 'nonce-")(t, "httpguard", rec)
				for _, f := range []string{"camera=()", "microphone=()", "geolocation=()", "payment=()"} {
					if !slices.Contains(strings.Split(headers.DefaultPermissionsPolicy, ", "), f) {
						t.Errorf("DefaultPermissionsPolicy %q lacks %s", headers.DefaultPermissionsPolicy, f)
					}
				}
			}),
		plain(unrolledHeading, "CSPReportOnly is sent next to the enforced policy", []string{"ContentSecurityPolicyReportOnly"}, func(t *testing.T) {
			h := must(headers.New(headers.Options{CSPReportOnly: &headers.CSP{DefaultSrc: []string{headers.Self}}})).Handler(next)
			rec := serve(h, newReq(http.MethodGet, "https://example.com/"))
			header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")(t, "httpguard", rec)
			header("Content-Security-Policy-Report-Only", "default-src 'self'")(t, "httpguard", rec)
		}),
		plain(unrolledHeading, "unsafe-inline for scripts: sent by unrolled/secure, an error in httpguard", []string{"ContentSecurityPolicy"}, func(t *testing.T) {
			rec := serve(secure.New(secure.Options{ContentSecurityPolicy: "script-src 'self' 'unsafe-inline'"}).Handler(next), newReq(http.MethodGet, "https://example.com/"))
			header("Content-Security-Policy", "script-src 'self' 'unsafe-inline'")(t, "peer", rec)
			refuses(t, headers.New, headers.Options{CSP: &headers.CSP{ScriptSrc: []string{headers.Self, "'unsafe-inline'"}}}, headers.ErrUnsafeSource)
		}),
		plain(unrolledHeading, "values are checked: ALLOW-FROM, unsafe-url and a typo are errors", []string{"CustomFrameOptionsValue", "ReferrerPolicy", "CrossOriginOpenerPolicy"}, func(t *testing.T) {
			for _, o := range []headers.Options{
				{FrameOptions: "ALLOW-FROM https://partner.test"},
				{ReferrerPolicy: "unsafe-url"},
				{CrossOriginOpenerPolicy: "same-orign"},
			} {
				refuses(t, headers.New, o, headers.ErrValue)
			}
		}),
		plain(unrolledHeading, "preload needs includeSubDomains and a year", []string{"STSPreload"}, func(t *testing.T) {
			for _, h := range []headers.HSTS{{Preload: true, MaxAge: 300 * time.Second}, {Preload: true, DisableIncludeSubDomains: true}} {
				refuses(t, headers.New, headers.Options{HSTS: h}, headers.ErrHSTS)
			}
		}),
		plain(unrolledHeading, "no development switch", []string{"IsDevelopment"}, func(t *testing.T) {
			noField(t, headers.Options{}, "IsDevelopment")
			noField(t, https.RedirectOptions{}, "IsDevelopment")
		}),
		plain(unrolledHeading, "no request filter", []string{"AllowRequestFunc, SetBadRequestHandler"}, func(t *testing.T) {
			noField(t, headers.Options{}, "AllowRequestFunc")
			noMethod(t, &headers.Middleware{}, "SetBadRequestHandler")
		}),
		plain(unrolledHeading, "no force-STS or regular-expression switch", []string{"ForceSTSHeader", "AllowedHostsAreRegex"}, func(t *testing.T) {
			noField(t, headers.HSTS{}, "Force", "ForceSTSHeader")
			noField(t, headers.Options{}, "ForceSTSHeader", "AllowedHostsAreRegex", "HostsProxyHeaders")
		}),
		plain(unrolledHeading, "ModifyResponse removes a backend's copies", []string{"ModifyResponseHeaders, HandlerForRequestOnly, SecureContextKey"}, func(t *testing.T) {
			noField(t, headers.Options{}, "SecureContextKey")
			sec := must(headers.New(headers.Options{}))
			res := &http.Response{Header: http.Header{"X-Frame-Options": {"ALLOWALL"}, "Content-Security-Policy": {"default-src *"}}}
			if err := sec.ModifyResponse(res); err != nil {
				t.Fatal(err)
			}
			if res.Header.Get("X-Frame-Options") != "" || res.Header.Get("Content-Security-Policy") != "default-src *" {
				t.Errorf("after ModifyResponse: %v; want X-Frame-Options removed, the backend's policy kept", res.Header)
			}
		}),
	)
	return out
}

// --- CSRF: a browser that loaded a form, then posts -------------------------

// csrfKey is the key of both sides' tokens in the tests.
var csrfKey = []byte("0123456789abcdef0123456789abcdef")

// tokenMux serves GET /form with the request's token as the body
// (tokenOf nil: nothing; the token is the cookie's value) and every other
// request with next.
func tokenMux(tokenOf func(*http.Request) string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		if tokenOf != nil {
			_, _ = io.WriteString(w, tokenOf(r))
		}
	})
	mux.Handle("/", next)
	return mux
}

// csrfSide is one side of a CSRF case: its handler, made with tokenMux,
// and the form field its token goes in.
type csrfSide struct {
	h     func(t *testing.T) http.Handler
	field string
}

// csrfCase loads the form with a GET, then sends method to target with
// the headers kv and, as asked, the cookie and the token (in the
// X-CSRF-Token header, or in the side's form field with form).
type csrfCase struct {
	name           string
	rows           []string
	method, target string
	kv             []string
	cookie, token  bool
	form           bool
	// upload sends a multipart form whose file part holds upload bytes,
	// after the token field with form.
	upload     int
	header     string // token header; default X-CSRF-Token
	peer, hg   []expect
	both       []expect // expectations of each side, checked first
	peerS, hgS *csrfSide
}

// Request headers of the CSRF cases: a fetch from the page's own origin,
// one from another site, and a payment provider's webhook call.
var (
	sameOrigin = []string{"Origin", "https://example.com", "Sec-Fetch-Site", "same-origin"}
	crossSite  = []string{"Origin", "https://evil.test", "Sec-Fetch-Site", "cross-site"}
	fromStripe = []string{"Origin", "https://stripe.test", "Sec-Fetch-Site", "cross-site"}
)

// transfer is the target of the CSRF cases' POSTs.
const transfer = "https://example.com/transfer"

// prime loads the form and returns the cookie line and the token.
func prime(t *testing.T, h http.Handler) (cookie, tok string) {
	t.Helper()
	rec := serve(h, newReq(http.MethodGet, "https://example.com/form"))
	cs := rec.Result().Cookies()
	if rec.Code != 200 || len(cs) > 1 {
		t.Fatalf("loading the form: status %d, cookies %v", rec.Code, cs)
	}
	if len(cs) == 0 { // no tokens
		return "", ""
	}
	tok = rec.Body.String()
	if tok == "" {
		tok = cs[0].Value
	}
	return cs[0].Name + "=" + cs[0].Value, tok
}

func (c csrfCase) send(t *testing.T, s csrfSide) *exchange {
	h := s.h(t)
	cookie, tok := prime(t, h)
	var r *http.Request
	switch {
	case c.upload > 0:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if c.form && c.token {
			_ = mw.WriteField(s.field, tok)
		}
		fw, _ := mw.CreateFormFile("upload", "photo.jpg")
		_, _ = fw.Write(bytes.Repeat([]byte{'x'}, c.upload))
		_ = mw.Close()
		r = httptest.NewRequest(c.method, c.target, &buf)
		r.Header.Set("Content-Type", mw.FormDataContentType())
	case c.form && c.token:
		r = httptest.NewRequest(c.method, c.target, strings.NewReader(url.Values{s.field: {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		r = httptest.NewRequest(c.method, c.target, nil)
	}
	for i := 0; i+1 < len(c.kv); i += 2 {
		r.Header.Add(c.kv[i], c.kv[i+1])
	}
	if c.token && !c.form {
		name := c.header
		if name == "" {
			name = "X-CSRF-Token"
		}
		r.Header.Set(name, tok)
	}
	if c.cookie && cookie != "" {
		r.Header.Add("Cookie", cookie)
	}
	return serve(h, r)
}

func csrfSection(heading string, peer, hg csrfSide, cases []csrfCase) []migCase {
	out := make([]migCase, 0, len(cases))
	for _, c := range cases {
		ps, hs := peer, hg
		if c.peerS != nil {
			ps = *c.peerS
		}
		if c.hgS != nil {
			hs = *c.hgS
		}
		out = append(out, migCase{heading: heading, rows: c.rows, name: c.name, run: func(t *testing.T) {
			check(t, "peer", c.send(t, ps), slices.Concat(c.both, c.peer))
			check(t, "httpguard", c.send(t, hs), slices.Concat(c.both, c.hg))
		}})
	}
	return out
}

// cookieIs expects the Set-Cookie line of the response that sets name to
// have exactly the attributes attrs (in any order), and whether it has an
// Expires attribute.
func cookieIs(name string, expires bool, attrs ...string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		for _, line := range rec.Result().Header.Values("Set-Cookie") {
			parts := strings.Split(line, "; ")
			if !strings.HasPrefix(parts[0], name+"=") {
				continue
			}
			var got []string
			hasExpires := false
			for _, p := range parts[1:] {
				if strings.HasPrefix(p, "Expires=") {
					hasExpires = true
					continue
				}
				got = append(got, p)
			}
			slices.Sort(got)
			want := slices.Clone(attrs)
			slices.Sort(want)
			if !slices.Equal(got, want) || hasExpires != expires {
				t.Errorf("%s: cookie %s attributes %q (Expires %v), want %q (Expires %v)", who, name, got, hasExpires, want, expires)
			}
			return
		}
		t.Errorf("%s: no cookie %s set (Set-Cookie %q)", who, name, rec.Result().Header.Values("Set-Cookie"))
	}
}

// setsCookie expects a Set-Cookie header, or none.
func setsCookie(yes bool) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		if got := len(rec.Result().Header.Values("Set-Cookie")) > 0; got != yes {
			t.Errorf("%s: Set-Cookie %q, want one: %v", who, rec.Result().Header.Values("Set-Cookie"), yes)
		}
	}
}

// echoError expects echo's default error response: JSON whose message is
// msg.
func echoError(code int, msg string) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		status(code)(t, who, rec)
		headerHas("Content-Type", "application/json")(t, who, rec)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["message"] != msg || len(m) != 1 {
			t.Errorf("%s: body %q, want {\"message\":%q}", who, rec.Body.String(), msg)
		}
	}
}

// hgToken serves next behind a csrf.Middleware with o, tokens read with
// csrf.Token.
func hgToken(o csrf.Options) *csrfSide {
	return &csrfSide{h: func(*testing.T) http.Handler { return must(csrf.New(o)).Handler(tokenMux(csrf.Token)) }, field: "csrf_token"}
}

// rewrite serves h with the request f makes of each request.
func rewrite(h http.Handler, f func(r *http.Request) *http.Request) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, f(r)) })
}

// The cases below recur in the token sections, gorilla/csrf and nosurf:
// both peers and the guide's httpguard configurations ask every unsafe
// request for a token and trust https://admin.example.com.

// csrfTokenPasses: a same-origin POST with the cookie and the token in
// the X-CSRF-Token header passes.
func csrfTokenPasses(rows ...string) csrfCase {
	return csrfCase{
		name: "a same-origin POST with the cookie and the token passes", rows: rows,
		method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true, token: true,
		both: []expect{status(200), reached(true)},
	}
}

// csrfFormPasses: the same POST with the token in the side's form field
// passes.
func csrfFormPasses(name string, rows ...string) csrfCase {
	return csrfCase{
		name: name, rows: rows,
		method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true, token: true, form: true,
		both: []expect{status(200), reached(true)},
	}
}

// csrfTrustedPasses: a same-site POST with the token from the trusted
// https origin passes.
func csrfTrustedPasses(name string, rows ...string) csrfCase {
	return csrfCase{
		name: name, rows: rows,
		method: http.MethodPost, target: transfer, cookie: true, token: true,
		kv:   []string{"Origin", "https://admin.example.com", "Sec-Fetch-Site", "same-site"},
		both: []expect{status(200), reached(true)},
	}
}

// csrfNonBrowser: a POST with the token and neither Origin nor Referer,
// as a client that is no browser sends it, is answered as peer expects
// and passes httpguard.
func csrfNonBrowser(name string, peer ...expect) csrfCase {
	return csrfCase{
		name: name, rows: []string{"POST without Origin and Referer"},
		method: http.MethodPost, target: transfer, cookie: true, token: true,
		peer: peer,
		hg:   []expect{status(200), reached(true)},
	}
}

// csrfPlainHTTP: a same-origin POST with the token over plain HTTP is
// answered as peer expects by the peer (peerS, when set, replaces the
// section's) and passes httpguard.
func csrfPlainHTTP(name, row string, peerS *csrfSide, peer ...expect) csrfCase {
	return csrfCase{
		name: name, rows: []string{row},
		method: http.MethodPost, target: "http://example.com/transfer", cookie: true, token: true,
		kv:    []string{"Origin", "http://example.com"},
		peerS: peerS,
		peer:  peer,
		hg:    []expect{status(200), reached(true)},
	}
}

// csrfTrace: a cross-site TRACE, which the peer takes as safe and
// httpguard checks.
func csrfTrace(name string) csrfCase {
	return csrfCase{
		name: name, rows: []string{"Safe methods"},
		method: http.MethodTrace, target: transfer, kv: crossSite,
		peer: []expect{status(200), reached(true)},
		hg:   []expect{problemDoc(403), reached(false)},
	}
}

// csrfUpload: a same-origin POST of a 2 MiB upload form with the token in
// the side's form field: read by the peer, which parses the whole form; over
// httpguard's MaxFormBytes (1 MiB by default), so refused with 413.
func csrfUpload(name string, rows ...string) csrfCase {
	return csrfCase{
		name: name, rows: rows,
		method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true, token: true, form: true, upload: 2 << 20,
		peer: []expect{status(200), reached(true)},
		hg:   []expect{problemDoc(413), reached(false)},
	}
}

// csrfUploadRaised: the same upload passes httpguard with a MaxFormBytes
// of 4 MiB.
func csrfUploadRaised(name string, rows ...string) csrfCase {
	c := csrfUpload(name, rows...)
	c.hg = []expect{status(200), reached(true)}
	c.hgS = hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, Always: true, MaxFormBytes: 4 << 20}})
	return c
}

// csrfUploadHeader: the same upload with the token in X-CSRF-Token passes
// both: the body is not read for the token.
func csrfUploadHeader(rows ...string) csrfCase {
	c := csrfUpload("the same upload with the token in the header passes both", rows...)
	c.form = false
	c.peer, c.hg = nil, nil
	c.both = []expect{status(200), reached(true)}
	return c
}

// hgTeapotOnMissingToken is a token-checking httpguard side whose
// OnReject answers 418 to a missing token.
func hgTeapotOnMissingToken() *csrfSide {
	return hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, Always: true}, OnReject: rejectWith(http.StatusTeapot, csrf.ErrTokenMissing)})
}

// --- github.com/gorilla/csrf ----------------------------------------------

const gorillaHeading = "github.com/gorilla/csrf"

// guide: github.com/gorilla/csrf, before
func guideGorillaCSRFBefore(mux http.Handler, key []byte) http.Handler {
	protect := gorillacsrf.Protect(key, gorillacsrf.TrustedOrigins([]string{"admin.example.com"}))
	handler := protect(mux)
	return handler
}

// guide: github.com/gorilla/csrf, after
func guideGorillaCSRFAfter(mux http.Handler, key []byte) http.Handler {
	p, err := csrf.New(csrf.Options{
		TrustedOrigins: []string{"https://admin.example.com"},
		Tokens:         &csrf.TokenOptions{Key: key, Always: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := p.Handler(mux)
	return handler
}

func gorillaCSRFCases() []migCase {
	peer := csrfSide{h: func(*testing.T) http.Handler {
		return guideGorillaCSRFBefore(tokenMux(gorillacsrf.Token), csrfKey)
	}, field: "gorilla.csrf.Token"}
	hg := csrfSide{h: func(*testing.T) http.Handler {
		return guideGorillaCSRFAfter(tokenMux(csrf.Token), csrfKey)
	}, field: "csrf_token"}
	gorillaWith := func(opts ...gorillacsrf.Option) *csrfSide {
		return &csrfSide{h: func(*testing.T) http.Handler {
			return gorillacsrf.Protect(csrfKey, opts...)(tokenMux(gorillacsrf.Token))
		}, field: "gorilla.csrf.Token"}
	}
	cases := []csrfCase{
		csrfTokenPasses("Protect(authKey, ...)", "Token, TemplateField", "RequestHeader"),
		csrfFormPasses("the token in the form field passes", "FieldName", "Token, TemplateField"),
		{
			name:   "a same-origin POST without a token is refused: text with the reason, or a problem document",
			rows:   []string{"Protect(authKey, ...)", "Refusal"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true,
			peer: []expect{textError(403, "Forbidden - CSRF token not found in request"), reached(false)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "a same-origin POST without a token passes httpguard without Tokens",
			rows:   []string{"Same-origin POST without a token, csrf.Options without Tokens"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true,
			peer: []expect{status(403), reached(false)},
			hgS:  hgToken(csrf.Options{TrustedOrigins: []string{"https://admin.example.com"}}),
			hg:   []expect{status(200), reached(true)},
		},
		{
			name:   "a cross-site POST is refused even with the token",
			rows:   []string{"Protect(authKey, ...)"},
			method: http.MethodPost, target: transfer, kv: crossSite, cookie: true, token: true,
			peer: []expect{textError(403, "Forbidden - origin invalid"), reached(false)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		csrfTrustedPasses("a trusted https origin passes with the token", "TrustedOrigins"),
		{
			name:   "the http origin of a trusted host: trusted by gorilla/csrf (CVE-2025-47909), refused by httpguard",
			rows:   []string{"TrustedOrigins"},
			method: http.MethodPost, target: transfer, cookie: true, token: true,
			kv:   []string{"Origin", "http://admin.example.com", "Sec-Fetch-Site", "cross-site"},
			peer: []expect{status(200), reached(true)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		csrfNonBrowser("no Origin and no Referer (a non-browser client) with the token: refused by gorilla/csrf, accepted by httpguard",
			textError(403, "Forbidden - referer not supplied"), reached(false)),
		csrfPlainHTTP("plain HTTP, same origin: refused by gorilla/csrf unless marked with PlaintextHTTPRequest, accepted by httpguard", "PlaintextHTTPRequest",
			nil, textError(403, "Forbidden - origin invalid")),
		csrfPlainHTTP("plain HTTP marked with PlaintextHTTPRequest passes gorilla/csrf", "PlaintextHTTPRequest",
			&csrfSide{h: func(*testing.T) http.Handler {
				return rewrite(guideGorillaCSRFBefore(tokenMux(gorillacsrf.Token), csrfKey), func(r *http.Request) *http.Request {
					if r.TLS == nil {
						r = gorillacsrf.PlaintextHTTPRequest(r)
					}
					return r
				})
			}},
			status(200), reached(true)),
		csrfTrace("TRACE is safe for gorilla/csrf, checked by httpguard"),
		csrfUpload("an upload form of 2 MiB, the token in its field: read by gorilla/csrf, 413 from httpguard", "A form over 1 MiB, the token in its field"),
		csrfUploadRaised("the same upload passes with a larger MaxFormBytes", "FieldName"),
		csrfUploadHeader("A form over 1 MiB, the token in its field", "RequestHeader"),
		{
			name:   "a GET with a _method parameter is checked as unsafe by httpguard",
			rows:   []string{"Safe methods"},
			method: http.MethodGet, target: "https://example.com/items/1?_method=DELETE",
			kv:   []string{"Sec-Fetch-Site", "cross-site"},
			peer: []expect{status(200), reached(true)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "a refused request without a cookie: gorilla/csrf sets one, httpguard does not",
			rows:   []string{"Cookie on a refusal"},
			method: http.MethodPost, target: transfer, kv: sameOrigin,
			peer: []expect{status(403), setsCookie(true)},
			hg:   []expect{status(403), setsCookie(false)},
		},
		{
			name:   "a passing request: Vary: Cookie from gorilla/csrf, nothing from httpguard when the cookie is already there",
			rows:   []string{"Vary: Cookie"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true, token: true,
			peer: []expect{status(200), header("Vary", "Cookie")},
			hg:   []expect{status(200), header("Vary", ""), setsCookie(false)},
		},
		{
			name:   "the cookies: a 12-hour host cookie without Path, or a __Host- browser-session cookie",
			rows:   []string{"CookieName", "MaxAge, Domain, Path, HttpOnly, SameSite", "Vary: Cookie"},
			method: http.MethodGet, target: "https://example.com/form",
			peer: []expect{cookieIs("_gorilla_csrf", true, "Max-Age=43200", "HttpOnly", "Secure", "SameSite=Lax"), header("Vary", "Cookie")},
			hg:   []expect{cookieIs("__Host-csrf", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax"), header("Vary", "Cookie"), header("Cache-Control", "private")},
		},
		{
			name:   "SameSite=None for a cross-site frame: csrf.SameSite, or TokenOptions.Partitioned",
			rows:   []string{"MaxAge, Domain, Path, HttpOnly, SameSite"},
			method: http.MethodGet, target: "https://example.com/form",
			peerS: gorillaWith(gorillacsrf.SameSite(gorillacsrf.SameSiteNoneMode)),
			peer:  []expect{cookieIs("_gorilla_csrf", true, "Max-Age=43200", "HttpOnly", "Secure", "SameSite=None")},
			hgS:   hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, Partitioned: true}}),
			hg:    []expect{cookieIs("__Host-csrf", false, "Path=/", "HttpOnly", "Secure", "SameSite=None", "Partitioned")},
		},
		{
			name:   "other cookie names",
			rows:   []string{"CookieName"},
			method: http.MethodGet, target: "https://example.com/form",
			peerS: gorillaWith(gorillacsrf.CookieName("csrf_cookie")),
			peer:  []expect{cookieIs("csrf_cookie", true, "Max-Age=43200", "HttpOnly", "Secure", "SameSite=Lax")},
			hgS:   hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, CookieName: "__Host-app-csrf"}}),
			hg:    []expect{cookieIs("__Host-app-csrf", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")},
		},
		{
			name:   "Secure(false) and DangerouslyAllowInsecureCookie drop Secure",
			rows:   []string{"Secure(false)"},
			method: http.MethodGet, target: "https://example.com/form",
			peerS: gorillaWith(gorillacsrf.Secure(false)),
			peer:  []expect{cookieIs("_gorilla_csrf", true, "Max-Age=43200", "HttpOnly", "SameSite=Lax")},
			hgS:   hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, DangerouslyAllowInsecureCookie: true}}),
			hg:    []expect{cookieIs("csrf", false, "Path=/", "HttpOnly", "SameSite=Lax")},
		},
		{
			name:   "another token header",
			rows:   []string{"RequestHeader"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true, token: true, header: "X-XSRF-Token",
			peerS: gorillaWith(gorillacsrf.RequestHeader("X-XSRF-Token")),
			hgS:   hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, Always: true, HeaderName: "X-XSRF-Token"}}),
			both:  []expect{status(200), reached(true)},
		},
		{
			name:   "ErrorHandler and OnReject write the refusal and see the reason",
			rows:   []string{"ErrorHandler, FailureReason"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true,
			peerS: gorillaWith(gorillacsrf.ErrorHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if errors.Is(gorillacsrf.FailureReason(r), gorillacsrf.ErrNoToken) {
					w.WriteHeader(http.StatusTeapot)
				}
			}))),
			hgS:  hgTeapotOnMissingToken(),
			both: []expect{status(418)},
		},
		{
			name:   "a route skipped with UnsafeSkipCheck, or exempt, takes cross-site POSTs without a token",
			rows:   []string{"UnsafeSkipCheck"},
			method: http.MethodPost, target: "https://example.com/webhooks/stripe",
			kv: fromStripe,
			peerS: &csrfSide{h: func(*testing.T) http.Handler {
				return rewrite(gorillacsrf.Protect(csrfKey)(tokenMux(gorillacsrf.Token)), func(r *http.Request) *http.Request {
					if r.URL.Path == "/webhooks/stripe" {
						r = gorillacsrf.UnsafeSkipCheck(r)
					}
					return r
				})
			}},
			hgS: hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, Always: true},
				Exempt: []csrf.Exemption{{Pattern: "POST /webhooks/stripe", Reason: "signed by the payment provider"}}}),
			both: []expect{status(200), reached(true)},
		},
	}
	out := csrfSection(gorillaHeading, peer, hg, cases)
	out = append(out,
		plain(gorillaHeading, "keys shorter than 32 bytes and field names with dots are errors", []string{"Protect(authKey, ...)", "FieldName"}, func(t *testing.T) {
			for _, o := range []*csrf.TokenOptions{
				{Key: []byte("0123456789abcdef")},
				{Key: csrfKey, FieldName: "gorilla.csrf.Token"},
			} {
				refuses(t, csrf.New, csrf.Options{Tokens: o}, csrf.ErrInvalidTokenOptions)
			}
		}),
		plain(gorillaHeading, "the cookie attributes are fixed", []string{"MaxAge, Domain, Path, HttpOnly, SameSite"}, func(t *testing.T) {
			noField(t, csrf.TokenOptions{}, "MaxAge", "Domain", "Path", "HttpOnly", "SameSite")
		}),
	)
	return out
}

// --- github.com/justinas/nosurf -------------------------------------------

const nosurfHeading = "github.com/justinas/nosurf"

// guide: github.com/justinas/nosurf, before
func guideNosurfBefore(mux http.Handler) http.Handler {
	h := nosurf.New(mux)
	h.SetBaseCookie(http.Cookie{Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	h.ExemptPath("/webhooks/stripe")
	trusted, err := nosurf.StaticOrigins("https://admin.example.com")
	if err != nil {
		log.Fatal(err)
	}
	h.SetIsAllowedOriginFunc(trusted)
	handler := http.Handler(h)
	return handler
}

// guide: github.com/justinas/nosurf, after
func guideNosurfAfter(mux http.Handler, key []byte) http.Handler {
	p, err := csrf.New(csrf.Options{
		TrustedOrigins: []string{"https://admin.example.com"},
		Exempt:         []csrf.Exemption{{Pattern: "/webhooks/stripe", Reason: "signed by the payment provider"}},
		Tokens:         &csrf.TokenOptions{Key: key, Always: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := p.Handler(mux)
	return handler
}

func nosurfCases() []migCase {
	peer := csrfSide{h: func(*testing.T) http.Handler { return guideNosurfBefore(tokenMux(nosurf.Token)) }, field: "csrf_token"}
	hg := csrfSide{h: func(*testing.T) http.Handler { return guideNosurfAfter(tokenMux(csrf.Token), csrfKey) }, field: "csrf_token"}
	// nosurfWith serves the token form behind nosurf.New with the changes
	// configure makes.
	nosurfWith := func(configure func(h *nosurf.CSRFHandler)) *csrfSide {
		return &csrfSide{h: func(*testing.T) http.Handler {
			h := nosurf.New(tokenMux(nosurf.Token))
			configure(h)
			return h
		}}
	}
	cases := []csrfCase{
		csrfTokenPasses("New(handler)", "Token, RegenerateToken", "FormFieldName, HeaderName, CookieName"),
		csrfFormPasses("the token in the csrf_token form field passes", "FormFieldName, HeaderName, CookieName"),
		{
			name:   "without a token: 400 text, or a 403 problem document",
			rows:   []string{"New(handler)", "Refusal"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true,
			peer: []expect{textError(400, "Bad Request"), reached(false)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "a cross-site POST is refused even with the token",
			rows:   []string{"New(handler)"},
			method: http.MethodPost, target: transfer, kv: crossSite, cookie: true, token: true,
			peer: []expect{status(400), reached(false)},
			hg:   []expect{status(403), reached(false)},
		},
		csrfTrustedPasses("a trusted origin passes with the token; its http origin does not", "SetIsAllowedOriginFunc, StaticOrigins"),
		{
			name:   "the http origin of a trusted host is refused by both",
			rows:   []string{"SetIsAllowedOriginFunc, StaticOrigins"},
			method: http.MethodPost, target: transfer, cookie: true, token: true,
			kv:   []string{"Origin", "http://admin.example.com", "Sec-Fetch-Site", "cross-site"},
			peer: []expect{status(400), reached(false)},
			hg:   []expect{status(403), reached(false)},
		},
		csrfNonBrowser("no Origin and no Referer (a non-browser client) with the token: refused by nosurf, accepted by httpguard",
			status(400), reached(false)),
		{
			name:   "Origin null with a same-origin Referer: the Referer decides in nosurf, refused by httpguard",
			rows:   []string{"Origin: null"},
			method: http.MethodPost, target: transfer, cookie: true, token: true,
			kv:   []string{"Origin", "null", "Referer", "https://example.com/form"},
			peer: []expect{status(200), reached(true)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "an exempt path takes cross-site POSTs without a token",
			rows:   []string{"ExemptPath, ExemptPaths"},
			method: http.MethodPost, target: "https://example.com/webhooks/stripe",
			kv:   fromStripe,
			both: []expect{status(200), reached(true)},
		},
		csrfTrace("TRACE is safe for nosurf, checked by httpguard"),
		csrfUpload("an upload form of 2 MiB, the token in its field: read by nosurf, 413 from httpguard", "A form over 1 MiB, the token in its field"),
		csrfUploadRaised("the same upload passes with a larger MaxFormBytes", "FormFieldName, HeaderName, CookieName"),
		csrfUploadHeader("A form over 1 MiB, the token in its field", "FormFieldName, HeaderName, CookieName"),
		csrfPlainHTTP("plain HTTP, same origin: refused by nosurf (it assumes HTTPS), accepted by httpguard", "SetIsTLSFunc",
			nil, status(400), reached(false)),
		csrfPlainHTTP("plain HTTP, same origin, with SetIsTLSFunc reading r.TLS: accepted by both", "SetIsTLSFunc",
			nosurfWith(func(h *nosurf.CSRFHandler) { h.SetIsTLSFunc(func(r *http.Request) bool { return r.TLS != nil }) }),
			status(200), reached(true)),
		{
			name:   "the cookie: the base cookie's attributes with nosurf, fixed ones with httpguard",
			rows:   []string{"SetBaseCookie"},
			method: http.MethodGet, target: "https://example.com/form",
			peer: []expect{cookieIs("csrf_token", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")},
			hg:   []expect{cookieIs("__Host-csrf", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")},
		},
		{
			name:   "nosurf's default cookie: a year, no Secure, HttpOnly or SameSite",
			rows:   []string{"SetBaseCookie"},
			method: http.MethodGet, target: "https://example.com/form",
			peerS: nosurfWith(func(*nosurf.CSRFHandler) {}),
			peer:  []expect{cookieIs("csrf_token", false, "Max-Age=31536000")},
			hg:    []expect{cookieIs("__Host-csrf", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")},
		},
		{
			name:   "a refused request without a cookie: nosurf sets one and Vary: Cookie, httpguard neither",
			rows:   []string{"Cookie on a refusal"},
			method: http.MethodPost, target: transfer, kv: sameOrigin,
			peer: []expect{status(400), setsCookie(true), header("Vary", "Cookie")},
			hg:   []expect{status(403), setsCookie(false), header("Vary", "")},
		},
		{
			name:   "SetFailureHandler and OnReject write the refusal and see the reason",
			rows:   []string{"SetFailureHandler, Reason"},
			method: http.MethodPost, target: transfer, kv: sameOrigin, cookie: true,
			peerS: nosurfWith(func(h *nosurf.CSRFHandler) {
				h.SetFailureHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if errors.Is(nosurf.Reason(r), nosurf.ErrBadToken) {
						w.WriteHeader(http.StatusTeapot)
					}
				}))
			}),
			hgS:  hgTeapotOnMissingToken(),
			both: []expect{status(418)},
		},
	}
	out := csrfSection(nosurfHeading, peer, hg, cases)
	out = append(out,
		plain(nosurfHeading, "exemptions are exact paths with a reason: no glob", []string{"ExemptGlob(s), ExemptRegexp(s), ExemptFunc", "ExemptPath, ExemptPaths"}, func(t *testing.T) {
			noMethod(t, &csrf.Middleware{}, "ExemptGlob", "ExemptRegexp", "ExemptFunc")
			refuses(t, csrf.New, csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/webhooks/stripe"}}}, csrf.ErrInvalidExemption)
			// nosurf's glob exempts /webhooks/stripe; the same text in an
			// exemption is an error from New, and an exemption names
			// one exact path.
			n := nosurf.New(next)
			n.ExemptGlob("/webhooks/*")
			refuses(t, csrf.New, csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/webhooks/*", Reason: "a glob"}}}, csrf.ErrInvalidExemption)
			p := must(csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/webhooks/stripe", Reason: "signed by Stripe"}}}))
			cross := func(path string) *http.Request {
				return newReq(http.MethodPost, "https://example.com"+path, fromStripe...)
			}
			status(200)(t, "peer", serve(n, cross("/webhooks/stripe")))
			status(200)(t, "httpguard", serve(p.Handler(next), cross("/webhooks/stripe")))
			status(200)(t, "peer", serve(n, cross("/webhooks/github")))
			status(403)(t, "httpguard", serve(p.Handler(next), cross("/webhooks/github")))
		}),
		plain(nosurfHeading, "each call of Token masks the token afresh, and each verifies", []string{"Token, RegenerateToken"}, func(t *testing.T) {
			var toks []string
			var cookie string
			h := must(csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey, Always: true}})).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					toks = append(toks, csrf.Token(r), csrf.Token(r))
				}
			}))
			rec := serve(h, newReq(http.MethodGet, "https://example.com/form"))
			cookie = rec.Result().Cookies()[0].String()
			if len(toks) != 2 || toks[0] == toks[1] {
				t.Fatalf("tokens %q: want two different ones", toks)
			}
			for _, tok := range toks {
				rec := serve(h, newReq(http.MethodPost, "https://example.com/transfer", "Cookie", cookie, "X-CSRF-Token", tok))
				status(200)(t, "httpguard", rec)
			}
		}),
	)
	return out
}

// --- github.com/labstack/echo/v4/middleware: CSRFWithConfig ---------------

const echoCSRFHeading = "CSRFWithConfig"

// guide: echo CSRFWithConfig, before
func guideEchoCSRFBefore(mux http.Handler) http.Handler {
	e := echo.New()
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TrustedOrigins: []string{"https://admin.example.com"},
		CookieSecure:   true,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
	}))
	e.Any("/*", echo.WrapHandler(mux))
	handler := http.Handler(e)
	return handler
}

// guide: echo CSRFWithConfig, after
func guideEchoCSRFAfter(mux http.Handler, key []byte) http.Handler {
	p, err := csrf.New(csrf.Options{
		TrustedOrigins: []string{"https://admin.example.com"},
		Tokens:         &csrf.TokenOptions{Key: key},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := p.Handler(mux)
	return handler
}

func echoCSRFCases() []migCase {
	// echo's token is the value of its cookie: tokenMux(nil) lets prime
	// read it there.
	peer := csrfSide{h: func(*testing.T) http.Handler { return guideEchoCSRFBefore(tokenMux(nil)) }, field: "csrf"}
	hg := csrfSide{h: func(*testing.T) http.Handler { return guideEchoCSRFAfter(tokenMux(csrf.Token), csrfKey) }, field: "csrf_token"}
	echoWithCSRF := func(c middleware.CSRFConfig) *csrfSide {
		return &csrfSide{h: func(*testing.T) http.Handler {
			return echoOver(tokenMux(nil), middleware.CSRFWithConfig(c))
		}, field: "csrf"}
	}
	sameSite := []string{"Origin", "https://blog.example.com", "Sec-Fetch-Site", "same-site"}
	missingToken := echoError(400, "missing csrf token in request header")
	cases := []csrfCase{
		{
			name:   "Sec-Fetch-Site: same-origin passes without a token",
			rows:   []string{"Sec-Fetch-Site: same-origin"},
			method: http.MethodPost, target: transfer, kv: sameOrigin,
			both: []expect{status(200), reached(true)},
		},
		{
			name:   "Sec-Fetch-Site: cross-site is refused: echo's JSON, or a problem document",
			rows:   []string{"Sec-Fetch-Site: cross-site"},
			method: http.MethodPost, target: transfer, kv: crossSite, cookie: true, token: true,
			peer: []expect{echoError(403, "cross-site request blocked by CSRF"), reached(false)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "a trusted origin passes a cross-site request",
			rows:   []string{"TrustedOrigins"},
			method: http.MethodPost, target: transfer,
			kv:   []string{"Origin", "https://admin.example.com", "Sec-Fetch-Site", "same-site"},
			both: []expect{status(200), reached(true)},
		},
		{
			name:   "Sec-Fetch-Site: same-site with the token: accepted by echo, refused by httpguard",
			rows:   []string{"Sec-Fetch-Site: same-site", "AllowSecFetchSiteFunc"},
			method: http.MethodPost, target: transfer, kv: sameSite, cookie: true, token: true,
			peer: []expect{status(200), reached(true)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "Sec-Fetch-Site: same-site without a token: refused by echo, accepted by httpguard with AllowSameSite",
			rows:   []string{"Sec-Fetch-Site: same-site", "AllowSecFetchSiteFunc"},
			method: http.MethodPost, target: transfer, kv: sameSite,
			peer: []expect{missingToken, reached(false)},
			hgS:  hgToken(csrf.Options{AllowSameSite: true, Tokens: &csrf.TokenOptions{Key: csrfKey}}),
			hg:   []expect{status(200), reached(true)},
		},
		{
			name:   "no Sec-Fetch-Site, a same-origin Origin, no token: refused by echo, accepted by httpguard",
			rows:   []string{"No Sec-Fetch-Site, same-origin Origin"},
			method: http.MethodPost, target: transfer, cookie: true,
			kv:   []string{"Origin", "https://example.com"},
			peer: []expect{missingToken, reached(false)},
			hg:   []expect{status(200), reached(true)},
		},
		{
			name:   "neither header, with the token: accepted by both",
			rows:   []string{"Neither Sec-Fetch-Site nor Origin"},
			method: http.MethodPost, target: transfer, cookie: true, token: true,
			both: []expect{status(200), reached(true)},
		},
		{
			name:   "neither header, no token: 400 from echo, 403 from httpguard",
			rows:   []string{"Neither Sec-Fetch-Site nor Origin"},
			method: http.MethodPost, target: transfer, cookie: true,
			peer: []expect{missingToken, reached(false)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "neither header, a wrong token: 403 from both",
			rows:   []string{"Neither Sec-Fetch-Site nor Origin"},
			method: http.MethodPost, target: transfer, cookie: true,
			kv:   []string{"X-CSRF-Token", "forged"},
			peer: []expect{echoError(403, "invalid csrf token"), reached(false)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "the token in a form field",
			rows:   []string{"TokenLookup"},
			method: http.MethodPost, target: transfer, cookie: true, token: true, form: true,
			peerS: echoWithCSRF(middleware.CSRFConfig{TokenLookup: "form:csrf"}),
			both:  []expect{status(200), reached(true)},
		},
		{
			name:   "the token in the query string: accepted by echo, never read by httpguard",
			rows:   []string{"TokenLookup"},
			method: http.MethodPost, target: transfer, cookie: true,
			peerS: &csrfSide{h: func(*testing.T) http.Handler {
				return rewrite(echoWithCSRF(middleware.CSRFConfig{TokenLookup: "query:csrf"}).h(nil), func(r *http.Request) *http.Request {
					if c, err := r.Cookie("_csrf"); err == nil && r.Method == http.MethodPost {
						r.URL.RawQuery = "csrf=" + url.QueryEscape(c.Value)
					}
					return r
				})
			}},
			peer: []expect{status(200), reached(true)},
			hgS: &csrfSide{h: func(*testing.T) http.Handler {
				h := guideEchoCSRFAfter(tokenMux(csrf.Token), csrfKey)
				var tok string
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet {
						rec := serve(h, r)
						tok = rec.Body.String()
						maps.Copy(w.Header(), rec.Header())
						_, _ = io.WriteString(w, tok)
						return
					}
					r.URL.RawQuery = "csrf_token=" + url.QueryEscape(tok)
					h.ServeHTTP(w, r)
				})
			}},
			hg: []expect{problemDoc(403), reached(false)},
		},
		{
			name:   "the cookies: a 24-hour _csrf cookie, or a __Host- browser-session cookie",
			rows:   []string{"CookieName, CookieDomain, CookiePath, CookieMaxAge, CookieSecure, CookieHTTPOnly, CookieSameSite"},
			method: http.MethodGet, target: "https://example.com/form",
			peer: []expect{cookieIs("_csrf", true, "HttpOnly", "Secure", "SameSite=Lax"), func(t *testing.T, who string, rec *exchange) {
				for _, c := range rec.Result().Cookies() {
					if left := time.Until(c.Expires); c.Name == "_csrf" && (left < 23*time.Hour || left > 25*time.Hour) {
						t.Errorf("%s: _csrf expires in %v, want 24 hours", who, left)
					}
				}
			}},
			hg: []expect{cookieIs("__Host-csrf", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")},
		},
		{
			name:   "ErrorHandler and OnReject write the refusal",
			rows:   []string{"ErrorHandler"},
			method: http.MethodPost, target: transfer, cookie: true,
			peerS: echoWithCSRF(middleware.CSRFConfig{ErrorHandler: func(err error, c echo.Context) error {
				return c.NoContent(http.StatusTeapot)
			}}),
			hgS:  hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey}, OnReject: rejectWith(http.StatusTeapot, nil)}),
			both: []expect{status(418)},
		},
		{
			name:   "a skipped route, or an exempt one, takes cross-site POSTs",
			rows:   []string{"Skipper"},
			method: http.MethodPost, target: "https://example.com/webhooks/stripe",
			kv:    fromStripe,
			peerS: echoWithCSRF(middleware.CSRFConfig{Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/webhooks/stripe" }}),
			hgS: hgToken(csrf.Options{Tokens: &csrf.TokenOptions{Key: csrfKey},
				Exempt: []csrf.Exemption{{Pattern: "POST /webhooks/stripe", Reason: "signed by the payment provider"}}}),
			both: []expect{status(200), reached(true)},
		},
	}
	out := csrfSection(echoCSRFHeading, peer, hg, cases)
	out = append(out,
		plain(echoCSRFHeading, "no token length or context key: csrf.Token(r)", []string{"TokenLength, ContextKey"}, func(t *testing.T) {
			noField(t, csrf.TokenOptions{}, "TokenLength", "ContextKey")
			noField(t, csrf.Options{}, "TokenLength", "ContextKey", "Skipper")
		}),
	)
	return out
}

// --- github.com/alexedwards/scs/v2 ----------------------------------------

const scsHeading = "github.com/alexedwards/scs/v2"

// guide: github.com/alexedwards/scs/v2, before
func guideSCSBefore() http.Handler {
	sessionManager := scs.New()
	sessionManager.Lifetime = 12 * time.Hour
	sessionManager.IdleTimeout = 30 * time.Minute
	sessionManager.Cookie.Name = "__Host-session"
	sessionManager.Cookie.Secure = true

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// check the credentials, then:
		if err := sessionManager.RenewToken(r.Context()); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		sessionManager.Put(r.Context(), "user", r.PostFormValue("user"))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sessionManager.GetString(r.Context(), "user"))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessionManager.Destroy(r.Context()); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	handler := sessionManager.LoadAndSave(mux)
	return handler
}

// guide: github.com/alexedwards/scs/v2, after
func guideSCSAfter() http.Handler {
	// Memory store, __Host- Secure cookie, 30 min idle and 12 h absolute
	// timeouts by default; PersistentCookie keeps scs's Cookie.Persist.
	sessions, err := session.New(session.Options{PersistentCookie: true})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// check the credentials, then:
		sess := session.FromRequest(r)
		if err := sess.Renew(); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		sess.SetString("user", r.PostFormValue("user"))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		user, _ := session.FromRequest(r).GetString("user")
		_, _ = io.WriteString(w, user)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	handler := sessions.Handler(mux)
	return handler
}

// sessionClient drives a session handler like a browser with one cookie.
type sessionClient struct {
	t      *testing.T
	who    string
	h      http.Handler
	cookie string // "name=value", or ""
}

// do sends a request with the client's cookie and keeps the cookie the
// response sets (or drops the one it expires).
func (c *sessionClient) do(method, path string, form url.Values) *exchange {
	c.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, "https://example.com"+path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = newReq(method, "https://example.com"+path)
	}
	if c.cookie != "" {
		r.Header.Set("Cookie", c.cookie)
	}
	rec := serve(c.h, r)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			c.cookie = ""
		} else {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	return rec
}

func (c *sessionClient) login(user string) *exchange {
	c.t.Helper()
	return c.do(http.MethodPost, "/login", url.Values{"user": {user}})
}

// me expects GET /me to answer user.
func (c *sessionClient) me(user string) {
	c.t.Helper()
	rec := c.do(http.MethodGet, "/me", nil)
	if rec.Code != 200 || rec.Body.String() != user {
		c.t.Errorf("%s: GET /me: %d %q, want 200 %q", c.who, rec.Code, rec.Body.String(), user)
	}
}

// bothSessions runs f with a client of each side.
func bothSessions(t *testing.T, peer, hg http.Handler, f func(c *sessionClient)) {
	t.Helper()
	f(&sessionClient{t: t, who: "peer", h: peer})
	f(&sessionClient{t: t, who: "httpguard", h: hg})
}

// guideSessions runs f with a client of each side as the guide
// configures it.
func guideSessions(t *testing.T, f func(c *sessionClient)) {
	t.Helper()
	bothSessions(t, guideSCSBefore(), guideSCSAfter(), f)
}

// loginOnce logs alice in with a new client of h and returns the answer.
func loginOnce(t *testing.T, h http.Handler) *exchange {
	t.Helper()
	return (&sessionClient{t: t, h: h}).login("alice")
}

// getMe serves GET /me with the cookie line cookie, as a client without
// a sessionClient's bookkeeping sends it.
func getMe(h http.Handler, cookie string) *exchange {
	return serve(h, newReq(http.MethodGet, "https://example.com/me", "Cookie", cookie))
}

// sessionMux is the guide's mux for a session manager given as functions.
func sessionMux(put func(r *http.Request, k, v string), get func(r *http.Request, k string) string, extra func(mux *http.ServeMux)) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) { put(r, "user", r.PostFormValue("user")) })
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, get(r, "user")) })
	if extra != nil {
		extra(mux)
	}
	return mux
}

// scsMux is sessionMux served by m.
func scsMux(m *scs.SessionManager, extra func(mux *http.ServeMux)) http.Handler {
	return m.LoadAndSave(sessionMux(
		func(r *http.Request, k, v string) { m.Put(r.Context(), k, v) },
		func(r *http.Request, k string) string { return m.GetString(r.Context(), k) }, extra))
}

// scsWith is scsMux of a new session manager changed by configure.
func scsWith(configure func(m *scs.SessionManager)) http.Handler {
	m := scs.New()
	configure(m)
	return scsMux(m, nil)
}

// hgSessionMux is sessionMux served by session.New(o), which must accept o.
func hgSessionMux(o session.Options, extra func(mux *http.ServeMux)) http.Handler {
	return must(session.New(o)).Handler(sessionMux(
		func(r *http.Request, k, v string) { session.FromRequest(r).SetString(k, v) },
		func(r *http.Request, k string) string { v, _ := session.FromRequest(r).GetString(k); return v }, extra))
}

// errStoreDown is the error of every call to the failing stores.
var errStoreDown = errors.New("store down")

// failingSCSStore and failingStore fail every call, as a store that is
// down does.
type failingSCSStore struct{}

func (failingSCSStore) Delete(string) error                    { return errStoreDown }
func (failingSCSStore) Find(string) ([]byte, bool, error)      { return nil, false, errStoreDown }
func (failingSCSStore) Commit(string, []byte, time.Time) error { return errStoreDown }

type failingStore struct{}

func (failingStore) Find(context.Context, string) (session.Record, bool, error) {
	return session.Record{}, false, errStoreDown
}
func (failingStore) Commit(context.Context, session.Record) (string, error) { return "", errStoreDown }
func (failingStore) Delete(context.Context, session.Record) error           { return errStoreDown }

func scsCases() []migCase {
	h := scsHeading
	rows := func(r ...string) []string { return r }
	return []migCase{
		plain(h, "a cookie scs set, read under its name: a fresh session in httpguard", rows("A cookie from before the switch"), func(t *testing.T) {
			c := &sessionClient{t: t, who: "peer", h: guideSCSBefore()}
			c.login("alice")
			if !strings.HasPrefix(c.cookie, "__Host-session=") {
				t.Fatalf("peer: cookie %q after login", c.cookie)
			}
			c.me("alice")
			rec := getMe(guideSCSAfter(), c.cookie)
			check(t, "httpguard", rec, []expect{status(200), body("")})
		}),
		plain(h, "a value survives to the next request", rows("LoadAndSave", "Put, GetString and the other getters"), func(t *testing.T) {
			guideSessions(t, func(c *sessionClient) {
				c.login("alice")
				if c.cookie == "" {
					t.Fatalf("%s: no session cookie after login", c.who)
				}
				c.me("alice")
			})
		}),
		plain(h, "the cookie of the guide's configurations", rows("Cookie.Name", "Cookie.Secure", "Cookie.Persist, RememberMe", "Cookie.HttpOnly"), func(t *testing.T) {
			guideSessions(t, func(c *sessionClient) {
				rec := c.login("alice")
				expires := c.who == "peer"
				cookieIs("__Host-session", expires, "Path=/", "Max-Age=1800", "HttpOnly", "Secure", "SameSite=Lax")(t, c.who, rec)
			})
		}),
		plain(h, "the default cookies: session, not Secure, persistent; or __Host-session, Secure, for the browser session", rows("Cookie.Name", "Cookie.Secure", "Cookie.Persist, RememberMe", "Lifetime"), func(t *testing.T) {
			rec := loginOnce(t, scsMux(scs.New(), nil))
			cookieIs("session", true, "Path=/", "Max-Age=86400", "HttpOnly", "SameSite=Lax")(t, "peer", rec)
			rec = loginOnce(t, hgSessionMux(session.Options{}, nil))
			cookieIs("__Host-session", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")(t, "httpguard", rec)
		}),
		plain(h, "RememberMe makes one session's cookie persistent", rows("Cookie.Persist, RememberMe"), func(t *testing.T) {
			m := scs.New()
			m.Cookie.Persist = false
			peer := scsMux(m, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /remember", func(w http.ResponseWriter, r *http.Request) { m.RememberMe(r.Context(), true) })
			})
			hg := hgSessionMux(session.Options{}, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /remember", func(w http.ResponseWriter, r *http.Request) { session.FromRequest(r).RememberMe(true) })
			})
			bothSessions(t, peer, hg, func(c *sessionClient) {
				rec := c.login("alice")
				if strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age") {
					t.Errorf("%s: a browser-session cookie has Max-Age: %q", c.who, rec.Header().Get("Set-Cookie"))
				}
				rec = c.do(http.MethodPost, "/remember", url.Values{})
				headerHas("Set-Cookie", "Max-Age=")(t, c.who, rec)
			})
		}),
		plain(h, "Vary and Cache-Control: on every response from scs, with the cookie only from httpguard", rows("Vary and Cache-Control"), func(t *testing.T) {
			guideSessions(t, func(c *sessionClient) {
				rec := c.do(http.MethodGet, "/me", nil)
				vary := map[string]string{"peer": "Cookie", "httpguard": ""}[c.who]
				header("Vary", vary)(t, c.who, rec)
				rec = c.login("alice")
				header("Vary", "Cookie")(t, c.who, rec)
				header("Cache-Control", map[string]string{"peer": `no-cache="Set-Cookie"`, "httpguard": "no-store"}[c.who])(t, c.who, rec)
			})
		}),
		plain(h, "renewing changes the token and kills the old one", rows("RenewToken"), func(t *testing.T) {
			guideSessions(t, func(c *sessionClient) {
				c.login("alice")
				old := c.cookie
				c.login("alice")
				if c.cookie == old || c.cookie == "" {
					t.Errorf("%s: token %q after renewal, was %q", c.who, c.cookie, old)
				}
				c.me("alice")
				stale := &sessionClient{t: t, who: c.who, h: c.h, cookie: old}
				stale.me("")
			})
		}),
		plain(h, "Login renews and puts the identity in the next requests' context", rows("RenewToken"), func(t *testing.T) {
			hg := hgSessionMux(session.Options{}, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
					if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "alice"})); err != nil {
						http.Error(w, "try again", http.StatusServiceUnavailable)
					}
				})
				mux.Handle("GET /whoami", whoami(hgSubject))
			})
			c := &sessionClient{t: t, who: "httpguard", h: hg}
			c.login("bob")
			before := c.cookie
			c.do(http.MethodPost, "/signin", url.Values{})
			if c.cookie == before || c.cookie == "" {
				t.Errorf("token %q after Login, was %q", c.cookie, before)
			}
			body("alice")(t, "httpguard", c.do(http.MethodGet, "/whoami", nil))
		}),
		plain(h, "destroying expires the cookie and kills a copy of it", rows("Destroy"), func(t *testing.T) {
			guideSessions(t, func(c *sessionClient) {
				c.login("alice")
				copied := c.cookie
				rec := c.do(http.MethodPost, "/logout", nil)
				headerHas("Set-Cookie", "Max-Age=0")(t, c.who, rec)
				if c.cookie != "" {
					t.Errorf("%s: cookie %q kept after logout", c.who, c.cookie)
				}
				(&sessionClient{t: t, who: c.who, h: c.h, cookie: copied}).me("")
			})
		}),
		plain(h, "an unknown or tampered token is a fresh session", rows("Unknown or tampered token"), func(t *testing.T) {
			guideSessions(t, func(c *sessionClient) {
				c.cookie = "__Host-session=forged"
				c.me("")
			})
		}),
		plain(h, "a store that fails: 500 text from scs, 503 problem with Retry-After from httpguard", rows("Store failure", "ErrorFunc"), func(t *testing.T) {
			// scs's default ErrorFunc logs the error with the log package.
			peer := scsWith(func(m *scs.SessionManager) { m.Store = failingSCSStore{} })
			hg := hgSessionMux(session.Options{Store: failingStore{}}, nil)
			textError(500, "Internal Server Error")(t, "peer", getMe(peer, "session=abc"))
			rec := getMe(hg, "__Host-session=abc")
			problemDoc(503)(t, "httpguard", rec)
			header("Retry-After", "5")(t, "httpguard", rec)
		}),
		plain(h, "ErrorFunc and OnReject write the store's failure", rows("ErrorFunc"), func(t *testing.T) {
			peer := scsWith(func(m *scs.SessionManager) {
				m.Store, m.ErrorFunc = failingSCSStore{}, rejectWith(http.StatusTeapot, nil)
			})
			status(418)(t, "peer", getMe(peer, "session=abc"))
			hg := hgSessionMux(session.Options{Store: failingStore{}, OnReject: rejectWith(http.StatusTeapot, session.ErrStore)}, nil)
			status(418)(t, "httpguard", getMe(hg, "__Host-session=abc"))
		}),
		plain(h, "an idle session ends after IdleTimeout in both", rows("IdleTimeout"), func(t *testing.T) {
			// Margins of a second and more: CI runs this under the race
			// detector on a loaded machine.
			peer := scsWith(func(m *scs.SessionManager) { m.IdleTimeout = time.Second })
			hg := hgSessionMux(session.Options{IdleTimeout: time.Second, AbsoluteTimeout: time.Hour}, nil)
			bothSessions(t, peer, hg, func(c *sessionClient) {
				c.login("alice")
				c.me("alice")
				time.Sleep(2500 * time.Millisecond)
				c.me("")
			})
		}),
		plain(h, "a session ends after Lifetime or AbsoluteTimeout however active", rows("Lifetime"), func(t *testing.T) {
			peer := scsWith(func(m *scs.SessionManager) { m.Lifetime = 3 * time.Second })
			hg := hgSessionMux(session.Options{AbsoluteTimeout: 3 * time.Second}, nil)
			bothSessions(t, peer, hg, func(c *sessionClient) {
				c.login("alice")
				for range 3 {
					time.Sleep(200 * time.Millisecond)
					c.me("alice")
				}
				time.Sleep(3 * time.Second)
				c.me("")
			})
		}),
		plain(h, "the defaults: no idle timeout and 24 hours in scs; 30 minutes and 12 hours in httpguard", rows("IdleTimeout", "Lifetime"), func(t *testing.T) {
			m := scs.New()
			if m.IdleTimeout != 0 || m.Lifetime != 24*time.Hour {
				t.Errorf("scs defaults: IdleTimeout %v, Lifetime %v", m.IdleTimeout, m.Lifetime)
			}
			if session.DefaultIdleTimeout != 30*time.Minute || session.DefaultAbsoluteTimeout != 12*time.Hour {
				t.Errorf("httpguard defaults: %v, %v", session.DefaultIdleTimeout, session.DefaultAbsoluteTimeout)
			}
		}),
		plain(h, "SameSite: Lax by default in both; 0 means none in scs, Lax in httpguard; None needs Secure", rows("Cookie.SameSite"), func(t *testing.T) {
			rec := loginOnce(t, scsWith(func(*scs.SessionManager) {}))
			cookieIs("session", true, "Path=/", "Max-Age=86400", "HttpOnly", "SameSite=Lax")(t, "peer", rec)
			rec = loginOnce(t, scsWith(func(m *scs.SessionManager) { m.Cookie.SameSite = 0 }))
			cookieIs("session", true, "Path=/", "Max-Age=86400", "HttpOnly")(t, "peer", rec)
			rec = loginOnce(t, hgSessionMux(session.Options{SameSite: 0}, nil))
			cookieIs("__Host-session", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")(t, "httpguard", rec)
			rec = loginOnce(t, hgSessionMux(session.Options{SameSite: http.SameSiteStrictMode}, nil))
			cookieIs("__Host-session", false, "Path=/", "HttpOnly", "Secure", "SameSite=Strict")(t, "httpguard", rec)
			refuses(t, session.New, session.Options{SameSite: http.SameSiteNoneMode, DangerouslyAllowInsecureCookie: true}, session.ErrOption)
		}),
		plain(h, "Domain and Path: set as in scs, an error with the __Host- name", rows("Cookie.Domain, Cookie.Path"), func(t *testing.T) {
			rec := loginOnce(t, scsWith(func(m *scs.SessionManager) { m.Cookie.Domain = "example.com" }))
			headerHas("Set-Cookie", "Domain=example.com")(t, "peer", rec)
			rec = loginOnce(t, hgSessionMux(session.Options{CookieName: "session", CookieDomain: "example.com"}, nil))
			cookieIs("session", false, "Path=/", "Domain=example.com", "HttpOnly", "Secure", "SameSite=Lax")(t, "httpguard", rec)
			for _, o := range []session.Options{{CookieDomain: "example.com"}, {CookiePath: "/app"}} {
				refuses(t, session.New, o, session.ErrOption)
			}
		}),
		plain(h, "the cookie is always HttpOnly", rows("Cookie.HttpOnly"), func(t *testing.T) {
			noField(t, session.Options{}, "HttpOnly", "CookieHttpOnly")
			headerHas("Set-Cookie", "HttpOnly")(t, "httpguard", loginOnce(t, hgSessionMux(session.Options{}, nil)))
		}),
		plain(h, "Partitioned: with SameSite=None in both; an error with Lax, which scs sends", rows("Cookie.Partitioned"), func(t *testing.T) {
			rec := loginOnce(t, scsWith(func(m *scs.SessionManager) {
				m.Cookie.Partitioned, m.Cookie.Secure, m.Cookie.SameSite = true, true, http.SameSiteNoneMode
			}))
			cookieIs("session", true, "Path=/", "Max-Age=86400", "HttpOnly", "Secure", "SameSite=None", "Partitioned")(t, "peer", rec)
			rec = loginOnce(t, hgSessionMux(session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode}, nil))
			cookieIs("__Host-session", false, "Path=/", "HttpOnly", "Secure", "SameSite=None", "Partitioned")(t, "httpguard", rec)

			rec = loginOnce(t, scsWith(func(m *scs.SessionManager) { m.Cookie.Partitioned, m.Cookie.Secure = true, true }))
			cookieIs("session", true, "Path=/", "Max-Age=86400", "HttpOnly", "Secure", "SameSite=Lax", "Partitioned")(t, "peer", rec)
			for _, o := range []session.Options{{Partitioned: true}, {Partitioned: true, SameSite: http.SameSiteStrictMode},
				{Partitioned: true, SameSite: http.SameSiteNoneMode, DangerouslyAllowInsecureCookie: true}} {
				refuses(t, session.New, o, session.ErrOption)
			}
		}),
		plain(h, "the default memory store is bounded: a new session over MaxSessions is refused with 503; scs's memstore keeps growing", rows("Store"), func(t *testing.T) {
			if session.DefaultMaxSessions != 100_000 {
				t.Errorf("DefaultMaxSessions = %d, want 100 000", session.DefaultMaxSessions)
			}
			peer := scsWith(func(*scs.SessionManager) {})
			hg := hgSessionMux(session.Options{Store: must(session.NewMemoryStore(session.MemoryOptions{MaxSessions: 2}))}, nil)
			var first *sessionClient
			for i := range 3 {
				status(200)(t, "peer", loginOnce(t, peer))
				c := &sessionClient{t: t, who: "httpguard", h: hg}
				rec := c.login("alice")
				if i < 2 {
					status(200)(t, "httpguard", rec)
				} else {
					check(t, "httpguard", rec, []expect{problemDoc(503), header("Retry-After", "5")})
				}
				if first == nil {
					first = c
				}
			}
			first.me("alice")
		}),
		plain(h, "stores take the request's context", rows("Store"), func(t *testing.T) {
			type key struct{}
			var got any
			store := ctxStore{Store: must(session.NewMemoryStore(session.MemoryOptions{})), seen: func(ctx context.Context) { got = ctx.Value(key{}) }}
			hg := hgSessionMux(session.Options{Store: store}, nil)
			r := httptest.NewRequest(http.MethodPost, "https://example.com/login", strings.NewReader("user=alice"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			serve(hg, r.WithContext(context.WithValue(r.Context(), key{}, "request")))
			if got != "request" {
				t.Errorf("the store saw the context value %v, want the request's", got)
			}
		}),
		plain(h, "values are typed; JSON for the rest", rows("Codec"), func(t *testing.T) {
			noField(t, session.Options{}, "Codec")
			type cart struct{ Items []string }
			hg := hgSessionMux(session.Options{}, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
					_ = session.FromRequest(r).SetJSON("cart", cart{Items: []string{"book"}})
				})
				mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
					var c cart
					if ok, err := session.FromRequest(r).GetJSON("cart", &c); ok && err == nil {
						_, _ = io.WriteString(w, strings.Join(c.Items, ","))
					}
				})
			})
			c := &sessionClient{t: t, who: "httpguard", h: hg}
			c.do(http.MethodPost, "/cart", url.Values{})
			if rec := c.do(http.MethodGet, "/cart", nil); rec.Body.String() != "book" {
				t.Errorf("GetJSON: %q, want book", rec.Body.String())
			}
		}),
		plain(h, "server-side stores always file records under the SHA-256 of the token", rows("HashTokenInStore"), func(t *testing.T) {
			noField(t, session.Options{}, "HashTokenInStore")
			id := strings.Repeat("A", session.IDLength)
			k, ok := session.StorageKey(id)
			if !ok || k != sha256.Sum256([]byte(id)) {
				t.Errorf("StorageKey(%q) = %x, %v; want its SHA-256", id, k, ok)
			}
		}),
		plain(h, "a user's other sessions end: scs iterates over every session, httpguard asks ValidateLogin", rows("Iterate"), func(t *testing.T) {
			noMethod(t, &session.Session{}, "Iterate")
			noMethod(t, &session.MemoryStore{}, "All", "Iterate")

			m := scs.New()
			peer := scsMux(m, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /signout-others", func(w http.ResponseWriter, r *http.Request) {
					user, current := m.GetString(r.Context(), "user"), m.Token(r.Context())
					err := m.Iterate(r.Context(), func(ctx context.Context) error {
						if m.GetString(ctx, "user") == user && m.Token(ctx) != current {
							return m.Destroy(ctx)
						}
						return nil
					})
					if err != nil {
						http.Error(w, "try again", http.StatusInternalServerError)
					}
				})
			})

			var mu sync.Mutex
			version := map[string]float64{}
			login := func(r *http.Request, user string) {
				mu.Lock()
				v := version[user]
				mu.Unlock()
				_ = session.FromRequest(r).Login(identity.New(identity.Options{Subject: user, Claims: map[string]any{"v": v}}))
			}
			hg := must(session.New(session.Options{ValidateLogin: func(_ context.Context, id identity.Identity, _ time.Time) (bool, error) {
				v, _ := id.Claim("v")
				mu.Lock()
				defer mu.Unlock()
				return v == version[id.Subject()], nil
			}})).Handler(sessionMux(
				func(r *http.Request, _, user string) { login(r, user) },
				func(r *http.Request, _ string) string { id, _ := identity.FromRequest(r); return id.Subject() },
				func(mux *http.ServeMux) {
					mux.HandleFunc("POST /signout-others", func(w http.ResponseWriter, r *http.Request) {
						id, _ := identity.FromRequest(r)
						mu.Lock()
						version[id.Subject()]++
						mu.Unlock()
						login(r, id.Subject()) // this session stays
					})
				}))

			for _, impl := range []struct {
				who string
				h   http.Handler
			}{{"peer", peer}, {"httpguard", hg}} {
				laptop := &sessionClient{t: t, who: impl.who, h: impl.h}
				phone := &sessionClient{t: t, who: impl.who, h: impl.h}
				bob := &sessionClient{t: t, who: impl.who, h: impl.h}
				laptop.login("alice")
				phone.login("alice")
				bob.login("bob")
				laptop.do(http.MethodPost, "/signout-others", url.Values{})
				for _, c := range []struct {
					client *sessionClient
					want   string
				}{{laptop, "alice"}, {phone, ""}, {bob, "bob"}} {
					if got := c.client.do(http.MethodGet, "/me", nil).Body.String(); got != c.want {
						t.Errorf("%s: GET /me = %q, want %q", impl.who, got, c.want)
					}
				}
			}
		}),
		plain(h, "no deadline to set, no merge", rows("SetDeadline, MergeSession"), func(t *testing.T) {
			noMethod(t, &session.Session{}, "Deadline", "SetDeadline", "MergeSession")
		}),
		plain(h, "Deadline: scs's absolute deadline; Expiry, the earlier of the idle and absolute ones", rows("Deadline"), func(t *testing.T) {
			m := scs.New()
			peer := scsMux(m, func(mux *http.ServeMux) {
				mux.HandleFunc("GET /deadline", func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, m.Deadline(r.Context()).UTC().Format(time.RFC3339))
				})
			})
			hg := hgSessionMux(session.Options{}, func(mux *http.ServeMux) {
				mux.HandleFunc("GET /deadline", func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, session.FromRequest(r).Expiry().Format(time.RFC3339))
				})
			})
			bothSessions(t, peer, hg, func(c *sessionClient) {
				c.login("alice")
				got, err := time.Parse(time.RFC3339, c.do(http.MethodGet, "/deadline", nil).Body.String())
				want := session.DefaultIdleTimeout // 30 min: idle comes before the 12 h absolute
				if c.who == "peer" {
					want = 24 * time.Hour // scs's Lifetime; it has no idle timeout by default
				}
				if left := time.Until(got); err != nil || left < want-time.Minute || left > want+time.Minute {
					t.Errorf("%s: deadline %v (%v), want in %v", c.who, got, err, want)
				}
			})
		}),
	}
}

// ctxStore reports the context of every Find and Commit.
type ctxStore struct {
	session.Store
	seen func(context.Context)
}

func (s ctxStore) Commit(ctx context.Context, rec session.Record) (string, error) {
	s.seen(ctx)
	return s.Store.Commit(ctx, rec)
}

// --- JWT: tokens for both sides --------------------------------------------

const (
	jwtIss = "https://issuer.example/"
	jwtAud = "https://api.example.com"
)

// jwtSecret is the HS256 key of both sides.
var jwtSecret = []byte("0123456789abcdef0123456789abcdef")

// signJWT returns a compact JWS of claims under alg with key (HS256 or
// HS384); alg "none" gives the unsecured form with an empty signature.
func signJWT(alg string, key []byte, claims map[string]any) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]any{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	var mac hash.Hash
	switch alg {
	case "none":
		return input + "."
	case "HS384":
		mac = hmac.New(sha512.New384, key)
	default:
		mac = hmac.New(sha256.New, key)
	}
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// claims returns the claims of a valid token, changed by kv (a nil value
// deletes the claim).
func claims(kv ...any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": jwtIss, "aud": []string{jwtAud}, "sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// ordersURL is the resource the JWT cases ask for.
const ordersURL = "https://api.example.com/orders"

// hs256 returns the HS256 token of cl under jwtSecret.
func hs256(cl map[string]any) string { return signJWT("HS256", jwtSecret, cl) }

// bearerReq returns a request with the HS256 token of cl, and further
// headers.
func bearerReq(cl map[string]any, kv ...string) func() *http.Request {
	return func() *http.Request {
		return newReq(http.MethodGet, ordersURL, append([]string{"Authorization", "Bearer " + hs256(cl)}, kv...)...)
	}
}

// twoTokens returns a request with alice's token in Authorization and
// mallory's in the jwt cookie.
func twoTokens() *http.Request {
	return newReq(http.MethodGet, ordersURL, "Authorization", "Bearer "+hs256(claims()), "Cookie", "jwt="+hs256(claims("sub", "mallory")))
}

const (
	challenge        = `Bearer realm="api"`
	challengeInvalid = `Bearer realm="api", error="invalid_token", error_description="The access token is invalid"`
)

// hgInvalidToken expects httpguard's refusal of a token it does not
// accept: a 401 problem with the invalid_token challenge.
func hgInvalidToken() []expect {
	return []expect{problemDoc(401), reached(false), header("Www-Authenticate", challengeInvalid)}
}

// The cases below recur in the JWT sections: the guide's configurations
// of go-jwt-middleware and jwtauth check the same issuer, audience,
// algorithm and leeway as httpguard's.

// tokenPasses: a valid token passes, and each side writes its subject.
func tokenPasses(rows ...string) httpCase {
	return httpCase{name: "a valid token passes, its subject in the context", rows: rows, req: bearerReq(claims()),
		both: []expect{status(200), body("alice")}}
}

// tokenWithinLeeway: a token expired for less than the leeway passes.
func tokenWithinLeeway(row string) httpCase {
	return httpCase{name: "a token expired for less than the leeway passes", rows: []string{row},
		req: bearerReq(claims("exp", time.Now().Add(-10*time.Second).Unix())), both: []expect{status(200)}}
}

// invalidToken: httpguard refuses the token req carries; the peer
// answers as peer expects.
func invalidToken(name string, rows []string, req func() *http.Request, peer ...expect) httpCase {
	return httpCase{name: name, rows: rows, req: req, peer: peer, hg: hgInvalidToken()}
}

// jwtStricter returns the cases of the tokens that the guide's
// configuration of peer accepts and httpguard's refuses: one whose header
// names a key (kid) while the key has no ID, one over 8 KiB and one with
// an empty sub; and the first two passing httpguard once configured as
// the guide says: the key with the token's kid as its ID (the row
// keyRow), a larger MaxTokenBytes.
func jwtStricter(peer, keyRow string) []httpCase {
	withKID := func() *http.Request {
		enc := func(v any) string {
			b, err := json.Marshal(v)
			if err != nil {
				panic(err)
			}
			return base64.RawURLEncoding.EncodeToString(b)
		}
		input := enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1"}) + "." + enc(claims())
		mac := hmac.New(sha256.New, jwtSecret)
		mac.Write([]byte(input))
		return newReq(http.MethodGet, ordersURL, "Authorization", "Bearer "+input+"."+base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
	}
	large := bearerReq(claims("pad", strings.Repeat("x", 9<<10)))
	hgWith := func(o auth.JWTOptions) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler {
			o.Algorithms = []string{auth.AlgHS256}
			if o.Keys == nil {
				o.Keys = []auth.Key{{Algorithm: auth.AlgHS256, Key: jwtSecret}}
			}
			return must(auth.NewJWT(o)).Handler(whoami(hgSubject))
		}
	}
	return []httpCase{
		invalidToken("a token naming a key (kid), the key without ID: accepted by "+peer+", refused by httpguard",
			[]string{"Token with a kid, the key without ID"}, withKID, status(200), body("alice")),
		{
			name: "the same token passes httpguard once the key has the token's kid as its ID",
			rows: []string{keyRow, "Token with a kid, the key without ID"},
			req:  withKID,
			hgH:  hgWith(auth.JWTOptions{Keys: []auth.Key{{ID: "k1", Algorithm: auth.AlgHS256, Key: jwtSecret}}}),
			both: []expect{status(200), body("alice")},
		},
		invalidToken("a token over 8 KiB: accepted by "+peer+", refused by httpguard", []string{"Token over 8 KiB"}, large, status(200), body("alice")),
		{
			name: "the same token passes httpguard with a larger MaxTokenBytes",
			rows: []string{"Token over 8 KiB"},
			req:  large,
			hgH:  hgWith(auth.JWTOptions{MaxTokenBytes: 16 << 10}),
			both: []expect{status(200), body("alice")},
		},
		invalidToken("a token with an empty sub: accepted by "+peer+", refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("sub", "")), status(200), reached(true), body("")),
		invalidToken("a token bound to a DPoP key, sent as a bearer token: accepted by "+peer+", refused by httpguard",
			[]string{"Token bound to a key (cnf: DPoP, mutual TLS) as a bearer token"},
			bearerReq(claims("cnf", map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})), status(200), body("alice")),
	}
}

// whoami writes the subject of the request's identity, as both sides put
// it in the context.
func whoami(subject func(r *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Reached", "yes")
		_, _ = io.WriteString(w, subject(r))
	})
}

func hgSubject(r *http.Request) string {
	id, _ := identity.FromRequest(r)
	return id.Subject()
}

// --- github.com/auth0/go-jwt-middleware/v2 --------------------------------

const auth0Heading = "github.com/auth0/go-jwt-middleware/v2"

// guide: github.com/auth0/go-jwt-middleware/v2, before
func guideAuth0Before(mux http.Handler, secret []byte) http.Handler {
	keyFunc := func(context.Context) (any, error) { return secret, nil }
	v, err := validator.New(keyFunc, validator.HS256, "https://issuer.example/", []string{"https://api.example.com"},
		validator.WithAllowedClockSkew(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	handler := jwtmiddleware.New(v.ValidateToken).CheckJWT(mux)
	return handler
}

// guide: github.com/auth0/go-jwt-middleware/v2, after
func guideAuth0After(mux http.Handler, secret []byte) http.Handler {
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgHS256},
		Keys:       []auth.Key{{Algorithm: auth.AlgHS256, Key: secret}},
		Issuer:     "https://issuer.example/",
		Audience:   "https://api.example.com",
		Leeway:     30 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := bearer.Handler(mux)
	return handler
}

// tenantClaims is a custom claim for go-jwt-middleware's validator.
type tenantClaims struct {
	Tenant string `json:"tid"`
}

func (c *tenantClaims) Validate(context.Context) error {
	if c.Tenant != "acme" {
		return errors.New("wrong tenant")
	}
	return nil
}

func auth0Subject(r *http.Request) string {
	c, _ := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
	if c == nil {
		return ""
	}
	return c.RegisteredClaims.Subject
}

func auth0Cases() []migCase {
	peer := func(*testing.T) http.Handler { return guideAuth0Before(whoami(auth0Subject), jwtSecret) }
	hg := func(*testing.T) http.Handler { return guideAuth0After(whoami(hgSubject), jwtSecret) }
	auth0With := func(vopts []validator.Option, opts ...jwtmiddleware.Option) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler {
			v := must(validator.New(func(context.Context) (any, error) { return jwtSecret, nil }, validator.HS256, jwtIss, []string{jwtAud}, vopts...))
			return jwtmiddleware.New(v.ValidateToken, opts...).CheckJWT(whoami(auth0Subject))
		}
	}
	hgWith := func(o auth.JWTOptions, optional bool) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler {
			o.Algorithms, o.Keys, o.Issuer, o.Audience = []string{auth.AlgHS256}, []auth.Key{{Algorithm: auth.AlgHS256, Key: jwtSecret}}, jwtIss, jwtAud
			j := must(auth.NewJWT(o))
			if optional {
				return j.Optional(whoami(hgSubject))
			}
			return j.Handler(whoami(hgSubject))
		}
	}
	invalid401 := []expect{status(401), reached(false), headerHas("Content-Type", "application/json"), body(`{"message":"JWT is invalid."}`), header("Www-Authenticate", "")}
	validatorNew := []string{"validator.New(keyFunc, alg, issuer, audience)"}
	expired := bearerReq(claims("exp", time.Now().Add(-time.Hour).Unix()))
	tenant := []validator.Option{validator.WithCustomClaims(func() validator.CustomClaims { return &tenantClaims{} })}
	cases := []httpCase{
		tokenPasses("validator.New(keyFunc, alg, issuer, audience)", "ContextKey{}"),
		invalidToken("an expired token is refused: JSON without a challenge, or a problem document with one",
			[]string{"validator.New(keyFunc, alg, issuer, audience)", "Invalid token"}, expired, invalid401...),
		tokenWithinLeeway("WithAllowedClockSkew"),
		invalidToken("a token for another audience is refused", validatorNew, bearerReq(claims("aud", []string{"https://other.example.com"})), invalid401...),
		invalidToken("a token from another issuer is refused", validatorNew, bearerReq(claims("iss", "https://evil.test/")), invalid401...),
		invalidToken("an unsigned token (alg none) is refused", validatorNew,
			get(ordersURL, "Authorization", "Bearer "+signJWT("none", nil, claims())), invalid401...),
		invalidToken("a token under another algorithm with the same secret is refused", validatorNew,
			get(ordersURL, "Authorization", "Bearer "+signJWT("HS384", jwtSecret, claims())), invalid401...),
		invalidToken("a token without exp: accepted by go-jwt-middleware, refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("exp", nil)), status(200), body("alice")),
		invalidToken("a token without sub: accepted by go-jwt-middleware, refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("sub", nil)), status(200)),
		{
			name: "no token: 400 from go-jwt-middleware, 401 with a challenge from httpguard",
			rows: []string{"No token"},
			req:  get(ordersURL),
			peer: []expect{status(400), reached(false), body(`{"message":"JWT is missing."}`), header("Www-Authenticate", "")},
			hg:   []expect{problemDoc(401), reached(false), header("Www-Authenticate", challenge)},
		},
		{
			name: "another scheme in Authorization: 500 from go-jwt-middleware, 401 from httpguard",
			rows: []string{"Authorization of another scheme"},
			req:  get(ordersURL, "Authorization", "Basic YWxpY2U6c2VjcmV0"),
			peer: []expect{status(500), reached(false), body(`{"message":"Something went wrong while checking the JWT."}`)},
			hg:   []expect{problemDoc(401), reached(false), header("Www-Authenticate", challenge)},
		},
		{
			name:  "optional credentials: no token passes",
			rows:  []string{"WithCredentialsOptional(true)"},
			req:   get(ordersURL),
			peerH: auth0With(nil, jwtmiddleware.WithCredentialsOptional(true)),
			hgH:   hgWith(auth.JWTOptions{}, true),
			both:  []expect{status(200), reached(true), body("")},
		},
		{
			name:  "optional credentials: an invalid token is still refused",
			rows:  []string{"WithCredentialsOptional(true)"},
			req:   expired,
			peerH: auth0With(nil, jwtmiddleware.WithCredentialsOptional(true)),
			peer:  invalid401,
			hgH:   hgWith(auth.JWTOptions{}, true),
			hg:    hgInvalidToken(),
		},
		{
			name:  "OPTIONS without a token: passed on with WithValidateOnOptions(false), refused by httpguard",
			rows:  []string{"WithValidateOnOptions(false)"},
			req:   func() *http.Request { return newReq(http.MethodOptions, ordersURL) },
			peerH: auth0With(nil, jwtmiddleware.WithValidateOnOptions(false)),
			peer:  []expect{status(200), reached(true)},
			hg:    []expect{status(401), reached(false)},
		},
		{
			name:  "the token in a cookie",
			rows:  []string{"WithTokenExtractor(CookieTokenExtractor(name))"},
			req:   get(ordersURL, "Cookie", "jwt="+hs256(claims())),
			peerH: auth0With(nil, jwtmiddleware.WithTokenExtractor(jwtmiddleware.CookieTokenExtractor("jwt"))),
			hgH:   hgWith(auth.JWTOptions{CookieName: "jwt"}, false),
			both:  []expect{status(200), body("alice")},
		},
		{
			name:  "the token in the query string",
			rows:  []string{"WithTokenExtractor(ParameterTokenExtractor(name))"},
			req:   get(ordersURL + "?access_token=" + hs256(claims())),
			peerH: auth0With(nil, jwtmiddleware.WithTokenExtractor(jwtmiddleware.ParameterTokenExtractor("access_token"))),
			hgH:   hgWith(auth.JWTOptions{DangerouslyAllowQueryToken: true}, false),
			both:  []expect{status(200), body("alice")},
		},
		{
			name: "a token in two places: the first extractor wins in go-jwt-middleware, refused by httpguard",
			rows: []string{"MultiTokenExtractor"},
			req:  twoTokens,
			peerH: auth0With(nil, jwtmiddleware.WithTokenExtractor(jwtmiddleware.MultiTokenExtractor(
				jwtmiddleware.AuthHeaderTokenExtractor, jwtmiddleware.CookieTokenExtractor("jwt")))),
			peer: []expect{status(200), body("alice")},
			hgH:  hgWith(auth.JWTOptions{CookieName: "jwt"}, false),
			hg:   hgInvalidToken(),
		},
		{
			name:  "WithErrorHandler and OnReject write the refusal",
			rows:  []string{"WithErrorHandler"},
			req:   expired,
			peerH: auth0With(nil, jwtmiddleware.WithErrorHandler(rejectWith(http.StatusTeapot, nil))),
			hgH:   hgWith(auth.JWTOptions{OnReject: rejectWith(http.StatusTeapot, auth.ErrTokenExpired)}, false),
			both:  []expect{status(418)},
		},
		{
			name:  "a custom claim checked: the right tenant passes",
			rows:  []string{"WithCustomClaims"},
			req:   bearerReq(claims("tid", "acme")),
			peerH: auth0With(tenant),
			hgH:   hgWith(auth.JWTOptions{IdentityClaims: []string{"tid"}, ValidateClaims: checkTenant}, false),
			both:  []expect{status(200)},
		},
		{
			name:  "a custom claim checked: another tenant is refused",
			rows:  []string{"WithCustomClaims"},
			req:   bearerReq(claims("tid", "other")),
			peerH: auth0With(tenant),
			peer:  invalid401,
			hgH:   hgWith(auth.JWTOptions{IdentityClaims: []string{"tid"}, ValidateClaims: checkTenant}, false),
			hg:    hgInvalidToken(),
		},
		{
			name:  "an excluded URL skips the check in go-jwt-middleware; httpguard has no exclusion",
			rows:  []string{"WithExclusionUrls"},
			req:   get("https://api.example.com/health"),
			peerH: auth0With(nil, jwtmiddleware.WithExclusionUrls([]string{"/health"})),
			peer:  []expect{status(200), reached(true)},
			hg:    []expect{status(401), reached(false)},
		},
	}
	cases = append(cases, jwtStricter("go-jwt-middleware", "validator.New(keyFunc, alg, issuer, audience)")...)
	out := section(auth0Heading, peer, hg, cases)
	out = append(out,
		plain(auth0Heading, "a leeway over five minutes is an error", []string{"WithAllowedClockSkew"}, func(t *testing.T) {
			_, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: jwtSecret}}, Leeway: 10 * time.Minute})
			if err == nil {
				t.Error("auth.NewJWT with a 10-minute leeway: no error")
			}
		}),
		plain(auth0Heading, "alg none, short secrets, mixed algorithm families and a JWKS URL without audience are errors", []string{"validator.New(keyFunc, alg, issuer, audience)", "jwks.NewCachingProvider"}, func(t *testing.T) {
			for _, o := range []auth.JWTOptions{
				{Algorithms: []string{"none"}, Keys: []auth.Key{{Key: jwtSecret}}},
				{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: []byte("short secret")}}},
				{Algorithms: []string{auth.AlgHS256, auth.AlgRS256}, Keys: []auth.Key{{Algorithm: auth.AlgHS256, Key: jwtSecret}}},
				{Algorithms: []string{auth.AlgRS256}, JWKSURL: "https://issuer.example/.well-known/jwks.json"},
			} {
				if _, err := auth.NewJWT(o); err == nil {
					t.Errorf("auth.NewJWT(%+v): no error", o)
				}
			}
			if _, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgRS256}, JWKSURL: "https://issuer.example/.well-known/jwks.json", Audience: jwtAud}); err != nil {
				t.Errorf("auth.NewJWT with a JWKS URL and an audience: %v", err)
			}
		}),
		plain(auth0Heading, "no exclusion list", []string{"WithExclusionUrls"}, func(t *testing.T) {
			noField(t, auth.JWTOptions{}, "ExclusionURLs", "ExclusionUrls", "Exclude")
		}),
	)
	return out
}

// checkTenant is the ValidateClaims of the tenant cases.
func checkTenant(_ context.Context, id identity.Identity) error {
	if id.Claims()["tid"] != "acme" {
		return errors.New("wrong tenant")
	}
	return nil
}

// --- github.com/go-chi/jwtauth/v5 -----------------------------------------

const jwtauthHeading = "github.com/go-chi/jwtauth/v5"

// guide: github.com/go-chi/jwtauth/v5, before
func guideJWTAuthBefore(mux http.Handler, secret []byte) http.Handler {
	tokenAuth := jwtauth.New("HS256", secret, nil,
		jwt.WithIssuer("https://issuer.example/"),
		jwt.WithAudience("https://api.example.com"),
		jwt.WithAcceptableSkew(30*time.Second))
	handler := jwtauth.Verifier(tokenAuth)(jwtauth.Authenticator(tokenAuth)(mux))
	return handler
}

// guide: github.com/go-chi/jwtauth/v5, after
func guideJWTAuthAfter(mux http.Handler, secret []byte) http.Handler {
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgHS256},
		Keys:       []auth.Key{{Algorithm: auth.AlgHS256, Key: secret}},
		Issuer:     "https://issuer.example/",
		Audience:   "https://api.example.com",
		Leeway:     30 * time.Second,
		CookieName: "jwt", // jwtauth.Verifier reads this cookie too
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := bearer.Handler(mux)
	return handler
}

func jwtauthSubject(r *http.Request) string {
	tok, _, err := jwtauth.FromContext(r.Context())
	if err != nil || tok == nil {
		return ""
	}
	return tok.Subject()
}

func jwtauthCases() []migCase {
	peer := func(*testing.T) http.Handler { return guideJWTAuthBefore(whoami(jwtauthSubject), jwtSecret) }
	hg := func(*testing.T) http.Handler { return guideJWTAuthAfter(whoami(hgSubject), jwtSecret) }
	// jwtauth's Verifier without Authenticator, and httpguard's Optional.
	verifierAlone := func(*testing.T) http.Handler {
		return jwtauth.Verifier(jwtauth.New("HS256", jwtSecret, nil))(whoami(jwtauthSubject))
	}
	hgOptional := func(*testing.T) http.Handler {
		return must(auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: jwtSecret}}})).Optional(whoami(hgSubject))
	}
	issuerAudience := []string{"jwt.WithIssuer, jwt.WithAudience"}
	unauthorized := textError(401, "token is unauthorized")
	expired := bearerReq(claims("exp", time.Now().Add(-time.Hour).Unix()))
	cases := []httpCase{
		tokenPasses("New(alg, signKey, verifyKey, ...)", "Verifier + Authenticator", "FromContext"),
		invalidToken("an expired token is refused: text with the reason, or a problem document with a challenge",
			[]string{"Verifier + Authenticator", "Invalid token"}, expired, textError(401, "token is expired"), reached(false), header("Www-Authenticate", "")),
		tokenWithinLeeway("jwt.WithAcceptableSkew"),
		invalidToken("a token for another audience is refused", issuerAudience, bearerReq(claims("aud", []string{"https://other.example.com"})), unauthorized),
		invalidToken("a token from another issuer is refused", issuerAudience, bearerReq(claims("iss", "https://evil.test/")), unauthorized),
		invalidToken("an unsigned token (alg none) is refused", []string{"New(alg, signKey, verifyKey, ...)"},
			get(ordersURL, "Authorization", "Bearer "+signJWT("none", nil, claims())), status(401), reached(false)),
		invalidToken("a token without exp: accepted by jwtauth, refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("exp", nil)), status(200), body("alice")),
		invalidToken("a token without sub: accepted by jwtauth, refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("sub", nil)), status(200)),
		{
			name: "no token: 401 text from jwtauth, 401 problem with a challenge from httpguard",
			rows: []string{"No token"},
			req:  get(ordersURL),
			peer: []expect{textError(401, "no token found"), header("Www-Authenticate", "")},
			hg:   []expect{problemDoc(401), header("Www-Authenticate", challenge)},
		},
		{
			name: "the token in the jwt cookie",
			rows: []string{"Verifier + Authenticator"},
			req:  get(ordersURL, "Cookie", "jwt="+hs256(claims())),
			both: []expect{status(200), body("alice")},
		},
		invalidToken("a token in the header and the cookie: the header wins in jwtauth, refused by httpguard", []string{"Token in the header and the cookie"},
			twoTokens, status(200), body("alice")),
		{
			name: "the scheme in any case",
			rows: []string{"Verifier + Authenticator"},
			req:  get(ordersURL, "Authorization", "BEARER "+hs256(claims())),
			both: []expect{status(200)},
		},
		{
			name: "the token in the query string: ?jwt= for jwtauth, ?access_token= for httpguard",
			rows: []string{"TokenFromQuery"},
			req: func() *http.Request {
				tok := hs256(claims())
				return newReq(http.MethodGet, ordersURL+"?jwt="+tok+"&access_token="+tok)
			},
			peerH: func(*testing.T) http.Handler {
				ja := jwtauth.New("HS256", jwtSecret, nil)
				return jwtauth.Verify(ja, jwtauth.TokenFromQuery)(jwtauth.Authenticator(ja)(whoami(jwtauthSubject)))
			},
			hgH: func(*testing.T) http.Handler {
				return must(auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: jwtSecret}},
					DangerouslyAllowQueryToken: true})).Handler(whoami(hgSubject))
			},
			both: []expect{status(200), body("alice")},
		},
		{
			name:  "Verifier alone passes an expired token on; Optional refuses it",
			rows:  []string{"Verifier without Authenticator"},
			req:   expired,
			peerH: verifierAlone,
			peer:  []expect{status(200), reached(true), body("")},
			hgH:   hgOptional,
			hg:    hgInvalidToken(),
		},
		{
			name:  "Verifier alone and Optional pass a request without a token",
			rows:  []string{"Verifier without Authenticator"},
			req:   get(ordersURL),
			peerH: verifierAlone,
			hgH:   hgOptional,
			both:  []expect{status(200), reached(true), body("")},
		},
	}
	cases = append(cases, jwtStricter("jwtauth", "New(alg, signKey, verifyKey, ...)")...)
	out := section(jwtauthHeading, peer, hg, cases)
	out = append(out,
		plain(jwtauthHeading, "tokens signed by Encode and by an Issuer pass their verifiers", []string{"Encode"}, func(t *testing.T) {
			ja := jwtauth.New("HS256", jwtSecret, nil)
			_, tok, err := ja.Encode(map[string]any{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(whoami(jwtauthSubject))),
				newReq(http.MethodGet, ordersURL, "Authorization", "Bearer "+tok))
			body("alice")(t, "peer", rec)
			is := must(auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: jwtSecret}, Issuer: jwtIss, Audience: []string{jwtAud}}))
			at := must(is.Issue(context.Background(), auth.Grant{Subject: "alice"}))
			rec = serve(guideJWTAuthAfter(whoami(hgSubject), jwtSecret),
				newReq(http.MethodGet, ordersURL, "Authorization", "Bearer "+at.Token))
			body("alice")(t, "httpguard", rec)
		}),
	)
	return out
}

// --- rate limits -------------------------------------------------------------

// fromAddr returns a GET to path from the client address addr.
func fromAddr(addr, path string, kv ...string) *http.Request {
	r := newReq(http.MethodGet, "https://api.example.com"+path, kv...)
	r.RemoteAddr = addr
	return r
}

// admitsExactly sends n+1 requests made by req to h and expects the first
// n admitted and the last refused; it returns the first and last answers.
func admitsExactly(t *testing.T, who string, h http.Handler, n int, req func(i int) *http.Request) (first, last *exchange) {
	t.Helper()
	for i := range n + 1 {
		rec := serve(h, req(i))
		if i == 0 {
			first = rec
		}
		if ok := rec.Code == 200; ok != (i < n) {
			t.Errorf("%s: request %d: status %d", who, i+1, rec.Code)
		}
		last = rec
	}
	return first, last
}

// failingCounter and failingRateStore fail every call, as a store that is
// down does.
type failingCounter struct{}

func (failingCounter) Config(int, time.Duration)                          {}
func (failingCounter) Increment(string, time.Time) error                  { return errStoreDown }
func (failingCounter) IncrementBy(string, time.Time, int) error           { return errStoreDown }
func (failingCounter) Get(string, time.Time, time.Time) (int, int, error) { return 0, 0, errStoreDown }

type failingRateStore struct{}

func (failingRateStore) Take(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errStoreDown
}
func (failingRateStore) Peek(context.Context, string, ratelimit.Quota, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errStoreDown
}
func (failingRateStore) Reset(context.Context, string) error { return errStoreDown }

// --- github.com/go-chi/httprate -------------------------------------------

const httprateHeading = "github.com/go-chi/httprate"

// guide: github.com/go-chi/httprate, before
func guideHTTPRateBefore(mux http.Handler) http.Handler {
	byIP := func(r *http.Request) (string, error) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return "", err
		}
		return httprate.CanonicalizeIP(host), nil // IPv6 per /64
	}
	handler := httprate.LimitBy(5, time.Minute, byIP)(mux)
	return handler
}

// guide: github.com/go-chi/httprate, after
func guideHTTPRateAfter(mux http.Handler) http.Handler {
	lim, err := ratelimit.New(ratelimit.Options{
		// Key: ratelimit.ByIP() by default: the peer's address, IPv6 per /64.
		Limits: []ratelimit.Limit{{Name: "ip", Rate: 5, Period: time.Minute}},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := lim.Handler(mux)
	return handler
}

// rateClient is the address the rate limit cases send from.
const rateClient = "192.0.2.1:1234"

// sameFrom returns a request builder for admitsExactly whose requests all
// go from addr to path with the header pairs kv.
func sameFrom(addr, path string, kv ...string) func(int) *http.Request {
	return func(int) *http.Request { return fromAddr(addr, path, kv...) }
}

// hgLimiter serves next behind ratelimit.New(o), which must accept o.
func hgLimiter(o ratelimit.Options) http.Handler { return must(ratelimit.New(o)).Handler(next) }

// hgLimiterAround serves h behind ratelimit.New(o), which must accept o.
func hgLimiterAround(o ratelimit.Options, h http.Handler) http.Handler {
	return must(ratelimit.New(o)).Handler(h)
}

// hgAdmitsFive expects the guide's httpguard limiter to admit five
// requests from rateClient and refuse the sixth with a problem document,
// Retry-After and an exhausted RateLimit field; it returns the first
// answer.
func hgAdmitsFive(t *testing.T) (first *exchange) {
	t.Helper()
	first, last := admitsExactly(t, "httpguard", guideHTTPRateAfter(next), 5, sameFrom(rateClient, "/"))
	check(t, "httpguard", last, []expect{problemDoc(429), header("Retry-After", "12"), header("Ratelimit", `"ip";r=0;t=60`)})
	return first
}

// burstThenOne expects h, which admits a burst of two and then one
// request every two seconds, to admit two requests, and one more three
// seconds later: a second of margin on each side, for a loaded machine.
func burstThenOne(t *testing.T, who string, h http.Handler) {
	t.Helper()
	admitsExactly(t, who, h, 2, sameFrom(rateClient, "/"))
	time.Sleep(3 * time.Second)
	admitsExactly(t, who, h, 1, sameFrom(rateClient, "/"))
}

// secondAnswers sends each side's limiter, which admits one request, two
// requests and expects the refusal of the second to have the status code.
func secondAnswers(t *testing.T, peer, hg http.Handler, code int) {
	t.Helper()
	eachSide(peer, hg, func(who string, lim http.Handler) {
		serve(lim, fromAddr(rateClient, "/"))
		status(code)(t, who, serve(lim, fromAddr(rateClient, "/")))
	})
}

// unkeyedSkipsLimit expects a limit whose ByFunc key reports false to
// admit every request.
func unkeyedSkipsLimit(t *testing.T) {
	t.Helper()
	hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 1, Period: time.Minute,
		Key: ratelimit.ByFunc(func(*http.Request) (string, bool) { return "", false })}}})
	for range 3 {
		status(200)(t, "httpguard", serve(hg, fromAddr(rateClient, "/")))
	}
}

// twoEveryFourSeconds is httpguard's limit for burstThenOne.
var twoEveryFourSeconds = ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 2, Period: 4 * time.Second}}}

func httprateCases() []migCase {
	h := httprateHeading
	rows := func(r ...string) []string { return r }
	return []migCase{
		plain(h, "five admitted, the sixth refused: text and X-RateLimit fields, or a problem document and RateLimit fields", rows("LimitBy(requestLimit, windowLength, keyFn)", "Refusal", "Response headers"), func(t *testing.T) {
			first, last := admitsExactly(t, "peer", guideHTTPRateBefore(next), 5, sameFrom(rateClient, "/"))
			check(t, "peer", first, []expect{header("X-Ratelimit-Limit", "5"), header("X-Ratelimit-Remaining", "4"), header("Ratelimit", "")})
			check(t, "peer", last, []expect{textError(429, "Too Many Requests"), header("Retry-After", "60"), header("X-Ratelimit-Remaining", "0")})
			first = hgAdmitsFive(t)
			check(t, "httpguard", first, []expect{header("Ratelimit-Policy", `"ip";q=5;w=60`), header("Ratelimit", `"ip";r=4;t=12`), header("X-Ratelimit-Limit", "")})
		}),
		plain(h, "another address has a budget of its own; the same IPv6 /64 does not", rows("LimitBy(requestLimit, windowLength, keyFn)", "CanonicalizeIP"), func(t *testing.T) {
			eachSide(guideHTTPRateBefore(next), guideHTTPRateAfter(next), func(who string, lim http.Handler) {
				admitsExactly(t, who, lim, 5, sameFrom("[2001:db8::1]:1234", "/"))
				status(429)(t, who, serve(lim, fromAddr("[2001:db8::2]:1234", "/")))
				status(200)(t, who, serve(lim, fromAddr("[2001:db8:0:1::1]:1234", "/")))
				status(200)(t, who, serve(lim, fromAddr("192.0.2.9:1234", "/")))
			})
		}),
		plain(h, "X-Forwarded-For from any peer: the key with KeyByRealIP, ignored by httpguard", rows("KeyByRealIP"), func(t *testing.T) {
			//lint:ignore SA1019 the deprecated, spoofable key is the behaviour documented
			peer := httprate.LimitBy(5, time.Minute, httprate.KeyByRealIP)(next)
			spoofed := func(i int) *http.Request {
				return fromAddr(rateClient, "/", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
			}
			for i := range 10 {
				status(200)(t, "peer", serve(peer, spoofed(i)))
			}
			admitsExactly(t, "httpguard", guideHTTPRateAfter(next), 5, spoofed)
		}),
		plain(h, "X-Forwarded-For from a trusted proxy: the client's address", rows("KeyByRealIP"), func(t *testing.T) {
			lim := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute}}, ClientIP: trustedProxy()})
			admitsExactly(t, "httpguard", lim, 5, sameFrom("10.0.0.1:1234", "/", "X-Forwarded-For", "198.51.100.7"))
			status(200)(t, "httpguard", serve(lim, fromAddr("10.0.0.1:1234", "/", "X-Forwarded-For", "198.51.100.8")))
		}),
		plain(h, "one budget for everyone", rows(`Key("*")`), func(t *testing.T) {
			peer := httprate.LimitBy(5, time.Minute, httprate.Key("*"))(next)
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute, Key: ratelimit.Global()}}})
			eachSide(peer, hg, func(who string, lim http.Handler) {
				admitsExactly(t, who, lim, 5, func(i int) *http.Request { return fromAddr(fmt.Sprintf("192.0.2.%d:1234", i+1), "/") })
			})
		}),
		plain(h, "by endpoint: the path in httprate, the ServeMux pattern in httpguard", rows("KeyByEndpoint"), func(t *testing.T) {
			peer := httprate.LimitBy(5, time.Minute, httprate.KeyByEndpoint)(next)
			admitsExactly(t, "peer", peer, 5, sameFrom(rateClient, "/items/1"))
			status(200)(t, "peer", serve(peer, fromAddr(rateClient, "/items/2")))
			mux := http.NewServeMux()
			mux.Handle("GET /items/{id}", hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute, Key: ratelimit.ByRoute()}}}))
			admitsExactly(t, "httpguard", mux, 5, sameFrom(rateClient, "/items/1"))
			status(429)(t, "httpguard", serve(mux, fromAddr(rateClient, "/items/2")))
		}),
		plain(h, "by endpoint around the whole mux: one key per path in httprate; one key for every route in httpguard, which sees no pattern there", rows("KeyByEndpoint"), func(t *testing.T) {
			// The last request of each side: another route, another client.
			routes := func() *http.ServeMux {
				mux := http.NewServeMux()
				mux.Handle("GET /items/{id}", next)
				mux.Handle("GET /other/{id}", next)
				return mux
			}
			peer := httprate.LimitBy(5, time.Minute, httprate.KeyByEndpoint)(routes())
			admitsExactly(t, "peer", peer, 5, sameFrom(rateClient, "/items/1"))
			status(200)(t, "peer", serve(peer, fromAddr("198.51.100.77:1234", "/other/1")))
			hg := hgLimiterAround(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute, Key: ratelimit.ByRoute()}}}, routes())
			admitsExactly(t, "httpguard", hg, 5, sameFrom(rateClient, "/items/1"))
			status(429)(t, "httpguard", serve(hg, fromAddr("198.51.100.77:1234", "/other/1")))
		}),
		plain(h, "WithLimitHandler and OnReject write the refusal", rows("WithLimitHandler"), func(t *testing.T) {
			teapot := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }
			peer := httprate.LimitBy(1, time.Minute, httprate.Key("*"), httprate.WithLimitHandler(teapot))(next)
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 1, Period: time.Minute}},
				OnReject: rejectWith(http.StatusTeapot, ratelimit.ErrLimited)})
			secondAnswers(t, peer, hg, http.StatusTeapot)
		}),
		plain(h, "a key function that fails: 428 with its error from httprate; ByFunc reporting false skips the limit", rows("WithErrorHandler"), func(t *testing.T) {
			peer := httprate.LimitBy(1, time.Minute, func(*http.Request) (string, error) { return "", errors.New("no tenant") })(next)
			textError(428, "no tenant")(t, "peer", serve(peer, fromAddr(rateClient, "/")))
			unkeyedSkipsLimit(t)
		}),
		plain(h, "a store that fails: 428 with its error from httprate, 503 problem with Retry-After from httpguard", rows("WithLimitCounter", "WithErrorHandler"), func(t *testing.T) {
			peer := httprate.LimitBy(5, time.Minute, httprate.Key("*"), httprate.WithLimitCounter(failingCounter{}))(next)
			// The error handler's answer, then the limit handler's text
			// (its status lost).
			rec := serve(peer, fromAddr(rateClient, "/"))
			check(t, "peer", rec, []expect{status(428), body("store down\nToo Many Requests\n")})
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute}}, Store: failingRateStore{}})
			rec = serve(hg, fromAddr(rateClient, "/"))
			problemDoc(503)(t, "httpguard", rec)
			header("Retry-After", "1")(t, "httpguard", rec)
		}),
		plain(h, "no rate fields: empty ResponseHeaders, HeadersOff", rows("WithResponseHeaders"), func(t *testing.T) {
			peer := httprate.LimitBy(5, time.Minute, httprate.Key("*"), httprate.WithResponseHeaders(httprate.ResponseHeaders{}))(next)
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute}}, Headers: ratelimit.HeadersOff})
			eachSide(peer, hg, func(who string, lim http.Handler) {
				rec := serve(lim, fromAddr(rateClient, "/"))
				for k := range rec.Result().Header {
					if strings.Contains(strings.ToLower(k), "ratelimit") {
						t.Errorf("%s: %s sent", who, k)
					}
				}
			})
		}),
		plain(h, "a limit per account's plan: WithRequestLimit set by a middleware before, or Plans and PlanOf", rows("WithRequestLimit"), func(t *testing.T) {
			premium := func(r *http.Request) bool { return r.Header.Get("X-Account") == "acme" }
			byAccount := func(r *http.Request) (string, error) { return r.Header.Get("X-Account"), nil }
			peer := rewrite(httprate.LimitBy(5, time.Minute, byAccount)(next), func(r *http.Request) *http.Request {
				if premium(r) {
					r = r.WithContext(httprate.WithRequestLimit(r.Context(), 10))
				}
				return r
			})
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{
				Name: "account", Rate: 5, Period: time.Minute,
				Key:    ratelimit.ByFunc(func(r *http.Request) (string, bool) { k, _ := byAccount(r); return k, true }),
				Plans:  map[string]ratelimit.Plan{"premium": {Rate: 10, Period: time.Minute}},
				PlanOf: func(r *http.Request) string { return map[bool]string{true: "premium"}[premium(r)] },
			}}})
			eachSide(peer, hg, func(who string, h http.Handler) {
				admitsExactly(t, who, h, 10, func(int) *http.Request { return fromAddr(rateClient, "/", "X-Account", "acme") })
				admitsExactly(t, who, h, 5, func(int) *http.Request { return fromAddr(rateClient, "/", "X-Account", "bob") })
			})
		}),
		plain(h, "a request that counts five: WithIncrement, or Limit.Cost", rows("WithIncrement"), func(t *testing.T) {
			isBulk := func(r *http.Request) bool { return r.URL.Path == "/bulk" }
			peer := rewrite(httprate.LimitBy(5, time.Minute, httprate.Key("*"))(next), func(r *http.Request) *http.Request {
				if isBulk(r) {
					r = r.WithContext(httprate.WithIncrement(r.Context(), 5))
				}
				return r
			})
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{
				Name: "all", Rate: 5, Period: time.Minute, Key: ratelimit.Global(),
				Cost: func(r *http.Request) int { return map[bool]int{true: 5, false: 1}[isBulk(r)] },
			}}})
			eachSide(peer, hg, func(who string, h http.Handler) {
				status(200)(t, who, serve(h, fromAddr(rateClient, "/bulk")))
				status(429)(t, who, serve(h, fromAddr(rateClient, "/")))
			})
		}),
		plain(h, "a request that costs more than the limit: counted by httprate until the window ends, refused for good without Retry-After by httpguard", rows("WithIncrement"), func(t *testing.T) {
			peer := rewrite(httprate.LimitBy(5, time.Minute, httprate.Key("*"))(next), func(r *http.Request) *http.Request {
				return r.WithContext(httprate.WithIncrement(r.Context(), 6))
			})
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{
				Name: "all", Rate: 5, Period: time.Minute, Key: ratelimit.Global(),
				Cost: func(*http.Request) int { return 6 },
			}}})
			eachSide(peer, hg, func(who string, h http.Handler) {
				status(429)(t, who, serve(h, fromAddr(rateClient, "/")))
			})
			w := serve(hg, fromAddr(rateClient, "/"))
			if _, ok := w.Header()["Retry-After"]; ok {
				t.Errorf("httpguard: Retry-After %q for a request no wait admits", w.Header().Get("Retry-After"))
			}
			if w := serve(peer, fromAddr(rateClient, "/")); w.Header().Get("Retry-After") == "" {
				t.Errorf("httprate: no Retry-After")
			}
		}),
		plain(h, "a lower limit on some routes: WithRequestLimit, or a second limit keyed on the same condition", rows("WithRequestLimit"), func(t *testing.T) {
			isExport := func(r *http.Request) bool { return r.URL.Path == "/export" }
			peer := rewrite(httprate.LimitBy(5, time.Minute, httprate.Key("*"))(next), func(r *http.Request) *http.Request {
				if isExport(r) {
					r = r.WithContext(httprate.WithRequestLimit(r.Context(), 1))
				}
				return r
			})
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{
				{Name: "all", Rate: 5, Period: time.Minute, Key: ratelimit.Global()},
				{Name: "export", Rate: 1, Period: time.Minute, Key: ratelimit.ByFunc(func(r *http.Request) (string, bool) { return "", isExport(r) })},
			}})
			eachSide(peer, hg, func(who string, h http.Handler) {
				status(200)(t, who, serve(h, fromAddr(rateClient, "/export")))
				status(429)(t, who, serve(h, fromAddr(rateClient, "/export")))
			})
		}),
		plain(h, "after a refusal httpguard admits one request every Period/Rate", rows("Algorithm"), func(t *testing.T) {
			burstThenOne(t, "httpguard", hgLimiter(twoEveryFourSeconds))
		}),
	}
}

// --- github.com/labstack/echo/v4/middleware: RateLimiterWithConfig --------

const echoRateHeading = "RateLimiterWithConfig"

// guide: echo RateLimiterWithConfig, before
func guideEchoRateBefore(mux http.Handler) http.Handler {
	e := echo.New()
	e.Use(middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(12 * time.Second), Burst: 5, ExpiresIn: 3 * time.Minute,
		}),
	}))
	e.Any("/*", echo.WrapHandler(mux))
	handler := http.Handler(e)
	return handler
}

func echoRateCases() []migCase {
	h := echoRateHeading
	rows := func(r ...string) []string { return r }
	echoRate := func(c middleware.RateLimiterConfig) http.Handler {
		return echoWith(middleware.RateLimiterWithConfig(c))
	}
	return []migCase{
		plain(h, "five admitted, the sixth refused: echo's JSON without Retry-After, or a problem document with it", rows("Store: Rate, Burst", "Refusal"), func(t *testing.T) {
			_, last := admitsExactly(t, "peer", guideEchoRateBefore(next), 5, sameFrom(rateClient, "/"))
			check(t, "peer", last, []expect{echoError(429, "rate limit exceeded"), header("Retry-After", "")})
			hgAdmitsFive(t)
		}),
		plain(h, "one request every Rate after a refusal, in both", rows("Store: Rate, Burst"), func(t *testing.T) {
			peer := echoRate(middleware.RateLimiterConfig{Store: middleware.NewRateLimiterMemoryStoreWithConfig(
				middleware.RateLimiterMemoryStoreConfig{Rate: rate.Every(2 * time.Second), Burst: 2})})
			eachSide(peer, hgLimiter(twoEveryFourSeconds), func(who string, lim http.Handler) { burstThenOne(t, who, lim) })
		}),
		plain(h, "IPv6: each address its own budget in echo, each /64 in httpguard", rows("IdentifierExtractor"), func(t *testing.T) {
			eachSide(guideEchoRateBefore(next), guideHTTPRateAfter(next), func(who string, lim http.Handler) {
				admitsExactly(t, who, lim, 5, sameFrom("[2001:db8::1]:1234", "/"))
				want := map[string]int{"peer": 200, "httpguard": 429}[who]
				status(want)(t, who, serve(lim, fromAddr("[2001:db8::2]:1234", "/")))
				status(200)(t, who, serve(lim, fromAddr("192.0.2.9:1234", "/")))
			})
		}),
		plain(h, "X-Forwarded-For is ignored by both by default", rows("IdentifierExtractor"), func(t *testing.T) {
			eachSide(guideEchoRateBefore(next), guideHTTPRateAfter(next), func(who string, lim http.Handler) {
				admitsExactly(t, who, lim, 5, func(i int) *http.Request {
					return fromAddr(rateClient, "/", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i), "X-Real-Ip", fmt.Sprintf("198.51.100.%d", i))
				})
			})
		}),
		plain(h, "DenyHandler and OnReject write the refusal", rows("DenyHandler"), func(t *testing.T) {
			peer := echoRate(middleware.RateLimiterConfig{Store: middleware.NewRateLimiterMemoryStore(rate.Every(time.Minute)),
				DenyHandler: func(c echo.Context, id string, err error) error { return c.NoContent(http.StatusTeapot) }})
			hg := hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 1, Period: time.Minute}}, OnReject: rejectWith(http.StatusTeapot, nil)})
			secondAnswers(t, peer, hg, http.StatusTeapot)
		}),
		plain(h, "an identifier that fails: 403 from echo; ByFunc reporting false skips the limit", rows("ErrorHandler", "Skipper"), func(t *testing.T) {
			peer := echoRate(middleware.RateLimiterConfig{Store: middleware.NewRateLimiterMemoryStore(rate.Every(time.Minute)),
				IdentifierExtractor: func(echo.Context) (string, error) { return "", errors.New("no tenant") }})
			echoError(403, "error while extracting identifier")(t, "peer", serve(peer, fromAddr(rateClient, "/")))
			unkeyedSkipsLimit(t)
		}),
		plain(h, "no skipper or before hook", rows("Skipper", "BeforeFunc"), func(t *testing.T) {
			noField(t, ratelimit.Options{}, "Skipper", "BeforeFunc")
			noField(t, ratelimit.Limit{}, "Skipper", "BeforeFunc")
		}),
		plain(h, "a store that fails: httpguard answers 503", rows("Store: Rate, Burst"), func(t *testing.T) {
			rec := serve(hgLimiter(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 5, Period: time.Minute}}, Store: failingRateStore{}}), fromAddr(rateClient, "/"))
			problemDoc(503)(t, "httpguard", rec)
		}),
	}
}

// --- github.com/labstack/echo/v4/middleware: SecureWithConfig -------------

const echoSecureHeading = "SecureWithConfig"

// guide: echo SecureWithConfig, before
func guideEchoSecureBefore(mux http.Handler) http.Handler {
	e := echo.New()
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "1; mode=block",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "SAMEORIGIN",
		HSTSMaxAge:            31536000,
		ContentSecurityPolicy: "default-src 'self'",
		ReferrerPolicy:        "strict-origin-when-cross-origin",
	}))
	e.Any("/*", echo.WrapHandler(mux))
	handler := http.Handler(e)
	return handler
}

// guide: echo SecureWithConfig, after
func guideEchoSecureAfter(mux http.Handler) http.Handler {
	sec, err := headers.New(headers.Options{
		HSTS:           headers.HSTS{MaxAge: 365 * 24 * time.Hour},
		CSP:            &headers.CSP{DefaultSrc: []string{headers.Self}},
		FrameOptions:   "SAMEORIGIN",
		ReferrerPolicy: "strict-origin-when-cross-origin",
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := sec.Handler(mux)
	return handler
}

func echoSecureCases() []migCase {
	peer := withNext(guideEchoSecureBefore)
	hg := withNext(guideEchoSecureAfter)
	echoSec := func(c middleware.SecureConfig) func(*testing.T) http.Handler {
		return func(*testing.T) http.Handler { return echoWith(middleware.SecureWithConfig(c)) }
	}
	overTLS := get("https://example.com/")
	fromPrivate := fromPeer(http.MethodGet, "http://example.com/", "10.1.2.3:4711", "X-Forwarded-Proto", "https")
	echoHSTS := []expect{header("Strict-Transport-Security", "max-age=31536000; includeSubdomains")}
	common := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "SAMEORIGIN",
		"Content-Security-Policy": "default-src 'self'",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
	}
	cases := []httpCase{
		{
			name: "an HTTPS request gets the configured headers; httpguard adds its defaults and turns the XSS auditor off",
			rows: []string{"XSSProtection", "ContentTypeNosniff", "XFrameOptions", "HSTSMaxAge", "ContentSecurityPolicy", "ReferrerPolicy", "Headers sent without configuration"},
			req:  overTLS,
			both: []expect{headersAre(common)},
			peer: []expect{header("X-Xss-Protection", "1; mode=block"), header("Strict-Transport-Security", "max-age=31536000; includeSubdomains"), noHGDefaultHeaders()},
			hg:   []expect{header("X-Xss-Protection", "0"), header("Strict-Transport-Security", "max-age=31536000; includeSubDomains"), headersAre(hgDefaultHeaders)},
		},
		{
			name:  "the defaults: Secure() sets three headers, headers.Options{} every one",
			rows:  []string{"Secure()", "Headers sent without configuration"},
			req:   overTLS,
			peerH: func(*testing.T) http.Handler { return echoWith(middleware.Secure()) },
			peer: []expect{headersAre(map[string]string{"X-Xss-Protection": "1; mode=block", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
				"Strict-Transport-Security": "", "Content-Security-Policy": "", "Referrer-Policy": ""})},
			hgH: hgHeaders(headers.Options{}),
			hg:  []expect{headersAre(hgDefaultHeaders), headersAre(hgZeroOptionsHeaders)},
		},
		{
			name: "plain HTTP with X-Forwarded-Proto from a private address: HSTS from echo, none from httpguard",
			rows: []string{"HSTSMaxAge", "HSTS behind a proxy"},
			req:  fromPrivate,
			peer: echoHSTS,
			hg:   []expect{header("Strict-Transport-Security", "")},
		},
		{
			name: "plain HTTP with X-Forwarded-Proto from a public address: no HSTS from either",
			rows: []string{"HSTS behind a proxy"},
			req:  fromPeer(http.MethodGet, "http://example.com/", "203.0.113.7:4711", "X-Forwarded-Proto", "https"),
			both: []expect{header("Strict-Transport-Security", "")},
		},
		{
			name:  "a trusted proxy's X-Forwarded-Proto: HSTS from httpguard",
			rows:  []string{"HSTS behind a proxy"},
			req:   fromPrivate,
			peerH: peer,
			peer:  echoHSTS,
			hgH:   hgHeaders(headers.Options{HSTS: headers.HSTS{MaxAge: 365 * 24 * time.Hour}, ClientIP: trustedProxy()}),
			hg:    []expect{header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")},
		},
		{
			name:  "without includeSubDomains, with preload",
			rows:  []string{"HSTSExcludeSubdomains, HSTSPreloadEnabled"},
			req:   overTLS,
			peerH: echoSec(middleware.SecureConfig{HSTSMaxAge: 31536000, HSTSExcludeSubdomains: true}),
			hgH:   hgHeaders(headers.Options{HSTS: headers.HSTS{MaxAge: 365 * 24 * time.Hour, DisableIncludeSubDomains: true}}),
			both:  []expect{header("Strict-Transport-Security", "max-age=31536000")},
		},
		{
			name:  "preload",
			rows:  []string{"HSTSExcludeSubdomains, HSTSPreloadEnabled"},
			req:   overTLS,
			peerH: echoSec(middleware.SecureConfig{HSTSMaxAge: 31536000, HSTSPreloadEnabled: true}),
			peer:  []expect{header("Strict-Transport-Security", "max-age=31536000; includeSubdomains; preload")},
			hgH:   hgHeaders(headers.Options{HSTS: headers.HSTS{MaxAge: 365 * 24 * time.Hour, Preload: true}}),
			hg:    []expect{header("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")},
		},
		{
			name:  "a report-only policy",
			rows:  []string{"CSPReportOnly"},
			req:   overTLS,
			peerH: echoSec(middleware.SecureConfig{ContentSecurityPolicy: "default-src 'self'", CSPReportOnly: true}),
			hgH:   hgHeaders(headers.Options{CSP: &headers.CSP{DefaultSrc: []string{headers.Self}, ReportOnly: true}}),
			both:  []expect{header("Content-Security-Policy-Report-Only", "default-src 'self'"), header("Content-Security-Policy", "")},
		},
		{
			name:  "ALLOW-FROM: sent by echo, an error in httpguard",
			rows:  []string{"XFrameOptions"},
			req:   overTLS,
			peerH: echoSec(middleware.SecureConfig{XFrameOptions: "ALLOW-FROM https://partner.test"}),
			peer:  []expect{header("X-Frame-Options", "ALLOW-FROM https://partner.test")},
			hgH:   newRefuses(headers.New, headers.Options{FrameOptions: "ALLOW-FROM https://partner.test"}, headers.ErrValue),
		},
		{
			name:  "an empty value leaves the header out in echo; Omit does in httpguard",
			rows:  []string{"ContentTypeNosniff", "XSSProtection"},
			req:   overTLS,
			peerH: echoSec(middleware.SecureConfig{}),
			hgH:   hgHeaders(headers.Options{ContentTypeOptions: headers.Omit, XSSProtection: headers.Omit}),
			both:  []expect{header("X-Content-Type-Options", ""), header("X-Xss-Protection", "")},
		},
	}
	out := section(echoSecureHeading, peer, hg, cases)
	out = append(out,
		plain(echoSecureHeading, "no skipper; With builds a route's variant", []string{"Skipper"}, func(t *testing.T) {
			noField(t, headers.Options{}, "Skipper")
			framed := must(must(headers.New(headers.Options{})).With(func(o *headers.Options) { o.FrameOptions = headers.Omit }))
			rec := serve(framed.Handler(next), overTLS())
			header("X-Frame-Options", "")(t, "httpguard", rec)
		}),
		plain(echoSecureHeading, "a CSP string: unsafe sources are errors", []string{"ContentSecurityPolicy"}, func(t *testing.T) {
			refuses(t, headers.New, headers.Options{CSP: &headers.CSP{ScriptSrc: []string{"*"}}}, headers.ErrUnsafeSource)
		}),
	)
	return out
}

// --- github.com/labstack/echo-jwt/v4: echojwt.WithConfig -------------------

const echoJWTHeading = "echojwt.WithConfig"

// guide: echo echojwt.WithConfig, before
func guideEchoJWTBefore(app echo.HandlerFunc, secret []byte) http.Handler {
	e := echo.New()
	e.Use(echojwt.WithConfig(echojwt.Config{
		SigningKey:    secret,
		SigningMethod: echojwt.AlgorithmHS256,
		TokenLookup:   "header:Authorization:Bearer ,cookie:jwt",
	}))
	e.Any("/*", app)
	handler := http.Handler(e)
	return handler
}

// guide: echo echojwt.WithConfig, after
func guideEchoJWTAfter(mux http.Handler, secret []byte) http.Handler {
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgHS256},
		Keys:       []auth.Key{{Algorithm: auth.AlgHS256, Key: secret}},
		CookieName: "jwt", // TokenLookup's cookie:jwt
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := bearer.Handler(mux)
	return handler
}

// echoJWTApp is the echo handler behind echojwt: it marks that it ran and
// writes the subject of the token echojwt stored under key.
func echoJWTApp(key string) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("X-Reached", "yes")
		sub := ""
		if tok, ok := c.Get(key).(*gojwt.Token); ok {
			sub, _ = tok.Claims.GetSubject()
		}
		return c.String(http.StatusOK, sub)
	}
}

// echoJWTWith serves echoJWTApp behind echojwt configured by c.
func echoJWTWith(c echojwt.Config) func(*testing.T) http.Handler {
	return func(*testing.T) http.Handler {
		e := echo.New()
		e.Use(echojwt.WithConfig(c))
		e.Any("/*", echoJWTApp(cmp.Or(c.ContextKey, "user")))
		return e
	}
}

// hgJWTWith serves whoami behind auth.NewJWT(o), with HS256 and jwtSecret
// unless o sets its algorithms and keys.
func hgJWTWith(o auth.JWTOptions) func(*testing.T) http.Handler {
	return func(*testing.T) http.Handler {
		if o.Algorithms == nil {
			o.Algorithms = []string{auth.AlgHS256}
		}
		if o.Keys == nil {
			o.Keys = []auth.Key{{Algorithm: auth.AlgHS256, Key: jwtSecret}}
		}
		return must(auth.NewJWT(o)).Handler(whoami(hgSubject))
	}
}

// hgJWTRefuses is httpguard's side of a case whose options NewJWT
// refuses: it expects an error and serves next, of which the case expects
// nothing.
func hgJWTRefuses(o auth.JWTOptions) func(*testing.T) http.Handler {
	return func(t *testing.T) http.Handler {
		t.Helper()
		if _, err := auth.NewJWT(o); err == nil {
			t.Errorf("auth.NewJWT(%+v): no error", o)
		}
		return next
	}
}

// signKID returns the HS256 token of cl under key with the kid header.
func signKID(kid string, key []byte, cl map[string]any) string {
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims(cl))
	tok.Header["kid"] = kid
	return must(tok.SignedString(key))
}

// tenantJWTClaims is a claims type of echojwt's NewClaimsFunc, whose
// Validate golang-jwt calls after the registered claims.
type tenantJWTClaims struct {
	gojwt.RegisteredClaims
	Tenant string `json:"tid"`
}

func (c *tenantJWTClaims) Validate() error {
	if c.Tenant != "acme" {
		return errors.New("wrong tenant")
	}
	return nil
}

func echoJWTCases() []migCase {
	peer := func(*testing.T) http.Handler { return guideEchoJWTBefore(echoJWTApp("user"), jwtSecret) }
	hg := func(*testing.T) http.Handler { return guideEchoJWTAfter(whoami(hgSubject), jwtSecret) }
	missing := []expect{echoError(401, "missing or malformed jwt"), reached(false), header("Www-Authenticate", "")}
	invalid := []expect{echoError(401, "invalid or expired jwt"), reached(false), header("Www-Authenticate", "")}
	noToken := []expect{problemDoc(401), reached(false), header("Www-Authenticate", challenge)}
	expired := bearerReq(claims("exp", time.Now().Add(-time.Hour).Unix()))
	forged := get(ordersURL, "Authorization", "Bearer "+signJWT("HS256", []byte("another secret of thirty-two bytes"), claims("sub", "mallory")))
	// withToken builds a request with alice's token in place of TOKEN in
	// target and in the header values kv.
	withToken := func(method, target string, kv ...string) func() *http.Request {
		return func() *http.Request {
			tok := hs256(claims())
			kv := slices.Clone(kv)
			for i := range kv {
				kv[i] = strings.ReplaceAll(kv[i], "TOKEN", tok)
			}
			return newReq(method, strings.ReplaceAll(target, "TOKEN", tok), kv...)
		}
	}
	key1, key2 := []byte("first key of at least thirty-two bytes"), []byte("second key of at least thirty-two bytes")
	kidKeys := func(*testing.T) http.Handler {
		return echoJWTWith(echojwt.Config{SigningKeys: map[string]any{"2023": key1, "2024": key2}})(nil)
	}
	hgKIDKeys := hgJWTWith(auth.JWTOptions{Keys: []auth.Key{{ID: "2023", Algorithm: auth.AlgHS256, Key: key1}, {ID: "2024", Algorithm: auth.AlgHS256, Key: key2}}})
	parsed := echoJWTWith(echojwt.Config{ParseTokenFunc: func(_ echo.Context, auth string) (any, error) {
		return gojwt.Parse(auth, func(*gojwt.Token) (any, error) { return jwtSecret, nil }, gojwt.WithValidMethods([]string{"HS256"}),
			gojwt.WithIssuer(jwtIss), gojwt.WithAudience(jwtAud), gojwt.WithLeeway(30*time.Second))
	}})
	hgChecked := hgJWTWith(auth.JWTOptions{Issuer: jwtIss, Audience: jwtAud, Leeway: 30 * time.Second})
	tenant := echoJWTWith(echojwt.Config{SigningKey: jwtSecret, NewClaimsFunc: func(echo.Context) gojwt.Claims { return new(tenantJWTClaims) }})
	hgTenant := hgJWTWith(auth.JWTOptions{IdentityClaims: []string{"tid"}, ValidateClaims: checkTenant})
	ignoreErrors := echoJWTWith(echojwt.Config{SigningKey: jwtSecret, ContinueOnIgnoredError: true,
		ErrorHandler: func(echo.Context, error) error { return nil }})
	hgOptional := func(*testing.T) http.Handler {
		return must(auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: jwtSecret}}})).Optional(whoami(hgSubject))
	}
	// skipHealth: /health without a check, every other path with one.
	skipHealth := echoJWTWith(echojwt.Config{SigningKey: jwtSecret, Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/health" }})
	hgHealth := func(*testing.T) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/health", next)
		mux.Handle("/", guideEchoJWTAfter(whoami(hgSubject), jwtSecret))
		return mux
	}
	twoAuthorization := func() *http.Request {
		r := forged()
		r.Header.Add("Authorization", "Bearer "+hs256(claims()))
		return r
	}
	cases := []httpCase{
		tokenPasses("SigningKey", "ContextKey", "TokenLookup header:<name>:<prefix>"),
		{
			name: "the scheme in any case",
			rows: []string{"TokenLookup header:<name>:<prefix>"},
			req:  get(ordersURL, "Authorization", "bearer "+hs256(claims())),
			both: []expect{status(200), body("alice")},
		},
		{
			name:  "another header: read by echojwt, not by httpguard",
			rows:  []string{"TokenLookup header:<name>:<prefix>"},
			req:   get(ordersURL, "X-Token", hs256(claims())),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, TokenLookup: "header:X-Token"}),
			peer:  []expect{status(200), body("alice")},
			hg:    noToken,
		},
		{
			name:  "a short secret: accepted by echojwt, an error from NewJWT",
			rows:  []string{"SigningKey"},
			req:   get(ordersURL, "Authorization", "Bearer "+signJWT("HS256", []byte("secret"), claims())),
			peerH: echoJWTWith(echojwt.Config{SigningKey: []byte("secret")}),
			peer:  []expect{status(200), body("alice")},
			hgH:   hgJWTRefuses(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: []byte("secret")}}}),
		},
		{
			name:  "the kid picks the key in both",
			rows:  []string{"SigningKeys"},
			req:   get(ordersURL, "Authorization", "Bearer "+signKID("2024", key2, claims())),
			peerH: kidKeys,
			hgH:   hgKIDKeys,
			both:  []expect{status(200), body("alice")},
		},
		{
			name:  "a token without kid is refused by both when the keys have IDs",
			rows:  []string{"SigningKeys"},
			req:   get(ordersURL, "Authorization", "Bearer "+signJWT("HS256", key2, claims())),
			peerH: kidKeys,
			peer:  invalid,
			hgH:   hgKIDKeys,
			hg:    hgInvalidToken(),
		},
		{
			name:  "SigningMethod defaults to HS256; Algorithms is required",
			rows:  []string{"SigningMethod"},
			req:   bearerReq(claims()),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret}),
			peer:  []expect{status(200), body("alice")},
			hgH:   hgJWTRefuses(auth.JWTOptions{Keys: []auth.Key{{Key: jwtSecret}}}),
		},
		invalidToken("the same secret under HS384 is refused by both", []string{"SigningMethod"},
			get(ordersURL, "Authorization", "Bearer "+signJWT("HS384", jwtSecret, claims())), invalid...),
		invalidToken("an unsigned token (alg none) is refused by both", []string{"SigningMethod", "alg: none"},
			get(ordersURL, "Authorization", "Bearer "+signJWT("none", nil, claims())), invalid...),
		{
			name:  "another ContextKey: the token under that key; the identity in the request's context",
			rows:  []string{"ContextKey"},
			req:   bearerReq(claims()),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, ContextKey: "token"}),
			both:  []expect{status(200), body("alice")},
		},
		{
			name: "httpguard around the echo instance: the echo handler reads the identity from c.Request()",
			rows: []string{"ContextKey"},
			req:  bearerReq(claims()),
			hgH: func(*testing.T) http.Handler {
				e := echo.New()
				e.Any("/*", func(c echo.Context) error {
					c.Response().Header().Set("X-Reached", "yes")
					id, _ := identity.FromRequest(c.Request())
					return c.String(http.StatusOK, id.Subject())
				})
				return guideEchoJWTAfter(e, jwtSecret)
			},
			both: []expect{status(200), reached(true), body("alice")},
		},
		{
			name:  "the token in the access_token query parameter",
			rows:  []string{"TokenLookup query:<name>"},
			req:   withToken(http.MethodGet, ordersURL+"?access_token=TOKEN"),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, TokenLookup: "query:access_token"}),
			hgH:   hgJWTWith(auth.JWTOptions{DangerouslyAllowQueryToken: true}),
			both:  []expect{status(200), body("alice")},
		},
		{
			name:  "another query parameter: read by echojwt, not by httpguard",
			rows:  []string{"TokenLookup query:<name>"},
			req:   withToken(http.MethodGet, ordersURL+"?token=TOKEN"),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, TokenLookup: "query:token"}),
			peer:  []expect{status(200), body("alice")},
			hgH:   hgJWTWith(auth.JWTOptions{DangerouslyAllowQueryToken: true}),
			hg:    noToken,
		},
		{
			name: "the token in the query string, by default: ignored by both",
			rows: []string{"Token in the query string"},
			req:  withToken(http.MethodGet, ordersURL+"?access_token=TOKEN&jwt=TOKEN&token=TOKEN"),
			peer: missing,
			hg:   noToken,
		},
		{
			name: "the token in a path parameter: read by echojwt, not by httpguard",
			rows: []string{"TokenLookup param:<name>"},
			req:  withToken(http.MethodGet, ordersURL+"/TOKEN"),
			peerH: func(*testing.T) http.Handler {
				e := echo.New()
				e.GET("/orders/:token", echoJWTApp("user"), echojwt.WithConfig(echojwt.Config{SigningKey: jwtSecret, TokenLookup: "param:token"}))
				return e
			},
			peer: []expect{status(200), body("alice")},
			hg:   noToken,
		},
		{
			name: "the token in the jwt cookie",
			rows: []string{"TokenLookup cookie:<name>"},
			req:  withToken(http.MethodGet, ordersURL, "Cookie", "jwt=TOKEN"),
			both: []expect{status(200), body("alice")},
		},
		{
			name: "the token in a form field: read by echojwt, not by httpguard",
			rows: []string{"TokenLookup form:<name>"},
			req: func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, ordersURL, strings.NewReader("access_token="+hs256(claims())))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			},
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, TokenLookup: "form:access_token"}),
			peer:  []expect{status(200), body("alice")},
			hg:    noToken,
		},
		{
			name: "a token read by a function of your own: TokenLookupFuncs, or Verify",
			rows: []string{"TokenLookupFuncs"},
			req:  get(ordersURL, "X-Token", hs256(claims())),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, TokenLookupFuncs: []middleware.ValuesExtractor{
				func(c echo.Context) ([]string, error) { return []string{c.Request().Header.Get("X-Token")}, nil },
			}}),
			hgH: func(*testing.T) http.Handler {
				j := must(auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgHS256}, Keys: []auth.Key{{Key: jwtSecret}}}))
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					id, err := j.Verify(r.Context(), r.Header.Get("X-Token"))
					if err != nil {
						w.WriteHeader(http.StatusUnauthorized)
						return
					}
					whoami(hgSubject).ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), id)))
				})
			},
			both: []expect{status(200), body("alice")},
		},
		{
			name: "without ParseTokenFunc or Issuer, a token from any issuer passes both",
			rows: []string{"ParseTokenFunc"},
			req:  bearerReq(claims("iss", "https://evil.test/", "aud", []string{"https://other.example.com"})),
			both: []expect{status(200), body("alice")},
		},
		{
			name:  "a ParseTokenFunc with golang-jwt's options, and Issuer: another issuer is refused",
			rows:  []string{"ParseTokenFunc"},
			req:   bearerReq(claims("iss", "https://evil.test/")),
			peerH: parsed,
			peer:  invalid,
			hgH:   hgChecked,
			hg:    hgInvalidToken(),
		},
		{
			name:  "a ParseTokenFunc with golang-jwt's options, and Audience: another audience is refused",
			rows:  []string{"ParseTokenFunc"},
			req:   bearerReq(claims("aud", []string{"https://other.example.com"})),
			peerH: parsed,
			peer:  invalid,
			hgH:   hgChecked,
			hg:    hgInvalidToken(),
		},
		{
			name:  "a ParseTokenFunc with golang-jwt's options, and Leeway: expired within the leeway passes",
			rows:  []string{"ParseTokenFunc"},
			req:   bearerReq(claims("exp", time.Now().Add(-10*time.Second).Unix())),
			peerH: parsed,
			hgH:   hgChecked,
			both:  []expect{status(200), body("alice")},
		},
		{
			name:  "a KeyFunc that returns the secret: HS384 passes echojwt, Algorithms refuses it",
			rows:  []string{"KeyFunc"},
			req:   get(ordersURL, "Authorization", "Bearer "+signJWT("HS384", jwtSecret, claims())),
			peerH: echoJWTWith(echojwt.Config{KeyFunc: func(*gojwt.Token) (any, error) { return jwtSecret, nil }}),
			peer:  []expect{status(200), body("alice")},
			hg:    hgInvalidToken(),
		},
		{
			name:  "a claims type with Validate, and ValidateClaims: the right tenant passes",
			rows:  []string{"NewClaimsFunc"},
			req:   bearerReq(claims("tid", "acme")),
			peerH: tenant,
			hgH:   hgTenant,
			both:  []expect{status(200), body("alice")},
		},
		{
			name:  "a claims type with Validate, and ValidateClaims: another tenant is refused",
			rows:  []string{"NewClaimsFunc"},
			req:   bearerReq(claims("tid", "other")),
			peerH: tenant,
			peer:  invalid,
			hgH:   hgTenant,
			hg:    hgInvalidToken(),
		},
		{
			name:  "ErrorHandler and OnReject write the refusal",
			rows:  []string{"ErrorHandler"},
			req:   expired,
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, ErrorHandler: func(c echo.Context, err error) error { return c.NoContent(http.StatusTeapot) }}),
			hgH:   hgJWTWith(auth.JWTOptions{OnReject: rejectWith(http.StatusTeapot, auth.ErrTokenExpired)}),
			both:  []expect{status(418), reached(false)},
		},
		{
			name:  "an ErrorHandler returning nil, an OnReject writing nothing: 200, empty, the handler not run",
			rows:  []string{"ErrorHandler"},
			req:   expired,
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, ErrorHandler: func(echo.Context, error) error { return nil }}),
			hgH:   hgJWTWith(auth.JWTOptions{OnReject: func(http.ResponseWriter, *http.Request, error) {}}),
			both:  []expect{status(200), reached(false), body("")},
		},
		{
			name:  "errors ignored, Optional: a request without a token is passed on by both",
			rows:  []string{"ContinueOnIgnoredError"},
			req:   get(ordersURL),
			peerH: ignoreErrors,
			hgH:   hgOptional,
			both:  []expect{status(200), reached(true), body("")},
		},
		{
			name:  "errors ignored: a forged token is passed on by echojwt; Optional refuses it",
			rows:  []string{"ContinueOnIgnoredError"},
			req:   forged,
			peerH: ignoreErrors,
			peer:  []expect{status(200), reached(true), body("")},
			hgH:   hgOptional,
			hg:    hgInvalidToken(),
		},
		{
			name:  "errors ignored: an expired token is passed on by echojwt; Optional refuses it",
			rows:  []string{"ContinueOnIgnoredError"},
			req:   expired,
			peerH: ignoreErrors,
			peer:  []expect{status(200), reached(true)},
			hgH:   hgOptional,
			hg:    hgInvalidToken(),
		},
		{
			name: "SuccessHandler, or the wrapped handler, runs with the token",
			rows: []string{"SuccessHandler"},
			req:  bearerReq(claims()),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, SuccessHandler: func(c echo.Context) {
				sub, _ := c.Get("user").(*gojwt.Token).Claims.GetSubject()
				c.Response().Header().Set("X-Subject", sub)
			}}),
			hgH: func(*testing.T) http.Handler {
				return guideEchoJWTAfter(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Subject", hgSubject(r))
					whoami(hgSubject).ServeHTTP(w, r)
				}), jwtSecret)
			},
			both: []expect{status(200), header("X-Subject", "alice")},
		},
		{
			name:  "a skipped route, an unwrapped route: passed on without a token",
			rows:  []string{"Skipper"},
			req:   get("https://api.example.com/health"),
			peerH: skipHealth,
			hgH:   hgHealth,
			both:  []expect{status(200), reached(true)},
		},
		{
			name:  "the other routes still need a token",
			rows:  []string{"Skipper"},
			req:   get(ordersURL),
			peerH: skipHealth,
			peer:  missing,
			hgH:   hgHealth,
			hg:    noToken,
		},
		{
			name:  "BeforeFunc, or a middleware outside Handler, runs before the refusal",
			rows:  []string{"BeforeFunc"},
			req:   get(ordersURL),
			peerH: echoJWTWith(echojwt.Config{SigningKey: jwtSecret, BeforeFunc: func(c echo.Context) { c.Response().Header().Set("X-Before", "1") }}),
			hgH: func(*testing.T) http.Handler {
				inner := guideEchoJWTAfter(whoami(hgSubject), jwtSecret)
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Before", "1")
					inner.ServeHTTP(w, r)
				})
			},
			both: []expect{status(401), reached(false), header("X-Before", "1")},
		},
		{
			name: "no token: echo's JSON without a challenge, or a problem document with one",
			rows: []string{"No token"},
			req:  get(ordersURL),
			peer: missing,
			hg:   noToken,
		},
		{
			name: "another scheme in Authorization: as without a token in both",
			rows: []string{"Authorization of another scheme"},
			req:  get(ordersURL, "Authorization", "Basic YWxpY2U6c2VjcmV0"),
			peer: missing,
			hg:   noToken,
		},
		invalidToken("a malformed token: invalid or expired jwt, or invalid_token", []string{"Malformed token"},
			get(ordersURL, "Authorization", "Bearer not-a-jwt"), invalid...),
		invalidToken("a token signed with another secret", []string{"Invalid signature"}, forged, invalid...),
		invalidToken("an expired token", []string{"Expired token"}, expired, invalid...),
		invalidToken("a token expired ten seconds ago: no leeway in either by default", []string{"Expired token"},
			bearerReq(claims("exp", time.Now().Add(-10*time.Second).Unix())), invalid...),
		invalidToken("a token without exp: accepted by echojwt, refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("exp", nil)), status(200), body("alice")),
		invalidToken("a token without sub: accepted by echojwt, refused by httpguard", []string{"Token without exp or sub"},
			bearerReq(claims("sub", nil)), status(200), reached(true), body("")),
		invalidToken("a token in the header and the cookie: the header's in echojwt, refused by httpguard", []string{"Token in the header and the cookie"},
			twoTokens, status(200), body("alice")),
		invalidToken("an expired token in the header, a valid one in the cookie: the cookie's in echojwt, refused by httpguard",
			[]string{"Token in the header and the cookie"},
			func() *http.Request {
				return newReq(http.MethodGet, ordersURL, "Authorization", "Bearer "+hs256(claims("exp", time.Now().Add(-time.Hour).Unix())),
					"Cookie", "jwt="+hs256(claims("sub", "mallory")))
			}, status(200), body("mallory")),
		invalidToken("a forged token, then a valid one, in two Authorization headers: the valid one in echojwt, refused by httpguard",
			[]string{"Two Authorization headers", "TokenLookup header:<name>:<prefix>"}, twoAuthorization, status(200), body("alice")),
	}
	cases = append(cases, jwtStricter("echojwt", "SigningKey")...)
	cases = append(cases, invalidToken("a token issued an hour from now: accepted by echojwt, refused by httpguard", []string{"iat in the future"},
		bearerReq(claims("iat", time.Now().Add(time.Hour).Unix())), status(200), body("alice")))
	return section(echoJWTHeading, peer, hg, cases)
}

// --- github.com/gorilla/sessions ------------------------------------------

const gorillaSessionsHeading = "github.com/gorilla/sessions"

// The gorilla/sessions cases' keys: 32 bytes each, as httpguard requires.
var (
	hashKey  = []byte("hash-key-hash-key-hash-key-hash!")
	blockKey = []byte("block-key-block-key-block-key-bk")
)

// guide: github.com/gorilla/sessions, before
func guideGorillaSessionsBefore(hashKey, blockKey []byte) http.Handler {
	store := sessions.NewCookieStore(hashKey, blockKey)
	store.Options.HttpOnly = true
	store.Options.SameSite = http.SameSiteLaxMode

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// check the credentials, then:
		sess, err := store.Get(r, "session")
		if err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		sess.Values["user"] = r.PostFormValue("user")
		if err := sess.Save(r, w); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		sess, err := store.Get(r, "session")
		if err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		user, _ := sess.Values["user"].(string)
		_, _ = io.WriteString(w, user)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		sess, err := store.Get(r, "session")
		if err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		sess.Options.MaxAge = -1
		if err := sess.Save(r, w); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	handler := mux
	return handler
}

// guide: github.com/gorilla/sessions, after
func guideGorillaSessionsAfter(hashKey, blockKey []byte) http.Handler {
	store, err := session.NewCookieStore(session.CookieStoreOptions{
		Keys: []session.KeyPair{{HashKey: hashKey, BlockKey: blockKey}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// __Host- cookie, Secure, HttpOnly, SameSite=Lax, 30 min idle and
	// 12 h absolute timeouts by default; PersistentCookie keeps a Max-Age.
	sm, err := session.New(session.Options{Store: store, PersistentCookie: true})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// check the credentials, then:
		sess := session.FromRequest(r)
		if err := sess.Renew(); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		sess.SetString("user", r.PostFormValue("user"))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		user, _ := session.FromRequest(r).GetString("user")
		_, _ = io.WriteString(w, user)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	handler := sm.Handler(mux)
	return handler
}

// gorillaMux is the guide's before mux served by store, with the cookie
// name "session" and the routes extra adds.
func gorillaMux(store sessions.Store, extra func(mux *http.ServeMux)) http.Handler {
	get := func(w http.ResponseWriter, r *http.Request) *sessions.Session {
		sess, err := store.Get(r, "session")
		if err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return nil
		}
		return sess
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if sess := get(w, r); sess != nil {
			sess.Values["user"] = r.PostFormValue("user")
			if err := sess.Save(r, w); err != nil {
				http.Error(w, "try again", http.StatusInternalServerError)
			}
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if sess := get(w, r); sess != nil {
			user, _ := sess.Values["user"].(string)
			_, _ = io.WriteString(w, user)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if sess := get(w, r); sess != nil {
			sess.Options.MaxAge = -1
			if err := sess.Save(r, w); err != nil {
				http.Error(w, "try again", http.StatusInternalServerError)
			}
		}
	})
	if extra != nil {
		extra(mux)
	}
	return mux
}

// gorillaStores returns the guide's cookie store changed by configure.
func gorillaCookieStore(configure func(s *sessions.CookieStore), keys ...[]byte) *sessions.CookieStore {
	if len(keys) == 0 {
		keys = [][]byte{hashKey, blockKey}
	}
	s := sessions.NewCookieStore(keys...)
	if configure != nil {
		configure(s)
	}
	return s
}

// hgCookieSessions is hgSessionMux with a CookieStore of the key pairs
// and the options o.
func hgCookieSessions(o session.Options, keys ...session.KeyPair) http.Handler {
	if len(keys) == 0 {
		keys = []session.KeyPair{{HashKey: hashKey, BlockKey: blockKey}}
	}
	o.Store = must(session.NewCookieStore(session.CookieStoreOptions{Keys: keys}))
	return hgSessionMux(o, nil)
}

// hgRenewingMux is hgSessionMux whose login renews the session first, as
// the guide's code does, and that has the guide's logout.
func hgRenewingMux(o session.Options) http.Handler {
	return must(session.New(o)).Handler(sessionMux(
		func(r *http.Request, k, v string) {
			sess := session.FromRequest(r)
			if sess.Renew() == nil {
				sess.SetString(k, v)
			}
		},
		func(r *http.Request, k string) string { v, _ := session.FromRequest(r).GetString(k); return v },
		func(mux *http.ServeMux) {
			mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
				if err := session.FromRequest(r).Destroy(); err != nil {
					http.Error(w, "try again", http.StatusServiceUnavailable)
				}
			})
		}))
}

// guideGorillaSessions runs f with a client of each side as the guide
// configures it.
func guideGorillaSessions(t *testing.T, f func(c *sessionClient)) {
	t.Helper()
	bothSessions(t, guideGorillaSessionsBefore(hashKey, blockKey), guideGorillaSessionsAfter(hashKey, blockKey), f)
}

// readableUnder reports whether the securecookie value v holds s in clear:
// securecookie's unencrypted form is base64 of "date|base64(gob)|mac".
func readableUnder(v, s string) bool {
	outer, err := base64.URLEncoding.DecodeString(v)
	if err != nil {
		return false
	}
	parts := strings.SplitN(string(outer), "|", 3)
	if len(parts) != 3 {
		return false
	}
	inner, err := base64.URLEncoding.DecodeString(parts[1])
	return err == nil && strings.Contains(string(inner), s)
}

// cookieValue returns the value of the cookie the response sets.
func cookieValue(t *testing.T, rec *exchange) string {
	t.Helper()
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		t.Fatalf("no cookie set (status %d)", rec.Code)
	}
	return cs[0].Value
}

func gorillaSessionsCases() []migCase {
	h := gorillaSessionsHeading
	rows := func(r ...string) []string { return r }
	return []migCase{
		plain(h, "a cookie gorilla/sessions set, read under its name with the same keys: a fresh session in httpguard", rows("A cookie from before the switch"), func(t *testing.T) {
			c := &sessionClient{t: t, who: "peer", h: guideGorillaSessionsBefore(hashKey, blockKey)}
			c.login("alice")
			if !strings.HasPrefix(c.cookie, "session=") {
				t.Fatalf("peer: cookie %q after login", c.cookie)
			}
			c.me("alice")
			rec := getMe(hgCookieSessions(session.Options{CookieName: "session"}), c.cookie)
			check(t, "httpguard", rec, []expect{status(200), body("")})
		}),
		plain(h, "a value survives to the next request", rows("NewCookieStore(hashKey, blockKey)", "store.Get(r, name)", "session.Values", "session.Save(r, w)"), func(t *testing.T) {
			guideGorillaSessions(t, func(c *sessionClient) {
				c.login("alice")
				if c.cookie == "" {
					t.Fatalf("%s: no session cookie after login", c.who)
				}
				c.me("alice")
			})
		}),
		plain(h, "the cookie of the guide's configurations", rows("Options.MaxAge", "Options.Secure", "Options.HttpOnly", "Options.SameSite"), func(t *testing.T) {
			guideGorillaSessions(t, func(c *sessionClient) {
				rec := c.login("alice")
				switch c.who {
				case "peer":
					cookieIs("session", true, "Path=/", "Max-Age=2592000", "HttpOnly", "Secure", "SameSite=Lax")(t, c.who, rec)
				default:
					cookieIs("__Host-session", false, "Path=/", "Max-Age=1800", "HttpOnly", "Secure", "SameSite=Lax")(t, c.who, rec)
				}
			})
		}),
		plain(h, "the default cookies: not HttpOnly, SameSite=None or none, Secure only from NewCookieStore", rows("Options.Secure", "Options.HttpOnly", "Options.SameSite", "NewFilesystemStore(path, keyPairs...)", "Options.MaxAge"), func(t *testing.T) {
			rec := loginOnce(t, gorillaMux(sessions.NewCookieStore(hashKey, blockKey), nil))
			cookieIs("session", true, "Path=/", "Max-Age=2592000", "Secure", "SameSite=None")(t, "peer", rec)
			rec = loginOnce(t, gorillaMux(sessions.NewFilesystemStore(t.TempDir(), hashKey, blockKey), nil))
			cookieIs("session", true, "Path=/", "Max-Age=2592000")(t, "peer", rec)
			for _, hg := range []http.Handler{hgCookieSessions(session.Options{}), hgSessionMux(session.Options{}, nil)} {
				rec = loginOnce(t, hg)
				cookieIs("__Host-session", false, "Path=/", "HttpOnly", "Secure", "SameSite=Lax")(t, "httpguard", rec)
			}
		}),
		plain(h, "with a hash key alone the values are readable in the cookie; httpguard always encrypts", rows("NewCookieStore(hashKey, blockKey)"), func(t *testing.T) {
			v := cookieValue(t, loginOnce(t, gorillaMux(sessions.NewCookieStore(hashKey), nil)))
			if !readableUnder(v, "alice") {
				t.Errorf("peer: cookie %q does not hold alice in clear", v)
			}
			v = cookieValue(t, loginOnce(t, gorillaMux(sessions.NewCookieStore(hashKey, blockKey), nil)))
			if readableUnder(v, "alice") {
				t.Errorf("peer with a block key: cookie %q holds alice in clear", v)
			}
			noField(t, session.KeyPair{}, "Encrypt", "Unencrypted")
			v = cookieValue(t, loginOnce(t, hgCookieSessions(session.Options{})))
			if raw, err := base64.RawURLEncoding.DecodeString(v); err == nil && strings.Contains(string(raw), "alice") || strings.Contains(v, "alice") {
				t.Errorf("httpguard: cookie %q holds alice in clear", v)
			}
		}),
		plain(h, "key lengths: a 6-byte hash key and a 10-byte block key are accepted by NewCookieStore; httpguard refuses them", rows("hashKey, blockKey lengths"), func(t *testing.T) {
			short := gorillaMux(sessions.NewCookieStore([]byte("secret")), nil)
			c := &sessionClient{t: t, who: "peer", h: short}
			c.login("alice")
			c.me("alice")
			bad := gorillaMux(sessions.NewCookieStore(hashKey, []byte("0123456789")), nil)
			textError(500, "try again")(t, "peer", loginOnce(t, bad))
			for _, k := range []session.KeyPair{
				{HashKey: []byte("secret"), BlockKey: blockKey},
				{HashKey: hashKey, BlockKey: []byte("0123456789")},
				{HashKey: hashKey, BlockKey: hashKey},
			} {
				refuses(t, session.NewCookieStore, session.CookieStoreOptions{Keys: []session.KeyPair{k}}, session.ErrOption)
			}
		}),
		plain(h, "key rotation: the first pair encodes, every pair decodes", rows("NewCookieStore(new..., old...)"), func(t *testing.T) {
			newHash, newBlock := []byte("new-hash-key-new-hash-key-new-hk"), []byte("new-block-key-new-block-key-nbk!")
			old := &sessionClient{t: t, who: "peer", h: gorillaMux(gorillaCookieStore(nil), nil)}
			old.login("alice")
			rotated := gorillaMux(gorillaCookieStore(nil, newHash, newBlock, hashKey, blockKey), nil)
			(&sessionClient{t: t, who: "peer", h: rotated, cookie: old.cookie}).me("alice")
			onlyNew := gorillaMux(gorillaCookieStore(nil, newHash, newBlock), nil)
			fresh := &sessionClient{t: t, who: "peer", h: rotated}
			fresh.login("bob")
			(&sessionClient{t: t, who: "peer", h: onlyNew, cookie: fresh.cookie}).me("bob")

			oldKeys := session.KeyPair{HashKey: hashKey, BlockKey: blockKey}
			newKeys := session.KeyPair{HashKey: newHash, BlockKey: newBlock}
			old = &sessionClient{t: t, who: "httpguard", h: hgCookieSessions(session.Options{}, oldKeys)}
			old.login("alice")
			rotatedHG := hgCookieSessions(session.Options{}, newKeys, oldKeys)
			(&sessionClient{t: t, who: "httpguard", h: rotatedHG, cookie: old.cookie}).me("alice")
			fresh = &sessionClient{t: t, who: "httpguard", h: rotatedHG}
			fresh.login("bob")
			(&sessionClient{t: t, who: "httpguard", h: hgCookieSessions(session.Options{}, newKeys), cookie: fresh.cookie}).me("bob")
		}),
		plain(h, "a cookie that does not decode: Get's error, a 500 from the guide's code; a fresh session in httpguard", rows("store.Get(r, name)", "A cookie that does not decode"), func(t *testing.T) {
			otherHash := []byte("other-hash-key-other-hash-key-oh")
			other := &sessionClient{t: t, who: "peer", h: gorillaMux(gorillaCookieStore(nil, otherHash, blockKey), nil)}
			other.login("alice")
			for _, cookie := range []string{other.cookie, "session=forged"} {
				peer := guideGorillaSessionsBefore(hashKey, blockKey)
				textError(500, "try again")(t, "peer", getMe(peer, cookie))
				r := httptest.NewRequest(http.MethodPost, "https://example.com/login", strings.NewReader("user=bob"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Cookie", cookie)
				textError(500, "try again")(t, "peer", serve(peer, r))
			}
			hgOther := &sessionClient{t: t, who: "httpguard", h: hgCookieSessions(session.Options{}, session.KeyPair{HashKey: otherHash, BlockKey: blockKey})}
			hgOther.login("alice")
			for _, cookie := range []string{hgOther.cookie, "__Host-session=forged"} {
				c := &sessionClient{t: t, who: "httpguard", h: guideGorillaSessionsAfter(hashKey, blockKey), cookie: cookie}
				c.me("")
				c.login("bob")
				c.me("bob")
			}
		}),
		plain(h, "values are typed; flashes are strings popped once", rows("session.Values", "AddFlash, Flashes"), func(t *testing.T) {
			peer := gorillaMux(gorillaCookieStore(nil), func(mux *http.ServeMux) {
				mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) {
					sess, _ := gorillaCookieStore(nil).Get(r, "session")
					sess.AddFlash("saved")
					_ = sess.Save(r, w)
				})
				mux.HandleFunc("GET /flash", func(w http.ResponseWriter, r *http.Request) {
					sess, _ := gorillaCookieStore(nil).Get(r, "session")
					flashes := sess.Flashes()
					_ = sess.Save(r, w) // before the body
					for _, f := range flashes {
						_, _ = io.WriteString(w, f.(string))
					}
				})
			})
			hg := hgSessionMux(session.Options{}, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) { session.FromRequest(r).SetString("flash", "saved") })
				mux.HandleFunc("GET /flash", func(w http.ResponseWriter, r *http.Request) {
					f, _ := session.FromRequest(r).PopString("flash")
					_, _ = io.WriteString(w, f)
				})
			})
			bothSessions(t, peer, hg, func(c *sessionClient) {
				c.do(http.MethodPost, "/flash", url.Values{})
				body("saved")(t, c.who, c.do(http.MethodGet, "/flash", nil))
				body("")(t, c.who, c.do(http.MethodGet, "/flash", nil))
			})
		}),
		plain(h, "Save: needed, and before the body; httpguard saves by itself", rows("session.Save(r, w)"), func(t *testing.T) {
			store := gorillaCookieStore(nil)
			var saveErr error
			peer := gorillaMux(store, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /nosave", func(w http.ResponseWriter, r *http.Request) {
					sess, _ := store.Get(r, "session")
					sess.Values["user"] = "alice"
				})
				mux.HandleFunc("POST /late", func(w http.ResponseWriter, r *http.Request) {
					sess, _ := store.Get(r, "session")
					sess.Values["user"] = "alice"
					_, _ = io.WriteString(w, "ok")
					saveErr = sess.Save(r, w)
				})
			})
			hg := hgSessionMux(session.Options{}, func(mux *http.ServeMux) {
				mux.HandleFunc("POST /nosave", func(w http.ResponseWriter, r *http.Request) {
					session.FromRequest(r).SetString("user", "alice")
				})
				mux.HandleFunc("POST /late", func(w http.ResponseWriter, r *http.Request) {
					session.FromRequest(r).SetString("user", "alice")
					_, _ = io.WriteString(w, "ok")
				})
			})
			for _, path := range []string{"/nosave", "/late"} {
				setsCookie(false)(t, "peer", serve(peer, newReq(http.MethodPost, "https://example.com"+path)))
				setsCookie(true)(t, "httpguard", serve(hg, newReq(http.MethodPost, "https://example.com"+path)))
			}
			if saveErr != nil {
				t.Errorf("peer: Save after the body: %v, want nil", saveErr)
			}
		}),
		plain(h, "MaxAge: the cookie's timestamp checked by the server, from the last Save; httpguard's timeouts", rows("Options.MaxAge", "An idle session"), func(t *testing.T) {
			// Margins of a second and more: CI runs this under the race
			// detector on a loaded machine.
			short := gorillaCookieStore(func(s *sessions.CookieStore) { s.MaxAge(2) })
			long := gorillaCookieStore(nil)
			peerShort := &sessionClient{t: t, who: "peer", h: gorillaMux(short, nil)}
			peerShort.login("alice")
			peerIdle := &sessionClient{t: t, who: "peer", h: gorillaMux(long, nil)}
			peerIdle.login("alice")
			hgIdle := &sessionClient{t: t, who: "httpguard", h: hgCookieSessions(session.Options{IdleTimeout: time.Second, AbsoluteTimeout: time.Hour})}
			hgIdle.login("alice")
			time.Sleep(3500 * time.Millisecond)
			// The client keeps the cookie past its Max-Age: the server
			// refuses it.
			textError(500, "try again")(t, "peer", getMe(peerShort.h, peerShort.cookie))
			peerIdle.me("alice")
			hgIdle.me("")
			if long.Options.MaxAge != 86400*30 {
				t.Errorf("peer: default MaxAge %d", long.Options.MaxAge)
			}
		}),
		plain(h, "deleting: MaxAge -1 expires the cookie; a copy still works with NewCookieStore, not with NewFilesystemStore nor httpguard", rows("Options.MaxAge = -1", "A copy of the cookie after logout", "NewFilesystemStore(path, keyPairs...)"), func(t *testing.T) {
			fs := gorillaMux(sessions.NewFilesystemStore(t.TempDir(), hashKey, blockKey), nil)
			// The copy's answer: alice's, the error of Get (the file is
			// gone), or a fresh session's.
			alive, getErr, fresh := []expect{status(200), body("alice")}, []expect{textError(500, "try again")}, []expect{status(200), body("")}
			for _, side := range []struct {
				who  string
				h    http.Handler
				copy []expect
			}{
				{"peer", guideGorillaSessionsBefore(hashKey, blockKey), alive},
				{"peer", fs, getErr},
				{"httpguard", guideGorillaSessionsAfter(hashKey, blockKey), fresh},
				{"httpguard", hgRenewingMux(session.Options{}), fresh},
			} {
				c := &sessionClient{t: t, who: side.who, h: side.h}
				c.login("alice")
				copied := c.cookie
				rec := c.do(http.MethodPost, "/logout", nil)
				headerHas("Set-Cookie", "Max-Age=0")(t, c.who, rec)
				if c.cookie != "" {
					t.Errorf("%s: cookie %q kept after logout", c.who, c.cookie)
				}
				check(t, c.who, getMe(c.h, copied), side.copy)
			}
		}),
		plain(h, "a copy of the cookie after logout on another instance: alive unless the instances share Revocations", rows("A copy of the cookie after logout"), func(t *testing.T) {
			instance := func(revocations session.Store) http.Handler {
				store := must(session.NewCookieStore(session.CookieStoreOptions{Keys: []session.KeyPair{{HashKey: hashKey, BlockKey: blockKey}}, Revocations: revocations}))
				return hgRenewingMux(session.Options{Store: store})
			}
			shared := must(session.NewMemoryStore(session.MemoryOptions{}))
			for _, side := range []struct {
				name string
				a, b http.Handler
				copy []expect
			}{
				{"each its own Revocations (the default)", instance(nil), instance(nil), []expect{status(200), body("alice")}},
				{"a shared Revocations", instance(shared), instance(shared), []expect{status(200), body("")}},
			} {
				c := &sessionClient{t: t, who: "httpguard, " + side.name, h: side.a}
				c.login("alice")
				copied := c.cookie
				c.do(http.MethodPost, "/logout", nil)
				check(t, c.who, getMe(side.a, copied), []expect{status(200), body("")})
				check(t, c.who, getMe(side.b, copied), side.copy)
			}
		}),
		plain(h, "login keeps the FilesystemStore's session ID: a cookie planted before is logged in; httpguard renews", rows("Login with a cookie from before", "NewFilesystemStore(path, keyPairs...)"), func(t *testing.T) {
			fs := gorillaMux(sessions.NewFilesystemStore(t.TempDir(), hashKey, blockKey), nil)
			hg := hgRenewingMux(session.Options{})
			hgGuide := guideGorillaSessionsAfter(hashKey, blockKey)
			for _, side := range []struct {
				who   string
				h     http.Handler
				fixed bool
			}{{"peer", fs, true}, {"httpguard", hg, false}, {"httpguard", hgGuide, false}} {
				// The attacker gets a session of its own and plants its
				// cookie in the victim's browser, who then logs in.
				attacker := &sessionClient{t: t, who: side.who, h: side.h}
				attacker.login("")
				victim := &sessionClient{t: t, who: side.who, h: side.h, cookie: attacker.cookie}
				victim.login("alice")
				victim.me("alice")
				want := map[bool]string{true: "alice", false: ""}[side.fixed]
				attacker.me(want)
			}
		}),
		plain(h, "a MemoryStore lives in the process; FilesystemStore's files outlive the store", rows("NewFilesystemStore(path, keyPairs...)"), func(t *testing.T) {
			dir := t.TempDir()
			c := &sessionClient{t: t, who: "peer", h: gorillaMux(sessions.NewFilesystemStore(dir, hashKey, blockKey), nil)}
			c.login("alice")
			c.h = gorillaMux(sessions.NewFilesystemStore(dir, hashKey, blockKey), nil)
			c.me("alice")
			c = &sessionClient{t: t, who: "httpguard", h: hgSessionMux(session.Options{}, nil)}
			c.login("alice")
			c.h = hgSessionMux(session.Options{}, nil)
			c.me("")
		}),
		plain(h, "Domain and Path: set as in gorilla, an error with the __Host- name", rows("Options.Path, Options.Domain"), func(t *testing.T) {
			rec := loginOnce(t, gorillaMux(gorillaCookieStore(func(s *sessions.CookieStore) { s.Options.Domain, s.Options.Path = "example.com", "/app" }), nil))
			cookieIs("session", true, "Path=/app", "Domain=example.com", "Max-Age=2592000", "Secure", "SameSite=None")(t, "peer", rec)
			rec = loginOnce(t, hgCookieSessions(session.Options{CookieName: "session", CookieDomain: "example.com"}))
			cookieIs("session", false, "Path=/", "Domain=example.com", "HttpOnly", "Secure", "SameSite=Lax")(t, "httpguard", rec)
			for _, o := range []session.Options{{CookieDomain: "example.com"}, {CookiePath: "/app"}} {
				refuses(t, session.New, o, session.ErrOption)
			}
		}),
		plain(h, "Partitioned: set whatever SameSite in gorilla; only with SameSite=None in httpguard", rows("Options.Partitioned"), func(t *testing.T) {
			rec := loginOnce(t, gorillaMux(gorillaCookieStore(func(s *sessions.CookieStore) {
				s.Options.Partitioned, s.Options.SameSite = true, http.SameSiteLaxMode
			}), nil))
			cookieIs("session", true, "Path=/", "Max-Age=2592000", "Secure", "SameSite=Lax", "Partitioned")(t, "peer", rec)
			rec = loginOnce(t, hgCookieSessions(session.Options{Partitioned: true, SameSite: http.SameSiteNoneMode}))
			cookieIs("__Host-session", false, "Path=/", "HttpOnly", "Secure", "SameSite=None", "Partitioned")(t, "httpguard", rec)
			refuses(t, session.New, session.Options{Partitioned: true}, session.ErrOption)
		}),
		plain(h, "Vary and Cache-Control: none from gorilla, with the cookie from httpguard", rows("Vary and Cache-Control"), func(t *testing.T) {
			guideGorillaSessions(t, func(c *sessionClient) {
				rec := c.login("alice")
				header("Vary", map[string]string{"peer": "", "httpguard": "Cookie"}[c.who])(t, c.who, rec)
				header("Cache-Control", map[string]string{"peer": "", "httpguard": "no-store"}[c.who])(t, c.who, rec)
			})
		}),
	}
}

// --- github.com/go-chi/chi/v5/middleware ------------------------------------

const chiHeading = "github.com/go-chi/chi/v5/middleware"

// guide: github.com/go-chi/chi/v5/middleware, before
func guideChiBefore(mux http.Handler) http.Handler {
	handler := chi.Chain(
		chimw.RequestID,
		chimw.RealIP,
		chimw.Logger,
		chimw.Recoverer,
		chimw.Throttle(100),
	).Handler(mux)
	return handler
}

// guide: github.com/go-chi/chi/v5/middleware, after
func guideChiAfter(mux http.Handler) http.Handler {
	// Handlers read the client's address with resolver.Addr(r); give the
	// resolver to every package that takes Options.ClientIP.
	resolver, err := clientip.New(clientip.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, // your proxies
	})
	if err != nil {
		log.Fatal(err)
	}
	es, err := errorsafe.New(errorsafe.Options{ClientIP: resolver})
	if err != nil {
		log.Fatal(err)
	}
	lim, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 100})
	if err != nil {
		log.Fatal(err)
	}
	// Request IDs, the access log and panic recovery in one middleware.
	handler := es.Handler(lim.Handler(mux))
	return handler
}

// chiClient is the address of the client the chi cases send from, and
// chiProxy the address of a proxy the guide's resolver trusts.
const (
	chiClient = "203.0.113.7:1234"
	chiProxy  = "10.0.0.1:4321"
)

// addrEcho writes the client address each side's application sees: chi's
// RemoteAddr; httpguard's resolver's address, then the RemoteAddr.
var (
	peerAddrEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.RemoteAddr)
	})
	hgAddrEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, trustedProxy().Addr(r).String()+" "+r.RemoteAddr)
	})
)

// idEcho writes the request ID each side's application sees.
var (
	peerIDEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, chimw.GetReqID(r.Context()))
	})
	hgIDEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, errorsafe.RequestIDFrom(r.Context()))
	})
)

// guideChi returns builders of each side as the guide configures it,
// around the applications peerApp and hgApp.
func guideChi(peerApp, hgApp http.Handler) (peer, hg func(*testing.T) http.Handler) {
	return func(*testing.T) http.Handler { return guideChiBefore(peerApp) },
		func(*testing.T) http.Handler { return guideChiAfter(hgApp) }
}

// maintenance answers 503 with a JSON body of its own and Retry-After.
var maintenance = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "120")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `{"error":"down for maintenance"}`)
})

// panicking panics with v, after writing partial if it is not empty.
func panicking(partial string, v any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partial != "" {
			_, _ = io.WriteString(w, partial)
		}
		panic(v)
	})
}

// serveCatching serves r with h and returns the answer and the value h
// panicked with, if any.
func serveCatching(h http.Handler, r *http.Request) (rec *exchange, panicked any) {
	rec = httptest.NewRecorder()
	defer func() { panicked = recover() }()
	h.ServeHTTP(rec, r)
	return rec, nil
}

// problemWithID expects errorsafe's generic problem document for code,
// whose request_id is the one in the response's X-Request-ID.
func problemWithID(code int) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		status(code)(t, who, rec)
		header("Content-Type", "application/problem+json")(t, who, rec)
		var p map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", who, rec.Body.String(), err)
		}
		id := rec.Header().Get("X-Request-Id")
		want := map[string]any{"type": "about:blank", "title": http.StatusText(code), "status": float64(code), "request_id": id}
		if id == "" || !reflect.DeepEqual(p, want) {
			t.Errorf("%s: problem %v, want %v", who, p, want)
		}
	}
}

// inFlight starts n requests to h, each held in the application until
// release is closed, and returns once they are all in it; done is closed
// when they have returned.
func inFlight(t *testing.T, lim func(http.Handler) http.Handler, n int) (h http.Handler, release func(), done <-chan struct{}) {
	t.Helper()
	entered := make(chan struct{}, n)
	gate := make(chan struct{})
	h = lim(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-gate
		next.ServeHTTP(w, r)
	}))
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { serve(h, fromAddr(rateClient, "/")) })
	}
	for range n {
		<-entered
	}
	d := make(chan struct{})
	go func() { wg.Wait(); close(d) }()
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(func() { release(); <-d })
	return h, release, d
}

// hgConcurrency is ratelimit.NewConcurrencyLimiter(o), which must accept o.
func hgConcurrency(o ratelimit.ConcurrencyOptions) func(http.Handler) http.Handler {
	return must(ratelimit.NewConcurrencyLimiter(o)).Handler
}

// accessLogs returns chi's request logger (the formatter of
// middleware.Logger, without colours) and an errorsafe middleware with the
// guide's resolver, both writing to the buffers returned.
func accessLogs() (peer func(http.Handler) http.Handler, peerLog *bytes.Buffer, hg *errorsafe.Middleware, hgLog *bytes.Buffer) {
	peerLog, hgLog = new(bytes.Buffer), new(bytes.Buffer)
	peer = chimw.RequestLogger(&chimw.DefaultLogFormatter{Logger: log.New(peerLog, "", 0), NoColor: true})
	hg = must(errorsafe.New(errorsafe.Options{ClientIP: trustedProxy(), Logger: slog.New(slog.NewJSONHandler(hgLog, nil))}))
	return peer, peerLog, hg, hgLog
}

// logHas expects the log to contain each of subs, and none of nots.
func logHas(t *testing.T, who, logText string, subs []string, nots ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(logText, s) {
			t.Errorf("%s: log %q does not contain %q", who, logText, s)
		}
	}
	for _, s := range nots {
		if strings.Contains(logText, s) {
			t.Errorf("%s: log %q contains %q", who, logText, s)
		}
	}
}

func chiCases() []migCase {
	h := chiHeading
	rows := func(r ...string) []string { return r }
	peerAddr, hgAddr := guideChi(peerAddrEcho, hgAddrEcho)
	addr := func(name string, rows []string, req func() *http.Request, peer, hg string) httpCase {
		return httpCase{name: name, rows: rows, req: req, peerH: peerAddr, hgH: hgAddr, both: []expect{status(200)}, peer: []expect{body(peer)}, hg: []expect{body(hg)}}
	}
	peerID, hgID := guideChi(peerIDEcho, hgIDEcho)
	id := func(name string, rows []string, req func() *http.Request, peer, hg []expect) httpCase {
		return httpCase{name: name, rows: rows, req: req, peerH: peerID, hgH: hgID, both: []expect{status(200)}, peer: peer, hg: hg}
	}
	forged := `x" status=500 forged="1`
	cases := []httpCase{
		addr("a client's X-Forwarded-For becomes chi's RemoteAddr, without a port; httpguard ignores it", rows("RealIP", "A client sends X-Forwarded-For, X-Real-IP or True-Client-IP"),
			fromPeer(http.MethodGet, "https://api.example.com/", chiClient, "X-Forwarded-For", "192.0.2.66"),
			"192.0.2.66", "203.0.113.7 "+chiClient),
		addr("a client's True-Client-IP and X-Real-IP: believed by chi", rows("RealIP", "A client sends X-Forwarded-For, X-Real-IP or True-Client-IP"),
			fromPeer(http.MethodGet, "https://api.example.com/", chiClient, "True-Client-IP", "192.0.2.67", "X-Real-IP", "192.0.2.68"),
			"192.0.2.67", "203.0.113.7 "+chiClient),
		addr("X-Real-IP before X-Forwarded-For in chi; only X-Forwarded-For, from the proxy, in httpguard", rows("RealIP", "A client sends X-Forwarded-For, X-Real-IP or True-Client-IP"),
			fromPeer(http.MethodGet, "https://api.example.com/", chiProxy, "X-Real-IP", "192.0.2.68", "X-Forwarded-For", "198.51.100.9"),
			"192.0.2.68", "198.51.100.9 "+chiProxy),
		addr("through a trusted proxy: chi takes the leftmost entry, the client's own; httpguard the rightmost untrusted", rows("RealIP", "A client sends X-Forwarded-For, X-Real-IP or True-Client-IP"),
			fromPeer(http.MethodGet, "https://api.example.com/", chiProxy, "X-Forwarded-For", "192.0.2.66, 198.51.100.9"),
			"192.0.2.66", "198.51.100.9 "+chiProxy),
		{
			name: "a panic before the response: chi's empty 500, httpguard's problem document with the request ID", rows: rows("Recoverer"),
			req:   get("https://api.example.com/"),
			peerH: func(*testing.T) http.Handler { return guideChiBefore(panicking("", "boom")) },
			hgH:   func(*testing.T) http.Handler { return guideChiAfter(panicking("", "boom")) },
			peer:  []expect{status(500), body(""), header("Content-Type", "")},
			hg:    []expect{problemWithID(500)},
		},
		{
			name: "a handler's own 503: sent as written by chi; replaced by httpguard's problem document, Retry-After kept", rows: rows("Recoverer", "A handler's own 5xx response"),
			req:   get("https://api.example.com/"),
			peerH: func(*testing.T) http.Handler { return guideChiBefore(maintenance) },
			hgH:   func(*testing.T) http.Handler { return guideChiAfter(maintenance) },
			both:  []expect{header("Retry-After", "120")},
			peer:  []expect{status(503), header("Content-Type", "application/json"), body(`{"error":"down for maintenance"}`)},
			hg:    []expect{problemWithID(503)},
		},
		{
			name: "a 503 with a message for clients: WriteError with an errorsafe.Error sends its Public as the detail", rows: rows("A handler's own 5xx response"),
			req: get("https://api.example.com/"),
			hgH: func(*testing.T) http.Handler {
				return guideChiAfter(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "120")
					errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusServiceUnavailable, Public: "Down for maintenance."})
				}))
			},
			peerH: func(*testing.T) http.Handler { return guideChiBefore(maintenance) },
			peer:  []expect{status(503)},
			hg: []expect{status(503), header("Retry-After", "120"), header("Content-Type", "application/problem+json"), func(t *testing.T, who string, rec *exchange) {
				var p map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["detail"] != "Down for maintenance." {
					t.Errorf("%s: body %q, want the detail Down for maintenance.", who, rec.Body.String())
				}
			}},
		},
		{
			name: "a panic on a request with Connection: Upgrade: chi writes nothing, an empty 200", rows: rows("Recoverer", "A panic on a request with Connection: Upgrade"),
			req:   get("https://api.example.com/", "Connection", "Upgrade"),
			peerH: func(*testing.T) http.Handler { return guideChiBefore(panicking("", "boom")) },
			hgH:   func(*testing.T) http.Handler { return guideChiAfter(panicking("", "boom")) },
			peer:  []expect{status(200), body("")},
			hg:    []expect{problemWithID(500)},
		},
		id("no incoming request ID: each makes one; only httpguard sends it back", rows("RequestID, GetReqID", "An incoming X-Request-Id"),
			get("https://api.example.com/"),
			[]expect{header("X-Request-Id", ""), func(t *testing.T, who string, rec *exchange) {
				if !strings.Contains(rec.Body.String(), "/") {
					t.Errorf("%s: request ID %q, want host/prefix-counter", who, rec.Body.String())
				}
			}},
			[]expect{func(t *testing.T, who string, rec *exchange) {
				if got := rec.Body.String(); len(got) != 24 || rec.Header().Get("X-Request-Id") != got {
					t.Errorf("%s: request ID %q, header %q; want 24 characters, echoed", who, got, rec.Header().Get("X-Request-Id"))
				}
			}}),
		id("a well-formed request ID from a trusted proxy is kept by both", rows("RequestID, GetReqID", "An incoming X-Request-Id"),
			fromPeer(http.MethodGet, "https://api.example.com/", chiProxy, "X-Request-Id", "edge-42"),
			[]expect{body("edge-42"), header("X-Request-Id", "")},
			[]expect{body("edge-42"), header("X-Request-Id", "edge-42")}),
		id("a well-formed request ID from a client: kept by chi, replaced by httpguard", rows("RequestID, GetReqID", "An incoming X-Request-Id"),
			fromPeer(http.MethodGet, "https://api.example.com/", chiClient, "X-Request-Id", "edge-42"),
			[]expect{body("edge-42")},
			[]expect{func(t *testing.T, who string, rec *exchange) {
				if got := rec.Body.String(); len(got) != 24 || got == "edge-42" || rec.Header().Get("X-Request-Id") != got {
					t.Errorf("%s: request ID %q, header %q; want a new one, echoed", who, got, rec.Header().Get("X-Request-Id"))
				}
			}}),
		id("an incoming request ID with quotes and spaces: kept by chi, replaced by httpguard", rows("RequestID, GetReqID", "An incoming X-Request-Id"),
			get("https://api.example.com/", "X-Request-Id", forged),
			[]expect{body(forged)},
			[]expect{func(t *testing.T, who string, rec *exchange) {
				if got := rec.Body.String(); len(got) != 24 || got == forged {
					t.Errorf("%s: request ID %q, want a new one", who, got)
				}
			}}),
		id("a 300-byte incoming request ID: kept by chi, replaced by httpguard", rows("RequestID, GetReqID", "An incoming X-Request-Id"),
			get("https://api.example.com/", "X-Request-Id", strings.Repeat("a", 300)),
			[]expect{body(strings.Repeat("a", 300))},
			[]expect{func(t *testing.T, who string, rec *exchange) {
				if got := rec.Body.String(); len(got) != 24 {
					t.Errorf("%s: request ID %q, want a new one", who, got)
				}
			}}),
		{
			name: "SetHeader: httpguard's headers set the security headers", rows: rows("SetHeader"),
			req:   get("https://api.example.com/"),
			peerH: func(*testing.T) http.Handler { return chimw.SetHeader("X-Frame-Options", "DENY")(next) },
			hgH:   hgHeaders(headers.Options{}),
			both:  []expect{status(200), header("X-Frame-Options", "DENY")},
		},
		{
			name: "NoCache: chi's four headers, and the request's validators removed; httpguard sets none", rows: rows("NoCache"),
			req: get("https://api.example.com/", "If-None-Match", `"v1"`),
			peerH: func(*testing.T) http.Handler {
				return chimw.NoCache(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, r.Header.Get("If-None-Match"))
				}))
			},
			hgH: hgHeaders(headers.Options{}),
			peer: []expect{body(""), headersAre(map[string]string{
				"Cache-Control": "no-cache, no-store, no-transform, must-revalidate, private, max-age=0",
				"Pragma":        "no-cache", "Expires": "Thu, 01 Jan 1970 00:00:00 GMT", "X-Accel-Expires": "0",
			})},
			hg: []expect{headersAre(map[string]string{"Cache-Control": "", "Pragma": "", "Expires": ""})},
		},
	}
	out := section(h, nil, nil, cases)
	out = append(out,
		plain(h, "a panic after the first byte: chi leaves a 200 with the partial body; httpguard aborts", rows("Recoverer", "A panic after the first byte"), func(t *testing.T) {
			rec, p := serveCatching(guideChiBefore(panicking("partial", "boom")), get("https://api.example.com/")())
			if p != nil || rec.Code != 200 || rec.Body.String() != "partial" {
				t.Errorf("peer: %d %q, panic %v; want 200 \"partial\" and no panic", rec.Code, rec.Body.String(), p)
			}
			_, p = serveCatching(guideChiAfter(panicking("partial", "boom")), get("https://api.example.com/")())
			if p != http.ErrAbortHandler {
				t.Errorf("httpguard: panic %v, want http.ErrAbortHandler", p)
			}
		}),
		plain(h, "IgnoreIncomingRequestID: always a new ID", rows("RequestID, GetReqID"), func(t *testing.T) {
			es := must(errorsafe.New(errorsafe.Options{IgnoreIncomingRequestID: true, Logger: slog.New(slog.DiscardHandler)}))
			rec := serve(es.Handler(hgIDEcho), get("https://api.example.com/", "X-Request-Id", "edge-42")())
			if got := rec.Body.String(); got == "edge-42" || len(got) != 24 || rec.Header().Get("X-Request-Id") != got {
				t.Errorf("request ID %q, header %q; want a new one, echoed", got, rec.Header().Get("X-Request-Id"))
			}
		}),
		plain(h, "a panic with http.ErrAbortHandler passes through both", rows("Recoverer"), func(t *testing.T) {
			eachSide(guideChiBefore(panicking("", http.ErrAbortHandler)), guideChiAfter(panicking("", http.ErrAbortHandler)), func(who string, h http.Handler) {
				if _, p := serveCatching(h, get("https://api.example.com/")()); p != http.ErrAbortHandler {
					t.Errorf("%s: panic %v, want http.ErrAbortHandler", who, p)
				}
			})
		}),
		plain(h, "Throttle: the request over the limit is refused at once, 429 text or 503 problem with Retry-After", rows("Throttle(limit)", "Too many requests in flight"), func(t *testing.T) {
			peer, _, _ := inFlight(t, chimw.Throttle(2), 2)
			check(t, "peer", serve(peer, fromAddr(rateClient, "/")), []expect{textError(429, "Server capacity exceeded."), header("Retry-After", "")})
			hg, release, done := inFlight(t, hgConcurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 2}), 2)
			check(t, "httpguard", serve(hg, fromAddr(rateClient, "/")), []expect{problemDoc(503), header("Retry-After", "1")})
			release()
			<-done
			status(200)(t, "httpguard", serve(hg, fromAddr(rateClient, "/")))
		}),
		plain(h, "ThrottleBacklog: chi queues, then times out with 429; httpguard never queues", rows("ThrottleBacklog(limit, backlogLimit, backlogTimeout)", "Too many requests in flight"), func(t *testing.T) {
			peer, release, _ := inFlight(t, chimw.ThrottleBacklog(1, 1, 5*time.Second), 1)
			queued := make(chan *exchange)
			go func() { queued <- serve(peer, fromAddr(rateClient, "/")) }()
			time.Sleep(200 * time.Millisecond)
			check(t, "peer", serve(peer, fromAddr(rateClient, "/")), []expect{textError(429, "Server capacity exceeded.")})
			release()
			check(t, "peer", <-queued, []expect{status(200), reached(true)})

			peer, _, _ = inFlight(t, chimw.ThrottleBacklog(1, 1, 100*time.Millisecond), 1)
			check(t, "peer", serve(peer, fromAddr(rateClient, "/")), []expect{textError(429, "Timed out while waiting for a pending request to complete.")})

			hg, _, _ := inFlight(t, hgConcurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 1}), 1)
			check(t, "httpguard", serve(hg, fromAddr(rateClient, "/")), []expect{problemDoc(503)})
		}),
		plain(h, "ThrottleOpts's StatusCode and RetryAfterFn: OnReject and RetryAfter", rows("ThrottleOpts.StatusCode, ThrottleOpts.RetryAfterFn"), func(t *testing.T) {
			peer, _, _ := inFlight(t, chimw.ThrottleWithOpts(chimw.ThrottleOpts{Limit: 1, StatusCode: http.StatusServiceUnavailable,
				RetryAfterFn: func(bool) time.Duration { return 30 * time.Second }}), 1)
			check(t, "peer", serve(peer, fromAddr(rateClient, "/")), []expect{textError(503, "Server capacity exceeded."), header("Retry-After", "30")})
			hg, _, _ := inFlight(t, hgConcurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 1, RetryAfter: 30 * time.Second,
				OnReject: rejectWith(http.StatusTooManyRequests, ratelimit.ErrOverloaded)}), 1)
			check(t, "httpguard", serve(hg, fromAddr(rateClient, "/")), []expect{status(429), header("Retry-After", "30")})
		}),
		plain(h, "the access log: chi writes the query and the forged address as sent; httpguard redacts and resolves", rows("Logger", "A secret in the query string", "A client sends X-Forwarded-For, X-Real-IP or True-Client-IP"), func(t *testing.T) {
			peerLogger, peerLog, hg, hgLog := accessLogs()
			target := "https://api.example.com/reset?token=s3cr3t-value&page=2"
			kv := []string{"X-Forwarded-For", "192.0.2.66", "X-Request-Id", "edge-42"}
			serve(chi.Chain(chimw.RequestID, chimw.RealIP, peerLogger).Handler(next), fromPeer(http.MethodGet, target, chiClient, kv...)())
			logHas(t, "peer", peerLog.String(), []string{"[edge-42]", "/reset?token=s3cr3t-value&page=2", "from 192.0.2.66 - 200"})
			serve(hg.Handler(next), fromPeer(http.MethodGet, target, chiClient, kv...)())
			var rec map[string]any
			if err := json.Unmarshal(hgLog.Bytes(), &rec); err != nil {
				t.Fatalf("httpguard: log %q: %v", hgLog.String(), err)
			}
			for k, v := range map[string]any{"path": "/reset", "query": "token=[REDACTED]&page=2", "client_ip": "203.0.113.7", "status": float64(200)} {
				if rec[k] != v {
					t.Errorf("httpguard: log %s = %v, want %v", k, rec[k], v)
				}
			}
			// The client, not a trusted proxy, sent the request ID.
			if id, _ := rec["request_id"].(string); len(id) != 24 || id == "edge-42" {
				t.Errorf("httpguard: log request_id = %q, want a new one", id)
			}
			logHas(t, "httpguard", hgLog.String(), nil, "s3cr3t")
		}),
		plain(h, "no option for other headers, nor for Cache-Control", rows("SetHeader", "NoCache"), func(t *testing.T) {
			noField(t, headers.Options{}, "Custom", "CustomHeaders", "Extra", "ExtraHeaders", "Headers", "CacheControl", "NoCache")
			// httpguard's own refusals are no-store.
			hg, _, _ := inFlight(t, hgConcurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 1}), 1)
			header("Cache-Control", "no-store")(t, "httpguard", serve(hg, fromAddr(rateClient, "/")))
		}),
	)
	return out
}

// --- github.com/casbin/casbin/v2 ------------------------------------------

const casbinHeading = "github.com/casbin/casbin/v2"

// The files of the section, shown in the guide under the code that reads
// them (the case "the files shown are the ones the cases load" checks
// that they are the ones shown).
const (
	casbinModelConf = `[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && (r.act == p.act || p.act == "*")`

	casbinPolicyCSV = `p, reader, /articles, GET
p, reader, /articles/:id, GET
p, author, /articles, POST
p, author, /articles/:id, PUT
p, admin, /admin/*, *
g, author, reader
g, admin, author
g, alice, admin
g, bob, author
g, carol, reader`

	rbacPolicyJSON = `{
  "roles": [
    {"name": "reader", "permissions": ["articles:read"]},
    {"name": "author", "inherits": ["reader"], "permissions": ["articles:write"]},
    {"name": "admin", "inherits": ["author"], "permissions": ["admin:access"]}
  ]
}`
)

// guide: github.com/casbin/casbin/v2, before
func guideCasbinBefore(mux http.Handler, modelFile, policyFile string, userName func(*http.Request) string) http.Handler {
	e, err := casbin.NewEnforcer(modelFile, policyFile) // model.conf, policy.csv
	if err != nil {
		log.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowed, err := e.Enforce(userName(r), r.URL.Path, r.Method)
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		if !allowed {
			http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return handler
}

// guide: github.com/casbin/casbin/v2, after
func guideCasbinAfter(mux http.Handler, policyFile string) http.Handler {
	f, err := os.Open(policyFile) // policy.json
	if err != nil {
		log.Fatal(err)
	}
	policy, err := rbac.LoadPolicy(f)
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	read := rbac.Requirement{Permissions: []string{"articles:read"}}
	write := rbac.Requirement{Permissions: []string{"articles:write"}}
	m, err := rbac.New(rbac.Options{
		Policy: policy,
		Rules: []rbac.Rule{
			{Pattern: "GET /articles", Requirement: read},
			{Pattern: "GET /articles/{id}", Requirement: read},
			{Pattern: "POST /articles", Requirement: write},
			{Pattern: "PUT /articles/{id}", Requirement: write},
			{Pattern: "/admin/", Requirement: rbac.Requirement{Permissions: []string{"admin:access"}}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := m.Handler(mux) // inside auth or session, which put the identity in the context
	return handler
}

// casbinUserHeader names the user of a test request: the casbin side's
// userName reads it, and casbinAuthn turns it into the identity that auth
// or session would put in the context.
const casbinUserHeader = "X-Test-User"

// casbinUserRoles are the roles of each user, as the policy's g lines
// say, and as auth or session would put them in the identity (sam is the
// support user of the deny case).
var casbinUserRoles = map[string][]string{"alice": {"admin"}, "bob": {"author"}, "carol": {"reader"}, "sam": {"support"}}

func casbinUserName(r *http.Request) string { return r.Header.Get(casbinUserHeader) }

// casbinAuthn puts the identity of the request's test user, with the roles
// of casbinUserRoles, in the context, and none without a user.
func casbinAuthn(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := casbinUserName(r); name != "" {
			r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: name, Roles: casbinUserRoles[name]})))
		}
		h.ServeHTTP(w, r)
	})
}

// writeFile writes content to a file name in a new temporary directory
// and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// casbinPeer is the guide's casbin middleware around h, reading model and
// policy.
func casbinPeer(t *testing.T, h http.Handler, model, policy string) http.Handler {
	t.Helper()
	return guideCasbinBefore(h, writeFile(t, "model.conf", model), writeFile(t, "policy.csv", policy), casbinUserName)
}

// casbinMW is the guide's casbin middleware around next with the
// enforcer e, for the cases that change e while serving.
func casbinMW(e *casbin.Enforcer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed, err := e.Enforce(casbinUserName(r), r.URL.Path, r.Method); err != nil || !allowed {
			http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// casbinGuideEnforcer returns an enforcer of the guide's model and policy
// and the path of its policy file.
func casbinGuideEnforcer(t *testing.T) (*casbin.Enforcer, string) {
	t.Helper()
	policyFile := writeFile(t, "policy.csv", casbinPolicyCSV)
	return must(casbin.NewEnforcer(writeFile(t, "model.conf", casbinModelConf), policyFile)), policyFile
}

// hgArticles is the guide's rbac middleware, its rules with o's changes,
// for the cases that need the Middleware itself.
func hgArticles(change func(o *rbac.Options)) *rbac.Middleware {
	read := rbac.Requirement{Permissions: []string{"articles:read"}}
	write := rbac.Requirement{Permissions: []string{"articles:write"}}
	o := rbac.Options{
		Policy: must(rbac.ParsePolicy([]byte(rbacPolicyJSON))),
		Rules: []rbac.Rule{
			{Pattern: "GET /articles", Requirement: read},
			{Pattern: "GET /articles/{id}", Requirement: read},
			{Pattern: "POST /articles", Requirement: write},
			{Pattern: "PUT /articles/{id}", Requirement: write},
			{Pattern: "/admin/", Requirement: rbac.Requirement{Permissions: []string{"admin:access"}}},
		},
	}
	if change != nil {
		change(&o)
	}
	return must(rbac.New(o))
}

// as returns a request builder for method and target sent by user, or
// by no one when user is "".
func as(user, method, target string) func() *http.Request {
	return func() *http.Request {
		if user == "" {
			return newReq(method, target)
		}
		return newReq(method, target, casbinUserHeader, user)
	}
}

// blocksUnder returns the ```lang blocks of the guide under the heading
// "## heading".
func blocksUnder(t *testing.T, heading, lang string) []string {
	t.Helper()
	return doccheck.Blocks(t, guideFile, lang, heading)
}

// casbinDecisions are the requests both sides decide alike with the
// guide's configuration, and the status each gets.
var casbinDecisions = []struct {
	user, method, target string
	code                 int
}{
	{"carol", "GET", "/articles", 200},
	{"carol", "GET", "/articles/1", 200},
	{"carol", "POST", "/articles", 403},
	{"carol", "PUT", "/articles/1", 403},
	{"carol", "GET", "/admin/users", 403},
	{"bob", "GET", "/articles/1", 200},
	{"bob", "POST", "/articles", 200},
	{"bob", "PUT", "/articles/1", 200},
	{"bob", "DELETE", "/articles/1", 403},
	{"bob", "GET", "/admin/users", 403},
	{"alice", "GET", "/articles/1", 200},
	{"alice", "PUT", "/articles/1", 200},
	{"alice", "GET", "/admin/users", 200},
	{"alice", "DELETE", "/admin/users/7", 200},
	{"alice", "GET", "/admin/", 200},
	{"alice", "GET", "/admin", 403},           // neither /admin/* nor /admin/ covers it
	{"alice", "DELETE", "/articles/1", 403},   // no line or rule for DELETE
	{"alice", "GET", "/articles/1/edit", 403}, // :id and {id} are one segment
	{"alice", "GET", "/other", 403},
	{"dave", "GET", "/articles", 403}, // a user without roles
}

func casbinCases() []migCase {
	h := casbinHeading
	rows := func(r ...string) []string { return r }
	peer := func(t *testing.T) http.Handler { return casbinPeer(t, next, casbinModelConf, casbinPolicyCSV) }
	hg := func(t *testing.T) http.Handler {
		return casbinAuthn(guideCasbinAfter(next, writeFile(t, "policy.json", rbacPolicyJSON)))
	}
	cases := []httpCase{
		{
			name: "a refusal: 403 text from the middleware, 403 problem document from rbac",
			rows: rows("Refusal"),
			req:  as("carol", "POST", "/articles"),
			peer: []expect{textError(403, "Forbidden")},
			hg:   []expect{problemDoc(403)},
			both: []expect{reached(false)},
		},
		{
			name: "no user: Enforce(\"\", …) is false, 403; rbac answers 401 with a challenge",
			rows: rows("No user"),
			req:  as("", "GET", "/articles"),
			peer: []expect{textError(403, "Forbidden"), header("Www-Authenticate", "")},
			hg:   []expect{problemDoc(401), header("Www-Authenticate", rbac.DefaultChallenge)},
			both: []expect{reached(false)},
		},
		{
			name: "a user named like a role: casbin gives them the role's grants, rbac nothing",
			rows: rows("User named like a role"),
			req:  as("admin", "DELETE", "/admin/users/7"),
			peer: []expect{status(200), reached(true)},
			hg:   []expect{problemDoc(403), reached(false)},
		},
		{
			name: "HEAD where GET is allowed: refused by casbin, allowed by rbac",
			rows: rows("HEAD", "r.act == p.act"),
			req:  as("carol", "HEAD", "/articles/1"),
			peer: []expect{textError(403, "Forbidden"), reached(false)},
			hg:   []expect{status(200), reached(true)},
		},
		{
			name: "an encoded slash: keyMatch2 sees the decoded path and refuses; rbac refuses the path as ambiguous",
			rows: rows("Encoded slash (/articles/a%2Fb)"),
			req:  as("carol", "GET", "/articles/a%2Fb"),
			peer: []expect{textError(403, "Forbidden")},
			hg:   []expect{problemDoc(400)},
			both: []expect{reached(false)},
		},
		{
			name: "no line and no rule for the request: denied by both",
			rows: rows("No line or rule matches", "model.conf"),
			req:  as("alice", "GET", "/other"),
			peer: []expect{textError(403, "Forbidden")},
			hg:   []expect{problemDoc(403)},
			both: []expect{reached(false)},
		},
	}
	out := section(h, peer, hg, cases)
	return append(out,
		plain(h, "the same decisions for every user and request of the guide's policy", rows(
			"model.conf", "p, reader, /articles/:id, GET", "g, author, reader", "g, alice, admin",
			"keyMatch2(r.obj, p.obj)", "r.act == p.act", "casbin.NewEnforcer(modelFile, policyFile)",
			"e.Enforce(sub, obj, act)", "No line or rule matches"), func(t *testing.T) {
			noField(t, rbac.Options{}, "Model", "Matcher", "Matchers", "Effect")
			p, g := peer(t), hg(t)
			for _, d := range casbinDecisions {
				eachSide(p, g, func(who string, h http.Handler) {
					rec := serve(h, as(d.user, d.method, d.target)())
					if rec.Code != d.code {
						t.Errorf("%s: %s %s %s: status %d, want %d", who, d.user, d.method, d.target, rec.Code, d.code)
					}
				})
			}
		}),
		plain(h, "the files shown are the ones the cases load", rows("model.conf", "casbin.NewEnforcer(modelFile, policyFile)"), func(t *testing.T) {
			for _, b := range []struct {
				lang string
				want []string
			}{{"ini", []string{casbinModelConf}}, {"csv", []string{casbinPolicyCSV}}, {"json", []string{rbacPolicyJSON}}} {
				if got := blocksUnder(t, casbinHeading, b.lang); !slices.Equal(got, b.want) {
					t.Errorf("the guide's %s blocks under %q are %q, want %q", b.lang, casbinHeading, got, b.want)
				}
			}
		}),
		plain(h, "a per-route guard on a ServeMux route decides as the rule does", rows("keyMatch2(r.obj, p.obj)"), func(t *testing.T) {
			m := hgArticles(nil)
			mux := http.NewServeMux()
			mux.Handle("GET /articles/{id}", m.Require("articles:read")(next))
			h := casbinAuthn(mux)
			status(200)(t, "httpguard", serve(h, as("carol", "GET", "/articles/1")()))
			status(403)(t, "httpguard", serve(h, as("dave", "GET", "/articles/1")()))
		}),
		plain(h, "a mistake in the policy file: casbin loads it, rbac refuses it", rows("casbin.NewEnforcer(modelFile, policyFile)", "g, author, reader"), func(t *testing.T) {
			// casbin loads each file: a stray space makes the line grant
			// "reader " and carol nothing, an unknown parent grants
			// nothing, and a cycle is followed.
			for _, c := range []struct {
				csv, user string
				allowed   bool
			}{
				{"p, reader , /articles, GET\ng, carol, reader", "carol", false},
				{"p, reader, /articles, GET\ng, author, raeder\ng, bob, author", "bob", false},
				{"p, reader, /articles, GET\ng, reader, author\ng, author, reader\ng, carol, reader", "carol", true},
			} {
				e, err := casbin.NewEnforcer(writeFile(t, "model.conf", casbinModelConf), writeFile(t, "policy.csv", c.csv))
				if err != nil {
					t.Errorf("peer: %q: %v", c.csv, err)
					continue
				}
				if ok, err := e.Enforce(c.user, "/articles", "GET"); err != nil || ok != c.allowed {
					t.Errorf("peer: %q: %s GET /articles: %v, %v; want %v", c.csv, c.user, ok, err, c.allowed)
				}
			}
			for doc, want := range map[string]error{
				`{"roles": [{"name": "reader ", "permissions": ["articles:read"]}]}`:                                           rbac.ErrInvalidRoleName,
				`{"roles": [{"name": "author", "inherits": ["raeder"]}]}`:                                                      rbac.ErrUnknownRole,
				`{"roles": [{"name": "reader", "inherits": ["author"]}, {"name": "author", "inherits": ["reader"]}]}`:          rbac.ErrInheritanceCycle,
				`{"roles": [{"name": "author", "inherit": ["reader"]}, {"name": "reader", "permissions": ["articles:read"]}]}`: rbac.ErrPolicySyntax,
			} {
				if _, err := rbac.LoadPolicy(strings.NewReader(doc)); !errors.Is(err, want) {
					t.Errorf("httpguard: LoadPolicy(%s): %v, want %v", doc, err, want)
				}
			}
		}),
		plain(h, "deny lines: casbin subtracts; rbac grants less", rows("p = sub, obj, act, eft with deny"), func(t *testing.T) {
			model := strings.NewReplacer("p = sub, obj, act\n", "p = sub, obj, act, eft\n",
				"e = some(where (p.eft == allow))", "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))").Replace(casbinModelConf)
			peer := casbinPeer(t, next, model, "p, admin, /admin/*, *, allow\np, support, /admin/billing, *, deny\ng, support, admin\ng, sam, support")
			hg := casbinAuthn(must(rbac.New(rbac.Options{
				Policy: rbac.MustPolicy(
					rbac.Role{Name: "support", Permissions: []string{"admin:users"}},
					rbac.Role{Name: "admin", Inherits: []string{"support"}, Permissions: []string{"admin:billing"}}),
				Rules: []rbac.Rule{
					{Pattern: "/admin/", Requirement: rbac.Requirement{Permissions: []string{"admin:users"}}},
					{Pattern: "/admin/billing", Requirement: rbac.Requirement{Permissions: []string{"admin:billing"}}},
				},
			})).Handler(next))
			noField(t, rbac.Role{}, "Deny", "Denied", "Effect", "Except")
			eachSide(peer, hg, func(who string, h http.Handler) {
				status(200)(t, who, serve(h, as("sam", "GET", "/admin/users")()))
				status(403)(t, who, serve(h, as("sam", "GET", "/admin/billing")()))
			})
		}),
		plain(h, "roles per organisation: g with a domain, or RolesFor reading the org path value", rows("g = _, _, _ (domains)"), func(t *testing.T) {
			model := strings.NewReplacer("r = sub, obj, act", "r = sub, dom, obj, act", "p = sub, obj, act", "p = sub, dom, obj, act",
				"g = _, _\n", "g = _, _, _\n", "g(r.sub, p.sub)", "g(r.sub, p.sub, r.dom) && r.dom == p.dom").Replace(casbinModelConf)
			e := must(casbin.NewEnforcer(writeFile(t, "model.conf", model), writeFile(t, "policy.csv",
				"p, viewer, acme, /orgs/:org/reports, GET\np, viewer, globex, /orgs/:org/reports, GET\ng, bob, viewer, acme")))
			peerMux := http.NewServeMux()
			peerMux.Handle("GET /orgs/{org}/reports", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ok, err := e.Enforce(casbinUserName(r), r.PathValue("org"), r.URL.Path, r.Method); err != nil || !ok {
					http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
					return
				}
				next.ServeHTTP(w, r)
			}))
			memberships := map[[2]string][]string{{"bob", "acme"}: {"viewer"}} // the application's store
			m := must(rbac.New(rbac.Options{
				Policy: rbac.MustPolicy(rbac.Role{Name: "viewer", Permissions: []string{"reports:read"}}),
				RolesFor: func(r *http.Request, id identity.Identity) ([]string, error) {
					return memberships[[2]string{id.Subject(), r.PathValue("org")}], nil
				},
			}))
			hgMux := http.NewServeMux()
			hgMux.Handle("GET /orgs/{org}/reports", m.Require("reports:read")(next))
			eachSide(peerMux, casbinAuthn(hgMux), func(who string, h http.Handler) {
				status(200)(t, who, serve(h, as("bob", "GET", "/orgs/acme/reports")()))
				status(403)(t, who, serve(h, as("bob", "GET", "/orgs/globex/reports")()))
			})
		}),
		plain(h, "reloading the policy file: LoadPolicy, or SetPolicy with the new file's policy", rows("e.LoadPolicy()"), func(t *testing.T) {
			e, policyFile := casbinGuideEnforcer(t)
			m := hgArticles(nil)
			peer, hg := casbinMW(e), casbinAuthn(m.Handler(next))
			eachSide(peer, hg, func(who string, h http.Handler) { status(200)(t, who, serve(h, as("carol", "GET", "/articles/1")())) })
			// The reader lines removed from both files.
			var kept []string
			for l := range strings.SplitSeq(casbinPolicyCSV, "\n") {
				if !strings.HasPrefix(l, "p, reader,") {
					kept = append(kept, l)
				}
			}
			if err := os.WriteFile(policyFile, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := e.LoadPolicy(); err != nil {
				t.Fatal(err)
			}
			newDoc := strings.Replace(rbacPolicyJSON, `{"name": "reader", "permissions": ["articles:read"]}`, `{"name": "reader"}`, 1)
			if newDoc == rbacPolicyJSON {
				t.Fatal("the reader role was not edited")
			}
			if err := m.SetPolicy(must(rbac.LoadPolicy(strings.NewReader(newDoc)))); err != nil {
				t.Fatal(err)
			}
			eachSide(peer, hg, func(who string, h http.Handler) { status(403)(t, who, serve(h, as("carol", "GET", "/articles/1")())) })
		}),
		plain(h, "Enforce and its equivalents: Check for a request, Can for a permission", rows("e.Enforce(sub, obj, act)"), func(t *testing.T) {
			e, _ := casbinGuideEnforcer(t)
			m := hgArticles(nil)
			withID := func(user, method, target string) *http.Request {
				r := as(user, method, target)()
				return r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: user, Roles: casbinUserRoles[user]})))
			}
			for _, d := range casbinDecisions {
				ok, err := e.Enforce(d.user, d.target, d.method)
				if err != nil || ok != (d.code == 200) {
					t.Errorf("peer: Enforce(%s, %s, %s) = %v, %v", d.user, d.target, d.method, ok, err)
				}
				if err := m.Check(withID(d.user, d.method, d.target)); (err == nil) != (d.code == 200) {
					t.Errorf("httpguard: Check(%s %s %s) = %v", d.user, d.method, d.target, err)
				}
			}
			bob := identity.New(identity.Options{Subject: "bob", Roles: casbinUserRoles["bob"]})
			carol := identity.New(identity.Options{Subject: "carol", Roles: casbinUserRoles["carol"]})
			if !m.Can(bob, "articles:write") || m.Can(carol, "articles:write") {
				t.Error("httpguard: Can(bob or carol, articles:write) is not true then false")
			}
		}),
		plain(h, "roles with inheritance: GetImplicitRolesForUser, Policy.HasRole", rows("e.GetImplicitRolesForUser(user)"), func(t *testing.T) {
			e, _ := casbinGuideEnforcer(t)
			roles := must(e.GetImplicitRolesForUser("alice"))
			slices.Sort(roles)
			if want := []string{"admin", "author", "reader"}; !slices.Equal(roles, want) {
				t.Errorf("peer: alice's roles %q, want %q", roles, want)
			}
			p := hgArticles(nil).Policy()
			alice := identity.New(identity.Options{Subject: "alice", Roles: casbinUserRoles["alice"]})
			carol := identity.New(identity.Options{Subject: "carol", Roles: casbinUserRoles["carol"]})
			for _, r := range []string{"admin", "author", "reader"} {
				if !p.HasRole(alice, r) {
					t.Errorf("httpguard: alice does not have the role %s", r)
				}
			}
			if p.HasRole(carol, "author") {
				t.Error("httpguard: carol has the role author")
			}
		}),
		plain(h, "changing grants while serving: AddPolicy, or SetPolicy with a policy built from Roles", rows("AddPolicy, RemovePolicy, AddRoleForUser, SavePolicy"), func(t *testing.T) {
			noMethod(t, &rbac.Middleware{}, "AddPolicy", "RemovePolicy", "AddRoleForUser", "SavePolicy")
			noMethod(t, &rbac.Policy{}, "AddPolicy", "RemovePolicy", "AddRoleForUser", "SavePolicy")
			e, _ := casbinGuideEnforcer(t)
			m := hgArticles(nil)
			peer, hg := casbinMW(e), casbinAuthn(m.Handler(next))
			eachSide(peer, hg, func(who string, h http.Handler) { status(403)(t, who, serve(h, as("carol", "POST", "/articles")())) })
			if _, err := e.AddPolicy("reader", "/articles", "POST"); err != nil {
				t.Fatal(err)
			}
			roles := m.Policy().Roles()
			for i := range roles {
				if roles[i].Name == "reader" {
					roles[i].Permissions = append(roles[i].Permissions, "articles:write")
				}
			}
			if err := m.SetPolicy(must(rbac.NewPolicy(roles...))); err != nil {
				t.Fatal(err)
			}
			eachSide(peer, hg, func(who string, h http.Handler) { status(200)(t, who, serve(h, as("carol", "POST", "/articles")())) })
		}),
		plain(h, "a role removed while bob is signed in: casbin refuses the next request; rbac with the identity's roles admits it, with RolesFor refuses it", rows("Role removed while signed in", "g, alice, admin"), func(t *testing.T) {
			e, _ := casbinGuideEnforcer(t)
			var mu sync.Mutex
			store := maps.Clone(casbinUserRoles) // the application's users and roles
			rolesFor := hgArticles(func(o *rbac.Options) {
				o.RolesFor = func(r *http.Request, id identity.Identity) ([]string, error) {
					mu.Lock()
					defer mu.Unlock()
					return store[id.Subject()], nil
				}
			})
			peer, fromIdentity, fromStore := casbinMW(e), casbinAuthn(hgArticles(nil).Handler(next)), casbinAuthn(rolesFor.Handler(next))
			req := as("bob", "POST", "/articles")
			for who, h := range map[string]http.Handler{"peer": peer, "httpguard": fromIdentity, "httpguard RolesFor": fromStore} {
				status(200)(t, who, serve(h, req()))
			}
			if _, err := e.DeleteRoleForUser("bob", "author"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			delete(store, "bob")
			mu.Unlock()
			status(403)(t, "peer", serve(peer, req()))
			status(200)(t, "httpguard", serve(fromIdentity, req())) // the token or session still says author
			status(403)(t, "httpguard RolesFor", serve(fromStore, req()))
		}),
		plain(h, "a public path: AllowAnonymous lets a request without an identity through; WWWAuthenticate sets the challenge", rows("No user"), func(t *testing.T) {
			m := hgArticles(func(o *rbac.Options) {
				o.Rules = append(o.Rules, rbac.Rule{Pattern: "GET /login", AllowAnonymous: true})
				o.WWWAuthenticate = `Basic realm="api"`
			})
			rec := serve(casbinAuthn(m.Handler(next)), as("", "GET", "/login")())
			check(t, "httpguard", rec, []expect{status(200), reached(true)})
			rec = serve(casbinAuthn(m.Handler(next)), as("", "GET", "/articles")())
			check(t, "httpguard", rec, []expect{problemDoc(401), header("Www-Authenticate", `Basic realm="api"`)})
		}),
		plain(h, "the reasons Check gives: ErrNoRule, ErrAmbiguousPath, in an *AccessError", rows("No line or rule matches", "Encoded slash (/articles/a%2Fb)", "e.Enforce(sub, obj, act)"), func(t *testing.T) {
			m := hgArticles(nil)
			for target, want := range map[string]error{"/other": rbac.ErrNoRule, "/articles/a%2Fb": rbac.ErrAmbiguousPath} {
				r := as("alice", "GET", target)()
				r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "alice", Roles: casbinUserRoles["alice"]})))
				err := m.Check(r)
				var ae *rbac.AccessError
				if !errors.Is(err, want) || !errors.As(err, &ae) {
					t.Errorf("httpguard: Check(GET %s) = %v, want an *AccessError wrapping %v", target, err, want)
				}
			}
		}),
	)
}

// --- github.com/go-playground/validator/v10 with encoding/json --------------

const validatorHeading = "github.com/go-playground/validator/v10"

// Signup is the request of the section, as the guide shows it (the case
// "the type shown is the one the cases decode" checks that it is).
type Signup struct {
	Email string   `json:"email" validate:"required,email"`
	Name  string   `json:"name" validate:"required,max=100"`
	Age   int      `json:"age" validate:"gte=13"`
	Tags  []string `json:"tags" validate:"max=5,dive,min=1,max=20"`
}

// guide: github.com/go-playground/validator/v10, the request
func guideValidatorType() reflect.Type {
	type Signup struct {
		Email string   `json:"email" validate:"required,email"`
		Name  string   `json:"name" validate:"required,max=100"`
		Age   int      `json:"age" validate:"gte=13"`
		Tags  []string `json:"tags" validate:"max=5,dive,min=1,max=20"`
	}
	return reflect.TypeFor[Signup]()
}

// guide: github.com/go-playground/validator/v10, before
func guideValidatorBefore(validate *playground.Validate, signup func(http.ResponseWriter, Signup)) http.Handler {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		var s Signup
		if err := dec.Decode(&s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := validate.Struct(s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		signup(w, s)
	})
	return handler
}

// guide: github.com/go-playground/validator/v10, after
func guideValidatorAfter(signup func(http.ResponseWriter, Signup)) http.Handler {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sanitize.DecodeJSON[Signup](nil, w, r) // nil: the default Decoder
		if err != nil {
			return // the 4xx response has been written
		}
		signup(w, s)
	})
	return handler
}

// newValidate is the guide's validator: validator.New with
// WithRequiredStructEnabled.
func newValidate() *playground.Validate {
	return playground.New(playground.WithRequiredStructEnabled())
}

// echoValue is the application of the section: it marks that it ran and
// writes the value it was given as JSON.
func echoValue[T any](w http.ResponseWriter, v T) {
	w.Header().Set("X-Reached", "yes")
	_ = json.NewEncoder(w).Encode(v)
}

// strictJSON is the guide's decoder setting.
func strictJSON(dec *json.Decoder) { dec.DisallowUnknownFields() }

// jsonPeer is the guide's "before" handler for a T: the body bounded to
// limit, decoded with configure's settings, validated by v, echoed.
func jsonPeer[T any](v *playground.Validate, limit int64, configure func(*json.Decoder)) func(*testing.T) http.Handler {
	return func(*testing.T) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			dec := json.NewDecoder(r.Body)
			configure(dec)
			var s T
			if err := dec.Decode(&s); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := v.Struct(s); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			echoValue(w, s)
		})
	}
}

// jsonHG is the guide's "after" handler for a T, with the Decoder d.
func jsonHG[T any](d *sanitize.Decoder) func(*testing.T) http.Handler {
	return func(*testing.T) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := sanitize.DecodeJSON[T](d, w, r)
			if err != nil {
				return
			}
			echoValue(w, s)
		})
	}
}

// postAs returns a request builder for a POST of body with the
// Content-Type ct (none for "").
func postAs(ct, body string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
}

// postJSON returns a request builder for a POST of body as
// application/json.
func postJSON(body string) func() *http.Request { return postAs("application/json", body) }

// echoed expects the application to have run with v.
func echoed(v any) expect {
	want, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		status(200)(t, who, rec)
		reached(true)(t, who, rec)
		body(string(want)+"\n")(t, who, rec)
	}
}

// invalidFields expects sanitize's 422: a problem document that lists
// the fields want, and nothing else.
func invalidFields(want ...sanitize.FieldError) expect {
	return func(t *testing.T, who string, rec *exchange) {
		t.Helper()
		status(422)(t, who, rec)
		reached(false)(t, who, rec)
		header("Content-Type", "application/problem+json")(t, who, rec)
		header("Cache-Control", "no-store")(t, who, rec)
		header("X-Content-Type-Options", "nosniff")(t, who, rec)
		var p struct {
			Type   string                `json:"type"`
			Title  string                `json:"title"`
			Status int                   `json:"status"`
			Detail string                `json:"detail"`
			Errors []sanitize.FieldError `json:"errors"`
		}
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Errorf("%s: body %q: %v", who, rec.Body.String(), err)
			return
		}
		if p.Type != "about:blank" || p.Title != "Unprocessable Entity" || p.Status != 422 || p.Detail != "The request has invalid fields." {
			t.Errorf("%s: problem %+v, want the 422 of invalid fields", who, p)
		}
		if !slices.Equal(p.Errors, want) {
			t.Errorf("%s: errors %+v, want %+v", who, p.Errors, want)
		}
	}
}

// validSignup is a request both sides accept, and validSignupJSON its
// body.
var validSignup = Signup{Email: "ann@example.com", Name: "Ann", Age: 30, Tags: []string{"go"}}

const validSignupJSON = `{"email":"ann@example.com","name":"Ann","age":30,"tags":["go"]}`

// withSignup returns validSignupJSON with the members of extra
// (`"admin":true`) added at its end.
func withSignup(extra string) string {
	return strings.TrimSuffix(validSignupJSON, "}") + "," + extra + "}"
}

// profile holds a struct field that required makes compulsory, and
// address is that struct.
type profile struct {
	Address address `json:"address" validate:"required"`
}

type address struct {
	City string `json:"city" validate:"max=5"`
}

// span is a request whose check across fields is a struct-level
// validation for validator and a Validate method for sanitize.
type span struct {
	From  int    `json:"from"`
	To    int    `json:"to"`
	Label string `json:"label" validate:"required"`
}

func (v span) Validate() []sanitize.FieldError {
	if v.To < v.From {
		return []sanitize.FieldError{{Field: "to", Rule: "order", Message: "must not be before from"}}
	}
	return nil
}

// spanOrder is span's Validate as a validator struct-level validation.
func spanOrder(sl playground.StructLevel) {
	v := sl.Current().Interface().(span)
	if v.To < v.From {
		sl.ReportError(v.To, "to", "To", "order", "")
	}
}

// item has a field of an application's rule.
type item struct {
	SKU string `json:"sku" validate:"required,sku"`
}

// isSKU reports whether s is two capital letters, a dash and four digits.
func isSKU(s string) bool {
	if len(s) != 7 || s[2] != '-' {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case i < 2 && c >= 'A' && c <= 'Z', i > 2 && c >= '0' && c <= '9', i == 2:
		default:
			return false
		}
	}
	return true
}

// event has a number in an any field and in a json.Number field.
type event struct {
	ID   json.Number `json:"id"`
	Data any         `json:"data"`
}

// jsonNames is the RegisterTagNameFunc most applications register: a
// field's JSON name.
func jsonNames(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func validatorCases() []migCase {
	h := validatorHeading
	rows := func(r ...string) []string { return r }
	echoSignup := func(w http.ResponseWriter, s Signup) { echoValue(w, s) }
	peer := func(*testing.T) http.Handler { return guideValidatorBefore(newValidate(), echoSignup) }
	hg := func(*testing.T) http.Handler { return guideValidatorAfter(echoSignup) }
	malformed := rows("An empty or malformed body")
	cases := []httpCase{
		{
			name: "a valid body: the same value on both sides",
			rows: rows("json.NewDecoder(r.Body).Decode(&v)", "validate.Struct(v)"),
			req:  postJSON(validSignupJSON),
			both: []expect{echoed(validSignup)},
		},
		{
			name: "a field that fails its rule: 400 with the validator's text; 422 listing the field",
			rows: rows(`A field that fails its rule ("email":"x")`, "validate.Struct(v)"),
			req:  postJSON(`{"email":"x","name":"Ann","age":30}`),
			peer: []expect{textError(400, "Key: 'Signup.Email' Error:Field validation for 'Email' failed on the 'email' tag")},
			hg:   []expect{invalidFields(sanitize.FieldError{Field: "email", Rule: "email", Message: "must be an email address"})},
		},
		{
			name: "a value of the wrong type: 400 with the decoder's text; 422 listing the field",
			rows: rows(`A value of the wrong type ("age":"x")`),
			req:  postJSON(`{"email":"ann@example.com","name":"Ann","age":"x"}`),
			peer: []expect{textError(400, "json: cannot unmarshal string into Go struct field Signup.age of type int")},
			hg:   []expect{invalidFields(sanitize.FieldError{Field: "age", Rule: "type", Message: "must be a whole number in range"})},
		},
		{
			name: "an unknown member: refused by both, its name sent back by the decoder's text",
			rows: rows(`An unknown member ("admin":true)`, "Decoder.DisallowUnknownFields()"),
			req:  postJSON(withSignup(`"admin":true`)),
			peer: []expect{textError(400, `json: unknown field "admin"`)},
			hg:   []expect{problemDoc(400)},
			both: []expect{reached(false)},
		},
		{
			name: "an empty body: 400 EOF; 400 problem document",
			rows: malformed,
			req:  postJSON(""),
			peer: []expect{textError(400, "EOF")},
			hg:   []expect{problemDoc(400)},
		},
		{
			name: "a truncated body: 400 unexpected EOF; 400 problem document",
			rows: malformed,
			req:  postJSON(`{"email":`),
			peer: []expect{textError(400, "unexpected EOF")},
			hg:   []expect{problemDoc(400)},
		},
		{
			name: "a body that is not JSON: 400 with the syntax error; 400 problem document",
			rows: malformed,
			req:  postJSON("x"),
			peer: []expect{textError(400, "invalid character 'x' looking for beginning of value")},
			hg:   []expect{problemDoc(400)},
		},
		{
			name: "a body over 1 MiB: 400 with MaxBytesReader's text; 413 problem document",
			rows: rows("A body over 1 MiB", "http.MaxBytesReader(w, r.Body, n)"),
			req:  postJSON(withSignup(`"note":"` + strings.Repeat("a", 1<<20) + `"`)),
			peer: []expect{textError(400, "http: request body too large")},
			hg:   []expect{problemDoc(413)},
		},
		{
			name: "text/plain: decoded by encoding/json; 415 problem document",
			rows: rows("Content-Type: text/plain, or none"),
			req:  postAs("text/plain", validSignupJSON),
			peer: []expect{echoed(validSignup)},
			hg:   []expect{problemDoc(415), reached(false)},
		},
		{
			name: "no Content-Type: decoded by encoding/json; 415 problem document",
			rows: rows("Content-Type: text/plain, or none"),
			req:  postAs("", validSignupJSON),
			peer: []expect{echoed(validSignup)},
			hg:   []expect{problemDoc(415), reached(false)},
		},
		{
			name: "a repeated member: the last wins; 400 problem document",
			rows: rows(`A repeated member ("email" twice)`),
			req:  postJSON(withSignup(`"email":"eve@example.com"`)),
			peer: []expect{echoed(Signup{Email: "eve@example.com", Name: "Ann", Age: 30, Tags: []string{"go"}})},
			hg:   []expect{problemDoc(400), reached(false)},
		},
		{
			name: "a member name in another letter case: sets the field despite DisallowUnknownFields; 400 problem document",
			rows: rows(`A member name in another letter case ("Email")`, "Decoder.DisallowUnknownFields()"),
			req:  postJSON(`{"Email":"ann@example.com","name":"Ann","age":30,"tags":["go"]}`),
			peer: []expect{echoed(validSignup)},
			hg:   []expect{problemDoc(400), reached(false)},
		},
		{
			name:  "a member name in another letter case with unknown members allowed: sets the field; 400 problem document",
			rows:  rows(`A member name in another letter case ("Email")`, "Decoder.DisallowUnknownFields()"),
			req:   postJSON(`{"EMAIL":"ann@example.com","name":"Ann","age":30,"tags":["go"]}`),
			peerH: jsonPeer[Signup](newValidate(), 1<<20, func(*json.Decoder) {}),
			hgH:   jsonHG[Signup](must(sanitize.New(sanitize.Options{AllowUnknownFields: true}))),
			peer:  []expect{echoed(validSignup)},
			hg:    []expect{problemDoc(400), reached(false)},
		},
		{
			name:  "unknown members allowed: ignored by both",
			rows:  rows("Decoder.DisallowUnknownFields()"),
			req:   postJSON(withSignup(`"admin":true`)),
			peerH: jsonPeer[Signup](newValidate(), 1<<20, func(*json.Decoder) {}),
			hgH:   jsonHG[Signup](must(sanitize.New(sanitize.Options{AllowUnknownFields: true}))),
			both:  []expect{echoed(validSignup)},
		},
		{
			name: "a second JSON value: ignored by encoding/json; 400 problem document",
			rows: rows("A second JSON value after the first"),
			req:  postJSON(validSignupJSON + ` {"email":"eve@example.com"}`),
			peer: []expect{echoed(validSignup)},
			hg:   []expect{problemDoc(400), reached(false)},
		},
		{
			name: "an escaped NUL: accepted; 400 problem document",
			rows: rows(`\u0000 or a lone surrogate (\ud800) in a string`),
			req:  postJSON(`{"email":"ann@example.com","name":"Ann\u0000","age":30,"tags":["go"]}`),
			peer: []expect{echoed(Signup{Email: "ann@example.com", Name: "Ann\x00", Age: 30, Tags: []string{"go"}})},
			hg:   []expect{problemDoc(400), reached(false)},
		},
		{
			name: "a lone surrogate: accepted as U+FFFD; 400 problem document",
			rows: rows(`\u0000 or a lone surrogate (\ud800) in a string`),
			req:  postJSON(`{"email":"ann@example.com","name":"Ann\ud800","age":30,"tags":["go"]}`),
			peer: []expect{echoed(Signup{Email: "ann@example.com", Name: "Ann\uFFFD", Age: 30, Tags: []string{"go"}})},
			hg:   []expect{problemDoc(400), reached(false)},
		},
		{
			name: "dive: the same item refused, named tags[1]",
			rows: rows("dive"),
			req:  postJSON(`{"email":"ann@example.com","name":"Ann","age":30,"tags":["go",""]}`),
			peer: []expect{textError(400, "Key: 'Signup.Tags[1]' Error:Field validation for 'Tags[1]' failed on the 'min' tag")},
			hg:   []expect{invalidFields(sanitize.FieldError{Field: "tags[1]", Rule: "min", Message: "must be at least 1 character"})},
		},
		{
			name:  "required on a struct field: refused by both, with WithRequiredStructEnabled",
			rows:  rows("validator.New(validator.WithRequiredStructEnabled())"),
			req:   postJSON(`{}`),
			peerH: jsonPeer[profile](newValidate(), 1<<20, strictJSON),
			hgH:   jsonHG[profile](nil),
			peer:  []expect{textError(400, "Key: 'profile.Address' Error:Field validation for 'Address' failed on the 'required' tag")},
			hg:    []expect{invalidFields(sanitize.FieldError{Field: "address", Rule: "required", Message: "is required"})},
		},
		{
			name:  "a list target: validate.Struct refuses it; sanitize checks each item",
			rows:  rows("validate.Struct(v)"),
			req:   postJSON(`[` + validSignupJSON + `]`),
			peerH: jsonPeer[[]Signup](newValidate(), 1<<20, strictJSON),
			hgH:   jsonHG[[]Signup](nil),
			peer:  []expect{textError(400, "validator: (nil []bench.Signup)")},
			hg:    []expect{echoed([]Signup{validSignup})},
		},
		{
			name:  "a list target with an invalid item: reported as [1].email",
			rows:  rows("validate.Struct(v)"),
			req:   postJSON(`[` + validSignupJSON + `,{"email":"x","name":"Ann","age":30}]`),
			peerH: jsonPeer[[]Signup](newValidate(), 1<<20, strictJSON),
			hgH:   jsonHG[[]Signup](nil),
			peer:  []expect{status(400), reached(false)},
			hg:    []expect{invalidFields(sanitize.FieldError{Field: "[1].email", Rule: "email", Message: "must be an email address"})},
		},
		{
			name:  "a smaller limit: MaxBytesReader's 400; MaxBytes's 413",
			rows:  rows("http.MaxBytesReader(w, r.Body, n)"),
			req:   postJSON(`{"email":"ann@example.com","name":"Annabel","age":30,"tags":["go"]}`),
			peerH: jsonPeer[Signup](newValidate(), int64(len(validSignupJSON)), strictJSON),
			hgH:   jsonHG[Signup](must(sanitize.New(sanitize.Options{MaxBytes: int64(len(validSignupJSON))}))),
			peer:  []expect{textError(400, "http: request body too large")},
			hg:    []expect{problemDoc(413)},
		},
		{
			name:  "a body of exactly the smaller limit: accepted by both",
			rows:  rows("http.MaxBytesReader(w, r.Body, n)"),
			req:   postJSON(validSignupJSON),
			peerH: jsonPeer[Signup](newValidate(), int64(len(validSignupJSON)), strictJSON),
			hgH:   jsonHG[Signup](must(sanitize.New(sanitize.Options{MaxBytes: int64(len(validSignupJSON))}))),
			both:  []expect{echoed(validSignup)},
		},
		{
			name:  "UseNumber: a big integer in an any field keeps its digits with Options.UseNumber",
			rows:  rows("Decoder.UseNumber()"),
			req:   postJSON(`{"id":12345678901234567891,"data":12345678901234567891}`),
			peerH: jsonPeer[event](newValidate(), 1<<20, func(dec *json.Decoder) { dec.DisallowUnknownFields(); dec.UseNumber() }),
			hgH:   jsonHG[event](must(sanitize.New(sanitize.Options{UseNumber: true}))),
			both:  []expect{echoed(event{ID: "12345678901234567891", Data: json.Number("12345678901234567891")})},
		},
		{
			name:  "without UseNumber: a big integer in an any field becomes a float64 on both sides, a json.Number field keeps it",
			rows:  rows("Decoder.UseNumber()"),
			req:   postJSON(`{"id":12345678901234567891,"data":12345678901234567891}`),
			peerH: jsonPeer[event](newValidate(), 1<<20, strictJSON),
			hgH:   jsonHG[event](nil),
			both:  []expect{echoed(event{ID: "12345678901234567891", Data: float64(12345678901234567891)})},
		},
	}
	// An application's rule, the same on both sides.
	skuRule := func() *playground.Validate {
		v := newValidate()
		if err := v.RegisterValidation("sku", func(fl playground.FieldLevel) bool { return isSKU(fl.Field().String()) }); err != nil {
			panic(err)
		}
		return v
	}
	skuDecoder := func() *sanitize.Decoder {
		return must(sanitize.New(sanitize.Options{Rules: map[string]sanitize.Rule{"sku": sanitize.RuleFor(isSKU, "must be a SKU such as AB-1234")}}))
	}
	// A check across fields, the same on both sides.
	spanPeer := func() *playground.Validate {
		v := newValidate()
		v.RegisterStructValidation(spanOrder, span{})
		return v
	}
	cases = append(cases,
		httpCase{
			name:  "an application's rule: the same value refused, with the rule's message",
			rows:  rows("validate.RegisterValidation(tag, fn)"),
			req:   postJSON(`{"sku":"ab-12"}`),
			peerH: jsonPeer[item](skuRule(), 1<<20, strictJSON),
			hgH:   jsonHG[item](skuDecoder()),
			peer:  []expect{textError(400, "Key: 'item.SKU' Error:Field validation for 'SKU' failed on the 'sku' tag")},
			hg:    []expect{invalidFields(sanitize.FieldError{Field: "sku", Rule: "sku", Message: "must be a SKU such as AB-1234"})},
		},
		httpCase{
			name:  "an application's rule: the same value accepted",
			rows:  rows("validate.RegisterValidation(tag, fn)"),
			req:   postJSON(`{"sku":"AB-1234"}`),
			peerH: jsonPeer[item](skuRule(), 1<<20, strictJSON),
			hgH:   jsonHG[item](skuDecoder()),
			both:  []expect{echoed(item{SKU: "AB-1234"})},
		},
		httpCase{
			name:  "a check across fields with a tag failing too: validator reports both; sanitize the tag's alone",
			rows:  rows("validate.RegisterStructValidation(fn, T{})"),
			req:   postJSON(`{"from":5,"to":1,"label":""}`),
			peerH: jsonPeer[span](spanPeer(), 1<<20, strictJSON),
			hgH:   jsonHG[span](nil),
			peer: []expect{textError(400, "Key: 'span.Label' Error:Field validation for 'Label' failed on the 'required' tag\n"+
				"Key: 'span.to' Error:Field validation for 'to' failed on the 'order' tag")},
			hg: []expect{invalidFields(sanitize.FieldError{Field: "label", Rule: "required", Message: "is required"})},
		},
		httpCase{
			name:  "a check across fields once the tags hold: refused by both",
			rows:  rows("validate.RegisterStructValidation(fn, T{})"),
			req:   postJSON(`{"from":5,"to":1,"label":"x"}`),
			peerH: jsonPeer[span](spanPeer(), 1<<20, strictJSON),
			hgH:   jsonHG[span](nil),
			peer:  []expect{textError(400, "Key: 'span.to' Error:Field validation for 'to' failed on the 'order' tag")},
			hg:    []expect{invalidFields(sanitize.FieldError{Field: "to", Rule: "order", Message: "must not be before from"})},
		},
		httpCase{
			name:  "a check across fields that holds: accepted by both",
			rows:  rows("validate.RegisterStructValidation(fn, T{})"),
			req:   postJSON(`{"from":1,"to":5,"label":"x"}`),
			peerH: jsonPeer[span](spanPeer(), 1<<20, strictJSON),
			hgH:   jsonHG[span](nil),
			both:  []expect{echoed(span{From: 1, To: 5, Label: "x"})},
		},
	)
	out := section(h, peer, hg, cases)
	return append(out,
		plain(h, "the type shown is the one the cases decode", rows("json.NewDecoder(r.Body).Decode(&v)"), func(t *testing.T) {
			shown, tested := guideValidatorType(), reflect.TypeFor[Signup]()
			if shown.NumField() != tested.NumField() {
				t.Fatalf("the guide's Signup has %d fields, the tested one %d", shown.NumField(), tested.NumField())
			}
			for i := range shown.NumField() {
				a, b := shown.Field(i), tested.Field(i)
				if a.Name != b.Name || a.Type != b.Type || a.Tag != b.Tag {
					t.Errorf("field %d: the guide's %s %v %q, the tested %s %v %q", i, a.Name, a.Type, a.Tag, b.Name, b.Type, b.Tag)
				}
			}
		}),
		plain(h, "the same decisions for each rule of Signup", rows("validate.Struct(v)", "validator.ValidationErrors, validator.FieldError"), func(t *testing.T) {
			p, g := peer(t), hg(t)
			for body, valid := range map[string]bool{
				validSignupJSON: true,
				`{"email":"ann@example.com","name":"Ann","age":13}`:                                            true,
				`{"email":"ann@example.com","name":"Ann","age":12}`:                                            false,
				`{"name":"Ann","age":30}`:                                                                      false,
				`{"email":"ann@example.com","age":30}`:                                                         false,
				`{"email":"ann@example.com","name":"` + strings.Repeat("n", 100) + `","age":30}`:               true,
				`{"email":"ann@example.com","name":"` + strings.Repeat("n", 101) + `","age":30}`:               false,
				`{"email":"ann@example.com","name":"Ann","age":30,"tags":["a","b","c","d","e"]}`:               true,
				`{"email":"ann@example.com","name":"Ann","age":30,"tags":["a","b","c","d","e","f"]}`:           false,
				`{"email":"ann@example.com","name":"Ann","age":30,"tags":["` + strings.Repeat("t", 21) + `"]}`: false,
			} {
				eachSide(p, g, func(who string, h http.Handler) {
					rec := serve(h, postJSON(body)())
					if got := rec.Code == 200; got != valid {
						t.Errorf("%s: %s: status %d, want valid = %v", who, body, rec.Code, valid)
					}
				})
			}
		}),
		plain(h, "ValidationErrors and FieldErrors list the same fields and rules; the message holds the parameter, not the value", rows("validator.ValidationErrors, validator.FieldError", "validate.RegisterTagNameFunc(fn)"), func(t *testing.T) {
			body := `{"email":"x","name":"","age":5,"tags":["","` + strings.Repeat("t", 21) + `"]}`
			v := newValidate()
			v.RegisterTagNameFunc(jsonNames)
			var s Signup
			if err := json.Unmarshal([]byte(body), &s); err != nil {
				t.Fatal(err)
			}
			var verrs playground.ValidationErrors
			if err := v.Struct(s); !errors.As(err, &verrs) {
				t.Fatalf("peer: %v, want ValidationErrors", err)
			}
			_, err := sanitize.Unmarshal[Signup](nil, []byte(body))
			var ferrs *sanitize.FieldErrors
			if !errors.As(err, &ferrs) || !errors.Is(err, sanitize.ErrInvalidFields) || sanitize.StatusOf(err) != 422 {
				t.Fatalf("httpguard: %v, want *FieldErrors", err)
			}
			if len(verrs) != len(ferrs.Fields) {
				t.Fatalf("peer: %d errors, httpguard %d: %v; %v", len(verrs), len(ferrs.Fields), verrs, ferrs)
			}
			for i, fe := range verrs {
				got := ferrs.Fields[i]
				if field := strings.TrimPrefix(fe.Namespace(), "Signup."); got.Field != field || got.Rule != fe.Tag() {
					t.Errorf("entry %d: %s (%s), want %s (%s)", i, got.Field, got.Rule, field, fe.Tag())
				}
				if !strings.Contains(got.Message, fe.Param()) {
					t.Errorf("entry %d: message %q without the parameter %q", i, got.Message, fe.Param())
				}
				if val := fmt.Sprint(fe.Value()); val != "" && strings.Contains(got.Message, val) {
					t.Errorf("entry %d: message %q holds the value %q", i, got.Message, val)
				}
			}
			noField(t, sanitize.FieldError{}, "Value", "Namespace", "StructField")
		}),
		plain(h, "field names: validator names Go fields unless RegisterTagNameFunc; sanitize names JSON fields", rows("validate.RegisterTagNameFunc(fn)"), func(t *testing.T) {
			bad := profile{Address: address{City: "Zurich"}}
			v := newValidate()
			var verrs playground.ValidationErrors
			if err := v.Struct(bad); !errors.As(err, &verrs) || len(verrs) != 1 || verrs[0].Namespace() != "profile.Address.City" {
				t.Errorf("peer without RegisterTagNameFunc: %v, want profile.Address.City", err)
			}
			v = newValidate() // names are registered before the first use
			v.RegisterTagNameFunc(jsonNames)
			if err := v.Struct(bad); !errors.As(err, &verrs) || len(verrs) != 1 || verrs[0].Namespace() != "profile.address.city" {
				t.Errorf("peer with RegisterTagNameFunc: %v, want profile.address.city", err)
			}
			_, err := sanitize.Unmarshal[profile](nil, []byte(`{"address":{"city":"Zurich"}}`))
			var ferrs *sanitize.FieldErrors
			if !errors.As(err, &ferrs) || !slices.Equal(ferrs.Fields, []sanitize.FieldError{{Field: "address.city", Rule: "max", Message: "must be at most 5 characters"}}) {
				t.Errorf("httpguard: %v, want address.city (max)", err)
			}
		}),
		plain(h, "a long list: validator lists every failure; sanitize 100 and one that says more failed", rows("validator.ValidationErrors, validator.FieldError"), func(t *testing.T) {
			items := slices.Repeat([]string{`{"email":"x","name":"Ann","age":30}`}, 150)
			body := "[" + strings.Join(items, ",") + "]"
			var list []Signup
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatal(err)
			}
			var verrs playground.ValidationErrors
			if err := newValidate().Var(list, "dive"); !errors.As(err, &verrs) || len(verrs) != 150 {
				t.Errorf("peer: %d errors, want 150", len(verrs))
			}
			_, err := sanitize.Unmarshal[[]Signup](nil, []byte(body))
			var ferrs *sanitize.FieldErrors
			if !errors.As(err, &ferrs) || len(ferrs.Fields) != sanitize.MaxFieldErrors+1 {
				t.Fatalf("httpguard: %v, want %d entries", err, sanitize.MaxFieldErrors+1)
			}
			if last := ferrs.Fields[sanitize.MaxFieldErrors]; last.Field != "(more)" || last.Rule != "truncated" || ferrs.Fields[99].Field != "[99].email" {
				t.Errorf("httpguard: entries 100 and 101: %+v, %+v", ferrs.Fields[99], last)
			}
		}),
		plain(h, "messages: English, no translator; an OnReject can write its own from Field and Rule", rows("RegisterTranslation, FieldError.Translate"), func(t *testing.T) {
			noField(t, sanitize.Options{}, "Translator", "Translations", "Locale", "Messages")
			if _, ok := reflect.TypeFor[*playground.Validate]().MethodByName("RegisterTranslation"); !ok {
				t.Error("peer: no RegisterTranslation")
			}
			german := map[string]string{"email": "muss eine E-Mail-Adresse sein"}
			d := must(sanitize.New(sanitize.Options{OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
				var fe *sanitize.FieldErrors
				if !errors.As(err, &fe) {
					sanitize.Reject(w, r, err)
					return
				}
				out := map[string]string{}
				for _, f := range fe.Fields {
					out[f.Field] = cmp.Or(german[f.Rule], f.Message)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				_ = json.NewEncoder(w).Encode(out)
			}}))
			req := postJSON(`{"email":"x","name":"Ann","age":30}`)
			check(t, "httpguard", serve(hg(t), req()), []expect{invalidFields(sanitize.FieldError{Field: "email", Rule: "email", Message: "must be an email address"})})
			check(t, "httpguard OnReject", serve(jsonHG[Signup](d)(t), req()), []expect{status(422), body(`{"email":"muss eine E-Mail-Adresse sein"}` + "\n")})
		}),
		plain(h, "an application's rule: no parameter, and no built-in name", rows("validate.RegisterValidation(tag, fn)"), func(t *testing.T) {
			// validator replaces the built-in email rule; sanitize refuses
			// the name.
			v := newValidate()
			if err := v.RegisterValidation("email", func(playground.FieldLevel) bool { return true }); err != nil {
				t.Errorf("peer: RegisterValidation(email): %v", err)
			}
			if err := v.Struct(Signup{Email: "x", Name: "Ann", Age: 30}); err != nil {
				t.Errorf("peer: the replaced email rule refused x: %v", err)
			}
			refuses(t, sanitize.New, sanitize.Options{Rules: map[string]sanitize.Rule{"email": sanitize.RuleFor(func(string) bool { return true }, "any text")}}, sanitize.ErrOption)
			// A parameter: fl.Param() for validator, a programming error
			// (500) for sanitize.
			type item4 struct {
				SKU string `json:"sku" validate:"sku=4"`
			}
			var param string
			v = newValidate()
			if err := v.RegisterValidation("sku", func(fl playground.FieldLevel) bool { param = fl.Param(); return isSKU(fl.Field().String()) }); err != nil {
				t.Fatal(err)
			}
			req := postJSON(`{"sku":"AB-1234"}`)
			check(t, "peer", serve(jsonPeer[item4](v, 1<<20, strictJSON)(t), req()), []expect{echoed(item4{SKU: "AB-1234"})})
			if param != "4" {
				t.Errorf("peer: fl.Param() = %q, want 4", param)
			}
			check(t, "httpguard", serve(jsonHG[item4](skuDecoder())(t), req()), []expect{problemDoc(500), reached(false)})
		}),
		plain(h, "DecodeJSON answers a refusal itself and returns the zero value; Unmarshal writes nothing", rows("json.NewDecoder(r.Body).Decode(&v)"), func(t *testing.T) {
			var got Signup
			var rejected error
			d := must(sanitize.New(sanitize.Options{OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
				rejected = err
				sanitize.Reject(w, r, err)
			}}))
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = sanitize.DecodeJSON[Signup](d, w, r)
			})
			check(t, "httpguard", serve(h, postJSON(`{"email":"ann@example.com","name":"Ann","age":12}`)()),
				[]expect{invalidFields(sanitize.FieldError{Field: "age", Rule: "gte", Message: "must be at least 13"})})
			if !reflect.DeepEqual(got, Signup{}) || !errors.Is(rejected, sanitize.ErrInvalidFields) {
				t.Errorf("httpguard: DecodeJSON returned %+v, OnReject got %v; want the zero Signup and ErrInvalidFields", got, rejected)
			}
			s, err := sanitize.Unmarshal[Signup](nil, []byte(validSignupJSON))
			if err != nil || !reflect.DeepEqual(s, validSignup) {
				t.Errorf("httpguard: Unmarshal = %+v, %v", s, err)
			}
			if _, err := sanitize.Unmarshal[Signup](nil, []byte(`{"email":"x","name":"Ann","age":30}`)); sanitize.StatusOf(err) != 422 {
				t.Errorf("httpguard: Unmarshal of an invalid field: %v", err)
			}
		}),
		plain(h, "a Content-Length over the limit: sanitize refuses it unread; MaxBytesReader reads up to the limit", rows("A body over 1 MiB"), func(t *testing.T) {
			for who, h := range map[string]http.Handler{"peer": peer(t), "httpguard": hg(t)} {
				var read countingReader
				r := httptest.NewRequest(http.MethodPost, "/signup", &read)
				r.Header.Set("Content-Type", "application/json")
				r.ContentLength = 2 << 20
				rec := serve(h, r)
				switch who {
				case "peer":
					if rec.Code != 400 || read.n <= 1<<20 {
						t.Errorf("peer: status %d after reading %d bytes, want 400 after more than 1 MiB", rec.Code, read.n)
					}
				default:
					if rec.Code != 413 || read.n != 0 {
						t.Errorf("httpguard: status %d after reading %d bytes, want 413 unread", rec.Code, read.n)
					}
				}
			}
		}),
		plain(h, "required on a struct field: checked only with WithRequiredStructEnabled, always by sanitize", rows("validator.New(validator.WithRequiredStructEnabled())"), func(t *testing.T) {
			if err := playground.New().Struct(profile{}); err != nil {
				t.Errorf("peer without WithRequiredStructEnabled: %v, want the zero struct accepted", err)
			}
			if err := newValidate().Struct(profile{}); err == nil {
				t.Error("peer with WithRequiredStructEnabled: the zero struct accepted")
			}
			if _, err := sanitize.Unmarshal[profile](must(sanitize.New(sanitize.Options{})), []byte(`{}`)); sanitize.StatusOf(err) != 422 {
				t.Errorf("httpguard: %v, want 422", err)
			}
		}),
	)
}

// countingReader is an endless body of spaces that counts what was read.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n += len(p)
	return len(p), nil
}
