//go:build !race

package https_test

const raceEnabled = false
