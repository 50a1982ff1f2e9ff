package cors

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/origins"
)

// Options configures a [Middleware]. There is no default for the allowed
// origins: [New] reports an error when none is configured. Every other
// zero field is the strict default. [New] copies and compiles the Options,
// so mutating them (or the slices they hold) after New has no effect.
type Options struct {
	// AllowedOrigins lists the origins allowed to read responses, each
	// one of:
	//
	//   - an exact origin, "scheme://host[:port]", such as
	//     "https://app.example.com" or "http://localhost:3000". Upper case
	//     and the scheme's default port are normalized away; userinfo, a
	//     path (even "/"), a query or a fragment is an error. Hosts must be
	//     ASCII (punycode for internationalized names);
	//   - a subdomain pattern, "https://*.example.com[:port]", which
	//     matches every origin with that scheme and port whose host is a
	//     proper subdomain of example.com, at any depth. It does not match
	//     example.com itself (list it too), "https://evilexample.com" or
	//     "https://example.com.evil.net". The wildcard must be the whole
	//     first label, and the domain must be registrable: not a public
	//     suffix ("*.co.uk", "*.github.io") nor a domain whose subdomains
	//     all are ("*.run.app"), by the Public Suffix List. Nor does a
	//     pattern match a host under a public suffix below its domain:
	//     "https://*.amazonaws.com" matches "https://console.amazonaws.com"
	//     but not "https://bucket.s3.amazonaws.com", someone else's site;
	//   - "*", alone, for any origin, answered with
	//     "Access-Control-Allow-Origin: *". It is an error together with
	//     other entries, with [Options.AllowOriginFunc], or with
	//     [Options.AllowCredentials] unless
	//     [Options.DangerouslyAllowCredentialsWithAnyOrigin] is set.
	//
	// "null" is an error here unless [Options.DangerouslyAllowNullOrigin]
	// is set, and "*" together with that option is one.
	// With AllowCredentials, an http origin or pattern whose host is not a
	// loopback name or address is an error unless
	// [Options.DangerouslyAllowInsecureOrigins] is set.
	//
	// The same list can be given to csrf.Options.TrustedOrigins, which
	// parses it identically.
	//
	// Required unless AllowOriginFunc or DangerouslyAllowNullOrigin is
	// set: there is no default, and an empty list is then an error
	// ([ErrNoAllowedOrigins]).
	AllowedOrigins []string

	// AllowOriginFunc, if set, is asked about every syntactically valid
	// origin (never "null") that AllowedOrigins does not match, and allows
	// it by returning true. It sees only the origin, not the request, so
	// the decision cannot depend on other request headers that Vary would
	// have to name (rs/cors#157). It must be safe for concurrent use and
	// fast. The middleware cannot check what it allows: with
	// AllowCredentials, a function that allows too much is a hole.
	// Default: nil.
	AllowOriginFunc func(origin string) bool

	// DangerouslyAllowNullOrigin allows the opaque origin "null", which
	// sandboxed iframes, file: documents and cross-origin redirects send.
	// Any page can send "null" by sandboxing itself, so this allows every
	// site on the web, with credentials when AllowCredentials is set.
	// Listing "null" in AllowedOrigins without this option is an error.
	// Default: false.
	DangerouslyAllowNullOrigin bool

	// AllowedMethods lists the methods allowed in preflights, besides
	// GET, HEAD and POST, which the CORS protocol always allows. Methods
	// must be tokens, and are compared case-sensitively, as browsers
	// compare Access-Control-Allow-Methods: allowing PATCH does not allow
	// a request made with "patch". DELETE, GET, HEAD, OPTIONS, POST and
	// PUT, which browsers upper-case in any spelling, may be given in any
	// case; PATCH in another case ("patch") is an error, a likely slip
	// that would refuse every browser. CONNECT, TRACE and TRACK are
	// errors. "*", alone, allows every method, and is an error with
	// AllowCredentials (browsers read it literally then).
	// Default: none beyond GET, HEAD and POST.
	AllowedMethods []string

	// AllowedHeaders lists the request header names allowed in
	// preflights, matched case-insensitively. Names a script cannot set
	// (Cookie, Host, Origin, Sec-*, Proxy-*, ...) are errors. "*", alone,
	// allows every header (the requested list is echoed, so it also covers
	// Authorization), and is an error with AllowCredentials. Default: none,
	// so only CORS-safelisted headers can be sent.
	//
	// A preflight's Access-Control-Request-Headers may name the allowed
	// headers in any case and order, on one line or several, with at most
	// one space or tab around each name and 16 empty elements (rs/cors
	// takes only the form browsers send: lower case, sorted, each name
	// once). With "*", the list is echoed only if it is names separated by
	// commas, at most 1 KiB and 80 elements, empty ones included; a longer
	// or malformed one fails the preflight (rs/cors echoes any list).
	AllowedHeaders []string

	// ExposedHeaders lists the response header names scripts of allowed
	// origins may read besides the CORS-safelisted ones. "*", alone,
	// exposes all of them and is an error with AllowCredentials. Default:
	// none: a script then cannot read the Retry-After of a 429 or 503
	// (ratelimit, auth), the RateLimit fields or X-Request-ID (errorsafe;
	// problem bodies carry it as "request_id"); list those it needs.
	ExposedHeaders []string

	// AllowCredentials lets allowed origins send and read requests with
	// cookies, HTTP authentication and client certificates
	// (Access-Control-Allow-Credentials: true). Default: false.
	AllowCredentials bool

	// DangerouslyAllowCredentialsWithAnyOrigin permits "*" in
	// AllowedOrigins together with AllowCredentials. The middleware then
	// echoes every origin with credentials: any website can read what the
	// user can. Default: false.
	DangerouslyAllowCredentialsWithAnyOrigin bool

	// DangerouslyAllowInsecureOrigins permits http origins and patterns on
	// non-loopback hosts together with AllowCredentials. Anyone on the
	// network path of such an origin can impersonate it and read
	// credentialed responses. Default: false.
	DangerouslyAllowInsecureOrigins bool

	// MaxAge is how long browsers may cache a successful preflight, sent
	// in whole seconds in Access-Control-Max-Age. It must be a whole
	// number of seconds between 1s and 24h (browsers cap it lower: Chrome
	// at 2h, Firefox at 24h). Default: 0, the header is omitted and
	// browsers cache for 5 seconds.
	MaxAge time.Duration

	// DisablePreflightCache sends "Access-Control-Max-Age: 0" so browsers
	// do not cache preflights. It is an error together with MaxAge.
	// Default: false.
	DisablePreflightCache bool

	// AllowPrivateNetwork answers preflights carrying
	// "Access-Control-Request-Private-Network: true" (Private Network
	// Access) with "Access-Control-Allow-Private-Network: true". Without
	// it such preflights fail. Default: false.
	AllowPrivateNetwork bool

	// OptionsPassthrough passes every preflight to the next handler after
	// setting the CORS headers (or none, for a failed preflight) instead
	// of answering it. Use it only when the next handler answers OPTIONS
	// itself. PreflightStatus and OnReject, which apply to preflights
	// answered here, are errors with it. Default: false, preflights are
	// answered here.
	OptionsPassthrough bool

	// PreflightStatus is the status of a successful preflight answered
	// here, 200 to 299; an error with OptionsPassthrough. Default: 204 No
	// Content.
	PreflightStatus int

	// OnReject writes the response to a failed preflight. err wraps one of
	// [ErrNoOrigin], [ErrOriginNotAllowed], [ErrMethodNotAllowed],
	// [ErrHeadersNotAllowed] or [ErrPrivateNetworkNotAllowed]; the Vary
	// header is already set on w. Default: a generic 403 problem response
	// (internal/problem) with the reason recorded for logging. Actual
	// (non-preflight) requests from disallowed origins are never
	// rejected: they reach the next handler without CORS headers, and the
	// browser withholds the response from the calling script. The reason
	// is recorded for the access log before OnReject is called, too.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	// It is an error with OptionsPassthrough, which passes failed
	// preflights to the next handler.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// Configuration errors, wrapped in an [*OptionError] by [New].
var (
	// ErrNoAllowedOrigins: none of AllowedOrigins, AllowOriginFunc and
	// DangerouslyAllowNullOrigin is set, and there is no safe default.
	ErrNoAllowedOrigins = errors.New("cors: no allowed origins: set AllowedOrigins or AllowOriginFunc")
	// ErrInvalidOrigin: an entry of AllowedOrigins is not an origin or a
	// valid subdomain pattern.
	ErrInvalidOrigin = errors.New("cors: invalid origin")
	// ErrNullOrigin: "null" is listed without DangerouslyAllowNullOrigin.
	ErrNullOrigin = errors.New(`cors: "null" is allowed only with DangerouslyAllowNullOrigin`)
	// ErrWildcardCredentials: "*" is used with AllowCredentials.
	ErrWildcardCredentials = errors.New(`cors: "*" with AllowCredentials`)
	// ErrInsecureOrigin: an http origin on a non-loopback host is used with
	// AllowCredentials without DangerouslyAllowInsecureOrigins.
	ErrInsecureOrigin = errors.New("cors: http origin with AllowCredentials")
	// ErrInvalidMethod: an entry of AllowedMethods is not an allowed token.
	ErrInvalidMethod = errors.New("cors: invalid method")
	// ErrInvalidHeader: an entry of AllowedHeaders or ExposedHeaders is
	// not a token, or names a header scripts cannot set.
	ErrInvalidHeader = errors.New("cors: invalid header name")
	// ErrInvalidMaxAge: MaxAge is negative, over 24h or not whole seconds.
	ErrInvalidMaxAge = errors.New("cors: invalid MaxAge")
	// ErrInvalidPreflightStatus: PreflightStatus is not a 2xx status.
	ErrInvalidPreflightStatus = errors.New("cors: invalid PreflightStatus")
	// ErrConflict: options contradict each other, or one is never used
	// with another (AllowOriginFunc with "*", OnReject or PreflightStatus
	// with OptionsPassthrough).
	ErrConflict = errors.New("cors: conflicting options")
)

// OptionError describes one invalid field of [Options]. Value is the
// offending configured value (never request data).
type OptionError struct {
	// Field is the name of the Options field, such as "AllowedOrigins".
	Field string
	// Value is the offending configured value, or "" when the problem is
	// the field as a whole.
	Value string
	// Reason explains what is wrong and how to fix it.
	Reason string
	// Err is one of the package's configuration sentinels.
	Err error
}

// Error returns "cors: Options.Field: "value": problem: reason", where
// problem is the sentinel's text ("invalid origin"); the value, when
// empty, and the reason, when empty, are left out.
func (e *OptionError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "cors: ")
	s := "cors: Options." + e.Field
	if e.Value != "" {
		s += ": " + strconv.Quote(e.Value)
	}
	s += ": " + msg
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *OptionError) Unwrap() error { return e.Err }

// Bounds on request header lists (rs/cors#170, GHSA-mh55-gqvf-xfwm).
const (
	maxEmptyElements = 16  // empty list elements tolerated (RFC 9110 §5.6.1.2)
	maxOWS           = 1   // optional white space tolerated around an element
	maxHeaderName    = 128 // longest configurable header name
	maxFew           = 8   // sets up to this size are scanned, not hashed
	maxEchoACRH      = 1024
	maxEchoElements  = 64
)

// maxSlabValue is the longest echoed value kept in a slot of a shared
// headervals slab; a longer one gets a slice of its own.
const maxSlabValue = 256

var forbiddenRequestHeaders = map[string]bool{
	"accept-charset": true, "accept-encoding": true, "access-control-request-headers": true,
	"access-control-request-method": true, "access-control-request-private-network": true,
	"connection": true, "content-length": true, "cookie": true, "cookie2": true, "date": true,
	"dnt": true, "expect": true, "host": true, "keep-alive": true, "origin": true,
	"referer": true, "set-cookie": true, "te": true, "trailer": true,
	"transfer-encoding": true, "upgrade": true, "via": true,
}

// New validates o and returns a Middleware. Every problem is reported,
// each as an [*OptionError], joined with [errors.Join].
func New(o Options) (*Middleware, error) {
	var errs []error
	bad := func(field, value string, sentinel error, reason string) {
		errs = append(errs, &OptionError{Field: field, Value: value, Err: sentinel, Reason: reason})
	}
	// wildcard checks a "*" entry of a method or header list: it must be
	// alone, and browsers take it for a literal name with credentials.
	wildcard := func(field string, list []string, kind string) {
		if o.AllowCredentials {
			bad(field, "*", ErrWildcardCredentials, "browsers read it as a "+kind+" named * with credentials")
		}
		if len(list) > 1 {
			bad(field, "*", ErrConflict, `"*" must be the only entry`)
		}
	}
	m := &Middleware{
		allowFunc:       o.AllowOriginFunc,
		allowNull:       o.DangerouslyAllowNullOrigin,
		credentials:     o.AllowCredentials,
		privateNetwork:  o.AllowPrivateNetwork,
		passthrough:     o.OptionsPassthrough,
		preflightStatus: http.StatusNoContent,
		onReject:        o.OnReject,
	}

	// Origins.
	var entries []origins.Entry
	for _, s := range o.AllowedOrigins {
		switch s {
		case "*":
			m.anyOrigin = true
			continue
		case "null":
			if !o.DangerouslyAllowNullOrigin {
				bad("AllowedOrigins", s, ErrNullOrigin, "any page can send the null origin from a sandboxed iframe")
			}
			continue
		}
		e, err := origins.ParseEntry(s)
		if err != nil {
			bad("AllowedOrigins", s, ErrInvalidOrigin, err.Error())
			continue
		}
		if o.AllowCredentials && !e.Secure() && !o.DangerouslyAllowInsecureOrigins {
			bad("AllowedOrigins", s, ErrInsecureOrigin,
				"a network attacker can impersonate it; use https or set DangerouslyAllowInsecureOrigins")
			continue
		}
		entries = append(entries, e)
	}
	if m.anyOrigin {
		if len(o.AllowedOrigins) > 1 || o.DangerouslyAllowNullOrigin {
			bad("AllowedOrigins", "*", ErrConflict, `"*" must be the only entry`)
		}
		if o.AllowOriginFunc != nil {
			bad("AllowOriginFunc", "", ErrConflict, `AllowOriginFunc is never consulted with "*"`)
		}
		if o.AllowCredentials && !o.DangerouslyAllowCredentialsWithAnyOrigin {
			bad("AllowedOrigins", "*", ErrWildcardCredentials,
				"every website could read what the user can; list origins or set DangerouslyAllowCredentialsWithAnyOrigin")
		}
	}
	if len(o.AllowedOrigins) == 0 && o.AllowOriginFunc == nil && !o.DangerouslyAllowNullOrigin {
		errs = append(errs, &OptionError{Field: "AllowedOrigins", Err: ErrNoAllowedOrigins})
	}
	m.origins = origins.Compile(entries)
	// "*" without credentials is answered with a literal "*", which does not
	// depend on the request's origin; with credentials the origin is echoed.
	m.literalStar = m.anyOrigin && !o.AllowCredentials

	// Methods.
	m.methods = make(map[string]struct{})
	for _, s := range o.AllowedMethods {
		if s == "*" {
			m.anyMethod = true
			wildcard("AllowedMethods", o.AllowedMethods, "method")
			continue
		}
		if !httptoken.IsToken(s) || len(s) > maxHeaderName {
			bad("AllowedMethods", s, ErrInvalidMethod, "not an HTTP token")
			continue
		}
		switch strings.ToUpper(s) {
		case "CONNECT", "TRACE", "TRACK":
			bad("AllowedMethods", s, ErrInvalidMethod, "browsers never allow it")
			continue
		}
		u := normalizeMethod(s)
		if u != "PATCH" && httptoken.EqualFold(u, "PATCH") {
			// Almost surely meant as PATCH, which pages spell so and
			// browsers send as spelled: "patch" would refuse them all.
			bad("AllowedMethods", s, ErrInvalidMethod, `write "PATCH": browsers compare methods other than DELETE, GET, HEAD, OPTIONS, POST and PUT byte for byte`)
			continue
		}
		m.methods[u] = struct{}{}
		m.maxMethod = max(m.maxMethod, len(u))
	}

	// Request headers.
	m.headers = make(map[string]struct{})
	var names []string
	for _, s := range o.AllowedHeaders {
		if s == "*" {
			m.anyHeader = true
			wildcard("AllowedHeaders", o.AllowedHeaders, "header")
			continue
		}
		l := strings.ToLower(s)
		switch {
		case !httptoken.IsToken(s) || len(s) > maxHeaderName:
			bad("AllowedHeaders", s, ErrInvalidHeader, "not an HTTP token of at most 128 bytes")
			continue
		case forbiddenRequestHeaders[l] || strings.HasPrefix(l, "sec-") || strings.HasPrefix(l, "proxy-"):
			bad("AllowedHeaders", s, ErrInvalidHeader, "scripts cannot set this header")
			continue
		}
		if _, dup := m.headers[l]; !dup {
			m.headers[l] = struct{}{}
			names = append(names, l)
			m.maxHeader = max(m.maxHeader, len(l))
		}
	}
	sort.Strings(names)
	m.allowHeadersValue = strings.Join(names, ", ")
	// A few short names are compared one by one, which beats hashing the
	// request's value for a map lookup.
	if len(names) <= maxFew {
		m.fewHeaders = slices.Clone(names)
	}
	if len(m.methods) <= maxFew {
		for u := range m.methods {
			m.fewMethods = append(m.fewMethods, u)
		}
		sort.Strings(m.fewMethods)
	}

	// Exposed headers.
	var exposed []string
	seen := map[string]bool{}
	for _, s := range o.ExposedHeaders {
		if s == "*" {
			wildcard("ExposedHeaders", o.ExposedHeaders, "header")
			exposed = append(exposed, "*")
			continue
		}
		if !httptoken.IsToken(s) || len(s) > maxHeaderName {
			bad("ExposedHeaders", s, ErrInvalidHeader, "not an HTTP token of at most 128 bytes")
			continue
		}
		l := strings.ToLower(s)
		if !seen[l] {
			seen[l] = true
			exposed = append(exposed, l)
		}
	}
	m.exposeValue = strings.Join(exposed, ", ")

	// Preflight cache and status.
	switch {
	case o.MaxAge != 0 && o.DisablePreflightCache:
		bad("MaxAge", o.MaxAge.String(), ErrConflict, "DisablePreflightCache is set too")
	case o.DisablePreflightCache:
		m.maxAgeValue = "0"
	case o.MaxAge < 0 || o.MaxAge > 24*time.Hour || o.MaxAge%time.Second != 0:
		bad("MaxAge", o.MaxAge.String(), ErrInvalidMaxAge, "must be a whole number of seconds between 1s and 24h")
	case o.MaxAge > 0:
		m.maxAgeValue = strconv.FormatInt(int64(o.MaxAge/time.Second), 10)
	}
	if o.PreflightStatus != 0 {
		if o.PreflightStatus < 200 || o.PreflightStatus > 299 {
			bad("PreflightStatus", strconv.Itoa(o.PreflightStatus), ErrInvalidPreflightStatus, "must be between 200 and 299")
		}
		m.preflightStatus = o.PreflightStatus
	}
	if o.OptionsPassthrough {
		// Options of a preflight answered here, never used when the next
		// handler answers it, as AllowOriginFunc is never asked with "*".
		if o.OnReject != nil {
			bad("OnReject", "", ErrConflict, "failed preflights reach the next handler with OptionsPassthrough, and actual requests are never rejected")
		}
		if o.PreflightStatus != 0 {
			bad("PreflightStatus", strconv.Itoa(o.PreflightStatus), ErrConflict, "the next handler answers preflights with OptionsPassthrough")
		}
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// MustNew is like [New] but panics on error. Use it only with constant
// options.
func MustNew(o Options) *Middleware {
	m, err := New(o)
	if err != nil {
		panic(err)
	}
	return m
}

// normalizeMethod upper-cases the methods that fetch normalizes (DELETE,
// GET, HEAD, OPTIONS, POST and PUT, in any case) and returns any other
// method as it is: browsers send the others as the page spelled them, and
// compare the allowed ones byte for byte.
func normalizeMethod(s string) string {
	for _, m := range [...]string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} {
		if httptoken.EqualFold(s, m) {
			return m
		}
	}
	return s
}
