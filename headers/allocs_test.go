package headers_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/httpguard/httpguard/headers"
)

// reusedWriter is a ResponseWriter whose header map is cleared, not
// replaced, between requests, so a measurement counts the middleware's
// allocations and not the map's growth.
type reusedWriter struct {
	h    http.Header
	code int
}

func (w *reusedWriter) Header() http.Header         { return w.h }
func (w *reusedWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *reusedWriter) WriteHeader(code int)        { w.code = code }

func (w *reusedWriter) reset() {
	clear(w.h)
	w.code = 0
}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func allocs(t *testing.T, h http.Handler, r *http.Request) float64 {
	t.Helper()
	w := &reusedWriter{h: make(http.Header, 32)}
	h.ServeHTTP(w, r) // warm up the map
	return testing.AllocsPerRun(200, func() {
		w.reset()
		h.ServeHTTP(w, r)
	})
}

func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	api := mustNew(t, headers.Options{AllowedHosts: []string{"example.com", "*.example.org"}})
	html := mustNew(t, headers.HTML())
	allowed := tlsRequest("GET", "https://example.com/")
	rejected := tlsRequest("GET", "https://evil.example/")

	tests := []struct {
		name string
		h    http.Handler
		r    *http.Request
		max  float64
	}{
		{"every header over HTTPS without a nonce costs no allocation", api.Handler(noop), allowed, 0},
		{"the HTML preset with a nonce stays small", html.Handler(noop), allowed, 4},
		{"a rejected host costs no allocation either: the problem response uses the same slots", api.Handler(noop), rejected, 0},
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
	t.Run("ModifyResponse allocates nothing", func(t *testing.T) {
		res := &http.Response{Header: make(http.Header, 16)}
		backend := backendHeaders()
		if n := testing.AllocsPerRun(100, func() {
			maps.Copy(res.Header, backend)
			_ = html.ModifyResponse(res)
		}); n != 0 {
			t.Errorf("ModifyResponse allocates %v", n)
		}
	})
	t.Run("Check allocates nothing", func(t *testing.T) {
		// An IPv6 Host in canonical form too (found in audit: it cost two
		// allocations, which Check's comment did not allow).
		v6 := mustNew(t, headers.Options{AllowedHosts: []string{"[::1]", "example.com"}})
		v6Host := tlsRequest("GET", "https://[::1]:8443/")
		if n := testing.AllocsPerRun(100, func() { _ = v6.Check(v6Host) }); n != 0 || v6.Check(v6Host) != nil {
			t.Errorf("Check(%s) allocates %v (error %v)", v6Host.Host, n, v6.Check(v6Host))
		}
		for _, r := range []*http.Request{allowed, rejected} {
			if n := testing.AllocsPerRun(100, func() { _ = api.Check(r) }); n != 0 {
				t.Errorf("Check(%s) allocates %v", r.Host, n)
			}
		}
	})
}
