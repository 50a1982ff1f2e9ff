package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/internal/redistest"

	"github.com/redis/go-redis/v9"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/testenv"
	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
	"github.com/httpguard/httpguard/session/redisstore"
)

var prefixes atomic.Int64

func newStore(t testing.TB, addr string) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := "test" + strconv.FormatInt(prefixes.Add(1), 10) + ":"
	s, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb, prefix
}

func TestConformanceAgainstARealRedis(t *testing.T) {
	addr := testenv.Redis(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		s, _, _ := newStore(t, addr)
		return s
	})
	t.Run("update", func(t *testing.T) {
		s, _, _ := newStore(t, addr)
		storetest.Update(t, s)
	})
}

// The package documentation says a cluster client works without hash
// tags: every command and script touches the one key it declares.
func TestConformanceAgainstARedisCluster(t *testing.T) {
	rdb := redistest.Cluster(t)
	newStore := func(t *testing.T) session.Store {
		s, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: "cluster" + strconv.FormatInt(prefixes.Add(1), 10) + ":"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Run(t, newStore)
	t.Run("update", func(t *testing.T) { storetest.Update(t, newStore(t)) })
}

func TestNewRequiresAClient(t *testing.T) {
	if _, err := redisstore.New(redisstore.Options{}); !errors.Is(err, redisstore.ErrOption) {
		t.Errorf("New without client = %v", err)
	}
}

func TestNewRefusesANegativeTimeout(t *testing.T) {
	_, err := redisstore.New(redisstore.Options{Client: redis.NewClient(&redis.Options{}), Timeout: -1})
	if !errors.Is(err, redisstore.ErrOption) || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("New with a negative Timeout = %v", err)
	}
}

func TestUniversalClientStandalone(t *testing.T) {
	addr := testenv.Redis(t)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}})
	defer rdb.Close()
	s, err := redisstore.New(redisstore.Options{Client: rdb})
	if err != nil {
		t.Fatal(err)
	}
	a := storetest.NewApp(t, session.Options{Store: s})
	_, tok := a.Do(t, "/login?user=uma", "")
	if rec, _ := a.Do(t, "/whoami", tok); rec.Body.String() != "uma" {
		t.Errorf("whoami = %d %q", rec.Code, rec.Body.String())
	}
}

func TestTokensAreStoredOnlyAsHashesWithATTL(t *testing.T) {
	addr := testenv.Redis(t)
	s, rdb, prefix := newStore(t, addr)
	a := storetest.NewApp(t, session.Options{Store: s, IdleTimeout: 10 * time.Minute})
	_, tok := a.Do(t, "/login?user=val", "")
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(tok))
	want := prefix + base64.RawURLEncoding.EncodeToString(sum[:])
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys = %q, want [%q]", keys, want)
	}
	v, _ := rdb.Get(ctx, keys[0]).Result()
	if strings.Contains(keys[0], tok) || strings.Contains(v, tok) {
		t.Errorf("the token is stored in clear")
	}
	// The store sets an absolute expiry from its own clock, rounded up to
	// Redis' millisecond (internal/redisttl): read back against Redis'
	// clock, it can be a little over the idle timeout.
	const slack = time.Second
	ttl, _ := rdb.PTTL(ctx, keys[0]).Result()
	if ttl < 9*time.Minute || ttl > 10*time.Minute+slack {
		t.Errorf("TTL = %v, want the idle timeout", ttl)
	}
	a.Do(t, "/logout", tok)
	// The data is gone; an empty marker keeps a late save from reviving
	// the session for one idle timeout after the logout, when every copy
	// of its token has idled out, and a minute more for clock skew.
	if v, err := rdb.Get(ctx, want).Result(); err != nil && err != redis.Nil || v != "" {
		t.Errorf("logout left the record's data in Redis: %d bytes, %v", len(v), err)
	}
	if ttl, _ := rdb.PTTL(ctx, want).Result(); ttl < 10*time.Minute || ttl > 11*time.Minute+slack {
		t.Errorf("marker TTL after logout = %v, want the idle timeout and a minute for clock skew", ttl)
	}
}

func TestSessionsExpireInRedis(t *testing.T) {
	addr := testenv.Redis(t)
	s, rdb, prefix := newStore(t, addr)
	a := storetest.NewApp(t, session.Options{Store: s, IdleTimeout: 300 * time.Millisecond, AbsoluteTimeout: 300 * time.Millisecond})
	_, tok := a.Do(t, "/login?user=wes", "")
	time.Sleep(400 * time.Millisecond)
	if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("expired session accepted: %d", rec.Code)
	}
	if keys, _ := rdb.Keys(context.Background(), prefix+"*").Result(); len(keys) != 0 {
		t.Errorf("expired keys left: %q", keys)
	}
}

func TestSharedBetweenInstances(t *testing.T) {
	addr := testenv.Redis(t)
	s1, _, prefix := newStore(t, addr)
	rdb2 := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb2.Close()
	s2, _ := redisstore.New(redisstore.Options{Client: rdb2, Prefix: prefix})
	a1 := storetest.NewApp(t, session.Options{Store: s1})
	a2 := storetest.NewApp(t, session.Options{Store: s2})
	_, tok := a1.Do(t, "/login?user=xia", "")
	if rec, _ := a2.Do(t, "/whoami", tok); rec.Body.String() != "xia" {
		t.Errorf("second instance: %d", rec.Code)
	}
	a2.Do(t, "/logout", tok)
	if rec, _ := a1.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("logout on one instance did not end the session on the other")
	}
}

func TestCookieStoreRevocationsInRedis(t *testing.T) {
	addr := testenv.Redis(t)
	rev, _, _ := newStore(t, addr)
	mk := func() *storetest.App {
		cs, err := session.NewCookieStore(session.CookieStoreOptions{
			Keys:        []session.KeyPair{{HashKey: []byte(strings.Repeat("h", 32)), BlockKey: []byte(strings.Repeat("b", 32))}},
			Revocations: rev,
		})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.NewApp(t, session.Options{Store: cs})
	}
	a1, a2 := mk(), mk()
	_, tok := a1.Do(t, "/login?user=yan", "")
	a1.Do(t, "/logout", tok)
	if rec, _ := a2.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("a cookie revoked on one instance replays on another: %d", rec.Code)
	}
}

// proxy forwards TCP to Redis and can be cut, to simulate Redis going away
// and coming back without losing its data.
type proxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); u.Close() }()
		go func() { _, _ = io.Copy(c, u); c.Close() }()
	}
}

func (p *proxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

func TestRedisOutageIsA503AndRecovers(t *testing.T) {
	addr := testenv.Redis(t)
	p := newProxy(t, addr)
	s, _, _ := newStore(t, p.ln.Addr().String())
	a := storetest.NewApp(t, session.Options{Store: s})
	_, tok := a.Do(t, "/login?user=zed", "")

	p.cut()
	for _, path := range []string{"/whoami", "/set?k=a&v=1", "/logout"} {
		rec, after := a.Do(t, path, tok)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s with Redis down: %d, want 503 with Retry-After", path, rec.Code)
		}
		if after != tok {
			t.Errorf("%s with Redis down changed the cookie", path)
		}
	}
	if rec, _ := a.Do(t, "/set?k=a&v=1", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a new session with Redis down: %d", rec.Code)
	}

	p.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec, _ := a.Do(t, "/whoami", tok)
		if rec.Code == http.StatusOK && rec.Body.String() == "zed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered after Redis returned: %d", rec.Code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startRedis starts a redis-server on port and returns a function that
// stops it. Unlike testenv.Redis, the test controls its life.
func startRedis(t *testing.T, bin string, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if rdb.Ping(context.Background()).Err() == nil {
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The real server is killed and started again (empty, as it has no
// persistence): requests fail with 503 meanwhile, never as anonymous,
// and work again once it is back.
func TestRedisServerStoppedAndRestarted(t *testing.T) {
	bin := testenv.LookPath(t, "redis-server", "redis-server")
	port := testenv.FreePort(t)
	stop := startRedis(t, bin, port)
	s, _, _ := newStore(t, "127.0.0.1:"+strconv.Itoa(port))
	a := storetest.NewApp(t, session.Options{Store: s})
	_, tok := a.Do(t, "/login?user=ada", "")
	if rec, _ := a.Do(t, "/whoami", tok); rec.Body.String() != "ada" {
		t.Fatalf("whoami = %d", rec.Code)
	}

	stop()
	if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("whoami with redis-server stopped: %d, want 503", rec.Code)
	}
	if rec, _ := a.Do(t, "/login?user=ada", tok); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("login with redis-server stopped: %d, want 503", rec.Code)
	}

	startRedis(t, bin, port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		// The restarted server is empty: the old session is gone, which
		// must read as anonymous (401), not as an error.
		rec, _ := a.Do(t, "/whoami", tok)
		if rec.Code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered: %d", rec.Code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, tok = a.Do(t, "/login?user=ada", "")
	if rec, _ := a.Do(t, "/whoami", tok); rec.Body.String() != "ada" {
		t.Errorf("login after the restart: %d", rec.Code)
	}
}

// A request in flight when Redis restarted empty (or lost the key to an
// eviction or a failover) must not save its session again once it
// finishes: the restart ended it, and a logout made meanwhile found
// nothing to mark as deleted. Found in review: the save wrote the record
// back under the old ID, and the logged-out token was valid again.
func TestASaveAfterRedisLostTheRecordDoesNotReviveIt(t *testing.T) {
	bin := testenv.LookPath(t, "redis-server", "redis-server")
	port := testenv.FreePort(t)
	stop := startRedis(t, bin, port)
	s, _, _ := newStore(t, "127.0.0.1:"+strconv.Itoa(port))
	a := storetest.NewApp(t, session.Options{Store: s})
	_, tok := a.Do(t, "/login?user=ada", "")
	f := storetest.StartInFlight(s, a.M.CookieName(), tok)
	stop()
	startRedis(t, bin, port)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if r, _ := a.Do(t, "/whoami", tok); r.Code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not recovered from the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, after := a.Do(t, "/logout", tok); r.Code != http.StatusOK || after != "" {
		t.Fatalf("logout = %d, token %q", r.Code, after)
	}
	if rec := f.Finish(); rec.Code != http.StatusOK || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("the request in flight = %d, Set-Cookie %q; want 200 and no cookie", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	if r, _ := a.Do(t, "/whoami", tok); r.Code != http.StatusUnauthorized {
		t.Errorf("the logged-out token after the save in flight = %d %q, want 401", r.Code, r.Body.String())
	}
}

// BenchmarkStore is one load+save of a logged-in session through the
// middleware against a real Redis: a GET and a SET per request.
func BenchmarkStore(b *testing.B) {
	s, _, _ := newStore(b, testenv.Redis(b))
	a := storetest.NewApp(b, session.Options{Store: s})
	_, tok := a.Do(b, "/login?user=bea", "")
	r, _ := http.NewRequest(http.MethodGet, "https://example.com/incr", nil)
	r.AddCookie(&http.Cookie{Name: a.M.CookieName(), Value: tok})
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		a.Handler.ServeHTTP(w, r)
	}
	if w.code != 0 {
		b.Fatalf("status %d", w.code)
	}
}

type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

// Two instances share Redis, one clock 30 s ahead. A logout, or a login
// that renews the session, on the fast one must end the session for the
// slow one (found in review: the fast instance's Find judged the record
// idled out by its own clock, so its logout deleted nothing, and the slow
// one kept accepting and refreshing the session). The session package's
// own test covers middlewares whose clocks differ.
func TestEndingASessionOnAFastInstanceEndsItEverywhere(t *testing.T) {
	addr := testenv.Redis(t)
	for _, path := range []string{"/logout", "/login?user=erin"} {
		t.Run(path, func(t *testing.T) {
			var mu sync.Mutex
			now := time.Now()
			slowNow := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			fastNow := func() time.Time { return slowNow().Add(30 * time.Second) }
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { _ = rdb.Close() })
			prefix := "test" + strconv.FormatInt(prefixes.Add(1), 10) + ":"
			instance := func(clock func() time.Time) *storetest.App {
				s, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: prefix}.WithNow(clock))
				if err != nil {
					t.Fatal(err)
				}
				// The middlewares keep the real clock; each store has its
				// instance's.
				return storetest.NewApp(t, session.Options{Store: s, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 12 * time.Hour})
			}
			slow, fast := instance(slowNow), instance(fastNow)
			_, tok := slow.Do(t, "/login?user=dave", "")
			mu.Lock()
			now = now.Add(10*time.Minute - 10*time.Second) // idled out for the fast instance only
			mu.Unlock()
			fast.Do(t, path, tok)
			if r, _ := slow.Do(t, "/whoami", tok); r.Code != http.StatusUnauthorized {
				t.Errorf("the session outlived %s on the fast instance: %d %q", path, r.Code, r.Body.String())
			}
		})
	}
}

// A logout replayed with a logged-out token writes nothing: the deletion
// marker already outlives every copy of the token (found in review: a
// version that deleted the token's ID blindly rewrote the marker each
// time), and it succeeds while Redis refuses writes.
func TestReplayedLogoutWritesNothing(t *testing.T) {
	s, rdb, prefix := newStore(t, testenv.Redis(t))
	a := storetest.NewApp(t, session.Options{Store: s, IdleTimeout: 10 * time.Minute})
	ctx := context.Background()
	_, tok := a.Do(t, "/login?user=rita", "")
	a.Do(t, "/logout", tok)
	sum := sha256.Sum256([]byte(tok))
	key := prefix + base64.RawURLEncoding.EncodeToString(sum[:])
	time.Sleep(50 * time.Millisecond)
	before, err := rdb.PTTL(ctx, key).Result()
	if err != nil || before <= 0 {
		t.Fatalf("the marker's PTTL = %v, %v", before, err)
	}
	for range 3 {
		if r, _ := a.Do(t, "/logout", tok); r.Code != http.StatusOK {
			t.Fatalf("replayed logout = %d", r.Code)
		}
	}
	if after, _ := rdb.PTTL(ctx, key).Result(); after > before {
		t.Errorf("a replayed logout rewrote the marker: PTTL %v -> %v", before, after)
	}
	a.Do(t, "/logout", strings.Repeat("B", session.IDLength-1)+"A")
	if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) != 1 {
		t.Errorf("keys = %q, want only the marker", keys)
	}
	if err := rdb.ConfigSet(ctx, "min-replicas-to-write", "1").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.ConfigSet(context.Background(), "min-replicas-to-write", "0").Err() })
	if r, _ := a.Do(t, "/logout", tok); r.Code != http.StatusOK {
		t.Errorf("logout with a logged-out token while Redis refuses writes = %d", r.Code)
	}
}

// argsHook records the arguments of every command a client sends.
type argsHook struct {
	mu   sync.Mutex
	args [][]any
}

func (h *argsHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *argsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.args = append(h.args, cmd.Args())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (h *argsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// last returns the arguments of the last command named one of names.
func (h *argsHook) last(names ...string) []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.args) - 1; i >= 0; i-- {
		for _, n := range names {
			if name, _ := h.args[i][0].(string); strings.EqualFold(name, n) {
				return h.args[i]
			}
		}
	}
	return nil
}

// A deletion marker, a revocation that a CookieStore adds, and a record
// committed (a CookieStore's Delete revokes with Commit) must hold at least
// until the Record's Expiry: their time to live is rounded up to Redis'
// milliseconds, never down (which ended them up to a millisecond early).
func TestDeletionsAndRevocationsRoundTheirTTLUp(t *testing.T) {
	addr := testenv.Redis(t)
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	tests := []struct {
		name    string
		ttl     time.Duration
		wantArg string // the milliseconds sent to Redis
	}{
		{"a fraction of a millisecond more", 10*time.Second + 500*time.Microsecond, "10001"},
		{"one nanosecond more", 10*time.Second + time.Nanosecond, "10001"},
		{"whole milliseconds", 10 * time.Second, "10000"},
		{"just under two milliseconds", 2*time.Millisecond - time.Nanosecond, "2"},
		{"the longest duration", math.MaxInt64, "9223372036854"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := new(argsHook)
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			rdb.AddHook(hook)
			t.Cleanup(func() { _ = rdb.Close() })
			prefix := "test" + strconv.FormatInt(prefixes.Add(1), 10) + ":"
			s, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: prefix}.WithNow(clock))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			id := strings.Repeat("A", session.IDLength)
			rec := session.Record{ID: id, Data: []byte("d"), Expiry: now.Add(time.Second)}
			if _, err := s.Commit(ctx, rec); err != nil {
				t.Fatal(err)
			}
			rec.Expiry = now.Add(tt.ttl)
			if _, err := s.Remove(ctx, rec); err != nil {
				t.Fatal(err)
			}
			args := hook.last("evalsha", "eval")
			if got := fmt.Sprint(args[len(args)-1]); got != tt.wantArg {
				t.Errorf("deletion held for %s ms, want %s (%v)", got, tt.wantArg, args)
			}

			rec.ID = strings.Repeat("B", session.IDLength-1) + "A"
			if added, err := s.Add(ctx, rec); !added || err != nil {
				t.Fatalf("Add = %v, %v", added, err)
			}
			args = hook.last("set")
			if got := setTTLMillis(args); got != tt.wantArg {
				t.Errorf("revocation held for %s ms, want %s (%v)", got, tt.wantArg, args)
			}

			// A CookieStore's Delete revokes with Commit: the record's key
			// too lasts until its Expiry, not a millisecond less, by this
			// instance's clock (ARGV[2]) and by Redis's (ARGV[3]), which
			// follow EVALSHA, the script, the key count, KEYS[1], ARGV[1].
			rec.ID = strings.Repeat("C", session.IDLength-1) + "A"
			if tok, err := s.Commit(ctx, rec); tok != rec.ID || err != nil {
				t.Fatalf("Commit = %q, %v", tok, err)
			}
			args = hook.last("evalsha", "eval")
			wantEnd := strconv.FormatInt(now.UnixMilli()+redisttlCeilMillis(tt.ttl), 10)
			if got, gotEnd := fmt.Sprint(args[5]), fmt.Sprint(args[6]); got != tt.wantArg || gotEnd != wantEnd {
				t.Errorf("record kept for %s ms or until %s, want %s ms and until %s (%v)", got, gotEnd, tt.wantArg, wantEnd, args)
			}
		})
	}
}

// redisttlCeilMillis is d in milliseconds, rounded up.
func redisttlCeilMillis(d time.Duration) int64 {
	ms := d.Milliseconds()
	if time.Duration(ms)*time.Millisecond < d {
		ms++
	}
	return ms
}

// setTTLMillis returns the time to live of a SET command's arguments, in
// milliseconds.
func setTTLMillis(args []any) string {
	for i := 0; i+1 < len(args); i++ {
		switch opt, _ := args[i].(string); strings.ToLower(opt) {
		case "px":
			return fmt.Sprint(args[i+1])
		case "ex":
			n, _ := strconv.ParseInt(fmt.Sprint(args[i+1]), 10, 64)
			return strconv.FormatInt(n*1000, 10)
		}
	}
	return fmt.Sprint(args)
}

// A record committed by an instance whose clock runs ahead of Redis's
// stays in Redis until its Expiry by Redis's clock (found in review: its
// time to live was counted from that instance's clock, so the key was
// gone early; a logout then found nothing and wrote no marker, and a
// request in flight on an instance with the right clock, which had loaded
// the session before, saved it again: the session survived the logout).
func TestARecordCommittedByAFastInstanceLastsUntilItsExpiry(t *testing.T) {
	const skew = 2500 * time.Millisecond
	ctx := context.Background()
	addr := testenv.Redis(t)
	slow, rdb, prefix := newStore(t, addr)
	fast, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: prefix}.WithNow(func() time.Time { return time.Now().Add(skew) }))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("B", session.IDLength-1) + "A"
	if _, err := fast.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, found, err := slow.Find(ctx, id); !found || err != nil { // a request starts on the slow instance
		t.Fatalf("Find = %v, %v", found, err)
	}
	time.Sleep(time.Second) // the key has outlived its time by the fast clock
	// A logout, on the fast instance, deletes what it finds.
	if _, found, err := fast.Find(ctx, id); err != nil {
		t.Fatal(err)
	} else if found {
		if err := fast.Delete(ctx, session.Record{ID: id, Expiry: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// The request on the slow instance ends and saves the session.
	tok, err := slow.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		t.Error("a save after the logout revived the session: the record committed by the fast instance had left Redis before its Expiry")
	}
}

// The edges of the store's expiries and markers, each a mutation that
// failed no other test.
func TestStoreEdges(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	id := strings.Repeat("E", session.IDLength-1) + "A"
	withClock := func(t *testing.T, now func() time.Time) *redisstore.Store {
		_, rdb, prefix := newStore(t, addr)
		s, err := redisstore.New(redisstore.Options{Client: rdb, Prefix: prefix}.WithNow(now))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("an instance whose clock runs behind Redis's keeps its record until its Expiry", func(t *testing.T) {
		behind := func() time.Time { return time.Now().Add(-10 * time.Second) }
		s := withClock(t, behind)
		if _, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: behind().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find(ctx, id); !found || err != nil {
			t.Errorf("Find = %v, %v; want found", found, err)
		}
	})
	t.Run("a Commit with an Expiry of now deletes", func(t *testing.T) {
		now := time.Now()
		s := withClock(t, func() time.Time { return now })
		if _, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: now}); err != nil {
			t.Errorf("Commit = %v, want nil", err)
		}
		if _, found, err := s.Find(ctx, id); found || err != nil {
			t.Errorf("Find = %v, %v; want not found", found, err)
		}
	})
	t.Run("a deletion holds until the record's own expiry when that is later", func(t *testing.T) {
		s, _, _ := newStore(t, addr)
		if _, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, session.Record{ID: id, Expiry: time.Now().Add(5 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if tok, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}); tok != "" || err != nil {
			t.Errorf("Commit after the Delete's Expiry = %q, %v; want the record's expiry to hold it", tok, err)
		}
	})
	t.Run("Remove does not report a record expired by the instance's clock", func(t *testing.T) {
		var ahead atomic.Int64
		s := withClock(t, func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
		if _, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ahead.Store(int64(2 * time.Hour))
		if found, err := s.Remove(ctx, session.Record{ID: id, Expiry: time.Now().Add(3 * time.Hour)}); found || err != nil {
			t.Errorf("Remove = %v, %v; want not found", found, err)
		}
	})
	t.Run("a Commit that expires a record leaves a marker no longer than the key", func(t *testing.T) {
		s, _, _ := newStore(t, addr)
		if _, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(30 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if tok, err := s.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}); tok != id || err != nil {
			t.Errorf("Commit once the key expired = %q, %v; want it stored", tok, err)
		}
	})
}

// commandCounter is a go-redis hook that counts the commands sent.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestMalformedTokensNeverReachRedis: a session token is a client's
// input, and a key built from it could address other keys (a separator,
// a glob, the prefix of another application) or be of any size. A token
// that is not a well-formed session ID is not looked up at all: the
// request is served without a session and no command reaches Redis, and
// a session started by it is filed under the SHA-256 of a fresh ID.
func TestMalformedTokensNeverReachRedis(t *testing.T) {
	addr := testenv.Redis(t)
	s, rdb, prefix := newStore(t, addr)
	var cc commandCounter
	rdb.AddHook(&cc)
	a := storetest.NewApp(t, session.Options{Store: s})
	valid := strings.Repeat("A", session.IDLength)
	for _, tt := range []struct{ name, token string }{
		{"a separator", valid[:20] + ":" + valid[21:]},
		{"a glob", valid[:42] + "*"},
		{"another key's prefix", "httpguard:session:" + valid[18:]},
		{"the standard base64 alphabet", valid[:41] + "+/"},
		{"stray bits in the last character", valid[:42] + "B"},
		{"one character short", valid[:42]},
		{"one character long", valid + "A"},
		{"an oversized value", strings.Repeat("A", 4000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/whoami", "/get?k=a", "/logout"} {
				before := cc.n.Load()
				rec, _ := a.Do(t, path, tt.token)
				if path == "/whoami" && rec.Code != http.StatusUnauthorized {
					t.Errorf("%s: %d, want 401 without a session", path, rec.Code)
				}
				if path != "/whoami" && rec.Code != http.StatusOK {
					t.Errorf("%s: %d, want 200", path, rec.Code)
				}
				if n := cc.n.Load() - before; n != 0 {
					t.Errorf("%s sent %d commands to Redis for a malformed token", path, n)
				}
			}
			_, tok := a.Do(t, "/set?k=a&v=1", tt.token)
			if tok == tt.token || !session.ValidID(tok) {
				t.Fatalf("the session started with token %q has token %q", tt.token, tok)
			}
			sum := sha256.Sum256([]byte(tok))
			want := prefix + base64.RawURLEncoding.EncodeToString(sum[:])
			if n, err := rdb.Exists(context.Background(), want).Result(); err != nil || n != 1 {
				t.Errorf("the new session is not filed under the SHA-256 of its ID: %d, %v", n, err)
			}
		})
	}
}

// A Redis that refuses writes (full under noeviction, or a replica after a
// failover) fails every operation that must write, with an error the
// middleware answers with 503: nothing is taken as done or as absent.
// Reads still find what is there.
func TestRefusedWritesFailClosed(t *testing.T) {
	addr := testenv.Redis(t)
	ctx := context.Background()
	for _, how := range []string{"OOM", "READONLY"} {
		t.Run(how, func(t *testing.T) {
			s, rdb, _ := newStore(t, addr)
			live := strings.Repeat("L", session.IDLength-1) + "A"
			if _, err := s.Commit(ctx, session.Record{ID: live, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			undo := redistest.RefuseWrites(t, rdb, how)
			defer undo()
			fresh := strings.Repeat("F", session.IDLength-1) + "A"
			later := session.Record{ID: live, Data: []byte("w"), Expiry: time.Now().Add(2 * time.Hour)}
			if tok, err := s.Commit(ctx, later); err == nil || tok != "" {
				t.Errorf("Commit = %q, %v; want an error", tok, err)
			}
			if found, err := s.Remove(ctx, later); err == nil || found {
				t.Errorf("Remove = %v, %v; want an error", found, err)
			}
			if err := s.Delete(ctx, later); err == nil {
				t.Error("Delete succeeded; want an error")
			}
			if added, err := s.Add(ctx, session.Record{ID: fresh, Data: []byte{}, Expiry: time.Now().Add(time.Hour)}); err == nil || added {
				t.Errorf("Add = %v, %v; want an error", added, err)
			}
			if rec, found, err := s.Find(ctx, live); !found || err != nil || string(rec.Data) != "v" {
				t.Errorf("Find = %q, %v, %v; want the record as it was", rec.Data, found, err)
			}
		})
	}
}

// A key of another type under a session's name (another application
// sharing the Redis and the prefix) is an error, never a missing session
// nor one found.
func TestAKeyOfAnotherTypeIsAnError(t *testing.T) {
	s, rdb, prefix := newStore(t, testenv.Redis(t))
	ctx := context.Background()
	id := strings.Repeat("T", session.IDLength-1) + "A"
	sum := sha256.Sum256([]byte(id))
	key := prefix + base64.RawURLEncoding.EncodeToString(sum[:])
	if err := rdb.HSet(ctx, key, "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	rec := session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}
	if _, found, err := s.Find(ctx, id); err == nil || found {
		t.Errorf("Find = %v, %v; want an error", found, err)
	}
	if tok, err := s.Commit(ctx, rec); err == nil || tok != "" {
		t.Errorf("Commit = %q, %v; want an error", tok, err)
	}
	if found, err := s.Remove(ctx, rec); err == nil || found {
		t.Errorf("Remove = %v, %v; want an error", found, err)
	}
	if typ, _ := rdb.Type(ctx, key).Result(); typ != "hash" {
		t.Errorf("the key is now a %s", typ)
	}
}

// The store's scripts are run by their SHA-1 and sent again when Redis
// has forgotten them (NOSCRIPT: a SCRIPT FLUSH, a restart, a failover to a
// replica that never ran them): each operation still works.
func TestScriptsAreSentAgainAfterAScriptFlush(t *testing.T) {
	s, rdb, _ := newStore(t, testenv.Redis(t))
	ctx := context.Background()
	flush := func() {
		t.Helper()
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The second time, Redis has run the scripts before the flush.
	for _, id := range []string{strings.Repeat("S", session.IDLength-1) + "A", strings.Repeat("S", session.IDLength-2) + "AA"} {
		rec := session.Record{ID: id, Data: []byte("v"), Expiry: time.Now().Add(time.Hour)}
		flush()
		if tok, err := s.Commit(ctx, rec); tok != id || err != nil {
			t.Fatalf("Commit after SCRIPT FLUSH = %q, %v", tok, err)
		}
		flush()
		if found, err := s.Remove(ctx, rec); !found || err != nil {
			t.Fatalf("Remove after SCRIPT FLUSH = %v, %v", found, err)
		}
	}
}

// A remembered session's key lasts as long as the remembered idle
// timeout (session.Options.RememberMeIdleTimeout), and so does the
// marker its logout leaves; another session's keeps the idle timeout.
func TestRememberedSessionsKeepTheirTTL(t *testing.T) {
	addr := testenv.Redis(t)
	s, rdb, prefix := newStore(t, addr)
	const week = 7 * 24 * time.Hour
	m := session.MustNew(session.Options{Store: s, IdleTimeout: 10 * time.Minute,
		RememberMeIdleTimeout: week, RememberMeAbsoluteTimeout: 30 * 24 * time.Hour})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := session.FromRequest(r)
		if r.URL.Path == "/logout" {
			_ = sess.Destroy()
			return
		}
		_ = sess.Login(identity.New(identity.Options{Subject: "val"}))
		sess.RememberMe(r.URL.Query().Get("remember") != "")
	}))
	do := func(path, tok string) string {
		req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
		if tok != "" {
			req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			tok = c.Value
		}
		return tok
	}
	ctx := context.Background()
	pttl := func(tok string) time.Duration {
		sum := sha256.Sum256([]byte(tok))
		ttl, _ := rdb.PTTL(ctx, prefix+base64.RawURLEncoding.EncodeToString(sum[:])).Result()
		return ttl
	}
	const slack = time.Second
	if ttl := pttl(do("/login", "")); ttl < 9*time.Minute || ttl > 10*time.Minute+slack {
		t.Errorf("TTL = %v, want the idle timeout", ttl)
	}
	tok := do("/login?remember=1", "")
	if ttl := pttl(tok); ttl < week-time.Minute || ttl > week+slack {
		t.Errorf("TTL of a remembered session = %v, want the remembered idle timeout", ttl)
	}
	do("/logout", tok)
	if ttl := pttl(tok); ttl < week || ttl > week+time.Minute+slack {
		t.Errorf("marker TTL after the logout of a remembered session = %v, want the remembered idle timeout and a minute", ttl)
	}
}
