package session_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpguard/httpguard/session"
	"github.com/httpguard/httpguard/session/internal/storetest"
)

// sizingStore counts the Commits made to the store it wraps and keeps
// the size of the last record committed.
type sizingStore struct {
	*session.MemoryStore
	commits atomic.Int64
	last    atomic.Int64
}

func (s *sizingStore) Commit(ctx context.Context, rec session.Record) (string, error) {
	s.commits.Add(1)
	s.last.Store(int64(len(rec.Data)))
	return s.MemoryStore.Commit(ctx, rec)
}

// maxBytesApp is the storetest app with MaxBytes, over st, with an
// OnReject that records the error it is given and answers as the default
// does.
func maxBytesApp(t *testing.T, st session.Store, c *clock, maxBytes int, rejected *error) *storetest.App {
	t.Helper()
	return storetest.NewApp(t, session.Options{Store: st, MaxBytes: maxBytes, OnReject: func(w http.ResponseWriter, r *http.Request, err error) {
		*rejected = err
		http.Error(w, "internal error", http.StatusInternalServerError)
	}}.WithNow(c.Now))
}

// The size of the encoded session of a session that holds k=v, by the
// clock c, found by saving it once without a bound.
func encodedSize(t *testing.T, c *clock, v string) int {
	t.Helper()
	st := &sizingStore{MemoryStore: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))}
	var rejected error
	a := maxBytesApp(t, st, c, 1<<30, &rejected)
	_, tok := a.Do(t, "/set?k=a&v=old", "")
	if rec, _ := a.Do(t, "/set?k=a&v="+v, tok); rec.Code != http.StatusOK {
		t.Fatalf("unbounded save: %d", rec.Code)
	}
	return int(st.last.Load())
}

// Options.MaxBytes bounds the encoded session a changed session saves: a
// save over it stores nothing, leaves the record stored before as it was,
// and is answered with 500 through OnReject with an error wrapping
// ErrMaxBytes and ErrTooLarge that carries none of the session's data. A
// save of exactly MaxBytes is taken.
func TestMaxBytes(t *testing.T) {
	value := strings.Repeat("secret-", 500) // 3500 bytes
	tests := []struct {
		name   string
		slack  int // MaxBytes minus the size of the encoded session
		status int
	}{
		{"a session of exactly MaxBytes is saved", 0, http.StatusOK},
		{"a session one byte under MaxBytes is saved", 1, http.StatusOK},
		{"a session one byte over MaxBytes is refused", -1, http.StatusInternalServerError},
		{"a session far over MaxBytes is refused", -3000, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			size := encodedSize(t, c, value)
			st := &sizingStore{MemoryStore: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))}
			var rejected error
			a := maxBytesApp(t, st, c, size+tt.slack, &rejected)
			_, tok := a.Do(t, "/set?k=a&v=old", "")
			before := st.commits.Load()
			rec, _ := a.Do(t, "/set?k=a&v="+value, tok)
			if rec.Code != tt.status {
				t.Fatalf("save of %d bytes with MaxBytes %d: %d, want %d", size, size+tt.slack, rec.Code, tt.status)
			}
			want := value
			if tt.status != http.StatusOK {
				if n := st.commits.Load() - before; n != 0 {
					t.Errorf("the store was called %d times for a session over MaxBytes", n)
				}
				if rec.Header().Get("Set-Cookie") != "" {
					t.Errorf("a refused save set a cookie: %q", rec.Header().Get("Set-Cookie"))
				}
				if !errors.Is(rejected, session.ErrMaxBytes) || !errors.Is(rejected, session.ErrTooLarge) || errors.Is(rejected, session.ErrStore) {
					t.Errorf("OnReject got %v; want ErrMaxBytes and ErrTooLarge, not ErrStore", rejected)
				} else if strings.Contains(rejected.Error(), "secret") || strings.Contains(rejected.Error(), "old") {
					t.Errorf("the error carries session data: %v", rejected)
				}
				want = "old"
			}
			if rec, _ := a.Do(t, "/get?k=a", tok); rec.Body.String() != want {
				t.Errorf("then the session holds %.20q…, want %.20q…", rec.Body.String(), want)
			}
		})
	}
}

// The default bound is DefaultMaxBytes (64 KiB); a negative MaxBytes is
// an error from New; and the default rejection of a session over it is a
// 500 problem response.
func TestMaxBytesDefault(t *testing.T) {
	if session.DefaultMaxBytes != 64<<10 {
		t.Fatalf("DefaultMaxBytes = %d, documented as 64 KiB", session.DefaultMaxBytes)
	}
	if m, err := session.New(session.Options{MaxBytes: -1}); m != nil || err == nil {
		t.Fatalf("New with a negative MaxBytes = %v, %v", m, err)
	}
	a := storetest.NewApp(t, session.Options{})
	_, tok := a.Do(t, "/set?k=a&v=old", "")
	if rec, _ := a.Do(t, "/set?k=a&v="+strings.Repeat("x", 60<<10), tok); rec.Code != http.StatusOK {
		t.Errorf("60 KiB: %d, want 200", rec.Code)
	}
	rec, _ := a.Do(t, "/set?k=a&v="+strings.Repeat("x", 64<<10), tok)
	if rec.Code != http.StatusInternalServerError || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Errorf("64 KiB of value: %d %q, want a 500 problem response", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Contains(rec.Body.String(), "xxxx") {
		t.Errorf("the response carries session data")
	}
	if rec, _ := a.Do(t, "/get?k=a", tok); len(rec.Body.String()) != 60<<10 {
		t.Errorf("after the refused save the value has %d bytes, want the 60 KiB stored before", len(rec.Body.String()))
	}
}

// A session that is only read is never refused by MaxBytes, even one
// stored when the bound was higher whose idle deadline the request
// extends; nor is a change that does not make it larger (a flash message
// taken, a value replaced by a shorter one), while one that grows it is
// refused.
func TestMaxBytesReadOnly(t *testing.T) {
	c := newClock()
	st := &sizingStore{MemoryStore: memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))}
	var rejected error
	big := maxBytesApp(t, st, c, 1<<20, &rejected)
	_, tok := big.Do(t, "/set?k=a&v="+strings.Repeat("x", 2000), "")
	small := maxBytesApp(t, st, c, 1000, &rejected)
	for range 3 {
		c.Advance(5 * time.Minute) // past the refresh interval: each read saves
		before := st.commits.Load()
		if rec, _ := small.Do(t, "/get?k=a", tok); rec.Code != http.StatusOK || len(rec.Body.String()) != 2000 || rejected != nil {
			t.Fatalf("a read of a session over MaxBytes: %d, %d bytes, %v", rec.Code, len(rec.Body.String()), rejected)
		}
		if st.commits.Load() == before {
			t.Fatal("the read did not refresh the session")
		}
	}
	if rec, _ := small.Do(t, "/set?k=b&v=1", tok); rec.Code != http.StatusInternalServerError || !errors.Is(rejected, session.ErrMaxBytes) {
		t.Errorf("a change that grows it: %d, %v; want 500 and ErrMaxBytes", rec.Code, rejected)
	}
	rejected = nil
	for _, v := range []string{strings.Repeat("y", 2000), strings.Repeat("z", 1500)} {
		if rec, _ := small.Do(t, "/set?k=a&v="+v, tok); rec.Code != http.StatusOK || rejected != nil {
			t.Errorf("a change that does not grow it: %d, %v; want 200", rec.Code, rejected)
		}
		if rec, _ := small.Do(t, "/get?k=a", tok); rec.Body.String() != v {
			t.Errorf("then it holds %.20q…, want %.20q…", rec.Body.String(), v)
		}
	}
}

// A new session over MaxBytes is not created, and a change made after the
// headers were written that would exceed it is dropped without touching
// the store, the record stored before kept.
func TestMaxBytesNewAndLate(t *testing.T) {
	c := newClock()
	ms := memoryStore(t, session.MemoryOptions{}.WithNow(c.Now))
	st := &sizingStore{MemoryStore: ms}
	m, err := session.New(session.Options{Store: st, MaxBytes: 1000}.WithNow(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if r.URL.Query().Has("late") {
			_, _ = w.Write([]byte("started"))
		}
		s.SetString("a", r.URL.Query().Get("v"))
	}))
	a := &storetest.App{M: m, Handler: h}
	if rec, tok := a.Do(t, "/?v="+strings.Repeat("x", 2000), ""); rec.Code != http.StatusInternalServerError || tok != "" || ms.Len() != 0 || st.commits.Load() != 0 {
		t.Errorf("a new session over MaxBytes: %d, token %q, %d records, %d commits", rec.Code, tok, ms.Len(), st.commits.Load())
	}
	_, tok := a.Do(t, "/?v=old", "")
	before := st.commits.Load()
	if rec, _ := a.Do(t, "/?late=1&v="+strings.Repeat("x", 2000), tok); rec.Code != http.StatusOK || st.commits.Load() != before {
		t.Errorf("a late change over MaxBytes: %d, %d commits", rec.Code, st.commits.Load()-before)
	}
	rec, _ := storetest.NewApp(t, session.Options{Store: ms}.WithNow(c.Now)).Do(t, "/get?k=a", tok)
	if rec.Body.String() != "old" {
		t.Errorf("after the late change the session holds %.20q", rec.Body.String())
	}
}
