package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/redistest"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/auth"
	"github.com/httpguard/httpguard/auth/redisstore"
	"github.com/httpguard/httpguard/internal/testenv"
)

func newClient(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// newStores returns a RefreshStore and a Denylist with options o.
func newStores(t testing.TB, o redisstore.Options) (*redisstore.RefreshStore, *redisstore.Denylist) {
	t.Helper()
	rs, err := redisstore.NewRefreshStore(o)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := redisstore.NewDenylist(o)
	if err != nil {
		t.Fatal(err)
	}
	return rs, dl
}

// refreshStores returns every implementation, so that one contract test
// covers the in-memory store and the Redis one alike, on a Redis server
// and on a Redis Cluster (found in review: a cluster refused the Redis
// store's scripts, so every refresh failed).
func refreshStores(t *testing.T) map[string]auth.RefreshStore {
	rs, err := redisstore.NewRefreshStore(redisstore.Options{Client: newClient(t), Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := redisstore.NewRefreshStore(redisstore.Options{Client: redistest.Cluster(t)})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]auth.RefreshStore{"memory": auth.NewMemoryRefreshStore(), "redis": rs, "redis cluster": cs}
}

func rec(family string) auth.RefreshToken {
	now := time.Now()
	return auth.RefreshToken{
		Family: family, ClientID: "web", Subject: "alice", Scopes: []string{"a", "b"},
		AuthTime: now, ExpiresAt: now.Add(time.Hour), FamilyExpiresAt: now.Add(24 * time.Hour),
		Credential: "fingerprint-of-" + family, JKT: "jkt-of-" + family,
	}
}

func TestRefreshStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, s := range refreshStores(t) {
		t.Run(name, func(t *testing.T) {
			if _, found, err := s.Lookup(ctx, "missing"); found || err != nil {
				t.Fatalf("missing token: %v %v", found, err)
			}
			if err := s.Create(ctx, "h1", rec("fam1")); err != nil {
				t.Fatal(err)
			}
			got, found, err := s.Lookup(ctx, "h1")
			if err != nil || !found || got.Family != "fam1" || got.ClientID != "web" || got.Subject != "alice" ||
				len(got.Scopes) != 2 || got.Used || got.Revoked || got.ExpiresAt.Sub(rec("").ExpiresAt).Abs() > time.Second ||
				got.Credential != "fingerprint-of-fam1" || got.JKT != "jkt-of-fam1" {
				t.Fatalf("lookup: %+v %v %v", got, found, err)
			}
			next := rec("ignored: the family comes from the old token")
			next.Scopes = []string{"a"}
			if err := s.Rotate(ctx, "h1", "h2", next); err != nil {
				t.Fatalf("rotate: %v", err)
			}
			if got, _, _ := s.Lookup(ctx, "h1"); !got.Used {
				t.Errorf("old token not marked used")
			}
			if got, found, _ := s.Lookup(ctx, "h2"); !found || got.Family != "fam1" || len(got.Scopes) != 1 || got.Credential != next.Credential || got.JKT != next.JKT {
				t.Errorf("new token: %+v", got)
			}
			if err := s.Rotate(ctx, "h1", "h3", next); !errors.Is(err, auth.ErrRefreshTokenReused) {
				t.Errorf("second rotation of h1: %v", err)
			}
			if err := s.Rotate(ctx, "nope", "h4", next); !errors.Is(err, auth.ErrRefreshTokenNotFound) {
				t.Errorf("rotation of a missing token: %v", err)
			}
			if err := s.RevokeFamily(ctx, "fam1", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := s.Lookup(ctx, "h2"); !got.Revoked {
				t.Errorf("family not revoked")
			}
			if err := s.Rotate(ctx, "h2", "h5", next); !errors.Is(err, auth.ErrRefreshTokenReused) {
				t.Errorf("rotation in a revoked family: %v", err)
			}
			expired := rec("fam2")
			expired.ExpiresAt = time.Now().Add(50 * time.Millisecond)
			if err := s.Create(ctx, "h6", expired); err != nil {
				t.Fatal(err)
			}
			time.Sleep(80 * time.Millisecond)
			if _, found, _ := s.Lookup(ctx, "h6"); found {
				t.Errorf("expired token found")
			}
		})
	}
}

func TestRefreshStoreConcurrentRotationOneWins(t *testing.T) {
	ctx := context.Background()
	for name, s := range refreshStores(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Create(ctx, "root", rec("famc")); err != nil {
				t.Fatal(err)
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Go(func() {
					if err := s.Rotate(ctx, "root", fmt.Sprintf("child%d", i), rec("famc")); err == nil {
						wins.Add(1)
					} else if !errors.Is(err, auth.ErrRefreshTokenReused) {
						t.Errorf("rotate: %v", err)
					}
				})
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d rotations won, want 1", wins.Load())
			}
		})
	}
}

func TestDenylist(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	d, err := redisstore.NewDenylist(redisstore.Options{Client: rdb})
	if err != nil {
		t.Fatal(err)
	}
	for name, dl := range map[string]auth.Denylist{"memory": auth.NewMemoryDenylist(), "redis": d} {
		t.Run(name, func(t *testing.T) {
			if r, err := dl.IsRevoked(ctx, "j1"); r || err != nil {
				t.Fatalf("%v %v", r, err)
			}
			if err := dl.Revoke(ctx, "j1", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if r, err := dl.IsRevoked(ctx, "j1"); !r || err != nil {
				t.Fatalf("after revoke: %v %v", r, err)
			}
			// An entry lasts MaxLeeway past the token's expiry, no more.
			if err := dl.Revoke(ctx, "j2", time.Now().Add(60*time.Millisecond-auth.MaxLeeway)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if r, _ := dl.IsRevoked(ctx, "j2"); r {
				t.Errorf("entry outlived the token and the leeway")
			}
			if err := dl.Revoke(ctx, "", time.Now().Add(time.Hour)); !errors.Is(err, auth.ErrInvalidJTI) {
				t.Errorf("empty jti: %v", err)
			}
		})
	}
}

func TestRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	d, _ := redisstore.NewDenylist(redisstore.Options{Client: rdb})
	if _, err := d.IsRevoked(context.Background(), "j"); err == nil {
		t.Error("IsRevoked on an unreachable server returned no error")
	}
	s, _ := redisstore.NewRefreshStore(redisstore.Options{Client: rdb})
	if _, _, err := s.Lookup(context.Background(), "h"); err == nil {
		t.Error("Lookup on an unreachable server returned no error")
	}
}

func TestNewRequiresClient(t *testing.T) {
	if _, err := redisstore.NewRefreshStore(redisstore.Options{}); err == nil {
		t.Error("NewRefreshStore without a client")
	}
	if _, err := redisstore.NewDenylist(redisstore.Options{}); err == nil {
		t.Error("NewDenylist without a client")
	}
	o := redisstore.Options{Client: redis.NewClient(&redis.Options{}), Timeout: -1}
	if _, err := redisstore.NewRefreshStore(o); err == nil {
		t.Error("NewRefreshStore with a negative Timeout")
	}
	if _, err := redisstore.NewDenylist(o); err == nil {
		t.Error("NewDenylist with a negative Timeout")
	}
}

// Found in review: the denylists forgot an entry at the token's expiry,
// while a JWT with a Leeway accepts the token until exp + Leeway: a token
// revoked as documented, with its expiry, came back. And the Redis
// denylist let a second revocation with an earlier end shorten the entry
// (a plain SET), where the memory one keeps the later end; the Redis
// refresh store did the same to revoked families.
func TestRevocationsOutliveTheLeewayAndNeverShorten(t *testing.T) {
	ctx := context.Background()
	rd, err := redisstore.NewDenylist(redisstore.Options{Client: newClient(t), Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	soon := func() time.Time { return time.Now().Add(100 * time.Millisecond) }
	// Ends within the test unless MaxLeeway is added or a later end kept.
	soonest := func() time.Time { return soon().Add(-auth.MaxLeeway) }
	cases := []struct {
		name  string
		until []func() time.Time // the successive revocations
	}{
		{"revoked until the token's expiry", []func() time.Time{soon}},
		{"revoked for an hour, then until sooner", []func() time.Time{func() time.Time { return time.Now().Add(time.Hour) }, soonest}},
		{"revoked until soon, then until sooner", []func() time.Time{soon, soonest}},
	}
	for i, tc := range cases {
		for name, dl := range map[string]auth.Denylist{"memory": auth.NewMemoryDenylist(), "redis": rd} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				jti := fmt.Sprintf("jti-%d", i)
				for _, until := range tc.until {
					if err := dl.Revoke(ctx, jti, until()); err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(200 * time.Millisecond)
				if r, err := dl.IsRevoked(ctx, jti); !r || err != nil {
					t.Errorf("revoked = %v, %v after the token's expiry, within MaxLeeway", r, err)
				}
			})
		}
	}
	for name, s := range refreshStores(t) {
		t.Run("family revoked for an hour, then until sooner/"+name, func(t *testing.T) {
			if err := s.Create(ctx, "h", rec("fam")); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeFamily(ctx, "fam", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeFamily(ctx, "fam", time.Now().Add(50*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if got, found, err := s.Lookup(ctx, "h"); !found || !got.Revoked || err != nil {
				t.Errorf("family no longer revoked: %+v %v %v", got, found, err)
			}
		})
	}
}

// A family revoked with an end that is not in the future (the zero time:
// a caller that had no FamilyExpiresAt at hand) is revoked all the same,
// in every store: the Redis store keeps it for
// auth.DefaultRefreshTokenMaxLifetime, and the memory store kept nothing,
// so the family's live token went on refreshing there (found in review).
func TestRevokeFamilyWithAnEndNotInTheFutureRevokes(t *testing.T) {
	ctx := context.Background()
	for name, s := range refreshStores(t) {
		for what, until := range map[string]time.Time{"zero": {}, "past": time.Now().Add(-time.Minute)} {
			t.Run(name+"/"+what, func(t *testing.T) {
				fam := fmt.Sprint("fam-past-", until.UnixNano())
				if err := s.Create(ctx, "h-"+fam, rec(fam)); err != nil {
					t.Fatal(err)
				}
				if err := s.RevokeFamily(ctx, fam, until); err != nil {
					t.Fatal(err)
				}
				if got, found, err := s.Lookup(ctx, "h-"+fam); !found || !got.Revoked || err != nil {
					t.Errorf("revoked until %v: found %v, revoked %v, %v; want revoked", until, found, got.Revoked, err)
				}
				if err := s.Rotate(ctx, "h-"+fam, "n-"+fam, rec(fam)); !errors.Is(err, auth.ErrRefreshTokenReused) {
					t.Errorf("rotation after a revocation until %v: %v, want ErrRefreshTokenReused", until, err)
				}
			})
		}
	}
}

// argsHook records the arguments of every command a client sends.
type argsHook struct {
	mu   sync.Mutex
	last []any
}

func (h *argsHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *argsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.last = cmd.Args()
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (h *argsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A revocation, of a family or of a jti, must last at least until its end:
// its time to live is rounded up to Redis' milliseconds, as atLeastMS
// says, not down (which ended it up to a millisecond early).
func TestRevocationTTLIsRoundedUp(t *testing.T) {
	hook := new(argsHook)
	rdb := newClient(t)
	rdb.AddHook(hook)
	rs, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb, Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := redisstore.NewDenylist(redisstore.Options{Client: rdb, Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	// The end is a whole number of milliseconds and 999µs away: rounded
	// up, the TTL covers it, unless more than 999µs pass between taking
	// the time here and in the store, which a few attempts rule out.
	const d = 10*time.Second + 999*time.Microsecond
	tests := []struct {
		name   string
		revoke func(ctx context.Context, i int) error
	}{
		{"family", func(ctx context.Context, i int) error {
			return rs.RevokeFamily(ctx, fmt.Sprint("fam", i), time.Now().Add(d))
		}},
		{"jti", func(ctx context.Context, i int) error {
			return dl.Revoke(ctx, fmt.Sprint("jti", i), time.Now().Add(d-auth.MaxLeeway))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			for i := range 5 {
				if err := tt.revoke(t.Context(), i); err != nil {
					t.Fatal(err)
				}
				hook.mu.Lock()
				got = fmt.Sprint(hook.last[len(hook.last)-1])
				hook.mu.Unlock()
				if got == "10001" {
					return
				}
			}
			t.Errorf("revocation %v away lasts %s ms, want 10001", d, got)
		})
	}
}

// loseReplies is a go-redis hook that lets the first n script calls that
// succeed run in Redis and then reports them failed, as a reply lost to
// a timeout or a dropped connection would be.
type loseReplies struct{ n atomic.Int32 }

func (*loseReplies) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *loseReplies) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if name := cmd.Name(); err == nil && (name == "evalsha" || name == "eval") && l.n.Add(-1) >= 0 {
			err = errors.New("i/o timeout (reply lost)")
			cmd.SetErr(err)
		}
		return err
	}
}

func (*loseReplies) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// When the reply of the script that spends the old token is lost, Rotate
// runs it again and learns that its own rotation spent the token: the
// rotation succeeds. Before, it returned the error (a 503), and the
// client's retry with the old token, already spent, looked like a reuse
// and revoked the family. Another rotation's spending still counts as a
// reuse.
func TestRotateWhoseReplyIsLostSucceeds(t *testing.T) {
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
			lose.n.Store(1)
			if err := s.Rotate(ctx, "h1", "h2", rec("fam")); err != nil {
				t.Fatalf("Rotate with its reply lost = %v, want nil", err)
			}
			if lose.n.Load() >= 0 {
				t.Fatal("no reply was lost: the test tested nothing")
			}
			old, _, _ := s.Lookup(ctx, "h1")
			next, found, err := s.Lookup(ctx, "h2")
			if !old.Used || !found || err != nil || next.Used || next.Revoked {
				t.Fatalf("after the rotation: old used %v; new found %v, used %v, revoked %v, err %v", old.Used, found, next.Used, next.Revoked, err)
			}
			// A second rotation of h1, with a reply lost or not, is a reuse.
			lose.n.Store(1)
			if err := s.Rotate(ctx, "h1", "h3", rec("fam")); !errors.Is(err, auth.ErrRefreshTokenReused) {
				t.Fatalf("rotating a spent token = %v, want ErrRefreshTokenReused", err)
			}
			if _, found, _ := s.Lookup(ctx, "h3"); found {
				t.Error("the losing rotation's token was kept")
			}
		})
	}
}

// cancelAfterScript is a go-redis hook that lets the first script call
// run in Redis and then cancels the caller's context, as a client that
// goes away while its refresh is in flight does: the reply is lost with
// the request.
type cancelAfterScript struct {
	cancel context.CancelFunc
	done   atomic.Bool
}

func (*cancelAfterScript) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *cancelAfterScript) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if name := cmd.Name(); err == nil && (name == "evalsha" || name == "eval") && c.done.CompareAndSwap(false, true) {
			c.cancel()
			err = context.Canceled
			cmd.SetErr(err)
		}
		return err
	}
}

func (*cancelAfterScript) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A rotation whose request is cancelled once the script that spends the
// old token has run in Redis still learns that it won: the second run of
// the script does not use the cancelled context. Run with it, it failed at
// once, the rotation answered an error, and the client's retry with the
// old token, spent, looked like a reuse.
func TestRotateWhoseRequestIsCancelledAfterTheSpendSucceeds(t *testing.T) {
	for name, rdb := range map[string]redis.UniversalClient{"redis": newClient(t), "redis cluster": redistest.Cluster(t)} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			hook := &cancelAfterScript{cancel: cancel}
			rdb.AddHook(hook)
			s, err := redisstore.NewRefreshStore(redisstore.Options{Client: rdb, Prefix: "cancel:" + t.Name() + ":"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Create(ctx, "h1", rec("fam")); err != nil {
				t.Fatal(err)
			}
			if err := s.Rotate(ctx, "h1", "h2", rec("fam")); err != nil {
				t.Fatalf("Rotate cancelled after its spend = %v, want nil", err)
			}
			if !hook.done.Load() || ctx.Err() == nil {
				t.Fatal("the request was not cancelled: the test tested nothing")
			}
			bg := context.Background()
			old, _, _ := s.Lookup(bg, "h1")
			next, found, err := s.Lookup(bg, "h2")
			if !old.Used || !found || err != nil || next.Used || next.Revoked {
				t.Fatalf("after the rotation: old used %v; new found %v, used %v, revoked %v, err %v", old.Used, found, next.Used, next.Revoked, err)
			}
		})
	}
}

// An instance whose clock runs ahead of Redis's revoked for a shorter
// time than it meant: the entry's time to live was counted from its own
// clock, while a refresh token's key expires at its ExpiresAt by Redis's
// clock. A logout on that instance near the end of a family left the
// family's last token usable, on every instance whose clock is right,
// for as long as the clock was ahead; a revoked access token came back
// the same way. Each revocation now lasts until its end by Redis's clock
// as well.
func TestRevocationsByAnInstanceWhoseClockRunsAheadHoldUntilTheirEnd(t *testing.T) {
	const skew = 1500 * time.Millisecond
	ctx := context.Background()
	rdb := newClient(t)
	ahead := func() time.Time { return time.Now().Add(skew) }
	right := redisstore.Options{Client: rdb, Prefix: "test:" + t.Name() + ":"}

	// hold checks, until end by the clock of Redis (this machine's), that
	// revoked says so. Only an answer that came back before end counts: a
	// call delayed past end (a loaded machine) may rightly find the
	// revocation over.
	hold := func(t *testing.T, end time.Time, revoked func() (bool, error)) {
		t.Helper()
		for time.Until(end) > 100*time.Millisecond {
			r, err := revoked()
			if err != nil {
				t.Fatal(err)
			}
			if left := time.Until(end); !r && left > 0 {
				t.Fatalf("the revocation ended %v before its end", left.Round(time.Millisecond))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("refresh family", func(t *testing.T) {
		slowStore, err := redisstore.NewRefreshStore(right)
		if err != nil {
			t.Fatal(err)
		}
		fastStore, err := redisstore.NewRefreshStore(right)
		if err != nil {
			t.Fatal(err)
		}
		redisstore.SetNow(fastStore, ahead)
		end := time.Now().Add(2 * time.Second)
		tok := rec("fam-skew")
		tok.ExpiresAt, tok.FamilyExpiresAt = end, end // the family's last token
		if err := slowStore.Create(ctx, "h-skew", tok); err != nil {
			t.Fatal(err)
		}
		if err := fastStore.RevokeFamily(ctx, "fam-skew", end); err != nil {
			t.Fatal(err)
		}
		hold(t, end, func() (bool, error) {
			got, found, err := slowStore.Lookup(ctx, "h-skew")
			return !found || got.Revoked, err
		})
	})

	t.Run("access token", func(t *testing.T) {
		slowList, err := redisstore.NewDenylist(right)
		if err != nil {
			t.Fatal(err)
		}
		fastList, err := redisstore.NewDenylist(right)
		if err != nil {
			t.Fatal(err)
		}
		redisstore.SetNow(fastList, ahead)
		// A JWT with a Leeway of MaxLeeway accepts the token until end.
		end := time.Now().Add(2 * time.Second)
		if err := fastList.Revoke(ctx, "jti-skew", end.Add(-auth.MaxLeeway)); err != nil {
			t.Fatal(err)
		}
		hold(t, end, func() (bool, error) { return slowList.IsRevoked(ctx, "jti-skew") })
	})

	t.Run("DPoP proof", func(t *testing.T) {
		slowCache, err := redisstore.NewReplayCache(right)
		if err != nil {
			t.Fatal(err)
		}
		fastCache, err := redisstore.NewReplayCache(right)
		if err != nil {
			t.Fatal(err)
		}
		redisstore.SetNow(fastCache, ahead)
		// A proof whose use ends at end, recorded by the fast instance,
		// is a replay on the other until end.
		end := time.Now().Add(2 * time.Second)
		if replayed, err := fastCache.Use(ctx, "dpop:skew", end); replayed || err != nil {
			t.Fatalf("first use: %v %v", replayed, err)
		}
		hold(t, end, func() (bool, error) { return slowCache.Use(ctx, "dpop:skew", end) })
	})
}

// Options stays comparable with ==: the stores' test clock is set on the
// stores (SetNow), not carried in Options, where a func field made
// comparing two Options a compile error.
var _ = redisstore.Options{} == redisstore.Options{}

// A Redis that refuses writes (full under noeviction, a replica after a
// failover) fails every operation that must write, with an error auth
// answers with 503, and a rotation that failed leaves the old token
// unspent and no new one: the client's retry is not a reuse. Reads still
// answer.
func TestRefusedWritesFailClosed(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"OOM", "READONLY"} {
		t.Run(how, func(t *testing.T) {
			rdb := newClient(t)
			o := redisstore.Options{Client: rdb, Prefix: "refused:"}
			rs, dl := newStores(t, o)
			if err := rs.Create(ctx, "h1", rec("fam")); err != nil {
				t.Fatal(err)
			}
			if err := dl.Revoke(ctx, "j1", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			undo := redistest.RefuseWrites(t, rdb, how)
			defer undo()
			if err := rs.Create(ctx, "h9", rec("fam9")); err == nil {
				t.Error("Create succeeded")
			}
			if err := rs.Rotate(ctx, "h1", "h2", rec("fam")); err == nil {
				t.Error("Rotate succeeded")
			}
			if err := rs.RevokeFamily(ctx, "fam", time.Now().Add(time.Hour)); err == nil {
				t.Error("RevokeFamily succeeded")
			}
			if err := dl.Revoke(ctx, "j2", time.Now().Add(time.Hour)); err == nil {
				t.Error("Revoke succeeded")
			}
			if got, found, err := rs.Lookup(ctx, "h1"); !found || err != nil || got.Used || got.Revoked {
				t.Errorf("the old token after the failed rotation: %+v, %v, %v; want found, unspent", got, found, err)
			}
			if _, found, err := rs.Lookup(ctx, "h2"); found || err != nil {
				t.Errorf("the new token of the failed rotation: found %v, %v", found, err)
			}
			if r, err := dl.IsRevoked(ctx, "j1"); !r || err != nil {
				t.Errorf("IsRevoked = %v, %v; want the revocation that was there", r, err)
			}
		})
	}
}

// A key of another type under a token's name is an error, never a missing
// token; one under a jti's name denies the jti, as any key there does.
func TestAKeyOfAnotherTypeFailsClosed(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	o := redisstore.Options{Client: rdb, Prefix: "type:"}
	rs, dl := newStores(t, o)
	if err := rdb.Set(ctx, "type:rt:h1", "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, "type:jti:j1", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if _, found, err := rs.Lookup(ctx, "h1"); err == nil || found {
		t.Errorf("Lookup = %v, %v; want an error", found, err)
	}
	if err := rs.Rotate(ctx, "h1", "h2", rec("fam")); err == nil || errors.Is(err, auth.ErrRefreshTokenNotFound) {
		t.Errorf("Rotate = %v; want an error that is not ErrRefreshTokenNotFound", err)
	}
	if r, err := dl.IsRevoked(ctx, "j1"); !r || err != nil {
		t.Errorf("IsRevoked = %v, %v; want revoked", r, err)
	}
}

// The scripts are run by their SHA-1 and sent again when Redis has
// forgotten them (NOSCRIPT: a SCRIPT FLUSH, a restart, a failover to a
// replica that never ran them).
func TestScriptsAreSentAgainAfterAScriptFlush(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	o := redisstore.Options{Client: rdb, Prefix: "flush:"}
	rs, dl := newStores(t, o)
	flush := func() {
		t.Helper()
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.Create(ctx, "h0", rec("fam")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second time, Redis ran the scripts before
		flush()
		if err := rs.Rotate(ctx, fmt.Sprint("h", i), fmt.Sprint("h", i+1), rec("fam")); err != nil {
			t.Fatalf("Rotate after SCRIPT FLUSH: %v", err)
		}
		flush()
		if err := dl.Revoke(ctx, fmt.Sprint("j", i), time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("Revoke after SCRIPT FLUSH: %v", err)
		}
		if r, err := dl.IsRevoked(ctx, fmt.Sprint("j", i)); !r || err != nil {
			t.Fatalf("IsRevoked = %v, %v", r, err)
		}
	}
	flush()
	if err := rs.RevokeFamily(ctx, "fam", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("RevokeFamily after SCRIPT FLUSH: %v", err)
	}
	if got, _, err := rs.Lookup(ctx, "h2"); !got.Revoked || err != nil {
		t.Fatalf("Lookup after the revocation: %+v, %v", got, err)
	}
}

// A proof's key is used once across instances: the second Use, from any
// instance, is a replay, and the entry ends with its time, not before.
func TestReplayCache(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	a, err := redisstore.NewReplayCache(redisstore.Options{Client: rdb})
	if err != nil {
		t.Fatal(err)
	}
	b, err := redisstore.NewReplayCache(redisstore.Options{Client: rdb})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	if replayed, err := a.Use(ctx, "dpop:k:1", until); replayed || err != nil {
		t.Fatalf("first use: %v %v", replayed, err)
	}
	if replayed, err := b.Use(ctx, "dpop:k:1", until); !replayed || err != nil {
		t.Fatalf("on another instance: %v %v; want a replay", replayed, err)
	}
	if replayed, err := a.Use(ctx, "dpop:k:2", time.Now().Add(80*time.Millisecond)); replayed || err != nil {
		t.Fatalf("another key: %v %v", replayed, err)
	}
	if replayed, _ := b.Use(ctx, "dpop:k:2", time.Now().Add(time.Hour)); !replayed {
		t.Fatal("a live entry was not a replay")
	}
	time.Sleep(150 * time.Millisecond)
	if replayed, err := a.Use(ctx, "dpop:k:2", time.Now().Add(time.Hour)); replayed || err != nil {
		t.Fatalf("after its end: %v %v; want a new use", replayed, err)
	}
	// Concurrent uses of one key: exactly one is first.
	var firsts atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if replayed, err := a.Use(ctx, "dpop:k:3", until); err == nil && !replayed {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Errorf("%d concurrent uses were first, want 1", firsts.Load())
	}
	if _, err := redisstore.NewReplayCache(redisstore.Options{}); err == nil {
		t.Error("NewReplayCache without a client: no error")
	}
}
