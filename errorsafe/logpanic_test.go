package errorsafe_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

// brokenHandler is an slog.Handler that panics on the records whose
// message is msg, or on every record when msg is "".
type brokenHandler struct{ msg string }

func (brokenHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h brokenHandler) Handle(_ context.Context, r slog.Record) error {
	if h.msg == "" || r.Message == h.msg {
		panic("log sink broken")
	}
	return nil
}
func (h brokenHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h brokenHandler) WithGroup(string) slog.Handler      { return h }

// A logger that panics while a handler's panic is reported must not take
// the place of the answer to it: the client still gets the 500, or the
// connection is aborted when the response had started, as without it.
func TestRecoverAnswersWhenTheLoggerPanics(t *testing.T) {
	recoverAlone := func(m *errorsafe.Middleware) func(http.Handler) http.Handler { return m.Recover }
	split := func(m *errorsafe.Middleware) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler { return m.Recover(m.RequestID(m.AccessLog(h))) }
	}
	tests := []struct {
		name    string
		msg     string // the record the logger panics on, "" for all
		mw      func(m *errorsafe.Middleware) func(http.Handler) http.Handler
		started bool // the handler writes before it panics
		want    int  // status answered, 0 for an abort
	}{
		{"a logger panicking on every record still gives the 500", "", nil, false, 500},
		{"a logger panicking on the panic record still gives the 500", "panic recovered", nil, false, 500},
		{"a logger panicking on the security event still gives the 500", "security event", nil, false, 500},
		{"a logger panicking on the access record still gives the 500", "http request", nil, false, 500},
		{"Recover alone with a panicking logger still gives the 500", "", recoverAlone, false, 500},
		{"split middlewares with a panicking access record still give the 500", "http request", split, false, 500},
		{"a started response is still aborted", "", nil, true, 0},
		{"a started response is still aborted when the access record panics", "http request", nil, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(brokenHandler{tt.msg})})
			mw := m.Handler
			if tt.mw != nil {
				mw = tt.mw(m)
			}
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.started {
					_, _ = w.Write([]byte("partial"))
				}
				panic(secretPanic)
			}))
			rec := httptest.NewRecorder()
			var escaped any
			func() {
				defer func() { escaped = recover() }()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			}()
			if tt.want == 0 {
				if escaped != http.ErrAbortHandler {
					t.Fatalf("panic out of the middleware = %v, want http.ErrAbortHandler", escaped)
				}
				return
			}
			if escaped != nil {
				t.Fatalf("panic out of the middleware: %v", escaped)
			}
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want the problem's", ct)
			}
			p := problemBody(t, rec.Body.Bytes())
			if p["status"] != float64(tt.want) {
				t.Errorf("problem status = %v, want %d", p["status"], tt.want)
			}
		})
	}
}
