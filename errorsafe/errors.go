package errorsafe

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/storefail"
	"github.com/httpguard/httpguard/internal/toomany"
)

// Error is an error with a public face: Status and Public are what the
// client sees, Err is the private cause, which is logged and never sent.
//
//	return &errorsafe.Error{Status: http.StatusNotFound, Public: "No such invoice.", Err: err}
//
// The zero Error answers 500 with no detail, and so does a nil *Error
// returned as an error.
type Error struct {
	// Status is the HTTP status to answer, 400 to 599 with a standard
	// status text. Any other value, including 0, means 500.
	Status int
	// Public is sent to the client as the problem "detail". It must be a
	// constant chosen by the program: never request data and never an
	// error message. Empty means no detail, only the status text.
	Public string
	// Err is the private cause, for the log. It may be nil.
	Err error
}

// Error returns "errorsafe: STATUS TEXT" followed by the private cause, for
// logs.
func (e *Error) Error() string {
	status := e.status()
	s := "errorsafe: " + strconv.Itoa(status) + " " + http.StatusText(status)
	if e != nil && e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the private cause, nil for a nil *Error.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// status returns the status to answer: 500 for a nil *Error, one whose
// Status is invalid, or zero.
func (e *Error) status() int {
	if e != nil && validStatus(e.Status) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// HandlerFunc is a handler that reports failure by returning an error,
// which [WriteError] turns into a safe response. It implements
// [net/http.Handler]; the configuration used ([Options.Errors], the
// logger) is that of the errorsafe middleware the request went through,
// or the defaults when there is none.
//
// A HandlerFunc that returns an error after it started writing its
// response cannot change that response: the error is logged and the
// response left as it is.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls f and passes a non-nil error to [WriteError].
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// WriteError answers r with the safe response for err and records err as
// the rejection reason (see [RejectReason]). The status and public message
// are, in order of precedence:
//
//   - those of the first [*Error] in err's chain;
//   - those of the first [Options.Errors] entry whose Err matches with
//     [errors.Is];
//   - 413 for an [*net/http.MaxBytesError];
//   - 503 for [context.DeadlineExceeded] and [net/http.ErrHandlerTimeout],
//     and for an error with a method Unavailable() bool that reports true:
//     a store that could not answer, such as ratelimit.ErrStore,
//     session.ErrStore and auth.ErrUnavailable, and
//     ratelimit.ErrOverloaded;
//   - 429 for an error with a method TooManyRequests() bool that reports
//     true: a limit that refused, such as ratelimit.ErrLimited, ErrLocked
//     and ErrUserLocked, and auth.ErrTooManyAttempts and ErrTooManyTokens
//     (set Retry-After on w first);
//   - otherwise 500 with no detail.
//
// The body is the problem JSON of that status with the public message as
// "detail" and the request ID as "request_id". A 5xx error is logged at
// error level with the request ID, method, path and err; a 4xx one at
// debug level, since the access log already carries it as the reason. If
// the client went away (err is [context.Canceled] and the request context
// is done), nothing is written. If the response already started, nothing
// is written and the log records it, unless err is the rejection reason
// already recorded for r: a helper answered it (sanitize's DecodeJSON, a
// 4xx) and the handler returned it, as in "if err != nil { return err }",
// and the access log carries it already (an error record would let any
// client fill the error log). Headers the status requires
// (WWW-Authenticate, Allow, Retry-After) are the caller's to set on w
// first; a 503 without Retry-After gets Retry-After: 5. Representation
// headers the handler set (Content-Disposition, ETag, …) are removed,
// except that a w other than the one an errorsafe middleware passed on,
// such as a compression middleware's, keeps Content-Encoding and leaves
// Content-Length to net/http, as [net/http.Error] does: that writer may
// encode the body. A nil err does nothing.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	x := exchangeFrom(r.Context())
	if x == nil {
		x = findExchange(w)
	}
	c, id := defaultConfig, ""
	if x != nil {
		c, id = x.c, x.id
	}
	status, public := c.statusOf(err)
	canceled := errors.Is(err, context.Canceled) && r.Context().Err() != nil
	started := x != nil && x.started()
	if started && alreadyAnswered(r, err) {
		return
	}
	c.logError(r, id, status, err, canceled, started)
	problem.SetReason(r, err)
	if canceled || started {
		return
	}
	if x != nil {
		x.own.Store(true)
		defer x.own.Store(false)
	}
	// Written to the exchange itself, the body goes out as it is;
	// through another writer, it may be compressed (see writeBody).
	writeBody(w, status, renderProblem(status, public, id), x == nil || !x.is(w))
}

// alreadyAnswered reports whether err is, or wraps, the rejection reason
// already recorded for r, by whatever answered it.
func alreadyAnswered(r *http.Request, err error) bool {
	prev := problem.ReasonFrom(r.Context()).Err()
	return prev != nil && errors.Is(err, prev)
}

// statusOf returns the status and public message for err.
func (c *config) statusOf(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			// A nil *Error returned as an error (found in review: it
			// panicked here, and a Recover aborted a complete response).
			return http.StatusInternalServerError, ""
		}
		return e.status(), e.Public
	}
	for _, mp := range c.mappings {
		if errors.Is(err, mp.Err) {
			return mp.Status, mp.Public
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, ""
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, http.ErrHandlerTimeout):
		return http.StatusServiceUnavailable, ""
	case storefail.Is(err):
		return http.StatusServiceUnavailable, ""
	case toomany.Is(err):
		return http.StatusTooManyRequests, ""
	}
	return http.StatusInternalServerError, ""
}

// logError logs a handler error.
func (c *config) logError(r *http.Request, id string, status int, err error, canceled, started bool) {
	level := slog.LevelDebug
	if status >= 500 && !canceled {
		level = slog.LevelError
	}
	lg := c.log()
	ctx := r.Context()
	if !lg.Enabled(ctx, level) {
		return
	}
	lg.LogAttrs(ctx, level, msgError,
		slog.Int("status", status),
		slog.String("error", clip(errorText(cause(err)), maxTextLog)),
		slog.String("request_id", id),
		slog.String("method", clip(r.Method, maxMethodLog)),
		slog.String("path", truncate(r.URL.Path, maxPathLog)),
		slog.Bool("client_gone", canceled),
		slog.Bool("response_started", started),
	)
}

// findExchange returns the exchange w is or wraps, looking through up to
// 16 writers that implement Unwrap, or nil.
func findExchange(w http.ResponseWriter) *exchange {
	for range 16 {
		switch v := w.(type) {
		case *exchange:
			return v
		case *plainWriter:
			return v.x
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
	return nil
}
