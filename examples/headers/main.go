// Command headers is a small site that shows package headers at work: the
// HTML preset with a nonce-based Content Security Policy on a page rendered
// by html/template, the API preset on a JSON endpoint, a route that may be
// framed by its own origin, a CSP violation report endpoint, and an
// allowed-hosts check against Host header attacks.
//
//	go run ./examples/headers                      # listens on 127.0.0.1:8080
//	go run ./examples/headers -addr 127.0.0.1:9000
//	go run ./examples/headers -allowed-hosts localhost:8080,app.test   # Host values served (default localhost,127.0.0.1,[::1], any port)
//
// Try it with curl:
//
//	curl -i http://127.0.0.1:8080/              # HTML preset, CSP nonce in header and page
//	curl -i http://127.0.0.1:8080/api/time      # API preset: default-src 'none'
//	curl -i http://127.0.0.1:8080/embed         # frame-ancestors 'self', X-Frame-Options: SAMEORIGIN
//	curl -i -H 'Host: evil.example' http://127.0.0.1:8080/   # 400, Host not allowed
//	curl -i -H 'Content-Type: application/csp-report' \
//	     --data '{"csp-report":{"effective-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js"}}' \
//	     http://127.0.0.1:8080/csp-report       # 204, logged on the server
//
// Any client can post reports, so /csp-report takes at most 30 a minute
// from one address (429 beyond), which keeps a client from flooding the log.
//
// Strict-Transport-Security is absent above because the requests are plain
// HTTP (RFC 6797). Behind a TLS-terminating proxy, name it with
// -trusted-proxy and its X-Forwarded-Proto is believed; a client's own is
// not:
//
//	go run ./examples/headers -trusted-proxy 127.0.0.1/32
//	curl -i -H 'X-Forwarded-Proto: https' http://127.0.0.1:8080/api/time   # now with HSTS
//
// Reload the page in a browser with its console open: the inline script
// runs because it carries the nonce; the one without it is blocked and
// reported to /csp-report.
//
// Each request is logged on stderr by errorsafe, a refusal (a Host not
// allowed, a report over the limit) with its reason.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/ratelimit"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>httpguard headers</title>
<style nonce="{{.Nonce}}">body { font-family: sans-serif; margin: 2rem; }</style>
</head>
<body>
<h1>Security headers</h1>
<p id="ok">The nonced script did not run.</p>
<p>This page's nonce is <code>{{.Nonce}}</code>; reload and it changes.</p>
<script nonce="{{.Nonce}}">document.getElementById("ok").textContent = "The nonced script ran.";</script>
<script>alert("an injected script without the nonce: blocked by CSP")</script>
<p><a href="/embed">a page this site may frame</a> · <a href="/api/time">the JSON API</a></p>
</body>
</html>
`))

// defaultAllowedHosts is the -allowed-hosts default: the loopback names.
const defaultAllowedHosts = "localhost,127.0.0.1,[::1]"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	hosts := flag.String("allowed-hosts", defaultAllowedHosts, "comma-separated allowed Host values (any port unless given)")
	proxy := flag.String("trusted-proxy", "", "CIDR of a TLS-terminating proxy whose X-Forwarded-Proto is trusted")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	var rv *clientip.Resolver
	if *proxy != "" {
		p, err := netip.ParsePrefix(*proxy)
		if err != nil {
			log.Fatalf("-trusted-proxy: %v", err)
		}
		if rv, err = clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{p}}); err != nil {
			log.Fatalf("-trusted-proxy: %v", err)
		}
	}

	handler, err := newHandler(strings.Split(*hosts, ","), rv, logger)
	if err != nil {
		log.Fatal(err)
	}

	srv, err := https.NewServer(https.ServerOptions{Addr: *addr, Handler: handler})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr) // listen first, so the log names the bound port
	if err != nil {
		log.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "url", listenURL(ln.Addr()))
	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Printf("shutdown: %v", err)
	}
}

// listenURL returns the URL of a server listening on a. On every address
// (-addr :8080) it names localhost, which the default -allowed-hosts
// serves, rather than [::] or 0.0.0.0, which it refuses with 400.
func listenURL(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err == nil && ap.Addr().IsUnspecified() {
		return "http://" + net.JoinHostPort("localhost", strconv.Itoa(int(ap.Port()))) + "/"
	}
	return "http://" + a.String() + "/"
}

// newHandler returns the site's routes, each inside its variant of the
// security headers. Requests whose Host is not in hosts are refused; rv,
// if not nil, names the proxies whose X-Forwarded-Proto is believed. The
// routes are inside errorsafe, which logs each request to logger, as CSP
// violation reports and render failures are.
func newHandler(hosts []string, rv *clientip.Resolver, logger *slog.Logger) (http.Handler, error) {
	// The site: the HTML preset, violations reported to /csp-report.
	opts := headers.HTML()
	opts.ClientIP = rv
	opts.AllowedHosts = hosts
	opts.CSP.ReportURI = "/csp-report"
	opts.CSP.ReportTo = "/csp-report"
	site, err := headers.New(opts)
	if err != nil {
		return nil, err
	}
	// Route variants, built once from the site's options.
	api, err := site.With(func(o *headers.Options) {
		o.CSP = headers.API().CSP
		o.ReferrerPolicy = "" // back to the default, no-referrer
	})
	if err != nil {
		return nil, err
	}
	embed, err := site.With(func(o *headers.Options) { o.CSP.FrameAncestors = []string{headers.Self} })
	if err != nil {
		return nil, err
	}
	reports, err := headers.NewReportHandler(headers.ReportOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	// Every report is logged and anyone can post one: a limit per address
	// (behind the trusted proxy, per client) bounds what one client logs.
	reportLimit, err := ratelimit.New(ratelimit.Options{
		Limits:   []ratelimit.Limit{{Name: "csp-report", Rate: 30, Period: time.Minute}},
		ClientIP: rv,
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", site.Handler(pageHandler(logger)))
	mux.Handle("GET /embed", embed.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("Pages of this origin may frame this one; other sites may not.\n"))
	})))
	mux.Handle("GET /api/time", api.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]string{"time": time.Now().UTC().Format(time.RFC3339)})
	})))
	mux.Handle("POST /csp-report", api.Handler(reportLimit.Handler(reports)))
	mux.Handle("/", site.Handler(http.NotFoundHandler()))

	// errorsafe outermost: one access record per request, with the reason
	// of a refusal (the client never sees it), and the client address rv
	// resolves, as the report limit keys it.
	es, err := errorsafe.New(errorsafe.Options{Logger: logger, ClientIP: rv})
	if err != nil {
		return nil, err
	}
	return es.Handler(mux), nil
}

// pageHandler renders the page with the request's nonce, and logs a
// failure to logger. A response with a nonce must not be stored by shared
// caches.
func pageHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := headers.Nonce(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := page.Execute(w, struct{ Nonce string }{nonce}); err != nil {
			logger.ErrorContext(r.Context(), "render", "error", err)
		}
	})
}
