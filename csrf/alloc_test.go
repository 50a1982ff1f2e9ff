package csrf_test

import (
	"net/http"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// TestAllocations enforces the allocation budget of the default
// protection: nothing on the safe-method path, on any accepted request, or
// on a rejection, whose problem response takes per-response header slots.
func TestAllocations(t *testing.T) {
	h := csrf.MustNew(trustedOpts).Handler(noop)
	tests := []struct {
		name string
		r    *http.Request
		max  float64
	}{
		{"a safe method", req{method: "GET", headers: [][2]string{sfs("cross-site")}}.build(), 0},
		{"a same-origin POST", req{headers: [][2]string{sfs("same-origin"), origin("https://example.com")}}.build(), 0},
		{"a POST from a trusted pattern", req{headers: [][2]string{sfs("cross-site"), origin("https://a.partner.test")}}.build(), 0},
		{"an old browser's same-origin POST", req{headers: [][2]string{origin("https://example.com")}}.build(), 0},
		{"a POST without either header", req{}.build(), 0},
		{"a cross-site POST", req{headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}.build(), 0},
		{"an old browser's cross-origin POST", req{headers: [][2]string{origin("https://evil.test")}}.build(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &discardWriter{h: make(http.Header)}
			got := testing.AllocsPerRun(1000, func() {
				clear(w.h)
				h.ServeHTTP(w, tt.r)
			})
			t.Logf("%v allocations per request", got)
			if got > tt.max {
				t.Errorf("%v allocations per request, want at most %v", got, tt.max)
			}
		})
	}
}
