package sanitize_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/microcosm-cc/bluemonday"

	"github.com/httpguard/httpguard/sanitize"
)

func comment(size int) string {
	unit := `<p>Hello <b>world</b>, see <a href="https://example.com/x">this</a> &amp; <i>that</i>.</p><script>alert(1)</script><img src=x onerror=alert(1)>`
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

// BenchmarkSanitize compares the UserContent policy with the same
// bluemonday policy called directly: the floor.
func BenchmarkSanitize(b *testing.B) {
	floor := bluemonday.NewPolicy()
	floor.AllowElements("p", "br", "b", "strong", "i", "em", "u", "s", "del", "ins", "sub", "sup",
		"ul", "ol", "li", "blockquote", "code", "pre", "hr", "h3", "h4", "h5", "h6")
	floor.AllowAttrs("href").OnElements("a")
	floor.AllowURLSchemes("http", "https", "mailto")
	floor.RequireParseableURLs(true)
	floor.AllowRelativeURLs(true)
	floor.RequireNoFollowOnLinks(true)
	floor.AddTargetBlankToFullyQualifiedLinks(true)
	for _, size := range []int{1 << 10, 16 << 10} {
		in := comment(size)
		name := map[int]string{1 << 10: "1KB", 16 << 10: "16KB"}[size]
		b.Run(name+"/impl=httpguard", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_ = sanitize.UserContent().Sanitize(in)
			}
		})
		b.Run(name+"/impl=bluemonday", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_ = floor.Sanitize(in)
			}
		})
	}
}

type benchComment struct {
	Author string `json:"author" sanitize:"trim,nfc" validate:"required,max=64"`
	Email  string `json:"email" sanitize:"trim,lower" validate:"required,email"`
	Body   string `json:"body" sanitize:"html=ugc" validate:"required,max=4000"`
}

type floorComment struct {
	Author string `json:"author" validate:"required,max=64"`
	Email  string `json:"email" validate:"required,email"`
	Body   string `json:"body" validate:"required,max=4000"`
}

// BenchmarkDecodeValidate measures the whole DecodeJSON path against the
// floor: json.Unmarshal, bluemonday on the body and validator, without the
// checks (size, UTF-8, depth, duplicates, trailing data, content type).
func BenchmarkDecodeValidate(b *testing.B) {
	body, _ := json.Marshal(map[string]string{"author": " Alice ", "email": "Alice@Example.com", "body": comment(1 << 10)})
	d := sanitize.MustNew(sanitize.Options{})
	v := validator.New(validator.WithRequiredStructEnabled())
	policy := sanitize.UserContent()
	w := httptest.NewRecorder()
	b.Run("impl=httpguard", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
			if _, err := sanitize.DecodeJSON[benchComment](d, w, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
			var c floorComment
			if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
				b.Fatal(err)
			}
			c.Author = strings.TrimSpace(c.Author)
			c.Email = strings.ToLower(strings.TrimSpace(c.Email))
			c.Body = policy.Sanitize(c.Body)
			if err := v.Struct(&c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBodyLimit(b *testing.B) {
	m, _ := sanitize.NewBodyLimit(sanitize.BodyOptions{})
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkStringOptionRefusal measures the refusal of a large body whose
// last member is a value of the wrong type for a field with the ,string
// option, which before Go 1.27 costs a second pass to find the field,
// against the acceptance of the same body with a valid last member.
func BenchmarkStringOptionRefusal(b *testing.B) {
	type target struct {
		L []int `json:"l"`
		N int   `json:"n,string"`
	}
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 1 << 20})
	ints := strings.TrimSuffix(strings.Repeat("12345,", 150000), ",")
	for _, last := range []string{`"1"`, `"x"`} {
		body := []byte(`{"l":[` + ints + `],"n":` + last + `}`)
		b.Run("n="+last, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				sanitize.Unmarshal[target](d, body)
			}
		})
	}
}
