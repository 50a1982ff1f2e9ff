package httpguard_test

import (
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/sanitize"
)

// rawCase is one request sent, field for field, over HTTP/1.1 and over
// HTTP/2 to stacks built alike, and what it must get on both.
type rawCase struct {
	name string
	// req builds the request against srv, given what prepare returned.
	req func(srv *httptest.Server, p map[string]string) rawRequest
	// status is the status both protocols must answer.
	status int
	// body, if set, is the body both must answer.
	body string
}

// sameOnBothProtocols runs cases in order against a stack build returns,
// once over HTTP/1.1, a connection per request, and once over HTTP/2,
// every request a stream of one connection, after prepare (which may log
// in and fetch tokens, returning values the cases use). Each case must get
// its status and body, and the same outcome on both protocols.
func sameOnBothProtocols(t *testing.T, build func(t *testing.T) http.Handler, prepare func(t *testing.T, srv *httptest.Server) map[string]string, cases []rawCase) {
	t.Helper()
	got := map[string][2]string{}
	for i, h2 := range []bool{false, true} {
		srv := startTLS(t, build(t), h2)
		var p map[string]string
		if prepare != nil {
			p = prepare(t, srv)
		}
		var conn *h2Conn
		if h2 {
			conn = dialH2(t, srv)
		}
		for _, tc := range cases {
			req := tc.req(srv, p)
			var res *rawResponse
			if h2 {
				res = conn.roundTrip(req)
			} else {
				res = rawH1(t, srv, req)
			}
			if res.reset || res.status != tc.status || tc.body != "" && string(res.body) != tc.body {
				t.Errorf("%s over %s: %s; want %d %q", tc.name, protoName(h2), res.outcome(), tc.status, tc.body)
			}
			g := got[tc.name]
			g[i] = res.outcome()
			got[tc.name] = g
		}
	}
	for _, tc := range cases {
		if g := got[tc.name]; g[0] != g[1] {
			t.Errorf("%s differs:\nHTTP/1.1:\n%s\nHTTP/2:\n%s", tc.name, g[0], g[1])
		}
	}
}

// whoami answers the subject of the request's identity, or "anonymous".
func whoami(w http.ResponseWriter, r *http.Request) {
	if id, ok := identity.FromRequest(r); ok {
		_, _ = io.WriteString(w, id.Subject())
		return
	}
	_, _ = io.WriteString(w, "anonymous")
}

// tokenStack is the README's stack with csrf tokens bound to the token
// cookie (no SessionID), a page that hands out a token and a route that
// answers who is signed in.
func tokenStack(t *testing.T) http.Handler {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return readmeStackFrom(t, stackOptions{
		tokens: &csrf.TokenOptions{Key: key, MaxFormBytes: 1 << 10},
		routes: func(mux *http.ServeMux) {
			mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, csrf.Token(r)) })
			mux.HandleFunc("POST /whoami", whoami)
		},
	})
}

// tokenAndCookie fetches a csrf token and its cookie ("name=value").
func tokenAndCookie(t *testing.T, srv *httptest.Server) (token, cookie string) {
	t.Helper()
	res, err := protoClient(srv).Get(srv.URL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "__Host-csrf" {
			return string(b), c.Name + "=" + c.Value
		}
	}
	t.Fatal("no csrf cookie")
	return "", ""
}

// Over HTTP/2 a client may split the cookie header into one field per
// cookie (RFC 9113 §8.2.3); net/http joins them with "; " where HTTP/1.1
// keeps one value per Cookie line. The session and the csrf token cookie
// are found in any field, and a second copy of either in another field is
// handled as the same copy on another Cookie line is over HTTP/1.1: the
// first well-formed one counts.
func TestHTTP2SplitCookieFields(t *testing.T) {
	t.Parallel()
	prepare := func(t *testing.T, srv *httptest.Server) map[string]string {
		tok, csrfCookie := tokenAndCookie(t, srv)
		_, otherCookie := tokenAndCookie(t, srv)
		return map[string]string{"token": tok, "csrf": csrfCookie, "otherCSRF": otherCookie, "session": loginCookie(t, srv)}
	}
	whoamiWith := func(cookies ...string) func(*httptest.Server, map[string]string) rawRequest {
		return func(srv *httptest.Server, p map[string]string) rawRequest {
			fields := [][2]string{field("x-csrf-token", p["token"])}
			for _, c := range cookies {
				for k, v := range p {
					c = strings.ReplaceAll(c, "{"+k+"}", v)
				}
				fields = append(fields, field("cookie", c))
			}
			return post(srv, "/whoami", fields...)
		}
	}
	sameOnBothProtocols(t, tokenStack, prepare, []rawCase{
		{name: "both cookies in one field",
			req: whoamiWith("theme=dark; {csrf}; {session}"), status: 200, body: "alice"},
		{name: "each cookie in a field of its own",
			req: whoamiWith("theme=dark", "{csrf}", "{session}"), status: 200, body: "alice"},
		{name: "cookies between spaces",
			req: whoamiWith(" {csrf} ", "\t{session}"), status: 200, body: "alice"},
		{name: "empty fields between the cookies",
			req: whoamiWith("", "{session}", "", "{csrf}"), status: 200, body: "alice"},
		{name: "the token cookie missing from every field",
			req: whoamiWith("theme=dark", "{session}"), status: 403},
		{name: "a forged session cookie in a later field",
			req: whoamiWith("{csrf}", "{session}", "__Host-session=forged"), status: 200, body: "alice"},
		{name: "a forged session cookie in an earlier field",
			req: whoamiWith("{csrf}", "__Host-session=forged", "{session}"), status: 200, body: "anonymous"},
		{name: "a malformed session cookie in an earlier field",
			req: whoamiWith("{csrf}", "__Host-session=a\\b", "{session}"), status: 200, body: "alice"},
		{name: "a session cookie and a forged one in one field",
			req: whoamiWith("{csrf}", "__Host-session=forged; {session}"), status: 200, body: "anonymous"},
		{name: "another token cookie in a later field",
			req: whoamiWith("{session}", "{csrf}", "{otherCSRF}"), status: 200, body: "alice"},
		{name: "another token cookie in an earlier field",
			req: whoamiWith("{session}", "{otherCSRF}", "{csrf}"), status: 403},
		{name: "the token header twice",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				r := whoamiWith("{csrf}; {session}")(srv, p)
				r.fields = append(r.fields, field("x-csrf-token", p["token"]))
				return r
			}, status: 403},
	})
}

// HTTP/2 has no line folding and no comma joining by the server: a
// repeated field arrives as several values of one header, as repeated
// lines do over HTTP/1.1, and each middleware's rule for repeated fields
// (Origin, Sec-Fetch-Site, Authorization, X-Request-ID) holds on both.
func TestHTTP2RepeatedFields(t *testing.T) {
	t.Parallel()
	build := func(t *testing.T) http.Handler {
		return readmeStackFrom(t, stackOptions{routes: func(mux *http.ServeMux) {
			mux.HandleFunc("POST /whoami", whoami)
			mux.HandleFunc("GET /whoami", whoami)
		}})
	}
	prepare := func(t *testing.T, srv *httptest.Server) map[string]string {
		return map[string]string{"session": loginCookie(t, srv)}
	}
	self := func(srv *httptest.Server) string { return srv.URL }
	sameOnBothProtocols(t, build, prepare, []rawCase{
		{name: "one same-origin Origin",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return post(srv, "/whoami", field("origin", self(srv)), field("cookie", p["session"]))
			}, status: 200, body: "alice"},
		{name: "the same-origin Origin twice",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return post(srv, "/whoami", field("origin", self(srv)), field("origin", self(srv)), field("cookie", p["session"]))
			}, status: 403},
		{name: "a cross-site Origin after the same-origin one",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return post(srv, "/whoami", field("origin", self(srv)), field("origin", "https://evil.example"), field("cookie", p["session"]))
			}, status: 403},
		{name: "Sec-Fetch-Site same-origin twice",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return post(srv, "/whoami", field("sec-fetch-site", "same-origin"), field("sec-fetch-site", "same-origin"), field("cookie", p["session"]))
			}, status: 403},
		{name: "Sec-Fetch-Site same-origin and cross-site",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return post(srv, "/whoami", field("sec-fetch-site", "same-origin"), field("sec-fetch-site", "cross-site"), field("cookie", p["session"]))
			}, status: 403},
		{name: "Sec-Fetch-Site cross-site and the same-origin Origin",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return post(srv, "/whoami", field("sec-fetch-site", "cross-site"), field("origin", self(srv)), field("cookie", p["session"]))
			}, status: 403},
		{name: "the allowed CORS origin twice",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return get(srv, "/whoami", field("origin", "https://app.example.com"), field("origin", "https://app.example.com"))
			}, status: 200, body: "anonymous"},
		{name: "a preflight with the allowed origin twice",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return rawRequest{method: "OPTIONS", path: "/whoami", authority: hostOf(srv), fields: [][2]string{
					field("origin", "https://app.example.com"), field("origin", "https://app.example.com"),
					field("access-control-request-method", "GET")}}
			}, status: 403},
		{name: "two Authorization fields with the session",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return get(srv, "/whoami", field("authorization", "Bearer e30.e30.e30"), field("authorization", "Bearer e30.e30.e30"), field("cookie", p["session"]))
			}, status: 401},
		{name: "a Basic and a Bearer Authorization field with the session",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return get(srv, "/whoami", field("authorization", "Basic YTpi"), field("authorization", "Bearer e30.e30.e30"), field("cookie", p["session"]))
			}, status: 401},
		{name: "an empty and a Bearer Authorization field with the session",
			req: func(srv *httptest.Server, p map[string]string) rawRequest {
				return get(srv, "/whoami", field("authorization", ""), field("authorization", "Bearer e30.e30.e30"), field("cookie", p["session"]))
			}, status: 401},
	})
}

// Two X-Request-ID fields: the ID is not taken from either, over either
// protocol.
func TestHTTP2RepeatedRequestID(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		srv := startTLS(t, readmeStack(t, true), h2)
		req := get(srv, "/data", field("x-request-id", "first-id-0001"), field("x-request-id", "second-id-0002"))
		var res *rawResponse
		if h2 {
			res = dialH2(t, srv).roundTrip(req)
		} else {
			res = rawH1(t, srv, req)
		}
		if id := res.header.Get("X-Request-Id"); id == "" || strings.HasSuffix(id, "-0001") || strings.HasSuffix(id, "-0002") {
			t.Errorf("%s: X-Request-ID %q; want a new one", protoName(h2), id)
		}
	}
}

// Behind a trusted proxy the client address is the first untrusted entry
// from the right of every X-Forwarded-For field taken together, in the
// order received; over HTTP/2, where several fields cannot be folded, as
// over HTTP/1.1 with several lines. A client cannot get a fresh budget by
// adding a field in front.
func TestHTTP2RepeatedForwardedFor(t *testing.T) {
	t.Parallel()
	rv, err := clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	build := func(t *testing.T) http.Handler {
		return readmeStackFrom(t, stackOptions{resolver: rv, ipRate: 1})
	}
	xff := func(values ...string) func(*httptest.Server, map[string]string) rawRequest {
		return func(srv *httptest.Server, _ map[string]string) rawRequest {
			var fields [][2]string
			for _, v := range values {
				fields = append(fields, field("x-forwarded-for", v))
			}
			return get(srv, "/data", fields...)
		}
	}
	// Admitted: 401, /data needs a session. Refused: 429.
	sameOnBothProtocols(t, build, nil, []rawCase{
		{name: "a client behind the proxy", req: xff("198.51.100.1", "203.0.113.7"), status: 401},
		{name: "the same client with another field in front", req: xff("192.0.2.99", "203.0.113.7"), status: 429},
		{name: "the same client after a comma list in front", req: xff("192.0.2.1, 192.0.2.2", "203.0.113.7"), status: 429},
		{name: "the same client as the last entry of one field", req: xff("192.0.2.1, 203.0.113.7"), status: 429},
		{name: "the same client with the proxy itself after it", req: xff("203.0.113.7", "127.0.0.1"), status: 429},
		{name: "another client in the last field", req: xff("203.0.113.7", "198.51.100.2"), status: 401},
		{name: "garbage in the last field", req: xff("203.0.113.7", "not-an-ip"), status: 401},
		{name: "the proxy itself", req: xff(), status: 429},
	})
}

// Over HTTP/2 a client can send a host field besides :authority, with
// another value (net/http accepts it, though RFC 9113 §8.3.1 says it
// should not), or no :authority and several host fields (net/http takes
// the first; over HTTP/1.1 a second Host line is refused with 400).
// request.Host is :authority, else the first host field; every
// middleware decides on request.Host alone (allowed hosts, the HTTPS
// redirect's target, csrf's own origin), so an attacker cannot get a
// decision made on one value and the response on the other. A handler
// that reads the host header field, which over HTTP/1.1 is never there,
// gets the other value: such code is the application's.
func TestHTTP2AuthorityAndHostField(t *testing.T) {
	t.Parallel()
	srv := startTLS(t, readmeStackFrom(t, stackOptions{
		redirect:     true,
		allowedHosts: []string{"localhost", "127.0.0.1"},
		routes: func(mux *http.ServeMux) {
			mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, r.Host+" "+strings.Join(r.Header.Values("Host"), ","))
			})
		},
	}), true)
	port := strings.TrimPrefix(hostOf(srv), "127.0.0.1:")
	local := "localhost:" + port
	conn := dialH2(t, srv)
	tests := []struct {
		name     string
		req      rawRequest
		status   int
		body     string
		location string
	}{
		{"an allowed :authority and a host field of another site",
			rawRequest{method: "GET", path: "/host", authority: local, fields: [][2]string{field("host", "evil.example")}},
			200, local + " evil.example", ""},
		{"another site's :authority and an allowed host field",
			rawRequest{method: "GET", path: "/host", authority: "evil.example", fields: [][2]string{field("host", local)}},
			400, "", ""},
		{"no :authority and an allowed host field",
			rawRequest{method: "GET", path: "/host", fields: [][2]string{field("host", local)}},
			200, local + " " + local, ""},
		{"no :authority and another site's host field",
			rawRequest{method: "GET", path: "/host", fields: [][2]string{field("host", "evil.example")}},
			400, "", ""},
		{"no :authority, an allowed host field and another",
			rawRequest{method: "GET", path: "/host", fields: [][2]string{field("host", local), field("host", "evil.example")}},
			200, local + " " + local + ",evil.example", ""},
		{"no :authority, another site's host field and an allowed one",
			rawRequest{method: "GET", path: "/host", fields: [][2]string{field("host", "evil.example"), field("host", local)}},
			400, "", ""},
		{"neither :authority nor host",
			rawRequest{method: "GET", path: "/host"},
			400, "", ""},
		{"an :authority with a space, which HTTP/1.1 refuses in Host",
			rawRequest{method: "GET", path: "/host", authority: "localhost " + port},
			400, "", ""},
		{"an :authority with a path",
			rawRequest{method: "GET", path: "/host", authority: local + "/x"},
			400, "", ""},
		{"an http :scheme on the TLS connection is served as HTTPS",
			rawRequest{method: "GET", path: "/host", scheme: "http", authority: local},
			200, local + " ", ""},
		{"a same-origin Origin matching :authority",
			rawRequest{method: "POST", path: "/host", authority: local, fields: [][2]string{field("host", "evil.example"), field("origin", "https://"+local)}},
			200, local + " evil.example", ""},
		{"an Origin matching the host field, not :authority",
			rawRequest{method: "POST", path: "/host", authority: local, fields: [][2]string{field("host", "evil.example"), field("origin", "https://evil.example")}},
			403, "", ""},
		{"an Origin matching the host field, without :authority",
			rawRequest{method: "POST", path: "/host", fields: [][2]string{field("host", local), field("host", "evil.example"), field("origin", "https://evil.example")}},
			403, "", ""},
	}
	for _, tt := range tests {
		res := conn.roundTrip(tt.req)
		if res.reset || res.status != tt.status || tt.body != "" && string(res.body) != tt.body || res.header.Get("Location") != tt.location {
			t.Errorf("%s: %s; want %d %q, Location %q", tt.name, res.outcome(), tt.status, tt.body, tt.location)
		}
		if !res.reset && res.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: no security headers", tt.name)
		}
	}
}

// bodyRoutes adds a JSON route decoding at most 1 KiB and a route behind
// sanitize.BodyLimit of 1 KiB that reads its body itself.
func bodyRoutes(mux *http.ServeMux) {
	dec := sanitize.MustNew(sanitize.Options{MaxBytes: 1 << 10})
	mux.HandleFunc("POST /json", func(w http.ResponseWriter, r *http.Request) {
		v, err := sanitize.DecodeJSON[struct {
			Body string `json:"body"`
		}](dec, w, r)
		if err == nil {
			_, _ = io.WriteString(w, "decoded "+v.Body)
		}
	})
	limit, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: 1 << 10, ContentTypes: []string{"text/plain"}})
	if err != nil {
		panic(err)
	}
	mux.Handle("POST /limited", limit.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		case err != nil:
			http.Error(w, "unreadable", http.StatusBadRequest)
		default:
			_, _ = io.WriteString(w, "read "+string(b))
		}
	})))
}

// tooLargeOrReset is the status TestHTTP2RequestBodies wants where 413
// and a reset of the stream are both right.
const tooLargeOrReset = -1

// frames splits s into n DATA frames.
func frames(s string, n int) []string {
	var out []string
	size := (len(s) + n - 1) / n
	for len(s) > size {
		out = append(out, s[:size])
		s = s[size:]
	}
	return append(out, s)
}

// Request bodies over HTTP/2 arrive in DATA frames, with or without a
// content-length field, which may lie. The limits hold whatever the
// frames: a body past the limit is refused with 413 while it streams in;
// a content-length past the limit is refused before it is read; and a
// body longer or shorter than its content-length, or one with a
// content-length that is not a number, never reaches a handler as a
// complete body (net/http resets the stream, or fails the read). Two
// content-length fields that disagree are refused either way: Go 1.26's
// server takes the first, which the limit then refuses with 413; from Go
// 1.27 on it resets the stream (RFC 9113 §8.1.1).
func TestHTTP2RequestBodies(t *testing.T) {
	t.Parallel()
	srv := startTLS(t, readmeStackFrom(t, stackOptions{routes: bodyRoutes}), true)
	conn := dialH2(t, srv)
	big := `{"body":"` + strings.Repeat("x", 4<<10) + `"}`
	small := `{"body":"hi"}`
	req := func(path, ctype string, data []string, fields ...[2]string) rawRequest {
		r := post(srv, path, append([][2]string{field("sec-fetch-site", "same-origin"), field("content-type", ctype)}, fields...)...)
		r.data = data
		return r
	}
	tests := []struct {
		name   string
		req    rawRequest
		status int // 0: the stream is reset; tooLargeOrReset: 413 or that
		body   string
	}{
		{"JSON within the limit without content-length", req("/json", "application/json", frames(small, 3)), 200, "decoded hi"},
		{"JSON within the limit with its content-length", req("/json", "application/json", []string{small}, field("content-length", "13")), 200, "decoded hi"},
		{"JSON past the limit in many frames, without content-length", req("/json", "application/json", frames(big, 8)), 413, ""},
		{"JSON whose content-length is past the limit", req("/json", "application/json", []string{small}, field("content-length", "5000")), 413, ""},
		{"JSON followed by more frames than its content-length", req("/json", "application/json", []string{small, big}, field("content-length", "13")), 0, ""},
		{"JSON shorter than its content-length", req("/json", "application/json", []string{small}, field("content-length", "100")), 400, ""},
		{"JSON with a content-length that is not a number", req("/json", "application/json", []string{small}, field("content-length", "13x")), 0, ""},
		{"JSON with two content-length fields, the first past the limit", req("/json", "application/json", []string{small}, field("content-length", "5000"), field("content-length", "13")), tooLargeOrReset, ""},
		{"JSON with two content-length fields, the second larger than the first", req("/json", "application/json", []string{small, big}, field("content-length", "13"), field("content-length", "5000")), 0, ""},
		{"a text body within the limit", req("/limited", "text/plain", frames("hello", 2)), 200, "read hello"},
		{"a text body past the limit in many frames", req("/limited", "text/plain", frames(strings.Repeat("x", 4<<10), 8)), 413, ""},
		{"a text body whose content-length is past the limit", req("/limited", "text/plain", []string{"hello"}, field("content-length", "5000")), 413, ""},
		{"a text body longer than its content-length", req("/limited", "text/plain", []string{"hello", strings.Repeat("x", 4<<10)}, field("content-length", "5")), 0, ""},
		// BodyLimit passes a declared empty body of any type: its DATA
		// cannot be read.
		{"a body of another type declared empty", req("/limited", "application/json", []string{big}, field("content-length", "0")), 0, ""},
		{"a body of another type, no content-length", req("/limited", "application/json", []string{"{}"}), 415, ""},
	}
	for _, tt := range tests {
		res := conn.roundTrip(tt.req)
		if tt.status == tooLargeOrReset {
			if res.reset && res.status == 0 {
				continue
			}
			tt.status = http.StatusRequestEntityTooLarge
		}
		switch {
		case tt.status == 0 && !res.reset:
			t.Errorf("%s: %s; want the stream reset", tt.name, res.outcome())
		case tt.status == 0:
			if res.status != 0 {
				t.Errorf("%s: status %d before the reset; want none", tt.name, res.status)
			}
		case res.reset || res.status != tt.status || tt.body != "" && string(res.body) != tt.body:
			t.Errorf("%s: %s; want %d %q", tt.name, res.outcome(), tt.status, tt.body)
		}
	}
	// Every stream above ended on one connection, which still serves.
	if res := conn.roundTrip(get(srv, "/data")); res.status != http.StatusUnauthorized {
		t.Errorf("after the bodies: %s; want 401", res.outcome())
	}
}

// csrf in token mode reads the token from the form, at most
// TokenOptions.MaxFormBytes of it: a larger form is refused with 413 over
// HTTP/2, where it comes in DATA frames without a content-length, as over
// HTTP/1.1.
func TestHTTP2FormPastCSRFLimit(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		srv := startTLS(t, tokenStack(t), h2)
		tok, cookie := tokenAndCookie(t, srv)
		form := "csrf_token=" + tok + "&body=" + strings.Repeat("x", 4<<10)
		req := post(srv, "/whoami", field("content-type", "application/x-www-form-urlencoded"), field("cookie", cookie))
		req.data = frames(form, 8)
		var res *rawResponse
		if h2 {
			res = dialH2(t, srv).roundTrip(req)
		} else {
			res = rawH1(t, srv, req)
		}
		if res.reset || res.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %s; want 413", protoName(h2), res.outcome())
		}
		req.data = frames("csrf_token="+tok+"&body=hi", 3)
		if h2 {
			res = dialH2(t, srv).roundTrip(req)
		} else {
			res = rawH1(t, srv, req)
		}
		if res.reset || res.status != http.StatusOK || string(res.body) != "anonymous" {
			t.Errorf("%s: a small form: %s; want 200 anonymous", protoName(h2), res.outcome())
		}
	}
}

// HTTP/1.1 parsing drops white space around a field value; net/http's
// HTTP/2 server passes it on, though RFC 9113 §8.2.1 makes such a request
// malformed. Every middleware then fails closed: a value it would trust
// once trimmed is refused, or ignored as if absent (an Authorization
// value that does not start with "Bearer" is another scheme, which
// bearer.Optional leaves to the routes' guards, as it does a request
// without the header).
func TestHTTP2UntrimmedFieldValues(t *testing.T) {
	t.Parallel()
	build := func(t *testing.T) http.Handler {
		return readmeStackFrom(t, stackOptions{routes: func(mux *http.ServeMux) {
			mux.HandleFunc("POST /whoami", whoami)
			mux.HandleFunc("GET /whoami", whoami)
		}})
	}
	tests := []struct {
		name   string
		req    func(srv *httptest.Server, session string) rawRequest
		h1, h2 int    // status over each protocol
		body   string // over HTTP/2
	}{
		{"a same-origin Origin after a space",
			func(srv *httptest.Server, session string) rawRequest {
				return post(srv, "/whoami", field("origin", " "+srv.URL), field("cookie", session))
			}, 200, 403, ""},
		{"Sec-Fetch-Site same-origin before a space",
			func(srv *httptest.Server, session string) rawRequest {
				return post(srv, "/whoami", field("sec-fetch-site", "same-origin "), field("cookie", session))
			}, 200, 403, ""},
		{"an invalid bearer token before a space, with the session",
			func(srv *httptest.Server, session string) rawRequest {
				return get(srv, "/whoami", field("authorization", "Bearer e30.e30.e30 "), field("cookie", session))
			}, 401, 401, ""},
		{"an invalid bearer token after a space, with the session",
			func(srv *httptest.Server, session string) rawRequest {
				return get(srv, "/whoami", field("authorization", "\tBearer e30.e30.e30"), field("cookie", session))
			}, 401, 200, "alice"},
		{"an invalid bearer token after a space, without a session",
			func(srv *httptest.Server, session string) rawRequest {
				return get(srv, "/data", field("authorization", " Bearer e30.e30.e30"))
			}, 401, 401, ""},
		{"the session cookie after a space",
			func(srv *httptest.Server, session string) rawRequest {
				return get(srv, "/whoami", field("cookie", " "+session+" "))
			}, 200, 200, "alice"},
	}
	var srvs [2]*httptest.Server
	var sessions [2]string
	for i, h2 := range []bool{false, true} {
		srvs[i] = startTLS(t, build(t), h2)
		sessions[i] = loginCookie(t, srvs[i])
	}
	conn := dialH2(t, srvs[1])
	for _, tt := range tests {
		r1 := rawH1(t, srvs[0], tt.req(srvs[0], sessions[0]))
		r2 := conn.roundTrip(tt.req(srvs[1], sessions[1]))
		if r1.status != tt.h1 {
			t.Errorf("%s over HTTP/1.1: %s; want %d", tt.name, r1.outcome(), tt.h1)
		}
		if r2.reset || r2.status != tt.h2 || tt.body != "" && string(r2.body) != tt.body {
			t.Errorf("%s over HTTP/2: %s; want %d %q", tt.name, r2.outcome(), tt.h2, tt.body)
		}
	}
	// CORS grants nothing to an origin with a space, where HTTP/1.1
	// grants the trimmed one.
	for i, h2 := range []bool{false, true} {
		req := get(srvs[i], "/whoami", field("origin", "https://app.example.com "))
		var r *rawResponse
		if h2 {
			r = conn.roundTrip(req)
		} else {
			r = rawH1(t, srvs[i], req)
		}
		if got, want := r.header.Get("Access-Control-Allow-Origin"), map[bool]string{false: "https://app.example.com", true: ""}[h2]; got != want {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", protoName(h2), got, want)
		}
	}
}
