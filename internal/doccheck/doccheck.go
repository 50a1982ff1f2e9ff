// Package doccheck holds documentation to the code it shows: the Go code
// blocks of a Markdown file must each be, word for word, the body of a
// function of a test file, which compiles and which that test runs. The
// README's quick starts and the migration guide are checked this way.
package doccheck

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"
)

// GoBlocks returns the ```go blocks of the Markdown file at path, in
// order. With sections, only the blocks under a "## " heading among them
// count.
func GoBlocks(t testing.TB, path string, sections ...string) []string {
	t.Helper()
	return Blocks(t, path, "go", sections...)
}

// Blocks is GoBlocks for the blocks of another language: ```lang.
func Blocks(t testing.TB, path, lang string, sections ...string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks, cur []string
	counted, in := len(sections) == 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case len(sections) > 0 && strings.HasPrefix(line, "## "):
			counted = slices.Contains(sections, strings.TrimPrefix(line, "## "))
		case !counted:
		case !in && line == "```"+lang:
			in, cur = true, nil
		case in && line == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// FuncBodies returns, by name, the bodies of the functions of the Go file
// at path whose doc comment starts with prefix (such as "readme: "), as a
// document shows them: without the braces and a closing return statement,
// which hands the test what the code built, and dedented by one tab.
func FuncBodies(t testing.TB, path, prefix string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Doc == nil || !strings.HasPrefix(fd.Doc.Text(), prefix) {
			continue
		}
		end := fset.Position(fd.Body.Rbrace).Offset
		if n := len(fd.Body.List); n > 0 {
			if ret, ok := fd.Body.List[n-1].(*ast.ReturnStmt); ok {
				end = fset.Position(ret.Pos()).Offset - 1 // before "\treturn"
			}
		}
		text := string(src[fset.Position(fd.Body.Lbrace).Offset+2 : end]) // past "{\n"
		var lines []string
		for l := range strings.SplitSeq(strings.TrimRight(text, "\n\t"), "\n") {
			lines = append(lines, strings.TrimPrefix(l, "\t"))
		}
		out[fd.Name.Name] = strings.Join(lines, "\n")
	}
	return out
}

// Match reports through t every block that is no function's body and
// every function that no block shows; doc names the document in the
// messages. It fails the test when either list is empty: a document or
// prefix that moved would otherwise check nothing.
func Match(t testing.TB, doc string, blocks []string, funcs map[string]string) {
	t.Helper()
	if len(blocks) == 0 || len(funcs) == 0 {
		t.Fatalf("%d code blocks in %s, %d functions showing them", len(blocks), doc, len(funcs))
	}
	shown := map[string]bool{}
	for i, b := range blocks {
		found := false
		for name, body := range funcs {
			if body == b {
				found, shown[name] = true, true
			}
		}
		if !found {
			t.Errorf("code block %d of %s is no function's body:\n%s", i+1, doc, b)
		}
	}
	for name := range funcs {
		if !shown[name] {
			t.Errorf("%s is not shown in %s", name, doc)
		}
	}
}
