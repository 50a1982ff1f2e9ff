package identity_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/identity"
)

func TestReadersAreIsolated(t *testing.T) {
	t.Parallel()
	roles := []string{"user", "admin"}
	claims := map[string]any{
		"sub":    "alice",
		"groups": []any{"ops", map[string]any{"team": "red"}},
		"meta":   map[string]any{"level": 3.0},
		"tags":   []string{"a"},
	}
	id := identity.New(identity.Options{Subject: "alice", Method: identity.MethodBearer, Roles: roles, Scopes: []string{"items:read"}, Claims: claims})
	ctx := identity.NewContext(context.Background(), id)

	tests := []struct {
		name   string
		mutate func()
	}{
		{"changing the Options slices after New", func() { roles[0] = "root" }},
		{"changing the Options claims after New", func() { claims["sub"] = "mallory"; claims["groups"].([]any)[0] = "root" }},
		{"changing the slice Roles returned", func() {
			got, _ := identity.FromContext(ctx)
			r := got.Roles()
			r[0] = "root"
			_ = append(r[:1], "root")
		}},
		{"changing the slice Scopes returned", func() {
			got, _ := identity.FromContext(ctx)
			s := got.Scopes()
			s[0] = "*"
		}},
		{"changing a nested claim returned by Claim", func() {
			got, _ := identity.FromContext(ctx)
			g, _ := got.Claim("groups")
			g.([]any)[1].(map[string]any)["team"] = "blue"
			m, _ := got.Claim("meta")
			m.(map[string]any)["level"] = 99.0
			tg, _ := got.Claim("tags")
			tg.([]string)[0] = "z"
		}},
		{"changing the map Claims returned", func() {
			got, _ := identity.FromContext(ctx)
			c := got.Claims()
			c["sub"] = "mallory"
			c["groups"].([]any)[0] = "root"
		}},
	}
	for _, tt := range tests {
		tt.mutate()
		got, ok := identity.FromContext(ctx)
		if !ok {
			t.Fatalf("%s: identity lost", tt.name)
		}
		if got.Subject() != "alice" || got.Method() != identity.MethodBearer {
			t.Errorf("%s: subject/method changed: %q %q", tt.name, got.Subject(), got.Method())
		}
		if r := got.Roles(); !slices.Equal(r, []string{"user", "admin"}) {
			t.Errorf("%s: roles changed: %v", tt.name, r)
		}
		if s := got.Scopes(); !slices.Equal(s, []string{"items:read"}) {
			t.Errorf("%s: scopes changed: %v", tt.name, s)
		}
		if sub, _ := got.Claim("sub"); sub != "alice" {
			t.Errorf("%s: claim sub changed: %v", tt.name, sub)
		}
		g, _ := got.Claim("groups")
		if g.([]any)[0] != "ops" || g.([]any)[1].(map[string]any)["team"] != "red" {
			t.Errorf("%s: nested claim changed: %v", tt.name, g)
		}
		if m, _ := got.Claim("meta"); m.(map[string]any)["level"] != 3.0 {
			t.Errorf("%s: nested map claim changed: %v", tt.name, m)
		}
		if tg, _ := got.Claim("tags"); tg.([]string)[0] != "a" {
			t.Errorf("%s: []string claim changed: %v", tt.name, tg)
		}
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	id := identity.New(identity.Options{Subject: "bob", Method: identity.MethodSession, Roles: []string{"user", "user", "guest"}, Scopes: []string{"a", "b"}})
	if id.NumRoles() != 2 || id.Role(0) != "user" || id.Role(1) != "guest" {
		t.Errorf("duplicate roles not folded: %v", id.Roles())
	}
	if !id.HasRole("guest") || id.HasRole("admin") || id.HasRole("User") {
		t.Error("HasRole wrong")
	}
	if id.NumScopes() != 2 || id.Scope(1) != "b" || !id.HasScope("a") || id.HasScope("c") {
		t.Error("scopes wrong")
	}
	if _, ok := id.Claim("x"); ok {
		t.Error("Claim reported a missing claim")
	}
	if id.Claims() != nil {
		t.Error("Claims of an identity without claims is not nil")
	}
	if id.IsZero() {
		t.Error("IsZero on a real identity")
	}
	var zero identity.Identity
	if !zero.IsZero() || zero.HasRole("") || zero.NumRoles() != 0 || zero.Subject() != "" {
		t.Error("zero identity is not anonymous")
	}
}

func TestWithMethod(t *testing.T) {
	id := identity.New(identity.Options{Subject: "bob", Method: identity.MethodBasic, Roles: []string{"user"}})
	s := id.WithMethod(identity.MethodSession)
	if s.Method() != identity.MethodSession || id.Method() != identity.MethodBasic {
		t.Errorf("methods %q %q", s.Method(), id.Method())
	}
	if s.Subject() != "bob" || !s.HasRole("user") {
		t.Error("WithMethod lost the principal")
	}
	r := s.Roles()
	r[0] = "admin"
	if !id.HasRole("user") || !s.HasRole("user") {
		t.Error("roles shared mutably")
	}
	if n := testing.AllocsPerRun(100, func() { _ = id.WithMethod(identity.MethodBearer) }); n != 0 {
		t.Errorf("WithMethod allocates %v", n)
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	if _, ok := identity.FromRequest(r); ok {
		t.Error("identity found in a bare request")
	}
	id := identity.New(identity.Options{Subject: "carol", Method: identity.MethodAPIKey})
	r = r.WithContext(identity.NewContext(r.Context(), id))
	got, ok := identity.FromRequest(r)
	if !ok || got.Subject() != "carol" || got.Method() != identity.MethodAPIKey {
		t.Errorf("FromRequest = %v, %v", got.Subject(), ok)
	}
}

func TestRecorderSeesInnerIdentity(t *testing.T) {
	t.Parallel()
	ctx, rec := identity.WithRecorder(context.Background())
	if _, ok := rec.Identity(); ok {
		t.Error("empty recorder reports an identity")
	}
	inner := identity.NewContext(ctx, identity.New(identity.Options{Subject: "dave"}))
	_ = inner
	got, ok := rec.Identity()
	if !ok || got.Subject() != "dave" {
		t.Errorf("recorder = %q, %v", got.Subject(), ok)
	}
	var nilRec *identity.Recorder
	if _, ok := nilRec.Identity(); ok {
		t.Error("nil recorder reports an identity")
	}
}

func TestConcurrentReaders(t *testing.T) {
	t.Parallel()
	ctx := identity.NewContext(context.Background(), identity.New(identity.Options{
		Subject: "eve", Roles: []string{"user"}, Claims: map[string]any{"m": map[string]any{"k": "v"}},
	}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				id, _ := identity.FromContext(ctx)
				r := id.Roles()
				r[0] = "admin"
				c := id.Claims()
				c["m"].(map[string]any)["k"] = "x"
				if !id.HasRole("user") {
					t.Error("role changed under a concurrent reader")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestReadsAllocateNothing(t *testing.T) {
	ctx := identity.NewContext(context.Background(), identity.New(identity.Options{Subject: "f", Roles: []string{"user", "admin"}}))
	n := testing.AllocsPerRun(100, func() {
		id, _ := identity.FromContext(ctx)
		_ = id.HasRole("admin")
		for i := 0; i < id.NumRoles(); i++ {
			_ = id.Role(i)
		}
	})
	if n != 0 {
		t.Errorf("reading allocates %v times", n)
	}
}

func BenchmarkFromContext(b *testing.B) {
	ctx := identity.NewContext(context.Background(), identity.New(identity.Options{Subject: "f", Roles: []string{"user", "admin"}}))
	b.ReportAllocs()
	for b.Loop() {
		id, _ := identity.FromContext(ctx)
		_ = id.HasRole("admin")
	}
}

// A claim of a slice or map type other than the ones a JSON decoder makes
// ([]int, []map[string]any, map[string][]string, json.RawMessage, ...) must
// be copied as deeply as the others: a handler that changes what Claim or
// Claims returned, or the caller that changes its Options afterwards, must
// not change the claim every later request of the same principal sees.
func TestClaimsOfOtherSliceAndMapTypesAreCopied(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		value  func() any
		mutate func(v any)
	}{
		{"[]int", func() any { return []int{1, 2} }, func(v any) { v.([]int)[0] = 99 }},
		{"[]map[string]any", func() any { return []map[string]any{{"team": "red"}} },
			func(v any) { v.([]map[string]any)[0]["team"] = "blue" }},
		{"map[string][]string", func() any { return map[string][]string{"org": {"a"}} },
			func(v any) { v.(map[string][]string)["org"][0] = "z" }},
		{"[][]string", func() any { return [][]string{{"a"}} }, func(v any) { v.([][]string)[0][0] = "z" }},
		{"json.RawMessage", func() any { return json.RawMessage(`"a"`) }, func(v any) { v.(json.RawMessage)[1] = 'z' }},
		{"map[string]int", func() any { return map[string]int{"level": 1} }, func(v any) { v.(map[string]int)["level"] = 9 }},
		{"[]any holding []int", func() any { return []any{[]int{1}} }, func(v any) { v.([]any)[0].([]int)[0] = 99 }},
		{"map[string]any holding []float64", func() any { return map[string]any{"k": []float64{1}} },
			func(v any) { v.(map[string]any)["k"].([]float64)[0] = 99 }},
		{"[1][]string", func() any { return [1][]string{{"a"}} }, func(v any) { v.([1][]string)[0][0] = "z" }},
		{"[][1][]string", func() any { return [][1][]string{{{"a"}}} }, func(v any) { v.([][1][]string)[0][0][0] = "z" }},
		{"map[string][1]map[string]int", func() any { return map[string][1]map[string]int{"k": {{"level": 1}}} },
			func(v any) { v.(map[string][1]map[string]int)["k"][0]["level"] = 9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.value()
			opt := tt.value()
			id := identity.New(identity.Options{Subject: "alice", Claims: map[string]any{"c": opt}})
			tt.mutate(opt) // the caller's Options, after New
			if v, _ := id.Claim("c"); v != nil {
				tt.mutate(v) // a handler changing what Claim returned
			}
			tt.mutate(id.Claims()["c"]) // ... or what Claims returned
			got, _ := id.Claim("c")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("claim changed to %v, want %v", got, want)
			}
		})
	}
}

func TestClaimsNilValuesKept(t *testing.T) {
	t.Parallel()
	id := identity.New(identity.Options{Subject: "a", Claims: map[string]any{
		"nil": nil, "nilSlice": []int(nil), "nilMap": map[string]int(nil), "list": []any{nil, 1.0},
		"nilList": []any(nil), "nilObject": map[string]any(nil), "nested": map[string]any{"groups": []any(nil)},
	}})
	want := map[string]any{"nil": nil, "nilSlice": []int(nil), "nilMap": map[string]int(nil), "list": []any{nil, 1.0},
		"nilList": []any(nil), "nilObject": map[string]any(nil), "nested": map[string]any{"groups": []any(nil)}}
	if got := id.Claims(); !reflect.DeepEqual(got, want) {
		t.Errorf("Claims() = %#v, want %#v", got, want)
	}
}

// BenchmarkClaimRawMessage reads a 1 KiB json.RawMessage claim: a slice
// of plain elements is copied at once, not element by element.
func BenchmarkClaimRawMessage(b *testing.B) {
	raw := json.RawMessage(`"` + strings.Repeat("a", 1022) + `"`)
	id := identity.New(identity.Options{Subject: "alice", Claims: map[string]any{"raw": raw}})
	b.ReportAllocs()
	for b.Loop() {
		if v, _ := id.Claim("raw"); len(v.(json.RawMessage)) != len(raw) {
			b.Fatal("claim changed")
		}
	}
}

// New removes repeated roles and scopes in time linear in their number: a
// token or session may carry thousands, and New runs for every request
// that is not answered from a cache. Measured before: 4 000 distinct roles
// took 24 ms, and 50 000 roles with as many scopes 7.4 s, comparing each
// with every one kept.
func TestNewDedupesLongListsInLinearTime(t *testing.T) {
	const n = 50_000
	roles := make([]string, 0, n+2)
	for i := range n {
		roles = append(roles, "role-"+strconv.Itoa(i))
	}
	roles = append(roles, "role-7", "role-0") // repeats, dropped
	start := time.Now()
	id := identity.New(identity.Options{Subject: "s", Roles: roles, Scopes: roles})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("New with %d roles and scopes took %v; want well under 2 s", n, d)
	}
	if id.NumRoles() != n || id.NumScopes() != n {
		t.Fatalf("%d roles, %d scopes; want %d each", id.NumRoles(), id.NumScopes(), n)
	}
	if id.Role(0) != "role-0" || id.Role(7) != "role-7" || id.Role(n-1) != roles[n-1] {
		t.Errorf("order changed: %q %q %q", id.Role(0), id.Role(7), id.Role(n-1))
	}
}

// Both ways of dropping repeats, the short scan and the set, keep the
// first occurrence of each element, in order.
func TestNewDedupeKeepsFirstPositions(t *testing.T) {
	for _, n := range []int{3, 32, 33, 100} {
		var in, want []string
		for i := range n {
			s := strconv.Itoa(i % (n/2 + 1))
			in = append(in, s)
			if !slices.Contains(want, s) {
				want = append(want, s)
			}
		}
		if got := identity.New(identity.Options{Roles: in}).Roles(); !slices.Equal(got, want) {
			t.Errorf("n=%d: roles %q; want %q", n, got, want)
		}
	}
}

// TestRecorderKeepsTheLastIdentity: Recorder.Identity returns the last
// identity recorded (an inner middleware that replaces the identity, as
// a session after a login, is what the access log must see), and a
// Recorder is safe for concurrent use.
func TestRecorderKeepsTheLastIdentity(t *testing.T) {
	t.Parallel()
	ctx, rec := identity.WithRecorder(context.Background())
	_ = identity.NewContext(ctx, identity.New(identity.Options{Subject: "first"}))
	inner := identity.NewContext(ctx, identity.New(identity.Options{Subject: "second"}))
	_ = identity.NewContext(inner, identity.New(identity.Options{Subject: "last"}))
	if got, ok := rec.Identity(); !ok || got.Subject() != "last" {
		t.Errorf("recorder = %q, %v; want the last identity recorded", got.Subject(), ok)
	}
	var zero identity.Recorder
	if _, ok := zero.Identity(); ok {
		t.Error("zero recorder reports an identity")
	}

	ctx, rec = identity.WithRecorder(context.Background())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 200 {
				_ = identity.NewContext(ctx, identity.New(identity.Options{Subject: string(rune('a' + i))}))
				if id, ok := rec.Identity(); !ok || id.Subject() == "" {
					t.Error("a concurrent reader saw no identity after one was recorded")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNestedRecordersEachSeeTheIdentity(t *testing.T) {
	t.Parallel()
	// Two middlewares further out than the authenticating one (an outer
	// access log and one on a sub-router) each install a Recorder.
	ctx, outer := identity.WithRecorder(context.Background())
	ctx, inner := identity.WithRecorder(ctx)
	_ = identity.NewContext(ctx, identity.New(identity.Options{Subject: "frank"}))
	for name, rec := range map[string]*identity.Recorder{"outer": outer, "inner": inner} {
		if got, ok := rec.Identity(); !ok || got.Subject() != "frank" {
			t.Errorf("%s recorder = %q, %v; want frank", name, got.Subject(), ok)
		}
	}
}
