package session_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/session"
)

// net/http reads no cookie at all from Cookie lines holding more than
// 3000 of them (counted as their ';' plus one per line, since Go 1.25.2
// and 1.24.8: CVE-2025-58186), so the application's r.Cookie finds
// nothing there; the session's own reader found the session anyway
// (found by fuzzing, FuzzCookieValue). It now reads none either, as
// net/http does by default (the httpcookiemaxnum GODEBUG setting is not
// followed).
func TestCookieValueCookieCountLimit(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"3000 cookies", []string{"sid=abc" + strings.Repeat("; x=1", 2999)}, true},
		{"3001 cookies", []string{"sid=abc" + strings.Repeat("; x=1", 3000)}, false},
		{"3001 parts of empty cookies", []string{"sid=abc" + strings.Repeat(";", 3000)}, false},
		{"3000 parts over two lines", []string{"sid=abc" + strings.Repeat(";", 1000), strings.Repeat(";", 1998)}, true},
		{"3001 parts over two lines", []string{"sid=abc" + strings.Repeat(";", 1000), strings.Repeat(";", 1999)}, false},
		{"a long value in few cookies", []string{"sid=" + strings.Repeat("a", 5000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": tt.lines}
			_, ok := session.CookieValue(h, "sid")
			if ok != tt.want {
				t.Errorf("found %t, want %t", ok, tt.want)
			}
			// Go 1.25.0 and 1.25.1, before the limit, read every cookie.
			if _, err := (&http.Request{Header: h}).Cookie("sid"); netHTTPLimitsCookies() && (err == nil) != tt.want {
				t.Fatalf("net/http found %t (%v): the case does not match net/http's limit", err == nil, err)
			}
		})
	}
}

// netHTTPLimitsCookies reports whether this net/http reads no cookie from
// a line of 3001.
func netHTTPLimitsCookies() bool {
	h := http.Header{"Cookie": {"sid=abc" + strings.Repeat(";", 3000)}}
	_, err := (&http.Request{Header: h}).Cookie("sid")
	return err != nil
}
