package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	f.Add("grant_type=client_credentials&client_id=batch&client_secret=batch+secret%2F%2B%3D", "application/x-www-form-urlencoded", "")
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
			// Only the fixture's real credentials succeed: a user's
			// password, or the batch client's secret; no refresh token
			// exists to be guessed.
			form, _ := url.ParseQuery(body)
			switch form.Get("grant_type") {
			case "password":
				user, pw := form.Get("username"), form.Get("password")
				if !(user == "alice" && pw == "correct horse") && !(user == "bob" && pw == "battery staple") {
					t.Fatalf("a password grant succeeded for %q with %q", user, pw)
				}
			case "client_credentials":
				id, secret, basic := r.BasicAuth()
				if basic {
					id, _ = url.QueryUnescape(id)
					secret, _ = url.QueryUnescape(secret)
				} else { // client_secret_post
					id, secret = form.Get("client_id"), form.Get("client_secret")
				}
				if id != "batch" || secret != "batch secret/+=" {
					t.Fatalf("a client credentials grant succeeded for %q with %q", id, secret)
				}
			default:
				t.Fatalf("grant %q succeeded: %s", form.Get("grant_type"), w.Body)
			}
			return
		}
		if c, _ := resp["error"].(string); !codes[c] {
			t.Fatalf("error code %q", c)
		}
	})
}
