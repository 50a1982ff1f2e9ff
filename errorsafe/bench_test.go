package errorsafe_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/internal/problem"
)

func benchServe(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	w := &nopWriter{h: make(http.Header, 8)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

var (
	benchOK   = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	benchFail = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(secretBody)
	})
	benchReject = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Reject(w, r, http.StatusForbidden, errDenied)
	})
	benchPanic = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	benchErr   = errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return &errorsafe.Error{Status: http.StatusNotFound, Public: "No such invoice.", Err: errNoInvoice}
	})
)

func BenchmarkRecover(b *testing.B) {
	m := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
	r := httptest.NewRequest("GET", "/", nil)
	b.Run("case=no-panic", func(b *testing.B) { benchServe(b, m.Recover(benchOK), r) })
	b.Run("case=panic", func(b *testing.B) { benchServe(b, m.Recover(benchPanic), r) })
	b.Run("case=with-request-id", func(b *testing.B) { benchServe(b, m.Recover(m.RequestID(benchOK)), r) })
}

func BenchmarkRequestID(b *testing.B) {
	m := errorsafe.MustNew(errorsafe.Options{ClientIP: gatewayResolver(b)})
	for _, tc := range []struct{ name, remote, id string }{
		{"new", gatewayAddr, ""},
		{"incoming", gatewayAddr, "3f2c8a1e-6b7d-4c55-9e0a-1b2c3d4e5f60"},
		{"incoming-ipv6", "[::ffff:10.0.0.1]:443", "3f2c8a1e-6b7d-4c55-9e0a-1b2c3d4e5f60"},
		{"incoming-untrusted", "192.0.2.1:1234", "3f2c8a1e-6b7d-4c55-9e0a-1b2c3d4e5f60"},
		{"hostile-newline", gatewayAddr, "abc\nlevel=ERROR"},
		{"hostile-10KB", gatewayAddr, strings.Repeat("a", 10<<10)},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.id != "" {
			r.Header.Set("X-Request-Id", tc.id)
		}
		b.Run("case="+tc.name, func(b *testing.B) { benchServe(b, m.RequestID(benchOK), r) })
	}
}

func BenchmarkSafeErrors(b *testing.B) {
	m := errorsafe.MustNew(errorsafe.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	b.Run("case=200", func(b *testing.B) { benchServe(b, m.SafeErrors(benchOK), r) })
	b.Run("case=500-replaced", func(b *testing.B) { benchServe(b, m.SafeErrors(benchFail), r) })
}

func BenchmarkHandler(b *testing.B) {
	json := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, lg := range []struct {
		name string
		l    *slog.Logger
	}{{"discard", slog.New(slog.DiscardHandler)}, {"json", json}} {
		m := errorsafe.MustNew(errorsafe.Options{Logger: lg.l})
		r := httptest.NewRequest("GET", "/items?page=2&token=abc", nil)
		r.Header.Set("User-Agent", "bench/1.0")
		b.Run("log="+lg.name+"/case=200", func(b *testing.B) { benchServe(b, m.Handler(benchOK), r) })
		b.Run("log="+lg.name+"/case=rejected", func(b *testing.B) { benchServe(b, m.Handler(benchReject), r) })
		b.Run("log="+lg.name+"/case=error", func(b *testing.B) { benchServe(b, m.Handler(benchErr), r) })
		b.Run("log="+lg.name+"/case=500-replaced", func(b *testing.B) { benchServe(b, m.Handler(benchFail), r) })
	}
}

func BenchmarkAccessLogHugeHeaders(b *testing.B) {
	m := errorsafe.MustNew(errorsafe.Options{
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		LogHeaders: []string{"Referer", "X-Forwarded-For"},
	})
	r := httptest.NewRequest("GET", "/?"+strings.Repeat("a=1&", 5000), nil)
	r.Header.Set("User-Agent", strings.Repeat("u", 64<<10))
	r.Header.Set("Referer", "https://x/?"+strings.Repeat("token=abc&", 5000))
	r.Header.Set("X-Forwarded-For", strings.Repeat("1.2.3.4, ", 10000))
	r.Header.Set("X-Request-Id", strings.Repeat("i", 100<<10))
	benchServe(b, m.Handler(benchOK), r)
}

// BenchmarkRedactURL is a Referer as the access log writes it: userinfo,
// query and fragment redacted, and the logged text checked to read as the
// URL did.
func BenchmarkRedactURL(b *testing.B) {
	var m errorsafe.Middleware
	for _, tc := range []struct{ name, u string }{
		{"clean", "https://app.example.com/items/42"},
		{"query-and-fragment", "https://app.example.com/login?next=%2Fhome&code=abc#frag"},
		{"userinfo", "https://bob:hunter2@app.example.com/"},
	} {
		b.Run("case="+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.RedactURL(tc.u)
			}
		})
	}
}

func BenchmarkRedactQuery(b *testing.B) {
	var m errorsafe.Middleware
	for _, tc := range []struct{ name, q string }{
		{"clean", "page=2&sort=name&q=shoes"},
		{"sensitive", "user=bob&password=hunter2&access_token=abc"},
		{"adversarial-10000-items", strings.Repeat("password=x&", 10000)},
		{"adversarial-1MB-item", "q=" + strings.Repeat("x", 1<<20)},
		{"adversarial-long-escaped-keys", strings.Repeat("%41", 5000) + "=1"},
	} {
		b.Run("case="+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.RedactQuery(tc.q)
			}
		})
	}
}

func BenchmarkWriteError(b *testing.B) {
	m := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
	r := httptest.NewRequest("GET", "/", nil)
	b.Run("case=public", func(b *testing.B) { benchServe(b, m.RequestID(benchErr), r) })
	b.Run("case=internal", func(b *testing.B) {
		benchServe(b, m.RequestID(errorsafe.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errBench })), r)
	})
}

var errBench = errors.New("db: down")

// BenchmarkProblemRequestID measures adding the request ID to problems
// written further in: a detailed 422, a problem already carrying one,
// one at the 16 KiB bound with many members (the adversarial case: the
// body is validated and scanned in full) and one over it (passed on).
func BenchmarkProblemRequestID(b *testing.B) {
	m := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
	r := httptest.NewRequest("GET", "/", nil)
	many := `{"status":400,"errors":[` + strings.Repeat(`{"field":"f","rule":"max"},`, 580) + `{}]}`
	for _, tc := range []struct{ name, body string }{
		{"detailed-422", string(fieldProblem)},
		{"own-request-id", `{"status":400,"detail":"x","request_id":"app-1"}`},
		{"adversarial-16KiB-many-members", many}, // just under the bound
		{"adversarial-over-bound", `{"detail":"` + strings.Repeat("x", 20<<10) + `"}`},
	} {
		typ, n := []string{problem.ContentType}, []string{strconv.Itoa(len(tc.body))}
		body := []byte(tc.body)
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = typ
			w.Header()["Content-Length"] = n
			w.WriteHeader(http.StatusBadRequest)
			w.Write(body)
		}))
		b.Run("case="+tc.name, func(b *testing.B) { benchServe(b, h, r) })
	}
}
