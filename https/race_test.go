//go:build race

package https_test

// raceEnabled skips allocation budgets, which the race detector changes.
const raceEnabled = true
