// Package httpguard is a set of independent security middleware packages
// for [net/http]. A service imports only the protections it needs and wraps
// its mux in a few lines; each package answers one threat:
//
//   - auth: requests from unknown callers. HTTP Basic with hashed passwords
//     compared in constant time, API keys, JWT bearer tokens, token issuing,
//     an OAuth2 token endpoint and scopes.
//   - auth/password: stolen password databases and timing oracles. argon2id
//     hashing, bcrypt verification, rehash detection.
//   - rbac: broken access control. Roles to permissions, least privilege,
//     ownership checks, 403 on deny.
//   - headers: clickjacking, MIME sniffing, cross-site scripting, referrer
//     leaks and Host header attacks. HSTS, CSP with nonces, frame, sniff and
//     referrer policies, allowed hosts.
//   - https: eavesdropping and downgrade. HTTP to HTTPS redirect, a hardened
//     TLS server, ACME and development certificates.
//   - cors: cross-origin reads the server did not mean to share.
//   - csrf: cross-site request forgery. Fetch Metadata and Origin checks,
//     tokens for old clients.
//   - session: session fixation, hijacking and tampering. Secure cookie
//     attributes, encrypted cookie sessions, server-side stores in memory
//     and Redis.
//   - sanitize: injection and resource exhaustion through input. HTML
//     sanitizing, bounded strict JSON decoding, validation.
//   - errorsafe: information leaks through errors and logs. Panic recovery,
//     generic client errors, redacted structured logs, request IDs.
//   - ratelimit: brute force and denial of service. GCRA limits per client
//     address, user or key, in memory or shared through Redis.
//   - identity: the authenticated principal, the only glue between packages.
//   - clientip: address and scheme spoofing through forwarding headers.
//     Proxy trust decided once, for every package.
//
// The packages never import each other's concerns; they meet through
// identity and clientip. [Chain] composes their middleware in the
// recommended order, outermost first:
//
//	errorsafe.Recover → errorsafe request ID + access log → headers →
//	https.Redirect → cors → ratelimit (by IP) → csrf → session → auth →
//	ratelimit (by identity) → rbac → handler
//
// Headers sit outside the redirect so that the redirect, too, carries them
// (HSTS only over HTTPS). CORS sits outside auth because browsers send
// preflight requests without credentials.
//
// In front of an [net/http/httputil.ReverseProxy] the stack is a gateway,
// and the proxy adds the backend's response header fields to those the
// middleware set: a backend's Referrer-Policy, Permissions-Policy or
// Cross-Origin-*-Policy then undoes the gateway's (a backend's differing
// X-Frame-Options only makes browsers refuse every frame), and a backend
// that grants CORS to every origin grants what cors refuses. Set the
// proxy's ModifyResponse to call the ModifyResponse methods of headers,
// cors and session, which remove the backend's copies of the fields those
// middlewares own, and keep the session cookie out of the request the
// proxy sends (the session package documentation shows both). Wrap the
// proxy itself with headers.KeepAcross1xx: after forwarding a backend's
// 1xx response (103 Early Hints, or a 100 Continue) the proxy clears the
// response's header map, which would leave the final response with none of
// the fields the stack set. errorsafe replaces a backend's 5xx bodies like
// any handler's.
package httpguard

import "net/http"

// Chain returns a middleware that applies mws in order, the first one
// outermost: Chain(a, b, c)(h) is a(b(c(h))). A nil entry is skipped. The
// slice is copied, so changing it afterwards has no effect.
func Chain(mws ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	mws = append([]func(http.Handler) http.Handler(nil), mws...)
	return func(h http.Handler) http.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			if mws[i] != nil {
				h = mws[i](h)
			}
		}
		return h
	}
}
