// Command sanitize is a JSON API that decodes, sanitizes and validates its
// input with package sanitize: the Go counterpart of a Pydantic model plus
// bleach.
//
//	go run ./examples/sanitize                      # listens on 127.0.0.1:8080
//	go run ./examples/sanitize -addr 127.0.0.1:9090
//
// Then, in another terminal:
//
//	# 201: the markup that is not allowed is removed, the rest kept (and
//	# JSON-escaped in the answer: {"author":"Alice","body":"\u003cb\u003ehi\u003c/b\u003e"}).
//	curl -i localhost:8080/comment/ -H 'Content-Type: application/json' \
//	  -d '{"author":" Alice ","body":"<b>hi</b><script>alert(1)</script>"}'
//
//	# 422: each failing field by name, the rule and a message, never the value.
//	curl -i localhost:8080/comment/ -H 'Content-Type: application/json' \
//	  -d '{"author":"","body":""}'
//
//	# 400: unknown field, a name in another letter case ("Author"),
//	# duplicate key, trailing data; 415: wrong type; 413: over 64 KiB.
//	curl -i localhost:8080/comment/ -H 'Content-Type: application/json' -d '{"body":"x","admin":true}'
//	curl -i localhost:8080/comment/ -H 'Content-Type: application/json' -d '{"Author":"a","body":"x"}'
//	curl -i localhost:8080/comment/ -H 'Content-Type: text/plain' -d '{}'
//
//	# Query decoding with the same rules.
//	curl -i 'localhost:8080/search?q=go&page=2'
//
// Each request is logged on stderr by errorsafe, a rejection with the
// reason sanitize recorded, never the submitted values; the problem the
// client gets carries the request ID.
//
// Comments are kept in memory. With a database, pass input as query
// arguments, never in the query text: sanitizing is not the defence
// against SQL injection, parameters are.
//
//	db.ExecContext(ctx, "INSERT INTO comments (author, body) VALUES ($1, $2)", c.Author, c.Body)
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
	"sync"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/sanitize"
)

// Comment is the body of POST /comment/.
type Comment struct {
	Author string `json:"author" sanitize:"trim,nfc,text" validate:"required,max=64"`
	Body   string `json:"body" sanitize:"trim,html=ugc" validate:"required,max=4000"`
}

// Search is the query of GET /search.
type Search struct {
	Q    string `form:"q" sanitize:"trim" validate:"required,max=100"`
	Page int    `form:"page" validate:"gte=0,lte=1000"`
}

// maxComments bounds the in-memory comment store.
const maxComments = 1000

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	handler, err := newHandler(nil)
	if err != nil {
		log.Fatal(err)
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

// newHandler returns the routes, with their in-memory comment store,
// inside errorsafe. errorsafe logs to logger; nil means the default slog
// logger.
func newHandler(logger *slog.Logger) (http.Handler, error) {
	dec, err := sanitize.New(sanitize.Options{MaxBytes: 64 << 10})
	if err != nil {
		return nil, err
	}
	var (
		mu       sync.Mutex
		comments []Comment
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /comment/{$}", func(w http.ResponseWriter, r *http.Request) {
		c, err := sanitize.DecodeJSON[Comment](dec, w, r)
		if err != nil {
			return // the 4xx problem response has been written
		}
		mu.Lock()
		// A demo store, bounded: the newest maxComments are kept, so
		// that anonymous posts cannot grow it without end.
		if len(comments) == maxComments {
			comments = append(comments[:0], comments[1:]...)
		}
		comments = append(comments, c)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(c)
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		s, err := sanitize.DecodeQuery[Search](dec, w, r)
		if err != nil {
			return
		}
		mu.Lock()
		total := len(comments)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"q": s.Q, "page": s.Page, "total": total})
	})

	// errorsafe outermost: one access record per request on stderr, with
	// the reason sanitize recorded for a rejection (the client never sees
	// it), and the request ID in every problem.
	es, err := errorsafe.New(errorsafe.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	return es.Handler(mux), nil
}
