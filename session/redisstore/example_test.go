package redisstore_test

import (
	"log"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/redisstore"
)

// Sessions shared by every instance of a service through Redis. (Not run
// as a test: it needs a Redis server.)
func ExampleNew() {
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL")) // e.g. redis://localhost:6379/0
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.New(redisstore.Options{Client: redis.NewClient(opts)})
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := session.New(session.Options{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServeTLS(":8443", "cert.pem", "key.pem", sessions.Handler(http.NotFoundHandler())))
}

// A CookieStore whose revocations (logouts) are shared by every instance,
// so a logged-out cookie is dead everywhere.
func ExampleNew_cookieStoreRevocations() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	revocations, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: "myapp:revoked:"})
	if err != nil {
		log.Fatal(err)
	}
	store, err := session.NewCookieStore(session.CookieStoreOptions{
		Keys:        []session.KeyPair{{HashKey: []byte(os.Getenv("SESSION_HASH_KEY")), BlockKey: []byte(os.Getenv("SESSION_BLOCK_KEY"))}},
		Revocations: revocations,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = session.MustNew(session.Options{Store: store})
}
