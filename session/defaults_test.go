package session_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// The package documentation promises the timeouts of OWASP ASVS 3.3.2
// level 2 for a zero Options: 30 minutes idle, 12 hours absolute.
func TestDefaultTimeouts(t *testing.T) {
	if session.DefaultIdleTimeout != 30*time.Minute || session.DefaultAbsoluteTimeout != 12*time.Hour {
		t.Fatalf("defaults %v idle, %v absolute; documented as 30m and 12h", session.DefaultIdleTimeout, session.DefaultAbsoluteTimeout)
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			tests := []struct {
				name string
				// steps are the pauses before each request after the login.
				steps []time.Duration
				// alive is the status wanted after each step.
				alive []bool
			}{
				{"a session idle for 29 minutes is kept", []time.Duration{29 * time.Minute}, []bool{true}},
				{"a session idle for just over 30 minutes ends", []time.Duration{30*time.Minute + time.Second}, []bool{false}},
				{"an active session is kept for almost 12 hours and ends at 12",
					append(repeat(20*time.Minute, 35), 19*time.Minute, time.Minute+time.Second),
					append(repeatBool(true, 36), false)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					a, c := newApp(t, st.new(t), session.Options{})
					_, tok := a.Do(t, "/login?user=ann", "")
					var elapsed time.Duration
					for i, d := range tt.steps {
						c.Advance(d)
						elapsed += d
						rec, next := a.Do(t, "/whoami", tok)
						if got := rec.Code == http.StatusOK; got != tt.alive[i] {
							t.Fatalf("%v after the login: status %d, want alive=%v", elapsed, rec.Code, tt.alive[i])
						}
						tok = next
					}
				})
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}

func repeatBool(b bool, n int) []bool {
	s := make([]bool, n)
	for i := range s {
		s[i] = b
	}
	return s
}

// sessionID returns a well-formed session ID made from n.
func sessionID(n uint64) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[24:], n)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func TestNewMemoryStoreRejectsNegativeOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  session.MemoryOptions
		field string
	}{
		{"a negative MaxSessions", session.MemoryOptions{MaxSessions: -1}, "MaxSessions"},
		{"a negative SweepInterval", session.MemoryOptions{SweepInterval: -time.Second}, "SweepInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := session.NewMemoryStore(tt.opts)
			var oe *session.OptionError
			if s != nil || !errors.As(err, &oe) || oe.Field != tt.field {
				t.Errorf("NewMemoryStore = %v, %v; want an *OptionError for %s", s, err, tt.field)
			}
		})
	}
}

// MemoryOptions.MaxSessions defaults to DefaultMaxSessions (100,000): the
// store takes that many live sessions and refuses the next new one with
// ErrStoreFull, while an existing one can still be updated.
func TestMemoryStoreDefaultBound(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the store with 100,000 sessions")
	}
	if session.DefaultMaxSessions != 100_000 {
		t.Fatalf("DefaultMaxSessions = %d", session.DefaultMaxSessions)
	}
	c := newClock()
	ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
	ctx := context.Background()
	exp := c.Now().Add(time.Hour)
	for i := range uint64(session.DefaultMaxSessions) {
		if _, err := ms.Commit(ctx, session.Record{ID: sessionID(i), Expiry: exp}); err != nil {
			t.Fatalf("session %d refused: %v", i, err)
		}
	}
	if tok, err := ms.Commit(ctx, session.Record{ID: sessionID(session.DefaultMaxSessions), Expiry: exp}); !errors.Is(err, session.ErrStoreFull) || tok != "" {
		t.Errorf("session %d: %q, %v; want ErrStoreFull", session.DefaultMaxSessions+1, tok, err)
	}
	if added, err := ms.Add(ctx, session.Record{ID: sessionID(session.DefaultMaxSessions), Expiry: exp}); !errors.Is(err, session.ErrStoreFull) || added {
		t.Errorf("Add of session %d: %v, %v; want ErrStoreFull", session.DefaultMaxSessions+1, added, err)
	}
	if _, err := ms.Commit(ctx, session.Record{ID: sessionID(0), Data: []byte("x"), Expiry: exp}); err != nil {
		t.Errorf("an existing session cannot be updated in a full store: %v", err)
	}
	if n := ms.Len(); n != session.DefaultMaxSessions {
		t.Errorf("store holds %d sessions", n)
	}
}

// ValidID, StorageKey and MemoryStore.Find are documented not to allocate.
func TestStoreLookupsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are measured in full runs")
	}
	c := newClock()
	ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
	ctx := context.Background()
	live, unknown, malformed := sessionID(1), sessionID(2), sessionID(3)[:42]+"!"
	if _, err := ms.Commit(ctx, session.Record{ID: live, Data: []byte("data"), Expiry: c.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    func()
	}{
		{"ValidID of a valid ID", func() { _ = session.ValidID(live) }},
		{"ValidID of a malformed ID", func() { _ = session.ValidID("not an id") }},
		{"StorageKey of a valid ID", func() { _, _ = session.StorageKey(live) }},
		{"StorageKey of a malformed ID", func() { _, _ = session.StorageKey(malformed) }},
		{"Find of a live session", func() { _, _, _ = ms.Find(ctx, live) }},
		{"Find of an unknown session", func() { _, _, _ = ms.Find(ctx, unknown) }},
		{"Find of a malformed token", func() { _, _, _ = ms.Find(ctx, "garbage") }},
	}
	if _, found, err := ms.Find(ctx, live); !found || err != nil {
		t.Fatalf("Find(live) = %v, %v", found, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.f); n != 0 {
				t.Errorf("%v allocations, documented as none", n)
			}
		})
	}
}

// What ErrStoreFull's doc says of a renewal in a full MemoryStore: it
// needs a new record, so it is answered with 503 after the old record was
// deleted, and the client is signed out.
func TestRenewInAFullMemoryStoreSignsOut(t *testing.T) {
	ms := memoryStore(t, session.MemoryOptions{MaxSessions: 1})
	a := storetest.NewApp(t, session.Options{Store: ms})
	_, tok := a.Do(t, "/login?user=ann", "")
	if rec, _ := a.Do(t, "/whoami", tok); rec.Body.String() != "ann" {
		t.Fatalf("whoami = %d %q", rec.Code, rec.Body.String())
	}
	if rec, _ := a.Do(t, "/renew", tok); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("Renew in a full store: %d, want 503", rec.Code)
	}
	if rec, _ := a.Do(t, "/whoami", tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("after the refused Renew: %d %q, want the session gone", rec.Code, rec.Body.String())
	}
}
