package sanitize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The duplicate-key scan of an object past smallObject keys costs one
// allocation per key (the key the set keeps) and the set's growth: the
// fold of a lower-case ASCII key allocates nothing more. (An earlier fold
// upper-cased every key, a second allocation per key.)
func TestLargeObjectScanAllocatesOnlyItsSet(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"key_%04d":1`, i)
	}
	b.WriteString("}")
	body := []byte(b.String())
	allocs := testing.AllocsPerRun(20, func() {
		if err := checkStructure(body, 32); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1100 {
		t.Errorf("a 1 000-key object: %v allocations, want one per key and the set's growth (at most 1 100)", allocs)
	}
	if foldKey("sub") != foldKey("ſub") || foldKey("KID") != foldKey("\u212aid") || foldKey("sub") == foldKey("sud") {
		t.Error("foldKey does not fold as strings.EqualFold compares")
	}
}

// FuzzCheckStructure checks the pre-scan of JSON bodies against
// encoding/json's tokenizer on every valid JSON text: it refuses the text
// exactly when an object repeats a key, as strings.EqualFold compares them
// (encoding/json would decode both into one field), or nesting goes deeper
// than the limit, and then for the first of these in the text.
func FuzzCheckStructure(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"A":2}`, `{"a":"b","B":1}`, `{"a":[1,"a"],"b":{"a":1}}`, `{"s":1,"\u017fub":2,"sub":3}`,
		`{"k":1,"\u212a":2}`, `[[[[1]]]]`, `{"a":{"a":{"a":{}}}}`, `{"\"":1,"\\":2,"\"":3}`,
		`{"a":[{"b":1},{"b":2}]}`, `"{\"a\":1,\"a\":2}"`, `{"\ud800":1,"\udfff":2}`, `{"\u00e9":1,"\u00c9":2}`,
		`{"k00":0,"k01":0,"k02":0,"k03":0,"k04":0,"k05":0,"k06":0,"k07":0,"k08":0,"k09":0,"k10":0,"k11":0,"k12":0,"k13":0,"k14":0,"k15":0,"K03":0}`,
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, depth uint8) {
		maxDepth := 1 + int(depth)%40
		got := checkStructure(b, maxDepth)
		if !json.Valid(b) {
			return
		}
		want := structureOf(t, b, maxDepth)
		if got != want {
			t.Fatalf("%q (depth %d): %v, encoding/json's tokens: %v", b, maxDepth, got, want)
		}
	})
}

// structureOf walks b, valid JSON, with encoding/json's tokenizer and
// returns errTooDeep or errDuplicateKey for the first nesting beyond
// maxDepth or repeated key, or nil.
func structureOf(t *testing.T, b []byte, maxDepth int) error {
	type frame struct {
		object, key bool // an object, expecting a key
		keys        []string
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // a valid number too large for a float64 (1E700) is no error here
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		top := len(stack) - 1
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].key = true
				}
				if len(stack) >= maxDepth {
					return errTooDeep
				}
				stack = append(stack, frame{object: tok == '{', key: tok == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].key {
				for _, k := range stack[top].keys {
					if strings.EqualFold(k, tok) {
						return errDuplicateKey
					}
				}
				stack[top].keys = append(stack[top].keys, tok)
				stack[top].key = false
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
}
