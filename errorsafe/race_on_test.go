//go:build race

package errorsafe_test

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
