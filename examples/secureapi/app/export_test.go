package app

import "github.com/httpguard/httpguard/ratelimit"

// RoutePatterns lists every route, for the tests that walk them.
var RoutePatterns = routePatterns

// SetAttemptStore makes the failed-attempt limiter of the server built
// from c keep its counts in s.
func SetAttemptStore(c *Config, s ratelimit.Store) { c.attemptStore = s }
