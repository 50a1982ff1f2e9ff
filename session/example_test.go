package session_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// attrs returns a Set-Cookie value without its (random) value.
func attrs(setCookie string) string {
	name, rest, _ := strings.Cut(setCookie, "=")
	_, rest, _ = strings.Cut(rest, ";")
	return name + "=…;" + rest
}

// A login, an authenticated request and a logout with the default options:
// the memory store and a __Host- cookie.
func Example() {
	sessions, err := session.New(session.Options{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the credentials first; then:
		id := identity.New(identity.Options{Subject: "alice", Roles: []string{"editor"}})
		if err := session.FromRequest(r).Login(id); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r) // put there by the middleware
		if !ok {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s (editor: %v)", id.Subject(), id.HasRole("editor"))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	h := sessions.Handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/login", nil))
	fmt.Println("login:", attrs(rec.Header().Get("Set-Cookie")))
	fmt.Println("Vary:", rec.Header().Get("Vary"), "/ Cache-Control:", rec.Header().Get("Cache-Control"))
	cookie := rec.Result().Cookies()[0]

	req := httptest.NewRequest("GET", "https://example.com/me", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("me:", rec.Body.String())

	req = httptest.NewRequest("POST", "https://example.com/logout", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("logout:", attrs(rec.Header().Get("Set-Cookie")))

	// The cookie copied before the logout is dead.
	req = httptest.NewRequest("GET", "https://example.com/me", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("replay:", rec.Code)
	// Output:
	// login: __Host-session=…; Path=/; Secure; HttpOnly; SameSite=Lax
	// Vary: Cookie / Cache-Control: no-store
	// me: alice (editor: true)
	// logout: __Host-session=…; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/; Secure; HttpOnly; SameSite=Lax
	// replay: 401
}

// Typed values in a handler.
func ExampleMiddleware_Handler() {
	sessions := session.MustNew(session.Options{})
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		n, _ := s.GetInt("visits")
		s.SetInt("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	}))
	var cookie *http.Cookie
	for range 3 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if c := rec.Result().Cookies(); len(c) > 0 {
			cookie = c[0]
		}
		fmt.Println(rec.Body.String())
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}

// A configuration browsers would reject is an error from New, not a cookie
// that silently never comes back.
func ExampleNew_incorrect() {
	_, err := session.New(session.Options{
		CookieDomain: "example.com", // shares the cookie with subdomains...
		// ...but the default name has the __Host- prefix, which forbids it.
	})
	fmt.Println(errors.Is(err, session.ErrOption))
	fmt.Println(err)
	// Output:
	// true
	// session: option CookieDomain: browsers reject a __Host- cookie with a Domain
}

// Sessions kept entirely in an encrypted cookie, with key rotation: the
// new pair encodes, the old one still decodes until its cookies expire.
func ExampleNewCookieStore() {
	// In production, read the keys from the environment or a secret
	// manager; here they are random.
	pair := func() session.KeyPair {
		h, b := make([]byte, 32), make([]byte, 32)
		_, _ = rand.Read(h)
		_, _ = rand.Read(b)
		return session.KeyPair{HashKey: h, BlockKey: b}
	}
	store, err := session.NewCookieStore(session.CookieStoreOptions{
		Keys: []session.KeyPair{pair(), pair()}, // newest first
	})
	if err != nil {
		panic(err)
	}
	sessions := session.MustNew(session.Options{Store: store})
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).SetString("theme", "dark")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	fmt.Println(attrs(rec.Header().Get("Set-Cookie")))

	_, err = session.NewCookieStore(session.CookieStoreOptions{
		Keys: []session.KeyPair{{HashKey: []byte("short"), BlockKey: make([]byte, 16)}},
	})
	fmt.Println(err)
	// Output:
	// __Host-session=…; Path=/; Secure; HttpOnly; SameSite=Lax
	// session: option Keys[0].HashKey: must be at least 32 bytes, got 5
	// session: option Keys[0].BlockKey: must be exactly 32 bytes (AES-256), got 16
}

// A password-reset link that expires after an hour.
func ExampleSigner() {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // in production: a persistent secret
	reset, err := session.NewSigner(session.SignerOptions{
		Keys:    [][]byte{key},
		Purpose: "password-reset",
		MaxAge:  time.Hour,
	})
	if err != nil {
		panic(err)
	}
	token, _ := reset.Sign([]byte("user-42"))
	link := "https://example.com/reset?token=" + token

	got, err := reset.Verify(strings.TrimPrefix(link, "https://example.com/reset?token="))
	fmt.Println(string(got), err)

	_, err = reset.Verify(token[:len(token)-2])
	fmt.Println(err)
	// Output:
	// user-42 <nil>
	// session: invalid signed token
}

// Any cookie the application sets can get the same defaults.
func ExampleSetCookie() {
	rec := httptest.NewRecorder()
	if err := session.SetCookie(rec, &http.Cookie{Name: "__Host-prefs", Value: "compact"}); err != nil {
		panic(err)
	}
	fmt.Println(rec.Header().Get("Set-Cookie"))
	// Output:
	// __Host-prefs=compact; Path=/; HttpOnly; Secure; SameSite=Lax
}

// A login form with a "remember me" box: only the sessions of users who
// tick it get the remembered timeouts and a persistent cookie, which
// survives a browser restart until those timeouts end the session.
func ExampleSession_RememberMe() {
	// A remembered session lasts 30 days from login, ended by 7 days
	// without a request; any other keeps the defaults (30 minutes idle,
	// 12 hours).
	sessions := session.MustNew(session.Options{
		RememberMeIdleTimeout:     7 * 24 * time.Hour,
		RememberMeAbsoluteTimeout: 30 * 24 * time.Hour,
	})
	login := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ... check the credentials, then:
		s := session.FromRequest(r)
		s.RememberMe(r.PostFormValue("remember") == "on")
		if err := s.Login(identity.New(identity.Options{Subject: "alice"})); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	}))
	for _, form := range []string{"user=alice", "user=alice&remember=on"} {
		req := httptest.NewRequest("POST", "https://example.com/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		login.ServeHTTP(rec, req)
		fmt.Println(attrs(rec.Header().Get("Set-Cookie")))
	}
	// Output:
	// __Host-session=…; Path=/; Secure; HttpOnly; SameSite=Lax
	// __Host-session=…; Max-Age=604800; Path=/; Secure; HttpOnly; SameSite=Lax
}

// A "your session expires soon" warning: each page is served with the time
// its session ends without a further request, from which a script on it
// warns the user before. (A script that asked the server instead would
// make requests that themselves keep the session alive.) A remembered
// session ends later.
func ExampleSession_Expiry() {
	sessions := session.MustNew(session.Options{
		RememberMeIdleTimeout:     7 * 24 * time.Hour,
		RememberMeAbsoluteTimeout: 30 * 24 * time.Hour,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// ... check the credentials, then:
		s := session.FromRequest(r)
		s.RememberMe(r.PostFormValue("remember") == "on")
		if err := s.Login(identity.New(identity.Options{Subject: "alice"})); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		end := session.FromRequest(r).Expiry()
		if end.IsZero() {
			http.Error(w, "signed out", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		// A page would carry end.Format(time.RFC3339) for its script.
		fmt.Fprintln(w, "ends in", time.Until(end).Round(time.Minute))
	})
	h := sessions.Handler(mux)
	for _, form := range []string{"user=alice", "user=alice&remember=on"} {
		req := httptest.NewRequest("POST", "https://example.com/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		req = httptest.NewRequest("GET", "https://example.com/account", nil)
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(c)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
	}
	// Output:
	// ends in 30m0s
	// ends in 168h0m0s
}

// The middleware in front of an httputil.ReverseProxy to a legacy backend
// that sets cookies, one of them with the session cookie's name. The
// proxy's Rewrite keeps the session cookie from the backend (the token is
// the gateway's credential, not the backend's), and ModifyResponse keeps
// the backend's cookie of that name from replacing it in the browser.
func ExampleMiddleware_ModifyResponse() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("the backend gets Cookie %q\n", r.Header.Get("Cookie"))
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		http.SetCookie(w, &http.Cookie{Name: "__Host-session", Value: "legacy", Path: "/", Secure: true})
	}))
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	if err != nil {
		log.Fatal(err)
	}

	sessions, err := session.New(session.Options{})
	if err != nil {
		log.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Del("Cookie")
			for _, c := range pr.In.Cookies() {
				if c.Name != sessions.CookieName() {
					pr.Out.AddCookie(c)
				}
			}
		},
		ModifyResponse: sessions.ModifyResponse,
	}
	gateway := httptest.NewTLSServer(sessions.Handler(proxy))
	defer gateway.Close()

	req, _ := http.NewRequest(http.MethodGet, gateway.URL, nil)
	req.Header.Set("Cookie", "theme=light; __Host-session=the-users-token")
	res, err := gateway.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Printf("the client gets Set-Cookie %q\n", res.Header.Values("Set-Cookie"))
	// Output:
	// the backend gets Cookie "theme=light"
	// the client gets Set-Cookie ["theme=dark"]
}

// An application embedded in other sites' iframes (a support widget)
// keeps its session in a partitioned cookie, one per embedding site, which
// browsers that block third-party cookies still keep in the frame. Every
// cookie the middleware sets is partitioned, the deletion on logout
// included. Partitioned needs SameSite=None, said explicitly: a Lax
// partitioned cookie would never reach the frame, so New refuses it.
func ExampleOptions_partitioned() {
	_, err := session.New(session.Options{Partitioned: true})
	fmt.Println(err)

	sessions := session.MustNew(session.Options{
		CookieName:  "__Host-widget-session", // not the name of a cookie browsers may hold unpartitioned
		SameSite:    http.SameSiteNoneMode,
		Partitioned: true,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the credentials first; then:
		if err := session.FromRequest(r).Login(identity.New(identity.Options{Subject: "alice"})); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	h := sessions.Handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "https://widget.example/login", nil))
	fmt.Println("login:", attrs(rec.Header().Get("Set-Cookie")))
	req := httptest.NewRequest("POST", "https://widget.example/logout", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("logout:", attrs(rec.Header().Get("Set-Cookie")))
	// Output:
	// session: option Partitioned: requires SameSite=None: browsers neither store nor send a Lax or Strict cookie in a cross-site frame, where a partitioned cookie is needed
	// login: __Host-widget-session=…; Path=/; Secure; HttpOnly; SameSite=None; Partitioned
	// logout: __Host-widget-session=…; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/; Secure; HttpOnly; SameSite=None; Partitioned
}

// A password change ends the user's other sessions. Each login carries
// the version of the user's password in a claim; ValidateLogin refuses a
// session whose version is no longer the user's, and the request that
// changes the password logs in again with the new one, so that its own
// session stays.
func ExampleOptions_validateLogin() {
	var mu sync.Mutex
	passwordVersion := map[string]float64{"alice": 1} // the user store

	login := func(s *session.Session, user string) error {
		mu.Lock()
		v := passwordVersion[user]
		mu.Unlock()
		return s.Login(identity.New(identity.Options{Subject: user, Claims: map[string]any{"pwv": v}}))
	}
	sessions := session.MustNew(session.Options{
		ValidateLogin: func(ctx context.Context, id identity.Identity, loggedIn time.Time) (bool, error) {
			v, _ := id.Claim("pwv") // a number from the session record
			mu.Lock()
			defer mu.Unlock()
			current, ok := passwordVersion[id.Subject()]
			return ok && v == current, nil // an error here would be a 503
		},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the credentials first; then:
		if err := login(session.FromRequest(r), "alice"); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /password", func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromRequest(r)
		if !ok {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		// Check the old password and store the new one's hash; then:
		mu.Lock()
		passwordVersion[id.Subject()]++
		mu.Unlock()
		if err := login(session.FromRequest(r), id.Subject()); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := identity.FromRequest(r); ok {
			fmt.Fprint(w, id.Subject())
			return
		}
		http.Error(w, "sign in first", http.StatusUnauthorized)
	})
	h := sessions.Handler(mux)

	serve := func(method, path string, c *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "https://example.com"+path, nil)
		if c != nil {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	laptop := serve("POST", "/login", nil).Result().Cookies()[0]
	phone := serve("POST", "/login", nil).Result().Cookies()[0]
	fmt.Println("phone:", serve("GET", "/me", phone).Body.String())

	laptop = serve("POST", "/password", laptop).Result().Cookies()[0] // a new session ID
	fmt.Println("phone after the change:", serve("GET", "/me", phone).Code)
	fmt.Println("laptop after the change:", serve("GET", "/me", laptop).Body.String())
	// Output:
	// phone: alice
	// phone after the change: 401
	// laptop after the change: alice
}

// A form draft kept in the session: what the client posts goes into the
// session, so MaxBytes bounds it. A draft that would take the session
// past the bound is not saved, and the draft saved before is kept; the
// answer is a 500, since the handler should refuse what it cannot keep
// before it reaches the session, as this one does with 413 for a body
// over 4 KiB.
func ExampleOptions_maxBytes() {
	sessions := session.MustNew(session.Options{MaxBytes: 1 << 10})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /draft", func(w http.ResponseWriter, r *http.Request) {
		// The check a handler should make: a body larger than this
		// gets 413 before the session is touched.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
		if err != nil {
			http.Error(w, "draft too long", http.StatusRequestEntityTooLarge)
			return
		}
		session.FromRequest(r).SetString("draft", string(body))
	})
	mux.HandleFunc("GET /draft", func(w http.ResponseWriter, r *http.Request) {
		draft, _ := session.FromRequest(r).GetString("draft")
		fmt.Fprintf(w, "%d bytes", len(draft))
	})
	h := sessions.Handler(mux)

	serve := func(method, body string, c *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "https://example.com/draft", strings.NewReader(body))
		if c != nil {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	c := serve("POST", strings.Repeat("a", 500), nil).Result().Cookies()[0]
	fmt.Println("a 3000-byte draft:", serve("POST", strings.Repeat("b", 3000), c).Code)
	fmt.Println("the draft kept:", serve("GET", "", c).Body.String())
	fmt.Println("a 5000-byte draft:", serve("POST", strings.Repeat("b", 5000), c).Code)
	// Output:
	// a 3000-byte draft: 500
	// the draft kept: 500 bytes
	// a 5000-byte draft: 413
}
