package headers_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/httpguard/httpguard/headers"
	"github.com/httpguard/httpguard/internal/problem"
)

var sourceSeeds = []string{
	"'self'", "'SELF'", "self", "'none'", "none", "'unsafe-inline'", "'strict-dynamic'",
	"'nonce-abc'", "nonce-abc", "'sha256-" + strings.Repeat("A", 43) + "='", "'sha384-x'",
	"https:", "data:", "blob:", "*", "*.example.com", "https://*.example.com:*/path/",
	"example.com:443", "HTTPS://CDN.Example.com/a%20b", "https://a.example; script-src *",
	"https://a.example,x", "a b", "'", "''", "https://", "https://[::1]", "ws://x:99999",
	"x:1/a%zz", "-a.example", "a..b", "mailto:x", "\x00",
}

// FuzzParseSource checks that ParseSource never panics, that what it
// accepts can never end a directive or a header, and that its canonical
// form parses to itself.
func FuzzParseSource(f *testing.F) {
	for _, s := range sourceSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := headers.ParseSource(s)
		if err != nil {
			if src != (headers.Source{}) {
				t.Fatalf("error %v with a non-zero source %+v", err, src)
			}
			return
		}
		if src.Value == "" || strings.ContainsAny(src.Value, ";, \t\r\n\x00") {
			t.Fatalf("accepted %q as %q, which can break out of its directive", s, src.Value)
		}
		for i := 0; i < len(src.Value); i++ {
			if c := src.Value[i]; c < 0x21 || c > 0x7e {
				t.Fatalf("accepted %q with byte %#x", s, c)
			}
		}
		again, err := headers.ParseSource(src.Value)
		if err != nil || again != src {
			t.Fatalf("canonical %q reparses as %+v, %v", src.Value, again, err)
		}
		if !strings.EqualFold(src.Value, s) {
			t.Fatalf("canonical form %q differs from %q by more than case", src.Value, s)
		}
	})
}

// FuzzAllowedHosts checks the Host check against a reference: never a
// panic, Check and Handler agree, an allowed Host is one of the listed
// names once lower-cased and stripped of port and trailing dot, and the
// response never reflects the Host.
func FuzzAllowedHosts(f *testing.F) {
	m, err := headers.New(headers.Options{AllowedHosts: []string{"example.com", "*.example.org", "localhost:8080", "[::1]", "127.0.0.1",
		"plain.example:80", "secure.example:443"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range []string{"example.com", "EXAMPLE.COM.", "example.com:443", "a.example.org", "example.org",
		"localhost:8080", "localhost", "[::1]:1", "[::1", "127.0.0.1:80", "example.com\r\nx", "", "ex%61mple.com",
		"example.com.evil", "evil.com#example.com", "xn--bcher-kva.example", "bücher.example",
		"plain.example", "plain.example:80", "secure.example", "SECURE.example.:443", "secure.example:", "plain.example:080"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, host string) {
		// Each Host is sent over plain HTTP and over HTTPS, where a
		// Host without a port is on 80 and 443.
		for _, overTLS := range []bool{false, true} {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = host
			if overTLS {
				r.TLS = &tls.ConnectionState{}
			}
			checkErr := m.Check(r)
			if checkErr != nil && !errors.Is(checkErr, headers.ErrHostNotAllowed) {
				t.Fatalf("Check error %v", checkErr)
			}
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
			if (checkErr == nil) != (rec.Code == http.StatusOK) {
				t.Fatalf("Check %v but status %d", checkErr, rec.Code)
			}
			name := strings.ToLower(host)
			port, hasPort := "", false
			if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.HasSuffix(name, "]") {
				name, port, hasPort = name[:i], name[i+1:], true
			}
			name = strings.TrimSuffix(name, ".")
			// A pattern with the port of a scheme allows that host on
			// the port, and without one over that scheme only.
			wantPlain := name == "plain.example" && (port == "80" || !hasPort && !overTLS)
			wantSecure := name == "secure.example" && (port == "443" || !hasPort && overTLS)
			if (name == "plain.example" || name == "secure.example") && (!hasPort || wellFormedPort(port)) &&
				(checkErr == nil) != (wantPlain || wantSecure) {
				t.Fatalf("Host %q over TLS %v: Check %v, want allowed %v", host, overTLS, checkErr, wantPlain || wantSecure)
			}
			if checkErr != nil {
				// The body is the generic problem of its status, whatever
				// the host: nothing of it is reflected. (Looking for the
				// host in the body found ":400" in "status":400.)
				want := httptest.NewRecorder()
				problem.Write(want, rec.Code)
				if got := rec.Body.String(); got != want.Body.String() {
					t.Fatalf("rejection of host %q has the body %q, want the generic problem %q", host, got, want.Body.String())
				}
				continue
			}
			if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
				// Any spelling of the allowed IPv6 address is that address.
				if a, err := netip.ParseAddr(name[1 : len(name)-1]); err == nil && a == netip.IPv6Loopback() {
					name = "[::1]"
				}
			}
			switch {
			case name == "example.com", name == "[::1]", name == "127.0.0.1":
			case strings.HasSuffix(name, ".example.org") && len(name) > len(".example.org"):
			case name == "localhost" && port == "8080":
			case wantPlain, wantSecure:
			default:
				t.Fatalf("allowed %q over TLS %v (name %q, port %q)", host, overTLS, name, port)
			}
			if strings.ContainsAny(name, "/@?#%\\ \r\n") {
				t.Fatalf("allowed %q with a URL delimiter", host)
			}
		}
	})
}

// wellFormedPort reports whether p is a port as a URL writes one: 1 to
// 65535 without a leading zero.
func wellFormedPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && p == strconv.Itoa(n)
}

// FuzzParseReports checks that any body parses without panic, within the
// documented bounds: at most 100 reports, each string at most 1 KiB of
// valid UTF-8 without a bidirectional control; and that what it returns
// is what it reads back from each report written in either format.
func FuzzParseReports(f *testing.F) {
	f.Add("application/csp-report", cspReportBody)
	f.Add("application/reports+json", reportsBody)
	f.Add("application/json", `{"csp-report":{}}`)
	f.Add("application/reports+json", `[{"type":"csp-violation","body":null}]`)
	f.Add("application/reports+json", `[{"type":"csp-violation","body":{"sample":"\u202e\ud800`+strings.Repeat("é", 600)+`"}},null]`)
	f.Add("application/reports+json", `[{"type":"deprecation","body":{"lineNumber":"x"}},{"type":"csp-violation","body":{"blockedURL":"eval"}}]`)
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		reps, err := headers.ParseReports(contentType, []byte(body))
		if err != nil {
			if reps != nil {
				t.Fatal("reports returned with an error")
			}
			if !errors.Is(err, headers.ErrReportBody) && !errors.Is(err, headers.ErrReportMediaType) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(reps) > 100 {
			t.Fatalf("%d reports", len(reps))
		}
		for _, r := range reps {
			for _, s := range []string{r.DocumentURL, r.Referrer, r.BlockedURL, r.EffectiveDirective, r.OriginalPolicy, r.Disposition, r.SourceFile, r.Sample} {
				if len(s) > 1024 || !utf8.ValidString(s) {
					t.Fatalf("field of %d bytes: %q", len(s), s)
				}
				if i := strings.IndexFunc(s, func(c rune) bool { return 0x202a <= c && c <= 0x202e || 0x2066 <= c && c <= 0x2069 }); i >= 0 {
					t.Fatalf("field %q holds a bidirectional control", s)
				}
			}
			legacy, batch := encodeReport(t, r)
			for _, again := range [][]headers.Report{
				parseOne(t, "application/csp-report", legacy),
				parseOne(t, "application/reports+json", batch),
			} {
				if len(again) != 1 || again[0] != r {
					t.Fatalf("report %+v reads back as %+v", r, again)
				}
			}
		}
	})
}

// encodeReport writes r as browsers do: a report-uri document and a
// report-to batch of one report.
func encodeReport(t *testing.T, r headers.Report) (legacy, batch []byte) {
	t.Helper()
	legacy, err := json.Marshal(map[string]any{"csp-report": map[string]any{
		"document-uri": r.DocumentURL, "referrer": r.Referrer, "blocked-uri": r.BlockedURL,
		"effective-directive": r.EffectiveDirective, "original-policy": r.OriginalPolicy,
		"disposition": r.Disposition, "source-file": r.SourceFile, "script-sample": r.Sample,
		"status-code": r.StatusCode, "line-number": r.LineNumber, "column-number": r.ColumnNumber,
	}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err = json.Marshal([]any{map[string]any{"type": "csp-violation", "body": map[string]any{
		"documentURL": r.DocumentURL, "referrer": r.Referrer, "blockedURL": r.BlockedURL,
		"effectiveDirective": r.EffectiveDirective, "originalPolicy": r.OriginalPolicy,
		"disposition": r.Disposition, "sourceFile": r.SourceFile, "sample": r.Sample,
		"statusCode": r.StatusCode, "lineNumber": r.LineNumber, "columnNumber": r.ColumnNumber,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return legacy, batch
}

func parseOne(t *testing.T, contentType string, body []byte) []headers.Report {
	t.Helper()
	reps, err := headers.ParseReports(contentType, body)
	if err != nil {
		t.Fatalf("%s %s: %v", contentType, body, err)
	}
	return reps
}

// FuzzCSP builds policies from arbitrary sources: New never panics, and a
// policy it accepts is a single header line whose directives are the ones
// configured, with one nonce in each list that takes it: script-src and
// style-src, and script-src-elem and style-src-elem when they are set.
func FuzzCSP(f *testing.F) {
	for i, s := range sourceSeeds {
		elem := ""
		if i%2 == 1 {
			elem = sourceSeeds[(i+2)%len(sourceSeeds)]
		}
		f.Add(s, sourceSeeds[(i+1)%len(sourceSeeds)], elem, i%2 == 0, i%3 == 0, i%5 == 0, i%7 == 0)
	}
	// script-src-elem and style-src-elem with nonces (and 'strict-dynamic').
	f.Add("'self'", "'self'", "https://cdn.example", true, false, false, false)
	f.Add("'self'", "'self'", "https://cdn.example", true, true, true, false)
	f.Add("'self'", "https://a.example", "'self'", true, true, false, true)
	f.Add("'self'", "https://a.example", "'none'", false, true, false, false)
	f.Fuzz(func(t *testing.T, a, b, elem string, nonce, styleNonce, strict, reportOnly bool) {
		c := &headers.CSP{
			DefaultSrc:    []string{a},
			ScriptSrc:     []string{b},
			ImgSrc:        []string{a, b},
			ScriptNonce:   nonce,
			StyleNonce:    styleNonce,
			StrictDynamic: strict,
		}
		if elem != "" {
			c.ScriptSrcElem = []string{elem}
			if styleNonce {
				c.StyleSrcElem = []string{elem}
			}
		}
		o := headers.Options{CSP: c}
		if reportOnly {
			o.CSPReportOnly = &headers.CSP{DefaultSrc: []string{b}, ScriptSrc: []string{a}, ScriptNonce: strict}
		}
		m, err := headers.New(o)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		csp := rec.Header().Values("Content-Security-Policy")
		if len(csp) != 1 || strings.ContainsAny(csp[0], "\r\n,") {
			t.Fatalf("policy %q", csp)
		}
		var names []string
		lists := map[string][]string{}
		for d := range strings.SplitSeq(csp[0], "; ") {
			fields := strings.Fields(d)
			names = append(names, fields[0])
			lists[fields[0]] = fields[1:]
		}
		// base-uri is added exactly when scripts rely on a nonce or a
		// hash, which does not fall back to default-src.
		want := "default-src script-src"
		if elem != "" {
			want += " script-src-elem"
		}
		if styleNonce {
			want += " style-src"
			if elem != "" {
				want += " style-src-elem"
			}
		}
		want += " img-src"
		if strings.Contains(csp[0], "'nonce-") || strings.Contains(csp[0], "'sha") {
			want += " base-uri"
		}
		if got := strings.Join(names, " "); got != want {
			t.Fatalf("directives %q from %q, want %q", got, csp[0], want)
		}
		if strings.Contains(csp[0], "'unsafe-eval'") || strings.Contains(csp[0], "'nonce-") != (nonce || styleNonce) {
			t.Fatalf("policy %q", csp[0])
		}
		// Each list that takes the nonce has it exactly once, every nonce
		// is the same, and no other list has one.
		takes := map[string]bool{
			"script-src": nonce, "script-src-elem": nonce && elem != "",
			"style-src": styleNonce, "style-src-elem": styleNonce && elem != "",
		}
		var value string
		for name, l := range lists {
			n := 0
			for _, v := range l {
				if !strings.HasPrefix(v, "'nonce-") {
					continue
				}
				n++
				if value == "" {
					value = v
				} else if v != value {
					t.Fatalf("nonces %s and %s in %q", value, v, csp[0])
				}
			}
			if want := map[bool]int{true: 1}[takes[name]]; n != want {
				t.Fatalf("%d nonces in %s, want %d: %q", n, name, want, csp[0])
			}
		}
		// 'strict-dynamic' goes where the nonce goes for scripts.
		for _, name := range []string{"script-src", "script-src-elem"} {
			if _, ok := lists[name]; ok && strict && !slices.Contains(lists[name], "'strict-dynamic'") {
				t.Fatalf("no 'strict-dynamic' in %s: %q", name, csp[0])
			}
		}
	})
}
