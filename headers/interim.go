package headers

import (
	"net/http"
	"slices"
)

// KeepAcross1xx returns next, normally an
// [net/http/httputil.ReverseProxy], with the response header fields set
// before it ran kept on its final response after a 1xx (informational)
// response. Wrap the proxy with it inside [Middleware.Handler]:
//
//	proxy.ModifyResponse = m.ModifyResponse
//	gateway := m.Handler(headers.KeepAcross1xx(proxy))
//
// When a backend answers with a 1xx, such as 103 Early Hints or the 100
// Continue a client's Expect: 100-continue draws from it, ReverseProxy
// forwards it and then clears the ResponseWriter's whole header map
// (golang/go#81207): every header the middleware, or any layer further
// out, had set is gone from the final response, which then carries the
// backend's headers only, less those [Middleware.ModifyResponse] removes.
// KeepAcross1xx puts the fields back, ahead of the backend's, when the
// final response starts; a field that is still there, as a ReverseProxy
// that keeps them leaves it, is not repeated. Without a 1xx it changes
// nothing.
//
// It copies the header map once per request. The ResponseWriter next gets
// is an [net/http.Flusher] and has an Unwrap method, so
// [net/http.ResponseController] (which ReverseProxy uses to flush and to
// hijack for protocol upgrades) reaches the underlying one. A final
// response started by a flush gets the fields back too.
func KeepAcross1xx(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&interimWriter{ResponseWriter: w, saved: w.Header().Clone()}, r)
	})
}

// interimWriter restores saved after a 1xx response, once the final
// response starts.
type interimWriter struct {
	http.ResponseWriter
	saved   http.Header // the fields set before next ran
	interim bool        // a 1xx response was written
	started bool        // the final response was started
}

func (w *interimWriter) WriteHeader(code int) {
	switch {
	case w.started:
	case code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols:
		w.interim = true
	default:
		w.start()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *interimWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.start()
	}
	return w.ResponseWriter.Write(b)
}

// Flush starts the final response, as Write does, and flushes it. See
// [interimWriter.FlushError].
func (w *interimWriter) Flush() { _ = w.FlushError() }

// FlushError starts the final response, as Write does, then flushes the
// underlying ResponseWriter through [net/http.ResponseController] and
// returns its error (http.ErrNotSupported when it cannot flush).
func (w *interimWriter) FlushError() error {
	if !w.started {
		w.start()
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// start marks the final response as started and, after a 1xx, puts each
// saved field back ahead of the values now set, unless they begin with it.
func (w *interimWriter) start() {
	w.started = true
	if !w.interim {
		return
	}
	h := w.ResponseWriter.Header()
	for k, saved := range w.saved {
		if cur := h[k]; len(cur) < len(saved) || !slices.Equal(cur[:len(saved)], saved) {
			h[k] = append(slices.Clip(saved), cur...)
		}
	}
}

// Unwrap returns the underlying ResponseWriter, for
// [net/http.ResponseController].
func (w *interimWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
