package https_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/httpguard/httpguard/https"
)

func TestNewDevCert(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(dev.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if leaf.Subject.Organization[0] != https.DevCertOrganization || leaf.IsCA {
		t.Errorf("subject %v, CA %v", leaf.Subject, leaf.IsCA)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("validity %v, want 30 days", d)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example.com"}); err == nil {
		t.Error("valid for example.com")
	}
	if !bytes.HasPrefix(dev.KeyPEM, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Error("key is not PKCS #8 PEM")
	}
	other, _ := https.NewDevCert(https.DevCertOptions{})
	if bytes.Equal(other.CertPEM, dev.CertPEM) {
		t.Error("two development certificates are identical")
	}
}

// DevCertOptions.Validity runs from one minute ago, 30 days by default
// and at most 397 days.
func TestDevCertValidity(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name     string
		validity time.Duration
		want     time.Duration // 0: refused with ErrOption
	}{
		{"the default is 30 days", 0, 30 * day},
		{"a chosen validity", 90 * day, 90 * day},
		{"397 days is the longest", 397 * day, 397 * day},
		{"a minute is the shortest", time.Minute, time.Minute},
		{"more than 397 days is refused", 397*day + time.Second, 0},
		{"less than a minute is refused", 59 * time.Second, 0},
		{"a negative validity is refused", -day, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			dev, err := https.NewDevCert(https.DevCertOptions{Validity: tt.validity})
			after := time.Now()
			if tt.want == 0 {
				if !errors.Is(err, https.ErrOption) {
					t.Fatalf("error %v, want ErrOption", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(dev.TLS.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if d := leaf.NotAfter.Sub(leaf.NotBefore); d != tt.want {
				t.Errorf("validity %v, want %v", d, tt.want)
			}
			// NotBefore is encoded to the second.
			if nb := leaf.NotBefore; nb.Before(before.Add(-time.Minute-time.Second)) || nb.After(after.Add(-time.Minute)) {
				t.Errorf("NotBefore %v, want one minute before the call at %v", nb, before)
			}
		})
	}
}

func TestNewDevCertRefusesPublicNames(t *testing.T) {
	tests := []struct {
		name string
		o    https.DevCertOptions
		want error
	}{
		{"a public name", https.DevCertOptions{Hosts: []string{"example.com"}}, https.ErrDevHost},
		{"a public address", https.DevCertOptions{Hosts: []string{"192.0.2.1"}}, https.ErrDevHost},
		{"a private address", https.DevCertOptions{Hosts: []string{"10.0.0.1"}}, https.ErrDevHost},
		{"a wildcard over a public suffix", https.DevCertOptions{Hosts: []string{"*.com"}}, https.ErrDevHost},
		{"a validity over 397 days", https.DevCertOptions{Validity: 400 * 24 * time.Hour}, https.ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := https.NewDevCert(tt.o); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
	for _, ok := range [][]string{{"app.localhost"}, {"*.app.test"}, {"api.example"}, {"[::1]"}} {
		if _, err := https.NewDevCert(https.DevCertOptions{Hosts: ok}); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// A refused name is answered with the names that are accepted, so that the
// error says what to write instead.
func TestNewDevCertRefusalNamesTheLocalNames(t *testing.T) {
	_, err := https.NewDevCert(https.DevCertOptions{Hosts: []string{"api.example.com"}})
	if err == nil {
		t.Fatal("a public name was accepted")
	}
	for _, want := range []string{"localhost", ".localhost", ".test", ".example", ".invalid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestNewACMERejectsInvalidOptions(t *testing.T) {
	valid := func() https.ACMEOptions {
		return https.ACMEOptions{Hosts: []string{"example.com"}, CacheDir: t.TempDir(), AcceptTOS: true}
	}
	if _, err := https.NewACME(valid()); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	tests := []struct {
		name string
		edit func(*https.ACMEOptions)
		want error
	}{
		{"no hosts", func(o *https.ACMEOptions) { o.Hosts = nil }, https.ErrOption},
		{"a wildcard host", func(o *https.ACMEOptions) { o.Hosts = []string{"*.example.com"} }, https.ErrHost},
		{"an IP address", func(o *https.ACMEOptions) { o.Hosts = []string{"192.0.2.1"} }, https.ErrHost},
		{"a name without a dot", func(o *https.ACMEOptions) { o.Hosts = []string{"intranet"} }, https.ErrHost},
		{"a host with a port", func(o *https.ACMEOptions) { o.Hosts = []string{"example.com:443"} }, https.ErrHost},
		{"no cache", func(o *https.ACMEOptions) { o.CacheDir = "" }, https.ErrOption},
		{"terms not accepted", func(o *https.ACMEOptions) { o.AcceptTOS = false }, https.ErrOption},
		{"both CacheDir and Cache", func(o *https.ACMEOptions) { o.Cache = autocert.DirCache(o.CacheDir) }, https.ErrOption},
		{"a negative RenewBefore", func(o *https.ACMEOptions) { o.RenewBefore = -time.Hour }, https.ErrOption},
		{"a directory over http", func(o *https.ACMEOptions) { o.DirectoryURL = "http://acme.example/dir" }, https.ErrOption},
		{"a malformed email", func(o *https.ACMEOptions) { o.Email = "admin; rm" }, https.ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.edit(&o)
			if _, err := https.NewACME(o); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestACME serves a certificate from the ACME cache (put there as autocert
// stores what the CA issued) through a real TLS handshake, without
// contacting a CA, and checks the host allowlist and the HTTP-01 handler.
func TestACME(t *testing.T) {
	const host = "shop.example"
	dev, err := https.NewDevCert(https.DevCertOptions{Hosts: []string{host}, Validity: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cache := autocert.DirCache(t.TempDir())
	if err := cache.Put(context.Background(), host, append(append([]byte{}, dev.KeyPEM...), dev.CertPEM...)); err != nil {
		t.Fatal(err)
	}
	a, err := https.NewACME(https.ACMEOptions{Hosts: []string{host}, Cache: cache, AcceptTOS: true,
		DirectoryURL: "https://acme.invalid/directory"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.TLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 || !strings.Contains(strings.Join(cfg.NextProtos, ","), "acme-tls/1") {
		t.Errorf("TLS config %v %v", cfg.MinVersion, cfg.NextProtos)
	}
	srv, err := https.NewServer(https.ServerOptions{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }),
		TLSConfig: cfg,
		ErrorLog:  log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, srv)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)

	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: host})
	if err != nil {
		t.Fatalf("handshake for the allowed host: %v", err)
	}
	conn.Close()
	if conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "other.example"}); err == nil {
		conn.Close()
		t.Error("a certificate was served for a host not in the allowlist")
	}

	rd := mustRedirect(t, https.RedirectOptions{Host: host})
	h := a.HTTPHandler(rd.Handler(http.NotFoundHandler()))
	tests := []struct {
		name   string
		host   string
		path   string
		status int
	}{
		{"other paths are redirected", host, "/page", http.StatusMovedPermanently},
		{"an unknown challenge token for an allowed host is not found", host, https.ACMEChallengePath + "token", http.StatusNotFound},
		{"a challenge for another host is refused", "other.example", https.ACMEChallengePath + "token", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Host = tt.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
		})
	}
	t.Run("a nil fallback rejects instead of redirecting to the request's host", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/page", nil)
		r.Host = "evil.example"
		rec := httptest.NewRecorder()
		a.HTTPHandler(nil).ServeHTTP(rec, r)
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
			t.Errorf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

// The HTTP-01 handler's refusals say nothing of the request or the
// server: autocert's own quoted the Host header of a challenge for another
// host, and, for a token too long for a file name, the cache directory's
// path, which holds the account and certificate keys. Both are the
// generic problem response, with autocert's status.
func TestACMEChallengeRefusalsEchoNothing(t *testing.T) {
	dir := t.TempDir()
	a, err := https.NewACME(https.ACMEOptions{Hosts: []string{"shop.example"}, CacheDir: dir, AcceptTOS: true,
		DirectoryURL: "https://acme.invalid/directory"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("T", 300)
	tests := []struct {
		name   string
		host   string
		path   string
		status int
		secret []string // must not appear in the response
	}{
		{"a challenge for another host", "evil-marker.example", https.ACMEChallengePath + "token", http.StatusForbidden, []string{"evil-marker"}},
		{"a challenge for another host with markup", "<b>evil-marker</b>", https.ACMEChallengePath + "token", http.StatusForbidden, []string{"evil-marker", "<b>"}},
		{"a token too long for a file name", "shop.example", https.ACMEChallengePath + long, http.StatusNotFound, []string{long[:50], dir}},
		{"an unknown token", "shop.example", https.ACMEChallengePath + "token-marker", http.StatusNotFound, []string{"token-marker", dir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Host = tt.host
			rec := httptest.NewRecorder()
			a.HTTPHandler(nil).ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want the generic problem", ct)
			}
			var raw strings.Builder
			raw.WriteString(rec.Body.String())
			for k, v := range rec.Header() {
				raw.WriteString(k + strings.Join(v, ""))
			}
			for _, s := range tt.secret {
				if strings.Contains(raw.String(), s) {
					t.Errorf("the response holds %.60q: %s", s, raw.String())
				}
			}
		})
	}
	t.Run("a known token is answered as it is", func(t *testing.T) {
		if err := autocert.DirCache(dir).Put(context.Background(), "good-token+http-01", []byte("good-token.thumbprint")); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", https.ACMEChallengePath+"good-token", nil)
		r.Host = "shop.example"
		rec := httptest.NewRecorder()
		a.HTTPHandler(nil).ServeHTTP(rec, r)
		if rec.Code != http.StatusOK || rec.Body.String() != "good-token.thumbprint" {
			t.Errorf("status %d, body %q; want 200 and the key authorization", rec.Code, rec.Body.String())
		}
	})
}

// countingTransport counts the requests made through it and fails them,
// standing in for the ACME CA.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("the CA is not reachable in tests")
}

// autocert's default HostPolicy asks the CA for a certificate for any
// name a client sends in SNI, so anyone can spend the account's rate
// limits with made-up names. NewACME refuses every name but Hosts before
// the CA is contacted, whatever resembles them.
func TestACMEOtherServerNamesNeverReachTheCA(t *testing.T) {
	a, err := https.NewACME(https.ACMEOptions{Hosts: []string{"shop.example"}, CacheDir: t.TempDir(), AcceptTOS: true,
		DirectoryURL: "https://acme.invalid/directory"})
	if err != nil {
		t.Fatal(err)
	}
	ca := &countingTransport{}
	a.Manager().Client.HTTPClient = &http.Client{Transport: ca}
	srv, err := https.NewServer(https.ServerOptions{Handler: http.NotFoundHandler(), TLSConfig: a.TLSConfig(), ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, srv)
	handshake := func(name string) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: name})
		if err == nil {
			conn.Close()
			t.Errorf("SNI %q: a certificate was served", name)
		}
	}
	for _, name := range []string{
		"other.example", "evil.shop.example", "shop.example.evil.example", "xshop.example",
		"shop-example", "shop.example.example", "127.0.0.1.nip.io",
	} {
		handshake(name)
		if n := ca.n.Load(); n != 0 {
			t.Fatalf("SNI %q: %d requests to the CA", name, n)
		}
	}
	// The control: the allowed name, not in the cache, is asked of the
	// CA, so the counter above does see requests.
	handshake("shop.example")
	if ca.n.Load() == 0 {
		t.Error("the allowed name was not asked of the CA: the test counts nothing")
	}
}
