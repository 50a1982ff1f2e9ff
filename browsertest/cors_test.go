package browsertest_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/cors"
)

// fetchResult is what a page's script saw of a fetch.
type fetchResult struct {
	OK     bool   `json:"ok"`     // the promise resolved
	Error  string `json:"error"`  // its rejection, when it did not
	Status int    `json:"status"` // the response status the script read
	Body   string `json:"body"`
	// Names lists the response header names the script can see.
	Names []string `json:"names"`
	// Read holds the value the script read for each asked header, nil
	// when the browser hid it.
	Read map[string]*string `json:"read"`
}

// fetchJS returns a script that fetches u with init (the second argument
// of fetch) and reports what it could read, including the headers named
// in read.
func fetchJS(u string, init map[string]any, read ...string) string {
	return `(async () => {
	try {
		const r = await fetch(` + js(u) + `, ` + js(init) + `);
		const read = {};
		for (const name of ` + js(append([]string{}, read...)) + `) read[name] = r.headers.get(name);
		return {ok: true, status: r.status, body: await r.text(), names: [...r.headers.keys()], read};
	} catch (e) {
		return {ok: false, error: String(e)};
	}
})()`
}

// corsSafelisted are the response headers every cross-origin script may
// read (Fetch standard, CORS-safelisted response-header names).
var corsSafelisted = []string{"cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma"}

// testCORS: a credentialed cross-origin fetch succeeds only from the
// allowed origin, and its script reads only the exposed headers.
//
// The API and the pages are different origins of one site (localhost on
// different ports, over TLS), the usual app.example.com to
// api.example.com deployment: the API's SameSite=Lax cookie goes with
// credentialed fetches from every one of them, so only CORS decides
// whether the script may read the answer.
func (s *suite) testCORS(t *testing.T) {
	hits := newEvents[hit]()
	api := func(opts cors.Options) string {
		c, err := cors.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "alice", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<p>signed in</p>"))
		})
		mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
			user := "anonymous"
			if c, err := r.Cookie("sid"); err == nil {
				user = c.Value
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Request-Id", "req-42")
			w.Header().Set("X-Internal", "secret")
			_, _ = w.Write([]byte(`{"user":"` + user + `"}`))
		})
		return s.serve(t, recorder(hits, c.Handler(mux)), true).origin("localhost")
	}
	app := s.serve(t, html("<p>app</p>"), true).origin("localhost")
	other := s.serve(t, html("<p>other</p>"), true).origin("localhost")
	credentialed := api(cors.Options{
		AllowedOrigins:   []string{app},
		AllowCredentials: true,
		ExposedHeaders:   []string{"X-Request-Id"},
	})
	withoutCredentials := api(cors.Options{
		AllowedOrigins: []string{app},
		ExposedHeaders: []string{"X-Request-Id"},
	})
	meFrom := func(api, origin string) func(hit) bool {
		return func(h hit) bool {
			return h.Method == http.MethodGet && h.Path == "/me" && strings.HasSuffix(api, ":"+portOf(h.Host)) && h.Origin == origin
		}
	}
	include := map[string]any{"credentials": "include"}

	t.Run("a credentialed fetch from the allowed origin reads the response and only the exposed headers", func(t *testing.T) {
		ctx := s.tab(t)
		navigate(t, ctx, credentialed+"/login")
		navigate(t, ctx, app+"/")
		got := eval[fetchResult](t, ctx, fetchJS(credentialed+"/me", include, "X-Request-Id", "X-Internal", "Set-Cookie", "Vary"))
		if !got.OK || got.Status != http.StatusOK || got.Body != `{"user":"alice"}` {
			t.Fatalf("the script saw %+v, want status 200 and alice's data", got)
		}
		if v := got.Read["X-Request-Id"]; v == nil || *v != "req-42" {
			t.Errorf("exposed X-Request-Id read as %v, want req-42", deref(v))
		}
		for _, name := range []string{"X-Internal", "Set-Cookie", "Vary"} {
			if v := got.Read[name]; v != nil {
				t.Errorf("the script read the unexposed %s: %q", name, *v)
			}
		}
		for _, name := range got.Names {
			if name != "x-request-id" && !slices.Contains(corsSafelisted, name) {
				t.Errorf("the script sees header %q, which is neither exposed nor safelisted (all: %v)", name, got.Names)
			}
		}
		seen := hits.all()
		i := slices.IndexFunc(seen, meFrom(credentialed, app))
		if i < 0 {
			t.Fatalf("the server saw no GET /me from %s: %+v", app, seen)
		}
		if seen[i].Cookies["sid"] != "alice" || seen[i].FetchSite != "same-site" {
			t.Errorf("GET /me came with cookies %v and Sec-Fetch-Site %q, want sid=alice, same-site", seen[i].Cookies, seen[i].FetchSite)
		}
	})

	t.Run("the same fetch from a disallowed origin fails in the page although the server answered it", func(t *testing.T) {
		ctx := s.tab(t)
		navigate(t, ctx, credentialed+"/login")
		navigate(t, ctx, other+"/")
		got := eval[fetchResult](t, ctx, fetchJS(credentialed+"/me", include, "X-Request-Id"))
		if got.OK || !strings.Contains(got.Error, "TypeError") {
			t.Fatalf("the script saw %+v, want a TypeError", got)
		}
		// CORS withholds the response, it does not stop the request: the
		// handler ran, with the cookie.
		seen := hits.all()
		i := slices.IndexFunc(seen, meFrom(credentialed, other))
		if i < 0 {
			t.Fatalf("the server saw no GET /me from %s: %+v", other, seen)
		}
		if seen[i].Status != http.StatusOK || seen[i].Cookies["sid"] != "alice" {
			t.Errorf("GET /me from %s: status %d, cookies %v; want 200 with sid=alice", other, seen[i].Status, seen[i].Cookies)
		}
	})

	t.Run("without AllowCredentials a credentialed fetch fails and an uncredentialed one succeeds", func(t *testing.T) {
		ctx := s.tab(t)
		navigate(t, ctx, withoutCredentials+"/login")
		navigate(t, ctx, app+"/")
		got := eval[fetchResult](t, ctx, fetchJS(withoutCredentials+"/me", include))
		if got.OK {
			t.Errorf("a credentialed fetch read %+v without Access-Control-Allow-Credentials", got)
		}
		got = eval[fetchResult](t, ctx, fetchJS(withoutCredentials+"/me", map[string]any{"credentials": "omit"}, "X-Request-Id"))
		if !got.OK || got.Body != `{"user":"anonymous"}` {
			t.Errorf("an uncredentialed fetch saw %+v, want the anonymous answer", got)
		}
		if n := hits.count(meFrom(withoutCredentials, app)); n != 2 {
			t.Errorf("the server saw %d GET /me from %s, want 2", n, app)
		}
	})
}

// testPreflight: a PUT with a custom header is preflighted, passes or
// fails as configured, and a successful preflight is cached for Max-Age.
// The API and the pages are cross-site, over plain HTTP (127.0.0.1 and
// localhost).
func (s *suite) testPreflight(t *testing.T) {
	hits := newEvents[hit]()
	api := func(opts cors.Options) string {
		c, err := cors.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/items/1", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("done " + r.Method))
		})
		return s.serve(t, recorder(hits, c.Handler(mux)), false).origin("127.0.0.1")
	}
	app := s.serve(t, html("<p>app</p>"), false).origin("localhost")
	other := s.serve(t, html("<p>other</p>"), false).origin("localhost")
	opts := cors.Options{
		AllowedOrigins: []string{app},
		AllowedMethods: []string{http.MethodPut},
		AllowedHeaders: []string{"X-Api-Version"},
		MaxAge:         10 * time.Minute,
	}
	cached := api(opts)
	opts.MaxAge, opts.DisablePreflightCache = 0, true
	uncached := api(opts)

	put := func(headers map[string]string) map[string]any {
		return map[string]any{"method": "PUT", "headers": headers, "body": "{}"}
	}
	versioned := put(map[string]string{"X-Api-Version": "2"})
	type counts struct{ preflights, rejected, puts, others int }
	count := func(api, origin string) counts {
		var c counts
		for _, h := range hits.all() {
			if !strings.HasSuffix(api, ":"+portOf(h.Host)) || h.Origin != origin {
				continue
			}
			switch {
			case h.isPreflight():
				c.preflights++
				if h.Status != http.StatusNoContent {
					c.rejected++
				}
			case h.Method == http.MethodPut:
				c.puts++
			default:
				c.others++
			}
		}
		return c
	}
	step := func(t *testing.T, ctx context.Context, api, what string, init map[string]any, wantOK bool, want counts) {
		t.Helper()
		got := eval[fetchResult](t, ctx, fetchJS(api+"/items/1", init))
		if got.OK != wantOK || (wantOK && got.Body != "done "+init["method"].(string)) {
			t.Errorf("%s: the script saw %+v, want ok=%v", what, got, wantOK)
		}
		if c := count(api, pageOrigin(t, ctx)); c != want {
			t.Errorf("%s: the server saw %+v, want %+v", what, c, want)
		}
	}

	// The subtests run in parallel, each in its own browser context (with
	// its own preflight cache), so that the wait below overlaps the others.
	t.Run("a preflighted PUT passes and its preflight is cached for Max-Age", func(t *testing.T) {
		t.Parallel()
		ctx := s.tab(t)
		navigate(t, ctx, app+"/")
		first := time.Now()
		step(t, ctx, cached, "first PUT", versioned, true, counts{preflights: 1, puts: 1})
		step(t, ctx, cached, "second PUT", versioned, true, counts{preflights: 1, puts: 2})
		// Without Access-Control-Max-Age, Chromium caches a preflight for
		// 5 seconds; only a PUT sent later shows that Max-Age is obeyed.
		// The wait sets up the case; the request counts decide it.
		time.Sleep(time.Until(first.Add(defaultPreflightCache + time.Second)))
		step(t, ctx, cached, "PUT after the default cache time", versioned, true, counts{preflights: 1, puts: 3})
		// A request the cached answer does not cover is preflighted again,
		// and rejected.
		step(t, ctx, cached, "PUT with a header not allowed", put(map[string]string{"X-Other": "1"}), false, counts{preflights: 2, rejected: 1, puts: 3})
		step(t, ctx, cached, "DELETE, a method not allowed", map[string]any{"method": "DELETE"}, false, counts{preflights: 3, rejected: 2, puts: 3})
	})

	t.Run("with Max-Age 0 every PUT is preflighted again", func(t *testing.T) {
		t.Parallel()
		ctx := s.tab(t)
		navigate(t, ctx, app+"/")
		step(t, ctx, uncached, "first PUT", versioned, true, counts{preflights: 1, puts: 1})
		step(t, ctx, uncached, "second PUT", versioned, true, counts{preflights: 2, puts: 2})
	})

	t.Run("a disallowed origin's preflight fails and its PUT is never sent", func(t *testing.T) {
		t.Parallel()
		ctx := s.tab(t)
		navigate(t, ctx, other+"/")
		step(t, ctx, cached, "PUT from a disallowed origin", versioned, false, counts{preflights: 1, rejected: 1})
	})
}

// defaultPreflightCache is how long Chromium caches a preflight whose
// response has no Access-Control-Max-Age (the Fetch standard's default).
const defaultPreflightCache = 5 * time.Second

// pageOrigin returns the origin of the page in the tab.
func pageOrigin(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, "location.origin")
}

// portOf returns the port of a Host header value.
func portOf(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		return host[i+1:]
	}
	return ""
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}
