package auth

import "time"

// SetBasicClock replaces the clock of the Basic middleware built from o.
func SetBasicClock(o *BasicOptions, now func() time.Time) { o.now = now }

// SetAPIKeyClock replaces the clock of the API key middleware built from o.
func SetAPIKeyClock(o *APIKeyOptions, now func() time.Time) { o.now = now }
