package httpguard_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard"
	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/https"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/rbac"
	"github.com/httpguard/httpguard/sanitize"
	"github.com/httpguard/httpguard/session"
)

// rejectionCase is one default rejection of one middleware, provoked by
// req against the handler build returns.
type rejectionCase struct {
	name string
	// build returns the middleware under test around a handler that
	// answers 200 "reached".
	build func(t *testing.T) http.Handler
	// req builds the provoking request for method (the case's own, or
	// HEAD) against base.
	req    func(method, base string) *http.Request
	method string
	status int
	// head: a HEAD request is rejected the same way.
	head bool
	// challenge is the expected prefix of WWW-Authenticate; "" means the
	// response must not carry one.
	challenge string
	// oauth: an RFC 6749 §5.2 JSON error instead of a problem document.
	oauth bool
	// stackedOnly: the rejection is errorsafe's own (or written by
	// something only errorsafe turns into a problem).
	stackedOnly bool
	// setup runs once against base before the requests (a request that
	// spends a limit, one that holds a slot).
	setup func(t *testing.T, base string)
	// pair names a group of cases whose responses must be identical:
	// "user unknown" and "wrong password".
	pair string
}

func reached(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "reached") }

// The default rejection of every middleware, alone and behind errorsafe
// and headers as in the README's stack: the status; a problem document
// (RFC 6749 JSON at the token endpoint) with no-store, nosniff and a
// Content-Length that matches; title and status of the status code and
// nothing else from the request or the code; the request ID when
// errorsafe is outside and the security headers when headers is;
// Retry-After on 429 and 503; WWW-Authenticate on every 401 and nowhere
// else but insufficient_scope; HEAD answered with the same header and no
// body; and "user unknown" answered exactly as "wrong password".
func TestEveryRejectionIsConsistent(t *testing.T) {
	t.Parallel()
	cases := rejectionCases(t)
	pairs := map[string][]string{} // pair -> normalized responses
	var pairsMu sync.Mutex
	for _, stacked := range []bool{false, true} {
		for _, tc := range cases {
			if tc.stackedOnly && !stacked {
				continue
			}
			name := tc.name
			if stacked {
				name += " behind errorsafe and headers"
			}
			t.Run(name, func(t *testing.T) {
				h := tc.build(t)
				if stacked {
					es := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
					sec, err := headers.New(headers.API())
					if err != nil {
						t.Fatal(err)
					}
					h = httpguard.Chain(es.Handler, sec.Handler)(h)
				}
				srv := httptest.NewServer(h)
				t.Cleanup(srv.Close)
				if tc.setup != nil {
					tc.setup(t, srv.URL)
				}
				client := srv.Client()
				client.CheckRedirect = noRedirects
				res, body := doRejection(t, client, tc.req(tc.method, srv.URL))
				checkRejection(t, tc, stacked, res, body)
				if tc.pair != "" {
					pairsMu.Lock()
					key := tc.pair + strconv.FormatBool(stacked)
					pairs[key] = append(pairs[key], normalized(res, body))
					pairsMu.Unlock()
				}
				if !tc.head {
					return
				}
				hres, hbody := doRejection(t, client, tc.req(http.MethodHead, srv.URL))
				if len(hbody) != 0 {
					t.Errorf("HEAD: body %q, want none", hbody)
				}
				if hres.StatusCode != res.StatusCode {
					t.Errorf("HEAD: status %d, %s gets %d", hres.StatusCode, tc.method, res.StatusCode)
				}
				for _, k := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Content-Length", "Www-Authenticate", "Retry-After", "Content-Security-Policy"} {
					if hres.Header.Get(k) != res.Header.Get(k) {
						t.Errorf("HEAD: %s %q, %s gets %q", k, hres.Header.Get(k), tc.method, res.Header.Get(k))
					}
				}
			})
		}
	}
	t.Cleanup(func() {
		for key, got := range pairs {
			for _, g := range got[1:] {
				if g != got[0] {
					t.Errorf("%s: the pair is answered differently:\n%s\n%s", key, got[0], g)
				}
			}
		}
	})
}

func doRejection(t *testing.T, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// normalized renders res without what differs per request.
func normalized(res *http.Response, body []byte) string {
	h := res.Header.Clone()
	h.Del("Date")
	h.Del("X-Request-Id")
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		delete(m, "request_id")
		body, _ = json.Marshal(m)
	}
	var b strings.Builder
	b.WriteString(res.Status + "\n")
	_ = h.Write(&b)
	b.Write(body)
	return b.String()
}

// leaks are substrings no rejection body may contain: Go error text,
// package prefixes, file paths, panic values and the secrets the
// requests carry.
var leaks = []string{"panic", "goroutine", ".go", "auth:", "session:", "csrf:", "cors:", "rbac:", "ratelimit:",
	"sanitize:", "https:", "headers:", "errorsafe:", "/", "alice", "mallory", "hunter2", "wrong", "evil", "secret", "boom"}

func checkRejection(t *testing.T, tc rejectionCase, stacked bool, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode != tc.status {
		t.Fatalf("status %d, want %d (body %q)", res.StatusCode, tc.status, body)
	}
	wantCT := "application/problem+json"
	if tc.oauth {
		wantCT = "application/json;charset=UTF-8"
	}
	for k, want := range map[string]string{
		"Content-Type":           wantCT,
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         strconv.Itoa(len(body)),
	} {
		if got := res.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s %q, want %q", k, got, want)
		}
	}
	if tc.oauth && res.Header.Get("Pragma") != "no-cache" {
		t.Errorf("Pragma %q, want no-cache on a token endpoint error", res.Header.Get("Pragma"))
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, body)
	}
	if tc.oauth {
		if e, _ := m["error"].(string); e == "" {
			t.Errorf("no error member: %s", body)
		}
	} else {
		if m["type"] != "about:blank" || m["title"] != http.StatusText(tc.status) || m["status"] != float64(tc.status) {
			t.Errorf("type, title, status %v %v %v; want about:blank, %q, %d", m["type"], m["title"], m["status"], http.StatusText(tc.status), tc.status)
		}
		if stacked {
			if id := res.Header.Get("X-Request-Id"); id == "" || m["request_id"] != id {
				t.Errorf("request_id %v, X-Request-ID %q; want the same ID in both", m["request_id"], id)
			}
		}
	}
	for k := range m {
		switch k {
		case "type", "title", "status", "request_id", "error", "error_description":
		case "detail", "errors":
			if tc.status != http.StatusUnprocessableEntity {
				t.Errorf("member %q on a %d: %s", k, tc.status, body)
			}
		default:
			t.Errorf("unexpected member %q: %s", k, body)
		}
	}
	text := string(body)
	if id, ok := m["request_id"].(string); ok {
		text = strings.ReplaceAll(text, id, "")
	}
	for _, s := range leaks {
		if strings.Contains(strings.ToLower(text), s) {
			t.Errorf("body contains %q: %s", s, body)
		}
	}
	switch tc.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("Retry-After %q, want a delay in seconds on a %d", res.Header.Get("Retry-After"), tc.status)
		}
	}
	chal := res.Header.Values("Www-Authenticate")
	switch {
	case tc.challenge == "" && len(chal) != 0:
		t.Errorf("WWW-Authenticate %q on a %d", chal, tc.status)
	case tc.challenge != "" && (len(chal) != 1 || !strings.HasPrefix(chal[0], tc.challenge)):
		t.Errorf("WWW-Authenticate %q, want one starting with %q", chal, tc.challenge)
	}
	if tc.status == http.StatusUnauthorized && tc.challenge == "" {
		t.Errorf("a 401 case without a challenge")
	}
	if stacked {
		for _, k := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
			if res.Header.Get(k) == "" {
				t.Errorf("security header %s missing", k)
			}
		}
	}
}

func newReq(method, target string, body io.Reader, hdr ...string) *http.Request {
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// failingStore is a session store that cannot answer.
type failingStore struct{}

var errStoreDown = errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")

func (failingStore) Find(context.Context, string) (session.Record, bool, error) {
	return session.Record{}, false, errStoreDown
}
func (failingStore) Commit(context.Context, session.Record) (string, error) { return "", errStoreDown }
func (failingStore) Delete(context.Context, session.Record) error           { return errStoreDown }

func rejectionCases(t *testing.T) []rejectionCase {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	ok := http.HandlerFunc(reached)

	users := auth.NewMemoryUsers()
	hash, err := cheapHasher.Hash("correct horse")
	must(err)
	must(users.Add("alice", auth.User{Hash: hash}))
	basic, err := auth.NewBasic(auth.BasicOptions{Users: users, Hasher: cheapHasher})
	must(err)

	keys := auth.NewMemoryAPIKeys()
	key, err := auth.GenerateAPIKey("")
	must(err)
	must(keys.Add(key.ID, auth.StoredAPIKey{Hash: key.Hash}))
	apiKey, err := auth.NewAPIKey(auth.APIKeyOptions{Keys: keys})
	must(err)
	other, err := auth.GenerateAPIKey("")
	must(err)
	wrongSecret := key.Key[:len(key.Key)-52] + other.Key[len(other.Key)-52:]

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "ed", Algorithm: auth.AlgEdDSA, Key: priv}, Issuer: "https://auth.example", Audience: []string{"api"}})
	must(err)
	bearer, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{auth.AlgEdDSA}, Keys: []auth.Key{iss.VerificationKey()}, Issuer: "https://auth.example", Audience: "api"})
	must(err)
	tok, err := iss.Issue(context.Background(), auth.Grant{Subject: "alice", Scopes: []string{"read"}})
	must(err)

	tokens, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer: iss, Users: users, Hasher: cheapHasher,
		Clients: []auth.Client{{ID: "web", Public: true, Grants: []string{auth.GrantPassword}}},
	})
	must(err)
	tokenPost := func(form url.Values) func(string, string) *http.Request {
		return func(method, base string) *http.Request {
			return newReq(method, base+"/token", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		}
	}

	policy, err := rbac.NewPolicy(rbac.Role{Name: "member", Permissions: []string{"data:read"}})
	must(err)
	guard, err := rbac.New(rbac.Options{Policy: policy})
	must(err)
	withIdentity := func(roles ...string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := identity.New(identity.Options{Subject: "alice", Roles: roles})
				next.ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), id)))
			})
		}
	}

	get := func(path string, hdr ...string) func(string, string) *http.Request {
		return func(method, base string) *http.Request { return newReq(method, base+path, nil, hdr...) }
	}
	post := func(path, ct, body string, hdr ...string) func(string, string) *http.Request {
		return func(method, base string) *http.Request {
			return newReq(method, base+path, strings.NewReader(body), append([]string{"Content-Type", ct}, hdr...)...)
		}
	}

	return []rejectionCase{
		{
			name:  "Basic without credentials",
			build: func(*testing.T) http.Handler { return basic.Handler(ok) },
			req:   get("/"), method: "GET", status: 401, head: true, challenge: `Basic realm=`,
		},
		{
			name:  "Basic with an unknown user",
			build: func(*testing.T) http.Handler { return basic.Handler(ok) },
			req:   get("/", "Authorization", basicHeader("mallory", "hunter2")), method: "GET", status: 401, head: true, challenge: `Basic realm=`,
			pair: "basic",
		},
		{
			name:  "Basic with a wrong password",
			build: func(*testing.T) http.Handler { return basic.Handler(ok) },
			req:   get("/", "Authorization", basicHeader("alice", "hunter2")), method: "GET", status: 401, head: true, challenge: `Basic realm=`,
			pair: "basic",
		},
		{
			name:  "API key missing",
			build: func(*testing.T) http.Handler { return apiKey.Handler(ok) },
			req:   get("/"), method: "GET", status: 401, head: true, challenge: `ApiKey realm=`,
		},
		{
			name:  "API key unknown",
			build: func(*testing.T) http.Handler { return apiKey.Handler(ok) },
			req:   get("/", "X-API-Key", other.Key), method: "GET", status: 401, head: true, challenge: `ApiKey realm=`,
			pair: "apikey",
		},
		{
			name:  "API key with a wrong secret",
			build: func(*testing.T) http.Handler { return apiKey.Handler(ok) },
			req:   get("/", "X-API-Key", wrongSecret), method: "GET", status: 401, head: true, challenge: `ApiKey realm=`,
			pair: "apikey",
		},
		{
			name:  "bearer token missing",
			build: func(*testing.T) http.Handler { return bearer.Handler(ok) },
			req:   get("/"), method: "GET", status: 401, head: true, challenge: `Bearer realm=`,
		},
		{
			name:  "bearer token invalid",
			build: func(*testing.T) http.Handler { return bearer.Handler(ok) },
			req:   get("/", "Authorization", "Bearer "+tok.Token+"x"), method: "GET", status: 401, head: true, challenge: `Bearer realm="api", error="invalid_token"`,
		},
		{
			name:  "bearer token without the scope",
			build: func(*testing.T) http.Handler { return bearer.Handler(auth.RequireScopes("write")(ok)) },
			req:   get("/", "Authorization", "Bearer "+tok.Token), method: "GET", status: 403, head: true, challenge: `Bearer realm="api", error="insufficient_scope"`,
		},
		{
			name:   "token endpoint, unknown client",
			build:  func(*testing.T) http.Handler { return tokens },
			req:    tokenPost(url.Values{"grant_type": {"password"}, "client_id": {"evil"}, "username": {"alice"}, "password": {"hunter2"}}),
			method: "POST", status: 401, oauth: true, challenge: `Basic realm="token"`,
		},
		{
			name:   "token endpoint, unknown user",
			build:  func(*testing.T) http.Handler { return tokens },
			req:    tokenPost(url.Values{"grant_type": {"password"}, "client_id": {"web"}, "username": {"mallory"}, "password": {"hunter2"}}),
			method: "POST", status: 400, oauth: true, pair: "token",
		},
		{
			name:   "token endpoint, wrong password",
			build:  func(*testing.T) http.Handler { return tokens },
			req:    tokenPost(url.Values{"grant_type": {"password"}, "client_id": {"web"}, "username": {"alice"}, "password": {"hunter2"}}),
			method: "POST", status: 400, oauth: true, pair: "token",
		},
		{
			name:  "token endpoint, GET",
			build: func(*testing.T) http.Handler { return tokens },
			req:   get("/token"), method: "GET", status: 405, oauth: true,
		},
		{
			name:  "rbac without the permission",
			build: func(*testing.T) http.Handler { return withIdentity("guest")(guard.Require("data:read")(ok)) },
			req:   get("/"), method: "GET", status: 403, head: true,
		},
		{
			name:  "rbac without an identity",
			build: func(*testing.T) http.Handler { return guard.Require("data:read")(ok) },
			req:   get("/"), method: "GET", status: 401, head: true, challenge: "Bearer",
		},
		{
			name: "rbac whose RolesFor fails",
			build: func(*testing.T) http.Handler {
				g, err := rbac.New(rbac.Options{Policy: policy, RolesFor: func(*http.Request, identity.Identity) ([]string, error) {
					return nil, errors.New("dial tcp 10.0.0.5:5432: connection refused")
				}})
				must(err)
				return withIdentity("member")(g.Require("data:read")(ok))
			},
			req: get("/"), method: "GET", status: 503, head: true,
		},
		{
			name: "csrf, a cross-site POST",
			build: func(t *testing.T) http.Handler {
				p, err := csrf.New(csrf.Options{})
				must(err)
				return p.Handler(ok)
			},
			req:    post("/", "application/x-www-form-urlencoded", "a=b", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"),
			method: "POST", status: 403,
		},
		{
			name: "cors, a refused preflight",
			build: func(t *testing.T) http.Handler {
				c, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
				must(err)
				return c.Handler(ok)
			},
			req:    get("/", "Origin", "https://evil.example", "Access-Control-Request-Method", "PUT"),
			method: "OPTIONS", status: 403,
		},
		{
			name: "headers, a host not allowed",
			build: func(t *testing.T) http.Handler {
				m, err := headers.New(headers.Options{AllowedHosts: []string{"app.example.com"}})
				must(err)
				return m.Handler(ok)
			},
			req: get("/"), method: "GET", status: 400, head: true,
		},
		{
			name: "https redirect, a form over plain HTTP",
			build: func(t *testing.T) http.Handler {
				rd, err := https.NewRedirect(https.RedirectOptions{Host: "app.example.com"})
				must(err)
				return rd.Handler(ok)
			},
			req: post("/login", "application/x-www-form-urlencoded", "password=hunter2"), method: "POST", status: 400,
		},
		{
			name:  "sanitize.BodyLimit, too large",
			build: func(t *testing.T) http.Handler { return bodyLimit(t, sanitize.BodyOptions{MaxBytes: 8}).Handler(ok) },
			req:   post("/", "application/json", `{"password":"hunter2"}`), method: "POST", status: 413,
		},
		{
			name:  "sanitize.BodyLimit, wrong media type",
			build: func(t *testing.T) http.Handler { return bodyLimit(t, sanitize.BodyOptions{}).Handler(ok) },
			req:   post("/", "text/evil", `hunter2`), method: "POST", status: 415,
		},
		{
			name:  "sanitize.DecodeJSON, malformed",
			build: func(t *testing.T) http.Handler { return decodeHandler() },
			req:   post("/", "application/json", `{"name":"hunter2"`), method: "POST", status: 400,
		},
		{
			name:  "sanitize.DecodeJSON, an unknown field",
			build: func(t *testing.T) http.Handler { return decodeHandler() },
			req:   post("/", "application/json", `{"name":"alice","secret":"hunter2"}`), method: "POST", status: 400,
		},
		{
			name:  "sanitize.DecodeJSON, invalid fields",
			build: func(t *testing.T) http.Handler { return decodeHandler() },
			req:   post("/", "application/json", `{"name":""}`), method: "POST", status: 422,
		},
		{
			name: "ratelimit, over the limit",
			build: func(t *testing.T) http.Handler {
				m, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{{Name: "ip", Rate: 1, Period: time.Hour}}})
				must(err)
				return m.Handler(ok)
			},
			setup: func(t *testing.T, base string) {
				res, err := http.Get(base + "/")
				must(err)
				res.Body.Close()
			},
			req: get("/"), method: "GET", status: 429, head: true,
		},
		{
			name:  "ratelimit, too many in flight",
			build: func(t *testing.T) http.Handler { return overloaded(t) },
			setup: func(t *testing.T, base string) {
				go func() {
					res, err := http.Get(base + "/hold")
					if err == nil {
						res.Body.Close()
					}
				}()
				waitHeld(t, base)
			},
			req: get("/"), method: "GET", status: 503, head: true,
		},
		{
			name: "session, the store fails",
			build: func(t *testing.T) http.Handler {
				m, err := session.New(session.Options{Store: failingStore{}})
				must(err)
				return m.Handler(ok)
			},
			req: get("/", "Cookie", "__Host-session="+strings.Repeat("A", 43)), method: "GET", status: 503, head: true,
		},
		{
			name: "errorsafe, a panic",
			build: func(*testing.T) http.Handler {
				return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom at /srv/app/main.go:12") })
			},
			req: get("/"), method: "GET", status: 500, head: true, stackedOnly: true,
		},
		{
			name: "errorsafe, a request timeout",
			build: func(*testing.T) http.Handler {
				slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				})
				return http.TimeoutHandler(slow, 20*time.Millisecond, "")
			},
			req: get("/"), method: "GET", status: 503, head: true, stackedOnly: true,
		},
	}
}

type decodeTarget struct {
	Name string `json:"name" validate:"required"`
}

func decodeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := sanitize.DecodeJSON[decodeTarget](nil, w, r); err != nil {
			return
		}
		reached(w, r)
	})
}

// overloaded is a ConcurrencyLimiter of one in front of a handler whose
// /hold route waits until the test ends, and a /held route outside the
// limiter that answers once /hold is being served.
func overloaded(t *testing.T) http.Handler {
	c, err := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 1, RetryAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	held := make(chan struct{})
	var once sync.Once
	limited := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			once.Do(func() {
				// Registered now, after the server's Close, so that it
				// runs before it.
				t.Cleanup(func() { close(release) })
				close(held)
			})
			<-release
			return
		}
		reached(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			<-held
			return
		}
		limited.ServeHTTP(w, r)
	})
}

func waitHeld(t *testing.T, base string) {
	t.Helper()
	res, err := http.Get(base + "/held")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func bodyLimit(t *testing.T, o sanitize.BodyOptions) *sanitize.BodyLimit {
	m, err := sanitize.NewBodyLimit(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every OnReject is called with the reason already recorded for the
// access log, as auth, rbac and csrf documented: headers, https, cors,
// ratelimit, sanitize and session called a custom OnReject before
// recording it, so the access log of such a rejection had no reason.
func TestCustomOnRejectSeesTheReason(t *testing.T) {
	t.Parallel()
	type onReject = func(http.ResponseWriter, *http.Request, error)
	ok := http.HandlerFunc(reached)
	cases := []struct {
		name  string
		build func(t *testing.T, f onReject) http.Handler
		req   *http.Request
		calls int // requests to send; the last one is refused
	}{
		{"headers", func(t *testing.T, f onReject) http.Handler {
			m, err := headers.New(headers.Options{AllowedHosts: []string{"app.example.com"}, OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return m.Handler(ok)
		}, newReq("GET", "http://evil.example/", nil), 1},
		{"headers report handler", func(t *testing.T, f onReject) http.Handler {
			m, err := headers.NewReportHandler(headers.ReportOptions{OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}, newReq("GET", "http://app.example/", nil), 1},
		{"https", func(t *testing.T, f onReject) http.Handler {
			rd, err := https.NewRedirect(https.RedirectOptions{Host: "app.example.com", OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return rd.Handler(ok)
		}, newReq("POST", "http://app.example.com/", strings.NewReader("a=b")), 1},
		{"cors", func(t *testing.T, f onReject) http.Handler {
			c, err := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}, OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return c.Handler(ok)
		}, newReq("OPTIONS", "http://api.example.com/", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "PUT"), 1},
		{"ratelimit", func(t *testing.T, f onReject) http.Handler {
			m, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{{Name: "ip", Rate: 1, Period: time.Hour}}, OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return m.Handler(ok)
		}, newReq("GET", "http://api.example.com/", nil), 2},
		{"sanitize.BodyLimit", func(t *testing.T, f onReject) http.Handler {
			return bodyLimit(t, sanitize.BodyOptions{OnReject: f}).Handler(ok)
		}, newReq("POST", "http://api.example.com/", strings.NewReader("x"), "Content-Type", "text/plain"), 1},
		{"sanitize.Decoder", func(t *testing.T, f onReject) http.Handler {
			d, err := sanitize.New(sanitize.Options{OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = sanitize.DecodeJSON[decodeTarget](d, w, r)
			})
		}, newReq("POST", "http://api.example.com/", strings.NewReader("{"), "Content-Type", "application/json"), 1},
		{"session", func(t *testing.T, f onReject) http.Handler {
			m, err := session.New(session.Options{Store: failingStore{}, OnReject: f})
			if err != nil {
				t.Fatal(err)
			}
			return m.Handler(ok)
		}, newReq("GET", "http://app.example.com/", nil, "Cookie", "__Host-session="+strings.Repeat("A", 43)), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen error
			called := false
			f := func(w http.ResponseWriter, r *http.Request, err error) {
				called = true
				seen = errorsafe.RejectReason(r)
				w.WriteHeader(http.StatusTeapot)
			}
			es := errorsafe.MustNew(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
			h := es.Handler(tc.build(t, f))
			for range tc.calls {
				h.ServeHTTP(httptest.NewRecorder(), tc.req.Clone(context.Background()))
			}
			if !called || seen == nil {
				t.Errorf("OnReject called %v, reason recorded before it: %v; want a reason", called, seen)
			}
		})
	}
}

// A handler that returns a store failure of any package (saving a session,
// checking a password in a custom login, a rate limit's Redis) gets from
// errorsafe the 503 with Retry-After that the package itself answers such
// a failure with, not a 500.
func TestStoreFailuresReturnedByHandlersAre503(t *testing.T) {
	for _, sentinel := range []error{session.ErrStore, auth.ErrUnavailable, ratelimit.ErrStore, rbac.ErrRolesUnavailable} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			m, err := errorsafe.New(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			m.Handler(errorsafe.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				return fmt.Errorf("save: %w: %w", sentinel, errors.New("dial tcp 10.0.0.5:6379: connection refused"))
			})).ServeHTTP(rec, httptest.NewRequest("POST", "/cart", nil))
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), "6379") {
				t.Errorf("body leaks the cause: %s", rec.Body)
			}
		})
	}
}
