package csrf_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

// An exemption naming a safe method exempts nothing a safe request needs:
// GET, HEAD and OPTIONS pass anyway. It would exempt only what the
// middleware checks such a request for, a _method override ("GET
// /account?_method=DELETE" from a forging page's link or image), so New
// refuses it.
func TestExemptionOfSafeMethodIsRefused(t *testing.T) {
	for _, method := range []string{"GET", "HEAD", "OPTIONS"} {
		p := method + " /account/{id}"
		m, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: p, Reason: "test"}}})
		if err == nil {
			r := httptest.NewRequest(method, "https://example.com/account/1?_method=DELETE", nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			if err := m.Check(r); err == nil {
				t.Errorf("%s: a cross-site %s with _method=DELETE passes", p, method)
			}
			continue
		}
		var oe *csrf.OptionError
		if !errors.As(err, &oe) || !errors.Is(err, csrf.ErrInvalidExemption) || oe.Field != "Exempt[0]" {
			t.Errorf("New with %q = %v, want an *OptionError for ErrInvalidExemption", p, err)
		}
	}
	if _, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: http.MethodPost + " /account/{id}", Reason: "test"}}}); err != nil {
		t.Errorf("New with a POST exemption: %v", err)
	}
}
