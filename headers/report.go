package headers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/problem"
)

// Limits of the report handler.
const (
	// DefaultReportMaxBytes is the default body limit of a report request.
	DefaultReportMaxBytes = 64 << 10
	// maxReportMaxBytes is the largest ReportOptions.MaxBytes accepted.
	maxReportMaxBytes = 1 << 20
	// maxReports bounds the reports of one application/reports+json body.
	maxReports = 100
	// maxReportField bounds each string field of a [Report].
	maxReportField = 1024
)

// Report is one CSP violation report, from either format browsers send.
// Every string is at most 1 KiB (longer values are cut at a UTF-8
// boundary), with invalid UTF-8 and Unicode bidirectional controls
// replaced by U+FFFD, and is data from the client: log it, never trust it.
type Report struct {
	// DocumentURL is the page whose policy was violated; Referrer is its
	// referrer.
	DocumentURL, Referrer string
	// BlockedURL is the resource that was blocked, or "inline" or "eval".
	BlockedURL string
	// EffectiveDirective is the directive that blocked it, such as
	// script-src-elem.
	EffectiveDirective string
	// OriginalPolicy is the policy as the browser received it.
	OriginalPolicy string
	// Disposition is "enforce" or "report" (a report-only policy).
	Disposition string
	// SourceFile, LineNumber and ColumnNumber locate the violation.
	SourceFile               string
	LineNumber, ColumnNumber int
	// Sample is the first characters of the blocked inline script or
	// style, when the policy has 'report-sample'.
	Sample string
	// StatusCode is the HTTP status of the page.
	StatusCode int
}

// ReportOptions configures a [ReportHandler]. The zero value is valid.
type ReportOptions struct {
	// MaxBytes limits the request body. Default [DefaultReportMaxBytes];
	// at most 1 MiB.
	MaxBytes int64
	// Logger receives one Warn record per report. Default: slog.Default()
	// as NewReportHandler reads it.
	// The URLs are logged without their query, written "?[REDACTED]", and
	// fragment: see [ReportHandler].
	Logger *slog.Logger
	// OnReport, when set, is called for each report instead of logging it.
	// The report is as parsed: its URLs keep their query, which may hold
	// secrets. It must be safe for concurrent use. Default: nil, each
	// report is logged to Logger.
	OnReport func(r *http.Request, rep Report)
	// OnReject writes the response for a request that is not a report;
	// err wraps [ErrReportMethod], [ErrReportMediaType],
	// [ErrReportTooLarge] or [ErrReportBody]. Default: a generic problem
	// response (405 with Allow: POST, 415, 413 or 400).
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// ReportHandler receives CSP violation reports: POST bodies of type
// application/csp-report (report-uri) or application/reports+json
// (report-to), answered with 204 No Content. Mount it at the path named by
// CSP.ReportURI or CSP.ReportTo, and put a rate limit in front of it: any
// client can post reports. It is safe for concurrent use. The zero
// ReportHandler, like a nil *ReportHandler, behaves as the result of
// NewReportHandler(ReportOptions{}), logging to [slog.Default].
//
// Serve it from the pages' own origin. Browsers upload report-to batches
// to another origin with CORS, and application/reports+json is not a
// CORS-safelisted type, so the upload starts with a preflight, which
// ReportHandler answers 405: on another origin, put the cors middleware
// in front of it, allowing the pages' origins, POST and Content-Type.
//
// Browsers strip only the fragment and credentials from the URLs of a
// report: the query of the page (a password-reset token, an OAuth code),
// of a same-origin blocked resource and of the script file is sent as it
// is. So the log record holds document_url, blocked_url and source_file
// without their query, written "?[REDACTED]", or fragment. (Found in
// review: they were logged whole.)
type ReportHandler struct {
	maxBytes int64
	logger   *slog.Logger
	onReport func(*http.Request, Report)
	onReject func(http.ResponseWriter, *http.Request, error)
}

// NewReportHandler validates o and returns a ReportHandler.
func NewReportHandler(o ReportOptions) (*ReportHandler, error) {
	h := &ReportHandler{maxBytes: o.MaxBytes, logger: o.Logger, onReport: o.OnReport, onReject: o.OnReject}
	switch {
	case o.MaxBytes < 0 || o.MaxBytes > maxReportMaxBytes:
		return nil, &OptionError{Field: "MaxBytes", Value: strconv.FormatInt(o.MaxBytes, 10), Err: because(ErrReportOptions, "must be between 0 and 1 MiB")}
	case o.MaxBytes == 0:
		h.maxBytes = DefaultReportMaxBytes
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	return h, nil
}

// ServeHTTP reads, parses and logs the reports in r.
func (h *ReportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h == nil || h.maxBytes == 0 {
		// The zero ReportHandler: NewReportHandler always sets maxBytes.
		// slog.Default is read now, as NewReportHandler would have read it.
		h = &ReportHandler{maxBytes: DefaultReportMaxBytes, logger: slog.Default()}
	}
	if r.Method != http.MethodPost {
		h.reject(w, r, ErrReportMethod)
		return
	}
	ct := r.Header.Get("Content-Type")
	if _, err := reportFormat(ct); err != nil {
		h.reject(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.reject(w, r, ErrReportTooLarge)
			return
		}
		h.reject(w, r, ErrReportBody)
		return
	}
	reports, err := ParseReports(ct, body)
	if err != nil {
		h.reject(w, r, err)
		return
	}
	for _, rep := range reports {
		if h.onReport != nil {
			h.onReport(r, rep)
			continue
		}
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "csp violation",
			slog.String("document_url", logURL(rep.DocumentURL)),
			slog.String("blocked_url", logURL(rep.BlockedURL)),
			slog.String("effective_directive", rep.EffectiveDirective),
			slog.String("disposition", rep.Disposition),
			slog.String("source_file", logURL(rep.SourceFile)),
			slog.Int("line", rep.LineNumber),
			slog.Int("column", rep.ColumnNumber),
			slog.String("sample", rep.Sample),
		)
	}
	w.Header()["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(http.StatusNoContent)
}

// logURL returns the URL u of a report as the log writes it: cut at its
// query, which is replaced by "?[REDACTED]", or at its fragment.
func logURL(u string) string {
	i := strings.IndexAny(u, "?#")
	switch {
	case i < 0:
		return u
	case u[i] == '?':
		return u[:i] + "?[REDACTED]"
	}
	return u[:i]
}

func (h *ReportHandler) reject(w http.ResponseWriter, r *http.Request, err error) {
	problem.SetReason(r, err)
	if h.onReject != nil {
		h.onReject(w, r, err)
		return
	}
	status := http.StatusBadRequest
	switch err {
	case ErrReportMethod:
		status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", http.MethodPost)
	case ErrReportMediaType:
		status = http.StatusUnsupportedMediaType
	case ErrReportTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	problem.Reject(w, r, status, err)
}

type format int

const (
	formatCSPReport format = iota + 1 // {"csp-report": {...}}
	formatReports                     // [{"type": "csp-violation", "body": {...}}, ...]
)

func reportFormat(contentType string) (format, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, ErrReportMediaType
	}
	switch mt {
	case "application/csp-report", "application/json":
		return formatCSPReport, nil
	case "application/reports+json":
		return formatReports, nil
	}
	return 0, ErrReportMediaType
}

// cspReport is the body of application/csp-report (CSP Level 2).
type cspReport struct {
	Report *struct {
		DocumentURI        string `json:"document-uri"`
		Referrer           string `json:"referrer"`
		BlockedURI         string `json:"blocked-uri"`
		ViolatedDirective  string `json:"violated-directive"`
		EffectiveDirective string `json:"effective-directive"`
		OriginalPolicy     string `json:"original-policy"`
		Disposition        string `json:"disposition"`
		SourceFile         string `json:"source-file"`
		ScriptSample       string `json:"script-sample"`
		StatusCode         int    `json:"status-code"`
		LineNumber         int    `json:"line-number"`
		ColumnNumber       int    `json:"column-number"`
	} `json:"csp-report"`
}

// reportEnvelope is one report of application/reports+json. Its body is
// kept raw, and decoded only for the CSP reports that are returned.
type reportEnvelope struct {
	Type string          `json:"type"`
	Body json.RawMessage `json:"body"`
}

// violationBody is the body of a csp-violation report.
type violationBody struct {
	DocumentURL        string `json:"documentURL"`
	Referrer           string `json:"referrer"`
	BlockedURL         string `json:"blockedURL"`
	EffectiveDirective string `json:"effectiveDirective"`
	OriginalPolicy     string `json:"originalPolicy"`
	Disposition        string `json:"disposition"`
	SourceFile         string `json:"sourceFile"`
	Sample             string `json:"sample"`
	StatusCode         int    `json:"statusCode"`
	LineNumber         int    `json:"lineNumber"`
	ColumnNumber       int    `json:"columnNumber"`
}

// ParseReports parses a CSP violation report body of the given
// Content-Type: application/csp-report (or application/json) holding one
// {"csp-report": …} object, or application/reports+json holding an array
// of report objects, of which only those of type csp-violation are
// returned (at most 100; the body of any other report is not decoded).
// Unknown members are ignored; strings are cut to 1 KiB. Memory use is
// bounded by a small multiple of len(body), however many reports it holds.
// It returns an error wrapping [ErrReportMediaType] or [ErrReportBody], never
// panics, and is safe for concurrent use.
func ParseReports(contentType string, body []byte) ([]Report, error) {
	f, err := reportFormat(contentType)
	if err != nil {
		return nil, err
	}
	if f == formatCSPReport {
		var doc cspReport
		if err := json.Unmarshal(body, &doc); err != nil || doc.Report == nil {
			return nil, ErrReportBody
		}
		c := doc.Report
		effective := c.EffectiveDirective
		if effective == "" {
			effective = c.ViolatedDirective
		}
		return []Report{clean(Report{
			DocumentURL: c.DocumentURI, Referrer: c.Referrer, BlockedURL: c.BlockedURI,
			EffectiveDirective: effective, OriginalPolicy: c.OriginalPolicy,
			Disposition: c.Disposition, SourceFile: c.SourceFile, Sample: c.ScriptSample,
			StatusCode: c.StatusCode, LineNumber: c.LineNumber, ColumnNumber: c.ColumnNumber,
		})}, nil
	}
	// The batch is read one report at a time into the same envelope, so
	// that its length costs no memory: decoded whole, an array of a third
	// of a million "{}" in a body of 1 MiB made as many envelopes, 45 MB,
	// before the first 100 CSP reports were kept. (Found in review.)
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, ErrReportBody
	}
	reports := []Report{}
	var e reportEnvelope
	var p *reportEnvelope // set to nil by a null
	for dec.More() {
		// A report is an object: a null, like a number, is refused at
		// once (each cost a syntax error that the decoder made and threw
		// away).
		e.Type, e.Body, p = "", e.Body[:0], &e
		if err := dec.Decode(&p); err != nil || p == nil {
			return nil, ErrReportBody
		}
		if e.Type != "csp-violation" || len(e.Body) == 0 || string(e.Body) == "null" || len(reports) == maxReports {
			continue
		}
		var b violationBody
		if err := json.Unmarshal(e.Body, &b); err != nil {
			return nil, ErrReportBody
		}
		reports = append(reports, clean(Report{
			DocumentURL: b.DocumentURL, Referrer: b.Referrer, BlockedURL: b.BlockedURL,
			EffectiveDirective: b.EffectiveDirective, OriginalPolicy: b.OriginalPolicy,
			Disposition: b.Disposition, SourceFile: b.SourceFile, Sample: b.Sample,
			StatusCode: b.StatusCode, LineNumber: b.LineNumber, ColumnNumber: b.ColumnNumber,
		}))
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') || !atEOF(dec) {
		return nil, ErrReportBody
	}
	return reports, nil
}

func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

func clean(r Report) Report {
	for _, p := range []*string{&r.DocumentURL, &r.Referrer, &r.BlockedURL, &r.EffectiveDirective,
		&r.OriginalPolicy, &r.Disposition, &r.SourceFile, &r.Sample} {
		*p = truncate(*p)
	}
	return r
}

// truncate cuts s to at most maxReportField bytes at a rune boundary and
// replaces invalid UTF-8 and the Unicode bidirectional controls (U+202A
// to U+202E, U+2066 to U+2069) with U+FFFD. Written raw, as the JSON
// handler of log/slog writes them, those make a log viewer show the rest
// of the record in another order than it was written. (Found in review:
// any client could post a report that reordered its record.)
func truncate(s string) string {
	if len(s) > maxReportField {
		i := maxReportField
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		// A copy: the cut string would keep the whole value alive for
		// as long as a caller keeps the report (found in review).
		s = strings.Clone(s[:i])
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, isBidiControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isBidiControl(r) {
				return '\uFFFD'
			}
			return r
		}, s)
	}
	return s
}

// isBidiControl reports whether r is a bidirectional embedding, override
// or isolate control.
func isBidiControl(r rune) bool {
	return '\u202A' <= r && r <= '\u202E' || '\u2066' <= r && r <= '\u2069'
}
