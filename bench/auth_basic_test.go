package bench

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/identity"
)

// The peers' Basic middlewares compare PLAINTEXT passwords: chi's
// BasicAuth takes a map of user to password, echo's calls a validator
// that here compares with subtle.ConstantTimeCompare. Neither stores a
// hash, puts an identity in the context or hides unknown users. The fair
// comparison with them is httpguard's cached path, which also skips the
// password hash; BenchmarkAuthBasicHashed compares httpguard's uncached
// path with the hashing floor (one argon2id verification alone) and with
// echo calling the same verification from its validator.

const (
	basicUser = "alice"
	basicPass = "correct horse battery staple"
)

// basicWriter clears its headers between requests, so no implementation
// pays for a fresh map.
type basicWriter struct {
	h    http.Header
	code int
}

func (w *basicWriter) Header() http.Header         { return w.h }
func (w *basicWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *basicWriter) WriteHeader(code int)        { w.code = code }

func serveBasic(b *testing.B, h http.Handler, r *http.Request, want int) {
	b.Helper()
	w := &basicWriter{h: make(http.Header, 8)}
	h.ServeHTTP(w, r)
	if got := w.code; got != want && !(got == 0 && want == http.StatusOK) {
		b.Fatalf("status %d, want %d", got, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, r)
	}
}

func basicRequest(authz string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	return r
}

var basicOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

type basicImpls struct {
	httpguard       http.Handler // cached verification
	httpguardHashed http.Handler // no cache: argon2id on every request
	chi             http.Handler
	echo            http.Handler
	echoHashed      http.Handler
	stored          string
}

func newBasicImpls(b *testing.B) *basicImpls {
	b.Helper()
	stored, err := password.Hash(basicPass)
	if err != nil {
		b.Fatal(err)
	}
	users := auth.NewMemoryUsers()
	if err := users.Add(basicUser, auth.User{Hash: stored, Identity: identity.Options{Roles: []string{"admin"}}}); err != nil {
		b.Fatal(err)
	}
	cached := auth.MustNewBasic(auth.BasicOptions{Users: users, CacheTTL: time.Hour})
	uncached := auth.MustNewBasic(auth.BasicOptions{Users: users})

	echoOK := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	plain := echoMiddleware(echoOK, echomw.BasicAuth(func(u, p string, _ echo.Context) (bool, error) {
		return subtle.ConstantTimeCompare([]byte(u), []byte(basicUser)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(basicPass)) == 1, nil
	}))
	hashed := echoMiddleware(echoOK, echomw.BasicAuth(func(u, p string, _ echo.Context) (bool, error) {
		ok, _, err := password.Verify(p, stored)
		return ok && u == basicUser, err
	}))

	return &basicImpls{
		httpguard:       cached.Handler(basicOK),
		httpguardHashed: uncached.Handler(basicOK),
		chi:             middleware.BasicAuth("restricted", map[string]string{basicUser: basicPass})(basicOK),
		echo:            plain,
		echoHashed:      hashed,
		stored:          stored,
	}
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// BenchmarkAuthBasic: valid credentials. httpguard serves from its
// verification cache (the store is still consulted and an identity is put
// in the context); the peers compare plaintext. echo's middleware runs
// without its router (echoMiddleware), as the others do.
func BenchmarkAuthBasic(b *testing.B) {
	im := newBasicImpls(b)
	r := basicRequest(basicHeader(basicUser, basicPass))
	b.Run("impl=httpguard", func(b *testing.B) { serveBasic(b, im.httpguard, r, http.StatusOK) })
	b.Run("impl=chi", func(b *testing.B) { serveBasic(b, im.chi, r, http.StatusOK) })
	b.Run("impl=echo", func(b *testing.B) { serveBasic(b, im.echo, r, http.StatusOK) })
}

// BenchmarkAuthBasicNoCredentials: the 401 challenge for a request
// without Authorization. httpguard writes an RFC 9457 body.
func BenchmarkAuthBasicNoCredentials(b *testing.B) {
	im := newBasicImpls(b)
	r := basicRequest("")
	b.Run("impl=httpguard", func(b *testing.B) { serveBasic(b, im.httpguard, r, http.StatusUnauthorized) })
	b.Run("impl=chi", func(b *testing.B) { serveBasic(b, im.chi, r, http.StatusUnauthorized) })
	b.Run("impl=echo", func(b *testing.B) { serveBasic(b, im.echo, r, http.StatusUnauthorized) })
}

// BenchmarkAuthBasicMalformed: invalid base64 in the credentials.
func BenchmarkAuthBasicMalformed(b *testing.B) {
	im := newBasicImpls(b)
	r := basicRequest("Basic !!!!not-base64")
	b.Run("impl=httpguard", func(b *testing.B) { serveBasic(b, im.httpguard, r, http.StatusUnauthorized) })
	b.Run("impl=chi", func(b *testing.B) { serveBasic(b, im.chi, r, http.StatusUnauthorized) })
	// echo answers 400 to bad base64.
	b.Run("impl=echo", func(b *testing.B) { serveBasic(b, im.echo, r, http.StatusBadRequest) })
}

// BenchmarkAuthBasicHashed: valid credentials against an argon2id hash at
// the OWASP parameters on every request. impl=floor is the verification
// alone, the least any middleware storing hashes can spend. Run it with a
// small -benchtime: each operation takes tens of milliseconds.
func BenchmarkAuthBasicHashed(b *testing.B) {
	im := newBasicImpls(b)
	r := basicRequest(basicHeader(basicUser, basicPass))
	b.Run("impl=httpguard", func(b *testing.B) { serveBasic(b, im.httpguardHashed, r, http.StatusOK) })
	b.Run("impl=floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _, err := password.Verify(basicPass, im.stored); !ok || err != nil {
				b.Fatal("verify failed")
			}
		}
	})
	b.Run("impl=echo", func(b *testing.B) { serveBasic(b, im.echoHashed, r, http.StatusOK) })
}
