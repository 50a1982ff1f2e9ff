// Command errorsafe is a small server showing what the errorsafe package
// does: panics become a generic 500, errors returned by handlers become
// problem responses that say nothing about their cause, every response
// carries a request ID, and one structured access record per request goes
// to stderr with credentials redacted. Security events are counted.
//
// Run it and try it with curl:
//
//	go run ./examples/errorsafe                  # listens on 127.0.0.1:8080
//	go run ./examples/errorsafe -addr 127.0.0.1:9000
//
//	curl -i localhost:8080/hello
//	curl -i localhost:8080/invoices/42          # found
//	curl -i localhost:8080/invoices/7           # mapped error: 404 "No such invoice."
//	curl -i localhost:8080/invoices/0           # internal error: generic 500, cause in the log
//	curl -i localhost:8080/panic                # panic: generic 500 with the request ID
//	curl -i localhost:8080/stream               # panic mid-response: the transfer is aborted
//	curl -i localhost:8080/admin                # 401 with WWW-Authenticate, an authentication_failed event
//	curl -i localhost:8080/export               # the application's own 403 problem: request_id added, reason logged
//	curl -i localhost:8080/nope                 # ServeMux 404 as a problem response
//	curl -i -X DELETE localhost:8080/hello      # ServeMux 405, Allow kept
//	curl -i 'localhost:8080/hello?password=hunter2&page=2' -H 'Authorization: Bearer secret'
//	                                             # the log shows password=[REDACTED], no token
//	curl -i localhost:8080/hello -H 'X-Request-ID: gw-1234'           # replaced: curl is no trusted proxy
//	curl -i localhost:8080/hello -H "X-Request-ID: $(printf 'a%.0s' {1..100})"  # replaced
//	curl -s localhost:8080/events               # security events counted by OnEvent
//
// Compare the request ID in a 500 response with the "loading invoice",
// "handler error" or "panic recovered" records on stderr: that is how a
// user's report leads to the cause.
//
// An incoming X-Request-ID is used only from a trusted proxy of
// errorsafe.Options.ClientIP; this server trusts none, so a client cannot
// give its records another request's ID. Behind a gateway that assigns
// IDs, pass a clientip.Resolver listing the gateway's addresses.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
)

var errNoInvoice = errors.New("store: invoice not found")

type config struct{ dbPassword string }

// loadConfig fails the way real code does: it returns nil.
var loadConfig = func() *config { return nil }

// counter counts security events by kind, as a metrics system would.
type counter struct {
	mu sync.Mutex
	n  map[errorsafe.EventKind]int
}

func (c *counter) add(_ context.Context, ev errorsafe.Event) {
	c.mu.Lock()
	c.n[ev.Kind]++
	c.mu.Unlock()
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c.n)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	logger := newLogger(os.Stderr)
	handler, err := newHandler(logger)
	if err != nil {
		log.Fatal(err)
	}

	srv, err := newServer(*addr, handler, logger)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", slog.String("addr", "http://"+*addr))
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

// newServer returns the hardened server of handler, which logs to logger.
func newServer(addr string, handler http.Handler, logger *slog.Logger) (*http.Server, error) {
	return https.NewServer(https.ServerOptions{
		Addr:    addr,
		Handler: handler,
		// Panics are recovered by errorsafe; anything net/http still logs
		// goes through the same structured logger.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
	})
}

// newLogger returns the JSON logger writing to w that main and the
// handler share. LogHandler adds the request ID to the application's own
// records.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(errorsafe.LogHandler(slog.NewJSONHandler(w, nil)))
}

// newHandler returns the routes inside errorsafe, which logs to logger.
func newHandler(logger *slog.Logger) (http.Handler, error) {
	events := &counter{n: make(map[errorsafe.EventKind]int)}
	es, err := errorsafe.New(errorsafe.Options{
		Logger:           logger,
		ReplaceMuxErrors: true,
		LogHeaders:       []string{"Authorization", "Referer"}, // shown redacted
		Errors: []errorsafe.ErrorMapping{
			{Err: errNoInvoice, Status: http.StatusNotFound, Public: "No such invoice."},
		},
		OnEvent: events.add,
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, your request ID is %s\n", errorsafe.RequestIDFrom(r.Context()))
	})
	mux.Handle("GET /invoices/{id}", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		logger.InfoContext(r.Context(), "loading invoice", slog.String("invoice", id))
		switch id {
		case "42":
			w.Header().Set("Content-Type", "application/json")
			_, err := io.WriteString(w, `{"id":42,"total":"99.00"}`+"\n")
			return err
		case "0":
			// The cause is logged with the request ID; the client sees a
			// generic 500.
			return errors.New("pq: password authentication failed for user \"billing\" at 10.0.0.7:5432")
		default:
			return fmt.Errorf("select invoice: %w", errNoInvoice)
		}
	}))
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		cfg := loadConfig()
		fmt.Fprintln(w, cfg.dbPassword) // nil pointer: a runtime panic
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			_ = http.NewResponseController(w).Flush()
		}
		panic("lost the upstream half way")
	})
	mux.Handle("GET /admin", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("WWW-Authenticate", `Bearer realm="example"`)
		return &errorsafe.Error{Status: http.StatusUnauthorized, Err: errors.New("auth: missing bearer token")}
	}))
	mux.HandleFunc("GET /export", func(w http.ResponseWriter, r *http.Request) {
		// The application's own problem, with a detail and an extension
		// member. The middleware adds "request_id" to it, and the reason
		// recorded here goes to the access record, not to the client.
		errorsafe.SetRejectReason(r, errors.New("billing: export quota of 1000 rows used by account 7"))
		body := `{"type":"about:blank","title":"Forbidden","status":403,"detail":"Export quota reached.","limit":1000}` + "\n"
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, body)
	})
	mux.Handle("GET /events", events)
	return es.Handler(mux), nil // outermost
}
