package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, raw string
		want      string // "" when refused
	}{
		{"IPv4 loopback with a port is accepted", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"any address of 127.0.0.0/8 is accepted", "http://127.255.255.254", "http://127.255.255.254"},
		{"a trailing slash is dropped", "http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"IPv6 loopback is accepted", "https://[::1]:8443", "https://[::1]:8443"},
		{"localhost is accepted", "http://localhost:8080", "http://localhost:8080"},
		{"localhost in capitals is accepted", "http://LOCALHOST:8080", "http://LOCALHOST:8080"},
		{"localhost with a final dot is accepted", "http://localhost.:8080", "http://localhost.:8080"},

		{"a private address is refused", "http://10.0.0.1:8080", ""},
		{"a LAN address is refused", "http://192.168.1.10", ""},
		{"a public host name is refused", "http://example.com", ""},
		{"a name under localhost's label is refused", "http://localhost.example.com", ""},
		{"a name that resolves to loopback is refused without a lookup", "http://127.0.0.1.nip.io", ""},
		{"the unspecified IPv4 address is refused", "http://0.0.0.0:8080", ""},
		{"the unspecified IPv6 address is refused", "http://[::]:8080", ""},
		{"an IPv4-mapped loopback is refused", "http://[::ffff:127.0.0.1]:8080", ""},
		{"a zoned IPv6 address is refused", "http://[fe80::1%25lo]:8080", ""},
		{"a short IPv4 form is refused", "http://127.1:8080", ""},
		{"a decimal IPv4 form is refused", "http://2130706433", ""},
		{"a hexadecimal IPv4 form is refused", "http://0x7f.0.0.1", ""},
		{"userinfo hiding another host is refused", "http://127.0.0.1@evil.example", ""},
		{"userinfo is refused even on loopback", "http://user:pw@127.0.0.1", ""},
		{"a path is refused", "http://127.0.0.1:8080/api", ""},
		{"a query is refused", "http://127.0.0.1:8080?x=1", ""},
		{"a fragment is refused", "http://127.0.0.1:8080#x", ""},
		{"another scheme is refused", "ftp://127.0.0.1", ""},
		{"an address without a scheme is refused", "127.0.0.1:8080", ""},
		{"an empty target is refused", "", ""},
		{"a malformed URL is refused", "http://[::1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := parseTarget(tt.raw)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseTarget(%q) = %v, want an error", tt.raw, u)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTarget(%q): %v", tt.raw, err)
			}
			if u.String() != tt.want {
				t.Errorf("parseTarget(%q) = %q, want %q", tt.raw, u, tt.want)
			}
		})
	}
}

func TestDialLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:80":        true,
		"127.2.0.9:443":       true,
		"[::1]:80":            true,
		"192.0.2.1:80":        false,
		"[2001:db8::1]:80":    false,
		"0.0.0.0:80":          false,
		"not an address":      false,
		"[::ffff:10.0.0.1]:1": false,
	} {
		err := dialLoopbackOnly("tcp", addr, nil)
		if (err == nil) != ok {
			t.Errorf("dialLoopbackOnly(%q) = %v, want allowed %v", addr, err, ok)
		}
	}
}

// The dialer refuses a non-loopback connection even when the URL check is
// bypassed, as a "localhost" resolving elsewhere would bypass it.
func TestClientRefusesNonLoopbackConnection(t *testing.T) {
	cfg := &Config{Target: &url.URL{Scheme: "http", Host: "192.0.2.1:9"}, Timeout: 2 * time.Second}
	c := newClient(cfg, netip.Addr{})
	req, _ := http.NewRequest(http.MethodGet, cfg.Target.String()+"/", nil)
	_, err := c.http.Do(req)
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("request to 192.0.2.1: err = %v, want errNotLoopback", err)
	}
}

// A redirect is recorded as an answer, never followed: it could lead off
// loopback.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
	}))
	defer srv.Close()
	u, err := parseTarget(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(&Config{Target: u, Timeout: 2 * time.Second}, netip.Addr{})
	status, _, _, _, ok := c.do(context.Background(), http.MethodGet, "/", "", nil, "", false)
	if !ok || status != http.StatusFound {
		t.Fatalf("status %d (ok %v), want the 302 itself", status, ok)
	}
}

func TestRunRefusesNonLoopbackTargets(t *testing.T) {
	for _, target := range []string{"http://10.1.2.3:8080", "http://example.com", "http://0.0.0.0:8080"} {
		var out, errb bytes.Buffer
		code := run([]string{"-target", target, "-password", "pw", "-duration", "1s"}, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), "loopback") || out.Len() != 0 {
			t.Errorf("run -target %s: exit %d, stderr %q, stdout %q; want exit 2 and a loopback error", target, code, errb.String(), out.String())
		}
	}
	// Run itself checks too, for callers that build a Config by hand.
	_, err := Run(context.Background(), Config{
		Target: &url.URL{Scheme: "http", Host: "10.1.2.3:8080"}, Duration: time.Second, MaxRequests: 10,
		Workers: 1, Mix: map[string]int{roleUser: 1}, Accounts: map[string]string{roleUser: "bob"},
		Password: "pw", ClientID: "c",
	}, nil)
	if !errors.Is(err, errNotLoopback) {
		t.Errorf("Run with a non-loopback target: err = %v, want errNotLoopback", err)
	}
}

func TestServeBareRefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8081", ":8081", "192.0.2.1:8081", "[::]:8081", "localhost:8081"} {
		var out, errb bytes.Buffer
		if code := run([]string{"-serve-bare", addr, "-password", "pw"}, &out, &errb); code != 2 {
			t.Errorf("-serve-bare %s: exit %d, want 2 (stderr %q)", addr, code, errb.String())
		}
	}
}

func TestServeBareWith(t *testing.T) {
	bare := newBareMux(map[string]string{"alice": roleAdmin}, "pw")
	for _, tc := range []struct {
		with            string
		wantCSP, wantID bool
		wantLog         bool
	}{
		{"", false, false, false},
		{"headers", true, false, false},
		{"errorsafe", false, true, true},
		{"errorsafe, headers", true, true, true},
	} {
		t.Run(tc.with, func(t *testing.T) {
			var logs bytes.Buffer
			h, err := wrapBare(bare, tc.with, &logs)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/items/7", nil))
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401 from the baseline", w.Code)
			}
			if got := w.Header().Get("Content-Security-Policy") != ""; got != tc.wantCSP {
				t.Errorf("Content-Security-Policy present %v, want %v", got, tc.wantCSP)
			}
			if got := w.Header().Get("X-Request-Id") != ""; got != tc.wantID {
				t.Errorf("X-Request-Id present %v, want %v", got, tc.wantID)
			}
			if got := strings.Contains(logs.String(), `"msg":"http request"`); got != tc.wantLog {
				t.Errorf("access record %v, want %v: %q", got, tc.wantLog, logs.String())
			}
		})
	}
	if _, err := wrapBare(bare, "headers,cors", io.Discard); err == nil || !strings.Contains(err.Error(), `"cors"`) {
		t.Errorf("an unknown middleware: err = %v", err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-serve-bare", "127.0.0.1:0", "-serve-bare-with", "nope", "-password", "pw"}, &out, &errb); code != 2 {
		t.Errorf("-serve-bare-with nope: exit %d, want 2 (stderr %q)", code, errb.String())
	}
}
