package sanitize

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// stringOptionError begins the error encoding/json returns, before Go
// 1.27, for a value of the wrong type in a field with the ,string option
// ({"n":12} or {"n":"x"} for N int `json:"n,string"`). It names no field,
// where every other value of the wrong type comes with its path.
const stringOptionError = "json: invalid use of ,string struct tag"

// stringOptionRefusal answers a decoding of body into a value of type t
// that failed with that error: it returns what the decoder would have
// reported had it named its field, the first refusal in document order:
// a value of the wrong type for its field, the ,string option's included,
// as a *FieldErrors with the field's path (written as typeErrorPath writes
// paths, ending at a map), or, unless allowUnknown, a member no field
// takes, as ErrUnknownField. Nil: none was found. It runs only on that
// rare error, in one pass over body, which the decoder found to hold a
// valid JSON value, and without reflection on the values, so that
// refusing a large body costs about twice what decoding it did
// (BenchmarkStringOptionRefusal).
func stringOptionRefusal(body []byte, t reflect.Type, allowUnknown bool) error {
	w := stringOptionWalk{b: body, allowUnknown: allowUnknown, mapAt: -1}
	return w.value(t)
}

type stringOptionWalk struct {
	b            []byte
	i            int
	allowUnknown bool
	fields       map[reflect.Type]map[string]exposedField // each struct type's, found once

	// The path of the value walked, written out only for a refusal (found
	// in review: a path string built at each level made a deep body cost
	// the square of its depth), and the length it had at the outermost
	// map it is in, where a reported path ends (-1: none).
	path  []pathSegment
	mapAt int
}

// pathSegment is a member name, or an index when name is empty.
type pathSegment struct {
	name  string
	index int
}

// field returns the field of the struct type t that encoding/json decodes
// the member name into, by the rules exposedFields follows (found in
// review: jsonField, depth first, took a deeper field over a shallower
// one, and one of two that tie, which encoding/json drops).
func (w *stringOptionWalk) field(t reflect.Type, name string) (exposedField, bool) {
	byName, ok := w.fields[t]
	if !ok {
		if w.fields == nil {
			w.fields = map[reflect.Type]map[string]exposedField{}
		}
		fs := exposedFields(t)
		byName = make(map[string]exposedField, len(fs))
		for _, f := range fs {
			byName[f.name] = f
		}
		w.fields[t] = byName
	}
	f, ok := byName[name]
	return f, ok
}

// wrongType is the refusal of a value of the wrong type for t at the
// walk's path, which ends at a map: a key came from the request.
func (w *stringOptionWalk) wrongType(t reflect.Type) error {
	path := w.path
	if w.mapAt >= 0 {
		path = path[:w.mapAt]
	}
	var b strings.Builder
	for _, seg := range path {
		switch {
		case seg.name == "":
			b.WriteString("[" + strconv.Itoa(seg.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + seg.name)
		default:
			b.WriteString(seg.name)
		}
	}
	return &FieldErrors{Fields: []FieldError{{Field: pathOr(b.String()), Rule: "type", Message: mustBe(jsonKind(indirect(t)))}}}
}

// ws passes over white space.
func (w *stringOptionWalk) ws() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\n' || w.b[w.i] == '\r') {
		w.i++
	}
}

// next passes over white space and returns the next byte, 0 at the end.
func (w *stringOptionWalk) next() byte {
	w.ws()
	if w.i >= len(w.b) {
		return 0
	}
	return w.b[w.i]
}

// scalar passes over the string, number or literal at w.i and returns it.
func (w *stringOptionWalk) scalar() []byte {
	start := w.i
	if w.b[w.i] == '"' {
		end, _ := stringEnd(w.b, start)
		w.i = min(end+1, len(w.b))
		return w.b[start:w.i]
	}
	for w.i < len(w.b) && strings.IndexByte(",]} \t\n\r", w.b[w.i]) < 0 {
		w.i++
	}
	return w.b[start:w.i]
}

// value walks the next value, for a field of type t (nil: a value the
// target does not hold, only passed over) at the walk's path.
func (w *stringOptionWalk) value(t reflect.Type) error {
	open := w.next()
	if t != nil && indirect(t).Kind() == reflect.Interface && indirect(t).NumMethod() > 0 {
		// Found in review: encoding/json stores only null in an
		// interface with methods; anything else is of the wrong type.
		if open == 'n' {
			w.scalar()
			return nil
		}
		return w.wrongType(t)
	}
	if t != nil && open != '"' && open != 'n' && textOnly(indirect(t)) {
		// Found in review: UnmarshalText is given only a string, and
		// encoding/json refuses any other value but null.
		return w.wrongType(t)
	}
	if t != nil && (indirect(t).Kind() == reflect.Interface || decodesItself(indirect(t))) {
		t = nil // takes any value, through pointers too (found in review), or reads it itself
	}
	if open != '{' && open != '[' {
		if raw := w.scalar(); t != nil && !scalarFits(t, raw) {
			return w.wrongType(t)
		}
		return nil
	}
	w.i++
	kind := reflect.Invalid
	if t != nil {
		t = indirect(t)
		kind = t.Kind()
		if open == '{' && kind != reflect.Struct && kind != reflect.Map ||
			open == '[' && kind != reflect.Slice && kind != reflect.Array {
			return w.wrongType(t)
		}
	}
	for i := 0; ; i++ {
		c := w.next()
		if c == ',' {
			w.i++
			c = w.next()
		}
		if c == '}' || c == ']' || c == 0 {
			w.i++
			return nil
		}
		var name string
		if open == '{' {
			name = unquote(w.scalar())
			w.next() // the colon
			w.i++
		}
		var err error
		switch kind {
		case reflect.Struct:
			err = w.member(t, name)
		case reflect.Map:
			outer := w.mapAt
			if outer < 0 {
				w.mapAt = len(w.path)
			}
			err = w.value(t.Elem())
			if err == nil && !keyFits(t.Key(), name) {
				err = w.wrongType(t.Key())
			}
			w.mapAt = outer
		case reflect.Array:
			if i >= t.Len() {
				err = w.value(nil) // encoding/json passes over it
				break
			}
			fallthrough
		case reflect.Slice:
			w.path = append(w.path, pathSegment{index: i})
			err = w.value(t.Elem())
			w.path = w.path[:len(w.path)-1]
		default:
			err = w.value(nil)
		}
		if err != nil {
			return err
		}
	}
}

// textOnly reports whether encoding/json hands a value of type t, which
// is not a pointer, to its UnmarshalText and not to an UnmarshalJSON, as
// decodesItself tells them.
func textOnly(t reflect.Type) bool {
	if t.Name() == "" {
		return false
	}
	pt := reflect.PointerTo(t)
	return !pt.Implements(unmarshalerType) && pt.Implements(textUnmarshalerType)
}

// member walks the value of the member name of an object decoded into
// the struct type t.
func (w *stringOptionWalk) member(t reflect.Type, name string) error {
	f, ok := w.field(t, name)
	if !ok {
		if !w.allowUnknown {
			return ErrUnknownField
		}
		return w.value(nil)
	}
	w.path = append(w.path, pathSegment{name: name})
	defer func() { w.path = w.path[:len(w.path)-1] }()
	ft := f.field.Type
	if !f.quoted {
		return w.value(ft)
	}
	if c := w.next(); c == '{' || c == '[' || !quotedFits(ft, w.scalar()) {
		return w.wrongType(ft)
	}
	return nil
}

// unquote returns the text of the JSON string raw, which the decoder
// found valid.
func unquote(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	s, _ := stringText(raw, bytes.IndexByte(raw, '\\') >= 0)
	return s
}

// The checks below answer as encoding/json's decoding does, without
// reflection: only a value for a type that decodes itself is decoded
// again, by refused.

// scalarFits reports whether encoding/json takes the scalar raw for a
// value of type t without a type error. A string for a []byte must be
// valid base64: encoding/json before Go 1.27 keeps that refusal and
// returns the ,string one met later, so it is met here, and answered as
// Go 1.27 answers it (found in review: any string was taken).
func scalarFits(t reflect.Type, raw []byte) bool {
	t = indirect(t)
	switch raw[0] {
	case 'n':
		return true
	case 't', 'f':
		return t.Kind() == reflect.Bool
	case '"':
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			_, err := base64.StdEncoding.DecodeString(unquote(raw))
			return err == nil
		}
		return t.Kind() == reflect.String
	}
	if t == numberType {
		return true // found in review: a json.Number takes any number
	}
	return numberFits(t, string(raw))
}

// keyFits reports whether encoding/json takes the member name key for a
// key of the map key type kt, after the member's value: an integer kind
// takes only an integer in its range, and refuses another key as a value
// of the wrong type for the map (found in review: keys were not read).
// A key that unmarshals itself returns its own error, which comes first.
func keyFits(kt reflect.Type, key string) bool {
	if reflect.PointerTo(kt).Implements(textUnmarshalerType) {
		return true
	}
	switch kt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return numberFits(kt, key)
	}
	return true
}

// numberFits reports whether encoding/json takes the number s for a value
// of type t: an integer or floating point number in its range.
func numberFits(t reflect.Type, s string) bool {
	var err error
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err = strconv.ParseInt(s, 10, t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		_, err = strconv.ParseUint(s, 10, t.Bits())
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(s, t.Bits())
	default:
		return false
	}
	return err == nil
}

// quotedFits reports whether encoding/json takes the scalar raw for a
// field of type ft with the ,string option: null, or a string holding
// null or a literal of the field's kind.
func quotedFits(ft reflect.Type, raw []byte) bool {
	switch raw[0] {
	case 'n':
		return true
	case '"':
	default:
		return false // a number or a boolean
	}
	t := indirect(ft)
	if decodesItself(t) || t == numberType {
		return !refused(ft, raw)
	}
	s := unquote(raw)
	switch {
	case s == "null":
		return true
	case s == "":
		return false
	}
	switch t.Kind() {
	case reflect.Bool:
		return s == "true" || s == "false"
	case reflect.String:
		return s[0] == '"' && s[len(s)-1] == '"' && json.Valid([]byte(s))
	}
	return (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && numberFits(t, s)
}

var numberType = reflect.TypeFor[json.Number]()

// refused reports whether encoding/json refuses raw for a field of type
// ft with the ,string option, decoding it alone in such a field. The
// struct type of that field is made once per type (found in review:
// reflect.StructOf on every value made a body of many such values cost
// five times its decoding).
func refused(ft reflect.Type, raw []byte) bool {
	st, ok := quotedFields.Load(ft)
	if !ok {
		st, _ = quotedFields.LoadOrStore(ft, reflect.StructOf([]reflect.StructField{{Name: "V", Type: ft, Tag: `json:"v,string"`}}))
	}
	doc := make([]byte, 0, len(raw)+6)
	doc = append(append(append(doc, `{"v":`...), raw...), '}')
	return json.Unmarshal(doc, reflect.New(st.(reflect.Type)).Interface()) != nil
}

// quotedFields holds, for each field type refused was asked about, the
// struct type of one such field with the ,string option.
var quotedFields sync.Map // reflect.Type → reflect.Type
