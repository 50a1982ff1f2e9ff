package sanitize

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// FieldError describes one field that failed decoding or validation. It
// never holds the submitted value.
type FieldError struct {
	// Field is the path of the field by its JSON (or form) names, such as
	// "address.city" or "tags[2]".
	Field string `json:"field"`
	// Rule is the failed rule: a validator tag such as "required",
	// "email" or "max", or "type" for a value of the wrong type.
	Rule string `json:"rule"`
	// Message explains the rule in words, with its parameter, never with
	// the value.
	Message string `json:"message"`
}

// FieldErrors is the error for a body that decoded but has invalid fields.
// It matches [ErrInvalidFields] with errors.Is.
type FieldErrors struct {
	// Fields lists one entry per failing field and rule, in the order the
	// fields were checked.
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

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		for _, key := range []string{"json", "form"} {
			name, _, _ := strings.Cut(f.Tag.Get(key), ",")
			if name == "-" {
				return ""
			}
			if name != "" {
				return name
			}
		}
		return f.Name
	})
	return v
}

func (d *Decoder) validateValue(dst any) error {
	v := reflect.ValueOf(dst)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil // validator validates structs; other targets have no tags
	}
	err := d.validate.Struct(v.Interface())
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return fmt.Errorf("%w: %v", ErrTarget, err)
	}
	out := &FieldErrors{Fields: make([]FieldError, 0, len(verrs))}
	for _, fe := range verrs {
		out.Fields = append(out.Fields, FieldError{
			Field:   fieldPath(fe.Namespace()),
			Rule:    fe.Tag(),
			Message: message(fe),
		})
	}
	return out
}

// fieldPath drops the struct type name that starts a validator namespace.
func fieldPath(ns string) string {
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

// message explains a failed rule with its parameter, which comes from the
// struct tag, never from the request.
func message(fe validator.FieldError) string {
	p := fe.Param()
	unit := ""
	if k := fe.Kind(); k == reflect.String {
		unit = " characters"
	} else if k == reflect.Slice || k == reflect.Map || k == reflect.Array {
		unit = " items"
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
