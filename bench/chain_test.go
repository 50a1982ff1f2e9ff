package bench

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
	rscors "github.com/rs/cors"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/errorsafe"
	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
	"github.com/httpguard/httpguard/rbac"
	"github.com/httpguard/httpguard/session"
)

// The recommended chain, outermost first, built twice:
//
//	recover → security headers → CORS → rate limit by IP → session
//	(memory store) → JWT HS256 → role check → handler
//
// httpguard: errorsafe.Recover, headers (the API preset, ten headers),
// cors, ratelimit (GCRA by address, RateLimit headers), session with its
// MemoryStore, auth.NewJWT, rbac.Require.
//
// peers: chi's middleware.Recoverer, unrolled/secure set to the same ten
// headers, rs/cors, go-chi/httprate (by address, X-RateLimit headers),
// alexedwards/scs with its memstore, auth0's go-jwt-middleware v2 with a
// custom claims type for the roles, and a role check written by hand
// (none of the peers does authorization; a map lookup is the cheapest
// fair stand-in, cheaper than casbin).
//
// Each iteration serves the same authenticated, cross-origin GET over
// HTTPS: an allowed Origin, a bearer token (sub alice, role user, iss and
// aud checked, 1 h lifetime) and the cookie of an existing session that
// holds a theme. The handler reads the theme from the session and the
// subject from the credentials, and writes a small JSON body. Nothing is
// refused, no session is saved (it is not modified), and no iteration
// logs. The writer reuses one header map, so what is measured is the
// middleware's own work.

const (
	chainOrigin   = "https://app.example.com"
	chainURL      = "https://api.example.com/items/42"
	chainSubject  = "alice"
	chainPerm     = "items:read"
	chainRole     = "user"
	chainPeerAddr = "192.0.2.1:40000"
)

var (
	chainSecret = []byte("0123456789abcdef0123456789abcdef")
	chainBody   = []byte(`{"id":42,"name":"item 42"}` + "\n")
	// chainRoles is the policy of both chains: guest reads items, user
	// inherits guest and reads profiles, admin inherits user.
	chainRoles = []rbac.Role{
		{Name: "guest", Permissions: []string{"items:read"}},
		{Name: "user", Inherits: []string{"guest"}, Permissions: []string{"profile:read"}},
		{Name: "admin", Inherits: []string{"user"}, Permissions: []string{"users:*"}},
	}
	// chainPeerGrants is chainRoles with inheritance resolved by hand, as
	// an application using the peers would write it.
	chainPeerGrants = map[string]map[string]bool{
		"guest": {"items:read": true},
		"user":  {"items:read": true, "profile:read": true},
		"admin": {"items:read": true, "profile:read": true, "users:read": true, "users:delete": true},
	}
	// The CORS policy of both chains.
	chainCORSMethods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}
	chainCORSHeaders = []string{"Authorization", "Content-Type"}
)

// chainWriter reuses one header map between requests.
type chainWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *chainWriter) Header() http.Header { return w.h }
func (w *chainWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}
func (w *chainWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

// chainToken mints the bearer token both chains verify.
func chainToken(tb testing.TB, role string) string {
	tb.Helper()
	iss, err := auth.NewIssuer(auth.IssuerOptions{
		Key:    auth.Key{Algorithm: "HS256", Key: chainSecret},
		Issuer: jwtIssuer, Audience: []string{jwtAudience}, TTL: time.Hour,
	})
	if err != nil {
		tb.Fatal(err)
	}
	at, err := iss.Issue(context.Background(), auth.Grant{Subject: chainSubject, Roles: []string{role}, Scopes: []string{chainPerm}})
	if err != nil {
		tb.Fatal(err)
	}
	return at.Token
}

// chainRequest is the request both chains serve; cookie may be nil.
func chainRequest(token string, cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, chainURL, nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	r.RemoteAddr = chainPeerAddr
	r.Header.Set("Origin", chainOrigin)
	r.Header.Set("Accept", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

// chainLogin runs a login request through the session layer alone and
// returns the session cookie it set.
func chainLogin(tb testing.TB, h http.Handler, name string) *http.Cookie {
	tb.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "https://api.example.com/login", nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	h.ServeHTTP(rec, r)
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	tb.Fatalf("no %s cookie set at login: %v", name, rec.Header())
	return nil
}

// A chain is one implementation: the handler and the session cookie of
// its logged-in client.
type chain struct {
	name   string
	h      http.Handler
	cookie *http.Cookie
}

func httpguardChain(tb testing.TB) chain {
	tb.Helper()
	es, err := errorsafe.New(errorsafe.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	hd, err := headers.New(headers.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	cr, err := cors.New(cors.Options{
		AllowedOrigins: []string{chainOrigin}, AllowedMethods: chainCORSMethods,
		AllowedHeaders: chainCORSHeaders, AllowCredentials: true, MaxAge: 10 * time.Minute,
	})
	if err != nil {
		tb.Fatal(err)
	}
	rl, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 1_000_000, Period: time.Second, Burst: 1 << 29}}})
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := session.New(session.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	jwt, err := auth.NewJWT(auth.JWTOptions{
		Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: chainSecret}},
		Issuer: jwtIssuer, Audience: jwtAudience, Type: auth.TypeAccessToken,
	})
	if err != nil {
		tb.Fatal(err)
	}
	policy, err := rbac.NewPolicy(chainRoles...)
	if err != nil {
		tb.Fatal(err)
	}
	rb, err := rbac.New(rbac.Options{Policy: policy, WWWAuthenticate: `Bearer realm="api"`})
	if err != nil {
		tb.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		theme, _ := session.FromRequest(r).GetString("theme")
		id, _ := identity.FromRequest(r)
		if theme != "dark" || id.Subject() != chainSubject {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(chainBody)
	})
	h := es.Recover(hd.Handler(cr.Handler(rl.Handler(sess.Handler(jwt.Handler(rb.Require(chainPerm)(handler)))))))
	login := sess.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if err := s.Renew(); err != nil {
			tb.Error(err)
		}
		s.SetString("theme", "dark")
	}))
	return chain{"httpguard", h, chainLogin(tb, login, session.DefaultCookieName)}
}

// chainClaims is the custom claims type go-jwt-middleware needs to read
// the roles claim.
type chainClaims struct {
	Roles []string `json:"roles"`
	Scope string   `json:"scope"`
}

func (*chainClaims) Validate(context.Context) error { return nil }

func peersChain(tb testing.TB) chain {
	tb.Helper()
	sec := unrolledTen()
	cr := rscors.New(rscors.Options{
		AllowedOrigins: []string{chainOrigin}, AllowedMethods: chainCORSMethods,
		AllowedHeaders: chainCORSHeaders, AllowCredentials: true, MaxAge: 600,
	})
	rl := httprate.LimitBy(1<<29, time.Second, func(r *http.Request) (string, error) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		return httprate.CanonicalizeIP(ip), nil
	})
	sm := scs.New()
	sm.Cookie.Name = "session"
	sm.Cookie.Secure = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	v, err := validator.New(func(context.Context) (any, error) { return chainSecret, nil }, validator.HS256, jwtIssuer, []string{jwtAudience},
		validator.WithCustomClaims(func() validator.CustomClaims { return &chainClaims{} }))
	if err != nil {
		tb.Fatal(err)
	}
	// go-jwt-middleware answers a missing token with 400 and no
	// challenge; RFC 6750 wants 401 with WWW-Authenticate, as httpguard
	// sends, so the application sets its own error handler.
	jwt := jwtmiddleware.New(v.ValidateToken, jwtmiddleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	requirePerm := func(perm string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				vc, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
				if !ok || vc.RegisteredClaims.Subject == "" {
					w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
					http.Error(w, "Unauthorized", http.StatusUnauthorized)
					return
				}
				if cc, ok := vc.CustomClaims.(*chainClaims); ok {
					for _, role := range cc.Roles {
						if chainPeerGrants[role][perm] {
							next.ServeHTTP(w, r)
							return
						}
					}
				}
				http.Error(w, "Forbidden", http.StatusForbidden)
			})
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		theme := sm.GetString(r.Context(), "theme")
		vc, _ := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
		if theme != "dark" || vc == nil || vc.RegisteredClaims.Subject != chainSubject {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(chainBody)
	})
	h := chimw.Recoverer(sec.Handler(cr.Handler(rl(sm.LoadAndSave(jwt.CheckJWT(requirePerm(chainPerm)(handler)))))))
	login := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sm.RenewToken(r.Context()); err != nil {
			tb.Error(err)
		}
		sm.Put(r.Context(), "theme", "dark")
	}))
	return chain{"peers", h, chainLogin(tb, login, "session")}
}

func chains(tb testing.TB) []chain { return []chain{httpguardChain(tb), peersChain(tb)} }

// chainServe serves r once on w after clearing it.
func chainServe(h http.Handler, w *chainWriter, r *http.Request) {
	clear(w.h)
	w.code, w.n = 0, 0
	h.ServeHTTP(w, r)
}

// chainWant lists, per implementation, response headers that prove each
// layer did its work on the allowed request.
var chainWant = map[string][]string{
	"httpguard": {"Strict-Transport-Security", "Content-Security-Policy", "Access-Control-Allow-Origin", "Ratelimit"},
	"peers":     {"Strict-Transport-Security", "Content-Security-Policy", "Access-Control-Allow-Origin", "X-Ratelimit-Remaining"},
}

// TestChainEquivalent checks that both chains accept the benchmark's
// request with every layer at work, refuse it without a token, and
// refuse a token whose role lacks the permission, so the benchmarks
// compare the same outcomes.
func TestChainEquivalent(t *testing.T) {
	tok := chainToken(t, chainRole)
	noPerm := chainToken(t, "auditor")
	for _, c := range chains(t) {
		t.Run(c.name, func(t *testing.T) {
			w := &chainWriter{h: make(http.Header, 32)}
			chainServe(c.h, w, chainRequest(tok, c.cookie))
			if w.code != http.StatusOK || w.n != len(chainBody) {
				t.Fatalf("allowed request: status %d, %d bytes", w.code, w.n)
			}
			for _, k := range chainWant[c.name] {
				if w.h.Get(k) == "" {
					t.Errorf("allowed request: no %s header in %v", k, w.h)
				}
			}
			if got := w.h.Get("Access-Control-Allow-Origin"); got != chainOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q", got)
			}
			if sc := w.h.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("unmodified session saved: Set-Cookie %q", sc)
			}

			chainServe(c.h, w, chainRequest("", c.cookie))
			if w.code != http.StatusUnauthorized {
				t.Errorf("without a token: status %d, want 401", w.code)
			}
			chainServe(c.h, w, chainRequest(tok[:len(tok)-4]+"AAAA", c.cookie))
			if w.code != http.StatusUnauthorized {
				t.Errorf("forged token: status %d, want 401", w.code)
			}
			chainServe(c.h, w, chainRequest(noPerm, c.cookie))
			if w.code != http.StatusForbidden {
				t.Errorf("role without the permission: status %d, want 403", w.code)
			}
		})
	}
}

// BenchmarkChain serves the allowed authenticated request through the
// whole chain.
func BenchmarkChain(b *testing.B) {
	tok := chainToken(b, chainRole)
	for _, c := range chains(b) {
		b.Run("impl="+c.name, func(b *testing.B) {
			chainRun(b, c, chainRequest(tok, c.cookie), http.StatusOK)
		})
	}
}

// BenchmarkChainUnauthenticated serves the same request without a token:
// every layer up to authentication runs, which refuses with 401.
func BenchmarkChainUnauthenticated(b *testing.B) {
	for _, c := range chains(b) {
		b.Run("impl="+c.name, func(b *testing.B) {
			chainRun(b, c, chainRequest("", c.cookie), http.StatusUnauthorized)
		})
	}
}

func chainRun(b *testing.B, c chain, r *http.Request, want int) {
	b.Helper()
	w := &chainWriter{h: make(http.Header, 32)}
	chainServe(c.h, w, r)
	if w.code != want {
		b.Fatalf("status %d, want %d", w.code, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		chainServe(c.h, w, r)
	}
	if w.code != want {
		b.Fatalf("status %d after the loop, want %d", w.code, want)
	}
}
