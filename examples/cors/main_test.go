package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/testenv"
)

func newTestHandler(t *testing.T) (http.Handler, *testenv.LogBuffer) {
	t.Helper()
	logs := new(testenv.LogBuffer)
	h, err := newHandler(slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

// corsHeaders returns the Access-Control-* response headers.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

// varyHas reports whether the Vary header lists name.
func varyHas(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return true
			}
		}
	}
	return false
}

const itemsJSON = `["apple","pear"]` + "\n"

// The curl commands of the package comment, and the look-alike origins
// the subdomain pattern must not match. Every response varies on Origin,
// whatever the outcome, so a shared cache never serves one origin's
// response to another.
func TestCORS(t *testing.T) {
	const url = "http://127.0.0.1:8080/api/items"
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		status  int
		// cors lists the exact Access-Control-* headers expected; nil
		// means none at all.
		cors http.Header
		body string // exact body; "" means empty
	}{
		{
			name:   "preflight from the allowed development origin",
			method: http.MethodOptions,
			headers: map[string]string{
				"Origin":                         "http://localhost:3000",
				"Access-Control-Request-Method":  "PUT",
				"Access-Control-Request-Headers": "content-type",
			},
			status: http.StatusNoContent,
			cors: http.Header{
				"Access-Control-Allow-Origin":      {"http://localhost:3000"},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Allow-Methods":     {"PUT"},
				"Access-Control-Allow-Headers":     {"content-type, x-request-id"},
				"Access-Control-Max-Age":           {"600"},
			},
		},
		{
			name:    "actual request from a subdomain",
			method:  http.MethodGet,
			headers: map[string]string{"Origin": "https://admin.example.com"},
			status:  http.StatusOK,
			cors: http.Header{
				"Access-Control-Allow-Origin":      {"https://admin.example.com"},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers":    {"x-total-count"},
			},
			body: itemsJSON,
		},
		{
			name:    "actual request from the exact origin",
			method:  http.MethodGet,
			headers: map[string]string{"Origin": "https://app.example.com"},
			status:  http.StatusOK,
			cors: http.Header{
				"Access-Control-Allow-Origin":      {"https://app.example.com"},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers":    {"x-total-count"},
			},
			body: itemsJSON,
		},
		{
			name:    "look-alike origin: the handler runs, no CORS header",
			method:  http.MethodGet,
			headers: map[string]string{"Origin": "https://evilexample.com"},
			status:  http.StatusOK,
			body:    itemsJSON,
		},
		{
			name:    "look-alike origin with example.com as a prefix",
			method:  http.MethodGet,
			headers: map[string]string{"Origin": "https://example.com.evil.net"},
			status:  http.StatusOK,
			body:    itemsJSON,
		},
		{
			name:    "the domain itself is not a subdomain",
			method:  http.MethodGet,
			headers: map[string]string{"Origin": "https://example.com"},
			status:  http.StatusOK,
			body:    itemsJSON,
		},
		{
			name:    "a subdomain over plain http",
			method:  http.MethodGet,
			headers: map[string]string{"Origin": "http://admin.example.com"},
			status:  http.StatusOK,
			body:    itemsJSON,
		},
		{
			name:   "no Origin",
			method: http.MethodGet,
			status: http.StatusOK,
			body:   itemsJSON,
		},
		{
			name:   "preflight from a look-alike origin",
			method: http.MethodOptions,
			headers: map[string]string{
				"Origin":                        "https://evilexample.com",
				"Access-Control-Request-Method": "PUT",
			},
			status: http.StatusForbidden,
		},
		{
			name:   "preflight for a method that is not allowed",
			method: http.MethodOptions,
			headers: map[string]string{
				"Origin":                        "http://localhost:3000",
				"Access-Control-Request-Method": "PATCH",
			},
			status: http.StatusForbidden,
		},
		{
			name:   "preflight for a header that is not allowed",
			method: http.MethodOptions,
			headers: map[string]string{
				"Origin":                         "http://localhost:3000",
				"Access-Control-Request-Method":  "PUT",
				"Access-Control-Request-Headers": "x-secret",
			},
			status: http.StatusForbidden,
		},
		{
			name:    "actual PUT from an allowed origin",
			method:  http.MethodPut,
			headers: map[string]string{"Origin": "http://localhost:3000"},
			status:  http.StatusNoContent,
			cors: http.Header{
				"Access-Control-Allow-Origin":      {"http://localhost:3000"},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers":    {"x-total-count"},
			},
		},
	}
	h, _ := newTestHandler(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, url, nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			res := w.Result()

			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			got := corsHeaders(res.Header)
			want := tt.cors
			if want == nil {
				want = http.Header{}
			}
			if len(got) != len(want) {
				t.Errorf("CORS headers %v, want %v", got, want)
			} else {
				for k, v := range want {
					if g := got.Values(k); len(g) != 1 || g[0] != v[0] {
						t.Errorf("%s: %q, want %q", k, g, v[0])
					}
				}
			}
			if !varyHas(res.Header, "Origin") {
				t.Errorf("Vary %q, want Origin listed", res.Header.Values("Vary"))
			}
			if tt.method == http.MethodOptions {
				for _, name := range []string{"Access-Control-Request-Method", "Access-Control-Request-Headers"} {
					if !varyHas(res.Header, name) {
						t.Errorf("Vary %q, want %s listed", res.Header.Values("Vary"), name)
					}
				}
			}
			if tt.status == http.StatusForbidden {
				// The generic problem; the reason is for the log only.
				var p map[string]any
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want application/problem+json", ct)
				}
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatalf("403 body %q: %v", w.Body.String(), err)
				}
				if p["status"] != float64(403) || p["request_id"] != res.Header.Get("X-Request-Id") || p["request_id"] == "" {
					t.Errorf("403 problem %v, want status 403 and the request ID %q", p, res.Header.Get("X-Request-Id"))
				}
				if strings.Contains(w.Body.String(), "cors") || strings.Contains(w.Body.String(), "allowed") {
					t.Errorf("403 body %q reveals the reason", w.Body.String())
				}
			} else if w.Body.String() != tt.body {
				t.Errorf("body %q, want %q", w.Body.String(), tt.body)
			}
			if tt.body == itemsJSON && res.Header.Get("X-Total-Count") != "2" {
				t.Errorf("X-Total-Count %q, want 2", res.Header.Get("X-Total-Count"))
			}
		})
	}
}

// A failed preflight's reason reaches the access log with the request ID
// the client got, and not the client.
func TestRejectedPreflightReasonLogged(t *testing.T) {
	h, logs := newTestHandler(t)
	req := httptest.NewRequest(http.MethodOptions, "http://127.0.0.1:8080/api/items", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "x-secret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", w.Code)
	}
	id := w.Header().Get("X-Request-Id")
	const reason = "cors: request headers not allowed"
	if strings.Contains(w.Body.String(), reason) {
		t.Errorf("body %q carries the reason", w.Body.String())
	}
	found := false
	for _, rec := range logs.Records(t) {
		if rec["msg"] == "http request" {
			found = true
			if rec["request_id"] != id || rec["status"] != float64(403) || rec["reason"] != reason {
				t.Errorf("access record %v, want request_id %q, status 403, reason %q", rec, id, reason)
			}
		}
	}
	if !found {
		t.Errorf("no access record in %q", logs.String())
	}
}

// "OPTIONS *" goes through the stack like every other request: logged by
// errorsafe with a request ID, with Vary. net/http answers it itself,
// past every middleware, unless the server is told not to.
func TestOptionsAsteriskGoesThroughTheStack(t *testing.T) {
	h, _ := newTestHandler(t)
	srv, err := https.NewServer(https.ServerOptions{Addr: "127.0.0.1:0", Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	resp := testenv.RawRequest(t, testenv.Serve(t, srv), "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: https://app.example.com\r\n\r\n")
	if resp.Header.Get("X-Request-Id") == "" || !varyHas(resp.Header, "Origin") {
		t.Errorf("OPTIONS *: %d with headers %v; want a request ID and Vary: Origin", resp.StatusCode, resp.Header)
	}
}
