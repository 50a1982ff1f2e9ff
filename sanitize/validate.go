package sanitize

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
)

// FieldError describes one field that failed decoding or validation. It
// never holds the submitted value.
type FieldError struct {
	// Field is the path of the field by its JSON names, such as
	// "address.city" or "tags[2]" (for [DecodeForm] and [DecodeQuery],
	// by its form name, as they read it); a map key, which came from the
	// request, is written "*", as in "labels[*]". "(root)" is the whole
	// value.
	Field string `json:"field"`
	// Rule is the failed rule: a validator tag such as "required",
	// "email" or "max", or "type" for a value of the wrong type.
	Rule string `json:"rule"`
	// Message explains the rule in words, with its parameter, never with
	// the value.
	Message string `json:"message"`
}

// MaxFieldErrors bounds the entries of a [FieldErrors]: once that many
// failures are listed, checking stops at the next failure, and one more
// entry marks the list as cut short, with Field "(more)", Rule "truncated"
// and a message saying that other fields failed too. In a 422 response it
// is the last member of "errors". Found in review: a list body of 300,000
// empty items, 0.9 MB, gave a 20 MB response and allocated 320 MB.
//
// Checking stops between the items of a collection target, but the
// validator checks one struct whole and builds every failure of it, the
// items of a field tagged dive included, before the list is cut: the
// response stays bounded, the work does not. A 1 MiB body of 340,000
// empty strings for a []string field tagged "dive,min=1" allocates about
// 140 MB (30 MB of it to decode). Keep MaxBytes to what a route needs,
// bound such fields with a max rule before dive ("max=100,dive,min=1"
// fails once, on the length), and put a rate limit in front.
const MaxFieldErrors = 100

// The Field and Rule of the entry that ends a list cut short at
// [MaxFieldErrors].
const (
	truncatedField = "(more)"
	truncatedRule  = "truncated"
)

// FieldErrors is the error for a body that decoded but has invalid fields.
// It matches [ErrInvalidFields] with errors.Is.
type FieldErrors struct {
	// Fields lists one entry per failing field and rule, in the order the
	// fields were checked: at most [MaxFieldErrors] of them, and then, if
	// more fields failed, one entry with Field "(more)" and Rule
	// "truncated".
	Fields []FieldError
}

// Error lists the failing fields and rules, never values.
func (e *FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString("sanitize: invalid fields:")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" " + f.Field + " (" + f.Rule + ")")
	}
	return b.String()
}

// Is reports whether target is ErrInvalidFields.
func (e *FieldErrors) Is(target error) bool { return target == ErrInvalidFields }

// fieldErrorList collects at most MaxFieldErrors failures.
type fieldErrorList struct {
	fields []FieldError
	full   bool // a failure past the bound was met: stop checking
	form   bool // name fields by their form names first, not their json names
}

// add appends fe, or, past the bound, the entry that marks the list as
// cut short, after which full is set and nothing more is added.
func (l *fieldErrorList) add(fe FieldError) {
	switch {
	case l.full:
	case len(l.fields) < MaxFieldErrors:
		l.fields = append(l.fields, fe)
	default:
		l.fields = append(l.fields, FieldError{
			Field:   truncatedField,
			Rule:    truncatedRule,
			Message: "more fields failed; only the first " + strconv.Itoa(MaxFieldErrors) + " are listed",
		})
		l.full = true
	}
}

// newValidator returns a validator that names fields as tagName does,
// with form names first if form is set, and knows rules. Everything is
// registered here, before the validator is used: its registration is not
// safe while it validates.
func newValidator(form bool, rules map[string]Rule) *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string { return tagName(f, form) })
	registerRules(v, rules)
	return v
}

// tagName names a field in validation paths by its JSON name, else its
// form name, else its Go name; with form set (for forms and queries,
// found in review: a 422 for the form field "q" named it by its json name
// "query") by formName, the name DecodeForm reads it by. For "" the
// validator uses the Go name.
func tagName(f reflect.StructField, form bool) string {
	if form {
		return formName(f)
	}
	for _, key := range [2]string{"json", "form"} {
		name, _, _ := strings.Cut(f.Tag.Get(key), ",")
		if name == "-" {
			return ""
		}
		if name != "" {
			return name
		}
	}
	return f.Name
}

// validateValue validates the struct dst points to, or the structs it
// holds through pointers, slices, arrays or map values, naming fields by
// their form names first if form is set.
func (d *Decoder) validateValue(dst any, form bool) error {
	out := fieldErrorList{form: form}
	var buf [64]byte // the path of the value being walked
	if err := d.validateIn(reflect.ValueOf(dst), buf[:0], &out); err != nil {
		return err
	}
	if out.fields == nil {
		return nil
	}
	return &FieldErrors{Fields: out.fields}
}

// validateIn validates the struct v, or each struct v holds through
// pointers, slices, arrays or map values, as the validator validates the
// elements of a struct field with a `dive` tag (found in review: a
// []Comment target skipped validation). The failures are added to out
// with path, the path of v, in front; the walk stops once out is full.
// path is made a string only for a failure, so that walking a valid list
// allocates nothing for the paths of its items.
//
// A nil pointer met on the walk is the target itself or an item of a
// collection target (struct fields are left to the validator and their
// tags): it is refused with the rule "type" at its path, "(root)" for the
// target (found in review: DecodeJSON[*Comment] returned (nil, nil) for
// the body null, and DecodeJSON[[]*T] returned [nil] for [null]).
func (d *Decoder) validateIn(v reflect.Value, path []byte, out *fieldErrorList) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			out.add(FieldError{Field: pathOr(string(path)), Rule: "type", Message: mustBe(jsonKind(v.Type().Elem()))})
			return nil
		}
		return d.validateIn(v.Elem(), path, out)
	case reflect.Slice, reflect.Array:
		if !needsWalk(v.Type()) {
			return nil // no struct and no pointer: no need to visit every item
		}
		for i := 0; i < v.Len() && !out.full; i++ {
			item := append(strconv.AppendInt(append(path, '['), int64(i), 10), ']')
			if err := d.validateIn(v.Index(i), item, out); err != nil {
				return err
			}
		}
	case reflect.Map:
		if !needsWalk(v.Type()) {
			return nil
		}
		// The keys came from the request: they are never shown, but they
		// order the walk, so that the failures are listed in the same
		// order for the same body.
		keys := v.MapKeys()
		slices.SortFunc(keys, compareKeys)
		for _, k := range keys {
			if out.full {
				break
			}
			if err := d.validateIn(v.MapIndex(k), append(path, "[*]"...), out); err != nil {
				return err
			}
		}
	case reflect.Struct:
		return d.validateStruct(v, path, out)
	}
	return nil
}

// pathOr returns path, or "(root)" for the empty path.
func pathOr(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

// needsWalk reports whether the items of t, a slice, array or map type,
// must be visited: they hold structs or pointers, directly or through
// slices, arrays or map values.
func needsWalk(t reflect.Type) bool {
	for range maxElems {
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		case reflect.Pointer, reflect.Struct:
			return true
		default:
			return false
		}
	}
	return false // a type made of itself, holding neither
}

// compareKeys orders map keys of the kinds encoding/json decodes into:
// strings, integers, and types that unmarshal text (by their text).
func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.String:
		return strings.Compare(a.String(), b.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmp.Compare(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return cmp.Compare(a.Uint(), b.Uint())
	}
	return strings.Compare(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
}

// validateStruct validates the struct v, adding its failures to out with
// path in front.
func (d *Decoder) validateStruct(v reflect.Value, path []byte, out *fieldErrorList) error {
	err := d.structErrors(v, out.form)
	if err == nil {
		return d.structLevel(v, path, out)
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		if errors.Is(err, ErrTarget) {
			return err // a rule that panicked
		}
		return fmt.Errorf("%w: %v", ErrTarget, err)
	}
	for _, fe := range verrs {
		if out.full {
			break
		}
		field := fieldPath(fe.Namespace(), v.Type(), out.form)
		switch {
		case len(path) == 0:
		case field == "(root)":
			field = string(path)
		default:
			field = string(path) + "." + field
		}
		out.add(FieldError{Field: field, Rule: fe.Tag(), Message: d.message(fe)})
	}
	return nil
}

// fieldPath turns ns, a validator namespace in the struct type t, into the
// path reported to the client: without the type name, and with each map key,
// which came from the request, replaced by "*" (found in review: a 422 echoed
// a map key, markup and secrets included, and so did FieldErrors.Error in
// logs). A validator namespace writes a key as it is, "m[KEY]", so ns is read
// by t, and only what t itself provides is copied: field names, item indexes,
// and "[*]" for a key; the Go name of an untagged embedded struct is passed
// over, as typeErrorPath does. A key is taken to end at the first "]": a key
// holding "]" may shift the reported path, but what is copied still comes
// from t only. If ns cannot be read by t (an interface field), the path ends
// where the reading stopped.
func fieldPath(ns string, t reflect.Type, form bool) string {
	if t.Name() != "" {
		ns = strings.TrimPrefix(ns, t.Name()+".")
	}
	var b strings.Builder
	for first := true; ns != ""; first = false {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			rest, ok := strings.CutPrefix(ns, ".")
			if first {
				rest, ok = ns, true // the first field has no dot
			}
			f, name := fieldNamed(t, rest, form)
			if !ok || name == "" {
				return pathOr(b.String())
			}
			// An untagged embedded struct, which the validator names by
			// its Go name: in JSON its fields are the outer struct's, so
			// the client knows "note", not "Base.note" (found in review).
			promoted := embeddedNamed(t, f.Name) != nil
			ns, t = rest[len(name):], f.Type
			if promoted {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(name)
		case reflect.Slice, reflect.Array:
			digits := strings.TrimLeft(strings.TrimPrefix(ns, "["), "0123456789")
			n := len(ns) - len(digits)
			if !strings.HasPrefix(ns, "[") || n < 2 || !strings.HasPrefix(digits, "]") {
				return pathOr(b.String())
			}
			b.WriteString(ns[:n+1])
			ns, t = digits[1:], t.Elem()
		case reflect.Map:
			end := strings.IndexByte(ns, ']')
			if !strings.HasPrefix(ns, "[") || end < 0 {
				return pathOr(b.String())
			}
			b.WriteString("[*]")
			ns, t = ns[end+1:], t.Elem()
		default:
			return pathOr(b.String())
		}
	}
	return pathOr(b.String())
}

// fieldNamed returns the field of the struct type t whose validator name
// starts ns, followed by the end, "." or "[", and that name; the longest
// such name if several fit, or "" if none does. form is tagName's.
func fieldNamed(t reflect.Type, ns string, form bool) (reflect.StructField, string) {
	var found reflect.StructField
	best := ""
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.Anonymous && !f.IsExported() {
			continue // the validator skips them too
		}
		name := tagName(f, form)
		if name == "" {
			name = f.Name
		}
		rest, ok := strings.CutPrefix(ns, name)
		if ok && len(name) > len(best) && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			found, best = f, name
		}
	}
	return found, best
}

// structErrors runs the validator on the struct v. The validator panics
// on a rule it cannot check on the value it meets ("Bad field type bool"
// for max on a bool), and in an interface field that value's type is the
// client's choice: such a panic is returned as ErrTarget, a programming
// error (found in review: {"data":true} for `validate:"max=3"` on an any
// panicked out of DecodeJSON, with no response written). So is a rule of
// Options.Rules that panics, named without the panic value, which it may
// have made from the value.
func (d *Decoder) structErrors(v reflect.Value, form bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ruleError(p)
		}
	}()
	if form {
		return d.validateForm.Struct(v.Interface())
	}
	return d.validate.Struct(v.Interface())
}

// message explains a failed rule with its parameter, which comes from the
// struct tag, never from the request; a rule of Options.Rules, with its
// Message.
func (d *Decoder) message(fe validator.FieldError) string {
	if r, ok := d.rules[fe.Tag()]; ok {
		return r.Message
	}
	p := fe.Param()
	unit := ""
	if k := fe.Kind(); k == reflect.String {
		unit = " characters"
	} else if k == reflect.Slice || k == reflect.Map || k == reflect.Array {
		unit = " items"
	}
	if p == "1" {
		unit = strings.TrimSuffix(unit, "s") // "at least 1 character"
	}
	if p == "" {
		// Without a parameter, these compare a time.Time with the
		// current time (found in review: "must be greater than ").
		switch fe.Tag() {
		case "gt":
			return "must be later than the current time"
		case "gte":
			return "must be the current time or later"
		case "lt":
			return "must be earlier than the current time"
		case "lte":
			return "must be the current time or earlier"
		}
	}
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_without":
		return "is required"
	case "min":
		return "must be at least " + p + unit
	case "max":
		return "must be at most " + p + unit
	case "len":
		return "must be exactly " + p + unit
	case "gt":
		return "must be greater than " + p + unit
	case "gte":
		return "must be at least " + p + unit
	case "lt":
		return "must be less than " + p + unit
	case "lte":
		return "must be at most " + p + unit
	case "eq":
		return "must equal " + p
	case "ne":
		return "must not equal " + p
	case "oneof":
		return "must be one of: " + p
	case "email":
		return "must be an email address"
	case "url", "http_url":
		return "must be a URL"
	case "uri":
		return "must be a URI"
	case "uuid", "uuid4":
		return "must be a UUID"
	case "alphanum":
		return "must contain only letters and digits"
	case "alpha":
		return "must contain only letters"
	case "numeric", "number":
		return "must be numeric"
	case "ascii", "printascii":
		return "must be ASCII"
	case "excludesall":
		return "contains a forbidden character"
	case "datetime":
		return "must be a date and time in the format " + p
	case "hostname", "hostname_rfc1123", "fqdn":
		return "must be a host name"
	case "ip", "ipv4", "ipv6":
		return "must be an IP address"
	case "dive":
		return "has an invalid item"
	}
	return "failed the " + fe.Tag() + " rule"
}
