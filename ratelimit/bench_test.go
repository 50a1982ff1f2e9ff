package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/httpguard/httpguard/clientip"
	"github.com/httpguard/httpguard/identity"
	"github.com/httpguard/httpguard/ratelimit"
)

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func benchHandler(b *testing.B, o ratelimit.Options) http.Handler {
	b.Helper()
	m, err := ratelimit.New(o)
	if err != nil {
		b.Fatal(err)
	}
	return m.Handler(noop)
}

// generous never refuses during a benchmark.
var generous = ratelimit.Limit{Name: "ip", Rate: 1_000_000, Period: time.Second, Burst: 1 << 29}

func runBench(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	b.Run("admitted/headers=off", func(b *testing.B) {
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous}, Headers: ratelimit.HeadersOff}), request("192.0.2.1:1"))
	})
	b.Run("admitted/headers=on", func(b *testing.B) {
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous}}), request("192.0.2.1:1"))
	})
	b.Run("admitted/ipv6", func(b *testing.B) {
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous}, Headers: ratelimit.HeadersOff}), request("[2001:db8:1:2:3:4:5:6]:1"))
	})
	b.Run("admitted/two-limits", func(b *testing.B) {
		global := generous
		global.Name, global.Key = "all", ratelimit.Global()
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous, global}}), request("192.0.2.1:1"))
	})
	b.Run("admitted/subject", func(b *testing.B) {
		l := generous
		l.Key = ratelimit.BySubject()
		r := request("192.0.2.1:1")
		r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "alice"})))
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{l}, Headers: ratelimit.HeadersOff}), r)
	})
	b.Run("admitted/api-key", func(b *testing.B) {
		l := generous
		l.Key = ratelimit.ByAPIKey("X-API-Key")
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{l}, Headers: ratelimit.HeadersOff}), request("192.0.2.1:1", "X-Api-Key", strings.Repeat("k", 40)))
	})
	b.Run("admitted/api-key-authorization", func(b *testing.B) {
		l := generous
		l.Key = ratelimit.ByAPIKey("Authorization")
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{l}, Headers: ratelimit.HeadersOff}), request("192.0.2.1:1", "Authorization", "Bearer "+strings.Repeat("k", 40)))
	})
	b.Run("admitted/plan", func(b *testing.B) {
		// A plan of the subject, read from the identity, with headers on:
		// RateLimit-Policy is built for the response.
		l := generous
		l.Key = ratelimit.BySubject()
		l.Plans = map[string]ratelimit.Plan{"pro": {Rate: 1_000_000, Period: time.Second, Burst: 1 << 28}}
		l.PlanOf = func(r *http.Request) string {
			if id, ok := identity.FromRequest(r); ok && id.Subject() == "alice" {
				return "pro"
			}
			return ""
		}
		r := request("192.0.2.1:1")
		r = r.WithContext(identity.NewContext(r.Context(), identity.New(identity.Options{Subject: "alice"})))
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{l}}), r)
	})
	b.Run("admitted/cost", func(b *testing.B) {
		// A cost read from a header, with headers on: the cost's own
		// price is its function's.
		l := generous
		l.Cost = itemsCost
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{l}}), request("192.0.2.1:1", "X-Items", "3"))
	})
	b.Run("refused", func(b *testing.B) {
		h := benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{{Rate: 1, Period: time.Hour}}})
		r := request("192.0.2.1:1")
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
		runBench(b, h, r)
	})
	b.Run("parallel/many-clients", func(b *testing.B) {
		h := benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous}, Headers: ratelimit.HeadersOff})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			reqs := make([]*http.Request, 256)
			for i := range reqs {
				reqs[i] = request(fmt.Sprintf("198.51.%d.%d:1", i/7, i))
			}
			i := 0
			for pb.Next() {
				h.ServeHTTP(w, reqs[i&255])
				i++
			}
		})
	})
}

// BenchmarkAdversarial measures inputs an attacker controls: a 10 000-entry
// X-Forwarded-For behind a trusted proxy, a huge API key, a new address on
// every request against a full store.
func BenchmarkAdversarial(b *testing.B) {
	rv := clientip.MustNew(clientip.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	b.Run("xff-10000", func(b *testing.B) {
		r := request("10.0.0.1:1", "X-Forwarded-For", strings.Repeat("10.1.2.3, ", 10_000)+"192.0.2.1")
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous}, ClientIP: rv, Headers: ratelimit.HeadersOff}), r)
	})
	b.Run("api-key-64KiB", func(b *testing.B) {
		l := generous
		l.Key = ratelimit.ByAPIKey("X-API-Key")
		r := request("192.0.2.1:1", "X-Api-Key", strings.Repeat("k", 64<<10))
		runBench(b, benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{l}, Headers: ratelimit.HeadersOff}), r)
	})
	b.Run("rotating-addresses-full-store", func(b *testing.B) {
		store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 10_000})
		h := benchHandler(b, ratelimit.Options{Limits: []ratelimit.Limit{generous}, Store: store, Headers: ratelimit.HeadersOff})
		r := request("")
		addrs := make([]string, 1<<16)
		for i := range addrs {
			addrs[i] = netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}).String() + ":1"
		}
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r.RemoteAddr = addrs[i&(1<<16-1)]
			h.ServeHTTP(w, r)
			i++
		}
	})
}

func BenchmarkAttemptLimiter(b *testing.B) {
	a, _ := ratelimit.NewAttemptLimiter(ratelimit.AttemptOptions{})
	ctx := context.Background()
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		a.Check(ctx, "alice", ip)
	}
}

func BenchmarkConcurrencyLimiter(b *testing.B) {
	c, _ := ratelimit.NewConcurrencyLimiter(ratelimit.ConcurrencyOptions{MaxInFlight: 1 << 20})
	runBench(b, c.Handler(noop), request("192.0.2.1:1"))
}
