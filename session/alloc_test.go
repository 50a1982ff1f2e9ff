package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/session"
)

// The allocation budgets of the hot paths. They count everything the
// middleware does for one request: its per-request state (one
// allocation), the request copy carrying the new context, and for a
// logged-in session the decoded record and the identity in the context.
func TestAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are measured in full runs")
	}
	tests := []struct {
		name   string
		store  string
		path   string
		cookie string // "" = none, "valid" = the session's cookie, else a literal Cookie header
		budget float64
	}{
		{"a request without a cookie", "memory", "/read", "", 2},
		{"reading a logged-in server-side session", "memory", "/read", "valid", 9},
		{"changing a logged-in server-side session", "memory", "/write", "valid", 10},
		{"a forged server-side token is rejected", "memory", "/read", "__Host-session=" + strings.Repeat("A", 43), 3},
		{"a malformed token is rejected", "memory", "/read", "__Host-session=garbage", 3},
		{"a garbage encrypted cookie is rejected", "cookie", "/read", "__Host-session=" + strings.Repeat("A", 200), 7},
		{"reading a logged-in cookie session", "cookie", "/read", "valid", 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var store session.Store = memoryStore(t, session.MemoryOptions{})
			if tt.store == "cookie" {
				store = cookieStore(t, nil)
			}
			h, tok, m := benchApp(t, store)
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			switch tt.cookie {
			case "":
			case "valid":
				r.Header.Set("Cookie", m.CookieName()+"="+tok)
			default:
				r.Header.Set("Cookie", tt.cookie)
			}
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, r)
			if w.code != 0 {
				t.Fatalf("status %d", w.code)
			}
			got := testing.AllocsPerRun(200, func() {
				w.reset()
				h.ServeHTTP(w, r)
			})
			if got > tt.budget {
				t.Errorf("%v allocations per request, budget %v", got, tt.budget)
			}
		})
	}
}
