package bench

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// echoMiddleware serves h behind echo middleware mws, outermost first,
// without echo's router: each request acquires and resets a Context and
// runs the chain built once here, and an error goes to echo's
// HTTPErrorHandler, as echo's ServeHTTP does. httpguard's middleware is
// measured bare, so the peer is too: behind e.ServeHTTP it would also pay
// the route lookup and the per-request wrapping of every middleware
// (applyMiddleware), which are echo's router, not its middleware.
func echoMiddleware(h echo.HandlerFunc, mws ...echo.MiddlewareFunc) http.Handler {
	e := echo.New()
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := e.AcquireContext()
		c.Reset(r, w)
		if err := h(c); err != nil {
			e.HTTPErrorHandler(err, c)
		}
		e.ReleaseContext(c)
	})
}
