package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [JWKSOptions].
const (
	DefaultJWKSRefreshInterval    = time.Hour
	DefaultJWKSMinRefreshInterval = time.Minute
	DefaultJWKSTimeout            = 5 * time.Second
	DefaultJWKSMaxBytes           = 256 << 10
	DefaultJWKSMaxStale           = 24 * time.Hour
	maxJWKSKeys                   = 100
)

// JWKSOptions tunes how [NewJWT] fetches JWTOptions.JWKSURL. The zero
// value uses the defaults.
type JWKSOptions struct {
	// HTTPClient fetches the set. Default: a client with Timeout that
	// follows at most three redirects, to https URLs only. A client of
	// the caller's (for a private CA, a proxy, mutual TLS) is used
	// through a copy that refuses a redirect to a URL that is not https
	// (unless DangerouslyAllowHTTP), then applies its own CheckRedirect.
	HTTPClient *http.Client
	// Timeout bounds one fetch. Default [DefaultJWKSTimeout]; at most a
	// minute.
	Timeout time.Duration
	// RefreshInterval is how old the set may get before it is refetched
	// in the background (requests keep using the old set meanwhile).
	// Default [DefaultJWKSRefreshInterval]; at least MinRefreshInterval.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches: a token
	// with an unknown kid triggers a fetch only if the last one is at
	// least this old, so unknown kids cannot make the service hammer
	// the identity provider. Default [DefaultJWKSMinRefreshInterval]; at
	// least a second.
	MinRefreshInterval time.Duration
	// MaxBytes bounds the size of the document. Default
	// [DefaultJWKSMaxBytes]; from 1 KiB to 16 MiB.
	MaxBytes int64
	// MaxStale is how long after the last successful fetch the set stays
	// in use while every fetch fails (the provider is down, or cannot be
	// reached from here). Past it, tokens are refused with 503
	// ([ErrKeySetUnavailable]) until a fetch succeeds: a key the provider
	// has withdrawn, because it leaked perhaps, must not keep verifying
	// for as long as someone can keep this service from reaching the
	// provider. Default [DefaultJWKSMaxStale], or twice RefreshInterval
	// if that is longer; at least RefreshInterval. Negative: no limit,
	// the last good set is kept however long fetches fail.
	MaxStale time.Duration
	// DangerouslyAllowHTTP accepts an http JWKSURL, for tests against a
	// local server only: a key set fetched in clear text can be
	// replaced on the way. Default: false, an http JWKSURL (or a
	// redirect to one) is refused.
	DangerouslyAllowHTTP bool
}

// jwk is the JSON form of one JSON Web Key (RFC 7517, RFC 7518 §6,
// RFC 8037).
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid,omitempty"`
	Use    string   `json:"use,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	Alg    string   `json:"alg,omitempty"`
	Crv    string   `json:"crv,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	D      string   `json:"d,omitempty"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// ParseJWKS parses a JSON Web Key Set and returns its public signature
// keys, ready for JWTOptions.Keys. A key's alg member becomes
// Key.Algorithm; without one, the key serves the allowed algorithms of its
// type. An identity provider signs every application's tokens with these
// keys: set JWTOptions.Audience (or Audiences), as NewJWT requires with a
// JWKSURL. Members that are not JSON Web Key objects, and keys that are
// symmetric ("oct"), meant for encryption (use "enc", key_ops without
// "verify"), carry private material, use an unsupported type or curve,
// or are RSA keys under 2048 or over 4096 bits, are skipped; the
// returned error lists them (joined), next to the usable keys. A set of
// more than 100 keys is refused whole: no keys and an error, and a
// fetched one fails the fetch.
func ParseJWKS(data []byte) ([]Key, error) {
	keys, _, err := parseJWKS(data)
	return keys, err
}

// parseJWKS is ParseJWKS; isSet reports whether data is a key set at
// all (JSON with a "keys" array of at most maxJWKSKeys members), usable
// keys or not.
func parseJWKS(data []byte) (keys []Key, isSet bool, err error) {
	// Members are decoded one at a time, so that one of the wrong shape
	// is skipped like any other unusable key instead of failing the set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, false, errors.New("auth: JWKS is not a JSON key set")
	}
	if len(set.Keys) > maxJWKSKeys {
		return nil, false, fmt.Errorf("auth: JWKS has more than %d keys", maxJWKSKeys)
	}
	var errs []error
	for i, raw := range set.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			errs = append(errs, fmt.Errorf("auth: JWKS key %d: not a JSON Web Key", i))
			continue
		}
		k, err := j.key()
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: JWKS key %d: %w", i, err))
			continue
		}
		keys = append(keys, k)
	}
	return keys, set.Keys != nil, errors.Join(errs...)
}

var jwkB64 = base64.RawURLEncoding.Strict()

func (j *jwk) key() (Key, error) {
	if j.D != "" {
		return Key{}, errors.New("contains private key material")
	}
	if j.Use != "" && j.Use != "sig" {
		return Key{}, errors.New("not a signature key")
	}
	if j.KeyOps != nil {
		ok := false
		for _, op := range j.KeyOps {
			ok = ok || op == "verify"
		}
		if !ok {
			return Key{}, errors.New("key_ops does not include verify")
		}
	}
	if len(j.Kid) > maxKIDLen {
		return Key{}, errors.New("kid too long")
	}
	k := Key{ID: j.Kid, Algorithm: j.Alg}
	switch j.Kty {
	case "RSA":
		nb, err := jwkB64.DecodeString(j.N)
		if err != nil || len(nb) == 0 || nb[0] == 0 {
			return Key{}, errors.New("invalid RSA modulus")
		}
		eb, err := jwkB64.DecodeString(j.E)
		if err != nil || len(eb) == 0 || len(eb) > 4 || eb[0] == 0 {
			return Key{}, errors.New("invalid RSA exponent")
		}
		e := 0
		for _, b := range eb {
			e = e<<8 | int(b)
		}
		if e < 3 || e%2 == 0 || e > 1<<31-1 {
			return Key{}, errors.New("invalid RSA exponent")
		}
		n := new(big.Int).SetBytes(nb)
		if bits := n.BitLen(); bits < minRSABits || bits > maxRSABits {
			return Key{}, fmt.Errorf("RSA key of %d bits; %d to %d are supported", bits, minRSABits, maxRSABits)
		}
		k.Key = &rsa.PublicKey{N: n, E: e}
	case "EC":
		var curve elliptic.Curve
		size := 0
		switch j.Crv {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		default:
			return Key{}, errors.New("unsupported curve")
		}
		x, errx := jwkB64.DecodeString(j.X)
		y, erry := jwkB64.DecodeString(j.Y)
		if errx != nil || erry != nil || len(x) != size || len(y) != size {
			return Key{}, errors.New("invalid EC point")
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
		if err != nil {
			return Key{}, errors.New("invalid EC point")
		}
		k.Key = pub
	case "OKP":
		if j.Crv != "Ed25519" {
			return Key{}, errors.New("unsupported curve")
		}
		x, err := jwkB64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return Key{}, errors.New("invalid Ed25519 key")
		}
		k.Key = ed25519.PublicKey(x)
	case "oct":
		return Key{}, errors.New("symmetric keys are never taken from a JWKS")
	default:
		return Key{}, errors.New("unsupported key type")
	}
	return k, nil
}

// marshalJWKS renders the public halves of keys as a JWKS. HMAC secrets
// are never published.
func marshalJWKS(keys []Key) ([]byte, error) {
	set := jwkSet{Keys: []jwk{}}
	for _, k := range keys {
		j := jwk{Kid: k.ID, Alg: k.Algorithm, Use: "sig"}
		switch key := k.Key.(type) {
		case ed25519.PrivateKey:
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", jwkB64.EncodeToString(key.Public().(ed25519.PublicKey))
		case ed25519.PublicKey:
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", jwkB64.EncodeToString(key)
		case *ecdsa.PrivateKey, *ecdsa.PublicKey:
			pub, ok := key.(*ecdsa.PublicKey)
			if !ok {
				pub = &key.(*ecdsa.PrivateKey).PublicKey
			}
			var err error
			if j, err = ecJWK(k, pub); err != nil {
				return nil, err
			}
		case *rsa.PrivateKey:
			j.Kty, j.N, j.E = "RSA", jwkB64.EncodeToString(key.N.Bytes()), jwkB64.EncodeToString(big.NewInt(int64(key.E)).Bytes())
		case *rsa.PublicKey:
			j.Kty, j.N, j.E = "RSA", jwkB64.EncodeToString(key.N.Bytes()), jwkB64.EncodeToString(big.NewInt(int64(key.E)).Bytes())
		default:
			continue
		}
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

func ecJWK(k Key, pub *ecdsa.PublicKey) (jwk, error) {
	j := jwk{Kid: k.ID, Alg: k.Algorithm, Use: "sig", Kty: "EC"}
	size := 0
	switch pub.Curve {
	case elliptic.P256():
		j.Crv, size = "P-256", 32
	case elliptic.P384():
		j.Crv, size = "P-384", 48
	default:
		return jwk{}, errors.New("auth: unsupported curve")
	}
	b, err := pub.Bytes()
	if err != nil || len(b) != 1+2*size {
		return jwk{}, errors.New("auth: invalid EC key")
	}
	j.X = jwkB64.EncodeToString(b[1 : 1+size])
	j.Y = jwkB64.EncodeToString(b[1+size:])
	return j, nil
}

// remoteKeySet is a JWKS fetched over HTTPS, cached and refreshed.
type remoteKeySet struct {
	url        string
	client     *http.Client
	timeout    time.Duration
	refresh    time.Duration
	minRefresh time.Duration
	maxStale   time.Duration // < 0: none
	maxBytes   int64
	algs       []string
	now        func() time.Time

	set         atomic.Pointer[keySet]
	fetchedAt   atomic.Int64 // unix nanoseconds of the last successful fetch
	attemptedAt atomic.Int64 // unix nanoseconds of the last fetch started
	background  atomic.Bool  // a background refresh is running

	mu          sync.Mutex
	inflight    chan struct{}
	lastAttempt time.Time
	lastErr     error
}

func newRemoteKeySet(raw string, o JWKSOptions, algs []string) (*remoteKeySet, error) {
	var errs []error
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		errs = append(errs, errors.New("auth: JWTOptions.JWKSURL must be an absolute https URL without user info or fragment"))
	case u.Scheme == "http" && o.DangerouslyAllowHTTP:
	case u.Scheme != "https":
		errs = append(errs, errors.New("auth: JWTOptions.JWKSURL must use https"))
	}
	r := &remoteKeySet{
		url: raw, client: o.HTTPClient, timeout: o.Timeout, refresh: o.RefreshInterval,
		minRefresh: o.MinRefreshInterval, maxStale: o.MaxStale, maxBytes: o.MaxBytes, algs: algs, now: time.Now,
	}
	if r.timeout == 0 {
		r.timeout = DefaultJWKSTimeout
	}
	if r.refresh == 0 {
		r.refresh = DefaultJWKSRefreshInterval
	}
	if r.minRefresh == 0 {
		r.minRefresh = DefaultJWKSMinRefreshInterval
	}
	if r.maxBytes == 0 {
		r.maxBytes = DefaultJWKSMaxBytes
	}
	if r.maxStale == 0 {
		r.maxStale = max(DefaultJWKSMaxStale, 2*r.refresh)
	}
	// Every problem is reported, not the first (found in review).
	if r.timeout < 0 || r.timeout > time.Minute {
		errs = append(errs, errors.New("auth: JWKSOptions.Timeout must be between 0 and one minute"))
	}
	if r.minRefresh < time.Second {
		errs = append(errs, errors.New("auth: JWKSOptions.MinRefreshInterval must be at least one second"))
	}
	if r.refresh < r.minRefresh {
		errs = append(errs, errors.New("auth: JWKSOptions.RefreshInterval must not be shorter than MinRefreshInterval"))
	}
	if r.maxStale > 0 && r.maxStale < r.refresh {
		errs = append(errs, errors.New("auth: JWKSOptions.MaxStale must not be shorter than RefreshInterval"))
	}
	if r.maxBytes < 1024 || r.maxBytes > 16<<20 {
		errs = append(errs, errors.New("auth: JWKSOptions.MaxBytes must be between 1 KiB and 16 MiB"))
	}
	if r.client != nil {
		// A caller's client follows redirects by net/http's default
		// policy, to http URLs too, where anyone on the path can replace
		// the keys (found in review): a copy refuses those first.
		c := *r.client
		check := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" && !o.DangerouslyAllowHTTP {
				return errors.New("auth: JWKS redirect to a URL that is not https refused")
			}
			if check != nil {
				return check(req, via)
			}
			if len(via) >= 10 { // net/http's default policy
				return errors.New("auth: JWKS fetch stopped after 10 redirects")
			}
			return nil
		}
		r.client = &c
	} else {
		r.client = &http.Client{
			Timeout: r.timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				// via holds the requests made so far: the third
				// redirect is followed, a fourth is not (found in review:
				// ">= 3" stopped at the third).
				if len(via) > 3 || req.URL.Scheme != "https" {
					return errors.New("auth: JWKS redirect refused")
				}
				return nil
			},
		}
	}
	return r, errors.Join(errs...)
}

// current returns the last fetched set, or nil.
func (r *remoteKeySet) current() *keySet { return r.set.Load() }

// keySetFor returns the set holding a key for (kid, alg), fetching when
// the set is missing or past maxStale, or when kid is unknown and the
// last fetch is older than minRefresh. A set older than the refresh
// interval is refreshed in the background.
func (r *remoteKeySet) keySetFor(ctx context.Context, kid string, hasKID bool, alg string) (*keySet, error) {
	if ks := r.current(); ks != nil {
		age := r.age()
		if !r.expired(age) && ks.lookup(kid, hasKID, alg) != nil {
			r.refreshIfStale(age)
			return ks, nil
		}
	}
	err := r.fetchOnce(ctx)
	ks := r.current()
	if ks == nil || ks.count == 0 || r.expired(r.age()) {
		switch {
		case ks != nil && ks.count > 0:
			err = errors.Join(errJWKSExpired, err)
		case err == nil:
			err = errors.New("no key set")
		}
		return nil, errors.Join(ErrKeySetUnavailable, err)
	}
	if ks.lookup(kid, hasKID, alg) == nil {
		return nil, ErrTokenUnknownKey
	}
	return ks, nil
}

// age returns the time since the last successful fetch.
func (r *remoteKeySet) age() time.Duration {
	return time.Duration(r.now().UnixNano() - r.fetchedAt.Load())
}

// expired reports whether a set of the given age is past maxStale: no
// fetch has succeeded for that long, and it must not verify any more.
func (r *remoteKeySet) expired(age time.Duration) bool {
	return r.maxStale > 0 && age > r.maxStale
}

// refreshIfStale starts a background refresh when the set, of the given
// age, is older than the refresh interval. One runs at a time, however
// many requests see the stale set, and none while fetches are throttled:
// while the provider is down, requests do not each start a goroutine that
// would only find the last attempt too recent.
func (r *remoteKeySet) refreshIfStale(age time.Duration) {
	if age <= r.refresh {
		return
	}
	if time.Duration(r.now().UnixNano()-r.attemptedAt.Load()) < r.minRefresh {
		return
	}
	if r.background.CompareAndSwap(false, true) {
		go func() {
			defer r.background.Store(false)
			_ = r.fetchOnce(context.Background())
		}()
	}
}

var (
	errJWKSThrottled = errors.New("auth: JWKS fetched too recently")
	errJWKSExpired   = errors.New("auth: no JWKS fetch has succeeded within JWKSOptions.MaxStale")
)

// fetchOnce fetches the set unless a fetch is in flight (then it waits for
// that one) or the last attempt is younger than minRefresh.
func (r *remoteKeySet) fetchOnce(ctx context.Context) error {
	r.mu.Lock()
	if ch := r.inflight; ch != nil {
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
		err := r.lastErr
		r.mu.Unlock()
		return err
	}
	now := r.now()
	if !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.minRefresh {
		err := r.lastErr
		r.mu.Unlock()
		if err == nil {
			err = errJWKSThrottled
		}
		return err
	}
	ch := make(chan struct{})
	r.inflight, r.lastAttempt = ch, now
	r.attemptedAt.Store(now.UnixNano())
	r.mu.Unlock()

	// The fetch has its own deadline, not the request's: waiters share
	// it, and one cancelled request must not fail it for the others.
	fctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	ks, err := r.fetch(fctx)
	cancel()

	r.mu.Lock()
	r.lastErr = err
	if ks != nil {
		r.set.Store(ks)
		r.fetchedAt.Store(r.now().UnixNano())
	}
	r.inflight = nil
	close(ch)
	r.mu.Unlock()
	return err
}

func (r *remoteKeySet) fetch(ctx context.Context) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: JWKS fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS fetch: %w", err)
	}
	if int64(len(body)) > r.maxBytes {
		return nil, fmt.Errorf("auth: JWKS larger than %d bytes", r.maxBytes)
	}
	keys, isSet, _ := parseJWKS(body) // unusable keys are skipped
	if !isSet {
		return nil, errors.New("auth: JWKS fetch: not a JSON Web Key Set")
	}
	var vks []*verKey
	for i, k := range keys {
		if k.Algorithm != "" && jwtAlgorithms[k.Algorithm].kind == 0 {
			continue
		}
		vk, err := compileKey(i, k, r.algs)
		if err != nil {
			continue // a key for an algorithm this service does not allow
		}
		vks = append(vks, vk)
	}
	if len(vks) == 0 {
		// Still the provider's current set: it replaces the last one, so
		// that keys it no longer lists stop verifying (requests get 503
		// until a usable key appears), where a failed fetch keeps it.
		return newKeySet(nil), errors.New("auth: JWKS has no key usable with the allowed algorithms")
	}
	return newKeySet(vks), nil
}
