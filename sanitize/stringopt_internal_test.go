package sanitize

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
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

// fuzzQuoted is a target with fields of the ,string option beside fields
// of the kinds the walk checks.
type fuzzQuoted struct {
	N  int     `json:"n,string"`
	U  *uint8  `json:"u,string"`
	B  bool    `json:"b,string"`
	S  string  `json:"s,string"`
	F  float32 `json:"f"`
	Bs []byte  `json:"bs"`
	L  []struct {
		X int `json:"x,string"`
		Y any `json:"y"`
	} `json:"l"`
	A [2]int8 `json:"a"`
	M map[int8]struct {
		X bool `json:"x,string"`
	} `json:"m"`
	P *struct {
		D float64 `json:"d"`
	} `json:"p"`
}

var fuzzQuotedPaths = regexp.MustCompile(`^(\(root\)|[nubsf]|bs(\[\d+\])?|l(\[\d+\](\.[xy])?)?|a(\[[01]\])?|m|p(\.d)?)$`)

// FuzzStringOptionRefusal runs the walk that names the field of a ,string
// refusal on any valid JSON text the pre-scan lets through, whatever the
// Go version (before Go 1.27 only does the decoder ask for it). It never
// panics, answers nil, ErrUnknownField or one type error at one of the
// target's paths, and finds a refusal exactly when encoding/json refuses
// the text.
func FuzzStringOptionRefusal(f *testing.F) {
	for _, s := range []string{
		`{"n":"12","u":"7","b":"true","s":"\"x\"","f":1.5,"bs":"AAAA","l":[{"x":"1","y":[1]}],"a":[1,2,3],"m":{"-1":{"x":"false"}},"p":{"d":2}}`,
		`{"n":12}`, `{"n":"x"}`, `{"u":"300"}`, `{"b":"1"}`, `{"s":"x"}`, `{"f":1e39}`, `{"bs":"!"}`,
		`{"l":[{"x":"1"},{"x":2}]}`, `{"a":[1,300]}`, `{"a":[1,2,"x"]}`, `{"m":{"200":{}}}`, `{"m":{"1":{"x":1}}}`,
		`{"p":[],"n":"x"}`, `{"z":1,"n":"x"}`, `{"n":null,"u":"null","l":null}`, `[1]`, `"x"`, `{"n":"\u0031"}`,
	} {
		f.Add([]byte(s), false)
	}
	typ := reflect.TypeFor[fuzzQuoted]()
	f.Fuzz(func(t *testing.T, body []byte, allowUnknown bool) {
		if !json.Valid(body) || checkJSON(body, DefaultMaxDepth, shapeOf(reflect.PointerTo(typ))) != nil {
			return // refused before decoding
		}
		got := stringOptionRefusal(body, typ, allowUnknown)
		var fe *FieldErrors
		switch {
		case got == nil, got == ErrUnknownField:
		case errors.As(got, &fe):
			if len(fe.Fields) != 1 || fe.Fields[0].Rule != "type" || !fuzzQuotedPaths.MatchString(fe.Fields[0].Field) {
				t.Fatalf("%s: %v", body, got)
			}
		default:
			t.Fatalf("%s: %v", body, got)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		if !allowUnknown {
			dec.DisallowUnknownFields()
		}
		var v fuzzQuoted
		err := dec.Decode(&v)
		if (got == nil) != (err == nil) {
			t.Fatalf("%s: the walk found %v, encoding/json %v", body, got, err)
		}
	})
}
