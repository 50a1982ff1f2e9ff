package errorsafe_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

func TestLogHandlerAddsTheRequestID(t *testing.T) {
	buf := new(logBuf)
	logger := slog.New(errorsafe.LogHandler(slog.NewJSONHandler(buf, nil)))
	m := errorsafe.MustNew(errorsafe.Options{Logger: logger, GenerateRequestID: func() string { return "rid-1" }})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "charging card", "amount", 42)
		logger.With("component", "billing").WithGroup("g").InfoContext(r.Context(), "grouped")
		logger.InfoContext(r.Context(), "explicit", "request_id", "mine")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	logger.InfoContext(context.Background(), "outside a request")

	recs := buf.records(t)
	want := map[string]string{"charging card": "rid-1", "explicit": "mine", "http request": "rid-1", "outside a request": ""}
	for _, r := range recs {
		msg, _ := r["msg"].(string)
		if id, ok := want[msg]; ok {
			got, _ := r["request_id"].(string)
			if got != id {
				t.Errorf("%q: request_id = %q, want %q", msg, got, id)
			}
		}
	}
	if n := strings.Count(buf.String(), `"request_id"`); n != 4 {
		t.Errorf("%d request_id attributes in %s", n, buf)
	}
	if !strings.Contains(buf.String(), `"component":"billing","g":{"request_id":"rid-1"}`) {
		t.Errorf("grouped record: %s", buf)
	}
}

func TestLogHandlerNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	errorsafe.LogHandler(nil)
}

// Found in review: a request_id attribute given to Logger.With was not
// seen, only those of the record, so a logger that already carried the
// ID (an application's per-request logger) wrote "request_id" twice in
// one object, which JSON log pipelines reject or resolve at random.
func TestLogHandlerKeepsARequestIDGivenToWith(t *testing.T) {
	buf := new(logBuf)
	logger := slog.New(errorsafe.LogHandler(slog.NewJSONHandler(buf, nil)))
	m := errorsafe.MustNew(errorsafe.Options{Logger: logger, GenerateRequestID: func() string { return "rid-2" }})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.With("request_id", "app-7").InfoContext(r.Context(), "with")
		logger.With("request_id", "app-8").WithGroup("g").InfoContext(r.Context(), "with, then a group")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	out := buf.String()
	if !strings.Contains(out, `"msg":"with","request_id":"app-7"}`) {
		t.Errorf("record of a logger with a request_id: %s", out)
	}
	if !strings.Contains(out, `"msg":"with, then a group","request_id":"app-8","g":{"request_id":"rid-2"}}`) {
		t.Errorf("record of a grouped logger: %s", out)
	}
}
