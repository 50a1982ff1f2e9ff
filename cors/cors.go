package cors

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/origins"
	"github.com/httpguard/httpguard/internal/problem"
)

// Reasons a request is not granted cross-origin access, returned by
// [Middleware.Check] and passed to [Options.OnReject]. They never contain
// request data.
var (
	// ErrNoOrigin: the request has no Origin header, so it is not a CORS
	// request (or it has several, which no browser sends).
	ErrNoOrigin = errors.New("cors: no Origin header")
	// ErrOriginNotAllowed: the origin is not allowed, or is not in the
	// form browsers send.
	ErrOriginNotAllowed = errors.New("cors: origin not allowed")
	// ErrMethodNotAllowed: the preflight asks for a method that is not
	// allowed.
	ErrMethodNotAllowed = errors.New("cors: method not allowed")
	// ErrHeadersNotAllowed: the preflight asks for a header that is not
	// allowed, or its header list is malformed or too long.
	ErrHeadersNotAllowed = errors.New("cors: request headers not allowed")
	// ErrPrivateNetworkNotAllowed: the preflight asks for Private Network
	// Access, which is not enabled.
	ErrPrivateNetworkNotAllowed = errors.New("cors: private network access not allowed")
)

// Canonical header names, used as map keys so no canonicalization runs per
// request.
const (
	hOrigin   = "Origin"
	hVary     = "Vary"
	hACRM     = "Access-Control-Request-Method"
	hACRH     = "Access-Control-Request-Headers"
	hACRPN    = "Access-Control-Request-Private-Network"
	hACAO     = "Access-Control-Allow-Origin"
	hACAC     = "Access-Control-Allow-Credentials"
	hACAM     = "Access-Control-Allow-Methods"
	hACAH     = "Access-Control-Allow-Headers"
	hACEH     = "Access-Control-Expose-Headers"
	hACMA     = "Access-Control-Max-Age"
	hACAPN    = "Access-Control-Allow-Private-Network"
	varyOther = "Origin"
	// Every response to OPTIONS depends on these: whether it is a
	// preflight at all depends on Access-Control-Request-Method.
	varyOptions = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)

// Middleware answers CORS preflights and adds CORS headers to responses for
// allowed origins. Create one with [New]. A Middleware is immutable and
// safe for concurrent use. The zero Middleware is valid and fails closed:
// it allows no origin, still sets Vary, and rejects every preflight. A nil
// *Middleware behaves as the zero one.
type Middleware struct {
	origins     *origins.Set
	anyOrigin   bool // "*" configured
	literalStar bool // answer "*" (any origin, no credentials)
	allowNull   bool
	allowFunc   func(string) bool
	credentials bool

	methods    map[string]struct{} // as configured; the six fetch upper-cases in upper case
	fewMethods []string            // the same when there are at most maxFew
	anyMethod  bool
	maxMethod  int

	headers           map[string]struct{} // lower case
	fewHeaders        []string            // the same when there are at most maxFew
	anyHeader         bool
	maxHeader         int
	allowHeadersValue string

	exposeValue     string
	maxAgeValue     string
	privateNetwork  bool
	passthrough     bool
	preflightStatus int
	onReject        func(http.ResponseWriter, *http.Request, error)
}

// grant is what a successful preflight answers.
type grant struct {
	origin  string // Access-Control-Allow-Origin
	methods string // Access-Control-Allow-Methods, "" to omit
	headers string // Access-Control-Allow-Headers, "" to omit
	pna     bool
}

// Handler returns next wrapped in the CORS middleware. Preflights
// (OPTIONS with Origin and Access-Control-Request-Method) are answered
// here unless [Options.OptionsPassthrough] is set; every other request
// reaches next, with CORS headers when its origin is allowed. Handler
// panics if next is nil, a programming error found at start-up.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("cors: Handler called with a nil handler")
	}
	if m == nil {
		m = &zeroMiddleware
	}
	return &handler{m: m, next: next}
}

// zeroMiddleware stands in for a nil *Middleware, which behaves as the
// zero one. It is never modified.
var zeroMiddleware Middleware

// handler is what [Middleware.Handler] returns. A struct with a method
// rather than a closure in an http.HandlerFunc spares one call per
// request.
type handler struct {
	m    *Middleware
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		if acrm, ok := r.Header[hACRM]; ok {
			if origin, ok := r.Header[hOrigin]; ok {
				h.m.preflight(w, r, h.next, origin, acrm)
				return
			}
		}
	}
	h.m.actual(w, r, h.next)
}

// Check reports whether the middleware would grant r cross-origin access:
// nil when r carries an allowed Origin and, for a preflight, asks for
// allowed methods, headers and private-network access. Otherwise the error
// wraps [ErrNoOrigin], [ErrOriginNotAllowed], [ErrMethodNotAllowed],
// [ErrHeadersNotAllowed] or [ErrPrivateNetworkNotAllowed]. It is useful
// outside the middleware, for example to check the Origin of a WebSocket
// handshake against the same policy, but only with a list of origins:
// with "*" in AllowedOrigins (and without AllowCredentials) it approves
// every origin, null included, which suits public CORS responses (read
// without cookies) and not a WebSocket handshake, which carries the
// user's cookies. Check does not allocate, except to join several
// Access-Control-Request-Headers lines when AllowedHeaders is "*"
// (browsers send one), and once for an Origin whose host is two or more
// labels under a subdomain pattern's domain, whose public suffix is then
// looked up.
func (m *Middleware) Check(r *http.Request) error {
	if m == nil {
		m = &zeroMiddleware
	}
	if r.Method == http.MethodOptions {
		if acrm, ok := r.Header[hACRM]; ok {
			if origin, ok := r.Header[hOrigin]; ok {
				_, err := m.decidePreflight(r, origin, acrm)
				return err
			}
		}
	}
	_, err := m.allowedOrigin(r.Header[hOrigin])
	return err
}

// responseHeaders are the CORS response headers; [Middleware.ModifyResponse]
// removes a backend's.
var responseHeaders = [...]string{hACAO, hACAC, hACAM, hACAH, hACEH, hACMA, hACAPN}

// ModifyResponse removes every CORS response header
// (Access-Control-Allow-Origin, -Allow-Credentials, -Allow-Methods,
// -Allow-Headers, -Expose-Headers, -Max-Age, -Allow-Private-Network)
// from res.Header, so that the middleware alone decides which origins may
// read a response. Assign it to [net/http/httputil.ReverseProxy]'s
// ModifyResponse when m wraps the proxy: the proxy adds the backend's
// header fields to those m set, so a backend that grants CORS itself
// would grant origins m refuses (one that echoes every Origin with
// credentials lets any site read the user's data), and would break the
// responses m grants, whose Access-Control-Allow-Origin then has two
// values, which browsers reject. Vary is kept: its values add up.
//
// The removal depends on no option: with m in front, CORS is decided by m
// alone, including on preflights that [Options.OptionsPassthrough] lets
// reach the backend. It always returns nil and does not allocate. The
// zero Middleware and a nil *Middleware remove the same headers. It is
// safe for concurrent use.
func (m *Middleware) ModifyResponse(res *http.Response) error {
	for _, k := range responseHeaders {
		delete(res.Header, k)
	}
	return nil
}

// actual handles every request that is not a preflight.
func (m *Middleware) actual(w http.ResponseWriter, r *http.Request, next http.Handler) {
	h := w.Header()
	if m.literalStar && r.Method != http.MethodOptions {
		// The response does not depend on the origin, so no Vary. (A
		// response to OPTIONS still varies on whether it is a preflight.)
		n := 1
		if m.exposeValue != "" {
			n++
		}
		vals := headervals.Take(n)
		vals[0] = "*"
		h[hACAO] = vals[0:1:1]
		if m.exposeValue != "" {
			vals[1] = m.exposeValue
			h[hACEH] = vals[1:2:2]
		}
		next.ServeHTTP(w, r)
		return
	}
	vary := varyOther
	if r.Method == http.MethodOptions {
		vary = varyOptions
	}
	origin, err := m.allowedOrigin(r.Header[hOrigin])
	prev := h[hVary]
	n := len(prev) + 1
	if err == nil {
		n++
		if m.credentials {
			n++
		}
		if m.exposeValue != "" {
			n++
		}
	}
	vals := headervals.Take(n)
	i := putVary(h, vals, prev, vary)
	if err == nil {
		vals[i] = origin
		h[hACAO] = vals[i : i+1 : i+1]
		i++
		if m.credentials {
			vals[i] = "true"
			h[hACAC] = vals[i : i+1 : i+1]
			i++
		}
		if m.exposeValue != "" {
			vals[i] = m.exposeValue
			h[hACEH] = vals[i : i+1 : i+1]
		}
	}
	next.ServeHTTP(w, r)
}

// putVary stores the previous Vary values and v at the start of vals and
// points the Vary header at them. It returns the next free index. The
// names of v that the previous values list already, one set further out
// ("Vary: Origin" from another layer), are not added again.
func putVary(h http.Header, vals, prev []string, v string) int {
	i := 0
	if len(prev) > 0 {
		i = copy(vals, prev) // a call to typedslicecopy, even for nothing
		v = unlisted(prev, v)
	}
	if v != "" {
		vals[i] = v
		i++
	}
	h[hVary] = vals[0:i:i]
	return i
}

// unlisted returns the names of the list v that the Vary values prev do
// not list: v itself when they list none, "" when they list all (or
// "*"). Only a list some of whose names are listed already is built
// anew (found in review: the names were gathered in a new slice even
// when none was listed, an allocation on every preflight behind a layer
// that sets Vary: Accept-Encoding).
func unlisted(prev []string, v string) string {
	listed := false
	for rest := v; rest != "" && !listed; {
		var name string
		name, rest, _ = strings.Cut(rest, ", ")
		listed = httptoken.Varies(prev, name)
	}
	if !listed {
		return v
	}
	var b strings.Builder
	for rest := v; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ", ")
		if !httptoken.Varies(prev, name) {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(name)
		}
	}
	return b.String()
}

func (m *Middleware) preflight(w http.ResponseWriter, r *http.Request, next http.Handler, origin, acrm []string) {
	h := w.Header()
	g, err := m.decidePreflight(r, origin, acrm)
	prev := h[hVary]
	n := len(prev) + 1
	if err == nil {
		n++ // origin
		if m.credentials {
			n++
		}
		if g.methods != "" {
			n++
		}
		if g.headers != "" && len(g.headers) <= maxSlabValue {
			n++
		}
		if m.maxAgeValue != "" {
			n++
		}
		if g.pna {
			n++
		}
	}
	refuse := err != nil && !m.passthrough && m.onReject == nil
	if refuse {
		n += problem.Slots
	}
	vals := headervals.Take(n)
	i := putVary(h, vals, prev, varyOptions)
	if err != nil {
		if m.passthrough {
			problem.SetReason(r, err)
			next.ServeHTTP(w, r)
			return
		}
		problem.SetReason(r, err)
		if m.onReject != nil {
			m.onReject(w, r, err)
			return
		}
		// The generic 403 of problem.Reject, its header values in this
		// response's slots.
		problem.WriteInto(w, http.StatusForbidden, vals[i:], false)
		return
	}
	set := func(key, v string) {
		vals[i] = v
		h[key] = vals[i : i+1 : i+1]
		i++
	}
	set(hACAO, g.origin)
	if m.credentials {
		set(hACAC, "true")
	}
	if g.methods != "" {
		set(hACAM, g.methods)
	}
	if len(g.headers) > maxSlabValue {
		// An echoed list is the client's string: a long one gets a slice
		// of its own, since a slot keeps its string reachable as long as
		// its slab, which an idle server or one long request can keep
		// for good.
		h[hACAH] = []string{g.headers}
	} else if g.headers != "" {
		set(hACAH, g.headers)
	}
	if m.maxAgeValue != "" {
		set(hACMA, m.maxAgeValue)
	}
	if g.pna {
		set(hACAPN, "true")
	}
	if m.passthrough {
		next.ServeHTTP(w, r)
		return
	}
	status := m.preflightStatus
	if status == 0 {
		status = http.StatusNoContent
	}
	w.WriteHeader(status)
}

// allowedOrigin returns the value of Access-Control-Allow-Origin for a
// request whose Origin header lines are vals, or why there is none.
func (m *Middleware) allowedOrigin(vals []string) (string, error) {
	if len(vals) != 1 {
		return "", ErrNoOrigin
	}
	if m.literalStar {
		// Any origin, even an opaque one, may read public responses.
		return "*", nil
	}
	o := vals[0]
	if o == "null" {
		if m.allowNull {
			return o, nil
		}
		return "", ErrOriginNotAllowed
	}
	if m.origins.Match(o) {
		return o, nil
	}
	if m.anyOrigin || m.allowFunc != nil {
		// Only a value in the exact form browsers send is echoed or shown
		// to the function.
		if _, _, _, ok := origins.Parse(o); ok && (m.anyOrigin || m.allowFunc(o)) {
			return o, nil
		}
	}
	return "", ErrOriginNotAllowed
}

// decidePreflight decides a preflight: the origin, then the method, the
// headers and Private Network Access, cheapest first.
func (m *Middleware) decidePreflight(r *http.Request, originVals, acrm []string) (grant, error) {
	var g grant
	origin, err := m.allowedOrigin(originVals)
	if err != nil {
		return g, err
	}
	g.origin = origin
	if len(acrm) != 1 {
		return g, ErrMethodNotAllowed
	}
	method := acrm[0]
	switch {
	case method == http.MethodGet || method == http.MethodHead || method == http.MethodPost:
		// CORS-safelisted: browsers need no Access-Control-Allow-Methods.
	case m.anyMethod && httptoken.IsToken(method):
		g.methods = "*"
	case m.methodAllowed(method):
		g.methods = method
	default:
		return g, ErrMethodNotAllowed
	}
	if lines := r.Header[hACRH]; len(lines) > 0 {
		if m.anyHeader {
			v, ok := echoHeaderList(lines)
			if !ok {
				return g, ErrHeadersNotAllowed
			}
			g.headers = v
		} else {
			nonEmpty, ok := m.acceptHeaders(lines)
			if !ok {
				return g, ErrHeadersNotAllowed
			}
			if nonEmpty {
				g.headers = m.allowHeadersValue
			}
		}
	}
	if v := r.Header[hACRPN]; len(v) == 1 && v[0] == "true" {
		if !m.privateNetwork {
			return g, ErrPrivateNetworkNotAllowed
		}
		g.pna = true
	}
	return g, nil
}

// methodAllowed reports whether method is an allowed method, byte for
// byte, as the browser compares it with Access-Control-Allow-Methods
// (found in review: a case-insensitive match let "patch" through wherever
// PATCH was allowed, and echoed it so that the browser sent it).
func (m *Middleware) methodAllowed(method string) bool {
	if len(method) == 0 || len(method) > m.maxMethod {
		return false
	}
	if m.fewMethods != nil {
		return slices.Contains(m.fewMethods, method)
	}
	_, ok := m.methods[method]
	return ok
}
