package csrf_test

import (
	"errors"
	"testing"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/csrf"
)

// Found in review: with a PublicOrigin written in a form browsers do not
// send, the Origin fallback rejected every same-origin request, while the
// HTTPS redirect sent browsers to the very origin csrf then refused.
// clientip now keeps the browser's form, or refuses the value.
func TestPublicOriginMatchesBrowserOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct{ public, browserOrigin, host string }{
		{"https://[2001:DB8:0:0::1]", "https://[2001:db8::1]", "[2001:db8::1]"},
		{"https://Example.com:443/", "https://example.com", "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.public, func(t *testing.T) {
			m, err := csrf.New(csrf.Options{ClientIP: clientip.MustNew(clientip.Options{PublicOrigin: tt.public})})
			if err != nil {
				t.Fatal(err)
			}
			r := req{target: "https://" + tt.host + "/transfer", headers: [][2]string{origin(tt.browserOrigin)}}.build()
			if err := m.Check(r); err != nil {
				t.Errorf("same-origin POST with Origin %q: %v (errors.Is ErrOriginMismatch: %v)", tt.browserOrigin, err, errors.Is(err, csrf.ErrOriginMismatch))
			}
		})
	}
}
