package https_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/https"
)

// FuzzRedirect sends arbitrary Host headers and request targets through the
// redirect: it never panics, every Location is an https URL whose host is
// the canonical one or an allowed one, and it parses back to the same path
// and query.
func FuzzRedirect(f *testing.F) {
	rd, err := https.NewRedirect(https.RedirectOptions{
		Host:         "example.com",
		AllowedHosts: []string{"www.example.com", "*.example.org", "localhost:8080", "port80.example:80"},
		HTTPSPort:    8443,
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct{ host, target string }{
		{"example.com", "/"}, {"WWW.EXAMPLE.COM.", "/a?b=c"}, {"evil.example", "//evil.example/"},
		{"a.example.org:1", "/%2F%2Fevil"}, {"localhost:8080", "/?"}, {"example.com@evil", "/x"},
		{"[::1]", "/"}, {"", "*"}, {"x\r\ny", "/"}, {"www.example.com:80", "/a%20b#frag"},
		{"port80.example", "/"}, {"PORT80.example.:80", "/"}, {"port80.example:8080", "/"}, {"port80.example:", "/"},
	} {
		f.Add(s.host, s.target)
	}
	h := rd.Handler(http.NotFoundHandler())
	f.Fuzz(func(t *testing.T, host, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: "GET", URL: u, Host: host, Header: http.Header{}, RemoteAddr: "192.0.2.1:1"}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusMovedPermanently {
			t.Fatalf("status %d", rec.Code)
		}
		loc := rec.Header().Get("Location")
		if strings.ContainsAny(loc, "\r\n\x00 ") {
			t.Fatalf("Location %q has a control character or space", loc)
		}
		got, err := url.Parse(loc)
		if err != nil || got.Scheme != "https" || got.User != nil || got.Fragment != "" {
			t.Fatalf("Location %q: %v", loc, err)
		}
		switch hn := got.Host; {
		case hn == "example.com", hn == "www.example.com:8443", hn == "localhost:8443", hn == "port80.example:8443":
		case strings.HasSuffix(hn, ".example.org:8443") && len(hn) > len(".example.org:8443"):
		default:
			t.Fatalf("redirected Host %q to %q", host, loc)
		}
		// An allowed host is redirected to itself, and a plain HTTP
		// Host without a port is on port 80.
		name, port, hasPort := strings.ToLower(host), "", false
		if i := strings.LastIndexByte(name, ':'); i >= 0 {
			name, port, hasPort = name[:i], name[i+1:], true
		}
		name = strings.TrimSuffix(name, ".")
		wellFormed := !hasPort || port != "" && port[0] != '0' && len(port) <= 5 && strings.Trim(port, "0123456789") == "" && (len(port) < 5 || port <= "65535")
		if wellFormed && (name == "www.example.com" || name == "port80.example" || name == "localhost") {
			self := name == "www.example.com" || name == "port80.example" && (!hasPort || port == "80") || name == "localhost" && port == "8080"
			if want := map[bool]string{true: name + ":8443", false: "example.com"}[self]; got.Host != want {
				t.Fatalf("redirected Host %q to %q, want host %q", host, loc, want)
			}
		}
		if got.EscapedPath() != u.EscapedPath() && !(u.EscapedPath() == "*" || u.EscapedPath() == "") && got.EscapedPath() != "/"+u.EscapedPath() {
			t.Fatalf("path %q became %q", u.EscapedPath(), got.EscapedPath())
		}
		if validQuery(u.RawQuery) && got.RawQuery != u.RawQuery {
			t.Fatalf("query %q became %q", u.RawQuery, got.RawQuery)
		}
		if !validQuery(got.RawQuery) {
			t.Fatalf("query %q became %q, which a URI cannot hold", u.RawQuery, got.RawQuery)
		}
	})
}

// FuzzHostPattern checks NewRedirect's parsing of allowed hosts: it never
// panics, and an accepted exact pattern redirects its own Host to itself.
func FuzzHostPattern(f *testing.F) {
	for _, p := range []string{"example.com", "Example.COM.", "*.example.com", "::1", "[::1]:8080", "127.0.0.1",
		"example.com:99999", "*", "https://x", "a..b", "xn--bcher-kva.example", "bücher.example", "*.x:1"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rd, err := https.NewRedirect(https.RedirectOptions{Host: "canonical.example", AllowedHosts: []string{p}})
		if err != nil {
			return
		}
		if strings.HasPrefix(p, "*.") {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = p
		if a, err := netip.ParseAddr(p); err == nil && a.Is6() {
			r.Host = "[" + p + "]" // a bare IPv6 pattern matches its bracketed Host
		}
		loc, err := rd.Location(r)
		if err != nil {
			t.Fatal(err)
		}
		if loc == "https://canonical.example/" {
			t.Fatalf("accepted pattern %q does not match itself", p)
		}
		u, err := url.Parse(loc)
		if err != nil || u.Path != "/" || u.User != nil || strings.ContainsAny(u.Host, "/@?#\\") {
			t.Fatalf("pattern %q gives Location %q", p, loc)
		}
	})
}

// validQuery reports whether q holds only bytes a URI query may hold, and
// "%" only before two hex digits.
func validQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '%':
			if i+2 >= len(q) || !strings.ContainsRune("0123456789abcdefABCDEF", rune(q[i+1])) || !strings.ContainsRune("0123456789abcdefABCDEF", rune(q[i+2])) {
				return false
			}
		case strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		default:
			return false
		}
	}
	return true
}
