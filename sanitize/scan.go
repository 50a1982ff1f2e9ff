package sanitize

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkStructure walks a JSON text once, before it is decoded, and reports
// nesting deeper than maxDepth and objects that repeat a key. It does not
// validate the syntax: the decoder does that afterwards. It never panics on
// malformed input.
func checkStructure(b []byte, maxDepth int) error {
	return checkJSON(b, maxDepth, nil)
}

// checkJSON is checkStructure that also reports, with errCaseVariant, a
// member of an object decoded into a struct whose name matches one of the
// struct's JSON names only in letter case, following root, the shape of
// the target, through the text's objects and arrays. A nil root checks no
// names. The shapes cost nothing per byte: the scan looks one up when an
// object or array opens and when a key is read.
func checkJSON(b []byte, maxDepth int, root *shape) error {
	const smallObject = 16
	type frame struct {
		object    bool
		expectKey bool
		keys      int                 // index into keys where this object's keys start
		set       map[string]struct{} // lower-cased keys, once the object is large
		shape     *shape              // this value's; nil: its names are free
		child     *shape              // the next value's: an element's, or the last key's member's
	}
	var stackBuf [16]frame
	stack := stackBuf[:0]
	var keysBuf [32]string
	keys := keysBuf[:0]

	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return errTooDeep
			}
			sh := root
			if n := len(stack); n > 0 {
				sh = stack[n-1].child
			}
			var child *shape
			switch {
			case sh == nil:
			case c == '{' && sh.kind == shapeMap, c == '[' && sh.kind == shapeList:
				child = sh.elem
			case c == '{' && sh.kind == shapeStruct:
				// child is set by each key.
			default:
				sh = nil // a value of the wrong type: the decoder refuses it
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{', keys: len(keys), shape: sh, child: child})
		case '}', ']':
			if len(stack) == 0 {
				return nil // malformed; the decoder reports it
			}
			keys = keys[:stack[len(stack)-1].keys]
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		case '"':
			start := i
			var escaped bool
			if i, escaped = stringEnd(b, i); i >= len(b) {
				return nil // unterminated string; the decoder reports it
			}
			n := len(stack)
			if n == 0 || !stack[n-1].object || !stack[n-1].expectKey {
				continue
			}
			stack[n-1].expectKey = false
			key, ok := stringText(b[start:i+1], escaped)
			if !ok {
				return nil // malformed escape; the decoder reports it
			}
			// encoding/json matches field names case-insensitively, so keys
			// differing only in case would also collide. Small objects are
			// checked by a linear scan; from smallObject keys on, a set
			// keeps a 100 000-key object linear.
			f := &stack[n-1]
			if f.set != nil {
				lk := foldKey(key)
				if _, dup := f.set[lk]; dup {
					return errDuplicateKey
				}
				f.set[lk] = struct{}{}
			} else {
				for _, k := range keys[f.keys:] {
					if strings.EqualFold(k, key) {
						return errDuplicateKey
					}
				}
				keys = append(keys, key)
				if len(keys)-f.keys >= smallObject {
					f.set = make(map[string]struct{}, 2*smallObject)
					for _, k := range keys[f.keys:] {
						f.set[foldKey(k)] = struct{}{}
					}
					keys = keys[:f.keys]
				}
			}
			// encoding/json takes a member whose name matches a field
			// only in letter case; a parser that matches names exactly
			// sees an unknown member. A name that matches nothing is left
			// to the decoder, which refuses or ignores it as configured.
			if sh := f.shape; sh != nil && sh.kind == shapeStruct {
				child, ok := sh.fields[key]
				if !ok && sh.folded[foldKey(key)] {
					return errCaseVariant
				}
				f.child = child
			}
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes the JSON string
// whose opening quote is b[start], or len(b) if none does, and whether
// the string holds an escape.
func stringEnd(b []byte, start int) (end int, escaped bool) {
	i := start + 1
	for ; i < len(b) && b[i] != '"'; i++ {
		if b[i] == '\\' {
			escaped = true
			i++
		}
	}
	return min(i, len(b)), escaped
}

// stringText returns the text of lit, a JSON string with its quotes that
// holds an escape if escaped, and false for an escape that is not valid.
func stringText(lit []byte, escaped bool) (string, bool) {
	if !escaped {
		return string(lit[1 : len(lit)-1]), true
	}
	var s string
	return s, json.Unmarshal(lit, &s) == nil
}

// foldKey returns key folded as encoding/json matches field names, so that
// two keys fold to the same string exactly when strings.EqualFold says
// they are equal: every rune becomes the smallest rune of its case-folding
// orbit, and an ASCII capital then its small letter, so that an ASCII key
// folds as strings.ToLower folds it, without allocating when it is already
// in lower case. strings.ToLower alone is not that fold: "ſ" (U+017F)
// folds to "s" and the Kelvin sign to "k", which encoding/json matches to
// the fields "s" and "k" (found in review: past smallObject keys, "ſub"
// slipped past a "sub" and overwrote it). It is not internal/casefold's
// fold, which also takes "İ" and "ı" for "i", as encoding/json does not.
func foldKey(key string) string {
	ascii := true
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(key)
	}
	b := make([]byte, 0, len(key))
	for _, r := range key {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
