package cors_test

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/cors"
)

var fuzzMiddleware = cors.MustNew(base)

// manyHeaders are more names than the middleware compares one by one,
// some the prefix of another.
var manyHeaders = []string{"a", "ab", "abc", "content-type", "x-a", "x-ab", "x-request-id", "x-b", "x-c", "x-d"}

var fuzzManyHeaders = cors.MustNew(with(func(o *cors.Options) { o.AllowedHeaders = manyHeaders }))

// fewPrefixes are few enough to be compared one by one, some the prefix
// of another.
var fewPrefixes = []string{"a", "ab", "x-a", "x-ab"}

var fuzzFewPrefixes = cors.MustNew(with(func(o *cors.Options) { o.AllowedHeaders = fewPrefixes }))

// FuzzOrigin checks that whatever the Origin value, the middleware never
// panics, Check and the handler agree, and an allowed value is exactly one
// of the configured origins or a canonical https origin whose host is a
// proper subdomain of example.com.
func FuzzOrigin(f *testing.F) {
	for _, tc := range specCases {
		for _, kv := range tc.headers {
			if kv[0] == "Origin" {
				f.Add(kv[1])
			}
		}
	}
	f.Add("https://a.example.com")
	f.Add("https://a.example.com:443")
	f.Add("https://[::1]")
	f.Fuzz(func(t *testing.T, origin string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Origin"] = []string{origin}
		err := fuzzMiddleware.Check(r)
		rec := httptest.NewRecorder()
		fuzzMiddleware.Handler(next).ServeHTTP(rec, r)
		acao := rec.Header()["Access-Control-Allow-Origin"]
		if (err == nil) != (len(acao) == 1) {
			t.Fatalf("Check = %v but Access-Control-Allow-Origin = %q", err, acao)
		}
		if !slices.Equal(rec.Header()["Vary"], []string{"Origin"}) {
			t.Fatalf("Vary = %q", rec.Header()["Vary"])
		}
		if err != nil {
			return
		}
		if acao[0] != origin {
			t.Fatalf("Access-Control-Allow-Origin = %q for %q", acao[0], origin)
		}
		if origin == "https://app.example.com" || origin == "http://localhost:3000" {
			return
		}
		u, perr := url.Parse(origin)
		if perr != nil || u.Scheme != "https" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
			u.Port() != "" || u.Host != strings.ToLower(u.Host) || "https://"+u.Host != origin {
			t.Fatalf("allowed %q, which is not a canonical https origin", origin)
		}
		host := u.Hostname()
		sub, ok := strings.CutSuffix(host, ".example.com")
		if !ok || sub == "" || strings.HasPrefix(sub, ".") || strings.HasSuffix(sub, ".") || strings.Contains(sub, "..") {
			t.Fatalf("allowed %q, whose host is not a proper subdomain of example.com", origin)
		}
	})
}

// FuzzRequestHeaders checks the bounded Access-Control-Request-Headers
// parser: a preflight is allowed only if every element is an allowed name
// (ignoring case and up to one space around it), and every list of allowed
// names, each at most once, is allowed.
func FuzzRequestHeaders(f *testing.F) {
	for _, tc := range specCases {
		for _, kv := range tc.headers {
			if kv[0] == "Access-Control-Request-Headers" && len(kv[1]) < 1000 {
				f.Add(kv[1])
			}
		}
	}
	f.Add("Content-Type, X-Request-Id")
	f.Add(",,,,,,,,,,,,,,,,,,,,content-type")
	f.Add("content-type,\tx-request-id")
	f.Add("X-A, x-ab ,abc")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("OPTIONS", "/", nil)
		r.Header["Origin"] = []string{"https://app.example.com"}
		r.Header["Access-Control-Request-Method"] = []string{"PUT"}
		r.Header["Access-Control-Request-Headers"] = []string{v}
		err := fuzzMiddleware.Check(r)

		// Safety: whatever the list, an allowed preflight names only
		// allowed headers.
		// Liveness: a list in the form the parser promises to read (at most
		// one space or tab around each element) is accepted.
		var names []string
		safe, strict := true, true
		empty := 0
		for e := range strings.SplitSeq(v, ",") {
			switch l := strings.ToLower(strings.Trim(e, " \t")); {
			case l == "":
			case l == "content-type" || l == "x-request-id":
			default:
				safe = false
			}
			if len(e) > 0 && (e[0] == ' ' || e[0] == '\t') {
				e = e[1:]
			}
			if len(e) > 0 && (e[len(e)-1] == ' ' || e[len(e)-1] == '\t') {
				e = e[:len(e)-1]
			}
			switch l := strings.ToLower(e); {
			case l == "":
				empty++
			case l == "content-type" || l == "x-request-id":
				names = append(names, l)
			default:
				strict = false
			}
		}
		if err == nil && !safe {
			t.Fatalf("allowed %q, which names a header that is not allowed", v)
		}
		wellFormed := strict && empty <= 16 && len(names) <= 2 && !(len(names) == 2 && names[0] == names[1])
		if wellFormed && err != nil {
			t.Fatalf("rejected %q: %v", v, err)
		}

		// Exactness: the one-pass parser decides as the windowed
		// reference does, for the value as one line and split into lines
		// at each newline.
		// Both the few names compared one by one and the many looked up in
		// a map.
		for _, mw := range []struct {
			m       *cors.Middleware
			allowed []string
		}{
			{fuzzMiddleware, []string{"content-type", "x-request-id"}},
			{fuzzFewPrefixes, fewPrefixes},
			{fuzzManyHeaders, manyHeaders},
		} {
			for _, lines := range [][]string{{v}, strings.Split(v, "\n")} {
				r.Header["Access-Control-Request-Headers"] = lines
				err := mw.m.Check(r)
				if want := referenceAcceptHeaders(mw.allowed, lines); (err == nil) != want {
					t.Fatalf("Check(%q) with %d allowed names = %v, but the reference parser says %v", lines, len(mw.allowed), err, want)
				}
			}
		}
	})
}

// referenceAcceptHeaders is the bounded header-list reader the middleware
// implemented first, written for clarity: each element is cut at the first
// comma within a window of the longest allowed name plus one space or tab
// on each side and the comma, trimmed of at most one space or tab on each
// side, and must then be empty (at most 16 times) or an allowed name (at
// most as many as there are allowed names). allowed is in lower case.
func referenceAcceptHeaders(allowed, lines []string) bool {
	longest := 0
	for _, a := range allowed {
		longest = max(longest, len(a))
	}
	window := 1 + longest + 1 + 1
	empty, names := 0, 0
	for _, s := range lines {
		for {
			end := min(len(s), window)
			elem, rest, more := s[:end], s[end:], false
			if i := strings.IndexByte(s[:end], ','); i >= 0 {
				elem, rest, more = s[:i], s[i+1:], true
			}
			if !more && rest != "" {
				return false
			}
			if len(elem) > 0 && (elem[0] == ' ' || elem[0] == '\t') {
				elem = elem[1:]
			}
			if len(elem) > 0 && (elem[len(elem)-1] == ' ' || elem[len(elem)-1] == '\t') {
				elem = elem[:len(elem)-1]
			}
			if len(elem) > 0 && (elem[0] == ' ' || elem[0] == '\t' || elem[len(elem)-1] == ' ' || elem[len(elem)-1] == '\t') {
				return false
			}
			if elem == "" {
				if empty++; empty > 16 {
					return false
				}
			} else {
				names++
				if names > len(allowed) || !slices.Contains(allowed, asciiLower(elem)) {
					return false
				}
			}
			if !more {
				break
			}
			s = rest
		}
	}
	return true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var fuzzAnyHeader = cors.MustNew(cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}})

// FuzzEchoRequestHeaders checks the reader of Access-Control-Request-Headers
// for AllowedHeaders "*", whose result goes back to the client in
// Access-Control-Allow-Headers: whatever the lines, an allowed preflight
// echoes only token bytes, commas and white space, at most 1 KiB, naming
// exactly the requested names in order; and every list of tokens within
// the documented bounds (1 KiB, 80 elements) is allowed.
func FuzzEchoRequestHeaders(f *testing.F) {
	for _, tc := range specCases {
		for _, kv := range tc.headers {
			if kv[0] == "Access-Control-Request-Headers" && len(kv[1]) < 1000 {
				f.Add(kv[1])
			}
		}
	}
	f.Add("authorization,x-anything")
	f.Add("x-a,x-b:evil")
	f.Add(" X-A ,\tx-b,, ")
	f.Add("x-a\nx-b, x-c")
	f.Add("x-a\r\nset-cookie: a=b")
	f.Fuzz(func(t *testing.T, v string) {
		for _, lines := range [][]string{{v}, strings.Split(v, "\n")} {
			r := httptest.NewRequest("OPTIONS", "/", nil)
			r.Header["Origin"] = []string{"https://anyone.test"}
			r.Header["Access-Control-Request-Method"] = []string{"GET"}
			r.Header["Access-Control-Request-Headers"] = lines
			err := fuzzAnyHeader.Check(r)
			rec := httptest.NewRecorder()
			fuzzAnyHeader.Handler(next).ServeHTTP(rec, r)
			if (err == nil) != (rec.Code == 204) {
				t.Fatalf("lines %q: Check = %v but status %d", lines, err, rec.Code)
			}

			var want []string
			total, elements, tokens := 0, 0, true
			for _, s := range lines {
				total += len(s)
				for e := range strings.SplitSeq(s, ",") {
					elements++
					e = strings.Trim(e, " \t")
					for i := 0; i < len(e); i++ {
						if !isTchar(e[i]) {
							tokens = false
						}
					}
					if e != "" {
						want = append(want, e)
					}
				}
			}
			if tokens && total <= 1024 && elements <= 80 && err != nil {
				t.Fatalf("rejected %q: %v", lines, err)
			}
			if err != nil {
				continue
			}
			got := rec.Header()["Access-Control-Allow-Headers"]
			if len(want) == 0 {
				if len(got) != 0 {
					t.Fatalf("lines %q with no name: Access-Control-Allow-Headers = %q", lines, got)
				}
				continue
			}
			if len(got) != 1 || len(got[0]) > 1024+2*len(lines) {
				t.Fatalf("lines %q: Access-Control-Allow-Headers = %q", lines, got)
			}
			var echoed []string
			for e := range strings.SplitSeq(got[0], ",") {
				e = strings.Trim(e, " \t")
				for i := 0; i < len(e); i++ {
					if !isTchar(e[i]) {
						t.Fatalf("lines %q: echoed %q, with a byte that is not a token's", lines, got[0])
					}
				}
				if e != "" {
					echoed = append(echoed, e)
				}
			}
			if !slices.Equal(echoed, want) {
				t.Fatalf("lines %q: echoed names %q, want %q", lines, echoed, want)
			}
		}
	})
}

// isTchar reports whether c may appear in an RFC 9110 token.
func isTchar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
