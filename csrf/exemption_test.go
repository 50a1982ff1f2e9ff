package csrf_test

import (
	"bufio"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

// TestExemptionPatterns: the patterns New accepts, and the reason it gives
// for each one it refuses, which the error shows the operator.
func TestExemptionPatterns(t *testing.T) {
	for _, p := range []string{
		"/",
		"/hooks/stripe",
		"POST /hooks/{provider}",
		"/t/{tenant}/hooks/stripe",
		"PUT /t/{tenant}/hooks/{provider}",
		"/{a}",
		"/hooks/{_}/{p2}/{ünïcode}",
	} {
		if _, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: p, Reason: "test"}}}); err != nil {
			t.Errorf("New with %q: %v", p, err)
		}
	}
	const subtree = "a trailing slash names a subtree in ServeMux, which would exempt routes added under it later without review: exemptions match one exact path; use {name} for one segment"
	for _, tt := range []struct{ pattern, reason string }{
		{"/hooks/", subtree},
		{"/hooks/{p}/", subtree},
		{"/hooks/{rest...}", "a {name...} wildcard matches a subtree, which would exempt routes added under it later without review: list each route, with {name} for one segment"},
		{"/hooks/{rest...}/x", "a {name...} wildcard matches a subtree, which would exempt routes added under it later without review: list each route, with {name} for one segment"},
		{"/hooks/{...}", "a {name...} wildcard matches a subtree, which would exempt routes added under it later without review: list each route, with {name} for one segment"},
		{"/hooks/{$}", "{$} is not needed: exemptions always match their path exactly, and in ServeMux it means a trailing slash, which an exemption cannot have; write the path without it, \"/\" for the root"},
		{"/a/{$}/b", "{$} is not needed: exemptions always match their path exactly, and in ServeMux it means a trailing slash, which an exemption cannot have; write the path without it, \"/\" for the root"},
		{"/{$}", "{$} is not needed: exemptions always match their path exactly, and in ServeMux it means a trailing slash, which an exemption cannot have; write the path without it, \"/\" for the root"},
		{"/hooks/x{p}", "a wildcard must be a whole segment, such as /hooks/{provider}"},
		{"/hooks/{p}x", "a wildcard must be a whole segment, such as /hooks/{provider}"},
		{"/hooks/{p", "a wildcard must be a whole segment, such as /hooks/{provider}"},
		{"/hooks/p}", "a wildcard must be a whole segment, such as /hooks/{provider}"},
		{"/hooks/{a}{b}", "a wildcard must be a whole segment, such as /hooks/{provider}"},
		{"/hooks/{}", "a wildcard name must be a Go identifier, as ServeMux requires"},
		{"/hooks/{1p}", "a wildcard name must be a Go identifier, as ServeMux requires"},
		{"/hooks/{a-b}", "a wildcard name must be a Go identifier, as ServeMux requires"},
		{"POST /hooks/{a b}", "the path must be literal but for {name} wildcards: no escapes, query, fragment, space or tab"},
		{"/t/{id}/hooks/{id}", "the wildcard name {id} appears twice"},
		{"/hooks/{p}/../x", "the path must be clean"},
		{"/hooks//{p}", "the path must be clean"},
		{"/hooks/*", "the path holds a character net/url escapes (such as * ! ' ( ) [ ] |), so requests for it, sent unescaped, would not match"},
		{"/a%2Fb", "the path must be literal but for {name} wildcards: no escapes, query, fragment, space or tab"},
		{"hooks/{p}", "the path must start with /"},
		{"post /hooks/{p}", "the method must be an upper-case token"},
	} {
		_, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/ok", Reason: "test"}, {Pattern: tt.pattern, Reason: "test"}}})
		var oe *csrf.OptionError
		if !errors.As(err, &oe) || !errors.Is(err, csrf.ErrInvalidExemption) {
			t.Errorf("New with %q = %v, want an *OptionError for ErrInvalidExemption", tt.pattern, err)
			continue
		}
		if oe.Field != "Exempt[1]" || oe.Value != tt.pattern || oe.Reason != tt.reason {
			t.Errorf("New with %q: %s %q %q, want Exempt[1] and reason %q", tt.pattern, oe.Field, oe.Value, oe.Reason, tt.reason)
		}
	}
}

var wildcardOpts = csrf.Options{Exempt: []csrf.Exemption{
	{Pattern: "POST /hooks/{provider}", Reason: "each provider signs its calls"},
	{Pattern: "/t/{tenant}/hooks/stripe", Reason: "signed by Stripe"},
	// Overlapping the first: both exempt, which is harmless.
	{Pattern: "POST /hooks/github", Reason: "signed by GitHub"},
}}

// TestExemptionWildcards sends cross-site POSTs, as a forging page's
// would arrive, to paths that a {name} exemption covers or not. A
// wildcard takes exactly one non-empty segment of the cleaned path, and
// nothing ServeMux would redirect there is exempt (CVE-2025-47910).
func TestExemptionWildcards(t *testing.T) {
	h := csrf.MustNew(wildcardOpts).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tt := range []struct {
		name, method, target string
		exempt               bool
	}{
		{"a provider's hook", "POST", "/hooks/stripe", true},
		{"another provider's hook", "POST", "/hooks/paddle", true},
		{"the overlapping literal route", "POST", "/hooks/github", true},
		{"a provider with a dot", "POST", "/hooks/a.b", true},
		{"a non-ASCII provider as browsers send it", "POST", "/hooks/caf%C3%A9", true},
		{"a tenant's hook", "POST", "/t/acme/hooks/stripe", true},
		{"a tenant's hook with any method", "DELETE", "/t/acme/hooks/stripe", true},
		{"another method on the provider hook", "PUT", "/hooks/stripe", false},
		{"the parent path", "POST", "/hooks", false},
		{"regression CVE-2025-47910: the parent with a trailing slash (an empty segment)", "POST", "/hooks/", false},
		{"regression CVE-2025-47910: a trailing slash", "POST", "/hooks/stripe/", false},
		{"a path one segment deeper", "POST", "/hooks/stripe/x", false},
		{"regression CVE-2025-47910: an empty segment", "POST", "/hooks//stripe", false},
		{"regression CVE-2025-47910: a double slash before the wildcard's segment", "POST", "/t//hooks/stripe", false},
		{"regression CVE-2025-47910: a dot segment", "POST", "/hooks/.", false},
		{"regression CVE-2025-47910: a dot-dot segment", "POST", "/hooks/..", false},
		{"regression CVE-2025-47910: a dot-dot path out of the wildcard", "POST", "/hooks/x/../../admin", false},
		{"regression CVE-2025-47910: a tenant of dot-dot", "POST", "/t/../hooks/stripe", false},
		{"an encoded slash inside the segment", "POST", "/hooks/a%2Fb", false},
		{"an encoded slash making a tenant route", "POST", "/t/a%2Fb/hooks/stripe", false},
		{"an encoded dot-dot", "POST", "/hooks/%2E%2E", false},
		{"a percent-encoded letter", "POST", "/hooks/%73tripe", false},
		{"another route", "POST", "/transfer", false},
		{"a tenant route under another name", "POST", "/t/acme/hooks/paddle", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.method + " " + tt.target + " HTTP/1.1\r\nHost: example.com\r\nSec-Fetch-Site: cross-site\r\nOrigin: https://evil.example\r\n\r\n"
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if want := map[bool]int{true: 200, false: 403}[tt.exempt]; rec.Code != want {
				t.Errorf("cross-site %s %s: status %d, want %d", tt.method, tt.target, rec.Code, want)
			}
		})
	}
}

// TestExemptionWildcardAllocations: the lookup of a {name} exemption
// allocates nothing, exempt or not.
func TestExemptionWildcardAllocations(t *testing.T) {
	h := csrf.MustNew(wildcardOpts).Handler(noop)
	for _, target := range []string{"/t/acme/hooks/stripe", "/t/acme/hooks/paddle", "/hooks//stripe"} {
		r := req{target: "https://example.com" + target, headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}}.build()
		w := &discardWriter{h: make(http.Header)}
		if got := testing.AllocsPerRun(1000, func() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}); got > 0 {
			t.Errorf("%s: %v allocations per request, want 0", target, got)
		}
	}
}

// FuzzExemptionMatchesServeMux compares the routes two exemptions cover
// with those net/http's ServeMux serves, without redirecting, for the same
// patterns: what net/http's CrossOriginProtection bypasses since its fix
// for CVE-2025-47910. A pattern New accepts must be one ServeMux accepts
// (each is registered alone, as two may conflict in ServeMux and both
// exempt here). A cross-site request exempt here must be served by one
// of the patterns in ServeMux ("/" being "/{$}" there); a request ServeMux serves must be exempt
// here unless it has a RawPath, an escape that net/url would not write
// (%2F, %61 or %2E%2E in a segment, or a character it escapes sent as
// is), which ServeMux decodes segment by segment and which matches no
// exemption, by design.
func FuzzExemptionMatchesServeMux(f *testing.F) {
	for _, s := range [][4]string{
		{"POST /hooks/{provider}", "/t/{tenant}/hooks/stripe", "POST", "/hooks/stripe"},
		{"POST /hooks/{provider}", "POST /hooks/github", "POST", "/hooks/github"},
		{"POST /hooks/{provider}", "/", "POST", "/hooks/"},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks//x"},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks/x/../../admin"},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks/."},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks/a%2Fb"},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks/%2E%2E"},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks/caf%C3%A9"},
		{"POST /hooks/{provider}", "/x", "POST", "/hooks/a%3Fb?q=1"},
		{"/t/{tenant}/hooks/{p}", "/x", "DELETE", "http://other.example/t/a/hooks/b"},
		{"/hooks/{p}", "/hooks/", "POST", "/hooks"},
		{"/hooks/{p}", "/hooks/{p...}", "POST", "/hooks/a/b"},
		{"/hooks/{p}", "/hooks/{$}", "POST", "/hooks/"},
		{"/{a}/{b}", "/{a}", "PATCH", "/x/y"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	// A pointer, so comparable, as net/http's own bypass sentinel is.
	sentinel := http.Handler(new(muxSentinel))
	f.Fuzz(func(t *testing.T, p1, p2, method, target string) {
		var exempt []csrf.Exemption
		var muxes []*http.ServeMux
		for _, p := range []string{p1, p2} {
			if _, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: p, Reason: "fuzz"}}}); err != nil {
				continue
			}
			mux := http.NewServeMux()
			func() {
				defer func() {
					if e := recover(); e != nil {
						t.Fatalf("New accepts %q, which ServeMux refuses: %v", p, e)
					}
				}()
				// "/" exempts the root alone, which ServeMux spells
				// "/{$}": its "/" is every path.
				mp := p
				if m, ok := strings.CutSuffix(p, " /"); ok {
					mp = m + " /{$}"
				} else if p == "/" {
					mp = "/{$}"
				}
				mux.Handle(mp, sentinel)
			}()
			exempt = append(exempt, csrf.Exemption{Pattern: p, Reason: "fuzz"})
			muxes = append(muxes, mux)
		}
		if len(exempt) == 0 {
			return
		}
		switch method {
		case "GET", "HEAD", "OPTIONS", "CONNECT":
			return
		}
		raw := method + " " + target + " HTTP/1.1\r\nHost: example.com\r\nSec-Fetch-Site: cross-site\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		ours := csrf.MustNew(csrf.Options{Exempt: exempt}).Check(r) == nil
		served := false
		for _, mux := range muxes {
			if h, _ := mux.Handler(r); h == sentinel {
				served = true
			}
		}
		switch {
		case ours && !served:
			t.Fatalf("%s %q (path %q, raw path %q) is exempt by %q, %q; ServeMux does not serve it there without a redirect", method, target, r.URL.Path, r.URL.RawPath, p1, p2)
		case served && !ours && r.URL.RawPath == "":
			t.Fatalf("%s %q (path %q) is served by ServeMux with %q, %q, but not exempt", method, target, r.URL.Path, p1, p2)
		}
	})
}

type muxSentinel struct{ _ byte }

func (*muxSentinel) ServeHTTP(http.ResponseWriter, *http.Request) {}

// TestExemptionWildcardsWithTokens: with tokens, a route a {name}
// exemption covers needs no token and gets no token cookie, as a literal
// one does, and a path ServeMux would redirect there still needs a token.
func TestExemptionWildcardsWithTokens(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, Always: true}, wildcardOpts)
	for _, tt := range []struct {
		target string
		err    error
	}{
		{"https://example.com/t/acme/hooks/stripe", nil},
		{"https://example.com/hooks/paddle", nil},
		{"https://example.com/t/acme/hooks/stripe/", csrf.ErrTokenMissing},
		{"https://example.com/hooks//paddle", csrf.ErrTokenMissing},
		{"https://example.com/hooks/a%2Fb", csrf.ErrTokenMissing},
	} {
		rec := httptest.NewRecorder()
		ts.err = nil
		ts.h.ServeHTTP(rec, req{target: tt.target}.build())
		if (rec.Code == http.StatusOK) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
			t.Errorf("POST %s without a token: status %d, reason %v; want %v", tt.target, rec.Code, ts.err, tt.err)
		}
		if tt.err == nil && len(rec.Result().Cookies()) != 0 {
			t.Errorf("POST %s: the exempt route set cookies %v", tt.target, rec.Result().Cookies())
		}
	}
}
