//go:build !race

package errorsafe_test

const raceEnabled = false
