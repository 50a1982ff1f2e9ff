package sanitize_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/sanitize"
)

// The zero and nil values of BodyLimit and Decoder are the defaults, as
// the zero Middleware of headers, csrf and errorsafe is New(Options{}).
func TestZeroAndNilAreTheDefaults(t *testing.T) {
	t.Parallel()
	limits := map[string]*sanitize.BodyLimit{
		"zero BodyLimit": {},
		"nil BodyLimit":  nil,
		"default":        mustBodyLimit(t),
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	bodies := []struct {
		name, contentType, body string
		want                    int
	}{
		{"a small JSON body passes", "application/json", `{"a":1}`, http.StatusNoContent},
		{"a form is refused", "application/x-www-form-urlencoded", "a=1", http.StatusUnsupportedMediaType},
		{"a body over DefaultMaxBytes is refused", "application/json", strings.Repeat(" ", sanitize.DefaultMaxBytes+1), http.StatusRequestEntityTooLarge},
	}
	for name, m := range limits {
		for _, b := range bodies {
			t.Run(name+": "+b.name, func(t *testing.T) {
				r := httptest.NewRequest("POST", "/", strings.NewReader(b.body))
				r.Header.Set("Content-Type", b.contentType)
				w := httptest.NewRecorder()
				m.Handler(ok).ServeHTTP(w, r)
				if w.Code != b.want {
					t.Errorf("status %d, want %d", w.Code, b.want)
				}
			})
		}
	}

	type item struct {
		Name string `json:"name" validate:"required"`
	}
	for name, d := range map[string]*sanitize.Decoder{"zero Decoder": {}, "nil Decoder": nil} {
		t.Run(name+" decodes as New(Options{})", func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(`{"name":"x"}`))
			r.Header.Set("Content-Type", "application/json")
			got, err := sanitize.DecodeJSON[item](d, httptest.NewRecorder(), r)
			if err != nil || got.Name != "x" {
				t.Fatalf("DecodeJSON = %+v, %v", got, err)
			}
			r = httptest.NewRequest("POST", "/", strings.NewReader(`{"name":"x","extra":1}`))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			if _, err := sanitize.DecodeJSON[item](d, w, r); err == nil || w.Code != http.StatusBadRequest {
				t.Errorf("unknown field: err %v, status %d; want the default refusal with 400", err, w.Code)
			}
		})
	}
}

func mustBodyLimit(t *testing.T) *sanitize.BodyLimit {
	t.Helper()
	m, err := sanitize.NewBodyLimit(sanitize.BodyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
