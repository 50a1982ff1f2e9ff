package keycheck

import "testing"

func TestAllZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{nil, true},
		{make([]byte, 32), true},
		{append(make([]byte, 31), 1), false},
		{append([]byte{0x80}, make([]byte, 31)...), false},
		{[]byte("0123456789abcdef0123456789abcdef"), false},
	} {
		if got := AllZero(tc.b); got != tc.want {
			t.Errorf("AllZero(%x) = %v, want %v", tc.b, got, tc.want)
		}
	}
}
