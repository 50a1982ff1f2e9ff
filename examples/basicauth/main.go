// Command basicauth is a runnable server that protects GET /secure-data/
// with HTTP Basic authentication from package auth: argon2id password
// hashes, no password in source, the same work for unknown users, a
// verification cache, and a limit on failed attempts per user and address.
//
//	go run ./examples/basicauth                       # listens on 127.0.0.1:8080
//	go run ./examples/basicauth -addr 127.0.0.1:9090
//	go run ./examples/basicauth -users users.json     # users from a file of hashes
//
// Without -users it serves one demo user, "demo", whose password is the
// environment variable BASICAUTH_DEMO_PASSWORD or, when that is unset, a
// random one printed once at start. The curl commands read it from that
// variable: export it in their shell too (or set it to the printed one).
// Then:
//
//	curl -i localhost:8080/secure-data/                          # 401 with a Basic challenge
//	curl -i -u demo:wrong localhost:8080/secure-data/            # 401, and counted as a failure
//	curl -i -u "demo:$BASICAUTH_DEMO_PASSWORD" localhost:8080/secure-data/   # 200
//
// After ten failures for one user from one address, every attempt for that
// pair gets 429 with Retry-After, the right password included. Each
// request is logged on stderr by errorsafe, a refusal with its reason
// (never the password); the problem the client gets carries only the
// request ID.
//
// # A file of users
//
// -hash-password reads a password from standard input and prints its argon2id hash;
// nothing else is written, so it composes with a shell:
//
//	printf %s 'correct horse battery staple' | go run ./examples/basicauth -hash-password
//
// The users file is a JSON list of names, hashes and roles, each member
// spelt as below and given once; a file every user of the machine may
// write is refused (they could add an admin):
//
//	[
//	  {"name": "alice", "hash": "$argon2id$v=19$m=19456,t=2,p=1$...", "roles": ["admin"]},
//	  {"name": "bob", "hash": "$2y$10$...", "roles": ["user"]}
//	]
//
// bcrypt hashes ($2a$, $2b$, $2y$, as htpasswd -B writes them) are accepted
// and upgraded to argon2id in memory at each user's first login; a real
// service would save the new hash (BasicOptions.OnRehash).
//
// Basic sends the password with every request: outside this loopback demo,
// serve it over HTTPS only (see the https package and examples/https). An
// -addr off loopback is refused.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/sanitize"
)

// demoPasswordEnv names the environment variable with the demo user's
// password.
const demoPasswordEnv = "BASICAUTH_DEMO_PASSWORD"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on: a loopback one, since this server speaks plain HTTP")
	usersFile := flag.String("users", "", "JSON file of users and password hashes (default: one demo user)")
	hashOnly := flag.Bool("hash-password", false, "read a password from standard input, print its argon2id hash and exit")
	flag.Parse()

	if *hashOnly {
		if err := printHash(os.Stdin, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}

	if err := checkLoopback(*addr); err != nil {
		log.Fatal(err)
	}
	users, err := loadUsers(*usersFile, os.Getenv(demoPasswordEnv), os.Stderr)
	if err != nil {
		log.Fatal(err)
	}
	handler, err := newHandler(users, nil)
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
	log.Printf("basicauth: listening on http://%s/secure-data/", *addr)
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

// newHandler returns the server's routes: GET /secure-data/ behind Basic,
// inside errorsafe. errorsafe logs to logger; nil means the default slog
// logger.
func newHandler(users *auth.MemoryUsers, logger *slog.Logger) (http.Handler, error) {
	limiter, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		return nil, err
	}
	basic, err := auth.NewBasic(auth.BasicOptions{
		Users:    users,
		Realm:    "secure-data",
		Limiter:  limiter,
		CacheTTL: time.Minute,
		OnRehash: users.Rehash,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /secure-data/{$}", basic.Handler(http.HandlerFunc(secureData)))

	// errorsafe outermost: one access record per request on stderr, with
	// the reason of a 401 or 429 (the client never sees it), and the
	// password redacted.
	es, err := errorsafe.New(errorsafe.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	return es.Handler(mux), nil
}

func secureData(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"user":  id.Subject(),
		"roles": id.Roles(),
		"data":  "the secure data",
	})
}

// fileUser is one entry of the users file.
type fileUser struct {
	Name  string   `json:"name"`
	Hash  string   `json:"hash"`
	Roles []string `json:"roles"`
}

// maxUsersFile bounds the users file read.
const maxUsersFile = 10 << 20

// usersDecoder reads the users file as it reads: one list, each member
// spelt exactly as a field of fileUser and given once, nothing after the
// list. encoding/json alone takes "Roles" for "roles" and keeps the last
// of two, so that an entry a reviewer reads as "roles": ["user"] could
// make its user an admin.
var usersDecoder = sanitize.MustNew(sanitize.Options{MaxBytes: maxUsersFile, MaxDepth: 3})

// loadUsers reads the users file, or makes the demo user when path is
// empty: with demoPassword, or a random password written once to notice.
func loadUsers(path, demoPassword string, notice io.Writer) (*auth.MemoryUsers, error) {
	users := auth.NewMemoryUsers()
	if path == "" {
		if demoPassword == "" {
			demoPassword = rand.Text()
			fmt.Fprintf(notice, "\n*** DEMO USER: demo / %s\n*** random password for this run only; set %s or use -users for real accounts\n\n", demoPassword, demoPasswordEnv)
		}
		if err := users.AddPassword("demo", demoPassword, identity.Options{Roles: []string{"user"}}); err != nil {
			return nil, fmt.Errorf("demo user: %w", err)
		}
		return users, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Whoever can write the file can add an admin: a file every user of
	// the machine may write is refused. The mode is read from the open
	// file, so the file checked is the file read.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o002 != 0 {
		return nil, fmt.Errorf("%s is writable by every user (mode %#o), who could add an admin: chmod o-w %[1]s", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUsersFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxUsersFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxUsersFile)
	}
	list, err := sanitize.Unmarshal[[]fileUser](usersDecoder, data)
	if errors.Is(err, sanitize.ErrUnknownField) {
		return nil, fmt.Errorf("%s: %w (names are exact: name, hash, roles)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	for i, u := range list {
		if _, found, _ := users.LookupUser(context.Background(), u.Name); found {
			errs = append(errs, fmt.Errorf("%s: user %d: %q is listed twice", path, i, u.Name))
			continue
		}
		if err := users.Add(u.Name, auth.User{Hash: u.Hash, Identity: identity.Options{Roles: u.Roles}}); err != nil {
			// The error names the user, never the hash.
			errs = append(errs, fmt.Errorf("%s: user %d: %w", path, i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if users.Len() == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}

// printHash reads one password line from in and writes its argon2id hash
// to out. A trailing newline (and carriage return) is not part of the
// password.
func printHash(in io.Reader, out io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(in, 8<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	h, err := password.Hash(pw)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, h)
	return err
}

// checkLoopback refuses a listen address off loopback: this server speaks
// plain HTTP, and Basic sends the password with every request, in clear to
// anyone on the network. Serve HTTPS elsewhere (see examples/https).
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
