package csrf

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/keycheck"
	"github.com/httpguard/httpguard/internal/origins"
)

// Options configures a [Middleware]. The zero Options is the recommended
// protection: Fetch Metadata and Origin checks, no trusted origin, no
// exemption, no tokens. [New] copies and compiles the Options, so mutating
// them after New has no effect.
type Options struct {
	// TrustedOrigins are other origins allowed to send unsafe requests:
	// exact origins ("https://admin.example.com") and subdomain patterns
	// ("https://*.example.com") with the syntax of cors.Options
	// AllowedOrigins, so one list can configure both. An origin is matched
	// on its scheme, host and port (gorilla/csrf's CVE-2025-47909 trusted
	// http://host when https://host was meant). "*" and "null" are errors:
	// they would trust every site. So is an http origin or pattern whose
	// host is not a loopback name or address, unless
	// DangerouslyTrustInsecureOrigins is set. Default: none.
	TrustedOrigins []string

	// DangerouslyTrustInsecureOrigins permits http origins and patterns
	// on non-loopback hosts in TrustedOrigins. Anyone on the network path
	// of such an origin can serve a page from it that sends unsafe
	// requests the checks then accept. Default: false.
	DangerouslyTrustInsecureOrigins bool

	// AllowSameSite accepts requests with "Sec-Fetch-Site: same-site":
	// from other subdomains of the same registrable domain. Subdomains are
	// often less trusted (user content, legacy apps), so the default
	// rejects them unless their origin is in TrustedOrigins. Default:
	// false.
	AllowSameSite bool

	// ClientIP resolves the scheme and host the client used, for
	// comparing an Origin header with the request's own origin when
	// Sec-Fetch-Site is absent. Behind a TLS-terminating proxy, configure
	// it: clientip.Options.TrustedProxies, so the scheme comes from the
	// proxy's X-Forwarded-Proto or Forwarded header, or
	// clientip.Options.PublicOrigin, which also covers a proxy that
	// rewrites Host. Without it r.TLS is nil, so the request's own origin
	// is taken as http://host: browsers without Sec-Fetch-Site then have
	// their same-origin requests from the https site rejected
	// (Origin https://host), and requests from an http page of the same
	// host accepted (Origin http://host), a page anyone on the network
	// path can serve where HSTS is not in force. Default: nil, direct
	// connections only.
	ClientIP *clientip.Resolver

	// Exempt lists routes that skip every check, for endpoints that must
	// accept cross-site requests (webhooks, SAML and OAuth form posts).
	// Each needs a Reason. A route matches a request whose path equals its
	// path exactly, with no escaped characters, a {name} wildcard standing
	// for one non-empty segment (see [Exemption]); a path ServeMux would
	// clean or redirect ("/hooks/", "/hooks//x", "/hooks/../x") never
	// matches (CVE-2025-47910). An unsafe request to an exempt route is
	// never issued a token cookie, since it may come from any site: when
	// it carried none, a form its handler renders has a token that no
	// cookie matches, so answer such a request with a redirect
	// (post-redirect-get). Default: none.
	Exempt []Exemption

	// Tokens enables synchronizer tokens for clients that send neither
	// Sec-Fetch-Site nor Origin (old browsers) or, with
	// [TokenOptions.Always], for every unsafe request. Default: nil, no
	// tokens; such requests are assumed to come from non-browser clients
	// and pass, as with net/http's CrossOriginProtection.
	//
	// With Tokens set, such a request needs a token even when Always is
	// false, and command-line, mobile and server-to-server clients send
	// neither header either: a Middleware with tokens refuses their unsafe
	// requests (a POST to an OAuth2 token endpoint, a bearer-token API
	// call) with [ErrTokenMissing]. Put it on the routes that serve forms
	// to browsers, and a Middleware without tokens in the stack for every
	// route (see the example of TokenOptions).
	Tokens *TokenOptions

	// OnReject writes the response to a rejected request. err wraps one
	// of [ErrCrossOrigin], [ErrOriginMismatch], [ErrNullOrigin],
	// [ErrMalformedOrigin], [ErrTokenMissing], [ErrTokenInvalid] or
	// [ErrFormTooLarge]. The reason is recorded for the access log
	// (errorsafe's RejectReason) before OnReject is called. Default: a
	// generic 403 problem response (internal/problem), 413 for
	// ErrFormTooLarge. Never echo request data in the response.
	// A rejected response never issues the token cookie, so a form
	// OnReject renders with [Token] for a client that had no valid token
	// cookie cannot be submitted: link or redirect to the form's page
	// instead.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// Exemption is one route that skips cross-origin checks.
type Exemption struct {
	// Pattern is "[METHOD ]/path", such as "POST /webhooks/stripe" or
	// "POST /hooks/{provider}". The method is an upper-case token,
	// compared byte for byte with the request's, as ServeMux compares it;
	// without a method, every method matches. GET, HEAD and OPTIONS are
	// refused: those requests pass without an exemption, and one naming
	// them would exempt only a request that asks for another method with
	// a _method query parameter. The path must be clean,
	// with no trailing slash but for "/" (which is the root alone, not
	// ServeMux's whole site), and contain no '%', '?', '#', space or tab,
	// nor an ASCII character net/url escapes ('*', '!', '(', '|', …),
	// which requests would carry unescaped and so never match.
	//
	// A segment may be a wildcard, {name} with name a Go identifier used
	// once in the pattern, as in ServeMux: it matches exactly one
	// segment of the request's path, never an empty one (as in
	// "/hooks//x"), "." or "..". Everything else stays exact, unlike
	// ServeMux, which redirects unclean paths and adds trailing slashes
	// (CVE-2025-47910): "/t/{tenant}/hooks/stripe" exempts
	// "/t/acme/hooks/stripe" and not "/t/acme/hooks/stripe/",
	// "/t//hooks/stripe" nor "/t/x/../hooks/stripe". A request whose path
	// has an escape net/url would not write ("/hooks/a%2Fb",
	// "/hooks/%73tripe") or a character it escapes, sent as is
	// ("/hooks/a*b"), matches no exemption and is checked as any other
	// request is, so an encoded slash never splits or joins segments.
	//
	// Subtrees are refused: a trailing slash ("/hooks/") and a
	// {name...} wildcard, because they would exempt every route later
	// added under them, unreviewed. So is {$}, which exact matching makes
	// needless ("/hooks/{$}" is "/hooks/" in ServeMux). Exemptions that
	// overlap, such as "POST /hooks/{provider}" and "POST /hooks/github",
	// are accepted, where ServeMux would pick one: each exempts what it
	// matches, and a request is exempt if any matches.
	//
	// A wildcard exempts every path of its shape, whichever route
	// ServeMux gives it: "POST /hooks/{provider}" exempts POST
	// /hooks/settings too, though ServeMux sends it to a more specific
	// "POST /hooks/settings" if there is one, now or added later, and
	// that handler then gets cross-site requests unchecked. Keep the
	// routes that need the protection out of an exempt shape (under
	// another prefix), or list the exempt routes literally.
	Pattern string
	// Reason says why the route must accept cross-site requests. It is
	// required, for review.
	Reason string
}

// TokenOptions configures tokens. Tokens are derived, not stored: an HMAC
// of the session identifier (when [TokenOptions.SessionID] reports one) or
// of a random value kept in a cookie (signed double-submit), masked with a
// fresh random value on every call to [Token] so the page never carries the
// same bytes twice (BREACH).
type TokenOptions struct {
	// Key is the HMAC key, at least 32 random bytes. Required. A key of
	// all zero bytes (a buffer never filled) is an error: anyone could
	// compute the token of a session or cookie they know.
	Key []byte
	// PreviousKeys still verify tokens during a key rotation. Each is
	// checked as Key is. Default: none, only Key verifies.
	PreviousKeys [][]byte
	// SessionID returns a stable identifier of the request's session,
	// and whether there is one. Tokens of a session are then valid only
	// in that session. Without a session (or with a nil SessionID), tokens
	// are bound to the token cookie instead. It must be safe for
	// concurrent use. Default: nil, every token is bound to the token
	// cookie.
	//
	// The middleware runs outside the session middleware, so SessionID
	// reads the request itself. With a server-side session store (the
	// memory store or session/redisstore) the session token is the
	// session ID; session.Middleware.Token reads it as the session
	// middleware does:
	//
	//	SessionID: sessions.Token,
	//
	// (Reading the cookie with r.Cookie can disagree with the session
	// middleware when a sibling subdomain plants a malformed cookie of the
	// same name: found in review. A __Host- session cookie, the default,
	// cannot be planted.)
	//
	// The session ID changes when a session starts (the first value
	// stored), when Login or Renew gives it a new one, and when it ends
	// (Destroy). A token is valid for the binding of the request that
	// rendered it, so across such a change:
	//
	//   - A form rendered before the session started carries a token
	//     bound to the token cookie, including a form rendered in the
	//     response that starts the session. It keeps working once the
	//     session exists, as long as that cookie lasts (it is a browser
	//     session cookie), provided the cookie cannot be planted by a
	//     sibling subdomain: CookieName starts with "__Host-" in that
	//     exact case (the default does) and DangerouslyAllowInsecureCookie
	//     is false.
	//     With any other cookie such forms are rejected once the session
	//     starts.
	//   - SessionID reads the request, not the session store: a request
	//     whose session cookie names no live session (it idled out, ended
	//     in another tab, or was lost with a memory store's restart) has
	//     its tokens bound to that dead ID, and gets no token cookie. A
	//     form rendered by its response is rejected once the response
	//     has started a new session (stored a value, or logged in), since
	//     the form comes back with the new session's cookie: start a
	//     session on a request that answers with a redirect
	//     (post-redirect-get), and render the form on the next one.
	//   - [Token] with a session always returns a session-bound token, so
	//     forms rendered during a session stop working when its ID
	//     changes (Login, Renew, Destroy): render the form again.
	//   - A form rendered in the response that ends a session (logout)
	//     carries a token of the ended session, which no later request
	//     has: render it on the next request instead, after a redirect
	//     (post-redirect-get).
	//
	// With a session.CookieStore the cookie changes whenever the session
	// is saved, which would void the tokens already on a page: leave
	// SessionID nil there, and tokens use the signed cookie.
	SessionID func(r *http.Request) (string, bool)
	// Always requires a token on every unsafe request that is not exempt,
	// in addition to the Fetch Metadata and Origin checks. Default: false,
	// a token is required only when the request carries neither
	// Sec-Fetch-Site nor Origin. Non-browser clients then need a token
	// too, or an exemption.
	Always bool
	// CookieName names the token cookie. Default: "__Host-csrf", which
	// browsers accept only with Secure, Path=/ and no Domain, so a
	// subdomain cannot plant one. A cookie without that exact prefix can
	// be planted by a sibling subdomain (or a man in the middle of any
	// plain-http page of the site), together with a token for it: tokens
	// bound to it then protect only what the Fetch Metadata and Origin
	// checks already do.
	CookieName string
	// DangerouslyAllowInsecureCookie drops the Secure attribute, for
	// development over plain http, where anyone on the path can read and
	// set the cookie; named as session.Options names the same switch.
	// CookieName then defaults to "csrf"; a "__Host-" or "__Secure-" name
	// is an error. Default: false.
	DangerouslyAllowInsecureCookie bool
	// Partitioned makes the token cookie a partitioned cookie ([CHIPS])
	// with SameSite=None instead of SameSite=Lax, for an application
	// embedded in another site's iframe that uses tokens there. Browsers
	// neither store nor send a Lax cookie in a cross-site frame, so each
	// page of the frame would issue a new cookie, and its form would post
	// a token that no cookie the browser sends matches (without a session
	// every token is bound to this cookie). SameSite does not protect the
	// tokens: a forged request needs a token, an HMAC of the cookie's
	// value under Key that the forging page cannot read, and a browser's
	// forged request is rejected on its Fetch Metadata first. The
	// partition keeps the cookie of one embedding site from the frames of
	// another. The middleware never deletes the cookie, so no deletion
	// needs the attribute. Partitioned with DangerouslyAllowInsecureCookie
	// is an error: browsers reject a Partitioned cookie without Secure.
	// Bind tokens to a session whose cookie is partitioned too
	// (session.Options.Partitioned). Default: false.
	//
	// [CHIPS]: https://developer.mozilla.org/en-US/docs/Web/Privacy/Guides/Third-party_cookies/Partitioned_cookies
	Partitioned bool
	// FieldName is the form field read for the token, when the header is
	// absent and the body is application/x-www-form-urlencoded or
	// multipart/form-data. The middleware then parses the form, so
	// handlers must read it through r.PostForm or r.FormValue (or
	// sanitize.DecodeForm, which decodes the parsed form), not from
	// r.Body; the token field itself is taken out of the parsed form once
	// read. The application/x-www-form-urlencoded form of an unsafe
	// request that passes without the token being read from it (a
	// current browser's without Always, or one with the token in the
	// header) is parsed too, to take the field out, when its
	// Content-Length is at most MaxFormBytes and its route is not exempt,
	// and its body is then given back to r.Body as sent; a larger body,
	// one that does not parse, and a multipart body (which a handler may
	// stream with r.MultipartReader) are left to the handler.
	// Tokens are never read from the query string, which leaks into logs
	// and Referer. Default: "csrf_token".
	FieldName string
	// HeaderName is the request header read for the token before the
	// form. Default: "X-CSRF-Token".
	HeaderName string
	// MaxFormBytes bounds the body read to find the form field. A request
	// that needs a token (see Always) and sends none in the header is
	// rejected with [ErrFormTooLarge] (413 by default) when its form body
	// is larger: the field could not be read. The bodies of other
	// requests are not limited; a larger one is only not read (see
	// FieldName). Default: 1 MiB.
	MaxFormBytes int64
}

// Configuration errors, wrapped in an [*OptionError] by [New].
var (
	// ErrInvalidTrustedOrigin: an entry of TrustedOrigins is not an origin
	// or a valid subdomain pattern, is "*" or "null", or is an http origin
	// on a non-loopback host without DangerouslyTrustInsecureOrigins.
	ErrInvalidTrustedOrigin = errors.New("csrf: invalid trusted origin")
	// ErrInvalidExemption: an exemption has no reason, or its pattern is
	// not a clean path of literal segments and {name} wildcards: it has
	// a safe method (GET, HEAD, OPTIONS), a trailing slash, a {name...}
	// or {$} wildcard, a wildcard that is
	// not a whole segment, or whose name is not a Go identifier or is
	// used twice.
	ErrInvalidExemption = errors.New("csrf: invalid exemption")
	// ErrInvalidTokenOptions: a key is shorter than 32 bytes or all zero
	// bytes, a cookie, field or header name is invalid, MaxFormBytes is
	// negative, or DangerouslyAllowInsecureCookie is set with Partitioned
	// or a "__Host-" or "__Secure-" CookieName.
	ErrInvalidTokenOptions = errors.New("csrf: invalid token options")
)

// OptionError describes one invalid field of [Options]. Value is the
// offending configured value.
type OptionError struct {
	// Field is the name of the Options field, such as "TrustedOrigins",
	// with the index of an Exempt entry ("Exempt[2]") and the path of a
	// TokenOptions field ("Tokens.Key", "Tokens.PreviousKeys[0]").
	Field string
	// Value is the offending configured value, or "" when the problem is
	// the field as a whole.
	Value string
	// Reason explains what is wrong and how to fix it.
	Reason string
	// Err is one of the package's configuration sentinels.
	Err error
}

// Error returns "csrf: Options.Field: "value": problem: reason", where
// problem is the sentinel's text ("invalid exemption"); the value, when
// empty, and the reason, when empty, are left out.
func (e *OptionError) Error() string {
	s := "csrf: Options." + e.Field
	if e.Value != "" {
		s += ": " + strconv.Quote(e.Value)
	}
	s += ": " + strings.TrimPrefix(e.Err.Error(), "csrf: ")
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *OptionError) Unwrap() error { return e.Err }

// New validates o and returns a Middleware. Every problem is reported,
// each as an [*OptionError], joined with [errors.Join].
func New(o Options) (*Middleware, error) {
	var errs []error
	bad := func(field, value string, sentinel error, reason string) {
		errs = append(errs, &OptionError{Field: field, Value: value, Err: sentinel, Reason: reason})
	}
	m := &Middleware{
		allowSameSite: o.AllowSameSite,
		clientIP:      o.ClientIP,
		onReject:      o.OnReject,
	}
	if po, ok := o.ClientIP.PublicOrigin(); ok {
		m.publicOrigin = po
	}

	var entries []origins.Entry
	for _, s := range o.TrustedOrigins {
		e, err := origins.ParseEntry(s)
		if err != nil {
			bad("TrustedOrigins", s, ErrInvalidTrustedOrigin, err.Error())
			continue
		}
		if !e.Secure() && !o.DangerouslyTrustInsecureOrigins {
			// Found in review: a network attacker can serve an http
			// origin, which is also same-site with an https app.
			bad("TrustedOrigins", s, ErrInvalidTrustedOrigin, "an http origin on a non-loopback host can be served by anyone on the network path: use https, or set DangerouslyTrustInsecureOrigins")
			continue
		}
		entries = append(entries, e)
	}
	if len(entries) > 0 {
		m.trusted = origins.Compile(entries)
	}

	for i, e := range o.Exempt {
		field := "Exempt[" + strconv.Itoa(i) + "]"
		ex, reason := parseExemption(e.Pattern)
		if reason != "" {
			bad(field, e.Pattern, ErrInvalidExemption, reason)
			continue
		}
		if strings.TrimSpace(e.Reason) == "" {
			bad(field, e.Pattern, ErrInvalidExemption, "a Reason is required")
			continue
		}
		ex.reason = e.Reason
		m.exempt = append(m.exempt, ex)
	}

	if t := o.Tokens; t != nil {
		tc := &tokenConfig{
			sessionID:   t.SessionID,
			always:      t.Always,
			cookieName:  t.CookieName,
			secure:      !t.DangerouslyAllowInsecureCookie,
			partitioned: t.Partitioned,
			sameSite:    http.SameSiteLaxMode,
			fieldName:   t.FieldName,
			headerName:  http.CanonicalHeaderKey(t.HeaderName),
			maxForm:     t.MaxFormBytes,
		}
		checkKey := func(field string, k []byte) {
			switch {
			case len(k) < 32:
				bad(field, "", ErrInvalidTokenOptions, "at least 32 random bytes are required")
			case keycheck.AllZero(k):
				// A buffer never filled: anyone can derive the
				// token of a binding they know.
				bad(field, "", ErrInvalidTokenOptions, "is all zero bytes: use 32 random bytes")
			}
		}
		checkKey("Tokens.Key", t.Key)
		tc.keys = append(tc.keys, append([]byte(nil), t.Key...))
		for i, k := range t.PreviousKeys {
			checkKey("Tokens.PreviousKeys["+strconv.Itoa(i)+"]", k)
			tc.keys = append(tc.keys, append([]byte(nil), k...))
		}
		if tc.cookieName == "" {
			tc.cookieName = "__Host-csrf"
			if !tc.secure {
				tc.cookieName = "csrf"
			}
		}
		switch {
		case !httptoken.IsToken(tc.cookieName):
			bad("Tokens.CookieName", tc.cookieName, ErrInvalidTokenOptions, "not a cookie name")
		case !tc.secure && (httptoken.HasPrefixFold(tc.cookieName, "__Host-") || httptoken.HasPrefixFold(tc.cookieName, "__Secure-")):
			// Browsers match the prefixes in any case (RFC 6265bis).
			bad("Tokens.CookieName", tc.cookieName, ErrInvalidTokenOptions, "browsers drop prefixed cookies without Secure")
		}
		if tc.partitioned {
			tc.sameSite = http.SameSiteNoneMode
		}
		if tc.partitioned && !tc.secure {
			bad("Tokens.Partitioned", "", ErrInvalidTokenOptions, "browsers reject a Partitioned cookie without Secure, which DangerouslyAllowInsecureCookie drops")
		}
		// A sibling subdomain could plant a cookie of any other name (or
		// without Secure) holding a nonce it knows, and get a token for it
		// by fetching a page with that cookie itself: accepting
		// cookie-bound tokens from a request with a session would then be
		// a forgery against logged-in users. The prefix is matched in its
		// exact case: browsers match it in any case only in recent
		// versions (RFC 6265bis), and older ones, some of which send
		// neither Sec-Fetch-Site nor Origin on form posts (Firefox before
		// 70) and so rely on the token, let a sibling plant "__HOST-csrf".
		tc.cookieFallback = tc.secure && strings.HasPrefix(tc.cookieName, "__Host-")
		if tc.fieldName == "" {
			tc.fieldName = "csrf_token"
		}
		if !isFieldName(tc.fieldName) {
			bad("Tokens.FieldName", tc.fieldName, ErrInvalidTokenOptions, "use letters, digits, '-' and '_'")
		}
		if tc.headerName == "" {
			tc.headerName = "X-Csrf-Token"
		}
		if !httptoken.IsToken(tc.headerName) {
			bad("Tokens.HeaderName", t.HeaderName, ErrInvalidTokenOptions, "not a header name")
		}
		if tc.maxForm == 0 {
			tc.maxForm = 1 << 20
		}
		if tc.maxForm < 0 {
			bad("Tokens.MaxFormBytes", strconv.FormatInt(tc.maxForm, 10), ErrInvalidTokenOptions, "must be positive")
		}
		m.tokens = tc
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

func isFieldName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
