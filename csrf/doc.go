// Package csrf protects against cross-site request forgery: a page on
// another site making the user's browser send a state-changing request,
// with the user's cookies, to this server.
//
//	p, err := csrf.New(csrf.Options{
//		TrustedOrigins: []string{"https://admin.example.com"},
//		Exempt:         []csrf.Exemption{{Pattern: "POST /webhooks/stripe", Reason: "signed by Stripe, sent server to server"}},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv.Handler = p.Handler(mux) // srv from https.NewServer, which sets timeouts
//
// # How requests are judged
//
// The default protection needs no token, no cookie and no change to forms.
// It decides with headers that browsers set and scripts cannot forge, the
// algorithm of [net/http.CrossOriginProtection] (Go 1.25) and
// filippo.io/csrf, which OWASP lists as a primary defence:
//
//   - GET, HEAD and OPTIONS are safe and pass. Handlers must not change
//     state on them. A safe request with a _method query parameter, which a
//     cross-site link or image can carry, is checked as unsafe. A
//     middleware that overrides the method (from X-HTTP-Method-Override or
//     a _method form field) belongs outside this one, so that the method
//     checked is the method the handler runs: a cross-site POST turned
//     into a DELETE is then checked as a DELETE, and one turned into a GET
//     runs a safe handler.
//   - Sec-Fetch-Site, sent by every browser since 2023: "same-origin" and
//     "none" pass, "same-site" passes only with [Options.AllowSameSite],
//     anything else is cross-origin and rejected unless the Origin header
//     is a trusted origin.
//   - Without it, Origin must equal the request's own origin (scheme, host
//     and port) or a trusted origin.
//   - With neither header the request is not from a current browser: a
//     command-line or server-side client, which CSRF cannot abuse, or a
//     browser from before 2020. It passes, unless tokens are enabled.
//
// # Differences from net/http's CrossOriginProtection
//
// The package builds on the same decision and adds what a service needs
// around it:
//
//   - rejections go through [Options.OnReject], by default a generic 403
//     problem response, and the reason (an exported sentinel) is recorded
//     for the access log;
//   - the Origin fallback compares the scheme too, using the
//     [clientip.Resolver] the application configured, so an http page
//     cannot post to the https site (net/http fails open there, by design)
//     when the scheme is known: behind a TLS-terminating proxy that needs
//     [Options.ClientIP] (see Security considerations);
//     the Host comparison ignores ASCII case and the default port;
//   - an Origin with userinfo ("https://evil@example.com") or in any form
//     a browser would not send is rejected (golang/go#78563);
//   - several Sec-Fetch-Site values are rejected, not resolved to the
//     first;
//   - trusted origins may be subdomain patterns and are compared by
//     scheme, host and port (gorilla/csrf CVE-2025-47909 trusted the http
//     origin of a trusted host);
//   - exemptions are exact paths, each with a reason, never the paths
//     ServeMux would redirect to them (CVE-2025-47910); a {name} wildcard
//     stands for one non-empty segment, and subtrees ("/hooks/",
//     {name...}) are refused, since they would exempt routes added later
//     without review;
//   - tokens for old browsers, below.
//
// # Tokens
//
// [Options.Tokens] adds synchronizer tokens for requests that carry neither
// header (or for every unsafe request, with [TokenOptions.Always]). Tokens
// are HMACs of the session identifier the application supplies
// ([TokenOptions.SessionID]), so a token from one session is worthless in
// another, or, before a session exists, of a random value in a
// "__Host-csrf" cookie that subdomains cannot overwrite (signed double
// submit). A token bound to that cookie stays valid after a session
// starts, so a form rendered before, or by the response that starts the
// session, can still be posted, unless the request carried the cookie of
// a session that had ended; [TokenOptions.SessionID] says which forms a
// change of session voids. Nothing is stored server-side. [Token] masks
// the token with fresh randomness on every call (BREACH); [TemplateField]
// renders the hidden form field for html/template. The token is read from
// the X-CSRF-Token header or from the csrf_token form field.
//
// Clients that are not browsers send neither header either, so a
// Middleware with tokens refuses their unsafe requests too (with
// [ErrTokenMissing]), [TokenOptions.Always] or not: an OAuth2 token
// endpoint, an API called with bearer tokens, a webhook. In a service that
// has both, the stack keeps a Middleware without tokens for every route,
// and a second one with tokens wraps the browser routes only (their forms
// and the handlers they post to), as [TokenOptions] shows.
//
// # In another site's frame
//
// The checks need nothing for an application embedded in a cross-site
// iframe: the frame's requests to its own origin are same-origin, and the
// embedding page's requests to it are cross-site and rejected. Tokens
// need a cookie the browser keeps in the frame: with
// [TokenOptions.Partitioned] the token cookie is a partitioned cookie
// ([CHIPS]) with SameSite=None, kept apart for each embedding site, since
// browsers neither store nor send a SameSite=Lax cookie in a cross-site
// frame. Bind tokens to a session whose cookie is partitioned too
// (session.Options.Partitioned).
//
// # Security considerations
//
//   - Place the middleware before session and authentication middleware,
//     so forged requests are rejected before any state is read.
//   - Behind a TLS-terminating proxy, configure [Options.ClientIP] with
//     [clientip.Options.TrustedProxies], or [clientip.Options.PublicOrigin]
//     when the proxy rewrites Host. Without it the server sees plain http
//     and takes the request's own origin for http://host, which is not
//     only a source of false rejections: for browsers that send no
//     Sec-Fetch-Site, same-origin requests from the https site are
//     rejected, and requests from an http page of the same host (which a
//     network attacker can serve where HSTS is not in force) are
//     accepted.
//   - Exempt routes accept forged requests: authenticate them otherwise
//     (signatures, tokens in the body), never with cookies.
//   - There is no per-request skip function (gorilla/csrf's
//     UnsafeSkipCheck, echo's Skipper): a condition on the request is one a
//     forged request may meet too, and it cannot be reviewed as a list of
//     routes can. A request authenticated only by a bearer token needs no
//     protection, but the decision must rest on the absence of the session
//     cookie, not on the presence of the token: choose the middleware per
//     request on that, as examples/secureapi does.
//   - Sec-Fetch-Site is trusted as browsers send it. A proxy that strips
//     or rewrites it weakens the protection to the Origin check.
//   - CORS is a separate concern: allowing an origin to read responses
//     (package cors) does not allow it to send unsafe requests here unless
//     it is also in [Options.TrustedOrigins].
//   - The token cookie has fixed attributes (gorilla/csrf's Domain, Path,
//     MaxAge and SameSite options have no counterpart): Secure (unless
//     [TokenOptions.DangerouslyAllowInsecureCookie]), HttpOnly,
//     SameSite=Lax (SameSite=None and Partitioned with
//     [TokenOptions.Partitioned]), Path=/, no Domain and no Max-Age. The
//     "__Host-" name requires the first and the absence of a Domain, so
//     that no sibling subdomain can plant one; the cookie lasts as long as
//     the browser session. SameSite is not what protects the tokens: a
//     forged request needs a token, which is an HMAC of the cookie's
//     value that the forging page cannot read.
//   - The token cookie is issued only on the response to a request that
//     passed, never on a rejection nor on an unsafe request to an exempt
//     route: a cross-site top-level POST arrives without the SameSite=Lax
//     cookie, and a cookie on its response would replace the victim's and
//     void the forms it has open.
//   - A response that issues the token cookie carries "Cache-Control:
//     private" and "Vary: Cookie"; a Cache-Control set further out is kept
//     as it is when it has a bare private directive (not one naming
//     fields) or no-store, and otherwise gets private first, without its
//     public, s-maxage and field-naming private directives (no-cache and
//     max-age stay, for the browser's cache); the fields a CDN obeys
//     instead of Cache-Control (CDN-Cache-Control, Surrogate-Control)
//     are removed. A handler that
//     replaces them with public caching would let a shared cache hand one
//     client's cookie to others.
//
// [CHIPS]: https://developer.mozilla.org/en-US/docs/Web/Privacy/Guides/Third-party_cookies/Partitioned_cookies
package csrf
