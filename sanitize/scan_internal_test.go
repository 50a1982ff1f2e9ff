package sanitize

import (
	"fmt"
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
