package problem

import (
	"context"
	"net/http"
	"sync"
)

// Reason holds why a request was rejected, for a logging middleware that
// installed it further out. The zero value is ready to use; a Reason is safe
// for concurrent use.
type Reason struct {
	mu  sync.Mutex
	err error
}

type reasonKey struct{}

// WithReason returns a context carrying a new, empty [Reason] and that
// Reason. A middleware that logs requests calls it before passing the
// request on and reads [Reason.Err] after the inner handler returns.
func WithReason(ctx context.Context) (context.Context, *Reason) {
	rs := new(Reason)
	return context.WithValue(ctx, reasonKey{}, rs), rs
}

// ReasonFrom returns the [Reason] installed in ctx by [WithReason], or nil.
func ReasonFrom(ctx context.Context) *Reason {
	rs, _ := ctx.Value(reasonKey{}).(*Reason)
	return rs
}

// SetReason records err as the reason r was rejected, if a middleware
// further out installed a [Reason]; otherwise it does nothing and costs one
// context lookup. The first reason recorded wins: it is the decision that
// stopped the request. A nil err is ignored.
func SetReason(r *http.Request, err error) {
	if err == nil {
		return
	}
	if rs := ReasonFrom(r.Context()); rs != nil {
		rs.Set(err)
	}
}

// Set records err unless a reason was already recorded. A nil err is
// ignored.
func (rs *Reason) Set(err error) {
	if err == nil {
		return
	}
	rs.mu.Lock()
	if rs.err == nil {
		rs.err = err
	}
	rs.mu.Unlock()
}

// Err returns the recorded reason, or nil if none was recorded.
func (rs *Reason) Err() error {
	if rs == nil {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.err
}
