package browsertest_test

import (
	"html/template"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/httpguard/httpguard/cors"
	"github.com/httpguard/httpguard/headers"
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

// testGatewayFraming: the headers middleware (X-Frame-Options DENY, and
// OmitCSP, so no frame-ancestors to fall back on) in front of an
// httputil.ReverseProxy whose backend sends X-Frame-Options: SAMEORIGIN.
// Without ModifyResponse the client gets both lines, DENY and SAMEORIGIN
// ("DENY, SAMEORIGIN" once combined); with it, DENY alone.
//
// The claim was that Chromium ignores "DENY, SAMEORIGIN" as invalid and
// lets another site frame the page. It does not: Chromium refuses the
// cross-site frame in both cases. It reads a list of different values
// as a conflict and refuses every frame, as the HTML standard says for
// such a list holding DENY, SAMEORIGIN or ALLOWALL; only a single unknown
// value is ignored. The third case shows it is not merely the stricter
// value winning: a gateway's SAMEORIGIN next to a legacy backend's
// ALLOWALL stops a frame from the gateway's own origin, which either
// value alone would allow. So a backend's X-Frame-Options cannot loosen
// the gateway's, only break its same-origin framing; ModifyResponse makes
// the value sent the gateway's.
//
// A refused frame's document is fetched but never runs: its script posts
// no message and its image is never requested. A sentinel frame, a route
// whose gateway and backend send no X-Frame-Options, shows that the same
// page frames and runs when nothing forbids it. The gateway is
// https://127.0.0.1; the framing page is https://localhost, or the
// gateway itself for the same-origin case.
func (s *suite) testGatewayFraming(t *testing.T) {
	backend := s.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/open":
		case "/legacy":
			w.Header().Set("X-Frame-Options", "ALLOWALL")
		default:
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>backend</title>
<script>parent.postMessage({framed: location.pathname}, "*");</script>
<img src="/pixel` + r.URL.Path + `">`))
	}), false).URL
	sec, err := headers.New(headers.Options{OmitCSP: true})
	if err != nil {
		t.Fatal(err)
	}
	open, err := headers.New(headers.Options{OmitCSP: true, FrameOptions: headers.Omit})
	if err != nil {
		t.Fatal(err)
	}
	same, err := headers.New(headers.Options{OmitCSP: true, FrameOptions: "SAMEORIGIN"})
	if err != nil {
		t.Fatal(err)
	}
	hits := newEvents[hit]()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pixel/", http.NotFound)
	mux.Handle("/plain", sec.Handler(gateway(t, backend, nil)))
	mux.Handle("/modified", sec.Handler(gateway(t, backend, sec.ModifyResponse)))
	mux.Handle("/legacy", same.Handler(gateway(t, backend, nil)))
	mux.Handle("/open", open.Handler(gateway(t, backend, open.ModifyResponse)))
	gw := s.serve(t, recorder(hits, mux), true)
	victim := gw.origin("127.0.0.1")
	framing := template.Must(template.New("framing").Parse(`<!doctype html><title>attacker</title>
<script>
window.results = {messages: [], loaded: {}};
addEventListener("message", e => results.messages.push(e.data.framed));
</script>
<iframe src="{{.Victim}}{{.Path}}" onload="results.loaded.target = true"></iframe>
<iframe src="{{.Victim}}/open" onload="results.loaded.sentinel = true"></iframe>`))
	framingPage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = framing.Execute(w, map[string]string{"Victim": victim, "Path": r.URL.Query().Get("path")})
	})
	mux.Handle("GET /frame", framingPage)
	attacker := s.serve(t, framingPage, true).origin("localhost")

	type results struct {
		Messages []string        `json:"messages"`
		Loaded   map[string]bool `json:"loaded"`
	}
	for _, tc := range []struct {
		name, from, path string
		sent             []string // the X-Frame-Options lines the gateway sends
	}{
		{"without ModifyResponse, DENY and the backend's SAMEORIGIN still stop a cross-site frame", attacker, "/plain", []string{"DENY", "SAMEORIGIN"}},
		{"with ModifyResponse, DENY alone stops a cross-site frame", attacker, "/modified", []string{"DENY"}},
		{"SAMEORIGIN and a backend's ALLOWALL stop even a same-origin frame", victim, "/legacy", []string{"SAMEORIGIN", "ALLOWALL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := gw.Client().Get(victim + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if got := res.Header.Values("X-Frame-Options"); !slices.Equal(got, tc.sent) {
				t.Fatalf("the gateway sends X-Frame-Options %q, want %q", got, tc.sent)
			}
			ctx := s.tab(t)
			nHits := len(hits.all())
			navigate(t, ctx, tc.from+"/frame?path="+tc.path)
			// Both frames have loaded (a refused frame fires load too),
			// and the sentinel's script has run and sent its message.
			got, err := chromedp.Run(ctx, chromedp.Poll[results](
				`results.loaded.target && results.loaded.sentinel && results.messages.includes("/open") && results`,
				chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(scenarioTimeout)))
			if err != nil {
				t.Fatalf("the frames did not load: %v", err)
			}
			if slices.Contains(got.Messages, tc.path) {
				t.Errorf("the framed page's script ran (messages %q): the frame was allowed", got.Messages)
			}
			count := func(path string) func(h hit) bool {
				return func(h hit) bool { return h.Path == path }
			}
			hits.wait(t, ctx, "the sentinel's image", func(hs []hit) bool { return slices.ContainsFunc(hs[nHits:], count("/pixel/open")) })
			seen := hits.all()[nHits:]
			if !slices.ContainsFunc(seen, count(tc.path)) {
				t.Errorf("the browser never requested %s", tc.path)
			}
			if slices.ContainsFunc(seen, count("/pixel"+tc.path)) {
				t.Errorf("the framed page rendered: its image was requested (%v)", seen)
			}
		})
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
