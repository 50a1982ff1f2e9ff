package clientip

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/httpguard/httpguard/internal/hostport"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/origins"
)

// Header names the forwarding header a trusted proxy sets.
type Header int

const (
	// XForwardedFor reads X-Forwarded-For for the address and
	// X-Forwarded-Proto for the scheme. It is the default.
	XForwardedFor Header = iota
	// Forwarded reads the RFC 7239 Forwarded header: the for and proto
	// parameters of its elements.
	Forwarded
	// XRealIP reads X-Real-IP, a single address set by the proxy, and
	// the rightmost X-Forwarded-Proto value for the scheme.
	XRealIP
)

// String returns the header's name.
func (h Header) String() string {
	switch h {
	case XForwardedFor:
		return "X-Forwarded-For"
	case Forwarded:
		return "Forwarded"
	case XRealIP:
		return "X-Real-IP"
	}
	return fmt.Sprintf("Header(%d)", int(h))
}

// maxHops bounds the trusted hops a walk skips.
const maxHops = 32

// Options configures a [Resolver]. The zero Options trusts no proxy.
// Mutating an Options after [New] has no effect on the Resolver.
type Options struct {
	// TrustedProxies are the networks of the proxies in front of this
	// server. Forwarding headers are read only from a direct peer inside
	// one of them, and hops inside them are skipped when walking a list.
	// IPv4-mapped IPv6 prefixes are treated as IPv4. A network wider than
	// /8 (IPv4) or /24 (IPv6) that is not private address space (such as
	// 0.0.0.0/0) is an error unless DangerouslyTrustBroadNetworks is set.
	// The published edge ranges of CDNs fit (Cloudflare's widest IPv6
	// network is a /29, CloudFront's a /28).
	// Default: none, so forwarding headers are ignored.
	TrustedProxies []netip.Prefix

	// DangerouslyTrustBroadNetworks permits TrustedProxies wider than /8
	// or /24 outside private address space. Every client inside such a
	// network can choose the address it is seen from with a forwarding
	// header, which voids rate limits and lockouts by address: set it
	// only when nothing but the proxies can reach the server. Default:
	// false.
	DangerouslyTrustBroadNetworks bool

	// Header is the forwarding header the trusted proxies set. Only this
	// one is read. Default: [XForwardedFor].
	Header Header

	// PublicOrigin is the origin clients use to reach the service, such
	// as "https://api.example.com", for deployments whose proxy rewrites
	// Host. It must be an http or https URL with a host and nothing after
	// it (a trailing "/" is allowed). It is kept in the form browsers send
	// in Origin: the scheme's default port removed, the host lower-cased,
	// an IPv6 address in its canonical text; a form no browser sends (a
	// port with a leading zero, "127.1", a raw non-ASCII name: write
	// punycode) is an error. Default: none, so the request's Host is
	// used.
	PublicOrigin string
}

// Resolver resolves the client address, scheme and host of requests. The
// zero value and a nil *Resolver are valid and trust no proxy. A Resolver is
// immutable and safe for concurrent use.
type Resolver struct {
	trusted      []netip.Prefix
	header       Header
	publicOrigin string
	publicScheme string
	publicHost   string
}

// Errors returned by [New], wrapped with the offending value.
var (
	ErrTrustedProxy = errors.New("clientip: invalid trusted proxy prefix")
	ErrHeader       = errors.New("clientip: unknown forwarding header")
	ErrPublicOrigin = errors.New("clientip: invalid public origin")
)

// New validates o and returns a Resolver. Every problem is reported, joined
// with [errors.Join].
func New(o Options) (*Resolver, error) {
	var errs []error
	rv := &Resolver{header: o.Header}
	for _, p := range o.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("%w: %v", ErrTrustedProxy, p))
			continue
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Addr().Zone() != "" {
			errs = append(errs, fmt.Errorf("%w: %v has a zone", ErrTrustedProxy, p))
			continue
		}
		if broad(p) && !o.DangerouslyTrustBroadNetworks {
			// Found in review (of the example server): 0.0.0.0/0 made
			// every client a proxy, free to choose its own address.
			errs = append(errs, fmt.Errorf("%w: %v is wider than /8 (IPv4) or /24 (IPv6) and not private: every client in it could choose its address (see DangerouslyTrustBroadNetworks)", ErrTrustedProxy, p))
			continue
		}
		rv.trusted = append(rv.trusted, p.Masked())
	}
	switch o.Header {
	case XForwardedFor, Forwarded, XRealIP:
	default:
		errs = append(errs, fmt.Errorf("%w: %d", ErrHeader, int(o.Header)))
	}
	if o.PublicOrigin != "" {
		scheme, host, err := parseOrigin(o.PublicOrigin)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %q: %v", ErrPublicOrigin, o.PublicOrigin, err))
		} else {
			rv.publicScheme, rv.publicHost = scheme, host
			rv.publicOrigin = scheme + "://" + host
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rv, nil
}

// privateIPv6 are the IPv6 blocks no client on the internet comes from:
// a trusted network inside one is not broad, however wide. (Every private
// IPv4 block is /8 or narrower, so no IPv4 network wider than /8 is
// private.)
var privateIPv6 = []netip.Prefix{
	netip.MustParsePrefix("fc00::/7"),  // unique local addresses
	netip.MustParsePrefix("fe80::/10"), // link-local addresses
}

// broad reports whether the trusted network p is wider than /8 (IPv4) or
// /24 (IPv6) and not inside private address space. The IPv6 bound was /32,
// which refused the edge networks CDNs publish (2600:9000::/28); a /24 is
// still narrower than the blocks the registries hand out, and catches the
// mistakes the bound is for (::/0, 2000::/3, a /16 typed for a /48).
func broad(p netip.Prefix) bool {
	if p.Addr().Is4() {
		return p.Bits() < 8
	}
	if p.Bits() >= 24 {
		return false
	}
	for _, b := range privateIPv6 {
		if b.Bits() <= p.Bits() && b.Contains(p.Addr()) {
			return false
		}
	}
	return true
}

// MustNew is like [New] but panics on error. Use it only with constant
// options.
func MustNew(o Options) *Resolver {
	rv, err := New(o)
	if err != nil {
		panic(err)
	}
	return rv
}

// parseOrigin parses PublicOrigin into its scheme and its host with any
// port, in the form browsers send in Origin (internal/origins): csrf
// compares the two byte for byte, and the HTTPS redirect sends browsers to
// it. A form no browser sends is an error rather than kept (found in
// review: "[2001:db8:0:0::1]" and ":0443" were kept, so every Origin
// check through the fallback failed), and so is anything no browser can
// load ("127.1", ":99999", a zone, a raw non-ASCII name).
func parseOrigin(s string) (scheme, host string, err error) {
	e, err := origins.ParseEntry(strings.TrimSuffix(s, "/"))
	switch {
	case err != nil:
		return "", "", err
	case e.Scheme != "http" && e.Scheme != "https":
		return "", "", errors.New("scheme must be http or https")
	case e.Pattern:
		return "", "", errors.New("a pattern is not an origin")
	}
	return e.Scheme, strings.TrimPrefix(e.Canonical, e.Scheme+"://"), nil
}

// Trusted reports whether addr is inside one of the trusted proxy
// networks. An IPv4-mapped address is matched as IPv4, and a zone is
// ignored.
func (rv *Resolver) Trusted(addr netip.Addr) bool {
	if rv == nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range rv.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Info is what a [Resolver] resolves for a request.
type Info struct {
	// Addr is the client address, without zone, IPv4-mapped addresses
	// unmapped. It is the zero Addr when RemoteAddr is not an IP address
	// (a Unix socket, a test that did not set it).
	Addr netip.Addr
	// Scheme is "http" or "https": the scheme the client used.
	Scheme string
	// Host is the public host if one is configured, otherwise the
	// request's Host.
	Host string
}

// Resolve returns the client address, scheme and host of r.
func (rv *Resolver) Resolve(r *http.Request) Info {
	addr, scheme := rv.resolve(r)
	return Info{Addr: addr, Scheme: scheme, Host: rv.Host(r)}
}

// Addr returns the client address of r. See [Info.Addr].
func (rv *Resolver) Addr(r *http.Request) netip.Addr {
	addr, _ := rv.resolve(r)
	return addr
}

// Scheme returns "https" or "http", the scheme the client used for r.
func (rv *Resolver) Scheme(r *http.Request) string {
	_, scheme := rv.resolve(r)
	return scheme
}

// IsHTTPS reports whether the client used HTTPS for r.
func (rv *Resolver) IsHTTPS(r *http.Request) bool { return rv.Scheme(r) == "https" }

// Host returns the configured public host, or r.Host when there is none.
func (rv *Resolver) Host(r *http.Request) string {
	if rv != nil && rv.publicHost != "" {
		return rv.publicHost
	}
	return r.Host
}

// PublicOrigin returns the configured public origin, "https://host[:port]"
// or "http://host[:port]" in the canonical form of [Options.PublicOrigin],
// and whether one is configured.
func (rv *Resolver) PublicOrigin() (string, bool) {
	if rv == nil || rv.publicOrigin == "" {
		return "", false
	}
	return rv.publicOrigin, true
}

// Origin returns the origin the client used to reach the service: the
// configured public origin, or else the resolved scheme, "://" and the
// lower-cased Host of r (with the scheme's default port removed), which is
// how a browser serializes the Origin header.
func (rv *Resolver) Origin(r *http.Request) string {
	if o, ok := rv.PublicOrigin(); ok {
		return o
	}
	scheme := rv.Scheme(r)
	host := strings.ToLower(r.Host)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:len(host)-4]
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = host[:len(host)-3]
	}
	return scheme + "://" + host
}

// tlsScheme is the scheme of the connection to this server.
func tlsScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// resolve returns the client address and scheme of r.
func (rv *Resolver) resolve(r *http.Request) (netip.Addr, string) {
	peer := parseRemoteAddr(r.RemoteAddr)
	if rv == nil || len(rv.trusted) == 0 || !peer.IsValid() || !rv.Trusted(peer) {
		return peer, tlsScheme(r)
	}
	switch rv.header {
	case Forwarded:
		return walkForwarded(rv, r.Header["Forwarded"], peer, tlsScheme(r))
	case XRealIP:
		addr := peer
		if vals := r.Header["X-Real-Ip"]; len(vals) == 1 {
			if a, ok := parseNode(httptoken.TrimOWS(vals[0])); ok {
				addr = a
			}
		}
		return addr, forwardedProto(r.Header["X-Forwarded-Proto"], 1, tlsScheme(r))
	default:
		addr, hops := walkXFF(rv, r.Header["X-Forwarded-For"], peer)
		return addr, forwardedProto(r.Header["X-Forwarded-Proto"], hops, tlsScheme(r))
	}
}

// parseRemoteAddr parses RemoteAddr, "host:port" or a bare address.
func parseRemoteAddr(s string) netip.Addr {
	if a, ok := parseIPv4Port(s); ok {
		return a
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// parseIPv4Port is the common case of parseRemoteAddr, what net/http sets
// for a TCP connection over IPv4: "a.b.c.d:port" with decimal octets
// without leading zeros and a port as hostport.ValidPort takes it. It
// reports false for anything else, which the general parser then handles;
// everything it accepts, netip.ParseAddrPort accepts with the same
// address.
func parseIPv4Port(s string) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for field := range 4 {
		// One to three digits. After a leading zero none may follow, so
		// that "01" fails at the separator.
		if i >= len(s) {
			return netip.Addr{}, false
		}
		v := uint(s[i]) - '0'
		if v > 9 {
			return netip.Addr{}, false
		}
		i++
		if v != 0 && i < len(s) {
			if d := uint(s[i]) - '0'; d <= 9 {
				v = v*10 + d
				i++
				if i < len(s) {
					if d := uint(s[i]) - '0'; d <= 9 {
						v = v*10 + d
						i++
					}
				}
			}
		}
		if v > 255 {
			return netip.Addr{}, false
		}
		ip[field] = byte(v)
		sep := byte('.')
		if field == 3 {
			sep = ':'
		}
		if i >= len(s) || s[i] != sep {
			return netip.Addr{}, false
		}
		i++
	}
	if !hostport.ValidPort(s[i:]) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// walkXFF walks X-Forwarded-For lines from the right. It returns the client
// address and the number of entries read to reach it (0 when there was no
// entry at all). A client hidden behind a trusted proxy ("unknown",
// "_hidden") is that proxy's address, but its entry is counted: the
// X-Forwarded-Proto value at its position, which the same proxy wrote,
// is the scheme the client used, as walkForwarded reads it from the
// hidden element (found in review: the next proxy's "http" was taken for
// an https client, and the HTTPS redirect looped).
func walkXFF(rv *Resolver, lines []string, peer netip.Addr) (netip.Addr, int) {
	last, hops := peer, 0
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		if httptoken.TrimOWS(rest) == "" {
			continue // an empty header line adds nothing
		}
		for {
			j := strings.LastIndexByte(rest, ',')
			hops++
			a, ok := parseNode(httptoken.TrimOWS(rest[j+1:]))
			if !ok {
				return last, hops
			}
			if !rv.Trusted(a) {
				return a, hops
			}
			last = a
			if hops >= maxHops {
				return last, hops
			}
			if j < 0 {
				break
			}
			rest = rest[:j]
		}
	}
	return last, hops
}

// forwardedProto picks the X-Forwarded-Proto value written by the proxy
// that received the client's connection: the hops-th value from the right
// when every proxy appended one, otherwise the rightmost, which the nearest
// proxy wrote. Values other than http and https are ignored.
func forwardedProto(lines []string, hops int, fallback string) string {
	if len(lines) == 0 {
		return fallback
	}
	if hops < 1 {
		hops = 1
	}
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ",") + 1
	}
	want := n - hops // index from the left
	if want < 0 {
		want = n - 1
	}
	i := 0
	for _, line := range lines {
		for item := range strings.SplitSeq(line, ",") {
			if i == want {
				return schemeOr(httptoken.TrimOWS(item), fallback)
			}
			i++
		}
	}
	return fallback
}

// parseNode parses a node as proxies write it: an IPv4 or IPv6 address,
// optionally with a port ("192.0.2.1:8080", "[2001:db8::1]:443"), an IPv6
// address in brackets without a port, or with a zone. It returns the
// address without zone and unmapped. Names, "unknown" and obfuscated
// identifiers are not addresses.
func parseNode(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := s[end+1:]
		if rest != "" && !validPort(rest) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		return a.Unmap().WithZone(""), true
	}
	// IPv4 with a port. An IPv6 address with a port must use brackets.
	// The address is checked apart from the port, whose obfuscated form
	// holds characters no address has (found in review: "192.0.2.1:_p"
	// was garbage, so a proxy's every client was seen as the proxy).
	if i := strings.LastIndexByte(s, ':'); i > 0 && strings.IndexByte(s[:i], ':') < 0 {
		if !validPort(s[i:]) || !addrChars(s[:i]) {
			return netip.Addr{}, false
		}
		if a, err := netip.ParseAddr(s[:i]); err == nil && a.Is4() {
			return a, true
		}
		return netip.Addr{}, false
	}
	if !addrChars(s) {
		return netip.Addr{}, false // not worth a parse (and its error allocation)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// addrChars reports whether s could be an address: hexadecimal digits,
// dots and colons, and anything after a "%" (an IPv6 zone).
func addrChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F', c == '.', c == ':':
		case c == '%' && i > 0:
			return true
		default:
			return false
		}
	}
	return true
}

// validPort reports whether s is ":" followed by 1 to 5 digits, or an RFC
// 7239 obfuscated port (":_" followed by ALPHA / DIGIT / "." / "_" / "-").
func validPort(s string) bool {
	if len(s) < 2 || s[0] != ':' {
		return false
	}
	s = s[1:]
	if s[0] == '_' {
		return len(s) > 1 && obfChars(s[1:])
	}
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func obfChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

type ctxKey struct{}

// infoCtx is a request context carrying an Info: one allocation for both,
// where context.WithValue would add a second for the Info it points to.
type infoCtx struct {
	context.Context
	info Info
}

func (c *infoCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.info
	}
	return c.Context.Value(key)
}

// Handler returns a middleware that resolves each request once and stores
// the [Info] in its context, for handlers to read with [FromContext]. The
// request itself (RemoteAddr, Host, headers) is not modified.
func (rv *Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(&infoCtx{Context: r.Context(), info: rv.Resolve(r)}))
	})
}

// FromContext returns the Info stored by [Resolver.Handler], and whether
// there is one.
func FromContext(ctx context.Context) (Info, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Info)
	if !ok {
		return Info{}, false
	}
	return *p, true
}
