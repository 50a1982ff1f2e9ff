// Package cors implements the server side of the [CORS protocol] of the
// Fetch standard: it tells browsers which other origins may read this
// server's responses, and answers their preflight requests.
//
//	c, err := cors.New(cors.Options{
//		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com"},
//		AllowedMethods:   []string{http.MethodPut, http.MethodDelete},
//		AllowedHeaders:   []string{"Content-Type", "Authorization"},
//		AllowCredentials: true,
//		MaxAge:           time.Hour,
//	})
//	if err != nil {
//		log.Fatal(err) // a bad configuration fails at start, never per request
//	}
//	srv.Handler = c.Handler(mux) // srv from https.NewServer, which sets timeouts
//
// # What CORS is and is not
//
// CORS relaxes the same-origin policy: it lets scripts of the allowed
// origins read responses they could otherwise send requests for but not
// read. It does not stop requests. A disallowed origin's simple request
// (a GET, or a form POST) still reaches the handler; only the response is
// withheld from the script. Protect state-changing endpoints against
// cross-site requests with package csrf, which accepts the same origin
// list.
//
// # Origins
//
// [Options.AllowedOrigins] takes exact origins ("https://app.example.com",
// "http://localhost:3000"), subdomain patterns ("https://*.example.com",
// which matches proper subdomains at any depth, never the domain itself
// nor look-alikes such as "https://evilexample.com" or
// "https://example.com.evil.net"), or "*" alone. Every entry is parsed at
// [New]; anything a browser could never send as an Origin (userinfo, a
// path, a wildcard elsewhere than the whole first label) is an error, and
// so are combinations that cannot be safe:
//
//   - "*", or an http origin on a non-loopback host, with
//     AllowCredentials: errors unless
//     [Options.DangerouslyAllowCredentialsWithAnyOrigin] or
//     [Options.DangerouslyAllowInsecureOrigins] is set;
//   - "null": an error unless [Options.DangerouslyAllowNullOrigin] is set,
//     because any page can send it;
//   - "*" in AllowedMethods, AllowedHeaders or ExposedHeaders with
//     AllowCredentials, which browsers would read as a literal name.
//
// Request Origin values are matched exactly against the canonical form
// browsers send: lower case, no default port. A value in any other form
// never matches and is never echoed.
//
// # Responses
//
// For an allowed origin, actual responses carry Access-Control-Allow-Origin
// (the origin, or "*" for a credential-less "*" configuration),
// Access-Control-Allow-Credentials and Access-Control-Expose-Headers as
// configured. A disallowed origin gets no CORS header at all: neither the
// list of allowed origins nor anything else is revealed.
//
// Every response whose headers depend on the Origin carries "Vary: Origin",
// including responses to disallowed origins and to requests without an
// Origin, so a shared cache never serves one origin's response to another.
// Responses to OPTIONS also vary on Access-Control-Request-Method,
// Access-Control-Request-Headers and Access-Control-Request-Private-Network.
// Vary values already set by an outer middleware are kept. A handler
// behind the middleware must add to Vary (Header().Add), not set it: Set
// replaces "Origin", and a shared cache could then serve one origin's
// grant to another.
//
// A preflight is an OPTIONS request with Origin and
// Access-Control-Request-Method. A successful one is answered with
// [Options.PreflightStatus] (204 by default) and the allow headers; a
// failed one (origin, method, header or private-network request not
// allowed) with [Options.OnReject], by default a 403 problem response with
// no allow header, and the reason recorded for the access log. With
// [Options.OptionsPassthrough] both reach the next handler. There is no
// debug logger (rs/cors's Debug): the reason is in the access log of
// errorsafe (errorsafe.RejectReason), and [Middleware.Check] tells why any
// request would not be granted.
//
// # Behind a gateway
//
// When the middleware wraps a [net/http/httputil.ReverseProxy], the proxy
// adds the backend's response header fields to those the middleware set,
// with [net/http.Header.Add]. A backend that answers CORS itself then
// grants what the middleware refuses: a legacy backend that echoes every
// Origin with Access-Control-Allow-Credentials lets any site read the
// user's data through the gateway, whatever [Options.AllowedOrigins]
// says. For the origins the middleware allows, Access-Control-Allow-Origin
// has two values (the origin twice, or the origin and "*"), which browsers
// reject, so the grant fails. Set the proxy's ModifyResponse to
// [Middleware.ModifyResponse], which removes the backend's CORS headers
// and leaves the decision to the middleware; Vary needs nothing, its
// values add up. Preflights are answered by the middleware and never
// reach the backend, unless [Options.OptionsPassthrough] is set, when the
// backend's answer is cleaned the same way. After forwarding a backend's
// 1xx response (103 Early Hints, or a 100 Continue) the proxy clears the
// header map, CORS headers included, and the browser refuses the final
// response to an allowed origin: wrap the proxy with the headers package's
// KeepAcross1xx, which puts them back.
//
// # Performance
//
// Everything that can be is computed by [New]. Matching an Origin does
// not allocate: up to eight exact origins are compared one by one, a
// longer list is a map looked up only when some entry has the value's
// length, and a subdomain pattern compares the scheme prefix and the
// domain tail, then checks at most a host's length of labels in between,
// without parsing the whole value. Only a host two or more labels under
// the pattern's domain costs one allocation: its public suffix is looked
// up, so that a host under a public suffix below the domain
// ("x.s3.amazonaws.com" under "*.amazonaws.com") is refused. Header
// values are written into slots that belong to the response alone (never
// a slice shared between requests, which a handler could overwrite for
// everyone: rs/cors#198), carved from chunks that serve many requests,
// so the amortized cost is zero allocations per request on every path,
// the default answer to a failed preflight included: its 403 problem
// response is written into the same slots. (Two exceptions: the Origin
// two or more labels under a pattern's domain above, and, with
// AllowedHeaders "*", a preflight that sends Access-Control-Request-Headers
// on several lines, which browsers do not, has them joined into one
// value.)
// Access-Control-Request-Headers is read in one pass with fixed bounds: a
// megabyte of commas or a megabyte-long name is rejected after reading at
// most a kilobyte.
//
// # Security considerations
//
//   - Place the middleware outside authentication. Browsers send preflights
//     without credentials, so an authentication middleware in front of
//     CORS rejects every preflight; see the incorrectAuthOutside example
//     of [Middleware.Handler].
//   - Register it for every method of a route. A method-specific pattern
//     such as "POST /api" in [net/http.ServeMux] never routes the OPTIONS
//     preflight to the middleware; wrap the whole mux instead.
//   - [Options.AllowOriginFunc] sees only the origin: the decision cannot
//     depend on other request headers that Vary would have to list
//     (rs/cors#157). For the same reason there is no request-aware
//     function like rs/cors's AllowOriginVaryRequestFunc: each header it
//     reads must also be named in Vary, and one forgotten lets a shared
//     cache serve one client's grant to another. Whatever it allows is
//     allowed with credentials when AllowCredentials is set.
//   - Subdomain patterns trust every subdomain, including ones a third
//     party can host content on. By the Public Suffix List, the package
//     refuses patterns over a public suffix ("https://*.com",
//     "https://*.co.uk", "https://*.github.io") or over a domain whose
//     subdomains all are ("https://*.run.app"), and a pattern never
//     matches a host under a public suffix below its domain
//     ("https://*.amazonaws.com" does not match
//     "https://bucket.s3.amazonaws.com"). It cannot know your own domain's
//     subdomains where others host content.
//   - Private Network Access is a Chromium mechanism; allow it only on
//     services meant to be reached from public websites.
//
// [CORS protocol]: https://fetch.spec.whatwg.org/#http-cors-protocol
package cors
