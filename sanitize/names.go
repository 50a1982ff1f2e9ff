package sanitize

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
)

// errCaseVariant is returned for a member whose name matches a field of
// the target only in letter case ("ROLE" for "role", "ſub" for "sub"):
// encoding/json would set the field, where a parser that matches names
// exactly, as other languages' and json/v2 do, sees an unknown member. It
// is refused even with AllowUnknownFields, which could not drop it.
var errCaseVariant = fmt.Errorf("%w: a member name that matches a field only in letter case", ErrUnknownField)

// A shape is what the JSON names of a target type are checked against, as
// the scan meets its objects and arrays. A nil *shape is a value whose
// content is free: a scalar, an interface, json.RawMessage, a type that
// unmarshals itself, or a member the target does not have.
type shape struct {
	kind   shapeKind
	elem   *shape            // shapeMap: the values'; shapeList: the elements'
	fields map[string]*shape // shapeStruct: the exposed JSON names, each with its value's shape
	folded map[string]bool   // shapeStruct: the exposed names folded by foldKey
}

type shapeKind uint8

const (
	shapeFree   shapeKind = iota
	shapeStruct           // an object whose member names must match exactly
	shapeMap              // an object with free keys
	shapeList             // an array
)

var (
	shapes   sync.Map   // reflect.Type → *shape, complete shapes only
	shapesMu sync.Mutex // held while shapes are built
)

// shapeOf returns the shape of the type t as encoding/json decodes into an
// addressable value of it: a struct field, an element, or the value a
// pointer points to. Shapes depend on the type only and are cached for
// the life of the program, as encoding/json caches its own field lists.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	shapesMu.Lock()
	defer shapesMu.Unlock()
	building := map[reflect.Type]*shape{}
	s := buildShape(t, building, 0)
	// Published only now that every shape of the pass is complete: a
	// recursive type's shape points to itself.
	for t, s := range building {
		shapes.Store(t, s)
	}
	return s
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether encoding/json hands a value of type t to
// its own UnmarshalJSON or UnmarshalText: a pointer type that has one, or
// a named type whose pointer has one (the decoder takes the address of a
// named value, never of an unnamed one). An UnmarshalText is given only a
// string; for an object or an array the decoder reports a type error.
func decodesItself(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		if t.Name() == "" {
			return false
		}
		t = reflect.PointerTo(t)
	}
	return t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType)
}

// buildShape is called with shapesMu held. A shape is registered before
// its parts are built, so that a recursive type terminates.
func buildShape(t reflect.Type, building map[reflect.Type]*shape, depth int) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	if s, ok := building[t]; ok {
		return s
	}
	if depth > maxElems || decodesItself(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := buildShape(t.Elem(), building, depth+1)
		building[t] = s
		return s
	case reflect.Slice, reflect.Array:
		s := &shape{kind: shapeList}
		building[t] = s
		s.elem = buildShape(t.Elem(), building, depth+1)
		return s
	case reflect.Map:
		s := &shape{kind: shapeMap}
		building[t] = s
		s.elem = buildShape(t.Elem(), building, depth+1)
		return s
	case reflect.Struct:
		s := &shape{kind: shapeStruct}
		building[t] = s
		fields := exposedFields(t)
		s.fields = make(map[string]*shape, len(fields))
		s.folded = make(map[string]bool, len(fields))
		for _, f := range fields {
			s.fields[f.name] = buildShape(f.field.Type, building, depth+1)
			s.folded[foldKey(f.name)] = true
		}
		return s
	}
	return nil // a scalar, an interface, or a type encoding/json refuses
}

type exposedField struct {
	name   string
	field  reflect.StructField
	depth  int  // of embedding
	tag    bool // named by its json tag
	quoted bool // read with the ,string option
}

// quotable reports whether encoding/json reads a field of type ft (an
// unnamed pointer's element) with the json tag options opts with the
// ,string option, which applies only to strings, numbers and booleans.
func quotable(ft reflect.Type, opts string) bool {
	quoted := false
	for opt := range strings.SplitSeq(opts, ",") {
		quoted = quoted || opt == "string"
	}
	if !quoted {
		return false
	}
	switch ft.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// exposedFields returns the fields of the struct type t that encoding/json
// decodes a member into, by the rules of its typeFields: the json tag's
// name, else the Go name; not `json:"-"` (but `json:"-,"`, named "-");
// not an unexported field unless it is an embedded struct; the fields of
// an untagged embedded struct, or pointer to one, promoted; and of the
// fields that share a name, the shallowest, a tagged one before an
// untagged one at the same depth, and none if two remain tied.
func exposedFields(t reflect.Type) []exposedField {
	type queued struct {
		typ   reflect.Type
		depth int
	}
	var fields []exposedField
	next := []queued{{t, 0}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := 0; i < q.typ.NumField(); i++ {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := exposedField{name: name, field: sf, depth: q.depth + 1, tag: name != "", quoted: quotable(ft, opts)}
					if f.name == "" {
						f.name = sf.Name
					}
					fields = append(fields, f)
					if count[q.typ] > 1 {
						// The same struct embedded twice at this depth:
						// each of its names is ambiguous.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{ft, q.depth + 1})
				}
			}
		}
	}
	// Keep, for each name, the dominant field, if one is.
	byName := make(map[string][]exposedField, len(fields))
	var names []string
	for _, f := range fields {
		if _, ok := byName[f.name]; !ok {
			names = append(names, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	out := fields[:0]
	for _, name := range names {
		if f, ok := dominant(byName[name]); ok {
			out = append(out, f)
		}
	}
	return out
}

// dominant returns the one field of fs, fields of one name, that
// encoding/json decodes into: the shallowest, a tagged one first, and
// none if the first two so ordered are tied.
func dominant(fs []exposedField) (exposedField, bool) {
	var best []exposedField
	for _, f := range fs {
		switch {
		case len(best) == 0 || f.depth < best[0].depth || f.depth == best[0].depth && f.tag && !best[0].tag:
			best = append(best[:0], f)
		case f.depth == best[0].depth && f.tag == best[0].tag:
			best = append(best, f)
		}
	}
	return best[0], len(best) == 1
}

// validTagName is encoding/json's isValidTag: a name it takes from a tag.
// With a name it refuses (`json:"a\\b"`), Go 1.26's encoding/json uses the
// Go name and so does this package; Go 1.27's takes part of the tag ("a"),
// so under it the member "a" sets the field (an exact name, left to the
// decoder) and "Bad" is refused as unknown. No tag a program means to use
// is written so.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
