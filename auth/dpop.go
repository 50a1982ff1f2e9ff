package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/problem"
)

// DPoPOptions turns on DPoP, OAuth 2.0 Demonstrating Proof of Possession
// (RFC 9449), for a [JWT] (and, in [TokenEndpointOptions], for issuing
// tokens bound to the client's key): an access token bound to the
// client's key by its cnf.jkt claim is accepted in an
// "Authorization: DPoP <token>" header
// when the request carries, in its DPoP header, a fresh proof signed with
// that key, for this method and URI and this token. A stolen token is
// then useless without the key, and a stolen proof without a new one.
//
// The proof is checked as RFC 9449 §4.3 and §7.1 say: one DPoP header,
// a JWS of typ dpop+jwt signed by an asymmetric algorithm with the public
// JWK of its header (never a private or symmetric one), no crit; htm the
// request's method, htu its URI without query and fragment (compared
// after normalization: case of scheme and host, default port, percent
// encoding), iat within MaxAge in the past (and the JWT's Leeway in the
// future), ath the hash of the access token, the JWK's SHA-256 thumbprint
// (RFC 7638) the token's cnf.jkt, and a jti never seen before for that
// key while the proof could be used; with Nonces, a nonce the server
// issued (RFC 9449 §9). The identity of a request so authenticated is
// that of any access token, of [identity.MethodBearer], so that scope
// checks and rbac treat both alike.
type DPoPOptions struct {
	// Required refuses access tokens presented without proof of
	// possession: every bearer token, with [ErrTokenNotDPoP] (a bound
	// one with [ErrTokenBound], as always).
	// Default false: tokens without cnf are accepted as bearer tokens,
	// while clients move to DPoP, and bound ones only with their proof.
	// In [TokenEndpointOptions], it refuses token requests without a
	// proof, and by default bearer tokens are issued to them.
	Required bool

	// Origin is the scheme, host and port clients reach this service
	// at, such as "https://api.example.com", against which the htu of
	// every proof is compared. Set it behind a proxy or load balancer
	// that terminates TLS or rewrites the Host. Default: taken from each
	// request, https when it came over TLS and the Host header (or as
	// ClientIP resolves them).
	Origin string

	// ClientIP, when Origin is not set, resolves the scheme and host the
	// client used, against which htu is compared: behind a trusted
	// TLS-terminating proxy, the scheme of its X-Forwarded-Proto or
	// Forwarded header, and the Resolver's PublicOrigin when it has one
	// (see [clientip.Resolver.Origin]). Forwarding headers from an
	// untrusted peer change nothing. Default: nil, the connection's scheme
	// and the Host header.
	ClientIP *clientip.Resolver

	// MaxAge is how old a proof may be (its iat) when it arrives. The
	// replay cache keeps each proof's jti this long, plus the JWT's
	// Leeway. Default [DefaultDPoPMaxAge]; at most 10 minutes.
	MaxAge time.Duration

	// Algorithms lists the signature algorithms a proof may use, all
	// asymmetric. Default: ES256, ES384, EdDSA, RS256, PS256 (RFC 9449
	// names ES256 as the one to support).
	Algorithms []string

	// Replay remembers the proofs already used, so that a proof captured
	// on the way (a log, a proxy) cannot be sent again. Errors fail
	// closed (503). Default: a [MemoryReplayCache] of
	// DefaultReplayCacheSize proofs, private to this JWT or token
	// endpoint (give both one to share it); behind a load
	// balancer use one shared by every instance (auth/redisstore's
	// NewReplayCache), or a proof used on one instance can be used once
	// more on each other.
	Replay ReplayCache

	// Nonces, when set, requires in every proof a nonce the server
	// issued (RFC 9449 §9), so that proofs expire by the server's clock:
	// a proof without one, or with one the source no longer accepts, is
	// refused with 401, error="use_dpop_nonce" and a new nonce in a
	// DPoP-Nonce header, which the client puts in a new proof to retry
	// ([ErrDPoPNonce]). A successful response carries a DPoP-Nonce too
	// when the proof's nonce is about to expire. Use [HMACNonces] with
	// one key for every instance. Browser clients read the header only
	// if CORS exposes it (cors.Options.ExposedHeaders: DPoP-Nonce).
	// Default: nil, proofs need no nonce.
	Nonces NonceSource
}

// DefaultDPoPMaxAge is the default of DPoPOptions.MaxAge.
const DefaultDPoPMaxAge = time.Minute

// maxDPoPMaxAge bounds DPoPOptions.MaxAge: a proof is a one-time
// credential of the moment, and the replay cache grows with the window.
const maxDPoPMaxAge = 10 * time.Minute

// maxProofBytes bounds the DPoP header: a proof with an RSA key of 4096
// bits and generous claims is under 2 KiB.
const maxProofBytes = 4096

// maxProofHeaderBytes bounds the decoded JOSE header of a proof, which
// holds the public key.
const maxProofHeaderBytes = 2048

// maxProofJTI bounds the jti of a proof.
const maxProofJTI = 256

// defaultDPoPAlgorithms is the default of DPoPOptions.Algorithms.
var defaultDPoPAlgorithms = []string{"ES256", "ES384", "EdDSA", "RS256", "PS256"}

// Reasons a request with DPoP is rejected. Each unwraps to
// [ErrInvalidToken], so the client sees the generic 401 (with a DPoP
// challenge); OnReject and the log see the reason.
var (
	// ErrDPoPProof: the DPoP proof is missing, sent twice, malformed,
	// signed by a key or algorithm not accepted, for another method, URI
	// or token, too old or from the future, or its jti was used before.
	// The error wraps a description of which.
	ErrDPoPProof = newTokenError("auth: invalid DPoP proof", false)
	// ErrTokenNotDPoP: DPoPOptions.Required is set and the token came
	// as a bearer token, or a token without cnf.jkt came with the DPoP
	// scheme.
	ErrTokenNotDPoP = newTokenError("auth: access token not bound to a DPoP key", false)
)

// dpopError is an ErrDPoPProof with what was wrong.
type dpopError struct{ why string }

func (e *dpopError) Error() string   { return ErrDPoPProof.Error() + ": " + e.why }
func (e *dpopError) Unwrap() []error { return []error{ErrDPoPProof} }

func proofError(why string) error { return &dpopError{why} }

// ReplayCache remembers one-time values, such as the jti of DPoP proofs,
// until they expire. It must be safe for concurrent use, and Use must be
// atomic: of two concurrent calls with one key, one reports a replay.
type ReplayCache interface {
	// Use records key until the given time and reports whether key was
	// recorded already and has not expired: a replay. An error means the
	// cache could not answer; the request is refused with 503.
	Use(ctx context.Context, key string, until time.Time) (replayed bool, err error)
}

// DefaultReplayCacheSize is the capacity of the default replay cache of
// DPoPOptions: about 120 MiB when full.
const DefaultReplayCacheSize = 1 << 20

// ErrReplayCacheFull is returned by [MemoryReplayCache.Use] when every
// entry is still live: the request is refused (503) rather than the
// cache forgetting a proof that could then be replayed.
var ErrReplayCacheFull = errors.New("auth: replay cache full")

// MemoryReplayCache is a [ReplayCache] in memory, for one process, with
// a bound on its entries: once full of live entries it refuses new ones
// with [ErrReplayCacheFull] (503) rather than forget one. Keys are kept
// as a 16-byte hash, about 120 bytes an entry (measured with half a
// million), and filed by the second
// they expire in, so that dropping expired entries costs each entry once,
// never a scan of the cache. The zero value is ready to use, bounded at
// [DefaultReplayCacheSize]; [NewMemoryReplayCache] sets another bound. It
// is safe for concurrent use.
type MemoryReplayCache struct {
	mu     sync.Mutex
	max    int
	m      map[[16]byte]time.Time
	byExp  map[int64][][16]byte // keys by the Unix second by which they expire
	oldest int64                // no key of byExp expires before this second
	now    func() time.Time
}

// NewMemoryReplayCache returns a cache of at most max entries; max of 0
// or less is [DefaultReplayCacheSize].
func NewMemoryReplayCache(max int) *MemoryReplayCache {
	if max <= 0 {
		max = DefaultReplayCacheSize
	}
	return &MemoryReplayCache{max: max, now: time.Now}
}

// Use implements [ReplayCache].
func (c *MemoryReplayCache) Use(_ context.Context, key string, until time.Time) (bool, error) {
	h := sha256.Sum256([]byte(key))
	var k [16]byte
	copy(k[:], h[:])
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m, c.byExp = make(map[[16]byte]time.Time), make(map[int64][][16]byte)
	}
	if c.max <= 0 {
		c.max = DefaultReplayCacheSize
	}
	if exp, ok := c.m[k]; ok && now.Before(exp) {
		return true, nil
	}
	c.sweep(now)
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		return false, ErrReplayCacheFull
	}
	c.m[k] = until
	sec := until.Unix()
	if until.After(time.Unix(sec, 0)) {
		sec++ // the second by which it has expired
	}
	c.byExp[sec] = append(c.byExp[sec], k)
	if len(c.m) == 1 || sec < c.oldest {
		c.oldest = sec
	}
	return false, nil
}

// sweep drops the entries that expired by the last whole second before
// now, each one once: the buckets of those seconds, walked by second, or
// all of them after a long idle gap.
func (c *MemoryReplayCache) sweep(now time.Time) {
	end := now.Unix()
	if c.oldest > end {
		return
	}
	drop := func(sec int64, keys [][16]byte) {
		for _, k := range keys {
			// A key used again after it expired is in a later bucket too.
			if exp, ok := c.m[k]; ok && !now.Before(exp) {
				delete(c.m, k)
			}
		}
		delete(c.byExp, sec)
	}
	if end-c.oldest > int64(len(c.byExp)) {
		for sec, keys := range c.byExp {
			if sec <= end {
				drop(sec, keys)
			}
		}
	} else {
		for sec := c.oldest; sec <= end; sec++ {
			if keys, ok := c.byExp[sec]; ok {
				drop(sec, keys)
			}
		}
	}
	c.oldest = end + 1
}

// Len returns the number of entries, expired ones not yet dropped
// included.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// dpopConfig is the compiled DPoPOptions of a jwtConfig.
type dpopConfig struct {
	required bool
	clientIP *clientip.Resolver // for the scheme, without Origin or a PublicOrigin
	scheme   string             // of Origin, lower case; "" to take it from each request
	host     string             // of Origin, lower case, without a default port
	maxAge   time.Duration
	algs     []string
	replay   ReplayCache
	nonces   NonceSource // nil without DPoPOptions.Nonces
	// challenge is the WWW-Authenticate value of the DPoP scheme, and
	// challengeBad and challengeProof those for an invalid token and an
	// invalid proof (RFC 9449 §7.1), and challengeNonce that asking for
	// a server nonce (§9).
	challenge, challengeBad, challengeProof, challengeNonce string
}

// compileDPoP validates o. params are the challenge's parameters before
// algs: realm, and resource_metadata if any.
func compileDPoP(o *DPoPOptions, params string) (*dpopConfig, error) {
	d := &dpopConfig{required: o.Required, maxAge: o.MaxAge, replay: o.Replay, nonces: o.Nonces}
	var errs []error
	switch {
	case d.maxAge == 0:
		d.maxAge = DefaultDPoPMaxAge
	case d.maxAge < 0 || d.maxAge > maxDPoPMaxAge:
		errs = append(errs, fmt.Errorf("auth: DPoPOptions.MaxAge must be between 0 and %v", maxDPoPMaxAge))
	}
	d.algs = slices.Clone(o.Algorithms)
	if len(d.algs) == 0 {
		d.algs = slices.Clone(defaultDPoPAlgorithms)
	}
	if err := checkAlgorithms("DPoPOptions.Algorithms", d.algs); err != nil {
		errs = append(errs, err)
	}
	for _, a := range d.algs {
		if !isPublicKeyAlg(a) {
			errs = append(errs, fmt.Errorf("auth: DPoPOptions.Algorithms: %q is not an asymmetric algorithm; a proof is signed with the client's private key", a))
		}
	}
	if o.Origin != "" {
		u, err := url.Parse(o.Origin)
		if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			errs = append(errs, fmt.Errorf("auth: DPoPOptions.Origin %q must be scheme://host[:port], such as https://api.example.com", o.Origin))
		} else {
			d.scheme, d.host = u.Scheme, normHost(u.Scheme, u.Host)
		}
	}
	d.useClientIP(o.ClientIP)
	if c, ok := d.replay.(*MemoryReplayCache); ok && c == nil {
		errs = append(errs, errors.New("auth: DPoPOptions.Replay is a nil *MemoryReplayCache (leave it nil for the default)"))
	}
	if d.replay == nil {
		d.replay = NewMemoryReplayCache(0)
	}
	if h, ok := d.nonces.(*HMACNonces); ok && (h == nil || h.period == 0) {
		errs = append(errs, errors.New("auth: DPoPOptions.Nonces is an HMACNonces not made by NewHMACNonces (nil or the zero value)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d.challenge = `DPoP ` + params + `, algs="` + strings.Join(d.algs, " ") + `"`
	d.challengeBad = d.challenge + `, error="invalid_token", error_description="The access token is invalid"`
	d.challengeProof = d.challenge + `, error="invalid_dpop_proof", error_description="The DPoP proof is invalid"`
	d.challengeNonce = d.challenge + `, error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`
	return d, nil
}

// useClientIP takes htu's scheme and host from rv, unless Origin gave
// them: from its PublicOrigin, fixed, or else from each request, the
// scheme rv resolves with the Host header. Nil leaves them to the
// connection.
func (d *dpopConfig) useClientIP(rv *clientip.Resolver) {
	if d.scheme != "" || rv == nil {
		return
	}
	if o, ok := rv.PublicOrigin(); ok {
		scheme, host, _ := strings.Cut(o, "://")
		d.scheme, d.host = scheme, normHost(scheme, host)
		return
	}
	d.clientIP = rv
}

// reject answers 401 for err with the challenges of both schemes
// (RFC 9449 §7.1), the Bearer one being bearer, as the JWT chose it for
// err, or plain, its challenge without an error, for a bad proof; with
// DPoPOptions.Required only the DPoP one.
func (d *dpopConfig) reject(w http.ResponseWriter, err error, plain, bearer string) {
	dp := d.challenge
	switch {
	case errors.Is(err, ErrDPoPNonce):
		dp, bearer = d.challengeNonce, plain
	case errors.Is(err, ErrDPoPProof):
		dp, bearer = d.challengeProof, plain
	case errors.Is(err, ErrInvalidToken):
		dp = d.challengeBad
	}
	vals := headervals.Take(problem.Slots + 2)
	h := w.Header()
	if d.required {
		vals[problem.Slots] = dp
		h["Www-Authenticate"] = vals[problem.Slots : problem.Slots+1 : problem.Slots+1]
	} else {
		vals[problem.Slots], vals[problem.Slots+1] = bearer, dp
		h["Www-Authenticate"] = vals[problem.Slots:]
	}
	problem.WriteInto(w, http.StatusUnauthorized, vals[:problem.Slots:problem.Slots], false)
}

// parseDPoP parses an Authorization value of the DPoP scheme (RFC 9449
// §7.1) as parseBearer does the Bearer scheme.
func parseDPoP(v string) (tok string, isDPoP bool, err error) {
	return parseScheme(v, "dpop")
}

// proofClaims are the members of a proof's claims that are checked.
type proofClaims struct {
	jti, htm, htu, ath, nonce string
	iat                       *jwt.NumericDate // nil when absent
}

// check verifies the DPoP proof of r for the access token tok, bound to
// the key of thumbprint jkt, at now with leeway in the future. It returns
// the nonce to send the client with the response, if any.
func (d *dpopConfig) check(r *http.Request, tok, jkt string, now time.Time, leeway time.Duration) (nonce string, err error) {
	if tok == "" || jkt == "" {
		// Never the case: a token bound to no key is refused before.
		return "", proofError("no access token or key to check the proof for")
	}
	_, nonce, use, err := d.verifyProof(r, tok, jkt, now, leeway)
	if err == nil {
		// Last, so that proofs refused for another reason take no room.
		err = d.spend(r.Context(), use)
	}
	if err != nil {
		return "", err
	}
	return nonce, nil
}

// checkGrant verifies the DPoP proof of a token request r (RFC 9449 §5),
// signed by any key, at now with leeway in the future: a proof without
// ath, since no access token comes with it. It returns the thumbprint of
// the proof's key, to which the tokens issued are bound, the nonce to send
// the client with the response, if any, and the proof's jti, which the
// caller spends once the request is authenticated: a request anyone can
// send takes no room in the replay cache.
func (d *dpopConfig) checkGrant(r *http.Request, now time.Time, leeway time.Duration) (jkt, nonce string, use proofUse, err error) {
	return d.verifyProof(r, "", "", now, leeway)
}

// proofUse is the jti of a verified proof, to record in the replay cache.
type proofUse struct {
	key   string    // "dpop:", the key's thumbprint, ":" and the jti
	until time.Time // when the proof has expired
}

// spend records u in the replay cache: an error when the proof was used
// before (the jti is unique for its key, RFC 9449 §11.1), or when the
// cache cannot answer.
func (d *dpopConfig) spend(ctx context.Context, u proofUse) error {
	replayed, err := d.replay.Use(ctx, u.key, u.until)
	switch {
	case err != nil:
		return storeUnavailable(err)
	case replayed:
		return proofError("jti used before (replay)")
	}
	return nil
}

// verifyProof verifies the DPoP proof of r: for the access token tok and
// signed by the key of thumbprint jkt, or, both empty, a proof of a token
// request by any key. It returns the thumbprint of the proof's key, the
// nonce to send the client and the jti to spend, which it does not.
func (d *dpopConfig) verifyProof(r *http.Request, tok, jkt string, now time.Time, leeway time.Duration) (thumb, nonce string, use proofUse, err error) {
	vals := r.Header["Dpop"]
	switch {
	case len(vals) == 0:
		return "", "", proofUse{}, proofError("no DPoP header")
	case len(vals) > 1:
		return "", "", proofUse{}, proofError("more than one DPoP header")
	}
	proof := vals[0]
	if len(proof) > maxProofBytes {
		return "", "", proofUse{}, proofError("too large")
	}
	hseg, rest, ok1 := strings.Cut(proof, ".")
	pseg, sseg, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sseg, '.') >= 0 || !b64Valid(hseg) || !b64Valid(pseg) || sseg == "" || !b64Valid(sseg) {
		return "", "", proofUse{}, proofError("not a compact JWS")
	}
	alg, key, thumb, err := d.proofKey(hseg)
	if err != nil {
		return "", "", proofUse{}, err
	}
	// The checks that cost nothing come before the signature's, which a
	// client holding a stolen token could otherwise have computed for
	// proofs of any key, or for any request.
	if jkt != "" && thumb != jkt {
		return "", "", proofUse{}, proofError("jwk is not the key the token is bound to (cnf.jkt)")
	}
	c, err := decodeProofClaims(pseg)
	if err != nil {
		return "", "", proofUse{}, err
	}
	switch {
	case c.jti == "" || len(c.jti) > maxProofJTI:
		return "", "", proofUse{}, proofError("jti missing or too long")
	case c.htm != r.Method:
		return "", "", proofUse{}, proofError("htm is not the request's method")
	case !d.htuMatches(c.htu, r):
		return "", "", proofUse{}, proofError("htu is not the request's URI")
	case c.iat == nil:
		return "", "", proofUse{}, proofError("iat missing")
	}
	// The proof is good strictly before iat+MaxAge+Leeway, the time the
	// replay cache forgets its jti (Use treats until as expired): at that
	// very instant it would have been accepted, and not remembered.
	iat := c.iat.Time
	until := iat.Add(d.maxAge + leeway)
	switch {
	case iat.After(now.Add(leeway)):
		return "", "", proofUse{}, proofError("iat in the future")
	case !now.Before(until):
		return "", "", proofUse{}, proofError("iat older than MaxAge")
	}
	// A token request's proof comes with no access token: an ath in it
	// is ignored (RFC 9449 §5 lists no ath there).
	if tok != "" && c.ath != accessTokenHash(tok) {
		return "", "", proofUse{}, proofError("ath is not the hash of the access token")
	}
	if d.nonces != nil {
		if nonce, err = d.checkNonce(r.Context(), c.nonce); err != nil {
			return "", "", proofUse{}, err
		}
	}
	var sig [maxSignatureBytes]byte
	sn, ok := b64Decode(sig[:], sseg)
	if !ok || !verifySignature(alg, []byte(proof[:len(hseg)+1+len(pseg)]), sig[:sn], key) {
		return "", "", proofUse{}, proofError("signature does not verify with its jwk")
	}
	return thumb, nonce, proofUse{"dpop:" + thumb + ":" + c.jti, until}, nil
}

// proofKey reads the JOSE header of a proof: typ dpop+jwt, an accepted
// algorithm, no crit, and a public jwk, which it returns compiled, with
// its RFC 7638 thumbprint.
func (d *dpopConfig) proofKey(hseg string) (alg string, key *verKey, thumb string, err error) {
	var buf [maxProofHeaderBytes]byte
	if len(hseg) > base64.RawURLEncoding.EncodedLen(len(buf)) {
		return "", nil, "", proofError("header too large")
	}
	n, ok := b64Decode(buf[:], hseg)
	if !ok {
		return "", nil, "", proofError("header is not base64url")
	}
	b := buf[:n]
	var members [16]jsonMember
	mn, ok := scanObject(b, members[:])
	if !ok {
		return "", nil, "", proofError("header is not a JSON object")
	}
	var typ, jwkRaw []byte
	typOK := false
	for i := range members[:mn] {
		m := &members[i]
		switch string(m.key(b)) {
		case "typ":
			typ, typOK = m.val(b), m.str && !m.esc
		case "alg":
			if m.str && !m.esc {
				alg = algName(m.val(b), d.algs)
			}
		case "jwk":
			jwkRaw = m.val(b)
		case "crit":
			return "", nil, "", proofError("header has crit")
		}
	}
	switch {
	case !typOK || !strings.EqualFold(string(typ), "dpop+jwt"):
		return "", nil, "", proofError("typ is not dpop+jwt")
	case alg == "":
		return "", nil, "", proofError("alg missing or not accepted")
	case jwkRaw == nil:
		return "", nil, "", proofError("jwk missing")
	}
	j, err := parseProofJWK(jwkRaw)
	if err != nil {
		return "", nil, "", err
	}
	k, err := j.key()
	if err != nil {
		return "", nil, "", proofError("jwk: " + err.Error())
	}
	k.ID, k.Algorithm = "", alg
	vk, err := compileKey(0, k, []string{alg})
	if err != nil || !vk.accepts(alg) {
		return "", nil, "", proofError("jwk does not fit alg")
	}
	return alg, vk, jwkThumbprint(j), nil
}

// parseProofJWK reads the public JWK of a proof's header. Member names
// must be exact (encoding/json would take "X" for "x"), and a key with
// private members is refused.
func parseProofJWK(raw []byte) (*jwk, error) {
	var members [16]jsonMember
	n, ok := scanObject(raw, members[:])
	if !ok {
		return nil, proofError("jwk is not a JSON object of at most 16 members")
	}
	j := &jwk{}
	for i := range members[:n] {
		m := &members[i]
		var dst *string
		switch string(m.key(raw)) {
		case "kty":
			dst = &j.Kty
		case "crv":
			dst = &j.Crv
		case "x":
			dst = &j.X
		case "y":
			dst = &j.Y
		case "n":
			dst = &j.N
		case "e":
			dst = &j.E
		case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
			return nil, proofError("jwk holds private key material")
		default:
			continue
		}
		if !m.str || m.esc {
			return nil, proofError("jwk member not a plain string")
		}
		*dst = string(m.val(raw))
	}
	return j, nil
}

// jwkThumbprint returns the RFC 7638 SHA-256 thumbprint of a public key
// j.key accepted, in base64url: the hash of its required members in
// lexicographic order, without whitespace. Their values, base64url or
// fixed names, need no escaping.
func jwkThumbprint(j *jwk) string {
	var s string
	switch j.Kty {
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		s = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	}
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// accessTokenHash is the ath of a proof for tok: the base64url SHA-256 of
// its ASCII.
func accessTokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// decodeProofClaims decodes the claims of a proof, strictly: exact
// member names, strings for jti, htm, htu, ath and nonce, a number for
// iat.
func decodeProofClaims(pseg string) (proofClaims, error) {
	var buf [maxProofBytes]byte
	n, ok := b64Decode(buf[:], pseg)
	if !ok {
		return proofClaims{}, proofError("claims are not base64url")
	}
	b := buf[:n]
	var members [maxClaimMembers]jsonMember
	mn, ok := scanObject(b, members[:])
	if !ok {
		return proofClaims{}, proofError("claims are not a JSON object")
	}
	var c proofClaims
	for i := range members[:mn] {
		m := &members[i]
		v := m.val(b)
		var dst *string
		switch string(m.key(b)) {
		case "jti":
			dst = &c.jti
		case "htm":
			dst = &c.htm
		case "htu":
			dst = &c.htu
		case "ath":
			dst = &c.ath
		case "nonce":
			dst = &c.nonce
		case "iat":
			// A NumericDate, read as an access token's dates are.
			var err error
			if c.iat, err = claimDate(m, v, new(jwt.NumericDate)); err != nil {
				return proofClaims{}, proofError("iat is not a NumericDate")
			}
			continue
		default:
			continue
		}
		if !m.str {
			return proofClaims{}, proofError(string(m.key(b)) + " is not a string")
		}
		s, err := claimString(m, v)
		if err != nil {
			return proofClaims{}, proofError(string(m.key(b)) + " is not a string")
		}
		*dst = s
	}
	return c, nil
}

// htuMatches reports whether the htu of a proof is the URI of r, without
// query and fragment (RFC 9449 §4.3), after syntax-based normalization
// (RFC 3986 §6.2.2: the case of the scheme and host and of percent
// encodings, unreserved characters decoded) and scheme-based (§6.2.3:
// the default port, an empty path as "/").
func (d *dpopConfig) htuMatches(htu string, r *http.Request) bool {
	if r.URL == nil {
		return false // a request built by hand, for no URI
	}
	u, err := url.Parse(htu)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return false
	}
	scheme, host := d.scheme, d.host
	switch {
	case scheme != "":
	case d.clientIP != nil:
		scheme = d.clientIP.Scheme(r)
		host = normHost(scheme, r.Host)
	default:
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
		host = normHost(scheme, r.Host)
	}
	if !strings.EqualFold(u.Scheme, scheme) || normHost(scheme, u.Host) != host {
		return false
	}
	want := r.URL.EscapedPath()
	if r.URL.Opaque != "" {
		want = r.URL.Opaque
	}
	return normPath(u.EscapedPath()) == normPath(want)
}

// normHost lowers the case of host and drops the port that is the
// default of scheme.
func normHost(scheme, host string) string {
	host = strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil &&
		(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		if strings.IndexByte(h, ':') >= 0 {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// normPath normalizes the percent encoding of an escaped path: escapes of
// unreserved characters decoded, the others in upper case; "" is "/".
func normPath(p string) string {
	if p == "" {
		return "/"
	}
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if unreserved(c) {
				b = append(b, c)
			} else {
				b = append(b, '%', upperHex(p[i+1]), upperHex(p[i+2]))
			}
			i += 2
			continue
		}
		b = append(b, p[i])
	}
	return string(b)
}

// unreserved reports whether c is an unreserved character of RFC 3986.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
