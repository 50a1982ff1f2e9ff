package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/auth"
)

func TestServerMetadataDocument(t *testing.T) {
	f := newOAuth(t, nil)
	const tok = "https://issuer.example/oauth/token"
	tests := []struct {
		name string
		mod  func(*auth.TokenEndpointOptions)
		opts auth.ServerMetadataOptions
		doc  string
	}{
		{"the fixture's clients: public and confidential, three grants", nil,
			auth.ServerMetadataOptions{TokenEndpointURL: tok},
			`{"issuer":"https://issuer.example","token_endpoint":"https://issuer.example/oauth/token","scopes_supported":["orders:read","orders:write","reports:run"],` +
				`"response_types_supported":[],"grant_types_supported":["password","client_credentials","refresh_token"],` +
				`"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"]}`},
		{"every URL, DPoP", func(o *auth.TokenEndpointOptions) {
			o.DPoP = &auth.DPoPOptions{Algorithms: []string{auth.AlgES256, auth.AlgEdDSA}}
		}, auth.ServerMetadataOptions{TokenEndpointURL: tok, RevocationEndpointURL: "https://issuer.example/oauth/revoke",
			JWKSURI: "https://issuer.example/jwks.json", ServiceDocumentation: "https://example.com/docs",
			PolicyURI: "https://example.com/privacy", TOSURI: "https://example.com/tos"},
			`{"issuer":"https://issuer.example","token_endpoint":"https://issuer.example/oauth/token","jwks_uri":"https://issuer.example/jwks.json",` +
				`"scopes_supported":["orders:read","orders:write","reports:run"],"response_types_supported":[],` +
				`"grant_types_supported":["password","client_credentials","refresh_token"],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],` +
				`"service_documentation":"https://example.com/docs","op_policy_uri":"https://example.com/privacy","op_tos_uri":"https://example.com/tos",` +
				`"revocation_endpoint":"https://issuer.example/oauth/revoke","revocation_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],` +
				`"dpop_signing_alg_values_supported":["ES256","EdDSA"]}`},
		{"one public client", func(o *auth.TokenEndpointOptions) {
			o.Clients = []auth.Client{{ID: "web", Public: true, Grants: []string{auth.GrantRefreshToken, auth.GrantPassword}}}
		}, auth.ServerMetadataOptions{TokenEndpointURL: tok},
			`{"issuer":"https://issuer.example","token_endpoint":"https://issuer.example/oauth/token","response_types_supported":[],` +
				`"grant_types_supported":["password","refresh_token"],"token_endpoint_auth_methods_supported":["none"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := f.ep
			if tt.mod != nil {
				ep = newOAuth(t, tt.mod).ep
			}
			tt.opts.TokenEndpoint = ep
			m, err := auth.NewServerMetadata(tt.opts)
			if err != nil {
				t.Fatalf("NewServerMetadata: %v", err)
			}
			if got := string(m.Document()); got != tt.doc {
				t.Errorf("document\n%s\nwant\n%s", got, tt.doc)
			}
			if m.Path() != "/.well-known/oauth-authorization-server" || m.URL() != "https://issuer.example/.well-known/oauth-authorization-server" {
				t.Errorf("Path %q, URL %q", m.Path(), m.URL())
			}
		})
	}
}

// The issuer identifier is the Issuer's iss, and the metadata sits
// between its host and its path (RFC 8414 §3.1).
func TestServerMetadataLocation(t *testing.T) {
	for _, tt := range []struct{ iss, path, url string }{
		{"https://auth.example.com", "/.well-known/oauth-authorization-server", "https://auth.example.com/.well-known/oauth-authorization-server"},
		{"https://example.com/tenant/1/", "/.well-known/oauth-authorization-server/tenant/1", "https://example.com/.well-known/oauth-authorization-server/tenant/1"},
	} {
		iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgEdDSA, Key: keysOnce().ed}, Issuer: tt.iss, Audience: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		ep := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Issuer = iss }).ep
		m, err := auth.NewServerMetadata(auth.ServerMetadataOptions{TokenEndpoint: ep, TokenEndpointURL: tt.iss + "token"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Path() != tt.path || m.URL() != tt.url || !strings.HasPrefix(string(m.Document()), `{"issuer":"`+tt.iss+`"`) {
			t.Errorf("issuer %s: Path %q, URL %q, %s", tt.iss, m.Path(), m.URL(), m.Document())
		}
	}
}

func TestNewServerMetadataRefusesUnsafeOptions(t *testing.T) {
	f := newOAuth(t, nil)
	const tok = "https://issuer.example/token"
	hmacEP := func(iss string) *auth.TokenEndpoint {
		is, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: keysOnce().hmac}, Issuer: iss, Audience: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		return newOAuth(t, func(o *auth.TokenEndpointOptions) { o.Issuer = is }).ep
	}
	tests := []struct {
		name string
		opts auth.ServerMetadataOptions
		want string
	}{
		{"no endpoint", auth.ServerMetadataOptions{TokenEndpointURL: tok}, "TokenEndpoint is required"},
		{"the zero endpoint", auth.ServerMetadataOptions{TokenEndpoint: &auth.TokenEndpoint{}, TokenEndpointURL: tok}, "TokenEndpoint is required"},
		{"no endpoint URL", auth.ServerMetadataOptions{TokenEndpoint: f.ep}, "TokenEndpointURL"},
		{"a relative endpoint URL", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: "/token"}, "TokenEndpointURL"},
		{"an http endpoint URL", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: "http://issuer.example/token"}, "TokenEndpointURL"},
		{"user info", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: "https://u:p@issuer.example/token"}, "TokenEndpointURL"},
		{"an endpoint URL with a fragment (RFC 6749 §3.2)", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok + "#x"}, "TokenEndpointURL"},
		{"an endpoint URL with an empty fragment", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok + "#"}, "TokenEndpointURL"},
		{"a javascript: revocation URL", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok, RevocationEndpointURL: "javascript:x"}, "RevocationEndpointURL"},
		{"a relative JWKS URI", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok, JWKSURI: "/jwks"}, "JWKSURI"},
		{"an http documentation URL", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok, ServiceDocumentation: "http://example.com/"}, "ServiceDocumentation"},
		{"a policy URL without host", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok, PolicyURI: "https://"}, "PolicyURI"},
		{"an ftp terms URL", auth.ServerMetadataOptions{TokenEndpoint: f.ep, TokenEndpointURL: tok, TOSURI: "ftp://example.com/tos"}, "TOSURI"},
		{"an issuer that is no URL", auth.ServerMetadataOptions{TokenEndpoint: hmacEP("my-app"), TokenEndpointURL: tok}, "issuer identifier"},
		{"an http issuer", auth.ServerMetadataOptions{TokenEndpoint: hmacEP("http://issuer.example"), TokenEndpointURL: tok}, "issuer identifier"},
		{"an issuer with a query", auth.ServerMetadataOptions{TokenEndpoint: hmacEP("https://issuer.example?t=1"), TokenEndpointURL: tok}, "issuer identifier"},
		{"an issuer with a fragment", auth.ServerMetadataOptions{TokenEndpoint: hmacEP("https://issuer.example#a"), TokenEndpointURL: tok}, "issuer identifier"},
		{"a JWKS URI for an HMAC issuer", auth.ServerMetadataOptions{TokenEndpoint: hmacEP("https://issuer.example"), TokenEndpointURL: tok, JWKSURI: "https://issuer.example/jwks"}, "HMAC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := auth.NewServerMetadata(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewServerMetadata = %v, %v; want an error about %s", m, err, tt.want)
			}
		})
	}
	// For development, http everywhere, the issuer's included.
	m, err := auth.NewServerMetadata(auth.ServerMetadataOptions{TokenEndpoint: hmacEP("http://127.0.0.1:8080"),
		TokenEndpointURL: "http://127.0.0.1:8080/token", DangerouslyAllowHTTP: true})
	if err != nil || m.URL() != "http://127.0.0.1:8080/.well-known/oauth-authorization-server" {
		t.Errorf("DangerouslyAllowHTTP: %v, %v", m.URL(), err)
	}
}

func TestServerMetadataHandler(t *testing.T) {
	m, err := auth.NewServerMetadata(auth.ServerMetadataOptions{TokenEndpoint: newOAuth(t, nil).ep, TokenEndpointURL: "https://issuer.example/token"})
	if err != nil {
		t.Fatal(err)
	}
	checkServesDocument(t, m, m.Path(), m.Document())
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest(http.MethodPut, m.Path(), nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("PUT: %d %v", w.Code, w.Header())
	}
	for _, zero := range []*auth.ServerMetadata{nil, {}} {
		w := httptest.NewRecorder()
		zero.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Code != http.StatusInternalServerError || zero.Path() != "" || zero.URL() != "" || zero.Document() != nil {
			t.Errorf("zero value: %d %q %q", w.Code, zero.Path(), zero.URL())
		}
	}
}
