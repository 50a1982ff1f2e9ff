package bench

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/httpguard/httpguard/ratelimit"
)

// Budgets large enough that no implementation refuses during a run.
const (
	rlRate   = 1 << 29
	rlPeriod = time.Second
)

// rlLimit is httpguard's equivalent: a million a second (its finest rate)
// with a burst nothing here exhausts.
var rlLimit = ratelimit.Limit{Rate: 1_000_000, Period: time.Second, Burst: rlRate}

func rlRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.1:40000"
	return r
}

// rlWriter keeps only headers and status, so that the middleware's own
// allocations are what is measured.
type rlWriter struct {
	h    http.Header
	code int
}

func (w *rlWriter) Header() http.Header         { return w.h }
func (w *rlWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *rlWriter) WriteHeader(code int)        { w.code = code }

// rlRun serves one request in a loop, reporting besides wall time the
// process CPU time per request (see serveLoop). The last response must
// have status wantCode and carry wantHeader, or no header at all when
// wantHeader is "", so that both sides are known to send what the
// benchmark says they send.
func rlRun(b *testing.B, h http.Handler, wantCode int, wantHeader string) {
	b.Helper()
	r := rlRequest()
	w := &rlWriter{h: http.Header{}}
	h.ServeHTTP(w, r) // warm up, and spend the budget of refusing setups
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, r)
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	if w.code != wantCode {
		b.Fatalf("status %d, want %d", w.code, wantCode)
	}
	if wantHeader == "" && len(w.h) != 0 || wantHeader != "" && w.h.Get(wantHeader) == "" {
		b.Fatalf("response header %v, want %q", w.h, wantHeader)
	}
}

var rlNoop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// httprateKeyByIP is what httprate's deprecated KeyByIP does: the peer
// address, IPv6 reduced to its /64.
func httprateKeyByIP(r *http.Request) (string, error) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(ip), nil
}

func rlHTTPGuard(b *testing.B, o ratelimit.Options) http.Handler {
	b.Helper()
	m, err := ratelimit.New(o)
	if err != nil {
		b.Fatal(err)
	}
	return m.Handler(rlNoop)
}

// BenchmarkRateLimit admits a request keyed by client address, with the
// rate-limit response headers each library sends by default (httpguard:
// RateLimit-Policy and RateLimit; httprate: X-RateLimit-Limit, -Remaining,
// -Reset).
func BenchmarkRateLimit(b *testing.B) {
	b.Run("impl=httpguard", func(b *testing.B) {
		rlRun(b, rlHTTPGuard(b, ratelimit.Options{Limits: []ratelimit.Limit{rlLimit}}), 0, "RateLimit")
	})
	b.Run("impl=httprate", func(b *testing.B) {
		rlRun(b, httprate.LimitBy(rlRate, rlPeriod, httprateKeyByIP)(rlNoop), 0, "X-RateLimit-Remaining")
	})
}

// BenchmarkRateLimitNoHeaders is BenchmarkRateLimit with response headers
// turned off in both.
func BenchmarkRateLimitNoHeaders(b *testing.B) {
	b.Run("impl=httpguard", func(b *testing.B) {
		rlRun(b, rlHTTPGuard(b, ratelimit.Options{Limits: []ratelimit.Limit{rlLimit}, Headers: ratelimit.HeadersOff}), 0, "")
	})
	b.Run("impl=httprate", func(b *testing.B) {
		rlRun(b, httprate.LimitBy(rlRate, rlPeriod, httprateKeyByIP, httprate.WithResponseHeaders(httprate.ResponseHeaders{}))(rlNoop), 0, "")
	})
}

// BenchmarkRateLimitRefused is a client over its limit: 429 with
// Retry-After and the headers each library sends.
func BenchmarkRateLimitRefused(b *testing.B) {
	b.Run("impl=httpguard", func(b *testing.B) {
		rlRun(b, rlHTTPGuard(b, ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 1, Period: time.Hour}}}), http.StatusTooManyRequests, "Retry-After")
	})
	b.Run("impl=httprate", func(b *testing.B) {
		rlRun(b, httprate.LimitBy(1, time.Hour, httprateKeyByIP)(rlNoop), http.StatusTooManyRequests, "Retry-After")
	})
}

// BenchmarkRateLimitEcho runs both limiters inside echo, so both pay the
// same router: httpguard through Middleware.Check in a five-line echo
// middleware, echo's RateLimiter with its memory store (an x/time/rate
// Limiter per visitor). Neither sends rate-limit headers. echo's default
// identifier is c.RealIP(), which believes X-Forwarded-For from any peer;
// the request carries none.
func BenchmarkRateLimitEcho(b *testing.B) {
	newEcho := func(mw echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.Use(mw)
		e.GET("/", func(c echo.Context) error { return nil })
		return e
	}
	b.Run("impl=httpguard", func(b *testing.B) {
		m, err := ratelimit.New(ratelimit.Options{Limits: []ratelimit.Limit{rlLimit}, Headers: ratelimit.HeadersOff})
		if err != nil {
			b.Fatal(err)
		}
		rlRun(b, newEcho(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				if m.Check(c.Request()) != nil {
					return echo.ErrTooManyRequests
				}
				return next(c)
			}
		}), 0, "")
	})
	b.Run("impl=echo", func(b *testing.B) {
		store := echomw.NewRateLimiterMemoryStoreWithConfig(echomw.RateLimiterMemoryStoreConfig{Rate: rate.Limit(rlRate), Burst: rlRate})
		rlRun(b, newEcho(echomw.RateLimiter(store)), 0, "")
	})
}

// BenchmarkRateLimitGlobal is one limit for every request, without keys or
// headers: the floor is a bare x/time/rate Limiter.Allow behind a mutex.
func BenchmarkRateLimitGlobal(b *testing.B) {
	b.Run("impl=httpguard", func(b *testing.B) {
		global := rlLimit
		global.Key = ratelimit.Global()
		rlRun(b, rlHTTPGuard(b, ratelimit.Options{Limits: []ratelimit.Limit{global}, Headers: ratelimit.HeadersOff}), 0, "")
	})
	b.Run("impl=xtimerate", func(b *testing.B) {
		lim := rate.NewLimiter(rate.Limit(rlRate), rlRate)
		rlRun(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !lim.Allow() {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			rlNoop.ServeHTTP(w, r)
		}), 0, "")
	})
}
