package httpguard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/sanitize"
	"github.com/httpguard/httpguard/session"
)

// startTLS serves h over TLS, over HTTP/2 when h2 is set and over
// HTTP/1.1 only otherwise (the server then offers no h2 in ALPN). The
// server's client attempts HTTP/2 when h2 is set.
func startTLS(t *testing.T, h http.Handler, h2 bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	srv.Client().Transport.(*http.Transport).ForceAttemptHTTP2 = h2
	t.Cleanup(srv.Close)
	return srv
}

// protoClient is a copy of srv's client that does not follow redirects.
func protoClient(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = noRedirects
	return &c
}

// protoName names a protocol in test names.
func protoName(h2 bool) string {
	if h2 {
		return "HTTP/2"
	}
	return "HTTP/1.1"
}

var (
	nonceRE = regexp.MustCompile(`'nonce-[^']*'`)
	// The RateLimit field's remaining quota and reset time depend on
	// when the request came.
	quotaRE = regexp.MustCompile(`;\s*(r|t)=\d+`)
)

// outcome renders what a client's security depends on in a response: its
// status, its header fields but Date, the request ID and the transfer
// framing, with each Set-Cookie's value, a CSP nonce and the RateLimit
// quota left replaced, and its body with the request ID removed from a
// problem document. Two responses with the same outcome protect alike.
func outcome(status int, h http.Header, body []byte) string {
	h = h.Clone()
	for _, k := range []string{"Date", "X-Request-Id", "Transfer-Encoding", "Connection"} {
		h.Del(k)
	}
	for i, c := range h["Set-Cookie"] {
		name, rest, _ := strings.Cut(c, "=")
		_, attrs, _ := strings.Cut(rest, ";")
		h["Set-Cookie"][i] = name + "=V;" + attrs
	}
	for i, v := range h["Content-Security-Policy"] {
		h["Content-Security-Policy"][i] = nonceRE.ReplaceAllString(v, "'nonce-N'")
	}
	for i, v := range h["Ratelimit"] {
		h["Ratelimit"][i] = quotaRE.ReplaceAllString(v, "")
	}
	if strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			delete(m, "request_id")
			body, _ = json.Marshal(m)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", status)
	_ = h.Write(&b)
	b.Write(body)
	return b.String()
}

// The README's stack served over HTTP/2 with TLS, as real deployments
// serve it, and over HTTP/1.1: the same scenario, run against a fresh
// stack on each protocol, gets the same status, security headers, CORS
// headers, cookie attributes and problem body on both.
func TestREADMEStackSameOverHTTP2(t *testing.T) {
	t.Parallel()
	dec := sanitize.MustNew(sanitize.Options{MaxBytes: 1 << 10})
	routes := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("secret: boom") })
		mux.HandleFunc("POST /comment", func(w http.ResponseWriter, r *http.Request) {
			c, err := sanitize.DecodeJSON[struct {
				Body string `json:"body" validate:"required,max=20"`
			}](dec, w, r)
			if err == nil {
				_, _ = io.WriteString(w, c.Body)
			}
		})
		mux.HandleFunc("GET /remember", func(w http.ResponseWriter, r *http.Request) {
			session.FromRequest(r).SetString("theme", "dark")
		})
		mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			http.ServeContent(w, r, "file.txt", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), strings.NewReader(strings.Repeat("0123456789", 1000)))
		})
	}
	type step struct {
		method, path string
		header       http.Header
		body         string
		session      bool // send the session cookie got from the login
		status       int
	}
	same := http.Header{"Origin": {"BASE"}, "Sec-Fetch-Site": {"same-origin"}}
	form := http.Header{"Origin": {"BASE"}, "Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"application/x-www-form-urlencoded"}}
	jsonBody := http.Header{"Origin": {"BASE"}, "Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"application/json"}}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a login, then the page its session opens", []step{
			{method: "POST", path: "/login", header: form, body: "user=alice", status: 303},
			{method: "GET", path: "/data", session: true, status: 200},
		}},
		{"an anonymous page request", []step{{method: "GET", path: "/data", status: 401}}},
		{"a cross-site form post", []step{{method: "POST", path: "/login", header: http.Header{
			"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"}}, body: "user=alice", status: 403}}},
		{"a post from another origin without Fetch Metadata", []step{{method: "POST", path: "/login", header: http.Header{
			"Origin": {"https://evil.example"}, "Content-Type": {"application/x-www-form-urlencoded"}}, body: "user=alice", status: 403}}},
		{"a post with a null Origin", []step{{method: "POST", path: "/login", header: http.Header{"Origin": {"null"}}, status: 403}}},
		{"a CORS preflight from the allowed origin", []step{{method: "OPTIONS", path: "/data", header: http.Header{
			"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}}, status: 204}}},
		{"a CORS preflight from another origin", []step{{method: "OPTIONS", path: "/data", header: http.Header{
			"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"GET"}}, status: 403}}},
		{"a cross-origin read from the allowed origin", []step{{method: "GET", path: "/data", header: http.Header{
			"Origin": {"https://app.example.com"}, "Sec-Fetch-Site": {"cross-site"}}, status: 401}}},
		{"a cross-origin read with the session from another origin", []step{
			{method: "POST", path: "/login", header: form, body: "user=alice", status: 303},
			{method: "GET", path: "/data", header: http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, session: true, status: 200},
		}},
		{"a malformed bearer token", []step{{method: "GET", path: "/data", header: http.Header{"Authorization": {"Bearer not.a.jwt"}}, status: 401}}},
		{"a bearer token and the session", []step{
			{method: "POST", path: "/login", header: form, body: "user=alice", status: 303},
			{method: "GET", path: "/data", header: http.Header{"Authorization": {"Bearer e30.e30.e30"}}, session: true, status: 401},
		}},
		{"a panicking handler", []step{{method: "GET", path: "/panic", status: 500}}},
		{"an unknown route", []step{{method: "GET", path: "/nowhere", status: 404}}},
		{"a method the route does not take", []step{{method: "DELETE", path: "/data", header: same, status: 405}}},
		{"a valid JSON body", []step{{method: "POST", path: "/comment", header: jsonBody, body: `{"body":"hi"}`, status: 200}}},
		{"a JSON body over the limit", []step{{method: "POST", path: "/comment", header: jsonBody, body: `{"body":"` + strings.Repeat("x", 2<<10) + `"}`, status: 413}}},
		{"a JSON body with a duplicate key", []step{{method: "POST", path: "/comment", header: jsonBody, body: `{"body":"a","body":"b"}`, status: 400}}},
		{"a JSON body that fails validation", []step{{method: "POST", path: "/comment", header: jsonBody, body: `{"body":"` + strings.Repeat("x", 21) + `"}`, status: 422}}},
		{"a form where JSON is expected", []step{{method: "POST", path: "/comment", header: form, body: "body=hi", status: 415}}},
		{"a session started on a GET", []step{{method: "GET", path: "/remember", status: 200}}},
		{"a HEAD request refused", []step{{method: "HEAD", path: "/data", status: 401}}},
		{"a range of a file", []step{{method: "GET", path: "/file", header: http.Header{"Range": {"bytes=10-19"}}, status: 206}}},
		{"a file not modified", []step{{method: "GET", path: "/file", header: http.Header{"If-None-Match": {`"v1"`}}, status: 304}}},
		{"a HEAD request for a file", []step{{method: "HEAD", path: "/file", status: 200}}},
		{"credentials of another scheme and the session", []step{
			{method: "POST", path: "/login", header: form, body: "user=alice", status: 303},
			{method: "GET", path: "/data", header: http.Header{"Authorization": {"Basic YWxpY2U6aHVudGVyMg=="}}, session: true, status: 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got [2][]string
			for i, h2 := range []bool{false, true} {
				srv := startTLS(t, readmeStackFrom(t, stackOptions{redirect: true, routes: routes}), h2)
				client := protoClient(srv)
				var cookies []*http.Cookie
				for _, s := range tt.steps {
					req, err := http.NewRequest(s.method, srv.URL+s.path, strings.NewReader(s.body))
					if err != nil {
						t.Fatal(err)
					}
					for k, vs := range s.header {
						for _, v := range vs {
							req.Header.Add(k, strings.ReplaceAll(v, "BASE", srv.URL))
						}
					}
					if s.session {
						for _, c := range cookies {
							req.AddCookie(c)
						}
					}
					res, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, err := io.ReadAll(res.Body)
					res.Body.Close()
					if err != nil {
						t.Fatal(err)
					}
					if want := 1 + i; res.ProtoMajor != want {
						t.Fatalf("%s: served over %s", protoName(h2), res.Proto)
					}
					if res.StatusCode != s.status || bytes.Contains(body, []byte("secret")) {
						t.Errorf("%s %s %s: status %d, want %d (body %q)", protoName(h2), s.method, s.path, res.StatusCode, s.status, body)
					}
					if c := res.Cookies(); len(c) > 0 {
						cookies = c
					}
					got[i] = append(got[i], outcome(res.StatusCode, res.Header, bytes.ReplaceAll(body, []byte(srv.URL), []byte("BASE"))))
				}
			}
			for i := range got[0] {
				if got[0][i] != got[1][i] {
					t.Errorf("step %d differs:\nHTTP/1.1:\n%s\nHTTP/2:\n%s", i, got[0][i], got[1][i])
				}
			}
		})
	}
}

// startH2C serves h over plain HTTP/1.1 and unencrypted HTTP/2 (h2c with
// prior knowledge), as a service behind a TLS-terminating proxy does.
func startH2C(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// Behind a TLS-terminating proxy trusted through clientip, the stack
// served over h2c decides as over plain HTTP/1.1: what the proxy's
// X-Forwarded-Proto says, never the :scheme a client chose, which over
// h2c anyone who reaches the port can set.
func TestREADMEStackOverH2CBehindProxy(t *testing.T) {
	t.Parallel()
	rv, err := clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := startH2C(t, readmeStackFrom(t, stackOptions{redirect: true, resolver: rv}))
	proxied := [][2]string{field("x-forwarded-for", "203.0.113.9"), field("x-forwarded-proto", "https")}
	tests := []struct {
		name     string
		scheme   string
		fields   [][2]string
		status   int
		location string
		hsts     bool
	}{
		{"a request the proxy received over HTTPS", "http", proxied, 401, "", true},
		{"a request the proxy received over HTTP", "http", [][2]string{field("x-forwarded-for", "203.0.113.9"), field("x-forwarded-proto", "http")}, 301, "https://localhost/data", false},
		{"an https :scheme without the proxy's word", "https", nil, 301, "https://localhost/data", false},
		{"an https :scheme with the proxy saying HTTP", "https", [][2]string{field("x-forwarded-proto", "http")}, 301, "https://localhost/data", false},
	}
	conn := dialH2C(t, srv)
	for _, tt := range tests {
		req := get(srv, "/data", tt.fields...)
		req.scheme = tt.scheme
		h2 := conn.roundTrip(req)
		h1 := rawH1Plain(t, srv, req)
		for _, r := range []*rawResponse{h1, h2} {
			if r.reset || r.status != tt.status || r.header.Get("Location") != tt.location ||
				(r.header.Get("Strict-Transport-Security") != "") != tt.hsts || r.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s: %s; want %d, Location %q, HSTS %v", tt.name, r.outcome(), tt.status, tt.location, tt.hsts)
			}
		}
		if h1.outcome() != h2.outcome() {
			t.Errorf("%s differs:\nHTTP/1.1:\n%s\nh2c:\n%s", tt.name, h1.outcome(), h2.outcome())
		}
	}

	// The login flow over h2c with net/http's client.
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: proxyTransport{tr}, CheckRedirect: noRedirects}
	login, data, body := loginAndRead(t, client, srv.URL)
	if login.ProtoMajor != 2 || login.StatusCode != http.StatusSeeOther || data.StatusCode != http.StatusOK || body != "alice" {
		t.Errorf("login over %s: %d, then /data %d %q; want HTTP/2, 303, then 200 alice", login.Proto, login.StatusCode, data.StatusCode, body)
	}
}

// proxyTransport adds what a TLS-terminating proxy adds.
type proxyTransport struct{ rt http.RoundTripper }

func (p proxyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	r.Header.Set("X-Forwarded-Proto", "https")
	return p.rt.RoundTrip(r)
}
