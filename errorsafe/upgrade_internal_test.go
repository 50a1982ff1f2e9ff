package errorsafe

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestIsUpgrade(t *testing.T) {
	tests := []struct {
		method string
		lines  []string
		want   bool
	}{
		{"GET", nil, false},
		{"CONNECT", nil, true},
		{"GET", []string{"Upgrade"}, true},
		{"GET", []string{"keep-alive, Upgrade"}, true},
		{"GET", []string{"keep-alive", " upgrade\t"}, true},
		{"GET", []string{",,UPGRADE,,"}, true},
		{"GET", []string{"close"}, false},
		{"GET", []string{"upgrades"}, false},
		{"GET", []string{"x-upgrade"}, false},
		{"GET", []string{"no upgrade"}, false},
		{"GET", []string{"upgrade x"}, false},
		{"GET", []string{"upgrad", "e"}, false},
		{"GET", []string{"upgradeupgrade, upgrad"}, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/", nil)
		if tt.lines != nil {
			r.Header["Connection"] = tt.lines
		}
		if got := isUpgrade(r); got != tt.want {
			t.Errorf("isUpgrade(%s %q) = %v, want %v", tt.method, tt.lines, got, tt.want)
		}
	}
}

// Found in review: the Connection field, read on every request, was split
// at every comma, so a 1 MB value of commas cost some 7 ms, hundreds of
// times a 1 MB token. A Connection field that asks for an upgrade has a
// few tokens: the first 32 are read.
func TestIsUpgradeCostIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	cost := func(lines ...string) time.Duration {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = http.Header{"Connection": lines}
		best := time.Hour
		for range 5 {
			start := time.Now()
			isUpgrade(r)
			best = min(best, time.Since(start))
		}
		return best
	}
	plain := cost(strings.Repeat("a", 1<<20))
	many := make([]string, 1<<16)
	for i := range many {
		many[i] = "x"
	}
	for _, lines := range [][]string{{strings.Repeat(",", 1<<20)}, {strings.Repeat("u,", 1<<19)}, many} {
		if c := cost(lines...); c > 20*plain+50*time.Microsecond {
			t.Errorf("a Connection of %d lines, %q…: %v, one token of 1 MB: %v", len(lines), lines[0][:1], c, plain)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header = http.Header{"Connection": {strings.Repeat("a,", 31) + "upgrade"}}
	if !isUpgrade(r) {
		t.Error("upgrade as the 32nd token is not read")
	}
}
