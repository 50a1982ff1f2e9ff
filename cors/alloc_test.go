package cors_test

import (
	"net/http"
	"testing"

	"github.com/httpguard/httpguard/cors"
)

// discardWriter is a ResponseWriter whose header map is reused, so that
// AllocsPerRun counts the middleware's allocations only.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func allocs(t *testing.T, h http.Handler, r *http.Request) float64 {
	t.Helper()
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, r) // warm up the header map and the chunk pool
	return testing.AllocsPerRun(1000, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
}

// TestAllocations enforces the allocation budget: header values come from
// per-response slots carved out of pooled chunks, so the amortized count is
// zero on the allowed, disallowed and preflight paths, refused preflights
// included: their default problem response is rendered once at start-up.
func TestAllocations(t *testing.T) {
	m := cors.MustNew(base)
	h := m.Handler(noop)
	star := cors.MustNew(cors.Options{AllowedOrigins: []string{"*"}}).Handler(noop)
	tests := []struct {
		name string
		h    http.Handler
		r    *http.Request
		max  float64
	}{
		{"an allowed actual request", h, newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}}), 0},
		{"an allowed actual request from a pattern", h, newRequest("GET", "/", [][2]string{{"Origin", "https://a.example.com"}}), 0},
		// The public suffix lookup under a pattern allocates its error
		// (found in audit: the doc said matching never allocates).
		{"an allowed actual request two labels under a pattern", h, newRequest("GET", "/", [][2]string{{"Origin", "https://a.b.example.com"}}), 1},
		{"a disallowed actual request", h, newRequest("GET", "/", [][2]string{{"Origin", "https://attacker.test"}}), 0},
		{"a request without Origin", h, newRequest("GET", "/", nil), 0},
		{"an actual request with *", star, newRequest("GET", "/", [][2]string{{"Origin", "https://a.test"}}), 0},
		{"an allowed preflight", h, newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh("content-type,x-request-id"))), 0},
		{"an allowed preflight with mixed-case names", h, newRequest("OPTIONS", "/", preflight("https://app.example.com", "put", acrh("Content-Type"))), 0},
		{"a preflight with a megabyte of commas", h, newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh(megabyteOfCommas))), 0},
		{"a preflight from a disallowed origin", h, newRequest("OPTIONS", "/", preflight("https://attacker.test", "PUT")), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := allocs(t, tt.h, tt.r)
			t.Logf("%v allocations per request", got)
			if got > tt.max {
				t.Errorf("%v allocations per request, want at most %v", got, tt.max)
			}
		})
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	m := cors.MustNew(base)
	for _, r := range []*http.Request{
		newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}}),
		newRequest("GET", "/", [][2]string{{"Origin", "https://attacker.test"}}),
		newRequest("OPTIONS", "/", preflight("https://a.example.com", "PUT", acrh("content-type"))),
		newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh(megabyteOfCommas))),
		newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh(megabyteName))),
	} {
		if n := testing.AllocsPerRun(100, func() { _ = m.Check(r) }); n != 0 {
			t.Errorf("Check allocates %v times", n)
		}
	}
}

// A Vary set further out that lists none of the names (a compression
// layer's Accept-Encoding) costs no allocation either (found in review:
// the check for names listed already allocated the list of the others,
// though it was the whole list, on every preflight behind such a layer).
func TestAllocationsUnderAnOuterVary(t *testing.T) {
	h := cors.MustNew(base).Handler(noop)
	outer := []string{"Accept-Encoding"}
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Vary"] = outer
		h.ServeHTTP(w, r)
	})
	for _, r := range []*http.Request{
		newRequest("GET", "/", [][2]string{{"Origin", "https://app.example.com"}}),
		newRequest("OPTIONS", "/", preflight("https://app.example.com", "PUT", acrh("content-type"))),
		newRequest("OPTIONS", "/", preflight("https://attacker.test", "PUT")),
	} {
		if got := allocs(t, wrapped, r); got != 0 {
			t.Errorf("%s: %v allocations per request, want 0", r.Method, got)
		}
	}
}
