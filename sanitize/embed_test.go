package sanitize_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/httpguard/httpguard/sanitize"
)

type rvTagged struct {
	Body string `json:"body" sanitize:"text"`
}

// embeds the unexported tagged type: correctly refused
type rvEmbeds struct {
	rvTagged
}

// holds the same unexported type as a named exported field: sanitizable, fine
type RvHolds struct {
	In rvTagged `json:"in"`
}

type RvGood struct {
	Name string `json:"name" sanitize:"trim"`
}

type RvParent struct {
	Good RvGood   `json:"good"`
	Bad  rvEmbeds `json:"bad"`
}

func rvDecode[T any](d *sanitize.Decoder, body string) (T, error) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return sanitize.DecodeJSON[T](d, w, r)
}

// Found in review of the deferred embed check, whose first version put
// the error on every plan of the pass: a type holding rvTagged as a named
// field must decode whether or not a type embedding it was planned first.
func TestAnEmbedErrorDoesNotReachTheEmbeddedTypeItself(t *testing.T) {
	d1 := sanitize.MustNew(sanitize.Options{})
	if v, err := rvDecode[RvHolds](d1, `{"in":{"body":"<b>x</b>"}}`); err != nil {
		t.Fatalf("fresh decoder: %+v %v", v, err)
	}
	d2 := sanitize.MustNew(sanitize.Options{})
	if _, err := rvDecode[rvEmbeds](d2, `{"body":"x"}`); err == nil {
		t.Fatal("embed not refused")
	}
	if v, err := rvDecode[RvHolds](d2, `{"in":{"body":"<b>x</b>"}}`); err != nil {
		t.Errorf("RvHolds refused only because rvEmbeds was decoded first: %+v %v", v, err)
	}
}

// The same review: a sibling type of the pass that does not contain the
// bad embed was refused forever after.
func TestAnEmbedErrorDoesNotReachSiblingTypes(t *testing.T) {
	d := sanitize.MustNew(sanitize.Options{})
	if _, err := rvDecode[RvParent](d, `{}`); err == nil {
		t.Fatal("parent not refused")
	}
	if v, err := rvDecode[RvGood](d, `{"name":" a "}`); err != nil || v.Name != "a" {
		t.Errorf("RvGood refused after RvParent was decoded: %+v %v", v, err)
	}
}
