// Package errorsafe keeps errors from leaking: the client learns that
// something failed and nothing about why; the operator learns everything
// except the secrets. It recovers panics, turns errors returned by
// handlers into generic [RFC 9457] problem responses, replaces the bodies
// of 5xx responses, assigns request IDs, and writes structured access and
// security logs with [log/slog], redacting credentials.
//
// It depends on the standard library only (plus httpguard's identity and
// clientip).
//
// # Quick start
//
//	es, err := errorsafe.New(errorsafe.Options{ClientIP: resolver})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("GET /invoices/{id}", errorsafe.HandlerFunc(getInvoice))
//	srv.Handler = es.Handler(mux) // outermost; srv from https.NewServer, which sets timeouts
//
// [Middleware.Handler] does everything below at the cost of one
// middleware. The parts are available alone as [Middleware.Recover],
// [Middleware.RequestID], [Middleware.AccessLog] and
// [Middleware.SafeErrors]; chained directly, they share their per-request
// state. Every middleware wraps the [net/http.ResponseWriter] in a writer
// that implements Unwrap, Flush and ReadFrom, and Hijack where the
// wrapped writer can hijack (HTTP/1.x, not HTTP/2), so
// [net/http.ResponseController] (flushing, hijacking, deadlines, full
// duplex) keeps working, and that never writes a header once the
// response has started.
//
// # Panics
//
// A panic below the middleware is logged at error level with its value,
// stack, request ID, method and path, and the panic_recovered [Event]
// carries the value and the stack in a [*PanicError], for an error
// tracker. If the response has not started,
// the client gets
//
//	HTTP/1.1 500 Internal Server Error
//	Content-Type: application/problem+json
//	Cache-Control: no-store
//	X-Content-Type-Options: nosniff
//
//	{"type":"about:blank","title":"Internal Server Error","status":500,"request_id":"…"}
//
// If it has started, nothing correct can be sent any more, so the
// connection is aborted with [net/http.ErrAbortHandler] and the client
// sees a failed transfer rather than a truncated body it might trust. A
// panic with [net/http.ErrAbortHandler] is passed on to net/http untouched.
// Only panics on the request's goroutine can be recovered: one in a
// goroutine the handler started ends the program, as Go makes every
// unrecovered panic do; such a goroutine needs its own recover.
//
// # Errors from handlers
//
// A [HandlerFunc] returns an error instead of writing one. An [*Error]
// carries a public status and message separately from its private cause;
// [Options.Errors] maps sentinel errors to statuses; a body over its limit is
// 413, a deadline, a store that could not answer (session.ErrStore,
// auth.ErrUnavailable, ratelimit.ErrStore) or an overloaded server
// (ratelimit.ErrOverloaded) 503 with Retry-After, and a limit's refusal
// (ratelimit.ErrLimited and ErrLocked, auth.ErrTooManyAttempts) 429;
// anything else is a generic 500. The cause is logged with the request ID, which the
// client also receives as the "request_id" member of the problem, so a user
// can quote it and the operator can find the cause. [WriteError] does the
// same for handlers of any shape.
//
// # Safe error bodies
//
// [Middleware.SafeErrors] answers every 5xx response written by inner
// handlers with the generic problem, whatever body they tried to send
// (a database error, a stack trace from a framework in debug mode), and
// optionally ([Options.ReplaceMuxErrors]) the plain-text 404 and 405
// bodies of [net/http.ServeMux]. The status and headers such as Allow,
// Retry-After and WWW-Authenticate are kept; a 503 without Retry-After
// (the timeout of [net/http.TimeoutHandler], a handler's own) gets
// Retry-After: 5, as the 503s of the other httpguard packages have one.
//
// A [net/http/httputil.ReverseProxy] inside is a handler like any other:
// a backend's 5xx body (a stack trace from a legacy application) is
// replaced, and so is the proxy's own 502 when the backend is down (the
// proxy logs the cause with the standard logger unless its ErrorLog or
// ErrorHandler says otherwise). Nothing else of a backend's response is
// rewritten: its 4xx bodies pass unchanged (with ReplaceMuxErrors, except
// the plain-text ones of net/http.Error), and so do the header fields it
// sends on every status, such as X-Powered-By or an X-Debug-Exception
// with internals; remove those in the proxy's ModifyResponse.
//
// # Request IDs
//
// Every request gets a new ID of 24 base32 characters from
// [crypto/rand], unless an incoming X-Request-ID is used. One is used only
// when the direct peer (the address in [net/http.Request.RemoteAddr]) is a
// trusted proxy of [Options.ClientIP], so with the zero Options, which
// trust no proxy, none is; and only if there is exactly one, of at most
// 64 bytes of ASCII letters, digits and "-_.:+/=". Anything else (a
// client's own ID, however well-formed, newlines, control characters, a
// 10 KB value, quotes) is replaced by a new ID. The ID is put in the
// context ([RequestIDFrom]) and echoed in the response. Set
// [Options.IgnoreIncomingRequestID] when the trusted proxies assign no
// IDs, and [Options.DangerouslyTrustAnyRequestID] only where the peers
// that set the ID cannot be listed as trusted proxies.
//
// Every problem response carries the ID as its "request_id" member:
// those errorsafe writes, and every application/problem+json 4xx or 5xx
// response written further in, by httpguard middlewares rejecting a
// request or by the application, detailed or not. The header of such a
// response is held back until its body is complete (at most 16 KiB, the
// announced Content-Length if any, else until the handler returns); if
// the body is a JSON object without a top-level "request_id", the member
// is inserted before its closing brace and Content-Length adjusted.
// Anything else passes through byte for byte: a body over 16 KiB, one
// that is not a JSON object, one with a content coding, one of another
// media type, and a problem whose handler flushes or hijacks before the
// body is complete (what was held is sent first, unchanged).
//
// # Access log
//
// One record per request, message "http request", with the attributes method,
// path, query (redacted), status, bytes, duration, client_ip, subject,
// request_id, user_agent, reason, and the headers listed in
// [Options.LogHeaders]. The bytes are those of the response body sent, 0 for
// a HEAD request, whose body net/http drops. The subject is the one an auth
// or session middleware further in put into the context with
// [identity.NewContext]; the reason is the one any httpguard package recorded
// when it rejected the request ([RejectReason]), or the error a handler gave
// [WriteError]: of an [*Error], its cause (Err), since the record shows the
// status, and a security event's source is the cause's package, not
// errorsafe. A response cut short has the attribute aborted: a panic after
// the response started, or a handler's deliberate [net/http.ErrAbortHandler],
// logged with the status sent, or 0 when none was (the client saw the
// connection close or the stream reset). Client addresses are resolved by
// [Options.ClientIP], so forwarding headers are believed only from trusted
// proxies. [Options.SkipAccessLog] leaves out the records of requests it
// selects (health checks), never those of a request that failed.
//
// Wrap the application's slog handler in [LogHandler] to add the request
// ID to every record logged with a request's context.
//
// # Redaction
//
// Values never go into message text, only into attributes, so a structured
// handler escapes them. The values of Authorization, Proxy-Authorization,
// Cookie, Set-Cookie, X-API-Key, any header whose name contains "auth",
// "token", "secret", "key", "passw", "session", "cookie", "credential",
// "signature", "jwt", "assertion", "dpop", "oidc", "otp", "mfa",
// "passcode", "pwd" or "passphrase", any header value holding a JWT
// ("eyJ…"), and [Options.RedactHeaders] are written as [Redacted]. Query
// parameters named like password, token, access_token, refresh_token,
// client_secret, api_key, accessKey, code, resetCode, SAMLResponse,
// ticket, cvv and [Options.RedactParams] are redacted, whatever their
// case and separators; so
// are values that look like a JWT, even percent-encoded, values holding a
// query or fragment with such an item (a return address
// "next=/reset?token=…"), and the userinfo of URLs in values (see
// [Middleware.RedactQuery] for the rules). The userinfo, query and fragment
// of URL headers such as Referer and X-Forwarded-Uri are redacted too. Bodies
// and forms are never logged; use [Middleware.RedactValues] to log a form
// yourself.
//
// Logged text is bounded: the path and the query to 1024 bytes, header
// values, the User-Agent and the subject to 256 (a URL header's part
// before its query, whose query is cut as the request's is; a URL header
// over 8 KiB is [Redacted] whole), the method
// to 32, a panic value, an error and a rejection reason to 4096; a cut
// query, subject, method, panic value, error or reason ends with
// "[TRUNCATED]". Unicode bidirectional controls (U+202A to U+202E, U+2066
// to U+2069), which would make a log viewer show a line reordered, are
// replaced by U+FFFD in the logged path, query, User-Agent, headers,
// subject, method, panic value, error and reason. (The subject can be a
// user name its owner chose; [Event.Subject] is passed to
// [Options.OnEvent] as it is.)
//
// # Security events
//
// Rejections and recovered panics are emitted as typed [Event] values
// with a stable [EventKind] (authentication_failed, access_denied,
// csrf_rejected, rate_limited, session_invalid, request_rejected,
// panic_recovered): logged at warn level with the message "security
// event", and passed to [Options.OnEvent] so a service can count them and
// alert.
//
// # Order
//
// Install [Middleware.Handler] outermost, before every other httpguard
// middleware, so that it sees their rejections, recovers their panics and
// assigns the request ID before anyone logs:
//
//	errorsafe → headers → https.Redirect → cors → ratelimit (by IP) →
//	csrf → session → auth → ratelimit (by identity) → rbac → handler
//
// # Security considerations
//
//   - The panic value, the error text and the stack are for the log (and
//     an OnEvent) only; no response ever contains them. Public messages must be constants:
//     a message built from request data would be reflected to the client.
//   - Redaction works on names and shapes. A secret in a URL path
//     (/reset/<token>), in a panic value or in an error message cannot be
//     recognised and is logged as is: keep secrets out of paths and
//     errors, or leave the path out of your log pipeline.
//   - An incoming request ID is attacker-controlled even when well-formed:
//     a client can reuse another request's ID, so that its records pass
//     for that request's. It is therefore used only from a trusted proxy
//     of [Options.ClientIP]; such a proxy must set the ID itself or remove
//     the one its client sent (or set [Options.IgnoreIncomingRequestID]),
//     else it passes the client's on. [Options.DangerouslyTrustAnyRequestID]
//     lets every peer choose it. Even from a proxy, treat it as a
//     correlation hint, never as proof.
//   - Aborting a started response closes the connection (HTTP/1.x) or
//     resets the stream (HTTP/2). That is deliberate: a truncated body
//     with a success status is worse.
//   - Upgrade requests (WebSocket) can switch protocols and hijack the
//     connection, but a 5xx answer to one is replaced like any other:
//     Connection: upgrade is the client's choice, so exempting it would
//     let anyone read the internals of an error body. Panics in them are
//     still recovered and logged. After a
//     hijack nothing is written to the connection: the panic is passed on
//     as [net/http.ErrAbortHandler] and the hijacking code owns the
//     connection.
//   - Logging happens on the request's goroutine; a slow slog handler or
//     [Options.OnEvent] hook slows every request.
//
// [RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457
package errorsafe
