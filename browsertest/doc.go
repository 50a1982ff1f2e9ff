// Package browsertest proves in a real browser that the headers httpguard
// sends produce the protection it claims. CORS, CSP, framing rules,
// SameSite and the __Host- cookie prefix are enforced by browsers, not by
// the server; a test that only reads response headers cannot show that a
// browser reads them as intended. The suite drives Debian's Chromium,
// headless, through chromedp, and every scenario asserts what the browser
// did: values the page's own scripts observed, and the requests the test
// servers saw (or never saw). Likewise, whether sanitized HTML is inert is
// decided by how a browser parses it, so the suite also renders the HTML
// sanitizer's output there.
//
// It is a separate module, so chromedp never enters the main module's
// go.mod. It holds only tests.
//
// # Running
//
//	apt-get install -y chromium
//	cd browsertest && go test -race -count=1 ./...
//
// Without Chromium on PATH (as chromium or chromium-browser) the suite is
// skipped with a message saying how to install it, unless
// HTTPGUARD_REQUIRE_EXTERNAL=1 (as CI sets), which turns the skip into a
// failure. One scenario runs with, for example,
// go test -run 'TestBrowser/CSRF' ./...
//
// # The browser
//
// One Chromium process serves the whole suite; each scenario opens its own
// browser context (an incognito profile with its own cookies, cache and
// preflight cache). It is launched with --headless --no-sandbox
// --disable-gpu --disable-background-networking --disable-component-update
// --disable-sync --no-first-run --disable-quic and a fresh --user-data-dir,
// plus --ignore-certificate-errors-spki-list naming the public key of a
// development certificate from package https, generated for the run: the
// browser trusts exactly that key, so the TLS origins are real secure
// contexts, and accepts no other invalid certificate.
//
// # Origins
//
// httptest servers on loopback, over plain HTTP and TLS, are reached under
// several names: 127.0.0.1 and localhost on different ports are different
// sites; two ports of one name are different origins of one site; and
// app.localhost and evil.app.localhost (which Chromium resolves to
// loopback itself) are a host and its subdomain.
//
// # Scenarios
//
//   - CORS: a credentialed fetch from the allowed origin reads the body and
//     only the exposed headers; from a disallowed origin it fails in the
//     page, although the server answered it with the cookie; without
//     AllowCredentials only an uncredentialed fetch succeeds.
//   - Preflight: a PUT with a custom header is preflighted once and the
//     preflight is cached past Chromium's 5-second default for Max-Age;
//     with Max-Age 0 every PUT is preflighted; a header, method or origin
//     not allowed fails the preflight and the request is never sent.
//   - CSRF: the same-origin form with its token succeeds; without a token,
//     with a forged one, or posted from another site it is rejected before
//     the handler.
//   - CSP: the HTML preset runs the nonced script and what it inserts
//     ('strict-dynamic'), blocks an inline script, an external script
//     (never requested) and an event handler without the nonce, and the
//     violation report reaches the report endpoint.
//   - ScriptSrcElem: with script-src-elem set, the nonced inline script runs
//     and one without the nonce does not; the policy as rendered before the
//     nonce went to script-src-elem too (in script-src only) blocks the
//     nonced script.
//   - Framing: X-Frame-Options DENY and frame-ancestors 'none', together or
//     alone, stop another site's iframe (its document is fetched, never
//     rendered, and frame-ancestors violations are reported); a
//     frame-ancestors source naming the site lets it frame the page.
//   - GatewayFraming: headers (DENY, OmitCSP) in front of an
//     httputil.ReverseProxy whose backend sends SAMEORIGIN: with or without
//     ModifyResponse another site's frame is refused, since Chromium reads
//     two different X-Frame-Options values as a conflict and refuses every
//     frame, not as an invalid value it ignores; SAMEORIGIN with a
//     backend's ALLOWALL stops even a same-origin frame.
//   - GatewayCORS: cors in front of a proxy whose backend echoes every
//     Origin with credentials: without ModifyResponse a refused origin
//     reads the user's data and the allowed one cannot (two
//     Access-Control-Allow-Origin values); with it, the reverse.
//   - SessionCookie: the session cookie is stored Secure, HttpOnly,
//     SameSite=Lax and host-only; document.cookie does not show it; it goes
//     with same-origin posts and cross-site links but not cross-site posts;
//     a same-site post from another port carries it, and csrf, outside
//     session as recommended, rejects that post.
//   - RememberMe: after a login with RememberMe(true) the browser stores
//     the session cookie as persistent, expiring with the idle timeout;
//     with RememberMe(false), also at a later login, it is a session
//     cookie.
//   - HostPrefix: a subdomain cannot plant a __Host-session cookie (session
//     fixation), while it can plant an unprefixed one; the __Host- cookie
//     is not sent to subdomains.
//   - Partitioned: in a cross-site iframe (Chromium's browser contexts
//     block third-party cookies), a session cookie with Partitioned comes
//     back, while an unpartitioned SameSite=None one and a partitioned
//     SameSite=Lax one are never kept; the partitioned cookie is not sent
//     under another embedding site nor to the application opened
//     directly; logout in the frame deletes it; the embedding page's own
//     cross-site POST carries it and csrf rejects that; a csrf token form
//     in the frame passes with TokenOptions.Partitioned and is rejected
//     without it.
//   - Sanitize: the output of sanitize.UserContent and sanitize.Strict (and
//     Strict's inside a quoted attribute) for a corpus of XSS and
//     mutation-XSS payloads, on a page without CSP, rendered by the server
//     through html/template, assigned with innerHTML, and assigned again
//     its own serialization (the innerHTML round trip): the page's
//     sentinel is never called, the page does not navigate, and a walk of
//     the DOM finds no on* attribute, no script, iframe, object, embed,
//     base, meta, form or similar element, no URL attribute whose resolved
//     scheme is javascript:, vbscript: or data:, no srcdoc, and nothing the
//     policy does not allow; nor does any output leak out of its
//     container: each server-rendered one sits in a list item of a list of
//     its own, followed by a guard element, and neither the list nor the
//     guard may move or gain an element (a link or bold left open, a
//     stray end tag or list item). Controls render payloads unsanitized on
//     the same page and see the sentinel called in each rendering (one
//     only after the round trip), the DOM walk fail, an unclosed link
//     leak, and a meta refresh leave.
//
// Waits are event-driven (page polling, channels signalled by the test
// servers) with a 60-second bound per scenario. Two waits are fixed: one
// lets Chromium's 5-second default preflight cache expire before the
// request that shows Max-Age is obeyed, and the request counts decide that
// case; Sanitize gives each page half a second after it rendered for
// what it must not do (error and load handlers, frames, a meta refresh),
// which nothing announces.
package browsertest
