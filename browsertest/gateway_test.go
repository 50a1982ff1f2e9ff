package browsertest_test

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/cors"
)

// gateway returns an httputil.ReverseProxy to the backend at target, with
// modify as its ModifyResponse (nil for none).
func gateway(t *testing.T, target string, modify func(*http.Response) error) *httputil.ReverseProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return &httputil.ReverseProxy{
		Rewrite:        func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		ModifyResponse: modify,
	}
}

// testGatewayCORS: the cors middleware in front of an httputil.ReverseProxy
// whose backend grants CORS itself, echoing every Origin with
// Access-Control-Allow-Credentials: true. A page on an origin cors refuses
// makes a credentialed fetch of the user's data through the gateway.
//
// What Chromium does: without ModifyResponse the refused page reads the
// user's data, since the backend's grant is the only one in the response
// (cors sends no CORS header to a refused origin) and the browser honours
// it; with ModifyResponse the backend's headers are removed and the fetch
// fails with a TypeError. For the allowed origin it is the other way
// round: without ModifyResponse Access-Control-Allow-Origin has two values
// (the gateway's and the backend's echo), which Chromium rejects, so the
// allowed page cannot read; with ModifyResponse it can. The gateway and
// the pages are different origins of one site (localhost on different
// ports, over TLS), so the SameSite=Lax cookie goes with every fetch and
// only CORS decides.
func (s *suite) testGatewayCORS(t *testing.T) {
	backend := s.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "alice", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<p>signed in</p>"))
		case "/me":
			user := "anonymous"
			if c, err := r.Cookie("sid"); err == nil {
				user = c.Value
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"user":"` + user + `"}`))
		default:
			http.NotFound(w, r)
		}
	}), false).URL
	app := s.serve(t, html("<p>app</p>"), true).origin("localhost")
	other := s.serve(t, html("<p>other</p>"), true).origin("localhost")
	c, err := cors.New(cors.Options{AllowedOrigins: []string{app}, AllowCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	plain := s.serve(t, c.Handler(gateway(t, backend, nil)), true).origin("localhost")
	modified := s.serve(t, c.Handler(gateway(t, backend, c.ModifyResponse)), true).origin("localhost")
	include := map[string]any{"credentials": "include"}

	for _, tc := range []struct {
		name, gateway, page string
		read                bool // the page reads alice's data
	}{
		{"without ModifyResponse a refused origin reads the user's data: the backend's grant stands", plain, other, true},
		{"with ModifyResponse a refused origin's fetch fails", modified, other, false},
		{"without ModifyResponse the allowed origin's fetch fails: two Access-Control-Allow-Origin values", plain, app, false},
		{"with ModifyResponse the allowed origin reads the data", modified, app, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := s.tab(t)
			navigate(t, ctx, tc.gateway+"/login")
			navigate(t, ctx, tc.page+"/")
			got := eval[fetchResult](t, ctx, fetchJS(tc.gateway+"/me", include))
			if tc.read && (!got.OK || got.Body != `{"user":"alice"}`) {
				t.Errorf("the script saw %+v, want alice's data", got)
			}
			if !tc.read && (got.OK || !strings.Contains(got.Error, "TypeError")) {
				t.Errorf("the script saw %+v, want a TypeError", got)
			}
		})
	}
}
