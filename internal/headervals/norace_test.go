//go:build !race

package headervals_test

const raceEnabled = false
