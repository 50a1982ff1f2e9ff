package httpguard_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawRequest is one request as written on the wire, for the requests
// net/http's client does not send: repeated fields it would merge or
// refuse, a Host that disagrees with :authority, a content-length that
// disagrees with the body.
type rawRequest struct {
	method, path string
	// authority is :authority over HTTP/2 and the Host line over
	// HTTP/1.1; "" omits it.
	authority string
	// scheme is :scheme over HTTP/2; "" means https.
	scheme string
	// fields are the other header fields, in order, names in lower case.
	fields [][2]string
	// data are the DATA frames of the body over HTTP/2, joined over
	// HTTP/1.1; the last ends the stream.
	data []string
	// open leaves the stream open after data: the body never ends.
	open bool
}

// get is a rawRequest for GET path on srv with fields.
func get(srv *httptest.Server, path string, fields ...[2]string) rawRequest {
	return rawRequest{method: "GET", path: path, authority: hostOf(srv), fields: fields}
}

// post is a rawRequest for POST path on srv with fields and no body.
func post(srv *httptest.Server, path string, fields ...[2]string) rawRequest {
	return rawRequest{method: "POST", path: path, authority: hostOf(srv), fields: fields}
}

// field is a header field of a rawRequest.
func field(name, value string) [2]string { return [2]string{name, value} }

// rawResponse is what came back on one stream.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
	// reset is set when the server reset the stream, with code.
	reset bool
	code  http2.ErrCode
}

// outcome is [outcome] of r, or the reset that ended it.
func (r *rawResponse) outcome() string {
	if r.reset {
		return "reset " + r.code.String() + " after " + strconv.Itoa(r.status) + " " + string(r.body)
	}
	return outcome(r.status, r.header, r.body)
}

// h2Conn is one HTTP/2 connection to a test server driven frame by frame
// with golang.org/x/net/http2's Framer, on the test's goroutine.
type h2Conn struct {
	t     *testing.T
	conn  net.Conn
	fr    *http2.Framer
	buf   bytes.Buffer
	enc   *hpack.Encoder
	next  uint32
	resps map[uint32]*rawResponse
	done  map[uint32]bool
}

// dialH2 opens an HTTP/2 connection to srv, which must serve HTTP/2 over
// TLS, and exchanges the connection preface and settings.
func dialH2(t *testing.T, srv *httptest.Server) *h2Conn {
	t.Helper()
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		conn.Close()
		t.Fatalf("negotiated %q, want h2", p)
	}
	return startH2(t, conn)
}

// dialH2C opens an unencrypted HTTP/2 connection (h2c, with prior
// knowledge) to srv.
func dialH2C(t *testing.T, srv *httptest.Server) *h2Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return startH2(t, conn)
}

// startH2 sends the client preface and settings on conn and waits for the
// server's.
func startH2(t *testing.T, conn net.Conn) *h2Conn {
	t.Helper()
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := &h2Conn{t: t, conn: conn, next: 1, resps: map[uint32]*rawResponse{}, done: map[uint32]bool{}}
	c.fr = http2.NewFramer(conn, conn)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.buf)
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The server's SETTINGS come first; the window it announces lets the
	// bodies below go out without waiting.
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			if err := c.fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
}

// send writes req on a new stream and returns the stream's ID.
func (c *h2Conn) send(req rawRequest) uint32 {
	c.t.Helper()
	id := c.next
	c.next += 2
	c.buf.Reset()
	scheme := req.scheme
	if scheme == "" {
		scheme = "https"
	}
	fields := [][2]string{{":method", req.method}, {":scheme", scheme}, {":path", req.path}}
	if req.authority != "" {
		fields = append(fields, [2]string{":authority", req.authority})
	}
	for _, f := range append(fields, req.fields...) {
		if err := c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			c.t.Fatal(err)
		}
	}
	endStream := len(req.data) == 0 && !req.open
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.buf.Bytes(), EndHeaders: true, EndStream: endStream}); err != nil {
		c.t.Fatal(err)
	}
	for i, d := range req.data {
		if err := c.fr.WriteData(id, i == len(req.data)-1 && !req.open, []byte(d)); err != nil {
			c.t.Fatal(err)
		}
	}
	c.resps[id] = &rawResponse{header: http.Header{}}
	return id
}

// reset cancels stream id, as a client that gives up does.
func (c *h2Conn) reset(id uint32) {
	c.t.Helper()
	if err := c.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
		c.t.Fatal(err)
	}
	c.done[id] = true
}

// data sends one more DATA frame on stream id, ending the stream if end.
func (c *h2Conn) data(id uint32, s string, end bool) {
	c.t.Helper()
	if err := c.fr.WriteData(id, end, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// await reads frames until every stream of ids has ended, and returns
// their responses in the order of ids.
func (c *h2Conn) await(ids ...uint32) []*rawResponse {
	c.t.Helper()
	c.readUntil(func() bool {
		for _, id := range ids {
			if !c.done[id] {
				return false
			}
		}
		return true
	})
	out := make([]*rawResponse, len(ids))
	for i, id := range ids {
		out[i] = c.resps[id]
	}
	return out
}

// readUntil reads and handles frames until cond holds.
func (c *h2Conn) readUntil(cond func() bool) {
	c.t.Helper()
	for !cond() {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("reading frames: %v", err)
		}
		id := f.Header().StreamID
		r := c.resps[id]
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			for _, hf := range f.RegularFields() {
				r.header.Add(hf.Name, hf.Value)
			}
			if s := f.PseudoValue("status"); s != "" {
				r.status, _ = strconv.Atoi(s)
			}
			if f.StreamEnded() {
				c.done[id] = true
			}
		case *http2.DataFrame:
			r.body = append(r.body, f.Data()...)
			if n := uint32(len(f.Data())); n > 0 {
				_ = c.fr.WriteWindowUpdate(0, n)
				_ = c.fr.WriteWindowUpdate(id, n)
			}
			if f.StreamEnded() {
				c.done[id] = true
			}
		case *http2.RSTStreamFrame:
			r.reset, r.code = true, f.ErrCode
			c.done[id] = true
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = c.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = c.fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			c.t.Fatalf("the server closed the connection: GOAWAY %v", f.ErrCode)
		}
	}
}

// roundTrip sends req on a new stream and waits for its response.
func (c *h2Conn) roundTrip(req rawRequest) *rawResponse {
	c.t.Helper()
	return c.await(c.send(req))[0]
}

// rawH1 sends req over a new HTTP/1.1 connection to srv, which serves
// TLS, each field on a line of its own in the given order, and reads the
// response.
func rawH1(t *testing.T, srv *httptest.Server, req rawRequest) *rawResponse {
	t.Helper()
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rawH1On(t, conn, req)
}

// rawH1Plain is rawH1 for a server of plain HTTP.
func rawH1Plain(t *testing.T, srv *httptest.Server, req rawRequest) *rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return rawH1On(t, conn, req)
}

// rawH1On writes req on conn, reads the response and closes conn.
func rawH1On(t *testing.T, conn net.Conn, req rawRequest) *rawResponse {
	t.Helper()
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(req.method + " " + req.path + " HTTP/1.1\r\n")
	if req.authority != "" {
		b.WriteString("Host: " + req.authority + "\r\n")
	}
	hasLength := false
	for _, f := range req.fields {
		b.WriteString(f[0] + ": " + f[1] + "\r\n")
		hasLength = hasLength || f[0] == "content-length"
	}
	body := strings.Join(req.data, "")
	if !hasLength && len(req.data) > 0 {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &rawResponse{status: res.StatusCode, header: res.Header, body: rb}
}

// loginCookie logs in through the normal client and returns the session
// cookie's "name=value".
func loginCookie(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	login, data, body := loginAndRead(t, protoClient(srv), srv.URL)
	if data.StatusCode != http.StatusOK || body != "alice" {
		t.Fatalf("login: /data %d %q; want 200 alice", data.StatusCode, body)
	}
	for _, c := range login.Cookies() {
		if c.Name == "__Host-session" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("login set no session cookie")
	return ""
}

// hostOf is the host:port of srv's URL.
func hostOf(srv *httptest.Server) string {
	u, _ := url.Parse(srv.URL)
	return u.Host
}
