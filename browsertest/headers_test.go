package browsertest_test

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/httpguard/httpguard/headers"
)

// report is one CSP violation report and the path it was posted to.
type report struct {
	Path string
	headers.Report
}

// reportHandler returns a CSP report endpoint that records every report.
func reportHandler(t *testing.T, reports *events[report]) http.Handler {
	t.Helper()
	h, err := headers.NewReportHandler(headers.ReportOptions{
		OnReport: func(r *http.Request, rep headers.Report) { reports.add(report{r.URL.Path, rep}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// cspResults is what the page's own scripts recorded.
type cspResults struct {
	Nonced   bool `json:"nonced"`   // the script with the nonce ran
	Trusted  bool `json:"trusted"`  // the script it inserted ran ('strict-dynamic')
	Inline   bool `json:"inline"`   // the inline script without the nonce ran
	Injected bool `json:"injected"` // the external script without the nonce ran
	Handler  bool `json:"handler"`  // the inline event handler ran
	// Violations are the securitypolicyviolation events the page saw.
	Violations []struct {
		Directive string `json:"directive"`
		Blocked   string `json:"blocked"`
	} `json:"violations"`
}

// testCSP: the HTML preset's policy runs the script carrying the
// response's nonce, blocks an inline script, an external script and an
// event handler without it, and the violation reports reach the report
// endpoint. Plain HTTP on 127.0.0.1.
func (s *suite) testCSP(t *testing.T) {
	hits := newEvents[hit]()
	reports := newEvents[report]()
	o := headers.HTML()
	o.CSP.ReportURI = "/csp-report"
	m, err := headers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	page := template.Must(template.New("page").Parse(`<!doctype html><title>csp</title>
<script nonce="{{.}}">
window.results = {violations: []};
document.addEventListener("securitypolicyviolation", e => results.violations.push({directive: e.effectiveDirective, blocked: e.blockedURI}));
document.addEventListener("error", e => { if (e.target.tagName === "IMG") results.imageFailed = true; }, true);
results.nonced = true;
const trusted = document.createElement("script");
trusted.src = "/trusted.js";
document.head.append(trusted);
</script>
<script>results.inline = true;</script>
<script src="/injected.js"></script>
<img src="/missing.png" onerror="results.handler = true">
`))
	mux := http.NewServeMux()
	mux.Handle("POST /csp-report", reportHandler(t, reports))
	mux.Handle("GET /{$}", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := headers.Nonce(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, nonce)
	})))
	for _, name := range []string{"trusted", "injected"} {
		mux.HandleFunc("GET /"+name+".js", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte("results." + name + " = true;"))
		})
	}
	srv := s.serve(t, recorder(hits, mux), false).origin("127.0.0.1")

	ctx := s.tab(t)
	navigate(t, ctx, srv+"/")
	got, err := chromedp.Run(ctx, chromedp.Poll[cspResults](
		`window.results && results.trusted && results.imageFailed && results.violations.length >= 3 && results`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(scenarioTimeout)))
	if err != nil {
		t.Fatalf("the page did not finish: %v (results: %+v)", err, eval[cspResults](t, ctx, "window.results"))
	}
	if !got.Nonced || !got.Trusted {
		t.Errorf("the nonced script ran: %v, the script it inserted ran: %v; want both", got.Nonced, got.Trusted)
	}
	if got.Inline || got.Injected || got.Handler {
		t.Errorf("scripts without the nonce ran: inline %v, external %v, event handler %v", got.Inline, got.Injected, got.Handler)
	}
	var violations []string
	for _, v := range got.Violations {
		violations = append(violations, v.Directive+" "+strings.TrimPrefix(v.Blocked, srv))
	}
	for _, want := range []string{"script-src-elem inline", "script-src-elem /injected.js", "script-src-attr inline"} {
		if !slices.Contains(violations, want) {
			t.Errorf("the page saw violations %q, missing %q", violations, want)
		}
	}
	// A blocked external script is never requested.
	if n := hits.count(func(h hit) bool { return h.Path == "/injected.js" }); n != 0 {
		t.Errorf("the browser requested /injected.js %d times, want 0", n)
	}
	if n := hits.count(func(h hit) bool { return h.Path == "/trusted.js" }); n != 1 {
		t.Errorf("the browser requested /trusted.js %d times, want 1", n)
	}
	reports.wait(t, ctx, "a report of the blocked inline script", func(rs []report) bool {
		return slices.ContainsFunc(rs, func(r report) bool {
			return strings.HasPrefix(r.EffectiveDirective, "script-src") && r.BlockedURL == "inline" &&
				r.DocumentURL == srv+"/" && r.Disposition == "enforce"
		})
	})
}

// testFraming: X-Frame-Options and CSP frame-ancestors, each alone and
// together, stop another site from framing a page, while a frame-ancestors
// source naming that site lets it. The victim is https://127.0.0.1, the
// framing page https://localhost.
func (s *suite) testFraming(t *testing.T) {
	hits := newEvents[hit]()
	reports := newEvents[report]()
	var victim string
	attackerMux := http.NewServeMux()
	attacker := s.serve(t, attackerMux, true).origin("localhost")

	preset, err := headers.New(headers.HTML())
	if err != nil {
		t.Fatal(err)
	}
	// variant is the HTML preset changed by change, reporting to an
	// endpoint of its own.
	variant := func(path string, change func(*headers.Options)) *headers.Middleware {
		m, err := preset.With(func(o *headers.Options) {
			o.CSP.ReportURI = "/csp-report" + path
			change(o)
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	routes := map[string]*headers.Middleware{
		"/both": variant("/both", func(o *headers.Options) {}),
		"/xfo-only": variant("/xfo-only", func(o *headers.Options) {
			o.CSP.FrameAncestors = nil // X-Frame-Options: DENY remains
		}),
		"/frame-ancestors-only": variant("/frame-ancestors-only", func(o *headers.Options) {
			o.FrameOptions = headers.Omit
		}),
		"/allowed": variant("/allowed", func(o *headers.Options) {
			o.FrameOptions = headers.Omit
			o.CSP.FrameAncestors = []string{attacker}
		}),
	}
	victimPage := template.Must(template.New("victim").Parse(`<!doctype html><title>victim</title>
<script nonce="{{.Nonce}}">parent.postMessage({framed: location.pathname}, "*");</script>
<img src="/pixel?page={{.Name}}&run={{.Run}}&frame={{.Frame}}">`))
	victimMux := http.NewServeMux()
	victimMux.Handle("POST /csp-report/", reportHandler(t, reports))
	victimMux.HandleFunc("GET /pixel", http.NotFound)
	for path, m := range routes {
		victimMux.Handle("GET "+path, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			nonce, _ := headers.Nonce(r.Context())
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = victimPage.Execute(w, map[string]string{"Nonce": nonce, "Name": strings.TrimPrefix(path, "/"), "Run": r.URL.Query().Get("run"), "Frame": r.URL.Query().Get("frame")})
		})))
	}
	victim = s.serve(t, recorder(hits, victimMux), true).origin("127.0.0.1")
	framing := template.Must(template.New("framing").Parse(`<!doctype html><title>attacker</title>
<script>
window.results = {messages: [], loaded: {}};
addEventListener("message", e => results.messages.push(e.data.framed));
</script>
<iframe src="{{.Victim}}{{.Path}}?run={{.Run}}&frame=target" onload="results.loaded.target = true"></iframe>
<iframe src="{{.Victim}}/allowed?run={{.Run}}&frame=sentinel" onload="results.loaded.sentinel = true"></iframe>`))
	attackerMux.HandleFunc("GET /frame", func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Query().Get("path")
		if routes[path] == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = framing.Execute(w, map[string]string{"Victim": victim, "Path": path, "Run": r.URL.Query().Get("run")})
	})

	type results struct {
		Messages []string        `json:"messages"`
		Loaded   map[string]bool `json:"loaded"`
	}
	for run, tc := range []struct {
		name, path string
		framed     bool
		report     bool // a frame-ancestors violation is reported
	}{
		{"X-Frame-Options DENY with frame-ancestors 'none' stops a cross-site frame", "/both", false, true},
		{"X-Frame-Options DENY alone stops a cross-site frame", "/xfo-only", false, false},
		{"frame-ancestors 'none' alone stops a cross-site frame", "/frame-ancestors-only", false, true},
		{"frame-ancestors naming the framing origin lets it frame the page", "/allowed", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := s.tab(t)
			nHits := len(hits.all())
			// Each scenario's pages and images carry its run number, so that
			// a late image of the previous scenario is not counted in this
			// one (it was, on a loaded machine: 3 images, want 2).
			navigate(t, ctx, attacker+"/frame?path="+tc.path+"&run="+strconv.Itoa(run))
			// Both frames have finished loading (the browser fires load
			// for a blocked frame too), and the sentinel, a page that
			// allows the framing, has run its script and sent its message.
			got, err := chromedp.Run(ctx, chromedp.Poll[results](
				`results.loaded.target && results.loaded.sentinel && results.messages.includes("/allowed") && results`,
				chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(scenarioTimeout)))
			if err != nil {
				t.Fatalf("the frames did not load: %v", err)
			}
			// The sentinel sends one "/allowed"; a target that ran sends its own.
			ran := slices.Contains(got.Messages, tc.path)
			if tc.path == "/allowed" {
				ran = countOf(got.Messages, "/allowed") == 2
			}
			if ran != tc.framed {
				t.Fatalf("the framed page's script ran: %v, want %v (messages %q)", ran, tc.framed, got.Messages)
			}
			// A framed page that renders loads its image; a blocked one never
			// does. Frames are counted, not requests: Chromium may fetch one
			// image twice (it did, on a loaded machine: 3 images, want 2).
			wantPixels := 1
			if tc.framed {
				wantPixels = 2
			}
			pixels := func(hs []hit) int {
				frames := map[string]bool{}
				for _, h := range hs[nHits:] {
					if h.Path == "/pixel" && (h.Query == "page="+tc.path[1:]+"&run="+strconv.Itoa(run)+"&frame=target" ||
						h.Query == "page=allowed&run="+strconv.Itoa(run)+"&frame=sentinel") {
						frames[h.Query] = true
					}
				}
				return len(frames)
			}
			hits.wait(t, ctx, "the sentinel's image", func(hs []hit) bool { return pixels(hs) >= 1 })
			if !tc.framed {
				// The target was requested and its headers refused: the
				// document was fetched, never rendered.
				if !slices.ContainsFunc(hits.all()[nHits:], func(h hit) bool { return h.Path == tc.path }) {
					t.Errorf("the browser never requested %s", tc.path)
				}
			} else {
				hits.wait(t, ctx, "both images", func(hs []hit) bool { return pixels(hs) >= wantPixels })
			}
			if n := pixels(hits.all()); n != wantPixels {
				t.Errorf("%d framed pages requested their image, want %d", n, wantPixels)
			}
			if tc.report {
				// Each route posts its reports to its own endpoint. Chromium
				// cuts the framed document's URL to its origin in them.
				reports.wait(t, ctx, "a frame-ancestors report", func(rs []report) bool {
					return slices.ContainsFunc(rs, func(r report) bool {
						return r.Path == "/csp-report"+tc.path && r.EffectiveDirective == "frame-ancestors" &&
							strings.HasPrefix(r.DocumentURL, victim+"/") && r.Disposition == "enforce"
					})
				})
			}
		})
	}
}

func countOf[T comparable](s []T, v T) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// elemResults is what the scripts of the script-src-elem page did.
type elemResults struct {
	Nonced   bool `json:"nonced"`   // the inline script with the nonce ran
	Inline   bool `json:"inline"`   // the inline script without the nonce ran
	External bool `json:"external"` // the same-origin external script ran ('self')
}

// testScriptSrcElem: with a CSP that sets script-src-elem, an inline
// script carrying the response's nonce runs and one without it does not.
// script-src-elem, when present, governs <script> elements instead of
// script-src, so the nonce must be in it; before the fix the middleware
// put the nonce in script-src only. The control route sends that old
// rendering as a fixed header (the string the middleware rendered for
// these options before the fix, with the response's nonce in script-src
// and not in script-src-elem), and Chromium blocks the nonced script
// there: for elements, script-src and its nonce are not consulted. On both routes
// the same-origin external script runs ('self' in script-src-elem), so the
// page's scripts can run at all. Plain HTTP on 127.0.0.1.
func (s *suite) testScriptSrcElem(t *testing.T) {
	m, err := headers.New(headers.Options{CSP: &headers.CSP{
		DefaultSrc:    []string{headers.None},
		ScriptSrcElem: []string{headers.Self},
		ScriptNonce:   true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	page := template.Must(template.New("page").Parse(`<!doctype html><title>script-src-elem</title>
<script nonce="{{.}}">window.nonced = true;</script>
<script>window.inline = true;</script>
<script src="/self.js"></script>
`))
	policies := newEvents[string]()
	serve := func(old bool) http.Handler {
		return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			nonce, ok := headers.Nonce(r.Context())
			if !ok {
				t.Error("no nonce in the request context")
			}
			if old {
				// The policy as the middleware rendered it before the fix.
				w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; script-src-elem 'self'; base-uri 'self'")
			}
			policies.add(w.Header().Get("Content-Security-Policy"))
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = page.Execute(w, nonce)
		}))
	}
	mux := http.NewServeMux()
	mux.Handle("GET /now", serve(false))
	mux.Handle("GET /before-the-fix", serve(true))
	mux.HandleFunc("GET /self.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte("window.external = true;"))
	})
	srv := s.serve(t, mux, false).origin("127.0.0.1")

	for _, tc := range []struct {
		name, path string
		nonced     bool
	}{
		{"the nonce in script-src-elem lets the nonced inline script run", "/now", true},
		{"the nonce in script-src alone, as before the fix, does not", "/before-the-fix", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := s.tab(t)
			n := len(policies.all())
			navigate(t, ctx, srv+tc.path)
			// Parser-inserted scripts have all run by the load event that
			// navigate waits for; the evaluation itself is not subject to
			// the page's policy.
			got := eval[elemResults](t, ctx, `({nonced: !!window.nonced, inline: !!window.inline, external: !!window.external})`)
			policy := policies.all()[n:]
			if got.Nonced != tc.nonced || got.Inline || !got.External {
				t.Errorf("under %q: nonced script ran %v (want %v), script without the nonce ran %v (want false), 'self' external script ran %v (want true)",
					policy, got.Nonced, tc.nonced, got.Inline, got.External)
			}
		})
	}
}
