package storefail_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/httpguard/httpguard/internal/storefail"
)

type up struct{}

func (up) Error() string     { return "up" }
func (up) Unavailable() bool { return false }

func TestIs(t *testing.T) {
	sentinel := storefail.Error("store: down")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"a plain error", errors.New("store: down"), false},
		{"the sentinel", sentinel, true},
		{"wrapped", fmt.Errorf("save: %w", sentinel), true},
		{"joined", errors.Join(errors.New("x"), sentinel), true},
		{"marked but reporting false", up{}, false},
	}
	for _, tt := range tests {
		if got := storefail.Is(tt.err); got != tt.want {
			t.Errorf("%s: Is = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !errors.Is(fmt.Errorf("w: %w", sentinel), storefail.Error("store: down")) {
		t.Error("errors.Is does not match the sentinel by value")
	}
}
