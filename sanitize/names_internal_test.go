package sanitize

//lint:file-ignore SA5008 the odd json tags are the cases exposedFields must read as encoding/json does
//lint:file-ignore U1000 unexported fields are among those cases: encoding/json ignores them

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type (
	exInner  struct{ A, B string }
	exTagged struct {
		A string `json:"B"`
	}
	exDeep     struct{ exInner }
	ExExported struct{ C string }
	ExTags     []string
	exList     []string
	exTwiceA   struct{ ExExported }
	exTwiceB   struct{ ExExported }
	exDepthA   struct{ X string }
	exDepthB   struct{ X string }
	exTwice    struct {
		exTwiceA // both embed ExExported at one depth: its C is ambiguous
		exTwiceB
	}
	exSelf struct {
		*exSelf
		S string
	}
)

type exposedCase struct {
	exInner             // A, B promoted
	exTagged            // its "B" is tagged: beats exInner's untagged B at the same depth
	exDeep              // its A and B are deeper: hidden
	*ExExported         // C promoted through a pointer
	ExTags              // a named non-struct: the field "ExTags"
	exList              // unexported non-struct: ignored
	Named       exInner `json:"named"` // a tagged struct is a field, not promoted
	Hidden      string  `json:"-"`
	Dash        string  `json:"-,"`
	Opts        string  `json:","`
	unexported  string
	exTwiceA    // both hold ExExported at one depth: its C is ambiguous, but the
	exTwiceB    // outer *ExExported's C is shallower and wins
	exDepthA    // X at one depth in two structs: ambiguous, exposed by neither
	exDepthB
	exSelf // recursive through a pointer
}

// TestExposedFieldsMatchEncodingJSON checks exposedFields against
// encoding/json itself: the names are those it encodes a value with (every
// embedded pointer set), and a name is known to its decoder, with unknown
// fields disallowed, exactly when it matches one of them in letter case.
func TestExposedFieldsMatchEncodingJSON(t *testing.T) {
	for _, v := range []any{&exposedCase{ExExported: &ExExported{}}, &exSelf{}, &exTwiceA{}, &exTwice{}, &signupLike{}} {
		typ := reflect.TypeOf(v).Elem()
		var got []string
		for _, f := range exposedFields(typ) {
			got = append(got, f.name)
		}
		slices.Sort(got)
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(out, &members); err != nil {
			t.Fatal(err)
		}
		var want []string
		for name := range members {
			want = append(want, name)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%v: exposedFields %q, encoding/json encodes %q", typ, got, want)
		}
		candidates := append([]string{"A", "a", "B", "b", "C", "X", "x", "S", "ExTags", "extags", "exList", "named", "Named",
			"Hidden", "hidden", "-", "Dash", "Opts", "unexported", "exInner", "exSelf", "ExExported",
			"name", "Name", "NAME", "\u212a"}, got...)
		for _, name := range candidates {
			key, _ := json.Marshal(name)
			dec := json.NewDecoder(bytes.NewReader([]byte(`{` + string(key) + `:null}`)))
			dec.DisallowUnknownFields()
			err := dec.Decode(reflect.New(typ).Interface())
			known := err == nil || !strings.Contains(err.Error(), "unknown field")
			folds := slices.ContainsFunc(got, func(g string) bool { return strings.EqualFold(g, name) })
			if known != folds {
				t.Errorf("%v: %q is known to encoding/json: %v, matches an exposed name in letter case: %v", typ, name, known, folds)
			}
		}
	}
}

type signupLike struct {
	Name string `json:"name"`
}

// The names of a body are checked by the scan itself: a body of exact
// names costs no allocation more than the scan without a target.
func TestNameCheckAllocatesNothing(t *testing.T) {
	type item struct {
		Role string `json:"role"`
		Kind string `json:"kind"`
	}
	type target struct {
		Items []item          `json:"items"`
		ByID  map[string]item `json:"byId"`
		Any   any             `json:"any"`
	}
	body := []byte(`{"items":[{"role":"a","kind":"b"},{"role":"c"}],"byId":{"x":{"kind":"y"}},"any":{"ROLE":1}}`)
	sh := shapeOf(reflect.TypeFor[*target]())
	if err := checkJSON(body, 32, sh); err != nil {
		t.Fatal(err)
	}
	without := testing.AllocsPerRun(50, func() { _ = checkJSON(body, 32, nil) })
	with := testing.AllocsPerRun(50, func() { _ = checkJSON(body, 32, shapeOf(reflect.TypeFor[*target]())) })
	if with > without {
		t.Errorf("checking names: %v allocations, without: %v", with, without)
	}
}

// BenchmarkCheckJSON measures the scan before decoding with and without
// the check of member names, on the body of BenchmarkDecodeValidate's
// shape and on a list of 200 such items.
func BenchmarkCheckJSON(b *testing.B) {
	type item struct {
		Author string `json:"author"`
		Email  string `json:"email"`
		Body   string `json:"body"`
	}
	one := `{"author":" Alice ","email":"Alice@Example.com","body":"` + strings.Repeat("x", 1<<10) + `"}`
	list := "[" + strings.Repeat(one+",", 199) + one + "]"
	for _, tc := range []struct {
		name string
		body []byte
		sh   func() *shape
	}{
		{"item/names=unchecked", []byte(one), func() *shape { return nil }},
		{"item/names=exact", []byte(one), func() *shape { return shapeOf(reflect.TypeFor[*item]()) }},
		{"list/names=unchecked", []byte(list), func() *shape { return nil }},
		{"list/names=exact", []byte(list), func() *shape { return shapeOf(reflect.TypeFor[*[]item]()) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := checkJSON(tc.body, 32, tc.sh()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
