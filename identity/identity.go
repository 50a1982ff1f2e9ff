// Package identity carries the authenticated principal of a request in its
// context. It is the only glue between httpguard's packages: auth and
// session put an [Identity] in the context with [NewContext]; rbac,
// ratelimit and errorsafe read it with [FromContext] or [FromRequest].
//
// An Identity is immutable. Its fields are unexported and every accessor
// returns a copy or a value, so a handler that modifies what it read cannot
// change what the next reader sees, and an Identity can be shared between
// goroutines without locking.
//
// A middleware further out than the authenticating one (an access log, a
// rate limiter) cannot see a context created further in. It can install a
// [Recorder] with [WithRecorder]; [NewContext] then also records the
// identity there, and in every other Recorder the context carries.
package identity

import (
	"context"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"
)

// Method is how a principal was authenticated.
type Method string

// The methods httpguard's packages use. Other packages may define more.
const (
	MethodBasic   Method = "basic"   // HTTP Basic (RFC 7617)
	MethodBearer  Method = "bearer"  // a bearer token such as a JWT (RFC 6750)
	MethodAPIKey  Method = "api_key" // an API key
	MethodSession Method = "session" // a server-side or cookie session
)

// Options describes an [Identity] to build with [New]. New copies every
// slice and map, so changing Options afterwards has no effect.
type Options struct {
	// Subject identifies the principal: a user name, a user ID, a client
	// ID. Required for an authenticated identity: New accepts an empty
	// one, but rbac and auth's scope check refuse an identity without a
	// subject as unauthenticated (401), whatever roles or scopes it
	// carries. Default: "".
	Subject string
	// Method is how the principal was authenticated. Default: "", not
	// stated.
	Method Method
	// Roles are the principal's roles, as rbac reads them. Default: none.
	Roles []string
	// Scopes are the OAuth2 scopes granted to the credential. Default:
	// none.
	Scopes []string
	// Claims are the raw claims of a token or session, if any. Values that
	// are slices or maps, of any type, are deep-copied, with the slices and
	// maps inside them and inside arrays; structs and pointers are not.
	// Default: none.
	Claims map[string]any
}

// Identity is an authenticated principal. The zero value is the anonymous
// identity: [Identity.IsZero] reports true and it has no roles or scopes.
// An Identity is immutable and safe for concurrent use.
type Identity struct {
	subject string
	method  Method
	roles   []string
	scopes  []string
	claims  map[string]any
}

// New returns an Identity built from a copy of o. Duplicate roles and
// scopes are kept once, in their first position.
func New(o Options) Identity {
	return Identity{
		subject: o.Subject,
		method:  o.Method,
		roles:   dedupe(o.Roles),
		scopes:  dedupe(o.Scopes),
		claims:  copyClaims(o.Claims),
	}
}

// dedupeScan is the longest list dedupe checks by comparing each element
// with those kept; a longer one goes through a set, so that the work stays
// linear in the list's length.
const dedupeScan = 32

// dedupe returns in without repeated elements, each kept in its first
// position. Roles and scopes come from tokens and sessions, which may hold
// thousands: comparing each with every one kept was quadratic (4 000
// roles took 24 ms, 50 000 several seconds, in every request).
func dedupe(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	if len(in) <= dedupeScan {
		for _, s := range in {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return slices.Clip(out)
	}
	seen := make(map[string]struct{}, len(in))
	for _, s := range in {
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return slices.Clip(out)
}

// WithMethod returns a copy of id authenticated by m. The copy shares id's
// immutable roles, scopes and claims, so it costs no allocation: use it
// where a principal verified one way is carried another (a login stored in
// a session is later authenticated by the session). The method decides
// whether readers apply the scopes: rbac limits a principal to its
// scopes only for the methods in its Options.ScopedMethods (typically
// [MethodBearer]), so a token's identity carried as [MethodSession] may
// use every permission of its roles. Carry a narrowed token's identity
// under its own method, or build a new one with the roles it should keep.
func (id Identity) WithMethod(m Method) Identity {
	id.method = m
	return id
}

// IsZero reports whether id is the anonymous zero Identity.
func (id Identity) IsZero() bool {
	return id.subject == "" && id.method == "" && id.roles == nil && id.scopes == nil && id.claims == nil
}

// Subject returns the principal's identifier.
func (id Identity) Subject() string { return id.subject }

// Method returns how the principal was authenticated.
func (id Identity) Method() Method { return id.method }

// Roles returns a copy of the principal's roles; changing it changes
// nothing else. To test or iterate without allocating use [Identity.HasRole],
// [Identity.NumRoles] and [Identity.Role].
func (id Identity) Roles() []string { return slices.Clone(id.roles) }

// NumRoles returns the number of roles.
func (id Identity) NumRoles() int { return len(id.roles) }

// Role returns the i-th role; it panics if i is out of range, like a slice.
func (id Identity) Role(i int) string { return id.roles[i] }

// HasRole reports whether the principal has role, compared exactly.
func (id Identity) HasRole(role string) bool { return slices.Contains(id.roles, role) }

// Scopes returns a copy of the granted scopes.
func (id Identity) Scopes() []string { return slices.Clone(id.scopes) }

// NumScopes returns the number of scopes.
func (id Identity) NumScopes() int { return len(id.scopes) }

// Scope returns the i-th scope; it panics if i is out of range.
func (id Identity) Scope(i int) string { return id.scopes[i] }

// HasScope reports whether scope was granted, compared exactly.
func (id Identity) HasScope(scope string) bool { return slices.Contains(id.scopes, scope) }

// Claim returns a deep copy of the named raw claim and whether it exists.
func (id Identity) Claim(name string) (any, bool) {
	v, ok := id.claims[name]
	if !ok {
		return nil, false
	}
	return copyValue(v), true
}

// Claims returns a deep copy of the raw claims, or nil if there are none.
func (id Identity) Claims() map[string]any { return copyClaims(id.claims) }

func copyClaims(in map[string]any) map[string]any {
	if in == nil {
		return nil
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = copyValue(v)
	}
	return out
}

// copyValue deep-copies the mutable JSON-like shapes a decoder produces, and
// any other slice or map, whatever its element types ([]int,
// map[string][]string, json.RawMessage), and an array holding them. Other
// values (numbers, strings, booleans, structs and pointers of types the
// caller chose) are returned as they are.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyClaims(v)
	case []any:
		if v == nil {
			return v // a nil list stays nil, as every other slice does
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	case map[string]string:
		return maps.Clone(v)
	case []byte:
		return slices.Clone(v)
	default:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map ||
			rv.Kind() == reflect.Array && holdsReferences(rv.Type().Elem()) {
			return copyReflect(rv).Interface()
		}
		return v
	}
}

// holdsReferences reports whether a value of type t may share a slice or
// map with its copy: it is a slice, a map or an interface, or an array of
// them. Structs and pointers are not looked into (see [Options].Claims).
func holdsReferences(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Interface:
		return true
	case reflect.Array:
		return holdsReferences(t.Elem())
	}
	return false
}

// copyReflect deep-copies a slice or map of any type, and the slices and
// maps inside it, arrays included; other values are returned as they are.
func copyReflect(rv reflect.Value) reflect.Value {
	switch rv.Kind() {
	case reflect.Slice:
		if rv.IsNil() {
			return rv
		}
		out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
		if holdsReferences(rv.Type().Elem()) {
			for i := range rv.Len() {
				out.Index(i).Set(copyReflect(rv.Index(i)))
			}
		} else {
			// Elements copyReflect returns as they are: one copy,
			// not a reflective Set per element.
			reflect.Copy(out, rv)
		}
		return out
	case reflect.Array:
		if !holdsReferences(rv.Type().Elem()) {
			return rv
		}
		out := reflect.New(rv.Type()).Elem()
		for i := range rv.Len() {
			out.Index(i).Set(copyReflect(rv.Index(i)))
		}
		return out
	case reflect.Map:
		if rv.IsNil() {
			return rv
		}
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), copyReflect(it.Value()))
		}
		return out
	case reflect.Interface:
		if rv.IsNil() {
			return rv
		}
		return reflect.ValueOf(copyValue(rv.Elem().Interface()))
	default:
		return rv
	}
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying id. If [Recorder] values were
// installed in ctx by [WithRecorder], id is also recorded in each of them.
func NewContext(ctx context.Context, id Identity) context.Context {
	if rec, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		rec.set(id)
	}
	return context.WithValue(ctx, ctxKey{}, &id)
}

// FromContext returns the Identity in ctx and whether there is one.
func FromContext(ctx context.Context) (Identity, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Identity)
	if !ok {
		return Identity{}, false
	}
	return *p, true
}

// FromRequest returns the Identity in r's context and whether there is one.
func FromRequest(r *http.Request) (Identity, bool) { return FromContext(r.Context()) }

// Recorder receives the identity that a middleware further in puts in the
// request context, for a middleware further out that runs code after the
// inner handler returns. The zero value is ready to use; a Recorder is safe
// for concurrent use.
type Recorder struct {
	mu sync.Mutex
	id Identity
	ok bool
	// outer is the Recorder installed further out in the same context,
	// if any: an identity is recorded in every one of them.
	outer *Recorder
}

type recorderKey struct{}

// WithRecorder returns a copy of ctx carrying a new [Recorder], and that
// Recorder. A Recorder already in ctx keeps receiving identities too: two
// middlewares further out (an access log around the server and one around
// a sub-router) each see the identity.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	rec := new(Recorder)
	rec.outer, _ = ctx.Value(recorderKey{}).(*Recorder)
	return context.WithValue(ctx, recorderKey{}, rec), rec
}

// set records id in rec and in every Recorder further out.
func (rec *Recorder) set(id Identity) {
	for ; rec != nil; rec = rec.outer {
		rec.mu.Lock()
		rec.id, rec.ok = id, true
		rec.mu.Unlock()
	}
}

// Identity returns the last identity recorded, and whether there was one.
func (rec *Recorder) Identity() (Identity, bool) {
	if rec == nil {
		return Identity{}, false
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.id, rec.ok
}
