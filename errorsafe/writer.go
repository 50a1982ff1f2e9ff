package errorsafe

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/httpguard/httpguard/internal/hijack"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/problem"
)

// exchange is the per-request state of the errorsafe middlewares and the
// http.ResponseWriter they pass on. One exchange is shared by every
// errorsafe middleware of a request that receives it directly as its
// writer, so chaining them costs one allocation, not one per middleware.
//
// It only observes the response, except in replace mode (SafeErrors),
// where a 5xx (or ServeMux 404/405) response is answered with the generic
// problem instead and the inner handler's body is discarded. It never
// writes a header after the response has started.
type exchange struct {
	w http.ResponseWriter // the writer wrapped
	c *config             // configuration of the outermost errorsafe middleware

	id    string    // request ID, "" if none assigned
	idHdr [1]string // backing array of the echoed request ID header value

	status int   // final status written, 0 before
	bytes  int64 // body bytes written to w
	// wroteHeader, hijacked and own are atomic: WriteError reads and
	// sets them through the request context from the handler's
	// goroutine, which behind http.TimeoutHandler is not the serving one
	// and goes on while the timeout's 503 is written here.
	wroteHeader atomic.Bool // a final status has been written
	hijacked    atomic.Bool // the connection was hijacked
	upgrade     bool        // the request asks for a protocol upgrade
	inCtx       bool        // the exchange is stored in the request context

	pending    bool        // a problem's header is held back, see WriteHeader
	want       int         // Content-Length announced by the held problem, -1 if none
	held       []byte      // body of the held problem received so far
	heldHdr    *[]field    // the header fields when the held problem's status was written, pooled
	replace    bool        // replace 5xx bodies (SafeErrors)
	replaceMux bool        // also replace ServeMux 404/405 bodies
	discard    bool        // the inner handler's body is being discarded
	own        atomic.Bool // WriteError is writing: its problem passes through untouched

	// recovers: a Recover serves this exchange further out. aborting:
	// how a Recover is aborting the response with http.ErrAbortHandler.
	// unlogged: the records of AccessLogs further in that saw a panic
	// they could not see the value of, left to the Recover further out.
	recovers bool
	aborting abortKind
	unlogged []pendingAccess

	ctx exchangeCtx // the request context carrying this exchange

	// hijack: the wrapped writer can hijack, and the exchange itself is
	// passed on; otherwise plain is (see writer).
	hijack bool
	plain  plainWriter
}

// newExchange returns the exchange of r, wrapping w.
func newExchange(w http.ResponseWriter, c *config, r *http.Request) *exchange {
	x := &exchange{w: w, c: c, upgrade: isUpgrade(r), hijack: hijack.Possible(w)}
	x.plain.x = x
	return x
}

// writer returns the writer passed on: the exchange, an
// [net/http.Hijacker], where the wrapped writer can hijack (HTTP/1.x),
// otherwise (HTTP/2) its plainWriter, which is not one, as a handler
// that asks w.(http.Hijacker) whether it can take the connection
// expects.
func (x *exchange) writer() http.ResponseWriter {
	if x.hijack {
		return x
	}
	return &x.plain
}

// is reports whether w is the writer x passes on.
func (x *exchange) is(w http.ResponseWriter) bool {
	return w == http.ResponseWriter(x) || w == http.ResponseWriter(&x.plain)
}

// asExchange returns the exchange w is, or nil.
func asExchange(w http.ResponseWriter) *exchange {
	switch v := w.(type) {
	case *exchange:
		return v
	case *plainWriter:
		return v.x
	}
	return nil
}

// plainWriter is the exchange without Hijack, passed on where the
// wrapped writer cannot hijack. Every other method is the exchange's.
type plainWriter struct{ x *exchange }

func (p *plainWriter) Header() http.Header                   { return p.x.Header() }
func (p *plainWriter) WriteHeader(code int)                  { p.x.WriteHeader(code) }
func (p *plainWriter) Write(b []byte) (int, error)           { return p.x.Write(b) }
func (p *plainWriter) WriteString(s string) (int, error)     { return p.x.WriteString(s) }
func (p *plainWriter) ReadFrom(src io.Reader) (int64, error) { return p.x.ReadFrom(src) }
func (p *plainWriter) Flush()                                { p.x.Flush() }
func (p *plainWriter) FlushError() error                     { return p.x.FlushError() }
func (p *plainWriter) Unwrap() http.ResponseWriter           { return p.x.w }

// abortKind is why a Recover aborts a response.
type abortKind uint8

const (
	notAborting     abortKind = iota
	abortDeliberate           // the handler's own http.ErrAbortHandler
	abortAfterPanic           // a panic after the response started
)

// pendingAccess is an access record left to a Recover further out.
type pendingAccess struct {
	c  *config
	r  *http.Request
	as accessState
}

type ctxKey struct{}

// exchangeCtx is a request context that carries its exchange, as
// context.WithValue(parent, ctxKey{}, x) would, without an allocation of
// its own: it lives in the exchange. Every other key, Done, Err and
// Deadline are the parent's.
type exchangeCtx struct {
	context.Context
	x *exchange
}

func (c *exchangeCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.x
	}
	return c.Context.Value(key)
}

// exchangeFrom returns the exchange stored in ctx, or nil.
func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(ctxKey{}).(*exchange)
	return x
}

// Header returns the header map of the wrapped writer.
func (x *exchange) Header() http.Header { return x.w.Header() }

// WriteHeader records and forwards code. Informational codes other than
// 101 are forwarded without starting the response. A second final status
// is dropped: the response has started and its status cannot change.
func (x *exchange) WriteHeader(code int) {
	if x.wroteHeader.Load() || x.hijacked.Load() {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		x.w.WriteHeader(code)
		return
	}
	own := x.ownWrite()
	if x.replace && !own && x.shouldReplace(code) {
		x.wroteHeader.Store(true)
		x.discard = true
		x.writeProblem(code, "")
		return
	}
	if x.id != "" && !own && code >= 400 && code <= 599 {
		if n, ok := x.holdable(); ok {
			// A problem document: hold the header back until its body
			// is complete, to add the request ID to it (see complete).
			x.wroteHeader.Store(true)
			x.status = code
			x.pending = true
			x.want = n
			x.heldHdr = snapshot(x.w.Header())
			return
		}
	}
	// The wrapped writer panics on an invalid code: only a code it took
	// starts the response, so a Recover can still answer 500.
	x.w.WriteHeader(code)
	x.wroteHeader.Store(true)
	x.status = code
}

// ownWrite reports whether the status being written is that of the
// problem WriteError writes: WriteError is writing, and the headers are
// a problem's. A WriteError on another goroutine (behind
// http.TimeoutHandler) may be writing while the serving goroutine writes
// the timeout's 503 here, which is not a problem and is replaced.
func (x *exchange) ownWrite() bool {
	if !x.own.Load() {
		return false
	}
	// writeBody sets exactly this value, under the canonical key.
	v := x.w.Header()["Content-Type"]
	return len(v) == 1 && v[0] == problem.ContentType
}

// maxHeldProblem is the largest problem body held back to add the
// request ID to. Problems are a few hundred bytes; a larger body passes
// through as it is.
const maxHeldProblem = 16 << 10

// holdable reports whether the headers set announce a problem document
// whose body can be held back: Content-Type application/problem+json, no
// content coding, transfer coding or trailers, and a single
// Content-Length between 1 and maxHeldProblem, or none. It returns the
// announced length, -1 if none.
func (x *exchange) holdable() (int, bool) {
	h := x.w.Header()
	if ct := h["Content-Type"]; len(ct) != 1 || !isProblemType(ct[0]) {
		return 0, false
	}
	if len(h["Content-Encoding"]) != 0 || len(h["Transfer-Encoding"]) != 0 || len(h["Trailer"]) != 0 {
		return 0, false
	}
	cl := h["Content-Length"]
	switch len(cl) {
	case 0:
		return -1, true
	case 1:
		n, err := strconv.Atoi(cl[0])
		return n, err == nil && n > 0 && n <= maxHeldProblem
	}
	return 0, false
}

// isProblemType reports whether the media type of Content-Type value v is
// application/problem+json, with or without parameters.
func isProblemType(v string) bool {
	const t = problem.ContentType
	if len(v) < len(t) || !httptoken.EqualFold(v[:len(t)], t) {
		return false
	}
	rest := strings.TrimLeft(v[len(t):], " \t")
	return rest == "" || rest[0] == ';'
}

// hold takes p, a part of the held problem's body. The body is completed
// when the announced length is reached; a body longer than announced or
// than maxHeldProblem releases what is held unchanged and passes p on.
func (x *exchange) hold(p []byte) (int, error) {
	switch {
	case x.want > 0 && len(x.held) == 0 && len(p) == x.want:
		x.complete(p) // the whole body in one write, the usual case
		return len(p), nil
	case x.want > 0 && len(x.held)+len(p) <= x.want:
		if x.held == nil {
			x.held = make([]byte, 0, x.want)
		}
		x.held = append(x.held, p...)
		if len(x.held) == x.want {
			x.complete(x.held)
		}
		return len(p), nil
	case x.want < 0 && len(x.held)+len(p) <= maxHeldProblem:
		x.held = append(x.held, p...)
		return len(p), nil
	}
	x.release()
	n, err := x.w.Write(p)
	x.bytes += int64(n)
	return n, err
}

// complete writes the held header and body, the body with the request ID
// added as its "request_id" member when it is a JSON object without one.
// The Content-Length is then that of the new body.
func (x *exchange) complete(body []byte) {
	x.restoreHeader()
	x.pending, x.held = false, nil
	var out []byte
	if g := generic[x.status-400]; g != nil && string(body) == string(g) {
		out = renderProblem(x.status, "", x.id) // precomputed fast path
	} else {
		out = addRequestID(body, x.id)
	}
	if out != nil {
		x.w.Header()["Content-Length"] = []string{strconv.Itoa(len(out))}
		body = out
	}
	x.w.WriteHeader(x.status)
	n, _ := x.w.Write(body)
	x.bytes += int64(n)
}

// release writes the held header and what was held of the body,
// unchanged: the body is not a problem that can be completed (a Flush, a
// hijack, a body longer or shorter than announced).
func (x *exchange) release() {
	x.restoreHeader()
	held := x.held
	x.pending, x.held = false, nil
	x.w.WriteHeader(x.status)
	if len(held) > 0 {
		n, _ := x.w.Write(held)
		x.bytes += int64(n)
	}
}

// field is a header field as it was when a held problem's status was
// written: its values slice, whose length a later Add cannot change.
type field struct {
	name string
	vals []string
}

// fieldPool holds the slices of snapshot, so holding a problem back
// costs no allocation in the steady state.
var fieldPool = sync.Pool{New: func() any { return new([]field) }}

// maxPooledFields is the largest snapshot put back in fieldPool.
const maxPooledFields = 64

// snapshot records the fields of h in a slice from fieldPool.
func snapshot(h http.Header) *[]field {
	fs := fieldPool.Get().(*[]field)
	for k, v := range h {
		*fs = append(*fs, field{k, v})
	}
	return fs
}

// putFields clears fs and puts it back in fieldPool.
func putFields(fs *[]field) {
	if fs == nil || cap(*fs) > maxPooledFields {
		return
	}
	clear(*fs)
	*fs = (*fs)[:0]
	fieldPool.Put(fs)
}

// restoreHeader puts the header fields back as they were when the held
// problem's status was written, as net/http sends a response's header
// as it was at WriteHeader: a field the handler set, changed or deleted
// since has no effect, but for the trailers (http.TrailerPrefix), which
// net/http reads when the handler returns.
func (x *exchange) restoreHeader() {
	if x.heldHdr == nil {
		return
	}
	fs := *x.heldHdr
	h := x.w.Header()
	for k := range h {
		if !strings.HasPrefix(k, http.TrailerPrefix) && !hasField(fs, k) {
			delete(h, k)
		}
	}
	for _, f := range fs {
		if !strings.HasPrefix(f.name, http.TrailerPrefix) {
			h[f.name] = f.vals
		}
	}
	putFields(x.heldHdr)
	x.heldHdr = nil
}

func hasField(fs []field, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}

// shouldReplace reports whether a response with status code and the
// headers currently set is replaced by the generic problem.
func (x *exchange) shouldReplace(code int) bool {
	if code >= 500 && code <= 599 {
		return true
	}
	if x.replaceMux && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		// The signature of net/http.Error, which ServeMux uses.
		h := x.w.Header()
		return h.Get("Content-Type") == "text/plain; charset=utf-8" && h.Get("X-Content-Type-Options") == "nosniff"
	}
	return false
}

// Write writes p, or discards it when the response was replaced.
func (x *exchange) Write(p []byte) (int, error) {
	if !x.wroteHeader.Load() && !x.hijacked.Load() {
		x.WriteHeader(http.StatusOK)
	}
	if x.discard {
		return len(p), nil
	}
	if x.pending {
		return x.hold(p)
	}
	n, err := x.w.Write(p)
	x.bytes += int64(n)
	return n, err
}

// WriteString is like Write, for io.WriteString.
func (x *exchange) WriteString(s string) (int, error) {
	if !x.wroteHeader.Load() && !x.hijacked.Load() {
		x.WriteHeader(http.StatusOK)
	}
	if x.discard {
		return len(s), nil
	}
	if x.pending {
		return x.hold([]byte(s))
	}
	n, err := io.WriteString(x.w, s)
	x.bytes += int64(n)
	return n, err
}

// ReadFrom copies src to the response, using the wrapped writer's
// io.ReaderFrom (sendfile) when it has one.
func (x *exchange) ReadFrom(src io.Reader) (int64, error) {
	if !x.wroteHeader.Load() && !x.hijacked.Load() {
		x.WriteHeader(http.StatusOK)
	}
	if x.discard {
		return io.Copy(io.Discard, src)
	}
	if x.pending {
		// Through Write, so the body is held like any other.
		return io.Copy(writerOnly{x}, src)
	}
	var n int64
	var err error
	if rf, ok := x.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{x.w}, src)
	}
	x.bytes += n
	return n, err
}

// writerOnly hides every method but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

// Flush sends any buffered data to the client. See [FlushError].
func (x *exchange) Flush() { _ = x.FlushError() }

// FlushError flushes the wrapped writer through [http.ResponseController]
// and returns its error (http.ErrNotSupported when it cannot flush).
func (x *exchange) FlushError() error {
	if !x.wroteHeader.Load() && !x.hijacked.Load() {
		x.WriteHeader(http.StatusOK)
	}
	if x.pending {
		x.release()
	}
	if f, ok := x.w.(interface{ FlushError() error }); ok {
		return f.FlushError()
	}
	return http.NewResponseController(x.w).Flush()
}

// Hijack takes over the connection through [http.ResponseController].
func (x *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if x.pending {
		x.release()
	}
	conn, rw, err := http.NewResponseController(x.w).Hijack()
	if err == nil {
		x.hijacked.Store(true)
	}
	return conn, rw, err
}

// Unwrap returns the wrapped writer, for [http.ResponseController].
func (x *exchange) Unwrap() http.ResponseWriter { return x.w }

// finish writes a problem still held back when the handler returns: a
// body of unannounced length is complete now; a body shorter than
// announced, or none (a HEAD handler may write none), is released
// unchanged. A replaced response loses the trailer fields the handler
// set after its header (see problem.DropTrailers).
func (x *exchange) finish() {
	if x.discard {
		problem.DropTrailers(x.w.Header())
	}
	if !x.pending {
		return
	}
	if x.want < 0 && len(x.held) > 0 {
		x.complete(x.held)
		return
	}
	x.release()
}

// discardHeld drops a held problem that was never written: nothing is on
// the wire, so another response can still be sent.
func (x *exchange) discardHeld() {
	putFields(x.heldHdr)
	x.pending, x.held, x.heldHdr, x.status = false, nil, nil, 0
	x.wroteHeader.Store(false)
}

// started reports whether the response can no longer be replaced.
func (x *exchange) started() bool { return x.wroteHeader.Load() || x.hijacked.Load() }

// logStatus is the status to log.
func (x *exchange) logStatus() int {
	switch {
	case x.status != 0:
		return x.status
	case x.hijacked.Load() && x.upgrade:
		return http.StatusSwitchingProtocols
	case x.hijacked.Load():
		return 0
	}
	// Nothing written: net/http answers 200 with an empty body.
	return http.StatusOK
}

// writeProblem writes the problem response for status, with detail when
// not empty and the request ID as the "request_id" member when one was
// assigned, directly to the wrapped writer. The caller has checked that
// the response has not started.
func (x *exchange) writeProblem(status int, detail string) {
	body := renderProblem(status, detail, x.id)
	x.status = status
	x.wroteHeader.Store(true)
	writeBody(x.w, status, body, false)
	x.bytes += int64(len(body))
}

// pre and post hold, for every status with a status text, the generic
// problem body cut around the value of the request_id member; generic
// holds it without the member.
var pre, post, generic [200][]byte

// idPlaceholder is cut out of the rendered template. It contains none of
// the characters JSON escapes.
const idPlaceholder = "REQUESTIDPLACEHOLDER"

func init() {
	for code := 400; code < 600; code++ {
		if http.StatusText(code) == "" {
			continue
		}
		b, err := problem.Encode(&problem.Problem{
			Status:     code,
			Extensions: []problem.Member{{Name: "request_id", Value: idPlaceholder}},
		})
		if err != nil {
			panic(err) // unreachable: constant input
		}
		generic[code-400], err = problem.Encode(&problem.Problem{Status: code})
		if err != nil {
			panic(err) // unreachable: constant input
		}
		i := indexOf(b, idPlaceholder)
		pre[code-400] = b[:i:i]
		post[code-400] = b[i+len(idPlaceholder):]
	}
}

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	panic("errorsafe: placeholder not found") // unreachable
}

// renderProblem returns the problem body for status (500 if it is not
// between 400 and 599), with detail and request ID when not empty. The
// request ID is made of characters JSON never escapes (see validID). A
// status without a standard status text (a 520 or 599 that SafeErrors
// replaces) keeps its number, with the title "Error": the "status" member
// must be the status sent (RFC 9457, section 3.1.2), and it said 500
// (found in review).
func renderProblem(status int, detail, id string) []byte {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if detail == "" && generic[status-400] != nil {
		if id == "" {
			return generic[status-400] // shared: only ever read
		}
		p, q := pre[status-400], post[status-400]
		b := make([]byte, 0, len(p)+len(id)+len(q))
		b = append(b, p...)
		b = append(b, id...)
		return append(b, q...)
	}
	pr := &problem.Problem{Status: status, Detail: detail}
	if id != "" {
		pr.Extensions = []problem.Member{{Name: "request_id", Value: id}}
	}
	b, err := problem.Encode(pr)
	if err != nil {
		return generic[http.StatusInternalServerError-400]
	}
	return b
}

// writeBody writes a problem response with the headers of
// internal/problem: representation headers of the replaced response are
// removed, and so are trailers (problem.DropRepresentation); other
// headers (Allow, Retry-After, WWW-Authenticate, Vary, security headers,
// the request ID) are kept. A 503 without Retry-After gets Retry-After: 5, the delay of
// the other 503s of httpguard.
//
// When through is set, w is not known to write the body as it is: it may
// be a compression middleware's writer, which set Content-Encoding before
// the handler ran and compresses what it is given. Content-Encoding is
// then kept and Content-Length left to net/http, as net/http.Error does
// (go.dev/issue/66343). (Found in review: a problem written by WriteError
// behind such a middleware went out compressed and labelled as plain
// JSON.)
func writeBody(w http.ResponseWriter, status int, body []byte, through bool) {
	h := w.Header()
	problem.DropRepresentation(h, through)
	// One slot more only for the Retry-After a 503 may need: a fifth
	// string moves every replaced response up a size class (64 to 80
	// bytes).
	retry := status == http.StatusServiceUnavailable && len(h["Retry-After"]) == 0
	n := 4
	if retry {
		n = 5
	}
	vals := make([]string, n)
	if retry {
		vals[4] = unavailableRetryAfter
		h["Retry-After"] = vals[4:5:5]
	}
	vals[0] = problem.ContentType
	vals[1] = "no-store"
	vals[2] = "nosniff"
	h["Content-Type"] = vals[0:1:1]
	h["Cache-Control"] = vals[1:2:2]
	h["X-Content-Type-Options"] = vals[2:3:3]
	if through {
		delete(h, "Content-Length")
	} else {
		vals[3] = strconv.Itoa(len(body))
		h["Content-Length"] = vals[3:4:4]
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// unavailableRetryAfter is the Retry-After, in seconds, of a 503 that
// has none: that of auth's, session's and ratelimit's store failures.
const unavailableRetryAfter = "5"

// addRequestID returns body, a JSON object, with the member
// "request_id": id added before its closing brace, or nil when body is
// not a valid JSON object or already has a top-level "request_id" member.
func addRequestID(body []byte, id string) []byte {
	first, last := 0, len(body)-1
	for first < len(body) && isSpace(body[first]) {
		first++
	}
	for last >= 0 && isSpace(body[last]) {
		last--
	}
	if first >= last || body[first] != '{' || body[last] != '}' || !json.Valid(body) {
		return nil
	}
	if hasTopLevelMember(body[first:last+1], "request_id") {
		return nil
	}
	empty := true // the object has no member: no comma before ours
	for i := last - 1; i > first; i-- {
		if !isSpace(body[i]) {
			empty = false
			break
		}
	}
	out := make([]byte, 0, len(body)+len(`,"request_id":""`)+2*len(id))
	out = append(out, body[:last]...)
	if !empty {
		out = append(out, ',')
	}
	out = append(out, `"request_id":`...)
	out = appendJSONString(out, id)
	return append(out, body[last:]...)
}

// hasTopLevelMember reports whether obj, a valid JSON object, has a
// member called name at its top level. Names with escapes are decoded
// before comparing, so "request\u005fid" is found too.
func hasTopLevelMember(obj []byte, name string) bool {
	depth := 0
	key := false // the next string at depth 1 is a member name
	for i := 0; i < len(obj); i++ {
		switch obj[i] {
		case '{', '[':
			depth++
			key = depth == 1
		case '}', ']':
			depth--
		case ',':
			key = depth == 1
		case '"':
			j, escaped := i+1, false
			for ; obj[j] != '"'; j++ { // valid JSON: the string is closed
				if obj[j] == '\\' {
					escaped = true
					j++
				}
			}
			if key {
				key = false
				if escaped {
					var s string
					if json.Unmarshal(obj[i:j+1], &s) == nil && s == name {
						return true
					}
				} else if string(obj[i+1:j]) == name {
					return true
				}
			}
			i = j
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does for ASCII. Request IDs need no escaping (see validID); this keeps
// the body valid whatever they hold.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c >= 0x80:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
