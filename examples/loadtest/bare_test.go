package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/identity"
)

// The baseline answers the requests the generator sends, and their
// near misses, with the statuses secureapi gives them, so that the two
// runs of a comparison do the same work and their reports mean the same.
func TestBareMuxAnswersAsSecureapi(t *testing.T) {
	weak := password.MustNew(password.Options{Params: password.Params{Memory: 8, Time: 1}, DangerouslyAllowWeakParams: true})
	users := auth.NewMemoryUsers()
	accounts := map[string]string{"alice": roleAdmin, "bob": roleUser, "carol": roleGuest}
	for name, role := range accounts {
		h, err := weak.Hash(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := users.Add(name, auth.User{Hash: h, Identity: identity.Options{Roles: []string{role}, Scopes: app.ScopesFor(role)}}); err != nil {
			t.Fatal(err)
		}
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	csrfKey := make([]byte, 32)
	_, _ = rand.Read(csrfKey)
	secure, err := app.New(app.Config{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), SigningKey: key, CSRFKey: csrfKey,
		Users: users, Hasher: weak, RequestRate: 100000, CredentialRate: 100000, TokenRate: 100000,
	})
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]http.Handler{"secureapi": secure, "bare": newBareMux(accounts, testPassword)}

	type request struct{ who, method, path, body string }
	requests := []request{
		{"", "POST", "/token", "grant_type=password&client_id=secureapi-cli&username=bob&password=wrong"},
		{"", "POST", "/token", "grant_type=password&client_id=secureapi-cli&username=nobody&password=" + url.QueryEscape(testPassword)},
		{"", "POST", "/token", "grant_type=password&client_id=other-cli&username=bob&password=" + url.QueryEscape(testPassword)},
		{"", "POST", "/token", "grant_type=implicit&client_id=secureapi-cli&username=bob&password=" + url.QueryEscape(testPassword)},
		{"", "GET", "/users/me/", ""},
		{"nobody", "GET", "/users/me/", ""},
		{"", "GET", "/items/1", ""},
	}
	for _, who := range []string{"alice", "bob", "carol"} {
		requests = append(requests,
			request{who, "GET", "/users/me/", ""},
			request{who, "GET", "/items/1", ""},
			request{who, "GET", "/items/100", ""},
			request{who, "GET", "/items/0", ""},
			request{who, "GET", "/items/101", ""},
			request{who, "GET", "/items/007", ""},
			request{who, "GET", "/items/+7", ""},
			request{who, "GET", "/items/x", ""},
			request{who, "POST", "/comment/", `{"body":"<b>hi</b><script>x</script>"}`},
			request{who, "POST", "/comment/", `{"body":""}`},
			request{who, "DELETE", "/users/loadtest-ghost-1", ""},
		)
	}
	tokens := map[string]map[string]string{}
	for name, h := range servers {
		tokens[name] = map[string]string{"nobody": "not-a-token"}
		for _, who := range []string{"alice", "bob", "carol"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/token", strings.NewReader(string(passwordGrant("secureapi-cli", who, testPassword))))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			h.ServeHTTP(rec, req)
			var tr tokenResponse
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &tr) != nil || tr.AccessToken == "" {
				t.Fatalf("%s: login of %s: %d %s", name, who, rec.Code, rec.Body)
			}
			tokens[name][who] = tr.AccessToken
		}
	}
	for _, r := range requests {
		got := map[string]int{}
		for name, h := range servers {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
			req.RemoteAddr = "127.0.0.1:1234"
			switch {
			case r.path == "/token":
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			case r.body != "":
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Accept", "application/json")
			if r.who != "" {
				req.Header.Set("Authorization", "Bearer "+tokens[name][r.who])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got[name] = rec.Code
		}
		if got["bare"] != got["secureapi"] {
			t.Errorf("%s %s %s as %q: bare %d, secureapi %d", r.method, r.path, r.body, r.who, got["bare"], got["secureapi"])
		}
	}
}
