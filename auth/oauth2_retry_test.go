package auth_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/auth"
)

// hookStore is a MemoryRefreshStore that records the calls it gets and
// lets a test change what Lookup answers.
type hookStore struct {
	*auth.MemoryRefreshStore
	mu     sync.Mutex
	calls  []string
	lookup func(ctx context.Context, hash string, t auth.RefreshToken, found bool) (auth.RefreshToken, bool)
}

func (s *hookStore) record(name string) {
	s.mu.Lock()
	s.calls = append(s.calls, name)
	s.mu.Unlock()
}

func (s *hookStore) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	s.record("Lookup")
	t, found, err := s.MemoryRefreshStore.Lookup(ctx, hash)
	s.mu.Lock()
	hook := s.lookup
	s.mu.Unlock()
	if hook != nil && err == nil {
		t, found = hook(ctx, hash, t, found)
	}
	return t, found, err
}

func (s *hookStore) Rotate(ctx context.Context, oldHash, newHash string, next auth.RefreshToken) error {
	s.record("Rotate")
	return s.MemoryRefreshStore.Rotate(ctx, oldHash, newHash, next)
}

func (s *hookStore) RotateRetryable(ctx context.Context, oldHash, newHash string, next auth.RefreshToken, at time.Time, sealed []byte) error {
	s.record("RotateRetryable")
	return s.MemoryRefreshStore.RotateRetryable(ctx, oldHash, newHash, next, at, sealed)
}

func (s *hookStore) setLookup(f func(ctx context.Context, hash string, t auth.RefreshToken, found bool) (auth.RefreshToken, bool)) {
	s.mu.Lock()
	s.lookup = f
	s.mu.Unlock()
}

// retryFixture is a token endpoint with a RefreshRetryWindow, on a clock
// the test moves.
type retryFixture struct {
	*oauthFixture
	hooks *hookStore
	now   time.Time
}

func newRetryFixture(t *testing.T, window time.Duration) *retryFixture {
	t.Helper()
	f := &retryFixture{hooks: &hookStore{MemoryRefreshStore: auth.NewMemoryRefreshStore()}, now: time.Now()}
	f.oauthFixture = newOAuth(t, func(o *auth.TokenEndpointOptions) {
		*o = auth.WithTokenEndpointClock(*o, func() time.Time { return f.now })
		o.RefreshStore = f.hooks
		o.RefreshRetryWindow = window
	})
	f.store = f.hooks.MemoryRefreshStore
	return f
}

func (f *retryFixture) login(t *testing.T) string {
	t.Helper()
	res := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	if res.status != http.StatusOK || res.str("refresh_token") == "" {
		t.Fatalf("login: %d %s", res.status, res.raw)
	}
	return res.str("refresh_token")
}

// refresh presents rt as the web client, with form parameters kv.
func (f *retryFixture) refresh(t *testing.T, rt string, kv ...string) tokenResult {
	t.Helper()
	return f.post(t, form(append([]string{"grant_type", "refresh_token", "refresh_token", rt, "client_id", "web"}, kv...)...), nil)
}

// rotate refreshes rt, expecting a new refresh token.
// refreshTogether sends n refreshes of rt at once, every one looking rt
// up, unrotated, before any rotates it, and returns their results.
func (f *retryFixture) refreshTogether(t *testing.T, rt string, n int) []tokenResult {
	t.Helper()
	var looked sync.WaitGroup
	looked.Add(n)
	f.hooks.setLookup(func(_ context.Context, hash string, tok auth.RefreshToken, found bool) (auth.RefreshToken, bool) {
		if hash == auth.HashRefreshToken(rt) && !tok.Used {
			looked.Done()
			looked.Wait()
		}
		return tok, found
	})
	defer f.hooks.setLookup(nil)
	results := make([]tokenResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = f.refresh(t, rt) })
	}
	wg.Wait()
	return results
}

func (f *retryFixture) rotate(t *testing.T, rt string) string {
	t.Helper()
	r := f.refresh(t, rt)
	if r.status != http.StatusOK || r.str("refresh_token") == "" || r.str("refresh_token") == rt {
		t.Fatalf("refresh: %d %s (%v)", r.status, r.raw, r.reason)
	}
	return r.str("refresh_token")
}

// A client that lost the response to a refresh retries with the rotated
// token within the window and gets the successor the server had issued,
// with a new access token, as often as it retries until it uses the
// successor; the successor then rotates as usual, and the rotated token
// presented once more revokes the family.
func TestTokenEndpointRefreshRetryAfterALostResponse(t *testing.T) {
	f := newRetryFixture(t, time.Minute)
	r0 := f.login(t)
	r1 := f.rotate(t, r0) // the response is lost
	var access []string
	for i, scope := range []string{"", "orders:read"} {
		f.now = f.now.Add(10 * time.Second)
		var kv []string
		if scope != "" {
			kv = []string{"scope", scope}
		}
		r := f.refresh(t, r0, kv...)
		if r.status != http.StatusOK || r.str("refresh_token") != r1 {
			t.Fatalf("retry %d: %d %s (%v); want 200 with the successor", i, r.status, r.raw, r.reason)
		}
		id, err := f.jwt.Verify(context.Background(), r.str("access_token"))
		if err != nil || id.Subject() != "alice" {
			t.Fatalf("retry %d: the access token does not verify: %v", i, err)
		}
		want := scope
		if want == "" {
			want = "orders:read orders:write"
		}
		if r.str("scope") != want || strings.Join(id.Scopes(), " ") != want {
			t.Errorf("retry %d: scope %q, token scopes %v; want %q", i, r.str("scope"), id.Scopes(), want)
		}
		access = append(access, r.str("access_token"))
	}
	if access[0] == access[1] {
		t.Error("two retries got the same access token")
	}
	// A retry asks for no more than a refresh may.
	if r := f.refresh(t, r0, "scope", "orders:read admin"); r.status != http.StatusBadRequest || r.str("error") != "invalid_scope" {
		t.Fatalf("a retry beyond the grant: %d %s", r.status, r.raw)
	}
	r2 := f.rotate(t, r1)
	if r := f.refresh(t, r0); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !errors.Is(r.reason, auth.ErrRefreshTokenReused) {
		t.Fatalf("a retry after the successor was used: %d %s (%v)", r.status, r.raw, r.reason)
	}
	if r := f.refresh(t, r2); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Fatalf("the family outlived the stale retry: %d %s", r.status, r.raw)
	}
}

// Every retry that is not a retry of a lost response, or that a refresh
// would refuse, revokes the family as without the window, and is never a
// 5xx.
func TestTokenEndpointRefreshRetryRefused(t *testing.T) {
	const window = time.Minute
	tests := []struct {
		name string
		// between runs after the rotation r0 → r1 and returns the
		// family's live token, if not r1.
		between func(t *testing.T, f *retryFixture, r0, r1 string) string
		mod     func(*http.Request) // of the retry
		reason  error
	}{
		{"after its successor was used", func(t *testing.T, f *retryFixture, _, r1 string) string {
			f.now = f.now.Add(10 * time.Second)
			return f.rotate(t, r1)
		}, nil, auth.ErrRetrySuccessorGone},
		{"after the window", func(t *testing.T, f *retryFixture, _, _ string) string {
			f.now = f.now.Add(window + time.Second)
			return ""
		}, nil, auth.ErrRefreshTokenReused},
		{"at the end of the window", func(t *testing.T, f *retryFixture, _, _ string) string {
			f.now = f.now.Add(window)
			return ""
		}, nil, auth.ErrRefreshTokenReused},
		{"after the window, a retry within it did not extend it", func(t *testing.T, f *retryFixture, r0, r1 string) string {
			f.now = f.now.Add(window - 10*time.Second)
			if r := f.refresh(t, r0); r.status != http.StatusOK || r.str("refresh_token") != r1 {
				t.Fatalf("retry within the window: %d %s", r.status, r.raw)
			}
			f.now = f.now.Add(20 * time.Second)
			return ""
		}, nil, auth.ErrRefreshTokenReused},
		{"rotated by an instance whose clock ran more than the window ahead", func(t *testing.T, f *retryFixture, _, _ string) string {
			f.now = f.now.Add(-window)
			return ""
		}, nil, auth.ErrRefreshTokenReused},
		{"by another client", nil, basicAuth("cli", "cli-secret"), auth.ErrRefreshClient},
		{"after a password change", func(t *testing.T, f *retryFixture, _, _ string) string {
			if err := f.users.UpdateHash(context.Background(), "alice", mustHash(t, "new password")); err != nil {
				t.Fatal(err)
			}
			return ""
		}, nil, auth.ErrRefreshCredential},
		{"after the user was deleted", func(t *testing.T, f *retryFixture, _, _ string) string {
			f.users.Delete("alice")
			return ""
		}, nil, auth.ErrRefreshUserGone},
		{"with a tampered sealed successor", func(t *testing.T, f *retryFixture, r0, _ string) string {
			f.hooks.setLookup(func(_ context.Context, hash string, t auth.RefreshToken, found bool) (auth.RefreshToken, bool) {
				if hash == auth.HashRefreshToken(r0) && len(t.Successor) > 0 {
					t.Successor[len(t.Successor)-1] ^= 1
				}
				return t, found
			})
			return ""
		}, nil, auth.ErrRetrySuccessorSeal},
		{"with its successor forgotten by the store", func(t *testing.T, f *retryFixture, _, r1 string) string {
			f.hooks.setLookup(func(_ context.Context, hash string, t auth.RefreshToken, found bool) (auth.RefreshToken, bool) {
				if hash == auth.HashRefreshToken(r1) {
					return auth.RefreshToken{}, false
				}
				return t, found
			})
			return ""
		}, nil, auth.ErrRetrySuccessorGone},
		{"with the family revoked as the retry is served", func(t *testing.T, f *retryFixture, _, r1 string) string {
			f.hooks.setLookup(func(ctx context.Context, hash string, t auth.RefreshToken, found bool) (auth.RefreshToken, bool) {
				if hash == auth.HashRefreshToken(r1) {
					// A logout lands between the lookups of r0 and r1.
					if err := f.hooks.RevokeFamily(ctx, t.Family, t.FamilyExpiresAt); err != nil {
						panic(err)
					}
					t.Revoked = true
				}
				return t, found
			})
			return ""
		}, nil, auth.ErrRetrySuccessorGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRetryFixture(t, window)
			r0 := f.login(t)
			r1 := f.rotate(t, r0)
			live := r1
			if tt.between != nil {
				if l := tt.between(t, f, r0, r1); l != "" {
					live = l
				}
			}
			retry := form("grant_type", "refresh_token", "refresh_token", r0, "client_id", "web")
			if tt.mod != nil {
				retry.Del("client_id")
			}
			r := f.post(t, retry, tt.mod)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !errors.Is(r.reason, tt.reason) {
				t.Fatalf("retry: %d %s (%v); want 400 invalid_grant (%v)", r.status, r.raw, r.reason, tt.reason)
			}
			if tt.reason == auth.ErrRefreshTokenReused && (errors.Is(r.reason, auth.ErrRetrySuccessorGone) || errors.Is(r.reason, auth.ErrRetrySuccessorSeal)) {
				t.Errorf("reason %v: the successor was looked at", r.reason)
			}
			f.hooks.setLookup(nil)
			if got, found, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(live)); found && !got.Revoked {
				t.Errorf("the family's live token is not revoked")
			}
		})
	}
}

// Without RefreshRetryWindow (the default), the store's plain Rotate is
// called, nothing is kept with the rotated token, and the rotated token
// presented again, however soon, revokes the family.
func TestTokenEndpointRefreshRetryWindowZero(t *testing.T) {
	for _, window := range []time.Duration{0, time.Minute} {
		t.Run(window.String(), func(t *testing.T) {
			f := newRetryFixture(t, window)
			r0 := f.login(t)
			r1 := f.rotate(t, r0)
			f.hooks.mu.Lock()
			calls := slices.Clone(f.hooks.calls)
			f.hooks.mu.Unlock()
			want := "RotateRetryable"
			if window == 0 {
				want = "Rotate"
			}
			if !slices.Equal(calls, []string{"Lookup", want}) {
				t.Errorf("store calls %v, want [Lookup %s]", calls, want)
			}
			old, _, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(r0))
			if kept := len(old.Successor) > 0 || !old.RotatedAt.IsZero(); kept != (window > 0) {
				t.Errorf("rotated token keeps a successor %v, at %v", old.Successor, old.RotatedAt)
			}
			if window > 0 {
				return
			}
			r := f.refresh(t, r0)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !errors.Is(r.reason, auth.ErrRefreshTokenReused) {
				t.Fatalf("retry without a window: %d %s (%v)", r.status, r.raw, r.reason)
			}
			if r := f.refresh(t, r1); r.status != http.StatusBadRequest {
				t.Fatalf("the family outlived the reuse: %d %s", r.status, r.raw)
			}
		})
	}
}

// The store holds the successor sealed: neither it nor its hash, in any
// encoding, is in what the store keeps with the rotated token, so a
// leaked store yields no usable token.
func TestTokenEndpointRefreshRetryStoresNoUsableToken(t *testing.T) {
	f := newRetryFixture(t, time.Minute)
	r0 := f.login(t)
	r1 := f.rotate(t, r0)
	old, found, err := f.store.Lookup(context.Background(), auth.HashRefreshToken(r0))
	if err != nil || !found || !old.Used || len(old.Successor) == 0 || !old.RotatedAt.Equal(f.now) {
		t.Fatalf("rotated token: %+v %v %v", old, found, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(r1)
	sum := sha256.Sum256([]byte(r1))
	for _, clear := range [][]byte{[]byte(r1), raw, []byte(auth.HashRefreshToken(r1)), sum[:]} {
		if bytes.Contains(old.Successor, clear) {
			t.Errorf("the store holds %q in clear", clear)
		}
	}
}

// The store and a rotated token are not enough to open its successor. A
// rotated token keeps its sealed successor until its own expiry
// (RefreshTokenTTL), long after the window, and each successor, once
// rotated, keeps the next: sealed under a key derived from the rotated
// token alone, a copy of the store (a Redis dump, a replica, a backup)
// and any rotated token of a family (one left in a log, or on a device
// sold since) opened the successors one after another up to the live
// token, offline and unnoticed, though presenting that rotated token
// would have revoked the family (found in review). The key also derives
// from the issuer's signing key, which the store does not hold.
func TestTokenEndpointRefreshRetryStoreAndRotatedTokenOpenNoSuccessor(t *testing.T) {
	f := newRetryFixture(t, time.Minute)
	r0 := f.login(t)
	r1 := f.rotate(t, r0)
	f.now = f.now.Add(time.Hour) // long after the window
	r2 := f.rotate(t, r1)
	// What the sealing key was derived from: the rotated token alone.
	open := func(old string, sealed []byte) (string, bool) {
		key, err := hkdf.Key(sha256.New, []byte(old), nil, "httpguard refresh successor", 32)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCMWithRandomNonce(block)
		next, err := aead.Open(nil, nil, sealed, []byte(auth.HashRefreshToken(old)))
		return string(next), err == nil
	}
	cur := r0
	for range 2 {
		rec, found, err := f.store.Lookup(context.Background(), auth.HashRefreshToken(cur))
		if err != nil || !found || len(rec.Successor) == 0 {
			t.Fatalf("rotated token: %+v %v %v", rec, found, err)
		}
		next, ok := open(cur, rec.Successor)
		if ok {
			t.Fatalf("the store and a rotated token open its successor (the live token: %v)", next == r2)
		}
		cur = map[string]string{r0: r1, r1: r2}[cur]
	}
	// The endpoint itself still answers a retry within the window.
	if r := f.refresh(t, r1); r.status != http.StatusOK || r.str("refresh_token") != r2 {
		t.Fatalf("retry within the window: %d %s", r.status, r.raw)
	}
}

// Requests that present one token at once, as a client that gave up on a
// refresh and sent it again while the first was still being served does,
// all get the one successor: the requests that lose the rotation take it
// for a retry. The family keeps one live token.
func TestTokenEndpointConcurrentRefreshesWithinTheWindowShareOneSuccessor(t *testing.T) {
	const n = 8
	f := newRetryFixture(t, time.Minute)
	r0 := f.login(t)
	results := f.refreshTogether(t, r0, n)
	for i, r := range results {
		if r.status != http.StatusOK || r.str("refresh_token") != results[0].str("refresh_token") {
			t.Fatalf("request %d: %d %s (%v); want 200 with the successor of the others", i, r.status, r.raw, r.reason)
		}
	}
	r1 := results[0].str("refresh_token")
	if f.store.Len() != 2 {
		t.Errorf("%d tokens held, want 2: the rotated one and its successor", f.store.Len())
	}
	f.rotate(t, r1)
}

func TestNewTokenEndpointRefreshRetryWindow(t *testing.T) {
	plain := struct{ auth.RefreshStore }{auth.NewMemoryRefreshStore()} // not a RetryableRefreshStore
	tests := []struct {
		name   string
		window time.Duration
		store  auth.RefreshStore
		want   string // "" for no error
	}{
		{"negative", -time.Second, nil, "RefreshRetryWindow must be between 0 and 2m0s"},
		{"over two minutes", auth.MaxRefreshRetryWindow + time.Millisecond, nil, "RefreshRetryWindow must be between 0 and 2m0s"},
		{"with a store that cannot keep a successor", time.Second, plain, "needs a RefreshStore that implements RetryableRefreshStore"},
		{"two minutes", auth.MaxRefreshRetryWindow, nil, ""},
		{"with the default store", time.Second, nil, ""},
		{"zero, with a store that cannot keep a successor", 0, plain, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := keysOnce()
			iss, _ := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{Algorithm: auth.AlgHS256, Key: k.hmac}, Issuer: "https://i.example"})
			_, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
				Issuer: iss, Users: auth.NewMemoryUsers(), Hasher: oauthHasher, RefreshStore: tt.store, RefreshRetryWindow: tt.window,
				Clients: []auth.Client{{ID: "a", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}}},
			})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// Within the window, whoever presents a rotated token gets its successor,
// whichever of the client and a thief used it first: the successor's
// second use within the window of its first is a retry, not a reuse. A
// thief whose uses each fall within the window of the client's use of the
// same token shares the family's one live token with it, unnoticed; a
// rotated token that comes back after the window of its rotation revokes
// the family.
func TestTokenEndpointRefreshRetryWithinTheWindowIsNotAReuse(t *testing.T) {
	f := newRetryFixture(t, time.Minute)
	r0 := f.login(t)
	r1 := f.rotate(t, r0) // the client, which keeps r0's copy stolen
	f.now = f.now.Add(10 * time.Second)
	if r := f.refresh(t, r0); r.status != http.StatusOK || r.str("refresh_token") != r1 {
		t.Fatalf("the thief's retry of r0: %d %s", r.status, r.raw)
	}
	r2 := f.rotate(t, r1) // the thief uses the successor first
	f.now = f.now.Add(30 * time.Second)
	r := f.refresh(t, r1) // the successor's second use, by the client
	if r.status != http.StatusOK || r.str("refresh_token") != r2 {
		t.Fatalf("the successor's second use within the window: %d %s (%v); want 200 with the thief's r2", r.status, r.raw, r.reason)
	}
	if got, found, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(r2)); !found || got.Used || got.Revoked {
		t.Fatalf("r2: found %v, used %v, revoked %v; want the family's live token", found, got.Used, got.Revoked)
	}
	r3 := f.rotate(t, r2)
	f.now = f.now.Add(time.Minute)
	if r := f.refresh(t, r2); r.status != http.StatusBadRequest || !errors.Is(r.reason, auth.ErrRefreshTokenReused) {
		t.Fatalf("r2 after the window of its rotation: %d %s (%v)", r.status, r.raw, r.reason)
	}
	if r := f.refresh(t, r3); r.status != http.StatusBadRequest {
		t.Fatalf("the family outlived the reuse: %d %s", r.status, r.raw)
	}
}

// RotatedAt is by the clock of the instance that rotated, compared with
// the clock of the one that answers the retry: a rotating instance whose
// clock runs more than the window ahead moves the window, which then
// accepts a retry long after the rotation.
func TestTokenEndpointRefreshRetryWindowMovedByClockSkew(t *testing.T) {
	const skew = 10 * time.Minute
	f := newRetryFixture(t, time.Minute)
	r0 := f.login(t)
	onTime := f.now
	f.now = onTime.Add(skew) // the rotating instance runs ten minutes ahead
	r1 := f.rotate(t, r0)
	f.now = onTime.Add(skew + 30*time.Second) // an instance on time, ten and a half minutes after the rotation
	if r := f.refresh(t, r0); r.status != http.StatusOK || r.str("refresh_token") != r1 {
		t.Fatalf("retry %v after the rotation, rotated %v ahead: %d %s (%v)", skew+30*time.Second, skew, r.status, r.raw, r.reason)
	}
}

// A RefreshStore may report a token past its ExpiresAt (RefreshStore.Lookup
// says so): the endpoint refuses it itself, and a token whose family has
// ended, rotating nothing; a retry whose successor the store reports
// expired, or of a family that has ended, gets no successor.
func TestTokenEndpointRefreshRefusesExpiredTokensTheStoreReports(t *testing.T) {
	past := func(f *retryFixture) time.Time { return f.now.Add(-time.Second) }
	tests := []struct {
		name   string
		window time.Duration
		// stale is the token the store reports expired: 0 the one
		// presented, 1 its successor (after a rotation).
		stale  int
		expire func(f *retryFixture, t *auth.RefreshToken)
	}{
		{"a token past its ExpiresAt", 0, 0, func(f *retryFixture, t *auth.RefreshToken) { t.ExpiresAt = past(f) }},
		{"a token of a family past its end", 0, 0, func(f *retryFixture, t *auth.RefreshToken) { t.FamilyExpiresAt = past(f) }},
		{"a retry whose successor is past its ExpiresAt", time.Minute, 1, func(f *retryFixture, t *auth.RefreshToken) { t.ExpiresAt = past(f) }},
		{"a retry whose successor's family is past its end", time.Minute, 1, func(f *retryFixture, t *auth.RefreshToken) { t.FamilyExpiresAt = past(f) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRetryFixture(t, tt.window)
			rts := []string{f.login(t)}
			if tt.stale == 1 {
				rts = append(rts, f.rotate(t, rts[0]))
			}
			f.hooks.setLookup(func(_ context.Context, hash string, tok auth.RefreshToken, found bool) (auth.RefreshToken, bool) {
				if hash == auth.HashRefreshToken(rts[tt.stale]) {
					tt.expire(f, &tok)
				}
				return tok, found
			})
			f.hooks.mu.Lock()
			f.hooks.calls = nil
			f.hooks.mu.Unlock()
			r := f.refresh(t, rts[0])
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || r.str("refresh_token") != "" {
				t.Fatalf("%d %s (%v); want 400 invalid_grant", r.status, r.raw, r.reason)
			}
			f.hooks.mu.Lock()
			defer f.hooks.mu.Unlock()
			if slices.Contains(f.hooks.calls, "Rotate") || slices.Contains(f.hooks.calls, "RotateRetryable") {
				t.Errorf("store calls %v: an expired token was rotated", f.hooks.calls)
			}
		})
	}
}

// Without RefreshRetryWindow, two requests that present one token at once
// are a reuse: the one that loses the rotation revokes the family, the
// winner's new token with it (RFC 9700 §4.14.2).
func TestTokenEndpointConcurrentRefreshesWithoutTheWindowRevokeTheFamily(t *testing.T) {
	const n = 2
	f := newRetryFixture(t, 0)
	r0 := f.login(t)
	results := f.refreshTogether(t, r0, n)
	var won string
	reused := 0
	for _, r := range results {
		switch {
		case r.status == http.StatusOK:
			won = r.str("refresh_token")
		case r.status == http.StatusBadRequest && errors.Is(r.reason, auth.ErrRefreshTokenReused):
			reused++
		default:
			t.Fatalf("%d %s (%v)", r.status, r.raw, r.reason)
		}
	}
	if won == "" || reused != 1 {
		t.Fatalf("results %v; want one rotation and one reuse", results)
	}
	if got, found, _ := f.store.Lookup(context.Background(), auth.HashRefreshToken(won)); found && !got.Revoked {
		t.Error("the winner's token outlived the reuse")
	}
}

// goneStore reports the token gone when it is rotated, as a store does
// whose token expired, or was deleted, after the lookup.
type goneStore struct{ *auth.MemoryRefreshStore }

func (goneStore) Rotate(context.Context, string, string, auth.RefreshToken) error {
	return auth.ErrRefreshTokenNotFound
}

// A token that is gone by its rotation is an invalid_grant, as at its
// lookup, not a store failure.
func TestTokenEndpointRefreshTokenGoneAtRotation(t *testing.T) {
	store := goneStore{auth.NewMemoryRefreshStore()}
	f := newOAuth(t, func(o *auth.TokenEndpointOptions) { o.RefreshStore = store })
	login := f.post(t, form("grant_type", "password", "username", "alice", "password", "correct horse", "client_id", "web"), nil)
	r := f.post(t, form("grant_type", "refresh_token", "refresh_token", login.str("refresh_token"), "client_id", "web"), nil)
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !errors.Is(r.reason, auth.ErrRefreshTokenNotFound) {
		t.Fatalf("%d %s (%v); want 400 invalid_grant, ErrRefreshTokenNotFound", r.status, r.raw, r.reason)
	}
}
