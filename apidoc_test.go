package httpguard_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// publicPackages walks the module for its public package directories:
// everything but internal/, examples/, testdata and the separate modules
// (bench/, browsertest/).
func publicPackages(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "internal", "examples", "testdata", "bench", "browsertest":
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), ".") && path != "." {
			return filepath.SkipDir
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func packageDoc(t *testing.T, dir string) *doc.Package {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil
	}
	// AllDecls, as the go doc command reads a package.
	d, err := doc.NewFromFiles(fset, files, dir, doc.AllDecls)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestConstructorsAreListedUnderTheirType guards the package documentation
// a new user reads first: go doc lists a constructor such as ratelimit.New
// under the type it returns, next to that type's methods. It stops doing
// that for the whole package as soon as one variable is declared with an
// explicit error type (var ErrX error = ...): go/doc, reading unexported
// declarations too, then takes error for a type of the package, and every
// (*T, error) constructor is listed among the free functions instead.
func TestConstructorsAreListedUnderTheirType(t *testing.T) {
	t.Parallel()
	for _, dir := range publicPackages(t) {
		d := packageDoc(t, dir)
		if d == nil {
			continue
		}
		for _, f := range d.Funcs {
			if !strings.HasPrefix(f.Name, "New") && !strings.HasPrefix(f.Name, "MustNew") {
				continue
			}
			res := f.Decl.Type.Results
			if res == nil || len(res.List) == 0 {
				continue
			}
			typ := res.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok && id.IsExported() {
				t.Errorf("%s: %s returns %s but the documentation lists it among the functions, not under type %s",
					dir, f.Name, id.Name, id.Name)
			}
		}
	}
}
