package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/examples/secureapi/app"
)

// FuzzServer sends arbitrary requests through the whole stack and checks
// what must hold for every one of them: no 5xx (nothing here can fail
// without a panic), the security headers and a request ID on every
// response, and errors as problem documents (or RFC 6749 JSON on the
// OAuth2 endpoints).
func FuzzServer(f *testing.F) {
	logs := new(logBuffer)
	cfg := newConfig(f, logs)
	cfg.DemoPanic = false
	cfg.CORSOrigins = []string{"https://app.example.com"}
	h, err := app.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ method, target, hname, hvalue, body string }{
		{"GET", "/", "", "", ""},
		{"GET", "/healthz", "X-Forwarded-For", "203.0.113.7", ""},
		{"POST", "/login", "Content-Type", "application/x-www-form-urlencoded", "username=bob&password=x&csrf_token=abc"},
		{"POST", "/logout", "Origin", "null", ""},
		{"GET", "/data", "Cookie", "session=AAAA", ""},
		{"GET", "/secure-data/", "Authorization", "Basic Ym9iOnBhc3N3b3Jk", ""},
		{"POST", "/token", "Content-Type", "application/x-www-form-urlencoded", "grant_type=password&client_id=secureapi-cli&username=bob&password=x"},
		{"POST", "/token/revoke", "Content-Type", "application/x-www-form-urlencoded", "client_id=secureapi-cli&token=a.b.c"},
		{"GET", "/users/me/", "Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.", ""},
		{"GET", "/users/%2e%2e/admin", "", "", ""},
		{"DELETE", "/users/alice", "Authorization", "bearer x", ""},
		{"GET", "/items/0x10", "", "", ""},
		{"POST", "/comment/", "Content-Type", "application/json", `{"body":"<img src=x onerror=alert(1)>"}`},
		{"POST", "/api/data", "Content-Type", "application/json", `{"a":1}`},
		{"OPTIONS", "/users/bob", "Access-Control-Request-Method", "DELETE", ""},
		{"TRACE", "//x/../../etc/passwd", "X-HTTP-Method-Override", "DELETE", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.hname, s.hvalue, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, hname, hvalue, body string) {
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, strings.NewReader(body))
		if err != nil || req.URL.Host != "127.0.0.1" {
			return // not a request a server can receive
		}
		if hname != "" {
			req.Header.Set(hname, hvalue)
		}
		if method == "OPTIONS" {
			req.Header.Set("Origin", "https://app.example.com")
		}
		req.RemoteAddr = "192.0.2.1:1234"
		req.RequestURI = req.URL.RequestURI()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		what := method + " " + target
		if w.Code >= 500 {
			t.Fatalf("%s: %d %s", what, w.Code, w.Body)
		}
		for _, k := range []string{"X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options", "X-Request-Id"} {
			if w.Header().Get(k) == "" {
				t.Errorf("%s: %d without %s", what, w.Code, k)
			}
		}
		if ct := w.Header().Get("Content-Type"); w.Code >= 400 && ct != "application/problem+json" && !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: %d with Content-Type %q", what, w.Code, ct)
		}
	})
}
