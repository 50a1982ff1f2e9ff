package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// NonceSource issues the nonces a resource server asks DPoP clients to
// put in their proofs (RFC 9449 §9), and checks the nonce of each proof.
// A nonce bounds how long a proof is good for by the server's clock
// rather than the client's: proofs signed ahead of time, for later use
// (by script that ran for a moment with the client's key, say), carry a
// nonce that has expired by then. [HMACNonces] is the one to use; an
// implementation must be safe for concurrent use.
type NonceSource interface {
	// Nonce returns the nonce clients should put in their next
	// proofs: one or more of the characters %x21, %x23-5B and %x5D-7E
	// (RFC 9449 §8.1), at most 256. An error means the source could not
	// answer; the request is refused with 503.
	Nonce(ctx context.Context) (string, error)
	// Check reports whether nonce, the nonce claim of a proof, is
	// accepted now. When it is, next is "" or, for a nonce that is still
	// accepted but about to expire, the one clients should move to,
	// which the middleware sends in a DPoP-Nonce header (a next that is
	// not a valid nonce, as for Nonce, is refused with 503). An error
	// means the source could not answer; the request is refused with 503.
	Check(ctx context.Context, nonce string) (ok bool, next string, err error)
}

// DefaultNonceLifetime is the lifetime [NewHMACNonces] uses for 0.
const DefaultNonceLifetime = 5 * time.Minute

// MinNonceKeyBytes is the shortest key [NewHMACNonces] accepts.
const MinNonceKeyBytes = 32

// maxNonceLifetime bounds the lifetime of HMACNonces: a nonce is there
// to make proofs expire by the server's clock.
const maxNonceLifetime = time.Hour

// maxProofNonce bounds the nonce of a proof and one a NonceSource
// issues.
const maxProofNonce = 256

// hmacNonceLen is the length of an HMACNonces nonce: the base64url of an
// 8-byte expiry and a 16-byte tag.
const hmacNonceLen = 32

// HMACNonces is a [NonceSource] that keeps no state: a nonce is the time
// it expires and an HMAC-SHA256 of that time under a key, so that every
// instance holding the key accepts the nonces any of them issued, with
// nothing else shared. Time is cut into periods of the lifetime; the
// nonce issued during one period (the same for every client) is accepted
// until the end of the next, so for between one and two lifetimes, and
// during that next period Check hands the client the new one. Instances
// whose clocks differ by less than a lifetime accept each other's
// nonces. Changing the key invalidates every nonce issued: each client
// then gets one use_dpop_nonce answer with a new nonce, and retries.
//
// Make one with [NewHMACNonces]. The zero value (or a nil pointer)
// issues no nonce and accepts none: its methods return an error, and
// [NewJWT] refuses it in DPoPOptions.Nonces.
type HMACNonces struct {
	key    []byte
	period int64 // seconds
	now    func() time.Time
	cur    atomic.Pointer[noncePeriod]
	macs   jwtMACPool // HMAC-SHA256 states under key
}

// noncePeriod holds the nonces of one period, computed once.
type noncePeriod struct {
	exp   int64  // Unix second at which nonce expires
	nonce string // issued during the period ending at exp - period
	prev  string // issued during the period before, expiring at exp - period
}

// NewHMACNonces returns an [HMACNonces] under key, at least
// [MinNonceKeyBytes] random bytes shared by every instance that checks
// the proofs of one client (a key of its own generated at start serves
// one instance). lifetime, counted in whole seconds, is from 1 second to
// an hour; 0 is [DefaultNonceLifetime].
func NewHMACNonces(key []byte, lifetime time.Duration) (*HMACNonces, error) {
	var errs []error
	if len(key) < MinNonceKeyBytes {
		errs = append(errs, fmt.Errorf("auth: an HMACNonces key must be at least %d random bytes, got %d", MinNonceKeyBytes, len(key)))
	}
	if lifetime == 0 {
		lifetime = DefaultNonceLifetime
	}
	if lifetime < time.Second || lifetime > maxNonceLifetime {
		errs = append(errs, fmt.Errorf("auth: an HMACNonces lifetime must be between 1s and %v, got %v", maxNonceLifetime, lifetime))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	n := &HMACNonces{key: append([]byte(nil), key...), period: int64(lifetime / time.Second), now: time.Now}
	n.macs.pool.New = func() any { return &jwtMACState{h: hmac.New(sha256.New, n.key)} }
	return n, nil
}

// errNoncesNotConfigured is the error of a zero HMACNonces.
var errNoncesNotConfigured = errors.New("auth: HMACNonces not configured (use NewHMACNonces)")

// Nonce implements [NonceSource]. It never fails once configured.
func (n *HMACNonces) Nonce(context.Context) (string, error) {
	if n == nil || n.period == 0 {
		return "", errNoncesNotConfigured
	}
	return n.current(n.now().Unix()).nonce, nil
}

// Check implements [NonceSource]. The nonces of the current and the
// previous period are recognized without computing an HMAC, and no
// nonce costs an allocation.
func (n *HMACNonces) Check(_ context.Context, nonce string) (bool, string, error) {
	if n == nil || n.period == 0 {
		return false, "", errNoncesNotConfigured
	}
	now := n.now().Unix()
	p := n.current(now)
	switch {
	case nonce == p.nonce:
		return true, "", nil
	case nonce == p.prev:
		return true, p.nonce, nil // it expires at the end of this period
	case len(nonce) != hmacNonceLen:
		return false, "", nil
	}
	var b [24]byte
	if k, ok := b64Decode(b[:], nonce); !ok || k != len(b) {
		return false, "", nil
	}
	exp := int64(binary.BigEndian.Uint64(b[:8]))
	// A nonce of a later period than this instance's comes from one
	// whose clock runs ahead: accepted by up to a period.
	if exp <= now || exp > p.exp+n.period {
		return false, "", nil
	}
	tag := n.tag(exp)
	if !hmac.Equal(tag[:], b[8:]) {
		return false, "", nil
	}
	if exp < p.exp {
		return true, p.nonce, nil
	}
	return true, "", nil
}

// current returns the nonces of the period of the Unix second now.
func (n *HMACNonces) current(now int64) *noncePeriod {
	start := now - now%n.period
	if now%n.period < 0 {
		start -= n.period // a period starts at or before now, also before 1970
	}
	exp := start + 2*n.period
	if p := n.cur.Load(); p != nil && p.exp == exp {
		return p
	}
	p := &noncePeriod{exp: exp, nonce: n.make(exp), prev: n.make(exp - n.period)}
	n.cur.Store(p)
	return p
}

// make returns the nonce that expires at the Unix second exp.
func (n *HMACNonces) make(exp int64) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(exp))
	tag := n.tag(exp)
	copy(b[8:], tag[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// nonceLabel begins the input of every HMACNonces tag.
var nonceLabel = []byte("httpguard DPoP nonce\x00")

// tag is the HMAC of the nonce that expires at exp, cut to 16 bytes.
func (n *HMACNonces) tag(exp int64) [16]byte {
	st := n.macs.pool.Get().(*jwtMACState)
	st.h.Reset()
	st.h.Write(nonceLabel)
	// exp in the state's buffer: a local array would escape through
	// Write and be allocated.
	binary.BigEndian.PutUint64(st.sum[:8], uint64(exp))
	st.h.Write(st.sum[:8])
	var t [16]byte
	copy(t[:], st.h.Sum(st.sum[:0]))
	n.macs.pool.Put(st)
	return t
}

// ErrDPoPNonce: DPoPOptions.Nonces is set and the proof carried no nonce
// or one the source no longer accepts. The response is 401 with
// error="use_dpop_nonce" and a new nonce in DPoP-Nonce, which the client
// puts in a new proof to retry. The error is also an [ErrDPoPProof].
var ErrDPoPNonce = newTokenError("auth: DPoP proof without a current server nonce", false)

// nonceError is an ErrDPoPNonce with the nonce to send the client.
type nonceError struct {
	why   string
	nonce string
}

func (e *nonceError) Error() string   { return ErrDPoPNonce.Error() + ": " + e.why }
func (e *nonceError) Unwrap() []error { return []error{ErrDPoPNonce, ErrDPoPProof} }

// DPoPNonce returns the nonce that an [ErrDPoPNonce] refusal carries for
// the client, or "" for any other error. The middleware sends it itself;
// a caller of [JWT.Authenticate] or [JWT.Check] that writes its own 401
// sends it in a DPoP-Nonce header, with error="use_dpop_nonce" in the
// DPoP challenge, so that the client can retry.
func DPoPNonce(err error) string {
	var ne *nonceError
	if errors.As(err, &ne) {
		return ne.nonce
	}
	return ""
}

// checkNonce checks nonce, a proof's, against the NonceSource and
// returns the nonce to send the client with a successful response (""
// for none), or a *nonceError holding a new one.
func (d *dpopConfig) checkNonce(ctx context.Context, nonce string) (string, error) {
	why := "no nonce"
	if nonce != "" {
		why = "nonce not accepted"
		if len(nonce) <= maxProofNonce {
			ok, next, err := d.nonces.Check(ctx, nonce)
			switch {
			case err != nil:
				return "", storeUnavailable(err)
			case ok && next != "" && !nqchars(next, maxProofNonce):
				return "", storeUnavailable(errBadNonce)
			case ok:
				return next, nil
			}
		}
	}
	fresh, err := d.nonces.Nonce(ctx)
	switch {
	case err != nil:
		return "", storeUnavailable(err)
	case !nqchars(fresh, maxProofNonce):
		return "", storeUnavailable(errBadNonce)
	}
	return "", &nonceError{why, fresh}
}

// errBadNonce is the reason a nonce a NonceSource issued is not sent.
var errBadNonce = errors.New("auth: the NonceSource issued a nonce outside RFC 9449's syntax")
