package ratelimit

import "time"

// Quota is what a [Store] applies to one key: the generic cell rate
// algorithm with one request admitted every Interval on average and at most
// Burst admitted at once. [Limit] derives it from a rate per period.
//
// A valid Quota, the only kind a [MemoryStore] applies (it returns an
// error for any other), has an Interval of at least one microsecond, a
// Burst of 1 to 2^30, and Burst times Interval of at most 100 years: the
// bounds [New] checks each [Limit] against.
type Quota struct {
	// Interval is the emission interval: the period divided by the rate.
	// It must be at least one microsecond.
	Interval time.Duration
	// Burst is the number of requests a key that has been idle long enough
	// may make at once. It must be at least 1 and at most 2^30.
	Burst int
}

// valid reports whether q can be applied without overflow.
func (q Quota) valid() bool {
	return q.Interval >= time.Microsecond && q.Burst >= 1 && q.Burst <= maxBurst &&
		int64(q.Interval) <= int64(maxTolerance)/int64(q.Burst)
}

// waitAfter returns how long a key that admitted a request of cost n, with
// resetAfter its [Result.ResetAfter], must wait before it admits that
// request again: the time until its debt is n intervals short of the
// burst, 0 or less when it has n requests left. n is at most q.Burst.
func (q Quota) waitAfter(resetAfter time.Duration, n int) time.Duration {
	return resetAfter - time.Duration(q.Burst-n)*q.Interval
}

// Bounds that keep the arithmetic of every store in range: Burst times
// Interval fits an int64 of nanoseconds with room to spare, and the
// microseconds the Redis script works in stay exact in a Lua double.
const (
	maxBurst     = 1 << 30
	maxTolerance = 100 * 365 * 24 * time.Hour
)

// Result is the outcome of one decision on one key.
type Result struct {
	// Allowed reports whether the request was admitted.
	Allowed bool
	// Remaining is how many more requests of cost 1 the key may make right
	// now, after this one. It is 0 when the request was refused, and -1 when it is
	// unknown: a store that failed open admits without knowing, and the
	// RateLimit response field then leaves the limit out.
	Remaining int
	// RetryAfter is how long to wait before the request, at its cost,
	// would be admitted. It is 0 when the request was admitted, and
	// negative when it never will be: its cost is above the burst.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full burst, if it
	// makes no more requests.
	ResetAfter time.Duration
}

// step applies one GCRA decision for a request of cost n at time now to a
// key whose theoretical arrival time is tat (0 or any time before now for a
// key with no debt), with emission interval t and burst b, all in the same
// unit. It returns the new theoretical arrival time to store (tat
// unchanged when the request is refused, but see below) and the result
// expressed in that unit. With count unset, the remaining count of an
// admitted request, the one division, is left at 0.
//
// A request of cost n is admitted when the new theoretical arrival time,
// tat+n*t, is at most b*t ahead of now: it uses n requests of the burst.
// A cost of 0 is always admitted and changes nothing; a cost above b is
// never admitted, and its wait is -1. The Redis script of package
// redisstore applies this function step for step, always counting, in
// whole microseconds with t rounded up.
//
// No admission under this quota leaves a key more than b*t ahead of now,
// so a key further ahead, left by a quota of a longer window on the same
// key (a limit lowered between requests, or a limit of the same name and
// another quota sharing the store), is read as b*t ahead, owing this
// quota's full debt: it is refused with a wait of n intervals, and
// newTAT, which a take stores (and a peek too, though it counts nothing),
// is that. The Redis script must do so for a
// key written before Redis's clock went back, and the two stores decide
// alike only if this one does too (found in review: after a limit of 5 a
// day was lowered to 3 a second, a MemoryStore told a client who had made
// 3 requests to come back in 72 hours, Redis in one second).
func step(tat, now, t int64, b, n int, count bool) (newTAT int64, allowed bool, remaining int, retryAfter, resetAfter int64) {
	if tat < now {
		tat = now
	}
	if tat-now > int64(b)*t {
		tat = now + int64(b)*t
	}
	if n > b { // before n*t, which could overflow
		return tat, false, 0, -1, tat - now
	}
	next := tat + int64(n)*t
	allowAt := next - int64(b)*t
	if now < allowAt {
		return tat, false, 0, allowAt - now, tat - now
	}
	if count {
		remaining = int(quotient(now-allowAt, t))
	}
	return next, true, remaining, 0, next - now
}

// quotient returns x/t for x >= 0 and t > 0, as the integer division
// does, but through a float64 division, which costs a fraction of a 64-bit
// integer division on common CPUs. Below 2^53 both operands are exact
// doubles and the correctly rounded quotient never reaches the next
// integer, so the truncation is exact; the adjustments only make that
// evident. Larger operands, which no valid Quota produces, use the
// integer division.
func quotient(x, t int64) int64 {
	if x >= 1<<53 || t >= 1<<53 {
		return x / t
	}
	q := int64(float64(x) / float64(t))
	if q*t > x {
		q--
	} else if x-q*t >= t {
		q++
	}
	return q
}
