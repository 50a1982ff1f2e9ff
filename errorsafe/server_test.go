package errorsafe_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

// TestEndToEnd runs a real server with a mux of typical handlers behind
// Handler and checks what a client sees and what the operator logs.
func TestEndToEnd(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{
		ReplaceMuxErrors: true,
		Errors:           []errorsafe.ErrorMapping{{Err: errNoInvoice, Status: 404, Public: "No such invoice."}},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.Handle("GET /invoices/{id}", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") == "42" {
			return fmt.Errorf("select %s: %w", privateCause, errNoInvoice)
		}
		return errors.New(privateCause)
	}))
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic(secretPanic) })
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		problem.Reject(w, r, 401, errors.New("auth: missing credentials"))
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	tests := []struct {
		name, method, path string
		status             int
		problem            bool
		detail             string
	}{
		{"a normal request passes", "GET", "/hello", 200, false, ""},
		{"a mapped error shows its public message", "GET", "/invoices/42", 404, true, "No such invoice."},
		{"an unmapped error is a generic 500", "GET", "/invoices/7", 500, true, ""},
		{"a panic is a generic 500", "GET", "/panic", 500, true, ""},
		{"a rejection keeps its challenge", "GET", "/admin", 401, true, ""},
		{"an unknown path is a generic 404", "GET", "/nope", 404, true, ""},
		{"a wrong method is a generic 405", "POST", "/hello", 405, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			id := resp.Header.Get("X-Request-Id")
			if !freshID.MatchString(id) {
				t.Errorf("X-Request-Id = %q", id)
			}
			for _, leak := range []string{"hunter2", "pq:", "store:", "auth:", "page not found", "goroutine"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("body leaks %q: %s", leak, body)
				}
			}
			if tt.problem {
				p := problemBody(t, body)
				if p["request_id"] != id || p["status"] != float64(tt.status) {
					t.Errorf("problem = %v", p)
				}
				if d, _ := p["detail"].(string); d != tt.detail {
					t.Errorf("detail = %q", d)
				}
			}
			// The operator can find the request by the ID the client quotes.
			found := false
			for range 200 {
				if strings.Contains(logs.String(), `"request_id":"`+id+`"`) && strings.Contains(logs.String(), `"path":"`+tt.path+`"`) {
					found = true
					break
				}
				waitRecord(t, logs, "http request")
			}
			if !found {
				t.Errorf("no record for request %s", id)
			}
		})
	}
	if !strings.Contains(logs.String(), "hunter2") {
		t.Error("the private causes were not logged")
	}
	for _, ev := range []string{"authentication_failed", "panic_recovered"} {
		if !strings.Contains(logs.String(), `"event":"`+ev+`"`) {
			t.Errorf("no %s event logged", ev)
		}
	}
	if strings.Contains(logs.String(), `"event":"request_rejected"`) {
		t.Error("an application error was logged as a security event")
	}
}

// TestConcurrentRequests serves many requests in parallel through shared
// middlewares, under -race, and checks each response carries its own ID.
func TestConcurrentRequests(t *testing.T) {
	var mu sync.Mutex
	events := map[errorsafe.EventKind]int{}
	m, logs := newLogged(t, errorsafe.Options{OnEvent: func(ctx context.Context, ev errorsafe.Event) {
		mu.Lock()
		events[ev.Kind]++
		mu.Unlock()
		if ev.Kind == errorsafe.EventAccessDenied && ev.Subject != ev.RequestID {
			t.Errorf("event subject %q for request %q: requests mixed up", ev.Subject, ev.RequestID)
		}
	}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := errorsafe.RequestIDFrom(r.Context())
		switch r.URL.Path {
		case "/panic":
			panic(id)
		case "/deny":
			r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: id})))
			problem.Reject(w, r, 403, errors.New("rbac: denied"))
		default:
			io.WriteString(w, id)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				path := []string{"/ok", "/panic", "/deny"}[(i+j)%3]
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				id := resp.Header.Get("X-Request-Id")
				if path == "/ok" && string(body) != id {
					t.Errorf("body %q, ID %q: requests mixed up", body, id)
				}
				if path != "/ok" && !strings.Contains(string(body), id) {
					t.Errorf("problem %q lacks ID %q", body, id)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, logs, 16*20)
	mu.Lock()
	defer mu.Unlock()
	if events[errorsafe.EventAccessDenied] == 0 || events[errorsafe.EventPanicRecovered] == 0 {
		t.Errorf("events = %v", events)
	}
}
