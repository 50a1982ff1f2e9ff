// Package toomany marks the errors that mean a limit refused a request
// (too many requests, too many failed attempts), so that a package that
// does not import the limiter's can answer them: such an error is
// answered 429, never 500.
//
// The mark is a method TooManyRequests() bool that reports true. Limiters
// of other modules may have it too; it is the whole contract.
package toomany

import "errors"

// Error is a sentinel with the mark: ratelimit.ErrLimited, ErrLocked and
// ErrUserLocked, and auth.ErrTooManyAttempts and ErrTooManyTokens, are of
// this type.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// TooManyRequests reports true: a limit refused the request.
func (Error) TooManyRequests() bool { return true }

// Is reports whether err, or an error it wraps, has the mark and reports
// true.
func Is(err error) bool {
	var u interface{ TooManyRequests() bool }
	return errors.As(err, &u) && u.TooManyRequests()
}
