package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	filippocsrf "filippo.io/csrf"
	gorillacsrf "github.com/gorilla/csrf"
	"github.com/httpguard/httpguard/csrf"
)

// csrfWriter is a ResponseWriter whose header map is cleared and reused.
type csrfWriter struct{ h http.Header }

func (w *csrfWriter) Header() http.Header         { return w.h }
func (w *csrfWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *csrfWriter) WriteHeader(int)             {}

var csrfNoop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// gorillaSetup returns gorilla/csrf's middleware and the cookie and token
// a browser would hold after loading a form, so that its requests carry
// what gorilla needs to accept them.
func gorillaSetup(b *testing.B) (http.Handler, string, string) {
	protect := gorillacsrf.Protect(bytes.Repeat([]byte{7}, 32))
	var token string
	rec := httptest.NewRecorder()
	protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token = gorillacsrf.Token(r)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/form", nil))
	cookies := rec.Result().Cookies()
	if token == "" || len(cookies) == 0 {
		b.Fatal("gorilla/csrf issued no token")
	}
	return protect(csrfNoop), cookies[0].Name + "=" + cookies[0].Value, token
}

// BenchmarkCSRF compares the protections on identical requests: every
// request carries gorilla's cookie and token, which the others ignore.
func BenchmarkCSRF(b *testing.B) {
	gorilla, cookie, token := gorillaSetup(b)
	impls := []struct {
		name string
		h    http.Handler
	}{
		{"httpguard", csrf.MustNew(csrf.Options{}).Handler(csrfNoop)},
		{"net-http", http.NewCrossOriginProtection().Handler(csrfNoop)},
		{"filippo-csrf", filippocsrf.New().Handler(csrfNoop)},
		{"gorilla-csrf", gorilla},
	}
	mk := func(method string, kv ...string) *http.Request {
		r := httptest.NewRequest(method, "https://example.com/transfer", nil)
		r.Header.Set("Cookie", cookie)
		r.Header.Set("X-CSRF-Token", token)
		for i := 0; i < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	reqs := []struct {
		name string
		r    *http.Request
	}{
		{"safe", mk(http.MethodGet, "Sec-Fetch-Site", "cross-site")},
		{"same-origin", mk(http.MethodPost, "Sec-Fetch-Site", "same-origin", "Origin", "https://example.com")},
		{"origin-only", mk(http.MethodPost, "Origin", "https://example.com")},
		{"cross-site", mk(http.MethodPost, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test")},
	}
	for _, rq := range reqs {
		for _, impl := range impls {
			b.Run("req="+rq.name+"/impl="+impl.name, func(b *testing.B) {
				w := &csrfWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					impl.h.ServeHTTP(w, rq.r)
				}
			})
		}
	}
}
