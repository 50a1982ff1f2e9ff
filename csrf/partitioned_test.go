package csrf_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/csrf"
)

// TestNewRefusesAnInsecurePartitionedCookie: browsers reject a
// Partitioned cookie without Secure, so Partitioned with
// DangerouslyAllowInsecureCookie is a configuration error, reported on
// the Tokens.Partitioned field; with Secure it is accepted.
func TestNewRefusesAnInsecurePartitionedCookie(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tokens csrf.TokenOptions
		fields []string // nil: New succeeds
	}{
		{"Partitioned with Secure is accepted", csrf.TokenOptions{Key: key1, Partitioned: true}, nil},
		{"Partitioned with a cookie name of the application's is accepted", csrf.TokenOptions{Key: key1, Partitioned: true, CookieName: "widget-csrf"}, nil},
		{"Partitioned without Secure is refused",
			csrf.TokenOptions{Key: key1, Partitioned: true, DangerouslyAllowInsecureCookie: true}, []string{"Tokens.Partitioned"}},
		{"Partitioned without Secure under a __Host- name is refused for both",
			csrf.TokenOptions{Key: key1, Partitioned: true, DangerouslyAllowInsecureCookie: true, CookieName: "__Host-csrf"},
			[]string{"Tokens.CookieName", "Tokens.Partitioned"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tokens := tt.tokens
			m, err := csrf.New(csrf.Options{Tokens: &tokens})
			if tt.fields == nil {
				if err != nil || m == nil {
					t.Fatalf("New = %v, %v; want a Middleware", m, err)
				}
				return
			}
			if m != nil || !errors.Is(err, csrf.ErrInvalidTokenOptions) {
				t.Fatalf("New = %v, %v; want ErrInvalidTokenOptions", m, err)
			}
			var fields []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var oe *csrf.OptionError
				if errors.As(e, &oe) {
					fields = append(fields, oe.Field)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("New reported %q (%v), want %q", fields, err, tt.fields)
			}
		})
	}
}

// TestPartitionedTokenCookie: with Partitioned, every token cookie the
// middleware issues (the first one, and the one that replaces a malformed
// or forged cookie) is Partitioned and SameSite=None, the only SameSite a
// browser stores and sends in a cross-site frame, and the tokens rendered
// with it verify. Without the option the cookie stays SameSite=Lax and
// unpartitioned.
func TestPartitionedTokenCookie(t *testing.T) {
	requests := []struct {
		name   string
		r      func() *http.Request
		unsafe bool // refused without a token with Always
	}{
		{"the first GET", func() *http.Request { return req{method: "GET"}.build() }, false},
		{"a same-origin POST from a frame without a cookie", func() *http.Request { return post(sfs("same-origin")) }, true},
		{"a GET with a malformed cookie, which is replaced", func() *http.Request {
			return req{method: "GET", headers: [][2]string{{"Cookie", "__Host-csrf=x"}}}.build()
		}, false},
		{"a GET with a truncated cookie, which is replaced", func() *http.Request {
			return req{method: "GET", headers: [][2]string{{"Cookie", "__Host-csrf=" + strings.Repeat("A", 42)}}}.build()
		}, false},
	}
	for _, on := range []bool{true, false} {
		for _, always := range []bool{false, true} {
			ts := newTokenServer(t, csrf.TokenOptions{Key: key1, Partitioned: on, Always: always}, csrf.Options{})
			for _, rq := range requests {
				if always && rq.unsafe {
					continue
				}
				name := rq.name
				if !on {
					name += "/without Partitioned"
				}
				if always {
					name += "/Always"
				}
				t.Run(name, func(t *testing.T) {
					rec := httptest.NewRecorder()
					ts.h.ServeHTTP(rec, rq.r())
					lines := rec.Header().Values("Set-Cookie")
					if rec.Code != http.StatusOK || len(lines) != 1 {
						t.Fatalf("status %d, Set-Cookie %q; want 200 and one token cookie", rec.Code, lines)
					}
					c, err := http.ParseSetCookie(lines[0])
					if err != nil {
						t.Fatalf("Set-Cookie %q: %v", lines[0], err)
					}
					wantSameSite := http.SameSiteLaxMode
					if on {
						wantSameSite = http.SameSiteNoneMode
					}
					if c.Name != "__Host-csrf" || c.Partitioned != on || c.SameSite != wantSameSite || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.MaxAge != 0 {
						t.Errorf("Set-Cookie %q; want __Host-csrf, Partitioned %v, SameSite %v, Secure, HttpOnly, Path=/, no Domain, no Max-Age", lines[0], on, wantSameSite)
					}
					// The token rendered with the new cookie verifies.
					tok := rec.Body.String()
					if code, _, _ := ts.do(post(sfs("same-origin"), cookieHeader(c), tokenHeader(tok))); code != http.StatusOK {
						t.Errorf("the token rendered with the new cookie was rejected: %v", ts.err)
					}
				})
			}
		}
	}
}

// TestPartitionedTokenCookieIsNotReissued: a request that carries a valid
// partitioned token cookie, or that is rejected, gets no new cookie, as
// without the option: a cookie set anew would void the forms already open
// in the frame.
func TestPartitionedTokenCookieIsNotReissued(t *testing.T) {
	ts := newTokenServer(t, csrf.TokenOptions{Key: key1, Partitioned: true, Always: true}, csrf.Options{})
	tok, c := ts.get(t)
	if c == nil || !c.Partitioned {
		t.Fatalf("token cookie %+v, want a partitioned one", c)
	}
	for _, tt := range []struct {
		name string
		r    *http.Request
		code int
	}{
		{"a GET with the cookie", req{method: "GET", headers: [][2]string{cookieHeader(c)}}.build(), http.StatusOK},
		{"a POST from the frame with its token", post(sfs("same-origin"), cookieHeader(c), tokenHeader(tok)), http.StatusOK},
		// The embedding site's own page posting to the frame's
		// application sends the partitioned cookie of its partition.
		{"a cross-site POST from the embedding page with the cookie", post(sfs("cross-site"), origin("https://shop.example"), cookieHeader(c)), http.StatusForbidden},
		{"a cross-site POST without it", post(sfs("cross-site"), origin("https://shop.example")), http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			ts.h.ServeHTTP(rec, tt.r)
			if rec.Code != tt.code {
				t.Errorf("status %d, want %d", rec.Code, tt.code)
			}
			if v := rec.Header().Values("Set-Cookie"); len(v) > 0 {
				t.Errorf("Set-Cookie %q, want none", v)
			}
		})
	}
}
