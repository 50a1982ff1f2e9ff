package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Errors returned by [Hasher.Hash], [Hasher.Verify] and [Inspect]. They are
// constants; the functions wrap them, so test with [errors.Is].
var (
	// ErrEmptyPassword is returned by Hash for an empty password.
	ErrEmptyPassword = errors.New("password: empty password")
	// ErrPasswordTooLong is returned for a password longer than
	// [Options.MaxPasswordLength], or longer than the 72 bytes bcrypt
	// would silently truncate when verifying against a bcrypt hash.
	ErrPasswordTooLong = errors.New("password: password too long")
	// ErrMalformedHash is returned for a stored hash that is not a valid
	// argon2id PHC string or bcrypt hash.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrUnsupportedHash is returned for a well-formed hash of an
	// algorithm or version this package does not verify (argon2i,
	// argon2d, argon2 version 0x10, scrypt, $2x$ bcrypt, ...).
	ErrUnsupportedHash = errors.New("password: unsupported hash algorithm")
	// ErrHashLimits is returned for a stored hash whose parameters exceed
	// the limits of [Options] (memory, passes, lanes, bcrypt cost, salt
	// or key length): verifying it could cost an unbounded amount of
	// memory or time, so it is refused before any work is done.
	ErrHashLimits = errors.New("password: hash parameters exceed limits")
	// ErrWeakParams is returned by [New] for parameters below the OWASP
	// recommendation without [Options.DangerouslyAllowWeakParams].
	ErrWeakParams = errors.New("password: parameters below the OWASP recommendation")
	// ErrInvalidOptions is returned by [New] for limits that contradict
	// each other or the parameters.
	ErrInvalidOptions = errors.New("password: invalid options")
)

// Params are argon2id parameters.
type Params struct {
	// Memory is the memory cost in KiB (the "m" parameter).
	Memory uint32
	// Time is the number of passes over the memory (the "t" parameter).
	Time uint32
	// Threads is the degree of parallelism, the number of lanes (the "p"
	// parameter). Verification runs this many goroutines.
	Threads uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key (the hash) in bytes.
	KeyLength uint32
}

// DefaultParams are the parameters [Hash] uses: the first configuration
// the OWASP Password Storage Cheat Sheet recommends for argon2id, m=19456
// (19 MiB), t=2, p=1, with a 16-byte salt and a 32-byte key (RFC 9106
// §4). One hash takes about 20 to 40 ms on a current server core.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}

// owaspFloor lists the equivalent argon2id configurations of the OWASP
// Password Storage Cheat Sheet: memory (KiB) and the passes it needs.
var owaspFloor = [...]struct{ memory, time uint32 }{
	{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5},
}

// meetsOWASP reports whether p is at or above one of the OWASP
// configurations.
func meetsOWASP(p Params) bool {
	for _, f := range owaspFloor {
		if p.Memory >= f.memory && p.Time >= f.time {
			return p.Threads >= 1 && p.SaltLength >= 16 && p.KeyLength >= 32
		}
	}
	return false
}

// Default limits on stored hashes and passwords; see [Options].
const (
	DefaultMaxMemory         = 256 * 1024 // KiB: 256 MiB
	DefaultMaxTime           = 16
	DefaultMaxThreads        = 16
	DefaultMaxWork           = 256 * 1024 // KiB × passes: 256 MiB once, 64 MiB four times
	DefaultMaxBcryptCost     = 14
	DefaultMaxPasswordLength = 1024

	maxSaltLength = 64
	maxKeyLength  = 128
	minSaltLength = 8
	minKeyLength  = 16
	// bcryptMaxPassword is the number of bytes bcrypt uses; it ignores
	// the rest.
	bcryptMaxPassword = 72
	// bcryptMinCost is the smallest cost bcrypt defines.
	bcryptMinCost = 4
)

// Options configures a [Hasher]. The zero Options is the recommended
// default: [DefaultParams] and the Default limits. Mutating an Options
// after [New] has no effect on the Hasher.
type Options struct {
	// Params are the argon2id parameters for new hashes. Zero fields take
	// the value of [DefaultParams]. Parameters below the OWASP
	// recommendation are refused by New unless DangerouslyAllowWeakParams
	// is set. Verify reports needsRehash for an argon2id hash weaker than
	// these in memory, passes, salt or key length.
	Params Params

	// MaxMemory is the largest memory cost, in KiB, of a stored argon2id
	// hash that Verify accepts. Default: [DefaultMaxMemory] (256 MiB).
	MaxMemory uint32
	// MaxTime is the largest number of passes of a stored argon2id hash
	// that Verify accepts. Default: [DefaultMaxTime].
	MaxTime uint32
	// MaxThreads is the largest parallelism of a stored argon2id hash
	// that Verify accepts. Default: [DefaultMaxThreads].
	MaxThreads uint8
	// MaxWork bounds memory times passes (KiB × t) of a stored argon2id
	// hash, the quantity its CPU time grows with, so that a hash at the
	// memory limit cannot also ask for the pass limit: 256 MiB × 16
	// passes would cost seconds of CPU per login attempt. Default:
	// [DefaultMaxWork], about seven times the work of [DefaultParams].
	MaxWork uint64
	// MaxBcryptCost is the largest cost of a stored bcrypt hash that
	// Verify accepts; each step doubles the work (cost 14 takes about a
	// second). At most 31. Default: [DefaultMaxBcryptCost].
	MaxBcryptCost int
	// MaxPasswordLength is the longest password, in bytes, that Hash and
	// Verify accept; longer ones are refused with [ErrPasswordTooLong]
	// before any work. Against a bcrypt hash the limit is always at most
	// 72 bytes, because bcrypt ignores what follows. Default:
	// [DefaultMaxPasswordLength].
	MaxPasswordLength int
	// MaxConcurrent bounds the argon2id and bcrypt computations of Hash
	// and Verify running at once; the next ones wait for a turn. Each
	// argon2id computation holds its memory cost (19 MiB with
	// [DefaultParams]) until it ends, so without a bound a burst of
	// concurrent login attempts with wrong passwords, which no cache
	// absorbs, could take the process's memory: a thousand would ask for
	// 19 GiB. Waiting costs nothing but latency: more computations than
	// cores would only share them. Default: runtime.GOMAXPROCS at New,
	// at least 2. Negative is an error. [Hasher.VerifyContext] stops
	// waiting when its context ends, so that a request whose client has
	// gone away does not take a turn from those still waiting.
	MaxConcurrent int

	// DangerouslyAllowWeakParams lets Params go below the OWASP
	// recommendation, down to m=8 KiB, t=1. It exists for tests that
	// hash many passwords; never set it in production. Default: false,
	// weaker Params are an error.
	DangerouslyAllowWeakParams bool
}

// Hasher hashes passwords with argon2id and verifies argon2id and bcrypt
// hashes. A Hasher is immutable and safe for concurrent use. The zero
// value is not usable; use [New], or the package functions [Hash] and
// [Verify], which use [Default].
type Hasher struct {
	params        Params
	maxMemory     uint32
	maxTime       uint32
	maxThreads    uint8
	maxWork       uint64
	maxBcryptCost int
	maxPassword   int
	// turns holds a token for each computation running: a send waits
	// while MaxConcurrent of them are.
	turns chan struct{}
}

// Default is the Hasher of [Hash] and [Verify]: [DefaultParams] and the
// default limits. Do not reassign it; build another Hasher with [New] and
// pass it where a hasher is an option.
var Default = MustNew(Options{})

// New validates o and returns a Hasher. Every problem is reported, joined
// with [errors.Join].
func New(o Options) (*Hasher, error) {
	p := o.Params
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	if p.SaltLength == 0 {
		p.SaltLength = DefaultParams.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = DefaultParams.KeyLength
	}
	h := &Hasher{
		params:        p,
		maxMemory:     orDefault(o.MaxMemory, DefaultMaxMemory),
		maxTime:       orDefault(o.MaxTime, DefaultMaxTime),
		maxThreads:    orDefault(o.MaxThreads, DefaultMaxThreads),
		maxWork:       orDefault(o.MaxWork, DefaultMaxWork),
		maxBcryptCost: orDefault(o.MaxBcryptCost, DefaultMaxBcryptCost),
		maxPassword:   orDefault(o.MaxPasswordLength, DefaultMaxPasswordLength),
	}
	var errs []error
	if !meetsOWASP(p) && !o.DangerouslyAllowWeakParams {
		errs = append(errs, fmt.Errorf("%w: m=%d t=%d p=%d salt=%d key=%d", ErrWeakParams,
			p.Memory, p.Time, p.Threads, p.SaltLength, p.KeyLength))
	}
	if p.Memory < 8*uint32(p.Threads) {
		errs = append(errs, fmt.Errorf("%w: memory must be at least 8 KiB per thread", ErrInvalidOptions))
	}
	if p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength {
		errs = append(errs, fmt.Errorf("%w: salt length must be %d to %d bytes", ErrInvalidOptions, minSaltLength, maxSaltLength))
	}
	if p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength {
		errs = append(errs, fmt.Errorf("%w: key length must be %d to %d bytes", ErrInvalidOptions, minKeyLength, maxKeyLength))
	}
	if p.Memory > h.maxMemory || p.Time > h.maxTime || p.Threads > h.maxThreads || uint64(p.Memory)*uint64(p.Time) > h.maxWork {
		errs = append(errs, fmt.Errorf("%w: params exceed the verification limits", ErrInvalidOptions))
	}
	if h.maxBcryptCost < bcryptMinCost || h.maxBcryptCost > bcrypt.MaxCost {
		errs = append(errs, fmt.Errorf("%w: MaxBcryptCost must be %d to %d", ErrInvalidOptions, bcryptMinCost, bcrypt.MaxCost))
	}
	if h.maxPassword < 0 {
		errs = append(errs, fmt.Errorf("%w: negative MaxPasswordLength", ErrInvalidOptions))
	}
	if o.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("%w: negative MaxConcurrent", ErrInvalidOptions))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	turns := o.MaxConcurrent
	if turns == 0 {
		turns = max(runtime.GOMAXPROCS(0), 2)
	}
	h.turns = make(chan struct{}, turns)
	return h, nil
}

func orDefault[T uint8 | uint32 | uint64 | int](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// MustNew is like [New] but panics on error. Use it only with constant
// options.
func MustNew(o Options) *Hasher {
	h, err := New(o)
	if err != nil {
		panic(err)
	}
	return h
}

// Params returns the argon2id parameters of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the argon2id hash of password in the PHC string format,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with a fresh random salt, salt and key in unpadded standard base64. It
// refuses an empty password ([ErrEmptyPassword]) and one longer than
// MaxPasswordLength ([ErrPasswordTooLong]).
func (h *Hasher) Hash(password string) (string, error) {
	return h.HashContext(context.Background(), password)
}

// HashContext is [Hasher.Hash], except that it gives up waiting for a turn
// (see Options.MaxConcurrent) when ctx ends, and then returns an error
// wrapping ctx.Err() without hashing anything. A computation already
// started runs to its end. Pass the request's context when a handler
// hashes a new password (a sign-up, a password change).
func (h *Hasher) HashContext(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	if len(password) > h.maxPassword {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLength)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	key, err := h.idKey(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	info := Info{Algorithm: Argon2id, Params: h.params, Salt: salt, Key: key}
	return info.String(), nil
}

// Verify reports whether password matches the stored hash encoded, an
// argon2id PHC string or a bcrypt hash ($2a$, $2b$ or $2y$), and whether
// the hash should be replaced by a new [Hasher.Hash] of the password once
// it verified: needsRehash is true for every bcrypt hash and for argon2id
// hashes weaker than the Hasher's parameters. It is never true when ok is
// false.
//
// The derived key is compared in constant time. A malformed hash, an
// unsupported algorithm or parameters beyond the limits are errors found
// before any hashing work, as is a password over the length limit (72
// bytes for bcrypt, which would otherwise silently ignore the rest). On
// error ok is false.
func (h *Hasher) Verify(password, encoded string) (ok bool, needsRehash bool, err error) {
	return h.VerifyContext(context.Background(), password, encoded)
}

// VerifyContext is [Hasher.Verify], except that it gives up waiting for a
// turn (see Options.MaxConcurrent) when ctx ends, and then returns an error
// wrapping ctx.Err() without hashing anything. A computation already
// started runs to its end. Pass the request's context, so that the
// verifications of requests whose clients have gone away (a timeout, a
// closed connection) are dropped from the queue instead of each costing a
// full hash after the client left.
func (h *Hasher) VerifyContext(ctx context.Context, password, encoded string) (ok bool, needsRehash bool, err error) {
	info, err := h.inspect(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > h.maxPassword {
		return false, false, ErrPasswordTooLong
	}
	if info.Algorithm == Bcrypt {
		if len(password) > bcryptMaxPassword {
			return false, false, ErrPasswordTooLong
		}
		if err := h.take(ctx); err != nil {
			return false, false, err
		}
		defer func() { <-h.turns }()
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		if err != nil {
			if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
				return false, false, nil
			}
			return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
		}
		return true, true, nil
	}
	p := info.Params
	key, err := h.idKey(ctx, password, info.Salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(key, info.Key) != 1 {
		return false, false, nil
	}
	want := h.params
	weaker := p.Memory < want.Memory || p.Time < want.Time ||
		p.SaltLength < want.SaltLength || p.KeyLength < want.KeyLength
	return true, weaker, nil
}

// idKey derives the argon2id key of password in a turn of h.turns.
func (h *Hasher) idKey(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	if err := h.take(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.turns }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength), nil
}

// take waits for a turn of h.turns, or until ctx ends: then it returns an
// error wrapping ctx.Err() and takes no turn, even one that is free.
func (h *Hasher) take(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: gave up waiting for a turn: %w", err)
	}
	select {
	case h.turns <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: gave up waiting for a turn: %w", ctx.Err())
	}
}

// Hash returns the argon2id hash of password with [Default]. See
// [Hasher.Hash].
func Hash(password string) (string, error) { return Default.Hash(password) }

// Verify checks password against encoded with [Default]. See
// [Hasher.Verify].
func Verify(password, encoded string) (ok bool, needsRehash bool, err error) {
	return Default.Verify(password, encoded)
}

// Algorithm names the algorithm of a stored hash.
type Algorithm string

// The algorithms [Hasher.Verify] accepts.
const (
	Argon2id Algorithm = "argon2id"
	Bcrypt   Algorithm = "bcrypt"
)

// Info describes a parsed stored hash.
type Info struct {
	// Algorithm is Argon2id or Bcrypt.
	Algorithm Algorithm
	// Params are the argon2id parameters; for bcrypt only SaltLength (16)
	// and KeyLength (23) are set.
	Params Params
	// BcryptCost is the cost of a bcrypt hash (log2 of the rounds).
	BcryptCost int
	// BcryptVersion is "2a", "2b" or "2y" for a bcrypt hash.
	BcryptVersion string
	// Salt and Key are the decoded salt and derived key of an argon2id
	// hash; nil for bcrypt.
	Salt, Key []byte
}

// String returns the canonical encoding of an argon2id Info, the PHC
// string [Hasher.Hash] produces; for bcrypt it returns "".
func (in Info) String() string {
	if in.Algorithm != Argon2id {
		return ""
	}
	var b strings.Builder
	b.Grow(64 + b64.EncodedLen(len(in.Salt)) + b64.EncodedLen(len(in.Key)))
	fmt.Fprintf(&b, "$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, in.Params.Memory, in.Params.Time, in.Params.Threads)
	b.WriteString(b64.EncodeToString(in.Salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(in.Key))
	return b.String()
}

// Inspect parses encoded with the limits of [Default], without hashing
// anything. It is what a store calls to validate hashes when it loads
// them. See [Hasher.Inspect].
func Inspect(encoded string) (Info, error) { return Default.Inspect(encoded) }

// Inspect parses the stored hash encoded and checks it against the
// Hasher's limits, without hashing anything. The error wraps
// [ErrMalformedHash], [ErrUnsupportedHash] or [ErrHashLimits].
func (h *Hasher) Inspect(encoded string) (Info, error) { return h.inspect(encoded) }
