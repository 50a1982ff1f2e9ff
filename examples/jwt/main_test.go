package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"go/parser"
	"go/token"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/testenv"
)

func TestSigningKey(t *testing.T) {
	var notice bytes.Buffer
	if _, err := signingKey("", &notice); err != nil || !strings.Contains(notice.String(), "EPHEMERAL") {
		t.Fatalf("no loud warning for a generated key: %v %q", err, notice.String())
	}
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	k, err := signingKey(base64.RawURLEncoding.EncodeToString(seed), &notice)
	if err != nil || !bytes.Equal(k.Seed(), seed) {
		t.Fatalf("seed from env: %v", err)
	}
	if _, err := signingKey("c2hvcnQ", &notice); err == nil || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Fatalf("short seed: %v", err)
	}
}

func TestFlow(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	// The issuer follows -addr: tokens name the address served, not
	// a fixed 127.0.0.1:8080.
	h, err := newHandler(key, "demo password", issuerURL("127.0.0.1:9090", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(tok string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/me/", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := get(""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="api", resource_metadata="http://127.0.0.1:9090/.well-known/oauth-protected-resource"` {
		t.Fatalf("without token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	token := func(v url.Values) (int, map[string]any) {
		resp, err := http.PostForm(srv.URL+"/token", v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	code, body := token(url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {"demo"}, "password": {"demo password"}})
	if code != 200 {
		t.Fatalf("token: %d %v", code, body)
	}
	if iss := claim(t, body["access_token"].(string), "iss"); iss != "http://127.0.0.1:9090" {
		t.Errorf("iss = %v, want http://127.0.0.1:9090", iss)
	}
	resp := get(body["access_token"].(string))
	var me map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != 200 || me["username"] != "demo" {
		t.Fatalf("me: %d %v", resp.StatusCode, me)
	}
	// GET /users/me/ is that one path, not every path below it.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/me/alice", nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusNotFound {
		t.Errorf("/users/me/alice: %v %v, want 404", r.StatusCode, err)
	} else {
		r.Body.Close()
	}
	code, refreshed := token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {body["refresh_token"].(string)}})
	if tok, _ := refreshed["access_token"].(string); code != 200 || tok == "" {
		t.Fatalf("refresh: %d %v", code, refreshed)
	}
	// The refresh token was spent by its use: presented again, it is refused.
	if code, body := token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {body["refresh_token"].(string)}}); code != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("spent refresh token replayed: %d %v", code, body)
	}
	// The replay revoked the family: the successor is refused too, while
	// the access token issued with it lives until it expires.
	if code, body := token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {refreshed["refresh_token"].(string)}}); code != 400 || body["error"] != "invalid_grant" {
		t.Errorf("the successor of a replayed refresh token: %d %v, want 400 invalid_grant", code, body)
	}
	if resp := get(refreshed["access_token"].(string)); resp.StatusCode != 200 {
		t.Errorf("an access token of the revoked family: %d, want 200 until it expires", resp.StatusCode)
	}
	if code, _ := token(url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {"demo"}, "password": {"wrong"}}); code != 400 {
		t.Fatalf("wrong password: %d", code)
	}
	// A logout (RFC 7009): a fresh pair, revoked at /revoke, stops
	// working at once, the access token too.
	code, pair := token(url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {"demo"}, "password": {"demo password"}})
	if code != 200 {
		t.Fatalf("second login: %d %v", code, pair)
	}
	for _, kind := range []string{"refresh_token", "access_token"} {
		resp, err := http.PostForm(srv.URL+"/revoke", url.Values{"client_id": {clientID}, "token": {pair[kind].(string)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("revoking the %s: %d", kind, resp.StatusCode)
		}
	}
	if resp := get(pair["access_token"].(string)); resp.StatusCode != 401 {
		t.Errorf("a revoked access token: %d, want 401", resp.StatusCode)
	}
	if code, body := token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {pair["refresh_token"].(string)}}); code != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a revoked refresh token: %d %v, want 400 invalid_grant", code, body)
	}
	jwks, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil || jwks.StatusCode != 200 {
		t.Fatalf("jwks: %v", err)
	}
	jwks.Body.Close()
}

// A client that knows only the API's URL finds the token endpoint from
// the 401 alone: the challenge names the API's metadata (RFC 9728), which
// names the authorization server, whose metadata (RFC 8414) names the
// token endpoint; the token it gets there opens the API.
func TestDiscovery(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv := httptest.NewUnstartedServer(nil)
	iss := "http://" + srv.Listener.Addr().String()
	h, err := newHandler(key, "demo password", iss, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	defer srv.Close()

	getJSON := func(u string, v any, ctype ...string) {
		t.Helper()
		want := append(ctype, "application/json")[0]
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(srv.URL + "/users/me/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, metaURL, ok := strings.Cut(resp.Header.Get("WWW-Authenticate"), `resource_metadata="`)
	metaURL = strings.TrimSuffix(metaURL, `"`)
	if resp.StatusCode != 401 || !ok || metaURL != iss+"/.well-known/oauth-protected-resource" {
		t.Fatalf("401 without a metadata URL: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	var rm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Scopes               []string `json:"scopes_supported"`
		BearerMethods        []string `json:"bearer_methods_supported"`
	}
	getJSON(metaURL, &rm)
	// RFC 9728 §3.3: the resource is the identifier the metadata's
	// well-known URL was made from (iss: the API is the whole server).
	if rm.Resource != iss || len(rm.AuthorizationServers) != 1 || strings.Join(rm.BearerMethods, " ") != "header" || len(rm.Scopes) != 2 {
		t.Fatalf("resource metadata: %+v", rm)
	}
	var as struct {
		Issuer        string   `json:"issuer"`
		TokenEndpoint string   `json:"token_endpoint"`
		Revocation    string   `json:"revocation_endpoint"`
		JWKSURI       string   `json:"jwks_uri"`
		Grants        []string `json:"grant_types_supported"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	}
	getJSON(rm.AuthorizationServers[0]+"/.well-known/oauth-authorization-server", &as)
	// RFC 8414 §3.3: the issuer must be the one the client asked about.
	if as.Issuer != rm.AuthorizationServers[0] || as.TokenEndpoint != iss+"/token" || as.Revocation != iss+"/revoke" ||
		strings.Join(as.Grants, " ") != "password refresh_token" || strings.Join(as.AuthMethods, " ") != "none" {
		t.Fatalf("server metadata: %+v", as)
	}
	var jwks struct{ Keys []map[string]any }
	getJSON(as.JWKSURI, &jwks, "application/jwk-set+json")
	if len(jwks.Keys) != 1 {
		t.Fatalf("JWKS: %+v", jwks)
	}
	tr, err := http.PostForm(as.TokenEndpoint, url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {"demo"}, "password": {"demo password"}})
	if err != nil {
		t.Fatal(err)
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(tr.Body).Decode(&pair)
	tr.Body.Close()
	req, _ := http.NewRequest("GET", rm.Resource+"/users/me/", nil)
	req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the token from the discovered endpoint: %v %v", resp, err)
	}
}

// Ten wrong passwords for one user from one address lock that pair out,
// the right password included, with 429 and Retry-After. Each refusal,
// and that of a forged bearer token, is in the access log with its reason,
// and neither a password nor the token is.
func TestLockout(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	logs := new(testenv.LogBuffer)
	h, err := newHandler(key, "demo password", issuerURL("127.0.0.1:8080", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	login := func(pw string) *httptest.ResponseRecorder {
		form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {"demo"}, "password": {pw}}
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for i := range 10 {
		if w := login("guess-n0t-it"); w.Code != http.StatusBadRequest {
			t.Fatalf("wrong password %d: %d", i+1, w.Code)
		}
	}
	if w := login("demo password"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("the right password after ten failures: %d, Retry-After %q; want 429", w.Code, w.Header().Get("Retry-After"))
	}
	const forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZW1vIn0.forged-s1gnature"
	req := httptest.NewRequest(http.MethodGet, "/users/me/", nil)
	req.Header.Set("Authorization", "Bearer "+forged)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("forged token: %d, want 401", w.Code)
	}

	refused := map[int]int{}
	for _, rf := range logs.Refusals(t) {
		refused[rf.Status]++
	}
	if refused[400] != 10 || refused[429] != 1 || refused[401] != 1 {
		t.Errorf("access records of refusals by status: %v, want 10 of 400, 1 of 429, 1 of 401", refused)
	}
	for _, secret := range []string{"guess-n0t-it", "demo password", "demo+password", "forged-s1gnature", "eyJzdWIiOiJkZW1vIn0"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q: %s", secret, logs.String())
		}
	}
}

// claim returns the claim name of the JWT tok, not verified.
func claim(t *testing.T, tok, name string) any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims[name]
}

// The issuer is the -addr host with the port listened on: with port 0,
// the one the system chose.
func TestIssuerURL(t *testing.T) {
	for _, c := range []struct {
		addr  string
		bound *net.TCPAddr
		want  string
	}{
		{"127.0.0.1:8080", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{"localhost:9090", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}, "http://localhost:9090"},
		{"[::1]:8443", &net.TCPAddr{IP: net.IPv6loopback, Port: 8443}, "http://[::1]:8443"},
		{"127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 43210}, "http://127.0.0.1:43210"},
	} {
		if got := issuerURL(c.addr, c.bound); got != c.want {
			t.Errorf("issuerURL(%q, %s) = %q, want %q", c.addr, c.bound, got, c.want)
		}
	}
}

// This server speaks plain HTTP and takes passwords: an address off
// loopback is refused, not served in clear.
func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080":    true,
		"[::1]:8080":        true,
		"localhost:8080":    true,
		":8080":             false,
		"0.0.0.0:8080":      false,
		"[::]:8080":         false,
		"192.168.1.10:8080": false,
		"example.com:8080":  false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want accepted %v", addr, err, ok)
		}
	}
}

// The comment's commands keep the tokens in shell variables: a file under
// /tmp is readable by every user of the machine, who can also reach this
// loopback server and refresh a token read there.
func TestCommentKeepsTokensOutOfTmp(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		if strings.HasPrefix(line, "\t") && strings.Contains(line, "/tmp/") {
			t.Errorf("the comment keeps a token under /tmp: %s", line)
		}
	}
}
