package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/storefail"
)

// ErrOverloaded means a [ConcurrencyLimiter] had MaxInFlight requests in
// progress and refused another: 503 Service Unavailable. It has the
// method Unavailable() bool that reports true, which errorsafe answers
// with 503.
var ErrOverloaded = error(storefail.Error("ratelimit: too many requests in flight"))

// ConcurrencyOptions configures a [ConcurrencyLimiter]. Mutating it after
// [NewConcurrencyLimiter] has no effect.
type ConcurrencyOptions struct {
	// MaxInFlight is the number of requests served at once; one more is
	// refused immediately rather than queued, so an overloaded server
	// sheds load instead of building a backlog it cannot serve. Required.
	MaxInFlight int
	// RetryAfter is sent in the Retry-After field of refusals, rounded up
	// to whole seconds. Default: 1 second.
	RetryAfter time.Duration
	// OnReject writes the response for a refused request; err wraps
	// [ErrOverloaded] and Retry-After is already set on w. Default: an RFC
	// 9457 problem response with status 503.
	// The reason is recorded for the access log before OnReject is called.
	// OnReject must write a response: if it writes nothing, net/http
	// answers 200 with an empty body, which a client takes for success.
	OnReject func(w http.ResponseWriter, r *http.Request, err error)
}

// ConcurrencyLimiter bounds the number of requests in flight, for load
// shedding: unlike a rate limit it adapts to how long requests take. Build
// it with [NewConcurrencyLimiter]; the zero ConcurrencyLimiter, and a nil
// *ConcurrencyLimiter, refuse every request with 500 and
// [ErrNotConfigured]. It is safe for concurrent use.
//
// A request holds its slot until its handler returns, so a WebSocket, a
// Server-Sent Events stream or a long poll holds one for its whole life:
// keep such routes out of the limiter, or under one of their own.
type ConcurrencyLimiter struct {
	max        int64
	inFlight   atomic.Int64
	retryAfter string
	onReject   func(w http.ResponseWriter, r *http.Request, err error)
}

// NewConcurrencyLimiter validates o and returns a ConcurrencyLimiter.
func NewConcurrencyLimiter(o ConcurrencyOptions) (*ConcurrencyLimiter, error) {
	var errs []error
	if o.MaxInFlight <= 0 {
		errs = append(errs, fmt.Errorf("%w: MaxInFlight: %d must be positive", ErrOption, o.MaxInFlight))
	}
	if o.RetryAfter < 0 {
		errs = append(errs, fmt.Errorf("%w: RetryAfter: %v must not be negative", ErrOption, o.RetryAfter))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &ConcurrencyLimiter{max: int64(o.MaxInFlight), onReject: o.OnReject}
	c.retryAfter = strconv.FormatInt(ceilSeconds(o.RetryAfter), 10)
	if c.onReject == nil {
		c.onReject = func(w http.ResponseWriter, r *http.Request, err error) {
			problem.Reject(w, r, http.StatusServiceUnavailable, err)
		}
	}
	return c, nil
}

// InFlight returns the number of requests being served.
func (c *ConcurrencyLimiter) InFlight() int {
	if c == nil {
		return 0
	}
	return int(c.inFlight.Load())
}

// Handler returns next wrapped in the limiter. A slot is released when
// next returns, or panics.
func (c *ConcurrencyLimiter) Handler(next http.Handler) http.Handler {
	if c == nil || c.max == 0 {
		return notConfigured
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.inFlight.Add(1) > c.max {
			c.inFlight.Add(-1)
			w.Header()["Retry-After"] = []string{c.retryAfter}
			problem.SetReason(r, ErrOverloaded)
			c.onReject(w, r, ErrOverloaded)
			return
		}
		defer c.inFlight.Add(-1)
		next.ServeHTTP(w, r)
	})
}
