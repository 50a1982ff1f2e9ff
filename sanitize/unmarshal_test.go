package sanitize_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/sanitize"
)

// Unmarshal refuses what DecodeJSON refuses, with the same error, for
// the same bytes: each case is also sent to DecodeJSON as a body.
func TestUnmarshal(t *testing.T) {
	t.Parallel()
	small := sanitize.MustNew(sanitize.Options{MaxBytes: 64, MaxDepth: 3})
	lenient := sanitize.MustNew(sanitize.Options{AllowUnknownFields: true})
	for _, tt := range []struct {
		name   string
		d      *sanitize.Decoder
		data   string
		want   error // nil: accepted
		status int
	}{
		{"a valid document, sanitized and validated", nil, valid, nil, 200},
		{"a valid document with a Decoder of options", lenient, valid, nil, 200},
		{"an unknown member ignored with AllowUnknownFields", lenient, `{"name":"Al","email":"a@b.example","admin":true}`, nil, 200},
		{"data longer than MaxBytes", small, `{"name":"Alice","email":"alice@example.com","bio":"` + strings.Repeat("x", 20) + `"}`, sanitize.ErrTooLarge, 413},
		{"no data", nil, ``, sanitize.ErrEmptyBody, 400},
		{"white space alone", nil, " \n\t ", sanitize.ErrEmptyBody, 400},
		{"invalid UTF-8", nil, "{\"name\":\"A\xffl\",\"email\":\"a@b.example\"}", sanitize.ErrInvalidUTF8, 400},
		{"a NUL character", nil, `{"name":"Al\u0000","email":"a@b.example"}`, sanitize.ErrInvalidUTF8, 400},
		{"nesting over MaxDepth", small, `{"address":{"city":[[1]]}}`, sanitize.ErrTooDeep, 400},
		{"a member given twice", nil, `{"name":"Al","email":"a@b.example","name":"Bo"}`, sanitize.ErrDuplicateKey, 400},
		{"a member given twice in another letter case", nil, `{"name":"Al","email":"a@b.example","Name":"Bo"}`, sanitize.ErrDuplicateKey, 400},
		{"a member in another letter case", nil, `{"Name":"Al","email":"a@b.example"}`, sanitize.ErrUnknownField, 400},
		{"a member in another letter case with AllowUnknownFields", lenient, `{"NAME":"Al","email":"a@b.example"}`, sanitize.ErrUnknownField, 400},
		{"an unknown member", nil, `{"name":"Al","email":"a@b.example","admin":true}`, sanitize.ErrUnknownField, 400},
		{"a second value after the first", nil, `{"name":"Al","email":"a@b.example"} {}`, sanitize.ErrTrailingData, 400},
		{"text that is not JSON", nil, `{"name":"Al",}`, sanitize.ErrMalformed, 400},
		{"a document cut short", nil, `{"name":"Al"`, sanitize.ErrMalformed, 400},
		{"a value of the wrong type", nil, `{"name":"Al","email":"a@b.example","age":"x"}`, sanitize.ErrInvalidFields, 422},
		{"a number out of its field's range", nil, `{"name":"Al","email":"a@b.example","age":300}`, sanitize.ErrInvalidFields, 422},
		{"a value failing validation after sanitizing", nil, `{"name":"  A  ","email":"a@b.example"}`, sanitize.ErrInvalidFields, 422},
		{"a required field missing", nil, `{"name":"Al"}`, sanitize.ErrInvalidFields, 422},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sanitize.Unmarshal[signup](tt.d, []byte(tt.data))
			w := httptest.NewRecorder()
			_, httpErr := sanitize.DecodeJSON[signup](tt.d, w, post(tt.data, "application/json"))
			if tt.want == nil {
				if err != nil || httpErr != nil {
					t.Fatalf("Unmarshal: %v, DecodeJSON: %v; want both accepted", err, httpErr)
				}
				if got.Name != strings.TrimSpace(got.Name) || strings.Contains(got.Bio, "<script>") {
					t.Errorf("not sanitized: %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmarshal: %v, want %v", err, tt.want)
			}
			if err.Error() != httpErr.Error() {
				t.Errorf("Unmarshal: %v; DecodeJSON, for the same bytes: %v", err, httpErr)
			}
			if s := sanitize.StatusOf(err); s != tt.status {
				t.Errorf("StatusOf: %d, want %d", s, tt.status)
			}
			var fe *sanitize.FieldErrors
			if errors.As(err, &fe) != (tt.status == 422) {
				t.Errorf("a *FieldErrors: %v, want it for a 422 alone", errors.As(err, &fe))
			}
			if !reflect.DeepEqual(got, signup{}) {
				t.Errorf("on error: %+v, want the zero value", got)
			}
		})
	}
}

// The sanitize tags and the validate tags are applied, through nested
// structs, slices and maps, as DecodeJSON applies them.
func TestUnmarshalSanitizesThenValidates(t *testing.T) {
	t.Parallel()
	got, err := sanitize.Unmarshal[signup](nil, []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	want := signup{Name: "Alice", Email: "alice@example.com", Age: 30, Bio: "<b>hi</b>",
		Tags: []string{"go", "web"}, Address: &address{City: "Paris"}, Extra: map[string]string{"k": "v"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	_, err = sanitize.Unmarshal[[]address](nil, []byte(`[{"city":" Oslo "},{"city":"  "}]`))
	var fe *sanitize.FieldErrors
	if !errors.As(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != "[1].city" || fe.Fields[0].Rule != "required" {
		t.Errorf("a city of spaces in item 1: %v, want [1].city (required)", err)
	}
}

// Unmarshal has no request: it calls no OnReject, and the Decoder's
// MaxBytes bounds the data as it bounds a body, to the byte.
func TestUnmarshalWritesNothing(t *testing.T) {
	t.Parallel()
	called := false
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 2, OnReject: func(http.ResponseWriter, *http.Request, error) { called = true }})
	if _, err := sanitize.Unmarshal[map[string]int](d, []byte(`{}`)); err != nil {
		t.Errorf("data of exactly MaxBytes: %v", err)
	}
	if _, err := sanitize.Unmarshal[map[string]int](d, []byte(`{} `)); !errors.Is(err, sanitize.ErrTooLarge) {
		t.Errorf("data one byte over MaxBytes: %v, want ErrTooLarge", err)
	}
	if _, err := sanitize.Unmarshal[map[string]int](d, []byte(`[]`)); err == nil {
		t.Error("an array for a map: accepted")
	}
	if called {
		t.Error("OnReject was called")
	}
}

// The zero Decoder, like nil, is the default one.
func TestUnmarshalZeroDecoder(t *testing.T) {
	t.Parallel()
	if _, err := sanitize.Unmarshal[signup](&sanitize.Decoder{}, []byte(`{"name":"Al","email":"a@b.example","x":1}`)); !errors.Is(err, sanitize.ErrUnknownField) {
		t.Errorf("zero Decoder, an unknown member: %v", err)
	}
	if _, err := sanitize.Unmarshal[signup](&sanitize.Decoder{}, []byte(`{"name":"Al","email":"a@b.example"}`)); err != nil {
		t.Errorf("zero Decoder: %v", err)
	}
}

// A null for a pointer target is refused, as DecodeJSON refuses it, not
// returned as a nil pointer.
func TestUnmarshalNullPointer(t *testing.T) {
	t.Parallel()
	got, err := sanitize.Unmarshal[*address](nil, []byte(`null`))
	if got != nil || sanitize.StatusOf(err) != 422 {
		t.Errorf("null for *address: %v, %v; want nil and a 422 error", got, err)
	}
}
