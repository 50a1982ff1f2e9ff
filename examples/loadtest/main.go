// Command loadtest drives examples/secureapi with a mix of users by role
// and, at the same time, a password-guessing attacker on the token
// endpoint, then prints throughput, latency percentiles per route, status
// counts, and how many attacker attempts got through versus how many
// legitimate requests were refused.
//
//	export SECUREAPI_DEMO_PASSWORD='correct horse battery staple'
//	go run ./examples/secureapi &
//	go run ./examples/loadtest                        # 20 s or 200 000 requests against 127.0.0.1:8080
//	go run ./examples/loadtest -user-rate 5           # users at a human pace: none refused, the attacker locked out
//	go run ./examples/loadtest -duration 5s -requests 20000 -users 16 -attackers 2
//	go run ./examples/loadtest -target https://localhost:8080 -insecure-skip-verify   # secureapi -tls-dev
//
// Each legitimate user logs in with the OAuth2 password grant (POST
// /token) as the account of its role (-accounts, default alice the admin,
// bob the user, carol the guest; -mix weighs the roles), then calls GET
// /users/me/, GET /items/{id} and POST /comment/ in a loop; admins also
// DELETE users that do not exist, and users now and then try the same
// delete, which must be refused (an "access probe"). A token is renewed
// when it expires or is refused. The attacker guesses -attack-user's
// password as fast as the server answers; every -attack-real-every-th
// guess, once ten of its guesses were answered as wrong, is the real
// password, so a lockout that lets the right password through shows up
// as "GOT THROUGH".
//
// By default each user sends its next request as soon as the last is
// answered, which is a load test: secureapi's rate limits (20 requests/s
// per address and per user) then refuse most of it with 429, and the
// report says so. -user-rate 5 paces each user like a person clicking, to
// see that legitimate users within their budget are never refused while
// the attacker is locked out. The users of one role share its account,
// and secureapi issues each account 30 tokens a minute (-token-rate):
// with more users than that on one account, raise it, or the logins over
// the budget are refused with 429 until it refills.
//
// A latency runs from when a request is sent to the end of its response
// body. Unpaced, a user sends its next request only when the last is
// answered (a closed loop): the latencies are the server's service times,
// and a stall shows in the throughput and in the stalled requests alone,
// not in the requests that the users would have sent meanwhile and did
// not. With -user-rate a request that is sent late, because the answer
// before it took longer than the interval, counts from when it was due,
// so the wait the server caused is in its latency; the user then goes on
// from there rather than sending the requests it missed.
//
// On Linux every user and attacker connects from its own loopback address
// (127.1.0.x and 127.2.0.x), as separate clients would, so the server's
// per-address rate limits and lockouts apply to each: the attacker's
// lockout must not refuse the real alice. -distinct-sources=false puts
// them all on one address.
//
// The run stops after -duration or -requests, whichever comes first; with
// -login-first the logins before the clock take up to another -duration.
// A request still unanswered when the run stops is in no figure, as its
// latency is unknown, but the report counts those on a line of their own:
// a server that answers slowly or not at all shows up there.
// Only loopback targets are accepted (127.0.0.0/8, ::1, localhost): the
// URL is checked before anything is sent and every connection is checked
// again when it is dialled, no proxy is used and no redirect followed. It
// exits with status 1 if an attacker obtained a token or an access probe
// was allowed.
//
// # Measuring what the protections cost
//
// -serve-bare ADDR serves the same routes on a bare http.ServeMux (a
// token map instead of JWTs, no headers, CORS, rate limits, sessions,
// logging or lockout) as a baseline:
//
//	go run ./examples/loadtest -serve-bare 127.0.0.1:8090 &
//	go run ./examples/loadtest -target http://127.0.0.1:8090 -attackers 0
//	go run ./examples/loadtest -target http://127.0.0.1:8080 -attackers 0
//
// Compare the throughput and p99 of the two runs. Without attackers and
// with -login-first (the default), which logs every user in before the
// clock starts, the figures hold no password hashing. Raise secureapi's
// request budget for this comparison (go run ./examples/secureapi
// -request-rate 1000000, or app.Config.RequestRate in process): at its
// default an unpaced load mostly measures how fast it answers 429.
//
// -serve-bare-with wraps the baseline in some of the middlewares secureapi
// stacks (errorsafe with its JSON access log on stderr, headers with the
// API preset), to see what each costs on its own. The access log is
// written one record at a time, as secureapi -log-flush 0 writes it; by
// default secureapi batches it, which costs less per record:
//
//	go run ./examples/loadtest -serve-bare 127.0.0.1:8090 -serve-bare-with headers 2>/dev/null &
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// demoPasswordEnv is the environment variable secureapi reads its demo
// users' password from.
const demoPasswordEnv = "SECUREAPI_DEMO_PASSWORD"

func main() {
	log.SetFlags(0)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	duration := fs.Duration("duration", 20*time.Second, "stop after this long")
	requests := fs.Int64("requests", 200_000, "stop after this many requests, users and attackers together")
	users := fs.Int("users", 8, "concurrent legitimate users")
	mix := fs.String("mix", "admin=1,user=4,guest=3", "weights of the roles among the users")
	accounts := fs.String("accounts", "admin=alice,user=bob,guest=carol", "the account of each role")
	password := fs.String("password", "", "the demo users' password (default $"+demoPasswordEnv+")")
	clientID := fs.String("client-id", "secureapi-cli", "OAuth2 client_id of the password grant")
	loginFirst := fs.Bool("login-first", true, "log every user in before the clock starts, keeping password hashing out of the figures")
	userRate := fs.Float64("user-rate", 0, "requests per second of each user (0: as fast as the server answers)")
	attackers := fs.Int("attackers", 1, "concurrent password guessers on /token")
	attackUser := fs.String("attack-user", "alice", "the account the attackers guess")
	attackReal := fs.Int("attack-real-every", 25, "every n-th guess, once 10 were answered as wrong, is the real password (0: never; else above secureapi's 10 failures before a lockout)")
	distinct := fs.Bool("distinct-sources", true, "give every user and attacker its own loopback source address")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of one request (0: 10s)")
	progress := fs.Duration("progress", time.Second, "interval of the progress line (0: none)")
	seed := fs.Uint64("seed", 1, "seed of the users' random choices")
	caCert := fs.String("cacert", "", "PEM file of the CA that signed an https target's certificate")
	insecure := fs.Bool("insecure-skip-verify", false, "accept any certificate from an https target (loopback development certificates)")
	serveBare := fs.String("serve-bare", "", "instead of generating load, serve the baseline bare ServeMux on this loopback address")
	bareWith := fs.String("serve-bare-with", "", "with -serve-bare: wrap the baseline in these httpguard middlewares, outermost first (comma-separated: "+strings.Join(bareLayerNames, ", ")+"), to measure what each costs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *password == "" {
		*password = os.Getenv(demoPasswordEnv)
	}
	acc, err := parseKV(*accounts, "accounts", func(v string) (string, error) { return v, nil })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *serveBare != "" {
		if err := serveBaseline(ctx, *serveBare, *bareWith, acc, *password, stderr); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return 0
	}

	u, err := parseTarget(*target)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	weights, err := parseKV(*mix, "mix", func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			return 0, errors.New("weight must be an integer in [0, 1000]")
		}
		return n, nil
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg := Config{
		Target: u, Duration: *duration, MaxRequests: *requests, Workers: *users,
		Mix: weights, Accounts: acc, Password: *password, ClientID: *clientID,
		Attackers: *attackers, AttackUser: *attackUser, AttackRealEvery: *attackReal,
		DistinctSources: *distinct, UserRate: *userRate, LoginFirst: *loginFirst, Timeout: *timeout, Progress: *progress, Seed: *seed,
	}
	if u.Scheme == "https" {
		cfg.TLS, err = tlsConfig(*caCert, *insecure)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	res, err := Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	res.WriteReport(stdout)
	if res.SecurityFailures() > 0 {
		return 1
	}
	return 0
}

// parseKV parses "k=v,k=v" with each key a role and at most once.
func parseKV[T any](s, flagName string, conv func(string) (T, error)) (map[string]T, error) {
	out := map[string]T{}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !isRole(k) {
			return nil, fmt.Errorf("loadtest: -%s: %q is not role=value with a role among %s", flagName, part, strings.Join(roles, ", "))
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("loadtest: -%s: role %s given twice", flagName, k)
		}
		t, err := conv(v)
		if err != nil {
			return nil, fmt.Errorf("loadtest: -%s: %s: %w", flagName, k, err)
		}
		out[k] = t
	}
	return out, nil
}

func tlsConfig(caFile string, insecure bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if insecure {
		// Only ever a loopback server: parseTarget and the dialer see to it.
		c.InsecureSkipVerify = true
		return c, nil
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("loadtest: -cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("loadtest: -cacert: no PEM certificate in the file")
		}
		c.RootCAs = pool
	}
	return c, nil
}

// serveBaseline serves newBareMux on a loopback address until ctx ends.
func serveBaseline(ctx context.Context, addr, with string, roleAccounts map[string]string, password string, logw io.Writer) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() || ap.Addr().Is4In6() {
		return errors.New("loadtest: -serve-bare must be a loopback address:port such as 127.0.0.1:8081")
	}
	if password == "" {
		return errors.New("loadtest: no demo password: set " + demoPasswordEnv + " or -password")
	}
	users := map[string]string{}
	for role, name := range roleAccounts {
		users[name] = role
	}
	h, err := wrapBare(newBareMux(users, password), with, logw)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(logw, "bare: ", 0),
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(logw, "loadtest: baseline bare ServeMux on http://%s (Ctrl-C to stop)\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
