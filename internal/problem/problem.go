// Package problem writes RFC 9457 "problem details" responses, the body of
// every default rejection in httpguard, and carries the reason for a
// rejection from the package that decided it to a logging middleware further
// out.
//
// A generic response ([Write]) says only what the status code says: its
// title is the standard status text and it has no detail. The bodies are
// rendered once, at init, so writing one costs a single small allocation for
// the headers. Every problem response carries
//
//	Content-Type: application/problem+json
//	Cache-Control: no-store
//	X-Content-Type-Options: nosniff
//
// Headers a status requires (WWW-Authenticate for 401, Retry-After for 429
// and 503, Allow for 405) are the caller's to set before writing.
//
// Nothing from the request ever goes into a problem body: titles and details
// are constants chosen by the package that rejects.
//
// [RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457
package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/httpguard/httpguard/internal/httptoken"
)

// ContentType is the media type of a problem details JSON document.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object. Its fields are constants
// chosen by the code that rejects a request, never request data.
type Problem struct {
	// Type is a URI reference that identifies the problem type. Empty
	// means "about:blank", whose title is the status text.
	Type string
	// Title is a short, human-readable summary of the problem type. Empty
	// means the standard status text of Status.
	Title string
	// Status is the HTTP status code, 400 to 599.
	Status int
	// Detail is an explanation specific to this occurrence. It must be
	// generic: never an error message, never request data.
	Detail string
	// Instance is a URI reference that identifies this occurrence, such as
	// "urn:request:" plus a request ID.
	Instance string
	// Extensions are extension members, written after the standard ones in
	// this order. Names must be at least three characters of ASCII letters,
	// digits and underscores, starting with a letter (RFC 9457 §3.2), and
	// must not repeat a standard member.
	Extensions []Member
}

// Member is one extension member of a [Problem].
type Member struct {
	Name  string
	Value any
}

var (
	// errStatus is returned for a status outside 400 to 599.
	errStatus = errors.New("problem: status must be between 400 and 599")
	// errMember is returned for an invalid or reserved extension member name.
	errMember = errors.New("problem: invalid extension member name")
)

// generic holds the rendered body of the generic problem for every status
// with a standard status text, indexed by status-400.
var (
	generic    [200][]byte
	genericLen [200]string // Content-Length of each generic body
)

func init() {
	for code := 400; code < 600; code++ {
		if http.StatusText(code) == "" {
			continue
		}
		b, err := Encode(&Problem{Status: code})
		if err != nil {
			panic(err) // unreachable: the generic problems are constants
		}
		generic[code-400] = b
		genericLen[code-400] = strconv.Itoa(len(b))
	}
}

// Encode renders p as a JSON document, members in the order of RFC 9457
// followed by p.Extensions.
func Encode(p *Problem) ([]byte, error) {
	if p.Status < 400 || p.Status > 599 {
		return nil, errStatus
	}
	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	if title == "" {
		title = "Error"
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	writeString(&buf, typ)
	buf.WriteString(`,"title":`)
	writeString(&buf, title)
	buf.WriteString(`,"status":`)
	buf.WriteString(strconv.Itoa(p.Status))
	if p.Detail != "" {
		buf.WriteString(`,"detail":`)
		writeString(&buf, p.Detail)
	}
	if p.Instance != "" {
		buf.WriteString(`,"instance":`)
		writeString(&buf, p.Instance)
	}
	seen := make(map[string]bool, len(p.Extensions))
	for _, m := range p.Extensions {
		if !validMemberName(m.Name) || seen[m.Name] {
			return nil, fmt.Errorf("%w: %q", errMember, m.Name)
		}
		seen[m.Name] = true
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, fmt.Errorf("problem: extension member %q: %w", m.Name, err)
		}
		buf.WriteByte(',')
		writeString(&buf, m.Name)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}

// validMemberName reports whether name is usable as an extension member:
// RFC 9457 §3.2 recommends ALPHA *( ALPHA / DIGIT / "_" ), at least three
// characters, and a standard member may not be redefined.
func validMemberName(name string) bool {
	if len(name) < 3 {
		return false
	}
	switch name {
	case "type", "title", "status", "detail", "instance":
		return false
	}
	return httptoken.IsIdentifier(name)
}

// Write writes the generic problem response for status: type about:blank,
// the standard status text as title, no detail. Headers already set on w,
// such as WWW-Authenticate or Retry-After, are kept; headers describing a
// different representation (Content-Range, ETag, Last-Modified) are
// removed, and Content-Length is set to the problem body's. A
// Content-Encoding already set is kept, and Content-Length then left to
// net/http, as net/http.Error does: set before the body was chosen, it
// comes from a middleware further out that compresses what w is given
// (go.dev/issue/66343). A status outside 400 to 599, or without a
// standard status text, is written as 500.
//
// Write must be called before anything else has been written to w.
func Write(w http.ResponseWriter, status int) {
	if status < 400 || status > 599 || generic[status-400] == nil {
		status = http.StatusInternalServerError
	}
	writeBody(w, status, generic[status-400], genericLen[status-400])
}

// Slots is the number of header values the generic problem sets: the
// length [WriteInto] needs.
const Slots = 4

// WriteInto is [Write] for a middleware whose rejections allocate
// nothing: the header values are stored in vals, which has at least Slots
// slots belonging to this response alone (taken from the per-response
// slots the middleware has anyway). With fresh set, the caller knows that
// w's header map holds only fields it set itself for this response, none
// of the ones Write removes, and the removals are skipped. The response is
// the one Write writes.
func WriteInto(w http.ResponseWriter, status int, vals []string, fresh bool) {
	if status < 400 || status > 599 || generic[status-400] == nil {
		status = http.StatusInternalServerError
	}
	writeWith(w, status, generic[status-400], genericLen[status-400], vals, fresh)
}

// WriteProblem writes p. If p cannot be encoded (a status outside 400 to
// 599, an invalid extension member), it writes the generic 500 problem
// instead and returns the error, so a programming mistake never produces a
// malformed response.
func WriteProblem(w http.ResponseWriter, p *Problem) error {
	b, err := Encode(p)
	if err != nil {
		Write(w, http.StatusInternalServerError)
		return err
	}
	writeBody(w, p.Status, b, strconv.Itoa(len(b)))
	return nil
}

func writeBody(w http.ResponseWriter, status int, body []byte, length string) {
	// One allocation for the four header values instead of four.
	writeWith(w, status, body, length, make([]string, Slots), false)
}

func writeWith(w http.ResponseWriter, status int, body []byte, length string, vals []string, fresh bool) {
	h := w.Header()
	setLength := true
	if !fresh {
		// The keys are canonical already, so the map is used directly
		// rather than through Header.Del, which canonicalizes each one
		// again.
		delete(h, "Content-Range")
		delete(h, "Etag") // the canonical form of ETag
		delete(h, "Last-Modified")
		if _, ok := h["Content-Encoding"]; ok {
			// Set further out, before this response's body was chosen:
			// by a middleware that compresses what goes through w, as
			// net/http.Error assumes (go.dev/issue/66343). The label
			// stays with the body it describes, and the length, which
			// only that middleware knows, is left to it and net/http.
			delete(h, "Content-Length")
			setLength = false
		}
	}
	// Each header gets its own capacity-limited slice, so an outer
	// middleware appending to one cannot touch another.
	vals[0] = ContentType
	vals[1] = "no-store"
	vals[2] = "nosniff"
	vals[3] = length
	h["Content-Type"] = vals[0:1:1]
	h["Cache-Control"] = vals[1:2:2]
	h["X-Content-Type-Options"] = vals[2:3:3]
	if setLength {
		h["Content-Length"] = vals[3:4:4]
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Reject records reason on r (see [SetReason]) and writes the generic
// problem response for status. It is the default rejection of every
// httpguard middleware; headers the status requires must be set on w first.
func Reject(w http.ResponseWriter, r *http.Request, status int, reason error) {
	SetReason(r, reason)
	Write(w, status)
}

// representationFields describe a response's representation: an error
// response replacing a response a handler began must not carry them (a
// download's Content-Disposition would name the problem document a file
// of the handler's).
var representationFields = [...]string{
	"Content-Disposition",
	"Content-Language",
	"Content-Location",
	"Content-Range",
	"Etag",
	"Last-Modified",
	"Trailer",
	"Transfer-Encoding",
}

// DropRepresentation removes from h, before an error response replaces
// a response a handler began, the fields that describe the handler's
// representation, Content-Encoding too unless keepEncoding (a
// compressing middleware further out may have set it, and compresses
// what it is given), and the trailers ([DropTrailers]).
func DropRepresentation(h http.Header, keepEncoding bool) {
	for _, k := range representationFields {
		delete(h, k)
	}
	if !keepEncoding {
		delete(h, "Content-Encoding")
	}
	DropTrailers(h)
}

// DropTrailers removes from h the fields set with
// [net/http.TrailerPrefix], which net/http sends as trailers after the
// body whether they were set before or after the header was written,
// over HTTP/2 even after a body of known length: on an error response
// that replaced a handler's, they would carry what the handler meant for
// the body it lost, an error's detail among them, past the replacement.
// Trailers declared with a Trailer field go with it (DropRepresentation).
func DropTrailers(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			delete(h, k)
		}
	}
}
