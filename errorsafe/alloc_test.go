package errorsafe_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger()})
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
	withID.Header.Set("X-Request-Id", "gateway-assigned-1")
	hostile := httptest.NewRequest("GET", "/x", nil)
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
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger()})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	w := &nopWriter{h: make(http.Header, 8)}
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/", nil),
		func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
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
