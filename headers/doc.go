// Package headers sets security response headers, builds Content Security
// Policies with per-request nonces, receives CSP violation reports and
// rejects requests for hosts the service does not serve.
//
//	m, err := headers.New(headers.HTML())
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv.Handler = m.Handler(mux) // srv from https.NewServer, which sets timeouts
//
// # Headers
//
// Every value is rendered and validated once, by [New]; a typo is an error
// at start-up, never a header browsers silently ignore. The zero [Options]
// (the [API] preset) sends:
//
//	Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
//	Strict-Transport-Security: max-age=63072000; includeSubDomains   (HTTPS only)
//	X-Frame-Options: DENY
//	X-Content-Type-Options: nosniff
//	Referrer-Policy: no-referrer
//	Permissions-Policy: accelerometer=(), camera=(), … usb=()
//	Cross-Origin-Opener-Policy: same-origin
//	Cross-Origin-Resource-Policy: same-origin
//	X-Permitted-Cross-Domain-Policies: none
//	X-XSS-Protection: 0
//
// Three headers are sent only when their option asks for them:
// Cross-Origin-Embedder-Policy, which blocks every cross-origin resource
// that does not opt in; Origin-Agent-Cluster, which makes document.domain
// inert for a page that never sets it; and X-DNS-Prefetch-Control, whose
// "off" keeps the links a page shows (say, in users' comments) from its
// visitors' DNS resolvers, at the cost of slower link clicks.
//
// [HTML] is the preset for server-rendered pages: a nonce-based strict CSP
// (script-src 'nonce-…' 'strict-dynamic'), same-origin styles, images,
// fonts, fetches and form targets, base-uri 'none', and
// Referrer-Policy: strict-origin-when-cross-origin.
//
// The middleware sets the headers before calling the next handler, each in
// its own capacity-limited slot of a shared slab (the allocator in
// internal/headervals, which cors uses too), so a handler may still change
// or delete any of them for its response; no slice is shared between
// requests (the mistake of rs/cors#198). Without a nonce this costs no
// allocation per request, beyond the slab's amortized share.
//
// # Strict-Transport-Security
//
// RFC 6797 §7.2 forbids sending HSTS over plain HTTP, where an attacker
// could strip or forge it. The header is sent only when
// [clientip.Resolver.IsHTTPS] says the client used HTTPS: with a nil
// Options.ClientIP that is a TLS connection to this server; behind a
// TLS-terminating proxy, configure the resolver with the proxy's addresses
// so its X-Forwarded-Proto is believed, and only its. A client that sends
// X-Forwarded-Proto: https itself does not get the header (the
// martini-contrib/secure#11 and unrolled/secure mistake of trusting the
// header from anyone). The default max-age is two years with
// includeSubDomains; preload is opt-in because leaving the preload list
// takes months. There is no switch for development (unrolled/secure's
// IsDevelopment): a local server over plain HTTP gets no HSTS anyway,
// AllowedHosts can list "localhost", and a switch that turns protections
// off is one a production deployment can inherit by mistake.
//
// # Content Security Policy
//
// [CSP] has one typed field per directive. Each source expression is parsed
// by [ParseSource]: a keyword without quotes (self), a fixed nonce, a
// malformed hash or host, or text that would end the directive (";", ",",
// white space) is an error. So are sources that switch the policy off —
// 'unsafe-inline' for scripts without a nonce or hash, 'unsafe-eval',
// data: or wildcards for scripts and plugins, http: sources — unless
// CSP.DangerouslyAllowUnsafe says otherwise. 'strict-dynamic' needs a nonce
// or hash, and 'none' cannot be combined with other sources.
//
// With CSP.ScriptNonce (or StyleNonce) the middleware draws 16 bytes from
// crypto/rand for every response, writes 'nonce-…' into the policy and
// passes the nonce to the handler through the request context: read it
// with [Nonce] and give it to html/template, as in <script
// nonce="{{.Nonce}}">. A nonce is worth nothing if it repeats, so never
// cache a response that carries one in a shared cache, and never copy a
// nonce from one response into another (NetEscapades.AspNetCore#117,
// csp-html-webpack-plugin#82). A 304 carries a fresh nonce too, and a
// browser revalidating a cached page takes the 304's policy for the
// cached body, whose nonces then no longer match: serve pages with
// nonces without validators (ETag, Last-Modified) or with
// "Cache-Control: no-store".
//
// CSP.ReportOnly sends the policy as Content-Security-Policy-Report-Only;
// Options.CSPReportOnly sends a second, report-only policy next to the
// enforced one, to try a stricter policy first. CSP.ReportURI and
// CSP.ReportTo name where browsers post violations; [ReportHandler]
// receives both formats with a size limit and logs each report with
// log/slog.
//
// # Headers that override each other
//
// Some values decide for others; the defaults keep them consistent:
//
//   - CSP frame-ancestors supersedes X-Frame-Options in every browser with
//     CSP Level 2. Changing only X-Frame-Options does not allow framing
//     while the policy says frame-ancestors 'none'. When FrameOptions is
//     empty and frame-ancestors is exactly 'self', X-Frame-Options is
//     SAMEORIGIN.
//   - A nonce or hash in script-src makes browsers ignore 'unsafe-inline',
//     and 'strict-dynamic' makes them ignore 'self' and host sources:
//     every script, external ones included, then needs the nonce.
//   - A report-only policy never blocks, and frame-ancestors and sandbox
//     are ignored in it.
//   - A <meta name="referrer"> or referrerpolicy attribute in the page
//     overrides Referrer-Policy, and a <meta http-equiv> CSP adds a policy
//     (policies only ever add restrictions).
//   - Cross-Origin-Resource-Policy: same-origin stops other sites from
//     embedding responses even where CORS would let them read; CORS
//     responses are unaffected.
//   - Any header a handler sets after the middleware replaces the
//     middleware's value for that response.
//
// # Behind a gateway
//
// When the middleware wraps a [net/http/httputil.ReverseProxy] to a
// backend, the proxy adds the backend's response header fields to those
// the middleware set, with [net/http.Header.Add]: a header both send
// reaches the client with two values, and browsers then
//
//   - refuse every frame for X-Frame-Options "DENY, SAMEORIGIN": two
//     different values are a conflict, which the HTML standard and
//     Chromium read as DENY, OmitCSP or not (the browsertest module
//     shows it). A backend's value cannot loosen the gateway's, but one
//     that differs from a gateway's SAMEORIGIN (a legacy ALLOWALL, say)
//     stops same-origin frames too;
//   - take the last valid Referrer-Policy token, the backend's, which may
//     be the unsafe-url [New] refuses;
//   - apply the last Permissions-Policy member for a feature, the
//     backend's ("camera=*" undoes "camera=()"), and drop the whole
//     field when the backend's value is malformed;
//   - treat two Cross-Origin-Opener-Policy, -Embedder-Policy or
//     -Resource-Policy values, even identical ones, as none: no opener
//     isolation, and every site may embed the response;
//   - keep the first Strict-Transport-Security (RFC 6797 §8.1), the
//     gateway's, and read the first X-Content-Type-Options: harmless;
//   - enforce every Content-Security-Policy: the backend's can only add
//     restrictions.
//
// Set the proxy's ModifyResponse to [Middleware.ModifyResponse] (see its
// example): it removes the backend's copy of each header the middleware
// sends, except the policies, so the gateway's values are the only ones.
// A header left out with [Omit] is the backend's to send. On a route built
// with [Middleware.With], use that Middleware's method. The gateway's
// policy applies to the backend's pages: give proxied HTML a policy that
// fits it, without nonces (the backend cannot know the nonce [Nonce]
// gives the gateway's handlers, so every script of its pages would be
// blocked), or set OmitCSP and let the backend send its own. Package cors
// and package session have a ModifyResponse for their headers too.
//
// Wrap the proxy itself with [KeepAcross1xx]: after forwarding a
// backend's 1xx response (103 Early Hints, or the 100 Continue a client's
// Expect: 100-continue draws from it), ReverseProxy clears the header map
// (golang/go#81207), and the final response would carry none of the
// middleware's headers.
//
// # X-XSS-Protection
//
// The default is 0. The XSS auditor that "1; mode=block" switched on has
// been removed from every current browser; where it still exists it could
// be abused to delete chosen scripts from a page and to leak cross-origin
// data (an XS-Search oracle), so OWASP and MDN recommend turning it off and
// relying on CSP. "1; mode=block" remains available for compatibility.
//
// # Per-route changes
//
// [Middleware.With] derives a Middleware with changed options from an
// existing one, built once at start-up: for example a page that may be
// framed by the same origin, or an image other sites may embed with
// Cross-Origin-Resource-Policy: cross-origin. Wrap only those routes with
// it, in place of the original: inside the original's Handler, the variant
// replaces only the headers it sends itself. A header it leaves out
// (Omit, OmitCSP, no CSPReportOnly) keeps the original's value, and the
// original's report-only policy then names a nonce other than the one the
// variant gives the page, so the browser reports every nonced script.
//
// # Allowed hosts
//
// Options.AllowedHosts (after Starlette's TrustedHostMiddleware and
// Django's ALLOWED_HOSTS) rejects with 400 every request whose Host header
// is missing, malformed or not listed, exactly or as "*.example.com". This
// stops Host header injection into links and password-reset mails, cache
// poisoning and DNS rebinding against services on localhost. Matching
// ignores case and a trailing dot and handles ports and IPv6 literals
// ("[::1]:8080", Starlette#1997 and #3357); internationalized names must
// be listed as punycode, which is what clients send. Entries are names and
// "*." patterns, not regular expressions (unrolled/secure's
// AllowedHostsAreRegex), where an unescaped dot or a missing anchor lets
// other hosts through. Only the Host header is checked: X-Forwarded-Host
// (unrolled/secure's HostsProxyHeaders) is never read, not even from a
// trusted proxy, which often passes a client's value on unchecked. Behind
// a proxy that rewrites Host, have the proxy refuse unknown hosts, and
// build links from clientip.Options.PublicOrigin rather than from the
// request.
//
// # Security considerations
//
//   - Headers protect browsers, not the server: they do nothing for
//     clients that ignore them, and CSP is a second line of defence behind
//     output escaping (html/template), never a replacement.
//   - HSTS is only as right as Options.ClientIP: trust exactly the proxies
//     in front of the service.
//   - The report endpoint accepts data from anyone; every field is cut to
//     1 KiB and logged as data. Rate-limit it. The URLs of a report keep
//     the query of the page, which may hold a token: the log writes them
//     without it (an OnReport hook gets them whole).
//   - Rejections never echo the Host header or any other request data.
//
// Mozilla's HTTP Observatory grades the responses of both presets A+ under
// its published rules; the package tests check this offline.
package headers
