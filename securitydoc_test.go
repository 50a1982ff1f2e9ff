package httpguard_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// securityDocTest is a test reference in SECURITY.md's table of attacks
// known from peer libraries: `file`, then `TestName` and a quoted case.
var securityDocTest = regexp.MustCompile("`([\\w./-]+_test\\.go|[\\w./-]+/storetest\\.go)`(?:: `(Test\\w+)`)?(?: \"([^\"]+)\")?")

// TestSecurityDocTests holds SECURITY.md's table of attacks known from
// peer libraries to the tests: each file it names exists, defines the
// test function named, and holds the quoted case, so that a renamed or
// removed regression test cannot leave the table claiming it.
func TestSecurityDocTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "## Attacks known from peer libraries")
	if !ok {
		t.Fatal("SECURITY.md has no section of attacks known from peer libraries")
	}
	rows := 0
	for line := range strings.SplitSeq(table, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| peer ") {
			continue
		}
		rows++
		m := securityDocTest.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("row names no test file: %s", line)
			continue
		}
		src, err := os.ReadFile(m[1])
		if err != nil {
			t.Errorf("row %q: %v", line, err)
			continue
		}
		if m[2] != "" && !strings.Contains(string(src), "func "+m[2]+"(") {
			t.Errorf("%s defines no %s", m[1], m[2])
		}
		if m[3] != "" && !strings.Contains(string(src), m[3]) {
			t.Errorf("%s has no case %q", m[1], m[3])
		}
	}
	if rows < 30 {
		t.Errorf("the table has %d rows, want the 30 and more it had", rows)
	}
}
