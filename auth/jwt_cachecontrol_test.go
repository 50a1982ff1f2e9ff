package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/auth"
)

// A response to a request authenticated by a token in the query string
// or a cookie is marked Cache-Control: private (RFC 6750 §2.3): a shared
// cache sees no credentials there (RFC 9111 §3.5 covers Authorization
// only), and could serve the response to others, or after the token
// expired or was revoked. A handler's own Cache-Control wins.
func TestJWTQueryOrCookieTokenResponseIsPrivate(t *testing.T) {
	k := keysOnce()
	tok := sign(t, jwt.SigningMethodHS256, k.hmac, nil, goodClaims())
	m := newJWT(t, auth.JWTOptions{Algorithms: []string{"HS256"}, Keys: []auth.Key{{Key: k.hmac}}, CookieName: "at", DangerouslyAllowQueryToken: true})
	cookie := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: "at", Value: tok})
		return r
	}
	query := func() *http.Request { return httptest.NewRequest(http.MethodGet, "/?access_token="+tok, nil) }
	header := func() *http.Request { return bearer(tok) }
	for _, tt := range []struct {
		name    string
		r       func() *http.Request
		outer   string // a Cache-Control set further out
		handler string // the handler's own Cache-Control
		want    string
	}{
		{"token in the query string", query, "", "", "private"},
		{"token in a cookie", cookie, "", "", "private"},
		{"token in the Authorization header", header, "", "", ""},
		{"token in the query string, the handler's no-store", query, "", "no-store", "no-store"},
		{"token in a cookie, no-store set further out", cookie, "no-store", "", "no-store"},
	} {
		for _, mw := range []struct {
			name string
			wrap func(http.Handler) http.Handler
		}{{"Handler", m.Handler}, {"Optional", m.Optional}} {
			t.Run(tt.name+" through "+mw.name, func(t *testing.T) {
				h := mw.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.handler != "" {
						w.Header().Set("Cache-Control", tt.handler)
					}
					io.WriteString(w, "ok")
				}))
				w := httptest.NewRecorder()
				if tt.outer != "" {
					w.Header().Set("Cache-Control", tt.outer)
				}
				h.ServeHTTP(w, tt.r())
				if w.Code != http.StatusOK {
					t.Fatalf("status %d", w.Code)
				}
				if got := w.Header().Values("Cache-Control"); len(got) > 1 || w.Header().Get("Cache-Control") != tt.want {
					t.Errorf("Cache-Control %q, want %q", got, tt.want)
				}
			})
		}
	}
}
