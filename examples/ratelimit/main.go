// Command ratelimit is a runnable server showing package ratelimit: a
// per-address and global limit on an API route, a batch route charged by
// its items, a login route protected
// by a per-address limit and the failed-attempt limiter, and load shedding
// on a slow route. With -redis the limits are shared through Redis.
//
//	go run ./examples/ratelimit                                  # 127.0.0.1:8080, in memory
//	go run ./examples/ratelimit -addr 127.0.0.1:9090 -redis redis://localhost:6379/0
//
// Watch the API limit (20 a minute per address) turn into 429s, with the
// RateLimit field counting down and Retry-After from the 21st request:
//
//	for i in $(seq 1 25); do
//		curl -s -o /dev/null -w '%{http_code} %header{ratelimit} %header{retry-after}\n' http://127.0.0.1:8080/api
//	done
//
// Send batches: they count as many requests as the items they declare,
// 100 items a minute per address however they are split. A second batch
// of 60 waits for 60 items' worth to come back (Retry-After: 12); a batch
// of more than 100 is refused for good, without Retry-After:
//
//	for n in 60 60 40 500; do
//		curl -s -o /dev/null -w "$n items: %{http_code} %header{ratelimit} %header{retry-after}\n" -X POST "http://127.0.0.1:8080/api/batch?count=$n"
//	done
//
// Guess a password: after 10 failures for alice from your address every
// attempt, the right password included, gets 429 for 15 minutes, while bob
// still logs in (with the password in RATELIMIT_DEMO_PASSWORD, or the one
// printed at start):
//
//	for i in $(seq 1 12); do
//		curl -s -w ' %{http_code}\n' -d user=alice -d password=guess http://127.0.0.1:8080/login
//	done
//	curl -s -w ' %{http_code}\n' -d user=bob --data-urlencode "password=$RATELIMIT_DEMO_PASSWORD" http://127.0.0.1:8080/login
//
// Overload the slow route (2 in flight at most) and see 503s:
//
//	for i in $(seq 1 5); do curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8080/slow & done; wait
//
// (curl older than 7.84 has no %header{}: use curl -si and read the
// RateLimit and Retry-After lines.)
//
// Each request is logged on stderr by errorsafe, a refusal (429, 401, 503)
// with its reason, never the password.
//
// A Redis URL with a password goes in the environment variable
// RATELIMIT_REDIS_URL instead: -redis refuses one, since any user of the
// machine can read a command line (ps).
//
// The demo password comes from the RATELIMIT_DEMO_PASSWORD environment
// variable; without it a random one is generated and printed. It is
// hashed with argon2id at start and only the hashes are kept, as a real
// user store keeps them; logins are verified by auth.CheckPassword. The server
// trusts no proxy: behind one, configure a clientip.Resolver. It speaks
// plain HTTP, so an -addr off loopback is refused.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/ratelimit/redisstore"
)

// demoPasswordEnv names the environment variable with the demo users'
// password.
const demoPasswordEnv = "RATELIMIT_DEMO_PASSWORD"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on: a loopback one, since this server speaks plain HTTP")
	redisFlag := flag.String("redis", "", "Redis URL (redis://host:port/db) to share limits, without a password (with one, set "+redisURLEnv+"); default: in memory")
	flag.Parse()

	if err := checkLoopback(*addr); err != nil {
		log.Fatal(err)
	}
	pw := os.Getenv(demoPasswordEnv)
	if pw == "" {
		pw = rand.Text()
		fmt.Fprintf(os.Stderr, "\n*** DEMO USERS: alice and bob / %s\n*** random password for this run only; set %s to choose one\n\n", pw, demoPasswordEnv)
	}

	users, err := demoUsers(pw)
	if err != nil {
		log.Fatal(err)
	}
	rawURL, err := redisURL(*redisFlag, os.Getenv(redisURLEnv))
	if err != nil {
		log.Fatal(err)
	}
	handler, cleanup, err := newHandler(rawURL, users, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()

	srv, err := https.NewServer(https.ServerOptions{Addr: *addr, Handler: handler})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("listening on http://%s (routes: /api, POST /api/batch?count=N, POST /login, /slow)", *addr)
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

// demoUsers returns the users alice and bob, both with the password pw,
// stored as argon2id hashes (password.Hash, each with its own salt): the
// password itself is not kept. A real service loads the hashes from its
// user database instead.
func demoUsers(pw string) (*auth.MemoryUsers, error) {
	users := auth.NewMemoryUsers()
	for _, name := range []string{"alice", "bob"} {
		if err := users.AddPassword(name, pw, identity.Options{}); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", name, err)
		}
	}
	return users, nil
}

// newHandler returns the routes inside errorsafe and a function that
// closes the Redis client, if any. With a Redis URL the limits live in
// Redis: the login limits fail closed when it is down, the API limit fails
// open. errorsafe logs to logger; nil means the default slog logger.
func newHandler(redisURL string, users auth.UserStore, logger *slog.Logger) (http.Handler, func(), error) {
	var resolver *clientip.Resolver // direct connections; behind a proxy, name it here
	var apiStore, loginStore ratelimit.Store
	cleanup := func() {}
	if redisURL != "" {
		// Checked at start: a wrong address or password would otherwise
		// be a fail-open API limit and a log line on every request.
		client, err := openRedis(redisURL)
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { client.Close() }
		apiStore, err = redisstore.New(redisstore.Options{
			Client:   client,
			FailOpen: true,
			OnError:  func(err error) { log.Printf("rate limit store: %v", err) },
		})
		if err != nil {
			return nil, nil, err
		}
		if loginStore, err = redisstore.New(redisstore.Options{Client: client}); err != nil {
			return nil, nil, err
		}
	}

	api, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			{Name: "ip", Rate: 20, Period: time.Minute},
			{Name: "api", Rate: 1000, Period: time.Second, Key: ratelimit.Global()},
		},
		ClientIP: resolver,
		Store:    apiStore,
	})
	if err != nil {
		return nil, nil, err
	}
	// A batch counts as many requests as its items, as its count says.
	batch, err := ratelimit.New(ratelimit.Options{
		Limits:   []ratelimit.Limit{{Name: "items", Rate: 100, Period: time.Minute, Cost: batchCost}},
		ClientIP: resolver,
		Store:    apiStore,
	})
	if err != nil {
		return nil, nil, err
	}
	// The route limit catches floods; the attempt limiter catches guessing
	// without slowing the right user down.
	loginLimit, err := ratelimit.New(ratelimit.Options{
		Limits:   []ratelimit.Limit{{Name: "login-ip", Rate: 30, Period: time.Minute}},
		ClientIP: resolver,
		Store:    loginStore,
	})
	if err != nil {
		return nil, nil, err
	}
	attempts, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{Store: loginStore})
	if err != nil {
		return nil, nil, err
	}
	shed, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 2})
	if err != nil {
		return nil, nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /api", api.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})))
	mux.Handle("POST /api/batch", batch.Handler(errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		n, ok := batchCount(r)
		if !ok {
			return &errorsafe.Error{Status: http.StatusBadRequest, Public: "count must be a number of items from 1 to 1000.", Err: errBadCount}
		}
		fmt.Fprintf(w, "accepted %d items\n", n)
		return nil
	})))
	mux.Handle("POST /login", loginLimit.Handler(loginHandler(attempts, resolver, users)))
	mux.Handle("GET /slow", shed.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
			fmt.Fprintln(w, "done")
		case <-r.Context().Done():
		}
	})))

	// errorsafe outermost: one access record per request on stderr, with
	// the reason of a refusal (the client never sees it).
	es, err := errorsafe.New(errorsafe.Options{Logger: logger})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return es.Handler(mux), cleanup, nil
}

// redisURLEnv names the environment variable that may hold the Redis URL.
const redisURLEnv = "RATELIMIT_REDIS_URL"

// redisURL returns the Redis URL of -redis (flagURL) or of
// RATELIMIT_REDIS_URL (envURL), at most one of them set. -redis with
// credentials is refused: a command line is visible to every user of the
// machine (ps), the environment of a process is not. No error shows the URL.
func redisURL(flagURL, envURL string) (string, error) {
	switch {
	case flagURL != "" && envURL != "":
		return "", errors.New("-redis and " + redisURLEnv + " are both set: choose one")
	case strings.Contains(flagURL, "@"):
		return "", errors.New("-redis: a URL with credentials would show them in ps; set " + redisURLEnv + " instead")
	case envURL != "":
		return envURL, nil
	}
	return flagURL, nil
}

// errBadRedisURL never echoes the URL, which may hold a password.
var errBadRedisURL = errors.New("-redis or " + redisURLEnv + ": not a Redis URL (redis://[user:password@]host:port/db, with '#', '/', '?' and '@' in the password percent-encoded)")

// parseRedisURL parses a Redis URL. It may hold a password, so no error
// shows any part of it: a URL that does not parse as meant (an unescaped
// '#' or '@' in the password moves part of it into the host, the port or
// a fragment, where a parse or dial error would show it) is refused.
func parseRedisURL(rawURL string) (*redis.Options, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" || u.Fragment != "" || strings.Contains(u.Host+u.Path+u.RawQuery, "@") {
		return nil, errBadRedisURL
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, errBadRedisURL
	}
	opts.ContextTimeoutEnabled = true // a request's deadline ends its Redis calls
	return opts, nil
}

// openRedis connects to the Redis server of rawURL and checks that it
// answers: a wrong address or password is a mistake to report at start,
// not a failure on every request.
func openRedis(rawURL string) (*redis.Client, error) {
	opts, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return client, nil
}

// loginHandler checks a user name and password from a form, as package
// auth's authenticators do with an attempt limiter (auth.CheckPassword
// documents the steps): Reserve first, which counts the attempt as a
// failure, atomically, so concurrent guesses cannot all pass before one is
// counted; then verify with auth.CheckPassword, which costs the same
// argon2id work for an unknown user as for a wrong password; then record
// the success, which clears the failures. Each refusal is a problem
// document with the request ID, and its reason goes to errorsafe's access
// log.
func loginHandler(attempts *ratelimit.AttemptLimiter, resolver *clientip.Resolver, users auth.UserStore) http.Handler {
	return errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err != nil {
			// Refused before any attempt is counted: a form cut short
			// would count a failure under a truncated user name.
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return err // 413
			}
			// The parse error may quote the body, the password: the
			// log gets a reason of its own.
			return &errorsafe.Error{Status: http.StatusBadRequest, Public: "Malformed form.", Err: errMalformedForm}
		}
		user, pass := r.PostForm.Get("user"), r.PostForm.Get("password")
		ip := resolver.Addr(r) // nil resolver: the peer address
		ctx := r.Context()
		if retry, err := attempts.Reserve(ctx, user, ip); err != nil {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
			if errors.Is(err, ratelimit.ErrStore) {
				// The store cannot answer (Redis down): refused all the
				// same (fail closed), but as the server's fault, not as
				// a lockout the user earned.
				return &errorsafe.Error{Status: http.StatusServiceUnavailable, Public: "Please try again later.", Err: err}
			}
			return &errorsafe.Error{Status: http.StatusTooManyRequests, Public: "Too many failed attempts.", Err: err}
		}
		id, err := auth.CheckPassword(ctx, users, user, pass)
		if errors.Is(err, auth.ErrUnavailable) {
			// The user store failed, or the client left while its
			// verification waited for a turn to hash.
			return &errorsafe.Error{Status: http.StatusServiceUnavailable, Public: "Please try again later.", Err: err}
		}
		if err != nil {
			// A 401 names a scheme; Basic would make a browser that
			// posted the form pop up its own login dialog.
			w.Header().Set("WWW-Authenticate", `Form realm="demo", form-action="/login"`)
			return &errorsafe.Error{Status: http.StatusUnauthorized, Public: "Wrong user name or password.", Err: err}
		}
		if err := attempts.RecordSuccess(ctx, user, ip); err != nil {
			log.Printf("attempts: %v", err)
		}
		fmt.Fprintf(w, "welcome, %s\n", id.Subject)
		return nil
	})
}

// batchCount returns the count of items a batch request declares in its
// query, 1 to 1000.
func batchCount(r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.URL.Query().Get("count"))
	return n, err == nil && n >= 1 && n <= 1000
}

// batchCost is the batch limit's Limit.Cost: the count of items, or 1 for
// a request that declares none the handler takes (it answers 400), so
// that malformed requests are counted too. Never negative: a negative
// cost would be answered 500.
func batchCost(r *http.Request) int {
	if n, ok := batchCount(r); ok {
		return n
	}
	return 1
}

// errBadCount is the reason logged for a batch without a valid count.
var errBadCount = errors.New("batch: invalid count")

// errMalformedForm is the reason logged for a login form that does not
// parse; the parse error may quote part of the body, the password.
var errMalformedForm = errors.New("login: malformed form")

// checkLoopback refuses a listen address off loopback: this server speaks
// plain HTTP, and POST /login takes passwords, in clear to anyone on the
// network. Serve HTTPS elsewhere (see examples/https).
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.IsLoopback()) {
		return fmt.Errorf("-addr %s: plain HTTP off loopback would send passwords in clear; listen on a loopback address and serve HTTPS elsewhere", addr)
	}
	return nil
}
