package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
)

// upgradeHasher is a fast hasher whose VerifyContext, once it has
// verified, runs the function the request's context carries (to end that
// context between the verification and the upgrade), and which counts the
// upgrades HashContext computed and those it gave up, and the calls of the
// context-free Hash.
type upgradeHasher struct {
	*password.Hasher
	hashed, gaveUp, plain atomic.Int64
}

type afterVerifyKey struct{}

func (h *upgradeHasher) VerifyContext(ctx context.Context, pw, encoded string) (bool, bool, error) {
	ok, rehash, err := h.Hasher.VerifyContext(ctx, pw, encoded)
	if f, _ := ctx.Value(afterVerifyKey{}).(func()); f != nil {
		f()
	}
	return ok, rehash, err
}

func (h *upgradeHasher) HashContext(ctx context.Context, pw string) (string, error) {
	s, err := h.Hasher.HashContext(ctx, pw)
	if err != nil {
		h.gaveUp.Add(1)
	} else {
		h.hashed.Add(1)
	}
	return s, err
}

func (h *upgradeHasher) Hash(pw string) (string, error) {
	h.plain.Add(1)
	return h.Hasher.Hash(pw)
}

// leaving returns a request modifier whose context ends once the password
// has been verified, as when the client hangs up during the verification.
func leaving(r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	*r = *r.WithContext(context.WithValue(ctx, afterVerifyKey{}, func() { cancel() }))
}

// The new hash that OnRehash stores after a login against an outdated hash
// is computed with the request's context: when the client has gone, the
// upgrade is left for its next login rather than taking a hashing turn
// from the clients still waiting. The login itself still succeeds: it was
// verified. Before, the upgrade was hashed through the context-free Hash
// whatever became of the request.
func TestRehashFollowsTheRequestContext(t *testing.T) {
	tests := []struct {
		name     string
		leave    bool
		upgraded int64 // OnRehash calls, and upgrades hashed
	}{
		{"a client that waits gets its hash upgraded", false, 1},
		{"a client that left gets none", true, 0},
	}
	check := func(t *testing.T, h *upgradeHasher, rehashes *atomic.Int64, upgraded int64) {
		t.Helper()
		if h.plain.Load() != 0 {
			t.Errorf("the upgrade was hashed %d times without the request's context", h.plain.Load())
		}
		if rehashes.Load() != upgraded || h.hashed.Load() != upgraded || h.gaveUp.Load() != 1-upgraded {
			t.Errorf("OnRehash calls %d, upgrades hashed %d, given up %d; want %d, %d, %d",
				rehashes.Load(), h.hashed.Load(), h.gaveUp.Load(), upgraded, upgraded, 1-upgraded)
		}
	}
	for _, tt := range tests {
		t.Run("basic/"+tt.name, func(t *testing.T) {
			// bob's stored hash is bcrypt, which every login upgrades.
			h := &upgradeHasher{Hasher: fastHasher}
			var rehashes atomic.Int64
			s := newBasic(t, func(o *auth.BasicOptions) {
				o.Hasher = h
				o.OnRehash = func(context.Context, string, string, string) error {
					rehashes.Add(1)
					return nil
				}
			})
			h.hashed.Store(0) // the dummy hash of NewBasic
			h.plain.Store(0)
			r := httptest.NewRequest(http.MethodGet, "/secure-data/", nil)
			r.SetBasicAuth("bob", "builder")
			if tt.leave {
				leaving(r)
			}
			w := httptest.NewRecorder()
			s.basic.Handler(whoami).ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", w.Code)
			}
			check(t, h, &rehashes, tt.upgraded)
		})
		t.Run("token endpoint/"+tt.name, func(t *testing.T) {
			// The fixture's hashes have less memory than this hasher
			// asks for: every login upgrades them.
			h := &upgradeHasher{Hasher: password.MustNew(password.Options{
				Params:                     password.Params{Memory: 128, Time: 1, Threads: 1},
				DangerouslyAllowWeakParams: true,
			})}
			var rehashes atomic.Int64
			f := newOAuth(t, func(o *auth.TokenEndpointOptions) {
				o.Hasher = h
				o.OnRehash = func(context.Context, string, string, string) error {
					rehashes.Add(1)
					return nil
				}
			})
			h.hashed.Store(0)
			h.plain.Store(0)
			var mod func(*http.Request)
			if tt.leave {
				mod = leaving
			}
			res := f.post(t, form("grant_type", "password", "username", "bob", "password", "battery staple", "client_id", "web"), mod)
			if res.status != http.StatusOK {
				t.Fatalf("login: %d %s", res.status, res.raw)
			}
			check(t, h, &rehashes, tt.upgraded)
		})
	}
}
