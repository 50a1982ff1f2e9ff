// Package storefail marks the errors that mean a store could not answer
// (unreachable, timed out, full), or the server itself could not take the
// request (ratelimit.ErrOverloaded), as opposed to a refusal, so that a
// package that does not import the store's can tell them apart: such an
// error is answered 503 with Retry-After, never 401, 403 or 429.
//
// The mark is a method Unavailable() bool that reports true. Stores of
// other modules may have it too; it is the whole contract.
package storefail

import "errors"

// Error is a sentinel with the mark: ratelimit.ErrStore,
// ratelimit.ErrOverloaded, session.ErrStore and auth.ErrUnavailable are
// of this type.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// Unavailable reports true: the store could not answer.
func (Error) Unavailable() bool { return true }

// Is reports whether err, or an error it wraps, has the mark and reports
// true.
func Is(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}
