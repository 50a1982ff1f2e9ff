package errorsafe_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/errorsafe"
)

var freshID = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{24}$`)

// requestIDCases are shared with FuzzRequestID as seeds.
var requestIDCases = []struct {
	name   string
	values []string // incoming header lines; nil = none
	keep   bool     // the incoming ID is kept
}{
	{"no incoming ID gets a new one", nil, false},
	{"a UUID is kept", []string{"3f2c8a1e-6b7d-4c55-9e0a-1b2c3d4e5f60"}, true},
	{"a ULID is kept", []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV"}, true},
	{"a trace-style ID with colons, slashes and equals is kept", []string{"Root=1-5759e988:bd862e3f/a+b.c_d"}, true},
	{"an ID of exactly 64 bytes is kept", []string{strings.Repeat("a", 64)}, true},
	{"an empty ID is replaced", []string{""}, false},
	{"an ID of 65 bytes is replaced", []string{strings.Repeat("a", 65)}, false},
	{"a 10 KB ID is replaced", []string{strings.Repeat("x", 10<<10)}, false},
	{"an ID with a newline (log forging) is replaced", []string{"abc\nlevel=ERROR msg=forged"}, false},
	{"an ID with CRLF (header injection) is replaced", []string{"abc\r\nSet-Cookie: a=b"}, false},
	{"an ID with a NUL is replaced", []string{"abc\x00def"}, false},
	{"an ID with an escape character is replaced", []string{"abc\x1b[31mred"}, false},
	{"an ID with a quote (JSON breaking) is replaced", []string{`abc","admin":true`}, false},
	{"an ID with a space is replaced", []string{"abc def"}, false},
	{"an ID with a backslash is replaced", []string{`abc\u0000`}, false},
	{"an ID with HTML is replaced", []string{"<script>alert(1)</script>"}, false},
	{"an ID with non-ASCII is replaced", []string{"idé"}, false},
	{"an ID with invalid UTF-8 is replaced", []string{"id\xff"}, false},
	{"two ID header lines are replaced", []string{"first", "second"}, false},
}

// TestRequestID checks the value of an incoming ID, sent by a trusted
// proxy: from anyone else even a valid one is replaced (TestRequestIDTrust).
func TestRequestID(t *testing.T) {
	for _, tt := range requestIDCases {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, errorsafe.Options{ClientIP: gatewayResolver(t)})
			var inCtx string
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = errorsafe.RequestIDFrom(r.Context())
				http.Error(w, "boom", http.StatusInternalServerError)
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = gatewayAddr
			if tt.values != nil {
				req.Header["X-Request-Id"] = tt.values
			}
			before := append([]string(nil), req.Header["X-Request-Id"]...)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			got := rec.Header().Get("X-Request-Id")
			if tt.keep && got != tt.values[0] {
				t.Errorf("echoed %q, want the incoming %q", got, tt.values[0])
			}
			if !tt.keep && !freshID.MatchString(got) {
				t.Errorf("echoed %q, want a new ID", got)
			}
			if inCtx != got {
				t.Errorf("context has %q, response %q", inCtx, got)
			}
			if p := problemBody(t, rec.Body.Bytes()); p["request_id"] != got {
				t.Errorf("problem request_id = %v, want %q", p["request_id"], got)
			}
			if lr := logs.find(t, "http request"); lr == nil || lr["request_id"] != got {
				t.Errorf("access record = %v", lr)
			}
			if strings.Join(req.Header["X-Request-Id"], "|") != strings.Join(before, "|") {
				t.Error("the request's header was modified")
			}
			if !tt.keep && len(tt.values) > 0 && tt.values[0] != "" && strings.Contains(logs.String(), tt.values[0]) {
				t.Error("the rejected incoming ID reached the log")
			}
		})
	}
}

func TestRequestIDOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     errorsafe.Options
		header   string
		incoming string
		want     func(string) bool
	}{
		{"IgnoreIncomingRequestID replaces a valid incoming ID",
			errorsafe.Options{IgnoreIncomingRequestID: true}, "X-Request-Id", "valid-id-123",
			func(s string) bool { return freshID.MatchString(s) }},
		{"a custom header is read and echoed",
			errorsafe.Options{RequestIDHeader: "x-correlation-id"}, "X-Correlation-Id", "corr-1",
			func(s string) bool { return s == "corr-1" }},
		{"a shorter maximum replaces longer IDs",
			errorsafe.Options{MaxRequestIDLength: 8}, "X-Request-Id", "123456789",
			func(s string) bool { return freshID.MatchString(s) }},
		{"a custom generator is used",
			errorsafe.Options{GenerateRequestID: func() string { return "gen-42" }}, "X-Request-Id", "",
			func(s string) bool { return s == "gen-42" }},
		{"a custom generator returning unsafe IDs is overruled",
			errorsafe.Options{GenerateRequestID: func() string { return "bad\nid" }}, "X-Request-Id", "",
			func(s string) bool { return freshID.MatchString(s) }},
		{"a custom generator returning nothing is overruled",
			errorsafe.Options{GenerateRequestID: func() string { return "" }}, "X-Request-Id", "",
			func(s string) bool { return freshID.MatchString(s) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// From the gateway, so that only the option decides.
			opts := tt.opts
			opts.ClientIP = gatewayResolver(t)
			m, _ := newLogged(t, opts)
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = gatewayAddr
			if tt.incoming != "" {
				req.Header.Set(tt.header, tt.incoming)
			}
			rec := httptest.NewRecorder()
			m.RequestID(http.NotFoundHandler()).ServeHTTP(rec, req)
			if got := rec.Header().Get(tt.header); !tt.want(got) {
				t.Errorf("echoed %q", got)
			}
		})
	}
}

// Found in review: a GenerateRequestID that panicked (a generator backed
// by a service that went away) was called before the recovery was in
// place, so every request crashed out of the middleware meant to contain
// crashes, with no response and no record. Its result is overruled like
// an unsafe one, and the panic is logged.
func TestPanickingRequestIDGeneratorIsOverruled(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{GenerateRequestID: func() string { panic("id service down") }})
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("panic escaped the middleware: %v", v)
			}
		}()
		m.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	if id := rec.Header().Get("X-Request-Id"); rec.Code != http.StatusNotFound || !freshID.MatchString(id) {
		t.Errorf("status %d, request ID %q", rec.Code, id)
	}
	if lr := logs.find(t, "request ID generator panicked"); lr == nil || lr["panic"] != "id service down" {
		t.Errorf("no record of the panic in %s", logs)
	}
	if logs.find(t, "http request") == nil {
		t.Errorf("no access record in %s", logs)
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	m := errorsafe.MustNew(errorsafe.Options{})
	h := m.RequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := make(map[string]bool)
	for range 1000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		id := rec.Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
	}
}

func TestNestedMiddlewaresShareOneRequestID(t *testing.T) {
	outer := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger(), ClientIP: gatewayResolver(t)})
	inner := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger(), IgnoreIncomingRequestID: true})
	var got string
	// A foreign wrapper between them hides the outer exchange from the
	// inner middleware; the ID still comes from the context.
	foreign := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
		})
	}
	h := outer.Handler(foreign(inner.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = errorsafe.RequestIDFrom(r.Context())
	}))))
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = gatewayAddr
	req.Header.Set("X-Request-Id", "from-gateway")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got != "from-gateway" || rec.Header().Get("X-Request-Id") != "from-gateway" {
		t.Errorf("inner saw %q, response %q", got, rec.Header().Get("X-Request-Id"))
	}
	if errorsafe.RequestIDFrom(req.Context()) != "" {
		t.Error("ID found in a context without one")
	}
}

// TestRegressionPeerRequestIDReflection: chi's middleware.RequestID and
// echo's middleware.RequestID take the incoming X-Request-ID verbatim
// (echo#1714 pins that behaviour with a test) and echo reflects it in the
// response, so a client chooses what goes into every log line and
// response of its request. Sent over a real connection, hostile values
// never come back and never reach the log, even from a trusted proxy
// (here loopback, where the test connects from).
func TestRegressionPeerRequestIDReflection(t *testing.T) {
	m, logs := newLogged(t, errorsafe.Options{ClientIP: trusting(t, "127.0.0.0/8", "::1/128")})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	for _, hostile := range []string{
		`x","level":"ERROR","msg":"forged`,
		"tab\tseparated",
		strings.Repeat("A", 10<<10),
		"ünïcödé",
		"a=b; Path=/; HttpOnly",
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Request-ID: %s\r\nConnection: close\r\n\r\n", hostile)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conn.Close()
		if got := resp.Header.Get("X-Request-Id"); !freshID.MatchString(got) {
			t.Errorf("hostile ID %.40q echoed as %.40q", hostile, got)
		}
	}
	waitFor(t, logs, 5)
	// Found flaky: "tab" alone turned up in the fresh IDs, whose
	// alphabet holds t, a and b, in about one run in two hundred. Each
	// needle now holds a character outside that alphabet, or nine of its
	// letters, which a fresh ID spells about once in 10^13 runs.
	for _, needle := range []string{"forged", "separated", "AAAAAAAA", "ünïcödé", "HttpOnly"} {
		if strings.Contains(logs.String(), needle) {
			t.Errorf("log contains %q", needle)
		}
	}
}

// trusting returns a resolver trusting the proxies in prefixes.
func trusting(t testing.TB, prefixes ...string) *clientip.Resolver {
	t.Helper()
	var o clientip.Options
	for _, p := range prefixes {
		o.TrustedProxies = append(o.TrustedProxies, netip.MustParsePrefix(p))
	}
	rv, err := clientip.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

// gatewayAddr is the RemoteAddr of the gateway that gatewayResolver
// trusts, which the tests of the checks on the value send from.
const gatewayAddr = "10.0.0.1:443"

func gatewayResolver(t testing.TB) *clientip.Resolver { return trusting(t, "10.0.0.0/8") }

// TestRequestIDTrust: an incoming ID is used only from a trusted proxy of
// Options.ClientIP, unless DangerouslyTrustAnyRequestID says otherwise;
// from anyone else a client could reuse another request's ID and make its
// records pass for that request's (log correlation forgery).
func TestRequestIDTrust(t *testing.T) {
	proxies := trusting(t, "10.0.0.0/8", "::1/128")
	const id = "gw-7f3a-0001"
	tests := []struct {
		name   string
		opts   errorsafe.Options
		remote string
		values []string
		keep   bool
	}{
		{"the zero Options replace a client's ID", errorsafe.Options{}, "192.0.2.1:1234", []string{id}, false},
		{"the zero Options replace an ID from a private address", errorsafe.Options{}, "10.0.0.1:80", []string{id}, false},
		{"a resolver trusting no proxy replaces it", errorsafe.Options{ClientIP: trusting(t)}, "10.0.0.1:80", []string{id}, false},
		{"an untrusted peer's ID is replaced", errorsafe.Options{ClientIP: proxies}, "1.2.3.4:5", []string{id}, false},
		{"a trusted proxy's ID is kept", errorsafe.Options{ClientIP: proxies}, "10.0.0.1:80", []string{id}, true},
		{"a trusted proxy's ID over IPv6 is kept", errorsafe.Options{ClientIP: proxies}, "[::1]:80", []string{id}, true},
		{"a trusted proxy's ID over an IPv4-mapped address is kept", errorsafe.Options{ClientIP: proxies}, "[::ffff:10.0.0.1]:80", []string{id}, true},
		{"a trusted proxy's ID with a bare address is kept", errorsafe.Options{ClientIP: proxies}, "10.0.0.1", []string{id}, true},
		{"a trusted proxy's malformed ID is replaced", errorsafe.Options{ClientIP: proxies}, "10.0.0.1:80", []string{"bad\nid"}, false},
		{"a trusted proxy's over-long ID is replaced", errorsafe.Options{ClientIP: proxies}, "10.0.0.1:80", []string{strings.Repeat("a", 65)}, false},
		{"a trusted proxy's two ID lines are replaced", errorsafe.Options{ClientIP: proxies}, "10.0.0.1:80", []string{id, id}, false},
		{"an empty RemoteAddr is no proxy", errorsafe.Options{ClientIP: proxies}, "", []string{id}, false},
		{"a Unix socket peer is no proxy", errorsafe.Options{ClientIP: proxies}, "@", []string{id}, false},
		{"a garbage RemoteAddr is no proxy", errorsafe.Options{ClientIP: proxies}, "garbage:80", []string{id}, false},
		{"a RemoteAddr with a zone is matched without it", errorsafe.Options{ClientIP: trusting(t, "fe80::/10")}, "[fe80::1%eth0]:80", []string{id}, true},
		{"DangerouslyTrustAnyRequestID keeps an untrusted peer's ID", errorsafe.Options{ClientIP: proxies, DangerouslyTrustAnyRequestID: true}, "1.2.3.4:5", []string{id}, true},
		{"DangerouslyTrustAnyRequestID keeps it without a resolver", errorsafe.Options{DangerouslyTrustAnyRequestID: true}, "192.0.2.1:1234", []string{id}, true},
		{"DangerouslyTrustAnyRequestID keeps it from a Unix socket", errorsafe.Options{DangerouslyTrustAnyRequestID: true}, "@", []string{id}, true},
		{"DangerouslyTrustAnyRequestID still replaces a malformed ID", errorsafe.Options{DangerouslyTrustAnyRequestID: true}, "1.2.3.4:5", []string{"x\"y"}, false},
		{"IgnoreIncomingRequestID replaces even a trusted proxy's ID", errorsafe.Options{ClientIP: proxies, IgnoreIncomingRequestID: true}, "10.0.0.1:80", []string{id}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := newLogged(t, tt.opts)
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Ctx-Id", errorsafe.RequestIDFrom(r.Context()))
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			req.Header["X-Request-Id"] = tt.values
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if tt.keep && got != tt.values[0] {
				t.Errorf("echoed %q, want the incoming %q", got, tt.values[0])
			}
			if !tt.keep && !freshID.MatchString(got) {
				t.Errorf("echoed %q, want a new ID", got)
			}
			if ctx := rec.Header().Get("X-Ctx-Id"); ctx != got {
				t.Errorf("context has %q, response %q", ctx, got)
			}
			if lr := logs.find(t, "http request"); lr == nil || lr["request_id"] != got {
				t.Errorf("access record = %v", lr)
			}
			if !tt.keep && strings.Contains(logs.String(), id) {
				t.Error("the replaced incoming ID reached the log")
			}
		})
	}
}

// TestRequestIDTrustContradiction: an ID both ignored and trusted from
// anyone is a contradiction, refused at construction rather than
// resolved silently one way.
func TestRequestIDTrustContradiction(t *testing.T) {
	_, err := errorsafe.New(errorsafe.Options{IgnoreIncomingRequestID: true, DangerouslyTrustAnyRequestID: true})
	var oe *errorsafe.OptionError
	if !errors.Is(err, errorsafe.ErrOption) || !errors.As(err, &oe) || oe.Field != "DangerouslyTrustAnyRequestID" {
		t.Fatalf("New: %v; want an OptionError for DangerouslyTrustAnyRequestID", err)
	}
}
