package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenEndpoint posts arbitrary bodies, content types and
// Authorization headers: the endpoint never panics and never answers 500,
// every answer is RFC 6749 JSON with Cache-Control: no-store, an error
// code from §5.2 (or slow_down, temporarily_unavailable) on failure, and a
// success only for the fixture's real credentials.
func FuzzTokenEndpoint(f *testing.F) {
	f.Add("grant_type=password&username=alice&password=correct+horse&client_id=web", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=client_credentials", "application/x-www-form-urlencoded", "Basic YmF0Y2g6YmF0Y2glMjBzZWNyZXQlMkYlMkIlM0Q=")
	f.Add("grant_type=refresh_token&refresh_token=x&client_id=web", "application/x-www-form-urlencoded; charset=utf-8", "")
	f.Add("grant_type=password&grant_type=password", "application/x-www-form-urlencoded", "Basic !!")
	f.Add("%zz", "application/x-www-form-urlencoded", "")
	f.Add(`{"grant_type":"password"}`, "application/json", "")
	fx := newOAuth(f, nil)
	codes := map[string]bool{"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
		"unsupported_grant_type": true, "invalid_scope": true, "slow_down": true, "temporarily_unavailable": true}
	f.Fuzz(func(t *testing.T, body, ctype, authz string) {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		w := httptest.NewRecorder()
		fx.ep.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d", w.Code)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("response without Cache-Control: no-store")
		}
		var resp map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("body not JSON: %q", w.Body)
		}
		if w.Code == 200 {
			if resp["access_token"] == nil || resp["token_type"] != "Bearer" {
				t.Fatalf("success without a token: %v", resp)
			}
			return
		}
		if c, _ := resp["error"].(string); !codes[c] {
			t.Fatalf("error code %q", c)
		}
	})
}
