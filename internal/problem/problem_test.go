package problem_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/internal/problem"
)

// validate checks body against RFC 9457 §3: a JSON object whose standard
// members, when present, have the right types; status equal to the HTTP
// status; type and instance URI references.
func validate(t *testing.T, body []byte, status int) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, body)
	}
	if dec.More() {
		t.Fatalf("trailing data after the object: %s", body)
	}
	for _, k := range []string{"type", "title", "detail", "instance"} {
		if v, ok := m[k]; ok {
			if _, isStr := v.(string); !isStr {
				t.Errorf("member %q is %T, want string", k, v)
			}
		}
	}
	n, ok := m["status"].(json.Number)
	if !ok {
		t.Fatalf("status is %T, want number", m["status"])
	}
	if got, err := strconv.Atoi(n.String()); err != nil || got != status {
		t.Errorf("status member = %v, HTTP status %d", n, status)
	}
	if m["type"] == "" || m["title"] == "" {
		t.Errorf("empty type or title: %s", body)
	}
	return m
}

func checkHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           "application/problem+json",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestWriteGeneric(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		wantStatus int
		wantTitle  string
	}{
		{"401 keeps its status text", 401, 401, "Unauthorized"},
		{"403", 403, 403, "Forbidden"},
		{"413", 413, 413, "Request Entity Too Large"},
		{"422", 422, 422, "Unprocessable Entity"},
		{"429", 429, 429, "Too Many Requests"},
		{"500", 500, 500, "Internal Server Error"},
		{"a 2xx status is written as 500", 200, 500, "Internal Server Error"},
		{"an unknown 4xx status is written as 500", 499, 500, "Internal Server Error"},
		{"a status beyond 599 is written as 500", 600, 500, "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.Header().Set("ETag", `"x"`)
			w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
			w.Header().Set("Content-Range", "bytes 0-1/2")
			problem.Write(w, tt.status)
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			checkHeaders(t, w.Header())
			m := validate(t, w.Body.Bytes(), tt.wantStatus)
			if m["title"] != tt.wantTitle || m["type"] != "about:blank" {
				t.Errorf("title/type = %v/%v", m["title"], m["type"])
			}
			if _, ok := m["detail"]; ok {
				t.Error("a generic problem has a detail")
			}
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Error("a header the caller set was dropped")
			}
			if w.Header().Get("ETag") != "" || w.Header().Get("Last-Modified") != "" || w.Header().Get("Content-Range") != "" {
				t.Error("representation headers of another body were kept")
			}
			if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
				t.Errorf("Content-Length %s, body %d bytes", cl, w.Body.Len())
			}
		})
	}
}

func TestWriteProblemWithExtensions(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	err := problem.WriteProblem(w, &problem.Problem{
		Status:   422,
		Detail:   "The request body failed validation.",
		Instance: "urn:request:abc",
		Extensions: []problem.Member{
			{Name: "errors", Value: []map[string]string{{"field": "email", "rule": "email"}}},
			{Name: "request_id", Value: "abc"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, w.Header())
	m := validate(t, w.Body.Bytes(), 422)
	if m["detail"] != "The request body failed validation." || m["instance"] != "urn:request:abc" || m["request_id"] != "abc" {
		t.Errorf("members: %v", m)
	}
	if errs, ok := m["errors"].([]any); !ok || len(errs) != 1 {
		t.Errorf("errors member: %v", m["errors"])
	}
	// Standard members come first, in RFC order.
	if !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":`)) {
		t.Errorf("member order: %s", w.Body.Bytes())
	}
}

func TestWriteProblemRejectsBadProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    problem.Problem
	}{
		{"a 2xx status", problem.Problem{Status: 200}},
		{"a status past 599", problem.Problem{Status: 600}},
		{"an extension redefining instance", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "instance", Value: "/x"}}}},
		{"an extension redefining status", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "status", Value: 200}}}},
		{"an extension name too short", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "id", Value: 1}}}},
		{"an extension name with a hyphen", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "request-id", Value: 1}}}},
		{"an extension name starting with a digit", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "1abc", Value: 1}}}},
		{"a repeated extension", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "abc", Value: 1}, {Name: "abc", Value: 2}}}},
		{"an unencodable value", problem.Problem{Status: 400, Extensions: []problem.Member{{Name: "abc", Value: make(chan int)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := problem.WriteProblem(w, &tt.p); err == nil {
				t.Fatal("no error")
			}
			if w.Code != 500 {
				t.Errorf("status %d, want the generic 500", w.Code)
			}
			validate(t, w.Body.Bytes(), 500)
		})
	}
}

func TestEncodeEscapes(t *testing.T) {
	t.Parallel()
	b, err := problem.Encode(&problem.Problem{Status: 400, Title: "a \"quoted\" <title>", Detail: "line\nbreak"})
	if err != nil {
		t.Fatal(err)
	}
	m := validate(t, b, 400)
	if m["title"] != "a \"quoted\" <title>" || m["detail"] != "line\nbreak" {
		t.Errorf("round trip: %v", m)
	}
	if bytes.Contains(b, []byte("<")) {
		t.Errorf("HTML-significant characters not escaped: %s", b)
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	errFirst := errors.New("first")
	r := httptest.NewRequest("GET", "/", nil)
	problem.SetReason(r, errFirst) // nobody listening: no effect, no panic
	ctx, rs := problem.WithReason(r.Context())
	r = r.WithContext(ctx)
	if rs.Err() != nil {
		t.Error("new Reason not empty")
	}
	problem.SetReason(r, nil)
	problem.Reject(httptest.NewRecorder(), r, 403, errFirst)
	problem.SetReason(r, errors.New("second"))
	if !errors.Is(rs.Err(), errFirst) {
		t.Errorf("reason = %v, want the first", rs.Err())
	}
	if problem.ReasonFrom(ctx) != rs {
		t.Error("ReasonFrom does not return the installed Reason")
	}
	var nilReason *problem.Reason
	if nilReason.Err() != nil {
		t.Error("nil Reason has an error")
	}
}

func TestWriteAllocations(t *testing.T) {
	w := httptest.NewRecorder()
	n := testing.AllocsPerRun(100, func() {
		w.Body.Reset()
		problem.Write(w, 505) // a long title: its Content-Length is over 99
	})
	if n > 1 {
		t.Errorf("Write allocates %v times, want at most 1", n)
	}
}

// TestWriteIntoIsWrite checks that WriteInto writes what Write writes,
// stored in the caller's slots, and skips only the removals it is told to.
func TestWriteIntoIsWrite(t *testing.T) {
	stale := [][2]string{{"Etag", `"v1"`}, {"Content-Encoding", "gzip"}, {"Content-Range", "bytes 0-1/2"}, {"Last-Modified", "x"}, {"Retry-After", "7"}}
	for _, status := range []int{403, 429, 505, 200, 399, 600} {
		for _, fresh := range []bool{false, true} {
			t.Run(strconv.Itoa(status)+"/fresh="+strconv.FormatBool(fresh), func(t *testing.T) {
				got, want := httptest.NewRecorder(), httptest.NewRecorder()
				if !fresh {
					for _, kv := range stale {
						got.Header().Set(kv[0], kv[1])
						want.Header().Set(kv[0], kv[1])
					}
				}
				vals := make([]string, problem.Slots+1)
				vals[problem.Slots] = "untouched"
				problem.WriteInto(got, status, vals[:problem.Slots], fresh)
				problem.Write(want, status)
				if got.Code != want.Code || got.Body.String() != want.Body.String() {
					t.Errorf("got %d %q, want %d %q", got.Code, got.Body, want.Code, want.Body)
				}
				if len(got.Header()) != len(want.Header()) {
					t.Errorf("headers %q, want %q", got.Header(), want.Header())
				}
				for k, v := range want.Header() {
					if g := got.Header()[k]; len(g) != len(v) || len(g) > 0 && g[0] != v[0] {
						t.Errorf("%s: %q, want %q", k, g, v)
					}
				}
				if got.Header()["Content-Type"][0] != vals[0] || cap(got.Header()["Content-Type"]) != 1 {
					t.Error("the values are not in the caller's capacity-limited slots")
				}
				if vals[problem.Slots] != "untouched" {
					t.Error("WriteInto wrote past its slots")
				}
			})
		}
	}
	// Fresh skips the removals: a stale ETag stays, which is why only a
	// caller that set every field itself may say so.
	w := httptest.NewRecorder()
	w.Header().Set("Etag", `"v1"`)
	problem.WriteInto(w, 429, make([]string, problem.Slots), true)
	if w.Header().Get("Etag") == "" {
		t.Error("fresh removed a field")
	}
}

func BenchmarkWrite(b *testing.B) {
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Body.Reset()
		problem.Write(w, 403)
	}
}

// TestEncodeTitleFallback: an empty title is the status text, or "Error"
// for a status without one; an empty type is about:blank.
func TestEncodeTitleFallback(t *testing.T) {
	for status, want := range map[int]string{404: "Not Found", 499: "Error", 599: "Error"} {
		b, err := problem.Encode(&problem.Problem{Status: status})
		if err != nil {
			t.Fatal(err)
		}
		m := validate(t, b, status)
		if m["title"] != want || m["type"] != "about:blank" {
			t.Errorf("Encode(%d): title %v, type %v; want %q, about:blank", status, m["title"], m["type"], want)
		}
	}
}

// TestMemberNameEveryByte: an extension member name is ALPHA *( ALPHA /
// DIGIT / "_" ), at least three characters, byte by byte.
func TestMemberNameEveryByte(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		alpha := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
		for _, tt := range []struct {
			name string
			ok   bool
		}{
			{"ab" + string([]byte{b}), alpha || '0' <= b && b <= '9' || b == '_'},
			{string([]byte{b}) + "ab", alpha},
			{"a" + string([]byte{b}), false},
		} {
			_, err := problem.Encode(&problem.Problem{Status: 400, Extensions: []problem.Member{{Name: tt.name, Value: 1}}})
			if (err == nil) != tt.ok {
				t.Errorf("member %q: error %v, want ok = %v", tt.name, err, tt.ok)
			}
		}
	}
}

// TestReasonZeroValueConcurrently: the zero Reason is ready to use, safe
// for concurrent use (run with -race), and keeps the first reason set.
func TestReasonZeroValueConcurrently(t *testing.T) {
	var rs problem.Reason
	first := errors.New("first")
	rs.Set(first)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				rs.Set(errors.New("later"))
				if rs.Err() != first {
					t.Error("a later reason replaced the first")
				}
			}
		})
	}
	wg.Wait()
}

// validUTF8 is s with each byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, as encoding/json writes it.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // an invalid byte ranges as utf8.RuneError, U+FFFD
	}
	return b.String()
}

// FuzzEncode checks that every string a problem carries, whatever its
// bytes, is escaped into a single valid JSON object that decodes back to
// the string (invalid UTF-8 as U+FFFD), with the members in the order of
// RFC 9457 and no byte a browser's HTML or script parser could take for
// markup ("<", ">", "&", U+2028, U+2029) left unescaped.
func FuzzEncode(f *testing.F) {
	f.Add("about:blank", "Bad", "a\"b\\c", "urn:x", "ext\u2028</script>", 400)
	f.Add("", "", "\xff\xfe\x00", "", "\x7f", 599)
	f.Fuzz(func(t *testing.T, typ, title, detail, instance, ext string, status int) {
		p := &problem.Problem{Type: typ, Title: title, Status: status, Detail: detail, Instance: instance,
			Extensions: []problem.Member{{Name: "ext", Value: ext}}}
		b, err := problem.Encode(p)
		if status < 400 || status > 599 {
			if err == nil {
				t.Fatalf("Encode accepted status %d", status)
			}
			return
		}
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if !json.Valid(b) || bytes.ContainsAny(b, "<>&\u2028\u2029") {
			t.Fatalf("Encode wrote %q", b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"type": typ, "title": title, "detail": detail, "instance": instance, "ext": ext}
		if typ == "" {
			want["type"] = "about:blank"
		}
		if title == "" {
			want["title"] = http.StatusText(status)
			if want["title"] == "" {
				want["title"] = "Error"
			}
		}
		for k, v := range want {
			got, ok := m[k]
			if v == "" && (k == "detail" || k == "instance") {
				if ok {
					t.Fatalf("empty %s written: %s", k, b)
				}
				continue
			}
			if got != validUTF8(v) {
				t.Fatalf("%s decodes to %q, want %q", k, got, v)
			}
		}
		if m["status"] != float64(status) {
			t.Fatalf("status decodes to %v", m["status"])
		}
		// The members in order: type, title, status, then the others.
		if !bytes.HasPrefix(b, []byte(`{"type":`)) || bytes.Index(b, []byte(`,"title":`)) > bytes.Index(b, []byte(`,"status":`)) {
			t.Fatalf("members out of order: %s", b)
		}
	})
}

// gzipWriter is a compression middleware's writer of the kind go.dev/issue/66343
// describes (gorilla/handlers' CompressHandler): the middleware sets
// Content-Encoding before it calls in, and everything written goes
// through gzip. With keepLength, it leaves a Content-Length set inside as
// it is, as some do.
type gzipWriter struct {
	http.ResponseWriter
	zw         *gzip.Writer
	keepLength bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.keepLength {
		g.Header().Del("Content-Length")
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) { return g.zw.Write(b) }

// TestWriteBehindCompression: a rejection written inside a middleware that
// compresses on the fly keeps the Content-Encoding that middleware set
// and leaves the length to it and net/http, as net/http.Error does, so
// the client reads the problem. (Found in review: Write removed the
// Content-Encoding, so the gzip bytes went out labelled as plain JSON, and
// set the uncompressed length, which a writer keeping it broke the
// response with.)
func TestWriteBehindCompression(t *testing.T) {
	for _, keepLength := range []bool{false, true} {
		for _, write := range []func(http.ResponseWriter){
			func(w http.ResponseWriter) { problem.Write(w, http.StatusForbidden) },
			func(w http.ResponseWriter) {
				problem.WriteInto(w, http.StatusForbidden, make([]string, problem.Slots), false)
			},
			func(w http.ResponseWriter) {
				_ = problem.WriteProblem(w, &problem.Problem{Status: http.StatusForbidden})
			},
		} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				defer zw.Close()
				write(&gzipWriter{ResponseWriter: w, zw: zw, keepLength: keepLength})
			}))
			res, err := srv.Client().Get(srv.URL) // asks for gzip and decodes it
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			srv.Close()
			if err != nil || res.StatusCode != http.StatusForbidden || !res.Uncompressed || !json.Valid(body) {
				t.Errorf("keepLength=%v: status %d, decompressed %v, body %q, %v", keepLength, res.StatusCode, res.Uncompressed, body, err)
			}
		}
	}
}
