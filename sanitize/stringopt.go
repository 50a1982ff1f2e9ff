package sanitize

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
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
// takes, as ErrUnknownField. It runs in one pass over body, which the
// decoder found to be valid JSON, and only on that rare error. Nil: none
// was found.
func stringOptionRefusal(body []byte, t reflect.Type, allowUnknown bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := stringOptionWalk{dec: dec, allowUnknown: allowUnknown}
	return w.value(t, "")
}

type stringOptionWalk struct {
	dec          *json.Decoder
	allowUnknown bool
	failed       bool
}

// wrongType is the refusal of a value of the wrong type for t at path.
func wrongType(path string, t reflect.Type) error {
	return &FieldErrors{Fields: []FieldError{{Field: pathOr(path), Rule: "type", Message: mustBe(jsonKind(indirect(t)))}}}
}

// value walks the next value of the decoder, for a field of type t (nil:
// a value the target does not hold, only passed over) at path.
func (w *stringOptionWalk) value(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		w.failed = true
		return nil
	}
	if t != nil && (t.Kind() == reflect.Interface || decodesItself(indirect(t))) {
		t = nil // takes any value, or reads it itself
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		if t != nil && refused(t, scalarText(tok), "") {
			return wrongType(path, t)
		}
		return nil
	}
	kind := reflect.Invalid
	if t != nil {
		t = indirect(t)
		kind = t.Kind()
		if delim == '{' && kind != reflect.Struct && kind != reflect.Map ||
			delim == '[' && kind != reflect.Slice && kind != reflect.Array {
			return wrongType(path, t)
		}
	}
	for i := 0; !w.failed && w.dec.More(); i++ {
		var name string
		if delim == '{' {
			if tok, err = w.dec.Token(); err != nil {
				w.failed = true
				break
			}
			name, _ = tok.(string)
		}
		var err error
		switch kind {
		case reflect.Struct:
			err = w.member(t, name, path)
		case reflect.Map:
			err = w.value(t.Elem(), path)
			var fe *FieldErrors
			if errors.As(err, &fe) {
				fe.Fields[0].Field = pathOr(path) // a key came from the request
			}
		case reflect.Slice, reflect.Array:
			err = w.value(t.Elem(), path+"["+strconv.Itoa(i)+"]")
		default:
			err = w.value(nil, "")
		}
		if err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // the closing delimiter
		w.failed = true
	}
	return nil
}

// member walks the value of the member name of an object decoded into
// the struct type t at path.
func (w *stringOptionWalk) member(t reflect.Type, name, path string) error {
	f, ok := jsonField(t, name, 0)
	if !ok {
		if !w.allowUnknown {
			return ErrUnknownField
		}
		return w.value(nil, "")
	}
	if path != "" {
		name = path + "." + name
	}
	if !hasStringOption(f) {
		return w.value(f.Type, name)
	}
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		w.failed = true
		return nil
	}
	if refused(f.Type, raw, ",string") {
		return wrongType(name, f.Type)
	}
	return nil
}

// scalarText writes again a scalar token of a decoder that uses numbers.
func scalarText(tok json.Token) []byte {
	switch v := tok.(type) {
	case json.Number:
		return []byte(v)
	case bool:
		return strconv.AppendBool(nil, v)
	case nil:
		return []byte("null")
	}
	b, _ := json.Marshal(tok)
	return b
}

// refused reports whether encoding/json refuses raw for a field of type
// ft with the options opts (",string" or none), decoding it alone in
// such a field.
func refused(ft reflect.Type, raw []byte, opts string) bool {
	st := reflect.StructOf([]reflect.StructField{{Name: "V", Type: ft, Tag: reflect.StructTag(`json:"v` + opts + `"`)}})
	doc := make([]byte, 0, len(raw)+6)
	doc = append(append(append(doc, `{"v":`...), raw...), '}')
	return json.Unmarshal(doc, reflect.New(st).Interface()) != nil
}

// hasStringOption reports whether encoding/json reads the field f with
// its ,string option, which applies only to strings, numbers and
// booleans, or unnamed pointers to them.
func hasStringOption(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	if !optionsContain(opts, "string") {
		return false
	}
	ft := f.Type
	if ft.Name() == "" && ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	switch ft.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// optionsContain reports whether the comma-separated options of a json
// tag hold name.
func optionsContain(opts, name string) bool {
	for opt := range strings.SplitSeq(opts, ",") {
		if opt == name {
			return true
		}
	}
	return false
}
