//go:build race

package sanitize

// raceEnabled: the race detector's instrumentation moves values to the
// heap, so allocation counts are only checked without it.
const raceEnabled = true
