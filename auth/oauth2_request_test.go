package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/internal/problem"
)

// postRaw sends body, as given, to target with the Content-Type ctype
// (none when empty), so that a case can spell a parameter twice in two
// encodings or put parameters in the query string.
func (f *oauthFixture) postRaw(t testing.TB, target, ctype, body string, mod func(*http.Request)) tokenResult {
	t.Helper()
	return serveOAuth(t, f.ep, http.MethodPost, target, ctype, body, mod, true)
}

// serveOAuth sends a request to h, an OAuth2 endpoint, and returns its
// answer with the recorded reason. The body must be JSON when wantJSON
// is set, and is decoded when it is not empty.
func serveOAuth(t testing.TB, h http.Handler, method, target, ctype, body string, mod func(*http.Request), wantJSON bool) tokenResult {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if mod != nil {
		mod(req)
	}
	ctx, reason := problem.WithReason(req.Context())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req.WithContext(ctx))
	res := tokenResult{status: w.Code, header: w.Header(), raw: w.Body.String(), reason: reason.Err()}
	if wantJSON || w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("body is not JSON: %q", w.Body)
		}
	}
	return res
}

// The shape of a token request (RFC 6749 §3.2): a form body, each
// parameter at most once (§3.1), the query string ignored. Each case is an
// attempt to slip a second value of a parameter past the endpoint: an
// empty value beside a real one, a name spelled with a percent escape, a
// semicolon separator, a parameter in the URL, another media type.
func TestTokenEndpointRequestShape(t *testing.T) {
	const (
		urlencoded = "application/x-www-form-urlencoded"
		aliceRO    = "grant_type=password&username=alice&password=correct+horse&client_id=web&scope=orders%3Aread"
	)
	tests := []struct {
		name   string
		target string // default /token
		ctype  string
		body   string
		mod    func(*http.Request)
		status int
		code   string // the OAuth error; "" for 200
		reason error  // wrapped by the reason logged, when not nil
		scope  string // the scope granted, for 200
		sub    string // the access token's subject, for 200
	}{
		// §3.1: parameters sent without a value are omitted, but a name
		// sent twice is refused whatever its values: dropping the empty
		// one first would let "grant_type=&grant_type=password" through.
		{name: "grant_type twice, once empty", ctype: urlencoded,
			body:   "grant_type=&grant_type=password&username=alice&password=correct+horse&client_id=web",
			status: 400, code: "invalid_request"},
		{name: "scope twice, the second empty", ctype: urlencoded,
			body:   aliceRO + "&scope=",
			status: 400, code: "invalid_request"},
		{name: "client_secret twice beside Basic, once empty", ctype: urlencoded,
			body:   "grant_type=password&username=alice&password=correct+horse&client_secret=&client_secret=cli-secret",
			mod:    basicAuth("cli", "cli-secret"),
			status: 400, code: "invalid_request"},
		{name: "client_id twice, once with an escaped underscore", ctype: urlencoded,
			body:   "grant_type=password&username=alice&password=correct+horse&client%5Fid=web&client_id=web",
			status: 400, code: "invalid_request"},
		// A semicolon separates nothing (parameter cloaking): a parser
		// that split on it would read a client_id here.
		{name: "a semicolon before client_id", ctype: urlencoded,
			body:   "grant_type=password&username=alice&password=correct+horse;client_id=web",
			status: 400, code: "invalid_request"},
		// The query string is no source of parameters: credentials never
		// belong in a URL, and a value there must not override or add to
		// the body's.
		{name: "every parameter in the query string", target: "/token?" + aliceRO, ctype: urlencoded,
			status: 401, code: "invalid_client", reason: auth.ErrNoCredentials},
		{name: "a wider scope in the query string", target: "/token?scope=orders%3Awrite", ctype: urlencoded,
			body:   aliceRO,
			status: 200, scope: "orders:read", sub: "alice"},
		{name: "another user in the query string", target: "/token?username=alice&password=correct+horse", ctype: urlencoded,
			body:   "grant_type=password&username=bob&password=battery+staple&client_id=web",
			status: 200, scope: "orders:read", sub: "bob"},
		{name: "the grant type in the query string", target: "/token?grant_type=password", ctype: urlencoded,
			body:   "username=alice&password=correct+horse&client_id=web",
			status: 400, code: "invalid_request"},
		// Only application/x-www-form-urlencoded, in any case, with
		// parameters.
		{name: "no Content-Type", body: aliceRO, status: 400, code: "invalid_request"},
		{name: "text/plain", ctype: "text/plain", body: aliceRO, status: 400, code: "invalid_request"},
		{name: "a form body labelled multipart/form-data", ctype: "multipart/form-data; boundary=b", body: aliceRO, status: 400, code: "invalid_request"},
		{name: "two media types", ctype: urlencoded + ", application/json", body: aliceRO, status: 400, code: "invalid_request"},
		{name: "a charset parameter", ctype: urlencoded + "; charset=UTF-8", body: aliceRO, status: 200, scope: "orders:read", sub: "alice"},
		{name: "the media type in capitals", ctype: "Application/X-WWW-Form-URLEncoded", body: aliceRO, status: 200, scope: "orders:read", sub: "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOAuth(t, nil)
			target := tt.target
			if target == "" {
				target = "/token"
			}
			res := f.postRaw(t, target, tt.ctype, tt.body, tt.mod)
			if res.status != tt.status || res.str("error") != tt.code {
				t.Fatalf("got %d %s, want %d %q (%v)", res.status, res.raw, tt.status, tt.code, res.reason)
			}
			if tt.reason != nil && !errors.Is(res.reason, tt.reason) {
				t.Errorf("reason %v, want %v", res.reason, tt.reason)
			}
			if tt.status != http.StatusOK {
				if res.str("access_token") != "" || res.str("refresh_token") != "" {
					t.Errorf("a refused request got tokens: %s", res.raw)
				}
				return
			}
			if res.str("scope") != tt.scope {
				t.Errorf("scope %q, want %q", res.str("scope"), tt.scope)
			}
			id, err := f.jwt.Verify(context.Background(), res.str("access_token"))
			if err != nil || id.Subject() != tt.sub || strings.Join(id.Scopes(), " ") != tt.scope {
				t.Errorf("access token of %q with %v (%v), want %q with %q", id.Subject(), id.Scopes(), err, tt.sub, tt.scope)
			}
		})
	}
}

// A store that finds a user under several spellings returns the canonical
// name as the Subject, and the tokens carry that, never the spelling the
// client typed: otherwise "ALICE" would get tokens whose sub a handler
// does not take for alice's, or takes for another principal's.
func TestTokenEndpointSubjectIsTheStoresNotTheTypedName(t *testing.T) {
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Users = looseUsers{o.Users} })
	for _, typed := range []string{"ALICE", "Alice  "} {
		login := f.post(t, form("grant_type", "password", "username", typed, "password", "correct horse", "client_id", "web"), nil)
		if login.status != http.StatusOK {
			t.Fatalf("login as %q: %d %s", typed, login.status, login.raw)
		}
		refresh := f.post(t, form("grant_type", "refresh_token", "refresh_token", login.str("refresh_token"), "client_id", "web"), nil)
		if refresh.status != http.StatusOK {
			t.Fatalf("refresh of %q: %d %s", typed, refresh.status, refresh.raw)
		}
		for grant, res := range map[string]tokenResult{"password": login, "refresh_token": refresh} {
			id, err := f.jwt.Verify(context.Background(), res.str("access_token"))
			if err != nil || id.Subject() != "alice" {
				t.Errorf("%s grant as %q: subject %q (%v), want alice", grant, typed, id.Subject(), err)
			}
		}
	}
}

// RFC 6749 §6: the scope asked for at a refresh MUST NOT include any scope
// not originally granted, even one the user and the client both still
// have. The refused request revokes nothing: the token still refreshes
// within its grant.
func TestTokenEndpointRefreshNeverWidensTheFirstGrant(t *testing.T) {
	f := newOAuth(t, nil)
	login := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web", "scope", "orders:read"), nil)
	if login.status != http.StatusOK || login.str("scope") != "orders:read" {
		t.Fatalf("login: %d %s", login.status, login.raw)
	}
	rt := login.str("refresh_token")
	for _, scope := range []string{"orders:write", "orders:read orders:write"} {
		r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web", "scope", scope), nil)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_scope" {
			t.Errorf("refresh asking for %q: %d %s, want 400 invalid_scope", scope, r.status, r.raw)
		}
	}
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"), nil)
	if r.status != http.StatusOK || r.str("scope") != "orders:read" {
		t.Errorf("refresh within the grant: %d %s, want 200 with orders:read", r.status, r.raw)
	}
}

// RFC 6749 §5.2 names the error of a request that "includes multiple
// credentials, utilizes more than one mechanism for authenticating the
// client": invalid_request, a 400, not invalid_client. The endpoint
// refused such requests, but with 401 invalid_client and a Basic
// challenge, which tells a client that its credentials were wrong and
// asks it to send them again, when they may be right and the request is
// what is malformed (found in review). No client is authenticated, and
// no secret is verified, for any of them.
func TestTokenEndpointTwoClientAuthenticationsAreInvalidRequest(t *testing.T) {
	const pw = "grant_type=password&username=alice&password=correct+horse"
	tests := []struct {
		name string
		body string
		mod  func(*http.Request)
	}{
		{"Basic and client_secret in the body, both right", pw + "&client_secret=cli-secret", basicAuth("cli", "cli-secret")},
		{"Basic and client_secret in the body, the body's wrong", pw + "&client_secret=wrong", basicAuth("cli", "cli-secret")},
		{"Basic for one client and client_id for another", pw + "&client_id=web", basicAuth("cli", "cli-secret")},
		{"two Authorization headers", pw, func(r *http.Request) {
			basicAuth("cli", "cli-secret")(r)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOAuth(t, nil)
			res := f.postRaw(t, "/token", "application/x-www-form-urlencoded", tt.body, tt.mod)
			if res.status != http.StatusBadRequest || res.str("error") != "invalid_request" {
				t.Fatalf("got %d %s (%v), want 400 invalid_request", res.status, res.raw, res.reason)
			}
			if h := res.header.Get("WWW-Authenticate"); h != "" {
				t.Errorf("a 400 with a challenge: %q", h)
			}
			if !errors.Is(res.reason, auth.ErrTokenTwoClientAuth) {
				t.Errorf("reason %v, want the request's two client authentications", res.reason)
			}
		})
	}
}
