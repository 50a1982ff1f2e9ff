package httpguard_test

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

	"github.com/httpguard/httpguard"
	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/sanitize"
)

// cheapHasher hashes with tiny parameters so that the tests run quickly.
var cheapHasher = password.MustNew(password.Options{
	Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
	DangerouslyAllowWeakParams: true,
})

// The OAuth2 token endpoint behind csrf in token mode, with the csrf token
// sent in the form as a page's login form does: csrf parses the form to
// read its field, and the endpoint must read that parsed form, not the
// consumed body (it answered 401 invalid_client).
func TestTokenEndpointBehindCSRFTokens(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: key}, Issuer: "https://api.example", Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	users := auth.NewMemoryUsers()
	hash, err := cheapHasher.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("alice", auth.User{Hash: hash}); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer: iss, Users: users, Hasher: cheapHasher,
		Clients: []auth.Client{{ID: "web", Public: true, Grants: []string{auth.GrantPassword}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /token", tokens)
	_, post := csrfPage(t, mux)
	res := post("/token", url.Values{
		"grant_type": {"password"}, "client_id": {"web"},
		"username": {"alice"}, "password": {"correct horse"},
	})
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("status %d, error %q; want 200 with an access token", res.StatusCode, body.Error)
	}
}

// csrfPage returns a server with csrf in token mode in front of mux, which
// gets GET /page answering a token, and a function that posts form to path
// with that token in it, the token cookie and no Content-Length.
func csrfPage(t *testing.T, mux *http.ServeMux) (*httptest.Server, func(path string, form url.Values) *http.Response) {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: key, Always: true, DangerouslyAllowInsecureCookie: true}})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, csrf.Token(r))
	})
	quiet := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(httpguard.Chain(errorsafe.MustNew(errorsafe.Options{Logger: quiet}).Handler, p.Handler)(mux))
	t.Cleanup(srv.Close)
	return srv, func(path string, form url.Values) *http.Response {
		t.Helper()
		page, err := srv.Client().Get(srv.URL + "/page")
		if err != nil {
			t.Fatal(err)
		}
		token, _ := io.ReadAll(page.Body)
		page.Body.Close()
		form.Set("csrf_token", string(token))
		// A reader of unknown length: the body is sent chunked.
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, io.NopCloser(strings.NewReader(form.Encode())))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		for _, c := range page.Cookies() {
			req.AddCookie(c)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
}

// A route's sanitize.BodyLimit behind csrf in token mode: csrf parses the
// form (up to its MaxFormBytes, 1 MiB by default) before the limit runs,
// and a form sent without a Content-Length reached the handler whatever
// the route's limit.
func TestBodyLimitBehindCSRFTokens(t *testing.T) {
	t.Parallel()
	limit, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: 1 << 10, ContentTypes: []string{"application/x-www-form-urlencoded"}})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	mux := http.NewServeMux()
	mux.Handle("POST /comment", limit.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = len(r.FormValue("body"))
	})))
	_, post := csrfPage(t, mux)
	if res := post("/comment", url.Values{"body": {"hello"}}); res.StatusCode != http.StatusOK || got != 5 {
		t.Fatalf("a small form: status %d, handler read %d bytes; want 200 and 5", res.StatusCode, got)
	}
	got = 0
	if res := post("/comment", url.Values{"body": {strings.Repeat("x", 100<<10)}}); res.StatusCode != http.StatusRequestEntityTooLarge || got != 0 {
		t.Errorf("a 100 KiB form past a 1 KiB limit: status %d, handler read %d bytes; want 413 before the handler", res.StatusCode, got)
	}
}
