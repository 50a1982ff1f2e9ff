// Command secureapi is a small API with every httpguard protection stacked
// in the recommended order (see package app for the stack and routes). It
// starts with no setup: HTTP on 127.0.0.1:8080, memory stores, keys
// generated for the run, and three demo users whose random passwords are
// printed once on stdout.
//
//	go run ./examples/secureapi
//	go run ./examples/secureapi -tls-dev                       # HTTPS, self-signed; HTTP on 127.0.0.1:8081 redirects
//	go run ./examples/secureapi -addr :443 -http-addr :80 -cert cert.pem -key key.pem
//	go run ./examples/secureapi -redis redis://127.0.0.1:6379/0  # state shared by instances
//	go run ./examples/secureapi -cors-origin https://app.example.com -demo-panic
//
// Users are alice (admin), bob (user) and carol (guest), all with the
// password in SECUREAPI_DEMO_PASSWORD (at least 12 characters) when it is
// set, or accounts from a -users file of argon2id hashes (make a hash with
// -hash-password; hashes below the OWASP minimum are refused, and so are
// bcrypt below cost 10 and a file every user may write). Keys come from
// SECUREAPI_SIGNING_KEY and SECUREAPI_CSRF_KEY (64 hex digits each, two
// different keys: openssl rand -hex 32); a key that is visibly not random
// (all zeros, a repeated pattern) is refused. Without them keys are
// generated for the run, with a warning. With -redis both keys and the
// passwords are required, so that every instance agrees. The Redis URL may
// come from SECUREAPI_REDIS_URL instead of -redis, which keeps its password
// out of ps output (-redis refuses a URL with credentials); it must be a
// well-formed redis:// or rediss:// URL with a host (percent-encode '#',
// '/', '?' and '@' in the password), and no error ever shows it.
//
// Requests must name the service in Host: on loopback, localhost or the
// address listened on; with -cert, a name of the certificate; or the
// names given with -host (repeatable), which replace these. Others get
// 400, against DNS rebinding and Host header injection. With -cert, plain
// HTTP is redirected to the first -host, else the certificate's first
// name that is not a wildcard, else its first IP address, else the -addr
// host if the certificate is valid for it; with none of these, secureapi
// refuses to start.
//
// Plain HTTP is served on loopback only, unless a TLS-terminating proxy
// is in front: -trust-proxy names the proxies' network (no broader than a
// /8 for IPv4 or a /24 for IPv6 outside private address space, since its
// addresses choose the client address the limits count), -host the names
// clients use, which the proxy must forward in Host (nginx: proxy_set_header
// Host $host), and -addr must then be a loopback address (a proxy on this
// machine) or a private address, which the proxy reaches and the internet
// does not:
//
//	go run ./examples/secureapi -addr 127.0.0.1:8080 -trust-proxy 127.0.0.1/32 -host api.example.com
//	go run ./examples/secureapi -addr 10.0.0.5:8080 -trust-proxy 10.0.0.0/24 -host api.example.com
//
// Try it (with jq):
//
//	export SECUREAPI_DEMO_PASSWORD='correct horse battery staple'
//	go run ./examples/secureapi &
//	PAIR=$(curl -s localhost:8080/token -d grant_type=password -d client_id=secureapi-cli \
//	     -d username=bob --data-urlencode "password=$SECUREAPI_DEMO_PASSWORD")
//	TOKEN=$(echo "$PAIR" | jq -r .access_token)
//	curl -s -H "Authorization: Bearer $TOKEN" localhost:8080/users/me/       # bob, user, his scopes
//	curl -i -H "Authorization: Bearer $TOKEN" localhost:8080/users/alice     # 403: not his record
//	curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
//	     -d '{"body":"<b>hi</b><script>alert(1)</script>"}' localhost:8080/comment/   # <b>hi</b>, JSON-escaped: {"body":"\u003cb\u003ehi\u003c/b\u003e"}
//	curl -i -u "bob:$SECUREAPI_DEMO_PASSWORD" localhost:8080/secure-data/   # HTTP Basic
//
// A browser session, with the page's CSRF token (or open
// http://localhost:8080/ in a browser), its cookie in a file only you can
// read (mktemp makes it 0600):
//
//	JAR=$(mktemp)
//	csrf() { curl -s -c "$JAR" -b "$JAR" localhost:8080/ | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p'; }
//	curl -i -c "$JAR" -b "$JAR" localhost:8080/login -d "csrf_token=$(csrf)" \
//	     -d username=alice --data-urlencode "password=$SECUREAPI_DEMO_PASSWORD"     # 303 to /
//	curl -s -b "$JAR" localhost:8080/data                                  # session only
//	curl -i -b "$JAR" -X DELETE localhost:8080/users/carol                 # 204: alice is admin
//	curl -i -c "$JAR" -b "$JAR" localhost:8080/logout -d "csrf_token=$(csrf)" -H 'Origin: https://evil.example'  # 403
//	curl -i -c "$JAR" -b "$JAR" localhost:8080/logout -d "csrf_token=$(csrf)"   # 303; the session is dead everywhere
//
// The tokens stay in shell variables and the cookie in a private file:
// under /tmp, with the usual umask, every user of the machine could read
// them, and each of them can reach this server on loopback.
//
// Ten wrong passwords for one user from one address lock that pair out
// (429 with Retry-After, the right password included) on POST /token,
// POST /login and GET /secure-data/ alike.
//
// Logs are JSON on stderr, one access record per request with its request
// ID, which every error response also carries. Access records are written
// in batches, at most -log-flush (100 ms) after they happen, which saves a
// system call per request; warnings and errors are written at once, and a
// shutdown writes what is left. -log-flush 0 writes every record at once.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
)

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	if o.hashPassword {
		if err := printHash(); err != nil {
			fmt.Fprintln(os.Stderr, "secureapi:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(o))
}

// run serves until SIGINT or SIGTERM and returns the exit status.
func run(o options) int {
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, nil)
	if o.logFlush > 0 {
		buf := newLogBuffer(os.Stderr, o.logFlush)
		defer buf.Close()
		h = flushOnWarn{slog.NewJSONHandler(buf, nil), buf}
	}
	logger := slog.New(errorsafe.LogHandler(h))
	// The Redis client logs through the standard library's log package,
	// in plain text: its records join the JSON log instead.
	redis.SetLogger(redisLog{logger})
	inst, err := setup(o, os.Getenv, os.Stdout, logger)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 1
	}
	defer inst.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, inst, logger); err != nil {
		logger.Error("server failed", "error", err)
		return 1
	}
	return 0
}

// serve listens until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, o options, inst *instance, logger *slog.Logger) error {
	errLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv, err := https.NewServer(https.ServerOptions{Addr: o.addr, Handler: inst.handler, TLSConfig: inst.tlsConfig, ErrorLog: errLog})
	if err != nil {
		return err
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	if inst.tlsConfig != nil {
		go func() { errc <- srv.ListenAndServeTLS("", "") }()
		logger.Info("listening", "url", "https://"+inst.redirect+"/", "addr", o.addr)
		if o.httpAddr != "" {
			// The same stack: its https.Redirect sends plain HTTP to HTTPS.
			plain, err := https.NewServer(https.ServerOptions{Addr: o.httpAddr, Handler: inst.handler, ErrorLog: errLog})
			if err != nil {
				return err
			}
			servers = append(servers, plain)
			go func() { errc <- plain.ListenAndServe() }()
			logger.Info("redirecting plain HTTP", "addr", o.httpAddr, "to", "https://"+inst.redirect+"/")
		}
	} else {
		go func() { errc <- srv.ListenAndServe() }()
		logger.Info("listening", "url", "http://"+o.addr+"/")
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdown); err != nil {
			logger.Warn("shutdown", "error", err)
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// redisLog writes what the Redis client logs (a pool that cannot dial, a
// failed re-authentication) as warnings, with its message as it gives it:
// the same text it wrote on stderr before, which may name the server's
// address.
type redisLog struct{ logger *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...))
}

// printHash reads a password from the first line of stdin and prints its
// argon2id hash, for a -users file.
func printHash() error {
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("no password on stdin")
	}
	h, err := password.Hash(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return err
	}
	fmt.Println(h)
	return nil
}
