package bench

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	chicors "github.com/go-chi/cors"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	rscors "github.com/rs/cors"

	"github.com/httpguard/httpguard/cors"
)

// corsWriter is a ResponseWriter whose header map is cleared and reused
// between iterations, so only the middleware's own work is measured.
type corsWriter struct{ h http.Header }

func (w *corsWriter) Header() http.Header         { return w.h }
func (w *corsWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *corsWriter) WriteHeader(int)             {}

var corsNoop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// corsConfig is one policy, expressed for every implementation.
type corsConfig struct {
	name    string
	origins []string
	origin  string // an allowed origin to send
	creds   bool
}

func corsConfigs() []corsConfig {
	fifty := make([]string, 50)
	for i := range fifty {
		fifty[i] = fmt.Sprintf("https://app%d.example.com", i)
	}
	return []corsConfig{
		{"origins=1", []string{"https://app.example.com"}, "https://app.example.com", true},
		{"origins=50", fifty, "https://app49.example.com", true},
		{"origins=pattern", []string{"https://*.example.com"}, "https://app.example.com", true},
		{"origins=*", []string{"*"}, "https://app.example.com", false},
	}
}

// corsImpls builds the same policy with each implementation, httpguard
// first.
func corsImpls(b *testing.B, c corsConfig) []struct {
	name string
	h    http.Handler
} {
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut}
	headers := []string{"Content-Type", "X-Request-Id"}
	hg, err := cors.New(cors.Options{
		AllowedOrigins: c.origins, AllowedMethods: methods, AllowedHeaders: headers,
		AllowCredentials: c.creds, MaxAge: 600e9,
	})
	if err != nil {
		b.Fatal(err)
	}
	rs := rscors.New(rscors.Options{
		AllowedOrigins: c.origins, AllowedMethods: methods, AllowedHeaders: headers,
		AllowCredentials: c.creds, MaxAge: 600,
	})
	chi := chicors.Handler(chicors.Options{
		AllowedOrigins: c.origins, AllowedMethods: methods, AllowedHeaders: headers,
		AllowCredentials: c.creds, MaxAge: 600,
	})
	echoHTTP := echoMiddleware(func(echo.Context) error { return nil }, echomw.CORSWithConfig(echomw.CORSConfig{
		AllowOrigins: c.origins, AllowMethods: methods, AllowHeaders: headers,
		AllowCredentials: c.creds, MaxAge: 600,
	}))
	return []struct {
		name string
		h    http.Handler
	}{
		{"httpguard", hg.Handler(corsNoop)},
		{"rs-cors", rs.Handler(corsNoop)},
		{"go-chi-cors", chi(corsNoop)},
		{"echo", echoHTTP},
	}
}

func newCORSRequest(method, origin string, kv ...string) *http.Request {
	r, _ := http.NewRequest(method, "https://api.example.org/items", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for i := 0; i < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	return r
}

// serveLoop serves r with h in a loop. The fixed cost per iteration is the
// same minimal thing for every implementation: one request built once and
// reused, and a ResponseWriter whose header map is cleared (keeping its
// buckets) instead of a fresh httptest.ResponseRecorder, whose allocations
// would otherwise be most of what is measured.
//
// Besides wall time it reports cpu-ns/op, the CPU time of the whole process
// (garbage collection included) per request, from getrusage: on a shared,
// loaded machine wall time also counts the time the benchmark waits for a
// core, which swamps differences of a few hundred nanoseconds; CPU time
// does not.
func serveLoop(b *testing.B, h http.Handler, r *http.Request) {
	w := &corsWriter{h: make(http.Header)}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// corsDecision summarizes what a response grants: the allowed origin and
// credentials, and for a preflight whether PUT and both requested headers
// are allowed and for how long. Spelling that differs between
// implementations without changing what a browser does (the case of
// header names, the list's separators, echo listing every method) is
// normalized away.
func corsDecision(h http.Header) string {
	d := "origin=" + h.Get("Access-Control-Allow-Origin") + " credentials=" + h.Get("Access-Control-Allow-Credentials")
	if h.Get("Access-Control-Allow-Methods") == "" && h.Get("Access-Control-Allow-Headers") == "" {
		return d
	}
	put := false
	for m := range strings.SplitSeq(h.Get("Access-Control-Allow-Methods"), ",") {
		put = put || strings.TrimSpace(m) == http.MethodPut
	}
	hdrs := 0
	for n := range strings.SplitSeq(h.Get("Access-Control-Allow-Headers"), ",") {
		if n := strings.TrimSpace(n); strings.EqualFold(n, "Content-Type") || strings.EqualFold(n, "X-Request-Id") {
			hdrs++
		}
	}
	return fmt.Sprintf("%s put=%t headers=%d max-age=%s", d, put, hdrs, h.Get("Access-Control-Max-Age"))
}

// corsWant is corsDecision of the response every implementation must give
// to request req under policy c.
func corsWant(c corsConfig, req string) string {
	origin, creds := c.origin, ""
	switch {
	case c.name == "origins=*":
		origin = "*"
	case req == "disallowed":
		origin = ""
	}
	if c.creds && origin != "" {
		creds = "true"
	}
	d := "origin=" + origin + " credentials=" + creds
	if req == "preflight" {
		d += " put=true headers=2 max-age=600"
	}
	return d
}

// BenchmarkCORS compares preflight, actual and disallowed requests with 1
// and 50 exact origins, a subdomain pattern and "*".
func BenchmarkCORS(b *testing.B) {
	for _, c := range corsConfigs() {
		reqs := []struct {
			name string
			r    *http.Request
		}{
			{"preflight", newCORSRequest(http.MethodOptions, c.origin,
				"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-request-id")},
			{"actual", newCORSRequest(http.MethodGet, c.origin)},
			{"disallowed", newCORSRequest(http.MethodGet, "https://attacker.test")},
		}
		impls := corsImpls(b, c)
		for _, rq := range reqs {
			for _, impl := range impls {
				// Every implementation must reach the same decision and
				// grant it with the same fields, or the comparison measures
				// different work.
				w := &corsWriter{h: make(http.Header)}
				impl.h.ServeHTTP(w, rq.r)
				if got, want := corsDecision(w.h), corsWant(c, rq.name); got != want {
					b.Fatalf("%s %s %s: %s, want %s", impl.name, c.name, rq.name, got, want)
				}
				b.Run(c.name+"/req="+rq.name+"/impl="+impl.name, func(b *testing.B) {
					serveLoop(b, impl.h, rq.r)
				})
			}
		}
	}
}

// BenchmarkCORSAdversarial sends preflights whose
// Access-Control-Request-Headers is crafted to be expensive (rs/cors#170).
// The implementations do not decide alike, and the benchmark checks that
// each decides as it is known to: httpguard refuses the malformed list
// with a 403 and a problem body, rs/cors refuses it with a bare 204
// without Access-Control-Allow-Origin, and go-chi/cors and echo grant the
// preflight (go-chi/cors reads the commas as no header at all; echo never
// looks at the requested headers).
func BenchmarkCORSAdversarial(b *testing.B) {
	impls := corsImpls(b, corsConfigs()[0])
	granted := map[string]bool{"httpguard": false, "rs-cors": false, "go-chi-cors": true, "echo": true}
	for _, acrh := range []struct{ name, v string }{
		{"acrh=1MB-commas", strings.Repeat(",", 1<<20)},
		{"acrh=1000-commas", strings.Repeat(",", 1000)},
	} {
		r := newCORSRequest(http.MethodOptions, "https://app.example.com",
			"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", acrh.v)
		for _, impl := range impls {
			w := &corsWriter{h: make(http.Header)}
			impl.h.ServeHTTP(w, r)
			if got := w.h.Get("Access-Control-Allow-Origin") != ""; got != granted[impl.name] {
				b.Fatalf("%s %s: granted %t, want %t", impl.name, acrh.name, got, granted[impl.name])
			}
			b.Run(acrh.name+"/impl="+impl.name, func(b *testing.B) { serveLoop(b, impl.h, r) })
		}
	}
}
