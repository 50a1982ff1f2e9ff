package errorsafe

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"

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

	status      int   // final status written, 0 before
	bytes       int64 // body bytes written to w
	wroteHeader bool  // a final status has been written
	hijacked    bool  // the connection was hijacked
	upgrade     bool  // the request asks for a protocol upgrade
	inCtx       bool  // the exchange is stored in the request context

	pending    bool // a generic problem's header is held back, see WriteHeader
	replace    bool // replace 5xx bodies (SafeErrors)
	replaceMux bool // also replace ServeMux 404/405 bodies
	discard    bool // the inner handler's body is being discarded
	own        bool // WriteError is writing: pass through untouched
}

type ctxKey struct{}

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
	if x.wroteHeader || x.hijacked {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		x.w.WriteHeader(code)
		return
	}
	if x.replace && !x.own && x.shouldReplace(code) {
		x.wroteHeader = true
		x.discard = true
		x.writeProblem(code, "")
		return
	}
	if x.id != "" && !x.upgrade && x.isGenericProblem(code) {
		// Probably the generic problem of internal/problem, written by
		// an httpguard rejection. Hold the header back until the body
		// shows whether it is, to add the request ID to it.
		x.wroteHeader = true
		x.status = code
		x.pending = true
		return
	}
	// The wrapped writer panics on an invalid code: only a code it took
	// starts the response, so a Recover can still answer 500.
	x.w.WriteHeader(code)
	x.wroteHeader = true
	x.status = code
}

// isGenericProblem reports whether the headers set announce the generic
// problem body of status code.
func (x *exchange) isGenericProblem(code int) bool {
	if code < 400 || code > 599 || generic[code-400] == nil {
		return false
	}
	h := x.w.Header()
	cl := h["Content-Length"]
	return len(cl) == 1 && cl[0] == genericLen[code-400] && h.Get("Content-Type") == problem.ContentType
}

// writePending writes the held-back header. When p, the first body
// write, is the generic problem, the same problem with the request ID is
// written instead and the returned bool is true.
func (x *exchange) writePending(p []byte) bool {
	x.pending = false
	if string(p) == string(generic[x.status-400]) {
		body := renderProblem(x.status, "", x.id)
		x.w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
		x.w.WriteHeader(x.status)
		n, _ := x.w.Write(body)
		x.bytes += int64(n)
		return true
	}
	x.w.WriteHeader(x.status)
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
	if !x.wroteHeader && !x.hijacked {
		x.WriteHeader(http.StatusOK)
	}
	if x.discard {
		return len(p), nil
	}
	if x.pending && x.writePending(p) {
		return len(p), nil
	}
	n, err := x.w.Write(p)
	x.bytes += int64(n)
	return n, err
}

// WriteString is like Write, for io.WriteString.
func (x *exchange) WriteString(s string) (int, error) {
	if !x.wroteHeader && !x.hijacked {
		x.WriteHeader(http.StatusOK)
	}
	if x.discard {
		return len(s), nil
	}
	if x.pending {
		x.writePending(nil)
	}
	n, err := io.WriteString(x.w, s)
	x.bytes += int64(n)
	return n, err
}

// ReadFrom copies src to the response, using the wrapped writer's
// io.ReaderFrom (sendfile) when it has one.
func (x *exchange) ReadFrom(src io.Reader) (int64, error) {
	if !x.wroteHeader && !x.hijacked {
		x.WriteHeader(http.StatusOK)
	}
	if x.discard {
		return io.Copy(io.Discard, src)
	}
	if x.pending {
		x.writePending(nil)
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
	if !x.wroteHeader && !x.hijacked {
		x.WriteHeader(http.StatusOK)
	}
	if x.pending {
		x.writePending(nil)
	}
	if f, ok := x.w.(interface{ FlushError() error }); ok {
		return f.FlushError()
	}
	return http.NewResponseController(x.w).Flush()
}

// Hijack takes over the connection through [http.ResponseController].
func (x *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if x.pending {
		x.writePending(nil)
	}
	conn, rw, err := http.NewResponseController(x.w).Hijack()
	if err == nil {
		x.hijacked = true
	}
	return conn, rw, err
}

// Unwrap returns the wrapped writer, for [http.ResponseController].
func (x *exchange) Unwrap() http.ResponseWriter { return x.w }

// finish writes a header still held back when the handler returns
// without a body.
func (x *exchange) finish() {
	if x.pending {
		x.writePending(nil)
	}
}

// started reports whether the response can no longer be replaced.
func (x *exchange) started() bool { return x.wroteHeader || x.hijacked }

// logStatus is the status to log.
func (x *exchange) logStatus() int {
	switch {
	case x.status != 0:
		return x.status
	case x.hijacked && x.upgrade:
		return http.StatusSwitchingProtocols
	case x.hijacked:
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
	x.wroteHeader = true
	writeBody(x.w, status, body)
	x.bytes += int64(len(body))
}

// pre and post hold, for every status with a status text, the generic
// problem body cut around the value of the request_id member; generic
// holds it without the member.
var pre, post, generic [200][]byte

// genericLen holds the Content-Length of each generic body.
var genericLen [200]string

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
		genericLen[code-400] = strconv.Itoa(len(generic[code-400]))
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

// renderProblem returns the problem body for status (500 if it is not a
// valid error status), with detail and request ID when not empty. The
// request ID is made of characters JSON never escapes (see validID).
func renderProblem(status int, detail, id string) []byte {
	if !validStatus(status) {
		status = http.StatusInternalServerError
	}
	if detail == "" {
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
// removed, other headers (Allow, Retry-After, WWW-Authenticate, Vary,
// security headers, the request ID) are kept.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	for _, k := range dropOnReplace {
		delete(h, k)
	}
	vals := make([]string, 4)
	vals[0] = problem.ContentType
	vals[1] = "no-store"
	vals[2] = "nosniff"
	vals[3] = strconv.Itoa(len(body))
	h["Content-Type"] = vals[0:1:1]
	h["Cache-Control"] = vals[1:2:2]
	h["X-Content-Type-Options"] = vals[2:3:3]
	h["Content-Length"] = vals[3:4:4]
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// dropOnReplace are the headers that describe the replaced representation.
var dropOnReplace = []string{
	"Content-Disposition",
	"Content-Encoding",
	"Content-Language",
	"Content-Location",
	"Content-Range",
	"Etag",
	"Last-Modified",
	"Trailer",
	"Transfer-Encoding",
}
