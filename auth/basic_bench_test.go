package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// benchServe serves r through h in a loop with a reusable writer.
func benchServe(b *testing.B, h http.Handler, r *http.Request, want int) {
	b.Helper()
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, r)
	if w.code != 0 && w.code != want || w.code == 0 && want != 200 {
		b.Fatalf("status %d; want %d", w.code, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkBasic measures the middleware with the production Hasher
// (argon2id at the OWASP parameters). path=bare is the handler alone, the
// baseline for the overhead of path=cached.
func BenchmarkBasic(b *testing.B) {
	users := auth.NewMemoryUsers()
	if err := users.AddPassword("alice", "correct horse battery staple", identity.Options{Roles: []string{"admin"}}); err != nil {
		b.Fatal(err)
	}
	cached := auth.MustNewBasic(auth.BasicOptions{Users: users, CacheTTL: time.Hour})
	uncached := auth.MustNewBasic(auth.BasicOptions{Users: users})
	req := func(v string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
		if v != "" {
			r.Header.Set("Authorization", v)
		}
		return r
	}
	good := basicValue("alice", "correct horse battery staple")
	b.Run("path=bare", func(b *testing.B) { benchServe(b, noop, req(good), 200) })
	b.Run("path=cached", func(b *testing.B) { benchServe(b, cached.Handler(noop), req(good), 200) })
	b.Run("path=no-credentials", func(b *testing.B) { benchServe(b, cached.Handler(noop), req(""), 401) })
	b.Run("path=malformed", func(b *testing.B) { benchServe(b, cached.Handler(noop), req("Basic !!!!"), 401) })
	b.Run("path=huge-header", func(b *testing.B) {
		benchServe(b, cached.Handler(noop), req("Basic "+strings.Repeat("QUFB", 1<<18)), 401)
	})
	b.Run("path=uncached", func(b *testing.B) { benchServe(b, uncached.Handler(noop), req(good), 200) })
	b.Run("path=unknown-user", func(b *testing.B) {
		benchServe(b, cached.Handler(noop), req(basicValue("mallory", "correct horse battery staple")), 401)
	})
}

func BenchmarkParseBasic(b *testing.B) {
	for _, bm := range []struct{ name, v string }{
		{"input=typical", basicValue("alice", "correct horse battery staple")},
		{"input=max-length", "Basic " + strings.Repeat("QUFB", (auth.MaxBasicHeaderLength-6)/4)},
		{"input=1MiB", "Basic " + strings.Repeat("QUFB", 1<<18)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = auth.ParseBasic(bm.v)
			}
		})
	}
}

func BenchmarkAPIKey(b *testing.B) {
	s := newAPIKeySetup(b, nil)
	req := func(v string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-API-Key", v)
		return r
	}
	h := s.mw.Handler(noop)
	b.Run("path=valid", func(b *testing.B) { benchServe(b, h, req(s.live.Key), 200) })
	b.Run("path=unknown", func(b *testing.B) {
		benchServe(b, h, req(strings.Replace(s.live.Key, s.live.ID, "aaaaaaaaaaaaaaaa", 1)), 401)
	})
	b.Run("path=huge-header", func(b *testing.B) { benchServe(b, h, req(strings.Repeat("hg_", 1<<18)), 401) })
}
