// Package session manages HTTP sessions: a middleware that loads and saves
// them, secure cookie defaults, server-side stores in memory ([MemoryStore])
// and Redis (session/redisstore), an encrypted cookie store
// ([CookieStore], on gorilla/securecookie), a login helper that puts an
// [identity.Identity] in the request context, and signed expiring tokens
// for links sent outside a session ([Signer]).
//
//	sessions, err := session.New(session.Options{}) // memory store, secure defaults
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		// ... check the credentials (auth.CheckPassword, each attempt reserved
//		// first with ratelimit.AttemptLimiter.Reserve), then:
//		if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: user})); err != nil {
//			http.Error(w, "try again", http.StatusServiceUnavailable)
//		}
//	})
//	srv.Handler = sessions.Handler(mux) // srv from https.NewServer; the __Host- cookie needs HTTPS
//
// # The middleware
//
// [Middleware.Handler] reads the session token from the cookie, loads the
// session (before the handler, so that the identity is in the context; or
// on first use with [Options.LazyLoad]), and saves it just before the
// response headers are written — on the handler's first WriteHeader, Write
// or Flush, or when it returns — and only if it changed or its idle
// deadline needs extending. Requests without a token never touch the
// store, and a session that holds nothing is never created. When it sets
// a cookie it also adds Vary: Cookie and Cache-Control: no-store, and
// removes the fields a CDN obeys instead of Cache-Control
// (CDN-Cache-Control and the vendors' like it, Surrogate-Control,
// Edge-Control), so a shared cache never hands one user's cookie to
// another. Most responses of
// a signed-in user set no cookie and get neither: a page that shows what
// the session holds (the user's name, their data) sets Cache-Control:
// no-store itself.
//
// The handler gets its session with [FromRequest] and uses the typed
// accessors of [Session] (GetString/SetString, GetInt, GetBool, GetFloat,
// GetBytes, GetTime, GetJSON, Delete, PopString for one-time messages).
//
// # Cookies
//
// The defaults follow RFC 6265bis and OWASP: the name __Host-session (the
// prefix makes browsers refuse the cookie unless it is Secure, host-only
// and Path=/, so a sibling subdomain cannot plant one), Secure, HttpOnly,
// SameSite=Lax, Path=/, and no Max-Age (the cookie ends with the browser;
// [Options.PersistentCookie] changes that for every session,
// [Session.RememberMe] for one, with the longer timeouts of a remembered
// session where they are set). Combinations browsers reject —
// SameSite=None without Secure, a __Host- cookie with a Domain or another
// Path — are errors from [New]. [HardenCookie] and [SetCookie] give other
// cookies the same defaults.
//
// # In another site's frame
//
// An application embedded in a cross-site iframe (a widget, a payment or
// support frame) keeps a session, in browsers that block third-party
// cookies, only with a partitioned cookie ([CHIPS]): set
// [Options.Partitioned] and SameSite to [net/http.SameSiteNoneMode]. The
// browser then keeps the session cookie in a jar of its own for each
// top-level site that embeds the frame, apart from the cookie of the
// application opened directly, so a user signs in once per embedding
// site. Every Set-Cookie of the session cookie carries Partitioned, the
// one that expires it on logout included: a deletion without the
// attribute would address another cookie and leave this one. Partitioned
// without Secure, or without SameSite=None, is an error from [New]:
// browsers reject the first, and neither store nor send the second in a
// cross-site frame, so the frame would have no session while the
// application opened directly works. The frame also needs the headers
// package to let the embedding sites frame it (CSP frame-ancestors), and
// csrf tokens, where they are used, csrf.TokenOptions.Partitioned.
//
// # Timeouts
//
// Both timeouts are enforced by the server from times kept inside the
// session record, whatever the cookie's lifetime says: [Options.IdleTimeout]
// (default 30 minutes) and [Options.AbsoluteTimeout] (default 12 hours,
// counted from login), the values of OWASP ASVS 3.3.2 level 2. A session
// whose user chose [Session.RememberMe] is held instead to
// [Options.RememberMeIdleTimeout] and [Options.RememberMeAbsoluteTimeout]
// (by default the same), for a "remember me for 30 days" box: the choice
// is in the record, so a client can neither make nor extend it, and the
// absolute timeout still counts from login. [Session.Expiry] tells when a
// session ends without a further request, for a "your session expires
// soon" warning.
//
// # Stores
//
// Every store implements [Store], whose methods take the request's
// context. Server-side stores give the client a random 256-bit ID
// ([IDLength] base64url characters) and keep the record under its SHA-256
// ([StorageKey]), so a leaked store holds no usable cookie. The
// [CookieStore] keeps the whole session in the cookie, encrypted with
// AES-256 and authenticated with HMAC-SHA256, rotates keys through
// [CookieStoreOptions.Keys], refuses sessions over 4096 bytes with
// [ErrTooLarge], and remembers revoked IDs so that logout is real. The
// suite in internal/storetest runs against every store, Redis included.
//
// A store failure is answered with 503 and Retry-After by default
// ([Options.OnReject]): a user is never silently logged out, and nobody is
// silently served as anonymous.
//
// # Login, renewal and logout
//
// [Session.Login] stores an identity and renews the session ID in one
// step; from the next request on, the middleware puts the identity in the
// request context ([identity.FromRequest]) for rbac and the rest of the
// chain. It keeps the session's values, unless they belong to another
// user's login on the same browser, which it clears. [Session.Renew] changes the ID and deletes the old record at
// once: call it on every privilege change. [Session.Destroy] deletes the
// record (or revokes the ID) and expires the cookie, so a copied cookie is
// dead. A token that names no live session (expired, logged out,
// tampered) is ignored and left with the client: a deletion sent in
// answer to it could arrive after the response to a login made meanwhile
// and drop the fresh cookie.
//
// A store cannot list its sessions (alexedwards/scs's Iterate): a
// server-side store files records under the SHA-256 of their ID, and a
// CookieStore keeps none. The other sessions of a user end instead through
// [Options.ValidateLogin], asked on each request whether the session's
// login still stands: after a password change, a "sign out everywhere" or
// a disabled account it answers false for the logins made before, and
// each such session is ended, for good, the next time it is presented.
//
// # API clients
//
// Clients that cannot keep cookies can carry the token in a header
// ([Options.TokenHeader]). A request with that header is served through
// it alone: the cookie is ignored, so a script cannot turn a browser's
// HttpOnly cookie into a readable token.
//
// # Signed tokens
//
// [Signer] signs values into URL-safe tokens that expire after
// [SignerOptions.MaxAge] and are bound to a purpose, like Python's
// itsdangerous: password-reset and email-confirmation links.
//
// # Behind a gateway
//
// When the middleware wraps a [net/http/httputil.ReverseProxy] to a
// backend, two things cross that the session does not own:
//
//   - The request's Cookie header, session cookie included, goes to the
//     backend, whose logs and code then hold a token that works on the
//     gateway (with a server-side store it is the session ID). Remove the
//     cookie named [Middleware.CookieName] from the outgoing request in
//     the proxy's Rewrite (see the example of [Middleware.ModifyResponse]),
//     and [Options.TokenHeader] when it is set.
//   - The backend's Set-Cookie lines are added to the response. Its other
//     cookies are harmless, but one with the session cookie's name
//     replaces the session cookie in the browser when the middleware sets
//     none on that response. Set the proxy's ModifyResponse to
//     [Middleware.ModifyResponse], which removes such lines (and a
//     backend's TokenHeader) and keeps the rest.
//
// Vary and Cache-Control need nothing: the middleware sets them when it
// saves, just before the header is written, after the proxy copied the
// backend's, so Cache-Control: no-store replaces a backend's caching
// directives, its CDN-Cache-Control and Surrogate-Control included, on
// every response that carries the session cookie.
//
// # Where it goes in the chain
//
// The recommended order, outermost first: errorsafe → headers → https →
// cors → ratelimit (by IP) → csrf → session → auth → ratelimit (by
// identity) → rbac → handler. csrf sits outside session: SameSite=Lax keeps
// the cookie off cross-site POSTs in current browsers, but not off
// same-site ones from a sibling subdomain, nor in every browser.
//
// # Security considerations
//
//   - Fixation: call [Session.Renew] (or [Session.Login], which does) on
//     every privilege change. The old ID is deleted before the new one is
//     issued.
//   - Replay after logout: [Session.Destroy] deletes the server-side
//     record. With a [CookieStore], the revocation is kept in
//     [CookieStoreOptions.Revocations]: the default is per process, so
//     several instances must share a store (session/redisstore), or a
//     logged-out cookie still works on the other instances until it
//     expires. Destroy ends the session even when this instance finds it
//     expired: another copy of a CookieStore cookie may still be fresh,
//     and another instance, whose clock may run up to a minute behind,
//     may still accept a server-side record.
//   - Rollback: a [CookieStore] keeps the session in the cookie, and
//     every cookie it issued for a session stays valid until its own
//     deadline, so a client can present an earlier one and get that
//     earlier state back: a count of failed attempts, a value taken
//     with [Session.PopString] or [Session.Delete], a flag cleared when
//     a one-time step was used. Keep such state server-side (a
//     [MemoryStore] or session/redisstore holds one record per session),
//     or call [Session.Renew] with the change, which revokes the ID of
//     every earlier cookie.
//   - Tampering: a cookie that is malformed, tampered with, truncated,
//     expired or signed by a retired key is treated as absent (a fresh,
//     empty session; the client keeps the dead cookie until it expires or
//     is replaced), never as an error page the user cannot get past.
//   - Concurrency: two concurrent requests of one session each load it and
//     save their own copy; the last to finish wins, as in most session
//     libraries, except that a session deleted by Destroy or Renew stays
//     deleted: the stores keep a marker without data for one idle timeout,
//     a request whose loaded record expired while it ran saves nothing,
//     nor does one whose record the store lost meanwhile (a Redis that
//     restarted empty; see [Record]'s Update), and a Renew carries the
//     values over only if its own deletion of the old ID found the
//     session still there (atomically with a [Remover] store), so a
//     request that loaded the session before the logout cannot revive
//     it, however late it saves. Keep what must not be lost (a cart, a
//     balance) in the database, not in the session.
//   - Memory: a changed session is saved only if its encoding fits in
//     [Options.MaxBytes] (64 KiB by default), with every store, checked
//     before the store is called: an application that keeps what a client
//     sends in the session (a cart, a form draft, a flash message echoing
//     input) cannot be made to fill memory or Redis through one session.
//     A save over it is answered with 500 ([ErrMaxBytes]) and the record
//     stored before is kept; a session that is only read, or made
//     smaller, is never refused. The [MemoryStore] is bounded in records
//     ([MemoryOptions.MaxSessions], 100,000) and in bytes
//     ([MemoryOptions.MaxBytes], 256 MiB); once full it refuses new
//     sessions, and the growth of existing ones (503), rather than
//     evicting the sessions of real users. Put a rate limit in front of
//     whatever creates sessions. With session/redisstore, bound Redis
//     itself too (maxmemory with a noeviction policy).
//   - After the headers: changes made once the response has started, or
//     by a handler that hijacks the connection (a WebSocket upgrade it
//     answers itself), before or after the hijack, are saved if the token
//     need not change (a server-side store); otherwise they are dropped
//     and [ErrHeadersWritten] is recorded as the request's rejection
//     reason. [Session.Renew] and [Session.Login] return
//     [ErrHeadersWritten] then; [Session.Destroy] still works. Such a
//     request still counts as activity where that needs no new token: the
//     idle deadline of a server-side session is extended.
//   - Secrets: keys come from the caller (environment, secret manager),
//     never from source; [NewCookieStore] and [NewSigner] check their
//     lengths.
//   - [Options.DangerouslyAllowInsecureCookie] sends the cookie over plain
//     HTTP: for local development only.
//   - [Options.Partitioned] needs SameSite=None, which lets the cookie go
//     with cross-site requests made while the top-level site is the one
//     of its partition: the embedding site's own pages can send requests
//     that carry the session its frame holds, and another site's
//     top-level form post to the application carries the cookie of the
//     application's own partition. Keep csrf in front (it rejects both on
//     Sec-Fetch-Site), and trust an embedding site in its TrustedOrigins
//     only if it may act for the user. A browser may still hold an
//     unpartitioned cookie of the same name from before the switch, which
//     a partitioned Set-Cookie neither replaces nor deletes and which the
//     middleware may read first: give the partitioned cookie a new
//     [Options.CookieName] when switching a deployed application.
//
// [CHIPS]: https://developer.mozilla.org/en-US/docs/Web/Privacy/Guides/Third-party_cookies/Partitioned_cookies
//
// [RFC 6265bis]: https://datatracker.ietf.org/doc/draft-ietf-httpbis-rfc6265bis/
// [OWASP ASVS]: https://owasp.org/www-project-application-security-verification-standard/
package session
