package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/auth"
)

// A response to a request authenticated by a key in a header of its own
// (X-API-Key) is marked Cache-Control: private, as one to a JWT from a
// cookie or the query string is: a shared cache knows Authorization for a
// credential (RFC 9111 §3.5) but not X-API-Key, and could serve the
// response to a client without a key, or after the key was revoked. A key
// in Authorization needs no mark; a Cache-Control set further out or by
// the handler wins.
func TestAPIKeyInOwnHeaderResponseIsPrivate(t *testing.T) {
	own := newAPIKeySetup(t, nil)
	authz := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Header = "Authorization" })
	for _, tt := range []struct {
		name    string
		s       *apiKeySetup
		header  string
		prefix  string
		outer   string // a Cache-Control set further out
		handler string // the handler's own Cache-Control
		want    string
	}{
		{"key in X-API-Key", own, "X-API-Key", "", "", "", "private"},
		{"key in X-API-Key, the handler's no-store", own, "X-API-Key", "", "", "no-store", "no-store"},
		{"key in X-API-Key, no-store set further out", own, "X-API-Key", "", "no-store", "", "no-store"},
		{"key in Authorization", authz, "Authorization", "Bearer ", "", "", ""},
	} {
		for _, mw := range []struct {
			name string
			wrap func(http.Handler) http.Handler
		}{{"Handler", tt.s.mw.Handler}, {"Optional", tt.s.mw.Optional}} {
			t.Run(tt.name+" through "+mw.name, func(t *testing.T) {
				h := mw.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.handler != "" {
						w.Header().Set("Cache-Control", tt.handler)
					}
					io.WriteString(w, "ok")
				}))
				r := httptest.NewRequest(http.MethodGet, "/v1/invoices", nil)
				r.Header.Set(tt.header, tt.prefix+tt.s.live.Key)
				w := httptest.NewRecorder()
				if tt.outer != "" {
					w.Header().Set("Cache-Control", tt.outer)
				}
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Fatalf("status %d", w.Code)
				}
				if got := w.Header().Values("Cache-Control"); len(got) > 1 || w.Header().Get("Cache-Control") != tt.want {
					t.Errorf("Cache-Control %q, want %q", got, tt.want)
				}
			})
		}
	}
}
