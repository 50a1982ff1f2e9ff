package main

import (
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"an empty sample is zero", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"the median of 1..100 is 50", seq(100), 50, 50 * time.Millisecond},
		{"p90 of 1..100 is 90", seq(100), 90, 90 * time.Millisecond},
		{"p99 of 1..100 is 99", seq(100), 99, 99 * time.Millisecond},
		{"p100 is the maximum", seq(100), 100, 100 * time.Millisecond},
		{"p99 of ten samples is the largest", seq(10), 99, 10 * time.Millisecond},
		{"p50 of ten samples is the fifth", seq(10), 50, 5 * time.Millisecond},
		{"p90 of 1..1000 is 900", seq(1000), 90, 900 * time.Millisecond},
		{"p99.9 of 1..1000 is 999", seq(1000), 99.9, 999 * time.Millisecond},
		{"a rank just above an integer rounds up", seq(3), 34, 2 * time.Millisecond},
		{"p0 is the minimum", seq(10), 0, time.Millisecond},
		{"a negative p is the minimum", seq(10), -5, time.Millisecond},
		{"a p above 100 is the maximum", seq(10), 150, 10 * time.Millisecond},
		{"a tail outlier shows only in the top percentiles", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 900), 90, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// The nearest-rank percentile has its defining property on random
// samples: at least p% of the samples are ≤ it, and fewer than p% are
// strictly below it.
func TestPercentileProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + rng.IntN(500)
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(rng.IntN(50)) * time.Microsecond // with ties
		}
		slices.Sort(s)
		for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
			v := Percentile(s, p)
			le, lt := 0, 0
			for _, x := range s {
				if x <= v {
					le++
				}
				if x < v {
					lt++
				}
			}
			if float64(le) < p/100*float64(n)-1e-9 || float64(lt) >= p/100*float64(n) {
				t.Fatalf("n=%d p=%v: value %v has %d ≤ and %d < it", n, p, v, le, lt)
			}
		}
	}
}

func TestStatsMergeAndSummaries(t *testing.T) {
	a, b := NewStats(), NewStats()
	for i := 1; i <= 50; i++ {
		a.Add(routeItem, 200, time.Duration(i)*time.Millisecond)
	}
	for i := 51; i <= 100; i++ {
		b.Add(routeItem, 200, time.Duration(i)*time.Millisecond)
	}
	b.Add(routeItem, 429, 101*time.Millisecond)
	b.Add(routeToken, statusTransportError, time.Second)
	a.Merge(b)

	if got := a.Total(); got != 102 {
		t.Fatalf("Total = %d, want 102", got)
	}
	sums := a.Summaries()
	if len(sums) != 2 || sums[0].Route != routeItem || sums[1].Route != routeToken {
		t.Fatalf("routes %+v, want items then token (sorted)", sums)
	}
	it := sums[0]
	if it.Count != 101 || it.P50 != 51*time.Millisecond || it.P99 != 100*time.Millisecond || it.Max != 101*time.Millisecond {
		t.Errorf("items summary %+v", it)
	}
	if got := fmtStatuses(it.Statuses); got != "200:100 429:1" {
		t.Errorf("statuses %q, want sorted by status", got)
	}
	if got := fmtStatuses(sums[1].Statuses); got != "err:1" {
		t.Errorf("transport errors print as %q", got)
	}
	// b is unchanged by the merge.
	if b.Total() != 52 {
		t.Errorf("merge changed its argument: %d", b.Total())
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		412 * time.Microsecond:  "412.0µs",
		1500 * time.Microsecond: "1.50ms",
		2 * time.Second:         "2.00s",
		// Just below a unit, rounded up into the next one.
		999_960 * time.Nanosecond:  "1.00ms",
		999_996 * time.Microsecond: "1.00s",
		999_940 * time.Nanosecond:  "999.9µs",
		999_994 * time.Microsecond: "999.99ms",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAssignRoles(t *testing.T) {
	tests := []struct {
		name string
		n    int
		mix  map[string]int
		want map[string]int
	}{
		{"the default mix of eight", 8, map[string]int{roleAdmin: 1, roleUser: 4, roleGuest: 3}, map[string]int{roleAdmin: 1, roleUser: 4, roleGuest: 3}},
		{"twice the weights' sum doubles each", 16, map[string]int{roleAdmin: 1, roleUser: 4, roleGuest: 3}, map[string]int{roleAdmin: 2, roleUser: 8, roleGuest: 6}},
		{"a zero weight gets no worker", 5, map[string]int{roleAdmin: 0, roleUser: 1, roleGuest: 1}, map[string]int{roleUser: 3, roleGuest: 2}},
		{"one role takes all", 3, map[string]int{roleGuest: 7}, map[string]int{roleGuest: 3}},
		{"no weights give no workers", 3, map[string]int{}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]int{}
			for _, r := range assignRoles(tt.n, tt.mix) {
				got[r]++
			}
			for _, r := range roles {
				if got[r] != tt.want[r] {
					t.Errorf("%s: %d workers, want %d (all %v)", r, got[r], tt.want[r], got)
				}
			}
		})
	}
	// Interleaved: three workers of the default mix already cover the two
	// heaviest roles.
	first := assignRoles(3, map[string]int{roleAdmin: 1, roleUser: 4, roleGuest: 3})
	if !slices.Contains(first, roleUser) || !slices.Contains(first, roleGuest) {
		t.Errorf("first three workers %v", first)
	}
}

func TestParseKV(t *testing.T) {
	id := func(v string) (string, error) { return v, nil }
	if m, err := parseKV("admin=alice, user=bob,guest=carol", "accounts", id); err != nil || m[roleUser] != "bob" || len(m) != 3 {
		t.Errorf("parseKV = %v, %v", m, err)
	}
	for _, bad := range []string{"", "admin", "root=alice", "admin=a,admin=b", "Admin=alice"} {
		if _, err := parseKV(bad, "accounts", id); err == nil {
			t.Errorf("parseKV(%q) accepted", bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{
			Target: &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}, Duration: time.Second, MaxRequests: 100,
			Workers: 2, Mix: map[string]int{roleUser: 1}, Accounts: map[string]string{roleUser: "bob"},
			Password: "pw", ClientID: "cli", Attackers: 1, AttackUser: "alice",
		}
	}
	if c := good(); c.Validate() != nil {
		t.Fatalf("a good config: %v", c.Validate())
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no duration", func(c *Config) { c.Duration = 0 }, "-duration"},
		{"an hour-long run", func(c *Config) { c.Duration = time.Hour }, "-duration"},
		{"no request bound", func(c *Config) { c.MaxRequests = 0 }, "-requests"},
		{"a billion requests", func(c *Config) { c.MaxRequests = 1e9 }, "-requests"},
		{"a thousand users", func(c *Config) { c.Workers = 1000 }, "-users"},
		{"nobody to run", func(c *Config) { c.Workers, c.Attackers = 0, 0 }, "nothing to run"},
		{"no password", func(c *Config) { c.Password = "" }, "SECUREAPI_DEMO_PASSWORD"},
		{"a mix without weight", func(c *Config) { c.Mix = map[string]int{roleUser: 0} }, "no role a weight"},
		{"a weighted role without account", func(c *Config) { c.Mix[roleAdmin] = 1 }, "no user for role admin"},
		{"no client id", func(c *Config) { c.ClientID = "" }, "-client-id"},
		// The tenth guess comes after nine failures, before any lockout:
		// every server lets it through, a right one included.
		{"a real guess before the lockout", func(c *Config) { c.AttackRealEvery = 10 }, "-attack-real-every"},
		{"a public target", func(c *Config) { c.Target.Host = "203.0.113.9" }, "loopback"},
		// NaN passed both comparisons, and a rate so low that its
		// interval overflows a Duration paced nobody: both ran unpaced,
		// while the report took the run for a paced one.
		{"a user rate that is not a number", func(c *Config) { c.UserRate = math.NaN() }, "-user-rate"},
		{"a user rate whose interval overflows", func(c *Config) { c.UserRate = 1e-12 }, "-user-rate"},
		{"a user rate below one request per run", func(c *Config) { c.UserRate = 1e-4 }, "-user-rate"},
		// Both were taken silently: the timeout as 10 s, the interval as
		// no progress line.
		{"a negative timeout", func(c *Config) { c.Timeout = -time.Second }, "-timeout"},
		{"a negative progress interval", func(c *Config) { c.Progress = -time.Second }, "-progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
