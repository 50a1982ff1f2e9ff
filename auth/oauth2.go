package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/detach"
	"github.com/httpguard/httpguard/internal/formsize"
	"github.com/httpguard/httpguard/internal/httptoken"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/storefail"
)

// OAuth2 grant types served by [TokenEndpoint].
const (
	GrantPassword          = "password"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// Defaults of [TokenEndpointOptions].
const (
	DefaultRefreshTokenTTL         = 14 * 24 * time.Hour
	DefaultRefreshTokenMaxLifetime = 90 * 24 * time.Hour
	DefaultTokenRequestMaxBytes    = 4 << 10
)

// Client is an OAuth2 client registered with a [TokenEndpoint].
type Client struct {
	// ID is the client_id. Required; 1 to 256 bytes of printable ASCII
	// without spaces, and unique among the clients.
	ID string
	// SecretHash is a password hash of the client secret (see
	// auth/password), verified with TokenEndpointOptions.Hasher. The
	// secret itself is never stored. Required unless Public. When the
	// Hasher can inspect a hash without hashing, as [*password.Hasher]
	// does, one it refuses is an error of NewTokenEndpoint.
	SecretHash string
	// Public marks a client that cannot keep a secret (a native or
	// browser app). It authenticates with client_id alone and may use
	// only the password and refresh_token grants. Setting Public with a
	// SecretHash is an error.
	Public bool
	// Grants are the grant types the client may use ([GrantPassword],
	// [GrantClientCredentials], [GrantRefreshToken]). Required. A
	// client with GrantRefreshToken receives a refresh token with each
	// password grant.
	Grants []string
	// Scopes bound what the client may obtain: a token's scopes are the
	// requested ones, which must be within Scopes and, for a user,
	// within the user's own scopes. Each must be an RFC 6749 scope token
	// of at most 256 bytes. Default none.
	Scopes []string
	// Roles are the roles of the client's own tokens
	// (client_credentials). Users' tokens carry the user's roles.
	Roles []string
}

// ClientSubjectPrefix starts the subject of a client's own tokens
// (client_credentials): "client:" and the client ID. Client IDs and user
// names share no namespace otherwise, and a user named like a client would
// get tokens whose subject a handler could not tell from the client's (RFC
// 9068 §5). The password and refresh grants refuse users whose subject
// starts with it, in any case.
const ClientSubjectPrefix = "client:"

// isClientSubject reports whether a user's subject could pass for a
// client's.
func isClientSubject(sub string) bool {
	return httptoken.HasPrefixFold(sub, ClientSubjectPrefix)
}

// TokenEndpointOptions configures [NewTokenEndpoint]. NewTokenEndpoint
// copies what it needs.
type TokenEndpointOptions struct {
	// Issuer signs the access tokens. Required.
	Issuer *Issuer
	// Clients are the registered clients. Required.
	Clients []Client
	// Users checks user names and passwords for the password grant and
	// is consulted again on every refresh (a deleted user's refresh
	// tokens stop working; changed roles and scopes take effect).
	// Required when a client may use the password or refresh_token
	// grant. Default: nil, which is an error in that case.
	Users UserStore
	// Hasher verifies passwords and client secrets. Default
	// [password.Default].
	Hasher PasswordHasher
	// Limiter, when set, limits password attempts of the password grant
	// per user name and client address: an attempt is reserved after the
	// user lookup and before the password is verified
	// ([AttemptLimiter.Reserve]), and a verified password clears the
	// pair. A refused attempt gets 429 with Retry-After and no password
	// is hashed. Client secrets are not counted by it; put a rate limiter
	// on the endpoint as well. Default: nil, password attempts are not
	// limited: an attacker may guess passwords as fast as the endpoint
	// answers.
	Limiter AttemptLimiter
	// IssueLimiter, when set, limits the tokens issued per subject: it is
	// asked once for every response that would issue tokens, after every
	// other check of the grant and before anything is issued, stored or
	// rotated, with the subject the access token will carry (the user's,
	// or [ClientSubjectPrefix] and the client ID for client_credentials).
	// That is the password grant once the password verified, before its
	// refresh token family is created; the refresh_token grant before the
	// rotation, so that a refused refresh rotates nothing and the token
	// presented stays usable; a retry within RefreshRetryWindow, which
	// issues an access token; and client_credentials. A refusal is
	// answered 429 with Retry-After and slow_down, the code of a refused
	// password attempt, with an error_description of its own, and its
	// reason in the log wraps [ErrTooManyTokens]; a limiter whose store
	// cannot answer (see [IssueLimiter]) gets 503
	// temporarily_unavailable. On the password grant the refusal comes
	// only once the password verified, where a wrong one gets 400
	// invalid_grant: a subject over its budget answers a right password
	// differently from a wrong one, which tells the sender that the
	// password was right, as the token it would otherwise get does. (The
	// AttemptLimiter's lockout comes before the verification and answers
	// both alike.)
	//
	// Without it, one valid account, from as many addresses as it likes
	// (an IPv6 /48 holds 65 536 /64s), can rotate its refresh token as
	// fast as the endpoint answers, and every rotation leaves an entry in
	// the RefreshStore until RefreshTokenTTL: a Redis store full under
	// maxmemory noeviction then refuses writes, and every protection that
	// shares it fails closed. ratelimit's KeyLimiter fits; a budget of
	// about 30 tokens a minute per subject leaves room for a legitimate
	// client, which refreshes about once per access-token lifetime.
	// Default: nil, no limit.
	IssueLimiter IssueLimiter
	// ClientIP resolves the client address given to Limiter and, unless
	// DPoP has a ClientIP or Origin of its own, the scheme and host a DPoP
	// proof's htu is compared with. Default: nil, the direct peer and the
	// connection's scheme.
	ClientIP *clientip.Resolver
	// RefreshStore keeps refresh tokens. Default: a new
	// [MemoryRefreshStore] (one instance only; use auth/redisstore for
	// several).
	RefreshStore RefreshStore
	// RefreshTokenTTL is how long an unused refresh token stays valid.
	// Default [DefaultRefreshTokenTTL]; at least a minute.
	RefreshTokenTTL time.Duration
	// RefreshTokenMaxLifetime bounds a rotation chain: after it the user
	// must authenticate again. Default [DefaultRefreshTokenMaxLifetime];
	// at least RefreshTokenTTL and at most five years.
	RefreshTokenMaxLifetime time.Duration
	// RefreshRetryWindow is how long after a rotation the rotated refresh
	// token may be presented again and get the same successor back, with
	// a new access token, instead of revoking its family: a client that
	// lost the response to a refresh (a mobile network dropped it) can
	// retry. The window counts from the rotation; retries do not extend
	// it. A retry gets the successor only while the successor is unused
	// and its family unrevoked, and passes every check of a refresh
	// (client, user, password, scopes); otherwise, or after the window,
	// the family is revoked as without it.
	//
	// The family keeps one live token, but reuse within the window goes
	// unnoticed: whoever presents a rotated token within the window of
	// its rotation gets its successor. A thief who holds a copy of the
	// rotated token gets the successor the client has, and the
	// successor's second use is a reuse only if it comes after the window
	// of the successor's own rotation, or after the token it was rotated
	// to was rotated in turn; while each use by the one falls within the
	// window of the other's use of the same token, both get the same
	// tokens.
	//
	// The rotation time is by the clock of the instance that rotated, and
	// a retry is accepted while the clock of the instance that answers it
	// is less than the window away from that time, on either side: when
	// the rotating instance's clock runs ahead by d, retries are accepted
	// until d plus the window after the rotation; when it runs behind,
	// the window is shorter. Keep the instances' clocks synchronized well
	// within it.
	//
	// The successor is kept with the rotated token, until the rotated
	// token's expiry, sealed under a key derived from the rotated token,
	// which the store never sees, and from the Issuer's signing key, which
	// it never holds: a leaked store yields no usable token, even with a
	// rotated token kept from before (one left in a log), which opened
	// the successors one after another up to the live token while the key
	// came from the rotated token alone. Instances that answer each
	// other's retries must sign with the same key: while a new signing key
	// is rolled out, a retry that reaches an instance with the other key
	// is taken for a reuse and revokes the family. RefreshStore must be a
	// [RetryableRefreshStore]. Default 0: no retry, a rotated token
	// presented again revokes its family. At most
	// [MaxRefreshRetryWindow].
	RefreshRetryWindow time.Duration
	// MaxBodyBytes bounds the request body. Default
	// [DefaultTokenRequestMaxBytes]; from 256 bytes to 1 MiB.
	MaxBodyBytes int64
	// OnRehash, when set, is called after a password grant whose
	// password verified against a hash that needs upgrading, with that
	// hash and a new one made by Hasher, and must be a compare-and-swap
	// as [BasicOptions.OnRehash] says; it returns nil when it stored the
	// new hash. Its error is not returned to the client. The user is then
	// looked up again: the refresh token issued is bound to the new hash
	// if OnRehash succeeded or the store holds it, to the old one if the
	// store still holds it and OnRehash failed, to any other hash the
	// store holds only if this password verifies against it (another
	// login upgraded it first), and otherwise to the hash verified, so if
	// a password change won the race the token ends at its first refresh.
	// Once the new hash is stored, the user's older refresh tokens, bound
	// to the old one, end as after a password change: once per upgrade of
	// the hashing parameters, as long as every hasher sharing the user
	// store (Basic's, this endpoint's) uses the same parameters: hashers
	// of which neither is at least as strong as the other in every
	// parameter each find the other's hashes weaker and upgrade them back
	// and forth. [MemoryUsers.Rehash] fits, for a Hasher within the limits
	// of [password.Default].
	// Default: none.
	OnRehash func(ctx context.Context, name, oldHash, newHash string) error
	// Claims, when set, returns further claims of each access token the
	// endpoint issues ([Grant].Claims), such as a tenant, or a fingerprint
	// of the user's credentials that the application compares with the
	// account's of now, so that a password change ends the access tokens
	// issued before it as it ends the refresh tokens. It is called with
	// the grant to be issued once the client, and for the password grant
	// the password, are verified, and before a refresh token is rotated.
	// An error refuses the request with 503 temporarily_unavailable, as a
	// store failure is; claims that Issue refuses (a name of
	// [ReservedClaims], or any [Grant].Claims lists) with 500
	// server_error. Default: none.
	Claims func(ctx context.Context, g Grant) (map[string]any, error)
	// DPoP, when set, issues tokens bound to the client's key (RFC 9449
	// §5) to a token request with a DPoP proof: the access token carries
	// the key's thumbprint in its cnf claim and comes with token_type
	// DPoP, and a [JWT] with DPoPOptions accepts it only with a proof by
	// that key. A refresh token issued to a public client is bound to
	// the key too: every refresh needs a proof by it, so a stolen refresh
	// token is useless without the key, and a refresh without one is
	// refused with invalid_dpop_proof and revokes nothing, not even when
	// the token was rotated. (A [RevocationEndpoint] revokes it without a
	// proof, as it revokes any token it is given.) A family begun without
	// a proof is bound from its first refresh with one. A confidential
	// client's refresh tokens are not bound (it authenticates on each
	// refresh), and may move to another key.
	//
	// The proof is checked as for a JWT (method POST, htu this
	// endpoint's URI, iat within MaxAge and not in the future, as a JWT
	// of Leeway 0 checks it, a jti never used before, the algorithms), once
	// the client is authenticated and before a password is verified,
	// without ath and by any key; its jti goes into Replay only once the
	// request is authenticated (the password verified, or the refresh
	// token found and, if bound, bound to the proof's key), so that
	// requests anyone can send take no room in a cache the resource
	// servers may share, and a proof captured with a refresh, sent again
	// with the rotated token, is refused before it could revoke the
	// family as a reuse. An invalid proof is answered 400
	// invalid_dpop_proof; with Nonces, a proof without a nonce the server
	// issued is answered 400 use_dpop_nonce with a new one in a
	// DPoP-Nonce header (RFC 9449 §8), and a successful response carries
	// the next one when it is about to expire. Required refuses token
	// requests without a proof. MaxAge, Algorithms, Origin, ClientIP,
	// Replay and Nonces are as for a JWT (ClientIP defaults to
	// TokenEndpointOptions.ClientIP); the resource servers' Replay cache
	// and Nonces may be shared. Without DPoP, a DPoP header is ignored and
	// tokens are issued as bearer tokens, as RFC 9449 lets a server do.
	// Default: nil.
	DPoP *DPoPOptions

	now func() time.Time
}

// TokenEndpoint is the OAuth2 token endpoint (RFC 6749 §3.2) built by
// [NewTokenEndpoint]; it is an [http.Handler]. It serves the password
// (§4.3), client_credentials (§4.4) and refresh_token (§6) grants, with
// client authentication by HTTP Basic or by form parameters (§2.3.1).
// A form already parsed by a middleware before it (csrf in token mode
// does, to read its field) is read from r.PostForm; such a middleware
// must refuse a request whose form does not parse, as csrf does, since
// r.PostForm then lacks the malformed pairs (a second client_id among
// them) and the endpoint cannot see that they were sent. It is safe for
// concurrent use. The zero value answers every request
// with a server_error.
type TokenEndpoint struct {
	issuer     *Issuer
	clients    map[string]*Client
	users      UserStore
	hasher     PasswordHasher
	checker    *passwordChecker
	limiter    AttemptLimiter
	issues     IssueLimiter
	clientIP   *clientip.Resolver
	store      RefreshStore
	refreshTTL time.Duration
	maxLife    time.Duration
	retry      time.Duration // RefreshRetryWindow
	seal       []byte        // successorSecret of the issuer's key
	maxBody    int64
	onRehash   func(ctx context.Context, name, oldHash, newHash string) error
	claims     func(ctx context.Context, g Grant) (map[string]any, error)
	dpop       *dpopConfig // nil without TokenEndpointOptions.DPoP
	now        func() time.Time
}

// NewTokenEndpoint validates opts and returns the endpoint. It hashes a
// random dummy password once with the Hasher (unknown users are verified
// against it), so it takes as long as one password hash.
func NewTokenEndpoint(opts TokenEndpointOptions) (*TokenEndpoint, error) {
	var errs []error
	e := &TokenEndpoint{
		issuer: opts.Issuer, clients: make(map[string]*Client), users: opts.Users,
		hasher: opts.Hasher, limiter: opts.Limiter, issues: opts.IssueLimiter, clientIP: opts.ClientIP,
		store: opts.RefreshStore, refreshTTL: opts.RefreshTokenTTL,
		maxLife: opts.RefreshTokenMaxLifetime, retry: opts.RefreshRetryWindow, maxBody: opts.MaxBodyBytes, onRehash: opts.OnRehash, claims: opts.Claims, now: opts.now,
	}
	if e.issuer == nil || e.issuer.method == nil {
		errs = append(errs, errors.New("auth: TokenEndpointOptions.Issuer is required (use NewIssuer)"))
	}
	if len(opts.Clients) == 0 {
		errs = append(errs, errors.New("auth: TokenEndpointOptions.Clients is required"))
	}
	// A hasher that can check a stored hash without hashing (as
	// *password.Hasher can) checks each client's at start: a SecretHash
	// it refuses (the secret itself, pasted where its hash belongs) was
	// accepted, and every request of the client refused as a wrong secret
	// (found in review).
	var inspector interface {
		Inspect(encoded string) (password.Info, error)
	}
	if opts.Hasher == nil {
		inspector = password.Default
	} else {
		inspector, _ = opts.Hasher.(interface {
			Inspect(encoded string) (password.Info, error)
		})
	}
	needUsers := false
	for i := range opts.Clients {
		c := opts.Clients[i]
		where := fmt.Sprintf("auth: client %d", i)
		if c.ID != "" {
			where = fmt.Sprintf("auth: client %q", c.ID)
		}
		if c.ID == "" || len(c.ID) > 256 || !printableNoSpace(c.ID) {
			errs = append(errs, fmt.Errorf("%s: ID must be 1 to 256 printable ASCII characters without spaces", where))
		}
		if _, dup := e.clients[c.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate ID", where))
		}
		switch {
		case c.Public && c.SecretHash != "":
			errs = append(errs, fmt.Errorf("%s: a public client has no SecretHash", where))
		case !c.Public && c.SecretHash == "":
			errs = append(errs, fmt.Errorf("%s: SecretHash is required for a confidential client (or set Public)", where))
		case !c.Public && inspector != nil:
			// The error names the problem, never the hash.
			if _, err := inspector.Inspect(c.SecretHash); err != nil {
				errs = append(errs, fmt.Errorf("%s: SecretHash is not a hash the Hasher verifies: %w", where, err))
			}
		}
		if len(c.Grants) == 0 {
			errs = append(errs, fmt.Errorf("%s: Grants is required", where))
		}
		for _, g := range c.Grants {
			switch g {
			case GrantPassword, GrantRefreshToken:
				needUsers = true
			case GrantClientCredentials:
				if c.Public {
					errs = append(errs, fmt.Errorf("%s: a public client cannot use client_credentials", where))
				}
			default:
				errs = append(errs, fmt.Errorf("%s: unsupported grant %q", where, g))
			}
		}
		for _, s := range c.Scopes {
			if !validScopeToken(s) {
				errs = append(errs, fmt.Errorf("%s: %q is not a scope token", where, s))
			}
		}
		c.Grants = slices.Clone(c.Grants)
		c.Scopes = slices.Clone(c.Scopes)
		c.Roles = slices.Clone(c.Roles)
		e.clients[c.ID] = &c
	}
	if needUsers && e.users == nil {
		errs = append(errs, errors.New("auth: TokenEndpointOptions.Users is required for the password and refresh_token grants"))
	}
	if e.refreshTTL == 0 {
		e.refreshTTL = DefaultRefreshTokenTTL
	}
	if e.maxLife == 0 {
		e.maxLife = DefaultRefreshTokenMaxLifetime
	}
	if e.refreshTTL < time.Minute || e.maxLife < e.refreshTTL || e.maxLife > 5*365*24*time.Hour {
		errs = append(errs, errors.New("auth: RefreshTokenTTL must be at least a minute and RefreshTokenMaxLifetime between it and five years"))
	}
	if e.retry < 0 || e.retry > MaxRefreshRetryWindow {
		errs = append(errs, fmt.Errorf("auth: TokenEndpointOptions.RefreshRetryWindow must be between 0 and %v", MaxRefreshRetryWindow))
	} else if _, ok := e.store.(RetryableRefreshStore); e.retry > 0 && e.store != nil && !ok {
		errs = append(errs, fmt.Errorf("auth: TokenEndpointOptions.RefreshRetryWindow needs a RefreshStore that implements RetryableRefreshStore; %T does not", e.store))
	}
	switch {
	case e.maxBody == 0:
		e.maxBody = DefaultTokenRequestMaxBytes
	case e.maxBody < 256 || e.maxBody > 1<<20:
		errs = append(errs, errors.New("auth: TokenEndpointOptions.MaxBodyBytes must be between 256 bytes and 1 MiB"))
	}
	if opts.DPoP != nil {
		d, err := compileDPoP(opts.DPoP, `realm="token"`)
		if err != nil {
			errs = append(errs, err)
		} else if opts.DPoP.ClientIP == nil {
			d.useClientIP(opts.ClientIP)
		}
		e.dpop = d
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if e.store == nil {
		e.store = NewMemoryRefreshStore()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.dpop != nil && opts.DPoP.Replay == nil {
		e.dpop.replay.(*MemoryReplayCache).now = e.now // its own cache, on its clock
	}
	checker, err := newPasswordChecker(e.hasher)
	if err != nil {
		return nil, err
	}
	e.checker, e.hasher = checker, checker.hasher
	if e.retry > 0 {
		e.seal = successorSecret(e.issuer.key)
	}
	return e, nil
}

// oauthError is an RFC 6749 §5.2 error: the code and status the client
// sees, and the reason for the log.
type oauthError struct {
	status int
	code   string
	desc   string
	cause  error
	wait   time.Duration
	nonce  string // a DPoP-Nonce for use_dpop_nonce
}

func (e *oauthError) Error() string {
	if e.cause != nil {
		return "auth: token endpoint: " + e.code + ": " + e.cause.Error()
	}
	return "auth: token endpoint: " + e.code
}

func (e *oauthError) Unwrap() error { return e.cause }

// Reasons recorded for the log (the client sees only the OAuth2 code).
var (
	errTokenMethod        = errors.New("auth: token request is not a POST")
	errTokenContentType   = errors.New("auth: token request is not form-encoded")
	errTokenBody          = errors.New("auth: token request body unreadable or too large")
	errTokenRepeated      = errors.New("auth: token request repeats a parameter")
	errTokenMissingParam  = errors.New("auth: token request misses a parameter")
	errTokenTwoClientAuth = errors.New("auth: token request authenticates the client twice")
	errTokenUsername      = fmt.Errorf("%w: username not UTF-8 or contains control characters or U+FFFD", ErrMalformedCredentials)
	errUnknownClient      = fmt.Errorf("%w: unknown client", ErrInvalidCredentials)
	errClientSecret       = fmt.Errorf("%w: wrong client secret", ErrInvalidCredentials)
	errGrantNotAllowed    = errors.New("auth: grant type not allowed for this client")
	errUnsupportedGrant   = errors.New("auth: unsupported grant type")
	errScopeNotAllowed    = errors.New("auth: scope not allowed")
	errRefreshClient      = fmt.Errorf("%w: refresh token issued to another client", ErrInvalidCredentials)
	errRefreshUserGone    = fmt.Errorf("%w: user of the refresh token no longer exists", ErrInvalidCredentials)
	errRefreshCredential  = fmt.Errorf("%w: password changed since the refresh token was issued", ErrInvalidCredentials)
	errClientSubject      = fmt.Errorf("%w: user subject starts with %q, which client tokens use", ErrInvalidCredentials, ClientSubjectPrefix)
	errIssuing            = errors.New("auth: issuing the token failed")
	errRefreshDPoPKey     = fmt.Errorf("%w: refresh token bound to a DPoP key, and no proof by that key", ErrDPoPProof)
)

func oerr(status int, code, desc string, cause error) *oauthError {
	return &oauthError{status: status, code: code, desc: desc, cause: cause}
}

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`

	// id is the principal the tokens are issued to, recorded for the
	// access log (identity.Recorder) once the response is certain.
	id identity.Identity
	// nonce is the DPoP-Nonce to send with the response, if any.
	nonce string
}

// ServeHTTP answers a token request. A response that issues tokens
// records their subject in the [identity.Recorder] values of the request
// (errorsafe's access log names it), without changing the request's
// context: the client is not authenticated for what follows.
func (e *TokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e == nil || e.issuer == nil {
		writeOAuthError(w, r, oerr(http.StatusInternalServerError, "server_error", "The token endpoint is not configured.", errIssuerNotConfigured))
		return
	}
	resp, err := e.serve(r)
	if err != nil {
		writeOAuthError(w, r, err)
		return
	}
	// The request's context is not changed: this only lets an access log
	// further out (errorsafe's) name the subject tokens were issued to.
	identity.NewContext(r.Context(), resp.id)
	body, _ := json.Marshal(resp) // strings and an integer: cannot fail
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if resp.nonce != "" {
		h.Set("DPoP-Nonce", resp.nonce)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (e *TokenEndpoint) serve(r *http.Request) (*tokenResponse, *oauthError) {
	form, client, oe := e.readRequest(r, "The token endpoint accepts POST only.")
	if oe != nil {
		return nil, oe
	}
	grant := form.Get("grant_type")
	switch grant {
	case "":
		return nil, oerr(http.StatusBadRequest, "invalid_request", "The grant_type parameter is missing.", errTokenMissingParam)
	case GrantPassword, GrantClientCredentials, GrantRefreshToken:
	default:
		return nil, oerr(http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported.", errUnsupportedGrant)
	}
	if !slices.Contains(client.Grants, grant) {
		return nil, oerr(http.StatusBadRequest, "unauthorized_client", "The client may not use this grant type.", errGrantNotAllowed)
	}
	p, oe := e.checkProof(r)
	if oe != nil {
		return nil, oe
	}
	ctx := r.Context()
	var resp *tokenResponse
	switch grant {
	case GrantPassword:
		resp, oe = e.passwordGrant(ctx, r, client, form, p)
	case GrantClientCredentials:
		resp, oe = e.clientCredentialsGrant(ctx, client, form, p)
	default:
		resp, oe = e.refreshGrant(ctx, client, form, p)
	}
	if oe != nil {
		return nil, oe
	}
	resp.nonce = p.nextNonce()
	return resp, nil
}

// tokenProof is the verified DPoP proof of a token request, whose jti is
// spent (spendProof) once the request is authenticated, so that requests
// anyone can send (a public client's, with a wrong password) take no room
// in the replay cache. A nil *tokenProof is a request without a proof.
type tokenProof struct {
	jkt   string // the thumbprint of its key, to which the tokens are bound
	nonce string // the DPoP-Nonce to send with a success, if any
	use   proofUse
}

// thumb returns the thumbprint of the proof's key, "" without a proof.
func (p *tokenProof) thumb() string {
	if p == nil {
		return ""
	}
	return p.jkt
}

// nextNonce returns the DPoP-Nonce to send with a success, if any.
func (p *tokenProof) nextNonce() string {
	if p == nil {
		return ""
	}
	return p.nonce
}

// checkProof checks the DPoP proof of a token request, when
// TokenEndpointOptions.DPoP is set and the request has one or Required
// asks for one: nil when there is none to check.
func (e *TokenEndpoint) checkProof(r *http.Request) (*tokenProof, *oauthError) {
	if e.dpop == nil {
		return nil, nil
	}
	if _, sent := r.Header["Dpop"]; !sent && !e.dpop.required {
		return nil, nil
	}
	jkt, nonce, use, err := e.dpop.checkGrant(r, e.now(), 0)
	if err != nil {
		return nil, proofRefused(err)
	}
	return &tokenProof{jkt: jkt, nonce: nonce, use: use}, nil
}

// spendProof records the jti of p, if any, in the replay cache: a proof
// used before is refused.
func (e *TokenEndpoint) spendProof(ctx context.Context, p *tokenProof) *oauthError {
	if p == nil {
		return nil
	}
	if err := e.dpop.spend(ctx, p.use); err != nil {
		return proofRefused(err)
	}
	return nil
}

// proofRefused is the answer to a DPoP proof refused for err.
func proofRefused(err error) *oauthError {
	switch {
	case errors.Is(err, ErrUnavailable):
		return unavailable(err)
	case errors.Is(err, ErrDPoPNonce):
		oe := oerr(http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.", err)
		oe.nonce = DPoPNonce(err)
		return oe
	}
	return oerr(http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof is missing or invalid.", err)
}

// readRequest reads a request to the token endpoint, or to its
// revocation endpoint: a POST (notPost is the description of a 405) of a
// bounded form, whose client it authenticates.
func (e *TokenEndpoint) readRequest(r *http.Request, notPost string) (url.Values, *Client, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, nil, oerr(http.StatusMethodNotAllowed, "invalid_request", notPost, errTokenMethod)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, nil, oerr(http.StatusBadRequest, "invalid_request", "The request must be application/x-www-form-urlencoded.", errTokenContentType)
	}
	form, err := readForm(r, e.maxBody)
	if err != nil {
		return nil, nil, oerr(http.StatusBadRequest, "invalid_request", "The request body is malformed.", err)
	}
	client, oe := e.authenticateClient(r, form)
	if oe != nil {
		return nil, nil, oe
	}
	return form, client, nil
}

// readForm reads the form body: bounded, each parameter at most once
// (RFC 6749 §3.2), empty values treated as absent. The query string is
// ignored: credentials never belong in a URL.
//
// When a middleware before the endpoint has already parsed the form
// (r.PostForm is set, as csrf does in token mode to read its token field),
// the body is consumed: the parsed form is read instead, its decoded size
// held to max, with the same checks. Reading the empty rest of the body
// refused every such request as if it had no client_id.
func readForm(r *http.Request, max int64) (url.Values, error) {
	if r.ContentLength > max {
		return nil, errTokenBody
	}
	var vals url.Values
	if r.PostForm != nil {
		if formsize.Parsed(r) > max {
			return nil, errTokenBody
		}
		vals = maps.Clone(r.PostForm) // empty values are deleted below
	} else {
		buf, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
		if err != nil {
			return nil, errTokenBody
		}
		vals, err = url.ParseQuery(string(buf))
		if err != nil {
			return nil, errTokenBody
		}
	}
	for k, v := range vals {
		if len(v) > 1 {
			return nil, errTokenRepeated
		}
		if v[0] == "" {
			delete(vals, k)
		}
	}
	return vals, nil
}

// authenticateClient authenticates the client by HTTP Basic or by the
// client_id and client_secret parameters, never both (RFC 6749 §2.3): a
// request with both is invalid_request (§5.2).
func (e *TokenEndpoint) authenticateClient(r *http.Request, form url.Values) (*Client, *oauthError) {
	var id, secret string
	switch vals := r.Header["Authorization"]; len(vals) {
	case 0:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	case 1:
		if form.Has("client_secret") {
			return nil, twoClientAuth()
		}
		u, p, err := ParseBasic(vals[0])
		if err != nil {
			return nil, invalidClient(err)
		}
		// RFC 6749 §2.3.1: the client ID and secret are form-encoded
		// before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return nil, invalidClient(ErrMalformedCredentials)
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, twoClientAuth()
		}
	default:
		return nil, twoClientAuth()
	}
	if id == "" {
		return nil, invalidClient(ErrNoCredentials)
	}
	// Every request that sends a secret costs one hash verification,
	// whether the client exists or not. Found in review: an unknown
	// client was refused at once and a known one after a password hash,
	// so the time told which client IDs exist. The dummy hash of the
	// password checker costs the same as a real one.
	// A request whose context ended while it waited to hash is answered
	// 503, whether the client exists or not.
	ctx := r.Context()
	c, ok := e.clients[id]
	if !ok {
		if secret != "" {
			if err := e.checker.verifyDummy(ctx, secret); err != nil {
				return nil, unavailable(err)
			}
		}
		return nil, invalidClient(errUnknownClient)
	}
	if c.Public {
		if secret != "" {
			if err := e.checker.verifyDummy(ctx, secret); err != nil {
				return nil, unavailable(err)
			}
			return nil, invalidClient(errClientSecret)
		}
		return c, nil
	}
	if secret == "" {
		return nil, invalidClient(errClientSecret)
	}
	ok, _, err := e.checker.verify(ctx, secret, c.SecretHash)
	if err != nil {
		if err := gaveUp(ctx, err); err != nil {
			return nil, unavailable(err)
		}
		// A stored hash refused before any work, or a secret too long
		// for it: answer no faster than for a wrong secret.
		if err := e.checker.verifyDummy(ctx, secret); err != nil {
			return nil, unavailable(err)
		}
		return nil, invalidClient(errClientSecret)
	}
	if !ok {
		return nil, invalidClient(errClientSecret)
	}
	return c, nil
}

// twoClientAuth answers a request that authenticates the client more than
// once (Basic and client_secret, Basic for one client and client_id for
// another, two Authorization headers): RFC 6749 §5.2 makes that
// invalid_request, a malformed request, not invalid_client, whose 401 and
// challenge would tell the client that its credentials were wrong.
func twoClientAuth() *oauthError {
	return oerr(http.StatusBadRequest, "invalid_request", "The request authenticates the client more than once.", errTokenTwoClientAuth)
}

// invalidClient is RFC 6749 §5.2's invalid_client. The RFC requires 401
// with a challenge when the client tried the Authorization header and
// allows it otherwise; it is 401 with the Basic challenge every time.
func invalidClient(cause error) *oauthError {
	return oerr(http.StatusUnauthorized, "invalid_client", "Client authentication failed.", cause)
}

// unavailable is the answer when a store could not answer or the request
// ended before its password was verified.
func unavailable(err error) *oauthError {
	return oerr(http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable.", err)
}

// grantScopes resolves the scope parameter against what may be granted:
// omitted means all of allowed; otherwise every requested scope must be
// in allowed. The scopes returned are allowed's strings, never views of
// param, which is a substring of the whole request body (the password
// and client secret included) that a stored refresh token must not keep
// reachable.
func grantScopes(param string, allowed []string) ([]string, *oauthError) {
	if param == "" {
		return slices.Clone(allowed), nil
	}
	if len(param) > 4096 {
		return nil, oerr(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid.", errScopeNotAllowed)
	}
	var out []string
	for s := range strings.SplitSeq(param, " ") {
		if s == "" {
			continue
		}
		i := slices.Index(allowed, s)
		if !validScopeToken(s) || i < 0 {
			return nil, oerr(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid or exceeds what may be granted.", errScopeNotAllowed)
		}
		if !slices.Contains(out, s) {
			out = append(out, allowed[i])
		}
	}
	return out, nil
}

// intersect returns the elements of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (e *TokenEndpoint) passwordGrant(ctx context.Context, r *http.Request, c *Client, form url.Values, p *tokenProof) (*tokenResponse, *oauthError) {
	name, pw := form.Get("username"), form.Get("password")
	if name == "" || pw == "" {
		return nil, oerr(http.StatusBadRequest, "invalid_request", "The username and password parameters are required.", errTokenMissingParam)
	}
	// No control character or U+FFFD, which Basic refuses too (found in
	// review: a store that ends a name at a NUL found "alice\x00" +
	// anything as alice, each spelling with a failure budget of its own,
	// and the token's subject was the spelling, not alice). A colon,
	// which Basic cannot carry in a user name, is the store's to refuse:
	// MemoryUsers does.
	if !cleanName(name) {
		return nil, oerr(http.StatusBadRequest, "invalid_request", "The username parameter is malformed.", errTokenUsername)
	}
	// A copy: form values are substrings of the whole body, password and
	// client secret included, which whatever keeps the name (the refresh
	// token's record for the family's life, a limiter, OnRehash's store,
	// the subject it defaults) would keep reachable (found in review).
	name = strings.Clone(name)
	gate := attemptGate{limiter: e.limiter, name: name}
	if e.limiter != nil {
		gate.ip = e.clientIP.Addr(r)
	}
	opts, stored, rehash, err := e.checker.check(ctx, e.users, name, pw, &gate)
	if err != nil {
		if wait, ok := RetryAfter(err); ok {
			oe := oerr(http.StatusTooManyRequests, "slow_down", "Too many failed attempts; retry later.", err)
			oe.wait = wait
			return nil, oe
		}
		if errors.Is(err, ErrUnavailable) {
			return nil, unavailable(err)
		}
		return nil, oerr(http.StatusBadRequest, "invalid_grant", "The user name or password is incorrect.", err)
	}
	gate.success(ctx)
	if isClientSubject(opts.Subject) {
		return nil, oerr(http.StatusBadRequest, "invalid_grant", "The user name or password is incorrect.", errClientSubject)
	}
	if rehash && e.onRehash != nil {
		if h, err := e.checker.hash(ctx, pw); err == nil {
			stored = e.rehash(ctx, name, pw, stored, h)
		}
	}
	scopes, oe := grantScopes(form.Get("scope"), intersect(c.Scopes, opts.Scopes))
	if oe != nil {
		return nil, oe
	}
	// The password verified: the DPoP proof is spent, the attempt
	// limiter is done with this request, and the issuance budget is asked
	// before the access token and the refresh token family exist.
	if oe := e.spendProof(ctx, p); oe != nil {
		return nil, oe
	}
	if oe := e.allowIssue(ctx, opts.Subject); oe != nil {
		return nil, oe
	}
	jkt := p.thumb()
	g, oe := e.withClaims(ctx, Grant{Subject: opts.Subject, Roles: opts.Roles, Scopes: scopes, ClientID: c.ID, JKT: jkt})
	if oe != nil {
		return nil, oe
	}
	resp, oe := e.issue(ctx, g)
	if oe != nil {
		return nil, oe
	}
	if slices.Contains(c.Grants, GrantRefreshToken) {
		now := e.now()
		rt := newOpaqueToken()
		rec := RefreshToken{
			Family: newOpaqueToken(), ClientID: c.ID, Subject: name, Scopes: scopes,
			AuthTime: now, ExpiresAt: now.Add(e.refreshTTL), FamilyExpiresAt: now.Add(e.maxLife),
		}
		if c.Public {
			// RFC 9449 §5: a public client's refresh token is bound to
			// its key; a confidential client authenticates instead.
			rec.JKT = jkt
		}
		rec.Credential = credentialFingerprint(stored, rec.JKT)
		if err := e.store.Create(ctx, HashRefreshToken(rt), rec); err != nil {
			return nil, storeBusy(err)
		}
		resp.RefreshToken = rt
	}
	return resp, nil
}

// rehash upgrades the verified hash stored to h through OnRehash and
// returns the hash the user's refresh token is to be bound to: the hash
// the store holds afterwards, read back rather than inferred from
// OnRehash's result (an UPDATE ... WHERE that matched no row reports no
// error). That is h when the swap won (the user's other families, bound to
// the old hash, end as after a password change) and stored when nothing
// changed. Any other hash means another login of the same user upgraded
// it first, or the password changed: it is used if this password verifies
// against it, which tells the two apart, and otherwise the one verified,
// so the token ends at its first refresh.
//
// A success reported by OnRehash settles the two cases a read cannot: a
// lookup that fails, and one that still returns the old hash (a replica or
// cache behind the write), are taken for the new hash, which a
// compare-and-swap that succeeded stored.
func (e *TokenEndpoint) rehash(ctx context.Context, name, pw, stored, h string) string {
	swapped := e.onRehash(ctx, name, stored, h) == nil
	u, found, err := e.users.LookupUser(ctx, name)
	switch {
	case err != nil || !found || u.Hash == stored:
		if swapped {
			return h
		}
		return stored
	case u.Hash == h:
		return h
	}
	if ok, _, err := e.checker.verify(ctx, pw, u.Hash); err == nil && ok {
		return u.Hash
	}
	return stored
}

func (e *TokenEndpoint) clientCredentialsGrant(ctx context.Context, c *Client, form url.Values, p *tokenProof) (*tokenResponse, *oauthError) {
	scopes, oe := grantScopes(form.Get("scope"), c.Scopes)
	if oe != nil {
		return nil, oe
	}
	// The client authenticated with its secret.
	if oe := e.spendProof(ctx, p); oe != nil {
		return nil, oe
	}
	sub := ClientSubjectPrefix + c.ID
	if oe := e.allowIssue(ctx, sub); oe != nil {
		return nil, oe
	}
	g, oe := e.withClaims(ctx, Grant{Subject: sub, Roles: c.Roles, Scopes: scopes, ClientID: c.ID, JKT: p.thumb()})
	if oe != nil {
		return nil, oe
	}
	// No refresh token: the client can always authenticate again
	// (RFC 6749 §4.4.3).
	return e.issue(ctx, g)
}

// refreshInvalid is the answer to a refresh token that cannot be used.
func refreshInvalid(cause error) *oauthError {
	return oerr(http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or revoked.", cause)
}

// storeBusy is the answer when a store (of refresh tokens, users or the
// issuance budget) could not answer.
func storeBusy(err error) *oauthError { return unavailable(storeUnavailable(err)) }

func (e *TokenEndpoint) refreshGrant(ctx context.Context, c *Client, form url.Values, p *tokenProof) (*tokenResponse, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, oerr(http.StatusBadRequest, "invalid_request", "The refresh_token parameter is required.", errTokenMissingParam)
	}
	if len(rt) > 512 {
		return nil, refreshInvalid(ErrRefreshTokenNotFound)
	}
	hash := HashRefreshToken(rt)
	old, found, err := e.store.Lookup(ctx, hash)
	if err != nil {
		return nil, storeBusy(err)
	}
	now := e.now()
	if !found || !old.ExpiresAt.After(now) || !old.FamilyExpiresAt.After(now) {
		return nil, refreshInvalid(ErrRefreshTokenNotFound)
	}
	// Before anything else: a token bound to a key is nothing without
	// it, and whoever presents it without the key revokes nothing, not
	// even by presenting a rotated one. Then the proof is spent, before
	// a rotated token is taken for a reuse: a proof captured with the
	// request that rotated it, sent again, revokes nothing either.
	jkt := p.thumb()
	if oe := boundTo(old, jkt); oe != nil {
		return nil, oe
	}
	if oe := e.spendProof(ctx, p); oe != nil {
		return nil, oe
	}
	if old.Used || old.Revoked {
		// A rotated token came back: it was stolen, or the client lost
		// a response. Within RefreshRetryWindow, the second gets the
		// successor again; otherwise, end the whole family (RFC 9700
		// §4.14.2).
		return e.retryRefresh(ctx, c, form, jkt, rt, hash, old, now, false)
	}
	g, userHash, oe := e.checkRefresh(ctx, c, form, jkt, old)
	if oe != nil {
		return nil, oe
	}
	// Before the rotation: a refused refresh rotates nothing, and the
	// client's token stays usable after the wait.
	if oe := e.allowIssue(ctx, g.Subject); oe != nil {
		return nil, oe
	}
	if g, oe = e.withClaims(ctx, g); oe != nil {
		return nil, oe
	}
	// RFC 6749 §6: the new refresh token keeps the scope of the old one;
	// only the access token is narrowed to the scope requested now.
	next := old
	next.Used, next.Revoked = false, false
	next.RotatedAt, next.Successor = time.Time{}, nil
	next.ExpiresAt = now.Add(e.refreshTTL)
	if next.ExpiresAt.After(old.FamilyExpiresAt) {
		next.ExpiresAt = old.FamilyExpiresAt
	}
	if c.Public && next.JKT == "" && jkt != "" {
		// RFC 9449 §5: a refresh token issued to a public client with a
		// proof is bound to its key. A family begun without one is bound
		// from this rotation on; a thief who rotated it first, with a key
		// of its own, is still found out when the client presents the
		// rotated token, unbound, as a reuse.
		next.JKT, next.Credential = jkt, credentialFingerprint(userHash, jkt)
	}
	newRT := newOpaqueToken()
	if err := e.rotate(ctx, rt, hash, newRT, next, now); err != nil {
		switch {
		case errors.Is(err, ErrRefreshTokenReused):
			// Another request rotated the token first. Within the
			// window, this one is a retry of that rotation: a client
			// that gave up on its request and sent it again while the
			// first was still being served gets the same successor. A
			// store that cannot answer is a 503, as everywhere else, not
			// a reuse: the client's retry would get the successor.
			if e.retry > 0 {
				again, found, err := e.store.Lookup(ctx, hash)
				if err != nil {
					return nil, storeBusy(err)
				}
				if found && again.Used && !again.Revoked {
					// This request was counted before its rotation.
					return e.retryRefresh(ctx, c, form, jkt, rt, hash, again, now, true)
				}
			}
			// A reuse the store could not record is a 503, as on every
			// other path of a reuse: the client's retry revokes the
			// family then. Answered invalid_grant, the client would drop
			// the token, and the other holder's successor would live on.
			if err := e.revokeFamily(ctx, old); err != nil {
				return nil, storeBusy(err)
			}
			return nil, refreshInvalid(ErrRefreshTokenReused)
		case errors.Is(err, ErrRefreshTokenNotFound):
			return nil, refreshInvalid(err)
		}
		return nil, storeBusy(err)
	}
	resp, oe := e.issue(ctx, g)
	if oe != nil {
		return nil, oe
	}
	resp.RefreshToken = newRT
	return resp, nil
}

// rotate rotates the token rt, whose hash is hash, to newRT. With a
// RefreshRetryWindow, newRT is sealed for the store to keep with rt, so
// that a retry with rt within the window gets newRT again; without, the
// store's plain Rotate is called, as before the window existed.
func (e *TokenEndpoint) rotate(ctx context.Context, rt, hash, newRT string, next RefreshToken, now time.Time) error {
	if e.retry <= 0 {
		return e.store.Rotate(ctx, hash, HashRefreshToken(newRT), next)
	}
	sealed, err := sealSuccessor(e.seal, rt, hash, newRT)
	if err != nil {
		return err
	}
	return e.store.(RetryableRefreshStore).RotateRetryable(ctx, hash, HashRefreshToken(newRT), next, now, sealed)
}

// Reasons a retried refresh token revokes its family, for the log.
var (
	errRetrySuccessorSeal = fmt.Errorf("%w: %w", ErrRefreshTokenReused, errSuccessorSeal)
	errRetrySuccessorGone = fmt.Errorf("%w: retried after its successor was used, revoked or forgotten", ErrRefreshTokenReused)
)

// retryRefresh answers the rotated token rt (old, under hash) presented
// again. Within RefreshRetryWindow of its rotation, with its family not
// revoked and its successor unused, it answers with a new access token and
// that same successor, after every check of a refresh, and stores nothing:
// the family keeps its one live token. Anything else revokes the family,
// as without the window. counted says the request was already counted by
// the IssueLimiter (a refresh that lost its rotation race): it is not
// counted twice.
func (e *TokenEndpoint) retryRefresh(ctx context.Context, c *Client, form url.Values, jkt, rt, hash string, old RefreshToken, now time.Time, counted bool) (*tokenResponse, *oauthError) {
	reuse := func(cause error) (*tokenResponse, *oauthError) {
		if err := e.revokeFamily(ctx, old); err != nil {
			return nil, storeBusy(err)
		}
		return nil, refreshInvalid(cause)
	}
	// The window counts from the rotation, by the clock of the instance
	// that rotated. A rotation time up to a window ahead of this clock is
	// taken, so that instances whose clocks differ slightly keep retries
	// working; that bounds the window's length to twice the window, not
	// its end: a rotating instance whose clock ran ahead by d moves the
	// window's end to d plus the window after the rotation.
	since := now.Sub(old.RotatedAt)
	if e.retry <= 0 || old.Revoked || len(old.Successor) == 0 || since >= e.retry || since <= -e.retry {
		return reuse(ErrRefreshTokenReused)
	}
	nextRT, err := openSuccessor(e.seal, rt, hash, old.Successor)
	if err != nil {
		return reuse(errRetrySuccessorSeal)
	}
	next, found, err := e.store.Lookup(ctx, HashRefreshToken(nextRT))
	if err != nil {
		return nil, storeBusy(err)
	}
	if !found || next.Used || next.Revoked || !next.ExpiresAt.After(now) || !next.FamilyExpiresAt.After(now) {
		// The client moved on, or the family ended: a stale copy.
		return reuse(errRetrySuccessorGone)
	}
	g, _, oe := e.checkRefresh(ctx, c, form, jkt, next)
	if oe != nil {
		return nil, oe
	}
	// A retry issues an access token: it is counted like a refresh.
	if !counted {
		if oe := e.allowIssue(ctx, g.Subject); oe != nil {
			return nil, oe
		}
	}
	if g, oe = e.withClaims(ctx, g); oe != nil {
		return nil, oe
	}
	resp, oe := e.issue(ctx, g)
	if oe != nil {
		return nil, oe
	}
	resp.RefreshToken = nextRT
	return resp, nil
}

// checkRefresh runs the checks of every refresh on t, the token to be
// rotated or, on a retry, handed out again: the client it was issued to,
// its user (who must still exist, with the same password hash and a
// subject no client token has), the DPoP key it is bound to, if any, and
// the scopes asked for. It returns the grant of the new access token,
// bound to the key jkt of the request's DPoP proof, if any, and the
// user's password hash. A failure revokes t's family, except for a scope
// asked for beyond the grant (invalid_scope) and a proof by another key
// than t's.
func (e *TokenEndpoint) checkRefresh(ctx context.Context, c *Client, form url.Values, jkt string, t RefreshToken) (Grant, string, *oauthError) {
	// On a retry, t is the successor, which the rotation may have bound.
	if oe := boundTo(t, jkt); oe != nil {
		return Grant{}, "", oe
	}
	if t.ClientID != c.ID {
		if err := e.revokeFamily(ctx, t); err != nil {
			return Grant{}, "", storeBusy(err)
		}
		return Grant{}, "", refreshInvalid(errRefreshClient)
	}
	u, found, err := e.users.LookupUser(ctx, t.Subject)
	if err != nil {
		return Grant{}, "", storeBusy(err)
	}
	if !found {
		_ = e.revokeFamily(ctx, t)
		return Grant{}, "", refreshInvalid(errRefreshUserGone)
	}
	if subtle.ConstantTimeCompare([]byte(t.Credential), []byte(credentialFingerprint(u.Hash, t.JKT))) != 1 {
		// The password changed since the login (or the store lost the
		// fingerprint, or the DPoP key it covers): whoever holds this
		// token must log in again.
		if err := e.revokeFamily(ctx, t); err != nil {
			return Grant{}, "", storeBusy(err)
		}
		return Grant{}, "", refreshInvalid(errRefreshCredential)
	}
	opts := u.Identity
	if opts.Subject == "" {
		opts.Subject = t.Subject
	}
	if isClientSubject(opts.Subject) {
		_ = e.revokeFamily(ctx, t)
		return Grant{}, "", refreshInvalid(errClientSubject)
	}
	// Never more than first granted, nor than the user and client may
	// have now.
	scopes, oe := grantScopes(form.Get("scope"), intersect(t.Scopes, intersect(c.Scopes, opts.Scopes)))
	if oe != nil {
		return Grant{}, "", oe
	}
	return Grant{Subject: opts.Subject, Roles: opts.Roles, Scopes: scopes, ClientID: c.ID, JKT: jkt}, u.Hash, nil
}

// boundTo refuses a refresh of t by a request without a DPoP proof by the
// key t is bound to, if any (jkt is the request's proof's thumbprint),
// without revoking anything: whoever holds t without the key can do
// nothing with it, not even end its family.
func boundTo(t RefreshToken, jkt string) *oauthError {
	if t.JKT == "" || subtle.ConstantTimeCompare([]byte(t.JKT), []byte(jkt)) == 1 {
		return nil
	}
	return oerr(http.StatusBadRequest, "invalid_dpop_proof", "The refresh token needs a DPoP proof by the key it is bound to.", errRefreshDPoPKey)
}

// revokeFamily revokes t's family for refreshGrant even when the client
// has gone away meanwhile, without ctx's cancellation and within
// detach.Timeout, as [TokenEndpoint.RevokeRefreshToken] does: the client
// that presents a reused token may be the victim, whose connection drops,
// and a store that gave up with it would let the thief's token live on
// (found in review).
func (e *TokenEndpoint) revokeFamily(ctx context.Context, t RefreshToken) error {
	ctx, cancel := detach.Context(ctx)
	defer cancel()
	return e.store.RevokeFamily(ctx, t.Family, t.FamilyExpiresAt)
}

// RevokeRefreshToken revokes the family of a refresh token: the token,
// every token rotated from it and every token it was rotated from stop
// working (a logout, a lost device). An unknown or expired token is not
// an error, and revokes nothing. A token is kept only until its own
// expiry, RefreshTokenTTL after it was issued, while each rotation gives
// its successor a new one: a token rotated long ago is no longer found,
// even though tokens rotated from it live on, so revoke with the newest
// token the client holds, not one kept from the login. Only a store
// failure is an error.
// As [JWT.Revoke] does, it runs without ctx's cancellation, within ten
// seconds, so that a logout whose client hangs up still takes effect.
func (e *TokenEndpoint) RevokeRefreshToken(ctx context.Context, token string) error {
	if e == nil || e.store == nil {
		return errIssuerNotConfigured
	}
	_, _, err := e.revokeRefresh(ctx, token)
	return err
}

// revokeRefresh is RevokeRefreshToken, returning the token's record and
// whether it was found, for the revocation endpoint to read its client.
func (e *TokenEndpoint) revokeRefresh(ctx context.Context, token string) (RefreshToken, bool, error) {
	if token == "" || len(token) > 512 {
		return RefreshToken{}, false, nil
	}
	ctx, cancel := detach.Context(ctx)
	defer cancel()
	t, found, err := e.store.Lookup(ctx, HashRefreshToken(token))
	if err != nil {
		return RefreshToken{}, false, storeUnavailable(err)
	}
	if !found {
		return RefreshToken{}, false, nil
	}
	until := t.FamilyExpiresAt
	if until.IsZero() {
		until = e.now().Add(e.maxLife)
	}
	if err := e.store.RevokeFamily(ctx, t.Family, until); err != nil {
		return RefreshToken{}, false, storeUnavailable(err)
	}
	return t, true, nil
}

// allowIssue asks the IssueLimiter, when there is one, whether subject may
// be issued tokens now: nil when it may, else the refusal (429 slow_down
// with Retry-After) or, when the limiter's store could not answer, 503.
func (e *TokenEndpoint) allowIssue(ctx context.Context, subject string) *oauthError {
	if e.issues == nil {
		return nil
	}
	wait, err := e.issues.Allow(ctx, subject)
	if err == nil {
		return nil
	}
	if storefail.Is(err) {
		return storeBusy(err)
	}
	oe := oerr(http.StatusTooManyRequests, "slow_down", "Too many tokens requested; retry later.", fmt.Errorf("%w: %w", ErrTooManyTokens, err))
	oe.wait = wait
	return oe
}

// withClaims returns g with the claims of TokenEndpointOptions.Claims,
// if set, checked as Issue checks them: called before anything is stored
// or rotated, so that a failure leaves the client's refresh token usable.
func (e *TokenEndpoint) withClaims(ctx context.Context, g Grant) (Grant, *oauthError) {
	if e.claims == nil {
		return g, nil
	}
	claims, err := e.claims(ctx, g)
	if err != nil {
		return g, unavailable(fmt.Errorf("auth: TokenEndpointOptions.Claims: %w", err))
	}
	if _, err := encodeClaims(claims, g.JKT != ""); err != nil {
		return g, oerr(http.StatusInternalServerError, "server_error", "The token could not be issued.", errors.Join(errIssuing, err))
	}
	g.Claims = claims
	return g, nil
}

func (e *TokenEndpoint) issue(ctx context.Context, g Grant) (*tokenResponse, *oauthError) {
	at, err := e.issuer.Issue(ctx, g)
	if err != nil {
		return nil, oerr(http.StatusInternalServerError, "server_error", "The token could not be issued.", errors.Join(errIssuing, err))
	}
	typ := "Bearer"
	if g.JKT != "" {
		typ = "DPoP" // RFC 9449 §5
	}
	return &tokenResponse{
		AccessToken: at.Token,
		TokenType:   typ,
		ExpiresIn:   int64(e.issuer.ttl / time.Second),
		Scope:       strings.Join(g.Scopes, " "),
		id:          identity.New(identity.Options{Subject: g.Subject, Roles: g.Roles, Scopes: g.Scopes}),
	}, nil
}

// writeOAuthError writes an RFC 6749 §5.2 error response. Its members
// are constants: nothing from the request is reflected.
func writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	problem.SetReason(r, e)
	h := w.Header()
	switch e.status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Basic realm="token", charset="UTF-8"`)
	case http.StatusMethodNotAllowed:
		h.Set("Allow", "POST")
	case http.StatusTooManyRequests:
		h.Set("Retry-After", retryAfterSeconds(e.wait))
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	}
	if e.nonce != "" {
		h.Set("DPoP-Nonce", e.nonce)
	}
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.code, e.desc})
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

func printableNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
