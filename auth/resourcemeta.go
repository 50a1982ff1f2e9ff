package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/problem"
)

// ResourceMetadataWellKnown is the well-known path segment of protected
// resource metadata (RFC 9728 §3).
const ResourceMetadataWellKnown = "/.well-known/oauth-protected-resource"

// ResourceMetadataOptions configures [NewResourceMetadata]: what a
// protected resource tells the clients that discover it (RFC 9728 §2).
// NewResourceMetadata copies what it needs.
type ResourceMetadataOptions struct {
	// Resource is the resource identifier: the https URL of the API,
	// without query or fragment, such as https://api.example.com or
	// https://example.com/api. It is usually also the audience of the
	// access tokens the API accepts (JWTOptions.Audience; RFC 8707).
	// Required.
	Resource string
	// AuthorizationServers are the issuer identifiers (RFC 8414 §2:
	// https URLs without query or fragment) of the authorization servers
	// that issue tokens for the resource, where a client finds each
	// one's metadata. Default none.
	AuthorizationServers []string
	// ScopesSupported are the scopes the resource's routes require, which
	// RFC 9728 recommends listing. Each must be an RFC 6749 scope-token.
	// Default none.
	ScopesSupported []string
	// JWT, when set, is the middleware that verifies the resource's
	// access tokens, from which the metadata takes how tokens may be sent
	// (bearer_methods_supported: "header", and "query" with
	// DangerouslyAllowQueryToken; none when DPoPOptions.Required refuses
	// bearer tokens) and its DPoP settings
	// (dpop_signing_alg_values_supported, dpop_bound_access_tokens_required).
	// Default: nil, the metadata says neither.
	JWT *JWT
	// ResourceName is a human-readable name of the resource, which RFC
	// 9728 recommends. Default none.
	ResourceName string
	// ResourceDocumentation, ResourcePolicyURI and ResourceTOSURI are the
	// URLs of the resource's documentation for developers, of its policy
	// on data use and of its terms of service. Each must be an absolute
	// https URL. Default none.
	ResourceDocumentation, ResourcePolicyURI, ResourceTOSURI string
	// DangerouslyAllowHTTP accepts http URLs for Resource,
	// AuthorizationServers and the other URLs, for development on a
	// machine without TLS. RFC 9728 requires https: over http, whoever
	// is on the path can point clients at an authorization server of
	// their choosing. Default false.
	DangerouslyAllowHTTP bool
}

// ResourceMetadata serves a protected resource's metadata (RFC 9728):
// the JSON document a client fetches to learn which authorization
// servers issue tokens for the resource, which scopes it knows and how
// tokens are presented to it. Build it with [NewResourceMetadata] and
// mount it at [ResourceMetadata.Path], on the host's root: for an API
// under /api, the path is /.well-known/oauth-protected-resource/api. Give
// its URL to JWTOptions.ResourceMetadata ([ResourceMetadataURL] computes
// it from the resource before the JWT is built), so that every 401 tells
// the client where to look (RFC 9728 §5.1).
//
// RFC 9728 §3.3 asks a client that found the metadata through a
// challenge to use it only if resource is the URL it requested. Clients
// compare by prefix in practice (the resource is the API's base URL, and
// a request for /api/users/me is within https://example.com/api); one
// that compares whole URLs needs a resource per route, which one JWT's
// challenges cannot name.
//
// The document is public, made once at construction, and served for GET
// and HEAD (405 with Allow otherwise) with Content-Type
// application/json and a one-hour public cache lifetime. A browser
// application on another origin reads it only through CORS: wrap the
// handler in a cors middleware that allows any origin without
// credentials. It is safe for concurrent use. The zero value answers
// 500.
type ResourceMetadata struct {
	doc     []byte
	docLen  string
	path    string
	metaURL string
}

// resourceMetadataDoc is the document of RFC 9728 §2, in its order.
type resourceMetadataDoc struct {
	Resource               string    `json:"resource"`
	AuthorizationServers   []string  `json:"authorization_servers,omitempty"`
	ScopesSupported        []string  `json:"scopes_supported,omitempty"`
	BearerMethodsSupported *[]string `json:"bearer_methods_supported,omitempty"` // nil: not said; empty: none
	ResourceName           string    `json:"resource_name,omitempty"`
	ResourceDocumentation  string    `json:"resource_documentation,omitempty"`
	ResourcePolicyURI      string    `json:"resource_policy_uri,omitempty"`
	ResourceTOSURI         string    `json:"resource_tos_uri,omitempty"`
	DPoPAlgs               []string  `json:"dpop_signing_alg_values_supported,omitempty"`
	DPoPRequired           bool      `json:"dpop_bound_access_tokens_required,omitempty"`
}

// NewResourceMetadata validates opts and returns the handler. Every
// problem is reported, joined with errors.Join: a Resource or
// authorization server that is not an https URL without user info,
// query, fragment, or empty, "." or ".." path segment, a scope that is
// not a scope-token, a name that is not valid UTF-8 or has control
// characters, a documentation, policy or terms URL that is not an
// absolute https URL, and a zero JWT.
func NewResourceMetadata(opts ResourceMetadataOptions) (*ResourceMetadata, error) {
	var errs []error
	d := resourceMetadataDoc{
		Resource:              opts.Resource,
		AuthorizationServers:  append([]string(nil), opts.AuthorizationServers...),
		ScopesSupported:       append([]string(nil), opts.ScopesSupported...),
		ResourceName:          opts.ResourceName,
		ResourceDocumentation: opts.ResourceDocumentation,
		ResourcePolicyURI:     opts.ResourcePolicyURI,
		ResourceTOSURI:        opts.ResourceTOSURI,
	}
	path, metaURL, err := resourceMetadataLocation(opts.Resource, opts.DangerouslyAllowHTTP)
	if err != nil {
		errs = append(errs, err)
	}
	for i, s := range d.AuthorizationServers {
		if err := checkIdentifierURL(s, opts.DangerouslyAllowHTTP); err != nil {
			errs = append(errs, fmt.Errorf("auth: ResourceMetadataOptions.AuthorizationServers[%d]: %w", i, err))
		}
	}
	for i, s := range d.ScopesSupported {
		if !validScopeToken(s) {
			errs = append(errs, fmt.Errorf("auth: ResourceMetadataOptions.ScopesSupported[%d] is not a scope-token (RFC 6749 §3.3)", i))
		}
	}
	if !utf8.ValidString(d.ResourceName) || hasControl(d.ResourceName) {
		errs = append(errs, errors.New("auth: ResourceMetadataOptions.ResourceName must be valid UTF-8 without control characters"))
	}
	for _, f := range []struct{ name, v string }{
		{"ResourceDocumentation", d.ResourceDocumentation},
		{"ResourcePolicyURI", d.ResourcePolicyURI},
		{"ResourceTOSURI", d.ResourceTOSURI},
	} {
		if f.v == "" {
			continue
		}
		u, err := url.Parse(f.v)
		if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || u.Scheme == "http" && opts.DangerouslyAllowHTTP) {
			errs = append(errs, fmt.Errorf("auth: ResourceMetadataOptions.%s must be an absolute https URL without user info", f.name))
		}
	}
	switch j := opts.JWT; {
	case j == nil:
	case j.c == nil:
		errs = append(errs, errors.New("auth: ResourceMetadataOptions.JWT is the zero JWT (use NewJWT)"))
	default:
		methods := []string{}
		if j.c.dpop == nil || !j.c.dpop.required {
			methods = append(methods, "header")
			if j.c.query {
				methods = append(methods, "query")
			}
		}
		d.BearerMethodsSupported = &methods
		if j.c.dpop != nil {
			d.DPoPAlgs = append([]string(nil), j.c.dpop.algs...)
			d.DPoPRequired = j.c.dpop.required
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("auth: resource metadata: %w", err)
	}
	return &ResourceMetadata{doc: doc, docLen: strconv.Itoa(len(doc)), path: path, metaURL: metaURL}, nil
}

// ResourceMetadataURL returns the URL of the metadata of the resource
// identified by resource (RFC 9728 §3.1): ResourceMetadataWellKnown
// inserted between the host and the path, as in
// https://example.com/.well-known/oauth-protected-resource/api for
// https://example.com/api. It is [ResourceMetadata.URL] without building
// the document, for JWTOptions.ResourceMetadata, since the JWT is built
// before the metadata that describes it. It accepts an http resource,
// which NewResourceMetadata refuses without DangerouslyAllowHTTP.
func ResourceMetadataURL(resource string) (string, error) {
	_, u, err := resourceMetadataLocation(resource, true)
	return u, err
}

// Path returns the path at which to mount the handler, such as
// /.well-known/oauth-protected-resource/api; "" for the zero value.
func (m *ResourceMetadata) Path() string {
	if m == nil {
		return ""
	}
	return m.path
}

// URL returns the absolute URL of the metadata, for
// JWTOptions.ResourceMetadata; "" for the zero value.
func (m *ResourceMetadata) URL() string {
	if m == nil {
		return ""
	}
	return m.metaURL
}

// Document returns a copy of the JSON document served.
func (m *ResourceMetadata) Document() []byte {
	if m == nil {
		return nil
	}
	return append([]byte(nil), m.doc...)
}

// ServeHTTP serves the document.
func (m *ResourceMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m == nil || m.doc == nil {
		problem.Reject(w, r, http.StatusInternalServerError, errResourceMetadataNotConfigured)
		return
	}
	serveMetadata(w, r, m.doc, m.docLen)
}

// serveDocument answers GET and HEAD with a public document, and other
// methods with 405.
func serveDocument(w http.ResponseWriter, r *http.Request, doc []byte, docLen, contentType, cacheControl string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		problem.Reject(w, r, http.StatusMethodNotAllowed, errMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", docLen)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(doc)
}

// serveMetadata serves a metadata document, cacheable for an hour.
func serveMetadata(w http.ResponseWriter, r *http.Request, doc []byte, docLen string) {
	serveDocument(w, r, doc, docLen, "application/json", "public, max-age=3600")
}

var errResourceMetadataNotConfigured = errors.New("auth: ResourceMetadata not configured (use NewResourceMetadata)")

// resourceMetadataLocation checks the resource identifier and returns
// the path and URL of its metadata.
func resourceMetadataLocation(resource string, allowHTTP bool) (path, metaURL string, err error) {
	if err := checkIdentifierURL(resource, allowHTTP); err != nil {
		return "", "", fmt.Errorf("auth: ResourceMetadataOptions.Resource: %w", err)
	}
	path, metaURL = wellKnownLocation(ResourceMetadataWellKnown, resource)
	return path, metaURL, nil
}

// wellKnownLocation returns the path and URL of the metadata of id, an
// identifier checkIdentifierURL accepts: the well-known segment inserted
// between its host and its path, from which a terminating slash is
// removed (RFC 8414 §3.1, RFC 9728 §3.1). The host is escaped again, as
// url.Parse unescapes an IPv6 zone.
func wellKnownLocation(wellKnown, id string) (path, metaURL string) {
	u, _ := url.Parse(id)
	path = wellKnown + strings.TrimSuffix(u.EscapedPath(), "/")
	return path, (&url.URL{Scheme: u.Scheme, Host: u.Host}).String() + path
}

// checkIdentifierURL reports whether s can identify a resource or an
// authorization server: an absolute https URL (http with allowHTTP) with
// a host, no user info, query or fragment, no empty or dot path segment,
// made of printable ASCII so that it can go in a quoted-string of a
// challenge as it is.
func checkIdentifierURL(s string, allowHTTP bool) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.Contains(s, "#") || !jwtRealmOK(s) || strings.ContainsRune(s, ' '):
		return fmt.Errorf("%q must be an absolute URL without user info, query or fragment, such as https://api.example.com", s)
	case !normalSegments(u.EscapedPath()):
		return fmt.Errorf("%q has an empty, \".\" or \"..\" path segment, which clients and ServeMux remove", s)
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme != "https":
		return fmt.Errorf("%q must use https", s)
	}
	return nil
}

// normalSegments reports whether the escaped path p, but for a
// terminating slash, has no empty, "." or ".." segment (spelled with
// percent-encoding too): a client removes the dot segments (RFC 3986
// §5.2.4), so that the identifier is not the one it compares, and
// ServeMux refuses to mount a well-known path with any of them (it
// redirects a request for one to the cleaned path).
func normalSegments(p string) bool {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return true
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg, err := url.PathUnescape(seg); err != nil || seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
