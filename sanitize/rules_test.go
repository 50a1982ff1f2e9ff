package sanitize_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/httpguard/httpguard/sanitize"
)

var skuPattern = regexp.MustCompile(`^[A-Z]{2}-[0-9]{4}$`)

// rules are the application's rules the tests register.
var rules = map[string]sanitize.Rule{
	"sku":  sanitize.RuleFor(skuPattern.MatchString, "must be a SKU such as AB-1234"),
	"even": {Func: func(v reflect.Value) bool { return v.Int()%2 == 0 }, Message: "must be even"},
	"boom": {Func: func(v reflect.Value) bool { panic("rule saw " + v.String()) }, Message: "never shown"},
}

// order has tag rules of the application's and a check across fields.
type order struct {
	SKU   string `json:"sku" sanitize:"trim" validate:"required,sku"`
	Qty   int    `json:"qty" validate:"gte=1,even"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

func (o *order) Validate() []sanitize.FieldError {
	if o.End <= o.Start {
		return []sanitize.FieldError{{Field: "end", Rule: "after_start", Message: "must be after start"}}
	}
	return nil
}

// Targets whose rule or Validate is a programming error.
type (
	boomOrder struct {
		Note string `json:"note" validate:"boom"`
	}
	paramOrder struct {
		SKU string `json:"sku" validate:"omitempty,sku=4"`
	}
	wrongType struct {
		N int `json:"n" validate:"sku"`
	}
	panicValidate struct {
		Note string `json:"note"`
	}
	badMessage struct {
		Note string `json:"note"`
	}
	valueValidate struct {
		Note string `json:"note"`
	}
)

func (panicValidate) Validate() []sanitize.FieldError { panic("secret-value") }

func (b badMessage) Validate() []sanitize.FieldError {
	return []sanitize.FieldError{{Field: "note", Rule: "nope", Message: "got " + b.Note}}
}

func (v valueValidate) Validate() []sanitize.FieldError {
	if v.Note == "bad" {
		return []sanitize.FieldError{{Field: "", Rule: "whole", Message: "is not acceptable"}}
	}
	return nil
}

func decodeWith[T any](d *sanitize.Decoder, body string) (*httptest.ResponseRecorder, error) {
	w := httptest.NewRecorder()
	_, err := sanitize.DecodeJSON[T](d, w, post(body, "application/json"))
	return w, err
}

func TestRulesAnswer422(t *testing.T) {
	t.Parallel()
	d := sanitize.MustNew(sanitize.Options{Rules: rules})
	type entry = sanitize.FieldError
	tests := []struct {
		name   string
		decode func(*sanitize.Decoder, string) (*httptest.ResponseRecorder, error)
		body   string
		status int
		errs   []entry
		reason string // in the error of a 500
	}{
		{"a valid order", decodeWith[order], `{"sku":" AB-1234 ","qty":2,"start":1,"end":2}`, 200, nil, ""},
		{"an application rule fails", decodeWith[order], `{"sku":"<script>x</script>","qty":2,"start":1,"end":2}`, 422,
			[]entry{{Field: "sku", Rule: "sku", Message: "must be a SKU such as AB-1234"}}, ""},
		{"two application rules fail", decodeWith[order], `{"sku":"zz-999999","qty":3,"start":1,"end":2}`, 422,
			[]entry{{Field: "sku", Rule: "sku", Message: "must be a SKU such as AB-1234"}, {Field: "qty", Rule: "even", Message: "must be even"}}, ""},
		{"Validate fails after the tags pass", decodeWith[order], `{"sku":"AB-1234","qty":2,"start":5,"end":3}`, 422,
			[]entry{{Field: "end", Rule: "after_start", Message: "must be after start"}}, ""},
		{"Validate is not called when a tag fails", decodeWith[order], `{"sku":"AB-1234","qty":1,"start":5,"end":3}`, 422,
			[]entry{{Field: "qty", Rule: "even", Message: "must be even"}}, ""},
		{"Validate on the items of a collection", decodeWith[[]order], `[{"sku":"AB-1234","qty":2,"start":1,"end":2},{"sku":"AB-1234","qty":2,"start":5,"end":3}]`, 422,
			[]entry{{Field: "[1].end", Rule: "after_start", Message: "must be after start"}}, ""},
		{"Validate with a value receiver, on map items", decodeWith[map[string]valueValidate], `{"k<b>":{"note":"bad"}}`, 422,
			[]entry{{Field: "[*]", Rule: "whole", Message: "is not acceptable"}}, ""},
		{"Validate with a pointer receiver, on a copy of a map item", decodeWith[map[string]order], `{"k<b>":{"sku":"AB-1234","qty":2,"start":5,"end":3}}`, 422,
			[]entry{{Field: "[*].end", Rule: "after_start", Message: "must be after start"}}, ""},
		{"Validate on a pointer target", decodeWith[*order], `{"sku":"AB-1234","qty":2,"start":5,"end":3}`, 422,
			[]entry{{Field: "end", Rule: "after_start", Message: "must be after start"}}, ""},
		{"a rule that panics", decodeWith[boomOrder], `{"note":"secret-value"}`, 500, nil, `the validate rule "boom" panicked`},
		{"a parameter on an application rule, even on an empty value", decodeWith[paramOrder], `{"sku":""}`, 500, nil, `paramOrder.SKU: the validate rule "sku" takes no parameter`},
		{"a rule for strings on an int field", decodeWith[wrongType], `{"n":1}`, 500, nil, `the validate rule "sku" is for string values, not int`},
		{"a Validate that panics", decodeWith[panicValidate], `{"note":"secret-value"}`, 500, nil, `panicValidate.Validate panicked`},
		{"a Validate whose message holds a control character", decodeWith[badMessage], `{"note":"secret-value\n"}`, 500, nil, `badMessage.Validate returned an entry with an invalid Field, Rule or Message`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.decode(d, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d (%v): %s", w.Code, tt.status, err, w.Body)
			}
			if strings.Contains(w.Body.String(), "secret-value") || strings.Contains(w.Body.String(), "script") ||
				strings.Contains(w.Body.String(), "zz-") || strings.Contains(w.Body.String(), "k<b>") {
				t.Errorf("the response echoes the request: %s", w.Body)
			}
			if err != nil && strings.Contains(err.Error(), "secret-value") {
				t.Errorf("the error names a value: %v", err)
			}
			switch tt.status {
			case 200:
				if err != nil {
					t.Fatal(err)
				}
				return
			case 500:
				if !errors.Is(err, sanitize.ErrTarget) || !strings.Contains(err.Error(), tt.reason) {
					t.Errorf("err = %v, want ErrTarget: %s", err, tt.reason)
				}
				return
			}
			var doc struct {
				Errors []entry `json:"errors"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.Errors, tt.errs) {
				t.Errorf("errors = %+v, want %+v", doc.Errors, tt.errs)
			}
			var fe *sanitize.FieldErrors
			if !errors.As(err, &fe) || !reflect.DeepEqual(fe.Fields, tt.errs) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// A rule or Validate that panicked leaves the Decoder as it was: the
// same Decoder, shared by concurrent requests, keeps answering.
func TestRulesConcurrentAfterPanics(t *testing.T) {
	t.Parallel()
	d := sanitize.MustNew(sanitize.Options{Rules: rules})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if w, _ := decodeWith[boomOrder](d, `{"note":"x"}`); w.Code != 500 {
					t.Errorf("panicking rule: %d", w.Code)
				}
				if w, _ := decodeWith[panicValidate](d, `{"note":"x"}`); w.Code != 500 {
					t.Errorf("panicking Validate: %d", w.Code)
				}
				body := `{"sku":"AB-1234","qty":2,"start":1,"end":2}`
				if i%2 == 1 {
					body = `{"sku":"AB-1234","qty":2,"start":3,"end":2}`
				}
				w, _ := decodeWith[order](d, body)
				if want := 200 + 222*(i%2); w.Code != want {
					t.Errorf("order: %d, want %d", w.Code, want)
				}
			}
		})
	}
	wg.Wait()
}

// Validate is called by DecodeForm and Unmarshal too.
func TestValidateInFormsAndUnmarshal(t *testing.T) {
	t.Parallel()
	d := sanitize.MustNew(sanitize.Options{Rules: rules})
	if _, err := sanitize.Unmarshal[order](d, []byte(`{"sku":"AB-1234","qty":2,"start":3,"end":2}`)); err == nil ||
		err.Error() != "sanitize: invalid fields: end (after_start)" {
		t.Errorf("Unmarshal: %v", err)
	}
	type formOrder struct {
		SKU   string `form:"sku" validate:"sku"`
		Start int    `form:"start"`
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("sku=ab-1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := sanitize.DecodeForm[formOrder](d, w, r); w.Code != 422 || !strings.Contains(w.Body.String(), `"rule":"sku"`) {
		t.Errorf("DecodeForm: %d %v %s", w.Code, err, w.Body)
	}
}

func TestNewRefusesBadRules(t *testing.T) {
	t.Parallel()
	ok := func(reflect.Value) bool { return true }
	tests := []struct {
		name  string
		rules map[string]sanitize.Rule
	}{
		{"an empty name", map[string]sanitize.Rule{"": {Func: ok, Message: "m"}}},
		{"a name with a parameter", map[string]sanitize.Rule{"sku=4": {Func: ok, Message: "m"}}},
		{"a name with a comma", map[string]sanitize.Rule{"a,b": {Func: ok, Message: "m"}}},
		{"a name with a bar", map[string]sanitize.Rule{"a|b": {Func: ok, Message: "m"}}},
		{"a name with a space", map[string]sanitize.Rule{"a b": {Func: ok, Message: "m"}}},
		{"a name starting with a digit", map[string]sanitize.Rule{"4sku": {Func: ok, Message: "m"}}},
		{"a name too long", map[string]sanitize.Rule{strings.Repeat("a", 65): {Func: ok, Message: "m"}}},
		{"a built-in rule", map[string]sanitize.Rule{"email": {Func: ok, Message: "m"}}},
		{"required", map[string]sanitize.Rule{"required": {Func: ok, Message: "m"}}},
		{"omitempty", map[string]sanitize.Rule{"omitempty": {Func: ok, Message: "m"}}},
		{"dive", map[string]sanitize.Rule{"dive": {Func: ok, Message: "m"}}},
		{"a built-in alias", map[string]sanitize.Rule{"iscolor": {Func: ok, Message: "m"}}},
		{"the rule of a decoding error", map[string]sanitize.Rule{"type": {Func: ok, Message: "m"}}},
		{"the rule of a cut list", map[string]sanitize.Rule{"truncated": {Func: ok, Message: "m"}}},
		{"no Func", map[string]sanitize.Rule{"sku": {Message: "m"}}},
		{"no Message", map[string]sanitize.Rule{"sku": {Func: ok}}},
		{"a Message with a newline", map[string]sanitize.Rule{"sku": {Func: ok, Message: "must be\na SKU"}}},
		{"a Message with DEL", map[string]sanitize.Rule{"sku": {Func: ok, Message: "must be\x7f"}}},
		{"a Message of invalid UTF-8", map[string]sanitize.Rule{"sku": {Func: ok, Message: "must be \xff"}}},
		{"a Message too long", map[string]sanitize.Rule{"sku": {Func: ok, Message: strings.Repeat("m", 201)}}},
		{"RuleFor with a nil func", map[string]sanitize.Rule{"sku": sanitize.RuleFor[string](nil, "m")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := sanitize.New(sanitize.Options{Rules: tt.rules})
			if err == nil || d != nil {
				t.Fatalf("New = %v, %v; want an error", d, err)
			}
			if !errors.Is(err, sanitize.ErrOption) {
				t.Errorf("err = %v, want ErrOption", err)
			}
		})
	}
	d, err := sanitize.New(sanitize.Options{Rules: map[string]sanitize.Rule{"sku_v2": {Func: ok, Message: "must be a SKU (v2)"}}})
	if err != nil || d == nil {
		t.Fatalf("New with a valid rule: %v", err)
	}
	// Every problem is reported, not only the first.
	_, err = sanitize.New(sanitize.Options{Rules: map[string]sanitize.Rule{"email": {Func: ok, Message: "m"}, "sku": {Func: ok}}})
	if err == nil || !strings.Contains(err.Error(), `"email"`) || !strings.Contains(err.Error(), `"sku"`) {
		t.Errorf("err = %v, want both rules named", err)
	}
}

// Without Options.Rules a tag naming an application's rule is a
// programming error, as any unknown rule is.
func TestUnregisteredRuleIsATargetError(t *testing.T) {
	t.Parallel()
	w, err := decodeWith[order](nil, `{"sku":"AB-1234","qty":2,"start":1,"end":2}`)
	if w.Code != 500 || !errors.Is(err, sanitize.ErrTarget) {
		t.Errorf("%d %v", w.Code, err)
	}
}
