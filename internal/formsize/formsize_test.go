package formsize_test

import (
	"mime/multipart"
	"net/http"
	"net/url"
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
