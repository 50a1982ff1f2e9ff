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
