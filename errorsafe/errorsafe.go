package errorsafe

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/textproto"
	"strconv"
	"unicode/utf8"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/httptoken"
)

// DefaultRequestIDHeader is the header a request ID is read from and echoed
// in when [Options.RequestIDHeader] is empty.
const DefaultRequestIDHeader = "X-Request-ID"

// DefaultMaxRequestIDLength is the longest incoming request ID accepted when
// [Options.MaxRequestIDLength] is zero.
const DefaultMaxRequestIDLength = 64

// maxRequestIDLength is the largest value [Options.MaxRequestIDLength] may
// take, and minRequestIDLength the smallest non-zero one.
const (
	maxRequestIDLength = 200
	minRequestIDLength = 8
)

// Options configures a [Middleware]. The zero Options is the recommended
// default: logs go to [log/slog.Default], client addresses are the direct
// peer's, every request gets a new request ID (an incoming X-Request-ID
// is used only from a trusted proxy of ClientIP, which the zero Options
// has none of), and the credential headers and parameters listed in the
// package documentation are redacted. [New] copies what it needs, so
// mutating an Options after New has no effect.
type Options struct {
	// Logger receives the access, panic, error and security event records.
	// Default: nil, which means the logger returned by [log/slog.Default]
	// at the time of each record, so a later [log/slog.SetDefault] is
	// honoured.
	Logger *slog.Logger

	// ClientIP resolves the client address written in access logs and
	// events, and its trusted proxies are the only peers whose incoming
	// request ID is used (see DangerouslyTrustAnyRequestID). Default: nil,
	// which trusts no proxy, logs the address of the direct peer (see
	// [clientip.Resolver]) and gives every request a new ID.
	ClientIP *clientip.Resolver

	// RequestIDHeader is the request header an incoming request ID is read
	// from and the response header the request ID is echoed in. It must be
	// a valid header name, and not one whose values are redacted (see
	// RedactHeaders: Authorization, Cookie, X-API-Key, a name containing
	// "token" or "key", ...): the request ID is logged in every record
	// and echoed in every response as it is, so a credential sent in
	// that header would be written out in clear. Default:
	// [DefaultRequestIDHeader].
	RequestIDHeader string

	// MaxRequestIDLength is the longest incoming request ID used, in
	// bytes, between 8 and 200. Longer values are replaced by a new
	// ID. Default: [DefaultMaxRequestIDLength].
	MaxRequestIDLength int

	// IgnoreIncomingRequestID makes the middleware generate a request ID
	// for every request and never use an incoming one, even from a
	// trusted proxy. Set it when the proxies of ClientIP assign no IDs
	// and pass on the ones their clients send. It contradicts
	// DangerouslyTrustAnyRequestID: setting both is an error. Default:
	// false, an incoming ID is used when a trusted proxy of ClientIP
	// sends it and it passes the checks described in the package
	// documentation, so that records can be correlated across hops.
	IgnoreIncomingRequestID bool

	// DangerouslyTrustAnyRequestID uses an incoming request ID that
	// passes the checks described in the package documentation whoever
	// sends it, not only a trusted proxy of ClientIP. Any peer that can
	// reach the service can then reuse another request's ID, so that its
	// records pass for that request's in an investigation (log
	// correlation forgery). Set it only when nothing but a gateway that
	// sets the ID can connect (a private network) and the gateway's
	// addresses cannot be listed in ClientIP; listing them is safer.
	// Default: false.
	DangerouslyTrustAnyRequestID bool

	// GenerateRequestID returns a new request ID. A result that is empty,
	// longer than 200 bytes or not made of the characters allowed in
	// incoming IDs is discarded in favour of the built-in generator, so a
	// broken generator can never inject data into headers or logs; so is
	// a panic, which is logged at error level ("request ID generator
	// panicked").
	// Default: nil, 24 characters of lower-case base32 from 120 random
	// bits read from [crypto/rand].
	GenerateRequestID func() string

	// RedactHeaders names additional request headers whose values are
	// replaced by "[REDACTED]" wherever they would be logged. The built-in
	// list (Authorization, Proxy-Authorization, Cookie, Set-Cookie,
	// X-API-Key and names containing "auth", "token", "secret", "key",
	// "passw", "session", "cookie", "credential", "signature", "jwt",
	// "assertion", "dpop", "oidc", "otp", "mfa", "passcode", "pwd" or
	// "passphrase") always applies, and so does the redaction of any
	// header value holding a JWT. Names must be valid header names.
	// Default: none beyond the built-in list.
	RedactHeaders []string

	// RedactParams names additional query and form parameters whose
	// values are redacted wherever they would be logged. Matching ignores
	// case and every byte that is not an ASCII letter or digit, so
	// "account-number" also matches "account_number" and "accountNumber".
	// The built-in list (see [Middleware.RedactQuery]) always applies.
	// Names must hold a letter or digit and be at most 64 bytes long
	// (percent-decoded). Default: none beyond the built-in list.
	RedactParams []string

	// LogHeaders names request headers to add to each access log record,
	// under the group "headers". Values of sensitive headers, and values
	// holding a JWT, are redacted; URL headers (Referer, Origin, Location,
	// and the request target a proxy forwards in X-Forwarded-Uri,
	// X-Original-Uri and the like, see [Middleware.RedactHeader]) have
	// their query and credentials redacted; every value is truncated to
	// 256 bytes.
	// Default: none (User-Agent is always logged, as "user_agent", cut
	// and redacted like the value of a header listed here).
	LogHeaders []string

	// ReplaceMuxErrors makes [Middleware.SafeErrors] (and
	// [Middleware.Handler]) also replace the plain-text 404 and 405
	// bodies written by [net/http.Error], as [net/http.ServeMux] does,
	// with the generic problem response. Headers such as Allow are kept.
	// Default: false, only 5xx bodies are replaced.
	ReplaceMuxErrors bool

	// Errors maps sentinel errors to a status and public message for
	// [HandlerFunc] and [WriteError]. They are tried in order with
	// [errors.Is] after an [*Error] found with [errors.As]. Default: none;
	// the built-in mappings (see [WriteError]) apply after these.
	Errors []ErrorMapping

	// SkipAccessLog, if set, selects requests whose access record is
	// left out, such as a load balancer's health checks every few
	// seconds: it is asked once a request has been answered, and a true
	// drops the record. It is never asked, and the record always kept,
	// for a request that failed: a status of 400 or more, a rejection
	// reason, a panic or an abort, so it cannot hide an attack or an
	// outage. Security events, the panic record and the request ID are
	// unaffected. It runs on the request's goroutine, so it must be fast
	// and safe for concurrent use; a panic in it is recovered and logged,
	// and the record kept. Default: nil, every request is logged.
	SkipAccessLog func(r *http.Request) bool

	// OnEvent, if set, is called synchronously with every security
	// [Event] after it has been logged, for counting and alerting. It
	// runs on the request's goroutine, so it must be fast and safe for
	// concurrent use. A panic in it is recovered and logged. Default: nil.
	OnEvent func(ctx context.Context, ev Event)
}

// ErrorMapping maps a sentinel error to the status and public message
// written when a handler returns an error that [errors.Is] it.
type ErrorMapping struct {
	// Err is the sentinel to match. It must not be nil.
	Err error
	// Status is the HTTP status to answer, 400 to 599.
	Status int
	// Public is sent to the client as the problem "detail". It must be a
	// constant: never request data or an error message. Empty means no
	// detail.
	Public string
}

// ErrOption is wrapped by every error [New] returns.
var ErrOption = errors.New("errorsafe: invalid option")

// OptionError describes one invalid [Options] field. It wraps
// [ErrOption].
type OptionError struct {
	// Field is the name of the Options field, such as "RequestIDHeader"
	// or "Errors[2].Status".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *OptionError) Error() string {
	return "errorsafe: invalid option " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrOption].
func (e *OptionError) Unwrap() error { return ErrOption }

// Middleware provides the errorsafe middlewares sharing one configuration:
// [Middleware.Handler] (all of them, the recommended setup),
// [Middleware.Recover], [Middleware.RequestID], [Middleware.AccessLog] and
// [Middleware.SafeErrors].
//
// A Middleware is immutable and safe for concurrent use. The zero value is
// ready to use and behaves like the result of New(Options{}); so does a
// nil *Middleware.
type Middleware struct {
	c *config
}

// config is the compiled form of Options.
type config struct {
	logger         *slog.Logger
	clientIP       *clientip.Resolver
	idHeader       string // canonical
	maxIDLen       int
	ignoreIncoming bool
	trustAnyID     bool
	genID          func() string
	redactHeaders  map[string]bool // canonical names
	redactParams   map[string]bool // normalized names
	logHeaders     []string        // canonical names
	logHeaderMode  []uint8         // per logHeaders entry: hdrPlain, hdrRedact or hdrURL
	replaceMux     bool
	mappings       []ErrorMapping
	onEvent        func(context.Context, Event)
	skipLog        func(*http.Request) bool
}

var defaultConfig = func() *config {
	c, err := compile(Options{})
	if err != nil {
		panic(err) // unreachable: the zero Options is valid
	}
	return c
}()

// New validates opts and returns a Middleware. Every problem is reported,
// joined with [errors.Join]; each is an [*OptionError].
func New(opts Options) (*Middleware, error) {
	c, err := compile(opts)
	if err != nil {
		return nil, err
	}
	return &Middleware{c: c}, nil
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

func (m *Middleware) conf() *config {
	if m == nil || m.c == nil {
		return defaultConfig
	}
	return m.c
}

func compile(o Options) (*config, error) {
	var errs []error
	bad := func(field, reason string) {
		errs = append(errs, &OptionError{Field: field, Reason: reason})
	}
	c := &config{
		logger:         o.Logger,
		clientIP:       o.ClientIP,
		ignoreIncoming: o.IgnoreIncomingRequestID,
		trustAnyID:     o.DangerouslyTrustAnyRequestID,
		genID:          o.GenerateRequestID,
		replaceMux:     o.ReplaceMuxErrors,
		onEvent:        o.OnEvent,
		skipLog:        o.SkipAccessLog,
		redactHeaders:  make(map[string]bool, len(defaultRedactHeaders)+len(o.RedactHeaders)),
		redactParams:   make(map[string]bool, len(defaultRedactParams)+len(o.RedactParams)),
	}

	c.idHeader = textproto.CanonicalMIMEHeaderKey(DefaultRequestIDHeader)
	if o.RequestIDHeader != "" {
		if !httptoken.IsToken(o.RequestIDHeader) {
			bad("RequestIDHeader", "not a valid header name")
		} else {
			c.idHeader = textproto.CanonicalMIMEHeaderKey(o.RequestIDHeader)
		}
	}

	if o.IgnoreIncomingRequestID && o.DangerouslyTrustAnyRequestID {
		bad("DangerouslyTrustAnyRequestID", "contradicts IgnoreIncomingRequestID, which uses no incoming ID: set one or the other")
	}

	switch n := o.MaxRequestIDLength; {
	case n == 0:
		c.maxIDLen = DefaultMaxRequestIDLength
	case n < minRequestIDLength || n > maxRequestIDLength:
		bad("MaxRequestIDLength", "must be 0 or between "+strconv.Itoa(minRequestIDLength)+" and "+strconv.Itoa(maxRequestIDLength))
	default:
		c.maxIDLen = n
	}

	for _, h := range defaultRedactHeaders {
		c.redactHeaders[textproto.CanonicalMIMEHeaderKey(h)] = true
	}
	for i, h := range o.RedactHeaders {
		if !httptoken.IsToken(h) {
			bad("RedactHeaders["+strconv.Itoa(i)+"]", "not a valid header name")
			continue
		}
		c.redactHeaders[textproto.CanonicalMIMEHeaderKey(h)] = true
	}
	if c.sensitiveHeader(c.idHeader) {
		// The ID is logged and echoed unredacted: an API key or token
		// sent in this header would be written to every record.
		bad("RequestIDHeader", "names a header whose values are redacted (a credential): the request ID is logged and echoed in clear")
	}

	for _, p := range defaultRedactParams {
		n, _ := normalizeParam(p)
		c.redactParams[n] = true
	}
	for i, p := range o.RedactParams {
		n, ok := normalizeParam(p)
		if n == "" || !ok {
			bad("RedactParams["+strconv.Itoa(i)+"]", "must be a name of at most "+strconv.Itoa(maxKeyLen)+" bytes with a letter or digit")
			continue
		}
		c.redactParams[n] = true
	}

	seen := make(map[string]bool, len(o.LogHeaders))
	for i, h := range o.LogHeaders {
		if !httptoken.IsToken(h) {
			bad("LogHeaders["+strconv.Itoa(i)+"]", "not a valid header name")
			continue
		}
		h = textproto.CanonicalMIMEHeaderKey(h)
		if !seen[h] {
			seen[h] = true
			c.logHeaders = append(c.logHeaders, h)
		}
	}
	for _, h := range c.logHeaders {
		mode := hdrPlain
		switch {
		case c.sensitiveHeader(h):
			mode = hdrRedact
		case urlHeaders[h]:
			mode = hdrURL
		}
		c.logHeaderMode = append(c.logHeaderMode, mode)
	}

	for i, mp := range o.Errors {
		field := "Errors[" + strconv.Itoa(i) + "]"
		if mp.Err == nil {
			bad(field+".Err", "must not be nil")
		}
		if !validStatus(mp.Status) {
			bad(field+".Status", "must be an error status between 400 and 599 with a standard status text")
		}
		if !safePublic(mp.Public) {
			bad(field+".Public", "must be valid UTF-8 without control characters, at most 200 bytes")
		}
	}
	c.mappings = append([]ErrorMapping(nil), o.Errors...)

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// validStatus reports whether code is a 4xx or 5xx status with a standard
// status text.
func validStatus(code int) bool {
	return code >= 400 && code <= 599 && http.StatusText(code) != ""
}

// safePublic reports whether s may be sent as a public message: short,
// valid UTF-8 and free of control characters.
func safePublic(s string) bool {
	if len(s) > 200 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// log returns the logger to use for one record.
func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}
