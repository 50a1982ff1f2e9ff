package app

import (
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/sanitize"
	"github.com/httpguard/httpguard/session"
)

// routeDeps are the per-route middlewares built by New.
type routeDeps struct {
	tokens    http.Handler                    // POST /token, auth's token endpoint
	revoke    http.Handler                    // POST /token/revoke, its revocation endpoint
	basic     func(http.Handler) http.Handler // HTTP Basic
	cred      func(http.Handler) http.Handler // the password routes' budget per address
	tokenCred func(http.Handler) http.Handler // the same budget, refusing in the OAuth2 format
	browser   func(http.Handler) http.Handler // CSRF tokens
	html      func(http.Handler) http.Handler // the HTML preset of the security headers
	guards    *guards
	panicRun  bool
}

// routes registers every route with its protection. Each pattern is
// listed in routePatterns, which the tests walk. A route whose path ends
// in "/" ends in "{$}" too: it is that one path, not every path below it
// (found in review: GET /users/me/alice answered with the caller's own
// record).
func (s *server) routes(mux *http.ServeMux, d routeDeps) {
	g := d.guards
	type h = http.HandlerFunc
	mux.Handle("GET /{$}", d.html(d.browser(h(s.page))))
	mux.Handle("POST /login", d.cred(d.browser(h(s.login))))
	mux.Handle("POST /logout", d.browser(h(s.logout)))
	mux.Handle("GET /data", s.sessionOnly(h(s.data)))
	mux.Handle("GET /secure-data/{$}", d.cred(d.basic(h(s.secureData))))
	mux.Handle("POST /token", d.tokenCred(d.tokens))
	mux.Handle("POST /token/revoke", d.tokenCred(d.revoke))
	mux.Handle("/token", h(oauthMethodNotAllowed)) // other methods, answered in the OAuth2 format
	mux.Handle("/token/revoke", h(oauthMethodNotAllowed))
	mux.Handle("GET /users/me/{$}", g.signedIn(h(s.me)))
	mux.Handle("GET /users/{id}", g.readUser(h(s.getUser)))
	mux.Handle("DELETE /users/{id}", g.delUser(h(s.deleteUser)))
	mux.Handle("GET /items/{id}", g.readItems(h(s.item)))
	mux.Handle("POST /comment/{$}", g.signedIn(h(s.comment)))
	mux.Handle("POST /api/data", g.signedIn(h(s.apiData)))
	mux.Handle("GET /healthz", h(healthz))
	if d.panicRun {
		mux.Handle("GET /panic", h(func(http.ResponseWriter, *http.Request) {
			panic("demo panic: this text and the stack go to the log, never to the client")
		}))
	}
}

// routePatterns lists the patterns routes registers (GET /panic only with
// Config.DemoPanic).
var routePatterns = []string{
	"GET /{$}", "POST /login", "POST /logout", "GET /data", "GET /secure-data/{$}",
	"POST /token", "POST /token/revoke", "/token", "/token/revoke", "GET /users/me/{$}", "GET /users/{id}",
	"DELETE /users/{id}", "GET /items/{id}", "POST /comment/{$}", "POST /api/data",
	"GET /healthz", "GET /panic",
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>secureapi</title>
<style nonce="{{.Nonce}}">body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.5rem 0}</style>
<h1>secureapi</h1>
{{if .User}}<p>Signed in as <strong>{{.User}}</strong>.</p>
<form method="post" action="/logout">{{.CSRF}}<button>Sign out</button></form>
{{else}}<form method="post" action="/login">{{.CSRF}}
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Sign in</button>
</form>{{end}}
<pre id="me"></pre>
<script nonce="{{.Nonce}}">
fetch("/users/me/").then(r => r.ok ? r.json() : null).then(me => {
  if (me) document.getElementById("me").textContent = JSON.stringify(me, null, 2);
});
</script>
</html>
`))

// page is the login page. Its script and style carry the response's CSP
// nonce and its forms the CSRF token.
func (s *server) page(w http.ResponseWriter, r *http.Request) {
	nonce, _ := headers.Nonce(r.Context())
	data := struct {
		User  string
		CSRF  template.HTML
		Nonce string
	}{CSRF: csrf.TemplateField(r), Nonce: nonce}
	if id, ok := identity.FromRequest(r); ok && id.Method() == identity.MethodSession {
		data.User = id.Subject()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // a nonce and a token: never cache
	if err := page.Execute(w, data); err != nil {
		s.log.ErrorContext(r.Context(), "rendering the page", "error", err)
	}
}

// maxFormBytes bounds the bodies of the form routes, POST /login and POST
// /logout. The CSRF token layer in front of them reads the form to find
// its token, so the bound is set there (csrf.TokenOptions.MaxFormBytes);
// login sets it again for a token sent in the header, which leaves the
// body to the handler.
const maxFormBytes = 4 << 10

// readForm parses the form of r, its body bounded by maxFormBytes. It
// answers a failure itself, 413 for a body over the bound and 400 for
// one that is not a form, and reports whether the form was read.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		err = &errorsafe.Error{Status: http.StatusBadRequest, Err: err}
	}
	errorsafe.WriteError(w, r, err) // 413 for a *http.MaxBytesError
	return false
}

// login checks a user name and password from a form and starts a session.
// Failed attempts count with those of POST /token and GET /secure-data/.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	name, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	ctx, ip := r.Context(), s.clientIP.Addr(r)
	// Reserve before the password is verified: the reservation is the
	// failure until a success clears it, so concurrent guesses cannot
	// all slip past the limit while their hashes run. When the
	// limiter's store fails the attempt is refused too (fail closed),
	// with 503: the client is not to blame.
	wait, err := s.attempts.Reserve(ctx, name, ip)
	switch {
	case errors.Is(err, ratelimit.ErrStore):
		unavailable(w, r, err)
		return
	case err != nil:
		w.Header().Set("Retry-After", seconds(wait))
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusTooManyRequests, Err: err})
		return
	}
	// The hash the session is bound to is read before the password is
	// checked: if it changes in between, the session holds the old one's
	// fingerprint and ends on its next request, the safe way round.
	u, _, err := s.users.LookupUser(ctx, name)
	if err != nil {
		unavailable(w, r, err)
		return
	}
	opts, err := auth.CheckPassword(ctx, s.users, name, pw)
	if errors.Is(err, auth.ErrUnavailable) {
		unavailable(w, r, err)
		return
	}
	if err != nil {
		s.challengeSession(w)
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusUnauthorized, Err: err})
		return
	}
	if err := s.attempts.RecordSuccess(ctx, name, ip); err != nil {
		s.log.WarnContext(ctx, "recording a successful login", "error", err)
	}
	// A session is a record kept for the idle timeout, as a token
	// family is: it counts with the user's tokens (Config.TokenRate), so
	// that one account signing in from many addresses cannot fill the
	// session store.
	if wait, err := s.issues.Allow(ctx, opts.Subject); err != nil {
		if errors.Is(err, ratelimit.ErrStore) {
			unavailable(w, r, err)
			return
		}
		w.Header().Set("Retry-After", seconds(wait))
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusTooManyRequests, Err: err})
		return
	}
	opts.Method = identity.MethodSession
	opts.Claims = map[string]any{credentialClaim: credential(u.Hash)}
	// Login renews the session ID, against fixation, and clears the
	// values of another user's session on this browser.
	if err := session.FromRequest(r).Login(identity.New(opts)); err != nil {
		unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout destroys the session in the store, so every copy of the cookie
// dies, on every instance sharing the store.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if err := session.FromRequest(r).Destroy(); err != nil {
		unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// unavailable answers a request that a failing store (users, sessions,
// failed attempts) could not decide: 503 with Retry-After, the answer
// package auth gives when its stores fail.
func unavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", "5")
	errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusServiceUnavailable, Err: err})
}

var errNoSession = errors.New("secureapi: a browser session is required")

// sessionOnly admits principals authenticated by a session cookie only.
func (s *server) sessionOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := identity.FromRequest(r); !ok || id.Subject() == "" || id.Method() != identity.MethodSession {
			s.challengeSession(w)
			errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusUnauthorized, Err: errNoSession})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// challengeSession sets the challenge of a cookie login (the "Cookie"
// scheme of draft-broyer-http-cookie-auth): RFC 9110 requires a
// WWW-Authenticate header on every 401.
func (s *server) challengeSession(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Cookie realm="`+Realm+`", form-action="/login", cookie-name="`+s.cookie+`"`)
}

func (s *server) data(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	sess := session.FromRequest(r)
	n, _ := sess.GetInt("visits")
	sess.SetInt("visits", n+1)
	writeJSON(w, http.StatusOK, map[string]any{"username": id.Subject(), "visits": n + 1})
}

func (s *server) secureData(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	writeJSON(w, http.StatusOK, map[string]any{"username": id.Subject(), "data": "only HTTP Basic reaches this"})
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	writeJSON(w, http.StatusOK, meBody{Roles: nonNil(id.Roles()), Scopes: nonNil(id.Scopes()), Username: id.Subject()})
}

// The bodies of the busiest routes are structs rather than maps, so
// encoding/json walks no map and sorts no keys; the fields are in the
// order it sorts a map's keys, so the bytes are the same.
type (
	meBody struct {
		Roles    []string `json:"roles"`
		Scopes   []string `json:"scopes"`
		Username string   `json:"username"`
	}
	itemBody struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	commentBody struct {
		Body string `json:"body"`
	}
)

func (s *server) getUser(w http.ResponseWriter, r *http.Request) {
	u, found, err := s.users.LookupUser(r.Context(), r.PathValue("id"))
	if err != nil || !found {
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusNotFound, Err: err})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"username": r.PathValue("id"), "roles": nonNil(u.Identity.Roles)})
}

// deleteUser removes an account from this process's store: its password
// and refresh tokens stop working at once, its access tokens get 401 (see
// server.current) and its sessions end on their next request (see
// session.Options.ValidateLogin in New).
func (s *server) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("id")
	if _, found, _ := s.users.LookupUser(r.Context(), name); !found {
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusNotFound})
		return
	}
	s.users.Delete(name)
	s.log.InfoContext(r.Context(), "user deleted", "user", name)
	w.WriteHeader(http.StatusNoContent)
}

// item serves items 1 to 100.
func (s *server) item(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("id")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 || strconv.Itoa(n) != v { // no "+7" or "007"
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusNotFound})
		return
	}
	writeJSON(w, http.StatusOK, itemBody{ID: n, Name: "item " + v})
}

// comment is the body of POST /comment/: trimmed, normalized, sanitized
// to safe HTML, then validated.
type comment struct {
	Body string `json:"body" sanitize:"trim,nfc,html=ugc" validate:"required,max=2000"`
}

func (s *server) comment(w http.ResponseWriter, r *http.Request) {
	c, err := sanitize.DecodeJSON[comment](s.decoder, w, r)
	if err != nil {
		// Answered by sanitize: a problem (for invalid fields, their
		// names, rules and messages, never the submitted values) to
		// which errorsafe adds the request ID; the reason goes to the
		// access log.
		return
	}
	writeJSON(w, http.StatusOK, commentBody(c)) // the sanitized text, without the decoding rules
}

// apiData accepts up to 64 KiB of anything and logs that it arrived:
// its size and type, never its content.
func (s *server) apiData(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		errorsafe.WriteError(w, r, err) // 413 for a body over the limit
		return
	}
	id, _ := identity.FromRequest(r)
	s.log.InfoContext(r.Context(), "data received", "subject", id.Subject(), "bytes", n,
		"content_type", mediaType(r.Header.Get("Content-Type")))
	writeJSON(w, http.StatusAccepted, map[string]any{"received_bytes": n})
}

// oauthError writes an RFC 6749 §5.2 error, as the token endpoint does.
func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":"`+code+`"}`+"\n")
}

// oauthMethodNotAllowed answers the OAuth2 endpoints' other methods.
func oauthMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	errorsafe.SetRejectReason(r, errMethod)
	oauthError(w, http.StatusMethodNotAllowed, "invalid_request")
}

var errMethod = errors.New("secureapi: the OAuth2 endpoints accept POST only")

// isOAuth reports whether r is for one of the OAuth2 endpoints, whose
// clients expect RFC 6749 §5.2 errors rather than problems.
func isOAuth(r *http.Request) bool {
	return r.URL.Path == "/token" || r.URL.Path == "/token/revoke"
}

// rejectCrossOrigin answers the cross-origin check's refusals: 403, in the
// OAuth2 format on the OAuth2 endpoints, as a problem elsewhere.
func rejectCrossOrigin(w http.ResponseWriter, r *http.Request, err error) {
	if isOAuth(r) {
		errorsafe.SetRejectReason(r, err)
		oauthError(w, http.StatusForbidden, "invalid_request")
		return
	}
	errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusForbidden, Err: err})
}

// rejectOAuthRate answers the credential budget of POST /token and POST
// /token/revoke: 429 (with the Retry-After set by ratelimit) and
// slow_down, as auth's token endpoint answers its own lockout. When the
// store fails, 503 is a problem, as on every route: errorsafe replaces
// the body of every 5xx response.
func rejectOAuthRate(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, ratelimit.ErrLimited) {
		errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusServiceUnavailable, Err: err})
		return
	}
	errorsafe.SetRejectReason(r, err)
	oauthError(w, http.StatusTooManyRequests, "slow_down")
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	vals := make([]string, 2)                         // one allocation for both values, never shared
	vals[0], vals[1] = "application/json", "no-store" // no-store: personal data
	h["Content-Type"] = vals[0:1:1]
	h["Cache-Control"] = vals[1:2:2]
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// seconds renders a Retry-After delay in whole seconds, at least 1.
func seconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// mediaType returns the media type of a Content-Type value, lower-cased
// and without its parameters, which are the client's free text (a note,
// a token) as much as the body is; "invalid" for a value that is not a
// media type, "" for none. It is at most 100 bytes.
func mediaType(v string) string {
	if v == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return "invalid"
	}
	if typ, sub, ok := strings.Cut(mt, "/"); !ok || typ == "" || sub == "" {
		return "invalid"
	}
	return truncate(mt, 100)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
