package sanitize_test

//lint:file-ignore SA5008 the odd json tags are the cases the decoder must read as encoding/json does
//lint:file-ignore U1000 unexported fields are among those cases: encoding/json ignores them

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/sanitize"
)

type nameAccount struct {
	Role string `json:"role"`
	Kind string `json:"kind,omitempty"`
	Sub  string `json:"sub"`
}

type nameBase struct {
	Owner string `json:"owner"`
	Note  string // untagged: exposed as "Note"
}

type nameAmbiguousA struct{ Dup string }
type nameAmbiguousB struct{ Dup string }

type nameTarget struct {
	nameBase
	*nameAmbiguousA
	*nameAmbiguousB                         // with nameAmbiguousA: "Dup" is exposed by neither
	Role            string                  `json:"role"`
	Secret          string                  `json:"-"`
	Dash            string                  `json:"-,"`
	Account         nameAccount             `json:"account"`
	Items           []nameAccount           `json:"items"`
	ByID            map[string]*nameAccount `json:"byId"`
	Pair            [2]nameAccount          `json:"pair"`
	Raw             json.RawMessage         `json:"raw"`
	Any             any                     `json:"any"`
	When            time.Time               `json:"when"`
	Custom          nameCustom              `json:"custom"`
	hidden          string
}

// nameCustom decodes its own content: its member names are its business.
type nameCustom struct{ Seen string }

func (c *nameCustom) UnmarshalJSON(b []byte) error {
	c.Seen = string(b)
	return nil
}

// TestMemberNamesMatchExactly checks that a member matches a field only by
// its exact name. encoding/json matches case-insensitively, Unicode folds
// included ("ſ" for "s", the Kelvin sign for "k"), so a gateway that reads
// {"ROLE":"admin"} as an unknown member let Go set the field role.
func TestMemberNamesMatchExactly(t *testing.T) {
	t.Parallel()
	lenient := sanitize.MustNew(sanitize.Options{AllowUnknownFields: true})
	manyMembers := "{" // past 16 keys, the scan keeps an object's keys in a set
	for i := range 17 {
		manyMembers += fmt.Sprintf(`"u%02d":0,`, i)
	}
	tests := []struct {
		name    string
		body    string
		lenient bool // decode with AllowUnknownFields
		wantErr error
	}{
		{"exact names are accepted", `{"role":"user","account":{"role":"u","kind":"k","sub":"s"},"owner":"o","Note":"n","-":"d"}`, false, nil},
		{"an upper-case name is refused", `{"ROLE":"admin"}`, false, sanitize.ErrUnknownField},
		{"a mixed-case name is refused", `{"rOlE":"admin"}`, false, sanitize.ErrUnknownField},
		{"a capitalised name is refused", `{"Role":"admin"}`, false, sanitize.ErrUnknownField},
		{"an escaped upper-case name is refused", `{"\u0052ole":"admin"}`, false, sanitize.ErrUnknownField},
		{"the long s for s is refused", `{"account":{"ſub":"admin"}}`, false, sanitize.ErrUnknownField},
		{"the escaped long s is refused", `{"account":{"\u017fub":"admin"}}`, false, sanitize.ErrUnknownField},
		{"the Kelvin sign for k is refused", "{\"account\":{\"\u212aind\":\"admin\"}}", false, sanitize.ErrUnknownField},
		{"a case variant in a nested struct is refused", `{"account":{"Role":"admin"}}`, false, sanitize.ErrUnknownField},
		{"a case variant of a nested struct's name is refused", `{"Account":{"role":"admin"}}`, false, sanitize.ErrUnknownField},
		{"a case variant in a slice of structs is refused", `{"items":[{"role":"u"},{"ROLE":"admin"}]}`, false, sanitize.ErrUnknownField},
		{"a case variant in a map value is refused", `{"byId":{"a":{"role":"u"},"b":{"rolE":"admin"}}}`, false, sanitize.ErrUnknownField},
		{"a case variant in an array of structs is refused", `{"pair":[{"role":"u"},{"Sub":"x"}]}`, false, sanitize.ErrUnknownField},
		{"map keys are free", `{"byId":{"A":{"role":"u"},"ROLE":{"role":"v"}}}`, false, nil},
		{"a promoted field by its exact name is accepted", `{"owner":"o","Note":"n"}`, false, nil},
		{"a case variant of a promoted tagged field is refused", `{"OWNER":"o"}`, false, sanitize.ErrUnknownField},
		{"a case variant of a promoted untagged field is refused", `{"note":"n"}`, false, sanitize.ErrUnknownField},
		{"a json:\"-\" field by its name is unknown", `{"Secret":"s"}`, false, sanitize.ErrUnknownField},
		{"a json:\"-\" field in another case is unknown", `{"secret":"s"}`, false, sanitize.ErrUnknownField},
		{"a json:\"-\" field in another case is dropped with unknown fields allowed", `{"SECRET":"s"}`, true, nil},
		{"a json:\"-,\" field is named -", `{"-":"d"}`, false, nil},
		{"an ambiguous promoted name is unknown", `{"Dup":"x"}`, false, sanitize.ErrUnknownField},
		{"an ambiguous promoted name in another case is dropped with unknown fields allowed", `{"dup":"x"}`, true, nil},
		{"an unexported field's name is unknown", `{"hidden":"x"}`, false, sanitize.ErrUnknownField},
		{"a raw message's content is its own", `{"raw":{"ROLE":"admin","Items":[{"Role":1}]}}`, false, nil},
		{"an any's content is its own", `{"any":{"ROLE":"admin","items":[{"Role":1}]}}`, false, nil},
		{"an unmarshaler's content is its own", `{"custom":{"ROLE":"admin"}}`, false, nil},
		{"a text unmarshaler's string is its own", `{"when":"2024-01-02T03:04:05Z"}`, false, nil},
		{"an unknown member is refused", `{"nickname":"x"}`, false, sanitize.ErrUnknownField},
		{"an unknown member is dropped with unknown fields allowed", `{"nickname":"x","account":{"x":1}}`, true, nil},
		{"a case variant is refused with unknown fields allowed", `{"ROLE":"admin"}`, true, sanitize.ErrUnknownField},
		{"a nested case variant is refused with unknown fields allowed", `{"items":[{"Role":"admin"}]}`, true, sanitize.ErrUnknownField},
		{"the Kelvin sign is refused with unknown fields allowed", "{\"account\":{\"\u212aind\":\"admin\"}}", true, sanitize.ErrUnknownField},
		{"a case variant after 16 other members is refused", manyMembers + `"ROLE":"admin"}`, true, sanitize.ErrUnknownField},
		{"exact names after 16 other members are accepted", manyMembers + `"role":"user"}`, true, nil},
		{"a case variant inside an unknown member is not looked at", `{"nickname":{"ROLE":"admin"}}`, true, nil},
		{"a case variant under a value of the wrong type is a type error", `{"account":[{"ROLE":"x"}]}`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := (*sanitize.Decoder)(nil)
			if tt.lenient {
				d = lenient
			}
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			got, err := sanitize.DecodeJSON[nameTarget](d, w, r)
			if tt.name == "a case variant under a value of the wrong type is a type error" {
				if w.Code != 422 {
					t.Errorf("err %v, status %d; want a 422 type error", err, w.Code)
				}
				return
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err %v, status %d (%s)", err, w.Code, w.Body)
				}
				if got.Role == "admin" || got.Account.Sub == "admin" || got.Account.Kind == "admin" {
					t.Errorf("a case variant set a field: %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || w.Code != 400 {
				t.Errorf("err %v, status %d; want %v, 400", err, w.Code, tt.wantErr)
			}
			if strings.Contains(w.Body.String(), "ole") || strings.Contains(w.Body.String(), "ub") {
				t.Errorf("the response names the member: %s", w.Body)
			}
		})
	}
}

// TestCollectionTargetsMatchNamesExactly checks targets that are not
// structs: their items are matched as fields of that type would be.
func TestCollectionTargetsMatchNamesExactly(t *testing.T) {
	t.Parallel()
	decode := func(t *testing.T, body string, f func(w http.ResponseWriter, r *http.Request) error) (int, error) {
		t.Helper()
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		err := f(w, r)
		return w.Code, err
	}
	tests := []struct {
		name   string
		body   string
		decode func(w http.ResponseWriter, r *http.Request) error
		ok     bool
	}{
		{"a slice", `[{"role":"u"},{"Role":"admin"}]`, func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[[]nameAccount](nil, w, r)
			return err
		}, false},
		{"a pointer", `{"ROLE":"admin"}`, func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[*nameAccount](nil, w, r)
			return err
		}, false},
		{"a map of slices of pointers", `{"K":[{"role":"u"},{"ſub":"admin"}]}`, func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[map[string][]*nameAccount](nil, w, r)
			return err
		}, false},
		{"an array", `[{"role":"u"},{"roLe":"admin"}]`, func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[[2]nameAccount](nil, w, r)
			return err
		}, false},
		{"a map with exact names", `{"K":[{"role":"u"},{"sub":"admin"}]}`, func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[map[string][]*nameAccount](nil, w, r)
			return err
		}, true},
		{"any", `{"ROLE":[{"Role":1}]}`, func(w http.ResponseWriter, r *http.Request) error {
			_, err := sanitize.DecodeJSON[map[string]any](nil, w, r)
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := decode(t, tt.body, tt.decode)
			if tt.ok {
				if err != nil {
					t.Errorf("err %v, status %d", err, code)
				}
				return
			}
			if !errors.Is(err, sanitize.ErrUnknownField) || code != 400 {
				t.Errorf("err %v, status %d; want %v, 400", err, code, sanitize.ErrUnknownField)
			}
		})
	}
}
