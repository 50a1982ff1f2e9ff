package https

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/httpguard/httpguard/internal/problem"
)

// ACMEOptions configures [NewACME]. Hosts, a cache and AcceptTOS are
// required; mutating the options afterwards has no effect.
type ACMEOptions struct {
	// Hosts are the exact host names to obtain certificates for. A TLS
	// handshake or HTTP-01 challenge for any other name is refused before
	// the CA is contacted, so clients cannot exhaust its rate limits with
	// made-up names. Required; names must be ASCII (punycode for IDNs)
	// and contain a dot.
	Hosts []string
	// CacheDir is the directory certificates and the account key are kept
	// in (created with mode 0700). Required unless Cache is set: without
	// a persistent cache every restart asks the CA for new certificates
	// and soon hits its rate limits.
	CacheDir string
	// Cache is another store (autocert.Cache) in place of CacheDir; setting
	// both is an error. Default: nil, CacheDir is used.
	Cache autocert.Cache
	// Email is the account contact for expiry and problem notices.
	// Optional but recommended; a value that is not an address (no "@",
	// or a space, comma, semicolon or angle bracket) is an error.
	// Default: none, the CA has no contact.
	Email string
	// DirectoryURL is the CA's ACME directory. Default: Let's Encrypt
	// production. Use Let's Encrypt staging while testing.
	DirectoryURL string
	// AcceptTOS states that the operator accepts the CA's terms of
	// service. Required: false (the default) is an error.
	AcceptTOS bool
	// RenewBefore is how long before expiry certificates are renewed,
	// at most 30 days (autocert caps a longer value); negative is an
	// error. Default: 0, renewal at the lesser of 30 days and a third of
	// the certificate's lifetime.
	RenewBefore time.Duration
}

// ACME obtains and renews certificates from an ACME CA (Let's Encrypt by
// default) through golang.org/x/crypto/acme/autocert. It is safe for
// concurrent use.
type ACME struct {
	m *autocert.Manager
}

// NewACME validates o and returns an ACME certificate manager.
func NewACME(o ACMEOptions) (*ACME, error) {
	var errs []error
	fail := func(field, value string, err error) {
		errs = append(errs, &OptionError{Field: "ACMEOptions." + field, Value: value, Err: err})
	}
	if len(o.Hosts) == 0 {
		fail("Hosts", "", because(ErrOption, "required"))
	}
	var hosts []string
	for i, h := range o.Hosts {
		name, port, wildcard, err := parseHostPattern(h)
		switch {
		case err != nil:
			fail("Hosts["+strconv.Itoa(i)+"]", h, err)
		case wildcard || port != "" || strings.HasPrefix(name, "[") || !strings.Contains(name, ".") || isIPv4(name):
			fail("Hosts["+strconv.Itoa(i)+"]", h, because(ErrHost, "must be a plain DNS name (HTTP-01 cannot issue wildcards or IP certificates)"))
		default:
			hosts = append(hosts, name)
		}
	}
	cache := o.Cache
	switch {
	case cache == nil && o.CacheDir == "":
		fail("CacheDir", "", because(ErrOption, "required: set CacheDir or Cache"))
	case cache == nil:
		cache = autocert.DirCache(o.CacheDir)
	case o.CacheDir != "":
		fail("CacheDir", o.CacheDir, because(ErrOption, "set together with Cache"))
	}
	if !o.AcceptTOS {
		fail("AcceptTOS", "", because(ErrOption, "the CA's terms of service must be accepted"))
	}
	if o.RenewBefore < 0 {
		fail("RenewBefore", o.RenewBefore.String(), because(ErrOption, "negative"))
	}
	if o.Email != "" && (!strings.Contains(o.Email, "@") || strings.ContainsAny(o.Email, " \t\r\n,;<>")) {
		fail("Email", o.Email, because(ErrOption, "not an address"))
	}
	dir := o.DirectoryURL
	if dir == "" {
		dir = autocert.DefaultACMEDirectory
	} else if !strings.HasPrefix(dir, "https://") {
		fail("DirectoryURL", dir, because(ErrOption, "must be an https URL"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &ACME{m: &autocert.Manager{
		Prompt:      autocert.AcceptTOS,
		Cache:       cache,
		HostPolicy:  autocert.HostWhitelist(hosts...),
		Email:       o.Email,
		RenewBefore: o.RenewBefore,
		Client:      &acme.Client{DirectoryURL: dir},
	}}, nil
}

func isIPv4(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// TLSConfig returns the hardened [TLSConfig] with the manager's
// certificates and the acme-tls/1 protocol for TLS-ALPN-01 challenges.
func (a *ACME) TLSConfig() *tls.Config {
	c := TLSConfig()
	c.GetCertificate = a.m.GetCertificate
	c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	return c
}

// HTTPHandler answers ACME HTTP-01 challenges under
// [ACMEChallengePath] for the configured hosts and passes every other
// request to fallback, normally a [Redirect]'s Handler. Serve it on port 80.
// A nil fallback rejects other requests with 400; autocert's own fallback,
// which redirects to whatever Host the request names, is never used.
// A challenge for a host not in Hosts gets 403 and an unknown token 404,
// both the generic problem response: autocert's own text quotes the Host
// header and, for a token the cache cannot read, the cache directory's
// path.
func (a *ACME) HTTPHandler(fallback http.Handler) http.Handler {
	if fallback == nil {
		fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Reject(w, r, http.StatusBadRequest, errNotChallenge)
		})
	}
	h := a.m.HTTPHandler(fallback)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, ACMEChallengePath) {
			h.ServeHTTP(w, r) // to fallback, whose responses are its own
			return
		}
		h.ServeHTTP(&challengeWriter{ResponseWriter: w, r: r}, r)
	})
}

// errNotChallenge is the reason recorded for a request a nil fallback
// refuses. It was ErrHostNotAllowed, which sent an operator reading the
// access log after the Hosts setting.
var errNotChallenge = errors.New("https: not an ACME challenge, and HTTPHandler has no fallback")

// challengeWriter writes the generic problem response in place of an
// error autocert's challenge handler writes with http.Error, and drops
// that error's text.
type challengeWriter struct {
	http.ResponseWriter
	r      *http.Request
	failed bool
}

func (w *challengeWriter) WriteHeader(code int) {
	if code < http.StatusBadRequest {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.failed = true
	var reason error
	if code == http.StatusForbidden {
		reason = ErrHostNotAllowed // autocert's HostPolicy refused r.Host
	}
	problem.Reject(w.ResponseWriter, w.r, code, reason)
}

func (w *challengeWriter) Write(b []byte) (int, error) {
	if w.failed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Manager returns the underlying autocert.Manager, for settings this
// package does not expose. Changing it while serving is not safe.
func (a *ACME) Manager() *autocert.Manager { return a.m }
