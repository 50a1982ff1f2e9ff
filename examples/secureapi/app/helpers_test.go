package app_test

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/testenv"
)

// The tests hash passwords with the cheapest argon2id parameters the
// password package allows, so that each costs microseconds.
var weak = password.MustNew(password.Options{Params: password.Params{Memory: 8, Time: 1}, DangerouslyAllowWeakParams: true})

const testPassword = "correct horse battery staple"

// testUsers returns alice (admin), bob (user), carol (guest) and dave
// (user, to be deleted), all with testPassword.
func testUsers(t testing.TB) *auth.MemoryUsers {
	t.Helper()
	users := auth.NewMemoryUsers()
	for _, u := range []struct{ name, role string }{{"alice", app.RoleAdmin}, {"bob", app.RoleUser}, {"carol", app.RoleGuest}, {"dave", app.RoleUser}} {
		h, err := weak.Hash(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := users.Add(u.name, auth.User{Hash: h, Identity: identity.Options{Roles: []string{u.role}, Scopes: app.ScopesFor(u.role)}}); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

// logBuffer collects the JSON log, safe for concurrent writes.
type logBuffer struct{ testenv.LogBuffer }

// records returns the log records whose message is msg.
func (b *logBuffer) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range b.Records(t) {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// access returns the access record of the request with ID id. The record
// is written once the handler has returned, which can be after the client
// has read the response, so it waits for it a little.
func (b *logBuffer) access(t testing.TB, id string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		for _, rec := range b.records(t, "http request") {
			if rec["request_id"] == id {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access record for request %q in\n%s", id, b)
			return nil
		}
	}
}

// testServer is one secureapi instance behind httptest.
type testServer struct {
	*httptest.Server
	log *logBuffer
}

// newConfig returns a valid configuration with generous rate limits,
// which tests adjust.
func newConfig(t testing.TB, logs io.Writer) app.Config {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	csrfKey := make([]byte, 32)
	_, _ = rand.Read(csrfKey)
	return app.Config{
		Logger:         slog.New(errorsafe.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		SigningKey:     key,
		CSRFKey:        csrfKey,
		Users:          testUsers(t),
		Hasher:         weak,
		RequestRate:    10000,
		CredentialRate: 10000,
		DemoPanic:      true,
	}
}

func startWith(t testing.TB, cfg app.Config, logs *logBuffer) *testServer {
	t.Helper()
	h, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.DisableGeneralOptionsHandler = true // as command secureapi serves it
	srv.Start()
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, log: logs}
}

// onInstances runs test, as parallel subtests, on one instance with memory
// stores and on two instances of one service sharing a private Redis,
// each configured by change (nil for none) and logging to logs.
func onInstances(t *testing.T, change func(*app.Config), test func(t *testing.T, servers []*testServer, logs *logBuffer)) {
	t.Helper()
	for _, shared := range []bool{false, true} {
		name := "memory"
		if shared {
			name = "redis, two instances"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Instances of one service share keys and users.
			logs := new(logBuffer)
			cfg := newConfig(t, logs)
			if change != nil {
				change(&cfg)
			}
			if shared {
				rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
				t.Cleanup(func() { rdb.Close() })
				cfg.Redis = rdb
			}
			servers := []*testServer{startWith(t, cfg, logs)}
			if shared {
				servers = append(servers, startWith(t, cfg, logs))
			}
			test(t, servers, logs)
		})
	}
}

func start(t testing.TB, change func(*app.Config)) *testServer {
	t.Helper()
	logs := new(logBuffer)
	cfg := newConfig(t, logs)
	if change != nil {
		change(&cfg)
	}
	return startWith(t, cfg, logs)
}

// response is a request's outcome, body read.
type response struct {
	*http.Response
	body []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%d body is not JSON: %q", r.StatusCode, r.body)
	}
	return m
}

// client makes requests to a server, optionally with a cookie jar.
type client struct {
	t      testing.TB
	base   string
	hc     *http.Client
	header http.Header // added to every request
}

func (s *testServer) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: s.URL, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, header: http.Header{}}
}

func (c *client) do(method, path string, body io.Reader, hdr ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	maps.Copy(req.Header, c.header)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp, b}
}

// raw sends method with the request target as is, which http.Client
// cannot do for "*", and host as the Host header ("" for the server's
// address).
func (c *client) raw(method, target, host string) response {
	c.t.Helper()
	addr := strings.TrimPrefix(c.base, "http://")
	if host == "" {
		host = addr
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n", method, target, host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp, b}
}

func (c *client) get(path string, hdr ...string) response { return c.do("GET", path, nil, hdr...) }

func (c *client) postForm(path string, form url.Values, hdr ...string) response {
	return c.do("POST", path, strings.NewReader(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
}

func (c *client) postJSON(path, body string, hdr ...string) response {
	return c.do("POST", path, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, hdr...)...)
}

// token asks POST /token for a password grant; scope may be empty.
func (c *client) token(user, pw, scope string, hdr ...string) response {
	form := url.Values{"grant_type": {"password"}, "client_id": {app.ClientID}, "username": {user}, "password": {pw}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return c.postForm("/token", form, hdr...)
}

// bearer returns an access token for user with all of its scopes.
func (c *client) bearer(user string) string {
	c.t.Helper()
	r := c.token(user, testPassword, "")
	if r.StatusCode != http.StatusOK {
		c.t.Fatalf("token for %s: %d %s", user, r.StatusCode, r.body)
	}
	return r.json(c.t)["access_token"].(string)
}

var tokenField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// requestIDField is the request ID of a log record.
var requestIDField = regexp.MustCompile(`"request_id":"[^"]*"`)

// csrfToken loads the page, which sets the CSRF cookie, and returns the
// token of its form.
func (c *client) csrfToken() string {
	c.t.Helper()
	r := c.get("/")
	m := tokenField.FindSubmatch(r.body)
	if r.StatusCode != http.StatusOK || m == nil {
		c.t.Fatalf("page: %d, no token in %q", r.StatusCode, r.body)
	}
	return string(m[1])
}

// login signs user in through the form, as a browser does.
func (c *client) login(user, pw string) response {
	c.t.Helper()
	tok := c.csrfToken()
	return c.postForm("/login", url.Values{"csrf_token": {tok}, "username": {user}, "password": {pw}}, "Origin", c.base, "Sec-Fetch-Site", "same-origin")
}

// sessionClient returns a client signed in as user.
// wrongPasswordOn holds, for each route that takes a password, a request
// with a wrong one for bob.
var wrongPasswordOn = map[string]func(c *client) response{
	"POST /token": func(c *client) response { return c.token("bob", "wrong", "") },
	"POST /login": func(c *client) response { return c.login("bob", "wrong") },
	"GET /secure-data/": func(c *client) response {
		return c.get("/secure-data/", "Authorization", "Basic "+basic("bob", "wrong"))
	},
}

func (s *testServer) sessionClient(t testing.TB, user string) *client {
	t.Helper()
	c := s.client(t)
	if r := c.login(user, testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d %s", user, r.StatusCode, r.body)
	}
	return c
}

// trustLoopback is a resolver that believes X-Forwarded-For from the
// test's own address, as from a proxy on this machine.
func trustLoopback(t testing.TB) *clientip.Resolver {
	t.Helper()
	rv, err := clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	return rv
}
