package auth

// Reasons the token endpoint records for a refused refresh, for tests.
var (
	ErrRefreshClient      = errRefreshClient
	ErrRefreshCredential  = errRefreshCredential
	ErrRefreshUserGone    = errRefreshUserGone
	ErrRetrySuccessorSeal = errRetrySuccessorSeal
	ErrRetrySuccessorGone = errRetrySuccessorGone
)

// ErrTokenTwoClientAuth is the reason of a request that authenticates the
// client twice, for tests.
var ErrTokenTwoClientAuth = errTokenTwoClientAuth
