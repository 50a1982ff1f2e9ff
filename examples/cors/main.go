// Command cors serves a small JSON API behind the cors middleware, to show
// what browsers see: preflights answered with the allow headers, actual
// responses carrying Access-Control-Allow-Origin for allowed origins only,
// Vary on every response, and failed preflights rejected with a generic
// 403 whose reason is logged.
//
// Run it:
//
//	go run ./examples/cors                 # listens on 127.0.0.1:8080
//	go run ./examples/cors -addr 127.0.0.1:9090
//
// It allows https://app.example.com, every subdomain of example.com over
// https, and http://localhost:3000 (a development front end), with
// credentials, PUT and DELETE, and the Content-Type and X-Request-ID
// headers. Try it with curl:
//
//	# A preflight from an allowed origin: 204 with the allow headers.
//	curl -i -X OPTIONS http://127.0.0.1:8080/api/items \
//	  -H 'Origin: http://localhost:3000' \
//	  -H 'Access-Control-Request-Method: PUT' \
//	  -H 'Access-Control-Request-Headers: content-type'
//
//	# An actual request from a subdomain: Access-Control-Allow-Origin echoes it.
//	curl -i http://127.0.0.1:8080/api/items -H 'Origin: https://admin.example.com'
//
//	# A look-alike origin: the handler runs, but no CORS header comes back.
//	curl -i http://127.0.0.1:8080/api/items -H 'Origin: https://evilexample.com'
//
//	# A preflight for a header that is not allowed: 403, reason in the log.
//	curl -i -X OPTIONS http://127.0.0.1:8080/api/items \
//	  -H 'Origin: http://localhost:3000' \
//	  -H 'Access-Control-Request-Method: PUT' \
//	  -H 'Access-Control-Request-Headers: x-secret'
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	handler, err := newHandler(nil)
	if err != nil {
		log.Fatal(err) // a bad configuration fails at start, never per request
	}

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

// newHandler returns the API routes inside cors and errorsafe, outermost
// last. errorsafe logs to logger; nil means the default slog logger.
func newHandler(logger *slog.Logger) (http.Handler, error) {
	c, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.com", "http://localhost:3000"},
		AllowedMethods:   []string{http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "X-Request-ID"},
		ExposedHeaders:   []string{"X-Total-Count"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
	if err != nil {
		return nil, err
	}

	items := []string{"apple", "pear"}
	mux := http.NewServeMux()
	// Method-specific patterns are fine here because CORS wraps the whole
	// mux: the OPTIONS preflight is answered before routing.
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Total-Count", "2")
		_ = json.NewEncoder(w).Encode(items)
	})
	mux.HandleFunc("PUT /api/items", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /api/items", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})

	// CORS sits outside everything else, authentication included:
	// browsers send preflights without credentials. errorsafe, outermost,
	// logs each request through logger (main passes nil: the default slog
	// logger, on stderr) with the reason of a rejection, which the client
	// never sees.
	es, err := errorsafe.New(errorsafe.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	return es.Handler(c.Handler(mux)), nil
}
