package csrf

import (
	"errors"
	"net/http"
	"strings"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/origins"
	"github.com/httpguard/httpguard/internal/percent"
	"github.com/httpguard/httpguard/internal/problem"
)

// Reasons a request is rejected, returned by [Middleware.Check] and passed
// to [Options.OnReject]. They are constants and never contain request data.
var (
	// ErrCrossOrigin: Sec-Fetch-Site says the request comes from another
	// site (or from a sibling subdomain without AllowSameSite), and its
	// origin is not trusted.
	ErrCrossOrigin = errors.New("csrf: cross-origin request (Sec-Fetch-Site)")
	// ErrOriginMismatch: without Sec-Fetch-Site, the Origin header matches
	// neither the request's own origin (scheme, host and port) nor a
	// trusted origin.
	ErrOriginMismatch = errors.New("csrf: Origin does not match the request's origin")
	// ErrNullOrigin: the Origin is "null", sent by sandboxed documents and
	// after cross-origin redirects; it cannot be trusted.
	ErrNullOrigin = errors.New("csrf: null Origin")
	// ErrMalformedOrigin: the Origin is not in the form browsers send
	// (userinfo, a path, upper case, several values...).
	ErrMalformedOrigin = errors.New("csrf: malformed Origin")
	// ErrTokenMissing: a token is required and none was sent: neither
	// the token header nor the form field, or only an empty value; or
	// the form could not be parsed.
	ErrTokenMissing = errors.New("csrf: token missing")
	// ErrTokenInvalid: a token was sent, in the header or the form field,
	// but it is malformed (wrong length, not base64url, several values),
	// was issued for another session or cookie, or under a retired key;
	// or the token cookie is missing.
	ErrTokenInvalid = errors.New("csrf: token invalid")
	// ErrFormTooLarge: the request carries no token header and its form
	// body, where the token field would be, is larger than
	// [TokenOptions.MaxFormBytes]. The default response is 413 Content
	// Too Large rather than 403.
	ErrFormTooLarge = errors.New("csrf: form too large to find the token")
)

// Middleware rejects unsafe cross-origin requests from browsers. Create
// one with [New]. A Middleware is immutable and safe for concurrent use.
// The zero Middleware is valid and equals New(Options{}); so does a nil
// *Middleware.
type Middleware struct {
	trusted       *origins.Set
	allowSameSite bool
	clientIP      *clientip.Resolver
	publicOrigin  string
	exempt        []exemption
	tokens        *tokenConfig
	onReject      func(http.ResponseWriter, *http.Request, error)
}

// zeroMiddleware stands in for a nil *Middleware, which behaves as the
// zero one. It is never modified.
var zeroMiddleware Middleware

// Handler returns next wrapped in the protection: rejected requests are
// answered by [Options.OnReject] and never reach next. Handler panics if
// next is nil, a programming error found at start-up.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("csrf: Handler called with a nil handler")
	}
	if m == nil {
		m = &zeroMiddleware
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var st *tokenState
		if m.tokens != nil {
			r, st = m.prepareTokens(r)
		} else if isSafe(r) {
			next.ServeHTTP(w, r)
			return
		}
		if err := m.Check(r); err != nil {
			// Recorded before OnReject, as rbac and auth do, so the
			// access log has the reason whoever writes the response.
			problem.SetReason(r, err)
			if m.onReject != nil {
				m.onReject(w, r, err)
				return
			}
			// problem.Reject, its header values in slots of this
			// response's own.
			status := http.StatusForbidden
			if err == ErrFormTooLarge {
				status = http.StatusRequestEntityTooLarge
			}
			problem.WriteInto(w, status, headervals.Take(problem.Slots), false)
			return
		}
		// An unsafe request to an exempt route may come from any site: a
		// cross-site top-level POST arrives without the SameSite=Lax
		// cookie, and a cookie on its response would replace the
		// victim's, as on a rejection.
		if st != nil {
			safe := isSafe(r)
			exempt := !safe && m.isExempt(r)
			if st.newCookie() && !exempt {
				m.tokens.issueCookie(w, st)
			}
			if !safe && !exempt {
				m.takeField(r, st)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Check decides r and returns nil if it may proceed, or an error wrapping
// one of the reasons above. The decision, cheapest step first:
//
//  1. GET, HEAD and OPTIONS pass, unless a _method query parameter asks
//     for another method: such a request is checked as unsafe.
//  2. Sec-Fetch-Site "same-origin" or "none" (a user navigation) passes;
//     "same-site" passes with AllowSameSite. Any other value, or several,
//     is cross-origin: rejected unless the Origin is trusted or the route
//     exempt.
//  3. Without Sec-Fetch-Site, an Origin must equal the request's own
//     origin (scheme, host and port, or ClientIP's public origin) or a
//     trusted origin; "null", userinfo (golang/go#78563) and other
//     malformed values are rejected.
//  4. Without either header the request comes from a non-browser client
//     or a very old browser; it passes unless tokens are configured.
//  5. With tokens, the request must carry a valid one when step 4
//     applied, or always with [TokenOptions.Always].
//
// Exempt routes skip steps 2 to 5. In token mode Check may read the form
// body (at most [TokenOptions.MaxFormBytes]); it is meant to run inside the
// middleware's handler, where the token state is in the context.
func (m *Middleware) Check(r *http.Request) error {
	if m == nil {
		m = &zeroMiddleware
	}
	if isSafe(r) {
		return nil
	}
	return m.checkUnsafe(r)
}

// checkUnsafe runs steps 2 to 5 of [Middleware.Check].
func (m *Middleware) checkUnsafe(r *http.Request) error {
	needToken := m.tokens != nil && m.tokens.always
	sfs := r.Header["Sec-Fetch-Site"]
	originLines := r.Header["Origin"]
	switch {
	case len(sfs) == 1 && (sfs[0] == "same-origin" || sfs[0] == "none"):
	case len(sfs) == 1 && sfs[0] == "same-site" && m.allowSameSite:
	case len(sfs) > 0:
		if len(originLines) == 1 && m.trusted.Match(originLines[0]) {
			break
		}
		if m.isExempt(r) {
			return nil
		}
		return ErrCrossOrigin
	case len(originLines) == 0:
		needToken = m.tokens != nil
	default:
		if err := m.checkOrigin(r, originLines); err != nil {
			if m.isExempt(r) {
				return nil
			}
			return err
		}
	}
	if needToken {
		if m.isExempt(r) {
			return nil
		}
		return m.verifyToken(r)
	}
	return nil
}

// isSafe reports whether r uses a safe method and asks for no other
// through a _method query parameter, the override a cross-site link or
// image can put on a GET. Override headers such as X-HTTP-Method-Override
// are not looked up, which keeps the safe path free of map lookups: a
// cross-site page cannot send them without a CORS preflight the service
// approved, the override middleware of gorilla/handlers, echo and Rack
// rewrites only POST requests, which are checked, and an override
// middleware belongs outside this one (see the package documentation), so
// that the method checked is the method the handler runs.
func isSafe(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return r.URL == nil || r.URL.RawQuery == "" || !hasMethodParam(r.URL.RawQuery)
}

// hasMethodParam reports whether the query has a parameter named _method,
// however it is percent-encoded, as url.ParseQuery would decode it. A
// parameter such as payment_method does not count.
func hasMethodParam(q string) bool {
	if strings.IndexByte(q, '%') < 0 && !strings.Contains(q, "_method") {
		return false
	}
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		key, _, _ := strings.Cut(pair, "=")
		if percent.QueryIs(key, "_method") {
			return true
		}
	}
	return false
}

// checkOrigin compares the Origin header, in the absence of
// Sec-Fetch-Site, with the request's own origin and the trusted origins.
func (m *Middleware) checkOrigin(r *http.Request, lines []string) error {
	if len(lines) != 1 {
		return ErrMalformedOrigin
	}
	o := lines[0]
	if o == "null" {
		return ErrNullOrigin
	}
	scheme, _, _, ok := origins.Parse(o)
	if !ok {
		return ErrMalformedOrigin
	}
	if m.publicOrigin != "" {
		if o == m.publicOrigin {
			return nil
		}
	} else if scheme == m.clientIP.Scheme(r) && sameHost(o[len(scheme)+3:], r.Host, scheme) {
		return nil
	}
	if m.trusted.Match(o) {
		return nil
	}
	return ErrOriginMismatch
}

// sameHost reports whether the host[:port] of a canonical origin equals
// the request's Host, ignoring ASCII case and the scheme's default port,
// without allocating. strings.EqualFold would also fold a Kelvin sign into
// "k" and a long s into "s", so a Host that is another name would match.
func sameHost(originHost, host, scheme string) bool {
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:len(host)-4]
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = host[:len(host)-3]
	}
	return host != "" && httptoken.EqualFold(originHost, host)
}
