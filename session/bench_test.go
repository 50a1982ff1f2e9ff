package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// discard is a ResponseWriter that keeps nothing but a reusable header
// map, so benchmarks measure the middleware, not a recorder.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

func (d *discard) reset() {
	clear(d.h)
	d.code = 0
}

// benchApp returns a handler that reads "n" (and, on /write, increments
// it), and a token for a session holding n and a logged-in identity.
func benchApp(tb testing.TB, store session.Store) (http.Handler, string, *session.Middleware) {
	tb.Helper()
	m, err := session.New(session.Options{Store: store})
	if err != nil {
		tb.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		n, _ := s.GetInt("n")
		switch r.URL.Path {
		case "/write":
			s.SetInt("n", n+1)
		case "/login":
			_ = s.Login(identity.New(identity.Options{Subject: "user-1234", Roles: []string{"member"}}))
			s.SetString("theme", "dark")
			s.SetInt("n", 1)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	c := rec.Result().Cookies()
	if len(c) != 1 {
		tb.Fatal("no cookie")
	}
	return h, c[0].Value, m
}

func benchRequest(m *session.Middleware, path, token string) *http.Request {
	r := httptest.NewRequest("GET", path, nil)
	if token != "" {
		r.Header.Set("Cookie", "_ga=GA1.2.3; "+m.CookieName()+"="+token+"; theme=dark")
	}
	return r
}

func benchStores(b *testing.B) map[string]session.Store {
	return map[string]session.Store{
		"memory": memoryStore(b, session.MemoryOptions{}),
		"cookie": cookieStore(b, nil),
	}
}

// BenchmarkMiddleware measures one request through the middleware per
// store: op=read loads a logged-in session and reads a value; op=write
// loads it, changes a value and saves it (the load+save the bench module
// compares with peers); op=anonymous carries no cookie.
func BenchmarkMiddleware(b *testing.B) {
	for _, name := range []string{"memory", "cookie"} {
		for _, op := range []string{"read", "write", "anonymous"} {
			b.Run("store="+name+"/op="+op, func(b *testing.B) {
				h, tok, m := benchApp(b, benchStores(b)[name])
				if op == "anonymous" {
					tok = ""
				}
				r := benchRequest(m, "/"+op, tok)
				w := &discard{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					h.ServeHTTP(w, r)
				}
			})
		}
	}
}

// BenchmarkAdversarial measures requests built to be expensive: a 64 KiB
// Cookie header of 2000 cookies, a session cookie of 4 KiB of garbage, and
// a forged server-side token of the right shape.
func BenchmarkAdversarial(b *testing.B) {
	var many strings.Builder
	for i := range 2000 {
		many.WriteString("c")
		many.WriteString(strings.Repeat("x", i%20))
		many.WriteString("=0123456789abcdef; ")
	}
	cases := []struct{ name, store, cookie string }{
		{"2000-cookies", "memory", many.String()},
		{"4KiB-garbage-session-cookie", "cookie", "__Host-session=" + strings.Repeat("A", 4090)},
		{"forged-token", "memory", "__Host-session=" + strings.Repeat("A", 43)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, _, _ := benchApp(b, benchStores(b)[c.store])
			r := httptest.NewRequest("GET", "/read", nil)
			r.Header.Set("Cookie", c.cookie)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, r)
			}
		})
	}
}

func BenchmarkSigner(b *testing.B) {
	s, err := session.NewSigner(session.SignerOptions{Keys: [][]byte{key(9)}, Purpose: "reset", MaxAge: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := s.Sign([]byte("user-1234"))
	b.Run("op=sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = s.Sign([]byte("user-1234"))
		}
	})
	b.Run("op=verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = s.Verify(tok)
		}
	})
}

// BenchmarkModifyResponse measures the removal of a backend's cookie of
// the session's name from a ReverseProxy's response, among two others.
func BenchmarkModifyResponse(b *testing.B) {
	m, err := session.New(session.Options{})
	if err != nil {
		b.Fatal(err)
	}
	lines := []string{"theme=dark; Path=/", "__Host-session=x; Path=/; Secure", "lang=en; Path=/"}
	vals := make([]string, len(lines))
	res := &http.Response{Header: make(http.Header, 4)}
	b.ReportAllocs()
	for b.Loop() {
		copy(vals, lines)
		res.Header["Set-Cookie"] = vals
		_ = m.ModifyResponse(res)
	}
}
