package https_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/https"
)

// Client --https--> E (10.1.1.1, writes "unknown" for the client) --http-->
// I (10.0.0.1) --> app, every proxy appending X-Forwarded-For and
// X-Forwarded-Proto: the client is on https and is not redirected. Found
// in review: the resolver answered http (the E->I hop's value) with
// X-Forwarded-For, so the redirect sent the client to the URL it was on,
// an endless loop.
func TestRedirectHiddenClientNoLoop(t *testing.T) {
	t.Parallel()
	p := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		header  clientip.Header
		headers map[string]string
	}{
		{"Forwarded", clientip.Forwarded, map[string]string{"Forwarded": "for=unknown;proto=https, for=10.1.1.1;proto=http"}},
		// E discloses the scheme alone (RFC 7239 makes for optional).
		{"Forwarded without for", clientip.Forwarded, map[string]string{"Forwarded": "proto=https, for=10.1.1.1;proto=http"}},
		{"X-Forwarded-For", clientip.XForwardedFor, map[string]string{"X-Forwarded-For": "unknown, 10.1.1.1", "X-Forwarded-Proto": "https, http"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := clientip.MustNew(clientip.Options{TrustedProxies: p, Header: tt.header})
			rd := mustRedirect(t, https.RedirectOptions{ClientIP: rv, Host: "example.com"})
			r := httptest.NewRequest(http.MethodGet, "http://example.com/x", nil)
			r.RemoteAddr = "10.0.0.1:1"
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			rd.Handler(reached).ServeHTTP(w, r)
			if w.Code != http.StatusTeapot {
				t.Errorf("an https client got %d Location %q", w.Code, w.Header().Get("Location"))
			}
		})
	}
}
