package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/testenv"
)

func newTestHandler(t *testing.T) (http.Handler, *testenv.LogBuffer) {
	t.Helper()
	logs := new(testenv.LogBuffer)
	h, err := newHandler(slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

func postComment(h http.Handler, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/comment/", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func search(h http.Handler, query string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/search?"+query, nil))
	return w
}

type fieldError struct {
	Field, Rule, Message string
}

type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Errors []fieldError `json:"errors"`
}

// checkProblem asserts an RFC 9457 problem response with the status and
// the fields listed as field/rule pairs, and that none of the secrets
// (submitted values, unknown field names) is echoed.
func checkProblem(t *testing.T, w *httptest.ResponseRecorder, status int, fields []string, secrets ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %q", w.Code, status, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if n := w.Header().Get("X-Content-Type-Options"); n != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", n)
	}
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", w.Body.String(), err)
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Type != "about:blank" {
		t.Errorf("problem %+v, want status %d titled %q", p, status, http.StatusText(status))
	}
	var got []string
	for _, e := range p.Errors {
		if e.Message == "" {
			t.Errorf("field error %+v has no message", e)
		}
		got = append(got, e.Field+"/"+e.Rule)
	}
	if strings.Join(got, " ") != strings.Join(fields, " ") {
		t.Errorf("field errors %q, want %q", got, fields)
	}
	for _, s := range secrets {
		if strings.Contains(w.Body.String(), s) {
			t.Errorf("problem body %q echoes %q", w.Body.String(), s)
		}
	}
}

// The package comment's first command: the comment is accepted with 201,
// the author trimmed, and the markup that is not allowed removed. Each
// body below carries one way to run script; each comes back without it.
func TestCommentSanitized(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		name, author, body string
		wantAuthor         string
		wantBody           string // the sanitized body, exactly
		gone               []string
	}{
		{
			name: "documented", author: " Alice ", body: "<b>hi</b><script>alert(1)</script>",
			wantAuthor: "Alice", wantBody: "<b>hi</b>", gone: []string{"<script", "alert(1)"},
		},
		{
			name: "onerror attribute", author: "bob", body: `<p>look</p><img src="https://img.example/a.png" onerror="alert(1)">`,
			wantAuthor: "bob", gone: []string{"onerror", "alert(1)"},
		},
		{
			name: "javascript link", author: "carol", body: `<a href="javascript:alert(1)">click</a>`,
			wantAuthor: "carol", wantBody: "click", gone: []string{"javascript:", "href", "alert(1)"},
		},
		{
			name: "javascript link, mixed case and entity", author: "carol", body: `<a href="JaVaScRiPt&#58;alert(1)">click</a>`,
			wantAuthor: "carol", wantBody: "click", gone: []string{"avascript", "href", "alert(1)"},
		},
		{
			name: "markup in the author is text", author: `<img src=x onerror=alert(1)>dave<script>alert(2)</script>`, body: "ok",
			wantAuthor: "dave", wantBody: "ok", gone: []string{"<", "onerror", "alert("},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := json.Marshal(map[string]string{"author": tt.author, "body": tt.body})
			w := postComment(h, "application/json", string(in))
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d, want 201; body %q", w.Code, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var c Comment
			if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if c.Author != tt.wantAuthor {
				t.Errorf("author %q, want %q", c.Author, tt.wantAuthor)
			}
			if tt.wantBody != "" && c.Body != tt.wantBody {
				t.Errorf("body %q, want %q", c.Body, tt.wantBody)
			}
			for _, s := range tt.gone {
				if strings.Contains(strings.ToLower(c.Author+c.Body), strings.ToLower(s)) {
					t.Errorf("comment %+v still contains %q", c, s)
				}
			}
		})
	}

	// Allowed markup and safe links are kept, links marked nofollow.
	w := postComment(h, "application/json", `{"author":"erin","body":"<i>see</i> <a href=\"https://go.dev/\">go</a>"}`)
	var c Comment
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != http.StatusCreated {
		t.Fatalf("safe link: %d %q", w.Code, w.Body.String())
	}
	if !strings.Contains(c.Body, "<i>see</i>") || !strings.Contains(c.Body, `href="https://go.dev/"`) || !strings.Contains(c.Body, "nofollow") {
		t.Errorf("safe markup not kept as documented: %q", c.Body)
	}
}

// Every rejection the package comment lists, and the ones package
// sanitize documents for DecodeJSON, as problem responses that never echo
// the submitted value or an unknown field's name. None is stored.
func TestCommentRejected(t *testing.T) {
	h, logs := newTestHandler(t)
	const appJSON = "application/json"
	tests := []struct {
		name, contentType, body string
		status                  int
		fields                  []string
		secrets                 []string
	}{
		// 422: each failing field by name, the rule and a message.
		{"empty fields", appJSON, `{"author":"","body":""}`, 422, []string{"author/required", "body/required"}, nil},
		{"missing fields", appJSON, `{}`, 422, []string{"author/required", "body/required"}, nil},
		{"author too long", appJSON, `{"author":"` + strings.Repeat("S3CRET", 11) + `","body":"x"}`, 422, []string{"author/max"}, []string{"S3CRET"}},
		{"body too long", appJSON, `{"author":"a","body":"` + strings.Repeat("S3CRET", 700) + `"}`, 422, []string{"body/max"}, []string{"S3CRET"}},
		{"blank after trim", appJSON, `{"author":"   ","body":"<script>alert(1)</script>"}`, 422, []string{"author/required", "body/required"}, []string{"alert"}},
		{"null", appJSON, `null`, 422, []string{"author/required", "body/required"}, nil},
		{"wrong type", appJSON, `{"author":5,"body":"x"}`, 422, []string{"author/type"}, nil},
		// 400: unknown field, duplicate key, trailing data, malformed.
		{"unknown field", appJSON, `{"body":"x","admin":true}`, 400, nil, []string{"admin"}},
		{"a name in another letter case", appJSON, `{"Author":"a","body":"x"}`, 400, nil, nil},
		{"duplicate key", appJSON, `{"author":"a","body":"x","body":"<script>S3CRET</script>"}`, 400, nil, []string{"S3CRET"}},
		{"trailing data", appJSON, `{"author":"a","body":"x"} {"author":"b","body":"y"}`, 400, nil, nil},
		{"trailing garbage", appJSON, `{"author":"a","body":"x"}S3CRET`, 400, nil, []string{"S3CRET"}},
		{"malformed", appJSON, `{"author":"a",`, 400, nil, nil},
		{"empty body", appJSON, ``, 400, nil, nil},
		// 415: wrong type.
		{"text/plain", "text/plain", `{}`, 415, nil, nil},
		{"no Content-Type", "", `{"author":"a","body":"x"}`, 415, nil, nil},
		{"form", "application/x-www-form-urlencoded", `author=a&body=x`, 415, nil, nil},
		// 413: over 64 KiB, though valid JSON; just under is read and
		// then fails validation.
		{"over 64 KiB", appJSON, `{"author":"a","body":"` + strings.Repeat("x", 64<<10) + `"}`, 413, nil, nil},
		{"under 64 KiB", appJSON, `{"author":"a","body":"` + strings.Repeat("x", 60<<10) + `"}`, 422, []string{"body/max"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := postComment(h, tt.contentType, tt.body)
			checkProblem(t, w, tt.status, tt.fields, tt.secrets...)
			// The access record has the status and the reason, and
			// no submitted value.
			recs := logs.Records(t)
			if len(recs) == 0 {
				t.Fatal("no log record")
			}
			rec := recs[len(recs)-1]
			if reason, _ := rec["reason"].(string); rec["msg"] != "http request" || rec["status"] != float64(tt.status) || reason == "" {
				t.Errorf("last record %v, want an access record with status %d and a reason", rec, tt.status)
			}
			line, _ := json.Marshal(rec)
			for _, s := range tt.secrets {
				if strings.Contains(string(line), s) {
					t.Errorf("access record %s holds %q", line, s)
				}
			}
		})
	}
	if w := search(h, "q=go"); !strings.Contains(w.Body.String(), `"total":0`) {
		t.Errorf("rejected comments were stored: %q", w.Body.String())
	}
}

// GET /search decodes its query with the same rules: the documented
// command answers 200 with the decoded values and the number of stored
// comments; invalid values are 422, unknown and repeated parameters 400.
func TestSearch(t *testing.T) {
	h, _ := newTestHandler(t)
	if w := postComment(h, "application/json", `{"author":"a","body":"x"}`); w.Code != http.StatusCreated {
		t.Fatalf("post: %d %q", w.Code, w.Body.String())
	}
	ok := []struct {
		query, q string
		page     int
	}{
		{"q=go&page=2", "go", 2},
		{"q=%20go%20", "go", 0},
		{"q=go&page=0", "go", 0},
		{"q=go&page=1000", "go", 1000},
		{"q=" + strings.Repeat("g", 100), strings.Repeat("g", 100), 0},
	}
	for _, tt := range ok {
		t.Run(tt.query, func(t *testing.T) {
			w := search(h, tt.query)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
			}
			var got struct {
				Q     string `json:"q"`
				Page  int    `json:"page"`
				Total int    `json:"total"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Q != tt.q || got.Page != tt.page || got.Total != 1 {
				t.Errorf("got %+v, want q %q page %d total 1", got, tt.q, tt.page)
			}
		})
	}
	bad := []struct {
		query  string
		status int
		fields []string
	}{
		{"", 422, []string{"q/required"}},
		{"page=2", 422, []string{"q/required"}},
		{"q=&page=2", 422, []string{"q/required"}},
		{"q=%20%20", 422, []string{"q/required"}},
		{"q=" + strings.Repeat("g", 101), 422, []string{"q/max"}},
		{"q=go&page=ABC", 422, []string{"page/type"}},
		{"q=go&page=-1", 422, []string{"page/gte"}},
		{"q=go&page=1001", 422, []string{"page/lte"}},
		{"q=go&page=99999999999999999999", 422, []string{"page/type"}},
		{"q=go&admin=1", 400, nil},
		{"q=go&q=RUST", 400, nil},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.query, func(t *testing.T) {
			// Upper case: the random request ID in the body is lower
			// case, and once held "abc".
			checkProblem(t, search(h, tt.query), tt.status, tt.fields, "ABC", "admin", "RUST")
		})
	}
}

// The store keeps at most maxComments: posting more leaves the count the
// search route reports at the cap, not growing with each post.
func TestCommentStoreBounded(t *testing.T) {
	h, _ := newTestHandler(t)
	total := func() int {
		t.Helper()
		w := search(h, "q=x")
		var got struct{ Total int }
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
			t.Fatalf("search: %d %q", w.Code, w.Body.String())
		}
		return got.Total
	}
	for i := range maxComments + 25 {
		w := postComment(h, "application/json", fmt.Sprintf(`{"author":"a","body":"comment %d"}`, i))
		if w.Code != http.StatusCreated {
			t.Fatalf("post %d: %d %q", i, w.Code, w.Body.String())
		}
		if i == maxComments-2 {
			if n := total(); n != maxComments-1 {
				t.Fatalf("after %d posts the store holds %d", maxComments-1, n)
			}
		}
	}
	if n := total(); n != maxComments {
		t.Errorf("after %d posts the store holds %d, want the cap %d", maxComments+25, n, maxComments)
	}
}

// POST /comment/ is that one path, not every path below it.
func TestCommentIsOnePath(t *testing.T) {
	h, _ := newTestHandler(t)
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/comment/x", strings.NewReader(`{"body":"hi"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNotFound {
		t.Errorf("POST /comment/x: %d %s, want 404", w.Code, w.Body)
	}
}
