// Package keycheck holds the checks that key material passed in options
// shares across packages.
package keycheck

// AllZero reports whether b holds only zero bytes: a key buffer that was
// allocated and never filled, a secret anyone can sign with. It is true
// for an empty b; callers check the length first.
func AllZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}
