package bench

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/gob"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// Every implementation does the same load+save: a request carries the
// cookie of a session holding a logged-in user ("user-1234", role
// "member"), a theme and a counter; the handler reads the counter and
// stores it incremented, so the session is decoded, changed, encoded and
// saved on every request.

var (
	sessHashKey  = bytes.Repeat([]byte{1}, 32)
	sessBlockKey = bytes.Repeat([]byte{2}, 32)
)

// sessWriter reuses one header map between requests.
type sessWriter struct {
	h    http.Header
	code int
}

func (w *sessWriter) Header() http.Header         { return w.h }
func (w *sessWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *sessWriter) WriteHeader(code int)        { w.code = code }

// sessSetup runs the login request and returns the load+save request
// carrying the session cookie it set.
func sessSetup(b *testing.B, h http.Handler, cookieName string) *http.Request {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/login", nil))
	r := httptest.NewRequest(http.MethodGet, "https://example.com/incr", nil)
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			r.AddCookie(c)
			return r
		}
	}
	b.Fatalf("no %s cookie set at login: %v", cookieName, rec.Header())
	return nil
}

// sessRun serves a shallow copy of r on each iteration: gorilla/sessions
// caches decoded sessions in the request it is given (it overwrites *r
// with a copy carrying its registry), so reusing one *http.Request would
// let it skip decoding after the first iteration.
func sessRun(b *testing.B, h http.Handler, r *http.Request) {
	w := &sessWriter{h: make(http.Header, 8)}
	serve := func() {
		rr := *r
		h.ServeHTTP(w, &rr)
	}
	serve()
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("status %d", w.code)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		serve()
	}
}

func httpguardSessions(b *testing.B, store session.Store) http.Handler {
	m, err := session.New(session.Options{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if r.URL.Path == "/login" {
			_ = s.Login(identity.New(identity.Options{Subject: "user-1234", Roles: []string{"member"}}))
			s.SetString("theme", "dark")
			s.SetInt("n", 1)
			return
		}
		n, _ := s.GetInt("n")
		s.SetInt("n", n+1)
	}))
}

// BenchmarkSessionMemory compares server-side sessions in memory with
// alexedwards/scs v2 and its default memstore.
func BenchmarkSessionMemory(b *testing.B) {
	b.Run("impl=httpguard", func(b *testing.B) {
		store, err := session.NewMemoryStore(session.MemoryOptions{})
		if err != nil {
			b.Fatal(err)
		}
		h := httpguardSessions(b, store)
		sessRun(b, h, sessSetup(b, h, session.DefaultCookieName))
	})
	b.Run("impl=scs", func(b *testing.B) {
		sm := scs.New()
		sm.Cookie.Secure = true
		sm.Cookie.Name = "session"
		h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if r.URL.Path == "/login" {
				if err := sm.RenewToken(ctx); err != nil {
					b.Error(err)
				}
				sm.Put(ctx, "user", "user-1234")
				sm.Put(ctx, "roles", []string{"member"})
				sm.Put(ctx, "theme", "dark")
				sm.Put(ctx, "n", 1)
				return
			}
			sm.Put(ctx, "n", sm.GetInt(ctx, "n")+1)
		}))
		sessRun(b, h, sessSetup(b, h, "session"))
	})
}

// BenchmarkSessionCookie compares sessions kept in an encrypted cookie
// with gorilla/sessions' CookieStore (securecookie with gob), with the same
// key sizes (HMAC-SHA256 and AES-256). Two floors do only the
// cryptography, without HTTP: impl=floor-securecookie-gob encodes and
// decodes the same values with securecookie's default gob serializer, and
// impl=floor-aesgcm seals and opens a payload of the same size with
// AES-256-GCM.
func BenchmarkSessionCookie(b *testing.B) {
	b.Run("impl=httpguard", func(b *testing.B) {
		store, err := session.NewCookieStore(session.CookieStoreOptions{
			Keys: []session.KeyPair{{HashKey: sessHashKey, BlockKey: sessBlockKey}},
		})
		if err != nil {
			b.Fatal(err)
		}
		h := httpguardSessions(b, store)
		sessRun(b, h, sessSetup(b, h, session.DefaultCookieName))
	})
	b.Run("impl=gorilla", func(b *testing.B) {
		store := sessions.NewCookieStore(sessHashKey, sessBlockKey)
		store.Options.Secure = true
		store.Options.HttpOnly = true
		store.Options.SameSite = http.SameSiteLaxMode
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := store.Get(r, "session")
			if r.URL.Path == "/login" {
				s.Values["user"] = "user-1234"
				s.Values["roles"] = []string{"member"}
				s.Values["theme"] = "dark"
				s.Values["n"] = 1
			} else {
				n, _ := s.Values["n"].(int)
				s.Values["n"] = n + 1
			}
			if err := s.Save(r, w); err != nil {
				b.Error(err)
			}
		})
		sessRun(b, h, sessSetup(b, h, "session"))
	})
	values := map[any]any{"user": "user-1234", "roles": []string{"member"}, "theme": "dark", "n": 1}
	b.Run("impl=floor-securecookie-gob", func(b *testing.B) {
		sc := securecookie.New(sessHashKey, sessBlockKey)
		b.ReportAllocs()
		for b.Loop() {
			enc, err := sc.Encode("session", values)
			if err != nil {
				b.Fatal(err)
			}
			var dst map[any]any
			if err := sc.Decode("session", enc, &dst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=floor-aesgcm", func(b *testing.B) {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(values); err != nil {
			b.Fatal(err)
		}
		payload := buf.Bytes()
		block, _ := aes.NewCipher(sessBlockKey)
		aead, _ := cipher.NewGCM(block)
		nonce := make([]byte, aead.NonceSize())
		out := make([]byte, 0, len(payload)+aead.Overhead())
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rand.Read(nonce)
			sealed := aead.Seal(out[:0], nonce, payload, nil)
			if _, err := aead.Open(sealed[:0], nonce, sealed, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
