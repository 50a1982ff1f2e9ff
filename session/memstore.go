package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// DefaultMaxSessions is the default bound of a [MemoryStore] on the
// number of its records.
const DefaultMaxSessions = 100_000

// DefaultMaxStoreBytes is the default bound of a [MemoryStore] on the
// bytes its records hold (see [MemoryOptions.MaxBytes]): 256 MiB.
const DefaultMaxStoreBytes = 256 << 20

// MemoryRecordOverhead is what each record of a [MemoryStore] counts
// toward [MemoryOptions.MaxBytes] besides its Data: an estimate of what
// the map entry (key, slice header, expiry) and its share of the map cost.
const MemoryRecordOverhead = 128

// ErrStoreFull is returned by [MemoryStore.Commit] and [MemoryStore.Add]
// when the store holds [MemoryOptions.MaxSessions] records (see there
// what counts) and another would be created, or when a new record, or an
// update that grows one, would take the bytes held past
// [MemoryOptions.MaxBytes]. The middleware answers it with 503
// ([ErrStore]); existing sessions keep working (those that grow only
// until the bytes run out), but a [Session.Renew] or [Session.Login] of
// one, which needs a new record, fails after deleting the old one, and
// the client is signed out. As the Revocations of a [CookieStore] it
// makes Destroy and Renew fail.
var ErrStoreFull = errors.New("session: memory store is full")

// MemoryOptions configures a [MemoryStore]. The zero value is the
// recommended configuration.
type MemoryOptions struct {
	// MaxSessions bounds the number of sessions kept, so a flood of new
	// sessions cannot exhaust memory. When the bound is reached, expired
	// sessions are swept and, if none expired, a new session is refused
	// with [ErrStoreFull] (a 503) while existing ones can still be updated:
	// the flood is turned away rather than logging real users out. The
	// marker a logout or renewal leaves counts too, for one idle timeout
	// (see [MemoryStore.Delete]).
	// Default: [DefaultMaxSessions]. Must not be negative.
	MaxSessions int
	// MaxBytes bounds the bytes the records hold: the length of each
	// record's Data plus [MemoryRecordOverhead], markers of deleted
	// sessions included (they hold no Data). [Options.MaxBytes] bounds
	// one session; this bounds them all, so that many sessions of the
	// largest size allowed cannot exhaust memory before MaxSessions is
	// reached. When a Commit or Add would take the total past it, expired
	// records are swept (at most once a second, as for MaxSessions) and,
	// if it still would, a new record is refused with [ErrStoreFull] (a
	// 503), and so is an update that makes a record larger: letting
	// existing sessions grow past the bound would leave it none, since
	// whoever holds sessions can keep growing them. An update that does
	// not grow its record is always taken, so the requests of a session
	// that only read it, or remove from it, keep working in a full store.
	// A Delete gives back the record's Data at once, and its marker's
	// overhead when it lapses; expiry gives back everything at the next
	// sweep. Default: [DefaultMaxStoreBytes]. Must not be negative.
	MaxBytes int64
	// SweepInterval is how often expired sessions are removed, during a
	// Commit or Add (no background goroutine is started). Default: one minute.
	// Must not be negative.
	SweepInterval time.Duration

	now func() time.Time
}

// MemoryStore is a [Store] that keeps sessions in this process's memory,
// keyed by [StorageKey], the SHA-256 of the session ID, so a heap dump
// holds no usable token. It is the default store of [New]. Sessions are
// lost on restart and not shared between processes; use
// session/redisstore for that.
//
// The zero value is not usable; create one with [NewMemoryStore]. A
// MemoryStore is safe for concurrent use.
type MemoryStore struct {
	mu         sync.RWMutex
	m          map[[sha256.Size]byte]memEntry
	max        int
	maxBytes   int64
	bytes      int64 // held: len(data) + MemoryRecordOverhead for each entry of m
	sweepEvery time.Duration
	lastSweep  time.Time
	lastFull   time.Time // last sweep forced by the bound
	now        func() time.Time
}

type memEntry struct {
	data   []byte
	expiry int64 // Unix nanoseconds
	// dead marks a deleted session kept until the Expiry given to
	// Delete (one idle timeout later), so that a request which loaded it
	// before the Delete cannot bring it back with a later Commit.
	dead bool
}

// NewMemoryStore returns an empty MemoryStore configured by opts.
func NewMemoryStore(opts MemoryOptions) (*MemoryStore, error) {
	var errs []error
	if opts.MaxSessions < 0 {
		errs = append(errs, &OptionError{Field: "MaxSessions", Reason: "must not be negative"})
	}
	if opts.MaxBytes < 0 {
		errs = append(errs, &OptionError{Field: "MaxBytes", Reason: "must not be negative"})
	}
	if opts.SweepInterval < 0 {
		errs = append(errs, &OptionError{Field: "SweepInterval", Reason: "must not be negative"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &MemoryStore{
		m:          make(map[[sha256.Size]byte]memEntry),
		max:        opts.MaxSessions,
		maxBytes:   opts.MaxBytes,
		sweepEvery: opts.SweepInterval,
		now:        opts.now,
	}
	if s.max == 0 {
		s.max = DefaultMaxSessions
	}
	if s.maxBytes == 0 {
		s.maxBytes = DefaultMaxStoreBytes
	}
	if s.sweepEvery == 0 {
		s.sweepEvery = time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.lastSweep = s.now()
	return s, nil
}

// Find implements [Store]. It does not allocate.
func (s *MemoryStore) Find(_ context.Context, token string) (Record, bool, error) {
	key, ok := StorageKey(token)
	if !ok {
		return Record{}, false, nil
	}
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	if !ok || e.dead || s.now().UnixNano() >= e.expiry {
		return Record{}, false, nil
	}
	return Record{ID: token, Data: e.data, Expiry: time.Unix(0, e.expiry)}, true, nil
}

var errBadID = errors.New("session: malformed session ID")

// Commit implements [Store]. It returns rec.ID as the token. The Commit
// of a session deleted less than its lifetime ago stores nothing and
// returns an empty token: it comes from a request that loaded the session
// before the Delete, and must not revive it. Nor does the Commit of a
// [Record] with Update set whose ID names no live record.
func (s *MemoryStore) Commit(_ context.Context, rec Record) (string, error) {
	if stored, err := s.put(rec, false); err != nil || !stored {
		return "", err
	}
	return rec.ID, nil
}

var _ Adder = (*MemoryStore)(nil)

// Add implements [Adder]: it is Commit, storing nothing and reporting
// false when a record with rec.ID is live or was deleted less than its
// lifetime ago.
func (s *MemoryStore) Add(_ context.Context, rec Record) (bool, error) {
	return s.put(rec, true)
}

// put stores rec, unless a Delete's marker holds its ID, or onlyNew is
// set and a live record does. It reports whether it stored rec.
func (s *MemoryStore) put(rec Record, onlyNew bool) (bool, error) {
	key, ok := StorageKey(rec.ID)
	if !ok {
		return false, errBadID
	}
	now := s.now()
	exp := rec.Expiry.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) >= s.sweepEvery {
		s.sweep(now)
	}
	old, exists := s.m[key]
	if exists && now.UnixNano() < old.expiry && (old.dead || onlyNew) {
		return false, nil
	}
	if rec.Update && (!exists || old.dead || now.UnixNano() >= old.expiry) {
		return false, nil // the record it updates is gone: not revived
	}
	if exp <= now.UnixNano() {
		if !onlyNew {
			s.delete(key)
		}
		return false, nil
	}
	e := memEntry{data: rec.Data, expiry: exp}
	if s.full(key, e) {
		// Sweep at most once a second under a flood, so that refusing
		// stays cheap.
		if now.Sub(s.lastFull) >= time.Second {
			s.lastFull = now
			s.sweep(now)
		}
		if s.full(key, e) {
			return false, ErrStoreFull
		}
	}
	s.set(key, e)
	return true, nil
}

// full reports whether storing e under key would take the store past
// either bound: a new record past MaxSessions, or a record new or grown
// past MaxBytes. s.mu must be held.
func (s *MemoryStore) full(key [sha256.Size]byte, e memEntry) bool {
	old, exists := s.m[key]
	if !exists && len(s.m) >= s.max {
		return true
	}
	grow := e.size()
	if exists {
		grow -= old.size()
	}
	return grow > 0 && s.bytes+grow > s.maxBytes
}

// set stores e under key, keeping the count of bytes. s.mu must be held.
func (s *MemoryStore) set(key [sha256.Size]byte, e memEntry) {
	if old, ok := s.m[key]; ok {
		s.bytes -= old.size()
	}
	s.m[key] = e
	s.bytes += e.size()
}

// delete removes the entry under key, keeping the count of bytes. s.mu
// must be held.
func (s *MemoryStore) delete(key [sha256.Size]byte) {
	if old, ok := s.m[key]; ok {
		s.bytes -= old.size()
		delete(s.m, key)
	}
}

// size is what e counts toward MaxBytes.
func (e *memEntry) size() int64 { return int64(len(e.data)) + MemoryRecordOverhead }

// Delete implements [Store]. The record's data is dropped at once; a
// marker without data stays in its place until rec.Expiry (one idle
// timeout after the deletion) or the record's own expiry, whichever is
// later, so that a Commit of the same ID by a request still in flight does
// not revive the session (see [MemoryStore.Commit]).
func (s *MemoryStore) Delete(ctx context.Context, rec Record) error {
	_, err := s.Remove(ctx, rec)
	return err
}

var _ Remover = (*MemoryStore)(nil)

// Remove implements [Remover]: it is Delete, reporting whether the record
// was live (found by Find) until then.
func (s *MemoryStore) Remove(_ context.Context, rec Record) (found bool, err error) {
	key, ok := StorageKey(rec.ID)
	if !ok {
		return false, nil
	}
	now := s.now().UnixNano()
	s.mu.Lock()
	if e, exists := s.m[key]; exists {
		found = !e.dead && now < e.expiry
		// The marker holds until rec.Expiry, when one is given: a copy
		// of the token refreshed after the one logged out lives past
		// the record's own expiry.
		until := e.expiry
		if !rec.Expiry.IsZero() {
			until = max(until, rec.Expiry.UnixNano())
		}
		switch {
		case now >= until:
			s.delete(key)
		case !e.dead || until > e.expiry:
			s.set(key, memEntry{expiry: until, dead: true})
		}
	}
	s.mu.Unlock()
	return found, nil
}

// Len returns the number of sessions held, expired ones not yet swept
// and the markers of deleted ones included.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Bytes returns the bytes held as [MemoryOptions.MaxBytes] counts them,
// expired records not yet swept and the markers of deleted ones included.
func (s *MemoryStore) Bytes() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bytes
}

func (s *MemoryStore) sweep(now time.Time) {
	s.lastSweep = now
	n := now.UnixNano()
	for k, e := range s.m {
		if n >= e.expiry {
			s.bytes -= e.size()
			delete(s.m, k)
		}
	}
}
