package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/problem"
)

// optionalCase is one request through an Optional layer (or a stack of
// them): its headers, whether an earlier layer (a session) authenticated
// it, and what comes out.
type optionalCase struct {
	name        string
	headers     []string // name, value, ...
	session     bool
	sessionAs   string // the session's subject, when not carol
	wantStatus  int
	wantSubject string // "" for no identity
	wantMethod  identity.Method
	wantReason  error // of a refusal, when not nil
}

// runOptional serves each case through h and checks the status, whether
// the handler ran, its identity and the recorded reason.
func runOptional(t *testing.T, h func(http.Handler) http.Handler, challenge string, tests []optionalCase) {
	t.Helper()
	session := identity.New(identity.Options{Subject: "carol", Method: identity.MethodSession})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got identity.Identity
			var reached bool
			hh := h(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				got, _ = identity.FromRequest(r)
			}))
			r := httptest.NewRequest(http.MethodGet, "/orders", nil)
			for i := 0; i < len(tt.headers); i += 2 {
				r.Header.Add(tt.headers[i], tt.headers[i+1])
			}
			ctx, reason := problem.WithReason(r.Context())
			if tt.session {
				sess := session
				if tt.sessionAs != "" {
					sess = identity.New(identity.Options{Subject: tt.sessionAs, Method: identity.MethodSession})
				}
				ctx = identity.NewContext(ctx, sess)
			}
			w := httptest.NewRecorder()
			hh.ServeHTTP(w, r.WithContext(ctx))
			if w.Code != tt.wantStatus || reached != (tt.wantStatus == 200) {
				t.Fatalf("status %d, handler reached %v, reason %v; want %d", w.Code, reached, reason.Err(), tt.wantStatus)
			}
			if w.Code == 401 && challenge != "" && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), challenge) {
				t.Errorf("401 with challenge %q, want %s", w.Header().Get("WWW-Authenticate"), challenge)
			}
			if tt.wantReason != nil && !errors.Is(reason.Err(), tt.wantReason) {
				t.Errorf("reason %v, want %v", reason.Err(), tt.wantReason)
			}
			if got.Subject() != tt.wantSubject || got.Method() != tt.wantMethod {
				t.Errorf("identity %q %q, want %q %q", got.Subject(), got.Method(), tt.wantSubject, tt.wantMethod)
			}
		})
	}
}

func TestAPIKeyOptional(t *testing.T) {
	s := newAPIKeySetup(t, nil)
	key := s.live.Key
	runOptional(t, s.mw.Optional, "ApiKey", []optionalCase{
		{name: "no key: through, anonymous", wantStatus: 200},
		{name: "no key: through, the session's identity kept", session: true, wantStatus: 200, wantSubject: "carol", wantMethod: identity.MethodSession},
		{name: "a bearer token in Authorization is no key", headers: []string{"Authorization", "Bearer a.b.c"}, wantStatus: 200},
		{name: "a valid key", headers: []string{"X-API-Key", key}, wantStatus: 200, wantSubject: "svc-billing", wantMethod: identity.MethodAPIKey},
		{name: "a wrong key is refused", headers: []string{"X-API-Key", key[:len(key)-1] + "x"}, wantStatus: 401},
		{name: "an expired key is refused", headers: []string{"X-API-Key", s.expired.Key}, wantStatus: 401, wantReason: auth.ErrInvalidCredentials},
		{name: "an empty key is refused", headers: []string{"X-API-Key", ""}, wantStatus: 401},
		{name: "two keys are refused", headers: []string{"X-API-Key", key, "X-API-Key", key}, wantStatus: 401, wantReason: auth.ErrMalformedCredentials},
		{name: "a key on a request a session of another subject authenticated is refused", headers: []string{"X-API-Key", key}, session: true, wantStatus: 401, wantReason: auth.ErrAmbiguousCredentials},
		{name: "a key of the session's subject runs as the key", headers: []string{"X-API-Key", key}, session: true, sessionAs: "svc-billing", wantStatus: 200, wantSubject: "svc-billing", wantMethod: identity.MethodAPIKey},
	})
	t.Run("the zero APIKey refuses a request without a key", func(t *testing.T) {
		runOptional(t, (&auth.APIKey{}).Optional, "ApiKey", []optionalCase{{name: "no key", wantStatus: 401}})
	})
	t.Run("in Authorization", func(t *testing.T) {
		s := newAPIKeySetup(t, func(o *auth.APIKeyOptions) { o.Header = "Authorization"; o.Scheme = "ApiKey" })
		key := s.live.Key
		long := "Bearer " + strings.Repeat("a", 300) + ".b.c" // longer than any key
		runOptional(t, s.mw.Optional, "ApiKey", []optionalCase{
			{name: "another scheme is no key, however long", headers: []string{"Authorization", long}, wantStatus: 200},
			{name: "a scheme that only starts like it is another", headers: []string{"Authorization", "ApiKeys " + key}, wantStatus: 200},
			{name: "a valid key", headers: []string{"Authorization", "ApiKey " + key}, wantStatus: 200, wantSubject: "svc-billing", wantMethod: identity.MethodAPIKey},
			{name: "the scheme in any case", headers: []string{"Authorization", "apikey " + key}, wantStatus: 200, wantSubject: "svc-billing", wantMethod: identity.MethodAPIKey},
			{name: "the scheme alone is refused", headers: []string{"Authorization", "ApiKey"}, wantStatus: 401, wantReason: auth.ErrMalformedCredentials},
			{name: "two Authorization lines are refused", headers: []string{"Authorization", "ApiKey " + key, "Authorization", long}, wantStatus: 401, wantReason: auth.ErrMalformedCredentials},
		})
	})
}

func TestBasicOptional(t *testing.T) {
	s := newBasic(t, nil)
	runOptional(t, s.basic.Optional, "Basic", []optionalCase{
		{name: "no credentials: through, anonymous", wantStatus: 200},
		{name: "no credentials: through, the session's identity kept", session: true, wantStatus: 200, wantSubject: "carol", wantMethod: identity.MethodSession},
		{name: "a bearer token is no Basic credential", headers: []string{"Authorization", "Bearer a.b.c"}, wantStatus: 200},
		{name: "a scheme that only starts like it is another", headers: []string{"Authorization", "Basicx YTpi"}, wantStatus: 200},
		{name: "the right password", headers: []string{"Authorization", basicValue("alice", "wonderland")}, wantStatus: 200, wantSubject: "alice", wantMethod: identity.MethodBasic},
		{name: "a wrong password is refused", headers: []string{"Authorization", basicValue("alice", "x")}, wantStatus: 401, wantReason: auth.ErrInvalidCredentials},
		{name: "the scheme alone is refused", headers: []string{"Authorization", "Basic"}, wantStatus: 401, wantReason: auth.ErrMalformedCredentials},
		{name: "bad base64 is refused", headers: []string{"Authorization", "basic !!!!"}, wantStatus: 401, wantReason: auth.ErrMalformedCredentials},
		{name: "two Authorization lines are refused", headers: []string{"Authorization", basicValue("alice", "wonderland"), "Authorization", "Bearer a.b.c"}, wantStatus: 401, wantReason: auth.ErrMalformedCredentials},
		{name: "credentials of another user than the session's are refused", headers: []string{"Authorization", basicValue("alice", "wonderland")}, session: true, wantStatus: 401, wantReason: auth.ErrAmbiguousCredentials},
		{name: "credentials of the session's user run as Basic", headers: []string{"Authorization", basicValue("alice", "wonderland")}, session: true, sessionAs: "alice", wantStatus: 200, wantSubject: "alice", wantMethod: identity.MethodBasic},
	})
	t.Run("the zero Basic refuses a request without credentials", func(t *testing.T) {
		runOptional(t, (&auth.Basic{}).Optional, "Basic", []optionalCase{{name: "no credentials", wantStatus: 401}})
	})
	t.Run("credentials on a session are an attempt like any other", func(t *testing.T) {
		// The subject is known only once they verify: a wrong password
		// on a session is counted, and refused as wrong, not ambiguous.
		s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = newFakeLimiter(3) })
		runOptional(t, s.basic.Optional, "Basic", []optionalCase{{name: "session and a wrong password", headers: []string{"Authorization", basicValue("alice", "x")}, session: true, wantStatus: 401, wantReason: auth.ErrInvalidCredentials}})
		if s.hasher.calls.Load() != 1 || s.limiter.reserves != 1 {
			t.Fatalf("%d verifications, %d attempts reserved; want one each", s.hasher.calls.Load(), s.limiter.reserves)
		}
	})
}

// TestBasicOptionalLimitsAndCachesAsHandler: the failed-attempt limiting
// and the verification cache apply to Optional exactly as to Handler.
func TestBasicOptionalLimitsAndCachesAsHandler(t *testing.T) {
	seq := []string{basicValue("alice", "x"), basicValue("alice", "y"), basicValue("alice", "z"), basicValue("alice", "wonderland")}
	var statuses [2][]int
	var limiters [2]*fakeLimiter
	for i, optional := range []bool{false, true} {
		s := newBasic(t, func(o *auth.BasicOptions) { o.Limiter = newFakeLimiter(3) })
		h := s.basic.Handler
		if optional {
			h = s.basic.Optional
		}
		hh := h(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		for _, v := range seq {
			w, _ := do(hh, v)
			statuses[i] = append(statuses[i], w.Code)
		}
		limiters[i] = s.limiter
	}
	if want := []int{401, 401, 401, 429}; !slices.Equal(statuses[0], want) || !slices.Equal(statuses[1], want) {
		t.Fatalf("Handler answered %v, Optional %v; want %v (locked after 3 failures)", statuses[0], statuses[1], want)
	}
	if a, b := limiters[0], limiters[1]; a.checks != b.checks || a.reserves != b.reserves || a.successes != b.successes {
		t.Fatalf("limiter calls: Handler %d/%d/%d, Optional %d/%d/%d", a.checks, a.reserves, a.successes, b.checks, b.reserves, b.successes)
	}

	s := newBasic(t, func(o *auth.BasicOptions) { o.CacheTTL = time.Minute })
	hh := s.basic.Optional(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 3 {
		if w, err := do(hh, basicValue("alice", "wonderland")); w.Code != 200 {
			t.Fatalf("status %d, reason %v", w.Code, err)
		}
	}
	if n := s.hasher.worked.Load(); n != 1 {
		t.Fatalf("%d verifications for three requests; the cache should answer two", n)
	}
}

// TestOptionalStack: JWT.Optional and APIKey.Optional in front of a guard
// that requires an identity, in either order. A request with one
// credential runs with its identity; one with none is refused by the
// guard; one with both, or with one on top of a session, is refused as
// ambiguous by the second layer to find a credential, so that neither
// principal silently wins.
func TestOptionalStack(t *testing.T) {
	k := keysOnce()
	bearerMW := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}})
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	keys := newAPIKeySetup(t, nil)
	key := keys.live.Key
	guard := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id, ok := identity.FromRequest(r); !ok || id.Subject() == "" {
				http.Error(w, "no identity", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	tests := []optionalCase{
		{name: "neither: the guard refuses", wantStatus: 401},
		{name: "a token", headers: []string{"Authorization", "Bearer " + tok}, wantStatus: 200, wantSubject: "alice", wantMethod: identity.MethodBearer},
		{name: "a key", headers: []string{"X-API-Key", key}, wantStatus: 200, wantSubject: "svc-billing", wantMethod: identity.MethodAPIKey},
		{name: "a token and a key: ambiguous", headers: []string{"Authorization", "Bearer " + tok, "X-API-Key", key}, wantStatus: 401, wantReason: auth.ErrAmbiguousCredentials},
		{name: "an invalid token and a valid key", headers: []string{"Authorization", "Bearer " + flipSig(tok), "X-API-Key", key}, wantStatus: 401},
		{name: "a valid token and an invalid key", headers: []string{"Authorization", "Bearer " + tok, "X-API-Key", "nope"}, wantStatus: 401},
		{name: "a token on a request a session of another user authenticated", headers: []string{"Authorization", "Bearer " + tok}, session: true, wantStatus: 401, wantReason: auth.ErrAmbiguousCredentials},
		{name: "a token of the session's user: the token's identity", headers: []string{"Authorization", "Bearer " + tok}, session: true, sessionAs: "alice", wantStatus: 200, wantSubject: "alice", wantMethod: identity.MethodBearer},
		{name: "a key of the session's subject: the key's identity", headers: []string{"X-API-Key", key}, session: true, sessionAs: "svc-billing", wantStatus: 200, wantSubject: "svc-billing", wantMethod: identity.MethodAPIKey},
		{name: "an invalid token on a session of its user", headers: []string{"Authorization", "Bearer " + flipSig(tok)}, session: true, sessionAs: "alice", wantStatus: 401},
		{name: "a session alone", session: true, wantStatus: 200, wantSubject: "carol", wantMethod: identity.MethodSession},
	}
	t.Run("JWT then APIKey", func(t *testing.T) {
		runOptional(t, func(h http.Handler) http.Handler { return bearerMW.Optional(keys.mw.Optional(guard(h))) }, "", tests)
	})
	t.Run("APIKey then JWT", func(t *testing.T) {
		runOptional(t, func(h http.Handler) http.Handler { return keys.mw.Optional(bearerMW.Optional(guard(h))) }, "", tests)
	})
}
