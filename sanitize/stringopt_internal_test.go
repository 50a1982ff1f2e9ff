package sanitize

import (
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// refused, called for each ,string value of a type that decodes itself or
// of json.Number in a body, costs one decoding of that value alone: the
// struct type it decodes into is not made again for each (found in
// review: reflect.StructOf on every value made a large body of such
// values cost five times its decoding).
func TestRefusedCostsOneDecoding(t *testing.T) {
	ft := reflect.TypeFor[json.Number]()
	raw := []byte(`"12"`)
	refused(ft, raw) // the first call may make the type
	st := reflect.StructOf([]reflect.StructField{{Name: "V", Type: ft, Tag: `json:"v,string"`}})
	decode := testing.AllocsPerRun(100, func() {
		doc := make([]byte, 0, len(raw)+6)
		doc = append(append(append(doc, `{"v":`...), raw...), '}')
		_ = json.Unmarshal(doc, reflect.New(st).Interface())
	})
	got := testing.AllocsPerRun(100, func() { refused(ft, raw) })
	if got > decode {
		t.Errorf("refused: %v allocations, a decoding of the value alone %v", got, decode)
	}
}

// The walk writes out a path only for the refusal it reports (found in
// review: a path string built at each level made a body nested d deep
// allocate in the order of d² bytes, 600 ms for 40 KB at MaxDepth 10000).
func TestStringOptionRefusalCostIsLinearInDepth(t *testing.T) {
	type node struct {
		C *node `json:"c"`
		N int   `json:"n,string"`
	}
	const depth = 5000
	body := []byte(strings.Repeat(`{"c":`, depth) + `{"n":"x"}` + strings.Repeat("}", depth))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := stringOptionRefusal(body, reflect.TypeFor[node](), false)
	runtime.ReadMemStats(&after)
	var fe *FieldErrors
	want := strings.Repeat("c.", depth) + "n"
	if !errors.As(err, &fe) || fe.Fields[0].Field != want {
		t.Fatalf("%v, want a type error of c.c. … .n", err)
	}
	// The reported path alone is 10 KB; d² bytes would be 25 MB.
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("walking %d levels allocated %d bytes", depth, n)
	}
}
