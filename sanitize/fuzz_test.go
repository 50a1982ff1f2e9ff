package sanitize_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"net/http/httptest"

	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/sanitize"
)

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		valid, `{"name":"Al","email":"a@example.com","email":"b"}`, `{"a":` + strings.Repeat("[", 40),
		`{"name":"Al"} x`, "{\"name\":\"\xff\"}", `{"age":300}`, `null`, `[]`, `"\u0000"`, `{"\u0065mail":1,"email":2}`,
		`{"NAME":"Al","email":"a@example.com"}`, `{"name":"Al","email":"a@example.com","address":{"City":"x"}}`,
		`{"name":"Al","\u0045mail":"a@example.com"}`, `{"name":"Al","email":"a@example.com","extra":{"Name":"x"}}`,
		"{\"name\":\"Al\",\"email\":\"a@example.com\",\"address\":{\"\u212aity\":1,\"ſity\":2}}",
		`{"sku":" AB-1234 ","qty":2,"start":1,"end":2}`, `{"sku":"<b>AB-1234</b>","qty":3,"start":2,"end":1}`,
		`{"sku":"AB-1234","qty":2,"start":2,"end":1}`,
		`{"n":"12","b":"true","s":"\"x\"","l":[{"x":"1"}]}`, `{"n":12}`, `{"l":[{"x":"1"},{"x":2}],"n":"x"}`,
		`{"m":{"k":{"x":"y"}}}`, `{"p":[],"n":"x"}`, `{"z":1,"b":"no"}`,
	} {
		f.Add(s)
	}
	// The application's rules change nothing for a target that does not
	// name them, and order names them: see checkOrder.
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 4096, Rules: rules})
	lenient := sanitize.MustNew(sanitize.Options{MaxBytes: 4096, AllowUnknownFields: true})
	f.Fuzz(func(t *testing.T, body string) {
		checkOrder(t, d, body)
		checkQuoted(t, body)
		// With unknown fields allowed, a member that matches a field
		// only in letter case is still refused.
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if _, err := sanitize.DecodeJSON[signup](lenient, w, r); err == nil {
			var doc any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("accepted a body encoding/json refuses: %v", err)
			}
			checkSignupNames(t, doc, true)
		}

		w = httptest.NewRecorder()
		r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		got, err := sanitize.DecodeJSON[signup](d, w, r)
		// Unmarshal applies the same checks to the same bytes: the same
		// value or the same error, data left as it was, and no error
		// naming it.
		data := []byte(body)
		u, uerr := sanitize.Unmarshal[signup](d, data)
		if !reflect.DeepEqual(u, got) || (uerr == nil) != (err == nil) || uerr != nil && uerr.Error() != err.Error() {
			t.Fatalf("Unmarshal = %+v, %v; DecodeJSON = %+v, %v", u, uerr, got, err)
		}
		if string(data) != body {
			t.Fatalf("Unmarshal modified its data: %q, was %q", data, body)
		}
		if uerr != nil && len(body) >= 8 && strings.Contains(uerr.Error(), body) {
			t.Fatalf("Unmarshal's error %q names the data", uerr)
		}
		if err == nil {
			if w.Body.Len() != 0 {
				t.Fatal("success wrote a body")
			}
			// Member names match exactly: an accepted body has no name
			// that is not a field's own.
			var doc any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("accepted a body encoding/json refuses: %v", err)
			}
			checkSignupNames(t, doc, false)
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

// quoted has fields with the ,string option, whose values of the wrong
// type encoding/json reports before Go 1.27 without naming the field.
type quoted struct {
	N int    `json:"n,string"`
	B bool   `json:"b,string"`
	S string `json:"s,string"`
	P int    `json:"p"`
	L []struct {
		X float64 `json:"x,string"`
	} `json:"l"`
	M map[string]struct {
		X uint `json:"x,string"`
	} `json:"m"`
}

// quotedPaths matches the paths of quoted's fields.
var quotedPaths = regexp.MustCompile(`^(\(root\)|[nbsp]|l(\[\d+\](\.x)?)?|m)$`)

// checkQuoted decodes body into a quoted: a body encoding/json reads as
// JSON is never refused as malformed, and a value of the wrong type is
// reported at one of quoted's paths.
func checkQuoted(t *testing.T, body string) {
	t.Helper()
	_, err := sanitize.Unmarshal[quoted](nil, []byte(body))
	var fe *sanitize.FieldErrors
	switch {
	case errors.Is(err, sanitize.ErrMalformed) && json.Valid([]byte(body)):
		t.Fatalf("quoted: valid JSON refused as malformed: %v", err)
	case errors.As(err, &fe):
		if len(fe.Fields) != 1 || fe.Fields[0].Rule != "type" || !quotedPaths.MatchString(fe.Fields[0].Field) {
			t.Fatalf("quoted: %v", err)
		}
	}
}

// checkOrder decodes body into an order, whose tags name the rules of
// Options.Rules and whose Validate checks across fields: a value is
// accepted only if every rule holds, and a refusal is a client error that
// does not reflect the body, never a programming error.
func checkOrder(t *testing.T, d *sanitize.Decoder, body string) {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	got, err := sanitize.DecodeJSON[order](d, w, r)
	if err == nil {
		if !skuPattern.MatchString(got.SKU) || got.Qty < 1 || got.Qty%2 != 0 || got.End <= got.Start {
			t.Fatalf("accepted an order that breaks its rules: %+v", got)
		}
		return
	}
	if errors.Is(err, sanitize.ErrTarget) || w.Code != 400 && w.Code != 413 && w.Code != 422 {
		t.Fatalf("order: status %d for %v", w.Code, err)
	}
	if len(body) >= 8 && strings.Contains(w.Body.String(), body) && !strings.Contains(problemVocabulary(w.Code), body) {
		t.Fatalf("order: response reflects the body")
	}
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{"q=go&page=2&tag=a", "q=%zz", "q=a&q=b", "page=1e5", "exact=maybe", ";", "&&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := sanitize.DecodeForm[search](nil, w, r)
		if err != nil && w.Code != 400 && w.Code != 413 && w.Code != 422 {
			t.Fatalf("status %d for %v", w.Code, err)
		}
		want, ok := decodeSearch(body)
		if (err == nil) != ok {
			t.Fatalf("DecodeForm(%q) error %v, but the form is valid: %v", body, err, ok)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeForm(%q) = %+v, want %+v", body, got, want)
		}
	})
}

// decodeSearch is what DecodeForm[search] makes of a form body, written
// from its documentation and the rules of search: net/url's parsing, each
// field once (but tag), values parsed by strconv, valid UTF-8 without NUL,
// sanitized and validated.
func decodeSearch(body string) (search, bool) {
	var s search
	vals, err := url.ParseQuery(body)
	if err != nil {
		return s, false
	}
	for k, vs := range vals {
		for _, v := range append([]string{k}, vs...) {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return s, false
			}
		}
		if k != "tag" && len(vs) != 1 {
			return s, false
		}
		switch k {
		case "q":
			s.Query = strings.TrimSpace(vs[0])
		case "page":
			n, err := strconv.ParseInt(vs[0], 10, strconv.IntSize)
			if err != nil || n < 0 || n > 1000 {
				return s, false
			}
			s.Page = int(n)
		case "tag":
			for _, v := range vs {
				s.Tags = append(s.Tags, strings.ToLower(strings.TrimSpace(v)))
			}
		case "exact":
			b, err := strconv.ParseBool(vs[0])
			if err != nil {
				return s, false
			}
			s.Exact = &b
		default:
			return s, false
		}
	}
	if s.Query == "" || utf8.RuneCountInString(s.Query) > 50 {
		return s, false
	}
	return s, true
}

// FuzzDecodeCollections decodes into a map of slices of structs: their
// items are sanitized and validated, and every reported path is made of
// the type's own names, indexes and "[*]" for a key, never of anything
// the request held (found in review: map keys were reported).
func FuzzDecodeCollections(f *testing.F) {
	for _, s := range []string{
		`{"a":[` + valid + `]}`, `{"k <b>":[{"name":"A"}]}`, `{"x].name[0":[{"tags":["<i>"]}]}`,
		`{"a":[{"address":{"city":1}}]}`, `{"a":null}`, `null`, `[]`, `{"a":[null]}`,
		`{"a":[{"name":"Al","email":"a@example.com"},{"Name":"Al","email":"a@example.com"}]}`,
		`{"A":[{"name":"Al","email":"a@example.com","address":{"CITY":"x"}}]}`,
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
			var doc map[string][]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("accepted a body encoding/json refuses: %v", err)
			}
			for _, items := range doc {
				for _, it := range items {
					checkSignupNames(t, it, false)
				}
			}
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

// signupNames are the JSON names of signup, and of its address.
var signupNames = map[string][]string{
	"": {"name", "email", "age", "bio", "tags", "address", "extra"}, "address": {"city"},
}

// checkSignupNames checks the member names of doc, a JSON value that
// DecodeJSON accepted into a signup, as encoding/json's generic decoding
// reads them: each is exactly a field's name, never one that matches a
// field's only in letter case, and, unless allowUnknown, never another.
func checkSignupNames(t *testing.T, doc any, allowUnknown bool) {
	t.Helper()
	check := func(obj any, names []string) {
		m, ok := obj.(map[string]any)
		if !ok {
			return // null, or a value DecodeJSON refuses the type of
		}
		for key := range m {
			if slices.Contains(names, key) {
				continue
			}
			if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, key) }) {
				t.Fatalf("accepted the member %q, which matches a field only in letter case", key)
			}
			if !allowUnknown {
				t.Fatalf("accepted the unknown member %q", key)
			}
		}
	}
	check(doc, signupNames[""])
	if m, ok := doc.(map[string]any); ok {
		check(m["address"], signupNames["address"])
	}
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
