// Command https serves HTTPS the way package https recommends: a hardened
// http.Server (timeouts, header limit, TLS 1.2+ with AEAD suites only), a
// plain HTTP listener that redirects to HTTPS without ever trusting the
// Host header, HSTS from package headers on HTTPS responses only, and
// certificates from one of three sources:
//
//	go run ./examples/https -tls-dev                       # self-signed development certificate
//	go run ./examples/https -cert cert.pem -key key.pem    # certificate files
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
// The development certificate is self-signed and marked as such; never
// use -tls-dev in production.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
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
	addr := flag.String("addr", "127.0.0.1:8080", "HTTPS listen address")
	httpAddr := flag.String("http-addr", "127.0.0.1:8081", `plain HTTP listen address for the redirect ("" to disable)`)
	tlsDev := flag.Bool("tls-dev", false, "generate a self-signed development certificate for localhost")
	certFile := flag.String("cert", "", "certificate chain file (PEM)")
	keyFile := flag.String("key", "", "private key file (PEM)")
	acmeHosts := flag.String("acme-host", "", "comma-separated host names to obtain certificates for with ACME")
	acmeCache := flag.String("acme-cache", "", "directory for ACME certificates and account key")
	acmeEmail := flag.String("acme-email", "", "ACME account contact address")
	acmeStaging := flag.Bool("acme-staging", false, "use the Let's Encrypt staging CA")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatalf("-addr: %v", err)
	}
	httpsPort, err := strconv.Atoi(port)
	if err != nil {
		log.Fatalf("-addr: port %q", port)
	}

	// The certificate source decides the TLS configuration.
	tlsConfig := https.TLSConfig()
	var acme *https.ACME
	redirectOpts := redirectOptions(httpsPort, *tlsDev)
	switch {
	case *tlsDev:
		dev, err := https.NewDevCert(https.DevCertOptions{})
		if err != nil {
			log.Fatal(err)
		}
		// A directory of its own, not a fixed name in a shared temporary
		// directory, where another user could have planted a symbolic link
		// for this write to follow.
		dir, err := os.MkdirTemp("", "httpguard-dev-")
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(dir, "cert.pem")
		if err := os.WriteFile(path, dev.CertPEM, 0o644); err != nil {
			log.Fatal(err)
		}
		logger.Warn("DEVELOPMENT CERTIFICATE: self-signed, for localhost only, never use -tls-dev in production", "cacert", path)
		tlsConfig.Certificates = []tls.Certificate{dev.TLS}
	case *certFile != "" || *keyFile != "":
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			log.Fatal(err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
		redirectOpts.Host = canonical(host, port, pair.Leaf)
	case *acmeHosts != "":
		names := strings.Split(*acmeHosts, ",")
		o := https.ACMEOptions{Hosts: names, CacheDir: *acmeCache, Email: *acmeEmail, AcceptTOS: true}
		if *acmeStaging {
			o.DirectoryURL = "https://acme-staging-v02.api.letsencrypt.org/directory"
		}
		if acme, err = https.NewACME(o); err != nil {
			log.Fatal(err)
		}
		tlsConfig = acme.TLSConfig()
		redirectOpts.Host = names[0]
		redirectOpts.AllowedHosts = names
	default:
		fmt.Fprintln(os.Stderr, "https: choose a certificate: -tls-dev, -cert and -key, or -acme-host")
		flag.Usage()
		os.Exit(2)
	}

	// Security headers on every response, the plain HTTP listener's
	// included (see plainHandler); HSTS only on HTTPS responses, never on
	// the plain HTTP redirect.
	sec, err := headers.New(headers.Options{})
	if err != nil {
		log.Fatal(err)
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
	srv, err := https.NewServer(https.ServerOptions{Addr: *addr, Handler: sec.Handler(app), TLSConfig: tlsConfig})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers := []*http.Server{srv}
	errc := make(chan error, 2)

	if *httpAddr != "" {
		rd, err := https.NewRedirect(redirectOpts)
		if err != nil {
			log.Fatal(err)
		}
		plain, err := https.NewServer(https.ServerOptions{Addr: *httpAddr, Handler: plainHandler(sec, rd, acme, app)})
		if err != nil {
			log.Fatal(err)
		}
		servers = append(servers, plain)
		go func() { errc <- plain.ListenAndServe() }()
		logger.Info("redirecting", "from", "http://"+*httpAddr+"/", "to", redirectOpts.Host)
	}
	go func() { errc <- srv.ListenAndServeTLS("", "") }()
	logger.Info("listening", "url", "https://"+net.JoinHostPort(displayHost(host), port)+"/")

	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdown); err != nil {
			log.Printf("shutdown: %v", err)
		}
	}
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

// canonical picks the redirect host for a certificate file: the first DNS
// name it covers, or else the listen host, with the HTTPS port unless 443.
func canonical(host, port string, leaf *x509.Certificate) string {
	h := displayHost(host)
	if leaf != nil && len(leaf.DNSNames) > 0 && !strings.Contains(leaf.DNSNames[0], "*") {
		h = leaf.DNSNames[0]
	}
	if port == "443" {
		return bracket(h)
	}
	return net.JoinHostPort(h, port)
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
