package sanitize

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// Rule is a validation rule of the application's, registered under a name
// in [Options.Rules] and named in `validate` tags as a built-in rule is:
// `validate:"required,sku"`. A value it refuses is answered as any failed
// rule is, with a 422 listing the field, the rule's name and Message.
type Rule struct {
	// Func reports whether v, the value of a field tagged with the rule
	// (through pointers: the value pointed to), is valid. It is called
	// concurrently and must not keep v. A nil pointer is refused with
	// the rule's Message without calling Func, unless omitempty or
	// omitnil comes first in the tag. [RuleFor] makes one from a
	// function of a Go type.
	//
	// A panic in Func is recovered: the request is answered 500 as for
	// [ErrTarget], and the panic value is left out of the error (it may
	// hold the value). The Decoder keeps serving.
	Func func(v reflect.Value) bool
	// Message explains the rule in the 422 response, as "must be a SKU
	// such as AB-1234". It is shown for every failure, so it is a
	// constant: never build it from a request. Required: 1 to 200 bytes
	// of UTF-8 without control characters.
	Message string
}

// RuleFor returns a [Rule] that calls fn with the value of a field of type
// T, or of a type of the same kind whose underlying type is T's (a
// type SKU string for a RuleFor[string]), and shows message when fn
// returns false:
//
//	"sku": sanitize.RuleFor(skuPattern.MatchString, "must be a SKU such as AB-1234")
//
// The rule on a field of another type is a programming error, answered 500
// as for [ErrTarget] when such a field is first checked.
func RuleFor[T any](fn func(T) bool, message string) Rule {
	if fn == nil {
		return Rule{Message: message} // refused by New: no Func
	}
	t := reflect.TypeFor[T]()
	return Rule{Message: message, Func: func(v reflect.Value) bool {
		if v.Type() != t {
			if v.Kind() != t.Kind() || !v.Type().ConvertibleTo(t) {
				panic(ruleFault{reason: "is for " + t.String() + " values, not " + v.Type().String()})
			}
			v = v.Convert(t)
		}
		return fn(v.Interface().(T))
	}}
}

// Validator is implemented by a target type that checks more than its
// tags can say, such as an end after its start. DecodeJSON, DecodeForm,
// DecodeQuery and Unmarshal call Validate, through a pointer if the
// method has a pointer receiver, on the target struct, and on each struct
// item of a collection target, once the struct's `validate` tags (and
// those of the structs in its fields) have passed: Validate sees only a
// value whose tag rules hold, and is not called when they fail. Structs
// nested in the fields are not asked: their parent's Validate calls
// theirs where it should.
//
// The entries it returns are answered with a 422 as tag failures are,
// each Field prefixed with the item's path ("[2].end"; an empty Field is
// the struct itself). Field names the field as the body does (its JSON
// name, or form name for a form or query). Rule and Message are shown to
// the client as they are: they must be constants, never text from the
// request. Rule must be a valid rule name (as for [Options.Rules]);
// Message and Field must be at most 200 bytes of UTF-8 without
// control characters, and Message must not be empty. An entry that breaks
// these, or a panic in Validate, is a programming error answered 500 as
// for [ErrTarget]; the entry's text and the panic value are left out of
// the error. At most [MaxFieldErrors] entries are listed.
type Validator interface {
	Validate() []FieldError
}

// maxMessage bounds the bytes of a Rule's Message, and of the Field and
// Message of an entry Validate returns.
const maxMessage = 200

// maxRuleName bounds the bytes of a rule's name.
const maxRuleName = 64

// ruleFault is the panic value a rule of Options.Rules is made to panic
// with when it fails as a program: structErrors turns it into ErrTarget.
type ruleFault struct {
	rule   string
	reason string
}

var validatorType = reflect.TypeFor[Validator]()

// checkRules validates Options.Rules.
func checkRules(rules map[string]Rule) []error {
	var errs []error
	for name, r := range rules {
		switch {
		case !validRuleName(name):
			errs = append(errs, fmt.Errorf("%w: rule %q: a name is 1 to %d letters, digits or _, starting with a letter", ErrOption, name, maxRuleName))
		case name == truncatedRule || name == "type" || builtinRule(name):
			errs = append(errs, fmt.Errorf("%w: rule %q: the name of a built-in rule", ErrOption, name))
		}
		if r.Func == nil {
			errs = append(errs, fmt.Errorf("%w: rule %q: no Func", ErrOption, name))
		}
		if !constantText(r.Message) || r.Message == "" {
			errs = append(errs, fmt.Errorf("%w: rule %q: Message must be 1 to %d bytes of UTF-8 without control characters", ErrOption, name, maxMessage))
		}
	}
	return errs
}

// validRuleName reports whether name can be a rule's name: an ASCII
// letter, then letters, digits or _, at most maxRuleName bytes; none of
// the characters that separate rules and parameters in a tag.
func validRuleName(name string) bool {
	return len(name) <= maxRuleName && httptoken.IsIdentifier(name)
}

// constantText reports whether s is at most maxMessage bytes of UTF-8
// without control characters (C0, DEL, C1).
func constantText(s string) bool {
	if len(s) > maxMessage || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || 0x7f <= r && r < 0xa0 {
			return false
		}
	}
	return true
}

// probeValidator is a validator with only the built-in rules, asked by
// builtinRule.
var probeValidator = sync.OnceValue(func() *validator.Validate { return validator.New() })

// builtinRule reports whether the validator knows name, as a rule, an
// alias or a tag of its own (required, omitempty, dive...). The validator
// exports no list; it panics on a tag it does not know, with a message
// of its own, and on a known one that cannot check an int, with another.
func builtinRule(name string) (known bool) {
	defer func() {
		if p := recover(); p != nil {
			s, _ := p.(string)
			known = !strings.HasPrefix(s, "Undefined validation function")
		}
	}()
	_ = probeValidator().Var(0, name)
	return true
}

// registerRules registers rules on v, before any use: the validator's
// registration is not safe while it validates.
func registerRules(v *validator.Validate, rules map[string]Rule) {
	for name, r := range rules {
		f := r.Func
		err := v.RegisterValidation(name, func(fl validator.FieldLevel) bool {
			if fl.Param() != "" {
				panic(ruleFault{rule: name, reason: "takes no parameter"})
			}
			return callRule(name, f, fl.Field())
		})
		if err != nil {
			panic(err) // New checked the name and the Func
		}
	}
}

// callRule calls f, turning its panic into a ruleFault.
func callRule(name string, f func(reflect.Value) bool, v reflect.Value) bool {
	defer func() {
		if p := recover(); p != nil {
			fault, ok := p.(ruleFault)
			if !ok {
				fault.reason = "panicked"
			}
			fault.rule = name
			panic(fault)
		}
	}()
	return f(v)
}

// paramOnRule returns the name of a rule of d's named with a parameter in
// tag, a `validate` tag, or "". A parameter is refused at the first use
// of the type, even on a field left empty that omitempty would pass.
func (d *Decoder) paramOnRule(tag string) string {
	if len(d.rules) == 0 {
		return ""
	}
	for item := range strings.SplitSeq(tag, ",") {
		for alt := range strings.SplitSeq(item, "|") {
			name, _, hasParam := strings.Cut(strings.TrimSpace(alt), "=")
			if _, ok := d.rules[name]; ok && hasParam {
				return name
			}
		}
	}
	return ""
}

// structLevel calls the Validate method of the struct v, if its type or a
// pointer to it has one, adding the entries it returns to out with path
// in front.
func (d *Decoder) structLevel(v reflect.Value, path []byte, out *fieldErrorList) error {
	var sv Validator
	switch t := v.Type(); {
	case t.Implements(validatorType):
		sv, _ = v.Interface().(Validator)
	case reflect.PointerTo(t).Implements(validatorType):
		if !v.CanAddr() { // a map item: Validate gets a copy
			c := reflect.New(t).Elem()
			c.Set(v)
			v = c
		}
		sv, _ = v.Addr().Interface().(Validator)
	default:
		return nil
	}
	if sv == nil {
		return nil
	}
	entries, err := callValidate(sv, v.Type())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !constantText(e.Field) || !constantText(e.Message) || e.Message == "" || !validRuleName(e.Rule) {
			return fmt.Errorf("%w: %s.Validate returned an entry with an invalid Field, Rule or Message", ErrTarget, v.Type())
		}
	}
	for _, e := range entries {
		if out.full {
			break
		}
		switch {
		case len(path) == 0:
			e.Field = pathOr(e.Field)
		case e.Field == "":
			e.Field = string(path)
		default:
			e.Field = string(path) + "." + e.Field
		}
		out.add(e)
	}
	return nil
}

// callValidate calls sv.Validate, turning a panic into ErrTarget without
// its value.
func callValidate(sv Validator, t reflect.Type) (entries []FieldError, err error) {
	defer func() {
		if recover() != nil {
			entries, err = nil, fmt.Errorf("%w: %s.Validate panicked", ErrTarget, t)
		}
	}()
	return sv.Validate(), nil
}

// ruleError turns the panic value p of a validation into an error.
func ruleError(p any) error {
	if f, ok := p.(ruleFault); ok {
		return fmt.Errorf("%w: the validate rule %q %s", ErrTarget, f.rule, f.reason)
	}
	return fmt.Errorf("%w: a validate rule cannot check the value it met: %v", ErrTarget, p)
}
