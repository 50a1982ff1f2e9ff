// Package hijack tells a ResponseWriter wrapper whether to offer Hijack,
// so that the writer it passes on is an [net/http.Hijacker] exactly when
// the writer it wraps can hijack: over HTTP/1.x, not over HTTP/2 or
// HTTP/3. A handler asks w.(http.Hijacker) whether it can take the
// connection; a wrapper that always has the method says yes where
// Hijack can only fail.
package hijack

import "net/http"

// maxDepth is the number of wrappers Possible looks through.
const maxDepth = 16

// Possible reports whether w, or a writer it wraps (found through its
// Unwrap method, as [net/http.ResponseController] looks), is an
// [net/http.Hijacker]. It does not allocate.
func Possible(w http.ResponseWriter) bool {
	for range maxDepth {
		switch v := w.(type) {
		case http.Hijacker:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return false
		}
	}
	return false
}
