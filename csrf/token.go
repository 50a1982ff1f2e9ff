package csrf

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/httpguard/httpguard/internal/httptoken"
)

const (
	tokenLen       = sha256.Size                  // unmasked token: an HMAC-SHA256
	maskedLen      = 2 * tokenLen                 // mask || token XOR mask
	maskedEncLen   = (maskedLen*8 + 5) / 6        // 86 base64url characters
	nonceLen       = 32                           // random value in the cookie
	nonceEncLen    = (nonceLen*8 + 5) / 6         // 43 base64url characters
	sessionContext = "httpguard/csrf session\x00" // HMAC domain separation
	cookieContext  = "httpguard/csrf cookie\x00"
)

var b64 = base64.RawURLEncoding

type tokenConfig struct {
	keys       [][]byte // keys[0] signs; all verify
	sessionID  func(*http.Request) (string, bool)
	always     bool
	cookieName string
	secure     bool
	// partitioned: the cookie is Partitioned and sameSite None, for a
	// cross-site frame; otherwise sameSite is Lax.
	partitioned bool
	sameSite    http.SameSite
	fieldName   string
	headerName  string
	maxForm     int64
	// cookieFallback: with a session, a token bound to the request's
	// token cookie also verifies. Only for a cookie no sibling subdomain
	// can plant (see New).
	cookieFallback bool
}

// tokenState is what the middleware learned about the request's token
// binding, stored in the request context for [Token] and [Check].
type tokenState struct {
	cfg *tokenConfig
	// expected is the unmasked token of this request under keys[0]:
	// bound to the session, or to the cookie nonce.
	expected []byte
	// binding is the session identifier or the cookie nonce, to verify
	// under previous keys.
	binding string
	session bool
	// fromCookie reports whether the binding came from the request's own
	// cookie (as opposed to a nonce created for this request, issued on
	// its response if it passes): only then can the request itself be
	// verified.
	fromCookie bool
	// formRead is set once the token has been read from the form, which
	// then no longer holds it; formToken and formErr are what was read,
	// for any later Check of the request.
	formRead  bool
	formToken string
	formErr   error
}

type stateKey struct{}

// prepareTokens finds the request's token binding, or creates a cookie
// nonce when there is neither a session nor a valid cookie, and stores it
// in the context. It writes nothing: the handler issues a created nonce
// with issueCookie once the request has passed.
func (m *Middleware) prepareTokens(r *http.Request) (*http.Request, *tokenState) {
	tc := m.tokens
	st := &tokenState{cfg: tc}
	if tc.sessionID != nil {
		if sid, ok := tc.sessionID(r); ok && sid != "" {
			st.binding, st.session = sid, true
		}
	}
	if !st.session {
		if c, err := r.Cookie(tc.cookieName); err == nil && validNonce(c.Value) {
			st.binding, st.fromCookie = c.Value, true
		} else {
			var nonce [nonceLen]byte
			_, _ = rand.Read(nonce[:])
			st.binding = b64.EncodeToString(nonce[:])
		}
	}
	st.expected = tc.derive(tc.keys[0], st.binding, st.session)
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st)), st
}

// newCookie reports whether the binding is a nonce created for this
// request, which the response must issue in the token cookie.
func (st *tokenState) newCookie() bool { return !st.session && !st.fromCookie }

// issueCookie sets the token cookie carrying the nonce st created. It is
// called only for a request that passed: a rejected cross-site top-level
// POST arrives without the SameSite=Lax cookie, and a cookie set on its
// response would replace the victim's and void the forms it has open.
// (A Partitioned, SameSite=None cookie does come with such a POST, in the
// partition of the site it targets, and is then not replaced anyway.)
func (tc *tokenConfig) issueCookie(w http.ResponseWriter, st *tokenState) {
	http.SetCookie(w, &http.Cookie{
		Name:        tc.cookieName,
		Value:       st.binding,
		Path:        "/",
		Secure:      tc.secure,
		HttpOnly:    true,
		SameSite:    tc.sameSite,
		Partitioned: tc.partitioned,
	})
	h := w.Header()
	if !httptoken.Varies(h["Vary"], "Cookie") {
		// A Vary set further out may list it already: "Vary: Cookie,
		// Cookie" went out (found in review).
		h.Add("Vary", "Cookie")
	}
	if cc := h["Cache-Control"]; !keptFromSharedCaches(cc) {
		// The cookie is a per-client secret: never let a shared cache
		// hand it to someone else. A value set further out that allows
		// shared caching ("public, max-age=600") is made private; found in
		// review, it was kept whenever one was set.
		h["Cache-Control"] = []string{privateCacheControl(cc)}
	}
	// A CDN obeys its own fields (CDN-Cache-Control, Surrogate-Control)
	// instead of private: a handler's would let it keep the cookie.
	httptoken.DropTargetedCaching(h)
}

// keptFromSharedCaches reports whether the Cache-Control lines hold a
// private or no-store directive, which keeps a response out of shared
// caches, without allocating. A private that names fields
// (private="X-Foo") keeps only those fields out (RFC 9111 §5.2.2.7), the
// cookie not among them unless named, so it does not count.
func keptFromSharedCaches(lines []string) bool {
	for _, line := range lines {
		for line != "" {
			var d string
			d, line = nextDirective(line)
			// ASCII case only: strings.EqualFold took "no-\u017ftore", with a
			// long s, for no-store, which no cache does.
			if httptoken.EqualFold(d, "private") || httptoken.EqualFold(d, "no-store") {
				return true
			}
		}
	}
	return false
}

// privateCacheControl returns the Cache-Control value of a response that
// must stay out of shared caches, from the lines set further out, which
// do not keep it out: private, then their directives but those that let
// a shared cache store it (public, s-maxage, a private naming fields).
// What they ask of the browser's cache stays: no-cache still revalidates
// each time (found in review: the value was replaced by a bare private,
// which let the browser reuse a response it was told to revalidate).
func privateCacheControl(lines []string) string {
	v := "private"
	for _, line := range lines {
		for line != "" {
			var d string
			d, line = nextDirective(line)
			name, _, _ := strings.Cut(d, "=")
			name = strings.TrimSpace(name)
			if d == "" || httptoken.EqualFold(name, "public") || httptoken.EqualFold(name, "s-maxage") || httptoken.EqualFold(name, "private") {
				continue
			}
			v += ", " + d
		}
	}
	return v
}

// nextDirective returns the first directive of a Cache-Control line,
// trimmed, and the rest of the line after its comma. A comma inside a
// quoted string (private="X-Foo, X-Bar") does not end the directive.
func nextDirective(line string) (d, rest string) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quoted && c == '\\':
			i++ // the quoted character, whatever it is
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return strings.TrimSpace(line[:i]), line[i+1:]
		}
	}
	return strings.TrimSpace(line), ""
}

func validNonce(s string) bool {
	if len(s) != nonceEncLen {
		return false
	}
	var buf [nonceLen + 2]byte
	n, err := b64.Decode(buf[:], []byte(s))
	return err == nil && n == nonceLen
}

func (tc *tokenConfig) derive(key []byte, binding string, session bool) []byte {
	mac := hmac.New(sha256.New, key)
	if session {
		_, _ = io.WriteString(mac, sessionContext)
	} else {
		_, _ = io.WriteString(mac, cookieContext)
	}
	_, _ = io.WriteString(mac, binding)
	return mac.Sum(nil)
}

// verifyToken checks the token sent with r against the binding found by
// the middleware.
func (m *Middleware) verifyToken(r *http.Request) error {
	st, _ := r.Context().Value(stateKey{}).(*tokenState)
	if st == nil || st.cfg != m.tokens {
		// Check called outside this middleware's handler: nothing to
		// verify against.
		return ErrTokenInvalid
	}
	sent, err := m.sentToken(r, st)
	if err != nil {
		return err
	}
	if st.newCookie() {
		return ErrTokenInvalid // no valid token cookie was sent
	}
	var raw [maskedLen + 3]byte
	if len(sent) != maskedEncLen {
		return ErrTokenInvalid
	}
	n, err := b64.Decode(raw[:], []byte(sent))
	if err != nil || n != maskedLen {
		return ErrTokenInvalid
	}
	var tok [tokenLen]byte
	for i := range tok {
		tok[i] = raw[i] ^ raw[tokenLen+i]
	}
	tc := m.tokens
	if hmac.Equal(tok[:], st.expected) {
		return nil
	}
	for _, k := range tc.keys[1:] {
		if hmac.Equal(tok[:], tc.derive(k, st.binding, st.session)) {
			return nil
		}
	}
	if st.session && tc.cookieFallback {
		// A form rendered before the session started carries a token
		// bound to the token cookie: accept it while that cookie lasts.
		// Read only now, so a session-bound token costs no cookie
		// parsing.
		if c, err := r.Cookie(tc.cookieName); err == nil && validNonce(c.Value) {
			for _, k := range tc.keys {
				if hmac.Equal(tok[:], tc.derive(k, c.Value, false)) {
					return nil
				}
			}
		}
	}
	return ErrTokenInvalid
}

// sentToken returns the token from the header, or else from the form of a
// form-encoded body. Its error is [ErrTokenMissing] when no token was
// sent, and [ErrTokenInvalid] when several were; a single token that is
// malformed is returned for verifyToken to reject as invalid. A token
// read from the form is kept in st, as the form no longer holds it.
func (m *Middleware) sentToken(r *http.Request, st *tokenState) (string, error) {
	tc := m.tokens
	if v := r.Header[tc.headerName]; len(v) > 0 {
		return oneToken(v)
	}
	if st.formRead {
		return st.formToken, st.formErr
	}
	ct := formType(r)
	if ct == "" {
		return "", ErrTokenMissing
	}
	if err := m.readForm(r, st, ct); err != nil {
		return "", err
	}
	return st.formToken, st.formErr
}

// formType returns the media type of r's body if it is a form the token
// field can be in, else "".
func formType(r *http.Request) string {
	v := strings.TrimLeftFunc(r.Header.Get("Content-Type"), unicode.IsSpace)
	if !httptoken.HasPrefixFold(v, "application/x-www-form-urlencoded") && !httptoken.HasPrefixFold(v, "multipart/form-data") {
		// Not a form, without the allocations of ParseMediaType (a JSON
		// body with the token in the header).
		return ""
	}
	ct, _, _ := mime.ParseMediaType(v)
	if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
		return ""
	}
	return ct
}

// readForm parses the form of r, whose media type is ct, reading at most
// MaxFormBytes of the body, and takes the token field out of it into st.
// Its error is [ErrFormTooLarge], or [ErrTokenMissing] when the form could
// not be parsed.
func (m *Middleware) readForm(r *http.Request, st *tokenState, ct string) error {
	tc := m.tokens
	if r.Body != nil {
		r.Body = http.MaxBytesReader(nil, r.Body, tc.maxForm)
	}
	// The token is in the body: the form is parsed with the URL's query
	// hidden, since ParseForm parses it too and fails on one net/url
	// cannot read (found in review: a form posted to "/search?q=100%"
	// was refused, its token taken for missing). r.Form is left for the
	// handler's own ParseForm to build, query included, when the query
	// does not parse; when it does, r.Form is built here as net/http
	// builds it, for a handler that reads it without calling ParseForm:
	// the body's fields first for ParseForm, the query's first for
	// ParseMultipartForm, which adds the body's after ParseForm's.
	u := r.URL
	if u != nil && u.RawQuery != "" {
		noQuery := *u
		noQuery.RawQuery = ""
		r.URL = &noQuery
	}
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(tc.maxForm)
	} else {
		err = r.ParseForm()
	}
	if r.URL != u {
		r.URL, r.Form = u, nil
		if query, qerr := url.ParseQuery(u.RawQuery); err == nil && qerr == nil {
			first, then := r.PostForm, query
			if ct == "multipart/form-data" {
				first, then = query, r.PostForm
			}
			r.Form = make(url.Values, len(r.PostForm)+len(query))
			for k, v := range first {
				r.Form[k] = append(r.Form[k], v...)
			}
			for k, v := range then {
				r.Form[k] = append(r.Form[k], v...)
			}
		}
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ErrFormTooLarge
		}
		return ErrTokenMissing // the field could not be read
	}
	v := r.PostForm[tc.fieldName]
	// The field is this middleware's own: once read, it is taken out of
	// the parsed form, so that the handler's form holds only its own
	// fields and a strict decoder (sanitize.DecodeForm) does not refuse
	// it as unknown. What was read is kept for a later Check.
	tc.deleteField(r)
	st.formToken, st.formErr = oneToken(v)
	st.formRead = true
	return nil
}

// takeField takes the token field out of the urlencoded form of an unsafe
// request that passed without the middleware reading it there: one that
// needed no token (a current browser's, without Always) or sent it in the
// header. A form rendered with [TemplateField] carries the field whatever the
// client, and a strict decoder (sanitize.DecodeForm) refuses it as unknown
// (found in review: such forms failed with 400 in every current browser and
// passed in old ones). The body is read only when its Content-Length is known
// and at most MaxFormBytes, so a larger one reaches the handler untouched,
// and parsed only when it holds no more than its Content-Length; it is given
// back to r.Body as it was sent; a form that does not parse is left for the
// handler to parse, and fail on, itself.
func (m *Middleware) takeField(r *http.Request, st *tokenState) {
	if st.formRead {
		return
	}
	// A multipart form is left as sent, for handlers that stream it with
	// r.MultipartReader, which fails once the form is parsed; a strict
	// form decoder (sanitize.DecodeForm) refuses multipart bodies anyway.
	ct := formType(r)
	if ct != "application/x-www-form-urlencoded" {
		return
	}
	if r.PostForm != nil {
		// Parsed further out (a method override reading a form field):
		// the body is consumed, the parsed form is what the handler sees.
		m.tokens.deleteField(r)
		return
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength <= 0 || r.ContentLength > m.tokens.maxForm {
		return
	}
	// One byte more than declared is read: a body rewritten further out
	// without its length (decompressed, the compressed length kept) holds
	// more, and its first Content-Length bytes are not the form sent. It
	// was parsed truncated, and the rest of it lost.
	body := r.Body
	limit := r.ContentLength
	if limit < math.MaxInt64 {
		limit++
	}
	buf, err := io.ReadAll(io.LimitReader(body, limit))
	// restore gives back what was read, then the rest of the body or the
	// read error.
	restore := func() {
		var rest io.Reader = body
		if err != nil {
			rest = errReader{err}
		}
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), rest), body}
	}
	if err != nil || int64(len(buf)) > r.ContentLength {
		restore()
		return
	}
	r.Body = readCloser{bytes.NewReader(buf), body}
	if m.readForm(r, st, ct) != nil {
		r.Form, r.PostForm = nil, nil
	}
	restore()
}

// deleteField takes the token field out of r's parsed form.
func (tc *tokenConfig) deleteField(r *http.Request) {
	delete(r.PostForm, tc.fieldName)
	delete(r.Form, tc.fieldName)
	if r.MultipartForm != nil {
		delete(r.MultipartForm.Value, tc.fieldName)
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// oneToken returns the single token among the values of a header or form
// field. No value, or one empty value (a template that rendered no token),
// is no token; several values are an invalid one, whatever they hold.
func oneToken(v []string) (string, error) {
	switch {
	case len(v) > 1:
		return "", ErrTokenInvalid
	case len(v) == 0 || v[0] == "":
		return "", ErrTokenMissing
	}
	return v[0], nil
}

// Token returns a fresh masked token for r, to embed in a form field or
// send in the token header. Every call returns different bytes that verify
// the same way, so a compressed response never repeats a secret (BREACH).
// It returns "" when r did not pass through a [Middleware] with tokens. The
// token is URL- and HTML-safe.
func Token(r *http.Request) string {
	st, _ := r.Context().Value(stateKey{}).(*tokenState)
	if st == nil {
		return ""
	}
	var raw [maskedLen]byte
	_, _ = rand.Read(raw[:tokenLen])
	for i := range tokenLen {
		raw[tokenLen+i] = raw[i] ^ st.expected[i]
	}
	return b64.EncodeToString(raw[:])
}

// TemplateField returns a hidden form input carrying [Token](r), for
// html/template:
//
//	<form method="post">{{ .CSRFField }} ...</form>
//
// It returns "" when r did not pass through a [Middleware] with tokens.
func TemplateField(r *http.Request) template.HTML {
	st, _ := r.Context().Value(stateKey{}).(*tokenState)
	if st == nil {
		return ""
	}
	// The field name is validated by New and the token is base64url: no
	// escaping is needed.
	return template.HTML(`<input type="hidden" name="` + st.cfg.fieldName + `" value="` + Token(r) + `">`)
}
