package sanitize

import (
	"encoding/json"
	"reflect"
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
