package sanitize

import (
	"reflect"
	"strings"
	"testing"
)

type pathItem struct {
	Body string `json:"body"`
}

type PathBase struct {
	Note string `json:"note"`
}

type pathTarget struct {
	PathBase
	Name  string                         `json:"name"`
	Items []pathItem                     `json:"items"`
	Map   map[string]pathItem            `json:"map"`
	Deep  map[string]map[string][]string `json:"deep"`
	Ptr   *pathItem                      `json:"ptr"`
	Any   map[string]any                 `json:"any"`
	Plain string
}

// Found in review: map keys, which come from the request, reached 422
// responses and FieldErrors.Error through validation paths and, from Go
// 1.27 on, through the paths encoding/json gives for values of the wrong
// type. The paths are read by the target type and only what the type
// provides is kept, whatever the keys hold.
func TestPathsKeepOnlyWhatTheTypeProvides(t *testing.T) {
	typ := reflect.TypeFor[pathTarget]()
	validation := []struct{ ns, want string }{
		{"pathTarget.name", "name"},
		{"pathTarget.Plain", "Plain"},
		{"pathTarget.PathBase.note", "note"}, // as for a type error: JSON promotes the field
		{"pathTarget.PathBase", "(root)"},
		{"pathTarget.items[3].body", "items[3].body"},
		{"pathTarget.map[SECRET].body", "map[*].body"},
		{"pathTarget.map[SECRET].x[0].evil", "map[*]"},
		{"pathTarget.map[SECRET]].body", "map[*]"},
		{"pathTarget.deep[SECRET][SE.CRET][2]", "deep[*][*][2]"},
		{"pathTarget.deep[SECRET]", "deep[*]"},
		{"pathTarget.ptr.body", "ptr.body"},
		{"pathTarget.any[SECRET][SECRET]", "any[*]"},
		{"pathTarget.map[SECRET", "map"},
		{"pathTarget.SECRET", "(root)"},
	}
	for _, tt := range validation {
		if got := fieldPath(tt.ns, typ, false); got != tt.want {
			t.Errorf("fieldPath(%q) = %q, want %q", tt.ns, got, tt.want)
		}
	}
	typeErrors := []struct{ field, want string }{
		{"", "(root)"},
		{"name", "name"},
		{"note", "note"},                  // Go 1.27
		{"PathBase.note", "note"},         // Go 1.25 and 1.26 name the embedded struct
		{"PathBase", "(root)"},            // not a field: the path ends
		{"items.PathBase", "items"},       // not embedded in the item
		{"ptr.PathBase.note", "ptr"},      // nor in the pointed-to struct
		{"items.body", "items.body"},      // Go 1.26
		{"items.3.body", "items[3].body"}, // Go 1.27
		{"map.body", "map"},
		{"map.SECRET.body", "map"},
		{"deep.SECRET", "deep"},
		{"ptr.body", "ptr.body"},
		{"SECRET", "(root)"},
	}
	for _, tt := range typeErrors {
		got := typeErrorPath(tt.field, typ)
		if got != tt.want || strings.Contains(got, "SECRET") {
			t.Errorf("typeErrorPath(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}
}

// The path of an item is made a string only for a failure: walking a
// valid list costs the validator's copy of each item, nothing for paths.
func TestValidatingAValidListAllocatesNoPaths(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	d := MustNew(Options{})
	list := make([]pathItem, 1000)
	allocs := testing.AllocsPerRun(20, func() {
		if err := d.validateValue(&list, false); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1010 {
		t.Errorf("a 1 000-item list: %v allocations, want one per item (at most 1 010)", allocs)
	}
}
