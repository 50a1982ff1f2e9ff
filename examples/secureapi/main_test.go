package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/testenv"
)

// syncBuffer is a log sink safe for concurrent writes that counts them.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

// Writes returns how many writes were made.
func (s *syncBuffer) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func jsonLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-cors-origin", "https://a.example", "-cors-origin", "https://b.example", "-trust-proxy", "10.0.0.0/8", "-demo-panic"}, io.Discard)
	if err != nil || len(o.corsOrigins) != 2 || len(o.trustProxies) != 1 || !o.demoPanic || o.addr != "127.0.0.1:8080" {
		t.Fatalf("%+v %v", o, err)
	}
	for _, args := range [][]string{{"-trust-proxy", "10.0.0.1"}, {"extra"}, {"-nope"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// TestTokenRateFlag: -token-rate sets the budget of tokens POST /token
// issues to each user (default app.DefaultTokenRate), so that a load
// test whose many clients share an account can raise it; below 1 it is
// refused.
func TestTokenRateFlag(t *testing.T) {
	t.Parallel()
	if o, err := parseFlags(nil, io.Discard); err != nil || o.tokenRate != app.DefaultTokenRate {
		t.Fatalf("default: %d, %v; want %d", o.tokenRate, err, app.DefaultTokenRate)
	}
	for _, v := range []string{"0", "-1"} {
		if _, err := parseFlags([]string{"-token-rate", v}, io.Discard); err == nil {
			t.Errorf("-token-rate %s accepted", v)
		}
	}
	o, err := parseFlags([]string{"-users", usersFile(t, "a long enough password"), "-token-rate", "2"}, io.Discard)
	if err != nil || o.tokenRate != 2 {
		t.Fatalf("-token-rate 2: %d, %v", o.tokenRate, err)
	}
	inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	login := func(name string) *http.Response {
		body := url.Values{"grant_type": {"password"}, "client_id": {app.ClientID}, "username": {name}, "password": {"a long enough password"}}
		r := httptest.NewRequest(http.MethodPost, "http://localhost/token", strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "127.0.0.1:1234"
		w := httptest.NewRecorder()
		inst.handler.ServeHTTP(w, r)
		return w.Result()
	}
	for i := range 2 {
		if r := login("bob"); r.StatusCode != http.StatusOK {
			t.Fatalf("login %d within -token-rate 2: %d", i+1, r.StatusCode)
		}
	}
	if r := login("bob"); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("a third login within the minute: %d; want 429 with Retry-After", r.StatusCode)
	}
	if r := login("alice"); r.StatusCode != http.StatusOK {
		t.Fatalf("alice after bob's budget: %d", r.StatusCode)
	}
}

// TestTrustProxy: -trust-proxy takes a proxies' network, not the
// internet, and plain HTTP behind it is served on a private address only.
// Found in review: -trust-proxy 0.0.0.0/0 was accepted, so every peer's
// X-Forwarded-For chose its client address, a fresh one for each guess,
// and the lockout and per-address limits held for nobody; and any
// -trust-proxy skipped the refusal of plain HTTP on a public address.
func TestTrustProxy(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0.0.0.0/0", "::/0", "0.0.0.0/7", "::ffff:0.0.0.0/96", "::ffff:0.0.0.0/100", "2000::/16"} {
		if o, err := parseFlags([]string{"-trust-proxy", s}, io.Discard); err == nil {
			t.Errorf("-trust-proxy %s accepted: %v", s, o.trustProxies)
		}
	}
	for s, want := range map[string]string{
		"10.0.0.0/8":          "10.0.0.0/8",
		"10.1.2.3/8":          "10.0.0.0/8",
		"192.0.2.7/32":        "192.0.2.7/32",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		"fd12:3456:789a::/48": "fd12:3456:789a::/48",
		"fd00::/8":            "fd00::/8",       // wider than /24, but private: the documented exception
		"2600:9000::/28":      "2600:9000::/28", // a CDN's edge network, as published
		"2600:9000::/24":      "2600:9000::/24",
	} {
		o, err := parseFlags([]string{"-trust-proxy", s}, io.Discard)
		if err != nil || len(o.trustProxies) != 1 || o.trustProxies[0].String() != want {
			t.Errorf("-trust-proxy %s: %v %v, want %s", s, o.trustProxies, err, want)
		}
	}
	if _, err := parseFlags([]string{"-trust-proxy", "2600:9000::/23"}, io.Discard); err == nil {
		t.Error("-trust-proxy 2600:9000::/23 accepted")
	}
	// The help names the bound the flag applies, package clientip's
	// (it said /32 for IPv6, and a user with a CDN's /28 took it as
	// refused).
	var help strings.Builder
	_, _ = parseFlags([]string{"-h"}, &help)
	if !strings.Contains(help.String(), "a /24 for IPv6") || strings.Contains(help.String(), "a /32 for IPv6") {
		t.Errorf("-trust-proxy's help does not name the /24 bound for IPv6: %s", help.String())
	}

	users := usersFile(t, "pw")
	for addr, ok := range map[string]bool{
		"10.1.2.3:8080":    true, // a private address: the proxy reaches it, the internet does not
		"[fd00::1]:8080":   true,
		"127.0.0.1:8080":   true,
		"0.0.0.0:8080":     false, // every interface, public ones included
		":8080":            false,
		"[::]:8080":        false,
		"203.0.113.5:8080": false,
	} {
		o, err := parseFlags([]string{"-trust-proxy", "10.0.0.0/8", "-host", "api.example.com", "-addr", addr, "-users", users}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
		if err == nil {
			inst.close()
		}
		if (err == nil) != ok {
			t.Errorf("plain HTTP on %s behind -trust-proxy: %v, want accepted %v", addr, err, ok)
		}
	}
}

func TestHostFlag(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"api.example.com":  "api.example.com",
		"API.Example.COM.": "api.example.com",
		"localhost":        "localhost",
		"203.0.113.5":      "203.0.113.5",
		"2001:DB8::1":      "2001:db8::1",
		"[2001:db8::1]":    "2001:db8::1",
	} {
		o, err := parseFlags([]string{"-host", s}, io.Discard)
		if err != nil || len(o.hosts) != 1 || o.hosts[0] != want {
			t.Errorf("-host %s: %q %v, want %s", s, o.hosts, err, want)
		}
	}
	for _, s := range []string{"", "api.example.com:443", "[::1]:443", "*.example.com", "https://api.example.com", "api..example.com", "-api.example.com", "api_x.example.com", "fe80::1%eth0"} {
		if o, err := parseFlags([]string{"-host", s}, io.Discard); err == nil {
			t.Errorf("-host %q accepted: %q", s, o.hosts)
		}
	}
}

// TestTrustProxyHosts: behind -trust-proxy the allowed hosts are the
// -host names, which is required, whatever the address listened on.
// Found in review: on a loopback -addr (a proxy on the same machine) the
// loopback names were kept, so every request a proxy forwarded with the
// site's Host got 400.
func TestTrustProxyHosts(t *testing.T) {
	t.Parallel()
	users := usersFile(t, "pw")
	tests := []struct {
		args    []string
		allowed []string
		refused []string
	}{
		{
			args:    []string{"-addr", "127.0.0.1:8080", "-trust-proxy", "127.0.0.1/32", "-host", "api.example.com"},
			allowed: []string{"api.example.com", "API.example.com:443"},
			refused: []string{"localhost:8080", "evil.example"},
		},
		{
			args:    []string{"-addr", "10.0.0.5:8080", "-trust-proxy", "10.0.0.0/24", "-host", "api.example.com", "-host", "www.example.com"},
			allowed: []string{"api.example.com", "www.example.com"},
			refused: []string{"10.0.0.5:8080", "evil.example"},
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			o, inst := newInstance(t, append(tt.args, "-users", users)...)
			proxy := o.trustProxies[0].Addr().String()
			checkHosts(t, inst.handler, tt.allowed, tt.refused, func(host string) *http.Request {
				req := httptest.NewRequest("GET", "http://"+host+"/healthz", nil)
				req.RemoteAddr = net.JoinHostPort(proxy, "40000")
				req.Header.Set("X-Forwarded-For", "203.0.113.9")
				req.Header.Set("X-Forwarded-Proto", "https")
				return req
			})
		})
	}
	o, err := parseFlags([]string{"-addr", "127.0.0.1:8080", "-trust-proxy", "127.0.0.1/32", "-users", users}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard)); err == nil || !strings.Contains(err.Error(), "-host") {
		if err == nil {
			inst.close()
		}
		t.Errorf("-trust-proxy without -host: %v, want an error naming -host", err)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	k, err := key(env(nil), envCSRFKey, 32, false, jsonLogger(&log))
	if err != nil || len(k) != 32 || !strings.Contains(log.String(), "EPHEMERAL KEY: "+envCSRFKey) || !strings.Contains(log.String(), `"level":"WARN"`) {
		t.Fatalf("no loud warning for a generated key: %v %s", err, log.String())
	}
	if strings.Contains(strings.ToLower(log.String()), hex.EncodeToString(k)) {
		t.Errorf("the warning shows the generated key: %s", log.String())
	}
	want := randomHex(32)
	if k, err := key(env(map[string]string{envSigningKey: want}), envSigningKey, 32, true, jsonLogger(io.Discard)); err != nil || hex.EncodeToString(k) != want {
		t.Errorf("key from the environment: %v", err)
	}
	for _, tt := range []struct{ name, value string }{
		{envSigningKey, "not hex, and secret"},
		{envSigningKey, randomHex(16)},
		{envSigningKey, randomHex(33)},
		{envCSRFKey, randomHex(31)},
		// Found in review: keys were checked for their length only.
		{envSigningKey, strings.Repeat("0", 64)},
		{envCSRFKey, strings.Repeat("ab", 32)},
		{envCSRFKey, strings.Repeat(hex.EncodeToString([]byte("0123456789abcdef")), 2)}, // 16 distinct bytes, twice
	} {
		_, err := key(env(map[string]string{tt.name: tt.value}), tt.name, 32, false, jsonLogger(io.Discard))
		if err == nil || strings.Contains(err.Error(), tt.value) {
			t.Errorf("%s=%q: %v", tt.name, tt.value, err)
		}
	}
	if _, err := key(env(nil), envSigningKey, 32, true, jsonLogger(io.Discard)); err == nil || !strings.Contains(err.Error(), "-redis") {
		t.Errorf("a generated key with -redis: %v", err)
	}

	// Found in review: one value for both keys was accepted.
	same := randomHex(32)
	o, _ := parseFlags([]string{"-users", usersFile(t, "pw")}, io.Discard)
	for _, csrfKey := range []string{same, same + randomHex(8), randomHex(8) + same} {
		if inst, err := setup(o, env(map[string]string{envSigningKey: same, envCSRFKey: csrfKey}), io.Discard, jsonLogger(io.Discard)); err == nil {
			inst.close()
			t.Errorf("a CSRF key holding the signing key accepted")
		} else if strings.Contains(err.Error(), same) {
			t.Errorf("the error echoes the key: %v", err)
		}
	}
}

func TestUsersFile(t *testing.T) {
	t.Parallel()
	hash, _ := password.Hash("pw")
	bcrypt10, _ := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	weak := password.MustNew(password.Options{Params: password.Params{Memory: 8, Time: 1}, DangerouslyAllowWeakParams: true})
	weakHash, _ := weak.Hash("pw")
	bcrypt4, _ := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	bcrypt9, _ := bcrypt.GenerateFromPassword([]byte("pw"), 9) // one below the minimum (found by mutation: cost 9 was accepted unnoticed)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"users":[{"username":"ann","role":"admin","hash":"`+hash+`"},{"username":"ben","role":"guest","hash":"`+string(bcrypt10)+`"}]}`)
	store, err := users(good, env(nil), nil, false, io.Discard, jsonLogger(io.Discard))
	if err != nil || store.Len() != 2 {
		t.Fatalf("%v", err)
	}
	u, found, _ := store.LookupUser(t.Context(), "ben")
	if !found || u.Identity.Roles[0] != "guest" || len(u.Identity.Scopes) != 1 {
		t.Errorf("ben: %+v", u)
	}
	for name, content := range map[string]string{
		"unknown-role.json":  `{"users":[{"username":"ann","role":"root","hash":"` + hash + `"}]}`,
		"unknown-field.json": `{"users":[{"username":"ann","role":"admin","hash":"` + hash + `","password":"x"}]}`,
		"duplicate.json":     `{"users":[{"username":"ann","role":"admin","hash":"` + hash + `"},{"username":"ann","role":"guest","hash":"` + hash + `"}]}`,
		"bad-hash.json":      `{"users":[{"username":"ann","role":"admin","hash":"plaintext"}]}`,
		"bad-name.json":      `{"users":[{"username":"a:b","role":"admin","hash":"` + hash + `"}]}`,
		"empty.json":         `{"users":[]}`,
		"trailing.json":      `{"users":[{"username":"ann","role":"admin","hash":"` + hash + `"}]} {}`,
		// A reader sees ann as a guest; encoding/json alone reads the
		// last member, in any letter case, and makes her an admin.
		"member-case.json":      `{"users":[{"username":"ann","role":"guest","Role":"admin","hash":"` + hash + `"}]}`,
		"member-case-only.json": `{"users":[{"username":"ann","Role":"admin","hash":"` + hash + `"}]}`,
		"member-twice.json":     `{"users":[{"username":"ann","role":"guest","role":"admin","hash":"` + hash + `"}]}`,
		"users-case.json":       `{"Users":[{"username":"ann","role":"admin","hash":"` + hash + `"}]}`,
		// Names the lockout counts as one (see app.LockoutName): found in
		// review, whoever held "bob" cleared the failures of "Bob" with
		// each of their own logins, and guessed its password without end.
		"case-variant.json":  `{"users":[{"username":"Bob","role":"admin","hash":"` + hash + `"},{"username":"bob","role":"guest","hash":"` + hash + `"}]}`,
		"space-variant.json": `{"users":[{"username":"bob","role":"admin","hash":"` + hash + `"},{"username":"bob ","role":"guest","hash":"` + hash + `"}]}`,
		"fold-variant.json":  `{"users":[{"username":"sam","role":"admin","hash":"` + hash + `"},{"username":"ſam","role":"guest","hash":"` + hash + `"}]}`,
	} {
		p := write(name, content)
		if _, err := users(p, env(nil), nil, false, io.Discard, jsonLogger(io.Discard)); err == nil {
			t.Errorf("%s accepted", name)
		} else if strings.Contains(err.Error(), "plaintext") {
			t.Errorf("%s: the error echoes the hash: %v", name, err)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: the error does not name the file: %v", name, err)
		}
	}

	// A file every user can write lets them add an admin: refused, naming
	// the fix; one they can only read, or the group write, is accepted.
	for _, mode := range []os.FileMode{0o602, 0o622, 0o666} {
		if runtime.GOOS == "windows" {
			break // no such modes
		}
		p := write("loose.json", `{"users":[{"username":"ann","role":"admin","hash":"`+hash+`"}]}`)
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := users(p, env(nil), nil, false, io.Discard, jsonLogger(io.Discard)); err == nil || !strings.Contains(err.Error(), "chmod o-w") {
			t.Errorf("a users file of mode %#o: %v, want an error", mode, err)
		}
		if err := os.Chmod(p, mode&^0o002); err != nil {
			t.Fatal(err)
		}
		if _, err := users(p, env(nil), nil, false, io.Discard, jsonLogger(io.Discard)); err != nil {
			t.Errorf("a users file of mode %#o: %v", mode&^0o002, err)
		}
	}

	// Found in review: hashes far below the OWASP minimum were accepted.
	// A leaked file is then cheap to crack, and a known user's wrong
	// password is answered much faster than an unknown user's (checked
	// against a dummy hash at the default parameters), which names the
	// accounts.
	for name, weak := range map[string]string{"argon2id m=8,t=1": weakHash, "bcrypt cost 4": string(bcrypt4), "bcrypt cost 9": string(bcrypt9)} {
		p := write("weak.json", `{"users":[{"username":"ann","role":"admin","hash":"`+hash+`"},{"username":"ben","role":"admin","hash":"`+weak+`"}]}`)
		_, err := users(p, env(nil), nil, false, io.Discard, jsonLogger(io.Discard))
		if err == nil || !strings.Contains(err.Error(), `"ben"`) || !strings.Contains(err.Error(), "below") {
			t.Errorf("a %s hash: %v, want an error naming ben and why", name, err)
		}
	}
}

// TestNoUserEnumerationByTiming: a wrong password for a known user takes
// about as long as one for an unknown user. Found in review, with weak
// hashes in -users (now refused): 4 ms against 127 ms.
func TestNoUserEnumerationByTiming(t *testing.T) {
	srv := serveInstance(t, env(nil), "-users", usersFile(t, "pw"))
	// try returns the time of one refused password grant, which must be
	// refused for the password (invalid_grant), not earlier: a request
	// refused before the hash would be fast for every user alike.
	try := func(user string) time.Duration {
		start := time.Now()
		resp, err := http.Post(srv.URL+"/token", "application/x-www-form-urlencoded",
			strings.NewReader("grant_type=password&client_id=secureapi-cli&username="+user+"&password=wrong"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_grant"`) {
			t.Fatalf("%s: %d %s, want 400 invalid_grant", user, resp.StatusCode, body)
		}
		return time.Since(start)
	}
	try("warm")
	// The fastest of a few tries of each: noise on a shared machine only
	// ever adds time.
	known, unknown := time.Hour, time.Hour
	for range 3 {
		known = min(known, try("alice"))
		unknown = min(unknown, try("nosuchuser"))
	}
	if unknown > 4*known || known > 4*unknown {
		t.Errorf("a known user answers in %v, an unknown one in %v", known, unknown)
	}
}

// TestDemoUsers: random passwords are printed once on stdout, never
// logged; SECUREAPI_DEMO_PASSWORD replaces them.
func TestDemoUsers(t *testing.T) {
	t.Parallel()
	var out, log syncBuffer
	store, err := users("", env(nil), nil, false, &out, jsonLogger(&log))
	if err != nil || store.Len() != 3 {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  alice  admin  (\S+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password for alice on stdout: %q", out.String())
	}
	if strings.Contains(log.String(), m[1]) {
		t.Errorf("the log holds the password")
	}
	u, _, _ := store.LookupUser(t.Context(), "alice")
	if ok, _, _ := password.Verify(m[1], u.Hash); !ok {
		t.Errorf("the printed password does not verify")
	}
	for _, name := range []string{"bob", "carol"} {
		if !strings.Contains(out.String(), "  "+name+" ") {
			t.Errorf("no password for %s", name)
		}
	}

	out = syncBuffer{}
	store, err = users("", env(map[string]string{envDemoPassword: "chosen password"}), nil, true, &out, jsonLogger(io.Discard))
	if err != nil || out.String() != "" {
		t.Fatalf("with %s: %v, printed %q", envDemoPassword, err, out.String())
	}
	u, _, _ = store.LookupUser(t.Context(), "carol")
	if ok, _, _ := password.Verify("chosen password", u.Hash); !ok || u.Identity.Roles[0] != app.RoleGuest {
		t.Errorf("carol: %+v", u)
	}
	if _, err := users("", env(nil), nil, true, io.Discard, jsonLogger(io.Discard)); err == nil {
		t.Error("random passwords with -redis were accepted")
	}
	// Found in review: SECUREAPI_DEMO_PASSWORD=x was accepted, for the
	// admin too, and with -redis for every instance.
	for _, shared := range []bool{false, true} {
		if _, err := users("", env(map[string]string{envDemoPassword: "x"}), nil, shared, io.Discard, jsonLogger(io.Discard)); err == nil {
			t.Errorf("%s=x accepted (shared %v)", envDemoPassword, shared)
		}
	}
}

// TestDemoUsersSameHashOnEveryInstance: instances sharing the signing key
// (with -redis, all of them) make the same hash of SECUREAPI_DEMO_PASSWORD,
// since a refresh token is bound to its user's hash: with a random salt
// each, a token issued by one instance ended at its first refresh on
// another, as after a password change.
func TestDemoUsersSameHashOnEveryInstance(t *testing.T) {
	t.Parallel()
	vars := env(map[string]string{envDemoPassword: "shared demo password"})
	key, other := []byte("one deployment's signing key...."), []byte("another deployment's signing key")
	hashes := func(key []byte) map[string]string {
		store, err := users("", vars, key, true, io.Discard, jsonLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, name := range []string{"alice", "bob", "carol"} {
			u, _, _ := store.LookupUser(t.Context(), name)
			if ok, rehash, err := password.Verify("shared demo password", u.Hash); !ok || rehash || err != nil {
				t.Fatalf("%s: the hash does not verify at the default parameters: %v %v %v", name, ok, rehash, err)
			}
			m[name] = u.Hash
		}
		return m
	}
	a, b, c := hashes(key), hashes(key), hashes(other)
	for name, h := range a {
		if b[name] != h {
			t.Errorf("%s: two instances with one key made different hashes", name)
		}
		if c[name] == h {
			t.Errorf("%s: the same hash under another key", name)
		}
	}
	if a["alice"] == a["bob"] {
		t.Error("alice and bob share a salt")
	}
}

func TestSetupRefusesUnsafeOptions(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:8080"},
		{"-addr", ":8080"},
		{"-tls-dev", "-cert", "c.pem", "-key", "k.pem"},
		{"-tls-dev", "-host", "api.example.com"}, // a public name: not for a development certificate
		{"-cert", "missing.pem", "-key", "missing.pem"},
		{"-redis", "redis://:hunter2@127.0.0.1:1/0"},
		{"-redis", "mysql://user:hunter2@host/db"},
	} {
		o, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
		if err == nil {
			inst.close()
			t.Errorf("%q accepted", args)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error echoes the password: %v", args, err)
		}
	}
	o, _ := parseFlags([]string{"-redis", "redis://127.0.0.1:1/0"}, io.Discard)
	if _, err := setup(o, env(map[string]string{envRedisURL: "redis://127.0.0.1:1/0"}), io.Discard, jsonLogger(io.Discard)); err == nil {
		t.Errorf("-redis and %s both set: accepted", envRedisURL)
	}
	// Credentials on the command line are in ps for every user: refused
	// before any connection, pointing to the variable.
	for _, u := range []string{"redis://:hunter2@127.0.0.1:1/0", "rediss://app:hunter2@127.0.0.1:1/0", "redis://app@127.0.0.1:1/0"} {
		o, _ := parseFlags([]string{"-redis", u}, io.Discard)
		if _, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard)); err == nil || !strings.Contains(err.Error(), "credentials") || !strings.Contains(err.Error(), envRedisURL) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("-redis %s: %v, want an error about its credentials naming %s", u, err, envRedisURL)
		}
	}
}

// TestRedisURL: a Redis URL that does not parse as meant is refused
// before any connection, and a failed connection names neither the URL
// nor its address. Found in review: an unescaped '#' in the password made
// "31337" the port, which the dial error (and go-redis's own log lines)
// showed.
func TestRedisURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"redis://:31337#hunter2@127.0.0.1:6379/0",
		"redis://:31337/hunter2@127.0.0.1:6379/0",
		"redis://:31337?hunter2@127.0.0.1:6379/0",
		"redis://:hunter2@/0",
	} {
		if _, err := connectRedis(u); !errors.Is(err, errBadRedisURL) {
			t.Errorf("%s: %v, want it refused before connecting", u, err)
		}
	}
	_, err := connectRedis("redis://:hunter2@127.0.0.1:1/0")
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("no Redis on port 1: %v", err)
	}
	// A Redis that accepts the connection and never answers is given up
	// after the 3 s the message names, not the client's 5 s dial timeout
	// (found in review: the context's deadline was not applied).
	addr, _ := testenv.SilentServer(t)
	start := time.Now()
	_, err = connectRedis("redis://" + addr + "/0")
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "no answer in 3 s") || took > 4500*time.Millisecond {
		t.Errorf("a Redis that never answers: %v after %v; want \"no answer in 3 s\" after about 3 s", err, took.Round(time.Millisecond))
	}
}

// TestOptionsStarGoesThroughTheStack: "OPTIONS *" gets 204 with the
// security headers and a request ID like every request. Found in review:
// net/http answered it itself, past the stack; and then, with its own
// answer turned off, ServeMux answered a bare 400.
func TestOptionsStarGoesThroughTheStack(t *testing.T) {
	t.Parallel()
	o, _ := parseFlags([]string{"-users", usersFile(t, "pw")}, io.Discard)
	inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.addr = ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- serve(ctx, o, inst, jsonLogger(io.Discard)) }()
	defer func() { cancel(); <-done }()
	var conn net.Conn
	for range 100 {
		if conn, err = net.Dial("tcp", o.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if conn == nil {
		t.Fatal(err)
	}
	conn.Close() // the server is listening
	resp := testenv.RawRequest(t, o.addr, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Content-Type-Options") == "" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("OPTIONS *: %d with headers %v", resp.StatusCode, resp.Header)
	}
}

// TestLoopbackHosts: on a loopback -addr, the server answers the names of
// this machine and the address it listens on, and refuses any other Host
// (DNS rebinding). Found in review: the hosts were fixed to localhost,
// 127.0.0.1 and [::1], so on -addr 127.0.0.2:8080 or
// [::ffff:127.0.0.1]:8080 every request got 400.
func TestLoopbackHosts(t *testing.T) {
	t.Parallel()
	users := usersFile(t, "pw")
	tests := []struct {
		args    []string
		allowed []string
		refused []string
	}{
		{
			args:    []string{"-addr", "127.0.0.1:8080"},
			allowed: []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080"},
			refused: []string{"127.0.0.2:8080", "evil.example:8080", "evil.example"},
		},
		{
			args:    []string{"-addr", "127.0.0.2:8080"},
			allowed: []string{"127.0.0.2:8080", "localhost:8080"},
			refused: []string{"127.0.0.3:8080", "evil.example:8080"},
		},
		{
			args:    []string{"-addr", "[::ffff:127.0.0.1]:8080"},
			allowed: []string{"[::ffff:127.0.0.1]:8080", "127.0.0.1:8080"},
			refused: []string{"evil.example:8080"},
		},
		{
			args:    []string{"-addr", "[::1]:8080"},
			allowed: []string{"[::1]:8080", "localhost:8080"},
			refused: []string{"evil.example:8080"},
		},
		{
			args:    []string{"-addr", "127.0.0.2:8443", "-tls-dev"},
			allowed: []string{"127.0.0.2:8443", "localhost:8443"},
			refused: []string{"evil.example:8443"},
		},
		{
			args:    []string{"-host", "api.localhost"},
			allowed: []string{"api.localhost:8080"},
			refused: []string{"localhost:8080", "127.0.0.1:8080"},
		},
		{
			args:    []string{"-tls-dev", "-host", "api.test"},
			allowed: []string{"api.test:8080"},
			refused: []string{"localhost:8080"},
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, inst := newInstance(t, append(tt.args, "-users", users)...)
			scheme := "http"
			if inst.tlsConfig != nil {
				scheme = "https"
			}
			checkHosts(t, inst.handler, tt.allowed, tt.refused, func(host string) *http.Request {
				return httptest.NewRequest("GET", scheme+"://"+host+"/healthz", nil)
			})
		})
	}
}

// TestTLSDevOnAnotherLoopbackAddress: -tls-dev on a loopback address that
// localhost does not reach redirects plain HTTP to that address, for
// which its certificate is valid.
func TestTLSDevOnAnotherLoopbackAddress(t *testing.T) {
	t.Parallel()
	o, _ := parseFlags([]string{"-tls-dev", "-addr", "127.0.0.2:8443", "-users", usersFile(t, "pw")}, io.Discard)
	inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	if inst.redirect != "127.0.0.2:8443" {
		t.Errorf("redirect to %q, want 127.0.0.2:8443", inst.redirect)
	}
	leaf := inst.tlsConfig.Certificates[0].Leaf
	if err := leaf.VerifyHostname("127.0.0.2"); err != nil {
		t.Errorf("development certificate: %v", err)
	}
}

// TestCertHosts: with -cert, plain HTTP is redirected to a host the
// certificate is valid for, and the allowed hosts are the certificate's,
// or -host's. Found in review: the target was the first DNS name only,
// so a certificate naming only IP addresses, or a wildcard first, sent
// clients to the -addr host, "localhost" for "": their own machine.
func TestCertHosts(t *testing.T) {
	t.Parallel()
	ip := func(s string) net.IP { return net.ParseIP(s) }
	tests := []struct {
		name     string
		leaf     x509.Certificate
		hosts    []string // -host
		addrHost string   // from -addr
		port     string
		redirect string // "": an error
		allowed  []string
	}{
		{name: "names", leaf: x509.Certificate{DNSNames: []string{"api.example.com", "www.example.com"}}, port: "443",
			redirect: "api.example.com", allowed: []string{"api.example.com", "www.example.com"}},
		{name: "a wildcard first", leaf: x509.Certificate{DNSNames: []string{"*.example.com", "api.example.com"}}, port: "443",
			redirect: "api.example.com", allowed: []string{"*.example.com", "api.example.com"}},
		{name: "IP addresses only", leaf: x509.Certificate{IPAddresses: []net.IP{ip("203.0.113.5"), ip("2001:db8::5")}}, port: "443",
			redirect: "203.0.113.5", allowed: []string{"203.0.113.5", "[2001:db8::5]"}},
		{name: "an IPv6 address on another port", leaf: x509.Certificate{IPAddresses: []net.IP{ip("2001:db8::5")}}, port: "8443",
			redirect: "[2001:db8::5]:8443", allowed: []string{"[2001:db8::5]"}},
		{name: "a wildcard only", leaf: x509.Certificate{DNSNames: []string{"*.example.com"}}, port: "443"},
		{name: "a wildcard only, on all interfaces", leaf: x509.Certificate{DNSNames: []string{"*.example.com"}}, addrHost: "0.0.0.0", port: "443"},
		{name: "no names", leaf: x509.Certificate{}, port: "443"},
		{name: "a wildcard only, -addr a name under it", leaf: x509.Certificate{DNSNames: []string{"*.example.com"}}, addrHost: "api.example.com", port: "443",
			redirect: "api.example.com", allowed: []string{"*.example.com"}},
		{name: "a wildcard only, with -host", leaf: x509.Certificate{DNSNames: []string{"*.example.com"}}, hosts: []string{"api.example.com", "www.example.com"}, port: "443",
			redirect: "api.example.com", allowed: []string{"api.example.com", "www.example.com"}},
		{name: "-host an address of the certificate", leaf: x509.Certificate{DNSNames: []string{"api.example.com"}, IPAddresses: []net.IP{ip("2001:db8::5")}}, hosts: []string{"2001:db8::5"}, port: "443",
			redirect: "[2001:db8::5]", allowed: []string{"[2001:db8::5]"}},
		{name: "-host not in the certificate", leaf: x509.Certificate{DNSNames: []string{"api.example.com"}}, hosts: []string{"api.example.com", "evil.example"}, port: "443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			redirect, allowed, err := certHosts(&tt.leaf, tt.hosts, tt.addrHost, tt.port)
			if tt.redirect == "" {
				if err == nil {
					t.Errorf("redirect to %q, want an error", redirect)
				}
				return
			}
			if err != nil || redirect != tt.redirect || !slices.Equal(allowed, tt.allowed) {
				t.Errorf("redirect %q, allowed %q, %v; want %q and %q", redirect, allowed, err, tt.redirect, tt.allowed)
			}
		})
	}
}

// TestCertFlags: setup takes the redirect and the allowed hosts from the
// -cert file and -host.
func TestCertFlags(t *testing.T) {
	t.Parallel()
	dev, err := https.NewDevCert(https.DevCertOptions{Hosts: []string{"api.test", "www.test"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := errors.Join(os.WriteFile(certFile, dev.CertPEM, 0o600), os.WriteFile(keyFile, dev.KeyPEM, 0o600)); err != nil {
		t.Fatal(err)
	}
	users := usersFile(t, "pw")
	for _, tt := range []struct {
		hosts    []string
		redirect string // "": an error
	}{
		{redirect: "api.test"},
		{hosts: []string{"www.test"}, redirect: "www.test"},
		{hosts: []string{"www.test", "other.test"}},
	} {
		args := []string{"-addr", ":443", "-cert", certFile, "-key", keyFile, "-users", users}
		for _, h := range tt.hosts {
			args = append(args, "-host", h)
		}
		o, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
		if err == nil {
			inst.close()
		}
		if tt.redirect == "" && err == nil || tt.redirect != "" && (err != nil || inst.redirect != tt.redirect) {
			t.Errorf("-host %q: %v, want a redirect to %q (\"\": an error)", tt.hosts, err, tt.redirect)
		}
	}
}

// TestCookiesSecureBehindProxy: plain HTTP behind a TLS-terminating
// proxy (-trust-proxy) is HTTPS to the browser, so the cookies are Secure,
// with the __Host- prefix. Found by mutation: they could lose Secure there
// unnoticed.
func TestCookiesSecureBehindProxy(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-addr", "127.0.0.1:8080", "-trust-proxy", "127.0.0.1/32", "-host", "api.example.com", "-users", usersFile(t, "pw")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	req := httptest.NewRequest("GET", "http://api.example.com/", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Forwarded-Proto", "https")
	w := httptest.NewRecorder()
	inst.handler.ServeHTTP(w, req)
	r := w.Result()
	var csrf *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "__Host-csrf" {
			csrf = c
		}
	}
	if r.StatusCode != 200 || csrf == nil || !csrf.Secure {
		t.Errorf("page behind the proxy: %d, Set-Cookie %q, want a Secure __Host-csrf", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
}

// TestTLSDev: with -tls-dev, HTTPS responses carry HSTS and __Host-
// cookies, and plain HTTP is redirected to the canonical host, never to
// the request's Host.
func TestTLSDev(t *testing.T) {
	t.Parallel()
	o, _ := parseFlags([]string{"-tls-dev", "-users", usersFile(t, "pw")}, io.Discard)
	inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	if inst.tlsConfig == nil || len(inst.tlsConfig.Certificates) != 1 || inst.redirect != "localhost:8080" {
		t.Fatalf("tls %v redirect %q", inst.tlsConfig, inst.redirect)
	}
	serve := func(req *http.Request) *http.Response {
		w := httptest.NewRecorder()
		inst.handler.ServeHTTP(w, req)
		return w.Result()
	}
	r := serve(httptest.NewRequest("GET", "https://localhost:8080/", nil))
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Strict-Transport-Security"), "max-age=") || !strings.Contains(r.Header.Get("Set-Cookie"), "__Host-csrf=") {
		t.Errorf("HTTPS page: %d %v", r.StatusCode, r.Header)
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8081/users/me/?x=1", nil)
	req.Host = "evil.example"
	r = serve(req)
	if r.StatusCode != 400 && (r.StatusCode != 301 || r.Header.Get("Location") != "https://localhost:8080/users/me/?x=1") {
		t.Errorf("plain HTTP for another host: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r = serve(httptest.NewRequest("GET", "http://127.0.0.1:8081/users/me/?x=1", nil))
	if r.StatusCode != 301 || r.Header.Get("Location") != "https://localhost:8080/users/me/?x=1" ||
		r.Header.Get("Strict-Transport-Security") != "" || r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Request-Id") == "" {
		t.Errorf("plain HTTP: %d %q %v", r.StatusCode, r.Header.Get("Location"), r.Header)
	}
	if r := serve(httptest.NewRequest("GET", "http://127.0.0.1:8081/healthz", nil)); r.StatusCode != 200 {
		t.Errorf("health check over plain HTTP: %d", r.StatusCode)
	}
}

// usersFile writes a -users file of alice, bob and carol with pw. -users
// refuses hashes below the default parameters' strength, so each costs
// tens of milliseconds to verify; the three share one hash to keep the
// file quick to write.
func usersFile(t *testing.T, pw string) string {
	h, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	var f strings.Builder
	f.WriteString(`{"users":[`)
	for i, u := range [][2]string{{"alice", app.RoleAdmin}, {"bob", app.RoleUser}, {"carol", app.RoleGuest}} {
		if i > 0 {
			f.WriteString(",")
		}
		f.WriteString(`{"username":"` + u[0] + `","role":"` + u[1] + `","hash":"` + h + `"}`)
	}
	f.WriteString("]}")
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(f.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// browser is an HTTP client with a cookie jar, pointed at one instance at
// a time; cookies ignore ports, so both instances see the same jar.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, form url.Values, hdr ...string) (int, []byte) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// form posts form to base+path with the token of base's page, as a
// browser on that origin does.
func (b *browser) form(base, path string, form url.Values) int {
	b.t.Helper()
	_, page := b.do("GET", base+"/", nil)
	m := csrfField.FindSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token in %s", page)
	}
	form.Set("csrf_token", string(m[1]))
	code, _ := b.do("POST", base+path, form, "Origin", base)
	return code
}

func (b *browser) token(base, user, pw string) (int, map[string]any) {
	code, body := b.do("POST", base+"/token", url.Values{"grant_type": {"password"}, "client_id": {app.ClientID}, "username": {user}, "password": {pw}})
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return code, m
}

// TestTwoInstancesShareRedis runs two instances on one real Redis, as two
// replicas behind a load balancer: a session made on one is valid on the
// other, a logout on one ends it on both, failed logins count across
// both, and so do revoked and rotated tokens.
func TestTwoInstancesShareRedis(t *testing.T) {
	addr := testenv.Redis(t)
	vars := env(map[string]string{envSigningKey: randomHex(32), envCSRFKey: randomHex(32)})
	const pw = "shared demo password"
	usersFile := usersFile(t, pw)
	// A takes the URL from -redis, B from SECUREAPI_REDIS_URL.
	var instB http.Handler // B's handler, for requests that need their own context
	start := func(fromEnv bool) *httptest.Server {
		args, getenv := []string{"-redis", "redis://" + addr + "/0", "-users", usersFile}, vars
		if fromEnv {
			args = args[2:]
			getenv = func(k string) string {
				if k == envRedisURL {
					return "redis://" + addr + "/0"
				}
				return vars(k)
			}
		}
		srv := serveInstance(t, getenv, args...)
		instB = srv.Config.Handler
		return srv
	}
	a, b := start(false), start(true)

	t.Run("a session made on one instance is valid on the other", func(t *testing.T) {
		br := newBrowser(t)
		if code := br.form(a.URL, "/login", url.Values{"username": {"bob"}, "password": {pw}}); code != 303 {
			t.Fatalf("login on A: %d", code)
		}
		if code, body := br.do("GET", b.URL+"/data", nil); code != 200 || !strings.Contains(string(body), `"username":"bob"`) {
			t.Fatalf("data on B: %d %s", code, body)
		}
		if code, body := br.do("GET", a.URL+"/data", nil); code != 200 || !strings.Contains(string(body), `"visits":2`) {
			t.Fatalf("data on A after B counted a visit: %d %s", code, body)
		}
		if code := br.form(b.URL, "/logout", url.Values{}); code != 303 {
			t.Fatalf("logout on B: %d", code)
		}
		for name, srv := range map[string]*httptest.Server{"A": a, "B": b} {
			if code, _ := br.do("GET", srv.URL+"/data", nil); code != 401 {
				t.Errorf("data on %s after the logout: %d", name, code)
			}
		}
	})

	t.Run("failed logins count across instances", func(t *testing.T) {
		br := newBrowser(t)
		for i := range 10 {
			srv := a
			if i%2 == 1 {
				srv = b
			}
			if code, _ := br.token(srv.URL, "carol", "wrong"); code != 400 {
				t.Fatalf("wrong password %d: %d", i+1, code)
			}
		}
		for name, srv := range map[string]*httptest.Server{"A": a, "B": b} {
			if code, body := br.token(srv.URL, "carol", pw); code != 429 {
				t.Errorf("right password on %s after 5 failures on each: %d %v", name, code, body)
			}
		}
		if code := br.form(a.URL, "/login", url.Values{"username": {"carol"}, "password": {pw}}); code != 429 {
			t.Errorf("form login after the failures: %d", code)
		}
		if code, _ := br.token(b.URL, "alice", pw); code != 200 {
			t.Errorf("alice during carol's lockout: %d", code)
		}
	})

	t.Run("revoked and rotated tokens count across instances", func(t *testing.T) {
		br := newBrowser(t)
		code, tok := br.token(a.URL, "alice", pw)
		if code != 200 {
			t.Fatalf("token on A: %d", code)
		}
		access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
		if code, _ := br.do("GET", b.URL+"/users/me/", nil, "Authorization", "Bearer "+access); code != 200 {
			t.Fatalf("A's token on B: %d", code)
		}
		code, body := br.do("POST", b.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {refresh}})
		if code != 200 {
			t.Fatalf("refresh on B: %d %s", code, body)
		}
		if code, _ := br.do("POST", a.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {refresh}}); code != 400 {
			t.Errorf("replayed refresh token on A: %d", code)
		}
		if code, _ := br.do("POST", b.URL+"/token/revoke", url.Values{"client_id": {app.ClientID}, "token": {access}}); code != 200 {
			t.Fatalf("revoke on B: %d", code)
		}
		if code, _ := br.do("GET", a.URL+"/users/me/", nil, "Authorization", "Bearer "+access); code != 401 {
			t.Errorf("revoked token on A: %d", code)
		}
	})

	t.Run("a revocation whose client hangs up still counts", func(t *testing.T) {
		// The client goes once it has sent the form (a logout from a tab
		// being closed): the request's context is cancelled as the
		// handler reads the body. With that context, go-redis gave up the
		// revocation's commands and the refresh token lived on. The
		// requests come from an address of their own, whose budget of
		// credential requests the subtests above have not spent.
		post := func(ctx context.Context, path string, form url.Values, cancelAtEnd context.CancelFunc) *httptest.ResponseRecorder {
			var body io.Reader = strings.NewReader(form.Encode())
			if cancelAtEnd != nil {
				body = &cancelAtEOF{r: body, cancel: cancelAtEnd}
			}
			req := httptest.NewRequestWithContext(ctx, "POST", b.URL+path, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = "127.0.0.7:40000"
			w := httptest.NewRecorder()
			instB.ServeHTTP(w, req)
			return w
		}
		w := post(context.Background(), "/token", url.Values{"grant_type": {"password"}, "client_id": {app.ClientID}, "username": {"carol"}, "password": {pw}}, nil)
		var tok struct {
			Refresh string `json:"refresh_token"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &tok); w.Code != 200 || err != nil || tok.Refresh == "" {
			t.Fatalf("token on B: %d %s", w.Code, w.Body)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		post(ctx, "/token/revoke", url.Values{"client_id": {app.ClientID}, "token": {tok.Refresh}}, cancel)
		if ctx.Err() == nil {
			t.Fatal("the form was not read: the revocation did not run")
		}
		w = post(context.Background(), "/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {tok.Refresh}}, nil)
		if w.Code != 400 {
			t.Errorf("refresh after a revocation whose client hung up: %d %s", w.Code, w.Body)
		}
	})
}

// TestTwoInstancesShareRedisDemoUsers: with the demo users of
// SECUREAPI_DEMO_PASSWORD instead of -users, as the README runs them, a
// refresh token issued by one instance refreshes on the other.
func TestTwoInstancesShareRedisDemoUsers(t *testing.T) {
	addr := testenv.Redis(t)
	const pw = "shared demo password"
	vars := env(map[string]string{envSigningKey: randomHex(32), envCSRFKey: randomHex(32), envDemoPassword: pw})
	a, b := serveInstance(t, vars, "-redis", "redis://"+addr+"/0"), serveInstance(t, vars, "-redis", "redis://"+addr+"/0")
	br := newBrowser(t)
	code, tok := br.token(a.URL, "bob", pw)
	if code != 200 {
		t.Fatalf("token on A: %d %v", code, tok)
	}
	refresh := tok["refresh_token"].(string)
	if code, body := br.do("POST", b.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {refresh}}); code != 200 {
		t.Errorf("A's refresh token on B: %d %s", code, body)
	}
}

// cancelAtEOF is a request body that calls cancel once it has been read to
// its end: a client that hangs up right after sending its request.
type cancelAtEOF struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

// serveInstance sets up an instance from args, with getenv for its
// environment, and serves it over HTTP until the test ends.
func serveInstance(t *testing.T, getenv func(string) string, args ...string) *httptest.Server {
	t.Helper()
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := setup(o, getenv, io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(inst.handler)
	t.Cleanup(func() { srv.Close(); inst.close() })
	return srv
}

// newInstance parses args and sets up an instance with no environment,
// closed when the test ends.
func newInstance(t *testing.T, args ...string) (options, *instance) {
	t.Helper()
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := setup(o, env(nil), io.Discard, jsonLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inst.close)
	return o, inst
}

// checkHosts serves the request that request builds for each host: the
// allowed ones must get 200, the refused ones 400.
func checkHosts(t *testing.T, h http.Handler, allowed, refused []string, request func(host string) *http.Request) {
	t.Helper()
	for _, hosts := range []struct {
		list []string
		want int
	}{{allowed, http.StatusOK}, {refused, http.StatusBadRequest}} {
		for _, host := range hosts.list {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(host))
			if rec.Code != hosts.want {
				t.Errorf("Host %s: %d, want %d", host, rec.Code, hosts.want)
			}
		}
	}
}

// The -users file is read up to 10 MiB: readPrivate read any file whole.
func TestUsersFileIsBounded(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "huge.json")
	huge := `{"users":[]}` + strings.Repeat(" ", 10<<20)
	if err := os.WriteFile(p, []byte(huge), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := users(p, env(nil), nil, false, io.Discard, jsonLogger(io.Discard)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a users file over 10 MiB: %v, want it refused as too large", err)
	}
}
