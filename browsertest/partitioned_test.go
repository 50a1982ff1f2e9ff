package browsertest_test

import (
	"context"
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/httpguard/httpguard/csrf"
	"github.com/httpguard/httpguard/session"
)

// embedPage is the embedding site's page: one iframe showing src.
var embedPage = template.Must(template.New("embed").Parse(`<!doctype html><title>shop</title><iframe id="frame" src="{{.}}"></iframe>`))

// tokenApp returns a handler with a csrf middleware requiring tokens on
// every unsafe request: GET form renders a form with its token that
// submits itself (as a user would), POST send records the request in
// sent.
func tokenApp(t *testing.T, tokens csrf.TokenOptions) http.Handler {
	t.Helper()
	p, err := csrf.New(csrf.Options{Tokens: &tokens})
	if err != nil {
		t.Fatal(err)
	}
	form := template.Must(template.New("form").Parse(`<!doctype html>
<form method="post" action="send">{{.}}<button>Send</button></form>
<script>document.forms[0].submit()</script>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = form.Execute(w, csrf.TemplateField(r))
	})
	mux.HandleFunc("POST /send", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<p id="done">sent</p>`))
	})
	return p.Handler(mux)
}

// testPartitioned: an application embedded in another site's iframe keeps
// its session in this browser, which blocks third-party cookies in its
// browser contexts, only with session.Options.Partitioned. The partitioned
// cookie set inside the cross-site frame comes back inside it; it is not
// sent when the same application is framed by another top-level site or
// opened directly; logout in the frame deletes it, because the deletion is
// partitioned too. An unpartitioned SameSite=None cookie, the control, is
// never kept in the frame. The embedding page's own cross-site request
// carries the frame's cookie, and csrf, in front, rejects it. A
// partitioned cookie that is SameSite=Lax, which session.New refuses, is
// not kept in the frame either. csrf tokens
// work in the frame with TokenOptions.Partitioned and not without it, as
// a SameSite=Lax token cookie is never kept there. The application is
// https://127.0.0.1; the embedding sites are https://localhost and
// https://app.localhost.
func (s *suite) testPartitioned(t *testing.T) {
	hits := newEvents[hit]()
	seenP, seenU := newEvents[string](), newEvents[string]()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sessions := http.NewServeMux()
	sessions.Handle("/p/", http.StripPrefix("/p", sessionApp(t, session.Options{CookieName: "__Host-p", SameSite: http.SameSiteNoneMode, Partitioned: true}, seenP)))
	sessions.Handle("/u/", http.StripPrefix("/u", sessionApp(t, session.Options{CookieName: "__Host-u", SameSite: http.SameSiteNoneMode}, seenU)))
	mux := http.NewServeMux()
	mux.Handle("/", csrf.MustNew(csrf.Options{}).Handler(sessions))
	// A partitioned SameSite=Lax cookie, which session.New refuses, set
	// by hand.
	mux.HandleFunc("GET /lax/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "__Host-lax", Value: "1", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, Partitioned: true})
	})
	mux.HandleFunc("GET /lax/check", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("/tp/", http.StripPrefix("/tp", tokenApp(t, csrf.TokenOptions{Key: key, Always: true, CookieName: "__Host-tp", Partitioned: true})))
	mux.Handle("/tl/", http.StripPrefix("/tl", tokenApp(t, csrf.TokenOptions{Key: key, Always: true, CookieName: "__Host-tl"})))
	app := s.serve(t, recorder(hits, mux), true).origin("127.0.0.1")
	shops := s.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = embedPage.Execute(w, r.URL.Query().Get("src"))
	}), true)
	shop, otherShop := shops.origin("localhost"), shops.origin("app.localhost")

	// embed loads the page of the embedding site shop with path of the
	// application in its frame, and returns the request the frame made.
	embed := func(t *testing.T, ctx context.Context, shop, path string) hit {
		t.Helper()
		n := len(hits.all())
		navigate(t, ctx, shop+"/embed?src="+url.QueryEscape(app+path))
		return lastHit(t, hits, n, http.MethodGet, path)
	}
	sent := func(h hit, name string) bool { _, ok := h.Cookies[name]; return ok }

	t.Run("a partitioned session cookie set in a cross-site frame comes back in that frame", func(t *testing.T) {
		ctx := s.tab(t)
		if h := embed(t, ctx, shop, "/p/login?as=alice"); h.FetchSite != "cross-site" || h.Status != http.StatusOK {
			t.Fatalf("the frame's login was %v; want a cross-site request answered 200", h)
		}
		n := len(seenP.all())
		if h := embed(t, ctx, shop, "/p/whoami"); !sent(h, "__Host-p") {
			t.Errorf("the frame's next request was %v; want it with __Host-p", h)
		}
		if got := seenP.all()[n:]; !slices.Equal(got, []string{"GET alice"}) {
			t.Errorf("the application saw %q in the frame, want alice signed in", got)
		}
	})

	t.Run("an unpartitioned SameSite=None session cookie is not kept in the frame", func(t *testing.T) {
		ctx := s.tab(t)
		embed(t, ctx, shop, "/u/login?as=alice")
		n := len(seenU.all())
		if h := embed(t, ctx, shop, "/u/whoami"); sent(h, "__Host-u") {
			t.Fatalf("the frame's next request was %v: this browser keeps third-party cookies, and the partitioned case proves nothing", h)
		}
		if got := seenU.all()[n:]; !slices.Equal(got, []string{"GET anonymous"}) {
			t.Errorf("the application saw %q in the frame, want anonymous", got)
		}
	})

	t.Run("a partitioned SameSite=Lax cookie is not kept in the frame, which is why New refuses it", func(t *testing.T) {
		ctx := s.tab(t)
		embed(t, ctx, shop, "/lax/set")
		if h := embed(t, ctx, shop, "/lax/check"); sent(h, "__Host-lax") {
			t.Errorf("the frame's next request was %v; this browser keeps a partitioned Lax cookie in a cross-site frame", h)
		}
	})

	t.Run("the partitioned cookie is kept apart from another embedding site and from the application opened directly", func(t *testing.T) {
		ctx := s.tab(t)
		embed(t, ctx, shop, "/p/login?as=alice")
		n := len(seenP.all())
		if h := embed(t, ctx, otherShop, "/p/whoami"); sent(h, "__Host-p") {
			t.Errorf("framed by another site, the request was %v; want it without __Host-p", h)
		}
		m := len(hits.all())
		navigate(t, ctx, app+"/p/whoami")
		if h := lastHit(t, hits, m, http.MethodGet, "/p/whoami"); sent(h, "__Host-p") {
			t.Errorf("opened directly, the request was %v; want it without __Host-p", h)
		}
		if got := seenP.all()[n:]; !slices.Equal(got, []string{"GET anonymous", "GET anonymous"}) {
			t.Errorf("the application saw %q, want anonymous twice", got)
		}
		if h := embed(t, ctx, shop, "/p/whoami"); !sent(h, "__Host-p") {
			t.Errorf("back in the first site's frame, the request was %v; want it with __Host-p", h)
		}
	})

	t.Run("logout in the frame deletes the partitioned cookie", func(t *testing.T) {
		ctx := s.tab(t)
		embed(t, ctx, shop, "/p/login?as=alice")
		if h := embed(t, ctx, shop, "/p/logout"); !sent(h, "__Host-p") || h.Status != http.StatusOK {
			t.Fatalf("the logout was %v; want it with __Host-p, answered 200", h)
		}
		if h := embed(t, ctx, shop, "/p/whoami"); sent(h, "__Host-p") {
			t.Errorf("after logout the frame's request was %v; the browser kept the partitioned cookie", h)
		}
	})

	t.Run("the embedding page's own request carries the frame's session, and csrf rejects it", func(t *testing.T) {
		ctx := s.tab(t)
		embed(t, ctx, shop, "/p/login?as=alice")
		n, nSeen := len(hits.all()), len(seenP.all())
		eval[string](t, ctx, `fetch(`+js(app+"/p/whoami")+`, {method: "POST", mode: "no-cors", credentials: "include"}).then(() => "sent", e => String(e))`)
		h := lastHit(t, hits, n, http.MethodPost, "/p/whoami")
		if !sent(h, "__Host-p") || h.FetchSite != "cross-site" || h.Status != http.StatusForbidden {
			t.Errorf("the embedding page's POST was %v; want it cross-site, with __Host-p, rejected 403", h)
		}
		if got := seenP.all()[nSeen:]; len(got) != 0 {
			t.Errorf("the handler ran: %q", got)
		}
	})

	for _, tc := range []struct {
		name, path, cookie string
		status             int
	}{
		{"a form in the frame posts with a token bound to the partitioned token cookie", "/tp", "__Host-tp", http.StatusOK},
		{"without Partitioned the frame's form is rejected: the SameSite=Lax token cookie is not kept", "/tl", "__Host-tl", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := s.tab(t)
			n := len(hits.all())
			embed(t, ctx, shop, tc.path+"/form")
			// The form submits itself once the frame has loaded.
			h := lastHit(t, hits, n, http.MethodPost, tc.path+"/send")
			if h.FetchSite != "same-origin" || h.Status != tc.status || sent(h, tc.cookie) != (tc.status == http.StatusOK) {
				t.Errorf("the frame's POST was %v; want it same-origin, answered %d, with %s: %v", h, tc.status, tc.cookie, tc.status == http.StatusOK)
			}
		})
	}
}

// lastHit waits for the server to answer a request with method to path
// (without its query) among the hits recorded from index n on, and
// returns the last.
func lastHit(t *testing.T, hits *events[hit], n int, method, path string) hit {
	t.Helper()
	if u, err := url.Parse(path); err == nil {
		path = u.Path
	}
	match := func(h hit) bool { return h.Method == method && h.Path == path && h.Status != 0 }
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	got := hits.wait(t, ctx, method+" "+path, func(all []hit) bool {
		return len(all) > n && slices.ContainsFunc(all[n:], match)
	})
	for j := len(got) - 1; j >= n; j-- {
		if match(got[j]) {
			return got[j]
		}
	}
	panic("unreachable")
}
