package sanitize

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/httpguard/httpguard/internal/formsize"
	"github.com/httpguard/httpguard/internal/problem"
)

// BodyOptions configures a [BodyLimit]. The zero BodyOptions limits bodies
// to [DefaultMaxBytes] and accepts JSON only.
type BodyOptions struct {
	// MaxBytes bounds request bodies. A request whose Content-Length is
	// larger is refused with 413 before the handler runs; a body that
	// grows past the limit while the handler reads it fails the read, as
	// [net/http.MaxBytesReader] does. Default: [DefaultMaxBytes].
	MaxBytes int64
	// ContentTypes are the media types a request with a body may declare;
	// others are refused with 415. Default: application/json and
	// application/*+json. List "application/x-www-form-urlencoded" or
	// "multipart/form-data" explicitly to accept forms.
	ContentTypes []string
	// OnReject writes the response for a refused request. Default: a
	// generic problem response (413 or 415).
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// BodyLimit is a middleware that bounds request bodies and restricts their
// content types for whole routes. It is immutable and safe for concurrent
// use. The zero BodyLimit, like a nil *BodyLimit, behaves as the result of
// NewBodyLimit(BodyOptions{}): [DefaultMaxBytes] and JSON only.
type BodyLimit struct {
	maxBytes     int64
	contentTypes map[string]bool
	onReject     func(w http.ResponseWriter, r *http.Request, err error)
}

// NewBodyLimit validates o and returns a BodyLimit.
func NewBodyLimit(o BodyOptions) (*BodyLimit, error) {
	var errs []error
	m := &BodyLimit{maxBytes: o.MaxBytes, onReject: o.OnReject}
	if m.maxBytes == 0 {
		m.maxBytes = DefaultMaxBytes
	}
	if m.maxBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: MaxBytes %d is negative", ErrOption, o.MaxBytes))
	}
	if len(o.ContentTypes) > 0 {
		m.contentTypes = make(map[string]bool, len(o.ContentTypes))
		for _, ct := range o.ContentTypes {
			mt, params, err := mime.ParseMediaType(ct)
			if err != nil || len(params) > 0 || !strings.Contains(mt, "/") {
				errs = append(errs, fmt.Errorf("%w: content type %q is not a bare media type", ErrOption, ct))
				continue
			}
			m.contentTypes[mt] = true
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// defaultBodyLimit is what NewBodyLimit(BodyOptions{}) returns.
var defaultBodyLimit = &BodyLimit{maxBytes: DefaultMaxBytes}

// orDefault returns m, or [defaultBodyLimit] for the zero BodyLimit (which
// [NewBodyLimit] never returns: it sets maxBytes) and a nil one.
func (m *BodyLimit) orDefault() *BodyLimit {
	if m == nil || m.maxBytes == 0 {
		return defaultBodyLimit
	}
	return m
}

// Check reports whether r's declared body is acceptable: ErrTooLarge or
// ErrContentType, or nil. A request without a body always passes.
//
// A form already parsed by a middleware before this one (csrf in token
// mode parses it, bounded by its own MaxFormBytes, to read its field) has
// consumed the body, which the limit can then no longer bound as the
// handler reads it: the parsed form's decoded size is held to MaxBytes
// instead. Without this, a form sent without a Content-Length passed a
// route's limit whatever its size, up to the parsing middleware's bound.
func (m *BodyLimit) Check(r *http.Request) error { return m.orDefault().check(r) }

// check is Check for a BodyLimit that orDefault has returned.
func (m *BodyLimit) check(r *http.Request) error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > m.maxBytes || formsize.Parsed(r) > m.maxBytes {
		return ErrTooLarge
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ErrContentType
	}
	if m.contentTypes != nil {
		if !m.contentTypes[mt] {
			return ErrContentType
		}
	} else if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return ErrContentType
	}
	return nil
}

// Handler returns the middleware.
func (m *BodyLimit) Handler(next http.Handler) http.Handler {
	m = m.orDefault()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.check(r); err != nil {
			if m.onReject != nil {
				problem.SetReason(r, err)
				m.onReject(w, r, err)
				return
			}
			problem.Reject(w, r, statusOf(err), err)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, m.maxBytes)
		}
		next.ServeHTTP(w, r)
	})
}
