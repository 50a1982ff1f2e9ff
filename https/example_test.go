package https_test

import (
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/httpguard/httpguard/https"
)

// A plain HTTP request is sent to the same path on HTTPS; the target host
// comes from configuration, never from the request.
func ExampleRedirect_Handler() {
	rd, err := https.NewRedirect(https.RedirectOptions{
		Host:         "example.com",
		AllowedHosts: []string{"example.com", "www.example.com"},
		Exempt:       []string{"/healthz"},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := rd.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	}))
	for _, req := range []struct{ method, host, target string }{
		{"GET", "www.example.com", "/search?q=go"},
		{"POST", "example.com", "/login"},
		{"GET", "evil.example", "/reset-password"},
		{"GET", "example.com", "/healthz"},
	} {
		r := httptest.NewRequest(req.method, req.target, nil)
		r.Host = req.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(strings.TrimSpace(fmt.Sprintln(req.method, req.host+req.target, "→", rec.Code, rec.Header().Get("Location"))))
	}
	// Output:
	// GET www.example.com/search?q=go → 301 https://www.example.com/search?q=go
	// POST example.com/login → 400
	// GET evil.example/reset-password → 301 https://example.com/reset-password
	// GET example.com/healthz → 200
}

// NewServer fills in timeouts and a TLS configuration that refuses TLS
// versions before 1.2.
func ExampleNewServer() {
	srv, err := https.NewServer(https.ServerOptions{Addr: ":8443", Handler: http.NotFoundHandler()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	fmt.Println(tls.VersionName(srv.TLSConfig.MinVersion), srv.TLSConfig.NextProtos)
	// Output:
	// 5s 30s 1m0s 2m0s 65536
	// TLS 1.2 [h2 http/1.1]
}

// A development certificate makes HTTPS work locally; it refuses public
// names.
func ExampleNewDevCert() {
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dev.TLS.Leaf.Subject.Organization[0])
	fmt.Println(dev.TLS.Leaf.DNSNames, dev.TLS.Leaf.IPAddresses)

	_, err = https.NewDevCert(https.DevCertOptions{Hosts: []string{"example.com"}})
	fmt.Println(err)
	// Output:
	// httpguard development certificate - NOT FOR PRODUCTION
	// [localhost] [127.0.0.1 ::1]
	// https: DevCertOptions.Hosts[0] "example.com": development certificates are for local names only: use a loopback address, localhost, or a name under .localhost, .test, .example or .invalid
}

// With ACME, port 80 answers challenges and redirects everything else;
// port 443 serves the certificates.
func ExampleNewACME() {
	acme, err := https.NewACME(https.ACMEOptions{
		Hosts:     []string{"example.com", "www.example.com"},
		CacheDir:  "/var/lib/myapp/acme",
		Email:     "ops@example.com",
		AcceptTOS: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	rd, err := https.NewRedirect(https.RedirectOptions{
		Host:         "example.com",
		AllowedHosts: []string{"example.com", "www.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := https.NewServer(https.ServerOptions{Addr: ":443", Handler: http.NotFoundHandler(), TLSConfig: acme.TLSConfig()})
	if err != nil {
		log.Fatal(err)
	}
	port80 := acme.HTTPHandler(rd.Handler(http.NotFoundHandler()))
	_ = port80 // go http.ListenAndServe(":80", port80); log.Fatal(srv.ListenAndServeTLS("", ""))
	fmt.Println(strings.Join(srv.TLSConfig.NextProtos, " "))
	// Output:
	// h2 http/1.1 acme-tls/1
}
