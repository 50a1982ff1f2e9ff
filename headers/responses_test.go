package headers_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/headers"
)

// The middleware sets its headers before the next handler runs, so every
// response the handler ends up writing carries them once, whatever its
// kind: an error, a redirect, a 304 revalidation, a streamed body, a final
// response after 1xx Early Hints, or the 500 a recovery middleware further
// out writes after a panic. A header set further out is replaced, not
// doubled. Each response, a 304 too, gets a nonce of its own, and HSTS
// goes only on HTTPS responses.
func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	modTime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	handlers := map[string]http.Handler{
		"/error":    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }),
		"/missing":  http.NotFoundHandler(),
		"/redirect": http.RedirectHandler("/elsewhere", http.StatusFound),
		"/cached": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", `"v1"`)
			http.ServeContent(w, r, "page.html", modTime, strings.NewReader("<p>page</p>"))
		}),
		"/stream": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "first")
			_ = http.NewResponseController(w).Flush()
			_, _ = io.WriteString(w, "second")
		}),
		"/hints": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Link", "</app.js>; rel=preload; as=script")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "page")
		}),
		"/panic": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("handler bug") }),
	}
	tests := []struct {
		name   string
		path   string
		header [2]string // sent with the request
		status int
	}{
		{"an error", "/error", [2]string{}, 500},
		{"a 404", "/missing", [2]string{}, 404},
		{"a redirect", "/redirect", [2]string{}, 302},
		{"a full response of a cacheable page", "/cached", [2]string{}, 200},
		{"a 304 revalidation", "/cached", [2]string{"If-None-Match", `"v1"`}, 304},
		{"a flushed stream", "/stream", [2]string{}, 200},
		{"a response after Early Hints", "/hints", [2]string{}, 200},
		{"a recovered panic", "/panic", [2]string{}, 500},
	}
	for _, preset := range []struct {
		name string
		opts headers.Options
	}{{"API", headers.API()}, {"HTML", headers.HTML()}} {
		m := mustNew(t, preset.opts)
		mux := http.NewServeMux()
		for p, h := range handlers {
			mux.Handle(p, h)
		}
		// Further out: a recovery middleware, and one that sets a header
		// the middleware also sets.
		outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			defer func() {
				if recover() != nil {
					w.WriteHeader(http.StatusInternalServerError)
				}
			}()
			m.Handler(mux).ServeHTTP(w, r)
		})
		for _, useTLS := range []bool{true, false} {
			var srv *httptest.Server
			if useTLS {
				srv = httptest.NewTLSServer(outer)
			} else {
				srv = httptest.NewServer(outer)
			}
			scheme := map[bool]string{true: "https", false: "http"}[useTLS]
			seen := map[string]bool{}
			for _, tt := range tests {
				t.Run(preset.name+" over "+scheme+": "+tt.name, func(t *testing.T) {
					req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
					if tt.header[0] != "" {
						req.Header.Set(tt.header[0], tt.header[1])
					}
					var hints []textproto.MIMEHeader
					req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
						Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
							hints = append(hints, h)
							return nil
						},
					}))
					client := srv.Client()
					client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
					res, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != tt.status {
						t.Fatalf("status %d, want %d (body %q)", res.StatusCode, tt.status, body)
					}
					if tt.path == "/stream" && !bytes.Equal(body, []byte("firstsecond")) {
						t.Errorf("body %q", body)
					}
					if tt.path == "/hints" && len(hints) != 1 {
						t.Errorf("%d 1xx responses, want the Early Hints", len(hints))
					}
					for _, k := range []string{"X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy",
						"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Content-Security-Policy"} {
						if v := res.Header.Values(k); len(v) != 1 {
							t.Errorf("%s = %q, want one value", k, v)
						}
					}
					if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
						t.Errorf("X-Frame-Options = %q: the value set further out was not replaced", got)
					}
					hsts := res.Header.Values("Strict-Transport-Security")
					if useTLS && len(hsts) != 1 || !useTLS && len(hsts) != 0 {
						t.Errorf("Strict-Transport-Security = %q over %s", hsts, scheme)
					}
					for _, h := range hints {
						if !useTLS && h.Get("Strict-Transport-Security") != "" {
							t.Error("HSTS on a 1xx response over plain HTTP")
						}
					}
					if preset.name == "HTML" {
						csp := res.Header.Get("Content-Security-Policy")
						i := strings.Index(csp, "'nonce-")
						if i < 0 {
							t.Fatalf("CSP %q has no nonce", csp)
						}
						nonce := csp[i : i+len("'nonce-")+22]
						if seen[nonce] {
							t.Errorf("nonce %s repeated on another response", nonce)
						}
						seen[nonce] = true
					}
				})
			}
			srv.Close()
		}
	}
}
