// Command session is a runnable server showing package session: a login
// that stores an identity in a server-side session and renews its ID, data
// kept in the session, a logout that kills every copy of the cookie, and a
// password-reset link signed with an expiry, which works once.
//
//	go run ./examples/session                                  # https://127.0.0.1:8080, memory store
//	go run ./examples/session -addr 127.0.0.1:9090
//	go run ./examples/session -redis redis://127.0.0.1:6379/0  # sessions in Redis
//
// A Redis URL with a password goes in the environment variable
// SESSION_REDIS_URL instead: -redis refuses one, since any user of the
// machine can read a command line (ps).
//
// The session cookie is __Host-session: Secure, HttpOnly, SameSite=Lax,
// Path=/. Browsers only accept it over HTTPS, so the server listens with
// TLS and a throwaway self-signed development certificate from package
// https, made at start (hence curl's -k). The demo user is "demo"; its
// password is the environment variable SESSION_DEMO_PASSWORD or, when
// that is unset, a random one printed once at start (the login below
// reads it from that variable: export it in the shell of the curl
// commands too, or set it to the printed one). It is kept only as an
// argon2id hash, made at start, and logins are verified by
// auth.CheckPassword. With curl and a cookie jar:
//
//	curl -sk -c jar -b jar https://127.0.0.1:8080/               # anonymous
//	curl -sk -c jar -b jar -d user=demo --data-urlencode "password=$SESSION_DEMO_PASSWORD" https://127.0.0.1:8080/login
//	curl -sk -c jar -b jar https://127.0.0.1:8080/               # logged in as demo
//	curl -sk -c jar -b jar -d note=hello https://127.0.0.1:8080/data
//	curl -sk -c jar -b jar https://127.0.0.1:8080/data           # ["hello"]
//	cp jar stolen                                                # someone copies the cookie
//	curl -sk -c jar -b jar -X POST https://127.0.0.1:8080/logout
//	curl -sk -b stolen https://127.0.0.1:8080/data               # 401: the copy died with the logout
//
// A signed, expiring link (the value is readable, not secret), which
// works once: it signs a digest of the password hash it replaces, so the
// reset it allows spends it, and so does any other change of the password:
//
//	curl -sk -X POST -d user=demo https://127.0.0.1:8080/reset-link   # prints a link valid 15 minutes
//	curl -sk "https://127.0.0.1:8080/reset?token=..."                 # "reset allowed for demo"
//	curl -sk https://127.0.0.1:8080/reset -d token=... --data-urlencode "password=$NEW_PASSWORD"  # "password changed for demo"
//	curl -sk https://127.0.0.1:8080/reset -d token=... --data-urlencode "password=$NEW_PASSWORD"  # 410: the link has been used
//
// The signing key is the environment variable SESSION_SIGNING_KEY (64 hex
// digits) or, when it is unset, a random key that dies with the process:
// links then stop working at restart, and the server says so loudly. A key
// that is set but is not 64 hex digits stops the server.
//
// The POST routes read forms of at most 4 KiB and answer a larger body
// with 413, before reading the rest of it.
//
// Only a login starts a session: an anonymous request stores nothing, so
// no one can fill the store without a password (a full MemoryStore
// refuses new sessions, logins included). Sessions last 30 minutes
// without a request and 12 hours at most. A
// store failure (Redis down) is answered with 503, never with an anonymous
// page. Login attempts are not rate limited here; put package ratelimit in
// front of /login in a real service.
//
// Every refusal is an RFC 9457 problem document (application/problem+json)
// with the request ID, and every request is logged on stderr by errorsafe,
// a refusal with its reason, never the password, the session cookie or
// the reset token.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/redisstore"
)

// demoPasswordEnv names the environment variable with the demo user's
// password.
const demoPasswordEnv = "SESSION_DEMO_PASSWORD"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisFlag := flag.String("redis", "", "Redis URL for the session store, without a password (default: in memory; with a password, set "+redisURLEnv+")")
	flag.Parse()

	pw := os.Getenv(demoPasswordEnv)
	if pw == "" {
		pw = rand.Text()
		fmt.Fprintf(os.Stderr, "\n*** DEMO USER: demo / %s\n*** random password for this run only; set %s to choose one\n\n", pw, demoPasswordEnv)
	}
	signingKey, err := loadSigningKey(os.Getenv("SESSION_SIGNING_KEY"))
	if err != nil {
		log.Fatal(err)
	}

	rawURL, err := redisURL(*redisFlag, os.Getenv(redisURLEnv))
	if err != nil {
		log.Fatal(err)
	}
	var store session.Store
	if rawURL != "" {
		rdb, err := openRedis(rawURL)
		if err != nil {
			log.Fatal(err)
		}
		defer rdb.Close()
		if store, err = redisstore.New(redisstore.Options{Client: rdb}); err != nil {
			log.Fatal(err)
		}
	}

	ln, origin, err := listen(*addr)
	if err != nil {
		log.Fatal(err)
	}

	users, err := demoUsers(pw)
	if err != nil {
		log.Fatal(err)
	}
	h, err := newHandler(config{store: store, users: users, signingKey: signingKey, origin: origin})
	if err != nil {
		log.Fatal(err)
	}
	// A development certificate from package https: self-signed, for
	// localhost, 127.0.0.1 and ::1 only.
	dev, err := https.NewDevCert(https.DevCertOptions{})
	if err != nil {
		log.Fatal(err)
	}
	tlsConfig := https.TLSConfig()
	tlsConfig.Certificates = []tls.Certificate{dev.TLS}
	srv, err := https.NewServer(https.ServerOptions{Addr: *addr, Handler: h, TLSConfig: tlsConfig})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	log.Printf("listening on %s (self-signed certificate: use curl -k)", origin)
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

// listen listens on addr and returns the origin of the links the server
// sends, from its own configuration, never from a request's Host header:
// the -addr host (localhost for an unspecified one) and the port listened
// on, which for port 0 is not -addr's.
func listen(addr string) (net.Listener, string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("-addr: %w", err)
	}
	if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
		host = "localhost"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	return ln, "https://" + net.JoinHostPort(host, port), nil
}

// loadSigningKey returns the key of SESSION_SIGNING_KEY, v: 64 hex digits.
// Unset, it is a random key for this process alone, with a warning; set
// to anything else, it is an error, which never echoes the value: a typo
// must not fall back to a key that dies at the next restart.
func loadSigningKey(v string) ([]byte, error) {
	if v == "" {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
		log.Printf("WARNING: SESSION_SIGNING_KEY is unset; using an ephemeral key. Reset links will not survive a restart.")
		return key, nil
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) != 32 {
		return nil, errors.New("SESSION_SIGNING_KEY: not 64 hex digits (make one with: openssl rand -hex 32)")
	}
	return key, nil
}

// redisURLEnv names the environment variable that may hold the Redis URL.
const redisURLEnv = "SESSION_REDIS_URL"

// redisURL returns the Redis URL of -redis (flagURL) or of
// SESSION_REDIS_URL (envURL), at most one of them set. -redis with
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

// demoUsers returns the user demo with the password pw, stored as an
// argon2id hash (password.Hash): the password itself is not kept. A real
// service loads the hashes from its user database instead.
func demoUsers(pw string) (*auth.MemoryUsers, error) {
	users := auth.NewMemoryUsers()
	if err := users.AddPassword("demo", pw, identity.Options{Roles: []string{"user"}}); err != nil {
		return nil, fmt.Errorf("demo user: %w", err)
	}
	return users, nil
}

// userStore holds the accounts: looked up at login, and their password
// hash replaced by a reset only if it is still the one the link was
// signed for (a compare-and-swap, as [auth.MemoryUsers.Rehash] does), so
// that one link cannot change the password twice, even concurrently.
type userStore interface {
	auth.UserStore
	Rehash(ctx context.Context, name, oldHash, newHash string) error
}

type config struct {
	store      session.Store // nil: in memory
	users      userStore     // the accounts, with their password hashes
	signingKey []byte
	origin     string       // scheme://host[:port] of the links the server sends
	logger     *slog.Logger // errorsafe's; nil: the default slog logger
}

// newHandler returns the application: the routes inside the session
// middleware, inside net/http's cross-origin protection, which rejects
// cross-site form posts to /login and /logout (SameSite=Lax alone does
// not cover every browser or same-site attacker), inside errorsafe. Each
// refusal records its reason for errorsafe's access log.
func newHandler(cfg config) (http.Handler, error) {
	sessions, err := session.New(session.Options{Store: cfg.store})
	if err != nil {
		return nil, err
	}
	reset, err := session.NewSigner(session.SignerOptions{
		Keys:    [][]byte{cfg.signingKey},
		Purpose: "password-reset",
		MaxAge:  15 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// The page names the user: no cache may keep it. The middleware
		// adds no-store only to responses that set the cookie.
		w.Header().Set("Cache-Control", "no-store")
		id, ok := identity.FromRequest(r)
		if !ok {
			// No session for an anonymous visitor: each would be a
			// record in the store, which anyone could fill without a
			// password, and a full MemoryStore refuses every new
			// session, logins included. Only a login starts one.
			fmt.Fprintln(w, "anonymous")
			return
		}
		s := session.FromRequest(r)
		n, _ := s.GetInt("visits")
		s.SetInt("visits", n+1)
		fmt.Fprintf(w, "logged in as %s (visit %d)\n", id.Subject(), n+1)
	})
	mux.Handle("POST /login", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := readForm(w, r); err != nil {
			return err
		}
		// auth.CheckPassword verifies the password against the user's
		// argon2id hash, with the same work for an unknown user (a dummy
		// hash) as for a wrong password, so the response time does not
		// tell which users exist; with the request's context, a
		// verification still waiting for its turn is dropped when the
		// client leaves.
		opts, err := auth.CheckPassword(r.Context(), cfg.users, r.PostForm.Get("user"), r.PostForm.Get("password"))
		if errors.Is(err, auth.ErrUnavailable) {
			return unavailable(err)
		}
		if err != nil {
			challenge(w)
			return &errorsafe.Error{Status: http.StatusUnauthorized, Public: "Wrong user name or password.", Err: err}
		}
		// Login renews the session ID (against fixation) and stores the
		// identity; the middleware puts it in the context of the next
		// requests. It keeps the session's values, unless they are
		// another user's (a shared browser, no logout in between): that
		// user's notes are cleared.
		opts.Method = identity.MethodSession
		if err := session.FromRequest(r).Login(identity.New(opts)); err != nil {
			return unavailable(err)
		}
		fmt.Fprintf(w, "logged in as %s\n", opts.Subject)
		return nil
	}))
	mux.Handle("POST /logout", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := readForm(w, r); err != nil {
			return err
		}
		if err := session.FromRequest(r).Destroy(); err != nil {
			return unavailable(err)
		}
		fmt.Fprintln(w, "logged out")
		return nil
	}))
	mux.Handle("GET /data", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := identity.FromRequest(r); !ok {
			challenge(w)
			return errNotLoggedIn
		}
		notes := []string{}
		if _, err := session.FromRequest(r).GetJSON("notes", &notes); err != nil {
			return err // 500, the cause logged
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store") // the user's notes
		_ = json.NewEncoder(w).Encode(notes)
		return nil
	}))
	mux.Handle("POST /data", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := identity.FromRequest(r); !ok {
			challenge(w)
			return errNotLoggedIn
		}
		if err := readForm(w, r); err != nil {
			return err
		}
		note := r.PostForm.Get("note")
		if note == "" || len(note) > 200 {
			return errBadNote
		}
		s := session.FromRequest(r)
		var notes []string
		_, _ = s.GetJSON("notes", &notes)
		if len(notes) >= 10 {
			return errTooManyNotes
		}
		if err := s.SetJSON("notes", append(notes, note)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("POST /reset-link", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		// A real service looks the user up and sends the link by email,
		// answering the same whether or not the user exists.
		if err := readForm(w, r); err != nil {
			return err
		}
		user := r.PostForm.Get("user")
		u, found, err := cfg.users.LookupUser(r.Context(), user)
		if err != nil {
			return unavailable(err)
		}
		if !found {
			fmt.Fprintln(w, "if that user exists, a link was sent")
			return nil
		}
		// The link names the user and the hash it replaces: a reset, or
		// any other change of the password, spends it.
		token, err := reset.Sign([]byte(user + "\n" + hashDigest(u.Hash)))
		if err != nil {
			return err
		}
		// The link names the configured origin, never r.Host: the Host
		// header is the client's to choose, and a mailed link built from
		// it would send the victim's token to the requester's host.
		fmt.Fprintf(w, "%s/reset?token=%s\n", cfg.origin, url.QueryEscape(token))
		return nil
	}))
	// checkLink returns the user of a reset link and the hash it
	// replaces, or the error to answer when the link cannot be used.
	checkLink := func(r *http.Request, token string) (user, oldHash string, err error) {
		v, err := reset.Verify(token)
		if errors.Is(err, session.ErrTokenExpired) {
			return "", "", &errorsafe.Error{Status: http.StatusGone, Public: "This link has expired.", Err: err}
		}
		user, digest, cut := strings.Cut(string(v), "\n")
		if err == nil && !cut {
			err = errNoDigest
		}
		if err != nil {
			return "", "", &errorsafe.Error{Status: http.StatusBadRequest, Public: "Invalid link.", Err: err}
		}
		u, found, err := cfg.users.LookupUser(r.Context(), user)
		if err != nil {
			return "", "", unavailable(err)
		}
		if !found || subtle.ConstantTimeCompare([]byte(digest), []byte(hashDigest(u.Hash))) != 1 {
			return "", "", errLinkUsed
		}
		return user, u.Hash, nil
	}
	mux.Handle("GET /reset", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		user, _, err := checkLink(r, r.URL.Query().Get("token"))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "reset allowed for %s\n", user)
		return nil
	}))
	mux.Handle("POST /reset", errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := readForm(w, r); err != nil {
			return err
		}
		user, oldHash, err := checkLink(r, r.PostForm.Get("token"))
		if err != nil {
			return err
		}
		newHash, err := password.Hash(r.PostForm.Get("password"))
		if err != nil {
			return &errorsafe.Error{Status: http.StatusUnprocessableEntity, Public: "Not an acceptable password.", Err: err}
		}
		// Replaced only if the hash is still the one the link was signed
		// for: of two uses of one link, only the first changes it.
		err = cfg.users.Rehash(r.Context(), user, oldHash, newHash)
		if errors.Is(err, auth.ErrHashChanged) {
			return errLinkUsed
		}
		if err != nil {
			return unavailable(err)
		}
		// A real service also ends the sessions logged in before the
		// change (session.Options.ValidateLogin) and tells the user.
		fmt.Fprintf(w, "password changed for %s\n", user)
		return nil
	}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errorsafe.WriteError(w, r, errCrossOrigin)
	}))

	// errorsafe outermost: one access record per request on stderr, with
	// the reason of a refusal (the client never sees it), and the cookie
	// and the token parameter redacted.
	es, err := errorsafe.New(errorsafe.Options{Logger: cfg.logger})
	if err != nil {
		return nil, err
	}
	return es.Handler(cop.Handler(sessions.Handler(mux))), nil
}

// The refusals that have no error of their own: the client sees the
// status and the public detail, the access log the reason.
var (
	errNotLoggedIn  = refusal(http.StatusUnauthorized, "Log in first.", "not logged in")
	errBadNote      = refusal(http.StatusUnprocessableEntity, "A note is 1 to 200 bytes.", "a note is 1 to 200 bytes")
	errTooManyNotes = refusal(http.StatusUnprocessableEntity, "At most 10 notes.", "at most 10 notes")
	errLinkUsed     = refusal(http.StatusGone, "This link has been used.", "reset link used (the password it replaces has changed)")
	errCrossOrigin  = refusal(http.StatusForbidden, "Cross-origin request refused.", "cross-origin request refused by http.CrossOriginProtection")
	errNoDigest     = errors.New("session example: a valid reset link without a digest")
)

// refusal returns the error a handler answers with: status and the
// public detail for the client, reason for the access log.
func refusal(status int, public, reason string) error {
	return &errorsafe.Error{Status: status, Public: public, Err: errors.New("session example: " + reason)}
}

// unavailable answers a store or verifier that could not answer (Redis
// down): 503 with Retry-After, never an anonymous page.
func unavailable(err error) error {
	return &errorsafe.Error{Status: http.StatusServiceUnavailable, Public: "Please try again later.", Err: err}
}

// challenge sets the challenge of a cookie login (the "Cookie" scheme of
// draft-broyer-http-cookie-auth): RFC 9110 requires a WWW-Authenticate
// header on every 401.
func challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Cookie realm="session example", form-action="/login", cookie-name="`+session.DefaultCookieName+`"`)
}

// hashDigest returns a digest of a password hash, which a reset link
// carries to say which password it replaces. The link is readable, so it
// carries a digest, not the hash itself.
func hashDigest(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// maxFormBytes bounds the bodies of the POST routes: a user name and
// password, a note of 200 bytes or a user name fit in far less. Without a
// bound, net/http reads a form of up to 10 MB before the handler sees it.
const maxFormBytes = 4 << 10

// readForm parses the form of r, its body bounded by maxFormBytes, into
// r.PostForm (urlencoded only: multipart is not parsed). It returns the
// error to answer when it cannot: 413 for a body over the bound (an
// *http.MaxBytesError), 400 for one that is not a form.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	var tooLarge *http.MaxBytesError
	if err != nil && !errors.As(err, &tooLarge) {
		err = &errorsafe.Error{Status: http.StatusBadRequest, Err: err}
	}
	return err
}
