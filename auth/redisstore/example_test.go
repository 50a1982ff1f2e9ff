package redisstore_test

import (
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/redisstore"
)

// Example shares refresh tokens and revoked access tokens between the
// instances of a service.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	refresh, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb})
	if err != nil {
		log.Fatal(err)
	}
	denylist, err := redisstore.NewDenylist(redisstore.Options{Client: rdb})
	if err != nil {
		log.Fatal(err)
	}
	_ = auth.TokenEndpointOptions{RefreshStore: refresh /* Issuer, Clients, Users ... */}
	_ = auth.JWTOptions{Denylist: denylist /* Algorithms, Keys ... */}
}
