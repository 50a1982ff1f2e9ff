package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/internal/problem"
)

// ServerMetadataWellKnown is the well-known path segment of
// authorization server metadata (RFC 8414 §3).
const ServerMetadataWellKnown = "/.well-known/oauth-authorization-server"

// ServerMetadataOptions configures [NewServerMetadata]: what the
// authorization server of a [TokenEndpoint] tells the clients that
// discover it (RFC 8414 §2). NewServerMetadata copies what it needs.
type ServerMetadataOptions struct {
	// TokenEndpoint is the endpoint described. The issuer identifier is
	// its Issuer's iss claim (IssuerOptions.Issuer), which must then be
	// an https URL without query or fragment, as RFC 8414 §2 requires;
	// the grant types, the client authentication methods (client secrets
	// by HTTP Basic or form for confidential clients, none for public
	// ones), the scopes and the DPoP algorithms are those of its clients
	// and options. Required.
	TokenEndpoint *TokenEndpoint
	// TokenEndpointURL is the absolute https URL, without fragment (RFC
	// 6749 §3.2), at which TokenEndpoint is served. Required.
	TokenEndpointURL string
	// RevocationEndpointURL, when set, is the absolute https URL at which
	// a [RevocationEndpoint] of TokenEndpoint is served; its clients
	// authenticate as at the token endpoint. Default none.
	RevocationEndpointURL string
	// JWKSURI, when set, is the absolute https URL at which
	// [Issuer.JWKSHandler] serves the public keys of the issuer's
	// signatures. An issuer signing with an HMAC secret publishes no key,
	// and setting JWKSURI for one is an error. Default none.
	JWKSURI string
	// ServiceDocumentation, PolicyURI and TOSURI are the URLs of the
	// server's documentation for developers (service_documentation), of
	// its policy on data use (op_policy_uri) and of its terms of service
	// (op_tos_uri). Each must be an absolute https URL. Default none.
	ServiceDocumentation, PolicyURI, TOSURI string
	// DangerouslyAllowHTTP accepts http URLs, the issuer's included, for
	// development on a machine without TLS. RFC 8414 requires https:
	// over http, whoever is on the path can point clients at endpoints of
	// their choosing. Default false.
	DangerouslyAllowHTTP bool
}

// ServerMetadata serves an OAuth 2.0 authorization server's metadata
// (RFC 8414): the JSON document from which a client learns the token
// endpoint, the grants and client authentication it takes, the scopes,
// the signing keys and the DPoP algorithms (RFC 9449 §5.1). Build it
// with [NewServerMetadata] and mount it at [ServerMetadata.Path]; a
// protected resource names the issuer in
// ResourceMetadataOptions.AuthorizationServers.
//
// The server has no authorization endpoint, so the document lists no
// response type (response_types_supported, which RFC 8414 requires, is
// empty). The document is public, made once at construction, and served
// for GET and HEAD (405 with Allow otherwise) with Content-Type
// application/json and a one-hour public cache lifetime: build a new one
// when the clients change. A browser application on another origin reads
// it only through CORS, as [ResourceMetadata] says. It is safe for
// concurrent use. The zero value answers 500.
type ServerMetadata struct {
	doc     []byte
	docLen  string
	path    string
	metaURL string
}

// serverMetadataDoc is the document of RFC 8414 §2, in its order.
type serverMetadataDoc struct {
	Issuer                string   `json:"issuer"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri,omitempty"`
	ScopesSupported       []string `json:"scopes_supported,omitempty"`
	ResponseTypes         []string `json:"response_types_supported"`
	GrantTypes            []string `json:"grant_types_supported"`
	AuthMethods           []string `json:"token_endpoint_auth_methods_supported"`
	ServiceDocumentation  string   `json:"service_documentation,omitempty"`
	PolicyURI             string   `json:"op_policy_uri,omitempty"`
	TOSURI                string   `json:"op_tos_uri,omitempty"`
	RevocationEndpoint    string   `json:"revocation_endpoint,omitempty"`
	RevocationAuthMethods []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	DPoPAlgs              []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// NewServerMetadata validates opts and returns the handler. Every
// problem is reported, joined with errors.Join: no or a zero
// TokenEndpoint, an issuer (the Issuer's iss) that is not an https URL
// without user info, query or fragment, an endpoint or document URL that
// is not an absolute https URL, a TokenEndpointURL with a fragment, and a
// JWKSURI for an HMAC issuer.
func NewServerMetadata(opts ServerMetadataOptions) (*ServerMetadata, error) {
	var errs []error
	allowHTTP := opts.DangerouslyAllowHTTP
	d := serverMetadataDoc{
		TokenEndpoint:        opts.TokenEndpointURL,
		JWKSURI:              opts.JWKSURI,
		ResponseTypes:        []string{},
		ServiceDocumentation: opts.ServiceDocumentation,
		PolicyURI:            opts.PolicyURI,
		TOSURI:               opts.TOSURI,
		RevocationEndpoint:   opts.RevocationEndpointURL,
	}
	e := opts.TokenEndpoint
	if e == nil || e.issuer == nil {
		errs = append(errs, errors.New("auth: ServerMetadataOptions.TokenEndpoint is required (use NewTokenEndpoint)"))
	} else {
		d.Issuer = e.issuer.iss
		if err := checkIdentifierURL(d.Issuer, allowHTTP); err != nil {
			errs = append(errs, fmt.Errorf("auth: ServerMetadataOptions: the issuer identifier, IssuerOptions.Issuer of the TokenEndpoint's Issuer: %w", err))
		}
		if d.JWKSURI != "" && !isPublicKeyAlg(e.issuer.key.Algorithm) {
			errs = append(errs, errors.New("auth: ServerMetadataOptions.JWKSURI is set, but the TokenEndpoint's Issuer signs with an HMAC secret, which it never publishes"))
		}
		d.GrantTypes, d.AuthMethods, d.ScopesSupported = e.clientsMetadata()
		if d.RevocationEndpoint != "" {
			d.RevocationAuthMethods = d.AuthMethods
		}
		if e.dpop != nil {
			d.DPoPAlgs = slices.Clone(e.dpop.algs)
		}
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"TokenEndpointURL", d.TokenEndpoint, true},
		{"RevocationEndpointURL", d.RevocationEndpoint, false},
		{"JWKSURI", d.JWKSURI, false},
		{"ServiceDocumentation", d.ServiceDocumentation, false},
		{"PolicyURI", d.PolicyURI, false},
		{"TOSURI", d.TOSURI, false},
	} {
		if f.v == "" && !f.required {
			continue
		}
		if !absoluteURL(f.v, allowHTTP) {
			errs = append(errs, fmt.Errorf("auth: ServerMetadataOptions.%s must be an absolute https URL without user info", f.name))
		}
	}
	if strings.Contains(d.TokenEndpoint, "#") {
		errs = append(errs, errors.New("auth: ServerMetadataOptions.TokenEndpointURL must have no fragment (RFC 6749 §3.2)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("auth: server metadata: %w", err)
	}
	path, metaURL := wellKnownLocation(ServerMetadataWellKnown, d.Issuer)
	return &ServerMetadata{doc: doc, docLen: strconv.Itoa(len(doc)), path: path, metaURL: metaURL}, nil
}

// clientsMetadata returns the grant types, client authentication
// methods and scopes of the endpoint's clients, in a fixed order.
func (e *TokenEndpoint) clientsMetadata() (grants, methods, scopes []string) {
	var confidential, public bool
	for _, c := range e.clients {
		for _, g := range c.Grants {
			if !slices.Contains(grants, g) {
				grants = append(grants, g)
			}
		}
		for _, s := range c.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
		confidential = confidential || !c.Public
		public = public || c.Public
	}
	order := []string{GrantPassword, GrantClientCredentials, GrantRefreshToken}
	slices.SortFunc(grants, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	slices.Sort(scopes)
	methods = []string{}
	if confidential {
		// RFC 6749 §2.3.1: in the Authorization header or the form.
		methods = append(methods, "client_secret_basic", "client_secret_post")
	}
	if public {
		methods = append(methods, "none")
	}
	return grants, methods, scopes
}

// absoluteURL reports whether s is an absolute https URL (http with
// allowHTTP) with a host and no user info.
func absoluteURL(s string, allowHTTP bool) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && u.User == nil && (u.Scheme == "https" || u.Scheme == "http" && allowHTTP)
}

// Path returns the path at which to mount the handler, such as
// /.well-known/oauth-authorization-server for the issuer
// https://auth.example.com; "" for the zero value.
func (m *ServerMetadata) Path() string {
	if m == nil {
		return ""
	}
	return m.path
}

// URL returns the absolute URL of the metadata; "" for the zero value.
func (m *ServerMetadata) URL() string {
	if m == nil {
		return ""
	}
	return m.metaURL
}

// Document returns a copy of the JSON document served.
func (m *ServerMetadata) Document() []byte {
	if m == nil {
		return nil
	}
	return slices.Clone(m.doc)
}

// ServeHTTP serves the document.
func (m *ServerMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m == nil || m.doc == nil {
		problem.Reject(w, r, http.StatusInternalServerError, errServerMetadataNotConfigured)
		return
	}
	serveMetadata(w, r, m.doc, m.docLen)
}

var errServerMetadataNotConfigured = errors.New("auth: ServerMetadata not configured (use NewServerMetadata)")
