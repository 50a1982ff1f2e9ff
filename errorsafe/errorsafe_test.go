package errorsafe_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/internal/testenv"
)

// logBuf is a concurrency-safe buffer for captured log output.
type logBuf struct{ testenv.LogBuffer }

// records returns the JSON log records, one map each.
func (l *logBuf) records(t *testing.T) []map[string]any {
	t.Helper()
	return l.Records(t)
}

// find returns the first record with message msg, or nil.
func (l *logBuf) find(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, r := range l.records(t) {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

// newLogged returns a Middleware logging JSON at debug level into a buffer.
func newLogged(t testing.TB, o errorsafe.Options) (*errorsafe.Middleware, *logBuf) {
	t.Helper()
	buf := new(logBuf)
	o.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := errorsafe.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m, buf
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// problemBody decodes a problem response body.
func problemBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, body)
	}
	return p
}

func TestNewRejectsUnsafeOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  errorsafe.Options
		field string
	}{
		{"a request ID header with a space is rejected", errorsafe.Options{RequestIDHeader: "X Request"}, "RequestIDHeader"},
		{"a request ID header with a newline is rejected", errorsafe.Options{RequestIDHeader: "X-Id\n"}, "RequestIDHeader"},
		// The request ID is logged and echoed as it is: an API key sent in
		// this header was written to every access log record.
		{"a credential header as request ID header is rejected", errorsafe.Options{RequestIDHeader: "X-API-Key"}, "RequestIDHeader"},
		{"Authorization as request ID header is rejected", errorsafe.Options{RequestIDHeader: "authorization"}, "RequestIDHeader"},
		{"Cookie as request ID header is rejected", errorsafe.Options{RequestIDHeader: "Cookie"}, "RequestIDHeader"},
		{"a token header as request ID header is rejected", errorsafe.Options{RequestIDHeader: "X-Auth-Token"}, "RequestIDHeader"},
		{"a header listed in RedactHeaders as request ID header is rejected", errorsafe.Options{RequestIDHeader: "X-Internal", RedactHeaders: []string{"x-internal"}}, "RequestIDHeader"},
		{"a maximum ID length below 8 is rejected", errorsafe.Options{MaxRequestIDLength: 4}, "MaxRequestIDLength"},
		{"a maximum ID length of 7 is rejected", errorsafe.Options{MaxRequestIDLength: 7}, "MaxRequestIDLength"},
		{"a maximum ID length above 200 is rejected", errorsafe.Options{MaxRequestIDLength: 201}, "MaxRequestIDLength"},
		{"a negative maximum ID length is rejected", errorsafe.Options{MaxRequestIDLength: -1}, "MaxRequestIDLength"},
		{"an invalid redacted header name is rejected", errorsafe.Options{RedactHeaders: []string{"Bad:Name"}}, "RedactHeaders[0]"},
		{"an empty redacted parameter is rejected", errorsafe.Options{RedactParams: []string{""}}, "RedactParams[0]"},
		{"an overlong redacted parameter is rejected", errorsafe.Options{RedactParams: []string{strings.Repeat("p", 65)}}, "RedactParams[0]"},
		// Found in review: separators are ignored in names, so this one
		// would match every name made of separators only.
		{"a redacted parameter without a letter or digit is rejected", errorsafe.Options{RedactParams: []string{"ok", "-_"}}, "RedactParams[1]"},
		{"an invalid logged header name is rejected", errorsafe.Options{LogHeaders: []string{"Referer", "a b"}}, "LogHeaders[1]"},
		{"a nil sentinel is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Status: 404}}}, "Errors[0].Err"},
		{"a success status is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 200}}}, "Errors[0].Status"},
		{"a redirect status is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 308}}}, "Errors[0].Status"},
		{"a public message of 201 bytes is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 400, Public: strings.Repeat("p", 201)}}}, "Errors[0].Public"},
		{"a public message with a C1 control is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 400, Public: "a\u0085b"}}}, "Errors[0].Public"},
		{"a status without status text is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 499}}}, "Errors[0].Status"},
		{"a public message with a newline is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 400, Public: "a\nb"}}}, "Errors[0].Public"},
		{"a public message of invalid UTF-8 is rejected", errorsafe.Options{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 400, Public: "\xff"}}}, "Errors[0].Public"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := errorsafe.New(tt.opts)
			if err == nil || m != nil {
				t.Fatalf("New = %v, %v; want an error", m, err)
			}
			if !errors.Is(err, errorsafe.ErrOption) {
				t.Errorf("error %v does not wrap ErrOption", err)
			}
			var oe *errorsafe.OptionError
			if !errors.As(err, &oe) || oe.Field != tt.field {
				t.Errorf("error %v: want an OptionError for field %s", err, tt.field)
			}
		})
	}

	t.Run("every problem is reported", func(t *testing.T) {
		_, err := errorsafe.New(errorsafe.Options{RequestIDHeader: "a b", MaxRequestIDLength: 1, LogHeaders: []string{""}})
		for _, f := range []string{"RequestIDHeader", "MaxRequestIDLength", "LogHeaders[0]"} {
			if err == nil || !strings.Contains(err.Error(), f) {
				t.Errorf("error %v does not name %s", err, f)
			}
		}
	})

	t.Run("valid options are accepted", func(t *testing.T) {
		_, err := errorsafe.New(errorsafe.Options{
			RequestIDHeader:    "X-Correlation-ID",
			MaxRequestIDLength: 128,
			RedactHeaders:      []string{"X-Internal"},
			RedactParams:       []string{"ssn-number"},
			LogHeaders:         []string{"Referer", "referer"},
			Errors:             []errorsafe.ErrorMapping{{Err: io.EOF, Status: 404, Public: "Not here."}},
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the documented bounds are accepted", func(t *testing.T) {
		for _, o := range []errorsafe.Options{
			{MaxRequestIDLength: 8},
			{MaxRequestIDLength: 200},
			{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 400, Public: strings.Repeat("p", 200)}}},
			{Errors: []errorsafe.ErrorMapping{{Err: io.EOF, Status: 511, Public: "Café fermé \u00a0."}}},
		} {
			if _, err := errorsafe.New(o); err != nil {
				t.Errorf("New: %v", err)
			}
		}
	})

	t.Run("MustNew panics on invalid options", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("MustNew did not panic")
			}
		}()
		errorsafe.MustNew(errorsafe.Options{MaxRequestIDLength: 1})
	})
}

func TestZeroMiddlewareIsUsable(t *testing.T) {
	prev := slog.Default()
	slog.SetDefault(discardLogger())
	defer slog.SetDefault(prev)
	// A nil *Middleware behaves as the zero one; it made every request
	// panic.
	for name, m := range map[string]*errorsafe.Middleware{"zero": {}, "nil": nil} {
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if errorsafe.RequestIDFrom(r.Context()) == "" {
				t.Errorf("%s: no request ID in context", name)
			}
			panic("boom")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 500 || rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s: status %d, request ID %q", name, rec.Code, rec.Header().Get("X-Request-Id"))
		}
		if got := m.RedactQuery("password=x"); got != "password="+errorsafe.Redacted {
			t.Errorf("%s: RedactQuery = %q", name, got)
		}
	}
}

func TestNilHandlerPanics(t *testing.T) {
	m := errorsafe.MustNew(errorsafe.Options{})
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"Handler": m.Handler, "Recover": m.Recover, "RequestID": m.RequestID,
		"AccessLog": m.AccessLog, "SafeErrors": m.SafeErrors,
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic for a nil handler")
				}
			}()
			mw(nil)
		})
	}
}

// errorsafeSetDefault makes slog's default logger write JSON to buf and
// returns the previous default.
func errorsafeSetDefault(buf *logBuf) *slog.Logger {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(buf, nil)))
	return prev
}

func restoreDefault(prev *slog.Logger) { slog.SetDefault(prev) }
