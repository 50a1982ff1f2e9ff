//go:build race

package rbac_test

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// is put back, so the per-response header slots of a rejection are
// sometimes a fresh allocation.
const raceEnabled = true
