package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Store persists sessions. Every method takes the request's context, so a
// store on the network honours the request's deadline and cancellation.
//
// A Store deals in [Record] values whose Data it treats as opaque bytes; the
// [Middleware] owns the encoding. There are two kinds of stores:
//
//   - server-side stores ([MemoryStore], session/redisstore) keep the
//     record and give the client its ID as the token. They must key
//     records by [StorageKey] (a SHA-256 of the ID), never by the ID itself,
//     so that a copy of the store holds no usable token.
//   - client-side stores ([CookieStore]) put the whole record, encrypted
//     and authenticated, in the token, and remember only revoked IDs.
//
// The contract every implementation must keep:
//
//   - Find returns found=false and err=nil for a token that is malformed,
//     unknown, expired, revoked, tampered with or authenticated by a key
//     the store no longer accepts. A store shared by several instances
//     should judge expiry by a clock they share (Redis's key expiry), not
//     by each instance's own: the Middleware checks the deadlines itself,
//     and ends a record it finds expired when asked to. err is reserved
//     for a failure of the store itself (a network error, a timeout),
//     which the Middleware answers with 503 rather than treating the
//     client as logged out.
//   - Commit stores rec until rec.Expiry, replacing any record with the
//     same ID, and returns the token to send to the client. A Commit with
//     an Expiry not after the current time behaves like Delete. The store
//     owns rec.Data after Commit returns and the caller must not modify it.
//     With rec.Update set, a server-side store should store rec only if a
//     live record with its ID is still there, and otherwise store nothing
//     and return an empty token (see [Record]).
//   - Delete forgets the record with rec.ID so that no token issued for it
//     is found again, even one copied before, and even after a later
//     Commit of the same ID: a request that loaded the session before a
//     logout may save it after, and must not revive it. A store must
//     then refuse that Commit or store nothing and return an empty token;
//     the Middleware sends the client nothing, since the request that
//     deleted the session has told the client what to hold (a token sent
//     from here could replace a fresh login's cookie). The
//     Delete's rec.Expiry is the latest any token of the session could
//     still be valid (one idle timeout after the deletion, at most the
//     absolute deadline): the deletion must hold at least until then, even
//     past the record's own expiry, since a copy of the token refreshed
//     after the one being logged out lives longer than it. Deleting an
//     unknown ID is not an error.
//   - The Data returned by Find must not be modified by the caller; a store
//     may return a slice it keeps.
//
// Implementations must be safe for concurrent use.
type Store interface {
	Find(ctx context.Context, token string) (rec Record, found bool, err error)
	Commit(ctx context.Context, rec Record) (token string, err error)
	Delete(ctx context.Context, rec Record) error
}

// Remover is implemented by a [Store] that can delete a record and tell
// whether it was still there, as one atomic step. [Session.Renew] (and
// so [Session.Login]) uses it to move a session's values to a new ID only
// if its own deletion of the old ID is the one that took the record: a
// logout, or another renewal, that lands while this request is running is
// then never undone. [MemoryStore] and session/redisstore implement it;
// so does [CookieStore], atomically only when its Revocations store is an
// [Adder].
//
// With a Store that does not, Renew checks with Find and then deletes,
// and a logout that lands between the two can be undone for the renewing
// request's client.
type Remover interface {
	// Remove deletes rec as Delete does and reports whether a live
	// record with rec.ID was there, one Find would have found, until
	// this call. Of several concurrent Removes of one record, at most one
	// reports true.
	Remove(ctx context.Context, rec Record) (found bool, err error)
}

// Adder is implemented by a [Store] that can store a record only if its ID
// is unused, as one atomic step. A [CookieStore] revokes an ID with it, so
// that of a logout and a renewal racing on one session only one takes
// it: the CookieStore's Remove is then atomic. [MemoryStore] and
// session/redisstore implement it.
type Adder interface {
	// Add stores rec as Commit does, but only if no record with rec.ID
	// is live or deleted less than its lifetime ago, and reports whether
	// it stored it. A record whose Expiry has passed is not stored. Of
	// several concurrent Adds of one ID, at most one reports true.
	Add(ctx context.Context, rec Record) (added bool, err error)
}

// Record is one session as a [Store] sees it.
type Record struct {
	// ID identifies the session: 256 bits from crypto/rand, encoded as
	// 43 characters of unpadded base64url (see [StorageKey]). It is stable
	// for the life of a session and changes on [Session.Renew].
	ID string
	// Data is the encoded session, opaque to the store.
	Data []byte
	// Expiry is when the store may forget the record: the earlier of the
	// idle and the absolute deadline. The Middleware enforces both
	// deadlines itself, so a store that keeps a record longer is not a
	// security problem, only a waste of space. In a Delete it is when
	// the deletion may be forgotten (see [Store]).
	Expiry time.Time
	// Update is set in a Commit of a session the Middleware loaded from
	// the store, as opposed to a new session or the new ID of a renewed
	// one. A server-side store that honours it stores rec only if a live
	// record with rec.ID is still there, in the same atomic step, and
	// otherwise stores nothing and returns an empty token, as after a
	// Delete: a record that went without a Delete (a Redis that
	// restarted empty, evicted the key or failed over to a replica that
	// did not have it) ended that session, and a logout made since found
	// nothing to mark as deleted, so the save of a request that loaded
	// the session before must not bring it back. [MemoryStore] and
	// session/redisstore honour it; a store that ignores it stores rec.
	Update bool
}

// IDLength is the length of a session ID: 32 random bytes in unpadded
// base64url.
const IDLength = 43

// newID returns a fresh session ID of 256 random bits.
func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether id has the shape of a session ID: exactly
// [IDLength] characters of the base64url alphabet, whose last character
// carries no stray bits. It does not allocate.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b64Value(id[i]) < 0 {
			return false
		}
	}
	// 43 characters hold 258 bits; the last character's two low bits are
	// padding and must be zero for the encoding to be canonical.
	return b64Value(id[IDLength-1])&3 == 0
}

func b64Value(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// StorageKey returns the key a server-side store files the session with
// ID id under, the SHA-256 of the ID, and whether id is well formed (see
// [ValidID]). A store that looks records up by StorageKey never holds a
// value a client could present. A malformed id yields ok=false and must be
// treated as not found. StorageKey does not allocate.
func StorageKey(id string) (key [sha256.Size]byte, ok bool) {
	if !ValidID(id) {
		return key, false
	}
	var buf [IDLength]byte
	copy(buf[:], id)
	return sha256.Sum256(buf[:]), true
}
