package errorsafe

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/httpguard/httpguard/identity"
)

// Log messages. They are constants: every value is an attribute.
const (
	msgAccess    = "http request"
	msgPanic     = "panic recovered"
	msgError     = "handler error"
	msgEvent     = "security event"
	msgHookPanic = "event hook panicked"
	msgSkipPanic = "SkipAccessLog panicked"
	msgGenPanic  = "request ID generator panicked"
	maxPathLog   = 1024 // bytes of the path logged
	maxValLog    = 256  // bytes of a header value logged
	maxMethodLog = 32   // bytes of the method logged, marker included
	maxTextLog   = 4096 // bytes of a panic value, error or reason logged, marker included
)

// logAccess writes the access record of r and the security event it
// amounts to.
func (c *config) logAccess(x *exchange, r *http.Request, as *accessState, panicked, aborted bool) {
	status := x.logStatus()
	switch {
	case panicked && !x.started():
		status = http.StatusInternalServerError // written by a Recover further out
	case aborted && (!x.started() || x.pending):
		// net/http closed the connection or reset the stream before a
		// byte of the response (or of a problem held back) was sent.
		status = 0
	}
	reason := as.reason.Err()
	if panicked {
		reason = ErrPanic
	}
	subject := as.subject(r)

	if !panicked {
		if kind, source := classify(status, reason); kind != "" {
			c.emitEvent(r, x, kind, status, reason, source, subject)
		}
	}

	if c.skipLog != nil && !panicked && !aborted && reason == nil && status < 400 && c.skip(r, x.id) {
		return
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	ctx := r.Context()
	// The handler is called directly, as [slog.Logger.LogAttrs] would,
	// minus a second Enabled call and the stack walk for the record's
	// source: the call site is always this function, so its PC is taken
	// once (see accessPC).
	h := c.log().Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	now := time.Now()
	var buf [16]slog.Attr
	attrs := buf[:0]
	attrs = append(attrs,
		slog.String("method", clip(r.Method, maxMethodLog)),
		slog.String("path", truncate(r.URL.Path, maxPathLog)),
	)
	if q := c.redactQuery(r.URL.RawQuery); q != "" {
		attrs = append(attrs, slog.String("query", noBidi(q)))
	}
	sent := x.bytes
	if r.Method == http.MethodHead {
		sent = 0 // net/http takes the body's writes and sends none
	}
	attrs = append(attrs,
		slog.Int("status", status),
		slog.Int64("bytes", sent),
		slog.Duration("duration", now.Sub(as.start)),
	)
	if addr := c.clientIP.Addr(r); addr.IsValid() {
		attrs = append(attrs, slog.String("client_ip", addr.String()))
	}
	if subject != "" {
		attrs = append(attrs, slog.String("subject", clip(subject, maxValLog)))
	}
	if x.id != "" {
		attrs = append(attrs, slog.String("request_id", x.id))
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		attrs = append(attrs, slog.String("user_agent", plainHeader(ua)))
	}
	if reason != nil {
		attrs = append(attrs, slog.String("reason", clip(errorText(cause(reason)), maxTextLog)))
	}
	if x.hijacked.Load() {
		attrs = append(attrs, slog.Bool("hijacked", true))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	if len(c.logHeaders) > 0 {
		hs := make([]any, 0, len(c.logHeaders))
		for i, name := range c.logHeaders {
			vs := r.Header[name]
			if len(vs) == 0 {
				continue
			}
			v := Redacted
			switch c.logHeaderMode[i] {
			case hdrURL:
				// Each line on its own: joined, only the first URL's
				// userinfo would be found (found in review).
				if len(vs) == 1 {
					v = c.redactURL(vs[0])
				} else {
					v = truncate(joinLines(vs, c.redactURL), maxValLog)
				}
			case hdrPlain:
				v = plainHeader(joinLines(vs, nil))
			}
			hs = append(hs, slog.String(name, noBidi(v)))
		}
		if len(hs) > 0 {
			attrs = append(attrs, slog.Group("headers", hs...))
		}
	}
	rec := slog.NewRecord(now, level, msgAccess, accessPC())
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec)
}

// joinLines returns the header lines vs joined with ", ", each passed
// through f when f is not nil, as the access log writes them before
// cutting them to maxValLog bytes. It stops once the text is longer than
// that: the lines after it would be cut off anyway, and reading them all
// made a header of 40 000 lines (1 MB, within net/http's limit) cost as
// many redactions and allocations per request (found in review). Of the
// line that reaches the cut, only the bytes before it are copied: a 1 MB
// line followed by another was copied whole.
func joinLines(vs []string, f func(string) string) string {
	if len(vs) == 1 && f == nil {
		return vs[0]
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		if f != nil {
			v = f(v)
		}
		if room := maxValLog - b.Len(); len(v) > room {
			b.WriteString(v[:max(room, 0)])
			break
		}
		b.WriteString(v)
	}
	return b.String()
}

// accessPCs holds the program counter of the call site of accessPC in
// logAccess, the source of access records, once taken.
var accessPCs atomic.Uintptr

// accessPC returns the program counter of its caller's call site, as
// [slog.Logger.LogAttrs] records it, walking the stack only the first
// time: the caller is always logAccess.
func accessPC() uintptr {
	if pc := accessPCs.Load(); pc != 0 {
		return pc
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip runtime.Callers and accessPC
	accessPCs.Store(pcs[0])
	return pcs[0]
}

// subject returns the authenticated subject recorded further in, or the
// one already in r's context, or "".
func (as *accessState) subject(r *http.Request) string {
	if id, ok := as.rec.Identity(); ok {
		return id.Subject()
	}
	if id, ok := identity.FromRequest(r); ok {
		return id.Subject()
	}
	return ""
}

// skip calls SkipAccessLog. A panic in it is logged, and the record
// kept.
func (c *config) skip(r *http.Request, id string) (skip bool) {
	defer func() {
		if v := recover(); v != nil {
			skip = false
			c.log().LogAttrs(r.Context(), slog.LevelError, msgSkipPanic,
				slog.String("panic", clip(panicString(v), maxTextLog)),
				slog.String("request_id", id),
			)
		}
	}()
	return c.skipLog(r)
}

// logPanic logs a recovered panic with its stack, taken by the caller
// when the logger is enabled at error level.
func (c *config) logPanic(x *exchange, r *http.Request, pv any, stack []byte) {
	c.log().LogAttrs(r.Context(), slog.LevelError, msgPanic,
		slog.String("panic", clip(panicString(pv), maxTextLog)),
		slog.String("stack", string(stack)),
		slog.String("request_id", x.id),
		slog.String("method", clip(r.Method, maxMethodLog)),
		slog.String("path", truncate(r.URL.Path, maxPathLog)),
		slog.Bool("response_started", x.started()),
	)
}

// stackTrace returns the current goroutine's stack. Unlike
// [runtime/debug.Stack], which starts at 1 KB and walks the stack again
// for every doubling, it starts large enough for a typical handler, so
// the stack is usually walked once. It stops growing at 1 MB.
func stackTrace() []byte {
	buf := make([]byte, 8<<10)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) || len(buf) >= 1<<20 {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// errorText returns err.Error() for the log, or a placeholder when the
// method panics, as that of a nil *T returned as an error does: the
// panic would otherwise escape from the deferred access record, or turn
// the status a handler's error asked for into a 500. (Found in review.)
func errorText(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = "(error text could not be formatted)"
		}
	}()
	return err.Error()
}

// cause returns err without the [*Error]s around it: an *Error gives its
// cause a status and a public face, and a record shows the status
// already. An *Error without a cause is returned as it is.
func cause(err error) error {
	for {
		e, ok := err.(*Error)
		if !ok || e == nil || e.Err == nil {
			return err
		}
		err = e.Err
	}
}

// panicString formats a panic value for the log, never for a client.
func panicString(pv any) (s string) {
	defer func() {
		if recover() != nil {
			s = "(panic value could not be formatted)"
		}
	}()
	switch v := pv.(type) {
	case error:
		return v.Error()
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%#v", pv)
}

// truncate returns s cut to at most n bytes, with its bidi controls
// replaced (see noBidi).
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return noBidi(s)
}

// clip returns s cut to at most n bytes, "[TRUNCATED]" included, as
// RedactQuery marks a cut, and with its bidi controls replaced (see
// noBidi). It bounds text that has no natural bound: the method, which
// net/http accepts up to MaxHeaderBytes, a panic value, an error. The
// cut falls on a rune boundary. (Found in review: a 500 KB method made
// a 500 KB log record.)
func clip(s string, n int) string {
	if len(s) <= n {
		return noBidi(s)
	}
	cut := n - len(truncated)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return noBidi(s[:cut]) + truncated
}

// noBidi returns s with every Unicode bidirectional embedding, override
// and isolate control (U+202A to U+202E, U+2066 to U+2069) replaced by
// U+FFFD, which has the same length. Written raw, as the JSON handler of
// log/slog writes them, they make a log viewer show the rest of the line
// in another order than it was written. (Found in review: a path or
// User-Agent could reorder its log line.) It allocates only when it
// replaces something.
func noBidi(s string) string {
	if strings.IndexByte(s, 0xe2) < 0 {
		return s
	}
	var b []byte
	for i := 0; i+2 < len(s); i++ {
		c1, c2 := s[i+1], s[i+2]
		if s[i] == 0xe2 && (c1 == 0x80 && 0xaa <= c2 && c2 <= 0xae || c1 == 0x81 && 0xa6 <= c2 && c2 <= 0xa9) {
			if b == nil {
				b = []byte(s)
			}
			copy(b[i:], "\uFFFD")
			i += 2
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}
