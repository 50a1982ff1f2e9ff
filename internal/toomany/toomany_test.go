package toomany_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/httpguard/httpguard/internal/toomany"
)

type notLimited struct{}

func (notLimited) Error() string         { return "not limited" }
func (notLimited) TooManyRequests() bool { return false }

func TestIs(t *testing.T) {
	sentinel := toomany.Error("limiter: refused")
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"a plain error", errors.New("limiter: refused"), false},
		{"the sentinel", sentinel, true},
		{"wrapped", fmt.Errorf("login: %w", sentinel), true},
		{"joined", errors.Join(errors.New("x"), sentinel), true},
		{"a mark that reports false", notLimited{}, false},
	} {
		if got := toomany.Is(tt.err); got != tt.want {
			t.Errorf("%s: Is = %t, want %t", tt.name, got, tt.want)
		}
	}
}
