package headers_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/headers"
)

const cspReportBody = `{"csp-report":{"document-uri":"https://example.com/page","referrer":"","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'none'","disposition":"enforce","blocked-uri":"https://evil.example/x.js","status-code":200,"line-number":3,"column-number":7,"source-file":"https://example.com/page","script-sample":""}}`

const reportsBody = `[{"type":"csp-violation","age":10,"url":"https://example.com/","user_agent":"UA","body":{"documentURL":"https://example.com/","blockedURL":"inline","effectiveDirective":"script-src-elem","originalPolicy":"default-src 'none'","disposition":"report","sample":"alert(1)","statusCode":200,"lineNumber":1,"columnNumber":2}},{"type":"deprecation","body":{"id":"x"}}]`

func TestParseReports(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []headers.Report
		err         error
	}{
		{"a report-uri document", "application/csp-report", cspReportBody, []headers.Report{{
			DocumentURL: "https://example.com/page", BlockedURL: "https://evil.example/x.js",
			EffectiveDirective: "script-src-elem", OriginalPolicy: "default-src 'none'", Disposition: "enforce",
			SourceFile: "https://example.com/page", StatusCode: 200, LineNumber: 3, ColumnNumber: 7,
		}}, nil},
		{"a report-to batch keeps only CSP reports", "application/reports+json; charset=utf-8", reportsBody, []headers.Report{{
			DocumentURL: "https://example.com/", BlockedURL: "inline", EffectiveDirective: "script-src-elem",
			OriginalPolicy: "default-src 'none'", Disposition: "report", Sample: "alert(1)",
			StatusCode: 200, LineNumber: 1, ColumnNumber: 2,
		}}, nil},
		{"the violated directive stands in for a missing effective one", "application/json", `{"csp-report":{"violated-directive":"img-src"}}`,
			[]headers.Report{{EffectiveDirective: "img-src"}}, nil},
		{"an empty batch", "application/reports+json", `[]`, []headers.Report{}, nil},
		{"another media type", "text/plain", cspReportBody, nil, headers.ErrReportMediaType},
		{"a malformed media type", "application/csp-report; =", cspReportBody, nil, headers.ErrReportMediaType},
		{"a document without csp-report", "application/csp-report", `{"other":{}}`, nil, headers.ErrReportBody},
		{"trailing data", "application/csp-report", cspReportBody + `{}`, nil, headers.ErrReportBody},
		{"truncated JSON", "application/reports+json", reportsBody[:40], nil, headers.ErrReportBody},
		{"a wrong type", "application/reports+json", `{"type":"csp-violation"}`, nil, headers.ErrReportBody},
		{"null", "application/reports+json", `null`, nil, headers.ErrReportBody},
		{"a null report", "application/reports+json", `[null]`, nil, headers.ErrReportBody},
		{"a report that is not an object", "application/reports+json", `[{"type":"csp-violation","body":{}},0]`, nil, headers.ErrReportBody},
		{"a CSP report whose body is not an object", "application/reports+json", `[{"type":"csp-violation","body":"x"}]`, nil, headers.ErrReportBody},
		{"a CSP report with a malformed field", "application/reports+json", `[{"type":"csp-violation","body":{"lineNumber":"1"}}]`, nil, headers.ErrReportBody},
		{"a CSP report without a body is skipped", "application/reports+json", `[{"type":"csp-violation"},{"type":"csp-violation","body":null}]`, []headers.Report{}, nil},
		// The body of another type of report is not the CSP one: a batch
		// holding one with a lineNumber that is not a number was refused.
		{"the body of another type of report is not decoded", "application/reports+json",
			`[{"type":"deprecation","body":{"lineNumber":"x","sample":1}},{"type":"csp-violation","body":{"blockedURL":"eval"}}]`,
			[]headers.Report{{BlockedURL: "eval"}}, nil},
		{"an unterminated batch", "application/reports+json", `[{"type":"csp-violation","body":{}}`, nil, headers.ErrReportBody},
		{"a batch with trailing data", "application/reports+json", `[]]`, nil, headers.ErrReportBody},
		{"a batch missing a comma", "application/reports+json", `[{} {}]`, nil, headers.ErrReportBody},
		{"a batch with a trailing comma", "application/reports+json", `[{},]`, nil, headers.ErrReportBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := headers.ParseReports(tt.contentType, []byte(tt.body))
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d reports, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("report %d = %+v\n want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseReportsBoundsFields(t *testing.T) {
	long := strings.Repeat("é", 2000)
	got, err := headers.ParseReports("application/csp-report", []byte(`{"csp-report":{"blocked-uri":"`+long+`","script-sample":"\u0000\ud800x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].BlockedURL); n > 1024 || n < 1000 {
		t.Errorf("blocked URL of %d bytes, want cut to at most 1 KiB", n)
	}
	if !strings.HasSuffix(got[0].BlockedURL, "é") {
		t.Error("the cut split a rune")
	}
	var many strings.Builder
	many.WriteString("[")
	for i := range 500 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"type":"csp-violation","body":{}}`)
	}
	many.WriteString("]")
	got, err = headers.ParseReports("application/reports+json", []byte(many.String()))
	if err != nil || len(got) != 100 {
		t.Errorf("got %d reports, %v; want 100", len(got), err)
	}
}

// TestParseReportsMemoryIsBoundedByTheBody: a body of 1 MiB, the largest
// MaxBytes, costs at most a few times its size whatever its shape. A
// report-to batch was decoded whole before the first 100 CSP reports were
// kept: an array of a third of a million "{}" made as many envelopes
// (45 MB), and one of "0" as many type errors before the body was refused
// (110 MB).
func TestParseReportsMemoryIsBoundedByTheBody(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	for _, tt := range []struct {
		name, contentType, open, element, close string
	}{
		{"empty objects", "application/reports+json", "[", `{}`, "]"},
		{"numbers", "application/reports+json", "[", `0`, "]"},
		{"nulls", "application/reports+json", "[", `null`, "]"},
		{"reports of another type", "application/reports+json", "[", `{"type":"x","body":{}}`, "]"},
		{"empty CSP reports", "application/reports+json", "[", `{"type":"csp-violation","body":{}}`, "]"},
		{"an unknown member of a report", "application/reports+json", `[{"type":"csp-violation","body":{"x":[`, `0`, "]}}]"},
		{"a legacy report with an unknown member", "application/csp-report", `{"csp-report":{"x":[`, `{"a":1}`, "]}}"},
		{"a legacy report with a wrong type", "application/csp-report", `{"csp-report":{"line-number":[`, `0`, "]}}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := (1<<20 - len(tt.open) - len(tt.close)) / (len(tt.element) + 1)
			body := []byte(tt.open + strings.Repeat(tt.element+",", n) + tt.element + tt.close)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := headers.ParseReports(tt.contentType, body)
			runtime.ReadMemStats(&after)
			// The decoder's buffer grows to hold the largest report, whose
			// body is then copied once.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6*uint64(len(body)) {
				t.Errorf("a body of %d bytes (error %v) allocated %d bytes, %.1f times its size", len(body), err, alloc, float64(alloc)/float64(len(body)))
			}
		})
	}
}

func TestReportHandler(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	h, err := headers.NewReportHandler(headers.ReportOptions{Logger: logger, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
		allow       string
	}{
		{"a report-uri report is accepted", "POST", "application/csp-report", cspReportBody, 204, ""},
		{"a report-to batch is accepted", "POST", "application/reports+json", reportsBody, 204, ""},
		{"GET is not allowed", "GET", "", "", 405, "POST"},
		{"another media type is refused", "POST", "application/x-www-form-urlencoded", "a=b", 415, ""},
		{"a body over the limit is refused", "POST", "application/csp-report", `{"csp-report":{"blocked-uri":"` + strings.Repeat("a", 5000) + `"}}`, 413, ""},
		{"a malformed body is refused", "POST", "application/csp-report", "{", 400, ""},
		{"a media type in another case with parameters is accepted", "POST", "Application/CSP-Report; charset=UTF-8", cspReportBody, 204, ""},
		// Any page may post text/plain or a form to another origin
		// without a preflight; browsers send reports as neither.
		{"text/plain is refused", "POST", "text/plain", cspReportBody, 415, ""},
		{"a multipart form is refused", "POST", "multipart/form-data; boundary=x", "--x--", 415, ""},
		{"a missing media type is refused", "POST", "", cspReportBody, 415, ""},
		// A CORS preflight gets no CORS answer: the endpoint grants no
		// origin anything.
		{"an OPTIONS request is not allowed", "OPTIONS", "", "", 405, "POST"},
		{"an empty body is refused", "POST", "application/csp-report", "", 400, ""},
		{"deeply nested JSON is refused", "POST", "application/reports+json", strings.Repeat("[", 2000) + strings.Repeat("]", 2000), 400, ""},
		{"deeply nested unknown members are skipped", "POST", "application/csp-report", `{"csp-report":{"x":` + strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500) + "}}", 204, ""},
		{"a report of another type only is accepted and logs nothing", "POST", "application/reports+json", `[{"type":"deprecation","body":{"id":"evil.example"}}]`, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/csp", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			for k := range rec.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("CORS header %s: %q", k, rec.Header()[k])
				}
			}
			if strings.Contains(rec.Body.String(), "evil.example") {
				t.Error("the response reflects the report")
			}
		})
	}
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if strings.Count(logs, `"msg":"csp violation"`) != 4 || !strings.Contains(logs, `"blocked_url":"https://evil.example/x.js"`) {
		t.Errorf("logs do not hold the two reports:\n%s", logs)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestReportHandlerOnReport(t *testing.T) {
	var got []headers.Report
	h, err := headers.NewReportHandler(headers.ReportOptions{OnReport: func(r *http.Request, rep headers.Report) { got = append(got, rep) }})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/csp", strings.NewReader(reportsBody))
	r.Header.Set("Content-Type", "application/reports+json")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(got) != 1 || got[0].Sample != "alert(1)" {
		t.Errorf("OnReport got %+v", got)
	}
}

func TestNewReportHandlerRejectsBadLimits(t *testing.T) {
	for _, n := range []int64{-1, -1 << 40, 2 << 20} {
		_, err := headers.NewReportHandler(headers.ReportOptions{MaxBytes: n})
		if !errors.Is(err, headers.ErrReportOptions) {
			t.Errorf("MaxBytes %d: error %v", n, err)
		}
		// The message quotes the value given (found in review: a
		// negative one was quoted as "0", which is valid).
		var oe *headers.OptionError
		if !errors.As(err, &oe) || oe.Value != strconv.FormatInt(n, 10) {
			t.Errorf("MaxBytes %d: error %v, want it to quote %d", n, err, n)
		}
	}
}

// Browsers strip only the fragment and credentials from the URLs of a
// report (CSP3 "strip URL for use in reports"): the query of the page
// (a password-reset token, an OAuth code) and of a same-origin blocked
// resource or script file is sent as is, and was logged as is.
func TestReportHandlerLogsNoQuery(t *testing.T) {
	var buf bytes.Buffer
	h, err := headers.NewReportHandler(headers.ReportOptions{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"csp-report":{"document-uri":"https://app.example.com/reset?token=reset-secret-1","blocked-uri":"https://app.example.com/api?access_token=token-secret-2",` +
		`"source-file":"https://app.example.com/cb?code=code-secret-3","effective-directive":"connect-src","disposition":"enforce"}}`
	r := httptest.NewRequest("POST", "/csp", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/csp-report")
	h.ServeHTTP(httptest.NewRecorder(), r)
	logs := buf.String()
	for _, secret := range []string{"reset-secret-1", "token-secret-2", "code-secret-3"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	for _, kept := range []string{`"document_url":"https://app.example.com/reset?[REDACTED]"`, `"blocked_url":"https://app.example.com/api?[REDACTED]"`, `"source_file":"https://app.example.com/cb?[REDACTED]"`} {
		if !strings.Contains(logs, kept) {
			t.Errorf("the log misses %s:\n%s", kept, logs)
		}
	}
}

// A bidirectional override (U+202E) in a report, which anyone can post,
// made a log viewer show the rest of its record reversed, as errorsafe
// prevents for the access log.
func TestReportHandlerLogsNoBidiControls(t *testing.T) {
	var buf bytes.Buffer
	h, err := headers.NewReportHandler(headers.ReportOptions{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"csp-report":{"document-uri":"https://app.example.com/\u202egnp.exe","effective-directive":"script-src\u2066","disposition":"enforce\u202a",` +
		`"source-file":"x\u2069","script-sample":"\u202d\u202b\u202c\u2067\u2068alert(1)"}}`
	r := httptest.NewRequest("POST", "/csp", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/csp-report")
	h.ServeHTTP(httptest.NewRecorder(), r)
	logs := buf.String()
	if !strings.Contains(logs, "csp violation") {
		t.Fatalf("no record:\n%s", logs)
	}
	if i := strings.IndexFunc(logs, func(r rune) bool { return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 }); i >= 0 {
		t.Errorf("the log holds the bidirectional control %U:\n%q", []rune(logs[i:])[0], logs)
	}
	reps, err := headers.ParseReports("application/csp-report", []byte(body))
	if err != nil || reps[0].Sample != "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDalert(1)" {
		t.Errorf("ParseReports = %+v, %v; want each control replaced by U+FFFD", reps, err)
	}
}

func TestZeroAndNilReportHandlerAreTheDefault(t *testing.T) {
	for name, h := range map[string]*headers.ReportHandler{"zero": {}, "nil": nil} {
		for _, tt := range []struct {
			name   string
			body   string
			status int
		}{
			{"a report is accepted", cspReportBody, http.StatusNoContent},
			{"a body over DefaultReportMaxBytes is refused", `{"csp-report":{"blocked-uri":"` + strings.Repeat("a", headers.DefaultReportMaxBytes) + `"}}`, http.StatusRequestEntityTooLarge},
		} {
			t.Run(name+": "+tt.name, func(t *testing.T) {
				r := httptest.NewRequest("POST", "/csp", strings.NewReader(tt.body))
				r.Header.Set("Content-Type", "application/csp-report")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != tt.status {
					t.Errorf("status %d, want %d", rec.Code, tt.status)
				}
			})
		}
	}
}

// A Report handed to OnReport holds what its fields say, at most 1 KiB
// each, not the field the client sent: a field cut to 1 KiB was a view of
// the whole decoded string, so a handler that keeps reports (to batch or
// deduplicate them) kept each client's 60 KiB where it counted on 1 KiB.
func TestReportHandlerOnReportKeepsOnlyTheCutFields(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	for _, tt := range []struct{ name, contentType, format string }{
		{"report-uri", "application/csp-report", `{"csp-report":{"blocked-uri":"%s"}}`},
		{"report-to", "application/reports+json", `[{"type":"csp-violation","body":{"blockedURL":"%s"}}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var kept []headers.Report
			h, err := headers.NewReportHandler(headers.ReportOptions{OnReport: func(r *http.Request, rep headers.Report) { kept = append(kept, rep) }})
			if err != nil {
				t.Fatal(err)
			}
			body := strings.Replace(tt.format, "%s", "https://evil.example/"+strings.Repeat("a", 60<<10), 1)
			const reports = 100
			kept = make([]headers.Report, 0, reports)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range reports {
				r := httptest.NewRequest("POST", "/csp", strings.NewReader(body))
				r.Header.Set("Content-Type", tt.contentType)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					t.Fatalf("status %d", w.Code)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if len(kept) != reports || len(kept[0].BlockedURL) != 1024 {
				t.Fatalf("%d reports kept, the first's blocked URL %d bytes", len(kept), len(kept[0].BlockedURL))
			}
			// 100 fields of 1 KiB; the clients' 60 KiB each would be 6 MB.
			if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
				t.Errorf("%d reports kept with a 1 KiB field each: the heap grew by %d bytes", reports, grown)
			}
			runtime.KeepAlive(kept)
		})
	}
}
