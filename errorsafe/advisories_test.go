package errorsafe_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

// TestErrorsIgnoreAcceptHTML replays gofiber/fiber CVE-2026-42554
// (GHSA-qjv7-627w-8qjv): content negotiation chose an HTML rendering
// whenever the client sent "Accept: text/html", and wrote the
// attacker-influenced value into it unescaped. The problems errorsafe
// writes are negotiated with nobody: whatever the Accept header asks
// for, they are application/problem+json with nosniff, and nothing of
// the request reaches them as markup.
func TestErrorsIgnoreAcceptHTML(t *testing.T) {
	m, _ := newLogged(t, errorsafe.Options{ReplaceMuxErrors: true})
	const xss = `<script>alert(document.domain)</script>`
	tests := []struct {
		name   string
		h      http.Handler
		status int
	}{
		{"a handler's error", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return &errorsafe.Error{Status: http.StatusNotFound, Public: "No such invoice.", Err: errors.New("invoice " + r.URL.Query().Get("id"))}
		}), http.StatusNotFound},
		{"an HTML 500 reflecting the query", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<p>no invoice "+r.URL.Query().Get("id")+"</p>")
		}), http.StatusInternalServerError},
		{"a panic with the query", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("no invoice " + r.URL.Query().Get("id"))
		}), http.StatusInternalServerError},
		{"a mux 404", http.NewServeMux(), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run("CVE-2026-42554: "+tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/invoices/%3Cscript%3E?id="+strings.ReplaceAll(xss, " ", "+"), nil)
			r.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
			r.Header.Set("X-Request-ID", xss)
			w := httptest.NewRecorder()
			m.Handler(tt.h).ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if body := w.Body.String(); strings.ContainsAny(body, "<>") {
				t.Errorf("body carries markup: %s", body)
			}
			problemBody(t, w.Body.Bytes())
		})
	}
}
