package httpguard_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
)

// The README's stack as a gateway: an httputil.ReverseProxy to a legacy
// backend that sets its own security headers, grants CORS to any origin
// with credentials, sets a cookie of the session cookie's name and answers
// /boom with a stack trace. With the ModifyResponse of headers, cors and
// session the client gets the gateway's value of each header alone, no
// grant the gateway refuses, and its own session cookie; errorsafe
// replaces the backend's 500 body. The backend never sees the session
// cookie. A backend's 103 Early Hints makes the proxy clear the header map
// (golang/go#81207); with headers.KeepAcross1xx around the proxy the final
// response still carries the gateway's headers and request ID.
func TestREADMEStackInFrontOfReverseProxy(t *testing.T) {
	t.Parallel()
	var (
		mu             sync.Mutex
		backendCookies []string
	)
	target := testenv.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		backendCookies = append(backendCookies, r.Header.Values("Cookie")...)
		mu.Unlock()
		h := w.Header()
		if r.URL.Path == "/legacy/hints" {
			h.Set("Link", "</app.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			h.Del("Link")
		}
		if r.URL.Path == "/legacy/boom" {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "panic: at /srv/legacy/db.go:42")
			return
		}
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Referrer-Policy", "unsafe-url")
		h.Set("Cross-Origin-Opener-Policy", "unsafe-none")
		h.Set("Permissions-Policy", "camera=*")
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Set-Cookie", "theme=dark; Path=/")
		h.Add("Set-Cookie", "__Host-session=legacy; Path=/; Secure")
		_, _ = io.WriteString(w, "legacy")
	})

	// The same options as the stack's middlewares, whose ModifyResponse
	// depends on nothing else.
	sec, err := headers.New(headers.HTML())
	if err != nil {
		t.Fatal(err)
	}
	c, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Del("Cookie")
			for _, ck := range pr.In.Cookies() {
				if ck.Name != sessions.CookieName() {
					pr.Out.AddCookie(ck)
				}
			}
		},
		ModifyResponse: func(res *http.Response) error {
			_ = sec.ModifyResponse(res)
			_ = c.ModifyResponse(res)
			return sessions.ModifyResponse(res)
		},
	}
	srv := httptest.NewTLSServer(readmeStackWith(t, true, slog.New(slog.DiscardHandler), func(mux *http.ServeMux) {
		mux.Handle("/legacy/", headers.KeepAcross1xx(proxy))
	}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = noRedirects
	login, _, body := loginAndRead(t, client, srv.URL)
	if body != "alice" {
		t.Fatalf("login: /data %q; want alice", body)
	}
	session := login.Cookies()

	get := func(path, origin string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Cookie", "theme=light")
		for _, ck := range session {
			req.AddCookie(ck)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	for _, path := range []string{"/legacy/page", "/legacy/hints"} {
		res, body := get(path, "https://evil.example")
		for k, want := range map[string][]string{
			"X-Frame-Options":                  {"DENY"},
			"Referrer-Policy":                  {"strict-origin-when-cross-origin"},
			"Cross-Origin-Opener-Policy":       {"same-origin"},
			"Permissions-Policy":               {headers.DefaultPermissionsPolicy},
			"Access-Control-Allow-Origin":      nil,
			"Access-Control-Allow-Credentials": nil,
			"Set-Cookie":                       {"theme=dark; Path=/"},
		} {
			if got := res.Header.Values(k); !slices.Equal(got, want) {
				t.Errorf("%s %s: %q; want %q", path, k, got, want)
			}
		}
		if v := res.Header.Values("X-Request-Id"); len(v) != 1 || v[0] == "" {
			t.Errorf("%s X-Request-Id: %q; want one", path, v)
		}
		if res.StatusCode != http.StatusOK || body != "legacy" {
			t.Errorf("%s: %d %q; want 200 legacy", path, res.StatusCode, body)
		}
	}
	res, body := get("/legacy/boom", "https://app.example.com")
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(body, "srv/legacy") {
		t.Errorf("/legacy/boom: %d %q; want 500 without the backend's body", res.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ck := range backendCookies {
		if strings.Contains(ck, sessions.CookieName()) {
			t.Errorf("the backend got the session cookie: %q", ck)
		}
	}
	if len(backendCookies) == 0 {
		t.Error("the backend got no Cookie header; want theme=light")
	}
}
