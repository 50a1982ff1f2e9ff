package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/internal/detach"
)

// Session is the session of one request, obtained with [FromRequest] or
// [FromContext]. Changes are saved by the middleware just before the
// response headers are written (for later ones, see After the headers in
// the package documentation). A Session is the request's: changes made
// after its handler returned, by a goroutine it started, are dropped, and
// Renew and Login return [ErrHeadersWritten]; only Destroy still works.
//
// A Session is safe for concurrent use by the goroutines of its request.
// Getters on a nil *Session report nothing found; setters on a nil *Session
// panic, since a write that silently goes nowhere (the middleware is not
// installed) is a bug to find at once; Renew, Login and Destroy on a nil
// *Session return [ErrNoSession].
//
// Values keep their type: a value set with SetInt is found only by GetInt.
// Keys are any strings.
type Session struct {
	mu  sync.Mutex
	m   *Middleware
	ctx context.Context

	token string // token presented by the client, then the one sent

	loadedAt int64 // Unix nanoseconds, read before the load's Find
	loadErr  error
	// opErr is the store failure of the last Renew or Destroy, answered
	// like a load failure even if the handler ignores it: a logout that
	// did not happen must not look like one.
	opErr error

	id     string    // session ID, "" until the session exists in the store
	expiry time.Time // store expiry of the loaded record
	data   record
	// size is the length of the encoded session in the store: of the
	// record loaded, then of the one saved; 0 for a new session. A
	// change that makes it larger must fit in Options.MaxBytes.
	size int
	// rejected is the deletion of a record the store still holds but
	// load found past a deadline by this instance's clock (see endStale).
	// Server-side stores only; a CookieStore's expired copies are handled
	// by expiredCopy.
	rejected Record
	// vctx is the context ValidateLogin is called with.
	vctx withoutSession

	// The flags are together, where they take no padding.
	// tokenEnded: this request has deleted (or revoked) the session the
	// client's token names.
	tokenEnded bool
	// storedRemember is the remember flag of the record in the store, as
	// loaded or last saved: the timeouts that record is held to, whatever
	// RememberMe changed since.
	storedRemember bool
	viaHeader      bool // the token travels in Options.TokenHeader
	loaded         bool
	rememberSet    bool // RememberMe was called: the cookie is sent again
	modified       bool // data changed since load
	touch          bool // idle deadline needs extending
	ended          bool // Destroy or Renew ended the session the client's token names
	headerOut      bool // the response headers were written
	late           bool // modified after the headers were written
}

// load fetches the session once. It must be called with s.mu held, or
// before the session is shared.
func (s *Session) load() error { return s.loadWith(s.ctx) }

// loadWith is load with the store's context ctx.
func (s *Session) loadWith(ctx context.Context) error {
	if s.loaded {
		return s.loadErr
	}
	s.loaded = true
	if s.token == "" {
		return nil
	}
	m := s.m
	s.loadedAt = m.now().UnixNano()
	rec, found, err := m.store.Find(ctx, s.token)
	if err != nil {
		s.loadErr = storeError(err)
		return s.loadErr
	}
	// A token that names no live session is ignored, and the client is
	// not told to drop it: a request sent with it may be answered after
	// the response to a login that set a fresh cookie, and a deletion
	// from here would then log the user out (found in review). The
	// response that ended the session has told the client already.
	if !found {
		return nil
	}
	data, err := decodeRecord(rec.Data)
	if err != nil {
		return nil
	}
	now := s.loadedAt // one clock read: a slow Find makes the check lenient by its duration only
	if m.expired(&data, now) || data.created > now+int64(clockSkew) {
		if m.cookies == nil {
			s.rejected = m.deletion(rec.ID, data.created, data.remember)
		}
		return nil
	}
	if m.validate != nil && data.hasIdent {
		if ok, err := s.validateLogin(ctx, rec.ID, &data); !ok {
			return err
		}
	}
	s.id = rec.ID
	s.expiry = rec.Expiry
	s.data = data
	s.size = len(rec.Data)
	s.storedRemember = data.remember
	if now-data.lastSeen >= int64(m.touchEvery) {
		s.touch = true
	}
	return nil
}

// validateLogin asks Options.ValidateLogin whether the login in data, the
// record with ID id, still stands. If it does not, the record is deleted
// at once, without the request's cancellation as in Destroy, so that it
// stays ended, and the session is left unloaded, as an expired one is.
// An error of either step is also the load's error.
func (s *Session) validateLogin(ctx context.Context, id string, data *record) (bool, error) {
	m := s.m
	// The session is being loaded, under its lock with LazyLoad: a
	// validator that reached it through ctx would find it half loaded, or
	// wait on itself forever.
	// The wrapper lives in the session, which a request allocates
	// anyway, so that it costs no allocation of its own; a session is
	// loaded once, so it is set once.
	s.vctx = withoutSession{ctx, s}
	ok, err := m.validate(&s.vctx, data.ident, time.Unix(0, data.created))
	if err != nil {
		s.loadErr = fmt.Errorf("%w: ValidateLogin: %w", ErrStore, err)
		return false, s.loadErr
	}
	if ok {
		return true, nil
	}
	dctx, cancel := detach.Context(ctx)
	defer cancel()
	if err := m.store.Delete(dctx, m.deletion(id, data.created, data.remember)); err != nil {
		s.loadErr = storeError(err)
		return false, s.loadErr
	}
	s.tokenEnded = true
	return false, nil
}

// withoutSession is a context that does not carry the session s.
type withoutSession struct {
	context.Context
	s *Session
}

func (c *withoutSession) Value(key any) any {
	v := c.Context.Value(key)
	if s, ok := v.(*Session); ok && s == c.s {
		return nil
	}
	return v
}

// hijacked marks the headers as gone with the connection before they were
// written: changes made until then are late changes (see commitLate).
func (s *Session) hijacked() {
	s.mu.Lock()
	s.headerOut = true
	s.late = s.modified
	s.mu.Unlock()
}

// empty reports whether the session holds nothing worth storing.
func (s *Session) empty() bool { return len(s.data.values) == 0 && !s.data.hasIdent }

// commit saves the session and sets the headers that deliver its token. It
// runs once, just before the response headers are written.
func (s *Session) commit(w http.ResponseWriter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headerOut = true
	if !s.loaded {
		return nil
	}
	if s.loadErr != nil {
		return s.loadErr
	}
	if s.opErr != nil {
		return s.opErr
	}
	m := s.m
	if s.modified || s.touch {
		if s.id == "" && s.empty() {
			// A new session that holds nothing is not created; a client
			// whose session this request ended is told to drop its token.
			s.modified = false
			if s.ended && s.token != "" {
				m.setToken(w, s, "", time.Time{})
			}
			return nil
		}
		token, expiry, err := s.save()
		if err == errExpiredInFlight {
			// Nothing is saved and the client keeps the token it has:
			// other requests may have kept the session alive.
			return nil
		}
		if err != nil {
			return err
		}
		if token == "" {
			// The store refused: another request deleted the session
			// while this one ran (a logout, or a Login or Renew that gave
			// it a new ID). That request's response tells the client what
			// to hold; a deletion from here could arrive after it and
			// drop a fresh login (found in review).
			return nil
		}
		if token != s.token || m.persistent || s.data.remember || s.rememberSet {
			if !s.viaHeader && len(m.cookieName)+len(token)+len(m.cookieAttrs)+len("=; Max-Age=9999999999") > maxCookieSize {
				return ErrTooLarge
			}
			m.setToken(w, s, token, expiry)
			s.token = token
		}
		return nil
	}
	if s.ended && s.token != "" {
		m.setToken(w, s, "", time.Time{})
	}
	return nil
}

// expired reports whether the idle or absolute deadline of the session
// rec has passed at now (Unix nanoseconds): the one rule load and save
// apply.
func (m *Middleware) expired(rec *record, now int64) bool {
	return now >= m.deadline(rec.created, rec.lastSeen, rec.remember)
}

// timeouts returns the idle and absolute timeouts of a session: the
// remembered ones when remember is set.
func (m *Middleware) timeouts(remember bool) (idle, absolute time.Duration) {
	if remember {
		return m.rememberIdle, m.rememberAbsolute
	}
	return m.idle, m.absolute
}

// deadline returns when a session created and last seen at the given
// times (Unix nanoseconds) ends: the earlier of its idle and absolute
// deadlines, by the timeouts its remember flag selects.
func (m *Middleware) deadline(created, lastSeen int64, remember bool) int64 {
	idle, absolute := m.timeouts(remember)
	return min(created+int64(absolute), lastSeen+int64(idle))
}

// errExpiredInFlight is save's answer for a session whose record expired
// while the request ran: nothing was saved, and the client is told
// nothing.
var errExpiredInFlight = errors.New("session: the record expired during the request")

// save writes the session to the store. s.mu must be held.
func (s *Session) save() (string, time.Time, error) {
	m := s.m
	nowT := m.now()
	now := nowT.UnixNano()
	update := s.id != "" // the session was loaded from the store
	if s.id == "" {
		s.id = newID()
		if s.data.created == 0 {
			// A new session: a Login sets the time it was made, and a
			// Renew carries its session's creation over, and with it
			// the absolute deadline.
			s.data.created = now
		}
	} else if now >= m.deadline(s.data.created, s.data.lastSeen, s.storedRemember) {
		// (By the timeouts of the record loaded: a RememberMe(true) of
		// this request does not revive a record the store may have
		// forgotten, or a logout may have stopped holding.)
		// The record this request loaded has expired while it ran. A
		// logout that happened meanwhile is held by the store at least
		// until then, and not necessarily longer, and one that came
		// after the expiry left no trace: saving now could revive a
		// logged-out session. Nothing is saved.
		s.modified, s.touch = false, false
		return "", time.Time{}, errExpiredInFlight
	}
	s.data.lastSeen = now
	idle, absolute := m.timeouts(s.data.remember)
	expiry := time.Unix(0, s.data.created).Add(absolute)
	if idle := nowT.Add(idle); idle.Before(expiry) {
		expiry = idle
	}
	data, err := s.data.encode(make([]byte, 0, s.data.encodedSize()))
	if err != nil {
		return "", time.Time{}, err
	}
	if s.modified && len(data) > m.maxBytes && len(data) > s.size {
		// Before the store is called, so the record it holds stays as
		// it was. Only a change that makes the session larger is
		// refused: one that is only read, or made smaller, stored
		// under a higher bound, keeps working.
		if !update {
			s.id = ""
		}
		return "", time.Time{}, fmt.Errorf("%w: %d bytes, limit %d", ErrMaxBytes, len(data), m.maxBytes)
	}
	token, err := m.store.Commit(s.ctx, Record{ID: s.id, Data: data, Expiry: expiry, Update: update})
	if err != nil {
		return "", time.Time{}, storeError(err)
	}
	s.expiry = expiry
	s.size = len(data)
	s.storedRemember = s.data.remember
	s.modified, s.touch, s.ended = false, false, false
	return token, expiry, nil
}

// commitLate saves changes made after the headers were written, when that
// is possible without a new token: a server-side store whose token is the
// session ID. So it does the refresh of the idle deadline that was due
// and that no save has made: the request hijacked the connection, or
// loaded its session once the response had started. It returns the
// error of a load made after the headers, for the request's rejection
// reason.
func (s *Session) commitLate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opErr != nil {
		return s.opErr
	}
	if s.loadErr != nil {
		// A lazy load that failed once the response had started: the
		// handler was served nothing found, which the log must show.
		return s.loadErr
	}
	changed := s.late && s.modified
	if !changed && !s.touch {
		return nil
	}
	if s.id == "" || s.token != s.id {
		if !changed {
			// Only a refresh was due, which a CookieStore's new token
			// cannot reach the client now: the handler changed nothing,
			// and the session keeps its deadline.
			return nil
		}
		return ErrHeadersWritten
	}
	_, _, err := s.save()
	if err == errExpiredInFlight {
		return nil
	}
	return err
}

// change runs f on the loaded session under the lock and marks it
// modified. Load errors are kept for the middleware to report.
func (s *Session) change(f func()) {
	if s == nil {
		panic("session: no session in the request context; is the session middleware installed on this route?")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return
	}
	f()
	s.changed()
}

// changed marks the loaded session modified. s.mu must be held.
func (s *Session) changed() {
	s.modified = true
	if s.headerOut {
		s.late = true
	}
}

// find returns the entry for key, loading the session first.
func (s *Session) find(key string, k kind) (entry, bool) {
	if s == nil {
		return entry{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return entry{}, false
	}
	for i := range s.data.values {
		if e := &s.data.values[i]; e.key == key {
			return *e, e.kind == k
		}
	}
	return entry{}, false
}

func (s *Session) put(e entry) {
	s.change(func() {
		for i := range s.data.values {
			if s.data.values[i].key == e.key {
				s.data.values[i] = e
				return
			}
		}
		s.data.values = append(s.data.values, e)
	})
}

// Load loads the session now if it has not been (see [Options.LazyLoad])
// and returns the store's error, if any. Handlers rarely need it: a load
// error is also answered by the middleware with [Options.OnReject].
func (s *Session) Load() error {
	if s == nil {
		return ErrNoSession
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

// GetString returns the string value of key and whether there is one.
func (s *Session) GetString(key string) (string, bool) {
	e, ok := s.find(key, kindString)
	return e.str, ok
}

// SetString sets key to the string v.
func (s *Session) SetString(key, v string) { s.put(entry{key: key, kind: kindString, str: v}) }

// PopString returns the string value of key and deletes it, for one-time
// messages. It is one step: of the goroutines of a request that pop the
// same key, one gets the value.
func (s *Session) PopString(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return "", false
	}
	i := slices.IndexFunc(s.data.values, func(e entry) bool { return e.key == key })
	if i < 0 || s.data.values[i].kind != kindString {
		return "", false
	}
	v := s.data.values[i].str
	s.data.values = slices.Delete(s.data.values, i, i+1)
	s.changed()
	return v, true
}

// GetInt returns the integer value of key and whether there is one.
func (s *Session) GetInt(key string) (int64, bool) {
	e, ok := s.find(key, kindInt)
	return int64(e.num), ok
}

// SetInt sets key to the integer v.
func (s *Session) SetInt(key string, v int64) {
	s.put(entry{key: key, kind: kindInt, num: uint64(v)})
}

// GetBool returns the boolean value of key and whether there is one.
func (s *Session) GetBool(key string) (bool, bool) {
	e, ok := s.find(key, kindBool)
	return e.num == 1, ok
}

// SetBool sets key to the boolean v.
func (s *Session) SetBool(key string, v bool) {
	var n uint64
	if v {
		n = 1
	}
	s.put(entry{key: key, kind: kindBool, num: n})
}

// GetFloat returns the float value of key and whether there is one.
func (s *Session) GetFloat(key string) (float64, bool) {
	e, ok := s.find(key, kindFloat)
	return math.Float64frombits(e.num), ok
}

// SetFloat sets key to the float v.
func (s *Session) SetFloat(key string, v float64) {
	s.put(entry{key: key, kind: kindFloat, num: floatBits(v)})
}

// GetBytes returns a copy of the byte-slice value of key and whether there
// is one.
func (s *Session) GetBytes(key string) ([]byte, bool) {
	e, ok := s.find(key, kindBytes)
	if !ok {
		return nil, false
	}
	return []byte(e.str), true
}

// SetBytes sets key to a copy of v.
func (s *Session) SetBytes(key string, v []byte) {
	s.put(entry{key: key, kind: kindBytes, str: string(v)})
}

// GetTime returns the time value of key and whether there is one. The
// time is in UTC, with nanosecond precision and no monotonic reading.
func (s *Session) GetTime(key string) (time.Time, bool) {
	e, ok := s.find(key, kindTime)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(e.num), int64(e.nsec)).UTC(), true
}

// SetTime sets key to the time v.
func (s *Session) SetTime(key string, v time.Time) {
	s.put(entry{key: key, kind: kindTime, num: uint64(v.Unix()), nsec: uint32(v.Nanosecond())})
}

// GetJSON decodes the JSON value of key into dst with encoding/json and
// reports whether there was one.
func (s *Session) GetJSON(key string, dst any) (bool, error) {
	e, ok := s.find(key, kindJSON)
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal([]byte(e.str), dst)
}

// SetJSON sets key to the JSON encoding of v. The error is encoding/json's,
// wrapping [ErrEncode]; on error the session is unchanged.
func (s *Session) SetJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errors.Join(ErrEncode, err)
	}
	s.put(entry{key: key, kind: kindJSON, str: string(bytes.TrimSpace(b))})
	return nil
}

// Has reports whether key has a value of any type.
func (s *Session) Has(key string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return false
	}
	for i := range s.data.values {
		if s.data.values[i].key == key {
			return true
		}
	}
	return false
}

// Keys returns the keys of the session's values, sorted.
func (s *Session) Keys() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return nil
	}
	keys := make([]string, len(s.data.values))
	for i := range s.data.values {
		keys[i] = s.data.values[i].key
	}
	slices.Sort(keys)
	return keys
}

// Delete removes key. Deleting a missing key changes nothing.
func (s *Session) Delete(key string) {
	if !s.Has(key) {
		return
	}
	s.change(func() {
		s.data.values = slices.DeleteFunc(s.data.values, func(e entry) bool { return e.key == key })
	})
}

// Clear removes every value but keeps the session and its identity.
func (s *Session) Clear() {
	s.change(func() { s.data.values = nil })
}

// RememberMe records the user's "remember me" choice for this session (v
// true), or withdraws it (v false): for a "remember me" box on a login
// form, the RememberMe of alexedwards/scs. A remembered session is held by
// the server to [Options.RememberMeIdleTimeout] and
// [Options.RememberMeAbsoluteTimeout] instead of IdleTimeout and
// AbsoluteTimeout (by default they are the same: set them for a session
// that lasts, say, 30 days), and its cookie is persistent, as
// [Options.PersistentCookie] makes every cookie: a Max-Age equal to the
// time left until the session expires, renewed with the session, so it
// survives a browser restart. The absolute timeout still counts from
// login: activity and [Session.Renew] never extend it.
//
// The choice is stored in the session record (authenticated by a
// [CookieStore], kept by a server-side store), so only the server sets
// it: it holds on later requests and across [Session.Renew] and
// [Session.Login] (call it before or after Login, in the same request),
// except a Login of another subject, which drops a choice made in an
// earlier request, and ends with [Session.Destroy]. RememberMe(false)
// brings the normal timeouts back at once: a stored session that has
// already lived longer than AbsoluteTimeout since login ends then, as
// Destroy ends it (its store error, if any, answered as Destroy's is);
// otherwise the session gets a new ID, as with Renew, so that neither an
// earlier cookie of a CookieStore nor the save of a request in flight
// that loaded the remembered session keeps the remembered timeouts
// (after the response headers, a CookieStore's change is dropped, as
// other changes needing a new cookie are, and a server-side store's
// record keeps its ID). RememberMe(true) gives a stored CookieStore
// session a new ID likewise, so that the copies of one ID carry one
// choice and its logout is held only as long as they can live. With
// PersistentCookie set only the timeouts change; a
// session carried in [Options.TokenHeader] gets them too, and no cookie.
// Like the setters, it panics on a nil *Session.
func (s *Session) RememberMe(v bool) {
	if s == nil {
		s.change(nil) // panics
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil {
		return
	}
	m := s.m
	longer := m.rememberIdle != m.idle || m.rememberAbsolute != m.absolute
	if v {
		// A CookieStore session that was not remembered gets a new ID, so
		// that the copies of one ID all carry one choice, and a logout
		// revokes an ID never remembered only as long as the normal
		// timeouts let its copies live (see deletion). After the response
		// headers the change is dropped, as other changes needing a new
		// cookie are.
		if s.id != "" && !s.storedRemember && longer && m.cookies != nil && !s.headerOut {
			if s.renew() != nil {
				return
			}
		}
		s.data.remember = true
		s.rememberSet = true
		s.changed()
		return
	}
	if s.id != "" && s.storedRemember && longer {
		// A stored session loses its remembered timeouts. Past the normal
		// absolute deadline it has lived too long already: it ends now,
		// as Destroy ends it. Otherwise it gets a new ID: a CookieStore's
		// earlier cookies keep the remembered timeouts in them, and a
		// request of the session in flight, which loaded the remembered
		// record, would save it back with them (found in review: a
		// server-side store's one record, saved below without a new ID,
		// was remembered again by such a request's save).
		if m.now().UnixNano() >= s.data.created+int64(m.absolute) {
			_ = s.destroy()
			return
		}
		if !s.headerOut {
			if s.renew() != nil {
				return
			}
		}
	}
	s.data.remember = false
	s.rememberSet = true
	s.changed()
}

// IsNew reports whether the session did not exist before this request (or
// was renewed or destroyed during it).
func (s *Session) IsNew() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.load()
	return s.id == ""
}

// Expiry returns when the session ends if no further request comes, as
// the server enforces it: the earlier of its idle deadline (IdleTimeout
// after the last request that refreshed the record, this one when it
// saves the session) and its absolute deadline (AbsoluteTimeout after
// login), by the remembered timeouts for a session whose user chose
// [Session.RememberMe]. It accounts for the changes this request has made
// so far: after Login, the deadlines of the new login; after
// RememberMe, those of the choice. For a "your session expires soon"
// warning, or an API client that renews before the deadline.
//
// To save store writes, the record is refreshed only once it is older
// than IdleTimeout/8 or one minute (see [Options.IdleTimeout]): on a
// request that does not refresh it, Expiry is up to that much earlier
// than IdleTimeout from now, as is the deadline the server holds. A
// request that calls Expiry loads the session, and so counts as activity
// like any other: a script that polls an endpoint for it keeps the
// session alive; send the time with the page instead.
//
// The time is in UTC, with no monotonic reading. It is the zero time when
// there is no session: on a nil *Session, when the store failed, for a
// session that was never stored and holds nothing (a token that named no
// live session included), and after [Session.Destroy].
func (s *Session) Expiry() time.Time {
	if s == nil {
		return time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil || s.id == "" && s.empty() {
		return time.Time{}
	}
	m := s.m
	created, last := s.data.created, s.data.lastSeen
	if s.id == "" || s.modified || s.touch {
		// The save of this request starts or refreshes the record.
		now := m.now().UnixNano()
		last = now
		if created == 0 {
			created = now
		}
	}
	return time.Unix(0, m.deadline(created, last, s.data.remember)).UTC()
}

// Identity returns the identity stored by [Session.Login] and whether
// there is one.
func (s *Session) Identity() (identity.Identity, bool) {
	if s == nil {
		return identity.Identity{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load() != nil || !s.data.hasIdent {
		return identity.Identity{}, false
	}
	return s.data.ident, true
}

// Renew gives the session a new ID, keeping its data, and deletes the old
// record from the store at once, so the old token is dead even if this
// response never arrives; as [Session.Destroy] does, it ends the session
// of a token that has expired by this instance's clock too, and, as there,
// that ending is made without the request context's cancellation, within
// ten seconds with a store that has no bound of its own. The absolute
// timeout does not restart: the renewed session ends when the old one
// would have (a Renew is no new authentication; [Session.Login] restarts
// it). Call it whenever privileges change (login, logout of
// an elevated mode, role change), to defeat session fixation. It returns
// the store's error (wrapping [ErrStore]), or [ErrHeadersWritten] once the
// response headers are out, when the new token could no longer reach the
// client; in both cases nothing changed. After a store error the
// middleware answers the request with [Options.OnReject] (503) even if the
// handler ignores the error.
//
// If the session was deleted since this request loaded it (a logout in
// another request, or another Renew of the same session), the renewed
// session starts empty: its values and identity are not carried over, and
// the client is not told to drop its token (the logout's response did).
// The same holds for a session that expired meanwhile: its absolute
// deadline passed, or, with a server-side store, its record idled out.
// With a [CookieStore], whose copies of a token expire apart, a Renew in
// a request that outlived its own copy's idle deadline still carries the
// session over, since the browser may have kept it alive with fresher
// copies, unless it comes more than one idle timeout after this request
// loaded the session: a logout is remembered only that long, so the old ID
// is then revoked and nothing carried over (a store that wraps a
// CookieStore must embed it for this). With a [Remover] store
// ([MemoryStore], session/redisstore, a [CookieStore] whose Revocations
// store is an [Adder]) the check and the deletion are one atomic step;
// with another store a logout that lands between them can be undone for
// this request's client.
func (s *Session) Renew() error {
	if s == nil {
		return ErrNoSession
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renew()
}

func (s *Session) renew() error {
	if err := s.load(); err != nil {
		return err
	}
	if s.headerOut {
		return ErrHeadersWritten
	}
	if s.id != "" {
		del := s.deletion() // from the loaded data, before it may be cleared
		// A logout may have deleted the session since this request
		// loaded it: its values and identity must not move to the new
		// ID (found in review: a Renew after a logout revived the
		// identity under a fresh ID).
		found, err := s.m.removeForRenew(s.ctx, s.token, del)
		if err != nil {
			s.opErr = storeError(err)
			return s.opErr
		}
		s.tokenEnded = true
		now := s.m.now().UnixNano() // after Remove: it may have taken a while
		idle, absolute := s.m.timeouts(s.storedRemember)
		if now >= s.data.created+int64(absolute) {
			found = false // every copy and record is past its absolute deadline
		} else if s.m.cookies != nil && now >= s.loadedAt+int64(idle) {
			// A CookieStore revokes an ID only while a copy of its cookie
			// can live: one idle timeout after a logout, at most until the
			// absolute deadline. Past that from the load, a logout since
			// may have lapsed, and Remove's found says nothing (found in
			// review).
			found = false
		}
		if !found {
			// A RememberMe of this request is this request's choice, not
			// the old session's data (found in review: one made before
			// Login was lost when a logout came first).
			s.data = record{remember: s.rememberSet && s.data.remember}
			s.size = 0
		}
		s.id = ""
		// Only the request that ended the session tells the client to
		// drop its token: when a logout came first, its response did,
		// and a deletion from here could arrive after a fresh login's
		// cookie (found in review).
		s.ended = found
	} else {
		ctx, cancel := s.endContext()
		err := s.endStale(ctx)
		cancel()
		if err != nil {
			s.opErr = storeError(err)
			return s.opErr
		}
	}
	s.opErr = nil
	s.modified = true
	return nil
}

// removeForRenew deletes the record del of the session presented as token
// and reports whether it was still live: in one step with a [Remover],
// otherwise by Find and then Delete (see [Remover]).
func (m *Middleware) removeForRenew(ctx context.Context, token string, del Record) (bool, error) {
	if m.remover != nil {
		return m.remover.Remove(ctx, del)
	}
	_, found, err := m.store.Find(ctx, token)
	if err != nil {
		return false, err
	}
	return found, m.store.Delete(ctx, del)
}

// Login renews the session (see [Session.Renew]) and stores id in it, in
// one step. Unlike Renew, it restarts the absolute timeout: the user has
// just authenticated. From the next request on, the middleware puts id in the
// request context ([identity.FromRequest]); in this request's it is
// only recorded, in the [identity.Recorder] values of middlewares further
// out, so that errorsafe's access record of the login names the user. An
// identity without a [identity.Identity.Method] gets
// [identity.MethodSession]. Identity claims
// are stored as JSON and read back as JSON values (numbers as float64).
// It returns [ErrNoSubject] for an identity without a subject.
//
// Like Renew, Login keeps the session's values (an anonymous visitor's
// cart survives signing in), unless the session holds another subject's
// identity: a previous login on the same browser left them, and they are
// cleared first, with its [Session.RememberMe] choice unless this request
// made it, so that per-login values, such as a mark that a second factor
// was passed, or a cookie that outlives the browser, never carry over to
// another user. (Found in review:
// someone who passed their own second factor, then signed in with a
// stolen password in the same session, kept the mark.)
func (s *Session) Login(id identity.Identity) error {
	if s == nil {
		return ErrNoSession
	}
	if id.Subject() == "" {
		return ErrNoSubject
	}
	if id.Method() == "" {
		id = identity.New(identity.Options{
			Subject: id.Subject(),
			Method:  identity.MethodSession,
			Roles:   id.Roles(),
			Scopes:  id.Scopes(),
			Claims:  id.Claims(),
		})
	}
	if c := id.Claims(); c != nil {
		if _, err := json.Marshal(c); err != nil {
			return errors.Join(ErrEncode, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.renew(); err != nil {
		return err
	}
	if s.data.hasIdent && s.data.ident.Subject() != id.Subject() {
		s.data.values = nil
		// The previous user's RememberMe is theirs too (found in review:
		// the next user of a shared browser got a cookie that outlives
		// it); one made in this request is the new user's.
		s.data.remember = s.rememberSet && s.data.remember
	}
	s.data.ident = id
	s.data.hasIdent = true
	// A new authentication: the absolute timeout restarts, and
	// ValidateLogin's loggedIn is now, not when the response starts.
	s.data.created = s.m.now().UnixNano()
	// The request's context keeps the identity it had, but the
	// identity.Recorder of an access log further out (errorsafe's) gets
	// the one signed in, so that the record of the login names its user.
	identity.NewContext(s.ctx, id)
	return nil
}

// Destroy ends the session: its record is deleted from the store at once
// (for a [CookieStore], its ID is revoked), so a copy of the token is
// dead, and the client is told to drop the cookie. It does so even when
// the session has expired by this instance's clock: a fresher copy of a
// CookieStore cookie, or another instance whose clock runs behind, may
// still accept it (a store that wraps a CookieStore must embed it for
// this). Values set afterwards in the same request start a new session.
// Destroy works even after the response headers are out (only the cookie
// can then no longer be expired). It returns the store's error, wrapping
// [ErrStore]; the session is then unchanged, and the middleware answers
// the request with [Options.OnReject] (503) even if the handler ignores
// the error, so a logout that failed never looks like one that succeeded.
//
// The deletion is made even when the request's context has been cancelled
// (the client sent the logout and closed the connection), with the
// context's values and without its cancellation: a store that gave up with
// the client would leave the session valid, and the cookie in the
// browser with it. The store's own bound on a call (the Timeout of
// session/redisstore) still applies, and Destroy gives up after ten
// seconds with a store that has none.
func (s *Session) Destroy() error {
	if s == nil {
		return ErrNoSession
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.destroy()
}

// destroy is Destroy with s.mu held.
func (s *Session) destroy() error {
	// A logout is not lost with the client (see above): the load and
	// the deletion run without the request's cancellation, within
	// detach.Timeout.
	ctx, cancel := s.endContext()
	defer cancel()
	if err := s.loadWith(ctx); err != nil {
		return err
	}
	var err error
	if s.id != "" {
		err = s.m.store.Delete(ctx, s.deletion())
		s.tokenEnded = err == nil
	} else {
		err = s.endStale(ctx)
	}
	if err != nil {
		s.opErr = storeError(err)
		return s.opErr
	}
	s.opErr = nil
	s.id = ""
	s.data = record{}
	s.size = 0
	s.modified, s.touch, s.late, s.rememberSet = false, false, false, false
	s.ended = true
	return nil
}

// endContext returns the context of the store's calls that end a session
// in Destroy, and in Renew for a stale token: the request's values without
// its cancellation, within detach.Timeout.
func (s *Session) endContext() (context.Context, context.CancelFunc) {
	return detach.Context(s.ctx)
}

// clockSkew is how far apart the clocks of instances sharing a store may
// be: load accepts a record created that far in the future, and a deletion
// is held that much longer.
const clockSkew = time.Minute

// deletion is the Record a Delete of the loaded session passes to the
// store: its ID, and as the Expiry the latest any copy of its token can
// still be valid, one idle timeout from now (at most the absolute
// deadline), plus clockSkew for a copy last saved by an instance whose
// clock runs ahead. Every copy was last saved before now, so it idles out
// by then; it cannot be refreshed after the deletion, which the store
// holds until then, and a request in flight that saves later is refused
// by save. (Found in review: the CookieStore revoked the ID only until
// this request's token would idle out, and a copy refreshed later lived
// on.)
//
// A remembered session's copies live by the remembered timeouts. The
// copies of one CookieStore session ID all carry one choice, since
// RememberMe changes the ID with it: one never remembered is revoked
// only as long as the normal timeouts let its copies live (found in
// review: every CookieStore logout and Renew was held by the remembered
// timeouts, days in the Revocations store, which a flood of logins could
// fill).
func (s *Session) deletion() Record {
	return s.m.deletion(s.id, s.data.created, s.data.remember || s.storedRemember)
}

func (m *Middleware) deletion(id string, created int64, remember bool) Record {
	idle, absolute := m.timeouts(remember)
	until := m.now().Add(idle)
	if abs := time.Unix(0, created).Add(absolute); abs.Before(until) {
		until = abs
	}
	return Record{ID: id, Expiry: until.Add(clockSkew)}
}

// endStale ends, for Destroy and Renew, the session the client's token
// names when load did not take it as live: another instance, whose clock
// runs behind, or a fresher copy of a CookieStore cookie, may still
// accept it (found in review). It does so once per request, even when the
// client has gone away, as Destroy does: ctx is from endContext.
func (s *Session) endStale(ctx context.Context) error {
	if s.tokenEnded || s.token == "" {
		return nil
	}
	var err error
	switch {
	case s.m.cookies != nil:
		if del, ok := s.expiredCopy(); ok {
			// Revoked only if it is not yet, so that replaying a
			// logged-out cookie writes nothing (found in review).
			_, err = s.m.cookies.Remove(ctx, del)
		}
	case s.rejected.ID != "":
		err = s.m.store.Delete(ctx, s.rejected)
	}
	s.tokenEnded = err == nil
	return err
}

// expiredCopy returns the deletion of the session whose expired cookie
// the client presented, when the store is a [CookieStore] that
// authenticates it: each copy of a cookie carries its own deadline, and
// one refreshed later by whoever else holds it may still be valid, so a
// logout with an expired copy must revoke the ID too (found in review).
// With a server-side store the copies share one record, which has
// expired for all of them.
func (s *Session) expiredCopy() (Record, bool) {
	if s.m.cookies == nil || s.token == "" {
		return Record{}, false
	}
	rec, ok := s.m.cookies.findExpired(s.token)
	if !ok {
		return Record{}, false
	}
	data, err := decodeRecord(rec.Data)
	if err != nil {
		return Record{}, false
	}
	del := s.m.deletion(rec.ID, data.created, data.remember)
	return del, del.Expiry.After(s.m.now())
}
