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

// fieldDocs returns the documentation of each exported field of the struct
// st, by name. A field without a comment of its own takes the comment of
// the closest documented field before it when that comment names it
// ("IPv4Prefix and IPv6Prefix group ..."), and "" otherwise.
func fieldDocs(st *ast.StructType) (names []string, docs map[string]string) {
	docs = make(map[string]string)
	prev := ""
	for _, f := range st.Fields.List {
		text := ""
		switch {
		case f.Doc != nil:
			text = f.Doc.Text()
		case f.Comment != nil:
			text = f.Comment.Text()
		}
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			names = append(names, n.Name)
			switch {
			case text != "":
				docs[n.Name] = text
			case strings.Contains(prev, n.Name):
				docs[n.Name] = prev
			}
		}
		if text != "" {
			prev = text
		}
	}
	return names, docs
}

// TestOptionsFieldsStateTheirDefault checks the rule of the house style
// for option structs: every exported field of an exported type named
// ...Options is documented and says what its zero value means, either
// "Default..." or that it is required (New refuses the zero value).
func TestOptionsFieldsStateTheirDefault(t *testing.T) {
	t.Parallel()
	for _, dir := range publicPackages(t) {
		d := packageDoc(t, dir)
		if d == nil {
			continue
		}
		for _, typ := range d.Types {
			if !ast.IsExported(typ.Name) || !strings.HasSuffix(typ.Name, "Options") {
				continue
			}
			for _, spec := range typ.Decl.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				names, docs := fieldDocs(st)
				for _, name := range names {
					doc, ok := docs[name]
					switch {
					case !ok:
						t.Errorf("%s: %s.%s has no documentation", dir, ts.Name.Name, name)
					case !strings.Contains(doc, "Default") && !strings.Contains(strings.ToLower(doc), "required"):
						t.Errorf("%s: %s.%s does not state its default (\"Default: ...\") or that it is required", dir, ts.Name.Name, name)
					}
				}
			}
		}
	}
}

// TestExportedIdentifiersAreDocumented checks that every exported
// function, method, type, constant and variable of a public package has a
// doc comment, and that the comment of a function, method or type starts
// with its name (after "A", "An" or "The" for a type), as go doc and the
// house style expect. A constant or variable may be documented by its own
// comment, a comment at the end of its line, or the comment of the group
// it is declared in; every exported field of an exported struct is
// documented, alone or by the comment of a field before it that names it.
func TestExportedIdentifiersAreDocumented(t *testing.T) {
	t.Parallel()
	for _, dir := range publicPackages(t) {
		d := packageDoc(t, dir)
		if d == nil {
			continue
		}
		startsWithName := func(kind, name, doc string, article bool) {
			words := strings.Fields(doc)
			if len(words) == 0 {
				t.Errorf("%s: %s %s has no doc comment", dir, kind, name)
				return
			}
			if article && len(words) > 1 && (words[0] == "A" || words[0] == "An" || words[0] == "The") {
				words = words[1:]
			}
			if strings.TrimRight(words[0], ",.:;") != name {
				t.Errorf("%s: the doc comment of %s %s starts with %q, not its name", dir, kind, name, words[0])
			}
		}
		values := func(vals []*doc.Value) {
			for _, v := range vals {
				for _, spec := range v.Decl.Specs {
					vs := spec.(*ast.ValueSpec)
					for _, n := range vs.Names {
						if n.IsExported() && v.Doc == "" && vs.Doc == nil && vs.Comment == nil {
							t.Errorf("%s: %s %s has no doc comment", dir, v.Decl.Tok, n.Name)
						}
					}
				}
			}
		}
		values(d.Consts)
		values(d.Vars)
		for _, f := range d.Funcs {
			if ast.IsExported(f.Name) {
				startsWithName("func", f.Name, f.Doc, false)
			}
		}
		for _, typ := range d.Types {
			if !ast.IsExported(typ.Name) {
				continue
			}
			startsWithName("type", typ.Name, typ.Doc, true)
			values(typ.Consts)
			values(typ.Vars)
			for _, f := range typ.Funcs {
				if ast.IsExported(f.Name) {
					startsWithName("func", f.Name, f.Doc, false)
				}
			}
			for _, f := range typ.Methods {
				if ast.IsExported(f.Name) {
					startsWithName("method "+typ.Name+".", f.Name, f.Doc, false)
				}
			}
			for _, spec := range typ.Decl.Specs {
				if st, ok := spec.(*ast.TypeSpec).Type.(*ast.StructType); ok {
					names, docs := fieldDocs(st)
					for _, name := range names {
						if _, ok := docs[name]; !ok {
							t.Errorf("%s: field %s.%s has no documentation", dir, typ.Name, name)
						}
					}
				}
			}
		}
	}
}
