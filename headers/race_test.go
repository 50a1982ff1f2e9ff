//go:build race

package headers_test

// raceEnabled skips allocation budgets, which the race detector changes.
const raceEnabled = true
