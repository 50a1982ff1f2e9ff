package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	filippocsrf "filippo.io/csrf"
	gorillacsrf "github.com/gorilla/csrf"
	"github.com/justinas/nosurf"

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

// nosurfSetup is gorillaSetup for justinas/nosurf.
func nosurfSetup(b *testing.B) (http.Handler, string, string) {
	var token string
	rec := httptest.NewRecorder()
	nosurf.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token = nosurf.Token(r)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/form", nil))
	cookies := rec.Result().Cookies()
	if token == "" || len(cookies) == 0 {
		b.Fatal("nosurf issued no token")
	}
	return nosurf.New(csrfNoop), cookies[0].Name + "=" + cookies[0].Value, token
}

// BenchmarkCSRF compares the protections on identical requests. Every
// request carries a token cookie and an X-CSRF-Token header, which the
// header-based protections ignore; the token-based peers each get the
// pair they issued, the only difference between the requests.
func BenchmarkCSRF(b *testing.B) {
	gorilla, gCookie, gToken := gorillaSetup(b)
	nosurfH, nCookie, nToken := nosurfSetup(b)
	impls := []struct {
		name          string
		h             http.Handler
		cookie, token string
	}{
		{"httpguard", csrf.MustNew(csrf.Options{}).Handler(csrfNoop), gCookie, gToken},
		{"net-http", http.NewCrossOriginProtection().Handler(csrfNoop), gCookie, gToken},
		{"filippo-csrf", filippocsrf.New().Handler(csrfNoop), gCookie, gToken},
		{"gorilla-csrf", gorilla, gCookie, gToken},
		{"nosurf", nosurfH, nCookie, nToken},
	}
	mk := func(cookie, token, method string, kv ...string) *http.Request {
		r := httptest.NewRequest(method, "https://example.com/transfer", nil)
		r.Header.Set("Cookie", cookie)
		r.Header.Set("X-CSRF-Token", token)
		for i := 0; i < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	reqs := []struct {
		name   string
		method string
		kv     []string
	}{
		{"safe", http.MethodGet, []string{"Sec-Fetch-Site", "cross-site"}},
		{"same-origin", http.MethodPost, []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://example.com"}},
		{"origin-only", http.MethodPost, []string{"Origin", "https://example.com"}},
		{"cross-site", http.MethodPost, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test"}},
	}
	for _, rq := range reqs {
		for _, impl := range impls {
			r := mk(impl.cookie, impl.token, rq.method, rq.kv...)
			// Every implementation must reach the same decision, or the
			// comparison measures different work.
			rec := httptest.NewRecorder()
			impl.h.ServeHTTP(rec, r)
			if pass := rec.Code == http.StatusOK; pass != (rq.name != "cross-site") {
				b.Fatalf("%s on %s: status %d", impl.name, rq.name, rec.Code)
			}
			b.Run("req="+rq.name+"/impl="+impl.name, func(b *testing.B) {
				w := &csrfWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					impl.h.ServeHTTP(w, r)
				}
			})
		}
	}
}
