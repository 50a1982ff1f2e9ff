package sanitize_test

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"net/http/httptest"

	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/sanitize"
)

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		valid, `{"name":"Al","email":"a@example.com","email":"b"}`, `{"a":` + strings.Repeat("[", 40),
		`{"name":"Al"} x`, "{\"name\":\"\xff\"}", `{"age":300}`, `null`, `[]`, `"\u0000"`, `{"\u0065mail":1,"email":2}`,
	} {
		f.Add(s)
	}
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 4096})
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		got, err := sanitize.DecodeJSON[signup](d, w, r)
		if err == nil {
			if w.Body.Len() != 0 {
				t.Fatal("success wrote a body")
			}
			// Accepted values are sanitized: no markup in text-only tags.
			for _, tag := range got.Tags {
				if strings.ContainsAny(tag, "<>") {
					t.Fatalf("tag %q not sanitized", tag)
				}
			}
			if got.Name != strings.TrimSpace(got.Name) {
				t.Fatalf("name %q not trimmed", got.Name)
			}
			return
		}
		switch w.Code {
		case 400, 413, 422:
		default:
			t.Fatalf("status %d for %v", w.Code, err)
		}
		if errors.Is(err, sanitize.ErrTarget) {
			t.Fatalf("programming error on input: %v", err)
		}
		if len(body) >= 8 && strings.Contains(w.Body.String(), body) && !strings.Contains(problemVocabulary(w.Code), body) {
			t.Fatalf("response reflects the body")
		}
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{"q=go&page=2&tag=a", "q=%zz", "q=a&q=b", "page=1e5", "exact=maybe", ";", "&&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := sanitize.DecodeForm[search](nil, w, r)
		if err != nil && w.Code != 400 && w.Code != 413 && w.Code != 422 {
			t.Fatalf("status %d for %v", w.Code, err)
		}
	})
}

// FuzzDecodeCollections decodes into a map of slices of structs: their
// items are sanitized and validated, and every reported path is made of
// the type's own names, indexes and "[*]" for a key, never of anything
// the request held (found in review: map keys were reported).
func FuzzDecodeCollections(f *testing.F) {
	for _, s := range []string{
		`{"a":[` + valid + `]}`, `{"k <b>":[{"name":"A"}]}`, `{"x].name[0":[{"tags":["<i>"]}]}`,
		`{"a":[{"address":{"city":1}}]}`, `{"a":null}`, `null`, `[]`, `{"a":[null]}`,
	} {
		f.Add(s)
	}
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 4096})
	names := map[string]bool{"name": true, "email": true, "age": true, "bio": true, "tags": true,
		"address": true, "extra": true, "city": true}
	index := regexp.MustCompile(`\[(\*|[0-9]+)\]`)
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		got, err := sanitize.DecodeJSON[map[string][]*signup](d, w, r)
		if err == nil {
			for _, items := range got {
				for _, it := range items {
					if it != nil && (strings.ContainsAny(strings.Join(it.Tags, ""), "<>") || it.Name != strings.TrimSpace(it.Name)) {
						t.Fatalf("item not sanitized: %+v", it)
					}
				}
			}
			return
		}
		if errors.Is(err, sanitize.ErrTarget) {
			t.Fatalf("programming error on input: %v", err)
		}
		var fe *sanitize.FieldErrors
		if !errors.As(err, &fe) {
			return
		}
		for _, e := range fe.Fields {
			if e.Field == "(root)" {
				continue
			}
			for part := range strings.SplitSeq(index.ReplaceAllString(e.Field, ""), ".") {
				if part != "" && !names[part] {
					t.Fatalf("path %q holds %q", e.Field, part)
				}
			}
		}
	})
}

// problemVocabulary is what every error response of status is made of
// whatever the request: its generic problem document and the members of a
// 422's field list. A body found in it is not reflected (a body of
// "status" is found in every response).
func problemVocabulary(status int) string {
	w := httptest.NewRecorder()
	problem.Write(w, status)
	return w.Body.String() + `"detail":"The request has invalid fields.","errors":[{"field":"","rule":"","message":""}]`
}
