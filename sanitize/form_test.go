package sanitize_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/sanitize"
)

type search struct {
	Query string   `form:"q" sanitize:"trim" validate:"required,max=50"`
	Page  int      `form:"page" validate:"gte=0,lte=1000"`
	Tags  []string `form:"tag" sanitize:"trim,lower"`
	Exact *bool    `form:"exact"`
}

func TestDecodeFormAndQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		form    string // "" means query
		query   string
		ct      string
		status  int
		wantErr error
	}{
		{"a valid form", "q=+go+&page=2&tag=A&tag=+b&exact=true", "", "application/x-www-form-urlencoded", 200, nil},
		{"a valid query", "", "q=go&page=2&tag=A", "", 200, nil},
		{"an unknown field", "q=go&admin=1", "", "application/x-www-form-urlencoded", 400, sanitize.ErrUnknownField},
		{"a scalar given twice", "q=go&q=evil", "", "application/x-www-form-urlencoded", 400, sanitize.ErrDuplicateKey},
		{"a number out of range for int", "q=go&page=99999999999999999999", "", "application/x-www-form-urlencoded", 422, sanitize.ErrInvalidFields},
		{"a validation failure", "q=go&page=5000", "", "application/x-www-form-urlencoded", 422, sanitize.ErrInvalidFields},
		{"a bad escape", "q=%zz", "", "application/x-www-form-urlencoded", 400, sanitize.ErrMalformed},
		{"invalid UTF-8", "q=%ff%fe", "", "application/x-www-form-urlencoded", 400, sanitize.ErrInvalidUTF8},
		{"multipart is refused", "q=go", "", "multipart/form-data; boundary=x", 415, sanitize.ErrContentType},
		{"JSON is refused by the form decoder", `{"q":"go"}`, "", "application/json", 415, sanitize.ErrContentType},
		{"a query with an unknown field", "", "q=go&debug=1", "", 400, sanitize.ErrUnknownField},
		{"a query failing validation", "", "page=1", "", 422, sanitize.ErrInvalidFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			var got search
			var err error
			if tt.form != "" {
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.form))
				r.Header.Set("Content-Type", tt.ct)
				got, err = sanitize.DecodeForm[search](nil, w, r)
			} else {
				got, err = sanitize.DecodeQuery[search](nil, w, httptest.NewRequest(http.MethodGet, "/?"+tt.query, nil))
			}
			if tt.status == 200 {
				if err != nil {
					t.Fatalf("err = %v (%s)", err, w.Body)
				}
				if got.Query != "go" || got.Page != 2 || got.Tags[0] != "a" {
					t.Errorf("decoded %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || w.Code != tt.status {
				t.Errorf("err %v status %d, want %v %d", err, w.Code, tt.wantErr, tt.status)
			}
			for _, leak := range []string{"evil", "admin", "debug", "99999", "5000"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("response reflects %q: %s", leak, w.Body)
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	m, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	var readErr error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		for readErr == nil {
			_, readErr = r.Body.Read(buf)
		}
	}))
	tests := []struct {
		name   string
		body   string
		ct     string
		length int64 // -1: unknown
		status int
	}{
		{"a small JSON body passes", `{"a":1}`, "application/json", 7, 200},
		{"a large declared body is refused before the handler", strings.Repeat("x", 17), "application/json", 17, 413},
		{"a body growing past the limit fails the read", strings.Repeat("x", 100), "application/json", -1, 200},
		{"a wrong content type", `a=1`, "application/x-www-form-urlencoded", 3, 415},
		{"no content type", `{}`, "", 2, 415},
		{"a +json type outside application/", `{}`, "text/x+json", 2, 415},
		{"an application/*+json type passes", `{}`, "application/merge-patch+json", 2, 200},
		{"no body passes whatever the type", ``, "", 0, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readErr = nil
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.ContentLength = tt.length
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if tt.length == -1 {
				var mbe *http.MaxBytesError
				if !errors.As(readErr, &mbe) {
					t.Errorf("read error %v, want MaxBytesError", readErr)
				}
			}
		})
	}
	if _, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: -1, ContentTypes: []string{"text/html; charset=utf-8"}}); !errors.Is(err, sanitize.ErrOption) {
		t.Errorf("bad options: %v", err)
	}
}

// countingReader counts the bytes its reader delivered.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// Regression for labstack/echo#3071: echo's BodyLimit counted the bytes
// after each Read and still handed the caller the whole buffer, and more
// on later reads, so a reader that uses the bytes before the error (as
// io.Reader asks, and as encoding/json's Decoder does) got the entire
// oversized body. Behind BodyLimit a handler never receives a byte past
// MaxBytes, however it reads, when the length is not declared up front.
func TestRegressionEcho3071NoBytePastTheLimitReachesTheHandler(t *testing.T) {
	t.Parallel()
	const limit = 16
	m, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"a":"` + strings.Repeat("x", 50) + `"}` // one JSON value of 58 bytes
	readers := []struct {
		name string
		read func(r io.Reader) (int, error) // bytes delivered, and the error that ended the read
	}{
		{"io.ReadAll", func(r io.Reader) (int, error) {
			b, err := io.ReadAll(r)
			return len(b), err
		}},
		{"one Read larger than the body, then the rest", func(r io.Reader) (int, error) {
			buf := make([]byte, 4096)
			total := 0
			for {
				n, err := r.Read(buf)
				total += n
				if err != nil {
					return total, err
				}
			}
		}},
		{"encoding/json Decoder", func(r io.Reader) (int, error) {
			c := &countingReader{r: r}
			var v struct{ A string }
			err := json.NewDecoder(c).Decode(&v)
			return c.n, err
		}},
	}
	for i, tt := range readers {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			type result struct {
				delivered int
				err       error
			}
			done := make(chan result, 1)
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, err := readers[i].read(r.Body)
				done <- result{n, err}
			})))
			defer srv.Close()
			// A reader of unknown length: the client sends the body
			// chunked, without Content-Length.
			req, err := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(strings.NewReader(body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := <-done
			if got.delivered > limit {
				t.Errorf("the handler received %d bytes of a %d-byte body, past the limit of %d", got.delivered, len(body), limit)
			}
			var mbe *http.MaxBytesError
			if !errors.As(got.err, &mbe) {
				t.Errorf("the read ended with %v, want a *http.MaxBytesError", got.err)
			}
		})
	}
}

// Found in review: a middleware that parsed the form before the handler
// (csrf in token mode, to read its token field; or r.FormValue in an
// earlier handler) leaves the body consumed, and DecodeForm decoded the
// empty rest: every field zero, and no error unless a rule required one.
// It now decodes the form that middleware read, with the same checks.
func TestDecodeFormAfterTheFormWasParsed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		method  string
		form    string
		status  int
		wantErr error
	}{
		{"a valid form", "POST", "q=+go+&page=2&tag=A&tag=+b", 200, nil},
		{"a valid PATCH form", "PATCH", "q=go&page=2&tag=a", 200, nil},
		{"an unknown field is still refused", "POST", "q=go&page=2&tag=a&admin=1", 400, sanitize.ErrUnknownField},
		{"a scalar given twice is still refused", "POST", "q=go&q=evil&page=2", 400, sanitize.ErrDuplicateKey},
		{"invalid UTF-8 is still refused", "POST", "q=%ff%fe", 400, sanitize.ErrInvalidUTF8},
		{"validation still runs", "POST", "q=go&page=5000", 422, sanitize.ErrInvalidFields},
		{"an empty form fails its required field", "POST", "", 422, sanitize.ErrInvalidFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/", strings.NewReader(tt.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			got, err := sanitize.DecodeForm[search](nil, w, r)
			if tt.status == 200 {
				if err != nil {
					t.Fatalf("err = %v (%s)", err, w.Body)
				}
				if got.Query != "go" || got.Page != 2 || len(got.Tags) == 0 || got.Tags[0] != "a" {
					t.Errorf("decoded %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || w.Code != tt.status {
				t.Errorf("err %v status %d, want %v %d", err, w.Code, tt.wantErr, tt.status)
			}
		})
	}
}

// A form parsed before DecodeForm is held to MaxBytes like a body.
func TestDecodeFormAfterTheFormWasParsedIsBounded(t *testing.T) {
	t.Parallel()
	d := sanitize.MustNew(sanitize.Options{MaxBytes: 64})
	r := httptest.NewRequest("POST", "/", strings.NewReader("q="+strings.Repeat("a", 100)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := sanitize.DecodeForm[search](d, w, r); !errors.Is(err, sanitize.ErrTooLarge) || w.Code != 413 {
		t.Errorf("err %v status %d, want %v 413", err, w.Code, sanitize.ErrTooLarge)
	}
}

// A form parsed before BodyLimit (csrf in token mode parses it, bounded by
// its own MaxFormBytes) has consumed the body, so the limit cannot bound
// the reads of the handler: the parsed form is held to MaxBytes instead.
// A form sent without a Content-Length passed a route's limit whatever its
// size.
func TestBodyLimitAfterTheFormWasParsed(t *testing.T) {
	t.Parallel()
	m, err := sanitize.NewBodyLimit(sanitize.BodyOptions{MaxBytes: 64, ContentTypes: []string{"application/x-www-form-urlencoded", "multipart/form-data"}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	multipart := func(content string) string {
		return "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n" + content + "\r\n--x--\r\n"
	}
	tests := []struct {
		name, ct, body string
		status         int
	}{
		{"a small form passes", "application/x-www-form-urlencoded", "q=go", 200},
		{"a large form is refused", "application/x-www-form-urlencoded", "q=" + strings.Repeat("a", 100), 413},
		{"a small upload passes", "multipart/form-data; boundary=x", multipart("hi"), 200},
		{"a large upload is refused", "multipart/form-data; boundary=x", multipart(strings.Repeat("a", 100)), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.ContentLength = -1 // sent chunked: no length to check
			r.Header.Set("Content-Type", tt.ct)
			if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
		})
	}
}

type priced struct {
	Price  float64   `form:"price" validate:"gt=0"`
	Cap    *float32  `form:"cap" validate:"omitempty,lte=100"`
	Weight []float64 `form:"w"`
}

// Found in review: strconv.ParseFloat reads "NaN", "Inf" and "-Infinity",
// so a form or query set a float field to a value no JSON body can carry,
// and a one-sided bound let it through: "+Inf" passed gt=0, "-Inf" passed
// lte=100, and NaN passed any rule that is not a comparison. They are
// refused as values of the wrong type, as JSON refuses 1e400.
func TestDecodeFormRefusesNonFiniteFloats(t *testing.T) {
	t.Parallel()
	for _, q := range []string{
		"price=NaN", "price=nan", "price=Inf", "price=%2BInf", "price=infinity",
		"price=1&cap=-Inf", "price=1&cap=-infinity", "price=1&cap=NaN",
		"price=1&w=2&w=NaN", "price=1e400",
	} {
		t.Run(q, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(q))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			got, err := sanitize.DecodeForm[priced](nil, w, r)
			if !errors.Is(err, sanitize.ErrInvalidFields) || w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("DecodeForm = %+v, %v (%d); want 422", got, err, w.Code)
			}
			if strings.Contains(strings.ToLower(w.Body.String()), "inf") || strings.Contains(strings.ToLower(w.Body.String()), "nan") {
				t.Errorf("the response echoes the value: %s", w.Body)
			}
			w = httptest.NewRecorder()
			if _, err := sanitize.DecodeQuery[priced](nil, w, httptest.NewRequest(http.MethodGet, "/?"+q, nil)); w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("DecodeQuery: %v (%d); want 422", err, w.Code)
			}
		})
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("price=0.5&cap=-1e3&w=1&w=2.5e-3"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got, err := sanitize.DecodeForm[priced](nil, w, r); err != nil || got.Price != 0.5 || *got.Cap != -1000 {
		t.Fatalf("finite values: %+v, %v (%s)", got, err, w.Body)
	}
}

// twoNamedX has two fields that both take the form field x: one by its
// form tag, one by its json tag.
type twoNamedX struct {
	A string `form:"x"`
	B string `json:"x"`
}

// Found in review: the unknown-field check counted matched struct fields
// against the keys sent, so with two fields of one name, "x=1&admin=1"
// counted two matches for two keys, and admin passed as known. Two
// fields of one form name are a programming error, as a bad tag is.
func TestTwoFieldsOfOneFormNameAreAProgrammingError(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"x=1&admin=1", "x=1"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := sanitize.DecodeForm[twoNamedX](nil, w, r)
		if !errors.Is(err, sanitize.ErrTarget) || w.Code != http.StatusInternalServerError {
			t.Errorf("%s: %+v, %v (%d); want ErrTarget", body, got, err, w.Code)
		}
	}
}

// namedTwice has a json name and a form name for each field.
type namedTwice struct {
	Query string `json:"query" form:"q" validate:"required"`
	Page  int    `json:"page" form:"p" validate:"lte=10"`
}

// Found in review: DecodeForm reads a field by its form name, and named
// a field of the wrong type by it, but named a field that failed
// validation by its json name: for "q=&p=11" the client, who sent q and
// p, was told that query and page failed. A form or query names its
// fields by their form names everywhere; JSON by their json names.
func TestFormErrorsNameFieldsByTheirFormNames(t *testing.T) {
	t.Parallel()
	fields := func(err error) []string {
		var fe *sanitize.FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v", err)
		}
		var got []string
		for _, f := range fe.Fields {
			got = append(got, f.Field)
		}
		return got
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("q=&p=11"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := sanitize.DecodeForm[namedTwice](nil, httptest.NewRecorder(), r)
	if got := fields(err); strings.Join(got, " ") != "q p" {
		t.Errorf("DecodeForm: fields %q, want q p", got)
	}
	_, err = sanitize.DecodeQuery[namedTwice](nil, httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/?q=&p=11", nil))
	if got := fields(err); strings.Join(got, " ") != "q p" {
		t.Errorf("DecodeQuery: fields %q, want q p", got)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"query":"","page":11}`))
	r.Header.Set("Content-Type", "application/json")
	_, err = sanitize.DecodeJSON[namedTwice](nil, httptest.NewRecorder(), r)
	if got := fields(err); strings.Join(got, " ") != "query page" {
		t.Errorf("DecodeJSON: fields %q, want query page", got)
	}
}

// unsupportedForm has fields of types DecodeForm cannot fill.
type unsupportedForm struct {
	When  time.Time         `form:"when"`
	ID    [4]byte           `form:"id"`
	Attrs map[string]string `form:"attrs"`
	Nums  *[]int            `form:"nums"`
	Ptrs  []*int            `form:"ptrs"`
	N     int               `form:"n"`
}

// A field of a type DecodeForm does not support is a programming error,
// answered 500 as ErrTarget once it is sent, as two fields of one name
// are: it was answered 422 with the rule "type" ("when: must be an
// object" for a time.Time), blaming the client for a value no form can
// carry. A value of the wrong type for a supported field is still 422.
func TestUnsupportedFormFieldTypesAreAProgrammingError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		query  string
		status int
		want   error
	}{
		{"a time.Time field", "when=2024-01-01T00:00:00Z", 500, sanitize.ErrTarget},
		{"an array field", "id=1", 500, sanitize.ErrTarget},
		{"a map field", "attrs=x", 500, sanitize.ErrTarget},
		{"a pointer to a slice", "nums=1", 500, sanitize.ErrTarget},
		{"a slice of pointers", "ptrs=1", 500, sanitize.ErrTarget},
		{"a wrong value for an int is still the client's", "n=x", 422, sanitize.ErrInvalidFields},
		{"the unsupported fields unsent decode", "n=1", 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, form := range []bool{false, true} {
				w := httptest.NewRecorder()
				var err error
				if form {
					r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.query))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					_, err = sanitize.DecodeForm[unsupportedForm](nil, w, r)
				} else {
					_, err = sanitize.DecodeQuery[unsupportedForm](nil, w, httptest.NewRequest(http.MethodGet, "/?"+tt.query, nil))
				}
				if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) || w.Code != tt.status {
					t.Errorf("form %v: err %v, status %d; want %v, %d (body %s)", form, err, w.Code, tt.want, tt.status, w.Body)
				}
			}
		})
	}
}
