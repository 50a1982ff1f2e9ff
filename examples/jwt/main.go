// Command jwt is a runnable server that issues JWT access tokens from an
// OAuth2 token endpoint (password grant, with refresh tokens) and protects
// GET /users/me/ with them, using package auth.
//
//	go run ./examples/jwt                       # listens on 127.0.0.1:8080
//	go run ./examples/jwt -addr 127.0.0.1:9090
//
// It serves one demo user, "demo", whose password is the environment
// variable JWT_DEMO_PASSWORD or, when that is unset, a random one printed
// once at start; the curl commands below read it from that variable, so
// export it in their shell too (or set it to the printed one). The
// Ed25519 signing key is the base64url-encoded 32-byte seed in
// JWT_SIGNING_KEY; without it a key is generated for this run only (with
// a loud warning), so tokens die with the process. Make a seed with
//
//	head -c 32 /dev/urandom | basenc --base64url | tr -d '=\n'
//
// Then, with jq installed:
//
//	curl -i localhost:8080/users/me/                      # 401, WWW-Authenticate: Bearer realm="api", resource_metadata="…"
//	curl -s localhost:8080/.well-known/oauth-protected-resource     # the API's metadata (RFC 9728)
//	curl -s localhost:8080/.well-known/oauth-authorization-server   # the token endpoint and what it takes (RFC 8414)
//	PAIR=$(curl -s localhost:8080/token -d grant_type=password -d client_id=demo-cli \
//	     -d username=demo --data-urlencode "password=$JWT_DEMO_PASSWORD"); echo "$PAIR"
//	TOKEN=$(echo "$PAIR" | jq -r .access_token)
//	curl -i -H "Authorization: Bearer $TOKEN" localhost:8080/users/me/    # 200
//	curl -s localhost:8080/token -d grant_type=refresh_token -d client_id=demo-cli \
//	     -d "refresh_token=$(echo "$PAIR" | jq -r .refresh_token)"        # a new pair; the old refresh token is spent
//	curl -s localhost:8080/.well-known/jwks.json                           # the public key, for other services
//	curl -i localhost:8080/revoke -d client_id=demo-cli -d "token=$TOKEN"  # 200: a logout
//	curl -i -H "Authorization: Bearer $TOKEN" localhost:8080/users/me/    # 401: the token is revoked
//
// The tokens stay in shell variables: a file under /tmp is readable by
// every user of the machine, and each of them can reach this loopback
// server too.
//
// Replaying a spent refresh token revokes every refresh token of its
// family; access tokens already issued stay valid until they expire (15
// minutes), unless revoked at /revoke, as a refresh token can be too. Ten wrong passwords for one user from one address lock that
// pair out for a while (429 with Retry-After, the right password included).
// Each request is logged on stderr by errorsafe, a refusal with its reason
// (never the password or the token); the problem the client gets carries
// only the request ID.
//
// The password grant is here because it is the simplest flow to try with
// curl. RFC 9700 deprecates it: use it only for a first-party client and
// prefer the authorization code grant with PKCE through an identity
// provider (see the auth package documentation). Outside this loopback
// demo, serve everything over HTTPS: an -addr off loopback is refused.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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
	"strconv"
	"syscall"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
)

// Environment variables read by the demo.
const (
	demoPasswordEnv = "JWT_DEMO_PASSWORD"
	signingKeyEnv   = "JWT_SIGNING_KEY"
)

const (
	audience = "demo-api"
	clientID = "demo-cli"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on: a loopback one, since this server speaks plain HTTP")
	flag.Parse()

	if err := checkLoopback(*addr); err != nil {
		log.Fatal(err)
	}
	key, err := signingKey(os.Getenv(signingKeyEnv), os.Stderr)
	if err != nil {
		log.Fatal(err)
	}
	pw := os.Getenv(demoPasswordEnv)
	if pw == "" {
		pw = rand.Text()
		fmt.Fprintf(os.Stderr, "\n*** DEMO USER: demo / %s\n*** random password for this run only; set %s to choose one\n\n", pw, demoPasswordEnv)
	}
	ln, err := net.Listen("tcp", *addr) // listen first: the issuer names the port listened on
	if err != nil {
		log.Fatal(err)
	}
	iss := issuerURL(*addr, ln.Addr())
	handler, err := newHandler(key, pw, iss, nil)
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
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("jwt: listening on %s (POST /token, GET /users/me/)", iss)
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

// signingKey decodes the Ed25519 seed from env, or generates a key and
// warns on notice.
func signingKey(env string, notice io.Writer) (ed25519.PrivateKey, error) {
	if env == "" {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(notice, "\n!!! WARNING: %s is not set: using an EPHEMERAL signing key generated for this run.\n!!! Every token becomes invalid when the process stops, and other instances cannot verify them.\n!!! Never run like this in production.\n\n", signingKeyEnv)
		return priv, nil
	}
	seed, err := base64.RawURLEncoding.DecodeString(env)
	if err != nil || len(seed) != ed25519.SeedSize {
		// The message never includes the value.
		return nil, fmt.Errorf("%s must be a base64url-encoded %d-byte Ed25519 seed", signingKeyEnv, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// issuerURL is the iss of the tokens: the URL this server is reached at,
// the host of -addr (checkLoopback has refused an address without one)
// and the port of bound, the address listened on (-addr port 0 is not).
func issuerURL(addr string, bound net.Addr) string {
	host, _, _ := net.SplitHostPort(addr)
	return "http://" + net.JoinHostPort(host, strconv.Itoa(bound.(*net.TCPAddr).Port))
}

// newHandler returns the routes: the token endpoint, the JWKS, the
// metadata documents and the protected /users/me/, inside errorsafe. Tokens carry iss as their
// issuer, and only tokens with that issuer are accepted. errorsafe logs to
// logger; nil means the default slog logger.
func newHandler(key ed25519.PrivateKey, demoPassword, iss string, logger *slog.Logger) (http.Handler, error) {
	users := auth.NewMemoryUsers()
	if err := users.AddPassword("demo", demoPassword, identity.Options{
		Roles:  []string{"user"},
		Scopes: []string{"profile:read", "profile:write"},
	}); err != nil {
		return nil, fmt.Errorf("demo user: %w", err)
	}
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: "demo-ed25519", Algorithm: auth.AlgEdDSA, Key: key},
		Issuer:   iss,
		Audience: []string{audience},
		TTL:      15 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	if err != nil {
		return nil, err
	}
	endpoint, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer:  issuer,
		Users:   users,
		Limiter: limiter,
		Clients: []auth.Client{{
			ID:     clientID,
			Public: true, // a first-party command-line client: no secret to keep
			Grants: []string{auth.GrantPassword, auth.GrantRefreshToken},
			Scopes: []string{"profile:read", "profile:write"},
		}},
	})
	if err != nil {
		return nil, err
	}
	// Discovery: the 401 of a request without a token names the URL of
	// the API's metadata (RFC 9728), which names this server as the
	// authorization server, whose own metadata (RFC 8414) gives the token
	// endpoint. The API is this whole server, so its resource identifier
	// is iss. Plain http is for this loopback demo only.
	resourceMeta, err := auth.ResourceMetadataURL(iss)
	if err != nil {
		return nil, err
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{issuer.VerificationKey()},
		Issuer:     iss,
		Audience:   audience,
		Type:       auth.TypeAccessToken,
		Leeway:     30 * time.Second,
		// Revoked access tokens, by jti, until they expire: in memory for
		// one process (auth/redisstore's for several).
		Denylist:         auth.NewMemoryDenylist(),
		ResourceMetadata: resourceMeta,
	})
	if err != nil {
		return nil, err
	}
	resource, err := auth.NewResourceMetadata(auth.ResourceMetadataOptions{
		Resource: iss, AuthorizationServers: []string{iss}, ScopesSupported: []string{"profile:read", "profile:write"},
		ResourceName: "jwt demo", JWT: bearer, DangerouslyAllowHTTP: true,
	})
	if err != nil {
		return nil, err
	}
	server, err := auth.NewServerMetadata(auth.ServerMetadataOptions{
		TokenEndpoint: endpoint, TokenEndpointURL: iss + "/token", RevocationEndpointURL: iss + "/revoke",
		JWKSURI: iss + "/.well-known/jwks.json", DangerouslyAllowHTTP: true,
	})
	if err != nil {
		return nil, err
	}
	// The logout of a token client (RFC 7009): its refresh token's family
	// and its access token stop working at once.
	revocation, err := auth.NewRevocationEndpoint(auth.RevocationEndpointOptions{TokenEndpoint: endpoint, AccessTokens: bearer})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /token", endpoint)
	mux.Handle("POST /revoke", revocation)
	mux.Handle("GET /.well-known/jwks.json", issuer.JWKSHandler())
	mux.Handle("GET "+resource.Path(), resource)
	mux.Handle("GET "+server.Path(), server)
	mux.Handle("GET /users/me/{$}", bearer.Handler(auth.RequireScopes("profile:read")(http.HandlerFunc(me))))

	// errorsafe outermost: one access record per request on stderr, with
	// the reason of a refused login or token (the client never sees it),
	// and credentials redacted.
	es, err := errorsafe.New(errorsafe.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	return es.Handler(mux), nil
}

func me(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromRequest(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"username": id.Subject(),
		"roles":    id.Roles(),
		"scopes":   id.Scopes(),
	})
}

// checkLoopback refuses a listen address off loopback: this server speaks
// plain HTTP, and its token endpoint takes passwords and hands out tokens,
// in clear to anyone on the network. Serve HTTPS elsewhere (see
// examples/https).
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.IsLoopback()) {
		return fmt.Errorf("-addr %s: plain HTTP off loopback would send passwords and tokens in clear; listen on a loopback address and serve HTTPS elsewhere", addr)
	}
	return nil
}
