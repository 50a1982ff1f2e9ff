package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/examples/secureapi/app"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
)

// Environment variables.
const (
	envSigningKey   = "SECUREAPI_SIGNING_KEY"   // 64 hex digits: the Ed25519 seed of the token signing key
	envCSRFKey      = "SECUREAPI_CSRF_KEY"      // at least 64 hex digits: the CSRF token key
	envDemoPassword = "SECUREAPI_DEMO_PASSWORD" // the demo users' password
)

// options are the command-line flags.
type options struct {
	addr, httpAddr string
	tlsDev         bool
	certFile       string
	keyFile        string
	redisURL       string
	corsOrigins    []string
	trustProxies   []netip.Prefix
	usersFile      string
	demoPanic      bool
	hashPassword   bool
	requestRate    int
	logFlush       time.Duration
}

func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("secureapi", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.BoolVar(&o.tlsDev, "tls-dev", false, "serve HTTPS with a generated self-signed development certificate")
	fs.StringVar(&o.certFile, "cert", "", "serve HTTPS with this certificate chain (PEM); needs -key")
	fs.StringVar(&o.keyFile, "key", "", "private key (PEM) of -cert")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8081", `with HTTPS, listen here for plain HTTP and redirect it ("" for none)`)
	fs.StringVar(&o.redisURL, "redis", "", "Redis URL (redis://host:6379/0): share sessions, rate limits, refresh tokens and revoked tokens between instances")
	fs.Func("cors-origin", "origin whose scripts may call the API with bearer tokens (repeatable)", func(s string) error {
		o.corsOrigins = append(o.corsOrigins, s)
		return nil
	})
	fs.Func("trust-proxy", "network of a TLS-terminating proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (CIDR, repeatable)", func(s string) error {
		p, err := netip.ParsePrefix(s)
		o.trustProxies = append(o.trustProxies, p)
		return err
	})
	fs.StringVar(&o.usersFile, "users", "", "JSON file of users with argon2id hashes (default: demo users alice, bob and carol)")
	fs.BoolVar(&o.demoPanic, "demo-panic", false, "serve GET /panic, which panics, to show recovery")
	fs.IntVar(&o.requestRate, "request-rate", app.DefaultRequestRate, "requests per second allowed to each client address and each user (raise it for load tests)")
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
	case o.logFlush < 0 || o.logFlush > time.Minute:
		err = errors.New("-log-flush must be between 0 and 1m")
	}
	if err != nil {
		fmt.Fprintln(output, "secureapi:", err)
	}
	return o, err
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
	inst := &instance{close: func() {}}
	cfg := app.Config{Logger: logger, CORSOrigins: o.corsOrigins, DemoPanic: o.demoPanic, RequestRate: o.requestRate}

	switch {
	case o.tlsDev && (o.certFile != "" || o.keyFile != ""):
		return nil, errors.New("choose -tls-dev or -cert and -key, not both")
	case o.tlsDev:
		dev, err := https.NewDevCert(https.DevCertOptions{})
		if err != nil {
			return nil, err
		}
		inst.tlsConfig = https.TLSConfig()
		inst.tlsConfig.Certificates = []tls.Certificate{dev.TLS}
		inst.redirect = net.JoinHostPort("localhost", port)
		cfg.AllowedHosts = []string{"localhost", "127.0.0.1", "[::1]"}
		logger.Warn("DEVELOPMENT CERTIFICATE: self-signed, for localhost only; never use -tls-dev in production (curl -k)")
	case o.certFile != "" || o.keyFile != "":
		pair, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("-cert/-key: %w", err)
		}
		inst.tlsConfig = https.TLSConfig()
		inst.tlsConfig.Certificates = []tls.Certificate{pair}
		inst.redirect, cfg.AllowedHosts = certHosts(pair.Leaf, host, port)
	default:
		if len(o.trustProxies) == 0 && !isLoopback(host) {
			return nil, errors.New("plain HTTP on a non-loopback address would expose passwords, tokens and cookies: " +
				"use -tls-dev or -cert and -key, or -trust-proxy behind a TLS-terminating proxy")
		}
		if isLoopback(host) {
			cfg.AllowedHosts = []string{"localhost", "127.0.0.1", "[::1]"} // no DNS rebinding
		}
	}
	cfg.TLS = inst.tlsConfig != nil || len(o.trustProxies) > 0
	cfg.RedirectHost = inst.redirect
	if cfg.ClientIP, err = clientip.New(clientip.Options{TrustedProxies: o.trustProxies}); err != nil {
		return nil, err
	}

	if o.redisURL != "" {
		ropts, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return nil, errors.New("-redis: not a Redis URL") // the URL may hold a password: never echo it
		}
		rdb := redis.NewClient(ropts)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			_ = rdb.Close()
			return nil, fmt.Errorf("-redis: %w", err)
		}
		cfg.Redis = rdb
		inst.close = func() { _ = rdb.Close() }
	}
	shared := o.redisURL != "" // several instances must agree on keys and passwords
	seed, err := key(getenv, envSigningKey, 32, shared, logger)
	if err == nil {
		cfg.SigningKey = ed25519.NewKeyFromSeed(seed)
		cfg.CSRFKey, err = key(getenv, envCSRFKey, 32, shared, logger)
	}
	if err == nil {
		cfg.Users, err = users(o.usersFile, getenv, shared, out, logger)
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
	return k, nil
}

// userFile is the format of -users:
//
//	{"users": [{"username": "alice", "role": "admin", "hash": "$argon2id$v=19$m=19456,t=2,p=1$..."}]}
//
// Roles are guest, user and admin; hashes come from -hash-password.
type userFile struct {
	Users []struct {
		Username string `json:"username"`
		Role     string `json:"role"`
		Hash     string `json:"hash"`
	} `json:"users"`
}

// users loads the -users file, or makes the demo users.
func users(file string, getenv func(string) string, shared bool, out io.Writer, logger *slog.Logger) (*auth.MemoryUsers, error) {
	store := auth.NewMemoryUsers()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("-users: %w", err)
		}
		var f userFile
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil || dec.More() {
			return nil, fmt.Errorf("-users %s: not a users file: %v", file, err)
		}
		for i, u := range f.Users {
			scopes := app.ScopesFor(u.Role)
			if scopes == nil {
				return nil, fmt.Errorf("-users %s: user %d: role must be guest, user or admin", file, i)
			}
			if _, dup, _ := store.LookupUser(context.Background(), u.Username); dup {
				return nil, fmt.Errorf("-users %s: user %d: duplicate user name", file, i)
			}
			if err := store.Add(u.Username, auth.User{Hash: u.Hash, Identity: identity.Options{Roles: []string{u.Role}, Scopes: scopes}}); err != nil {
				return nil, fmt.Errorf("-users %s: user %d: %w", file, i, err)
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
	var notice strings.Builder
	for _, u := range []struct{ name, role string }{{"alice", app.RoleAdmin}, {"bob", app.RoleUser}, {"carol", app.RoleGuest}} {
		p := pw
		if p == "" {
			p = rand.Text()
			fmt.Fprintf(&notice, "  %-6s %-6s %s\n", u.name, u.role, p)
		}
		if err := store.AddPassword(u.name, p, identity.Options{Roles: []string{u.role}, Scopes: app.ScopesFor(u.role)}); err != nil {
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

// certHosts returns the redirect target and the allowed hosts of a
// certificate: its names and addresses.
func certHosts(leaf *x509.Certificate, host, port string) (redirect string, allowed []string) {
	allowed = append(allowed, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		a, _ := netip.AddrFromSlice(ip)
		if a.Unmap().Is4() {
			allowed = append(allowed, a.Unmap().String())
		} else {
			allowed = append(allowed, "["+a.String()+"]")
		}
	}
	target := host
	if len(leaf.DNSNames) > 0 && !strings.Contains(leaf.DNSNames[0], "*") {
		target = leaf.DNSNames[0]
	}
	if target == "" || target == "0.0.0.0" || target == "::" {
		target = "localhost"
	}
	if port == "443" {
		if strings.Contains(target, ":") {
			return "[" + target + "]", allowed
		}
		return target, allowed
	}
	return net.JoinHostPort(target, port), allowed
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
