package doccheck

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGoBlocks(t *testing.T) {
	md := write(t, "doc.md", "# Title\n\n```go\nintro()\n```\n\n"+
		"## Quick starts\n\n```go\na := 1\n\nuse(a)\n```\n\n```sh\ngo test\n```\n\n"+
		"## Other\n\n```go\nother()\n```\n")
	for _, tt := range []struct {
		name     string
		sections []string
		want     []string
	}{
		{"every block", nil, []string{"intro()", "a := 1\n\nuse(a)", "other()"}},
		{"one section", []string{"Quick starts"}, []string{"a := 1\n\nuse(a)"}},
		{"two sections", []string{"Other", "Quick starts"}, []string{"a := 1\n\nuse(a)", "other()"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := GoBlocks(t, md, tt.sections...); !slices.Equal(got, tt.want) {
				t.Errorf("GoBlocks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFuncBodies(t *testing.T) {
	src := write(t, "x_test.go", `package x

// doc: the closing return is left out.
func shown() int {
	a := 1
	if a > 0 {
		a++
	}

	return a
}

// doc: no return.
func plain() {
	use()
}

// other prefix.
func hidden() {}

func undocumented() {}
`)
	got := FuncBodies(t, src, "doc: ")
	want := map[string]string{
		"shown": "a := 1\nif a > 0 {\n\ta++\n}",
		"plain": "use()",
	}
	if len(got) != len(want) {
		t.Fatalf("FuncBodies = %q, want %q", got, want)
	}
	for name, body := range want {
		if got[name] != body {
			t.Errorf("%s: %q, want %q", name, got[name], body)
		}
	}
}

// Match reports a block no function shows, a function no block shows,
// and an empty list on either side.
func TestMatch(t *testing.T) {
	funcs := map[string]string{"a": "one()", "b": "two()"}
	for _, tt := range []struct {
		name   string
		blocks []string
		funcs  map[string]string
		fail   bool
	}{
		{"each shown once", []string{"two()", "one()"}, funcs, false},
		{"a block of no function", []string{"one()", "two()", "three()"}, funcs, true},
		{"a function not shown", []string{"one()"}, funcs, true},
		{"no blocks", nil, funcs, true},
		{"no functions", []string{"one()"}, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			func() {
				defer func() { _ = recover() }() // Fatalf stops the check
				Match(rec, "doc", tt.blocks, tt.funcs)
			}()
			if rec.failed != tt.fail {
				t.Errorf("failed = %v, want %v", rec.failed, tt.fail)
			}
		})
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) {
	r.failed = true
	panic("fatal")
}
