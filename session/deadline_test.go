package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// keepingStore keeps every record until it is deleted, whatever its
// Expiry: the Store contract lets a store forget a record at its Expiry,
// not forces it to, and says the Middleware checks the deadlines itself.
type keepingStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *keepingStore) Find(_ context.Context, token string) (session.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[token]
	if !ok {
		return session.Record{}, false, nil
	}
	return session.Record{ID: token, Data: d, Expiry: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}, true, nil
}

func (s *keepingStore) Commit(_ context.Context, rec session.Record) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[rec.ID] = rec.Data
	return rec.ID, nil
}

func (s *keepingStore) Delete(_ context.Context, rec session.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, rec.ID)
	return nil
}

// The Middleware enforces the idle and absolute timeouts itself, to the
// nanosecond, even with a store that keeps records past their Expiry
// (mutations that dropped the absolute deadline from the load, or read
// "past the deadline" as strictly after it, failed no other test: the
// in-memory and cookie stores forget the record at the same instant).
func TestDeadlinesAreEnforcedWhateverTheStoreKeeps(t *testing.T) {
	const idle, absolute = 10 * time.Minute, 30 * time.Minute
	newApp := func(c *clock, st session.Store) *storetest.App {
		return storetest.NewApp(t, session.Options{Store: st, IdleTimeout: idle, AbsoluteTimeout: absolute}.WithNow(c.Now))
	}
	tests := []struct {
		name string
		// steps advance the clock before each request to /whoami.
		steps []time.Duration
		want  []int
	}{
		{"a request just before the idle deadline is served",
			[]time.Duration{idle - time.Nanosecond}, []int{200}},
		{"a request at the idle deadline is refused",
			[]time.Duration{idle}, []int{401}},
		{"an active session is served just before the absolute deadline",
			[]time.Duration{8 * time.Minute, 8 * time.Minute, 8 * time.Minute, 6*time.Minute - time.Nanosecond}, []int{200, 200, 200, 200}},
		{"an active session is refused at the absolute deadline",
			[]time.Duration{8 * time.Minute, 8 * time.Minute, 8 * time.Minute, 6 * time.Minute}, []int{200, 200, 200, 401}},
		{"an active session is refused past the absolute deadline",
			[]time.Duration{9 * time.Minute, 9 * time.Minute, 9 * time.Minute, 9 * time.Minute}, []int{200, 200, 200, 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			a := newApp(c, &keepingStore{m: map[string][]byte{}})
			_, tok := a.Do(t, "/login?user=ann", "")
			if tok == "" {
				t.Fatal("no session cookie")
			}
			for i, d := range tt.steps {
				c.Advance(d)
				rec, next := a.Do(t, "/whoami", tok)
				if got := rec.Code; got != tt.want[i] {
					t.Fatalf("request %d, after %v: status %d; want %d", i, d, got, tt.want[i])
				}
				tok = next
			}
		})
	}
}

// A record created more than the allowed clock skew in the future, by an
// instance whose clock runs ahead, is refused by an instance on time: its
// deadlines would otherwise run from a time that has not come.
func TestARecordCreatedInTheFutureIsRefused(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ahead time.Duration
		want  int
	}{
		{"a clock a minute ahead is within the skew", time.Minute, 200},
		{"a clock two minutes ahead is not", 2 * time.Minute, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &keepingStore{m: map[string][]byte{}}
			onTime, fast := newClock(), newClock()
			fast.Advance(tt.ahead)
			o := session.Options{Store: st, IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour}
			ahead := storetest.NewApp(t, o.WithNow(fast.Now))
			behind := storetest.NewApp(t, o.WithNow(onTime.Now))
			_, tok := ahead.Do(t, "/login?user=ann", "")
			if rec, _ := behind.Do(t, "/whoami", tok); rec.Code != tt.want {
				t.Errorf("status %d; want %d", rec.Code, tt.want)
			}
		})
	}
}

// MemoryStore.Find reports a record at its Expiry as not found, whatever
// the Middleware checks on top: other code may use the store directly.
func TestMemoryStoreFindsNothingAtTheExpiry(t *testing.T) {
	c := newClock()
	st := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
	ctx := context.Background()
	id := strings.Repeat("m", session.IDLength-1) + "A"
	tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: c.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		advance time.Duration
		found   bool
	}{
		{0, true},
		{time.Minute - time.Nanosecond, true},
		{time.Nanosecond, false},
	} {
		c.Advance(tt.advance)
		if _, found, err := st.Find(ctx, tok); found != tt.found || err != nil {
			t.Fatalf("at %v: found = %v, %v; want %v", c.Now(), found, err, tt.found)
		}
	}
}
