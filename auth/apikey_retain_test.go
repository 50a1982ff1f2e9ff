package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/identity"
)

// funcAPIKeys is an APIKeyStore of a function.
type funcAPIKeys func(id string) (auth.StoredAPIKey, bool)

func (f funcAPIKeys) LookupAPIKey(_ context.Context, id string) (auth.StoredAPIKey, bool, error) {
	k, ok := f(id)
	return k, ok, nil
}

// within reports whether s lies in the memory of v.
func within(s, v string) bool {
	if len(s) == 0 || len(v) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(v)))
	return lo <= p && p < lo+uintptr(len(v))
}

// The Subject an API key gets by default, its ID, is a string of its own,
// not a view of the request's header: the ID is a substring of the key, so
// a subject kept by the application (a per-identity rate limit's key, a
// cache, a log batch) kept the key's secret alive with it, as Basic's
// default Subject once kept the password.
func TestAPIKeySubjectKeepsNoSecret(t *testing.T) {
	g, err := auth.GenerateAPIKey("")
	if err != nil {
		t.Fatal(err)
	}
	mem := auth.NewMemoryAPIKeys()
	if err := mem.Add(g.ID, auth.StoredAPIKey{Hash: g.Hash}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		store auth.APIKeyStore
	}{
		{"MemoryAPIKeys", mem},
		{"another store", funcAPIKeys(func(id string) (auth.StoredAPIKey, bool) {
			return auth.StoredAPIKey{Hash: g.Hash}, id == g.ID
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := auth.MustNewAPIKey(auth.APIKeyOptions{Keys: tt.store})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-API-Key", g.Key)
			id, err := m.Authenticate(r)
			if err != nil || id.Subject() != g.ID || id.Method() != identity.MethodAPIKey {
				t.Fatalf("Authenticate = %q, %q, %v", id.Subject(), id.Method(), err)
			}
			if within(id.Subject(), r.Header.Get("X-API-Key")) {
				t.Error("the identity's Subject is a view of the header holding the key's secret")
			}
		})
	}
	// MemoryAPIKeys stores the Subject once, at Add: its keys pay no
	// copy per request. NewContext (2) and WithContext (1).
	if raceEnabled {
		return
	}
	h := auth.MustNewAPIKey(auth.APIKeyOptions{Keys: mem}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-API-Key", g.Key)
	w := &discard{h: http.Header{}}
	if got := testing.AllocsPerRun(100, func() { clear(w.h); h.ServeHTTP(w, r) }); got > 3 {
		t.Errorf("a MemoryAPIKeys key without a Subject: %v allocations per request; want at most 3", got)
	}
}
