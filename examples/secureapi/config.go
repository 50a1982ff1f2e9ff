package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/sanitize"
)

// Environment variables.
const (
	envSigningKey   = "SECUREAPI_SIGNING_KEY"   // 64 hex digits: the Ed25519 seed of the token signing key
	envCSRFKey      = "SECUREAPI_CSRF_KEY"      // at least 64 hex digits: the CSRF token key
	envDemoPassword = "SECUREAPI_DEMO_PASSWORD" // the demo users' password, at least minDemoPassword characters
	envRedisURL     = "SECUREAPI_REDIS_URL"     // the Redis URL, instead of -redis: out of ps output when it holds a password
)

// minDemoPassword is the shortest SECUREAPI_DEMO_PASSWORD accepted: it is
// the admin's password too.
const minDemoPassword = 12

// options are the command-line flags.
type options struct {
	addr, httpAddr string
	tlsDev         bool
	certFile       string
	keyFile        string
	redisURL       string
	corsOrigins    []string
	trustProxies   []netip.Prefix
	hosts          []string // from -host: lower case, IPv6 addresses without brackets
	usersFile      string
	demoPanic      bool
	hashPassword   bool
	requestRate    int
	tokenRate      int
	logFlush       time.Duration
}

func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("secureapi", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address; plain HTTP only on loopback, or on a private address behind -trust-proxy")
	fs.BoolVar(&o.tlsDev, "tls-dev", false, "serve HTTPS with a generated self-signed development certificate")
	fs.StringVar(&o.certFile, "cert", "", "serve HTTPS with this certificate chain (PEM); needs -key")
	fs.StringVar(&o.keyFile, "key", "", "private key (PEM) of -cert")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8081", `with HTTPS, listen here for plain HTTP and redirect it ("" for none)`)
	fs.StringVar(&o.redisURL, "redis", "", "Redis URL (redis://host:6379/0): share sessions, rate limits, refresh tokens and revoked tokens between instances; "+
		"without credentials: a URL with a password goes in "+envRedisURL+", which ps does not show")
	fs.Func("cors-origin", "origin whose scripts may call the API with bearer tokens, never with the session cookie (repeatable)", func(s string) error {
		o.corsOrigins = append(o.corsOrigins, s)
		return nil
	})
	fs.Func("trust-proxy", "network of a TLS-terminating proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (CIDR, repeatable). "+
		"Every address in it may claim any client address, so it must be the proxies' own network: no broader than a /8 for IPv4 or a /24 for IPv6 outside private address space. "+
		"Plain HTTP behind it needs -addr on a loopback or private address", func(s string) error {
		p, err := parseProxy(s)
		if err != nil {
			return err
		}
		o.trustProxies = append(o.trustProxies, p)
		return nil
	})
	fs.Func("host", "host name or IP address clients use to reach the service, without port (repeatable); requests for other hosts get 400. "+
		"Required with -trust-proxy, whose proxy must forward it in Host. With -cert, the certificate must be valid for each, and plain HTTP is redirected to the first. "+
		"Default: localhost and the loopback address listened on, or with -cert the certificate's names", func(s string) error {
		h, err := parseHost(s)
		if err != nil {
			return err
		}
		o.hosts = append(o.hosts, h)
		return nil
	})
	fs.StringVar(&o.usersFile, "users", "", "JSON file of users with argon2id hashes from -hash-password (bcrypt of cost 10 or more is accepted too; weaker hashes are refused) (default: demo users alice, bob and carol)")
	fs.BoolVar(&o.demoPanic, "demo-panic", false, "serve GET /panic, which panics, to show recovery")
	fs.IntVar(&o.requestRate, "request-rate", app.DefaultRequestRate, "requests per second allowed to each client address and each user (raise it for load tests)")
	fs.IntVar(&o.tokenRate, "token-rate", app.DefaultTokenRate, "tokens POST /token issues and sessions POST /login starts for each user per minute, together, from any address (raise it for load tests with many clients per account)")
	fs.DurationVar(&o.logFlush, "log-flush", 100*time.Millisecond, "longest time routine access records wait in memory before they are written (warnings and errors are written at once; 0: write every record at once)")
	fs.BoolVar(&o.hashPassword, "hash-password", false, "read a password on stdin, print its argon2id hash for -users, and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.requestRate < 1:
		err = errors.New("-request-rate must be at least 1")
	case o.tokenRate < 1:
		err = errors.New("-token-rate must be at least 1")
	case o.logFlush < 0 || o.logFlush > time.Minute:
		err = errors.New("-log-flush must be between 0 and 1m")
	}
	if err != nil {
		fmt.Fprintln(output, "secureapi:", err)
	}
	return o, err
}

// parseProxy parses a -trust-proxy network. A trusted proxy's
// X-Forwarded-For decides the client address, which keys the per-address
// limits and the login lockout: if every peer were trusted (0.0.0.0/0),
// each guess could claim a fresh address and neither would hold. Package
// clientip refuses such a network (wider than /8 or /24 outside private
// address space); asking it here reports the mistake with the flag. An
// IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) is kept as the IPv4
// network it stands for, as clientip reads it.
func parseProxy(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if _, err := clientip.New(clientip.Options{TrustedProxies: []netip.Prefix{p}}); err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// parseHost checks a -host value, a DNS name or an IP address, and
// returns it in lower case, an IPv6 address without brackets. A port, a
// scheme or a wildcard is refused: the value is also where plain HTTP is
// redirected and what a development certificate names.
func parseHost(s string) (string, error) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil && a.Zone() == "" {
		return a.String(), nil
	}
	name := strings.ToLower(strings.TrimSuffix(s, "."))
	for l := range strings.SplitSeq(name, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return "", fmt.Errorf("%q is not a host name or IP address (no port, scheme or wildcard)", s)
		}
	}
	return name, nil
}

// instance is a configured server, ready to listen.
type instance struct {
	handler   http.Handler
	tlsConfig *tls.Config // nil: plain HTTP
	redirect  string      // the HTTPS host plain HTTP is sent to
	close     func()
}

// setup checks the options and the environment and builds the server.
// Notices for the operator (the demo passwords) go to out.
func setup(o options, getenv func(string) string, out io.Writer, logger *slog.Logger) (*instance, error) {
	host, port, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("-addr: %w", err)
	}
	if len(o.trustProxies) > 0 && len(o.hosts) == 0 {
		// The proxy forwards the Host its clients sent, which no default
		// can guess.
		return nil, errors.New("-trust-proxy needs -host: the names clients use to reach the service, which the proxy forwards in Host")
	}
	inst := &instance{close: func() {}}
	cfg := app.Config{Logger: logger, CORSOrigins: o.corsOrigins, DemoPanic: o.demoPanic, RequestRate: o.requestRate, TokenRate: o.tokenRate}

	switch {
	case o.tlsDev && (o.certFile != "" || o.keyFile != ""):
		return nil, errors.New("choose -tls-dev or -cert and -key, not both")
	case o.tlsDev:
		hosts, target := localHosts(host)
		if len(o.hosts) > 0 {
			hosts, target = o.hosts, o.hosts[0]
		}
		dev, err := https.NewDevCert(https.DevCertOptions{Hosts: hosts})
		if err != nil {
			return nil, fmt.Errorf("-tls-dev: %w", err)
		}
		inst.tlsConfig = https.TLSConfig()
		inst.tlsConfig.Certificates = []tls.Certificate{dev.TLS}
		inst.redirect = net.JoinHostPort(target, port)
		cfg.AllowedHosts = allowedHosts(hosts)
		logger.Warn("DEVELOPMENT CERTIFICATE: self-signed, for local names only; never use -tls-dev in production (curl -k)")
	case o.certFile != "" || o.keyFile != "":
		pair, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("-cert/-key: %w", err)
		}
		inst.tlsConfig = https.TLSConfig()
		inst.tlsConfig.Certificates = []tls.Certificate{pair}
		if inst.redirect, cfg.AllowedHosts, err = certHosts(pair.Leaf, o.hosts, host, port); err != nil {
			return nil, err
		}
	default:
		// Plain HTTP carries passwords, tokens and cookies in clear. It is
		// served on loopback (this machine only), or behind a
		// TLS-terminating proxy on a private address, which the proxy
		// reaches and the internet does not. -trust-proxy alone is not
		// enough: on 0.0.0.0 or a public address clients could skip the
		// proxy and send their passwords here in clear.
		if !isLoopback(host) && (len(o.trustProxies) == 0 || !isPrivate(host)) {
			return nil, errors.New("plain HTTP on a public or unspecified address would expose passwords, tokens and cookies: " +
				"use -tls-dev or -cert and -key, or, behind a TLS-terminating proxy, -trust-proxy and -host with -addr on a private address")
		}
		switch {
		case len(o.hosts) > 0: // required with -trust-proxy
			cfg.AllowedHosts = allowedHosts(o.hosts)
		case isLoopback(host):
			hosts, _ := localHosts(host)
			cfg.AllowedHosts = allowedHosts(hosts) // no DNS rebinding
		}
	}
	cfg.TLS = inst.tlsConfig != nil || len(o.trustProxies) > 0
	cfg.RedirectHost = inst.redirect
	if cfg.ClientIP, err = clientip.New(clientip.Options{TrustedProxies: o.trustProxies}); err != nil {
		return nil, err
	}

	redisURL := o.redisURL
	if strings.Contains(redisURL, "@") {
		// Every user of the machine reads a command line (ps).
		return nil, errors.New("-redis: a URL with credentials would show them in ps; set " + envRedisURL + " instead")
	}
	if v := getenv(envRedisURL); v != "" {
		if redisURL != "" {
			return nil, errors.New("-redis and " + envRedisURL + " are both set: choose one")
		}
		redisURL = v
	}
	if redisURL != "" {
		rdb, err := connectRedis(redisURL)
		if err != nil {
			return nil, err
		}
		cfg.Redis = rdb
		inst.close = func() { _ = rdb.Close() }
	}
	shared := redisURL != "" // several instances must agree on keys and passwords
	seed, err := key(getenv, envSigningKey, 32, shared, logger)
	if err == nil {
		cfg.SigningKey = ed25519.NewKeyFromSeed(seed)
		cfg.CSRFKey, err = key(getenv, envCSRFKey, 32, shared, logger)
	}
	if err == nil && bytes.Contains(cfg.CSRFKey, seed) {
		// One secret for two jobs: whoever learns it through one can
		// forge the other's tokens.
		err = errors.New(envSigningKey + " and " + envCSRFKey + " must be different keys")
	}
	if err == nil {
		cfg.Users, err = users(o.usersFile, getenv, seed, shared, out, logger)
	}
	if err == nil {
		inst.handler, err = app.New(cfg)
	}
	if err != nil {
		inst.close()
		return nil, err
	}
	return inst, nil
}

// key reads a hex-encoded key of at least size bytes from the environment,
// or generates an ephemeral one with a loud warning. With shared, a
// missing key is an error: instances must agree on it.
func key(getenv func(string) string, name string, size int, shared bool, logger *slog.Logger) ([]byte, error) {
	v := getenv(name)
	if v == "" {
		if shared {
			return nil, fmt.Errorf("%s is required with -redis: every instance must use the same key (make one with: openssl rand -hex 32)", name)
		}
		logger.Warn("EPHEMERAL KEY: " + name + " is not set; a random key is used for this run only. " +
			"Tokens and forms die with the process and other instances cannot verify them. " +
			"Never run like this in production; make a key with: openssl rand -hex 32")
		k := make([]byte, size)
		_, _ = rand.Read(k)
		return k, nil
	}
	k, err := hex.DecodeString(v)
	if err != nil || len(k) < size || (name == envSigningKey && len(k) != size) {
		// Never echo the value.
		return nil, fmt.Errorf("%s must be %d bytes in hex (%d hex digits)", name, size, 2*size)
	}
	if lowEntropy(k) {
		return nil, fmt.Errorf("%s is not random (a repeated pattern, or too few distinct bytes): make one with: openssl rand -hex 32", name)
	}
	return k, nil
}

// lowEntropy reports whether k is obviously not random: fewer than 16
// distinct byte values (32 random bytes have about 30), or a pattern
// repeated with a period of at most half its length. It catches typed or
// placeholder keys (all zeros, "abab...", a copied block twice), not
// every weak key.
func lowEntropy(k []byte) bool {
	var seen [256]bool
	distinct := 0
	for _, b := range k {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < 16 {
		return true
	}
	for period := 1; period <= len(k)/2; period++ {
		if bytes.Equal(k[period:], k[:len(k)-period]) {
			return true
		}
	}
	return false
}

// errBadRedisURL never echoes the URL, which may hold a password.
var errBadRedisURL = errors.New("-redis or " + envRedisURL + ": not a Redis URL (redis://[user:password@]host:port/db, with special characters of the password percent-encoded)")

// connectRedis checks a Redis URL and connects to it. The URL may hold a
// password, so no error shows any part of it: a URL that does not parse
// as meant (an unescaped '#' or '@' in the password moves part of it into
// the port, the host or a fragment, where the dial error would show it)
// is refused before connecting, and a failed connection says why without
// the address.
func connectRedis(rawURL string) (*redis.Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" || u.Fragment != "" || strings.Contains(u.Host+u.Path+u.RawQuery, "@") {
		return nil, errBadRedisURL
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, errBadRedisURL
	}
	// A request's deadline and cancellation end its Redis calls, and the
	// check below takes no longer than it says (the stores bound each
	// call anyway).
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		var why string
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			why = "connection refused"
		case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
			why = "no answer in 3 s"
		default:
			// A DNS error names the host and a server's reply may quote
			// the command it refused (AUTH and its password included).
			why = "unknown host, wrong password or database, or not a Redis server"
		}
		return nil, errors.New("-redis or " + envRedisURL + ": cannot connect: " + why)
	}
	return rdb, nil
}

// userFile is the format of -users:
//
//	{"users": [{"username": "alice", "role": "admin", "hash": "$argon2id$v=19$m=19456,t=2,p=1$..."}]}
//
// Member names are spelt exactly so, each given once. Roles are guest,
// user and admin; hashes come from -hash-password.
// Names must differ in more than letter case and trailing spaces: the
// lockout counts "Bob" and "bob" as one name (see app.LockoutName).
// Hashes below the OWASP minimum (argon2id m=19456,t=2,p=1 or an
// equivalent, bcrypt cost 10) are refused. Keep them at the default
// parameters, as -hash-password makes them: a known user then costs as
// much as an unknown one, whose password is checked against a dummy hash
// at those parameters.
type userFile struct {
	Users []struct {
		Username string `json:"username"`
		Role     string `json:"role"`
		Hash     string `json:"hash"`
	} `json:"users"`
}

// userFileDecoder reads a users file as it reads: member names spelt
// exactly as userFile's ("users" in the document; "username", "role" and
// "hash" in each user), each given once, and nothing after the document.
// encoding/json alone takes "Role" for "role" and keeps the last of two,
// so that an entry a reviewer reads as a guest could be an admin.
var userFileDecoder = sanitize.MustNew(sanitize.Options{MaxBytes: maxUsersFile, MaxDepth: 3})

// maxUsersFile bounds the -users file: some 40 000 users with argon2id
// hashes.
const maxUsersFile = 10 << 20

// readPrivate reads file, which must not be writable by every user of the
// machine: whoever can write it can add an admin. (A group may write it:
// with the user-private groups of most distributions, whose umask is
// 002, the group is the owner alone.) The mode is read from the open
// file, so the file checked is the file read.
func readPrivate(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o002 != 0 {
		return nil, fmt.Errorf("%s is writable by every user (mode %#o), who could add an admin: chmod o-w %[1]s", file, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUsersFile+1))
	if err == nil && len(data) > maxUsersFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxUsersFile)
	}
	return data, err
}

// users loads the -users file, or makes the demo users, whose hashes are
// salted from saltKey (see demoHash).
func users(file string, getenv func(string) string, saltKey []byte, shared bool, out io.Writer, logger *slog.Logger) (*auth.MemoryUsers, error) {
	store := auth.NewMemoryUsers()
	if file != "" {
		data, err := readPrivate(file)
		if err != nil {
			return nil, fmt.Errorf("-users: %w", err)
		}
		f, err := sanitize.Unmarshal[userFile](userFileDecoder, data)
		if errors.Is(err, sanitize.ErrUnknownField) {
			return nil, fmt.Errorf("-users %s: not a users file: %w (names are exact: users, and username, role, hash in each user)", file, err)
		}
		if err != nil {
			return nil, fmt.Errorf("-users %s: not a users file: %w", file, err)
		}
		// The lockout counts "Bob" and "bob" as one name (see
		// app.LockoutName): as two accounts, a login to one would clear
		// the failures of the other.
		lockoutNames := make(map[string]bool, len(f.Users))
		for i, u := range f.Users {
			scopes := app.ScopesFor(u.Role)
			if scopes == nil {
				return nil, fmt.Errorf("-users %s: user %d: role must be guest, user or admin", file, i)
			}
			if _, dup, _ := store.LookupUser(context.Background(), u.Username); dup {
				return nil, fmt.Errorf("-users %s: user %d: duplicate user name", file, i)
			}
			n := app.LockoutName(u.Username)
			if lockoutNames[n] {
				return nil, fmt.Errorf("-users %s: user %d: its name differs from another's only in letter case or trailing spaces, which the lockout counts as one", file, i)
			}
			lockoutNames[n] = true
			if err := store.Add(u.Username, auth.User{Hash: u.Hash, Identity: identity.Options{Roles: []string{u.Role}, Scopes: scopes}}); err != nil {
				return nil, fmt.Errorf("-users %s: user %d: %w", file, i, err)
			}
			if err := strongEnough(u.Hash); err != nil {
				return nil, fmt.Errorf("-users %s: user %d (%q): %w; make a new hash with -hash-password", file, i, u.Username, err)
			}
		}
		if store.Len() == 0 {
			return nil, fmt.Errorf("-users %s: no users", file)
		}
		return store, nil
	}

	pw := getenv(envDemoPassword)
	if pw == "" && shared {
		return nil, errors.New(envDemoPassword + " (or -users) is required with -redis: every instance must accept the same passwords")
	}
	if pw != "" && utf8.RuneCountInString(pw) < minDemoPassword {
		return nil, fmt.Errorf("%s must be at least %d characters: it is the admin's password too", envDemoPassword, minDemoPassword)
	}
	var notice strings.Builder
	for _, u := range []struct{ name, role string }{{"alice", app.RoleAdmin}, {"bob", app.RoleUser}, {"carol", app.RoleGuest}} {
		p := pw
		if p == "" {
			p = rand.Text()
			fmt.Fprintf(&notice, "  %-6s %-6s %s\n", u.name, u.role, p)
		}
		if err := store.Add(u.name, auth.User{Hash: demoHash(saltKey, u.name, p),
			Identity: identity.Options{Roles: []string{u.role}, Scopes: app.ScopesFor(u.role)}}); err != nil {
			return nil, err
		}
	}
	if notice.Len() > 0 {
		// On stdout, once, and never in the log.
		fmt.Fprintf(out, "\nDemo users, with random passwords for this run (set %s to choose one):\n%s\n", envDemoPassword, notice.String())
		logger.Warn("demo users alice (admin), bob (user) and carol (guest) with random passwords, printed on stdout")
	} else {
		logger.Warn("demo users alice (admin), bob (user) and carol (guest) with the password in " + envDemoPassword)
	}
	return store, nil
}

// demoHash is the argon2id hash of a demo user's password pw at the
// default parameters, with a salt derived from key and the user name
// instead of a random one, so that every instance holding key (with
// -redis, all of them) makes the same hash. A refresh token is bound to
// its user's hash: with a random salt each, instances would take a token
// issued by another for one issued before a password change, and end it.
func demoHash(key []byte, name, pw string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("secureapi demo user salt\x00" + name))
	p := password.DefaultParams
	salt := mac.Sum(nil)[:p.SaltLength]
	hash := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
	return password.Info{Algorithm: password.Argon2id, Params: p, Salt: salt, Key: hash}.String()
}

// minBcryptCost is the lowest bcrypt cost accepted in -users, the
// OWASP Password Storage Cheat Sheet's minimum.
const minBcryptCost = 10

// strongEnough refuses a stored hash cheaper than the OWASP minimum.
// password.Inspect (run by store.Add) checks a hash's format and upper
// limits, not its strength. A weak hash is cheap to crack if the file
// leaks, and it names the accounts: a known user's wrong password is
// checked against it in microseconds, an unknown user's against a dummy
// hash at the default parameters in tens of milliseconds.
func strongEnough(hash string) error {
	info, err := password.Inspect(hash)
	if err != nil {
		return err
	}
	if info.Algorithm == password.Bcrypt {
		if info.BcryptCost < minBcryptCost {
			return fmt.Errorf("bcrypt cost %d is below %d", info.BcryptCost, minBcryptCost)
		}
		return nil
	}
	// password.New refuses argon2id parameters below the OWASP
	// minimums (m=19456 KiB with t=2, m=12288 with t=3, ...) with
	// ErrWeakParams: the rule -hash-password's hashes meet.
	if _, err := password.New(password.Options{Params: info.Params}); errors.Is(err, password.ErrWeakParams) {
		p := info.Params
		return fmt.Errorf("argon2id m=%d,t=%d,p=%d with a %d-byte salt and a %d-byte key is below the OWASP minimum (m=19456,t=2,p=1, 16 and 32 bytes)",
			p.Memory, p.Time, p.Threads, p.SaltLength, p.KeyLength)
	}
	return nil
}

// certHosts returns where plain HTTP is redirected (host[:port]) and the
// allowed hosts of a server with the certificate leaf on port. With
// -host (hosts), the allowed hosts are those names, for each of which the
// certificate must be valid, and the redirect goes to the first.
// Otherwise they are the certificate's names and addresses, and the
// redirect goes to its first name that is not a wildcard, else its first
// address, else the -addr host (addrHost) when the certificate is valid
// for it; a certificate that names none of these is an error rather than
// a redirect to a host the client cannot verify (or to "localhost", the
// client's own machine).
func certHosts(leaf *x509.Certificate, hosts []string, addrHost, port string) (redirect string, allowed []string, err error) {
	var target string
	if len(hosts) > 0 {
		for _, h := range hosts {
			if err := leaf.VerifyHostname(h); err != nil {
				return "", nil, fmt.Errorf("-host %s: %w", h, err)
			}
		}
		target, allowed = hosts[0], allowedHosts(hosts)
	} else {
		var ips []string
		for _, ip := range leaf.IPAddresses {
			a, _ := netip.AddrFromSlice(ip)
			ips = append(ips, a.Unmap().String())
		}
		allowed = append(append(allowed, leaf.DNSNames...), allowedHosts(ips)...)
		for _, name := range leaf.DNSNames {
			if !strings.Contains(name, "*") {
				target = name
				break
			}
		}
		if target == "" && len(ips) > 0 {
			target = ips[0]
		}
		if target == "" && addrHost != "" && leaf.VerifyHostname(addrHost) == nil {
			target = addrHost
		}
		if target == "" {
			return "", nil, errors.New("-cert names no host to redirect plain HTTP to (no name but wildcards, no IP address, not the -addr host): name one with -host")
		}
	}
	if port == "443" {
		return hostLiteral(target), allowed, nil
	}
	return net.JoinHostPort(target, port), allowed, nil
}

// localHosts returns the hosts by which a client on this machine reaches
// a server listening on host, and the one to send it to: localhost,
// 127.0.0.1 and ::1, with the redirect to localhost, and host too, and
// the redirect to it, when host is another loopback address (127.0.0.2,
// ::ffff:127.0.0.1), which localhost does not reach. A page on any other
// name that resolves to this machine (DNS rebinding) is refused.
func localHosts(host string) (hosts []string, target string) {
	hosts, target = []string{"localhost", "127.0.0.1", "::1"}, "localhost"
	a, err := netip.ParseAddr(host)
	if a = a.WithZone(""); err == nil && a.IsLoopback() && a != netip.AddrFrom4([4]byte{127, 0, 0, 1}) && a != netip.IPv6Loopback() {
		hosts, target = append(hosts, a.String()), a.String()
	}
	return hosts, target
}

// allowedHosts returns host names and addresses as
// app.Config.AllowedHosts takes them: IPv6 addresses in brackets.
func allowedHosts(hosts []string) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = hostLiteral(h)
	}
	return out
}

// hostLiteral returns a host name or address as a Host header or a URL
// holds it: an IPv6 address in brackets.
func hostLiteral(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// isPrivate reports whether host is a private address (10/8, 172.16/12,
// 192.168/16, fc00::/7), which the internet cannot reach directly.
func isPrivate(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsPrivate()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
