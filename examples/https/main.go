// Command https serves HTTPS the way package https recommends: a hardened
// http.Server (timeouts, header limit, TLS 1.2+ with AEAD suites only), a
// plain HTTP listener that redirects to HTTPS without ever trusting the
// Host header, HSTS from package headers on HTTPS responses only, and
// certificates from one of three sources:
//
//	go run ./examples/https -tls-dev                       # self-signed development certificate
//	go run ./examples/https -cert cert.pem -key key.pem    # certificate files
//	go run ./examples/https -cert cert.pem -key key.pem -host www.example.com
//	go run ./examples/https -addr :443 -http-addr :80 \
//	    -acme-host example.com -acme-cache /var/lib/example/acme -acme-email ops@example.com
//
// By default HTTPS listens on 127.0.0.1:8080 (-addr) and the redirect on
// 127.0.0.1:8081 (-http-addr, "" to disable). With -tls-dev the
// certificate, valid for localhost, 127.0.0.1 and ::1, is written to a
// new temporary directory whose path is printed, so curl can check it:
//
//	curl -i --cacert /tmp/httpguard-dev-NNNN/cert.pem https://localhost:8080/   # the path printed at start
//	curl -i -k https://127.0.0.1:8080/                  # or skip verification
//	curl -i 'http://127.0.0.1:8081/some/path?q=1'       # 301 to https://127.0.0.1:8080/some/path?q=1
//	curl -i -X POST http://127.0.0.1:8081/form          # 400: a body sent in clear is refused, not redirected
//	curl -i -H 'Host: evil.example' http://127.0.0.1:8081/   # 301 to https://localhost:8080/, never evil.example
//	curl -i -k --tls-max 1.1 https://127.0.0.1:8080/    # refused: TLS 1.2 is the minimum
//
// With certificate files, plain HTTP is redirected to -host, or else to
// the certificate's first name that is not a wildcard, or else to its
// first IP address; a certificate with none of these is refused at start,
// rather than redirecting every visitor to a host they cannot verify.
//
// The development certificate is self-signed and marked as such; never
// use -tls-dev in production.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "https:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, o, logger, nil); err != nil {
		log.Fatal(err)
	}
}

// options are the command line's.
type options struct {
	addr, httpAddr    string
	tlsDev            bool
	certFile, keyFile string
	host              string
	acmeHosts         string
	acmeCache         string
	acmeEmail         string
	acmeStaging       bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("https", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "HTTPS listen address")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8081", `plain HTTP listen address for the redirect ("" to disable)`)
	fs.BoolVar(&o.tlsDev, "tls-dev", false, "generate a self-signed development certificate for localhost")
	fs.StringVar(&o.certFile, "cert", "", "certificate chain file (PEM)")
	fs.StringVar(&o.keyFile, "key", "", "private key file (PEM)")
	fs.StringVar(&o.host, "host", "", "with -cert: the host plain HTTP is redirected to (default: the certificate's first name that is not a wildcard, else its first IP address)")
	fs.StringVar(&o.acmeHosts, "acme-host", "", "comma-separated host names to obtain certificates for with ACME")
	fs.StringVar(&o.acmeCache, "acme-cache", "", "directory for ACME certificates and account key")
	fs.StringVar(&o.acmeEmail, "acme-email", "", "ACME account contact address")
	fs.BoolVar(&o.acmeStaging, "acme-staging", false, "use the Let's Encrypt staging CA")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	sources := 0
	for _, set := range []bool{o.tlsDev, o.certFile != "" || o.keyFile != "", o.acmeHosts != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return o, errors.New("choose one certificate source: -tls-dev, -cert and -key, or -acme-host")
	}
	if o.host != "" && o.certFile == "" {
		return o, errors.New("-host goes with -cert")
	}
	return o, nil
}

// run serves until ctx is done. ready, if not nil, is told the listening
// addresses (plain is nil without -http-addr) once both accept
// connections.
func run(ctx context.Context, o options, logger *slog.Logger, ready func(tlsAddr, plain net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	host, _, _ := net.SplitHostPort(o.addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String()) // the port chosen for ":0"
	httpsPort, _ := strconv.Atoi(port)

	// The certificate source decides the TLS configuration.
	tlsConfig := https.TLSConfig()
	var acme *https.ACME
	redirectOpts := redirectOptions(httpsPort, o.tlsDev)
	switch {
	case o.tlsDev:
		dev, err := https.NewDevCert(https.DevCertOptions{})
		if err != nil {
			return err
		}
		// A directory of its own, not a fixed name in a shared temporary
		// directory, where another user could have planted a symbolic link
		// for this write to follow.
		dir, err := os.MkdirTemp("", "httpguard-dev-")
		if err != nil {
			return err
		}
		path := filepath.Join(dir, "cert.pem")
		if err := os.WriteFile(path, dev.CertPEM, 0o644); err != nil {
			return err
		}
		logger.Warn("DEVELOPMENT CERTIFICATE: self-signed, for localhost only, never use -tls-dev in production", "cacert", path)
		tlsConfig.Certificates = []tls.Certificate{dev.TLS}
	case o.certFile != "" || o.keyFile != "":
		pair, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return err
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
		if redirectOpts.Host, err = redirectHost(pair.Leaf, o.host, port); err != nil {
			return err
		}
	default:
		names := strings.Split(o.acmeHosts, ",")
		ao := https.ACMEOptions{Hosts: names, CacheDir: o.acmeCache, Email: o.acmeEmail, AcceptTOS: true}
		if o.acmeStaging {
			ao.DirectoryURL = "https://acme-staging-v02.api.letsencrypt.org/directory"
		}
		if acme, err = https.NewACME(ao); err != nil {
			return err
		}
		tlsConfig = acme.TLSConfig()
		redirectOpts.Host = names[0]
		redirectOpts.AllowedHosts = names
	}

	// Security headers on every response, the plain HTTP listener's
	// included (see plainHandler); HSTS only on HTTPS responses, never on
	// the plain HTTP redirect.
	sec, err := headers.New(headers.Options{})
	if err != nil {
		return err
	}
	app := http.NewServeMux()
	app.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	app.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.TLS == nil {
			fmt.Fprintf(w, "%s %s over %s without TLS\n", r.Method, r.URL.RequestURI(), r.Proto)
			return
		}
		fmt.Fprintf(w, "%s %s over %s with %s, %s\n", r.Method, r.URL.RequestURI(), r.Proto,
			tls.VersionName(r.TLS.Version), tls.CipherSuiteName(r.TLS.CipherSuite))
	})
	srv, err := https.NewServer(https.ServerOptions{Addr: o.addr, Handler: sec.Handler(app), TLSConfig: tlsConfig})
	if err != nil {
		return err
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)

	var plainAddr net.Addr
	if o.httpAddr != "" {
		rd, err := https.NewRedirect(redirectOpts)
		if err != nil {
			return err
		}
		plain, err := https.NewServer(https.ServerOptions{Addr: o.httpAddr, Handler: plainHandler(sec, rd, acme, app)})
		if err != nil {
			return err
		}
		pln, err := lc.Listen(ctx, "tcp", o.httpAddr)
		if err != nil {
			return err
		}
		plainAddr = pln.Addr()
		servers = append(servers, plain)
		go func() { errc <- plain.Serve(pln) }()
		logger.Info("redirecting", "from", "http://"+plainAddr.String()+"/", "to", redirectTarget(redirectOpts))
	}
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	logger.Info("listening", "url", "https://"+net.JoinHostPort(displayHost(host), port)+"/")
	if ready != nil {
		ready(ln.Addr(), plainAddr)
	}

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdown); err != nil {
			logger.Warn("shutdown", "error", err)
		}
	}
	return serveErr
}

// redirectOptions returns the options of the redirect to HTTPS on port,
// which lets /healthz through. With dev (-tls-dev) a request for a
// loopback name keeps it, and any other goes to localhost.
func redirectOptions(port int, dev bool) https.RedirectOptions {
	o := https.RedirectOptions{HTTPSPort: port, Exempt: []string{"/healthz"}}
	if dev {
		o.Host = "localhost:" + strconv.Itoa(port)
		o.AllowedHosts = []string{"localhost", "127.0.0.1", "[::1]"}
	}
	return o
}

// redirectTarget names where the redirect sends requests, for the log.
func redirectTarget(o https.RedirectOptions) string {
	if o.Host != "" {
		return o.Host
	}
	return strings.Join(o.AllowedHosts, ",")
}

// plainHandler serves the plain HTTP listener: ACME's HTTP-01 challenges
// first (acme may be nil), then the redirect to HTTPS, which lets the
// exempt paths reach app. The security headers sit just outside the
// redirect, as in the recommended stack order, so that the redirects,
// the 400 for other methods and the exempt paths carry them too; package
// headers leaves HSTS off plain HTTP by itself.
func plainHandler(sec *headers.Middleware, rd *https.Redirect, acme *https.ACME, app http.Handler) http.Handler {
	h := sec.Handler(rd.Handler(app))
	if acme != nil {
		h = acme.HTTPHandler(h)
	}
	return h
}

// redirectHost returns the host[:port] plain HTTP is redirected to, for a
// server with the certificate leaf on port: host (-host), which the
// certificate must be valid for, or else the certificate's first name
// that is not a wildcard, or else its first IP address. A certificate
// naming none of these is an error: the listen address ("0.0.0.0",
// "localhost" for a browser) is no host a visitor can be sent to.
func redirectHost(leaf *x509.Certificate, host, port string) (string, error) {
	if host != "" {
		if err := leaf.VerifyHostname(host); err != nil {
			return "", fmt.Errorf("-host %s: %w", host, err)
		}
	} else {
		for _, name := range leaf.DNSNames {
			if !strings.Contains(name, "*") {
				host = name
				break
			}
		}
		if a, ok := netip.AddrFromSlice(firstIP(leaf)); host == "" && ok {
			host = a.Unmap().String()
		}
		if host == "" {
			return "", errors.New("-cert names no host to redirect plain HTTP to (only wildcards, no IP address): name one with -host")
		}
	}
	if port == "443" {
		return bracket(host), nil
	}
	return net.JoinHostPort(host, port), nil
}

func firstIP(leaf *x509.Certificate) net.IP {
	if len(leaf.IPAddresses) == 0 {
		return nil
	}
	return leaf.IPAddresses[0]
}

// displayHost names an unspecified listen address localhost.
func displayHost(host string) string {
	switch host {
	case "", "0.0.0.0", "::":
		return "localhost"
	}
	return host
}

func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
