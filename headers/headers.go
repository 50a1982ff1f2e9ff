package headers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/hostset"
	"github.com/httpguard/httpguard/internal/origins"
	"github.com/httpguard/httpguard/internal/problem"
)

// Omit, as the value of a string option, leaves that header out of the
// response. Use it when another layer (a CDN, a reverse proxy) sets the
// header, or on a route where the header does not apply.
const Omit = "omit"

// Default values of the headers whose option is empty.
const (
	// DefaultFrameOptions forbids framing. With a CSP frame-ancestors of
	// exactly 'self' the default is SAMEORIGIN instead.
	DefaultFrameOptions = "DENY"
	// DefaultReferrerPolicy sends no Referer at all: right for APIs and a
	// safe start for pages. [HTML] uses strict-origin-when-cross-origin.
	DefaultReferrerPolicy = "no-referrer"
	// DefaultPermissionsPolicy turns off powerful features a page rarely
	// needs, for itself and every frame it embeds.
	DefaultPermissionsPolicy = "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
	// DefaultCrossOriginOpenerPolicy isolates the browsing context from
	// cross-origin windows (XS-Leaks, Spectre).
	DefaultCrossOriginOpenerPolicy = "same-origin"
	// DefaultCrossOriginResourcePolicy stops other origins from embedding
	// responses with no-cors requests.
	DefaultCrossOriginResourcePolicy = "same-origin"
	// DefaultPermittedCrossDomainPolicies forbids Flash and PDF readers
	// from loading cross-domain policy files.
	DefaultPermittedCrossDomainPolicies = "none"
	// DefaultXSSProtection turns the legacy XSS auditor off; see the
	// package documentation for why.
	DefaultXSSProtection = "0"
	// DefaultHSTSMaxAge is two years (max-age=63072000), as the HSTS
	// preload list recommends.
	DefaultHSTSMaxAge = 63072000 * time.Second
)

// HSTS configures Strict-Transport-Security (RFC 6797). The zero value is
// max-age=63072000; includeSubDomains.
type HSTS struct {
	// MaxAge is how long browsers remember to use HTTPS only, sent in
	// whole seconds. Default [DefaultHSTSMaxAge]. It must be at least one
	// second; use Omit to send no header, or Expire to end a policy.
	MaxAge time.Duration
	// DisableIncludeSubDomains drops includeSubDomains, for a domain whose
	// subdomains still serve plain HTTP. Default false.
	DisableIncludeSubDomains bool
	// Preload adds preload, consenting to inclusion in browsers' HSTS
	// preload lists. It requires includeSubDomains and a MaxAge of at least
	// one year, and is hard to undo: opt in deliberately. Default false.
	Preload bool
	// Omit sends no Strict-Transport-Security header. Default false.
	Omit bool
	// Expire sends max-age=0, which makes a browser forget the policy it
	// holds for the host (RFC 6797 §6.1.1): the one way to undo a policy
	// sent by mistake (a subdomain that must stay on plain HTTP under
	// includeSubDomains, say), since Omit leaves browsers keeping it until
	// it expires. Send it, over HTTPS, for as long as the old max-age,
	// then Omit. It cannot be combined with MaxAge, Preload or Omit; a
	// preloaded host must also be removed from the preload lists.
	// Default false.
	Expire bool
}

// Options configures a [Middleware]. The zero Options is the [API] preset:
// every header at its strictest value, a CSP of default-src 'none';
// frame-ancestors 'none', HSTS on HTTPS requests, and no Host check.
// Mutating an Options after [New] has no effect on the Middleware.
//
// String options take the header's value; "" means the default and [Omit]
// leaves the header out. Values are checked against what each header
// defines, so a typo is an error from New rather than a header browsers
// ignore.
type Options struct {
	// ClientIP decides whether a request came over HTTPS, which is when
	// Strict-Transport-Security is sent. Default nil: only the connection
	// to this server counts, so behind a TLS-terminating proxy HSTS is sent
	// only once the proxy is trusted here.
	ClientIP *clientip.Resolver

	// HSTS configures Strict-Transport-Security. Default: the zero
	// [HSTS], max-age=63072000; includeSubDomains, sent on requests that
	// came over HTTPS (see ClientIP).
	HSTS HSTS

	// CSP is the Content-Security-Policy. Default nil: default-src 'none';
	// frame-ancestors 'none', the policy for JSON APIs.
	CSP *CSP
	// CSPReportOnly is a second policy sent as
	// Content-Security-Policy-Report-Only, to try a stricter policy before
	// enforcing it. Default nil: none. It shares the request's nonce.
	CSPReportOnly *CSP
	// OmitCSP sends no Content-Security-Policy. Default false.
	OmitCSP bool

	// FrameOptions is X-Frame-Options: DENY or SAMEORIGIN.
	// Default [DefaultFrameOptions], or SAMEORIGIN when the enforced
	// CSP's frame-ancestors is exactly 'self'.
	FrameOptions string
	// ContentTypeOptions is X-Content-Type-Options; only nosniff exists.
	// Default nosniff.
	ContentTypeOptions string
	// ReferrerPolicy is Referrer-Policy: one token or a comma-separated
	// fallback list. unsafe-url, which sends full URLs (with their query
	// strings) to every site, is rejected. Default [DefaultReferrerPolicy].
	ReferrerPolicy string
	// PermissionsPolicy is Permissions-Policy, a structured-field
	// dictionary such as "camera=(), geolocation=(self)". An allowlist
	// names origins as quoted strings, each an http or https origin or a
	// subdomain pattern ("https://*.example.com"); anything else (a path,
	// userinfo, no host) is an error. Default [DefaultPermissionsPolicy].
	PermissionsPolicy string
	// CrossOriginOpenerPolicy is Cross-Origin-Opener-Policy.
	// Default [DefaultCrossOriginOpenerPolicy].
	CrossOriginOpenerPolicy string
	// CrossOriginResourcePolicy is Cross-Origin-Resource-Policy.
	// Default [DefaultCrossOriginResourcePolicy]; use same-site or
	// cross-origin for resources other sites embed.
	CrossOriginResourcePolicy string
	// CrossOriginEmbedderPolicy is Cross-Origin-Embedder-Policy
	// (require-corp or credentialless). Default: not sent, because it
	// blocks every cross-origin resource that does not opt in.
	CrossOriginEmbedderPolicy string
	// PermittedCrossDomainPolicies is X-Permitted-Cross-Domain-Policies.
	// Default [DefaultPermittedCrossDomainPolicies].
	PermittedCrossDomainPolicies string
	// XSSProtection is X-XSS-Protection: "0", "1" or "1; mode=block"
	// (the legacy setting, for compatibility only). Default
	// [DefaultXSSProtection] ("0").
	XSSProtection string
	// OriginAgentCluster is Origin-Agent-Cluster: "?1" asks the browser
	// to keep the page's origin in an agent cluster of its own, apart from
	// the other origins of its site (with a process of its own where the
	// browser can), and makes document.domain inert, so that a page on a
	// sibling subdomain cannot relax the same-origin policy to script this
	// one. "?0" asks for the site-keyed cluster. Browsers honour it on
	// HTTPS only. Default: not sent, which leaves the choice to the
	// browser; send "?1" for pages that never set document.domain.
	OriginAgentCluster string
	// DNSPrefetchControl is X-DNS-Prefetch-Control: "off" stops browsers
	// from resolving the host names of a page's links before they are
	// followed, which would tell the user's DNS resolver, and anyone who
	// watches it, which links the page shows, such as those in other
	// users' content; "on" allows it. Default: not sent, which leaves the
	// choice to the browser.
	DNSPrefetchControl string

	// AllowedHosts, when not empty, lists the Host header values requests
	// may carry: a name ("example.com"), an IP literal ("127.0.0.1",
	// "[::1]") or "*." and a name ("*.example.com", any subdomain at any
	// depth, not example.com itself), each with an optional ":port". The
	// name after "*." must be registrable, not a public suffix ("*.co.uk")
	// nor a domain whose subdomains all are ("*.run.app"), by the Public
	// Suffix List, and a pattern does not match hosts under a public
	// suffix below it ("*.amazonaws.com" refuses
	// "bucket.s3.amazonaws.com", someone else's site). A
	// pattern without a port allows any port; a Host without one is on
	// the default port of the scheme the request came over (443 over
	// HTTPS, as ClientIP decides, else 80), which browsers leave out, so
	// "example.com:443" allows a browser's "example.com" over HTTPS.
	// Matching ignores case and a trailing dot; names must be ASCII
	// (punycode for IDNs). Other requests are rejected with 400, against
	// Host header injection and DNS rebinding. The Host header is checked
	// as received, also from a trusted proxy: behind one that rewrites Host
	// (clientip.Options.PublicOrigin), list the host it sends, not the
	// public one, or every request gets 400 (see "Allowed hosts" in the
	// package documentation). Default empty: no check.
	AllowedHosts []string

	// OnReject writes the response for a request whose host is not
	// allowed; err wraps [ErrHostNotAllowed]. Default: a generic 400
	// problem response. The security headers are already set on w.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// API returns the preset for JSON APIs, equal to the zero Options: a CSP of
// default-src 'none'; frame-ancestors 'none', no Referer, every other
// header at its strictest value.
func API() Options {
	return Options{CSP: &CSP{DefaultSrc: []string{None}, FrameAncestors: []string{None}}}
}

// HTML returns the preset for server-rendered HTML pages: a strict
// nonce-based CSP (scripts need nonce="{{.Nonce}}", see [Nonce]),
// same-origin styles, images, fonts, fetches and forms, no <base>, no
// plugins, no framing, and Referrer-Policy strict-origin-when-cross-origin.
// Adjust the returned Options before calling [New].
func HTML() Options {
	return Options{
		CSP: &CSP{
			DefaultSrc:     []string{None},
			ScriptNonce:    true,
			StrictDynamic:  true,
			StyleSrc:       []string{Self},
			StyleNonce:     true,
			ImgSrc:         []string{Self, "data:"},
			FontSrc:        []string{Self},
			ConnectSrc:     []string{Self},
			ManifestSrc:    []string{Self},
			BaseURI:        []string{None},
			FormAction:     []string{Self},
			FrameAncestors: []string{None},
		},
		ReferrerPolicy: "strict-origin-when-cross-origin",
	}
}

// Middleware sets security response headers and checks the Host header.
// Create it with [New]; the zero Middleware behaves as New(Options{}). A
// Middleware is immutable and safe for concurrent use.
type Middleware struct {
	c *config
}

type config struct {
	opts Options // deep copy, for With

	keys []string // canonical header names, fixed values
	vals []string
	hsts string // "" when omitted

	// owned lists the headers ModifyResponse removes from a backend's
	// response: every one the middleware sets but the policies.
	owned []string

	csp, cspRO *policy
	nonce      bool

	hosts    *hostset.Set
	onReject func(http.ResponseWriter, *http.Request, error)
}

var defaultConfig = func() *config {
	c, err := compile(Options{})
	if err != nil {
		panic(err) // unreachable: the zero Options is valid
	}
	return c
}()

// New validates o and returns a Middleware. Every invalid option is
// reported as an [*OptionError], all of them joined with [errors.Join].
func New(o Options) (*Middleware, error) {
	c, err := compile(o)
	if err != nil {
		return nil, err
	}
	return &Middleware{c: c}, nil
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

// With returns a new Middleware built from m's options changed by change,
// for a route that needs different headers (a page that may be framed, an
// endpoint other sites embed). change receives a deep copy; m is not
// modified. Build route variants once, at start-up, not per request.
//
// Wrap the route with the variant instead of m, not with both: under m's
// Handler the variant replaces only the headers it sends, and those it
// does not send keep m's values, m's report-only policy (with a nonce
// other than the one the variant's [Nonce] returns) among them.
func (m *Middleware) With(change func(*Options)) (*Middleware, error) {
	o := cloneOptions(m.config().opts)
	if change != nil {
		change(&o)
	}
	return New(o)
}

func (m *Middleware) config() *config {
	if m == nil || m.c == nil {
		return defaultConfig
	}
	return m.c
}

func cloneCSP(c *CSP) *CSP {
	if c == nil {
		return nil
	}
	d := *c
	for _, p := range []*[]string{&d.DefaultSrc, &d.ScriptSrc, &d.ScriptSrcElem, &d.ScriptSrcAttr,
		&d.StyleSrc, &d.StyleSrcElem, &d.StyleSrcAttr, &d.ImgSrc, &d.FontSrc, &d.ConnectSrc,
		&d.MediaSrc, &d.ObjectSrc, &d.FrameSrc, &d.ChildSrc, &d.WorkerSrc, &d.ManifestSrc,
		&d.BaseURI, &d.FormAction, &d.FrameAncestors, &d.SandboxAllow} {
		*p = slices.Clone(*p)
	}
	return &d
}

func cloneOptions(o Options) Options {
	o.CSP = cloneCSP(o.CSP)
	o.CSPReportOnly = cloneCSP(o.CSPReportOnly)
	o.AllowedHosts = slices.Clone(o.AllowedHosts)
	return o
}

// header value sets
var (
	frameValues    = map[string]string{"deny": "DENY", "sameorigin": "SAMEORIGIN"}
	referrerTokens = map[string]bool{
		"no-referrer": true, "no-referrer-when-downgrade": true, "same-origin": true,
		"origin": true, "strict-origin": true, "origin-when-cross-origin": true,
		"strict-origin-when-cross-origin": true,
	}
	coopValues  = []string{"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"}
	corpValues  = []string{"same-origin", "same-site", "cross-origin"}
	coepValues  = []string{"require-corp", "credentialless", "unsafe-none"}
	xpcdpValues = []string{"none", "master-only", "by-content-type", "by-ftp-filename", "all"}
	xssValues   = []string{"0", "1", "1; mode=block"}
	oacValues   = []string{"?1", "?0"}
	dnsValues   = []string{"off", "on"}
)

func compile(o Options) (*config, error) {
	o = cloneOptions(o)
	c := &config{opts: o, onReject: o.OnReject}
	var errs []error
	fixed := func(key, value string) {
		if value != "" && value != Omit {
			c.keys = append(c.keys, key)
			c.vals = append(c.vals, value)
		}
	}
	bad := func(field, value, reason string) {
		errs = append(errs, &OptionError{Field: field, Value: value, Err: because(ErrValue, reason)})
	}
	oneOf := func(field, value, def string, allowed []string) string {
		switch value {
		case "":
			return def
		case Omit:
			return Omit
		}
		if v := strings.ToLower(strings.TrimSpace(value)); slices.Contains(allowed, v) {
			return v
		}
		bad(field, value, "must be one of "+strings.Join(allowed, ", "))
		return ""
	}

	// Content-Security-Policy and its report-only companion.
	if o.OmitCSP && o.CSP != nil {
		errs = append(errs, &OptionError{Field: "OmitCSP", Err: because(ErrPolicy, "set together with CSP")})
	}
	if !o.OmitCSP {
		csp := o.CSP
		if csp == nil {
			csp = API().CSP
		}
		p, perrs := compileCSP(csp, "CSP")
		errs = append(errs, perrs...)
		c.csp = p
	}
	if o.CSPReportOnly != nil {
		ro := *o.CSPReportOnly
		ro.ReportOnly = true
		p, perrs := compileCSP(&ro, "CSPReportOnly")
		errs = append(errs, perrs...)
		c.cspRO = p
		if c.csp != nil && p != nil && c.csp.header == p.header {
			errs = append(errs, &OptionError{Field: "CSP.ReportOnly", Err: because(ErrPolicy, "both policies are report-only; set one in CSPReportOnly only")})
		}
	}
	c.nonce = c.csp != nil && c.csp.pieces != nil || c.cspRO != nil && c.cspRO.pieces != nil

	// X-Frame-Options follows frame-ancestors 'self' unless set.
	frame := o.FrameOptions
	switch frame {
	case "":
		frame = DefaultFrameOptions
		if c.csp != nil && c.csp.header == "Content-Security-Policy" && c.csp.frameAncestors == Self {
			frame = "SAMEORIGIN"
		}
	case Omit:
	default:
		v, ok := frameValues[strings.ToLower(strings.TrimSpace(frame))]
		if !ok {
			bad("FrameOptions", frame, "must be DENY or SAMEORIGIN (ALLOW-FROM is obsolete: use CSP frame-ancestors)")
		}
		frame = v
	}

	nosniff := o.ContentTypeOptions
	switch strings.ToLower(nosniff) {
	case "", "nosniff":
		nosniff = "nosniff"
	case Omit:
		// In any case, as "NOSNIFF" is (found in review: "OMIT" was
		// sent as the header's value, which browsers ignore).
		nosniff = Omit
	default:
		bad("ContentTypeOptions", nosniff, "must be nosniff")
	}

	referrer := o.ReferrerPolicy
	switch referrer {
	case "":
		referrer = DefaultReferrerPolicy
	case Omit:
	default:
		referrer = checkReferrer(referrer, bad)
	}

	permissions := o.PermissionsPolicy
	switch permissions {
	case "":
		permissions = DefaultPermissionsPolicy
	case Omit:
	default:
		if err := checkPermissionsPolicy(permissions); err != nil {
			errs = append(errs, &OptionError{Field: "PermissionsPolicy", Value: permissions, Err: err})
		}
		// The white space checkPermissionsPolicy allows around members
		// must not end the field value: HTTP/2 forbids it there (RFC 9113
		// §8.2.1), and net/http sends it as given (found in review).
		permissions = strings.Trim(permissions, " \t")
	}

	coop := oneOf("CrossOriginOpenerPolicy", o.CrossOriginOpenerPolicy, DefaultCrossOriginOpenerPolicy, coopValues)
	corp := oneOf("CrossOriginResourcePolicy", o.CrossOriginResourcePolicy, DefaultCrossOriginResourcePolicy, corpValues)
	coep := oneOf("CrossOriginEmbedderPolicy", o.CrossOriginEmbedderPolicy, "", coepValues)
	xpcdp := oneOf("PermittedCrossDomainPolicies", o.PermittedCrossDomainPolicies, DefaultPermittedCrossDomainPolicies, xpcdpValues)
	oac := oneOf("OriginAgentCluster", o.OriginAgentCluster, "", oacValues)
	dns := oneOf("DNSPrefetchControl", o.DNSPrefetchControl, "", dnsValues)
	xss := o.XSSProtection
	switch xss {
	case "":
		xss = DefaultXSSProtection
	case Omit:
	default:
		norm := strings.Join(strings.Fields(strings.ReplaceAll(xss, ";", "; ")), " ")
		if !slices.Contains(xssValues, norm) {
			bad("XSSProtection", xss, `must be "0", "1" or "1; mode=block"`)
		}
		xss = norm
	}

	fixed("X-Frame-Options", frame)
	fixed("X-Content-Type-Options", nosniff)
	fixed("Referrer-Policy", referrer)
	fixed("Permissions-Policy", permissions)
	fixed("Cross-Origin-Opener-Policy", coop)
	fixed("Cross-Origin-Resource-Policy", corp)
	fixed("Cross-Origin-Embedder-Policy", coep)
	fixed("X-Permitted-Cross-Domain-Policies", xpcdp)
	fixed("X-Xss-Protection", xss)
	fixed("Origin-Agent-Cluster", oac)
	fixed("X-Dns-Prefetch-Control", dns)
	if c.csp != nil && c.csp.pieces == nil {
		fixed(c.csp.header, c.csp.static)
	}
	if c.cspRO != nil && c.cspRO.pieces == nil {
		fixed(c.cspRO.header, c.cspRO.static)
	}
	var endpoints []string
	for _, p := range []*policy{c.csp, c.cspRO} {
		if p != nil && p.reportingEndpoints != "" && !slices.Contains(endpoints, p.reportingEndpoints) {
			endpoints = append(endpoints, p.reportingEndpoints)
		}
	}
	if len(endpoints) > 1 {
		errs = append(errs, &OptionError{Field: "CSPReportOnly.ReportTo", Err: because(ErrPolicy, "differs from CSP.ReportTo")})
	}
	if len(endpoints) == 1 {
		fixed("Reporting-Endpoints", endpoints[0])
	}

	// Strict-Transport-Security.
	h := o.HSTS
	if h.Expire {
		if h.MaxAge != 0 || h.Preload || h.Omit {
			errs = append(errs, &OptionError{Field: "HSTS.Expire", Err: because(ErrHSTS, "with MaxAge, Preload or Omit: Expire sends max-age=0 alone")})
		}
		c.hsts = "max-age=0"
	} else if !h.Omit {
		maxAge := h.MaxAge
		if maxAge == 0 {
			maxAge = DefaultHSTSMaxAge
		}
		if maxAge < time.Second {
			errs = append(errs, &OptionError{Field: "HSTS.MaxAge", Value: maxAge.String(), Err: because(ErrHSTS, "shorter than a second")})
		}
		if h.Preload && h.DisableIncludeSubDomains {
			errs = append(errs, &OptionError{Field: "HSTS.Preload", Err: because(ErrHSTS, "preload requires includeSubDomains")})
		}
		if h.Preload && maxAge < 365*24*time.Hour {
			errs = append(errs, &OptionError{Field: "HSTS.Preload", Err: because(ErrHSTS, "preload requires a max-age of at least one year")})
		}
		c.hsts = "max-age=" + itoa(int64(maxAge/time.Second))
		if !h.DisableIncludeSubDomains {
			c.hsts += "; includeSubDomains"
		}
		if h.Preload {
			c.hsts += "; preload"
		}
	}

	for _, k := range c.keys {
		switch k {
		case "Content-Security-Policy", "Content-Security-Policy-Report-Only", "Reporting-Endpoints":
			// Policies add up: a backend's cannot loosen this one.
		default:
			c.owned = append(c.owned, k)
		}
	}
	if c.hsts != "" {
		c.owned = append(c.owned, "Strict-Transport-Security")
	}

	if len(o.AllowedHosts) > 0 {
		hr, herrs := compileHosts(o.AllowedHosts)
		errs = append(errs, herrs...)
		c.hosts = hr
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func checkReferrer(v string, bad func(field, value, reason string)) string {
	var toks []string
	for t := range strings.SplitSeq(v, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case t == "unsafe-url":
			bad("ReferrerPolicy", v, "unsafe-url leaks full URLs to every site; use strict-origin-when-cross-origin")
			return ""
		case !referrerTokens[t]:
			bad("ReferrerPolicy", v, "unknown policy token")
			return ""
		}
		toks = append(toks, t)
	}
	return strings.Join(toks, ", ")
}

// checkPermissionsPolicy validates a Permissions-Policy dictionary: members
// feature=allowlist separated by commas, where a feature is a lower-case
// structured-field key and an allowlist is *, self, src, a quoted origin,
// or a parenthesized, space-separated list of those.
func checkPermissionsPolicy(v string) error {
	if len(v) > 4096 {
		return because(ErrValue, "longer than 4 KiB")
	}
	for member := range strings.SplitSeq(v, ",") {
		member = strings.Trim(member, " \t")
		key, value, ok := strings.Cut(member, "=")
		if !ok || !isSFKey(key) {
			return because(ErrValue, "member is not feature=allowlist")
		}
		if strings.HasPrefix(value, "(") {
			if !strings.HasSuffix(value, ")") {
				return because(ErrValue, "unterminated inner list")
			}
			for item := range strings.SplitSeq(value[1:len(value)-1], " ") {
				if item != "" && !validAllowItem(item) {
					return because(ErrValue, "bad allowlist item")
				}
			}
			continue
		}
		if !validAllowItem(value) {
			return because(ErrValue, "bad allowlist")
		}
	}
	return nil
}

func isSFKey(k string) bool {
	if k == "" || !('a' <= k[0] && k[0] <= 'z' || k[0] == '*') {
		return false
	}
	for i := 1; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			return false
		}
	}
	return true
}

func validAllowItem(s string) bool {
	switch s {
	case "*", "self", "src":
		return true
	}
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	inner := s[1 : len(s)-1]
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	// An origin, as a browser serializes one, or a subdomain pattern
	// ("https://*.example.com"). Found in review: anything after
	// "https://" passed, a host-less "https://" or a URL with a path
	// among them, which browsers drop from the allowlist.
	e, err := origins.ParseEntry(inner)
	return err == nil && (e.Scheme == "https" || e.Scheme == "http")
}

// Check reports whether r may be served: nil, or an error wrapping
// [ErrHostNotAllowed] when Options.AllowedHosts is set and r.Host is not
// in it. It does not allocate, except once to lower-case a Host with
// upper-case letters or to write an IPv6 address in its canonical form,
// and once for a Host two or more labels under a "*." pattern's domain,
// whose public suffix is then looked up.
func (m *Middleware) Check(r *http.Request) error {
	c := m.config()
	if c.hosts != nil && !c.hostAllowed(r) {
		return ErrHostNotAllowed
	}
	return nil
}

// Handler returns a middleware that sets the configured headers on every
// response before calling next, so next can still change or delete any of
// them (each header gets its own slice). A request whose host is not
// allowed gets the headers and the OnReject response; next is not called.
//
// Without a nonce the headers cost no allocation of their own: their
// values are slots of a pooled slab, each response's alone. With one,
// the request passed to next carries the nonce in its context ([Nonce]).
func (m *Middleware) Handler(next http.Handler) http.Handler {
	c := m.config()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.hosts != nil && !c.hostAllowed(r) {
			problem.SetReason(r, ErrHostNotAllowed)
			if c.onReject != nil {
				c.setRejected(w.Header(), r, 0)
				c.onReject(w, r, ErrHostNotAllowed)
				return
			}
			// problem.Reject, its header values in spare slots of this
			// response's array.
			spare := c.setRejected(w.Header(), r, problem.Slots)
			problem.WriteInto(w, http.StatusBadRequest, spare, false)
			return
		}
		if !c.nonce {
			c.setFixed(w.Header(), r, "", "", "", 0)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, c.setWithNonce(w.Header(), r))
	})
}

// ModifyResponse removes from res.Header the headers a backend sent that
// the middleware sets itself, so that the middleware's values are the only
// ones the client gets. Assign it to [net/http/httputil.ReverseProxy]'s
// ModifyResponse when m wraps the proxy: the proxy adds the backend's
// header fields to those already set with [net/http.Header.Add], and two
// values of one field undo several protections (see "Behind a gateway"
// in the package documentation).
//
// It removes every header m sends, Strict-Transport-Security included
// (on plain HTTP too, where browsers ignore it), except
// Content-Security-Policy, Content-Security-Policy-Report-Only and
// Reporting-Endpoints: a browser enforces every policy it receives, so a
// backend's policy can only add restrictions, and removing it could
// loosen a stricter one. Headers left out with [Omit] (or OmitCSP, or
// HSTS.Omit) are the backend's to send and are kept, as are headers m does
// not send, such as Cross-Origin-Embedder-Policy, Origin-Agent-Cluster
// and X-DNS-Prefetch-Control by default.
//
// A backend's 1xx response makes the proxy clear the headers m set, and
// the final response would then have none of them: wrap the proxy with
// [KeepAcross1xx] too.
//
// It always returns nil and does not allocate. It is safe for concurrent
// use.
func (m *Middleware) ModifyResponse(res *http.Response) error {
	for _, k := range m.config().owned {
		delete(res.Header, k)
	}
	return nil
}

// rejectCSP is the policy on rejections when the configured one needs a
// nonce: an error body needs nothing.
const rejectCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

// setFixed sets every header from one backing array. csp and cspRO are the
// rendered values of the nonce-bearing policies, "" for none; csp goes
// under cspName, which is Content-Security-Policy-Report-Only for a CSP
// with ReportOnly. It returns extra further slots of the array, empty, for
// the caller's own values.
func (c *config) setFixed(h http.Header, r *http.Request, cspName, csp, cspRO string, extra int) []string {
	n := len(c.vals)
	hsts := c.hsts != "" && c.opts.ClientIP.IsHTTPS(r)
	if hsts {
		n++
	}
	if csp != "" {
		n++
	}
	if cspRO != "" {
		n++
	}
	// Slots of a pooled slab, this response's alone: never a slice
	// shared with another response, and no allocation per request.
	vals := headervals.Take(n + extra)
	copy(vals, c.vals)
	for i, k := range c.keys {
		h[k] = vals[i : i+1 : i+1]
	}
	i := len(c.vals)
	if hsts {
		vals[i] = c.hsts
		h["Strict-Transport-Security"] = vals[i : i+1 : i+1]
		i++
	}
	if csp != "" {
		vals[i] = csp
		h[cspName] = vals[i : i+1 : i+1]
		i++
	}
	if cspRO != "" {
		vals[i] = cspRO
		h["Content-Security-Policy-Report-Only"] = vals[i : i+1 : i+1]
	}
	return vals[n:]
}

// setRejected sets the headers of a rejection: the fixed ones, and a strict
// policy in place of one that needs a nonce.
func (c *config) setRejected(h http.Header, r *http.Request, extra int) []string {
	if !c.nonce {
		return c.setFixed(h, r, "", "", "", extra)
	}
	spare := c.setFixed(h, r, "Content-Security-Policy", rejectCSP, "", extra)
	if c.cspRO != nil && c.cspRO.pieces != nil {
		delete(h, "Content-Security-Policy-Report-Only")
	}
	return spare
}

// nonceLen is the length of a nonce: 16 random bytes in unpadded base64url.
const nonceLen = 22

type nonceKey struct{}

// render writes p with nonce into b and returns the rendered value, or ""
// when p has no nonce.
func (p *policy) render(b *strings.Builder, nonce []byte) string {
	if p == nil || p.pieces == nil {
		return ""
	}
	start := b.Len()
	for j, piece := range p.pieces {
		if j > 0 {
			b.Write(nonce)
		}
		b.WriteString(piece)
	}
	return b.String()[start:]
}

func (p *policy) renderedLen() int {
	if p == nil || p.pieces == nil {
		return 0
	}
	return p.fixedLen + (len(p.pieces)-1)*nonceLen
}

// setWithNonce sets every header with a fresh nonce and returns r with the
// nonce in its context. The nonce is a substring of a rendered policy, so
// it costs no allocation of its own.
func (c *config) setWithNonce(h http.Header, r *http.Request) *http.Request {
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	var enc [nonceLen]byte
	base64.RawURLEncoding.Encode(enc[:], raw[:])

	var b strings.Builder
	b.Grow(c.csp.renderedLen() + c.cspRO.renderedLen())
	csp := c.csp.render(&b, enc[:])
	cspRO := c.cspRO.render(&b, enc[:])
	var nonce string
	if csp != "" {
		nonce = csp[len(c.csp.pieces[0]):][:nonceLen]
	} else {
		nonce = cspRO[len(c.cspRO.pieces[0]):][:nonceLen]
	}
	cspName := ""
	if c.csp != nil {
		// A CSP with ReportOnly: its own header, never the enforced one
		// (found in review: it was sent as Content-Security-Policy).
		cspName = c.csp.header
	}
	c.setFixed(h, r, cspName, csp, cspRO, 0)
	return r.WithContext(context.WithValue(r.Context(), nonceKey{}, &nonce))
}

// Nonce returns the CSP nonce of the request whose context is ctx, and
// whether there is one. It is set by [Middleware.Handler] when the policy
// has ScriptNonce or StyleNonce, and is new on every response: 16 bytes
// from crypto/rand in unpadded base64url. Put it in templates as
// <script nonce="{{.Nonce}}">; html/template escapes it correctly.
func Nonce(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(nonceKey{}).(*string)
	if !ok {
		return "", false
	}
	return *p, true
}
