package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/testenv"
)

// Every answer of the plain HTTP listener carries the security headers,
// the redirect and the refusal included, as the README's stack order puts
// headers just outside https.Redirect; HSTS stays off plain HTTP.
func TestPlainHandlerSendsSecurityHeaders(t *testing.T) {
	sec, err := headers.New(headers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := https.NewRedirect(https.RedirectOptions{Host: "localhost:8443", HTTPSPort: 8443, Exempt: []string{"/healthz"}})
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	h := plainHandler(sec, rd, nil, app)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/some/path?q=1", http.StatusMovedPermanently},
		{http.MethodPost, "/form", http.StatusBadRequest},
		{http.MethodGet, "/healthz", http.StatusOK},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, "http://localhost:8080"+tc.path, nil))
		if w.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, w.Code, tc.status)
		}
		for _, name := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"} {
			if w.Header().Get(name) == "" {
				t.Errorf("%s %s: no %s", tc.method, tc.path, name)
			}
		}
		if hsts := w.Header().Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s %s: HSTS over plain HTTP: %q", tc.method, tc.path, hsts)
		}
	}
}

// The redirects of the comment, with -tls-dev on the default ports: a
// loopback name keeps its path and query, another Host goes to
// localhost, a POST is refused, and /healthz is served over plain HTTP.
func TestDevRedirects(t *testing.T) {
	sec, err := headers.New(headers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := https.NewRedirect(redirectOptions(8080, true))
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	h := plainHandler(sec, rd, nil, app)
	for _, tc := range []struct {
		method, host, path string
		status             int
		location           string
	}{
		{http.MethodGet, "127.0.0.1:8081", "/some/path?q=1", http.StatusMovedPermanently, "https://127.0.0.1:8080/some/path?q=1"},
		{http.MethodGet, "localhost:8081", "/", http.StatusMovedPermanently, "https://localhost:8080/"},
		{http.MethodGet, "evil.example", "/", http.StatusMovedPermanently, "https://localhost:8080/"},
		{http.MethodPost, "127.0.0.1:8081", "/form", http.StatusBadRequest, ""},
		{http.MethodGet, "127.0.0.1:8081", "/healthz", http.StatusOK, ""},
	} {
		req := httptest.NewRequest(tc.method, "http://127.0.0.1:8081"+tc.path, nil)
		req.Host = tc.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.status || w.Header().Get("Location") != tc.location {
			t.Errorf("%s %s%s: %d to %q, want %d to %q", tc.method, tc.host, tc.path, w.Code, w.Header().Get("Location"), tc.status, tc.location)
		}
	}
}

// startRun runs the command with o on free loopback ports until the test
// ends, and returns its HTTPS and plain HTTP addresses and its log.
func startRun(t *testing.T, o options) (tlsAddr, plainAddr string, logs *testenv.LogBuffer) {
	t.Helper()
	o.addr, o.httpAddr = "127.0.0.1:0", "127.0.0.1:0"
	logs = new(testenv.LogBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	readyc, done := make(chan [2]string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, o, slog.New(slog.NewTextHandler(logs, nil)), func(a, p net.Addr) { readyc <- [2]string{a.String(), p.String()} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case a := <-readyc:
		return a[0], a[1], logs
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not start\n%s", logs)
	}
	return "", "", nil
}

// noRedirects is a client that reports redirects instead of following
// them.
func noRedirects(tr *http.Transport) *http.Client {
	return &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestDocumentedCommands runs the comment's -tls-dev lines against the
// command: the certificate at the path it logs verifies localhost, HTTPS
// answers with HSTS, the plain listener redirects (the Host header never
// chosen by the client), refuses a POST, and TLS 1.1 is refused.
func TestDocumentedCommands(t *testing.T) {
	tlsAddr, plainAddr, logs := startRun(t, options{tlsDev: true})
	_, port, _ := net.SplitHostPort(tlsAddr)

	m := regexp.MustCompile(`cacert=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no cacert path in the log:\n%s", logs)
	}
	certPEM, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(m[1])) })
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatalf("%s holds no certificate", m[1])
	}

	// curl --cacert …/cert.pem https://localhost:PORT/
	c := noRedirects(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}})
	resp, err := c.Get("https://" + tlsAddr + "/")
	if err != nil {
		t.Fatalf("HTTPS with the logged certificate: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "with TLS 1.3") {
		t.Errorf("GET / over HTTPS: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS on the HTTPS response")
	}

	plain := noRedirects(&http.Transport{})
	for _, tc := range []struct {
		method, host, path string
		status             int
		location           string
	}{
		{http.MethodGet, "", "/some/path?q=1", http.StatusMovedPermanently, "https://127.0.0.1:" + port + "/some/path?q=1"},
		{http.MethodPost, "", "/form", http.StatusBadRequest, ""},
		{http.MethodGet, "evil.example", "/", http.StatusMovedPermanently, "https://localhost:" + port + "/"},
		{http.MethodGet, "", "/healthz", http.StatusOK, ""},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+plainAddr+tc.path, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s (Host %q): %d to %q, want %d to %q", tc.method, tc.path, tc.host, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s %s over plain HTTP: security headers %v", tc.method, tc.path, resp.Header)
		}
	}

	// curl -k --tls-max 1.1 https://127.0.0.1:PORT/
	conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
}

// testCert writes a self-signed certificate for names (DNS names and IP
// addresses) and its key to a new directory.
func testCert(t *testing.T, names ...string) (certFile, keyFile string, leaf *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if leaf, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, encodePEM("CERTIFICATE", der), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, encodePEM("PRIVATE KEY", keyDER), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, leaf
}

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// TestRedirectHost: with certificate files, plain HTTP goes to -host, or
// the certificate's first name that is not a wildcard, or its first IP
// address; a certificate with only wildcards is refused without -host.
// Found in review: a certificate listing its wildcard first sent every
// visitor of a server on ":443" to https://localhost/.
func TestRedirectHost(t *testing.T) {
	for _, tc := range []struct {
		names      []string
		host, port string
		want       string // "" for an error
	}{
		{[]string{"*.example.test", "www.example.test"}, "", "443", "www.example.test"},
		{[]string{"*.example.test", "www.example.test"}, "", "8443", "www.example.test:8443"},
		{[]string{"*.example.test"}, "", "443", ""},
		{[]string{"*.example.test"}, "api.example.test", "443", "api.example.test"},
		{[]string{"*.example.test"}, "evil.test", "443", ""},
		{[]string{"*.example.test"}, "a.b.example.test", "443", ""}, // a wildcard covers one label
		{[]string{"2001:db8::1"}, "", "443", "[2001:db8::1]"},
		{[]string{"192.0.2.1"}, "", "8443", "192.0.2.1:8443"},
		{[]string{"*.example.test", "192.0.2.1"}, "", "443", "192.0.2.1"},
	} {
		_, _, leaf := testCert(t, tc.names...)
		got, err := redirectHost(leaf, tc.host, tc.port)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%v -host %q: redirect to %q, want an error", tc.names, tc.host, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v -host %q port %s: %q, %v; want %q", tc.names, tc.host, tc.port, got, err, tc.want)
		}
	}
}

// TestCertFiles runs the command on certificate files whose first name is
// a wildcard: the plain listener redirects to the first plain name, with
// the HTTPS port, whatever Host the request names.
func TestCertFiles(t *testing.T) {
	certFile, keyFile, _ := testCert(t, "*.example.test", "www.example.test")
	tlsAddr, plainAddr, _ := startRun(t, options{certFile: certFile, keyFile: keyFile})
	_, port, _ := net.SplitHostPort(tlsAddr)
	req, _ := http.NewRequest(http.MethodGet, "http://"+plainAddr+"/a?b=c", nil)
	req.Host = "evil.example"
	resp, err := noRedirects(&http.Transport{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://www.example.test:" + port + "/a?b=c"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Errorf("redirect: %d to %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	wildOnly, wildKey, _ := testCert(t, "*.example.test")
	err = run(context.Background(), options{addr: "127.0.0.1:0", httpAddr: "127.0.0.1:0", certFile: wildOnly, keyFile: wildKey}, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "-host") {
		t.Errorf("a certificate of wildcards only: %v, want an error naming -host", err)
	}
}

// TestParseFlags: one certificate source, and -host only with -cert.
func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-tls-dev"}, true},
		{[]string{"-cert", "c.pem", "-key", "k.pem", "-host", "www.example.test"}, true},
		{[]string{"-acme-host", "example.test"}, true},
		{nil, false},
		{[]string{"-tls-dev", "-cert", "c.pem", "-key", "k.pem"}, false},
		{[]string{"-tls-dev", "-acme-host", "example.test"}, false},
		{[]string{"-tls-dev", "-host", "www.example.test"}, false},
		{[]string{"-tls-dev", "extra"}, false},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok %v", tc.args, err, tc.ok)
		}
	}
}
