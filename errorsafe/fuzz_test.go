package errorsafe_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/errorsafe"
)

// validIncomingID is the documented rule, written independently of the
// implementation.
func validIncomingID(s string) bool {
	if len(s) == 0 || len(s) > errorsafe.DefaultMaxRequestIDLength {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:+/=", r)) {
			return false
		}
	}
	return true
}

// FuzzRequestID sends arbitrary X-Request-ID values from a trusted proxy
// (from anyone else every one is replaced): the ID echoed, put in
// the context and in the problem body is the incoming one exactly when it
// is valid, a new one otherwise, and the body stays valid JSON.
func FuzzRequestID(f *testing.F) {
	for _, tc := range requestIDCases {
		for _, v := range tc.values {
			f.Add(v)
		}
	}
	m := errorsafe.MustNew(errorsafe.Options{Logger: discardLogger(), ClientIP: gatewayResolver(f)})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ctx-Id", errorsafe.RequestIDFrom(r.Context()))
		w.WriteHeader(http.StatusInternalServerError)
	}))
	f.Fuzz(func(t *testing.T, in string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = gatewayAddr
		req.Header["X-Request-Id"] = []string{in}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		if validIncomingID(in) {
			if got != in {
				t.Fatalf("valid ID %q echoed as %q", in, got)
			}
		} else if !freshID.MatchString(got) {
			t.Fatalf("invalid ID %q echoed as %q", in, got)
		}
		if rec.Header().Get("X-Ctx-Id") != got {
			t.Fatalf("context ID %q, echoed %q", rec.Header().Get("X-Ctx-Id"), got)
		}
		var p map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("body is not JSON for ID %q: %v: %q", in, err, rec.Body)
		}
		if p["request_id"] != got {
			t.Fatalf("request_id %v, echoed %q", p["request_id"], got)
		}
	})
}

// mustRedact is an independent oracle for a few parameter names the
// documentation promises to redact.
func mustRedact(rawKey string) bool {
	k, err := url.QueryUnescape(rawKey)
	if err != nil || len(k) > 64 {
		return false
	}
	// Case and every byte that is not an ASCII letter or digit are
	// ignored: "Pass-Word", "api.key" and "apiKey" match.
	k = strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, k)
	for _, w := range []string{"password", "token", "secret", "apikey"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// FuzzRedactQuery checks that redaction never panics, bounds its output,
// is idempotent, redacts every documented name it keeps, and always
// redacts a password placed first whatever follows.
func FuzzRedactQuery(f *testing.F) {
	for _, tc := range redactQueryCases {
		f.Add(tc.in, "hunter2")
	}
	f.Add("a=1", "")
	f.Add("a=1", "&token=")
	var m errorsafe.Middleware
	f.Fuzz(func(t *testing.T, q, secret string) {
		out := m.RedactQuery(q)
		if len(out) > 1024 {
			t.Fatalf("output of %d bytes", len(out))
		}
		if again := m.RedactQuery(out); again != out {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
		// A short query is not cut, unless redaction lengthens it past
		// the bound: each item may become [REDACTED] ("code=d" grows by
		// nine bytes), so the oracle allows for that growth.
		items := strings.Count(q, "&") + strings.Count(q, ";") + 1
		if len(q)+items*len(errorsafe.Redacted) <= 1024 && !strings.Contains(q, "[TRUNCATED]") && strings.Contains(out, "[TRUNCATED]") {
			t.Fatalf("short query %q truncated: %q", q, out)
		}
		for _, item := range strings.FieldsFunc(out, func(r rune) bool { return r == '&' || r == ';' }) {
			k, v, ok := strings.Cut(item, "=")
			if ok && mustRedact(k) && v != errorsafe.Redacted {
				t.Fatalf("item %q kept in %q (from %q)", item, out, q)
			}
		}
		item := "password=" + url.QueryEscape(secret)
		out = m.RedactQuery(item + "&" + q)
		// An item longer than the 4096 bytes read is dropped whole.
		if !strings.HasPrefix(out, "password=[REDACTED]") && (len(item) < 4096 || out != "[TRUNCATED]") {
			t.Fatalf("password not redacted: %q", out)
		}
	})
}

// FuzzRedactURL checks that URL redaction never panics, is idempotent and
// never keeps userinfo or a fragment.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"https://app.example/cb?code=abc&x=1", "https://user:pw@app.example/", "https://a/#access_token=x",
		"user:pw@host/x", "", "?", "#", "://@", "https://[::1]:8443/p?token=x", "http://a@b@c/d?e#f",
	} {
		f.Add(s)
	}
	// The forms of TestRedactURLNeverLogsThePassword, which url.Parse
	// mostly refuses and the oracle below therefore does not check:
	// FuzzRedactURLPassword does.
	for _, form := range passwordForms {
		f.Add(strings.Replace(form, "%s", "hunter2", 1))
	}
	var m errorsafe.Middleware
	f.Fuzz(func(t *testing.T, u string) {
		out := m.RedactURL(u)
		if again := m.RedactURL(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", u, out, again)
		}
		if i := strings.IndexByte(out, '#'); i >= 0 && out[i:] != "#"+errorsafe.Redacted {
			t.Fatalf("fragment kept: %q -> %q", u, out)
		}
		if pu, err := url.Parse(u); err == nil && pu.User != nil && pu.User.String() != "" && len(pu.Scheme) > 0 {
			if userinfo, ok := userinfoOf(out); ok && userinfo != "" && userinfo != errorsafe.Redacted ||
				!ok && strings.Contains(out, pu.User.String()+"@") && pu.User.String() != errorsafe.Redacted {
				t.Fatalf("userinfo kept: %q -> %q", u, out)
			}
		}
	})
}

// userinfoOf returns the userinfo of the authority of s, read as url.Parse
// reads it (up to the last "@" before the path, query or fragment), and
// whether s has an authority; the userinfo is empty without an "@". It parses by hand because url.Parse refuses
// the brackets of "[REDACTED]". The "@" of a path is not userinfo: the
// output "A://[REDACTED]@/a@" of "A://a@/a@" keeps none (found by the
// fuzzer, whose first oracle looked for "a@" anywhere).
func userinfoOf(s string) (string, bool) {
	i := strings.Index(s, "://")
	if i <= 0 || strings.ContainsAny(s[:i], "/?#") {
		return "", false
	}
	authority := s[i+3:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return "", true
	}
	return authority[:at], true
}

// passwordForms are URLs whose %s is a password: with tabs a browser
// drops, backslashes, no slashes, no scheme, another scheme, and "://"
// later in the query.
var passwordForms = []string{
	"https://bob:%s@app.example/x",
	"https:\t//bob:%s@app.example/x",
	"ht\ttps://bob:%s@app.example/x",
	"https://bob:%s@app.example\t/x",
	" \x00https:\\\\bob:%s@app.example",
	"\t//bob:%s@app.example/",
	"HTTPS:bob:%s@app.example",
	"bob:%s@app.example/x",
	"postgres://admin:%s@db/x",
	"https://bob:%s@app.example/x?next=https://a",
	"s3://AKIA:%s@bucket/x",
}

// FuzzRedactURLPassword puts a fuzzed password in each of passwordForms,
// followed by a fuzzed tail, and checks that it never reaches the log.
// Passwords are kept to characters a URL carries in userinfo as they are,
// with a letter (a password of digits alone before a "?" reads as a port,
// as a browser reads it), and long enough not to occur elsewhere.
func FuzzRedactURLPassword(f *testing.F) {
	for i := range passwordForms {
		f.Add(uint8(i), "hunter2", "")
	}
	f.Add(uint8(3), "hun;ter2", "/y?z=1#f")
	f.Add(uint8(7), "Passw0rd!", "@evil/")
	var m errorsafe.Middleware
	f.Fuzz(func(t *testing.T, form uint8, secret, tail string) {
		if len(secret) < 6 || len(secret) > 64 || !strings.ContainsFunc(secret, isLetter) ||
			strings.ContainsFunc(secret, func(r rune) bool { return !isUserinfoChar(r) }) {
			return
		}
		tmpl := passwordForms[int(form)%len(passwordForms)]
		// The rest of the URL may spell the secret itself, once the tabs
		// and newlines that URL parsers drop are gone (found by the
		// fuzzer: a tail "0\n0000A" after "/x" logs "/x00000A").
		before, after, _ := strings.Cut(tmpl, "%s")
		if strings.Contains(dropTabsAndNewlines(before), secret) || strings.Contains(dropTabsAndNewlines(after+tail), secret) {
			return
		}
		u := strings.Replace(tmpl, "%s", secret, 1) + tail
		if out := m.RedactURL(u); strings.Contains(out, secret) {
			t.Fatalf("RedactURL(%q) = %q keeps the password", u, out)
		}
	})
}

// decodeEscapes decodes each valid percent escape of s, once, and keeps
// every other byte.
func decodeEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && !strings.ContainsAny(s[i+1:i+3], "+-") {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// sensitiveHeaderName is the documented list of Options.RedactHeaders,
// written apart from the implementation: the built-in names, and any
// name whose lower case holds one of the words.
func sensitiveHeaderName(canon string) bool {
	switch canon {
	case "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key":
		return true
	}
	lower := strings.ToLower(canon)
	for _, w := range []string{"auth", "token", "secret", "key", "passw", "session", "cookie", "credential", "signature", "jwt", "assertion", "dpop", "oidc", "otp", "mfa", "passcode"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func dropTabsAndNewlines(s string) string {
	return strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
}

func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// isUserinfoChar reports whether r stands as it is in a URL's userinfo
// (RFC 3986 unreserved and sub-delims, and "%").
func isUserinfoChar(r rune) bool {
	return isLetter(r) || '0' <= r && r <= '9' || strings.ContainsRune("-._~!$&'()*+,;=%", r)
}

// FuzzRedactHeader checks the documented promises of RedactHeader on any
// name and value: no bidirectional control is logged, a sensitive header
// (by name) is always [REDACTED], a URL header is logged as RedactURL
// writes it, a plain header's value is at most 256 bytes and never keeps
// a word starting with "eyJ" (a JWT), also once percent-decoded, is
// redacted only for one, and a value that is kept is the input's first
// 256 bytes.
func FuzzRedactHeader(f *testing.F) {
	for _, s := range []struct{ name, value string }{
		{"X-Upstream", "Bearer eyJhbGciOi.x.y"},
		{"X-Note", "a\u202eb"},
		{"Referer", "https://u:pw@h/\u2066?token=x#f"},
		{"Accept-Language", "en-GB, eyes"},
		{"X-Checksum", "AAAeyJ"},
		{"X-Upstream", "%65yJhbGciOi"},
		{"X-Long", strings.Repeat("\u202e", 100)},
		{"x-goog-iap-jwt-assertion", "abc"},
		{"X-Session", "plain"},
		{"X-Original-Uri", "/cb?state%3DeyJ1c2VyIjoiYWxpY2UifQ"},
		{"origin", "https://u:p@h\u202e/?token=x"},
	} {
		f.Add(s.name, s.value)
	}
	bidi := regexp.MustCompile("[\u202a-\u202e\u2066-\u2069]")
	jwtWord := regexp.MustCompile(`(^|[^A-Za-z0-9+/_-])eyJ`)
	var m errorsafe.Middleware
	f.Fuzz(func(t *testing.T, name, value string) {
		out := m.RedactHeader(name, value)
		if bidi.MatchString(out) {
			t.Fatalf("RedactHeader(%q, %q) = %q keeps a bidi control", name, value, out)
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if sensitiveHeaderName(canon) {
			if out != errorsafe.Redacted {
				t.Fatalf("RedactHeader(%q, %q) = %q: the header is sensitive", name, value, out)
			}
			return
		}
		switch canon {
		case "Referer", "Origin", "Location", "Content-Location",
			"X-Forwarded-Uri", "X-Original-Uri", "X-Original-Url", "X-Rewrite-Url", "X-Envoy-Original-Path":
			if want := bidi.ReplaceAllString(m.RedactURL(value), "\ufffd"); out != want {
				t.Fatalf("RedactHeader(%q, %q) = %q, RedactURL gives %q", name, value, out, want)
			}
			return
		}
		if out == errorsafe.Redacted {
			// Only for a JWT, perhaps percent-encoded, in the part kept.
			if head := value[:min(len(value), 256)]; !strings.Contains(head, "ey") && !strings.Contains(head, "%") && head != errorsafe.Redacted {
				t.Fatalf("RedactHeader(%q, %q) redacted a value without a JWT", name, value)
			}
			return
		}
		if len(out) > 256 || jwtWord.MatchString(out) || jwtWord.MatchString(decodeEscapes(out)) {
			t.Fatalf("RedactHeader(%q, %q) = %q", name, value, out)
		}
		if want := bidi.ReplaceAllString(value[:min(len(value), 256)], "\ufffd"); out != want {
			t.Fatalf("RedactHeader(%q, %q) = %q, want the value's first 256 bytes %q", name, value, out, want)
		}
	})
}
