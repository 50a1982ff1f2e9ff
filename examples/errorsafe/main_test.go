package main

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/testenv"
)

func newTestHandler(t *testing.T) (http.Handler, *testenv.LogBuffer) {
	t.Helper()
	logs := new(testenv.LogBuffer)
	h, err := newHandler(newLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

// record returns the record with message msg for request id, or fails.
func record(t *testing.T, b *testenv.LogBuffer, msg, id string) map[string]any {
	t.Helper()
	for _, rec := range b.Records(t) {
		if rec["msg"] == msg && rec["request_id"] == id {
			return rec
		}
	}
	t.Fatalf("no %q record for request %q in:\n%s", msg, id, b.String())
	return nil
}

const pqError = `pq: password authentication failed for user "billing" at 10.0.0.7:5432`

// The curl commands of the package comment. Problem responses are
// checked member by member: a generic one has type, title, status and
// request_id and nothing else, so no cause can reach the client.
func TestRequests(t *testing.T) {
	longID := strings.Repeat("a", 100)
	tests := []struct {
		name   string
		method string
		target string
		header map[string]string
		status int
		// respHeader holds exact response header values.
		respHeader map[string]string
		// problem, when not nil, is the exact problem body without its
		// request_id, which must be the X-Request-Id header's value.
		problem map[string]any
		// body is the exact body of other responses; {id} stands for the
		// request ID.
		body string
		// secrets must appear nowhere in the response.
		secrets []string
		// log checks the records of this request, id its request ID.
		log func(t *testing.T, logs *testenv.LogBuffer, id string)
	}{
		{
			name:   "hello",
			target: "/hello",
			status: http.StatusOK,
			body:   "hello, your request ID is {id}\n",
		},
		{
			name:       "invoice found",
			target:     "/invoices/42",
			status:     http.StatusOK,
			respHeader: map[string]string{"Content-Type": "application/json"},
			body:       `{"id":42,"total":"99.00"}` + "\n",
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				// LogHandler gives the application's record the request ID.
				if rec := record(t, logs, "loading invoice", id); rec["invoice"] != "42" {
					t.Errorf("loading invoice record %v", rec)
				}
			},
		},
		{
			name:    "mapped error",
			target:  "/invoices/7",
			status:  http.StatusNotFound,
			problem: map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0, "detail": "No such invoice."},
			secrets: []string{"store:", "select invoice"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				if rec := record(t, logs, "http request", id); rec["reason"] != "select invoice: store: invoice not found" {
					t.Errorf("access record %v, want the wrapped error as reason", rec)
				}
			},
		},
		{
			name:    "internal error",
			target:  "/invoices/0",
			status:  http.StatusInternalServerError,
			problem: map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0},
			secrets: []string{"pq:", "password", "billing", "10.0.0.7"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				record(t, logs, "loading invoice", id)
				if rec := record(t, logs, "handler error", id); rec["error"] != pqError || rec["status"] != 500.0 {
					t.Errorf("handler error record %v, want the cause", rec)
				}
			},
		},
		{
			name:    "panic",
			target:  "/panic",
			status:  http.StatusInternalServerError,
			problem: map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0},
			secrets: []string{"runtime error", "nil pointer", "dbPassword", "goroutine", "main.go"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				rec := record(t, logs, "panic recovered", id)
				if p, _ := rec["panic"].(string); !strings.Contains(p, "nil pointer dereference") {
					t.Errorf("panic record %v, want the panic value", rec)
				}
				if s, _ := rec["stack"].(string); !strings.Contains(s, "examples/errorsafe") {
					t.Errorf("panic record's stack %q does not reach the handler", s)
				}
			},
		},
		{
			name:       "authentication failed",
			target:     "/admin",
			status:     http.StatusUnauthorized,
			respHeader: map[string]string{"WWW-Authenticate": `Bearer realm="example"`},
			problem:    map[string]any{"type": "about:blank", "title": "Unauthorized", "status": 401.0},
			secrets:    []string{"auth:", "missing bearer token"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				if rec := record(t, logs, "security event", id); rec["event"] != "authentication_failed" {
					t.Errorf("event record %v, want authentication_failed", rec)
				}
			},
		},
		{
			name:    "the application's own problem",
			target:  "/export",
			status:  http.StatusForbidden,
			problem: map[string]any{"type": "about:blank", "title": "Forbidden", "status": 403.0, "detail": "Export quota reached.", "limit": 1000.0},
			secrets: []string{"billing", "account 7"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				const reason = "billing: export quota of 1000 rows used by account 7"
				if rec := record(t, logs, "http request", id); rec["reason"] != reason {
					t.Errorf("access record %v, want reason %q", rec, reason)
				}
			},
		},
		{
			name:    "ServeMux 404",
			target:  "/nope",
			status:  http.StatusNotFound,
			problem: map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0},
		},
		{
			name:       "ServeMux 405",
			method:     http.MethodDelete,
			target:     "/hello",
			status:     http.StatusMethodNotAllowed,
			respHeader: map[string]string{"Allow": "GET, HEAD"},
			problem:    map[string]any{"type": "about:blank", "title": "Method Not Allowed", "status": 405.0},
		},
		{
			name:    "credentials redacted in the log",
			target:  "/hello?password=hunter2&page=2",
			header:  map[string]string{"Authorization": "Bearer secret"},
			status:  http.StatusOK,
			body:    "hello, your request ID is {id}\n",
			secrets: []string{"hunter2", "secret"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				if strings.Contains(logs.String(), "hunter2") || strings.Contains(logs.String(), "secret") {
					t.Errorf("a credential reached the log:\n%s", logs.String())
				}
				rec := record(t, logs, "http request", id)
				if rec["query"] != "password=[REDACTED]&page=2" {
					t.Errorf("query %v, want password=[REDACTED]&page=2", rec["query"])
				}
				if h, _ := rec["headers"].(map[string]any); h["Authorization"] != "[REDACTED]" {
					t.Errorf("headers %v, want Authorization [REDACTED]", rec["headers"])
				}
			},
		},
		{
			// The server trusts no proxy, so a client cannot choose
			// the ID of its records.
			name:    "a client's well-formed request ID: replaced",
			target:  "/hello",
			header:  map[string]string{"X-Request-ID": "gw-1234"},
			status:  http.StatusOK,
			body:    "hello, your request ID is {id}\n",
			secrets: []string{"gw-1234"},
			log: func(t *testing.T, logs *testenv.LogBuffer, id string) {
				if id == "gw-1234" || strings.Contains(logs.String(), "gw-1234") {
					t.Errorf("the client's ID was used: %s", logs.String())
				}
				record(t, logs, "http request", id)
			},
		},
		{
			name:    "incoming request ID too long: replaced",
			target:  "/hello",
			header:  map[string]string{"X-Request-ID": longID},
			status:  http.StatusOK,
			body:    "hello, your request ID is {id}\n",
			secrets: []string{longID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newTestHandler(t)
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, "http://localhost:8080"+tt.target, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			res := w.Result()
			body := w.Body.String()

			id := res.Header.Get("X-Request-Id")
			if id == "" {
				t.Errorf("no X-Request-Id")
			}
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d (body %q)", res.StatusCode, tt.status, body)
			}
			for k, v := range tt.respHeader {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tt.problem != nil {
				for k, v := range map[string]string{
					"Content-Type":           "application/problem+json",
					"Cache-Control":          "no-store",
					"X-Content-Type-Options": "nosniff",
				} {
					if got := res.Header.Get(k); got != v {
						t.Errorf("problem %s: %q, want %q", k, got, v)
					}
				}
				var p map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatalf("problem %q: %v", body, err)
				}
				if p["request_id"] != id {
					t.Errorf("problem request_id %v, X-Request-Id %q", p["request_id"], id)
				}
				delete(p, "request_id")
				if !maps.Equal(p, tt.problem) {
					t.Errorf("problem %v, want %v and request_id", p, tt.problem)
				}
			} else if want := strings.ReplaceAll(tt.body, "{id}", id); body != want {
				t.Errorf("body %q, want %q", body, want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(body, s) {
					t.Errorf("body %q reveals %q", body, s)
				}
				for k, vs := range res.Header {
					if slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, s) }) {
						t.Errorf("header %s: %q reveals %q", k, vs, s)
					}
				}
			}
			if tt.log != nil {
				tt.log(t, logs, id)
			}
		})
	}
}

// A panic after the response has started cannot become a 500: the
// transfer is aborted, so the client sees a truncated body, not a
// complete one, and the log says so.
func TestStreamPanicAborts(t *testing.T) {
	h, logs := newTestHandler(t)
	srv := httptest.NewServer(h)
	res, err := srv.Client().Get(srv.URL + "/stream")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	srv.Close() // waits for the handler, so its records are written
	if res.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200: the response had started", res.StatusCode)
	}
	if err == nil {
		t.Errorf("body read without error: the transfer was not aborted")
	}
	if string(got) != "chunk 0\nchunk 1\nchunk 2\n" {
		t.Errorf("body %q, want the three chunks sent before the panic", got)
	}
	id := res.Header.Get("X-Request-Id")
	if rec := record(t, logs, "panic recovered", id); rec["panic"] != "lost the upstream half way" || rec["response_started"] != true {
		t.Errorf("panic record %v", rec)
	}
	if rec := record(t, logs, "http request", id); rec["aborted"] != true {
		t.Errorf("access record %v, want aborted", rec)
	}
}

// OnEvent counts the security events of the other commands; /events
// serves the counts.
func TestEventsCounted(t *testing.T) {
	h, _ := newTestHandler(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/hello", "/invoices/42", "/invoices/0", "/panic", "/stream", "/admin", "/export", "/nope"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	res, err := srv.Client().Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got map[string]int
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"panic_recovered": 2, "authentication_failed": 1, "access_denied": 1}
	if !maps.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// "OPTIONS *" goes through errorsafe like every other request: a request
// ID in the response and an access record. net/http answers it itself,
// past every middleware, unless the server is told not to.
func TestOptionsAsteriskGetsRequestIDAndRecord(t *testing.T) {
	logs := new(testenv.LogBuffer)
	logger := newLogger(logs)
	h, err := newHandler(logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer("127.0.0.1:0", h, logger)
	if err != nil {
		t.Fatal(err)
	}
	resp := testenv.RawRequest(t, testenv.Serve(t, srv), "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n")
	id := resp.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatalf("OPTIONS *: %d without a request ID: %v", resp.StatusCode, resp.Header)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if slices.ContainsFunc(logs.Records(t), func(rec map[string]any) bool {
			return rec["msg"] == "http request" && rec["request_id"] == id && rec["method"] == "OPTIONS"
		}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access record for OPTIONS * (request %q) in:\n%s", id, logs.String())
		}
	}
}
