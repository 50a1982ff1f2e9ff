package redisstore_test

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/ratelimit/redisstore"
)

// One login limit shared by every instance of a service through Redis:
// without it, N instances would admit N times the limit. (Not run as a
// test: it needs a Redis server.)
func ExampleNew() {
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL")) // e.g. redis://localhost:6379/0
	if err != nil {
		log.Fatal(err)
	}
	// The Store bounds each call by its Timeout whatever the client's
	// options; with this one it can leave that to the client, which is
	// faster on every request.
	opts.ContextTimeoutEnabled = true
	store, err := redisstore.New(redisstore.Options{Client: redis.NewClient(opts)})
	if err != nil {
		log.Fatal(err)
	}
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{{Name: "login", Rate: 5, Period: time.Minute}},
		Store:  store, // fails closed (503) while Redis is unreachable
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", lim.Handler(http.NotFoundHandler()))
	log.Fatal(http.ListenAndServe(":8080", mux))
}
