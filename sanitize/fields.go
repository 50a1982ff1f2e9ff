package sanitize

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

// A `sanitize` struct tag lists operations applied to a string field (or
// the strings in a slice, array, pointer or map value field) in order,
// after decoding and before validation:
//
//	trim          remove leading and trailing Unicode white space
//	nfc           normalise to Unicode NFC, so that visually equal
//	              strings compare equal
//	lower, upper  change case
//	html=NAME     sanitize HTML with the named policy: "strict" (text
//	              only), "ugc" (user content), or a name in Options.Policies
//	text          text only: the built-in strict policy, which a policy
//	              named "strict" in Options.Policies does not replace
//
// html=NAME and text must come last: an operation after them could undo
// the sanitizing (NFC merges ">" and U+0338 into "≯", which reopens a
// tag), so a tag such as "html=ugc,nfc" is refused.
//
// Nested structs are walked whether or not they are tagged, and so are
// the structs a slice, array, map or pointer target holds. An unknown
// operation or policy, or an operation after html=NAME or text, is a
// programming error, reported as ErrTarget (500) the first time the type
// is decoded.
type stringOp func(string) string

type fieldPlan struct {
	index int
	ops   []stringOp
	walk  bool      // the field's type contains structs to walk
	sub   *typePlan // with walk: the plan of that struct type
}

type typePlan struct {
	fields []fieldPlan
	embeds []*typePlan // of the embedded structs of unexported types
	err    error
}

// planCache holds one plan per struct type, per Decoder (policy names are
// the Decoder's).
type planCache struct {
	mu    sync.Mutex
	plans map[reflect.Type]*typePlan
	// While plan builds: the plans made, and the embedded structs of
	// unexported types met, checked once every plan is complete.
	pass     []*typePlan
	deferred []embedCheck
}

// embedCheck is an embedded struct of an unexported type: its fields are
// filled by encoding/json but cannot be set through reflect.
type embedCheck struct {
	parent, sub *typePlan
	where       string
}

func (d *Decoder) plan(t reflect.Type) *typePlan {
	pc := &d.plans
	pc.mu.Lock()
	if pc.plans == nil {
		pc.plans = map[reflect.Type]*typePlan{}
	}
	defer pc.mu.Unlock()
	p := d.buildPlan(pc, t)
	// Every plan of this pass is complete now, recursive ones included
	// (found in review: checked while still being built, a recursive
	// type either slipped through or, assumed to sanitize, was refused
	// without a single tag).
	for _, e := range pc.deferred {
		if e.parent.err == nil && pc.sanitizes(e.sub, map[*typePlan]bool{}) {
			e.parent.err = fmt.Errorf("%w: %s: an embedded struct of an unexported type with sanitize tags (export the type)", ErrTarget, e.where)
		}
	}
	// Then every plan of the pass that holds one in error, through a
	// field or an embedded struct, however deep, is in error too; no
	// other is (found in review: the first version refused every plan of
	// the pass, the embedded type's own and unrelated siblings included).
	for changed := len(pc.deferred) > 0; changed; {
		changed = false
		for _, q := range pc.pass {
			if q.err == nil {
				if err := q.heldErr(); err != nil {
					q.err, changed = err, true
				}
			}
		}
	}
	pc.pass, pc.deferred = nil, nil
	return p
}

// heldErr returns the error of a plan p holds through a field or an
// embedded struct of an unexported type, or nil.
func (p *typePlan) heldErr() error {
	for _, f := range p.fields {
		if f.sub != nil && f.sub.err != nil {
			return f.sub.err
		}
	}
	for _, e := range p.embeds {
		if e.err != nil {
			return e.err
		}
	}
	return nil
}

// buildPlan is called with pc.mu held. Recursive types terminate because a
// plan is registered before its fields are planned.
func (d *Decoder) buildPlan(pc *planCache, t reflect.Type) *typePlan {
	if p, ok := pc.plans[t]; ok {
		return p
	}
	p := &typePlan{}
	pc.plans[t] = p
	pc.pass = append(pc.pass, p)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			// encoding/json fills the exported fields of an embedded
			// struct of an unexported type, but reflect cannot set them:
			// their sanitize tags would be skipped silently (found in
			// review: stored XSS through an embedded base struct).
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				sub := d.buildPlan(pc, sf.Type)
				if sub.err != nil {
					p.err = sub.err
					return p
				}
				pc.deferred = append(pc.deferred, embedCheck{p, sub, t.Name() + "." + sf.Name})
				p.embeds = append(p.embeds, sub)
			}
			continue
		}
		fp := fieldPlan{index: i}
		if name := d.paramOnRule(sf.Tag.Get("validate")); name != "" {
			p.err = fmt.Errorf("%w: %s.%s: the validate rule %q takes no parameter", ErrTarget, t.Name(), sf.Name, name)
			return p
		}
		if tag, ok := sf.Tag.Lookup("sanitize"); ok && tag != "" && tag != "-" {
			ops, err := d.parseOps(tag)
			if err != nil {
				p.err = fmt.Errorf("%w: %s.%s: %v", ErrTarget, t.Name(), sf.Name, err)
				return p
			}
			if !holdsStrings(sf.Type) {
				p.err = fmt.Errorf("%w: %s.%s: sanitize tag on a field without strings", ErrTarget, t.Name(), sf.Name)
				return p
			}
			fp.ops = ops
		}
		if st := structIn(sf.Type); st != nil {
			fp.walk = true
			sub := d.buildPlan(pc, st)
			if sub.err != nil {
				p.err = sub.err
				return p
			}
			fp.sub = sub
		}
		if fp.ops != nil || fp.walk {
			p.fields = append(p.fields, fp)
		}
	}
	return p
}

// sanitizes reports whether p has a sanitize operation anywhere, in its
// own fields or in the structs they hold. Only tags count: a field that
// merely holds a struct (a time.Time) is walked but changes nothing.
// pc.mu must be held.
func (pc *planCache) sanitizes(p *typePlan, seen map[*typePlan]bool) bool {
	if seen[p] {
		return false
	}
	seen[p] = true
	for _, f := range p.fields {
		if f.ops != nil {
			return true
		}
		if f.walk && f.sub != nil && pc.sanitizes(f.sub, seen) {
			return true
		}
	}
	return false
}

func (d *Decoder) parseOps(tag string) ([]stringOp, error) {
	var ops []stringOp
	last := "" // the html=NAME or text operation seen, if any
	for item := range strings.SplitSeq(tag, ",") {
		item = strings.TrimSpace(item)
		// Found in review: "html=ugc,nfc" let NFC merge ">" and U+0338
		// after sanitizing, reopening a tag with an event handler.
		if last != "" {
			return nil, fmt.Errorf("operation %q after %q: html=NAME and text must be the last operation", item, last)
		}
		name, arg, hasArg := strings.Cut(item, "=")
		if name == "html" || name == "text" {
			last = item
		}
		switch {
		case name == "trim" && !hasArg:
			ops = append(ops, strings.TrimSpace)
		case name == "nfc" && !hasArg:
			ops = append(ops, norm.NFC.String)
		case name == "lower" && !hasArg:
			ops = append(ops, strings.ToLower)
		case name == "upper" && !hasArg:
			ops = append(ops, strings.ToUpper)
		case name == "text" && !hasArg:
			ops = append(ops, Strict().Sanitize)
		case name == "html" && hasArg:
			p, ok := d.policies[arg]
			if !ok {
				return nil, fmt.Errorf("unknown HTML policy %q", arg)
			}
			ops = append(ops, p.Sanitize)
		default:
			return nil, fmt.Errorf("unknown operation %q", item)
		}
	}
	return ops, nil
}

// maxElems bounds the pointers, slices, arrays and maps elemOf looks
// through: only a type made of itself, such as type L []L,
// has more, and it holds no string and no struct (found in review: such a
// type recursed without end).
const maxElems = 100

// holdsStrings reports whether t is a string or contains strings directly
// (through pointers, slices, arrays or map values).
func holdsStrings(t reflect.Type) bool {
	e := elemOf(t)
	return e != nil && e.Kind() == reflect.String
}

// structIn returns the struct type t holds directly or through pointers,
// slices, arrays or map values, or nil.
func structIn(t reflect.Type) reflect.Type {
	if e := elemOf(t); e != nil && e.Kind() == reflect.Struct {
		return e
	}
	return nil
}

// elemOf returns the type t holds through pointers, slices, arrays and map
// values: t itself when it is none of them, and nil for a type made of
// itself.
func elemOf(t reflect.Type) reflect.Type {
	for range maxElems {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
	return nil
}

// sanitizeValue applies the sanitize tags to the struct v points to, or to
// the structs it holds through pointers, slices, arrays or map values,
// walking them as it walks a struct field of that type (found in review: a
// []Comment target skipped the tags of its elements).
func (d *Decoder) sanitizeValue(v reflect.Value) error {
	st := structIn(v.Type())
	if st == nil {
		return nil // no struct, so no tags
	}
	p := d.plan(st)
	if p.err != nil {
		return p.err // even when there is no element to apply it to
	}
	return d.apply(v, fieldPlan{walk: true, sub: p})
}

// sanitizeWith applies plan p, the plan of v's type, to the struct v.
func (d *Decoder) sanitizeWith(v reflect.Value, p *typePlan) error {
	if p.err != nil {
		return p.err
	}
	for _, fp := range p.fields {
		if err := d.apply(v.Field(fp.index), fp); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) apply(v reflect.Value, fp fieldPlan) error {
	switch v.Kind() {
	case reflect.String:
		if fp.ops != nil {
			s := v.String()
			for _, op := range fp.ops {
				s = op(s)
			}
			v.SetString(s)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return d.apply(v.Elem(), fp)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := d.apply(v.Index(i), fp); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(iter.Value())
			if err := d.apply(e, fp); err != nil {
				return err
			}
			v.SetMapIndex(iter.Key(), e)
		}
	case reflect.Struct:
		if fp.walk {
			// fp.sub is the plan of v's type: no lookup under the
			// cache's lock for each element of a []Item.
			return d.sanitizeWith(v, fp.sub)
		}
	}
	return nil
}
