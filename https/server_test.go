package https_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/internal/testenv"
)

// startTLS serves srv over TLS on a loopback port and returns its address.
func startTLS(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// startDevTLS serves h over TLS with a development certificate, from
// NewServer with ReadHeaderTimeout readHeader, and returns its address and
// the certificate.
func startDevTLS(t *testing.T, h http.Handler, readHeader time.Duration) (string, *https.DevCert) {
	t.Helper()
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := https.TLSConfig()
	cfg.Certificates = []tls.Certificate{dev.TLS}
	srv, err := https.NewServer(https.ServerOptions{
		Handler:           h,
		TLSConfig:         cfg,
		ReadHeaderTimeout: readHeader,
		ErrorLog:          log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return startTLS(t, srv), dev
}

func TestTLSHandshake(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := https.TLSConfig()
	cfg.Certificates = []tls.Certificate{dev.TLS}
	srv, err := https.NewServer(https.ServerOptions{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) }),
		TLSConfig: cfg,
		ErrorLog:  log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, srv)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)

	tests := []struct {
		name    string
		client  *tls.Config
		ok      bool
		version uint16
		alert   string
	}{
		{"TLS 1.3 is accepted", &tls.Config{MinVersion: tls.VersionTLS13}, true, tls.VersionTLS13, ""},
		{"TLS 1.2 with ECDHE and AES-GCM is accepted", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true, tls.VersionTLS12, ""},
		{"TLS 1.2 with ChaCha20-Poly1305 is accepted", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true, tls.VersionTLS12, ""},
		{"TLS 1.1 is refused", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false, 0, "protocol version not supported"},
		{"TLS 1.0 is refused", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false, 0, "protocol version not supported"},
		{"TLS 1.2 with CBC only is refused", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false, 0, "handshake failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client.Clone()
			c.RootCAs = roots
			c.ServerName = "localhost"
			conn, err := tls.Dial("tcp", addr, c)
			if !tt.ok {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake succeeded with %s", tls.VersionName(conn.ConnectionState().Version))
				}
				// The server must be the one refusing, with an alert.
				if !strings.Contains(err.Error(), tt.alert) {
					t.Fatalf("handshake error %q, want the server's %q alert", err, tt.alert)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake failed: %v", err)
			}
			defer conn.Close()
			if v := conn.ConnectionState().Version; v != tt.version {
				t.Errorf("version %s, want %s", tls.VersionName(v), tls.VersionName(tt.version))
			}
		})
	}

	t.Run("HTTP/2 is negotiated", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "HTTP/2.0" {
			t.Errorf("protocol %q, want HTTP/2.0", body)
		}
	})
}

// A caller's own tls.Config that leaves CipherSuites nil or empty would otherwise
// get crypto/tls's defaults, which still include the ECDHE CBC-SHA suites
// (no AEAD, Lucky13-class padding oracles). NewServer fills in the AEAD list.
func TestNewServerRefusesCBCWithACallerConfig(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)
	for _, tt := range []struct {
		name   string
		suites []uint16
	}{
		{"nil cipher suites", nil},
		{"an empty cipher suite list", []uint16{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mine := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{dev.TLS}, CipherSuites: tt.suites}
			srv, err := https.NewServer(https.ServerOptions{
				Handler:   http.NotFoundHandler(),
				TLSConfig: mine,
				ErrorLog:  log.New(io.Discard, "", 0),
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(mine.CipherSuites) != 0 {
				t.Fatal("NewServer modified the caller's tls.Config")
			}
			addr := startTLS(t, srv)
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}})
			if err == nil {
				conn.Close()
				t.Fatalf("a CBC-only TLS 1.2 client negotiated %s", tls.CipherSuiteName(conn.ConnectionState().CipherSuite))
			}
		})
	}
}

// A client that sends its headers slowly (Slowloris) is disconnected once
// ReadHeaderTimeout has passed, over plain HTTP and over TLS.
func TestSlowHeaderClientIsCutOff(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	for _, useTLS := range []bool{false, true} {
		name := "plain HTTP"
		if useTLS {
			name = "TLS"
		}
		t.Run(name, func(t *testing.T) {
			cfg := https.TLSConfig()
			cfg.Certificates = []tls.Certificate{dev.TLS}
			srv, err := https.NewServer(https.ServerOptions{
				Handler:           http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
				TLSConfig:         cfg,
				ReadHeaderTimeout: timeout,
				ErrorLog:          log.New(io.Discard, "", 0),
			})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if useTLS {
				go func() { _ = srv.ServeTLS(ln, "", "") }()
			} else {
				go func() { _ = srv.Serve(ln) }()
			}
			defer srv.Close()

			// The server's ReadHeaderTimeout starts once it has accepted
			// the connection, so no earlier than the dial: timed from
			// here, the connection lasts at least the timeout however
			// late this goroutine runs after the dial.
			start := time.Now()
			var conn net.Conn
			conn, err = net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if useTLS {
				tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
				if err := tc.Handshake(); err != nil {
					t.Fatal(err)
				}
				conn = tc
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: "); err != nil {
				t.Fatal(err)
			}
			// Trickle one byte every 50 ms, never finishing the headers.
			done := make(chan error, 1)
			go func() {
				for {
					time.Sleep(50 * time.Millisecond)
					if _, err := io.WriteString(conn, "a"); err != nil {
						done <- err
						return
					}
				}
			}()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, readErr := bufio.NewReader(conn).ReadString('\n')
			elapsed := time.Since(start)
			var ne net.Error
			if errors.As(readErr, &ne) && ne.Timeout() {
				t.Fatalf("the server kept the slow connection open for 5 s")
			}
			if elapsed < timeout-50*time.Millisecond || elapsed > timeout+2*time.Second {
				t.Errorf("connection cut after %v, want about %v", elapsed, timeout)
			}
		})
	}
}

func TestNewServer(t *testing.T) {
	h := http.NotFoundHandler()
	srv, err := https.NewServer(https.ServerOptions{Addr: ":8443", Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	if srv.ReadHeaderTimeout != https.DefaultReadHeaderTimeout || srv.ReadTimeout != https.DefaultReadTimeout ||
		srv.WriteTimeout != https.DefaultWriteTimeout || srv.IdleTimeout != https.DefaultIdleTimeout ||
		srv.MaxHeaderBytes != https.DefaultMaxHeaderBytes || srv.TLSConfig.MinVersion != tls.VersionTLS12 || srv.Addr != ":8443" {
		t.Errorf("defaults not applied: %+v", srv)
	}

	// Found in review: a ReadTimeout shorter than the default header
	// timeout was refused; the default now follows it.
	short, err := https.NewServer(https.ServerOptions{Handler: h, ReadTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("ReadTimeout 2s: %v", err)
	}
	if short.ReadHeaderTimeout != 2*time.Second || short.ReadTimeout != 2*time.Second {
		t.Errorf("ReadTimeout 2s: header timeout %v, read timeout %v", short.ReadHeaderTimeout, short.ReadTimeout)
	}

	tests := []struct {
		name string
		o    https.ServerOptions
		want error
	}{
		{"no handler", https.ServerOptions{}, https.ErrOption},
		{"a negative timeout", https.ServerOptions{Handler: h, WriteTimeout: -time.Second}, https.ErrTimeout},
		{"a header timeout beyond the read timeout", https.ServerOptions{Handler: h, ReadHeaderTimeout: time.Minute, ReadTimeout: time.Second}, https.ErrTimeout},
		{"a header limit over 1 MiB", https.ServerOptions{Handler: h, MaxHeaderBytes: 2 << 20}, https.ErrOption},
		{"TLS 1.0 allowed", https.ServerOptions{Handler: h, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS10}}, https.ErrTLSConfig},
		{"a zero MinVersion", https.ServerOptions{Handler: h, TLSConfig: &tls.Config{}}, https.ErrTLSConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := https.NewServer(tt.o); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// The natural first try, a tls.Config holding only a certificate, is
// refused for its zero MinVersion; the error says what to write instead.
func TestNewServerZeroMinVersionSaysWhatToSet(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = https.NewServer(https.ServerOptions{Handler: http.NotFoundHandler(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{dev.TLS}}})
	if !errors.Is(err, https.ErrTLSConfig) || !strings.Contains(err.Error(), "TLSConfig()") || !strings.Contains(err.Error(), "tls.VersionTLS12") {
		t.Errorf("error %v, want ErrTLSConfig naming tls.VersionTLS12 and TLSConfig()", err)
	}
}

func TestCheckTLSConfig(t *testing.T) {
	aead := https.TLSConfig().CipherSuites
	tests := []struct {
		name string
		c    *tls.Config
		ok   bool
	}{
		{"the hardened config passes", https.TLSConfig(), true},
		{"TLS 1.3 only passes", &tls.Config{MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.1 fails", &tls.Config{MinVersion: tls.VersionTLS11}, false},
		{"an RSA key exchange suite fails", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, false},
		{"a CBC suite fails", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}, false},
		// crypto/tls ignores TLS 1.3 suites in CipherSuites; listing them
		// weakens nothing.
		{"TLS 1.3 suites listed with an AEAD suite pass", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		// An empty list is crypto/tls's defaults, which still enable the
		// ECDHE CBC-SHA suites for TLS 1.2: a CBC-only client negotiated
		// TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA with a config that passed.
		{"no cipher suites with TLS 1.2 fails", &tls.Config{MinVersion: tls.VersionTLS12}, false},
		{"an empty cipher suite list with TLS 1.2 fails", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{}}, false},
		{"no cipher suites with TLS 1.2 as MaxVersion fails", &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}, false},
		{"no cipher suites with TLS 1.3 only passes", &tls.Config{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}, true},
		{"InsecureSkipVerify fails", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: aead, InsecureSkipVerify: true}, false},
		{"a KeyLogWriter fails", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: aead, KeyLogWriter: io.Discard}, false},
		// crypto/tls draws the ephemeral ECDHE key from Rand, under
		// Go 1.25 to 1.27 alike: with a reader of zeros every TLS 1.2
		// connection had the same X25519 key share, which anyone can
		// undo, and the handshake still succeeded.
		{"a Rand fails", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: aead, Rand: zeroReader{}}, false},
		{"crypto/rand.Reader as Rand passes", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: aead, Rand: rand.Reader}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := https.CheckTLSConfig(tt.c)
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, https.ErrTLSConfig) {
				t.Errorf("CheckTLSConfig = %v", err)
			}
		})
	}
	a, b := https.TLSConfig(), https.TLSConfig()
	a.CipherSuites[0] = 0
	if b.CipherSuites[0] == 0 || !strings.Contains(strings.Join(b.NextProtos, ","), "h2") {
		t.Error("TLSConfig values share state")
	}
}

// zeroReader reads zeros, a random source as a test helper might set one.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestTLSConfigSuitesHaveForwardSecrecyAndAEAD checks every suite
// crypto/tls knows: TLSConfig lists only ECDHE suites with AES-GCM or
// ChaCha20-Poly1305, and CheckTLSConfig refuses every other TLS 1.2 suite.
func TestTLSConfigSuitesHaveForwardSecrecyAndAEAD(t *testing.T) {
	good := func(name string) bool {
		return strings.HasPrefix(name, "TLS_ECDHE_") &&
			(strings.HasSuffix(name, "_GCM_SHA256") || strings.HasSuffix(name, "_GCM_SHA384") || strings.HasSuffix(name, "_CHACHA20_POLY1305_SHA256"))
	}
	listed := https.TLSConfig().CipherSuites
	if len(listed) == 0 {
		t.Fatal("TLSConfig lists no cipher suite: crypto/tls's defaults include CBC suites")
	}
	for _, s := range listed {
		if name := tls.CipherSuiteName(s); !good(name) {
			t.Errorf("TLSConfig lists %s", name)
		}
	}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		tls12 := slices.Contains(s.SupportedVersions, tls.VersionTLS12)
		if !tls12 {
			continue // TLS 1.3 suites, which crypto/tls ignores here
		}
		err := https.CheckTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{s.ID}})
		if (err == nil) != good(s.Name) {
			t.Errorf("CheckTLSConfig with %s: %v", s.Name, err)
		}
	}
}

// net/http has no header timeout for HTTP/2: ReadHeaderTimeout is spent
// once the TLS handshake is done, and a client that sends a header block a
// CONTINUATION frame at a time, never ending it, held the connection until
// IdleTimeout (120 s by default), where an HTTP/1.1 client doing the same
// is cut off after ReadHeaderTimeout. A client in the middle of a header
// block cannot answer a PING (any other frame there is a protocol error),
// so the server's ping health check cuts it off instead.
func TestSlowHTTP2HeaderBlockIsCutOff(t *testing.T) {
	const timeout = 300 * time.Millisecond
	// IdleTimeout left at its 120 s default.
	addr, _ := startDevTLS(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), timeout)
	start := time.Now() // before the server can have started its clock
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	block := func(name, value string) []byte {
		var b bytes.Buffer
		_ = hpack.NewEncoder(&b).WriteField(hpack.HeaderField{Name: name, Value: value})
		return b.Bytes()
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":method", "GET"), EndStream: true}); err != nil {
		t.Fatal(err)
	}
	// Trickle one header field every 50 ms, never ending the block.
	go func() {
		for {
			time.Sleep(50 * time.Millisecond)
			if err := fr.WriteContinuation(1, false, block("x-slow", "a")); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, readErr := io.Copy(io.Discard, conn) // the server's frames, until it closes
	var ne net.Error
	if errors.As(readErr, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the HTTP/2 connection with an unfinished header block open for 10 s")
	}
	if elapsed := time.Since(start); elapsed < timeout-50*time.Millisecond {
		t.Errorf("connection cut after %v, before ReadHeaderTimeout (%v)", elapsed, timeout)
	}
}

// The ping that cuts off a slow header block is answered by any HTTP/2
// client that is merely waiting: a handler slower than twice
// ReadHeaderTimeout still delivers its response.
func TestHTTP2ClientWaitingForASlowHandlerIsNotCutOff(t *testing.T) {
	// A second: the client must answer each ping within it, which a
	// loaded machine running the race detector can delay.
	const timeout = time.Second
	addr, dev := startDevTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * timeout) // two pings, both answered
		_, _ = io.WriteString(w, r.Proto)
	}), timeout)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(body) != "HTTP/2.0" {
		t.Errorf("body %q, error %v; want HTTP/2.0", body, err)
	}
}

// TestOptionsAsteriskReachesTheHandler: net/http answers "OPTIONS *"
// itself, past every middleware, unless the server says otherwise; the
// server NewServer builds sends it to the handler like any request.
func TestOptionsAsteriskReachesTheHandler(t *testing.T) {
	var target string
	srv, err := https.NewServer(https.ServerOptions{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			target = r.RequestURI
			w.Header().Set("X-Seen", "yes")
			w.WriteHeader(http.StatusNoContent)
		}),
		ErrorLog: log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := testenv.RawRequest(t, testenv.Serve(t, srv), "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Seen") != "yes" || target != "*" {
		t.Errorf("OPTIONS *: status %d, X-Seen %q, handler saw %q; want the handler's 204", resp.StatusCode, resp.Header.Get("X-Seen"), target)
	}
}

// TLSConfig leaves key exchange to Go's defaults, which put the
// X25519MLKEM768 post-quantum hybrid first, as the package documentation
// says: a client that offers it gets it, and one that offers only it is
// served.
func TestTLSKeyExchangeIsPostQuantumHybrid(t *testing.T) {
	addr, dev := startDevTLS(t, http.NotFoundHandler(), 0)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)
	tests := []struct {
		name   string
		curves []tls.CurveID // the client's, nil for Go's defaults
		want   tls.CurveID
	}{
		{"a default client", nil, tls.X25519MLKEM768},
		{"a client offering X25519 first", []tls.CurveID{tls.X25519, tls.X25519MLKEM768}, tls.X25519MLKEM768},
		{"a client offering only the hybrid", []tls.CurveID{tls.X25519MLKEM768}, tls.X25519MLKEM768},
		{"a client without it", []tls.CurveID{tls.X25519, tls.CurveP256}, tls.X25519},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", CurvePreferences: tt.curves})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got := conn.ConnectionState().CurveID; got != tt.want {
				t.Errorf("key exchange %v, want %v", got, tt.want)
			}
		})
	}
}

// A client that opens a connection and never completes the TLS handshake
// is cut off as one that never completes its headers is: net/http bounds
// the handshake by the shortest of the server's timeouts, which NewServer
// always sets.
func TestStalledTLSHandshakeIsCutOff(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr, _ := startDevTLS(t, http.NotFoundHandler(), timeout)
	tests := []struct {
		name string
		send []byte
	}{
		{"nothing sent", nil},
		{"the start of a ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, readErr := io.Copy(io.Discard, conn)
			var ne net.Error
			if errors.As(readErr, &ne) && ne.Timeout() {
				t.Fatal("the server kept the connection with an unfinished handshake open for 5 s")
			}
			if elapsed := time.Since(start); elapsed > timeout+2*time.Second {
				t.Errorf("connection cut after %v, want about %v", elapsed, timeout)
			}
		})
	}
}

// MaxHeaderBytes is enforced on the wire: a request whose header fields
// pass it (net/http allows 4 KiB over) is refused with 431 over HTTP/1.1,
// and over HTTP/2 the limit is advertised in SETTINGS, so the client
// refuses to send it, or the server refuses it.
func TestMaxHeaderBytesRefusesLargeHeaders(t *testing.T) {
	addr, dev := startDevTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 0)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CertPEM)
	tests := []struct {
		name   string
		size   int
		h2     bool
		status int // 0: the client refuses to send it
	}{
		{"HTTP/1.1 headers under the limit", 32 << 10, false, 200},
		{"HTTP/1.1 headers over the limit", 100 << 10, false, 431},
		{"HTTP/2 headers under the limit", 32 << 10, true, 200},
		{"HTTP/2 headers over the limit", 100 << 10, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, ForceAttemptHTTP2: tt.h2}
			if !tt.h2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "https://"+addr+"/", nil)
			req.Header.Set("X-Big", strings.Repeat("a", tt.size))
			res, err := (&http.Client{Transport: tr}).Do(req)
			switch {
			case err != nil && tt.status == 0 && (strings.Contains(err.Error(), "larger than peer's advertised limit") ||
				strings.Contains(err.Error(), "COMPRESSION_ERROR")):
				// Refused by the client once it has the server's
				// SETTINGS, or, sent before them, by the server, which
				// then closes the connection.
			case err != nil:
				t.Fatalf("error %v, want status %d", err, tt.status)
			default:
				res.Body.Close()
				if res.ProtoMajor != map[bool]int{false: 1, true: 2}[tt.h2] {
					t.Fatalf("served over %s", res.Proto)
				}
				if res.StatusCode != tt.status && !(tt.status == 0 && res.StatusCode == 431) {
					t.Errorf("%s: status %d, want %d", res.Proto, res.StatusCode, tt.status)
				}
			}
		})
	}
}

// net/http's HTTP/2 server refuses to start, from ServeTLS, when a TLS 1.2
// config lists cipher suites without one of the two ECDHE AES-128-GCM
// suites RFC 9113 §9.2.2 requires. Such a config passed NewServer, whose
// server then failed at ListenAndServeTLS: an option error found after
// New. It is refused by NewServer; without TLS 1.2, or with one of the
// suites, it serves.
func TestNewServerRefusesSuitesHTTP2CannotStartWith(t *testing.T) {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	aes256 := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}
	for _, tt := range []struct {
		name   string
		min    uint16
		suites []uint16
		ok     bool
	}{
		{"TLS 1.2 without an AES-128-GCM suite is refused", tls.VersionTLS12, aes256, false},
		{"TLS 1.2 with an AES-128-GCM suite serves", tls.VersionTLS12, append([]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, aes256...), true},
		{"TLS 1.3 only serves whatever the list", tls.VersionTLS13, aes256, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := https.NewServer(https.ServerOptions{
				Handler:   http.NotFoundHandler(),
				TLSConfig: &tls.Config{MinVersion: tt.min, Certificates: []tls.Certificate{dev.TLS}, CipherSuites: tt.suites},
				ErrorLog:  log.New(io.Discard, "", 0),
			})
			if !tt.ok {
				if !errors.Is(err, https.ErrOption) {
					t.Errorf("NewServer error %v, want ErrOption", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.ServeTLS(ln, "", "") }()
			select {
			case err := <-done:
				t.Fatalf("ServeTLS: %v", err)
			case <-time.After(200 * time.Millisecond):
			}
			srv.Close()
		})
	}
}

// A MaxVersion below MinVersion leaves no protocol version: NewServer
// accepted it, and its server failed every handshake, an option error
// found per connection rather than at start.
func TestNewServerRefusesMaxVersionBelowMinVersion(t *testing.T) {
	h := http.NotFoundHandler()
	for _, tt := range []struct {
		name     string
		min, max uint16
		want     error
	}{
		{"MaxVersion TLS 1.2 under MinVersion TLS 1.3", tls.VersionTLS13, tls.VersionTLS12, https.ErrOption},
		{"MaxVersion TLS 1.1 under MinVersion TLS 1.2", tls.VersionTLS12, tls.VersionTLS11, https.ErrOption},
		{"MaxVersion equal to MinVersion", tls.VersionTLS12, tls.VersionTLS12, nil},
		{"no MaxVersion", tls.VersionTLS13, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := https.NewServer(https.ServerOptions{Handler: h, TLSConfig: &tls.Config{MinVersion: tt.min, MaxVersion: tt.max}})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("NewServer error %v, want %v", err, tt.want)
			}
		})
	}
}
