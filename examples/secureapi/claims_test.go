package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/internal/testenv"
)

// The tests in this file each pin a promise of the package comment, the
// flags' usage strings or the README's secureapi section that no other
// test held.

// TestDocumentedFlagDefaults: the defaults the usage strings and the
// README's table give.
func TestDocumentedFlagDefaults(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][2]any{
		"-addr":         {o.addr, "127.0.0.1:8080"},
		"-http-addr":    {o.httpAddr, "127.0.0.1:8081"},
		"-request-rate": {o.requestRate, 20},
		"-token-rate":   {o.tokenRate, 30},
		"-log-flush":    {o.logFlush, 100 * time.Millisecond},
		"-tls-dev":      {o.tlsDev, false},
		"-demo-panic":   {o.demoPanic, false},
		"-redis":        {o.redisURL, ""},
		"-users":        {o.usersFile, ""},
		"-cert":         {o.certFile, ""},
	} {
		if got[0] != got[1] {
			t.Errorf("%s defaults to %v, documented as %v", name, got[0], got[1])
		}
	}
	for _, v := range []string{"0", "-1"} {
		var msg bytes.Buffer
		if _, err := parseFlags([]string{"-request-rate", v}, &msg); err == nil || !strings.Contains(msg.String(), "-request-rate") {
			t.Errorf("-request-rate %s: %v, %q; want it refused", v, err, msg.String())
		}
	}
}

// serveLocal serves req on h as a client on this machine reaching
// localhost:8080, as the curl lines of the package comment do.
func serveLocal(h http.Handler, method, path string, body io.Reader, hdr ...string) *http.Response {
	req := httptest.NewRequest(method, "http://localhost:8080"+path, body)
	req.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

// TestFlagsReachTheServer: the flags that shape the server take effect
// in the handler setup builds, not only in the options.
func TestFlagsReachTheServer(t *testing.T) {
	t.Parallel()
	users := usersFile(t, "pw")
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, h http.Handler)
	}{
		{"-request-rate 1: a burst of two", []string{"-request-rate", "1"}, func(t *testing.T, h http.Handler) {
			var codes []int
			for range 3 {
				codes = append(codes, serveLocal(h, "GET", "/healthz", nil).StatusCode)
			}
			if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
				t.Errorf("three requests: %v, want 200 200 429", codes)
			}
		}},
		{"-demo-panic serves GET /panic", []string{"-demo-panic"}, func(t *testing.T, h http.Handler) {
			if r := serveLocal(h, "GET", "/panic", nil); r.StatusCode != 500 {
				t.Errorf("GET /panic: %d, want 500", r.StatusCode)
			}
		}},
		{"no GET /panic without -demo-panic", nil, func(t *testing.T, h http.Handler) {
			if r := serveLocal(h, "GET", "/panic", nil); r.StatusCode != 404 {
				t.Errorf("GET /panic: %d, want 404", r.StatusCode)
			}
		}},
		{"-cors-origin", []string{"-cors-origin", "https://app.example.com"}, func(t *testing.T, h http.Handler) {
			r := serveLocal(h, "OPTIONS", "/users/me/", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
			if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
				t.Errorf("preflight from the origin: %d, Access-Control-Allow-Origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
		}},
		{"no CORS without -cors-origin", nil, func(t *testing.T, h http.Handler) {
			r := serveLocal(h, "GET", "/healthz", nil, "Origin", "https://app.example.com")
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, inst := newInstance(t, append(tt.args, "-users", users)...)
			tt.check(t, inst.handler)
		})
	}
}

// TestPackageCommentWalkthrough replays the curl lines of the package
// comment (and of the README's secureapi section), with the demo users of
// SECUREAPI_DEMO_PASSWORD, and checks the outcome each line's comment
// gives.
func TestPackageCommentWalkthrough(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	srv := serveInstance(t, env(map[string]string{envDemoPassword: pw}))
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// curl sends Host: localhost:8080, no Origin and no Fetch Metadata;
	// with -d, a form.
	curl := func(withJar bool, method, path string, form url.Values, hdr ...string) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, srv.URL+path, body)
		req.Host = "localhost:8080"
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		u, _ := url.Parse(srv.URL)
		if withJar {
			for _, c := range jar.Cookies(u) {
				req.AddCookie(c)
			}
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if withJar {
			jar.SetCookies(u, resp.Cookies())
		}
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	r, body := curl(false, "POST", "/token", url.Values{"grant_type": {"password"}, "client_id": {"secureapi-cli"}, "username": {"bob"}, "password": {pw}})
	token := regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(body)
	if r.StatusCode != 200 || token == nil {
		t.Fatalf("POST /token for bob: %d %s", r.StatusCode, body)
	}
	bearer := "Bearer " + token[1]
	if r, body := curl(false, "GET", "/users/me/", nil, "Authorization", bearer); r.StatusCode != 200 ||
		body != `{"roles":["user"],"scopes":["items:read","profile:read","profile:write"],"username":"bob"}`+"\n" {
		t.Errorf("GET /users/me/: %d %s, want bob, user, his scopes", r.StatusCode, body)
	}
	if r, _ := curl(false, "GET", "/users/alice", nil, "Authorization", bearer); r.StatusCode != 403 {
		t.Errorf("GET /users/alice with bob's token: %d, want 403", r.StatusCode)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/comment/", strings.NewReader(`{"body":"<b>hi</b><script>alert(1)</script>"}`))
	req.Host = "localhost:8080"
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"body":"\u003cb\u003ehi\u003c/b\u003e"}`+"\n" {
		t.Errorf("POST /comment/: %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/secure-data/", nil)
	req.Host = "localhost:8080"
	req.SetBasicAuth("bob", pw)
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /secure-data/ with HTTP Basic: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// The browser session.
	field := regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	csrf := func() string {
		t.Helper()
		_, page := curl(true, "GET", "/", nil)
		m := field.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no csrf_token in the page: %s", page)
		}
		return m[1]
	}
	if r, _ := curl(true, "POST", "/login", url.Values{"csrf_token": {csrf()}, "username": {"alice"}, "password": {pw}}); r.StatusCode != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("POST /login: %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
	}
	if r, body := curl(true, "GET", "/data", nil); r.StatusCode != 200 || !strings.Contains(body, `"username":"alice"`) {
		t.Errorf("GET /data with the session: %d %s", r.StatusCode, body)
	}
	if r, _ := curl(true, "DELETE", "/users/carol", nil); r.StatusCode != 204 {
		t.Errorf("DELETE /users/carol with alice's session: %d, want 204", r.StatusCode)
	}
	if r, _ := curl(true, "POST", "/logout", url.Values{"csrf_token": {csrf()}}, "Origin", "https://evil.example"); r.StatusCode != 403 {
		t.Errorf("POST /logout from https://evil.example: %d, want 403", r.StatusCode)
	}
	if r, _ := curl(true, "POST", "/logout", url.Values{"csrf_token": {csrf()}}); r.StatusCode != 303 {
		t.Errorf("POST /logout: %d, want 303", r.StatusCode)
	}
	if r, _ := curl(true, "GET", "/data", nil); r.StatusCode != 401 {
		t.Errorf("GET /data after the logout: %d, want 401", r.StatusCode)
	}
}

// TestRedisRequiresSharedSecrets: with -redis or SECUREAPI_REDIS_URL,
// both keys and the demo password (or -users) are required, so that every
// instance agrees; a generated key or random passwords are refused.
func TestRedisRequiresSharedSecrets(t *testing.T) {
	addr := testenv.Redis(t)
	redisURL := "redis://" + addr + "/0"
	all := map[string]string{envSigningKey: randomHex(32), envCSRFKey: randomHex(32), envDemoPassword: "shared demo password"}
	without := func(name string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			if k != name {
				m[k] = v
			}
		}
		return m
	}
	for _, fromEnv := range []bool{false, true} {
		for _, tt := range []struct {
			name string
			vars map[string]string
			ok   bool
		}{
			{"everything", all, true},
			{"no " + envSigningKey, without(envSigningKey), false},
			{"no " + envCSRFKey, without(envCSRFKey), false},
			{"no " + envDemoPassword, without(envDemoPassword), false},
		} {
			var args []string
			vars := maps.Clone(tt.vars)
			if fromEnv {
				vars[envRedisURL] = redisURL
			} else {
				args = []string{"-redis", redisURL}
			}
			o, err := parseFlags(args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			inst, err := setup(o, env(vars), &out, jsonLogger(io.Discard))
			if err == nil {
				inst.close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("Redis from the environment %v, %s: %v, want accepted %v", fromEnv, tt.name, err, tt.ok)
			}
			if out.Len() > 0 {
				t.Errorf("Redis from the environment %v, %s: random passwords printed", fromEnv, tt.name)
			}
		}
	}
}

// TestDemoPasswordLength: SECUREAPI_DEMO_PASSWORD needs at least 12
// characters, counted as characters, not bytes.
func TestDemoPasswordLength(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		strings.Repeat("a", 11): false,
		strings.Repeat("a", 12): true,
		strings.Repeat("é", 11): false, // 22 bytes
		strings.Repeat("é", 12): true,
	} {
		_, err := users("", env(map[string]string{envDemoPassword: pw}), nil, false, io.Discard, jsonLogger(io.Discard))
		if (err == nil) != ok {
			t.Errorf("%d characters (%d bytes): %v, want accepted %v", len([]rune(pw)), len(pw), err, ok)
		}
	}
}

// TestHashPassword: -hash-password reads a password from the first line
// of stdin and prints its argon2id hash at the default parameters, which
// a -users file accepts. Not parallel: it replaces os.Stdin and
// os.Stdout.
func TestHashPassword(t *testing.T) {
	run := func(stdin string) (string, error) {
		t.Helper()
		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		oldIn, oldOut := os.Stdin, os.Stdout
		os.Stdin, os.Stdout = inR, outW
		defer func() { os.Stdin, os.Stdout = oldIn, oldOut }()
		go func() { _, _ = io.WriteString(inW, stdin); inW.Close() }()
		err = printHash()
		outW.Close()
		printed, _ := io.ReadAll(outR)
		inR.Close()
		outR.Close()
		return string(printed), err
	}
	for _, stdin := range []string{"a long enough password\n", "a long enough password\r\nnot this line\n", "a long enough password"} {
		printed, err := run(stdin)
		hash := strings.TrimSuffix(printed, "\n")
		if err != nil || !strings.HasPrefix(hash, "$argon2id$") || strings.Count(printed, "\n") != 1 {
			t.Fatalf("stdin %q: %q, %v", stdin, printed, err)
		}
		if ok, rehash, err := password.Verify("a long enough password", hash); !ok || rehash || err != nil {
			t.Errorf("stdin %q: the hash verifies %v, needs a rehash %v, %v; want a hash of the first line at the default parameters", stdin, ok, rehash, err)
		}
		file := filepath.Join(t.TempDir(), "users.json")
		if err := os.WriteFile(file, []byte(`{"users":[{"username":"ann","role":"admin","hash":"`+hash+`"}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := users(file, env(nil), nil, false, io.Discard, jsonLogger(io.Discard)); err != nil {
			t.Errorf("a -users file with the printed hash: %v", err)
		}
	}
	if printed, err := run(""); err == nil || printed != "" {
		t.Errorf("empty stdin: %q, %v; want an error", printed, err)
	}
}

// TestTLSDevListeners: with -tls-dev, HTTPS is served on -addr and plain
// HTTP on -http-addr is redirected to it; with -http-addr "" there is no
// plain listener.
func TestTLSDevListeners(t *testing.T) {
	t.Parallel()
	users := usersFile(t, "pw")
	for _, plain := range []bool{true, false} {
		// Two distinct ports: two calls of FreePort can return the same
		// one, and the second listener then fails.
		ports := testenv.FreePorts(t, 2)
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		httpAddr := ""
		if plain {
			httpAddr = "127.0.0.1:" + strconv.Itoa(ports[1])
		}
		o, inst := newInstance(t, "-tls-dev", "-addr", addr, "-http-addr", httpAddr, "-users", users)
		var log syncBuffer
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- serve(ctx, o, inst, jsonLogger(&log)) }()
		hc := &http.Client{
			Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the development certificate
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		get := func(u string) (*http.Response, error) {
			var resp *http.Response
			var err error
			for range 100 { // until the server listens
				if resp, err = hc.Get(u); err == nil {
					resp.Body.Close()
					return resp, nil
				}
				time.Sleep(20 * time.Millisecond)
			}
			return nil, err
		}
		_, port, _ := net.SplitHostPort(addr)
		if r, err := get("https://localhost:" + port + "/healthz"); err != nil || r.StatusCode != 200 || r.TLS == nil {
			t.Errorf("HTTPS on -addr: %v %v", r, err)
		}
		if plain {
			r, err := get("http://" + httpAddr + "/users/me/")
			if err != nil || r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "https://localhost:"+port+"/users/me/" {
				t.Errorf("plain HTTP on -http-addr: %v %v, want 301 to https://localhost:%s/users/me/", r, err, port)
			}
		} else if strings.Contains(log.String(), "redirecting plain HTTP") {
			t.Errorf("-http-addr \"\": a plain listener was started: %s", log.String())
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		hc.CloseIdleConnections()
	}
}

// TestKeyLengths: SECUREAPI_CSRF_KEY takes at least 64 hex digits, more
// too; SECUREAPI_SIGNING_KEY exactly 64.
func TestKeyLengths(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		bytes int
		ok    bool
	}{
		{envCSRFKey, 31, false}, {envCSRFKey, 32, true}, {envCSRFKey, 48, true},
		{envSigningKey, 31, false}, {envSigningKey, 32, true}, {envSigningKey, 33, false},
	} {
		_, err := key(env(map[string]string{tt.name: randomHex(tt.bytes)}), tt.name, 32, false, jsonLogger(io.Discard))
		if (err == nil) != tt.ok {
			t.Errorf("%s of %d hex digits: %v, want accepted %v", tt.name, 2*tt.bytes, err, tt.ok)
		}
	}
}

// TestRedisURLForms: rediss:// and a password with its special
// characters percent-encoded are well-formed: they fail to connect (no
// Redis on port 1), not as malformed URLs.
func TestRedisURLForms(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"rediss://127.0.0.1:1/0",
		"redis://:hun%23ter%2F2%3F%40@127.0.0.1:1/0",
	} {
		_, err := connectRedis(u)
		if err == nil || errors.Is(err, errBadRedisURL) || !strings.Contains(err.Error(), "cannot connect") {
			t.Errorf("%s: %v, want a failed connection", u, err)
		}
	}
}
