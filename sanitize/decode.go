package sanitize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/httpguard/httpguard/internal/jsonesc"
	"github.com/httpguard/httpguard/internal/problem"
)

// Errors reported by decoding, wrapped in the error [DecodeJSON],
// [DecodeForm] and [DecodeQuery] return and passed to [Options.OnReject].
var (
	ErrContentType   = errors.New("sanitize: unsupported content type")   // 415
	ErrTooLarge      = errors.New("sanitize: request body too large")     // 413
	ErrEmptyBody     = errors.New("sanitize: empty request body")         // 400
	ErrInvalidUTF8   = errors.New("sanitize: body is not valid UTF-8")    // 400, also for a NUL character or a lone surrogate
	ErrMalformed     = errors.New("sanitize: malformed body")             // 400
	ErrTooDeep       = errors.New("sanitize: nesting too deep")           // 400
	ErrDuplicateKey  = errors.New("sanitize: duplicate object key")       // 400
	ErrUnknownField  = errors.New("sanitize: unknown field")              // 400
	ErrTrailingData  = errors.New("sanitize: data after the JSON value")  // 400
	ErrInvalidFields = errors.New("sanitize: fields failed validation")   // 422
	ErrRead          = errors.New("sanitize: reading the body failed")    // 400
	ErrTarget        = errors.New("sanitize: decoding target is invalid") // 500, a programming error
)

var (
	errTooDeep      = ErrTooDeep
	errDuplicateKey = ErrDuplicateKey
	errNUL          = fmt.Errorf("%w: a NUL character", ErrInvalidUTF8)
	errSurrogate    = fmt.Errorf("%w: an escaped lone UTF-16 surrogate", ErrInvalidUTF8)
)

// Defaults of [Options].
const (
	DefaultMaxBytes = 1 << 20 // 1 MiB
	DefaultMaxDepth = 32
)

// Options configures a [Decoder]. The zero Options is the strict default.
// Mutating an Options after [New] has no effect on the Decoder.
type Options struct {
	// MaxBytes bounds the request body. A larger body is refused with 413
	// before it is read whole. Default: [DefaultMaxBytes].
	MaxBytes int64
	// MaxDepth bounds the nesting of JSON objects and arrays. Default:
	// [DefaultMaxDepth].
	MaxDepth int
	// ContentTypes are the media types a JSON body may declare. A body
	// with another or no Content-Type is refused with 415, and so is one
	// with a parameter other than charset=utf-8 (a charset=utf-16, or a
	// profile). Default: application/json and any application/*+json
	// type. Another site's page can send a JSON text with the user's
	// cookies only under a type a form or a fetch without a preflight
	// may use (text/plain, application/x-www-form-urlencoded,
	// multipart/form-data): listing one of those takes that protection
	// away, so put csrf in front of such a route.
	ContentTypes []string
	// Policies names the HTML policies that `sanitize:"html=NAME"` tags may
	// use, in addition to the built-in "strict" and "ugc". A policy given
	// under one of those two names replaces the built-in one for every tag
	// that names it (html=strict, but not text, which always keeps no
	// markup). An empty name, a name holding ',', '=' or a space, or a nil
	// or zero policy (NewPolicy(nil)) is an error. Default: none, only the
	// built-in policies.
	Policies map[string]*Policy
	// AllowUnknownFields accepts JSON members and form fields that the
	// target does not declare; they are ignored. Default: refused with 400.
	// A JSON member whose name matches a field's only in letter case is
	// refused even so (see [DecodeJSON]).
	AllowUnknownFields bool
	// UseNumber decodes a JSON number in an interface field (any, and
	// the values of map[string]any and []any) as a [encoding/json.Number],
	// which keeps its digits, rather than as a float64, which holds
	// integers exactly only up to 2^53: 12345678901234567891 would become
	// 12345678901234567000, another ID. Rules of a `validate` tag on such
	// a field see the number's text. Typed fields (int64, float64,
	// json.Number) are decoded as their type says either way. Default
	// false, as encoding/json does.
	UseNumber bool
	// Rules registers the application's validation rules by name, for
	// `validate` tags to use as they use the built-in ones, such as
	// `validate:"required,sku"`; a value a rule refuses is answered 422
	// with the field, the name and the rule's Message. A name is 1 to 64
	// ASCII letters, digits or _, starting with a letter; the name of a
	// built-in rule, alias or tag (email, required, omitempty, dive...)
	// is an error, and so is a rule without Func or Message, or a Message
	// that is not a constant's text (see [Rule]). A rule takes no
	// parameter: a tag such as "sku=4" is a programming error, answered
	// 500 as for [ErrTarget] the first time its type is decoded; register
	// "sku4" instead. A target type can also check across its fields with
	// a Validate method: see [Validator]. Default: none, only the
	// built-in rules.
	Rules map[string]Rule
	// OnReject writes the response for a rejected body. Default: a
	// problem response with the status the error calls for, and for
	// validation failures a 422 listing each field by the name the body
	// gave it (JSON name, or form name for a form or query), the rule and
	// a message, never the submitted value.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// Decoder decodes, sanitizes and validates request bodies. It is safe for
// concurrent use. The zero Decoder, like a nil *Decoder, is the default
// one: it decodes as the Decoder of New(Options{}).
type Decoder struct {
	maxBytes     int64
	maxDepth     int
	contentTypes map[string]bool // nil: application/json and application/*+json
	policies     map[string]*Policy
	allowUnknown bool
	useNumber    bool
	onReject     func(w http.ResponseWriter, r *http.Request, err error)
	rules        map[string]Rule     // Options.Rules, copied
	validate     *validator.Validate // names fields by their json names
	validateForm *validator.Validate // by their form names, for forms and queries
	plans        planCache
}

// ErrOption is wrapped by every configuration error [New] returns.
var ErrOption = errors.New("sanitize: invalid option")

// New validates o and returns a Decoder.
func New(o Options) (*Decoder, error) {
	var errs []error
	d := &Decoder{
		maxBytes:     o.MaxBytes,
		maxDepth:     o.MaxDepth,
		allowUnknown: o.AllowUnknownFields,
		useNumber:    o.UseNumber,
		onReject:     o.OnReject,
		policies:     map[string]*Policy{"strict": Strict(), "ugc": UserContent()},
	}
	if d.maxBytes == 0 {
		d.maxBytes = DefaultMaxBytes
	}
	if d.maxBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: MaxBytes %d is negative", ErrOption, o.MaxBytes))
	}
	if d.maxDepth == 0 {
		d.maxDepth = DefaultMaxDepth
	}
	if d.maxDepth < 0 || d.maxDepth > 10000 {
		errs = append(errs, fmt.Errorf("%w: MaxDepth %d is outside 1 to 10000", ErrOption, o.MaxDepth))
	}
	if len(o.ContentTypes) > 0 {
		d.contentTypes = make(map[string]bool, len(o.ContentTypes))
		for _, ct := range o.ContentTypes {
			mt, params, err := mime.ParseMediaType(ct)
			if err != nil || len(params) > 0 || !strings.Contains(mt, "/") {
				errs = append(errs, fmt.Errorf("%w: content type %q is not a bare media type", ErrOption, ct))
				continue
			}
			d.contentTypes[mt] = true
		}
	}
	for name, p := range o.Policies {
		if name == "" || p == nil || p.p == nil || strings.ContainsAny(name, ",= ") {
			errs = append(errs, fmt.Errorf("%w: policy %q", ErrOption, name))
			continue
		}
		d.policies[name] = p
	}
	errs = append(errs, checkRules(o.Rules)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(o.Rules) > 0 {
		d.rules = make(map[string]Rule, len(o.Rules))
		for name, r := range o.Rules {
			d.rules[name] = r
		}
	}
	d.validate = newValidator(false, d.rules)
	d.validateForm = newValidator(true, d.rules)
	return d, nil
}

// MustNew is like [New] but panics on error.
func MustNew(o Options) *Decoder {
	d, err := New(o)
	if err != nil {
		panic(err)
	}
	return d
}

var defaultDecoder = MustNew(Options{})

// orDefault returns d, or defaultDecoder for a nil or zero Decoder (which
// New never returns: it sets validate).
func (d *Decoder) orDefault() *Decoder {
	if d == nil || d.validate == nil {
		return defaultDecoder
	}
	return d
}

// DecodeJSON decodes the JSON body of r into a value of type T, then
// applies the `sanitize` struct tags, then validates it with the `validate`
// struct tags. T is usually a struct type. T may also be a pointer, slice,
// array or map holding structs: each struct it holds is sanitized and
// validated as the elements of a struct field of that type with a `dive`
// tag would be, and a failing field is reported under a path such as
// "[2].body" (for a map, "[*].body": keys are never reported; the items
// of a map are checked in the order of their keys, so that the errors
// come in the same order for the same body). A JSON null for a pointer T,
// or for a pointer item of such a collection ("[2]", or "[*]" in a map),
// is refused (422, rule "type") rather than returned as a nil pointer; a
// null in a pointer field of a struct is left to the field's `validate`
// tag.
//
// Member names match the target's JSON names exactly, as json/v2 and most
// other languages' parsers match them, not in any letter case as
// encoding/json does: a member whose name matches a field's only in
// letter case ("ROLE" or "Role" for "role", "ſub" with U+017F for "sub",
// the Kelvin sign for "k") is refused with 400 [ErrUnknownField], even
// with [Options.AllowUnknownFields], so that a gateway that sees an
// unknown member never lets Go set the field. The names are those
// encoding/json gives a struct: the json tag's name, else the Go name,
// with the fields of untagged embedded structs promoted (a name two of
// them share at one depth belongs to neither), and none for a field
// tagged `json:"-"`. They are checked in every struct the target holds,
// through pointers, slices, arrays and map values (a map's keys are
// free); the content of an interface, of an [encoding/json.RawMessage] and
// of a type that unmarshals itself is its own.
//
// In order, it refuses (and answers through [Options.OnReject]): a
// Content-Type other than JSON (415); a body over the size limit (413); an
// empty body, invalid UTF-8, a NUL character (\u0000) or an escaped UTF-16
// surrogate that is not half of a pair ("\ud800", which encoding/json would
// decode to U+FFFD), nesting over the depth limit, a repeated object key, a
// member name that matches a field's only in letter case, an unknown field,
// or anything after the one JSON value (400); and a value of the wrong type,
// a number that overflows its field, or a value that fails validation (422,
// listing the fields as [FieldErrors], at most [MaxFieldErrors] of them). On
// error the response has been written, the zero T is returned (never a value
// that was not sanitized and validated), and the handler should return (an
// errorsafe.HandlerFunc may return the error: errorsafe sees that it was
// answered and leaves it to the access log).
//
// A nil or zero d uses the default Decoder.
func DecodeJSON[T any](d *Decoder, w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	d = d.orDefault()
	if err := d.decodeJSON(w, r, &v); err != nil {
		d.reject(w, r, err)
		var zero T // never a value that was not sanitized and validated
		return zero, err
	}
	return v, nil
}

func (d *Decoder) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if !d.jsonContentType(r.Header.Get("Content-Type")) {
		return ErrContentType
	}
	body, err := d.readBody(w, r)
	if err != nil {
		return err
	}
	return d.decodeBytes(body, dst)
}

// decodeBytes decodes the JSON text body into dst, which points to the
// target, with every check DecodeJSON applies after reading the body, then
// sanitizes and validates it. DecodeJSON and Unmarshal share it.
func (d *Decoder) decodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return ErrEmptyBody
	}
	if !utf8.Valid(body) {
		return ErrInvalidUTF8
	}
	if err := escapeError(body); err != nil {
		return err
	}
	if err := checkJSON(body, d.maxDepth, shapeOf(reflect.TypeOf(dst))); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if !d.allowUnknown {
		dec.DisallowUnknownFields()
	}
	if d.useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(dst); err != nil {
		return d.classifyJSONError(err, reflect.TypeOf(dst).Elem(), body)
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	return d.finish(dst, false)
}

// Unmarshal decodes data, a JSON text that did not come in an HTTP request
// (a configuration file, a queue message), into a value of type T, then
// applies the `sanitize` struct tags, then validates it with the
// `validate` struct tags, as [DecodeJSON] does with a request body.
//
// It applies DecodeJSON's checks and rules to data, after the
// Content-Type, which it does not check: data longer than the Decoder's
// [Options.MaxBytes] is refused with [ErrTooLarge]; empty data (or only
// white space) with [ErrEmptyBody]; invalid UTF-8, a NUL character
// (\u0000) or an escaped lone UTF-16 surrogate ("\ud800") with
// [ErrInvalidUTF8]; nesting over [Options.MaxDepth] with
// [ErrTooDeep]; a repeated object key with [ErrDuplicateKey]; a member
// name that matches a field's only in letter case, even with
// [Options.AllowUnknownFields], and an unknown member without it, with
// [ErrUnknownField]; anything after the one JSON value with
// [ErrTrailingData]; text that is not JSON with [ErrMalformed]; and a
// value of the wrong type, a number that overflows its field, or a value
// that fails validation with [*FieldErrors] ([ErrInvalidFields]). Member
// names are matched exactly, and collections and null are handled, as
// DecodeJSON describes. So a file or message is read as a reader of it
// sees it: encoding/json alone would take "Role" for "role", keep the
// last of two members of one name, and ignore what follows the value.
//
// The errors are those DecodeJSON returns, so [StatusOf] and
// [errors.As] with a *FieldErrors work on them; an error names no value
// from data. Nothing is written anywhere: [Options.OnReject] is not
// called. On error the zero T is returned, never a value that was not
// sanitized and validated. data is not modified or retained.
//
// A nil or zero d uses the default Decoder.
func Unmarshal[T any](d *Decoder, data []byte) (T, error) {
	var v T
	d = d.orDefault()
	if int64(len(data)) > d.maxBytes {
		return v, ErrTooLarge
	}
	if err := d.decodeBytes(data, &v); err != nil {
		var zero T // never a value that was not sanitized and validated
		return zero, err
	}
	return v, nil
}

// escapeError reports, with errNUL, a \u0000 escape in a string of the
// JSON text b: a NUL, which a C string or a PostgreSQL text column cuts or
// refuses, and which DecodeForm refuses too (found in review: DecodeJSON
// took it); and, with errSurrogate, an escaped UTF-16 surrogate that is
// not the first half of a pair followed by the second ("\ud800",
// "\udc00"), which encoding/json decodes to U+FFFD, so that "a\ud800"
// and "a\udc00", two strings to a parser that keeps lone surrogates,
// would be one (found in review); the raw twins of both, a NUL byte and
// invalid UTF-8, are refused already. An escaped backslash is text. It
// does not validate the syntax: the decoder does that afterwards (a
// backslash is valid JSON only in a string, so the scan jumps from one to
// the next).
func escapeError(b []byte) error {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return nil
		}
		i += j
		if i+1 < len(b) && b[i+1] == 'u' {
			r, n := jsonesc.Escape(b, i)
			switch {
			case n == 0:
				n = 2 // malformed; the decoder reports it
			case r == 0:
				return errNUL
			case r < 0:
				return errSurrogate
			}
			i += n
			continue
		}
		i += 2 // the escaped character, a backslash or a quote included
	}
	return nil
}

// finish applies the sanitize tags, then validation, naming fields by
// their form names first if form is set.
func (d *Decoder) finish(dst any, form bool) error {
	if err := d.sanitizeValue(reflect.ValueOf(dst)); err != nil {
		return err
	}
	return d.validateValue(dst, form)
}

// errTruncated is returned for a body that ends mid-document; it is built
// once so that a truncated request costs no error allocation.
var errTruncated = fmt.Errorf("%w: truncated", ErrMalformed)

// classifyJSONError maps an error of decoding body into a value of type
// t.
func (d *Decoder) classifyJSONError(err error, t reflect.Type, body []byte) error {
	var typeErr *json.UnmarshalTypeError
	var invalid *json.InvalidUnmarshalError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %v", ErrTarget, err)
	case errors.As(err, &typeErr):
		// The path is rebuilt from t's own JSON names, so it may be
		// shown; the offending value is not kept.
		field := typeErrorPath(typeErr.Field, t)
		return &FieldErrors{Fields: []FieldError{{Field: field, Rule: "type", Message: mustBe(jsonKind(typeErr.Type))}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ErrUnknownField
	case strings.HasPrefix(err.Error(), stringOptionError):
		// Go 1.27 reports it as any value of the wrong type; earlier
		// versions name no field, and return it before a refusal they
		// met earlier in body, which is found there.
		if err := stringOptionRefusal(body, t, d.allowUnknown); err != nil {
			return err
		}
		return ErrMalformed
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errTruncated
	default:
		return ErrMalformed
	}
}

// typeErrorPath turns field, the path encoding/json gives a value of the
// wrong type in a value of type t, into the reported path. Depending on
// the Go version, that path omits indexes and map keys ("tags",
// "address.city") or holds them ("tags.2", "extra.KEY"), and a key came
// from the request (found in review: with Go 1.27, a 422 echoed a map
// key). So the path is read by t, and only what t provides is copied:
// field names and indexes, written "tags[2]" as in validation paths. The
// Go name of an untagged embedded struct, which some versions put in the
// path ("Base.note" for "note"), is passed over. It ends at a map, where
// a key could not be told from a field name.
func typeErrorPath(field string, t reflect.Type) string {
	var b strings.Builder
	for seg := range strings.SplitSeq(field, ".") {
		t = indirect(t)
		for n := 0; (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && !isIndex(seg); n++ {
			if n == maxElems {
				return pathOr(b.String()) // a type made of itself
			}
			t = indirect(t.Elem()) // an index the path omits
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			b.WriteString("[" + seg + "]")
			t = t.Elem()
		case reflect.Struct:
			if f, ok := jsonField(t, seg); ok {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(seg)
				t = f.Type
			} else if et := embeddedNamed(t, seg); et != nil {
				// Go 1.25 and 1.26 name an untagged embedded struct by
				// its Go name, "Base.note"; its fields are the outer
				// struct's in JSON, so the client knows "note" and
				// nothing is written (found in review: such paths were
				// reported as "(root)").
				t = et
			} else {
				return pathOr(b.String())
			}
		default:
			return pathOr(b.String())
		}
	}
	return pathOr(b.String())
}

// embeddedNamed returns the struct type of the untagged embedded field of
// the struct type t whose Go name is name, through a pointer if the field
// is one, or nil. Those are the fields whose own fields encoding/json
// promotes.
func embeddedNamed(t reflect.Type, name string) reflect.Type {
	f, ok := t.FieldByName(name)
	if !ok || len(f.Index) != 1 || !f.Anonymous {
		return nil
	}
	if tag := f.Tag.Get("json"); tag == "-" || !strings.HasPrefix(tag, ",") && tag != "" {
		return nil // not embedded for encoding/json: a named field, or none
	}
	if et := indirect(f.Type); et.Kind() == reflect.Struct {
		return et
	}
	return nil
}

// indirect returns the type t points to, through any number of pointers.
func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// isIndex reports whether s is a decimal number.
func isIndex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// jsonField returns the field of the struct type t that encoding/json
// decodes the member name into, by the rules exposedFields follows (found
// in review: a search of t's fields, then of its embedded structs' depth
// first, took a deeper field over a shallower one, and one of two that
// tie, which encoding/json drops).
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range exposedFields(t) {
		if f.name == name {
			return f.field, true
		}
	}
	return reflect.StructField{}, false
}

// mustBe says that a value must be a kind, with the right article.
func mustBe(kind string) string {
	if strings.IndexByte("aeiou", kind[0]) >= 0 {
		return "must be an " + kind
	}
	return "must be a " + kind
}

// jsonKind names the JSON shape a Go type expects, for messages.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value of another type"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "whole number in range"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "non-negative whole number in range"
	case reflect.Float32, reflect.Float64:
		return "number in range"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "value of another type"
}

func (d *Decoder) jsonContentType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	if d.contentTypes != nil {
		return d.contentTypes[mt]
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// initialRead bounds the buffer readBody allocates before reading.
const initialRead = 32 << 10

// readBody reads the whole body, at most maxBytes.
func (d *Decoder) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > d.maxBytes {
		return nil, ErrTooLarge
	}
	body := http.MaxBytesReader(w, r.Body, d.maxBytes)
	r.Body = body
	// The buffer starts at the claimed length plus one (so that reading
	// up to EOF needs no growth), but at most initialRead: the claim costs
	// the client nothing, so it must not decide what is allocated before
	// the bytes arrive; past initialRead the buffer grows with the bytes
	// received. Found in review: a 2-byte body claiming 1 MiB allocated
	// 1 MiB, and with MaxBytes near math.MaxInt64, size+1 overflowed and
	// make panicked. The claim is capped before adding one, so nothing
	// overflows.
	size := 512 // length unknown
	if r.ContentLength >= 0 {
		size = int(min(r.ContentLength, initialRead-1)) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, ErrTooLarge
		}
		return nil, ErrRead
	}
	return buf.Bytes(), nil
}

// statusOf maps a decoding error to its HTTP status.
func statusOf(err error) int {
	var fe *FieldErrors
	switch {
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrContentType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrTarget):
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// StatusOf returns the HTTP status the default rejection uses for err, an
// error returned by DecodeJSON, DecodeForm or DecodeQuery: 415, 413, 422,
// 400, or 500 for a programming error (a target that cannot be decoded
// into, a bad sanitize tag, or a validate rule that cannot check the value
// it met, such as max on a bool in an any field).
func StatusOf(err error) int { return statusOf(err) }

func (d *Decoder) reject(w http.ResponseWriter, r *http.Request, err error) {
	if d.onReject != nil {
		problem.SetReason(r, err)
		d.onReject(w, r, err)
		return
	}
	Reject(w, r, err)
}

// Reject writes the default response for err, an error returned by
// DecodeJSON, DecodeForm or DecodeQuery: a generic problem response with
// the status [StatusOf] gives, and for field errors a 422 whose "errors"
// member lists each field, rule and message. It is the default
// [Options.OnReject]; a custom OnReject can call it after logging.
func Reject(w http.ResponseWriter, r *http.Request, err error) {
	problem.SetReason(r, err)
	status := statusOf(err)
	var fe *FieldErrors
	if errors.As(err, &fe) {
		_ = problem.WriteProblem(w, &problem.Problem{
			Status:     status,
			Detail:     "The request has invalid fields.",
			Extensions: []problem.Member{{Name: "errors", Value: fe.Fields}},
		})
		return
	}
	problem.Write(w, status)
}
