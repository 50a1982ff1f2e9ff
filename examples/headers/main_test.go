package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/testenv"
)

// defaultHosts is the -allowed-hosts default, as main splits it.
var defaultHosts = strings.Split(defaultAllowedHosts, ",")

func newTestHandler(t *testing.T, hosts []string, rv *clientip.Resolver) (http.Handler, *testenv.LogBuffer) {
	t.Helper()
	logs := new(testenv.LogBuffer)
	h, err := newHandler(hosts, rv, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

func get(h http.Handler, target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

var nonceRE = regexp.MustCompile(`'nonce-([A-Za-z0-9_-]+)'`)

// The curl commands of the package comment, over plain HTTP and with the
// default allowed hosts. None of them gets Strict-Transport-Security: the
// requests are plain HTTP and no proxy is trusted (RFC 6797).
func TestRoutes(t *testing.T) {
	tests := []struct {
		name   string
		target string
		host   string // Host header; "" keeps the target's
		status int
		ctype  string
		// headers holds exact values; cspHas, parts the CSP must contain.
		headers map[string]string
		cspHas  []string
		body    string // a substring of the body
	}{
		{
			name:   "HTML preset",
			target: "http://127.0.0.1:8080/",
			status: http.StatusOK,
			ctype:  "text/html; charset=utf-8",
			headers: map[string]string{
				"Cache-Control":          "no-store",
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "strict-origin-when-cross-origin",
				"Reporting-Endpoints":    `csp-endpoint="/csp-report"`,
			},
			cspHas: []string{"default-src 'none'", "'strict-dynamic'", "frame-ancestors 'none'", "report-uri /csp-report", "report-to csp-endpoint"},
			body:   "<h1>Security headers</h1>",
		},
		{
			name:   "API preset",
			target: "http://127.0.0.1:8080/api/time",
			status: http.StatusOK,
			ctype:  "application/json",
			headers: map[string]string{
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
				"Cache-Control":           "no-store",
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			},
			body: `{"time":"`,
		},
		{
			name:   "framed by its own origin",
			target: "http://127.0.0.1:8080/embed",
			status: http.StatusOK,
			ctype:  "text/plain; charset=utf-8",
			headers: map[string]string{
				"X-Frame-Options":        "SAMEORIGIN",
				"X-Content-Type-Options": "nosniff",
			},
			cspHas: []string{"frame-ancestors 'self'"},
			body:   "Pages of this origin may frame this one",
		},
		{
			name:   "Host not allowed",
			target: "http://127.0.0.1:8080/",
			host:   "evil.example",
			status: http.StatusBadRequest,
			ctype:  "application/problem+json",
			headers: map[string]string{
				"X-Frame-Options": "DENY",
			},
			body: `"status":400`,
		},
		{
			name:   "Host not allowed on the API",
			target: "http://127.0.0.1:8080/api/time",
			host:   "evil.example:8080",
			status: http.StatusBadRequest,
			ctype:  "application/problem+json",
			body:   `"status":400`,
		},
		{
			name:   "localhost on any port",
			target: "http://localhost:9000/api/time",
			status: http.StatusOK,
			ctype:  "application/json",
		},
		{
			name:   "IPv6 loopback",
			target: "http://[::1]:8080/api/time",
			status: http.StatusOK,
			ctype:  "application/json",
		},
	}
	h, _ := newTestHandler(t, defaultHosts, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d (body %q)", w.Code, tt.status, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); ct != tt.ctype {
				t.Errorf("Content-Type %q, want %q", ct, tt.ctype)
			}
			for k, v := range tt.headers {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			csp := w.Header().Get("Content-Security-Policy")
			for _, part := range tt.cspHas {
				if !strings.Contains(csp, part) {
					t.Errorf("CSP %q lacks %q", csp, part)
				}
			}
			if hsts := w.Header().Get("Strict-Transport-Security"); hsts != "" {
				t.Errorf("Strict-Transport-Security %q over plain HTTP", hsts)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body %q lacks %q", w.Body.String(), tt.body)
			}
			if tt.status == http.StatusBadRequest && strings.Contains(w.Body.String(), "Security headers") {
				t.Errorf("the page was served to a Host not allowed")
			}
		})
	}
}

// The page's nonce is fresh per response, and the one in the CSP is the
// one the page's style and script carry; the injected script has none.
func TestPageNonce(t *testing.T) {
	h, _ := newTestHandler(t, defaultHosts, nil)
	seen := map[string]bool{}
	for range 3 {
		w := get(h, "http://127.0.0.1:8080/", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		csp := w.Header().Get("Content-Security-Policy")
		m := nonceRE.FindAllStringSubmatch(csp, -1)
		if len(m) != 2 || m[0][1] != m[1][1] {
			t.Fatalf("CSP %q: want one nonce in script-src and style-src", csp)
		}
		nonce := m[0][1]
		if len(nonce) < 16 {
			t.Errorf("nonce %q is short", nonce)
		}
		if !strings.Contains(csp, "script-src 'nonce-"+nonce+"'") || !strings.Contains(csp, "style-src 'self' 'nonce-"+nonce+"'") {
			t.Errorf("CSP %q: the nonce is not in script-src and style-src", csp)
		}
		if seen[nonce] {
			t.Errorf("nonce %q repeated across responses", nonce)
		}
		seen[nonce] = true

		body := w.Body.String()
		attr := `nonce="` + nonce + `"`
		if !strings.Contains(body, "<style "+attr+">") || !strings.Contains(body, "<script "+attr+">") {
			t.Errorf("page does not carry the CSP's nonce %q on its style and script:\n%s", nonce, body)
		}
		if !strings.Contains(body, "<code>"+nonce+"</code>") {
			t.Errorf("page does not show its nonce %q", nonce)
		}
		if !strings.Contains(body, "<script>alert(") {
			t.Errorf("page lacks the script without a nonce")
		}
	}
}

// A CSP violation report is answered 204 with the API headers and logged.
func TestCSPReport(t *testing.T) {
	h, logs := newTestHandler(t, defaultHosts, nil)
	body := `{"csp-report":{"effective-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js"}}`
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/csp-report", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/csp-report")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Errorf("report: %d %q, want 204 and no body", w.Code, w.Body.String())
	}
	if csp := w.Header().Get("Content-Security-Policy"); csp != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("report response CSP %q, want the API preset's", csp)
	}
	var rec map[string]any
	for _, r := range logs.Records(t) {
		if r["msg"] == "csp violation" {
			rec = r
		}
	}
	if rec["msg"] != "csp violation" || rec["blocked_url"] != "https://evil.example/x.js" || rec["effective_directive"] != "script-src-elem" {
		t.Errorf("log %s, want the violation", logs.String())
	}
}

// Anyone can post reports, each one logged: one address gets 30 a
// minute, then 429, which is not logged as a violation but as a refusal
// in the access log, with its reason and without the client's cookie;
// another address still gets its own.
func TestCSPReportLimit(t *testing.T) {
	h, logs := newTestHandler(t, defaultHosts, nil)
	post := func(from string) int {
		body := `{"csp-report":{"effective-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js"}}`
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/csp-report", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/csp-report")
		req.Header.Set("Cookie", "session=S3CRET-c00kie")
		req.RemoteAddr = from
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for i := range 30 {
		if code := post("192.0.2.1:1234"); code != http.StatusNoContent {
			t.Fatalf("report %d: %d, want 204", i+1, code)
		}
	}
	logged := strings.Count(logs.String(), "csp violation")
	if code := post("192.0.2.1:1234"); code != http.StatusTooManyRequests {
		t.Errorf("report 31 from one address: %d, want 429", code)
	}
	if n := strings.Count(logs.String(), "csp violation"); n != logged {
		t.Errorf("the refused report was logged as a violation")
	}
	recs := logs.Records(t)
	if rec := recs[len(recs)-1]; rec["msg"] != "http request" || rec["status"] != float64(429) || !strings.HasPrefix(fmt.Sprint(rec["reason"]), "ratelimit: ") {
		t.Errorf("last record %v, want the 429's access record with the rate limit's reason", rec)
	}
	if strings.Contains(logs.String(), "S3CRET") {
		t.Errorf("the log holds the cookie: %s", logs.String())
	}
	if code := post("192.0.2.2:1234"); code != http.StatusNoContent {
		t.Errorf("first report from another address: %d, want 204", code)
	}
}

// X-Forwarded-Proto is believed from a trusted proxy only: HSTS is sent
// on its requests, not on a client's that claims https itself.
func TestHSTSBehindTrustedProxy(t *testing.T) {
	xfp := map[string]string{"X-Forwarded-Proto": "https"}

	plain, _ := newTestHandler(t, defaultHosts, nil)
	if hsts := get(plain, "http://127.0.0.1:8080/api/time", xfp).Header().Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("no trusted proxy, client's X-Forwarded-Proto: Strict-Transport-Security %q", hsts)
	}

	rv, err := clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newTestHandler(t, defaultHosts, rv)
	for _, target := range []string{"http://127.0.0.1:8080/api/time", "http://127.0.0.1:8080/"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = "127.0.0.1:40000" // the proxy
		req.Header.Set("X-Forwarded-Proto", "https")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if hsts := w.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") || strings.HasPrefix(hsts, "max-age=0") {
			t.Errorf("%s from the trusted proxy: Strict-Transport-Security %q, want it sent", target, hsts)
		}

		req = httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = "192.0.2.1:40000" // a client, not the proxy
		req.Header.Set("X-Forwarded-Proto", "https")
		w = httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if hsts := w.Header().Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s from a client claiming https: Strict-Transport-Security %q", target, hsts)
		}
	}
}

// -allowed-hosts localhost:8080,app.test: a host with a port is served on
// that port only, one without on any port. Each refused Host is in the
// access log with its reason.
func TestAllowedHostsFlag(t *testing.T) {
	h, logs := newTestHandler(t, strings.Split("localhost:8080,app.test", ","), nil)
	for host, want := range map[string]int{
		"localhost:8080": http.StatusOK,
		"localhost:9000": http.StatusBadRequest,
		"app.test":       http.StatusOK,
		"app.test:9000":  http.StatusOK,
		"127.0.0.1:8080": http.StatusBadRequest,
		"evil.example":   http.StatusBadRequest,
	} {
		req := httptest.NewRequest(http.MethodGet, "http://"+host+"/api/time", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
		recs := logs.Records(t)
		if len(recs) == 0 {
			t.Fatalf("Host %s: no log record", host)
		}
		rec := recs[len(recs)-1]
		if reason, _ := rec["reason"].(string); rec["msg"] != "http request" || rec["status"] != float64(want) || (want == http.StatusBadRequest) != (reason != "") {
			t.Errorf("Host %s: last record %v, want an access record with status %d and a reason for a refusal only", host, rec, want)
		}
	}
}

// The API's time is the current time in RFC 3339, UTC.
func TestAPITime(t *testing.T) {
	h, _ := newTestHandler(t, defaultHosts, nil)
	w := get(h, "http://127.0.0.1:8080/api/time", nil)
	var v struct{ Time string }
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	ts, err := time.Parse(time.RFC3339, v.Time)
	if err != nil || !strings.HasSuffix(v.Time, "Z") || time.Since(ts).Abs() > time.Minute {
		t.Errorf("time %q (%v), want now in UTC", v.Time, err)
	}
}

// The URL logged at start is served with the default -allowed-hosts, on
// every address too (-addr :8080 listens on [::] or 0.0.0.0, a Host the
// site refuses with 400).
func TestListenURLServed(t *testing.T) {
	h, _ := newTestHandler(t, defaultHosts, nil)
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		{IP: net.IPv6loopback, Port: 8080},
		{IP: net.IPv4zero, Port: 8080},
		{IP: net.IPv6unspecified, Port: 8080},
	} {
		u := listenURL(a)
		if w := get(h, u, nil); w.Code != http.StatusOK {
			t.Errorf("listening on %s: logged %s, which gets %d", a, u, w.Code)
		}
	}
}
