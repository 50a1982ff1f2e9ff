package formsize_test

import (
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/internal/formsize"
)

func TestParsed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    *http.Request
		want int64
	}{
		{"no form parsed", &http.Request{}, 0},
		{"names, values and a separator each", &http.Request{PostForm: url.Values{"ab": {"cde", ""}}}, 2 + 4 + 1},
		{"uploaded files count", &http.Request{PostForm: url.Values{"a": {"b"}}, MultipartForm: &multipart.Form{
			File: map[string][]*multipart.FileHeader{"f": {{Size: 100}, {Size: 20}}},
		}}, 1 + 2 + 1 + 101 + 21},
	}
	for _, tt := range tests {
		if got := formsize.Parsed(tt.r); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzParsed parses a URL-encoded body as net/http does and checks that
// Parsed counts each name, each value and one separator for each, and
// that the decoded size never exceeds the body's by more than one byte.
func FuzzParsed(f *testing.F) {
	for _, s := range []string{"a=b&c=d", "a=%41%42&a=", "a", "&&&", "a+b=c+d", "a=%zz", "k=" + strings.Repeat("v", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := http.NewRequest("POST", "/", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = r.ParseForm() // keeps what parsed before an error
		var want int64
		for k, vs := range r.PostForm {
			want += int64(len(k))
			for _, v := range vs {
				want += int64(len(v)) + 1
			}
		}
		got := formsize.Parsed(r)
		if got != want {
			t.Fatalf("Parsed = %d, want %d", got, want)
		}
		if got > int64(len(body))+1 {
			t.Fatalf("Parsed = %d for a body of %d bytes", got, len(body))
		}
	})
}

// TestParsedMultipart: a multipart form parsed by net/http counts its
// fields, through PostForm, and its files.
func TestParsedMultipart(t *testing.T) {
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("name", "value")
	fw, _ := mw.CreateFormFile("file", "f.txt")
	_, _ = fw.Write([]byte(strings.Repeat("x", 1000)))
	_ = mw.Close()
	r, _ := http.NewRequest("POST", "/", strings.NewReader(buf.String()))
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	if got, want := formsize.Parsed(r), int64(len("name")+len("value")+1+len("file")+1000+1); got != want {
		t.Errorf("Parsed = %d, want %d", got, want)
	}
}
