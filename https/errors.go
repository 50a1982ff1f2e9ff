package https

import (
	"errors"
	"strconv"
	"strings"
)

// Errors returned by the constructors, wrapped in an [*OptionError].
var (
	// ErrNoHost means a Redirect has no host to redirect to: set
	// RedirectOptions.Host, AllowedHosts, or an https public origin on the
	// clientip.Resolver.
	ErrNoHost = errors.New("https: no redirect host configured")
	// ErrHost reports a host or host pattern that is not a host name, an IP
	// literal or "*." and a host name, optionally with a port.
	ErrHost = errors.New("https: invalid host")
	// ErrPath reports an exempt path that is not a clean absolute path
	// without query, exempts every path ("/"), or is badly escaped.
	ErrPath = errors.New("https: invalid exempt path")
	// ErrTimeout reports a negative or inconsistent server timeout.
	ErrTimeout = errors.New("https: invalid timeout")
	// ErrTLSConfig reports a tls.Config that [CheckTLSConfig] refuses:
	// one that allows protocol versions below TLS 1.2, lists a TLS 1.2
	// cipher suite without forward secrecy or AEAD, allows TLS 1.2 with
	// no CipherSuites (crypto/tls's defaults), or sets
	// InsecureSkipVerify, a KeyLogWriter or a Rand of its own.
	ErrTLSConfig = errors.New("https: insecure TLS configuration")
	// ErrOption reports any other invalid option.
	ErrOption = errors.New("https: invalid option")
	// ErrDevHost reports a development certificate name that is not a
	// loopback address, localhost or a special-use name (.localhost,
	// .test, .example, .invalid).
	ErrDevHost = errors.New("https: development certificates are for local names only")
)

// ErrHostNotAllowed is passed to RedirectOptions.OnReject when a plain
// HTTP request names a host that is not allowed and no canonical Host is
// configured.
var ErrHostNotAllowed = errors.New("https: host not allowed")

// ErrUnsafeMethod is passed to RedirectOptions.OnReject for a plain HTTP
// request with a method other than GET and HEAD, which is refused rather
// than redirected unless RedirectOptions.RedirectUnsafeMethods is set.
var ErrUnsafeMethod = errors.New("https: method other than GET or HEAD over plain HTTP")

// OptionError describes one invalid option. Constructors join every
// OptionError they find with [errors.Join]; errors.Is matches the sentinel
// in Err.
type OptionError struct {
	Field string // the option, such as "AllowedHosts[2]"
	Value string // the rejected value
	Err   error  // a sentinel of this package, possibly with a reason
}

// Error returns "https: <Field> <quoted value>: <reason>", the reason
// without its own "https: ".
func (e *OptionError) Error() string {
	s := "https: " + e.Field
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "https: ")
}

// Unwrap returns Err.
func (e *OptionError) Unwrap() error { return e.Err }

type reasonError struct {
	sentinel error
	reason   string
}

func (e *reasonError) Error() string { return e.sentinel.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return e.sentinel }

func because(sentinel error, reason string) error {
	return &reasonError{sentinel: sentinel, reason: reason}
}
