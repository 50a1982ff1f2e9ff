package headers

import (
	"errors"
	"strconv"
	"strings"
)

// Errors returned by [New], [ParseSource] and [NewReportHandler], always
// wrapped in an [*OptionError] that names the offending field and value.
var (
	// ErrSource reports a CSP source expression that does not parse.
	ErrSource = errors.New("headers: invalid CSP source expression")
	// ErrUnquotedKeyword reports a CSP keyword written without its single
	// quotes, such as self for 'self': browsers read it as a host name.
	ErrUnquotedKeyword = errors.New("headers: CSP keyword without single quotes")
	// ErrNonceSource reports a fixed 'nonce-…' source: a nonce must be new on
	// every response, so set CSP.ScriptNonce or CSP.StyleNonce instead.
	ErrNonceSource = errors.New("headers: fixed CSP nonce source")
	// ErrUnsafeSource reports a source that disables the protection of its
	// directive while CSP.DangerouslyAllowUnsafe is false: for scripts,
	// 'unsafe-inline' without a nonce or hash, 'unsafe-eval',
	// 'unsafe-hashes', data: or a source matching any host; in object-src,
	// data: or a source matching any host; in base-uri, a source matching
	// any host when a nonce or hash allows scripts or styles; anywhere,
	// an http: or ftp: source.
	ErrUnsafeSource = errors.New("headers: unsafe CSP source")
	// ErrPolicy reports a CSP that is inconsistent as a whole: 'none' with
	// other sources, 'strict-dynamic' without a nonce or hash, a keyword in
	// a directive that does not take it, an empty policy, a bad report URL.
	ErrPolicy = errors.New("headers: invalid CSP")
	// ErrValue reports a header value outside the values the header
	// defines.
	ErrValue = errors.New("headers: invalid header value")
	// ErrHSTS reports an impossible HSTS setting, such as preload without
	// includeSubDomains or with a max-age under one year.
	ErrHSTS = errors.New("headers: invalid HSTS setting")
	// ErrHostPattern reports an allowed-host pattern that is not a host name,
	// an IP literal or "*." followed by a host name, optionally with a port.
	ErrHostPattern = errors.New("headers: invalid allowed host")
	// ErrReportOptions reports invalid [ReportOptions].
	ErrReportOptions = errors.New("headers: invalid report options")
)

// Errors passed to Options.OnReject and returned by [Middleware.Check].
var (
	// ErrHostNotAllowed means the request's Host header is missing,
	// malformed or not in Options.AllowedHosts.
	ErrHostNotAllowed = errors.New("headers: host not allowed")
)

// Errors of [ParseReports], also recorded as the rejection reason by the
// report handler.
var (
	// ErrReportMediaType means the report's Content-Type is neither
	// application/csp-report, application/reports+json nor application/json.
	ErrReportMediaType = errors.New("headers: unsupported report media type")
	// ErrReportBody means the report body is not a report document.
	ErrReportBody = errors.New("headers: malformed report body")
	// ErrReportTooLarge means the body exceeds ReportOptions.MaxBytes.
	ErrReportTooLarge = errors.New("headers: report body too large")
	// ErrReportMethod means the report was not sent with POST.
	ErrReportMethod = errors.New("headers: report method not allowed")
)

// OptionError describes one invalid option. [New] joins every OptionError
// it finds with [errors.Join]; errors.Is matches the sentinel in Err.
type OptionError struct {
	// Field is the option's path, such as "CSP.ScriptSrc[1]".
	Field string
	// Value is the rejected value, quoted in the message.
	Value string
	// Err is one of the package's sentinel errors, possibly wrapped with a
	// reason.
	Err error
}

// Error returns "headers: Options.<Field> <quoted value>: <reason>".
func (e *OptionError) Error() string {
	s := "headers: Options." + e.Field
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	// The sentinels carry the "headers: " prefix of their own; the line
	// names the package once, as the other packages' option errors do.
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "headers: ")
}

// Unwrap returns Err.
func (e *OptionError) Unwrap() error { return e.Err }

// reasonError adds a reason to a sentinel while keeping it matchable.
type reasonError struct {
	sentinel error
	reason   string
}

func (e *reasonError) Error() string { return e.sentinel.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return e.sentinel }

func because(sentinel error, reason string) error {
	return &reasonError{sentinel: sentinel, reason: reason}
}
