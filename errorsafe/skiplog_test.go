package errorsafe_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

// SkipAccessLog leaves out the access records of the requests it selects
// (a health check polled every few seconds), but never of a request that
// failed: a 4xx or 5xx, a rejection reason, a panic or an abort is
// logged whatever the hook says, so it cannot hide an attack or an
// outage. A hook that panics skips nothing, and the panic is logged.
func TestSkipAccessLog(t *testing.T) {
	healthz := func(r *http.Request) bool { return r.URL.Path == "/healthz" }
	tests := []struct {
		name    string
		skip    func(*http.Request) bool
		path    string
		handler http.HandlerFunc
		logged  bool
	}{
		{"a selected 200 is skipped", healthz, "/healthz", func(w http.ResponseWriter, r *http.Request) {}, false},
		{"a selected 204 is skipped", healthz, "/healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, false},
		{"another path is logged", healthz, "/items", func(w http.ResponseWriter, r *http.Request) {}, true},
		{"a selected 404 is logged", healthz, "/healthz", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, true},
		{"a selected 503 is logged", healthz, "/healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, true},
		{"a selected rejection reason is logged", healthz, "/healthz", func(w http.ResponseWriter, r *http.Request) {
			errorsafe.SetRejectReason(r, errors.New("probe: refused"))
		}, true},
		{"a selected panic is logged", healthz, "/healthz", func(w http.ResponseWriter, r *http.Request) { panic("down") }, true},
		{"no hook logs everything", nil, "/healthz", func(w http.ResponseWriter, r *http.Request) {}, true},
		{"a panicking hook skips nothing", func(*http.Request) bool { panic("hook") }, "/healthz", func(w http.ResponseWriter, r *http.Request) {}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{SkipAccessLog: tt.skip})
			m.Handler(tt.handler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			if got := strings.Contains(logs.String(), `"msg":"http request"`); got != tt.logged {
				t.Errorf("access record logged %t, want %t:\n%s", got, tt.logged, logs.String())
			}
			if strings.HasPrefix(tt.name, "a panicking hook") && logs.find(t, "SkipAccessLog panicked") == nil {
				t.Errorf("the hook's panic is not logged:\n%s", logs.String())
			}
		})
	}
}
