package app

import "testing"

// The memory stores of the request budgets, the credential budgets and
// the failed logins are three, so that a flood of one kind of key, which
// fills its store's bound, evicts only keys of its kind: one store shared
// by all let made-up request keys compete with the lockouts.
func TestMemoryStoresKeepTheirBoundsApart(t *testing.T) {
	st, err := newStores(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.requests == st.credentials || st.requests == st.attempts || st.credentials == st.attempts {
		t.Errorf("memory stores shared: requests %p, credentials %p, attempts %p", st.requests, st.credentials, st.attempts)
	}
}
