package browsertest_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/session"
)

// sessionApp returns a handler with a session middleware: GET login?as=NAME
// signs NAME in (a test shortcut for a login form; with remember=1 or
// remember=0 it calls RememberMe(true) or RememberMe(false), a "remember
// me" box ticked or not), GET logout destroys the session (a shortcut
// too), whoami (GET and POST) answers with the signed-in subject and
// records it in seen.
func sessionApp(t *testing.T, opts session.Options, seen *events[string]) http.Handler {
	t.Helper()
	m, err := session.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		sess := session.FromRequest(r)
		if q := r.URL.Query(); q.Has("remember") {
			sess.RememberMe(q.Get("remember") == "1")
		}
		err := sess.Login(identity.New(identity.Options{Subject: r.URL.Query().Get("as"), Method: identity.MethodSession}))
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		// A cookie scripts may read, to show that document.cookie works.
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/", Secure: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<p>signed in</p>"))
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.FromRequest(r).Destroy(); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<p>signed out</p>"))
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if id, ok := identity.FromRequest(r); ok && !id.IsZero() {
			who = id.Subject()
		}
		seen.add(r.Method + " " + who)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<p id="who">` + who + `</p>`))
	})
	mux.Handle("GET /form", html(`<!doctype html><form method="post" action="whoami"><button id="send">Send</button></form>`))
	return m.Handler(mux)
}

// cookie returns the browser's cookie name for u, as the browser stores it.
func cookie(t *testing.T, ctx context.Context, u, name string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	if err != nil {
		t.Fatalf("read the browser's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// testSessionCookie: the session cookie (default options) is stored
// Secure, HttpOnly, SameSite=Lax and host-only; page scripts cannot read
// it; it goes with same-origin posts and cross-site links but not with
// cross-site posts; and a same-site post, which SameSite=Lax does not
// stop, is stopped by csrf in the recommended chain (csrf outside
// session). The application is https://127.0.0.1; the cross-site page
// is https://localhost, the same-site one https://127.0.0.1 on another
// port.
func (s *suite) testSessionCookie(t *testing.T) {
	hits := newEvents[hit]()
	seen := newEvents[string]()
	app := s.serve(t, recorder(hits, csrf.MustNew(csrf.Options{}).Handler(sessionApp(t, session.Options{}, seen))), true).origin("127.0.0.1")
	attackerPage := html(`<!doctype html><title>prize</title>
<form method="post" action="` + app + `/whoami"><button id="send">Win a prize</button></form>
<a id="link" href="` + app + `/whoami">See your prize</a>`)
	crossSite := s.serve(t, attackerPage, true).origin("localhost")
	sameSite := s.serve(t, attackerPage, true).origin("127.0.0.1")

	signIn := func(t *testing.T) context.Context {
		t.Helper()
		ctx := s.tab(t)
		navigate(t, ctx, app+"/login?as=alice")
		return ctx
	}

	t.Run("the browser stores the session cookie Secure, HttpOnly, SameSite=Lax, host-only, for the browser session", func(t *testing.T) {
		ctx := signIn(t)
		c := cookie(t, ctx, app+"/", session.DefaultCookieName)
		if c == nil {
			t.Fatalf("the browser did not store %s", session.DefaultCookieName)
		}
		if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Domain != "127.0.0.1" || !c.Session {
			t.Errorf("stored %+v; want Secure, HttpOnly, SameSite=Lax, Path=/, host-only on 127.0.0.1, a session cookie", *c)
		}
	})

	t.Run("page scripts cannot read the session cookie", func(t *testing.T) {
		ctx := signIn(t)
		navigate(t, ctx, app+"/whoami")
		if who := eval[string](t, ctx, `document.getElementById("who").textContent`); who != "alice" {
			t.Fatalf("signed in as %q, want alice", who)
		}
		cookies := eval[string](t, ctx, "document.cookie")
		if strings.Contains(cookies, session.DefaultCookieName) || !strings.Contains(cookies, "theme=dark") {
			t.Errorf("document.cookie is %q; want theme=dark and no %s", cookies, session.DefaultCookieName)
		}
	})

	for _, tc := range []struct {
		name, page, click string
		status            int
		fetchSite         string
		cookie            bool   // the browser sent the session cookie
		who               string // what the handler saw; "" when it did not run
	}{
		{"a same-origin form post carries the session", app + "/form", "send", http.StatusOK, "same-origin", true, "POST alice"},
		{"a cross-site form post carries no session cookie, and csrf rejects it", crossSite + "/", "send", http.StatusForbidden, "cross-site", false, ""},
		{"a same-site form post from another port carries the session cookie, and only csrf stops it", sameSite + "/", "send", http.StatusForbidden, "same-site", true, ""},
		{"a cross-site link carries the session: Lax, not Strict", crossSite + "/", "link", http.StatusOK, "cross-site", true, "GET alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := signIn(t)
			navigate(t, ctx, tc.page)
			nHits, nSeen := len(hits.all()), len(seen.all())
			resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(tc.click)))
			if err != nil {
				t.Fatalf("click #%s: %v", tc.click, err)
			}
			if resp == nil {
				t.Fatal("the browser reported no response for the navigation")
			}
			if resp.Status != int64(tc.status) {
				t.Errorf("the browser got status %d, want %d", resp.Status, tc.status)
			}
			i := slices.IndexFunc(hits.all()[nHits:], func(h hit) bool { return h.Path == "/whoami" })
			if i < 0 {
				t.Fatal("the server saw no request for /whoami")
			}
			h := hits.all()[nHits+i]
			if _, sent := h.Cookies[session.DefaultCookieName]; sent != tc.cookie || h.FetchSite != tc.fetchSite {
				t.Errorf("the browser sent %v with Sec-Fetch-Site %q; want the session cookie: %v, %q", h, h.FetchSite, tc.cookie, tc.fetchSite)
			}
			got := seen.all()[nSeen:]
			if tc.who == "" && len(got) != 0 || tc.who != "" && !slices.Equal(got, []string{tc.who}) {
				t.Errorf("the handler saw %q, want %q", got, tc.who)
			}
		})
	}
}

// testHostPrefix: the __Host- prefix keeps a sibling subdomain from
// planting a session cookie (session fixation), which it can do to an
// unprefixed cookie, and keeps the session cookie from subdomains. Both
// hosts are served by one TLS server: app.localhost and
// evil.app.localhost, names Chromium resolves to loopback itself.
func (s *suite) testHostPrefix(t *testing.T) {
	hits := newEvents[hit]()
	seen := newEvents[string]()
	prefixed := sessionApp(t, session.Options{}, seen)
	unprefixed := sessionApp(t, session.Options{CookieName: "sid"}, seen)
	app := http.NewServeMux()
	app.Handle("/a/", http.StripPrefix("/a", prefixed))
	app.Handle("/b/", http.StripPrefix("/b", unprefixed))

	var mu sync.Mutex
	var planted []*http.Cookie
	evil := http.NewServeMux()
	evil.HandleFunc("GET /plant", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range planted {
			w.Header().Add("Set-Cookie", c.String())
		}
	})
	evil.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})
	srv := s.serve(t, recorder(hits, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "evil.") {
			evil.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	})), true)
	appOrigin, evilOrigin := srv.origin("app.localhost"), srv.origin("evil.app.localhost")

	t.Run("a sibling subdomain cannot plant a __Host- session cookie, but can plant an unprefixed one", func(t *testing.T) {
		// The attacker signs in in its own browser and takes its session
		// IDs.
		attacker := s.tab(t)
		navigate(t, attacker, appOrigin+"/a/login?as=mallory")
		navigate(t, attacker, appOrigin+"/b/login?as=mallory")
		a, b := cookie(t, attacker, appOrigin+"/", session.DefaultCookieName), cookie(t, attacker, appOrigin+"/", "sid")
		if a == nil || b == nil {
			t.Fatalf("the attacker's browser has no session cookies: %v, %v", a, b)
		}
		mu.Lock()
		for _, c := range []*network.Cookie{a, b} {
			planted = append(planted, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/", Domain: "app.localhost", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		mu.Unlock()

		// The victim visits the attacker's subdomain, then the application.
		victim := s.tab(t)
		navigate(t, victim, evilOrigin+"/plant")
		nHits := len(hits.all())
		navigate(t, victim, appOrigin+"/a/whoami")
		navigate(t, victim, appOrigin+"/b/whoami")
		for _, tc := range []struct{ path, cookie, who string }{
			{"/a/whoami", session.DefaultCookieName, "anonymous"},
			{"/b/whoami", "sid", "mallory"},
		} {
			i := slices.IndexFunc(hits.all()[nHits:], func(h hit) bool { return h.Path == tc.path })
			if i < 0 {
				t.Fatalf("the server saw no request for %s", tc.path)
			}
			h := hits.all()[nHits+i]
			if _, sent := h.Cookies[tc.cookie]; sent != (tc.who == "mallory") {
				t.Errorf("GET %s came with cookies %v", tc.path, h.Cookies)
			}
		}
		if got := seen.all(); !slices.Contains(got, "GET anonymous") || !slices.Contains(got, "GET mallory") {
			t.Errorf("the application saw %q; want the __Host- session anonymous and the unprefixed one fixed to mallory", got)
		}
		if c := cookie(t, victim, appOrigin+"/", session.DefaultCookieName); c != nil {
			t.Errorf("the victim's browser stored the planted %+v", *c)
		}
	})

	t.Run("the __Host- session cookie is not sent to subdomains", func(t *testing.T) {
		ctx := s.tab(t)
		navigate(t, ctx, appOrigin+"/a/login?as=alice")
		nHits := len(hits.all())
		navigate(t, ctx, evilOrigin+"/")
		navigate(t, ctx, appOrigin+"/a/whoami")
		var toEvil, toApp []hit
		for _, h := range hits.all()[nHits:] {
			switch {
			case h.Path == "/" && strings.HasPrefix(h.Host, "evil."):
				toEvil = append(toEvil, h)
			case h.Path == "/a/whoami":
				toApp = append(toApp, h)
			}
		}
		if len(toEvil) != 1 || len(toApp) != 1 {
			t.Fatalf("the server saw %v and %v, want one request each", toEvil, toApp)
		}
		if _, sent := toEvil[0].Cookies[session.DefaultCookieName]; sent {
			t.Errorf("the session cookie went to the subdomain: %v", toEvil[0])
		}
		if _, sent := toApp[0].Cookies[session.DefaultCookieName]; !sent {
			t.Errorf("the session cookie did not go to its own host: %v", toApp[0])
		}
	})
}

// testRememberMe: after a login with RememberMe(true) the browser stores
// the session cookie as a persistent cookie, expiring when the session
// would (the idle timeout, 30 minutes by default, from now), so it
// survives a browser restart; with RememberMe(false) it is a session
// cookie, and RememberMe(false) at a later login turns a persistent cookie
// back into one. document.cookie cannot show this for an HttpOnly cookie,
// so the test reads the browser's cookie store (Network.getCookies), whose
// "session" flag is false only for a cookie with Max-Age or Expires. The
// application is https://127.0.0.1.
func (s *suite) testRememberMe(t *testing.T) {
	seen := newEvents[string]()
	app := s.serve(t, sessionApp(t, session.Options{}, seen), true).origin("127.0.0.1")
	stored := func(t *testing.T, ctx context.Context) *network.Cookie {
		t.Helper()
		c := cookie(t, ctx, app+"/", session.DefaultCookieName)
		if c == nil {
			t.Fatalf("the browser did not store %s", session.DefaultCookieName)
		}
		return c
	}

	t.Run("with RememberMe(true) the session cookie is persistent and expires with the session", func(t *testing.T) {
		ctx := s.tab(t)
		before := time.Now()
		navigate(t, ctx, app+"/login?as=alice&remember=1")
		after := time.Now()
		c := stored(t, ctx)
		if c.Session {
			t.Fatalf("stored %+v as a session cookie, want a persistent one", *c)
		}
		// Expires is in seconds since the epoch; Max-Age is whole seconds.
		expires := time.Unix(0, int64(c.Expires*float64(time.Second)))
		lo, hi := before.Add(session.DefaultIdleTimeout-2*time.Second), after.Add(session.DefaultIdleTimeout+2*time.Second)
		if expires.Before(lo) || expires.After(hi) {
			t.Errorf("the cookie expires at %v, want %v after the login (between %v and %v)", expires, session.DefaultIdleTimeout, lo, hi)
		}
		navigate(t, ctx, app+"/whoami")
		if who := eval[string](t, ctx, `document.getElementById("who").textContent`); who != "alice" {
			t.Errorf("signed in as %q, want alice", who)
		}
	})

	t.Run("with RememberMe(false) it is a session cookie", func(t *testing.T) {
		ctx := s.tab(t)
		navigate(t, ctx, app+"/login?as=alice&remember=0")
		if c := stored(t, ctx); !c.Session {
			t.Errorf("stored %+v as a persistent cookie, want a session cookie", *c)
		}
	})

	t.Run("RememberMe(false) at the next login turns the persistent cookie back into a session cookie", func(t *testing.T) {
		ctx := s.tab(t)
		navigate(t, ctx, app+"/login?as=alice&remember=1")
		first := stored(t, ctx)
		if first.Session {
			t.Fatalf("stored %+v as a session cookie, want a persistent one", *first)
		}
		navigate(t, ctx, app+"/login?as=alice&remember=0")
		c := stored(t, ctx)
		if !c.Session {
			t.Errorf("stored %+v as a persistent cookie, want a session cookie", *c)
		}
		if c.Value == first.Value {
			t.Errorf("the second login kept the session token")
		}
	})
}
