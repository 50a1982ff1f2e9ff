package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

func TestResourceMetadataDocument(t *testing.T) {
	hmacJWT := func(more ...func(*auth.JWTOptions)) *auth.JWT {
		o := auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}}}
		for _, f := range more {
			f(&o)
		}
		return newJWT(t, o)
	}
	tests := []struct {
		name      string
		opts      auth.ResourceMetadataOptions
		path, url string
		doc       string
	}{
		{"a host alone", auth.ResourceMetadataOptions{Resource: "https://api.example.com"},
			"/.well-known/oauth-protected-resource", "https://api.example.com/.well-known/oauth-protected-resource",
			`{"resource":"https://api.example.com"}`},
		{"a path, its terminating slash removed (RFC 9728 §3.1)", auth.ResourceMetadataOptions{Resource: "https://example.com:8443/api/v1/"},
			"/.well-known/oauth-protected-resource/api/v1", "https://example.com:8443/.well-known/oauth-protected-resource/api/v1",
			`{"resource":"https://example.com:8443/api/v1/"}`},
		{"every field", auth.ResourceMetadataOptions{
			Resource:              "https://api.example.com",
			AuthorizationServers:  []string{"https://auth.example.com", "https://example.com/tenant/1"},
			ScopesSupported:       []string{"items:read", "users:delete"},
			ResourceName:          "Orders API ✓",
			ResourceDocumentation: "https://example.com/docs",
			ResourcePolicyURI:     "https://example.com/privacy",
			ResourceTOSURI:        "https://example.com/tos",
			JWT:                   hmacJWT(),
		}, "/.well-known/oauth-protected-resource", "https://api.example.com/.well-known/oauth-protected-resource",
			`{"resource":"https://api.example.com","authorization_servers":["https://auth.example.com","https://example.com/tenant/1"],` +
				`"scopes_supported":["items:read","users:delete"],"bearer_methods_supported":["header"],"resource_name":"Orders API ✓",` +
				`"resource_documentation":"https://example.com/docs","resource_policy_uri":"https://example.com/privacy","resource_tos_uri":"https://example.com/tos"}`},
		{"a JWT that reads the query string", auth.ResourceMetadataOptions{Resource: "https://api.example.com",
			JWT: hmacJWT(func(o *auth.JWTOptions) { o.DangerouslyAllowQueryToken = true })}, "", "",
			`{"resource":"https://api.example.com","bearer_methods_supported":["header","query"]}`},
		{"a JWT that takes DPoP too", auth.ResourceMetadataOptions{Resource: "https://api.example.com",
			JWT: hmacJWT(func(o *auth.JWTOptions) { o.DPoP = &auth.DPoPOptions{Algorithms: []string{"ES256", "EdDSA"}} })}, "", "",
			`{"resource":"https://api.example.com","bearer_methods_supported":["header"],"dpop_signing_alg_values_supported":["ES256","EdDSA"]}`},
		{"a JWT that takes DPoP only: no bearer method", auth.ResourceMetadataOptions{Resource: "https://api.example.com",
			JWT: hmacJWT(func(o *auth.JWTOptions) {
				o.DangerouslyAllowQueryToken = true
				o.DPoP = &auth.DPoPOptions{Required: true, Algorithms: []string{"ES256"}}
			})}, "", "",
			`{"resource":"https://api.example.com","bearer_methods_supported":[],"dpop_signing_alg_values_supported":["ES256"],"dpop_bound_access_tokens_required":true}`},
		{"http, dangerously", auth.ResourceMetadataOptions{Resource: "http://127.0.0.1:8080", DangerouslyAllowHTTP: true,
			AuthorizationServers: []string{"http://127.0.0.1:8080"}},
			"/.well-known/oauth-protected-resource", "http://127.0.0.1:8080/.well-known/oauth-protected-resource",
			`{"resource":"http://127.0.0.1:8080","authorization_servers":["http://127.0.0.1:8080"]}`},
		{"an IPv6 literal", auth.ResourceMetadataOptions{Resource: "https://[2001:db8::1]:8443/api"},
			"/.well-known/oauth-protected-resource/api", "https://[2001:db8::1]:8443/.well-known/oauth-protected-resource/api",
			`{"resource":"https://[2001:db8::1]:8443/api"}`},
		{"an IPv6 literal with a zone, its host kept encoded", auth.ResourceMetadataOptions{Resource: "https://[fe80::1%25en0]:8443/api"},
			"/.well-known/oauth-protected-resource/api", "https://[fe80::1%25en0]:8443/.well-known/oauth-protected-resource/api",
			`{"resource":"https://[fe80::1%25en0]:8443/api"}`},
		{"a percent-encoded path stays encoded", auth.ResourceMetadataOptions{Resource: "https://example.com/a%2Fb"},
			"/.well-known/oauth-protected-resource/a%2Fb", "https://example.com/.well-known/oauth-protected-resource/a%2Fb",
			`{"resource":"https://example.com/a%2Fb"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := auth.NewResourceMetadata(tt.opts)
			if err != nil {
				t.Fatalf("NewResourceMetadata: %v", err)
			}
			if got := string(m.Document()); got != tt.doc {
				t.Errorf("document\n%s\nwant\n%s", got, tt.doc)
			}
			if tt.path != "" && (m.Path() != tt.path || m.URL() != tt.url) {
				t.Errorf("Path %q, URL %q; want %q, %q", m.Path(), m.URL(), tt.path, tt.url)
			}
			if u, err := auth.ResourceMetadataURL(tt.opts.Resource); err != nil || u != m.URL() {
				t.Errorf("ResourceMetadataURL = %q, %v; want %q", u, err, m.URL())
			}
		})
	}
}

// The options are copied: changing the caller's slices afterwards
// changes nothing served.
func TestResourceMetadataCopiesOptions(t *testing.T) {
	o := auth.ResourceMetadataOptions{Resource: "https://api.example.com", AuthorizationServers: []string{"https://auth.example.com"}, ScopesSupported: []string{"a"}}
	m, err := auth.NewResourceMetadata(o)
	if err != nil {
		t.Fatal(err)
	}
	o.AuthorizationServers[0], o.ScopesSupported[0] = "https://evil.example", "b"
	doc := m.Document()
	doc[0] = 'X'
	if got := string(m.Document()); strings.Contains(got, "evil") || !strings.HasPrefix(got, `{"resource"`) {
		t.Errorf("document changed with the caller's slices: %s", got)
	}
}

func TestNewResourceMetadataRefusesUnsafeOptions(t *testing.T) {
	ok := "https://api.example.com"
	tests := []struct {
		name string
		opts auth.ResourceMetadataOptions
		want string
	}{
		{"no resource", auth.ResourceMetadataOptions{}, "Resource"},
		{"a relative resource", auth.ResourceMetadataOptions{Resource: "/api"}, "Resource"},
		{"an http resource (RFC 9728 §1.2)", auth.ResourceMetadataOptions{Resource: "http://api.example.com"}, "https"},
		{"another scheme", auth.ResourceMetadataOptions{Resource: "ftp://api.example.com"}, "https"},
		{"a fragment", auth.ResourceMetadataOptions{Resource: ok + "/#x"}, "fragment"},
		{"an empty fragment", auth.ResourceMetadataOptions{Resource: ok + "#"}, "fragment"},
		{"a query", auth.ResourceMetadataOptions{Resource: ok + "/?a=b"}, "query"},
		{"an empty query", auth.ResourceMetadataOptions{Resource: ok + "/?"}, "query"},
		{"user info", auth.ResourceMetadataOptions{Resource: "https://user@api.example.com"}, "user info"},
		{"a quote, which would end the challenge's quoted string", auth.ResourceMetadataOptions{Resource: ok + `/a"b`}, "Resource"},
		{"a space", auth.ResourceMetadataOptions{Resource: ok + `/a b`}, "Resource"},
		{"a control character", auth.ResourceMetadataOptions{Resource: ok + "/a\x7fb"}, "Resource"},
		{"an opaque URL", auth.ResourceMetadataOptions{Resource: "https:api.example.com"}, "Resource"},
		{"a dot segment, which a client removes and ServeMux cannot mount", auth.ResourceMetadataOptions{Resource: ok + "/a/../b"}, "segment"},
		{"a single dot segment", auth.ResourceMetadataOptions{Resource: ok + "/./b/"}, "segment"},
		{"a percent-encoded dot segment", auth.ResourceMetadataOptions{Resource: ok + "/a/%2e%2E"}, "segment"},
		{"an empty segment", auth.ResourceMetadataOptions{Resource: ok + "/a//b"}, "segment"},
		{"a path of two slashes", auth.ResourceMetadataOptions{Resource: ok + "//"}, "segment"},
		{"an http authorization server", auth.ResourceMetadataOptions{Resource: ok, AuthorizationServers: []string{"http://auth.example.com"}}, "AuthorizationServers[0]"},
		{"an authorization server with a query", auth.ResourceMetadataOptions{Resource: ok, AuthorizationServers: []string{ok, "https://auth.example.com?x"}}, "AuthorizationServers[1]"},
		{"a scope that is not a scope-token", auth.ResourceMetadataOptions{Resource: ok, ScopesSupported: []string{"a b"}}, "ScopesSupported[0]"},
		{"an empty scope", auth.ResourceMetadataOptions{Resource: ok, ScopesSupported: []string{""}}, "ScopesSupported[0]"},
		{"a name with a control character", auth.ResourceMetadataOptions{Resource: ok, ResourceName: "a\nb"}, "ResourceName"},
		{"a name that is not UTF-8", auth.ResourceMetadataOptions{Resource: ok, ResourceName: "\xff"}, "ResourceName"},
		{"a relative documentation URL", auth.ResourceMetadataOptions{Resource: ok, ResourceDocumentation: "/docs"}, "ResourceDocumentation"},
		{"a javascript: policy URL", auth.ResourceMetadataOptions{Resource: ok, ResourcePolicyURI: "javascript:alert(1)"}, "ResourcePolicyURI"},
		{"an http terms URL", auth.ResourceMetadataOptions{Resource: ok, ResourceTOSURI: "http://example.com/tos"}, "ResourceTOSURI"},
		{"the zero JWT", auth.ResourceMetadataOptions{Resource: ok, JWT: &auth.JWT{}}, "zero JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := auth.NewResourceMetadata(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewResourceMetadata = %v, %v; want an error about %s", m, err, tt.want)
			}
		})
	}
	// Every problem is reported.
	_, err := auth.NewResourceMetadata(auth.ResourceMetadataOptions{Resource: "http://x", ScopesSupported: []string{""}, ResourceName: "\x00"})
	for _, want := range []string{"Resource", "ScopesSupported", "ResourceName"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %s", err, want)
		}
	}
	if _, err := auth.ResourceMetadataURL("https://api.example.com?x"); err == nil {
		t.Error("ResourceMetadataURL accepted a resource with a query")
	}
}

func TestResourceMetadataHandler(t *testing.T) {
	m, err := auth.NewResourceMetadata(auth.ResourceMetadataOptions{Resource: "https://api.example.com", AuthorizationServers: []string{"https://auth.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	checkServesDocument(t, m, m.Path(), m.Document())
	var doc struct {
		Resource string   `json:"resource"`
		AS       []string `json:"authorization_servers"`
	}
	if err := json.Unmarshal(m.Document(), &doc); err != nil || doc.Resource != "https://api.example.com" || len(doc.AS) != 1 {
		t.Errorf("document %s: %+v, %v", m.Document(), doc, err)
	}

	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest(http.MethodPost, m.Path(), strings.NewReader("x")))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" || strings.Contains(w.Body.String(), "api.example.com") {
		t.Errorf("POST: %d, Allow %q, %s", w.Code, w.Header().Get("Allow"), w.Body)
	}
	for _, zero := range []*auth.ResourceMetadata{nil, {}} {
		w := httptest.NewRecorder()
		zero.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("zero value: %d %v", w.Code, w.Header())
		}
		if zero.Path() != "" || zero.URL() != "" || zero.Document() != nil {
			t.Errorf("zero value: %q %q %q", zero.Path(), zero.URL(), zero.Document())
		}
	}
}

// checkServesDocument checks that h serves doc at path for GET and its
// headers alone for HEAD, as public JSON cacheable for an hour.
func checkServesDocument(t *testing.T, h http.Handler, path string, doc []byte) {
	t.Helper()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		hd := w.Header()
		if w.Code != http.StatusOK || hd.Get("Content-Type") != "application/json" || hd.Get("Cache-Control") != "public, max-age=3600" ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Content-Length") != strconv.Itoa(len(doc)) {
			t.Errorf("%s: %d %v", method, w.Code, hd)
		}
		want := map[string]string{http.MethodGet: string(doc), http.MethodHead: ""}[method]
		if w.Body.String() != want {
			t.Errorf("%s: body %q, want %q", method, w.Body, want)
		}
	}
}

// Every challenge, in both schemes, tells the client where the metadata
// is (RFC 9728 §5.1).
func TestJWTChallengesCarryResourceMetadata(t *testing.T) {
	const meta = "https://api.example/.well-known/oauth-protected-resource"
	rm := `, resource_metadata="` + meta + `"`
	k := newECDPoPKey(t)
	tok := boundToken(t, k.jkt)
	algs := `, algs="ES256 ES384 EdDSA RS256 PS256"`
	bad := `, error="invalid_token", error_description="The access token is invalid"`
	tests := []struct {
		name string
		dpop bool
		r    *http.Request
		want []string
	}{
		{"no token", false, httptest.NewRequest("GET", "/orders", nil), []string{`Bearer realm="api"` + rm}},
		{"a bad token", false, bearer("x.y.z"), []string{`Bearer realm="api"` + rm + bad}},
		{"DPoP: no token", true, httptest.NewRequest("GET", dpopURL, nil), []string{`Bearer realm="api"` + rm, `DPoP realm="api"` + rm + algs}},
		{"DPoP: a bad proof", true, dpopRequest("GET", dpopURL, tok, "x.y.z"),
			[]string{`Bearer realm="api"` + rm, `DPoP realm="api"` + rm + algs + `, error="invalid_dpop_proof", error_description="The DPoP proof is invalid"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := func(o *auth.JWTOptions) { o.ResourceMetadata = meta }
			m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}}, ResourceMetadata: meta})
			if tt.dpop {
				m = newDPoPJWT(t, auth.DPoPOptions{}, set)
			}
			w, _, _ := serve(m, tt.r)
			if got := w.Header().Values("WWW-Authenticate"); w.Code != http.StatusUnauthorized || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%d, WWW-Authenticate %q; want 401, %q", w.Code, got, tt.want)
			}
		})
	}

	s, err := auth.NewScopeCheck(auth.ScopeOptions{Scopes: []string{"items:read"}, ResourceMetadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran") }))
	for _, tt := range []struct {
		id   bool
		code int
		want string
	}{
		{false, http.StatusUnauthorized, `Bearer realm="api"` + rm},
		{true, http.StatusForbidden, `Bearer realm="api"` + rm + `, error="insufficient_scope", error_description="The access token lacks a required scope", scope="items:read"`},
	} {
		r := httptest.NewRequest("GET", "/items/1", nil)
		if tt.id {
			r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "alice"})))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("WWW-Authenticate"); w.Code != tt.code || got != tt.want {
			t.Errorf("scope check: %d, %q; want %d, %q", w.Code, got, tt.code, tt.want)
		}
	}
}

func TestResourceMetadataOptionsOfJWTAndScopeCheck(t *testing.T) {
	for _, bad := range []string{"/relative", "https://api.example/x?y", "https://api.example/x#y", `https://api.example/"`, "https://u@api.example/", "ftp://api.example/"} {
		_, err := auth.NewJWT(auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}},
			Issuer: "https://issuer.example", Audience: "api", ResourceMetadata: bad})
		if err == nil || !strings.Contains(err.Error(), "ResourceMetadata") {
			t.Errorf("NewJWT with ResourceMetadata %q: %v", bad, err)
		}
		_, err = auth.NewScopeCheck(auth.ScopeOptions{Scopes: []string{"a"}, ResourceMetadata: bad})
		if err == nil || !strings.Contains(err.Error(), "ResourceMetadata") {
			t.Errorf("NewScopeCheck with ResourceMetadata %q: %v", bad, err)
		}
	}
	// A development resource on http may announce its metadata.
	if _, err := auth.NewScopeCheck(auth.ScopeOptions{Scopes: []string{"a"}, ResourceMetadata: "http://127.0.0.1:8080/.well-known/oauth-protected-resource"}); err != nil {
		t.Errorf("http metadata URL: %v", err)
	}

	// The verifiers of a set protect one resource: one metadata URL.
	v := func(iss, meta string) *auth.JWT {
		return newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: keysOnce().hmac}}, Issuer: iss, ResourceMetadata: meta})
	}
	const meta = "https://api.example/.well-known/oauth-protected-resource"
	if _, err := auth.NewJWTSet(v("https://a.example", meta), v("https://b.example", "")); err == nil || !strings.Contains(err.Error(), "ResourceMetadata") {
		t.Errorf("NewJWTSet with different ResourceMetadata: %v", err)
	}
	set, err := auth.NewJWTSet(v("https://a.example", meta), v("https://b.example", meta))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	tok := sign(t, jwt.SigningMethodHS256, keysOnce().hmac, nil, with(goodClaims(), "iss", "https://b.example", "exp", 1))
	set.Handler(http.NotFoundHandler()).ServeHTTP(w, bearer(tok))
	if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || !strings.Contains(got, `resource_metadata="`+meta+`"`) {
		t.Errorf("JWTSet: %d, %q", w.Code, got)
	}
}
