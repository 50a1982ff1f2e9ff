package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// statusTransportError is the status recorded for a request that got no
// response (connection refused, reset, timeout).
const statusTransportError = 0

// Stats keeps the latency of every request and the count of every status,
// per route. Each worker owns one (no locking); [Stats.Merge] combines
// them at the end. Latencies are kept as a full sample and sorted once
// for the percentiles, exact at the sizes the request bound allows (a
// million requests take 8 MB).
type Stats struct {
	routes map[string]*routeStats
}

type routeStats struct {
	lat    []time.Duration
	status map[int]int
}

// NewStats returns empty Stats.
func NewStats() *Stats { return &Stats{routes: make(map[string]*routeStats)} }

// Add records one request of route that ended with status (or
// statusTransportError) after d.
func (s *Stats) Add(route string, status int, d time.Duration) {
	rs := s.routes[route]
	if rs == nil {
		rs = &routeStats{status: make(map[int]int)}
		s.routes[route] = rs
	}
	rs.lat = append(rs.lat, d)
	rs.status[status]++
}

// Merge adds everything o recorded to s.
func (s *Stats) Merge(o *Stats) {
	for route, ors := range o.routes {
		rs := s.routes[route]
		if rs == nil {
			rs = &routeStats{status: make(map[int]int)}
			s.routes[route] = rs
		}
		rs.lat = append(rs.lat, ors.lat...)
		for code, n := range ors.status {
			rs.status[code] += n
		}
	}
}

// Total is the number of requests recorded.
func (s *Stats) Total() int {
	n := 0
	for _, rs := range s.routes {
		n += len(rs.lat)
	}
	return n
}

// StatusCount is how many responses of a route had one status.
type StatusCount struct {
	Status int // 0 for a transport error
	Count  int
}

// RouteSummary is the outcome of one route.
type RouteSummary struct {
	Route              string
	Count              int
	P50, P90, P99, Max time.Duration
	Statuses           []StatusCount // by status
}

// Summaries returns one summary per route, sorted by route name. It sorts
// the latency samples in place.
func (s *Stats) Summaries() []RouteSummary {
	out := make([]RouteSummary, 0, len(s.routes))
	for route, rs := range s.routes {
		slices.Sort(rs.lat)
		sum := RouteSummary{
			Route: route, Count: len(rs.lat),
			P50: Percentile(rs.lat, 50), P90: Percentile(rs.lat, 90), P99: Percentile(rs.lat, 99),
			Max: Percentile(rs.lat, 100),
		}
		for code, n := range rs.status {
			sum.Statuses = append(sum.Statuses, StatusCount{code, n})
		}
		slices.SortFunc(sum.Statuses, func(a, b StatusCount) int { return cmp.Compare(a.Status, b.Status) })
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b RouteSummary) int { return strings.Compare(a.Route, b.Route) })
	return out
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p percent
// of the samples are less than or equal to it. So the 100th percentile is
// the maximum, and a percentile is always a latency that was observed.
// It returns 0 for an empty sample and the minimum for p ≤ 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The tolerance keeps float error from pushing an exact rank (99.9%
	// of 1000) up by one.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// writeRouteTable prints the per-route table: count, rate, latency
// percentiles and statuses.
func writeRouteTable(w io.Writer, sums []RouteSummary, elapsed time.Duration) {
	width := len("route")
	for _, s := range sums {
		width = max(width, len(s.Route))
	}
	fmt.Fprintf(w, "%-*s %8s %9s %9s %9s %9s %9s  %s\n", width, "route", "count", "req/s", "p50", "p90", "p99", "max", "statuses")
	for _, s := range sums {
		fmt.Fprintf(w, "%-*s %8d %9.1f %9s %9s %9s %9s  %s\n", width, s.Route, s.Count,
			rate(s.Count, elapsed), fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99), fmtDur(s.Max), fmtStatuses(s.Statuses))
	}
}

func rate(n int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}

// fmtDur prints a latency in the unit that suits it, with one decimal in
// microseconds and two in milliseconds and seconds. The unit is chosen
// after rounding, so that 999.96µs is 1.00ms and not 1000.0µs.
func fmtDur(d time.Duration) string {
	if us := math.Round(float64(d)/float64(time.Microsecond)*10) / 10; us < 1000 {
		return strconv.FormatFloat(us, 'f', 1, 64) + "µs"
	}
	if ms := math.Round(float64(d)/float64(time.Millisecond)*100) / 100; ms < 1000 {
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

func fmtStatuses(sc []StatusCount) string {
	var b strings.Builder
	for i, c := range sc {
		if i > 0 {
			b.WriteByte(' ')
		}
		if c.Status == statusTransportError {
			b.WriteString("err")
		} else {
			b.WriteString(strconv.Itoa(c.Status))
		}
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(c.Count))
	}
	return b.String()
}
