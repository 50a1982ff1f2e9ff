package errorsafe

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// EventKind names a security event. Kinds are stable: a service may count
// and alert on them.
type EventKind string

// The security events. A rejection is classified by the package that
// recorded its reason (the "pkg: " prefix of the error, see [Event.Source])
// and then by its status.
const (
	// EventAuthenticationFailed: a 401, or a rejection by auth.
	EventAuthenticationFailed EventKind = "authentication_failed"
	// EventAccessDenied: a 403 not classified otherwise, such as rbac.
	EventAccessDenied EventKind = "access_denied"
	// EventCSRFRejected: a rejection recorded by csrf.
	EventCSRFRejected EventKind = "csrf_rejected"
	// EventRateLimited: a 429.
	EventRateLimited EventKind = "rate_limited"
	// EventSessionInvalid: a 401 or 403 recorded by session.
	EventSessionInvalid EventKind = "session_invalid"
	// EventRequestRejected: another 4xx whose reason an httpguard
	// package (cors, headers, sanitize, https, …) recorded. Errors
	// returned by application handlers are not events unless their status
	// is 401, 403 or 429.
	EventRequestRejected EventKind = "request_rejected"
	// EventPanicRecovered: [Middleware.Recover] recovered a panic.
	EventPanicRecovered EventKind = "panic_recovered"
)

// Event is one security event: a rejected request or a recovered panic.
// It is logged at warn level with the message "security event" and the
// fields below as attributes ("event", "source", "status", "reason",
// "request_id", "method", "path", "client_ip", "subject"), then passed to
// [Options.OnEvent].
type Event struct {
	// Kind classifies the event.
	Kind EventKind
	// Time is when the event was emitted.
	Time time.Time
	// Source is the package that recorded the reason, taken from the
	// "pkg: " prefix that every httpguard error carries ("auth", "csrf",
	// "rbac", …), or "" when unknown. An [*Error] in the reason's chain
	// is passed over: the source is that of its cause.
	Source string
	// Status is the status answered.
	Status int
	// Reason is the recorded rejection reason, or nil; for a recovered
	// panic, a [*PanicError] with the panic's value and stack. It is for
	// the operator, never for the client.
	Reason error
	// RequestID is the request ID, or "".
	RequestID string
	// Method and Path are those of the request, cut to 32 and 1024
	// bytes (a cut method ends with "[TRUNCATED]"); the query is not
	// kept.
	Method, Path string
	// ClientIP is the client address resolved by [Options.ClientIP]; the
	// zero Addr when unknown.
	ClientIP netip.Addr
	// Subject is the authenticated subject, or "".
	Subject string
}

// classify returns the event kind for a request answered with status
// whose recorded reason is reason, and the reason's source package.
func classify(status int, reason error) (EventKind, string) {
	source := errSource(reason)
	if status < 400 || status > 499 {
		return "", source
	}
	switch source {
	case "csrf":
		return EventCSRFRejected, source
	case "session", "session/redisstore":
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return EventSessionInvalid, source
		}
	case "auth":
		if status == http.StatusUnauthorized {
			return EventAuthenticationFailed, source
		}
	}
	switch status {
	case http.StatusUnauthorized:
		return EventAuthenticationFailed, source
	case http.StatusForbidden:
		return EventAccessDenied, source
	case http.StatusTooManyRequests:
		return EventRateLimited, source
	}
	if reason != nil && rejectingPackages[source] {
		return EventRequestRejected, source
	}
	return "", source
}

// rejectingPackages are the httpguard packages whose 4xx rejections are
// security events. Errors of application packages (a "store: not found"
// returned by a handler) are not.
var rejectingPackages = map[string]bool{
	"auth": true, "rbac": true, "headers": true, "https": true, "cors": true, "csrf": true,
	"session": true, "session/redisstore": true, "sanitize": true,
	"ratelimit": true, "ratelimit/redisstore": true,
}

// errSource returns the package prefix of the first error in err's chain
// whose message starts with "pkg: " (lower-case letters, digits and "/",
// at most 32 bytes), or "". An [*Error] in the chain is passed over: it
// presents its cause, which a handler's &Error{Status: 403, Err: err}
// does not make errorsafe's.
func errSource(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(*Error); ok {
			continue
		}
		msg := errorText(e)
		for i := 0; i < len(msg) && i <= 32; i++ {
			ch := msg[i]
			if ch == ':' {
				if i > 0 && i+1 < len(msg) && msg[i+1] == ' ' {
					return msg[:i]
				}
				break
			}
			if !('a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '/') {
				break
			}
		}
	}
	return ""
}

func (c *config) emitEvent(r *http.Request, x *exchange, kind EventKind, status int, reason error, source, subject string) {
	ev := Event{
		Kind:      kind,
		Time:      time.Now(),
		Source:    source,
		Status:    status,
		Reason:    reason,
		RequestID: x.id,
		Method:    clip(r.Method, maxMethodLog),
		Path:      truncate(r.URL.Path, maxPathLog),
		ClientIP:  c.clientIP.Addr(r),
		Subject:   subject,
	}
	ctx := r.Context()
	if lg := c.log(); lg.Enabled(ctx, slog.LevelWarn) {
		reasonText := ""
		if reason != nil {
			reasonText = clip(errorText(cause(reason)), maxTextLog)
		}
		ip := ""
		if ev.ClientIP.IsValid() {
			ip = ev.ClientIP.String()
		}
		lg.LogAttrs(ctx, slog.LevelWarn, msgEvent,
			slog.String("event", string(kind)),
			slog.String("source", source),
			slog.Int("status", status),
			slog.String("reason", reasonText),
			slog.String("request_id", ev.RequestID),
			slog.String("method", ev.Method),
			slog.String("path", ev.Path),
			slog.String("client_ip", ip),
			slog.String("subject", clip(subject, maxValLog)),
		)
	}
	if c.onEvent != nil {
		c.callHook(ctx, ev)
	}
}

// callHook calls OnEvent. A panic in the hook is logged, not propagated:
// it must not turn a rejection into a crash or stop a 500 from being
// written.
func (c *config) callHook(ctx context.Context, ev Event) {
	defer func() {
		if v := recover(); v != nil {
			c.log().LogAttrs(ctx, slog.LevelError, msgHookPanic,
				slog.String("panic", clip(panicString(v), maxTextLog)),
				slog.String("event", string(ev.Kind)),
				slog.String("request_id", ev.RequestID),
			)
		}
	}()
	c.onEvent(ctx, ev)
}
