//go:build race

package headervals_test

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// is put back, so chunks are replaced before they are full.
const raceEnabled = true
