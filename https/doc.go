// Package https moves clients to HTTPS and serves it safely: a redirect
// from plain HTTP that cannot be turned into an open redirect, an
// [http.Server] with timeouts against slow clients, a hardened
// [tls.Config], certificates from an ACME CA (Let's Encrypt) through
// golang.org/x/crypto/acme/autocert, and self-signed certificates for
// local development.
//
//	rd, err := https.NewRedirect(https.RedirectOptions{Host: "example.com"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv, err := https.NewServer(https.ServerOptions{Addr: ":443", Handler: app})
//	if err != nil {
//		log.Fatal(err)
//	}
//	plain, err := https.NewServer(https.ServerOptions{Addr: ":80", Handler: rd.Handler(http.NotFoundHandler())})
//	if err != nil {
//		log.Fatal(err)
//	}
//	go func() { log.Fatal(plain.ListenAndServe()) }() // not http.ListenAndServe: no timeouts
//	log.Fatal(srv.ListenAndServeTLS("cert.pem", "key.pem"))
//
// # Redirect
//
// [Redirect] answers a GET or HEAD request that did not come over HTTPS
// with 301 to the same path and query on https. A request with another
// method is refused with 400, as golang.org/x/crypto/acme/autocert does:
// its body has already crossed the network in clear, and a redirect would
// let the client carry on without anyone noticing
// (RedirectOptions.RedirectUnsafeMethods redirects it with 308 instead,
// which keeps the method and body). Whether a request came over HTTPS is
// decided by a [clientip.Resolver]: by default a TLS connection to this
// server, behind a proxy the X-Forwarded-Proto (or Forwarded proto) of a
// trusted proxy only. unrolled/secure and echo believe X-Forwarded-Proto
// from any client, which lets a client on plain HTTP skip the redirect.
//
// The target host is never copied from the request unchecked. A Host
// listed in RedirectOptions.AllowedHosts, or matching one of its
// "*.example.com" patterns, is redirected to itself, normalized (lower
// case, no trailing dot); any other Host goes to the canonical
// RedirectOptions.Host, or gets a 400 when there is none. Redirect
// middleware that builds the Location from the Host header is an open
// redirect into a cacheable 301 (VaporSecurityHeaders#28,
// TerriaJS/terriajs-server#368, reinhardt-web#1513).
//
// Exempt paths ([ACMEChallengePath], a health check) are served over plain
// HTTP. Use a 302/307 (RedirectOptions.Temporary) while trying a
// deployment: browsers cache 301 and 308.
//
// A redirect does not protect the first request, which an attacker on the
// network sees and can answer: that is what HSTS (package headers) and
// the HSTS preload list are for. A form posted over plain HTTP has already
// leaked its content when the answer arrives.
//
// # Server and TLS
//
// [NewServer] sets ReadHeaderTimeout (5 s), ReadTimeout (30 s),
// WriteTimeout (60 s), IdleTimeout (120 s) and MaxHeaderBytes (64 KiB):
// without them a client that sends its headers a byte at a time
// (Slowloris) holds a connection and a goroutine forever. net/http
// applies ReadHeaderTimeout to HTTP/1 only, so over HTTP/2 NewServer pings
// a connection that has sent no frame for ReadHeaderTimeout and closes it
// when no answer comes as long: a client stuck in the middle of a header
// block cannot answer. Handlers that stream for longer extend their own
// deadline with [http.ResponseController].
//
// [TLSConfig] accepts TLS 1.2 and 1.3 only; TLS 1.2 is limited to ECDHE
// key exchange with AES-GCM or ChaCha20-Poly1305, so every connection has
// forward secrecy and an AEAD cipher. Key exchange uses Go's defaults,
// which include the X25519MLKEM768 post-quantum hybrid.
//
// # Certificates
//
// [NewACME] obtains and renews certificates for a fixed list of host names.
// Its [ACME.HTTPHandler] answers HTTP-01 challenges on port 80 and hands
// everything else to the redirect; [ACME.TLSConfig] serves the
// certificates and answers TLS-ALPN-01 challenges on port 443. Keep the
// cache directory private: it holds the account and certificate keys.
//
// [NewDevCert] generates a self-signed ECDSA certificate for localhost and
// special-use names (.localhost, .test, .example, .invalid), marked
// [DevCertOrganization], so HTTPS works in development with no setup.
// Clients must be told to trust it (curl --cacert, or -k). It is held in
// memory, not in files: add it to a copy of [TLSConfig] and start the
// server with empty file names.
//
//	dev, err := https.NewDevCert(https.DevCertOptions{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg := https.TLSConfig() // a bare &tls.Config{Certificates: …} is refused: its MinVersion is unset
//	cfg.Certificates = []tls.Certificate{dev.TLS}
//	srv, err := https.NewServer(https.ServerOptions{Addr: "127.0.0.1:8443", Handler: app, TLSConfig: cfg})
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(srv.ListenAndServeTLS("", ""))
//
// # Security considerations
//
//   - Trust exactly the proxies in front of the service in the
//     clientip.Resolver; otherwise any client decides whether it is on
//     HTTPS.
//   - Send HSTS (package headers) on HTTPS responses so browsers stop
//     making plain HTTP requests at all.
//   - Rejections never echo request data. A redirect's Location takes
//     from the request only its path and query, escaped, and a Host
//     that AllowedHosts matched, normalized; every other part comes
//     from configuration.
//   - Development certificates are for development: they are self-signed
//     and refuse public names.
package https
