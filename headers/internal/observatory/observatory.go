// Package observatory grades HTTP responses offline under the published
// scoring rules of Mozilla's HTTP Observatory (the MDN HTTP Observatory
// "Tests and scoring" methodology): every site starts at 100, penalties
// are subtracted, and bonuses are added only if the result is at least 90.
//
// It implements the tests that depend on response headers: Content
// Security Policy, Strict-Transport-Security, X-Content-Type-Options,
// X-Frame-Options, Referrer-Policy, Cross-Origin-Resource-Policy, cookies,
// CORS headers, the HTTP to HTTPS redirection and, for HTML bodies, a
// simplified Subresource Integrity check. It does not consult the HSTS
// preload list (no preload bonus) and does not fetch anything: it grades
// the responses it is given. It exists so tests can show the grade a
// deployment of the headers package would get.
package observatory

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Input is what the scanner would have fetched.
type Input struct {
	// URL is the final URL of the scanned page (https://host/).
	URL *url.URL
	// Status, Header and Body are the final response.
	Status int
	Header http.Header
	Body   []byte
	// HTTPRedirect is the response to the same path over plain http://,
	// nil when the site does not listen on port 80.
	HTTPRedirect *http.Response
}

// Test is the outcome of one test.
type Test struct {
	Name     string
	Result   string
	Modifier int
}

// Report is the graded outcome.
type Report struct {
	Score int
	Grade string
	Tests []Test
}

// String renders the report as one line per test and a summary line.
func (r Report) String() string {
	var b strings.Builder
	for _, t := range r.Tests {
		b.WriteString(t.Name + ": " + t.Result + " (" + strconv.Itoa(t.Modifier) + ")\n")
	}
	b.WriteString("score " + strconv.Itoa(r.Score) + ", grade " + r.Grade + "\n")
	return b.String()
}

var modifiers = map[string]int{
	"csp-implemented-with-no-unsafe-default-src-none":              10,
	"csp-implemented-with-no-unsafe":                               5,
	"csp-implemented-with-unsafe-inline-in-style-src-only":         0,
	"csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
	"csp-implemented-with-unsafe-eval":                             -10,
	"csp-implemented-with-unsafe-inline":                           -20,
	"csp-implemented-with-insecure-scheme":                         -20,
	"csp-header-invalid":                                           -25,
	"csp-not-implemented":                                          -25,

	"cookies-secure-with-httponly-sessions-and-samesite": 5,
	"cookies-secure-with-httponly-sessions":              0,
	"cookies-not-found":                                  0,
	"cookies-without-secure-flag":                        -20,
	"cookies-samesite-flag-invalid":                      -20,
	"cookies-session-without-httponly-flag":              -30,
	"cookies-session-without-secure-flag":                -40,

	"cross-origin-resource-sharing-not-implemented":                    0,
	"cross-origin-resource-sharing-implemented-with-public-access":     0,
	"cross-origin-resource-sharing-implemented-with-restricted-access": 0,
	"cross-origin-resource-sharing-implemented-with-universal-access":  -50,

	"redirection-to-https":                            0,
	"redirection-not-needed-no-http":                  0,
	"redirection-off-host-from-http":                  -5,
	"redirection-not-to-https-on-initial-redirection": -10,
	"redirection-not-to-https":                        -20,
	"redirection-missing":                             -20,

	"referrer-policy-private":         5,
	"referrer-policy-not-implemented": 0,
	"referrer-policy-unsafe":          -5,
	"referrer-policy-header-invalid":  -5,

	"hsts-implemented-max-age-at-least-six-months":  0,
	"hsts-implemented-max-age-less-than-six-months": -10,
	"hsts-not-implemented":                          -20,
	"hsts-header-invalid":                           -20,
	"hsts-not-implemented-no-https":                 -20,

	"sri-not-implemented-response-not-html":                         0,
	"sri-not-implemented-but-no-scripts-loaded":                     0,
	"sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
	"sri-implemented-and-all-scripts-loaded-securely":               5,
	"sri-not-implemented-but-external-scripts-loaded-securely":      -5,
	"sri-not-implemented-and-external-scripts-not-loaded-securely":  -50,

	"x-content-type-options-nosniff":         0,
	"x-content-type-options-not-implemented": -5,
	"x-content-type-options-header-invalid":  -5,
	"x-frame-options-implemented-via-csp":    5,
	"x-frame-options-sameorigin-or-deny":     0,
	"x-frame-options-not-implemented":        -20,
	"x-frame-options-header-invalid":         -20,

	"cross-origin-resource-policy-implemented-with-same-origin":  10,
	"cross-origin-resource-policy-implemented-with-same-site":    10,
	"cross-origin-resource-policy-implemented-with-cross-origin": 0,
	"cross-origin-resource-policy-not-implemented":               0,
	"cross-origin-resource-policy-header-invalid":                -5,
}

// Grade runs every test on in.
func Grade(in Input) Report {
	https := in.URL != nil && in.URL.Scheme == "https"
	csp, cspResult := contentSecurityPolicy(in.Header, https)
	tests := []Test{
		{Name: "content-security-policy", Result: cspResult},
		{Name: "cookies", Result: cookies(in.Header)},
		{Name: "cross-origin-resource-sharing", Result: cors(in.Header)},
		{Name: "redirection", Result: redirection(in)},
		{Name: "referrer-policy", Result: referrerPolicy(in.Header)},
		{Name: "strict-transport-security", Result: hsts(in.Header, https)},
		{Name: "subresource-integrity", Result: sri(in)},
		{Name: "x-content-type-options", Result: xcto(in.Header)},
		{Name: "x-frame-options", Result: xfo(in.Header, csp)},
		{Name: "cross-origin-resource-policy", Result: corp(in.Header)},
	}
	score, bonus := 100, 0
	for i := range tests {
		m := modifiers[tests[i].Result]
		tests[i].Modifier = m
		if m < 0 {
			score += m
		} else {
			bonus += m
		}
	}
	if score >= 90 {
		score += bonus
	}
	score = max(score, 0)
	return Report{Score: score, Grade: grade(score), Tests: tests}
}

func grade(score int) string {
	for _, g := range []struct {
		min   int
		grade string
	}{{100, "A+"}, {90, "A"}, {85, "A-"}, {80, "B+"}, {70, "B"}, {65, "B-"}, {60, "C+"}, {50, "C"}, {45, "C-"}, {40, "D+"}, {30, "D"}, {25, "D-"}} {
		if score >= g.min {
			return g.grade
		}
	}
	return "F"
}

var (
	dangerouslyBroad = []string{"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
	unsafeInline     = []string{"'unsafe-inline'", "data:"}
	noncesHashes     = []string{"'sha256-", "'sha384-", "'sha512-", "'nonce-"}
)

type sourceSet map[string]bool

func (s sourceSet) hasAny(vals []string) bool {
	for _, v := range vals {
		if s[v] {
			return true
		}
	}
	return false
}

func (s sourceSet) hasNonceOrHash() bool {
	for src := range s {
		for _, p := range noncesHashes {
			if strings.HasPrefix(src, p) {
				return true
			}
		}
	}
	return false
}

func (s sourceSet) clone() sourceSet {
	c := make(sourceSet, len(s))
	for k := range s {
		c[k] = true
	}
	return c
}

// parseCSP parses the enforced policies: directives split on ";", sources
// lower-cased; a repeated directive or a policy too short to hold one is
// invalid.
func parseCSP(values []string) (map[string]sourceSet, bool) {
	csp := map[string]sourceSet{}
	for _, v := range values {
		for pol := range strings.SplitSeq(v, ",") {
			pol = strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(pol))
			if len(pol) < len("img-src")-1 {
				return nil, false
			}
			seen := map[string]bool{}
			for d := range strings.SplitSeq(pol, ";") {
				f := strings.Fields(d)
				if len(f) == 0 {
					continue
				}
				name := f[0]
				if seen[name] {
					return nil, false
				}
				seen[name] = true
				set := sourceSet{}
				for _, s := range f[1:] {
					set[strings.ToLower(s)] = true
				}
				if len(f) == 1 {
					set["'none'"] = true
				}
				if old, ok := csp[name]; ok {
					for k := range old {
						set[k] = true
					}
				}
				csp[name] = set
			}
		}
	}
	return csp, true
}

func contentSecurityPolicy(h http.Header, https bool) (map[string]sourceSet, string) {
	values := h.Values("Content-Security-Policy")
	if len(values) == 0 {
		return nil, "csp-not-implemented"
	}
	csp, ok := parseCSP(values)
	if !ok || len(csp) == 0 {
		return nil, "csp-header-invalid"
	}
	get := func(names ...string) sourceSet {
		for _, n := range names {
			if s, ok := csp[n]; ok {
				return s.clone()
			}
		}
		return sourceSet{"*": true}
	}
	objectSrc := get("object-src", "default-src")
	scriptSrc := get("script-src", "default-src")
	styleSrc := get("style-src", "default-src")
	for _, l := range []sourceSet{scriptSrc, styleSrc} {
		if l.hasNonceOrHash() {
			delete(l, "'unsafe-inline'")
		}
	}
	result := ""
	set := func(r string) {
		if result == "" {
			result = r
		}
	}
	strict := false
	if scriptSrc.hasNonceOrHash() && scriptSrc["'strict-dynamic'"] {
		for src := range scriptSrc {
			broad := slices.ContainsFunc(dangerouslyBroad, func(b string) bool { return strings.HasPrefix(src, b) })
			if broad || src == "'self'" || src == "'unsafe-inline'" {
				delete(scriptSrc, src)
			}
		}
		strict = true
	} else if scriptSrc["'strict-dynamic'"] {
		set("csp-header-invalid")
	}
	var active, passive []string
	for name, l := range csp {
		if name == "img-src" || name == "media-src" || name == "script-src" {
			continue
		}
		for s := range l {
			active = append(active, s)
		}
	}
	for s := range scriptSrc {
		active = append(active, s)
	}
	for _, name := range []string{"img-src", "media-src"} {
		l, ok := csp[name]
		if !ok {
			l = csp["default-src"]
		}
		for s := range l {
			passive = append(passive, s)
		}
	}
	insecure := func(list []string) bool {
		return slices.ContainsFunc(list, func(s string) bool {
			return strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "ftp:")
		})
	}
	if scriptSrc.hasAny(dangerouslyBroad) || scriptSrc.hasAny(unsafeInline) || objectSrc.hasAny(dangerouslyBroad) {
		set("csp-implemented-with-unsafe-inline")
	}
	if https && insecure(active) && !strict {
		set("csp-implemented-with-insecure-scheme")
	}
	if scriptSrc["'unsafe-eval'"] || styleSrc["'unsafe-eval'"] {
		set("csp-implemented-with-unsafe-eval")
	}
	if https && insecure(passive) {
		set("csp-implemented-with-insecure-scheme-in-passive-content-only")
	}
	if styleSrc.hasAny(dangerouslyBroad) || styleSrc.hasAny(unsafeInline) {
		set("csp-implemented-with-unsafe-inline-in-style-src-only")
	}
	if d, ok := csp["default-src"]; ok && len(d) == 1 && d["'none'"] {
		set("csp-implemented-with-no-unsafe-default-src-none")
	}
	set("csp-implemented-with-no-unsafe")
	return csp, result
}

func cookies(h http.Header) string {
	lines := h.Values("Set-Cookie")
	if len(lines) == 0 {
		return "cookies-not-found"
	}
	worst := "cookies-secure-with-httponly-sessions-and-samesite"
	rank := map[string]int{
		"cookies-secure-with-httponly-sessions-and-samesite": 0,
		"cookies-secure-with-httponly-sessions":              1,
		"cookies-without-secure-flag":                        2,
		"cookies-samesite-flag-invalid":                      3,
		"cookies-session-without-httponly-flag":              4,
		"cookies-session-without-secure-flag":                5,
	}
	worse := func(r string) {
		if rank[r] > rank[worst] {
			worst = r
		}
	}
	for _, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		name := strings.ToLower(c.Name)
		session := strings.Contains(name, "sess") || strings.Contains(name, "login") || strings.Contains(name, "sid")
		switch {
		case session && !c.Secure:
			worse("cookies-session-without-secure-flag")
		case session && !c.HttpOnly:
			worse("cookies-session-without-httponly-flag")
		case !c.Secure:
			worse("cookies-without-secure-flag")
		}
		switch c.SameSite {
		case http.SameSiteStrictMode, http.SameSiteLaxMode:
		case http.SameSiteNoneMode:
			worse("cookies-samesite-flag-invalid")
		default:
			worse("cookies-secure-with-httponly-sessions")
		}
	}
	return worst
}

func cors(h http.Header) string {
	acao := h.Get("Access-Control-Allow-Origin")
	switch {
	case acao == "":
		return "cross-origin-resource-sharing-not-implemented"
	case acao == "*" && strings.EqualFold(h.Get("Access-Control-Allow-Credentials"), "true"):
		return "cross-origin-resource-sharing-implemented-with-universal-access"
	case acao == "*":
		return "cross-origin-resource-sharing-implemented-with-public-access"
	}
	return "cross-origin-resource-sharing-implemented-with-restricted-access"
}

func redirection(in Input) string {
	res := in.HTTPRedirect
	if res == nil {
		return "redirection-not-needed-no-http"
	}
	if res.StatusCode < 300 || res.StatusCode > 399 {
		return "redirection-missing"
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Host == "" {
		return "redirection-missing"
	}
	if loc.Scheme != "https" {
		return "redirection-not-to-https-on-initial-redirection"
	}
	if in.URL != nil && loc.Hostname() != in.URL.Hostname() {
		return "redirection-off-host-from-http"
	}
	return "redirection-to-https"
}

func referrerPolicy(h http.Header) string {
	v := strings.Join(h.Values("Referrer-Policy"), ",")
	if v == "" {
		return "referrer-policy-not-implemented"
	}
	valid := []string{"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin",
		"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
	last := ""
	for t := range strings.SplitSeq(strings.ToLower(v), ",") {
		if t = strings.TrimSpace(t); slices.Contains(valid, t) {
			last = t
		}
	}
	switch last {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
		return "referrer-policy-private"
	case "":
		return "referrer-policy-header-invalid"
	}
	return "referrer-policy-unsafe"
}

func hsts(h http.Header, https bool) string {
	if !https {
		return "hsts-not-implemented-no-https"
	}
	v := h.Get("Strict-Transport-Security")
	if v == "" {
		return "hsts-not-implemented"
	}
	if strings.Contains(v, ",") || len(h.Values("Strict-Transport-Security")) > 1 {
		return "hsts-header-invalid"
	}
	maxAge := -1
	for p := range strings.SplitSeq(v, ";") {
		p = strings.ToLower(strings.TrimSpace(p))
		if s, ok := strings.CutPrefix(p, "max-age="); ok {
			n, err := strconv.Atoi(strings.Trim(s, `"`))
			if err != nil {
				return "hsts-header-invalid"
			}
			maxAge = n
		}
	}
	switch {
	case maxAge <= 0:
		return "hsts-header-invalid"
	case maxAge < 15552000:
		return "hsts-implemented-max-age-less-than-six-months"
	}
	return "hsts-implemented-max-age-at-least-six-months"
}

var scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>`)
var srcAttr = regexp.MustCompile(`(?i)\bsrc\s*=\s*["']?([^"'\s>]+)`)

func sri(in Input) string {
	if !strings.HasPrefix(strings.ToLower(in.Header.Get("Content-Type")), "text/html") {
		return "sri-not-implemented-response-not-html"
	}
	tags := scriptTag.FindAllSubmatch(in.Body, -1)
	external, withSRI, insecure := 0, 0, 0
	for _, t := range tags {
		m := srcAttr.FindSubmatch(t[1])
		if m == nil {
			continue
		}
		u, err := url.Parse(string(m[1]))
		if err != nil || (u.Host == "" && !strings.HasPrefix(string(m[1]), "//")) {
			continue // same origin
		}
		if in.URL != nil && u.Hostname() == in.URL.Hostname() {
			continue
		}
		external++
		if u.Scheme != "https" {
			insecure++
		}
		if strings.Contains(strings.ToLower(string(t[1])), "integrity=") {
			withSRI++
		}
	}
	switch {
	case len(tags) == 0:
		return "sri-not-implemented-but-no-scripts-loaded"
	case external == 0:
		return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
	case insecure > 0:
		return "sri-not-implemented-and-external-scripts-not-loaded-securely"
	case withSRI == external:
		return "sri-implemented-and-all-scripts-loaded-securely"
	}
	return "sri-not-implemented-but-external-scripts-loaded-securely"
}

func xcto(h http.Header) string {
	v, ok := h["X-Content-Type-Options"]
	switch {
	case !ok:
		return "x-content-type-options-not-implemented"
	case len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "nosniff"):
		return "x-content-type-options-nosniff"
	}
	return "x-content-type-options-header-invalid"
}

func xfo(h http.Header, csp map[string]sourceSet) string {
	if fa, ok := csp["frame-ancestors"]; ok && !fa.hasAny(dangerouslyBroad) {
		return "x-frame-options-implemented-via-csp"
	}
	v, ok := h["X-Frame-Options"]
	if !ok {
		return "x-frame-options-not-implemented"
	}
	switch strings.ToLower(strings.TrimSpace(strings.Join(v, ","))) {
	case "deny", "sameorigin":
		return "x-frame-options-sameorigin-or-deny"
	}
	return "x-frame-options-header-invalid"
}

func corp(h http.Header) string {
	v, ok := h["Cross-Origin-Resource-Policy"]
	if !ok {
		return "cross-origin-resource-policy-not-implemented"
	}
	switch strings.ToLower(strings.TrimSpace(strings.Join(v, ","))) {
	case "same-origin":
		return "cross-origin-resource-policy-implemented-with-same-origin"
	case "same-site":
		return "cross-origin-resource-policy-implemented-with-same-site"
	case "cross-origin":
		return "cross-origin-resource-policy-implemented-with-cross-origin"
	}
	return "cross-origin-resource-policy-header-invalid"
}
