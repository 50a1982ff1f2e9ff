package https

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/hostset"
	"github.com/httpguard/httpguard/internal/problem"
)

// ACMEChallengePath is the path prefix of ACME HTTP-01 challenges, which
// must be answered over plain HTTP.
const ACMEChallengePath = "/.well-known/acme-challenge/"

// RedirectOptions configures a [Redirect]. There is no safe default target,
// so at least one of Host, AllowedHosts or an https
// [clientip.Options.PublicOrigin] must be set. Mutating a RedirectOptions
// after [NewRedirect] has no effect.
type RedirectOptions struct {
	// ClientIP decides whether a request already came over HTTPS (it is
	// then passed on, not redirected). Its https public origin, if any, is
	// the default Host. Default nil: only a TLS connection to this server
	// counts, so X-Forwarded-Proto is ignored until the proxy is trusted.
	ClientIP *clientip.Resolver

	// Host is the canonical host, with an optional port, that requests are
	// redirected to when their own Host is not in AllowedHosts, such as
	// "example.com" or "localhost:8443". It is never taken from the
	// request. Default: the host of ClientIP's https public origin, if
	// any, else none (see AllowedHosts).
	Host string

	// AllowedHosts are hosts redirected to themselves on HTTPS: exact names
	// or IP literals, or "*.example.com" for any subdomain, each with an
	// optional port that the request must use; a Host without a port is
	// on port 80, which browsers leave out. Matching ignores case and a
	// trailing dot. A request for any other Host goes to Host, or, with
	// no Host, is rejected with 400: an attacker's Host header never
	// becomes a Location. Default: none, every request goes to Host.
	AllowedHosts []string

	// HTTPSPort is the port of the HTTPS listener, added to hosts from
	// AllowedHosts. Default 443 (no port in the URL). Host carries its own
	// port.
	HTTPSPort int

	// Exempt lists paths served over plain HTTP instead of redirected:
	// an exact path ("/healthz"), or a prefix ending in "/"
	// ("/.well-known/acme-challenge/"), escaped as in a ServeMux pattern
	// ("/status%20page" is the path "/status page"). Matching is on the
	// request's unescaped path as received, not cleaned: "//healthz", a
	// prefix followed by "..", or a path with an encoded slash ("%2F",
	// which ServeMux does not route as a separator) is redirected rather
	// than exempt. "/", which would exempt every path, a bad escape, an
	// encoded slash and an empty, "." or ".." segment ("/a//b", "/a/../")
	// are errors. Default none.
	Exempt []string

	// Temporary uses 302 and 307 instead of 301 and 308, which browsers
	// cache. Use it while trying a deployment. Default false.
	Temporary bool

	// RedirectUnsafeMethods redirects requests with a method other than
	// GET and HEAD with 308 (307 with Temporary), which keeps the method
	// and body. Default false: they are refused with 400, as
	// golang.org/x/crypto/acme/autocert does. Their body (a password, a
	// token) has already crossed the network in clear, and a redirect
	// would let the client carry on without anyone noticing.
	RedirectUnsafeMethods bool

	// OnReject writes the response for a request whose host is not
	// allowed when no Host is configured (err wraps [ErrHostNotAllowed]),
	// and for a request with a method other than GET and HEAD (err wraps
	// [ErrUnsafeMethod]). Default: a generic 400 problem response.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// Redirect is middleware that sends plain HTTP requests to HTTPS: 301 for
// GET and HEAD, path and query kept; requests with other methods are
// refused with 400 ([ErrUnsafeMethod]), or redirected with 308 (which
// keeps the method and body) when RedirectOptions.RedirectUnsafeMethods
// is set. Requests that came over HTTPS and exempt paths are passed to
// the next handler. A Redirect is immutable and safe for concurrent use.
// The zero Redirect has no target and rejects every plain HTTP request
// with 400.
type Redirect struct {
	rv        *clientip.Resolver
	canonical string            // "https://host[:port]" or ""
	hosts     hostset.Set       // AllowedHosts
	prefixes  map[string]string // exact allowed host → "https://host[:port]"
	port      string            // ":8443" or ""
	exempt    []string
	get, post int // post is 0 when unsafe methods are refused
	onReject  func(http.ResponseWriter, *http.Request, error)
}

// NewRedirect validates o and returns a Redirect.
func NewRedirect(o RedirectOptions) (*Redirect, error) {
	var errs []error
	fail := func(field, value string, err error) {
		errs = append(errs, &OptionError{Field: "RedirectOptions." + field, Value: value, Err: err})
	}
	rd := &Redirect{
		rv: o.ClientIP, prefixes: map[string]string{}, onReject: o.OnReject,
		get: http.StatusMovedPermanently, post: http.StatusPermanentRedirect,
	}
	if o.Temporary {
		rd.get, rd.post = http.StatusFound, http.StatusTemporaryRedirect
	}
	if !o.RedirectUnsafeMethods {
		rd.post = 0
	}
	switch {
	case o.HTTPSPort == 0, o.HTTPSPort == 443:
	case o.HTTPSPort < 0 || o.HTTPSPort > 65535:
		fail("HTTPSPort", strconv.Itoa(o.HTTPSPort), because(ErrOption, "not a port"))
	default:
		rd.port = ":" + strconv.Itoa(o.HTTPSPort)
	}
	host := o.Host
	if host == "" {
		if origin, ok := o.ClientIP.PublicOrigin(); ok && strings.HasPrefix(origin, "https://") {
			host = strings.TrimPrefix(origin, "https://")
		}
	}
	if host != "" {
		h, port, wildcard, err := parseHostPattern(host)
		switch {
		case err != nil:
			fail("Host", host, err)
		case wildcard:
			fail("Host", host, because(ErrHost, "the canonical host cannot be a wildcard"))
		default:
			rd.canonical = "https://" + h
			if port != "" && port != "443" {
				rd.canonical += ":" + port
			}
		}
	}
	for i, p := range o.AllowedHosts {
		h, port, wildcard, err := parseHostPattern(p)
		if err != nil {
			fail("AllowedHosts["+strconv.Itoa(i)+"]", p, err)
			continue
		}
		rd.hosts.Add(h, port, wildcard)
		if !wildcard {
			rd.prefixes[h] = "https://" + h + rd.port
		}
	}
	if rd.canonical == "" && len(o.AllowedHosts) == 0 && len(errs) == 0 {
		fail("Host", "", because(ErrNoHost, "set Host, AllowedHosts, or a ClientIP with an https PublicOrigin"))
	}
	for i, p := range o.Exempt {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") || strings.Contains(p, "//") {
			fail("Exempt["+strconv.Itoa(i)+"]", p, because(ErrPath, "must be an absolute path without query"))
			continue
		}
		if p == "/" {
			// Found in review: a prefix of every path turned the
			// redirect off without a word.
			fail("Exempt["+strconv.Itoa(i)+"]", p, because(ErrPath, "exempts every path: leave the redirect out instead"))
			continue
		}
		// Written as a ServeMux pattern is, escaped, and matched
		// unescaped. Found in review: kept as written, "/status%20page"
		// redirected its own route and exempted "/status%2520page",
		// which ServeMux routes elsewhere.
		if strings.Contains(p, "%2F") || strings.Contains(p, "%2f") {
			fail("Exempt["+strconv.Itoa(i)+"]", p, because(ErrPath, "an encoded slash: a path holding one is never exempt"))
			continue
		}
		u, err := url.PathUnescape(p)
		if err != nil {
			fail("Exempt["+strconv.Itoa(i)+"]", p, because(ErrPath, `bad escape: write it as in a ServeMux pattern ("%25" for "%")`))
			continue
		}
		// A dot or empty segment is never routed as written: ServeMux redirects
		// to the clean path. Found in review: the prefix "/a/../"
		// exempted every path to a handler that cleans paths itself
		// (http.FileServer served "/a/../secret" over plain HTTP).
		if clean := path.Clean(u); clean != u && clean+"/" != u {
			fail("Exempt["+strconv.Itoa(i)+"]", p, because(ErrPath, `not clean: an empty, "." or ".." segment`))
			continue
		}
		rd.exempt = append(rd.exempt, u)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rd, nil
}

// Location returns the https URL a plain HTTP request r is redirected to,
// or an error wrapping [ErrHostNotAllowed]. It does not check whether r
// came over HTTPS or is exempt, nor its method (the handler refuses a
// method other than GET and HEAD unless RedirectUnsafeMethods is set).
func (rd *Redirect) Location(r *http.Request) (string, error) {
	prefix, err := rd.prefix(r.Host)
	if err != nil {
		return "", err
	}
	return location(prefix, r), nil
}

// prefix returns "https://host[:port]" for the request's Host. A Host
// without a port is on port 80, which browsers leave out of a plain HTTP
// request's Host (found in review: "www.example.com:80" in AllowedHosts
// never matched a browser's "www.example.com").
func (rd *Redirect) prefix(hostPort string) (string, error) {
	if host, exact, ok := rd.hosts.MatchDefault(hostPort, "80"); ok {
		if exact {
			return rd.prefixes[host], nil
		}
		return "https://" + host + rd.port, nil
	}
	if rd.canonical != "" {
		return rd.canonical, nil
	}
	return "", ErrHostNotAllowed
}

// location returns prefix followed by the escaped path and query of r,
// the path starting with "/", in one allocation.
func location(prefix string, r *http.Request) string {
	p := r.URL.EscapedPath()
	slash := ""
	if !strings.HasPrefix(p, "/") {
		slash = "/"
	}
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		return prefix + slash + p + "?" + escapeQuery(r.URL.RawQuery)
	}
	return prefix + slash + p
}

// escapeQuery percent-encodes the bytes of a raw query that may not appear
// in a URI (spaces, controls, quotes, non-ASCII, a "%" without two hex
// digits), so the Location is always a valid URI. A valid query is returned
// as is, without allocating.
func escapeQuery(q string) string {
	i := 0
	for i < len(q) && queryByteOK(q, i) {
		i++
	}
	if i == len(q) {
		return q
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(q)+16)
	b = append(b, q[:i]...)
	for ; i < len(q); i++ {
		if queryByteOK(q, i) {
			b = append(b, q[i])
			continue
		}
		b = append(b, '%', hex[q[i]>>4], hex[q[i]&15])
	}
	return string(b)
}

// queryByteOK reports whether q[i] may stand as is in a URI query:
// unreserved, sub-delims, ":", "@", "/", "?", or a "%" starting a
// percent-encoding.
func queryByteOK(q string, i int) bool {
	c := q[i]
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '%':
		return i+2 < len(q) && isHex(q[i+1]) && isHex(q[i+2])
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isExempt reports whether u's path is exempt. A path with an encoded
// slash is never exempt: ServeMux routes on the path as sent, where "%2F"
// is not a separator, so "/.well-known%2Facme-challenge/x" would name the
// exempt prefix once decoded and reach another route over plain HTTP.
func (rd *Redirect) isExempt(u *url.URL) bool {
	if strings.Contains(u.RawPath, "%2F") || strings.Contains(u.RawPath, "%2f") {
		return false
	}
	path := u.Path
	for _, e := range rd.exempt {
		if path == e || strings.HasSuffix(e, "/") && strings.HasPrefix(path, e) && !strings.Contains(path[len(e):], "..") {
			return true
		}
	}
	return false
}

// maxSlabLocation is the longest Location put in a slot of a
// headervals slab: 64 shards of 255 slots then keep at most about 8 MB of
// Locations reachable once the requests are gone.
const maxSlabLocation = 512

// Handler returns the redirect middleware: requests that came over HTTPS
// (as decided by RedirectOptions.ClientIP) and exempt paths go to next;
// every other request gets a redirect with an empty body, or the OnReject
// response. HSTS is not sent here: RFC 6797 forbids it over plain HTTP.
func (rd *Redirect) Handler(next http.Handler) http.Handler {
	if rd == nil {
		rd = &Redirect{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rd.rv.IsHTTPS(r) || len(rd.exempt) > 0 && rd.isExempt(r.URL) {
			next.ServeHTTP(w, r)
			return
		}
		prefix, err := rd.prefix(r.Host)
		code := rd.get
		if err == nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if code = rd.post; code == 0 {
				err = ErrUnsafeMethod
			}
		}
		if err != nil {
			problem.SetReason(r, err)
			if rd.onReject != nil {
				rd.onReject(w, r, err)
				return
			}
			// problem.Reject, its header values in slots of this
			// response's own.
			problem.WriteInto(w, http.StatusBadRequest, headervals.Take(problem.Slots), false)
			return
		}
		// The value's slice comes from headervals, without an
		// allocation of its own: it belongs to this response alone. A
		// slot of a slab stays reachable, with the string it holds,
		// until the slab's other slots are used, which on an idle
		// server can be never: a long Location (the client's path and
		// query) gets a slice of its own, so that the slabs never keep
		// more than maxSlabLocation bytes a slot. (Found in a soak test:
		// 4 000 redirects of a 60 KB path left 248 MB reachable.)
		loc := location(prefix, r)
		var v []string
		if len(loc) <= maxSlabLocation {
			v = headervals.Take(1)
		} else {
			v = make([]string, 1)
		}
		v[0] = loc
		w.Header()["Location"] = v
		w.WriteHeader(code)
	})
}
