package redisstore_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/redistest"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/password"
	"github.com/httpguard/httpguard/auth/redisstore"
	"github.com/httpguard/httpguard/identity"
)

// The sealed successor: binary, as the token endpoint's is.
func sealedFor(i int) []byte { return fmt.Appendf([]byte{0, 0xff, '\n'}, "sealed successor %d", i) }

// RotateRetryable keeps the rotation time and the sealed successor with
// the rotated token, and nothing else does: Create and Rotate keep
// neither, and a rotation that fails leaves those of the one that
// succeeded.
func TestRetryableRefreshStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, s := range refreshStores(t) {
		t.Run(name, func(t *testing.T) {
			rs, ok := s.(auth.RetryableRefreshStore)
			if !ok {
				t.Fatalf("%T is not a RetryableRefreshStore", s)
			}
			at := time.Now().Truncate(time.Millisecond)
			first := rec("famr")
			first.RotatedAt, first.Successor = at, []byte("given to Create") // the store's fields, not the caller's
			if err := rs.Create(ctx, "r1", first); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := rs.Lookup(ctx, "r1"); !got.RotatedAt.IsZero() || len(got.Successor) != 0 {
				t.Fatalf("a new token: rotated at %v, successor %q", got.RotatedAt, got.Successor)
			}
			if err := rs.RotateRetryable(ctx, "r1", "r2", rec("famr"), at, sealedFor(1)); err != nil {
				t.Fatalf("RotateRetryable: %v", err)
			}
			old, found, err := rs.Lookup(ctx, "r1")
			if err != nil || !found || !old.Used || !old.RotatedAt.Equal(at) || !bytes.Equal(old.Successor, sealedFor(1)) {
				t.Fatalf("the rotated token: %+v %v %v", old, found, err)
			}
			old.Successor[0] ^= 1 // Lookup's answer is the caller's
			next, found, err := rs.Lookup(ctx, "r2")
			if err != nil || !found || next.Used || !next.RotatedAt.IsZero() || len(next.Successor) != 0 || next.Family != "famr" {
				t.Fatalf("the successor: %+v %v %v", next, found, err)
			}
			if err := rs.RotateRetryable(ctx, "r1", "r3", rec("famr"), at.Add(time.Second), sealedFor(2)); !errors.Is(err, auth.ErrRefreshTokenReused) {
				t.Fatalf("a second rotation: %v, want ErrRefreshTokenReused", err)
			}
			if old, _, _ := rs.Lookup(ctx, "r1"); !old.RotatedAt.Equal(at) || !bytes.Equal(old.Successor, sealedFor(1)) {
				t.Errorf("after a failed rotation: rotated at %v, successor %q; want the first rotation's", old.RotatedAt, old.Successor)
			}
			if _, found, _ := rs.Lookup(ctx, "r3"); found {
				t.Error("the failed rotation's token was kept")
			}
			if err := rs.Rotate(ctx, "r2", "r4", rec("famr")); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := rs.Lookup(ctx, "r2"); !got.Used || !got.RotatedAt.IsZero() || len(got.Successor) != 0 {
				t.Errorf("after a plain Rotate: used %v, rotated at %v, successor %q", got.Used, got.RotatedAt, got.Successor)
			}
		})
	}
}

// Of concurrent rotations of one token, the old token keeps the rotation
// time and successor of the one that won, and one new token lives.
func TestRetryableRefreshStoreConcurrentRotationOneBranch(t *testing.T) {
	ctx := context.Background()
	for name, s := range refreshStores(t) {
		t.Run(name, func(t *testing.T) {
			rs := s.(auth.RetryableRefreshStore)
			if err := rs.Create(ctx, "root", rec("famc")); err != nil {
				t.Fatal(err)
			}
			const n = 16
			winner := atomic.Int32{}
			winner.Store(-1)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					err := rs.RotateRetryable(ctx, "root", fmt.Sprint("child", i), rec("famc"), time.UnixMilli(int64(i)), sealedFor(i))
					switch {
					case err == nil:
						if !winner.CompareAndSwap(-1, int32(i)) {
							t.Errorf("rotations %d and %d both won", winner.Load(), i)
						}
					case !errors.Is(err, auth.ErrRefreshTokenReused):
						t.Errorf("rotate: %v", err)
					}
				})
			}
			wg.Wait()
			w := int(winner.Load())
			if w < 0 {
				t.Fatal("no rotation won")
			}
			old, _, _ := rs.Lookup(ctx, "root")
			if !bytes.Equal(old.Successor, sealedFor(w)) || !old.RotatedAt.Equal(time.UnixMilli(int64(w))) {
				t.Errorf("the old token keeps successor %q at %v; want the winner's (%d)", old.Successor, old.RotatedAt, w)
			}
			for i := range n {
				if _, found, _ := rs.Lookup(ctx, fmt.Sprint("child", i)); found != (i == w) {
					t.Errorf("child %d: found %v (winner %d)", i, found, w)
				}
			}
		})
	}
}

// When the reply of the script that spends the old token is lost,
// RotateRetryable runs it again: its own rotation's successor is kept once
// and the rotation succeeds; another rotation, reply lost or not, is a
// reuse that leaves the successor kept.
func TestRotateRetryableWhoseReplyIsLostIsIdempotent(t *testing.T) {
	ctx := context.Background()
	for name, rdb := range map[string]redis.UniversalClient{"redis": newClient(t), "redis cluster": redistest.Cluster(t)} {
		t.Run(name, func(t *testing.T) {
			lose := &loseReplies{}
			rdb.AddHook(lose)
			s, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb, Prefix: "lost:" + t.Name() + ":"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Create(ctx, "h1", rec("fam")); err != nil {
				t.Fatal(err)
			}
			at := time.Now().Truncate(time.Millisecond)
			lose.n.Store(1)
			if err := s.RotateRetryable(ctx, "h1", "h2", rec("fam"), at, sealedFor(1)); err != nil {
				t.Fatalf("RotateRetryable with its reply lost = %v, want nil", err)
			}
			if lose.n.Load() >= 0 {
				t.Fatal("no reply was lost: the test tested nothing")
			}
			check := func(when string) {
				t.Helper()
				old, _, _ := s.Lookup(ctx, "h1")
				next, found, err := s.Lookup(ctx, "h2")
				if !old.Used || !old.RotatedAt.Equal(at) || !bytes.Equal(old.Successor, sealedFor(1)) || !found || err != nil || next.Used {
					t.Fatalf("%s: old used %v at %v with %q; new found %v, used %v, err %v", when, old.Used, old.RotatedAt, old.Successor, found, next.Used, err)
				}
			}
			check("after the rotation")
			lose.n.Store(1)
			if err := s.RotateRetryable(ctx, "h1", "h3", rec("fam"), at.Add(time.Second), sealedFor(2)); !errors.Is(err, auth.ErrRefreshTokenReused) {
				t.Fatalf("rotating a spent token = %v, want ErrRefreshTokenReused", err)
			}
			check("after another rotation")
			if _, found, _ := s.Lookup(ctx, "h3"); found {
				t.Error("the losing rotation's token was kept")
			}
		})
	}
}

// lookupBarrier is a RetryableRefreshStore whose first n lookups of one
// hash wait for each other, so that n requests all find the token
// unrotated before any rotates it.
type lookupBarrier struct {
	auth.RetryableRefreshStore
	hash string
	wg   sync.WaitGroup
	left atomic.Int32
}

func (b *lookupBarrier) Lookup(ctx context.Context, hash string) (auth.RefreshToken, bool, error) {
	t, found, err := b.RetryableRefreshStore.Lookup(ctx, hash)
	if hash == b.hash && b.left.Add(-1) >= 0 {
		b.wg.Done()
		b.wg.Wait()
	}
	return t, found, err
}

// Through the token endpoint, on Redis: requests that present one refresh
// token at once, and retries of it after its rotation, all get the one
// successor, and the family keeps one live token, which rotates as usual;
// a tampered successor revokes the family.
func TestRefreshRetriesShareOneSuccessor(t *testing.T) {
	t.Run("redis", func(t *testing.T) { testRefreshRetriesShareOneSuccessor(t, newClient(t)) })
	t.Run("redis cluster", func(t *testing.T) { testRefreshRetriesShareOneSuccessor(t, redistest.Cluster(t)) })
}

func testRefreshRetriesShareOneSuccessor(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	const prefix = "retry:"
	refresh, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	barrier := &lookupBarrier{RetryableRefreshStore: refresh}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	hasher := password.MustNew(password.Options{Params: password.Params{Memory: 64, Time: 1, Threads: 1}, DangerouslyAllowWeakParams: true})
	hash, _ := hasher.Hash("pw")
	users := auth.NewMemoryUsers()
	if err := users.Add("alice", auth.User{Hash: hash, Identity: identity.Options{Scopes: []string{"read"}}}); err != nil {
		t.Fatal(err)
	}
	iss, err := auth.NewIssuer(auth.IssuerOptions{Key: auth.Key{ID: "k", Algorithm: auth.AlgEdDSA, Key: priv}, Issuer: "https://i.example"})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := auth.NewTokenEndpoint(auth.TokenEndpointOptions{
		Issuer: iss, Users: users, Hasher: hasher, RefreshStore: barrier, RefreshRetryWindow: time.Minute,
		Clients: []auth.Client{{ID: "web", Public: true, Grants: []string{auth.GrantPassword, auth.GrantRefreshToken}, Scopes: []string{"read"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	post := func(v url.Values) (int, map[string]any) {
		v.Set("client_id", "web")
		resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	refreshAll := func(rt string, n int) []string {
		got := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				code, body := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
				if code != http.StatusOK {
					t.Errorf("refresh %d: %d %v", i, code, body)
				}
				got[i], _ = body["refresh_token"].(string)
			})
		}
		wg.Wait()
		return got
	}
	liveTokens := func() int {
		keys, err := rdb.Keys(ctx, prefix+"rt:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		live := 0
		for _, k := range keys {
			if tok, found, _ := refresh.Lookup(ctx, strings.TrimPrefix(k, prefix+"rt:")); found && !tok.Used && !tok.Revoked {
				live++
			}
		}
		return live
	}

	code, body := post(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw"}})
	if code != http.StatusOK {
		t.Fatalf("login: %d %v", code, body)
	}
	r0 := body["refresh_token"].(string)
	const n = 6
	barrier.hash = auth.HashRefreshToken(r0)
	barrier.wg.Add(n)
	barrier.left.Store(n)
	got := refreshAll(r0, n)                // all find r0 unrotated: one rotates, the others lose the race
	got = append(got, refreshAll(r0, n)...) // retries after the rotation
	r1 := got[0]
	for i, rt := range got {
		if rt == "" || rt != r1 {
			t.Fatalf("refresh %d got %q, refresh 0 %q: want one successor", i, rt, r1)
		}
	}
	if l := liveTokens(); l != 1 {
		t.Fatalf("%d live tokens in the family, want 1", l)
	}
	code, body = post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}})
	if code != http.StatusOK {
		t.Fatalf("refresh of the successor: %d %v", code, body)
	}
	r2 := body["refresh_token"].(string)

	// A successor changed in Redis does not open: the family is revoked.
	if err := rdb.HSet(ctx, prefix+"rt:"+auth.HashRefreshToken(r1), "successor", "tampered").Err(); err != nil {
		t.Fatal(err)
	}
	if code, body := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}); code != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("retry with a tampered successor: %d %v", code, body)
	}
	if code, body := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2}}); code != http.StatusBadRequest {
		t.Fatalf("the family outlived the tampered retry: %d %v", code, body)
	}
}
