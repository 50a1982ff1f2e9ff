package session_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

func TestNewMemoryStoreRejectsNegativeMaxBytes(t *testing.T) {
	s, err := session.NewMemoryStore(session.MemoryOptions{MaxBytes: -1})
	var oe *session.OptionError
	if s != nil || !errors.As(err, &oe) || oe.Field != "MaxBytes" {
		t.Errorf("NewMemoryStore = %v, %v; want an *OptionError for MaxBytes", s, err)
	}
	if session.DefaultMaxStoreBytes != 256<<20 {
		t.Errorf("DefaultMaxStoreBytes = %d, documented as 256 MiB", session.DefaultMaxStoreBytes)
	}
}

// MemoryOptions.MaxBytes bounds the bytes a MemoryStore holds: the data
// of its records plus MemoryRecordOverhead each. Past it a new record is
// refused with ErrStoreFull, and so is an update that grows one; an
// update that does not grow it is taken; deletes and expiry give the
// bytes back.
func TestMemoryStoreMaxBytes(t *testing.T) {
	const size = 1000
	rec := func(n uint64, data int, exp time.Time) session.Record {
		return session.Record{ID: sessionID(n), Data: make([]byte, data), Expiry: exp}
	}
	type step struct {
		name string
		do   func(ms *session.MemoryStore, c *clock) error
		want error
	}
	ctx := context.Background()
	commit := func(n uint64, data int, ttl time.Duration) func(*session.MemoryStore, *clock) error {
		return func(ms *session.MemoryStore, c *clock) error {
			_, err := ms.Commit(ctx, rec(n, data, c.Now().Add(ttl)))
			return err
		}
	}
	add := func(n uint64, data int) func(*session.MemoryStore, *clock) error {
		return func(ms *session.MemoryStore, c *clock) error {
			_, err := ms.Add(ctx, rec(n, data, c.Now().Add(time.Hour)))
			return err
		}
	}
	del := func(n uint64) func(*session.MemoryStore, *clock) error {
		return func(ms *session.MemoryStore, c *clock) error { return ms.Delete(ctx, rec(n, 0, time.Time{})) }
	}
	advance := func(d time.Duration) func(*session.MemoryStore, *clock) error {
		return func(ms *session.MemoryStore, c *clock) error { c.Advance(d); return nil }
	}
	fill := []step{
		{"a first record", commit(1, size, time.Hour), nil},
		{"a second record", commit(2, size, time.Hour), nil},
		{"a third record", commit(3, size, time.Hour), nil},
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a new record past the bound is refused", append(fill[:3:3],
			step{"a fourth record", commit(4, size, time.Hour), session.ErrStoreFull},
			step{"a fourth record added", add(4, size), session.ErrStoreFull},
			step{"a small fourth record", commit(4, 0, time.Hour), session.ErrStoreFull},
		)},
		{"an update that does not grow a record is taken", append(fill[:3:3],
			step{"the same size", commit(2, size, time.Hour), nil},
			step{"smaller", commit(2, size-10, time.Hour), nil},
			step{"back to its size", commit(2, size, time.Hour), nil},
		)},
		{"an update that grows a record past the bound is refused", append(fill[:3:3],
			step{"one byte more", commit(2, size+1, time.Hour), session.ErrStoreFull},
		)},
		{"a delete gives the data back", append(fill[:3:3],
			step{"delete", del(2), nil},
			step{"a new record", commit(4, size-session.MemoryRecordOverhead, time.Hour), nil},
			step{"another", commit(5, 0, time.Hour), session.ErrStoreFull},
		)},
		{"expiry gives everything back", append(fill[:3:3],
			step{"a new record", commit(4, size, time.Hour), session.ErrStoreFull},
			step{"an hour later", advance(time.Hour), nil},
			step{"a new record", commit(4, size, time.Hour), nil},
			step{"two", commit(5, size, time.Hour), nil},
			step{"three", commit(6, size, time.Hour), nil},
		)},
		{"a commit that expires a record gives its bytes back", append(fill[:3:3],
			step{"expire one", commit(3, size, -time.Second), nil},
			step{"a new record", commit(4, size, time.Hour), nil},
		)},
		{"a record larger than the bound is refused in an empty store", []step{
			{"too large", commit(1, 3*(size+session.MemoryRecordOverhead)+1, time.Hour), session.ErrStoreFull},
			{"fits", commit(1, 3*(size+session.MemoryRecordOverhead)-session.MemoryRecordOverhead, time.Hour), nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			ms := memoryStore(t, session.MemoryOptions{MaxBytes: 3 * (size + session.MemoryRecordOverhead), SweepInterval: 24 * time.Hour}.WithNow(c.Now))
			for _, s := range tt.steps {
				if err := s.do(ms, c); !errors.Is(err, s.want) || (err != nil) != (s.want != nil) {
					t.Fatalf("%s: %v, want %v", s.name, err, s.want)
				}
				if got, want := ms.Bytes(), session.RecountBytes(ms); got != want {
					t.Fatalf("%s: %d bytes counted, %d held", s.name, got, want)
				}
			}
		})
	}
}

// The bytes a MemoryStore counts equal those of the records it holds
// after a random workload of new records, replacements, updates, adds,
// deletes, renewals, expiries and sweeps, from one goroutine and from
// several at once.
func TestMemoryStoreBytesAccounting(t *testing.T) {
	for _, workers := range []int{1, 8} {
		t.Run(map[int]string{1: "sequential", 8: "concurrent"}[workers], func(t *testing.T) {
			c := newClock()
			ms := memoryStore(t, session.MemoryOptions{MaxBytes: 20_000, MaxSessions: 60, SweepInterval: 10 * time.Second}.WithNow(c.Now))
			var wg sync.WaitGroup
			var full atomic.Int64
			note := func(err error) {
				if errors.Is(err, session.ErrStoreFull) {
					full.Add(1)
				}
			}
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					ctx := context.Background()
					for range 3000 {
						id := sessionID(r.Uint64N(80))
						rec := session.Record{ID: id, Data: make([]byte, r.IntN(1500)), Expiry: c.Now().Add(time.Duration(r.IntN(60)-5) * time.Second)}
						switch r.IntN(7) {
						case 0, 1:
							_, err := ms.Commit(ctx, rec)
							note(err)
						case 2:
							rec.Update = true
							_, err := ms.Commit(ctx, rec)
							note(err)
						case 3:
							_, err := ms.Add(ctx, rec)
							note(err)
						case 4:
							rec.Data = nil
							_ = ms.Delete(ctx, rec)
						case 5: // a renewal
							if found, _ := ms.Remove(ctx, session.Record{ID: id, Expiry: rec.Expiry}); found {
								rec.ID = sessionID(r.Uint64N(80))
								_, err := ms.Add(ctx, rec)
								note(err)
							}
						case 6:
							c.Advance(time.Duration(r.IntN(3000)) * time.Millisecond)
							_, _, _ = ms.Find(ctx, id)
						}
						if workers == 1 {
							if got, want := ms.Bytes(), session.RecountBytes(ms); got != want {
								t.Errorf("%d bytes counted, %d held", got, want)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			if full.Load() == 0 {
				t.Error("the workload never reached the bound")
			}
			if got, want := ms.Bytes(), session.RecountBytes(ms); got != want || got > 20_000 {
				t.Errorf("%d bytes counted, %d held, bound 20000", got, want)
			}
			c.Advance(time.Hour)
			_, _ = ms.Commit(context.Background(), session.Record{ID: sessionID(1000), Expiry: c.Now().Add(time.Hour)})
			if got, want := ms.Bytes(), int64(session.MemoryRecordOverhead); got != want || ms.Len() != 1 {
				t.Errorf("after everything expired: %d bytes, %d records; want %d, 1", got, ms.Len(), want)
			}
		})
	}
}

// Through the middleware, a MemoryStore whose bytes are used up refuses
// new sessions with 503 while the existing ones keep working, and takes
// new ones again once a logout or expiry gave bytes back.
func TestMemoryStoreMaxBytesThroughMiddleware(t *testing.T) {
	c := newClock()
	value := strings.Repeat("x", 1000)
	ms := memoryStore(t, session.MemoryOptions{MaxBytes: 3 * (1100 + session.MemoryRecordOverhead)}.WithNow(c.Now))
	a := storetest.NewApp(t, session.Options{Store: ms}.WithNow(c.Now))
	var toks []string
	for i := range 3 {
		rec, tok := a.Do(t, "/set?k=a&v="+value, "")
		if rec.Code != http.StatusOK || tok == "" {
			t.Fatalf("session %d: %d", i, rec.Code)
		}
		toks = append(toks, tok)
	}
	steps := []struct {
		name, path, token string
		status            int
	}{
		{"a new session in the full store", "/set?k=a&v=" + value, "", http.StatusServiceUnavailable},
		{"an existing session is read", "/get?k=a", toks[0], http.StatusOK},
		{"an existing session is changed, not grown", "/set?k=a&v=" + strings.Repeat("y", 1000), toks[0], http.StatusOK},
		{"an existing session grows past the bound", "/set?k=b&v=" + value, toks[0], http.StatusServiceUnavailable},
		{"a logout", "/logout", toks[1], http.StatusOK},
		{"a new session after the logout", "/set?k=a&v=" + value, "", http.StatusOK},
		{"another new one", "/set?k=a&v=" + value, "", http.StatusServiceUnavailable},
	}
	for _, s := range steps {
		if rec, _ := a.Do(t, s.path, s.token); rec.Code != s.status {
			t.Fatalf("%s: %d, want %d", s.name, rec.Code, s.status)
		}
	}
	c.Advance(time.Hour) // every session and marker has expired
	for i := range 3 {
		if rec, _ := a.Do(t, "/set?k=a&v="+value, ""); rec.Code != http.StatusOK {
			t.Fatalf("new session %d after the expiry: %d", i, rec.Code)
		}
	}
	if got, want := ms.Bytes(), session.RecountBytes(ms); got != want {
		t.Errorf("%d bytes counted, %d held", got, want)
	}
}
