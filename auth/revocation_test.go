package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
)

// revocationFixture is a token endpoint, its revocation endpoint, and a
// verifier of its access tokens on the denylist the revocations write.
type revocationFixture struct {
	*oauthFixture
	re     *auth.RevocationEndpoint
	access *auth.JWT
}

func newRevocation(t testing.TB, denylist auth.Denylist, withAccess bool, mod func(*auth.TokenEndpointOptions)) *revocationFixture {
	t.Helper()
	f := newOAuth(t, mod)
	access, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{f.issuer.VerificationKey()},
		Issuer: "https://issuer.example", Audience: "api://orders", Type: auth.TypeAccessToken, Denylist: denylist})
	if err != nil {
		t.Fatal(err)
	}
	o := auth.RevocationEndpointOptions{TokenEndpoint: f.ep}
	if withAccess {
		o.AccessTokens = access
	}
	re, err := auth.NewRevocationEndpoint(o)
	if err != nil {
		t.Fatal(err)
	}
	return &revocationFixture{oauthFixture: f, re: re, access: access}
}

// revoke posts form to the revocation endpoint.
func (f *revocationFixture) revoke(t testing.TB, form url.Values, mod func(*http.Request)) tokenResult {
	t.Helper()
	return revokeRaw(t, f.re, http.MethodPost, "application/x-www-form-urlencoded", form.Encode(), mod)
}

func revokeRaw(t testing.TB, h http.Handler, method, ctype, body string, mod func(*http.Request)) tokenResult {
	t.Helper()
	// Errors are JSON; a 200 has no body.
	return serveOAuth(t, h, method, "/revoke", ctype, body, mod, false)
}

// login returns the access and refresh tokens of alice through client
// (web, public, or cli, confidential).
func (f *revocationFixture) login(t testing.TB, client string) (access, refresh string) {
	t.Helper()
	fm := form("grant_type", "password", "username", "alice", "password", "correct horse")
	var mod func(*http.Request)
	if client == "cli" {
		mod = basicAuth("cli", "cli-secret")
	} else {
		fm.Set("client_id", client)
	}
	res := f.post(t, fm, mod)
	if res.status != http.StatusOK {
		t.Fatalf("login: %d %s", res.status, res.raw)
	}
	return res.str("access_token"), res.str("refresh_token")
}

// refreshes reports whether refresh still works at the token endpoint for
// client.
func (f *revocationFixture) refreshes(t testing.TB, client, refresh string) bool {
	t.Helper()
	fm := form("grant_type", "refresh_token", "refresh_token", refresh)
	var mod func(*http.Request)
	if client == "cli" {
		mod = basicAuth("cli", "cli-secret")
	} else {
		fm.Set("client_id", client)
	}
	return f.post(t, fm, mod).status == http.StatusOK
}

// A refresh token and an access token are revoked, whatever the hint
// says, with 200, an empty body and no-store; the refresh token then
// refreshes nothing, and the access token is refused by every verifier on
// the denylist.
func TestRevocationEndpointRevokes(t *testing.T) {
	for _, hint := range []string{"", "refresh_token", "access_token", "unknown_type"} {
		t.Run("hint="+hint, func(t *testing.T) {
			f := newRevocation(t, auth.NewMemoryDenylist(), true, nil)
			access, refresh := f.login(t, "web")
			for _, tok := range []string{refresh, access} {
				fm := form("token", tok, "client_id", "web")
				if hint != "" {
					fm.Set("token_type_hint", hint)
				}
				res := f.revoke(t, fm, nil)
				if res.status != http.StatusOK || res.raw != "" || res.header.Get("Cache-Control") != "no-store" || res.reason != nil {
					t.Fatalf("revocation: %d %q %v, reason %v", res.status, res.raw, res.header, res.reason)
				}
			}
			if f.refreshes(t, "web", refresh) {
				t.Error("the revoked refresh token still refreshes")
			}
			if _, err := f.access.Verify(context.Background(), access); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Errorf("the revoked access token verifies: %v", err)
			}
		})
	}
}

// A confidential client authenticates with its secret, by Basic or in
// the form, as at the token endpoint.
func TestRevocationEndpointConfidentialClient(t *testing.T) {
	for _, by := range []string{"basic", "form"} {
		t.Run(by, func(t *testing.T) {
			f := newRevocation(t, auth.NewMemoryDenylist(), true, nil)
			_, refresh := f.login(t, "cli")
			fm := form("token", refresh)
			var mod func(*http.Request)
			if by == "basic" {
				mod = basicAuth("cli", "cli-secret")
			} else {
				fm.Set("client_id", "cli")
				fm.Set("client_secret", "cli-secret")
			}
			if res := f.revoke(t, fm, mod); res.status != http.StatusOK {
				t.Fatalf("revocation: %d %s", res.status, res.raw)
			}
			if f.refreshes(t, "cli", refresh) {
				t.Error("the revoked refresh token still refreshes")
			}
		})
	}
}

// RFC 7009 §2.2: an invalid token is answered 200, as a revoked one: the
// client can do nothing about it. Nothing is revoked, and the client's
// valid tokens keep working. (A body over the token endpoint's
// MaxBodyBytes is a malformed request, 400, before any token is read.)
func TestRevocationEndpointInvalidTokensAre200(t *testing.T) {
	f := newRevocation(t, auth.NewMemoryDenylist(), true, nil)
	access, refresh := f.login(t, "web")
	k := keysOnce()
	other, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.evilEd}, Issuer: "https://issuer.example", Audience: []string{"api://orders"}})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Issue(context.Background(), auth.Grant{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, token string }{
		{"an unknown refresh token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"a refresh token of 3000 bytes", strings.Repeat("A", 3000)},
		{"three dotted segments of nothing", "a.b.c"},
		{"an access token signed by another key", forged.Token},
		{"an access token tampered with", access[:len(access)-4] + "AAAA"},
		{"a token of two dots and 3000 bytes", strings.Repeat("a", 1500) + "." + strings.Repeat("b", 1500) + ".c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res := f.revoke(t, form("token", tt.token, "client_id", "web"), nil); res.status != http.StatusOK || res.reason != nil {
				t.Errorf("%d %s (reason %v), want 200 without a reason", res.status, res.raw, res.reason)
			}
		})
	}
	if !f.refreshes(t, "web", refresh) {
		t.Error("the client's refresh token was revoked")
	}
	if _, err := f.access.Verify(context.Background(), access); err != nil {
		t.Errorf("the client's access token was revoked: %v", err)
	}
}

// A token of another client is revoked too: the token endpoint revokes a
// refresh token's family when another client presents it, and the answer
// is 200, which tells the presenting client nothing. The access log gets
// the reason: the token leaked.
func TestRevocationEndpointTokenOfAnotherClient(t *testing.T) {
	f := newRevocation(t, auth.NewMemoryDenylist(), true, nil)
	access, refresh := f.login(t, "cli")
	for _, tok := range []string{refresh, access} {
		res := f.revoke(t, form("token", tok, "client_id", "web"), nil)
		if res.status != http.StatusOK {
			t.Fatalf("%d %s, want 200", res.status, res.raw)
		}
		if res.reason == nil || !strings.Contains(res.reason.Error(), "another client") {
			t.Errorf("reason %v, want the revocation of another client's token", res.reason)
		}
	}
	if f.refreshes(t, "cli", refresh) {
		t.Error("the leaked refresh token still refreshes")
	}
	if _, err := f.access.Verify(context.Background(), access); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("the leaked access token verifies: %v", err)
	}
}

// Requests the endpoint refuses, with RFC 6749 §5.2 errors as the token
// endpoint's; none of them revokes the token they carry.
func TestRevocationEndpointRefusals(t *testing.T) {
	const urlencoded = "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		method string // default POST
		ctype  string // default urlencoded
		body   func(refresh string) string
		mod    func(*http.Request)
		status int
		code   string
		header [2]string
	}{
		{name: "GET", method: http.MethodGet, body: func(rt string) string { return "client_id=web&token=" + rt }, status: 405, code: "invalid_request", header: [2]string{"Allow", "POST"}},
		{name: "a JSON body", ctype: "application/json", body: func(rt string) string { return `{"client_id":"web","token":"` + rt + `"}` }, status: 400, code: "invalid_request"},
		{name: "a body over MaxBodyBytes", body: func(rt string) string { return "client_id=web&token=" + rt + "&pad=" + strings.Repeat("x", 5000) }, status: 400, code: "invalid_request"},
		{name: "no token", body: func(string) string { return "client_id=web" }, status: 400, code: "invalid_request"},
		{name: "the token twice", body: func(rt string) string { return "client_id=web&token=" + rt + "&token=x" }, status: 400, code: "invalid_request"},
		{name: "no client", body: func(rt string) string { return "token=" + rt }, status: 401, code: "invalid_client", header: [2]string{"Www-Authenticate", `Basic realm="token", charset="UTF-8"`}},
		{name: "an unknown client", body: func(rt string) string { return "client_id=mobile&token=" + rt }, status: 401, code: "invalid_client"},
		{name: "a confidential client without its secret", body: func(rt string) string { return "client_id=cli&token=" + rt }, status: 401, code: "invalid_client"},
		{name: "a wrong secret", body: func(rt string) string { return "token=" + rt }, mod: basicAuth("cli", "guess"), status: 401, code: "invalid_client"},
		{name: "a public client with a secret", body: func(rt string) string { return "client_id=web&client_secret=x&token=" + rt }, status: 401, code: "invalid_client"},
		{name: "Basic and a form secret", body: func(rt string) string { return "client_secret=cli-secret&token=" + rt }, mod: basicAuth("cli", "cli-secret"), status: 400, code: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRevocation(t, auth.NewMemoryDenylist(), true, nil)
			_, refresh := f.login(t, "web")
			method, ctype := tt.method, tt.ctype
			if method == "" {
				method = http.MethodPost
			}
			if ctype == "" {
				ctype = urlencoded
			}
			res := revokeRaw(t, f.re, method, ctype, tt.body(url.QueryEscape(refresh)), tt.mod)
			if res.status != tt.status || res.str("error") != tt.code || res.reason == nil {
				t.Errorf("%d %s (reason %v), want %d %s", res.status, res.raw, res.reason, tt.status, tt.code)
			}
			if tt.header[0] != "" && res.header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("%s: %q, want %q", tt.header[0], res.header.Get(tt.header[0]), tt.header[1])
			}
			if res.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
				t.Errorf("headers %v", res.header)
			}
			if !f.refreshes(t, "web", refresh) {
				t.Error("a refused request revoked the token")
			}
		})
	}
}

// Without AccessTokens, an access token is unsupported_token_type (RFC
// 7009 §2.2.1) and stays valid; refresh tokens are still revoked.
func TestRevocationEndpointWithoutAccessTokens(t *testing.T) {
	f := newRevocation(t, auth.NewMemoryDenylist(), false, nil)
	access, refresh := f.login(t, "web")
	res := f.revoke(t, form("token", access, "client_id", "web"), nil)
	if res.status != http.StatusBadRequest || res.str("error") != "unsupported_token_type" {
		t.Errorf("access token: %d %s, want 400 unsupported_token_type", res.status, res.raw)
	}
	if _, err := f.access.Verify(context.Background(), access); err != nil {
		t.Errorf("the access token was revoked: %v", err)
	}
	if res := f.revoke(t, form("token", refresh, "client_id", "web"), nil); res.status != http.StatusOK {
		t.Errorf("refresh token: %d %s", res.status, res.raw)
	}
	if f.refreshes(t, "web", refresh) {
		t.Error("the revoked refresh token still refreshes")
	}
}

// downRefreshStore is a RefreshStore whose Lookup fails once down is set.
type downRefreshStore struct {
	auth.RefreshStore
	down bool
}

func (s *downRefreshStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	if s.down {
		return auth.RefreshToken{}, false, errors.New("down")
	}
	return s.RefreshStore.Lookup(ctx, hash)
}

// A store that cannot answer is 503 with Retry-After (RFC 7009 §2.2.1:
// the client must assume the token still exists and retry), for refresh
// tokens and for access tokens on a denylist that is down.
func TestRevocationEndpointStoreDown(t *testing.T) {
	store := &downRefreshStore{RefreshStore: auth.NewMemoryRefreshStore()}
	f := newRevocation(t, failingDenylist{}, true, func(o *auth.TokenEndpointOptions) { o.RefreshStore = store })
	// The access token cannot be verified on a denylist that is down, but
	// the endpoint can issue one.
	access, refresh := f.login(t, "web")
	store.down = true
	for name, tok := range map[string]string{"refresh": refresh, "access": access} {
		res := f.revoke(t, form("token", tok, "client_id", "web"), nil)
		if res.status != http.StatusServiceUnavailable || res.str("error") != "temporarily_unavailable" || res.header.Get("Retry-After") == "" || !errors.Is(res.reason, auth.ErrUnavailable) {
			t.Errorf("%s: %d %s %v (reason %v), want 503 with Retry-After", name, res.status, res.raw, res.header, res.reason)
		}
	}
}

func TestNewRevocationEndpointRefusesWhatCannotRevoke(t *testing.T) {
	f := newOAuth(t, nil)
	k := keysOnce()
	noAudIssuer, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.ed}, Issuer: "https://issuer.example"})
	if err != nil {
		t.Fatal(err)
	}
	noAud := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Issuer = noAudIssuer })
	verifier := func(o auth.JWTOptions) *auth.JWT {
		m, err := auth.NewJWT(o)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	good := auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{f.issuer.VerificationKey()}, Issuer: "https://issuer.example", Denylist: auth.NewMemoryDenylist()}
	with := func(mod func(*auth.JWTOptions)) *auth.JWT {
		o := good
		mod(&o)
		return verifier(o)
	}
	tests := []struct {
		name string
		o    auth.RevocationEndpointOptions
		want string
	}{
		{"no token endpoint", auth.RevocationEndpointOptions{}, "TokenEndpoint is required"},
		{"a zero token endpoint", auth.RevocationEndpointOptions{TokenEndpoint: &auth.TokenEndpoint{}}, "TokenEndpoint is required"},
		{"a zero verifier", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: &auth.JWT{}}, "not configured"},
		{"a verifier without a denylist", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Denylist = nil })}, "no Denylist"},
		{"a verifier of another issuer", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Issuer = "https://other.example" })}, `requires iss "https://other.example"`},
		{"a verifier without an issuer", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Issuer = "" })}, `requires iss ""`},
		{"a verifier of another algorithm", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) {
			o.Algorithms = []string{auth.AlgHS256}
			o.Keys = []auth.Key{{Key: k.hmac}}
		})}, "does not accept EdDSA"},
		// A verifier that refuses every token of the Issuer would answer
		// every revocation 200 and revoke nothing.
		{"a verifier of another audience", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Audience = "api://billing" })}, `aud ["api://orders"]`},
		{"a verifier with an audience, of an Issuer without", auth.RevocationEndpointOptions{TokenEndpoint: noAud.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Audience = "api://orders" })}, "aud []"},
		{"a verifier of another typ", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Type = "JWT" })}, `typ "at+jwt"`},
		{"a verifier of another key", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) {
			o.Keys = []auth.Key{{ID: "ed", Algorithm: auth.AlgEdDSA, Key: k.evilEd.Public()}}
		})}, "no key that verifies"},
		{"a verifier of the key without its ID", auth.RevocationEndpointOptions{TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) {
			o.Keys = []auth.Key{{Algorithm: auth.AlgEdDSA, Key: f.issuer.VerificationKey().Key}}
		})}, "no key that verifies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := auth.NewRevocationEndpoint(tt.o)
			if err == nil || re != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRevocationEndpoint() = %v, %v; want an error mentioning %q", re, err, tt.want)
			}
		})
	}
	for name, o := range map[string]auth.RevocationEndpointOptions{
		"a matching verifier":                               {TokenEndpoint: f.ep, AccessTokens: verifier(good)},
		"a verifier of the Issuer's audience":               {TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Audience = "api://orders" })},
		"a verifier of one of the Issuer's audiences":       {TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Audiences = []string{"api://billing", "api://orders"} })},
		"a verifier without audience, of an Issuer without": {TokenEndpoint: noAud.ep, AccessTokens: verifier(good)},
		"a verifier of the Issuer's typ":                    {TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) { o.Type = "AT+JWT" })},
		"a verifier of the Issuer's key among others": {TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) {
			o.Keys = []auth.Key{{ID: "old", Algorithm: auth.AlgEdDSA, Key: k.evilEd.Public()}, f.issuer.VerificationKey()}
		})},
		// A key set fetched from a URL is not checked: that would take a
		// request at construction.
		"a verifier of a key set URL": {TokenEndpoint: f.ep, AccessTokens: with(func(o *auth.JWTOptions) {
			o.Keys, o.JWKSURL, o.Audience = nil, "https://issuer.example/jwks", "api://orders"
		})},
	} {
		if _, err := auth.NewRevocationEndpoint(o); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The zero RevocationEndpoint, and a nil one, answer 500 server_error
// and revoke nothing.
func TestZeroRevocationEndpoint(t *testing.T) {
	for name, re := range map[string]*auth.RevocationEndpoint{"zero": {}, "nil": nil} {
		res := revokeRaw(t, re, http.MethodPost, "application/x-www-form-urlencoded", "client_id=web&token=x", nil)
		if res.status != http.StatusInternalServerError || res.str("error") != "server_error" {
			t.Errorf("%s: %d %s", name, res.status, res.raw)
		}
	}
}

// FuzzRevocationEndpoint sends arbitrary bodies, media types and
// Authorization values: the answer is 200 with no body or an RFC 6749
// JSON error of the codes RFC 7009 names, always no-store, and the
// fixture's tokens are revoked only by a request that authenticates a
// client and carries them.
func FuzzRevocationEndpoint(f *testing.F) {
	fx := newRevocation(f, auth.NewMemoryDenylist(), true, nil)
	access, refresh := fx.login(f, "web")
	f.Add("client_id=web&token=AAAA", "application/x-www-form-urlencoded", "")
	f.Add("token=a.b.c&token_type_hint=access_token", "application/x-www-form-urlencoded", "Basic Y2xpOmNsaS1zZWNyZXQ=")
	f.Add("client_id=web&token=%zz", "application/x-www-form-urlencoded; charset=utf-8", "")
	f.Add("client_id=cli&token=x&client_secret=guess", "application/x-www-form-urlencoded", "Basic !!")
	f.Add(`{"token":"x"}`, "application/json", "")
	codes := map[string]bool{"invalid_request": true, "invalid_client": true, "unsupported_token_type": true, "temporarily_unavailable": true}
	f.Fuzz(func(t *testing.T, body, ctype, authz string) {
		// The fixture's tokens never appear in a fuzzed body: a request
		// that revoked one would have guessed it.
		if strings.Contains(body, refresh) || strings.Contains(body, access) {
			t.Skip()
		}
		r := httptest.NewRequest(http.MethodPost, "/revoke", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		w := httptest.NewRecorder()
		fx.re.ServeHTTP(w, r)
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("response without Cache-Control: no-store")
		}
		switch w.Code {
		case http.StatusOK:
			if w.Body.Len() != 0 {
				t.Fatalf("200 with a body: %q", w.Body)
			}
			// Only a client that authenticated gets 200: a public
			// client by its ID, cli with its secret.
			id, secret, basic := r.BasicAuth()
			if !basic {
				fm, _ := url.ParseQuery(body)
				id, secret = fm.Get("client_id"), fm.Get("client_secret")
			} else {
				id, _ = url.QueryUnescape(id)
				secret, _ = url.QueryUnescape(secret)
			}
			if !(id == "web" && secret == "") && !(id == "cli" && secret == "cli-secret") {
				t.Fatalf("200 for client %q with secret %q", id, secret)
			}
		default:
			var resp map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatalf("body not JSON: %q", w.Body)
			}
			if code, _ := resp["error"].(string); !codes[code] || w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
				t.Fatalf("%d %v", w.Code, resp)
			}
		}
		if rt, found, err := fx.store.Lookup(context.Background(), auth.HashRefreshToken(refresh)); err != nil || !found || rt.Revoked {
			t.Fatalf("the fixture's refresh token was revoked by %q (found %t, %v)", body, found, err)
		}
		if _, err := fx.access.Verify(context.Background(), access); err != nil {
			t.Fatalf("the fixture's access token was revoked by %q: %v", body, err)
		}
	})
}
