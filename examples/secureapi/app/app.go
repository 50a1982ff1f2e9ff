// Package app is the secureapi server: every httpguard protection stacked
// in the recommended order around a small API. Command secureapi reads
// flags and environment variables, builds a [Config] and serves [New]'s
// handler; tests, load generators and benchmarks build the same server
// in-process:
//
//	h, err := app.New(app.Config{
//		SigningKey: key,     // an ed25519.PrivateKey, the same on every instance
//		CSRFKey:    csrfKey, // 32 random bytes, the same on every instance
//		Users:      users,   // an *auth.MemoryUsers of argon2id hashes
//	})
//	srv := httptest.NewServer(h)
//
// # The stack
//
// Outermost first, in the order package httpguard recommends, where the
// security headers come before the HTTPS redirect so that every response,
// redirects included, carries them:
//
//	errorsafe (recover, request ID, JSON access log, safe error bodies)
//	→ headers (API preset; the HTML page gets the HTML preset with nonces)
//	→ requests for "*": OPTIONS * 204, any other method 400
//	→ https.Redirect (with Config.RedirectHost)
//	→ cors (only with Config.CORSOrigins)
//	→ ratelimit by client address
//	→ csrf (Fetch Metadata and Origin; the CORS origins only without the session cookie)
//	→ session (a deleted or demoted user's session, or one older than
//	  the password, ends: ValidateLogin)
//	→ auth (a bearer or DPoP-bound token, when one is sent)
//	→ the account check (a deleted or demoted user's token, or one older
//	  than the password, gets 401)
//	→ ratelimit by subject
//	→ routes, each with its rbac guard
//
// The browser routes (GET /, POST /login, POST /logout) add a second csrf
// layer that also requires a token, bound to the session once there is
// one; the password routes (POST /token, POST /login, GET /secure-data/)
// add a stricter rate limit by address and the failed-attempt limiter,
// and POST /token and POST /login a budget of tokens and sessions issued
// per user (Config.TokenRate). POST /token/revoke, which authenticates
// clients as POST /token does, spends that stricter budget too.
//
// # Routes
//
//	GET    /                 public   login page: CSP nonce, CSRF token
//	POST   /login            form     user name and password; 303 to / with a session
//	POST   /logout           form     ends the session; 303 to /
//	GET    /data             session  the session's user and a visit counter
//	GET    /secure-data/     Basic    HTTP Basic only
//	POST   /token            public   OAuth2 password and refresh_token grants (RFC 6749)
//	POST   /token/revoke     public   token revocation (RFC 7009)
//	GET    /users/me/        signed   {"username","roles","scopes"}
//	GET    /users/{id}       signed   own record (profile:read), or any (users:read)
//	DELETE /users/{id}       signed   users:delete
//	GET    /items/{id}       signed   items:read; ids 1 to 100
//	POST   /comment/         signed   {"body": "..."}, sanitized and returned
//	POST   /api/data         signed   logs that data arrived, never the data
//	GET    /healthz          public   liveness
//	OPTIONS *                public   204, with the security headers (other methods on "*": 400)
//	GET    /panic            public   with Config.DemoPanic: panics, to show recovery
//
// "form" routes need the page's CSRF token and a same-origin request,
// and take forms of at most 4 KiB; "signed" ones a bearer token or a
// session. Roles carry scopes: guest items:read; user adds profile:read
// and profile:write; admin adds users:read and users:delete. A bearer
// token is limited to the scopes it
// was issued with (ask POST /token for fewer with scope=...), a session
// holds all of its user's. A token request with a DPoP proof (RFC 9449)
// gets tokens bound to the proof's key: the access token then needs
// "Authorization: DPoP" and a fresh proof by the key on every request,
// and the refresh token a proof by it on every refresh, so that neither
// is of use to whoever copies it without the key. Errors are RFC 9457 problems carrying the
// request ID, except on the two OAuth2 endpoints, whose errors are RFC
// 6749 §5.2 JSON ({"error": "invalid_grant"}): their own, a wrong method
// (405), the cross-origin check (403) and their credential budget. Their
// 429s, from that budget, and POST /token's from the failed-attempt
// lockout or from the user's budget of tokens issued, carry Retry-After
// and the code slow_down, which auth's token endpoint uses for its
// lockout: RFC 6749 has no rate-limit code, and slow_down is the token
// endpoint's registered "retry later" (RFC 8628 §3.5). The layers in front of every route still
// answer them with problems: an unknown Host (400), the per-address
// request budget (429) and an invalid bearer token (401), which no token
// request needs to send. A 503, when a store fails, is a problem there as
// everywhere (with Retry-After): errorsafe replaces the body of every 5xx
// response, the OAuth2 endpoints' own temporarily_unavailable included.
//
// # Cross-site request forgery
//
// The routes that accept a session also serve the page's own scripts, so
// their defence is the Fetch Metadata and Origin checks plus the
// SameSite=Lax cookie; the form routes add tokens for browsers too old to
// send either header. Bearer tokens are not sent by browsers on their own,
// so scripts of a CORS origin may call the API with them; a request that
// carries the session cookie is refused from a CORS origin like from any
// other, since a script there could otherwise act as the signed-in user
// (a sibling subdomain is same-site, where SameSite=Lax sends the
// cookie).
//
// # State
//
// Sessions, rate limits, failed attempts, the tokens issued per user,
// refresh tokens and revoked access tokens live in memory, or in Redis
// when [Config.Redis] is set, so that instances behind one load balancer
// share them. Users are kept in memory by each process: DELETE /users/{id}
// acts on one instance only. There it ends the account at once: its logins
// and refreshes fail, and its access tokens get 401 and its sessions end
// (their records are deleted on their next request). So does a change of
// its roles (a restart with another users file, which with Redis keeps
// the sessions, and with the same signing key the access tokens), except
// that its refreshes go on, with the roles of now.
//
// # Reusing the server
//
// New is the whole server. A load generator or a benchmark builds it
// in-process with a [Config] (raise RequestRate and CredentialRate when
// every request comes from one loopback address, TokenRate when many
// simulated clients share a few accounts, and set Hasher to cheap
// argon2id parameters to measure the stack rather than password hashing),
// or runs command secureapi and drives it over the network.
package app

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard"
	"github.com/httpguard/httpguard/auth"
	authredis "github.com/httpguard/httpguard/auth/redisstore"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	ratelimitredis "github.com/httpguard/httpguard/ratelimit/redisstore"
	"github.com/httpguard/httpguard/sanitize"
	"github.com/httpguard/httpguard/session"
	sessionredis "github.com/httpguard/httpguard/session/redisstore"
)

// Identifiers shared by every instance of the service.
const (
	// Issuer is the iss claim of access tokens.
	Issuer = "secureapi"
	// Audience is their aud claim.
	Audience = "secureapi"
	// ClientID is the registered first-party public client.
	ClientID = "secureapi-cli"
	// Realm is the realm of the authentication challenges.
	Realm = "secureapi"
)

// Defaults of [Config].
const (
	DefaultRequestRate    = 20
	DefaultCredentialRate = 30
	DefaultTokenRate      = 30
	DefaultMaxFailures    = 10
	DefaultLockout        = 15 * time.Minute
	DefaultAccessTokenTTL = 15 * time.Minute
)

// Config describes one instance. SigningKey, CSRFKey and Users are
// required; every other zero field is the default described. New copies
// what it needs.
type Config struct {
	// Logger receives the JSON access log, security events and the
	// application's records. Default: [slog.Default].
	Logger *slog.Logger

	// ClientIP resolves client addresses and schemes. Default: nil, trust
	// no proxy: forwarding headers are ignored.
	ClientIP *clientip.Resolver

	// TLS says clients reach the service over HTTPS (directly or through
	// a trusted TLS-terminating proxy): cookies get Secure and the __Host-
	// prefix. Default false: plain HTTP on loopback, for development; the
	// cookies then lack Secure.
	TLS bool
	// RedirectHost, when set, is the host[:port] that GET and HEAD
	// requests made over plain HTTP are redirected to, over HTTPS; other
	// methods over plain HTTP are refused with 400 (their body has
	// already crossed the network in clear), and /healthz is served. The
	// Host header is never used for the redirect. Default: no redirect.
	RedirectHost string

	// AllowedHosts are the Host header values served; others get 400
	// (against DNS rebinding and Host header injection). Default: none,
	// no check.
	AllowedHosts []string

	// CORSOrigins may read responses from scripts and send unsafe
	// requests, with bearer tokens: a request that carries the session
	// cookie is refused from them as from any other origin. Default:
	// none, no CORS.
	CORSOrigins []string

	// Redis, when set, holds sessions, rate limits, failed attempts,
	// refresh tokens and revoked access tokens, shared by every instance
	// using it. The caller closes it. Default: memory, per process.
	Redis redis.UniversalClient

	// SigningKey signs and verifies access tokens (EdDSA). Required.
	SigningKey ed25519.PrivateKey
	// CSRFKey is the HMAC key of CSRF tokens, at least 32 bytes. Required.
	CSRFKey []byte

	// Users are the accounts, with their roles. Required. DELETE
	// /users/{id} removes accounts from it. No two of its names may
	// have the same [LockoutName] ("Bob" and "bob"): the lockout counts
	// them as one, and a successful login to either clears the failures
	// of both.
	Users *auth.MemoryUsers
	// Hasher verifies passwords on POST /token and GET /secure-data/,
	// and hashes the dummy password unknown users are verified against.
	// Default: password.Default (argon2id at the OWASP parameters). POST
	// /login always uses the default (auth.CheckPassword takes no
	// hasher), so keep stored hashes at the default parameters, as
	// -hash-password makes them: then an unknown user costs as much as a
	// known one everywhere. Tests set cheap parameters here.
	Hasher auth.PasswordHasher

	// RequestRate is the budget of each client address and of each
	// authenticated subject, in requests per second, with bursts of
	// twice as many. Default [DefaultRequestRate].
	RequestRate int
	// CredentialRate is the budget of each client address on the
	// password routes, per minute. Default [DefaultCredentialRate].
	CredentialRate int
	// TokenRate is the budget of tokens POST /token issues to each user,
	// logins and refreshes together, and of sessions POST /login starts
	// for it, per minute, whatever the addresses they come from: one
	// account behind many addresses could otherwise rotate its refresh
	// token as fast as the server answers, each rotation a refresh store
	// entry kept for two weeks, or start sessions until the memory
	// store's bound refused every other user's login. A client refreshes
	// about once per access-token lifetime. Default [DefaultTokenRate].
	TokenRate int
	// MaxFailures wrong passwords in a row for one user name from one
	// address lock that pair out for Lockout. Defaults
	// [DefaultMaxFailures] and [DefaultLockout].
	MaxFailures int
	Lockout     time.Duration
	// AccessTokenTTL is the lifetime of access tokens. Default
	// [DefaultAccessTokenTTL].
	AccessTokenTTL time.Duration

	// DemoPanic serves GET /panic, which panics, to show recovery.
	DemoPanic bool

	// attemptStore, when set, holds the failed attempts in place of the
	// store New chooses: the tests make it fail (see export_test.go).
	attemptStore ratelimit.Store
}

// server holds what the handlers need.
type server struct {
	log      *slog.Logger
	users    *auth.MemoryUsers
	clientIP *clientip.Resolver
	attempts *ratelimit.AttemptLimiter
	issues   *ratelimit.KeyLimiter // tokens and sessions issued per user
	bearer   *auth.JWT
	decoder  *sanitize.Decoder
	cookie   string // the session cookie's name, for the challenge
}

// New validates cfg and returns the service's handler. It hashes two
// dummy passwords (one for the token endpoint, one for HTTP Basic), so
// it takes as long as two password hashes. The handler is safe for
// concurrent use; it owns no goroutine and needs no cleanup.
func New(cfg Config) (http.Handler, error) {
	var errs []error
	if len(cfg.SigningKey) != ed25519.PrivateKeySize {
		errs = append(errs, errors.New("app: Config.SigningKey must be an Ed25519 private key"))
	}
	if len(cfg.CSRFKey) < 32 {
		errs = append(errs, errors.New("app: Config.CSRFKey must be at least 32 bytes"))
	}
	if cfg.Users == nil {
		errs = append(errs, errors.New("app: Config.Users is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	requestRate := orDefault(cfg.RequestRate, DefaultRequestRate)
	credentialRate := orDefault(cfg.CredentialRate, DefaultCredentialRate)
	tokenRate := orDefault(cfg.TokenRate, DefaultTokenRate)

	st, err := newStores(cfg.Redis, logger)
	if err != nil {
		return nil, err
	}

	// Outermost: recovery, request IDs, the access log, safe error bodies.
	es, err := errorsafe.New(errorsafe.Options{
		Logger:                  logger,
		ClientIP:                cfg.ClientIP,
		IgnoreIncomingRequestID: true, // no gateway assigns IDs here
		ReplaceMuxErrors:        true, // ServeMux's plain-text 404 and 405 become problems
	})
	if err != nil {
		return nil, err
	}
	var redirect func(http.Handler) http.Handler
	if cfg.RedirectHost != "" {
		rd, err := https.NewRedirect(https.RedirectOptions{
			ClientIP: cfg.ClientIP,
			Host:     cfg.RedirectHost,
			Exempt:   []string{"/healthz"},
		})
		if err != nil {
			return nil, err
		}
		redirect = rd.Handler
	}
	sec, err := headers.New(headers.Options{ClientIP: cfg.ClientIP, AllowedHosts: cfg.AllowedHosts})
	if err != nil {
		return nil, err
	}
	htmlHeaders, err := sec.With(func(o *headers.Options) {
		page := headers.HTML()
		o.CSP, o.ReferrerPolicy = page.CSP, page.ReferrerPolicy
	})
	if err != nil {
		return nil, err
	}
	var corsHandler func(http.Handler) http.Handler
	if len(cfg.CORSOrigins) > 0 {
		c, err := cors.New(cors.Options{
			AllowedOrigins: cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodDelete},
			AllowedHeaders: []string{"Authorization", "Content-Type", "DPoP"},
			ExposedHeaders: []string{"X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy"},
			MaxAge:         10 * time.Minute,
		})
		if err != nil {
			return nil, err
		}
		corsHandler = c.Handler
	}
	perIP, err := ratelimit.New(ratelimit.Options{
		Limits:   []ratelimit.Limit{{Name: "ip", Rate: requestRate, Period: time.Second, Burst: 2 * requestRate, Key: ratelimit.ByIP()}},
		ClientIP: cfg.ClientIP,
		Store:    st.requests,
	})
	if err != nil {
		return nil, err
	}
	sessions, err := session.New(session.Options{
		Store:                          st.session,
		DangerouslyAllowInsecureCookie: !cfg.TLS, // plain HTTP on loopback only; main refuses anything else
		// The sessions of a deleted account, of one whose roles changed
		// (an admin demoted) and of one whose password changed end on
		// their next request: the record is deleted and the request goes
		// on without a session.
		ValidateLogin: func(ctx context.Context, id identity.Identity, _ time.Time) (bool, error) {
			u, found, err := cfg.Users.LookupUser(ctx, id.Subject())
			return found && sameRoles(id, u.Identity.Roles) && sameCredential(id, u.Hash), err
		},
	})
	if err != nil {
		return nil, err
	}
	crossOrigin, err := newCrossOrigin(cfg, sessions)
	if err != nil {
		return nil, err
	}
	issuer, err := auth.NewIssuer(auth.IssuerOptions{
		Key:      auth.Key{ID: keyID(cfg.SigningKey), Algorithm: auth.AlgEdDSA, Key: cfg.SigningKey},
		Issuer:   Issuer,
		Audience: []string{Audience},
		TTL:      orDefault(cfg.AccessTokenTTL, DefaultAccessTokenTTL),
	})
	if err != nil {
		return nil, err
	}
	bearer, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{auth.AlgEdDSA},
		Keys:       []auth.Key{issuer.VerificationKey()},
		Issuer:     Issuer,
		Audience:   Audience,
		Type:       auth.TypeAccessToken,
		Leeway:     30 * time.Second,
		Denylist:   st.denylist,
		CacheSize:  4096,
		Realm:      Realm,
		// The fingerprint the account check compares (see Claims below).
		IdentityClaims: []string{credentialClaim},
		// Tokens bound to a client's key (RFC 9449), which POST /token
		// issues to a request with a DPoP proof, come in
		// "Authorization: DPoP" with a fresh proof by that key; plain
		// bearer tokens are still taken. Proofs are remembered by every
		// instance (Redis with Config.Redis), so none is used twice.
		// Behind a TLS-terminating proxy, ClientIP gives the scheme
		// clients used, which a proof's htu names.
		DPoP: &auth.DPoPOptions{Replay: st.replay, ClientIP: cfg.ClientIP, Algorithms: strings.Fields(dpopAlgs)},
	})
	if err != nil {
		return nil, err
	}
	perSubject, err := ratelimit.New(ratelimit.Options{
		Limits:   []ratelimit.Limit{{Name: "subject", Rate: requestRate, Period: time.Second, Burst: 2 * requestRate, Key: ratelimit.BySubject()}},
		ClientIP: cfg.ClientIP,
		Store:    st.requests,
		// Its RateLimit items follow the per-address ones as a second
		// field line: a signed-in client sees both budgets.
	})
	if err != nil {
		return nil, err
	}

	// The password routes: a stricter budget per address (each check
	// costs a password hash), and the failed-attempt limiter shared by
	// POST /token, POST /login and GET /secure-data/.
	credentials := ratelimit.Options{
		Limits:   []ratelimit.Limit{{Name: "credentials", Rate: credentialRate, Period: time.Minute, Key: ratelimit.ByIP()}},
		ClientIP: cfg.ClientIP,
		Store:    st.credentials,
	}
	credLimit, err := ratelimit.New(credentials)
	if err != nil {
		return nil, err
	}
	// The same budget for POST /token and POST /token/revoke, which
	// authenticate clients as they would a password (a confidential
	// client's secret costs a hash), with their refusals in the OAuth2
	// error format: Middlewares on one store share the budget of limits
	// with the same name and grouping (a custom OnReject on the first
	// would cost every other route ratelimit's allocation-free refusal).
	credentials.OnReject = rejectOAuthRate
	tokenCredLimit, err := ratelimit.New(credentials)
	if err != nil {
		return nil, err
	}
	attemptStore := st.attempts
	if cfg.attemptStore != nil {
		attemptStore = cfg.attemptStore
	}
	attempts, err := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{
		Username:    LockoutName,
		Store:       attemptStore,
		MaxFailures: orDefault(cfg.MaxFailures, DefaultMaxFailures),
		Lockout:     orDefault(cfg.Lockout, DefaultLockout),
	})
	if err != nil {
		return nil, err
	}
	// The tokens issued per user, and the sessions POST /login starts,
	// in the store of the credential budgets (in Redis it fails
	// closed): its keys are its own.
	issues, err := ratelimit.NewKeyLimiter(ratelimit.KeyLimiterOptions{
		Name:   "tokens",
		Rate:   tokenRate,
		Period: time.Minute,
		Store:  st.credentials,
	})
	if err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer:       issuer,
		Users:        cfg.Users,
		Hasher:       cfg.Hasher,
		Limiter:      attempts,
		IssueLimiter: issues,
		ClientIP:     cfg.ClientIP,
		RefreshStore: st.refresh,
		Clients: []auth.Client{{
			ID:     ClientID,
			Public: true, // a first-party command-line or browser client: no secret to keep
			Grants: []string{auth.GrantPassword, auth.GrantRefreshToken},
			Scopes: allScopes,
		}},
		// A token request with a DPoP proof gets tokens bound to the
		// proof's key: the access token, and the refresh token, since
		// the client is public. Its ClientIP is the endpoint's.
		DPoP: &auth.DPoPOptions{Replay: st.replay, Algorithms: strings.Fields(dpopAlgs)},
		// Each access token carries the fingerprint of its user's
		// password hash, which the account check compares: a password
		// change ends the access tokens issued before it, as auth ends
		// the refresh tokens.
		Claims: func(ctx context.Context, g auth.Grant) (map[string]any, error) {
			u, found, err := cfg.Users.LookupUser(ctx, g.Subject)
			if err != nil || !found {
				return nil, err // a deleted account's token fails the account check anyway
			}
			return map[string]any{credentialClaim: credential(u.Hash)}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	// POST /token/revoke (RFC 7009): a refresh token revokes its family,
	// an access token goes on bearer's denylist, in Redis with
	// Config.Redis, so that every instance refuses it at once.
	revocation, err := auth.NewRevocationEndpoint(auth.RevocationEndpointOptions{
		TokenEndpoint: tokens,
		AccessTokens:  bearer,
	})
	if err != nil {
		return nil, err
	}
	basic, err := auth.NewBasic(auth.BasicOptions{
		Users:    cfg.Users,
		Realm:    Realm,
		Hasher:   cfg.Hasher,
		Limiter:  attempts,
		ClientIP: cfg.ClientIP,
		CacheTTL: time.Minute, // scripts send the password with every request
	})
	if err != nil {
		return nil, err
	}
	// The browser routes also need a token from the page: a cross-origin
	// POST is refused by the Fetch Metadata and Origin checks first, even
	// with a valid token, and so is one from a CORS origin.
	csrfTokens, err := csrf.New(csrf.Options{
		ClientIP: cfg.ClientIP,
		Tokens: &csrf.TokenOptions{
			Key:                            cfg.CSRFKey,
			SessionID:                      sessions.Token, // a signed-in user's tokens are valid in their session only
			Always:                         true,
			DangerouslyAllowInsecureCookie: !cfg.TLS,
			MaxFormBytes:                   maxFormBytes, // the form routes' bound, before this layer reads the body
		},
	})
	if err != nil {
		return nil, err
	}
	guards, err := newGuards()
	if err != nil {
		return nil, err
	}
	decoder, err := sanitize.New(sanitize.Options{MaxBytes: 16 << 10})
	if err != nil {
		return nil, err
	}

	s := &server{
		log:      logger,
		users:    cfg.Users,
		clientIP: cfg.ClientIP,
		attempts: attempts,
		issues:   issues,
		bearer:   bearer,
		decoder:  decoder,
		cookie:   sessions.CookieName(),
	}
	mux := http.NewServeMux()
	s.routes(mux, routeDeps{
		tokens:    tokens,
		revoke:    revocation,
		basic:     basic.Handler,
		cred:      credLimit.Handler,
		tokenCred: tokenCredLimit.Handler,
		browser:   csrfTokens.Handler,
		html:      htmlHeaders.Handler,
		guards:    guards,
		panicRun:  cfg.DemoPanic,
	})

	stack := httpguard.Chain(
		es.Handler,
		// The headers come before the redirect, as in the recommended
		// order, so that the 301 carries them too. HSTS is not sent over
		// plain HTTP.
		sec.Handler,
		asteriskForm,
		redirect,
		corsHandler,
		perIP.Handler,
		crossOrigin,
		sessions.Handler,
		s.bearer.Optional, // a token when one is sent (with another user's session: 401); else a session, Basic on its route, or nobody
		s.current,
		perSubject.Handler,
	)
	return stack(mux), nil
}

// newCrossOrigin returns the cross-origin protection of every route:
// browsers' cross-site and same-site requests are refused, non-browser
// clients pass.
//
// Scripts of the CORS origins may call the API with bearer tokens, which
// browsers never attach on their own, so their requests pass too, but
// only without the session cookie. A browser sends that cookie with a
// CORS origin's request when the script asks for it, and a sibling
// subdomain (app.example.com calling api.example.com) is same-site, where
// SameSite=Lax does not hold it back: trusting the origin then would let
// the origin's scripts act as the signed-in user. So a request that
// carries the session cookie gets the strict check, whatever its origin.
func newCrossOrigin(cfg Config, sessions *session.Middleware) (func(http.Handler) http.Handler, error) {
	strict, err := csrf.New(csrf.Options{ClientIP: cfg.ClientIP, OnReject: rejectCrossOrigin})
	if err != nil {
		return nil, err
	}
	if len(cfg.CORSOrigins) == 0 {
		return strict.Handler, nil
	}
	trustCORS, err := csrf.New(csrf.Options{TrustedOrigins: cfg.CORSOrigins, ClientIP: cfg.ClientIP, OnReject: rejectCrossOrigin})
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		withSession, withoutSession := strict.Handler(next), trustCORS.Handler(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Token reads the cookie exactly as the session middleware does.
			if _, ok := sessions.Token(r); ok {
				withSession.ServeHTTP(w, r)
				return
			}
			withoutSession.ServeHTTP(w, r)
		})
	}, nil
}

// LockoutName returns the form in which the failed-attempt lockout
// counts a user name: case-folded, without trailing spaces (the default
// of ratelimit.AttemptOptions.Username), so that guesses at "BOB" or
// "bob " count with those at bob, for a user store that would take them
// for bob. Names of one form share one count, so they must not be two
// accounts: a successful login to "bob" would clear the failures of
// "Bob", and whoever holds the one could guess the other's password
// without end (found in review). Command secureapi refuses a -users file
// with two such names.
func LockoutName(name string) string { return lockoutNames.Username(name) }

// lockoutNames folds user names with ratelimit's default; it counts
// nothing.
var lockoutNames, _ = ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})

var errAccountChanged = errors.New("secureapi: the account of this token was deleted, or its roles or password changed")

// The challenges of the account check, for a bearer and a DPoP token.
const (
	accountChanged     = `Bearer realm="` + Realm + `", error="invalid_token", error_description="The account was deleted, or its roles or password changed"`
	accountChangedDPoP = `DPoP realm="` + Realm + `", algs="` + dpopAlgs + `", error="invalid_token", error_description="The account was deleted, or its roles or password changed"`
)

// dpopAlgs are the algorithms of the DPoP proofs taken, space-separated.
const dpopAlgs = "ES256 EdDSA"

// current refuses a bearer token whose account is gone from this
// instance's users, holds other roles than the token says, or has another
// password hash than the one the token was issued for: DELETE /users/{id},
// a demotion and a password change end the account's access tokens at
// once, not when they expire, and a refresh gets the roles of now. (Its
// sessions end through the session middleware's ValidateLogin; HTTP Basic
// checks the password against the users on its route.) Other requests
// pass.
func (s *server) current(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		if !ok || id.Subject() == "" || id.Method() == identity.MethodSession {
			next.ServeHTTP(w, r)
			return
		}
		switch u, found, err := s.users.LookupUser(r.Context(), id.Subject()); {
		case err != nil:
			unavailable(w, r, err)
		case found && sameRoles(id, u.Identity.Roles) && sameCredential(id, u.Hash):
			next.ServeHTTP(w, r)
		default:
			// In the scheme the token came in (RFC 9449 §7.1).
			challenge := accountChanged
			if isDPoP(r) {
				challenge = accountChangedDPoP
			}
			w.Header().Set("WWW-Authenticate", challenge)
			errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusUnauthorized, Err: errAccountChanged})
		}
	})
}

// sameRoles reports whether id holds the same roles as roles, the
// account's roles of now, in any order (a store may list a role twice,
// which an identity holds once), without copying id's on every request.
func sameRoles(id identity.Identity, roles []string) bool {
	for _, role := range roles {
		if !id.HasRole(role) {
			return false
		}
	}
	for i := range id.NumRoles() {
		if !slices.Contains(roles, id.Role(i)) {
			return false
		}
	}
	return true
}

// credentialClaim is the claim of a session's identity and of an access
// token that holds credential(hash) of the password hash the user logged
// in with, so that a password change ends the sessions and access tokens
// made before it (OWASP ASVS 3.3.3): restarted with another -users file,
// and with -redis, a session made with the old password would otherwise
// outlive it, and an access token live out its DefaultAccessTokenTTL.
// (Refresh tokens are bound to the hash by auth itself.)
const credentialClaim = "secureapi_credential"

// credential returns a fingerprint of a password hash: 128 bits of its
// SHA-256. It is a hash of a salted, slow hash, whose salt it does not
// show: a client reading it in its access token learns nothing of the
// password, and a server only that the hash changed. The account check
// asks for it on every signed-in request, so it is computed once per
// hash: the hashes are the user store's own, as many as its accounts
// have had, never a client's.
func credential(hash string) string {
	if c, ok := credentials.Load(hash); ok {
		return c.(string)
	}
	sum := sha256.Sum256([]byte("secureapi session credential\x00" + hash))
	c := base64.RawURLEncoding.EncodeToString(sum[:16])
	credentials.Store(hash, c)
	return c
}

// credentials holds credential's results: password hash → fingerprint.
var credentials sync.Map

// sameCredential reports whether id, a session's or an access token's
// identity, was logged in with hash, the account's password hash of now.
// One without the claim (made before it existed) is not.
func sameCredential(id identity.Identity, hash string) bool {
	c, ok := id.Claim(credentialClaim)
	s, isString := c.(string)
	return ok && isString && subtle.ConstantTimeCompare([]byte(s), []byte(credential(hash))) == 1
}

var errAsteriskForm = errors.New("secureapi: the request target \"*\" is for OPTIONS only")

// asteriskForm answers the requests whose target is "*" (RFC 9112
// §3.2.4), which name no resource: ServeMux would answer them itself with
// a bare 400, past the problem responses. "OPTIONS *" asks about the
// server as a whole, and net/http's own answer, when main does not turn
// it off, is a success with no content; here it gets 204 with the
// security headers and the request ID, as every response does. Any other
// method cannot take that target: 400, as a problem. Both are answered
// before the HTTPS redirect, which would send them to "/*", and the layers
// further in, which guard resources: after the Host check, which still
// refuses an unknown host.
func asteriskForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.RequestURI != "*":
			next.ServeHTTP(w, r)
		case r.Method == http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
		default:
			errorsafe.WriteError(w, r, &errorsafe.Error{Status: http.StatusBadRequest, Err: errAsteriskForm})
		}
	})
}

// keyID names the signing key by its public key, so that instances with
// different keys never confuse them.
func keyID(k ed25519.PrivateKey) string {
	sum := sha256.Sum256(k.Public().(ed25519.PublicKey))
	return "ed25519-" + hex.EncodeToString(sum[:8])
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// stores are where the state shared by instances lives.
type stores struct {
	session     session.Store // nil: the session package's memory store
	requests    ratelimit.Store
	credentials ratelimit.Store
	attempts    ratelimit.Store // failed logins, apart from the budgets in memory
	refresh     auth.RefreshStore
	denylist    auth.Denylist
	replay      auth.ReplayCache // DPoP proofs used, of /token and of the API
}

// newStores returns stores in rdb, or in memory when rdb is nil. Request
// limits fail open when Redis is down (the service stays up, unlimited,
// and says so in the log); every other store fails closed, so a Redis
// outage never admits a password guess, a revoked token or a dead
// session.
func newStores(rdb redis.UniversalClient, logger *slog.Logger) (stores, error) {
	if rdb == nil {
		// A store each, so that their bounds are apart: a flood of keys
		// of one (addresses rotated through an IPv6 /48) can evict only
		// its own, never a failed-login count or a lockout.
		requests, err1 := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
		credentials, err2 := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
		attempts, err3 := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
		return stores{
			requests:    requests,
			credentials: credentials,
			attempts:    attempts,
			refresh:     auth.NewMemoryRefreshStore(),
			denylist:    auth.NewMemoryDenylist(),
			replay:      auth.NewMemoryReplayCache(0),
		}, errors.Join(err1, err2, err3)
	}
	sess, err1 := sessionredis.New(sessionredis.Options{Client: rdb})
	requests, err2 := ratelimitredis.New(ratelimitredis.Options{Client: rdb, FailOpen: true, OnError: func(err error) {
		logger.Error("rate limit store unavailable: request limits are not enforced", "error", err)
	}})
	credentials, err3 := ratelimitredis.New(ratelimitredis.Options{Client: rdb})
	refresh, err4 := authredis.NewRefreshStore(authredis.Options{Client: rdb})
	denylist, err5 := authredis.NewDenylist(authredis.Options{Client: rdb})
	replay, err6 := authredis.NewReplayCache(authredis.Options{Client: rdb})
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return stores{}, err
	}
	return stores{session: sess, requests: requests, credentials: credentials, attempts: credentials, refresh: refresh, denylist: denylist, replay: replay}, nil
}
