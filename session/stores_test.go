package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/httpguard/httpguard/session"
)

// The Store contract at the edges of MemoryStore's deadlines and markers
// (mutations of each comparison failed no test: the middleware never
// reaches these edges with the clocks of the other tests).
func TestMemoryStoreMarkersAndBounds(t *testing.T) {
	ctx := context.Background()
	id := strings.Repeat("k", session.IDLength-1) + "A"
	newStore := func(t *testing.T, o session.MemoryOptions) (*session.MemoryStore, *clock) {
		c := newClock()
		return memoryStore(t, o.WithNow(c.Now)), c
	}
	commit := func(t *testing.T, st *session.MemoryStore, expiry time.Time) string {
		t.Helper()
		tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: expiry})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	t.Run("a Commit with an Expiry of now stores nothing and returns no token", func(t *testing.T) {
		st, c := newStore(t, session.MemoryOptions{})
		if tok := commit(t, st, c.Now()); tok != "" || st.Len() != 0 {
			t.Errorf("Commit = %q, %d records; want nothing", tok, st.Len())
		}
	})
	t.Run("a deletion holds until the record's own expiry when that is later", func(t *testing.T) {
		st, c := newStore(t, session.MemoryOptions{})
		commit(t, st, c.Now().Add(time.Hour))
		if err := st.Delete(ctx, session.Record{ID: id, Expiry: c.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		c.Advance(2 * time.Minute)
		if tok := commit(t, st, c.Now().Add(time.Hour)); tok != "" {
			t.Error("a Commit after the Delete's Expiry, before the record's, revived it")
		}
	})
	t.Run("a later deletion extends the marker", func(t *testing.T) {
		st, c := newStore(t, session.MemoryOptions{})
		commit(t, st, c.Now().Add(time.Minute))
		for _, d := range []time.Duration{2 * time.Minute, 5 * time.Minute} {
			if err := st.Delete(ctx, session.Record{ID: id, Expiry: c.Now().Add(d)}); err != nil {
				t.Fatal(err)
			}
		}
		c.Advance(3 * time.Minute)
		if tok := commit(t, st, c.Now().Add(time.Hour)); tok != "" {
			t.Error("a Commit between the first and the second Delete's Expiry revived it")
		}
	})
	t.Run("Add takes an ID whose record expired and was not swept yet", func(t *testing.T) {
		st, c := newStore(t, session.MemoryOptions{SweepInterval: time.Hour})
		for i, want := range []bool{true, true} {
			added, err := st.Add(ctx, session.Record{ID: id, Data: []byte{}, Expiry: c.Now().Add(time.Minute)})
			if err != nil || added != want {
				t.Fatalf("Add %d = %v, %v; want %v", i, added, err, want)
			}
			c.Advance(2 * time.Minute)
		}
	})
	t.Run("a full store sweeps expired records again after a second", func(t *testing.T) {
		st, c := newStore(t, session.MemoryOptions{MaxSessions: 1, SweepInterval: time.Hour})
		for i := range 3 {
			rid := strings.Repeat(string(rune('a'+i)), session.IDLength-1) + "A"
			if _, err := st.Commit(ctx, session.Record{ID: rid, Data: []byte("v"), Expiry: c.Now().Add(10 * time.Second)}); err != nil {
				t.Fatalf("Commit %d, the others expired: %v", i, err)
			}
			c.Advance(20 * time.Second)
		}
	})
}

// A CookieStore token is not found from its expiry on, which Commit
// rounds up to a whole second, and a revocation outlives every copy by
// that rounding.
func TestCookieStoreDeadlines(t *testing.T) {
	ctx := context.Background()
	id := strings.Repeat("c", session.IDLength-1) + "A"
	tests := []struct {
		name    string
		expiry  time.Duration // of the committed copy
		revoke  bool          // Delete with the same Expiry right away
		advance time.Duration
		found   bool
	}{
		{"just before its expiry", time.Minute, false, time.Minute - time.Nanosecond, true},
		{"at its expiry", time.Minute, false, time.Minute, false},
		{"a fraction of a second is rounded up", time.Minute + 500*time.Millisecond, false, time.Minute + 700*time.Millisecond, true},
		{"revoked until the rounded expiry", time.Minute + 500*time.Millisecond, true, time.Minute + 700*time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			st := cookieStore(t, c.Now)
			exp := c.Now().Add(tt.expiry)
			tok, err := st.Commit(ctx, session.Record{ID: id, Data: []byte("v"), Expiry: exp})
			if err != nil {
				t.Fatal(err)
			}
			if tt.revoke {
				if err := st.Delete(ctx, session.Record{ID: id, Expiry: exp}); err != nil {
					t.Fatal(err)
				}
			}
			c.Advance(tt.advance)
			if _, found, err := st.Find(ctx, tok); found != tt.found || err != nil {
				t.Errorf("Find = %v, %v; want %v", found, err, tt.found)
			}
		})
	}
}

// A CookieStore refuses a session that does not fit in a cookie itself,
// not only through the middleware, and a cookie authenticated by its keys
// whose payload is too short to hold an ID and an expiry is not found
// (what a leaked key could forge): no panic.
func TestCookieStoreBounds(t *testing.T) {
	ctx := context.Background()
	st := cookieStore(t, nil)
	id := strings.Repeat("b", session.IDLength-1) + "A"
	if _, err := st.Commit(ctx, session.Record{ID: id, Data: make([]byte, 4096), Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("Commit of 4096 bytes = %v, want ErrTooLarge", err)
	}
	sc := securecookie.New(key(1), key(2))
	sc.SetSerializer(securecookie.NopEncoder{})
	for _, n := range []int{0, 32, 39} {
		tok, err := sc.Encode("session", make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		if _, found, err := st.Find(ctx, tok); found || err != nil {
			t.Errorf("payload of %d bytes: Find = %v, %v; want not found", n, found, err)
		}
	}
}
