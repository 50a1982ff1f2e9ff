package auth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/httpguard/httpguard/internal/headervals"
	"github.com/httpguard/httpguard/internal/problem"
	"github.com/httpguard/httpguard/internal/storefail"
	"github.com/httpguard/httpguard/internal/toomany"
)

// The rejection reasons shared by every authenticator of this package.
// The error an [BasicOptions.OnReject] (or any other OnReject of this
// package) receives wraps one of them, possibly together with a more
// precise cause; test with [errors.Is]. The messages are constants: they
// never contain request data.
var (
	// ErrNoCredentials: the request carries no credentials for this
	// authenticator. Answered with 401 and a challenge.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalidCredentials: the credentials are well-formed but wrong:
	// unknown user, wrong password, unknown or revoked key. Answered with
	// 401 and a challenge.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrMalformedCredentials: the credentials cannot be parsed (wrong
	// scheme, bad base64, no colon, control characters, invalid UTF-8,
	// repeated or oversized headers). Answered with 401 and a challenge,
	// never 400 or 500.
	ErrMalformedCredentials = errors.New("auth: malformed credentials")
	// ErrAmbiguousCredentials: an Optional middleware ([JWT.Optional],
	// [APIKey.Optional], [Basic.Optional]) verified its credential on a
	// request that a layer further out had authenticated already (a
	// session, another Optional) as another subject: two principals, of
	// which none may silently win. Answered with 401 and a challenge. It
	// wraps ErrMalformedCredentials, as several Authorization headers do.
	ErrAmbiguousCredentials = fmt.Errorf("%w: credentials of a request authenticated already", ErrMalformedCredentials)
	// ErrUnavailable: the credential store could not answer, or the
	// request's context ended while its password waited to be verified
	// (see [ContextVerifier]). Answered with 503; the client is not told
	// it failed to authenticate. It has a method Unavailable() bool that
	// reports true, by which errorsafe answers a handler that returns it
	// with 503 too.
	ErrUnavailable = error(storefail.Error("auth: credential store unavailable"))
	// ErrTooManyAttempts: the [AttemptLimiter] refused another attempt.
	// Answered with 429 and Retry-After. It has a method
	// TooManyRequests() bool that reports true, by which errorsafe
	// answers a handler that returns it with 429 too.
	ErrTooManyAttempts = error(toomany.Error("auth: too many failed attempts"))
	// ErrTooManyTokens: the [IssueLimiter] of a [TokenEndpoint] refused
	// to issue more tokens to the subject. Answered with 429, Retry-After
	// and the OAuth2 error slow_down. It is marked as ErrTooManyAttempts
	// is.
	ErrTooManyTokens = error(toomany.Error("auth: too many tokens issued to this subject"))
)

// unavailableRetryAfter is the Retry-After of a 503 for a store, key set
// or denylist that could not answer, in seconds, for every authenticator.
const unavailableRetryAfter = "5"

// rejectStatus maps a rejection reason to its status code: 503 for
// [ErrUnavailable], 429 for [ErrTooManyAttempts] and 401 otherwise.
func rejectStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrTooManyAttempts):
		return http.StatusTooManyRequests
	default:
		return http.StatusUnauthorized
	}
}

// rejectCredentials is the rejection of [Basic] and [APIKey]: it records
// err as the reason and hands it to onReject when set; otherwise it
// answers with [rejectStatus]'s status and its header: the challenge
// (defaultChallenge when challenge is empty, as in a zero middleware) on
// a 401, Retry-After on a 429 and a 503.
func rejectCredentials(w http.ResponseWriter, r *http.Request, err error,
	onReject func(http.ResponseWriter, *http.Request, error), challenge, defaultChallenge string) {
	problem.SetReason(r, err)
	if onReject != nil {
		onReject(w, r, err)
		return
	}
	status := rejectStatus(err)
	switch status {
	case http.StatusUnauthorized:
		if challenge == "" {
			challenge = defaultChallenge
		}
		writeRejection(w, status, "Www-Authenticate", challenge)
	case http.StatusTooManyRequests:
		if d, ok := RetryAfter(err); ok {
			writeRejection(w, status, "Retry-After", retryAfterSeconds(d))
		} else {
			writeRejection(w, status, "", "")
		}
	default:
		writeRejection(w, status, "Retry-After", unavailableRetryAfter)
	}
}

// writeRejection writes the generic problem response for status with one
// more header field, key (in canonical form, as Set would store it) set to
// value, unless key is empty. The header values go into slots that belong
// to this response alone, so the default rejections an attacker can drive
// allocate nothing for their headers.
func writeRejection(w http.ResponseWriter, status int, key, value string) {
	if key == "" {
		problem.WriteInto(w, status, headervals.Take(problem.Slots), false)
		return
	}
	vals := headervals.Take(problem.Slots + 1)
	vals[problem.Slots] = value
	w.Header()[key] = vals[problem.Slots:]
	problem.WriteInto(w, status, vals[:problem.Slots:problem.Slots], false)
}
