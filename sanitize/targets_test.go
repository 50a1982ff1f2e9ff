package sanitize_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/sanitize"
)

type item struct {
	Body string `json:"body" sanitize:"trim,html=ugc" validate:"required,max=20"`
}

// bodiesOf decodes a T and lists the bodies of the items it holds, so that
// targets of different types fit in one table.
func bodiesOf[T any](list func(T) []string) func(http.ResponseWriter, *http.Request) ([]string, error) {
	return func(w http.ResponseWriter, r *http.Request) ([]string, error) {
		v, err := sanitize.DecodeJSON[T](nil, w, r)
		if err != nil {
			return nil, err
		}
		return list(v), nil
	}
}

func sliceBodies(v []item) []string {
	var out []string
	for _, it := range v {
		out = append(out, it.Body)
	}
	return out
}

func mapBodies(v map[string]item) []string {
	var out []string
	for _, it := range v {
		out = append(out, it.Body)
	}
	return out
}

// Found in review: a target that is not a struct ([]Comment,
// map[string]Comment, [N]Comment) was neither sanitized nor validated, so
// raw HTML and over-long values were accepted. Its items are now walked
// as the items of a struct field with a `dive` tag.
func TestCollectionTargetsAreSanitizedAndValidated(t *testing.T) {
	t.Parallel()
	const dirty = `" <b>hi</b><script>alert(1)</script> "`
	tests := []struct {
		name   string
		decode func(http.ResponseWriter, *http.Request) ([]string, error)
		body   string
		want   []string // the sanitized bodies, when accepted
		status int
		field  string // the failing field, when refused
	}{
		{"a slice", bodiesOf(sliceBodies), `[{"body":` + dirty + `}]`, []string{"<b>hi</b>"}, 200, ""},
		{"a slice of pointers", bodiesOf(func(v []*item) []string {
			var out []string
			for _, it := range v {
				if it != nil {
					out = append(out, it.Body)
				}
			}
			return out
		}), `[{"body":` + dirty + `},{"body":"x"}]`, []string{"<b>hi</b>", "x"}, 200, ""}, // null items: TestNullItemsOfCollectionTargetsAreRefused
		{"an array", bodiesOf(func(v [2]item) []string { return sliceBodies(v[:]) }), `[{"body":` + dirty + `},{"body":"x"}]`, []string{"<b>hi</b>", "x"}, 200, ""},
		{"a map", bodiesOf(mapBodies), `{"a":{"body":` + dirty + `}}`, []string{"<b>hi</b>"}, 200, ""},
		{"a pointer to a slice", bodiesOf(func(v *[]item) []string { return sliceBodies(*v) }), `[{"body":` + dirty + `}]`, []string{"<b>hi</b>"}, 200, ""},
		{"a map of slices", bodiesOf(func(v map[string][]item) []string { return sliceBodies(v["a"]) }), `{"a":[{"body":` + dirty + `}]}`, []string{"<b>hi</b>"}, 200, ""},

		{"a slice item too long", bodiesOf(sliceBodies), `[{"body":"ok"},{"body":"<i>far more than twenty characters</i>"}]`, nil, 422, "[1].body"},
		{"a slice item missing", bodiesOf(sliceBodies), `[{"body":"<script>x</script>"}]`, nil, 422, "[0].body"},
		{"an array item", bodiesOf(func(v [1]item) []string { return sliceBodies(v[:]) }), `[{"body":""}]`, nil, 422, "[0].body"},
		{"a map item, its key not shown", bodiesOf(mapBodies), `{"secret <svg onload=alert(1)>":{"body":""}}`, nil, 422, "[*].body"},
		{"a nested slice item", bodiesOf(func(v [][]*item) []string { return nil }), `[[{"body":""}]]`, nil, 422, "[0][0].body"},
		{"a pointer to a slice item", bodiesOf(func(v *[]item) []string { return nil }), `[{"body":""}]`, nil, 422, "[0].body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			got, err := tt.decode(w, post(tt.body, "application/json"))
			if tt.status == 200 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("bodies %q, want %q", got, tt.want)
				}
				return
			}
			if !errors.Is(err, sanitize.ErrInvalidFields) || w.Code != tt.status {
				t.Fatalf("err %v, status %d; want %d", err, w.Code, tt.status)
			}
			var resp struct {
				Errors []sanitize.FieldError `json:"errors"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if len(resp.Errors) != 1 || resp.Errors[0].Field != tt.field {
				t.Errorf("errors %+v, want one for %s", resp.Errors, tt.field)
			}
			for _, leak := range []string{"secret", "svg", "twenty"} {
				if strings.Contains(w.Body.String(), leak) || strings.Contains(err.Error(), leak) {
					t.Errorf("response or error reflects %q: %s; %v", leak, w.Body, err)
				}
			}
		})
	}
}

// A bad sanitize tag in the items of a collection target is refused even
// when the collection is empty, as it is for a struct field of that type.
func TestCollectionTargetWithBadTagIsRefused(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`[]`, `[{"name":"x"}]`} {
		w := httptest.NewRecorder()
		if _, err := sanitize.DecodeJSON[[]badTag](nil, w, post(body, "application/json")); !errors.Is(err, sanitize.ErrTarget) || w.Code != 500 {
			t.Errorf("%s: err %v, status %d; want ErrTarget, 500", body, err, w.Code)
		}
	}
}

// So is a bad tag in a pointer target decoded from null: the programming
// error is reported the first time the type is decoded, not hidden behind
// the 422 for the null.
func TestPointerTargetWithBadTagIsRefusedForNull(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	if _, err := sanitize.DecodeJSON[*badTag](nil, w, post(`null`, "application/json")); !errors.Is(err, sanitize.ErrTarget) || w.Code != 500 {
		t.Errorf("err %v, status %d; want ErrTarget, 500", err, w.Code)
	}
}

// Found in review: DecodeJSON[*Comment] returned (nil, nil) for the body
// null, so required fields were never checked and the handler got a nil
// pointer. Like any value of the wrong type, it is a 422.
func TestNullForPointerTargetIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		valid  string
		decode func(http.ResponseWriter, *http.Request) (isNil bool, err error)
	}{
		{"*T", `{"body":"ok"}`, func(w http.ResponseWriter, r *http.Request) (bool, error) {
			v, err := sanitize.DecodeJSON[*item](nil, w, r)
			return v == nil, err
		}},
		{"**T", `{"body":"ok"}`, func(w http.ResponseWriter, r *http.Request) (bool, error) {
			v, err := sanitize.DecodeJSON[**item](nil, w, r)
			return v == nil || *v == nil, err
		}},
		{"*[]T", `[{"body":"ok"}]`, func(w http.ResponseWriter, r *http.Request) (bool, error) {
			v, err := sanitize.DecodeJSON[*[]item](nil, w, r)
			return v == nil, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			isNil, err := tt.decode(w, post(" null ", "application/json"))
			if !errors.Is(err, sanitize.ErrInvalidFields) || w.Code != 422 {
				t.Fatalf("nil %v, err %v, status %d; want ErrInvalidFields, 422", isNil, err, w.Code)
			}
			if !strings.Contains(w.Body.String(), `"field":"(root)","rule":"type"`) {
				t.Errorf("response %s", w.Body)
			}
			// A value is still accepted.
			w = httptest.NewRecorder()
			if isNil, err := tt.decode(w, post(tt.valid, "application/json")); err != nil || isNil {
				t.Errorf("a value: nil %v, err %v", isNil, err)
			}
		})
	}
}

// nested is a type made of itself: nested arrays of any depth.
type nested []nested

type holdsNested struct {
	X nested `json:"x"`
}

// Found in review of the walk of collection targets: looking for structs
// or strings in a type made of itself (type L []L) recursed without end,
// a fatal stack overflow, for a struct field of that type as well as for
// the target itself; a wrong type in it hung the path reading.
func TestTypesMadeOfThemselvesDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decode func(http.ResponseWriter, *http.Request) error
		body   string
		status int
	}{
		{"a field", func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[holdsNested](nil, w, r)
			return err
		}, `{"x":[[],[[]]]}`, 200},
		{"the target", func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[nested](nil, w, r)
			return err
		}, `[[],[[]]]`, 200},
		{"a wrong type in the target", func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[nested](nil, w, r)
			return err
		}, `[[],[[1]]]`, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			err := tt.decode(w, post(tt.body, "application/json"))
			if tt.status == 200 && err != nil || tt.status != 200 && w.Code != tt.status {
				t.Errorf("err %v, status %d; want %d", err, w.Code, tt.status)
			}
		})
	}
}
