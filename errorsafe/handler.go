package errorsafe

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/problem"
)

// ErrPanic is the rejection reason recorded, and reported in the access
// log and the panic_recovered [Event], when a handler panicked.
var ErrPanic = errors.New("errorsafe: handler panicked")

// PanicError is the Reason of the panic_recovered [Event]: the value a
// handler panicked with and the stack of its goroutine at the panic, for
// an [Options.OnEvent] that reports crashes to an error tracker. It is
// for the operator, like the panic's log record: the value may hold
// anything the handler held (request data, secrets), so never show it to
// a client. It matches ErrPanic with [errors.Is], and an error value as
// well, and its text is ErrPanic's: the event's log record and the
// access record, which print the reason, show neither value nor stack.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, as [runtime.Stack]
	// formats it, cut at 1 MB.
	Stack []byte
}

// Error returns ErrPanic's text.
func (e *PanicError) Error() string { return ErrPanic.Error() }

// Is reports whether target is ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns Value when it is an error, so that errors.Is and
// errors.As reach what the handler panicked with. An OnEvent that sorts
// events by their reason therefore sees a panic's value too (a panicked
// *Error with a 404 Status, say): tell panics by the Event's Kind.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

type feature uint8

const (
	fRecover feature = 1 << iota
	fRequestID
	fAccessLog
	fSafeErrors
	fAll = fRecover | fRequestID | fAccessLog | fSafeErrors
)

// handler is every errorsafe middleware; f selects what it does.
type handler struct {
	c    *config
	next http.Handler
	f    feature
}

func (m *Middleware) wrap(next http.Handler, f feature) http.Handler {
	if next == nil {
		panic("errorsafe: nil handler")
	}
	return &handler{c: m.conf(), next: next, f: f}
}

// Handler returns next wrapped in every errorsafe middleware, in the
// recommended order and at the cost of one: it assigns the request ID,
// logs one access record per request, emits security events, recovers
// panics and replaces 5xx (and, if enabled, ServeMux 404/405) bodies with
// the generic problem response. Install it outermost.
//
// Requests for a protocol upgrade (Connection: upgrade, or CONNECT) can
// switch protocols and hijack the connection; a 5xx answer to them is
// replaced like any other, since the client chooses those headers. Their
// panics are recovered and logged. The returned handler is safe for
// concurrent use. Handler panics if next is nil.
func (m *Middleware) Handler(next http.Handler) http.Handler { return m.wrap(next, fAll) }

// Recover returns a middleware that recovers panics in next. The panic
// value and stack are logged at error level with the request ID, method
// and path (never the query), and a panic_recovered [Event] is emitted. If
// the response has not started, the client gets the generic 500 problem
// with the request ID; if it has (a status or body was written, or the
// connection hijacked), the connection is aborted by panicking with
// [net/http.ErrAbortHandler], since the only alternative is a corrupt
// response. A panic with [net/http.ErrAbortHandler] itself is not
// recovered: net/http handles it. The panic value never reaches the
// client. A panic of the logger's handler while the panic is logged is
// dropped and changes none of this. A panic in a goroutine next started
// is not on the request's goroutine and cannot be recovered here.
//
// Recover panics if next is nil.
func (m *Middleware) Recover(next http.Handler) http.Handler { return m.wrap(next, fRecover) }

// RequestID returns a middleware that assigns each request an ID, stores
// it in the context (read it with [RequestIDFrom]) and echoes it in the
// response header [Options.RequestIDHeader]. An incoming ID is kept when
// there is exactly one, at most [Options.MaxRequestIDLength] bytes of
// ASCII letters, digits and "-_.:+/=", unless
// [Options.IgnoreIncomingRequestID] is set; otherwise a new one is made. If
// an errorsafe middleware further out already assigned one, it is kept.
// The request's headers are never modified.
//
// RequestID panics if next is nil.
func (m *Middleware) RequestID(next http.Handler) http.Handler { return m.wrap(next, fRequestID) }

// AccessLog returns a middleware that logs one record per request after
// it completes: method, path, redacted query, status, bytes, duration,
// client address (through [Options.ClientIP]), authenticated subject
// (recorded by [identity.NewContext] further in), request ID, user agent,
// the configured headers (redacted) and the rejection reason recorded by
// any httpguard package (see [RejectReason]). It also emits the security
// [Event] a rejection or panic amounts to. Level: error for 5xx, info
// otherwise. Values are attributes; the message is the constant
// "http request". A panic's value is seen only by a Recover (or Handler)
// serving the request around or within AccessLog, with no foreign writer
// wrapper between them: without one, every panic, a deliberate
// [net/http.ErrAbortHandler] included, is logged as a panic (a 500 if
// nothing was sent).
//
// AccessLog panics if next is nil.
func (m *Middleware) AccessLog(next http.Handler) http.Handler { return m.wrap(next, fAccessLog) }

// SafeErrors returns a middleware that answers every 5xx response of next
// with the generic problem response (with the request ID) instead of the
// body next writes, keeping the status and headers such as Allow,
// Retry-After and WWW-Authenticate, and dropping next's trailers. With
// [Options.ReplaceMuxErrors], the plain-text 404 and 405 bodies of
// [net/http.Error] are replaced too.
// Responses written by [WriteError] and [HandlerFunc] pass untouched: they
// are safe already. Upgrade requests can still switch protocols (101,
// hijacking); their 5xx bodies are replaced too, since the client, not
// the handler, decides that a request asks for an upgrade. The wrapped
// writer supports [net/http.ResponseController] (flush, hijack,
// deadlines) through Unwrap.
//
// SafeErrors panics if next is nil.
func (m *Middleware) SafeErrors(next http.Handler) http.Handler { return m.wrap(next, fSafeErrors) }

// RejectReason returns the reason r was rejected, as recorded by an
// httpguard package or [SetRejectReason] further in, or nil. It is
// available once the inner handler has returned, to code running inside
// [Middleware.AccessLog] or [Middleware.Handler] (an [Options.OnEvent]
// hook receives it in [Event.Reason]).
func RejectReason(r *http.Request) error {
	return problem.ReasonFrom(r.Context()).Err()
}

// SetRejectReason records err as the reason r was rejected, for the
// access log record and the security [Event] of [Middleware.AccessLog]
// and [Middleware.Handler] further out, which read it with
// [RejectReason]. Call it from an OnReject hook or a handler that
// refuses a request, before or after writing the response. The first
// reason recorded wins: it is the decision that stopped the request. A
// nil err is ignored, and without an errorsafe middleware further out
// the call does nothing. The reason goes to the log only, never to the
// client, so it may be a detailed error; still, it must not hold secrets
// such as passwords or tokens. Safe for concurrent use.
func SetRejectReason(r *http.Request, err error) {
	problem.SetReason(r, err)
}

// maxConnectionTokens is the number of Connection tokens isUpgrade reads.
const maxConnectionTokens = 32

// isUpgrade reports whether r asks to switch protocols: an HTTP/1.1
// Connection: upgrade among the first 32 tokens of the field, or an
// HTTP/2 extended CONNECT. A Connection field has a few tokens; reading
// every one made a 1 MB field of commas cost some 7 ms on every request
// (found in review). A request that hides its upgrade further on is
// treated as any other: a hijack is logged with status 0 rather than 101.
// Its problem bodies, like every request's, are held back to add the
// request ID: any client may ask for an upgrade.
func isUpgrade(r *http.Request) bool {
	if r.Method == http.MethodConnect {
		return true
	}
	n := 0
	for _, v := range r.Header["Connection"] {
		for v != "" {
			if n++; n > maxConnectionTokens {
				return false
			}
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if httptoken.EqualFold(httptoken.TrimOWS(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// accessState is what the access log needs after the handler returned.
type accessState struct {
	start  time.Time
	reason *problem.Reason
	rec    *identity.Recorder
	// recoverOut: a Recover further out serves the same exchange and
	// sees the value of a panic this middleware cannot recover.
	recoverOut bool
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, f := h.c, h.f
	x := asExchange(w)
	if x == nil {
		x = newExchange(w, c, r)
	}
	// Upgrade requests are not exempt: Connection: upgrade is the
	// client's to send, and a 5xx is never part of a protocol switch.
	if f&fSafeErrors != 0 {
		x.replace = true
		x.replaceMux = x.replaceMux || c.replaceMux
	}

	ctx := r.Context()
	if f&fRequestID != 0 && x.id == "" {
		if ox := exchangeFrom(ctx); ox != nil && ox.id != "" {
			x.id = ox.id
		} else {
			x.id = c.requestID(r)
			x.idHdr[0] = x.id
			x.w.Header()[c.idHeader] = x.idHdr[:1:1]
		}
	}
	if !x.inCtx && (x.id != "" || f&fAccessLog != 0) {
		x.inCtx = true
		x.ctx = exchangeCtx{Context: ctx, x: x}
		ctx = &x.ctx // carried by the exchange: no allocation of its own
	}
	var as accessState
	if f&fAccessLog != 0 {
		as.recoverOut = f&fRecover == 0 && x.recovers
		as.start = time.Now()
		ctx, as.reason = problem.WithReason(ctx)
		ctx, as.rec = identity.WithRecorder(ctx)
	}
	if ctx != r.Context() {
		r = r.WithContext(ctx)
	}
	if f&fRecover != 0 {
		x.recovers = true
	}

	done := false
	defer h.finish(x, r, &as, &done)
	h.next.ServeHTTP(x.writer(), r)
	done = true
}

// finish runs deferred: it recovers a panic (Recover), then logs the
// access record and events (AccessLog), then aborts the connection when a
// panic happened after the response started.
func (h *handler) finish(x *exchange, r *http.Request, as *accessState, done *bool) {
	var pv any
	if h.f&fRecover != 0 {
		pv = recover()
	}
	panicked := pv != nil || !*done
	if !panicked {
		x.finish()
	}
	abort := false
	if pv != nil {
		if pv == http.ErrAbortHandler {
			// An intentional abort, not a panic of the handler (unless
			// a Recover further in aborts after one): the record keeps
			// the status sent, if any, and its reason.
			if x.aborting == notAborting {
				x.aborting = abortDeliberate
			}
			panicked = x.aborting == abortAfterPanic
			x.logUnlogged(panicked, true)
			if h.f&fAccessLog != 0 {
				h.c.logAccess(x, r, as, panicked, true)
			}
			panic(pv)
		}
		if x.pending {
			// A problem's header was held back: nothing is on the
			// wire yet, so the 500 can still be sent.
			x.discardHeld()
		}
		// What follows calls the application's logger, whose handler
		// may panic too; that panic must not take the place of the
		// answer to this one (see answerPanic).
		answered := false
		defer x.answerPanic(&answered)
		// The stack is taken here, on the panicking goroutine's stack
		// below the deferred call, so that it shows where the panic
		// happened, and only for a record or an OnEvent to take it.
		var stack []byte
		logged := h.c.log().Enabled(r.Context(), slog.LevelError)
		if logged || h.c.onEvent != nil {
			stack = stackTrace()
		}
		if logged {
			h.c.logPanic(x, r, pv, stack)
		}
		problem.SetReason(r, ErrPanic)
		h.c.emitEvent(r, x, EventPanicRecovered, http.StatusInternalServerError, &PanicError{Value: pv, Stack: stack}, "errorsafe", as.subject(r))
		if x.started() {
			abort = true
			x.aborting = abortAfterPanic
		} else {
			x.writeProblem(http.StatusInternalServerError, "")
		}
		answered = true
	}
	if h.f&fRecover != 0 {
		x.logUnlogged(panicked, abort)
	}
	if h.f&fAccessLog != 0 {
		if panicked && h.f&fRecover == 0 {
			switch {
			case x.aborting != notAborting:
				// A Recover further in saw the panic's value.
				panicked, abort = x.aborting == abortAfterPanic, true
			case as.recoverOut:
				// The Recover further out will see it: it logs.
				x.unlogged = append(x.unlogged, pendingAccess{h.c, r, *as})
				return
			}
		}
		h.c.logAccess(x, r, as, panicked, abort)
	}
	if abort && h.f&fRecover != 0 {
		panic(http.ErrAbortHandler)
	}
}

// answerPanic runs deferred by a Recover that recovered a handler's
// panic, after the panic was logged, emitted and answered. A panic while
// doing that (the application's slog handler or OnEvent panicking past
// its guard) is dropped once the answer is decided, and otherwise
// answered as the handler's would have been: the generic 500, or an
// abort when the response has started. Without it, that panic left
// the middleware in place of the 500, and net/http closed the
// connection with no response (found in review). The abort a Recover
// decided, http.ErrAbortHandler, is passed on.
func (x *exchange) answerPanic(answered *bool) {
	v := recover()
	switch {
	case v == nil:
		return
	case v == http.ErrAbortHandler:
		panic(v)
	case x.aborting == abortAfterPanic || !*answered && x.started():
		x.aborting = abortAfterPanic
		panic(http.ErrAbortHandler)
	case !*answered:
		if x.pending {
			x.discardHeld()
		}
		x.writeProblem(http.StatusInternalServerError, "")
	}
}

// logUnlogged logs the records AccessLogs further in left to this
// Recover, now that it knows what the panic, if any, was.
func (x *exchange) logUnlogged(panicked, aborted bool) {
	for i := range x.unlogged {
		p := &x.unlogged[i]
		p.c.logAccess(x, p.r, &p.as, panicked, aborted)
	}
	x.unlogged = nil
}
