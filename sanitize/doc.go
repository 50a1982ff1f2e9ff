// Package sanitize handles untrusted input: it sanitizes HTML with
// compiled bluemonday policies, decodes request bodies strictly and within
// bounds, applies declarative field sanitizing, and validates the result
// with go-playground/validator, answering 422 with one entry per failing
// field.
//
// # HTML
//
// [Strict] removes all markup; [UserContent] keeps formatting and safe
// links (rel="nofollow", and target="_blank" with rel="noopener" for links
// that name a host, this site's own included). [Text] is Strict for plain
// strings. [NewPolicy] wraps a custom bluemonday policy. Policies are
// compiled once and safe for concurrent use. Their output is balanced:
// it closes every element it opens and no other, so a comment cannot
// leave a link or bold open over the rest of the page, nor close the
// page's own list (for a policy of [NewPolicy], see there which elements
// this covers).
//
// Sanitize HTML on the way in only when the field really is HTML. For
// everything else, store the text as it is and let html/template escape it
// on the way out: escaping at output is the defence against cross-site
// scripting, sanitizing is for content that must stay HTML.
//
// # Decoding
//
// [DecodeJSON] decodes a JSON body into a typed value:
//
//	type Comment struct {
//		Body string `json:"body" sanitize:"trim,nfc,html=ugc" validate:"required,max=2000"`
//	}
//	c, err := sanitize.DecodeJSON[Comment](nil, w, r) // nil: the default Decoder; New builds others
//	if err != nil {
//		return // the 4xx response has been written
//	}
//
// It checks, in order: the Content-Type (415), the body size through
// [net/http.MaxBytesReader] (413, default 1 MiB), UTF-8 without NUL
// characters or escaped lone surrogates ("\ud800"), nesting depth, repeated
// keys and member names that match a field's only in letter case (400: names
// match exactly); then it decodes, refusing malformed JSON and unknown fields
// (400) and values of the wrong type or numbers out of their field's range
// (422); it checks that exactly one JSON value was sent (400), then applies
// the `sanitize` tags and validates with the `validate` tags (422).
// [DecodeForm] and [DecodeQuery] do the same for form bodies and query
// strings. A slice, array or map of structs is sanitized and validated item
// by item, and a null item of it is refused as a null body is.
//
// [Unmarshal] applies the same checks, but the Content-Type's, to JSON
// that does not come in a request (a configuration file, a queue
// message), given as bytes, and writes nothing:
//
//	cfg, err := sanitize.Unmarshal[Config](nil, data)
//
// A `sanitize` tag lists operations applied in order: trim, nfc, lower,
// upper, and html=NAME or text, which must come last (an operation after
// them could undo the sanitizing, so such a tag is refused).
//
// A 422 response lists each field by its JSON name (for a form or a
// query, its form name) with the failed rule and a message:
//
//	{"type":"about:blank","title":"Unprocessable Entity","status":422,
//	 "detail":"The request has invalid fields.",
//	 "errors":[{"field":"email","rule":"email","message":"must be an email address"}]}
//
// The list holds at most [MaxFieldErrors] entries; if more fields failed,
// checking stops and a last entry says so:
//
//	{"field":"(more)","rule":"truncated","message":"more fields failed; only the first 100 are listed"}
//
// No response ever contains the submitted value, an unknown field's name,
// a map key (a path shows it as "[*]", as in "labels[*]") or a decoder's
// error text.
//
// # Rules of the application's
//
// [Options.Rules] registers named rules for `validate` tags, checked as
// the built-in ones are and reported with their constant [Rule.Message]:
//
//	d, err := sanitize.New(sanitize.Options{Rules: map[string]sanitize.Rule{
//		"sku": sanitize.RuleFor(skuPattern.MatchString, "must be a SKU such as AB-1234"),
//	}})
//
//	SKU string `json:"sku" validate:"required,sku"`
//
// A rule cannot replace a built-in one and takes no parameter. A check
// across fields ("end after start") is a Validate method: a target type
// that implements [Validator] is asked once its tags have passed, and the
// entries it returns are answered with the same 422. A rule or Validate
// that panics, or an entry that is not constant text, is answered 500 as
// for [ErrTarget]; the Decoder keeps serving.
//
// # Whole routes
//
// [BodyLimit] refuses bodies that are too large or of the wrong type for
// every handler behind it, before they run.
//
// # SQL injection
//
// Sanitizing is not the defence against SQL injection: parameterized
// queries are. Pass user input as arguments, never in the query text:
//
//	row := db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = $1", id)
//
// and never build SQL with fmt.Sprintf or string concatenation, however
// the input was cleaned. Identifiers that cannot be parameters (a sort
// column) must come from a fixed allowlist in code.
//
// # Security considerations
//
// The limits bound memory per request, not the number of requests: put a
// rate limit in front. Duplicate keys are refused (including keys that
// differ only in letter case, which encoding/json would match to the same
// field) because parsers disagree on which value wins, a known way to
// smuggle values past a validating proxy. For the same reason a member
// name must match a field's exactly: encoding/json alone would set the
// field role from {"ROLE":"admin"} (or from "ſ" for "s", the Kelvin sign
// for "k"), a member that a gateway in another language, or json/v2,
// sees as unknown and lets through. Validation messages come from
// the struct tags' parameters, never from the request; those of
// [Options.Rules] and of a [Validator] come from the application, which
// must keep them constant: the package refuses control characters and
// text over 200 bytes in them, but cannot tell a constant from a value
// copied in.
package sanitize
