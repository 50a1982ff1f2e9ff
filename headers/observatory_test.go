package headers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/headers/internal/observatory"
)

// TestObservatoryGrade grades the presets' responses, fetched over TLS from
// a real server, under the published HTTP Observatory rules (see package
// internal/observatory) and shows the result with go test -v.
func TestObservatoryGrade(t *testing.T) {
	tests := []struct {
		name      string
		opts      headers.Options
		body      string
		mediaType string
		wantScore int
	}{
		// 100 + CSP default-src 'none' (10) + frame-ancestors (5) +
		// Referrer-Policy (5) + CORP (10).
		{"API preset", headers.API(), `{"ok":true}`, "application/json", 130},
		{"HTML preset", headers.HTML(), `<!doctype html><script nonce="N" src="/app.js"></script>`, "text/html; charset=utf-8", 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, tt.opts)
			srv := httptest.NewTLSServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.mediaType)
				_, _ = io.WriteString(w, tt.body)
			})))
			defer srv.Close()
			res, err := srv.Client().Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			u, _ := url.Parse(srv.URL + "/")
			rep := observatory.Grade(observatory.Input{
				URL: u, Status: res.StatusCode, Header: res.Header, Body: body,
				// The https package's redirect answers plain HTTP with a
				// same-host redirect; its own tests check that.
				HTTPRedirect: &http.Response{StatusCode: http.StatusMovedPermanently, Header: http.Header{"Location": {"https://" + u.Host + "/"}}},
			})
			t.Logf("HTTP Observatory (offline) for the %s:\n%s", tt.name, rep)
			if rep.Grade != "A+" || rep.Score != tt.wantScore {
				t.Errorf("grade %s (%d), want A+ (%d)", rep.Grade, rep.Score, tt.wantScore)
			}
			for _, test := range rep.Tests {
				if test.Modifier < 0 {
					t.Errorf("penalty: %s %s (%d)", test.Name, test.Result, test.Modifier)
				}
			}
		})
	}
}
