package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/testenv"
)

// The form page may not be framed by another site: framed, a user could
// be led to click Send, a same-origin post that the CSRF checks admit
// (clickjacking). Rejections carry the security headers too.
func TestFormCannotBeFramed(t *testing.T) {
	h, err := newHandler(bytes.Repeat([]byte{7}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="csrf_token"`) {
		t.Fatalf("form: %d %q", w.Code, w.Body.String())
	}
	if xfo, csp := w.Header().Get("X-Frame-Options"), w.Header().Get("Content-Security-Policy"); xfo != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("form page: X-Frame-Options %q, CSP %q; want framing refused", xfo, csp)
	}

	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/transfer", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("cross-site post: %d, X-Frame-Options %q; want 403 with the headers", w.Code, w.Header().Get("X-Frame-Options"))
	}
}

// optionsAsterisk sends "OPTIONS *" to the hardened server main builds around h.
func optionsAsterisk(t *testing.T, h http.Handler) *http.Response {
	t.Helper()
	srv, err := https.NewServer(https.ServerOptions{Addr: "127.0.0.1:0", Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	return testenv.RawRequest(t, testenv.Serve(t, srv), "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
}

// "OPTIONS *" goes through the stack like every other request: logged
// by errorsafe with a request ID, answered with the security headers.
// net/http answers it itself, past every middleware, unless the server
// is told not to.
func TestOptionsAsteriskGoesThroughTheStack(t *testing.T) {
	h, err := newHandler(bytes.Repeat([]byte{7}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := optionsAsterisk(t, h)
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("OPTIONS *: %d with headers %v; want a request ID and the security headers", resp.StatusCode, resp.Header)
	}
}

// The curl commands of the package comment, in process.
func TestDocumentedCommands(t *testing.T) {
	h, err := newHandler(bytes.Repeat([]byte{7}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	post := func(target, body string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for _, tc := range []struct {
		name   string
		w      *httptest.ResponseRecorder
		status int
	}{
		{"a cross-site form post", post("/transfer", "", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden},
		{"an old browser posting from another origin", post("/transfer", "", "Origin", "https://evil.example"), http.StatusForbidden},
		{"the same origin", post("/transfer", "", "Origin", "http://127.0.0.1:8080"), http.StatusOK},
		{"neither header and no token", post("/transfer", ""), http.StatusForbidden},
		{"the exempt webhook, cross-site", post("/webhooks/demo", "", "Sec-Fetch-Site", "cross-site"), http.StatusOK},
	} {
		if tc.w.Code != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, tc.w.Code, tc.w.Body.String(), tc.status)
		}
		if tc.status == http.StatusForbidden && !strings.Contains(tc.w.Body.String(), `"request_id"`) {
			t.Errorf("%s: the 403 carries no request ID: %q", tc.name, tc.w.Body.String())
		}
	}

	// Load the form, keep its cookie, post its token.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/", nil))
	m := regexp.MustCompile(`name="csrf_token" value="([^"]*)"`).FindStringSubmatch(w.Body.String())
	cookies := w.Result().Cookies()
	if m == nil || len(cookies) == 0 {
		t.Fatalf("form: no token or no cookie: %q %v", w.Body.String(), cookies)
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value
	if w := post("/transfer", "csrf_token="+url.QueryEscape(m[1])+"&amount=5", "Cookie", cookie); w.Code != http.StatusOK {
		t.Errorf("the form's token with its cookie: %d %q", w.Code, w.Body.String())
	}
	if w := post("/transfer", "csrf_token="+url.QueryEscape(m[1])+"&amount=5"); w.Code != http.StatusForbidden {
		t.Errorf("the form's token without its cookie: %d, want 403", w.Code)
	}
}

// Each request is logged by errorsafe, a rejection with the reason csrf
// recorded, which the client's 403 leaves out; both carry the request ID.
func TestRejectionReasonLogged(t *testing.T) {
	var log bytes.Buffer
	h, err := newHandler(bytes.Repeat([]byte{7}, 32), slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/transfer", nil))
	id := w.Header().Get("X-Request-Id")
	if w.Code != http.StatusForbidden || id == "" || strings.Contains(w.Body.String(), "token missing") {
		t.Fatalf("no token: %d, request ID %q, body %q", w.Code, id, w.Body.String())
	}
	if !strings.Contains(log.String(), `reason="csrf: token missing"`) || !strings.Contains(log.String(), "request_id="+id) {
		t.Errorf("the log lacks the reason or the request ID: %s", log.String())
	}
}

// CSRF_KEY is 64 hex digits or unset; anything else stops the server
// with an error that does not show the value.
func TestLoadKey(t *testing.T) {
	if key, err := loadKey(""); err != nil || len(key) != 32 {
		t.Errorf("unset: %d bytes, %v; want a random 32-byte key", len(key), err)
	}
	good := strings.Repeat("a1", 32)
	if key, err := loadKey(good); err != nil || len(key) != 32 {
		t.Errorf("64 hex digits: %d bytes, %v", len(key), err)
	}
	for _, v := range []string{"secret-but-not-hex", "a1b2c3", good + "ff", good[:63] + "g"} {
		_, err := loadKey(v)
		if err == nil || !strings.Contains(err.Error(), "CSRF_KEY") || strings.Contains(err.Error(), v) {
			t.Errorf("loadKey(%q) = %v; want an error naming CSRF_KEY, not the value", v, err)
		}
	}
}
