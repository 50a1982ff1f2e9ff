package https

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"log"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Server defaults, chosen so that a slow or idle client cannot hold a
// connection (and its goroutine) open for long.
const (
	// DefaultReadHeaderTimeout bounds reading the request line and
	// headers: the Slowloris defence. Over HTTP/2 it is also the ping
	// health check's interval and timeout (see [NewServer]).
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultReadTimeout bounds reading the whole request, body included.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds the time from the end of the request
	// headers to the end of the response. Handlers that stream longer
	// extend their own deadline with http.ResponseController.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds the wait for the next request on a
	// keep-alive connection.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultMaxHeaderBytes bounds the request line and headers: 64 KiB,
	// where net/http's own default is 1 MiB.
	DefaultMaxHeaderBytes = 64 << 10
)

// ServerOptions configures [NewServer]. Zero fields take the defaults
// above; mutating the options afterwards has no effect.
type ServerOptions struct {
	// Addr is the listen address, such as ":443". Default "" (net/http's
	// default, ":http" or ":https").
	Addr string
	// Handler serves requests. Required.
	Handler http.Handler
	// TLSConfig is used by ListenAndServeTLS and ServeTLS. Default
	// [TLSConfig](). It is cloned; when its CipherSuites is empty the clone
	// gets the AEAD suites of [TLSConfig], since crypto/tls's defaults still
	// include CBC suites for TLS 1.2. A clone [CheckTLSConfig] refuses is
	// an error: one whose MinVersion allows TLS 1.0 or 1.1, and so a zero
	// MinVersion (add certificates to a copy of TLSConfig() rather than to
	// a new tls.Config), a weak TLS 1.2 cipher suite, InsecureSkipVerify, a
	// KeyLogWriter or a Rand of its own. A list that allows TLS 1.2 must
	// hold one of the ECDHE AES-128-GCM suites, which HTTP/2 requires:
	// without one, ServeTLS fails. A MaxVersion below MinVersion, which
	// leaves no version, is an error.
	TLSConfig *tls.Config
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// the phases of a connection (see the defaults). Negative values are
	// errors; ReadHeaderTimeout may not exceed ReadTimeout (when it is
	// left at its default, it is shortened to a shorter ReadTimeout).
	// Default: [DefaultReadHeaderTimeout], [DefaultReadTimeout],
	// [DefaultWriteTimeout] and [DefaultIdleTimeout].
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request headers. Default
	// [DefaultMaxHeaderBytes]; at most 1 MiB.
	MaxHeaderBytes int
	// ErrorLog receives connection errors (TLS handshake failures, timeouts).
	// Default: the log package's standard logger, in plain text whatever
	// errorsafe's logger is; log/slog.NewLogLogger(h, slog.LevelWarn) sends
	// them to the slog handler h with the rest.
	ErrorLog *log.Logger
}

// NewServer returns an [http.Server] with the timeouts, header limit and
// TLS configuration of o, validated. Start it with ListenAndServeTLS (or
// ListenAndServe behind a TLS-terminating proxy) and stop it with Shutdown.
// The server is validated once, here: its fields are the caller's, and a
// TLSConfig changed or replaced afterwards (a MinVersion lowered, a
// KeyLogWriter set) is served unchecked, so pass the final configuration
// in o, or call [CheckTLSConfig] on srv.TLSConfig before serving.
//
// net/http applies ReadHeaderTimeout to HTTP/1 only: over HTTP/2 a client
// that sends a header block a frame or a byte at a time, never ending it,
// held the connection until IdleTimeout. The server's HTTP2 field is set so
// that a connection on which no frame has arrived for ReadHeaderTimeout is
// sent a PING, and closed when no answer comes within ReadHeaderTimeout. A
// client in the middle of a header block or frame cannot answer, so it is
// cut off after about twice ReadHeaderTimeout; a client that is only
// waiting (for a slow response, or idle) answers, as HTTP/2 requires, and
// is kept until IdleTimeout. Each connection closed this way, a client
// that vanished included, is reported once to ErrorLog ("timeout waiting
// for PING response"). Replace HTTP2 after NewServer to change this.
//
// DisableGeneralOptionsHandler is set: net/http would otherwise answer
// "OPTIONS *" itself with a bare 200, past the handler and every
// middleware in it (no security headers, request ID, access record, rate
// limit or allowed-hosts check). The handler gets it like any request;
// [net/http.ServeMux] answers it 400.
func NewServer(o ServerOptions) (*http.Server, error) {
	var errs []error
	fail := func(field, value string, err error) {
		errs = append(errs, &OptionError{Field: "ServerOptions." + field, Value: value, Err: err})
	}
	if o.Handler == nil {
		fail("Handler", "", because(ErrOption, "required"))
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"ReadHeaderTimeout", &o.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{"ReadTimeout", &o.ReadTimeout, DefaultReadTimeout},
		{"WriteTimeout", &o.WriteTimeout, DefaultWriteTimeout},
		{"IdleTimeout", &o.IdleTimeout, DefaultIdleTimeout},
	}
	headerDefault := o.ReadHeaderTimeout == 0
	for _, d := range durations {
		switch {
		case *d.d < 0:
			fail(d.name, d.d.String(), because(ErrTimeout, "negative"))
		case *d.d == 0:
			*d.d = d.def
		}
	}
	if headerDefault && o.ReadTimeout > 0 {
		// A ReadTimeout shorter than the default header timeout is
		// stricter, not an error (found in review: 2s was refused).
		o.ReadHeaderTimeout = min(o.ReadHeaderTimeout, o.ReadTimeout)
	}
	if o.ReadHeaderTimeout > o.ReadTimeout {
		fail("ReadHeaderTimeout", o.ReadHeaderTimeout.String(), because(ErrTimeout, "longer than ReadTimeout, which includes it"))
	}
	switch {
	case o.MaxHeaderBytes == 0:
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	case o.MaxHeaderBytes < 0 || o.MaxHeaderBytes > 1<<20:
		fail("MaxHeaderBytes", strconv.Itoa(o.MaxHeaderBytes), because(ErrOption, "must be between 1 and 1 MiB"))
	}
	cfg := o.TLSConfig
	if cfg == nil {
		cfg = TLSConfig()
	} else {
		cfg = cfg.Clone()
		if len(cfg.CipherSuites) == 0 {
			// crypto/tls's defaults still enable the ECDHE CBC-SHA suites.
			// Filled in before the check, which refuses an empty list.
			cfg.CipherSuites = append([]uint16(nil), cipherSuites...)
		}
		if err := CheckTLSConfig(cfg); err != nil {
			fail("TLSConfig", "", err)
		}
		if cfg.MaxVersion != 0 && cfg.MaxVersion < cfg.MinVersion {
			// Found in review: no version was left, and every
			// handshake failed.
			fail("TLSConfig", "", because(ErrOption, "MaxVersion below MinVersion: no protocol version left"))
		}
		if cfg.MinVersion < tls.VersionTLS13 && !slices.Contains(cfg.CipherSuites, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) &&
			!slices.Contains(cfg.CipherSuites, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) {
			// Found in review: net/http's HTTP/2 server refuses such
			// a list (RFC 9113 §9.2.2) from ServeTLS, so the server
			// NewServer returned never started.
			fail("TLSConfig", "", because(ErrOption, "CipherSuites lacks TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 and TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, one of which HTTP/2 requires over TLS 1.2, and ServeTLS would fail"))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &http.Server{
		Addr:              o.Addr,
		Handler:           o.Handler,
		TLSConfig:         cfg,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          o.ErrorLog,
		// net/http answers "OPTIONS *" itself unless told not to, past
		// the handler and every middleware in it.
		DisableGeneralOptionsHandler: true,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: o.ReadHeaderTimeout,
			PingTimeout:     o.ReadHeaderTimeout,
		},
	}, nil
}

// cipherSuites are the TLS 1.2 suites [TLSConfig] allows: ECDHE key
// exchange (forward secrecy) with an AEAD cipher only. TLS 1.3 suites are
// all AEAD and not configurable.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSConfig returns a new hardened server configuration: TLS 1.2 at least,
// TLS 1.2 limited to ECDHE with AES-GCM or ChaCha20-Poly1305, Go's default
// key exchanges (CurvePreferences is left empty: the post-quantum hybrid
// X25519MLKEM768 first, then X25519 and the NIST curves, more as Go adds
// them), and ALPN for HTTP/2 and HTTP/1.1. Add Certificates or GetCertificate
// before use. Each call returns a fresh value the caller may modify.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: append([]uint16(nil), cipherSuites...),
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// CheckTLSConfig reports, wrapping [ErrTLSConfig], a configuration that
// accepts TLS 1.0 or 1.1, lists a TLS 1.2 cipher suite without forward
// secrecy or AEAD, or allows TLS 1.2 with no CipherSuites (crypto/tls's
// defaults, CBC suites among them), or sets InsecureSkipVerify, a
// KeyLogWriter or a Rand other than crypto/rand.Reader (the source of its
// ephemeral keys), and a nil configuration, which leaves the defaults to
// crypto/tls. It checks c only: the configurations a GetConfigForClient
// callback returns are not seen, and should be checked where they are
// made.
func CheckTLSConfig(c *tls.Config) error {
	if c == nil {
		// Found in review: it panicked. A server given no configuration
		// gets crypto/tls's defaults, which GODEBUG can weaken.
		return because(ErrTLSConfig, "nil: start from TLSConfig()")
	}
	if c.MinVersion < tls.VersionTLS12 {
		if c.MinVersion == 0 {
			// The zero value of a tls.Config written for its
			// certificates alone: say what to write.
			return because(ErrTLSConfig, "MinVersion unset (below TLS 1.2 where GODEBUG allows it): set MinVersion: tls.VersionTLS12, or start from TLSConfig() and add the certificates to it")
		}
		return because(ErrTLSConfig, "MinVersion below TLS 1.2")
	}
	if len(c.CipherSuites) == 0 && c.MinVersion < tls.VersionTLS13 && (c.MaxVersion == 0 || c.MaxVersion >= tls.VersionTLS12) {
		// An empty list is crypto/tls's defaults, which still enable the
		// ECDHE CBC-SHA suites for TLS 1.2 (found in review: a CBC-only
		// client negotiated one with a config that passed).
		return because(ErrTLSConfig, "no CipherSuites with TLS 1.2 allowed: crypto/tls's defaults include CBC suites without AEAD; start from TLSConfig(), or set MinVersion: tls.VersionTLS13")
	}
	for _, s := range c.CipherSuites {
		ok := false
		for _, a := range cipherSuites {
			ok = ok || a == s
		}
		if !ok && !isTLS13Suite(s) {
			return because(ErrTLSConfig, "cipher suite "+tls.CipherSuiteName(s)+" lacks forward secrecy or AEAD")
		}
	}
	if c.InsecureSkipVerify {
		return because(ErrTLSConfig, "InsecureSkipVerify")
	}
	if c.KeyLogWriter != nil {
		// Found in review: it writes every session's secrets out.
		return because(ErrTLSConfig, "KeyLogWriter (it logs the keys of every connection)")
	}
	if c.Rand != nil && c.Rand != rand.Reader {
		// Found in review: crypto/tls draws the ephemeral ECDHE keys
		// from it (Go 1.25 to 1.27), so a deterministic reader left
		// from a test gave every TLS 1.2 connection the same key share.
		return because(ErrTLSConfig, "Rand other than crypto/rand.Reader (it supplies the ephemeral keys): leave it nil")
	}
	return nil
}

func isTLS13Suite(s uint16) bool {
	switch s {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256:
		return true
	}
	return false
}
