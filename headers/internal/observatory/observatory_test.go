package observatory_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/httpguard/httpguard/headers/internal/observatory"
)

func result(rep observatory.Report, name string) string {
	for _, t := range rep.Tests {
		if t.Name == name {
			return t.Result
		}
	}
	return ""
}

func TestGrade(t *testing.T) {
	https, _ := url.Parse("https://example.com/")
	good := func() http.Header {
		return http.Header{
			"Content-Security-Policy":      {"default-src 'none'; frame-ancestors 'none'"},
			"Strict-Transport-Security":    {"max-age=63072000"},
			"X-Content-Type-Options":       {"nosniff"},
			"Referrer-Policy":              {"no-referrer"},
			"Cross-Origin-Resource-Policy": {"same-origin"},
		}
	}
	tests := []struct {
		name      string
		edit      func(http.Header)
		test      string
		result    string
		score     int
		wantGrade string
	}{
		{"a strict response scores A+", func(http.Header) {}, "content-security-policy", "csp-implemented-with-no-unsafe-default-src-none", 130, "A+"},
		{"no headers at all fail", func(h http.Header) { clear(h) }, "x-frame-options", "x-frame-options-not-implemented", 100 - 25 - 20 - 5 - 20, "D"},
		{"unsafe-inline scripts cost 20 and the bonuses", func(h http.Header) {
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		}, "content-security-policy", "csp-implemented-with-unsafe-inline", 80, "B+"},
		{"a nonce with strict-dynamic neutralizes fallbacks", func(h http.Header) {
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-abc' 'strict-dynamic' https: 'unsafe-inline'; frame-ancestors 'none'")
		}, "content-security-policy", "csp-implemented-with-no-unsafe", 125, "A+"},
		{"strict-dynamic without a nonce is invalid", func(h http.Header) {
			h.Set("Content-Security-Policy", "script-src 'strict-dynamic'")
		}, "content-security-policy", "csp-header-invalid", 100 - 25 - 20, "C"},
		{"a repeated directive is invalid", func(h http.Header) {
			h.Set("Content-Security-Policy", "default-src 'none'; default-src 'self'")
		}, "content-security-policy", "csp-header-invalid", 100 - 25 - 20, "C"},
		{"a short HSTS costs 10", func(h http.Header) { h.Set("Strict-Transport-Security", "max-age=600") }, "strict-transport-security", "hsts-implemented-max-age-less-than-six-months", 90 + 30, "A+"},
		{"an unsafe referrer policy costs 5", func(h http.Header) { h.Set("Referrer-Policy", "unsafe-url") }, "referrer-policy", "referrer-policy-unsafe", 95 + 25, "A+"},
		{"cross-origin CORP earns nothing", func(h http.Header) { h.Set("Cross-Origin-Resource-Policy", "cross-origin") }, "cross-origin-resource-policy", "cross-origin-resource-policy-implemented-with-cross-origin", 120, "A+"},
		{"an insecure session cookie costs 40", func(h http.Header) { h.Set("Set-Cookie", "session=1; HttpOnly") }, "cookies", "cookies-session-without-secure-flag", 60, "C+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good()
			tt.edit(h)
			rep := observatory.Grade(observatory.Input{URL: https, Status: 200, Header: h,
				HTTPRedirect: &http.Response{StatusCode: 301, Header: http.Header{"Location": {"https://example.com/"}}}})
			if got := result(rep, tt.test); got != tt.result {
				t.Errorf("%s = %s, want %s", tt.test, got, tt.result)
			}
			if rep.Score != tt.score || rep.Grade != tt.wantGrade {
				t.Errorf("score %d %s, want %d %s\n%s", rep.Score, rep.Grade, tt.score, tt.wantGrade, rep)
			}
		})
	}
}

func TestRedirection(t *testing.T) {
	u, _ := url.Parse("https://example.com/")
	tests := []struct {
		res  *http.Response
		want string
	}{
		{nil, "redirection-not-needed-no-http"},
		{&http.Response{StatusCode: 200, Header: http.Header{}}, "redirection-missing"},
		{&http.Response{StatusCode: 301, Header: http.Header{"Location": {"https://example.com/"}}}, "redirection-to-https"},
		{&http.Response{StatusCode: 301, Header: http.Header{"Location": {"https://www.example.com/"}}}, "redirection-off-host-from-http"},
		{&http.Response{StatusCode: 302, Header: http.Header{"Location": {"http://example.com/x"}}}, "redirection-not-to-https-on-initial-redirection"},
	}
	for _, tt := range tests {
		rep := observatory.Grade(observatory.Input{URL: u, Header: http.Header{}, HTTPRedirect: tt.res})
		if got := result(rep, "redirection"); got != tt.want {
			t.Errorf("redirection = %s, want %s", got, tt.want)
		}
	}
}
