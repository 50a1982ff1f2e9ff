package sanitize

import (
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/internal/formsize"
)

// DecodeForm decodes an application/x-www-form-urlencoded request body
// into a value of type T, with the same limits, sanitizing and validation
// as [DecodeJSON]. Fields are matched by their `form` tag, else their
// `json` tag, else their name, exactly; two fields of one name are a
// programming error (ErrTarget, 500) once that name is sent. Supported
// field types are strings, booleans, integers, floats, pointers to them
// and slices of them; a field of another type (a nested struct, a
// time.Time, a map, a pointer to a slice) is a programming error
// (ErrTarget, 500) once its name is sent. A field given twice where
// one value is expected, an unknown field or an unparseable value is
// refused with 400 (unknown) or 422 (type); so is a float that is not
// finite ("NaN", "Inf"), which strconv reads but JSON cannot carry. A key
// or value that is not valid UTF-8 or holds a NUL character is refused
// with 400 (ErrInvalidUTF8), as in JSON. Multipart bodies are refused with
// 415.
//
// When a middleware before the handler has already parsed the form
// (r.PostForm is set, as csrf does in token mode to read its token
// field, which it then takes out of the form), the body is consumed:
// DecodeForm then decodes r.PostForm, with the same checks.
//
// A nil or zero d uses the default Decoder.
func DecodeForm[T any](d *Decoder, w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	d = d.orDefault()
	if err := d.decodeForm(w, r, &v); err != nil {
		d.reject(w, r, err)
		var zero T // never a value that was not sanitized and validated
		return zero, err
	}
	return v, nil
}

// DecodeQuery decodes the URL query of r into a value of type T, like
// [DecodeForm] does a form body. The query is bounded by the server's
// header limits, so no body limit applies.
//
// A nil or zero d uses the default Decoder.
func DecodeQuery[T any](d *Decoder, w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	d = d.orDefault()
	if err := d.decodeValues(r.URL.RawQuery, &v); err != nil {
		d.reject(w, r, err)
		var zero T // never a value that was not sanitized and validated
		return zero, err
	}
	return v, nil
}

func (d *Decoder) decodeForm(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return ErrContentType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return ErrContentType
	}
	if r.PostForm != nil && formBodyMethod(r.Method) {
		// A middleware before the handler parsed the form (csrf does, to
		// read its token field) and consumed the body: decode what it
		// read, or the fields would all be zero. Its decoded size, no
		// more than the body's, is held to MaxBytes.
		if formsize.Parsed(r) > d.maxBytes {
			return ErrTooLarge
		}
		return d.decodeParsed(r.PostForm, dst)
	}
	body, err := d.readBody(w, r)
	if err != nil {
		return err
	}
	return d.decodeValues(string(body), dst)
}

// formBodyMethod reports whether [net/http.Request.ParseForm] reads the
// body of a request with method m.
func formBodyMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func (d *Decoder) decodeValues(raw string, dst any) error {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return ErrMalformed
	}
	return d.decodeParsed(vals, dst)
}

// decodeParsed decodes parsed form or query values into dst.
func (d *Decoder) decodeParsed(vals url.Values, dst any) error {
	for k, vs := range vals {
		for _, v := range append(vs, k) {
			if !validText(v) {
				return ErrInvalidUTF8
			}
		}
	}
	rv := reflect.ValueOf(dst).Elem()
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("%w: form target must be a struct", ErrTarget)
	}
	t := rv.Type()
	seen := 0
	var namesBuf [16]string
	names := namesBuf[:0] // the names of the fields matched so far
	var fieldErrs []FieldError
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := formName(sf)
		if name == "" {
			continue
		}
		vs, ok := vals[name]
		if !ok {
			continue
		}
		// Found in review: with two fields of one name, a key matched
		// twice counted as two keys, and an unknown field passed the
		// count below.
		if slices.Contains(names, name) {
			return fmt.Errorf("%w: %s has two fields named %q", ErrTarget, t.Name(), name)
		}
		names = append(names, name)
		seen++
		if err := setField(rv.Field(i), vs); err != nil {
			switch err {
			case errTwice:
				return ErrDuplicateKey
			case errUnsupported:
				// No value the client could send fits: a programming
				// error, as two fields of one name are. It was answered
				// 422 ("when: must be an object" for a time.Time, "must
				// be a whole number" for a *[]int), blaming the client
				// (found in review).
				return fmt.Errorf("%w: %s.%s: a form cannot fill a field of type %s", ErrTarget, t.Name(), sf.Name, sf.Type)
			}
			fieldErrs = append(fieldErrs, FieldError{Field: name, Rule: "type", Message: mustBe(formKind(sf.Type))})
		}
	}
	if seen < len(vals) && !d.allowUnknown {
		return ErrUnknownField
	}
	if fieldErrs != nil {
		return &FieldErrors{Fields: fieldErrs}
	}
	return d.finish(dst, true)
}

func validText(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s && !strings.ContainsRune(s, 0)
}

func formName(sf reflect.StructField) string {
	for _, key := range []string{"form", "json"} {
		if tag, ok := sf.Tag.Lookup(key); ok {
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				return ""
			}
			if name != "" {
				return name
			}
		}
	}
	return sf.Name
}

type formError string

func (e formError) Error() string { return string(e) }

const (
	errTwice       = formError("given more than once")
	errUnsupported = formError("unsupported field type")
	errNotFinite   = formError("not a finite number")
)

func setField(f reflect.Value, vs []string) error {
	switch f.Kind() {
	case reflect.Slice:
		s := reflect.MakeSlice(f.Type(), len(vs), len(vs))
		for i, v := range vs {
			if err := setScalar(s.Index(i), v); err != nil {
				return err
			}
		}
		f.Set(s)
		return nil
	case reflect.Pointer:
		if len(vs) != 1 {
			return errTwice
		}
		p := reflect.New(f.Type().Elem())
		if err := setScalar(p.Elem(), vs[0]); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	if len(vs) != 1 {
		return errTwice
	}
	return setScalar(f, vs[0])
}

func setScalar(f reflect.Value, v string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(v)
	case reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(v, 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(v, 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(v, f.Type().Bits())
		if err != nil {
			return err
		}
		if math.IsNaN(n) || math.IsInf(n, 0) {
			// ParseFloat reads "NaN" and "Inf", which no JSON body can
			// carry and which slip past one-sided bounds (found in
			// review: "+Inf" passed gt=0).
			return errNotFinite
		}
		f.SetFloat(n)
	default:
		return errUnsupported
	}
	return nil
}

func formKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() == reflect.String {
		return "string"
	}
	return jsonKind(t)
}
