package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/identity"
)

// oauthHasher hashes with tiny parameters so that the tests run quickly.
var oauthHasher = password.MustNew(password.Options{
	Params:                     password.Params{Memory: 64, Time: 1, Threads: 1},
	DangerouslyAllowWeakParams: true,
})

type oauthFixture struct {
	ep     *auth.TokenEndpoint
	jwt    *auth.JWT
	users  *auth.MemoryUsers
	store  *auth.MemoryRefreshStore
	issuer *auth.Issuer
}

func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := oauthHasher.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newOAuth(t testing.TB, mod func(*auth.TokenEndpointOptions)) *oauthFixture {
	t.Helper()
	k := keysOnce()
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}})
	if err != nil {
		t.Fatal(err)
	}
	users := auth.NewMemoryUsers()
	if err := users.Add("alice", auth.User{Hash: mustHash(t, "correct horse"), Identity: identity.Options{Roles: []string{"admin"}, Scopes: []string{"orders:read", "orders:write"}}}); err != nil {
		t.Fatal(err)
	}
	if err := users.Add("bob", auth.User{Hash: mustHash(t, "battery staple"), Identity: identity.Options{Scopes: []string{"orders:read"}}}); err != nil {
		t.Fatal(err)
	}
	store := auth.NewMemoryRefreshStore()
	o := auth.TokenEndpointOptions{
		Issuer: iss,
		Clients: []auth.Client{
			{ID: "web", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read", "orders:write"}},
			{ID: "cli", SecretHash: mustHash(t, "cli-secret"), Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read", "orders:write"}},
			{ID: "batch", SecretHash: mustHash(t, "batch secret/+="), Grants: []string{auth.GrantClientCredentials}, Scopes: []string{"reports:run"}, Roles: []string{"service"}},
		},
		Users:        users,
		Hasher:       oauthHasher,
		RefreshStore: store,
	}
	if mod != nil {
		mod(&o)
	}
	ep, err := auth.NewTokenEndpoint(o)
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://issuer.example", Audience: "api://orders", Type: auth.TypeAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	return &oauthFixture{ep: ep, jwt: m, users: users, store: store, issuer: iss}
}

type tokenResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	reason error
}

func (r tokenResult) str(k string) string { s, _ := r.body[k].(string); return s }

func (f *oauthFixture) post(t testing.TB, form url.Values, mod func(*http.Request)) tokenResult {
	t.Helper()
	return f.postRaw(t, "/token", "application/x-www-form-urlencoded", form.Encode(), mod)
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

// rawBasic sets an Authorization header with id and secret as given, not
// form-encoded.
func rawBasic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", basicValue(id, secret)) }
}

func TestTokenEndpointPasswordGrant(t *testing.T) {
	f := newOAuth(t, nil)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if res.status != 200 {
		t.Fatalf("status %d: %s (%v)", res.status, res.raw, res.reason)
	}
	if res.header.Get("Cache-Control") != "no-store" || res.header.Get("Pragma") != "no-cache" || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", res.header)
	}
	if res.str("token_type") != "Bearer" || res.body["expires_in"] != float64(900) || res.str("refresh_token") == "" || res.str("scope") != "orders:read orders:write" {
		t.Errorf("body %s", res.raw)
	}
	id, err := f.jwt.Verify(context.Background(), res.str("access_token"))
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	if id.Subject() != "alice" || !id.HasRole("admin") || !id.HasScope("orders:write") {
		t.Errorf("identity %v %v %v", id.Subject(), id.Roles(), id.Scopes())
	}
}

// A middleware before the endpoint may parse the form, as csrf does in
// token mode to read its field, which consumes the body: the endpoint
// reads the parsed form, with the same limit and the same checks. It read
// the empty rest of the body and answered 401 invalid_client.
func TestTokenEndpointFormParsedByAMiddleware(t *testing.T) {
	f := newOAuth(t, nil)
	parse := func(r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
	}
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), parse)
	if res.status != 200 || res.str("access_token") == "" {
		t.Fatalf("status %d: %s (%v)", res.status, res.raw, res.reason)
	}
	res = f.post(t, form("grant_type", "password", "username", "alice", "username", "alice", "password", "correct horse", "client_id", "web"), parse)
	if res.status != 400 || res.str("error") != "invalid_request" {
		t.Errorf("a repeated parameter: status %d: %s", res.status, res.raw)
	}
	big := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web", "pad", strings.Repeat("x", auth.DefaultTokenRequestMaxBytes))
	res = f.post(t, big, func(r *http.Request) {
		r.ContentLength = -1 // chunked: the endpoint sees no length
		parse(r)
	})
	if res.status != 400 || res.str("error") != "invalid_request" {
		t.Errorf("a form over MaxBodyBytes: status %d: %s", res.status, res.raw)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	f := newOAuth(t, nil)
	pw := func(kv ...string) url.Values {
		return form(append([]string{"grant_type", "password", "username", "alice", "password", "correct horse"}, kv...)...)
	}
	tests := []struct {
		name   string
		form   url.Values
		mod    func(*http.Request)
		status int
		code   string
		reason error
	}{
		{"a GET request", nil, func(r *http.Request) { r.Method = http.MethodGet }, 405, "invalid_request", nil},
		{"a JSON body", pw("client_id", "web"), func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 400, "invalid_request", nil},
		{"a repeated parameter", func() url.Values { v := pw("client_id", "web"); v.Add("username", "bob"); return v }(), nil, 400, "invalid_request", nil},
		{"a body over the limit", pw("client_id", "web", "pad", strings.Repeat("x", 8000)), nil, 400, "invalid_request", nil},
		{"no client authentication", pw(), nil, 401, "invalid_client", auth.ErrNoCredentials},
		{"an unknown client", pw("client_id", "nobody"), nil, 401, "invalid_client", auth.ErrInvalidCredentials},
		{"a wrong client secret by Basic", pw(), basicAuth("cli", "wrong"), 401, "invalid_client", auth.ErrInvalidCredentials},
		{"a wrong client secret in the form", pw("client_id", "cli", "client_secret", "wrong"), nil, 401, "invalid_client", auth.ErrInvalidCredentials},
		{"a public client sending a secret", pw("client_id", "web", "client_secret", "x"), nil, 401, "invalid_client", auth.ErrInvalidCredentials},
		{"Basic and form client authentication together", pw("client_secret", "cli-secret"), basicAuth("cli", "cli-secret"), 400, "invalid_request", nil},
		{"Basic for one client and client_id for another", pw("client_id", "web"), basicAuth("cli", "cli-secret"), 400, "invalid_request", nil},
		{"a malformed Basic header", pw(), func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, 401, "invalid_client", auth.ErrMalformedCredentials},
		{"two Authorization headers", pw(), func(r *http.Request) {
			basicAuth("cli", "cli-secret")(r)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}, 400, "invalid_request", nil},
		// RFC 6749 §2.3.1: Basic carries the form-encoded ID and secret. A
		// secret that does not decode is not an empty one, which a public
		// client would pass with.
		{"a Basic secret that is not form-encoded", pw(), rawBasic("web", "%zz"), 401, "invalid_client", auth.ErrMalformedCredentials},
		{"a Basic client ID that is not form-encoded", pw(), rawBasic("%zz", "x"), 401, "invalid_client", auth.ErrMalformedCredentials},
		{"no grant_type", form("client_id", "web"), nil, 400, "invalid_request", nil},
		{"an unknown grant_type", form("client_id", "web", "grant_type", "implicit"), nil, 400, "unsupported_grant_type", nil},
		{"a grant the client may not use", form("grant_type", "client_credentials", "client_id", "web"), nil, 400, "unauthorized_client", nil},
		{"a wrong password", form("grant_type", "password", "username", "alice", "password", "wrong", "client_id", "web"), nil, 400, "invalid_grant", auth.ErrInvalidCredentials},
		{"an unknown user", form("grant_type", "password", "username", "mallory", "password", "x", "client_id", "web"), nil, 400, "invalid_grant", auth.ErrInvalidCredentials},
		{"no password", form("grant_type", "password", "username", "alice", "client_id", "web"), nil, 400, "invalid_request", nil},
		{"a scope the user does not have", form("grant_type", "password", "username", "bob", "password", "battery staple", "client_id", "web", "scope", "orders:write"), nil, 400, "invalid_scope", nil},
		{"a scope the client may not grant", pw("client_id", "web", "scope", "admin"), nil, 400, "invalid_scope", nil},
		{"a scope with a quote", pw("client_id", "web", "scope", `orders:read "x`), nil, 400, "invalid_scope", nil},
		{"an unknown refresh token", form("grant_type", "refresh_token", "refresh_token", "nope", "client_id", "web"), nil, 400, "invalid_grant", auth.ErrRefreshTokenNotFound},
		{"no refresh token", form("grant_type", "refresh_token", "client_id", "web"), nil, 400, "invalid_request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.post(t, tt.form, tt.mod)
			if res.status != tt.status || res.str("error") != tt.code {
				t.Fatalf("got %d %s, want %d %s (%v)", res.status, res.raw, tt.status, tt.code, res.reason)
			}
			if tt.reason != nil && !errors.Is(res.reason, tt.reason) {
				t.Errorf("reason %v, want %v", res.reason, tt.reason)
			}
			if res.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge")
			}
			if res.status == 405 && res.header.Get("Allow") != "POST" {
				t.Errorf("405 without Allow")
			}
			if res.header.Get("Cache-Control") != "no-store" || res.header.Get("Pragma") != "no-cache" {
				t.Errorf("error response is cacheable: %v", res.header)
			}
			if res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("error response without nosniff")
			}
			for _, leak := range []string{"alice", "mallory", "wrong", "nobody", "implicit"} {
				if strings.Contains(res.raw, leak) {
					t.Errorf("response reflects %q: %s", leak, res.raw)
				}
			}
		})
	}
}

func TestTokenEndpointClientCredentials(t *testing.T) {
	f := newOAuth(t, nil)
	res := f.post(t, form("grant_type", "client_credentials"), basicAuth("batch", "batch secret/+="))
	if res.status != 200 || res.str("refresh_token") != "" || res.str("scope") != "reports:run" {
		t.Fatalf("%d %s", res.status, res.raw)
	}
	id, err := f.jwt.Verify(context.Background(), res.str("access_token"))
	if err != nil || id.Subject() != "client:batch" || !id.HasRole("service") {
		t.Fatalf("%v %v", id, err)
	}
	// Form authentication works too.
	res = f.post(t, form("grant_type", "client_credentials", "client_id", "batch", "client_secret", "batch secret/+=", "scope", "reports:run"), nil)
	if res.status != 200 {
		t.Fatalf("form auth: %d %s", res.status, res.raw)
	}
}

func TestTokenEndpointRefreshRotationAndReuse(t *testing.T) {
	f := newOAuth(t, nil)
	first := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "scope", "orders:read orders:write"), basicAuth("cli", "cli-secret"))
	if first.status != 200 {
		t.Fatalf("%d %s", first.status, first.raw)
	}
	rt1 := first.str("refresh_token")
	second := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt1, "scope", "orders:read"), basicAuth("cli", "cli-secret"))
	if second.status != 200 || second.str("refresh_token") == "" || second.str("refresh_token") == rt1 || second.str("scope") != "orders:read" {
		t.Fatalf("refresh: %d %s", second.status, second.raw)
	}
	rt2 := second.str("refresh_token")
	// The refresh token keeps the first grant's scope (RFC 6749 §6): only
	// that access token was narrowed. Nothing beyond the first grant.
	wide := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt2, "scope", "orders:write admin"), basicAuth("cli", "cli-secret"))
	if wide.status != 400 || wide.str("error") != "invalid_scope" {
		t.Fatalf("widening beyond the grant: %d %s", wide.status, wide.raw)
	}
	third := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt2, "scope", "orders:write"), basicAuth("cli", "cli-secret"))
	if third.status != 200 || third.str("scope") != "orders:write" {
		t.Fatalf("scope of the first grant after narrowing: %d %s", third.status, third.raw)
	}
	rt2 = third.str("refresh_token")
	// Reusing rt1 revokes the family: rt2 stops working too.
	reuse := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt1), basicAuth("cli", "cli-secret"))
	if reuse.status != 400 || reuse.str("error") != "invalid_grant" || !errors.Is(reuse.reason, auth.ErrRefreshTokenReused) {
		t.Fatalf("reuse: %d %s %v", reuse.status, reuse.raw, reuse.reason)
	}
	after := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt2), basicAuth("cli", "cli-secret"))
	if after.status != 400 || after.str("error") != "invalid_grant" {
		t.Fatalf("family not revoked: %d %s", after.status, after.raw)
	}
}

func TestTokenEndpointRefreshBoundToClientAndUser(t *testing.T) {
	f := newOAuth(t, nil)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	other := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token")), basicAuth("cli", "cli-secret"))
	if other.status != 400 || other.str("error") != "invalid_grant" {
		t.Fatalf("another client: %d %s", other.status, other.raw)
	}
	res = f.post(t, form("grant_type", "password", "username", "bob", "password", "battery staple", "client_id", "web"), nil)
	f.users.Delete("bob")
	gone := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), nil)
	if gone.status != 400 || gone.str("error") != "invalid_grant" {
		t.Fatalf("deleted user: %d %s", gone.status, gone.raw)
	}
}

// A password change ends the refresh tokens issued before it: a stolen
// refresh token must not outlive the reset its owner made to lock the
// thief out. Tokens issued after the change keep working, and so does a
// family through a rehash made by its own login.
func TestTokenEndpointRefreshEndsWithAPasswordChange(t *testing.T) {
	f := newOAuth(t, nil)
	login := func(pw string) string {
		t.Helper()
		res := f.post(t, form("grant_type", "password", "username", "alice", "password", pw, "client_id", "web"), nil)
		if res.status != 200 || res.str("refresh_token") == "" {
			t.Fatalf("login: %d %s", res.status, res.raw)
		}
		return res.str("refresh_token")
	}
	refresh := func(rt string) tokenResult {
		t.Helper()
		return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
	}
	stolen := login("correct horse")
	if r := refresh(stolen); r.status != 200 {
		t.Fatalf("refresh before the change: %d %s", r.status, r.raw)
	} else {
		stolen = r.str("refresh_token")
	}
	if err := f.users.UpdateHash(context.Background(), "alice", mustHash(t, "new password")); err != nil {
		t.Fatal(err)
	}
	r := refresh(stolen)
	if r.status != 400 || r.str("error") != "invalid_grant" || !errors.Is(r.reason, auth.ErrInvalidCredentials) {
		t.Fatalf("refresh after the change: %d %s %v", r.status, r.raw, r.reason)
	}
	fresh := login("new password")
	if r := refresh(fresh); r.status != 200 {
		t.Fatalf("refresh of a token issued after the change: %d %s", r.status, r.raw)
	} else {
		fresh = r.str("refresh_token")
	}
	// Setting the same password again also makes a new hash (a new
	// salt): what counts is the change of the stored credential.
	if err := f.users.UpdateHash(context.Background(), "alice", mustHash(t, "new password")); err != nil {
		t.Fatal(err)
	}
	if r := refresh(fresh); r.status != 400 || errors.Is(r.reason, auth.ErrRefreshTokenReused) {
		t.Fatalf("refresh after a reset to the same password: %d %s %v", r.status, r.raw, r.reason)
	}
}

// The package doc says refresh tokens issued by an earlier version,
// without the binding to the user's password hash, end at their first
// use: a family without a Credential is refused, and revoked, as after a
// password change.
func TestTokenEndpointRefreshTokenWithoutCredentialEnds(t *testing.T) {
	f := newOAuth(t, nil)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if res.status != 200 || res.str("refresh_token") == "" {
		t.Fatalf("login: %d %s", res.status, res.raw)
	}
	ctx := context.Background()
	cur, found, err := f.store.Lookup(ctx, auth.HashRefreshToken(res.str("refresh_token")))
	if err != nil || !found || cur.Credential == "" {
		t.Fatalf("Lookup = %+v, %v, %v", cur, found, err)
	}
	for _, tc := range []struct {
		name       string
		credential string
		status     int
	}{
		{"a family bound to the current hash refreshes", cur.Credential, 200},
		{"a family without a credential ends at its first use", "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := strings.Repeat("r", 42) + string(rune('A'+tc.status/100))
			old := cur
			old.Family, old.Credential = "family-"+tc.name, tc.credential
			if err := f.store.Create(ctx, auth.HashRefreshToken(rt), old); err != nil {
				t.Fatal(err)
			}
			r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
			if r.status != tc.status {
				t.Fatalf("refresh: %d %s %v; want %d", r.status, r.raw, r.reason, tc.status)
			}
			if tc.status == 200 {
				return
			}
			if r.str("error") != "invalid_grant" || !errors.Is(r.reason, auth.ErrRefreshCredential) {
				t.Errorf("refresh: %s %v; want invalid_grant for the credential", r.raw, r.reason)
			}
			if t2, _, _ := f.store.Lookup(ctx, auth.HashRefreshToken(rt)); !t2.Revoked {
				t.Errorf("the family of the token without a credential is not revoked")
			}
		})
	}
}

// A password reset that lands between the verification of the old
// password and the upgrade of its hash wins: the upgrade, a
// compare-and-swap, does not overwrite it with a hash of the old password,
// and the refresh token of that login (a thief's, say) ends at its first
// use (found in review: a blind write kept the reset from taking effect).
func TestTokenEndpointRehashLosesToAPasswordReset(t *testing.T) {
	weak := password.MustNew(password.Options{Params: password.Params{Memory: 32, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	var f *oauthFixture
	reset := mustHash(t, "new password")
	var swapErr error
	f = newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.OnRehash = func(ctx context.Context, name, old, h string) error {
			// The owner resets the password while the thief's login is
			// between its verification and its upgrade.
			if err := f.users.UpdateHash(ctx, name, reset); err != nil {
				t.Fatal(err)
			}
			swapErr = f.users.Rehash(ctx, name, old, h)
			return swapErr
		}
	})
	h, _ := weak.Hash("old password")
	if err := f.users.Add("carol", auth.User{Hash: h}); err != nil {
		t.Fatal(err)
	}
	res := f.post(t, form("grant_type", "password", "username", "carol", "password", "old password", "client_id", "web"), nil)
	if res.status != 200 {
		t.Fatalf("login: %d %s", res.status, res.raw)
	}
	if !errors.Is(swapErr, auth.ErrHashChanged) {
		t.Fatalf("Rehash after a reset: %v, want ErrHashChanged", swapErr)
	}
	if u, _, _ := f.users.LookupUser(context.Background(), "carol"); u.Hash != reset {
		t.Fatal("the upgrade overwrote the reset")
	}
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), nil)
	if r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("refresh of the login that lost to the reset: %d %s", r.status, r.raw)
	}
}

// Two logins racing through the upgrade of one user's hash both keep
// working refresh tokens: the one whose swap lost binds to the hash the
// other stored, which its password verifies (found in review: it was
// bound to the replaced hash and ended at its first refresh).
func TestTokenEndpointConcurrentRehashesKeepBothFamilies(t *testing.T) {
	weak := password.MustNew(password.Options{Params: password.Params{Memory: 32, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	// silent: the losing swap reports no error, as an UPDATE ... WHERE
	// that matched no row does (found in review: nil was taken for a win).
	for _, silent := range []bool{false, true} {
		t.Run(fmt.Sprint("silent=", silent), func(t *testing.T) {
			var f *oauthFixture
			other := mustHash(t, "old password") // the winner's upgrade
			var swapErr error
			f = newOAuth(t, func(o *auth.TokenEndpointOptions) {
				o.OnRehash = func(ctx context.Context, name, old, h string) error {
					if err := f.users.Rehash(ctx, name, old, other); err != nil {
						t.Fatal(err) // the other login, first
					}
					swapErr = f.users.Rehash(ctx, name, old, h)
					if silent {
						return nil
					}
					return swapErr
				}
			})
			h, _ := weak.Hash("old password")
			if err := f.users.Add("carol", auth.User{Hash: h}); err != nil {
				t.Fatal(err)
			}
			res := f.post(t, form("grant_type", "password", "username", "carol", "password", "old password", "client_id", "web"), nil)
			if !errors.Is(swapErr, auth.ErrHashChanged) {
				t.Fatalf("second swap: %v, want ErrHashChanged", swapErr)
			}
			r := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), nil)
			if r.status != 200 {
				t.Fatalf("refresh of the login whose swap lost to another login's: %d %s", r.status, r.raw)
			}
		})
	}
}

// A client's own tokens have the subject "client:" and its ID, and no user
// can get a token with such a subject, so a handler keying on the subject
// never takes a user for a client (found in review: a user named "batch"
// got tokens with the batch client's subject; RFC 9068 §5).
func TestTokenEndpointClientAndUserSubjectsNeverCollide(t *testing.T) {
	f := newOAuth(t, nil)
	userHash := mustHash(t, "user pw")
	if err := f.users.Add("batch", auth.User{Hash: userHash}); err != nil {
		t.Fatal(err)
	}
	client := f.post(t, form("grant_type", "client_credentials"), basicAuth("batch", "batch secret/+="))
	user := f.post(t, form("grant_type", "password", "username", "batch", "password", "user pw", "client_id", "web"), nil)
	cid, err1 := f.jwt.Verify(context.Background(), client.str("access_token"))
	uid, err2 := f.jwt.Verify(context.Background(), user.str("access_token"))
	if err1 != nil || err2 != nil || cid.Subject() == uid.Subject() || uid.Subject() != "batch" {
		t.Fatalf("client %q (%v), user %q (%v)", cid.Subject(), err1, uid.Subject(), err2)
	}
	for i, sub := range []string{"client:batch", "CLIENT:batch"} {
		name := fmt.Sprintf("mallory-%d", i)
		if err := f.users.Add(name, auth.User{Hash: mustHash(t, "pw"), Identity: identity.Options{Subject: sub}}); err != nil {
			t.Fatal(err)
		}
		res := f.post(t, form("grant_type", "password", "username", name, "password", "pw", "client_id", "web"), nil)
		if res.status != 400 || res.str("error") != "invalid_grant" {
			t.Errorf("a user with subject %q: %d %s", sub, res.status, res.raw)
		}
	}
	// A user whose subject becomes a client's after the login (same
	// password hash) loses the refresh token.
	rt := user.str("refresh_token")
	if err := f.users.Add("batch", auth.User{Hash: userHash, Identity: identity.Options{Subject: "client:batch"}}); err != nil {
		t.Fatal(err)
	}
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil); r.status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(fmt.Sprint(r.reason), "client tokens use") {
		t.Errorf("refresh for a subject turned client-like: %d %s %v", r.status, r.raw, r.reason)
	}
	if got, found, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(rt)); found && !got.Revoked {
		t.Error("the family of a refresh token refused for its client-like subject is not revoked")
	}
}

// staleUsers answers one lookup with a user as it was before a write, as a
// replica or a cache behind the store would.
type staleUsers struct {
	*auth.MemoryUsers
	stale *auth.User
}

func (s *staleUsers) LookupUser(ctx context.Context, name string) (auth.User, bool, error) {
	if u := s.stale; u != nil {
		s.stale = nil
		return *u, true, nil
	}
	return s.MemoryUsers.LookupUser(ctx, name)
}

// A swap OnRehash reports as done is believed over a read that still
// shows the old hash (found in review: the refresh token was bound to the
// replaced hash and ended at its first use).
func TestTokenEndpointRehashSurvivesAStaleRead(t *testing.T) {
	weak := password.MustNew(password.Options{Params: password.Params{Memory: 32, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	var f *oauthFixture
	var users *staleUsers
	f = newOAuth(t, func(o *auth.TokenEndpointOptions) {
		users = &staleUsers{MemoryUsers: o.Users.(*auth.MemoryUsers)}
		o.Users = users
		o.OnRehash = func(ctx context.Context, name, old, h string) error {
			before, _, _ := users.MemoryUsers.LookupUser(ctx, name)
			if err := users.Rehash(ctx, name, old, h); err != nil {
				return err
			}
			users.stale = &before
			return nil
		}
	})
	h, _ := weak.Hash("old password")
	if err := f.users.Add("carol", auth.User{Hash: h}); err != nil {
		t.Fatal(err)
	}
	res := f.post(t, form("grant_type", "password", "username", "carol", "password", "old password", "client_id", "web"), nil)
	if users.stale != nil {
		t.Fatal("the endpoint did not read the user back")
	}
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), nil)
	if r.status != 200 {
		t.Fatalf("refresh after an upgrade read back stale: %d %s", r.status, r.raw)
	}
}

func TestTokenEndpointRefreshExpiry(t *testing.T) {
	now := time.Now()
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		*o = auth.WithTokenEndpointClock(*o, func() time.Time { return now })
		o.RefreshTokenTTL = time.Hour
		o.RefreshTokenMaxLifetime = 2 * time.Hour
	})
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	rt := res.str("refresh_token")
	for i := range 3 {
		now = now.Add(50 * time.Minute)
		r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
		if i < 2 && r.status != 200 {
			t.Fatalf("rotation %d: %d %s", i, r.status, r.raw)
		}
		if i == 2 {
			// 150 minutes after the login: beyond the family's lifetime.
			if r.status != 400 || r.str("error") != "invalid_grant" {
				t.Fatalf("past the family lifetime: %d %s", r.status, r.raw)
			}
			return
		}
		rt = r.str("refresh_token")
	}
}

func TestTokenEndpointConcurrentRefreshOneWins(t *testing.T) {
	f := newOAuth(t, nil)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	rt := res.str("refresh_token")
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil); r.status == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded, want 1", ok.Load())
	}
}

// oauthLimiter refuses attempts after max failures per user name.
type oauthLimiter struct {
	mu       sync.Mutex
	failures map[string]int
	max      int
}

func (l *oauthLimiter) Check(_ context.Context, name string, _ netip.Addr) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures[name] >= l.max {
		return 3 * time.Second, errors.New("limited")
	}
	return 0, nil
}

func (l *oauthLimiter) Reserve(_ context.Context, name string, _ netip.Addr) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures[name] >= l.max {
		return 3 * time.Second, errors.New("limited")
	}
	l.failures[name]++
	return 0, nil
}

func (l *oauthLimiter) RecordSuccess(_ context.Context, name string, _ netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, name)
	return nil
}

func TestTokenEndpointAttemptLimiter(t *testing.T) {
	lim := &oauthLimiter{failures: map[string]int{}, max: 2}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Limiter = lim })
	bad := form("grant_type", "password", "username", "alice", "password", "nope", "client_id", "web")
	for i := range 2 {
		if r := f.post(t, bad, nil); r.status != 400 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if r.status != 429 || r.str("error") != "slow_down" || r.header.Get("Retry-After") != "3" || !errors.Is(r.reason, auth.ErrTooManyAttempts) {
		t.Fatalf("locked out: %d %s %q %v", r.status, r.raw, r.header.Get("Retry-After"), r.reason)
	}
}

// cStringUsers is a user store behind a C interface (a PAM or LDAP
// client library, a C extension): a name ends at its first NUL byte. It
// records the names it is asked for.
type cStringUsers struct {
	auth.UserStore
	mu     sync.Mutex
	lookup []string
}

func (c *cStringUsers) LookupUser(ctx context.Context, name string) (auth.User, bool, error) {
	c.mu.Lock()
	c.lookup = append(c.lookup, name)
	c.mu.Unlock()
	name, _, _ = strings.Cut(name, "\x00")
	return c.UserStore.LookupUser(ctx, name)
}

// Found in review: Basic refuses a user name that is not UTF-8 or has a
// control character, but the password grant passed any username to the
// user store. With a store that ends names at a NUL, "alice\x00" + n was
// alice for every n, and each spelling got its own failure budget from
// the attempt limiter: unlimited guesses at alice's password.
func TestTokenEndpointRefusesUserNamesBasicCannotCarry(t *testing.T) {
	lim := &oauthLimiter{failures: map[string]int{}, max: 2}
	users := &cStringUsers{}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		users.UserStore = o.Users
		o.Users = users
		o.Limiter = lim
	})
	for range 2 {
		f.post(t, form("grant_type", "password", "username", "alice", "password", "nope", "client_id", "web"), nil)
	}
	for i, name := range []string{"alice\x00", "alice\x001", "alice\x00\x00", "\x00alice", "ali\x1bce", "alice\x7f", "alice\u0085", "alice\xff", "\xc3alice", "alice\ufffd"} {
		users.mu.Lock()
		users.lookup = nil
		users.mu.Unlock()
		r := f.post(t, form("grant_type", "password", "username", name, "password", "correct horse", "client_id", "web"), nil)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !errors.Is(r.reason, auth.ErrMalformedCredentials) {
			t.Errorf("%d: username %q: %d %s %v; want 400 invalid_request, ErrMalformedCredentials", i, name, r.status, r.raw, r.reason)
		}
		users.mu.Lock()
		if len(users.lookup) != 0 {
			t.Errorf("%d: username %q reached the user store as %q", i, name, users.lookup)
		}
		users.mu.Unlock()
	}
	// Names Basic can carry still work.
	if err := f.users.AddPassword("zoë", "pw", identity.Options{}); err != nil {
		t.Fatal(err)
	}
	if r := f.post(t, form("grant_type", "password", "username", "zoë", "password", "pw", "client_id", "web"), nil); r.status != http.StatusOK {
		t.Errorf("zoë: %d %s", r.status, r.raw)
	}
}

type downUsers struct{}

func (downUsers) LookupUser(context.Context, string) (auth.User, bool, error) {
	return auth.User{}, false, errors.New("db down")
}

func TestTokenEndpointStoreDown(t *testing.T) {
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Users = downUsers{} })
	r := f.post(t, form("grant_type", "password", "username", "alice", "password", "x", "client_id", "web"), nil)
	if r.status != 503 || r.str("error") != "temporarily_unavailable" || !errors.Is(r.reason, auth.ErrUnavailable) {
		t.Fatalf("%d %s %v", r.status, r.raw, r.reason)
	}
}

// A MemoryRefreshStore full of live tokens refuses a new login with 503
// temporarily_unavailable, and the refresh tokens already issued keep
// rotating, as ErrRefreshStoreFull says.
func TestTokenEndpointRefreshStoreFull(t *testing.T) {
	store, err := auth.NewMemoryRefreshStoreWith(auth.MemoryRefreshOptions{MaxTokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.RefreshStore = store })
	login := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web")
	first := f.post(t, login, nil)
	if first.status != http.StatusOK || first.str("refresh_token") == "" {
		t.Fatalf("first login: %d %s", first.status, first.raw)
	}
	r := f.post(t, login, nil)
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || !errors.Is(r.reason, auth.ErrRefreshStoreFull) {
		t.Errorf("login with the store full: %d %s %v; want 503 temporarily_unavailable, ErrRefreshStoreFull", r.status, r.raw, r.reason)
	}
	if strings.Contains(r.raw, "full") {
		t.Errorf("the response tells the client about the store: %s", r.raw)
	}
	r = f.post(t, form("grant_type", "refresh_token", "refresh_token", first.str("refresh_token"), "client_id", "web"), nil)
	if r.status != http.StatusOK || r.str("refresh_token") == "" {
		t.Errorf("refresh with the store full: %d %s", r.status, r.raw)
	}
}

func TestNewTokenEndpointRejectsUnsafeOptions(t *testing.T) {
	k := keysOnce()
	iss, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: k.hmac}, Issuer: "https://i.example"})
	users := auth.NewMemoryUsers()
	pwClient := []auth.Client{{ID: "a", Public: true, Grants: []string{"password"}}}
	tests := []struct {
		name string
		o    auth.TokenEndpointOptions
		want string
	}{
		{"no issuer", auth.TokenEndpointOptions{Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{"password"}}}, Users: users}, "Issuer is required"},
		{"no clients", auth.TokenEndpointOptions{Issuer: iss, Users: users}, "Clients is required"},
		{"a confidential client without a secret hash", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a", Grants: []string{"password"}}}}, "SecretHash is required"},
		{"a public client with client_credentials", auth.TokenEndpointOptions{Issuer: iss, Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{"client_credentials"}}}}, "public client cannot"},
		{"the implicit grant", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{"implicit"}}}}, "unsupported grant"},
		{"a password client without users", auth.TokenEndpointOptions{Issuer: iss, Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{"password"}}}}, "Users is required"},
		{"duplicate client IDs", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{"password"}}, {ID: "a", Public: true, Grants: []string{"password"}}}}, "duplicate"},
		{"a client ID with a space", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a b", Public: true, Grants: []string{"password"}}}}, "without spaces"},
		{"a client ID with DEL", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a\x7f", Public: true, Grants: []string{"password"}}}}, "without spaces"},
		{"a client ID of 257 bytes", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: strings.Repeat("a", 257), Public: true, Grants: []string{"password"}}}}, "1 to 256"},
		{"a public client with a secret hash", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a", Public: true, SecretHash: "h", Grants: []string{"password"}}}}, "public client has no SecretHash"},
		{"a client without grants", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a", Public: true}}}, "Grants is required"},
		// Found in review: a SecretHash that is not a hash (the secret
		// itself, pasted where its hash belongs) was accepted, and every
		// request of the client was refused as a wrong secret.
		{"a secret hash that is not a hash", auth.TokenEndpointOptions{Issuer: iss, Clients: []auth.Client{{ID: "a", SecretHash: "s3cr3t-pasted-as-is", Grants: []string{"client_credentials"}}}}, "SecretHash"},
		{"a secret hash beyond the hasher's limits", auth.TokenEndpointOptions{Issuer: iss, Clients: []auth.Client{{ID: "a", SecretHash: "$2b$15$" + strings.Repeat("a", 53), Grants: []string{"client_credentials"}}}}, "SecretHash"},
		{"a client scope with a quote", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{"password"}, Scopes: []string{`a"b`}}}}, "not a scope token"},
		{"a refresh token TTL under a minute", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: pwClient, RefreshTokenTTL: time.Minute - time.Second}, "RefreshTokenTTL must be"},
		{"a refresh token lifetime under its TTL", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: pwClient, RefreshTokenTTL: 2 * time.Hour, RefreshTokenMaxLifetime: time.Hour}, "RefreshTokenTTL must be"},
		{"a refresh token lifetime over five years", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: pwClient, RefreshTokenMaxLifetime: 5*365*24*time.Hour + time.Second}, "RefreshTokenTTL must be"},
		{"a body limit under 256 bytes", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: pwClient, MaxBodyBytes: 255}, "MaxBodyBytes must be"},
		{"a body limit over 1 MiB", auth.TokenEndpointOptions{Issuer: iss, Users: users, Clients: pwClient, MaxBodyBytes: 1<<20 + 1}, "MaxBodyBytes must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewTokenEndpoint(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// The bounds NewTokenEndpoint documents are inclusive: each edge is taken.
func TestNewTokenEndpointAcceptsTheEdgesOfItsBounds(t *testing.T) {
	k := keysOnce()
	iss, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: k.hmac}, Issuer: "https://i.example"})
	tests := []struct {
		name string
		mod  func(*auth.TokenEndpointOptions)
	}{
		{"a client ID of 256 bytes, '!' to '~'", func(o *auth.TokenEndpointOptions) { o.Clients[0].ID = "!" + strings.Repeat("a", 254) + "~" }},
		{"a refresh token TTL of a minute", func(o *auth.TokenEndpointOptions) { o.RefreshTokenTTL = time.Minute }},
		{"a refresh token lifetime equal to its TTL", func(o *auth.TokenEndpointOptions) {
			o.RefreshTokenTTL, o.RefreshTokenMaxLifetime = time.Hour, time.Hour
		}},
		{"a refresh token lifetime of five years", func(o *auth.TokenEndpointOptions) { o.RefreshTokenMaxLifetime = 5 * 365 * 24 * time.Hour }},
		{"a body limit of 256 bytes", func(o *auth.TokenEndpointOptions) { o.MaxBodyBytes = 256 }},
		{"a body limit of 1 MiB", func(o *auth.TokenEndpointOptions) { o.MaxBodyBytes = 1 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := auth.TokenEndpointOptions{Issuer: iss, Users: auth.NewMemoryUsers(), Hasher: oauthHasher,
				Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"orders:read"}}}}
			tt.mod(&o)
			if _, err := auth.NewTokenEndpoint(o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTokenEndpointRevokeRefreshToken(t *testing.T) {
	f := newOAuth(t, nil)
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	rt := res.str("refresh_token")
	if err := f.ep.RevokeRefreshToken(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	if r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil); r.status != 400 || r.str("error") != "invalid_grant" {
		t.Fatalf("revoked token refreshed: %d %s", r.status, r.raw)
	}
	if err := f.ep.RevokeRefreshToken(context.Background(), "unknown"); err != nil {
		t.Fatalf("unknown token: %v", err)
	}
}

// A weak hash is upgraded at login, and the refresh token of that login
// keeps working whether the new hash was stored or not: it is bound to
// the hash the store holds afterwards.
func TestTokenEndpointRehashesWeakHashes(t *testing.T) {
	weak := password.MustNew(password.Options{Params: password.Params{Memory: 32, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	for _, stored := range []bool{true, false} {
		t.Run(fmt.Sprint("stored=", stored), func(t *testing.T) {
			var got string
			var f *oauthFixture
			f = newOAuth(t, func(o *auth.TokenEndpointOptions) {
				o.OnRehash = func(ctx context.Context, name, old, h string) error {
					got = name
					if !stored {
						return errors.New("database down")
					}
					return f.users.Rehash(ctx, name, old, h)
				}
			})
			h, _ := weak.Hash("old password")
			if err := f.users.Add("carol", auth.User{Hash: h}); err != nil {
				t.Fatal(err)
			}
			res := f.post(t, form("grant_type", "password", "username", "carol", "password", "old password", "client_id", "web"), nil)
			if got != "carol" {
				t.Fatalf("OnRehash not called for a weak hash (got %q)", got)
			}
			if u, _, _ := f.users.LookupUser(context.Background(), "carol"); (u.Hash != h) != stored {
				t.Fatalf("hash replaced: %v, want %v", u.Hash != h, stored)
			}
			r := f.post(t, form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), nil)
			if r.status != 200 {
				t.Fatalf("refresh after the login's rehash: %d %s", r.status, r.raw)
			}
		})
	}
}

// Found in review: an unknown client_id was refused before any hashing
// but a known confidential client after a password hash, so the response
// time told which client IDs exist. Every request that sends a secret now
// costs exactly one hash verification, against the client's hash or the
// password checker's dummy.
func TestTokenEndpointClientAuthenticationCostsOneHash(t *testing.T) {
	hasher := &countingHasher{h: oauthHasher}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.Hasher = hasher
		o.Clients = append(o.Clients, auth.Client{ID: "broken", SecretHash: "not a hash", Grants: []string{auth.GrantClientCredentials}})
	})
	cases := []struct {
		name string
		form url.Values
		mod  func(*http.Request)
	}{
		{"unknown client, Basic", form("grant_type", "client_credentials"), basicAuth("no-such-client", "wrong")},
		{"unknown client, form", form("grant_type", "client_credentials", "client_id", "no-such-client", "client_secret", "wrong"), nil},
		{"confidential client, wrong secret", form("grant_type", "client_credentials"), basicAuth("batch", "wrong")},
		{"public client sending a secret", form("grant_type", "password", "username", "alice", "password", "x"), basicAuth("web", "wrong")},
		{"confidential client whose stored hash is refused", form("grant_type", "client_credentials"), basicAuth("broken", "wrong")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := hasher.worked.Load()
			res := f.post(t, tc.form, tc.mod)
			if res.status != 401 || res.str("error") != "invalid_client" {
				t.Fatalf("%d %s", res.status, res.raw)
			}
			if n := hasher.worked.Load() - before; n != 1 {
				t.Errorf("%d hash verifications, want 1", n)
			}
		})
	}
}

// TestTokenEndpointRequestEndedBeforeHashing: a request whose context has
// ended (its client hung up, a deadline passed) is not hashed for; every
// path that would hash answers the same 503 temporarily_unavailable,
// whether the client or user exists or not, so the answer tells nothing
// about which do.
func TestTokenEndpointRequestEndedBeforeHashing(t *testing.T) {
	f := newOAuth(t, nil)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	endedCtx := func(r *http.Request) { *r = *r.WithContext(ended) }
	tests := []struct {
		name string
		form url.Values
		mod  func(*http.Request)
	}{
		{"a confidential client's secret", form("grant_type", "client_credentials"), basicAuth("batch", "batch secret/+=")},
		{"an unknown client's secret", form("grant_type", "client_credentials"), basicAuth("nobody", "secret")},
		{"a secret sent by a public client", form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web", "client_secret", "x"), nil},
		{"a known user's password", form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil},
		{"an unknown user's password", form("grant_type", "password", "username", "mallory", "password", "guess", "client_id", "web"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.post(t, tt.form, func(r *http.Request) {
				if tt.mod != nil {
					tt.mod(r)
				}
				endedCtx(r)
			})
			if res.status != http.StatusServiceUnavailable || res.str("error") != "temporarily_unavailable" {
				t.Errorf("status %d %s, want 503 temporarily_unavailable", res.status, res.raw)
			}
			if !errors.Is(res.reason, auth.ErrUnavailable) || !errors.Is(res.reason, context.Canceled) {
				t.Errorf("reason %v, want ErrUnavailable and context.Canceled", res.reason)
			}
		})
	}
}

// The scope parameter (RFC 6749 §3.3): each scope is granted once however
// often it is asked for, empty items between spaces are skipped, and a
// parameter over 4096 bytes is refused whatever it holds.
func TestTokenEndpointScopeParameter(t *testing.T) {
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.MaxBodyBytes = 16 << 10 })
	// padded returns a scope parameter of n bytes: orders:read, then spaces.
	padded := func(n int) string { return "orders:read" + strings.Repeat(" ", n-len("orders:read")) }
	tests := []struct {
		name  string
		scope string
		code  string // "" for 200
		want  string // the scope granted
	}{
		{"a scope asked for twice", "orders:read orders:read", "", "orders:read"},
		{"spaces around and between", "  orders:write   orders:read ", "", "orders:write orders:read"},
		{"4096 bytes", padded(4096), "", "orders:read"},
		{"4097 bytes", padded(4097), "invalid_scope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web", "scope", tt.scope), nil)
			if tt.code != "" {
				if r.status != http.StatusBadRequest || r.str("error") != tt.code {
					t.Fatalf("%d %s, want 400 %s", r.status, r.raw, tt.code)
				}
				return
			}
			if r.status != http.StatusOK || r.str("scope") != tt.want {
				t.Fatalf("%d %s, want 200 with scope %q", r.status, r.raw, tt.want)
			}
			id, err := f.jwt.Verify(context.Background(), r.str("access_token"))
			if err != nil || strings.Join(id.Scopes(), " ") != tt.want {
				t.Fatalf("access token scopes %v (%v), want %q", id.Scopes(), err, tt.want)
			}
		})
	}
}

// A body of exactly MaxBodyBytes is read, whether the endpoint reads it or
// a middleware parsed it first; one byte more is refused.
func TestTokenEndpointBodyAtTheLimit(t *testing.T) {
	const limit = 512
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.MaxBodyBytes = limit })
	// decoded is what a parsed form counts: each name, value and a separator.
	decoded := func(v url.Values) int {
		n := 0
		for k, vs := range v {
			for _, s := range vs {
				n += len(k) + len(s) + 1
			}
		}
		return n
	}
	withPad := func(size func(url.Values) int, n int) url.Values {
		v := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web", "pad", "")
		v.Set("pad", strings.Repeat("x", n-size(v)))
		return v
	}
	encoded := func(v url.Values) int { return len(v.Encode()) }
	parse := func(r *http.Request) {
		r.ContentLength = -1
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		size func(url.Values) int
		mod  func(*http.Request)
	}{
		{"read by the endpoint", encoded, nil},
		{"parsed by a middleware", decoded, parse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := withPad(tt.size, limit)
			if tt.size(at) != limit {
				t.Fatalf("the body is %d bytes, want %d", tt.size(at), limit)
			}
			if r := f.post(t, at, tt.mod); r.status != http.StatusOK {
				t.Errorf("a body of MaxBodyBytes: %d %s", r.status, r.raw)
			}
			if r := f.post(t, withPad(tt.size, limit+1), tt.mod); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
				t.Errorf("a body one byte over MaxBodyBytes: %d %s", r.status, r.raw)
			}
		})
	}
}

// RFC 6749 §3.2: a parameter sent without a value is treated as omitted.
// An empty client_secret beside Basic authentication is no second
// authentication of the client.
func TestTokenEndpointEmptyParametersAreOmitted(t *testing.T) {
	f := newOAuth(t, nil)
	r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_secret", "", "client_id", "", "scope", ""), basicAuth("cli", "cli-secret"))
	if r.status != http.StatusOK || r.str("scope") != "orders:read orders:write" {
		t.Fatalf("%d %s (%v)", r.status, r.raw, r.reason)
	}
}

// A verified password clears the user's failures at the AttemptLimiter:
// a user who mistypes now and then is never locked out.
func TestTokenEndpointAttemptLimiterSuccessClears(t *testing.T) {
	lim := &oauthLimiter{failures: map[string]int{}, max: 2}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Limiter = lim })
	bad := form("grant_type", "password", "username", "alice", "password", "nope", "client_id", "web")
	good := form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web")
	for i := range 3 {
		if r := f.post(t, bad, nil); r.status != http.StatusBadRequest {
			t.Fatalf("round %d, wrong password: %d %s", i, r.status, r.raw)
		}
		if r := f.post(t, good, nil); r.status != http.StatusOK {
			t.Fatalf("round %d, right password after one failure: %d %s", i, r.status, r.raw)
		}
	}
}

// OnRehash is called only for a hash that needs upgrading.
func TestTokenEndpointNoRehashOfACurrentHash(t *testing.T) {
	var calls atomic.Int32
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.OnRehash = func(context.Context, string, string, string) error { calls.Add(1); return nil }
	})
	if r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("OnRehash called %d times for a hash made with the Hasher's parameters", n)
	}
}

// A client without the refresh_token grant gets no refresh token, and
// none is stored for it.
func TestTokenEndpointNoRefreshTokenWithoutTheGrant(t *testing.T) {
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		o.Clients = append(o.Clients, auth.Client{ID: "once", Public: true, Grants: []string{auth.GrantPassword}, Scopes: []string{"orders:read"}})
	})
	r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "once"), nil)
	if r.status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if _, ok := r.body["refresh_token"]; ok || f.store.Len() != 0 {
		t.Fatalf("a refresh token for a client without the grant: %s, %d stored", r.raw, f.store.Len())
	}
}

// A refresh token unused for RefreshTokenTTL ends, however long its family
// may live; a rotation near the family's end gets a token that ends with
// the family, not a TTL later.
func TestTokenEndpointRefreshTokenTTL(t *testing.T) {
	now := time.Now()
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
		*o = auth.WithTokenEndpointClock(*o, func() time.Time { return now })
		o.RefreshTokenTTL = time.Hour
		o.RefreshTokenMaxLifetime = 2 * time.Hour
	})
	login := func() string {
		t.Helper()
		r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
		if r.status != http.StatusOK {
			t.Fatalf("login: %d %s", r.status, r.raw)
		}
		return r.str("refresh_token")
	}
	refresh := func(rt string) tokenResult {
		return f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
	}
	start := now
	idle := login()
	live := login()
	now = start.Add(50 * time.Minute)
	r := refresh(live)
	if r.status != http.StatusOK {
		t.Fatalf("refresh within the TTL: %d %s", r.status, r.raw)
	}
	live = r.str("refresh_token")
	now = start.Add(61 * time.Minute)
	if r := refresh(idle); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Fatalf("refresh %v after the login, TTL an hour: %d %s", now.Sub(start), r.status, r.raw)
	}
	now = start.Add(100 * time.Minute)
	r = refresh(live)
	if r.status != http.StatusOK {
		t.Fatalf("refresh within the TTL: %d %s", r.status, r.raw)
	}
	got, found, err := f.store.Lookup(context.Background(), auth.HashRefreshToken(r.str("refresh_token")))
	if err != nil || !found {
		t.Fatalf("the new token is not stored: %v", err)
	}
	if !got.ExpiresAt.Equal(got.FamilyExpiresAt) || !got.ExpiresAt.Equal(start.Add(2*time.Hour)) {
		t.Errorf("a token rotated 20 minutes before its family's end expires at +%v, family at +%v; want both at +2h", got.ExpiresAt.Sub(start), got.FamilyExpiresAt.Sub(start))
	}
}

// A refresh gets no more than the user and the client may have now:
// scopes taken from the user, or from the client by a new configuration
// over the same store, are gone from the next access token.
func TestTokenEndpointRefreshNarrowsToCurrentScopes(t *testing.T) {
	f := newOAuth(t, nil)
	login := func(f *oauthFixture) string {
		t.Helper()
		r := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
		if r.status != http.StatusOK || r.str("scope") != "orders:read orders:write" {
			t.Fatalf("login: %d %s", r.status, r.raw)
		}
		return r.str("refresh_token")
	}
	refresh := func(f *oauthFixture, rt string) tokenResult {
		t.Helper()
		r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
		if r.status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.status, r.raw)
		}
		return r
	}
	t.Run("the user's", func(t *testing.T) {
		rt := login(f)
		u, _, _ := f.users.LookupUser(context.Background(), "alice")
		u.Identity.Scopes = []string{"orders:read"}
		if err := f.users.Add("alice", u); err != nil {
			t.Fatal(err)
		}
		if r := refresh(f, rt); r.str("scope") != "orders:read" {
			t.Errorf("scope %q after the user lost orders:write", r.str("scope"))
		}
	})
	t.Run("the client's", func(t *testing.T) {
		f := newOAuth(t, nil)
		rt := login(f)
		g := newOAuth(t, func(o *auth.TokenEndpointOptions) {
			o.Users, o.RefreshStore = f.users, f.store
			o.Clients[0].Scopes = []string{"orders:read"}
		})
		if r := refresh(g, rt); r.str("scope") != "orders:read" {
			t.Errorf("scope %q after the client lost orders:write", r.str("scope"))
		}
	})
}

// The access log around the endpoint (errorsafe reads an
// identity.Recorder) names the subject a grant issued tokens to, as it
// names the subject of any authenticated request; a refused grant names
// none.
func TestTokenEndpointRecordsTheSubjectIssuedTo(t *testing.T) {
	f := newOAuth(t, nil)
	grant := func(form url.Values, mod func(*http.Request)) (tokenResult, identity.Identity, bool) {
		t.Helper()
		var rec *identity.Recorder
		res := f.post(t, form, func(r *http.Request) {
			var ctx context.Context
			ctx, rec = identity.WithRecorder(r.Context())
			*r = *r.WithContext(ctx)
			if mod != nil {
				mod(r)
			}
		})
		id, ok := rec.Identity()
		return res, id, ok
	}
	res, id, ok := grant(form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if res.status != 200 || !ok || id.Subject() != "alice" {
		t.Errorf("password grant: %d, recorded %v %q", res.status, ok, id.Subject())
	}
	res, id, ok = grant(form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"), "client_id", "web"), nil)
	if res.status != 200 || !ok || id.Subject() != "alice" {
		t.Errorf("refresh grant: %d, recorded %v %q", res.status, ok, id.Subject())
	}
	res, id, ok = grant(form("grant_type", "client_credentials"), basicAuth("batch", "batch secret/+="))
	if res.status != 200 || !ok || id.Subject() != auth.ClientSubjectPrefix+"batch" {
		t.Errorf("client credentials: %d, recorded %v %q", res.status, ok, id.Subject())
	}
	res, _, ok = grant(form("grant_type", "password", "username", "alice", "password", "wrong", "client_id", "web"), nil)
	if res.status != 400 || ok {
		t.Errorf("refused grant: %d, recorded %v", res.status, ok)
	}
}
