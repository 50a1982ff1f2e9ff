package rbac_test

import (
	"testing"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/rbac"
)

// TestEchoStaticGuardBypasses replays the static route-guard bypasses of
// labstack/echo. In each, the router matched the rule on the escaped path
// while the handler behind it unescaped the path again, so a request
// spelled to miss "/admin/*" reached a file under /admin. The rule table
// here must refuse every such spelling rather than let it fall to a
// weaker rule.
func TestEchoStaticGuardBypasses(t *testing.T) {
	m := newMiddleware(t, rbac.Options{Rules: seedRules()})
	guest := principal("gina", "guest")
	tests := []struct {
		name   string
		target string
		id     *identity.Identity
		want   int
	}{
		// GHSA-vfp3-v2gw-7wfq (echo): an encoded separator right after a
		// guarded segment ("/admin%2fprivate.txt") did not match
		// "/admin/*" and was served from the admin folder.
		{"GHSA-vfp3-v2gw-7wfq encoded slash after the guarded segment", "/admin%2Fusers", nil, 400},
		{"GHSA-vfp3-v2gw-7wfq lower-case encoded slash", "/admin%2fusers", &guest, 400},
		{"GHSA-vfp3-v2gw-7wfq encoded backslash after the guarded segment", "/admin%5Cusers", nil, 400},
		{"GHSA-vfp3-v2gw-7wfq encoded slash past a public prefix", "/public/x/..%2F..%2Fadmin%2Fusers", nil, 400},
		// GHSA-v97q-3xf5-rj74 (echo): encoded empty segments, a singly or
		// doubly encoded leading slash, slipped past a guard on the
		// decoded path.
		{"GHSA-v97q-3xf5-rj74 encoded leading slash", "/%2Fadmin/users", nil, 400},
		{"GHSA-v97q-3xf5-rj74 doubly encoded leading slash", "/%252Fadmin/users", &guest, 400},
		{"GHSA-v97q-3xf5-rj74 encoded empty segment inside the path", "/admin/%2F/users", &guest, 400},
		{"GHSA-v97q-3xf5-rj74 doubly encoded empty segment after a public prefix", "/public/%252F..%252Fadmin/users", nil, 400},
		{"GHSA-v97q-3xf5-rj74 empty segments before the guarded one", "/public//..//admin/users", &guest, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := checkStatus(m, "GET", tt.target, tt.id)
			if got != tt.want {
				t.Errorf("GET %s: status %d (%v), want %d", tt.target, got, reason, tt.want)
			}
		})
	}
}
