package casefold_test

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/httpguard/httpguard/internal/casefold"
)

func TestRune(t *testing.T) {
	tests := []struct {
		name string
		in   rune
		want rune
	}{
		{"A", 'A', 'a'},
		{"Z", 'Z', 'z'},
		{"a", 'a', 'a'},
		{"@, before A", '@', '@'},
		{"[, after Z", '[', '['},
		{"DEL", 0x7f, 0x7f},
		{"long s", 'ſ', 's'},
		{"Kelvin sign", 'K', 'k'},
		{"dotted capital I", 'İ', 'i'},
		{"dotless i", 'ı', 'i'},
		{"final sigma", 'ς', 'σ'},
		{"capital sigma", 'Σ', 'σ'},
		{"capital A with diaeresis", 'Ä', 'ä'},
		{"not a letter", '€', '€'},
		{"not a rune", utf8.RuneError, utf8.RuneError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := casefold.Rune(tt.in); got != tt.want {
				t.Errorf("Rune(%U) = %U, want %U", tt.in, got, tt.want)
			}
		})
	}
}

// Every rune strings.EqualFold takes for another (its simple folding
// orbit) folds to the same rune, so that matching by Rune never tells
// apart two spellings a router ignoring case by EqualFold routes alike.
func TestRuneAgreesWithEqualFold(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := casefold.Rune(r)
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if got := casefold.Rune(f); got != want {
				t.Fatalf("Rune(%U) = %U but Rune(%U) = %U, and EqualFold takes one for the other", r, want, f, got)
			}
		}
	}
}
