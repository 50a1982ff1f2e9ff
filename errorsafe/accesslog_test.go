package errorsafe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

func TestAccessLogRecord(t *testing.T) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	m, logs := newLogged(t, errorsafe.Options{ClientIP: rv, LogHeaders: []string{"Referer", "X-Forwarded-For"}})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("created!"))
	})
	auth := func(next http.Handler) http.Handler { // as an auth middleware does
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := identity.New(identity.Options{Subject: "alice", Method: identity.MethodBearer})
			next.ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), id)))
		})
	}
	h := m.Handler(auth(app))
	req := httptest.NewRequest("POST", "/items?page=2", nil)
	req.RemoteAddr = "10.1.2.3:4567"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("User-Agent", "curl/8.5")
	req.Header.Set("Referer", "https://app.example/cb?code=abc&next=/home")
	h.ServeHTTP(httptest.NewRecorder(), req)

	lr := logs.find(t, "http request")
	if lr == nil {
		t.Fatalf("no access record in %s", logs)
	}
	want := map[string]any{
		"level":      "INFO",
		"method":     "POST",
		"path":       "/items",
		"query":      "page=2",
		"status":     201.0,
		"bytes":      8.0,
		"client_ip":  "203.0.113.9",
		"subject":    "alice",
		"user_agent": "curl/8.5",
	}
	for k, v := range want {
		if lr[k] != v {
			t.Errorf("%s = %v, want %v", k, lr[k], v)
		}
	}
	if _, ok := lr["duration"].(float64); !ok {
		t.Errorf("duration = %v", lr["duration"])
	}
	if id, _ := lr["request_id"].(string); !freshID.MatchString(id) {
		t.Errorf("request_id = %v", lr["request_id"])
	}
	if _, ok := lr["reason"]; ok {
		t.Errorf("a reason on an accepted request: %v", lr["reason"])
	}
	hs, _ := lr["headers"].(map[string]any)
	if hs["Referer"] != "https://app.example/cb?code=[REDACTED]&next=/home" || hs["X-Forwarded-For"] != "203.0.113.9" {
		t.Errorf("headers = %v", lr["headers"])
	}
}

func TestAccessLogLevels(t *testing.T) {
	tests := []struct {
		name   string
		status int
		level  string
	}{
		{"a 200 is logged at info", 200, "INFO"},
		{"a 404 is logged at info", 404, "INFO"},
		{"a 500 is logged at error", 500, "ERROR"},
		{"nothing written is logged as 200", 0, "INFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{})
			m.AccessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
			})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			lr := logs.find(t, "http request")
			want := float64(tt.status)
			if tt.status == 0 {
				want = 200
			}
			if lr["level"] != tt.level || lr["status"] != want {
				t.Errorf("record = %v", lr)
			}
		})
	}
}

// secrets are sent by the client in every place a request can carry one.
var secrets = []string{
	"BEARER-SECRET-1", "BASIC-SECRET-2", "COOKIE-SECRET-3", "APIKEY-SECRET-4",
	"QUERY-PASSWORD-5", "QUERY-TOKEN-6", "QUERY-ACCESS-7", "QUERY-REFRESH-8",
	"QUERY-CLIENT-9", "QUERY-APIKEY-10", "FORM-PASSWORD-11", "FORM-TOKEN-12",
	"CUSTOM-HEADER-13", "CUSTOM-PARAM-14", "REFERER-TOKEN-15", "PROXY-AUTH-16",
	"REFERER-USERINFO-17", "SESSION-HEADER-18", "JWT-LOOKALIKE-19", "ENCODED-KEY-20", "SECOND-REFERER-24",
	"SEMICOLON-21", "FRAGMENT-22", "CSRF-TOKEN-23",
}

// TestSecretsNeverReachTheLog sends secrets in headers, query, form and
// cookies to requests that succeed, are rejected, fail and panic, and
// checks the captured log bytes.
func TestSecretsNeverReachTheLog(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{
		RedactHeaders: []string{"X-Internal"},
		RedactParams:  []string{"ssn-number"},
		LogHeaders:    []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Internal", "Referer", "X-Session-Id", "User-Agent", "X-Csrf-Token"},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/reject", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=COOKIE-SECRET-3")
		problem.Reject(w, r, http.StatusUnauthorized, errors.New("auth: invalid credentials"))
	})
	mux.Handle("/fail", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		r.ParseForm()
		return errors.New("db: timeout")
	}))
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		panic("nil pointer")
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	query := url.Values{
		"password": {"QUERY-PASSWORD-5"}, "token": {"QUERY-TOKEN-6"}, "access_token": {"QUERY-ACCESS-7"},
		"refresh_token": {"QUERY-REFRESH-8"}, "client_secret": {"QUERY-CLIENT-9"}, "api_key": {"QUERY-APIKEY-10"},
		"SSN_Number": {"CUSTOM-PARAM-14"}, "q": {"eyJJWT-LOOKALIKE-19"}, "page": {"3"},
	}.Encode() + "&api%5Fkey=ENCODED-KEY-20;secret=SEMICOLON-21"
	form := url.Values{"password": {"FORM-PASSWORD-11"}, "refresh_token": {"FORM-TOKEN-12"}, "user": {"bob"}}.Encode()

	for _, path := range []string{"/ok", "/reject", "/fail", "/panic"} {
		req, _ := http.NewRequest("POST", srv.URL+path+"?"+query, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer BEARER-SECRET-1")
		req.Header.Add("Authorization", "Basic BASIC-SECRET-2")
		req.Header.Set("Proxy-Authorization", "Basic PROXY-AUTH-16")
		req.Header.Set("Cookie", "session=COOKIE-SECRET-3; theme=dark")
		req.Header.Set("X-API-Key", "APIKEY-SECRET-4")
		req.Header.Set("X-Internal", "CUSTOM-HEADER-13")
		req.Header.Set("X-Session-Id", "SESSION-HEADER-18")
		req.Header.Set("X-CSRF-Token", "CSRF-TOKEN-23")
		// Two lines: joined before redaction, only the first URL's
		// userinfo was found (found in review).
		req.Header.Set("Referer", "https://user:SECOND-REFERER-24@app.example/x")
		req.Header.Add("Referer", "https://user:REFERER-USERINFO-17@app.example/cb?access_token=REFERER-TOKEN-15#id_token=FRAGMENT-22")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitFor(t, logs, 4)

	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log contains %s", s)
		}
	}
	if !strings.Contains(out, "page=3") || !strings.Contains(out, "[REDACTED]") {
		t.Errorf("log lacks the redacted query: %s", out)
	}
}

// waitFor waits until n access records were written.
func waitFor(t *testing.T, logs *logBuf, n int) {
	t.Helper()
	for range 500 {
		if strings.Count(logs.String(), `"msg":"http request"`) >= n {
			return
		}
		waitRecord(t, logs, "http request")
	}
}

func TestSecurityEvents(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		reason  error
		kind    errorsafe.EventKind
		source  string
		noEvent bool
		logged  string // the reason's text in the records, when not reason.Error()
	}{
		{"an auth rejection is authentication_failed", 401, errors.New("auth: token expired"), errorsafe.EventAuthenticationFailed, "auth", false, ""},
		{"a 401 without reason is authentication_failed", 401, nil, errorsafe.EventAuthenticationFailed, "", false, ""},
		{"an rbac 403 is access_denied", 403, errors.New("rbac: missing permission"), errorsafe.EventAccessDenied, "rbac", false, ""},
		{"a csrf 403 is csrf_rejected", 403, errors.New("csrf: cross-origin request"), errorsafe.EventCSRFRejected, "csrf", false, ""},
		{"a session 401 is session_invalid", 401, errors.New("session: expired"), errorsafe.EventSessionInvalid, "session", false, ""},
		{"a 429 is rate_limited", 429, errors.New("ratelimit: limit exceeded"), errorsafe.EventRateLimited, "ratelimit", false, ""},
		{"a cors 400 is request_rejected", 400, errors.New("cors: origin not allowed"), errorsafe.EventRequestRejected, "cors", false, ""},
		{"a wrapped reason keeps its source", 403, wrapped{errors.New("rbac: denied")}, errorsafe.EventAccessDenied, "rbac", false, ""},
		{"a 404 without reason is no event", 404, nil, "", "", true, ""},
		{"a 400 from errorsafe itself is no event", 400, errors.New("errorsafe: 400 Bad Request"), "", "", true, ""},
		{"a 500 is no event", 500, errors.New("auth: store down"), "", "", true, ""},
		{"a 200 is no event", 200, nil, "", "", true, ""},
		// A handler's *errorsafe.Error only presents its cause: the
		// source and the logged text are the cause's, since the record
		// has the status already.
		{"an errorsafe.Error around a csrf rejection is csrf_rejected", 403, &errorsafe.Error{Status: 403, Err: errors.New("csrf: cross-origin request")},
			errorsafe.EventCSRFRejected, "csrf", false, "csrf: cross-origin request"},
		{"an errorsafe.Error around a sanitize 400 is request_rejected", 400, &errorsafe.Error{Status: 400, Public: "Bad body.", Err: errors.New("sanitize: unknown field")},
			errorsafe.EventRequestRejected, "sanitize", false, "sanitize: unknown field"},
		{"an errorsafe.Error without a cause keeps its text", 401, &errorsafe.Error{Status: 401},
			errorsafe.EventAuthenticationFailed, "", false, ""},
		{"an errorsafe.Error around an application 400 is no event", 400, &errorsafe.Error{Status: 400, Err: errors.New("app: no such invoice")}, "", "", true, "app: no such invoice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []errorsafe.Event
			m, logs := newLogged(t, errorsafe.Options{OnEvent: func(ctx context.Context, ev errorsafe.Event) {
				mu.Lock()
				got = append(got, ev)
				mu.Unlock()
			}})
			var seenReason error
			inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "mallory"})))
				if tt.reason != nil {
					problem.Reject(w, r, tt.status, tt.reason)
				} else {
					w.WriteHeader(tt.status)
				}
			})
			observer := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r)
					seenReason = errorsafe.RejectReason(r)
				})
			}
			req := httptest.NewRequest("GET", "/admin?token=x", nil)
			req.RemoteAddr = "192.0.2.7:1234"
			rec := httptest.NewRecorder()
			m.Handler(observer(inner)).ServeHTTP(rec, req)

			if seenReason != tt.reason {
				t.Errorf("RejectReason = %v, want %v", seenReason, tt.reason)
			}
			logged := tt.logged
			if logged == "" && tt.reason != nil {
				logged = tt.reason.Error()
			}
			if ar := logs.find(t, "http request"); tt.reason != nil && ar["reason"] != logged {
				t.Errorf("access record reason = %v, want %q", ar["reason"], logged)
			}
			if tt.noEvent {
				if len(got) != 0 || logs.find(t, "security event") != nil {
					t.Errorf("unexpected events %v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("events = %v", got)
			}
			ev := got[0]
			if ev.Kind != tt.kind || ev.Source != tt.source || ev.Status != tt.status || ev.Reason != tt.reason ||
				ev.Subject != "mallory" || ev.Path != "/admin" || ev.Method != "GET" || ev.ClientIP != netip.MustParseAddr("192.0.2.7") ||
				ev.RequestID != rec.Header().Get("X-Request-Id") || ev.Time.IsZero() {
				t.Errorf("event = %+v", ev)
			}
			lr := logs.find(t, "security event")
			if lr == nil || lr["level"] != "WARN" || lr["event"] != string(tt.kind) || lr["source"] != tt.source || lr["subject"] != "mallory" || lr["client_ip"] != "192.0.2.7" || lr["reason"] != logged {
				t.Errorf("event record = %v", lr)
			}
		})
	}
}

type wrapped struct{ err error }

func (w wrapped) Error() string { return "Policy check failed: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func TestPanicEvent(t *testing.T) {
	var got []errorsafe.Event
	m, logs := newLogged(t, errorsafe.Options{OnEvent: func(ctx context.Context, ev errorsafe.Event) { got = append(got, ev) }})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("x") })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/p", nil))
	if len(got) != 1 || got[0].Kind != errorsafe.EventPanicRecovered || got[0].Status != 500 || !errors.Is(got[0].Reason, errorsafe.ErrPanic) {
		t.Fatalf("events = %+v", got)
	}
	if ar := logs.find(t, "http request"); ar["status"] != 500.0 || ar["reason"] != errorsafe.ErrPanic.Error() {
		t.Errorf("access record = %v", ar)
	}
}

// TestAccessLogInsideRecover: with the parts chained in the documented
// order (Recover outermost), the access log still records the panic as a
// 500 while it unwinds.
func TestAccessLogInsideRecover(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{})
	h := m.Recover(m.RequestID(m.AccessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("x")
	}))))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	ar := logs.find(t, "http request")
	if rec.Code != 500 || ar == nil || ar["status"] != 500.0 || ar["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Errorf("%d, record %v", rec.Code, ar)
	}
	if pr := logs.find(t, "panic recovered"); pr == nil || pr["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Errorf("panic record %v", pr)
	}
}

func TestLogsGoToSlogDefaultWhenNoLogger(t *testing.T) {
	buf := new(logBuf)
	prev := errorsafeSetDefault(buf)
	defer restoreDefault(prev)
	var m errorsafe.Middleware
	m.AccessLog(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if buf.find(t, "http request") == nil {
		t.Errorf("nothing logged to the default logger: %q", buf)
	}
}

func TestPanickingEventHookIsContained(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{OnEvent: func(context.Context, errorsafe.Event) { panic("hook bug") }})
	for want, h := range map[int]http.Handler{
		500: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("handler bug") }),
		403: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }),
	} {
		rec := httptest.NewRecorder()
		m.Handler(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != want {
			t.Errorf("status %d, want %d", rec.Code, want)
		}
	}
	if r := logs.find(t, "event hook panicked"); r == nil || r["panic"] != "hook bug" {
		t.Errorf("record = %v", r)
	}
}

func TestSetRejectReasonReachesTheAccessLog(t *testing.T) {
	errMine := errors.New("app: export quota used")
	tests := []struct {
		name    string
		reasons []error
		want    error
	}{
		{"a reason recorded by the application is logged", []error{errMine}, errMine},
		{"the first reason recorded wins", []error{errMine, errDenied}, errMine},
		{"a nil reason is ignored", []error{nil, errMine}, errMine},
		{"no reason logs none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{})
			var got error
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, err := range tt.reasons {
					errorsafe.SetRejectReason(r, err)
				}
				w.WriteHeader(http.StatusForbidden)
			})
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				app.ServeHTTP(w, r)
				got = errorsafe.RejectReason(r)
			})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if got != tt.want {
				t.Errorf("RejectReason = %v, want %v", got, tt.want)
			}
			lr := logs.find(t, "http request")
			if want := ""; tt.want != nil {
				want = tt.want.Error()
				if lr == nil || lr["reason"] != want {
					t.Errorf("logged reason %v, want %q", lr["reason"], want)
				}
			} else if lr == nil || lr["reason"] != nil {
				t.Errorf("logged reason %v, want none", lr)
			}
		})
	}
	// Without an errorsafe middleware further out, nothing happens.
	errorsafe.SetRejectReason(httptest.NewRequest("GET", "/", nil), errMine)
}

// TestAccessLogSource checks that an access record's source, for a
// handler with AddSource, is the access log's call site in errorsafe on
// every request, as slog.Logger.LogAttrs would record it.
func TestAccessLogSource(t *testing.T) {
	var buf logBuf
	m, err := errorsafe.New(errorsafe.Options{
		Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{AddSource: true})),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	var n int
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var rec struct {
			Msg    string
			Source struct{ Function, File string }
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Msg != "http request" {
			continue
		}
		n++
		if !strings.HasSuffix(rec.Source.Function, "errorsafe.(*config).logAccess") || !strings.HasSuffix(rec.Source.File, "/errorsafe/accesslog.go") {
			t.Errorf("source = %+v, want errorsafe's logAccess in accesslog.go", rec.Source)
		}
	}
	if n != 3 {
		t.Errorf("%d access records, want 3:\n%s", n, buf.String())
	}
}

// Found in review: the method, a panic value, an error and a reason were
// logged whole, so that a 500 KB method (net/http accepts one up to
// MaxHeaderBytes) made 500 KB of log per request. Each is cut, and the
// cut marked.
func TestLoggedTextIsBounded(t *testing.T) {
	huge := strings.Repeat("x", 500<<10)
	type field struct {
		msg, key string
		max      int
	}
	tests := []struct {
		name   string
		method string
		h      http.Handler
		want   []field
	}{
		{"a huge method", strings.Repeat("A", 500<<10),
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				problem.Reject(w, r, http.StatusForbidden, errors.New("rbac: denied"))
			}),
			[]field{{"http request", "method", 32}, {"security event", "method", 32}}},
		{"a huge method in a panic", strings.Repeat("A", 500<<10),
			http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }),
			[]field{{"panic recovered", "method", 32}}},
		{"a huge method in an error", strings.Repeat("A", 500<<10),
			errorsafe.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errors.New("db: down") }),
			[]field{{"handler error", "method", 32}}},
		{"a huge panic value", "GET",
			http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bad id: " + huge) }),
			[]field{{"panic recovered", "panic", 4096}}},
		{"a huge error", "GET",
			errorsafe.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errors.New("db: bad id " + huge) }),
			[]field{{"handler error", "error", 4096}, {"http request", "reason", 4096}}},
		{"a huge rejection reason", "GET",
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				problem.Reject(w, r, http.StatusBadRequest, errors.New("sanitize: bad field "+huge))
			}),
			[]field{{"http request", "reason", 4096}, {"security event", "reason", 4096}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev errorsafe.Event
			m, logs := newLogged(t, errorsafe.Options{OnEvent: func(_ context.Context, e errorsafe.Event) { ev = e }})
			m.Handler(tt.h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, "/", nil))
			if n := len(logs.String()); n > 32<<10 {
				t.Errorf("%d bytes of log for one request", n)
			}
			for _, f := range tt.want {
				rec := logs.find(t, f.msg)
				s, _ := rec[f.key].(string)
				if len(s) > f.max || !strings.HasSuffix(s, "[TRUNCATED]") {
					t.Errorf("%q %s = %d bytes %.40q…, want at most %d ending with [TRUNCATED]", f.msg, f.key, len(s), s, f.max)
				}
			}
			if len(ev.Method) > 32 {
				t.Errorf("Event.Method of %d bytes", len(ev.Method))
			}
		})
	}
	t.Run("net/http delivers a huge method", func(t *testing.T) {
		m, logs := newLogged(t, errorsafe.Options{})
		srv := httptest.NewServer(m.Handler(http.NotFoundHandler()))
		defer srv.Close()
		req, _ := http.NewRequest(strings.Repeat("A", 500<<10), srv.URL+"/", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		waitFor(t, logs, 1)
		if n := len(logs.String()); n > 8<<10 {
			t.Errorf("%d bytes of log for one request", n)
		}
	})
}

// Found in review: the JWTs of identity proxies' headers listed in
// LogHeaders were logged in full, on any line of the header.
func TestAccessLogRedactsJWTHeaders(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.SIGNATURE-1"
	headers := []string{"Cf-Access-Jwt-Assertion", "X-Goog-Iap-Jwt-Assertion", "X-Amzn-Oidc-Data", "Dpop", "X-Jwt", "X-Upstream"}
	m, logs := newLogged(t, errorsafe.Options{LogHeaders: append(headers, "Accept")})
	r := httptest.NewRequest("GET", "/", nil)
	for _, h := range headers {
		r.Header.Add(h, "first line")
		r.Header.Add(h, jwt)
	}
	r.Header.Set("Accept", "text/html")
	m.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
	rec := logs.find(t, "http request")
	hs, _ := rec["headers"].(map[string]any)
	for _, h := range headers {
		if hs[h] != errorsafe.Redacted {
			t.Errorf("header %s logged as %v", h, hs[h])
		}
	}
	if hs["Accept"] != "text/html" {
		t.Errorf("Accept logged as %v", hs["Accept"])
	}
	if strings.Contains(logs.String(), "SIGNATURE-1") {
		t.Errorf("log holds the JWT: %s", logs)
	}
}

// Found in review: the User-Agent, always logged, kept a JWT in full,
// although the package documents every logged header value holding one
// as redacted (some mobile SDKs append the device's token to it).
func TestAccessLogRedactsJWTInUserAgent(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.SIGNATURE-1"
	m, logs := newLogged(t, errorsafe.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("User-Agent", "ExampleApp/2.1 (iOS; device "+jwt+")")
	m.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
	if rec := logs.find(t, "http request"); rec == nil || rec["user_agent"] != errorsafe.Redacted {
		t.Errorf("user_agent logged as %v", rec["user_agent"])
	}
	if strings.Contains(logs.String(), "SIGNATURE-1") {
		t.Errorf("log holds the JWT: %s", logs)
	}
}

// Found in review: bidirectional controls in the path and User-Agent were
// written raw into JSON logs, so a log viewer could show a line
// reordered. They are replaced by U+FFFD wherever request text is logged.
// withSubject calls next with the identity whose subject sub returns, as
// an auth middleware does.
func withSubject(sub func(r *http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := identity.New(identity.Options{Subject: sub(r), Method: identity.MethodSession})
		next.ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), id)))
	})
}

func TestLogsHaveNoBidiControls(t *testing.T) {
	bidi := []string{"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
	tests := []struct {
		name string
		set  func(r *http.Request, c string)
		h    http.Handler
	}{
		{"in the path", func(r *http.Request, c string) { r.URL.Path = "/a" + c + "b" }, http.NotFoundHandler()},
		{"in the User-Agent", func(r *http.Request, c string) { r.Header.Set("User-Agent", "a"+c+"b") }, http.NotFoundHandler()},
		{"in a logged header", func(r *http.Request, c string) { r.Header.Set("X-Note", "a"+c+"b") }, http.NotFoundHandler()},
		{"in a URL header", func(r *http.Request, c string) { r.Header.Set("Referer", "https://h/?q="+c) }, http.NotFoundHandler()},
		{"in the query", func(r *http.Request, c string) { r.URL.RawQuery = "q=a" + c + "&token=x" }, http.NotFoundHandler()},
		{"in a panic", func(r *http.Request, c string) { r.Header.Set("X-Id", c) },
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("bad id " + r.Header.Get("X-Id")) })},
		// A subject can be a user name its owner chose at sign-up; it is
		// logged in the access record and the security event.
		{"in the subject", func(r *http.Request, c string) { r.Header.Set("X-Id", c) }, withSubject(
			func(r *http.Request) string { return "a" + r.Header.Get("X-Id") + "b" },
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				problem.Reject(w, r, http.StatusForbidden, errors.New("rbac: denied"))
			}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range bidi {
				m, logs := newLogged(t, errorsafe.Options{LogHeaders: []string{"X-Note", "Referer"}})
				r := httptest.NewRequest("GET", "/", nil)
				tt.set(r, c)
				m.Handler(tt.h).ServeHTTP(httptest.NewRecorder(), r)
				out := logs.String()
				if strings.Contains(out, c) || !strings.Contains(out, "\ufffd") {
					t.Errorf("%U: log %q", []rune(c)[0], out)
				}
			}
		})
	}
}

// The cut of a long panic value falls on a rune boundary: no half
// character, which the JSON handler would log as U+FFFD.
func TestLoggedTextIsCutOnARuneBoundary(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{})
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(strings.Repeat("é", 3000)) })
	m.Handler(h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	s, _ := logs.find(t, "panic recovered")["panic"].(string)
	if len(s) > 4096 || !strings.HasSuffix(s, "[TRUNCATED]") || strings.ContainsRune(s, '\ufffd') {
		t.Errorf("panic logged as %d bytes ending %q", len(s), s[max(0, len(s)-20):])
	}
}

// TestLoggedPathAndHeadersAreBounded: the package doc bounds the logged
// path to 1024 bytes and header values and the User-Agent to 256, in the
// access record, the security event and the panic record.
func TestLoggedPathAndHeadersAreBounded(t *testing.T) {
	target := "/" + strings.Repeat("p", 3000)
	long := strings.Repeat("u", 1000)
	for _, tt := range []struct {
		name string
		h    http.Handler
		msgs []string
	}{
		{"a rejection", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Reject(w, r, http.StatusForbidden, errors.New("rbac: denied"))
		}), []string{"http request", "security event"}},
		{"a panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }),
			[]string{"http request", "panic recovered"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ev errorsafe.Event
			m, logs := newLogged(t, errorsafe.Options{
				LogHeaders: []string{"X-Note"},
				OnEvent:    func(_ context.Context, e errorsafe.Event) { ev = e },
			})
			r := httptest.NewRequest("GET", target, nil)
			r.Header.Set("User-Agent", long)
			r.Header.Set("X-Note", long)
			subject := func(*http.Request) string { return strings.Repeat("s", 1000) }
			m.Handler(withSubject(subject, tt.h)).ServeHTTP(httptest.NewRecorder(), r)
			for _, msg := range tt.msgs {
				rec := logs.find(t, msg)
				if rec == nil {
					t.Fatalf("no %q record", msg)
				}
				if p, _ := rec["path"].(string); len(p) != 1024 || !strings.HasPrefix(target, p) {
					t.Errorf("%q path of %d bytes, want the first 1024", msg, len(p))
				}
				if msg == "security event" {
					if sub, _ := rec["subject"].(string); len(sub) != 256 {
						t.Errorf("%q subject of %d bytes, want 256", msg, len(sub))
					}
				}
				if msg != "http request" {
					continue
				}
				if sub, _ := rec["subject"].(string); len(sub) != 256 || !strings.HasSuffix(sub, "[TRUNCATED]") {
					t.Errorf("subject of %d bytes, want 256 ending in [TRUNCATED]", len(sub))
				}
				if ua, _ := rec["user_agent"].(string); len(ua) != 256 {
					t.Errorf("user_agent of %d bytes, want 256", len(ua))
				}
				hs, _ := rec["headers"].(map[string]any)
				if v, _ := hs["X-Note"].(string); len(v) != 256 {
					t.Errorf("headers.X-Note of %d bytes, want 256", len(v))
				}
			}
			if tt.name == "a rejection" && len(ev.Path) != 1024 {
				t.Errorf("Event.Path of %d bytes, want 1024", len(ev.Path))
			}
		})
	}
}

// TestHostileRequestTargetsInTheLog sends request lines over a real
// connection. An absolute-form target carries userinfo, which the access
// record must not log (the path is logged, not the target), and a path
// whose escapes decode to CR, LF, an ANSI escape or a quote is logged as
// one attribute of one record, escaped by the handler, as it was decoded.
func TestHostileRequestTargetsInTheLog(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		wantPath string
		secrets  []string
	}{
		{"absolute form with userinfo", "http://user:TARGET-PW-1@example.com/x?access_token=TARGET-TOKEN-2", "/x",
			[]string{"TARGET-PW-1", "TARGET-TOKEN-2", "user:"}},
		{"absolute form with userinfo and no password", "http://TARGET-USER-3@example.com/x", "/x", []string{"TARGET-USER-3"}},
		{"CR LF forging a record", "/a%0D%0Atime=x%20level=ERROR%20msg=forged", "/a\r\ntime=x level=ERROR msg=forged", nil},
		{"ANSI escapes", "/a%1B%5B2J%1B%5D0;title%07", "/a\x1b[2J\x1b]0;title\a", nil},
		{"a quote closing the attribute", `/a%22%20level=ERROR`, `/a" level=ERROR`, nil},
	}
	for _, tt := range tests {
		for _, text := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s text=%v", tt.name, text), func(t *testing.T) {
				var buf logBuf
				var lh slog.Handler = slog.NewJSONHandler(&buf, nil)
				if text {
					lh = slog.NewTextHandler(&buf, nil)
				}
				m := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(lh)})
				seen := make(chan string, 1)
				srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen <- r.URL.Path
				})))
				defer srv.Close()
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: example.com\r\n\r\n", tt.target)
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if path := <-seen; resp.StatusCode != 200 || path != tt.wantPath {
					t.Fatalf("status %d, path %q: the request did not reach the handler as intended", resp.StatusCode, path)
				}
				out := waitForLine(t, &buf)
				for _, s := range tt.secrets {
					if strings.Contains(out, s) {
						t.Errorf("log contains %q: %s", s, out)
					}
				}
				if strings.Count(out, "\n") != 1 || strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\r\n\x1b\a") {
					t.Fatalf("not one record of escaped text: %q", out)
				}
				if !text {
					var rec map[string]any
					if err := json.Unmarshal([]byte(out), &rec); err != nil || rec["path"] != tt.wantPath {
						t.Errorf("path logged as %q (%v), want %q", rec["path"], err, tt.wantPath)
					}
				} else if want := "path=" + strconv.Quote(tt.wantPath); tt.wantPath != "/x" && !strings.Contains(out, want) {
					t.Errorf("record %q lacks %s", out, want)
				}
			})
		}
	}
}

// waitForLine waits for the first complete log line in buf (the access
// record is written after the response).
func waitForLine(t *testing.T, buf *logBuf) string {
	t.Helper()
	for range 500 {
		if s := buf.String(); strings.HasSuffix(s, "\n") {
			return s
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no record: %q", buf.String())
	return ""
}

// The bytes of the access record are those of the body sent: net/http
// sends none in answer to HEAD, whatever the handler writes (it takes
// the writes and drops them), so a HEAD logs 0. It logged what the
// handler wrote, through Write, ReadFrom or a held problem, over HTTP/1.1
// and HTTP/2.
func TestAccessLogCountsNoBodyForHead(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		for _, path := range []string{"/write", "/readfrom", "/problem"} {
			for _, method := range []string{"GET", "HEAD"} {
				m, logs := newLogged(t, errorsafe.Options{})
				srv := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch r.URL.Path {
					case "/write":
						io.WriteString(w, "body")
					case "/readfrom":
						w.(io.ReaderFrom).ReadFrom(strings.NewReader("body"))
					case "/problem":
						problem.Reject(w, r, http.StatusForbidden, nil)
					}
				})))
				srv.EnableHTTP2 = h2
				srv.StartTLS()
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lr := waitRecord(t, logs, "http request")
				srv.Close()
				if lr["bytes"] != float64(n) || method == "HEAD" && n != 0 {
					t.Errorf("HTTP/2 %v, %s %s: bytes = %v, %d body bytes received", h2, method, path, lr["bytes"], n)
				}
			}
		}
	}
}
