// Package formsize measures a form that a middleware has already parsed
// into a request, for the packages that must hold it to their own body
// limit after the body itself has been consumed.
package formsize

import "net/http"

// Parsed returns the decoded size of the form body parsed into r: each
// name, each value and a separator for each, and the uploaded files of a
// multipart form. It is 0 when no form was parsed.
func Parsed(r *http.Request) int64 {
	var n int64
	for k, vs := range r.PostForm {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v)) + 1
		}
	}
	if r.MultipartForm != nil {
		for k, fhs := range r.MultipartForm.File {
			n += int64(len(k))
			for _, fh := range fhs {
				n += fh.Size + 1
			}
		}
	}
	return n
}
