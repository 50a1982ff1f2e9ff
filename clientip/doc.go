// Package clientip resolves the client address, the scheme and the host of
// a request, trusting forwarding headers only from proxies the operator
// names. Every httpguard package that needs one of these (HSTS in headers,
// the redirect in https, the origin check in csrf, the key in ratelimit)
// takes the one [Resolver] the application configures, so trust is decided
// once, in one place.
//
// # Trust
//
// The zero [Resolver] (and a nil *Resolver) trusts no proxy: the address is
// the host part of [net/http.Request.RemoteAddr], the scheme is "https"
// exactly when [net/http.Request.TLS] is set, and the host is
// [net/http.Request.Host]. This is the right setting for a server that
// faces clients directly, and any other setting there would let every
// client choose its own address.
//
// Behind proxies, list their addresses in [Options.TrustedProxies] and name
// the header they set in [Options.Header]. Forwarding headers are read only
// when the direct peer is in that list, and only the one header named: a
// proxy that sets X-Forwarded-For passes a client's own Forwarded header
// through untouched, so reading both would let the client choose.
//
// A proxy that connects over a Unix socket cannot be trusted: its
// RemoteAddr ("@" or empty) is no address, so its forwarding headers are
// never read, every request resolves to the zero Addr and the scheme
// is http. Have such a proxy connect over TCP (loopback) and trust that
// address.
//
// X-Forwarded-For and Forwarded are walked from the right, skipping the
// trusted proxies, to the first address that is not trusted: that is the
// client. Entries further left were written by the client and are ignored.
// If every entry is trusted, the leftmost is the client; the walk stops
// after 32 entries, whose last is then taken for the client. Several
// header lines are read as one list, in order.
//
// # Garbage
//
// An entry that is not an address (garbage, "unknown", an RFC 7239
// obfuscated identifier such as "_hidden", a Forwarded element without
// for, an empty item) is never used as one. The walk stops there and the
// result is the last trusted hop that was reached, which is the direct
// peer when the first entry read is already unusable. The walk also stops
// after 32 trusted hops.
//
// # Scheme
//
// With [XForwardedFor] and [XRealIP], the scheme comes from
// X-Forwarded-Proto; with [Forwarded], from the proto parameter of the
// element that named the client. When that element hides the client
// ("unknown", an obfuscated name, no for at all, as from a proxy set to
// disclose the scheme alone) and the last trusted proxy stands for it,
// the hiding element's proto still describes the client's connection and
// is used; without one, the proto of the element that named that proxy
// is. Only "http" and "https" are accepted; anything else, or no value,
// falls back to whether the connection to this server used TLS.
//
// X-Forwarded-Proto carries no address, so its values are matched to the
// X-Forwarded-For hops by position: when it holds at least as many values
// as hops were walked, the one as far from the right as the client was
// (written by the proxy that received the client's connection) is used;
// otherwise the rightmost. The proxies must therefore
// agree: either the edge proxy overwrites X-Forwarded-Proto (a client's
// value never survives) or every trusted proxy appends to it. A chain in
// which the edge appends and an inner proxy passes the header through
// lines a client's own value up with the edge's hop, and the client
// decides its scheme.
//
// With [XRealIP] there are no hops to count, and the rightmost value, the
// nearest proxy's, is always used. Behind several proxies the edge must
// overwrite X-Forwarded-Proto and the others pass it through: when each
// appends, the inner proxy's "http" is taken for a client that used
// https.
//
// # Public origin
//
// A proxy that rewrites Host hides the host the client asked for.
// [Options.PublicOrigin] records the service's public origin once, so
// redirects, HSTS and origin checks agree on it. X-Forwarded-Host is never
// read.
//
// # In front of a reverse proxy
//
// When the service is itself a gateway, a [net/http/httputil.ReverseProxy]
// behind httpguard's middleware, the resolver's view is unaffected: the
// proxy sends a clone of the request and leaves the one the middleware
// read alone. The backend sees what the proxy sends. With a Director (as
// from NewSingleHostReverseProxy) it appends the gateway's peer to the
// client's X-Forwarded-For, so the backend must believe only the
// rightmost entry, the one the gateway wrote: a client can put anything
// before it. With Rewrite, the client's forwarding headers are dropped
// and [net/http/httputil.ProxyRequest.SetXForwarded] writes the peer
// alone, which behind a load balancer is the balancer. To hand the
// backend the address and scheme the resolver found, set them in Rewrite:
//
//	pr.Out.Header.Set("X-Forwarded-For", resolver.Addr(pr.In).String())
//	if resolver.IsHTTPS(pr.In) {
//		pr.Out.Header.Set("X-Forwarded-Proto", "https")
//	} else {
//		pr.Out.Header.Set("X-Forwarded-Proto", "http")
//	}
package clientip
