package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/hijack"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/storefail"
)

// Defaults applied by [New] to zero [Options] fields.
const (
	// DefaultCookieName is the session cookie's name. The __Host- prefix
	// makes browsers refuse the cookie unless it is Secure, has Path=/ and
	// no Domain, so a sibling subdomain cannot plant or overwrite it.
	DefaultCookieName = "__Host-session"
	// DefaultInsecureCookieName is the name used instead when
	// [Options.DangerouslyAllowInsecureCookie] is set, since browsers
	// reject a __Host- cookie without Secure.
	DefaultInsecureCookieName = "session"
	// DefaultIdleTimeout ends a session after this long without a request
	// (OWASP ASVS 3.3.2, level 2).
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultAbsoluteTimeout ends a session this long after it was
	// created or its user logged in, however active (OWASP ASVS 3.3.2,
	// level 2).
	DefaultAbsoluteTimeout = 12 * time.Hour
	// DefaultMaxBytes bounds the encoded session a changed session may
	// save (see [Options.MaxBytes]): 64 KiB, far more than a session of
	// IDs, flags and short messages needs.
	DefaultMaxBytes = 64 << 10
)

// maxTimeout is the longest timeout applied: a longer IdleTimeout or
// AbsoluteTimeout counts as this long, which keeps every deadline within
// the range of Unix nanoseconds (before the year 2262).
const maxTimeout = 100 * 365 * 24 * time.Hour

// Errors. Every error the middleware passes to [Options.OnReject] wraps one
// of them.
var (
	// ErrStore means the store failed: unreachable, timed out, full. The
	// default response is 503 with Retry-After, never an anonymous session.
	// It has a method Unavailable() bool that reports true, by which
	// errorsafe answers a handler that returns it with 503 too.
	ErrStore = error(storefail.Error("session: store unavailable"))
	// ErrTooLarge means an encoded session does not fit in a 4096-byte
	// cookie ([CookieStore]). The default response is 500: the application
	// put too much in the session.
	ErrTooLarge = errors.New("session: encoded session exceeds the 4096-byte cookie limit")
	// ErrMaxBytes means a change would make a session's encoding larger
	// than [Options.MaxBytes]; nothing was stored. It wraps [ErrTooLarge], so
	// an OnReject that answers ErrTooLarge answers it too. Default: 500.
	// The error passed to OnReject gives the sizes, never the data.
	ErrMaxBytes = error(tooLargeError("session: encoded session exceeds Options.MaxBytes"))
	// ErrEncode means a session value could not be encoded (identity
	// claims or a JSON value that encoding/json rejects). Default: 500.
	ErrEncode = errors.New("session: cannot encode session")
	// ErrHeadersWritten is returned by [Session.Renew] and [Session.Login]
	// once the response headers are out, since the new token could no
	// longer reach the client; it is also recorded as the rejection reason
	// (see internal/problem's Reason) when a change made after the headers
	// cannot be saved.
	ErrHeadersWritten = errors.New("session: response headers already written")
	// ErrNoSession is returned by the methods of a nil *Session: the
	// middleware is not installed on this route.
	ErrNoSession = errors.New("session: no session in the request context")
	// ErrNoSubject is returned by [Session.Login] for an identity without
	// a subject.
	ErrNoSubject = errors.New("session: identity has no subject")
	// ErrOption is wrapped by every [OptionError].
	ErrOption = errors.New("session: invalid option")
)

// tooLargeError is the type of ErrMaxBytes, which wraps ErrTooLarge.
type tooLargeError string

func (e tooLargeError) Error() string { return string(e) }
func (tooLargeError) Unwrap() error   { return ErrTooLarge }

// OptionError describes an invalid option given to a constructor. It wraps
// [ErrOption].
type OptionError struct {
	Field  string // the option's name, e.g. "CookieDomain"
	Reason string // why it was rejected
}

// Error returns "session: option Field: Reason".
func (e *OptionError) Error() string { return "session: option " + e.Field + ": " + e.Reason }

// Unwrap returns [ErrOption].
func (e *OptionError) Unwrap() error { return ErrOption }

// Options configures a [Middleware]. The zero Options is the recommended
// configuration: an in-memory store, a __Host- cookie that is Secure,
// HttpOnly and SameSite=Lax with Path=/, a 30-minute idle timeout and a
// 12-hour absolute timeout, remembered sessions included. [New] copies what it needs; mutating Options
// afterwards has no effect.
type Options struct {
	// Store keeps the sessions. Default: a [MemoryStore] with its default
	// bounds, private to this Middleware.
	Store Store

	// CookieName is the session cookie's name, an RFC 9110 token. Default:
	// [DefaultCookieName] ("__Host-session"), or
	// [DefaultInsecureCookieName] when DangerouslyAllowInsecureCookie is
	// set. A "__Host-" name with CookieDomain set or CookiePath other
	// than "/" is an error, as is a "__Host-" or "__Secure-" name without
	// Secure: browsers would drop the cookie. The prefixes are matched in
	// any case, as RFC 6265bis and browsers match them. So is a name
	// that, with CookiePath and CookieDomain, leaves no room in the
	// 4096 bytes of a cookie for a session ID.
	//
	// A name without the "__Host-" prefix (in that exact case, for older
	// browsers) gives up what the prefix guarantees: a sibling subdomain,
	// or a man in the middle of any plain-http page of the site, can set
	// a cookie of that name for this host with a longer Path, which
	// browsers send first, and the middleware reads the first session
	// cookie of a request: on those paths the user is then served in a
	// session of the planter's choice (its own, signed in: login CSRF),
	// or in none.
	CookieName string
	// CookieDomain is the cookie's Domain attribute, which shares the
	// session with every subdomain. Default: none (host-only), which is
	// what the __Host- prefix requires.
	CookieDomain string
	// CookiePath is the cookie's Path attribute. Default: "/".
	CookiePath string
	// SameSite is the cookie's SameSite attribute. Default (zero or
	// [net/http.SameSiteDefaultMode]): [net/http.SameSiteLaxMode], which
	// keeps the cookie off cross-site subrequests and POSTs. None is
	// allowed only with Secure, which is always set unless
	// DangerouslyAllowInsecureCookie is; Partitioned requires None.
	SameSite http.SameSite
	// PersistentCookie gives the cookie a Max-Age equal to the time left
	// until the session expires, so it survives a browser restart.
	// Default: false, a browser-session cookie, dropped when the browser
	// closes; the server-side timeouts apply either way.
	// [Session.RememberMe] makes one session's cookie persistent, for a
	// "remember me" choice, and gives it RememberMeIdleTimeout and
	// RememberMeAbsoluteTimeout.
	PersistentCookie bool
	// Partitioned adds the Partitioned attribute ([CHIPS]) to the session
	// cookie and to the cookie that expires it on logout, for an
	// application embedded in another site's iframe (a widget, a payment
	// or support frame). Browsers that block third-party cookies still
	// keep and send a partitioned cookie in a cross-site frame, in a jar
	// of its own for each top-level site: the session a frame starts on
	// one site is not the session of the same frame on another site, nor
	// of the application opened directly. A browser deletes a partitioned
	// cookie only on a Set-Cookie that is also Partitioned, which is why
	// every cookie the middleware sets carries the attribute.
	//
	// Partitioned requires SameSite set to [net/http.SameSiteNoneMode]
	// explicitly: browsers neither store a Lax or Strict cookie set in a
	// cross-site frame nor send one there (RFC 6265bis), so the frame
	// would never get a session, while the application opened directly
	// keeps working and hides the mistake. None is not made the default
	// here because it is a choice with a cost to review: the cookie then
	// goes with cross-site requests made from the top-level site of its
	// partition, which the csrf middleware must stop. Partitioned with
	// DangerouslyAllowInsecureCookie is an error too: browsers reject a
	// Partitioned cookie without Secure. Browsers without CHIPS ignore
	// the attribute. Default: false.
	//
	// [CHIPS]: https://developer.mozilla.org/en-US/docs/Web/Privacy/Guides/Third-party_cookies/Partitioned_cookies
	Partitioned bool
	// DangerouslyAllowInsecureCookie omits the Secure attribute, so the
	// cookie is also sent over plain HTTP where anyone on the path can
	// read it. Only for local development without TLS. Default: false.
	DangerouslyAllowInsecureCookie bool

	// IdleTimeout ends a session after this long without a request. It is
	// enforced by the server from the time kept in the session record; to
	// avoid a store write on every request the record is refreshed only
	// once it is older than IdleTimeout/8 or one minute, whichever is
	// shorter, so a session can end up to that much earlier. Default:
	// [DefaultIdleTimeout], or AbsoluteTimeout when that is shorter. Must
	// not be negative or exceed AbsoluteTimeout; more than 100 years
	// counts as 100 years.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created or
	// its user last logged in ([Session.Login]), however active: neither
	// activity nor [Session.Renew] extends it.
	// Default: [DefaultAbsoluteTimeout]. Must not be negative; more than
	// 100 years (math.MaxInt64 for "never") counts as 100 years.
	AbsoluteTimeout time.Duration
	// RememberMeIdleTimeout replaces IdleTimeout for a session whose user
	// chose [Session.RememberMe]: a "remember me for 30 days" box is
	// RememberMeAbsoluteTimeout set to 30 days, with a RememberMeIdleTimeout
	// of a few days or of 30 days too. The choice is kept in the session
	// record, which a [CookieStore] authenticates and a server-side store
	// keeps, so the server applies these timeouts and a client can neither
	// choose nor extend them. Default: IdleTimeout. Must not be negative,
	// shorter than IdleTimeout (a remembered session is never shorter-lived
	// than another) or exceed RememberMeAbsoluteTimeout; more than 100
	// years counts as 100 years.
	RememberMeIdleTimeout time.Duration
	// RememberMeAbsoluteTimeout replaces AbsoluteTimeout for a session
	// whose user chose [Session.RememberMe]. It counts from login, as
	// AbsoluteTimeout does: neither activity nor [Session.Renew] extends
	// it. Default: AbsoluteTimeout. Must not be negative or shorter than
	// AbsoluteTimeout; more than 100 years counts as 100 years.
	//
	// A remembered session is a long-lived bearer credential: keep
	// ValidateLogin, so that a password change or a "sign out everywhere"
	// ends it, and ask for the password again before sensitive actions.
	RememberMeAbsoluteTimeout time.Duration

	// TokenHeader, when set, lets clients that cannot keep cookies carry
	// the session token in this request header instead. A request that
	// has the header (with an empty value before it has a token) is served
	// entirely through it: its cookie is ignored and a new or changed
	// token comes back in the same header of the response, which is empty
	// when the session was destroyed. Browsers keep using the HttpOnly
	// cookie; a script can only obtain a token for a session it started
	// through the header itself. Default: none. Must be a valid header
	// name other than Cookie, Set-Cookie, Authorization and Host, and not
	// one of the CORS-safelisted request headers (Accept,
	// Accept-Language, Content-Language, Content-Type, Range), which any
	// site may send cross-origin.
	TokenHeader string

	// LazyLoad defers loading a session from the store until the handler
	// first uses it, saving a store round trip on requests that do not.
	// The cost: the session's identity is not put in the request context
	// (authorization middleware such as rbac sees no principal; read it
	// with [Session.Identity]), and a store failure found after the
	// handler started is reported by replacing the response with the
	// error response only if the headers are still unsent; once they are
	// out, the handler finds nothing in the session and the failure is
	// only recorded as the request's rejection reason (see
	// internal/problem's Reason): call [Session.Load] before streaming a
	// response that depends on the session. A request that does not use
	// its session does not count as activity either: a user whose
	// requests never touch it is signed out after IdleTimeout. Default:
	// false; a request that carries a token has its session loaded
	// before the handler runs. Requests without a token never touch the
	// store.
	LazyLoad bool

	// MaxBytes bounds the encoded session (the Data of the [Record] the
	// store gets: values, identity and timestamps) that a changed session
	// may save, with every store, so that an application which keeps
	// data a client influences in the session (a cart, a form draft, a
	// flash message echoing input) cannot be made to fill the server's
	// memory or Redis through it. It is checked before the store is
	// called: a save over it stores nothing, the record stored before
	// stays as it was, and the request is answered by OnReject with an
	// error wrapping [ErrMaxBytes] and [ErrTooLarge], a 500 by default
	// (the application put too much in the session: a server-side bug,
	// not the client's fault, and not a store failure to retry). A
	// change made after the response headers went out is dropped the
	// same way and recorded as the request's rejection reason. Only a
	// change that makes the session larger than MaxBytes, and larger
	// than it was in the store, is refused: a session that is only read
	// is never refused, even when its idle deadline is extended, so
	// lowering MaxBytes does not lock out sessions stored before, and
	// they can still be made smaller (a flash message taken, a value
	// deleted). [Session.Renew] and [Session.Login] delete the old
	// record first: when the renewed session is refused, the client is
	// signed out.
	//
	// A [CookieStore] has its own, lower bound: its cookie must fit in
	// 4096 bytes, encrypted and encoded, and a larger one fails with
	// [ErrTooLarge] alone; MaxBytes matters there only if set lower.
	// Default: [DefaultMaxBytes] (64 KiB). Must not be negative.
	MaxBytes int

	// ValidateLogin, when set, is asked whether the login a session holds
	// still stands, on every request that loads a session with one (on
	// the session's first use with LazyLoad), before the identity reaches
	// the request context. id is the identity [Session.Login] stored,
	// loggedIn the time of that login.
	//
	// It is how the other sessions of a user end, which no store can list
	// (OWASP ASVS 3.3.3 and 3.3.4): after a password change, a "sign out
	// everywhere" or a disabled account, answer false for the logins made
	// before it. Compare a version of the user's credentials that the
	// identity's claims carry from Login (read back as JSON values: a
	// number is a float64) with the user's current one, or
	// loggedIn with the time of the change (the clocks of the instances
	// then matter). The request that made the change calls Login again,
	// so that its own session holds a new login and stays.
	//
	// A session answered false is ended at once, as [Session.Destroy]
	// ends it: deleted from the store (its ID revoked in a [CookieStore]),
	// so that it stays ended whatever ValidateLogin answers later, for a
	// copy of the cookie too. The request is then served as one without a
	// session, and the client is not told to drop its cookie, as for an
	// expired session. An error, or a failure to delete, is answered like
	// a store failure: [Options.OnReject] with an error wrapping
	// [ErrStore], 503 by default; the request is never served as the user
	// or as anonymous. It runs on the request's goroutine with the
	// request's context, which does not carry the session being loaded
	// ([FromContext] finds none): keep what it reads cached, since it
	// delays every signed-in request. Default: none; a login stands until
	// its session ends.
	ValidateLogin func(ctx context.Context, id identity.Identity, loggedIn time.Time) (bool, error)

	// OnReject writes the response when the store fails or the session
	// cannot be saved. err wraps [ErrStore], [ErrTooLarge] ([ErrMaxBytes]
	// included) or [ErrEncode].
	// Default: a generic problem response, 503 with Retry-After: 5 for
	// ErrStore and 500 otherwise. It is called with the underlying
	// [net/http.ResponseWriter], before any of the handler's output; when
	// it replaces a response the handler has begun, the header fields
	// describing that response (Content-Disposition, Content-Language,
	// Content-Location, Content-Range, ETag, Last-Modified, Trailer) and
	// its trailers are removed first.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)

	now func() time.Time
}

// Middleware loads, saves and secures sessions. Create it with [New]; the
// zero value, and a nil *Middleware, have no store and answer every
// request with 500 (they fail closed). A Middleware is safe for concurrent
// use.
type Middleware struct {
	store   Store
	remover Remover // store as a Remover, when it is one
	// cookies is the store when it is a CookieStore (or embeds one),
	// whose copies of one session's token carry their own deadlines and
	// expire apart.
	cookies      cookieCopies
	cookieName   string
	cookieAttrs  string // "; Path=/; Secure; HttpOnly; SameSite=Lax", then "; Partitioned" if set
	deleteCookie string // complete Set-Cookie value expiring the cookie
	persistent   bool
	idle         time.Duration
	absolute     time.Duration
	// rememberIdle and rememberAbsolute are the timeouts of a session
	// whose record has the remember flag; equal to idle and absolute
	// unless the options set them.
	rememberIdle     time.Duration
	rememberAbsolute time.Duration
	touchEvery       time.Duration
	tokenHeader      string
	lazy             bool
	maxBytes         int
	validate         func(context.Context, identity.Identity, time.Time) (bool, error)
	onReject         func(http.ResponseWriter, *http.Request, error)
	now              func() time.Time
}

// New validates opts and returns a Middleware. All problems are reported
// together, joined, each as an [*OptionError].
func New(opts Options) (*Middleware, error) {
	var errs []error
	bad := func(field, reason string) { errs = append(errs, &OptionError{Field: field, Reason: reason}) }

	secure := !opts.DangerouslyAllowInsecureCookie
	name := opts.CookieName
	if name == "" {
		name = DefaultCookieName
		if !secure {
			name = DefaultInsecureCookieName
		}
	}
	if !httptoken.IsToken(name) {
		bad("CookieName", "not an RFC 9110 token")
	}
	path := opts.CookiePath
	if path == "" {
		path = "/"
	}
	if !validPath(path) {
		bad("CookiePath", "must start with / and have no control characters or semicolons")
	}
	if opts.CookieDomain != "" && !validDomain(opts.CookieDomain) {
		bad("CookieDomain", "not a host name")
	}
	if httptoken.HasPrefixFold(name, "__Host-") {
		if opts.CookieDomain != "" {
			bad("CookieDomain", "browsers reject a __Host- cookie with a Domain")
		}
		if path != "/" {
			bad("CookiePath", "browsers reject a __Host- cookie whose Path is not /")
		}
	}
	if !secure && (httptoken.HasPrefixFold(name, "__Host-") || httptoken.HasPrefixFold(name, "__Secure-")) {
		bad("DangerouslyAllowInsecureCookie", "browsers reject a __Host- or __Secure- cookie without Secure")
	}
	sameSite := "Lax"
	switch opts.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode:
	case http.SameSiteStrictMode:
		sameSite = "Strict"
	case http.SameSiteNoneMode:
		sameSite = "None"
		if !secure {
			bad("SameSite", "browsers reject SameSite=None without Secure")
		}
	default:
		bad("SameSite", "unknown mode")
	}
	if opts.Partitioned {
		if !secure {
			bad("Partitioned", "browsers reject a Partitioned cookie without Secure, which DangerouslyAllowInsecureCookie drops")
		}
		if opts.SameSite != http.SameSiteNoneMode {
			bad("Partitioned", "requires SameSite=None: browsers neither store nor send a Lax or Strict cookie in a cross-site frame, where a partitioned cookie is needed")
		}
	}
	idle, absolute := opts.IdleTimeout, opts.AbsoluteTimeout
	if absolute == 0 {
		absolute = DefaultAbsoluteTimeout
	}
	if idle == 0 {
		idle = DefaultIdleTimeout
		if absolute > 0 {
			idle = min(idle, absolute)
		}
	}
	if idle < 0 {
		bad("IdleTimeout", "must not be negative")
	}
	if absolute < 0 {
		bad("AbsoluteTimeout", "must not be negative")
	}
	if idle > 0 && absolute > 0 && idle > absolute {
		bad("IdleTimeout", "must not exceed AbsoluteTimeout")
	}
	// Deadlines are Unix nanoseconds: a longer timeout (math.MaxInt64
	// for "never") would overflow them and end every session at once.
	idle, absolute = min(idle, maxTimeout), min(absolute, maxTimeout)
	// A remembered session's timeout: the normal one when zero, never
	// shorter, capped like it.
	remembered := func(field string, v, normal time.Duration, normalField string) time.Duration {
		switch {
		case v < 0:
			bad(field, "must not be negative")
		case v == 0:
			return normal
		case min(v, maxTimeout) < normal:
			bad(field, "must not be shorter than "+normalField+": a remembered session is never shorter-lived than another")
		}
		return min(v, maxTimeout)
	}
	rIdle := remembered("RememberMeIdleTimeout", opts.RememberMeIdleTimeout, idle, "IdleTimeout")
	rAbsolute := remembered("RememberMeAbsoluteTimeout", opts.RememberMeAbsoluteTimeout, absolute, "AbsoluteTimeout")
	if rIdle > 0 && rAbsolute > 0 && rIdle > rAbsolute {
		bad("RememberMeIdleTimeout", "must not exceed RememberMeAbsoluteTimeout (AbsoluteTimeout when that is zero)")
	}
	header := ""
	if opts.TokenHeader != "" {
		header = http.CanonicalHeaderKey(opts.TokenHeader)
		switch {
		case !httptoken.IsToken(header):
			bad("TokenHeader", "not a valid header name")
		case header == "Cookie" || header == "Set-Cookie" || header == "Authorization" || header == "Host":
			bad("TokenHeader", "must not be "+header)
		case corsSafelisted(header):
			// Found in review: another site's page may send these
			// cross-origin without a preflight, and so choose the
			// session of a request that carries one.
			bad("TokenHeader", "must not be "+header+", which any site may send cross-origin without a preflight")
		}
	}
	var attrs strings.Builder
	attrs.WriteString("; Path=")
	attrs.WriteString(path)
	if opts.CookieDomain != "" {
		attrs.WriteString("; Domain=")
		attrs.WriteString(strings.TrimPrefix(opts.CookieDomain, "."))
	}
	if secure {
		attrs.WriteString("; Secure")
	}
	attrs.WriteString("; HttpOnly; SameSite=")
	attrs.WriteString(sameSite)
	if opts.Partitioned {
		// On the deletion cookie too: a Set-Cookie without it would
		// address an unpartitioned cookie and leave this one alone.
		attrs.WriteString("; Partitioned")
	}
	// The largest Set-Cookie a server-side store's session needs; a
	// CookieStore's is larger. (Found in review: a longer one was stored,
	// then answered with ErrTooLarge, on every request that saved.)
	if n := len(name) + len("=") + IDLength + len("; Max-Age=9999999999") + attrs.Len(); n > maxCookieSize {
		field := "CookieName"
		if len(path) > len(name) {
			field = "CookiePath"
		}
		if len(opts.CookieDomain) > max(len(name), len(path)) {
			field = "CookieDomain"
		}
		bad(field, "a session cookie with it would exceed "+strconv.Itoa(maxCookieSize)+" bytes")
	}
	store := opts.Store
	if store == nil {
		ms, err := NewMemoryStore(MemoryOptions{})
		if err != nil {
			errs = append(errs, err)
		}
		store = ms
	}
	maxBytes := opts.MaxBytes
	switch {
	case maxBytes < 0:
		bad("MaxBytes", "must not be negative")
	case maxBytes == 0:
		maxBytes = DefaultMaxBytes
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	touch := min(idle/8, time.Minute)
	remover, _ := store.(Remover)
	cookies, _ := store.(cookieCopies)
	m := &Middleware{
		store:            store,
		remover:          remover,
		cookies:          cookies,
		cookieName:       name,
		cookieAttrs:      attrs.String(),
		deleteCookie:     name + "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:01 GMT" + attrs.String(),
		persistent:       opts.PersistentCookie,
		idle:             idle,
		absolute:         absolute,
		rememberIdle:     rIdle,
		rememberAbsolute: rAbsolute,
		touchEvery:       touch,
		tokenHeader:      header,
		lazy:             opts.LazyLoad,
		maxBytes:         maxBytes,
		validate:         opts.ValidateLogin,
		onReject:         opts.OnReject,
		now:              opts.now,
	}
	if m.onReject == nil {
		m.onReject = defaultReject
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// MustNew is like [New] but panics on error. Use it only with constant
// options.
func MustNew(opts Options) *Middleware {
	m, err := New(opts)
	if err != nil {
		panic(err)
	}
	return m
}

func defaultReject(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrStore) {
		w.Header().Set("Retry-After", "5")
		problem.Reject(w, r, http.StatusServiceUnavailable, err)
		return
	}
	problem.Reject(w, r, http.StatusInternalServerError, err)
}

func storeError(err error) error {
	if errors.Is(err, ErrStore) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrEncode) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

// CookieName returns the name of the session cookie.
// A nil *Middleware, like the zero one, has no cookie name.
func (m *Middleware) CookieName() string {
	if m == nil {
		return ""
	}
	return m.cookieName
}

// ModifyResponse removes from res.Header a backend's Set-Cookie lines for
// a cookie named as the session cookie, and its [Options.TokenHeader]
// header when one is set. Assign it to
// [net/http/httputil.ReverseProxy]'s ModifyResponse (or call it from
// yours) when m wraps the proxy: the proxy adds the backend's header
// fields to the response, and a backend's cookie of the same name
// replaces the session cookie in the browser, logging the user out or
// putting a token of the backend's choice in its place. (When m sets the
// cookie on the same response, its line comes last and wins; on others
// nothing would stop the backend's.) The backend's other cookies are
// kept. Names are compared as browsers do: the text before the first "="
// without surrounding white space, case-sensitively; for a nameless
// cookie ("=name=value"), which browsers send as its value alone, the
// text of the value before its first "=".
//
// It always returns nil and does not allocate; lines are removed in place.
// The zero Middleware removes nothing. It is safe for concurrent use.
func (m *Middleware) ModifyResponse(res *http.Response) error {
	if m == nil || m.cookieName == "" {
		return nil
	}
	if vals, ok := res.Header["Set-Cookie"]; ok {
		n := 0
		for _, v := range vals {
			if !setsCookie(v, m.cookieName) {
				vals[n] = v
				n++
			}
		}
		switch {
		case n == 0:
			delete(res.Header, "Set-Cookie")
		case n < len(vals):
			clear(vals[n:])
			res.Header["Set-Cookie"] = vals[:n]
		}
	}
	if m.tokenHeader != "" {
		delete(res.Header, m.tokenHeader)
	}
	return nil
}

// setsCookie reports whether the Set-Cookie value v sets the cookie name,
// parsed as RFC 6265bis §5.6 says: the name is what precedes the first
// "=" of the part before the first ";", without leading or trailing
// spaces and tabs. A line with an empty name sets a nameless cookie,
// which browsers send in the Cookie header as its value alone, so
// "=name=x" reaches the server as the cookie name with the value x: it
// counts as setting name (found in review: a backend's
// "=session=x; Path=/account" got past ModifyResponse, and RFC 6265bis
// has browsers refuse such a cookie only when its value starts with
// __Host- or __Secure-, which older ones do not).
func setsCookie(v, name string) bool {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	k, val, ok := strings.Cut(v, "=")
	if ok && strings.Trim(k, " \t") == "" {
		k, _, ok = strings.Cut(strings.Trim(val, " \t"), "=")
	}
	return ok && strings.Trim(k, " \t") == name
}

// Token returns the session token r carries, exactly as the middleware
// reads it: from [Options.TokenHeader] when r has that header, otherwise
// from the first well-formed session cookie, and whether there is one.
// With a server-side store the token is the session ID, which makes
// Token the function to bind CSRF tokens to the session
// (csrf.TokenOptions.SessionID). Reading the cookie with
// [http.Request.Cookie] instead can disagree with the middleware on a
// request that carries a malformed cookie of the same name, planted from
// a sibling subdomain, before the real one. Token does not validate the
// token against the store. A nil or zero Middleware finds none.
func (m *Middleware) Token(r *http.Request) (string, bool) {
	if m == nil || m.cookieName == "" {
		return "", false
	}
	tok, _ := m.requestToken(r)
	return tok, tok != ""
}

// requestToken returns the token of r and whether it came in the token
// header.
func (m *Middleware) requestToken(r *http.Request) (token string, viaHeader bool) {
	if m.tokenHeader != "" {
		if v, ok := r.Header[m.tokenHeader]; ok {
			if len(v) > 0 {
				token = v[0]
			}
			return token, true
		}
	}
	token, _ = cookieValue(r.Header, m.cookieName)
	return token, false
}

// state is everything one request needs, allocated at once.
type state struct {
	sess Session
	rw   hijackWriter
	ctx  sessionCtx
}

type ctxKey struct{}

// sessionCtx carries the *Session without a separate context.WithValue
// allocation.
type sessionCtx struct {
	context.Context
	s *Session
}

func (c *sessionCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.s
	}
	return c.Context.Value(key)
}

// FromContext returns the request's session, or nil when the middleware
// is not installed. The getters of a nil *Session report nothing found.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}

// FromRequest returns r's session, or nil; see [FromContext].
func FromRequest(r *http.Request) *Session { return FromContext(r.Context()) }

// Handler returns next wrapped in the session middleware. For each request
// it reads the token from the cookie (or [Options.TokenHeader]), loads the
// session unless [Options.LazyLoad] is set, puts the session and, if
// someone logged in, the [identity.Identity] in the request context, and
// saves the session just before the response headers are written, only if
// it changed or its idle deadline needs extending. A store failure is
// answered by [Options.OnReject] (503 by default), never by serving the
// request as anonymous.
//
// The [net/http.ResponseWriter] passed to next implements Flush,
// io.ReaderFrom and io.StringWriter, and Hijack where the writer it wraps
// can hijack (HTTP/1.x, not HTTP/2), passing them on to that writer, and
// has an Unwrap method, so [net/http.ResponseController] works.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.store == nil {
		// The zero or nil Middleware, which nothing can configure later.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Reject(w, r, http.StatusInternalServerError, ErrNoSession)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{}
		s := &st.sess
		s.m = m
		s.ctx = r.Context()
		s.token, s.viaHeader = m.requestToken(r)
		ctx := context.Context(&st.ctx)
		st.ctx.Context = r.Context()
		st.ctx.s = s
		if s.token != "" && !m.lazy {
			if err := s.load(); err != nil {
				problem.SetReason(r, err)
				m.onReject(w, r, err)
				return
			}
			if s.data.hasIdent {
				ctx = identity.NewContext(ctx, s.data.ident)
			}
		}
		r = r.WithContext(ctx)
		s.ctx = ctx
		st.rw.ResponseWriter = w
		st.rw.st = st
		st.rw.r = r
		if hijack.Possible(w) {
			next.ServeHTTP(&st.rw, r)
		} else {
			next.ServeHTTP(&st.rw.responseWriter, r)
		}
		st.rw.finish()
	})
}

// responseWriter saves the session before the headers go out.
type responseWriter struct {
	http.ResponseWriter
	st      *state
	r       *http.Request
	written bool // headers sent (or replaced by an error response)
	failed  bool // the response was replaced by an error response
}

var errReplaced = errors.New("session: response replaced by an error response")

// before saves the session; it reports false if the handler's response
// must be dropped.
func (rw *responseWriter) before() bool {
	if rw.written {
		return !rw.failed
	}
	rw.written = true
	if err := rw.st.sess.commit(rw.ResponseWriter); err != nil {
		rw.failed = true
		problem.SetReason(rw.r, err)
		problem.DropRepresentation(rw.ResponseWriter.Header(), true)
		rw.st.sess.m.onReject(rw.ResponseWriter, rw.r, err)
		return false
	}
	return true
}

// WriteHeader saves the session, then writes the header. An informational
// status (1xx other than 101) passes straight through, and so does an
// invalid one (under 100 or over 999), on which net/http panics before
// anything is sent: like any panic of the handler, it leaves the session
// unsaved and its cookie off the error response written instead.
func (rw *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols || code < 100 || code > 999 {
		rw.ResponseWriter.WriteHeader(code)
		return
	}
	if rw.before() {
		rw.ResponseWriter.WriteHeader(code)
	}
}

// Write saves the session if the headers are not yet out, then writes b.
func (rw *responseWriter) Write(b []byte) (int, error) {
	if !rw.before() {
		return 0, errReplaced
	}
	return rw.ResponseWriter.Write(b)
}

// Flush saves the session, then flushes.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError saves the session, then flushes; [net/http.ResponseController]
// calls it.
func (rw *responseWriter) FlushError() error {
	if !rw.before() {
		return errReplaced
	}
	return http.NewResponseController(rw.ResponseWriter).Flush()
}

// WriteString is like Write, for io.WriteString: the string reaches the
// WriteString of the wrapped writer without a copy into a new []byte.
func (rw *responseWriter) WriteString(s string) (int, error) {
	if !rw.before() {
		return 0, errReplaced
	}
	return io.WriteString(rw.ResponseWriter, s)
}

// ReadFrom saves the session if the headers are not yet out, then copies
// src with the io.ReaderFrom of the wrapped writer when it has one, so
// that io.Copy and [net/http.ServeContent] still send a file with
// sendfile, as they do without the middleware.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.before() {
		return 0, errReplaced
	}
	if rf, ok := rw.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{rw.ResponseWriter}, src)
}

// writerOnly hides every method but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

// hijackWriter is the responseWriter passed on where the wrapped writer
// can hijack: only there is it an [net/http.Hijacker], as a handler that
// asks w.(http.Hijacker) whether it can take the connection expects.
type hijackWriter struct{ responseWriter }

// Hijack hands the connection over. Nothing can carry a cookie any more,
// so the changes made to the session until then are handled as changes
// made after the headers were written: saved if the token need not change
// (a server-side store), otherwise dropped with [ErrHeadersWritten]
// recorded as the rejection reason. The request still counts as
// activity: the refresh of the idle deadline it was due is saved where
// no new token is needed, and otherwise left undone without a reason. A
// Hijack that fails (HTTP/2) leaves the session to the response the
// handler writes instead.
func (rw *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rw.ResponseWriter).Hijack()
	if err == nil && !rw.written {
		rw.written = true
		rw.st.sess.hijacked()
	}
	return conn, brw, err
}

// Unwrap returns the underlying ResponseWriter.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// finish runs after the handler returned.
func (rw *responseWriter) finish() {
	if !rw.written {
		rw.before()
		return
	}
	if rw.failed {
		// Trailers the handler set after its response was replaced.
		problem.DropTrailers(rw.ResponseWriter.Header())
		return
	}
	if err := rw.st.sess.commitLate(); err != nil {
		problem.SetReason(rw.r, err)
	}
}

// setCookie adds the headers that deliver token to the client.
func (m *Middleware) setToken(w http.ResponseWriter, s *Session, token string, expiry time.Time) {
	h := w.Header()
	if s.viaHeader {
		addHeaders(h, m.tokenHeader, token, m.tokenHeader, true)
		return
	}
	var c string
	switch {
	case token == "":
		c = m.deleteCookie
	case m.persistent || s.data.remember:
		age := max(int64((expiry.Sub(m.now())+time.Second-1)/time.Second), 1)
		c = m.cookieName + "=" + token + "; Max-Age=" + strconv.FormatInt(age, 10) + m.cookieAttrs
	default:
		c = m.cookieName + "=" + token + m.cookieAttrs
	}
	addHeaders(h, "Set-Cookie", c, "Cookie", false)
}

// addHeaders adds name: value (replacing it when replace is set), adds
// vary to Vary unless Vary lists it already (see httptoken.Varies), sets
// Cache-Control: no-store and drops the fields a CDN obeys instead of it
// (see httptoken.DropTargetedCaching), with one allocation for the three values when
// the headers are new. Each header gets its own capacity-limited slice, so
// a later append to one cannot touch another.
func addHeaders(h http.Header, name, value, vary string, replace bool) {
	vals := make([]string, 3)
	vals[0], vals[1], vals[2] = value, vary, "no-store"
	if old := h[name]; len(old) > 0 && !replace {
		h[name] = append(old[:len(old):len(old)], value) // never into a shared slice's spare capacity
	} else {
		h[name] = vals[0:1:1]
	}
	if old := h["Vary"]; len(old) == 0 {
		h["Vary"] = vals[1:2:2]
	} else if !httptoken.Varies(old, vary) {
		h["Vary"] = append(old[:len(old):len(old)], vary)
	}
	h["Cache-Control"] = vals[2:3:3]
	// A CDN obeys its own fields (CDN-Cache-Control, Surrogate-Control)
	// instead of no-store: a handler's would let it keep the cookie
	// (found in review).
	httptoken.DropTargetedCaching(h)
}

// corsSafelisted reports whether the canonical header name is one the
// Fetch standard lets a page send cross-origin without a preflight.
func corsSafelisted(name string) bool {
	switch name {
	case "Accept", "Accept-Language", "Content-Language", "Content-Type", "Range":
		return true
	}
	return false
}
