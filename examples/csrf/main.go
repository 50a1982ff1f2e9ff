// Command csrf serves a form that changes state, protected by the csrf
// middleware: cross-site and cross-origin submissions are rejected from
// the headers browsers send (Sec-Fetch-Site, Origin), and, because tokens
// are enabled, clients that send neither header (old browsers, or curl)
// must post the token from the form. A webhook route is exempt, with its
// reason. Each request is logged on stderr by errorsafe, a rejection with
// the reason csrf recorded; the 403 problem the client gets carries only
// the request ID, to quote when reporting it.
//
// Run it:
//
//	go run ./examples/csrf                 # listens on 127.0.0.1:8080
//	go run ./examples/csrf -addr 127.0.0.1:9090
//
// Set CSRF_KEY to 64 hex digits (32 random bytes, e.g. from
// "openssl rand -hex 32") to keep tokens valid across restarts; without it
// an ephemeral key is generated and a warning is logged. Open
// http://127.0.0.1:8080/ in a browser and submit the form, or use curl:
//
//	# A cross-site form post, as a browser sends it: 403.
//	curl -i -X POST http://127.0.0.1:8080/transfer -H 'Sec-Fetch-Site: cross-site'
//
//	# An old browser posting from another origin: 403.
//	curl -i -X POST http://127.0.0.1:8080/transfer -H 'Origin: https://evil.example'
//
//	# The same origin (Origin matches scheme, host and port): 200.
//	curl -i -X POST http://127.0.0.1:8080/transfer -H 'Origin: http://127.0.0.1:8080'
//
//	# Neither header and no token: 403 (token missing).
//	curl -i -X POST http://127.0.0.1:8080/transfer
//
//	# Load the form, keep its cookie, post its token: 200.
//	tok=$(curl -s -c /tmp/jar http://127.0.0.1:8080/ | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
//	curl -i -b /tmp/jar -X POST http://127.0.0.1:8080/transfer -d "csrf_token=$tok&amount=5"
//
//	# The exempt webhook accepts a cross-site post.
//	curl -i -X POST http://127.0.0.1:8080/webhooks/demo -H 'Sec-Fetch-Site: cross-site'
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"html/template"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<title>Transfer</title>
<form method="post" action="/transfer">
{{.CSRF}}
<label>Amount <input name="amount" value="5"></label>
<button>Send</button>
</form>
`))

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	key, err := loadKey(os.Getenv("CSRF_KEY"))
	if err != nil {
		log.Fatal(err)
	}

	handler, err := newHandler(key, nil)
	if err != nil {
		log.Fatal(err)
	}
	log.Print("WARNING: plain HTTP: the token cookie is sent without Secure; use HTTPS in production")

	srv, err := https.NewServer(https.ServerOptions{Addr: *addr, Handler: handler})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("listening on http://%s", *addr)
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

// newHandler returns the routes inside csrf, the security headers and
// errorsafe, outermost last. errorsafe logs to logger; nil means the
// default slog logger.
func newHandler(key []byte, logger *slog.Logger) (http.Handler, error) {
	p, err := csrf.New(csrf.Options{
		Exempt: []csrf.Exemption{
			{Pattern: "POST /webhooks/demo", Reason: "called server to server; authenticate it with a signature, not cookies"},
		},
		Tokens: &csrf.TokenOptions{
			Key: key,
			// This example serves plain HTTP, where browsers and curl drop
			// Secure cookies. Serve HTTPS in production and remove this.
			DangerouslyAllowInsecureCookie: true,
		},
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store") // the page carries a per-user token
		_ = page.Execute(w, map[string]any{"CSRF": csrf.TemplateField(r)})
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("transfer accepted\n"))
	})
	mux.HandleFunc("POST /webhooks/demo", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("webhook accepted\n"))
	})

	// Security headers outside csrf, as in the recommended stack order;
	// above all no framing: another site could frame this form and have a
	// user click Send (clickjacking), a post from the page itself that no
	// CSRF check can tell apart.
	sec, err := headers.New(headers.HTML())
	if err != nil {
		return nil, err
	}

	// errorsafe outermost: one access record per request on stderr, with
	// the reason the csrf middleware recorded when it rejected one (the
	// client never sees it), and the request ID in every 403 problem.
	es := errorsafe.MustNew(errorsafe.Options{Logger: logger})
	return es.Handler(sec.Handler(p.Handler(mux))), nil
}

// loadKey returns the token key of CSRF_KEY, v: 64 hex digits. Unset, it
// is a random key for this process alone, with a warning; set to anything
// else, it is an error, which never echoes the value: a typo must not
// fall back to a key that dies at the next restart.
func loadKey(v string) ([]byte, error) {
	if v == "" {
		log.Print("WARNING: CSRF_KEY is not set; using an ephemeral key. Tokens will not survive a restart " +
			"and will not verify on other instances. Set CSRF_KEY to 64 hex digits of secret random data.")
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
		return key, nil
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) != 32 {
		return nil, errors.New("CSRF_KEY: not 64 hex digits (make one with: openssl rand -hex 32)")
	}
	return key, nil
}
