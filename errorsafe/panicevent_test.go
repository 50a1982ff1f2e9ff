package errorsafe_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

// The panic_recovered Event carries the value and the stack of the panic
// in a *PanicError, for an OnEvent that reports crashes to a bug tracker
// (echo's LogErrorFunc gets both); it had only ErrPanic, and the value and
// stack went to the log alone. The event's log record and the access
// record keep ErrPanic's constant text: the value never reaches them.
func TestPanicEventValueAndStack(t *testing.T) {
	for _, tt := range []struct {
		name    string
		value   any
		isErr   error // errors.Is(reason, isErr) must hold, besides ErrPanic
		started bool
		logger  bool
	}{
		{"a string", "s3cr3t state", nil, false, true},
		{"an error, unwrapped for errors.Is", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}, fs.ErrNotExist, false, true},
		{"after the response started", "late", nil, true, true},
		{"with error logging off", "quiet", nil, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []errorsafe.Event
			o := errorsafe.Options{OnEvent: func(ctx context.Context, ev errorsafe.Event) { got = append(got, ev) }}
			m, logs := newLogged(t, o)
			if !tt.logger {
				o.Logger = slog.New(slog.DiscardHandler)
				m = errorsafe.MustNew(o)
			}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.started {
					_, _ = w.Write([]byte("partial"))
				}
				panicHere(tt.value)
			}))
			func() {
				defer func() { _ = recover() }() // the abort after a started response
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
			}()
			if len(got) != 1 {
				t.Fatalf("events = %+v", got)
			}
			reason := got[0].Reason
			var pe *errorsafe.PanicError
			if !errors.As(reason, &pe) {
				t.Fatalf("reason %T %v, want a *PanicError", reason, reason)
			}
			if pe.Value != tt.value {
				t.Errorf("Value = %#v, want %#v", pe.Value, tt.value)
			}
			if !strings.Contains(string(pe.Stack), "panicHere") {
				t.Errorf("stack does not show where the panic happened:\n%s", pe.Stack)
			}
			if !errors.Is(reason, errorsafe.ErrPanic) || reason.Error() != errorsafe.ErrPanic.Error() {
				t.Errorf("reason %q is not ErrPanic to errors.Is or in text", reason)
			}
			if tt.isErr != nil && !errors.Is(reason, tt.isErr) {
				t.Errorf("errors.Is(reason, %v) = false", tt.isErr)
			}
			if !tt.logger {
				return
			}
			if ev := logs.find(t, "security event"); ev == nil || ev["reason"] != errorsafe.ErrPanic.Error() {
				t.Errorf("event record = %v", ev)
			}
			if ar := logs.find(t, "http request"); ar == nil || ar["reason"] != errorsafe.ErrPanic.Error() {
				t.Errorf("access record = %v", ar)
			}
		})
	}
}

//go:noinline
func panicHere(v any) { panic(v) }
