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

// nopWriter is a ResponseWriter that allocates nothing itself.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// TestAllocationBudgets enforces the per-request allocations of each
// middleware on the allowed and the rejected paths.
func TestAllocationBudgets(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are exact only without -race and -short")
	}
	// Behind a gateway, so that an incoming ID can be kept.
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger(), ClientIP: gatewayResolver(t)})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	fail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(secretBody)
	})
	reject := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Reject(w, r, http.StatusForbidden, errDenied)
	})
	// Header values set without allocating, so the budget counts the
	// middleware's work only. Each request gets its own slices in real
	// code; the test writer discards them.
	detailedType, detailedLen := []string{problem.ContentType}, []string{strconv.Itoa(len(fieldProblem))}
	detailed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = detailedType
		w.Header()["Content-Length"] = detailedLen
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write(fieldProblem)
	})
	plain := httptest.NewRequest("GET", "/x?page=1", nil)
	withID := httptest.NewRequest("GET", "/x", nil)
	withID.RemoteAddr = gatewayAddr
	withID.Header.Set("X-Request-Id", "gateway-assigned-1")
	withID6 := httptest.NewRequest("GET", "/x", nil)
	withID6.RemoteAddr = "[::ffff:10.0.0.1]:443"
	withID6.Header.Set("X-Request-Id", "gateway-assigned-1")
	fromClient := httptest.NewRequest("GET", "/x", nil) // RemoteAddr 192.0.2.1:1234
	fromClient.Header.Set("X-Request-Id", "gateway-assigned-1")
	hostile := httptest.NewRequest("GET", "/x", nil)
	hostile.RemoteAddr = gatewayAddr
	hostile.Header.Set("X-Request-Id", "bad\nid")

	// The request ID itself costs: the exchange holding it (with the
	// header slice and the context that carries it), the request copy
	// and, when newly made, the string.
	const idCost = 3
	tests := []struct {
		name string
		h    http.Handler
		r    *http.Request
		max  float64
	}{
		{"Recover on the allowed path costs one wrapper", m.Recover(ok), plain, 1},
		{"SafeErrors on the allowed path costs one wrapper", m.SafeErrors(ok), plain, 1},
		{"SafeErrors replacing a 500 adds only the header values", m.SafeErrors(fail), plain, 2},
		{"RequestID with an incoming ID costs no string", m.RequestID(ok), withID, idCost - 1},
		{"RequestID with an incoming ID over IPv6 costs no string", m.RequestID(ok), withID6, idCost - 1},
		{"RequestID replacing an untrusted peer's ID", m.RequestID(ok), fromClient, idCost},
		{"RequestID generating an ID", m.RequestID(ok), plain, idCost},
		{"RequestID replacing a hostile ID", m.RequestID(ok), hostile, idCost},
		{"Recover and RequestID together cost only the request ID", m.Recover(m.RequestID(ok)), plain, idCost},
		{"Handler with logging disabled adds the reason and identity recorders", m.Handler(ok), plain, idCost + 4},
		{"Handler on a rejected request with logging disabled", m.Handler(reject), plain, idCost + 4 + 3},
		// The new body and its Content-Length (slice and string).
		{"Handler adding the request ID to a detailed problem", m.Handler(detailed), plain, idCost + 4 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &nopWriter{h: make(http.Header, 8)}
			got := testing.AllocsPerRun(200, func() {
				clear(w.h)
				tt.h.ServeHTTP(w, tt.r)
			})
			if got > tt.max {
				t.Errorf("%v allocations per request, budget %v", got, tt.max)
			}
		})
	}
}

// TestRedactQueryCleanDoesNotAllocate: the value checks added in review
// (percent-encoded JWTs, URLs with userinfo) cost no allocation on
// queries with nothing to redact.
func TestRedactQueryCleanDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are exact only without -race and -short")
	}
	var m errorsafe.Middleware
	for _, q := range []string{
		"page=2&sort=name&q=shoes",
		"redirect_uri=https%3A%2F%2Fapp.example%2Fcb&next=https://app.example/x&email=a%40b.example",
		"searchKeyword=go&postcode=1&monkey=2&x=%65%78",
	} {
		if got := testing.AllocsPerRun(100, func() { _ = m.RedactQuery(q) }); got != 0 {
			t.Errorf("RedactQuery(%q): %v allocations", q, got)
		}
	}
}

// TestRecoverAddsNoAllocationToRequestID: Recover chained with RequestID
// shares its per-request state, so the pair costs exactly what RequestID
// costs alone.
func TestRecoverAddsNoAllocationToRequestID(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are exact only without -race and -short")
	}
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger(), ClientIP: gatewayResolver(t)})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	w := &nopWriter{h: make(http.Header, 8)}
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/", nil),
		func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = gatewayAddr
			r.Header.Set("X-Request-Id", "gw-1")
			return r
		}(),
	} {
		h1, h2 := m.RequestID(ok), m.Recover(m.RequestID(ok))
		alone := testing.AllocsPerRun(200, func() { clear(w.h); h1.ServeHTTP(w, r) })
		both := testing.AllocsPerRun(200, func() { clear(w.h); h2.ServeHTTP(w, r) })
		if both != alone {
			t.Errorf("Recover+RequestID %v allocations per request, RequestID alone %v", both, alone)
		}
	}
}

var (
	errDenied  = errors.New("rbac: denied")
	secretBody = []byte("secret")
)

// Found in review: every line of a header listed in LogHeaders was
// redacted and joined before the result was cut to 256 bytes, so a
// request with 40 000 Referer lines (1 MB, within net/http's header
// limit) cost 40 000 allocations and some 17 ms in the access log alone.
// Lines past the logged 256 bytes are not read: 10 000 lines cost what
// 100 do, and the logged text is the same.
func TestLoggedHeaderLinesAreBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are exact only without -race and -short")
	}
	buf := new(logBuf)
	m := errorsafe.MustNew(errorsafe.Options{
		Logger:     slog.New(slog.NewJSONHandler(buf, nil)),
		LogHeaders: []string{"Referer", "X-Forwarded-For"},
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := m.Handler(ok)
	w := &nopWriter{h: make(http.Header, 8)}
	lines := func(n int) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		for i := range n {
			r.Header.Add("Referer", "https://a.example/"+strconv.Itoa(i)+"?token=x")
			r.Header.Add("X-Forwarded-For", "192.0.2."+strconv.Itoa(i%256))
		}
		return r
	}
	few, many := lines(100), lines(10000)
	h.ServeHTTP(w, many)
	rec := buf.find(t, "http request")
	hs, _ := rec["headers"].(map[string]any)
	var red, xff []string
	for i, v := range many.Header["Referer"] {
		red = append(red, m.RedactURL(v))
		xff = append(xff, many.Header["X-Forwarded-For"][i])
	}
	if want := strings.Join(red, ", ")[:256]; hs["Referer"] != want {
		t.Errorf("Referer logged as %q, want %q", hs["Referer"], want)
	}
	if want := strings.Join(xff, ", ")[:256]; hs["X-Forwarded-For"] != want {
		t.Errorf("X-Forwarded-For logged as %q, want %q", hs["X-Forwarded-For"], want)
	}
	m = errorsafe.MustNew(errorsafe.Options{
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		LogHeaders: []string{"Referer", "X-Forwarded-For"},
	})
	h = m.Handler(ok)
	a := testing.AllocsPerRun(20, func() { clear(w.h); h.ServeHTTP(w, few) })
	b := testing.AllocsPerRun(20, func() { clear(w.h); h.ServeHTTP(w, many) })
	if b > a {
		t.Errorf("10 000 header lines cost %v allocations, 100 lines %v", b, a)
	}
}
