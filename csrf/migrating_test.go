package csrf_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

// The decisions MIGRATING.md states for someone coming from gorilla/csrf,
// nosurf or echo's CSRF middleware, with tokens configured, each with a
// valid token where the row says "token or not".
func TestMigratingDecisionsWithTokens(t *testing.T) {
	for _, tt := range []struct {
		name      string
		opts      csrf.Options
		tokens    csrf.TokenOptions
		method    string
		headers   [][2]string
		withToken bool
		err       error // nil: passes
	}{
		{name: "a cross-site TRACE is checked, not passed as safe",
			method: "TRACE", headers: [][2]string{sfs("cross-site")}, err: csrf.ErrCrossOrigin},
		{name: "a TRACE from a client that sends neither header needs the token",
			method: "TRACE", err: csrf.ErrTokenMissing},
		{name: "a same-site POST is refused even with a valid token",
			headers: [][2]string{sfs("same-site"), origin("https://sub.example.com")}, withToken: true, err: csrf.ErrCrossOrigin},
		{name: "a same-site POST is refused without a token",
			headers: [][2]string{sfs("same-site"), origin("https://sub.example.com")}, err: csrf.ErrCrossOrigin},
		{name: "a same-site POST passes without a token with AllowSameSite",
			opts:    csrf.Options{AllowSameSite: true},
			headers: [][2]string{sfs("same-site"), origin("https://sub.example.com")}},
		{name: "a cross-site POST is refused even with a valid token",
			headers: [][2]string{sfs("cross-site"), origin("https://evil.test")}, withToken: true, err: csrf.ErrCrossOrigin},
		{name: "a same-origin Sec-Fetch-Site passes without a token",
			headers: [][2]string{sfs("same-origin")}},
		{name: "without Sec-Fetch-Site a same-origin Origin passes without a token",
			headers: [][2]string{origin("https://example.com")}},
		{name: "with Always a same-origin Origin needs the token",
			tokens:  csrf.TokenOptions{Always: true},
			headers: [][2]string{origin("https://example.com")}, err: csrf.ErrTokenMissing},
		{name: "neither Sec-Fetch-Site nor Origin needs the token",
			err: csrf.ErrTokenMissing},
		{name: "without Origin and Referer a valid token passes",
			withToken: true},
		{name: "Referer is never read: a cross-site Referer does not refuse a valid token",
			headers: [][2]string{{"Referer", "https://evil.test/page"}}, withToken: true},
		{name: "Referer is never read: a same-origin Referer does not stand for a token",
			headers: [][2]string{{"Referer", "https://example.com/form"}}, err: csrf.ErrTokenMissing},
		{name: "Origin null without Sec-Fetch-Site is refused, even with a valid token",
			headers: [][2]string{origin("null")}, withToken: true, err: csrf.ErrNullOrigin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.tokens.Key = key1
			ts := newTokenServer(t, tt.tokens, tt.opts)
			h := tt.headers
			if tt.withToken {
				tok, c := ts.get(t)
				h = append(h, cookieHeader(c), tokenHeader(tok))
			}
			code, _, set := ts.do(req{method: tt.method, headers: h}.build())
			if (code == http.StatusOK) != (tt.err == nil) || !errors.Is(ts.err, tt.err) {
				t.Errorf("status %d, reason %v; want reason %v", code, ts.err, tt.err)
			}
			if tt.err != nil && len(set) > 0 {
				t.Errorf("the refusal set cookies %v", set)
			}
		})
	}
}

// The default refusal of a request that carries a valid token but comes
// cross-site: a 403 problem document, no cookie, no Vary: Cookie.
func TestMigratingRefusalWithATokenIsAProblemWithoutCookie(t *testing.T) {
	m := csrf.MustNew(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(csrf.Token(r))) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req{method: "GET"}.build())
	c := rec.Result().Cookies()[0]
	tok := rec.Body.String()

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req{headers: [][2]string{sfs("same-site"), origin("https://sub.example.com"), cookieHeader(c), tokenHeader(tok)}}.build())
	if rec.Code != http.StatusForbidden || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, Content-Type %q; want a 403 problem document", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Header().Get("Set-Cookie") != "" || len(rec.Header().Values("Vary")) != 0 {
		t.Errorf("Set-Cookie %q, Vary %q on the refusal; want neither", rec.Header().Get("Set-Cookie"), rec.Header().Values("Vary"))
	}
}

// MIGRATING.md: gorilla/csrf's field name, gorilla.csrf.Token, is
// ErrInvalidTokenOptions (its dots); an exemption such as /webhooks/* is a
// literal path, not a pattern, and one that no request could match: New
// refuses it.
func TestMigratingFieldNameAndLiteralExemption(t *testing.T) {
	if _, err := csrf.New(csrf.Options{Tokens: &csrf.TokenOptions{Key: key1, FieldName: "gorilla.csrf.Token"}}); !errors.Is(err, csrf.ErrInvalidTokenOptions) {
		t.Errorf("FieldName gorilla.csrf.Token: New error = %v, want ErrInvalidTokenOptions", err)
	}
	if _, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/webhooks/*", Reason: "signed"}}}); !errors.Is(err, csrf.ErrInvalidExemption) {
		t.Fatalf("New with /webhooks/*: %v, want ErrInvalidExemption", err)
	}
	m, err := csrf.New(csrf.Options{Exempt: []csrf.Exemption{{Pattern: "/webhooks/stripe-events", Reason: "signed"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		err    error
	}{
		{"https://example.com/webhooks/stripe-events", nil},
		{"https://example.com/webhooks/stripe", csrf.ErrCrossOrigin},
		{"https://example.com/webhooks/", csrf.ErrCrossOrigin},
	} {
		if err := m.Check(req{target: tt.target, headers: [][2]string{sfs("cross-site")}}.build()); !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("cross-site POST %s: Check = %v, want %v", tt.target, err, tt.err)
		}
	}
}
