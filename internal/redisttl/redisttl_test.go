package redisttl

import (
	"math"
	"testing"
	"time"
)

func TestCeil(t *testing.T) {
	t.Parallel()
	longest := time.Duration(math.MaxInt64).Truncate(time.Millisecond)
	tests := []struct{ in, want time.Duration }{
		{0, 0},
		{1, time.Millisecond},
		{time.Millisecond, time.Millisecond},
		{time.Millisecond + 1, 2 * time.Millisecond},
		{999 * time.Microsecond, time.Millisecond},
		{time.Hour + time.Nanosecond, time.Hour + time.Millisecond},
		{math.MaxInt64, longest},
		{longest, longest},
	}
	for _, tt := range tests {
		if got := Ceil(tt.in); got != tt.want {
			t.Errorf("Ceil(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestCeilUnixMilli(t *testing.T) {
	t.Parallel()
	base := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		in   time.Time
		want int64
	}{
		{base, 1_700_000_000_000},
		{base.Add(1), 1_700_000_000_001},
		{base.Add(time.Millisecond - 1), 1_700_000_000_001},
		{base.Add(-1), 1_700_000_000_000},
		{time.UnixMilli(-5).Add(-1), -5},
	}
	for _, tt := range tests {
		if got := CeilUnixMilli(tt.in); got != tt.want {
			t.Errorf("CeilUnixMilli(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
