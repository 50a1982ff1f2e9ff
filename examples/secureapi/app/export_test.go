package app

// RoutePatterns lists every route, for the tests that walk them.
var RoutePatterns = routePatterns
